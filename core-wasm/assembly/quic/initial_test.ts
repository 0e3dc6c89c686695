/**
 * QUIC Initial handling in wasm: RFC 9001 / RFC 9369 Appendix A packets, and packets sealed
 * by an independent node:crypto builder to cover split and shuffled CRYPTO data, coalesced
 * packets, DCID changes, Retry-style re-keying, caps and malformed input.
 */
import { assert, assertEquals } from "../../../lib/testing.ts";
import { compileAs, get, hex, put, randomBytes, seeded, unhex } from "../crypto/wasm_test_util.ts";
import {
  concat,
  cryptoFrame,
  handshakeMessage,
  protectInitial,
  V1,
  V2,
  varint,
} from "./packet_test_util.ts";
import {
  CLIENT_CRYPTO_FRAME,
  RFC_DCID,
  SERVER_PAYLOAD,
  V1_CLIENT_INITIAL,
  V1_SERVER_INITIAL,
  V2_CLIENT_INITIAL,
  V2_SERVER_INITIAL,
} from "./rfc_vectors_test_util.ts";

const wasm = await compileAs(new URL("./test_entry.ts", import.meta.url));
const STATE_BYTES: number = wasm.QUIC_STATE_BYTES.value;
const STATE = wasm.scratch();
const DATAGRAM = STATE + 32768;

// Status codes, as documented in initial.ts.
const PENDING = 0;
const HELLO = 1;
const DONE = 2;
const NOT_INITIAL = -1;
const MALFORMED = -2;
const AUTH_FAILED = -3;
const NO_KEYS = -4;
const TOO_BIG = -5;

function newFlow(): void {
  wasm.quicStateInit(STATE);
}

function feed(datagram: Uint8Array, fromServer = false): number {
  put(wasm, DATAGRAM, datagram);
  return wasm.quicFeed(STATE, DATAGRAM, datagram.length, fromServer ? 1 : 0);
}

function hello(fromServer = false): string {
  const len = wasm.quicHelloLen(STATE, fromServer ? 1 : 0);
  return hex(get(wasm, wasm.quicHelloPtr(STATE, fromServer ? 1 : 0), len));
}

/** The 245-byte RFC CRYPTO frame holds the ClientHello after its 4-byte frame header. */
const RFC_CLIENT_HELLO = CLIENT_CRYPTO_FRAME.slice(8);
/** The server payload: ACK (5 bytes), CRYPTO header (4 bytes), then the ServerHello. */
const RFC_SERVER_HELLO = SERVER_PAYLOAD.slice(18);

Deno.test("state block is small enough for a pool and fits the documented layout", () => {
  // Two hello buffers (8 KiB + 4 KiB) and bitmaps, two directions of keys (GHASH tables).
  assert(
    STATE_BYTES > 8192 + 4096 && STATE_BYTES <= 24 * 1024,
    `QUIC_STATE_BYTES = ${STATE_BYTES}`,
  );
});

Deno.test("RFC 9001 A.2/A.3: v1 client Initial yields the ClientHello, server Initial the ServerHello", () => {
  newFlow();
  assertEquals(wasm.quicInitialVersion(put(wasm, DATAGRAM, unhex(V1_CLIENT_INITIAL)), 1200), V1);
  assertEquals(feed(unhex(V1_CLIENT_INITIAL)), HELLO);
  assertEquals(hello(), RFC_CLIENT_HELLO);
  assertEquals(wasm.quicStateVersion(STATE), V1);
  assertEquals(feed(unhex(V1_SERVER_INITIAL), true), HELLO);
  assertEquals(hello(true), RFC_SERVER_HELLO);
  // Complete directions are not decrypted again.
  assertEquals(feed(unhex(V1_CLIENT_INITIAL)), DONE);
  assertEquals(feed(unhex(V1_SERVER_INITIAL), true), DONE);
});

Deno.test("RFC 9369 A.2/A.3: the same exchange over QUIC v2", () => {
  newFlow();
  assertEquals(wasm.quicInitialVersion(put(wasm, DATAGRAM, unhex(V2_CLIENT_INITIAL)), 1200), V2);
  assertEquals(feed(unhex(V2_CLIENT_INITIAL)), HELLO);
  assertEquals(hello(), RFC_CLIENT_HELLO);
  assertEquals(wasm.quicStateVersion(STATE) >>> 0, V2);
  assertEquals(feed(unhex(V2_SERVER_INITIAL), true), HELLO);
  assertEquals(hello(true), RFC_SERVER_HELLO);
});

Deno.test("the test packet builder reproduces the RFC client Initials byte for byte", () => {
  for (const [version, want] of [[V1, V1_CLIENT_INITIAL], [V2, V2_CLIENT_INITIAL]] as const) {
    const built = protectInitial({
      version,
      dcid: unhex(RFC_DCID),
      pn: 2,
      frames: unhex(CLIENT_CRYPTO_FRAME),
      padTo: 1200,
    });
    assertEquals(hex(built), want, `version ${version.toString(16)}`);
  }
});

Deno.test("a server Initial before any client Initial has no keys", () => {
  newFlow();
  assertEquals(feed(unhex(V1_SERVER_INITIAL), true), NO_KEYS);
  assertEquals(wasm.quicHelloLen(STATE, 1), 0);
});

Deno.test("a tampered RFC packet fails authentication and yields nothing", () => {
  for (const at of [30, 600, 1199]) {
    newFlow();
    const pkt = unhex(V1_CLIENT_INITIAL);
    pkt[at] ^= 0x40;
    assertEquals(feed(pkt), AUTH_FAILED, `byte ${at}`);
    assertEquals(wasm.quicHelloLen(STATE, 0), 0);
  }
});

const DCID = unhex("0123456789abcdef");

/** Splits `msg` into CRYPTO frames of `size` bytes. */
function chunks(msg: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < msg.length; o += size) out.push(cryptoFrame(o, msg.slice(o, o + size)));
  return out;
}

function shuffle<T>(items: T[], next: () => number): T[] {
  const a = items.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = next() % (i + 1);
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

Deno.test("a post-quantum-sized ClientHello over three packets, frames shuffled, later DCIDs differ", () => {
  const next = seeded(0x9e);
  const msg = handshakeMessage(1, 2900, 7);
  const frames = shuffle(chunks(msg, 97), next);
  // Interleave PING and PADDING and an ACK frame as Chrome does.
  const ack = concat(new Uint8Array([0x02]), varint(0), varint(0), varint(0), varint(0));
  const third = Math.ceil(frames.length / 3);
  const packets = [0, 1, 2].map((k) =>
    concat(new Uint8Array([0x01, 0, 0]), ack, ...frames.slice(k * third, (k + 1) * third))
  );
  newFlow();
  const serverId = unhex("aabbccdd");
  const statuses = packets.map((frames, pn) =>
    feed(protectInitial({
      dcid: pn === 0 ? DCID : serverId, // after the server's first flight the DCID changes
      keyDcid: DCID, // ...but the keys stay those of the first DCID
      pn,
      pnLen: 1 + (pn % 4),
      frames,
      padTo: 1200,
    }))
  );
  assertEquals(statuses, [PENDING, PENDING, HELLO]);
  assertEquals(hello(), hex(msg));
});

Deno.test("duplicated and overlapping CRYPTO ranges reassemble to the same hello", () => {
  const msg = handshakeMessage(1, 700, 3);
  const frames = concat(
    cryptoFrame(100, msg.slice(100, 400)),
    cryptoFrame(0, msg.slice(0, 150)),
    cryptoFrame(350, msg.slice(350)),
    cryptoFrame(100, msg.slice(100, 400)),
  );
  newFlow();
  assertEquals(feed(protectInitial({ dcid: DCID, pn: 0, frames, padTo: 1200 })), HELLO);
  assertEquals(hello(), hex(msg));
});

Deno.test("CRYPTO frames after long PADDING runs, and garbage after the complete hello", () => {
  const msg = handshakeMessage(1, 400, 12);
  const frames = concat(
    new Uint8Array(333), // PADDING across several 16-byte blocks, odd length
    cryptoFrame(0, msg.slice(0, 123)),
    new Uint8Array([0x01]), // PING
    new Uint8Array(77),
    cryptoFrame(123, msg.slice(123)),
    new Uint8Array([0x42, 0xff, 0xff]), // not an Initial frame: never reached, the hello is done
  );
  newFlow();
  assertEquals(feed(protectInitial({ dcid: DCID, pn: 0, frames, padTo: 1350 })), HELLO);
  assertEquals(hello(), hex(msg));
});

Deno.test("a hello missing one byte stays pending", () => {
  const msg = handshakeMessage(1, 500, 4);
  const frames = concat(cryptoFrame(0, msg.slice(0, 250)), cryptoFrame(251, msg.slice(251)));
  newFlow();
  assertEquals(feed(protectInitial({ dcid: DCID, pn: 0, frames, padTo: 1200 })), PENDING);
  assertEquals(wasm.quicHelloLen(STATE, 0), 0);
  const fill = cryptoFrame(250, msg.slice(250, 251));
  assertEquals(feed(protectInitial({ dcid: DCID, pn: 1, frames: fill, padTo: 1200 })), HELLO);
  assertEquals(hello(), hex(msg));
});

Deno.test("a reused state block never counts the previous flow's received bytes", () => {
  // Bitmaps are cleared lazily, as far as a hello reaches (in 512-byte steps): flow A sets
  // 4004 bytes of the bitmap; flow B in the same block, with exactly the first 1024 bytes
  // of its 4004-byte hello (where the cleared part ends), and later one byte short, waits.
  const send = (msg: Uint8Array, ranges: number[][], pn0: number) =>
    ranges.map(([a, b], i) =>
      feed(
        protectInitial({
          dcid: DCID,
          pn: pn0 + i,
          frames: cryptoFrame(a, msg.slice(a, b)),
          padTo: 1200,
        }),
      )
    );
  const a = handshakeMessage(1, 4000, 21);
  newFlow();
  const all = [[0, 1000], [1000, 2100], [2100, 3200], [3200, 4004]];
  assertEquals(send(a, all, 0), [PENDING, PENDING, PENDING, HELLO]);
  assertEquals(hello(), hex(a));
  const b = handshakeMessage(1, 4000, 22);
  newFlow();
  assertEquals(send(b, [[0, 1024]], 0), [PENDING]);
  assertEquals(send(b, [[1025, 2100], [2100, 3200], [3200, 4004]], 1), [PENDING, PENDING, PENDING]);
  assertEquals(wasm.quicHelloLen(STATE, 0), 0);
  assertEquals(send(b, [[1024, 1025]], 9), [HELLO]);
  assertEquals(hello(), hex(b));
});

Deno.test("coalesced datagram: Initial, then a Handshake packet, then a short-header packet", () => {
  const msg = handshakeMessage(1, 300, 5);
  const initial = protectInitial({ dcid: DCID, pn: 0, frames: cryptoFrame(0, msg) });
  // A Handshake packet (type 0b10) with an opaque 40-byte payload, then a 1-RTT packet.
  const handshake = concat(
    new Uint8Array([0xe0, 0, 0, 0, 1, 8, ...DCID, 0]),
    varint(40),
    new Uint8Array(40).fill(0x5a),
  );
  const short = new Uint8Array([0x40, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  newFlow();
  assertEquals(feed(concat(handshake, initial, short)), HELLO);
  assertEquals(hello(), hex(msg));
});

Deno.test("ACK with ranges and ECN counts, CONNECTION_CLOSE and a 2-byte PN are parsed past", () => {
  const msg = handshakeMessage(1, 200, 6);
  const ack = concat(
    new Uint8Array([0x03]),
    varint(1000),
    varint(25),
    varint(2), // two extra ranges
    varint(3),
    varint(1),
    varint(2),
    varint(4),
    varint(1),
    varint(7),
    varint(8),
    varint(9), // ECN counts
  );
  const close = concat(
    new Uint8Array([0x1c]),
    varint(0x0a),
    varint(0x06),
    varint(4),
    new Uint8Array(4),
  );
  newFlow();
  const frames = concat(ack, cryptoFrame(0, msg.slice(0, 100)), close);
  assertEquals(
    feed(protectInitial({ dcid: DCID, pn: 300, pnLen: 2, frames, padTo: 1200 })),
    PENDING,
  );
  const rest = concat(ack, cryptoFrame(100, msg.slice(100)));
  assertEquals(feed(protectInitial({ dcid: DCID, pn: 301, pnLen: 1, frames: rest })), HELLO);
  assertEquals(hello(), hex(msg));
});

Deno.test("after Retry the client's new DCID re-keys the flow, the old hello data stays", () => {
  const msg = handshakeMessage(1, 1500, 8);
  const retried = unhex("feedfacecafebeef0011");
  newFlow();
  assertEquals(
    feed(
      protectInitial({
        dcid: DCID,
        pn: 0,
        frames: cryptoFrame(0, msg.slice(0, 1000)),
        padTo: 1200,
      }),
    ),
    PENDING,
  );
  // The client restarts with the server's Retry connection ID: new keys, same CRYPTO stream.
  const frames = cryptoFrame(1000, msg.slice(1000));
  assertEquals(feed(protectInitial({ dcid: retried, pn: 1, frames, padTo: 1200 })), HELLO);
  assertEquals(hello(), hex(msg));
  // Server Initials now use keys of the new DCID.
  const sh = handshakeMessage(2, 90, 9);
  const serverPkt = protectInitial({
    dcid: new Uint8Array(),
    keyDcid: retried,
    pn: 0,
    frames: cryptoFrame(0, sh),
    server: true,
  });
  assertEquals(feed(serverPkt, true), HELLO);
  assertEquals(hello(true), hex(sh));
});

Deno.test("HelloRetryRequest: a re-armed direction reports the second hello further along the stream", () => {
  const ch1 = handshakeMessage(1, 600, 20);
  const hrr = handshakeMessage(2, 80, 21);
  const ch2 = handshakeMessage(1, 1900, 22); // now with a post-quantum key share: 2 packets
  const sh = handshakeMessage(2, 120, 23);
  const serverPkt = (pn: number, frames: Uint8Array) =>
    protectInitial({ dcid: new Uint8Array(), keyDcid: DCID, pn, frames, server: true });
  newFlow();
  assertEquals(
    feed(protectInitial({ dcid: DCID, pn: 0, frames: cryptoFrame(0, ch1), padTo: 1200 })),
    HELLO,
  );
  assertEquals(hello(), hex(ch1));
  assertEquals(feed(serverPkt(0, cryptoFrame(0, hrr)), true), HELLO);
  assertEquals(hello(true), hex(hrr));
  // Without re-arming, later Initials are not even decrypted.
  const more = cryptoFrame(ch1.length, ch2.slice(0, 1000));
  assertEquals(feed(protectInitial({ dcid: DCID, pn: 1, frames: more, padTo: 1200 })), DONE);
  assertEquals(wasm.quicExpectNextHello(STATE, 0), 1);
  assertEquals(wasm.quicExpectNextHello(STATE, 1), 1);
  assertEquals(wasm.quicHelloLen(STATE, 0), 0);
  assertEquals(feed(protectInitial({ dcid: DCID, pn: 1, frames: more, padTo: 1200 })), PENDING);
  const rest = cryptoFrame(ch1.length + 1000, ch2.slice(1000));
  assertEquals(feed(protectInitial({ dcid: DCID, pn: 2, frames: rest, padTo: 1200 })), HELLO);
  assertEquals(hello(), hex(ch2));
  assertEquals(feed(serverPkt(1, cryptoFrame(hrr.length, sh)), true), HELLO);
  assertEquals(hello(true), hex(sh));
});

Deno.test("quicExpectNextHello refuses a direction without a completed hello", () => {
  newFlow();
  assertEquals(wasm.quicExpectNextHello(STATE, 0), 0);
  assertEquals(wasm.quicExpectNextHello(STATE, 1), 0);
});

Deno.test("an Initial under keys of an unrelated DCID does not authenticate", () => {
  newFlow();
  const msg = handshakeMessage(1, 100, 10);
  const pkt = protectInitial({
    dcid: DCID,
    keyDcid: unhex("0000000000000000"),
    pn: 0,
    frames: cryptoFrame(0, msg),
  });
  assertEquals(feed(pkt), AUTH_FAILED);
});

Deno.test("a hello longer than the reassembly cap reports TOO_BIG without writing past it", () => {
  newFlow();
  const huge = handshakeMessage(1, 9000, 11);
  const frames = cryptoFrame(0, huge.slice(0, 1000));
  assertEquals(feed(protectInitial({ dcid: DCID, pn: 0, frames, padTo: 1200 })), TOO_BIG);
  // Data far beyond the cap is ignored, not stored.
  const far = cryptoFrame(1 << 30, new Uint8Array(50));
  assertEquals(feed(protectInitial({ dcid: DCID, pn: 1, frames: far })), TOO_BIG);
  assertEquals(wasm.quicHelloLen(STATE, 0), 0);
});

Deno.test("non-Initial and malformed datagrams are classified, never trapping", () => {
  newFlow();
  assertEquals(feed(new Uint8Array([])), NOT_INITIAL);
  assertEquals(feed(new Uint8Array([0x40, 1, 2, 3])), NOT_INITIAL); // short header
  assertEquals(feed(new Uint8Array([0xc0, 0, 0, 0, 0, 8, 1, 2])), NOT_INITIAL); // version negotiation
  assertEquals(feed(new Uint8Array([0xc0, 0xff, 0, 0, 0x1d, 0, 0, 0])), NOT_INITIAL); // draft-29
  assertEquals(feed(new Uint8Array([0xc0, 0, 0, 0, 1, 21, 0, 0])), MALFORMED); // DCID > 20
  assertEquals(feed(new Uint8Array([0xc0, 0, 0, 0, 1])), MALFORMED); // truncated
  const full = unhex(V1_CLIENT_INITIAL);
  assertEquals(feed(full.slice(0, 600)), MALFORMED); // Length runs past the datagram
  // Retry (v1 type 0b11) carries no CRYPTO data.
  assertEquals(feed(new Uint8Array([0xf0, 0, 0, 0, 1, 0, 0, 1, 2, 3])), NOT_INITIAL);
  assertEquals(wasm.quicInitialVersion(put(wasm, DATAGRAM, full), 6), 0);
});

Deno.test("random garbage and bit-flipped RFC packets never trap", () => {
  const next = seeded(0xf022);
  const valid = [unhex(V1_CLIENT_INITIAL), unhex(V2_CLIENT_INITIAL)];
  for (let i = 0; i < 300; i++) {
    newFlow();
    const base = valid[i & 1].slice();
    const flips = 1 + (next() % 4);
    for (let f = 0; f < flips; f++) base[next() % 64] ^= 1 << (next() % 8);
    const st = feed(base);
    assert(st >= -5 && st <= 2, `status ${st}`);
    const junk = randomBytes(next, next() % 1500);
    if (junk.length > 0) junk[0] |= 0xc0;
    const st2 = feed(junk, (next() & 1) === 1);
    assert(st2 >= -5 && st2 <= 2, `status ${st2}`);
  }
});

Deno.test("quicFeed never writes outside its state block and never modifies the datagram", () => {
  // Layout inside the scratch: guard | state | guard | datagram | guard.
  const GUARD = 1024;
  const state = wasm.scratch() + GUARD;
  const datagram = state + STATE_BYTES + GUARD;
  const mem = () => new Uint8Array(wasm.memory.buffer);
  const fillGuards = () => {
    mem().fill(0xa5, state - GUARD, state);
    mem().fill(0xa5, state + STATE_BYTES, datagram);
  };
  const guardsIntact = () =>
    mem().subarray(state - GUARD, state).every((b) => b === 0xa5) &&
    mem().subarray(state + STATE_BYTES, datagram).every((b) => b === 0xa5);
  const next = seeded(0x6a4d);
  const hello1 = handshakeMessage(1, 3000, 30);
  for (let i = 0; i < 400; i++) {
    fillGuards();
    wasm.quicStateInit(state);
    for (let k = 0; k < 4; k++) {
      let frames = concat(
        cryptoFrame(next() % 9000, hello1.slice(0, 1 + (next() % 900))),
        cryptoFrame(next() % 8200, randomBytes(next, next() % 200)),
      );
      if (next() % 3 === 0) frames = randomBytes(next, 1 + (next() % 1100)); // authenticated garbage
      let pkt = protectInitial({
        dcid: DCID,
        pn: k,
        pnLen: 1 + (next() % 4),
        frames,
        server: k === 3,
      });
      if (next() % 4 === 0) {
        pkt = pkt.slice();
        pkt[next() % pkt.length] ^= 1 << (next() % 8);
      }
      const tail = randomBytes(next, next() % 64);
      const bytes = concat(pkt, tail);
      mem().set(bytes, datagram);
      mem().fill(0xa5, datagram + bytes.length, datagram + bytes.length + GUARD);
      const st = wasm.quicFeed(state, datagram, bytes.length, k === 3 ? 1 : 0);
      assert(st >= -5 && st <= 2, `status ${st}`);
      assertEquals(
        hex(mem().slice(datagram, datagram + bytes.length)),
        hex(bytes),
        "datagram modified",
      );
      assert(
        mem().subarray(datagram + bytes.length, datagram + bytes.length + GUARD).every((b) =>
          b === 0xa5
        ),
      );
    }
    assert(guardsIntact(), `case ${i}: a write landed outside the state block`);
  }
});
