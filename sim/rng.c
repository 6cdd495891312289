/* Random streams (Philox2x64-10, counter-based) and the seeded DRBG (AES-128-CTR); see
 * m2m/rng.h for why they are built this way. */
#include "m2m/rng.h"

#include <openssl/evp.h>
#include <string.h>

#define PHILOX_M 0xD2B74407B1CE6E93u /* Random123 PHILOX_M2x64_0 */
#define PHILOX_W 0x9E3779B97F4A7C15u /* Random123 PHILOX_W64_0 (key schedule) */

void
rng_philox2x64_10(const uint64_t ctr[2], uint64_t key, uint64_t out[2])
{
  uint64_t x0 = ctr[0], x1 = ctr[1];
  for (int r = 0; r < 10; r++) {
    unsigned __int128 p = (unsigned __int128)PHILOX_M * x0;
    uint64_t hi = (uint64_t)(p >> 64), lo = (uint64_t)p;
    x0 = hi ^ key ^ x1;
    x1 = lo;
    key += PHILOX_W;
  }
  out[0] = x0;
  out[1] = x1;
}

static inline uint64_t
rng_block0(uint64_t key, uint64_t id, uint64_t counter)
{
  uint64_t ctr[2] = {counter, id}, out[2];
  rng_philox2x64_10(ctr, key, out);
  return out[0];
}

uint64_t
rng_draw(uint64_t seed, uint32_t purpose, uint32_t entity, uint64_t counter)
{
  return rng_block0(seed, (uint64_t)purpose << 32 | entity, counter);
}

void
rng_stream_init(RngStream *s, uint64_t seed, uint32_t purpose, uint32_t entity)
{
  s->key = seed;
  s->id = (uint64_t)purpose << 32 | entity;
  s->counter = 0;
}

uint64_t
rng_next_u64(RngStream *s)
{
  return rng_block0(s->key, s->id, s->counter++);
}

double
rng_uniform(RngStream *s)
{
  return (double)(rng_next_u64(s) >> 11) * 0x1.0p-53;
}

double
rng_uniform_open(RngStream *s)
{
  return ((double)(rng_next_u64(s) >> 11) + 0.5) * 0x1.0p-53;
}

uint64_t
rng_below(RngStream *s, uint64_t n)
{
  g_assert(n > 0);
  unsigned __int128 m = (unsigned __int128)rng_next_u64(s) * n;
  uint64_t lo = (uint64_t)m;
  if (lo < n) {
    uint64_t t = -n % n; /* 2^64 mod n */
    while (lo < t) {
      m = (unsigned __int128)rng_next_u64(s) * n;
      lo = (uint64_t)m;
    }
  }
  return (uint64_t)(m >> 64);
}

/* ---- DRBG ---------------------------------------------------------------------------- */

struct RngDrbg {
  EVP_CIPHER_CTX *ctx;
};

RngDrbg *
rng_drbg_new(uint64_t seed, const char *label)
{
  static const char tag[] = "m2msim-drbg";
  uint8_t seed_be[8], digest[32];
  unsigned int dlen = 0;
  for (int i = 0; i < 8; i++)
    seed_be[i] = (uint8_t)(seed >> (56 - 8 * i));
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  if (md == NULL || !EVP_DigestInit_ex(md, EVP_sha256(), NULL) ||
      !EVP_DigestUpdate(md, tag, sizeof tag) || /* includes the 0x00 separator */
      !EVP_DigestUpdate(md, seed_be, sizeof seed_be) ||
      !EVP_DigestUpdate(md, label ? label : "", label ? strlen(label) : 0) ||
      !EVP_DigestFinal_ex(md, digest, &dlen) || dlen != 32)
    g_error("rng: SHA-256 unavailable in libcrypto");
  EVP_MD_CTX_free(md);
  RngDrbg *d = g_new0(RngDrbg, 1);
  d->ctx = EVP_CIPHER_CTX_new();
  if (d->ctx == NULL || !EVP_EncryptInit_ex(d->ctx, EVP_aes_128_ctr(), NULL, digest, digest + 16))
    g_error("rng: AES-128-CTR unavailable in libcrypto");
  return d;
}

void
rng_drbg_free(RngDrbg *d)
{
  if (d != NULL) {
    EVP_CIPHER_CTX_free(d->ctx);
    g_free(d);
  }
}

void
rng_drbg_fill(RngDrbg *d, uint8_t *out, size_t len)
{
  memset(out, 0, len);
  while (len > 0) { /* EVP takes int lengths */
    int chunk = len > (1u << 30) ? 1 << 30 : (int)len, outl = 0;
    if (!EVP_EncryptUpdate(d->ctx, out, &outl, out, chunk) || outl != chunk)
      g_error("rng: AES-128-CTR failed");
    out += chunk;
    len -= (size_t)chunk;
  }
}

void
rng_drbg_fill_cb(void *drbg, uint8_t *out, size_t len)
{
  rng_drbg_fill(drbg, out, len);
}

RngBytes
rng_drbg_bytes(RngDrbg *d)
{
  return (RngBytes){rng_drbg_fill_cb, d};
}
