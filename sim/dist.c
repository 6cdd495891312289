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

double
dist_sample_us(const DistSpec *d, RngStream *s)
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
  }
  g_assert_not_reached();
}

SimTime
dist_sample(const DistSpec *d, RngStream *s)
{
  double us = dist_sample_us(d, s);
  return us >= 9.2e18 ? SIM_TIME_MAX : (SimTime)llround(us);
}

double
dist_mean_us(const DistSpec *d)
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
  }
  g_assert_not_reached();
}

double
dist_variance_us2(const DistSpec *d)
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
  }
  g_assert_not_reached();
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

void
dist_arrivals_init(DistArrivals *a, const ArrivalSpec *spec, SimTime start, uint64_t n,
                   RngStream *s)
{
  *a = (DistArrivals){.spec = *spec,
                      .start_us = (double)start,
                      .t_us = (double)start,
                      .k = 0,
                      .n = n,
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
    a->t_us += dist_std_exponential(s) * (double)SIM_S / a->spec.rate_per_s;
    break;
  case ARRIVAL_CONSTANT:
    /* from the start, not from the last arrival: no drift */
    a->t_us = a->start_us + (double)(a->k + 1) * (double)SIM_S / a->spec.rate_per_s;
    break;
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
