/**
 * detector/: bot detection over the feature views — Isolation Forest scores, threat levels with
 * reasons, campaigns, analyst feedback, model registry, HTTP API on :8080.
 *
 * @example
 * ```sh
 * deno task detect --once          # one run: train, score the last hours, write ml_all_scores
 * deno task detect --interval 300  # scheduled runs + API until Ctrl-C
 * ```
 */
import type { Command } from "../lib/cli.ts";
import { errorMessage, UsageError } from "../lib/errors.ts";
import type { ServiceStarter } from "../lib/service.ts";
import { openStorage } from "../lib/storage/mod.ts";
import { runDetection } from "./run.ts";
import { checkExposure, runSettings, startDetector } from "./service.ts";

export { DETECTOR_CONFIG_KEYS, paramsFromConfig } from "./config.ts";
export { ApiError, DetectorError } from "./errors.ts";
export { averagePathLength, type ForestJson, IsolationForest } from "./isolation_forest.ts";
export {
  FEATURE_NAMES,
  type FeatureRow,
  FEATURES,
  type FeatureSpec,
  type Scaler,
} from "./features.ts";
export type { Calibration, Classification, Label, TargetType } from "./feedback.ts";
export { RandomForest } from "./supervised.ts";
export type { ThreatLevel, Thresholds } from "./threat.ts";
export {
  DEFAULT_PARAMS,
  type DetectorModel,
  type DetectorParams,
  type ScoreContext,
  type ScoreRecord,
  scoreRows,
  trainModel,
} from "./model.ts";
export { type ApiDeps, bearerAuth, createApi, type DetectorState } from "./api.ts";
export { runDetection, type RunSettings, type RunSummary } from "./run.ts";
export { type DetectorOptions, type DetectorService, startDetector } from "./service.ts";
export {
  BOT_SCENARIOS,
  loadBrowserJa4s,
  type SimOptions,
  simulate,
  type Simulation,
} from "./simulator.ts";

/** Parses `--at`: ISO-8601 or ClickHouse `YYYY-MM-DD hh:mm:ss` text, read as UTC. */
export function parseRunTime(text: string): Date {
  const iso = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$/.test(text)
    ? text.replace(" ", "T") + "Z"
    : text;
  const t = Date.parse(iso);
  if (!/^\d{4}-\d{2}-\d{2}/.test(text) || !Number.isFinite(t)) {
    throw new UsageError(
      "BAD_FLAG",
      `ja4 detect: --at '${text}' is not a time; use UTC 'YYYY-MM-DD hh:mm:ss' or ISO-8601`,
    );
  }
  return new Date(t);
}

/** `ja4 detect`: scheduled (or one) detection runs and the API. */
export const detectCommand: Command = {
  name: "detect",
  summary: "score clients with Isolation Forest; API on :8080",
  usage: "ja4 detect [--once [--at TIME]] [--interval SECONDS] [--bind ADDR] [--port N] [--seed N]",
  flags: [
    { name: "once", type: "boolean", help: "run once, print the summary as JSON, exit" },
    {
      name: "interval",
      type: "string",
      value: "SECONDS",
      configKey: "detector.interval_s",
      help: "seconds between scheduled runs",
    },
    {
      name: "bind",
      type: "string",
      value: "ADDR",
      configKey: "detector.bind",
      help: "API listen address",
    },
    { name: "port", type: "string", value: "N", configKey: "detector.port", help: "API port" },
    {
      name: "at",
      type: "string",
      value: "TIME",
      help:
        "with --once: run as if it were TIME (UTC, e.g. '2026-01-01 12:00:00'), to repeat a run",
    },
    {
      name: "seed",
      type: "string",
      value: "N",
      configKey: "detector.seed",
      help: "PRNG seed (repeat a registered run: its seed is in ml_models)",
    },
  ],
  details: "Keys: detector.* ('ja4 config print'); documentation: detector/README.md.",
  async run(ctx) {
    // Configuration mistakes are reported before anything is opened.
    const settings = runSettings(ctx.config);
    if (ctx.flags.at !== undefined) {
      const at = parseRunTime(String(ctx.flags.at));
      settings.now = () => at;
    }
    if (!ctx.flags.once) {
      checkExposure(ctx.config.string("detector.bind"), ctx.config.string("detector.token"));
    }
    const storage = await openStorage(ctx.config, ctx.log);
    if (ctx.flags.once) {
      try {
        const { summary } = await runDetection(storage, settings, ctx.log);
        console.log(JSON.stringify(summary, null, 2));
        return 0;
      } finally {
        await storage.close();
      }
    }
    const svc = await startDetector({ config: ctx.config, log: ctx.log, storage, settings });
    ctx.shutdown.onShutdown("close storage", () => storage.close());
    ctx.shutdown.onShutdown("stop detector", () => svc.stop());
    console.log(
      `detector API on ${svc.url}; runs every ${ctx.config.int("detector.interval_s")} s`,
    );
    await new Promise<void>((resolve) => {
      if (ctx.signal.aborted) resolve();
      ctx.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    // The shutdown hooks stop the service and exit the process.
    await new Promise(() => {});
    return 0;
  },
};

/** `ja4 start` entry: the detector service (after storage and correlator). */
export const detectorService: ServiceStarter = async (ctx) => {
  let storage;
  try {
    storage = await openStorage(ctx.config, ctx.log);
  } catch (err) {
    return { skipped: `storage unavailable: ${errorMessage(err)}` };
  }
  try {
    const svc = await startDetector({
      config: ctx.config,
      log: ctx.log.child({ component: "detector" }),
      storage,
    });
    return {
      name: "detector",
      where: [`${svc.url} (API)`, `every ${ctx.config.int("detector.interval_s")} s`],
      async stop() {
        await svc.stop();
        await storage.close();
      },
    };
  } catch (err) {
    await storage.close();
    throw err;
  }
};
