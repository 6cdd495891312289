/* The 3GPP KDF (TS 33.220 Annex B.2) on OpenSSL's HMAC-SHA-256, and this project's key
 * derivations after AKA. See kdf.h for the constructions and the FC values. */
#include "m2m/kdf.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <string.h>

bool
kdf(const uint8_t *key, size_t key_len, uint8_t fc, const KdfParam *params, size_t n,
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

/* K_RS / K_SHO: KDF(CK || IK, fc, label, PIMSI digits, RAND). */
static bool
peer_key(const uint8_t ck[KDF_CK_LEN], const uint8_t ik[KDF_IK_LEN], Imsi pimsi,
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
  bool ok = kdf(key, sizeof key, fc, p, G_N_ELEMENTS(p), out);
  OPENSSL_cleanse(key, sizeof key);
  return ok;
}

bool
kdf_rs_key(const uint8_t ck[KDF_CK_LEN], const uint8_t ik[KDF_IK_LEN], Imsi pimsi,
           const uint8_t rand[KDF_RAND_LEN], uint8_t out[KDF_OUT_LEN])
{
  return peer_key(ck, ik, pimsi, rand, KDF_FC_M2M_RS, "m2m-rs", out);
}

bool
kdf_sho_key(const uint8_t ck[KDF_CK_LEN], const uint8_t ik[KDF_IK_LEN], Imsi pimsi,
            const uint8_t rand[KDF_RAND_LEN], uint8_t out[KDF_OUT_LEN])
{
  return peer_key(ck, ik, pimsi, rand, KDF_FC_M2M_SHO, "m2m-sho", out);
}

bool
kdf_seal_key(const uint8_t k_sho[KDF_OUT_LEN], Imsi pimsi, uint8_t out[KDF_SEAL_KEY_LEN])
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
  bool ok = kdf(k_sho, KDF_OUT_LEN, KDF_FC_M2M_SEAL, p, G_N_ELEMENTS(p), full);
  if (ok)
    memcpy(out, full + KDF_OUT_LEN - KDF_SEAL_KEY_LEN, KDF_SEAL_KEY_LEN);
  OPENSSL_cleanse(full, sizeof full);
  return ok;
}
