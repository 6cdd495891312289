/* Distribution and arrival-process specifications, as written in scenarios
 * (../shared/docs/scenario.md "Values"). The scenario loader fills these plain structs;
 * the engine samples them (sampling functions below the specs). All times in SimTime
 * microseconds, rates in events per second. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "m2m/rng.h"
#include "m2m/simtime.h"

typedef enum {
  DIST_CONSTANT,    /* {constant: D}                          a = D */
  DIST_EXPONENTIAL, /* {exponential: MEAN}                    a = MEAN */
  DIST_UNIFORM,     /* {uniform: [A, B]}                      a = A, b = B (A <= B) */
  DIST_LOGNORMAL,   /* {lognormal: {median: D, sigma: S}}     a = D, p1 = S */
  DIST_BETA,        /* {beta: {alpha: A, beta: B, over: W}}   a = W, p1 = A, p2 = B */
  DIST_MIXTURE,     /* {mixture: [{weight: W, DIST}, ...]}    n_parts, weight[], part[] */
  DIST_EMPIRICAL,   /* {empirical: FILE.csv}                  table, n_table, table_cdf */
} DistKind;

/* Most parts of a mixture. */
#define DIST_MAX_PARTS 8

/* One part of a mixture: any distribution but a mixture (the fields of DistSpec). */
typedef struct {
  DistKind kind;
  SimTime a, b;
  double p1, p2;
} DistPart;

typedef struct {
  DistKind kind;
  SimTime a;     /* see DistKind */
  SimTime b;     /* uniform upper bound */
  double p1, p2; /* shape parameters (sigma; alpha, beta) */
  /* mixture: part i drawn with probability weight[i] (the weights add up to 1) */
  unsigned n_parts;
  double weight[DIST_MAX_PARTS];
  DistPart part[DIST_MAX_PARTS];
  /* empirical: n_table samples (us), drawn one at random; or with table_cdf n_table
   * points (value us, probability) of the distribution function, interpolated linearly.
   * Owned by the scenario that read the file (table_path: as the scenario wrote it). */
  const double *table;
  size_t n_table;
  bool table_cdf;
  char *table_path;
} DistSpec;

typedef enum {
  ARRIVAL_POISSON,   /* {poisson: RATE}: exponential gaps of mean 1/RATE */
  ARRIVAL_CONSTANT,  /* {constant: RATE}: gaps of exactly 1/RATE */
  ARRIVAL_BURST,     /* {burst: {at: T, over: D, shape: beta(3,4)}}: all within [T, T+D) */
  ARRIVAL_PIECEWISE, /* {piecewise: [{from: 0, rate: R0}, {from: T1, rate: R1}, ...]}:
                        Poisson at rate R_i from T_i until T_i+1 */
  ARRIVAL_TRACE,     /* {trace: FILE.csv}: the n_trace times of trace, in order */
} ArrivalKind;

/* Most pieces of a piecewise rate: monthly rates over ten years. */
#define ARRIVAL_MAX_PIECES 128

/* A year, for growth rates: 365 days (a rate that grows 25 %/y is 1.25 times as high
 * 365 days later). */
#define ARRIVAL_YEAR_S (365.0 * 86400)

typedef struct {
  SimTime from;      /* this rate holds from here until the next piece's from */
  double rate_per_s; /* > 0 */
} ArrivalPiece;

typedef struct {
  ArrivalKind kind;
  double rate_per_s;   /* poisson, constant: the rate at t = 0 */
  SimTime at, over;    /* burst window */
  double alpha, beta;  /* burst shape; uniform is beta(1,1) */
  /* poisson, constant: the rate changes by this many percent a year, continuously
   * (rate(t) = rate x (1 + growth / 100)^(t / ARRIVAL_YEAR_S)); 0 = a steady rate;
   * above -100. */
  double growth_pct_per_year;
  size_t n_pieces; /* piecewise: pieces[0].from = 0, froms increasing */
  ArrivalPiece pieces[ARRIVAL_MAX_PIECES];
  /* trace: sorted times from the start of the run, owned by the scenario that read the
   * file (trace_path: as the scenario wrote it) */
  const SimTime *trace;
  size_t n_trace;
  char *trace_path;
} ArrivalSpec;

/* Expected number of arrivals of a Poisson, constant or piecewise process in [0, t] (the
 * integral of its rate), for tests and estimates; NAN for a burst. */
double dist_arrivals_expected(const ArrivalSpec *spec, SimTime t);

/* ---- sampling (sim/dist.c) -----------------------------------------------------------
 * Every sampler draws from the caller's RngStream, so which entity and purpose a draw
 * belongs to is the caller's choice (one stream per entity and purpose, m2m/rng.h).
 * Samplers consume a variable number of draws (rejection), which is fine: a stream
 * belongs to one consumer. */

/* Exp(1). */
double dist_std_exponential(RngStream *s);

/* N(0, 1) by Box-Muller (two uniforms per normal, no cached second value, so a stream's
 * state is its counter only). */
double dist_std_normal(RngStream *s);

/* Gamma(shape, 1) by Marsaglia and Tsang (ACM TOMS 26(3), 2000); shape < 1 through
 * Gamma(shape + 1) * U^(1/shape). shape > 0. */
double dist_gamma(RngStream *s, double shape);

/* Beta(a, b) = X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b). a, b > 0. */
double dist_beta(RngStream *s, double a, double b);

/* One sample of `d` in microseconds, unrounded (>= 0). Beta is over [0, W). */
double dist_sample_us(const DistSpec *d, RngStream *s);

/* The same rounded to the nearest microsecond (SimTime). */
SimTime dist_sample(const DistSpec *d, RngStream *s);

/* Theoretical mean (us) and variance (us^2) of `d`. */
double dist_mean_us(const DistSpec *d);
double dist_variance_us2(const DistSpec *d);

/* An arrival process being drawn: Poisson or constant-rate arrivals after `start` (the
 * first one gap after start), or a burst of n arrivals in [at, at + over) whose density
 * is Beta(alpha, beta) over the window (3GPP TR 37.868 traffic model 2: Beta(3, 4) over
 * 10 s). Times are accumulated in double microseconds and rounded once per arrival, so
 * constant-rate arrivals do not drift: arrival k is at start + round(k * 1e6 / rate). */
typedef struct {
  ArrivalSpec spec;
  double start_us; /* start, us */
  double t_us;    /* time of the last arrival, unrounded */
  uint64_t k, n;  /* arrivals returned, arrivals wanted (0: unlimited, not for bursts) */
  size_t piece;   /* piecewise: the piece the last arrival fell in */
  SimTime *burst; /* burst: the n sorted times */
} DistArrivals;

/* Starts drawing `spec`. n caps the number of arrivals (0 = unlimited for Poisson and
 * constant; a burst needs n >= 0 and draws all n times now from `s`, sorted; memory 8n
 * bytes until dist_arrivals_clear). */
void dist_arrivals_init(DistArrivals *a, const ArrivalSpec *spec, SimTime start, uint64_t n,
                        RngStream *s);

/* The next arrival time (non-decreasing), or SIM_TIME_MAX when all n were returned or
 * time would pass SIM_TIME_MAX. */
SimTime dist_arrivals_next(DistArrivals *a, RngStream *s);

void dist_arrivals_clear(DistArrivals *a);

/* n burst arrival times drawn iid from at + over * Beta(alpha, beta), truncated to whole
 * microseconds (so all are < at + over when over > 0), sorted ascending. */
void dist_burst_times(const ArrivalSpec *spec, RngStream *s, uint64_t n, SimTime *out);
