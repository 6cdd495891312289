/* Certificate-based preliminary authentication (TR 33.812 5.1.3.3, the seed's "equivalent
 * authentication material (e.g. a public key certificate)"), with X.509 through OpenSSL
 * libcrypto.
 *
 * Roles:
 *  - the Registration Service is a certificate authority (CertCa): a self-signed root
 *    certificate, a certificate revocation list, and a static key-exchange key whose
 *    public half is written into the equipment at manufacture with the RS address;
 *  - at manufacture the equipment gets a key pair and a certificate issued by that CA
 *    (CertDevice; subject CN = the PIMSI digits, serial = the caller's, validity from the
 *    caller's times);
 *  - a Visited Operator (or a Selected Home Operator) fetches the CA's trust bundle (root
 *    certificate + CRL, DER) from the RS over the roaming interface and builds a
 *    CertVerifier from it;
 *  - at attach the verifier sends a fresh nonce; the device answers with its certificate
 *    and a CertProof: an ephemeral key-exchange public key and a signature, by its
 *    certificate key, over the transcript
 *        "m2m-cert-auth" || nonce || context || ephemeral public key
 *    (context names the verifier, e.g. the VO name, so a proof made for one network is
 *    useless at another);
 *  - the verifier checks the chain against the RS root (X509_verify_cert: issuer, CA
 *    signature, validity at the simulated time, CRL), then the proof's signature;
 *  - the device and the RS both derive a 32-octet session master from ECDH between the
 *    device's ephemeral key and the RS's static key-exchange key, bound to the transcript
 *    (authenticated key exchange: the ephemeral key is signed by the certified key):
 *        master = KDF(Z, FC = KDF_FC_M2M_CERT, P0 = "m2m-cert-master", P1 = SHA-256(transcript))
 *    The RS checks the same proof (cert_ca_accept) before deriving. The session master
 *    then plays the part CK || IK plays after AKA: K_RS and K_SHO are derived from it
 *    (kdf.h) instead of from CK || IK.
 *
 * Algorithms, chosen per run: ECDSA P-256 with SHA-256 certificates and signatures and
 * P-256 ECDH; or Ed25519 certificates and signatures and X25519.
 *
 * Times are whole seconds since CERT_EPOCH_UNIX (2030-01-01T00:00:00Z): simulated time 0
 * is that instant, so a run's certificates have realistic validity dates.
 *
 * Determinism: every private key (CA, RS key exchange, device, ephemeral) is derived from
 * a 32-octet seed the caller gives (from the run's DRBG), so a run gets the same keys for
 * the same scenario and seed. ECDSA signatures use OpenSSL's random nonces (OpenSSL 3.0 has
 * no RFC 6979), so signature octets differ between runs but never whether they verify.
 *
 * Security: private keys and masters never leave these objects except as `master`, which
 * the caller wipes; outcomes are status codes, and a refused proof reveals nothing about
 * which check failed beyond the status the verifier keeps for its own counters.
 *
 * Objects are not thread-safe; one per thread. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CERT_EPOCH_UNIX INT64_C(1893456000) /* 2030-01-01T00:00:00Z */
#define CERT_SEED_LEN 32
#define CERT_NONCE_LEN 16
#define CERT_MASTER_LEN 32
#define CERT_MAX_PUB_LEN 65 /* uncompressed P-256 point; X25519 is 32 */
#define CERT_MAX_SIG_LEN 72 /* DER ECDSA P-256; Ed25519 is 64 */
#define CERT_MAX_CONTEXT_LEN 64
#define KDF_FC_M2M_CERT 0xF3 /* session master from ECDH (this project, not 3GPP; see kdf.h) */

typedef enum {
  CERT_ECDSA_P256, /* ECDSA P-256 / SHA-256, P-256 ECDH */
  CERT_ED25519,    /* Ed25519, X25519 */
} CertAlg;

typedef enum {
  CERT_OK = 0,
  CERT_BAD_ENCODING,  /* certificate, bundle or proof does not parse / wrong lengths */
  CERT_UNKNOWN_CA,    /* not issued by the trusted root (another CA, or a forged signature) */
  CERT_EXPIRED,       /* outside its validity at the time of the check (or not yet valid) */
  CERT_REVOKED,       /* listed in the CRL the verifier holds */
  CERT_BAD_SIGNATURE, /* the proof's signature does not verify with the certificate's key */
  CERT_CRYPTO_ERROR,  /* OpenSSL failed (out of memory, ...) */
} CertStatus;

/* Short lowercase names: "ecdsa-p256", "ed25519"; "ok", "unknown-ca", "expired", ... */
const char *cert_alg_name(CertAlg alg);
const char *cert_status_name(CertStatus status);

/* What a device sends at attach besides its certificate. */
typedef struct {
  uint8_t eph_pub[CERT_MAX_PUB_LEN]; /* ephemeral key-exchange public key */
  uint8_t eph_pub_len;
  uint8_t sig[CERT_MAX_SIG_LEN]; /* signature over the transcript (file comment) */
  uint8_t sig_len;
} CertProof;

/* ---- The RS as certificate authority ------------------------------------------------ */

typedef struct CertCa CertCa;

/* A CA named `name` (the root's CN), root valid from not_before for lifetime seconds,
 * with keys derived from seed (root key and key-exchange key from separate derivations).
 * NULL if OpenSSL fails. */
CertCa *cert_ca_new(CertAlg alg, const char *name, const uint8_t seed[CERT_SEED_LEN],
                    int64_t not_before, int64_t lifetime);
void cert_ca_free(CertCa *ca);
CertAlg cert_ca_alg(const CertCa *ca);

/* Revokes the certificate with this serial from time `at` on. The CRL in bundles made
 * after the call lists it; verifiers built from older bundles do not know. */
void cert_ca_revoke(CertCa *ca, uint64_t serial, int64_t at);
size_t cert_ca_revoked_count(const CertCa *ca);

/* The trust bundle a verifier is built from, signed CRL issued at `now`: `*der` points
 * into the CA and stays valid until the next call or cert_ca_free. NULL if OpenSSL
 * fails. */
const uint8_t *cert_ca_bundle(CertCa *ca, int64_t now, size_t *len);

/* The RS side of the key exchange: checks cert_der (chain, validity at `now`, the CA's
 * current revocations) and the proof like cert_verifier_check, then derives the session
 * master. On any failure `master` is zeroed and the status says why. */
CertStatus cert_ca_accept(CertCa *ca, const uint8_t *cert_der, size_t cert_len,
                          const CertProof *proof, const uint8_t nonce[CERT_NONCE_LEN],
                          const void *context, size_t context_len, int64_t now,
                          uint8_t master[CERT_MASTER_LEN]);

/* ---- Device credentials ------------------------------------------------------------- */

typedef struct CertDevice CertDevice;

/* A device key pair from `seed` and its certificate issued by `ca`: subject CN `subject`
 * (PIMSI digits), the given serial (> 0), valid from not_before for lifetime seconds.
 * NULL if OpenSSL fails. */
CertDevice *cert_device_new(CertCa *ca, const uint8_t seed[CERT_SEED_LEN], uint64_t serial,
                            const char *subject, int64_t not_before, int64_t lifetime);
/* The same certificate but a different private key (derived from wrong_seed): what a
 * device with bad preliminary credentials holds. Its proofs fail CERT_BAD_SIGNATURE. */
CertDevice *cert_device_new_mismatched(CertCa *ca, const uint8_t seed[CERT_SEED_LEN],
                                       const uint8_t wrong_seed[CERT_SEED_LEN],
                                       uint64_t serial, const char *subject,
                                       int64_t not_before, int64_t lifetime);
void cert_device_free(CertDevice *dev);

/* The device certificate, DER; valid while dev lives. */
const uint8_t *cert_device_der(const CertDevice *dev, size_t *len);

/* Answers a challenge: a fresh ephemeral key from eph_seed, the signature over the
 * transcript, and the session master from ECDH with the CA's key-exchange public key
 * (the device knows it from manufacture). context_len <= CERT_MAX_CONTEXT_LEN. */
CertStatus cert_device_prove(const CertDevice *dev, const CertCa *ca,
                             const uint8_t nonce[CERT_NONCE_LEN], const void *context,
                             size_t context_len, const uint8_t eph_seed[CERT_SEED_LEN],
                             CertProof *proof, uint8_t master[CERT_MASTER_LEN]);

/* ---- Verifiers (VO, SHO) ------------------------------------------------------------ */

typedef struct CertVerifier CertVerifier;

/* A verifier trusting the root in `bundle` (from cert_ca_bundle) and its CRL. NULL with
 * *status set if the bundle does not parse (CERT_BAD_ENCODING) or OpenSSL fails. */
CertVerifier *cert_verifier_new(const uint8_t *bundle, size_t len, CertStatus *status);
void cert_verifier_free(CertVerifier *v);

/* Checks a device's certificate at time `now` and its proof for this nonce and context. */
CertStatus cert_verifier_check(CertVerifier *v, const uint8_t *cert_der, size_t cert_len,
                               const CertProof *proof, const uint8_t nonce[CERT_NONCE_LEN],
                               const void *context, size_t context_len, int64_t now);
