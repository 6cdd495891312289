/* The Registration Service (see rs.h).
 *
 * Records: one RsRecord (one cache line) per PIMSI index (the pool hands out never-used indices in
 * ascending order before it reuses any, so min(pool size, devices) records suffice),
 * with the preliminary K and OPc (OPc = OP xor E_K(OP) under the RS's own OP, all from
 * the DRBG), SEQ_HE, the device and its SHO.
 *
 * AV generation is a c-server FIFO queue: an AV request (or a resynchronisation, which
 * is an AV request carrying an AUTS) waits for one of `av_servers` servers, holds it for
 * av_service_time, and only then is computed (aka_he_generate, av_batch vectors, IND of
 * the requesting VO) and answered. Other RS work (registrations, the device's secured
 * connection, key requests, releases) does not occupy the AV servers: it is done when
 * the request arrives (an RS that is down drops it) and its answer leaves
 * register_service_time later (infinite servers; one event per request).
 *
 * Authenticated devices: the device proves K_RS = KDF(CK || IK, PIMSI, RAND); the RS
 * recomputes CK and IK from its own K/OPc and the RAND (f3, f4 of TS 35.206 do not
 * depend on SQN), and accepts only PIMSIs for which it has issued AVs. A wrong proof, an
 * unknown PIMSI and "no SHO yet" get the same answer, so an unauthenticated device
 * learns nothing.
 *
 * With registration_service.auth: certificate the RS serves no AVs to VOs. It is the CA
 * (cert.h): a device's credentials are issued at registration (made at first use by the
 * device; revoked_fraction of them are revoked at once), its trust bundle goes to the
 * operators' verifiers (verifier.h), and on the secured connection it checks the
 * device's attach proof again (its certificate against the current revocations, the
 * signature) and derives the session master by ECDH, a check that holds one of the
 * av_servers for cert_check_time; K_RS and K_SHO come from that master as they come from
 * CK || IK after AKA. An SHO that authenticates with AKA (home_operators[].authenticate:
 * aka) gets its AV from the same AV servers, with an IND of its own (n_vo + SHO index). */
#include "rs.h"

#include <math.h>
#include <openssl/crypto.h>
#include <string.h>

#include "m2m/kdf.h"
#include "m2m/pools.h"
#include "m2m/resource.h"
#include "m2m/cert.h"
#include "net.h"
#include "wrand.h"

typedef enum { R_FREE, R_ALLOCATED, R_DONE, R_EXPIRED, R_N } RecState;

/* A PIMSI record's life: FREE -(ALLOCATE)-> ALLOCATED -(RELEASE)-> FREE again
 * (recycling) or DONE (never recycled). With pimsi_validity, an allocation not used by
 * an authentication within it EXPIREs (its device is refused from then on) and is
 * RECLAIMed into the pool pimsi_validity_grace later (through the quarantine, whatever
 * pimsi_recycle says: a PIMSI never used was never anyone's identity on a network). */
typedef enum { E_ALLOCATE, E_RELEASE, E_EXPIRE, E_RECLAIM, E_N } RecEvent;
static const char *const rec_events[E_N] = {"ALLOCATE", "RELEASE", "EXPIRE", "RECLAIM"};
static void rec_allocate(void *ctx, uint64_t id, unsigned event, void *data);
static void rec_allocated(void *ctx, uint64_t id, unsigned event, void *data);
static void rec_reclaim(void *ctx, uint64_t id, unsigned event, void *data);
static const FsmState rec_states[R_N] = {
    [R_FREE] = {"FREE", FSM_BIT(E_ALLOCATE), 1u << R_ALLOCATED, rec_allocate, 0},
    [R_ALLOCATED] = {"ALLOCATED", FSM_BIT(E_RELEASE) | FSM_BIT(E_EXPIRE),
                     (1u << R_FREE) | (1u << R_DONE) | (1u << R_EXPIRED), rec_allocated, 0},
    [R_DONE] = {"DONE", 0, 0, NULL, 0},
    [R_EXPIRED] = {"EXPIRED", FSM_BIT(E_RECLAIM), 1u << R_FREE, rec_reclaim, 0},
};

/* registered[dev] of a device whose PIMSI expired and went back to the pool. */
#define RS_EXPIRED_MARK UINT32_MAX
static const FsmDef rec_def = {
    "RegistrationService.pimsi", rec_states, R_N, rec_events, E_N, NULL, 0};

/* A request the RS holds while its AV servers work on it (an AV request, or with
 * certificates the check of a device's proof): the message as it arrived. */
typedef struct {
  Msg req;
} RsJob;

/* A level's integral at the previous sample of a series. */
typedef struct {
  SimTime t;
  double integral;
} IntervalMean;

/* One PIMSI's record: one cache line (the table is page aligned). */
typedef struct {
  uint8_t state;     /* RecState */
  uint8_t av_issued; /* REC_USED: AVs generated for this allocation (or the proof accepted);
                        REC_STALE: several sites, the last AVs came from a stale SQN_HE copy */
  uint16_t sho;      /* SHO index + 1, 0 = none yet */
  uint32_t dev;      /* device holding the PIMSI */
  uint64_t seq_he;   /* SEQ_HE (TS 33.102 Annex C.1.2) */
  SimTime t_alloc;   /* us */
  PoolId conn;       /* the secured connection up (its verified proof of K_RS), or none */
  AkaKeys keys;      /* preliminary K, OPc */
} RsRecord;
G_STATIC_ASSERT(sizeof(RsRecord) == 64);

enum { REC_USED = 1, REC_STALE = 2 };

/* What one site counts (several sites: rs.sites.NAME.*). */
typedef struct {
  uint64_t requests, vectors, dropped;
} RsSiteFigures;

#define RS_SITE_COUNTERS "requests", "vectors", "dropped"

/* One site's computed figures: probes[i] = {site, i}. */
typedef enum { SV_WAIT_MEAN, SV_WAIT_P99, SV_UTILISATION, SV_UTILISATION_PEAK, SV_QUEUE_PEAK,
               SV_N } RsSiteValue;

typedef struct RsSite RsSite;
typedef struct {
  RsSite *site;
  RsSiteValue what;
} RsSiteProbe;

/* A site: its AV servers and their service time, and what it counts. The pool, the
 * records and the secured connections are the service's, shared by every site; each site
 * has its own copy of every SQN_HE (Rs.seq_copy). */
struct RsSite {
  RsSiteFigures fig;
  SimResource *av;          /* its AV servers: c-server FIFO station (resource.h) */
  const DistSpec *service;  /* av_service_time */
  WRng r_av;                /* service times, certificate checks */
  RsSiteProbe probes[SV_N];
};

/* What the RS counts. */
typedef struct {
  uint64_t av_requests, av_vectors, resync_requests, resyncs, dropped, lookups, no_sho;
  uint64_t lookup_refused, registrations, sho_registrations, releases, repeated;
} RsFigures;

/* What pimsi_validity does (scenarios that set it only). */
typedef struct {
  uint64_t expired, reclaimed, refused;
} RsValidityFigures;

#define RS_VALIDITY_FIGURES "rs.pimsi.expired rs.pimsi.reclaimed rs.pimsi.expired_refusals"

#define RS_FIGURES                                                                                 \
  "rs.av.requests rs.av.vectors rs.av.resync_requests aka.resyncs rs.dropped rs.lookups "          \
  "rs.lookups_no_sho rs.lookups_refused rs.registrations rs.sho_registrations rs.pimsi.released "  \
  "rs.registrations_repeated"

/* What the RS counts as certificate authority (certificate runs only). */
typedef struct {
  uint64_t revoked, ca_fetches, accepts, refusals;
} RsCaFigures;

#define RS_CA_FIGURES "cert.revoked rs.ca_fetches rs.cert_accepts rs.cert_refusals"

/* The RS's computed figures, by name: probes[i] = {rs, i} reads value i. */
typedef enum {
  V_WAIT_MEAN,
  V_WAIT_P99,
  V_UTILISATION,
  V_QUEUE_MEAN,
  V_POOL_SIZE,
  V_ALLOCATED,
  V_IN_USE_MEAN,
  V_IN_USE_PEAK,
  V_QUARANTINED_MEAN,
  V_HOLD_MEAN,
  V_EXHAUSTED_AT,
  V_BLOCKED,
  V_UTILISATION_PEAK,
  V_QUEUE_PEAK,
  V_RATE_PEAK,
  V_HELD_PEAK,
  V_CERT_WAIT_MEAN,
  V_CERT_WAIT_P99,
  V_FRONT_WAIT_MEAN,
  V_FRONT_WAIT_P99,
  V_FRONT_UTILISATION,
  V_FRONT_UTILISATION_PEAK,
  V_FRONT_QUEUE_PEAK,
  V_TURNOVER,
  V_N
} RsValue;

typedef struct {
  Rs *rs;
  RsValue what;
} RsProbe;

struct Rs {
  RsFigures fig;
  RsValidityFigures vfig;
  IdPool *conns;        /* open secured connections: the device's verified proof of K_RS (16 B) */
  uint32_t *registered; /* per device: its PIMSI index + 1, 0 = not registered (yet) */
  uint64_t n_dev;
  RsProbe probes[V_N]; /* the computed figures (value()) */
  RsCaFigures ca_fig;
  uint64_t resyncs_replication; /* several sites: resyncs after AVs from a stale SQN_HE copy */
  CertCa *ca;         /* the RS as certificate authority; NULL when no certificates */
  GHashTable *master; /* device id -> the session master of its accepted proof (32 octets) */
  WRng r_revoke;
  World *w;
  StatLevel in_use;                       /* PIMSIs held by equipment */
  SimTime exhausted_at;                   /* first time the pool had no free PIMSI; -1 never */
  StatSamples hold;                       /* PIMSI allocation -> release, s */
  IntervalMean busy_sample, queue_sample; /* the series' last samples (interval_mean) */
  uint64_t held_peak;                     /* most PIMSIs unavailable at once */
  uint64_t in_use_max, held_max;          /* the most since the series' last sample */
  PimsiPools *pool;
  RsRecord *rec;
  uint64_t n_rec;
  uint8_t op[16]; /* the RS's OP (TS 35.206) */
  WRng r_reg;
  RsSite *sites;          /* one (the RS of old), or registration_service.sites */
  uint32_t n_sites;
  SimResource **avs;      /* each site's AV servers, in site order (the service's figures) */
  uint64_t *seq_copy;     /* several sites: SEQ_HE of record i at site s, [i * n_sites + s] */
  SimResource *front;     /* the front servers (non-AV work, any site); NULL: unlimited */
  SimTime quarantine_area; /* PIMSI x us in quarantine, whole quarantines (at release) */
  struct RangeProbe *range_probes; /* per-range series (several ranges only) */
  uint64_t n_unused;       /* allocated, no authentication served yet */
  uint64_t n_expired;      /* expired, waiting out the grace before the reclaim */
};

#define RLOG(w, idx, st, ...) FSM_LOG((w)->log, w_now(w), &rec_def, (idx), (st), __VA_ARGS__)

/* Used: the RS served an authentication for this allocation (AVs generated, or with
 * certificates the device's proof accepted: mark_used). */
static bool
rec_used(const RsRecord *r)
{
  return (r->av_issued & REC_USED) != 0;
}

/* The allocation's first authentication: its PIMSI is no longer unused (on a shelf). */
static inline void
mark_used(Rs *rs, RsRecord *r)
{
  if (!rec_used(r))
    rs->n_unused--;
  r->av_issued |= REC_USED;
}

static void register_figures(World *w, Rs *rs);

static void
master_free(gpointer p)
{
  OPENSSL_cleanse(p, CERT_MASTER_LEN);
  g_free(p);
}

/* The certificate authority (cert.h): its seed from the DRBG; the root outlives every
 * device certificate of the run. */
static bool
ca_new(World *w, Rs *rs, GError **error)
{
  const ScnRegistrationService *c = &w->cfg->registration_service;
  uint8_t seed[CERT_SEED_LEN];
  w_random(w, seed, sizeof seed);
  CertAlg alg = c->cert_algorithm == SCN_CERT_ED25519 ? CERT_ED25519 : CERT_ECDSA_P256;
  int64_t life = (int64_t)((w->cfg->duration + c->cert_lifetime) / SIM_S) + 86400;
  rs->ca = cert_ca_new(alg, "m2m registration service", seed, 0, life);
  OPENSSL_cleanse(seed, sizeof seed);
  if (rs->ca == NULL) {
    g_set_error(error, WORLD_ERROR, WORLD_ERROR_SETUP,
                "cannot create the RS's certificate authority (OpenSSL failed)");
    return false;
  }
  rs->master = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, master_free);
  wrng_init(&rs->r_revoke, w->seed, WR_RS, 0, 3);
  stat_registry_counter_fields(w->figs, RS_CA_FIGURES, &rs->ca_fig, sizeof rs->ca_fig);
  return true;
}

static Rs *
rs_of(const World *w)
{
  return w_inst(w, ROLE_RS, 0);
}

static void rs_destroy(void *p);

/* Records ever used: with one range, indices below its number of allocations (fresh
 * numbers go first, pool.h); with several, any index may have been. */
static uint64_t
records_used(const Rs *rs)
{
  if (rs->pool == NULL)
    return 0;
  return pools_n_ranges(rs->pool) > 1 ? rs->n_rec : MIN(rs->n_rec, pools_n_allocations(rs->pool));
}

static void register_site_figures(World *w, Rs *rs, RsSite *site, const char *name);

/* The sites: the one of old from av_servers and av_service_time (its stream that of the
 * RS of old), or registration_service.sites, each with its own SQN_HE copies. */
static bool
sites_new(World *w, Rs *rs, GError **error)
{
  const ScnRegistrationService *c = &w->cfg->registration_service;
  rs->n_sites = (uint32_t)MAX(c->n_sites, (size_t)1);
  rs->sites = g_new0(RsSite, rs->n_sites);
  rs->avs = g_new0(SimResource *, rs->n_sites);
  for (uint32_t i = 0; i < rs->n_sites; i++) {
    RsSite *site = &rs->sites[i];
    const ScnRsSite *sc = c->n_sites > 0 ? &c->sites[i] : NULL;
    wrng_init(&site->r_av, w->seed, WR_RS, i, 1);
    site->service = sc ? &sc->av_service_time : &c->av_service_time;
    g_autofree char *name = sc ? g_strdup_printf("rs.sites.%s.av", sc->name) : g_strdup("rs.av");
    site->av = rs->avs[i] = sim_resource_new(w->sim, name, sc ? sc->av_servers : c->av_servers);
    if (sc != NULL)
      register_site_figures(w, rs, site, sc->name);
  }
  if (rs->n_sites > 1) {
    rs->seq_copy = w_big_new0(rs->n_rec * rs->n_sites, sizeof(uint64_t));
    if (rs->seq_copy == NULL) {
      g_set_error(error, WORLD_ERROR, WORLD_ERROR_SETUP,
                  "cannot allocate the SQN_HE copies of %u sites", rs->n_sites);
      return false;
    }
  }
  return true;
}

static void *
rs_create(World *w, uint32_t index, GError **error)
{
  const ScnRegistrationService *c = &w->cfg->registration_service;
  Rs *rs = g_new0(Rs, 1);
  size_t n_ranges;
  const ScnPimsiPool *ranges = scn_config_ranges(w->cfg, &n_ranges);
  Imsi first[SCN_MAX_RANGES];
  uint64_t size[SCN_MAX_RANGES];
  g_assert(n_ranges >= 1 && n_ranges <= SCN_MAX_RANGES);
  for (size_t i = 0; i < n_ranges; i++) {
    const ScnPimsiPool *p = &ranges[i];
    unsigned mnc_len = (unsigned)strlen(p->mnc);
    if (!imsi_make((uint16_t)atoi(p->mcc), (uint16_t)atoi(p->mnc), mnc_len, p->first_msin,
                   12 - mnc_len, &first[i], error)) {
      rs_destroy(rs);
      return NULL;
    }
    size[i] = p->size;
  }
  SimTime q = c->pimsi_recycle == SCN_RECYCLE_NEVER ? SIM_TIME_MAX : c->pimsi_quarantine;
  /* A unit holds one PIMSI at most, once: no range sees more fresh allocations than units. */
  rs->pool = pools_new(n_ranges, first, size, q, MAX(w->total_devices, 1),
                       c->pimsi_allocation == SCN_ALLOC_ROUND_ROBIN ? POOLS_ROUND_ROBIN
                                                                    : POOLS_FILL_FIRST,
                       error);
  if (rs->pool == NULL) {
    rs_destroy(rs);
    return NULL;
  }
  rs->n_rec = pools_n_index(rs->pool);
  rs->rec = w_big_new0(rs->n_rec, sizeof(RsRecord));
  rs->conns = idpool_new(16);
  rs->registered = w_big_new0(w->total_devices, sizeof(uint32_t));
  rs->n_dev = w->total_devices;
  if (rs->rec == NULL || rs->registered == NULL) {
    g_set_error(error, WORLD_ERROR, WORLD_ERROR_SETUP,
                "cannot allocate %" G_GUINT64_FORMAT " PIMSI records", rs->n_rec);
    rs_destroy(rs);
    return NULL;
  }
  w_random(w, rs->op, sizeof rs->op);
  wrng_init(&rs->r_reg, w->seed, WR_RS, 0, 2);
  if (!sites_new(w, rs, error)) {
    rs_destroy(rs);
    return NULL;
  }
  if (c->front_servers > 0)
    rs->front = sim_resource_new(w->sim, "rs.front", c->front_servers);
  rs->w = w;
  if (w_uses_certificates(w->cfg) && !ca_new(w, rs, error)) {
    rs_destroy(rs);
    return NULL;
  }
  stat_level_init(&rs->in_use, 0, 0);
  rs->exhausted_at = -1;
  stat_samples_init(&rs->hold, c->pimsi_recycle == SCN_RECYCLE_AFTER_PROVISIONING);
  register_figures(w, rs);
  return rs;
}

static void
rs_destroy(void *p)
{
  Rs *rs = p;
  if (rs->rec) {
    /* Records ever used: indices below the number of allocations (pool.h order). */
    uint64_t used = records_used(rs);
    OPENSSL_cleanse(rs->rec, used * sizeof(RsRecord));
  }
  w_big_free(rs->rec, rs->n_rec, sizeof(RsRecord));
  idpool_free(rs->conns);
  w_big_free(rs->registered, rs->n_dev, sizeof(uint32_t));
  pools_free(rs->pool);
  g_free(rs->range_probes);
  OPENSSL_cleanse(rs->op, sizeof rs->op);
  for (uint32_t i = 0; i < rs->n_sites; i++)
    sim_resource_free(rs->sites[i].av);
  g_free(rs->sites);
  g_free(rs->avs);
  w_big_free(rs->seq_copy, rs->n_rec * rs->n_sites, sizeof(uint64_t));
  sim_resource_free(rs->front);
  if (rs->master)
    g_hash_table_unref(rs->master);
  cert_ca_free(rs->ca);
  stat_samples_clear(&rs->hold);
  g_free(rs);
}

static Imsi
pimsi_imsi(World *w, uint32_t pimsi)
{
  return pools_imsi(rs_of(w)->pool, pimsi);
}

static SimTime
reg_time(World *w)
{
  return wrng_dist(&rs_of(w)->r_reg, &w->cfg->registration_service.register_service_time);
}

static bool is_down(const World *w, uint32_t site);

/* The site a message to the RS was sent to, or an answer from it leaves. */
static uint32_t
site_to(const Msg *m)
{
  return net_addr_index(m->to);
}

static uint32_t
site_from(const Msg *m)
{
  return net_addr_index(m->from);
}

/* A request or an answer dropped at a site that is down. */
static void
count_dropped(Rs *rs, uint32_t site)
{
  rs->fig.dropped++;
  rs->sites[site].fig.dropped++;
}

/* A front server has done the work of answer `arg` (a held message): it goes out, unless
 * the RS went down meanwhile. */
static void
front_done(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  Msg *a = net_msg_at(w, arg);
  if (is_down(w, site_from(a))) {
    count_dropped(rs_of(w), site_from(a));
    net_msg_discard(w, a);
    return;
  }
  net_send(w, a, 0);
}

/* Sends answer a once `service` of the RS's work is done: on one of the front_servers,
 * waiting FIFO while all are busy (0 front servers: no limit, the answer leaves after
 * `service`). Registrations, lookups, key requests, releases: the RS's work that is not
 * AV generation. */
static void
front_send(World *w, Msg *a, SimTime service)
{
  Rs *rs = rs_of(w);
  if (rs->front == NULL || service == 0) {
    net_send(w, a, service);
    return;
  }
  sim_resource_request(rs->front, service, front_done, w, net_msg_id(w, a));
}

/* The record of `pimsi` if it is allocated to `dev`, else NULL. */
static RsRecord *
record_of(World *w, uint32_t pimsi, uint32_t dev)
{
  Rs *rs = rs_of(w);
  if (pimsi >= rs->n_rec)
    return NULL;
  RsRecord *r = &rs->rec[pimsi];
  return r->state == R_ALLOCATED && r->dev == dev ? r : NULL;
}

/* SEQ_HE of record idx as site `site` has it: the record's own with one site, the site's
 * copy with several. */
static uint64_t *
seq_of(Rs *rs, uint32_t idx, uint32_t site)
{
  if (rs->n_sites == 1)
    return &rs->rec[idx].seq_he;
  return &rs->seq_copy[(uint64_t)idx * rs->n_sites + site];
}

/* The secured connection of r is up with this proof (the same AKA run). */
static bool
conn_up(const Rs *rs, const RsRecord *r, const uint8_t proof[16])
{
  return r->conn != POOL_NONE && CRYPTO_memcmp(idpool_get(rs->conns, r->conn), proof, 16) == 0;
}

static void
conn_open(Rs *rs, RsRecord *r, const uint8_t proof[16])
{
  void *p;
  if (r->conn == POOL_NONE)
    r->conn = idpool_alloc(rs->conns, &p);
  memcpy(idpool_get(rs->conns, r->conn), proof, 16);
}

static void
conn_close(Rs *rs, RsRecord *r)
{
  if (r->conn != POOL_NONE) {
    explicit_bzero(idpool_get(rs->conns, r->conn), 16);
    idpool_release(rs->conns, r->conn);
    r->conn = POOL_NONE;
  }
}

static void
note_pool(World *w)
{
  Rs *rs = rs_of(w);
  stat_level_set(&rs->in_use, w_now(w), (double)pools_n_in_use(rs->pool));
  /* Unavailable: in use, quarantined or retired (the pool up to date after an allocation
   * or a release, the only times this count can rise). */
  uint64_t held = pools_size(rs->pool) - pools_n_free(rs->pool);
  rs->held_peak = MAX(rs->held_peak, held);
  rs->held_max = MAX(rs->held_max, held);
  rs->in_use_max = MAX(rs->in_use_max, pools_n_in_use(rs->pool));
  if (rs->exhausted_at < 0 && pools_n_free(rs->pool) == 0)
    rs->exhausted_at = w_now(w);
}

/* ---- registrations ---------------------------------------------------------------- */

static bool
is_down(const World *w, uint32_t site)
{
  return net_is_down(w, net_addr(ROLE_RS, site));
}

static void validity_timer(SimEngine *sim, void *ctx, uint64_t idx);
static bool expired_for(World *w, uint32_t pimsi, uint32_t dev);

/* PIMSI record `idx` is allocated to the device of registration `m`: new keys. */
static void
rec_allocate(void *ctx, uint64_t idx, unsigned event, void *data)
{
  World *w = ctx;
  Rs *rs = rs_of(w);
  const Msg *m = data;
  RsRecord *r = &rs->rec[idx];
  memset(r, 0, sizeof *r);
  if (rs->n_sites > 1) /* a new allocation's SQN_HE starts at 0 at every site */
    memset(seq_of(rs, (uint32_t)idx, 0), 0, rs->n_sites * sizeof(uint64_t));
  w_random(w, r->keys.k, 16);
  int64_t t0 = w_crypto_begin(w);
  mil_opc(w->mil, r->keys.k, rs->op, r->keys.opc);
  w_crypto_end(w, t0);
  r->dev = m->dev;
  r->t_alloc = w_now(w);
  rs->n_unused++;
  fsm_goto(&rec_def, idx, &r->state, R_ALLOCATED);
  if (w->cfg->registration_service.pimsi_validity > 0)
    w_after(w, w->cfg->registration_service.pimsi_validity, validity_timer, idx);
}

/* Certificates: the device's credentials are issued now (made when it first needs them,
 * device.c): the answer carries the CA and the validity start; revoked_fraction of them
 * are revoked before use. Serial = device id + 1. */
static void
issue_voucher(World *w, Rs *rs, uint32_t dev, Msg *a)
{
  a->u.reg.issuer = rs->ca;
  a->u.reg.cert_from = w_now(w) / SIM_S;
  double f = w->cfg->registration_service.revoked_fraction;
  if (!(f > 0) || wrng_u01(&rs->r_revoke) >= f)
    return;
  cert_ca_revoke(rs->ca, (uint64_t)dev + 1, w_now(w) / SIM_S);
  rs->ca_fig.revoked++;
}

/* A registration of equipment that has one already: a copy the manufacturer resent while
 * the first was served (it cannot tell a slow RS from a lost request). The RS knows the
 * equipment and answers with the same PIMSI and keys while it holds them, and refuses
 * once the unit has gone through; one unit never holds two PIMSIs. */
static void
repeat_registration(World *w, Rs *rs, const Msg *m, Msg *a)
{
  uint32_t idx = rs->registered[m->dev] - 1;
  const RsRecord *r = record_of(w, idx, m->dev);
  rs->fig.repeated++;
  if (r == NULL) {
    a->pimsi = W_NONE32;
    a->status = ST_REFUSED;
    return;
  }
  a->pimsi = idx;
  a->status = ST_OK;
  a->u.reg.imsi = pimsi_imsi(w, idx);
  a->u.reg.keys = r->keys;
  if (rs->ca != NULL) {
    a->u.reg.issuer = rs->ca;
    a->u.reg.cert_from = r->t_alloc / SIM_S;
  }
}

static void
on_register(World *w, Msg *m)
{
  SimTime service = reg_time(w);
  Rs *rs = rs_of(w);
  Msg *a = net_answer_new(w, m, MSG_REGISTER_ANSWER);
  if (rs->registered[m->dev] != 0) {
    repeat_registration(w, rs, m, a);
    front_send(w, a, service);
    return;
  }
  uint32_t idx;
  if (pools_alloc(rs->pool, w_now(w), &idx)) {
    g_assert(idx < rs->n_rec);
    RsRecord *r = &rs->rec[idx];
    fsm_dispatch(&rec_def, idx, r->state, E_ALLOCATE, w, (void *)m);
    rs_of(w)->fig.registrations++;
    a->pimsi = idx;
    a->status = ST_OK;
    a->u.reg.imsi = pimsi_imsi(w, idx);
    a->u.reg.keys = r->keys;
    rs->registered[m->dev] = idx + 1;
    if (rs->ca != NULL)
      issue_voucher(w, rs, m->dev, a);
    RLOG(w, idx, r->state, "allocated to device %u", m->dev);
  } else {
    a->pimsi = W_NONE32;
    a->status = ST_REFUSED;
  }
  note_pool(w);
  front_send(w, a, service);
}

static void
sho_registered(World *w, uint32_t dev, uint32_t pimsi, uint32_t sho)
{
  RsRecord *r = record_of(w, pimsi, dev);
  if (r) {
    r->sho = sho + 1;
    rs_of(w)->fig.sho_registrations++;
    RLOG(w, pimsi, r->state, "SHO %s", w->cfg->home_operators[sho].name);
  }
}

/* An SHO's registration of one unit, or of a fleet's units in one request (the blob):
 * the work takes register_service_time per unit. */
static void
on_sho_register(World *w, Msg *m)
{
  uint32_t sho = net_addr_index(m->from);
  SimTime service = 0;
  if (m->blob == NULL) {
    service = reg_time(w);
    sho_registered(w, m->dev, m->pimsi, sho);
  } else {
    gsize len;
    const MsgUnit *u = g_bytes_get_data(m->blob, &len);
    for (gsize i = 0; i < len / sizeof(MsgUnit); i++) {
      service += reg_time(w);
      sho_registered(w, u[i].dev, u[i].pimsi, sho);
    }
  }
  front_send(w, net_answer_new(w, m, MSG_RS_ACK), service);
}

/* ---- AV requests on the c servers --------------------------------------------------- */

static void av_done(SimEngine *sim, void *ctx, uint64_t arg);

/* What the authentication servers serve (resource.h classes: each its own waits). */
enum { JOB_AV, JOB_CERT_CHECK };

/* Holds a copy of m on one of the AV servers for `service`, then runs `done`. */
static void
hold_server(World *w, Msg *m, unsigned kind, SimTime service, SimHandler done)
{
  void *p;
  PoolId jid = idpool_alloc(w->ctx[ROLE_RS], &p);
  RsJob *j = p;
  j->req = *m;
  m->cert = NULL; /* the job has it now */
  sim_resource_request_as(rs_of(w)->sites[site_to(m)].av, kind, service, done, w, jid);
}

static void
job_free(World *w, PoolId jid, RsJob *j)
{
  g_free(j->req.cert);
  explicit_bzero(j, sizeof *j);
  idpool_release(w->ctx[ROLE_RS], jid);
}

static void
on_av_request(World *w, Msg *m)
{
  /* The request's own work, then each vector of the batch (a constant needs no draw). */
  const ScnRegistrationService *c = &w->cfg->registration_service;
  RsSite *site = &rs_of(w)->sites[site_to(m)];
  WRng *r = &site->r_av;
  site->fig.requests++;
  SimTime service = wrng_dist(r, site->service);
  if (c->av_vector_time.kind == DIST_CONSTANT)
    service += (SimTime)c->av_batch * c->av_vector_time.a;
  else
    for (uint32_t i = 0; i < c->av_batch; i++)
      service += wrng_dist(r, &c->av_vector_time);
  hold_server(w, m, JOB_AV, service, av_done);
}

/* Several sites: is site's copy of record idx behind another site's (AVs from it would
 * carry SQNs already used)? */
static bool
seq_stale(Rs *rs, uint32_t idx, uint32_t site)
{
  uint64_t mine = *seq_of(rs, idx, site);
  for (uint32_t s = 0; s < rs->n_sites; s++)
    if (*seq_of(rs, idx, s) > mine)
      return true;
  return false;
}

/* Site's SEQ_HE of record idx changed (AVs generated, a resync): the other sites learn it
 * sqn_replication_delay later (an SQN_UPDATE each), at once when that is 0. */
static void
replicate(World *w, Rs *rs, uint32_t idx, uint32_t dev, uint32_t site)
{
  if (rs->n_sites == 1)
    return;
  uint64_t v = *seq_of(rs, idx, site);
  const DistSpec *d = &w->cfg->registration_service.sqn_replication_delay;
  bool now = d->kind == DIST_CONSTANT && d->a == 0;
  for (uint32_t s = 0; s < rs->n_sites; s++) {
    if (s == site)
      continue;
    if (now) {
      uint64_t *other = seq_of(rs, idx, s);
      *other = MAX(*other, v);
      continue;
    }
    Msg *u = net_msg_new(w, MSG_SQN_UPDATE, net_addr(ROLE_RS, site), net_addr(ROLE_RS, s));
    u->pimsi = idx;
    u->dev = dev;
    u->ctx = v;
    net_send(w, u, 0);
  }
}

/* Another site's SEQ_HE reached this one (a site that was down applies it too: the
 * replication log outlives an outage). Counters only move forward. */
static void
on_sqn_update(World *w, Msg *m)
{
  Rs *rs = rs_of(w);
  if (record_of(w, m->pimsi, m->dev) != NULL) { /* the same allocation still */
    uint64_t *mine = seq_of(rs, m->pimsi, site_to(m));
    *mine = MAX(*mine, m->ctx);
  }
}

static void
av_done(SimEngine *sim, void *ctx_, uint64_t arg)
{
  World *w = ctx_;
  Rs *rs = rs_of(w);
  RsJob *j = idpool_get(w->ctx[ROLE_RS], arg);
  uint32_t site = site_to(&j->req);
  if (is_down(w, site)) {
    count_dropped(rs, site);
    job_free(w, arg, j);
    return;
  }
  const ScnRegistrationService *c = &w->cfg->registration_service;
  const Msg *q = &j->req;
  Msg *a = net_answer_new(w, q, MSG_AV_ANSWER);
  RsRecord *r = record_of(w, q->pimsi, q->dev);
  uint64_t *seq_he = r != NULL ? seq_of(rs, q->pimsi, site) : NULL;
  a->status = ST_OK;
  int64_t t0 = w_crypto_begin(w);
  if (r == NULL) {
    a->status = expired_for(w, q->pimsi, q->dev) ? ST_EXPIRED : ST_REFUSED;
    rs->vfig.refused += a->status == ST_EXPIRED;
  } else if (q->status == ST_SYNC_FAILURE) {
    rs->fig.resync_requests++;
    if (r->av_issued & REC_STALE) /* the USIM refused AVs a stale copy made */
      rs->resyncs_replication++;
    uint64_t sqn_ms = 0;
    if (aka_he_resync(&w->aka, w->mil, &r->keys, seq_he, q->u.chal.rand, q->u.chal.auts,
                      &sqn_ms) == AKA_OK) {
      rs->fig.resyncs++;
      RLOG(w, q->pimsi, r->state, "SQN resynchronised (SQN_MS %" G_GUINT64_FORMAT " from the AUTS)",
           sqn_ms);
    } else {
      a->status = ST_FAILED;
    }
  }
  if (a->status == ST_OK) {
    void *p;
    PoolId bid = idpool_alloc(w->batches, &p);
    /* IND: one per serving node (TS 33.102 C.3.4): VO i, then the SHOs after the VOs. */
    uint32_t from = net_addr_index(q->from);
    uint32_t node = net_addr_role(q->from) == ROLE_SHO ? (uint32_t)w->n_vo + from : from;
    unsigned ind = node & ((1u << w->aka.ind_bits) - 1);
    if (rs->n_sites > 1) { /* are these AVs made from a copy behind another site's? */
      bool stale = seq_stale(rs, q->pimsi, site);
      r->av_issued = (uint8_t)((r->av_issued & ~REC_STALE) | (stale ? REC_STALE : 0));
    }
    AkaStatus st = aka_he_generate(&w->aka, w->mil, &r->keys, seq_he, ind, 0x0000, &w->aka_rand,
                                   p, c->av_batch);
    if (st == AKA_OK) {
      a->batch = bid;
      mark_used(rs, r);
      rs->fig.av_requests++;
      rs->fig.av_vectors += c->av_batch;
      rs->sites[site].fig.vectors += c->av_batch;
    } else {
      idpool_release(w->batches, bid);
      a->status = ST_FAILED;
    }
  }
  w_crypto_end(w, t0);
  if (r != NULL)
    replicate(w, rs, q->pimsi, q->dev, site); /* what generation or a resync moved */
  job_free(w, arg, j);
  net_send(w, a, 0);
}

/* ---- the secured connection -------------------------------------------------------- */

/* CK and IK of the AKA run with `rand` (f3, f4 need no SQN). */
static void
ck_ik(World *w, const RsRecord *r, const uint8_t rand[16], uint8_t ck[16], uint8_t ik[16])
{
  if (w->cfg->registration_service.auth == SCN_AUTH_CERTIFICATE) {
    /* The session master the RS derived when it accepted the proof (on_lookup). */
    const uint8_t *master = g_hash_table_lookup(rs_of(w)->master, GUINT_TO_POINTER(r->dev));
    if (master == NULL)
      g_error("no session master for device %u", r->dev);
    memcpy(ck, master, 16);
    memcpy(ik, master + 16, 16);
    return;
  }
  static const uint8_t sqn[MIL_SQN_LEN] = {0}, amf[MIL_AMF_LEN] = {0};
  MilOut out;
  mil_compute(w->mil, r->keys.k, r->keys.opc, rand, sqn, amf, &out);
  memcpy(ck, out.ck, 16);
  memcpy(ik, out.ik, 16);
  OPENSSL_cleanse(&out, sizeof out);
}

/* Has the device of r authenticated for this connection: AVs were issued for the PIMSI
 * (AKA), or its attach proof checks out (certificates; the RS then has the master). */
static bool
authenticated(World *w, RsRecord *r, const Msg *l)
{
  if (w->cfg->registration_service.auth != SCN_AUTH_CERTIFICATE)
    return rec_used(r);
  /* The certificate and attach proof the device shows, checked against the CA's current
   * revocations; the session master comes from the key exchange. */
  Rs *rs = rs_of(w);
  const char *context = w->cfg->visited_operators[l->via].name;
  uint8_t master[CERT_MASTER_LEN];
  CertStatus st = CERT_BAD_ENCODING;
  if (l->cert != NULL)
    st = cert_ca_accept(rs->ca, l->cert->der, l->cert->der_len, &l->cert->proof, l->u.conn.rand,
                        context, strlen(context), w_now(w) / SIM_S, master);
  if (st != CERT_OK) {
    if (l->cert != NULL) /* no certificate shown: nothing was checked */
      rs->ca_fig.refusals++;
    OPENSSL_cleanse(master, sizeof master);
    return false;
  }
  rs->ca_fig.accepts++;
  g_hash_table_insert(rs->master, GUINT_TO_POINTER(l->dev), g_memdup2(master, sizeof master));
  OPENSSL_cleanse(master, sizeof master);
  mark_used(rs, r); /* "authenticated": the key request may derive K_SHO */
  return true;
}

static void
answer_lookup(World *w, const Msg *l, SimTime service)
{
  rs_of(w)->fig.lookups++;
  RsRecord *r = record_of(w, l->pimsi, l->dev);
  bool ok = false;
  int64_t t0 = w_crypto_begin(w);
  if (r && conn_up(rs_of(w), r, l->u.conn.proof)) {
    ok = true; /* the secured connection of this AKA run is already up */
  } else if (r && authenticated(w, r, l)) {
    uint8_t ck[16], ik[16], k_rs[KDF_OUT_LEN], proof[16];
    Imsi pimsi = pimsi_imsi(w, l->pimsi);
    ck_ik(w, r, l->u.conn.rand, ck, ik);
    if (!kdf_rs_key(w->kdf, ck, ik, pimsi, l->u.conn.rand, k_rs))
      g_error("kdf_rs_key failed");
    w_key_confirm(k_rs, proof);
    ok = CRYPTO_memcmp(proof, l->u.conn.proof, 16) == 0;
    if (ok)
      conn_open(rs_of(w), r, proof);
    OPENSSL_cleanse(ck, 16);
    OPENSSL_cleanse(ik, 16);
    OPENSSL_cleanse(k_rs, sizeof k_rs);
  }
  w_crypto_end(w, t0);
  Msg *a = net_answer_new(w, l, MSG_LOOKUP_ANSWER);
  if (!ok && r == NULL && expired_for(w, l->pimsi, l->dev)) {
    rs_of(w)->vfig.refused++;
    a->status = ST_EXPIRED;
  } else if (!ok) {
    rs_of(w)->fig.lookup_refused++;
    a->status = ST_REFUSED;
  } else if (r->sho == 0) {
    rs_of(w)->fig.no_sho++;
    a->status = ST_REFUSED;
  } else {
    a->status = ST_OK;
    a->aux = r->sho;
  }
  front_send(w, a, service);
}

static void
cert_check_done(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  RsJob *j = idpool_get(w->ctx[ROLE_RS], arg);
  if (is_down(w, site_to(&j->req)))
    count_dropped(rs_of(w), site_to(&j->req));
  else
    answer_lookup(w, &j->req, 0);
  job_free(w, arg, j);
}

static void
on_lookup(World *w, Msg *l)
{
  /* With certificates, a connection not yet up needs the proof checked (signature, ECDH):
   * that work queues for the RS's authentication servers, as AV requests do with AKA. An
   * unknown PIMSI queues too, so the answer's timing tells nothing either. */
  const RsRecord *r = record_of(w, l->pimsi, l->dev);
  if (w->cfg->registration_service.auth == SCN_AUTH_CERTIFICATE &&
      !(r != NULL && conn_up(rs_of(w), r, l->u.conn.proof))) {
    SimTime service = wrng_dist(&rs_of(w)->sites[site_to(l)].r_av,
                                &w->cfg->registration_service.cert_check_time);
    hold_server(w, l, JOB_CERT_CHECK, service, cert_check_done);
    return;
  }
  answer_lookup(w, l, reg_time(w));
}

static void
on_key_request(World *w, Msg *q)
{
  SimTime service = reg_time(w);
  Msg *k = net_answer_new(w, q, MSG_KEY);
  RsRecord *r = record_of(w, q->pimsi, q->dev);
  if (r && rec_used(r) && r->sho == net_addr_index(q->from) + 1) {
    int64_t t0 = w_crypto_begin(w);
    uint8_t ck[16], ik[16];
    ck_ik(w, r, q->u.conn.rand, ck, ik);
    if (!kdf_sho_key(w->kdf, ck, ik, pimsi_imsi(w, q->pimsi), q->u.conn.rand, k->u.key))
      g_error("kdf_sho_key failed");
    OPENSSL_cleanse(ck, 16);
    OPENSSL_cleanse(ik, 16);
    w_crypto_end(w, t0);
    k->status = ST_OK;
  } else {
    k->status = ST_REFUSED;
  }
  front_send(w, k, service);
}

/* ---- release ----------------------------------------------------------------------- */

static void rec_release(World *w, uint64_t idx);
static void rec_expire(World *w, uint64_t idx);

static void
rec_allocated(void *ctx, uint64_t idx, unsigned event, void *data)
{
  if (event == E_EXPIRE)
    rec_expire(ctx, idx);
  else
    rec_release(ctx, idx);
}

static void
rec_release(World *w, uint64_t idx)
{
  Rs *rs = rs_of(w);
  RsRecord *r = &rs->rec[idx];
  SimTime now = w_now(w);
  if (!rec_used(r)) /* returned by the owner of a unit that never authenticated */
    rs->n_unused--;
  if (rs->master != NULL) /* provisioned: no key will be derived from it again */
    g_hash_table_remove(rs->master, GUINT_TO_POINTER(r->dev));
  conn_close(rs, r);
  if (w->cfg->registration_service.pimsi_recycle == SCN_RECYCLE_AFTER_PROVISIONING) {
    if (!pools_release(rs->pool, (uint32_t)idx, now))
      g_error("pool_release refused PIMSI %u", (uint32_t)idx);
    stat_samples_add(&rs->hold, sim_time_to_s(now - r->t_alloc));
    /* The whole quarantine; what lies past the run's end comes off when read. */
    rs->quarantine_area += w->cfg->registration_service.pimsi_quarantine;
    OPENSSL_cleanse(&r->keys, sizeof r->keys);
    fsm_goto(&rec_def, idx, &r->state, R_FREE);
    rs->fig.releases++;
    RLOG(w, idx, r->state, "released to the pool (quarantine)");
  } else {
    fsm_goto(&rec_def, idx, &r->state, R_DONE);
    RLOG(w, idx, r->state, "provisioned; PIMSI kept (pimsi_recycle: never)");
  }
  note_pool(w);
}

/* ---- validity (pimsi_validity) ----------------------------------------------------- */

static void reclaim_timer(SimEngine *sim, void *ctx, uint64_t idx);

/* The allocation's validity is over: if it is the same allocation (a PIMSI released and
 * allocated again has a later t_alloc) and nothing was served for it, it expires. */
static void
validity_timer(SimEngine *sim, void *ctx, uint64_t idx)
{
  World *w = ctx;
  RsRecord *r = &rs_of(w)->rec[idx];
  if (r->state == R_ALLOCATED && !rec_used(r) &&
      r->t_alloc + w->cfg->registration_service.pimsi_validity == w_now(w))
    fsm_dispatch(&rec_def, idx, r->state, E_EXPIRE, w, NULL);
}

static void
rec_expire(World *w, uint64_t idx)
{
  Rs *rs = rs_of(w);
  RsRecord *r = &rs->rec[idx];
  fsm_goto(&rec_def, idx, &r->state, R_EXPIRED);
  rs->n_unused--;
  rs->n_expired++;
  rs->vfig.expired++;
  RLOG(w, idx, r->state, "expired unused (device %u)", r->dev);
  w_after(w, w->cfg->registration_service.pimsi_validity_grace, reclaim_timer, idx);
}

static void
reclaim_timer(SimEngine *sim, void *ctx, uint64_t idx)
{
  World *w = ctx;
  RsRecord *r = &rs_of(w)->rec[idx];
  if (r->state == R_EXPIRED)
    fsm_dispatch(&rec_def, idx, r->state, E_RECLAIM, w, NULL);
}

/* Back to the pool through the quarantine; the device is remembered as expired, so it
 * is refused as such even once its PIMSI is someone else's. */
static void
rec_reclaim(void *ctx, uint64_t idx, unsigned event, void *data)
{
  World *w = ctx;
  Rs *rs = rs_of(w);
  RsRecord *r = &rs->rec[idx];
  if (r->dev < rs->n_dev)
    rs->registered[r->dev] = RS_EXPIRED_MARK;
  if (rs->master != NULL)
    g_hash_table_remove(rs->master, GUINT_TO_POINTER(r->dev));
  if (!pools_release(rs->pool, (uint32_t)idx, w_now(w)))
    g_error("pool_release refused PIMSI %u", (uint32_t)idx);
  rs->quarantine_area += w->cfg->registration_service.pimsi_quarantine;
  OPENSSL_cleanse(&r->keys, sizeof r->keys);
  fsm_goto(&rec_def, idx, &r->state, R_FREE);
  rs->n_expired--;
  rs->vfig.reclaimed++;
  RLOG(w, idx, r->state, "reclaimed into the pool (quarantine)");
  note_pool(w);
}

/* The device's PIMSI expired: its record says so, or it was reclaimed since. */
static bool
expired_for(World *w, uint32_t pimsi, uint32_t dev)
{
  Rs *rs = rs_of(w);
  if (w->cfg->registration_service.pimsi_validity == 0)
    return false;
  if (pimsi < rs->n_rec && rs->rec[pimsi].state == R_EXPIRED && rs->rec[pimsi].dev == dev)
    return true;
  return dev < rs->n_dev && rs->registered[dev] == RS_EXPIRED_MARK;
}

static void
on_release(World *w, Msg *m)
{
  SimTime service = reg_time(w);
  RsRecord *r = record_of(w, m->pimsi, m->dev);
  if (r)
    fsm_dispatch(&rec_def, m->pimsi, r->state, E_RELEASE, w, (void *)m);
  front_send(w, net_answer_new(w, m, MSG_RS_ACK), service);
}

/* ---- certificates -------------------------------------------------------------------- */

static void
on_ca_fetch(World *w, Msg *m)
{
  Msg *a = net_answer_new(w, m, MSG_CA_BUNDLE);
  size_t len = 0;
  const uint8_t *bundle = cert_ca_bundle(rs_of(w)->ca, w_now(w) / SIM_S, &len);
  if (bundle == NULL)
    g_error("cert_ca_bundle failed");
  a->blob = g_bytes_new(bundle, len);
  rs_of(w)->ca_fig.ca_fetches++;
  front_send(w, a, reg_time(w));
}

/* ---- the RS's entry ------------------------------------------------------------------ */

static void
rs_dispatch(World *w, Msg *m)
{
  static void (*const on[MSG_N])(World *, Msg *) = {
      [MSG_REGISTER] = on_register,       [MSG_SHO_REGISTER] = on_sho_register,
      [MSG_AV_REQUEST] = on_av_request,   [MSG_LOOKUP] = on_lookup,
      [MSG_KEY_REQUEST] = on_key_request, [MSG_RELEASE] = on_release,
      [MSG_CA_FETCH] = on_ca_fetch,       [MSG_SQN_UPDATE] = on_sqn_update,
  };
  if (on[m->kind] == NULL)
    g_error("RegistrationService: message %s not expected", msg_kind_info[m->kind].name);
  on[m->kind](w, m);
}

/* An RS that is down drops every request. */
static void
rs_lost(World *w, Msg *m)
{
  if (m->kind == MSG_SQN_UPDATE)
    on_sqn_update(w, m); /* replication is not lost with the site */
  else
    count_dropped(rs_of(w), site_to(m));
}

static void
rs_ctx_clear(void *ctx)
{
  RsJob *j = ctx;
  g_free(j->req.cert);
}

/* ---- figures ----------------------------------------------------------------------- */

static const char *const value_names[V_N] = {
    "rs.av.wait_mean",           "rs.av.wait_p99",          "rs.av.utilization",
    "rs.av.queue_mean",          "rs.pimsi.pool_size",      "rs.pimsi.allocated",
    "rs.pimsi.in_use_mean",      "rs.pimsi.in_use_peak",    "rs.pimsi.quarantined_mean",
    "rs.pimsi.hold_mean",        "rs.pimsi.exhausted_at",   "rs.pimsi.blocked",
    "rs.av.utilization_peak",    "rs.av.queue_peak",        "rs.av.rate_peak",
    "rs.pimsi.held_peak",        "rs.cert_check.wait_mean", "rs.cert_check.wait_p99",
    "rs.front.wait_mean",        "rs.front.wait_p99",       "rs.front.utilization",
    "rs.front.utilization_peak", "rs.front.queue_peak",     "rs.pimsi.turnover",
};

/* The front servers' figures (absent with unlimited front servers, or no work yet). */
static double
front_figure(Rs *rs, RsValue what)
{
  if (rs->front == NULL)
    return NAN;
  switch (what) {
  case V_FRONT_WAIT_MEAN:
    return sim_resource_wait_s(rs->front, SIM_RESOURCE_ALL, -1);
  case V_FRONT_WAIT_P99:
    return sim_resource_wait_s(rs->front, SIM_RESOURCE_ALL, 0.99);
  case V_FRONT_UTILISATION:
    return sim_resource_utilisation(rs->front);
  case V_FRONT_UTILISATION_PEAK:
    return sim_resource_utilisation_peak(rs->front);
  default:
    return (double)sim_resource_queue_peak(rs->front);
  }
}

/* The mean or p99 wait of one kind of job, s; NAN while it had none. */
static double
wait_figure(Rs *rs, unsigned kind, bool p99)
{
  return sim_resource_group_wait_s(rs->avs, rs->n_sites, (int)kind, p99 ? 0.99 : -1);
}

static double
queue_peak(const SimResource *r)
{
  return (double)sim_resource_queue_peak(r);
}

/* A peak of the service: that of its busiest site (one second's peak at one site is not
 * the sum of the sites' peaks, which may fall in different seconds). */
static double
sites_max(const Rs *rs, double (*peak)(const SimResource *))
{
  double m = 0;
  for (uint32_t i = 0; i < rs->n_sites; i++) {
    double v = peak(rs->avs[i]);
    m = MAX(m, v);
  }
  return m;
}

static double
value(void *ctx)
{
  const RsProbe *p = ctx;
  Rs *rs = p->rs;
  SimTime end = w_end(rs->w);
  switch (p->what) {
  case V_WAIT_MEAN: /* seconds; absent without a request */
    return wait_figure(rs, JOB_AV, false);
  case V_WAIT_P99:
    return wait_figure(rs, JOB_AV, true);
  case V_CERT_WAIT_MEAN:
    return wait_figure(rs, JOB_CERT_CHECK, false);
  case V_CERT_WAIT_P99:
    return wait_figure(rs, JOB_CERT_CHECK, true);
  case V_FRONT_WAIT_MEAN:
  case V_FRONT_WAIT_P99:
  case V_FRONT_UTILISATION:
  case V_FRONT_UTILISATION_PEAK:
  case V_FRONT_QUEUE_PEAK:
    return front_figure(rs, p->what);
  case V_UTILISATION:
    return sim_resource_group_utilisation(rs->avs, rs->n_sites);
  case V_QUEUE_MEAN: {
    double q = 0;
    for (uint32_t i = 0; i < rs->n_sites; i++)
      q += sim_resource_mean_queue_length(rs->avs[i]);
    return q;
  }
  case V_POOL_SIZE:
    return (double)pools_size(rs->pool);
  case V_ALLOCATED:
    return (double)pools_n_allocations(rs->pool);
  case V_IN_USE_MEAN:
    return stat_level_mean(&rs->in_use, end);
  case V_IN_USE_PEAK:
    return rs->in_use.max;
  case V_QUARANTINED_MEAN: {
    pools_advance(rs->pool, end);
    SimTime past = pools_quarantine_after(rs->pool, end); /* the quarantines' part past the end */
    return (double)(rs->quarantine_area - past) / (double)end;
  }
  case V_HOLD_MEAN:
    return stat_samples_mean(&rs->hold);
  case V_EXHAUSTED_AT:
    return rs->exhausted_at >= 0 ? sim_time_to_s(rs->exhausted_at) : NAN;
  case V_BLOCKED:
    return (double)pools_n_refusals(rs->pool);
  case V_UTILISATION_PEAK:
    return sites_max(rs, sim_resource_utilisation_peak);
  case V_QUEUE_PEAK:
    return sites_max(rs, queue_peak);
  case V_RATE_PEAK:
    return sites_max(rs, sim_resource_rate_peak);
  case V_HELD_PEAK:
    return (double)rs->held_peak;
  case V_TURNOVER: /* allocations per PIMSI ever allocated */
    return pools_n_distinct(rs->pool) ? (double)pools_n_allocations(rs->pool) /
                                           (double)pools_n_distinct(rs->pool)
                                     : NAN;
  default:
    g_assert_not_reached();
  }
}

/* Series: the pool's occupancy (the quarantine advanced to now first), the AV queue, and
 * the AV servers' utilisation over the interval since the last sample. */
static double
series_in_use(void *ctx)
{
  Rs *rs = ctx;
  pools_advance(rs->pool, w_now(rs->w));
  return (double)pools_n_in_use(rs->pool);
}

static double
series_quarantined(void *ctx)
{
  return (double)pools_n_quarantined(((Rs *)ctx)->pool);
}

/* The PIMSIs in use by what their units are doing: not yet authenticated (on the shelf,
 * never deployed, or not yet through to the RS), authenticated (being provisioned, or kept
 * after provisioning without recycling), expired and waiting for the reclaim. */
static double
series_unused(void *ctx)
{
  return (double)((Rs *)ctx)->n_unused;
}

static double
series_used(void *ctx)
{
  const Rs *rs = ctx;
  return (double)(pools_n_in_use(rs->pool) - rs->n_unused - rs->n_expired);
}

static double
series_expired(void *ctx)
{
  return (double)((Rs *)ctx)->n_expired;
}

/* One number range's occupancy (rs.pimsi.pools.N.in_use / .quarantined). */
typedef struct RangeProbe {
  Rs *rs;
  size_t range;
} RangeProbe;

static double
series_range_in_use(void *ctx)
{
  const RangeProbe *p = ctx;
  pools_advance(p->rs->pool, w_now(p->rs->w));
  return (double)pool_n_in_use(pools_range(p->rs->pool, p->range));
}

static double
series_range_quarantined(void *ctx)
{
  const RangeProbe *p = ctx;
  return (double)pool_n_quarantined(pools_range(p->rs->pool, p->range));
}

/* The most PIMSIs in use, and unavailable (in use + quarantined + retired), at any moment
 * of the interval ending now; the next interval starts from the counts now (the pool was
 * advanced to now by series_in_use). */
static double
series_in_use_max(void *ctx)
{
  Rs *rs = ctx;
  uint64_t m = rs->in_use_max;
  rs->in_use_max = pools_n_in_use(rs->pool);
  return (double)m;
}

static double
series_held_max(void *ctx)
{
  Rs *rs = ctx;
  uint64_t m = rs->held_max;
  rs->held_max = pools_size(rs->pool) - pools_n_free(rs->pool);
  return (double)m;
}

/* The average of a level over the interval since the previous sample, from the exact
 * integral now (0 at the first sample, which closes no interval). */
static double
interval_mean(IntervalMean *m, SimTime now, double integral, double per)
{
  double v = now > m->t ? (integral - m->integral) / ((double)(now - m->t) * per) : 0;
  m->t = now;
  m->integral = integral;
  return v;
}

static double
series_queue(void *ctx)
{
  Rs *rs = ctx;
  double integral = 0;
  for (uint32_t i = 0; i < rs->n_sites; i++)
    integral += sim_resource_queue_integral(rs->avs[i]);
  return interval_mean(&rs->queue_sample, w_now(rs->w), integral, 1);
}

static double
series_queue_max(void *ctx)
{
  const Rs *rs = ctx; /* several sites: the longest queue of any one site */
  uint64_t m = 0;
  for (uint32_t i = 0; i < rs->n_sites; i++) {
    uint64_t q = sim_resource_take_queue_max(rs->avs[i]); /* once: it starts a new interval */
    m = MAX(m, q);
  }
  return (double)m;
}

static double
series_utilisation(void *ctx)
{
  Rs *rs = ctx;
  double busy = 0, servers = 0;
  for (uint32_t i = 0; i < rs->n_sites; i++) {
    busy += sim_resource_busy_integral(rs->avs[i]);
    servers += sim_resource_servers(rs->avs[i]);
  }
  return interval_mean(&rs->busy_sample, w_now(rs->w), busy, servers);
}

/* How long a PIMSI is held, allocation to release, over every allocation (Kaplan-Meier):
 * one still held is censored at its age (with recycling every PIMSI is released once its
 * device is provisioned, so none is known never to come back). */
static void
hold_censored(void *ctx, StatQuantiles *censored, uint64_t *never)
{
  const Rs *rs = ctx;
  SimTime now = w_now(rs->w);
  uint64_t used = records_used(rs);
  for (uint64_t i = 0; i < used; i++)
    if (rs->rec[i].state == R_ALLOCATED)
      stat_quantiles_add(censored, sim_time_to_s(now - rs->rec[i].t_alloc));
  *never = 0;
}

static double
site_value(void *ctx)
{
  const RsSiteProbe *p = ctx;
  SimResource *av = p->site->av;
  switch (p->what) {
  case SV_WAIT_MEAN:
    return sim_resource_wait_s(av, JOB_AV, -1);
  case SV_WAIT_P99:
    return sim_resource_wait_s(av, JOB_AV, 0.99);
  case SV_UTILISATION:
    return sim_resource_utilisation(av);
  case SV_UTILISATION_PEAK:
    return sim_resource_utilisation_peak(av);
  default:
    return (double)sim_resource_queue_peak(av);
  }
}

/* rs.sites.NAME.*: what the site counts, its AV waits and utilisation (over the run and
 * in its busiest second), its longest queue; failovers are counted by the routes
 * (route.c). */
static void
register_site_figures(World *w, Rs *rs, RsSite *site, const char *name)
{
  static const char *const counters[] = {RS_SITE_COUNTERS};
  static const char *const values[SV_N] = {"av.wait_mean", "av.wait_p99", "av.utilization",
                                           "av.utilization_peak", "av.queue_peak"};
  const uint64_t *fields = &site->fig.requests;
  for (size_t i = 0; i < G_N_ELEMENTS(counters); i++) {
    g_autofree char *n = g_strdup_printf("rs.sites.%s.%s", name, counters[i]);
    stat_registry_counter(w->figs, n, &fields[i]);
  }
  for (int i = 0; i < SV_N; i++) {
    site->probes[i] = (RsSiteProbe){site, (RsSiteValue)i};
    g_autofree char *n = g_strdup_printf("rs.sites.%s.%s", name, values[i]);
    stat_registry_value(w->figs, n, site_value, &site->probes[i]);
  }
  g_autofree char *series = g_strdup_printf("rs.sites.%s.av.queue", name);
  stat_sampler_add_probe(w->sampler, series, sim_resource_probe_queue_length, site->av);
  (void)rs;
}

static void
register_figures(World *w, Rs *rs)
{
  stat_registry_counter_fields(w->figs, RS_FIGURES, &rs->fig, sizeof rs->fig);
  if (rs->n_sites > 1)
    stat_registry_counter(w->figs, "aka.resyncs_replication", &rs->resyncs_replication);
  for (int i = 0; i < V_N; i++) {
    rs->probes[i] = (RsProbe){rs, (RsValue)i};
    stat_registry_value(w->figs, value_names[i], value, &rs->probes[i]);
  }
  if (w->cfg->registration_service.pimsi_recycle == SCN_RECYCLE_AFTER_PROVISIONING)
    stat_registry_km(w->figs, "rs.pimsi.hold_km", &rs->hold, hold_censored, rs);
  if (w->cfg->registration_service.pimsi_validity > 0)
    stat_registry_counter_fields(w->figs, RS_VALIDITY_FIGURES, &rs->vfig, sizeof rs->vfig);
  stat_sampler_add_probe(w->sampler, "rs.pimsi.in_use", series_in_use, rs);
  stat_sampler_add_probe(w->sampler, "rs.pimsi.quarantined", series_quarantined, rs);
  stat_sampler_add_probe(w->sampler, "rs.pimsi.unused", series_unused, rs);
  stat_sampler_add_probe(w->sampler, "rs.pimsi.used", series_used, rs);
  if (w->cfg->registration_service.pimsi_validity > 0)
    stat_sampler_add_probe(w->sampler, "rs.pimsi.expired_held", series_expired, rs);
  size_t n_ranges = pools_n_ranges(rs->pool);
  if (n_ranges > 1) {
    rs->range_probes = g_new(RangeProbe, n_ranges);
    for (size_t i = 0; i < n_ranges; i++) {
      rs->range_probes[i] = (RangeProbe){rs, i};
      g_autofree char *u = g_strdup_printf("rs.pimsi.pools.%zu.in_use", i);
      g_autofree char *q = g_strdup_printf("rs.pimsi.pools.%zu.quarantined", i);
      stat_sampler_add_probe(w->sampler, u, series_range_in_use, &rs->range_probes[i]);
      stat_sampler_add_probe(w->sampler, q, series_range_quarantined, &rs->range_probes[i]);
    }
  }
  stat_sampler_add_probe(w->sampler, "rs.pimsi.in_use_max", series_in_use_max, rs);
  stat_sampler_add_probe(w->sampler, "rs.pimsi.held_max", series_held_max, rs);
  stat_sampler_add_probe(w->sampler, "rs.av.queue", series_queue, rs);
  stat_sampler_add_probe(w->sampler, "rs.av.queue_max", series_queue_max, rs);
  stat_sampler_add_probe(w->sampler, "rs.av.utilization", series_utilisation, rs);
}

static size_t
rs_memory(const World *w, const void *p)
{
  const Rs *rs = p;
  size_t copies = rs->seq_copy ? rs->n_rec * rs->n_sites * sizeof(uint64_t) : 0;
  return sizeof(Rs) + rs->n_rec * sizeof(RsRecord) + copies + rs->n_dev * sizeof(uint32_t) +
         pools_memory(rs->pool);
}

/* Prefetching (engine.h): the record of the PIMSI a message names. */
static void
rs_prefetch(const World *w, const Msg *m)
{
  const Rs *rs = rs_of(w);
  if (m->pimsi < rs->n_rec)
    __builtin_prefetch(&rs->rec[m->pimsi]);
}

/* A PIMSI record for each device while the pool lasts, and the device's registration. */
static double
rs_device_bytes(const ScnConfig *cfg)
{
  double devices = (double)MAX(scn_config_total_devices(cfg), 1);
  double records = MIN((double)cfg->registration_service.pimsi_pool.size, devices);
  /* several sites: each keeps its own SQN_HE of every record */
  size_t sites = cfg->registration_service.n_sites;
  double copies = sites > 1 ? (double)sites * (double)sizeof(uint64_t) : 0;
  return records / devices * ((double)sizeof(RsRecord) + copies) + (double)sizeof(uint32_t);
}

/* clang-format off */
const RoleClass rs_role = {
    .name = "RegistrationService", .instances = ROLE_ONE, .create = rs_create,
    .destroy = rs_destroy, .memory = rs_memory, .device_bytes = rs_device_bytes,
    .prefetch = rs_prefetch,
    .ctx_size = sizeof(RsJob), .ctx_clear = rs_ctx_clear, .dispatch = rs_dispatch,
    .lost = rs_lost};
/* clang-format on */
