/**
 * The same engine `.wasm` in a browser: headless Chromium (npm playwright-core driving
 * /usr/bin/chromium, fresh temp profile) loads the TypeScript loader bundled by esbuild and
 * the built `core-wasm/build/ja4.wasm` from a Deno.serve on 127.0.0.1, fingerprints
 * conformance captures (TCP, QUIC and HTTP ones) and must return exactly the records the
 * Deno run returns.
 *
 * Skips with a message when ../shared or Chromium is absent.
 */
import { build, stop } from "esbuild";
import { assert, assertEquals } from "../lib/testing.ts";
import { type EngineRecord, ensureWasm, loadEngine } from "../core-wasm/mod.ts";
import { CHROMIUM_PATH, chromiumInstalled, withChromium } from "./helpers/chromium.ts";

const CONFORMANCE = new URL("../../shared/conformance/foxio/", import.meta.url);
const CAPTURES = [
  "tls-handshake.pcapng",
  "quic-tls-handshake.pcapng",
  "http1-with-cookies.pcapng",
  "v6.pcap",
];
const LOADER = new URL("../core-wasm/loader.ts", import.meta.url).pathname;

/** True when `path` exists; other stat errors propagate. */
const exists = (path: string | URL) =>
  Deno.stat(path).then(() => true, (err) => {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  });

const skip = !(await exists(CONFORMANCE))
  ? "../shared/conformance/foxio is absent"
  : !(await chromiumInstalled())
  ? `${CHROMIUM_PATH} is not installed (apt-get install chromium)`
  : "";
if (skip) console.warn(`browser_wasm_test skipped: ${skip}`);

/** Records of `capture` as the Deno side of the engine reports them. */
async function denoRecords(capture: Uint8Array): Promise<EngineRecord[]> {
  const engine = await loadEngine();
  const session = await engine.createSession();
  const records = session.push(capture);
  records.push(...session.finish());
  return records;
}

/** The loader as one browser ES module (it has no Deno APIs). */
async function bundleLoader(): Promise<string> {
  try {
    const out = await build({
      entryPoints: [LOADER],
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      write: false,
    });
    return out.outputFiles[0].text;
  } finally {
    await stop();
  }
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>ja4 wasm</title>
<script type="module">
import { loadEngine } from "/loader.js";
window.fingerprint = async (name) => {
  const engine = await loadEngine(new URL("/ja4.wasm", location.href));
  const capture = new Uint8Array(await (await fetch("/capture/" + name)).arrayBuffer());
  const session = await engine.createSession();
  const records = session.push(capture);
  records.push(...session.finish());
  return JSON.stringify(records);
};
window.ready = true;
</script>`;

Deno.test({
  name: "the engine's .wasm fingerprints conformance captures in Chromium exactly as in Deno",
  ignore: skip !== "",
  // playwright keeps a pipe to the browser process until close(): checked explicitly below.
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const wasm = await Deno.readFile(await ensureWasm());
    const loaderJs = await bundleLoader();
    const captures = new Map<string, Uint8Array<ArrayBuffer>>();
    for (const name of CAPTURES) {
      captures.set(name, await Deno.readFile(new URL(name, CONFORMANCE)));
    }

    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/") return new Response(PAGE, { headers: { "content-type": "text/html" } });
      if (path === "/loader.js") {
        return new Response(loaderJs, { headers: { "content-type": "text/javascript" } });
      }
      if (path === "/ja4.wasm") {
        return new Response(wasm, { headers: { "content-type": "application/wasm" } });
      }
      const capture = captures.get(path.replace("/capture/", ""));
      if (capture) return new Response(capture);
      return new Response("not found", { status: 404 });
    });
    try {
      await withChromium([], async (context) => {
        const page = await context.newPage();
        const errors: string[] = [];
        page.on("pageerror", (e) => errors.push(e.message));
        await page.goto(`http://127.0.0.1:${server.addr.port}/`);
        await page.waitForFunction(() => (globalThis as { ready?: boolean }).ready === true);
        const fingerprint = async (name: string): Promise<EngineRecord[]> =>
          JSON.parse(
            await page.evaluate(
              (n) =>
                (globalThis as unknown as { fingerprint(n: string): Promise<string> }).fingerprint(
                  n,
                ),
              name,
            ),
          );
        for (const name of CAPTURES) {
          const inBrowser = await fingerprint(name);
          const inDeno = await denoRecords(captures.get(name)!);
          assert(inDeno.length > 0, `${name}: no records in Deno`);
          assertEquals(inBrowser, JSON.parse(JSON.stringify(inDeno)), name);
        }
        assertEquals(errors, []);
        // The QUIC capture went through the Initial decryption in the browser as well.
        const quic = await fingerprint("quic-tls-handshake.pcapng");
        assertEquals(
          quic.filter((r) => r.kind === "client_hello").map((r) => r.ja4),
          ["q13d0310h3_55b375c5d22e_cd85d2d88918"],
        );
      });
    } finally {
      await server.shutdown();
    }
  },
});
