/* Fuzz harness: the paths that take AUTN and AUTS from outside: hex decoding (hex.h and
 * the command line's cli_hex_arg / cli_uint_arg / cli_aka_keys), then the USIM's check of
 * (RAND, AUTN) (aka_usim_check) and the HE's check of an AUTS (aka_auts_verify,
 * aka_he_resync).
 *
 * The input is read twice:
 *  - as text, one option value per line, in the order of `m2msim usim` / `m2msim av`:
 *      K, OP, OPc, RAND, AUTN, AUTS, SQN_MS (decimal), IND bits, L
 *    (an empty line is an option not given), through the command line's own helpers;
 *  - as raw octets: K, OPc, RAND, AUTN, AUTS, then 6 octets of SQN_MS, when long enough.
 * Oracles, beyond memory safety: hex decodes and re-encodes to the same (lowercased)
 * text; a MAC failure leaves the USIM untouched; an accepted AUTN is refused as stale when
 * replayed, and the AUTS the USIM then answers is verified by the HE and carries the
 * USIM's SQN_MS; an AUTS the HE accepts is exactly the one the USIM side would build. */
#include <stdio.h>
#include <string.h>

#include "../../tools/cli-aka.h"
#include "../../tools/cli.h"
#include "fuzz.h"
#include "m2m/aka.h"
#include "m2m/hex.h"

const char fuzz_name[] = "aka";

enum { F_K, F_OP, F_OPC, F_RAND, F_AUTN, F_AUTS, F_SQN_MS, F_IND_BITS, F_LIMIT, F_N };

/* The CLI helpers print their refusals on stderr: send those to /dev/null (sanitizer and
 * fuzzer reports write to file descriptor 2 directly and still show). */
static void
quiet_stderr(void)
{
  static gboolean done;
  if (done)
    return;
  done = TRUE;
  FILE *null = fopen("/dev/null", "w");
  if (null != NULL)
    stderr = null;
}

static void
check_hex_round_trip(const char *text)
{
  size_t n = strlen(text);
  if (n % 2 != 0 || n > 256)
    return;
  uint8_t bin[128];
  if (!hex_decode(text, bin, n / 2))
    return;
  char back[257];
  hex_encode(bin, n / 2, back);
  g_autofree char *lower = g_ascii_strdown(text, -1);
  g_assert_cmpstr(back, ==, lower);
}

/* The USIM's answer to (RAND, AUTN) and the HE's answer to what the USIM says. */
static void
check_usim(const AkaConfig *cfg, const AkaKeys *keys, uint64_t sqn_ms, const uint8_t *rand,
           const uint8_t *autn)
{
  AkaUsim usim, before;
  if (!aka_usim_init_at(&usim, cfg, sqn_ms))
    return;
  before = usim;
  AkaUsimAnswer ans;
  AkaStatus st = aka_usim_check(cfg, NULL, keys, &usim, rand, autn, &ans);
  uint64_t got = 0;
  switch (st) {
  case AKA_OK: {
    g_assert_cmpuint(usim.sqn_ms, >=, before.sqn_ms);
    /* The same challenge again is a replay: stale, answered with AUTS. */
    AkaUsim after = usim;
    AkaStatus again = aka_usim_check(cfg, NULL, keys, &usim, rand, autn, &ans);
    g_assert_cmpint(again, ==, AKA_SYNC_FAILURE);
    g_assert_true(memcmp(&after, &usim, sizeof usim) == 0);
    g_assert_cmpint(aka_auts_verify(NULL, keys, rand, ans.auts, &got), ==, AKA_OK);
    g_assert_cmpuint(got, ==, usim.sqn_ms);
    break;
  }
  case AKA_SYNC_FAILURE:
    g_assert_true(memcmp(&before, &usim, sizeof usim) == 0);
    g_assert_cmpint(aka_auts_verify(NULL, keys, rand, ans.auts, &got), ==, AKA_OK);
    g_assert_cmpuint(got, ==, usim.sqn_ms);
    break;
  case AKA_MAC_FAILURE:
    g_assert_true(memcmp(&before, &usim, sizeof usim) == 0);
    break;
  default:
    g_error("aka_usim_check: unexpected status %s", aka_status_name(st));
  }
}

/* The HE's check of an AUTS, and its resynchronisation from it. */
static void
check_auts(const AkaConfig *cfg, const AkaKeys *keys, uint64_t seq_he, const uint8_t *rand,
           const uint8_t *auts)
{
  uint64_t sqn_ms = 0;
  AkaStatus st = aka_auts_verify(NULL, keys, rand, auts, &sqn_ms);
  uint64_t seq = seq_he, sqn2 = 0;
  AkaStatus st2 = aka_he_resync(cfg, NULL, keys, &seq, rand, auts, &sqn2);
  g_assert_cmpint(st2, ==, st);
  if (st != AKA_OK) {
    g_assert_cmpint(st, ==, AKA_MAC_FAILURE);
    g_assert_cmpuint(seq, ==, seq_he);
    return;
  }
  g_assert_cmpuint(sqn_ms, <=, AKA_SQN_MAX);
  g_assert_cmpuint(sqn2, ==, sqn_ms);
  uint8_t again[AKA_AUTS_LEN];
  aka_auts_build(NULL, keys, rand, sqn_ms, again);
  g_assert_true(memcmp(again, auts, sizeof again) == 0);
  /* After a resync the next SQN is acceptable to that USIM (above SQN_MS). */
  if (seq != seq_he)
    g_assert_cmpuint(aka_he_next_sqn(cfg, seq, 0) >> cfg->ind_bits, >, sqn_ms >> cfg->ind_bits);
}

static void
run_text(const char *data, size_t size)
{
  /* Option values end at a NUL, as on a command line. */
  g_autofree char *text = g_strndup(data, size);
  g_auto(GStrv) lines = g_strsplit(text, "\n", F_N + 1);
  const char *f[F_N] = {0};
  for (int i = 0; i < F_N && lines[i] != NULL; i++) {
    check_hex_round_trip(lines[i]);
    f[i] = lines[i][0] ? lines[i] : NULL;
  }

  AkaConfig cfg;
  aka_config_init(&cfg);
  uint64_t sqn_ms = 0, ind_bits = AKA_IND_BITS_DEFAULT, limit = cfg.limit;
  if (f[F_SQN_MS] && !cli_uint_arg("fuzz", "sqn-ms", f[F_SQN_MS], AKA_SQN_MAX, &sqn_ms))
    return;
  if (f[F_IND_BITS] &&
      !cli_uint_arg("fuzz", "ind-bits", f[F_IND_BITS], AKA_IND_BITS_MAX, &ind_bits))
    return;
  if (f[F_LIMIT] && (!cli_uint_arg("fuzz", "limit", f[F_LIMIT], AKA_SQN_MAX, &limit) ||
                     limit == 0))
    return;
  cfg.ind_bits = (unsigned)ind_bits;
  cfg.limit = limit;

  AkaKeys keys;
  if (!cli_aka_keys("fuzz", f[F_K], f[F_OP], f[F_OPC], &keys))
    return;
  uint8_t rand[MIL_K_LEN], autn[AKA_AUTN_LEN], auts[AKA_AUTS_LEN];
  if (!cli_hex_arg("fuzz", "rand", f[F_RAND], rand, sizeof rand))
    return;
  if (cli_hex_arg("fuzz", "autn", f[F_AUTN], autn, sizeof autn))
    check_usim(&cfg, &keys, sqn_ms, rand, autn);
  /* An HE that has issued nothing yet: any valid AUTS with SQN_MS > 0 resyncs it. */
  if (cli_hex_arg("fuzz", "auts", f[F_AUTS], auts, sizeof auts))
    check_auts(&cfg, &keys, 0, rand, auts);
}

static void
run_raw(const uint8_t *data, size_t size)
{
  enum { RAW_LEN = 4 * MIL_K_LEN + AKA_AUTS_LEN };
  if (size < RAW_LEN)
    return;
  AkaKeys keys;
  memcpy(keys.k, data, MIL_K_LEN);
  memcpy(keys.opc, data + 16, MIL_K_LEN);
  const uint8_t *rand = data + 32, *autn = data + 48, *auts = data + 64;
  uint64_t sqn_ms = 0;
  for (size_t i = RAW_LEN; i < size && i < RAW_LEN + 6; i++)
    sqn_ms = sqn_ms << 8 | data[i];
  AkaConfig cfg;
  aka_config_init(&cfg);
  if (size > RAW_LEN + 6)
    cfg.ind_bits = data[RAW_LEN + 6] % (AKA_IND_BITS_MAX + 1);
  check_usim(&cfg, &keys, sqn_ms, rand, autn);
  check_auts(&cfg, &keys, sqn_ms >> cfg.ind_bits, rand, auts);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  quiet_stderr();
  run_text((const char *)data, size);
  run_raw(data, size);
  return 0;
}
