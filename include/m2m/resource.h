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

/* The same for a request of class `klass` (< SIM_RESOURCE_CLASSES; sim_resource_request
 * is class 0): classes share the servers and the queue, in one arrival order, and each
 * keeps its own waiting times besides the resource's over all of them. */
#define SIM_RESOURCE_CLASSES 2
void sim_resource_request_as(SimResource *r, unsigned klass, SimTime service, SimHandler done,
                             void *ctx, uint64_t arg);

/* Waiting times of the started requests of one class, us (a tally with n = 0 and no
 * quantiles, NULL, while the class had none). */
const StatTally *sim_resource_class_wait_tally(const SimResource *r, unsigned klass);
StatQuantiles *sim_resource_class_wait_quantiles(SimResource *r, unsigned klass);

/* A wait figure in seconds, for results: the mean wait (p < 0) or its p-quantile, of
 * class `klass` or of all requests (SIM_RESOURCE_ALL); NAN while none has started. */
#define SIM_RESOURCE_ALL (-1)
double sim_resource_wait_s(SimResource *r, int klass, double p);

/* The same over several resources taken together (the AV servers of every site of an
 * RS): the wait of all their requests of the class, and busy time over all their servers
 * x elapsed. With one resource, exactly what the single-resource calls give. */
double sim_resource_group_wait_s(SimResource *const *r, size_t n, int klass, double p);
double sim_resource_group_utilisation(SimResource *const *r, size_t n);

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

/* Peaks, over fixed windows of one second aligned on whole seconds from time 0: the
 * highest utilisation of one window (busy server time in it / (servers x 1 s)) and the
 * most requests arriving in one (per second); and the longest queue at any moment. The
 * window in progress counts as it stands (its busy time so far over the whole second).
 * A whole-run average hides a saturated minute in a quiet day; these do not. */
double sim_resource_utilisation_peak(const SimResource *r);
double sim_resource_rate_peak(const SimResource *r);
uint64_t sim_resource_queue_peak(const SimResource *r);

/* Integrals since creation up to now, exact (sums of integers below 2^53): busy servers
 * x us, waiting requests x us. Differences of two readings give an interval's average. */
double sim_resource_busy_integral(const SimResource *r);
double sim_resource_queue_integral(const SimResource *r);

/* The longest queue since the previous call (or creation); the next interval starts
 * from the queue now. For series of interval maxima. */
uint64_t sim_resource_take_queue_max(SimResource *r);

/* StatProbeFn adapters (ctx = the SimResource): current queue length, busy servers. */
double sim_resource_probe_queue_length(void *resource);
double sim_resource_probe_busy(void *resource);
