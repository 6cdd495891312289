/* A visited operator (see vo.h): TR 33.812 alternative 1, interactions 1 and 2.
 *
 * An attach that the VO accepts becomes its authentication context: the attach record
 * itself, kept with a timeout while the VO waits for AVs from the RS (phase WAIT_AV) or
 * for the device's answer (WAIT_RES). The RS is asked at most VO_RS_TRIES times
 * (request_timeout each); then the device is rejected with a network failure and backs
 * off. Spare AVs of a batch are kept per device (one batch id and an index per device,
 * only when av_batch > 1) for the device's next authentication after a failure; they
 * are dropped on a sync failure (known stale) and when access is granted.
 *
 * IND: the VO with index i stamps its AVs with IND = i mod 2^ind_bits (TS 33.102 Annex
 * C.3.4: one IND value per serving node), so spares of two VOs never conflict.
 *
 * With registration_service.auth: certificate (wcert.h) the context waits for the RS's
 * trust bundle instead (WAIT_CA: at once when the VO's cached copy is fresh), challenges
 * the device with a fresh nonce (WAIT_RES), then spends cert_verify_time checking the
 * certificate chain and the signature (VERIFY). Any refusal is an authentication
 * failure for the device, as a MAC failure is with AKA. */
#include "vo.h"

#include <openssl/crypto.h>
#include <string.h>

#include "device.h"
#include "rs.h"
#include "wcert.h"
#include "wrand.h"

enum { VO_RS_TRIES = 2 };
enum { P_WAIT_AV = 1, P_WAIT_RES = 2, P_WAIT_CA = 3, P_VERIFY = 4 };

/* One authentication context of a VO (the entity id in checks and logs is the VO's
 * index). Answers that arrive for a context in another phase are stale (a resend was
 * answered twice, a timeout came first) and are dropped before these checks. */
enum { E_ATTACH, E_AV_ANSWER, E_AUTH_ANSWER, E_TIMEOUT, E_CA_READY, E_VERIFIED, E_N };
static const char *const ctx_events[E_N] = {"ATTACH",  "AV_ANSWER", "AUTH_ANSWER",
                                            "TIMEOUT", "CA_READY",  "VERIFIED"};
static const FsmState ctx_states[] = {
    {"NEW", FSM_BIT(E_ATTACH), (1u << P_WAIT_AV) | (1u << P_WAIT_RES) | (1u << P_WAIT_CA)},
    {"WAIT_AV", FSM_BIT(E_AV_ANSWER) | FSM_BIT(E_TIMEOUT), (1u << P_WAIT_AV) | (1u << P_WAIT_RES)},
    {"WAIT_RES", FSM_BIT(E_AUTH_ANSWER) | FSM_BIT(E_TIMEOUT), (1u << P_WAIT_AV) | (1u << P_VERIFY)},
    {"WAIT_CA", FSM_BIT(E_CA_READY), 1u << P_WAIT_RES},
    {"VERIFY", FSM_BIT(E_VERIFIED), 0},
};
static const FsmDef vo_def = {"VisitedOperator", ctx_states, 5, ctx_events, E_N};

struct Vo {
  uint32_t index;
  const ScnVisitedOperator *cfg;
  int down; /* outages in force */
  WRng r_attach, r_roaming, r_refuse, r_verify;
  PoolId *spare;        /* per device: batch holding spare AVs (POOL_NONE: none); or NULL */
  uint8_t *spare_next; /* per device: next unused AV in that batch */
};

Vo *
vo_new(World *w, uint32_t index, GError **error)
{
  Vo *vo = g_new0(Vo, 1);
  vo->index = index;
  vo->cfg = &w->cfg->visited_operators[index];
  wrng_init(&vo->r_attach, w->seed, WR_VO, index, 1);
  wrng_init(&vo->r_roaming, w->seed, WR_VO, index, 2);
  wrng_init(&vo->r_refuse, w->seed, WR_VO, index, 3);
  wrng_init(&vo->r_verify, w->seed, WR_VO, index, 4);
  if (vo->cfg->accepts_pimsi && w->cfg->registration_service.av_batch > 1 &&
      w->cfg->registration_service.auth == SCN_AUTH_MILENAGE) {
    vo->spare = g_try_malloc0_n(w->total_devices ? w->total_devices : 1, sizeof(PoolId));
    vo->spare_next = g_try_malloc0_n(w->total_devices ? w->total_devices : 1, 1);
    if (vo->spare == NULL || vo->spare_next == NULL) {
      g_set_error(error, WORLD_ERROR, WORLD_ERROR_SETUP, "%s: cannot allocate spare AV slots",
                  vo->cfg->name);
      vo_free(vo);
      return NULL;
    }
  }
  return vo;
}

void
vo_free(Vo *vo)
{
  if (vo == NULL)
    return;
  g_free(vo->spare);
  g_free(vo->spare_next);
  g_free(vo);
}

size_t
vo_memory(const World *w)
{
  size_t n = 0;
  for (size_t i = 0; i < w->n_vo; i++)
    if (w->vos[i]->spare)
      n += w->devs ? (size_t)w->total_devices * (sizeof(PoolId) + 1) : 0;
  return n;
}

void
vo_set_down(World *w, uint32_t index, int delta)
{
  w->vos[index]->down += delta;
}

SimTime
vo_roaming_delay(World *w, uint32_t index)
{
  Vo *vo = w->vos[index];
  return wrng_dist(&vo->r_roaming, &vo->cfg->roaming_delay);
}

SimTime
vo_attach_delay(World *w, uint32_t index)
{
  Vo *vo = w->vos[index];
  return wrng_dist(&vo->r_attach, &vo->cfg->attach_delay);
}

#define VLOG(w, ctx, fmt, ...)                                                                     \
  FSM_LOG((w)->log, w_now(w), &vo_def, (ctx)->from, (ctx)->phase, "dev %u: " fmt, (ctx)->dev,      \
          ##__VA_ARGS__)

static void
free_batch(World *w, PoolId batch)
{
  if (batch != POOL_NONE)
    idpool_release(w->batches, batch);
}

static void
drop_spares(World *w, Vo *vo, uint32_t dev)
{
  if (vo->spare && vo->spare[dev] != POOL_NONE) {
    free_batch(w, vo->spare[dev]);
    vo->spare[dev] = POOL_NONE;
  }
}

static void
end_ctx(World *w, PoolId cid, Msg *ctx)
{
  sim_cancel(w->sim, ctx->timer);
  w_msg_free(w, cid);
}

static void
reject(World *w, Vo *vo, PoolId cid, Msg *ctx, MsgStatus why)
{
  VLOG(w, ctx, "reject (%s)", why == ST_MAC_FAILURE ? "authentication" : "network failure");
  w_after(w, vo_attach_delay(w, vo->index) / 4, dev_on_rejected,
          dev_arg(ctx->dev, ctx->seq, (uint8_t)why));
  end_ctx(w, cid, ctx);
}

static void
request_av(World *w, Vo *vo, PoolId cid, Msg *ctx)
{
  fsm_goto(&vo_def, vo->index, &ctx->phase, P_WAIT_AV);
  ctx->tries++;
  sim_cancel(w->sim, ctx->timer);
  ctx->timer = w_after(w, w->cfg->registration_service.request_timeout, vo_on_timeout, cid);
  w_after(w, vo_roaming_delay(w, vo->index), rs_on_av_request, cid);
  VLOG(w, ctx, "%s request to the RS (try %u)",
       ctx->status == ST_SYNC_FAILURE ? "resync + AV" : "AV", ctx->tries);
}

/* Sends the challenge in ctx (RAND and AUTN, or the nonce in u.chal.rand) to the device. */
static void
send_challenge(World *w, Vo *vo, PoolId cid, Msg *ctx, const uint8_t rand[16], const uint8_t *autn)
{
  fsm_goto(&vo_def, vo->index, &ctx->phase, P_WAIT_RES);
  ctx->status = ST_OK;
  sim_cancel(w->sim, ctx->timer);
  ctx->timer = w_after(w, w->cfg->registration_service.request_timeout, vo_on_timeout, cid);
  Msg *c;
  PoolId mid = w_msg_new(w, MSG_CHALLENGE, &c);
  c->dev = ctx->dev;
  c->seq = ctx->seq;
  c->from = vo->index;
  c->ref = cid;
  memcpy(c->u.chal.rand, rand, 16);
  if (autn)
    memcpy(c->u.chal.autn, autn, AKA_AUTN_LEN);
  w_after(w, vo_attach_delay(w, vo->index) / 4, dev_on_challenge, mid);
  VLOG(w, ctx, "challenge sent");
}

static void
challenge(World *w, Vo *vo, PoolId cid, Msg *ctx, const AkaVector *av)
{
  ctx->u.av = *av;
  send_challenge(w, vo, cid, ctx, av->rand, av->autn);
}

/* Certificate mode: the trust bundle is there (or the fetch failed). */
void
vo_on_ca_ready(SimEngine *sim, void *ctx_, uint64_t arg)
{
  World *w = ctx_;
  Msg *ctx = w_msg_lookup(w, arg);
  if (ctx == NULL || ctx->kind != MSG_ATTACH || ctx->phase != P_WAIT_CA)
    return;
  Vo *vo = w->vos[ctx->from];
  fsm_accept(&vo_def, vo->index, ctx->phase, E_CA_READY);
  if (!wcert_has_verifier(w, vo->index)) {
    reject(w, vo, arg, ctx, ST_FAILED);
    return;
  }
  uint8_t nonce[CERT_NONCE_LEN];
  w_random(w, nonce, sizeof nonce);
  memset(&ctx->u, 0, sizeof ctx->u);
  memcpy(ctx->u.chal.rand, nonce, sizeof nonce);
  send_challenge(w, vo, arg, ctx, nonce, NULL);
}

static void
verified(SimEngine *sim, void *ctx_, uint64_t arg)
{
  World *w = ctx_;
  Msg *ctx = w_msg_lookup(w, arg);
  if (ctx == NULL)
    return;
  Vo *vo = w->vos[ctx->from];
  fsm_accept(&vo_def, vo->index, ctx->phase, E_VERIFIED);
  CertStatus st = wcert_check_last(w, vo->index, ctx->dev, ctx->u.chal.rand, vo->cfg->name);
  if (st == CERT_OK) {
    VLOG(w, ctx, "certificate and signature verified: temporary access granted");
    w_after(w, 0, dev_on_granted, dev_arg(ctx->dev, ctx->seq, 0));
    end_ctx(w, arg, ctx);
  } else {
    VLOG(w, ctx, "certificate refused (%s)", cert_status_name(st)); /* cert.refused_* */
    reject(w, vo, arg, ctx, ST_MAC_FAILURE);
  }
}

void
vo_on_attach(SimEngine *sim, void *ctx_, uint64_t arg)
{
  World *w = ctx_;
  Msg *m = w_msg(w, arg);
  Vo *vo = w->vos[m->from];
  if (vo->down > 0) {
    w->st.vo_dropped++;
    w_msg_free(w, arg);
    return;
  }
  if (!vo->cfg->accepts_pimsi) {
    w->st.vo_refusals++;
    w_after(w, wrng_dist(&vo->r_refuse, &vo->cfg->refuse_delay), dev_on_refused,
            dev_arg(m->dev, m->seq, 0));
    w_msg_free(w, arg);
    return;
  }
  w->st.vo_attaches++;
  m->phase = 0;
  fsm_accept(&vo_def, vo->index, m->phase, E_ATTACH);
  m->tries = 0;
  m->status = ST_OK;
  uint32_t dev = m->dev;
  if (vo->spare && vo->spare[dev] != POOL_NONE) {
    AkaVector *batch = idpool_get(w->batches, vo->spare[dev]);
    uint8_t k = vo->spare_next[dev]++;
    AkaVector av = batch[k];
    if (vo->spare_next[dev] >= w->cfg->registration_service.av_batch)
      drop_spares(w, vo, dev);
    w->st.vo_spare_used++;
    challenge(w, vo, arg, m, &av);
    OPENSSL_cleanse(&av, sizeof av);
    return;
  }
  if (w->cfg->registration_service.auth == SCN_AUTH_CERTIFICATE) {
    fsm_goto(&vo_def, vo->index, &m->phase, P_WAIT_CA);
    wcert_need_verifier(w, vo->index, arg);
    return;
  }
  request_av(w, vo, arg, m);
}

void
vo_on_av_answer(SimEngine *sim, void *ctx_, uint64_t arg)
{
  World *w = ctx_;
  Msg *j = w_msg(w, arg);
  Vo *vo = w->vos[j->from];
  PoolId cid = j->ref, batch = j->batch;
  uint8_t status = j->status;
  w_msg_free(w, arg);
  Msg *ctx = w_msg_lookup(w, cid);
  if (vo->down > 0) {
    w->st.vo_dropped++;
    free_batch(w, batch);
    if (ctx)
      end_ctx(w, cid, ctx);
    return;
  }
  if (ctx == NULL || ctx->kind != MSG_ATTACH || ctx->phase != P_WAIT_AV) {
    /* An answer to a request already answered or given up. */
    free_batch(w, batch);
    return;
  }
  if (status != ST_OK || batch == POOL_NONE) {
    free_batch(w, batch);
    reject(w, vo, cid, ctx, ST_FAILED);
    return;
  }
  AkaVector *avs = idpool_get(w->batches, batch);
  AkaVector av = avs[0];
  if (vo->spare) {
    drop_spares(w, vo, ctx->dev);
    vo->spare[ctx->dev] = batch;
    vo->spare_next[ctx->dev] = 1;
  } else {
    free_batch(w, batch);
  }
  challenge(w, vo, cid, ctx, &av);
  OPENSSL_cleanse(&av, sizeof av);
}

void
vo_on_auth_answer(SimEngine *sim, void *ctx_, uint64_t arg)
{
  World *w = ctx_;
  Msg *c = w_msg(w, arg);
  Vo *vo = w->vos[c->from];
  PoolId cid = c->ref;
  Msg *ctx = w_msg_lookup(w, cid);
  if (vo->down > 0) {
    w->st.vo_dropped++;
    w_msg_free(w, arg);
    if (ctx)
      end_ctx(w, cid, ctx);
    return;
  }
  if (ctx == NULL || ctx->kind != MSG_ATTACH || ctx->phase != P_WAIT_RES) {
    w_msg_free(w, arg);
    return;
  }
  if (w->cfg->registration_service.auth == SCN_AUTH_CERTIFICATE && c->status == ST_OK) {
    /* The proof is in the device's entry (wcert.h); checking it takes cert_verify_time. */
    fsm_goto(&vo_def, vo->index, &ctx->phase, P_VERIFY);
    sim_cancel(w->sim, ctx->timer);
    ctx->timer = SIM_EVENT_NONE;
    w_after(w, wrng_dist(&vo->r_verify, &vo->cfg->cert_verify_time), verified, cid);
    w_msg_free(w, arg);
    return;
  }
  switch (c->status) {
  case ST_OK:
    if (CRYPTO_memcmp(c->u.chal.res, ctx->u.av.xres, MIL_MAC_LEN) == 0) {
      w->st.aka_ok++;
      /* A granted device does not authenticate with its PIMSI again here (the secured
       * connection carries it to its USIM), so its spares go, as an MME deletes unused
       * vectors at detach; they serve only retries after failures. */
      drop_spares(w, vo, ctx->dev);
      VLOG(w, ctx, "RES = XRES: temporary access granted");
      w_after(w, 0, dev_on_granted, dev_arg(ctx->dev, ctx->seq, 0));
      end_ctx(w, cid, ctx);
    } else {
      w->st.aka_failures++;
      w->st.aka_res_mismatch++;
      reject(w, vo, cid, ctx, ST_MAC_FAILURE);
    }
    break;
  case ST_SYNC_FAILURE:
    drop_spares(w, vo, ctx->dev);
    ctx->status = ST_SYNC_FAILURE;
    /* The context keeps RAND where the AV had it; the AUTS goes with it to the RS. */
    memcpy(ctx->u.chal.rand, c->u.chal.rand, 16);
    memcpy(ctx->u.chal.auts, c->u.chal.auts, AKA_AUTS_LEN);
    ctx->tries = 0;
    VLOG(w, ctx, "sync failure: AUTS to the RS");
    request_av(w, vo, cid, ctx);
    break;
  default:
    w->st.aka_failures++;
    reject(w, vo, cid, ctx, ST_MAC_FAILURE);
    break;
  }
  w_msg_free(w, arg);
}

void
vo_on_timeout(SimEngine *sim, void *ctx_, uint64_t arg)
{
  World *w = ctx_;
  Msg *ctx = w_msg_lookup(w, arg);
  if (ctx == NULL)
    return;
  ctx->timer = SIM_EVENT_NONE;
  Vo *vo = w->vos[ctx->from];
  fsm_accept(&vo_def, vo->index, ctx->phase, E_TIMEOUT);
  if (ctx->phase == P_WAIT_AV) {
    w->st.rs_timeouts++;
    if (ctx->tries < VO_RS_TRIES) {
      request_av(w, vo, arg, ctx);
    } else {
      w->st.vo_timeouts_given_up++;
      reject(w, vo, arg, ctx, ST_FAILED);
    }
  } else {
    VLOG(w, ctx, "no answer from the device");
    w_msg_free(w, arg);
  }
}
