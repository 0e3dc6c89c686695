/**
 * `deno task compile:ja4`: builds a single `ja4` binary with `deno compile`. That needs Deno's
 * `denort` runtime, which Deno downloads from its own site unless `DENORT_BIN` points at a local
 * copy. Where neither works (these build machines reach only npm and apt), say so and stop.
 */
const out = Deno.args[0] ?? "build/ja4";
const denort = Deno.env.get("DENORT_BIN");
if (!denort) {
  console.error(
    "compile:ja4: `deno compile` needs Deno's denort runtime. Set DENORT_BIN=/path/to/denort " +
      `(the denort of Deno ${Deno.version.deno} for this platform) and run again; ` +
      "without it Deno would download denort from its own site, which this machine may not reach.",
  );
  Deno.exit(1);
}
try {
  await Deno.stat(denort);
} catch {
  console.error(`compile:ja4: DENORT_BIN=${denort} does not exist`);
  Deno.exit(1);
}
const { code } = await new Deno.Command(Deno.execPath(), {
  args: [
    "compile",
    "-A",
    "--include",
    "core-wasm/build/ja4.wasm",
    "--include",
    "migrations",
    "--output",
    out,
    "main.ts",
  ],
  env: { DENORT_BIN: denort },
  stdout: "inherit",
  stderr: "inherit",
}).spawn().status;
if (code === 0) console.log(`compile:ja4: wrote ${out}`);
Deno.exit(code);
