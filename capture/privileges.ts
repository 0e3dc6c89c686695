/**
 * Can this process capture packets? Root, or CAP_NET_RAW in the effective set (what systemd's
 * AmbientCapabilities gives an unprivileged service user). Used by `ja4 start` to skip the
 * sensor with a reason instead of failing, and by the tests to skip live capture.
 *
 * @example
 * ```ts
 * if (!canCapture()) return { skipped: "needs root or CAP_NET_RAW" };
 * ```
 */

/** Linux capability number of CAP_NET_RAW (linux/capability.h). */
export const CAP_NET_RAW = 13;

/** Whether `/proc/<pid>/status` text shows capability `bit` in CapEff. */
export function hasEffectiveCapability(statusText: string, bit: number): boolean {
  const m = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(statusText);
  if (!m) return false;
  return ((BigInt(`0x${m[1]}`) >> BigInt(bit)) & 1n) === 1n;
}

/** True when running as root or with CAP_NET_RAW effective. */
export function canCapture(): boolean {
  if (Deno.uid() === 0) return true;
  try {
    return hasEffectiveCapability(Deno.readTextFileSync("/proc/self/status"), CAP_NET_RAW);
  } catch {
    // No /proc (not Linux, or sandboxed): libpcap itself will report what is missing.
    return false;
  }
}
