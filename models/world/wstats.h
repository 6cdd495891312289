/* The world's statistics: every counter, tally, time-weighted average and time series
 * one run records (README "Results of m2msim run"), in one struct the entities update
 * directly (they are figures about the run, not entity state).
 *
 * Tallies add quantiles (stats.h: exact up to 100,000 samples, then a 1 % sketch) when
 * asked to. Time-weighted averages integrate a piecewise-constant level over simulated
 * time. The AV servers' own figures (waits, utilisation, queue) come from the RS's
 * resource (resource.h). */
#pragma once

#include <glib.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "m2m/simtime.h"
#include "m2m/stats.h"

typedef struct {
  uint64_t n;
  double sum, min, max; /* seconds (or whatever was added) */
  StatQuantiles *q;     /* NULL when quantiles are not needed */
} WTally;

void wtally_init(WTally *t, bool quantiles);
void wtally_clear(WTally *t);
void wtally_add(WTally *t, double x);
double wtally_mean(const WTally *t);         /* NAN when empty */
double wtally_quantile(WTally *t, double q); /* NAN when empty or without quantiles */

typedef struct {
  double area;  /* integral of level dt, level x seconds */
  SimTime last; /* time of the last change */
  double level; /* current level */
  double peak;  /* highest level seen */
} WTimeAvg;

static inline void
wtavg_set(WTimeAvg *a, SimTime now, double level)
{
  a->area += a->level * (double)(now - a->last) / (double)SIM_S;
  a->last = now;
  a->level = level;
  if (level > a->peak)
    a->peak = level;
}

/* Time average over [0, now]. */
double wtavg_mean(const WTimeAvg *a, SimTime now);

/* One time series: values at t = 0, interval, 2 interval, ... */
typedef struct {
  const char *name;
  GArray *t; /* double seconds */
  GArray *v; /* double */
} WSeries;

typedef struct {
  /* devices */
  uint64_t produced, manufactured, via_rs, factory_usim, provisioned, failed;
  uint64_t failed_mac, failed_attempts, attached_real, powered_on;
  /* visited operators */
  uint64_t vo_refusals, vo_attaches, vo_spare_used, vo_timeouts_given_up;
  /* registration service */
  uint64_t av_requests, av_vectors, av_resync_requests, rs_dropped, rs_timeouts;
  uint64_t rs_lookups, rs_no_sho, rs_lookup_refused, rs_registrations, rs_sho_registrations;
  uint64_t rs_releases, rs_orphaned, mfr_timeouts;
  /* AKA */
  uint64_t aka_ok, aka_failures, aka_resyncs, aka_res_mismatch;
  /* home operators */
  uint64_t sho_refusals, sho_downloads, sho_timeouts, owner_timeouts, sho_dropped, vo_dropped;
  uint64_t dev_timeouts, dev_no_sho_retries, seal_failures;
  uint64_t sho_auth_ok, sho_auth_failures, sho_av_requests;
  /* certificates (wcert.h) */
  uint64_t cert_issued, cert_revoked, cert_verifications, cert_accepted;
  uint64_t cert_refused_expired, cert_refused_revoked, cert_refused_signature, cert_refused_other;
  uint64_t rs_ca_fetches, rs_cert_accepts, rs_cert_refusals;
  double cert_issue_wall_s; /* wall time spent issuing device credentials (lazily) */
  /* tallies */
  WTally latency;        /* power-on -> USIM installed, s */
  WTally attach_latency; /* power-on -> first attach with the real IMSI, s */
  WTally access_latency; /* power-on -> temporary access granted (authenticated), s */
  WTally hold;           /* PIMSI allocation -> release, s */
  /* levels */
  WTimeAvg pimsi_in_use;         /* PIMSIs held by equipment */
  double av_busy_at_last_sample; /* server x s busy at the last sample (utilisation series) */
  SimTime exhausted_at;          /* first time the pool had no free PIMSI; -1 never */
  /* series */
  WSeries s_in_use, s_quarantined, s_av_queue, s_provisioned, s_av_util;
} WStats;

void wstats_init(WStats *s, bool quantiles);
void wstats_clear(WStats *s);
void wseries_add(WSeries *s, double t, double v);
