/* International Mobile Subscription Identities (ITU-T E.212; 3GPP TS 23.003 clause 2.2).
 *
 * IMSI = MCC (3 digits) || MNC (2 or 3 digits) || MSIN, 15 digits at most, digits only.
 * A preliminary IMSI (PIMSI) of TR 33.812 alternative 1 is an ordinary IMSI taken from a
 * range the Registration Service holds, so it uses the same type.
 *
 * Representation: an Imsi is one 64-bit word (a million devices cost 8 MB) holding the
 * digit string read as a decimal number (< 10^15 < 2^50) together with the digit count
 * (leading zeros matter: MCC 001 is the test network) and the MNC length. The MNC length
 * cannot be read off the digits -- it is a property of the MCC's numbering plan -- so
 * everything that builds an Imsi is told it.
 *
 * Checks are syntactic, as a simulator needs them: exactly 3 MCC digits (any value,
 * including test MCCs 001 and 999 and shared MCC 901; assignment of MCCs is not checked),
 * an MNC of 2 or 3 digits, at least one MSIN digit, 15 digits in all at most. E.212 allows
 * IMSIs shorter than 15 digits, so they are accepted here; a PIMSI pool (pool.h) fixes one
 * MSIN length for all its members.
 *
 * Bad input (from scenarios, the command line, decoded messages) is reported with a
 * GError in IMSI_ERROR whose message names the value and the rule it breaks. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMSI_MAX_DIGITS 15
#define IMSI_MCC_DIGITS 3
#define IMSI_STR_LEN (IMSI_MAX_DIGITS + 1)       /* digits + NUL */
#define IMSI_SPLIT_STR_LEN (IMSI_MAX_DIGITS + 3) /* "MCC-MNC-MSIN" + NUL */
#define IMSI_BCD_LEN 8 /* octets of the digits in TS 24.008 10.5.1.4 layout, 15 digits */

/* One IMSI packed into a word; see the file comment. The zero value is "no IMSI"
 * (imsi_is_valid() is false); compare with imsi_equal(). Fields are private: use the
 * accessors. Value type, so it is passed and stored by value. */
typedef struct {
  uint64_t packed; /* bits 0-49 digits as a number, 50-53 digit count, 54-55 MNC length */
} Imsi;

#define IMSI_NONE ((Imsi){0})

#define IMSI_ERROR (imsi_error_quark())
GQuark imsi_error_quark(void);

typedef enum {
  IMSI_ERROR_EMPTY,     /* no digits at all */
  IMSI_ERROR_NOT_DIGIT, /* a character other than 0-9 */
  IMSI_ERROR_TOO_LONG,  /* more than 15 digits in all, or a part longer than its field */
  IMSI_ERROR_TOO_SHORT, /* no MSIN digit left after MCC and MNC, or an MCC/MNC too short */
  IMSI_ERROR_MNC_LEN,   /* MNC length other than 2 or 3 */
  IMSI_ERROR_RANGE,     /* a number that does not fit its digits (e.g. MSIN 1000 in 3) */
  IMSI_ERROR_ENCODING,  /* a malformed TS 24.008 / TS 31.102 BCD encoding */
} ImsiError;

/* Parses a whole IMSI written as digits ("001010000000001") with an MNC of `mnc_len`
 * (2 or 3) digits. Refuses (with a message naming the text) NULL or empty text, any
 * non-digit (including spaces and signs), more than 15 digits, fewer than
 * 3 + mnc_len + 1 digits and mnc_len not 2 or 3. On failure *out is untouched. */
bool imsi_parse(const char *text, unsigned mnc_len, Imsi *out, GError **error);

/* Parses a Mobile Country Code: exactly 3 digits ("001", "234", "901"). */
bool imsi_parse_mcc(const char *text, uint16_t *mcc, GError **error);

/* Parses a Mobile Network Code of 2 or 3 digits; its length is the number of digits
 * written, so "01" and "001" are different MNCs (*mnc_len 2 and 3). */
bool imsi_parse_mnc(const char *text, uint16_t *mnc, unsigned *mnc_len, GError **error);

/* Builds an IMSI from its parts: mcc < 1000, mnc < 10^mnc_len (mnc_len 2 or 3),
 * 1 <= msin_len <= 12 - mnc_len and msin < 10^msin_len. Refuses anything else with
 * IMSI_ERROR_RANGE / _MNC_LEN / _TOO_LONG / _TOO_SHORT; *out untouched on failure. */
bool imsi_make(uint16_t mcc, uint16_t mnc, unsigned mnc_len, uint64_t msin, unsigned msin_len,
               Imsi *out, GError **error);

/* True for any IMSI built by this module, false for IMSI_NONE. */
bool imsi_is_valid(Imsi imsi);

/* True when both are the same IMSI with the same MNC length. */
static inline bool
imsi_equal(Imsi a, Imsi b)
{
  return a.packed == b.packed;
}

/* Parts of a valid IMSI. On IMSI_NONE they return 0. */
uint16_t imsi_mcc(Imsi imsi);
uint16_t imsi_mnc(Imsi imsi);
unsigned imsi_mnc_len(Imsi imsi);
uint64_t imsi_msin(Imsi imsi);
unsigned imsi_msin_len(Imsi imsi);
unsigned imsi_len(Imsi imsi); /* digits in all, 6..15 */

/* Writes the digits ("001010000000001") into buf (IMSI_STR_LEN chars) and returns buf;
 * an empty string for IMSI_NONE. */
char *imsi_format(Imsi imsi, char buf[IMSI_STR_LEN]);

/* Writes "MCC-MNC-MSIN" ("001-01-0000000001") into buf (IMSI_SPLIT_STR_LEN chars), for
 * logs and reports; returns buf. An empty string for IMSI_NONE. */
char *imsi_format_split(Imsi imsi, char buf[IMSI_SPLIT_STR_LEN]);

/* Encodes the IMSI as the value part of a TS 24.008 clause 10.5.1.4 mobile identity,
 * which is also the content of EF_IMSI after its length octet (TS 31.102 clause 4.2.2):
 * octet 1 = digit 1 (high nibble) | odd/even flag (bit 4) | type 001 (IMSI); then two
 * digits per octet, low nibble first, an unused high nibble set to 0xF. Writes
 * (len + 2) / 2 octets into out (at most IMSI_BCD_LEN) and returns that count; returns 0
 * for IMSI_NONE. */
size_t imsi_encode_bcd(Imsi imsi, uint8_t out[IMSI_BCD_LEN]);

/* Decodes what imsi_encode_bcd() writes (exactly `len` octets, 1..IMSI_BCD_LEN), with the
 * given MNC length. Refuses a wrong identity type, a wrong odd/even flag, a non-decimal
 * digit nibble, a missing 0xF filler and any length the IMSI rules refuse. */
bool imsi_decode_bcd(const uint8_t *in, size_t len, unsigned mnc_len, Imsi *out, GError **error);
