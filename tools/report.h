/* The tables of `m2msim report` (report-tables.c): the study's answer (a solve's answer and
 * its targets, or a sweep's key figures per point), every scalar grouped by area in human
 * units, and the runs with their provenance. Each appends HTML to h; cmd-report.c lays out
 * the page around them. */
#pragma once

#include <glib.h>

#include "m2m/study.h"

/* Appends text HTML-escaped. */
void rpt_esc(GString *h, const char *text);

/* The answer section's content: for a database written by `m2msim solve` (meta
 * solve.param), the answer, each target at the answer and at its neighbour, and every
 * candidate evaluated; otherwise the key figures of each point. */
void rpt_answer(GString *h, Study *s);

/* Every scalar, one table per area (human.h), values in human units with a unit column;
 * for several points a column per point. */
void rpt_scalars(GString *h, const Study *s);

/* Where the runs came from, in one sentence (versions, commits, hosts, first start, total
 * wall time). */
void rpt_provenance_summary(GString *h, const Study *s);

/* One row per run: seed, replication, varied values, status, wall time, start, and the
 * provenance (version, commit, host, command line). */
void rpt_runs(GString *h, const Study *s);
