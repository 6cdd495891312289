/* One run of the world into a results database (see include/m2m/world-results.h). */
#include "m2m/world-results.h"

#include <string.h>

typedef struct {
  ResWriter *wr;
  int64_t run;
  GError **error;
  bool ok;
} WriteCtx;

static void
write_scalar(void *data, const char *name, double value)
{
  WriteCtx *c = data;
  if (c->ok && !res_writer_scalar(c->wr, c->run, name, value, c->error))
    c->ok = false;
}

static bool
write_series(void *data, const char *name, double t, double value)
{
  WriteCtx *c = data;
  if (c->ok && !res_writer_series(c->wr, c->run, name, t, value, c->error))
    c->ok = false;
  return c->ok;
}

bool
res_write_world(ResWriter *wr, World *w, const char *started, const ResProvenance *prov,
                int64_t *run_id, GError **error)
{
  const ScnConfig *cfg = world_config(w);
  int64_t run;
  if (!res_writer_add_run(wr, cfg->text, cfg->name, cfg->seed, 0, started, &run, error))
    return false;
  if (prov != NULL && !res_writer_provenance(wr, run, prov, error))
    return false;
  g_autoptr(GPtrArray) params = scn_config_params(cfg);
  bool has_seed = false;
  for (guint i = 0; i < params->len; i++) {
    const ScnParam *p = params->pdata[i];
    has_seed |= strcmp(p->key, "seed") == 0;
    if (!res_writer_param(wr, run, p->key, p->value, error))
      return false;
  }
  if (!has_seed) {
    g_autofree char *seed = g_strdup_printf("%" G_GUINT64_FORMAT, cfg->seed);
    if (!res_writer_param(wr, run, "seed", seed, error))
      return false;
  }
  WriteCtx c = {wr, run, error, true};
  world_foreach_scalar(w, write_scalar, &c);
  if (c.ok)
    world_foreach_series(w, write_series, &c);
  if (!c.ok)
    return false;
  if (!res_writer_finish_run(wr, run, world_wall_s(w), "complete", error))
    return false;
  if (run_id)
    *run_id = run;
  return true;
}
