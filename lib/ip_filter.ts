/**
 * Allow/deny lists of IPv4/IPv6 addresses and CIDR ranges, for ignoring health checkers,
 * internal scanners or anything an operator chooses. IPv4-mapped IPv6 addresses
 * (`::ffff:192.0.2.1`) are treated as the IPv4 address they carry, on both sides.
 *
 * Decision: an address is allowed when no deny entry matches it and, if the allow list is
 * not empty, an allow entry matches it. Lookups cost one hash probe per distinct prefix
 * length in the lists (at most 33 for IPv4 and 129 for IPv6), whatever the list sizes.
 *
 * @example
 * ```ts
 * const filter = createIpFilter({ allow: [], deny: ["10.0.0.0/8", "2001:db8::/32"] });
 * filter.allows("10.1.2.3"); // false
 * filter.allows("::ffff:10.1.2.3"); // false
 * filter.allows("192.0.2.7"); // true
 * ```
 */
import { ConfigError } from "./errors.ts";

/** An address as 4 big-endian 32-bit words; IPv4 uses only word 3 and `v4 = true`. */
export interface ParsedIp {
  v4: boolean;
  words: [number, number, number, number];
}

function parseIpv4Words(text: string): number | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const p of parts) {
    // No leading zeros: "010" is octal to some tools and decimal to others.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value >>> 0;
}

function parseIpv6Groups(text: string): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const parseSide = (side: string): number[] | undefined => {
    if (side === "") return [];
    const out: number[] = [];
    const groups = side.split(":");
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (i === groups.length - 1 && g.includes(".")) {
        const v4 = parseIpv4Words(g);
        if (v4 === undefined) return undefined;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(parseInt(g, 16));
      else return undefined;
    }
    return out;
  };
  const head = parseSide(halves[0]);
  const tail = halves.length === 2 ? parseSide(halves[1]) : [];
  if (!head || !tail) return undefined;
  if (halves.length === 1) return head.length === 8 ? head : undefined;
  const missing = 8 - head.length - tail.length;
  if (missing < 1) return undefined;
  return [...head, ...new Array(missing).fill(0), ...tail];
}

/**
 * Parses an IPv4 or IPv6 address (zone suffix `%eth0` ignored). IPv4-mapped IPv6 becomes
 * IPv4. Returns undefined for anything that is not an address.
 */
export function parseIp(text: string): ParsedIp | undefined {
  const t = text.trim();
  if (!t.includes(":")) {
    const v4 = parseIpv4Words(t);
    return v4 === undefined ? undefined : { v4: true, words: [0, 0, 0, v4] };
  }
  const groups = parseIpv6Groups(t.replace(/%[^%]+$/, ""));
  if (!groups) return undefined;
  const words: [number, number, number, number] = [0, 0, 0, 0];
  for (let i = 0; i < 4; i++) words[i] = ((groups[2 * i] << 16) | groups[2 * i + 1]) >>> 0;
  if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) {
    return { v4: true, words: [0, 0, 0, words[3]] };
  }
  return { v4: false, words };
}

/** Mask of the top `bits` bits of a 32-bit word (bits in 0..32). */
function wordMask(bits: number): number {
  if (bits <= 0) return 0;
  if (bits >= 32) return 0xffffffff;
  return (0xffffffff << (32 - bits)) >>> 0;
}

function maskedKey(ip: ParsedIp, prefix: number): string | number {
  if (ip.v4) return (ip.words[3] & wordMask(prefix)) >>> 0;
  let key = "";
  for (let i = 0; i < 4; i++) {
    key += ((ip.words[i] & wordMask(prefix - 32 * i)) >>> 0).toString(16) + ":";
  }
  return key;
}

/** A parsed CIDR: the network address and prefix length. */
export interface Cidr {
  ip: ParsedIp;
  prefix: number;
}

/**
 * Parses `ADDR` or `ADDR/LEN`. Throws ConfigError for bad addresses, out-of-range lengths and
 * host bits set (`10.0.0.1/8`: almost always a typo; the message suggests the network).
 */
export function parseCidr(text: string): Cidr {
  const [addr, len, extra] = text.trim().split("/");
  const ip = parseIp(addr ?? "");
  if (!ip || extra !== undefined) {
    throw new ConfigError("BAD_CIDR", `'${text}' is not an IP address or CIDR range`);
  }
  // A mapped-IPv6 CIDR (::ffff:0:0/96 and longer) is expressed on the IPv4 it carries.
  const mapped = ip.v4 && addr.includes(":");
  const max = ip.v4 ? 32 : 128;
  let prefix = max;
  if (len !== undefined) {
    if (!/^[0-9]{1,3}$/.test(len)) {
      throw new ConfigError("BAD_CIDR", `'${text}': prefix length '${len}' is not a number`);
    }
    prefix = Number(len) - (mapped ? 96 : 0);
    if (prefix < 0 || prefix > max) {
      throw new ConfigError(
        "BAD_CIDR",
        `'${text}': prefix length ${len} is out of range (0–${mapped ? 128 : max}${
          mapped ? ", at least 96 for a mapped IPv4 range" : ""
        })`,
      );
    }
  }
  const key = maskedKey(ip, prefix);
  if (key !== maskedKey(ip, max)) {
    throw new ConfigError(
      "BAD_CIDR",
      `'${text}' has host bits set; did you mean ${formatNetwork(ip, prefix)}/${len}?`,
    );
  }
  return { ip, prefix };
}

function formatNetwork(ip: ParsedIp, prefix: number): string {
  if (ip.v4) {
    const w = (ip.words[3] & wordMask(prefix)) >>> 0;
    return [w >>> 24, (w >>> 16) & 255, (w >>> 8) & 255, w & 255].join(".");
  }
  const groups: string[] = [];
  for (let i = 0; i < 4; i++) {
    const w = (ip.words[i] & wordMask(prefix - 32 * i)) >>> 0;
    groups.push((w >>> 16).toString(16), (w & 0xffff).toString(16));
  }
  return groups.join(":");
}

/** A set of CIDRs with lookups by prefix length. */
class CidrSet {
  readonly #v4 = new Map<number, Set<number>>();
  readonly #v6 = new Map<number, Set<string>>();
  size = 0;

  add(c: Cidr): void {
    const key = maskedKey(c.ip, c.prefix);
    if (c.ip.v4) {
      const set = this.#v4.get(c.prefix) ?? new Set();
      set.add(key as number);
      this.#v4.set(c.prefix, set);
    } else {
      const set = this.#v6.get(c.prefix) ?? new Set();
      set.add(key as string);
      this.#v6.set(c.prefix, set);
    }
    this.size++;
  }

  has(ip: ParsedIp): boolean {
    if (ip.v4) {
      for (const [prefix, set] of this.#v4) {
        if (set.has(maskedKey(ip, prefix) as number)) return true;
      }
      return false;
    }
    for (const [prefix, set] of this.#v6) {
      if (set.has(maskedKey(ip, prefix) as string)) return true;
    }
    return false;
  }
}

export interface IpFilter {
  /** True when traffic from/to `ip` should be kept. Unparsable text is treated as unmatched. */
  allows(ip: string): boolean;
  /** Lists sizes, for logs. */
  readonly allowCount: number;
  readonly denyCount: number;
}

/**
 * Builds a filter; every entry is validated, and the first bad one is reported with its
 * list name and position so that the operator can find it.
 */
export function createIpFilter(
  lists: { allow?: readonly string[]; deny?: readonly string[] },
): IpFilter {
  const build = (name: string, entries: readonly string[]) => {
    const set = new CidrSet();
    entries.forEach((entry, i) => {
      try {
        set.add(parseCidr(entry));
      } catch (err) {
        throw new ConfigError(
          "BAD_CIDR",
          `${name} list entry ${i + 1}: ${(err as Error).message}`,
          { cause: err },
        );
      }
    });
    return set;
  };
  const allow = build("allow", lists.allow ?? []);
  const deny = build("deny", lists.deny ?? []);
  return {
    allowCount: allow.size,
    denyCount: deny.size,
    allows(text: string): boolean {
      const ip = parseIp(text);
      if (!ip) return allow.size === 0;
      if (deny.size && deny.has(ip)) return false;
      return allow.size === 0 || allow.has(ip);
    },
  };
}
