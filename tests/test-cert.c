/* Certificate authentication (cert.h), for both algorithms: a good device passes the
 * verifier and the CA and both ends derive the same master; every refusal happens for its
 * own reason (expired, not yet valid, revoked, wrong key, another CA with the same name,
 * replayed proof, tampered bytes, malformed bundles); keys and masters are deterministic
 * from seeds; and the openssl command line, as an independent X.509 implementation, reads
 * the certificates and reaches the same verdicts. Ends with `m2msim bench auth`. */
#include <glib.h>
#include <glib/gstdio.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <string.h>
#include <sys/wait.h>

#include "m2m/cert.h"
#include "testutil.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CertCa, cert_ca_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CertDevice, cert_device_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CertVerifier, cert_verifier_free)

#define YEAR INT64_C(31536000)
#define CA_NAME "m2m-rs.example.org"
#define PIMSI "001010000000001"
#define VO "vo-1"

static void
seed_of(uint8_t tag, uint8_t seed[CERT_SEED_LEN])
{
  for (int i = 0; i < CERT_SEED_LEN; i++)
    seed[i] = (uint8_t)(tag * 31 + i);
}

static CertCa *
ca_new(CertAlg alg, const char *name, uint8_t tag)
{
  uint8_t seed[CERT_SEED_LEN];
  seed_of(tag, seed);
  CertCa *ca = cert_ca_new(alg, name, seed, 0, 20 * YEAR);
  g_assert_nonnull(ca);
  g_assert_cmpint(cert_ca_alg(ca), ==, alg);
  return ca;
}

/* A device of `ca` valid from not_before for lifetime seconds. */
static CertDevice *
dev_new(CertCa *ca, uint8_t tag, uint64_t serial, int64_t not_before, int64_t lifetime)
{
  uint8_t seed[CERT_SEED_LEN];
  seed_of(tag, seed);
  CertDevice *dev = cert_device_new(ca, seed, serial, PIMSI, not_before, lifetime);
  g_assert_nonnull(dev);
  return dev;
}

/* The length of the root certificate at the start of a bundle (format: cert.c). */
static size_t
bundle_root_len(const uint8_t *bundle)
{
  return (size_t)bundle[0] << 24 | (size_t)bundle[1] << 16 | (size_t)bundle[2] << 8 | bundle[3];
}

/* A copy of the CA's bundle at `now`. */
static uint8_t *
bundle_copy(CertCa *ca, int64_t now, size_t *len)
{
  const uint8_t *bundle = cert_ca_bundle(ca, now, len);
  g_assert_nonnull(bundle);
  return g_memdup2(bundle, *len);
}

static CertVerifier *
verifier_at(CertCa *ca, int64_t now)
{
  size_t len = 0;
  const uint8_t *bundle = cert_ca_bundle(ca, now, &len);
  g_assert_nonnull(bundle);
  CertStatus status = CERT_CRYPTO_ERROR;
  CertVerifier *v = cert_verifier_new(bundle, len, &status);
  g_assert_cmpint(status, ==, CERT_OK);
  g_assert_nonnull(v);
  return v;
}

/* One attach: a proof for (nonce tag, context), checked by the verifier and by the CA at
 * `now`. Asserts both give `want`, and on CERT_OK that the masters agree. */
typedef struct {
  uint8_t nonce[CERT_NONCE_LEN];
  const char *context;
  uint8_t eph_seed[CERT_SEED_LEN];
  CertProof proof;
  uint8_t master[CERT_MASTER_LEN];
} Attach;

static void
attach_prove(Attach *a, const CertDevice *dev, const CertCa *ca, uint8_t nonce_tag)
{
  memset(a, 0, sizeof *a);
  memset(a->nonce, nonce_tag, CERT_NONCE_LEN);
  a->context = VO;
  seed_of((uint8_t)(nonce_tag + 100), a->eph_seed);
  g_assert_cmpint(cert_device_prove(dev, ca, a->nonce, a->context, strlen(a->context), a->eph_seed,
                                    &a->proof, a->master),
                  ==, CERT_OK);
}

static CertStatus
check(CertVerifier *v, const CertDevice *dev, const Attach *a, int64_t now)
{
  size_t len = 0;
  const uint8_t *der = cert_device_der(dev, &len);
  return cert_verifier_check(v, der, len, &a->proof, a->nonce, a->context, strlen(a->context), now);
}

static const uint8_t zero_master[CERT_MASTER_LEN];

static CertStatus
accept(CertCa *ca, const CertDevice *dev, const Attach *a, int64_t now)
{
  size_t len = 0;
  const uint8_t *der = cert_device_der(dev, &len);
  uint8_t master[CERT_MASTER_LEN];
  memset(master, 0xA5, sizeof master);
  CertStatus st = cert_ca_accept(ca, der, len, &a->proof, a->nonce, a->context, strlen(a->context),
                                 now, master);
  if (st == CERT_OK)
    g_assert_cmpmem(master, sizeof master, a->master, sizeof a->master);
  else
    g_assert_cmpmem(master, sizeof master, zero_master, sizeof zero_master);
  return st;
}

static void
expect_both(CertVerifier *v, CertCa *ca, const CertDevice *dev, const Attach *a, int64_t now,
            CertStatus want)
{
  CertStatus got_v = check(v, dev, a, now), got_ca = accept(ca, dev, a, now);
  if (got_v != want || got_ca != want)
    g_error("at %" G_GINT64_FORMAT ": verifier %s, CA %s, want %s", now, cert_status_name(got_v),
            cert_status_name(got_ca), cert_status_name(want));
}

/* What most tests start from: a CA, one of its devices, a verifier from the CA's first
 * bundle, and the device's proof for nonce tag 1. */
typedef struct {
  CertAlg alg;
  CertCa *ca;      /* CA_NAME, seed tag 1, valid 20 years from time 0 */
  CertDevice *dev; /* seed tag 2, serial 1001, valid 10 years from time 0 */
  uint64_t serial;
  int64_t lifetime;
  CertVerifier *v; /* from the bundle of time 0 */
  Attach a;        /* dev's proof for nonce tag 1, context VO */
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
  f->alg = GPOINTER_TO_INT(data);
  f->serial = 1001;
  f->lifetime = 10 * YEAR;
  f->ca = ca_new(f->alg, CA_NAME, 1);
  f->dev = dev_new(f->ca, 2, f->serial, 0, f->lifetime);
  f->v = verifier_at(f->ca, 0);
  attach_prove(&f->a, f->dev, f->ca, 1);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
  cert_verifier_free(f->v);
  cert_device_free(f->dev);
  cert_ca_free(f->ca);
}

static void
test_good(Fixture *f, gconstpointer data)
{
  CertAlg alg = f->alg;
  CertCa *ca = f->ca;
  const CertDevice *dev = f->dev;
  CertVerifier *v = f->v;
  Attach a = f->a;
  g_assert_true(memcmp(a.master, zero_master, CERT_MASTER_LEN) != 0);
  g_assert_cmpuint(a.proof.eph_pub_len, ==, alg == CERT_ECDSA_P256 ? 65 : 32);
  if (alg == CERT_ED25519)
    g_assert_cmpuint(a.proof.sig_len, ==, 64);
  else
    g_assert_cmpuint(a.proof.sig_len, <=, CERT_MAX_SIG_LEN);
  expect_both(v, ca, dev, &a, 1000, CERT_OK);
  expect_both(v, ca, dev, &a, 10 * YEAR - 1, CERT_OK); /* the last second of validity */
  /* No context at all is a context too. */
  a.context = "";
  uint8_t master[CERT_MASTER_LEN];
  g_assert_cmpint(cert_device_prove(dev, ca, a.nonce, NULL, 0, a.eph_seed, &a.proof, master), ==,
                  CERT_OK);
  memcpy(a.master, master, sizeof master);
  expect_both(v, ca, dev, &a, 1000, CERT_OK);
}

static void
test_validity(Fixture *f, gconstpointer data)
{
  CertCa *ca = f->ca;
  g_autoptr(CertDevice) dev = dev_new(ca, 3, 42, 100, 1000);
  CertVerifier *v = f->v;
  Attach a;
  attach_prove(&a, dev, ca, 1);
  expect_both(v, ca, dev, &a, 99, CERT_EXPIRED); /* not yet valid */
  expect_both(v, ca, dev, &a, 100, CERT_OK);
  expect_both(v, ca, dev, &a, 1099, CERT_OK); /* valid for 1000 s: notAfter excluded */
  expect_both(v, ca, dev, &a, 1100, CERT_EXPIRED);
  /* A device certificate outliving its root: refused once the root has expired. */
  g_autoptr(CertDevice) long_lived = dev_new(ca, 4, 43, 0, 30 * YEAR);
  attach_prove(&a, long_lived, ca, 2);
  expect_both(v, ca, long_lived, &a, 20 * YEAR - 1, CERT_OK);
  expect_both(v, ca, long_lived, &a, 20 * YEAR, CERT_EXPIRED);
  /* Negative times are before 2030: fine as long as everything is valid then. */
  g_autoptr(CertDevice) early = dev_new(ca, 5, 44, -YEAR, 2 * YEAR);
  attach_prove(&a, early, ca, 3);
  expect_both(v, ca, early, &a, 5, CERT_OK);
  /* A verifier checking before its CRL was issued holds a CRL not yet valid (as OpenSSL's
   * own CRL check says); the CA has no CRL to consult. (A revocation makes the next bundle
   * sign a new CRL; unchanged, the bundle of time 0 would be handed out again.) */
  cert_ca_revoke(ca, 999, 0);
  g_autoptr(CertVerifier) later = verifier_at(ca, 500);
  g_assert_cmpint(check(later, early, &a, 499), ==, CERT_EXPIRED);
  g_assert_cmpint(check(later, early, &a, 500), ==, CERT_OK);
  g_assert_cmpint(accept(ca, early, &a, 499), ==, CERT_OK);
}

static void
test_revoked(Fixture *f, gconstpointer data)
{
  CertCa *ca = f->ca;
  g_autoptr(CertDevice) dev = dev_new(ca, 2, 77, 0, YEAR);
  g_autoptr(CertDevice) other = dev_new(ca, 3, 78, 0, YEAR);
  CertVerifier *old = f->v;
  Attach a, b;
  attach_prove(&a, dev, ca, 1);
  attach_prove(&b, other, ca, 2);
  g_assert_cmpuint(cert_ca_revoked_count(ca), ==, 0);
  cert_ca_revoke(ca, 77, 500);
  cert_ca_revoke(ca, 77, 100); /* a second revocation keeps the first date */
  g_assert_cmpuint(cert_ca_revoked_count(ca), ==, 1);
  g_autoptr(CertVerifier) fresh = verifier_at(ca, 600);
  expect_both(fresh, ca, dev, &a, 700, CERT_REVOKED);
  expect_both(fresh, ca, other, &b, 700, CERT_OK);
  /* A verifier built from the bundle before the revocation does not know (cert.h). */
  g_assert_cmpint(check(old, dev, &a, 700), ==, CERT_OK);
  /* Revoked from its date on: the CA (which knows at once) accepts before 500. */
  g_assert_cmpint(accept(ca, dev, &a, 499), ==, CERT_OK);
  g_assert_cmpint(accept(ca, dev, &a, 500), ==, CERT_REVOKED);
  /* A later bundle still lists it; a further revocation joins it. */
  cert_ca_revoke(ca, 78, 800);
  g_assert_cmpuint(cert_ca_revoked_count(ca), ==, 2);
  g_autoptr(CertVerifier) third = verifier_at(ca, 900);
  expect_both(third, ca, dev, &a, 1000, CERT_REVOKED);
  expect_both(third, ca, other, &b, 1000, CERT_REVOKED);
  g_assert_cmpint(check(fresh, other, &b, 1000), ==, CERT_OK);
  /* Without changes, later requests get the same bundle (no new CRL signature); a request
   * from before its CRL was issued gets a new one. */
  size_t l1 = 0, l2 = 0;
  g_autofree uint8_t *b1 = bundle_copy(ca, 900, &l1);
  const uint8_t *b2 = cert_ca_bundle(ca, 5000, &l2);
  g_assert_cmpmem(b1, l1, b2, l2);
  b2 = cert_ca_bundle(ca, 899, &l2);
  g_assert_true(l1 != l2 || memcmp(b1, b2, l1) != 0);
  g_autoptr(CertVerifier) earlier = verifier_at(ca, 899);
  expect_both(earlier, ca, other, &b, 899, CERT_REVOKED);
}

/* 100,000 revoked serials: revoking stays cheap, the CRL is built once per bundle, and a
 * check costs no more than with an empty CRL (the CRL is not re-verified per check). */
static void
test_many_revocations(Fixture *f, gconstpointer data)
{
  enum { N = 100000 };
  CertCa *ca = f->ca;
  g_autoptr(CertDevice) dev = dev_new(ca, 2, 2 * N + 1, 0, YEAR);
  g_autoptr(CertDevice) ok_dev = dev_new(ca, 3, 2 * N + 2, 0, YEAR);
  Attach a, b;
  attach_prove(&a, dev, ca, 1);
  attach_prove(&b, ok_dev, ca, 2);
  CertVerifier *empty = f->v;
  gint64 t0 = g_get_monotonic_time();
  for (uint64_t s = 1; s <= N; s++)
    cert_ca_revoke(ca, s * 2, 10);
  cert_ca_revoke(ca, 2 * N + 1, 10);
  gint64 t1 = g_get_monotonic_time();
  size_t len = 0;
  g_assert_nonnull(cert_ca_bundle(ca, 20, &len));
  gint64 t2 = g_get_monotonic_time();
  g_autoptr(CertVerifier) v = verifier_at(ca, 20);
  gint64 t3 = g_get_monotonic_time();
  g_assert_cmpuint(cert_ca_revoked_count(ca), ==, N + 1);
  expect_both(v, ca, dev, &a, 30, CERT_REVOKED);
  enum { CHECKS = 50 };
  gint64 t4 = g_get_monotonic_time();
  for (int i = 0; i < CHECKS; i++)
    g_assert_cmpint(check(v, ok_dev, &b, 30), ==, CERT_OK);
  gint64 t5 = g_get_monotonic_time();
  for (int i = 0; i < CHECKS; i++)
    g_assert_cmpint(check(empty, ok_dev, &b, 30), ==, CERT_OK);
  gint64 t6 = g_get_monotonic_time();
  g_test_message("%d revocations %.1f ms, bundle (%zu octets) %.1f ms, verifier %.1f ms, "
                 "check %.0f us (empty CRL %.0f us)",
                 N + 1, (t1 - t0) / 1e3, len, (t2 - t1) / 1e3, (t3 - t2) / 1e3,
                 (double)(t5 - t4) / CHECKS, (double)(t6 - t5) / CHECKS);
  /* Generous bounds (sanitizers, loaded machines); the point is no per-check CRL work. */
  g_assert_cmpint(t5 - t4, <, 4 * (t6 - t5) + 20000);
  /* One more revocation: the next bundle carries it (incremental CRL). */
  cert_ca_revoke(ca, 2 * N + 2, 25);
  g_autoptr(CertVerifier) v2 = verifier_at(ca, 26);
  g_assert_cmpint(check(v2, ok_dev, &b, 30), ==, CERT_REVOKED);
  g_assert_cmpint(check(v2, dev, &a, 30), ==, CERT_REVOKED);
}

static void
test_wrong_key(Fixture *f, gconstpointer data)
{
  CertAlg alg = f->alg;
  CertCa *ca = f->ca;
  uint8_t seed[CERT_SEED_LEN], wrong[CERT_SEED_LEN];
  seed_of(2, seed);
  seed_of(9, wrong);
  g_autoptr(CertDevice) bad = cert_device_new_mismatched(ca, seed, wrong, 5, PIMSI, 0, YEAR);
  g_autoptr(CertDevice) good = dev_new(ca, 2, 5, 0, YEAR);
  g_assert_nonnull(bad);
  /* The same certificate as the good device (Ed25519: same octets; ECDSA: same key). */
  size_t l1 = 0, l2 = 0;
  const uint8_t *d1 = cert_device_der(bad, &l1), *d2 = cert_device_der(good, &l2);
  if (alg == CERT_ED25519)
    g_assert_cmpmem(d1, l1, d2, l2);
  CertVerifier *v = f->v;
  Attach a;
  attach_prove(&a, bad, ca, 1);
  expect_both(v, ca, bad, &a, 10, CERT_BAD_SIGNATURE);
  /* A good device's proof with another device's certificate. */
  g_autoptr(CertDevice) third = dev_new(ca, 3, 6, 0, YEAR);
  attach_prove(&a, good, ca, 2);
  expect_both(v, ca, third, &a, 10, CERT_BAD_SIGNATURE);
}

static void
test_other_ca(Fixture *f, gconstpointer data)
{
  CertAlg alg = f->alg;
  CertCa *ours = f->ca;
  g_autoptr(CertCa) theirs = ca_new(alg, CA_NAME, 50); /* same name, other keys */
  g_autoptr(CertDevice) dev = dev_new(theirs, 2, 7, 0, YEAR);
  CertVerifier *v = f->v;
  Attach a;
  attach_prove(&a, dev, ours, 1); /* even answering with our key-exchange key */
  expect_both(v, ours, dev, &a, 10, CERT_UNKNOWN_CA);
  /* Its serial revoked here changes nothing: it is not ours. */
  cert_ca_revoke(ours, 7, 0);
  g_autoptr(CertVerifier) v2 = verifier_at(ours, 1);
  expect_both(v2, ours, dev, &a, 10, CERT_UNKNOWN_CA);
  /* Our own root presented as a device certificate: not a device certificate. */
  size_t len = 0;
  const uint8_t *bundle = cert_ca_bundle(ours, 1, &len);
  size_t root_len = bundle_root_len(bundle);
  g_assert_cmpint(
      cert_verifier_check(v, bundle + 4, root_len, &a.proof, a.nonce, VO, strlen(VO), 10), ==,
      CERT_UNKNOWN_CA);
}

static void
test_replay(Fixture *f, gconstpointer data)
{
  static const char *const contexts[] = {
      "vo-2",  /* made for another network */
      "vo-1 ", /* a longer context */
      "",
  };
  Attach r = f->a;
  r.nonce[CERT_NONCE_LEN - 1] ^= 1; /* another challenge */
  expect_both(f->v, f->ca, f->dev, &r, 10, CERT_BAD_SIGNATURE);
  for (size_t i = 0; i < G_N_ELEMENTS(contexts); i++) {
    r = f->a;
    r.context = contexts[i];
    expect_both(f->v, f->ca, f->dev, &r, 10, CERT_BAD_SIGNATURE);
  }
  expect_both(f->v, f->ca, f->dev, &f->a, 10, CERT_OK);
}

/* Every single-bit flip of the certificate and of the proof is refused, never accepted. */
static void
test_tampered(Fixture *f, gconstpointer data)
{
  CertCa *ca = f->ca;
  CertVerifier *v = f->v;
  const Attach a = f->a;
  size_t len = 0;
  const uint8_t *der = cert_device_der(f->dev, &len);
  g_autofree uint8_t *copy = g_memdup2(der, len);
  int counts[CERT_CRYPTO_ERROR + 1] = {0};
  for (size_t bit = 0; bit < 8 * len; bit++) {
    copy[bit / 8] ^= (uint8_t)(1u << bit % 8);
    CertStatus st = cert_verifier_check(v, copy, len, &a.proof, a.nonce, VO, strlen(VO), 10);
    copy[bit / 8] ^= (uint8_t)(1u << bit % 8);
    if (st == CERT_OK || st == CERT_CRYPTO_ERROR)
      g_error("bit %zu of the certificate flipped: %s", bit, cert_status_name(st));
    counts[st]++;
    if (bit % 61 == 0) { /* the CA's side, on a sample */
      copy[bit / 8] ^= (uint8_t)(1u << bit % 8);
      uint8_t m[CERT_MASTER_LEN];
      st = cert_ca_accept(ca, copy, len, &a.proof, a.nonce, VO, strlen(VO), 10, m);
      copy[bit / 8] ^= (uint8_t)(1u << bit % 8);
      g_assert_cmpint(st, !=, CERT_OK);
      g_assert_cmpmem(m, sizeof m, zero_master, sizeof zero_master);
    }
  }
  g_test_message("certificate flips: bad-encoding %d, unknown-ca %d, expired %d, bad-signature "
                 "%d",
                 counts[CERT_BAD_ENCODING], counts[CERT_UNKNOWN_CA], counts[CERT_EXPIRED],
                 counts[CERT_BAD_SIGNATURE]);
  g_assert_cmpint(counts[CERT_BAD_ENCODING], >, 0);
  g_assert_cmpint(counts[CERT_UNKNOWN_CA], >, 0);
  /* Truncated and extended certificates. */
  for (size_t n = 0; n < len; n++)
    g_assert_cmpint(cert_verifier_check(v, der, n, &a.proof, a.nonce, VO, strlen(VO), 10), ==,
                    CERT_BAD_ENCODING);
  g_autofree uint8_t *longer = g_malloc0(len + 1);
  memcpy(longer, der, len);
  g_assert_cmpint(cert_verifier_check(v, longer, len + 1, &a.proof, a.nonce, VO, strlen(VO), 10),
                  ==, CERT_BAD_ENCODING);
  g_assert_cmpint(cert_verifier_check(v, NULL, 0, &a.proof, a.nonce, VO, strlen(VO), 10), ==,
                  CERT_BAD_ENCODING);

  /* The proof: every bit of the ephemeral key and of the signature. */
  for (size_t bit = 0; bit < 8u * (a.proof.eph_pub_len + a.proof.sig_len); bit++) {
    CertProof p = a.proof;
    size_t i = bit / 8;
    uint8_t *octet = i < p.eph_pub_len ? &p.eph_pub[i] : &p.sig[i - p.eph_pub_len];
    *octet ^= (uint8_t)(1u << bit % 8);
    CertStatus st = cert_verifier_check(v, der, len, &p, a.nonce, VO, strlen(VO), 10);
    if (st != CERT_BAD_SIGNATURE && st != CERT_BAD_ENCODING)
      g_error("proof bit %zu flipped: %s", bit, cert_status_name(st));
    if (bit % 17 == 0) {
      uint8_t m[CERT_MASTER_LEN];
      st = cert_ca_accept(ca, der, len, &p, a.nonce, VO, strlen(VO), 10, m);
      g_assert_true(st == CERT_BAD_SIGNATURE || st == CERT_BAD_ENCODING);
    }
  }
  /* Lengths out of range. */
  static const struct {
    int eph, sig;
  } lens[] = {{0, -1}, {31, -1}, {33, -1}, {64, -1}, {66, -1}, {255, -1},
              {-1, 0}, {-1, 7},  {-1, 63}, {-1, 73}, {-1, 255}};
  for (size_t i = 0; i < G_N_ELEMENTS(lens); i++) {
    CertProof p = a.proof;
    if (lens[i].eph >= 0)
      p.eph_pub_len = (uint8_t)lens[i].eph;
    if (lens[i].sig >= 0)
      p.sig_len = (uint8_t)lens[i].sig;
    if (p.eph_pub_len == a.proof.eph_pub_len && p.sig_len == a.proof.sig_len)
      continue;
    CertStatus st = cert_verifier_check(v, der, len, &p, a.nonce, VO, strlen(VO), 10);
    g_assert_true(st == CERT_BAD_ENCODING || st == CERT_BAD_SIGNATURE);
  }
}

/* Truncations, extensions, junk, bit flips and mismatched parts: CERT_BAD_ENCODING. */
static void
expect_bad_bundle(const uint8_t *bundle, size_t len, const char *what, size_t i)
{
  CertStatus st = CERT_OK;
  CertVerifier *v = cert_verifier_new(bundle, len, &st);
  if (v != NULL || st != CERT_BAD_ENCODING)
    g_error("%s %zu: verifier %p, status %s", what, i, (void *)v, cert_status_name(st));
}

static void
test_bad_bundles(Fixture *f, gconstpointer data)
{
  CertAlg alg = f->alg;
  CertCa *ca = f->ca;
  g_autoptr(CertCa) other = ca_new(alg, CA_NAME, 50);
  cert_ca_revoke(ca, 3, 0);
  size_t len = 0, other_len = 0;
  g_autofree uint8_t *bundle = bundle_copy(ca, 0, &len);
  g_autofree uint8_t *obundle = bundle_copy(other, 0, &other_len);
  for (size_t n = 0; n < len; n++)
    expect_bad_bundle(bundle, n, "truncated to", n);
  expect_bad_bundle(NULL, 0, "NULL", 0);
  g_autofree uint8_t *longer = g_malloc0(len + 1);
  memcpy(longer, bundle, len);
  expect_bad_bundle(longer, len + 1, "one octet more", 0);
  for (size_t bit = 0; bit < 8 * len; bit++) {
    bundle[bit / 8] ^= (uint8_t)(1u << bit % 8);
    expect_bad_bundle(bundle, len, "bit flipped", bit);
    bundle[bit / 8] ^= (uint8_t)(1u << bit % 8);
  }
  g_autoptr(GRand) r = g_rand_new_with_seed(33);
  for (int i = 0; i < 200; i++) {
    size_t n = (size_t)g_rand_int_range(r, 0, 2048);
    g_autofree uint8_t *junk = g_malloc(n + 8);
    for (size_t j = 0; j < n; j++)
      junk[j] = (uint8_t)g_rand_int_range(r, 0, 256);
    if (n >= 4 && i % 2) { /* plausible length prefixes */
      junk[0] = junk[1] = 0;
      junk[2] = (uint8_t)(n / 2 >> 8);
      junk[3] = (uint8_t)(n / 2);
    }
    expect_bad_bundle(junk, n, "junk", (size_t)i);
  }
  /* Our root with the other CA's CRL (same issuer name, other key), and both swapped. */
  size_t root_len = bundle_root_len(bundle);
  size_t oroot_len = bundle_root_len(obundle);
  GByteArray *mixed = g_byte_array_new();
  g_byte_array_append(mixed, bundle, (guint)(4 + root_len));
  g_byte_array_append(mixed, obundle + 4 + oroot_len, (guint)(other_len - 4 - oroot_len));
  expect_bad_bundle(mixed->data, mixed->len, "other CA's CRL", 0);
  g_byte_array_set_size(mixed, 0);
  size_t crl_len = len - 8 - root_len;
  uint8_t be[4] = {(uint8_t)(crl_len >> 24), (uint8_t)(crl_len >> 16), (uint8_t)(crl_len >> 8),
                   (uint8_t)crl_len};
  g_byte_array_append(mixed, be, 4);
  g_byte_array_append(mixed, bundle + 8 + root_len, (guint)crl_len);
  g_byte_array_append(mixed, bundle, (guint)(4 + root_len));
  expect_bad_bundle(mixed->data, mixed->len, "CRL first", 0);
  /* A device certificate in place of the root. */
  g_autoptr(CertDevice) dev = dev_new(ca, 2, 3, 0, YEAR);
  size_t dlen = 0;
  const uint8_t *dder = cert_device_der(dev, &dlen);
  g_byte_array_set_size(mixed, 0);
  uint8_t dbe[4] = {0, 0, (uint8_t)(dlen >> 8), (uint8_t)dlen};
  g_byte_array_append(mixed, dbe, 4);
  g_byte_array_append(mixed, dder, (guint)dlen);
  g_byte_array_append(mixed, bundle + 4 + root_len, (guint)(len - 4 - root_len));
  expect_bad_bundle(mixed->data, mixed->len, "device certificate as root", 0);
  g_byte_array_unref(mixed);
  /* The untouched bundle still works, and a NULL status pointer is allowed. */
  CertVerifier *v = cert_verifier_new(bundle, len, NULL);
  g_assert_nonnull(v);
  cert_verifier_free(v);
}

/* The certificate's SubjectPublicKeyInfo, DER. */
static void
spki_of(const CertDevice *dev, GByteArray *out)
{
  size_t len = 0;
  const unsigned char *der = cert_device_der(dev, &len);
  X509 *x = d2i_X509(NULL, &der, (long)len);
  g_assert_nonnull(x);
  unsigned char *spki = NULL;
  int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &spki);
  g_assert_cmpint(n, >, 0);
  g_byte_array_append(out, spki, (guint)n);
  OPENSSL_free(spki);
  X509_free(x);
}

static void
test_determinism(Fixture *f, gconstpointer data)
{
  CertAlg alg = f->alg;
  CertCa *ca1 = f->ca;
  g_autoptr(CertCa) ca2 = ca_new(alg, CA_NAME, 1); /* another instance, same seed */
  const CertDevice *d1 = f->dev;
  g_autoptr(CertDevice) d2 = dev_new(ca2, 2, f->serial, 0, f->lifetime);
  g_autoptr(GByteArray) k1 = g_byte_array_new(), k2 = g_byte_array_new();
  spki_of(d1, k1);
  spki_of(d2, k2);
  g_assert_cmpmem(k1->data, k1->len, k2->data, k2->len);
  size_t l1 = 0, l2 = 0;
  const uint8_t *c1 = cert_device_der(d1, &l1), *c2 = cert_device_der(d2, &l2);
  if (alg == CERT_ED25519) /* EdDSA signatures are deterministic; ECDSA's are not */
    g_assert_cmpmem(c1, l1, c2, l2);
  /* Same keys: the second instance's device is accepted by the first's verifier and CA. */
  CertVerifier *v1 = f->v;
  Attach a1 = f->a, a2;
  attach_prove(&a2, d2, ca2, 1);
  g_assert_cmpmem(a1.master, CERT_MASTER_LEN, a2.master, CERT_MASTER_LEN);
  g_assert_cmpmem(a1.proof.eph_pub, a1.proof.eph_pub_len, a2.proof.eph_pub, a2.proof.eph_pub_len);
  expect_both(v1, ca1, d2, &a2, 10, CERT_OK);
  /* Another nonce, another master; another ephemeral seed, another key and master. */
  Attach b;
  attach_prove(&b, d1, ca1, 2);
  g_assert_true(memcmp(a1.master, b.master, CERT_MASTER_LEN) != 0);
  Attach c = a1;
  c.eph_seed[0] ^= 1;
  g_assert_cmpint(
      cert_device_prove(d1, ca1, c.nonce, VO, strlen(VO), c.eph_seed, &c.proof, c.master), ==,
      CERT_OK);
  g_assert_true(memcmp(a1.master, c.master, CERT_MASTER_LEN) != 0);
  g_assert_true(memcmp(a1.proof.eph_pub, c.proof.eph_pub, c.proof.eph_pub_len) != 0);
  expect_both(v1, ca1, d1, &c, 10, CERT_OK);
  /* Another context, another master. */
  Attach e = a1;
  e.context = "vo-2";
  g_assert_cmpint(cert_device_prove(d1, ca1, e.nonce, e.context, 4, e.eph_seed, &e.proof, e.master),
                  ==, CERT_OK);
  g_assert_true(memcmp(a1.master, e.master, CERT_MASTER_LEN) != 0);
  /* Another device seed, another key. */
  g_autoptr(CertDevice) d3 = dev_new(ca1, 3, 10, 0, YEAR);
  g_autoptr(GByteArray) k3 = g_byte_array_new();
  spki_of(d3, k3);
  g_assert_true(k3->len != k1->len || memcmp(k1->data, k3->data, k1->len) != 0);
}

static void
test_cross_algorithm(void)
{
  g_autoptr(CertCa) ec = ca_new(CERT_ECDSA_P256, CA_NAME, 1);
  g_autoptr(CertCa) ed = ca_new(CERT_ED25519, CA_NAME, 1);
  g_autoptr(CertDevice) ec_dev = dev_new(ec, 2, 11, 0, YEAR);
  g_autoptr(CertDevice) ed_dev = dev_new(ed, 2, 11, 0, YEAR);
  g_autoptr(CertVerifier) ec_v = verifier_at(ec, 0);
  g_autoptr(CertVerifier) ed_v = verifier_at(ed, 0);
  Attach a, b;
  attach_prove(&a, ec_dev, ec, 1);
  attach_prove(&b, ed_dev, ed, 1);
  expect_both(ed_v, ed, ec_dev, &a, 10, CERT_UNKNOWN_CA);
  expect_both(ec_v, ec, ed_dev, &b, 10, CERT_UNKNOWN_CA);
  /* The right certificate with a proof shaped for the other algorithm. */
  Attach mixed = a;
  mixed.proof = b.proof;
  expect_both(ec_v, ec, ec_dev, &mixed, 10, CERT_BAD_ENCODING);
  mixed = b;
  mixed.proof = a.proof;
  expect_both(ed_v, ed, ed_dev, &mixed, 10, CERT_BAD_ENCODING);
  /* A device cannot answer for a CA of the other algorithm. */
  CertProof p;
  uint8_t m[CERT_MASTER_LEN];
  g_assert_cmpint(cert_device_prove(ec_dev, ed, a.nonce, VO, 4, a.eph_seed, &p, m), ==,
                  CERT_BAD_ENCODING);
  g_assert_cmpmem(m, sizeof m, zero_master, sizeof zero_master);
}

/* ---- The openssl command line as an independent X.509 implementation ------------------- */

typedef struct {
  char *dir;
  char *openssl;
} Cli;

static int cli_run(const Cli *cli, char **out, const char *arg0, ...) G_GNUC_NULL_TERMINATED;

static int
cli_run(const Cli *cli, char **out, const char *arg0, ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_ptr_array_add(argv, cli->openssl);
  va_list ap;
  va_start(ap, arg0);
  for (const char *a = arg0; a != NULL; a = va_arg(ap, const char *))
    g_ptr_array_add(argv, (gpointer)a);
  va_end(ap);
  g_ptr_array_add(argv, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *o = NULL, *e = NULL;
  int status = 0;
  g_assert_true(g_spawn_sync(cli->dir, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &o,
                             &e, &status, &error));
  g_assert_no_error(error);
  if (out != NULL)
    *out = g_strconcat(o, e, NULL);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
cli_write(const Cli *cli, const char *name, const uint8_t *data, size_t len)
{
  g_autofree char *path = g_build_filename(cli->dir, name, NULL);
  g_autoptr(GError) error = NULL;
  g_assert_true(g_file_set_contents(path, (const char *)data, (gssize)len, &error));
  g_assert_no_error(error);
}

/* Writes root.pem and crl-TAG.pem from a bundle, converted by openssl itself. */
static void
cli_bundle(const Cli *cli, CertCa *ca, int64_t now, const char *tag)
{
  size_t len = 0;
  const uint8_t *b = cert_ca_bundle(ca, now, &len);
  size_t root_len = bundle_root_len(b);
  cli_write(cli, "root.der", b + 4, root_len);
  cli_write(cli, "crl.der", b + 8 + root_len, len - 8 - root_len);
  g_autofree char *crl_pem = g_strdup_printf("crl-%s.pem", tag);
  g_assert_cmpint(
      cli_run(cli, NULL, "x509", "-inform", "DER", "-in", "root.der", "-out", "root.pem", NULL), ==,
      0);
  g_assert_cmpint(
      cli_run(cli, NULL, "crl", "-inform", "DER", "-in", "crl.der", "-out", crl_pem, NULL), ==, 0);
}

/* `openssl verify` of dev.pem at simulated time `now` with crl-TAG.pem: its output. */
static char *
cli_verify(const Cli *cli, const char *tag, int64_t now, int *status)
{
  g_autofree char *crl_pem = g_strdup_printf("crl-%s.pem", tag);
  g_autofree char *at = g_strdup_printf("%" G_GINT64_FORMAT, CERT_EPOCH_UNIX + now);
  char *out = NULL;
  *status = cli_run(cli, &out, "verify", "-x509_strict", "-CAfile", "root.pem", "-crl_check",
                    "-CRLfile", crl_pem, "-attime", at, "dev.pem", NULL);
  return out;
}

static void
test_openssl_cli(Fixture *f, gconstpointer data)
{
  CertAlg alg = f->alg;
  Cli cli = {NULL, g_find_program_in_path("openssl")};
  if (cli.openssl == NULL) {
    g_test_skip("no openssl command line (Debian package openssl)");
    return;
  }
  g_autoptr(GError) error = NULL;
  cli.dir = g_dir_make_tmp("m2m-cert-XXXXXX", &error);
  g_assert_no_error(error);
  CertCa *ca = f->ca;
  g_autoptr(CertDevice) dev = dev_new(ca, 2, 123456789, 100, YEAR);
  size_t len = 0;
  const uint8_t *der = cert_device_der(dev, &len);
  cli_write(&cli, "dev.der", der, len);
  g_autofree char *text = NULL;
  g_assert_cmpint(
      cli_run(&cli, &text, "x509", "-inform", "DER", "-in", "dev.der", "-noout", "-text", NULL), ==,
      0);
  g_test_message("%s", text);
  static const char *const want[] = {
      "Version: 3 (0x2)",
      "Serial Number: 123456789 (0x75bcd15)",
      "Issuer: CN = " CA_NAME,
      "Subject: CN = " PIMSI,
      "Not Before: Jan  1 00:01:40 2030 GMT",
      "Not After : Jan  1 00:01:40 2031 GMT",
      "X509v3 Basic Constraints: critical",
      "CA:FALSE",
      "X509v3 Key Usage: critical",
      "Digital Signature",
      "X509v3 Authority Key Identifier",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(want); i++)
    if (strstr(text, want[i]) == NULL)
      g_error("openssl x509 -text lacks '%s'", want[i]);
  g_assert_nonnull(strstr(text, alg == CERT_ED25519 ? "Signature Algorithm: ED25519"
                                                    : "Signature Algorithm: ecdsa-with-SHA256"));
  g_assert_cmpint(
      cli_run(&cli, NULL, "x509", "-inform", "DER", "-in", "dev.der", "-out", "dev.pem", NULL), ==,
      0);
  cli_bundle(&cli, ca, 0, "0");
  g_autofree char *root_text = NULL;
  g_assert_cmpint(cli_run(&cli, &root_text, "x509", "-in", "root.pem", "-noout", "-text", NULL), ==,
                  0);
  g_assert_nonnull(strstr(root_text, "CA:TRUE"));
  g_assert_nonnull(strstr(root_text, "Certificate Sign, CRL Sign"));
  g_assert_nonnull(strstr(root_text, "X509v3 Subject Key Identifier"));

  /* The same verdicts as ours. */
  static const struct {
    int64_t now;
    const char *crl;
    const char *out;
    CertStatus ours;
  } cases[] = {
      {200, "0", "dev.pem: OK", CERT_OK},
      {99, "0", "certificate is not yet valid", CERT_EXPIRED},
      {100 + YEAR + 1, "0", "certificate has expired", CERT_EXPIRED},
      {600, "1", "certificate revoked", CERT_REVOKED},
      {600, "0", "dev.pem: OK", CERT_OK}, /* the old CRL */
  };
  Attach a;
  attach_prove(&a, dev, ca, 1);
  CertVerifier *vs[2] = {verifier_at(ca, 0), NULL};
  cert_ca_revoke(ca, 123456789, 500);
  cli_bundle(&cli, ca, 550, "1");
  vs[1] = verifier_at(ca, 550);
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    int status = 0;
    g_autofree char *out = cli_verify(&cli, cases[i].crl, cases[i].now, &status);
    g_test_message("case %zu: %s", i, out);
    g_assert_nonnull(strstr(out, cases[i].out));
    g_assert_cmpint(status == 0, ==, cases[i].ours == CERT_OK);
    g_assert_cmpint(check(vs[cases[i].crl[0] - '0'], dev, &a, cases[i].now), ==, cases[i].ours);
  }
  cert_verifier_free(vs[0]);
  cert_verifier_free(vs[1]);
  /* A device of another CA with the same name: openssl cannot find its issuer either. */
  g_autoptr(CertCa) other = ca_new(alg, CA_NAME, 50);
  g_autoptr(CertDevice) foreign = dev_new(other, 2, 5, 0, YEAR);
  der = cert_device_der(foreign, &len);
  cli_write(&cli, "dev.der", der, len);
  g_assert_cmpint(
      cli_run(&cli, NULL, "x509", "-inform", "DER", "-in", "dev.der", "-out", "dev.pem", NULL), ==,
      0);
  int status = 0;
  g_autofree char *out = cli_verify(&cli, "0", 200, &status);
  g_test_message("foreign: %s", out);
  g_assert_cmpint(status, !=, 0);
  g_assert_null(strstr(out, "dev.pem: OK"));

  g_autoptr(GDir) dir = g_dir_open(cli.dir, 0, NULL);
  for (const char *name; dir != NULL && (name = g_dir_read_name(dir)) != NULL;) {
    g_autofree char *path = g_build_filename(cli.dir, name, NULL);
    g_unlink(path);
  }
  g_rmdir(cli.dir);
  g_free(cli.dir);
  g_free(cli.openssl);
}

/* Times a certificate cannot carry (past year 9999, negative lifetimes): NULL, no crash. */
static void
test_bad_times(void)
{
  uint8_t seed[CERT_SEED_LEN];
  seed_of(1, seed);
  g_assert_null(cert_ca_new(CERT_ED25519, CA_NAME, seed, 0, -1));
  g_assert_null(cert_ca_new(CERT_ED25519, CA_NAME, seed, INT64_MAX, INT64_MAX));
  g_assert_null(cert_ca_new(CERT_ECDSA_P256, CA_NAME, seed, 0, 300000 * YEAR));
  /* Within cert.c's own bound, but past what ASN.1 times hold (OpenSSL would write them). */
  g_assert_null(cert_ca_new(CERT_ED25519, CA_NAME, seed, 0, 10000 * YEAR));
  g_assert_null(cert_ca_new(CERT_ED25519, CA_NAME, seed, -3000 * YEAR, 20 * YEAR));
  g_autoptr(CertCa) ca = ca_new(CERT_ED25519, CA_NAME, 1);
  g_assert_null(cert_device_new(ca, seed, 1, PIMSI, INT64_MIN, 10));
  g_assert_null(cert_device_new(ca, seed, 1, PIMSI, 0, INT64_MAX));
  g_autoptr(CertDevice) dev = cert_device_new(ca, seed, UINT64_MAX, PIMSI, 0, YEAR);
  g_assert_nonnull(dev); /* the largest serial fits (9 octets of INTEGER) */
  /* Checks at times X.509 cannot express: outside every validity, not a bad encoding. */
  g_autoptr(CertVerifier) v = verifier_at(ca, 0);
  Attach a;
  attach_prove(&a, dev, ca, 1);
  expect_both(v, ca, dev, &a, YEAR / 2, CERT_OK);
  expect_both(v, ca, dev, &a, INT64_MAX, CERT_EXPIRED);
  expect_both(v, ca, dev, &a, INT64_MIN, CERT_EXPIRED);
}

static void
test_names(void)
{
  g_assert_cmpstr(cert_alg_name(CERT_ECDSA_P256), ==, "ecdsa-p256");
  g_assert_cmpstr(cert_alg_name(CERT_ED25519), ==, "ed25519");
  g_assert_cmpstr(cert_status_name(CERT_OK), ==, "ok");
  g_assert_cmpstr(cert_status_name(CERT_BAD_ENCODING), ==, "bad-encoding");
  g_assert_cmpstr(cert_status_name(CERT_UNKNOWN_CA), ==, "unknown-ca");
  g_assert_cmpstr(cert_status_name(CERT_EXPIRED), ==, "expired");
  g_assert_cmpstr(cert_status_name(CERT_REVOKED), ==, "revoked");
  g_assert_cmpstr(cert_status_name(CERT_BAD_SIGNATURE), ==, "bad-signature");
  g_assert_cmpstr(cert_status_name(CERT_CRYPTO_ERROR), ==, "crypto-error");
  g_assert_cmpstr(cert_status_name((CertStatus)99), ==, "unknown");
}

/* ---- m2msim bench auth ------------------------------------------------------------------- */

static void
test_bench_cli(void)
{
  g_autofree char *out = NULL, *err = NULL;
  g_assert_cmpint(tu_run_m2msim(&out, &err, "bench", "auth", "--seconds", "0.2", NULL), ==, 0);
  g_test_message("%s", out);
  static const char *const names[] = {"aka", "ecdsa-p256", "ed25519", "ecdsa-p256 issue",
                                      "ed25519 issue"};
  g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
  g_assert_cmpuint(g_strv_length(lines), ==, G_N_ELEMENTS(names) + 1);
  g_assert_cmpstr(lines[G_N_ELEMENTS(names)], ==, "");
  for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
    g_autofree char *prefix = g_strconcat(names[i], ": ", NULL);
    g_assert_true(g_str_has_prefix(lines[i], prefix));
    char *end = NULL;
    double v = g_ascii_strtod(lines[i] + strlen(prefix), &end);
    g_assert_true(*end == '\0' && v > 0);
  }
  static const char *const bad[][4] = {
      {"bench", "auth", "--seconds", "-1"}, {"bench", "auth", "--seconds", "0"},
      {"bench", "auth", "--seconds", "x"},  {"bench", "auth", "--nonsense"},
      {"bench", "auth", "surplus"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *o = NULL, *e = NULL;
    const char *argv[5] = {bad[i][0], bad[i][1], bad[i][2], bad[i][3], NULL};
    g_assert_cmpint(tu_run_m2msimv(&o, &e, argv), ==, 2);
    g_assert_cmpstr(o, ==, "");
    g_assert_true(g_str_has_prefix(e, "m2msim bench auth: "));
  }
  g_autofree char *help = NULL;
  g_assert_cmpint(tu_run_m2msim(&help, NULL, "bench", "auth", "--help", NULL), ==, 0);
  g_assert_nonnull(strstr(help, "Usage"));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  static const struct {
    const char *name;
    void (*fn)(Fixture *f, gconstpointer data);
  } per_alg[] = {
      {"good", test_good},
      {"validity", test_validity},
      {"revoked", test_revoked},
      {"many-revocations", test_many_revocations},
      {"wrong-key", test_wrong_key},
      {"other-ca", test_other_ca},
      {"replay", test_replay},
      {"tampered", test_tampered},
      {"bad-bundles", test_bad_bundles},
      {"determinism", test_determinism},
      {"openssl-cli", test_openssl_cli},
  };
  static const CertAlg algs[] = {CERT_ECDSA_P256, CERT_ED25519};
  for (size_t a = 0; a < G_N_ELEMENTS(algs); a++)
    for (size_t i = 0; i < G_N_ELEMENTS(per_alg); i++) {
      g_autofree char *path =
          g_strdup_printf("/cert/%s/%s", cert_alg_name(algs[a]), per_alg[i].name);
      g_test_add(path, Fixture, GINT_TO_POINTER(algs[a]), fixture_setup, per_alg[i].fn,
                 fixture_teardown);
    }
  g_test_add_func("/cert/cross-algorithm", test_cross_algorithm);
  g_test_add_func("/cert/bad-times", test_bad_times);
  g_test_add_func("/cert/names", test_names);
  g_test_add_func("/cert/bench-cli", test_bench_cli);
  return g_test_run();
}
