/* `m2msim export DB [--format csv|jsonl] [--what scalars|series|params] [-o FILE]`: a
 * results database as one tidy table for data frames. scalars: one row per run x scalar
 * (run, seed, replication, the parameters that differ between the runs, name, value);
 * series: one row per run x series x sample (..., name, t, value); params: one row per run
 * x parameter (run, key, value). CSV as RFC 4180 (a header row, fields quoted when they
 * hold a comma, a quote or a line break; a missing value empty), or JSON lines (one object
 * per row; a missing value null). -o writes the file whole or not at all (a temporary
 * file renamed over it); without -o, standard output. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "cli.h"
#include "m2m/results.h"

#define CMD "export"

typedef enum { FMT_CSV, FMT_JSONL } Format;
typedef enum { WHAT_SCALARS, WHAT_SERIES, WHAT_PARAMS } What;

/* The table being written. */
typedef struct {
  Format fmt;
  GString *out;
  bool header_done;
} Table;

static void
csv_field(GString *out, const char *v)
{
  if (v == NULL)
    return;
  if (strpbrk(v, ",\"\r\n") == NULL) {
    g_string_append(out, v);
    return;
  }
  g_string_append_c(out, '"');
  for (const char *p = v; *p; p++) {
    if (*p == '"')
      g_string_append_c(out, '"');
    g_string_append_c(out, *p);
  }
  g_string_append_c(out, '"');
}

/* A row: n columns; numeric[i] says whether value i is written as a JSON number. */
static void
row(Table *t, size_t n, const char *const *names, const char *const *values, const bool *numeric)
{
  if (t->fmt == FMT_CSV) {
    if (!t->header_done) {
      for (size_t i = 0; i < n; i++) {
        if (i)
          g_string_append_c(t->out, ',');
        csv_field(t->out, names[i]);
      }
      g_string_append(t->out, "\r\n");
      t->header_done = true;
    }
    for (size_t i = 0; i < n; i++) {
      if (i)
        g_string_append_c(t->out, ',');
      csv_field(t->out, values[i]);
    }
    g_string_append(t->out, "\r\n");
    return;
  }
  g_string_append_c(t->out, '{');
  for (size_t i = 0; i < n; i++) {
    if (i)
      g_string_append_c(t->out, ',');
    cli_json_string(t->out, names[i]);
    g_string_append_c(t->out, ':');
    if (values[i] == NULL)
      g_string_append(t->out, "null");
    else if (numeric[i])
      g_string_append(t->out, values[i]);
    else
      cli_json_string(t->out, values[i]);
  }
  g_string_append(t->out, "}\n");
}

static char *
num(double v)
{
  return isfinite(v) ? g_strdup_printf("%.17g", v) : NULL;
}

/* g_ptr_array_sort hands the comparator pointers to the elements. */
static gint
cmp_str_ptr(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The parameter keys whose value is not the same in every run (the swept ones), sorted. */
static GPtrArray *
varying_keys(ResReader *r, GPtrArray *runs, GError **error)
{
  g_autoptr(GHashTable) first = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) varies = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < runs->len; i++) {
    g_autoptr(GPtrArray) ps = res_reader_params(r, ((ResRun *)runs->pdata[i])->id, error);
    if (ps == NULL)
      return NULL;
    for (guint j = 0; j < ps->len; j++) {
      const ResParam *p = ps->pdata[j];
      if (strcmp(p->key, "seed") == 0)
        continue; /* a column of its own */
      const char *v = g_hash_table_lookup(first, p->key);
      if (v == NULL && i == 0)
        g_hash_table_insert(first, g_strdup(p->key), g_strdup(p->value));
      else if (v == NULL || strcmp(v, p->value) != 0)
        g_hash_table_add(varies, g_strdup(p->key));
    }
  }
  GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
  GHashTableIter it;
  gpointer k;
  g_hash_table_iter_init(&it, varies);
  while (g_hash_table_iter_next(&it, &k, NULL))
    g_ptr_array_add(keys, g_strdup(k));
  g_ptr_array_sort(keys, cmp_str_ptr);
  return keys;
}

static bool
export_table(ResReader *r, What what, Table *t, GError **error)
{
  g_autoptr(GPtrArray) runs = res_reader_runs(r, error);
  if (runs == NULL)
    return false;
  g_autoptr(GPtrArray) keys = NULL;
  if (what != WHAT_PARAMS) {
    keys = varying_keys(r, runs, error);
    if (keys == NULL)
      return false;
  }
  for (guint i = 0; i < runs->len; i++) {
    const ResRun *run = runs->pdata[i];
    g_autoptr(GPtrArray) ps = res_reader_params(r, run->id, error);
    if (ps == NULL)
      return false;
    if (what == WHAT_PARAMS) {
      for (guint j = 0; j < ps->len; j++) {
        const ResParam *p = ps->pdata[j];
        g_autofree char *id = g_strdup_printf("%" G_GINT64_FORMAT, run->id);
        const char *names[] = {"run", "key", "value"};
        const char *values[] = {id, p->key, p->value};
        const bool numeric[] = {true, false, false};
        row(t, 3, names, values, numeric);
      }
      continue;
    }
    /* run, seed, replication, the varying parameters, then the figure's columns */
    size_t nk = keys->len, base = 3 + nk;
    g_autofree const char **names = g_new0(const char *, base + 3);
    g_autofree const char **values = g_new0(const char *, base + 3);
    g_autofree bool *numeric = g_new0(bool, base + 3);
    g_autofree char *id = g_strdup_printf("%" G_GINT64_FORMAT, run->id);
    g_autofree char *seed = g_strdup_printf("%" G_GINT64_FORMAT, run->seed);
    g_autofree char *rep = g_strdup_printf("%" G_GINT64_FORMAT, run->replication);
    names[0] = "run", values[0] = id, numeric[0] = true;
    names[1] = "seed", values[1] = seed, numeric[1] = true;
    names[2] = "replication", values[2] = rep, numeric[2] = true;
    for (size_t k = 0; k < nk; k++) {
      names[3 + k] = keys->pdata[k];
      for (guint j = 0; j < ps->len; j++)
        if (strcmp(((ResParam *)ps->pdata[j])->key, keys->pdata[k]) == 0)
          values[3 + k] = ((ResParam *)ps->pdata[j])->value;
    }
    if (what == WHAT_SCALARS) {
      g_autoptr(GPtrArray) sc = res_reader_scalars(r, run->id, error);
      if (sc == NULL)
        return false;
      names[base] = "name", names[base + 1] = "value", numeric[base + 1] = true;
      for (guint j = 0; j < sc->len; j++) {
        const ResScalar *x = sc->pdata[j];
        g_autofree char *v = num(x->value);
        values[base] = x->name, values[base + 1] = v;
        row(t, base + 2, names, values, numeric);
      }
    } else {
      g_auto(GStrv) series = res_reader_series_names(r, run->id, error);
      if (series == NULL)
        return false;
      names[base] = "name", names[base + 1] = "t", names[base + 2] = "value";
      numeric[base + 1] = numeric[base + 2] = true;
      for (char **s = series; *s; s++) {
        g_autoptr(GArray) pts = res_reader_series(r, run->id, *s, error);
        if (pts == NULL)
          return false;
        for (guint j = 0; j < pts->len; j++) {
          const ResPoint *pt = &g_array_index(pts, ResPoint, j);
          g_autofree char *tv = num(pt->t_s), *vv = num(pt->value);
          values[base] = *s, values[base + 1] = tv, values[base + 2] = vv;
          row(t, base + 3, names, values, numeric);
        }
      }
    }
  }
  return true;
}

int
cmd_export(int argc, char **argv)
{
  g_autofree char *out = NULL, *format = NULL, *what_s = NULL;
  const GOptionEntry entries[] = {
      {"format", 0, 0, G_OPTION_ARG_STRING, &format, "csv (default) or jsonl", "FORMAT"},
      {"what", 0, 0, G_OPTION_ARG_STRING, &what_s, "scalars (default), series or params", "WHAT"},
      {"output", 'o', 0, G_OPTION_ARG_FILENAME, &out,
       "file to write, whole or not at all (default: standard output)", "FILE"},
      {NULL},
  };
  if (!cli_parse(CMD, "DB",
                 "Writes a results database as one tidy table for a data frame: a row per\n"
                 "run and scalar (or series sample, or parameter), with the run's seed,\n"
                 "replication and the parameters that differ between runs as columns.",
                 entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (argc != 2)
    return cli_usage_error(CMD, argc < 2 ? "no results database given (m2msim export DB)"
                                         : "one results database at a time");
  Format fmt = FMT_CSV;
  if (format != NULL && strcmp(format, "jsonl") == 0)
    fmt = FMT_JSONL;
  else if (format != NULL && strcmp(format, "csv") != 0)
    return cli_usage_error(CMD, "--format %s: expected csv or jsonl", format);
  What what = WHAT_SCALARS;
  if (what_s != NULL && strcmp(what_s, "series") == 0)
    what = WHAT_SERIES;
  else if (what_s != NULL && strcmp(what_s, "params") == 0)
    what = WHAT_PARAMS;
  else if (what_s != NULL && strcmp(what_s, "scalars") != 0)
    return cli_usage_error(CMD, "--what %s: expected scalars, series or params", what_s);
  g_autoptr(GError) error = NULL;
  g_autoptr(ResReader) r = res_reader_open(argv[1], &error);
  if (r == NULL)
    return cli_usage_error(CMD, "%s", error->message);
  Table t = {fmt, g_string_new(NULL), false};
  bool ok = export_table(r, what, &t, &error);
  if (!ok) {
    g_string_free(t.out, TRUE);
    return cli_usage_error(CMD, "%s: %s", argv[1], error->message);
  }
  if (out == NULL) {
    fwrite(t.out->str, 1, t.out->len, stdout);
    g_string_free(t.out, TRUE);
    return CLI_EXIT_OK;
  }
  /* g_file_set_contents writes a temporary file and renames it over `out`. */
  ok = g_file_set_contents(out, t.out->str, (gssize)t.out->len, &error);
  g_string_free(t.out, TRUE);
  if (!ok)
    return cli_usage_error(CMD, "-o %s", error->message);
  return CLI_EXIT_OK;
}
