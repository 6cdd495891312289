/* Fuzz harness: the reading side of results databases (res_reader_*, and merge_files,
 * which is what `m2msim merge` runs on parts that may come from anywhere: another
 * machine, a Slurm job killed mid-copy, a different m2msim version).
 *
 * The input is written to a file (SQLite opens paths) in a private directory under
 * /dev/shm when it exists, then read: every run, its params, scalars and series (the
 * first 16 of each). Then it is merged alone into a new file. Oracles: refusals carry a
 * readable message; a merge either writes a database that reads back with the reported
 * number of runs, or leaves no output at all. */
#include <glib/gstdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz.h"
#include "m2m/merge.h"
#include "m2m/results.h"

const char fuzz_name[] = "results";

static char *dir;

static void
remove_dir(void)
{
  g_rmdir(dir);
}

static void
remove_db(const char *path)
{
  static const char *const suffix[] = {"", "-journal", "-wal", "-shm"};
  for (size_t i = 0; i < G_N_ELEMENTS(suffix); i++) {
    g_autofree char *p = g_strconcat(path, suffix[i], NULL);
    g_unlink(p);
  }
}

static void
read_all(ResReader *r)
{
  g_autoptr(GError) error = NULL;
  g_assert_cmpint(res_reader_schema_version(r), <=, RES_SCHEMA_VERSION);
  g_autoptr(GPtrArray) runs = res_reader_runs(r, &error);
  fuzz_check_error(runs != NULL, error);
  if (runs == NULL)
    return;
  for (guint i = 0; i < runs->len && i < 16; i++) {
    const ResRun *run = runs->pdata[i];
    g_autoptr(GError) e1 = NULL, e2 = NULL, e3 = NULL;
    g_autoptr(GPtrArray) params = res_reader_params(r, run->id, &e1);
    fuzz_check_error(params != NULL, e1);
    g_autoptr(GPtrArray) scalars = res_reader_scalars(r, run->id, &e2);
    fuzz_check_error(scalars != NULL, e2);
    for (guint j = 0; scalars && j < scalars->len && j < 16; j++) {
      const ResScalar *s = scalars->pdata[j];
      double v = 0;
      g_autoptr(GError) e = NULL;
      gboolean ok = res_reader_scalar(r, run->id, s->name, &v, &e);
      /* A damaged index can hide a listed scalar: the refusal then names it, as read. */
      if (ok || s->name == NULL || g_utf8_validate(s->name, -1, NULL))
        fuzz_check_error(ok, e);
    }
    g_auto(GStrv) names = res_reader_series_names(r, run->id, &e3);
    fuzz_check_error(names != NULL, e3);
    for (guint j = 0; names && names[j] && j < 16; j++) {
      g_autoptr(GError) e = NULL;
      g_autoptr(GArray) pts = res_reader_series(r, run->id, names[j], &e);
      fuzz_check_error(pts != NULL, e);
    }
  }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (dir == NULL) {
    const char *base = g_file_test("/dev/shm", G_FILE_TEST_IS_DIR) ? "/dev/shm" : g_get_tmp_dir();
    g_autofree char *tmpl = g_build_filename(base, "m2m-fuzz-results-XXXXXX", NULL);
    dir = g_mkdtemp(g_steal_pointer(&tmpl));
    g_assert_nonnull(dir);
    atexit(remove_dir);
  }
  g_autofree char *in = g_build_filename(dir, "in.db", NULL);
  g_autofree char *out = g_build_filename(dir, "out.db", NULL);
  remove_db(in);
  remove_db(out);
  g_autoptr(GError) error = NULL;
  g_assert_true(g_file_set_contents(in, (const char *)data, (gssize)size, &error));

  g_autoptr(ResReader) r = res_reader_open(in, &error);
  fuzz_check_error(r != NULL, error);
  g_clear_error(&error);
  if (r != NULL)
    read_all(r);
  g_clear_pointer(&r, res_reader_free);

  const char *parts[] = {in};
  size_t n_runs = 0;
  gboolean merged = merge_files(parts, 1, NULL, out, &n_runs, &error);
  fuzz_check_error(merged, error);
  if (merged) {
    g_autoptr(GError) e = NULL;
    g_autoptr(ResReader) back = res_reader_open(out, &e);
    g_assert_no_error(e);
    g_autoptr(GPtrArray) runs = res_reader_runs(back, &e);
    g_assert_no_error(e);
    g_assert_cmpuint(runs->len, ==, n_runs);
  } else {
    g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
  }
  remove_db(in);
  remove_db(out);
  /* No temporary file may be left behind. */
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  const char *left = d ? g_dir_read_name(d) : NULL;
  if (left != NULL)
    g_error("left behind in %s: %s", dir, left);
  return 0;
}
