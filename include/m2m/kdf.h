/* The 3GPP generic key derivation function (TS 33.220 Annex B.2) and the keys this
 * project derives with it after UMTS AKA.
 *
 *   KDF(Key, S) = HMAC-SHA-256(Key, S),  S = FC || P0 || L0 || P1 || L1 || ... || Pn || Ln
 *
 * with FC one octet telling the uses apart and each Li the length of Pi in octets as
 * 2 octets, big-endian (so a parameter is at most 65535 octets).
 *
 * Keys of TR 33.812 alternative 1. After AKA with the PIMSI the device and the RS both
 * hold CK and IK. As GBA does with Ks = CK || IK (TS 33.220 4.5.2), and TS 33.401 A.2 does
 * for KASME, the secured connections are keyed from CK || IK, one key per peer, bound to
 * the device identity and the AKA run:
 *
 *   K_RS  = KDF(CK || IK, FC = KDF_FC_M2M_RS,  P0 = "m2m-rs",  P1 = PIMSI digits, P2 = RAND)
 *   K_SHO = KDF(CK || IK, FC = KDF_FC_M2M_SHO, P0 = "m2m-sho", P1 = PIMSI digits, P2 = RAND)
 *
 * The RS hands K_SHO to the Selected Home Operator (as a BSF hands Ks_NAF to a NAF), so the
 * SHO never sees CK/IK and the RS-side key is useless to the SHO. The USIM package
 * (seal.h) is encrypted under a key of its own, derived from K_SHO:
 *
 *   K_SEAL = the 128 least significant bits (last 16 octets) of
 *            KDF(K_SHO, FC = KDF_FC_M2M_SEAL, P0 = "m2m-usim-seal", P1 = PIMSI digits)
 *
 * (truncation as TS 33.401 A.7 and TS 33.501 A.8 do for algorithm keys). A separate key
 * for sealing keeps the AEAD key apart from whatever protects the SHO connection itself.
 *
 * FC values. The FC number space is controlled by TS 33.220 and has no range for private
 * use; 3GPP allocates upward from 0x01 (0x10.. TS 33.401, 0x20.. TS 33.402, 0x69-0x6F and
 * 0x7E-0x7F in 5G specs, 0x80s in recent releases). These derivations are not
 * standardised, so they take values from the top of the space (0xF0-0xF3), far from every
 * allocation so far, and the labels in P0 keep them apart even from a future collision.
 * 0xF3 is KDF_FC_M2M_CERT (cert.h): the session master after certificate authentication,
 * and the device and CA keys cert.c derives from seeds (P0 "m2m-cert-master" and
 * "m2m-cert-key" tell them apart).
 * PIMSI digits are the IMSI as ASCII digits ("001010000000001"), as GBA writes IMPIs.
 *
 * Implementation: OpenSSL's EVP_MAC HMAC, streaming S without building it; about 1 us per
 * derivation on this project's machines (as fast as the HMAC() one-shot, which needs S in
 * one buffer). Keys are never printed; stack copies are wiped. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m2m/imsi.h"

#define KDF_OUT_LEN 32          /* octets of KDF output (HMAC-SHA-256) */
#define KDF_MAX_PARAM_LEN 65535 /* Li is 2 octets */
#define KDF_CK_LEN 16
#define KDF_IK_LEN 16
#define KDF_RAND_LEN 16
#define KDF_SEAL_KEY_LEN 16 /* AES-128 */

#define KDF_FC_M2M_RS 0xF0   /* K_RS from CK || IK (this project, not 3GPP) */
#define KDF_FC_M2M_SHO 0xF1  /* K_SHO from CK || IK (this project, not 3GPP) */
#define KDF_FC_M2M_SEAL 0xF2 /* K_SEAL from K_SHO (this project, not 3GPP) */
#define KDF_FC_M2M_SUB 0xF4  /* a home operator's subscriber K from its secret (this project) */

/* One parameter Pi of S: `len` octets at `data` (data may be NULL when len is 0). */
typedef struct {
  const void *data;
  size_t len; /* octets, <= KDF_MAX_PARAM_LEN */
} KdfParam;

/* KDF(key, S) with S = fc || P0 || L0 || ... for the n parameters given (n may be 0:
 * S = fc). Writes 32 octets. Returns false, with a critical message and `out` zeroed, if
 * a parameter is longer than 65535 octets or a pointer is NULL (programming errors), and
 * false with `out` zeroed if OpenSSL fails. */
bool kdf(const uint8_t *key, size_t key_len, uint8_t fc, const KdfParam *params, size_t n,
         uint8_t out[KDF_OUT_LEN]);

/* A derivation engine for a caller that derives many keys (the world: six per device):
 * HMAC computed on OpenSSL's SHA-256 block functions with the digest state on the stack,
 * so a derivation costs its hashing, not OpenSSL's per-call machinery (an algorithm fetch
 * under a lock, a MAC context allocated and freed, EVP's dispatch per call). Gives
 * exactly kdf()'s output. Not thread-safe: one per thread. NULL only if out of memory. */
typedef struct KdfCtx KdfCtx;
KdfCtx *kdf_ctx_new(void);
void kdf_ctx_free(KdfCtx *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(KdfCtx, kdf_ctx_free)

/* kdf() on the engine `c`; c NULL: kdf() itself (a one-shot OpenSSL HMAC). */
bool kdf_ctx_derive(KdfCtx *c, const uint8_t *key, size_t key_len, uint8_t fc,
                    const KdfParam *params, size_t n, uint8_t out[KDF_OUT_LEN]);

/* K_RS and K_SHO (see the file comment) for the device `pimsi` after the AKA run with
 * `rand` that gave ck and ik, on the engine c (NULL: one-shot). False on an invalid
 * PIMSI or an OpenSSL failure. */
bool kdf_rs_key(KdfCtx *c, const uint8_t ck[KDF_CK_LEN], const uint8_t ik[KDF_IK_LEN], Imsi pimsi,
                const uint8_t rand[KDF_RAND_LEN], uint8_t out[KDF_OUT_LEN]);
bool kdf_sho_key(KdfCtx *c, const uint8_t ck[KDF_CK_LEN], const uint8_t ik[KDF_IK_LEN], Imsi pimsi,
                 const uint8_t rand[KDF_RAND_LEN], uint8_t out[KDF_OUT_LEN]);

/* K_SEAL, the AES-128-GCM key of the USIM package for `pimsi`, from K_SHO. */
bool kdf_seal_key(KdfCtx *c, const uint8_t k_sho[KDF_OUT_LEN], Imsi pimsi,
                  uint8_t out[KDF_SEAL_KEY_LEN]);
