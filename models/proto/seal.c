/* The sealed USIM package (AES-128-GCM on OpenSSL). See seal.h for the format and the
 * "never half-installed" rule. */
#include "m2m/seal.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/modes.h>
#include <string.h>

#include "aes128.h"

#define OFF_NONCE 1
#define OFF_CT (OFF_NONCE + SEAL_NONCE_LEN)
#define OFF_TAG (OFF_CT + SEAL_PLAIN_LEN)
#define OFF_MNC_LEN SEAL_EF_IMSI_LEN
#define OFF_K (OFF_MNC_LEN + 1)
#define OFF_OPC (OFF_K + 16)

G_STATIC_ASSERT(SEAL_PACKAGE_LEN == 71);
G_STATIC_ASSERT(OFF_TAG + SEAL_TAG_LEN == SEAL_PACKAGE_LEN);
G_STATIC_ASSERT(OFF_OPC + 16 == SEAL_PLAIN_LEN);
G_STATIC_ASSERT(SEAL_EF_IMSI_LEN == 1 + IMSI_BCD_LEN);

const char *
seal_status_name(SealStatus status)
{
  switch (status) {
  case SEAL_OK:
    return "ok";
  case SEAL_BAD_LENGTH:
    return "bad-length";
  case SEAL_BAD_VERSION:
    return "bad-version";
  case SEAL_AUTH_FAILED:
    return "auth-failed";
  case SEAL_BAD_CONTENT:
    return "bad-content";
  case SEAL_BAD_ARGUMENT:
    return "bad-argument";
  case SEAL_CRYPTO_ERROR:
    return "crypto-error";
  }
  return "unknown";
}

/* AAD = version || PIMSI digits; returns its length. */
static size_t
make_aad(Imsi device, uint8_t aad[1 + IMSI_STR_LEN])
{
  char digits[IMSI_STR_LEN];
  imsi_format(device, digits);
  size_t n = strlen(digits);
  aad[0] = SEAL_VERSION;
  memcpy(aad + 1, digits, n);
  return 1 + n;
}

/* An engine: on a CPU with AES-NI, OpenSSL's GCM mode over our AES-NI block (re-keyed in
 * ~0.1 us); elsewhere one EVP context re-keyed for every package. */
struct SealCtx {
  GCM128_CONTEXT *gcm; /* AES-NI path: NULL when the CPU lacks AES-NI */
  Aes128Key key;       /* its round keys, wiped after every package */
  EVP_CIPHER *cipher;  /* EVP path: AES-128-GCM, fetched once */
  EVP_CIPHER_CTX *ctx; /* re-keyed for every package */
  bool keyed;          /* ctx has the cipher set */
};

SealCtx *
seal_ctx_new(void)
{
  return seal_ctx_new_with(aes128_ni_available());
}

SealCtx *
seal_ctx_new_with(bool aesni)
{
  g_autoptr(SealCtx) c = g_new0(SealCtx, 1);
  if (aesni) {
    if (!aes128_ni_available())
      return NULL;
    c->gcm = CRYPTO_gcm128_new(&c->key, aes128_ni_block);
    return c->gcm != NULL ? g_steal_pointer(&c) : NULL;
  }
  if ((c->cipher = EVP_CIPHER_fetch(NULL, "AES-128-GCM", NULL)) == NULL)
    return NULL;
  c->ctx = EVP_CIPHER_CTX_new();
  return c->ctx != NULL ? g_steal_pointer(&c) : NULL;
}

void
seal_ctx_free(SealCtx *c)
{
  if (c != NULL) {
    if (c->gcm != NULL)
      CRYPTO_gcm128_release(c->gcm); /* wipes the GHASH key of the last package */
    EVP_CIPHER_CTX_free(c->ctx);     /* wipes the last key schedule */
    EVP_CIPHER_free(c->cipher);
    OPENSSL_cleanse(&c->key, sizeof c->key);
  }
  g_free(c);
}

const char *
seal_ctx_path(const SealCtx *c)
{
  return c->gcm != NULL ? "aesni" : "evp";
}

/* The GCM pass of gcm_on() on the AES-NI engine. Decrypting, CRYPTO_gcm128_finish compares
 * the tag (CRYPTO_memcmp, constant time). */
static bool
gcm_ni(SealCtx *c, bool encrypt, const uint8_t key[SEAL_KEY_LEN],
       const uint8_t nonce[SEAL_NONCE_LEN], const uint8_t *aad, size_t aad_len, const uint8_t *in,
       uint8_t *out, uint8_t *tag)
{
  aes128_ni_set_key(&c->key, key);
  CRYPTO_gcm128_init(c->gcm, &c->key, aes128_ni_block);
  CRYPTO_gcm128_setiv(c->gcm, nonce, SEAL_NONCE_LEN);
  bool ok = CRYPTO_gcm128_aad(c->gcm, aad, aad_len) == 0;
  if (encrypt) {
    ok = ok && CRYPTO_gcm128_encrypt(c->gcm, in, out, SEAL_PLAIN_LEN) == 0;
    if (ok)
      CRYPTO_gcm128_tag(c->gcm, tag, SEAL_TAG_LEN);
  } else {
    ok = ok && CRYPTO_gcm128_decrypt(c->gcm, in, out, SEAL_PLAIN_LEN) == 0 &&
         CRYPTO_gcm128_finish(c->gcm, tag, SEAL_TAG_LEN) == 0;
  }
  OPENSSL_cleanse(&c->key, sizeof c->key);
  return ok;
}

/* One GCM pass over SEAL_PLAIN_LEN octets on ctx (its cipher set, or set here). Encrypting:
 * writes `tag`. Decrypting: checks `tag` and returns false on a mismatch. False also on
 * any OpenSSL failure. */
static bool
gcm_on(EVP_CIPHER_CTX *ctx, const EVP_CIPHER *cipher, bool encrypt, const uint8_t key[SEAL_KEY_LEN],
       const uint8_t nonce[SEAL_NONCE_LEN], const uint8_t *aad, size_t aad_len, const uint8_t *in,
       uint8_t *out, uint8_t *tag)
{
  G_STATIC_ASSERT(SEAL_NONCE_LEN == 12); /* GCM's default IV length: nothing to set */
  int n = 0, fin = 0;
  bool ok = EVP_CipherInit_ex2(ctx, cipher, key, nonce, encrypt ? 1 : 0, NULL) &&
            EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len) &&
            EVP_CipherUpdate(ctx, out, &n, in, SEAL_PLAIN_LEN) && n == SEAL_PLAIN_LEN;
  if (ok && !encrypt)
    ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN, tag);
  /* Decrypting, this is where OpenSSL compares the tag (CRYPTO_memcmp, constant time). */
  ok = ok && EVP_CipherFinal_ex(ctx, out + n, &fin) > 0 && fin == 0;
  if (ok && encrypt)
    ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN, tag);
  return ok;
}

/* The pass on the engine c, or (c NULL) on a context made and freed for it. */
static bool
gcm(SealCtx *c, bool encrypt, const uint8_t key[SEAL_KEY_LEN], const uint8_t nonce[SEAL_NONCE_LEN],
    const uint8_t *aad, size_t aad_len, const uint8_t *in, uint8_t *out, uint8_t *tag)
{
  if (c != NULL && c->gcm != NULL)
    return gcm_ni(c, encrypt, key, nonce, aad, aad_len, in, out, tag);
  if (c != NULL) {
    /* The cipher is set on the first pass only: passed again, OpenSSL tears down and
     * rebuilds the provider's context on every call; without it, it re-keys in place. */
    const EVP_CIPHER *cipher = c->keyed ? NULL : c->cipher;
    c->keyed = true;
    return gcm_on(c->ctx, cipher, encrypt, key, nonce, aad, aad_len, in, out, tag);
  }
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  bool ok = ctx != NULL &&
            gcm_on(ctx, EVP_aes_128_gcm(), encrypt, key, nonce, aad, aad_len, in, out, tag);
  EVP_CIPHER_CTX_free(ctx); /* wipes the key schedule */
  return ok;
}

SealStatus
seal_pack(SealCtx *c, const uint8_t key[SEAL_KEY_LEN], Imsi device, const SealUsim *usim,
          const uint8_t nonce[SEAL_NONCE_LEN], uint8_t out[SEAL_PACKAGE_LEN])
{
  if (!imsi_is_valid(device) || !imsi_is_valid(usim->imsi))
    return SEAL_BAD_ARGUMENT;
  uint8_t plain[SEAL_PLAIN_LEN];
  memset(plain, 0xFF, SEAL_EF_IMSI_LEN);
  plain[0] = (uint8_t)imsi_encode_bcd(usim->imsi, plain + 1);
  plain[OFF_MNC_LEN] = (uint8_t)imsi_mnc_len(usim->imsi);
  memcpy(plain + OFF_K, usim->k, 16);
  memcpy(plain + OFF_OPC, usim->opc, 16);

  uint8_t aad[1 + IMSI_STR_LEN];
  size_t aad_len = make_aad(device, aad);
  out[0] = SEAL_VERSION;
  memcpy(out + OFF_NONCE, nonce, SEAL_NONCE_LEN);
  bool ok = gcm(c, true, key, nonce, aad, aad_len, plain, out + OFF_CT, out + OFF_TAG);
  OPENSSL_cleanse(plain, sizeof plain);
  if (!ok) {
    OPENSSL_cleanse(out, SEAL_PACKAGE_LEN);
    return SEAL_CRYPTO_ERROR;
  }
  return SEAL_OK;
}

/* Decodes an authentic plaintext into *usim; false if it is malformed. */
static bool
decode_plain(const uint8_t plain[SEAL_PLAIN_LEN], SealUsim *usim)
{
  size_t n = plain[0];
  if (n == 0 || n > IMSI_BCD_LEN)
    return false;
  for (size_t i = 1 + n; i < SEAL_EF_IMSI_LEN; i++)
    if (plain[i] != 0xFF)
      return false;
  if (!imsi_decode_bcd(plain + 1, n, plain[OFF_MNC_LEN], &usim->imsi, NULL))
    return false;
  memcpy(usim->k, plain + OFF_K, 16);
  memcpy(usim->opc, plain + OFF_OPC, 16);
  return true;
}

SealStatus
seal_open(SealCtx *c, const uint8_t key[SEAL_KEY_LEN], Imsi device, const uint8_t *package,
          size_t len, SealUsim *usim)
{
  if (!imsi_is_valid(device))
    return SEAL_BAD_ARGUMENT;
  if (package == NULL || len != SEAL_PACKAGE_LEN)
    return SEAL_BAD_LENGTH;
  if (package[0] != SEAL_VERSION)
    return SEAL_BAD_VERSION;

  uint8_t aad[1 + IMSI_STR_LEN], plain[SEAL_PLAIN_LEN], tag[SEAL_TAG_LEN];
  size_t aad_len = make_aad(device, aad);
  memcpy(tag, package + OFF_TAG, SEAL_TAG_LEN);
  SealUsim tmp;
  SealStatus status = SEAL_OK;
  if (!gcm(c, false, key, package + OFF_NONCE, aad, aad_len, package + OFF_CT, plain, tag))
    status = SEAL_AUTH_FAILED; /* a tag mismatch; OpenSSL errors look the same */
  else if (!decode_plain(plain, &tmp))
    status = SEAL_BAD_CONTENT;
  else
    *usim = tmp;
  OPENSSL_cleanse(plain, sizeof plain);
  OPENSSL_cleanse(&tmp, sizeof tmp);
  return status;
}
