/** Public surface of core-wasm (placeholder until the component lands). */
import type { Command } from "../lib/cli.ts";
import { Ja4Error } from "../lib/errors.ts";

export const fingerprintCommand: Command = {
  name: "fingerprint",
  summary: "fingerprint (not built yet)",
  usage: "ja4 fingerprint",
  flags: [],
  run() {
    throw new Ja4Error("NOT_BUILT", "'fingerprint' is not built yet");
  },
};
