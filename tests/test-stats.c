/* Tests of the statistics: tallies against hand-computed values and merging, the time
 * average of a known piecewise-constant function, quantiles exact and sketched (within
 * the stated relative error of the exact answer), and sampled time series. */
#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <math.h>
#include <stdlib.h>

#include "m2m/dist.h"
#include "m2m/stats.h"

static void
test_tally(void)
{
  const double x[] = {2, 4, 4, 4, 5, 5, 7, 9};
  StatTally t;
  stat_tally_init(&t);
  g_assert_true(isnan(stat_tally_mean(&t)));
  for (size_t i = 0; i < G_N_ELEMENTS(x); i++)
    stat_tally_add(&t, x[i]);
  g_assert_cmpuint(t.n, ==, 8);
  g_assert_cmpfloat_with_epsilon(stat_tally_mean(&t), 5.0, 1e-12);
  g_assert_cmpfloat_with_epsilon(stat_tally_variance(&t), 32.0 / 7.0, 1e-12);
  g_assert_cmpfloat_with_epsilon(t.min, 2, 1e-12);
  g_assert_cmpfloat_with_epsilon(t.max, 9, 1e-12);
}

/* Welford stays accurate with a large offset, and merging equals adding one by one. */
static void
test_tally_merge(void)
{
  RngStream s;
  rng_stream_init(&s, 1, 1, 1);
  StatTally all, a, b;
  stat_tally_init(&all);
  stat_tally_init(&a);
  stat_tally_init(&b);
  for (int i = 0; i < 100000; i++) {
    double x = 1e9 + rng_uniform(&s); /* variance 1/12 on top of 1e9 */
    stat_tally_add(&all, x);
    stat_tally_add(i % 3 ? &a : &b, x);
  }
  g_assert_cmpfloat(fabs(stat_tally_variance(&all) - 1.0 / 12), <, 0.01 / 12);
  stat_tally_merge(&a, &b);
  g_assert_cmpuint(a.n, ==, all.n);
  /* 1e-13 relative */
  g_assert_cmpfloat(fabs(stat_tally_mean(&a) - stat_tally_mean(&all)), <, 1e-4);
  g_assert_cmpfloat(fabs(stat_tally_variance(&a) / stat_tally_variance(&all) - 1), <, 1e-6);
  g_assert_cmpfloat_with_epsilon(a.min, all.min, 1e-12);
  g_assert_cmpfloat_with_epsilon(a.max, all.max, 1e-12);
}

/* Level 0 on [0,10), 4 on [10,30), 1 on [30,60), 0 after: mean over [0,100] = 1.1. */
static void
test_level(void)
{
  StatLevel l;
  stat_level_init(&l, 0, 0);
  g_assert_cmpfloat_with_epsilon(stat_level_mean(&l, 0), 0, 1e-12);
  stat_level_set(&l, 10, 4);
  stat_level_add(&l, 30, -3);
  g_assert_cmpfloat_with_epsilon(stat_level_mean(&l, 30), 80.0 / 30, 1e-12);
  stat_level_set(&l, 60, 0);
  g_assert_cmpfloat_with_epsilon(stat_level_integral(&l, 100), 110, 1e-12);
  g_assert_cmpfloat_with_epsilon(stat_level_mean(&l, 100), 1.1, 1e-12);
  g_assert_cmpfloat_with_epsilon(l.max, 4, 1e-12);
  g_assert_cmpfloat_with_epsilon(l.min, 0, 1e-12);
  /* starting later than 0, and a change at the same instant twice */
  StatLevel m;
  stat_level_init(&m, 1000, 2);
  stat_level_set(&m, 1500, 7);
  stat_level_set(&m, 1500, 6);
  g_assert_cmpfloat_with_epsilon(stat_level_mean(&m, 2000), (2 * 500 + 6 * 500) / 1000.0, 1e-12);
}

static void
test_quantiles_exact(void)
{
  g_autoptr(StatQuantiles) q = stat_quantiles_new();
  g_assert_true(isnan(stat_quantiles_get(q, 0.5)));
  for (int i = 0; i < 101; i++)
    stat_quantiles_add(q, (double)((i * 37) % 101 + 1)); /* 1..101 shuffled */
  g_assert_true(stat_quantiles_is_exact(q));
  g_assert_cmpfloat_with_epsilon(stat_quantiles_get(q, 0), 1, 1e-12);
  g_assert_cmpfloat_with_epsilon(stat_quantiles_get(q, 0.5), 51, 1e-12);
  g_assert_cmpfloat_with_epsilon(stat_quantiles_get(q, 0.99), 100, 1e-12);
  g_assert_cmpfloat_with_epsilon(stat_quantiles_get(q, 1), 101, 1e-12);
  stat_quantiles_add(q, 0.5); /* unsorted again after an add */
  g_assert_cmpfloat_with_epsilon(stat_quantiles_get(q, 0), 0.5, 1e-12);
}

static int
cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Sketch answers within relative error 1% of the exact sample quantile of the same rank,
 * on a heavy-tailed sample with zeros and negatives (waiting times have many zeros). */
static void
test_quantiles_sketch(void)
{
  enum { N = 400000 };
  const double ps[] = {0, 0.001, 0.01, 0.1, 0.15, 0.25, 0.3, 0.5, 0.75, 0.9, 0.99, 0.999, 1};
  DistSpec ln = {DIST_LOGNORMAL, 1000, 0, 2.0};
  RngStream s;
  rng_stream_init(&s, 2, 2, 2);
  double *x = g_new(double, N);
  g_autoptr(StatQuantiles) q = stat_quantiles_new();
  g_autoptr(StatQuantiles) a = stat_quantiles_new_full(1000, 0.01);
  g_autoptr(StatQuantiles) b = stat_quantiles_new_full(1000, 0.01);
  for (int i = 0; i < N; i++) {
    double v = dist_sample_us(&ln, &s);
    int r = i % 10;
    if (r == 0)
      v = 0;
    else if (r == 1)
      v = -v;
    x[i] = v;
    stat_quantiles_add(q, v);
    stat_quantiles_add(i % 2 ? a : b, v);
  }
  g_assert_false(stat_quantiles_is_exact(q));
  g_assert_cmpuint(stat_quantiles_count(q), ==, N);
  stat_quantiles_merge(a, b);
  g_assert_cmpuint(stat_quantiles_count(a), ==, N);
  qsort(x, N, sizeof *x, cmp_double);
  for (size_t i = 0; i < G_N_ELEMENTS(ps); i++) {
    double exact = x[(size_t)floor(ps[i] * (N - 1))];
    double est = stat_quantiles_get(q, ps[i]);
    g_test_message("p %g exact %g sketch %g", ps[i], exact, est);
    g_assert_cmpfloat(fabs(est - exact), <=, 0.01 * fabs(exact) * (1 + 1e-9));
    /* the merged sketch of two halves answers the same */
    g_assert_cmpfloat(fabs(stat_quantiles_get(a, ps[i]) - est), <=, 1e-9 * fabs(est));
  }
  g_free(x);
}

/* Exact stores merge exactly while small. */
static void
test_quantiles_merge_exact(void)
{
  g_autoptr(StatQuantiles) a = stat_quantiles_new();
  g_autoptr(StatQuantiles) b = stat_quantiles_new();
  for (int i = 1; i <= 10; i++)
    stat_quantiles_add(i % 2 ? a : b, i);
  stat_quantiles_merge(a, b);
  g_assert_true(stat_quantiles_is_exact(a));
  g_assert_cmpfloat_with_epsilon(stat_quantiles_get(a, 0.5), 5, 1e-12);
  g_assert_cmpfloat_with_epsilon(stat_quantiles_get(a, 1), 10, 1e-12);
}

/* ---- sampler ------------------------------------------------------------------------- */

typedef struct {
  double level;
} Thing;

static double
probe_level(void *ctx)
{
  return ((Thing *)ctx)->level;
}

static double
probe_twice(void *ctx)
{
  return 2 * ((Thing *)ctx)->level;
}

static void
bump(SimEngine *sim, void *ctx, uint64_t arg)
{
  ((Thing *)ctx)->level += (double)arg;
}

static void
test_sampler(void)
{
  g_autoptr(SimEngine) sim = sim_engine_new();
  Thing th = {0};
  /* scheduled before the sampler: runs before the sample at t = 10 */
  sim_schedule_at(sim, 10, bump, &th, 1);
  g_autoptr(StatSampler) smp = stat_sampler_new(sim, 10, 35);
  stat_sampler_add_probe(smp, "level", probe_level, &th);
  stat_sampler_add_probe(smp, "twice", probe_twice, &th);
  stat_sampler_start(smp);
  sim_schedule_at(sim, 25, bump, &th, 5);
  sim_schedule_at(sim, 35, bump, &th, 100); /* scheduled before the t=35 sample exists */
  sim_schedule_at(sim, 50, bump, &th, 1000);
  sim_run_until(sim, 100);
  const SimTime expect_t[] = {0, 10, 20, 30, 35};
  const double expect_v[] = {0, 1, 1, 6, 106};
  g_assert_cmpuint(stat_sampler_n_rows(smp), ==, 5);
  g_assert_cmpuint(stat_sampler_n_probes(smp), ==, 2);
  g_assert_cmpstr(stat_sampler_probe_name(smp, 1), ==, "twice");
  for (size_t r = 0; r < 5; r++) {
    g_assert_cmpint(stat_sampler_time(smp, r), ==, expect_t[r]);
    g_assert_cmpfloat_with_epsilon(stat_sampler_value(smp, r, 0), expect_v[r], 1e-12);
    g_assert_cmpfloat_with_epsilon(stat_sampler_value(smp, r, 1), 2 * expect_v[r], 1e-12);
  }
}

/* End on an interval boundary: no duplicate last row. Freed early: its event is cancelled. */
static void
test_sampler_boundary(void)
{
  g_autoptr(SimEngine) sim = sim_engine_new();
  Thing th = {0};
  StatSampler *smp = stat_sampler_new(sim, 10, 30);
  stat_sampler_add_probe(smp, "level", probe_level, &th);
  stat_sampler_start(smp);
  sim_run_until(sim, 30);
  g_assert_cmpuint(stat_sampler_n_rows(smp), ==, 4);
  g_assert_cmpint(stat_sampler_time(smp, 3), ==, 30);
  stat_sampler_free(smp);

  smp = stat_sampler_new(sim, 10, 1000);
  stat_sampler_start(smp);
  sim_run_until(sim, 55);
  g_assert_cmpuint(stat_sampler_n_rows(smp), ==, 3); /* 30, 40, 50 */
  stat_sampler_free(smp);
  g_assert_cmpuint(sim_events_pending(sim), ==, 1e-12);
}

typedef struct {
  GPtrArray *names;
  GArray *values;
} Seen;

static void
seen_add(void *data, const char *name, double value)
{
  Seen *s = data;
  g_ptr_array_add(s->names, g_strdup(name));
  g_array_append_val(s->values, value);
}

static double
absent(void *ctx)
{
  return NAN;
}

static double
half(void *ctx)
{
  return *(const double *)ctx / 2;
}

/* The registry lists figures in registration order, adds same-name figures up, leaves
 * out values that are NAN and samples without a sample, and names samples' figures. */
static void
test_registry(void)
{
  g_autoptr(StatRegistry) r = stat_registry_new();
  typedef struct {
    uint64_t a, b;
  } Two;
  Two one = {1, 2}, other = {10, 20};
  double ten = 10;
  StatSamples lat, empty;
  stat_samples_init(&lat, true);
  stat_samples_init(&empty, true);
  for (int i = 1; i <= 100; i++)
    stat_samples_add(&lat, i);
  stat_registry_counter_fields(r, "x.a x.b", &one, sizeof one);
  stat_registry_value(r, "x.gone", absent, NULL);
  stat_registry_samples(r, "lat", &lat, true);
  stat_registry_samples(r, "none", &empty, true);
  stat_registry_counter_fields(r, "x.a\n  x.b", &other, sizeof other); /* adds up */
  stat_registry_value(r, "x.half", half, &ten);
  one.a = 3; /* read when listed, not when registered */
  Seen seen = {g_ptr_array_new_with_free_func(g_free), g_array_new(FALSE, FALSE, sizeof(double))};
  stat_registry_foreach(r, seen_add, &seen);
  static const char *const want[] = {"x.a",     "x.b",     "lat.mean", "lat.p50",
                                     "lat.p95", "lat.p99", "lat.max",  "x.half"};
  static const double want_v[] = {13, 22, 50.5, 50, 95, 99, 100, 5};
  g_assert_cmpuint(seen.names->len, ==, G_N_ELEMENTS(want));
  for (guint i = 0; i < seen.names->len; i++) {
    g_assert_cmpstr(seen.names->pdata[i], ==, want[i]);
    g_assert_cmpfloat_with_epsilon(g_array_index(seen.values, double, i), want_v[i], 1e-12);
  }
  g_assert_cmpfloat_with_epsilon(stat_registry_get(r, "x.b"), 22, 1e-12);
  g_assert_true(isnan(stat_registry_get(r, "x.gone")));
  g_assert_true(isnan(stat_registry_get(r, "nothing")));
  g_ptr_array_unref(seen.names);
  g_array_unref(seen.values);
  stat_samples_clear(&lat);
  stat_samples_clear(&empty);
}

/* Names that do not match the fields are a bug caught at registration. */
static void
test_registry_mismatch(void)
{
  if (g_test_subprocess()) {
    g_autoptr(StatRegistry) r = stat_registry_new();
    uint64_t three[3] = {0, 0, 0};
    stat_registry_counter_fields(r, "a b", three, sizeof three);
    return;
  }
  g_test_trap_subprocess(NULL, 0, 0);
  g_test_trap_assert_failed();
  g_test_trap_assert_stderr("*2 names for 3 fields*");
}

/* Kaplan-Meier on the textbook sample (Freireich et al. 1963, 6-MP arm, weeks to relapse;
 * * = still in remission): S(23) = 0.448 is the first estimate below 1/2, so the median is
 * 23; Greenwood's standard error at 13 is 0.107 (S 0.690 within 1.96 of them of 1/2: the
 * interval starts there) and the curve never falls far enough below 1/2 to close it. */
static void
test_km_textbook(void)
{
  const double t[] = {6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35};
  const bool censored[] = {0, 0, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1};
  g_autoptr(StatQuantiles) ev = stat_quantiles_new();
  g_autoptr(StatQuantiles) ce = stat_quantiles_new();
  for (size_t i = 0; i < G_N_ELEMENTS(t); i++)
    stat_quantiles_add(censored[i] ? ce : ev, t[i]);
  const double p[] = {0.1, 0.25, 0.5, 0.6};
  StatKmQuantile q[4];
  stat_km_quantiles(ev, ce, 0, 4, p, q);
  g_assert_cmpfloat_with_epsilon(q[0].value, 6, 1e-9);  /* S(6) = 0.857 <= 0.9 */
  g_assert_cmpfloat_with_epsilon(q[1].value, 13, 1e-9); /* S(10) = 0.753 > 0.75, S(13) = 0.690 */
  g_assert_cmpfloat_with_epsilon(q[2].value, 23, 1e-9);
  g_assert_cmpfloat_with_epsilon(q[2].lo, 13, 1e-9);
  g_assert_true(isnan(q[2].hi));
  g_assert_true(isnan(q[3].value)); /* the estimate stops at 0.448: never 0.4 */
  g_assert_true(isnan(q[3].lo) || q[3].lo <= 35);
  /* Subjects that never have the event stay in every risk set: 21 more of them halve the
   * hazard at every time, and the median is no longer reached. */
  stat_km_quantiles(ev, ce, 21, 4, p, q);
  /* S(6) = 39/42, S(7) = 0.904, S(10) = 0.879 */
  g_assert_cmpfloat_with_epsilon(q[0].value, 10, 1e-9);
  g_assert_true(isnan(q[2].value));
  g_assert_true(isnan(q[2].lo) || q[2].lo > 13);
}

/* Without censoring the estimate is the empirical quantile: the sample of rank
 * ceil(p n) - 1, the same as stat_quantiles_get's or the one after. */
static void
test_km_uncensored(void)
{
  g_autoptr(StatQuantiles) ev = stat_quantiles_new();
  g_autoptr(StatQuantiles) ce = stat_quantiles_new();
  for (int i = 1000; i >= 1; i--)
    stat_quantiles_add(ev, i); /* 1..1000 */
  const double p[] = {0.5, 0.95, 0.99, 0.999};
  StatKmQuantile q[4];
  stat_km_quantiles(ev, ce, 0, 4, p, q);
  g_assert_cmpfloat_with_epsilon(q[0].value, 500, 1e-9);
  g_assert_cmpfloat_with_epsilon(q[1].value, 950, 1e-9);
  g_assert_cmpfloat_with_epsilon(q[2].value, 990, 1e-9);
  g_assert_cmpfloat_with_epsilon(q[3].value, 999, 1e-9);
  for (int i = 0; i < 4; i++) {
    g_assert_cmpfloat(q[i].value, >=, stat_quantiles_get(ev, p[i]));
    g_assert_cmpfloat(q[i].value, <=, stat_quantiles_get(ev, p[i]) + 1);
    g_assert_cmpfloat(q[i].lo, <=, q[i].value);
  }
  /* The median's interval: +-1.96 sqrt(n p (1 - p)) ranks, about 31 either side. */
  g_assert_cmpfloat(fabs(q[0].lo - (500 - 31)), <=, 2);
  g_assert_cmpfloat(fabs(q[0].hi - (500 + 31)), <=, 2);
}

/* Independent censoring: event times Exp(1), each subject seen until an Exp(1) censoring
 * time, half of them censored; 300,000 subjects (both stores sketches). The estimate of
 * the median is ln 2 within the sketch's 1 % and a few standard errors, and its interval
 * holds ln 2; the median of the observed event times alone (censoring ignored) is far
 * below it (ln 2 / 2: the minimum of two Exp(1) is Exp(2)). */
static void
test_km_censored_exponential(void)
{
  enum { N = 300000 };
  RngStream s;
  rng_stream_init(&s, 3, 3, 3);
  g_autoptr(StatQuantiles) ev = stat_quantiles_new();
  g_autoptr(StatQuantiles) ce = stat_quantiles_new();
  for (int i = 0; i < N; i++) {
    double t = -log(rng_uniform_open(&s)), c = -log(rng_uniform_open(&s));
    stat_quantiles_add(t <= c ? ev : ce, t <= c ? t : c);
  }
  g_assert_false(stat_quantiles_is_exact(ev));
  const double p[] = {0.5, 0.9};
  StatKmQuantile q[2];
  stat_km_quantiles(ev, ce, 0, 2, p, q);
  g_assert_cmpfloat(fabs(q[0].value / log(2) - 1), <=, 0.02);
  g_assert_cmpfloat(q[0].lo, <=, log(2) * 1.01);
  g_assert_cmpfloat(q[0].hi, >=, log(2) * 0.99);
  g_assert_cmpfloat(fabs(q[1].value / log(10) - 1), <=, 0.03);
  g_assert_cmpfloat(stat_quantiles_get(ev, 0.5), <, 0.4);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/stats/tally", test_tally);
  g_test_add_func("/stats/tally-merge", test_tally_merge);
  g_test_add_func("/stats/level", test_level);
  g_test_add_func("/stats/quantiles/exact", test_quantiles_exact);
  g_test_add_func("/stats/quantiles/sketch", test_quantiles_sketch);
  g_test_add_func("/stats/quantiles/merge-exact", test_quantiles_merge_exact);
  g_test_add_func("/stats/km/textbook", test_km_textbook);
  g_test_add_func("/stats/km/uncensored", test_km_uncensored);
  g_test_add_func("/stats/km/censored-exponential", test_km_censored_exponential);
  g_test_add_func("/stats/sampler", test_sampler);
  g_test_add_func("/stats/registry", test_registry);
  g_test_add_func("/stats/registry-mismatch", test_registry_mismatch);
  g_test_add_func("/stats/sampler-boundary", test_sampler_boundary);
  return g_test_run();
}
