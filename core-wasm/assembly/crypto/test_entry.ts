// Test-only entry: re-exports the crypto functions so crypto_test.ts can compare them
// with node:crypto. Not part of the engine build (core-wasm/assembly/index.ts is).

export { sha256 } from "./sha256";
export { md5 } from "./md5";
export { md5Cached, memoHits, memoMisses, sha256Cached } from "./memo";
export {
  hmacSha256, hmacSha256Block, hmacSha256Block4, hmacSha256Key32, hmacSha256Key32x2,
} from "./hmac";
export { hkdfExtract, hkdfExpand, hkdfExpandLabel, hkdfExpandLabelBlock } from "./hkdf";
export { sha256CompressAt, sha256LastBlock } from "./sha256";
export { sha256Compress4 } from "./sha256x4";

const SCRATCH: usize = memory.data(1 << 17);

/** Start of a 128 KiB scratch region the test copies inputs into. */
export function scratch(): usize {
  return SCRATCH;
}
export { aes128EncryptBlock, aes128ExpandKey } from "./aes";
export { gcmCtr, gcmDecrypt, gcmInit, gcmVerify, GCM_CTX_BYTES } from "./gcm";
