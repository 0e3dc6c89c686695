/**
 * A classic pcap byte stream built in memory: the 24-byte global header once, then 16-byte
 * record headers and packet bytes appended into a reusable batch buffer. Live capture copies
 * each packet here inside the libpcap callback and hands the whole batch to the engine once
 * per dispatch round, so there is no per-packet JS↔WASM call.
 *
 * Format: https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-01.html (little-endian,
 * magic 0xa1b2c3d4, microsecond timestamps, version 2.4).
 *
 * @example
 * ```ts
 * const batch = new PcapBatch();
 * batch.packet(1700000000, 123, 60).set(frameBytes);
 * engine.push(batch.bytes());
 * batch.clear();
 * ```
 */

/** Length of the pcap global header. */
export const PCAP_GLOBAL_HEADER_LEN = 24;
/** Length of a pcap record header. */
export const PCAP_RECORD_HEADER_LEN = 16;
const PCAP_MAGIC_MICROS = 0xa1b2c3d4;

/**
 * libpcap's DLT_* values that differ from the LINKTYPE_* values written in files
 * (https://www.tcpdump.org/linktypes.html); every other DLT is its own LINKTYPE.
 */
const DLT_TO_LINKTYPE: Readonly<Record<number, number>> = {
  12: 101, // DLT_RAW on Linux (OpenBSD value 14 too) → LINKTYPE_RAW
  14: 101,
};

/** The LINKTYPE_* a file must carry for a live handle's DLT_* (what pcap_dump does). */
export function linktypeForDlt(dlt: number): number {
  return DLT_TO_LINKTYPE[dlt] ?? dlt;
}

/** The 24-byte classic pcap global header (little-endian, microseconds). */
export function pcapGlobalHeader(linktype: number, snaplen: number): Uint8Array {
  const out = new Uint8Array(PCAP_GLOBAL_HEADER_LEN);
  const v = new DataView(out.buffer);
  v.setUint32(0, PCAP_MAGIC_MICROS, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setInt32(8, 0, true); // thiszone: timestamps are UTC
  v.setUint32(12, 0, true); // sigfigs
  v.setUint32(16, snaplen >>> 0, true);
  v.setUint32(20, linktype >>> 0, true);
  return out;
}

/**
 * A growable buffer of pcap records. Grows by doubling (amortized O(1) per packet) and keeps
 * its capacity across `clear()` so that steady-state capture allocates nothing per batch.
 */
export class PcapBatch {
  #buf: Uint8Array;
  #view: DataView;
  #len = 0;
  #count = 0;

  constructor(initialBytes = 1 << 20) {
    this.#buf = new Uint8Array(initialBytes);
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Bytes of records written since the last clear. */
  get length(): number {
    return this.#len;
  }

  /** Records written since the last clear. */
  get count(): number {
    return this.#count;
  }

  /**
   * Appends a record header and returns the slot where the caller writes exactly `caplen`
   * packet bytes. The slot is only valid until the next call.
   */
  packet(tsSec: number, tsUsec: number, caplen: number, origLen = caplen): Uint8Array {
    const need = this.#len + PCAP_RECORD_HEADER_LEN + caplen;
    if (need > this.#buf.length) this.#grow(need);
    const v = this.#view;
    const at = this.#len;
    v.setUint32(at, tsSec >>> 0, true);
    v.setUint32(at + 4, tsUsec >>> 0, true);
    v.setUint32(at + 8, caplen >>> 0, true);
    v.setUint32(at + 12, origLen >>> 0, true);
    const start = at + PCAP_RECORD_HEADER_LEN;
    this.#len = start + caplen;
    this.#count++;
    return this.#buf.subarray(start, start + caplen);
  }

  /** The records written so far (a view, valid until the next write or clear). */
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }

  /** Forgets the records, keeping the capacity. */
  clear(): void {
    this.#len = 0;
    this.#count = 0;
  }

  #grow(need: number): void {
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }
}
