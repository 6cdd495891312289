/* A visited operator (see vo.h): TR 33.812 alternative 1, interactions 1 and 2.
 *
 * An attach that the VO accepts opens an authentication context in the VO's own table:
 * it waits for AVs from the RS (WAIT_AV; the request goes through the request helper,
 * tried twice at request_timeout each, then the device is rejected with a network
 * failure and backs off) or for the device's answer (WAIT_RES, request_timeout). Spare
 * AVs of a batch (av_batch > 1) are kept for the device's next authentication after a
 * failure or when its temporary access ends (temporary_access_limit), in a small table of
 * the devices that have some; they are dropped on a sync failure (known stale), when used
 * up, and spare_lifetime after they came (vo.spare_purged: a device provisioned by then
 * never comes back with its PIMSI).
 *
 * IND: the VO with index i stamps its AVs with IND = i mod 2^ind_bits (TS 33.102 Annex
 * C.3.4: one IND value per serving node), so spares of two VOs never conflict.
 *
 * With registration_service.auth: certificate (verifier.h) the context waits for the RS's
 * trust bundle instead (WAIT_CA: at once when the VO's cached copy is fresh), challenges
 * the device with a fresh nonce (WAIT_RES), then spends cert_verify_time checking the
 * certificate chain and the signature (VERIFY). Any refusal is an authentication
 * failure for the device, as a MAC failure is with AKA.
 *
 * An outage loses what arrives (net.h); an answer lost that way ends the context it was
 * for (the device's guard timer brings it back). */
#include "vo.h"

#include <openssl/crypto.h>
#include <stddef.h>
#include <string.h>

#include "net.h"
#include "req.h"
#include "verifier.h"
#include "wrand.h"

/* AV requests: request_timeout each, given up after two; the resend jittered (req.h). */
static const ReqPolicy av_policy = {"AV request", 2, false, true};
/* The home network hears of a real-IMSI attach until it acknowledges (it then releases
 * the PIMSI: a lost location update would hold it for good). */
static const ReqPolicy location_policy = {"location update", 0, true};

typedef enum { P_NEW, P_WAIT_AV, P_WAIT_RES, P_WAIT_CA, P_VERIFY, P_N } CtxState;
typedef enum {
  E_ATTACH,
  E_AV_ANSWER,
  E_AUTH_ANSWER,
  E_TIMEOUT,
  E_CA_READY,
  E_VERIFIED,
  E_N
} CtxEvent;
static const char *const ctx_events[E_N] = {"ATTACH",  "AV_ANSWER", "AUTH_ANSWER",
                                            "TIMEOUT", "CA_READY",  "VERIFIED"};
/* Timers of a context (the RS's answer is the request helper's: av_policy). */
enum { T_NONE, T_DEVICE_ANSWER, T_N };
static const FsmTimer ctx_timers[T_N] = {{"none", 0}, {"request_timeout", E_TIMEOUT}};

static void ctx_action(void *ctx, uint64_t id, unsigned event, void *data);

#define B FSM_BIT
#define N(s) (1u << (s))
/* One authentication context; the entity id in checks and logs is the VO's index. */
static const FsmState ctx_states[P_N] = {
    [P_NEW] = {"NEW", B(E_ATTACH), N(P_WAIT_AV) | N(P_WAIT_RES) | N(P_WAIT_CA), ctx_action, 0},
    [P_WAIT_AV] = {"WAIT_AV", B(E_AV_ANSWER) | B(E_TIMEOUT), N(P_WAIT_AV) | N(P_WAIT_RES),
                   ctx_action, 0},
    [P_WAIT_RES] = {"WAIT_RES", B(E_AUTH_ANSWER) | B(E_TIMEOUT), N(P_WAIT_AV) | N(P_VERIFY),
                    ctx_action, T_DEVICE_ANSWER},
    [P_WAIT_CA] = {"WAIT_CA", B(E_CA_READY), N(P_WAIT_RES), ctx_action, 0},
    [P_VERIFY] = {"VERIFY", B(E_VERIFIED), 0, ctx_action, 0},
};
#undef B
#undef N
static const FsmDef vo_def = {"VisitedOperator", ctx_states, P_N, ctx_events, E_N, ctx_timers, T_N};

typedef struct {
  uint8_t state;  /* CtxState */
  uint8_t seq;    /* the device's attach sequence */
  uint8_t status; /* ST_SYNC_FAILURE while a resync request is out */
  uint8_t home;   /* an attach with the real IMSI: its SHO + 1 (the home network); 0 PIMSI */
  uint32_t dev, pimsi;
  uint32_t vo;      /* the VO's index */
  Imsi imsi;        /* home: the real IMSI (the home network's AV request names it) */
  PoolId req;       /* the AV request in flight (WAIT_AV) */
  SimEventId timer; /* the state's timer */
  AkaVector av;     /* the AV in use (XRES), or the nonce in av.rand (certificates) */
  MsgCert *cert;    /* VERIFY: the device\'s certificate and proof, being checked */
  uint8_t auts[AKA_AUTS_LEN];
} VoCtx;

/* What a visited operator counts (VO_FIGURES names the fields, in order). */
typedef struct {
  uint64_t attaches, refusals, spare_used, spare_purged, dropped, gave_up, aka_ok, aka_failures,
      res_mismatch;
  uint64_t rs_timeouts, home_attaches, sho_timeouts;
} VoFigures;

#define VO_FIGURES                                                                                 \
  "vo.attaches vo.refusals vo.spare_used vo.spare_purged vo.dropped vo.gave_up aka.successes "     \
  "aka.failures "                                                                                  \
  "aka.res_mismatch vo.rs_timeouts vo.home_attaches vo.sho_timeouts"

/* The spare AVs of one device: the batch they are in, the next unused one, and the
 * purge that drops them spare_lifetime after they came. */
typedef struct {
  PoolId batch;
  SimEventId purge;
  uint32_t dev;
  uint8_t next;
} VoSpare;

struct Vo {
  VoFigures fig;
  Verifier *verifier; /* certificate mode: the RS's trust bundle and the checks */
  uint32_t index;
  const ScnVisitedOperator *cfg;
  WRng r_refuse, r_verify;
  World *w;          /* for the purge events (their context is the VO) */
  IdPool *spares;    /* VoSpare records (no allocation per batch in steady state) */
  GHashTable *spare; /* device id -> VoSpare PoolId, for the devices it holds spare AVs of; NULL
                        when AVs come one per request */
};

static Vo *
vo_at(World *w, uint32_t index)
{
  return w_inst(w, ROLE_VO, index);
}

static void vo_destroy(void *p);

static void *
vo_create(World *w, uint32_t index, GError **error)
{
  Vo *vo = g_new0(Vo, 1);
  vo->index = index;
  vo->w = w;
  vo->cfg = &w->cfg->visited_operators[index];
  /* Purposes 1 and 2 are the VO's access link and roaming interface (net.c). */
  wrng_init(&vo->r_refuse, w->seed, WR_VO, index, 3);
  wrng_init(&vo->r_verify, w->seed, WR_VO, index, 4);
  stat_registry_counter_fields(w->figs, VO_FIGURES, &vo->fig, sizeof vo->fig);
  stat_registry_counter(w->figs, "rs.timeouts",
                        &vo->fig.rs_timeouts); /* the sum of every requester */
  if (w->cfg->registration_service.auth == SCN_AUTH_CERTIFICATE)
    vo->verifier = verifier_new(w, net_addr(ROLE_VO, index), vo_ca_ready);
  if (vo->cfg->accepts_pimsi && w->cfg->registration_service.av_batch > 1 &&
      w->cfg->registration_service.auth == SCN_AUTH_MILENAGE) {
    vo->spare = g_hash_table_new(g_direct_hash, g_direct_equal);
    vo->spares = idpool_new(sizeof(VoSpare));
  }
  return vo;
}

static void
vo_destroy(void *p)
{
  Vo *vo = p;
  if (vo->spare)
    g_hash_table_unref(vo->spare);
  idpool_free(vo->spares);
  verifier_free(vo->verifier);
  g_free(vo);
}

static size_t
vo_memory(const World *w, const void *p)
{
  const Vo *vo = p;
  return vo->spare ? idpool_memory(vo->spares) + g_hash_table_size(vo->spare) * 24 : 0;
}

#define VLOG(w, c, fmt, ...)                                                                       \
  FSM_LOG((w)->log, w_now(w), &vo_def, (c)->vo, (c)->state, "dev %u: " fmt, (c)->dev, ##__VA_ARGS__)

static NetAddr
self(const Vo *vo)
{
  return net_addr(ROLE_VO, vo->index);
}

static void
go(VoCtx *c, CtxState to)
{
  fsm_goto(&vo_def, c->vo, &c->state, to);
}

static void
free_batch(World *w, PoolId batch)
{
  if (batch != POOL_NONE)
    idpool_release(w->batches, batch);
}

static VoSpare *
spares_of(Vo *vo, uint32_t dev)
{
  gpointer id = vo->spare ? g_hash_table_lookup(vo->spare, GUINT_TO_POINTER(dev)) : NULL;
  return id != NULL ? idpool_get(vo->spares, (PoolId)(uintptr_t)id) : NULL;
}

static void
drop_spares(World *w, Vo *vo, uint32_t dev)
{
  VoSpare *sp = spares_of(vo, dev);
  if (sp != NULL) {
    free_batch(w, sp->batch);
    sim_cancel(w->sim, sp->purge);
    idpool_release(vo->spares, idpool_id_of(vo->spares, sp));
    g_hash_table_remove(vo->spare, GUINT_TO_POINTER(dev));
  }
}

/* spare_lifetime after a batch came, what is left of it goes (a device provisioned in
 * the meantime never comes back with its PIMSI: as an MME purges a context it holds). */
static void
purge_spares(SimEngine *sim, void *ctx, uint64_t arg)
{
  Vo *vo = ctx;
  VoSpare *sp = idpool_lookup(vo->spares, arg);
  if (sp != NULL) {
    sp->purge = SIM_EVENT_NONE;
    vo->fig.spare_purged += (uint64_t)(vo->w->cfg->registration_service.av_batch - sp->next);
    drop_spares(vo->w, vo, sp->dev);
  }
}

/* Keeps the rest of batch m (its first AV used now) for the device's next
 * authentications here. */
static void
keep_spares(World *w, Vo *vo, uint32_t dev, Msg *m)
{
  drop_spares(w, vo, dev);
  void *p;
  PoolId id = idpool_alloc(vo->spares, &p);
  VoSpare *sp = p;
  *sp = (VoSpare){m->batch, SIM_EVENT_NONE, dev, 1};
  sp->purge = sim_schedule(w->sim, vo->cfg->spare_lifetime, purge_spares, vo, id);
  g_hash_table_insert(vo->spare, GUINT_TO_POINTER(dev), (gpointer)(uintptr_t)id);
  m->batch = POOL_NONE; /* kept */
}

static void
end_ctx(World *w, PoolId cid, VoCtx *c)
{
  sim_cancel(w->sim, c->timer);
  req_done(w, c->req);
  g_free(c->cert);
  explicit_bzero(c, sizeof *c);
  idpool_release(w->ctx[ROLE_VO], cid);
}

/* A message from this VO to the device of context c. */
static Msg *
to_device(World *w, Vo *vo, const VoCtx *c, MsgKind kind)
{
  Msg *m = net_msg_new(w, kind, self(vo), net_addr(ROLE_DEV, c->dev));
  m->dev = c->dev;
  m->seq = c->seq;
  return m;
}

static void
reject(World *w, Vo *vo, PoolId cid, VoCtx *c, MsgStatus why)
{
  VLOG(w, c, "reject (%s)", why == ST_MAC_FAILURE ? "authentication" : "network failure");
  Msg *m = to_device(w, vo, c, MSG_REJECTED);
  m->status = (uint8_t)why;
  net_send(w, m, 0);
  end_ctx(w, cid, c);
}

static void
grant(World *w, Vo *vo, PoolId cid, VoCtx *c)
{
  net_send(w, to_device(w, vo, c, MSG_GRANTED), 0);
  if (c->home) { /* the home network learns where its subscriber is (and frees the PIMSI) */
    Msg *u = net_msg_new(w, MSG_UPDATE_LOCATION, self(vo), net_addr(ROLE_SHO, c->home - 1u));
    u->dev = c->dev;
    u->pimsi = c->pimsi;
    req_send(w, &location_policy, u, 0);
  }
  end_ctx(w, cid, c);
}

/* AVs from the RS for a PIMSI, from the home network (the SHO) for a real IMSI. */
static void
request_av(World *w, Vo *vo, PoolId cid, VoCtx *c)
{
  go(c, P_WAIT_AV);
  NetAddr he = c->home ? net_addr(ROLE_SHO, c->home - 1u) : net_addr(ROLE_RS, 0);
  Msg *m = net_msg_new(w, MSG_AV_REQUEST, self(vo), he);
  m->dev = c->dev;
  m->pimsi = c->pimsi;
  m->imsi = c->imsi;
  m->ctx = cid;
  m->status = c->status;
  if (c->status == ST_SYNC_FAILURE) {
    memcpy(m->u.chal.rand, c->av.rand, 16);
    memcpy(m->u.chal.auts, c->auts, AKA_AUTS_LEN);
  }
  c->req = req_send(w, &av_policy, m, cid);
  VLOG(w, c, "%s request to the %s (try 1)", c->status == ST_SYNC_FAILURE ? "resync + AV" : "AV",
       c->home ? "SHO" : "RS");
}

static void on_timer(SimEngine *sim, void *ctx, uint64_t arg);

/* Sends the challenge (RAND and AUTN, or the nonce in av.rand) to the device. */
static void
send_challenge(World *w, Vo *vo, PoolId cid, VoCtx *c, bool with_autn)
{
  go(c, P_WAIT_RES);
  c->status = ST_OK;
  sim_cancel(w->sim, c->timer);
  c->timer = w_after(w, w->cfg->registration_service.request_timeout, on_timer, cid);
  Msg *m = to_device(w, vo, c, MSG_CHALLENGE);
  m->ctx = cid;
  memcpy(m->u.chal.rand, c->av.rand, 16);
  if (with_autn)
    memcpy(m->u.chal.autn, c->av.autn, AKA_AUTN_LEN);
  net_send(w, m, 0);
  VLOG(w, c, "challenge sent");
}

static void
challenge(World *w, Vo *vo, PoolId cid, VoCtx *c, const AkaVector *av)
{
  c->av = *av;
  send_challenge(w, vo, cid, c, true);
}

/* ---- the states -------------------------------------------------------------------- */

/* What an event brings to a context's state action: the context, and the message that
 * arrived (NULL for the context's own events). */
typedef struct {
  PoolId cid;
  Msg *m;
} Arrival;

static void
on_new(World *w, Vo *vo, PoolId cid, VoCtx *c, unsigned event, Msg *m)
{
  uint32_t dev = c->dev;
  if (c->home) { /* a real IMSI: AKA with the home network's AV, whatever the RS uses */
    request_av(w, vo, cid, c);
    return;
  }
  VoSpare *sp = spares_of(vo, dev);
  if (sp != NULL) {
    AkaVector *batch = idpool_get(w->batches, sp->batch);
    AkaVector av = batch[sp->next++];
    if (sp->next >= w->cfg->registration_service.av_batch)
      drop_spares(w, vo, dev);
    vo->fig.spare_used++;
    challenge(w, vo, cid, c, &av);
    OPENSSL_cleanse(&av, sizeof av);
    return;
  }
  if (w->cfg->registration_service.auth == SCN_AUTH_CERTIFICATE) {
    go(c, P_WAIT_CA);
    verifier_need(w, vo->verifier, cid);
    return;
  }
  request_av(w, vo, cid, c);
}

static void
on_wait_av(World *w, Vo *vo, PoolId cid, VoCtx *c, unsigned event, Msg *m)
{
  if (event == E_TIMEOUT) { /* the request helper gave up (vo_req_timeout) */
    vo->fig.gave_up++;
    reject(w, vo, cid, c, ST_FAILED);
    return;
  }
  c->req = POOL_NONE;
  if (m->status != ST_OK || m->batch == POOL_NONE) {
    /* an expired PIMSI is refused as such: the device stops trying */
    reject(w, vo, cid, c, m->status == ST_EXPIRED ? ST_EXPIRED : ST_FAILED);
    return;
  }
  AkaVector *avs = idpool_get(w->batches, m->batch);
  AkaVector av = avs[0];
  if (vo->spare && !c->home)
    keep_spares(w, vo, c->dev, m);
  challenge(w, vo, cid, c, &av);
  OPENSSL_cleanse(&av, sizeof av);
}

static void verified(SimEngine *sim, void *ctx, uint64_t arg);

static void
on_wait_res(World *w, Vo *vo, PoolId cid, VoCtx *c, unsigned event, Msg *m)
{
  if (event == E_TIMEOUT) {
    VLOG(w, c, "no answer from the device");
    explicit_bzero(c, sizeof *c);
    idpool_release(w->ctx[ROLE_VO], cid);
    return;
  }
  if (w->cfg->registration_service.auth == SCN_AUTH_CERTIFICATE && !c->home && m->status == ST_OK) {
    /* The certificate and proof the device sent; checking them takes cert_verify_time. */
    c->cert = m->cert;
    m->cert = NULL; /* kept */
    go(c, P_VERIFY);
    sim_cancel(w->sim, c->timer);
    c->timer = SIM_EVENT_NONE;
    w_after(w, wrng_dist(&vo->r_verify, &vo->cfg->cert_verify_time), verified, cid);
    return;
  }
  switch (m->status) {
  case ST_OK:
    if (CRYPTO_memcmp(m->u.chal.res, c->av.xres, MIL_MAC_LEN) == 0) {
      vo->fig.aka_ok++;
      vo->fig.home_attaches += c->home != 0;
      /* The spares stay: the device authenticates with them again when its temporary
       * access ends before it has its USIM (temporary_access_limit), or after a failure. */
      VLOG(w, c, "RES = XRES: temporary access granted");
      grant(w, vo, cid, c);
    } else {
      vo->fig.aka_failures++;
      vo->fig.res_mismatch++;
      reject(w, vo, cid, c, ST_MAC_FAILURE);
    }
    break;
  case ST_SYNC_FAILURE:
    drop_spares(w, vo, c->dev);
    c->status = ST_SYNC_FAILURE;
    /* RAND stays where the AV had it; the AUTS goes with it to the RS. */
    memcpy(c->av.rand, m->u.chal.rand, 16);
    memcpy(c->auts, m->u.chal.auts, AKA_AUTS_LEN);
    VLOG(w, c, "sync failure: AUTS to the RS");
    sim_cancel(w->sim, c->timer);
    c->timer = SIM_EVENT_NONE;
    request_av(w, vo, cid, c);
    break;
  default:
    vo->fig.aka_failures++;
    reject(w, vo, cid, c, ST_MAC_FAILURE);
    break;
  }
}

static void
on_wait_ca(World *w, Vo *vo, PoolId cid, VoCtx *c, unsigned event, Msg *m)
{
  if (!verifier_ready(w, vo->verifier)) {
    reject(w, vo, cid, c, ST_FAILED);
    return;
  }
  uint8_t nonce[CERT_NONCE_LEN];
  w_random(w, nonce, sizeof nonce);
  memset(&c->av, 0, sizeof c->av);
  memcpy(c->av.rand, nonce, sizeof nonce);
  send_challenge(w, vo, cid, c, false);
}

static void
on_verify(World *w, Vo *vo, PoolId cid, VoCtx *c, unsigned event, Msg *m)
{
  CertStatus st = verifier_check(w, vo->verifier, c->cert, c->av.rand, vo->cfg->name);
  if (st == CERT_OK) {
    VLOG(w, c, "certificate and signature verified: temporary access granted");
    grant(w, vo, cid, c);
  } else {
    VLOG(w, c, "certificate refused (%s)", cert_status_name(st)); /* cert.refused_* */
    reject(w, vo, cid, c, ST_MAC_FAILURE);
  }
}

static void
ctx_action(void *ctx, uint64_t id, unsigned event, void *data)
{
  World *w = ctx;
  const Arrival *a = data;
  VoCtx *c = idpool_get(w->ctx[ROLE_VO], a->cid);
  static void (*const on[P_N])(World *, Vo *, PoolId, VoCtx *, unsigned, Msg *) = {
      [P_NEW] = on_new,         [P_WAIT_AV] = on_wait_av, [P_WAIT_RES] = on_wait_res,
      [P_WAIT_CA] = on_wait_ca, [P_VERIFY] = on_verify,
  };
  on[c->state](w, vo_at(w, (uint32_t)id), a->cid, c, event, a->m);
}

/* ---- events -------------------------------------------------------------------------- */

/* An internal event of context `arg` (its timer, the verifier, the end of a check). */
static void
ctx_event(World *w, PoolId cid, unsigned event)
{
  VoCtx *c = idpool_lookup(w->ctx[ROLE_VO], cid);
  if (c == NULL)
    return;
  Arrival a = {cid, NULL};
  fsm_dispatch(&vo_def, c->vo, c->state, event, w, &a);
}

static void
on_timer(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  VoCtx *c = idpool_lookup(w->ctx[ROLE_VO], arg);
  if (c == NULL)
    return;
  c->timer = SIM_EVENT_NONE;
  ctx_event(w, arg, fsm_timer_event(&vo_def, fsm_state_timer(&vo_def, c->state)));
}

static void
verified(SimEngine *sim, void *ctx, uint64_t arg)
{
  ctx_event(ctx, arg, E_VERIFIED);
}

void
vo_ca_ready(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  VoCtx *c = idpool_lookup(w->ctx[ROLE_VO], arg);
  if (c == NULL || c->state != P_WAIT_CA)
    return;
  ctx_event(w, arg, E_CA_READY);
}

static void
on_attach(World *w, Vo *vo, const Msg *m)
{
  bool home = m->kind == MSG_HOME_ATTACH; /* a real IMSI: roaming as usual */
  if (!home && !vo->cfg->accepts_pimsi) {
    vo->fig.refusals++;
    Msg *r = net_answer_new(w, m, MSG_REFUSED);
    net_send(w, r, wrng_dist(&vo->r_refuse, &vo->cfg->refuse_delay));
    return;
  }
  vo->fig.attaches++;
  void *p;
  PoolId cid = idpool_alloc(w->ctx[ROLE_VO], &p);
  VoCtx *c = p;
  c->vo = vo->index;
  c->dev = m->dev;
  c->pimsi = m->pimsi;
  c->seq = m->seq;
  c->status = ST_OK;
  c->home = home ? (uint8_t)m->aux : 0;
  if (home)
    c->imsi = m->imsi;
  Arrival a = {cid, NULL};
  fsm_dispatch(&vo_def, vo->index, c->state, E_ATTACH, w, &a);
}

/* The context an answer belongs to: that of its request while the request is pending
 * (AV answers), or the one it names (the device's answer) if still in `state`. */
static VoCtx *
ctx_of(World *w, PoolId cid, CtxState state)
{
  VoCtx *c = idpool_lookup(w->ctx[ROLE_VO], cid);
  return c != NULL && c->state == state ? c : NULL;
}

static void
vo_dispatch(World *w, Msg *m)
{
  Vo *vo = vo_at(w, net_addr_index(m->to));
  switch (m->kind) {
  case MSG_ATTACH:
  case MSG_HOME_ATTACH:
    on_attach(w, vo, m);
    break;
  case MSG_LOCATION_ACK:
    req_done(w, m->txn);
    break;
  case MSG_AV_ANSWER: {
    uint64_t cid;
    if (!req_pending(w, m->txn, &cid))
      return; /* an answer to a request already answered or given up */
    req_done(w, m->txn);
    VoCtx *c = idpool_get(w->ctx[ROLE_VO], cid);
    Arrival a = {cid, m};
    fsm_dispatch(&vo_def, vo->index, c->state, E_AV_ANSWER, w, &a);
    break;
  }
  case MSG_AUTH_ANSWER: {
    VoCtx *c = ctx_of(w, m->ctx, P_WAIT_RES);
    if (c == NULL)
      return;
    Arrival a = {m->ctx, m};
    fsm_dispatch(&vo_def, vo->index, c->state, E_AUTH_ANSWER, w, &a);
    break;
  }
  case MSG_CA_BUNDLE:
    verifier_bundle_arrived(w, vo->verifier, m);
    break;
  default:
    g_error("VisitedOperator: message %s not expected", msg_kind_info[m->kind].name);
  }
}

/* Lost in an outage: an answer ends the attach it was for -- the RS's answer to the
 * request still pending, or the device's answer to the challenge still out; a late copy
 * of an answer already had ends nothing. */
static void
vo_lost(World *w, Msg *m)
{
  vo_at(w, net_addr_index(m->to))->fig.dropped++;
  bool current = (m->kind == MSG_AV_ANSWER && req_pending(w, m->txn, NULL)) ||
                 (m->kind == MSG_AUTH_ANSWER && ctx_of(w, m->ctx, P_WAIT_RES) != NULL);
  VoCtx *c = current ? idpool_lookup(w->ctx[ROLE_VO], m->ctx) : NULL;
  if (c != NULL)
    end_ctx(w, m->ctx, c);
}

static void
vo_req_timeout(World *w, PoolId req, uint64_t ref, const Msg *sent, unsigned tries, bool give_up)
{
  if (sent->kind == MSG_CA_FETCH) {
    verifier_fetch_timeout(w, vo_at(w, net_addr_index(sent->from))->verifier, give_up);
    return;
  }
  Vo *vo = vo_at(w, net_addr_index(sent->from));
  if (net_addr_role(sent->to) == ROLE_SHO)
    vo->fig.sho_timeouts++;
  else
    vo->fig.rs_timeouts++;
  if (sent->kind == MSG_UPDATE_LOCATION)
    return; /* resent until acknowledged; no context waits for it */
  VoCtx *c = idpool_get(w->ctx[ROLE_VO], ref);
  if (!give_up) {
    VLOG(w, c, "%s request to the %s (try %u)",
         sent->status == ST_SYNC_FAILURE ? "resync + AV" : "AV", c->home ? "SHO" : "RS", tries + 1);
    return; /* the helper sends it again */
  }
  c->req = POOL_NONE; /* the helper forgets it */
  Arrival a = {ref, NULL};
  fsm_dispatch(&vo_def, c->vo, c->state, E_TIMEOUT, w, &a);
}

static void
vo_ctx_clear(void *ctx)
{
  VoCtx *c = ctx;
  g_free(c->cert);
}

/* clang-format off */
const RoleClass vo_role = {
    .name = "VisitedOperator", .instances = offsetof(ScnConfig, n_visited_operators),
    .create = vo_create, .destroy = vo_destroy, .memory = vo_memory, .ctx_size = sizeof(VoCtx),
    .ctx_clear = vo_ctx_clear, .dispatch = vo_dispatch, .lost = vo_lost,
    .req_timeout = vo_req_timeout};
/* clang-format on */
