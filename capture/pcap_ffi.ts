/**
 * libpcap through Deno FFI (`libpcap.so.0.8`, apt `libpcap0.8`). npm `pcap` and `cap` are NAN
 * addons that Deno cannot load, so the sensor binds the C API directly: create → set options →
 * activate → compile/setfilter → non-blocking dispatch with an `UnsafeCallback` that copies each
 * packet into a {@link PcapBatch} while libpcap still owns the memory.
 *
 * Every failure becomes a {@link CaptureError} with a code and a message that says what to do.
 *
 * @example
 * ```ts
 * const pcap = openLive({ device: "lo", filter: "tcp port 443" });
 * const batch = new PcapBatch();
 * const n = pcap.dispatch(batch, 4096); // never blocks
 * pcap.close();
 * ```
 */
import { CaptureError } from "./errors.ts";
import { linktypeForDlt, type PcapBatch } from "./pcap_stream.ts";

/** Library names tried in order (Debian's package ships the first). */
const LIBPCAP_NAMES = ["libpcap.so.0.8", "libpcap.so.1", "libpcap.so"];
const PCAP_ERRBUF_SIZE = 256;
/** sizeof(struct pcap_pkthdr) on 64-bit Linux: timeval {i64 sec, i64 usec}, u32 caplen, u32 len. */
const PKTHDR_SIZE = 24;
/** sizeof(struct bpf_program) on 64-bit: u32 bf_len (+4 padding), pointer bf_insns. */
const BPF_PROGRAM_SIZE = 16;
/** sizeof(struct pcap_stat): u32 ps_recv, ps_drop, ps_ifdrop. */
const PCAP_STAT_SIZE = 12;
/** PCAP_NETMASK_UNKNOWN: "broadcast" tests in filters then fail, which we never use. */
const PCAP_NETMASK_UNKNOWN = 0xffffffff;

const SYMBOLS = {
  pcap_create: { parameters: ["buffer", "buffer"], result: "pointer" },
  pcap_set_snaplen: { parameters: ["pointer", "i32"], result: "i32" },
  pcap_set_promisc: { parameters: ["pointer", "i32"], result: "i32" },
  pcap_set_timeout: { parameters: ["pointer", "i32"], result: "i32" },
  pcap_set_immediate_mode: { parameters: ["pointer", "i32"], result: "i32" },
  pcap_set_buffer_size: { parameters: ["pointer", "i32"], result: "i32" },
  pcap_activate: { parameters: ["pointer"], result: "i32" },
  pcap_statustostr: { parameters: ["i32"], result: "pointer" },
  pcap_geterr: { parameters: ["pointer"], result: "pointer" },
  pcap_compile: { parameters: ["pointer", "buffer", "buffer", "i32", "u32"], result: "i32" },
  pcap_setfilter: { parameters: ["pointer", "buffer"], result: "i32" },
  pcap_freecode: { parameters: ["buffer"], result: "void" },
  pcap_setnonblock: { parameters: ["pointer", "i32", "buffer"], result: "i32" },
  pcap_dispatch: { parameters: ["pointer", "i32", "function", "pointer"], result: "i32" },
  pcap_stats: { parameters: ["pointer", "buffer"], result: "i32" },
  pcap_datalink: { parameters: ["pointer"], result: "i32" },
  pcap_snapshot: { parameters: ["pointer"], result: "i32" },
  pcap_get_selectable_fd: { parameters: ["pointer"], result: "i32" },
  pcap_inject: { parameters: ["pointer", "buffer", "usize"], result: "i32" },
  pcap_close: { parameters: ["pointer"], result: "void" },
  pcap_lib_version: { parameters: [], result: "pointer" },
} as const satisfies Deno.ForeignLibraryInterface;

type Libpcap = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

let loaded: Libpcap | undefined;

/** Loads libpcap once; a clear CaptureError when it is missing or FFI is not allowed. */
export function loadLibpcap(): Libpcap {
  loaded ??= openLibpcap(LIBPCAP_NAMES);
  return loaded;
}

/** Opens the first library of `names` that loads (uncached; see {@link loadLibpcap}). */
export function openLibpcap(names: readonly string[]): Libpcap {
  const failures: string[] = [];
  for (const name of names) {
    try {
      return Deno.dlopen(name, SYMBOLS).symbols;
    } catch (err) {
      if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
        throw new CaptureError(
          "FFI_DENIED",
          "live capture loads libpcap through FFI: run deno with --allow-ffi (deno task capture does)",
          { cause: err },
        );
      }
      failures.push(`${name}: ${(err as Error).message}`);
    }
  }
  throw new CaptureError(
    "LIBPCAP_MISSING",
    `libpcap is not installed (apt-get install libpcap0.8); tried ${failures.join("; ")}`,
  );
}

/** libpcap's version string, e.g. `libpcap version 1.10.3 (with TPACKET_V3)`. */
export function libpcapVersion(): string {
  const p = loadLibpcap().pcap_lib_version();
  return p ? Deno.UnsafePointerView.getCString(p) : "unknown";
}

function cString(text: string): Uint8Array<ArrayBuffer> {
  const bytes = new TextEncoder().encode(text);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

function errbufText(buf: Uint8Array): string {
  const end = buf.indexOf(0);
  return new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end));
}

/** libpcap's activate/status codes (pcap/pcap.h). */
export const PCAP_STATUS = {
  ERROR: -1,
  BREAK: -2,
  NOT_ACTIVATED: -3,
  ACTIVATED: -4,
  NO_SUCH_DEVICE: -5,
  RFMON_NOTSUP: -6,
  NOT_RFMON: -7,
  PERM_DENIED: -8,
  IFACE_NOT_UP: -9,
  CANTSET_TSTAMP_TYPE: -10,
  PROMISC_PERM_DENIED: -11,
  TSTAMP_PRECISION_NOTSUP: -12,
  WARNING: 1,
  WARNING_PROMISC_NOTSUP: 2,
  WARNING_TSTAMP_TYPE_NOTSUP: 3,
} as const;

/**
 * Turns a pcap_activate result into an actionable message (pure, so it is unit-tested).
 * `detail` is pcap_geterr's text, `statusText` pcap_statustostr's.
 */
export function describeActivateStatus(
  status: number,
  device: string,
  detail: string,
  statusText: string,
): { code: string; message: string } {
  const extra = detail && detail !== statusText ? `: ${detail}` : "";
  switch (status) {
    case PCAP_STATUS.PERM_DENIED:
    case PCAP_STATUS.PROMISC_PERM_DENIED:
      return {
        code: "PERMISSION_DENIED",
        message: `capturing on ${device} needs root or CAP_NET_RAW (plus CAP_NET_ADMIN for ` +
          `promiscuous mode and large buffers); run as root, 'setcap cap_net_raw,cap_net_admin+eip' ` +
          `the deno binary, or use capture/ja4-capture.service${extra}`,
      };
    case PCAP_STATUS.NO_SUCH_DEVICE:
      return {
        code: "NO_SUCH_DEVICE",
        message: `interface '${device}' does not exist (list them with 'ip link'; 'any' captures ` +
          `on all)${extra}`,
      };
    case PCAP_STATUS.IFACE_NOT_UP:
      return {
        code: "INTERFACE_DOWN",
        message: `interface '${device}' is down ('ip link set ${device} up')${extra}`,
      };
    case PCAP_STATUS.RFMON_NOTSUP:
    case PCAP_STATUS.NOT_RFMON:
      return { code: "RFMON", message: `monitor mode problem on ${device}${extra}` };
    case PCAP_STATUS.WARNING_PROMISC_NOTSUP:
      return {
        code: "PROMISC_NOTSUP",
        message: `${device} does not support promiscuous mode; capturing this host's traffic only`,
      };
    case PCAP_STATUS.WARNING_TSTAMP_TYPE_NOTSUP:
      return { code: "TSTAMP_TYPE_NOTSUP", message: `${device}: timestamp type not supported` };
    default:
      return {
        code: status < 0 ? "ACTIVATE_FAILED" : "ACTIVATE_WARNING",
        message: `libpcap on ${device}: ${statusText || `status ${status}`}${extra}`,
      };
  }
}

/** Options of {@link openLive}. */
export interface LiveOptions {
  /** Interface name, or `any`. */
  device: string;
  /** BPF filter (tcpdump syntax); empty captures everything. */
  filter?: string;
  /** Bytes kept per packet. */
  snaplen?: number;
  promisc?: boolean;
  /** Kernel buffer (ring) size in bytes. */
  bufferSize?: number;
  /** Deliver packets as they arrive rather than when a ring block fills (latency over CPU). */
  immediate?: boolean;
  /** Ring block timeout; bounds latency when immediate mode is off. */
  timeoutMs?: number;
}

/** Kernel counters from pcap_stats. */
export interface PcapStats {
  /** Packets that passed the filter (since open). */
  received: number;
  /** Packets the kernel dropped because our buffer was full. */
  dropped: number;
  /** Packets the interface/driver dropped (not supported everywhere). */
  ifDropped: number;
}

/** An activated live capture handle. */
export interface LiveCapture {
  readonly device: string;
  /** LINKTYPE_* of the packets (for the pcap stream's global header). */
  readonly linktype: number;
  readonly snaplen: number;
  /** Non-fatal activate warnings, already as messages. */
  readonly warnings: string[];
  /** Copies up to `max` waiting packets into `batch`; returns how many (0 when none). */
  dispatch(batch: PcapBatch, max: number): number;
  stats(): PcapStats;
  /** Sends one raw frame out of the interface (benchmarks and tests replay hellos with it). */
  inject(frame: Uint8Array<ArrayBuffer>): void;
  close(): void;
}

function pcapError(lib: Libpcap, handle: Deno.PointerValue): string {
  const p = lib.pcap_geterr(handle);
  return p ? Deno.UnsafePointerView.getCString(p) : "unknown libpcap error";
}

function check(lib: Libpcap, handle: Deno.PointerValue, rc: number, what: string): void {
  if (rc !== 0) {
    throw new CaptureError(
      "PCAP_SETUP",
      `libpcap ${what} failed (${rc}): ${pcapError(lib, handle)}`,
    );
  }
}

/**
 * Opens, configures and activates a live capture, installs the BPF filter and makes the handle
 * non-blocking. Throws CaptureError (PERMISSION_DENIED, NO_SUCH_DEVICE, BAD_FILTER, …).
 */
export function openLive(options: LiveOptions): LiveCapture {
  const lib = loadLibpcap();
  const device = options.device;
  const errbuf = new Uint8Array(PCAP_ERRBUF_SIZE);
  const handle = lib.pcap_create(cString(device), errbuf);
  if (!handle) {
    throw new CaptureError("PCAP_CREATE", `pcap_create(${device}) failed: ${errbufText(errbuf)}`);
  }
  let ok = false;
  try {
    check(lib, handle, lib.pcap_set_snaplen(handle, options.snaplen ?? 65535), "set_snaplen");
    check(lib, handle, lib.pcap_set_promisc(handle, options.promisc ? 1 : 0), "set_promisc");
    check(lib, handle, lib.pcap_set_timeout(handle, options.timeoutMs ?? 100), "set_timeout");
    check(
      lib,
      handle,
      lib.pcap_set_immediate_mode(handle, options.immediate ? 1 : 0),
      "set_immediate_mode",
    );
    if (options.bufferSize) {
      check(lib, handle, lib.pcap_set_buffer_size(handle, options.bufferSize), "set_buffer_size");
    }
    const status = lib.pcap_activate(handle);
    const warnings: string[] = [];
    if (status !== 0) {
      const textPtr = lib.pcap_statustostr(status);
      const statusText = textPtr ? Deno.UnsafePointerView.getCString(textPtr) : "";
      const detail = status === PCAP_STATUS.ERROR || status === PCAP_STATUS.PERM_DENIED ||
          status === PCAP_STATUS.NO_SUCH_DEVICE || status === PCAP_STATUS.PROMISC_PERM_DENIED ||
          status === PCAP_STATUS.WARNING
        ? pcapError(lib, handle)
        : "";
      const { code, message } = describeActivateStatus(status, device, detail, statusText);
      if (status < 0) throw new CaptureError(code, message);
      warnings.push(message);
    }
    if (options.filter) {
      const program = new Uint8Array(BPF_PROGRAM_SIZE);
      if (
        lib.pcap_compile(handle, program, cString(options.filter), 1, PCAP_NETMASK_UNKNOWN) !== 0
      ) {
        throw new CaptureError(
          "BAD_FILTER",
          `BPF filter '${options.filter}' does not compile: ${pcapError(lib, handle)}`,
        );
      }
      const rc = lib.pcap_setfilter(handle, program);
      lib.pcap_freecode(program);
      check(lib, handle, rc, "setfilter");
    }
    if (lib.pcap_setnonblock(handle, 1, errbuf) !== 0) {
      throw new CaptureError("PCAP_SETUP", `pcap_setnonblock failed: ${errbufText(errbuf)}`);
    }
    const capture = createLiveCapture(lib, handle, device, warnings);
    ok = true;
    return capture;
  } finally {
    if (!ok) lib.pcap_close(handle);
  }
}

function createLiveCapture(
  lib: Libpcap,
  handle: NonNullable<Deno.PointerValue>,
  device: string,
  warnings: string[],
): LiveCapture {
  const linktype = linktypeForDlt(lib.pcap_datalink(handle));
  const snaplen = lib.pcap_snapshot(handle);
  const hdr = new Uint8Array(PKTHDR_SIZE);
  const hdrView = new DataView(hdr.buffer);
  const statBuf = new Uint8Array(PCAP_STAT_SIZE);
  const statView = new DataView(statBuf.buffer);
  let target: PcapBatch | undefined;
  let closed = false;

  // Runs synchronously inside pcap_dispatch: libpcap's packet memory is only valid here, so the
  // bytes are copied into the batch before returning.
  const callback = new Deno.UnsafeCallback(
    { parameters: ["pointer", "pointer", "pointer"], result: "void" } as const,
    (_user, h, bytes) => {
      if (!h || !bytes || !target) return;
      Deno.UnsafePointerView.copyInto(h, hdr);
      const caplen = hdrView.getUint32(16, true);
      const slot = target.packet(
        hdrView.getUint32(0, true),
        hdrView.getUint32(8, true),
        caplen,
        hdrView.getUint32(20, true),
      );
      if (caplen) Deno.UnsafePointerView.copyInto(bytes, slot);
    },
  );

  return {
    device,
    linktype,
    snaplen,
    warnings,
    dispatch(batch, max) {
      if (closed) return 0;
      target = batch;
      const n = lib.pcap_dispatch(handle, max, callback.pointer, null);
      target = undefined;
      if (n < 0) {
        throw new CaptureError("DISPATCH", `pcap_dispatch on ${device}: ${pcapError(lib, handle)}`);
      }
      return n;
    },
    stats() {
      if (closed || lib.pcap_stats(handle, statBuf) !== 0) {
        return { received: 0, dropped: 0, ifDropped: 0 };
      }
      return {
        received: statView.getUint32(0, true),
        dropped: statView.getUint32(4, true),
        ifDropped: statView.getUint32(8, true),
      };
    },
    inject(frame) {
      if (closed) throw new CaptureError("CLOSED", `capture on ${device} is closed`);
      const n = lib.pcap_inject(handle, frame, BigInt(frame.length));
      if (n < 0) {
        throw new CaptureError("INJECT", `pcap_inject on ${device}: ${pcapError(lib, handle)}`);
      }
    },
    close() {
      if (closed) return;
      closed = true;
      lib.pcap_close(handle);
      callback.close();
    },
  };
}
