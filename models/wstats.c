/* The world's statistics bundle (see wstats.h). */
#include "wstats.h"

void
wtally_init(WTally *t, bool quantiles)
{
  *t = (WTally){.min = INFINITY, .max = -INFINITY};
  if (quantiles)
    t->samples = g_array_new(FALSE, FALSE, sizeof(double));
}

void
wtally_clear(WTally *t)
{
  if (t->samples)
    g_array_unref(t->samples);
  t->samples = NULL;
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
  if (t->samples) {
    g_array_append_val(t->samples, x);
    t->sorted = false;
  }
}

double
wtally_mean(const WTally *t)
{
  return t->n ? t->sum / (double)t->n : NAN;
}

static int
cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double
wtally_quantile(WTally *t, double q)
{
  if (t->samples == NULL || t->samples->len == 0)
    return NAN;
  if (!t->sorted) {
    qsort(t->samples->data, t->samples->len, sizeof(double), cmp_double);
    t->sorted = true;
  }
  /* Nearest rank: the smallest sample with at least q of the samples at or below it. */
  size_t n = t->samples->len;
  size_t rank = (size_t)ceil(q * (double)n);
  if (rank < 1)
    rank = 1;
  if (rank > n)
    rank = n;
  return g_array_index(t->samples, double, rank - 1);
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
  wtally_init(&s->av_wait, quantiles);
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
  wtally_clear(&s->av_wait);
  wtally_clear(&s->hold);
  series_clear(&s->s_in_use);
  series_clear(&s->s_quarantined);
  series_clear(&s->s_av_queue);
  series_clear(&s->s_provisioned);
  series_clear(&s->s_av_util);
}
