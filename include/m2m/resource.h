/* A generic multi-server FIFO resource on the engine: c identical servers and one FIFO
 * queue (an M/G/c station when fed by Poisson arrivals). The caller draws each request's
 * service time; the resource runs it when a server is free and calls the caller's
 * handler when the service completes. It keeps the statistics a capacity study needs:
 * waiting time (tally and quantiles, microseconds), utilisation (busy server time / (c x
 * elapsed)), the time-average queue length, and probes for sampled time series.
 *
 * Requests that wait are kept in a ring buffer that grows by doubling, so steady state
 * allocates nothing. The completion event names the server by index, never by pointer. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "m2m/engine.h"
#include "m2m/stats.h"

typedef struct SimResource SimResource;

/* A resource with `servers` (>= 1) servers on `sim`; statistics start at sim_now(). */
SimResource *sim_resource_new(SimEngine *sim, const char *name, unsigned servers);

/* Frees the resource. Pending completions are cancelled (their handlers never run). */
void sim_resource_free(SimResource *r);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SimResource, sim_resource_free)

/* Asks for `service` (>= 0) us of one server. When it has been served, done(sim, ctx,
 * arg) runs at the completion time (done may be NULL). Requests start in arrival order;
 * a request arriving at a free server starts now with a waiting time of 0. When a server
 * frees and requests wait, the next one starts before `done` of the finished one runs. */
void sim_resource_request(SimResource *r, SimTime service, SimHandler done, void *ctx,
                          uint64_t arg);

const char *sim_resource_name(const SimResource *r);
unsigned sim_resource_servers(const SimResource *r);
unsigned sim_resource_busy(const SimResource *r);         /* servers busy now */
uint64_t sim_resource_queue_length(const SimResource *r); /* requests waiting now */
uint64_t sim_resource_arrivals(const SimResource *r);     /* requests made */
uint64_t sim_resource_completed(const SimResource *r);    /* services finished */

/* Waiting times (arrival to start of service) of started requests, us. */
const StatTally *sim_resource_wait_tally(const SimResource *r);
StatQuantiles *sim_resource_wait_quantiles(SimResource *r);

/* Busy server time / (servers x elapsed) since creation, up to now; 0 when no time has
 * elapsed. */
double sim_resource_utilisation(const SimResource *r);

/* Time-average number of waiting requests since creation, up to now. */
double sim_resource_mean_queue_length(const SimResource *r);

/* StatProbeFn adapters (ctx = the SimResource): current queue length, busy servers. */
double sim_resource_probe_queue_length(void *resource);
double sim_resource_probe_busy(void *resource);
