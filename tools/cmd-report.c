/* `m2msim report DB -o report.html`: one self-contained HTML5 file describing a results
 * database: the scenario text, its parameters, every scalar (for replications and
 * sweeps: mean and 95% Student t confidence interval per parameter point), the sweep's
 * scalars plotted against the varied parameter, and each point's standard figures, all
 * drawn by gnuplot as SVG and inlined (no network access, no external CSS or script).
 * The file appears atomically (temporary file, rename). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "cli.h"
#include "m2m-config.h"
#include "m2m/ci.h"
#include "m2m/results.h"
#include "m2m/study.h"
#include "plot.h"
#include "report.h"

#define CMD "report"

static const char css[] =
    ":root{color-scheme:light}\n"
    "body{font:15px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;color:#222;"
    "max-width:1200px;margin:0 auto;padding:1rem 2rem}\n"
    "h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.25rem;border-bottom:1px solid #ddd;"
    "margin-top:2.5rem}h3{font-size:1.05rem;margin-top:1.8rem}\n"
    ".meta{color:#555;margin-top:0}nav ul{padding-left:1.2rem;columns:2 16rem}\n"
    ".scroll{overflow:auto;max-width:100%;max-height:80vh}\n"
    "table{border-collapse:collapse;font-size:.88rem;margin:.5rem 0}\n"
    "th,td{border:1px solid #ddd;padding:.2rem .5rem;text-align:right;white-space:nowrap}\n"
    "th:first-child,td:first-child{text-align:left}thead th{background:#f3f3f3;"
    "white-space:normal;vertical-align:bottom;position:sticky;top:0}\n"
    "thead th code{word-break:break-all}\n"
    "tbody tr:nth-child(even) td{background:#fafafa}\n"
    "td.key{font-family:ui-monospace,monospace;font-size:.82rem}\n"
    ".figs{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:1rem}\n"
    "figure{margin:0;border:1px solid #eee;padding:.5rem}figure svg{display:block;width:100%;"
    "height:auto}\n"
    "figcaption{font-size:.85rem;color:#444}\n"
    "pre{background:#f6f8fa;padding:1rem;overflow-x:auto;font-size:.82rem;line-height:1.35}\n"
    ".note{color:#555;font-size:.9rem}\n"
    ".answer{font-size:1.15rem;background:#eef6ee;border-left:4px solid #2ca02c;"
    "padding:.6rem 1rem}\n"
    "tr.answer-row td{background:#eef6ee!important;font-weight:600}\n"
    ".verdict{font-size:.78rem;padding:0 .3rem;border-radius:3px}\n"
    ".verdict.met{background:#d9f0d9}.verdict.missed{background:#f6d5d5}"
    ".verdict.undecided{background:#f3ead0}\n"
    ".n{color:#777;font-size:.8rem}\n"
    "td.cmd{white-space:normal;text-align:left;min-width:24rem}td.cmd code{font-size:.75rem;"
    "word-break:break-all}\n"
    "@media (max-width:760px){body{padding:.5rem}.figs{grid-template-columns:1fr}}\n";

/* Prefixes every id="..." (or '...') with "PREFIX-" and numbers repeats (gnuplot reuses
 * "gnuplot_plot_N" within one figure), so ids are unique on the page. References
 * (href="#...", url(#...)) point at the <defs>, whose ids are not repeated. */
static void
unique_ids(GString *s, const char *prefix)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  gsize pos = 0;
  const char *hit;
  while ((hit = strstr(s->str + pos, " id=")) != NULL) {
    gsize at = (gsize)(hit - s->str) + 4;
    char q = s->str[at];
    const char *end = (q == '"' || q == '\'') ? strchr(s->str + at + 1, q) : NULL;
    if (end == NULL) {
      pos = at;
      continue;
    }
    g_autofree char *old = g_strndup(s->str + at + 1, (gsize)(end - s->str) - at - 1);
    guint n = GPOINTER_TO_UINT(g_hash_table_lookup(seen, old)) + 1;
    g_hash_table_insert(seen, g_strdup(old), GUINT_TO_POINTER(n));
    g_autofree char *repl = n == 1 ? g_strdup_printf("%s-%s", prefix, old)
                                   : g_strdup_printf("%s-%s-%u", prefix, old, n);
    g_string_erase(s, (gssize)at + 1, end - s->str - (gssize)at - 1);
    g_string_insert(s, (gssize)at + 1, repl);
    pos = at + 2 + strlen(repl);
  }
}

/* An SVG from gnuplot made fit to inline: no XML prolog, no namespace declarations (the
 * HTML parser puts <svg> in its namespace; this also drops the only http: strings), ids
 * prefixed so several figures can share the page, a role and label for readers. */
static bool
inline_svg(GString *h, const char *path, const char *id, const char *label, GError **error)
{
  g_autofree char *svg = NULL;
  if (!g_file_get_contents(path, &svg, NULL, error))
    return false;
  const char *start = strstr(svg, "<svg");
  if (start == NULL) {
    g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%s: not an SVG file", path);
    return false;
  }
  GString *s = g_string_new(start);
  static const char *const drop[] = {
      " xmlns=\"http://www.w3.org/2000/svg\"", " xmlns:xlink=\"http://www.w3.org/1999/xlink\"",
      "\n xmlns=\"http://www.w3.org/2000/svg\"", "\n xmlns:xlink=\"http://www.w3.org/1999/xlink\""};
  for (size_t i = 0; i < G_N_ELEMENTS(drop); i++)
    g_string_replace(s, drop[i], "", 0);
  g_autofree char *p_h1 = g_strdup_printf("href='#%s-", id),
                  *p_h2 = g_strdup_printf("href=\"#%s-", id);
  g_autofree char *p_url = g_strdup_printf("url(#%s-", id);
  unique_ids(s, id);
  g_string_replace(s, "href='#", p_h1, 0);
  g_string_replace(s, "href=\"#", p_h2, 0);
  g_string_replace(s, "url(#", p_url, 0);
  g_autofree char *lab = g_markup_escape_text(label, -1);
  g_autofree char *open = g_strdup_printf("<svg role=\"img\" aria-label=\"%s\"", lab);
  g_string_replace(s, "<svg", open, 1);
  /* gnuplot names the figure "Gnuplot"; say what it is. */
  g_autofree char *title = g_strdup_printf("<title>%s</title>", lab);
  g_string_replace(s, "<title>Gnuplot</title>", title, 1);
  g_string_append(h, s->str);
  g_string_free(s, TRUE);
  return true;
}

static bool
figures(GString *h, GPtrArray *figs, guint from, guint *counter, GError **error)
{
  if (figs->len <= from)
    return true;
  g_string_append(h, "<div class=\"figs\">\n");
  for (guint i = from; i < figs->len; i++) {
    const PlotFigure *f = figs->pdata[i];
    g_autofree char *id = g_strdup_printf("f%u", ++*counter);
    g_string_append(h, "<figure>\n");
    if (!inline_svg(h, f->path, id, f->caption, error))
      return false;
    g_string_append(h, "\n<figcaption>");
    rpt_esc(h, f->caption);
    g_string_append(h, "</figcaption>\n</figure>\n");
  }
  g_string_append(h, "</div>\n");
  return true;
}

/* Parameters equal in every run, and the varied ones with their values. */
static void
param_tables(GString *h, const Study *s)
{
  const char *const *varied = study_varied_keys(s);
  if (varied[0] != NULL) {
    g_string_append(h, "<h3>Varied between points</h3>\n<div class=\"scroll\"><table>\n"
                       "<thead><tr><th>key</th><th>values</th></tr></thead>\n<tbody>\n");
    for (size_t k = 0; varied[k]; k++) {
      g_string_append(h, "<tr><td class=\"key\">");
      rpt_esc(h, varied[k]);
      g_string_append(h, "</td><td>");
      for (size_t p = 0; p < study_n_points(s); p++) {
        const char *v = study_point_value(s, p, k);
        bool dup = false;
        for (size_t q = 0; q < p && !dup; q++)
          dup = g_strcmp0(study_point_value(s, q, k), v) == 0;
        if (dup)
          continue;
        if (p)
          g_string_append(h, ", ");
        rpt_esc(h, v ? v : "(unset)");
      }
      g_string_append(h, "</td></tr>\n");
    }
    g_string_append(h, "</tbody></table></div>\n<h3>The same in every run</h3>\n");
  }
  g_string_append(h, "<div class=\"scroll\"><table>\n<thead><tr><th>key</th><th>value</th></tr>"
                     "</thead>\n<tbody>\n");
  GPtrArray *params = study_params(s, 0);
  for (guint i = 0; i < params->len; i++) {
    const ResParam *p = params->pdata[i];
    if (g_strv_contains(varied, p->key) || strcmp(p->key, "seed") == 0)
      continue;
    g_string_append(h, "<tr><td class=\"key\">");
    rpt_esc(h, p->key);
    g_string_append(h, "</td><td>");
    rpt_esc(h, p->value);
    g_string_append(h, "</td></tr>\n");
  }
  g_string_append(h, "</tbody></table></div>\n");
}

/* The whole page; gnuplot NULL leaves the figures out. */
static bool
build(GString *h, Study *s, const char *db, const char *gnuplot, const char *tmp, GError **error)
{
  const ResRun *first = study_run(s, 0);
  const char *name = first->name ? first->name : "(unnamed scenario)";
  size_t np = study_n_points(s), nr = study_n_runs(s);
  bool sweep = study_varied_keys(s)[0] != NULL;
  g_string_append(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                     "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                     "<title>m2msim report: ");
  rpt_esc(h, name);
  g_string_append_printf(h, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<header>\n<h1>", css);
  rpt_esc(h, name);
  g_string_append(h, "</h1>\n<p class=\"meta\">");
  g_autofree char *base = g_path_get_basename(db);
  rpt_esc(h, base);
  g_string_append_printf(h, ": %zu run%s", nr, nr == 1 ? "" : "s");
  if (sweep)
    g_string_append_printf(h, " at %zu parameter points", np);
  else if (nr > 1)
    g_string_append(h, " (replications of one parameter point)");
  else
    g_string_append_printf(h, ", seed %" G_GINT64_FORMAT, first->seed);
  g_autofree char *now = res_iso8601_now();
  g_string_append_printf(h, ". Report by m2msim %s at %s.</p>\n", M2M_VERSION, now);
  rpt_provenance_summary(h, s);
  g_string_append(h, "</header>\n");
  g_autofree char *solve_param = res_reader_meta(study_reader(s), "solve.param");
  g_string_append_printf(h, "<nav><ul>\n<li><a href=\"#answer\">%s</a></li>\n"
                            "<li><a href=\"#scalars\">Scalars by area</a></li>\n",
                         solve_param ? "The answer" : "Key figures");
  if (sweep && gnuplot)
    g_string_append(h, "<li><a href=\"#sweep\">Scalars against the varied parameter</a></li>\n");
  if (gnuplot)
    g_string_append(h, "<li><a href=\"#figures\">Figures</a></li>\n");
  g_string_append(h, "<li><a href=\"#parameters\">Parameters</a></li>\n"
                     "<li><a href=\"#runs\">Runs</a></li>\n"
                     "<li><a href=\"#scenario\">Scenario text</a></li>\n</ul></nav>\n");

  g_string_append_printf(h, "<section id=\"answer\">\n<h2>%s</h2>\n",
                         solve_param ? "The answer" : "Key figures");
  rpt_answer(h, s);
  g_string_append(h, "</section>\n<section id=\"scalars\">\n<h2>Scalars by area</h2>\n");
  if (nr > 1)
    g_string_append(h, "<p class=\"note\">Mean over the replications of each point and the "
                       "half-width of its 95% confidence interval (Student t, n &minus; 1 "
                       "degrees of freedom). (n=k) marks a scalar that only k runs "
                       "recorded.</p>\n");
  /* Which population a latency covers: the figure that misleads is the one read over the
   * wrong devices. */
  g_string_append(h, "<p class=\"note\">Provisioning latency: <code>provision.latency.*</code> "
                     "is over the devices provisioned by the end of the run only (biased low "
                     "while some are still in progress); <code>provision.latency_km.*</code> is "
                     "over every device that powered on, those in progress counted at their age "
                     "(Kaplan-Meier), absent where the estimate does not reach. "
                     "<code>rs.av.utilization</code> is over the whole run, "
                     "<code>rs.av.utilization_peak</code> over its busiest second.</p>\n");
  rpt_scalars(h, s);
  g_string_append(h, "</section>\n");

  guint counter = 0;
  if (gnuplot) {
    g_autoptr(GPtrArray) figs = g_ptr_array_new_with_free_func((GDestroyNotify)plot_figure_free);
    if (sweep) {
      if (!plot_sweep(s, gnuplot, tmp, PLOT_SVG, figs, error))
        return false;
      g_string_append(h, "<section id=\"sweep\">\n<h2>Scalars against the varied "
                         "parameter</h2>\n");
      if (figs->len == 0)
        g_string_append(h, "<p class=\"note\">No scalar differs between points.</p>\n");
      if (!figures(h, figs, 0, &counter, error))
        return false;
      g_string_append(h, "</section>\n");
    }
    g_string_append(h, "<section id=\"figures\">\n<h2>Figures</h2>\n");
    for (size_t p = 0; p < np; p++) {
      guint from = figs->len;
      if (!plot_point(s, p, gnuplot, tmp, PLOT_SVG, figs, error))
        return false;
      if (sweep || nr > 1) {
        g_autofree char *label = study_point_label(s, p);
        g_string_append_printf(h, "<h3>Point %zu: ", p + 1);
        rpt_esc(h, *label ? label : "all runs");
        g_string_append_printf(h, " (%zu run%s)</h3>\n", study_point_n_runs(s, p),
                               study_point_n_runs(s, p) == 1 ? "" : "s");
      }
      if (figs->len == from)
        g_string_append(h, "<p class=\"note\">No time series or latency figures recorded.</p>\n");
      if (!figures(h, figs, from, &counter, error))
        return false;
    }
    g_string_append(h, "</section>\n");
  }

  g_string_append(h, "<section id=\"parameters\">\n<h2>Parameters</h2>\n");
  param_tables(h, s);
  g_string_append(h, "</section>\n<section id=\"runs\">\n<h2>Runs</h2>\n");
  rpt_runs(h, s);
  g_string_append(h, "</section>\n<section id=\"scenario\">\n<h2>Scenario text</h2>\n<pre>");
  rpt_esc(h, first->scenario);
  g_string_append(h, "</pre>\n</section>\n</body>\n</html>\n");
  return true;
}

int
cmd_report(int argc, char **argv)
{
  g_autofree char *out = NULL;
  gboolean no_plots = FALSE;
  const GOptionEntry entries[] = {
      {"output", 'o', 0, G_OPTION_ARG_FILENAME, &out, "HTML file to write (required)",
       "report.html"},
      {"no-plots", 0, 0, G_OPTION_ARG_NONE, &no_plots, "leave the figures out (no gnuplot needed)",
       NULL},
      {NULL},
  };
  if (!cli_parse(CMD, "DB",
                 "Writes one self-contained HTML file (figures inline as SVG, no network\n"
                 "access needed): scenario, parameters, every scalar (with 95% confidence\n"
                 "intervals per point for replications and sweeps) and the figures of\n"
                 "m2msim plot.",
                 entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (argc != 2)
    return cli_usage_error(CMD, argc < 2 ? "no results database given (m2msim report DB -o "
                                           "report.html)"
                                         : "one results database only");
  if (out == NULL)
    return cli_usage_error(CMD, "missing -o report.html (the HTML file to write)");
  /* Overwrite only an earlier report: a typo must not destroy a database or scenario. */
  if (g_file_test(out, G_FILE_TEST_EXISTS)) {
    char head[16] = {0};
    FILE *f = fopen(out, "rb");
    size_t n = f ? fread(head, 1, sizeof head - 1, f) : 0;
    if (f)
      fclose(f);
    if (g_file_test(out, G_FILE_TEST_IS_DIR) ||
        (n > 0 && g_ascii_strncasecmp(head, "<!DOCTYPE html", 14) != 0))
      return cli_usage_error(CMD, "-o %s: exists and is not an HTML report; not overwriting it",
                             out);
  }
  g_autofree char *gnuplot = no_plots ? NULL : plot_find_gnuplot();
  if (!no_plots && gnuplot == NULL)
    return cli_usage_error(CMD, "%s (or use --no-plots)", PLOT_INSTALL_HINT);
  g_autoptr(GError) error = NULL;
  g_autoptr(Study) s = study_load(argv[1], &error);
  if (s == NULL)
    return cli_usage_error(CMD, "%s", error->message);
  g_autofree char *tmp = g_dir_make_tmp("m2msim-report-XXXXXX", &error);
  if (tmp == NULL)
    return cli_usage_error(CMD, "%s", error->message);
  GString *h = g_string_new(NULL);
  bool ok = build(h, s, argv[1], gnuplot, tmp, &error);
  cli_remove_tree(tmp);
  if (ok)
    ok = g_file_set_contents_full(out, h->str, (gssize)h->len,
                                  G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                  0644, &error);
  g_string_free(h, TRUE);
  if (!ok) {
    fprintf(stderr, "m2msim report: %s\n", error->message);
    return CLI_EXIT_FAIL;
  }
  printf("%s\n", out);
  return CLI_EXIT_OK;
}
