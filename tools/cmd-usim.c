/* `m2msim usim`: plays the USIM side of UMTS AKA (TS 33.102 §6.3.3) on one (RAND, AUTN):
 * MAC-A check, then SQN freshness against a USIM whose highest accepted SQN is given
 * (Annex C.2), answering RES/CK/IK, a synchronisation failure with AUTS, or a MAC
 * failure, each with its own exit status so scripts can branch on it. */
#include <stdio.h>

#include "cli-aka.h"
#include "cli.h"
#include "m2m/aka.h"
#include "m2m/hex.h"

enum {
  USIM_EXIT_SYNC_FAILURE = 3,
  USIM_EXIT_MAC_FAILURE = 4,
};

static const char summary[] =
    "Checks AUTN as a USIM would (TS 33.102 6.3.3) and prints its answer:\n"
    "  RES, CK, IK (hex)          authentic and fresh            exit status 0\n"
    "  SYNC_FAILURE, then AUTS    authentic, SQN not fresh       exit status 3\n"
    "  MAC_FAILURE                MAC-A wrong                    exit status 4\n"
    "\n"
    "The USIM's highest accepted SQN is --sqn-ms. With --ind-bits 0 it has one SEQ and\n"
    "accepts SQN > SQN_MS (within L). With --ind-bits B > 0 (SQN = SEQ || IND, Annex C.2)\n"
    "it holds one SEQ per IND slot, initialised as if it had accepted every SQN up to\n"
    "SQN_MS: the slot of SQN_MS and every lower slot hold SEQ(SQN_MS), higher slots hold\n"
    "SEQ(SQN_MS) - 1; so again exactly the SQNs above SQN_MS are fresh. AUTS always\n"
    "carries SQN_MS (the highest accepted SQN, 6.3.5), with AMF* = 0000 in MAC-S.\n"
    "\n"
    "Example:\n"
    "  m2msim usim --k 465b5ce8b199b49faa5f0a2ee238a6bc --opc cd63cb71954a9f4e48a5994e37a02baf \\\n"
    "    --rand 23553cbe9637a89d218ae64dae47bf35 --autn aa689c648351800041ed662ae8c74ecd \\\n"
    "    --sqn-ms 32";

int
cmd_usim(int argc, char **argv)
{
  g_autofree char *k = NULL, *op = NULL, *opc = NULL, *rand_s = NULL, *autn_s = NULL;
  g_autofree char *sqn_ms_s = NULL, *ind_bits_s = NULL, *limit_s = NULL;
  const GOptionEntry entries[] = {
      CLI_AKA_KEY_OPTIONS(k, op, opc),
      {"rand", 0, 0, G_OPTION_ARG_STRING, &rand_s, "RAND of the challenge (32 hex digits)", "HEX"},
      {"autn", 0, 0, G_OPTION_ARG_STRING, &autn_s, "AUTN of the challenge (32 hex digits)", "HEX"},
      {"sqn-ms", 0, 0, G_OPTION_ARG_STRING, &sqn_ms_s,
       "highest SQN the USIM has accepted, decimal (0 for a new USIM)", "N"},
      {"ind-bits", 0, 0, G_OPTION_ARG_STRING, &ind_bits_s,
       "length of IND in bits, 0 to 5 (default 5)", "B"},
      {"limit", 0, 0, G_OPTION_ARG_STRING, &limit_s,
       "L: how far SEQ may run ahead of the highest accepted SEQ (default 2^28)", "L"},
      {NULL},
  };
  if (!cli_parse("usim", "- the USIM side of UMTS AKA on one AUTN", summary, entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (!cli_no_extra_args("usim", argc, argv))
    return CLI_EXIT_USAGE;

  AkaKeys keys;
  if (!cli_aka_keys("usim", k, op, opc, &keys))
    return CLI_EXIT_USAGE;
  uint8_t rand[MIL_K_LEN], autn[AKA_AUTN_LEN];
  if (!cli_hex_arg("usim", "rand", rand_s, rand, sizeof rand) ||
      !cli_hex_arg("usim", "autn", autn_s, autn, sizeof autn))
    return CLI_EXIT_USAGE;
  uint64_t sqn_ms = 0, ind_bits = AKA_IND_BITS_DEFAULT;
  if (!cli_uint_arg("usim", "sqn-ms", sqn_ms_s, AKA_SQN_MAX, &sqn_ms))
    return CLI_EXIT_USAGE;
  if (ind_bits_s && !cli_uint_arg("usim", "ind-bits", ind_bits_s, AKA_IND_BITS_MAX, &ind_bits))
    return CLI_EXIT_USAGE;
  AkaConfig cfg;
  aka_config_init(&cfg);
  cfg.ind_bits = (unsigned)ind_bits;
  if (limit_s) {
    if (!cli_uint_arg("usim", "limit", limit_s, AKA_SQN_MAX, &cfg.limit))
      return CLI_EXIT_USAGE;
    if (cfg.limit == 0)
      return cli_usage_error("usim", "--limit: L must be at least 1");
  }

  AkaUsim usim;
  if (!aka_usim_init_at(&usim, &cfg, sqn_ms))
    return cli_usage_error("usim", "--sqn-ms/--ind-bits out of range");
  AkaUsimAnswer ans;
  switch (aka_usim_check(&cfg, NULL, &keys, &usim, rand, autn, &ans)) {
  case AKA_OK:
    cli_print_hex("RES", ans.res, sizeof ans.res);
    cli_print_hex("CK", ans.ck, sizeof ans.ck);
    cli_print_hex("IK", ans.ik, sizeof ans.ik);
    return CLI_EXIT_OK;
  case AKA_SYNC_FAILURE:
    printf("SYNC_FAILURE\n");
    cli_print_hex("AUTS", ans.auts, sizeof ans.auts);
    return USIM_EXIT_SYNC_FAILURE;
  case AKA_MAC_FAILURE:
    printf("MAC_FAILURE\n");
    return USIM_EXIT_MAC_FAILURE;
  default:
    return cli_usage_error("usim", "bad USIM configuration");
  }
}
