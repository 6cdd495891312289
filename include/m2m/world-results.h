/* Writing a run of the world into a results database (results.h, results.md): the
 * study side of the face reads the world's figures through world.h and owns the SQL. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "m2m/results.h"
#include "m2m/world.h"

/* Writes one run into `wr`: the run row (scenario text, name, seed, started, and the
 * provenance when prov is not NULL), every
 * effective parameter (scn_config_params) plus "seed", every scalar and series (see
 * README "Results of m2msim run"), then finishes the run as "complete" with the wall
 * time. Returns the run id in *run_id (may be NULL). */
bool res_write_world(ResWriter *wr, World *w, const char *started, const ResProvenance *prov,
                     int64_t *run_id, GError **error);
