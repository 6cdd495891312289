/* Sampling of the scenario's distributions and arrival processes (m2m/dist.h): inverse
 * transform for exponential and uniform, Box-Muller for the normal behind the lognormal,
 * Marsaglia-Tsang gamma variates for beta. */
#include "m2m/dist.h"

#include <glib.h>
#include <math.h>
#include <stdlib.h>

double
dist_std_exponential(RngStream *s)
{
  return -log(rng_uniform_open(s));
}

double
dist_std_normal(RngStream *s)
{
  double u1 = rng_uniform_open(s), u2 = rng_uniform(s);
  return sqrt(-2.0 * log(u1)) * cos(2.0 * G_PI * u2);
}

double
dist_gamma(RngStream *s, double shape)
{
  g_assert(shape > 0);
  if (shape < 1) {
    double u = rng_uniform_open(s);
    return dist_gamma(s, shape + 1.0) * pow(u, 1.0 / shape);
  }
  double d = shape - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = dist_std_normal(s);
      v = 1.0 + c * x;
    } while (v <= 0);
    v = v * v * v;
    double u = rng_uniform_open(s), x2 = x * x;
    if (u < 1.0 - 0.0331 * x2 * x2)
      return d * v;
    if (log(u) < 0.5 * x2 + d * (1.0 - v + log(v)))
      return d * v;
  }
}

double
dist_beta(RngStream *s, double a, double b)
{
  double x = dist_gamma(s, a), y = dist_gamma(s, b);
  return x / (x + y);
}

/* The one part of a mixture a draw falls in (one uniform draw). */
static const DistPart *
mixture_pick(const DistSpec *d, RngStream *s)
{
  double u = rng_uniform(s), acc = 0;
  for (unsigned i = 0; i + 1 < d->n_parts; i++) {
    acc += d->weight[i];
    if (u < acc)
      return &d->part[i];
  }
  return &d->part[d->n_parts - 1];
}

static double
part_sample_us(const DistPart *d, RngStream *s)
{
  switch (d->kind) {
  case DIST_CONSTANT:
    return (double)d->a;
  case DIST_EXPONENTIAL:
    return (double)d->a * dist_std_exponential(s);
  case DIST_UNIFORM:
    return (double)d->a + (double)(d->b - d->a) * rng_uniform(s);
  case DIST_LOGNORMAL:
    return (double)d->a * exp(d->p1 * dist_std_normal(s));
  case DIST_BETA:
    return (double)d->a * dist_beta(s, d->p1, d->p2);
  case DIST_MIXTURE:
  case DIST_EMPIRICAL:
    break;
  }
  g_assert_not_reached();
}

/* A DistSpec's own fields as a part (the same leading fields). */
static DistPart
as_part(const DistSpec *d)
{
  return (DistPart){d->kind, d->a, d->b, d->p1, d->p2};
}

/* An empirical distribution: one of its samples, or the inverse of its distribution
 * function (linear between its points; the first point's probability is an atom there). */
static double
empirical_sample_us(const DistSpec *d, RngStream *s)
{
  double u = rng_uniform(s);
  if (!d->table_cdf) {
    size_t i = (size_t)(u * (double)d->n_table);
    return d->table[MIN(i, d->n_table - 1)];
  }
  const double *t = d->table; /* value, probability, value, probability, ... */
  if (u <= t[1])
    return t[0];
  size_t lo = 0, hi = d->n_table - 1; /* p[lo] < u <= p[hi] */
  while (hi - lo > 1) {
    size_t mid = (lo + hi) / 2;
    if (t[2 * mid + 1] < u)
      lo = mid;
    else
      hi = mid;
  }
  double p0 = t[2 * lo + 1], p1 = t[2 * hi + 1];
  return t[2 * lo] + (u - p0) / (p1 - p0) * (t[2 * hi] - t[2 * lo]);
}

/* Mean (k = 1) or second moment (k = 2) of an empirical distribution. */
static double
empirical_moment(const DistSpec *d, int k)
{
  double m = 0;
  if (!d->table_cdf) {
    for (size_t i = 0; i < d->n_table; i++)
      m += k == 1 ? d->table[i] : d->table[i] * d->table[i];
    return m / (double)d->n_table;
  }
  const double *t = d->table;
  m = t[1] * (k == 1 ? t[0] : t[0] * t[0]);
  for (size_t i = 1; i < d->n_table; i++) {
    double a = t[2 * i - 2], b = t[2 * i], w = t[2 * i + 1] - t[2 * i - 1];
    m += w * (k == 1 ? (a + b) / 2 : (a * a + a * b + b * b) / 3);
  }
  return m;
}

double
dist_sample_us(const DistSpec *d, RngStream *s)
{
  if (d->kind == DIST_EMPIRICAL)
    return empirical_sample_us(d, s);
  if (d->kind == DIST_MIXTURE)
    return part_sample_us(mixture_pick(d, s), s);
  DistPart p = as_part(d);
  return part_sample_us(&p, s);
}

SimTime
dist_sample(const DistSpec *d, RngStream *s)
{
  double us = dist_sample_us(d, s);
  return us >= 9.2e18 ? SIM_TIME_MAX : (SimTime)llround(us);
}

static double
part_mean_us(const DistPart *d)
{
  double a = (double)d->a;
  switch (d->kind) {
  case DIST_CONSTANT:
  case DIST_EXPONENTIAL:
    return a;
  case DIST_UNIFORM:
    return (a + (double)d->b) / 2;
  case DIST_LOGNORMAL:
    return a * exp(d->p1 * d->p1 / 2);
  case DIST_BETA:
    return a * d->p1 / (d->p1 + d->p2);
  case DIST_MIXTURE:
  case DIST_EMPIRICAL:
    break;
  }
  g_assert_not_reached();
}

static double
part_variance_us2(const DistPart *d)
{
  double a = (double)d->a;
  switch (d->kind) {
  case DIST_CONSTANT:
    return 0;
  case DIST_EXPONENTIAL:
    return a * a;
  case DIST_UNIFORM: {
    double w = (double)d->b - a;
    return w * w / 12;
  }
  case DIST_LOGNORMAL: {
    double s2 = d->p1 * d->p1;
    return (exp(s2) - 1) * a * a * exp(s2);
  }
  case DIST_BETA: {
    double al = d->p1, be = d->p2, t = al + be;
    return a * a * al * be / (t * t * (t + 1));
  }
  case DIST_MIXTURE:
  case DIST_EMPIRICAL:
    break;
  }
  g_assert_not_reached();
}

double
dist_mean_us(const DistSpec *d)
{
  if (d->kind == DIST_EMPIRICAL)
    return empirical_moment(d, 1);
  if (d->kind != DIST_MIXTURE) {
    DistPart p = as_part(d);
    return part_mean_us(&p);
  }
  double m = 0;
  for (unsigned i = 0; i < d->n_parts; i++)
    m += d->weight[i] * part_mean_us(&d->part[i]);
  return m;
}

/* A mixture's variance: E[X^2] - E[X]^2 over its parts (law of total variance). */
double
dist_variance_us2(const DistSpec *d)
{
  if (d->kind == DIST_EMPIRICAL) {
    double m = empirical_moment(d, 1);
    return empirical_moment(d, 2) - m * m;
  }
  if (d->kind != DIST_MIXTURE) {
    DistPart p = as_part(d);
    return part_variance_us2(&p);
  }
  double m = dist_mean_us(d), second = 0;
  for (unsigned i = 0; i < d->n_parts; i++) {
    double mi = part_mean_us(&d->part[i]);
    second += d->weight[i] * (part_variance_us2(&d->part[i]) + mi * mi);
  }
  return second - m * m;
}

static int
dist_cmp_time(const void *x, const void *y)
{
  SimTime a = *(const SimTime *)x, b = *(const SimTime *)y;
  return a < b ? -1 : a > b;
}

void
dist_burst_times(const ArrivalSpec *spec, RngStream *s, uint64_t n, SimTime *out)
{
  for (uint64_t i = 0; i < n; i++) {
    SimTime off = (SimTime)floor((double)spec->over * dist_beta(s, spec->alpha, spec->beta));
    if (off >= spec->over && spec->over > 0) /* rounding of a draw just below 1 */
      off = spec->over - 1;
    out[i] = spec->at + off;
  }
  qsort(out, n, sizeof *out, dist_cmp_time);
}

static bool
grows(const ArrivalSpec *sp)
{
  return fabs(sp->growth_pct_per_year) > 0;
}

/* Growth: rate(t) = r0 e^(b t) with b = ln(1 + g) / year, so the expected count over
 * [0, t] is r0 (e^(b t) - 1) / b. */
static double
growth_b(const ArrivalSpec *sp)
{
  return log1p(sp->growth_pct_per_year / 100) / ARRIVAL_YEAR_S;
}

/* The time (us) at which the expected count since t_us grows by `count`: the inverse of
 * the integral above; INFINITY when a shrinking rate never gets there. */
static double
growth_after(const ArrivalSpec *sp, double t_us, double count)
{
  double b = growth_b(sp), r0 = sp->rate_per_s;
  double t = t_us / (double)SIM_S;
  double x = exp(b * t) + b * count / r0; /* e^(b t_next) */
  if (!(x > 0))
    return INFINITY;
  return log(x) / b * (double)SIM_S;
}

/* Piecewise: from t_us in piece *piece, the time at which `count` more expected arrivals
 * have accumulated (rate x time, piece by piece). */
static double
piecewise_after(const ArrivalSpec *sp, size_t *piece, double t_us, double count)
{
  double t = t_us / (double)SIM_S;
  size_t i = *piece;
  while (i + 1 < sp->n_pieces && t >= (double)sp->pieces[i + 1].from / (double)SIM_S)
    i++;
  for (;;) {
    double r = sp->pieces[i].rate_per_s;
    double end = i + 1 < sp->n_pieces ? (double)sp->pieces[i + 1].from / (double)SIM_S : INFINITY;
    if (count <= r * (end - t)) {
      *piece = i;
      return (t + count / r) * (double)SIM_S;
    }
    count -= r * (end - t);
    t = end;
    i++;
  }
}

double
dist_arrivals_expected(const ArrivalSpec *sp, SimTime when)
{
  double t = sim_time_to_s(when);
  switch (sp->kind) {
  case ARRIVAL_POISSON:
  case ARRIVAL_CONSTANT:
    if (grows(sp)) {
      double b = growth_b(sp);
      return sp->rate_per_s * expm1(b * t) / b;
    }
    return sp->rate_per_s * t;
  case ARRIVAL_PIECEWISE: {
    double sum = 0;
    for (size_t i = 0; i < sp->n_pieces; i++) {
      double from = sim_time_to_s(sp->pieces[i].from);
      double end = i + 1 < sp->n_pieces ? sim_time_to_s(sp->pieces[i + 1].from) : INFINITY;
      if (t > from)
        sum += sp->pieces[i].rate_per_s * (MIN(t, end) - from);
    }
    return sum;
  }
  case ARRIVAL_TRACE: {
    size_t n = 0;
    while (n < sp->n_trace && sp->trace[n] <= when)
      n++;
    return (double)n;
  }
  case ARRIVAL_BURST:
    break;
  }
  return NAN;
}

void
dist_arrivals_init(DistArrivals *a, const ArrivalSpec *spec, SimTime start, uint64_t n,
                   RngStream *s)
{
  *a = (DistArrivals){.spec = *spec,
                      .start_us = (double)start,
                      .t_us = (double)start,
                      .k = 0,
                      .n = n,
                      .piece = 0,
                      .burst = NULL};
  if (spec->kind == ARRIVAL_BURST) {
    a->burst = g_new(SimTime, n ? n : 1);
    dist_burst_times(spec, s, n, a->burst);
  }
}

SimTime
dist_arrivals_next(DistArrivals *a, RngStream *s)
{
  if (a->n && a->k >= a->n)
    return SIM_TIME_MAX;
  switch (a->spec.kind) {
  case ARRIVAL_BURST:
    if (a->k >= a->n)
      return SIM_TIME_MAX;
    return a->burst[a->k++];
  case ARRIVAL_POISSON:
    if (grows(&a->spec)) {
      a->t_us = growth_after(&a->spec, a->t_us, dist_std_exponential(s));
      break;
    }
    a->t_us += dist_std_exponential(s) * (double)SIM_S / a->spec.rate_per_s;
    break;
  case ARRIVAL_CONSTANT:
    if (grows(&a->spec)) {
      /* arrival k + 1 where the expected count from the start reaches k + 1 */
      a->t_us = growth_after(&a->spec, a->start_us, (double)(a->k + 1));
      break;
    }
    /* from the start, not from the last arrival: no drift */
    a->t_us = a->start_us + (double)(a->k + 1) * (double)SIM_S / a->spec.rate_per_s;
    break;
  case ARRIVAL_PIECEWISE:
    a->t_us = piecewise_after(&a->spec, &a->piece, a->t_us, dist_std_exponential(s));
    break;
  case ARRIVAL_TRACE:
    if (a->k >= a->spec.n_trace)
      return SIM_TIME_MAX;
    return a->spec.trace[a->k++];
  }
  a->k++;
  if (!(a->t_us < 9.2e18))
    return SIM_TIME_MAX;
  return (SimTime)llround(a->t_us);
}

void
dist_arrivals_clear(DistArrivals *a)
{
  g_clear_pointer(&a->burst, g_free);
}
