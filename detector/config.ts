/**
 * Configuration keys of detector/ (see lib/config.ts for how keys are layered and validated),
 * and their translation into model parameters.
 */
import type { Config, ConfigKey } from "../lib/config.ts";
import { ConfigError } from "../lib/errors.ts";
import type { DetectorParams } from "./model.ts";
import { checkThresholds } from "./threat.ts";

const score = (key: string, def: number, what: string): ConfigKey => ({
  key,
  type: "number",
  min: 0.01,
  max: 0.99,
  default: def,
  description: what,
});

/** Every `detector.*` key with type, default and description (see detector/README.md). */
export const DETECTOR_CONFIG_KEYS: readonly ConfigKey[] = [
  {
    key: "detector.bind",
    type: "string",
    default: "127.0.0.1",
    description: "address the detector API listens on (0.0.0.0 or :: to expose it; needs a token)",
    validate: (v) => (v === "" ? "must not be empty" : undefined),
  },
  {
    key: "detector.port",
    type: "int",
    min: 0,
    max: 65535,
    default: 8080,
    description: "TCP port of the detector API (0 = any free port)",
  },
  {
    key: "detector.token",
    type: "string",
    default: "",
    secret: true,
    description:
      "bearer token the API requires (Authorization: Bearer …); empty = no auth, allowed only on a loopback bind",
  },
  {
    key: "detector.interval_s",
    type: "int",
    min: 10,
    max: 86_400,
    default: 600,
    description: "seconds between scheduled detection runs",
  },
  {
    key: "detector.training_hours",
    type: "int",
    min: 1,
    max: 24 * 90,
    default: 168,
    description: "hours of feature rows the model is trained on",
  },
  {
    key: "detector.max_training_rows",
    type: "int",
    min: 1000,
    max: 50_000_000,
    default: 500_000,
    description:
      "most IP-hours a run trains on; beyond it a sample seeded by detector.seed (bounds memory)",
  },
  {
    key: "detector.scoring_hours",
    type: "int",
    min: 1,
    max: 24 * 30,
    default: 2,
    description: "hours of the most recent feature rows scored by each run",
  },
  {
    key: "detector.trees",
    type: "int",
    min: 1,
    max: 1000,
    default: 100,
    description: "Isolation Forest trees",
  },
  {
    key: "detector.sample_size",
    type: "int",
    min: 2,
    max: 65_536,
    default: 256,
    description: "Isolation Forest subsample size ψ per tree",
  },
  {
    key: "detector.seed",
    type: "int",
    min: 0,
    max: 2 ** 31 - 1,
    default: 1,
    description: "PRNG seed; a run is repeatable from its seed and rows",
  },
  score("detector.threshold.medium", 0.53, "score at which a client is MEDIUM"),
  score("detector.threshold.high", 0.56, "score at which a client is HIGH"),
  score("detector.threshold.critical", 0.62, "score at which a client is CRITICAL"),
  {
    key: "detector.campaign.escalate_size",
    type: "int",
    min: 2,
    max: 1_000_000,
    default: 5,
    description: "campaigns with this many distinct IPs escalate HIGH members to CRITICAL",
  },
  {
    key: "detector.reasons.min_z",
    type: "number",
    min: 0,
    max: 1000,
    default: 3,
    description: "a feature is named as a reason when |robust z| reaches this",
  },
  {
    key: "detector.reasons.max",
    type: "int",
    min: 1,
    max: 25,
    default: 3,
    description: "most feature reasons given per client",
  },
  {
    key: "detector.feedback.min_per_class",
    type: "int",
    min: 1,
    max: 100_000,
    default: 10,
    description: "analyst labels needed in each class (bot, benign) to calibrate thresholds",
  },
  {
    key: "detector.feedback.supervised_min_labels",
    type: "int",
    min: 2,
    max: 1_000_000,
    default: 50,
    description: "labelled rows needed to train the supervised random forest",
  },
  {
    key: "detector.new_fingerprint.learning_hours",
    type: "int",
    min: 0,
    max: 24 * 365,
    default: 168,
    description: "after the site's first data, hours during which no combination is flagged new",
  },
  {
    key: "detector.new_fingerprint.allowlist",
    type: "list",
    default: [],
    description: "JA4s or 'JA4|JA4H' / 'JA4|User-Agent' combinations never flagged as new",
  },
];

/** Model parameters from the configuration; ConfigError when thresholds do not ascend. */
export function paramsFromConfig(config: Config): DetectorParams {
  const thresholds = {
    medium: config.number("detector.threshold.medium"),
    high: config.number("detector.threshold.high"),
    critical: config.number("detector.threshold.critical"),
  };
  const problem = checkThresholds(thresholds);
  if (problem) {
    throw new ConfigError(
      "BAD_VALUE",
      `config detector.threshold.*: ${problem} (set detector.threshold.medium < high < critical)`,
    );
  }
  return {
    trees: config.int("detector.trees"),
    sampleSize: config.int("detector.sample_size"),
    seed: config.int("detector.seed"),
    thresholds,
    campaignEscalateSize: config.int("detector.campaign.escalate_size"),
    reasonMinZ: config.number("detector.reasons.min_z"),
    reasonMax: config.int("detector.reasons.max"),
    calibrationMinPerClass: config.int("detector.feedback.min_per_class"),
    supervisedMinLabels: config.int("detector.feedback.supervised_min_labels"),
  };
}
