/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* SHA-256 of two equally long messages at once with the x86 SHA
 * extensions. One SHA-256 is a chain of dependent rounds, so a single
 * stream leaves the SHA unit idle most of the time; two independent
 * streams interleaved nearly double the throughput (dm-verity in the
 * kernel hashes data blocks pairwise for the same reason). Used for the
 * verity data blocks, which all have the same length and the same salt.
 *
 * Everything else (other CPUs, other algorithms) goes through OpenSSL. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  uint32_t mid[8];      /* state after the salt's whole 64-byte chunks */
  uint8_t  rest[64];    /* the salt's remaining bytes */
  size_t   rest_len;
  size_t   salt_len;
} ImprintSha256Prefix;

/* TRUE when this CPU has the SHA extensions (and SSE4.1) and the code was
 * built for x86-64. */
bool imprint_sha256_x2_available (void);

/* Prepares hashing of salt || message for many messages. */
void imprint_sha256_prefix_init (ImprintSha256Prefix *p, const uint8_t *salt, size_t salt_len);

/* out_a = SHA-256(salt || a), out_b = SHA-256(salt || b); a and b are
 * @len bytes each. Only when imprint_sha256_x2_available(). */
void imprint_sha256_x2 (const ImprintSha256Prefix *p,
                        const uint8_t *a, const uint8_t *b, size_t len,
                        uint8_t out_a[32], uint8_t out_b[32]);
