import { assert, assertEquals, assertMatch, assertThrows } from "../lib/testing.ts";
import { CaptureError } from "./errors.ts";
import {
  describeActivateStatus,
  libpcapVersion,
  openLibpcap,
  openLive,
  PCAP_STATUS,
} from "./pcap_ffi.ts";
import { PcapBatch } from "./pcap_stream.ts";

const isRoot = Deno.uid() === 0;

Deno.test("describeActivateStatus: permission problems say root or CAP_NET_RAW", () => {
  const { code, message } = describeActivateStatus(
    PCAP_STATUS.PERM_DENIED,
    "eth0",
    "socket: Operation not permitted",
    "permission denied",
  );
  assertEquals(code, "PERMISSION_DENIED");
  assertMatch(message, /root or CAP_NET_RAW/);
  assertMatch(message, /Operation not permitted/);
});

Deno.test("describeActivateStatus: unknown device, interface down, generic error", () => {
  assertEquals(describeActivateStatus(-5, "eth9", "", "no such device").code, "NO_SUCH_DEVICE");
  assertMatch(describeActivateStatus(-9, "eth1", "", "").message, /ip link set eth1 up/);
  const generic = describeActivateStatus(-1, "eth0", "boom", "generic error");
  assertEquals(generic.code, "ACTIVATE_FAILED");
  assertMatch(generic.message, /generic error: boom/);
  assertEquals(describeActivateStatus(2, "eth0", "", "").code, "PROMISC_NOTSUP");
});

Deno.test("openLibpcap: a missing library names the Debian package to install", () => {
  const err = assertThrows(() => openLibpcap(["libpcap-ja4-missing.so.9"]), CaptureError);
  assertEquals(err.code, "LIBPCAP_MISSING");
  assertMatch(err.message, /apt-get install libpcap0\.8/);
  assertMatch(err.message, /libpcap-ja4-missing\.so\.9/);
});

Deno.test("libpcap loads and reports its version", () => {
  assertMatch(libpcapVersion(), /libpcap version/);
});

Deno.test({
  name: "openLive (root): bad device and bad filter are clear CaptureErrors",
  ignore: !isRoot,
  fn() {
    const noDevice = assertThrows(() => openLive({ device: "ja4nosuch0" }), CaptureError);
    assertEquals(noDevice.code, "NO_SUCH_DEVICE");
    const badFilter = assertThrows(
      () => openLive({ device: "lo", filter: "tcp port banana" }),
      CaptureError,
    );
    assertEquals(badFilter.code, "BAD_FILTER");
    assertMatch(badFilter.message, /tcp port banana/);
  },
});

Deno.test({
  name: "openLive (root): captures a loopback SYN into the batch, non-blocking",
  ignore: !isRoot,
  async fn() {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    const cap = openLive({ device: "lo", filter: `tcp port ${port}`, immediate: true });
    try {
      assertEquals(cap.linktype, 1); // Linux loopback is Ethernet-framed
      const batch = new PcapBatch();
      assertEquals(cap.dispatch(batch, 100), 0); // nothing yet, and it must not block
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      const accepted = await listener.accept();
      conn.close();
      accepted.close();
      for (let i = 0; i < 200 && batch.count < 3; i++) {
        cap.dispatch(batch, 100);
        await new Promise((r) => setTimeout(r, 5));
      }
      assert(batch.count >= 3, `expected the handshake packets, got ${batch.count}`);
      const bytes = batch.bytes();
      const v = new DataView(bytes.buffer, bytes.byteOffset);
      const caplen = v.getUint32(8, true);
      // Ethernet(14) + IPv4(20) + TCP(≥20): the first packet is the SYN.
      assert(caplen >= 54);
      const tcpFlags = bytes[16 + 14 + 20 + 13];
      assertEquals(tcpFlags & 0x02, 0x02);
      assert(cap.stats().received >= 3);
    } finally {
      cap.close();
      listener.close();
    }
  },
});
