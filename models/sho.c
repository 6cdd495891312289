/* A Selected Home Operator (see sho.h): TR 33.812 alternative 1, step 2 (registration of
 * the owner's equipment, then at the RS) and interaction 4 (USIM download).
 *
 * Which devices an SHO knows: one bit per device in its own bitmap, set when the owner
 * registers the device with it. Requests to the RS (registration, release) are pending
 * records resent after growing timeouts (w_timeout) until acknowledged. The key fetch of a download
 * is tried twice, then the device is refused (it will come back after its back-off).
 *
 * Download: the SHO checks the device's proof of K_SHO (the key the RS derived from the
 * device's AKA run or certificate key exchange), then, when `authenticate` says so,
 * authenticates the device itself, for real, "in addition to" the RS:
 *  - aka: an AV from the RS's AV servers (IND of its own), the device's USIM checks AUTN
 *    (its SQN advances), RES is compared with XRES in constant time;
 *  - certificate: the RS's trust bundle (cached like a VO's, wcert.h), a fresh nonce,
 *    the device's signature and certificate checked;
 * which costs a round trip to the device (roaming_delay of its VO, twice) plus auth_time;
 * a device that fails is refused and comes back after its back-off. Then it waits
 * download_time and makes the real subscription -- IMSI 001-(01 + index)-MSIN, MSINs in
 * order from 1, K from the DRBG, OPc from K and the SHO's OP -- and seals it under K_SEAL.
 * Work in progress when an outage starts completes; new requests are dropped. */
#include "sho.h"

#include <openssl/crypto.h>
#include <string.h>

#include "device.h"
#include "m2m/kdf.h"
#include "owner.h"
#include "rs.h"
#include "vo.h"
#include "wcert.h"
#include "wrand.h"

enum { SHO_KEY_TRIES = 2 };
enum { P_REG = 1, P_KEY = 2, P_DOWNLOAD = 3, P_RELEASE = 4, P_AUTH = 5 };

static const FsmState req_states[] = {
    {"NEW", 0, 0},      {"REGISTER", 0, 0}, {"KEY", 0, 0},
    {"DOWNLOAD", 0, 0}, {"RELEASE", 0, 0},  {"AUTH", 0, 0},
};
static const char *const req_events[] = {"-"};
static const FsmDef sho_def = {"HomeOperator", req_states, 6, req_events, 1};

struct Sho {
  uint32_t index;
  const ScnHomeOperator *cfg;
  int down;
  WRng r_rs, r_dl, r_auth;
  uint16_t mnc;
  unsigned mnc_len;
  uint64_t next_msin;
  uint8_t op[16];
  uint64_t *known; /* bitmap by device id */
};

#define HLOG(w, p, fmt, ...)                                                                       \
  FSM_LOG((w)->log, w_now(w), &sho_def, (p)->from, (p)->phase, "dev %u: " fmt, (p)->dev,           \
          ##__VA_ARGS__)

Sho *
sho_new(World *w, uint32_t index, GError **error)
{
  Sho *s = g_new0(Sho, 1);
  s->index = index;
  s->cfg = &w->cfg->home_operators[index];
  wrng_init(&s->r_rs, w->seed, WR_SHO, index, 1);
  wrng_init(&s->r_dl, w->seed, WR_SHO, index, 2);
  wrng_init(&s->r_auth, w->seed, WR_SHO, index, 3);
  s->mnc = (uint16_t)(index + 1);
  s->mnc_len = s->mnc < 100 ? 2 : 3;
  s->next_msin = 1;
  w_random(w, s->op, sizeof s->op);
  s->known = g_try_malloc0_n((w->total_devices + 63) / 64 + 1, sizeof(uint64_t));
  if (s->known == NULL) {
    g_set_error(error, WORLD_ERROR, WORLD_ERROR_SETUP, "%s: cannot allocate", s->cfg->name);
    sho_free(s);
    return NULL;
  }
  return s;
}

void
sho_free(Sho *s)
{
  if (s == NULL)
    return;
  OPENSSL_cleanse(s->op, sizeof s->op);
  g_free(s->known);
  g_free(s);
}

size_t
sho_memory(const World *w)
{
  return w->n_sho * ((w->total_devices + 63) / 64 + 1) * sizeof(uint64_t);
}

void
sho_set_down(World *w, uint32_t index, int delta)
{
  w->shos[index]->down += delta;
}

SimTime
sho_rs_delay(World *w, uint32_t index)
{
  Sho *s = w->shos[index];
  return wrng_dist(&s->r_rs, &s->cfg->register_delay);
}

static bool
knows(const Sho *s, uint32_t dev)
{
  return (s->known[dev / 64] >> (dev % 64)) & 1;
}

/* (Re)sends a pending request to the RS. */
static void
send_to_rs(World *w, Sho *s, PoolId pid, Msg *p)
{
  p->tries++;
  sim_cancel(w->sim, p->timer);
  p->timer = w_after(w, w_timeout(w, p->tries), sho_on_timeout, pid);
  SimHandler fn = p->phase == P_REG    ? rs_on_sho_register
                  : p->phase == P_KEY  ? rs_on_key_request
                  : p->phase == P_AUTH ? rs_on_av_request
                                       : rs_on_release;
  w_after(w, sho_rs_delay(w, s->index), fn, pid);
}

void
sho_on_owner_register(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  Msg *o = w_msg_lookup(w, arg);
  if (o == NULL)
    return;
  Sho *s = w->shos[o->from];
  if (s->down > 0) {
    w->st.sho_dropped++;
    return;
  }
  if (!knows(s, o->dev)) {
    s->known[o->dev / 64] |= UINT64_C(1) << (o->dev % 64);
    Msg *p;
    PoolId pid = w_msg_new(w, MSG_SHO_REG, &p);
    p->dev = o->dev;
    p->pimsi = o->pimsi;
    p->from = s->index;
    p->phase = P_REG;
    p->t0 = w_now(w);
    HLOG(w, p, "registered by its owner; registering at the RS");
    send_to_rs(w, s, pid, p);
  }
  w_after(w, owners_delay(w), owner_on_ack, arg);
}

void
sho_on_rs_ack(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  Msg *p = w_msg_lookup(w, arg);
  if (p == NULL)
    return;
  if (w->shos[p->from]->down > 0) {
    w->st.sho_dropped++;
    return; /* the ack is lost; the timeout resends */
  }
  sim_cancel(w->sim, p->timer);
  w_msg_free(w, arg);
}

static void
refuse_device(World *w, PoolId did, Msg *d)
{
  w->st.sho_refusals++;
  HLOG(w, d, "download refused");
  w_after(w, vo_roaming_delay(w, d->aux), dev_on_download_refused, dev_arg(d->dev, d->seq, 0));
  sim_cancel(w->sim, d->timer);
  w_msg_free(w, did);
}

void
sho_on_timeout(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  Msg *p = w_msg_lookup(w, arg);
  if (p == NULL)
    return;
  p->timer = SIM_EVENT_NONE;
  Sho *s = w->shos[p->from];
  w->st.rs_timeouts++;
  if ((p->phase == P_KEY || p->phase == P_AUTH) && p->tries >= SHO_KEY_TRIES) {
    refuse_device(w, arg, p);
    return;
  }
  HLOG(w, p, "no answer from the RS: again");
  send_to_rs(w, s, arg, p);
}

void
sho_on_download(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  Msg *d = w_msg(w, arg);
  Sho *s = w->shos[d->from];
  if (s->down > 0) {
    w->st.sho_dropped++;
    w_msg_free(w, arg);
    return;
  }
  if (!knows(s, d->dev)) {
    refuse_device(w, arg, d);
    return;
  }
  w_after(w, vo_roaming_delay(w, d->aux), dev_on_download_started, dev_arg(d->dev, d->seq, 0));
  d->phase = P_KEY;
  d->tries = 0;
  HLOG(w, d, "download request; K_SHO from the RS");
  send_to_rs(w, s, arg, d);
}

static void download_done(SimEngine *sim, void *ctx, uint64_t arg);
static void start_download(World *w, Sho *s, PoolId did, Msg *d);

void
sho_on_key(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  Msg *k = w_msg(w, arg);
  Sho *s = w->shos[k->from];
  PoolId did = k->ref;
  Msg *d = w_msg_lookup(w, did);
  if (s->down > 0) {
    w->st.sho_dropped++;
    w_msg_free(w, arg);
    return; /* the download context times out and tries again */
  }
  if (d == NULL || d->kind != MSG_DOWNLOAD || d->phase != P_KEY) {
    w_msg_free(w, arg);
    return;
  }
  sim_cancel(w->sim, d->timer);
  d->timer = SIM_EVENT_NONE;
  bool ok = k->status == ST_OK;
  if (ok) {
    uint8_t proof[16];
    w_key_confirm(k->u.key, proof);
    ok = CRYPTO_memcmp(proof, d->u.conn.proof, 16) == 0;
  }
  if (!ok) {
    w_msg_free(w, arg);
    refuse_device(w, did, d);
    return;
  }
  memcpy(d->u.key, k->u.key, 32);
  w_msg_free(w, arg);
  switch (s->cfg->authenticate) {
  case SCN_SHO_AUTH_NONE:
    start_download(w, s, did, d);
    break;
  case SCN_SHO_AUTH_AKA:
    d->phase = P_AUTH;
    d->tries = 0;
    w->st.sho_av_requests++;
    HLOG(w, d, "device proved K_SHO; an AV from the RS for our own AKA");
    send_to_rs(w, s, did, d);
    break;
  case SCN_SHO_AUTH_CERTIFICATE:
    d->phase = P_AUTH;
    HLOG(w, d, "device proved K_SHO; checking its certificate");
    wcert_need_verifier(w, wcert_sho_trust(w, s->index), did);
    break;
  }
}

static void
start_download(World *w, Sho *s, PoolId did, Msg *d)
{
  d->phase = P_DOWNLOAD;
  SimTime t = wrng_dist(&s->r_dl, &s->cfg->download_time);
  HLOG(w, d, "downloading the USIM (%.3f s)", sim_time_to_s(t));
  w_after(w, t, download_done, did);
}

/* The SHO's own authentication ended (d->status); it took a round trip to the device and
 * auth_time. */
static void
auth_done(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  Msg *d = w_msg_lookup(w, arg);
  if (d == NULL || d->phase != P_AUTH)
    return;
  Sho *s = w->shos[d->from];
  if (d->status != ST_OK) {
    w->st.sho_auth_failures++;
    HLOG(w, d, "the device failed our authentication");
    OPENSSL_cleanse(d->u.key, 32);
    refuse_device(w, arg, d);
    return;
  }
  w->st.sho_auth_ok++;
  start_download(w, s, arg, d);
}

static void
end_auth(World *w, Sho *s, PoolId did, Msg *d, bool ok)
{
  d->status = ok ? ST_OK : ST_REFUSED;
  SimTime t = vo_roaming_delay(w, d->aux) + vo_roaming_delay(w, d->aux) +
              wrng_dist(&s->r_auth, &s->cfg->auth_time);
  w_after(w, t, auth_done, did);
}

void
sho_on_av_answer(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  Msg *j = w_msg(w, arg);
  Sho *s = w->shos[j->from];
  PoolId did = j->ref, batch = j->batch;
  uint8_t status = j->status;
  w_msg_free(w, arg);
  Msg *d = w_msg_lookup(w, did);
  if (d == NULL || d->kind != MSG_DOWNLOAD || d->phase != P_AUTH || s->down > 0) {
    if (batch != POOL_NONE)
      idpool_release(w->batches, batch);
    return;
  }
  sim_cancel(w->sim, d->timer);
  d->timer = SIM_EVENT_NONE;
  if (status != ST_OK || batch == POOL_NONE) {
    if (batch != POOL_NONE)
      idpool_release(w->batches, batch);
    OPENSSL_cleanse(d->u.key, 32);
    refuse_device(w, did, d);
    return;
  }
  AkaVector *av = idpool_get(w->batches, batch);
  uint8_t res[MIL_MAC_LEN];
  AkaStatus st = dev_usim_answer(w, d->dev, av->rand, av->autn, res);
  bool ok = st == AKA_OK && CRYPTO_memcmp(res, av->xres, MIL_MAC_LEN) == 0;
  OPENSSL_cleanse(res, sizeof res);
  OPENSSL_cleanse(av, sizeof *av * w->cfg->registration_service.av_batch);
  idpool_release(w->batches, batch);
  end_auth(w, s, did, d, ok);
}

void
sho_on_ca_ready(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  Msg *d = w_msg_lookup(w, arg);
  if (d == NULL || d->kind != MSG_DOWNLOAD || d->phase != P_AUTH)
    return;
  Sho *s = w->shos[d->from];
  uint32_t trust = wcert_sho_trust(w, s->index);
  if (!wcert_has_verifier(w, trust)) {
    OPENSSL_cleanse(d->u.key, 32);
    refuse_device(w, arg, d);
    return;
  }
  uint8_t nonce[CERT_NONCE_LEN], master[CERT_MASTER_LEN];
  w_random(w, nonce, sizeof nonce);
  wcert_prove(w, d->dev, d->pimsi, dev_wrong_credentials(w, d->dev), nonce, s->cfg->name, false,
              master);
  OPENSSL_cleanse(master, sizeof master); /* the SHO keys stay those from the RS */
  end_auth(w, s, arg, d, wcert_check_last(w, trust, d->dev, nonce, s->cfg->name) == CERT_OK);
}

static void
download_done(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  Msg *d = w_msg(w, arg);
  Sho *s = w->shos[d->from];
  Imsi pimsi = rs_pimsi_imsi(w, d->pimsi);
  SealUsim usim;
  if (!imsi_make(1, s->mnc, s->mnc_len, s->next_msin++, 12 - s->mnc_len, &usim.imsi, NULL))
    g_error("%s: IMSI range exhausted", s->cfg->name);
  w_random(w, usim.k, 16);
  mil_opc(w->mil, usim.k, s->op, usim.opc);
  uint8_t k_seal[KDF_SEAL_KEY_LEN], nonce[SEAL_NONCE_LEN];
  if (!kdf_seal_key(d->u.key, pimsi, k_seal))
    g_error("kdf_seal_key failed");
  w_random(w, nonce, sizeof nonce);
  Msg *p;
  PoolId pid = w_msg_new(w, MSG_PACKAGE, &p);
  p->dev = d->dev;
  p->seq = d->seq;
  p->from = s->index;
  if (seal_pack(k_seal, pimsi, &usim, nonce, p->u.pkg) != SEAL_OK)
    g_error("seal_pack failed");
  OPENSSL_cleanse(&usim, sizeof usim);
  OPENSSL_cleanse(k_seal, sizeof k_seal);
  w->st.sho_downloads++;
  HLOG(w, d, "sealed USIM sent");
  w_after(w, vo_roaming_delay(w, d->aux), dev_on_package, pid);
  OPENSSL_cleanse(d->u.key, 32);
  w_msg_free(w, arg);
}

void
sho_on_installed(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  Msg *r = w_msg(w, arg);
  Sho *s = w->shos[r->from];
  if (s->down > 0) {
    /* Lost: this PIMSI will never be released (counted). */
    w->st.sho_dropped++;
    w->st.rs_orphaned++;
    w_msg_free(w, arg);
    return;
  }
  r->phase = P_RELEASE;
  r->tries = 0;
  r->timer = SIM_EVENT_NONE;
  HLOG(w, r, "USIM installed; PIMSI release at the RS");
  send_to_rs(w, s, arg, r);
}
