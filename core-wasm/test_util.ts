/**
 * Builders for engine tests: TLS hellos, TCP/UDP/IP/link frames and pcap/pcapng files,
 * written from the RFCs so tests state their input byte by byte.
 */

/** Big-endian u16 bytes. */
export function u16(v: number): number[] {
  return [(v >> 8) & 255, v & 255];
}

function u24(v: number): number[] {
  return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
}

function u32be(v: number): number[] {
  return [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}

function u32le(v: number): number[] {
  return [v & 255, (v >> 8) & 255, (v >> 16) & 255, (v >>> 24) & 255];
}

/** A TLS extension: type and body bytes. */
export interface Ext {
  type: number;
  body: number[];
}

/** `u16 list length` + u16 values. */
export function u16List(values: number[]): number[] {
  return [...u16(values.length * 2), ...values.flatMap(u16)];
}

export const ext = {
  sni: (name: string): Ext => {
    const n = [...new TextEncoder().encode(name)];
    return { type: 0x0000, body: [...u16(n.length + 3), 0, ...u16(n.length), ...n] };
  },
  alpn: (...protos: (string | number[])[]): Ext => {
    const list = protos.flatMap((p) => {
      const b = typeof p === "string" ? [...new TextEncoder().encode(p)] : p;
      return [b.length, ...b];
    });
    return { type: 0x0010, body: [...u16(list.length), ...list] };
  },
  sigAlgs: (...algs: number[]): Ext => ({ type: 0x000d, body: u16List(algs) }),
  groups: (...g: number[]): Ext => ({ type: 0x000a, body: u16List(g) }),
  pointFormats: (...f: number[]): Ext => ({ type: 0x000b, body: [f.length, ...f] }),
  supportedVersions: (...v: number[]): Ext => ({
    type: 0x002b,
    body: [v.length * 2, ...v.flatMap(u16)],
  }),
  /** Server side supported_versions: one selected version. */
  selectedVersion: (v: number): Ext => ({ type: 0x002b, body: u16(v) }),
  /** delegated_credentials (RFC 9345): also a signature algorithm list. */
  delegatedCredentials: (...algs: number[]): Ext => ({ type: 0x0022, body: u16List(algs) }),
  empty: (type: number): Ext => ({ type, body: [] }),
};

/** A ClientHello handshake message (4-byte header included). */
export function clientHello(opts: {
  version?: number;
  ciphers: number[];
  exts?: Ext[] | null;
}): Uint8Array {
  const body = [
    ...u16(opts.version ?? 0x0303),
    ...new Array(32).fill(7),
    0, // session id
    ...u16List(opts.ciphers),
    1,
    0, // compression: null
  ];
  if (opts.exts !== null && opts.exts !== undefined) {
    const e = opts.exts.flatMap((x) => [...u16(x.type), ...u16(x.body.length), ...x.body]);
    body.push(...u16(e.length), ...e);
  }
  return new Uint8Array([1, ...u24(body.length), ...body]);
}

/** A ServerHello handshake message. */
export function serverHello(opts: { version?: number; cipher: number; exts?: Ext[] }): Uint8Array {
  const e = (opts.exts ?? []).flatMap((x) => [...u16(x.type), ...u16(x.body.length), ...x.body]);
  const body = [
    ...u16(opts.version ?? 0x0303),
    ...new Array(32).fill(9),
    0,
    ...u16(opts.cipher),
    0,
    ...u16(e.length),
    ...e,
  ];
  return new Uint8Array([2, ...u24(body.length), ...body]);
}

/** A TLS record of content type 22 around handshake bytes. */
export function tlsRecord(payload: Uint8Array, type = 22): Uint8Array {
  return new Uint8Array([type, 3, 1, ...u16(payload.length), ...payload]);
}

/** TCP segment (no checksum: the engine does not verify it). */
export function tcp(opts: {
  sport: number;
  dport: number;
  seq: number;
  flags: number;
  window?: number;
  options?: number[];
  payload?: Uint8Array | number[];
}): number[] {
  const options = opts.options ?? [];
  const hlen = 20 + options.length;
  return [
    ...u16(opts.sport),
    ...u16(opts.dport),
    ...u32be(opts.seq),
    ...u32be(0),
    (hlen / 4) << 4,
    opts.flags,
    ...u16(opts.window ?? 65535),
    0,
    0,
    0,
    0,
    ...options,
    ...(opts.payload ?? []),
  ];
}

export const SYN = 0x02, ACK = 0x10, PSH_ACK = 0x18, SYN_ACK = 0x12;

/** UDP datagram. */
export function udp(sport: number, dport: number, payload: number[]): number[] {
  return [...u16(sport), ...u16(dport), ...u16(8 + payload.length), 0, 0, ...payload];
}

/** IPv4 packet. */
export function ipv4(
  src: number[],
  dst: number[],
  proto: number,
  payload: number[],
  opts: { ttl?: number; frag?: number; options?: number[] } = {},
): number[] {
  const o = opts.options ?? [];
  const ihl = 20 + o.length;
  return [
    0x40 | (ihl / 4),
    0,
    ...u16(ihl + payload.length),
    0,
    0,
    ...u16(opts.frag ?? 0),
    opts.ttl ?? 64,
    proto,
    0,
    0,
    ...src,
    ...dst,
    ...o,
    ...payload,
  ];
}

/** IPv6 packet, optionally with extension headers given as [nextHeader, bytes] pairs. */
export function ipv6(
  src: number[],
  dst: number[],
  proto: number,
  payload: number[],
  extHeaders: { type: number; bytes: number[] }[] = [],
): number[] {
  let next = proto;
  let chain: number[] = [];
  for (let i = extHeaders.length - 1; i >= 0; i--) {
    const h = extHeaders[i];
    chain = [next, ...h.bytes.slice(1), ...chain];
    next = h.type;
  }
  const body = [...chain, ...payload];
  return [0x60, 0, 0, 0, ...u16(body.length), next, 64, ...src, ...dst, ...body];
}

/** Ethernet II frame with optional VLAN tags (each [tpid, vid]). */
export function ether(type: number, payload: number[], vlans: [number, number][] = []): number[] {
  const tags = vlans.flatMap(([tpid, vid]) => [...u16(tpid), ...u16(vid)]);
  return [...new Array(6).fill(2), ...new Array(6).fill(4), ...tags, ...u16(type), ...payload];
}

/** Classic pcap file (little-endian, µs unless `nanos`), optionally big-endian. */
export function pcap(
  frames: number[][],
  opts: { link?: number; bigEndian?: boolean; nanos?: boolean; tsSec?: number } = {},
): Uint8Array {
  const w = opts.bigEndian ? u32be : u32le;
  const w16 = (v: number) => (opts.bigEndian ? u16(v) : [v & 255, v >> 8]);
  const magic = opts.nanos ? 0xa1b23c4d : 0xa1b2c3d4;
  const out = [
    ...w(magic),
    ...w16(2),
    ...w16(4),
    ...w(0),
    ...w(0),
    ...w(262144),
    ...w(opts.link ?? 1),
  ];
  frames.forEach((f, i) => {
    out.push(
      ...w((opts.tsSec ?? 1700000000) + i),
      ...w(opts.nanos ? 5000 : 5),
      ...w(f.length),
      ...w(f.length),
      ...f,
    );
  });
  return new Uint8Array(out);
}

function pad4(b: number[]): number[] {
  while (b.length % 4) b.push(0);
  return b;
}

function block(type: number, body: number[]): number[] {
  const b = pad4([...body]);
  const len = 12 + b.length;
  return [...u32le(type), ...u32le(len), ...b, ...u32le(len)];
}

/**
 * pcapng file: interfaces (link type, optional if_tsresol), EPB/SPB packets, and
 * optionally a TLS key log in a Decryption Secrets Block.
 */
export function pcapng(
  ifaces: { link: number; tsresol?: number }[],
  packets: { iface: number; frame: number[]; simple?: boolean; ts?: bigint }[],
  keylog?: string,
): Uint8Array {
  const out = block(0x0a0d0d0a, [...u32le(0x1a2b3c4d), 1, 0, 0, 0, ...new Array(8).fill(0xff)]);
  if (keylog !== undefined) {
    // Decryption Secrets Block: secrets type "TLSK", length, NSS key log text.
    const text = [...new TextEncoder().encode(keylog)];
    out.push(...block(0x0a, [...u32le(0x544c534b), ...u32le(text.length), ...text]));
  }
  for (const i of ifaces) {
    const opts = i.tsresol !== undefined ? [9, 0, 1, 0, i.tsresol, 0, 0, 0, 0, 0, 0, 0] : [];
    out.push(...block(1, [...u16le(i.link), 0, 0, ...u32le(0), ...opts]));
  }
  // A block type the reader must skip (Name Resolution Block, empty).
  out.push(...block(4, [0, 0, 0, 0]));
  for (const p of packets) {
    if (p.simple) {
      out.push(...block(3, [...u32le(p.frame.length), ...p.frame]));
    } else {
      const ts = p.ts ?? 1700000000000000n;
      out.push(
        ...block(6, [
          ...u32le(p.iface),
          ...u32le(Number(ts >> 32n)),
          ...u32le(Number(ts & 0xffffffffn)),
          ...u32le(p.frame.length),
          ...u32le(p.frame.length),
          ...p.frame,
        ]),
      );
    }
  }
  return new Uint8Array(out);
}

function u16le(v: number): number[] {
  return [v & 255, (v >> 8) & 255];
}

export const CLIENT = [10, 0, 0, 1];
export const SERVER = [10, 0, 0, 2];

/** Ethernet/IPv4/TCP frame from CLIENT to SERVER (or back with `reverse`). */
export function tcpFrame(
  seg: Parameters<typeof tcp>[0],
  reverse = false,
): number[] {
  const [s, d] = reverse ? [SERVER, CLIENT] : [CLIENT, SERVER];
  return ether(0x0800, ipv4(s, d, 6, tcp(seg)));
}
