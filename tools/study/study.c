/* Studies: load a results database's runs, params and scalars into memory (a sweep of a
 * few thousand runs is a few MB), find the varied keys, group runs into points. */
#include "m2m/study.h"

#include <math.h>
#include <string.h>

typedef struct {
  ResRun *run;
  GPtrArray *params;   /* ResParam* */
  GHashTable *scalars; /* name -> double* (owned) */
} StudyRun;

typedef struct {
  GArray *runs; /* size_t indices into Study.runs */
} StudyPoint;

struct Study {
  ResReader *reader;
  GArray *runs;      /* StudyRun */
  GPtrArray *varied; /* char*, NULL-terminated */
  GPtrArray *names;  /* char*, NULL-terminated */
  GArray *points;    /* StudyPoint */
};

static void
run_clear(gpointer p)
{
  StudyRun *r = p;
  res_run_free(r->run);
  g_ptr_array_unref(r->params);
  g_hash_table_unref(r->scalars);
}

static void
point_clear(gpointer p)
{
  g_array_unref(((StudyPoint *)p)->runs);
}

void
study_free(Study *s)
{
  if (s == NULL)
    return;
  res_reader_free(s->reader);
  if (s->runs)
    g_array_unref(s->runs);
  if (s->varied)
    g_ptr_array_unref(s->varied);
  if (s->names)
    g_ptr_array_unref(s->names);
  if (s->points)
    g_array_unref(s->points);
  g_free(s);
}

const char *
study_param(const Study *s, size_t run, const char *key)
{
  const StudyRun *r = &g_array_index(s->runs, StudyRun, run);
  for (guint i = 0; i < r->params->len; i++) {
    const ResParam *p = r->params->pdata[i];
    if (strcmp(p->key, key) == 0)
      return p->value ? p->value : "";
  }
  return NULL;
}

static void
find_varied(Study *s)
{
  s->varied = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GHashTable) keys = g_hash_table_new(g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) order = g_ptr_array_new();
  for (guint i = 0; i < s->runs->len; i++) {
    const StudyRun *r = &g_array_index(s->runs, StudyRun, i);
    for (guint k = 0; k < r->params->len; k++) {
      const char *key = ((const ResParam *)r->params->pdata[k])->key;
      if (strcmp(key, "seed") != 0 && g_hash_table_add(keys, (gpointer)key))
        g_ptr_array_add(order, (gpointer)key);
    }
  }
  for (guint k = 0; k < order->len; k++) {
    const char *key = order->pdata[k];
    const char *first = study_param(s, 0, key);
    for (guint i = 1; i < s->runs->len; i++)
      if (g_strcmp0(first, study_param(s, i, key)) != 0) {
        g_ptr_array_add(s->varied, g_strdup(key));
        break;
      }
  }
  g_ptr_array_add(s->varied, NULL);
}

static void
group_points(Study *s)
{
  s->points = g_array_new(FALSE, TRUE, sizeof(StudyPoint));
  g_array_set_clear_func(s->points, point_clear);
  g_autoptr(GHashTable) index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < s->runs->len; i++) {
    GString *k = g_string_new(NULL);
    for (guint v = 0; v + 1 < s->varied->len; v++) {
      const char *val = study_param(s, i, s->varied->pdata[v]);
      g_string_append_printf(k, "%c%s\x1e", val ? '=' : '-', val ? val : "");
    }
    char *key = g_string_free(k, FALSE);
    gpointer found = NULL;
    size_t p;
    if (g_hash_table_lookup_extended(index, key, NULL, &found)) {
      p = GPOINTER_TO_SIZE(found);
      g_free(key);
    } else {
      p = s->points->len;
      StudyPoint pt = {g_array_new(FALSE, FALSE, sizeof(size_t))};
      g_array_append_val(s->points, pt);
      g_hash_table_insert(index, key, GSIZE_TO_POINTER(p));
    }
    size_t run = i;
    g_array_append_val(g_array_index(s->points, StudyPoint, p).runs, run);
  }
}

/* g_ptr_array_sort hands pointers to the elements. */
static int
cmp_names(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

Study *
study_load(const char *path, GError **error)
{
  g_autoptr(Study) s = g_new0(Study, 1);
  s->reader = res_reader_open(path, error);
  if (s->reader == NULL)
    return NULL;
  g_autoptr(GPtrArray) runs = res_reader_runs(s->reader, error);
  if (runs == NULL)
    return NULL;
  if (runs->len == 0) {
    g_set_error(error, RES_ERROR, RES_ERROR_NOT_FOUND, "%s: no run in this results database", path);
    return NULL;
  }
  s->runs = g_array_new(FALSE, TRUE, sizeof(StudyRun));
  g_array_set_clear_func(s->runs, run_clear);
  g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
  s->names = g_ptr_array_new_with_free_func(g_free);
  /* Move every run into s first, so an error below frees each exactly once. */
  g_ptr_array_set_free_func(runs, NULL);
  for (guint i = 0; i < runs->len; i++) {
    StudyRun r = {.run = runs->pdata[i],
                  .params = g_ptr_array_new(),
                  .scalars = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free)};
    g_array_append_val(s->runs, r);
  }
  for (guint i = 0; i < s->runs->len; i++) {
    StudyRun *r = &g_array_index(s->runs, StudyRun, i);
    g_autoptr(GPtrArray) params = res_reader_params(s->reader, r->run->id, error);
    if (params == NULL)
      return NULL;
    g_ptr_array_unref(r->params);
    r->params = g_steal_pointer(&params);
    g_autoptr(GPtrArray) scalars = res_reader_scalars(s->reader, r->run->id, error);
    if (scalars == NULL)
      return NULL;
    for (guint k = 0; k < scalars->len; k++) {
      ResScalar *sc = scalars->pdata[k];
      if (isnan(sc->value))
        continue;
      g_hash_table_insert(r->scalars, g_strdup(sc->name), g_memdup2(&sc->value, sizeof(double)));
      if (!g_hash_table_contains(names, sc->name)) {
        char *n = g_strdup(sc->name);
        g_ptr_array_add(s->names, n);
        g_hash_table_add(names, n);
      }
    }
  }
  g_ptr_array_sort(s->names, cmp_names);
  g_ptr_array_add(s->names, NULL);
  find_varied(s);
  group_points(s);
  return g_steal_pointer(&s);
}

ResReader *
study_reader(Study *s)
{
  return s->reader;
}

size_t
study_n_runs(const Study *s)
{
  return s->runs->len;
}

const ResRun *
study_run(const Study *s, size_t run)
{
  return g_array_index(s->runs, StudyRun, run).run;
}

GPtrArray *
study_params(const Study *s, size_t run)
{
  return g_array_index(s->runs, StudyRun, run).params;
}

bool
study_scalar(const Study *s, size_t run, const char *name, double *value)
{
  const double *v = g_hash_table_lookup(g_array_index(s->runs, StudyRun, run).scalars, name);
  if (v == NULL)
    return false;
  *value = *v;
  return true;
}

const char *const *
study_varied_keys(const Study *s)
{
  return (const char *const *)s->varied->pdata;
}

size_t
study_n_points(const Study *s)
{
  return s->points->len;
}

size_t
study_point_n_runs(const Study *s, size_t point)
{
  return g_array_index(s->points, StudyPoint, point).runs->len;
}

size_t
study_point_run(const Study *s, size_t point, size_t i)
{
  return g_array_index(g_array_index(s->points, StudyPoint, point).runs, size_t, i);
}

const char *
study_point_value(const Study *s, size_t point, size_t k)
{
  return study_param(s, study_point_run(s, point, 0), s->varied->pdata[k]);
}

char *
study_point_label(const Study *s, size_t point)
{
  GString *l = g_string_new(NULL);
  for (guint k = 0; k + 1 < s->varied->len; k++) {
    const char *v = study_point_value(s, point, k);
    g_string_append_printf(l, "%s%s=%s", k ? ", " : "", (const char *)s->varied->pdata[k],
                           v ? v : "(unset)");
  }
  return g_string_free(l, FALSE);
}

const char *const *
study_scalar_names(const Study *s)
{
  return (const char *const *)s->names->pdata;
}

void
study_point_summary(const Study *s, size_t point, const char *name, double level, CiSummary *out)
{
  size_t n = study_point_n_runs(s, point), m = 0;
  g_autofree double *v = g_new(double, n);
  for (size_t i = 0; i < n; i++) {
    double x;
    if (study_scalar(s, study_point_run(s, point, i), name, &x) && isfinite(x))
      v[m++] = x;
  }
  ci_summarize(v, m, level, out);
}

bool
study_scalar_varies(const Study *s, const char *name)
{
  CiSummary first;
  study_point_summary(s, 0, name, 0.95, &first);
  for (size_t p = 1; p < study_n_points(s); p++) {
    CiSummary c;
    study_point_summary(s, p, name, 0.95, &c);
    if ((c.n == 0) != (first.n == 0))
      return true;
    if (c.n > 0 && memcmp(&c.mean, &first.mean, sizeof c.mean) != 0)
      return true;
  }
  return false;
}
