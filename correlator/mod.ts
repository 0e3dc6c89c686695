/** Public surface of correlator (placeholder until the component lands). */
import type { Command } from "../lib/cli.ts";
import { Ja4Error } from "../lib/errors.ts";

export const correlateCommand: Command = {
  name: "correlate",
  summary: "correlate (not built yet)",
  usage: "ja4 correlate",
  flags: [],
  run() {
    throw new Ja4Error("NOT_BUILT", "'correlate' is not built yet");
  },
};
