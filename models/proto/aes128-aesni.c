/* AES-128 blocks under an expanded key on AES-NI (see aes128.h). Built with -maes
 * -msse4.1 like milenage-aesni.c; called only after aes128_ni_available(). */
#include "aes128.h"

#include <glib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__AES__) && defined(__SSE4_1__)

#include "aesni-impl.h"

bool
aes128_ni_available(void)
{
  __builtin_cpu_init();
  return __builtin_cpu_supports("aes") && __builtin_cpu_supports("sse4.1");
}

void
aes128_ni_set_key(Aes128Key *key, const uint8_t k[16])
{
  __m128i rk[11], unused = _mm_setzero_si128();
  EXPAND_AND_ENCRYPT(rk, load128(k), unused);
  (void)unused;
  for (int r = 0; r < 11; r++)
    store128(key->rk[r], rk[r]);
  explicit_bzero(rk, sizeof rk); /* the caller wipes *key; no copy stays on the stack */
}

void
aes128_ni_block(const unsigned char in[16], unsigned char out[16], const void *key)
{
  const Aes128Key *k = key;
  __m128i b = _mm_xor_si128(load128(in), load128(k->rk[0]));
  for (int r = 1; r < 10; r++)
    b = _mm_aesenc_si128(b, load128(k->rk[r]));
  store128(out, _mm_aesenclast_si128(b, load128(k->rk[10])));
}

#else

bool
aes128_ni_available(void)
{
  return false;
}

void
aes128_ni_set_key(Aes128Key *key, const uint8_t k[16])
{
  (void)key, (void)k;
  g_error("aes128_ni_set_key: no AES-NI on this build");
}

void
aes128_ni_block(const unsigned char in[16], unsigned char out[16], const void *key)
{
  (void)in, (void)out, (void)key;
  g_error("aes128_ni_block: no AES-NI on this build");
}

#endif
