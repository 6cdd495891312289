/* Confidence intervals for the mean of independent replications (Student t), as a sweep
 * reports them per parameter point. The t quantile is computed, not tabled, from the
 * regularised incomplete beta function, so any number of replications works.
 *
 * Part of the engine: pure numerics, nothing about M2M, no I/O. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Upper quantile of Student's t distribution: the x with P(T <= x) = p for T with df
 * degrees of freedom. p in (0, 1), df >= 1; accurate to about 1e-10 relative. Returns NAN
 * for arguments outside those ranges. ci_t_quantile(0.975, 10) = 2.228138851986... */
double ci_t_quantile(double p, double df);

/* Student's t cumulative distribution P(T <= x) with df >= 1 degrees of freedom. */
double ci_t_cdf(double x, double df);

/* Mean, sample standard deviation and the half-width of the two-sided confidence
 * interval at `level` (e.g. 0.95) of n values (Welford's algorithm, so large values do
 * not lose precision). n = 0: everything NAN. n = 1: mean = the value, sd and
 * half_width NAN (one replication says nothing about spread). Values must be finite. */
typedef struct {
  size_t n;
  double mean;
  double sd;         /* sample standard deviation (n - 1 in the denominator) */
  double half_width; /* mean +- half_width is the interval */
} CiSummary;

void ci_summarize(const double *values, size_t n, double level, CiSummary *out);
