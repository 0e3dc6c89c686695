/**
 * apache-module: mod_reqin_log (C, in `src/`) and the TypeScript that builds it.
 * The module itself is loaded by Apache; see README.md for its directives.
 *
 * @example
 * ```ts
 * import { ensureModule } from "./apache-module/mod.ts";
 * console.log(`LoadModule reqin_log_module ${await ensureModule()}`);
 * ```
 */
export {
  buildLineBench,
  buildModule,
  buildUnitTests,
  ensureModule,
  LINE_BENCH_PATH,
  MODULE_PATH,
  UNIT_TESTS_PATH,
} from "./build.ts";
export { ApacheBuildError, ApacheRunError } from "./errors.ts";
