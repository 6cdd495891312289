/* Figures transcripts: every shipped scenario (and variants that take the paths the
 * shipped ones do not: certificates, the SHO's own authentication, outages of a VO and an
 * SHO, timeouts everywhere, wrong credentials, SQN desync, IND bits below 5, front servers,
 * fleets) run with a fixed seed, and every scalar and series compared bit for bit with
 * the transcript checked in under tests/golden/ (wall-clock figures aside).
 *
 * A change to the world's code that must not move figures (a redesign, a speed-up) keeps
 * these transcripts; a change that moves them on purpose regenerates them with
 * M2M_GOLDEN_UPDATE=1 and says why in its commit.
 *
 * A transcript starts with its recipe:
 *   scenario: scenarios/storm.yaml      (relative to the source root)
 *   set: KEY.PATH=VALUE                 (zero or more, as `m2msim run --set`)
 * then one line per figure, by name:
 *   scalar NAME VALUE                   (VALUE as %.17g)
 *   series NAME ROWS HASH               (FNV-1a 64 over every "t value" row, %.17g) */
#include <glib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "m2m/world-results.h"
#include "m2m/scenario.h"
#include "m2m/world.h"

typedef struct {
  char *path;      /* the transcript */
  char *scenario;  /* relative to the source root */
  GPtrArray *sets; /* char*, NULL-terminated */
} Recipe;

static void
recipe_free(gpointer p)
{
  Recipe *r = p;
  g_free(r->path);
  g_free(r->scenario);
  g_ptr_array_unref(r->sets);
  g_free(r);
}

static Recipe *
recipe_read(const char *path)
{
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents(path, &text, NULL, &error))
    g_error("%s: %s", path, error->message);
  Recipe *r = g_new0(Recipe, 1);
  r->path = g_strdup(path);
  r->sets = g_ptr_array_new_with_free_func(g_free);
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  for (char **l = lines; *l; l++) {
    if (g_str_has_prefix(*l, "scenario: "))
      r->scenario = g_strdup(*l + strlen("scenario: "));
    else if (g_str_has_prefix(*l, "set: "))
      g_ptr_array_add(r->sets, g_strdup(*l + strlen("set: ")));
  }
  g_ptr_array_add(r->sets, NULL);
  if (r->scenario == NULL)
    g_error("%s: no 'scenario:' line", path);
  return r;
}

static void
add_scalar(void *data, const char *name, double value)
{
  GPtrArray *lines = data;
  if (strstr(name, "wall") != NULL)
    return; /* wall-clock figures differ between runs */
  g_ptr_array_add(lines, g_strdup_printf("scalar %s %.17g\n", name, value));
}

static int
by_line(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static uint64_t
fnv(uint64_t h, const char *s)
{
  for (; *s; s++) {
    h ^= (uint8_t)*s;
    h *= UINT64_C(0x100000001b3);
  }
  return h;
}

/* Every series of the run in `db`, one line each, in name order. */
static void
add_series(GString *out, const char *db)
{
  sqlite3 *h = NULL;
  g_assert_cmpint(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  sqlite3_stmt *st = NULL;
  g_assert_cmpint(sqlite3_prepare_v2(h, "SELECT name, t, value FROM series ORDER BY name, rowid",
                                     -1, &st, NULL),
                  ==, SQLITE_OK);
  char *name = NULL;
  uint64_t hash = 0, rows = 0;
  for (;;) {
    int rc = sqlite3_step(st);
    const char *n = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 0) : NULL;
    if (name != NULL && (n == NULL || strcmp(n, name) != 0)) {
      g_string_append_printf(out, "series %s %" G_GUINT64_FORMAT " %016" G_GINT64_MODIFIER "x\n",
                             name, rows, hash);
      g_clear_pointer(&name, g_free);
    }
    if (rc != SQLITE_ROW) {
      g_assert_cmpint(rc, ==, SQLITE_DONE);
      break;
    }
    if (name == NULL) {
      name = g_strdup(n);
      hash = UINT64_C(0xcbf29ce484222325);
      rows = 0;
    }
    char row[80];
    g_snprintf(row, sizeof row, "%.17g %.17g\n", sqlite3_column_double(st, 1),
               sqlite3_column_double(st, 2));
    hash = fnv(hash, row);
    rows++;
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
}

/* The transcript of one run of the recipe: its header lines, then the figures. */
static char *
transcript(const Recipe *r)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *scn = g_build_filename(g_getenv("M2M_SRCDIR"), r->scenario, NULL);
  g_autoptr(ScnConfig) cfg = scn_load(scn, (const char *const *)r->sets->pdata, &error);
  g_assert_no_error(error);
  g_autoptr(World) w = world_new(cfg, &error);
  g_assert_no_error(error);
  world_run(w, NULL, NULL);

  GString *out = g_string_new(NULL);
  g_string_append_printf(out, "scenario: %s\n", r->scenario);
  for (guint i = 0; i + 1 < r->sets->len; i++)
    g_string_append_printf(out, "set: %s\n", (const char *)r->sets->pdata[i]);
  /* The figures as a set: by name, whatever order the run lists them in. */
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
  world_foreach_scalar(w, add_scalar, lines);
  g_ptr_array_sort(lines, by_line);
  for (guint i = 0; i < lines->len; i++)
    g_string_append(out, lines->pdata[i]);

  g_autofree char *dir = g_dir_make_tmp("m2m-golden-XXXXXX", &error);
  g_assert_no_error(error);
  g_autofree char *db = g_build_filename(dir, "run.db", NULL);
  ResWriter *wr = res_writer_open(db, &error);
  g_assert_no_error(error);
  g_assert_true(res_write_world(wr, w, "2026-01-01T00:00:00Z", NULL, NULL, &error));
  g_assert_true(res_writer_commit(wr, &error));
  g_assert_no_error(error);
  res_writer_free(wr);
  add_series(out, db);
  g_unlink(db);
  g_rmdir(dir);
  return g_string_free(out, FALSE);
}

static void
test_transcript(gconstpointer data)
{
  const Recipe *r = data;
  g_autofree char *got = transcript(r);
  if (g_strcmp0(g_getenv("M2M_GOLDEN_UPDATE"), "1") == 0) {
    g_autoptr(GError) error = NULL;
    g_assert_true(g_file_set_contents(r->path, got, -1, &error));
    g_test_message("%s: rewritten", r->path);
    return;
  }
  g_autofree char *want = NULL;
  g_assert_true(g_file_get_contents(r->path, &want, NULL, NULL));
  if (strcmp(got, want) == 0)
    return;
  /* Name the first line that differs: which figure moved. */
  g_auto(GStrv) a = g_strsplit(want, "\n", -1);
  g_auto(GStrv) b = g_strsplit(got, "\n", -1);
  size_t i = 0;
  while (a[i] && b[i] && strcmp(a[i], b[i]) == 0)
    i++;
  g_test_message("%s line %zu:\n  expected: %s\n  got:      %s", r->path, i + 1,
                 a[i] ? a[i] : "(end)", b[i] ? b[i] : "(end)");
  g_test_fail();
}

static int
by_name(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_autofree char *dir = g_test_build_filename(G_TEST_DIST, "golden", NULL);
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  g_assert_nonnull(d);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  const char *n;
  while ((n = g_dir_read_name(d)) != NULL)
    if (g_str_has_suffix(n, ".txt"))
      g_ptr_array_add(names, g_strdup(n));
  g_ptr_array_sort(names, by_name);
  g_autoptr(GPtrArray) recipes = g_ptr_array_new_with_free_func(recipe_free);
  for (guint i = 0; i < names->len; i++) {
    const char *name = names->pdata[i];
    g_autofree char *path = g_build_filename(dir, name, NULL);
    Recipe *r = recipe_read(path);
    g_ptr_array_add(recipes, r);
    g_autofree char *base = g_strndup(name, strlen(name) - 4);
    g_autofree char *test = g_strdup_printf("/golden/%s", base);
    g_test_add_data_func(test, r, test_transcript);
  }
  return g_test_run();
}
