/* Private to the protocol core's AES-NI files (built with -maes -msse4.1, run only after
 * a cpuid probe): the AES-128 key schedule step and the expand-while-encrypting macro
 * MILENAGE and the sealed package share. */
#pragma once

#if defined(__x86_64__) && defined(__AES__) && defined(__SSE4_1__)

#include <immintrin.h>
#include <stdint.h>

static inline __m128i
load128(const uint8_t *p)
{
  return _mm_loadu_si128((const __m128i *)(const void *)p);
}

static inline void
store128(uint8_t *p, __m128i v)
{
  _mm_storeu_si128((__m128i *)(void *)p, v);
}

/* One step of the AES-128 key schedule (FIPS 197 §5.2): word j of the next round key is
 * w0 ^ ... ^ wj of this one, xor SubWord(RotWord(w3)) ^ Rcon from AESKEYGENASSIST
 * (broadcast by the shuffle). The prefix xor is k ^ k<<32 ^ k<<64 ^ k<<96, computed as a
 * tree (two xor levels) rather than the usual chain of three shift-xor pairs: the key
 * schedule is the serial part of a per-subscriber evaluation, and this shortens it
 * (measured: ~45 vs ~65 ns per expansion on a dependent chain). */
static inline __m128i
expand_step(__m128i key, __m128i assist)
{
  assist = _mm_shuffle_epi32(assist, 0xff);
  __m128i lo = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  __m128i hi = _mm_xor_si128(_mm_slli_si128(key, 8), _mm_slli_si128(key, 12));
  return _mm_xor_si128(_mm_xor_si128(lo, hi), assist);
}

#define EXPAND(prev, rcon) expand_step((prev), _mm_aeskeygenassist_si128((prev), (rcon)))

/* Expands K into rk[0..10] while encrypting *block under it. */
#define EXPAND_AND_ENCRYPT(rk, k, block)                                                           \
  do {                                                                                             \
    (rk)[0] = (k);                                                                                 \
    (block) = _mm_xor_si128((block), (rk)[0]);                                                     \
    (rk)[1] = EXPAND((rk)[0], 0x01);                                                               \
    (block) = _mm_aesenc_si128((block), (rk)[1]);                                                  \
    (rk)[2] = EXPAND((rk)[1], 0x02);                                                               \
    (block) = _mm_aesenc_si128((block), (rk)[2]);                                                  \
    (rk)[3] = EXPAND((rk)[2], 0x04);                                                               \
    (block) = _mm_aesenc_si128((block), (rk)[3]);                                                  \
    (rk)[4] = EXPAND((rk)[3], 0x08);                                                               \
    (block) = _mm_aesenc_si128((block), (rk)[4]);                                                  \
    (rk)[5] = EXPAND((rk)[4], 0x10);                                                               \
    (block) = _mm_aesenc_si128((block), (rk)[5]);                                                  \
    (rk)[6] = EXPAND((rk)[5], 0x20);                                                               \
    (block) = _mm_aesenc_si128((block), (rk)[6]);                                                  \
    (rk)[7] = EXPAND((rk)[6], 0x40);                                                               \
    (block) = _mm_aesenc_si128((block), (rk)[7]);                                                  \
    (rk)[8] = EXPAND((rk)[7], 0x80);                                                               \
    (block) = _mm_aesenc_si128((block), (rk)[8]);                                                  \
    (rk)[9] = EXPAND((rk)[8], 0x1b);                                                               \
    (block) = _mm_aesenc_si128((block), (rk)[9]);                                                  \
    (rk)[10] = EXPAND((rk)[9], 0x36);                                                              \
    (block) = _mm_aesenclast_si128((block), (rk)[10]);                                             \
  } while (0)

#endif
