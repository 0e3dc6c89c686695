/*
 * rl_sha256: SHA-256 (FIPS 180-4), self-contained so the module links nothing beyond Apache.
 * Used only for the JA4H hashes.
 */
#ifndef RL_SHA256_H
#define RL_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct rl_sha256 {
    uint32_t h[8];
    uint64_t total;
    unsigned char block[64];
    size_t used;
} rl_sha256;

void rl_sha256_init(rl_sha256 *c);
void rl_sha256_update(rl_sha256 *c, const void *data, size_t n);
void rl_sha256_final(rl_sha256 *c, unsigned char out[32]);
/* Writes the lower-case hex digest of data[0..n) into hex (65 bytes with the NUL). */
void rl_sha256_hex(const void *data, size_t n, char hex[65]);

#endif
