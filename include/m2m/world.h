/* The provisioning world of TR 33.812 alternative 1, built from a scenario: one
 * Registration Service, the visited and home operators, manufacturers, owners and every
 * device, each a table-driven state machine on the discrete-event engine, talking only
 * through events and messages, with every protocol value (PIMSIs, K/OPc, AVs, RES,
 * AUTS, K_RS/K_SHO, sealed USIM packages) computed for real by the protocol core.
 *
 * A run is a pure function of (scenario, seed): same inputs, same results, bit for bit
 * (except the wall-clock figures named *wall*). Keys never reach logs or results.
 *
 * Use: world_new(cfg) -> world_run() -> world_write_results() / world_summary() ->
 * world_free(). The world keeps a pointer to `cfg`, which must outlive it. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "m2m/scenario.h"
#include "m2m/simtime.h"

typedef struct World World;

#define WORLD_ERROR (world_error_quark())
GQuark world_error_quark(void);

typedef enum {
  WORLD_ERROR_UNSUPPORTED, /* a scenario feature this world does not model (yet) */
  WORLD_ERROR_SETUP,       /* the pool or another part could not be built */
} WorldErrorCode;

/* Progress callback: simulated time done and the run's duration, events so far. Called
 * by world_run() every `progress_every` events (see world_run). */
typedef void (*WorldProgressFn)(void *data, SimTime now, SimTime duration, uint64_t events);

/* Builds the world for `cfg` (which must outlive the world): entities, streams from
 * cfg->seed, first events (production, faults, series sampling). Refuses, with a
 * message naming the key, what it cannot model (WORLD_ERROR_UNSUPPORTED): auth:
 * certificate, ind_bits > 5, more than 64 visited operators, more than 999 home
 * operators (one MNC each), more than 2^32 - 3 devices; and WORLD_ERROR_SETUP when the
 * per-device arrays cannot be allocated. */
World *world_new(const ScnConfig *cfg, GError **error);
void world_free(World *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(World, world_free)

/* Logs every entity transition ("[T] Device(42){ATTACHING}: ...") to `out` (NULL: off,
 * the default). Call before world_run(). */
void world_set_log(World *w, FILE *out);

/* Profiling (bench world): when on, the wall time spent in the protocol core's crypto
 * (MILENAGE, key derivations, seals, certificates) is added up, at two clock reads per
 * piece of work; world_crypto_s() gives it. Off by default. */
void world_set_profile(World *w, bool on);
double world_crypto_s(const World *w);

/* Runs the world from 0 to cfg->duration. `progress` (may be NULL) is called about
 * every 65536 events and once at the end. Returns the number of events executed. */
uint64_t world_run(World *w, WorldProgressFn progress, void *data);

/* Calls fn for each structure of the world with the octets it holds now: the engine, the
 * network layer's pools, each role kind's tables and its contexts (for bench world). */
typedef void (*WorldMemoryFn)(void *data, const char *what, size_t bytes);
void world_foreach_memory(const World *w, WorldMemoryFn fn, void *data);

/* Octets per device the roles' tables of a run of cfg hold (sizes of the rows, before
 * anything is built), for the memory check (limits.h). */
double world_device_bytes(const ScnConfig *cfg);

/* Headline figures for the command line's summary. */
typedef struct {
  uint64_t produced;       /* equipment made: the three below */
  uint64_t manufactured;   /* got a PIMSI (the population of the device figures) */
  uint64_t factory_usim;   /* got the SHO's USIM at the factory instead */
  uint64_t awaiting_pimsi; /* made, still waiting for a PIMSI */
  uint64_t provisioned, failed, in_progress;
  uint64_t powered_on; /* with a PIMSI (the population of the Kaplan-Meier figures) */
  /* in progress, by where they are */
  uint64_t not_powered_on, attaching, waiting_sho, downloading;
  /* over the devices provisioned (NAN when none) */
  double latency_p50_s, latency_p95_s, latency_p99_s;
  /* over every device powered on, Kaplan-Meier (NAN where the estimate does not reach) */
  double latency_km_p50_s, latency_km_p95_s, latency_km_p99_s;
  double latency_km_p50_lo_s, latency_km_p50_hi_s; /* the median's 95 % interval */
  uint64_t av_requests, av_vectors;
  double av_wait_mean_s, av_utilization;
  double av_utilization_peak, av_rate_peak; /* over the busiest second */
  uint64_t av_queue_peak;
  double cert_check_wait_mean_s; /* NAN without certificate checks */
  uint64_t pool_size, pool_in_use_peak, pool_held_peak, pool_blocked;
  double pool_exhausted_at_s; /* NAN when never exhausted */
  uint64_t aka_failures, aka_resyncs, rs_timeouts, vo_refusals;
  bool certificates; /* the run used certificates; then the cert_* figures: */
  uint64_t cert_issued, cert_accepted, cert_refused, cert_rs_checks, cert_bundles;
  uint64_t events;
  double end_s;            /* simulated time the run ended at */
  bool settled;            /* it ended because the world was done (stop_when: settled) */
  double wall_s;           /* wall time of world_run */
  size_t bytes_per_device; /* world memory / devices (estimate of the flat arrays) */
} WorldSummary;

void world_summary(const World *w, WorldSummary *out);

/* Calls fn(name, value) for every scalar in the order they are written (for --json and
 * tests). */
typedef void (*WorldScalarFn)(void *data, const char *name, double value);
void world_foreach_scalar(World *w, WorldScalarFn fn, void *data);

/* Calls fn(name) for every scalar name a run of this world may write, reported or not
 * (callable before world_run: to check a metric named on the command line). */
typedef void (*WorldNameFn)(void *data, const char *name);
void world_foreach_scalar_name(World *w, WorldNameFn fn, void *data);

/* Calls fn(name, t, value) for every row of every series, series by series in the order
 * they are written (t in simulated seconds, or the latency of provision.latency.cdf);
 * stops when fn returns false. */
typedef bool (*WorldSeriesFn)(void *data, const char *name, double t, double value);
void world_foreach_series(World *w, WorldSeriesFn fn, void *data);

/* The scenario the world was built from; the wall time world_run took. */
const ScnConfig *world_config(const World *w);
double world_wall_s(const World *w);
