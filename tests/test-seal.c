/* The sealed USIM package: a known answer computed with an independent AES-GCM (Python
 * cryptography), round trips, and refusal of every single-bit flip, wrong keys, other
 * devices, truncation and authentic-but-malformed content -- each time with the output
 * struct left untouched. */
#include <glib.h>
#include <openssl/evp.h>
#include <string.h>

#include "m2m/hex.h"
#include "m2m/kdf.h"
#include "m2m/seal.h"
#include "testutil.h"

/* K_SEAL of test-kdf.c, nonce 00..0b, device 001010000000001, USIM IMSI 234150123456789
 * (MNC 2) with K and OPc of TS 35.208 test set 1. */
static const char *const KAT_KEY = "974641b2273078f3e06287f9a78c6444";
static const char *const KAT_K = "465b5ce8b199b49faa5f0a2ee238a6bc";
static const char *const KAT_OPC = "cd63cb71954a9f4e48a5994e37a02baf";
static const char *const KAT_PACKAGE =
    "01000102030405060708090a0bab81788f0698367afa2f1e4dbefac3bb3753c02e7788281b1ab172e8427422"
    "4d8ff4fc01338248e01eef4904eb5489fc64ac4d5eb220e45c7717";

typedef struct {
  uint8_t key[SEAL_KEY_LEN];
  uint8_t nonce[SEAL_NONCE_LEN];
  Imsi device;
  SealUsim usim;
  uint8_t package[SEAL_PACKAGE_LEN];
} Fixture;

static Imsi
imsi_of(const char *text, unsigned mnc_len)
{
  Imsi imsi;
  g_assert_true(imsi_parse(text, mnc_len, &imsi, NULL));
  return imsi;
}

static void
fixture_init(Fixture *f)
{
  tu_hex(KAT_KEY, f->key, sizeof f->key);
  for (int i = 0; i < SEAL_NONCE_LEN; i++)
    f->nonce[i] = (uint8_t)i;
  f->device = imsi_of("001010000000001", 2);
  f->usim.imsi = imsi_of("234150123456789", 2);
  tu_hex(KAT_K, f->usim.k, 16);
  tu_hex(KAT_OPC, f->usim.opc, 16);
  g_assert_cmpint(seal_pack(NULL, f->key, f->device, &f->usim, f->nonce, f->package), ==, SEAL_OK);
}

/* A SealUsim filled with a pattern that no successful open could produce by accident. */
static void
poison(SealUsim *u)
{
  memset(u, 0x5A, sizeof *u);
}

static void
assert_poisoned(const SealUsim *u)
{
  SealUsim p;
  poison(&p);
  g_assert_cmpmem(u, sizeof *u, &p, sizeof p);
}

/* Each engine (AES-NI where the CPU has it, EVP) seals byte for byte what the one-shot
 * call seals, and each opens what the other sealed, package after package on one engine. */
static void
test_engine_agrees(gconstpointer data)
{
  bool aesni = GPOINTER_TO_INT(data);
  Fixture f;
  fixture_init(&f);
  g_autoptr(SealCtx) c = seal_ctx_new_with(aesni);
  if (aesni && c == NULL) {
    g_test_skip("no AES-NI on this CPU");
    return;
  }
  g_assert_nonnull(c);
  g_assert_cmpstr(seal_ctx_path(c), ==, aesni ? "aesni" : "evp");
  for (int i = 0; i < 200; i++) {
    uint8_t key[SEAL_KEY_LEN], nonce[SEAL_NONCE_LEN], a[SEAL_PACKAGE_LEN], b[SEAL_PACKAGE_LEN];
    for (int j = 0; j < SEAL_KEY_LEN; j++)
      key[j] = (uint8_t)(i * 7 + j);
    for (int j = 0; j < SEAL_NONCE_LEN; j++)
      nonce[j] = (uint8_t)(i * 13 + j);
    g_assert_cmpint(seal_pack(NULL, key, f.device, &f.usim, nonce, a), ==, SEAL_OK);
    g_assert_cmpint(seal_pack(c, key, f.device, &f.usim, nonce, b), ==, SEAL_OK);
    g_assert_cmpmem(a, sizeof a, b, sizeof b);
    SealUsim u;
    g_assert_cmpint(seal_open(c, key, f.device, a, sizeof a, &u), ==, SEAL_OK);
    g_assert_true(imsi_equal(u.imsi, f.usim.imsi));
    b[SEAL_PACKAGE_LEN - 1] ^= 1; /* a tag the engine must refuse */
    g_assert_cmpint(seal_open(c, key, f.device, b, sizeof b, &u), ==, SEAL_AUTH_FAILED);
    g_assert_cmpint(seal_open(NULL, key, f.device, a, sizeof a, &u), ==, SEAL_OK);
  }
}

static void
test_known_answer(void)
{
  Fixture f;
  fixture_init(&f);
  char hex[2 * SEAL_PACKAGE_LEN + 1];
  hex_encode(f.package, SEAL_PACKAGE_LEN, hex);
  g_assert_cmpstr(hex, ==, KAT_PACKAGE);
  for (int aesni = 0; aesni < 2; aesni++) { /* and on each engine the CPU runs */
    g_autoptr(SealCtx) c = seal_ctx_new_with(aesni);
    if (c == NULL)
      continue;
    uint8_t p[SEAL_PACKAGE_LEN];
    g_assert_cmpint(seal_pack(c, f.key, f.device, &f.usim, f.nonce, p), ==, SEAL_OK);
    hex_encode(p, SEAL_PACKAGE_LEN, hex);
    g_assert_cmpstr(hex, ==, KAT_PACKAGE);
  }
  g_assert_cmpuint(f.package[0], ==, SEAL_VERSION);
  g_assert_cmpmem(f.package + 1, SEAL_NONCE_LEN, f.nonce, SEAL_NONCE_LEN);
}

static void
test_round_trip(void)
{
  static const struct {
    const char *imsi;
    unsigned mnc_len;
  } cases[] = {
      {"234150123456789", 2},
      {"310410123456789", 3},
      {"26201123456789", 2},
      {"901701", 2},
  };
  Fixture f;
  fixture_init(&f);
  for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
    SealUsim in = f.usim, out;
    in.imsi = imsi_of(cases[c].imsi, cases[c].mnc_len);
    in.k[0] = (uint8_t)c;
    in.opc[15] = (uint8_t)(c * 3);
    uint8_t pkg[SEAL_PACKAGE_LEN];
    f.nonce[11] = (uint8_t)c;
    g_assert_cmpint(seal_pack(NULL, f.key, f.device, &in, f.nonce, pkg), ==, SEAL_OK);
    poison(&out);
    g_assert_cmpint(seal_open(NULL, f.key, f.device, pkg, sizeof pkg, &out), ==, SEAL_OK);
    g_assert_true(imsi_equal(out.imsi, in.imsi));
    g_assert_cmpuint(imsi_mnc_len(out.imsi), ==, cases[c].mnc_len);
    g_assert_cmpmem(out.k, 16, in.k, 16);
    g_assert_cmpmem(out.opc, 16, in.opc, 16);
  }
  /* Another nonce gives another package for the same content. */
  uint8_t a[SEAL_PACKAGE_LEN], b[SEAL_PACKAGE_LEN];
  f.nonce[0] = 1;
  g_assert_cmpint(seal_pack(NULL, f.key, f.device, &f.usim, f.nonce, a), ==, SEAL_OK);
  f.nonce[0] = 2;
  g_assert_cmpint(seal_pack(NULL, f.key, f.device, &f.usim, f.nonce, b), ==, SEAL_OK);
  g_assert_true(memcmp(a + 13, b + 13, SEAL_PACKAGE_LEN - 13) != 0);
}

static void
test_every_bit_flip(void)
{
  Fixture f;
  fixture_init(&f);
  for (size_t bit = 0; bit < 8 * SEAL_PACKAGE_LEN; bit++) {
    uint8_t pkg[SEAL_PACKAGE_LEN];
    memcpy(pkg, f.package, sizeof pkg);
    pkg[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    SealUsim out;
    poison(&out);
    SealStatus st = seal_open(NULL, f.key, f.device, pkg, sizeof pkg, &out);
    g_assert_cmpint(st, ==, bit < 8 ? SEAL_BAD_VERSION : SEAL_AUTH_FAILED);
    assert_poisoned(&out);
  }
  /* The untouched package still opens (the loop really had something to break). */
  SealUsim out;
  g_assert_cmpint(seal_open(NULL, f.key, f.device, f.package, SEAL_PACKAGE_LEN, &out), ==, SEAL_OK);
}

static void
test_wrong_key_and_device(void)
{
  Fixture f;
  fixture_init(&f);
  SealUsim out;
  for (size_t bit = 0; bit < 8 * SEAL_KEY_LEN; bit += 13) {
    uint8_t key[SEAL_KEY_LEN];
    memcpy(key, f.key, sizeof key);
    key[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    poison(&out);
    g_assert_cmpint(seal_open(NULL, key, f.device, f.package, SEAL_PACKAGE_LEN, &out), ==,
                    SEAL_AUTH_FAILED);
    assert_poisoned(&out);
  }
  /* A package for one device is refused by another, even one with the same K_SEAL. */
  static const struct {
    const char *imsi;
    unsigned mnc_len;
  } others[] = {{"001010000000002", 2}, {"00101000000001", 2}, {"101010000000001", 2}};
  for (size_t i = 0; i < G_N_ELEMENTS(others); i++) {
    poison(&out);
    g_assert_cmpint(seal_open(NULL, f.key, imsi_of(others[i].imsi, others[i].mnc_len), f.package,
                              SEAL_PACKAGE_LEN, &out),
                    ==, SEAL_AUTH_FAILED);
    assert_poisoned(&out);
  }
  poison(&out);
  g_assert_cmpint(seal_open(NULL, f.key, IMSI_NONE, f.package, SEAL_PACKAGE_LEN, &out), ==,
                  SEAL_BAD_ARGUMENT);
  assert_poisoned(&out);
}

static void
test_lengths(void)
{
  Fixture f;
  fixture_init(&f);
  uint8_t longer[SEAL_PACKAGE_LEN + 1];
  memcpy(longer, f.package, SEAL_PACKAGE_LEN);
  longer[SEAL_PACKAGE_LEN] = 0;
  SealUsim out;
  for (size_t len = 0; len <= SEAL_PACKAGE_LEN + 1; len++) {
    if (len == SEAL_PACKAGE_LEN)
      continue;
    poison(&out);
    g_assert_cmpint(seal_open(NULL, f.key, f.device, longer, len, &out), ==, SEAL_BAD_LENGTH);
    assert_poisoned(&out);
  }
  poison(&out);
  g_assert_cmpint(seal_open(NULL, f.key, f.device, NULL, SEAL_PACKAGE_LEN, &out), ==,
                  SEAL_BAD_LENGTH);
  assert_poisoned(&out);
}

/* Seals an arbitrary plaintext with an AES-GCM written here, so malformed contents can be
 * authentic. */
static void
craft(const Fixture *f, const uint8_t plain[SEAL_PLAIN_LEN], uint8_t pkg[SEAL_PACKAGE_LEN])
{
  char digits[IMSI_STR_LEN];
  imsi_format(f->device, digits);
  uint8_t aad[1 + IMSI_STR_LEN] = {SEAL_VERSION};
  memcpy(aad + 1, digits, strlen(digits));
  pkg[0] = SEAL_VERSION;
  memcpy(pkg + 1, f->nonce, SEAL_NONCE_LEN);
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
  int n;
  g_assert_true(EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, f->key, f->nonce));
  g_assert_true(EVP_EncryptUpdate(ctx, NULL, &n, aad, (int)(1 + strlen(digits))));
  g_assert_true(EVP_EncryptUpdate(ctx, pkg + 13, &n, plain, SEAL_PLAIN_LEN));
  g_assert_true(EVP_EncryptFinal_ex(ctx, pkg + 13 + n, &n));
  g_assert_true(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, pkg + 13 + SEAL_PLAIN_LEN));
  EVP_CIPHER_CTX_free(ctx);
}

static void
test_bad_content(void)
{
  Fixture f;
  fixture_init(&f);
  /* The good plaintext, as seal.h lays it out. */
  uint8_t good[SEAL_PLAIN_LEN] = {8, 0x29, 0x43, 0x51, 0x10, 0x32, 0x54, 0x76, 0x98, 2};
  tu_hex(KAT_K, good + 10, 16);
  tu_hex(KAT_OPC, good + 26, 16);
  uint8_t pkg[SEAL_PACKAGE_LEN];
  craft(&f, good, pkg);
  g_assert_cmpmem(pkg, sizeof pkg, f.package, sizeof pkg); /* layout is as documented */

  struct {
    size_t at;
    uint8_t value;
  } breaks[] = {
      {0, 0},    /* EF_IMSI length 0 */
      {0, 9},    /* longer than 8 */
      {0, 7},    /* 7 octets: octet 8 must then be filler 0xFF */
      {9, 1},    /* MNC length 1 */
      {9, 4},    /* MNC length 4 */
      {1, 0x2A}, /* identity type 2, not IMSI */
      {4, 0x1A}, /* a digit nibble 0xA */
  };
  for (size_t i = 0; i < G_N_ELEMENTS(breaks); i++) {
    uint8_t bad[SEAL_PLAIN_LEN];
    memcpy(bad, good, sizeof bad);
    bad[breaks[i].at] = breaks[i].value;
    craft(&f, bad, pkg);
    SealUsim out;
    poison(&out);
    g_assert_cmpint(seal_open(NULL, f.key, f.device, pkg, sizeof pkg, &out), ==, SEAL_BAD_CONTENT);
    assert_poisoned(&out);
  }
  /* A shorter IMSI with its filler in place is fine: 8 digits in 5 octets. */
  uint8_t shortp[SEAL_PLAIN_LEN];
  memcpy(shortp, good, sizeof shortp);
  const uint8_t ef[SEAL_EF_IMSI_LEN] = {5, 0x21, 0x26, 0x10, 0x21, 0xF3, 0xFF, 0xFF, 0xFF};
  memcpy(shortp, ef, sizeof ef);
  craft(&f, shortp, pkg);
  SealUsim out;
  g_assert_cmpint(seal_open(NULL, f.key, f.device, pkg, sizeof pkg, &out), ==, SEAL_OK);
  char buf[IMSI_STR_LEN];
  g_assert_cmpstr(imsi_format(out.imsi, buf), ==, "26201123");
}

static void
test_pack_bad_arguments(void)
{
  Fixture f;
  fixture_init(&f);
  uint8_t pkg[SEAL_PACKAGE_LEN];
  memset(pkg, 0x33, sizeof pkg);
  SealUsim u = f.usim;
  u.imsi = IMSI_NONE;
  g_assert_cmpint(seal_pack(NULL, f.key, f.device, &u, f.nonce, pkg), ==, SEAL_BAD_ARGUMENT);
  g_assert_cmpint(seal_pack(NULL, f.key, IMSI_NONE, &f.usim, f.nonce, pkg), ==, SEAL_BAD_ARGUMENT);
  for (size_t i = 0; i < sizeof pkg; i++)
    g_assert_cmpuint(pkg[i], ==, 0x33); /* nothing written */
}

static void
test_with_derived_key(void)
{
  /* End to end with kdf.h: both sides derive K_SEAL from K_SHO and the PIMSI. */
  uint8_t k_sho[KDF_OUT_LEN] = {9, 8, 7}, key_sho_side[16], key_dev_side[16];
  Fixture f;
  fixture_init(&f);
  g_assert_true(kdf_seal_key(NULL, k_sho, f.device, key_sho_side));
  g_assert_true(kdf_seal_key(NULL, k_sho, f.device, key_dev_side));
  uint8_t pkg[SEAL_PACKAGE_LEN];
  g_assert_cmpint(seal_pack(NULL, key_sho_side, f.device, &f.usim, f.nonce, pkg), ==, SEAL_OK);
  SealUsim out;
  g_assert_cmpint(seal_open(NULL, key_dev_side, f.device, pkg, sizeof pkg, &out), ==, SEAL_OK);
  g_assert_cmpmem(&out, sizeof out, &f.usim, sizeof out);
  /* The key another device derives from the same K_SHO does not open it. */
  Imsi other = imsi_of("001010000000002", 2);
  g_assert_true(kdf_seal_key(NULL, k_sho, other, key_dev_side));
  poison(&out);
  g_assert_cmpint(seal_open(NULL, key_dev_side, f.device, pkg, sizeof pkg, &out), ==,
                  SEAL_AUTH_FAILED);
  assert_poisoned(&out);
}

static void
test_status_names(void)
{
  g_assert_cmpstr(seal_status_name(SEAL_OK), ==, "ok");
  g_assert_cmpstr(seal_status_name(SEAL_BAD_LENGTH), ==, "bad-length");
  g_assert_cmpstr(seal_status_name(SEAL_BAD_VERSION), ==, "bad-version");
  g_assert_cmpstr(seal_status_name(SEAL_AUTH_FAILED), ==, "auth-failed");
  g_assert_cmpstr(seal_status_name(SEAL_BAD_CONTENT), ==, "bad-content");
  g_assert_cmpstr(seal_status_name(SEAL_BAD_ARGUMENT), ==, "bad-argument");
  g_assert_cmpstr(seal_status_name(SEAL_CRYPTO_ERROR), ==, "crypto-error");
  g_assert_cmpstr(seal_status_name((SealStatus)99), ==, "unknown");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/seal/known-answer", test_known_answer);
  g_test_add_data_func("/seal/engine-agrees/aesni", GINT_TO_POINTER(1), test_engine_agrees);
  g_test_add_data_func("/seal/engine-agrees/evp", GINT_TO_POINTER(0), test_engine_agrees);
  g_test_add_func("/seal/round-trip", test_round_trip);
  g_test_add_func("/seal/every-bit-flip", test_every_bit_flip);
  g_test_add_func("/seal/wrong-key-and-device", test_wrong_key_and_device);
  g_test_add_func("/seal/lengths", test_lengths);
  g_test_add_func("/seal/bad-content", test_bad_content);
  g_test_add_func("/seal/pack-bad-arguments", test_pack_bad_arguments);
  g_test_add_func("/seal/with-derived-key", test_with_derived_key);
  g_test_add_func("/seal/status-names", test_status_names);
  return g_test_run();
}
