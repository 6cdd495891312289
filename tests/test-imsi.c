/* IMSI parsing, validation, formatting and BCD coding (E.212, TS 24.008 10.5.1.4). */
#include <glib.h>
#include <string.h>

#include "m2m/imsi.h"
#include "testutil.h"

static void
test_parse_good(void)
{
  static const struct {
    const char *text;
    unsigned mnc_len;
    uint16_t mcc, mnc;
    uint64_t msin;
    unsigned msin_len;
    const char *split;
  } good[] = {
      {"001010000000001", 2, 1, 1, 1, 10, "001-01-0000000001"},
      {"001001000000001", 3, 1, 1, 1, 9, "001-001-000000001"},
      {"234150123456789", 2, 234, 15, 123456789, 10, "234-15-0123456789"},
      {"310410123456789", 3, 310, 410, 123456789, 9, "310-410-123456789"},
      {"999999999999999", 3, 999, 999, 999999999, 9, "999-999-999999999"},
      {"000000000000000", 2, 0, 0, 0, 10, "000-00-0000000000"},
      {"901701", 2, 901, 70, 1, 1, "901-70-1"}, /* shortest with a 2-digit MNC */
      {"9017010", 3, 901, 701, 0, 1, "901-701-0"},
      {"26201123", 2, 262, 1, 123, 3, "262-01-123"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
    Imsi imsi = IMSI_NONE;
    g_autoptr(GError) error = NULL;
    g_assert_true(imsi_parse(good[i].text, good[i].mnc_len, &imsi, &error));
    g_assert_no_error(error);
    g_assert_true(imsi_is_valid(imsi));
    g_assert_cmpuint(imsi_mcc(imsi), ==, good[i].mcc);
    g_assert_cmpuint(imsi_mnc(imsi), ==, good[i].mnc);
    g_assert_cmpuint(imsi_mnc_len(imsi), ==, good[i].mnc_len);
    g_assert_cmpuint(imsi_msin(imsi), ==, good[i].msin);
    g_assert_cmpuint(imsi_msin_len(imsi), ==, good[i].msin_len);
    g_assert_cmpuint(imsi_len(imsi), ==, strlen(good[i].text));
    char buf[IMSI_STR_LEN], split[IMSI_SPLIT_STR_LEN];
    g_assert_cmpstr(imsi_format(imsi, buf), ==, good[i].text);
    g_assert_cmpstr(imsi_format_split(imsi, split), ==, good[i].split);

    /* Same IMSI through imsi_make. */
    Imsi made = IMSI_NONE;
    g_assert_true(imsi_make(good[i].mcc, good[i].mnc, good[i].mnc_len, good[i].msin,
                            good[i].msin_len, &made, &error));
    g_assert_true(imsi_equal(made, imsi));
  }
}

static void
test_compact(void)
{
  g_assert_cmpuint(sizeof(Imsi), ==, 8);
  Imsi a, b, c;
  g_assert_true(imsi_parse("001010000000001", 2, &a, NULL));
  g_assert_true(imsi_parse("001010000000001", 3, &b, NULL));
  g_assert_true(imsi_parse("01010000000001", 2, &c, NULL)); /* 14 digits */
  /* The MNC length and the leading zeros are part of the identity. */
  g_assert_false(imsi_equal(a, b));
  g_assert_false(imsi_equal(a, c));
  g_assert_cmpuint(imsi_mcc(c), ==, 10);
  g_assert_cmpuint(imsi_len(c), ==, 14);
}

static void
expect_parse_error(const char *text, unsigned mnc_len, ImsiError code, const char *needle)
{
  Imsi imsi = {UINT64_C(0x1234)};
  g_autoptr(GError) error = NULL;
  g_assert_false(imsi_parse(text, mnc_len, &imsi, &error));
  g_assert_error(error, IMSI_ERROR, (gint)code);
  g_assert_nonnull(strstr(error->message, needle));
  g_assert_cmpuint(imsi.packed, ==, 0x1234); /* untouched */
}

static void
test_parse_bad(void)
{
  expect_parse_error(NULL, 2, IMSI_ERROR_EMPTY, "empty");
  expect_parse_error("", 2, IMSI_ERROR_EMPTY, "IMSI is empty");
  expect_parse_error("00101000000000a", 2, IMSI_ERROR_NOT_DIGIT, "position 15");
  expect_parse_error(" 001010000000001", 2, IMSI_ERROR_NOT_DIGIT, "position 1");
  expect_parse_error("-01010000000001", 2, IMSI_ERROR_NOT_DIGIT, "non-digit");
  expect_parse_error("+01010000000001", 2, IMSI_ERROR_NOT_DIGIT, "non-digit");
  expect_parse_error("0010100000000011", 2, IMSI_ERROR_TOO_LONG, "16 digits; at most 15");
  expect_parse_error("12345678901234567890123", 3, IMSI_ERROR_TOO_LONG, "23 digits");
  expect_parse_error("00101", 2, IMSI_ERROR_TOO_SHORT, "need 6");
  expect_parse_error("001001", 3, IMSI_ERROR_TOO_SHORT, "need 7");
  expect_parse_error("001010000000001", 1, IMSI_ERROR_MNC_LEN, "MNC length 1");
  expect_parse_error("001010000000001", 4, IMSI_ERROR_MNC_LEN, "2 or 3 digits");
  expect_parse_error("001010000000001", 0, IMSI_ERROR_MNC_LEN, "MNC length 0");
}

static void
test_mcc_mnc(void)
{
  uint16_t v = 0;
  unsigned len = 0;
  g_autoptr(GError) error = NULL;
  g_assert_true(imsi_parse_mcc("001", &v, &error));
  g_assert_cmpuint(v, ==, 1);
  g_assert_true(imsi_parse_mcc("901", &v, &error));
  g_assert_cmpuint(v, ==, 901);
  g_assert_true(imsi_parse_mnc("01", &v, &len, &error));
  g_assert_cmpuint(v, ==, 1);
  g_assert_cmpuint(len, ==, 2);
  g_assert_true(imsi_parse_mnc("001", &v, &len, &error));
  g_assert_cmpuint(v, ==, 1);
  g_assert_cmpuint(len, ==, 3);
  g_assert_no_error(error);

  static const struct {
    const char *text;
    ImsiError code;
  } bad_mcc[] = {{"", IMSI_ERROR_EMPTY},        {"1", IMSI_ERROR_TOO_SHORT},
                 {"01", IMSI_ERROR_TOO_SHORT},  {"0010", IMSI_ERROR_TOO_LONG},
                 {"2a4", IMSI_ERROR_NOT_DIGIT}, {NULL, IMSI_ERROR_EMPTY}};
  for (size_t i = 0; i < G_N_ELEMENTS(bad_mcc); i++) {
    g_autoptr(GError) e = NULL;
    v = 77;
    g_assert_false(imsi_parse_mcc(bad_mcc[i].text, &v, &e));
    g_assert_error(e, IMSI_ERROR, (gint)bad_mcc[i].code);
    g_assert_nonnull(strstr(e->message, "MCC"));
    g_assert_cmpuint(v, ==, 77);
  }
  static const struct {
    const char *text;
    ImsiError code;
  } bad_mnc[] = {{"", IMSI_ERROR_EMPTY},
                 {"1", IMSI_ERROR_TOO_SHORT},
                 {"0001", IMSI_ERROR_TOO_LONG},
                 {"0x1", IMSI_ERROR_NOT_DIGIT}};
  for (size_t i = 0; i < G_N_ELEMENTS(bad_mnc); i++) {
    g_autoptr(GError) e = NULL;
    v = 77;
    len = 9;
    g_assert_false(imsi_parse_mnc(bad_mnc[i].text, &v, &len, &e));
    g_assert_error(e, IMSI_ERROR, (gint)bad_mnc[i].code);
    g_assert_nonnull(strstr(e->message, "MNC"));
    g_assert_cmpuint(v, ==, 77);
    g_assert_cmpuint(len, ==, 9);
  }
}

static void
test_make_bad(void)
{
  static const struct {
    uint16_t mcc, mnc;
    unsigned mnc_len;
    uint64_t msin;
    unsigned msin_len;
    ImsiError code;
  } bad[] = {
      {1000, 1, 2, 1, 10, IMSI_ERROR_RANGE},
      {1, 100, 2, 1, 10, IMSI_ERROR_RANGE},
      {1, 1000, 3, 1, 9, IMSI_ERROR_RANGE},
      {1, 1, 1, 1, 10, IMSI_ERROR_MNC_LEN},
      {1, 1, 4, 1, 8, IMSI_ERROR_MNC_LEN},
      {1, 1, 2, 0, 0, IMSI_ERROR_TOO_SHORT},
      {1, 1, 2, 1, 11, IMSI_ERROR_TOO_LONG},
      {1, 1, 3, 1, 10, IMSI_ERROR_TOO_LONG},
      {1, 1, 2, UINT64_C(10000000000), 10, IMSI_ERROR_RANGE},
      {1, 1, 3, 1000, 3, IMSI_ERROR_RANGE},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    Imsi imsi = {42};
    g_autoptr(GError) error = NULL;
    g_assert_false(imsi_make(bad[i].mcc, bad[i].mnc, bad[i].mnc_len, bad[i].msin, bad[i].msin_len,
                             &imsi, &error));
    g_assert_error(error, IMSI_ERROR, (gint)bad[i].code);
    g_assert_cmpuint(imsi.packed, ==, 42);
  }
  /* The largest MSIN of each length is fine. */
  Imsi imsi;
  g_assert_true(imsi_make(1, 1, 2, UINT64_C(9999999999), 10, &imsi, NULL));
  char buf[IMSI_STR_LEN];
  g_assert_cmpstr(imsi_format(imsi, buf), ==, "001019999999999");
}

static void
test_none(void)
{
  Imsi none = IMSI_NONE;
  g_assert_false(imsi_is_valid(none));
  g_assert_cmpuint(imsi_mcc(none), ==, 0);
  g_assert_cmpuint(imsi_mnc(none), ==, 0);
  g_assert_cmpuint(imsi_msin(none), ==, 0);
  g_assert_cmpuint(imsi_msin_len(none), ==, 0);
  char buf[IMSI_STR_LEN] = "x", split[IMSI_SPLIT_STR_LEN] = "x";
  g_assert_cmpstr(imsi_format(none, buf), ==, "");
  g_assert_cmpstr(imsi_format_split(none, split), ==, "");
  uint8_t bcd[IMSI_BCD_LEN];
  g_assert_cmpuint(imsi_encode_bcd(none, bcd), ==, 0);
  /* Garbage words are not valid IMSIs either. */
  g_assert_false(imsi_is_valid((Imsi){UINT64_MAX}));
  g_assert_false(imsi_is_valid((Imsi){(UINT64_C(15) << 50) | (UINT64_C(1) << 54)}));
}

static void
test_bcd(void)
{
  /* TS 24.008 10.5.1.4: odd count -> flag set, no filler; even count -> filler 0xF.
   * Worked by hand: digits 0 0 1 0 1 0 1 2 3 4 5 6 7 8 9 give octet 1 = d1<<4 | odd | type 1
   * = 0x09, then d3<<4|d2 = 0x10, 0x10, 0x10, 0x32, 0x54, 0x76, 0x98. */
  static const struct {
    const char *text;
    unsigned mnc_len;
    const char *hex;
  } vec[] = {
      {"001010123456789", 2, "0910101032547698"},
      {"00101012345678", 2, "01101010325476f8"},
      {"234150123456789", 2, "2943511032547698"},
      {"901701", 2, "911007f1"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(vec); i++) {
    Imsi imsi, back = IMSI_NONE;
    g_assert_true(imsi_parse(vec[i].text, vec[i].mnc_len, &imsi, NULL));
    uint8_t bcd[IMSI_BCD_LEN];
    size_t n = imsi_encode_bcd(imsi, bcd);
    g_assert_cmpuint(n, ==, strlen(vec[i].hex) / 2);
    char hex[2 * IMSI_BCD_LEN + 1];
    for (size_t j = 0; j < n; j++)
      g_snprintf(hex + 2 * j, 3, "%02x", bcd[j]);
    g_assert_cmpstr(hex, ==, vec[i].hex);
    g_autoptr(GError) error = NULL;
    g_assert_true(imsi_decode_bcd(bcd, n, vec[i].mnc_len, &back, &error));
    g_assert_no_error(error);
    g_assert_true(imsi_equal(back, imsi));
  }
}

static void
expect_bcd_error(const char *hex, unsigned mnc_len, ImsiError code)
{
  uint8_t in[16];
  size_t n = strlen(hex) / 2;
  tu_hex(hex, in, n);
  Imsi imsi = {5};
  g_autoptr(GError) error = NULL;
  g_assert_false(imsi_decode_bcd(in, n, mnc_len, &imsi, &error));
  g_assert_error(error, IMSI_ERROR, (gint)code);
  g_assert_cmpuint(imsi.packed, ==, 5);
}

static void
test_bcd_bad(void)
{
  expect_bcd_error("0a10101032547698", 2, IMSI_ERROR_ENCODING);   /* type 2 (IMEI-like) */
  expect_bcd_error("0910101032547a98", 2, IMSI_ERROR_ENCODING);   /* nibble 0xA */
  expect_bcd_error("01101010325476a8", 2, IMSI_ERROR_ENCODING);   /* even, bad filler */
  expect_bcd_error("0910101032547698ff", 2, IMSI_ERROR_ENCODING); /* 9 octets */
  expect_bcd_error("", 2, IMSI_ERROR_ENCODING);                   /* 0 octets */
  expect_bcd_error("0910", 2, IMSI_ERROR_TOO_SHORT);              /* 3 digits */
  expect_bcd_error("0910101032547698", 4, IMSI_ERROR_MNC_LEN);
  /* Flipping the odd flag of a valid odd encoding makes the last digit a bad filler. */
  expect_bcd_error("0110101032547698", 2, IMSI_ERROR_ENCODING);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/imsi/parse-good", test_parse_good);
  g_test_add_func("/imsi/compact", test_compact);
  g_test_add_func("/imsi/parse-bad", test_parse_bad);
  g_test_add_func("/imsi/mcc-mnc", test_mcc_mnc);
  g_test_add_func("/imsi/make-bad", test_make_bad);
  g_test_add_func("/imsi/none", test_none);
  g_test_add_func("/imsi/bcd", test_bcd);
  g_test_add_func("/imsi/bcd-bad", test_bcd_bad);
  return g_test_run();
}
