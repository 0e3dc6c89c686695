/** Configuration keys of detector/ (see lib/config.ts for how keys are layered and validated). */
import type { ConfigKey } from "../lib/config.ts";

export const DETECTOR_CONFIG_KEYS: readonly ConfigKey[] = [];
