/* Random streams of the world: one independent stream per entity and purpose, derived
 * from the run seed, so adding a manufacturer or an operator does not shift the draws of
 * another (common random numbers across sweep points), and sampling of the scenario's
 * distributions and arrival processes.
 *
 * Streams are xoshiro256** seeded through splitmix64 from (seed, entity kind, entity
 * index, purpose). */
#pragma once

#include <stdint.h>

#include "m2m/dist.h"
#include "m2m/simtime.h"

typedef struct {
  uint64_t s[4];
  double spare;     /* second normal variate of a Box-Muller pair */
  int has_spare;
} WRng;

/* Entity kinds and purposes name streams; their numbers are part of what makes a run
 * reproducible, so never renumber them. */
typedef enum {
  WR_RS = 1, WR_VO = 2, WR_SHO = 3, WR_MFR = 4, WR_OWNER = 5, WR_DEV = 6,
} WRKind;

void wrng_init(WRng *r, uint64_t seed, WRKind kind, uint32_t index, uint32_t purpose);
uint64_t wrng_u64(WRng *r);
double wrng_u01(WRng *r);         /* in (0, 1) */
double wrng_normal(WRng *r);
double wrng_beta(WRng *r, double a, double b);
SimTime wrng_dist(WRng *r, const DistSpec *d);       /* >= 0 */
double wrng_dist_mean_s(const DistSpec *d);          /* mean of the distribution, s */
/* Index in 0..n-1 drawn by weights (sum > 0). */
unsigned wrng_pick(WRng *r, const double *w, unsigned n, size_t stride);
