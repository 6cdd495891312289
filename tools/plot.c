/* gnuplot scripts for the standard figures (see plot.h). Each call builds one script:
 * a terminal line, then per figure `reset`, its data blocks, settings and one plot
 * command; gnuplot runs it from a temporary file in the output directory. */
#include "plot.h"

#include "human.h"

#include <math.h>
#include <string.h>
#include <sys/wait.h>

#include <errno.h>
#include <unistd.h>

#include <glib/gstdio.h>


/* Scalars a sweep is usually about, plotted first. */
static const char *const headline[] = {
    "rs.pimsi.blocked",      "provision.latency.p95", "rs.av.wait_mean",
    "rs.pimsi.exhausted_at", "devices.provisioned",   "provision.latency.mean",
    "rs.av.utilization",     "rs.pimsi.in_use_peak",  NULL,
};

static const char *const c_blue = "#1f77b4", *const c_orange = "#ff7f0e",
                         *const c_green = "#2ca02c", *const c_purple = "#9467bd",
                         *const c_red = "#c00000", *const c_grey = "#555555";

void
plot_figure_free(PlotFigure *f)
{
  if (f != NULL) {
    g_free(f->path);
    g_free(f->caption);
    g_free(f);
  }
}

char *
plot_find_gnuplot(void)
{
  return g_find_program_in_path("gnuplot");
}

/* A gnuplot string expression for any text: single-quoted pieces ('' for a quote), which
 * gnuplot takes literally, joined by "\n" for line breaks; other control characters
 * become spaces. */
static void
gp_str(GString *out, const char *text)
{
  g_string_append_c(out, '\'');
  for (const char *p = text; *p; p++) {
    if (*p == '\'')
      g_string_append(out, "''");
    else if (*p == '\n')
      g_string_append(out, "'.\"\\n\".'");
    else if ((unsigned char)*p < 0x20 || *p == 0x7f)
      g_string_append_c(out, ' ');
    else
      g_string_append_c(out, *p);
  }
  g_string_append_c(out, '\'');
}

/* "set KEY TEXT\n" with TEXT as a gnuplot string. */
static void
gp_set(GString *out, const char *what, const char *text)
{
  g_string_append_printf(out, "set %s ", what);
  gp_str(out, text);
  g_string_append_c(out, '\n');
}

static void
gp_num(GString *out, double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_string_append(out, g_ascii_formatd(buf, sizeof buf, "%.10g", v));
}

typedef struct {
  double div;       /* seconds per unit */
  const char *name; /* "s", "min", "h", "d" */
} TimeUnit;

static TimeUnit
time_unit(double max_s)
{
  TimeUnit u;
  human_time_scale(max_s, &u.name, &u.div);
  return u;
}

/* The unit a scalar's axis reads best in (human.h: times in the unit that fits the
 * largest value, fractions as percentages) and what its values are divided by. */
static const char *
axis_unit(const char *name, double max_abs, double *div)
{
  *div = 1;
  switch (human_unit(name)) {
  case HUMAN_SECONDS: {
    const char *u;
    human_time_scale(max_abs, &u, div);
    return u;
  }
  case HUMAN_FRACTION:
    *div = 0.01;
    return "%";
  case HUMAN_RATE:
    return "per s";
  case HUMAN_COUNT:
    break;
  }
  return NULL;
}

/* Writes the script into dir, runs gnuplot on it, removes it. */
static bool
gp_run(const char *gnuplot, const char *dir, const GString *script, GError **error)
{
  g_autofree char *tmpl = g_build_filename(dir, ".m2msim-plot-XXXXXX.gp", NULL);
  int fd = g_mkstemp(tmpl);
  if (fd < 0) {
    g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", tmpl,
                g_strerror(errno));
    return false;
  }
  close(fd);
  if (!g_file_set_contents(tmpl, script->str, (gssize)script->len, error)) {
    g_unlink(tmpl);
    return false;
  }
  const char *argv[] = {gnuplot, tmpl, NULL};
  g_autofree char *err = NULL;
  int status = 0;
  bool ok = g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
                         &err, &status, error);
  if (ok && !(WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
    g_strstrip(err);
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "gnuplot failed on %s: %s", tmpl, err);
    return false; /* the script stays for inspection */
  }
  g_unlink(tmpl);
  return ok;
}

static const char *
fmt_ext(PlotFormat fmt)
{
  return fmt == PLOT_PNG ? "png" : "svg";
}

static void
gp_terminal(GString *g, PlotFormat fmt)
{
  if (fmt == PLOT_PNG)
    g_string_append(g, "set terminal pngcairo size 1000,560 noenhanced font 'sans,11'\n");
  else
    g_string_append(g, "set terminal svg size 900,500 dynamic noenhanced font 'sans,12' "
                       "background '#ffffff'\n");
}

/* Starts a figure: reset, output file, a figure record. */
static PlotFigure *
gp_figure(GString *g, const char *dir, const char *name, PlotFormat fmt, GPtrArray *figs)
{
  PlotFigure *f = g_new0(PlotFigure, 1);
  g_autofree char *file = g_strdup_printf("%s.%s", name, fmt_ext(fmt));
  f->path = g_build_filename(dir, file, NULL);
  g_string_append(g, "reset\nset grid lc rgb '#dddddd'\nset key top left box opaque\n");
  gp_set(g, "output", f->path);
  g_ptr_array_add(figs, f);
  return f;
}

/* A data block of a series, t divided by div. Returns false (nothing written) when the
 * series is empty. */
static bool
gp_series_block(GString *g, ResReader *r, int64_t run_id, const char *series, const char *block,
                double div, bool positive_t, GError **error)
{
  g_autoptr(GArray) pts = res_reader_series(r, run_id, series, error);
  if (pts == NULL || pts->len == 0)
    return false;
  g_string_append_printf(g, "$%s << EOD\n", block);
  size_t n = 0;
  for (guint i = 0; i < pts->len; i++) {
    const ResPoint *p = &g_array_index(pts, ResPoint, i);
    if (!isfinite(p->t_s) || !isfinite(p->value) || (positive_t && !(p->t_s > 0)))
      continue;
    gp_num(g, p->t_s / div);
    g_string_append_c(g, ' ');
    gp_num(g, p->value);
    g_string_append_c(g, '\n');
    n++;
  }
  g_string_append(g, "EOD\n");
  return n > 0;
}

/* Largest t of the point's runs in a series (for the time unit). */
static double
series_max_t(Study *s, size_t point, const char *series)
{
  double max = 0;
  for (size_t i = 0; i < study_point_n_runs(s, point); i++) {
    const ResRun *run = study_run(s, study_point_run(s, point, i));
    g_autoptr(GArray) pts = res_reader_series(study_reader(s), run->id, series, NULL);
    for (guint k = 0; pts && k < pts->len; k++)
      max = MAX(max, g_array_index(pts, ResPoint, k).t_s);
  }
  return max;
}

static bool
has_series(Study *s, size_t point, const char *series)
{
  const ResRun *run = study_run(s, study_point_run(s, point, 0));
  g_autoptr(GArray) pts = res_reader_series(study_reader(s), run->id, series, NULL);
  return pts != NULL && pts->len > 0;
}

/* "quickstart, seed 7" or "quickstart, k=v (3 runs, seeds 1, 2, 3)". */
static char *
point_subtitle(const Study *s, size_t point)
{
  size_t n = study_point_n_runs(s, point);
  const ResRun *first = study_run(s, study_point_run(s, point, 0));
  GString *t = g_string_new(first->name ? first->name : "(unnamed scenario)");
  g_autofree char *label = study_point_label(s, point);
  if (*label)
    g_string_append_printf(t, ", %s", label);
  if (n == 1) {
    g_string_append_printf(t, ", seed %" G_GINT64_FORMAT, first->seed);
  } else {
    /* Seeds are up to 19 digits: a line of their own, three at most. */
    g_string_append_printf(t, " (%zu runs)\nseeds ", n);
    for (size_t i = 0; i < n && i < 3; i++)
      g_string_append_printf(t, "%s%" G_GINT64_FORMAT, i ? ", " : "",
                             study_run(s, study_point_run(s, point, i))->seed);
    if (n > 3)
      g_string_append(t, ", ...");
  }
  return g_string_free(t, FALSE);
}

/* Mean over the point's runs of a scalar; false when no run has it. */
static bool
point_mean(const Study *s, size_t point, const char *name, double *mean, size_t *n)
{
  CiSummary c;
  study_point_summary(s, point, name, 0.95, &c);
  if (n)
    *n = c.n;
  *mean = c.mean;
  return c.n > 0;
}

/* " lc rgb 'C' lw W title T" or notitle for repeated replications. */
static void
gp_style(GString *g, const char *color, size_t rep, const char *title)
{
  g_string_append_printf(g, " lc rgb '%s' lw %s ", color, rep == 0 ? "2" : "1");
  if (rep == 0) {
    g_string_append(g, "title ");
    gp_str(g, title);
  } else {
    g_string_append(g, "notitle");
  }
}

static void
fig_pimsi(GString *g, Study *s, size_t point, const char *dir, const char *prefix, PlotFormat fmt,
          GPtrArray *figs)
{
  if (!has_series(s, point, "rs.pimsi.in_use"))
    return;
  TimeUnit u = time_unit(series_max_t(s, point, "rs.pimsi.in_use"));
  g_autofree char *name = g_strdup_printf("%s-pimsi", prefix);
  PlotFigure *f = gp_figure(g, dir, name, fmt, figs);
  size_t n = study_point_n_runs(s, point);
  GString *plot = g_string_new("plot ");
  double pool = NAN;
  double exh_min = INFINITY, exh_max = -INFINITY;
  size_t n_exh = 0;
  for (size_t i = 0; i < n; i++) {
    size_t run = study_point_run(s, point, i);
    int64_t id = study_run(s, run)->id;
    g_autofree char *b1 = g_strdup_printf("inuse%zu", i), *b2 = g_strdup_printf("quar%zu", i);
    if (gp_series_block(g, study_reader(s), id, "rs.pimsi.in_use", b1, u.div, false, NULL)) {
      g_string_append_printf(plot, "%s$%s using 1:2 with lines", plot->len > 5 ? ", " : "", b1);
      gp_style(plot, c_blue, i, "in use");
    }
    if (gp_series_block(g, study_reader(s), id, "rs.pimsi.quarantined", b2, u.div, false, NULL)) {
      g_string_append_printf(plot, ", $%s using 1:2 with lines", b2);
      gp_style(plot, c_orange, i, "quarantined");
    }
    double v;
    if (isnan(pool) && study_scalar(s, run, "rs.pimsi.pool_size", &v))
      pool = v;
    if (study_scalar(s, run, "rs.pimsi.exhausted_at", &v)) {
      g_string_append(g, "set arrow from ");
      gp_num(g, v / u.div);
      g_string_append_printf(g, ", graph 0 to ");
      gp_num(g, v / u.div);
      g_string_append_printf(g, ", graph 1 nohead dt 3 lw 1.5 lc rgb '%s' front\n", c_red);
      exh_min = MIN(exh_min, v / u.div);
      exh_max = MAX(exh_max, v / u.div);
      n_exh++;
    }
  }
  if (!isnan(pool)) {
    g_autofree char *t = g_strdup_printf("pool size (%.0f)", pool);
    g_string_append(plot, ", ");
    gp_num(plot, pool);
    g_string_append_printf(plot, " with lines dt 2 lw 1.5 lc rgb '%s' title ", c_grey);
    gp_str(plot, t);
  }
  g_autofree char *ex = NULL;
  if (n_exh > 0) {
    g_autofree char *lo = g_strdup_printf("%.3g", exh_min), *hi = g_strdup_printf("%.3g", exh_max);
    g_autofree char *when = strcmp(lo, hi) != 0 ? g_strdup_printf("%s to %s %s", lo, hi, u.name)
                                                : g_strdup_printf("%s %s", lo, u.name);
    g_autofree char *some = n > 1 ? g_strdup_printf(" (%zu of %zu runs)", n_exh, n) : g_strdup("");
    ex = g_strdup_printf("pool exhausted at t = %s%s", when, some);
    g_string_append_printf(plot, ", NaN with lines dt 3 lw 1.5 lc rgb '%s' title 'exhausted'",
                           c_red);
  } else {
    ex = g_strdup("pool never exhausted");
  }
  g_autofree char *sub = point_subtitle(s, point);
  g_autofree char *title = g_strdup_printf("PIMSI pool occupancy: %s\n%s", ex, sub);
  gp_set(g, "title", title);
  g_autofree char *xl = g_strdup_printf("simulated time (%s)", u.name);
  gp_set(g, "xlabel", xl);
  gp_set(g, "ylabel", "PIMSIs");
  g_string_append(g, "set yrange [0:*]\nset offsets 0, 0, graph 0.08, 0\n");
  g_string_append_printf(g, "%s\n", plot->str);
  f->caption = g_strdup_printf("PIMSIs held by equipment (in use) and waiting out the "
                               "quarantine over time, with the pool size; %s.",
                               ex);
  g_string_free(plot, TRUE);
}

static void
fig_av(GString *g, Study *s, size_t point, const char *dir, const char *prefix, PlotFormat fmt,
       GPtrArray *figs)
{
  if (!has_series(s, point, "rs.av.queue"))
    return;
  TimeUnit u = time_unit(series_max_t(s, point, "rs.av.queue"));
  g_autofree char *name = g_strdup_printf("%s-av", prefix);
  PlotFigure *f = gp_figure(g, dir, name, fmt, figs);
  size_t n = study_point_n_runs(s, point);
  bool util_series = has_series(s, point, "rs.av.utilization");
  GString *plot = g_string_new("plot ");
  for (size_t i = 0; i < n; i++) {
    int64_t id = study_run(s, study_point_run(s, point, i))->id;
    g_autofree char *b1 = g_strdup_printf("queue%zu", i), *b2 = g_strdup_printf("util%zu", i);
    g_autofree char *b3 = g_strdup_printf("qmax%zu", i);
    /* Databases from before interval statistics have the queue as a sample at t only. */
    bool interval = has_series(s, point, "rs.av.queue_max");
    if (interval &&
        gp_series_block(g, study_reader(s), id, "rs.av.queue_max", b3, u.div, false, NULL)) {
      /* fsteps: a value at t holds for the interval that ends at t */
      g_string_append_printf(plot, "%s$%s using 1:2 with fsteps axes x1y1",
                             plot->len > 5 ? ", " : "", b3);
      gp_style(plot, c_red, i, "longest queue in the interval (left axis)");
    }
    if (gp_series_block(g, study_reader(s), id, "rs.av.queue", b1, u.div, false, NULL)) {
      g_string_append_printf(plot, "%s$%s using 1:2 with %s axes x1y1", plot->len > 5 ? ", " : "",
                             b1, interval ? "fsteps" : "steps");
      gp_style(plot, c_green, i,
               interval ? "mean queue in the interval (left axis)"
                        : "AV requests waiting (left axis)");
    }
    if (util_series &&
        gp_series_block(g, study_reader(s), id, "rs.av.utilization", b2, u.div, false, NULL)) {
      g_string_append_printf(plot, ", $%s using 1:2 with fsteps axes x1y2", b2);
      gp_style(plot, c_purple, i, "AV server utilisation (right axis)");
    }
  }
  double util = NAN;
  const char *how;
  if (util_series) {
    how = "utilisation per sampling interval";
  } else if (point_mean(s, point, "rs.av.utilization", &util, NULL)) {
    g_string_append(plot, ", ");
    gp_num(plot, util);
    g_string_append_printf(plot,
                           " with lines dt 2 lw 2 lc rgb '%s' axes x1y2 title "
                           "'mean utilisation over the run (right axis)'",
                           c_purple);
    how = "mean utilisation over the run (no utilisation series recorded)";
  } else {
    how = "utilisation not recorded";
  }
  g_autofree char *sub = point_subtitle(s, point);
  g_autofree char *title =
      g_strdup_printf("AV generation at the RS: queue and utilisation\n%s", sub);
  gp_set(g, "title", title);
  g_autofree char *xl = g_strdup_printf("simulated time (%s)", u.name);
  gp_set(g, "xlabel", xl);
  gp_set(g, "ylabel", "AV requests waiting for a server");
  gp_set(g, "y2label", "AV server utilisation (busy fraction)");
  g_string_append(g, "set yrange [0:*]\nset y2range [0:1.05]\nset ytics nomirror\n"
                     "set y2tics 0, 0.2\nset offsets 0, 0, graph 0.08, 0\n");
  g_string_append_printf(g, "%s\n", plot->str);
  f->caption = g_strdup_printf("AV requests queued at the Registration Service over time, "
                               "with the AV servers' %s.",
                               how);
  g_string_free(plot, TRUE);
}

static void
fig_latency(GString *g, Study *s, size_t point, const char *dir, const char *prefix, PlotFormat fmt,
            GPtrArray *figs)
{
  static const char *const q_names[] = {"provision.latency.p50", "provision.latency.p95",
                                        "provision.latency.p99"};
  static const char *const q_labels[] = {"p50", "p95", "p99"};
  bool cdf = has_series(s, point, "provision.latency.cdf");
  double p50;
  if (!cdf && !point_mean(s, point, q_names[0], &p50, NULL))
    return; /* nothing provisioned, or no latency recorded */
  g_autofree char *name = g_strdup_printf("%s-latency", prefix);
  PlotFigure *f = gp_figure(g, dir, name, fmt, figs);
  size_t n = study_point_n_runs(s, point);
  GString *plot = g_string_new("plot ");
  for (size_t i = 0; i < n; i++) {
    size_t run = study_point_run(s, point, i);
    g_autofree char *b = g_strdup_printf("cdf%zu", i);
    if (cdf) {
      if (gp_series_block(g, study_reader(s), study_run(s, run)->id, "provision.latency.cdf", b, 1,
                          true, NULL)) {
        g_string_append_printf(plot, "%s$%s using 1:2 with steps", plot->len > 5 ? ", " : "", b);
        gp_style(plot, c_blue, i, "fraction provisioned within x");
      }
      continue;
    }
    /* Step approximation: the CDF is at least q at the q-quantile. */
    static const char *const all[] = {"provision.latency.p50", "provision.latency.p95",
                                      "provision.latency.p99", "provision.latency.max"};
    static const double frac[] = {0.5, 0.95, 0.99, 1.0};
    GString *blk = g_string_new(NULL);
    size_t rows = 0;
    for (size_t k = 0; k < G_N_ELEMENTS(all); k++) {
      double v;
      if (!study_scalar(s, run, all[k], &v) || !(v > 0))
        continue;
      if (rows == 0) {
        gp_num(blk, v);
        g_string_append(blk, " 0\n");
      }
      gp_num(blk, v);
      g_string_append_c(blk, ' ');
      gp_num(blk, frac[k]);
      g_string_append_c(blk, '\n');
      rows++;
    }
    if (rows > 0) {
      g_string_append_printf(g, "$%s << EOD\n%sEOD\n", b, blk->str);
      g_string_append_printf(plot, "%s$%s using 1:2 with steps", plot->len > 5 ? ", " : "", b);
      gp_style(plot, c_blue, i, "lower bound from the quantiles");
    }
    g_string_free(blk, TRUE);
  }
  for (size_t k = 0; k < G_N_ELEMENTS(q_names); k++) {
    double v;
    size_t m = 0;
    if (!point_mean(s, point, q_names[k], &v, &m) || !(v > 0))
      continue;
    g_string_append(g, "set arrow from ");
    gp_num(g, v);
    g_string_append(g, ", graph 0 to ");
    gp_num(g, v);
    g_string_append_printf(g, ", graph 1 nohead dt 2 lc rgb '%s'\n", c_red);
    g_autofree char *when = human_value(v, HUMAN_SECONDS);
    g_autofree char *lab = g_strdup_printf("%s%s = %s", q_labels[k], m > 1 ? " (mean)" : "", when);
    g_string_append(g, "set label ");
    gp_str(g, lab);
    g_string_append(g, " at ");
    gp_num(g, v);
    /* p50 to the right of its line (it is often near the left edge), the tail
     * quantiles to the left (near the right edge). */
    g_string_append_printf(g, ", graph %.2f %s tc rgb '%s'\n", 0.12 + 0.08 * (double)k,
                           k == 0 ? "left offset 0.5, 0" : "right offset -0.5, 0", c_red);
  }
  g_autofree char *sub = point_subtitle(s, point);
  const char *approx = cdf ? ""
                           : " (step approximation from p50/p95/p99/max: no "
                             "provision.latency.cdf series)";
  g_autofree char *title = g_strdup_printf("Provisioning latency CDF%s\n%s", approx, sub);
  gp_set(g, "title", title);
  gp_set(g, "xlabel", "power-on to USIM installed (s, log scale)");
  gp_set(g, "ylabel", "fraction of provisioned devices");
  g_string_append(g, "set logscale x\nset yrange [0:1.02]\nset key bottom right box opaque\n");
  g_string_append_printf(g, "%s\n", plot->str);
  f->caption = g_strdup_printf("Distribution of the time from power-on to USIM installed%s, "
                               "with p50, p95 and p99 marked, over the devices provisioned "
                               "by the end of the run (devices still in progress are not in "
                               "it: provision.latency_km.* counts them).",
                               cdf ? ""
                                   : ", approximated as steps through the recorded "
                                     "quantiles because the database has no "
                                     "provision.latency.cdf series");
  g_string_free(plot, TRUE);
}

static void
fig_provisioned(GString *g, Study *s, size_t point, const char *dir, const char *prefix,
                PlotFormat fmt, GPtrArray *figs)
{
  if (!has_series(s, point, "devices.provisioned"))
    return;
  TimeUnit u = time_unit(series_max_t(s, point, "devices.provisioned"));
  g_autofree char *name = g_strdup_printf("%s-provisioned", prefix);
  PlotFigure *f = gp_figure(g, dir, name, fmt, figs);
  GString *plot = g_string_new("plot ");
  for (size_t i = 0; i < study_point_n_runs(s, point); i++) {
    int64_t id = study_run(s, study_point_run(s, point, i))->id;
    g_autofree char *b = g_strdup_printf("prov%zu", i);
    if (gp_series_block(g, study_reader(s), id, "devices.provisioned", b, u.div, false, NULL)) {
      g_string_append_printf(plot, "%s$%s using 1:2 with lines", plot->len > 5 ? ", " : "", b);
      gp_style(plot, c_blue, i, "provisioned (USIM installed)");
    }
  }
  double made;
  if (point_mean(s, point, "devices.manufactured", &made, NULL)) {
    g_string_append(plot, ", ");
    gp_num(plot, made);
    g_string_append_printf(plot,
                           " with lines dt 2 lw 1.5 lc rgb '%s' title "
                           "'manufactured by the end'",
                           c_grey);
  }
  g_autofree char *sub = point_subtitle(s, point);
  g_autofree char *title = g_strdup_printf("Devices provisioned over time\n%s", sub);
  gp_set(g, "title", title);
  g_autofree char *xl = g_strdup_printf("simulated time (%s)", u.name);
  gp_set(g, "xlabel", xl);
  gp_set(g, "ylabel", "devices");
  g_string_append(g, "set yrange [0:*]\nset offsets 0, 0, graph 0.08, 0\n");
  g_string_append_printf(g, "%s\n", plot->str);
  f->caption = g_strdup("Devices with their real USIM installed, over simulated time.");
  g_string_free(plot, TRUE);
}

char *
plot_point_prefix(const Study *s, size_t point)
{
  if (study_n_points(s) == 1 && study_point_n_runs(s, 0) == 1)
    return g_strdup_printf("run-%" G_GINT64_FORMAT, study_run(s, 0)->id);
  return g_strdup_printf("point-%03zu", point + 1);
}

bool
plot_point(Study *s, size_t point, const char *gnuplot, const char *dir, PlotFormat fmt,
           GPtrArray *figs, GError **error)
{
  g_autofree char *prefix = plot_point_prefix(s, point);
  GString *g = g_string_new(NULL);
  gp_terminal(g, fmt);
  guint before = figs->len;
  fig_pimsi(g, s, point, dir, prefix, fmt, figs);
  fig_av(g, s, point, dir, prefix, fmt, figs);
  fig_latency(g, s, point, dir, prefix, fmt, figs);
  fig_provisioned(g, s, point, dir, prefix, fmt, figs);
  bool ok = figs->len == before || gp_run(gnuplot, dir, g, error);
  g_string_free(g, TRUE);
  return ok;
}

typedef struct {
  double x;
  size_t point;
} XPoint;

static int
xpoint_cmp(gconstpointer a, gconstpointer b)
{
  double xa = ((const XPoint *)a)->x, xb = ((const XPoint *)b)->x;
  return (xa > xb) - (xa < xb);
}

bool
plot_sweep(Study *s, const char *gnuplot, const char *dir, PlotFormat fmt, GPtrArray *figs,
           GError **error)
{
  const char *const *varied = study_varied_keys(s);
  if (varied[0] == NULL)
    return true;
  size_t np = study_n_points(s);
  /* x: the first varied key, numeric when every point's value reads as a number. */
  const char *xkey = varied[0];
  g_autofree double *xs = g_new(double, np);
  bool numeric = true;
  const char *xunit = NULL;
  for (size_t p = 0; p < np; p++) {
    const char *v = study_point_value(s, p, 0);
    HumanUnit hu = HUMAN_COUNT;
    const char *unit = NULL;
    if (v == NULL || !human_param_number(v, &xs[p], &hu))
      numeric = false;
    unit = hu == HUMAN_SECONDS ? "s" : hu == HUMAN_RATE ? "per s" : NULL;
    if (p > 0 && g_strcmp0(unit, xunit) != 0)
      numeric = false;
    xunit = unit;
  }
  /* Durations on the axis in the unit that fits them ("d", not 172800 s). */
  if (numeric && g_strcmp0(xunit, "s") == 0) {
    double max = 0, div;
    for (size_t p = 0; p < np; p++)
      max = MAX(max, fabs(xs[p]));
    human_time_scale(max, &xunit, &div);
    for (size_t p = 0; p < np; p++)
      xs[p] /= div;
  }
  /* Lines: one per combination of the other varied keys. */
  g_autoptr(GPtrArray) groups = g_ptr_array_new_with_free_func(g_free);
  g_autofree size_t *group_of = g_new(size_t, np);
  for (size_t p = 0; p < np; p++) {
    GString *l = g_string_new(NULL);
    for (size_t k = 1; varied[k]; k++) {
      const char *v = study_point_value(s, p, k);
      g_string_append_printf(l, "%s%s=%s", k > 1 ? ", " : "", varied[k], v ? v : "(unset)");
    }
    guint idx;
    if (!g_ptr_array_find_with_equal_func(groups, l->str, g_str_equal, &idx)) {
      idx = groups->len;
      g_ptr_array_add(groups, g_strdup(l->str));
    }
    g_string_free(l, TRUE);
    group_of[p] = idx;
  }
  /* Scalars: headline ones first, then the others that vary. */
  g_autoptr(GPtrArray) chosen = g_ptr_array_new();
  const char *const *names = study_scalar_names(s);
  for (size_t h = 0; headline[h]; h++)
    for (size_t k = 0; names[k]; k++)
      if (strcmp(names[k], headline[h]) == 0 && study_scalar_varies(s, names[k]))
        g_ptr_array_add(chosen, (gpointer)names[k]);
  for (size_t k = 0; names[k]; k++) {
    if (g_strv_contains(headline, names[k]) || g_str_has_suffix(names[k], "wall_s") ||
        g_str_has_prefix(names[k], "engine.") || !study_scalar_varies(s, names[k]))
      continue;
    g_ptr_array_add(chosen, (gpointer)names[k]);
  }
  if (chosen->len == 0)
    return true;
  const ResRun *first = study_run(s, 0);
  GString *g = g_string_new(NULL);
  gp_terminal(g, fmt);
  for (guint c = 0; c < chosen->len; c++) {
    const char *name = chosen->pdata[c];
    g_autofree char *safe = g_strdup(name);
    g_strcanon(safe, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", '_');
    g_autofree char *file = g_strdup_printf("sweep-%s", safe);
    PlotFigure *f = gp_figure(g, dir, file, fmt, figs);
    GString *plot = g_string_new("plot ");
    size_t max_n = 0;
    double max_y = 0, ydiv;
    for (size_t p = 0; p < np; p++) {
      CiSummary cs;
      study_point_summary(s, p, name, 0.95, &cs);
      if (cs.n > 0 && isfinite(cs.mean))
        max_y = MAX(max_y, fabs(cs.mean));
    }
    const char *unit = axis_unit(name, max_y, &ydiv);
    for (guint gi = 0; gi < groups->len; gi++) {
      g_autoptr(GArray) pts = g_array_new(FALSE, FALSE, sizeof(XPoint));
      for (size_t p = 0; p < np; p++)
        if (group_of[p] == gi) {
          XPoint xp = {numeric ? xs[p] : (double)p, p};
          g_array_append_val(pts, xp);
        }
      if (numeric)
        g_array_sort(pts, xpoint_cmp);
      g_string_append_printf(g, "$g%u << EOD\n", gi);
      size_t rows = 0;
      for (guint i = 0; i < pts->len; i++) {
        const XPoint *xp = &g_array_index(pts, XPoint, i);
        CiSummary cs;
        study_point_summary(s, xp->point, name, 0.95, &cs);
        if (cs.n == 0)
          continue;
        max_n = MAX(max_n, cs.n);
        gp_num(g, xp->x);
        g_string_append_c(g, ' ');
        gp_num(g, cs.mean / ydiv);
        g_string_append_c(g, ' ');
        gp_num(g, isnan(cs.half_width) ? 0 : cs.half_width / ydiv);
        g_string_append_c(g, '\n');
        rows++;
      }
      g_string_append(g, "EOD\n");
      if (rows == 0)
        continue;
      g_string_append_printf(plot, "%s$g%u using 1:2:3 with yerrorlines pt 7 ps 0.6 lw 1.5 title ",
                             plot->len > 5 ? ", " : "", gi);
      const char *gl = groups->pdata[gi];
      gp_str(plot, *gl ? gl : "mean, 95% CI");
    }
    if (plot->len == 5) {
      g_string_append(plot, "NaN notitle");
    }
    g_autofree char *title = g_strdup_printf(
        "%s against %s\nmean and 95%% confidence interval (Student t) over up to %zu "
        "replications; %s",
        name, xkey, max_n, first->name ? first->name : "");
    gp_set(g, "title", title);
    g_autofree char *xl =
        g_strdup_printf("%s%s%s%s", xkey, xunit && numeric ? " (" : "",
                        xunit && numeric ? xunit : "", xunit && numeric ? ")" : "");
    gp_set(g, "xlabel", xl);
    g_autofree char *yl =
        g_strdup_printf("%s%s%s%s", name, unit ? " (" : "", unit ? unit : "", unit ? ")" : "");
    gp_set(g, "ylabel", yl);
    g_string_append(g, "set offsets graph 0.05, graph 0.05, graph 0.08, graph 0.08\n");
    if (!numeric) {
      g_string_append(g, "set xtics rotate by -20 (");
      for (size_t p = 0; p < np; p++) {
        const char *v = study_point_value(s, p, 0);
        if (p)
          g_string_append(g, ", ");
        gp_str(g, v ? v : "(unset)");
        g_string_append_printf(g, " %zu", p);
      }
      g_string_append(g, ")\n");
    }
    g_string_append_printf(g, "%s\n", plot->str);
    f->caption = g_strdup_printf("%s against %s: mean over the replications of each point with "
                                 "its 95%% confidence interval.",
                                 name, xkey);
    g_string_free(plot, TRUE);
  }
  bool ok = gp_run(gnuplot, dir, g, error);
  g_string_free(g, TRUE);
  return ok;
}
