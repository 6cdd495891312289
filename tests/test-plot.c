/* `m2msim plot`: the figures of a single run and of a sweep (file names, titles with
 * scenario and seed, axis labels with units, the latency CDF's step approximation when
 * the database has no CDF series), PNG output, and the failure modes: gnuplot missing
 * (one line, exit 2, nothing written), a file that is not a results database, an existing
 * output directory whose other files are kept. */
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "study-fixture.h"
#include "testutil.h"

typedef struct {
  char *dir;
} Fixture;

static void
rm_rf(const char *path)
{
  if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
    GDir *d = g_dir_open(path, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d)) != NULL) {
      g_autofree char *p = g_build_filename(path, name, NULL);
      rm_rf(p);
    }
    if (d)
      g_dir_close(d);
    g_rmdir(path);
  } else {
    g_unlink(path);
  }
}

static void
fx_setup(Fixture *fx, gconstpointer data)
{
  fx->dir = g_dir_make_tmp("test-plot-XXXXXX", NULL);
}

static void
fx_teardown(Fixture *fx, gconstpointer data)
{
  rm_rf(fx->dir);
  g_free(fx->dir);
}

static char *
slurp(const char *dir, const char *name)
{
  g_autofree char *p = g_build_filename(dir, name, NULL);
  char *text = NULL;
  if (!g_file_get_contents(p, &text, NULL, NULL))
    g_error("missing figure %s", p);
  return text;
}

static void
assert_has(const char *text, const char *needle)
{
  if (strstr(text, needle) == NULL)
    g_error("'%s' not found in output:\n%.2000s", needle, text);
}

static guint
count_entries(const char *dir)
{
  guint n = 0;
  GDir *d = g_dir_open(dir, 0, NULL);
  while (d && g_dir_read_name(d))
    n++;
  if (d)
    g_dir_close(d);
  return n;
}

static void
test_single_run(Fixture *fx, gconstpointer data)
{
  g_autofree char *db = g_build_filename(fx->dir, "one.db", NULL);
  SfRunSpec spec = {"name: study-one\n", "study-one", false, true};
  sf_write(db, &spec, NULL, 1);
  g_autofree char *o = NULL, *e = NULL;
  g_assert_cmpint(tu_run_m2msim(&o, &e, "plot", db, NULL), ==, 0);
  g_autofree char *out = g_build_filename(fx->dir, "one-plots", NULL);
  g_assert_cmpuint(count_entries(out), ==, 4);
  assert_has(o, "one-plots/run-1-pimsi.svg\n");

  g_autofree char *pimsi = slurp(out, "run-1-pimsi.svg");
  assert_has(pimsi, "<svg");
  assert_has(pimsi, "</svg>");
  assert_has(pimsi, "PIMSI pool occupancy: pool exhausted at t = 1.25 d");
  assert_has(pimsi, "study-one, seed 7");
  assert_has(pimsi, "simulated time (d)");
  assert_has(pimsi, "pool size (5000)");
  assert_has(pimsi, "quarantined");
  g_autofree char *av = slurp(out, "run-1-av.svg");
  assert_has(av, "AV server utilisation (busy fraction)");
  assert_has(av, "mean utilisation over the run");
  g_autofree char *lat = slurp(out, "run-1-latency.svg");
  assert_has(lat, "step approximation from p50/p95/p99/max");
  assert_has(lat, "p95 = 60 s");
  assert_has(lat, "log scale");
  g_autofree char *prov = slurp(out, "run-1-provisioned.svg");
  assert_has(prov, "Devices provisioned over time");

  /* A CDF series is drawn as is; no approximation note. Into an existing directory:
   * the figures are replaced, other files kept. */
  g_autofree char *db2 = g_build_filename(fx->dir, "cdf.db", NULL);
  SfRunSpec spec2 = {"name: study-cdf\n", "study-cdf", true, false};
  sf_write(db2, &spec2, NULL, 1);
  g_autofree char *keep = g_build_filename(out, "notes.txt", NULL);
  g_assert_true(g_file_set_contents(keep, "mine\n", -1, NULL));
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);
  g_assert_cmpint(tu_run_m2msim(&o, &e, "plot", db2, "-o", out, NULL), ==, 0);
  g_autofree char *lat2 = slurp(out, "run-1-latency.svg");
  g_assert_null(strstr(lat2, "step approximation"));
  assert_has(lat2, "fraction provisioned within x");
  g_autofree char *pimsi2 = slurp(out, "run-1-pimsi.svg");
  assert_has(pimsi2, "pool never exhausted");
  g_assert_true(g_file_test(keep, G_FILE_TEST_EXISTS));
  g_assert_cmpuint(count_entries(out), ==, 5);
  g_assert_cmpuint(count_entries(fx->dir), ==, 3); /* no temporary directory left */
}

static void
test_sweep(Fixture *fx, gconstpointer data)
{
  g_autofree char *db = g_build_filename(fx->dir, "sweep.db", NULL);
  SfRunSpec spec = {"name: study-sweep\n", "study-sweep", false, false};
  const char *points[] = {"1000", "2000", "4000", NULL};
  sf_write(db, &spec, points, 3);
  g_autofree char *out = g_build_filename(fx->dir, "figs", NULL);
  g_autofree char *o = NULL, *e = NULL;
  g_assert_cmpint(tu_run_m2msim(&o, &e, "plot", db, "-o", out, NULL), ==, 0);
  g_autofree char *blocked = slurp(out, "sweep-rs.pimsi.blocked.svg");
  assert_has(blocked, "rs.pimsi.blocked against registration_service.pimsi_pool.size");
  assert_has(blocked, "95% confidence interval (Student t) over up to 3 replications");
  /* Only scalars that vary between points: utilisation does not. */
  g_autofree char *util = g_build_filename(out, "sweep-rs.av.utilization.svg", NULL);
  g_assert_false(g_file_test(util, G_FILE_TEST_EXISTS));
  g_autofree char *wall = g_build_filename(out, "sweep-engine.wall_s.svg", NULL);
  g_assert_false(g_file_test(wall, G_FILE_TEST_EXISTS));
  g_autofree char *p2 = slurp(out, "point-002-pimsi.svg");
  assert_has(p2, "study-sweep, registration_service.pimsi_pool.size=2000 (3 runs)");
  assert_has(p2, "seeds 7, 8, 9");
  g_autofree char *p3 = slurp(out, "point-003-latency.svg");
  assert_has(p3, "p95 (mean) = 61 s");
}

static void
test_png(Fixture *fx, gconstpointer data)
{
  g_autofree char *db = g_build_filename(fx->dir, "one.db", NULL);
  SfRunSpec spec = {"name: x\n", "x", false, false};
  sf_write(db, &spec, NULL, 1);
  g_autofree char *out = g_build_filename(fx->dir, "png", NULL);
  g_autofree char *o = NULL, *e = NULL;
  g_assert_cmpint(tu_run_m2msim(&o, &e, "plot", db, "-o", out, "--format", "png", NULL), ==, 0);
  g_autofree char *p = g_build_filename(out, "run-1-av.png", NULL);
  g_autofree char *png = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(p, &png, &len, NULL));
  g_assert_cmpuint(len, >, 1000);
  g_assert_cmpmem(png, 8, "\x89PNG\r\n\x1a\n", 8);
}

static void
test_errors(Fixture *fx, gconstpointer data)
{
  g_autofree char *db = g_build_filename(fx->dir, "one.db", NULL);
  SfRunSpec spec = {"name: x\n", "x", false, false};
  sf_write(db, &spec, NULL, 1);
  g_autofree char *out = g_build_filename(fx->dir, "figs", NULL);
  g_autofree char *o = NULL, *e = NULL;

  /* gnuplot missing: one line naming the package, exit 2, nothing written. */
  g_autofree char *path = g_strdup(g_getenv("PATH"));
  g_setenv("PATH", fx->dir, TRUE);
  int rc = tu_run_m2msim(&o, &e, "plot", db, "-o", out, NULL);
  g_setenv("PATH", path, TRUE);
  g_assert_cmpint(rc, ==, 2);
  g_assert_cmpstr(e, ==,
                  "m2msim plot: gnuplot not found; install it with: apt-get install "
                  "gnuplot-nox\n");
  g_assert_cmpuint(count_entries(fx->dir), ==, 1);

  g_autofree char *junk = g_build_filename(fx->dir, "junk.db", NULL);
  g_assert_true(g_file_set_contents(junk, "hello\n", -1, NULL));
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);
  g_assert_cmpint(tu_run_m2msim(&o, &e, "plot", junk, "-o", out, NULL), ==, 2);
  assert_has(e, "not an m2msim results database");
  g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));

  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);
  g_assert_cmpint(tu_run_m2msim(&o, &e, "plot", db, "--format", "jpeg", NULL), ==, 2);
  assert_has(e, "--format: 'jpeg' is not svg or png");
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);
  g_assert_cmpint(tu_run_m2msim(&o, &e, "plot", NULL), ==, 2);
  assert_has(e, "no results database given");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fx_setup, fn, fx_teardown)
  ADD("/plot/single-run", test_single_run);
  ADD("/plot/sweep", test_sweep);
  ADD("/plot/png", test_png);
  ADD("/plot/errors", test_errors);
  return g_test_run();
}
