import { assertEquals } from "../lib/testing.ts";
import {
  linktypeForDlt,
  PCAP_GLOBAL_HEADER_LEN,
  PCAP_RECORD_HEADER_LEN,
  PcapBatch,
  pcapGlobalHeader,
} from "./pcap_stream.ts";

Deno.test("pcapGlobalHeader: little-endian microsecond pcap 2.4 with the link type", () => {
  const h = pcapGlobalHeader(1, 65535);
  assertEquals(h.length, PCAP_GLOBAL_HEADER_LEN);
  assertEquals([...h.subarray(0, 8)], [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0]);
  const v = new DataView(h.buffer);
  assertEquals(v.getUint32(16, true), 65535);
  assertEquals(v.getUint32(20, true), 1);
});

Deno.test("linktypeForDlt: DLT_RAW maps to LINKTYPE_RAW, others unchanged", () => {
  assertEquals(linktypeForDlt(12), 101);
  assertEquals(linktypeForDlt(14), 101);
  assertEquals(linktypeForDlt(1), 1);
  assertEquals(linktypeForDlt(113), 113);
  assertEquals(linktypeForDlt(276), 276);
});

Deno.test("PcapBatch: records are laid out header+bytes and survive growth", () => {
  const batch = new PcapBatch(32); // tiny, so that the second packet forces growth
  batch.packet(10, 20, 3, 60).set([1, 2, 3]);
  batch.packet(11, 999_999, 40).set(new Uint8Array(40).fill(7));
  assertEquals(batch.count, 2);
  const bytes = batch.bytes();
  assertEquals(bytes.length, 2 * PCAP_RECORD_HEADER_LEN + 3 + 40);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assertEquals([v.getUint32(0, true), v.getUint32(4, true)], [10, 20]);
  assertEquals([v.getUint32(8, true), v.getUint32(12, true)], [3, 60]);
  assertEquals([...bytes.subarray(16, 19)], [1, 2, 3]);
  const second = 19;
  assertEquals(v.getUint32(second + 4, true), 999_999);
  assertEquals(v.getUint32(second + 8, true), 40);
  assertEquals(bytes[second + 16 + 39], 7);
  batch.clear();
  assertEquals([batch.length, batch.count], [0, 0]);
  batch.packet(1, 2, 1).set([9]);
  assertEquals(batch.bytes().length, PCAP_RECORD_HEADER_LEN + 1);
});
