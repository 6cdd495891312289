/* Merging results databases: every run copied whole (run row, params, scalars, series,
 * exactly), replication override, refusal of duplicates and of different scenarios with
 * the output left untouched, and the `m2msim merge` command's answers to bad input. */
#include <math.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "m2m/merge.h"
#include "m2m/results.h"
#include "testutil.h"

typedef struct {
  char *dir;
} Fixture;

static void
fx_setup(Fixture *fx, gconstpointer data)
{
  GError *error = NULL;
  fx->dir = g_dir_make_tmp("test-merge-XXXXXX", &error);
  g_assert_no_error(error);
}

static void
fx_teardown(Fixture *fx, gconstpointer data)
{
  GDir *d = g_dir_open(fx->dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d)) != NULL) {
    g_autofree char *p = g_build_filename(fx->dir, name, NULL);
    g_unlink(p);
  }
  if (d)
    g_dir_close(d);
  g_rmdir(fx->dir);
  g_free(fx->dir);
}

static const char *scenario_a = "name: a\nseed: 1\n";

/* Writes a one-run database: params seed and x, scalars derived from both, a series. */
static char *
write_part(const Fixture *fx, const char *file, const char *scenario, uint64_t seed, const char *x)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename(fx->dir, file, NULL);
  g_autoptr(ResWriter) w = res_writer_open(path, &error);
  g_assert_no_error(error);
  int64_t id = 0;
  g_assert_true(res_writer_add_run(w, scenario, "a", seed, 0, "2025-01-01T00:00:00Z", &id, &error));
  g_autofree char *seed_s = g_strdup_printf("%" G_GUINT64_FORMAT, seed);
  g_assert_true(res_writer_param(w, id, "seed", seed_s, &error));
  g_assert_true(res_writer_param(w, id, "x", x, &error));
  g_assert_true(res_writer_scalar(w, id, "m.seed", (double)seed / 3, &error));
  g_assert_true(res_writer_scalar(w, id, "m.inf", INFINITY, &error));
  for (int i = 0; i < 5; i++)
    g_assert_true(res_writer_series(w, id, "s", i * 0.5, seed * 1.0 + i / 7.0, &error));
  g_assert_true(res_writer_finish_run(w, id, 1.25, "complete", &error));
  g_assert_true(res_writer_commit(w, &error));
  g_assert_no_error(error);
  return path;
}

static void
test_copies_everything(Fixture *fx, gconstpointer data)
{
  g_autofree char *a = write_part(fx, "a.db", scenario_a, 11, "1");
  g_autofree char *b = write_part(fx, "b.db", scenario_a, 12, "2");
  g_autofree char *out = g_build_filename(fx->dir, "out.db", NULL);
  const char *parts[] = {a, b};
  const int64_t reps[] = {-1, 7};
  g_autoptr(GError) error = NULL;
  size_t n = 0;
  g_assert_true(merge_files(parts, 2, reps, out, &n, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(n, ==, 2);

  g_autoptr(ResReader) r = res_reader_open(out, &error);
  g_assert_no_error(error);
  g_autoptr(GPtrArray) runs = res_reader_runs(r, &error);
  g_assert_cmpuint(runs->len, ==, 2);
  for (guint i = 0; i < 2; i++) {
    const ResRun *run = runs->pdata[i];
    uint64_t seed = 11 + i;
    g_assert_cmpint(run->id, ==, i + 1);
    g_assert_cmpstr(run->scenario, ==, scenario_a);
    g_assert_cmpint(run->seed, ==, seed);
    g_assert_cmpint(run->replication, ==, i == 0 ? 0 : 7);
    g_assert_cmpstr(run->status, ==, "complete");
    g_assert_cmpstr(run->started, ==, "2025-01-01T00:00:00Z");
    g_assert_cmpfloat_with_epsilon(run->wall_s, 1.25, 1e-12);
    g_autoptr(GPtrArray) params = res_reader_params(r, run->id, &error);
    g_assert_cmpuint(params->len, ==, 2);
    g_assert_cmpstr(((ResParam *)params->pdata[1])->key, ==, "x");
    g_assert_cmpstr(((ResParam *)params->pdata[1])->value, ==, i == 0 ? "1" : "2");
    double v = 0;
    g_assert_true(res_reader_scalar(r, run->id, "m.seed", &v, &error));
    g_assert_true(memcmp(&v, &(double){(double)seed / 3}, sizeof v) == 0);
    g_assert_true(res_reader_scalar(r, run->id, "m.inf", &v, &error));
    g_assert_true(isinf(v));
    g_autoptr(GArray) pts = res_reader_series(r, run->id, "s", &error);
    g_assert_cmpuint(pts->len, ==, 5);
    for (guint k = 0; k < 5; k++) {
      double want = seed * 1.0 + k / 7.0;
      g_assert_true(memcmp(&g_array_index(pts, ResPoint, k).value, &want, sizeof want) == 0);
    }
  }
}

static void
test_refuses_duplicates(Fixture *fx, gconstpointer data)
{
  g_autofree char *a = write_part(fx, "a.db", scenario_a, 11, "1");
  g_autofree char *b = write_part(fx, "b.db", scenario_a, 11, "1");
  g_autofree char *c = write_part(fx, "c.db", scenario_a, 11, "2");
  g_autofree char *out = g_build_filename(fx->dir, "out.db", NULL);
  g_autoptr(GError) error = NULL;
  const char *dup[] = {a, c, b};
  g_assert_false(merge_files(dup, 3, NULL, out, NULL, &error));
  g_assert_error(error, MERGE_ERROR, MERGE_ERROR_DUPLICATE);
  g_assert_nonnull(strstr(error->message, "b.db (run 1) duplicates"));
  g_assert_nonnull(strstr(error->message, "a.db (run 1)"));
  g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
  g_clear_error(&error);

  /* The same seed with another parameter value is a different run. */
  const char *ok[] = {a, c};
  g_assert_true(merge_files(ok, 2, NULL, out, NULL, &error));
  g_assert_no_error(error);
  /* Merging the merged file with one of its parts duplicates; out is unchanged. */
  g_autofree char *before = NULL;
  gsize before_len = 0;
  g_assert_true(g_file_get_contents(out, &before, &before_len, NULL));
  const char *again[] = {out, a};
  g_assert_false(merge_files(again, 2, NULL, out, NULL, &error));
  g_assert_error(error, MERGE_ERROR, MERGE_ERROR_DUPLICATE);
  g_autofree char *after = NULL;
  gsize after_len = 0;
  g_assert_true(g_file_get_contents(out, &after, &after_len, NULL));
  g_assert_cmpmem(before, before_len, after, after_len);
}

static void
test_refuses_other_scenario(Fixture *fx, gconstpointer data)
{
  g_autofree char *a = write_part(fx, "a.db", scenario_a, 11, "1");
  g_autofree char *b = write_part(fx, "b.db", "name: b\nseed: 1\n", 12, "1");
  g_autofree char *out = g_build_filename(fx->dir, "out.db", NULL);
  g_autoptr(GError) error = NULL;
  const char *parts[] = {a, b};
  g_assert_false(merge_files(parts, 2, NULL, out, NULL, &error));
  g_assert_error(error, MERGE_ERROR, MERGE_ERROR_MISMATCH);
  g_assert_nonnull(strstr(error->message, "b.db (run 1): scenario text differs"));
  g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
}

static void
test_cli(Fixture *fx, gconstpointer data)
{
  g_autofree char *a = write_part(fx, "a.db", scenario_a, 11, "1");
  g_autofree char *b = write_part(fx, "b.db", scenario_a, 12, "1");
  g_autofree char *out = g_build_filename(fx->dir, "out.db", NULL);
  g_autofree char *junk = g_build_filename(fx->dir, "junk.db", NULL);
  g_assert_true(g_file_set_contents(junk, "name: not a database\n", -1, NULL));
  g_autofree char *o = NULL, *e = NULL;

  g_assert_cmpint(tu_run_m2msim(&o, &e, "merge", a, b, "-o", out, NULL), ==, 0);
  g_assert_nonnull(strstr(o, "2 runs from 2 databases"));
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);

  g_assert_cmpint(tu_run_m2msim(&o, &e, "merge", a, b, NULL), ==, 2);
  g_assert_cmpstr(e, ==, "m2msim merge: missing -o DB (the merged database to write)\n");
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);

  g_assert_cmpint(tu_run_m2msim(&o, &e, "merge", a, junk, "-o", out, NULL), ==, 2);
  g_assert_nonnull(strstr(e, "not an m2msim results database"));
  g_assert_cmpuint(strchr(e, '\n') - e + 1, ==, strlen(e)); /* one line */
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);

  g_assert_cmpint(tu_run_m2msim(&o, &e, "merge", a, a, "-o", out, NULL), ==, 2);
  g_assert_nonnull(strstr(e, "duplicates"));
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);

  /* -o naming something that is not a results database is refused, file kept. */
  g_assert_cmpint(tu_run_m2msim(&o, &e, "merge", a, "-o", junk, NULL), ==, 2);
  g_autofree char *kept = NULL;
  g_assert_true(g_file_get_contents(junk, &kept, NULL, NULL));
  g_assert_cmpstr(kept, ==, "name: not a database\n");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fx_setup, fn, fx_teardown)
  ADD("/merge/copies-everything", test_copies_everything);
  ADD("/merge/refuses-duplicates", test_refuses_duplicates);
  ADD("/merge/refuses-other-scenario", test_refuses_other_scenario);
  ADD("/merge/cli", test_cli);
  return g_test_run();
}
