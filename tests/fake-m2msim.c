/* A stand-in for `m2msim run` in the sweep tests, so the batch machinery (resume, kill,
 * merge, GNU parallel) is tested on its own, in milliseconds per run:
 *   fake-m2msim run FILE [--seed N] [--set K=V]... -o DB
 * loads the scenario like `m2msim run` (so bad keys fail the same way) and writes one run
 * through the results writer: every effective parameter, scalars that are deterministic
 * functions of the seed and the pool size, a wall-clock scalar that is not, and a short
 * series. Environment: FAKE_M2MSIM_SLEEP_MS sleeps before the commit (kill tests),
 * FAKE_M2MSIM_FAIL_SEED makes the run with that seed fail (exit 1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "m2m/results.h"
#include "m2m/scenario.h"

int
main(int argc, char **argv)
{
  g_auto(GStrv) sets = NULL;
  g_autofree char *out = NULL, *seed_s = NULL;
  const GOptionEntry entries[] = {
      {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets, NULL, NULL},
      {"seed", 0, 0, G_OPTION_ARG_STRING, &seed_s, NULL, NULL},
      {"output", 'o', 0, G_OPTION_ARG_FILENAME, &out, NULL, NULL},
      {NULL},
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new(NULL);
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 3 ||
      strcmp(argv[1], "run") != 0 || out == NULL) {
    fprintf(stderr, "fake-m2msim: usage: run FILE [--seed N] [--set K=V]... -o DB\n");
    return 2;
  }
  g_autoptr(ScnConfig) cfg = scn_load(argv[2], (const char *const *)sets, &error);
  if (cfg == NULL) {
    fprintf(stderr, "%s\n", error->message);
    return 2;
  }
  if (seed_s)
    cfg->seed = g_ascii_strtoull(seed_s, NULL, 10);
  const char *fail = g_getenv("FAKE_M2MSIM_FAIL_SEED");
  if (fail && g_ascii_strtoull(fail, NULL, 10) == cfg->seed) {
    fprintf(stderr, "fake-m2msim: failing on purpose for seed %s\n", fail);
    return 1;
  }
  g_autoptr(ResWriter) w = res_writer_open(out, &error);
  int64_t id = 0;
  g_autofree char *now = res_iso8601_now();
  bool ok = w && res_writer_add_run(w, cfg->text, cfg->name, cfg->seed, 0, now, &id, &error);
  g_autoptr(GPtrArray) params = scn_config_params(cfg);
  for (guint i = 0; ok && i < params->len; i++) {
    const ScnParam *p = params->pdata[i];
    ok = res_writer_param(w, id, p->key, p->value, &error);
  }
  double pool = (double)cfg->registration_service.pimsi_pool.size;
  double noise = (double)(cfg->seed % 1000) / 1000.0;
  ok = ok && res_writer_scalar(w, id, "rs.pimsi.pool_size", pool, &error) &&
       res_writer_scalar(w, id, "rs.pimsi.blocked", 1e5 / pool + 10 * noise, &error) &&
       res_writer_scalar(w, id, "rs.av.wait_mean",
                         0.002 / cfg->registration_service.av_servers + noise * 1e-4, &error) &&
       res_writer_scalar(w, id, "engine.wall_s", (double)g_get_real_time() / 1e6, &error);
  for (int k = 0; ok && k <= 4; k++)
    ok = res_writer_series(w, id, "rs.pimsi.in_use", k * 3600.0, k * pool / 8, &error);
  ok = ok && res_writer_finish_run(w, id, 0.01, "complete", &error);
  const char *sleep_ms = g_getenv("FAKE_M2MSIM_SLEEP_MS");
  if (ok && sleep_ms)
    g_usleep(1000 * g_ascii_strtoull(sleep_ms, NULL, 10));
  if (!ok || !res_writer_commit(w, &error)) {
    fprintf(stderr, "fake-m2msim: %s\n", error ? error->message : "failed");
    return 1;
  }
  return 0;
}
