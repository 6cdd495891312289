/* Fuzz harness: the certificate core's parsers (cert.h, models/proto/cert.c): the trust
 * bundle a verifier is built from, and the device certificate and proof that
 * cert_verifier_check and cert_ca_accept take at attach, for both algorithms.
 *
 * Fixed material, made once (fuzz-cert.h): per algorithm a CA, a device certificate, the
 * same key certified again under a serial revoked from REV_AT, the CA's bundle, a
 * verifier built from it, and the device's proof for a fixed nonce and context.
 *
 * The input is read twice:
 *  - as a trust bundle: cert_verifier_new on all of it;
 *  - as an attach record (layout in fuzz-cert.h): flags, the time of the check, the
 *    CertProof fields as they come (eph_pub_len and sig_len anything up to 255), then the
 *    certificate DER. Flags may put the fixed certificates or proof in their place, so
 *    that a mutated proof meets a valid chain and the other way round. The record is
 *    checked by the fixed verifier, by the CA, and by the first reading's verifier if one
 *    was built.
 * The proof goes in a heap block of exactly its size and the certificate is the end of the
 * input, so ASan sees a read past either.
 *
 * Oracles, beyond memory safety:
 *  - a bundle gives either a verifier and CERT_OK or NULL and CERT_BAD_ENCODING; the fixed
 *    bundle truncated, or with octets after it, gives NULL; a verifier built at all trusts
 *    one of the fixed CAs (nothing else can sign both a root and its CRL), so one of the
 *    fixed devices passes it; the fixed bundle itself accepts its own device only;
 *  - CERT_OK only for what the device signed: the fixed ephemeral key and well-formed
 *    lengths, a certificate with the device's key and one of its two serials, inside its
 *    validity, not revoked at that time; the CA's master is then the device's, and all
 *    zeros on any refusal;
 *  - the fixed verifier and the CA give the same answer while the verifier's CRL is
 *    current, from its thisUpdate (BUNDLE_NOW) to its nextUpdate (the root's end): they
 *    differ only in where revocations come from;
 *  - exactly the fixed certificate (either serial) and proof: CERT_OK inside the validity
 *    window, CERT_EXPIRED or (revoked serial, from REV_AT) CERT_REVOKED outside it;
 *  - after every input the fixed device still passes the fixed verifier and the CA, with
 *    the same master (nothing the input did corrupted their state). */
#include "fuzz-cert.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <string.h>

#include "fuzz.h"

const char fuzz_name[] = "cert";

#define CA_NAME "m2m-rs.fuzz.example"
#define PIMSI "001010000000007"

const uint8_t fuzz_cert_nonce[CERT_NONCE_LEN] = {0x6e, 0x6f, 0x6e, 0x63, 0x65, 1, 2,  3,
                                                 4,    5,    6,    7,    8,    9, 10, 11};

static void
seed_of(uint8_t tag, uint8_t seed[CERT_SEED_LEN])
{
  for (int i = 0; i < CERT_SEED_LEN; i++)
    seed[i] = (uint8_t)(tag * 37 + i);
}

static uint32_t
get_be32(const uint8_t *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void
fixture_init(FuzzCertFixture *f, CertAlg alg)
{
  uint8_t ca_seed[CERT_SEED_LEN], dev_seed[CERT_SEED_LEN], eph_seed[CERT_SEED_LEN];
  seed_of(1, ca_seed);
  seed_of(2, dev_seed);
  seed_of(3, eph_seed);
  f->alg = alg;
  f->ca = cert_ca_new(alg, CA_NAME, ca_seed, 0, FUZZ_CERT_CA_END);
  g_assert_nonnull(f->ca);
  f->good = cert_device_new(f->ca, dev_seed, FUZZ_CERT_GOOD_SERIAL, PIMSI, FUZZ_CERT_DEV_NOT_BEFORE,
                            FUZZ_CERT_DEV_END - FUZZ_CERT_DEV_NOT_BEFORE);
  f->revoked =
      cert_device_new(f->ca, dev_seed, FUZZ_CERT_REVOKED_SERIAL, PIMSI, FUZZ_CERT_DEV_NOT_BEFORE,
                      FUZZ_CERT_DEV_END - FUZZ_CERT_DEV_NOT_BEFORE);
  g_assert_nonnull(f->good);
  g_assert_nonnull(f->revoked);
  cert_ca_revoke(f->ca, FUZZ_CERT_REVOKED_SERIAL, FUZZ_CERT_REV_AT);
  const uint8_t *bundle = cert_ca_bundle(f->ca, FUZZ_CERT_BUNDLE_NOW, &f->bundle_len);
  g_assert_nonnull(bundle);
  f->bundle = g_memdup2(bundle, f->bundle_len);
  /* Bundle format (cert.c): root length (4, big-endian) || root || CRL length || CRL. */
  g_assert_cmpuint(f->bundle_len, >, 4);
  f->root_der_len = get_be32(f->bundle);
  g_assert_cmpuint(f->root_der_len, <, f->bundle_len - 4);
  f->root_der = g_memdup2(f->bundle + 4, f->root_der_len);
  CertStatus st = CERT_CRYPTO_ERROR;
  f->verifier = cert_verifier_new(f->bundle, f->bundle_len, &st);
  g_assert_cmpint(st, ==, CERT_OK);
  g_assert_cmpint(cert_device_prove(f->good, f->ca, fuzz_cert_nonce, FUZZ_CERT_CONTEXT,
                                    strlen(FUZZ_CERT_CONTEXT), eph_seed, &f->proof, f->master),
                  ==, CERT_OK);
}

const FuzzCertFixture *
fuzz_cert_fixture(CertAlg alg)
{
  static FuzzCertFixture fixtures[2];
  static gboolean done;
  if (!done) {
    fixture_init(&fixtures[0], CERT_ECDSA_P256);
    fixture_init(&fixtures[1], CERT_ED25519);
    done = TRUE;
  }
  return &fixtures[alg == CERT_ED25519];
}

GByteArray *
fuzz_cert_record(uint8_t flags, int64_t now, const CertProof *proof, const uint8_t *der,
                 size_t der_len)
{
  uint8_t head[FUZZ_CERT_AT_DER];
  head[FUZZ_CERT_AT_FLAGS] = flags;
  for (int i = 0; i < 8; i++)
    head[FUZZ_CERT_AT_NOW + i] = (uint8_t)((uint64_t)now >> (56 - 8 * i));
  head[FUZZ_CERT_AT_EPH_LEN] = proof->eph_pub_len;
  head[FUZZ_CERT_AT_SIG_LEN] = proof->sig_len;
  memcpy(head + FUZZ_CERT_AT_EPH, proof->eph_pub, CERT_MAX_PUB_LEN);
  memcpy(head + FUZZ_CERT_AT_SIG, proof->sig, CERT_MAX_SIG_LEN);
  GByteArray *out = g_byte_array_new();
  g_byte_array_append(out, head, sizeof head);
  if (der_len > 0)
    g_byte_array_append(out, der, (guint)der_len);
  return out;
}

/* ---- The attach record -------------------------------------------------------------- */

typedef struct {
  const FuzzCertFixture *f; /* of the flags' algorithm */
  int64_t now;
  CertProof *proof; /* g_new, exactly one CertProof */
  const uint8_t *der;
  size_t der_len;
  bool exact;   /* the fixed certificate (either serial) and the fixed proof */
  bool revoked; /* ... and the certificate is the revoked serial's */
} Attach;

static void
attach_read(Attach *a, const uint8_t *data, size_t size)
{
  uint8_t head[FUZZ_CERT_AT_DER] = {0};
  if (size > 0)
    memcpy(head, data, MIN(size, sizeof head));
  uint8_t flags = head[FUZZ_CERT_AT_FLAGS];
  a->f = fuzz_cert_fixture(flags & FUZZ_CERT_ED25519 ? CERT_ED25519 : CERT_ECDSA_P256);
  uint64_t now = 0;
  for (int i = 0; i < 8; i++)
    now = now << 8 | head[FUZZ_CERT_AT_NOW + i];
  a->now = (int64_t)now;
  a->proof = g_new(CertProof, 1);
  if (flags & FUZZ_CERT_PROOF_FIXED) {
    *a->proof = a->f->proof;
  } else {
    a->proof->eph_pub_len = head[FUZZ_CERT_AT_EPH_LEN];
    a->proof->sig_len = head[FUZZ_CERT_AT_SIG_LEN];
    memcpy(a->proof->eph_pub, head + FUZZ_CERT_AT_EPH, CERT_MAX_PUB_LEN);
    memcpy(a->proof->sig, head + FUZZ_CERT_AT_SIG, CERT_MAX_SIG_LEN);
  }
  switch (flags & FUZZ_CERT_CERT_MASK) {
  case FUZZ_CERT_CERT_INPUT:
    a->der = size > FUZZ_CERT_AT_DER ? data + FUZZ_CERT_AT_DER : NULL;
    a->der_len = size > FUZZ_CERT_AT_DER ? size - FUZZ_CERT_AT_DER : 0;
    break;
  case FUZZ_CERT_CERT_GOOD:
    a->der = cert_device_der(a->f->good, &a->der_len);
    break;
  case FUZZ_CERT_CERT_REVOKED:
    a->der = cert_device_der(a->f->revoked, &a->der_len);
    break;
  default:
    a->der = a->f->root_der;
    a->der_len = a->f->root_der_len;
    break;
  }
  size_t good_len = 0, revoked_len = 0;
  const uint8_t *good = cert_device_der(a->f->good, &good_len);
  const uint8_t *revoked = cert_device_der(a->f->revoked, &revoked_len);
  bool is_good = a->der_len == good_len && memcmp(a->der, good, good_len) == 0;
  a->revoked = a->der_len == revoked_len && memcmp(a->der, revoked, revoked_len) == 0;
  a->exact = (is_good || a->revoked) && memcmp(a->proof, &a->f->proof, sizeof(CertProof)) == 0;
}

static bool
in_window(int64_t now, bool revoked)
{
  return now >= FUZZ_CERT_DEV_NOT_BEFORE && now < FUZZ_CERT_DEV_END &&
         !(revoked && now >= FUZZ_CERT_REV_AT);
}

/* CERT_OK from any checker: the proof is the device's (ephemeral key bound by its
 * signature), the certificate carries its key and one of its serials, and the time is
 * inside that certificate's life. */
static void
check_ok_is_earned(const Attach *a, bool crl_current)
{
  const CertProof *p = a->proof;
  const FuzzCertFixture *f = NULL;
  for (CertAlg alg = CERT_ECDSA_P256; alg <= CERT_ED25519; alg++)
    if (p->eph_pub_len == fuzz_cert_fixture(alg)->proof.eph_pub_len)
      f = fuzz_cert_fixture(alg);
  if (f == NULL)
    g_error("CERT_OK with eph_pub_len %u", p->eph_pub_len);
  g_assert_cmpmem(p->eph_pub, p->eph_pub_len, f->proof.eph_pub, f->proof.eph_pub_len);
  g_assert_cmpuint(p->sig_len, <=, CERT_MAX_SIG_LEN);
  if (f->alg == CERT_ED25519)
    g_assert_cmpuint(p->sig_len, ==, 64);
  else
    g_assert_cmpuint(p->sig_len, >=, 8);

  const unsigned char *q = a->der;
  X509 *x = d2i_X509(NULL, &q, (long)a->der_len);
  g_assert_nonnull(x);
  g_assert_true(q == a->der + a->der_len);
  size_t dev_len = 0;
  const unsigned char *d = cert_device_der(f->good, &dev_len);
  X509 *dev = d2i_X509(NULL, &d, (long)dev_len);
  g_assert_nonnull(dev);
  g_assert_cmpint(EVP_PKEY_eq(X509_get0_pubkey(x), X509_get0_pubkey(dev)), ==, 1);
  uint64_t serial = 0;
  g_assert_true(ASN1_INTEGER_get_uint64(&serial, X509_get0_serialNumber(x)));
  g_assert_true(serial == FUZZ_CERT_GOOD_SERIAL || serial == FUZZ_CERT_REVOKED_SERIAL);
  if (!in_window(a->now, serial == FUZZ_CERT_REVOKED_SERIAL) ||
      (crl_current && a->now < FUZZ_CERT_BUNDLE_NOW))
    g_error("CERT_OK for serial %" G_GUINT64_FORMAT " at %" G_GINT64_FORMAT, serial, a->now);
  X509_free(dev);
  X509_free(x);
}

/* The fixed certificate and proof: exactly the outcome their times call for. */
static void
check_exact(const Attach *a, CertStatus st, bool verifier)
{
  bool ok = in_window(a->now, a->revoked) && !(verifier && a->now < FUZZ_CERT_BUNDLE_NOW);
  if (ok != (st == CERT_OK) || (!ok && st != CERT_EXPIRED && st != CERT_REVOKED) ||
      (st == CERT_REVOKED && !(a->revoked && a->now >= FUZZ_CERT_REV_AT)))
    g_error("fixed %s certificate%s and proof at %" G_GINT64_FORMAT ": %s from the %s",
            cert_alg_name(a->f->alg), a->revoked ? " (revoked serial)" : "", a->now,
            cert_status_name(st), verifier ? "verifier" : "CA");
}

static bool
status_is_valid(CertStatus st)
{
  return st >= CERT_OK && st <= CERT_CRYPTO_ERROR;
}

static CertStatus
verify(CertVerifier *v, const Attach *a)
{
  CertStatus st = cert_verifier_check(v, a->der, a->der_len, a->proof, fuzz_cert_nonce,
                                      FUZZ_CERT_CONTEXT, strlen(FUZZ_CERT_CONTEXT), a->now);
  g_assert_true(status_is_valid(st));
  g_assert_cmpint(st, !=, CERT_CRYPTO_ERROR);
  return st;
}

static CertStatus
accept(const Attach *a)
{
  static const uint8_t zero[CERT_MASTER_LEN];
  uint8_t master[CERT_MASTER_LEN];
  memset(master, 0xA5, sizeof master);
  CertStatus st = cert_ca_accept(a->f->ca, a->der, a->der_len, a->proof, fuzz_cert_nonce,
                                 FUZZ_CERT_CONTEXT, strlen(FUZZ_CERT_CONTEXT), a->now, master);
  g_assert_true(status_is_valid(st));
  g_assert_cmpint(st, !=, CERT_CRYPTO_ERROR);
  if (st == CERT_OK)
    g_assert_cmpmem(master, sizeof master, a->f->master, sizeof a->f->master);
  else
    g_assert_cmpmem(master, sizeof master, zero, sizeof zero);
  return st;
}

static void
run_attach(const Attach *a, CertVerifier *from_input)
{
  CertStatus by_v = verify(a->f->verifier, a);
  CertStatus by_ca = accept(a);
  if (by_v == CERT_OK)
    check_ok_is_earned(a, true);
  if (by_ca == CERT_OK)
    check_ok_is_earned(a, false);
  bool crl_current = a->now >= FUZZ_CERT_BUNDLE_NOW && a->now < FUZZ_CERT_CA_END;
  if (crl_current && by_v != by_ca)
    g_error("at %" G_GINT64_FORMAT ": verifier %s, CA %s", a->now, cert_status_name(by_v),
            cert_status_name(by_ca));
  if (a->exact) {
    check_exact(a, by_v, true);
    check_exact(a, by_ca, false);
  }
  if (from_input != NULL && verify(from_input, a) == CERT_OK)
    check_ok_is_earned(a, false);
}

/* ---- The trust bundle ----------------------------------------------------------------- */

/* The fixed device of `f` at VALID_NOW through verifier v. */
static CertStatus
fixed_device_through(CertVerifier *v, const FuzzCertFixture *f)
{
  size_t len = 0;
  const uint8_t *der = cert_device_der(f->good, &len);
  return cert_verifier_check(v, der, len, &f->proof, fuzz_cert_nonce, FUZZ_CERT_CONTEXT,
                             strlen(FUZZ_CERT_CONTEXT), FUZZ_CERT_VALID_NOW);
}

static CertVerifier *
run_bundle(const uint8_t *data, size_t size)
{
  CertStatus st = CERT_CRYPTO_ERROR;
  CertVerifier *v = cert_verifier_new(data, size, &st);
  if (v == NULL)
    g_assert_cmpint(st, ==, CERT_BAD_ENCODING);
  else
    g_assert_cmpint(st, ==, CERT_OK);
  for (CertAlg alg = CERT_ECDSA_P256; alg <= CERT_ED25519; alg++) {
    const FuzzCertFixture *f = fuzz_cert_fixture(alg);
    /* The fixed bundle with octets missing or added is no bundle. */
    if (size > 0 && size != f->bundle_len && memcmp(data, f->bundle, MIN(size, f->bundle_len)) == 0)
      g_assert_null(v);
  }
  if (v == NULL)
    return NULL;
  CertStatus ecdsa = fixed_device_through(v, fuzz_cert_fixture(CERT_ECDSA_P256));
  CertStatus ed25519 = fixed_device_through(v, fuzz_cert_fixture(CERT_ED25519));
  if (ecdsa != CERT_OK && ed25519 != CERT_OK)
    g_error("a verifier built from %zu octets accepts neither fixed device (%s, %s)", size,
            cert_status_name(ecdsa), cert_status_name(ed25519));
  for (CertAlg alg = CERT_ECDSA_P256; alg <= CERT_ED25519; alg++) {
    const FuzzCertFixture *f = fuzz_cert_fixture(alg);
    if (size == f->bundle_len && memcmp(data, f->bundle, size) == 0) {
      g_assert_cmpint(alg == CERT_ED25519 ? ed25519 : ecdsa, ==, CERT_OK);
      g_assert_cmpint(alg == CERT_ED25519 ? ecdsa : ed25519, !=, CERT_OK);
    }
  }
  return v;
}

/* ---- Both readings, then the fixed material once more ---------------------------------- */

static void
check_fixture_intact(const FuzzCertFixture *f)
{
  Attach a = {.f = f, .now = FUZZ_CERT_VALID_NOW, .proof = g_new(CertProof, 1)};
  *a.proof = f->proof;
  a.der = cert_device_der(f->good, &a.der_len);
  g_assert_cmpint(verify(f->verifier, &a), ==, CERT_OK);
  g_assert_cmpint(accept(&a), ==, CERT_OK);
  g_free(a.proof);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  CertVerifier *v = run_bundle(data, size);
  Attach a;
  attach_read(&a, data, size);
  run_attach(&a, v);
  cert_verifier_free(v);
  check_fixture_intact(a.f);
  g_free(a.proof);
  /* What the harness's own parsing may have left (cert.c clears its own). */
  ERR_clear_error();
  return 0;
}
