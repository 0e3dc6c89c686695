/**
 * Micro-benchmark of QUIC Initial handling and the crypto under it (not a test, not a task):
 *
 * ```sh
 * node_modules/.bin/deno run -A core-wasm/assembly/quic/quic_bench.ts
 * ```
 *
 * Every flow has its own random DCID (as in real traffic, where each connection picks a
 * fresh one), so key derivation runs for every flow: nothing here can be answered from a
 * cache. Prints wall and CPU nanoseconds per operation; the machine is shared, so CPU
 * time (user + system of this process) is the steadier figure.
 */
import { cpuUsage } from "node:process";
import { randomBytes as nodeRandomBytes } from "node:crypto";
import { Ja4Error } from "../../../lib/errors.ts";
import { compileAs, put, seeded } from "../crypto/wasm_test_util.ts";
import { concat, cryptoFrame, handshakeMessage, protectInitial } from "./packet_test_util.ts";

/** A benchmark packet did not yield its hello: the numbers would time a failure path. */
class QuicBenchError extends Ja4Error {}

const quic = await compileAs(new URL("./test_entry.ts", import.meta.url));
const crypto = await compileAs(new URL("../crypto/test_entry.ts", import.meta.url));

interface Row {
  name: string;
  wallNs: number;
  cpuNs: number;
}

/** Runs `fn` `n` times after a warm-up; best of three rounds (noise only adds time). */
function measure(name: string, n: number, fn: (i: number) => void): Row {
  for (let i = 0; i < Math.min(n, 2000); i++) fn(i);
  let best: Row = { name, wallNs: Infinity, cpuNs: Infinity };
  for (let round = 0; round < 3; round++) {
    const c0 = cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn(i);
    const wall = (performance.now() - t0) * 1e6 / n;
    const c = cpuUsage(c0);
    const cpu = (c.user + c.system) * 1e3 / n;
    if (cpu < best.cpuNs) best = { name, wallNs: wall, cpuNs: cpu };
  }
  return best;
}

const FLOWS = 2000;
const rnd = seeded(7);
// Shaped like the QUIC flows of the bench capture (Chrome against a 443 server, as tshark
// shows them): a ~300-byte ClientHello cut into CRYPTO frames shuffled among PADDING and
// PING frames across a 1250-byte client Initial (so nearly the whole packet is decrypted),
// and a server Initial padded to 1232 bytes: ACK, the 90-byte ServerHello, PADDING.
const clientHello = handshakeMessage(1, 296, 3);
const serverHello = handshakeMessage(2, 86, 4);
/** CRYPTO pieces of `msg` in a shuffled order, each after a run of PADDING and a PING. */
function shuffledFrames(msg: Uint8Array): Uint8Array {
  const cuts = [0, 40, 90, 130, 170, 220, 260, msg.length];
  const pieces: Uint8Array[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    pieces.push(cryptoFrame(cuts[i], msg.slice(cuts[i], cuts[i + 1])));
  }
  for (let i = pieces.length - 1; i > 0; i--) {
    const j = rnd() % (i + 1);
    [pieces[i], pieces[j]] = [pieces[j], pieces[i]];
  }
  return concat(
    ...pieces.map((p) => concat(new Uint8Array(40 + (rnd() % 80)), new Uint8Array([1]), p)),
  );
}
const ack = new Uint8Array([0x02, 0x00, 0x00, 0x00, 0x00]);
const flows = Array.from({ length: FLOWS }, () => {
  const dcid = new Uint8Array(nodeRandomBytes(8));
  const scid = new Uint8Array(nodeRandomBytes(8));
  return {
    client: protectInitial({ dcid, scid, pn: 0, frames: shuffledFrames(clientHello), padTo: 1250 }),
    server: protectInitial({
      dcid: scid,
      keyDcid: dcid,
      scid,
      pn: 0,
      frames: concat(ack, cryptoFrame(0, serverHello)),
      server: true,
      padTo: 1232,
    }),
  };
});
const STATE = quic.scratch();
const DGRAM = STATE + 32768;
const CLIENT = DGRAM;
const SERVER = DGRAM + 4096;

function flowClient(i: number): void {
  const f = flows[i % FLOWS];
  put(quic, CLIENT, f.client);
  quic.quicStateInit(STATE);
  if (quic.quicFeed(STATE, CLIENT, f.client.length, 0) !== 1) {
    throw new QuicBenchError("NO_HELLO", "client Initial did not complete its ClientHello");
  }
}

function flowBoth(i: number): void {
  const f = flows[i % FLOWS];
  put(quic, CLIENT, f.client);
  put(quic, SERVER, f.server);
  quic.quicStateInit(STATE);
  if (quic.quicFeed(STATE, CLIENT, f.client.length, 0) !== 1) {
    throw new QuicBenchError("NO_HELLO", "client Initial did not complete its ClientHello");
  }
  if (quic.quicFeed(STATE, SERVER, f.server.length, 1) !== 1) {
    throw new QuicBenchError("NO_HELLO", "server Initial did not complete its ServerHello");
  }
}

// Crypto pieces, on the crypto test entry's scratch.
const S = crypto.scratch();
const KEY = S, RK = S + 64, CTX = S + 512, NONCE = S + 1024, BUF = S + 2048, OUT = S + 8192;
put(crypto, KEY, new Uint8Array(16).map(() => rnd() & 0xff));
put(crypto, NONCE, new Uint8Array(12).map(() => rnd() & 0xff));
put(crypto, BUF, new Uint8Array(1400).map(() => rnd() & 0xff));
crypto.aes128ExpandKey(KEY, RK);
crypto.gcmInit(CTX, KEY);
const SAVED = S + 4096, BLK = S + 4224;
crypto.hmacSha256Key32(KEY, SAVED);
crypto.sha256LastBlock(BUF, 20, 64n, BLK);

const rows: Row[] = [
  measure("flow: new state + 1250 B client Initial", 20000, flowClient),
  measure("flow: client + server Initial", 20000, flowBoth),
  measure("AES-128 block", 200000, () => crypto.aes128EncryptBlock(RK, BUF, OUT)),
  measure("AES-128 key expansion", 200000, () => crypto.aes128ExpandKey(KEY, RK)),
  measure("GCM init (key expansion + H)", 200000, () => crypto.gcmInit(CTX, KEY)),
  measure(
    "GCM tag check, 1200 B (wrong tag)",
    20000,
    () => crypto.gcmVerify(CTX, NONCE, BUF, 20, BUF + 20, 1200, OUT),
  ),
  measure("GCM CTR, 512 B", 20000, () => crypto.gcmCtr(CTX, NONCE, BUF, 0, 512, OUT)),
  measure("SHA-256, 55 B (one block)", 200000, () => crypto.sha256(BUF, 55, OUT)),
  measure("SHA-256, 1024 B (17 blocks)", 20000, () => crypto.sha256(BUF, 1024, OUT)),
  measure(
    "HMAC-SHA256 (32 B key, 20 B msg)",
    100000,
    () => crypto.hmacSha256(KEY, 32, BUF, 20, OUT),
  ),
  measure(
    "HMAC one block, keyed state given",
    100000,
    () => crypto.hmacSha256Block(SAVED, BLK, OUT),
  ),
];

console.log("| operation | wall ns | CPU ns |\n|---|---:|---:|");
for (const r of rows) console.log(`| ${r.name} | ${r.wallNs.toFixed(0)} | ${r.cpuNs.toFixed(0)} |`);
