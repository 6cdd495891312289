/* `m2msim av`: one MILENAGE authentication vector for given K, OP/OPc, RAND, SQN and AMF
 * (the same vector `osmo-auc-gen -3 -a milenage` prints), or, with --auts, the SQN_MS a
 * USIM reported in a resynchronisation (TS 33.102 §6.3.5), after checking its MAC-S. */
#include <openssl/rand.h>
#include <stdio.h>

#include "cli-aka.h"
#include "cli.h"
#include "m2m/aka.h"
#include "m2m/hex.h"

static const char summary[] =
    "Computes one UMTS authentication vector with MILENAGE (TS 35.206) and prints, in\n"
    "lowercase hex, one per line: RAND, AUTN, IK, CK, RES (XRES) and AK.\n"
    "AUTN = (SQN xor AK) || AMF || MAC-A. Without --rand, RAND is drawn at random.\n"
    "\n"
    "With --auts (and the RAND the AUTS answered), checks the AUTS of a synchronisation\n"
    "failure instead and prints SQN_MS in decimal; exit status 1 when its MAC-S does not\n"
    "match.\n"
    "\n"
    "Example:\n"
    "  m2msim av --k 465b5ce8b199b49faa5f0a2ee238a6bc --opc cd63cb71954a9f4e48a5994e37a02baf \\\n"
    "    --rand 23553cbe9637a89d218ae64dae47bf35 --sqn 33 --amf 8000";

int
cmd_av(int argc, char **argv)
{
  g_autofree char *k = NULL, *op = NULL, *opc = NULL, *rand_s = NULL, *sqn_s = NULL;
  g_autofree char *amf_s = NULL, *auts_s = NULL;
  const GOptionEntry entries[] = {
      CLI_AKA_KEY_OPTIONS(k, op, opc),
      {"rand", 0, 0, G_OPTION_ARG_STRING, &rand_s, "RAND (32 hex digits; random if absent)", "HEX"},
      {"sqn", 0, 0, G_OPTION_ARG_STRING, &sqn_s, "sequence number, decimal, 0 to 2^48-1", "N"},
      {"amf", 0, 0, G_OPTION_ARG_STRING, &amf_s,
       "authentication management field (4 hex digits; default 0000, 8000 = separation bit)",
       "HEX"},
      {"auts", 0, 0, G_OPTION_ARG_STRING, &auts_s,
       "check this AUTS (28 hex digits) and print SQN_MS instead of an AV", "HEX"},
      {NULL},
  };
  if (!cli_parse("av", "- MILENAGE authentication vector or AUTS check", summary, entries, &argc,
                 &argv))
    return CLI_EXIT_USAGE;
  if (!cli_no_extra_args("av", argc, argv))
    return CLI_EXIT_USAGE;

  AkaKeys keys;
  if (!cli_aka_keys("av", k, op, opc, &keys))
    return CLI_EXIT_USAGE;

  uint8_t rand[MIL_K_LEN];
  if (auts_s != NULL) {
    if (sqn_s != NULL || amf_s != NULL)
      return cli_usage_error("av", "--auts checks a resynchronisation: it takes no --sqn or "
                                   "--amf");
    if (rand_s == NULL)
      return cli_usage_error("av", "--auts needs the --rand it answered");
    uint8_t auts[AKA_AUTS_LEN];
    if (!cli_hex_arg("av", "rand", rand_s, rand, sizeof rand) ||
        !cli_hex_arg("av", "auts", auts_s, auts, sizeof auts))
      return CLI_EXIT_USAGE;
    uint64_t sqn_ms = 0;
    if (aka_auts_verify(NULL, &keys, rand, auts, &sqn_ms) != AKA_OK) {
      fprintf(stderr, "m2msim av: the MAC-S of this AUTS does not match (wrong K, OP/OPc or "
                      "RAND, or a corrupted AUTS)\n");
      return CLI_EXIT_FAIL;
    }
    printf("SQN_MS: %llu\n", (unsigned long long)sqn_ms);
    return CLI_EXIT_OK;
  }

  uint64_t sqn = 0;
  if (!cli_uint_arg("av", "sqn", sqn_s, AKA_SQN_MAX, &sqn))
    return CLI_EXIT_USAGE;
  uint8_t amf[MIL_AMF_LEN] = {0, 0};
  if (amf_s != NULL && !cli_hex_arg("av", "amf", amf_s, amf, sizeof amf))
    return CLI_EXIT_USAGE;
  if (rand_s != NULL) {
    if (!cli_hex_arg("av", "rand", rand_s, rand, sizeof rand))
      return CLI_EXIT_USAGE;
  } else if (RAND_bytes(rand, sizeof rand) != 1) {
    fprintf(stderr, "m2msim av: no random source for RAND; give --rand\n");
    return CLI_EXIT_USAGE;
  }

  AkaVector av;
  AkaStatus st = aka_av_build(NULL, &keys, rand, sqn, (uint16_t)(amf[0] << 8 | amf[1]), &av);
  g_assert(st == AKA_OK); /* sqn was range-checked above */
  uint8_t sqn_b[MIL_SQN_LEN], ak[MIL_SQN_LEN];
  mil_sqn_put(sqn, sqn_b);
  for (int i = 0; i < MIL_SQN_LEN; i++)
    ak[i] = av.autn[i] ^ sqn_b[i];
  cli_print_hex("RAND", av.rand, sizeof av.rand);
  cli_print_hex("AUTN", av.autn, sizeof av.autn);
  cli_print_hex("IK", av.ik, sizeof av.ik);
  cli_print_hex("CK", av.ck, sizeof av.ck);
  cli_print_hex("RES", av.xres, sizeof av.xres);
  cli_print_hex("AK", ak, sizeof ak);
  return CLI_EXIT_OK;
}
