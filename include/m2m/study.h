/* A results database as a study: its runs grouped into parameter points (runs whose
 * parameters are equal apart from the seed: the replications of one point), the keys
 * that vary between points, and per point the mean and confidence interval of every
 * scalar. What `m2msim plot` and `m2msim report` draw and tabulate; it works the same
 * for a single run, for replications of one scenario, and for a merged sweep, because it
 * reads the param table rather than any sweep bookkeeping.
 *
 * Part of the engine: generic over the results schema, nothing about M2M. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

#include "m2m/ci.h"
#include "m2m/results.h"

typedef struct Study Study;

/* Reads every run, its params and scalars (not the series: study_reader() serves those
 * on demand). Errors: those of res_reader_open(), and RES_ERROR_NOT_FOUND when the
 * database holds no run. */
Study *study_load(const char *path, GError **error);
void study_free(Study *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Study, study_free)

/* The open reader, for series. */
ResReader *study_reader(Study *s);

size_t study_n_runs(const Study *s);
const ResRun *study_run(const Study *s, size_t run);
/* Value of a run's parameter, or NULL. */
const char *study_param(const Study *s, size_t run, const char *key);
/* A run's parameters in stored order (ResParam*). */
GPtrArray *study_params(const Study *s, size_t run);
/* A run's scalar; false when the run has none of that name. */
bool study_scalar(const Study *s, size_t run, const char *name, double *value);

/* Parameters whose values are not the same in every run ("seed" excluded: seeds tell
 * replications apart), in the order they first appear; NULL-terminated, owned by s. */
const char *const *study_varied_keys(const Study *s);

/* Points: groups of runs with equal values of every varied key, in order of their first
 * run. A database without varied keys is one point. */
size_t study_n_points(const Study *s);
size_t study_point_n_runs(const Study *s, size_t point);
size_t study_point_run(const Study *s, size_t point, size_t i);
/* Value of varied key k (index into study_varied_keys) at the point, or NULL if absent. */
const char *study_point_value(const Study *s, size_t point, size_t k);
/* "key=value, ..." over the varied keys, or "" for a database without any. Caller frees. */
char *study_point_label(const Study *s, size_t point);

/* Every scalar name in any run, sorted; NULL-terminated, owned by s. */
const char *const *study_scalar_names(const Study *s);

/* Mean and confidence interval (at level, e.g. 0.95) of a scalar over the point's runs
 * that have it with a finite value (out->n says how many). */
void study_point_summary(const Study *s, size_t point, const char *name, double level,
                         CiSummary *out);

/* True when the scalar's per-point means are not all equal (or it is missing at some
 * points but not others): worth a plot against the varied parameter. */
bool study_scalar_varies(const Study *s, const char *name);
