/* The 3GPP KDF (TS 33.220 Annex B.2): the published KASME row, the openssl command line
 * as an independent HMAC-SHA-256 on S built here byte by byte, and the project's K_RS,
 * K_SHO and K_SEAL derivations (pinned values recomputed with the openssl CLI). */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "m2m/hex.h"
#include "m2m/kdf.h"
#include "testutil.h"

/* HMAC-SHA-256(key, s) by `openssl mac`, as lowercase hex; NULL when openssl is absent. */
static char *
openssl_hmac(const uint8_t *key, size_t key_len, const uint8_t *s, size_t s_len)
{
  g_autofree char *prog = g_find_program_in_path("openssl");
  if (prog == NULL)
    return NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  int fd = g_file_open_tmp("m2m-kdf-XXXXXX", &path, &error);
  g_assert_no_error(error);
  close(fd);
  g_assert_true(g_file_set_contents(path, (const char *)s, (gssize)s_len, &error));
  g_autofree char *hexkey = g_malloc(2 * key_len + 1);
  hex_encode(key, key_len, hexkey);
  g_autofree char *keyopt = g_strconcat("hexkey:", hexkey, NULL);
  const char *argv[] = {prog,   "mac", "-digest", "SHA256", "-macopt",
                        keyopt, "-in", path,      "HMAC",   NULL};
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                             &status, &error));
  g_assert_no_error(error);
  g_unlink(path);
  g_assert_true(g_spawn_check_wait_status(status, &error));
  g_assert_no_error(error);
  g_strstrip(out);
  g_assert_cmpuint(strlen(out), ==, 64);
  return g_ascii_strdown(out, -1);
}

/* S = FC || P0 || L0 || ..., written out independently of kdf.c. */
static GByteArray *
build_s(uint8_t fc, const KdfParam *p, size_t n)
{
  GByteArray *s = g_byte_array_new();
  g_byte_array_append(s, &fc, 1);
  for (size_t i = 0; i < n; i++) {
    if (p[i].len)
      g_byte_array_append(s, p[i].data, (guint)p[i].len);
    uint8_t l[2] = {(uint8_t)(p[i].len / 256), (uint8_t)(p[i].len % 256)};
    g_byte_array_append(s, l, 2);
  }
  return s;
}

static void
assert_hex(const uint8_t *v, size_t len, const char *want)
{
  char got[2 * 64 + 1];
  g_assert_cmpuint(len, <=, 64);
  hex_encode(v, len, got);
  g_assert_cmpstr(got, ==, want);
}

static void
test_kasme_vector(void)
{
  g_autoptr(GPtrArray) rows = tu_read_tsv("kdf.tsv");
  gboolean seen = FALSE;
  for (guint r = 0; r < rows->len; r++) {
    char **f = g_ptr_array_index(rows, r);
    if (g_strcmp0(f[0], "kasme") != 0)
      continue;
    seen = TRUE;
    uint8_t key[32], s[14], out[KDF_OUT_LEN];
    tu_hex(f[1], key, sizeof key);
    tu_hex(f[2], s, sizeof s);
    /* TS 33.401 A.2: FC 0x10, P0 = PLMN id (3 octets), P1 = SQN xor AK (6 octets). */
    g_assert_cmpuint(s[0], ==, 0x10);
    g_assert_cmpuint(s[4] << 8 | s[5], ==, 3);
    g_assert_cmpuint(s[12] << 8 | s[13], ==, 6);
    const KdfParam p[] = {{s + 1, 3}, {s + 6, 6}};
    g_assert_true(kdf(key, sizeof key, s[0], p, 2, out));
    assert_hex(out, sizeof out, f[3]);
    /* The engine gives the published value too. */
    g_autoptr(KdfCtx) c = kdf_ctx_new();
    g_assert_true(kdf_ctx_derive(c, key, sizeof key, s[0], p, 2, out));
    assert_hex(out, sizeof out, f[3]);
  }
  g_assert_true(seen);
}

/* The engine (fetched once, context reused) and the one-shot call agree on random input:
 * keys of 0, 1, 32, 64 (one block) and 65, 200 octets (hashed first), up to four
 * parameters of any length, thousands of derivations on one engine. */
static void
test_engine_agrees(void)
{
  g_autoptr(KdfCtx) c = kdf_ctx_new();
  g_assert_nonnull(c);
  GRand *r = g_rand_new_with_seed(7);
  static const size_t key_lens[] = {0, 1, 32, 64, 65, 200};
  uint8_t key[200], data[4][300], a[KDF_OUT_LEN], b[KDF_OUT_LEN];
  for (int i = 0; i < 3000; i++) {
    size_t kl = key_lens[i % G_N_ELEMENTS(key_lens)];
    for (size_t j = 0; j < kl; j++)
      key[j] = (uint8_t)g_rand_int(r);
    KdfParam p[4];
    size_t n = (size_t)g_rand_int_range(r, 0, 5);
    for (size_t j = 0; j < n; j++) {
      p[j].len = (size_t)g_rand_int_range(r, 0, 300);
      for (size_t q = 0; q < p[j].len; q++)
        data[j][q] = (uint8_t)g_rand_int(r);
      p[j].data = data[j];
    }
    uint8_t fc = (uint8_t)g_rand_int(r);
    g_assert_true(kdf(key, kl, fc, p, n, a));
    g_assert_true(kdf_ctx_derive(c, key, kl, fc, p, n, b));
    g_assert_cmpmem(a, sizeof a, b, sizeof b);
  }
  g_rand_free(r);
}

static void
test_against_openssl_cli(void)
{
  g_autofree char *probe = g_find_program_in_path("openssl");
  if (probe == NULL) {
    g_test_skip("openssl command not installed");
    return;
  }
  g_autoptr(GRand) rng = g_rand_new_with_seed(33220);
  static const size_t key_lens[] = {32, 16, 1, 64, 65, 100};
  uint8_t key[100], data[3][300];
  for (size_t c = 0; c < G_N_ELEMENTS(key_lens); c++) {
    for (size_t i = 0; i < sizeof key; i++)
      key[i] = (uint8_t)g_rand_int(rng);
    size_t n = c % 4; /* 0..3 parameters */
    KdfParam p[3];
    for (size_t i = 0; i < n; i++) {
      p[i].len = (size_t)g_rand_int_range(rng, 0, 300);
      for (size_t j = 0; j < p[i].len; j++)
        data[i][j] = (uint8_t)g_rand_int(rng);
      p[i].data = p[i].len ? data[i] : NULL;
    }
    uint8_t fc = (uint8_t)g_rand_int(rng), out[KDF_OUT_LEN];
    g_assert_true(kdf(key, key_lens[c], fc, p, n, out));
    g_autoptr(GByteArray) s = build_s(fc, p, n);
    g_autofree char *want = openssl_hmac(key, key_lens[c], s->data, s->len);
    assert_hex(out, sizeof out, want);
  }
  /* Empty key; a zero-length parameter with NULL data; the longest parameter (L = ff ff). */
  uint8_t *big = g_malloc(KDF_MAX_PARAM_LEN);
  for (size_t i = 0; i < KDF_MAX_PARAM_LEN; i++)
    big[i] = (uint8_t)(i * 7);
  const KdfParam p[] = {{NULL, 0}, {big, KDF_MAX_PARAM_LEN}};
  uint8_t out[KDF_OUT_LEN];
  g_assert_true(kdf(NULL, 0, 0x01, p, 2, out));
  g_autoptr(GByteArray) s = build_s(0x01, p, 2);
  g_assert_cmpuint(s->data[s->len - 2], ==, 0xff);
  g_assert_cmpuint(s->data[s->len - 1], ==, 0xff);
  g_autofree char *want = openssl_hmac(key, 0, s->data, s->len);
  assert_hex(out, sizeof out, want);
  g_free(big);
}

static void
test_param_boundaries(void)
{
  /* The L fields make parameter boundaries part of S: "ab"+"c" differs from "a"+"bc". */
  const uint8_t key[32] = {1};
  uint8_t o1[KDF_OUT_LEN], o2[KDF_OUT_LEN], o3[KDF_OUT_LEN];
  const KdfParam p1[] = {{"ab", 2}, {"c", 1}};
  const KdfParam p2[] = {{"a", 1}, {"bc", 2}};
  g_assert_true(kdf(key, sizeof key, 0x42, p1, 2, o1));
  g_assert_true(kdf(key, sizeof key, 0x42, p2, 2, o2));
  g_assert_true(kdf(key, sizeof key, 0x43, p1, 2, o3));
  g_assert_true(memcmp(o1, o2, 32) != 0);
  g_assert_true(memcmp(o1, o3, 32) != 0); /* FC matters */
}

static void
test_bad_params(void)
{
  const uint8_t key[32] = {0};
  uint8_t out[KDF_OUT_LEN];
  static const uint8_t big[KDF_MAX_PARAM_LEN + 1];
  const KdfParam too_long[] = {{"x", 1}, {big, KDF_MAX_PARAM_LEN + 1}};
  memset(out, 0xAA, sizeof out);
  g_test_expect_message(NULL, G_LOG_LEVEL_CRITICAL, "*KDF_MAX_PARAM_LEN*");
  g_assert_false(kdf(key, sizeof key, 1, too_long, 2, out));
  g_test_assert_expected_messages();
  const uint8_t zero[KDF_OUT_LEN] = {0};
  g_assert_cmpmem(out, sizeof out, zero, sizeof zero);

  const KdfParam null_data[] = {{NULL, 3}};
  memset(out, 0xAA, sizeof out);
  g_test_expect_message(NULL, G_LOG_LEVEL_CRITICAL, "*data != NULL*");
  g_assert_false(kdf(key, sizeof key, 1, null_data, 1, out));
  g_test_assert_expected_messages();
  g_assert_cmpmem(out, sizeof out, zero, sizeof zero);

  g_test_expect_message(NULL, G_LOG_LEVEL_CRITICAL, "*key != NULL*");
  g_assert_false(kdf(NULL, 16, 1, NULL, 0, out));
  g_test_assert_expected_messages();
  g_test_expect_message(NULL, G_LOG_LEVEL_CRITICAL, "*params != NULL*");
  g_assert_false(kdf(key, 16, 1, NULL, 2, out));
  g_test_assert_expected_messages();
}

/* Test set 1 CK/IK/RAND of TS 35.208 and PIMSI 001010000000001; the expected values were
 * computed with `openssl mac` on S written out by hand (see kdf.h for S). */
static const char *const CK = "b40ba9a3c58b2a05bbf0d987b21bf8cb";
static const char *const IK = "f769bcd751044604127672711c6d3441";
static const char *const RAND = "23553cbe9637a89d218ae64dae47bf35";

static void
test_project_keys(void)
{
  uint8_t ck[16], ik[16], rand[16], k_rs[32], k_sho[32], k_seal[16];
  tu_hex(CK, ck, 16);
  tu_hex(IK, ik, 16);
  tu_hex(RAND, rand, 16);
  Imsi pimsi;
  g_assert_true(imsi_parse("001010000000001", 2, &pimsi, NULL));
  g_assert_true(kdf_rs_key(NULL, ck, ik, pimsi, rand, k_rs));
  assert_hex(k_rs, 32, "f73ef8a78604dd6a6f0565b2f6d6703e9d249579680aa710eae5f378a7290437");
  g_assert_true(kdf_sho_key(NULL, ck, ik, pimsi, rand, k_sho));
  assert_hex(k_sho, 32, "2e425b2b3774ea14ac42e07df50b675bba453dd019654acf14f613f6504b7c91");
  g_assert_true(kdf_seal_key(NULL, k_sho, pimsi, k_seal));
  assert_hex(k_seal, 16, "974641b2273078f3e06287f9a78c6444");

  /* The same through the generic kdf(), with S spelled out here. */
  uint8_t key[32], out[32];
  memcpy(key, ck, 16);
  memcpy(key + 16, ik, 16);
  const KdfParam p[] = {{"m2m-rs", 6}, {"001010000000001", 15}, {rand, 16}};
  g_assert_true(kdf(key, 32, 0xF0, p, 3, out));
  g_assert_cmpmem(out, 32, k_rs, 32);

  /* Keys differ per device, per AKA run and per peer. */
  Imsi other;
  g_assert_true(imsi_parse("001010000000002", 2, &other, NULL));
  g_assert_true(kdf_rs_key(NULL, ck, ik, other, rand, out));
  g_assert_true(memcmp(out, k_rs, 32) != 0);
  g_assert_true(imsi_parse("001010000000001", 3, &other, NULL)); /* same digits */
  g_assert_true(kdf_rs_key(NULL, ck, ik, other, rand, out));
  g_assert_cmpmem(out, 32, k_rs, 32); /* the identity is the digit string */
  rand[15] ^= 1;
  g_assert_true(kdf_rs_key(NULL, ck, ik, pimsi, rand, out));
  g_assert_true(memcmp(out, k_rs, 32) != 0);
  g_assert_true(memcmp(k_rs, k_sho, 32) != 0);
  uint8_t seal2[16];
  g_assert_true(imsi_parse("001010000000002", 2, &other, NULL));
  g_assert_true(kdf_seal_key(NULL, k_sho, other, seal2));
  g_assert_true(memcmp(seal2, k_seal, 16) != 0);

  /* No PIMSI, no key (and the output is zeroed, not left over). */
  memset(out, 0xAA, sizeof out);
  g_assert_false(kdf_rs_key(NULL, ck, ik, IMSI_NONE, rand, out));
  const uint8_t zero[32] = {0};
  g_assert_cmpmem(out, 32, zero, 32);
  memset(out, 0xAA, sizeof out);
  g_assert_false(kdf_sho_key(NULL, ck, ik, IMSI_NONE, rand, out));
  g_assert_cmpmem(out, 32, zero, 32);
  memset(seal2, 0xAA, sizeof seal2);
  g_assert_false(kdf_seal_key(NULL, k_sho, IMSI_NONE, seal2));
  g_assert_cmpmem(seal2, 16, zero, 16);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/kdf/kasme-vector", test_kasme_vector);
  g_test_add_func("/kdf/engine-agrees", test_engine_agrees);
  g_test_add_func("/kdf/openssl-cli", test_against_openssl_cli);
  g_test_add_func("/kdf/param-boundaries", test_param_boundaries);
  g_test_add_func("/kdf/bad-params", test_bad_params);
  g_test_add_func("/kdf/project-keys", test_project_keys);
  return g_test_run();
}
