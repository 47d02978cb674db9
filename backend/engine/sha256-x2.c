/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "sha256-x2.h"

static const uint32_t initial[8] = {
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

#if defined(__x86_64__) && defined(__GNUC__)

#include <cpuid.h>
#include <immintrin.h>

static const uint32_t K[64] __attribute__ ((aligned (16))) = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

bool
imprint_sha256_x2_available (void)
{
  static int cached = -1;
  unsigned a, b, c, d;

  if (cached >= 0)
    return cached;
  cached = 0;
  if (__get_cpuid (1, &a, &b, &c, &d) && (c & bit_SSE4_1) &&
      __get_cpuid_count (7, 0, &a, &b, &c, &d) && (b & bit_SHA))
    cached = 1;
  return cached;
}

#define TARGET __attribute__ ((target ("sha,sse4.1")))

/* The SHA instructions keep the state as ABEF / CDGH. */
TARGET static inline void
load_state (const uint32_t h[8], __m128i *abef, __m128i *cdgh)
{
  __m128i dcba = _mm_shuffle_epi32 (_mm_loadu_si128 ((const __m128i *) h), 0xB1);
  __m128i efgh = _mm_shuffle_epi32 (_mm_loadu_si128 ((const __m128i *) (h + 4)), 0x1B);
  *abef = _mm_alignr_epi8 (dcba, efgh, 8);
  *cdgh = _mm_blend_epi16 (efgh, dcba, 0xF0);
}

TARGET static inline void
store_state (__m128i abef, __m128i cdgh, uint32_t h[8])
{
  __m128i feba = _mm_shuffle_epi32 (abef, 0x1B);
  __m128i dchg = _mm_shuffle_epi32 (cdgh, 0xB1);
  _mm_storeu_si128 ((__m128i *) h, _mm_blend_epi16 (feba, dchg, 0xF0));
  _mm_storeu_si128 ((__m128i *) (h + 4), _mm_alignr_epi8 (dchg, feba, 8));
}

/* @n 64-byte chunks of each stream into its state. The two streams are
 * independent, so their instructions interleave. The message schedule is
 * kept as four vectors of four words each, rolling. */
TARGET static void
compress_x2 (uint32_t ha[8], uint32_t hb[8], const uint8_t *a, const uint8_t *b, size_t n)
{
  const __m128i bswap = _mm_set_epi64x (0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i sa0, sa1, sb0, sb1;

  load_state (ha, &sa0, &sa1);
  load_state (hb, &sb0, &sb1);

  for (; n > 0; n--, a += 64, b += 64)
    {
      __m128i wa[4], wb[4];
      const __m128i save_a0 = sa0, save_a1 = sa1, save_b0 = sb0, save_b1 = sb1;

#pragma GCC unroll 16
      for (int j = 0; j < 16; j++)
        {
          __m128i ma, mb, k = _mm_load_si128 ((const __m128i *) (K + 4 * j));

          if (j < 4)
            {
              wa[j] = _mm_shuffle_epi8 (_mm_loadu_si128 ((const __m128i *) (a + 16 * j)), bswap);
              wb[j] = _mm_shuffle_epi8 (_mm_loadu_si128 ((const __m128i *) (b + 16 * j)), bswap);
            }
          else
            {
              /* W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16], four at a time. */
              __m128i xa = _mm_sha256msg1_epu32 (wa[j & 3], wa[(j + 1) & 3]);
              __m128i xb = _mm_sha256msg1_epu32 (wb[j & 3], wb[(j + 1) & 3]);
              xa = _mm_add_epi32 (xa, _mm_alignr_epi8 (wa[(j + 3) & 3], wa[(j + 2) & 3], 4));
              xb = _mm_add_epi32 (xb, _mm_alignr_epi8 (wb[(j + 3) & 3], wb[(j + 2) & 3], 4));
              wa[j & 3] = _mm_sha256msg2_epu32 (xa, wa[(j + 3) & 3]);
              wb[j & 3] = _mm_sha256msg2_epu32 (xb, wb[(j + 3) & 3]);
            }
          ma = _mm_add_epi32 (wa[j & 3], k);
          mb = _mm_add_epi32 (wb[j & 3], k);
          sa1 = _mm_sha256rnds2_epu32 (sa1, sa0, ma);
          sb1 = _mm_sha256rnds2_epu32 (sb1, sb0, mb);
          sa0 = _mm_sha256rnds2_epu32 (sa0, sa1, _mm_shuffle_epi32 (ma, 0x0E));
          sb0 = _mm_sha256rnds2_epu32 (sb0, sb1, _mm_shuffle_epi32 (mb, 0x0E));
        }
      sa0 = _mm_add_epi32 (sa0, save_a0);
      sa1 = _mm_add_epi32 (sa1, save_a1);
      sb0 = _mm_add_epi32 (sb0, save_b0);
      sb1 = _mm_add_epi32 (sb1, save_b1);
    }

  store_state (sa0, sa1, ha);
  store_state (sb0, sb1, hb);
}

#else

bool
imprint_sha256_x2_available (void)
{
  return false;
}

static void
compress_x2 (uint32_t ha[8], uint32_t hb[8], const uint8_t *a, const uint8_t *b, size_t n)
{
  /* Never called: imprint_sha256_x2_available() is false. */
  (void) ha, (void) hb, (void) a, (void) b, (void) n;
  abort ();
}

#endif

void
imprint_sha256_prefix_init (ImprintSha256Prefix *p, const uint8_t *salt, size_t salt_len)
{
  uint32_t dummy[8];
  size_t whole = salt_len / 64 * 64;

  memset (p, 0, sizeof (*p));
  memcpy (p->mid, initial, sizeof (initial));
  p->salt_len = salt_len;
  if (whole > 0 && imprint_sha256_x2_available ())
    {
      memcpy (dummy, initial, sizeof (initial));
      compress_x2 (p->mid, dummy, salt, salt, whole / 64);
    }
  p->rest_len = salt_len - whole;
  memcpy (p->rest, salt + whole, p->rest_len);
}

static void
put_be32 (uint8_t *out, uint32_t v)
{
  out[0] = (uint8_t) (v >> 24);
  out[1] = (uint8_t) (v >> 16);
  out[2] = (uint8_t) (v >> 8);
  out[3] = (uint8_t) v;
}

/* The last chunk(s) of a message: @n < 64 bytes of @tail, 0x80, zeros and
 * the length in bits; 1 or 2 chunks. */
static size_t
final_chunks (uint8_t out[128], const uint8_t *tail, size_t n, uint64_t total)
{
  size_t chunks = n + 1 + 8 <= 64 ? 1 : 2;
  uint64_t bits = total * 8;

  memset (out, 0, 128);
  memcpy (out, tail, n);
  out[n] = 0x80;
  for (int i = 0; i < 8; i++)
    out[chunks * 64 - 1 - i] = (uint8_t) (bits >> (8 * i));
  return chunks;
}

void
imprint_sha256_x2 (const ImprintSha256Prefix *p, const uint8_t *a, const uint8_t *b, size_t len,
                   uint8_t out_a[32], uint8_t out_b[32])
{
  uint32_t ha[8], hb[8];
  uint8_t fa[128], fb[128];
  size_t off = 0, n, chunks;
  uint64_t total = (uint64_t) p->salt_len + len;

  memcpy (ha, p->mid, sizeof (ha));
  memcpy (hb, p->mid, sizeof (hb));

  /* The salt's rest and the start of the message make one chunk. */
  if (p->rest_len > 0 && p->rest_len + len >= 64)
    {
      off = 64 - p->rest_len;
      memcpy (fa, p->rest, p->rest_len);
      memcpy (fa + p->rest_len, a, off);
      memcpy (fb, p->rest, p->rest_len);
      memcpy (fb + p->rest_len, b, off);
      compress_x2 (ha, hb, fa, fb, 1);
    }
  else if (p->rest_len > 0)
    {
      /* Short message: salt rest and message all go into the final chunks. */
      uint8_t ta[64], tb[64];
      memcpy (ta, p->rest, p->rest_len);
      memcpy (ta + p->rest_len, a, len);
      memcpy (tb, p->rest, p->rest_len);
      memcpy (tb + p->rest_len, b, len);
      chunks = final_chunks (fa, ta, p->rest_len + len, total);
      final_chunks (fb, tb, p->rest_len + len, total);
      compress_x2 (ha, hb, fa, fb, chunks);
      goto out;
    }

  /* The middle straight from the buffers. */
  n = (len - off) / 64;
  if (n > 0)
    compress_x2 (ha, hb, a + off, b + off, n);
  off += n * 64;

  chunks = final_chunks (fa, a + off, len - off, total);
  final_chunks (fb, b + off, len - off, total);
  compress_x2 (ha, hb, fa, fb, chunks);

out:
  for (int i = 0; i < 8; i++)
    {
      put_be32 (out_a + 4 * i, ha[i]);
      put_be32 (out_b + 4 * i, hb[i]);
    }
}
