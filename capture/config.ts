/** Configuration keys of capture/ (see lib/config.ts for how keys are layered and validated). */
import type { ConfigKey } from "../lib/config.ts";

export const CAPTURE_CONFIG_KEYS: readonly ConfigKey[] = [];
