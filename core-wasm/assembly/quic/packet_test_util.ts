/**
 * Test-only QUIC Initial packet builder on node:crypto: an implementation independent of
 * the wasm one (RFC 9001 §5 key schedule, AEAD and header protection), so tests can make
 * any Initial they need — split hellos, shuffled CRYPTO frames, coalesced packets, v2,
 * Retry-style DCID changes — and check the wasm opens exactly what was sealed.
 *
 * @example
 * ```ts
 * const pkt = protectInitial({ dcid, pn: 0, frames: cryptoFrame(0, hello), padTo: 1200 });
 * ```
 */
import { createCipheriv, createHmac } from "node:crypto";

/** QUIC v1 and v2 version numbers. */
export const V1 = 0x00000001;
export const V2 = 0x6b3343cf;

const SALT: Record<number, string> = {
  [V1]: "38762cf7f55934b34d179ae6a4c80cadccbb7f0a",
  [V2]: "0dede3def700a6db819381be6e269dcbf9bd2ed9",
};

function hmac(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const h = createHmac("sha256", key);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

function expandLabel(secret: Uint8Array, label: string, length: number): Uint8Array {
  const full = new TextEncoder().encode(`tls13 ${label}`);
  const info = new Uint8Array([length >> 8, length & 0xff, full.length, ...full, 0]);
  // One HKDF-Expand block suffices: every QUIC Initial output is ≤ 32 bytes.
  return hmac(secret, info, new Uint8Array([1])).slice(0, length);
}

/** Packet protection keys of one direction. */
export interface InitialKeys {
  key: Uint8Array;
  iv: Uint8Array;
  hp: Uint8Array;
}

/** RFC 9001 §5.2 (RFC 9369 §3.3 for v2): the Initial keys of one direction. */
export function initialKeys(version: number, dcid: Uint8Array, server: boolean): InitialKeys {
  const salt = Uint8Array.from(SALT[version].match(/../g)!.map((b) => parseInt(b, 16)));
  const initial = hmac(salt, dcid);
  const secret = expandLabel(initial, server ? "server in" : "client in", 32);
  const p = version === V2 ? "quicv2" : "quic";
  return {
    key: expandLabel(secret, `${p} key`, 16),
    iv: expandLabel(secret, `${p} iv`, 12),
    hp: expandLabel(secret, `${p} hp`, 16),
  };
}

/** RFC 9000 §16 variable-length integer encoding (smallest form). */
export function varint(n: number): Uint8Array {
  if (n < 0x40) return new Uint8Array([n]);
  if (n < 0x4000) return new Uint8Array([0x40 | (n >> 8), n & 0xff]);
  if (n < 0x40000000) {
    return new Uint8Array([0x80 | (n >>> 24), (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
  }
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n) | (3n << 62n));
  return out;
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** A CRYPTO frame (type 0x06) carrying `data` at stream offset `offset`. */
export function cryptoFrame(offset: number, data: Uint8Array): Uint8Array {
  return concat(new Uint8Array([0x06]), varint(offset), varint(data.length), data);
}

/** What to seal into one Initial packet. */
export interface InitialSpec {
  /** Defaults to QUIC v1. */
  version?: number;
  /** Destination Connection ID written in the header. */
  dcid: Uint8Array;
  /** Connection ID the keys come from (the client's first DCID); defaults to `dcid`. */
  keyDcid?: Uint8Array;
  scid?: Uint8Array;
  token?: Uint8Array;
  pn: number;
  /** Packet number length in bytes, 1..4 (default 4). */
  pnLen?: number;
  /** Plaintext frames. */
  frames: Uint8Array;
  /** Sealed by the server (server keys) instead of the client. */
  server?: boolean;
  /** Append PADDING so the packet is at least this long. */
  padTo?: number;
}

/** Builds and protects one long-header Initial packet (RFC 9001 §5.3-5.4). */
export function protectInitial(s: InitialSpec): Uint8Array {
  const version = s.version ?? V1;
  const pnLen = s.pnLen ?? 4;
  const scid = s.scid ?? new Uint8Array();
  const token = s.token ?? new Uint8Array();
  const keys = initialKeys(version, s.keyDcid ?? s.dcid, s.server ?? false);
  const typeBits = version === V2 ? 1 : 0;
  const headFixed = (len: number) =>
    concat(
      new Uint8Array([0xc0 | (typeBits << 4) | (pnLen - 1)]),
      new Uint8Array([
        version >>> 24,
        (version >> 16) & 0xff,
        (version >> 8) & 0xff,
        version & 0xff,
      ]),
      new Uint8Array([s.dcid.length]),
      s.dcid,
      new Uint8Array([scid.length]),
      scid,
      s.server ? new Uint8Array([0]) : concat(varint(token.length), token),
      // Two-byte Length form (as most stacks write it) so the header size is fixed.
      new Uint8Array([0x40 | (len >> 8), len & 0xff]),
    );
  let frames = s.frames;
  const overhead = headFixed(0).length + pnLen + 16;
  if (s.padTo && overhead + frames.length < s.padTo) {
    frames = concat(frames, new Uint8Array(s.padTo - overhead - frames.length));
  }
  // The header-protection sample needs 4 + 16 bytes after the packet number's start.
  if (pnLen + frames.length + 16 < 20) frames = concat(frames, new Uint8Array(4));
  const pnBytes = new Uint8Array(pnLen);
  for (let i = 0; i < pnLen; i++) pnBytes[pnLen - 1 - i] = (s.pn / 2 ** (8 * i)) & 0xff;
  const header = concat(headFixed(pnLen + frames.length + 16), pnBytes);
  const nonce = keys.iv.slice();
  for (let i = 0; i < 8; i++) nonce[11 - i] ^= (s.pn / 2 ** (8 * i)) & 0xff;
  const aead = createCipheriv("aes-128-gcm", keys.key, nonce);
  aead.setAAD(header);
  const sealed = concat(new Uint8Array(aead.update(frames)), new Uint8Array(aead.final()));
  const tag = new Uint8Array(aead.getAuthTag());
  const packet = concat(header, sealed, tag);
  const pnOff = header.length - pnLen;
  const sample = packet.slice(pnOff + 4, pnOff + 20);
  const ecb = createCipheriv("aes-128-ecb", keys.hp, null).setAutoPadding(false);
  const mask = new Uint8Array(ecb.update(sample));
  packet[0] ^= mask[0] & 0x0f;
  for (let i = 0; i < pnLen; i++) packet[pnOff + i] ^= mask[1 + i];
  return packet;
}

/** A synthetic TLS handshake message: type, 3-byte length, deterministic body. */
export function handshakeMessage(type: number, bodyLen: number, seed = 1): Uint8Array {
  const out = new Uint8Array(4 + bodyLen);
  out[0] = type;
  out[1] = (bodyLen >> 16) & 0xff;
  out[2] = (bodyLen >> 8) & 0xff;
  out[3] = bodyLen & 0xff;
  let x = seed >>> 0 || 1;
  for (let i = 4; i < out.length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
