/* Option helpers shared by `m2msim av` and `m2msim usim`: the subscriber's keys given as
 * --k with either --op or --opc. */
#pragma once

#include <stdbool.h>

#include "m2m/aka.h"

/* Decodes --k and exactly one of --op / --opc into `keys` (OPc derived from OP with
 * MILENAGE when --op is given). Prints one clear line and returns false on a missing
 * key, both or neither of --op/--opc, or malformed hex. */
bool cli_aka_keys(const char *cmd, const char *k, const char *op, const char *opc, AkaKeys *keys);

/* Fails (one line, false) when options are left over after parsing. */
bool cli_no_extra_args(const char *cmd, int argc, char **argv);
