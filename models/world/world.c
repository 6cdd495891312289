/* The world builder (see include/m2m/world.h): scenario -> roles -> first events -> run
 * -> figures.
 *
 * What lives here and nowhere else: the role table (how the machinery reaches each role)
 * and the order roles are built in, the engine and the shared pools, the protocol DRBG,
 * faults (outages of the RS, a VO or an SHO, switched on and off by events through the
 * network layer), and the figures registry and series sampler the roles register with
 * (read by the results writer, --json and the summary alike, so they can never
 * disagree).
 *
 * Determinism: everything random comes from the streams (wrand.h) and the DRBG, both
 * from the seed; instances are kept in arrays in scenario order; nothing iterates a hash
 * table or looks at a pointer value or the wall clock (except engine.wall_s). */
#include "world-internal.h"

#include <math.h>
#include <openssl/crypto.h>
#include <string.h>
#include <sys/mman.h>

#include "device.h"
#include "manufacturer.h"
#include "net.h"
#include "owner.h"
#include "route.h"
#include "req.h"
#include "rs.h"
#include "sho.h"
#include "vo.h"
#include "wrand.h"

/* The role table: how the network layer and the request helper reach each role. A new
 * role is its own file, a row here, its pairs in net.c's links, and its scenario section. */
/* The order the roles are built in: the devices' table first (the others refer to it),
 * then the operators, the owners and the manufacturers (protocol bytes are drawn from the
 * DRBG in this order: a run's numbers depend on it). */
static const RoleKind build_order[ROLE_N] = {ROLE_DEV, ROLE_VO,    ROLE_RS,
                                             ROLE_SHO, ROLE_OWNER, ROLE_MFR};

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
  case SCN_TARGET_RS: /* the whole service: every site */
    for (uint32_t i = 0; i < route_n_sites(w); i++)
      net_set_down(w, net_addr(ROLE_RS, i), delta);
    break;
  case SCN_TARGET_SITE:
    net_set_down(w, net_addr(ROLE_RS, (uint32_t)f->target_index), delta);
    break;
  case SCN_TARGET_VO:
    net_set_down(w, net_addr(ROLE_VO, (uint32_t)f->target_index), delta);
    break;
  case SCN_TARGET_HO:
    net_set_down(w, net_addr(ROLE_SHO, (uint32_t)f->target_index), delta);
    break;
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

static double
engine_events(void *ctx)
{
  return (double)((World *)ctx)->events;
}

static double
engine_wall_s(void *ctx)
{
  return ((World *)ctx)->wall_s;
}

static double
engine_end_s(void *ctx)
{
  return sim_time_to_s(w_end(ctx));
}

void
w_check_settled(World *w)
{
  if (w->cfg->stop_when != SCN_STOP_SETTLED || w->settled)
    return;
  if (w->next_device < w->total_devices || w->n_settled < w->total_devices || req_live(w) > 0)
    return;
  w->settled = true;
  sim_stop(w->sim);
}

void
w_unit_settled(World *w)
{
  w->n_settled++;
  w_check_settled(w);
}

World *
world_new(const ScnConfig *cfg, GError **error)
{
  if (!check_supported(cfg, error))
    return NULL;
  g_autoptr(World) w = g_new0(World, 1);
  w->cfg = cfg;
  w->seed = cfg->seed;
  w->end = cfg->duration;
  wrng_init(&w->r_resend, w->seed, WR_VO, 0, 5); /* a VO purpose its own draws do not use */
  w->sim = sim_engine_new();
  aka_config_init(&w->aka);
  w->aka.ind_bits = cfg->registration_service.ind_bits;
  w->mil = mil_impl_best();
  w->drbg = rng_drbg_new(cfg->seed, "m2msim world protocol bytes");
  w->aka_rand = (AkaRandom){rng_drbg_fill_cb, w->drbg};
  w->kdf = kdf_ctx_new();
  w->seal = seal_ctx_new();
  if (w->kdf == NULL || w->seal == NULL) {
    g_set_error(error, WORLD_ERROR, WORLD_ERROR_SETUP, "cannot set up OpenSSL's HMAC / AES-GCM");
    return NULL;
  }
  w->msgs = idpool_new(sizeof(Msg));
  w->reqs = idpool_new(sizeof(Msg) + 32); /* req.c's records: a Msg and its bookkeeping */
  w->batches = idpool_new(cfg->registration_service.av_batch * sizeof(AkaVector));
  for (int r = 0; r < ROLE_N; r++) {
    w->roles[r] = role_table[r];
    if (role_table[r]->ctx_size > 0)
      w->ctx[r] = idpool_new(role_table[r]->ctx_size);
  }
  w->total_devices = scn_config_total_devices(cfg);
  /* Every role registers its figures and series here as it is built (role.h). */
  w->figs = stat_registry_new();
  w->sampler = stat_sampler_new(w->sim, cfg->output.series_interval, cfg->duration);

  w->n_vo = cfg->n_visited_operators;
  w->n_sho = cfg->n_home_operators;
  w->n_mfr = cfg->n_manufacturers;
  w->routes = route_new(w);
  if ((w->net = net_new(w, error)) == NULL)
    return NULL;
  net_start(w);
  for (size_t k = 0; k < ROLE_N; k++) {
    RoleKind kind = build_order[k];
    const RoleClass *rc = role_table[kind];
    size_t n = rc->instances == ROLE_ONE ? 1 : *(const size_t *)((const char *)cfg + rc->instances);
    w->inst[kind] = g_new0(void *, MAX(n, 1));
    for (size_t i = 0; i < n; i++, w->n_inst[kind]++)
      if ((w->inst[kind][i] = rc->create(w, (uint32_t)i, error)) == NULL)
        return NULL;
  }
  for (size_t k = 0; k < ROLE_N; k++) {
    RoleKind kind = build_order[k];
    if (role_table[kind]->start != NULL)
      for (size_t i = 0; i < w->n_inst[kind]; i++)
        role_table[kind]->start(w, w->inst[kind][i]);
  }
  for (size_t i = 0; i < cfg->n_faults; i++) {
    const ScnFault *f = &cfg->faults[i];
    sim_schedule_at(w->sim, f->at, fault_event, w, w_arg((uint32_t)i, 1));
    if (f->at + f->down_for < SIM_TIME_MAX - 1)
      sim_schedule_at(w->sim, f->at + f->down_for, fault_event, w, w_arg((uint32_t)i, 0));
  }
  stat_registry_value(w->figs, "engine.events", engine_events, w);
  stat_registry_value(w->figs, "engine.wall_s", engine_wall_s, w);
  stat_registry_value(w->figs, "engine.end_s", engine_end_s, w);
  stat_sampler_start(w->sampler);
  return g_steal_pointer(&w);
}

static void
clear_ctx(void *data, PoolId id, void *ctx)
{
  const RoleClass *rc = data;
  rc->ctx_clear(ctx);
}

void
world_free(World *w)
{
  if (w == NULL)
    return;
  /* Roles go in the reverse of the order they were built in. */
  for (size_t k = ROLE_N; k-- > 0;) {
    RoleKind kind = build_order[k];
    for (size_t i = w->n_inst[kind]; i-- > 0;)
      role_table[kind]->destroy(w->inst[kind][i]);
    g_free(w->inst[kind]);
  }
  stat_sampler_free(w->sampler); /* before the engine: it cancels its event */
  w->sampler = NULL;
  sim_engine_free(w->sim); /* after the RS: its resource cancels its events */
  net_drain(w);
  net_free(w->net);
  route_free(w->routes);
  idpool_free(w->msgs);
  if (w->reqs != NULL)
    req_drain(w);
  idpool_free(w->reqs);
  idpool_free(w->batches);
  for (int r = 0; r < ROLE_N; r++) {
    if (w->ctx[r] != NULL && w->roles[r]->ctx_clear != NULL)
      idpool_foreach(w->ctx[r], clear_ctx, (void *)w->roles[r]);
    idpool_free(w->ctx[r]);
  }
  stat_sampler_free(w->sampler);
  stat_registry_free(w->figs);
  fsm_log_free(w->log);
  rng_drbg_free(w->drbg);
  kdf_ctx_free(w->kdf);
  seal_ctx_free(w->seal);
  g_free(w);
}

void
world_set_profile(World *w, bool on)
{
  w->profile = on;
}

double
world_crypto_s(const World *w)
{
  return (double)w->crypto_ns / 1e9;
}

void
world_set_log(World *w, FILE *out)
{
  fsm_log_free(w->log);
  w->log = out ? fsm_log_new(out) : NULL;
}

void
world_foreach_memory(const World *w, WorldMemoryFn fn, void *data)
{
  fn(data, "engine (events, queue)", sim_memory(w->sim));
  fn(data, "messages in flight", idpool_memory(w->msgs));
  fn(data, "pending requests", idpool_memory(w->reqs));
  fn(data, "AV batches", idpool_memory(w->batches));
  for (int kind = 0; kind < ROLE_N; kind++) {
    const RoleClass *rc = role_table[kind];
    size_t n = 0;
    if (rc->memory != NULL)
      for (size_t i = 0; i < w->n_inst[kind]; i++)
        n += rc->memory(w, w->inst[kind][i]);
    if (n > 0)
      fn(data, rc->name, n);
    if (w->ctx[kind] != NULL) {
      g_autofree char *name = g_strdup_printf("%s contexts", rc->name);
      fn(data, name, idpool_memory(w->ctx[kind]));
    }
  }
}

double
world_device_bytes(const ScnConfig *cfg)
{
  double n = 0;
  for (int kind = 0; kind < ROLE_N; kind++)
    if (role_table[kind]->device_bytes != NULL)
      n += role_table[kind]->device_bytes(cfg);
  return n;
}

size_t
w_memory(const World *w)
{
  size_t n = idpool_memory(w->msgs) + idpool_memory(w->reqs) + idpool_memory(w->batches);
  for (int kind = 0; kind < ROLE_N; kind++) {
    if (w->ctx[kind] != NULL)
      n += idpool_memory(w->ctx[kind]);
    if (role_table[kind]->memory != NULL)
      for (size_t i = 0; i < w->n_inst[kind]; i++)
        n += role_table[kind]->memory(w, w->inst[kind][i]);
  }
  return n;
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
  for (int i = 1; i <= SLICES && !w->settled; i++) {
    SimTime until = i == SLICES ? end : (SimTime)((double)end * i / SLICES);
    sim_run_until(w->sim, until);
    if (progress)
      progress(data, sim_now(w->sim), end, sim_events_executed(w->sim));
  }
  if (w->settled) { /* stop_when: settled: the run ends here, the last sample now */
    w->end = sim_now(w->sim);
    stat_sampler_finish(w->sampler);
  }
  w->events = sim_events_executed(w->sim);
  w->wall_s = (double)(g_get_monotonic_time() - t0) / 1e6;
  w->ran = true;
  return w->events;
}

/* ---- figures ------------------------------------------------------------------------ */

void
world_foreach_scalar(World *w, WorldScalarFn fn, void *data)
{
  stat_registry_foreach(w->figs, fn, data);
}

void
world_foreach_scalar_name(World *w, WorldNameFn fn, void *data)
{
  stat_registry_foreach_name(w->figs, fn, data);
}

void
world_foreach_series(World *w, WorldSeriesFn fn, void *data)
{
  const StatSampler *sm = w->sampler;
  for (size_t p = 0; p < stat_sampler_n_probes(sm); p++)
    for (size_t row = 0; row < stat_sampler_n_rows(sm); row++)
      if (!fn(data, stat_sampler_probe_name(sm, p), sim_time_to_s(stat_sampler_time(sm, row)),
              stat_sampler_value(sm, row, p)))
        return;
  /* The latency distribution as a CDF: t = a latency (s), value = the fraction of
   * provisioned devices provisioned within it, at every percentile (the tally's quantiles:
   * exact up to output.quantile_exact_max samples, else within its sketch's accuracy). */
  StatSamples *lat = stat_registry_samples_of(w->figs, "provision.latency");
  if (lat != NULL && lat->tally.n > 0)
    for (int pct = 1; pct <= 100; pct++) {
      double q = pct / 100.0;
      double t = pct == 100 ? lat->tally.max : stat_samples_quantile(lat, q);
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

static void
collect_figure(void *data, const char *name, double value)
{
  double *v = g_new(double, 1);
  *v = value;
  g_hash_table_insert(data, g_strdup(name), v);
}

/* A figure read once (NAN when absent). */
static double
figure_of(GHashTable *figs, const char *name)
{
  const double *v = g_hash_table_lookup(figs, name);
  return v ? *v : NAN;
}

void
world_summary(const World *w_, WorldSummary *o)
{
  World *w = (World *)w_; /* quantiles sort their samples once */
  StatRegistry *r = w->figs;
  /* Every figure read once: the Kaplan-Meier ones pass over the device table. */
  g_autoptr(GHashTable) figs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  stat_registry_foreach(r, collect_figure, figs);
#define F(name) figure_of(figs, name)
#define N(name) (isnan(F(name)) ? 0 : (uint64_t)F(name))
  memset(o, 0, sizeof *o);
  o->produced = N("devices.produced");
  o->manufactured = N("devices.manufactured");
  o->factory_usim = N("devices.factory_usim");
  o->awaiting_pimsi = N("devices.awaiting_pimsi");
  o->provisioned = N("devices.provisioned");
  o->failed = N("devices.failed");
  o->in_progress = N("devices.in_progress");
  o->powered_on = N("devices.powered_on");
  o->not_powered_on = N("devices.not_powered_on");
  o->attaching = N("devices.attaching");
  o->waiting_sho = N("devices.waiting_sho");
  o->downloading = N("devices.downloading");
  o->latency_p50_s = F("provision.latency.p50");
  o->latency_p95_s = F("provision.latency.p95");
  o->latency_p99_s = F("provision.latency.p99");
  o->latency_km_p50_s = F("provision.latency_km.p50");
  o->latency_km_p95_s = F("provision.latency_km.p95");
  o->latency_km_p99_s = F("provision.latency_km.p99");
  o->latency_km_p50_lo_s = F("provision.latency_km.p50_lo");
  o->latency_km_p50_hi_s = F("provision.latency_km.p50_hi");
  o->av_requests = N("rs.av.requests");
  o->av_vectors = N("rs.av.vectors");
  o->av_wait_mean_s = F("rs.av.wait_mean");
  o->av_utilization = F("rs.av.utilization");
  o->av_utilization_peak = F("rs.av.utilization_peak");
  o->av_rate_peak = F("rs.av.rate_peak");
  o->av_queue_peak = N("rs.av.queue_peak");
  o->cert_check_wait_mean_s = F("rs.cert_check.wait_mean");
  o->pool_held_peak = N("rs.pimsi.held_peak");
  o->pool_size = N("rs.pimsi.pool_size");
  o->pool_in_use_peak = N("rs.pimsi.in_use_peak");
  o->pool_blocked = N("rs.pimsi.blocked");
  o->pool_exhausted_at_s = F("rs.pimsi.exhausted_at");
  o->aka_failures = N("aka.failures");
  o->aka_resyncs = N("aka.resyncs");
  o->rs_timeouts = N("rs.timeouts");
  o->vo_refusals = N("vo.refusals");
  o->certificates = w_uses_certificates(w->cfg);
  o->cert_issued = N("cert.issued");
  o->cert_accepted = N("cert.accepted");
  o->cert_refused = N("cert.refused_expired") + N("cert.refused_revoked") +
                    N("cert.refused_signature") + N("cert.refused_other");
  o->cert_rs_checks = N("rs.cert_accepts") + N("rs.cert_refusals");
  o->cert_bundles = N("rs.ca_fetches");
#undef F
#undef N
  o->events = w->events;
  o->end_s = sim_time_to_s(w_end(w));
  o->settled = w->settled;
  o->wall_s = w->wall_s;
  o->bytes_per_device = w->total_devices ? w_memory(w) / w->total_devices : 0;
}
