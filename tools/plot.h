/* Figures of a results database drawn by gnuplot (run as a separate program): per point
 * (a run, or the replications of a sweep point) the PIMSI pool occupancy, the AV queue
 * and utilisation, the provisioning latency CDF and the devices provisioned over time;
 * for a sweep, chosen scalars against the swept parameter with 95% confidence bars.
 * Shared by `m2msim plot` (files) and `m2msim report` (SVG inlined in HTML).
 *
 * gnuplot gets one script per call, its data as inline data blocks ($name << EOD) of
 * numbers this module formats, and every text (titles, labels) as single-quoted gnuplot
 * strings, which gnuplot never expands (no backquote command substitution, no macros). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

#include "m2m/study.h"

#define PLOT_INSTALL_HINT "gnuplot not found; install it with: apt-get install gnuplot-nox"

typedef enum {
  PLOT_SVG,
  PLOT_PNG,
} PlotFormat;

typedef struct {
  char *path;    /* the file written */
  char *caption; /* one sentence saying what it shows (and any approximation) */
} PlotFigure;

void plot_figure_free(PlotFigure *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PlotFigure, plot_figure_free)

/* Path of gnuplot, or NULL when it is not installed. Caller frees. */
char *plot_find_gnuplot(void);

/* File name prefix of a point's figures: "run-ID" for a lone run, "point-NNN" otherwise. */
char *plot_point_prefix(const Study *s, size_t point);

/* Draws the figures of one point into dir as PREFIX-pimsi.EXT, -av, -latency,
 * -provisioned (a figure whose series are absent from the database is left out) and
 * appends a PlotFigure* for each to figs. Errors: G_SPAWN_ERROR, G_FILE_ERROR (gnuplot's
 * own message when it fails). */
bool plot_point(Study *s, size_t point, const char *gnuplot, const char *dir, PlotFormat fmt,
                GPtrArray *figs, GError **error);

/* For a database with varied parameters: one figure per chosen scalar (the headline
 * scalars first, then every other scalar whose mean varies between points; wall-clock
 * times and the engine's own counters left out) against the first varied key, means with 95%
 * Student t confidence bars, one line per combination of the other varied keys, as sweep-NAME.EXT.
 * Does nothing for a database without varied parameters. */
bool plot_sweep(Study *s, const char *gnuplot, const char *dir, PlotFormat fmt, GPtrArray *figs,
                GError **error);
