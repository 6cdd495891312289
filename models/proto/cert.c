/* Certificate-based preliminary authentication on OpenSSL 3 libcrypto. See cert.h for the
 * protocol, the roles and the key derivation.
 *
 * Keys from seeds. Each private key is 32 octets of
 *   KDF(seed, FC = KDF_FC_M2M_CERT, P0 = "m2m-cert-key", P1 = role, P2 = counter (1 octet))
 * with role "ca-root", "ca-kx", "device" or "eph", so one seed never gives two roles the
 * same key. Ed25519 and X25519 take the octets as the raw private key (RFC 8032/7748
 * clamp them). A P-256 scalar d is the octets read big-endian, retried with the next
 * counter until 1 <= d < n (a retry has probability ~2^-32); the public point is d*G,
 * both handed to OpenSSL with EVP_PKEY_fromdata.
 *
 * Certificates (RFC 5280 profile): X.509 v3. Root: self-signed, serial 1, CN = the CA name,
 * basicConstraints CA:TRUE and keyUsage keyCertSign, cRLSign (both critical), a subject key
 * identifier. Device: issuer = the root's subject, CN = the PIMSI digits, the caller's
 * serial, basicConstraints CA:FALSE and keyUsage digitalSignature (critical), an authority
 * key identifier. The key identifier matters: a certificate from another CA with the same
 * name then finds no issuer (CERT_UNKNOWN_CA) instead of being matched with our root by
 * name. Signatures: ECDSA with SHA-256, or pure Ed25519 (no digest).
 *
 * Trust bundle (cert_ca_bundle), all lengths 4 octets big-endian:
 *   root length || root certificate DER || CRL length || CRL DER
 * nothing after it. The CRL is v2, signed when a bundle is asked for after a revocation
 * (or for the first time), with thisUpdate = that request's `now` and nextUpdate = the
 * root's notAfter, so a bundle a verifier caches stays usable as long as the root itself.
 * Requests with nothing new get the same bundle (a real CA reissues its CRL on change, not
 * per download); a request from before its thisUpdate gets a new one. It carries a CRL
 * number (one more per signed CRL) and the authority key identifier. Each entry's
 * revocationDate is the `at` of cert_ca_revoke.
 *
 * Revocation is checked by this file rather than by OpenSSL's CRL code (X509_V_FLAG_
 * CRL_CHECK): OpenSSL verifies the CRL's signature again on every X509_verify_cert, i.e.
 * hashes the whole CRL per device check (100,000 entries, 2 MB: 2.3 ms per check instead
 * of 0.26 ms with an empty CRL; here the same as empty). Here the verifier
 * checks the CRL once when it is built (issuer = root, signature by the root key) and
 * plugs a lookup into X509_verify_cert's revocation step (X509_STORE_set_check_revocation),
 * so errors keep OpenSSL's order: chain building, extensions, revocation, then signatures
 * and validity times. The lookup is a binary search in the CRL (OpenSSL sorts it once);
 * the CA's own check (cert_ca_accept) looks the serial up in its revocation table, so it
 * sees revocations no bundle has carried yet. Both refuse a listed serial from its
 * revocationDate on (cert.h: "from time `at` on"), and the verifier, like OpenSSL, treats a
 * check outside the CRL's thisUpdate..nextUpdate as a stale CRL (CERT_EXPIRED).
 *
 * Status mapping of X509_verify_cert errors: certificate or CRL outside its validity ->
 * CERT_EXPIRED; revoked -> CERT_REVOKED; unreadable time fields -> CERT_BAD_ENCODING; out
 * of memory or an internal error -> CERT_CRYPTO_ERROR; everything else (no issuer, bad CA
 * signature, invalid extensions, ...) -> CERT_UNKNOWN_CA. A certificate that passes the
 * chain but is a CA certificate or lacks keyUsage digitalSignature (the root presented as a
 * device certificate) is CERT_UNKNOWN_CA too.
 *
 * Speed: a verifier keeps one X509_STORE and one X509_STORE_CTX (re-initialised per check)
 * and one EVP_MD_CTX; the CA keeps the same for cert_ca_accept. Revocations go to an
 * open-addressing table (O(1) amortised) and to a list of entries not yet in the CRL; a
 * bundle request adds those to the CRL object kept between requests and signs it again,
 * so the CRL is built incrementally, once per request after changes (100,000 entries:
 * ~35 ms to revoke them all, ~170 ms for the 2 MB bundle, ~85 ms to build a verifier).
 * Certificates are written with their SubjectPublicKeyInfo set directly (set_spki), as
 * OpenSSL 3.0's encoder lookup in X509_set_pubkey cost more than the signature. Measured
 * on one core of the project's machine, idle: proof ~100 us, verifier check ~240 us, CA
 * accept ~300 us, issuance ~75 us, for either algorithm. Half of a check is d2i_X509:
 * OpenSSL 3.0 decodes the certificate's public key through a fresh decoder lookup on every
 * parse (~120 us for P-256, ~65 us for Ed25519), which no public API avoids; the signature
 * checks themselves are ~55 us (ECDSA P-256) and ~75 us (Ed25519) each. */
#include "m2m/cert.h"

#include <glib.h>
#include <limits.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/opensslv.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "m2m/kdf.h"

#if OPENSSL_VERSION_MAJOR < 3
#error "cert.c needs OpenSSL 3.0 or later (EVP_PKEY_fromdata, X509_STORE hooks)"
#endif

enum {
  P256_PUB_LEN = 65, /* 0x04 || X || Y */
  X25519_PUB_LEN = 32,
  ED25519_SIG_LEN = 64,
  ECDSA_MIN_SIG_LEN = 8,     /* SEQUENCE of two one-octet INTEGERs */
  MAX_CERT_DER_LEN = 16384,  /* ours are ~400 octets; a bound on what we try to parse */
  TRANSCRIPT_LABEL_LEN = 13, /* "m2m-cert-auth" */
  TRANSCRIPT_MAX = TRANSCRIPT_LABEL_LEN + CERT_NONCE_LEN + CERT_MAX_CONTEXT_LEN + CERT_MAX_PUB_LEN,
  ROOT_SERIAL = 1,
};

/* Bounds on caller times (seconds since CERT_EPOCH_UNIX): about 34,800 years either way,
 * so sums never overflow. What X.509 can carry is narrower (asn1_time). */
#define TIME_BOUND (INT64_C(1) << 40)

static const char transcript_label[] = "m2m-cert-auth";
static const char master_label[] = "m2m-cert-master";
static const char key_label[] = "m2m-cert-key";

G_STATIC_ASSERT(sizeof transcript_label - 1 == TRANSCRIPT_LABEL_LEN);
G_STATIC_ASSERT(CERT_MAX_PUB_LEN >= P256_PUB_LEN && CERT_MAX_SIG_LEN >= ED25519_SIG_LEN);

const char *
cert_alg_name(CertAlg alg)
{
  switch (alg) {
  case CERT_ECDSA_P256:
    return "ecdsa-p256";
  case CERT_ED25519:
    return "ed25519";
  }
  return "unknown";
}

const char *
cert_status_name(CertStatus status)
{
  switch (status) {
  case CERT_OK:
    return "ok";
  case CERT_BAD_ENCODING:
    return "bad-encoding";
  case CERT_UNKNOWN_CA:
    return "unknown-ca";
  case CERT_EXPIRED:
    return "expired";
  case CERT_REVOKED:
    return "revoked";
  case CERT_BAD_SIGNATURE:
    return "bad-signature";
  case CERT_CRYPTO_ERROR:
    return "crypto-error";
  }
  return "unknown";
}

static bool
alg_is_valid(CertAlg alg)
{
  return alg == CERT_ECDSA_P256 || alg == CERT_ED25519;
}

static size_t
eph_pub_len(CertAlg alg)
{
  return alg == CERT_ECDSA_P256 ? P256_PUB_LEN : X25519_PUB_LEN;
}

static time_t
unix_time(int64_t t)
{
  return (time_t)(CERT_EPOCH_UNIX + CLAMP(t, -TIME_BOUND, TIME_BOUND));
}

/* unix_time within what OpenSSL's ASN.1 times hold and compare: years 0000 to 9999.
 * ASN1_TIME_set writes other years as malformed strings, and comparisons with them fail
 * (X509_verify_cert then reports an "error in the certificate's notBefore field", i.e.
 * CERT_BAD_ENCODING for a sound certificate; ASN1_TIME_cmp_time_t returns -2). So
 * certificates are refused such dates (set_validity), CRL dates are written clamped, and a
 * check outside the range is made at its nearest end, where every certificate and CRL date
 * lies on the same side; checker_chain refuses a check before year 0000 itself, which the
 * clamp alone would not for a notBefore of exactly 0000-01-01. */
#define ASN1_UNIX_MIN INT64_C(-62167219200) /* 0000-01-01T00:00:00Z */
#define ASN1_UNIX_MAX INT64_C(253402300799) /* 9999-12-31T23:59:59Z */

static time_t
asn1_time(int64_t t)
{
  return (time_t)CLAMP((int64_t)unix_time(t), ASN1_UNIX_MIN, ASN1_UNIX_MAX);
}

/* ---- Keys from seeds -------------------------------------------------------------------- */

typedef enum {
  KEY_P256, /* ECDSA and ECDH alike */
  KEY_ED25519,
  KEY_X25519,
} KeyType;

static KeyType
sign_key_type(CertAlg alg)
{
  return alg == CERT_ECDSA_P256 ? KEY_P256 : KEY_ED25519;
}

static KeyType
kx_key_type(CertAlg alg)
{
  return alg == CERT_ECDSA_P256 ? KEY_P256 : KEY_X25519;
}

/* 32 octets for `role` and `counter` from the seed (file comment). */
static bool
seed_octets(const uint8_t seed[CERT_SEED_LEN], const char *role, uint8_t counter,
            uint8_t out[KDF_OUT_LEN])
{
  const KdfParam p[] = {
      {key_label, sizeof key_label - 1},
      {role, strlen(role)},
      {&counter, 1},
  };
  return kdf(seed, CERT_SEED_LEN, KDF_FC_M2M_CERT, p, G_N_ELEMENTS(p), out);
}

/* A P-256 key pair from the seed; `pub` gets the uncompressed point. */
static EVP_PKEY *
p256_from_seed(const EC_GROUP *group, const uint8_t seed[CERT_SEED_LEN], const char *role,
               uint8_t pub[P256_PUB_LEN])
{
  const BIGNUM *order = EC_GROUP_get0_order(group);
  BIGNUM *d = BN_secure_new();
  EC_POINT *q = EC_POINT_new(group);
  OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM *params = NULL;
  EVP_PKEY_CTX *pctx = NULL;
  EVP_PKEY *key = NULL;
  uint8_t octets[KDF_OUT_LEN];
  bool ok = d != NULL && q != NULL && bld != NULL && order != NULL;
  bool in_range = false;
  for (unsigned counter = 0; ok && !in_range && counter < 256; counter++) {
    ok = seed_octets(seed, role, (uint8_t)counter, octets) &&
         BN_bin2bn(octets, sizeof octets, d) != NULL;
    in_range = ok && !BN_is_zero(d) && BN_cmp(d, order) < 0;
  }
  OPENSSL_cleanse(octets, sizeof octets);
  ok = ok && in_range && EC_POINT_mul(group, q, d, NULL, NULL, NULL) &&
       EC_POINT_point2oct(group, q, POINT_CONVERSION_UNCOMPRESSED, pub, P256_PUB_LEN, NULL) ==
           P256_PUB_LEN &&
       OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, SN_X9_62_prime256v1, 0) &&
       OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d) &&
       OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, P256_PUB_LEN);
  if (ok)
    params = OSSL_PARAM_BLD_to_param(bld); /* d goes to its secure, wiped-on-free part */
  if (params != NULL)
    pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
  if (pctx == NULL || EVP_PKEY_fromdata_init(pctx) <= 0 ||
      EVP_PKEY_fromdata(pctx, &key, EVP_PKEY_KEYPAIR, params) <= 0) {
    EVP_PKEY_free(key);
    key = NULL;
  }
  EVP_PKEY_CTX_free(pctx);
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  EC_POINT_free(q);
  BN_clear_free(d);
  return key;
}

/* A key pair of `type` from the seed for `role`. When pub is not NULL it gets the public
 * key as sent in a proof (uncompressed point or raw octets) and *pub_len its length. */
static EVP_PKEY *
key_from_seed(KeyType type, const EC_GROUP *group, const uint8_t seed[CERT_SEED_LEN],
              const char *role, uint8_t pub[CERT_MAX_PUB_LEN], size_t *pub_len)
{
  uint8_t scratch[CERT_MAX_PUB_LEN];
  if (pub == NULL)
    pub = scratch;
  if (type == KEY_P256) {
    EVP_PKEY *key = p256_from_seed(group, seed, role, pub);
    if (pub_len != NULL)
      *pub_len = P256_PUB_LEN;
    return key;
  }
  uint8_t octets[KDF_OUT_LEN];
  EVP_PKEY *key = NULL;
  if (seed_octets(seed, role, 0, octets))
    key = EVP_PKEY_new_raw_private_key_ex(NULL, type == KEY_ED25519 ? "ED25519" : "X25519", NULL,
                                          octets, sizeof octets);
  OPENSSL_cleanse(octets, sizeof octets);
  size_t len = X25519_PUB_LEN;
  if (key != NULL && (EVP_PKEY_get_raw_public_key(key, pub, &len) != 1 || len != X25519_PUB_LEN)) {
    EVP_PKEY_free(key);
    key = NULL;
  }
  if (pub_len != NULL)
    *pub_len = len;
  return key;
}

/* The peer's key-exchange public key from the octets of a proof; NULL if they are not a
 * valid key (for P-256, EVP_PKEY_fromdata refuses a point off the curve). */
static EVP_PKEY *
kx_public_key(CertAlg alg, const uint8_t *pub, size_t len)
{
  if (len != eph_pub_len(alg))
    return NULL;
  if (alg == CERT_ED25519)
    return EVP_PKEY_new_raw_public_key_ex(NULL, "X25519", NULL, pub, len);
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)SN_X9_62_prime256v1, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *)pub, len),
      OSSL_PARAM_construct_end(),
  };
  EVP_PKEY *key = NULL;
  EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
  if (pctx == NULL || EVP_PKEY_fromdata_init(pctx) <= 0 ||
      EVP_PKEY_fromdata(pctx, &key, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
    EVP_PKEY_free(key);
    key = NULL;
  }
  EVP_PKEY_CTX_free(pctx);
  return key;
}

/* Z = ECDH/X25519(own, peer), 32 octets. The peer key was validated when it was built
 * (on the curve; X25519 refuses an all-zero result), so OpenSSL's second public-key check
 * (for P-256 a full n*Q = O multiplication) is skipped. */
static bool
key_agree(EVP_PKEY *own, EVP_PKEY *peer, uint8_t z[KDF_OUT_LEN])
{
  EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_pkey(NULL, own, NULL);
  size_t len = KDF_OUT_LEN;
  bool ok = pctx != NULL && EVP_PKEY_derive_init(pctx) > 0 &&
            EVP_PKEY_derive_set_peer_ex(pctx, peer, 0) > 0 && EVP_PKEY_derive(pctx, z, &len) > 0 &&
            len == KDF_OUT_LEN;
  EVP_PKEY_CTX_free(pctx);
  if (!ok)
    OPENSSL_cleanse(z, KDF_OUT_LEN);
  return ok;
}

/* ---- Transcript, signatures, master ----------------------------------------------------- */

/* "m2m-cert-auth" || nonce || context || ephemeral public key; returns its length. */
static size_t
transcript(const uint8_t nonce[CERT_NONCE_LEN], const void *context, size_t context_len,
           const uint8_t *eph_pub, size_t eph_len, uint8_t out[TRANSCRIPT_MAX])
{
  size_t n = 0;
  memcpy(out, transcript_label, TRANSCRIPT_LABEL_LEN);
  n += TRANSCRIPT_LABEL_LEN;
  memcpy(out + n, nonce, CERT_NONCE_LEN);
  n += CERT_NONCE_LEN;
  if (context_len > 0)
    memcpy(out + n, context, context_len);
  n += context_len;
  memcpy(out + n, eph_pub, eph_len);
  return n + eph_len;
}

/* master = KDF(Z, FC = KDF_FC_M2M_CERT, P0 = "m2m-cert-master", P1 = SHA-256(transcript)). */
static bool
derive_master(const uint8_t z[KDF_OUT_LEN], const uint8_t *tr, size_t tr_len,
              uint8_t master[CERT_MASTER_LEN])
{
  uint8_t hash[32];
  unsigned hash_len = 0;
  if (!EVP_Digest(tr, tr_len, hash, &hash_len, EVP_sha256(), NULL) || hash_len != sizeof hash) {
    OPENSSL_cleanse(master, CERT_MASTER_LEN);
    return false;
  }
  const KdfParam p[] = {
      {master_label, sizeof master_label - 1},
      {hash, sizeof hash},
  };
  G_STATIC_ASSERT(CERT_MASTER_LEN == KDF_OUT_LEN);
  return kdf(z, KDF_OUT_LEN, KDF_FC_M2M_CERT, p, G_N_ELEMENTS(p), master);
}

/* The digest a signature of `alg` uses with EVP_DigestSign/Verify: SHA-256 for ECDSA, none
 * for Ed25519 (it hashes the message itself). */
static const EVP_MD *
sig_md(CertAlg alg)
{
  return alg == CERT_ECDSA_P256 ? EVP_sha256() : NULL;
}

/* ---- X.509 ------------------------------------------------------------------------------ */

static bool
add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
  X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, v3, nid, value);
  bool ok = ext != NULL && X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  return ok;
}

static bool
set_validity(ASN1_TIME *before, ASN1_TIME *after, int64_t not_before, int64_t lifetime)
{
  if (not_before < -TIME_BOUND || not_before > TIME_BOUND || lifetime < 0 || lifetime > TIME_BOUND)
    return false;
  int64_t from = unix_time(not_before), to = unix_time(not_before + lifetime);
  return from >= ASN1_UNIX_MIN && to <= ASN1_UNIX_MAX && ASN1_TIME_set(before, from) != NULL &&
         ASN1_TIME_set(after, to) != NULL;
}

/* The SubjectPublicKeyInfo of a key whose public octets are `pub`, written directly:
 * X509_set_pubkey would go through OpenSSL 3.0's encoder lookup, which costs more than
 * signing the certificate. */
static bool
set_spki(X509 *x, CertAlg alg, const uint8_t *pub, size_t pub_len)
{
  unsigned char *penc = OPENSSL_memdup(pub, pub_len);
  bool ok = penc != NULL &&
            (alg == CERT_ECDSA_P256
                 ? X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x),
                                          OBJ_nid2obj(NID_X9_62_id_ecPublicKey), V_ASN1_OBJECT,
                                          OBJ_nid2obj(NID_X9_62_prime256v1), penc, (int)pub_len)
                 : X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), OBJ_nid2obj(NID_ED25519),
                                          V_ASN1_UNDEF, NULL, penc, (int)pub_len));
  if (!ok)
    OPENSSL_free(penc);
  return ok;
}

/* The DER (g_malloc'ed) of a certificate for the public key `pub` with CN `cn`, signed by
 * `issuer_key`. `issuer` NULL makes the self-signed root; otherwise a device certificate
 * issued by that root. */
static uint8_t *
issue(CertAlg alg, const uint8_t *pub, size_t pub_len, const char *cn, uint64_t serial,
      int64_t not_before, int64_t lifetime, X509 *issuer, EVP_PKEY *issuer_key, size_t *der_len)
{
  X509 *x = X509_new();
  X509_NAME *name = X509_NAME_new();
  bool ok =
      x != NULL && name != NULL && X509_set_version(x, X509_VERSION_3) &&
      ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial) &&
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) &&
      X509_set_subject_name(x, name) &&
      X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer) : name) &&
      set_validity(X509_getm_notBefore(x), X509_getm_notAfter(x), not_before, lifetime) &&
      set_spki(x, alg, pub, pub_len);
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
  if (issuer == NULL)
    ok = ok && add_ext(x, &v3, NID_basic_constraints, "critical,CA:TRUE") &&
         add_ext(x, &v3, NID_key_usage, "critical,keyCertSign,cRLSign") &&
         add_ext(x, &v3, NID_subject_key_identifier, "hash");
  else
    ok = ok && add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE") &&
         add_ext(x, &v3, NID_key_usage, "critical,digitalSignature") &&
         add_ext(x, &v3, NID_authority_key_identifier, "keyid:always");
  ok = ok && X509_sign(x, issuer_key, sig_md(alg)) > 0;
  uint8_t *der = NULL;
  int n = ok ? i2d_X509(x, NULL) : 0;
  if (n > 0) {
    der = g_malloc((size_t)n);
    unsigned char *p = der;
    if (i2d_X509(x, &p) != n)
      g_clear_pointer(&der, g_free);
  }
  *der_len = der != NULL ? (size_t)n : 0;
  X509_NAME_free(name);
  X509_free(x);
  return der;
}

/* Parses exactly `len` octets of certificate DER; NULL if they are anything else. */
static X509 *
x509_parse(const uint8_t *der, size_t len)
{
  if (der == NULL || len == 0 || len > MAX_CERT_DER_LEN)
    return NULL;
  const unsigned char *p = der;
  X509 *x = d2i_X509(NULL, &p, (long)len);
  if (x != NULL && p != der + len) {
    X509_free(x);
    return NULL;
  }
  return x;
}

static CertStatus
status_of_x509_error(int err)
{
  switch (err) {
  case X509_V_OK:
    return CERT_OK;
  case X509_V_ERR_CERT_HAS_EXPIRED:
  case X509_V_ERR_CERT_NOT_YET_VALID:
  case X509_V_ERR_CRL_HAS_EXPIRED:
  case X509_V_ERR_CRL_NOT_YET_VALID:
    return CERT_EXPIRED;
  case X509_V_ERR_CERT_REVOKED:
    return CERT_REVOKED;
  case X509_V_ERR_ERROR_IN_CERT_NOT_BEFORE_FIELD:
  case X509_V_ERR_ERROR_IN_CERT_NOT_AFTER_FIELD:
  case X509_V_ERR_UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY:
    return CERT_BAD_ENCODING;
  case X509_V_ERR_OUT_OF_MEM:
  case X509_V_ERR_UNSPECIFIED:
  case X509_V_ERR_INVALID_CALL:
  case X509_V_ERR_STORE_LOOKUP:
    return CERT_CRYPTO_ERROR;
  default:
    return CERT_UNKNOWN_CA;
  }
}

/* ---- Checker: chain and proof checks shared by verifiers and the CA --------------------- */

typedef struct Checker Checker;

/* X509_V_OK, or the X509_V_ERR_ code refusing `leaf` at chk->now (revoked, stale CRL). */
typedef int (*CheckerRevocation)(Checker *chk, X509 *leaf);

struct Checker {
  CertAlg alg;
  X509 *root;          /* the trust anchor (the store holds a reference too) */
  X509_STORE *store;   /* the root alone */
  X509_STORE_CTX *ctx; /* re-initialised for every check */
  EVP_MD_CTX *md;      /* for the proof's signature */
  CheckerRevocation revocation;
  void *owner; /* the CertVerifier or CertCa */
  int64_t now; /* time of the check in progress, s since CERT_EPOCH_UNIX */
};

/* X509_verify_cert's revocation step (file comment): the leaf against the owner's list. */
static int
revocation_hook(X509_STORE_CTX *ctx)
{
  Checker *chk = X509_STORE_CTX_get_app_data(ctx);
  STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
  if (sk_X509_num(chain) < 2)
    return 1; /* the root itself: the leaf check refuses it anyway */
  X509 *leaf = sk_X509_value(chain, 0);
  int err = chk->revocation(chk, leaf);
  if (err == X509_V_OK)
    return 1;
  X509_STORE_CTX_set_error_depth(ctx, 0);
  X509_STORE_CTX_set_current_cert(ctx, leaf);
  X509_STORE_CTX_set_error(ctx, err);
  return X509_STORE_CTX_get_verify_cb(ctx)(0, ctx);
}

/* Takes ownership of root (on failure too). */
static bool
checker_init(Checker *chk, CertAlg alg, X509 *root, CheckerRevocation revocation, void *owner)
{
  memset(chk, 0, sizeof *chk);
  chk->alg = alg;
  chk->root = root;
  chk->revocation = revocation;
  chk->owner = owner;
  chk->store = X509_STORE_new();
  chk->ctx = X509_STORE_CTX_new();
  chk->md = EVP_MD_CTX_new();
  bool ok = chk->store != NULL && chk->ctx != NULL && chk->md != NULL &&
            X509_STORE_add_cert(chk->store, root) &&
            X509_STORE_set_flags(chk->store, X509_V_FLAG_X509_STRICT);
  if (ok)
    X509_STORE_set_check_revocation(chk->store, revocation_hook);
  return ok;
}

static void
checker_clear(Checker *chk)
{
  X509_free(chk->root);
  EVP_MD_CTX_free(chk->md);
  X509_STORE_CTX_free(chk->ctx);
  X509_STORE_free(chk->store);
  memset(chk, 0, sizeof *chk);
}

/* Parses the device certificate and checks its chain at `now`. On CERT_OK *leaf holds it
 * (caller frees). */
static CertStatus
checker_chain(Checker *chk, const uint8_t *cert_der, size_t cert_len, int64_t now, X509 **leaf)
{
  *leaf = NULL;
  X509 *x = x509_parse(cert_der, cert_len);
  if (x == NULL || X509_get0_pubkey(x) == NULL) { /* the key is decoded lazily */
    X509_free(x);
    return CERT_BAD_ENCODING;
  }
  if (!X509_STORE_CTX_init(chk->ctx, chk->store, x, NULL)) {
    X509_free(x);
    return CERT_CRYPTO_ERROR;
  }
  chk->now = now;
  X509_STORE_CTX_set_app_data(chk->ctx, chk);
  time_t t = asn1_time(now);
  X509_STORE_CTX_set_time(chk->ctx, 0, t);
  int ok = X509_verify_cert(chk->ctx);
  int err = X509_STORE_CTX_get_error(chk->ctx);
  CertStatus status = ok > 0 ? CERT_OK : status_of_x509_error(err);
  if (ok <= 0 && status == CERT_OK)
    status = CERT_CRYPTO_ERROR; /* refused without a reason: never take it as a yes */
  X509_STORE_CTX_cleanup(chk->ctx);
  /* Valid for `lifetime` seconds: notAfter itself is already outside. OpenSSL 3.0 reads
   * notAfter so, later versions take it as the last valid second; this pins the first. */
  if (status == CERT_OK && (ASN1_TIME_cmp_time_t(X509_get0_notAfter(x), t) <= 0 ||
                            ASN1_TIME_cmp_time_t(X509_get0_notAfter(chk->root), t) <= 0 ||
                            (int64_t)unix_time(now) < ASN1_UNIX_MIN))
    status = CERT_EXPIRED;
  if (status == CERT_OK) {
    /* A device certificate: not a CA, allowed to sign, a key of the CA's algorithm. */
    EVP_PKEY *key = X509_get0_pubkey(x);
    int want = chk->alg == CERT_ECDSA_P256 ? EVP_PKEY_EC : EVP_PKEY_ED25519;
    if ((X509_get_extension_flags(x) & EXFLAG_CA) != 0 ||
        (X509_get_key_usage(x) & KU_DIGITAL_SIGNATURE) == 0)
      status = CERT_UNKNOWN_CA;
    else if (key == NULL || EVP_PKEY_get_base_id(key) != want)
      status = CERT_BAD_ENCODING;
  }
  if (status != CERT_OK) {
    X509_free(x);
    return status;
  }
  *leaf = x;
  return CERT_OK;
}

/* Checks the proof's shape and its signature by the leaf's key; builds the transcript. */
static CertStatus
checker_proof(Checker *chk, X509 *leaf, const CertProof *proof, const uint8_t nonce[CERT_NONCE_LEN],
              const void *context, size_t context_len, uint8_t tr[TRANSCRIPT_MAX], size_t *tr_len)
{
  if (proof->eph_pub_len != eph_pub_len(chk->alg) || proof->sig_len > CERT_MAX_SIG_LEN ||
      (chk->alg == CERT_ECDSA_P256 ? proof->eph_pub[0] != POINT_CONVERSION_UNCOMPRESSED ||
                                         proof->sig_len < ECDSA_MIN_SIG_LEN
                                   : proof->sig_len != ED25519_SIG_LEN))
    return CERT_BAD_ENCODING;
  *tr_len = transcript(nonce, context, context_len, proof->eph_pub, proof->eph_pub_len, tr);
  EVP_MD_CTX_reset(chk->md);
  if (EVP_DigestVerifyInit(chk->md, NULL, sig_md(chk->alg), NULL, X509_get0_pubkey(leaf)) != 1)
    return CERT_CRYPTO_ERROR;
  int r = EVP_DigestVerify(chk->md, proof->sig, proof->sig_len, tr, *tr_len);
  return r == 1 ? CERT_OK : CERT_BAD_SIGNATURE;
}

/* ---- The CA ----------------------------------------------------------------------------- */

typedef struct {
  uint64_t serial; /* 0: free slot (certificate serials are > 0) */
  int64_t at;      /* revoked from, s since CERT_EPOCH_UNIX */
} CertRevoked;

struct CertCa {
  CertAlg alg;
  EC_GROUP *group; /* P-256, for keys from seeds (NULL for Ed25519) */
  EVP_PKEY *root_key;
  EVP_PKEY *kx_key; /* static key-exchange key pair */
  EVP_PKEY *kx_pub; /* its public half, as devices hold it */
  X509 *root;
  int64_t root_not_after;
  Checker checker; /* cert_ca_accept: root, revocations from `revoked` */

  CertRevoked *revoked; /* open addressing, linear probing, capacity a power of two */
  size_t revoked_cap;
  size_t revoked_count;
  GArray *pending; /* CertRevoked not yet in `crl` */

  X509_CRL *crl; /* kept between bundles, entries added incrementally */
  uint64_t crl_number;
  bool bundle_valid;  /* `bundle` holds every revocation (nothing pending) */
  int64_t bundle_now; /* its CRL's thisUpdate */
  uint8_t *root_der;
  size_t root_der_len;
  GByteArray *bundle;
};

/* splitmix64's finaliser: serials are often consecutive. */
static size_t
serial_hash(uint64_t x)
{
  x ^= x >> 30;
  x *= UINT64_C(0xbf58476d1ce4e5b9);
  x ^= x >> 27;
  x *= UINT64_C(0x94d049bb133111eb);
  x ^= x >> 31;
  return (size_t)x;
}

static CertRevoked *
revoked_slot(CertRevoked *table, size_t cap, uint64_t serial)
{
  size_t i = serial_hash(serial) & (cap - 1);
  while (table[i].serial != 0 && table[i].serial != serial)
    i = (i + 1) & (cap - 1);
  return &table[i];
}

static const CertRevoked *
revoked_find(const CertCa *ca, uint64_t serial)
{
  if (ca->revoked_count == 0 || serial == 0)
    return NULL;
  const CertRevoked *r = revoked_slot(ca->revoked, ca->revoked_cap, serial);
  return r->serial == serial ? r : NULL;
}

/* Load at most 1/2: doubles the table (rehashing every entry) when it would pass that. */
static void
revoked_grow(CertCa *ca)
{
  if (2 * (ca->revoked_count + 1) <= ca->revoked_cap)
    return;
  size_t cap = ca->revoked_cap ? 2 * ca->revoked_cap : 64;
  CertRevoked *table = g_new0(CertRevoked, cap);
  for (size_t i = 0; i < ca->revoked_cap; i++)
    if (ca->revoked[i].serial != 0)
      *revoked_slot(table, cap, ca->revoked[i].serial) = ca->revoked[i];
  g_free(ca->revoked);
  ca->revoked = table;
  ca->revoked_cap = cap;
}

static int
ca_revocation(Checker *chk, X509 *leaf)
{
  const CertCa *ca = chk->owner;
  uint64_t serial = 0;
  if (!ASN1_INTEGER_get_uint64(&serial, X509_get0_serialNumber(leaf)))
    return X509_V_OK; /* not a serial we issue, so not one we revoked */
  const CertRevoked *r = revoked_find(ca, serial);
  return r != NULL && r->at <= chk->now ? X509_V_ERR_CERT_REVOKED : X509_V_OK;
}

CertCa *
cert_ca_new(CertAlg alg, const char *name, const uint8_t seed[CERT_SEED_LEN], int64_t not_before,
            int64_t lifetime)
{
  g_return_val_if_fail(alg_is_valid(alg) && name != NULL && seed != NULL, NULL);
  CertCa *ca = g_new0(CertCa, 1);
  ca->alg = alg;
  ca->pending = g_array_new(FALSE, FALSE, sizeof(CertRevoked));
  ca->bundle = g_byte_array_new();
  bool ok = alg != CERT_ECDSA_P256 ||
            (ca->group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1)) != NULL;
  uint8_t root_pub[CERT_MAX_PUB_LEN], kx_pub[CERT_MAX_PUB_LEN];
  size_t root_pub_len = 0, kx_pub_len = 0;
  if (ok) {
    ca->root_key =
        key_from_seed(sign_key_type(alg), ca->group, seed, "ca-root", root_pub, &root_pub_len);
    ca->kx_key = key_from_seed(kx_key_type(alg), ca->group, seed, "ca-kx", kx_pub, &kx_pub_len);
    ok = ca->root_key != NULL && ca->kx_key != NULL &&
         (ca->kx_pub = kx_public_key(alg, kx_pub, kx_pub_len)) != NULL;
  }
  /* The root object is parsed back from its DER: exactly what verifiers will hold. */
  if (ok)
    ca->root_der = issue(alg, root_pub, root_pub_len, name, ROOT_SERIAL, not_before, lifetime, NULL,
                         ca->root_key, &ca->root_der_len);
  if (ca->root_der != NULL)
    ca->root_not_after = not_before + lifetime; /* in range: issue checked both */
  ok = ok && ca->root_der != NULL &&
       (ca->root = x509_parse(ca->root_der, ca->root_der_len)) != NULL && X509_up_ref(ca->root) &&
       checker_init(&ca->checker, alg, ca->root, ca_revocation, ca);
  if (!ok) {
    cert_ca_free(ca);
    return NULL;
  }
  return ca;
}

void
cert_ca_free(CertCa *ca)
{
  if (ca == NULL)
    return;
  checker_clear(&ca->checker);
  X509_CRL_free(ca->crl);
  X509_free(ca->root);
  EVP_PKEY_free(ca->kx_pub);
  EVP_PKEY_free(ca->kx_key);
  EVP_PKEY_free(ca->root_key);
  EC_GROUP_free(ca->group);
  g_free(ca->revoked);
  g_array_unref(ca->pending);
  g_free(ca->root_der);
  g_byte_array_unref(ca->bundle);
  g_free(ca);
}

CertAlg
cert_ca_alg(const CertCa *ca)
{
  return ca->alg;
}

/* A serial revoked twice keeps its first date. */
void
cert_ca_revoke(CertCa *ca, uint64_t serial, int64_t at)
{
  g_return_if_fail(ca != NULL && serial > 0);
  if (revoked_find(ca, serial) != NULL)
    return;
  revoked_grow(ca);
  CertRevoked r = {serial, CLAMP(at, -TIME_BOUND, TIME_BOUND)};
  *revoked_slot(ca->revoked, ca->revoked_cap, serial) = r;
  ca->revoked_count++;
  g_array_append_val(ca->pending, r);
  ca->bundle_valid = false;
}

size_t
cert_ca_revoked_count(const CertCa *ca)
{
  return ca->revoked_count;
}

/* The empty CRL's fixed parts: version 2, issuer, authority key identifier. */
static X509_CRL *
crl_new(CertCa *ca)
{
  X509_CRL *crl = X509_CRL_new();
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, ca->root, NULL, NULL, crl, 0);
  X509_EXTENSION *akid =
      crl != NULL ? X509V3_EXT_nconf_nid(NULL, &v3, NID_authority_key_identifier, "keyid:always")
                  : NULL;
  bool ok = akid != NULL && X509_CRL_set_version(crl, X509_CRL_VERSION_2) &&
            X509_CRL_set_issuer_name(crl, X509_get_subject_name(ca->root)) &&
            X509_CRL_add_ext(crl, akid, -1);
  X509_EXTENSION_free(akid);
  if (!ok) {
    X509_CRL_free(crl);
    return NULL;
  }
  return crl;
}

/* Adds the pending entries, stamps thisUpdate = now, and signs the CRL again. */
static bool
crl_update(CertCa *ca, int64_t now)
{
  if (ca->crl == NULL && (ca->crl = crl_new(ca)) == NULL)
    return false;
  X509_CRL *crl = ca->crl;
  for (guint i = 0; i < ca->pending->len; i++) {
    const CertRevoked *r = &g_array_index(ca->pending, CertRevoked, i);
    X509_REVOKED *entry = X509_REVOKED_new();
    ASN1_INTEGER *serial = ASN1_INTEGER_new();
    ASN1_TIME *date = ASN1_TIME_set(NULL, asn1_time(r->at));
    bool ok = entry != NULL && serial != NULL && date != NULL &&
              ASN1_INTEGER_set_uint64(serial, r->serial) &&
              X509_REVOKED_set_serialNumber(entry, serial) &&
              X509_REVOKED_set_revocationDate(entry, date) && X509_CRL_add0_revoked(crl, entry);
    ASN1_INTEGER_free(serial);
    ASN1_TIME_free(date);
    if (!ok) {
      X509_REVOKED_free(entry);
      /* Start again from scratch next time: the CRL would otherwise miss this entry. */
      X509_CRL_free(ca->crl);
      ca->crl = NULL;
      g_array_set_size(ca->pending, 0);
      for (size_t j = 0; j < ca->revoked_cap; j++)
        if (ca->revoked[j].serial != 0)
          g_array_append_val(ca->pending, ca->revoked[j]);
      return false;
    }
  }
  g_array_set_size(ca->pending, 0);
  ASN1_TIME *this_update = ASN1_TIME_set(NULL, asn1_time(now));
  ASN1_TIME *next_update = ASN1_TIME_set(NULL, asn1_time(MAX(ca->root_not_after, now)));
  ASN1_INTEGER *number = ASN1_INTEGER_new();
  bool ok = this_update != NULL && next_update != NULL && number != NULL &&
            ASN1_INTEGER_set_uint64(number, ++ca->crl_number) &&
            X509_CRL_set1_lastUpdate(crl, this_update) &&
            X509_CRL_set1_nextUpdate(crl, next_update) &&
            X509_CRL_add1_ext_i2d(crl, NID_crl_number, number, 0, X509V3_ADD_REPLACE) > 0 &&
            X509_CRL_sort(crl) && X509_CRL_sign(crl, ca->root_key, sig_md(ca->alg)) > 0;
  ASN1_INTEGER_free(number);
  ASN1_TIME_free(next_update);
  ASN1_TIME_free(this_update);
  return ok;
}

static void
put_be32(GByteArray *out, size_t n)
{
  uint8_t b[4] = {(uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
  g_byte_array_append(out, b, 4);
}

const uint8_t *
cert_ca_bundle(CertCa *ca, int64_t now, size_t *len)
{
  g_return_val_if_fail(ca != NULL && len != NULL, NULL);
  *len = 0;
  /* Unchanged since the last bundle: the same one (a CA reissues a CRL when it changes; a
   * verifier accepts it from its thisUpdate on). Only a request from before that needs a
   * new signature. */
  if (!ca->bundle_valid || now < ca->bundle_now) {
    ca->bundle_valid = false;
    if (!crl_update(ca, now))
      return NULL;
    int crl_len = i2d_X509_CRL(ca->crl, NULL);
    if (crl_len <= 0 || (uint64_t)crl_len > UINT32_MAX)
      return NULL;
    g_byte_array_set_size(ca->bundle, 0);
    put_be32(ca->bundle, ca->root_der_len);
    g_byte_array_append(ca->bundle, ca->root_der, (guint)ca->root_der_len);
    put_be32(ca->bundle, (size_t)crl_len);
    guint at = ca->bundle->len;
    g_byte_array_set_size(ca->bundle, at + (guint)crl_len);
    unsigned char *p = ca->bundle->data + at;
    if (i2d_X509_CRL(ca->crl, &p) != crl_len)
      return NULL;
    ca->bundle_valid = true;
    ca->bundle_now = now;
  }
  *len = ca->bundle->len;
  return ca->bundle->data;
}

CertStatus
cert_ca_accept(CertCa *ca, const uint8_t *cert_der, size_t cert_len, const CertProof *proof,
               const uint8_t nonce[CERT_NONCE_LEN], const void *context, size_t context_len,
               int64_t now, uint8_t master[CERT_MASTER_LEN])
{
  g_return_val_if_fail(master != NULL, CERT_CRYPTO_ERROR);
  memset(master, 0, CERT_MASTER_LEN);
  g_return_val_if_fail(ca != NULL && proof != NULL && nonce != NULL, CERT_CRYPTO_ERROR);
  g_return_val_if_fail(context_len <= CERT_MAX_CONTEXT_LEN && (context != NULL || !context_len),
                       CERT_BAD_ENCODING);
  ERR_set_mark(); /* refused input leaves OpenSSL errors; they are expected, not reported */
  X509 *leaf = NULL;
  EVP_PKEY *peer = NULL;
  uint8_t tr[TRANSCRIPT_MAX], z[KDF_OUT_LEN];
  size_t tr_len = 0;
  CertStatus status = checker_chain(&ca->checker, cert_der, cert_len, now, &leaf);
  if (status == CERT_OK)
    status = checker_proof(&ca->checker, leaf, proof, nonce, context, context_len, tr, &tr_len);
  if (status == CERT_OK &&
      (peer = kx_public_key(ca->alg, proof->eph_pub, proof->eph_pub_len)) == NULL)
    status = CERT_BAD_ENCODING; /* signed, but not a point on the curve */
  if (status == CERT_OK)
    status = key_agree(ca->kx_key, peer, z) ? CERT_OK : CERT_BAD_ENCODING;
  if (status == CERT_OK && !derive_master(z, tr, tr_len, master))
    status = CERT_CRYPTO_ERROR;
  OPENSSL_cleanse(z, sizeof z);
  EVP_PKEY_free(peer);
  X509_free(leaf);
  ERR_pop_to_mark();
  if (status != CERT_OK)
    OPENSSL_cleanse(master, CERT_MASTER_LEN);
  return status;
}

/* ---- Devices ---------------------------------------------------------------------------- */

struct CertDevice {
  CertAlg alg;
  EVP_PKEY *key; /* the private key the device holds (not the certified one if mismatched) */
  uint8_t *der;  /* its certificate */
  size_t der_len;
};

CertDevice *
cert_device_new_mismatched(CertCa *ca, const uint8_t seed[CERT_SEED_LEN],
                           const uint8_t wrong_seed[CERT_SEED_LEN], uint64_t serial,
                           const char *subject, int64_t not_before, int64_t lifetime)
{
  g_return_val_if_fail(ca != NULL && seed != NULL && wrong_seed != NULL && subject != NULL, NULL);
  g_return_val_if_fail(serial > 0, NULL);
  CertDevice *dev = g_new0(CertDevice, 1);
  dev->alg = ca->alg;
  KeyType type = sign_key_type(ca->alg);
  uint8_t pub[CERT_MAX_PUB_LEN];
  size_t pub_len = 0;
  EVP_PKEY *certified = key_from_seed(type, ca->group, seed, "device", pub, &pub_len);
  if (certified != NULL)
    dev->der = issue(ca->alg, pub, pub_len, subject, serial, not_before, lifetime, ca->root,
                     ca->root_key, &dev->der_len);
  if (seed == wrong_seed || memcmp(seed, wrong_seed, CERT_SEED_LEN) == 0)
    dev->key = certified;
  else {
    EVP_PKEY_free(certified);
    dev->key = key_from_seed(type, ca->group, wrong_seed, "device", NULL, NULL);
  }
  if (dev->der == NULL || dev->key == NULL) {
    cert_device_free(dev);
    return NULL;
  }
  return dev;
}

CertDevice *
cert_device_new(CertCa *ca, const uint8_t seed[CERT_SEED_LEN], uint64_t serial, const char *subject,
                int64_t not_before, int64_t lifetime)
{
  return cert_device_new_mismatched(ca, seed, seed, serial, subject, not_before, lifetime);
}

void
cert_device_free(CertDevice *dev)
{
  if (dev != NULL) {
    EVP_PKEY_free(dev->key);
    g_free(dev->der);
    g_free(dev);
  }
}

const uint8_t *
cert_device_der(const CertDevice *dev, size_t *len)
{
  g_return_val_if_fail(dev != NULL && len != NULL, NULL);
  *len = dev->der_len;
  return dev->der;
}

/* A device answering a CA of another algorithm gets CERT_BAD_ENCODING (a caller's mistake:
 * its keys cannot take part in that CA's key exchange). */
CertStatus
cert_device_prove(const CertDevice *dev, const CertCa *ca, const uint8_t nonce[CERT_NONCE_LEN],
                  const void *context, size_t context_len, const uint8_t eph_seed[CERT_SEED_LEN],
                  CertProof *proof, uint8_t master[CERT_MASTER_LEN])
{
  g_return_val_if_fail(master != NULL && proof != NULL, CERT_CRYPTO_ERROR);
  memset(master, 0, CERT_MASTER_LEN);
  memset(proof, 0, sizeof *proof);
  g_return_val_if_fail(dev != NULL && ca != NULL && nonce != NULL && eph_seed != NULL,
                       CERT_CRYPTO_ERROR);
  g_return_val_if_fail(context_len <= CERT_MAX_CONTEXT_LEN && (context != NULL || !context_len),
                       CERT_BAD_ENCODING);
  if (dev->alg != ca->alg)
    return CERT_BAD_ENCODING;
  size_t pub_len = 0;
  EVP_PKEY *eph =
      key_from_seed(kx_key_type(ca->alg), ca->group, eph_seed, "eph", proof->eph_pub, &pub_len);
  uint8_t tr[TRANSCRIPT_MAX], z[KDF_OUT_LEN];
  size_t tr_len = transcript(nonce, context, context_len, proof->eph_pub, pub_len, tr);
  size_t sig_len = CERT_MAX_SIG_LEN;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  bool ok = eph != NULL && md != NULL &&
            EVP_DigestSignInit(md, NULL, sig_md(dev->alg), NULL, dev->key) == 1 &&
            EVP_DigestSign(md, proof->sig, &sig_len, tr, tr_len) == 1 &&
            key_agree(eph, ca->kx_pub, z) && derive_master(z, tr, tr_len, master);
  EVP_MD_CTX_free(md);
  EVP_PKEY_free(eph);
  OPENSSL_cleanse(z, sizeof z);
  if (!ok) {
    OPENSSL_cleanse(master, CERT_MASTER_LEN);
    memset(proof, 0, sizeof *proof);
    return CERT_CRYPTO_ERROR;
  }
  proof->eph_pub_len = (uint8_t)pub_len;
  proof->sig_len = (uint8_t)sig_len;
  return CERT_OK;
}

/* ---- Verifiers -------------------------------------------------------------------------- */

struct CertVerifier {
  Checker checker;
  X509_CRL *crl; /* checked once: issued and signed by the root */
};

static int
verifier_revocation(Checker *chk, X509 *leaf)
{
  CertVerifier *v = chk->owner;
  time_t t = asn1_time(chk->now);
  const ASN1_TIME *next = X509_CRL_get0_nextUpdate(v->crl);
  if (ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(v->crl), t) > 0)
    return X509_V_ERR_CRL_NOT_YET_VALID;
  if (next != NULL && ASN1_TIME_cmp_time_t(next, t) <= 0) /* as for notAfter */
    return X509_V_ERR_CRL_HAS_EXPIRED;
  X509_REVOKED *entry = NULL;
  if (X509_CRL_get0_by_cert(v->crl, &entry, leaf) == 1 &&
      ASN1_TIME_cmp_time_t(X509_REVOKED_get0_revocationDate(entry), t) <= 0)
    return X509_V_ERR_CERT_REVOKED;
  return X509_V_OK;
}

static bool
get_be32(const uint8_t **p, const uint8_t *end, size_t *n)
{
  if (end - *p < 4)
    return false;
  *n = (size_t)(*p)[0] << 24 | (size_t)(*p)[1] << 16 | (size_t)(*p)[2] << 8 | (*p)[3];
  *p += 4;
  return *n > 0 && (size_t)(end - *p) >= *n && *n <= LONG_MAX;
}

static bool
is_p256(const EVP_PKEY *key)
{
  char group[32];
  size_t len = 0;
  return EVP_PKEY_get_group_name(key, group, sizeof group, &len) == 1 &&
         strcmp(group, SN_X9_62_prime256v1) == 0;
}

/* The root and CRL of a bundle, checked for consistency: a self-signed CA root (signature
 * verified) whose key is of a known algorithm, a CRL it issued and signed. */
static CertStatus
bundle_parse(const uint8_t *bundle, size_t len, X509 **root_out, X509_CRL **crl_out, CertAlg *alg)
{
  *root_out = NULL;
  *crl_out = NULL;
  if (bundle == NULL)
    return CERT_BAD_ENCODING;
  const uint8_t *p = bundle, *end = bundle + len;
  size_t root_len = 0, crl_len = 0;
  X509 *root = NULL;
  X509_CRL *crl = NULL;
  if (get_be32(&p, end, &root_len) && root_len <= MAX_CERT_DER_LEN) {
    const unsigned char *q = p;
    root = d2i_X509(NULL, &q, (long)root_len);
    if (root != NULL && q != p + root_len)
      X509_free(g_steal_pointer(&root));
    p += root_len;
  }
  if (root != NULL && get_be32(&p, end, &crl_len) && crl_len == (size_t)(end - p)) {
    const unsigned char *q = p;
    crl = d2i_X509_CRL(NULL, &q, (long)crl_len);
    if (crl != NULL && q != end)
      X509_CRL_free(g_steal_pointer(&crl));
  }
  EVP_PKEY *key = root != NULL ? X509_get0_pubkey(root) : NULL;
  bool ok = crl != NULL && key != NULL && X509_self_signed(root, 1) == 1 &&
            X509_check_ca(root) == 1 &&
            (X509_get_key_usage(root) & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) ==
                (KU_KEY_CERT_SIGN | KU_CRL_SIGN) &&
            X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(root)) == 0 &&
            X509_CRL_verify(crl, key) == 1;
  if (ok && EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519)
    *alg = CERT_ED25519;
  else if (ok && EVP_PKEY_get_base_id(key) == EVP_PKEY_EC && is_p256(key))
    *alg = CERT_ECDSA_P256;
  else
    ok = false;
  if (!ok) {
    X509_CRL_free(crl);
    X509_free(root);
    return CERT_BAD_ENCODING;
  }
  *root_out = root;
  *crl_out = crl;
  return CERT_OK;
}

CertVerifier *
cert_verifier_new(const uint8_t *bundle, size_t len, CertStatus *status)
{
  CertStatus dummy;
  if (status == NULL)
    status = &dummy;
  ERR_set_mark();
  X509 *root = NULL;
  X509_CRL *crl = NULL;
  CertAlg alg = CERT_ECDSA_P256;
  *status = bundle_parse(bundle, len, &root, &crl, &alg);
  CertVerifier *v = NULL;
  if (*status == CERT_OK) {
    v = g_new0(CertVerifier, 1);
    v->crl = crl;
    if (!checker_init(&v->checker, alg, root, verifier_revocation, v)) {
      cert_verifier_free(g_steal_pointer(&v));
      *status = CERT_CRYPTO_ERROR;
    }
  }
  ERR_pop_to_mark();
  return v;
}

void
cert_verifier_free(CertVerifier *v)
{
  if (v == NULL)
    return;
  checker_clear(&v->checker);
  X509_CRL_free(v->crl);
  g_free(v);
}

CertStatus
cert_verifier_check(CertVerifier *v, const uint8_t *cert_der, size_t cert_len,
                    const CertProof *proof, const uint8_t nonce[CERT_NONCE_LEN],
                    const void *context, size_t context_len, int64_t now)
{
  g_return_val_if_fail(v != NULL && proof != NULL && nonce != NULL, CERT_CRYPTO_ERROR);
  g_return_val_if_fail(context_len <= CERT_MAX_CONTEXT_LEN && (context != NULL || !context_len),
                       CERT_BAD_ENCODING);
  ERR_set_mark();
  X509 *leaf = NULL;
  uint8_t tr[TRANSCRIPT_MAX];
  size_t tr_len = 0;
  CertStatus status = checker_chain(&v->checker, cert_der, cert_len, now, &leaf);
  if (status == CERT_OK)
    status = checker_proof(&v->checker, leaf, proof, nonce, context, context_len, tr, &tr_len);
  X509_free(leaf);
  ERR_pop_to_mark();
  return status;
}
