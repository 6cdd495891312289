/* IMSI parsing, validation, formatting and BCD coding (ITU-T E.212, TS 23.003 2.2,
 * TS 24.008 10.5.1.4). See imsi.h for the representation and the rules enforced. */
#include "m2m/imsi.h"

#include <string.h>

#define VALUE_BITS 50
#define VALUE_MASK ((UINT64_C(1) << VALUE_BITS) - 1)
#define LEN_SHIFT 50
#define MNC_SHIFT 54

/* clang-format off */
G_DEFINE_QUARK(m2m-imsi-error-quark, imsi_error)
/* clang-format on */

static const uint64_t pow10_table[] = {
    UINT64_C(1),
    UINT64_C(10),
    UINT64_C(100),
    UINT64_C(1000),
    UINT64_C(10000),
    UINT64_C(100000),
    UINT64_C(1000000),
    UINT64_C(10000000),
    UINT64_C(100000000),
    UINT64_C(1000000000),
    UINT64_C(10000000000),
    UINT64_C(100000000000),
    UINT64_C(1000000000000),
    UINT64_C(10000000000000),
    UINT64_C(100000000000000),
    UINT64_C(1000000000000000),
};

static Imsi
pack(uint64_t value, unsigned len, unsigned mnc_len)
{
  return (Imsi){value | (uint64_t)len << LEN_SHIFT | (uint64_t)mnc_len << MNC_SHIFT};
}

static uint64_t
value_of(Imsi imsi)
{
  return imsi.packed & VALUE_MASK;
}

unsigned
imsi_len(Imsi imsi)
{
  return (unsigned)(imsi.packed >> LEN_SHIFT) & 15;
}

unsigned
imsi_mnc_len(Imsi imsi)
{
  return (unsigned)(imsi.packed >> MNC_SHIFT) & 3;
}

bool
imsi_is_valid(Imsi imsi)
{
  unsigned len = imsi_len(imsi), mnc_len = imsi_mnc_len(imsi);
  return (mnc_len == 2 || mnc_len == 3) && len >= IMSI_MCC_DIGITS + mnc_len + 1 &&
         len <= IMSI_MAX_DIGITS && value_of(imsi) < pow10_table[len] &&
         imsi.packed >> (MNC_SHIFT + 2) == 0;
}

unsigned
imsi_msin_len(Imsi imsi)
{
  return imsi_is_valid(imsi) ? imsi_len(imsi) - IMSI_MCC_DIGITS - imsi_mnc_len(imsi) : 0;
}

uint16_t
imsi_mcc(Imsi imsi)
{
  if (!imsi_is_valid(imsi))
    return 0;
  return (uint16_t)(value_of(imsi) / pow10_table[imsi_len(imsi) - IMSI_MCC_DIGITS]);
}

uint16_t
imsi_mnc(Imsi imsi)
{
  if (!imsi_is_valid(imsi))
    return 0;
  return (uint16_t)(value_of(imsi) / pow10_table[imsi_msin_len(imsi)] %
                    pow10_table[imsi_mnc_len(imsi)]);
}

uint64_t
imsi_msin(Imsi imsi)
{
  if (!imsi_is_valid(imsi))
    return 0;
  return value_of(imsi) % pow10_table[imsi_msin_len(imsi)];
}

static bool
check_mnc_len(unsigned mnc_len, GError **error)
{
  if (mnc_len == 2 || mnc_len == 3)
    return true;
  g_set_error(error, IMSI_ERROR, IMSI_ERROR_MNC_LEN,
              "MNC length %u is not allowed: an MNC has 2 or 3 digits (E.212)", mnc_len);
  return false;
}

/* Reads a run of decimal digits: refuses NULL/empty, non-digits and more than max_len
 * digits. `what` names the field in messages. */
static bool
read_digits(const char *text, const char *what, unsigned max_len, uint64_t *value, unsigned *len,
            GError **error)
{
  if (text == NULL || *text == '\0') {
    g_set_error(error, IMSI_ERROR, IMSI_ERROR_EMPTY, "%s is empty", what);
    return false;
  }
  uint64_t v = 0;
  size_t n = 0;
  for (const char *p = text; *p; p++, n++) {
    if (*p < '0' || *p > '9') {
      g_set_error(error, IMSI_ERROR, IMSI_ERROR_NOT_DIGIT,
                  "%s '%s' has a non-digit character at position %zu: only 0-9 are allowed", what,
                  text, n + 1);
      return false;
    }
    if (n < IMSI_MAX_DIGITS)
      v = v * 10 + (uint64_t)(*p - '0');
  }
  if (n > max_len) {
    g_set_error(error, IMSI_ERROR, IMSI_ERROR_TOO_LONG, "%s '%s' has %zu digits; at most %u", what,
                text, n, max_len);
    return false;
  }
  *value = v;
  *len = (unsigned)n;
  return true;
}

bool
imsi_parse(const char *text, unsigned mnc_len, Imsi *out, GError **error)
{
  uint64_t v;
  unsigned len;
  if (!read_digits(text, "IMSI", IMSI_MAX_DIGITS, &v, &len, error) ||
      !check_mnc_len(mnc_len, error))
    return false;
  if (len < IMSI_MCC_DIGITS + mnc_len + 1) {
    g_set_error(error, IMSI_ERROR, IMSI_ERROR_TOO_SHORT,
                "IMSI '%s' has %u digits: MCC (3) + MNC (%u) + MSIN (at least 1) need %u", text,
                len, mnc_len, IMSI_MCC_DIGITS + mnc_len + 1);
    return false;
  }
  *out = pack(v, len, mnc_len);
  return true;
}

bool
imsi_parse_mcc(const char *text, uint16_t *mcc, GError **error)
{
  uint64_t v;
  unsigned len;
  if (!read_digits(text, "MCC", IMSI_MCC_DIGITS, &v, &len, error))
    return false;
  if (len != IMSI_MCC_DIGITS) {
    g_set_error(error, IMSI_ERROR, IMSI_ERROR_TOO_SHORT,
                "MCC '%s' has %u digits; an MCC has exactly 3 (write 1 as \"001\")", text, len);
    return false;
  }
  *mcc = (uint16_t)v;
  return true;
}

bool
imsi_parse_mnc(const char *text, uint16_t *mnc, unsigned *mnc_len, GError **error)
{
  uint64_t v;
  unsigned len;
  if (!read_digits(text, "MNC", 3, &v, &len, error))
    return false;
  if (len < 2) {
    g_set_error(error, IMSI_ERROR, IMSI_ERROR_TOO_SHORT,
                "MNC '%s' has %u digit; an MNC has 2 or 3 (write 1 as \"01\" or \"001\")", text,
                len);
    return false;
  }
  *mnc = (uint16_t)v;
  *mnc_len = len;
  return true;
}

bool
imsi_make(uint16_t mcc, uint16_t mnc, unsigned mnc_len, uint64_t msin, unsigned msin_len, Imsi *out,
          GError **error)
{
  if (!check_mnc_len(mnc_len, error))
    return false;
  if (mcc >= 1000) {
    g_set_error(error, IMSI_ERROR, IMSI_ERROR_RANGE, "MCC %u does not fit in 3 digits", mcc);
    return false;
  }
  if (mnc >= pow10_table[mnc_len]) {
    g_set_error(error, IMSI_ERROR, IMSI_ERROR_RANGE, "MNC %u does not fit in %u digits", mnc,
                mnc_len);
    return false;
  }
  unsigned max_msin = IMSI_MAX_DIGITS - IMSI_MCC_DIGITS - mnc_len;
  if (msin_len == 0) {
    g_set_error(error, IMSI_ERROR, IMSI_ERROR_TOO_SHORT, "an MSIN needs at least 1 digit");
    return false;
  }
  if (msin_len > max_msin) {
    g_set_error(error, IMSI_ERROR, IMSI_ERROR_TOO_LONG,
                "MSIN length %u is too long: with a %u-digit MNC at most %u digits fit in 15",
                msin_len, mnc_len, max_msin);
    return false;
  }
  if (msin >= pow10_table[msin_len]) {
    g_set_error(error, IMSI_ERROR, IMSI_ERROR_RANGE,
                "MSIN %" G_GUINT64_FORMAT " does not fit in %u digits", msin, msin_len);
    return false;
  }
  uint64_t v = ((uint64_t)mcc * pow10_table[mnc_len] + mnc) * pow10_table[msin_len] + msin;
  *out = pack(v, IMSI_MCC_DIGITS + mnc_len + msin_len, mnc_len);
  return true;
}

/* Writes the `len` digits of `v` (with leading zeros) into buf; returns buf + len. */
static char *
put_digits(char *buf, uint64_t v, unsigned len)
{
  /* Two digits per division: formatting runs for every key derivation and package of
   * the world (the IMSI is part of their input), and this halves its dependent chain. */
  static const char pairs[201] = "00010203040506070809101112131415161718192021222324"
                                 "25262728293031323334353637383940414243444546474849"
                                 "50515253545556575859606162636465666768697071727374"
                                 "75767778798081828384858687888990919293949596979899";
  unsigned i = len;
  for (; i >= 2; i -= 2) {
    unsigned d = (unsigned)(v % 100);
    v /= 100;
    buf[i - 2] = pairs[2 * d];
    buf[i - 1] = pairs[2 * d + 1];
  }
  if (i == 1)
    buf[0] = (char)('0' + v % 10);
  return buf + len;
}

char *
imsi_format(Imsi imsi, char buf[IMSI_STR_LEN])
{
  if (!imsi_is_valid(imsi)) {
    buf[0] = '\0';
    return buf;
  }
  *put_digits(buf, value_of(imsi), imsi_len(imsi)) = '\0';
  return buf;
}

char *
imsi_format_split(Imsi imsi, char buf[IMSI_SPLIT_STR_LEN])
{
  if (!imsi_is_valid(imsi)) {
    buf[0] = '\0';
    return buf;
  }
  char *p = put_digits(buf, imsi_mcc(imsi), IMSI_MCC_DIGITS);
  *p++ = '-';
  p = put_digits(p, imsi_mnc(imsi), imsi_mnc_len(imsi));
  *p++ = '-';
  *put_digits(p, imsi_msin(imsi), imsi_msin_len(imsi)) = '\0';
  return buf;
}

#define BCD_TYPE_IMSI 0x1 /* TS 24.008 table 10.5.4: type of identity 001 */
#define BCD_ODD 0x8       /* odd number of identity digits */

size_t
imsi_encode_bcd(Imsi imsi, uint8_t out[IMSI_BCD_LEN])
{
  if (!imsi_is_valid(imsi))
    return 0;
  char digits[IMSI_STR_LEN];
  unsigned len = imsi_len(imsi);
  imsi_format(imsi, digits);
  size_t n = (len + 2) / 2;
  /* Nibble 0 is the type/parity nibble; digit i (0-based) is nibble i + 1. */
  out[0] = (uint8_t)((digits[0] - '0') << 4 | (len & 1 ? BCD_ODD : 0) | BCD_TYPE_IMSI);
  for (size_t o = 1; o < n; o++) {
    unsigned lo = (unsigned)(digits[2 * o - 1] - '0');
    unsigned hi = 2 * o < len ? (unsigned)(digits[2 * o] - '0') : 0xF;
    out[o] = (uint8_t)(hi << 4 | lo);
  }
  return n;
}

bool
imsi_decode_bcd(const uint8_t *in, size_t len, unsigned mnc_len, Imsi *out, GError **error)
{
  if (!check_mnc_len(mnc_len, error))
    return false;
  if (in == NULL || len == 0 || len > IMSI_BCD_LEN) {
    g_set_error(error, IMSI_ERROR, IMSI_ERROR_ENCODING,
                "BCD IMSI of %zu octets: 1 to %d are possible", in ? len : 0, IMSI_BCD_LEN);
    return false;
  }
  if ((in[0] & 7) != BCD_TYPE_IMSI) {
    g_set_error(error, IMSI_ERROR, IMSI_ERROR_ENCODING, "BCD identity type %u is not IMSI (1)",
                in[0] & 7u);
    return false;
  }
  bool odd = (in[0] & BCD_ODD) != 0;
  unsigned ndigits = (unsigned)(2 * len - (odd ? 1 : 2));
  char digits[2 * IMSI_BCD_LEN];
  for (unsigned i = 0; i < 2 * len - 1; i++) {
    unsigned nib = i + 1; /* nibble index in the octet string */
    unsigned d = nib & 1 ? in[nib / 2] >> 4 : in[nib / 2] & 15;
    if (i < ndigits) {
      if (d > 9) {
        g_set_error(error, IMSI_ERROR, IMSI_ERROR_ENCODING,
                    "BCD IMSI digit %u is 0x%X, not a decimal digit", i + 1, d);
        return false;
      }
      digits[i] = (char)('0' + d);
    } else if (d != 0xF) {
      g_set_error(error, IMSI_ERROR, IMSI_ERROR_ENCODING,
                  "BCD IMSI with an even digit count must end in filler 0xF, not 0x%X", d);
      return false;
    }
  }
  digits[ndigits] = '\0';
  return imsi_parse(digits, mnc_len, out, error);
}
