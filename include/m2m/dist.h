/* Distribution and arrival-process specifications, as written in scenarios
 * (../shared/docs/scenario.md "Values"). The scenario loader fills these plain structs;
 * the engine samples them (sampling functions below the specs). All times in SimTime
 * microseconds, rates in events per second. */
#pragma once

#include <stdbool.h>
#include "m2m/simtime.h"

typedef enum {
  DIST_CONSTANT,    /* {constant: D}                          a = D */
  DIST_EXPONENTIAL, /* {exponential: MEAN}                    a = MEAN */
  DIST_UNIFORM,     /* {uniform: [A, B]}                      a = A, b = B (A <= B) */
  DIST_LOGNORMAL,   /* {lognormal: {median: D, sigma: S}}     a = D, p1 = S */
  DIST_BETA,        /* {beta: {alpha: A, beta: B, over: W}}   a = W, p1 = A, p2 = B */
} DistKind;

typedef struct {
  DistKind kind;
  SimTime a;     /* see DistKind */
  SimTime b;     /* uniform upper bound */
  double p1, p2; /* shape parameters (sigma; alpha, beta) */
} DistSpec;

typedef enum {
  ARRIVAL_POISSON,  /* {poisson: RATE}: exponential gaps of mean 1/RATE */
  ARRIVAL_CONSTANT, /* {constant: RATE}: gaps of exactly 1/RATE */
  ARRIVAL_BURST,    /* {burst: {at: T, over: D, shape: beta(3,4)}}: all within [T, T+D) */
} ArrivalKind;

typedef struct {
  ArrivalKind kind;
  double rate_per_s;   /* poisson, constant */
  SimTime at, over;    /* burst window */
  double alpha, beta;  /* burst shape; uniform is beta(1,1) */
} ArrivalSpec;
