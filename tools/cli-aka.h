/* Option helpers shared by `m2msim av` and `m2msim usim`: the subscriber's keys given as
 * --k with either --op or --opc. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m2m/aka.h"

/* Decodes --k and exactly one of --op / --opc into `keys` (OPc derived from OP with
 * MILENAGE when --op is given). Prints one clear line and returns false on a missing
 * key, both or neither of --op/--opc, or malformed hex. */
bool cli_aka_keys(const char *cmd, const char *k, const char *op, const char *opc, AkaKeys *keys);

/* Fails (one line, false) when options are left over after parsing. */
bool cli_no_extra_args(const char *cmd, int argc, char **argv);

/* The --k, --op and --opc entries of a GOptionEntry table, into three char * variables. */
#define CLI_AKA_KEY_OPTIONS(k, op, opc)                                                            \
  {"k", 0, 0, G_OPTION_ARG_STRING, &(k), "subscriber key K (32 hex digits)", "HEX"},               \
      {"op", 0, 0, G_OPTION_ARG_STRING, &(op), "operator variant OP (32 hex digits)", "HEX"},      \
  {                                                                                                \
    "opc", 0, 0, G_OPTION_ARG_STRING, &(opc), "OPc = OP xor E_K(OP) (32 hex digits)", "HEX"        \
  }

/* Prints "LABEL: HEX" (len <= 16 octets). */
void cli_print_hex(const char *label, const uint8_t *v, size_t len);
