/* Hexadecimal text <-> octet strings, for the command line and test data. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes exactly `len` octets from `hex` (2*len hex digits, either case, nothing else).
 * Returns false on odd length, wrong length or a non-hex character. */
bool hex_decode(const char *hex, uint8_t *out, size_t len);

/* Encodes `len` octets as lowercase hex into `out`, which must hold 2*len+1 chars. */
void hex_encode(const uint8_t *in, size_t len, char *out);
