/* Random streams of the world, on the engine's counter-based streams (rng.h) and
 * samplers (dist.h): one independent stream per entity and purpose, derived from the
 * run seed, so adding a manufacturer or an operator does not shift the draws of another
 * (common random numbers across sweep points). This header only names the streams
 * (entity kind and purpose -> rng purpose number) and adds a pick-by-share helper. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "m2m/dist.h"
#include "m2m/rng.h"
#include "m2m/simtime.h"

typedef RngStream WRng;

/* Entity kinds; with the purpose they make the rng purpose number (kind << 8 | purpose).
 * These numbers are part of what makes a run reproducible: never renumber them. */
typedef enum {
  WR_RS = 1,
  WR_VO = 2,
  WR_SHO = 3,
  WR_MFR = 4,
  WR_OWNER = 5,
  WR_DEV = 6,
} WRKind;

/* Rng purposes of the world start here, clear of the engine's own. */
#define WR_PURPOSE_BASE 0x10000u

static inline void
wrng_init(WRng *r, uint64_t seed, WRKind kind, uint32_t index, uint32_t purpose)
{
  rng_stream_init(r, seed, WR_PURPOSE_BASE | ((uint32_t)kind << 8) | purpose, index);
}

static inline uint64_t
wrng_u64(WRng *r)
{
  return rng_next_u64(r);
}

/* In (0, 1). */
static inline double
wrng_u01(WRng *r)
{
  return rng_uniform_open(r);
}

static inline double
wrng_beta(WRng *r, double a, double b)
{
  return dist_beta(r, a, b);
}

static inline SimTime
wrng_dist(WRng *r, const DistSpec *d)
{
  return dist_sample(d, r);
}

/* Index in 0..n-1 drawn by the weights at w, w + stride, ... (sum > 0). */
unsigned wrng_pick(WRng *r, const double *w, unsigned n, size_t stride);
