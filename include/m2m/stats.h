/* Statistics the engine and the models collect: counters, tallies, time-weighted levels,
 * quantiles and sampled time series.
 *
 * - StatTally: n, mean and variance by Welford's update (numerically stable in one pass),
 *   min, max; two tallies merge exactly (Chan, Golub and LeVeque's pairwise formula).
 * - StatLevel: the time average of a piecewise-constant level (pool occupancy, queue
 *   length): the integral of level dt divided by the elapsed time, in integer SimTime.
 * - StatQuantiles: exact (all samples kept, sorted on demand) up to a size (100,000 by
 *   default), then a log-bucket sketch in the manner of DDSketch (Masson, Rim and Lee,
 *   VLDB 2019): bucket i holds values in (g^(i-1), g^i] with g = (1 + a) / (1 - a) and
 *   answers 2 g^i / (g + 1), so any quantile it returns is within relative error a (1% by
 *   default) of the exact sample quantile of the same rank; negative values mirror, zero
 *   has its own bucket (exact). Sketches with the same a merge exactly.
 *   The quantile of p in [0, 1] is the sample of rank floor(p (n - 1)) counting from 0.
 * - StatSamples: what a run reports of a sampled quantity (latencies): a tally, the
 *   plain sum (the reported mean is sum / n, exact to 2^53 for microsecond samples of a
 *   few hundred years), and quantiles.
 * - StatRegistry: every figure of a run, registered by whoever keeps it (a counter in a
 *   role, a tally, a value computed at the end), listed in registration order. Figures
 *   registered twice under one name add up (each visited operator registers its own
 *   "vo.attaches"; the run reports their sum).
 * - StatSampler: a time series: every `interval` from its start up to `end` inclusive
 *   (t = start, start + interval, ..., and `end` itself), it calls each named probe and
 *   records (t, value). The sampling event runs in FIFO order among events at the same
 *   time, so it sees what was done by events scheduled for t before it was. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m2m/engine.h"
#include "m2m/simtime.h"

/* ---- counters and tallies ------------------------------------------------------------ */

typedef struct {
  uint64_t n;
} StatCounter;

static inline void
stat_counter_add(StatCounter *c, uint64_t k)
{
  c->n += k;
}

typedef struct {
  uint64_t n;
  double mean;     /* running mean */
  double m2;       /* sum of squared deviations from the mean */
  double min, max; /* +inf / -inf while empty */
} StatTally;

void stat_tally_init(StatTally *t);
void stat_tally_add(StatTally *t, double x);

/* Adds `from`'s samples to `into` as if they had been added one by one. */
void stat_tally_merge(StatTally *into, const StatTally *from);

double stat_tally_mean(const StatTally *t);     /* NAN when empty */
double stat_tally_variance(const StatTally *t); /* sample variance (n - 1); NAN when n < 2 */
double stat_tally_stddev(const StatTally *t);

/* ---- time-weighted level ------------------------------------------------------------- */

typedef struct {
  SimTime t0;      /* start of the observation */
  SimTime t_last;  /* time of the last change */
  double level;    /* current value */
  double area;     /* integral of level over [t0, t_last], level x us */
  double min, max; /* of the level */
} StatLevel;

/* Starts observing a level that is `level` from t0 on. */
void stat_level_init(StatLevel *l, SimTime t0, double level);

/* The level becomes `level` at time t (t >= the last change; asserted). */
void stat_level_set(StatLevel *l, SimTime t, double level);

/* The level changes by delta at time t. */
void stat_level_add(StatLevel *l, SimTime t, double delta);

/* Integral of the level over [t0, t] (t >= the last change), level x us. */
double stat_level_integral(const StatLevel *l, SimTime t);

/* Time average over [t0, t]; the current level when t == t0. */
double stat_level_mean(const StatLevel *l, SimTime t);

/* ---- quantiles ----------------------------------------------------------------------- */

typedef struct StatQuantiles StatQuantiles;

#define STAT_QUANTILES_EXACT_LIMIT 100000
#define STAT_QUANTILES_ACCURACY 0.01

/* Exact up to STAT_QUANTILES_EXACT_LIMIT samples, then a sketch of relative accuracy
 * STAT_QUANTILES_ACCURACY. */
StatQuantiles *stat_quantiles_new(void);

/* Exact up to exact_limit samples (0: sketch from the start), then relative accuracy
 * `accuracy` in (0, 1). */
StatQuantiles *stat_quantiles_new_full(size_t exact_limit, double accuracy);

void stat_quantiles_free(StatQuantiles *q);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(StatQuantiles, stat_quantiles_free)

/* Adds a sample (finite; NaN and infinities are a caller bug: asserted). */
void stat_quantiles_add(StatQuantiles *q, double x);

/* Adds all of from's samples. Both must have the same accuracy (asserted). */
void stat_quantiles_merge(StatQuantiles *into, const StatQuantiles *from);

uint64_t stat_quantiles_count(const StatQuantiles *q);

/* True while every sample is kept (answers are exact). */
bool stat_quantiles_is_exact(const StatQuantiles *q);

/* The p-quantile, p in [0, 1] (see the top of this file); NAN when empty. Not const: the
 * exact store sorts itself on demand. */
double stat_quantiles_get(StatQuantiles *q, double p);

/* ---- Kaplan-Meier: quantiles of a time to an event, some subjects still waiting ---------- */

/* A p-quantile of a time-to-event distribution, estimated by Kaplan and Meier (1958) from
 * `events` (the times of the subjects whose event was seen), `censored` (the ages of the
 * subjects still waiting: their event, if it comes, comes later) and `never` subjects known
 * never to have the event (in every risk set: the estimate levels off at their share, so a
 * quantile above 1 - that share is absent). An event and a censoring at the same time: the
 * event first (the usual convention). The quantile is the first time the estimated
 * probability of the event by then reaches p; with no censoring it is the sample of rank
 * ceil(p n) - 1 from 0 (stat_quantiles_get's floor(p (n - 1)) gives the same sample or the
 * one before).
 *
 * The interval is Brookmeyer and Crowley's (Biometrics 1982) at 95%: the times where the
 * estimate is within 1.96 standard errors (Greenwood's formula) of 1 - p. When either store
 * is a sketch both are walked bucket by bucket, and every time returned is a bucket's value
 * (relative error within the sketch's accuracy). */
typedef struct {
  double value; /* NAN when the estimate never reaches p */
  double lo;    /* NAN with value */
  double hi;    /* NAN when the estimate is not sure of p by the last time seen */
} StatKmQuantile;

/* Both stores must have the same accuracy (asserted); neither is changed except sorted. */
void stat_km_quantiles(StatQuantiles *events, StatQuantiles *censored, uint64_t never, size_t n_p,
                       const double *p, StatKmQuantile *out);

/* ---- time series --------------------------------------------------------------------- */

/* A probe returns the current value of something (e.g. a queue length). */
typedef double (*StatProbeFn)(void *ctx);

typedef struct StatSampler StatSampler;

/* A sampler on `sim` every `interval` (> 0) until `end`. Add probes, then start. */
StatSampler *stat_sampler_new(SimEngine *sim, SimTime interval, SimTime end);

/* Frees the sampler and cancels its pending sampling event. */
void stat_sampler_free(StatSampler *s);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(StatSampler, stat_sampler_free)

/* Adds a probe (before stat_sampler_start; asserted). name is copied. */
void stat_sampler_add_probe(StatSampler *s, const char *name, StatProbeFn fn, void *ctx);

/* Schedules the first sample at the current time. */
void stat_sampler_start(StatSampler *s);

/* The run ends now, before `end`: the last sample is taken now (unless one was at this
 * very time) and no later one. */
void stat_sampler_finish(StatSampler *s);

size_t stat_sampler_n_probes(const StatSampler *s);
const char *stat_sampler_probe_name(const StatSampler *s, size_t probe);
SimTime stat_sampler_interval(const StatSampler *s);

/* Rows recorded so far, their times and values. */
size_t stat_sampler_n_rows(const StatSampler *s);
SimTime stat_sampler_time(const StatSampler *s, size_t row);
double stat_sampler_value(const StatSampler *s, size_t row, size_t probe);

/* ---- samples with quantiles ------------------------------------------------------------ */

typedef struct {
  StatTally tally;  /* n, min, max (and the Welford mean and variance) */
  double sum;       /* of the samples: the reported mean is sum / n */
  StatQuantiles *q; /* NULL when quantiles are not needed */
} StatSamples;

void stat_samples_init(StatSamples *s, bool quantiles);
void stat_samples_clear(StatSamples *s);
void stat_samples_add(StatSamples *s, double x);
double stat_samples_mean(const StatSamples *s);         /* sum / n; NAN when empty */
double stat_samples_quantile(StatSamples *s, double p); /* NAN when empty or without quantiles */

/* ---- the registry of a run's figures ---------------------------------------------------- */

typedef struct StatRegistry StatRegistry;

StatRegistry *stat_registry_new(void);
void stat_registry_free(StatRegistry *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(StatRegistry, stat_registry_free)

/* A counter kept by the caller at *c (which must outlive the registry). */
void stat_registry_counter(StatRegistry *r, const char *name, const uint64_t *c);

/* Counters that are all the fields of one struct of uint64_t, in order: `names` lists
 * their names in the same order, separated by spaces (size = sizeof the struct; a count
 * that does not match is a bug: aborts). */
void stat_registry_counter_fields(StatRegistry *r, const char *names, const void *fields,
                                  size_t size);

/* A value computed when the figures are read: fn(ctx); NAN means "not reported". */
void stat_registry_value(StatRegistry *r, const char *name, StatProbeFn fn, void *ctx);

/* A sampled quantity: prefix.mean, .p50, .p95, .p99, .max (only the percentiles without
 * mean_max), all absent while it has no sample. */
void stat_registry_samples(StatRegistry *r, const char *prefix, StatSamples *s, bool mean_max);

/* A time to an event that some subjects are still waiting for (Kaplan-Meier, above):
 * prefix.p50, .p95, .p99, each with its 95% interval (.p50_lo, .p50_hi, ...), each absent
 * when the estimate does not reach it. The events are `events`' samples (made with
 * quantiles). Each time the figures are read, fill(ctx, censored, &never) adds the ages
 * of the subjects still waiting to `censored` (a fresh store) and sets how many subjects
 * will never have the event. */
typedef void (*StatKmFillFn)(void *ctx, StatQuantiles *censored, uint64_t *never);
void stat_registry_km(StatRegistry *r, const char *prefix, StatSamples *events, StatKmFillFn fill,
                      void *ctx);

/* Calls fn for every figure, in registration order, same-name figures added up. */
typedef void (*StatFigureFn)(void *data, const char *name, double value);
void stat_registry_foreach(StatRegistry *r, StatFigureFn fn, void *data);

/* Calls fn for the name of every figure the registry can report, in the order of
 * stat_registry_foreach, including those absent now (no sample yet, a quantile not
 * reached): what a run of this world may write, for checking names given by users. */
typedef void (*StatNameFn)(void *data, const char *name);
void stat_registry_foreach_name(StatRegistry *r, StatNameFn fn, void *data);

/* The samples registered under `prefix` (NULL when none). */
StatSamples *stat_registry_samples_of(StatRegistry *r, const char *prefix);

/* One figure by name (NAN when absent or not registered). */
double stat_registry_get(StatRegistry *r, const char *name);
