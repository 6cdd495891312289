/* M2M equipment (see device.h): the field side of TR 33.812 alternative 1, step 3.
 *
 * Storage: one Dev row of 128 octets per device in a flat array sized from the
 * scenario's total, mapped zeroed up front (w_big_new0; the OS gives it pages only when
 * devices are made), with the USIM's Annex C SQN state in the row as an AkaUsimSmall (a
 * USIM that moves more IND slots than it holds keeps its full AkaUsim in a spill table).
 * What a device needs only while it is being provisioned (the keys of its temporary
 * access) is a session in the device role's context pool, released at install or give-up;
 * its certificate credentials likewise, in a hash table. No heap allocation per device.
 *
 * Every request the device makes carries its `seq`; an answer or timer with another seq
 * is stale (the device moved on) and is dropped before the state machine sees it. One
 * timer slot serves the request guard, the back-off wait and the re-attach.
 *
 * Failure bounds: max_attempts (0 = unlimited) counts attach rounds that ended in a
 * back-off (all allowed networks refused, timeouts, network failure); MAC failures stop
 * the device after DEV_MAC_LIMIT of them (or max_attempts, if smaller), since retrying
 * cannot repair wrong credentials. */
#include "device.h"

#include <openssl/crypto.h>
#include <string.h>

#include "m2m/cert.h"
#include "m2m/kdf.h"
#include "net.h"
#include "route.h"
#include "wrand.h"

enum { DEV_MAC_LIMIT = 3 };

typedef enum {
  S_PRODUCED,    /* made, waiting for its PIMSI from the RS */
  S_STORED,      /* PIMSI + preliminary keys installed, not powered on yet */
  S_FACTORY,     /* the SHO's USIM installed at the factory (no PIMSI) */
  S_ATTACHING,   /* attach sent to a VO: waiting for refusal / challenge / grant */
  S_BACKOFF,     /* waiting before the next attach round */
  S_LOOKUP,      /* secured connection to the RS: waiting for the SHO address */
  S_NO_SHO,      /* no SHO yet: waiting before asking the RS again */
  S_DOWNLOADING, /* connected to the SHO: waiting for the sealed USIM */
  S_REATTACHING, /* USIM installed: attaching with the real IMSI */
  S_DONE,        /* attached with the real IMSI */
  S_FAILED,      /* gave up for good */
  S_SHELVED,     /* PIMSI installed, never to be powered on (devices.never_deployed) */
  S_STRANDED,    /* its PIMSI expired before it was used (pimsi_validity): refused for good */
  S_N
} DevState;

typedef enum {
  E_CREDENTIALS,
  E_FACTORY_USIM,
  E_POWER_ON,
  E_REFUSED,
  E_CHALLENGE,
  E_GRANTED,
  E_REJECTED,
  E_GUARD,
  E_BACKOFF_END,
  E_LOOKUP_ANSWER,
  E_DL_STARTED,
  E_DL_REFUSED,
  E_PACKAGE,
  E_SHO_CHALLENGE,
  E_ACCESS_END,
  E_N
} DevEvent;

static const char *const ev_names[E_N] = {
    "CREDENTIALS", "FACTORY_USIM", "POWER_ON",      "REFUSED",       "CHALLENGE",
    "GRANTED",     "REJECTED",     "GUARD_TIMEOUT", "BACKOFF_END",   "LOOKUP_ANSWER",
    "DL_STARTED",  "DL_REFUSED",   "PACKAGE",       "SHO_CHALLENGE", "ACCESS_END",
};

/* Timers, one running at a time per device: which one is the state's (table below). */
enum { T_NONE, T_ATTACH_GUARD, T_RS_GUARD, T_SHO_GUARD, T_BACKOFF, T_NO_SHO, T_REATTACH, T_N };
static void dev_action(void *ctx, uint64_t id, unsigned event, void *data);

static const FsmTimer dev_timers[T_N] = {
    {"none", 0},
    /* the VO tries the RS twice (request_timeout each) before it gives up, plus the
     * attach's own time there and back */
    {"attach_guard", E_GUARD},
    {"request_timeout (growing)", E_GUARD},
    {"request_timeout (growing)", E_GUARD},
    {"retry back-off", E_BACKOFF_END},
    {"retry back-off", E_BACKOFF_END},
    /* the attach with the real IMSI: as attach_guard (the VO asks the SHO), then after
     * a rejection the retry back-off */
    {"attach_guard (real IMSI)", E_GUARD},
};

#define B FSM_BIT
#define N(s) (UINT32_C(1) << (s))
static const FsmState states[S_N] = {
    [S_PRODUCED] = {"PRODUCED", B(E_CREDENTIALS) | B(E_FACTORY_USIM),
                    N(S_STORED) | N(S_FACTORY) | N(S_SHELVED), dev_action, 0},
    [S_STORED] = {"STORED", B(E_POWER_ON), N(S_ATTACHING), dev_action, 0},
    [S_FACTORY] = {"FACTORY", 0, 0, NULL, 0},
    [S_SHELVED] = {"SHELVED", 0, 0, NULL, 0},
    [S_STRANDED] = {"STRANDED", 0, 0, NULL, 0},
    [S_ATTACHING] = {"ATTACHING",
                     B(E_REFUSED) | B(E_CHALLENGE) | B(E_GRANTED) | B(E_REJECTED) | B(E_GUARD),
                     N(S_ATTACHING) | N(S_BACKOFF) | N(S_LOOKUP) | N(S_FAILED) | N(S_STRANDED),
                     dev_action, T_ATTACH_GUARD},
    [S_BACKOFF] = {"BACKOFF", B(E_BACKOFF_END), N(S_ATTACHING), dev_action, T_BACKOFF},
    /* ACCESS_END: the VO ends a temporary access (temporary_access_limit); the device
     * attaches and authenticates again. */
    [S_LOOKUP] = {"LOOKUP", B(E_LOOKUP_ANSWER) | B(E_GUARD) | B(E_ACCESS_END),
                  N(S_LOOKUP) | N(S_NO_SHO) | N(S_DOWNLOADING) | N(S_ATTACHING) | N(S_BACKOFF) |
                      N(S_STRANDED),
                  dev_action, T_RS_GUARD},
    [S_NO_SHO] = {"NO_SHO", B(E_BACKOFF_END) | B(E_ACCESS_END),
                  N(S_LOOKUP) | N(S_ATTACHING) | N(S_BACKOFF), dev_action, T_NO_SHO},
    [S_DOWNLOADING] = {"DOWNLOADING",
                       B(E_DL_STARTED) | B(E_DL_REFUSED) | B(E_PACKAGE) | B(E_GUARD) |
                           B(E_SHO_CHALLENGE) | B(E_ACCESS_END),
                       N(S_DOWNLOADING) | N(S_NO_SHO) | N(S_REATTACHING) | N(S_ATTACHING) |
                           N(S_BACKOFF),
                       dev_action, T_SHO_GUARD},
    [S_REATTACHING] = {"REATTACHING", B(E_CHALLENGE) | B(E_GRANTED) | B(E_REJECTED) | B(E_GUARD),
                       N(S_REATTACHING) | N(S_DONE), dev_action, T_REATTACH},
    [S_DONE] = {"DONE", 0, 0, NULL, 0},
    [S_FAILED] = {"FAILED", 0, 0, NULL, 0},
};
#undef B
#undef N

static const FsmDef dev_def = {"Device", states, S_N, ev_names, E_N, dev_timers, T_N};

const FsmDef *
dev_fsm(void)
{
  return &dev_def;
}

/* F_REAUTH: its temporary access ended once; its next grants are not first accesses. */
/* F_HOME_WAIT: backing off before attaching with the real IMSI again. */
enum { F_WRONG_K = 1, F_DESYNC = 2, F_SPILLED = 4, F_REAUTH = 8, F_HOME_WAIT = 16 };

typedef struct {
  uint8_t state;        /* DevState */
  uint8_t seq;          /* sequence of the current request */
  uint8_t vo;           /* VO of the current attach (index) */
  uint8_t flags;        /* F_* */
  uint8_t mac_failures; /* MAC failures so far */
  uint8_t timeouts;     /* consecutive request timeouts (RS lookup, SHO) */
  uint16_t attempts;    /* attach rounds ended in back-off */
  uint16_t lookups;     /* RS lookups answered "no SHO" (back-off exponent) */
  uint16_t sho;         /* SHO index + 1 the RS named, 0 none */
  uint32_t pimsi;       /* PIMSI index */
  uint64_t tried;       /* VOs refused in this round (bit per VO index) */
  SimEventId timer;     /* guard, back-off or re-attach timer */
  SimTime t_power_on;   /* us */
  Imsi imsi;            /* the PIMSI as a number; the real IMSI once provisioned */
  PoolId session;       /* the keys of its temporary access (DevSession), POOL_NONE: none */
  SimTime access_until; /* end of its temporary access (temporary_access_limit), 0: none */
  /* the fields above: one cache line, touched by every event */
  uint8_t k[16], opc[16]; /* preliminary credentials, then the real ones */
  AkaUsimSmall usim;      /* the USIM's SQN state (TS 33.102 Annex C); F_SPILLED: in spill */
} Dev;
/* Rows are two cache lines (the table is page aligned): the state machine's line, then
 * the USIM's (keys and SQN state, touched only by authentications). */
G_STATIC_ASSERT(sizeof(Dev) == 128);

/* What a device holds only while it is being provisioned: the keys of the AKA run (or
 * certificate exchange) that gave it temporary access. In the device role's context pool,
 * released once the USIM is installed or the device gives up. */
typedef struct {
  uint8_t rand[16];     /* RAND (or nonce) of the run */
  uint8_t proof_rs[16]; /* proof of K_RS (the secured connection's key) */
  uint8_t k_sho[32];    /* K_SHO */
} DevSession;

/* What the devices count (DEV_FIGURES names the fields, in order). */
typedef struct {
  uint64_t powered_on, failed_mac, failed_attempts, attached_real, timeouts, no_sho_retries;
  uint64_t rs_timeouts, sho_timeouts, seal_failures, access_expired;
} DevFigures;
#define DEV_FIGURES                                                                                \
  "devices.powered_on devices.failed_mac devices.failed_attempts devices.attached_real "           \
  "devices.timeouts devices.no_sho_retries devices.rs_timeouts sho.timeouts sho.seal_failures "    \
  "devices.access_expired"

/* The outcome counts of every device (one pass over the table per figure read), and of
 * the devices in progress, where they are. */
typedef enum {
  C_MANUFACTURED,
  C_PROVISIONED,
  C_FAILED,
  C_IN_PROGRESS,
  C_NOT_POWERED_ON, /* PIMSI installed, not powered on yet */
  C_ATTACHING,      /* attaching to a VO, or backing off between rounds */
  C_WAITING_SHO,    /* temporary access: asking the RS for the SHO, or waiting to ask again */
  C_DOWNLOADING,    /* connected to the SHO, waiting for the USIM */
  C_NEVER_DEPLOYED, /* PIMSI installed, never to be powered on */
  C_STRANDED,       /* refused for good: its PIMSI expired unused (pimsi_validity) */
  C_N
} CountWhat;
typedef struct {
  World *w;
  CountWhat what;
} CountProbe;

/* Certificate credentials (cert.h) of a device that uses them: on paper issued at
 * manufacture, here made at first use from per-device seeds (the outcome is the same
 * certificate, and equipment that never powers on costs nothing), and dropped once the
 * device has its real USIM or gives up. The attach proof is shown again to the RS on the
 * secured connection. */
typedef struct {
  CertDevice *cred;
  MsgCert attach; /* the proof made at the last VO challenge */
} DevCred;

/* What the devices' credentials count (certificate runs only). */
typedef struct {
  uint64_t issued;
  double issue_wall_s; /* wall time spent making credentials (lazily) */
} DevCertFigures;

struct DevTable {
  DevFigures fig;
  uint64_t provisioned;       /* over the air (the factory's USIMs are not provisioning) */
  StatSamples latency;        /* power-on -> USIM installed, s */
  StatSamples attach_latency; /* power-on -> first attach with the real IMSI, s */
  StatSamples access_latency; /* power-on -> temporary access granted (authenticated), s */
  DevCertFigures cert_fig;
  /* certificates (NULL / unused when the run uses none) */
  CertCa *issuer;         /* the RS's CA, from the first credentials (the voucher) */
  int64_t *cert_from;     /* per device: its certificate's validity start, s */
  GHashTable *creds;      /* device id -> DevCred, while it needs them */
  uint8_t dev_secret[32]; /* per-device seeds derive from it */
  CountProbe probes[C_N]; /* devices.manufactured, provisioned, ... (CountWhat) */
  Dev *devs;
  GHashTable *spill; /* device id -> AkaUsim, for the USIMs that moved more slots than
                        AkaUsimSmall holds (F_SPILLED) */
  uint64_t capacity;
  uint32_t n; /* devices made so far */
  WRng r_power_on, r_vo, r_desync, r_backoff, r_never;
  double *vo_share; /* share of each VO if allowed, else 0 */
};

static DevTable *
devs(const World *w)
{
  return w_inst(w, ROLE_DEV, 0);
}

/* The device's session (NULL: none yet), made on demand, released. */
static DevSession *
session(World *w, const Dev *d)
{
  if (d->session == POOL_NONE) /* granted access without an authentication: a model bug */
    g_error("Device: no keys of a temporary access");
  return idpool_get(w->ctx[ROLE_DEV], d->session);
}

static DevSession *
session_open(World *w, Dev *d)
{
  if (d->session == POOL_NONE) {
    void *p;
    d->session = idpool_alloc(w->ctx[ROLE_DEV], &p);
  }
  return idpool_get(w->ctx[ROLE_DEV], d->session);
}

static void
session_close(World *w, Dev *d)
{
  if (d->session != POOL_NONE) {
    explicit_bzero(idpool_get(w->ctx[ROLE_DEV], d->session), sizeof(DevSession));
    idpool_release(w->ctx[ROLE_DEV], d->session);
    d->session = POOL_NONE;
  }
}

static void dev_count(const World *w, uint64_t n[C_N]);

static inline Dev *
dev_get(World *w, uint32_t id)
{
  g_assert(id < devs(w)->n);
  return &devs(w)->devs[id];
}

static double
count_probe(void *ctx)
{
  const CountProbe *c = ctx;
  uint64_t n[C_N];
  dev_count(c->w, n);
  return (double)n[c->what];
}

/* Devices provisioned so far over the air (the series, as the scalar). */
static double
provisioned_probe(void *ctx)
{
  return (double)devs(ctx)->provisioned;
}

static double
issue_wall_s(void *ctx)
{
  return ((const DevCertFigures *)ctx)->issue_wall_s;
}

static void
spill_free(gpointer p)
{
  OPENSSL_cleanse(p, sizeof(AkaUsim));
  g_free(p);
}

static void
cred_free(gpointer p)
{
  DevCred *c = p;
  cert_device_free(c->cred);
  OPENSSL_cleanse(c, sizeof *c);
  g_free(c);
}

/* Provisioning latency over every device that powered on (Kaplan-Meier): one still in
 * progress is censored at its age, one that gave up will never be provisioned. */
static void
latency_censored(void *ctx, StatQuantiles *censored, uint64_t *never)
{
  const World *w = ctx;
  const DevTable *t = devs(w);
  SimTime now = w_now(w);
  for (uint32_t i = 0; i < t->n; i++) {
    const Dev *d = &t->devs[i];
    switch (d->state) {
    case S_ATTACHING:
    case S_BACKOFF:
    case S_LOOKUP:
    case S_NO_SHO:
    case S_DOWNLOADING:
      stat_quantiles_add(censored, sim_time_to_s(now - d->t_power_on));
      break;
    case S_FAILED:
    case S_STRANDED:
      ++*never;
      break;
    default:
      break;
    }
  }
}

static void
register_figures(World *w, DevTable *t)
{
  static const char *const names[C_N] = {"devices.manufactured",   "devices.provisioned",
                                         "devices.failed",         "devices.in_progress",
                                         "devices.not_powered_on", "devices.attaching",
                                         "devices.waiting_sho",    "devices.downloading",
                                         "devices.never_deployed", "devices.stranded"};
  for (int i = 0; i < C_N; i++) {
    if (i == C_STRANDED && w->cfg->registration_service.pimsi_validity == 0)
      continue; /* only where PIMSIs can expire */
    t->probes[i] = (CountProbe){w, (CountWhat)i};
    stat_registry_value(w->figs, names[i], count_probe, &t->probes[i]);
  }
  stat_registry_counter_fields(w->figs, DEV_FIGURES, &t->fig, sizeof t->fig);
  stat_registry_counter(w->figs, "rs.timeouts", &t->fig.rs_timeouts); /* the sum of all */
  stat_registry_samples(w->figs, "provision.latency", &t->latency, true);
  stat_registry_km(w->figs, "provision.latency_km", &t->latency, latency_censored, w);
  stat_registry_samples(w->figs, "provision.attach_latency", &t->attach_latency, true);
  stat_registry_samples(w->figs, "provision.access_latency", &t->access_latency, true);
  stat_sampler_add_probe(w->sampler, "devices.provisioned", provisioned_probe, w);
  if (w_uses_certificates(w->cfg)) {
    stat_registry_counter(w->figs, "cert.issued", &t->cert_fig.issued);
    stat_registry_value(w->figs, "cert.issue_wall_s", issue_wall_s, &t->cert_fig);
  }
}

static void dev_destroy(void *p);

static void dev_on_timer(SimEngine *sim, void *ctx, uint64_t arg);
static void timer_prefetch(void *ctx, uint64_t arg);

/* The one table of every device. */
static void *
dev_create(World *w, uint32_t index, GError **error)
{
  uint64_t capacity = w->total_devices;
  const ScnConfig *cfg = w->cfg;
  DevTable *t = g_new0(DevTable, 1);
  t->capacity = capacity;
  t->devs = w_big_new0(capacity, sizeof(Dev));
  t->spill = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, spill_free);
  if (t->devs == NULL) {
    g_set_error(error, WORLD_ERROR, WORLD_ERROR_SETUP,
                "cannot allocate the state of %" G_GUINT64_FORMAT " devices", capacity);
    dev_destroy(t);
    return NULL;
  }
  stat_samples_init(&t->latency, true);
  stat_samples_init(&t->attach_latency, true);
  stat_samples_init(&t->access_latency, true);
  register_figures(w, t);
  sim_set_prefetch(w->sim, dev_on_timer, timer_prefetch);
  if (w_uses_certificates(cfg)) {
    w_random(w, t->dev_secret, sizeof t->dev_secret);
    t->cert_from = w_big_new0(capacity, sizeof(int64_t));
    t->creds = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, cred_free);
    if (t->cert_from == NULL) {
      g_set_error(error, WORLD_ERROR, WORLD_ERROR_SETUP, "cannot allocate certificate records");
      dev_destroy(t);
      return NULL;
    }
  }
  wrng_init(&t->r_power_on, w->seed, WR_DEV, 0, 1);
  wrng_init(&t->r_vo, w->seed, WR_DEV, 0, 2);
  wrng_init(&t->r_desync, w->seed, WR_DEV, 0, 3);
  wrng_init(&t->r_backoff, w->seed, WR_DEV, 0, 4);
  wrng_init(&t->r_never, w->seed, WR_DEV, 0, 5);
  t->vo_share = g_new0(double, w->n_vo);
  for (size_t i = 0; i < w->n_vo; i++) {
    bool allowed = cfg->devices.allowed_networks == NULL;
    for (size_t j = 0; j < cfg->devices.n_allowed_networks; j++)
      allowed |= strcmp(cfg->devices.allowed_networks[j], cfg->visited_operators[i].name) == 0;
    t->vo_share[i] = allowed ? cfg->visited_operators[i].share : 0;
  }
  return t;
}

static void
dev_destroy(void *p)
{
  DevTable *t = p;
  if (t->devs)
    OPENSSL_cleanse(t->devs, t->n * sizeof(Dev));
  w_big_free(t->devs, t->capacity, sizeof(Dev));
  if (t->spill)
    g_hash_table_unref(t->spill);
  g_free(t->vo_share);
  if (t->creds)
    g_hash_table_unref(t->creds);
  w_big_free(t->cert_from, t->capacity, sizeof(int64_t));
  OPENSSL_cleanse(t->dev_secret, sizeof t->dev_secret);
  stat_samples_clear(&t->latency);
  stat_samples_clear(&t->attach_latency);
  stat_samples_clear(&t->access_latency);
  g_free(t);
}

static size_t
dev_memory(const World *w, const void *p)
{
  const DevTable *t = p;
  return sizeof *t + t->n * sizeof(Dev) + g_hash_table_size(t->spill) * sizeof(AkaUsim);
}

#define DLOG(w, id, d, ...) FSM_LOG((w)->log, w_now(w), &dev_def, (id), (d)->state, __VA_ARGS__)

static void
go(World *w, uint32_t id, Dev *d, DevState to)
{
  fsm_goto(&dev_def, id, &d->state, to);
}

static NetAddr
self(uint32_t id)
{
  return net_addr(ROLE_DEV, id);
}

/* ---- factory -------------------------------------------------------------------- */

static void dev_on_timer(SimEngine *sim, void *ctx, uint64_t arg);

/* A new unit: its row, state PRODUCED. Devices are numbered in production order. */
static void
made(World *w, uint32_t id, uint32_t mfr)
{
  DevTable *t = devs(w);
  g_assert(id == t->n && t->n < t->capacity);
  t->n++;
  Dev *d = &t->devs[id];
  d->state = S_PRODUCED;
  d->pimsi = W_NONE32;
}

/* Factory: the PIMSI and preliminary keys are written (a corrupted K when the factory got
 * it wrong), then the device waits for power-on. */
static void
install_credentials(World *w, uint32_t id, Dev *d, const Msg *m)
{
  DevTable *t = devs(w);
  bool wrong = m->status == ST_MAC_FAILURE;
  d->pimsi = m->pimsi;
  d->imsi = m->u.reg.imsi;
  if (t->cert_from != NULL) {
    t->issuer = m->u.reg.issuer;
    t->cert_from[id] = m->u.reg.cert_from;
  }
  memcpy(d->k, m->u.reg.keys.k, 16);
  memcpy(d->opc, m->u.reg.keys.opc, 16);
  if (wrong) {
    /* A factory fault: one bit of K flipped. AUTN's MAC will not verify. */
    d->k[0] ^= 0x01;
    d->flags |= F_WRONG_K;
  }
  uint64_t start = 0;
  if (w->cfg->devices.sqn_desync_fraction > 0 &&
      wrng_u01(&t->r_desync) < w->cfg->devices.sqn_desync_fraction) {
    /* The USIM has already accepted SQNs far ahead of the RS's SEQ_HE (e.g. a reused
     * card or a test run at the factory): its first AUTN is stale -> AUTS -> resync. */
    uint64_t seq = 1000 + (wrng_u64(&t->r_desync) % 1000);
    start = seq << w->aka.ind_bits;
    d->flags |= F_DESYNC;
  }
  if (!aka_usim_small_init_at(&d->usim, &w->aka, start))
    g_error("aka_usim_small_init_at refused a valid SQN");
  /* A unit never installed keeps its PIMSI for good (drawn only when some are: the
   * streams of a scenario without them are untouched). */
  if (w->cfg->devices.never_deployed > 0 &&
      wrng_u01(&t->r_never) < w->cfg->devices.never_deployed) {
    go(w, id, d, S_SHELVED);
    w_unit_settled(w);
    DLOG(w, id, d, "credentials installed; never deployed");
    return;
  }
  go(w, id, d, S_STORED);
  DLOG(w, id, d, "credentials installed%s%s", wrong ? " (wrong K)" : "",
       (d->flags & F_DESYNC) ? " (SQN ahead)" : "");
  SimTime after = wrng_dist(&t->r_power_on, &w->cfg->devices.power_on_after);
  w_after(w, after, dev_on_timer, w_arg(id, 0) | (UINT64_C(1) << 63));
}

static void
on_produced(World *w, uint32_t id, Dev *d, unsigned event, const Msg *m)
{
  if (event == E_CREDENTIALS) {
    install_credentials(w, id, d, m);
    return;
  }
  /* E_FACTORY_USIM: the home operator was known; the SHO's USIM is in (no PIMSI). */
  go(w, id, d, S_FACTORY);
  w_unit_settled(w);
  DLOG(w, id, d, "SHO USIM installed at the factory");
}

/* ---- attach ---------------------------------------------------------------------- */

/* Runs the state's timer for `delay` (it replaces any timer running). */
/* A timer's argument: the device (bits 0-31), its step (32-39), the slot of its session
 * + 1 when it has one below 2^23 (40-62, only for prefetching: the waiting device's
 * retries read the session, and the row that names it is not in cache yet either), and
 * bit 63 for the power-on. */
#define TIMER_HINT_SHIFT 40
#define TIMER_HINT_MAX ((UINT64_C(1) << 23) - 1)

static inline uint64_t
session_hint(const Dev *d)
{
  uint64_t slot1 = (uint32_t)d->session; /* PoolId: slot + 1 in the low half, 0 = none */
  return slot1 <= TIMER_HINT_MAX ? slot1 << TIMER_HINT_SHIFT : 0;
}

static void
arm(World *w, uint32_t id, Dev *d, SimTime delay)
{
  sim_cancel(w->sim, d->timer);
  d->timer = w_after(w, delay, dev_on_timer, w_arg(id, d->seq) | session_hint(d));
}

static void
disarm(World *w, Dev *d)
{
  sim_cancel(w->sim, d->timer);
  d->timer = SIM_EVENT_NONE;
}

/* Draws a VO among the allowed ones not tried in this round; -1 when none is left. */
static int
pick_vo(World *w, Dev *d)
{
  DevTable *t = devs(w);
  double wts[W_MAX_VO];
  double sum = 0;
  for (size_t i = 0; i < w->n_vo; i++) {
    wts[i] = (d->tried & (UINT64_C(1) << i)) ? 0 : t->vo_share[i];
    sum += wts[i];
  }
  if (!(sum > 0))
    return -1;
  return (int)wrng_pick(&t->r_vo, wts, (unsigned)w->n_vo, sizeof(double));
}

static SimTime
backoff_wait(World *w, unsigned n)
{
  const ScnRetry *r = &w->cfg->devices.retry;
  double wait = (double)r->initial;
  for (unsigned i = 1; i < n && wait < (double)r->max; i++)
    wait *= r->factor;
  if (wait > (double)r->max)
    wait = (double)r->max;
  /* Spread, so devices that failed together (a storm, an outage's end) do not retry
   * together: the back-off stream is the devices' own. */
  switch (r->jitter) {
  case SCN_JITTER_FULL:
    wait *= wrng_u01(&devs(w)->r_backoff);
    break;
  case SCN_JITTER_EQUAL:
    wait *= 0.5 + 0.5 * wrng_u01(&devs(w)->r_backoff);
    break;
  default:
    break;
  }
  return (SimTime)wait;
}

static void fail(World *w, uint32_t id, Dev *d, const char *why);

/* One attach round failed: back off, or give up after max_attempts. */
static void
attach_round_failed(World *w, uint32_t id, Dev *d, const char *why)
{
  d->attempts++;
  d->tried = 0;
  uint32_t max = w->cfg->devices.max_attempts;
  if (max > 0 && d->attempts >= max) {
    devs(w)->fig.failed_attempts++;
    fail(w, id, d, why);
    return;
  }
  go(w, id, d, S_BACKOFF);
  /* Whatever still travels for the round just ended (a refusal slower than the guard) is
   * stale from now on. */
  d->seq++;
  SimTime wait = backoff_wait(w, d->attempts);
  DLOG(w, id, d, "%s: next attach in %.3f s", why, sim_time_to_s(wait));
  arm(w, id, d, wait);
}

/* A message from the device; through its VO when `via_vo` (to the RS or the SHO). */
static Msg *
from_device(World *w, uint32_t id, const Dev *d, MsgKind kind, NetAddr to)
{
  Msg *m = net_msg_new(w, kind, self(id), to);
  m->dev = id;
  m->pimsi = d->pimsi;
  m->seq = d->seq;
  m->via = d->vo;
  return m;
}

static void attach_to(World *w, uint32_t id, Dev *d, int vo);

static void
send_attach(World *w, uint32_t id, Dev *d)
{
  int vo = pick_vo(w, d);
  if (vo < 0) {
    attach_round_failed(w, id, d, "every allowed network refused");
    return;
  }
  attach_to(w, id, d, vo);
}

static void
attach_to(World *w, uint32_t id, Dev *d, int vo)
{
  go(w, id, d, S_ATTACHING);
  d->vo = (uint8_t)vo;
  d->seq++;
  /* The attach request takes half the attach delay; challenge and answer a quarter each. */
  SimTime half = net_send(w, from_device(w, id, d, MSG_ATTACH, net_addr(ROLE_VO, (uint32_t)vo)), 0);
  /* attach_guard: the VO tries the RS twice (request_timeout each) before it gives up. */
  arm(w, id, d, 3 * w->cfg->registration_service.request_timeout + 2 * half);
  DLOG(w, id, d, "attach to %s with PIMSI", w->cfg->visited_operators[vo].name);
}

static void
on_stored(World *w, uint32_t id, Dev *d, unsigned event, const Msg *m)
{
  d->t_power_on = w_now(w);
  devs(w)->fig.powered_on++;
  send_attach(w, id, d);
}

static void derive_keys(World *w, Dev *d, const uint8_t rand[16], const uint8_t ck[16],
                        const uint8_t ik[16]);
static AkaStatus usim_check(World *w, uint32_t id, Dev *d, const uint8_t rand[16],
                            const uint8_t autn[AKA_AUTN_LEN], AkaUsimAnswer *ans);

/* The USIM's highest accepted SQN (its SQN_MS; for the log of a sync failure). */
static uint64_t
usim_sqn_ms(World *w, uint32_t id, const Dev *d)
{
  if (d->flags & F_SPILLED) {
    const AkaUsim *u = g_hash_table_lookup(devs(w)->spill, GUINT_TO_POINTER(id));
    return u->sqn_ms;
  }
  return d->usim.sqn_ms;
}

/* The USIM's answer to an AKA challenge (RAND, AUTN in m) into a: RES (and the keys of
 * the run when `keep`), AUTS, or a MAC failure. */
static void
answer_aka(World *w, uint32_t id, Dev *d, const Msg *m, Msg *a, bool keep)
{
  AkaUsimAnswer ans;
  AkaStatus st = usim_check(w, id, d, m->u.chal.rand, m->u.chal.autn, &ans);
  memcpy(a->u.chal.rand, m->u.chal.rand, 16);
  switch (st) {
  case AKA_OK:
    if (keep)
      derive_keys(w, d, m->u.chal.rand, ans.ck, ans.ik);
    memcpy(a->u.chal.res, ans.res, MIL_MAC_LEN);
    a->status = ST_OK;
    DLOG(w, id, d, "AUTN ok, RES sent");
    break;
  case AKA_SYNC_FAILURE:
    memcpy(a->u.chal.auts, ans.auts, AKA_AUTS_LEN);
    a->status = ST_SYNC_FAILURE;
    DLOG(w, id, d, "SQN not fresh, AUTS sent (SQN_MS %" G_GUINT64_FORMAT ")",
         usim_sqn_ms(w, id, d));
    break;
  default:
    a->status = ST_MAC_FAILURE;
    DLOG(w, id, d, "AUTN MAC failure");
    break;
  }
  OPENSSL_cleanse(&ans, sizeof ans);
}

/* ---- certificates: the prover --------------------------------------------------------- */

static void
device_seed(World *w, const DevTable *t, uint32_t dev, uint8_t purpose, uint8_t out[CERT_SEED_LEN])
{
  static const char label[] = "m2m-device-seed";
  uint8_t idb[4] = {(uint8_t)(dev >> 24), (uint8_t)(dev >> 16), (uint8_t)(dev >> 8), (uint8_t)dev};
  KdfParam p[3] = {{label, sizeof label - 1}, {idb, sizeof idb}, {&purpose, 1}};
  G_STATIC_ASSERT(CERT_SEED_LEN == KDF_OUT_LEN);
  /* FC of the session master: the label keeps the two derivations apart. */
  if (!kdf_ctx_derive(w->kdf, t->dev_secret, sizeof t->dev_secret, KDF_FC_M2M_CERT, p, 3, out))
    g_error("device seed derivation failed");
}

/* The device's credentials, made on first use (wrong: a key that does not match its
 * certificate, as with wrong preliminary credentials). Serial = id + 1. */
static DevCred *
credentials(World *w, uint32_t id, const Dev *d)
{
  DevTable *t = devs(w);
  DevCred *c = g_hash_table_lookup(t->creds, GUINT_TO_POINTER(id));
  if (c != NULL)
    return c;
  c = g_new0(DevCred, 1);
  const ScnRegistrationService *cfg = &w->cfg->registration_service;
  char subject[IMSI_STR_LEN + 1];
  imsi_format(d->imsi, subject);
  int64_t life = (int64_t)(cfg->cert_lifetime / SIM_S);
  uint8_t seed[CERT_SEED_LEN], other[CERT_SEED_LEN];
  device_seed(w, t, id, 1, seed);
  gint64 t0 = g_get_monotonic_time();
  if (d->flags & F_WRONG_K) {
    device_seed(w, t, id, 2, other);
    c->cred = cert_device_new_mismatched(t->issuer, seed, other, (uint64_t)id + 1, subject,
                                         t->cert_from[id], life);
  } else {
    c->cred = cert_device_new(t->issuer, seed, (uint64_t)id + 1, subject, t->cert_from[id], life);
  }
  t->cert_fig.issue_wall_s += (double)(g_get_monotonic_time() - t0) / 1e6;
  OPENSSL_cleanse(seed, sizeof seed);
  OPENSSL_cleanse(other, sizeof other);
  if (c->cred == NULL)
    g_error("cannot issue a device certificate (OpenSSL failed)");
  t->cert_fig.issued++;
  g_hash_table_insert(t->creds, GUINT_TO_POINTER(id), c);
  return c;
}

/* Answers a certificate challenge (nonce, the verifier's name as context): a new proof
 * with a fresh ephemeral key, the session master in `master`. The proof and certificate
 * go into a new MsgCert (for the answer); `keep` remembers it as the attach proof. */
static MsgCert *
prove(World *w, uint32_t id, const Dev *d, const uint8_t nonce[CERT_NONCE_LEN], const char *context,
      bool keep, uint8_t master[CERT_MASTER_LEN])
{
  int64_t t0 = w_crypto_begin(w);
  DevCred *c = credentials(w, id, d);
  size_t clen = strlen(context);
  g_assert(clen <= CERT_MAX_CONTEXT_LEN);
  uint8_t eph[CERT_SEED_LEN];
  w_random(w, eph, sizeof eph);
  MsgCert *p = g_new0(MsgCert, 1);
  memcpy(p->nonce, nonce, CERT_NONCE_LEN);
  size_t len = 0;
  const uint8_t *der = cert_device_der(c->cred, &len);
  g_assert(len <= sizeof p->der);
  memcpy(p->der, der, len);
  p->der_len = (uint16_t)len;
  CertStatus st =
      cert_device_prove(c->cred, devs(w)->issuer, nonce, context, clen, eph, &p->proof, master);
  OPENSSL_cleanse(eph, sizeof eph);
  if (st != CERT_OK)
    g_error("device proof failed: %s", cert_status_name(st));
  if (keep)
    c->attach = *p;
  w_crypto_end(w, t0);
  return p;
}

/* The device is done with its preliminary credentials (provisioned or failed). */
static void
forget_credentials(World *w, uint32_t id)
{
  if (devs(w)->creds)
    g_hash_table_remove(devs(w)->creds, GUINT_TO_POINTER(id));
}

/* A challenge: the VO's at attach (its answer's keys are those of the temporary access),
 * or the SHO's own (the SHO keys stay those from the RS). With certificates the nonce
 * stands where RAND would: it binds the keys to the run as RAND does. */
static void
answer_challenge(World *w, uint32_t id, Dev *d, const Msg *m)
{
  bool attach = m->kind == MSG_CHALLENGE;
  const ScnHomeOperator *sho = attach ? NULL : &w->cfg->home_operators[net_addr_index(m->from)];
  bool cert = attach ? w->cfg->registration_service.auth == SCN_AUTH_CERTIFICATE
                     : sho->authenticate == SCN_SHO_AUTH_CERTIFICATE;
  Msg *a = net_answer_new(w, m, attach ? MSG_AUTH_ANSWER : MSG_SHO_AUTH_ANSWER);
  if (!cert) {
    answer_aka(w, id, d, m, a, attach);
  } else {
    uint8_t master[CERT_MASTER_LEN];
    const char *context = attach ? w->cfg->visited_operators[d->vo].name : sho->name;
    a->cert = prove(w, id, d, m->u.chal.rand, context, attach, master);
    if (attach)
      derive_keys(w, d, m->u.chal.rand, master, master + 16);
    OPENSSL_cleanse(master, sizeof master);
    a->status = ST_OK;
    DLOG(w, id, d, "challenge signed, certificate sent");
  }
  net_send(w, a, 0);
}

/* ---- after AKA: the RS, then the SHO ------------------------------------------------ */

/* After AKA: K_RS (kept only as the proof the device shows on the secured connection,
 * which stays up across lookups) and K_SHO (for the SHO connection and K_SEAL), both
 * from CK || IK (kdf.h). CK and IK themselves are not kept. After a certificate
 * authentication the session master (cert.h) takes the place of CK || IK. */
static void
derive_keys(World *w, Dev *d, const uint8_t rand[16], const uint8_t ck[16], const uint8_t ik[16])
{
  DevSession *s = session_open(w, d);
  memcpy(s->rand, rand, 16);
  int64_t t0 = w_crypto_begin(w);
  uint8_t k_rs[KDF_OUT_LEN];
  if (!kdf_rs_key(w->kdf, ck, ik, d->imsi, s->rand, k_rs) ||
      !kdf_sho_key(w->kdf, ck, ik, d->imsi, s->rand, s->k_sho))
    g_error("key derivation failed");
  w_key_confirm(k_rs, s->proof_rs);
  OPENSSL_cleanse(k_rs, sizeof k_rs);
  w_crypto_end(w, t0);
}

static void
send_lookup(World *w, uint32_t id, Dev *d)
{
  go(w, id, d, S_LOOKUP);
  d->seq++;
  /* to the RS site its VO reaches now (route.h) */
  Msg *m = from_device(w, id, d, MSG_LOOKUP, route_rs(w, net_addr(ROLE_VO, d->vo)));
  const DevSession *s = session(w, d);
  memcpy(m->u.conn.rand, s->rand, 16);
  memcpy(m->u.conn.proof, s->proof_rs, 16);
  m->u.conn.imsi = d->imsi;
  if (w->cfg->registration_service.auth == SCN_AUTH_CERTIFICATE) {
    /* The secured connection shows the RS the certificate and proof of the attach. */
    DevCred *c = g_hash_table_lookup(devs(w)->creds, GUINT_TO_POINTER(id));
    if (c != NULL)
      m->cert = g_memdup2(&c->attach, sizeof c->attach);
  }
  net_send(w, m, 0);
  arm(w, id, d, w_timeout(w, d->timeouts + 1u));
  DLOG(w, id, d, "secured connection to the RS: where is my SHO?");
}

static void access_end(SimEngine *sim, void *ctx, uint64_t id);

static void
granted(World *w, uint32_t id, Dev *d)
{
  disarm(w, d);
  if (!(d->flags & F_REAUTH)) /* power-on -> first temporary access */
    stat_samples_add(&devs(w)->access_latency, sim_time_to_s(w_now(w) - d->t_power_on));
  SimTime limit = w->cfg->visited_operators[d->vo].temporary_access_limit;
  if (limit > 0) {
    d->access_until = w_now(w) + limit;
    w_after(w, limit, access_end, id);
  }
  d->tried = 0;
  DLOG(w, id, d, "temporary access granted by %s", w->cfg->visited_operators[d->vo].name);
  send_lookup(w, id, d);
}

/* Its PIMSI expired before it was used: the RS refuses it for good (it would need a new
 * PIMSI, which is outside the alternative this world models). Its PIMSI is back in the
 * pool already, so there is nothing for its owner to return. */
static void
strand(World *w, uint32_t id, Dev *d)
{
  go(w, id, d, S_STRANDED);
  disarm(w, d);
  session_close(w, d);
  d->access_until = 0;
  forget_credentials(w, id);
  DLOG(w, id, d, "stranded: its PIMSI expired unused");
  w_unit_settled(w);
}

static void
rejected(World *w, uint32_t id, Dev *d, unsigned why)
{
  disarm(w, d);
  if (why == ST_EXPIRED) {
    strand(w, id, d);
    return;
  }
  if (why == ST_MAC_FAILURE) {
    d->mac_failures++;
    uint32_t limit = DEV_MAC_LIMIT;
    uint32_t max = w->cfg->devices.max_attempts;
    if (max > 0 && max < limit)
      limit = max;
    if (d->mac_failures >= limit) {
      devs(w)->fig.failed_mac++;
      fail(w, id, d, "authentication failed (MAC) too often");
      return;
    }
    attach_round_failed(w, id, d, "authentication failed (MAC)");
  } else {
    attach_round_failed(w, id, d, "attach rejected (network failure)");
  }
}

static void
on_attaching(World *w, uint32_t id, Dev *d, unsigned event, const Msg *m)
{
  switch (event) {
  case E_REFUSED:
    disarm(w, d);
    d->tried |= UINT64_C(1) << d->vo;
    DLOG(w, id, d, "refused by %s", w->cfg->visited_operators[d->vo].name);
    send_attach(w, id, d);
    break;
  case E_CHALLENGE:
    answer_challenge(w, id, d, m);
    break;
  case E_GRANTED:
    granted(w, id, d);
    break;
  case E_REJECTED:
    rejected(w, id, d, m->status);
    break;
  case E_GUARD:
    devs(w)->fig.timeouts++;
    attach_round_failed(w, id, d, "attach timed out");
    break;
  }
}

static void
send_download(World *w, uint32_t id, Dev *d)
{
  go(w, id, d, S_DOWNLOADING);
  d->seq++;
  Msg *m = from_device(w, id, d, MSG_DOWNLOAD, net_addr(ROLE_SHO, (uint32_t)d->sho - 1));
  const DevSession *s = session(w, d);
  memcpy(m->u.conn.rand, s->rand, 16);
  w_key_confirm(s->k_sho, m->u.conn.proof);
  m->u.conn.imsi = d->imsi;
  net_send(w, m, 0);
  arm(w, id, d, w_timeout(w, d->timeouts + 1u));
  DLOG(w, id, d, "connect to SHO %s", w->cfg->home_operators[d->sho - 1].name);
}

static void
no_sho_backoff(World *w, uint32_t id, Dev *d, const char *why)
{
  go(w, id, d, S_NO_SHO);
  d->lookups++;
  devs(w)->fig.no_sho_retries++;
  SimTime wait = backoff_wait(w, d->lookups);
  DLOG(w, id, d, "%s: ask the RS again in %.3f s", why, sim_time_to_s(wait));
  arm(w, id, d, wait);
}

/* BACKOFF and NO_SHO: the wait is over; attach again, or ask the RS again. */
static void access_ended(World *w, uint32_t id, Dev *d);

static void
on_waiting(World *w, uint32_t id, Dev *d, unsigned event, const Msg *m)
{
  if (event == E_ACCESS_END)
    access_ended(w, id, d);
  else if (d->state == S_BACKOFF)
    send_attach(w, id, d);
  else
    send_lookup(w, id, d);
}

/* The RS or the SHO did not answer in time: count it, and ask again with a longer wait. */
static void
timed_out(World *w, uint32_t id, Dev *d, uint64_t *counter, const char *why,
          void (*again)(World *w, uint32_t id, Dev *d))
{
  devs(w)->fig.timeouts++;
  (*counter)++;
  if (d->timeouts < UINT8_MAX)
    d->timeouts++;
  DLOG(w, id, d, "%s", why);
  again(w, id, d);
}

/* The end of a temporary access: unless the device has moved on since (provisioned,
 * given up, another access), the VO detaches it. */
static void
access_end(SimEngine *sim, void *ctx, uint64_t id)
{
  World *w = ctx;
  Dev *d = dev_get(w, (uint32_t)id);
  if (d->access_until != w_now(w))
    return;
  d->access_until = 0;
  switch (d->state) {
  case S_LOOKUP:
  case S_NO_SHO:
  case S_DOWNLOADING:
    fsm_dispatch(&dev_def, id, d->state, E_ACCESS_END, w, NULL);
    break;
  default: /* attaching again already (a failure in between) */
    break;
  }
}

/* Detached before it had its USIM: the keys of that access are gone (a download under way
 * is lost: its answers are stale now), and it attaches to the same VO again, which
 * authenticates it with a spare AV when it kept one. */
static void
access_ended(World *w, uint32_t id, Dev *d)
{
  disarm(w, d);
  session_close(w, d);
  d->flags |= F_REAUTH;
  d->timeouts = 0;
  d->tried = 0;
  devs(w)->fig.access_expired++;
  DLOG(w, id, d, "temporary access ended by %s: attach again",
       w->cfg->visited_operators[d->vo].name);
  attach_to(w, id, d, d->vo);
}

static void
on_lookup(World *w, uint32_t id, Dev *d, unsigned event, const Msg *m)
{
  if (event == E_ACCESS_END) {
    access_ended(w, id, d);
    return;
  }
  if (event == E_GUARD) {
    timed_out(w, id, d, &devs(w)->fig.rs_timeouts, "no answer from the RS: ask again", send_lookup);
    return;
  }
  /* E_LOOKUP_ANSWER */
  disarm(w, d);
  d->timeouts = 0;
  if (m->status == ST_EXPIRED) {
    strand(w, id, d);
    return;
  }
  if (m->status != ST_OK) {
    no_sho_backoff(w, id, d, "no SHO yet");
    return;
  }
  d->sho = (uint16_t)m->aux;
  send_download(w, id, d);
}

/* The attach with the real IMSI, to the VO of the temporary access: the VO asks the SHO
 * (the home network now) for an AV and challenges the device's new USIM. */
static void
send_home_attach(World *w, uint32_t id, Dev *d)
{
  d->seq++;
  Msg *m = from_device(w, id, d, MSG_HOME_ATTACH, net_addr(ROLE_VO, d->vo));
  m->aux = d->sho;
  m->imsi = d->imsi;
  SimTime half = net_send(w, m, 0);
  /* as attach_guard: the VO tries the SHO twice (request_timeout each) */
  arm(w, id, d, 3 * w->cfg->registration_service.request_timeout + 2 * half);
}

/* The sealed USIM arrived: open it with K_SEAL, install it, attach with it. */
static void
package(World *w, uint32_t id, Dev *d, const Msg *m)
{
  disarm(w, d);
  int64_t t0 = w_crypto_begin(w);
  uint8_t k_seal[KDF_SEAL_KEY_LEN];
  if (!kdf_seal_key(w->kdf, session(w, d)->k_sho, d->imsi, k_seal))
    g_error("key derivation failed");
  SealUsim usim;
  SealStatus st = seal_open(w->seal, k_seal, d->imsi, m->u.pkg, SEAL_PACKAGE_LEN, &usim);
  OPENSSL_cleanse(k_seal, sizeof k_seal);
  w_crypto_end(w, t0);
  if (st != SEAL_OK) {
    devs(w)->fig.seal_failures++;
    no_sho_backoff(w, id, d, "USIM package refused");
    return;
  }
  /* Install: the real subscription replaces the preliminary one, a fresh USIM with its
   * own SQN state. */
  d->imsi = usim.imsi;
  memcpy(d->k, usim.k, 16);
  memcpy(d->opc, usim.opc, 16);
  OPENSSL_cleanse(&usim, sizeof usim);
  if (d->flags & F_SPILLED) {
    g_hash_table_remove(devs(w)->spill, GUINT_TO_POINTER(id));
    d->flags &= (uint8_t)~F_SPILLED;
  }
  if (!aka_usim_small_init_at(&d->usim, &w->aka, 0))
    g_error("aka_usim_small_init_at refused SQN 0");
  /* The temporary access is over: forget its keys. */
  session_close(w, d);
  d->access_until = 0;
  forget_credentials(w, id);
  devs(w)->provisioned++;
  stat_samples_add(&devs(w)->latency, sim_time_to_s(w_now(w) - d->t_power_on));
  go(w, id, d, S_REATTACHING);
  d->timeouts = 0;
  DLOG(w, id, d, "USIM installed; attach with the real IMSI");
  send_home_attach(w, id, d);
}

static void
on_downloading(World *w, uint32_t id, Dev *d, unsigned event, const Msg *m)
{
  switch (event) {
  case E_ACCESS_END:
    access_ended(w, id, d);
    break;
  case E_DL_STARTED:
    /* The SHO has the request: no more guard, the download takes its time. */
    disarm(w, d);
    d->timeouts = 0;
    break;
  case E_DL_REFUSED:
    disarm(w, d);
    d->timeouts = 0;
    no_sho_backoff(w, id, d, "refused by the SHO");
    break;
  case E_PACKAGE:
    package(w, id, d, m);
    break;
  case E_SHO_CHALLENGE:
    answer_challenge(w, id, d, m);
    break;
  case E_GUARD:
    timed_out(w, id, d, &devs(w)->fig.sho_timeouts, "no answer from the SHO: connect again",
              send_download);
    break;
  }
}

static void
on_reattaching(World *w, uint32_t id, Dev *d, unsigned event, const Msg *m)
{
  switch (event) {
  case E_CHALLENGE: { /* AKA with the new USIM: K, OPc and SQN of the real subscription */
    Msg *a = net_answer_new(w, m, MSG_AUTH_ANSWER);
    answer_aka(w, id, d, m, a, false);
    net_send(w, a, 0);
    break;
  }
  case E_GRANTED:
    disarm(w, d);
    go(w, id, d, S_DONE);
    w_unit_settled(w);
    devs(w)->fig.attached_real++;
    stat_samples_add(&devs(w)->attach_latency, sim_time_to_s(w_now(w) - d->t_power_on));
    DLOG(w, id, d, "attached with the real IMSI");
    break;
  case E_REJECTED: /* the home network did not answer (or refused): try again later */
    disarm(w, d);
    if (d->timeouts < UINT8_MAX)
      d->timeouts++;
    d->seq++; /* answers to this attach are stale now */
    d->flags |= F_HOME_WAIT;
    arm(w, id, d, w_timeout(w, d->timeouts));
    DLOG(w, id, d, "attach with the real IMSI rejected: again later");
    break;
  case E_GUARD:
    if (d->flags & F_HOME_WAIT)
      d->flags &= (uint8_t)~F_HOME_WAIT;
    else
      devs(w)->fig.timeouts++;
    send_home_attach(w, id, d);
    break;
  }
}

/* The USIM checks AUTN (TS 33.102 6.3.3, Annex C) against the device's SQN state, which
 * it updates when the AUTN is accepted: the small state unpacked, checked and packed
 * again, or the full state once more slots have moved than the small one holds. */
static AkaStatus
usim_check(World *w, uint32_t id, Dev *d, const uint8_t rand_in[16],
           const uint8_t autn_in[AKA_AUTN_LEN], AkaUsimAnswer *ans)
{
  DevTable *t = devs(w);
  AkaUsim local, *usim = &local;
  if (d->flags & F_SPILLED)
    usim = g_hash_table_lookup(t->spill, GUINT_TO_POINTER(id));
  else
    aka_usim_unpack(&d->usim, &w->aka, &local);
  AkaKeys keys;
  memcpy(keys.k, d->k, 16);
  memcpy(keys.opc, d->opc, 16);
  uint8_t rand[16], autn[AKA_AUTN_LEN];
  memcpy(rand, rand_in, 16);
  memcpy(autn, autn_in, AKA_AUTN_LEN);
  int64_t t0 = w_crypto_begin(w);
  AkaStatus st = aka_usim_check(&w->aka, w->mil, &keys, usim, rand, autn, ans);
  w_crypto_end(w, t0);
  OPENSSL_cleanse(&keys, sizeof keys);
  if (st == AKA_OK && !(d->flags & F_SPILLED) && !aka_usim_pack(&d->usim, &w->aka, &local)) {
    g_hash_table_insert(t->spill, GUINT_TO_POINTER(id), g_memdup2(&local, sizeof local));
    d->flags |= F_SPILLED;
  }
  return st;
}

/* ---- timers, messages and the end ---------------------------------------------------- */

/* The one action of the state table: the state's handler, with the device and the message
 * that arrived (NULL for timers). */
static void
dev_action(void *ctx, uint64_t id, unsigned event, void *data)
{
  static void (*const on[S_N])(World *, uint32_t, Dev *, unsigned, const Msg *) = {
      [S_PRODUCED] = on_produced,       [S_STORED] = on_stored,
      [S_ATTACHING] = on_attaching,     [S_BACKOFF] = on_waiting,
      [S_LOOKUP] = on_lookup,           [S_NO_SHO] = on_waiting,
      [S_DOWNLOADING] = on_downloading, [S_REATTACHING] = on_reattaching,
  };
  World *w = ctx;
  Dev *d = dev_get(w, (uint32_t)id);
  on[d->state](w, (uint32_t)id, d, event, data);
}

static void
fail(World *w, uint32_t id, Dev *d, const char *why)
{
  go(w, id, d, S_FAILED);
  disarm(w, d);
  session_close(w, d);
  d->access_until = 0;
  forget_credentials(w, id);
  DLOG(w, id, d, "gives up: %s", why);
  /* Its owner hears of it and returns the PIMSI (pimsi_release_failed); the unit is done
   * for good once the RS has it back (the owner says so), or now. */
  if (w->cfg->registration_service.pimsi_release_failed)
    net_send(w, from_device(w, id, d, MSG_GAVE_UP, net_addr(ROLE_OWNER, 0)), 0);
  else
    w_unit_settled(w);
}

/* The timer of device (arg: id, seq): the expiry of its state's timer, unless the device
 * moved on (another seq). Bit 63 marks the power-on, which the factory set. */
static void
dev_on_timer(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  uint32_t id = w_lo(arg);
  Dev *d = dev_get(w, id);
  if (arg >> 63) {
    fsm_dispatch(&dev_def, id, d->state, E_POWER_ON, w, NULL);
    return;
  }
  if (d->seq != (uint8_t)(arg >> 32))
    return;
  d->timer = SIM_EVENT_NONE;
  fsm_dispatch(&dev_def, id, d->state,
               fsm_timer_event(&dev_def, fsm_state_timer(&dev_def, d->state)), w, NULL);
}

static void
dev_dispatch(World *w, Msg *m)
{
  static const uint8_t event_of[MSG_N] = {
      [MSG_CREDENTIALS] = E_CREDENTIALS,
      [MSG_FACTORY_USIM] = E_FACTORY_USIM,
      [MSG_REFUSED] = E_REFUSED,
      [MSG_CHALLENGE] = E_CHALLENGE,
      [MSG_GRANTED] = E_GRANTED,
      [MSG_REJECTED] = E_REJECTED,
      [MSG_LOOKUP_ANSWER] = E_LOOKUP_ANSWER,
      [MSG_DOWNLOAD_STARTED] = E_DL_STARTED,
      [MSG_DOWNLOAD_REFUSED] = E_DL_REFUSED,
      [MSG_PACKAGE] = E_PACKAGE,
      [MSG_SHO_CHALLENGE] = E_SHO_CHALLENGE,
  };
  uint32_t id = net_addr_index(m->to);
  switch (m->kind) {
  case MSG_MADE:
    made(w, id, net_addr_index(m->from));
    return;
  case MSG_CREDENTIALS:
  case MSG_FACTORY_USIM:
    break; /* in the factory's hands: no request sequence yet */
  case MSG_REFUSED:
  case MSG_CHALLENGE:
  case MSG_GRANTED:
  case MSG_REJECTED:
  case MSG_LOOKUP_ANSWER:
  case MSG_DOWNLOAD_STARTED:
  case MSG_DOWNLOAD_REFUSED:
  case MSG_PACKAGE:
  case MSG_SHO_CHALLENGE:
    /* An answer to a request the device has moved on from is stale. */
    if (dev_get(w, id)->seq != m->seq)
      return;
    break;
  default:
    g_error("Device: message %s not expected", msg_kind_info[m->kind].name);
  }
  Dev *d = dev_get(w, id);
  fsm_dispatch(&dev_def, id, d->state, event_of[m->kind], w, m);
}

/* Prefetching (engine.h): the row of the device a timer or a message is for. */
static void
prefetch_row(const World *w, uint32_t id)
{
  const DevTable *t = w_inst(w, ROLE_DEV, 0);
  if (id < t->n)
    __builtin_prefetch(&t->devs[id]);
}

static void
timer_prefetch(void *ctx, uint64_t arg)
{
  const World *w = ctx;
  prefetch_row(w, w_lo(arg));
  uint64_t slot1 = (arg >> TIMER_HINT_SHIFT) & TIMER_HINT_MAX;
  if (slot1 != 0)
    idpool_prefetch(w->ctx[ROLE_DEV], slot1);
}

static void
dev_prefetch(const World *w, const Msg *m)
{
  prefetch_row(w, net_addr_index(m->to));
}

/* A device's row, and with certificates its validity start. */
static double
dev_device_bytes(const ScnConfig *cfg)
{
  return (double)sizeof(Dev) + (w_uses_certificates(cfg) ? sizeof(int64_t) : 0);
}

/* clang-format off */
const RoleClass dev_role = {
    .name = "Device", .instances = ROLE_ONE, .ctx_size = sizeof(DevSession),
    .create = dev_create, .destroy = dev_destroy, .memory = dev_memory, .device_bytes = dev_device_bytes,
    .prefetch = dev_prefetch, .dispatch = dev_dispatch};
/* clang-format on */

static void
dev_count(const World *w, uint64_t n[C_N])
{
  const DevTable *t = devs(w);
  uint64_t by_state[S_N] = {0};
  for (uint32_t i = 0; i < t->n; i++)
    by_state[t->devs[i].state]++;
  n[C_NOT_POWERED_ON] = by_state[S_STORED];
  n[C_ATTACHING] = by_state[S_ATTACHING] + by_state[S_BACKOFF];
  n[C_WAITING_SHO] = by_state[S_LOOKUP] + by_state[S_NO_SHO];
  n[C_DOWNLOADING] = by_state[S_DOWNLOADING];
  /* Units that got a PIMSI: those with the SHO's USIM from the factory are counted by
   * the manufacturer (devices.factory_usim), not here. */
  n[C_PROVISIONED] = by_state[S_REATTACHING] + by_state[S_DONE];
  n[C_FAILED] = by_state[S_FAILED];
  n[C_NEVER_DEPLOYED] = by_state[S_SHELVED];
  n[C_STRANDED] = by_state[S_STRANDED];
  n[C_IN_PROGRESS] = n[C_NOT_POWERED_ON] + n[C_ATTACHING] + n[C_WAITING_SHO] + n[C_DOWNLOADING];
  n[C_MANUFACTURED] = t->n - by_state[S_PRODUCED] - by_state[S_FACTORY];
}
