// Session counters, read by the host through `statsPtr()` as a Float64Array.
// f64 so a long-running capture never wraps; the order is the loader's STAT_NAMES.

export const STATS: usize = memory.data(8 * 24, 8);

export const ST_PACKETS: usize = 0;
export const ST_BYTES: usize = 1;
export const ST_MALFORMED_PACKETS: usize = 2; // link/IP/TCP/UDP headers that do not parse
export const ST_MALFORMED_HELLOS: usize = 3; // hellos whose structure does not fit
export const ST_IP_FRAGMENTS: usize = 4; // skipped: non-first fragments
export const ST_UNSUPPORTED_LINK: usize = 5;
export const ST_CLIENT_HELLOS: usize = 6;
export const ST_SERVER_HELLOS: usize = 7;
export const ST_SYNS: usize = 8;
export const ST_HTTP_REQUESTS: usize = 9;
export const ST_QUIC_INITIALS: usize = 10;
export const ST_REASM_DROPPED: usize = 11; // segments beyond the per-flow cap or pool
export const ST_FLOWS_EVICTED: usize = 12;
export const ST_FLOWS_ACTIVE: usize = 13;
export const ST_SLABS_IN_USE: usize = 14;
export const ST_SLABS_PEAK: usize = 15;
export const ST_MEMORY_BYTES: usize = 16;
export const ST_RECORDS: usize = 17;
export const ST_FLOWS_CREATED: usize = 18;
export const ST_QUIC_UNDECRYPTED: usize = 19;
export const ST_TLS_DECRYPT_FAILED: usize = 20; // key-logged TLS records that did not open
export const ST_RECORDS_DROPPED: usize = 21; // records one packet produced beyond the output buffer
export const ST_KEYLOG_SECRETS: usize = 22; // TLS secrets from key logs in the capture (pcapng DSB)
export const ST_COUNT: i32 = 23;

// @ts-ignore: decorator
@inline export function bump(i: usize): void {
  store<f64>(STATS + (i << 3), load<f64>(STATS + (i << 3)) + 1);
}

// @ts-ignore: decorator
@inline export function addStat(i: usize, v: f64): void {
  store<f64>(STATS + (i << 3), load<f64>(STATS + (i << 3)) + v);
}

// @ts-ignore: decorator
@inline export function setStat(i: usize, v: f64): void {
  store<f64>(STATS + (i << 3), v);
}
