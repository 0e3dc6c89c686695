/** Public surface of lib/storage (placeholder until the component lands). */
import type { Command } from "../cli.ts";
import { Ja4Error } from "../errors.ts";

const notBuilt = (name: string): Command => ({
  name,
  summary: `${name} (not built yet)`,
  usage: `ja4 ${name}`,
  flags: [],
  run() {
    throw new Ja4Error("NOT_BUILT", `'${name}' is not built yet`);
  },
});
export const migrateCommand = notBuilt("migrate");
export const sqlCommand = notBuilt("sql");
