/* `m2msim bench auth`: preliminary authentications per second on one core, UMTS AKA with
 * the PIMSI against certificate authentication (cert.h) with each algorithm, and what a
 * device certificate costs to make.
 *
 * One authentication is everything the three parties compute for one attach:
 *  - aka: the HE generates an AV (MILENAGE, the fastest path this CPU has), the USIM checks
 *    AUTN and answers RES, the network compares RES with XRES;
 *  - ecdsa-p256 / ed25519: the device proves (ephemeral key, ECDH, signature), the visited
 *    network's verifier checks chain and proof, the RS checks them again and derives the
 *    session master (cert_ca_accept).
 * Devices and subscribers are pre-made (1024 of each, cycled), every authentication gets
 * its own nonce and ephemeral seed, and nothing is cached between checks: the verifier
 * parses and verifies the certificate each time, as a VO seeing a device once would.
 * "issue" is key generation plus certificate issuance for a new device seed each time:
 * the cost paid once per device, lazily at its first attach. */
#include <glib.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "m2m/aka.h"
#include "m2m/cert.h"

enum {
  N_DEVICES = 1024, /* subscribers / devices cycled through */
};

#define BENCH_PIMSI "001010000000001"
#define BENCH_CONTEXT "vo-bench"
#define LIFETIME INT64_C(315360000) /* 10 years */

static const char summary[] =
    "Runs each workload for --seconds on one core and prints operations per second:\n"
    "  aka: N               AV generation (fastest MILENAGE) + USIM AUTN check + RES compare\n"
    "  ecdsa-p256: N        certificate authentication: device proof + verifier check +\n"
    "  ed25519: N           RS check and session master (cert_ca_accept)\n"
    "  ecdsa-p256 issue: N  device key generation + certificate issuance\n"
    "  ed25519 issue: N";

/* A 32-octet seed naming (purpose, i): distinct for every i, fixed across runs. */
static void
seed_for(uint8_t purpose, uint64_t i, uint8_t seed[CERT_SEED_LEN])
{
  memset(seed, purpose, CERT_SEED_LEN);
  for (int b = 0; b < 8; b++)
    seed[b] = (uint8_t)(i >> (8 * b));
}

static void
counter_fill(void *ctx, uint8_t *out, size_t len)
{
  uint64_t *n = ctx;
  for (size_t i = 0; i < len; i += 8) {
    uint64_t v = (*n)++ * UINT64_C(0x9e3779b97f4a7c15);
    memcpy(out + i, &v, len - i < 8 ? len - i : 8);
  }
}

/* Runs step(ctx, k) for k = 0, 1, ... during `seconds`, reading the clock every `chunk`
 * steps; *rate = steps per second. False as soon as a step fails (none may). */
static bool
timed(bool (*step)(void *ctx, uint64_t k), void *ctx, unsigned chunk, double seconds, double *rate)
{
  uint64_t n = 0;
  bool ok = true;
  double t0 = cli_now_s(), t;
  do {
    for (unsigned i = 0; i < chunk && ok; i++)
      ok = step(ctx, n + i);
    n += chunk;
    t = cli_now_s();
  } while (ok && t - t0 < seconds);
  *rate = (double)n / (t - t0);
  return ok;
}

typedef struct {
  AkaKeys keys;
  uint64_t seq_he;
  AkaUsim usim;
} BenchSub;

typedef struct {
  AkaConfig cfg;
  const MilImpl *mil;
  AkaRandom rng;
  BenchSub subs[N_DEVICES];
} AkaBench;

/* One AKA run for subscriber k mod N_DEVICES. */
static bool
aka_step(void *ctx, uint64_t k)
{
  AkaBench *b = ctx;
  BenchSub *s = &b->subs[k % N_DEVICES];
  AkaVector av;
  AkaUsimAnswer ans;
  return aka_he_generate(&b->cfg, b->mil, &s->keys, &s->seq_he, 0, AKA_AMF_SEPARATION, &b->rng, &av,
                         1) == AKA_OK &&
         aka_usim_check(&b->cfg, b->mil, &s->keys, &s->usim, av.rand, av.autn, &ans) == AKA_OK &&
         CRYPTO_memcmp(ans.res, av.xres, sizeof av.xres) == 0;
}

static bool
run_aka(double seconds, double *rate)
{
  AkaBench *b = g_new0(AkaBench, 1);
  uint64_t state = 1;
  aka_config_init(&b->cfg);
  b->mil = mil_impl_best();
  b->rng = (AkaRandom){counter_fill, &state};
  for (int i = 0; i < N_DEVICES; i++) {
    counter_fill(&state, b->subs[i].keys.k, 16);
    counter_fill(&state, b->subs[i].keys.opc, 16);
    aka_usim_init(&b->subs[i].usim);
  }
  bool ok = timed(aka_step, b, 1024, seconds, rate);
  g_free(b);
  return ok;
}

typedef struct {
  CertCa *ca;
  CertVerifier *v;
  CertDevice *devs[N_DEVICES];
} CertBench;

/* Attach number k: device k mod N_DEVICES proves for nonce k, the verifier and the CA
 * check, both masters agree. */
static bool
cert_step(void *ctx, uint64_t k)
{
  CertBench *b = ctx;
  const CertDevice *dev = b->devs[k % N_DEVICES];
  uint8_t nonce[CERT_NONCE_LEN] = {0}, eph[CERT_SEED_LEN];
  uint8_t m_dev[CERT_MASTER_LEN], m_rs[CERT_MASTER_LEN];
  memcpy(nonce, &k, sizeof k);
  seed_for(3, k, eph);
  CertProof proof;
  size_t len = 0;
  const uint8_t *der = cert_device_der(dev, &len);
  int64_t now = (int64_t)(k % 1000000) + 1;
  const size_t ctx_len = sizeof BENCH_CONTEXT - 1;
  bool ok =
      cert_device_prove(dev, b->ca, nonce, BENCH_CONTEXT, ctx_len, eph, &proof, m_dev) == CERT_OK &&
      cert_verifier_check(b->v, der, len, &proof, nonce, BENCH_CONTEXT, ctx_len, now) == CERT_OK &&
      cert_ca_accept(b->ca, der, len, &proof, nonce, BENCH_CONTEXT, ctx_len, now, m_rs) ==
          CERT_OK &&
      CRYPTO_memcmp(m_dev, m_rs, CERT_MASTER_LEN) == 0;
  OPENSSL_cleanse(m_dev, sizeof m_dev);
  OPENSSL_cleanse(m_rs, sizeof m_rs);
  return ok;
}

static CertCa *
bench_ca(CertAlg alg)
{
  uint8_t seed[CERT_SEED_LEN];
  seed_for(1, 0, seed);
  return cert_ca_new(alg, "m2m-rs.bench", seed, 0, 2 * LIFETIME);
}

static bool
run_cert(CertAlg alg, double seconds, double *rate)
{
  CertBench *b = g_new0(CertBench, 1);
  bool ok = (b->ca = bench_ca(alg)) != NULL;
  for (int i = 0; ok && i < N_DEVICES; i++) {
    uint8_t seed[CERT_SEED_LEN];
    seed_for(2, (uint64_t)i, seed);
    b->devs[i] = cert_device_new(b->ca, seed, (uint64_t)i + 1, BENCH_PIMSI, 0, LIFETIME);
    ok = b->devs[i] != NULL;
  }
  size_t len = 0;
  const uint8_t *bundle = ok ? cert_ca_bundle(b->ca, 0, &len) : NULL;
  if (bundle != NULL)
    b->v = cert_verifier_new(bundle, len, NULL);
  ok = b->v != NULL && timed(cert_step, b, 8, seconds, rate);
  cert_verifier_free(b->v);
  for (int i = 0; i < N_DEVICES; i++)
    cert_device_free(b->devs[i]);
  cert_ca_free(b->ca);
  g_free(b);
  return ok;
}

/* Issuance number k: a new device seed, its key and certificate. */
static bool
issue_step(void *ctx, uint64_t k)
{
  uint8_t seed[CERT_SEED_LEN];
  seed_for(4, k, seed);
  CertDevice *dev = cert_device_new(ctx, seed, k + 1, BENCH_PIMSI, 0, LIFETIME);
  bool ok = dev != NULL;
  cert_device_free(dev);
  return ok;
}

static bool
run_issue(CertAlg alg, double seconds, double *rate)
{
  CertCa *ca = bench_ca(alg);
  bool ok = ca != NULL && timed(issue_step, ca, 16, seconds, rate);
  cert_ca_free(ca);
  return ok;
}

int
bench_auth(int argc, char **argv)
{
  double seconds = 1.0;
  if (!cli_bench_seconds("bench auth", "- authentications per second: AKA, ECDSA P-256, Ed25519",
                         summary, "measuring time per workload, in seconds (default 1)", argc, argv,
                         &seconds))
    return CLI_EXIT_USAGE;

  static const CertAlg algs[] = {CERT_ECDSA_P256, CERT_ED25519};
  double r_aka = 0, r_auth[2] = {0}, r_issue[2] = {0};
  fprintf(stderr, "bench auth: aka (%g s)...\n", seconds);
  bool ok = run_aka(seconds, &r_aka);
  for (int a = 0; ok && a < 2; a++) {
    fprintf(stderr, "bench auth: %s (%g s)...\n", cert_alg_name(algs[a]), seconds);
    ok = run_cert(algs[a], seconds, &r_auth[a]);
  }
  for (int a = 0; ok && a < 2; a++) {
    fprintf(stderr, "bench auth: %s issue (%g s)...\n", cert_alg_name(algs[a]), seconds);
    ok = run_issue(algs[a], seconds, &r_issue[a]);
  }
  if (!ok) {
    fprintf(stderr, "m2msim bench auth: an authentication failed (a bug: please report it)\n");
    return CLI_EXIT_FAIL;
  }
  printf("aka: %.0f\n", r_aka);
  for (int a = 0; a < 2; a++)
    printf("%s: %.0f\n", cert_alg_name(algs[a]), r_auth[a]);
  for (int a = 0; a < 2; a++)
    printf("%s issue: %.0f\n", cert_alg_name(algs[a]), r_issue[a]);
  return CLI_EXIT_OK;
}
