/* Tallies, time-weighted levels, quantiles (exact, then a log-bucket sketch) and sampled
 * time series; see m2m/stats.h for the definitions and error bounds. */
#include "m2m/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- tallies ------------------------------------------------------------------------- */

void
stat_tally_init(StatTally *t)
{
  *t = (StatTally){0, 0, 0, INFINITY, -INFINITY};
}

void
stat_tally_add(StatTally *t, double x)
{
  t->n++;
  double d = x - t->mean;
  t->mean += d / (double)t->n;
  t->m2 += d * (x - t->mean);
  if (x < t->min)
    t->min = x;
  if (x > t->max)
    t->max = x;
}

void
stat_tally_merge(StatTally *into, const StatTally *from)
{
  if (from->n == 0)
    return;
  if (into->n == 0) {
    *into = *from;
    return;
  }
  double na = (double)into->n, nb = (double)from->n, n = na + nb;
  double d = from->mean - into->mean;
  into->mean += d * nb / n;
  into->m2 += from->m2 + d * d * na * nb / n;
  into->n += from->n;
  into->min = fmin(into->min, from->min);
  into->max = fmax(into->max, from->max);
}

double
stat_tally_mean(const StatTally *t)
{
  return t->n ? t->mean : NAN;
}

double
stat_tally_variance(const StatTally *t)
{
  return t->n > 1 ? t->m2 / (double)(t->n - 1) : NAN;
}

double
stat_tally_stddev(const StatTally *t)
{
  return sqrt(stat_tally_variance(t));
}

/* ---- levels -------------------------------------------------------------------------- */

void
stat_level_init(StatLevel *l, SimTime t0, double level)
{
  *l = (StatLevel){t0, t0, level, 0, level, level};
}

void
stat_level_set(StatLevel *l, SimTime t, double level)
{
  g_assert(t >= l->t_last);
  l->area += l->level * (double)(t - l->t_last);
  l->t_last = t;
  l->level = level;
  if (level < l->min)
    l->min = level;
  if (level > l->max)
    l->max = level;
}

void
stat_level_add(StatLevel *l, SimTime t, double delta)
{
  stat_level_set(l, t, l->level + delta);
}

double
stat_level_integral(const StatLevel *l, SimTime t)
{
  g_assert(t >= l->t_last);
  return l->area + l->level * (double)(t - l->t_last);
}

double
stat_level_mean(const StatLevel *l, SimTime t)
{
  if (t <= l->t0)
    return l->level;
  return stat_level_integral(l, t) / (double)(t - l->t0);
}

/* ---- quantiles ----------------------------------------------------------------------- */

/* Counts of one sign: bucket index i is stored at counts[i - offset]. */
typedef struct {
  uint64_t *counts;
  int32_t offset;
  uint32_t len;
  uint64_t total;
} SketchStore;

struct StatQuantiles {
  double accuracy;
  double log_gamma; /* ln g */
  size_t exact_limit;
  GArray *exact; /* doubles while exact, NULL once a sketch */
  bool sorted;
  SketchStore pos, neg;
  uint64_t zeros;
  uint64_t n;
};

/* Magnitudes below this count as zero (they would need indices beyond any real use). */
#define SKETCH_MIN_MAGNITUDE 1e-300

static void
store_add(SketchStore *s, int32_t i, uint64_t k)
{
  if (s->len == 0) {
    s->counts = g_new0(uint64_t, 64);
    s->len = 64;
    s->offset = i - 32;
  }
  if (i < s->offset || i >= s->offset + (int32_t)s->len) {
    int32_t lo = MIN(i, s->offset), hi = MAX(i, s->offset + (int32_t)s->len - 1);
    uint32_t len = (uint32_t)(hi - lo + 1);
    len += len / 2 + 16; /* room to grow on both sides */
    int32_t new_off = lo - (int32_t)(len - (uint32_t)(hi - lo + 1)) / 2;
    uint64_t *c = g_new0(uint64_t, len);
    memcpy(c + (s->offset - new_off), s->counts, s->len * sizeof *c);
    g_free(s->counts);
    s->counts = c;
    s->len = len;
    s->offset = new_off;
  }
  s->counts[i - s->offset] += k;
  s->total += k;
}

static inline int32_t
sketch_index(const StatQuantiles *q, double magnitude)
{
  return (int32_t)ceil(log(magnitude) / q->log_gamma);
}

static inline double
sketch_value(const StatQuantiles *q, int32_t i)
{
  double g = exp(q->log_gamma);
  return 2.0 * exp((double)i * q->log_gamma) / (g + 1.0);
}

static void
sketch_add(StatQuantiles *q, double x, uint64_t k)
{
  double m = fabs(x);
  if (m < SKETCH_MIN_MAGNITUDE)
    q->zeros += k;
  else
    store_add(x > 0 ? &q->pos : &q->neg, sketch_index(q, m), k);
}

static void
quantiles_to_sketch(StatQuantiles *q)
{
  if (q->exact == NULL)
    return;
  for (guint i = 0; i < q->exact->len; i++)
    sketch_add(q, g_array_index(q->exact, double, i), 1);
  g_array_free(q->exact, TRUE);
  q->exact = NULL;
}

StatQuantiles *
stat_quantiles_new_full(size_t exact_limit, double accuracy)
{
  g_assert(accuracy > 0 && accuracy < 1);
  StatQuantiles *q = g_new0(StatQuantiles, 1);
  q->accuracy = accuracy;
  q->log_gamma = log((1 + accuracy) / (1 - accuracy));
  q->exact_limit = exact_limit;
  if (exact_limit > 0)
    q->exact = g_array_new(FALSE, FALSE, sizeof(double));
  q->sorted = true;
  return q;
}

StatQuantiles *
stat_quantiles_new(void)
{
  return stat_quantiles_new_full(STAT_QUANTILES_EXACT_LIMIT, STAT_QUANTILES_ACCURACY);
}

void
stat_quantiles_free(StatQuantiles *q)
{
  if (q == NULL)
    return;
  if (q->exact)
    g_array_free(q->exact, TRUE);
  g_free(q->pos.counts);
  g_free(q->neg.counts);
  g_free(q);
}

void
stat_quantiles_add(StatQuantiles *q, double x)
{
  g_assert(isfinite(x));
  q->n++;
  if (q->exact) {
    g_array_append_val(q->exact, x);
    q->sorted = false;
    if (q->exact->len > q->exact_limit)
      quantiles_to_sketch(q);
    return;
  }
  sketch_add(q, x, 1);
}

static void
store_merge(StatQuantiles *into, SketchStore *dst, const SketchStore *src)
{
  for (uint32_t j = 0; j < src->len; j++)
    if (src->counts[j])
      store_add(dst, src->offset + (int32_t)j, src->counts[j]);
}

void
stat_quantiles_merge(StatQuantiles *into, const StatQuantiles *from)
{
  g_assert(fabs(into->accuracy - from->accuracy) < 1e-15);
  if (from->n == 0)
    return;
  if (into->exact && from->exact && into->exact->len + from->exact->len <= into->exact_limit) {
    g_array_append_vals(into->exact, from->exact->data, from->exact->len);
    into->sorted = false;
    into->n += from->n;
    return;
  }
  quantiles_to_sketch(into);
  into->n += from->n;
  if (from->exact) {
    for (guint i = 0; i < from->exact->len; i++)
      sketch_add(into, g_array_index(from->exact, double, i), 1);
    return;
  }
  into->zeros += from->zeros;
  store_merge(into, &into->pos, &from->pos);
  store_merge(into, &into->neg, &from->neg);
}

uint64_t
stat_quantiles_count(const StatQuantiles *q)
{
  return q->n;
}

bool
stat_quantiles_is_exact(const StatQuantiles *q)
{
  return q->exact != NULL;
}

static int
cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

double
stat_quantiles_get(StatQuantiles *q, double p)
{
  g_assert(p >= 0 && p <= 1);
  if (q->n == 0)
    return NAN;
  uint64_t rank = (uint64_t)floor(p * (double)(q->n - 1));
  if (q->exact) {
    if (!q->sorted) {
      qsort(q->exact->data, q->exact->len, sizeof(double), cmp_double);
      q->sorted = true;
    }
    return g_array_index(q->exact, double, rank);
  }
  /* negatives from the most negative (largest index) up, then zeros, then positives */
  uint64_t seen = 0;
  for (uint32_t j = q->neg.len; j-- > 0;) {
    seen += q->neg.counts[j];
    if (seen > rank)
      return -sketch_value(q, q->neg.offset + (int32_t)j);
  }
  seen += q->zeros;
  if (seen > rank)
    return 0;
  for (uint32_t j = 0; j < q->pos.len; j++) {
    seen += q->pos.counts[j];
    if (seen > rank)
      return sketch_value(q, q->pos.offset + (int32_t)j);
  }
  g_assert_not_reached();
}

/* ---- Kaplan-Meier ------------------------------------------------------------------- */

/* A run of equal values in a store: the value and how many samples have it. */
typedef struct {
  double v;
  uint64_t k;
} QRun;

static void
sketch_runs(const StatQuantiles *q, GArray *out)
{
  for (uint32_t j = q->neg.len; j-- > 0;)
    if (q->neg.counts[j])
      g_array_append_val(out,
                         ((QRun){-sketch_value(q, q->neg.offset + (int32_t)j), q->neg.counts[j]}));
  if (q->zeros)
    g_array_append_val(out, ((QRun){0, q->zeros}));
  for (uint32_t j = 0; j < q->pos.len; j++)
    if (q->pos.counts[j])
      g_array_append_val(out,
                         ((QRun){sketch_value(q, q->pos.offset + (int32_t)j), q->pos.counts[j]}));
}

/* The store's samples as ascending runs; as its sketch's buckets when `bucketed`. */
static GArray *
quantiles_runs(StatQuantiles *q, bool bucketed)
{
  GArray *out = g_array_new(FALSE, FALSE, sizeof(QRun));
  if (q->exact && !bucketed) {
    if (!q->sorted) {
      qsort(q->exact->data, q->exact->len, sizeof(double), cmp_double);
      q->sorted = true;
    }
    for (guint i = 0; i < q->exact->len; i++) {
      double v = g_array_index(q->exact, double, i);
      if (out->len > 0 && g_array_index(out, QRun, out->len - 1).v >= v) /* sorted: equal */
        g_array_index(out, QRun, out->len - 1).k++;
      else
        g_array_append_val(out, ((QRun){v, 1}));
    }
  } else if (q->exact) {
    g_autoptr(StatQuantiles) b = stat_quantiles_new_full(0, q->accuracy);
    stat_quantiles_merge(b, q);
    sketch_runs(b, out);
  } else {
    sketch_runs(q, out);
  }
  return out;
}

void
stat_km_quantiles(StatQuantiles *events, StatQuantiles *censored, uint64_t never, size_t n_p,
                  const double *p, StatKmQuantile *out)
{
  g_assert(fabs(events->accuracy - censored->accuracy) < 1e-15);
  for (size_t i = 0; i < n_p; i++) {
    g_assert(p[i] > 0 && p[i] < 1);
    out[i] = (StatKmQuantile){NAN, NAN, NAN};
  }
  bool bucketed = !events->exact || !censored->exact;
  g_autoptr(GArray) ev = quantiles_runs(events, bucketed);
  g_autoptr(GArray) ce = quantiles_runs(censored, bucketed);
  const double z = 1.959963984540054; /* the normal's 97.5 % point */
  double at_risk = (double)(events->n + censored->n + never);
  double surv = 1, greenwood = 0;
  guint ie = 0, ic = 0;
  while (ie < ev->len) {
    const QRun *e = &g_array_index(ev, QRun, ie);
    /* Censorings before this event time leave the risk set first. */
    while (ic < ce->len && g_array_index(ce, QRun, ic).v < e->v)
      at_risk -= (double)g_array_index(ce, QRun, ic++).k;
    double d = (double)e->k;
    surv *= 1 - d / at_risk;
    if (at_risk > d)
      greenwood += d / (at_risk * (at_risk - d));
    at_risk -= d;
    ie++;
    double se = surv * sqrt(greenwood);
    /* Each level: its estimate at the first time the survival reaches 1 - p, the interval
     * over the times the survival is within z standard errors of it. Small slack so that
     * exactly 1 - p (2 of 4 samples for the median) counts as reached. */
    for (size_t i = 0; i < n_p; i++) {
      double target = 1 - p[i], eps = 1e-12;
      if (isnan(out[i].value) && surv <= target + eps)
        out[i].value = e->v;
      if (isnan(out[i].lo) && surv <= target + z * se + eps)
        out[i].lo = e->v;
      if (isnan(out[i].hi) && surv < target - z * se - eps)
        out[i].hi = e->v;
    }
  }
}

/* ---- time series --------------------------------------------------------------------- */

typedef struct {
  char *name;
  StatProbeFn fn;
  void *ctx;
} StatProbe;

struct StatSampler {
  SimEngine *sim;
  SimTime interval, end;
  GArray *probes;  /* StatProbe */
  GArray *times;   /* SimTime per row */
  GArray *values;  /* double, row-major: values[row * n_probes + probe] */
  SimEventId next; /* pending sampling event */
  bool started;
};

StatSampler *
stat_sampler_new(SimEngine *sim, SimTime interval, SimTime end)
{
  g_assert(interval > 0);
  StatSampler *s = g_new0(StatSampler, 1);
  s->sim = sim;
  s->interval = interval;
  s->end = end;
  s->probes = g_array_new(FALSE, FALSE, sizeof(StatProbe));
  s->times = g_array_new(FALSE, FALSE, sizeof(SimTime));
  s->values = g_array_new(FALSE, FALSE, sizeof(double));
  return s;
}

void
stat_sampler_free(StatSampler *s)
{
  if (s == NULL)
    return;
  sim_cancel(s->sim, s->next);
  for (guint i = 0; i < s->probes->len; i++)
    g_free(g_array_index(s->probes, StatProbe, i).name);
  g_array_free(s->probes, TRUE);
  g_array_free(s->times, TRUE);
  g_array_free(s->values, TRUE);
  g_free(s);
}

void
stat_sampler_add_probe(StatSampler *s, const char *name, StatProbeFn fn, void *ctx)
{
  g_assert(!s->started);
  StatProbe p = {g_strdup(name), fn, ctx};
  g_array_append_val(s->probes, p);
}

static void
stat_sampler_fire(SimEngine *sim, void *ctx, uint64_t arg)
{
  StatSampler *s = ctx;
  SimTime t = sim_now(sim);
  s->next = SIM_EVENT_NONE;
  g_array_append_val(s->times, t);
  for (guint i = 0; i < s->probes->len; i++) {
    const StatProbe *p = &g_array_index(s->probes, StatProbe, i);
    double v = p->fn(p->ctx);
    g_array_append_val(s->values, v);
  }
  if (t < s->end) {
    SimTime next = s->end - t > s->interval ? t + s->interval : s->end;
    s->next = sim_schedule_at(sim, next, stat_sampler_fire, s, 0);
  }
}

void
stat_sampler_start(StatSampler *s)
{
  g_assert(!s->started);
  s->started = true;
  if (sim_now(s->sim) <= s->end)
    s->next = sim_schedule(s->sim, 0, stat_sampler_fire, s, 0);
}

void
stat_sampler_finish(StatSampler *s)
{
  SimTime now = sim_now(s->sim);
  if (s->next == SIM_EVENT_NONE || now >= s->end)
    return; /* the last sample was (or will be) taken at the end */
  sim_cancel(s->sim, s->next);
  s->next = SIM_EVENT_NONE;
  size_t n = s->times->len;
  if (n > 0 && g_array_index(s->times, SimTime, n - 1) == now)
    return;
  s->end = now;
  stat_sampler_fire(s->sim, s, 0);
}

size_t
stat_sampler_n_probes(const StatSampler *s)
{
  return s->probes->len;
}

const char *
stat_sampler_probe_name(const StatSampler *s, size_t probe)
{
  g_assert(probe < s->probes->len);
  return g_array_index(s->probes, StatProbe, probe).name;
}

SimTime
stat_sampler_interval(const StatSampler *s)
{
  return s->interval;
}

size_t
stat_sampler_n_rows(const StatSampler *s)
{
  return s->times->len;
}

SimTime
stat_sampler_time(const StatSampler *s, size_t row)
{
  g_assert(row < s->times->len);
  return g_array_index(s->times, SimTime, row);
}

double
stat_sampler_value(const StatSampler *s, size_t row, size_t probe)
{
  g_assert(row < s->times->len && probe < s->probes->len);
  return g_array_index(s->values, double, row * s->probes->len + probe);
}

/* ---- samples with quantiles ------------------------------------------------------------ */

void
stat_samples_init(StatSamples *s, bool quantiles)
{
  stat_tally_init(&s->tally);
  s->sum = 0;
  s->q = quantiles ? stat_quantiles_new() : NULL;
}

void
stat_samples_clear(StatSamples *s)
{
  stat_quantiles_free(s->q);
  s->q = NULL;
}

void
stat_samples_add(StatSamples *s, double x)
{
  stat_tally_add(&s->tally, x);
  s->sum += x;
  if (s->q)
    stat_quantiles_add(s->q, x);
}

double
stat_samples_mean(const StatSamples *s)
{
  return s->tally.n ? s->sum / (double)s->tally.n : NAN;
}

double
stat_samples_quantile(StatSamples *s, double p)
{
  if (s->q == NULL || s->tally.n == 0)
    return NAN;
  return stat_quantiles_get(s->q, p);
}

/* ---- the registry ----------------------------------------------------------------------- */

typedef enum { REG_COUNTER, REG_VALUE, REG_SAMPLES, REG_KM } RegKind;

typedef struct {
  RegKind kind;
  char *name;
  union {
    const uint64_t *counter;
    struct {
      StatProbeFn fn;
      void *ctx;
    } value;
    struct {
      StatSamples *s;
      bool mean_max;
    } samples;
    struct {
      StatSamples *events;
      StatKmFillFn fill;
      void *ctx;
    } km;
  } u;
} RegEntry;

typedef struct {
  char *name;
  GArray *entries; /* RegEntry indices (guint) adding up to this figure */
} RegFigure;

struct StatRegistry {
  GArray *entries;     /* RegEntry */
  GArray *figures;     /* RegFigure, in order of first registration */
  GHashTable *by_name; /* name -> figure index + 1 */
};

StatRegistry *
stat_registry_new(void)
{
  StatRegistry *r = g_new0(StatRegistry, 1);
  r->entries = g_array_new(FALSE, FALSE, sizeof(RegEntry));
  r->figures = g_array_new(FALSE, FALSE, sizeof(RegFigure));
  r->by_name = g_hash_table_new(g_str_hash, g_str_equal);
  return r;
}

void
stat_registry_free(StatRegistry *r)
{
  if (r == NULL)
    return;
  for (guint i = 0; i < r->entries->len; i++)
    g_free(g_array_index(r->entries, RegEntry, i).name);
  for (guint i = 0; i < r->figures->len; i++) {
    RegFigure *f = &g_array_index(r->figures, RegFigure, i);
    g_free(f->name);
    g_array_unref(f->entries);
  }
  g_array_unref(r->entries);
  g_array_unref(r->figures);
  g_hash_table_unref(r->by_name);
  g_free(r);
}

/* Adds entry e under its name: a new figure, or one more term of an existing one. */
static void
reg_add(StatRegistry *r, RegEntry e)
{
  guint idx = r->entries->len;
  g_array_append_val(r->entries, e);
  guint f = GPOINTER_TO_UINT(g_hash_table_lookup(r->by_name, e.name));
  if (f == 0) {
    RegFigure fig = {g_strdup(e.name), g_array_new(FALSE, FALSE, sizeof(guint))};
    g_array_append_val(r->figures, fig);
    f = r->figures->len;
    g_hash_table_insert(r->by_name, g_array_index(r->figures, RegFigure, f - 1).name,
                        GUINT_TO_POINTER(f));
  }
  RegFigure *fig = &g_array_index(r->figures, RegFigure, f - 1);
  g_assert(fig->entries->len == 0 ||
           g_array_index(r->entries, RegEntry, g_array_index(fig->entries, guint, 0)).kind ==
               e.kind);
  g_assert((e.kind != REG_SAMPLES && e.kind != REG_KM) || fig->entries->len == 0); /* no sums */
  g_array_append_val(fig->entries, idx);
}

void
stat_registry_counter(StatRegistry *r, const char *name, const uint64_t *c)
{
  reg_add(r, (RegEntry){REG_COUNTER, g_strdup(name), {.counter = c}});
}

void
stat_registry_counter_fields(StatRegistry *r, const char *names, const void *fields, size_t size)
{
  g_auto(GStrv) list = g_strsplit_set(names, " \n", -1);
  const uint64_t *c = fields;
  size_t n = 0;
  for (char **name = list; *name; name++)
    if (**name != '\0') {
      if (n >= size / sizeof(uint64_t))
        g_error("stat_registry_counter_fields: more names than fields in \"%s\"", names);
      stat_registry_counter(r, *name, &c[n++]);
    }
  if (n * sizeof(uint64_t) != size)
    g_error("stat_registry_counter_fields: %zu names for %zu fields", n, size / sizeof(uint64_t));
}

void
stat_registry_value(StatRegistry *r, const char *name, StatProbeFn fn, void *ctx)
{
  RegEntry e = {REG_VALUE, g_strdup(name), {.value = {fn, ctx}}};
  reg_add(r, e);
}

void
stat_registry_samples(StatRegistry *r, const char *prefix, StatSamples *s, bool mean_max)
{
  RegEntry e = {REG_SAMPLES, g_strdup(prefix), {.samples = {s, mean_max}}};
  reg_add(r, e);
}

void
stat_registry_km(StatRegistry *r, const char *prefix, StatSamples *events, StatKmFillFn fill,
                 void *ctx)
{
  g_assert(events->q != NULL);
  RegEntry e = {REG_KM, g_strdup(prefix), {.km = {events, fill, ctx}}};
  reg_add(r, e);
}

/* The value of a counter or value figure: the sum of its terms (NAN when every term is). */
static double
figure_value(StatRegistry *r, const RegFigure *f)
{
  double sum = 0;
  bool any = false;
  for (guint k = 0; k < f->entries->len; k++) {
    const RegEntry *e = &g_array_index(r->entries, RegEntry, g_array_index(f->entries, guint, k));
    double v = e->kind == REG_COUNTER ? (double)*e->u.counter : e->u.value.fn(e->u.value.ctx);
    if (!isnan(v)) {
      sum = any ? sum + v : v;
      any = true;
    }
  }
  return any ? sum : NAN;
}

/* The percentiles a sampled quantity and a Kaplan-Meier estimate report, and the suffixes
 * of a KM estimate's interval: one table for the figures and for their names. */
static const struct {
  const char *suffix;
  double q;
} reg_levels[] = {{"p50", 0.50}, {"p95", 0.95}, {"p99", 0.99}};
static const char *const km_tails[3] = {"", "_lo", "_hi"};

static void
samples_figures(const char *prefix, StatSamples *s, bool mean_max, StatFigureFn fn, void *data)
{
  if (s->tally.n == 0)
    return;
  char name[128];
  if (mean_max) {
    g_snprintf(name, sizeof name, "%s.mean", prefix);
    fn(data, name, stat_samples_mean(s));
  }
  for (size_t i = 0; i < G_N_ELEMENTS(reg_levels); i++) {
    g_snprintf(name, sizeof name, "%s.%s", prefix, reg_levels[i].suffix);
    fn(data, name, stat_samples_quantile(s, reg_levels[i].q));
  }
  if (mean_max) {
    g_snprintf(name, sizeof name, "%s.max", prefix);
    fn(data, name, s->tally.max);
  }
}

static void
km_figures(const char *prefix, const RegEntry *e, StatFigureFn fn, void *data)
{
  enum { N = G_N_ELEMENTS(reg_levels) };
  g_autoptr(StatQuantiles) censored = stat_quantiles_new();
  uint64_t never = 0;
  e->u.km.fill(e->u.km.ctx, censored, &never);
  double p[N];
  StatKmQuantile q[N];
  for (size_t i = 0; i < N; i++)
    p[i] = reg_levels[i].q;
  stat_km_quantiles(e->u.km.events->q, censored, never, N, p, q);
  for (size_t i = 0; i < N; i++) {
    char name[128];
    const double v[3] = {q[i].value, q[i].lo, q[i].hi};
    for (int k = 0; k < 3; k++) {
      g_snprintf(name, sizeof name, "%s.%s%s", prefix, reg_levels[i].suffix, km_tails[k]);
      if (!isnan(v[k]))
        fn(data, name, v[k]);
    }
  }
}

void
stat_registry_foreach(StatRegistry *r, StatFigureFn fn, void *data)
{
  for (guint i = 0; i < r->figures->len; i++) {
    const RegFigure *f = &g_array_index(r->figures, RegFigure, i);
    const RegEntry *e0 = &g_array_index(r->entries, RegEntry, g_array_index(f->entries, guint, 0));
    if (e0->kind == REG_SAMPLES) {
      samples_figures(f->name, e0->u.samples.s, e0->u.samples.mean_max, fn, data);
      continue;
    }
    if (e0->kind == REG_KM) {
      km_figures(f->name, e0, fn, data);
      continue;
    }
    double v = figure_value(r, f);
    if (!isnan(v))
      fn(data, f->name, v);
  }
}

void
stat_registry_foreach_name(StatRegistry *r, StatNameFn fn, void *data)
{
  for (guint i = 0; i < r->figures->len; i++) {
    const RegFigure *f = &g_array_index(r->figures, RegFigure, i);
    const RegEntry *e0 = &g_array_index(r->entries, RegEntry, g_array_index(f->entries, guint, 0));
    if (e0->kind != REG_SAMPLES && e0->kind != REG_KM) {
      fn(data, f->name);
      continue;
    }
    char name[128];
    bool mean_max = e0->kind == REG_SAMPLES && e0->u.samples.mean_max;
    if (mean_max) {
      g_snprintf(name, sizeof name, "%s.mean", f->name);
      fn(data, name);
    }
    for (size_t l = 0; l < G_N_ELEMENTS(reg_levels); l++)
      for (int k = 0; k < (e0->kind == REG_KM ? 3 : 1); k++) {
        g_snprintf(name, sizeof name, "%s.%s%s", f->name, reg_levels[l].suffix, km_tails[k]);
        fn(data, name);
      }
    if (mean_max) {
      g_snprintf(name, sizeof name, "%s.max", f->name);
      fn(data, name);
    }
  }
}

/* The figure registered under `name`, and its first entry; NULL when none. */
static const RegFigure *
find(StatRegistry *r, const char *name, const RegEntry **first)
{
  guint f = GPOINTER_TO_UINT(g_hash_table_lookup(r->by_name, name));
  if (f == 0)
    return NULL;
  const RegFigure *fig = &g_array_index(r->figures, RegFigure, f - 1);
  *first = &g_array_index(r->entries, RegEntry, g_array_index(fig->entries, guint, 0));
  return fig;
}

double
stat_registry_get(StatRegistry *r, const char *name)
{
  const RegEntry *e0;
  const RegFigure *fig = find(r, name, &e0);
  return fig == NULL || e0->kind == REG_SAMPLES || e0->kind == REG_KM ? NAN : figure_value(r, fig);
}

StatSamples *
stat_registry_samples_of(StatRegistry *r, const char *prefix)
{
  const RegEntry *e0;
  return find(r, prefix, &e0) != NULL && e0->kind == REG_SAMPLES ? e0->u.samples.s : NULL;
}
