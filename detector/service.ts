/**
 * The detector as a long-running service: scheduled detection runs (every
 * `detector.interval_s`), on-demand runs (POST /run), and the HTTP API. One run at a time; a
 * failed run is logged and counted, and the schedule goes on.
 *
 * @example
 * ```ts
 * const svc = await startDetector({ config, log, storage });
 * console.log(svc.url); // http://127.0.0.1:8080
 * await svc.stop();
 * ```
 */
import type { Config } from "../lib/config.ts";
import { ConfigError, errorMessage } from "../lib/errors.ts";
import type { Logger } from "../lib/log.ts";
import type { Storage } from "../lib/storage/mod.ts";
import { createApi, type DetectorState } from "./api.ts";
import { paramsFromConfig } from "./config.ts";
import { latestModel, runDetection, type RunSettings, type RunSummary } from "./run.ts";

/** Run settings from the configuration. */
export function runSettings(config: Config): RunSettings {
  return {
    params: paramsFromConfig(config),
    trainingHours: config.int("detector.training_hours"),
    maxTrainingRows: config.int("detector.max_training_rows"),
    scoringHours: config.int("detector.scoring_hours"),
    learningHours: config.int("detector.new_fingerprint.learning_hours"),
    allowlist: config.list("detector.new_fingerprint.allowlist"),
  };
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

/** Refuses an API without a token on a non-loopback address. */
export function checkExposure(bind: string, token: string): void {
  if (token === "" && !LOOPBACK.has(bind) && !bind.startsWith("127.")) {
    throw new ConfigError(
      "BAD_VALUE",
      `config detector.bind = '${bind}' exposes the API beyond this host without auth: ` +
        "set detector.token (JA4_DETECTOR_TOKEN) or bind 127.0.0.1",
    );
  }
}

/** A started detector. */
export interface DetectorService {
  /** Base URL of the API, e.g. `http://127.0.0.1:8080`. */
  url: string;
  /** Live counters and model, shared with the API. */
  state: DetectorState;
  /** Runs now (waits for a run in progress to end first). */
  runNow(): Promise<RunSummary>;
  /** Stops the schedule, waits for a run in progress, closes the API (not the storage). */
  stop(): Promise<void>;
}

/** Options of {@link startDetector}. */
export interface DetectorOptions {
  config: Config;
  log: Logger;
  storage: Storage;
  /** Scheduled runs; false for API-only (tests) — POST /run still works. */
  schedule?: boolean;
  /** Settings override (tests: clock). */
  settings?: RunSettings;
}

/** Starts the API and the schedule. */
export async function startDetector(opts: DetectorOptions): Promise<DetectorService> {
  const { config, log, storage } = opts;
  const bind = config.string("detector.bind");
  const token = config.string("detector.token");
  checkExposure(bind, token);
  const settings = opts.settings ?? runSettings(config);
  const state: DetectorState = { runs: 0, runFailures: 0, rowsScored: 0, running: false };
  try {
    state.model = await latestModel(storage);
    if (state.model) log.info("loaded stored model", { version: state.model.version });
  } catch (err) {
    // No stored model yet (fresh schema) is normal; the first run trains one.
    log.warn("no stored model loaded", { error: errorMessage(err) });
  }

  let current: Promise<RunSummary> | undefined;
  const runNow = (): Promise<RunSummary> => {
    if (current) return current;
    state.running = true;
    current = (async () => {
      try {
        const { model, summary } = await runDetection(storage, settings, log);
        state.model = model;
        state.lastRun = summary;
        state.lastError = undefined;
        state.runs++;
        state.rowsScored += summary.scored_rows;
        return summary;
      } catch (err) {
        state.runFailures++;
        state.lastError = errorMessage(err);
        throw err;
      } finally {
        state.running = false;
        current = undefined;
      }
    })();
    return current;
  };

  const app = createApi({ token, state, storage, runNow });
  const server = Deno.serve({
    hostname: bind,
    port: config.int("detector.port"),
    onListen: () => {},
  }, app.fetch);
  const addr = server.addr as Deno.NetAddr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  const url = `http://${host}:${addr.port}`;
  log.info("detector API listening", { url, auth: token !== "" });

  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const scheduled = async () => {
    try {
      await runNow();
    } catch (err) {
      log.warn("scheduled detection run failed; will retry at the next interval", {
        error: errorMessage(err),
      });
    }
    if (!stopped) timer = setTimeout(scheduled, config.int("detector.interval_s") * 1000);
  };
  if (opts.schedule ?? true) timer = setTimeout(scheduled, 0);

  return {
    url,
    state,
    runNow,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      // Let a run in progress finish writing; its failure was already logged and counted.
      if (current) await current.catch(() => undefined);
      await server.shutdown();
      log.info("detector stopped", { runs: state.runs, run_failures: state.runFailures });
    },
  };
}
