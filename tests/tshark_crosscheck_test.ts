/**
 * Independent cross-check of the engine against Wireshark: real TLS handshakes on 127.0.0.1
 * (openssl s_client with varied options, curl, Node tls/https, headless Chromium over TCP and,
 * as root, over QUIC when it can start), recorded by tcpdump. For EVERY ClientHello in the
 * recording (QUIC ones decrypted from Initial packets by both tshark and the engine):
 * - our JA3 and JA3 full string equal tshark's `tls.handshake.ja3` / `tls.handshake.ja3_full`;
 * - our JA4, JA4_r, JA4_o, JA4_ro equal values re-derived here from tshark's decoded fields
 *   (cipher suites, extension types in wire order, signature algorithms of extension 13 only,
 *   supported_versions, ALPN, SNI), following FoxIO's JA4 spec (technical_details/JA4.md).
 * tshark 4.0 (Debian bookworm) has JA3 fields but no JA4 fields, hence the re-derivation.
 * Needs tcpdump capture rights (root or CAP_NET_RAW) and tshark; skips with a message otherwise.
 */
import { createHash } from "node:crypto";
import { assert, assertEquals } from "../lib/testing.ts";
import { type EngineRecord, loadEngine } from "../core-wasm/mod.ts";
import { canCapture } from "../capture/privileges.ts";
import { startTcpdump } from "./helpers/tcpdump.ts";
import {
  clientMatrix,
  clientsAvailable,
  runChromium,
  runClients,
  udpSink,
} from "./helpers/tls_clients.ts";
import { startTlsServer } from "./helpers/tls_server.ts";

async function hasTool(cmd: string): Promise<boolean> {
  try {
    await new Deno.Command(cmd, { args: ["--version"], stdout: "null", stderr: "null" }).output();
    return true;
  } catch {
    return false;
  }
}

const problems = [
  ...(canCapture() ? [] : ["needs root or CAP_NET_RAW to record with tcpdump"]),
  ...(await hasTool("tshark") ? [] : ["tshark not installed"]),
  ...(await hasTool("tcpdump") ? [] : ["tcpdump not installed"]),
  ...(await clientsAvailable()).map((t) => `${t} not installed`),
];
const skipReason = problems.join(", ");
if (skipReason) console.warn(`tshark_crosscheck_test: skipped (${skipReason})`);

/** A ClientHello as tshark decodes it. */
interface TsharkHello {
  port: number;
  /** JA4's first character: `t` (TCP) or `q` (QUIC). */
  transport: "t" | "q";
  version: number;
  ciphers: number[];
  /** Extension types in wire order. */
  extensions: number[];
  /** From signature_algorithms (13) only, wire order. */
  sigAlgs: number[];
  supportedVersions: number[];
  alpn?: string;
  sni?: string;
  ja3: string;
  ja3Full: string;
}

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

function asArray(v: Json | undefined): Json[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** Values of the first (shallowest) occurrence of `key` under `node`. */
function findKey(node: Json, key: string): string[] | undefined {
  if (node === null || typeof node !== "object") return undefined;
  if (!Array.isArray(node) && key in node) return asArray(node[key]).map(String);
  for (const child of Array.isArray(node) ? node : Object.values(node)) {
    const found = findKey(child, key);
    if (found) return found;
  }
  return undefined;
}

/** Every handshake object of type 1 under a tshark `tls` layer. */
function clientHellos(node: Json, out: Record<string, Json>[] = []): Record<string, Json>[] {
  if (node === null || typeof node !== "object") return out;
  if (!Array.isArray(node) && node["tls.handshake.type"] === "1") {
    out.push(node);
    return out;
  }
  for (const child of Array.isArray(node) ? node : Object.values(node)) clientHellos(child, out);
  return out;
}

const num = (s: string) => (s.startsWith("0x") ? parseInt(s, 16) : Number(s));

/** Decodes tshark's JSON (`-T json --no-duplicate-keys`) into ClientHellos. */
function parseTsharkJson(text: string): TsharkHello[] {
  const packets = JSON.parse(text) as { _source: { layers: Record<string, Json> } }[];
  const out: TsharkHello[] = [];
  for (const p of packets) {
    const layers = p._source.layers;
    const quic = layers.quic !== undefined;
    const l4 = asArray(quic ? layers.udp : layers.tcp)[0] as Record<string, Json>;
    const port = Number(l4[quic ? "udp.srcport" : "tcp.srcport"]);
    // TCP hellos sit in the `tls` layer; QUIC ones inside the `quic` layer's CRYPTO frames.
    for (const h of clientHellos((quic ? layers.quic : layers.tls) ?? null)) {
      const extensions: number[] = [];
      let sigAlgs: number[] = [];
      let supportedVersions: number[] = [];
      let alpn: string | undefined;
      let sni: string | undefined;
      for (const [k, v] of Object.entries(h)) {
        if (!k.startsWith("Extension: ")) continue;
        // With --no-duplicate-keys, same-named extensions (GREASE) merge into an array.
        for (const ext of asArray(v)) {
          const type = Number((ext as Record<string, Json>)["tls.handshake.extension.type"]);
          extensions.push(type);
          if (type === 13) sigAlgs = (findKey(ext, "tls.handshake.sig_hash_alg") ?? []).map(num);
          if (type === 43) {
            supportedVersions = (findKey(ext, "tls.handshake.extensions.supported_version") ?? [])
              .map(num);
          }
          if (type === 16) alpn = findKey(ext, "tls.handshake.extensions_alpn_str")?.[0];
          if (type === 0) sni = findKey(ext, "tls.handshake.extensions_server_name")?.[0];
        }
      }
      out.push({
        port,
        transport: quic ? "q" : "t",
        version: num(String(h["tls.handshake.version"])),
        ciphers: (findKey(h["tls.handshake.ciphersuites"] ?? null, "tls.handshake.ciphersuite") ??
          []).map(num),
        extensions,
        sigAlgs,
        supportedVersions,
        alpn,
        sni,
        ja3: String(h["tls.handshake.ja3"] ?? ""),
        ja3Full: String(h["tls.handshake.ja3_full"] ?? ""),
      });
    }
  }
  return out;
}

/** GREASE values (RFC 8701): 0x?a?a with both bytes equal. 0x0101 is not GREASE. */
const isGrease = (v: number) => (v & 0x0f0f) === 0x0a0a && (v >> 8) === (v & 0xff);

/** JA4 version codes (FoxIO JA4.md, "TLS Version"). */
const VERSIONS: Record<number, string> = {
  0x0304: "13",
  0x0303: "12",
  0x0302: "11",
  0x0301: "10",
  0x0300: "s3",
  0x0002: "s2",
  0xfeff: "d1",
  0xfefd: "d2",
  0xfefc: "d3",
};

const hex4 = (v: number) => v.toString(16).padStart(4, "0");
const two = (n: number) => String(Math.min(n, 99)).padStart(2, "0");
const hash12 = (s: string) =>
  s === "" ? "000000000000" : createHash("sha256").update(s).digest("hex").slice(0, 12);
const alnum = (c: number) =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** JA4's ALPN part: first and last character of the first value, hex fallback, `00` if none. */
function alpnPart(value: string | undefined): string {
  if (!value) return "00";
  const bytes = new TextEncoder().encode(value);
  const first = bytes[0];
  const last = bytes[bytes.length - 1];
  if (alnum(first) && alnum(last)) return String.fromCharCode(first, last);
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return hex[0] + hex[hex.length - 1];
}

/** JA4, JA4_r, JA4_o, JA4_ro of a ClientHello (TCP or QUIC) from tshark's decoded fields. */
function ja4FromFields(
  h: TsharkHello,
): Record<"ja4" | "ja4_r" | "ja4_o" | "ja4_ro", string> {
  const ciphers = h.ciphers.filter((c) => !isGrease(c));
  const exts = h.extensions.filter((e) => !isGrease(e));
  const sig = h.sigAlgs.filter((s) => !isGrease(s));
  const versions = h.supportedVersions.filter((v) => !isGrease(v));
  const version = versions.length ? Math.max(...versions) : h.version;
  const a = `${h.transport}${VERSIONS[version] ?? "00"}${exts.includes(0) ? "d" : "i"}${
    two(ciphers.length)
  }${two(exts.length)}${alpnPart(h.alpn)}`;
  const sigText = sig.map(hex4).join(",");
  const withSig = (e: string) => (sigText ? `${e}_${sigText}` : e);
  const sortedCiphers = [...ciphers].sort((x, y) => x - y).map(hex4).join(",");
  const originalCiphers = ciphers.map(hex4).join(",");
  // Sorted: SNI (0) and ALPN (16) left out of the hash; original order keeps them.
  const sortedExts = withSig(
    exts.filter((e) => e !== 0 && e !== 16).sort((x, y) => x - y).map(hex4).join(","),
  );
  const originalExts = withSig(exts.map(hex4).join(","));
  return {
    ja4: `${a}_${hash12(sortedCiphers)}_${hash12(sortedExts)}`,
    ja4_r: `${a}_${sortedCiphers}_${sortedExts}`,
    ja4_o: `${a}_${hash12(originalCiphers)}_${hash12(originalExts)}`,
    ja4_ro: `${a}_${originalCiphers}_${originalExts}`,
  };
}

Deno.test("ja4FromFields: the spec's worked example shape and the pitfalls", () => {
  const h: TsharkHello = {
    port: 1,
    transport: "t",
    version: 0x0303,
    ciphers: [0x1a1a, 0x1301, 0x1302],
    extensions: [0x2a2a, 0, 16, 13, 43, 0x0a0a],
    sigAlgs: [0x0a0a, 0x0403, 0x0804],
    supportedVersions: [0x3a3a, 0x0304, 0x0303],
    alpn: "http/1.1",
    sni: "x",
    ja3: "",
    ja3Full: "",
  };
  const r = ja4FromFields(h);
  assertEquals(r.ja4_r, "t13d0204h1_1301,1302_000d,002b_0403,0804");
  assertEquals(r.ja4_ro, "t13d0204h1_1301,1302_0000,0010,000d,002b_0403,0804");
  assertEquals(r.ja4.slice(0, 10), "t13d0204h1");
  // No signature algorithms: no trailing underscore; no extensions left: zero hash.
  const bare = ja4FromFields({ ...h, extensions: [0], sigAlgs: [], supportedVersions: [] });
  assertEquals(bare.ja4_r, "t12d0201h1_1301,1302_");
  assertEquals(bare.ja4.endsWith("_000000000000"), true);
  assertEquals(alpnPart("h2"), "h2");
  assertEquals(alpnPart("a"), "aa");
  assertEquals(alpnPart(undefined), "00");
  assertEquals(alpnPart("\u00e9x"), "c8"); // first byte 0xc3 → 'c', last byte 0x78 → '8'
  assertEquals(isGrease(0x0101), false);
});

Deno.test({
  name: "cross-check: our JA3 = tshark's, our JA4 = JA4 re-derived from tshark's fields",
  ignore: skipReason !== "",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ja4-tshark-" });
    const server = await startTlsServer();
    try {
      const pcap = `${dir}/handshakes.pcap`;
      const rec = await startTcpdump("lo", `tcp port ${server.port} or udp port 443`, pcap);
      const specs = clientMatrix(server.host, server.port);
      await runClients(specs);
      const chromium = await runChromium(`https://ja4.test:${server.port}/`);
      if (!chromium.ok) console.warn(`Chromium not part of this run: ${chromium.reason}`);
      // QUIC: Chromium forced to HTTP/3 against a UDP sink on 443 that never answers, so it
      // sends its whole ClientHello in Initial packets (tshark decrypts them as we do).
      let quicHellos = false;
      if (chromium.ok && Deno.uid() === 0) {
        const sink = await udpSink(443);
        try {
          const quic = await runChromium("https://ja4.test/", {
            extraArgs: ["--enable-quic", "--origin-to-force-quic-on=ja4.test:443"],
            handshakeOnly: true,
            timeoutMs: 4000,
          });
          quicHellos = quic.ok;
        } finally {
          await sink.close();
        }
      }
      await rec.stop();

      const tshark = await new Deno.Command("tshark", {
        args: [
          "-n",
          "-r",
          pcap,
          "-d",
          `tcp.port==${server.port},tls`,
          "-d",
          "udp.port==443,quic",
          "-Y",
          "tls.handshake.type == 1",
          "-T",
          "json",
          "--no-duplicate-keys",
          "-J",
          "tcp udp tls quic",
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert(tshark.success, new TextDecoder().decode(tshark.stderr));
      const theirs = parseTsharkJson(new TextDecoder().decode(tshark.stdout));

      const engine = await loadEngine();
      const session = await engine.createSession();
      const records: EngineRecord[] = [
        ...session.push(await Deno.readFile(pcap)),
        ...session.finish(),
      ];
      const ours = records.filter((r) => r.kind === "client_hello");

      // Every hello of every client: the matrix, its HelloRetryRequest, Chromium's connections.
      const connections = specs.reduce((n, s) => n + s.connections, 0);
      assert(theirs.length > connections, `tshark decoded ${theirs.length} ClientHellos`);
      assertEquals(ours.length, theirs.length, "same number of ClientHellos as tshark");

      const byPort = (port: number, list: { port: number }[]) =>
        list.filter((x) => x.port === port);
      if (quicHellos) {
        assert(theirs.some((t) => t.transport === "q"), "tshark decoded no QUIC ClientHello");
      }
      const oursWithPort = ours.map((r) => ({ ...r, port: r.src_port })).sort((a, b) =>
        a.ts_us - b.ts_us
      );
      let compared = 0;
      const mismatches: string[] = [];
      for (const port of new Set(theirs.map((t) => t.port))) {
        const t = byPort(port, theirs) as TsharkHello[];
        const o = byPort(port, oursWithPort) as (EngineRecord & { port: number })[];
        assertEquals(o.length, t.length, `hellos on client port ${port}`);
        for (let i = 0; i < t.length; i++) {
          const want = { ja3: t[i].ja3, ja3_full: t[i].ja3Full, ...ja4FromFields(t[i]) };
          for (const [field, value] of Object.entries(want)) {
            const got = (o[i] as unknown as Record<string, string>)[field] ?? "";
            if (got !== value) mismatches.push(`port ${port} #${i} ${field}: ${got} ≠ ${value}`);
          }
          if ((o[i].tls_server_name ?? "") !== (t[i].sni ?? "")) {
            mismatches.push(`port ${port} #${i} sni: ${o[i].tls_server_name} ≠ ${t[i].sni}`);
          }
          compared++;
        }
      }
      assertEquals(mismatches, []);
      assertEquals(compared, theirs.length);
      console.log(
        `tshark cross-check: ${compared} ClientHellos (${
          theirs.filter((t) => t.transport === "q").length
        } QUIC; ${specs.length} client runs${chromium.ok ? " + Chromium over TCP" : ""}${
          quicHellos ? " and QUIC" : ""
        }), JA3/JA3_full/JA4/JA4_r/JA4_o/JA4_ro/SNI all equal`,
      );
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
