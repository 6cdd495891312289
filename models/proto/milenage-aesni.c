/* MILENAGE (3GPP TS 35.206 §4.1) on AES-NI: the fast path of an authentication centre.
 *
 * K changes on every call (a stream of different subscribers), so each call expands the
 * AES-128 key schedule itself with AESKEYGENASSIST, encrypting TEMP = E_K(RAND xor OPc)
 * round by round as the round keys appear, then runs the five dependent blocks
 * OUT1..OUT5 side by side so their AESENC instructions overlap in the pipeline (they
 * depend only on TEMP, not on each other). Six AES blocks and one key expansion per
 * call; no memory is touched except the arguments.
 *
 * This file is compiled with -maes -msse4.1 (models/proto/meson.build) and its code
 * runs only after mil_aesni_probe_() has seen both features in cpuid, so the rest of the
 * binary still runs on a CPU without them. On other architectures it compiles to a probe
 * that answers NULL. */
#include "milenage-impl.h"

#if defined(__x86_64__) && defined(__AES__) && defined(__SSE4_1__)

#include "aesni-impl.h"

static void
aesni_aes128(const uint8_t k[MIL_K_LEN], const uint8_t in[16], uint8_t out[16])
{
  __m128i rk[11];
  __m128i b = load128(in);
  EXPAND_AND_ENCRYPT(rk, load128(k), b);
  store128(out, b);
}

/* rot(x, r) of TS 35.206 for r a multiple of 32: dword j of the result is dword
 * (j + r/32) mod 4 of x (octet 0 of the string is the lowest lane). */
#define ROT32 _MM_SHUFFLE(0, 3, 2, 1)
#define ROT64 _MM_SHUFFLE(1, 0, 3, 2)
#define ROT96 _MM_SHUFFLE(2, 1, 0, 3)
/* c_i: zero except the last octet (TS 35.206 §4.1). */
#define CONST_LAST(c) _mm_set_epi32((int)((uint32_t)(c) << 24), 0, 0, 0)

static void
aesni_compute(const uint8_t k[MIL_K_LEN], const uint8_t opc[MIL_K_LEN],
              const uint8_t rand[MIL_K_LEN], const uint8_t sqn[MIL_SQN_LEN],
              const uint8_t amf[MIL_AMF_LEN], MilOut *out)
{
  __m128i rk[11];
  const __m128i op = load128(opc);
  __m128i temp = _mm_xor_si128(load128(rand), op);
  EXPAND_AND_ENCRYPT(rk, load128(k), temp);

  /* IN1 = SQN || AMF || SQN || AMF */
  uint8_t in1[16];
  memcpy(in1, sqn, 6);
  memcpy(in1 + 6, amf, 2);
  memcpy(in1 + 8, in1, 8);

  const __m128i tp = _mm_xor_si128(temp, op);
  /* Whitening with round key 0 folded in. */
  __m128i b1 = _mm_xor_si128(
      _mm_xor_si128(_mm_shuffle_epi32(_mm_xor_si128(load128(in1), op), ROT64), temp), rk[0]);
  __m128i b2 = _mm_xor_si128(_mm_xor_si128(tp, CONST_LAST(1)), rk[0]);
  __m128i b3 = _mm_xor_si128(_mm_xor_si128(_mm_shuffle_epi32(tp, ROT32), CONST_LAST(2)), rk[0]);
  __m128i b4 = _mm_xor_si128(_mm_xor_si128(_mm_shuffle_epi32(tp, ROT64), CONST_LAST(4)), rk[0]);
  __m128i b5 = _mm_xor_si128(_mm_xor_si128(_mm_shuffle_epi32(tp, ROT96), CONST_LAST(8)), rk[0]);
  for (int r = 1; r < 10; r++) {
    b1 = _mm_aesenc_si128(b1, rk[r]);
    b2 = _mm_aesenc_si128(b2, rk[r]);
    b3 = _mm_aesenc_si128(b3, rk[r]);
    b4 = _mm_aesenc_si128(b4, rk[r]);
    b5 = _mm_aesenc_si128(b5, rk[r]);
  }
  /* AESENCLAST's final xor with rk[10] ^ OPc gives OUT_i = E_K(...) xor OPc directly. */
  const __m128i last = _mm_xor_si128(rk[10], op);
  uint8_t blk[5][16];
  store128(blk[0], _mm_aesenclast_si128(b1, last));
  store128(blk[1], _mm_aesenclast_si128(b2, last));
  store128(blk[2], _mm_aesenclast_si128(b3, last));
  store128(blk[3], _mm_aesenclast_si128(b4, last));
  store128(blk[4], _mm_aesenclast_si128(b5, last));
  mil_out_from_blocks_(blk[0], blk[1], blk[2], blk[3], blk[4], out);
}

static const MilImpl aesni_impl = {
    .name = "aesni",
    .aes128 = aesni_aes128,
    .compute = aesni_compute,
};

const MilImpl *
mil_aesni_probe_(void)
{
  /* Reads libgcc's cpuid cache, filled before main(); no state of our own. */
  __builtin_cpu_init();
  if (__builtin_cpu_supports("aes") && __builtin_cpu_supports("sse4.1"))
    return &aesni_impl;
  return NULL;
}

#else

const MilImpl *
mil_aesni_probe_(void)
{
  return NULL;
}

#endif
