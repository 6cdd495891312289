/* The world builder (see include/m2m/world.h): scenario -> entities -> first events ->
 * run -> figures.
 *
 * What lives here and nowhere else: the engine and the shared pools, the protocol DRBG,
 * faults (outages of the RS, a VO or an SHO, switched on and off by events), the
 * time-series sampler, and the list of scalars a run records (one function, used by the
 * results writer, --json and the summary alike, so they can never disagree).
 *
 * Determinism: everything random comes from the streams (wrand.h) and the DRBG, both
 * from the seed; entities are kept in arrays in scenario order; nothing iterates a hash
 * table or looks at a pointer value or the wall clock (except engine.wall_s). */
#include "world-internal.h"

#include <math.h>
#include <openssl/crypto.h>
#include <string.h>
#include <sys/mman.h>

#include "device.h"
#include "m2m/kdf.h"
#include "manufacturer.h"
#include "net.h"
#include "owner.h"
#include "req.h"
#include "rs.h"
#include "sho.h"
#include "vo.h"
#include "wcert.h"
#include "wrand.h"

/* The role table: how the network layer and the request helper reach each role. A new
 * role is its own file, a row here, its pairs in net.c's links, and its scenario section. */
static const RoleClass *const role_table[ROLE_N] = {
    [ROLE_RS] = &rs_role,   [ROLE_VO] = &vo_role,       [ROLE_SHO] = &sho_role,
    [ROLE_MFR] = &mfr_role, [ROLE_OWNER] = &owner_role, [ROLE_DEV] = &dev_role,
};

/* clang-format off */
G_DEFINE_QUARK(m2m-world-error-quark, world_error)
/* clang-format on */

void *
w_big_new0(size_t n, size_t size)
{
  if (n == 0)
    n = 1;
  if (size != 0 && n > SIZE_MAX / size)
    return NULL;
  size_t len = n * size;
  void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return NULL;
#ifdef MADV_HUGEPAGE
  madvise(p, len, MADV_HUGEPAGE); /* a hint: failure is harmless */
#endif
  return p;
}

void
w_big_free(void *p, size_t n, size_t size)
{
  if (p != NULL)
    munmap(p, (n ? n : 1) * size);
}

/* ---- faults and series --------------------------------------------------------------- */

static void
fault_event(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  const ScnFault *f = &w->cfg->faults[w_lo(arg)];
  int delta = w_hi(arg) ? +1 : -1;
  switch (f->target_kind) {
  case SCN_TARGET_RS:
    net_set_down(w, net_addr(ROLE_RS, 0), delta);
    break;
  case SCN_TARGET_VO:
    net_set_down(w, net_addr(ROLE_VO, (uint32_t)f->target_index), delta);
    break;
  case SCN_TARGET_HO:
    net_set_down(w, net_addr(ROLE_SHO, (uint32_t)f->target_index), delta);
    break;
  }
}

/* Server x seconds the AV servers have been busy since the start. */
static double
busy_area(const World *w, SimTime now)
{
  return sim_resource_utilisation(rs_av_resource(w)) * (double)rs_av_servers(w) *
         sim_time_to_s(now);
}

static void
sample_event(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  SimTime now = w_now(w);
  double t = sim_time_to_s(now);
  double in_use, quarantined, queue;
  rs_sample(w, &in_use, &quarantined, &queue);
  wseries_add(&w->st.s_in_use, t, in_use);
  wseries_add(&w->st.s_quarantined, t, quarantined);
  wseries_add(&w->st.s_av_queue, t, queue);
  wseries_add(&w->st.s_provisioned, t, (double)(w->st.provisioned + w->st.factory_usim));
  double area = busy_area(w, now);
  double util = 0;
  SimTime iv = w->cfg->output.series_interval;
  if (now > 0) {
    SimTime span = MIN(iv, now);
    util = (area - w->st.av_busy_at_last_sample) / ((double)rs_av_servers(w) * sim_time_to_s(span));
  }
  w->st.av_busy_at_last_sample = area;
  wseries_add(&w->st.s_av_util, t, util);
  if (now < w->cfg->duration) {
    SimTime next = MIN(now + iv, w->cfg->duration);
    sim_schedule_at(w->sim, next, sample_event, w, 0);
  }
}

/* ---- build ----------------------------------------------------------------------- */

static bool
check_supported(const ScnConfig *cfg, GError **error)
{
  if (cfg->registration_service.ind_bits > AKA_IND_BITS_MAX) {
    g_set_error(error, WORLD_ERROR, WORLD_ERROR_UNSUPPORTED,
                "registration_service.ind_bits: %u is more than the %d the AKA core "
                "supports",
                cfg->registration_service.ind_bits, AKA_IND_BITS_MAX);
    return false;
  }
  /* X.509 dates end with the year 9999 and simulated time 0 is 2030-01-01 (cert.h): the
   * RS's root must cover the run and the last certificate's lifetime. */
  const SimTime x509_span = (SimTime)7900 * 365 * SIM_D;
  bool certs = cfg->registration_service.auth == SCN_AUTH_CERTIFICATE;
  for (size_t i = 0; i < cfg->n_home_operators; i++)
    certs |= cfg->home_operators[i].authenticate == SCN_SHO_AUTH_CERTIFICATE;
  if (certs && (cfg->registration_service.cert_lifetime > x509_span ||
                cfg->duration > x509_span - cfg->registration_service.cert_lifetime)) {
    g_set_error(error, WORLD_ERROR, WORLD_ERROR_UNSUPPORTED,
                "registration_service.cert_lifetime: duration + cert_lifetime must stay under "
                "7900 years (X.509 dates end in 9999; simulated time starts in 2030)");
    return false;
  }
  if (cfg->n_visited_operators > W_MAX_VO) {
    g_set_error(error, WORLD_ERROR, WORLD_ERROR_UNSUPPORTED,
                "visited_operators: at most %d are supported (%zu given)", W_MAX_VO,
                cfg->n_visited_operators);
    return false;
  }
  if (cfg->n_home_operators > 999) {
    g_set_error(error, WORLD_ERROR, WORLD_ERROR_UNSUPPORTED,
                "home_operators: at most 999 are supported (%zu given)", cfg->n_home_operators);
    return false;
  }
  uint64_t total = scn_config_total_devices(cfg);
  if (total > UINT32_MAX - 2) {
    g_set_error(error, WORLD_ERROR, WORLD_ERROR_UNSUPPORTED,
                "manufacturers: %" G_GUINT64_FORMAT " devices in all; at most %u are "
                "supported",
                total, UINT32_MAX - 2);
    return false;
  }
  return true;
}

World *
world_new(const ScnConfig *cfg, GError **error)
{
  if (!check_supported(cfg, error))
    return NULL;
  g_autoptr(World) w = g_new0(World, 1);
  w->cfg = cfg;
  w->seed = cfg->seed;
  w->sim = sim_engine_new();
  aka_config_init(&w->aka);
  w->aka.ind_bits = cfg->registration_service.ind_bits;
  w->mil = mil_impl_best();
  w->drbg = rng_drbg_new(cfg->seed, "m2msim world protocol bytes");
  w->aka_rand = (AkaRandom){rng_drbg_fill_cb, w->drbg};
  w->msgs = idpool_new(sizeof(Msg));
  w->reqs = idpool_new(sizeof(Msg) + 32); /* req.c's records: a Msg and its bookkeeping */
  w->batches = idpool_new(cfg->registration_service.av_batch * sizeof(AkaVector));
  for (int r = 0; r < ROLE_N; r++) {
    w->roles[r] = role_table[r];
    if (role_table[r]->ctx_size > 0)
      w->ctx[r] = idpool_new(role_table[r]->ctx_size);
  }
  w->total_devices = scn_config_total_devices(cfg);
  wstats_init(&w->st, true);

  w->n_vo = cfg->n_visited_operators;
  w->n_sho = cfg->n_home_operators;
  w->n_mfr = cfg->n_manufacturers;
  if ((w->net = net_new(w, error)) == NULL)
    return NULL;
  if ((w->devs = dev_table_new(w, w->total_devices, error)) == NULL)
    return NULL;
  w->vos = g_new0(Vo *, w->n_vo);
  for (size_t i = 0; i < w->n_vo; i++)
    if ((w->vos[i] = vo_new(w, (uint32_t)i, error)) == NULL)
      return NULL;
  if ((w->rs = rs_new(w, error)) == NULL)
    return NULL;
  w->shos = g_new0(Sho *, w->n_sho);
  for (size_t i = 0; i < w->n_sho; i++)
    if ((w->shos[i] = sho_new(w, (uint32_t)i, error)) == NULL)
      return NULL;
  GError *cert_error = NULL;
  w->cert = wcert_new(w, &cert_error);
  if (cert_error != NULL) {
    g_propagate_error(error, cert_error);
    return NULL;
  }
  if (w->cert != NULL) {
    for (size_t i = 0; i < w->n_vo; i++)
      wcert_set_ready(w, (uint32_t)i, vo_ca_ready);
    for (size_t i = 0; i < w->n_sho; i++)
      wcert_set_ready(w, wcert_sho_trust(w, (uint32_t)i), sho_ca_ready);
  }
  if ((w->owners = owners_new(w, error)) == NULL)
    return NULL;
  w->mfrs = g_new0(Mfr *, w->n_mfr);
  for (size_t i = 0; i < w->n_mfr; i++)
    if ((w->mfrs[i] = mfr_new(w, (uint32_t)i, error)) == NULL)
      return NULL;

  for (size_t i = 0; i < w->n_mfr; i++)
    mfr_start(w, (uint32_t)i);
  for (size_t i = 0; i < cfg->n_faults; i++) {
    const ScnFault *f = &cfg->faults[i];
    sim_schedule_at(w->sim, f->at, fault_event, w, w_arg((uint32_t)i, 1));
    if (f->at + f->down_for < SIM_TIME_MAX - 1)
      sim_schedule_at(w->sim, f->at + f->down_for, fault_event, w, w_arg((uint32_t)i, 0));
  }
  sim_schedule_at(w->sim, 0, sample_event, w, 0);
  return g_steal_pointer(&w);
}

void
world_free(World *w)
{
  if (w == NULL)
    return;
  if (w->mfrs)
    for (size_t i = 0; i < w->n_mfr; i++)
      mfr_free(w->mfrs[i]);
  g_free(w->mfrs);
  owners_free(w->owners);
  if (w->shos)
    for (size_t i = 0; i < w->n_sho; i++)
      sho_free(w->shos[i]);
  g_free(w->shos);
  wcert_free(w->cert);
  rs_free(w->rs);
  if (w->vos)
    for (size_t i = 0; i < w->n_vo; i++)
      vo_free(w->vos[i]);
  g_free(w->vos);
  dev_table_free(w->devs);
  sim_engine_free(w->sim); /* after the RS: its resource cancels its events */
  net_drain(w);
  net_free(w->net);
  idpool_free(w->msgs);
  idpool_free(w->reqs);
  idpool_free(w->batches);
  for (int r = 0; r < ROLE_N; r++)
    idpool_free(w->ctx[r]);
  wstats_clear(&w->st);
  fsm_log_free(w->log);
  rng_drbg_free(w->drbg);
  g_free(w);
}

void
world_set_log(World *w, FILE *out)
{
  fsm_log_free(w->log);
  w->log = out ? fsm_log_new(out) : NULL;
}

size_t
w_memory(const World *w)
{
  return dev_memory(w) + rs_memory(w) + vo_memory(w) + sho_memory(w) + idpool_memory(w->msgs) +
         idpool_memory(w->reqs) + idpool_memory(w->batches);
}

uint64_t
world_run(World *w, WorldProgressFn progress, void *data)
{
  g_return_val_if_fail(!w->ran, 0);
  gint64 t0 = g_get_monotonic_time();
  SimTime end = w->cfg->duration;
  /* Run in slices of simulated time so the progress callback is called regularly
   * without a check per event. */
  enum { SLICES = 1000 };
  for (int i = 1; i <= SLICES; i++) {
    SimTime until = i == SLICES ? end : (SimTime)((double)end * i / SLICES);
    sim_run_until(w->sim, until);
    if (progress)
      progress(data, sim_now(w->sim), end, sim_events_executed(w->sim));
  }
  w->events = sim_events_executed(w->sim);
  w->wall_s = (double)(g_get_monotonic_time() - t0) / 1e6;
  w->ran = true;
  wtavg_set(&w->st.pimsi_in_use, end, w->st.pimsi_in_use.level);
  return w->events;
}

/* ---- figures ------------------------------------------------------------------------ */

static void
tally_scalars(WTally *t, const char *prefix, bool mean_max, WorldScalarFn fn, void *data)
{
  if (t->n == 0)
    return;
  char name[96];
  if (mean_max) {
    g_snprintf(name, sizeof name, "%s.mean", prefix);
    fn(data, name, wtally_mean(t));
  }
  static const struct {
    const char *suffix;
    double q;
  } qs[] = {{"p50", 0.50}, {"p95", 0.95}, {"p99", 0.99}};
  for (size_t i = 0; i < G_N_ELEMENTS(qs); i++) {
    g_snprintf(name, sizeof name, "%s.%s", prefix, qs[i].suffix);
    fn(data, name, wtally_quantile(t, qs[i].q));
  }
  if (mean_max) {
    g_snprintf(name, sizeof name, "%s.max", prefix);
    fn(data, name, t->max);
  }
}

void
world_foreach_scalar(World *w, WorldScalarFn fn, void *data)
{
  WStats *s = &w->st;
  SimTime end = w->cfg->duration;
  uint64_t manufactured, provisioned, failed, in_progress;
  dev_count(w, &manufactured, &provisioned, &failed, &in_progress);
#define S(name, v) fn(data, name, (double)(v))
  S("devices.produced", s->produced);
  S("devices.manufactured", manufactured);
  S("devices.via_rs", s->via_rs);
  S("devices.factory_usim", s->factory_usim);
  S("devices.awaiting_pimsi", s->produced - manufactured);
  S("devices.powered_on", s->powered_on);
  S("devices.provisioned", provisioned);
  S("devices.failed", failed);
  S("devices.failed_mac", s->failed_mac);
  S("devices.failed_attempts", s->failed_attempts);
  S("devices.in_progress", in_progress);
  S("devices.attached_real", s->attached_real);
  S("devices.timeouts", s->dev_timeouts);
  S("devices.no_sho_retries", s->dev_no_sho_retries);
  tally_scalars(&s->latency, "provision.latency", true, fn, data);
  tally_scalars(&s->attach_latency, "provision.attach_latency", true, fn, data);
  tally_scalars(&s->access_latency, "provision.access_latency", true, fn, data);
  S("rs.av.requests", s->av_requests);
  S("rs.av.vectors", s->av_vectors);
  S("rs.av.resync_requests", s->av_resync_requests);
  SimResource *av = rs_av_resource(w);
  const StatTally *wait = sim_resource_wait_tally(av);
  if (wait->n > 0) {
    S("rs.av.wait_mean", stat_tally_mean(wait) / 1e6);
    S("rs.av.wait_p99", stat_quantiles_get(sim_resource_wait_quantiles(av), 0.99) / 1e6);
  }
  S("rs.av.utilization", sim_resource_utilisation(av));
  S("rs.av.queue_mean", sim_resource_mean_queue_length(av));
  S("rs.pimsi.pool_size", rs_pool_size(w));
  S("rs.pimsi.allocated", rs_pool_allocated(w));
  S("rs.pimsi.in_use_mean", wtavg_mean(&s->pimsi_in_use, end));
  S("rs.pimsi.in_use_peak", s->pimsi_in_use.peak);
  S("rs.pimsi.quarantined_mean", rs_quarantined_mean(w));
  if (s->hold.n > 0)
    S("rs.pimsi.hold_mean", wtally_mean(&s->hold));
  if (s->exhausted_at >= 0)
    S("rs.pimsi.exhausted_at", sim_time_to_s(s->exhausted_at));
  S("rs.pimsi.blocked", rs_pool_blocked(w));
  S("rs.pimsi.released", s->rs_releases);
  S("rs.pimsi.orphaned", s->rs_orphaned);
  S("rs.registrations", s->rs_registrations);
  S("rs.sho_registrations", s->rs_sho_registrations);
  S("rs.lookups", s->rs_lookups);
  S("rs.lookups_no_sho", s->rs_no_sho);
  S("rs.lookups_refused", s->rs_lookup_refused);
  S("rs.dropped", s->rs_dropped);
  S("rs.timeouts", s->rs_timeouts);
  S("vo.attaches", s->vo_attaches);
  S("vo.refusals", s->vo_refusals);
  S("vo.spare_used", s->vo_spare_used);
  S("vo.dropped", s->vo_dropped);
  S("vo.gave_up", s->vo_timeouts_given_up);
  S("aka.successes", s->aka_ok);
  S("aka.failures", s->aka_failures);
  S("aka.res_mismatch", s->aka_res_mismatch);
  S("aka.resyncs", s->aka_resyncs);
  S("sho.downloads", s->sho_downloads);
  S("sho.refusals", s->sho_refusals);
  S("sho.dropped", s->sho_dropped);
  S("sho.timeouts", s->sho_timeouts);
  S("sho.seal_failures", s->seal_failures);
  bool sho_auth = false;
  for (size_t i = 0; i < w->n_sho; i++)
    sho_auth |= w->cfg->home_operators[i].authenticate != SCN_SHO_AUTH_NONE;
  if (sho_auth) {
    S("sho.auth_ok", s->sho_auth_ok);
    S("sho.auth_failures", s->sho_auth_failures);
    S("sho.av_requests", s->sho_av_requests);
  }
  if (w->cert != NULL) {
    S("cert.issued", s->cert_issued);
    S("cert.issue_wall_s", s->cert_issue_wall_s);
    S("cert.revoked", s->cert_revoked);
    S("cert.verifications", s->cert_verifications);
    S("cert.accepted", s->cert_accepted);
    S("cert.refused_expired", s->cert_refused_expired);
    S("cert.refused_revoked", s->cert_refused_revoked);
    S("cert.refused_signature", s->cert_refused_signature);
    S("cert.refused_other", s->cert_refused_other);
    S("rs.ca_fetches", s->rs_ca_fetches);
    S("rs.cert_accepts", s->rs_cert_accepts);
    S("rs.cert_refusals", s->rs_cert_refusals);
  }
  S("owner.timeouts", s->owner_timeouts);
  S("manufacturer.timeouts", s->mfr_timeouts);
  S("engine.events", w->events);
  S("engine.wall_s", w->wall_s);
#undef S
}

void
world_foreach_series(World *w, WorldSeriesFn fn, void *data)
{
  WSeries *series[] = {&w->st.s_in_use, &w->st.s_quarantined, &w->st.s_av_queue,
                       &w->st.s_provisioned, &w->st.s_av_util};
  for (size_t i = 0; i < G_N_ELEMENTS(series); i++)
    for (guint k = 0; k < series[i]->t->len; k++)
      if (!fn(data, series[i]->name, g_array_index(series[i]->t, double, k),
              g_array_index(series[i]->v, double, k)))
        return;
  /* The latency distribution as a CDF: t = a latency (s), value = the fraction of
   * provisioned devices provisioned within it, at every percentile (the tally's quantiles:
   * exact up to output.quantile_exact_max samples, else within its sketch's accuracy). */
  if (w->st.latency.n > 0)
    for (int pct = 1; pct <= 100; pct++) {
      double q = pct / 100.0;
      double t = pct == 100 ? w->st.latency.max : wtally_quantile(&w->st.latency, q);
      if (!fn(data, "provision.latency.cdf", t, q))
        return;
    }
}

const ScnConfig *
world_config(const World *w)
{
  return w->cfg;
}

double
world_wall_s(const World *w)
{
  return w->wall_s;
}

void
world_summary(const World *w_, WorldSummary *o)
{
  World *w = (World *)w_; /* quantiles sort their samples once */
  WStats *s = &w->st;
  memset(o, 0, sizeof *o);
  o->produced = s->produced;
  dev_count(w, &o->manufactured, &o->provisioned, &o->failed, &o->in_progress);
  o->latency_p50_s = wtally_quantile(&s->latency, 0.50);
  o->latency_p95_s = wtally_quantile(&s->latency, 0.95);
  o->latency_p99_s = wtally_quantile(&s->latency, 0.99);
  o->av_requests = s->av_requests;
  o->av_vectors = s->av_vectors;
  o->av_wait_mean_s = stat_tally_mean(sim_resource_wait_tally(rs_av_resource(w))) / 1e6;
  o->av_utilization = sim_resource_utilisation(rs_av_resource(w));
  o->pool_size = rs_pool_size(w);
  o->pool_in_use_peak = (uint64_t)s->pimsi_in_use.peak;
  o->pool_blocked = rs_pool_blocked(w);
  o->pool_exhausted_at_s = s->exhausted_at >= 0 ? sim_time_to_s(s->exhausted_at) : NAN;
  o->aka_failures = s->aka_failures;
  o->aka_resyncs = s->aka_resyncs;
  o->rs_timeouts = s->rs_timeouts;
  o->vo_refusals = s->vo_refusals;
  o->certificates = w->cert != NULL;
  o->cert_issued = s->cert_issued;
  o->cert_accepted = s->cert_accepted;
  o->cert_refused = s->cert_refused_expired + s->cert_refused_revoked + s->cert_refused_signature +
                    s->cert_refused_other;
  o->cert_rs_checks = s->rs_cert_accepts + s->rs_cert_refusals;
  o->cert_bundles = s->rs_ca_fetches;
  o->events = w->events;
  o->wall_s = w->wall_s;
  o->bytes_per_device = w->total_devices ? w_memory(w) / w->total_devices : 0;
}
