/* `m2msim solve FILE --param KEY.PATH --range LO..HI --target 'METRIC OP VALUE' ... -o DB`:
 * the smallest (--max: largest) value of one parameter at which every target holds, with
 * stated confidence. Bisects the grid of candidates (tools/study/solve.c decides), runs
 * at each candidate replications until every target's interval lies wholly on one side
 * of its threshold, and merges every run it made into DB.
 *
 * Resumable like a sweep: each run writes DB.parts/vIDX-rREP.db atomically, the search
 * replays its decisions from the parts it finds, so the same command after an
 * interruption continues where it stopped and reaches the same answer. Replication r has
 * the same seed at every candidate (common random numbers): the comparison between
 * neighbouring candidates reflects the parameter, not the luck of the draw. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "cli.h"
#include "human.h"
#include "runs.h"
#include "m2m/ci.h"
#include "m2m/merge.h"
#include "m2m/results.h"
#include "m2m/scenario.h"
#include "m2m/solve.h"
#include "m2m/sweep.h"
#include "m2m/world.h"

#define CMD "solve"

typedef struct {
  const char *scenario; /* absolute path */
  const char *const *sets;
  const char *param;
  const SolveGrid *grid;
  SolveTarget *targets;
  size_t n_targets;
  uint64_t base_seed;
  double level;
  uint32_t min_reps, max_reps;
  uint32_t equal_min; /* equal runs that make "met" (solve_verdict) */
  RunsEngine engine;
  size_t before; /* runs found finished in DB.parts, not run again */
  char *parts;  /* DB.parts */
  char *m2msim; /* what each run executes */
  int width;    /* digits of candidate indices in part names */
} Solve;

/* What one candidate showed. */
typedef struct {
  size_t index;
  uint32_t reps;
  bool holds;
  SolveVerdict *verdicts; /* per target */
  CiSummary *sum;         /* per target, over the runs that report it */
  size_t *absent;         /* per target: runs that do not report it */
} Candidate;

static void
candidate_free(Candidate *c)
{
  g_free(c->verdicts);
  g_free(c->sum);
  g_free(c->absent);
  g_free(c);
}

static char *
part_path(const Solve *s, size_t index, uint32_t rep, const char *ext)
{
  g_autofree char *name = g_strdup_printf("v%0*zu-r%03u.%s", s->width, index, rep, ext);
  return g_build_filename(s->parts, name, NULL);
}

static char **
run_argv(const Solve *s, size_t index, uint32_t rep, const char *out)
{
  GPtrArray *a = g_ptr_array_new();
  g_ptr_array_add(a, g_strdup(s->m2msim));
  g_ptr_array_add(a, g_strdup("run"));
  g_ptr_array_add(a, g_strdup(s->scenario));
  g_ptr_array_add(a, g_strdup("--seed"));
  g_ptr_array_add(a, g_strdup_printf("%" G_GUINT64_FORMAT, sweep_seed(s->base_seed, rep)));
  for (const char *const *p = s->sets; p && *p; p++) {
    g_ptr_array_add(a, g_strdup("--set"));
    g_ptr_array_add(a, g_strdup(*p));
  }
  g_autofree char *v = solve_grid_text(s->grid, index);
  g_ptr_array_add(a, g_strdup("--set"));
  g_ptr_array_add(a, g_strdup_printf("%s=%s", s->param, v));
  g_ptr_array_add(a, g_strdup("-o"));
  g_ptr_array_add(a, g_strdup(out));
  g_ptr_array_add(a, NULL);
  return (char **)g_ptr_array_free(a, FALSE);
}

/* Runs replications have..want-1 of a candidate (those not finished before). */
static int
run_reps(Solve *s, size_t index, uint32_t have, uint32_t want)
{
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func((GDestroyNotify)runs_job_free);
  g_autofree char *v = solve_grid_text(s->grid, index);
  for (uint32_t r = have; r < want; r++) {
    g_autofree char *out = part_path(s, index, r, "db");
    s->before += runs_part_done(out);
    char *label = g_strdup_printf("run %s=%s, replication %u", s->param, v, r);
    g_ptr_array_add(list, runs_job_new(run_argv(s, index, r, out), out, label));
  }
  return runs_execute_on(CMD, s->parts, list, &s->engine);
}

/* The targets' figures over replications 0..n-1 of a candidate. */
static void
summarise(const Solve *s, Candidate *c, uint32_t n)
{
  for (size_t t = 0; t < s->n_targets; t++) {
    g_autoptr(GArray) v = g_array_new(FALSE, FALSE, sizeof(double));
    size_t absent = 0;
    for (uint32_t r = 0; r < n; r++) {
      g_autofree char *path = part_path(s, c->index, r, "db");
      g_autoptr(ResReader) rd = res_reader_open(path, NULL);
      g_autoptr(GPtrArray) runs = rd ? res_reader_runs(rd, NULL) : NULL;
      double x;
      g_autoptr(GError) e = NULL;
      if (runs != NULL && runs->len == 1 &&
          res_reader_scalar(rd, ((const ResRun *)runs->pdata[0])->id, s->targets[t].metric, &x,
                            &e) &&
          !isnan(x))
        g_array_append_val(v, x);
      else
        absent++;
    }
    ci_summarize((const double *)v->data, v->len, s->level, &c->sum[t]);
    c->absent[t] = absent;
    c->verdicts[t] = solve_verdict(&s->targets[t], &c->sum[t], absent, s->equal_min);
  }
}

/* "METRIC 2.21 ± 0.13 h": in the unit that fits (human.h); the JSON has the numbers. */
static void
show_figure(FILE *f, const SolveTarget *t, const CiSummary *c, size_t absent)
{
  HumanUnit u = human_unit(t->metric);
  g_autofree char *v = c->n == 0  ? NULL
                       : c->n < 2 ? human_value(c->mean, u)
                                  : human_interval(c->mean, c->half_width, u);
  if (v == NULL)
    fprintf(f, "%s absent (counts as infinite)", t->metric);
  else
    fprintf(f, "%s %s", t->metric, v);
  if (absent > 0 && c->n > 0)
    fprintf(f, " (absent in %zu runs)", absent);
  /* No spread: decided on the value itself, which says less than an interval does. */
  if (absent == 0 && c->n >= 2 && !(c->sd > 0))
    fprintf(f, " (all %zu runs equal)", c->n);
}

/* Evaluates candidate `index`: min_reps replications, then more while some target is
 * undecided and none is missed, up to max_reps. */
static Candidate *
evaluate(Solve *s, size_t index, int *status)
{
  Candidate *c = g_new0(Candidate, 1);
  c->index = index;
  c->verdicts = g_new0(SolveVerdict, s->n_targets);
  c->sum = g_new0(CiSummary, s->n_targets);
  c->absent = g_new0(size_t, s->n_targets);
  uint32_t have = 0, want = s->min_reps;
  for (;;) {
    if ((*status = run_reps(s, index, have, want)) != CLI_EXIT_OK) {
      candidate_free(c);
      return NULL;
    }
    have = want;
    summarise(s, c, have);
    bool missed = false, undecided = false;
    size_t need = have;
    for (size_t t = 0; t < s->n_targets; t++) {
      missed |= c->verdicts[t] == SOLVE_MISSED;
      if (c->verdicts[t] == SOLVE_UNDECIDED) {
        undecided = true;
        need = MAX(need, solve_replications_wanted(&s->targets[t], &c->sum[t], have,
                                                   s->equal_min));
      }
    }
    if (missed || !undecided || have >= s->max_reps) {
      c->holds = !missed && !undecided;
      break;
    }
    /* At most double per round: the estimate of what is needed is itself noisy. */
    want = (uint32_t)MIN(MIN(need, 2 * (size_t)have), s->max_reps);
  }
  c->reps = have;
  g_autofree char *v = solve_grid_text(s->grid, index);
  fprintf(stderr, "solve: %s=%s, %u replications: ", s->param, v, have);
  for (size_t t = 0; t < s->n_targets; t++) {
    show_figure(stderr, &s->targets[t], &c->sum[t], c->absent[t]);
    fprintf(stderr, " %s%s", solve_verdict_name(c->verdicts[t]),
            t + 1 < s->n_targets ? "; " : "");
  }
  fprintf(stderr, " -> %s\n", c->holds ? "holds" : "does not hold");
  return c;
}

/* ---- answer ----------------------------------------------------------------------- */

static void
print_at(const Solve *s, const Candidate *c, size_t t)
{
  g_autofree char *v = solve_grid_text(s->grid, c->index);
  printf("    at %s (%u replications): ", v, c->reps);
  show_figure(stdout, &s->targets[t], &c->sum[t], c->absent[t]);
  printf(", %s\n", solve_verdict_name(c->verdicts[t]));
}

static void
json_at(GString *j, const Solve *s, const Candidate *c, size_t t)
{
  g_autofree char *v = solve_grid_text(s->grid, c->index);
  g_string_append(j, "{\"value\": ");
  cli_json_string(j, v);
  g_string_append_printf(j, ", \"replications\": %u, \"n\": %zu, \"absent\": %zu", c->reps,
                         c->sum[t].n, c->absent[t]);
  if (c->sum[t].n > 0)
    g_string_append_printf(j, ", \"mean\": %.17g", c->sum[t].mean);
  if (c->sum[t].n > 1 && isfinite(c->sum[t].half_width))
    g_string_append_printf(j, ", \"half_width\": %.17g", c->sum[t].half_width);
  g_string_append(j, ", \"verdict\": ");
  cli_json_string(j, solve_verdict_name(c->verdicts[t]));
  g_string_append(j, "}");
}

static const Candidate *
find(GPtrArray *cands, long index)
{
  for (guint i = 0; index >= 0 && i < cands->len; i++)
    if (((const Candidate *)cands->pdata[i])->index == (size_t)index)
      return cands->pdata[i];
  return NULL;
}

static void
print_answer(const Solve *s, GPtrArray *cands, long answer, long neighbour, size_t runs,
             size_t before, const char *db, bool json)
{
  const Candidate *at = find(cands, answer), *nb = find(cands, neighbour);
  g_autofree char *lo = solve_grid_text(s->grid, 0);
  g_autofree char *hi = solve_grid_text(s->grid, solve_grid_n(s->grid) - 1);
  g_autofree char *value = answer >= 0 ? solve_grid_text(s->grid, (size_t)answer) : NULL;
  if (json) {
    GString *j = g_string_new("{\"param\": ");
    cli_json_string(j, s->param);
    g_string_append(j, ", \"answer\": ");
    if (value)
      cli_json_string(j, value);
    else
      g_string_append(j, "null");
    g_string_append(j, ", \"range\": [");
    cli_json_string(j, lo);
    g_string_append(j, ", ");
    cli_json_string(j, hi);
    g_string_append_printf(j, "], \"confidence\": %.17g, \"targets\": [", s->level);
    for (size_t t = 0; t < s->n_targets; t++) {
      g_string_append(j, t ? ", {\"target\": " : "{\"target\": ");
      cli_json_string(j, s->targets[t].text);
      if (at) {
        g_string_append(j, ", \"at_answer\": ");
        json_at(j, s, at, t);
      }
      if (nb) {
        g_string_append(j, ", \"at_neighbour\": ");
        json_at(j, s, nb, t);
      }
      g_string_append(j, "}");
    }
    g_string_append(j, "], \"candidates\": [");
    for (guint i = 0; i < cands->len; i++) {
      const Candidate *c = cands->pdata[i];
      g_autofree char *v = solve_grid_text(s->grid, c->index);
      g_string_append(j, i ? ", {\"value\": " : "{\"value\": ");
      cli_json_string(j, v);
      g_string_append_printf(j, ", \"replications\": %u, \"holds\": %s}", c->reps,
                             c->holds ? "true" : "false");
    }
    g_string_append_printf(j, "], \"runs\": %zu, \"runs_done_before\": %zu, \"db\": ", runs,
                           before);
    cli_json_string(j, db);
    g_string_append(j, "}\n");
    fputs(j->str, stdout);
    g_string_free(j, TRUE);
    return;
  }
  if (value)
    printf("answer: %s=%s\n", s->param, value);
  else
    printf("answer: none in %s..%s\n", lo, hi);
  for (size_t t = 0; t < s->n_targets; t++) {
    printf("  %s (%g%% confidence)\n", s->targets[t].text, s->level * 100);
    if (at)
      print_at(s, at, t);
    if (nb)
      print_at(s, nb, t);
  }
  printf("candidates evaluated: %u; runs: %zu (%zu done before); results: %s\n", cands->len, runs,
         before, db);
}

/* The search's record for DB's meta table (for `m2msim report`), written with the runs in
 * one commit: key, value pairs, NULL-terminated. Caller frees with g_strfreev. */
static char **
answer_meta(const Solve *s, const char *value, bool largest)
{
  GString *targets = g_string_new(NULL);
  for (size_t t = 0; t < s->n_targets; t++)
    g_string_append_printf(targets, "%s%s", t ? "\n" : "", s->targets[t].text);
  GPtrArray *m = g_ptr_array_new();
  const char *keys[] = {"solve.param", "solve.answer", "solve.grid", "solve.confidence",
                        "solve.equal_replications", "solve.direction", "solve.targets"};
  char *values[] = {g_strdup(s->param),
                    g_strdup(value ? value : ""),
                    solve_grid_describe(s->grid),
                    g_strdup_printf("%g", s->level),
                    g_strdup_printf("%u", s->equal_min),
                    g_strdup(largest ? "largest" : "smallest"),
                    g_string_free(targets, FALSE)};
  for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
    g_ptr_array_add(m, g_strdup(keys[i]));
    g_ptr_array_add(m, values[i]);
  }
  g_ptr_array_add(m, NULL);
  return (char **)g_ptr_array_free(m, FALSE);
}

static int
search(Solve *s, bool largest, bool json, const char *db)
{
  SolveSearch st;
  solve_search_init(&st, solve_grid_n(s->grid), largest);
  g_autoptr(GPtrArray) cands = g_ptr_array_new_with_free_func((GDestroyNotify)candidate_free);
  size_t index;
  long answer = -1;
  while (solve_search_next(&st, &index, &answer)) {
    int status;
    Candidate *c = evaluate(s, index, &status);
    if (c == NULL)
      return status;
    g_ptr_array_add(cands, c);
    solve_search_tell(&st, index, c->holds);
  }
  /* Every run made goes into DB, so report and plot see the whole search. */
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GArray) reps = g_array_new(FALSE, FALSE, sizeof(int64_t));
  for (guint i = 0; i < cands->len; i++) {
    const Candidate *c = cands->pdata[i];
    for (uint32_t r = 0; r < c->reps; r++) {
      g_ptr_array_add(paths, part_path(s, c->index, r, "db"));
      int64_t rep = r;
      g_array_append_val(reps, rep);
    }
  }
  g_autoptr(GError) error = NULL;
  size_t merged = 0;
  g_autofree char *value = answer >= 0 ? solve_grid_text(s->grid, (size_t)answer) : NULL;
  g_auto(GStrv) meta = answer_meta(s, value, largest);
  if (!merge_files_meta((const char *const *)paths->pdata, paths->len,
                        (const int64_t *)reps->data, db, (const char *const *)meta, &merged,
                        &error)) {
    fprintf(stderr, "m2msim solve: merging the runs: %s\n", error->message);
    return CLI_EXIT_FAIL;
  }
  print_answer(s, cands, answer, solve_search_neighbour(&st, answer), merged, s->before, db, json);
  return CLI_EXIT_OK;
}

/* ---- checks before anything runs -------------------------------------------------- */

static void
add_name(void *data, const char *name)
{
  g_hash_table_add(data, g_strdup(name));
}

/* Loads the scenario at both ends of the range (a value the scenario refuses is refused
 * here, before any run) and checks every target names a figure its runs write. */
static int
check_scenario(Solve *s, const char *file, bool has_seed)
{
  for (int end = 0; end < 2; end++) {
    g_autofree char *v = solve_grid_text(s->grid, end ? solve_grid_n(s->grid) - 1 : 0);
    g_autofree char *set = g_strdup_printf("%s=%s", s->param, v);
    g_autoptr(GPtrArray) sets = g_ptr_array_new();
    for (const char *const *p = s->sets; p && *p; p++)
      g_ptr_array_add(sets, (gpointer)*p);
    g_ptr_array_add(sets, set);
    g_ptr_array_add(sets, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(ScnConfig) cfg = scn_load(file, (const char *const *)sets->pdata, &error);
    if (cfg == NULL) {
      fprintf(stderr, "m2msim solve: at %s: %s\n", set, error->message);
      return CLI_EXIT_USAGE;
    }
    if (!has_seed)
      s->base_seed = cfg->seed;
    if (end == 1)
      continue;
    g_autoptr(World) w = world_new(cfg, &error);
    if (w == NULL) {
      fprintf(stderr, "m2msim solve: %s\n", error->message);
      return CLI_EXIT_USAGE;
    }
    g_autoptr(GHashTable) names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    world_foreach_scalar_name(w, add_name, names);
    for (size_t t = 0; t < s->n_targets; t++)
      if (!g_hash_table_contains(names, s->targets[t].metric))
        return cli_usage_error(CMD,
                               "--target '%s': %s is not a figure the runs of this scenario "
                               "write (see `m2msim run FILE --json` for the names)",
                               s->targets[t].text, s->targets[t].metric);
  }
  return CLI_EXIT_OK;
}

static char *
manifest(const Solve *s, const char *file)
{
  g_autofree char *text = NULL;
  gsize len = 0;
  g_file_get_contents(file, &text, &len, NULL);
  g_autofree char *sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)text, len);
  g_autofree char *grid = solve_grid_describe(s->grid);
  GString *m = g_string_new("# m2msim solve manifest: the runs this directory holds parts of.\n"
                            "# Written by m2msim solve; a search over other runs refuses to\n"
                            "# use this directory (targets may change: they pick, not make, "
                            "runs).\n");
  g_string_append_printf(m, "version 1\nscenario %s\nscenario-sha256 %s\nseed %" G_GUINT64_FORMAT
                            "\nparam %s\ngrid %s\n",
                         s->scenario, sha, s->base_seed, s->param, grid);
  for (const char *const *p = s->sets; p && *p; p++)
    g_string_append_printf(m, "set %s\n", *p);
  return g_string_free(m, FALSE);
}

static SolveKind
kind_of(ScnValueKind k)
{
  switch (k) {
  case SCN_VALUE_INTEGER:
    return SOLVE_INTEGER;
  case SCN_VALUE_REAL:
    return SOLVE_REAL;
  case SCN_VALUE_DURATION:
    return SOLVE_DURATION;
  case SCN_VALUE_RATE:
    return SOLVE_RATE;
  default:
    g_assert_not_reached();
  }
}

/* A replication count option (--NAME TEXT, at most 100,000) into *out; `least2`, when not
 * NULL, makes 1 a usage error ("at least 2" and that reason). False after the message. */
static bool
reps_arg(const char *name, const char *text, const char *least2, uint32_t *out)
{
  uint64_t v;
  if (!cli_uint_arg(CMD, name, text, 100000, &v))
    return false;
  if (least2 != NULL && v < 2) {
    cli_usage_error(CMD, "--%s: at least 2%s", name, least2);
    return false;
  }
  *out = (uint32_t)v;
  return true;
}

int
cmd_solve(int argc, char **argv)
{
  g_auto(GStrv) targets_s = NULL, sets = NULL;
  g_autofree char *param = NULL, *range = NULL, *step = NULL, *conf_s = NULL;
  g_autofree char *min_s = NULL, *max_s = NULL, *jobs_s = NULL, *seed_s = NULL, *out = NULL;
  g_autofree char *equal_s = NULL;
  g_autofree char *m2msim = NULL;
  g_autofree char *engine_s = NULL, *sshloginfile = NULL, *ssh = NULL, *sbatch_args = NULL;
  gboolean largest = FALSE, json = FALSE;
  const GOptionEntry entries[] = {
      {"param", 0, 0, G_OPTION_ARG_STRING, &param,
       "the parameter to search: a --set key with a whole-number, number, duration or rate "
       "value",
       "KEY.PATH"},
      {"range", 0, 0, G_OPTION_ARG_STRING, &range, "the values to search, e.g. 1..16, 1h..2d",
       "LO..HI"},
      {"step", 0, 0, G_OPTION_ARG_STRING, &step,
       "distance between candidates (default 1 for whole numbers, else a hundredth of the "
       "range)",
       "S"},
      {"target", 0, 0, G_OPTION_ARG_STRING_ARRAY, &targets_s,
       "what must hold (repeatable): OP one of < <= > >=, VALUE a number, a duration (60s), a "
       "rate (5/s) or a percentage; times are compared in seconds",
       "'METRIC OP VALUE'"},
      {"max", 0, 0, G_OPTION_ARG_NONE, &largest,
       "the largest value at which every target holds (default: the smallest)", NULL},
      {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets, "a fixed override for every run (repeatable)",
       "KEY.PATH=VALUE"},
      {"confidence", 0, 0, G_OPTION_ARG_STRING, &conf_s,
       "level of the intervals that must clear each threshold (default 0.95)", "P"},
      {"min-replications", 0, 0, G_OPTION_ARG_STRING, &min_s,
       "replications at each candidate to start with (default 3, at least 2)", "N"},
      {"max-replications", 0, 0, G_OPTION_ARG_STRING, &max_s,
       "at most this many; a candidate still undecided then counts as failing (default 30)",
       "N"},
      {"equal-replications", 0, 0, G_OPTION_ARG_STRING, &equal_s,
       "when every run gives the same value (0 refusals in each), this many such runs before "
       "the target counts as met (default 10)",
       "N"},
      {"jobs", 'j', 0, G_OPTION_ARG_STRING, &jobs_s, "runs at once (default: the CPU count)", "J"},
      {"seed", 0, 0, G_OPTION_ARG_STRING, &seed_s,
       "base seed the replications' seeds derive from (default: the scenario's)", "N"},
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "print the answer as one JSON object", NULL},
      {"output", 'o', 0, G_OPTION_ARG_FILENAME, &out,
       "results database of every run made (required); parts go to DB.parts/", "DB"},
      RUNS_ENGINE_OPTIONS(engine_s, sshloginfile, ssh, sbatch_args),
      {"m2msim", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, &m2msim,
       "executable to run instead of this m2msim (tests)", "PATH"},
      {NULL},
  };
  const char *argv0 = argv[0];
  if (!cli_parse(CMD, "FILE",
                 "Finds the smallest (--max: largest) value of --param in --range at which every\n"
                 "--target holds, each target's confidence interval wholly on its side of the\n"
                 "threshold. Assumes the targets are monotone in the parameter (hold from some\n"
                 "value on, or up to it) and bisects. A candidate whose interval still straddles\n"
                 "a threshold after --max-replications is undecided and counts as failing.\n"
                 "When every replication gives the same value (no refused registration in any\n"
                 "run, say) there is no interval: the target counts as met only after\n"
                 "--equal-replications such runs (n equal runs bound the chance of a different\n"
                 "one only below about 3/n). A figure a run does not report counts as infinite (a latency\n"
                 "quantile not reached, a pool never exhausted). Interrupted? Run the same\n"
                 "command again: finished runs are kept in DB.parts/.",
                 entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (argc != 2)
    return cli_usage_error(CMD,
                           argc < 2 ? "no scenario file given (m2msim solve FILE ...)"
                                    : "one scenario file only (got %d)",
                           argc - 1);
  if (out == NULL)
    return cli_usage_error(CMD, "missing -o DB (the results database to write)");
  if (param == NULL)
    return cli_usage_error(CMD, "missing --param KEY.PATH (the parameter to search)");
  if (range == NULL)
    return cli_usage_error(CMD, "missing --range LO..HI (the values to search)");
  if (targets_s == NULL)
    return cli_usage_error(CMD, "missing --target 'METRIC OP VALUE' (what must hold)");
  if (strcmp(param, "seed") == 0)
    return cli_usage_error(CMD, "--param seed: replications vary the seed; search a parameter");
  g_autofree char *why = NULL;
  ScnValueKind vk = scn_key_value_kind(param, &why);
  if (vk == SCN_VALUE_NONE)
    return cli_usage_error(CMD, "--param %s: %s", param, why);
  if (vk == SCN_VALUE_OTHER)
    return cli_usage_error(CMD,
                           "--param %s: not a whole-number, number, duration or rate key "
                           "(solve searches one such value)",
                           param);
  for (char **p = sets; p && *p; p++) {
    const char *eq = strchr(*p, '=');
    if (eq && (size_t)(eq - *p) == strlen(param) && strncmp(*p, param, strlen(param)) == 0)
      return cli_usage_error(CMD, "--set %s: that is the parameter being searched", *p);
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(SolveGrid) grid = solve_grid_new(kind_of(vk), range, step, &error);
  if (grid == NULL)
    return cli_usage_error(CMD, "%s", error->message);

  Solve s = {.param = param, .grid = grid, .sets = (const char *const *)sets, .level = 0.95,
             .min_reps = 3, .max_reps = 30, .equal_min = SOLVE_EQUAL_MIN};
  if (conf_s != NULL) {
    char *end = NULL;
    s.level = g_ascii_strtod(conf_s, &end);
    if (end == conf_s || *end != '\0' || !(s.level > 0.5 && s.level < 1))
      return cli_usage_error(CMD, "--confidence %s: expected a level between 0.5 and 1, e.g. 0.95",
                             conf_s);
  }
  if ((min_s && !reps_arg("min-replications", min_s, " (one run has no interval)", &s.min_reps)) ||
      (max_s && !reps_arg("max-replications", max_s, NULL, &s.max_reps)) ||
      (equal_s && !reps_arg("equal-replications", equal_s, "", &s.equal_min)))
    return CLI_EXIT_USAGE;
  if (s.max_reps < s.min_reps)
    return cli_usage_error(CMD, "--max-replications %u is below --min-replications %u",
                           s.max_reps, s.min_reps);
  if (!runs_engine_args(CMD, engine_s, jobs_s, sshloginfile, ssh, sbatch_args, &s.engine))
    return CLI_EXIT_USAGE;
  if (seed_s != NULL && !cli_uint_arg(CMD, "seed", seed_s, INT64_MAX, &s.base_seed))
    return CLI_EXIT_USAGE;
  g_autoptr(GArray) targets = g_array_new(FALSE, TRUE, sizeof(SolveTarget));
  g_array_set_clear_func(targets, (GDestroyNotify)solve_target_clear);
  for (char **t = targets_s; *t; t++) {
    SolveTarget one;
    if (!solve_target_parse(*t, &one, &error))
      return cli_usage_error(CMD, "%s", error->message);
    g_array_append_val(targets, one);
  }
  s.targets = (SolveTarget *)targets->data;
  s.n_targets = targets->len;
  if (!runs_check_output(CMD, out))
    return CLI_EXIT_USAGE;
  g_autofree char *scenario = g_canonicalize_filename(argv[1], NULL);
  s.scenario = scenario;
  int status = check_scenario(&s, argv[1], seed_s != NULL);
  if (status != CLI_EXIT_OK)
    return status;
  status = CLI_EXIT_USAGE;
  g_autofree char *abs_out = g_canonicalize_filename(out, NULL);
  s.parts = g_strconcat(abs_out, ".parts", NULL);
  s.m2msim = m2msim ? g_canonicalize_filename(m2msim, NULL) : runs_self_exe(argv0);
  s.width = 3;
  for (size_t lim = 1000; solve_grid_n(grid) > lim; lim *= 10)
    s.width++;
  g_autofree char *man = manifest(&s, argv[1]);
  if (s.m2msim == NULL)
    cli_usage_error(CMD, "cannot find the m2msim executable (give its path with --m2msim)");
  else if (runs_prepare_dir(CMD, s.parts, man, "solve"))
    status = search(&s, largest, json, out);
  g_free(s.parts);
  g_free(s.m2msim);
  return status;
}
