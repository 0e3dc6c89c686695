/** Configuration keys of correlator/ (see lib/config.ts for how keys are layered and validated). */
import type { ConfigKey } from "../lib/config.ts";

export const CORRELATOR_CONFIG_KEYS: readonly ConfigKey[] = [];
