/* Merging results databases: read every run of every part with the results reader,
 * check it against what was seen so far (scenario text, identity), and copy it through
 * one results writer, checkpointing after each part so memory stays bounded by the
 * largest run. */
#include "m2m/merge.h"

#include <math.h>
#include <string.h>

#include "m2m/results.h"

G_DEFINE_QUARK(m2m - merge - error - quark, merge_error)

static int
param_cmp(gconstpointer a, gconstpointer b)
{
  const ResParam *pa = *(ResParam *const *)a, *pb = *(ResParam *const *)b;
  int c = g_strcmp0(pa->key, pb->key); /* a damaged file may hold NULL keys */
  return c != 0 ? c : g_strcmp0(pa->value, pb->value);
}

/* The identity of a run: scenario text, seed and the sorted parameters, joined with
 * separators that cannot occur in YAML text (0x1e, 0x1f). */
static char *
run_identity(const ResRun *run, GPtrArray *params)
{
  GString *s = g_string_new(run->scenario ? run->scenario : "");
  g_string_append_printf(s, "\x1e%" G_GINT64_FORMAT, run->seed);
  /* A view without a free function: the elements stay owned by params. */
  g_autoptr(GPtrArray) sorted = g_ptr_array_sized_new(params->len);
  for (guint i = 0; i < params->len; i++)
    g_ptr_array_add(sorted, params->pdata[i]);
  g_ptr_array_sort(sorted, param_cmp);
  for (guint i = 0; i < sorted->len; i++) {
    const ResParam *p = sorted->pdata[i];
    g_string_append_printf(s, "\x1e%s\x1f%s", p->key ? p->key : "", p->value ? p->value : "");
  }
  return g_string_free(s, FALSE);
}

/* Copies one run (already read: run, params) from r into w. */
static bool
copy_run(ResReader *r, const ResRun *run, GPtrArray *params, int64_t replication, ResWriter *w,
         GError **error)
{
  int64_t id = 0;
  if (!res_writer_add_run(w, run->scenario, run->name, (uint64_t)run->seed,
                          replication >= 0 ? replication : run->replication, run->started, &id,
                          error))
    return false;
  if (!res_writer_provenance(w, id, &run->prov, error))
    return false;
  for (guint i = 0; i < params->len; i++) {
    const ResParam *p = params->pdata[i];
    if (!res_writer_param(w, id, p->key, p->value, error))
      return false;
  }
  g_autoptr(GPtrArray) scalars = res_reader_scalars(r, run->id, error);
  if (scalars == NULL)
    return false;
  for (guint i = 0; i < scalars->len; i++) {
    const ResScalar *s = scalars->pdata[i];
    if (!isnan(s->value) && !res_writer_scalar(w, id, s->name, s->value, error))
      return false;
  }
  g_auto(GStrv) names = res_reader_series_names(r, run->id, error);
  if (names == NULL)
    return false;
  for (char **name = names; *name; name++) {
    g_autoptr(GArray) pts = res_reader_series(r, run->id, *name, error);
    if (pts == NULL)
      return false;
    for (guint i = 0; i < pts->len; i++) {
      const ResPoint *pt = &g_array_index(pts, ResPoint, i);
      if (isnan(pt->t_s) || isnan(pt->value))
        continue;
      if (!res_writer_series(w, id, *name, pt->t_s, pt->value, error))
        return false;
    }
  }
  /* A run never finished keeps the writer's "unfinished" status (wall time unknown). */
  if (!isnan(run->wall_s) && run->status != NULL)
    return res_writer_finish_run(w, id, run->wall_s, run->status, error);
  return true;
}

bool
merge_files(const char *const *parts, size_t n, const int64_t *replications, const char *out,
            size_t *n_runs, GError **error)
{
  return merge_files_meta(parts, n, replications, out, NULL, n_runs, error);
}

bool
merge_files_meta(const char *const *parts, size_t n, const int64_t *replications, const char *out,
                 const char *const *meta, size_t *n_runs, GError **error)
{
  if (n_runs)
    *n_runs = 0;
  if (n == 0) {
    g_set_error(error, MERGE_ERROR, MERGE_ERROR_EMPTY, "no results database to merge");
    return false;
  }
  /* Open every part first: a typo in the last name must not cost a long copy. */
  g_autoptr(GPtrArray) readers = g_ptr_array_new_with_free_func((GDestroyNotify)res_reader_free);
  for (size_t i = 0; i < n; i++) {
    GError *e = NULL;
    ResReader *r = res_reader_open(parts[i], &e);
    if (r == NULL) {
      g_propagate_error(error, e);
      return false;
    }
    g_ptr_array_add(readers, r);
  }
  g_autoptr(ResWriter) w = res_writer_open(out, error);
  if (w == NULL)
    return false;
  /* identity -> "FILE (run N)" of its first occurrence */
  g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *ref_scenario = NULL;
  g_autofree char *ref_where = NULL;
  size_t count = 0;
  for (size_t i = 0; i < n; i++) {
    ResReader *r = readers->pdata[i];
    GError *e = NULL;
    g_autoptr(GPtrArray) runs = res_reader_runs(r, &e);
    if (runs == NULL) {
      g_propagate_prefixed_error(error, e, "%s: ", parts[i]);
      return false;
    }
    for (guint j = 0; j < runs->len; j++) {
      const ResRun *run = runs->pdata[j];
      g_autofree char *where = g_strdup_printf("%s (run %" G_GINT64_FORMAT ")", parts[i], run->id);
      const char *scenario = run->scenario ? run->scenario : "";
      if (ref_where == NULL) {
        ref_scenario = g_strdup(scenario);
        ref_where = g_strdup(where);
      } else if (strcmp(scenario, ref_scenario) != 0) {
        g_set_error(error, MERGE_ERROR, MERGE_ERROR_MISMATCH,
                    "%s: scenario text differs from that of %s; merge joins runs of one "
                    "scenario (only --set values and seeds may differ)",
                    where, ref_where);
        return false;
      }
      g_autoptr(GPtrArray) params = res_reader_params(r, run->id, &e);
      if (params == NULL) {
        g_propagate_prefixed_error(error, e, "%s: ", where);
        return false;
      }
      char *id = run_identity(run, params);
      const char *first = g_hash_table_lookup(seen, id);
      if (first != NULL) {
        g_set_error(error, MERGE_ERROR, MERGE_ERROR_DUPLICATE,
                    "%s duplicates %s (same scenario, seed %" G_GINT64_FORMAT
                    " and parameters); each run may be merged once",
                    where, first, run->seed);
        g_free(id);
        return false;
      }
      g_hash_table_insert(seen, id, g_strdup(where));
      if (!copy_run(r, run, params, replications ? replications[i] : -1, w, &e)) {
        g_propagate_prefixed_error(error, e, "%s: ", where);
        return false;
      }
      count++;
    }
    if (!res_writer_checkpoint(w, error))
      return false;
  }
  for (const char *const *m = meta; m && m[0] && m[1]; m += 2)
    if (!res_writer_meta(w, m[0], m[1], error))
      return false;
  /* Readers closed before the rename (out may be one of the parts). */
  g_ptr_array_set_size(readers, 0);
  if (!res_writer_commit(w, error))
    return false;
  if (n_runs)
    *n_runs = count;
  return true;
}
