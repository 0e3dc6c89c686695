/**
 * The capture boundary's error: libpcap missing or refusing, privileges lacking, a bad BPF
 * filter, an unreadable capture file, an unusable output. Bad packets are never errors: the
 * engine counts and skips them.
 *
 * @example
 * ```ts
 * throw new CaptureError("NO_SUCH_DEVICE", "interface eth9 does not exist (see 'ip link')");
 * ```
 */
import { Ja4Error } from "../lib/errors.ts";

/** An error at the capture boundary (libpcap, capture files, outputs), with a stable code. */
export class CaptureError extends Ja4Error {}
