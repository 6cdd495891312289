/* The world's statistics bundle (see wstats.h). */
#include "wstats.h"

void
wtally_init(WTally *t, bool quantiles)
{
  *t = (WTally){.min = INFINITY, .max = -INFINITY};
  if (quantiles)
    t->q = stat_quantiles_new();
}

void
wtally_clear(WTally *t)
{
  stat_quantiles_free(t->q);
  t->q = NULL;
}

void
wtally_add(WTally *t, double x)
{
  t->n++;
  t->sum += x;
  if (x < t->min)
    t->min = x;
  if (x > t->max)
    t->max = x;
  if (t->q)
    stat_quantiles_add(t->q, x);
}

double
wtally_mean(const WTally *t)
{
  return t->n ? t->sum / (double)t->n : NAN;
}

double
wtally_quantile(WTally *t, double q)
{
  if (t->q == NULL || t->n == 0)
    return NAN;
  return stat_quantiles_get(t->q, q);
}

double
wtavg_mean(const WTimeAvg *a, SimTime now)
{
  if (now <= 0)
    return a->level;
  double area = a->area + a->level * (double)(now - a->last) / (double)SIM_S;
  return area / sim_time_to_s(now);
}

static void
series_init(WSeries *s, const char *name)
{
  s->name = name;
  s->t = g_array_new(FALSE, FALSE, sizeof(double));
  s->v = g_array_new(FALSE, FALSE, sizeof(double));
}

static void
series_clear(WSeries *s)
{
  if (s->t)
    g_array_unref(s->t);
  if (s->v)
    g_array_unref(s->v);
  s->t = s->v = NULL;
}

void
wseries_add(WSeries *s, double t, double v)
{
  g_array_append_val(s->t, t);
  g_array_append_val(s->v, v);
}

void
wstats_init(WStats *s, bool quantiles)
{
  *s = (WStats){0};
  wtally_init(&s->latency, quantiles);
  wtally_init(&s->attach_latency, quantiles);
  wtally_init(&s->access_latency, quantiles);
  wtally_init(&s->hold, false);
  s->exhausted_at = -1;
  series_init(&s->s_in_use, "rs.pimsi.in_use");
  series_init(&s->s_quarantined, "rs.pimsi.quarantined");
  series_init(&s->s_av_queue, "rs.av.queue");
  series_init(&s->s_provisioned, "devices.provisioned");
  series_init(&s->s_av_util, "rs.av.utilization");
}

void
wstats_clear(WStats *s)
{
  wtally_clear(&s->latency);
  wtally_clear(&s->attach_latency);
  wtally_clear(&s->access_latency);
  wtally_clear(&s->hold);
  series_clear(&s->s_in_use);
  series_clear(&s->s_quarantined);
  series_clear(&s->s_av_queue);
  series_clear(&s->s_provisioned);
  series_clear(&s->s_av_util);
}
