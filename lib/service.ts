/**
 * A long-running part of the platform that `ja4 start` can run beside the others
 * (storage endpoint, correlator, detector, dashboard). Each component's mod.ts exports a
 * {@link ServiceStarter}; `start.ts` runs the ones that exist, in order.
 */
import type { CommandContext } from "./cli.ts";

export interface RunningService {
  /** Short name, e.g. `correlator`. */
  name: string;
  /** Where it runs, for the start banner: sockets, URLs, paths. */
  where: string[];
  /** Stops intake, flushes, releases resources. */
  stop(): Promise<void>;
}

/** Starts a service, or returns a reason it is skipped on this host (e.g. "needs root"). */
export type ServiceStarter = (
  ctx: CommandContext,
) => Promise<RunningService | { skipped: string }>;
