/* The 3GPP KDF (TS 33.220 Annex B.2) on OpenSSL's HMAC-SHA-256, and this project's key
 * derivations after AKA. See kdf.h for the constructions and the FC values. */
#include "m2m/kdf.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
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

/* ---- the engine: SHA-256 fetched once, one digest context for every HMAC ------------- */

struct KdfCtx {
  EVP_MD *md;      /* SHA-256, fetched once */
  EVP_MD_CTX *ctx; /* reused for the inner and the outer hash of every HMAC */
};

KdfCtx *
kdf_ctx_new(void)
{
  g_autoptr(KdfCtx) c = g_new0(KdfCtx, 1);
  c->md = EVP_MD_fetch(NULL, "SHA256", NULL);
  c->ctx = EVP_MD_CTX_new();
  return c->md != NULL && c->ctx != NULL ? g_steal_pointer(&c) : NULL;
}

void
kdf_ctx_free(KdfCtx *c)
{
  /* OpenSSL's frees take NULL, as this one does. */
  EVP_MD_CTX_free(c != NULL ? c->ctx : NULL);
  EVP_MD_free(c != NULL ? c->md : NULL);
  g_free(c);
}

enum { SHA256_BLOCK = 64, KDF_CTX_MSG_MAX = 192 };

/* HMAC-SHA-256 (RFC 2104) of fc || P0 || L0 || ... under key, on the engine. */
static bool
ctx_hmac(KdfCtx *c, const uint8_t *key, size_t key_len, uint8_t fc, const KdfParam *params,
         size_t n, uint8_t out[KDF_OUT_LEN])
{
  uint8_t k0[SHA256_BLOCK] = {0}, pad[SHA256_BLOCK];
  unsigned len = 0;
  bool ok = true;
  if (key_len > SHA256_BLOCK) /* longer keys are hashed first */
    ok = EVP_DigestInit_ex2(c->ctx, c->md, NULL) && EVP_DigestUpdate(c->ctx, key, key_len) &&
         EVP_DigestFinal_ex(c->ctx, k0, &len);
  else if (key_len > 0)
    memcpy(k0, key, key_len);
  for (int i = 0; i < SHA256_BLOCK; i++)
    pad[i] = k0[i] ^ 0x36;
  /* The inner message goes to OpenSSL in one piece where it fits (every derivation of the
   * world's): each EVP_DigestUpdate costs its dispatch, and a KDF with three parameters
   * made eight of them. */
  uint8_t msg[KDF_CTX_MSG_MAX];
  size_t m = 0;
  msg[m++] = fc;
  for (size_t i = 0; i < n; i++) {
    if (m + params[i].len + 2 > sizeof msg) {
      m = SIZE_MAX; /* too long: piece by piece below */
      break;
    }
    if (params[i].len > 0)
      memcpy(msg + m, params[i].data, params[i].len);
    m += params[i].len;
    msg[m++] = (uint8_t)(params[i].len >> 8);
    msg[m++] = (uint8_t)params[i].len;
  }
  ok = ok && EVP_DigestInit_ex2(c->ctx, c->md, NULL) && EVP_DigestUpdate(c->ctx, pad, sizeof pad);
  if (m != SIZE_MAX) {
    ok = ok && EVP_DigestUpdate(c->ctx, msg, m);
  } else {
    ok = ok && EVP_DigestUpdate(c->ctx, &fc, 1);
    for (size_t i = 0; ok && i < n; i++) {
      uint8_t l[2] = {(uint8_t)(params[i].len >> 8), (uint8_t)params[i].len};
      ok = (params[i].len == 0 || EVP_DigestUpdate(c->ctx, params[i].data, params[i].len)) &&
           EVP_DigestUpdate(c->ctx, l, 2);
    }
  }
  /* outer: (K0 xor opad) || inner hash, one update too */
  uint8_t outer[SHA256_BLOCK + KDF_OUT_LEN];
  ok = ok && EVP_DigestFinal_ex(c->ctx, outer + SHA256_BLOCK, &len) && len == KDF_OUT_LEN;
  for (int i = 0; i < SHA256_BLOCK; i++)
    outer[i] = k0[i] ^ 0x5c;
  ok = ok && EVP_DigestInit_ex2(c->ctx, c->md, NULL) &&
       EVP_DigestUpdate(c->ctx, outer, sizeof outer) && EVP_DigestFinal_ex(c->ctx, out, &len) &&
       len == KDF_OUT_LEN;
  OPENSSL_cleanse(k0, sizeof k0);
  OPENSSL_cleanse(pad, sizeof pad);
  OPENSSL_cleanse(msg, sizeof msg);
  OPENSSL_cleanse(outer, sizeof outer);
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
