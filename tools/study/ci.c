/* Student t confidence intervals: the t distribution through the regularised
 * incomplete beta function I_x(a, b) (continued fraction, modified Lentz), inverted by
 * bisection refined with Newton steps. Reference: Abramowitz & Stegun 26.5.8 and 26.7.1;
 * the continued fraction is A&S 26.5.8. */
#include "m2m/ci.h"

#include <math.h>

/* One modified-Lentz step with coefficient aa: updates the running c and d (kept away from
 * zero) and returns the factor the fraction's value takes. */
static double
lentz_step(double aa, double *c, double *d)
{
  const double tiny = 1e-300;
  *d = 1 + aa * *d;
  if (fabs(*d) < tiny)
    *d = tiny;
  *c = 1 + aa / *c;
  if (fabs(*c) < tiny)
    *c = tiny;
  *d = 1 / *d;
  return *d * *c;
}

/* Continued fraction of I_x(a, b) (A&S 26.5.8), valid for x < (a + 1) / (a + b + 2). */
static double
betacf(double a, double b, double x)
{
  const double tiny = 1e-300, eps = 1e-15;
  double qab = a + b, qap = a + 1, qam = a - 1;
  double c = 1, d = 1 - qab * x / qap;
  if (fabs(d) < tiny)
    d = tiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 1000; m++) {
    int m2 = 2 * m;
    h *= lentz_step(m * (b - m) * x / ((qam + m2) * (a + m2)), &c, &d);
    double del = lentz_step(-(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)), &c, &d);
    h *= del;
    if (fabs(del - 1) < eps)
      break;
  }
  return h;
}

/* Regularised incomplete beta I_x(a, b) for a, b > 0 and x in [0, 1]. */
static double
betai(double a, double b, double x)
{
  if (x <= 0)
    return 0;
  if (x >= 1)
    return 1;
  double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
  if (x < (a + 1) / (a + b + 2))
    return exp(lbt) * betacf(a, b, x) / a;
  return 1 - exp(lbt) * betacf(b, a, 1 - x) / b;
}

double
ci_t_cdf(double x, double df)
{
  if (!(df >= 1) || isnan(x))
    return NAN;
  if (isinf(x))
    return x > 0 ? 1 : 0;
  /* A&S 26.7.1: P(|T| > |x|) = I_{df/(df+x^2)}(df/2, 1/2). */
  double tail = 0.5 * betai(df / 2, 0.5, df / (df + x * x));
  return x >= 0 ? 1 - tail : tail;
}

/* Density of Student's t, for the Newton steps. */
static double
t_pdf(double x, double df)
{
  double lc = lgamma((df + 1) / 2) - lgamma(df / 2) - 0.5 * log(df * M_PI);
  return exp(lc - (df + 1) / 2 * log1p(x * x / df));
}

double
ci_t_quantile(double p, double df)
{
  if (!(p > 0 && p < 1) || !(df >= 1))
    return NAN;
  if (p < 0.5)
    return -ci_t_quantile(1 - p, df);
  /* Bracket, then bisect to a few digits, then polish with Newton. */
  double lo = 0, hi = 1;
  while (ci_t_cdf(hi, df) < p && hi < 1e300)
    hi *= 2;
  for (int i = 0; i < 200 && (hi - lo) > 1e-6 * hi; i++) {
    double mid = (lo + hi) / 2;
    if (ci_t_cdf(mid, df) < p)
      lo = mid;
    else
      hi = mid;
  }
  double x = (lo + hi) / 2;
  for (int i = 0; i < 8; i++) {
    double f = ci_t_cdf(x, df) - p, dens = t_pdf(x, df);
    if (!(dens > 0))
      break;
    double step = f / dens;
    x -= step;
    if (fabs(step) <= 1e-14 * fabs(x))
      break;
  }
  return x;
}

void
ci_summarize(const double *values, size_t n, double level, CiSummary *out)
{
  out->n = n;
  out->mean = out->sd = out->half_width = NAN;
  if (n == 0)
    return;
  double mean = 0, m2 = 0;
  for (size_t i = 0; i < n; i++) {
    double delta = values[i] - mean;
    mean += delta / (double)(i + 1);
    m2 += delta * (values[i] - mean);
  }
  out->mean = mean;
  if (n < 2)
    return;
  out->sd = sqrt(m2 / (double)(n - 1));
  double t = ci_t_quantile(1 - (1 - level) / 2, (double)(n - 1));
  out->half_width = t * out->sd / sqrt((double)n);
}
