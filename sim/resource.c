/* Multi-server FIFO resource (m2m/resource.h): c servers, a ring buffer of waiting
 * requests, one completion event per busy server. */
#include "m2m/resource.h"

typedef struct {
  SimTime arrival; /* us */
  SimTime service; /* us */
  SimHandler done;
  void *ctx;
  uint64_t arg;
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
  StatLevel busy_level;
  StatLevel queue_level;
};

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
  stat_level_init(&r->busy_level, sim_now(sim), 0);
  stat_level_init(&r->queue_level, sim_now(sim), 0);
  return r;
}

void
sim_resource_free(SimResource *r)
{
  if (r == NULL)
    return;
  for (unsigned i = 0; i < r->c; i++)
    sim_cancel(r->sim, r->servers[i].completion);
  stat_quantiles_free(r->wait_q);
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
  ResServer *s = &r->servers[server];
  s->done = q->done;
  s->ctx = q->ctx;
  s->arg = q->arg;
  s->completion = sim_schedule(r->sim, q->service, res_complete, r, server);
}

void
sim_resource_request(SimResource *r, SimTime service, SimHandler done, void *ctx, uint64_t arg)
{
  g_assert(service >= 0);
  SimTime now = sim_now(r->sim);
  ResRequest q = {now, service, done, ctx, arg};
  r->arrivals++;
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
  stat_level_set(&r->queue_level, now, (double)r->len);
}

static void
res_complete(SimEngine *sim, void *ctx, uint64_t server)
{
  SimResource *r = ctx;
  ResServer s = r->servers[server];
  SimTime now = sim_now(sim);
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
sim_resource_probe_queue_length(void *resource)
{
  return (double)sim_resource_queue_length(resource);
}

double
sim_resource_probe_busy(void *resource)
{
  return sim_resource_busy(resource);
}
