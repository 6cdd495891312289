/* Grid, targets, verdicts and bisection of `m2msim solve` (see include/m2m/solve.h). */
#include "m2m/solve.h"

#include <math.h>
#include <string.h>

#include "m2m/units.h"

G_DEFINE_QUARK(m2m-solve-error-quark, solve_error)

#define MAX_CANDIDATES 1000000

/* ---- grid ------------------------------------------------------------------------- */

struct SolveGrid {
  SolveKind kind;
  double lo, step; /* integers and durations (in us) hold whole numbers */
  size_t n;
  char unit[8];   /* SOLVE_RATE: the unit after '/' in LO ("d"), and its seconds */
  double unit_s;
};

static const struct {
  const char *name;
  double s;
} rate_units[] = {{"us", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"min", 60}, {"h", 3600}, {"d", 86400}};

/* One end or the step, as a number in the grid's base (integer, us, per second, real). */
static bool
grid_number(SolveKind kind, const char *text, double *out, const char **why)
{
  char *end = NULL;
  switch (kind) {
  case SOLVE_INTEGER: {
    if (!g_ascii_isdigit(text[0])) {
      *why = "expected a whole number";
      return false;
    }
    guint64 v = g_ascii_strtoull(text, &end, 10);
    if (*end != '\0' || v > (1ULL << 53)) {
      *why = "expected a whole number";
      return false;
    }
    *out = (double)v;
    return true;
  }
  case SOLVE_REAL:
    *out = g_ascii_strtod(text, &end);
    if (end == text || *end != '\0' || !isfinite(*out)) {
      *why = "expected a number";
      return false;
    }
    return true;
  case SOLVE_DURATION: {
    SimTime t;
    if (!units_parse_duration(text, &t, why))
      return false;
    *out = (double)t;
    return true;
  }
  case SOLVE_RATE:
    return units_parse_rate(text, out, why);
  }
  g_assert_not_reached();
}

SolveGrid *
solve_grid_new(SolveKind kind, const char *range, const char *step, GError **error)
{
  const char *dots = strstr(range, "..");
  if (dots == NULL || dots == range || dots[2] == '\0') {
    g_set_error(error, SOLVE_ERROR, SOLVE_ERROR_RANGE,
                "--range %s: expected LO..HI (e.g. 1..16, 1h..2d, 100/s..2000/s)", range);
    return NULL;
  }
  g_autofree char *lo_s = g_strstrip(g_strndup(range, (gsize)(dots - range)));
  g_autofree char *hi_s = g_strstrip(g_strdup(dots + 2));
  g_autoptr(SolveGrid) g = g_new0(SolveGrid, 1);
  g->kind = kind;
  double hi;
  const char *why = NULL;
  if (!grid_number(kind, lo_s, &g->lo, &why) || !grid_number(kind, hi_s, &hi, &why)) {
    g_set_error(error, SOLVE_ERROR, SOLVE_ERROR_RANGE, "--range %s: %s", range, why);
    return NULL;
  }
  if (!(hi > g->lo)) {
    g_set_error(error, SOLVE_ERROR, SOLVE_ERROR_RANGE,
                "--range %s: the low end must be below the high end", range);
    return NULL;
  }
  if (kind == SOLVE_RATE) {
    const char *slash = strchr(lo_s, '/');
    for (size_t i = 0; slash && i < G_N_ELEMENTS(rate_units); i++)
      if (strcmp(slash + 1, rate_units[i].name) == 0) {
        g_strlcpy(g->unit, rate_units[i].name, sizeof g->unit);
        g->unit_s = rate_units[i].s;
      }
    g_assert(g->unit_s > 0); /* units_parse_rate accepted it */
  }
  if (step != NULL) {
    if (!grid_number(kind, step, &g->step, &why)) {
      g_set_error(error, SOLVE_ERROR, SOLVE_ERROR_RANGE, "--step %s: %s", step, why);
      return NULL;
    }
  } else if (kind == SOLVE_INTEGER) {
    g->step = 1;
  } else {
    g->step = (hi - g->lo) / 100;
    if (kind == SOLVE_DURATION)
      g->step = MAX(1, round(g->step));
  }
  if (!(g->step > 0)) {
    g_set_error(error, SOLVE_ERROR, SOLVE_ERROR_RANGE, "--step: must be above 0");
    return NULL;
  }
  double n = floor((hi - g->lo) / g->step * (1 + 1e-12)) + 1;
  if (n > MAX_CANDIDATES) {
    g_set_error(error, SOLVE_ERROR, SOLVE_ERROR_RANGE,
                "--range %s: more than %d candidates; give a coarser --step", range,
                MAX_CANDIDATES);
    return NULL;
  }
  g->n = (size_t)n;
  return g_steal_pointer(&g);
}

void
solve_grid_free(SolveGrid *g)
{
  g_free(g);
}

size_t
solve_grid_n(const SolveGrid *g)
{
  return g->n;
}

static char *
format_number(SolveKind kind, double v, const SolveGrid *g)
{
  switch (kind) {
  case SOLVE_INTEGER:
    return g_strdup_printf("%.0f", v);
  case SOLVE_REAL:
    return g_strdup_printf("%.10g", v);
  case SOLVE_DURATION: {
    char buf[64];
    return g_strdup(units_format_duration((SimTime)llround(v), buf, sizeof buf));
  }
  case SOLVE_RATE:
    return g_strdup_printf("%.10g/%s", v * g->unit_s, g->unit);
  }
  g_assert_not_reached();
}

char *
solve_grid_text(const SolveGrid *g, size_t i)
{
  g_return_val_if_fail(i < g->n, NULL);
  return format_number(g->kind, g->lo + (double)i * g->step, g);
}

char *
solve_grid_describe(const SolveGrid *g)
{
  g_autofree char *lo = solve_grid_text(g, 0);
  g_autofree char *hi = solve_grid_text(g, g->n - 1);
  g_autofree char *step = format_number(g->kind, g->step, g);
  /* The step of a rate in the range's unit, of a duration exactly. */
  return g_strdup_printf("%s..%s step %s (%zu candidates)", lo, hi, step, g->n);
}

/* ---- targets ---------------------------------------------------------------------- */

bool
solve_target_parse(const char *text, SolveTarget *out, GError **error)
{
  memset(out, 0, sizeof *out);
  g_autofree char *t = g_strstrip(g_strdup(text));
  const char *op = strpbrk(t, "<>");
  const char *hint = "expected 'METRIC OP VALUE' with OP one of < <= > >= (e.g. "
                     "'rs.av.wait_mean < 50ms', 'rs.pimsi.blocked <= 0')";
  if (op == NULL || op == t) {
    g_set_error(error, SOLVE_ERROR, SOLVE_ERROR_TARGET, "--target '%s': %s", text, hint);
    return false;
  }
  g_autofree char *metric = g_strstrip(g_strndup(t, (gsize)(op - t)));
  bool eq = op[1] == '=';
  SolveOp o = op[0] == '<' ? (eq ? SOLVE_LE : SOLVE_LT) : (eq ? SOLVE_GE : SOLVE_GT);
  g_autofree char *val = g_strstrip(g_strdup(op + (eq ? 2 : 1)));
  bool name_ok = *metric != '\0';
  for (const char *c = metric; *c; c++)
    name_ok &= g_ascii_isalnum(*c) || *c == '.' || *c == '_' || *c == '-';
  if (!name_ok || *val == '\0') {
    g_set_error(error, SOLVE_ERROR, SOLVE_ERROR_TARGET, "--target '%s': %s", text, hint);
    return false;
  }
  double v;
  char *end = NULL;
  const char *why = "expected a number, a duration (60s, 2h), a rate (100/s) or a "
                    "percentage (90%)";
  SimTime us;
  bool ok;
  if (strchr(val, '/') != NULL) {
    ok = units_parse_rate(val, &v, &why);
  } else if (g_str_has_suffix(val, "%")) {
    v = g_ascii_strtod(val, &end) / 100;
    ok = end != val && *end == '%' && end[1] == '\0';
  } else if ((v = g_ascii_strtod(val, &end)), end != val && *end == '\0') {
    ok = true;
  } else if (units_parse_duration(val, &us, &why)) {
    v = sim_time_to_s(us);
    ok = true;
  } else {
    ok = false;
  }
  if (!ok || !isfinite(v)) {
    g_set_error(error, SOLVE_ERROR, SOLVE_ERROR_TARGET, "--target '%s': value '%s': %s", text,
                val, why);
    return false;
  }
  out->metric = g_steal_pointer(&metric);
  out->op = o;
  out->value = v;
  out->text = g_strdup_printf("%s %s %s", out->metric,
                              (const char *[]){"<", "<=", ">", ">="}[o], val);
  return true;
}

void
solve_target_clear(SolveTarget *t)
{
  g_clear_pointer(&t->metric, g_free);
  g_clear_pointer(&t->text, g_free);
}

const char *
solve_verdict_name(SolveVerdict v)
{
  static const char *const names[] = {"met", "missed", "undecided"};
  return names[v];
}

/* Whether x is on the target's side of the threshold. */
static bool
holds_at(const SolveTarget *t, double x)
{
  switch (t->op) {
  case SOLVE_LT:
    return x < t->value;
  case SOLVE_LE:
    return x <= t->value;
  case SOLVE_GT:
    return x > t->value;
  case SOLVE_GE:
    return x >= t->value;
  }
  g_assert_not_reached();
}

SolveVerdict
solve_verdict(const SolveTarget *t, const CiSummary *c, size_t absent, size_t equal_min)
{
  /* Every run the same (all absent, or no spread): a miss is a miss, but "met" needs
   * equal_min such runs -- equal runs have no interval to clear the threshold with. */
  if (c->n == 0) {
    if (absent == 0)
      return SOLVE_UNDECIDED;
    if (!holds_at(t, INFINITY))
      return SOLVE_MISSED;
    return absent >= equal_min ? SOLVE_MET : SOLVE_UNDECIDED;
  }
  if (absent > 0 || c->n < 2)
    return SOLVE_UNDECIDED;
  double lo = c->mean - c->half_width, hi = c->mean + c->half_width;
  if (!(c->sd > 0)) {
    if (!holds_at(t, c->mean))
      return SOLVE_MISSED;
    return c->n >= equal_min ? SOLVE_MET : SOLVE_UNDECIDED;
  }
  bool lo_holds = holds_at(t, lo), hi_holds = holds_at(t, hi);
  if (lo_holds && hi_holds)
    return SOLVE_MET;
  if (!lo_holds && !hi_holds)
    return SOLVE_MISSED;
  return SOLVE_UNDECIDED;
}

size_t
solve_replications_wanted(const SolveTarget *t, const CiSummary *c, size_t n, size_t equal_min)
{
  if (c->n == 0 || (c->n >= 2 && !(c->sd > 0))) /* equal runs: as many as equal_min asks */
    return MAX(n + 1, equal_min);
  double gap = fabs(c->mean - t->value);
  if (c->n < 2 || !isfinite(c->half_width) || !(gap > 0))
    return n + 1;
  double r = c->half_width / gap;
  double want = ceil((double)n * r * r * 1.1); /* 10% over: an estimate of an estimate */
  return want > (double)n ? (size_t)MIN(want, 1e9) : n + 1;
}

/* ---- bisection -------------------------------------------------------------------- */

/* Searching for the largest value that holds is the search for the smallest on the grid
 * read backwards: positions run from the failing end to the holding end. */
static size_t
pos_to_index(const SolveSearch *s, long p)
{
  return s->largest ? s->n - 1 - (size_t)p : (size_t)p;
}

void
solve_search_init(SolveSearch *s, size_t n, bool largest)
{
  *s = (SolveSearch){.n = n, .largest = largest, .ok = -1, .bad = -1};
}

bool
solve_search_next(SolveSearch *s, size_t *index, long *answer)
{
  long far = (long)s->n - 1;
  if (!s->tried_far) {
    *index = pos_to_index(s, far);
    return true;
  }
  if (s->ok < 0) { /* the far end fails: nothing in the range holds */
    *answer = -1;
    return false;
  }
  if (!s->tried_near && s->ok > 0) {
    *index = pos_to_index(s, 0);
    return true;
  }
  if (s->ok == 0 || s->ok - s->bad <= 1) {
    *answer = (long)pos_to_index(s, s->ok);
    return false;
  }
  *index = pos_to_index(s, s->bad + (s->ok - s->bad) / 2);
  return true;
}

void
solve_search_tell(SolveSearch *s, size_t index, bool holds)
{
  long p = s->largest ? (long)(s->n - 1 - index) : (long)index;
  if (p == (long)s->n - 1)
    s->tried_far = true;
  if (p == 0)
    s->tried_near = true;
  if (holds && (s->ok < 0 || p < s->ok))
    s->ok = p;
  if (!holds && p > s->bad)
    s->bad = p;
}

long
solve_search_neighbour(const SolveSearch *s, long answer)
{
  if (answer < 0)
    return -1;
  long n = s->largest ? answer + 1 : answer - 1;
  return n >= 0 && n < (long)s->n ? n : -1;
}
