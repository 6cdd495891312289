/* Joining results databases (results.md) into one: the parts of a sweep, whether run by
 * `m2msim sweep`, GNU parallel or a Slurm array, or any runs of one scenario. Every run
 * is copied whole (run row, params, scalars, series) into a new file written by the
 * results writer (temporary file, then an atomic rename), so the output is complete or
 * absent.
 *
 * Two refusals keep a merged database meaningful: a run may appear once (same scenario
 * text, seed and parameters is a duplicate: a part copied twice, or a sweep re-run into
 * the same output), and all runs must come from the same scenario text (runs of a sweep
 * differ only in their --set values and seeds, which live in the param table).
 *
 * Part of the engine: generic over the schema, nothing about M2M. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#define MERGE_ERROR (merge_error_quark())
GQuark merge_error_quark(void);

typedef enum {
  MERGE_ERROR_DUPLICATE, /* the same run (scenario, seed, params) twice */
  MERGE_ERROR_MISMATCH,  /* runs of different scenario texts */
  MERGE_ERROR_EMPTY,     /* no input given */
} MergeError;

/* Merges the results databases parts[0..n-1] into out (runs in the order given, ids
 * renumbered from 1). `replications` is NULL, or holds one value per part: the
 * run.replication to store for the runs of that part (a sweep knows them; `m2msim run`
 * alone does not), -1 to keep the part's own. Scalars and series samples stored as
 * NULL by a foreign writer are left out (the convention for "no value"). out may be one
 * of the parts: it is read before it is replaced.
 * Errors: RES_ERROR_* for unreadable parts or an unwritable out (the message names the
 * file), MERGE_ERROR_DUPLICATE and MERGE_ERROR_MISMATCH naming both files and runs,
 * MERGE_ERROR_EMPTY. On error out is unchanged. *n_runs (may be NULL) gets the number of
 * runs written. */
bool merge_files(const char *const *parts, size_t n, const int64_t *replications, const char *out,
                 size_t *n_runs, GError **error);

/* The same, and the meta table of out gets the pairs of `meta` (key, value, key, value,
 * ..., NULL; may be NULL) in the same commit: a study's own record (what solve found)
 * lands with its runs or not at all. */
bool merge_files_meta(const char *const *parts, size_t n, const int64_t *replications,
                      const char *out, const char *const *meta, size_t *n_runs, GError **error);
