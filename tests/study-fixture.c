/* See study-fixture.h. */
#include "study-fixture.h"

#include <math.h>

#include "m2m/results.h"

void
sf_write(const char *path, const SfRunSpec *spec, const char *const *points, unsigned reps)
{
  static const char *const one[] = {NULL, NULL};
  g_autoptr(GError) e = NULL;
  g_autoptr(ResWriter) w = res_writer_open(path, &e);
  g_assert_no_error(e);
  size_t np = points ? g_strv_length((char **)points) : 1;
  for (size_t p = 0; p < np; p++) {
    const char *pool_s = points ? points[p] : one[0];
    double pool = pool_s ? g_ascii_strtod(pool_s, NULL) : 5000;
    for (unsigned r = 0; r < reps; r++) {
      int64_t id = 0;
      uint64_t seed = 7 + r;
      g_assert_true(res_writer_add_run(w, spec->scenario, spec->name, seed, r,
                                       "2025-01-01T00:00:00Z", &id, &e));
      g_autofree char *seed_s = g_strdup_printf("%" G_GUINT64_FORMAT, seed);
      g_assert_true(res_writer_param(w, id, "seed", seed_s, &e));
      g_assert_true(res_writer_param(w, id, "duration", "2d", &e));
      if (pool_s)
        g_assert_true(res_writer_param(w, id, "registration_service.pimsi_pool.size", pool_s, &e));
      struct {
        const char *name;
        double v;
      } sc[] = {
          {"rs.pimsi.pool_size", pool},
          {"rs.pimsi.blocked", 1e5 / pool + r},
          {"rs.av.utilization", 0.4 + 0.01 * r},
          {"rs.av.wait_mean", 0.002},
          {"provision.latency.p50", 20 + r},
          {"provision.latency.p95", 60 + r},
          {"provision.latency.p99", 300 + r},
          {"provision.latency.max", 3600},
          {"devices.manufactured", 1000},
          {"devices.provisioned", 900 + r},
          {"engine.wall_s", 0.5 + r},
      };
      for (size_t k = 0; k < G_N_ELEMENTS(sc); k++)
        g_assert_true(res_writer_scalar(w, id, sc[k].name, sc[k].v, &e));
      if (spec->exhausted)
        g_assert_true(res_writer_scalar(w, id, "rs.pimsi.exhausted_at", 30 * 3600.0 + r, &e));
      for (int h = 0; h <= 48; h++) {
        double t = h * 3600.0;
        g_assert_true(res_writer_series(w, id, "rs.pimsi.in_use", t, MIN(pool, h * 120.0), &e));
        g_assert_true(res_writer_series(w, id, "rs.pimsi.quarantined", t, h * 10.0, &e));
        g_assert_true(res_writer_series(w, id, "rs.av.queue", t, (h * 7 + r) % 5, &e));
        g_assert_true(res_writer_series(w, id, "devices.provisioned", t, h * 18.0 + r, &e));
      }
      if (spec->cdf)
        for (int k = 1; k <= 100; k++)
          g_assert_true(res_writer_series(w, id, "provision.latency.cdf", 5.0 * exp(k / 15.0),
                                          k / 100.0, &e));
      g_assert_true(res_writer_finish_run(w, id, 0.5 + r, "complete", &e));
    }
  }
  g_assert_true(res_writer_commit(w, &e));
  g_assert_no_error(e);
}
