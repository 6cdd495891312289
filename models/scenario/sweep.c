/* Sweep plans: --vary parsing, grid expansion, per-run seeds and commands, and the
 * manifest that lets an interrupted sweep recognise its own parts. Validation loads the
 * scenario once per grid point so that every run the plan names is known to load. */
#include "m2m/sweep.h"

#include <string.h>

#include "m2m/scenario.h"

G_DEFINE_QUARK(m2m - sweep - error - quark, sweep_error)

/* More runs than this is a typo (a grid of 10 axes of 10 values), not a study. */
#define SWEEP_MAX_RUNS 10000000u

typedef struct {
  char *key;
  char **values; /* NULL-terminated */
  size_t n;
} SweepAxis;

struct SweepPlan {
  char *scenario; /* absolute path */
  char *sha256;   /* of the scenario text as read */
  uint64_t base_seed;
  uint32_t replications;
  char **sets;  /* fixed overrides, NULL-terminated */
  GArray *axes; /* of SweepAxis */
  size_t n_points;
};

uint64_t
sweep_seed(uint64_t base, uint64_t replication)
{
  uint64_t z = base + (replication + 1) * UINT64_C(0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  z ^= z >> 31;
  return z >> 1;
}

bool
sweep_parse_vary(const char *arg, char **key, char ***values, GError **error)
{
  const char *eq = strchr(arg, '=');
  if (eq == NULL) {
    g_set_error(error, SWEEP_ERROR, SWEEP_ERROR_SYNTAX,
                "--vary '%s': expected KEY.PATH=V1,V2,... (no '=')", arg);
    return false;
  }
  g_autofree char *k = g_strstrip(g_strndup(arg, (gsize)(eq - arg)));
  if (*k == '\0') {
    g_set_error(error, SWEEP_ERROR, SWEEP_ERROR_SYNTAX, "--vary '%s': empty key", arg);
    return false;
  }
  g_autoptr(GPtrArray) vals = g_ptr_array_new_with_free_func(g_free);
  int depth = 0;
  char quote = 0;
  const char *start = eq + 1;
  for (const char *p = start;; p++) {
    char c = *p;
    if (quote) {
      if (c == '\0')
        break;
      if (c == quote)
        quote = 0;
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '{' || c == '[') {
      depth++;
    } else if (c == '}' || c == ']') {
      if (--depth < 0)
        break;
    } else if ((c == ',' && depth == 0) || c == '\0') {
      char *v = g_strstrip(g_strndup(start, (gsize)(p - start)));
      if (*v == '\0') {
        g_free(v);
        g_set_error(error, SWEEP_ERROR, SWEEP_ERROR_SYNTAX,
                    "--vary '%s': empty value (values are separated by single commas)", arg);
        return false;
      }
      g_ptr_array_add(vals, v);
      start = p + 1;
      if (c == '\0')
        break;
    }
  }
  if (quote || depth != 0) {
    g_set_error(error, SWEEP_ERROR, SWEEP_ERROR_SYNTAX, "--vary '%s': unbalanced %s", arg,
                quote ? "quotes" : "brackets or braces");
    return false;
  }
  g_ptr_array_add(vals, NULL);
  *key = g_steal_pointer(&k);
  *values = (char **)g_ptr_array_free(g_steal_pointer(&vals), FALSE);
  return true;
}

static void
axis_clear(gpointer p)
{
  SweepAxis *a = p;
  g_free(a->key);
  g_strfreev(a->values);
}

void
sweep_plan_free(SweepPlan *plan)
{
  if (plan != NULL) {
    g_free(plan->scenario);
    g_free(plan->sha256);
    g_strfreev(plan->sets);
    if (plan->axes)
      g_array_unref(plan->axes);
    g_free(plan);
  }
}

/* Key of a "key=value" override (up to '='), trimmed. */
static char *
set_key(const char *set)
{
  const char *eq = strchr(set, '=');
  return g_strstrip(eq ? g_strndup(set, (gsize)(eq - set)) : g_strdup(set));
}

/* Value index of axis a at point p (row-major, last axis fastest). */
static size_t
axis_index(const SweepPlan *plan, size_t point, size_t a)
{
  size_t stride = 1;
  for (size_t b = plan->axes->len; b-- > a + 1;)
    stride *= g_array_index(plan->axes, SweepAxis, b).n;
  return point / stride % g_array_index(plan->axes, SweepAxis, a).n;
}

/* The --set list of a point: fixed sets, then KEY=VALUE per axis. */
static GPtrArray *
point_sets(const SweepPlan *plan, size_t point)
{
  GPtrArray *sets = g_ptr_array_new_with_free_func(g_free);
  for (char **s = plan->sets; *s; s++)
    g_ptr_array_add(sets, g_strdup(*s));
  for (guint a = 0; a < plan->axes->len; a++) {
    const SweepAxis *axis = &g_array_index(plan->axes, SweepAxis, a);
    g_ptr_array_add(sets,
                    g_strdup_printf("%s=%s", axis->key, axis->values[axis_index(plan, point, a)]));
  }
  g_ptr_array_add(sets, NULL);
  return sets;
}

static bool
add_axis(SweepPlan *plan, char *key, char **values, GError **error)
{
  SweepAxis axis = {key, values, g_strv_length(values)};
  if (strcmp(key, "sweep") == 0 || g_str_has_prefix(key, "sweep.")) {
    g_set_error(error, SWEEP_ERROR, SWEEP_ERROR_INVALID,
                "cannot vary '%s': the sweep "
                "section is not a parameter",
                key);
    axis_clear(&axis);
    return false;
  }
  if (strcmp(key, "seed") == 0) {
    g_set_error(error, SWEEP_ERROR, SWEEP_ERROR_INVALID,
                "cannot vary 'seed': seeds come from --replications (and --seed for the base)");
    axis_clear(&axis);
    return false;
  }
  for (guint a = 0; a < plan->axes->len; a++)
    if (strcmp(g_array_index(plan->axes, SweepAxis, a).key, key) == 0) {
      g_set_error(error, SWEEP_ERROR, SWEEP_ERROR_INVALID, "'%s' is varied twice", key);
      axis_clear(&axis);
      return false;
    }
  for (char **s = plan->sets; *s; s++) {
    g_autofree char *k = set_key(*s);
    if (strcmp(k, key) == 0) {
      g_set_error(error, SWEEP_ERROR, SWEEP_ERROR_INVALID,
                  "'%s' is given both by --set and by --vary", key);
      axis_clear(&axis);
      return false;
    }
  }
  g_array_append_val(plan->axes, axis);
  return true;
}

SweepPlan *
sweep_plan_new(const char *scenario_path, const char *const *sets, const char *const *vary,
               uint32_t replications, bool has_seed, uint64_t base_seed, GError **error)
{
  g_autoptr(SweepPlan) plan = g_new0(SweepPlan, 1);
  plan->sets = g_strdupv((char **)(sets ? sets : (const char *const[]){NULL}));
  plan->axes = g_array_new(FALSE, TRUE, sizeof(SweepAxis));
  g_array_set_clear_func(plan->axes, axis_clear);
  plan->scenario = g_canonicalize_filename(scenario_path, NULL);

  g_autoptr(ScnConfig) base = scn_load(scenario_path, sets, error);
  if (base == NULL)
    return NULL;
  plan->sha256 = g_compute_checksum_for_string(G_CHECKSUM_SHA256, base->text, -1);
  plan->base_seed = has_seed ? base_seed : base->seed;
  if (base->seed > INT64_MAX || plan->base_seed > INT64_MAX) {
    g_set_error(error, SWEEP_ERROR, SWEEP_ERROR_INVALID, "seed above 2^63 - 1");
    return NULL;
  }

  if (vary != NULL && vary[0] != NULL) {
    for (const char *const *v = vary; *v; v++) {
      char *key = NULL, **values = NULL;
      if (!sweep_parse_vary(*v, &key, &values, error) || !add_axis(plan, key, values, error))
        return NULL;
    }
  } else if (base->has_sweep) {
    for (size_t a = 0; a < base->sweep.n_axes; a++)
      if (!add_axis(plan, g_strdup(base->sweep.axes[a].key), g_strdupv(base->sweep.axes[a].values),
                    error))
        return NULL;
  }
  if (replications == 0)
    replications = base->has_sweep ? base->sweep.replications : 1;
  plan->replications = replications;

  /* An empty grid is one point: replications of the scenario as it is. */
  size_t points = 1;
  for (guint a = 0; a < plan->axes->len; a++) {
    points *= g_array_index(plan->axes, SweepAxis, a).n;
    if (points > SWEEP_MAX_RUNS)
      break;
  }
  if (points > SWEEP_MAX_RUNS || (uint64_t)points * replications > SWEEP_MAX_RUNS) {
    g_set_error(error, SWEEP_ERROR, SWEEP_ERROR_INVALID,
                "more than %u runs (points x replications): too big for one sweep", SWEEP_MAX_RUNS);
    return NULL;
  }
  plan->n_points = points;

  /* Every point must load: catches unknown keys and bad values before any run. Each
   * axis value is checked once against the base (the cheap, common failure), then every
   * combination (cross-field checks such as shares). */
  for (size_t p = 0; p < points; p++) {
    g_autoptr(GPtrArray) psets = point_sets(plan, p);
    GError *e = NULL;
    g_autoptr(ScnConfig) cfg = scn_load(scenario_path, (const char *const *)psets->pdata, &e);
    if (cfg == NULL) {
      g_autofree char *label = sweep_plan_point_label(plan, p);
      g_propagate_prefixed_error(error, e, "at sweep point %s: ", label);
      return NULL;
    }
  }
  return g_steal_pointer(&plan);
}

size_t
sweep_plan_n_runs(const SweepPlan *plan)
{
  return plan->n_points * plan->replications;
}

size_t
sweep_plan_n_points(const SweepPlan *plan)
{
  return plan->n_points;
}

uint32_t
sweep_plan_replications(const SweepPlan *plan)
{
  return plan->replications;
}

size_t
sweep_plan_point(const SweepPlan *plan, size_t run)
{
  return run / plan->replications;
}

uint32_t
sweep_plan_replication(const SweepPlan *plan, size_t run)
{
  return (uint32_t)(run % plan->replications);
}

uint64_t
sweep_plan_seed(const SweepPlan *plan, size_t run)
{
  return sweep_seed(plan->base_seed, sweep_plan_replication(plan, run));
}

const char *
sweep_plan_scenario(const SweepPlan *plan)
{
  return plan->scenario;
}

char *
sweep_plan_point_label(const SweepPlan *plan, size_t point)
{
  if (plan->axes->len == 0)
    return g_strdup("(no varied parameter)");
  GString *s = g_string_new(NULL);
  for (guint a = 0; a < plan->axes->len; a++) {
    const SweepAxis *axis = &g_array_index(plan->axes, SweepAxis, a);
    g_string_append_printf(s, "%s%s=%s", a ? ", " : "", axis->key,
                           axis->values[axis_index(plan, point, a)]);
  }
  return g_string_free(s, FALSE);
}

char **
sweep_plan_run_argv(const SweepPlan *plan, size_t run, const char *m2msim, const char *out)
{
  GPtrArray *argv = g_ptr_array_new();
  g_ptr_array_add(argv, g_strdup(m2msim));
  g_ptr_array_add(argv, g_strdup("run"));
  g_ptr_array_add(argv, g_strdup(plan->scenario));
  g_ptr_array_add(argv, g_strdup("--seed"));
  g_ptr_array_add(argv, g_strdup_printf("%" G_GUINT64_FORMAT, sweep_plan_seed(plan, run)));
  g_autoptr(GPtrArray) sets = point_sets(plan, sweep_plan_point(plan, run));
  for (guint i = 0; i + 1 < sets->len; i++) {
    g_ptr_array_add(argv, g_strdup("--set"));
    g_ptr_array_add(argv, g_strdup(sets->pdata[i]));
  }
  g_ptr_array_add(argv, g_strdup("-o"));
  g_ptr_array_add(argv, g_strdup(out));
  g_ptr_array_add(argv, NULL);
  return (char **)g_ptr_array_free(argv, FALSE);
}

char *
sweep_plan_run_command(const SweepPlan *plan, size_t run, const char *m2msim, const char *out)
{
  g_auto(GStrv) argv = sweep_plan_run_argv(plan, run, m2msim, out);
  GString *s = g_string_new(NULL);
  for (char **a = argv; *a; a++) {
    g_autofree char *q = g_shell_quote(*a);
    g_string_append_printf(s, "%s%s", a == argv ? "" : " ", q);
  }
  return g_string_free(s, FALSE);
}

char *
sweep_plan_manifest(const SweepPlan *plan)
{
  GString *s = g_string_new("# m2msim sweep manifest: the runs this directory holds parts of.\n"
                            "# Written by m2msim sweep; a sweep with another definition refuses\n"
                            "# to use this directory.\n");
  g_string_append_printf(s, "version 1\nscenario %s\nscenario-sha256 %s\n", plan->scenario,
                         plan->sha256);
  g_string_append_printf(s, "seed %" G_GUINT64_FORMAT "\nreplications %u\n", plan->base_seed,
                         plan->replications);
  /* One item per line, C-escaped (a value may hold anything). */
  for (char **set = plan->sets; *set; set++) {
    g_autofree char *e = g_strescape(*set, NULL);
    g_string_append_printf(s, "set %s\n", e);
  }
  for (guint a = 0; a < plan->axes->len; a++) {
    const SweepAxis *axis = &g_array_index(plan->axes, SweepAxis, a);
    g_autofree char *k = g_strescape(axis->key, NULL);
    g_string_append_printf(s, "vary %s\n", k);
    for (size_t i = 0; i < axis->n; i++) {
      g_autofree char *e = g_strescape(axis->values[i], NULL);
      g_string_append_printf(s, "  value %s\n", e);
    }
  }
  g_string_append_printf(s, "runs %zu\n", sweep_plan_n_runs(plan));
  return g_string_free(s, FALSE);
}
