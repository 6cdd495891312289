/* Crash safety of `m2msim run` and `m2msim sweep`: each is killed with SIGKILL (its whole
 * process group, as a power cut or the OOM killer would leave things) at 20+ random
 * moments spread over its life: starting, simulating, writing the results, renaming. After
 * every kill:
 *  - the results file is either the previous one, byte for byte, or a complete new one
 *    (every run 'complete'); never half-written, never gone once it existed;
 *  - nothing a user would take for a result is left: every other visible name is one the
 *    command documents (the sweep's DB.parts/ directory with complete part databases,
 *    its manifest, job list and the logs of interrupted runs); leftovers are hidden
 *    dot-files (".NAME.tmp-...");
 * and a final rerun completes, removes the leftovers of the killed processes, and (for the
 * sweep, resumed many times) gives the same figures as a sweep never interrupted.
 * Kill moments come from g_test_rand (the seed is printed; --seed replays it), spread
 * over 1.2 x the command's measured uninterrupted wall time. */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "m2m/results.h"
#include "testutil.h"

enum { KILLS = 20 };

typedef struct {
  char *dir;
  char *scenario;
} Fixture;

static void
fixture_set_up(Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  f->dir = g_dir_make_tmp("m2m-crash-XXXXXX", &error);
  g_assert_no_error(error);
  g_autofree char *src =
    g_build_filename(g_getenv("M2M_SRCDIR"), "scenarios", "quickstart.yaml", NULL);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(src, &text, NULL, &error));
  f->scenario = g_build_filename(f->dir, "scenario.yaml", NULL);
  g_assert_true(g_file_set_contents(f->scenario, text, -1, &error));
}

static void
rm_rf(const char *path)
{
  if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
    g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
    for (const char *n; d && (n = g_dir_read_name(d)) != NULL;) {
      g_autofree char *p = g_build_filename(path, n, NULL);
      rm_rf(p);
    }
    g_rmdir(path);
  } else {
    g_unlink(path);
  }
}

static void
fixture_tear_down(Fixture *f, gconstpointer data)
{
  rm_rf(f->dir);
  g_free(f->dir);
  g_free(f->scenario);
}

static void
new_group(gpointer data)
{
  setpgid(0, 0);
}

/* Runs m2msim with args in dir; when kill_after_us >= 0, SIGKILLs its process group
 * after that long (or lets it finish first). Returns the wait status; *wall_us gets the
 * elapsed time. */
static int
run_m2msim(const char *dir, const char *const *args, gint64 kill_after_us, gint64 *wall_us)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_ptr_array_add(argv, (gpointer)g_getenv("M2MSIM"));
  for (const char *const *a = args; *a; a++)
    g_ptr_array_add(argv, (gpointer)*a);
  g_ptr_array_add(argv, NULL);
  g_autoptr(GError) error = NULL;
  GPid pid = 0;
  gint64 t0 = g_get_monotonic_time();
  if (!g_spawn_async(dir, (char **)argv->pdata, NULL,
                     G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                       G_SPAWN_STDERR_TO_DEV_NULL,
                     new_group, NULL, &pid, &error))
    g_error("cannot run m2msim: %s", error->message);
  int status = 0;
  if (kill_after_us >= 0) {
    /* Sleep in small steps so a command that finishes early is noticed. */
    while (g_get_monotonic_time() - t0 < kill_after_us) {
      if (waitpid(pid, &status, WNOHANG) == pid) {
        killpg(pid, SIGKILL); /* any child it left behind */
        goto done;
      }
      g_usleep(2000);
    }
    killpg(pid, SIGKILL);
  }
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
done:
  if (wall_us)
    *wall_us = g_get_monotonic_time() - t0;
  g_spawn_close_pid(pid);
  return status;
}

/* Every run in the database at path is complete; returns how many there are (-1 if the
 * file does not exist). */
static int
complete_runs(const char *path)
{
  if (!g_file_test(path, G_FILE_TEST_EXISTS))
    return -1;
  g_autoptr(GError) error = NULL;
  g_autoptr(ResReader) r = res_reader_open(path, &error);
  g_assert_no_error(error);
  g_autoptr(GPtrArray) runs = res_reader_runs(r, &error);
  g_assert_no_error(error);
  for (guint i = 0; i < runs->len; i++) {
    const ResRun *run = runs->pdata[i];
    g_assert_cmpstr(run->status, ==, "complete");
    g_autoptr(GPtrArray) scalars = res_reader_scalars(r, run->id, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(scalars->len, >, 10);
  }
  return (int)runs->len;
}

static char *
file_sum(const char *path)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!g_file_get_contents(path, &data, &len, NULL))
    return NULL;
  return g_compute_checksum_for_data(G_CHECKSUM_SHA256, (guchar *)data, len);
}

/* A leftover temporary file of the results writer: ".NAME.tmp-HOST-PID-XXXXXX". */
static gboolean
is_hidden_temp(const char *name)
{
  return name[0] == '.' && strstr(name, ".tmp-") != NULL;
}

/* Checks dir holds only `allowed` visible names plus hidden temp files; returns how many
 * hidden temp files there are. */
static unsigned
check_listing(const char *dir, const char *const *allowed)
{
  unsigned hidden = 0;
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  g_assert_nonnull(d);
  for (const char *n; (n = g_dir_read_name(d)) != NULL;) {
    if (is_hidden_temp(n)) {
      hidden++;
      continue;
    }
    if (!g_strv_contains(allowed, n))
      g_error("%s: unexpected '%s' left behind", dir, n);
  }
  return hidden;
}

static const char *const world_sets[] = {
  "--set", "manufacturers.0.devices=15000",
  "--set", "manufacturers.0.production={poisson: 1/s}",
  "--set", "registration_service.pimsi_pool.size=100000",
};

static void
test_run_killed(Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(args, g_strdup("run"));
  g_ptr_array_add(args, g_strdup("-o"));
  g_ptr_array_add(args, g_strdup("results.db"));
  for (size_t i = 0; i < G_N_ELEMENTS(world_sets); i++)
    g_ptr_array_add(args, g_strdup(world_sets[i]));
  g_ptr_array_add(args, g_strdup("--seed"));
  guint seed_at = args->len;
  g_ptr_array_add(args, g_strdup("1"));
  g_ptr_array_add(args, g_strdup("scenario.yaml"));
  g_ptr_array_add(args, NULL);
  const char *const allowed[] = {"scenario.yaml", "results.db", NULL};
  g_autofree char *db = g_build_filename(f->dir, "results.db", NULL);

  /* The previous result, and how long a run takes here. */
  gint64 wall = 0;
  int st = run_m2msim(f->dir, (const char *const *)args->pdata, -1, &wall);
  g_assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  g_assert_cmpint(complete_runs(db), ==, 1);
  g_autofree char *prev = file_sum(db);
  g_test_message("uninterrupted run: %.3f s", wall / 1e6);

  unsigned replaced = 0, temps = 0;
  for (int k = 0; k < KILLS; k++) {
    g_free(args->pdata[seed_at]);
    args->pdata[seed_at] = g_strdup_printf("%d", 100 + k); /* a new run differs */
    gint64 at = g_test_rand_int_range(0, (gint32)MIN(wall * 6 / 5, G_MAXINT32));
    st = run_m2msim(f->dir, (const char *const *)args->pdata, at, NULL);
    g_autofree char *now = file_sum(db);
    g_assert_nonnull(now); /* the previous result is never lost */
    if (strcmp(now, prev) != 0) {
      /* Replaced: then by a complete new result. */
      g_assert_cmpint(complete_runs(db), ==, 1);
      g_free(prev);
      prev = g_steal_pointer(&now);
      replaced++;
    }
    temps = check_listing(f->dir, allowed);
  }
  g_test_message("%d kills: result replaced %u times, %u temp files left", KILLS, replaced,
                 temps);

  /* A rerun completes and clears what the killed runs left. */
  st = run_m2msim(f->dir, (const char *const *)args->pdata, -1, NULL);
  g_assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  g_assert_cmpint(complete_runs(db), ==, 1);
  g_assert_cmpuint(check_listing(f->dir, allowed), ==, 0);
}

static int
by_text(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* (seed, every scalar) of each run, sorted: what must not depend on interruptions. */
static char *
sweep_figures(const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ResReader) r = res_reader_open(path, &error);
  g_assert_no_error(error);
  g_autoptr(GPtrArray) runs = res_reader_runs(r, &error);
  g_assert_no_error(error);
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < runs->len; i++) {
    const ResRun *run = runs->pdata[i];
    g_autoptr(GString) s = g_string_new(NULL);
    g_string_append_printf(s, "seed=%" G_GINT64_FORMAT " rep=%" G_GINT64_FORMAT, run->seed,
                           run->replication);
    g_autoptr(GPtrArray) params = res_reader_params(r, run->id, &error);
    for (guint j = 0; j < params->len; j++) {
      const ResParam *p = params->pdata[j];
      g_string_append_printf(s, " %s=%s", p->key, p->value);
    }
    g_autoptr(GPtrArray) scalars = res_reader_scalars(r, run->id, &error);
    for (guint j = 0; j < scalars->len; j++) {
      const ResScalar *sc = scalars->pdata[j];
      if (strstr(sc->name, "wall") == NULL)
        g_string_append_printf(s, " %s=%.17g", sc->name, sc->value);
    }
    g_ptr_array_add(lines, g_string_free(g_steal_pointer(&s), FALSE));
  }
  g_ptr_array_sort(lines, by_text);
  g_ptr_array_add(lines, NULL);
  return g_strjoinv("\n", (char **)lines->pdata);
}

static void
test_sweep_killed(Fixture *f, gconstpointer data)
{
  const char *const base[] = {"sweep", "-o", "sweep.db", "-j", "2", "-r", "2", "--vary",
                              "registration_service.av_servers=1,2,3", "--set",
                              "manufacturers.0.devices=4000", "--set",
                              "manufacturers.0.production={poisson: 1/s}", "scenario.yaml", NULL};
  const int n_runs = 6;
  const char *const allowed[] = {"scenario.yaml", "sweep.db", "sweep.db.parts", NULL};
  g_autofree char *db = g_build_filename(f->dir, "sweep.db", NULL);
  g_autofree char *parts = g_build_filename(f->dir, "sweep.db.parts", NULL);

  /* An uninterrupted sweep elsewhere: the reference figures and the wall time. */
  g_autoptr(GError) error = NULL;
  g_autofree char *ref_dir = g_build_filename(f->dir, ".reference", NULL);
  g_assert_cmpint(g_mkdir(ref_dir, 0700), ==, 0);
  g_autofree char *ref_scn = g_build_filename(ref_dir, "scenario.yaml", NULL);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(f->scenario, &text, NULL, &error));
  g_assert_true(g_file_set_contents(ref_scn, text, -1, &error));
  gint64 wall = 0;
  int st = run_m2msim(ref_dir, base, -1, &wall);
  g_assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  g_autofree char *ref_db = g_build_filename(ref_dir, "sweep.db", NULL);
  g_assert_cmpint(complete_runs(ref_db), ==, n_runs);
  g_autofree char *reference = sweep_figures(ref_db);
  rm_rf(ref_dir);
  g_test_message("uninterrupted sweep: %.3f s", wall / 1e6);

  /* Kill it again and again; each start resumes the previous. Start again from nothing
   * whenever a sweep completed, so most kills land in unfinished sweeps. */
  unsigned completed = 0;
  for (int k = 0; k < KILLS; k++) {
    gboolean had = g_file_test(db, G_FILE_TEST_EXISTS);
    g_autofree char *before = had ? file_sum(db) : NULL;
    gint64 at = g_test_rand_int_range(0, (gint32)MIN(wall * 6 / 5, G_MAXINT32));
    st = run_m2msim(f->dir, base, at, NULL);
    check_listing(f->dir, allowed);
    if (g_file_test(parts, G_FILE_TEST_IS_DIR)) {
      /* Parts: complete part databases, the manifest and the job list; temps hidden. */
      g_autoptr(GDir) d = g_dir_open(parts, 0, NULL);
      for (const char *n; (n = g_dir_read_name(d)) != NULL;) {
        if (is_hidden_temp(n) || strcmp(n, "manifest") == 0 || strcmp(n, "commands.txt") == 0)
          continue;
        /* The stderr of a run the kill interrupted: a log, not a result (removed when the
         * run is redone and succeeds). */
        if (g_str_has_prefix(n, "run-") && g_str_has_suffix(n, ".log"))
          continue;
        if (!g_str_has_prefix(n, "run-") || !g_str_has_suffix(n, ".db"))
          g_error("%s: unexpected '%s' left behind", parts, n);
        g_autofree char *p = g_build_filename(parts, n, NULL);
        g_assert_cmpint(complete_runs(p), ==, 1);
      }
    }
    if (had) {
      /* The merged result, once there, stays complete. */
      g_assert_cmpint(complete_runs(db), ==, n_runs);
      g_autofree char *after = file_sum(db);
      g_assert_nonnull(after);
    } else if (g_file_test(db, G_FILE_TEST_EXISTS)) {
      g_assert_cmpint(complete_runs(db), ==, n_runs);
      g_autofree char *figures = sweep_figures(db);
      g_assert_cmpstr(figures, ==, reference);
    }
    if (g_file_test(db, G_FILE_TEST_EXISTS)) {
      completed++;
      rm_rf(db);
      rm_rf(parts);
    }
  }
  g_test_message("%d kills, %u sweeps completed before their kill", KILLS, completed);

  /* A rerun finishes (resuming what the last kill left) with the reference figures, and
   * leaves no temporary file in the output directory. */
  st = run_m2msim(f->dir, base, -1, NULL);
  g_assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  g_assert_cmpint(complete_runs(db), ==, n_runs);
  g_autofree char *figures = sweep_figures(db);
  g_assert_cmpstr(figures, ==, reference);
  g_assert_cmpuint(check_listing(f->dir, allowed), ==, 0);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add("/crash/run-killed", Fixture, NULL, fixture_set_up, test_run_killed,
             fixture_tear_down);
  g_test_add("/crash/sweep-killed", Fixture, NULL, fixture_set_up, test_sweep_killed,
             fixture_tear_down);
  return g_test_run();
}
