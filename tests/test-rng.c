/* Tests of the random streams and the DRBG: Philox known answers (Random123 kat_vectors),
 * reproducibility, independence of streams, uniformity sanity checks, and the DRBG's
 * documented construction and pinned output. */
#include <glib.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "m2m/rng.h"

/* first 16 bytes of rng_drbg_new(1, "rand") */
#define DRBG_PIN "4796b69fe7baaa5ccc42321b547b1847"

/* Random123 1.09 examples/kat_vectors: philox2x64 10, ctr0 ctr1 key -> out0 out1. */
static void
test_philox_kat(void)
{
  static const uint64_t v[][5] = {
      {0, 0, 0, 0xca00a0459843d731u, 0x66c24222c9a845b5u},
      {UINT64_MAX, UINT64_MAX, UINT64_MAX, 0x65b021d60cd8310fu, 0x4d02f3222f86df20u},
      {0x243f6a8885a308d3u, 0x13198a2e03707344u, 0xa4093822299f31d0u, 0x0a5e742c2997341cu,
       0xb0f883d38000de5du},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(v); i++) {
    uint64_t out[2];
    rng_philox2x64_10(v[i], v[i][2], out);
    g_assert_cmphex(out[0], ==, v[i][3]);
    g_assert_cmphex(out[1], ==, v[i][4]);
  }
}

static void
test_reproducible(void)
{
  RngStream a, b, c, d;
  rng_stream_init(&a, 42, 1, 7);
  rng_stream_init(&b, 42, 1, 7);
  rng_stream_init(&c, 43, 1, 7); /* other seed */
  rng_stream_init(&d, 42, 2, 7); /* other purpose */
  int same_c = 0, same_d = 0;
  for (uint64_t i = 0; i < 1000; i++) {
    uint64_t x = rng_next_u64(&a);
    g_assert_cmphex(x, ==, rng_next_u64(&b));
    g_assert_cmphex(x, ==, rng_draw(42, 1, 7, i)); /* the stateless form agrees */
    same_c += x == rng_next_u64(&c);
    same_d += x == rng_next_u64(&d);
  }
  g_assert_cmpint(same_c, ==, 0);
  g_assert_cmpint(same_d, ==, 0);
  g_assert_cmpuint(a.counter, ==, 1000);
}

/* Entity 5's draws are the same whether 10 or 11 entities draw, in any interleaving. */
static void
test_independent_of_population(void)
{
  enum { DRAWS = 200 };
  uint64_t ref[DRAWS];
  for (int pop = 6; pop <= 11; pop += 5) {
    RngStream s[11];
    for (int e = 0; e < pop; e++)
      rng_stream_init(&s[e], 2024, 3, (uint32_t)e);
    GRand *order = g_rand_new_with_seed((guint32)pop);
    int got = 0;
    while (got < DRAWS) {
      int e = g_rand_int_range(order, 0, pop);
      uint64_t x = rng_next_u64(&s[e]);
      if (e == 5) {
        if (pop == 6)
          ref[got] = x;
        else
          g_assert_cmphex(ref[got], ==, x);
        got++;
      }
    }
    g_rand_free(order);
  }
}

/* Neighbouring streams are uncorrelated: |r| < 5 / sqrt(n) (5 standard errors). */
static void
test_streams_uncorrelated(void)
{
  enum { N = 200000 };
  RngStream a, b;
  rng_stream_init(&a, 1, 0, 0);
  rng_stream_init(&b, 1, 0, 1);
  double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
  for (int i = 0; i < N; i++) {
    double x = rng_uniform(&a), y = rng_uniform(&b);
    sa += x, sb += y, saa += x * x, sbb += y * y, sab += x * y;
  }
  double cov = sab / N - (sa / N) * (sb / N);
  double r = cov / sqrt((saa / N - (sa / N) * (sa / N)) * (sbb / N - (sb / N) * (sb / N)));
  g_assert_cmpfloat(fabs(r), <, 5 / sqrt(N));
  /* the mean of U[0,1) is 1/2 with standard error 1/sqrt(12 n) */
  g_assert_cmpfloat(fabs(sa / N - 0.5), <, 5 / sqrt(12.0 * N));
}

/* rng_below(n): every value in range, frequencies within 5 standard errors, and the open
 * uniform never hits 0 or 1. */
static void
test_below_and_open(void)
{
  enum { N = 300000, K = 7 };
  RngStream s;
  rng_stream_init(&s, 99, 4, 4);
  int count[K] = {0};
  for (int i = 0; i < N; i++) {
    uint64_t v = rng_below(&s, K);
    g_assert_cmpuint(v, <, K);
    count[v]++;
  }
  double p = 1.0 / K, se = sqrt(N * p * (1 - p));
  for (int k = 0; k < K; k++)
    g_assert_cmpfloat(fabs(count[k] - N * p), <, 5 * se);
  g_assert_cmpuint(rng_below(&s, 1), ==, 0);
  for (int i = 0; i < 100000; i++) {
    double u = rng_uniform_open(&s);
    g_assert_true(u > 0 && u < 1);
    double w = rng_uniform(&s);
    g_assert_true(w >= 0 && w < 1);
  }
}

/* The DRBG is exactly the documented construction: AES-128-CTR with key and IV from
 * SHA-256("m2msim-drbg" 0x00 seed_be label). */
static void
test_drbg_construction(void)
{
  const uint64_t seed = 0x0123456789abcdefu;
  uint8_t in[64], digest[32], expect[100], got[100];
  size_t n = 0;
  memcpy(in, "m2msim-drbg", 12);
  n = 12;
  for (int i = 0; i < 8; i++)
    in[n++] = (uint8_t)(seed >> (56 - 8 * i));
  memcpy(in + n, "rand", 4);
  n += 4;
  unsigned dlen;
  g_assert_true(EVP_Digest(in, n, digest, &dlen, EVP_sha256(), NULL));
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  g_assert_true(EVP_EncryptInit_ex(c, EVP_aes_128_ctr(), NULL, digest, digest + 16));
  uint8_t zero[100] = {0};
  int outl;
  g_assert_true(EVP_EncryptUpdate(c, expect, &outl, zero, 100));
  EVP_CIPHER_CTX_free(c);

  g_autoptr(RngDrbg) d = rng_drbg_new(seed, "rand");
  RngBytes b = rng_drbg_bytes(d);
  b.fill(b.ctx, got, 37); /* chunking does not matter */
  rng_drbg_fill(d, got + 37, 63);
  g_assert_cmpmem(got, 100, expect, 100);
}

static void
test_drbg_reproducible(void)
{
  uint8_t a[48], b[48], c[48], e[48];
  g_autoptr(RngDrbg) d1 = rng_drbg_new(1, "rand");
  g_autoptr(RngDrbg) d2 = rng_drbg_new(1, "rand");
  g_autoptr(RngDrbg) d3 = rng_drbg_new(2, "rand");
  g_autoptr(RngDrbg) d4 = rng_drbg_new(1, "keys");
  rng_drbg_fill(d1, a, sizeof a);
  rng_drbg_fill(d2, b, sizeof b);
  rng_drbg_fill(d3, c, sizeof c);
  rng_drbg_fill(d4, e, sizeof e);
  g_assert_cmpmem(a, sizeof a, b, sizeof b);
  g_assert_true(memcmp(a, c, sizeof a) != 0);
  g_assert_true(memcmp(a, e, sizeof a) != 0);
  /* pinned: a change here changes every run's RANDs */
  char hex[33];
  for (int i = 0; i < 16; i++)
    snprintf(hex + 2 * i, 3, "%02x", a[i]);
  g_assert_cmpstr(hex, ==, DRBG_PIN);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/rng/philox-kat", test_philox_kat);
  g_test_add_func("/rng/reproducible", test_reproducible);
  g_test_add_func("/rng/independent-of-population", test_independent_of_population);
  g_test_add_func("/rng/streams-uncorrelated", test_streams_uncorrelated);
  g_test_add_func("/rng/below-and-open", test_below_and_open);
  g_test_add_func("/rng/drbg-construction", test_drbg_construction);
  g_test_add_func("/rng/drbg-reproducible", test_drbg_reproducible);
  return g_test_run();
}
