/* `m2msim av` and `m2msim usim` end to end: exact output and exit statuses, bad arguments,
 * and cross-checks against an independent MILENAGE, osmo-auc-gen (Debian
 * libosmocore-utils; tools/test.sh installs it), on random inputs. */
#include <glib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "m2m/aka.h"
#include "m2m/hex.h"
#include "testutil.h"

#define K_1 "465b5ce8b199b49faa5f0a2ee238a6bc"
#define OP_1 "cdc202d5123e20f62b6d676ac72cb318"
#define OPC_1 "cd63cb71954a9f4e48a5994e37a02baf"
#define RAND_1 "23553cbe9637a89d218ae64dae47bf35"
#define AUTN_33 "aa689c648351800041ed662ae8c74ecd" /* aka.tsv: SQN 33, AMF 8000 */

static const char av_33[] = "RAND: " RAND_1 "\n"
                            "AUTN: " AUTN_33 "\n"
                            "IK: f769bcd751044604127672711c6d3441\n"
                            "CK: b40ba9a3c58b2a05bbf0d987b21bf8cb\n"
                            "RES: a54211d5e3ba50bf\n"
                            "AK: aa689c648370\n";

static void
test_av_exact(void)
{
  g_autofree char *out = NULL, *err = NULL, *out2 = NULL;
  int st = tu_run_m2msim(&out, &err, "av", "--k", K_1, "--opc", OPC_1, "--rand", RAND_1, "--sqn",
                         "33", "--amf", "8000", NULL);
  g_assert_cmpint(st, ==, 0);
  g_assert_cmpstr(out, ==, av_33);
  g_assert_cmpstr(err, ==, "");
  /* OP instead of OPc, uppercase hex in: same vector. */
  st = tu_run_m2msim(&out2, NULL, "av", "--k", K_1, "--op", "CDC202D5123E20F62B6D676AC72CB318",
                     "--rand", RAND_1, "--sqn", "33", "--amf", "8000", NULL);
  g_assert_cmpint(st, ==, 0);
  g_assert_cmpstr(out2, ==, av_33);
}

static void
test_av_random_rand(void)
{
  g_autofree char *a = NULL, *b = NULL;
  g_assert_cmpint(tu_run_m2msim(&a, NULL, "av", "--k", K_1, "--opc", OPC_1, "--sqn", "1", NULL), ==,
                  0);
  g_assert_cmpint(tu_run_m2msim(&b, NULL, "av", "--k", K_1, "--opc", OPC_1, "--sqn", "1", NULL), ==,
                  0);
  g_assert_true(g_str_has_prefix(a, "RAND: "));
  g_assert_cmpint(strlen(a), ==, strlen(av_33));
  g_assert_cmpstr(a, !=, b); /* fresh RAND each time */
}

static void
test_av_auts(void)
{
  g_autofree char *out = NULL, *err = NULL;
  int st = tu_run_m2msim(&out, &err, "av", "--k", K_1, "--opc", OPC_1, "--rand", RAND_1, "--auts",
                         "451e8beca41a80125eca8884b56a", NULL);
  g_assert_cmpint(st, ==, 0);
  g_assert_cmpstr(out, ==, "SQN_MS: 33\n");
  g_clear_pointer(&out, g_free);
  g_clear_pointer(&err, g_free);
  st = tu_run_m2msim(&out, &err, "av", "--k", K_1, "--op", OP_1, "--rand", RAND_1, "--auts",
                     "451e8beca41a80125eca8884b56b", NULL);
  g_assert_cmpint(st, ==, 1);
  g_assert_cmpstr(out, ==, "");
  g_assert_nonnull(strstr(err, "MAC-S"));
}

static void
test_usim(void)
{
  static const struct {
    const char *autn, *sqn_ms, *ind_bits;
    int status;
    const char *out;
  } cases[] = {
      {AUTN_33, "32", NULL, 0,
       "RES: a54211d5e3ba50bf\nCK: b40ba9a3c58b2a05bbf0d987b21bf8cb\n"
       "IK: f769bcd751044604127672711c6d3441\n"},
      {AUTN_33, "32", "0", 0, NULL},
      {AUTN_33, "0", "0", 0, NULL},
      /* Highest accepted is 33 itself: replay; AUTS carries exactly 33 (aka.tsv auts-make). */
      {AUTN_33, "33", "0", 3, "SYNC_FAILURE\nAUTS: 451e8beca41a80125eca8884b56a\n"},
      {AUTN_33, "33", "5", 3, "SYNC_FAILURE\nAUTS: 451e8beca41a80125eca8884b56a\n"},
      /* 33 = SEQ 1 || IND 1; N = 34 (SEQ 1 || IND 2) fills slot 1 with SEQ 1: refused. */
      {AUTN_33, "34", "5", 3, NULL},
      /* N = 62 (SEQ 1 || IND 30): slot 1 holds 1 too. */
      {AUTN_33, "62", NULL, 3, NULL},
      /* N = 32 (SEQ 1 || IND 0): slot 1 still holds SEQ 0, so 33 is fresh. */
      {AUTN_33, "32", "5", 0, NULL},
      {"aa689c648351800041ed662ae8c74ecc", "0", NULL, 4, "MAC_FAILURE\n"},
      {"aa689c648351800141ed662ae8c74ecd", "0", "0", 4, "MAC_FAILURE\n"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GPtrArray) args = g_ptr_array_new();
    const char *base[] = {"usim", "--k",    K_1,           "--opc",    OPC_1,          "--rand",
                          RAND_1, "--autn", cases[i].autn, "--sqn-ms", cases[i].sqn_ms};
    for (size_t j = 0; j < G_N_ELEMENTS(base); j++)
      g_ptr_array_add(args, (gpointer)base[j]);
    if (cases[i].ind_bits) {
      g_ptr_array_add(args, (gpointer) "--ind-bits");
      g_ptr_array_add(args, (gpointer)cases[i].ind_bits);
    }
    g_ptr_array_add(args, NULL);
    g_autofree char *out = NULL, *err = NULL;
    int st = tu_run_m2msimv(&out, &err, (const char *const *)args->pdata);
    g_test_message("case %zu: status %d out %s", i, st, out);
    g_assert_cmpint(st, ==, cases[i].status);
    if (cases[i].out)
      g_assert_cmpstr(out, ==, cases[i].out);
    g_assert_cmpstr(err, ==, "");
  }
}

static void
test_bad_args(void)
{
  static const char *const bad[][16] = {
      {"av", "--k", K_1 "0", "--opc", OPC_1, "--sqn", "1"},  /* odd hex */
      {"av", "--k", "465b", "--opc", OPC_1, "--sqn", "1"},   /* too short */
      {"av", "--k", K_1, "--opc", OPC_1 "00", "--sqn", "1"}, /* too long */
      {"av", "--k", "x65b5ce8b199b49faa5f0a2ee238a6bc", "--opc", OPC_1, "--sqn", "1"},
      {"av", "--opc", OPC_1, "--rand", RAND_1, "--sqn", "1"},         /* no key */
      {"av", "--k", K_1, "--rand", RAND_1, "--sqn", "1"},             /* no OP/OPc */
      {"av", "--k", K_1, "--op", OP_1, "--opc", OPC_1, "--sqn", "1"}, /* both */
      {"av", "--k", K_1, "--opc", OPC_1, "--sqn", "281474976710656"}, /* 2^48 */
      {"av", "--k", K_1, "--opc", OPC_1, "--sqn", "-1"},
      {"av", "--k", K_1, "--opc", OPC_1, "--sqn", "12abc"},
      {"av", "--k", K_1, "--opc", OPC_1},                               /* no SQN */
      {"av", "--k", K_1, "--opc", OPC_1, "--sqn", "1", "--amf", "800"}, /* odd AMF */
      {"av", "--k", K_1, "--opc", OPC_1, "--sqn", "1", "--rand", "00"},
      {"av", "--k", K_1, "--opc", OPC_1, "--auts", "451e8beca41a80125eca8884b56a"}, /* no RAND */
      {"av", "--k", K_1, "--opc", OPC_1, "--rand", RAND_1, "--sqn", "1", "--auts",
       "451e8beca41a80125eca8884b56a"},
      {"av", "--k", K_1, "--opc", OPC_1, "--rand", RAND_1, "--auts", "451e8b"},
      {"av", "--k", K_1, "--opc", OPC_1, "--sqn", "1", "surplus"},
      {"av", "--nonsense"},
      {"usim", "--k", K_1, "--opc", OPC_1, "--rand", RAND_1, "--sqn-ms", "0"}, /* no AUTN */
      {"usim", "--k", K_1, "--opc", OPC_1, "--rand", RAND_1, "--autn", AUTN_33},
      {"usim", "--k", K_1, "--opc", OPC_1, "--rand", RAND_1, "--autn", AUTN_33, "--sqn-ms",
       "281474976710656"},
      {"usim", "--k", K_1, "--opc", OPC_1, "--rand", RAND_1, "--autn", AUTN_33, "--sqn-ms", "1",
       "--ind-bits", "6"},
      {"usim", "--k", K_1, "--opc", OPC_1, "--rand", RAND_1, "--autn", AUTN_33, "--sqn-ms", "1",
       "--limit", "0"},
      {"usim", "--k", K_1, "--op", OP_1, "--opc", OPC_1, "--rand", RAND_1, "--autn", AUTN_33,
       "--sqn-ms", "1"},
      {"usim", "--opc", OPC_1, "--rand", RAND_1, "--autn", AUTN_33, "--sqn-ms", "1"},
      {"usim", "--k", K_1, "--opc", OPC_1, "--rand", RAND_1, "--autn", "aa68", "--sqn-ms", "1"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *out = NULL, *err = NULL;
    int st = tu_run_m2msimv(&out, &err, bad[i]);
    g_test_message("bad case %zu: %s", i, err);
    g_assert_cmpint(st, ==, 2);
    g_assert_cmpstr(out, ==, "");
    /* One clear line, naming the command. */
    g_assert_true(g_str_has_prefix(err, "m2msim "));
    g_assert_cmpint(strchr(err, '\n') - err, ==, (long)strlen(err) - 1);
  }
}

static void
test_help(void)
{
  static const char *const cmds[][4] = {
      {"av", "--help"}, {"usim", "--help"}, {"bench", "av", "--help"}};
  for (size_t i = 0; i < G_N_ELEMENTS(cmds); i++) {
    g_autofree char *out = NULL;
    g_assert_cmpint(tu_run_m2msimv(&out, NULL, cmds[i]), ==, 0);
    g_assert_nonnull(strstr(out, "Usage"));
  }
}

/* ---- cross-checks against osmo-auc-gen ----------------------------------------------------- */

static char *
osmo_path(void)
{
  char *p = g_find_program_in_path("osmo-auc-gen");
  if (p == NULL) {
    g_test_message("osmo-auc-gen not found: install the Debian package libosmocore-utils "
                   "(tools/test.sh installs it)");
    g_test_fail();
  }
  return p;
}

/* Many runs, a few at a time (process start-up dominates, so overlapping them keeps the
 * hundreds of cross-check runs within a few seconds). Job i is argvs[i]; its stdout goes
 * to outs[i] and its exit status to statuses[i]. Outputs are small (well below a pipe
 * buffer), so reading each child only after starting the batch cannot block. */
typedef struct {
  GPid pid;
  int fd;
} Child;

static void
run_many(GPtrArray *argvs, GPtrArray *outs, int *statuses)
{
  enum { BATCH = 8 };
  for (guint base = 0; base < argvs->len; base += BATCH) {
    Child kids[BATCH];
    guint n = MIN(BATCH, argvs->len - base);
    for (guint i = 0; i < n; i++) {
      g_autoptr(GError) error = NULL;
      char **argv = argvs->pdata[base + i];
      if (!g_spawn_async_with_pipes(NULL, argv, NULL,
                                    G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                                    NULL, &kids[i].pid, NULL, &kids[i].fd, NULL, &error))
        g_error("cannot run %s: %s", argv[0], error->message);
    }
    for (guint i = 0; i < n; i++) {
      GString *text = g_string_new(NULL);
      char buf[4096];
      ssize_t got;
      while ((got = read(kids[i].fd, buf, sizeof buf)) > 0)
        g_string_append_len(text, buf, got);
      close(kids[i].fd);
      int wait = 0;
      g_assert_cmpint(waitpid(kids[i].pid, &wait, 0), ==, kids[i].pid);
      g_spawn_close_pid(kids[i].pid);
      statuses[base + i] = WIFEXITED(wait) ? WEXITSTATUS(wait) : -1;
      g_ptr_array_add(outs, g_string_free(text, FALSE));
    }
  }
}

static void
add_job(GPtrArray *argvs, const char *const *argv)
{
  g_ptr_array_add(argvs, g_strdupv((char **)argv));
}

/* Value of "NAME:<spaces or tab>VALUE" in a program's output, or NULL. */
static char *
value_of(const char *text, const char *name)
{
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  size_t n = strlen(name);
  for (char **l = lines; *l; l++)
    if (strncmp(*l, name, n) == 0 && (*l)[n] == ':')
      return g_strstrip(g_strdup(*l + n + 1));
  return NULL;
}

static void
rand_hex(GRand *r, size_t octets, char *out)
{
  uint8_t b[16];
  for (size_t i = 0; i < octets; i++)
    b[i] = (uint8_t)g_rand_int_range(r, 0, 256);
  hex_encode(b, octets, out);
}

typedef struct {
  char sqn[24];
  const char *opt;
  char k[33], op[33], rnd[33], amf[5];
} AvInput;

static void
test_osmo_av(void)
{
  g_autofree char *osmo = osmo_path();
  if (osmo == NULL)
    return;
  enum { N = 100 };
  const char *m2msim = g_getenv("M2MSIM");
  g_autoptr(GRand) r = g_rand_new_with_seed(4242);
  static const char *const fields[] = {"RAND", "AUTN", "IK", "CK", "RES"};
  AvInput in[N];
  uint64_t sqns[N];
  g_autoptr(GPtrArray) jobs = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
  for (int i = 0; i < N; i++) {
    rand_hex(r, 16, in[i].k);
    rand_hex(r, 16, in[i].op);
    rand_hex(r, 16, in[i].rnd);
    rand_hex(r, 2, in[i].amf);
    /* Small, IND-sized and full 48-bit SQNs. */
    uint64_t sqn = (uint64_t)g_rand_int(r) << 16 ^ g_rand_int(r);
    sqn &= i % 3 == 0 ? 0xff : i % 3 == 1 ? 0xffffffu : AKA_SQN_MAX;
    sqns[i] = sqn;
    g_snprintf(in[i].sqn, sizeof in[i].sqn, "%" G_GUINT64_FORMAT, sqn);
    in[i].opt = i % 2 ? "--op" : "--opc";
    const char *ours[] = {m2msim,    "av",    "--k",     in[i].k, in[i].opt, in[i].op, "--rand",
                          in[i].rnd, "--sqn", in[i].sqn, "--amf", in[i].amf, NULL};
    const char *theirs[] = {
        osmo,     "-3", "-a",      "milenage", "-k",      in[i].k, i % 2 ? "-O" : "-o",
        in[i].op, "-r", in[i].rnd, "-s",       in[i].sqn, "-f",    in[i].amf,
        NULL};
    add_job(jobs, ours);
    add_job(jobs, theirs);
  }
  g_autoptr(GPtrArray) outs = g_ptr_array_new_with_free_func(g_free);
  int status[2 * N];
  run_many(jobs, outs, status);
  for (int i = 0; i < N; i++) {
    const char *ours = outs->pdata[2 * i], *theirs = outs->pdata[2 * i + 1];
    g_assert_cmpint(status[2 * i], ==, 0);
    g_assert_cmpint(status[2 * i + 1], ==, 0);
    for (size_t f = 0; f < G_N_ELEMENTS(fields); f++) {
      g_autofree char *a = value_of(ours, fields[f]), *b = value_of(theirs, fields[f]);
      if (a == NULL || b == NULL || strcmp(a, b) != 0)
        g_error("input %d (K %s %s %s RAND %s SQN %s AMF %s): %s ours %s, osmo-auc-gen %s", i,
                in[i].k, in[i].opt, in[i].op, in[i].rnd, in[i].sqn, in[i].amf, fields[f], a, b);
    }
    /* Nothing else printed, in this order. */
    g_auto(GStrv) lines = g_strsplit(ours, "\n", -1);
    g_assert_cmpuint(g_strv_length(lines), ==, 7);
    g_assert_true(g_str_has_prefix(lines[0], "RAND: ") && g_str_has_prefix(lines[5], "AK: "));
    /* AK (not printed by osmo-auc-gen) is AUTN[0..5] xor SQN. */
    g_autofree char *autn = value_of(ours, "AUTN"), *ak_s = value_of(ours, "AK");
    uint8_t autn_b[16], ak[6], s[6];
    tu_hex(autn, autn_b, 16);
    tu_hex(ak_s, ak, 6);
    mil_sqn_put(sqns[i], s);
    for (int j = 0; j < 6; j++)
      g_assert_cmphex(autn_b[j] ^ ak[j], ==, s[j]);
    g_autofree char *osmo_sqn = value_of(theirs, "SQN");
    g_assert_cmpstr(osmo_sqn, ==, in[i].sqn);
  }
}

/* AUTS from our USIM side (library and `m2msim usim`), read back by osmo-auc-gen -A and by
 * `m2msim av --auts`. */
static void
test_osmo_auts(void)
{
  g_autofree char *osmo = osmo_path();
  if (osmo == NULL)
    return;
  enum { N = 60 };
  const char *m2msim = g_getenv("M2MSIM");
  g_autoptr(GRand) r = g_rand_new_with_seed(777);
  g_autoptr(GPtrArray) jobs = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
  g_autoptr(GPtrArray) want = g_ptr_array_new_with_free_func(g_free);
  char ms_s[N][24];
  int kind[3 * N], n_jobs = 0; /* 0 osmo-auc-gen -A, 1 m2msim av --auts, 2 m2msim usim */
  for (int i = 0; i < N; i++) {
    AkaKeys keys;
    uint8_t rand[16];
    for (int j = 0; j < 16; j++) {
      keys.k[j] = (uint8_t)g_rand_int_range(r, 0, 256);
      keys.opc[j] = (uint8_t)g_rand_int_range(r, 0, 256);
      rand[j] = (uint8_t)g_rand_int_range(r, 0, 256);
    }
    uint64_t sqn_ms = ((uint64_t)g_rand_int(r) << 16 ^ g_rand_int(r)) & AKA_SQN_MAX;
    if (i % 4 == 0)
      sqn_ms &= 0xfff;
    AkaConfig cfg;
    aka_config_init(&cfg);
    cfg.ind_bits = (unsigned)(i / 6 % 6);
    /* The USIM has accepted up to sqn_ms; the network offers an SQN at or below it. */
    AkaUsim usim;
    g_assert_true(aka_usim_init_at(&usim, &cfg, sqn_ms));
    AkaVector av;
    uint64_t offered = sqn_ms - (sqn_ms > 0 ? (uint64_t)(i % 3) : 0);
    g_assert_cmpint(aka_av_build(NULL, &keys, rand, offered, 0x8000, &av), ==, AKA_OK);
    AkaUsimAnswer ans;
    g_assert_cmpint(aka_usim_check(&cfg, NULL, &keys, &usim, rand, av.autn, &ans), ==,
                    AKA_SYNC_FAILURE);
    uint64_t back = 0;
    g_assert_cmpint(aka_auts_verify(NULL, &keys, rand, ans.auts, &back), ==, AKA_OK);
    g_assert_cmpuint(back, ==, sqn_ms);
    char k[33], opc[33], rnd[33], auts[29], autn[33], bits[4];
    hex_encode(keys.k, 16, k);
    hex_encode(keys.opc, 16, opc);
    hex_encode(rand, 16, rnd);
    hex_encode(ans.auts, 14, auts);
    hex_encode(av.autn, 16, autn);
    g_snprintf(bits, sizeof bits, "%u", cfg.ind_bits);
    g_snprintf(ms_s[i], sizeof ms_s[i], "%" G_GUINT64_FORMAT, sqn_ms);
    const char *theirs[] = {osmo, "-3", "-a", "milenage", "-k", k,   "-o",
                            opc,  "-r", rnd,  "-A",       auts, NULL};
    add_job(jobs, theirs);
    kind[n_jobs++] = 0;
    g_ptr_array_add(want, g_strdup(ms_s[i]));
    if (i % 6 == 0) { /* read back by `m2msim av --auts` */
      const char *ours[] = {m2msim,   "av", "--k",    k,    "--opc", opc,
                            "--rand", rnd,  "--auts", auts, NULL};
      add_job(jobs, ours);
      kind[n_jobs++] = 1;
      g_ptr_array_add(want, g_strdup_printf("SQN_MS: %s\n", ms_s[i]));
    }
    if (i % 6 == 1) { /* the same AUTS out of `m2msim usim` */
      const char *usim_argv[] = {m2msim,     "usim",   "--k",        k,        "--opc",
                                 opc,        "--rand", rnd,          "--autn", autn,
                                 "--sqn-ms", ms_s[i],  "--ind-bits", bits,     NULL};
      add_job(jobs, usim_argv);
      kind[n_jobs++] = 2;
      g_ptr_array_add(want, g_strdup_printf("SYNC_FAILURE\nAUTS: %s\n", auts));
    }
  }
  g_autoptr(GPtrArray) outs = g_ptr_array_new_with_free_func(g_free);
  int status[3 * N];
  run_many(jobs, outs, status);
  int checked[3] = {0};
  for (int j = 0; j < n_jobs; j++) {
    const char *out = outs->pdata[j], *expect = want->pdata[j];
    g_assert_cmpint(status[j], ==, kind[j] == 2 ? 3 : 0);
    if (kind[j] == 0) {
      g_autofree char *osmo_ms = value_of(out, "SQN.MS");
      g_assert_cmpstr(osmo_ms, ==, expect);
    } else {
      g_assert_cmpstr(out, ==, expect);
    }
    checked[kind[j]]++;
  }
  g_assert_cmpint(checked[0], ==, N);
  g_assert_cmpint(checked[1], ==, N / 6);
  g_assert_cmpint(checked[2], ==, N / 6);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/cli-av/av-exact", test_av_exact);
  g_test_add_func("/cli-av/av-random-rand", test_av_random_rand);
  g_test_add_func("/cli-av/av-auts", test_av_auts);
  g_test_add_func("/cli-av/usim", test_usim);
  g_test_add_func("/cli-av/bad-args", test_bad_args);
  g_test_add_func("/cli-av/help", test_help);
  g_test_add_func("/cli-av/osmo-auc-gen-av", test_osmo_av);
  g_test_add_func("/cli-av/osmo-auc-gen-auts", test_osmo_auts);
  return g_test_run();
}
