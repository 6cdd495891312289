/* The results database: the schema contract of results.md, exact round trips, the
 * temporary-file-and-rename discipline (nothing half-written under the final name, even
 * when the writer is killed with SIGKILL), refusal of foreign and newer files, and the
 * removal of temporary files left by dead writers. */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "m2m/results.h"
#include "testutil.h"

/* A scratch directory per test, removed at the end. */
typedef struct {
  char *dir;
} Fixture;

static void
fx_setup(Fixture *fx, gconstpointer data)
{
  GError *error = NULL;
  fx->dir = g_dir_make_tmp("test-results-XXXXXX", &error);
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

/* Sorted names in dir (including hidden ones). */
static GPtrArray *
list_dir(const char *dir)
{
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  GDir *d = g_dir_open(dir, 0, NULL);
  g_assert_nonnull(d);
  const char *name;
  while ((name = g_dir_read_name(d)) != NULL)
    g_ptr_array_add(names, g_strdup(name));
  g_dir_close(d);
  g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
  return names;
}

static unsigned
count_hidden(const char *dir)
{
  g_autoptr(GPtrArray) names = list_dir(dir);
  unsigned n = 0;
  for (guint i = 0; i < names->len; i++)
    n += ((const char *)names->pdata[i])[0] == '.';
  return n;
}

/* Exact equality of doubles, bit for bit (-Wfloat-equal forbids ==). */
static void
assert_same_double(double a, double b)
{
  if (memcmp(&a, &b, sizeof a) != 0)
    g_error("doubles differ: %.17g != %.17g", a, b);
}

static GBytes *
read_bytes(const char *path)
{
  char *data;
  gsize len;
  GError *error = NULL;
  g_assert_true(g_file_get_contents(path, &data, &len, &error));
  g_assert_no_error(error);
  return g_bytes_new_take(data, len);
}

/* Writes a complete one-run file at path: run `name` with scalar "x" = x. */
static void
write_simple(const char *path, const char *name, double x)
{
  GError *error = NULL;
  g_autoptr(ResWriter) w = res_writer_open(path, &error);
  g_assert_no_error(error);
  int64_t id;
  g_assert_true(res_writer_add_run(w, "scenario: simple\n", name, 7, 0, "2025-01-01T00:00:00Z",
                                   &id, &error));
  g_assert_true(res_writer_scalar(w, id, "x", x, &error));
  g_assert_true(res_writer_series(w, id, "s", 0, x, &error));
  g_assert_true(res_writer_finish_run(w, id, 0.5, "complete", &error));
  g_assert_true(res_writer_commit(w, &error));
  g_assert_no_error(error);
}

/* The only run of the file at path is `name` with scalar x. */
static void
assert_simple(const char *path, const char *name, double x)
{
  GError *error = NULL;
  g_autoptr(ResReader) r = res_reader_open(path, &error);
  g_assert_no_error(error);
  g_autoptr(GPtrArray) runs = res_reader_runs(r, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(runs->len, ==, 1);
  ResRun *run = runs->pdata[0];
  g_assert_cmpstr(run->name, ==, name);
  double v;
  g_assert_true(res_reader_scalar(r, run->id, "x", &v, &error));
  assert_same_double(v, x);
}

/* Column names and declared types of a table, "name type,name type,...". */
static char *
table_columns(sqlite3 *db, const char *table)
{
  g_autofree char *sql = g_strdup_printf("PRAGMA table_info(%s)", table);
  sqlite3_stmt *st;
  g_assert_cmpint(sqlite3_prepare_v2(db, sql, -1, &st, NULL), ==, SQLITE_OK);
  GString *s = g_string_new(NULL);
  while (sqlite3_step(st) == SQLITE_ROW)
    g_string_append_printf(s, "%s%s %s", s->len ? "," : "", sqlite3_column_text(st, 1),
                           sqlite3_column_text(st, 2));
  sqlite3_finalize(st);
  return g_string_free(s, false);
}

static void
exec_sql(const char *path, const char *sql)
{
  sqlite3 *db;
  g_assert_cmpint(sqlite3_open(path, &db), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_exec(db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close(db);
}

/* ---- Tests ------------------------------------------------------------------------ */

/* The tables and columns users' scripts rely on (results.md) exist exactly. */
static void
test_contract(Fixture *fx, gconstpointer data)
{
  g_autofree char *path = g_build_filename(fx->dir, "c.db", NULL);
  write_simple(path, "r", 1);
  sqlite3 *db;
  g_assert_cmpint(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  static const char *const want[][2] = {
    {"run", "id INTEGER,scenario TEXT,name TEXT,seed INTEGER,replication INTEGER,started TEXT,"
            "wall_s REAL,status TEXT,version TEXT,git_commit TEXT,command TEXT,host TEXT"},
    {"param", "run_id INTEGER,key TEXT,value TEXT"},
    {"scalar", "run_id INTEGER,name TEXT,value REAL"},
    {"series", "run_id INTEGER,name TEXT,t REAL,value REAL"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
    g_autofree char *cols = table_columns(db, want[i][0]);
    g_assert_cmpstr(cols, ==, want[i][1]);
  }
  sqlite3_stmt *st;
  g_assert_cmpint(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), ==, SQLITE_OK);
  g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
  g_assert_cmpint(sqlite3_column_int(st, 0), ==, RES_SCHEMA_VERSION);
  sqlite3_finalize(st);
  g_assert_cmpint(sqlite3_prepare_v2(db, "PRAGMA application_id", -1, &st, NULL), ==,
                  SQLITE_OK);
  g_assert_cmpint(sqlite3_step(st), ==, SQLITE_ROW);
  g_assert_cmpint(sqlite3_column_int(st, 0), ==, RES_APPLICATION_ID);
  sqlite3_finalize(st);
  /* a series is looked up by (run_id, name) through an index */
  g_assert_cmpint(sqlite3_prepare_v2(db,
                                     "EXPLAIN QUERY PLAN SELECT t FROM series WHERE run_id = 1 "
                                     "AND name = 's' ORDER BY t",
                                     -1, &st, NULL),
                  ==, SQLITE_OK);
  g_autoptr(GString) plan = g_string_new(NULL);
  while (sqlite3_step(st) == SQLITE_ROW)
    g_string_append_printf(plan, "%s\n", sqlite3_column_text(st, 3));
  sqlite3_finalize(st);
  g_assert_nonnull(strstr(plan->str, "INDEX series_run_name"));
  g_assert_null(strstr(plan->str, "TEMP B-TREE"));
  sqlite3_close(db);
}

static void
test_round_trip(Fixture *fx, gconstpointer data)
{
  g_autofree char *path = g_build_filename(fx->dir, "rt.db", NULL);
  static const char scenario[] = "name: quickstart\n"
                                 "devices: {count: 1000}  # ünïcode, 'quotes', \"dq\"\n"
                                 "\n\ttabs and a trailing newline\n";
  static const double values[] = {0.0, 1.0 / 3.0, -2.5, 1e-300, 1e300, 4.9e-324, 123456789.125,
                                  HUGE_VAL, -HUGE_VAL};
  GError *error = NULL;
  int64_t id;
  {
    g_autoptr(ResWriter) w = res_writer_open(path, &error);
    g_assert_no_error(error);
    g_assert_nonnull(res_writer_temp_path(w));
    g_assert_true(res_writer_add_run(w, scenario, "quickstart", (uint64_t)INT64_MAX, 3,
                                     "2025-06-01T12:34:56Z", &id, &error));
    g_assert_no_error(error);
    g_assert_true(res_writer_param(w, id, "devices.count", "1000", &error));
    g_assert_true(res_writer_param(w, id, "rs.av.servers", "4", &error));
    g_assert_true(res_writer_param(w, id, "devices.count", "2000", &error)); /* order kept */
    for (size_t i = 0; i < G_N_ELEMENTS(values); i++) {
      g_autofree char *name = g_strdup_printf("v%zu", i);
      g_assert_true(res_writer_scalar(w, id, name, values[i], &error));
    }
    /* written out of time order: the reader sorts by t */
    for (int k = 99; k >= 0; k--)
      g_assert_true(res_writer_series(w, id, "rs.av.queue", k * 0.5, k * 1.25 + 1.0 / 7, &error));
    g_assert_true(res_writer_series(w, id, "devices.provisioned", 0, 0, &error));
    g_assert_true(res_writer_finish_run(w, id, 12.75, "complete", &error));
    g_assert_true(res_writer_commit(w, &error));
    g_assert_no_error(error);
    g_assert_null(res_writer_temp_path(w));
  }

  g_autoptr(ResReader) r = res_reader_open(path, &error);
  g_assert_no_error(error);
  g_assert_cmpint(res_reader_schema_version(r), ==, RES_SCHEMA_VERSION);
  g_autoptr(GPtrArray) runs = res_reader_runs(r, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(runs->len, ==, 1);
  ResRun *run = runs->pdata[0];
  g_assert_cmpint(run->id, ==, id);
  g_assert_cmpstr(run->scenario, ==, scenario);
  g_assert_cmpstr(run->name, ==, "quickstart");
  g_assert_cmpint(run->seed, ==, INT64_MAX);
  g_assert_cmpint(run->replication, ==, 3);
  g_assert_cmpstr(run->started, ==, "2025-06-01T12:34:56Z");
  assert_same_double(run->wall_s, 12.75);
  g_assert_cmpstr(run->status, ==, "complete");

  g_autoptr(GPtrArray) params = res_reader_params(r, id, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(params->len, ==, 3);
  static const char *const pk[] = {"devices.count", "rs.av.servers", "devices.count"};
  static const char *const pv[] = {"1000", "4", "2000"};
  for (guint i = 0; i < 3; i++) {
    ResParam *p = params->pdata[i];
    g_assert_cmpstr(p->key, ==, pk[i]);
    g_assert_cmpstr(p->value, ==, pv[i]);
  }

  g_autoptr(GPtrArray) scalars = res_reader_scalars(r, id, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(scalars->len, ==, G_N_ELEMENTS(values));
  for (size_t i = 0; i < G_N_ELEMENTS(values); i++) {
    g_autofree char *name = g_strdup_printf("v%zu", i);
    ResScalar *s = scalars->pdata[i]; /* sorted by name: v0..v8 */
    g_assert_cmpstr(s->name, ==, name);
    assert_same_double(s->value, values[i]);
    double v;
    g_assert_true(res_reader_scalar(r, id, name, &v, &error));
    assert_same_double(v, values[i]);
  }
  double v = 42;
  g_assert_false(res_reader_scalar(r, id, "no.such", &v, &error));
  g_assert_error(error, RES_ERROR, RES_ERROR_NOT_FOUND);
  g_clear_error(&error);

  g_auto(GStrv) names = res_reader_series_names(r, id, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(g_strv_length(names), ==, 2);
  g_assert_cmpstr(names[0], ==, "devices.provisioned");
  g_assert_cmpstr(names[1], ==, "rs.av.queue");
  g_autoptr(GArray) q = res_reader_series(r, id, "rs.av.queue", &error);
  g_assert_no_error(error);
  g_assert_cmpuint(q->len, ==, 100);
  for (guint k = 0; k < q->len; k++) {
    ResPoint *p = &g_array_index(q, ResPoint, k);
    assert_same_double(p->t_s, k * 0.5);
    assert_same_double(p->value, k * 1.25 + 1.0 / 7);
  }
  g_autoptr(GArray) none = res_reader_series(r, id, "no.such", &error);
  g_assert_no_error(error);
  g_assert_cmpuint(none->len, ==, 0);

  g_autofree char *now = res_iso8601_now();
  g_assert_true(g_regex_match_simple("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$",
                                     now, 0, 0));
}

static void
test_two_runs(Fixture *fx, gconstpointer data)
{
  g_autofree char *path = g_build_filename(fx->dir, "two.db", NULL);
  GError *error = NULL;
  int64_t a, b;
  {
    g_autoptr(ResWriter) w = res_writer_open(path, &error);
    g_assert_no_error(error);
    g_assert_true(res_writer_add_run(w, "s", "a", 1, 0, NULL, &a, &error));
    g_assert_true(res_writer_add_run(w, "s", "b", 2, 1, NULL, &b, &error));
    g_assert_cmpint(a, !=, b);
    g_assert_true(res_writer_scalar(w, a, "x", 1, &error));
    g_assert_true(res_writer_scalar(w, b, "x", 2, &error));
    g_assert_true(res_writer_series(w, a, "s", 0, 10, &error));
    g_assert_true(res_writer_series(w, b, "s", 0, 20, &error));
    g_assert_true(res_writer_series(w, b, "s", 1, 21, &error));
    g_assert_true(res_writer_finish_run(w, a, 1, "complete", &error));
    /* b never finished: it says so */
    g_assert_true(res_writer_commit(w, &error));
    g_assert_no_error(error);
  }
  g_autoptr(ResReader) r = res_reader_open(path, &error);
  g_assert_no_error(error);
  g_autoptr(GPtrArray) runs = res_reader_runs(r, &error);
  g_assert_cmpuint(runs->len, ==, 2);
  ResRun *ra = runs->pdata[0], *rb = runs->pdata[1];
  g_assert_cmpstr(ra->name, ==, "a");
  g_assert_cmpstr(rb->name, ==, "b");
  g_assert_cmpint(rb->seed, ==, 2);
  g_assert_cmpint(rb->replication, ==, 1);
  g_assert_null(rb->started);
  g_assert_cmpstr(rb->status, ==, "unfinished");
  g_assert_true(isnan(rb->wall_s));
  double x;
  g_assert_true(res_reader_scalar(r, a, "x", &x, &error));
  assert_same_double(x, 1);
  g_assert_true(res_reader_scalar(r, b, "x", &x, &error));
  assert_same_double(x, 2);
  g_autoptr(GArray) sa = res_reader_series(r, a, "s", &error);
  g_autoptr(GArray) sb = res_reader_series(r, b, "s", &error);
  g_assert_cmpuint(sa->len, ==, 1);
  g_assert_cmpuint(sb->len, ==, 2);
  assert_same_double(g_array_index(sb, ResPoint, 1).value, 21);
}

/* No temporary file is left after commit, nor after abort; abort keeps the old file. */
static void
test_temp_files(Fixture *fx, gconstpointer data)
{
  g_autofree char *path = g_build_filename(fx->dir, "t.db", NULL);
  GError *error = NULL;
  {
    g_autoptr(ResWriter) w = res_writer_open(path, &error);
    g_assert_no_error(error);
    const char *tmp = res_writer_temp_path(w);
    g_assert_true(g_file_test(tmp, G_FILE_TEST_IS_REGULAR));
    g_autofree char *base = g_path_get_basename(tmp);
    g_assert_true(g_str_has_prefix(base, ".t.db.tmp-")); /* hidden */
    g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS)); /* nothing visible yet */
    int64_t id;
    g_assert_true(res_writer_add_run(w, "s", "first", 1, 0, NULL, &id, &error));
    g_assert_true(res_writer_commit(w, &error));
    g_assert_no_error(error);
  }
  g_autoptr(GPtrArray) names = list_dir(fx->dir);
  g_assert_cmpuint(names->len, ==, 1);
  g_assert_cmpstr(names->pdata[0], ==, "t.db");

  write_simple(path, "old", 1.5);
  g_autoptr(GBytes) before = read_bytes(path);
  {
    g_autoptr(ResWriter) w = res_writer_open(path, &error);
    g_assert_no_error(error);
    int64_t id;
    g_assert_true(res_writer_add_run(w, "s", "new", 2, 0, NULL, &id, &error));
    g_assert_true(res_writer_scalar(w, id, "x", 99, &error));
    res_writer_abort(w);
    res_writer_abort(w); /* twice is fine */
    g_assert_null(res_writer_temp_path(w));
    g_assert_false(res_writer_add_run(w, "s", "late", 2, 0, NULL, &id, &error));
    g_assert_error(error, RES_ERROR, RES_ERROR_FAILED);
    g_clear_error(&error);
  }
  {
    /* freeing without commit is an abort too */
    g_autoptr(ResWriter) w = res_writer_open(path, &error);
    int64_t id;
    g_assert_true(res_writer_add_run(w, "s", "newer", 3, 0, NULL, &id, &error));
  }
  g_autoptr(GBytes) after = read_bytes(path);
  g_assert_true(g_bytes_equal(before, after));
  assert_simple(path, "old", 1.5);
  g_autoptr(GPtrArray) names2 = list_dir(fx->dir);
  g_assert_cmpuint(names2->len, ==, 1);
}

/* Writing through a symbolic link replaces the target and keeps the link. */
static void
test_symlink(Fixture *fx, gconstpointer data)
{
  g_autofree char *sub = g_build_filename(fx->dir, "data", NULL);
  g_assert_cmpint(g_mkdir(sub, 0755), ==, 0);
  g_autofree char *target = g_build_filename(sub, "run7.db", NULL);
  g_autofree char *link = g_build_filename(fx->dir, "latest.db", NULL);
  write_simple(target, "old", 1);
  g_assert_cmpint(symlink(target, link), ==, 0);
  write_simple(link, "new", 2);
  struct stat st;
  g_assert_cmpint(lstat(link, &st), ==, 0);
  g_assert_true(S_ISLNK(st.st_mode));
  assert_simple(target, "new", 2);
  g_assert_cmpuint(count_hidden(sub), ==, 0);
  g_assert_cmpint(g_unlink(target), ==, 0); /* now dangling */
  GError *error = NULL;
  g_autoptr(ResWriter) w = res_writer_open(link, &error);
  g_assert_null(w);
  g_assert_error(error, RES_ERROR, RES_ERROR_PATH);
  g_clear_error(&error);
  g_rmdir(sub);
}

/* A checkpoint commits inside the temporary file; nothing shows at the final name. */
static void
test_checkpoint(Fixture *fx, gconstpointer data)
{
  g_autofree char *path = g_build_filename(fx->dir, "cp.db", NULL);
  write_simple(path, "old", 2);
  g_autoptr(GBytes) before = read_bytes(path);
  GError *error = NULL;
  g_autoptr(ResWriter) w = res_writer_open(path, &error);
  g_assert_no_error(error);
  int64_t id;
  g_assert_true(res_writer_add_run(w, "s", "long", 1, 0, NULL, &id, &error));
  for (int chunk = 0; chunk < 5; chunk++) {
    for (int k = 0; k < 1000; k++)
      g_assert_true(res_writer_series(w, id, "q", chunk * 1000 + k, k, &error));
    g_assert_true(res_writer_checkpoint(w, &error));
    g_assert_no_error(error);
    g_autoptr(GBytes) now = read_bytes(path);
    g_assert_true(g_bytes_equal(before, now));
  }
  g_assert_true(res_writer_finish_run(w, id, 3, "complete", &error));
  g_assert_true(res_writer_commit(w, &error));
  g_assert_no_error(error);
  g_autoptr(ResReader) r = res_reader_open(path, &error);
  g_assert_no_error(error);
  g_autoptr(GArray) q = res_reader_series(r, id, "q", &error);
  g_assert_cmpuint(q->len, ==, 5000);
  assert_same_double(g_array_index(q, ResPoint, 4999).t_s, 4999);
  g_autoptr(GPtrArray) runs = res_reader_runs(r, &error);
  g_assert_cmpuint(runs->len, ==, 1); /* the old file was replaced, not appended to */
}

/* Appending runs to an existing file through a copy. */
static void
test_open_copy(Fixture *fx, gconstpointer data)
{
  g_autofree char *path = g_build_filename(fx->dir, "sweep.db", NULL);
  GError *error = NULL;
  g_autoptr(ResWriter) none = res_writer_open_copy(path, &error);
  g_assert_null(none);
  g_assert_error(error, RES_ERROR, RES_ERROR_PATH);
  g_clear_error(&error);

  write_simple(path, "first", 1);
  g_assert_cmpint(g_chmod(path, 0640), ==, 0);
  g_autoptr(GBytes) before = read_bytes(path);
  int64_t id;
  {
    g_autoptr(ResWriter) w = res_writer_open_copy(path, &error);
    g_assert_no_error(error);
    g_assert_true(res_writer_add_run(w, "s", "second", 2, 1, NULL, &id, &error));
    g_assert_true(res_writer_scalar(w, id, "x", 2, &error));
    g_autoptr(GBytes) mid = read_bytes(path);
    g_assert_true(g_bytes_equal(before, mid));
    g_assert_true(res_writer_commit(w, &error));
    g_assert_no_error(error);
  }
  struct stat st;
  g_assert_cmpint(g_stat(path, &st), ==, 0);
  g_assert_cmpint(st.st_mode & 0777, ==, 0640); /* the replaced file's mode is kept */
  g_autoptr(ResReader) r = res_reader_open(path, &error);
  g_assert_no_error(error);
  g_autoptr(GPtrArray) runs = res_reader_runs(r, &error);
  g_assert_cmpuint(runs->len, ==, 2);
  g_assert_cmpstr(((ResRun *)runs->pdata[0])->name, ==, "first");
  g_assert_cmpstr(((ResRun *)runs->pdata[1])->name, ==, "second");
  g_assert_cmpint(((ResRun *)runs->pdata[1])->id, ==, id);
  g_assert_cmpint(id, >, ((ResRun *)runs->pdata[0])->id);
  double x;
  g_assert_true(res_reader_scalar(r, ((ResRun *)runs->pdata[0])->id, "x", &x, &error));
  assert_same_double(x, 1);
  g_autoptr(GArray) s = res_reader_series(r, ((ResRun *)runs->pdata[0])->id, "s", &error);
  g_assert_cmpuint(s->len, ==, 1);
}

/* Provenance and meta round-trip; a version 1 file (no provenance columns) reads with
 * none, and a copy of it is migrated to the current version, its runs kept. */
static void
test_provenance_and_v1(Fixture *fx, gconstpointer data)
{
  g_autofree char *path = g_build_filename(fx->dir, "p.db", NULL);
  GError *error = NULL;
  {
    g_autoptr(ResWriter) w = res_writer_open(path, &error);
    int64_t id;
    g_assert_true(res_writer_add_run(w, "s", "a", 1, 0, "2025-01-01T00:00:00Z", &id, &error));
    ResProvenance p = {"9.9", "abc123-dirty", "m2msim run 'x y.yaml'", "node7"};
    g_assert_true(res_writer_provenance(w, id, &p, &error));
    g_assert_true(res_writer_meta(w, "solve.answer", "4", &error));
    g_assert_true(res_writer_meta(w, "solve.answer", "5", &error)); /* last one wins */
    g_assert_true(res_writer_finish_run(w, id, 1, "complete", &error));
    g_assert_true(res_writer_commit(w, &error));
  }
  {
    g_autoptr(ResReader) r = res_reader_open(path, &error);
    g_autoptr(GPtrArray) runs = res_reader_runs(r, &error);
    const ResRun *run = runs->pdata[0];
    g_assert_cmpstr(run->prov.version, ==, "9.9");
    g_assert_cmpstr(run->prov.git_commit, ==, "abc123-dirty");
    g_assert_cmpstr(run->prov.command, ==, "m2msim run 'x y.yaml'");
    g_assert_cmpstr(run->prov.host, ==, "node7");
    g_autofree char *answer = res_reader_meta(r, "solve.answer");
    g_assert_cmpstr(answer, ==, "5");
    g_assert_null(res_reader_meta(r, "no.such.key"));
  }
  /* Made into a version 1 file as an older m2msim wrote it. */
  g_autofree char *old = g_build_filename(fx->dir, "v1.db", NULL);
  write_simple(old, "old", 3);
  exec_sql(old, "CREATE TABLE r2 (id INTEGER PRIMARY KEY, scenario TEXT, name TEXT, seed INTEGER,"
                " replication INTEGER, started TEXT, wall_s REAL, status TEXT);"
                " INSERT INTO r2 SELECT id, scenario, name, seed, replication, started, wall_s,"
                " status FROM run; DROP TABLE run; ALTER TABLE r2 RENAME TO run;"
                " PRAGMA user_version = 1");
  {
    g_autoptr(ResReader) r = res_reader_open(old, &error);
    g_assert_no_error(error);
    g_assert_cmpint(res_reader_schema_version(r), ==, 1);
    g_autoptr(GPtrArray) runs = res_reader_runs(r, &error);
    g_assert_cmpuint(runs->len, ==, 1);
    g_assert_null(((const ResRun *)runs->pdata[0])->prov.host);
  }
  {
    g_autoptr(ResWriter) w = res_writer_open_copy(old, &error);
    g_assert_no_error(error);
    int64_t id;
    g_assert_true(res_writer_add_run(w, "s", "new", 2, 0, NULL, &id, &error));
    ResProvenance p = {"1", NULL, "m2msim", "h"};
    g_assert_true(res_writer_provenance(w, id, &p, &error));
    g_assert_true(res_writer_commit(w, &error));
  }
  g_autoptr(ResReader) r = res_reader_open(old, &error);
  g_assert_cmpint(res_reader_schema_version(r), ==, RES_SCHEMA_VERSION);
  g_autoptr(GPtrArray) runs = res_reader_runs(r, &error);
  g_assert_cmpuint(runs->len, ==, 2);
  g_assert_cmpstr(((const ResRun *)runs->pdata[0])->name, ==, "old");
  g_assert_null(((const ResRun *)runs->pdata[0])->prov.host);
  g_assert_cmpstr(((const ResRun *)runs->pdata[1])->prov.host, ==, "h");
  g_assert_null(((const ResRun *)runs->pdata[1])->prov.git_commit);
}

static void
test_newer_schema(Fixture *fx, gconstpointer data)
{
  g_autofree char *path = g_build_filename(fx->dir, "future.db", NULL);
  write_simple(path, "r", 1);
  exec_sql(path, "PRAGMA user_version = 3");
  GError *error = NULL;
  g_autoptr(ResReader) r = res_reader_open(path, &error);
  g_assert_null(r);
  g_assert_error(error, RES_ERROR, RES_ERROR_NEWER);
  g_assert_nonnull(strstr(error->message, path));
  g_assert_nonnull(strstr(error->message, "newer"));
  g_clear_error(&error);
  g_autoptr(GBytes) before = read_bytes(path);
  g_autoptr(ResWriter) w = res_writer_open_copy(path, &error);
  g_assert_null(w);
  g_assert_error(error, RES_ERROR, RES_ERROR_NEWER);
  g_clear_error(&error);
  g_autoptr(GBytes) after = read_bytes(path);
  g_assert_true(g_bytes_equal(before, after));
  g_assert_cmpuint(count_hidden(fx->dir), ==, 0);
}

/* Junk, foreign SQLite databases and empty files are not results. */
static void
test_foreign_files(Fixture *fx, gconstpointer data)
{
  GError *error = NULL;
  g_autofree char *junk = g_build_filename(fx->dir, "junk.db", NULL);
  static const char text[] = "name: quickstart\nthis is a scenario, not a database\n"
                             "padding padding padding padding padding padding padding\n";
  g_assert_true(g_file_set_contents(junk, text, -1, &error));
  g_autoptr(ResReader) r = res_reader_open(junk, &error);
  g_assert_null(r);
  g_assert_error(error, RES_ERROR, RES_ERROR_NOT_RESULTS);
  g_autofree char *want = g_strdup_printf("%s: not an m2msim results database", junk);
  g_assert_cmpstr(error->message, ==, want);
  g_clear_error(&error);
  /* the writer refuses to replace it, and leaves it alone */
  g_autoptr(ResWriter) w = res_writer_open(junk, &error);
  g_assert_null(w);
  g_assert_error(error, RES_ERROR, RES_ERROR_NOT_RESULTS);
  g_clear_error(&error);
  g_autoptr(ResWriter) wc = res_writer_open_copy(junk, &error);
  g_assert_null(wc);
  g_assert_error(error, RES_ERROR, RES_ERROR_NOT_RESULTS);
  g_clear_error(&error);
  g_autofree char *data2 = NULL;
  g_assert_true(g_file_get_contents(junk, &data2, NULL, NULL));
  g_assert_cmpstr(data2, ==, text);

  g_autofree char *foreign = g_build_filename(fx->dir, "foreign.db", NULL);
  exec_sql(foreign, "CREATE TABLE run (id INTEGER PRIMARY KEY); PRAGMA user_version = 1");
  g_autoptr(ResReader) rf = res_reader_open(foreign, &error);
  g_assert_null(rf);
  g_assert_error(error, RES_ERROR, RES_ERROR_NOT_RESULTS);
  g_clear_error(&error);

  g_autofree char *empty = g_build_filename(fx->dir, "empty.db", NULL);
  g_assert_true(g_file_set_contents(empty, "", 0, &error));
  g_autoptr(ResReader) re = res_reader_open(empty, &error);
  g_assert_null(re);
  g_assert_error(error, RES_ERROR, RES_ERROR_NOT_RESULTS);
  g_clear_error(&error);
  write_simple(empty, "now-full", 3); /* an empty file (touch out.db) may be replaced */
  assert_simple(empty, "now-full", 3);
  g_assert_cmpuint(count_hidden(fx->dir), ==, 0);
}

static void
test_bad_paths(Fixture *fx, gconstpointer data)
{
  GError *error = NULL;
  g_autofree char *nodir = g_build_filename(fx->dir, "no-such-dir", "out.db", NULL);
  g_autofree char *sub = g_build_filename(fx->dir, "sub", NULL);
  g_assert_cmpint(g_mkdir(sub, 0755), ==, 0);
  g_autofree char *slash = g_strconcat(sub, "/", NULL);
  g_autofree char *file = g_build_filename(fx->dir, "file", NULL);
  g_assert_true(g_file_set_contents(file, "x", -1, NULL));
  g_autofree char *under_file = g_build_filename(file, "out.db", NULL);
  const char *bad[] = {nodir, sub, slash, under_file, "", "/dev/null"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(ResWriter) w = res_writer_open(bad[i], &error);
    g_assert_null(w);
    g_assert_error(error, RES_ERROR, RES_ERROR_PATH);
    if (*bad[i])
      g_assert_nonnull(strstr(error->message, bad[i]));
    g_clear_error(&error);
    g_autoptr(ResWriter) wc = res_writer_open_copy(bad[i], &error);
    g_assert_null(wc);
    g_assert_error(error, RES_ERROR, RES_ERROR_PATH);
    g_clear_error(&error);
  }
  g_autoptr(ResReader) r = res_reader_open(nodir, &error);
  g_assert_null(r);
  g_assert_error(error, RES_ERROR, RES_ERROR_PATH);
  g_clear_error(&error);
  g_autoptr(ResReader) rd = res_reader_open(sub, &error);
  g_assert_null(rd);
  g_assert_error(error, RES_ERROR, RES_ERROR_PATH);
  g_clear_error(&error);
  g_assert_cmpuint(count_hidden(fx->dir), ==, 0);
  g_rmdir(sub);
}

/* A refused value fails the writer: commit refuses and the old file stays. */
static void
test_refused_values(Fixture *fx, gconstpointer data)
{
  g_autofree char *path = g_build_filename(fx->dir, "v.db", NULL);
  write_simple(path, "old", 4);
  GError *error = NULL;
  int64_t id;
  {
    g_autoptr(ResWriter) w = res_writer_open(path, &error);
    g_assert_false(res_writer_add_run(w, "s", "big", (uint64_t)INT64_MAX + 1, 0, NULL, &id,
                                      &error));
    g_assert_error(error, RES_ERROR, RES_ERROR_VALUE);
    g_clear_error(&error);
    g_assert_false(res_writer_commit(w, &error));
    g_assert_error(error, RES_ERROR, RES_ERROR_FAILED);
    g_clear_error(&error);
  }
  {
    g_autoptr(ResWriter) w = res_writer_open(path, &error);
    g_assert_true(res_writer_add_run(w, "s", "nan", 1, 0, NULL, &id, &error));
    g_assert_false(res_writer_scalar(w, id, "bad", NAN, &error));
    g_assert_error(error, RES_ERROR, RES_ERROR_VALUE);
    g_clear_error(&error);
    g_assert_false(res_writer_series(w, id, "bad", NAN, 1, &error));
    g_clear_error(&error);
    g_assert_false(res_writer_checkpoint(w, &error));
    g_clear_error(&error);
    g_assert_false(res_writer_commit(w, &error));
    g_assert_error(error, RES_ERROR, RES_ERROR_FAILED);
    g_clear_error(&error);
  }
  {
    g_autoptr(ResWriter) w = res_writer_open(path, &error);
    g_assert_false(res_writer_finish_run(w, 12345, 1, "complete", &error));
    g_assert_error(error, RES_ERROR, RES_ERROR_NOT_FOUND);
    g_clear_error(&error);
    g_assert_false(res_writer_commit(w, &error));
    g_clear_error(&error);
  }
  assert_simple(path, "old", 4);
  g_assert_cmpuint(count_hidden(fx->dir), ==, 0);
}

/* Creates dir/name as an empty file. */
static void
touch(const char *dir, const char *name)
{
  g_autofree char *p = g_build_filename(dir, name, NULL);
  g_assert_true(g_file_set_contents(p, "", 0, NULL));
}

/* A PID that certainly belonged to a process that has exited. */
static pid_t
dead_pid(void)
{
  pid_t pid = fork();
  g_assert_cmpint(pid, >=, 0);
  if (pid == 0)
    _exit(0);
  int status;
  g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
  return pid;
}

static void
test_stale_temps(Fixture *fx, gconstpointer data)
{
  const char *host = g_get_host_name();
  g_autofree char *h = g_strdup(host);
  for (char *p = h; *p; p++) /* as the writer sanitises it */
    if (!g_ascii_isalnum(*p) && *p != '.' && *p != '_' && *p != '-')
      *p = '_';
  pid_t dead = dead_pid();
  g_autofree char *stale1 = g_strdup_printf(".a.db.tmp-%s-%d-AbC123", h, (int)dead);
  g_autofree char *stale2 = g_strdup_printf(".b.tmp-x.db.tmp-%s-%d-zzzzzz", h, (int)dead);
  g_autofree char *live = g_strdup_printf(".a.db.tmp-%s-%d-AbC123", h, (int)getppid());
  g_autofree char *mine = g_strdup_printf(".a.db.tmp-%s-%d-AbC123", h, (int)getpid());
  g_autofree char *other = g_strdup_printf(".a.db.tmp-%s-other-%d-AbC123", h, (int)dead);
  static const char *const keep[] = {".a.db.tmp-otherhost-1-AbC123", "a.db.tmp-x-1-AbC123",
                                     ".hidden", ".x.tmp-", "results.db"};
  touch(fx->dir, stale1);
  touch(fx->dir, stale2);
  touch(fx->dir, live);
  touch(fx->dir, mine);
  touch(fx->dir, other);
  for (size_t i = 0; i < G_N_ELEMENTS(keep); i++)
    touch(fx->dir, keep[i]);
  g_assert_cmpuint(res_remove_stale_temps(fx->dir), ==, 2);
  g_autoptr(GPtrArray) names = list_dir(fx->dir);
  g_assert_cmpuint(names->len, ==, 3 + G_N_ELEMENTS(keep));
  for (guint i = 0; i < names->len; i++) {
    g_assert_cmpstr(names->pdata[i], !=, stale1);
    g_assert_cmpstr(names->pdata[i], !=, stale2);
  }
  /* the writer does the same on open */
  touch(fx->dir, stale1);
  GError *error = NULL;
  g_autofree char *path = g_build_filename(fx->dir, "c.db", NULL);
  g_autoptr(ResWriter) w = res_writer_open(path, &error);
  g_assert_no_error(error);
  g_autofree char *p1 = g_build_filename(fx->dir, stale1, NULL);
  g_assert_false(g_file_test(p1, G_FILE_TEST_EXISTS));
  g_autofree char *p2 = g_build_filename(fx->dir, live, NULL);
  g_assert_true(g_file_test(p2, G_FILE_TEST_EXISTS));
}

/* ---- Kill test -------------------------------------------------------------------- */

#define KILL_ROWS 200000
#define KILL_SERIES 4
#define KILL_TICK 5000                      /* rows between progress reports */
#define KILL_TICKS (KILL_ROWS / KILL_TICK)  /* then one more report before commit */

/* Child side: writes a large run over path (or appended to a copy of it) and commits,
 * writing one byte to progress_fd every KILL_TICK rows and one before the commit, so the
 * parent can place its SIGKILL anywhere in the write however loaded the machine is.
 * Never returns. */
static void G_GNUC_NORETURN
kill_child(const char *path, bool append, int progress_fd)
{
  GError *error = NULL;
  ResWriter *w = append ? res_writer_open_copy(path, &error) : res_writer_open(path, &error);
  int64_t id;
  bool ok = w && res_writer_add_run(w, "big", "new", 9, 0, NULL, &id, &error);
  for (int k = 0; ok && k < KILL_ROWS; k++) {
    static const char *const names[KILL_SERIES] = {"rs.pimsi.in_use", "rs.pimsi.quarantined",
                                                   "rs.av.queue", "devices.provisioned"};
    ok = res_writer_series(w, id, names[k % KILL_SERIES], k / KILL_SERIES, k, &error);
    if (k % KILL_TICK == KILL_TICK - 1 && write(progress_fd, "p", 1) != 1)
      ok = false;
  }
  ok = ok && res_writer_finish_run(w, id, 1, "complete", &error);
  ok = ok && write(progress_fd, "c", 1) == 1 && res_writer_commit(w, &error);
  _exit(ok ? 0 : 1);
}

/* The file at path is the complete new result of kill_child (after the old run if
 * appended). */
static void
assert_complete_new(const char *path, bool append)
{
  GError *error = NULL;
  g_autoptr(ResReader) r = res_reader_open(path, &error);
  g_assert_no_error(error);
  g_autoptr(GPtrArray) runs = res_reader_runs(r, &error);
  g_assert_cmpuint(runs->len, ==, append ? 2 : 1);
  if (append)
    g_assert_cmpstr(((ResRun *)runs->pdata[0])->name, ==, "old");
  ResRun *run = runs->pdata[runs->len - 1];
  g_assert_cmpstr(run->name, ==, "new");
  g_assert_cmpstr(run->status, ==, "complete");
  g_auto(GStrv) names = res_reader_series_names(r, run->id, &error);
  g_assert_cmpuint(g_strv_length(names), ==, KILL_SERIES);
  for (int i = 0; i < KILL_SERIES; i++) {
    g_autoptr(GArray) s = res_reader_series(r, run->id, names[i], &error);
    g_assert_cmpuint(s->len, ==, KILL_ROWS / KILL_SERIES);
  }
}

/* Nothing but the final file and hidden temporaries in the directory. */
static void
assert_no_partial(const char *dir)
{
  g_autoptr(GPtrArray) names = list_dir(dir);
  for (guint i = 0; i < names->len; i++) {
    const char *n = names->pdata[i];
    if (n[0] == '.')
      g_assert_true(g_str_has_prefix(n, ".kill.db.tmp-"));
    else
      g_assert_cmpstr(n, ==, "kill.db");
  }
}

/* Starts kill_child over path, waits until it has reported `ticks` progress bytes (0 ..
 * KILL_TICKS + 1, the last meaning "about to commit"), waits delay_us more and sends
 * SIGKILL. Returns the wait status. */
static int
kill_writer_at(const char *path, bool append, int ticks, gulong delay_us)
{
  int fds[2];
  g_assert_cmpint(pipe(fds), ==, 0);
  pid_t pid = fork();
  g_assert_cmpint(pid, >=, 0);
  if (pid == 0) {
    close(fds[0]);
    kill_child(path, append, fds[1]);
  }
  close(fds[1]);
  char c;
  for (int seen = 0; seen < ticks && read(fds[0], &c, 1) == 1; seen++)
    ;
  g_usleep(delay_us);
  kill(pid, SIGKILL);
  close(fds[0]);
  int status;
  g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
  return status;
}

/* Runs kill_child to completion; returns how long its commit took (us), from its "about
 * to commit" byte to its exit. */
static gint64
full_write(const char *path, bool append)
{
  int fds[2];
  g_assert_cmpint(pipe(fds), ==, 0);
  pid_t pid = fork();
  g_assert_cmpint(pid, >=, 0);
  if (pid == 0) {
    close(fds[0]);
    kill_child(path, append, fds[1]);
  }
  close(fds[1]);
  char c;
  gint64 t_commit = 0;
  while (read(fds[0], &c, 1) == 1)
    if (c == 'c')
      t_commit = g_get_monotonic_time();
  close(fds[0]);
  int status;
  g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
  g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  g_assert_cmpint(t_commit, >, 0);
  return g_get_monotonic_time() - t_commit;
}

static void
test_kill(Fixture *fx, gconstpointer data)
{
  g_autofree char *path = g_build_filename(fx->dir, "kill.db", NULL);
  write_simple(path, "old", 6.25);
  g_autoptr(GBytes) old = read_bytes(path);
  gsize old_len;
  const char *old_data = g_bytes_get_data(old, &old_len);

  /* The writer left alone produces the complete new file (so the kills below are not
   * trivially harmless); it also tells how long a commit takes on this machine now. */
  gint64 commit_us = full_write(path, false);
  assert_complete_new(path, false);
  g_test_message("commit of %d rows: %.3f s", KILL_ROWS, commit_us / 1e6);
  g_assert_true(g_file_set_contents(path, old_data, old_len, NULL));

  unsigned kept = 0, committed = 0;
  for (int i = 0; i < 14; i++) {
    /* anywhere in the write (open, copy, inserts); every fourth one in the commit phase
     * (index build, flush, fsync, rename) */
    bool append = i % 2 == 1; /* every other writer appends through a copy */
    int ticks = i % 4 == 3 ? KILL_TICKS + 1 : g_test_rand_int_range(0, KILL_TICKS + 1);
    gulong delay = ticks == KILL_TICKS + 1
                     ? (gulong)g_test_rand_int_range(0, (gint32)(commit_us * 1.2) + 1)
                     : (gulong)g_test_rand_int_range(0, 3000);
    int status = kill_writer_at(path, append, ticks, delay);
    assert_no_partial(fx->dir);
    g_autoptr(GBytes) now = read_bytes(path);
    if (g_bytes_equal(old, now)) {
      g_assert_true(WIFSIGNALED(status)); /* a writer that got to exit has replaced it */
      kept++;
      assert_simple(path, "old", 6.25);
    } else {
      /* the rename happened before the kill (or the writer finished): the new file must
       * be complete; then the old one is put back for the next round */
      committed++;
      assert_complete_new(path, append);
      g_assert_true(g_file_set_contents(path, old_data, old_len, NULL));
    }
  }
  g_test_message("%u writers killed before their rename, %u after", kept, committed);
  g_assert_cmpuint(kept, >=, 10);

  /* Killed writers left hidden temporaries; the next writer's sweep removes them all. */
  unsigned hidden = count_hidden(fx->dir);
  g_assert_cmpuint(hidden, >, 0);
  g_assert_cmpuint(res_remove_stale_temps(fx->dir), ==, hidden);
  g_assert_cmpuint(count_hidden(fx->dir), ==, 0);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add("/results/" name, Fixture, NULL, fx_setup, fn, fx_teardown)
  ADD("contract", test_contract);
  ADD("round-trip", test_round_trip);
  ADD("two-runs", test_two_runs);
  ADD("temp-files", test_temp_files);
  ADD("symlink", test_symlink);
  ADD("checkpoint", test_checkpoint);
  ADD("open-copy", test_open_copy);
  ADD("newer-schema", test_newer_schema);
  ADD("provenance-and-v1", test_provenance_and_v1);
  ADD("foreign-files", test_foreign_files);
  ADD("bad-paths", test_bad_paths);
  ADD("refused-values", test_refused_values);
  ADD("stale-temps", test_stale_temps);
  ADD("kill", test_kill);
#undef ADD
  return g_test_run();
}
