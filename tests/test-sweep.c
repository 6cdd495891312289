/* Sweeps: --vary parsing, grid numbering, seeds, manifests (models/sweep.c), and the
 * `m2msim sweep` runner end to end on a stand-in for `m2msim run` (tests/fake-m2msim.c):
 * every run exactly once in the merged database, resumption after SIGKILL without
 * re-running finished parts, refusal of a different sweep on the same parts, the same
 * scalars through GNU parallel + merge as built in, a Slurm script that runs the right
 * line, and one-line errors (exit 2) for bad input. */
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "m2m/ci.h"
#include "m2m/results.h"
#include "m2m/sweep.h"
#include "testutil.h"

static char *
quickstart(void)
{
  return g_build_filename(g_getenv("M2M_SRCDIR"), "scenarios", "quickstart.yaml", NULL);
}

/* ---- plan ---------------------------------------------------------------------- */

static void
test_parse_vary(void)
{
  g_autofree char *key = NULL;
  g_auto(GStrv) values = NULL;
  g_autoptr(GError) error = NULL;
  g_assert_true(sweep_parse_vary("a.b = 1, 2 ,3", &key, &values, &error));
  g_assert_cmpstr(key, ==, "a.b");
  g_assert_cmpuint(g_strv_length(values), ==, 3);
  g_assert_cmpstr(values[1], ==, "2");
  g_clear_pointer(&key, g_free);
  g_clear_pointer(&values, g_strfreev);
  g_assert_true(sweep_parse_vary("p={exponential: 2ms},{lognormal: {median: 1s, sigma: 0.5}},"
                                 "'a,b'",
                                 &key, &values, &error));
  g_assert_cmpuint(g_strv_length(values), ==, 3);
  g_assert_cmpstr(values[0], ==, "{exponential: 2ms}");
  g_assert_cmpstr(values[1], ==, "{lognormal: {median: 1s, sigma: 0.5}}");
  g_assert_cmpstr(values[2], ==, "'a,b'");
  static const char *bad[] = {"novalue", "=1,2", "k=1,,2", "k=", "k={a: 1", "k='x", "k=1]"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *k = NULL;
    g_auto(GStrv) v = NULL;
    g_autoptr(GError) e = NULL;
    g_assert_false(sweep_parse_vary(bad[i], &k, &v, &e));
    g_assert_error(e, SWEEP_ERROR, SWEEP_ERROR_SYNTAX);
    g_assert_nonnull(strstr(e->message, bad[i]));
    g_assert_null(strchr(e->message, '\n'));
  }
}

static void
test_seeds(void)
{
  g_autoptr(GHashTable) seen = g_hash_table_new(g_int64_hash, g_int64_equal);
  static gint64 seeds[1000];
  for (uint64_t r = 0; r < 1000; r++) {
    seeds[r] = (gint64)sweep_seed(1, r);
    g_assert_cmpuint(sweep_seed(1, r), <=, INT64_MAX);
    g_assert_cmpuint(sweep_seed(1, r), ==, sweep_seed(1, r));
    g_assert_false(g_hash_table_contains(seen, &seeds[r]));
    g_hash_table_add(seen, &seeds[r]);
  }
  g_assert_cmpuint(sweep_seed(2, 0), !=, sweep_seed(1, 0));
  g_assert_cmpuint(sweep_seed(0, 0), !=, sweep_seed(0, 1));
}

static void
test_plan_grid(void)
{
  g_autofree char *scn = quickstart();
  const char *vary[] = {"registration_service.pimsi_pool.size=1000,2000,3000",
                        "registration_service.av_servers=1,2", NULL};
  const char *sets[] = {"manufacturers.0.devices=50", NULL};
  g_autoptr(GError) error = NULL;
  g_autoptr(SweepPlan) plan = sweep_plan_new(scn, sets, vary, 3, false, 0, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(sweep_plan_n_points(plan), ==, 6);
  g_assert_cmpuint(sweep_plan_n_runs(plan), ==, 18);
  /* run 13 = point 4 (size 3000, servers 1: last axis fastest), replication 1 */
  g_assert_cmpuint(sweep_plan_point(plan, 13), ==, 4);
  g_assert_cmpuint(sweep_plan_replication(plan, 13), ==, 1);
  g_autofree char *label = sweep_plan_point_label(plan, 4);
  g_assert_cmpstr(label, ==,
                  "registration_service.pimsi_pool.size=3000, registration_service.av_servers=1");
  /* Common random numbers: replication r has the same seed at every point. */
  g_assert_cmpuint(sweep_plan_seed(plan, 13), ==, sweep_seed(1, 1));
  g_assert_cmpuint(sweep_plan_seed(plan, 1), ==, sweep_plan_seed(plan, 13));
  g_assert_cmpuint(sweep_plan_seed(plan, 0), !=, sweep_plan_seed(plan, 1));

  g_auto(GStrv) argv = sweep_plan_run_argv(plan, 13, "/bin/m2msim", "/tmp/x y/p.db");
  g_autofree char *seed = g_strdup_printf("%" G_GUINT64_FORMAT, sweep_seed(1, 1));
  const char *want[] = {"/bin/m2msim",
                        "run",
                        sweep_plan_scenario(plan),
                        "--seed",
                        seed,
                        "--set",
                        "manufacturers.0.devices=50",
                        "--set",
                        "registration_service.pimsi_pool.size=3000",
                        "--set",
                        "registration_service.av_servers=1",
                        "-o",
                        "/tmp/x y/p.db",
                        NULL};
  g_assert_cmpuint(g_strv_length(argv), ==, g_strv_length((char **)want));
  for (size_t i = 0; want[i]; i++)
    g_assert_cmpstr(argv[i], ==, want[i]);
  g_assert_true(g_path_is_absolute(sweep_plan_scenario(plan)));
  /* The command line parses back into the same words. */
  g_autofree char *cmd = sweep_plan_run_command(plan, 13, "/bin/m2msim", "/tmp/x y/p.db");
  g_auto(GStrv) back = NULL;
  g_assert_true(g_shell_parse_argv(cmd, NULL, &back, NULL));
  g_assert_true(g_strv_equal((const char *const *)back, (const char *const *)argv));

  /* Manifests: equal for the same sweep, different when anything differs. */
  g_autoptr(SweepPlan) same = sweep_plan_new(scn, sets, vary, 3, false, 0, &error);
  g_autoptr(SweepPlan) more = sweep_plan_new(scn, sets, vary, 4, false, 0, &error);
  g_autoptr(SweepPlan) seeded = sweep_plan_new(scn, sets, vary, 3, true, 7, &error);
  g_assert_no_error(error);
  g_autofree char *m1 = sweep_plan_manifest(plan), *m2 = sweep_plan_manifest(same);
  g_autofree char *m3 = sweep_plan_manifest(more), *m4 = sweep_plan_manifest(seeded);
  g_assert_cmpstr(m1, ==, m2);
  g_assert_cmpstr(m1, !=, m3);
  g_assert_cmpstr(m1, !=, m4);
  g_assert_cmpuint(sweep_plan_seed(seeded, 0), ==, sweep_seed(7, 0));
}

static void
test_plan_from_file(void)
{
  g_autofree char *scn = quickstart();
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(scn, &text, NULL, NULL));
  g_autofree char *with = g_strconcat(text,
                                      "sweep:\n  vary:\n"
                                      "    registration_service.av_servers: [1, 2, 4]\n"
                                      "  replications: 2\n",
                                      NULL);
  g_autofree char *dir = g_dir_make_tmp("test-sweep-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "s.yaml", NULL);
  g_assert_true(g_file_set_contents(path, with, -1, NULL));
  g_autoptr(GError) error = NULL;
  g_autoptr(SweepPlan) plan = sweep_plan_new(path, NULL, NULL, 0, false, 0, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(sweep_plan_n_runs(plan), ==, 6);
  g_autofree char *label = sweep_plan_point_label(plan, 2);
  g_assert_cmpstr(label, ==, "registration_service.av_servers=4");
  /* --vary replaces the file's axes; --replications its count. */
  const char *vary[] = {"registration_service.pimsi_pool.size=100,200", NULL};
  g_autoptr(SweepPlan) other = sweep_plan_new(path, NULL, vary, 5, false, 0, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(sweep_plan_n_runs(other), ==, 10);
  g_autofree char *l2 = sweep_plan_point_label(other, 1);
  g_assert_cmpstr(l2, ==, "registration_service.pimsi_pool.size=200");
  g_unlink(path);
  g_rmdir(dir);
}

static void
test_plan_errors(void)
{
  g_autofree char *scn = quickstart();
  static const struct {
    const char *vary, *set, *needle;
  } cases[] = {
      {"registration_service.no_such_key=1,2", NULL, "no_such_key"},
      {"registration_service.av_servers=1,0", NULL, "av_servers=0"},
      {"seed=1,2", NULL, "cannot vary 'seed'"},
      {"sweep.replications=1,2", NULL, "sweep section"},
      {"registration_service.av_servers=1,2", "registration_service.av_servers=3", "both"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    const char *vary[] = {cases[i].vary, NULL};
    const char *sets[] = {cases[i].set, NULL};
    g_autoptr(GError) e = NULL;
    g_autoptr(SweepPlan) plan = sweep_plan_new(scn, sets, vary, 1, false, 0, &e);
    g_assert_null(plan);
    g_assert_nonnull(e);
    if (strstr(e->message, cases[i].needle) == NULL)
      g_error("case %zu: '%s' lacks '%s'", i, e->message, cases[i].needle);
  }
}

/* ---- runner --------------------------------------------------------------------- */

typedef struct {
  char *dir;
  char *scn;
  char *db;
} Fixture;

static void
fx_setup(Fixture *fx, gconstpointer data)
{
  fx->dir = g_dir_make_tmp("test-sweep-XXXXXX", NULL);
  g_assert_nonnull(fx->dir);
  fx->scn = quickstart();
  fx->db = g_build_filename(fx->dir, "sweep.db", NULL);
  g_unsetenv("FAKE_M2MSIM_SLEEP_MS");
  g_unsetenv("FAKE_M2MSIM_FAIL_SEED");
}

static void
fx_teardown(Fixture *fx, gconstpointer data)
{
  tu_rm_rf(fx->dir);
  g_free(fx->dir);
  g_free(fx->scn);
  g_free(fx->db);
}

/* argv of a sweep of 3 pool sizes x 2 replications on the fake runner, plus extra. */
static GPtrArray *
sweep_args(const Fixture *fx, const char *db, const char *extra, ...)
{
  GPtrArray *a = g_ptr_array_new();
  const char *base[] = {"sweep",
                        fx->scn,
                        "--m2msim",
                        g_getenv("FAKE_M2MSIM"),
                        "--vary",
                        "registration_service.pimsi_pool.size=1000,2000,4000",
                        "--replications",
                        "2",
                        "-o",
                        db};
  for (size_t i = 0; i < G_N_ELEMENTS(base); i++)
    g_ptr_array_add(a, (gpointer)base[i]);
  va_list ap;
  va_start(ap, extra);
  for (const char *x = extra; x; x = va_arg(ap, const char *))
    g_ptr_array_add(a, (gpointer)x);
  va_end(ap);
  g_ptr_array_add(a, NULL);
  return a;
}

/* Checks db holds the 6 runs of sweep_args exactly once each; returns them keyed
 * "pool/replication" -> scalars "name=value;..." (wall-clock scalars left out). */
static GHashTable *
check_runs(const char *db)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ResReader) r = res_reader_open(db, &error);
  g_assert_no_error(error);
  g_autoptr(GPtrArray) runs = res_reader_runs(r, &error);
  g_assert_cmpuint(runs->len, ==, 6);
  GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; i < runs->len; i++) {
    const ResRun *run = runs->pdata[i];
    g_assert_cmpstr(run->status, ==, "complete");
    g_assert_cmpint(run->replication, >=, 0);
    g_assert_cmpint(run->replication, <, 2);
    g_assert_cmpint(run->seed, ==, (gint64)sweep_seed(1, (uint64_t)run->replication));
    g_autoptr(GPtrArray) params = res_reader_params(r, run->id, &error);
    const char *pool = NULL;
    for (guint k = 0; k < params->len; k++) {
      const ResParam *p = params->pdata[k];
      if (strcmp(p->key, "registration_service.pimsi_pool.size") == 0)
        pool = p->value;
    }
    g_assert_nonnull(pool);
    char *key = g_strdup_printf("%s/%" G_GINT64_FORMAT, pool, run->replication);
    g_assert_false(g_hash_table_contains(seen, key));
    g_autoptr(GPtrArray) scalars = res_reader_scalars(r, run->id, &error);
    GString *s = g_string_new(NULL);
    for (guint k = 0; k < scalars->len; k++) {
      const ResScalar *sc = scalars->pdata[k];
      if (strcmp(sc->name, "engine.wall_s") != 0 && strcmp(sc->name, "run.wall_s") != 0)
        g_string_append_printf(s, "%s=%.17g;", sc->name, sc->value);
    }
    g_hash_table_insert(seen, key, g_string_free(s, FALSE));
  }
  g_assert_cmpuint(g_hash_table_size(seen), ==, 6);
  return seen;
}

static void
test_run_and_rerun(Fixture *fx, gconstpointer data)
{
  g_autoptr(GPtrArray) a = sweep_args(fx, fx->db, "-j", "2", NULL);
  g_autofree char *o = NULL, *e = NULL;
  int rc = tu_run_m2msimv(&o, &e, (const char *const *)a->pdata);
  if (rc != 0)
    g_error("sweep failed: %s", e);
  g_assert_nonnull(strstr(o, "6 runs (3 points x 2 replications)"));
  g_assert_nonnull(strstr(e, "6/6 runs done"));
  g_autoptr(GHashTable) first = check_runs(fx->db);
  /* Every run's command is stored; line 4 is run 3 (pool 2000, replication 1). */
  g_autofree char *cmds_path = g_strconcat(fx->db, ".parts/commands.txt", NULL);
  g_autofree char *cmds = NULL;
  g_assert_true(g_file_get_contents(cmds_path, &cmds, NULL, NULL));
  g_auto(GStrv) lines = g_strsplit(cmds, "\n", -1);
  g_assert_cmpuint(g_strv_length(lines), ==, 7);
  g_assert_nonnull(strstr(lines[3], "pimsi_pool.size=2000"));
  g_assert_nonnull(strstr(lines[3], "run-0003.db"));

  /* Again: nothing re-runs, the same database comes out. */
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);
  g_autofree char *part = g_strconcat(fx->db, ".parts/run-0002.db", NULL);
  struct stat before, after;
  g_assert_cmpint(g_stat(part, &before), ==, 0);
  g_assert_cmpint(tu_run_m2msimv(&o, &e, (const char *const *)a->pdata), ==, 0);
  g_assert_cmpint(g_stat(part, &after), ==, 0);
  g_assert_cmpuint(before.st_ino, ==, after.st_ino);
  g_autoptr(GHashTable) second = check_runs(fx->db);

  /* A different sweep against the same parts is refused. */
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);
  g_autoptr(GPtrArray) b = sweep_args(fx, fx->db, "--seed", "9", NULL);
  g_assert_cmpint(tu_run_m2msimv(&o, &e, (const char *const *)b->pdata), ==, 2);
  g_assert_nonnull(strstr(e, "holds parts of a different sweep"));
  g_assert_cmpuint(strlen(e), ==, (size_t)(strchr(e, '\n') - e + 1));
}

static guint
count_parts(const char *dir)
{
  guint n = 0;
  GDir *d = g_dir_open(dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d)) != NULL)
    n += g_str_has_prefix(name, "run-") && g_str_has_suffix(name, ".db");
  if (d)
    g_dir_close(d);
  return n;
}

static void
test_kill_and_resume(Fixture *fx, gconstpointer data)
{
  g_autoptr(GPtrArray) a = sweep_args(fx, fx->db, "-j", "2", NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_ptr_array_add(argv, (gpointer)g_getenv("M2MSIM"));
  for (guint i = 0; i + 1 < a->len; i++)
    g_ptr_array_add(argv, a->pdata[i]);
  g_ptr_array_add(argv, NULL);
  g_setenv("FAKE_M2MSIM_SLEEP_MS", "250", TRUE);
  GPid pid = 0;
  g_autoptr(GError) error = NULL;
  g_assert_true(g_spawn_async(NULL, (char **)argv->pdata, NULL,
                              G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDERR_TO_DEV_NULL |
                                  G_SPAWN_STDOUT_TO_DEV_NULL,
                              NULL, NULL, &pid, &error));
  g_autofree char *parts = g_strconcat(fx->db, ".parts", NULL);
  /* Kill once two parts are finished (of 6, 2 at a time: others are mid-write). */
  for (int i = 0; i < 2000 && count_parts(parts) < 2; i++)
    g_usleep(5000);
  g_assert_cmpuint(count_parts(parts), >=, 2);
  g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
  int status = 0;
  g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
  g_assert_true(WIFSIGNALED(status));
  g_spawn_close_pid(pid);
  g_usleep(300000); /* the children die with the sweep (PR_SET_PDEATHSIG) */
  guint done = count_parts(parts);
  g_assert_cmpuint(done, <, 6);
  g_assert_false(g_file_test(fx->db, G_FILE_TEST_EXISTS));
  /* The parts that exist are whole, and stay untouched by the resumed sweep. */
  g_autoptr(GHashTable) inodes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (int i = 0; i < 6; i++) {
    g_autofree char *p = g_strdup_printf("%s/run-%04d.db", parts, i);
    struct stat st;
    if (g_stat(p, &st) != 0)
      continue;
    g_autoptr(ResReader) r = res_reader_open(p, &error);
    g_assert_no_error(error);
    g_hash_table_insert(inodes, g_steal_pointer(&p), GSIZE_TO_POINTER(st.st_ino));
  }
  g_assert_cmpuint(g_hash_table_size(inodes), ==, done);

  g_unsetenv("FAKE_M2MSIM_SLEEP_MS");
  g_autofree char *o = NULL, *e = NULL;
  int rc = tu_run_m2msimv(&o, &e, (const char *const *)a->pdata);
  if (rc != 0)
    g_error("resumed sweep failed: %s", e);
  g_autofree char *expect = g_strdup_printf("%u done before", done);
  g_assert_nonnull(strstr(e, expect));
  g_autoptr(GHashTable) runs = check_runs(fx->db);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, inodes);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    struct stat st;
    g_assert_cmpint(g_stat(k, &st), ==, 0);
    g_assert_cmpuint(st.st_ino, ==, GPOINTER_TO_SIZE(v));
  }
  /* No temporary file of a killed run is left behind. */
  GDir *d = g_dir_open(parts, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name(d)) != NULL)
    g_assert_false(name[0] == '.');
  g_dir_close(d);
}

static void
test_failed_run(Fixture *fx, gconstpointer data)
{
  g_autofree char *fail = g_strdup_printf("%" G_GUINT64_FORMAT, sweep_seed(1, 1));
  g_setenv("FAKE_M2MSIM_FAIL_SEED", fail, TRUE);
  g_autoptr(GPtrArray) a = sweep_args(fx, fx->db, "-j", "1", NULL);
  g_autofree char *o = NULL, *e = NULL;
  g_assert_cmpint(tu_run_m2msimv(&o, &e, (const char *const *)a->pdata), ==, 1);
  g_assert_nonnull(strstr(e, "run 1 (registration_service.pimsi_pool.size=1000, replication 1) "
                             "failed (exit status 1): fake-m2msim: failing on purpose"));
  g_assert_nonnull(strstr(e, "run the same command again"));
  g_assert_false(g_file_test(fx->db, G_FILE_TEST_EXISTS));
  g_unsetenv("FAKE_M2MSIM_FAIL_SEED");
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);
  g_assert_cmpint(tu_run_m2msimv(&o, &e, (const char *const *)a->pdata), ==, 0);
  g_autoptr(GHashTable) runs = check_runs(fx->db);
}

static void
test_parallel_and_slurm(Fixture *fx, gconstpointer data)
{
  g_autofree char *parallel = g_find_program_in_path("parallel");
  if (parallel == NULL) {
    g_test_skip("GNU parallel not installed (apt-get install parallel)");
    return;
  }
  /* Built in. */
  g_autoptr(GPtrArray) a = sweep_args(fx, fx->db, "-j", "2", NULL);
  g_autofree char *o = NULL, *e = NULL;
  g_assert_cmpint(tu_run_m2msimv(&o, &e, (const char *const *)a->pdata), ==, 0);
  g_autoptr(GHashTable) builtin = check_runs(fx->db);

  /* GNU parallel on the emitted job list, then merge. */
  g_autofree char *pdb = g_build_filename(fx->dir, "p.db", NULL);
  g_autofree char *jobs = g_build_filename(fx->dir, "jobs.txt", NULL);
  g_autoptr(GPtrArray) b = sweep_args(fx, pdb, "--emit-jobs", jobs, NULL);
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);
  g_assert_cmpint(tu_run_m2msimv(&o, &e, (const char *const *)b->pdata), ==, 0);
  g_assert_nonnull(strstr(o, "6 of 6 runs still to do"));
  const char *sh[] = {"/bin/sh", "-c", "parallel -j 2 < \"$1\"", "sh", jobs, NULL};
  int status = 0;
  g_autoptr(GError) error = NULL;
  g_autofree char *pe = NULL;
  g_assert_true(g_spawn_sync(NULL, (char **)sh, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                             &pe, &status, &error));
  if (!g_spawn_check_wait_status(status, NULL))
    g_error("parallel failed: %s", pe);
  g_autofree char *pparts = g_strconcat(pdb, ".parts", NULL);
  GPtrArray *m = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(m, g_strdup("merge"));
  for (int i = 0; i < 6; i++)
    g_ptr_array_add(m, g_strdup_printf("%s/run-%04d.db", pparts, i));
  g_ptr_array_add(m, g_strdup("-o"));
  g_ptr_array_add(m, g_strdup(pdb));
  g_ptr_array_add(m, NULL);
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);
  g_assert_cmpint(tu_run_m2msimv(&o, &e, (const char *const *)m->pdata), ==, 0);
  g_ptr_array_unref(m);
  /* `m2msim run` alone stores replication 0; the sweep's own merge knows better. Compare
   * what the merge of the parts gives against the built-in scalars by seed. */
  g_autoptr(ResReader) r = res_reader_open(pdb, &error);
  g_assert_no_error(error);
  g_autoptr(GPtrArray) runs = res_reader_runs(r, &error);
  g_assert_cmpuint(runs->len, ==, 6);
  /* The sweep command itself now only merges (every part is there) and gives the same
   * scalars as the built-in run, run by run. */
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);
  g_autoptr(GPtrArray) c = sweep_args(fx, pdb, NULL);
  g_assert_cmpint(tu_run_m2msimv(&o, &e, (const char *const *)c->pdata), ==, 0);
  g_autoptr(GHashTable) via_parallel = check_runs(pdb);
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, builtin);
  while (g_hash_table_iter_next(&it, &k, &v))
    g_assert_cmpstr(g_hash_table_lookup(via_parallel, k), ==, v);

  /* Slurm: the array script runs line SLURM_ARRAY_TASK_ID of the job list. */
  g_autofree char *sdb = g_build_filename(fx->dir, "s.db", NULL);
  g_autofree char *script = g_build_filename(fx->dir, "sweep.sbatch", NULL);
  g_autoptr(GPtrArray) d = sweep_args(fx, sdb, "--emit-slurm", script, NULL);
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);
  g_assert_cmpint(tu_run_m2msimv(&o, &e, (const char *const *)d->pdata), ==, 0);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(script, &text, NULL, NULL));
  g_assert_nonnull(strstr(text, "#SBATCH --array=1-6\n"));
  const char *bash[] = {"/bin/bash", script, NULL};
  g_auto(GStrv) env = g_environ_setenv(g_get_environ(), "SLURM_ARRAY_TASK_ID", "4", TRUE);
  g_assert_true(g_spawn_sync(NULL, (char **)bash, env, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL,
                             &status, &error));
  g_assert_true(g_spawn_check_wait_status(status, NULL));
  g_autofree char *sparts = g_strconcat(sdb, ".parts", NULL);
  g_assert_cmpuint(count_parts(sparts), ==, 1);
  g_autofree char *p3 = g_strconcat(sparts, "/run-0003.db", NULL);
  g_assert_true(g_file_test(p3, G_FILE_TEST_EXISTS));
}

/* The real `m2msim run`, when this build has it: the same small sweep built in and
 * through GNU parallel + m2msim merge gives the same scalars run by run (wall-clock
 * figures aside). */
static void
test_real_runs_parallel(Fixture *fx, gconstpointer data)
{
  g_autofree char *o = NULL, *e = NULL;
  if (tu_run_m2msim(&o, &e, "run", "--help", NULL) != 0) {
    g_test_skip("m2msim run not available in this build");
    return;
  }
  g_autofree char *parallel = g_find_program_in_path("parallel");
  if (parallel == NULL) {
    g_test_skip("GNU parallel not installed (apt-get install parallel)");
    return;
  }
  g_autofree char *pdb = g_build_filename(fx->dir, "p.db", NULL);
  g_autofree char *jobs = g_build_filename(fx->dir, "jobs.txt", NULL);
  const char *base[] = {"sweep",  fx->scn,
                        "--vary", "registration_service.pimsi_pool.size=150,600",
                        "--set",  "manufacturers.0.devices=120",
                        "--set",  "duration=2d",
                        "-r",     "2",
                        "-j",     "2",
                        "-o",     NULL,
                        NULL,     NULL,
                        NULL};
  base[13] = fx->db;
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);
  if (tu_run_m2msimv(&o, &e, base) != 0)
    g_error("sweep failed: %s", e);
  base[13] = pdb;
  base[14] = "--emit-jobs";
  base[15] = jobs;
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);
  g_assert_cmpint(tu_run_m2msimv(&o, &e, base), ==, 0);
  const char *sh[] = {"/bin/sh", "-c", "parallel -j 2 < \"$1\"", "sh", jobs, NULL};
  int status = 0;
  g_autofree char *pe = NULL;
  g_autoptr(GError) error = NULL;
  g_assert_true(g_spawn_sync(NULL, (char **)sh, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                             &pe, &status, &error));
  if (!g_spawn_check_wait_status(status, NULL))
    g_error("parallel failed: %s", pe);
  g_autofree char *glob = g_strdup_printf("%s.parts", pdb);
  GPtrArray *m = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(m, g_strdup("merge"));
  for (int i = 0; i < 4; i++)
    g_ptr_array_add(m, g_strdup_printf("%s/run-%04d.db", glob, i));
  g_ptr_array_add(m, g_strdup("-o"));
  g_ptr_array_add(m, g_strdup(pdb));
  g_ptr_array_add(m, NULL);
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);
  int rc = tu_run_m2msimv(&o, &e, (const char *const *)m->pdata);
  g_ptr_array_unref(m);
  if (rc != 0)
    g_error("merge failed: %s", e);

  /* Scalars per run, keyed by seed and pool size. */
  GHashTable *sets[2];
  const char *dbs[2] = {fx->db, pdb};
  for (int k = 0; k < 2; k++) {
    sets[k] = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(ResReader) r = res_reader_open(dbs[k], &error);
    g_assert_no_error(error);
    g_autoptr(GPtrArray) runs = res_reader_runs(r, &error);
    g_assert_cmpuint(runs->len, ==, 4);
    for (guint i = 0; i < runs->len; i++) {
      const ResRun *run = runs->pdata[i];
      g_assert_cmpstr(run->status, ==, "complete");
      g_autoptr(GPtrArray) params = res_reader_params(r, run->id, &error);
      const char *pool = NULL;
      for (guint j = 0; j < params->len; j++)
        if (strcmp(((ResParam *)params->pdata[j])->key, "registration_service.pimsi_pool.size") ==
            0)
          pool = ((ResParam *)params->pdata[j])->value;
      g_assert_nonnull(pool);
      g_autoptr(GPtrArray) scalars = res_reader_scalars(r, run->id, &error);
      g_assert_cmpuint(scalars->len, >, 20);
      GString *s = g_string_new(NULL);
      for (guint j = 0; j < scalars->len; j++) {
        const ResScalar *sc = scalars->pdata[j];
        if (strcmp(sc->name, "engine.wall_s") != 0 && strcmp(sc->name, "run.wall_s") != 0)
          g_string_append_printf(s, "%s=%.17g\n", sc->name, sc->value);
      }
      char *key = g_strdup_printf("%" G_GINT64_FORMAT "/%s", run->seed, pool);
      g_assert_false(g_hash_table_contains(sets[k], key));
      g_hash_table_insert(sets[k], key, g_string_free(s, FALSE));
    }
  }
  GHashTableIter it;
  gpointer key, val;
  g_hash_table_iter_init(&it, sets[0]);
  while (g_hash_table_iter_next(&it, &key, &val))
    g_assert_cmpstr(g_hash_table_lookup(sets[1], key), ==, val);
  g_hash_table_unref(sets[0]);
  g_hash_table_unref(sets[1]);
}

static void
test_bad_input(Fixture *fx, gconstpointer data)
{
  g_autofree char *junk = g_build_filename(fx->dir, "junk.db", NULL);
  g_assert_true(g_file_set_contents(junk, "not sqlite\n", -1, NULL));
  const char *fake = g_getenv("FAKE_M2MSIM");
  const char *vs = "registration_service.av_servers=1,2";
  static const char *const none = NULL;
  const struct {
    const char *args[12];
    const char *needle;
  } cases[] = {
      {{"sweep", fx->scn, "--vary", "novalue", "-o", fx->db}, "no '='"},
      {{"sweep", fx->scn, "--vary", "registration_service.nope=1,2", "-o", fx->db}, "nope"},
      {{"sweep", fx->scn, "--vary", vs, "-r", "0", "-o", fx->db}, "at least 1"},
      {{"sweep", fx->scn, "--vary", vs, "-j", "0", "-o", fx->db}, "-j: must be at least 1"},
      {{"sweep", fx->scn, "--vary", vs}, "missing -o"},
      {{"sweep", fx->scn, "--vary", vs, "-o", junk}, "not an m2msim results database"},
      {{"sweep", "--vary", vs, "-o", fx->db}, "no scenario file"},
      {{"sweep", fx->scn, "--vary", vs, "-r", "x", "-o", fx->db}, "--replications"},
  };
  (void)none;
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GPtrArray) a = g_ptr_array_new();
    for (size_t k = 0; cases[i].args[k]; k++)
      g_ptr_array_add(a, (gpointer)cases[i].args[k]);
    g_ptr_array_add(a, (gpointer) "--m2msim");
    g_ptr_array_add(a, (gpointer)fake);
    g_ptr_array_add(a, NULL);
    g_autofree char *o = NULL, *e = NULL;
    int rc = tu_run_m2msimv(&o, &e, (const char *const *)a->pdata);
    if (rc != 2 || strstr(e, cases[i].needle) == NULL || strchr(e, '\n') != e + strlen(e) - 1)
      g_error("case %zu: exit %d, stderr '%s' (want one line with '%s')", i, rc, e,
              cases[i].needle);
    g_assert_false(g_file_test(fx->db, G_FILE_TEST_EXISTS));
  }
  g_autofree char *parts = g_strconcat(fx->db, ".parts", NULL);
  g_assert_false(g_file_test(parts, G_FILE_TEST_EXISTS));
}

/* --precision: each point gets replications until its watched figure's 95 % half-width
 * is within REL of its mean (or the maximum is reached), replication r with the same seed
 * at every point; the merged database holds exactly those runs, and the claim holds in it;
 * the same command again changes nothing (resumed from the parts); a figure no run reports
 * and a precision that is not a fraction are refused. */
static void
test_precision(Fixture *fx, gconstpointer data)
{
  g_autofree char *o = NULL, *e = NULL;
  if (tu_run_m2msim(&o, &e, "run", "--help", NULL) != 0) {
    g_test_skip("m2msim run not available in this build");
    return;
  }
  const char *argv[] = {"sweep",
                        fx->scn,
                        "--vary",
                        "registration_service.pimsi_pool.size=150,600",
                        "--set",
                        "manufacturers.0.devices=120",
                        "--set",
                        "duration=2d",
                        "--precision",
                        "0.15",
                        "--precision-of",
                        "provision.latency.p50",
                        "--max-replications",
                        "12",
                        "-r",
                        "2",
                        "-j",
                        "2",
                        "-o",
                        fx->db,
                        NULL};
  for (int pass = 0; pass < 2; pass++) {
    g_clear_pointer(&o, g_free);
    g_clear_pointer(&e, g_free);
    if (tu_run_m2msimv(&o, &e, argv) != 0)
      g_error("precision sweep failed: %s", e);
    g_assert_nonnull(strstr(o, "provision.latency.p50"));
    g_autoptr(GError) error = NULL;
    g_autoptr(ResReader) r = res_reader_open(fx->db, &error);
    g_assert_no_error(error);
    g_autoptr(GPtrArray) runs = res_reader_runs(r, &error);
    g_assert_no_error(error);
    /* per pool size: its replications' latencies and seeds, by replication number */
    GArray *lat[2] = {g_array_new(FALSE, TRUE, sizeof(double)),
                      g_array_new(FALSE, TRUE, sizeof(double))};
    GArray *seed[2] = {g_array_new(FALSE, TRUE, sizeof(uint64_t)),
                       g_array_new(FALSE, TRUE, sizeof(uint64_t))};
    for (guint i = 0; i < runs->len; i++) {
      const ResRun *run = runs->pdata[i];
      g_autoptr(GPtrArray) params = res_reader_params(r, run->id, &error);
      int k = -1;
      for (guint j = 0; j < params->len; j++) {
        const ResParam *p = params->pdata[j];
        if (strcmp(p->key, "registration_service.pimsi_pool.size") == 0)
          k = strcmp(p->value, "150") == 0 ? 0 : 1;
      }
      g_assert_cmpint(k, >=, 0);
      double v;
      g_assert_true(res_reader_scalar(r, run->id, "provision.latency.p50", &v, &error));
      guint rep = (guint)run->replication;
      if (lat[k]->len <= rep) {
        g_array_set_size(lat[k], rep + 1);
        g_array_set_size(seed[k], rep + 1);
      }
      g_array_index(lat[k], double, rep) = v;
      g_array_index(seed[k], uint64_t, rep) = run->seed;
    }
    for (int k = 0; k < 2; k++) {
      guint n = lat[k]->len;
      g_assert_cmpuint(n, >=, 2);
      g_assert_cmpuint(n, <=, 12);
      CiSummary c;
      ci_summarize((const double *)lat[k]->data, n, 0.95, &c);
      g_test_message("pool %s: %u replications, p50 %.4g +- %.3g", k ? "600" : "150", n, c.mean,
                     c.half_width);
      if (n < 12) /* stopped before the maximum: because the interval was narrow enough */
        g_assert_cmpfloat(c.half_width, <=, 0.15 * fabs(c.mean));
    }
    for (guint rep = 0; rep < MIN(seed[0]->len, seed[1]->len); rep++)
      g_assert_cmpuint(g_array_index(seed[0], uint64_t, rep), ==,
                       g_array_index(seed[1], uint64_t, rep));
    for (int k = 0; k < 2; k++) {
      g_array_free(lat[k], TRUE);
      g_array_free(seed[k], TRUE);
    }
    g_assert_cmpuint(runs->len, >, 4);
  }
  g_autofree char *other = g_build_filename(fx->dir, "typo.db", NULL);
  const char *typo[] = {"sweep",
                        fx->scn,
                        "--set",
                        "manufacturers.0.devices=50",
                        "--set",
                        "duration=1d",
                        "--precision",
                        "0.05",
                        "--precision-of",
                        "provision.latncy.p50",
                        "-o",
                        other,
                        NULL};
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);
  g_assert_cmpint(tu_run_m2msimv(&o, &e, typo), ==, 2);
  g_assert_nonnull(strstr(e, "no run reports this figure"));
  g_assert_false(g_file_test(other, G_FILE_TEST_EXISTS)); /* nothing merged */
  const char *bad[] = {"sweep", fx->scn, "--precision", "2", "-o", fx->db, NULL};
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);
  g_assert_cmpint(tu_run_m2msimv(&o, &e, bad), ==, 2);
  g_assert_nonnull(strstr(e, "expected a fraction between 0 and 1"));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sweep/parse-vary", test_parse_vary);
  g_test_add_func("/sweep/seeds", test_seeds);
  g_test_add_func("/sweep/plan-grid", test_plan_grid);
  g_test_add_func("/sweep/plan-from-file", test_plan_from_file);
  g_test_add_func("/sweep/plan-errors", test_plan_errors);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fx_setup, fn, fx_teardown)
  ADD("/sweep/run-and-rerun", test_run_and_rerun);
  ADD("/sweep/kill-and-resume", test_kill_and_resume);
  ADD("/sweep/failed-run", test_failed_run);
  ADD("/sweep/parallel-and-slurm", test_parallel_and_slurm);
  ADD("/sweep/real-runs-parallel", test_real_runs_parallel);
  ADD("/sweep/bad-input", test_bad_input);
  ADD("/sweep/precision", test_precision);
  return g_test_run();
}
