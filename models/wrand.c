/* Random streams and sampling (see wrand.h). */
#include "wrand.h"

#include <math.h>
#include <stddef.h>

static uint64_t
splitmix64(uint64_t *x)
{
  uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

void
wrng_init(WRng *r, uint64_t seed, WRKind kind, uint32_t index, uint32_t purpose)
{
  uint64_t x = seed;
  uint64_t h = splitmix64(&x);
  x = h ^ ((uint64_t)kind << 56) ^ ((uint64_t)purpose << 40) ^ index;
  h = splitmix64(&x);
  x ^= h;
  for (int i = 0; i < 4; i++)
    r->s[i] = splitmix64(&x);
  r->has_spare = 0;
}

static inline uint64_t
rotl(uint64_t x, int k)
{
  return (x << k) | (x >> (64 - k));
}

uint64_t
wrng_u64(WRng *r)
{
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9;
  uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double
wrng_u01(WRng *r)
{
  /* 53 random bits, shifted by half a step so 0 and 1 never come out. */
  return ((double)(wrng_u64(r) >> 11) + 0.5) * 0x1.0p-53;
}

double
wrng_normal(WRng *r)
{
  if (r->has_spare) {
    r->has_spare = 0;
    return r->spare;
  }
  double u = wrng_u01(r), v = wrng_u01(r);
  double m = sqrt(-2.0 * log(u));
  r->spare = m * sin(2.0 * M_PI * v);
  r->has_spare = 1;
  return m * cos(2.0 * M_PI * v);
}

/* Marsaglia and Tsang's gamma(a, 1) for a >= 1; a < 1 by the boost u^(1/a). */
static double
gamma_var(WRng *r, double a)
{
  if (a < 1.0)
    return gamma_var(r, a + 1.0) * pow(wrng_u01(r), 1.0 / a);
  double d = a - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
  for (;;) {
    double x, v;
    do {
      x = wrng_normal(r);
      v = 1.0 + c * x;
    } while (v <= 0);
    v = v * v * v;
    double u = wrng_u01(r);
    if (u < 1.0 - 0.0331 * x * x * x * x || log(u) < 0.5 * x * x + d * (1.0 - v + log(v)))
      return d * v;
  }
}

double
wrng_beta(WRng *r, double a, double b)
{
  double x = gamma_var(r, a), y = gamma_var(r, b);
  return x / (x + y);
}

static SimTime
to_time(double us)
{
  if (!(us > 0))
    return 0;
  if (us >= 9.0e18)
    return (SimTime)9.0e18;
  return (SimTime)llround(us);
}

SimTime
wrng_dist(WRng *r, const DistSpec *d)
{
  switch (d->kind) {
  case DIST_CONSTANT:
    return d->a;
  case DIST_EXPONENTIAL:
    return to_time(-(double)d->a * log(wrng_u01(r)));
  case DIST_UNIFORM:
    return to_time((double)d->a + (double)(d->b - d->a) * wrng_u01(r));
  case DIST_LOGNORMAL:
    return to_time((double)d->a * exp(d->p1 * wrng_normal(r)));
  case DIST_BETA:
    return to_time((double)d->a * wrng_beta(r, d->p1, d->p2));
  }
  return d->a;
}

double
wrng_dist_mean_s(const DistSpec *d)
{
  switch (d->kind) {
  case DIST_CONSTANT:
  case DIST_EXPONENTIAL:
    return sim_time_to_s(d->a);
  case DIST_UNIFORM:
    return 0.5 * (sim_time_to_s(d->a) + sim_time_to_s(d->b));
  case DIST_LOGNORMAL:
    return sim_time_to_s(d->a) * exp(0.5 * d->p1 * d->p1);
  case DIST_BETA:
    return sim_time_to_s(d->a) * d->p1 / (d->p1 + d->p2);
  }
  return 0;
}

unsigned
wrng_pick(WRng *r, const double *w, unsigned n, size_t stride)
{
  double sum = 0;
  for (unsigned i = 0; i < n; i++)
    sum += *(const double *)((const char *)w + i * stride);
  double x = wrng_u01(r) * sum;
  for (unsigned i = 0; i < n; i++) {
    double wi = *(const double *)((const char *)w + i * stride);
    if (x < wi)
      return i;
    x -= wi;
  }
  /* Rounding: the last one with a positive weight. */
  for (unsigned i = n; i-- > 0;)
    if (*(const double *)((const char *)w + i * stride) > 0)
      return i;
  return 0;
}
