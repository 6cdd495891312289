/* The 3GPP KDF (TS 33.220 Annex B.2) on OpenSSL's HMAC-SHA-256, and this project's key
 * derivations after AKA. See kdf.h for the constructions and the FC values. */
/* The engine uses the low-level SHA256_* (see below): before any OpenSSL header. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "m2m/kdf.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/sha.h>
#include <string.h>

/* The checks both paths make (programming errors: critical messages); zeroes out. */
static bool
args_ok(const uint8_t *key, size_t key_len, const KdfParam *params, size_t n,
        uint8_t out[KDF_OUT_LEN])
{
  g_return_val_if_fail(out != NULL, false);
  memset(out, 0, KDF_OUT_LEN);
  g_return_val_if_fail(key != NULL || key_len == 0, false);
  g_return_val_if_fail(params != NULL || n == 0, false);
  for (size_t i = 0; i < n; i++) {
    g_return_val_if_fail(params[i].len <= KDF_MAX_PARAM_LEN, false);
    g_return_val_if_fail(params[i].data != NULL || params[i].len == 0, false);
  }
  return true;
}

bool
kdf(const uint8_t *key, size_t key_len, uint8_t fc, const KdfParam *params, size_t n,
    uint8_t out[KDF_OUT_LEN])
{
  if (!args_ok(key, key_len, params, n, out))
    return false;

  static const uint8_t no_key = 0;
  EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
  OSSL_PARAM mac_params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
      OSSL_PARAM_construct_end(),
  };
  size_t out_len = 0;
  bool ok = ctx != NULL && EVP_MAC_init(ctx, key_len ? key : &no_key, key_len, mac_params) &&
            EVP_MAC_update(ctx, &fc, 1);
  for (size_t i = 0; ok && i < n; i++) {
    uint8_t l[2] = {(uint8_t)(params[i].len >> 8), (uint8_t)params[i].len};
    ok = (params[i].len == 0 || EVP_MAC_update(ctx, params[i].data, params[i].len)) &&
         EVP_MAC_update(ctx, l, 2);
  }
  ok = ok && EVP_MAC_final(ctx, out, &out_len, KDF_OUT_LEN) && out_len == KDF_OUT_LEN;
  EVP_MAC_CTX_free(ctx); /* wipes the keyed state */
  EVP_MAC_free(mac);
  if (!ok)
    OPENSSL_cleanse(out, KDF_OUT_LEN);
  return ok;
}

/* ---- the engine: HMAC on OpenSSL's SHA-256 block functions ---------------------------
 *
 * Through EVP (a fetched SHA-256, one EVP_MD_CTX reused) a derivation cost ~290 ns, a
 * third of it EVP's dispatch on each of its seven calls; OpenSSL's low-level SHA256_*
 * (deprecated in 3.0 in favour of EVP, still in every 3.x release, and the same SHA-NI
 * code underneath) take it to ~205 ns (`bench crypto`). The digest state lives on the
 * stack and is wiped after each derivation, so the engine itself holds nothing secret. */

struct KdfCtx {
  uint64_t derivations; /* made on this engine (the engine needs no OpenSSL state) */
};

KdfCtx *
kdf_ctx_new(void)
{
  return g_new0(KdfCtx, 1);
}

void
kdf_ctx_free(KdfCtx *c)
{
  g_free(c);
}

enum { SHA256_BLOCK = 64 };

/* HMAC-SHA-256 (RFC 2104) of fc || P0 || L0 || ... under key, on the engine. */
static bool
ctx_hmac(KdfCtx *c, const uint8_t *key, size_t key_len, uint8_t fc, const KdfParam *params,
         size_t n, uint8_t out[KDF_OUT_LEN])
{
  c->derivations++;
  uint8_t k0[SHA256_BLOCK] = {0}, pad[SHA256_BLOCK];
  SHA256_CTX h;
  bool ok = true;
  if (key_len > SHA256_BLOCK) /* longer keys are hashed first */
    ok = SHA256_Init(&h) && SHA256_Update(&h, key, key_len) && SHA256_Final(k0, &h);
  else if (key_len > 0)
    memcpy(k0, key, key_len);
  for (int i = 0; i < SHA256_BLOCK; i++)
    pad[i] = k0[i] ^ 0x36;
  ok = ok && SHA256_Init(&h) && SHA256_Update(&h, pad, sizeof pad) && SHA256_Update(&h, &fc, 1);
  for (size_t i = 0; ok && i < n; i++) {
    uint8_t l[2] = {(uint8_t)(params[i].len >> 8), (uint8_t)params[i].len};
    ok = (params[i].len == 0 || SHA256_Update(&h, params[i].data, params[i].len)) &&
         SHA256_Update(&h, l, 2);
  }
  uint8_t outer[SHA256_BLOCK + KDF_OUT_LEN];
  ok = ok && SHA256_Final(outer + SHA256_BLOCK, &h);
  for (int i = 0; i < SHA256_BLOCK; i++)
    outer[i] = k0[i] ^ 0x5c;
  ok = ok && SHA256_Init(&h) && SHA256_Update(&h, outer, sizeof outer) && SHA256_Final(out, &h);
  OPENSSL_cleanse(k0, sizeof k0);
  OPENSSL_cleanse(pad, sizeof pad);
  OPENSSL_cleanse(outer, sizeof outer);
  OPENSSL_cleanse(&h, sizeof h);
  if (!ok)
    OPENSSL_cleanse(out, KDF_OUT_LEN);
  return ok;
}

bool
kdf_ctx_derive(KdfCtx *c, const uint8_t *key, size_t key_len, uint8_t fc, const KdfParam *params,
               size_t n, uint8_t out[KDF_OUT_LEN])
{
  if (c == NULL)
    return kdf(key, key_len, fc, params, n, out);
  return args_ok(key, key_len, params, n, out) && ctx_hmac(c, key, key_len, fc, params, n, out);
}

/* ---- this project's derivations -------------------------------------------------------- */

/* K_RS / K_SHO: KDF(CK || IK, fc, label, PIMSI digits, RAND). */
static bool
peer_key(KdfCtx *c, const uint8_t ck[KDF_CK_LEN], const uint8_t ik[KDF_IK_LEN], Imsi pimsi,
         const uint8_t rand[KDF_RAND_LEN], uint8_t fc, const char *label, uint8_t out[KDF_OUT_LEN])
{
  memset(out, 0, KDF_OUT_LEN);
  if (!imsi_is_valid(pimsi))
    return false;
  char digits[IMSI_STR_LEN];
  imsi_format(pimsi, digits);
  uint8_t key[KDF_CK_LEN + KDF_IK_LEN];
  memcpy(key, ck, KDF_CK_LEN);
  memcpy(key + KDF_CK_LEN, ik, KDF_IK_LEN);
  const KdfParam p[] = {
      {label, strlen(label)},
      {digits, strlen(digits)},
      {rand, KDF_RAND_LEN},
  };
  bool ok = kdf_ctx_derive(c, key, sizeof key, fc, p, G_N_ELEMENTS(p), out);
  OPENSSL_cleanse(key, sizeof key);
  return ok;
}

bool
kdf_rs_key(KdfCtx *c, const uint8_t ck[KDF_CK_LEN], const uint8_t ik[KDF_IK_LEN], Imsi pimsi,
           const uint8_t rand[KDF_RAND_LEN], uint8_t out[KDF_OUT_LEN])
{
  return peer_key(c, ck, ik, pimsi, rand, KDF_FC_M2M_RS, "m2m-rs", out);
}

bool
kdf_sho_key(KdfCtx *c, const uint8_t ck[KDF_CK_LEN], const uint8_t ik[KDF_IK_LEN], Imsi pimsi,
            const uint8_t rand[KDF_RAND_LEN], uint8_t out[KDF_OUT_LEN])
{
  return peer_key(c, ck, ik, pimsi, rand, KDF_FC_M2M_SHO, "m2m-sho", out);
}

bool
kdf_seal_key(KdfCtx *c, const uint8_t k_sho[KDF_OUT_LEN], Imsi pimsi, uint8_t out[KDF_SEAL_KEY_LEN])
{
  memset(out, 0, KDF_SEAL_KEY_LEN);
  if (!imsi_is_valid(pimsi))
    return false;
  char digits[IMSI_STR_LEN];
  imsi_format(pimsi, digits);
  static const char label[] = "m2m-usim-seal";
  const KdfParam p[] = {
      {label, sizeof label - 1},
      {digits, strlen(digits)},
  };
  uint8_t full[KDF_OUT_LEN];
  bool ok = kdf_ctx_derive(c, k_sho, KDF_OUT_LEN, KDF_FC_M2M_SEAL, p, G_N_ELEMENTS(p), full);
  if (ok)
    memcpy(out, full + KDF_OUT_LEN - KDF_SEAL_KEY_LEN, KDF_SEAL_KEY_LEN);
  OPENSSL_cleanse(full, sizeof full);
  return ok;
}
