/* Scenario loading, the whole path: read the file (refusing directories and anything
 * larger than SCN_MAX_FILE_SIZE), parse it into a node tree (scenario-tree.c), apply the
 * --set overrides to the tree so they meet exactly the checks the file meets, convert it
 * field by field (scenario-parse.c), check across fields (scenario-validate.c), and try
 * every sweep value the same way. All problems are collected and returned together. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "scenario-internal.h"

G_DEFINE_QUARK(scn-error-quark, scn_error)

/* Checks each value of each sweep axis by loading the scenario with it as a --set;
 * a value that would make the scenario invalid is reported at the value. */
static void
scn_check_sweep(const ScnNode *root, const ScnConfig *cfg, ScnDiag *d)
{
  int s = scn_map_find(root, "sweep");
  const ScnNode *sweep = s >= 0 ? root->items->pdata[s + 1] : NULL;
  int v = scn_map_find(sweep, "vary");
  const ScnNode *vary = v >= 0 ? sweep->items->pdata[v + 1] : NULL;
  /* Trials load the scenario without its sweep section (which can be the bulk of it). */
  g_autoptr(ScnNode) base = scn_node_copy(root);
  g_ptr_array_remove_range(base->items, (guint)s, 2);
  for (size_t a = 0; vary && a < cfg->sweep.n_axes; a++) {
    const ScnSweepAxis *ax = &cfg->sweep.axes[a];
    int k = scn_map_find(vary, ax->key);
    const ScnNode *list = vary->items->pdata[k + 1];
    for (size_t i = 0; i < ax->n_values; i++) {
      g_autofree char *set = g_strdup_printf("%s=%s", ax->key, ax->values[i]);
      const char *sets[] = {set, NULL};
      ScnDiag td;
      scn_diag_init(&td, d->file, sets);
      g_autoptr(ScnNode) copy = scn_node_copy(base);
      if (scn_apply_set(copy, set, 0, &td)) {
        ScnConfig tmp = {0};
        ScnClean clean;
        scn_convert(copy, &tmp, &td, &clean);
        scn_validate(copy, &tmp, &td, &clean);
        scn_config_clear_fields(&tmp);
      }
      if (scn_diag_count(&td) > 0) {
        const ScnProblem *p = &g_array_index(td.problems, ScnProblem, 0);
        scn_diag_add(d, list->items->pdata[i], "sweep.vary: value %s of %s would make the "
                     "scenario invalid: %s", ax->values[i], ax->key, p->msg);
      }
      scn_diag_clear(&td);
    }
  }
}

ScnConfig *
scn_load_data(const char *data, size_t len, const char *name, const char *const *sets,
              GError **error)
{
  static const char *const no_sets[] = {NULL};
  if (sets == NULL)
    sets = no_sets;
  ScnDiag d;
  scn_diag_init(&d, name, sets);
  g_autoptr(ScnConfig) cfg = g_new0(ScnConfig, 1);
  cfg->path = g_strdup(name);
  cfg->text = g_strndup(data, len);
  cfg->sets = g_strdupv((char **)sets);

  g_autoptr(ScnNode) root = scn_tree_parse(data, len, -1, &d);
  if (root) {
    for (int i = 0; sets[i]; i++)
      scn_apply_set(root, sets[i], i, &d);
    ScnClean clean;
    scn_convert(root, cfg, &d, &clean);
    scn_validate(root, cfg, &d, &clean);
    if (scn_diag_count(&d) == 0 && cfg->has_sweep)
      scn_check_sweep(root, cfg, &d);
  }
  if (scn_diag_count(&d) > 0) {
    g_autofree char *msg = scn_diag_format(&d);
    g_set_error_literal(error, SCN_ERROR, SCN_ERROR_INVALID, msg);
    scn_diag_clear(&d);
    return NULL;
  }
  scn_diag_clear(&d);
  return g_steal_pointer(&cfg);
}

ScnConfig *
scn_load_string(const char *text, const char *name, const char *const *sets, GError **error)
{
  return scn_load_data(text, strlen(text), name, sets, error);
}

ScnConfig *
scn_load(const char *path, const char *const *sets, GError **error)
{
  if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
    g_set_error(error, SCN_ERROR, SCN_ERROR_IO,
                "%s: is a directory; give a scenario file (e.g. scenarios/quickstart.yaml)",
                path);
    return NULL;
  }
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    int e = errno;
    g_set_error(error, SCN_ERROR, SCN_ERROR_IO, "%s: cannot open: %s", path, g_strerror(e));
    return NULL;
  }
  /* Read at most one octet past the limit: works for pipes and devices too. */
  g_autofree char *buf = g_malloc(SCN_MAX_FILE_SIZE + 1);
  size_t len = fread(buf, 1, SCN_MAX_FILE_SIZE + 1, f);
  int e = ferror(f) ? errno : 0;
  fclose(f);
  if (e != 0) {
    g_set_error(error, SCN_ERROR, SCN_ERROR_IO, "%s: cannot read: %s", path, g_strerror(e));
    return NULL;
  }
  if (len > SCN_MAX_FILE_SIZE) {
    g_set_error(error, SCN_ERROR, SCN_ERROR_IO,
                "%s: larger than %d MiB; a scenario is a small YAML file (is this the right "
                "file?)", path, SCN_MAX_FILE_SIZE / (1024 * 1024));
    return NULL;
  }
  return scn_load_data(buf, len, path, sets, error);
}

void
scn_config_free(ScnConfig *cfg)
{
  if (cfg == NULL)
    return;
  scn_config_clear_fields(cfg);
  g_free(cfg->path);
  g_free(cfg->text);
  g_strfreev(cfg->sets);
  g_free(cfg);
}

ssize_t
scn_config_find_vo(const ScnConfig *cfg, const char *name)
{
  for (size_t i = 0; i < cfg->n_visited_operators; i++)
    if (cfg->visited_operators[i].name && strcmp(cfg->visited_operators[i].name, name) == 0)
      return (ssize_t)i;
  return -1;
}

ssize_t
scn_config_find_ho(const ScnConfig *cfg, const char *name)
{
  for (size_t i = 0; i < cfg->n_home_operators; i++)
    if (cfg->home_operators[i].name && strcmp(cfg->home_operators[i].name, name) == 0)
      return (ssize_t)i;
  return -1;
}

const ScnPimsiPool *
scn_config_ranges(const ScnConfig *cfg, size_t *n)
{
  const ScnRegistrationService *rs = &cfg->registration_service;
  if (rs->pimsi_pools != NULL) {
    *n = rs->n_pimsi_pools;
    return rs->pimsi_pools;
  }
  *n = 1;
  return &rs->pimsi_pool;
}

uint64_t
scn_config_total_devices(const ScnConfig *cfg)
{
  uint64_t n = 0;
  for (size_t i = 0; i < cfg->n_manufacturers; i++)
    n += cfg->manufacturers[i].devices;
  return n;
}
