/**
 * Builds mod_reqin_log with `apxs` into `apache-module/build/mod_reqin_log.so`, and the cmocka
 * unit-test binary into `apache-module/build/unit_tests`. Run as `deno task build:apache`.
 *
 * Sources are compiled in a scratch directory so libtool's droppings stay out of `src/`; the
 * finished `.so` is renamed into place, so a concurrent reader never loads half a file.
 *
 * @example
 * ```ts
 * import { ensureModule } from "./build.ts";
 * const so = await ensureModule(); // builds only when a source is newer than the .so
 * ```
 */
import { ApacheBuildError } from "./errors.ts";

const HERE = new URL(".", import.meta.url).pathname;
/** Folder of the C sources. */
export const SRC_DIR = `${HERE}src`;
/** Folder of the cmocka unit tests. */
export const TEST_DIR = `${HERE}tests`;
/** Build output folder (gitignored). */
export const BUILD_DIR = `${HERE}build`;
/** The built module, for `LoadModule reqin_log_module <this path>`. */
export const MODULE_PATH = `${BUILD_DIR}/mod_reqin_log.so`;
/** The built cmocka unit-test runner. */
export const UNIT_TESTS_PATH = `${BUILD_DIR}/unit_tests`;
/** The built micro-benchmark of the module's per-request work (bench/line_bench.c). */
export const LINE_BENCH_PATH = `${BUILD_DIR}/line_bench`;

/** Pure C parts shared by the module and the unit tests (no Apache headers). */
export const CORE_SOURCES = [
  "rl_batch.c",
  "rl_json.c",
  "rl_sha256.c",
  "rl_ja4h.c",
  "rl_event.c",
  "rl_wire.c",
  "rl_sender.c",
];
const MODULE_SOURCES = ["mod_reqin_log.c", ...CORE_SOURCES];
const WARNINGS = ["-Wall", "-Wextra", "-Wno-missing-field-initializers", "-Werror"];
/** Code generation for the module itself (not the unit tests). */
const MODULE_CFLAGS = ["-fvisibility=hidden", "-fno-plt"];

async function run(cmd: string, args: string[], cwd: string): Promise<string> {
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) {
      throw new ApacheBuildError(
        "TOOL_MISSING",
        `${cmd} not found: install the Debian packages apache2-dev and libcmocka-dev`,
        { cause: err },
      );
    }
    throw err;
  }
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) {
    throw new ApacheBuildError(
      "BUILD_FAILED",
      `${cmd} ${args.join(" ")} failed (exit ${out.code}):\n${text}`,
    );
  }
  return text;
}

async function mtime(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).mtime?.getTime() ?? 0;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return 0;
    throw err;
  }
}

/** Newest modification time among the C sources (and tests when asked). */
async function newestSource(dirs: string[]): Promise<number> {
  let newest = 0;
  for (const dir of dirs) {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile) newest = Math.max(newest, await mtime(`${dir}/${e.name}`));
    }
  }
  return newest;
}

/** Compiles the module with apxs and returns the path of the `.so`. */
export async function buildModule(): Promise<string> {
  await Deno.mkdir(BUILD_DIR, { recursive: true });
  const work = await Deno.makeTempDir({ dir: BUILD_DIR, prefix: "apxs-" });
  try {
    for await (const e of Deno.readDir(SRC_DIR)) {
      if (e.isFile) await Deno.copyFile(`${SRC_DIR}/${e.name}`, `${work}/${e.name}`);
    }
    // Hidden symbols and no PLT: the module's calls between its own files are direct, and its
    // calls into libc/APR load the GOT entry instead of jumping through a PLT stub (fewer
    // instruction-cache lines touched per request).
    const cflags = [...WARNINGS, ...MODULE_CFLAGS].flatMap((w) => ["-Wc," + w]);
    await run("apxs", ["-c", ...cflags, "-o", "mod_reqin_log.la", ...MODULE_SOURCES], work);
    await Deno.rename(`${work}/.libs/mod_reqin_log.so`, MODULE_PATH);
    return MODULE_PATH;
  } finally {
    await Deno.remove(work, { recursive: true });
  }
}

/**
 * Compiles the cmocka unit tests (with AddressSanitizer/UBSan) and returns the binary.
 * `portable` builds the JSON writer's plain-C scan instead of its SSE2 one (x86-64 runs the
 * SSE2 one; other CPUs the plain one), so the tests cover both.
 */
export async function buildUnitTests(options: { portable?: boolean } = {}): Promise<string> {
  const binary = options.portable ? `${UNIT_TESTS_PATH}_portable` : UNIT_TESTS_PATH;
  await Deno.mkdir(BUILD_DIR, { recursive: true });
  const tests: string[] = [];
  for await (const e of Deno.readDir(TEST_DIR)) {
    if (e.isFile && e.name.endsWith(".c")) tests.push(`${TEST_DIR}/${e.name}`);
  }
  tests.sort();
  const tmp = `${binary}.${Deno.pid}.tmp`;
  await run("cc", [
    ...WARNINGS,
    ...(options.portable ? ["-DRL_JSON_PORTABLE"] : []),
    "-std=c99",
    "-D_POSIX_C_SOURCE=200809L",
    "-g",
    "-O1",
    "-fsanitize=address,undefined",
    "-fno-omit-frame-pointer",
    `-I${SRC_DIR}`,
    "-o",
    tmp,
    ...tests,
    ...CORE_SOURCES.map((s) => `${SRC_DIR}/${s}`),
    "-lcmocka",
  ], HERE);
  await Deno.rename(tmp, binary);
  return binary;
}

/** Compiles `bench/line_bench.c` with the module's optimisation level; returns the binary. */
export async function buildLineBench(): Promise<string> {
  await Deno.mkdir(BUILD_DIR, { recursive: true });
  const tmp = `${LINE_BENCH_PATH}.${Deno.pid}.tmp`;
  await run("cc", [
    ...WARNINGS,
    "-O2",
    "-D_GNU_SOURCE",
    `-I${SRC_DIR}`,
    "-o",
    tmp,
    `${HERE}bench/line_bench.c`,
    ...CORE_SOURCES.map((s) => `${SRC_DIR}/${s}`),
    "-lpthread",
  ], HERE);
  await Deno.rename(tmp, LINE_BENCH_PATH);
  return LINE_BENCH_PATH;
}

/** Builds the module unless it is newer than every source; returns its path. */
export async function ensureModule(): Promise<string> {
  if (await mtime(MODULE_PATH) > await newestSource([SRC_DIR])) return MODULE_PATH;
  return await buildModule();
}

if (import.meta.main) {
  const so = await buildModule();
  console.log(`built ${so}`);
  console.log(`LoadModule reqin_log_module ${so}`);
}
