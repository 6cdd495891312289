/* Tests of the distributions and arrival processes: sample mean and variance against
 * theory within 5 standard errors (estimated from the sample's own fourth moment for the
 * variance), and a Kolmogorov-Smirnov test against the exact CDF for the continuous
 * distributions at alpha = 0.001, all with fixed seeds. */
#include <glib.h>
#include <math.h>
#include <stdlib.h>

#include "m2m/dist.h"

enum { N_MOMENTS = 200000, N_KS = 100000 };

/* Kolmogorov's asymptotic critical value at alpha = 0.001: sqrt(-ln(alpha / 2) / 2). */
#define KS_C_001 1.94947

static int
cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Sample mean within 5 SE of mu, sample variance within 5 SE of var. */
static void
check_moments(const double *x, size_t n, double mu, double var)
{
  double m = 0;
  for (size_t i = 0; i < n; i++)
    m += x[i];
  m /= (double)n;
  double m2 = 0, m4 = 0;
  for (size_t i = 0; i < n; i++) {
    double d = x[i] - m;
    m2 += d * d;
    m4 += d * d * d * d;
  }
  m2 /= (double)(n - 1);
  m4 /= (double)n;
  double se_mean = sqrt(var / (double)n);
  double se_var = sqrt((m4 - m2 * m2) / (double)n);
  g_test_message("mean %g (theory %g, se %g), variance %g (theory %g, se %g)", m, mu, se_mean, m2,
                 var, se_var);
  g_assert_cmpfloat(fabs(m - mu), <=, 5 * se_mean + 1e-12 * fabs(mu));
  g_assert_cmpfloat(fabs(m2 - var), <=, 5 * se_var + 1e-9 * var);
}

/* Largest |F_n - F| over the sorted sample; asserted below the alpha = 0.001 critical value. */
static void
check_ks(double *x, size_t n, double (*cdf)(double, const void *), const void *ud)
{
  qsort(x, n, sizeof *x, cmp_double);
  double dmax = 0;
  for (size_t i = 0; i < n; i++) {
    double f = cdf(x[i], ud);
    double lo = f - (double)i / (double)n, hi = (double)(i + 1) / (double)n - f;
    dmax = fmax(dmax, fmax(lo, hi));
  }
  double crit = KS_C_001 / sqrt((double)n);
  g_test_message("KS D = %g (critical %g)", dmax, crit);
  g_assert_cmpfloat(dmax, <, crit);
}

static double *
draw_spec(const DistSpec *d, uint32_t entity, size_t n)
{
  RngStream s;
  rng_stream_init(&s, 20240601, 11, entity);
  double *x = g_new(double, n);
  for (size_t i = 0; i < n; i++)
    x[i] = dist_sample_us(d, &s);
  return x;
}

static double
cdf_spec(double x, const void *ud)
{
  const DistSpec *d = ud;
  double a = (double)d->a;
  switch (d->kind) {
  case DIST_EXPONENTIAL:
    return 1 - exp(-x / a);
  case DIST_UNIFORM:
    return (x - a) / ((double)d->b - a);
  case DIST_LOGNORMAL:
    return 0.5 * erfc(-(log(x) - log(a)) / (d->p1 * sqrt(2.0)));
  case DIST_BETA: {
    /* integer shapes: I_y(p, q) = sum_{j=p}^{p+q-1} C(p+q-1, j) y^j (1-y)^(p+q-1-j) */
    int p = (int)d->p1, q = (int)d->p2, m = p + q - 1;
    double y = x / a, sum = 0, c = 1;
    for (int j = 0; j <= m; j++) {
      if (j >= p)
        sum += c * pow(y, j) * pow(1 - y, m - j);
      c = c * (m - j) / (j + 1);
    }
    return sum;
  }
  default:
    g_assert_not_reached();
  }
}

static void
check_spec(const DistSpec *d, uint32_t entity)
{
  double *x = draw_spec(d, entity, N_MOMENTS);
  check_moments(x, N_MOMENTS, dist_mean_us(d), dist_variance_us2(d));
  g_free(x);
  x = draw_spec(d, entity + 1000, N_KS);
  check_ks(x, N_KS, cdf_spec, d);
  g_free(x);
}

static void
test_exponential(void)
{
  DistSpec d = {DIST_EXPONENTIAL, 250 * SIM_MS};
  check_spec(&d, 1);
}

static void
test_uniform(void)
{
  DistSpec d = {DIST_UNIFORM, 2 * SIM_S, 7 * SIM_S};
  check_spec(&d, 2);
}

static void
test_lognormal(void)
{
  DistSpec d = {DIST_LOGNORMAL, 300 * SIM_MS, 0, 0.6};
  check_spec(&d, 3);
}

static void
test_beta(void)
{
  DistSpec d = {DIST_BETA, 10 * SIM_S, 0, 3, 4}; /* the TR 37.868 burst shape */
  check_spec(&d, 4);
  DistSpec e = {DIST_BETA, 1 * SIM_S, 0, 2, 5};
  check_spec(&e, 5);
}

static void
test_constant(void)
{
  DistSpec d = {DIST_CONSTANT, 1234};
  RngStream s;
  rng_stream_init(&s, 1, 1, 1);
  for (int i = 0; i < 100; i++)
    g_assert_cmpint(dist_sample(&d, &s), ==, 1234);
  g_assert_cmpfloat(dist_variance_us2(&d), <=, 0);
}

/* Gamma with shape below and above 1 (the two code paths), and a non-integer beta. */
static void
test_gamma_beta_moments(void)
{
  const double shapes[] = {0.3, 1.0, 3.7};
  RngStream s;
  rng_stream_init(&s, 5, 5, 5);
  double *x = g_new(double, N_MOMENTS);
  for (size_t k = 0; k < G_N_ELEMENTS(shapes); k++) {
    for (size_t i = 0; i < N_MOMENTS; i++)
      x[i] = dist_gamma(&s, shapes[k]);
    check_moments(x, N_MOMENTS, shapes[k], shapes[k]);
  }
  for (size_t i = 0; i < N_MOMENTS; i++)
    x[i] = dist_beta(&s, 0.5, 1.5);
  check_moments(x, N_MOMENTS, 0.25, 0.5 * 1.5 / (4.0 * 3.0));
  g_free(x);
}

/* Rounded samples are the unrounded ones to the nearest microsecond. */
static void
test_rounding(void)
{
  DistSpec d = {DIST_EXPONENTIAL, 7};
  RngStream a, b;
  rng_stream_init(&a, 3, 3, 3);
  rng_stream_init(&b, 3, 3, 3);
  for (int i = 0; i < 1000; i++)
    g_assert_cmpint(dist_sample(&d, &a), ==, llround(dist_sample_us(&d, &b)));
}

/* A mixture: draws fall in each part by its weight, and their mean and variance are the
 * mixture's (law of total variance). */
static void
test_mixture(void)
{
  DistSpec d = {.kind = DIST_MIXTURE, .n_parts = 3};
  d.weight[0] = 0.5;
  d.part[0] = (DistPart){DIST_EXPONENTIAL, 1000};
  d.weight[1] = 0.3;
  d.part[1] = (DistPart){DIST_CONSTANT, 50000};
  d.weight[2] = 0.2;
  d.part[2] = (DistPart){DIST_UNIFORM, 100000, 200000};
  double mean = 0.5 * 1000 + 0.3 * 50000 + 0.2 * 150000;
  g_assert_cmpfloat_with_epsilon(dist_mean_us(&d), mean, 1e-9);
  double second = 0.5 * 2 * 1000.0 * 1000 + 0.3 * 50000.0 * 50000 +
                  0.2 * (100000.0 * 100000 / 12 + 150000.0 * 150000);
  g_assert_cmpfloat_with_epsilon(dist_variance_us2(&d), second - mean * mean, 1e-3);
  RngStream s;
  rng_stream_init(&s, 10, 10, 10);
  enum { N = 200000 };
  double *x = g_new(double, N);
  unsigned at_50ms = 0;
  for (int i = 0; i < N; i++) {
    x[i] = dist_sample_us(&d, &s);
    at_50ms += !(fabs(x[i] - 50000) > 0); /* the constant part: exactly */
  }
  check_moments(x, N, dist_mean_us(&d), dist_variance_us2(&d));
  g_assert_cmpfloat(fabs(at_50ms - 0.3 * N), <=, 4 * sqrt(N * 0.3 * 0.7));
  g_free(x);
}

/* Empirical distributions: samples drawn one at random (each about equally often, the
 * mean theirs), and a distribution function inverted linearly between its points (an atom
 * at the first point's probability; the mean and variance of the piecewise-uniform law). */
static void
test_empirical(void)
{
  static const double samples[] = {1000, 2000, 7000};
  DistSpec d = {.kind = DIST_EMPIRICAL, .table = samples, .n_table = 3};
  g_assert_cmpfloat_with_epsilon(dist_mean_us(&d), 10000.0 / 3, 1e-9);
  RngStream s;
  rng_stream_init(&s, 11, 11, 11);
  enum { N = 300000 };
  unsigned seen[3] = {0, 0, 0};
  for (int i = 0; i < N; i++) {
    double x = dist_sample_us(&d, &s);
    seen[x < 1500 ? 0 : x < 4000 ? 1 : 2]++;
    g_assert_true(!(fabs(x - 1000) > 0) || !(fabs(x - 2000) > 0) || !(fabs(x - 7000) > 0));
  }
  for (int k = 0; k < 3; k++)
    g_assert_cmpfloat(fabs(seen[k] - N / 3.0), <=, 4 * sqrt(N * (1 / 3.0) * (2 / 3.0)));
  /* 20 % at 0, then uniform to 1 s with probability 0.6, uniform 1 s .. 3 s with 0.2 */
  static const double cdf[] = {0, 0.2, 1e6, 0.8, 3e6, 1.0};
  DistSpec f = {.kind = DIST_EMPIRICAL, .table = cdf, .n_table = 3, .table_cdf = true};
  double mean = 0.6 * 0.5e6 + 0.2 * 2e6;
  double second = 0.6 * (1e12 / 3) + 0.2 * (1e12 + 3e12 + 9e12) / 3;
  g_assert_cmpfloat_with_epsilon(dist_mean_us(&f), mean, 1e-6);
  g_assert_cmpfloat_with_epsilon(dist_variance_us2(&f), second - mean * mean, 1);
  double *x = g_new(double, N);
  unsigned zero = 0;
  for (int i = 0; i < N; i++) {
    x[i] = dist_sample_us(&f, &s);
    zero += !(x[i] > 0);
  }
  check_moments(x, N, mean, second - mean * mean);
  g_assert_cmpfloat(fabs(zero - 0.2 * N), <=, 4 * sqrt(N * 0.2 * 0.8));
  g_free(x);
}

static void
test_poisson_arrivals(void)
{
  ArrivalSpec sp = {ARRIVAL_POISSON, 50.0};
  RngStream s;
  rng_stream_init(&s, 8, 8, 8);
  DistArrivals a;
  dist_arrivals_init(&a, &sp, 5 * SIM_S, 0, &s);
  enum { N = 200000 };
  double *gap = g_new(double, N);
  SimTime prev = 5 * SIM_S;
  for (int i = 0; i < N; i++) {
    SimTime t = dist_arrivals_next(&a, &s);
    g_assert_cmpint(t, >=, prev);
    gap[i] = (double)(t - prev);
    prev = t;
  }
  /* gaps: Exp(mean 20 ms), rounded to microseconds (variance + 1/12 us^2, negligible) */
  check_moments(gap, N, 20000, 20000.0 * 20000.0);
  g_free(gap);
  dist_arrivals_clear(&a);
}

static void
test_constant_arrivals(void)
{
  ArrivalSpec sp = {ARRIVAL_CONSTANT, 3.0}; /* 333333.33 us apart: no drift allowed */
  DistArrivals a;
  dist_arrivals_init(&a, &sp, 100, 3001, NULL);
  SimTime t = 0;
  for (int k = 1; k <= 3000; k++) {
    t = dist_arrivals_next(&a, NULL);
    g_assert_cmpint(t, ==, 100 + llround(k * 1e6 / 3.0));
  }
  g_assert_cmpint(t, ==, 100 + 1000 * SIM_S);
  g_assert_cmpint(dist_arrivals_next(&a, NULL), ==, 100 + 1000 * SIM_S + 333333);
  g_assert_cmpint(dist_arrivals_next(&a, NULL), ==, SIM_TIME_MAX); /* n reached */
  dist_arrivals_clear(&a);
}

/* Piecewise: the count in each piece is Poisson of rate x length (within 4 sd), and the
 * expected-count integral is the sum of the pieces. */
static void
test_piecewise_arrivals(void)
{
  ArrivalSpec sp = {.kind = ARRIVAL_PIECEWISE, .n_pieces = 3};
  sp.pieces[0] = (ArrivalPiece){0, 100.0};
  sp.pieces[1] = (ArrivalPiece){100 * SIM_S, 400.0};
  sp.pieces[2] = (ArrivalPiece){150 * SIM_S, 10.0};
  g_assert_cmpfloat_with_epsilon(dist_arrivals_expected(&sp, 200 * SIM_S),
                                 100.0 * 100 + 400.0 * 50 + 10.0 * 50, 1e-6);
  g_assert_cmpfloat_with_epsilon(dist_arrivals_expected(&sp, 120 * SIM_S), 10000 + 8000, 1e-6);
  RngStream s;
  rng_stream_init(&s, 9, 9, 9);
  DistArrivals a;
  dist_arrivals_init(&a, &sp, 0, 0, &s);
  double in[3] = {0, 0, 0};
  SimTime t, prev = 0;
  while ((t = dist_arrivals_next(&a, &s)) < 200 * SIM_S) {
    g_assert_cmpint(t, >=, prev);
    prev = t;
    in[t < 100 * SIM_S ? 0 : t < 150 * SIM_S ? 1 : 2]++;
  }
  const double want[3] = {10000, 20000, 500};
  for (int i = 0; i < 3; i++)
    g_assert_cmpfloat(fabs(in[i] - want[i]), <=, 4 * sqrt(want[i]));
  dist_arrivals_clear(&a);
}

/* Growth: a constant-rate process growing 100% a year makes arrival k where the rate's
 * integral reaches k; the rate doubles in a year; a shrinking one stops when its
 * integral's limit r0 / |b| is spent. */
static void
test_growth_arrivals(void)
{
  ArrivalSpec sp = {ARRIVAL_CONSTANT, 1.0 / 3600};
  sp.growth_pct_per_year = 100;
  double b = log(2.0) / ARRIVAL_YEAR_S;
  DistArrivals a;
  dist_arrivals_init(&a, &sp, 0, 0, NULL);
  for (int k = 1; k <= 2000; k++) {
    SimTime t = dist_arrivals_next(&a, NULL);
    double want_s = log1p(b * k / sp.rate_per_s) / b;
    g_assert_cmpfloat(fabs(sim_time_to_s(t) - want_s), <=, 1e-3);
  }
  /* arrivals per day after a year: twice the first day's */
  double y = ARRIVAL_YEAR_S;
  double first = dist_arrivals_expected(&sp, 86400 * SIM_S);
  double later = dist_arrivals_expected(&sp, (SimTime)((y + 86400) * SIM_S)) -
                 dist_arrivals_expected(&sp, (SimTime)(y * SIM_S));
  g_assert_cmpfloat_with_epsilon(later / first, 2.0, 1e-3);

  ArrivalSpec shrink = {ARRIVAL_CONSTANT, 1.0};
  shrink.growth_pct_per_year = -99.9;
  double limit = shrink.rate_per_s / (-log1p(-0.999) / ARRIVAL_YEAR_S); /* ~ 4.57 M */
  dist_arrivals_init(&a, &shrink, 0, 0, NULL);
  uint64_t n = 0;
  while (dist_arrivals_next(&a, NULL) != SIM_TIME_MAX && n < 10000000)
    n++;
  g_assert_cmpfloat(fabs((double)n - floor(limit)), <=, 1);
}

static double
cdf_beta34(double x, const void *ud)
{
  DistSpec d = {DIST_BETA, 1, 0, 3, 4};
  return cdf_spec(x, &d);
}

static void
test_burst_arrivals(void)
{
  ArrivalSpec sp = {ARRIVAL_BURST, 0, 60 * SIM_S, 10 * SIM_S, 3, 4};
  RngStream s;
  rng_stream_init(&s, 9, 9, 9);
  DistArrivals a;
  dist_arrivals_init(&a, &sp, 0, N_KS, &s);
  double *x = g_new(double, N_KS);
  SimTime prev = 0;
  for (int i = 0; i < N_KS; i++) {
    SimTime t = dist_arrivals_next(&a, &s);
    g_assert_cmpint(t, >=, prev);
    g_assert_cmpint(t, >=, sp.at);
    g_assert_cmpint(t, <, sp.at + sp.over);
    prev = t;
    x[i] = ((double)(t - sp.at) + 0.5) / (double)sp.over; /* mid-point of the microsecond */
  }
  g_assert_cmpint(dist_arrivals_next(&a, &s), ==, SIM_TIME_MAX);
  dist_arrivals_clear(&a);
  check_moments(x, N_KS, 3.0 / 7.0, 12.0 / (49.0 * 8.0));
  check_ks(x, N_KS, cdf_beta34, NULL);
  g_free(x);
}

/* A one-microsecond window: every arrival at `at`. */
static void
test_burst_tiny(void)
{
  ArrivalSpec sp = {ARRIVAL_BURST, 0, 7, 1, 3, 4};
  RngStream s;
  rng_stream_init(&s, 9, 9, 10);
  SimTime t[100];
  dist_burst_times(&sp, &s, 100, t);
  for (int i = 0; i < 100; i++)
    g_assert_cmpint(t[i], ==, 7);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/dist/exponential", test_exponential);
  g_test_add_func("/dist/uniform", test_uniform);
  g_test_add_func("/dist/lognormal", test_lognormal);
  g_test_add_func("/dist/beta", test_beta);
  g_test_add_func("/dist/constant", test_constant);
  g_test_add_func("/dist/gamma-beta-moments", test_gamma_beta_moments);
  g_test_add_func("/dist/rounding", test_rounding);
  g_test_add_func("/dist/mixture", test_mixture);
  g_test_add_func("/dist/empirical", test_empirical);
  g_test_add_func("/dist/arrivals/poisson", test_poisson_arrivals);
  g_test_add_func("/dist/arrivals/constant", test_constant_arrivals);
  g_test_add_func("/dist/arrivals/burst", test_burst_arrivals);
  g_test_add_func("/dist/arrivals/piecewise", test_piecewise_arrivals);
  g_test_add_func("/dist/arrivals/growth", test_growth_arrivals);
  g_test_add_func("/dist/arrivals/burst-tiny", test_burst_tiny);
  return g_test_run();
}
