/* Tables of `m2msim report` (see report.h). */
#include "report.h"

#include <math.h>
#include <string.h>

#include "human.h"
#include "m2m/ci.h"
#include "m2m/results.h"
#include "m2m/solve.h"

void
rpt_esc(GString *h, const char *text)
{
  g_autofree char *e = g_markup_escape_text(text ? text : "", -1);
  g_string_append(h, e);
}

/* A figure of a point in human units: the mean with its interval when several runs report
 * it, `none` when no run does, and how many did when only some. */
static void
cell(GString *h, const Study *s, size_t point, const char *name, double level, const char *none)
{
  CiSummary c;
  study_point_summary(s, point, name, level, &c);
  size_t runs = study_point_n_runs(s, point);
  HumanUnit u = human_unit(name);
  if (c.n == 0) {
    rpt_esc(h, none);
    return;
  }
  g_autofree char *v = c.n > 1 ? human_interval(c.mean, c.half_width, u) : human_value(c.mean, u);
  rpt_esc(h, v);
  if (c.n < runs)
    g_string_append_printf(h, " <span class=\"n\">(%zu of %zu runs)</span>", c.n, runs);
}

/* The number a parameter value stands for, for ordering; NAN when it reads as none. */
static double
value_number(const char *text)
{
  double x;
  HumanUnit u;
  return human_param_number(text, &x, &u) ? x : NAN;
}

typedef struct {
  size_t point;
  double x;
} Cand;

static int
cand_cmp(gconstpointer a, gconstpointer b)
{
  double x = ((const Cand *)a)->x, y = ((const Cand *)b)->x;
  return (x > y) - (x < y);
}

/* The points in the order of the first varied parameter when every value reads as a
 * number (a sweep or a search ran them in another order), else as they came. Caller
 * frees. */
static size_t *
point_order(const Study *s)
{
  size_t np = study_n_points(s);
  g_autoptr(GArray) c = g_array_new(FALSE, FALSE, sizeof(Cand));
  bool numeric = study_varied_keys(s)[0] != NULL;
  for (size_t p = 0; p < np; p++) {
    const char *v = numeric ? study_point_value(s, p, 0) : NULL;
    Cand x = {p, v ? value_number(v) : NAN};
    numeric &= !isnan(x.x);
    g_array_append_val(c, x);
  }
  if (numeric)
    g_array_sort(c, cand_cmp);
  size_t *order = g_new(size_t, np);
  for (size_t i = 0; i < np; i++)
    order[i] = g_array_index(c, Cand, i).point;
  return order;
}

/* A point's name in a table: the value alone when one parameter varies (the table's
 * corner names it), else "key=value, ...". */
static const char *
point_label_or(const Study *s, size_t p, char **owned)
{
  const char *const *varied = study_varied_keys(s);
  if (varied[0] != NULL && varied[1] == NULL) {
    const char *v = study_point_value(s, p, 0);
    *owned = g_strdup(v ? v : "(unset)");
    return *owned;
  }
  if (varied[0] == NULL) {
    *owned = NULL;
    return "all runs";
  }
  /* Several: each key by its last part when those are unique ("pimsi_quarantine=1d,
   * pimsi_validity=0"), the whole key path otherwise. */
  bool short_ok = true;
  for (size_t k = 0; varied[k] && short_ok; k++)
    for (size_t j = 0; j < k; j++)
      short_ok &= strcmp(strrchr(varied[j], '.') ? strrchr(varied[j], '.') + 1 : varied[j],
                         strrchr(varied[k], '.') ? strrchr(varied[k], '.') + 1 : varied[k]) != 0;
  GString *l = g_string_new(NULL);
  for (size_t k = 0; varied[k]; k++) {
    const char *key = varied[k], *dot = strrchr(key, '.');
    const char *v = study_point_value(s, p, k);
    g_string_append_printf(l, "%s%s=%s", k ? ", " : "", short_ok && dot ? dot + 1 : key,
                           v ? v : "(unset)");
  }
  *owned = g_string_free(l, FALSE);
  return *owned;
}

/* The first column's heading: what the rows are, and the parameter the columns are. */
static void
corner(GString *h, const Study *s, const char *rows)
{
  const char *const *varied = study_varied_keys(s);
  g_string_append(h, "<th>");
  rpt_esc(h, rows);
  if (varied[0] != NULL && varied[1] == NULL) {
    g_string_append(h, " \\ <code>");
    rpt_esc(h, varied[0]);
    g_string_append(h, "</code>");
  }
  g_string_append(h, "</th>");
}

/* ---- key figures ------------------------------------------------------------------ */

static const struct {
  const char *head, *name, *none;
} key_figs[] = {
  {"pool exhausted", "rs.pimsi.exhausted_at", "never"},
  {"refused registrations", "rs.pimsi.blocked", "–"},
  {"AV wait, mean", "rs.av.wait_mean", "no request"},
  {"AV wait, p99", "rs.av.wait_p99", "no request"},
  {"latency p50", "provision.latency_km.p50", "not reached"},
  {"latency p95", "provision.latency_km.p95", "not reached"},
  {"latency p99", "provision.latency_km.p99", "not reached"},
};

static void
key_figures(GString *h, Study *s)
{
  g_string_append(h, "<div class=\"scroll\"><table id=\"key-figures\">\n<thead><tr>");
  const char *const *varied = study_varied_keys(s);
  if (varied[0] != NULL && varied[1] == NULL) {
    g_string_append(h, "<th><code>");
    rpt_esc(h, varied[0]);
    g_string_append(h, "</code></th>");
  } else {
    g_string_append(h, "<th>point</th>");
  }
  g_string_append(h, "<th>runs</th><th>provisioned of made</th>");
  for (size_t k = 0; k < G_N_ELEMENTS(key_figs); k++)
    g_string_append_printf(h, "<th>%s</th>", key_figs[k].head);
  g_string_append(h, "</tr></thead>\n<tbody>\n");
  g_autofree size_t *order = point_order(s);
  for (size_t i = 0; i < study_n_points(s); i++) {
    size_t p = order[i];
    g_autofree char *owned = NULL;
    g_string_append(h, "<tr><td>");
    rpt_esc(h, point_label_or(s, p, &owned));
    g_string_append_printf(h, "</td><td>%zu</td><td>", study_point_n_runs(s, p));
    cell(h, s, p, "devices.provisioned", 0.95, "–");
    CiSummary made;
    study_point_summary(s, p, "devices.manufactured", 0.95, &made);
    g_autofree char *m = human_value(made.mean, HUMAN_COUNT);
    g_string_append(h, " of ");
    rpt_esc(h, m);
    g_string_append(h, "</td>");
    for (size_t k = 0; k < G_N_ELEMENTS(key_figs); k++) {
      g_string_append(h, "<td>");
      cell(h, s, p, key_figs[k].name, 0.95, key_figs[k].none);
      g_string_append(h, "</td>");
    }
    g_string_append(h, "</tr>\n");
  }
  g_string_append(h, "</tbody></table></div>\n<p class=\"note\">Mean and 95% confidence "
                     "interval over each point's replications. Latency: power-on to USIM "
                     "installed over every device that powered on (Kaplan-Meier, those still "
                     "in progress counted at their age); \"not reached\" when fewer than that "
                     "share of devices were provisioned. Pool exhausted: the first moment "
                     "without a free PIMSI.</p>\n");
}

/* ---- a solve's answer ------------------------------------------------------------- */

static const char *
point_value_of(const Study *s, size_t p, const char *param)
{
  const char *const *varied = study_varied_keys(s);
  for (size_t k = 0; varied[k]; k++)
    if (strcmp(varied[k], param) == 0)
      return study_point_value(s, p, k);
  return study_param(s, study_point_run(s, p, 0), param);
}

static SolveVerdict
target_at(const Study *s, size_t p, const SolveTarget *t, double level, CiSummary *c)
{
  study_point_summary(s, p, t->metric, level, c);
  g_autofree char *eq = res_reader_meta(study_reader((Study *)s), "solve.equal_replications");
  size_t equal_min = eq ? (size_t)g_ascii_strtoull(eq, NULL, 10) : 2; /* older solves: 2 */
  return solve_verdict(t, c, study_point_n_runs(s, p) - c->n, MAX(equal_min, 2));
}

static void
target_cell(GString *h, const Study *s, size_t p, const SolveTarget *t, double level)
{
  CiSummary c;
  SolveVerdict v = target_at(s, p, t, level, &c);
  HumanUnit u = human_unit(t->metric);
  g_autofree char *x = c.n == 0   ? g_strdup("absent (counts as infinite)")
                       : c.n > 1 ? human_interval(c.mean, c.half_width, u)
                                 : human_value(c.mean, u);
  rpt_esc(h, x);
  if (c.n >= 2 && c.n == study_point_n_runs(s, p) && !(c.sd > 0))
    g_string_append_printf(h, " <span class=\"n\">(all %zu runs equal)</span>", c.n);
  g_string_append_printf(h, " <span class=\"verdict %s\">%s</span>", solve_verdict_name(v),
                         solve_verdict_name(v));
}

static void
solve_answer(GString *h, Study *s, const char *param)
{
  ResReader *r = study_reader(s);
  g_autofree char *answer = res_reader_meta(r, "solve.answer");
  g_autofree char *targets_s = res_reader_meta(r, "solve.targets");
  g_autofree char *grid = res_reader_meta(r, "solve.grid");
  g_autofree char *conf = res_reader_meta(r, "solve.confidence");
  g_autofree char *dir = res_reader_meta(r, "solve.direction");
  double level = conf ? g_ascii_strtod(conf, NULL) : 0.95;
  if (!(level > 0 && level < 1))
    level = 0.95;
  bool largest = g_strcmp0(dir, "largest") == 0;
  g_auto(GStrv) lines = g_strsplit(targets_s ? targets_s : "", "\n", -1);
  g_autoptr(GArray) targets = g_array_new(FALSE, TRUE, sizeof(SolveTarget));
  g_array_set_clear_func(targets, (GDestroyNotify)solve_target_clear);
  for (char **l = lines; *l; l++) {
    SolveTarget t;
    if (**l && solve_target_parse(*l, &t, NULL))
      g_array_append_val(targets, t);
  }
  g_string_append(h, "<p class=\"answer\" id=\"solve-answer\">");
  if (answer && *answer) {
    g_string_append(h, "Answer: <code>");
    rpt_esc(h, param);
    g_string_append(h, "</code> = <strong>");
    rpt_esc(h, answer);
    g_string_append_printf(h, "</strong>, the %s value ", largest ? "largest" : "smallest");
  } else {
    g_string_append(h, "Answer: <strong>none</strong>: no value ");
  }
  g_string_append(h, "of ");
  rpt_esc(h, grid ? grid : "the range");
  g_string_append_printf(h, " at which every target below holds with %g%% confidence.</p>\n",
                         level * 100);

  /* candidates in the parameter's order */
  g_autoptr(GArray) cands = g_array_new(FALSE, FALSE, sizeof(Cand));
  for (size_t p = 0; p < study_n_points(s); p++) {
    const char *v = point_value_of(s, p, param);
    Cand c = {p, v ? value_number(v) : NAN};
    g_array_append_val(cands, c);
  }
  g_array_sort(cands, cand_cmp);
  g_string_append(h, "<div class=\"scroll\"><table id=\"solve-candidates\">\n<thead><tr><th>");
  rpt_esc(h, param);
  g_string_append(h, "</th><th>runs</th>");
  for (guint t = 0; t < targets->len; t++) {
    g_string_append(h, "<th>");
    rpt_esc(h, g_array_index(targets, SolveTarget, t).text);
    g_string_append(h, "</th>");
  }
  g_string_append(h, "<th>every target</th></tr></thead>\n<tbody>\n");
  for (guint i = 0; i < cands->len; i++) {
    size_t p = g_array_index(cands, Cand, i).point;
    const char *v = point_value_of(s, p, param);
    bool is_answer = answer && v && strcmp(v, answer) == 0;
    g_string_append_printf(h, "<tr%s><td>", is_answer ? " class=\"answer-row\"" : "");
    rpt_esc(h, v ? v : "(unset)");
    g_string_append_printf(h, "</td><td>%zu</td>", study_point_n_runs(s, p));
    bool holds = true;
    for (guint t = 0; t < targets->len; t++) {
      const SolveTarget *tg = &g_array_index(targets, SolveTarget, t);
      CiSummary c;
      holds &= target_at(s, p, tg, level, &c) == SOLVE_MET;
      g_string_append(h, "<td>");
      target_cell(h, s, p, tg, level);
      g_string_append(h, "</td>");
    }
    g_string_append_printf(h, "<td>%s</td></tr>\n", holds ? "hold" : "not all hold");
  }
  g_string_append_printf(
    h,
    "</tbody></table></div>\n<p class=\"note\">Every candidate the search evaluated, in the "
    "parameter's order: each target's mean and %g%% confidence interval over the candidate's "
    "replications (replication r has the same seed at every candidate). <em>met</em>: the "
    "interval lies wholly on the target's side of its threshold; <em>missed</em>: wholly on "
    "the other side; <em>undecided</em>: it straddles the threshold after the most "
    "replications allowed, and counts as failing. Where every replication gave the same "
    "value there is no interval: such a value counts as met only after the search's "
    "--equal-replications runs (n equal runs bound the chance of a different one only below "
    "about 3/n). The search assumes the targets are "
    "monotone in the parameter.</p>\n",
    level * 100);
}

void
rpt_answer(GString *h, Study *s)
{
  g_autofree char *param = res_reader_meta(study_reader(s), "solve.param");
  if (param != NULL)
    solve_answer(h, s, param);
  else
    key_figures(h, s);
}

/* ---- scalars by area -------------------------------------------------------------- */

void
rpt_scalars(GString *h, const Study *s)
{
  const char *const *names = study_scalar_names(s);
  size_t np = study_n_points(s);
  bool single = np == 1 && study_point_n_runs(s, 0) == 1;
  g_autofree size_t *order = point_order(s);
  for (const char *const *area = human_areas; *area; area++) {
    bool any = false;
    for (size_t k = 0; names[k] && !any; k++)
      any = strcmp(human_area(names[k]), *area) == 0;
    if (!any)
      continue;
    g_autofree char *id = g_ascii_strdown(*area, -1);
    g_strdelimit(id, " ", '-');
    g_string_append_printf(h, "<h3 id=\"area-%s\">%s</h3>\n<div class=\"scroll\"><table "
                              "class=\"scalars\">\n<thead><tr>",
                           id, *area);
    corner(h, s, "scalar");
    if (single || np == 1) {
      g_string_append(h, single ? "<th>value</th>" : "<th>mean &plusmn; 95% CI</th>");
    } else {
      for (size_t i = 0; i < np; i++) {
        size_t p = order[i];
        g_autofree char *owned = NULL;
        g_string_append_printf(h, "<th title=\"%zu runs\">", study_point_n_runs(s, p));
        rpt_esc(h, point_label_or(s, p, &owned));
        g_string_append(h, "</th>");
      }
    }
    g_string_append(h, "</tr></thead>\n<tbody>\n");
    for (size_t k = 0; names[k]; k++) {
      if (strcmp(human_area(names[k]), *area) != 0)
        continue;
      g_string_append(h, "<tr><td class=\"key\">");
      rpt_esc(h, names[k]);
      g_string_append(h, "</td>");
      for (size_t i = 0; i < np; i++) {
        g_string_append(h, "<td>");
        cell(h, s, order[i], names[k], 0.95, "–");
        g_string_append(h, "</td>");
      }
      g_string_append(h, "</tr>\n");
    }
    g_string_append(h, "</tbody></table></div>\n");
  }
}

/* ---- runs and provenance ---------------------------------------------------------- */

/* The distinct non-NULL values of one provenance field over the runs, ", "-joined. */
static char *
distinct(const Study *s, size_t offset)
{
  g_autoptr(GPtrArray) seen = g_ptr_array_new();
  for (size_t i = 0; i < study_n_runs(s); i++) {
    const ResRun *r = study_run(s, i);
    const char *v = *(char *const *)((const char *)&r->prov + offset);
    if (v && !g_ptr_array_find_with_equal_func(seen, v, g_str_equal, NULL))
      g_ptr_array_add(seen, (gpointer)v);
  }
  g_ptr_array_add(seen, NULL);
  return g_strjoinv(", ", (char **)seen->pdata);
}

void
rpt_provenance_summary(GString *h, const Study *s)
{
  g_autofree char *versions = distinct(s, offsetof(ResProvenance, version));
  g_autofree char *commits = distinct(s, offsetof(ResProvenance, git_commit));
  g_autofree char *hosts = distinct(s, offsetof(ResProvenance, host));
  const char *first = NULL;
  double wall = 0;
  for (size_t i = 0; i < study_n_runs(s); i++) {
    const ResRun *r = study_run(s, i);
    if (r->started && (first == NULL || strcmp(r->started, first) < 0))
      first = r->started;
    if (isfinite(r->wall_s))
      wall += r->wall_s;
  }
  g_string_append(h, "<p class=\"meta\" id=\"provenance\">");
  if (*versions) {
    g_string_append(h, "Runs made by m2msim ");
    rpt_esc(h, versions);
    if (*commits) {
      g_string_append(h, " (commit ");
      rpt_esc(h, commits);
      g_string_append(h, ")");
    }
    g_string_append(h, " on ");
    rpt_esc(h, *hosts ? hosts : "an unrecorded host");
    g_string_append(h, "; ");
  } else {
    g_string_append(h, "Runs from an m2msim that did not record its version; ");
  }
  g_string_append(h, "first started ");
  rpt_esc(h, first ? first : "(not recorded)");
  g_autofree char *w = human_value(wall, HUMAN_SECONDS);
  g_string_append(h, ", ");
  rpt_esc(h, w);
  g_string_append(h, " of wall time in all. Each run's command line is in <a href=\"#runs\">"
                     "Runs</a>.</p>\n");
}

void
rpt_runs(GString *h, const Study *s)
{
  const char *const *varied = study_varied_keys(s);
  g_string_append(h, "<div class=\"scroll\"><table id=\"run-table\">\n<thead><tr><th>run</th>"
                     "<th>seed</th><th>replication</th>");
  for (size_t k = 0; varied[k]; k++) {
    g_string_append(h, "<th>");
    rpt_esc(h, varied[k]);
    g_string_append(h, "</th>");
  }
  g_string_append(h, "<th>status</th><th>wall time</th><th>started</th><th>m2msim</th>"
                     "<th>commit</th><th>host</th><th>command</th></tr></thead>\n<tbody>\n");
  for (size_t i = 0; i < study_n_runs(s); i++) {
    const ResRun *r = study_run(s, i);
    g_string_append_printf(h,
                           "<tr><td>%" G_GINT64_FORMAT "</td><td>%" G_GINT64_FORMAT
                           "</td><td>%" G_GINT64_FORMAT "</td>",
                           r->id, r->seed, r->replication);
    for (size_t k = 0; varied[k]; k++) {
      g_string_append(h, "<td>");
      rpt_esc(h, study_param(s, i, varied[k]));
      g_string_append(h, "</td>");
    }
    g_autofree char *wall = human_value(r->wall_s, HUMAN_SECONDS);
    const char *const cols[] = {r->status ? r->status : "unfinished", wall, r->started,
                                r->prov.version,  r->prov.git_commit,   r->prov.host};
    for (size_t c = 0; c < G_N_ELEMENTS(cols); c++) {
      g_string_append(h, "<td>");
      rpt_esc(h, cols[c] ? cols[c] : "–");
      g_string_append(h, "</td>");
    }
    g_string_append(h, "<td class=\"cmd\"><code>");
    rpt_esc(h, r->prov.command ? r->prov.command : "–");
    g_string_append(h, "</code></td></tr>\n");
  }
  g_string_append(h, "</tbody></table></div>\n");
}
