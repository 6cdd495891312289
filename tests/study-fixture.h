/* Results databases shaped like `m2msim run` output, written with the results writer,
 * for the plot and report tests (which must not wait for the world to be runnable). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

typedef struct {
  const char *scenario; /* scenario text (also its name: "name: X" is not parsed) */
  const char *name;
  bool cdf;       /* write a provision.latency.cdf series */
  bool exhausted; /* write rs.pimsi.exhausted_at */
} SfRunSpec;

/* Writes path with one run per (point, replication): points values of the varied key
 * "registration_service.pimsi_pool.size" (NULL-terminated; NULL = one run without it),
 * each replicated reps times with seeds 7, 8, ... Scalars include rs.pimsi.blocked =
 * 1e5 / pool + replication, series over 2 days sampled hourly. */
void sf_write(const char *path, const SfRunSpec *spec, const char *const *points, unsigned reps);
