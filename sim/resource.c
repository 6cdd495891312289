/* Multi-server FIFO resource (m2m/resource.h): c servers, a ring buffer of waiting
 * requests, one completion event per busy server. */
#include "m2m/resource.h"

#include <math.h>

typedef struct {
  SimTime arrival; /* us */
  SimTime service; /* us */
  SimHandler done;
  void *ctx;
  uint64_t arg;
  unsigned klass;
} ResRequest;

typedef struct {
  SimHandler done;
  void *ctx;
  uint64_t arg;
  SimEventId completion;
} ResServer;

struct SimResource {
  SimEngine *sim;
  char *name;
  unsigned c;
  unsigned busy;
  ResServer *servers;
  unsigned *idle; /* stack of idle server indices */
  unsigned n_idle;
  ResRequest *ring; /* waiting requests, FIFO */
  size_t head, len, cap;
  uint64_t arrivals, completed;
  StatTally wait; /* us */
  StatQuantiles *wait_q;
  StatTally class_wait[SIM_RESOURCE_CLASSES];        /* us, per class */
  StatQuantiles *class_wait_q[SIM_RESOURCE_CLASSES]; /* made at the class's first start */
  StatLevel busy_level;
  StatLevel queue_level;
  /* peaks (resource.h): the one-second window in progress ends at win_end */
  SimTime win_end;
  double win_busy0;      /* busy integral at the window's start */
  uint64_t win_arrivals; /* requests arrived in it */
  double util_peak;      /* of the windows closed so far */
  uint64_t rate_peak;
  uint64_t queue_max_since; /* longest queue since sim_resource_take_queue_max */
};

enum { RES_WINDOW = SIM_S };

SimResource *
sim_resource_new(SimEngine *sim, const char *name, unsigned servers)
{
  g_assert(servers >= 1);
  SimResource *r = g_new0(SimResource, 1);
  r->sim = sim;
  r->name = g_strdup(name ? name : "");
  r->c = servers;
  r->servers = g_new0(ResServer, servers);
  r->idle = g_new(unsigned, servers);
  for (unsigned i = 0; i < servers; i++)
    r->idle[i] = servers - 1 - i; /* server 0 on top */
  r->n_idle = servers;
  r->cap = 16;
  r->ring = g_new(ResRequest, r->cap);
  stat_tally_init(&r->wait);
  r->wait_q = stat_quantiles_new();
  for (unsigned k = 0; k < SIM_RESOURCE_CLASSES; k++)
    stat_tally_init(&r->class_wait[k]);
  stat_level_init(&r->busy_level, sim_now(sim), 0);
  stat_level_init(&r->queue_level, sim_now(sim), 0);
  r->win_end = (sim_now(sim) / RES_WINDOW + 1) * RES_WINDOW;
  return r;
}

/* The windows rolled forward to `now` (now >= the last change): the window holding now
 * and the busy integral at its start, and the utilisation peak of every window closed by
 * then. Windows passed without a change had the level of the last change: one of them
 * stands for all. */
typedef struct {
  SimTime win_end;
  double busy0, util_peak;
} ResWindows;

static ResWindows
res_windows_at(const SimResource *r, SimTime now)
{
  ResWindows v = {r->win_end, r->win_busy0, r->util_peak};
  if (now < v.win_end)
    return v;
  double c_w = (double)r->c * RES_WINDOW;
  v.util_peak = MAX(v.util_peak, (stat_level_integral(&r->busy_level, v.win_end) - v.busy0) / c_w);
  SimTime start = now / RES_WINDOW * RES_WINDOW; /* of the window holding now */
  if (start > v.win_end)                         /* whole windows in between */
    v.util_peak = MAX(v.util_peak, r->busy_level.level / (double)r->c);
  v.busy0 = stat_level_integral(&r->busy_level, start);
  v.win_end = start + RES_WINDOW;
  return v;
}

/* Closes the windows that ended by `now` (before any level changes at now). */
static void
res_roll(SimResource *r, SimTime now)
{
  if (now < r->win_end)
    return;
  ResWindows v = res_windows_at(r, now);
  r->win_end = v.win_end;
  r->win_busy0 = v.busy0;
  r->util_peak = v.util_peak;
  r->rate_peak = MAX(r->rate_peak, r->win_arrivals);
  r->win_arrivals = 0;
}

void
sim_resource_free(SimResource *r)
{
  if (r == NULL)
    return;
  for (unsigned i = 0; i < r->c; i++)
    sim_cancel(r->sim, r->servers[i].completion);
  stat_quantiles_free(r->wait_q);
  for (unsigned k = 0; k < SIM_RESOURCE_CLASSES; k++)
    stat_quantiles_free(r->class_wait_q[k]);
  g_free(r->ring);
  g_free(r->idle);
  g_free(r->servers);
  g_free(r->name);
  g_free(r);
}

static void res_complete(SimEngine *sim, void *ctx, uint64_t server);

static void
res_start(SimResource *r, unsigned server, const ResRequest *q)
{
  SimTime now = sim_now(r->sim);
  double w = (double)(now - q->arrival);
  stat_tally_add(&r->wait, w);
  stat_quantiles_add(r->wait_q, w);
  stat_tally_add(&r->class_wait[q->klass], w);
  if (r->class_wait_q[q->klass] == NULL)
    r->class_wait_q[q->klass] = stat_quantiles_new();
  stat_quantiles_add(r->class_wait_q[q->klass], w);
  ResServer *s = &r->servers[server];
  s->done = q->done;
  s->ctx = q->ctx;
  s->arg = q->arg;
  s->completion = sim_schedule(r->sim, q->service, res_complete, r, server);
}

void
sim_resource_request(SimResource *r, SimTime service, SimHandler done, void *ctx, uint64_t arg)
{
  sim_resource_request_as(r, 0, service, done, ctx, arg);
}

void
sim_resource_request_as(SimResource *r, unsigned klass, SimTime service, SimHandler done, void *ctx,
                        uint64_t arg)
{
  g_assert(service >= 0);
  g_assert(klass < SIM_RESOURCE_CLASSES);
  SimTime now = sim_now(r->sim);
  ResRequest q = {now, service, done, ctx, arg, klass};
  res_roll(r, now);
  r->arrivals++;
  r->win_arrivals++;
  if (r->n_idle > 0) {
    unsigned server = r->idle[--r->n_idle];
    r->busy++;
    stat_level_set(&r->busy_level, now, r->busy);
    res_start(r, server, &q);
    return;
  }
  if (r->len == r->cap) { /* grow the ring, unwrapping it */
    ResRequest *ring = g_new(ResRequest, r->cap * 2);
    for (size_t i = 0; i < r->len; i++)
      ring[i] = r->ring[(r->head + i) % r->cap];
    g_free(r->ring);
    r->ring = ring;
    r->head = 0;
    r->cap *= 2;
  }
  r->ring[(r->head + r->len) % r->cap] = q;
  r->len++;
  r->queue_max_since = MAX(r->queue_max_since, r->len);
  stat_level_set(&r->queue_level, now, (double)r->len);
}

static void
res_complete(SimEngine *sim, void *ctx, uint64_t server)
{
  SimResource *r = ctx;
  ResServer s = r->servers[server];
  SimTime now = sim_now(sim);
  res_roll(r, now);
  r->completed++;
  r->servers[server].completion = SIM_EVENT_NONE;
  if (r->len > 0) {
    ResRequest q = r->ring[r->head];
    r->head = (r->head + 1) % r->cap;
    r->len--;
    stat_level_set(&r->queue_level, now, (double)r->len);
    res_start(r, (unsigned)server, &q);
  } else {
    r->idle[r->n_idle++] = (unsigned)server;
    r->busy--;
    stat_level_set(&r->busy_level, now, r->busy);
  }
  if (s.done)
    s.done(sim, s.ctx, s.arg);
}

const char *
sim_resource_name(const SimResource *r)
{
  return r->name;
}

unsigned
sim_resource_servers(const SimResource *r)
{
  return r->c;
}

unsigned
sim_resource_busy(const SimResource *r)
{
  return r->busy;
}

uint64_t
sim_resource_queue_length(const SimResource *r)
{
  return r->len;
}

uint64_t
sim_resource_arrivals(const SimResource *r)
{
  return r->arrivals;
}

uint64_t
sim_resource_completed(const SimResource *r)
{
  return r->completed;
}

const StatTally *
sim_resource_wait_tally(const SimResource *r)
{
  return &r->wait;
}

StatQuantiles *
sim_resource_wait_quantiles(SimResource *r)
{
  return r->wait_q;
}

const StatTally *
sim_resource_class_wait_tally(const SimResource *r, unsigned klass)
{
  g_assert(klass < SIM_RESOURCE_CLASSES);
  return &r->class_wait[klass];
}

StatQuantiles *
sim_resource_class_wait_quantiles(SimResource *r, unsigned klass)
{
  g_assert(klass < SIM_RESOURCE_CLASSES);
  return r->class_wait_q[klass];
}

double
sim_resource_wait_s(SimResource *r, int klass, double p)
{
  const StatTally *t = klass < 0 ? &r->wait : sim_resource_class_wait_tally(r, (unsigned)klass);
  if (t->n == 0)
    return NAN;
  if (p < 0)
    return stat_tally_mean(t) / 1e6;
  StatQuantiles *q = klass < 0 ? r->wait_q : r->class_wait_q[klass];
  return stat_quantiles_get(q, p) / 1e6;
}

double
sim_resource_group_wait_s(SimResource *const *r, size_t n, int klass, double p)
{
  if (n == 1)
    return sim_resource_wait_s(r[0], klass, p);
  StatTally all;
  stat_tally_init(&all);
  for (size_t i = 0; i < n; i++)
    stat_tally_merge(&all, klass < 0 ? &r[i]->wait
                                     : sim_resource_class_wait_tally(r[i], (unsigned)klass));
  if (all.n == 0)
    return NAN;
  if (p < 0)
    return stat_tally_mean(&all) / 1e6;
  g_autoptr(StatQuantiles) q = stat_quantiles_new();
  for (size_t i = 0; i < n; i++) {
    StatQuantiles *qi = klass < 0 ? r[i]->wait_q : r[i]->class_wait_q[klass];
    if (qi != NULL)
      stat_quantiles_merge(q, qi);
  }
  return stat_quantiles_get(q, p) / 1e6;
}

double
sim_resource_group_utilisation(SimResource *const *r, size_t n)
{
  if (n == 1)
    return sim_resource_utilisation(r[0]);
  double busy = 0, capacity = 0;
  for (size_t i = 0; i < n; i++) {
    SimTime now = sim_now(r[i]->sim);
    if (now > r[i]->busy_level.t0) {
      busy += stat_level_integral(&r[i]->busy_level, now);
      capacity += (double)r[i]->c * (double)(now - r[i]->busy_level.t0);
    }
  }
  return capacity > 0 ? busy / capacity : 0;
}

double
sim_resource_utilisation(const SimResource *r)
{
  SimTime now = sim_now(r->sim);
  if (now <= r->busy_level.t0)
    return 0;
  double busy_us = stat_level_integral(&r->busy_level, now);
  return busy_us / ((double)r->c * (double)(now - r->busy_level.t0));
}

double
sim_resource_mean_queue_length(const SimResource *r)
{
  return stat_level_mean(&r->queue_level, sim_now(r->sim));
}

double
sim_resource_utilisation_peak(const SimResource *r)
{
  SimTime now = sim_now(r->sim);
  ResWindows v = res_windows_at(r, now); /* as res_roll would, without changing r */
  double open = (stat_level_integral(&r->busy_level, now) - v.busy0) / ((double)r->c * RES_WINDOW);
  return MAX(v.util_peak, open);
}

double
sim_resource_rate_peak(const SimResource *r)
{
  /* The arrivals not yet rolled are one window's, closed or in progress. */
  return (double)MAX(r->rate_peak, r->win_arrivals) * ((double)SIM_S / RES_WINDOW);
}

uint64_t
sim_resource_queue_peak(const SimResource *r)
{
  return (uint64_t)r->queue_level.max;
}

double
sim_resource_busy_integral(const SimResource *r)
{
  return stat_level_integral(&r->busy_level, sim_now(r->sim));
}

double
sim_resource_queue_integral(const SimResource *r)
{
  return stat_level_integral(&r->queue_level, sim_now(r->sim));
}

uint64_t
sim_resource_take_queue_max(SimResource *r)
{
  uint64_t m = r->queue_max_since;
  r->queue_max_since = r->len;
  return m;
}

double
sim_resource_probe_queue_length(void *resource)
{
  return (double)sim_resource_queue_length(resource);
}

double
sim_resource_probe_busy(void *resource)
{
  return sim_resource_busy(resource);
}
