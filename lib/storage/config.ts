/** Configuration keys of lib/storage/ (see lib/config.ts for how keys are layered and validated). */
import type { ConfigKey } from "../config.ts";

export const STORAGE_CONFIG_KEYS: readonly ConfigKey[] = [];
