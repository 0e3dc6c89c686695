/** Public surface of capture (placeholder until the component lands). */
import type { Command } from "../lib/cli.ts";
import { Ja4Error } from "../lib/errors.ts";

export const captureCommand: Command = {
  name: "capture",
  summary: "capture (not built yet)",
  usage: "ja4 capture",
  flags: [],
  run() {
    throw new Ja4Error("NOT_BUILT", "'capture' is not built yet");
  },
};
