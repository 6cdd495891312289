/* Key options for the AKA commands (see cli-aka.h). */
#include "cli-aka.h"

#include <stdio.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "m2m/hex.h"

bool
cli_aka_keys(const char *cmd, const char *k, const char *op, const char *opc, AkaKeys *keys)
{
  if (!cli_hex_arg(cmd, "k", k, keys->k, sizeof keys->k))
    return false;
  if (op != NULL && opc != NULL) {
    cli_usage_error(cmd, "give either --op or --opc, not both");
    return false;
  }
  if (op == NULL && opc == NULL) {
    cli_usage_error(cmd, "missing --op or --opc (16 octets as 32 hex digits)");
    return false;
  }
  if (opc != NULL)
    return cli_hex_arg(cmd, "opc", opc, keys->opc, sizeof keys->opc);
  uint8_t op_b[MIL_K_LEN];
  if (!cli_hex_arg(cmd, "op", op, op_b, sizeof op_b))
    return false;
  mil_opc(NULL, keys->k, op_b, keys->opc);
  OPENSSL_cleanse(op_b, sizeof op_b);
  return true;
}

bool
cli_no_extra_args(const char *cmd, int argc, char **argv)
{
  if (argc > 1) {
    cli_usage_error(cmd, "unexpected argument '%s' (see m2msim %s --help)", argv[1], cmd);
    return false;
  }
  return true;
}

void
cli_print_hex(const char *label, const uint8_t *v, size_t len)
{
  char buf[2 * 16 + 1];
  g_assert(len <= 16);
  hex_encode(v, len, buf);
  printf("%s: %s\n", label, buf);
}
