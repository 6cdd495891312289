/* The sealed USIM package: how the Selected Home Operator sends the real subscription
 * (IMSI, K, OPc) to a device over the connection set up after AKA with the PIMSI
 * (TR 33.812 alternative 1, "USIM download"), encrypted and integrity-protected with
 * AES-128-GCM (NIST SP 800-38D) under K_SEAL (kdf.h: derived from K_SHO and the PIMSI).
 *
 * Package (SEAL_PACKAGE_LEN = 71 octets, fixed):
 *   version (1, = SEAL_VERSION) || nonce (12) || ciphertext (42) || tag (16)
 * Associated data, authenticated but not sent: version (1) || the device's PIMSI as ASCII
 * digits. A package made for another device, or moved to another device, fails the tag.
 * Plaintext (42 octets):
 *   EF_IMSI (9: length octet, then the TS 24.008 10.5.1.4 BCD digits, unused octets 0xFF;
 *   TS 31.102 4.2.2) || MNC length (1: 2 or 3, as EF_AD octet 4 carries it) || K (16) ||
 *   OPc (16)
 *
 * Nonces come from the caller (a seeded DRBG in simulation) and must never repeat under
 * one key. K_SEAL is fresh per device and AKA run, so one package per key is the normal
 * case and a counter or random nonce is safe.
 *
 * "Never half-installed": seal_open decrypts into a temporary, checks the tag (OpenSSL
 * compares it in constant time), decodes and validates the plaintext into a second
 * temporary, and only then copies the result into the caller's SealUsim. On any failure
 * the caller's struct is untouched, and the temporaries are wiped (OPENSSL_cleanse) in
 * every case. Failures are plain status codes (no allocation): a refused package is a
 * protocol event in the simulation, not a user error. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m2m/imsi.h"

#define SEAL_VERSION 0x01
#define SEAL_KEY_LEN 16   /* AES-128 */
#define SEAL_NONCE_LEN 12 /* GCM's 96-bit IV */
#define SEAL_TAG_LEN 16
#define SEAL_EF_IMSI_LEN 9
#define SEAL_PLAIN_LEN (SEAL_EF_IMSI_LEN + 1 + 16 + 16)
#define SEAL_PACKAGE_LEN (1 + SEAL_NONCE_LEN + SEAL_PLAIN_LEN + SEAL_TAG_LEN)

/* The USIM parameters the SHO installs. Holds secrets: wipe it (OPENSSL_cleanse) when
 * done, never log it. */
typedef struct {
  Imsi imsi;       /* the real IMSI at the SHO */
  uint8_t k[16];   /* subscriber key K */
  uint8_t opc[16]; /* OPc (TS 35.206) */
} SealUsim;

typedef enum {
  SEAL_OK = 0,
  SEAL_BAD_LENGTH,   /* package not exactly SEAL_PACKAGE_LEN octets (e.g. truncated) */
  SEAL_BAD_VERSION,  /* first octet is not SEAL_VERSION */
  SEAL_AUTH_FAILED,  /* tag check failed: tampered, wrong key or other device */
  SEAL_BAD_CONTENT,  /* authentic but malformed plaintext (a broken sealer) */
  SEAL_BAD_ARGUMENT, /* invalid device PIMSI, or (seal_pack) invalid IMSI in the USIM */
  SEAL_CRYPTO_ERROR, /* OpenSSL failed (out of memory, ...) */
} SealStatus;

/* Short lowercase name of a status ("ok", "auth-failed", ...). */
const char *seal_status_name(SealStatus status);

/* An engine for a caller that seals or opens many packages (the world), with no
 * allocation per package. On a CPU with AES-NI: OpenSSL's GCM mode (CRYPTO_gcm128) over
 * an AES-NI block cipher of our own, its round keys wiped after each package (the GHASH
 * key of the last package stays until the next or seal_ctx_free); elsewhere AES-128-GCM
 * fetched once and one EVP context re-keyed per package. Either gives exactly the
 * one-shot calls' output (EVP). Not thread-safe. NULL if OpenSSL fails.
 * seal_ctx_new_with() picks the path (NULL asking for AES-NI on a CPU without it);
 * seal_ctx_path() names it ("aesni", "evp"). */
typedef struct SealCtx SealCtx;
SealCtx *seal_ctx_new(void);
SealCtx *seal_ctx_new_with(bool aesni);
const char *seal_ctx_path(const SealCtx *c);
void seal_ctx_free(SealCtx *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SealCtx, seal_ctx_free)

/* Seals `usim` for the device `device` (its PIMSI) under `key` with `nonce` (on the engine
 * c; NULL: a one-shot OpenSSL context), writing
 * SEAL_PACKAGE_LEN octets to `out`. SEAL_BAD_ARGUMENT when usim->imsi or device is not a
 * valid IMSI (nothing written then). */
SealStatus seal_pack(SealCtx *c, const uint8_t key[SEAL_KEY_LEN], Imsi device, const SealUsim *usim,
                     const uint8_t nonce[SEAL_NONCE_LEN], uint8_t out[SEAL_PACKAGE_LEN]);

/* Opens a package of `len` octets for the device `device` under `key`. On SEAL_OK fills
 * *usim; on every other status *usim is left exactly as it was. Checks, in order: device
 * valid (SEAL_BAD_ARGUMENT), length, version, tag, plaintext (EF_IMSI coding, filler
 * octets 0xFF, MNC length 2 or 3, a valid IMSI). */
SealStatus seal_open(SealCtx *c, const uint8_t key[SEAL_KEY_LEN], Imsi device,
                     const uint8_t *package, size_t len, SealUsim *usim);
