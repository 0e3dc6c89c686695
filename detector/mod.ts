/** Public surface of detector (placeholder until the component lands). */
import type { Command } from "../lib/cli.ts";
import { Ja4Error } from "../lib/errors.ts";

export const detectCommand: Command = {
  name: "detect",
  summary: "detect (not built yet)",
  usage: "ja4 detect",
  flags: [],
  run() {
    throw new Ja4Error("NOT_BUILT", "'detect' is not built yet");
  },
};
