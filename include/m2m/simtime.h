/* Simulated time: a signed 64-bit count of microseconds.
 *
 * An integer clock keeps microsecond resolution over any horizon a study needs
 * (2^63 us is about 292,000 years) and never drifts the way a sum of floats does.
 * Conversions to seconds as double happen only at the edges (results, reports). */
#pragma once

#include <stdint.h>

typedef int64_t SimTime; /* microseconds since the start of the run */

#define SIM_US ((SimTime)1)
#define SIM_MS ((SimTime)1000)
#define SIM_S ((SimTime)1000000)
#define SIM_MIN (60 * SIM_S)
#define SIM_H (3600 * SIM_S)
#define SIM_D (86400 * SIM_S)
#define SIM_TIME_MAX INT64_MAX /* "never" */

static inline double
sim_time_to_s(SimTime t)
{
  return (double)t / (double)SIM_S;
}
