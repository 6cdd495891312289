/* `m2msim sweep FILE --vary KEY=V1,V2,... --replications N [-j J] -o DB`: runs a
 * parameter grid x replications (models/sweep.c numbers the runs and derives their
 * seeds), each as a separate `m2msim run` process on J local cores, and merges them into
 * DB. Resumable: each run writes DB.parts/run-NNNN.db atomically (the results writer's
 * temporary file and rename), so a part that exists is finished; a new invocation
 * skips finished parts and re-runs the rest. A manifest in DB.parts records the sweep's
 * definition, and an invocation with another definition is refused. Children die with
 * the sweep (PR_SET_PDEATHSIG), so a killed sweep leaves no runs behind.
 *
 * --emit-jobs / --emit-slurm hand the unfinished runs to GNU parallel or a Slurm array
 * instead; the same command without them (or `m2msim merge`) then merges the parts. */
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "cli.h"
#include "runs.h"
#include "m2m/ci.h"
#include "m2m/merge.h"
#include "m2m/results.h"
#include "m2m/sweep.h"

#define CMD "sweep"

typedef struct {
  const SweepPlan *plan;
  char *db;     /* -o */
  char *parts;  /* DB.parts */
  char *m2msim; /* the executable each run calls */
  int width;    /* digits of part numbers */
  RunsEngine engine;
} Sweep;

static char *
part_path(const Sweep *s, size_t run, const char *ext)
{
  g_autofree char *name = g_strdup_printf("run-%0*zu.%s", s->width, run, ext);
  return g_build_filename(s->parts, name, NULL);
}

/* Creates DB.parts with the manifest, or checks an existing one describes this sweep, and
 * writes every run's exact command into it. */
static bool
prepare_parts(const Sweep *s, const char *manifest)
{
  g_autoptr(GError) error = NULL;
  if (!runs_prepare_dir(CMD, s->parts, manifest, "sweep"))
    return false;
  /* Every run's exact command, one per line (line N+1 = run N): any run can be redone
   * alone. */
  GString *cmds = g_string_new(NULL);
  for (size_t i = 0; i < sweep_plan_n_runs(s->plan); i++) {
    g_autofree char *out = part_path(s, i, "db");
    g_autofree char *cmd = sweep_plan_run_command(s->plan, i, s->m2msim, out);
    g_string_append_printf(cmds, "%s\n", cmd);
  }
  g_autofree char *cpath = g_build_filename(s->parts, "commands.txt", NULL);
  bool ok = runs_write_file(cpath, cmds->str, (gssize)cmds->len, &error);
  g_string_free(cmds, TRUE);
  if (!ok) {
    cli_usage_error(CMD, "%s", error->message);
    return false;
  }
  return true;
}

/* Runs those of `runs` (run numbers) not finished yet, J at a time. */
static int
run_list(const Sweep *s, unsigned jobs, const GArray *runs)
{
  g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func((GDestroyNotify)runs_job_free);
  for (size_t i = 0; i < runs->len; i++) {
    size_t run = g_array_index(runs, size_t, i);
    g_autofree char *out = part_path(s, run, "db");
    g_autofree char *point = sweep_plan_point_label(s->plan, sweep_plan_point(s->plan, run));
    char *label = g_strdup_printf("run %zu (%s, replication %u)", run, point,
                                  sweep_plan_replication(s->plan, run));
    g_ptr_array_add(list, runs_job_new(sweep_plan_run_argv(s->plan, run, s->m2msim, out), out,
                                       label));
  }
  return runs_execute_on(CMD, s->parts, list, &s->engine);
}

static int
run_all(const Sweep *s, unsigned jobs)
{
  g_autoptr(GArray) all = g_array_new(FALSE, FALSE, sizeof(size_t));
  for (size_t i = 0; i < sweep_plan_n_runs(s->plan); i++)
    g_array_append_val(all, i);
  return run_list(s, jobs, all);
}

/* Merges the parts of `runs` (NULL: every run of the plan) into DB. */
static int
merge_parts(const Sweep *s, const GArray *runs)
{
  size_t n = runs ? runs->len : sweep_plan_n_runs(s->plan);
  g_autoptr(GPtrArray) paths = g_ptr_array_new_with_free_func(g_free);
  g_autofree int64_t *reps = g_new(int64_t, n);
  for (size_t i = 0; i < n; i++) {
    size_t run = runs ? g_array_index(runs, size_t, i) : i;
    g_ptr_array_add(paths, part_path(s, run, "db"));
    reps[i] = sweep_plan_replication(s->plan, run);
  }
  g_autoptr(GError) error = NULL;
  size_t merged = 0;
  if (!merge_files((const char *const *)paths->pdata, n, reps, s->db, &merged, &error)) {
    fprintf(stderr, "m2msim sweep: merging the parts: %s\n", error->message);
    return CLI_EXIT_FAIL;
  }
  if (runs)
    printf("%s: %zu runs (%zu points, replications as the precision needed); parts kept in "
           "%s (remove it when done)\n",
           s->db, merged, sweep_plan_n_points(s->plan), s->parts);
  else
    printf("%s: %zu runs (%zu points x %u replications); parts kept in %s (remove it when "
           "done)\n",
           s->db, merged, sweep_plan_n_points(s->plan), sweep_plan_replications(s->plan), s->parts);
  return CLI_EXIT_OK;
}

/* ---- --precision: replications until the intervals are narrow enough ------------------ */

/* The figures a precision sweep watches when none is named: the provisioning latency over
 * every device (median) and the RS's AV wait. A figure a run does not report (no device
 * provisioned, no AV request) does not count for that run. */
static const char *const precision_default[] = {"provision.latency_km.p50", "rs.av.wait_mean",
                                                NULL};

typedef struct {
  double rel;                 /* the 95 % half-width must be at most rel x |mean| */
  const char *const *metrics; /* NULL-terminated */
  uint32_t min_reps, max_reps;
} Precision;

/* One figure of a point over its finished replications 0..n-1. */
static CiSummary
point_figure(const Sweep *s, size_t point, uint32_t n, const char *metric)
{
  g_autoptr(GArray) v = g_array_new(FALSE, FALSE, sizeof(double));
  uint32_t max = sweep_plan_replications(s->plan);
  for (uint32_t r = 0; r < n; r++) {
    g_autofree char *path = part_path(s, point * max + r, "db");
    g_autoptr(GError) error = NULL;
    g_autoptr(ResReader) rd = res_reader_open(path, &error);
    if (rd == NULL)
      continue;
    g_autoptr(GPtrArray) runs = res_reader_runs(rd, &error);
    double x;
    g_autoptr(GError) e2 = NULL;
    if (runs != NULL && runs->len == 1 &&
        res_reader_scalar(rd, ((const ResRun *)runs->pdata[0])->id, metric, &x, &e2) && isfinite(x))
      g_array_append_val(v, x);
  }
  CiSummary c;
  ci_summarize((const double *)v->data, v->len, 0.95, &c);
  return c;
}

static bool
precise_enough(const Precision *p, const CiSummary *c)
{
  if (c->n < 2)
    return c->n == 0; /* a figure no run reports cannot be made more precise */
  return c->half_width <= p->rel * fabs(c->mean);
}

/* How many replications point `point` should have, given the n it has: n when every
 * watched figure is precise enough (or n is the most allowed), else the n the widest
 * interval asks for (half-widths fall as 1 / sqrt(n)), at most twice n and max. */
static uint32_t
wanted(const Sweep *s, const Precision *p, size_t point, uint32_t n)
{
  uint32_t want = n;
  for (const char *const *m = p->metrics; *m; m++) {
    CiSummary c = point_figure(s, point, n, *m);
    if (precise_enough(p, &c))
      continue;
    double ratio = c.n >= 2 && fabs(c.mean) > 0 ? c.half_width / (p->rel * fabs(c.mean)) : 2;
    double need = ceil((double)n * ratio * ratio);
    want = MAX(want, (uint32_t)MIN(need, (double)UINT32_MAX));
  }
  want = MIN(want, 2 * n);
  return MIN(want, p->max_reps);
}

static void
precision_report(const Sweep *s, const Precision *p, const uint32_t *have)
{
  for (size_t pt = 0; pt < sweep_plan_n_points(s->plan); pt++) {
    g_autofree char *label = sweep_plan_point_label(s->plan, pt);
    printf("%s: %u replications", *label ? label : "all runs", have[pt]);
    for (const char *const *m = p->metrics; *m; m++) {
      CiSummary c = point_figure(s, pt, have[pt], *m);
      if (c.n == 0)
        printf("; %s absent", *m);
      else
        printf("; %s %.6g +- %.3g (%s)", *m, c.mean, c.half_width,
               precise_enough(p, &c) ? "ok" : "not reached");
    }
    printf("\n");
  }
}

/* Rounds: every point gets min_reps replications, then each point whose watched figures
 * are not yet within rel gets more (as many as its widest interval asks for, at most
 * twice what it has), up to max_reps. Replication r of every point has the same seed
 * (common random numbers), and run numbers are those of a sweep of max_reps
 * replications, so an interrupted precision sweep resumes from its parts. */
static int
run_precision(const Sweep *s, unsigned jobs, const Precision *p)
{
  size_t np = sweep_plan_n_points(s->plan);
  uint32_t max = sweep_plan_replications(s->plan);
  g_autofree uint32_t *have = g_new0(uint32_t, np);
  g_autofree uint32_t *want = g_new(uint32_t, np);
  for (size_t pt = 0; pt < np; pt++)
    want[pt] = p->min_reps;
  for (;;) {
    g_autoptr(GArray) round = g_array_new(FALSE, FALSE, sizeof(size_t));
    for (size_t pt = 0; pt < np; pt++)
      for (uint32_t r = have[pt]; r < want[pt]; r++) {
        size_t run = pt * max + r;
        g_array_append_val(round, run);
      }
    if (round->len == 0)
      break;
    bool first = have[0] == 0;
    int st = run_list(s, jobs, round);
    if (st != CLI_EXIT_OK)
      return st;
    /* A watched figure that no run of any point reports is a typo, not a precise one. */
    for (const char *const *m = first ? p->metrics : NULL; m && *m; m++) {
      size_t seen = 0;
      for (size_t pt = 0; pt < np; pt++)
        seen += point_figure(s, pt, want[pt], *m).n;
      if (seen == 0) {
        fprintf(stderr,
                "m2msim sweep: --precision-of %s: no run reports this figure (see "
                "`m2msim run --json` for the names); nothing merged\n",
                *m);
        return CLI_EXIT_USAGE;
      }
    }
    bool more = false;
    for (size_t pt = 0; pt < np; pt++) {
      have[pt] = want[pt];
      want[pt] = wanted(s, p, pt, have[pt]);
      more |= want[pt] > have[pt];
    }
    if (!more)
      break;
  }
  precision_report(s, p, have);
  g_autoptr(GArray) done = g_array_new(FALSE, FALSE, sizeof(size_t));
  for (size_t pt = 0; pt < np; pt++)
    for (uint32_t r = 0; r < have[pt]; r++) {
      size_t run = pt * max + r;
      g_array_append_val(done, run);
    }
  return merge_parts(s, done);
}

/* Writes the unfinished runs' commands, one per line, to path (atomically). Returns the
 * number of lines, or -1 after printing an error. */
static gssize
write_jobs(const Sweep *s, const char *path)
{
  GString *text = g_string_new(NULL);
  gssize lines = 0;
  for (size_t i = 0; i < sweep_plan_n_runs(s->plan); i++) {
    g_autofree char *out = part_path(s, i, "db");
    if (runs_part_done(out))
      continue;
    g_autofree char *cmd = sweep_plan_run_command(s->plan, i, s->m2msim, out);
    g_string_append_printf(text, "%s\n", cmd);
    lines++;
  }
  g_autoptr(GError) error = NULL;
  bool ok = runs_write_file(path, text->str, (gssize)text->len, &error);
  g_string_free(text, TRUE);
  if (!ok) {
    cli_usage_error(CMD, "%s", error->message);
    return -1;
  }
  return lines;
}

static bool
write_slurm(const Sweep *s, const char *path, const char *jobs, gssize lines)
{
  g_autofree char *abs_jobs = g_canonicalize_filename(jobs, NULL);
  g_autofree char *abs_parts = g_canonicalize_filename(s->parts, NULL);
  g_autofree char *comment = g_strdup_printf(
      "# m2msim sweep of %s: %zd runs as a Slurm job array, task i running line i of\n"
      "# %s. Submit with: sbatch %s\n"
      "# Each run writes its part atomically into %s; when every task has\n"
      "# finished, the same m2msim sweep command (without --emit-slurm) merges them, or:\n"
      "#   m2msim merge %s/run-*.db -o %s\n",
      sweep_plan_scenario(s->plan), lines, abs_jobs, path, abs_parts, abs_parts, s->db);
  g_autoptr(GError) error = NULL;
  if (lines == 0) {
    cli_usage_error(CMD, "%s: every run is finished already: nothing for Slurm to do", path);
    return false;
  }
  if (!runs_slurm_script(path, jobs, (size_t)lines, s->parts, comment, &error)) {
    cli_usage_error(CMD, "%s", error->message);
    return false;
  }
  return true;
}

int
cmd_sweep(int argc, char **argv)
{
  g_auto(GStrv) vary = NULL, sets = NULL;
  g_autofree char *reps_s = NULL, *jobs_s = NULL, *seed_s = NULL, *out = NULL;
  g_autofree char *emit_jobs = NULL, *emit_slurm = NULL, *m2msim = NULL;
  g_autofree char *precision_s = NULL, *max_reps_s = NULL;
  g_autofree char *engine_s = NULL, *sshloginfile = NULL, *ssh = NULL, *sbatch_args = NULL;
  g_auto(GStrv) precision_of = NULL;
  const GOptionEntry entries[] = {
      {"vary", 0, 0, G_OPTION_ARG_STRING_ARRAY, &vary,
       "an axis of the grid: a --set key and its values (repeatable; replaces the file's "
       "sweep: axes)",
       "KEY.PATH=V1,V2,..."},
      {"replications", 'r', 0, G_OPTION_ARG_STRING, &reps_s,
       "runs per grid point, each with its own seed (default: the file's, else 1)", "N"},
      {"jobs", 'j', 0, G_OPTION_ARG_STRING, &jobs_s, "runs at once (default: the CPU count)", "J"},
      {"output", 'o', 0, G_OPTION_ARG_FILENAME, &out,
       "merged results database (required); parts go to DB.parts/", "DB"},
      {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets,
       "a fixed override for every run "
       "(repeatable)",
       "KEY.PATH=VALUE"},
      {"seed", 0, 0, G_OPTION_ARG_STRING, &seed_s,
       "base seed the runs' seeds derive from (default: the scenario's)", "N"},
      {"precision", 0, 0, G_OPTION_ARG_STRING, &precision_s,
       "add replications to each point until every watched figure's 95% half-width is at "
       "most REL of its mean (e.g. 0.05), starting from --replications (default 3)",
       "REL"},
      {"precision-of", 0, 0, G_OPTION_ARG_STRING_ARRAY, &precision_of,
       "a figure --precision watches (repeatable; default provision.latency_km.p50 and "
       "rs.av.wait_mean)",
       "METRIC"},
      {"max-replications", 0, 0, G_OPTION_ARG_STRING, &max_reps_s,
       "--precision: at most this many replications per point (default 30)", "N"},
      {"emit-jobs", 0, 0, G_OPTION_ARG_FILENAME, &emit_jobs,
       "write the unfinished runs' commands, one per line, for GNU parallel; run nothing", "FILE"},
      {"emit-slurm", 0, 0, G_OPTION_ARG_FILENAME, &emit_slurm,
       "write an sbatch --array script running them; run nothing", "FILE"},
      RUNS_ENGINE_OPTIONS(engine_s, sshloginfile, ssh, sbatch_args),
      {"m2msim", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_FILENAME, &m2msim,
       "executable to run instead of this m2msim (tests)", "PATH"},
      {NULL},
  };
  const char *argv0 = argv[0];
  if (!cli_parse(CMD, "FILE",
                 "Runs a parameter grid x replications of a scenario, J at a time, and merges\n"
                 "them into DB. Interrupted? Run the same command again: finished runs are\n"
                 "kept (DB.parts/), the others re-run. --emit-jobs / --emit-slurm hand the\n"
                 "runs to GNU parallel or Slurm instead.",
                 entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (argc != 2)
    return cli_usage_error(CMD,
                           argc < 2 ? "no scenario file given (m2msim sweep FILE ...)"
                                    : "one scenario file only (got %d)",
                           argc - 1);
  if (out == NULL)
    return cli_usage_error(CMD, "missing -o DB (the merged results database to write)");
  uint64_t reps = 0, seed = 0;
  RunsEngine engine;
  if (reps_s != NULL) {
    if (!cli_uint_arg(CMD, "replications", reps_s, 100000, &reps))
      return CLI_EXIT_USAGE;
    if (reps < 1)
      return cli_usage_error(CMD, "--replications: must be at least 1");
  }
  if (!runs_engine_args(CMD, engine_s, jobs_s, sshloginfile, ssh, sbatch_args, &engine))
    return CLI_EXIT_USAGE;
  unsigned jobs = engine.jobs;
  if (seed_s != NULL && !cli_uint_arg(CMD, "seed", seed_s, INT64_MAX, &seed))
    return CLI_EXIT_USAGE;
  Precision prec = {0, precision_default, 3, 30};
  if (precision_s == NULL && (precision_of != NULL || max_reps_s != NULL))
    return cli_usage_error(CMD, "--precision-of and --max-replications need --precision REL");
  if (precision_s != NULL) {
    char *end = NULL;
    prec.rel = g_ascii_strtod(precision_s, &end);
    if (end == precision_s || *end != '\0' || !(prec.rel > 0 && prec.rel < 1))
      return cli_usage_error(CMD, "--precision %s: expected a fraction between 0 and 1, e.g. 0.05",
                             precision_s);
    uint64_t mx = 30;
    if (max_reps_s != NULL && !cli_uint_arg(CMD, "max-replications", max_reps_s, 100000, &mx))
      return CLI_EXIT_USAGE;
    if (reps_s != NULL)
      prec.min_reps = (uint32_t)reps;
    if (prec.min_reps < 2)
      return cli_usage_error(CMD, "--precision needs at least 2 replications to start from");
    if (mx < prec.min_reps)
      return cli_usage_error(CMD,
                             "--max-replications %" G_GUINT64_FORMAT
                             " is below the %u replications to start from",
                             mx, prec.min_reps);
    prec.max_reps = (uint32_t)mx;
    reps = mx; /* the plan numbers runs as a sweep of max replications */
    if (precision_of != NULL)
      prec.metrics = (const char *const *)precision_of;
    if (emit_jobs != NULL || emit_slurm != NULL)
      return cli_usage_error(CMD, "--precision decides each round from the last: it runs here, "
                                  "not through --emit-jobs / --emit-slurm");
  }

  if (!runs_check_output(CMD, out))
    return CLI_EXIT_USAGE;

  g_autoptr(GError) error = NULL;
  g_autoptr(SweepPlan) plan =
      sweep_plan_new(argv[1], (const char *const *)sets, (const char *const *)vary, (uint32_t)reps,
                     seed_s != NULL, seed, &error);
  if (plan == NULL) {
    fprintf(stderr, "m2msim sweep: %s\n", error->message);
    return CLI_EXIT_USAGE;
  }
  size_t n = sweep_plan_n_runs(plan);
  g_autofree char *abs_out = g_canonicalize_filename(out, NULL);
  Sweep s = {
      .plan = plan,
      .db = out,
      /* Absolute: the run commands name their parts, and job lists run anywhere. */
      .parts = g_strconcat(abs_out, ".parts", NULL),
      .m2msim = m2msim ? g_canonicalize_filename(m2msim, NULL) : runs_self_exe(argv0),
      .width = 4,
      .engine = engine,
  };
  for (size_t lim = 10000; n > lim && s.width < 19; lim *= 10)
    s.width++;
  int status = CLI_EXIT_USAGE;
  g_autofree char *manifest = sweep_plan_manifest(plan);
  if (s.m2msim == NULL) {
    cli_usage_error(CMD, "cannot find the m2msim executable (give its path with --m2msim)");
  } else if (prepare_parts(&s, manifest)) {
    if (precision_s != NULL) {
      status = run_precision(&s, jobs, &prec);
    } else if (emit_jobs == NULL && emit_slurm == NULL) {
      status = run_all(&s, jobs);
      if (status == CLI_EXIT_OK)
        status = merge_parts(&s, NULL);
    } else {
      g_autofree char *jobs_path =
          emit_jobs ? g_strdup(emit_jobs) : g_build_filename(s.parts, "jobs.txt", NULL);
      gssize lines = write_jobs(&s, jobs_path);
      status = lines < 0 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
      if (status == CLI_EXIT_OK && emit_jobs)
        printf("%s: %zd of %zu runs still to do, one command per line; run them with\n"
               "  parallel -j %u < %s   (or --sshloginfile FILE across machines)\n",
               emit_jobs, lines, n, jobs, emit_jobs);
      if (status == CLI_EXIT_OK && emit_slurm) {
        if (!write_slurm(&s, emit_slurm, jobs_path, lines))
          status = CLI_EXIT_USAGE;
        else
          printf("%s: Slurm array of %zd runs; submit it with: sbatch %s\n", emit_slurm, lines,
                 emit_slurm);
      }
      if (status == CLI_EXIT_OK)
        printf("then merge with the same m2msim sweep command without --emit-*, or\n"
               "  m2msim merge %s/run-*.db -o %s\n",
               s.parts, out);
    }
  }
  g_free(s.parts);
  g_free(s.m2msim);
  return status;
}
