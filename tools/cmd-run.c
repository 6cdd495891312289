/* `m2msim run FILE [-o results/NAME.db] [--seed N] [--set key=value]... [--json]`: loads
 * a scenario, builds and runs the provisioning world, and writes its results database
 * (every scalar and series, the scenario text and every effective parameter).
 *
 * Order of checks, so nothing is half done: the scenario (exit 2, one line per problem,
 * nothing written), then what the world cannot model (exit 2), then the output path
 * (a writer is opened and discarded: a bad -o fails here, before the run), then the
 * run, then the results are written to a temporary file and renamed into place. The default output
 * is results/<scenario name>.db under the current directory; only then is results/ created when
 * missing.
 *
 * stderr gets a progress bar when it is a terminal (at most ~10 updates per second);
 * stdout gets a short summary table, or with --json one JSON object with every scalar. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "m2m/limits.h"
#include "m2m/results.h"
#include "m2m/scenario.h"
#include "m2m/units.h"
#include "m2m/world.h"
#include "m2m/world-results.h"

/* A duration in seconds, in the unit a reader takes in at a glance. */
static const char *
human(char *buf, size_t len, double s)
{
  if (isnan(s))
    g_snprintf(buf, len, "not reached");
  else if (s < 120)
    g_snprintf(buf, len, "%.1f s", s);
  else if (s < 7200)
    g_snprintf(buf, len, "%.1f min", s / 60);
  else
    g_snprintf(buf, len, "%.1f h", s / 3600);
  return buf;
}

typedef struct {
  gint64 last_us; /* wall clock of the last redraw */
  gint64 start_us;
  bool drawn;
} Progress;

static void
progress_cb(void *data, SimTime now, SimTime duration, uint64_t events)
{
  Progress *p = data;
  gint64 t = g_get_monotonic_time();
  bool done = now >= duration;
  if (!done && t - p->last_us < 100000)
    return;
  p->last_us = t;
  double frac = duration > 0 ? (double)now / (double)duration : 1.0;
  double wall = (double)(t - p->start_us) / 1e6;
  double rate = wall > 0 ? (double)events / wall : 0;
  enum { WIDTH = 30 };
  char bar[WIDTH + 1];
  int fill = (int)(frac * WIDTH);
  for (int i = 0; i < WIDTH; i++)
    bar[i] = i < fill ? '#' : '.';
  bar[WIDTH] = '\0';
  char a[32], b[32];
  human(a, sizeof a, sim_time_to_s(now));
  units_format_duration(duration, b, sizeof b);
  fprintf(stderr, "\r[%s] %5.1f%%  %s / %s simulated  %.2f M events/s  ", bar, 100 * frac, a, b,
          rate / 1e6);
  fflush(stderr);
  p->drawn = true;
}

/* The scenario name as a file name: letters, digits, '.', '_', '-' kept, others '_'. */
static char *
safe_name(const char *name)
{
  char *s = g_strdup(name && *name ? name : "run");
  for (char *c = s; *c; c++)
    if (!g_ascii_isalnum(*c) && *c != '.' && *c != '_' && *c != '-')
      *c = '_';
  if (s[0] == '.')
    s[0] = '_';
  return s;
}

static void
json_number(GString *out, double v)
{
  if (!isfinite(v))
    g_string_append(out, "null");
  else
    g_string_append_printf(out, "%.17g", v); /* integers print without a point */
}

typedef struct {
  GString *out;
  bool first;
} JsonCtx;

static void
json_scalar(void *data, const char *name, double value)
{
  JsonCtx *j = data;
  g_string_append(j->out, j->first ? "\n    " : ",\n    ");
  j->first = false;
  cli_json_string(j->out, name);
  g_string_append(j->out, ": ");
  json_number(j->out, value);
}

static void
print_summary(const ScnConfig *cfg, const char *path, const WorldSummary *s)
{
  printf("m2msim run: %s (seed %" G_GUINT64_FORMAT ") -> %s\n", cfg->name, cfg->seed, path);
  printf("  devices      manufactured %" G_GUINT64_FORMAT "  provisioned %" G_GUINT64_FORMAT
         "  failed %" G_GUINT64_FORMAT "  in progress %" G_GUINT64_FORMAT
         "  awaiting PIMSI %" G_GUINT64_FORMAT "\n",
         s->manufactured, s->provisioned, s->failed, s->in_progress, s->awaiting_pimsi);
  if (s->factory_usim > 0)
    printf("               and %" G_GUINT64_FORMAT " with their SHO's USIM from the factory"
           " (no PIMSI)\n",
           s->factory_usim);
  if (s->in_progress > 0)
    printf("  in progress  not powered on %" G_GUINT64_FORMAT "  attaching %" G_GUINT64_FORMAT
           "  waiting for the SHO %" G_GUINT64_FORMAT "  downloading %" G_GUINT64_FORMAT "\n",
           s->not_powered_on, s->attaching, s->waiting_sho, s->downloading);
  char a[32], b[32], c[32], d[32], e[32];
  /* Power-on -> USIM installed. First over every device powered on (those in progress
   * count at their age so far, those that gave up never arrive): what a planner sizes by.
   * Then over the devices provisioned only, which is biased low while some are pending. */
  if (isnan(s->latency_p50_s) && isnan(s->latency_km_p50_s)) {
    printf("  latency      (no device provisioned)\n");
  } else {
    printf("  latency      p50 %s (95%% CI %s - %s)  p95 %s  p99 %s  (power-on -> USIM)\n",
           human(a, sizeof a, s->latency_km_p50_s), human(b, sizeof b, s->latency_km_p50_lo_s),
           isnan(s->latency_km_p50_hi_s) ? "open" : human(c, sizeof c, s->latency_km_p50_hi_s),
           human(d, sizeof d, s->latency_km_p95_s), human(e, sizeof e, s->latency_km_p99_s));
    printf("               of all %" G_GUINT64_FORMAT " powered on, those in progress counted at"
           " their age (Kaplan-Meier)\n",
           s->powered_on);
    printf("               provisioned only: p50 %s  p95 %s  p99 %s\n",
           human(a, sizeof a, s->latency_p50_s), human(b, sizeof b, s->latency_p95_s),
           human(c, sizeof c, s->latency_p99_s));
  }
  printf("  AV service   requests %" G_GUINT64_FORMAT "  vectors %" G_GUINT64_FORMAT
         "  wait mean %.3g ms\n",
         s->av_requests, s->av_vectors, isnan(s->av_wait_mean_s) ? 0 : s->av_wait_mean_s * 1e3);
  if (s->certificates)
    printf("  cert checks  at the RS %" G_GUINT64_FORMAT "  wait mean %.3g ms\n", s->cert_rs_checks,
           isnan(s->cert_check_wait_mean_s) ? 0 : s->cert_check_wait_mean_s * 1e3);
  /* The servers' load over the run hides a storm of seconds: the busiest second too. */
  printf("  %s utilisation %.3g over the run, %.3g in the busiest second"
         "  peak queue %" G_GUINT64_FORMAT "  peak rate %.0f/s\n",
         s->certificates ? "auth servers" : "AV servers  ", s->av_utilization,
         isnan(s->av_utilization_peak) ? 0 : s->av_utilization_peak, s->av_queue_peak,
         isnan(s->av_rate_peak) ? 0 : s->av_rate_peak);
  if (isnan(s->pool_exhausted_at_s))
    printf("  PIMSI pool   size %" G_GUINT64_FORMAT "  peak in use %" G_GUINT64_FORMAT
           "  peak held %" G_GUINT64_FORMAT "  never exhausted  blocked %" G_GUINT64_FORMAT "\n",
           s->pool_size, s->pool_in_use_peak, s->pool_held_peak, s->pool_blocked);
  else
    printf("  PIMSI pool   size %" G_GUINT64_FORMAT "  peak in use %" G_GUINT64_FORMAT
           "  peak held %" G_GUINT64_FORMAT "  exhausted at %s  blocked %" G_GUINT64_FORMAT "\n",
           s->pool_size, s->pool_in_use_peak, s->pool_held_peak,
           human(a, sizeof a, s->pool_exhausted_at_s), s->pool_blocked);
  if (s->certificates)
    printf("  certificates issued %" G_GUINT64_FORMAT "  accepted %" G_GUINT64_FORMAT
           "  refused %" G_GUINT64_FORMAT "  RS checks %" G_GUINT64_FORMAT
           "  bundles served %" G_GUINT64_FORMAT "\n",
           s->cert_issued, s->cert_accepted, s->cert_refused, s->cert_rs_checks, s->cert_bundles);
  printf("  failures     AKA %" G_GUINT64_FORMAT "  resyncs %" G_GUINT64_FORMAT
         "  RS timeouts %" G_GUINT64_FORMAT "  VO refusals %" G_GUINT64_FORMAT "\n",
         s->aka_failures, s->aka_resyncs, s->rs_timeouts, s->vo_refusals);
  if (s->end_s >= 86400)
    g_snprintf(a, sizeof a, "%.1f d", s->end_s / 86400);
  else
    human(a, sizeof a, s->end_s);
  printf("  engine       %" G_GUINT64_FORMAT " events in %.2f s wall; the run ended at %s%s\n",
         s->events, s->wall_s, a,
         s->settled ? ": settled (every unit done, nothing pending)" : ", its duration");
}

int
cmd_run(int argc, char **argv)
{
  g_auto(GStrv) sets = NULL;
  g_autofree char *out = NULL, *seed_text = NULL, *log_path = NULL;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
      {"output", 'o', 0, G_OPTION_ARG_FILENAME, &out,
       "results database to write (default results/<scenario name>.db)", "FILE"},
      {"seed", 0, 0, G_OPTION_ARG_STRING, &seed_text, "seed of the run (replaces the file's)", "N"},
      {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets,
       "override a key, e.g. manufacturers.0.devices=5000 (repeatable)", "KEY.PATH=VALUE"},
      {"json", 0, 0, G_OPTION_ARG_NONE, &json, "print every scalar as one JSON object", NULL},
      {"log", 0, 0, G_OPTION_ARG_FILENAME, &log_path,
       "write every entity transition to FILE ('-' for stderr); slow, for small runs", "FILE"},
      {NULL},
  };
  if (!cli_parse("run", "FILE",
                 "Runs a scenario (see scenarios/README.md) and writes its results database.",
                 entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (argc != 2)
    return cli_usage_error("run", argc < 2 ? "no scenario file given (m2msim run FILE)"
                                           : "one scenario file at a time");
  uint64_t seed = 0;
  if (seed_text && !cli_uint_arg("run", "seed", seed_text, INT64_MAX, &seed))
    return CLI_EXIT_USAGE;

  g_autoptr(GError) error = NULL;
  g_autoptr(ScnConfig) cfg = scn_load(argv[1], (const char *const *)sets, &error);
  if (cfg == NULL) {
    fprintf(stderr, "%s\n", error->message);
    return CLI_EXIT_USAGE;
  }
  if (seed_text)
    cfg->seed = seed;
  if (!lim_check_run(cfg, &error)) /* refused up front, not OOM-killed later */
    return cli_usage_error("run", "%s: %s", argv[1], error->message);
  g_autoptr(World) w = world_new(cfg, &error);
  if (w == NULL)
    return cli_usage_error("run", "%s: %s", argv[1], error->message);

  g_autofree char *path = NULL;
  if (out) {
    path = g_strdup(out);
  } else {
    g_autofree char *base = safe_name(cfg->name);
    g_autofree char *file = g_strconcat(base, ".db", NULL);
    path = g_build_filename("results", file, NULL);
    if (g_mkdir_with_parents("results", 0777) != 0)
      return cli_usage_error("run", "cannot create results/: %s", g_strerror(errno));
  }
  /* Check the output now (the writer refuses what it would refuse at the end), but keep
   * no temporary file during the run: a run killed mid-way leaves nothing behind. */
  g_autoptr(ResWriter) wr = res_writer_open(path, &error);
  if (wr == NULL)
    return cli_usage_error("run", "%s", error->message);
  g_clear_pointer(&wr, res_writer_free);

  FILE *log = NULL;
  if (log_path) {
    log = strcmp(log_path, "-") == 0 ? stderr : fopen(log_path, "w");
    if (log == NULL)
      return cli_usage_error("run", "--log %s: %s", log_path, g_strerror(errno));
    world_set_log(w, log);
  }

  g_autofree char *started = res_iso8601_now();
  Progress prog = {.start_us = g_get_monotonic_time()};
  bool tty = isatty(STDERR_FILENO);
  world_run(w, tty ? progress_cb : NULL, &prog);
  if (prog.drawn)
    fprintf(stderr, "\r%*s\r", 100, "");
  if (log) {
    world_set_log(w, NULL);
    if (log != stderr)
      fclose(log);
  }

  ResProvenance prov;
  cli_provenance(&prov);
  wr = res_writer_open(path, &error);
  bool written = wr != NULL && res_write_world(wr, w, started, &prov, NULL, &error);
  cli_provenance_clear(&prov);
  if (!written ||
      !res_writer_commit(wr, &error)) {
    fprintf(stderr, "m2msim run: cannot write %s: %s\n", path, error->message);
    return CLI_EXIT_FAIL;
  }

  if (json) {
    g_autoptr(GString) s = g_string_new("{\n  \"scenario\": ");
    cli_json_string(s, cfg->name);
    g_string_append_printf(s, ",\n  \"seed\": %" G_GUINT64_FORMAT ",\n  \"output\": ", cfg->seed);
    cli_json_string(s, path);
    g_string_append(s, ",\n  \"status\": \"complete\",\n  \"scalars\": {");
    JsonCtx j = {s, true};
    world_foreach_scalar(w, json_scalar, &j);
    g_string_append(s, "\n  }\n}\n");
    fputs(s->str, stdout);
  } else {
    WorldSummary sum;
    world_summary(w, &sum);
    print_summary(cfg, path, &sum);
  }
  return CLI_EXIT_OK;
}
