/* `m2msim bench crypto`: the world's key derivations and USIM packages per second on one
 * core, each on the engine the world uses (kdf.h KdfCtx, seal.h SealCtx: algorithms
 * fetched once, contexts reused) beside the naive one-shot OpenSSL call (fetch, new, use,
 * free on every call) in the same process, so the ratio does not depend on the machine.
 *
 * The workloads are the world's: a K_RS derivation (KDF of CK || IK with the label, the
 * PIMSI digits and RAND; the key changes every call), and a sealed USIM package made and
 * opened (AES-128-GCM of 42 octets with the PIMSI as AAD; key and nonce change every
 * call). */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "m2m/kdf.h"
#include "m2m/seal.h"

enum { CHUNK = 2048 }; /* operations between clock reads */

static const char summary[] =
    "For --seconds on each path, prints operations per second:\n"
    "  kdf engine: N       K_RS derivations on a KdfCtx (what the world runs)\n"
    "  kdf one-shot: N     the same through kdf_rs_key(NULL, ...): HMAC fetched per call\n"
    "  kdf ratio: R        engine / one-shot\n"
    "  seal engine: N      USIM packages sealed and opened on a SealCtx\n"
    "  seal one-shot: N    the same on a cipher context made and freed per call\n"
    "  seal ratio: R       engine / one-shot";

static Imsi
bench_pimsi(void)
{
  Imsi p;
  if (!imsi_parse("901700000012345", 2, &p, NULL))
    g_error("bench crypto: bad PIMSI");
  return p;
}

/* K_RS derivations per second on c (NULL: one-shot). */
static double
run_kdf(KdfCtx *c, double seconds, uint8_t *sink)
{
  uint8_t ck[16] = {1}, ik[16] = {2}, rand[16] = {3}, out[KDF_OUT_LEN];
  Imsi pimsi = bench_pimsi();
  uint64_t n = 0;
  double t0 = g_get_monotonic_time() / 1e6, t;
  do {
    for (int i = 0; i < CHUNK; i++) {
      ck[0] = (uint8_t)n; /* a new key every derivation */
      ck[1] = (uint8_t)(n >> 8);
      n++;
      if (!kdf_rs_key(c, ck, ik, pimsi, rand, out))
        g_error("bench crypto: kdf failed");
      *sink ^= out[0];
    }
    t = g_get_monotonic_time() / 1e6;
  } while (t - t0 < seconds);
  return (double)n / (t - t0);
}

/* Packages sealed and opened per second on c (NULL: one-shot). */
static double
run_seal(SealCtx *c, double seconds, uint8_t *sink)
{
  uint8_t key[SEAL_KEY_LEN] = {7}, nonce[SEAL_NONCE_LEN] = {9}, pkg[SEAL_PACKAGE_LEN];
  Imsi pimsi = bench_pimsi();
  SealUsim usim = {0}, back;
  if (!imsi_parse("001010000000001", 2, &usim.imsi, NULL))
    g_error("bench crypto: bad IMSI");
  uint64_t n = 0;
  double t0 = g_get_monotonic_time() / 1e6, t;
  do {
    for (int i = 0; i < CHUNK; i++) {
      key[0] = (uint8_t)n;
      nonce[0] = (uint8_t)(n >> 8);
      n++;
      if (seal_pack(c, key, pimsi, &usim, nonce, pkg) != SEAL_OK ||
          seal_open(c, key, pimsi, pkg, sizeof pkg, &back) != SEAL_OK)
        g_error("bench crypto: seal failed");
      *sink ^= back.k[0];
    }
    t = g_get_monotonic_time() / 1e6;
  } while (t - t0 < seconds);
  return (double)n / (t - t0);
}

int
bench_crypto(int argc, char **argv)
{
  double seconds = 1.0; /* per path */
  bool parsed =
      cli_bench_seconds("bench crypto", "- key derivations and USIM packages per second", summary,
                        "seconds each path is measured for (default 1)", argc, argv, &seconds);
  if (!parsed)
    return CLI_EXIT_USAGE;
  g_autoptr(KdfCtx) kdf = kdf_ctx_new();
  g_autoptr(SealCtx) seal = seal_ctx_new();
  if (kdf == NULL || seal == NULL) {
    fprintf(stderr, "m2msim bench crypto: OpenSSL failed to set up HMAC or AES-GCM\n");
    return 1;
  }
  uint8_t sink = 0;
  fprintf(stderr, "bench crypto: %g s per path...\n", seconds);
  double k_engine = run_kdf(kdf, seconds, &sink), k_naive = run_kdf(NULL, seconds, &sink);
  double s_engine = run_seal(seal, seconds, &sink), s_naive = run_seal(NULL, seconds, &sink);
  printf("kdf engine: %.0f\nkdf one-shot: %.0f\nkdf ratio: %.2f\n", k_engine, k_naive,
         k_engine / k_naive);
  printf("seal engine: %.0f\nseal one-shot: %.0f\nseal ratio: %.2f\n", s_engine, s_naive,
         s_engine / s_naive);
  fprintf(stderr, "bench crypto: (checksum %02x)\n", sink); /* keeps the work from being elided */
  return CLI_EXIT_OK;
}
