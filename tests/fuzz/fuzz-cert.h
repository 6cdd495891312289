/* The cert harness's fixed material and input layout (fuzz-cert.c), shared with the
 * program that writes its seed corpus (cert-seeds.c). */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "m2m/cert.h"

#define FUZZ_CERT_DAY INT64_C(86400)
/* Times, s since CERT_EPOCH_UNIX: each CA's root is valid [0, CA_END); the device
 * certificates [DEV_NOT_BEFORE, DEV_END); the bundles are taken at BUNDLE_NOW (their CRL's
 * thisUpdate); the second certificate is revoked from REV_AT on; proofs are checked at
 * VALID_NOW, when both certificates pass. */
#define FUZZ_CERT_CA_END (20 * 365 * FUZZ_CERT_DAY)
#define FUZZ_CERT_DEV_NOT_BEFORE FUZZ_CERT_DAY
#define FUZZ_CERT_DEV_END (FUZZ_CERT_DEV_NOT_BEFORE + 10 * 365 * FUZZ_CERT_DAY)
#define FUZZ_CERT_BUNDLE_NOW (2 * FUZZ_CERT_DAY)
#define FUZZ_CERT_VALID_NOW (30 * FUZZ_CERT_DAY)
#define FUZZ_CERT_REV_AT (100 * FUZZ_CERT_DAY)

enum {
  FUZZ_CERT_GOOD_SERIAL = 7,
  FUZZ_CERT_REVOKED_SERIAL = 8, /* the same key as GOOD_SERIAL, revoked from REV_AT */
};

/* The attach record, the harness's second reading of an input (octet offsets; a shorter
 * input reads as if padded with zeros):
 *   flags (1) || now (8, signed big-endian) || eph_pub_len (1) || sig_len (1) ||
 *   eph_pub (CERT_MAX_PUB_LEN) || sig (CERT_MAX_SIG_LEN) || certificate DER (the rest)
 * The lengths are taken as they are, 0..255, whatever the buffers hold. */
enum {
  FUZZ_CERT_AT_FLAGS = 0,
  FUZZ_CERT_AT_NOW = 1,
  FUZZ_CERT_AT_EPH_LEN = 9,
  FUZZ_CERT_AT_SIG_LEN = 10,
  FUZZ_CERT_AT_EPH = 11,
  FUZZ_CERT_AT_SIG = FUZZ_CERT_AT_EPH + CERT_MAX_PUB_LEN,
  FUZZ_CERT_AT_DER = FUZZ_CERT_AT_SIG + CERT_MAX_SIG_LEN,
};

/* Flags: the algorithm (which fixed CA, verifier and device), and where the certificate
 * and the proof come from: the record itself, or the fixed material (so mutations of one
 * meet a valid other). */
enum {
  FUZZ_CERT_ED25519 = 0x01,      /* else ECDSA P-256 */
  FUZZ_CERT_CERT_MASK = 0x06,    /* certificate: */
  FUZZ_CERT_CERT_INPUT = 0x00,   /*   the record's DER */
  FUZZ_CERT_CERT_GOOD = 0x02,    /*   the device's (GOOD_SERIAL) */
  FUZZ_CERT_CERT_REVOKED = 0x04, /*   the same key under REVOKED_SERIAL */
  FUZZ_CERT_CERT_ROOT = 0x06,    /*   the CA's root certificate */
  FUZZ_CERT_PROOF_FIXED = 0x08,  /* the device's proof, not the record's fields */
};

/* Per algorithm, made on first use and kept for the process (never freed). */
typedef struct {
  CertAlg alg;
  CertCa *ca;
  CertDevice *good, *revoked;
  uint8_t *bundle; /* the CA's bundle at BUNDLE_NOW, a copy */
  size_t bundle_len;
  CertVerifier *verifier; /* built from it */
  CertProof proof;        /* the device's answer to fuzz_cert_nonce and FUZZ_CERT_CONTEXT */
  uint8_t master[CERT_MASTER_LEN];
  uint8_t *root_der; /* the root certificate alone (the bundle's first part) */
  size_t root_der_len;
} FuzzCertFixture;

#define FUZZ_CERT_CONTEXT "vo-fuzz"
extern const uint8_t fuzz_cert_nonce[CERT_NONCE_LEN];

const FuzzCertFixture *fuzz_cert_fixture(CertAlg alg);

/* An attach record (layout above). */
GByteArray *fuzz_cert_record(uint8_t flags, int64_t now, const CertProof *proof, const uint8_t *der,
                             size_t der_len);
