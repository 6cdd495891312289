/* `m2msim bench world [--devices N] [--scenario FILE] [--seed S]`: the whole provisioning
 * world end to end, for the speed targets (1,000,000 devices in at most 15 s wall and
 * 256 B of peak RSS each on one core; 10,000,000 in at most 3 minutes and 2.5 GiB).
 *
 * Without --scenario it runs a built-in rollout sized by --devices: production spread
 * over 10 days, power-on and owner choice within about a day of manufacture, two VOs
 * (one refusing PIMSIs), two SHOs, AV batches of 1, a pool the size of the rollout with
 * recycling, a few wrong credentials and desynchronised SQNs so every path is exercised,
 * and 20 simulated days so that every device can finish. The figures printed are the
 * run's: events per second, wall time, devices provisioned per second of wall time, the
 * world's own memory per device, and the peak RSS of the process (getrusage). */
#include <glib.h>
#include <stdio.h>
#include <sys/resource.h>

#include "cli.h"
#include "m2m/scenario.h"
#include "m2m/world.h"

static const char summary[] =
    "Runs the provisioning world end to end and prints:\n"
    "  devices, provisioned, failed, in_progress   the outcome (all accounted for)\n"
    "  events, wall_s, events_per_s                engine figures of the run\n"
    "  provisioned_per_s                           devices provisioned per wall second\n"
    "  world_bytes_per_device                      the world's flat arrays per device\n"
    "  peak_rss_kib, rss_bytes_per_device          getrusage ru_maxrss of the process\n"
    "Without --scenario: a built-in rollout of --devices devices (default 1000000).";

static char *
builtin_scenario(uint64_t n)
{
  /* Half the production per manufacturer, 10 days of production. */
  uint64_t a = n / 2, b = n - a;
  double rate_a = (double)a / 10.0, rate_b = (double)b / 10.0;
  return g_strdup_printf(
      "name: bench-world\n"
      "seed: 1\n"
      "duration: 20d\n"
      "registration_service:\n"
      "  pimsi_pool: {mcc: \"901\", mnc: \"70\", size: %" G_GUINT64_FORMAT "}\n"
      "  pimsi_recycle: after_provisioning\n"
      "  pimsi_quarantine: 1d\n"
      "  av_servers: 8\n"
      "  av_service_time: {exponential: 1ms}\n"
      "  av_batch: 1\n"
      "visited_operators:\n"
      "  - {name: vo-a, share: 0.5, accepts_pimsi: true, attach_delay: {uniform: [300ms, 1s]},\n"
      "     roaming_delay: {uniform: [15ms, 40ms]}}\n"
      "  - {name: vo-b, share: 0.3, accepts_pimsi: true, attach_delay: {uniform: [300ms, 1s]},\n"
      "     roaming_delay: {uniform: [15ms, 40ms]}}\n"
      "  - {name: vo-c, share: 0.2, accepts_pimsi: false}\n"
      "home_operators:\n"
      "  - {name: sho-a, share: 0.6, download_time: {lognormal: {median: 30s, sigma: 0.5}}}\n"
      "  - {name: sho-b, share: 0.4, download_time: {lognormal: {median: 30s, sigma: 0.5}}}\n"
      "manufacturers:\n"
      "  - {name: m1, devices: %" G_GUINT64_FORMAT ", production: {poisson: %.3f/d},\n"
      "     wrong_credentials: 0.0005}\n"
      "  - {name: m2, devices: %" G_GUINT64_FORMAT ", production: {poisson: %.3f/d},\n"
      "     wrong_credentials: 0.0005}\n"
      "owners:\n"
      "  select_home_operator_after: {exponential: 12h}\n"
      "devices:\n"
      "  power_on_after: {exponential: 1d}\n"
      "  retry: {initial: 30s, factor: 2, max: 30min}\n"
      "  sqn_desync_fraction: 0.001\n"
      "output:\n"
      "  series_interval: 1h\n",
      n, MAX(a, (uint64_t)1), rate_a > 0 ? rate_a : 1.0, MAX(b, (uint64_t)1),
      rate_b > 0 ? rate_b : 1.0);
}

/* One line of the memory split: "bytes_per_device[WHAT]: N". */
static void
print_memory(void *data, const char *what, size_t bytes)
{
  uint64_t devices = *(const uint64_t *)data;
  printf("bytes_per_device[%s]: %.1f\n", what, (double)bytes / (double)MAX(devices, 1));
}

int
bench_world(int argc, char **argv)
{
  g_autofree char *devices_text = NULL, *scenario = NULL, *seed_text = NULL;
  const GOptionEntry entries[] = {
      {"devices", 0, 0, G_OPTION_ARG_STRING, &devices_text,
       "devices of the built-in rollout (default 1000000)", "N"},
      {"scenario", 0, 0, G_OPTION_ARG_FILENAME, &scenario, "run this scenario instead", "FILE"},
      {"seed", 0, 0, G_OPTION_ARG_STRING, &seed_text, "seed (default: the scenario's)", "S"},
      {NULL},
  };
  if (!cli_parse("bench world", "", summary, entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (argc > 1)
    return cli_usage_error("bench world", "unexpected argument '%s'", argv[1]);
  uint64_t n = 1000000, seed = 0;
  if (devices_text && !cli_uint_arg("bench world", "devices", devices_text, UINT32_MAX - 4, &n))
    return CLI_EXIT_USAGE;
  if (n < 2)
    return cli_usage_error("bench world", "--devices: at least 2");
  if (seed_text && !cli_uint_arg("bench world", "seed", seed_text, INT64_MAX, &seed))
    return CLI_EXIT_USAGE;

  g_autoptr(GError) error = NULL;
  g_autoptr(ScnConfig) cfg = NULL;
  if (scenario) {
    cfg = scn_load(scenario, NULL, &error);
  } else {
    g_autofree char *text = builtin_scenario(n);
    cfg = scn_load_string(text, "bench-world (built in)", NULL, &error);
  }
  if (cfg == NULL) {
    fprintf(stderr, "%s\n", error->message);
    return CLI_EXIT_USAGE;
  }
  if (seed_text)
    cfg->seed = seed;
  g_autoptr(World) w = world_new(cfg, &error);
  if (w == NULL)
    return cli_usage_error("bench world", "%s", error->message);
  world_set_profile(w, true);
  world_run(w, NULL, NULL);
  WorldSummary s;
  world_summary(w, &s);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  uint64_t total = scn_config_total_devices(cfg);
  printf("scenario: %s\n", cfg->name);
  printf("devices: %" G_GUINT64_FORMAT "\n", total);
  printf("provisioned: %" G_GUINT64_FORMAT "\nfailed: %" G_GUINT64_FORMAT
         "\nin_progress: %" G_GUINT64_FORMAT "\nawaiting_pimsi: %" G_GUINT64_FORMAT "\n",
         s.provisioned, s.failed, s.in_progress, s.produced - s.manufactured);
  printf("events: %" G_GUINT64_FORMAT "\n", s.events);
  printf("wall_s: %.3f\n", s.wall_s);
  printf("events_per_s: %.0f\n", (double)s.events / (s.wall_s > 0 ? s.wall_s : 1e-9));
  printf("provisioned_per_s: %.0f\n", (double)s.provisioned / (s.wall_s > 0 ? s.wall_s : 1e-9));
  printf("ns_per_event: %.1f\n", s.wall_s * 1e9 / (double)MAX(s.events, 1));
  printf("crypto_s: %.3f\ncrypto_share: %.3f\n", world_crypto_s(w),
         world_crypto_s(w) / (s.wall_s > 0 ? s.wall_s : 1e-9));
  printf("world_bytes_per_device: %zu\n", s.bytes_per_device);
  world_foreach_memory(w, print_memory, &total);
  printf("peak_rss_kib: %ld\n", ru.ru_maxrss);
  printf("rss_bytes_per_device: %.0f\n", (double)ru.ru_maxrss * 1024.0 / (double)total);
  return CLI_EXIT_OK;
}
