/* A Selected Home Operator (see sho.h): TR 33.812 alternative 1, step 2 (registration of
 * the owner's equipment, then at the RS) and interaction 4 (USIM download).
 *
 * What an SHO keeps per device: two octets (ShoSub: known since the owner registered it,
 * subscribed once its USIM was made, SEQ_HE, PIMSI released). Requests to the RS go
 * through the request helper: registrations and releases are resent after growing waits
 * until acknowledged; the key fetch of a download (and the AV of the SHO's own AKA) is
 * tried twice, then the device is refused (it will come back after its back-off).
 *
 * Home network of the real IMSI: a VO's AV request for it gets one AV from the
 * subscriber's K and OPc (derived from the SHO's secret and the IMSI) and SEQ_HE, with
 * IND = the VO's index (a resync first when it carries an AUTS); the VO's location update
 * after the grant releases the PIMSI at the RS, once.
 *
 * Download: a context in the SHO's table per download. The SHO checks the device's proof
 * of K_SHO (the key the RS derived from the device's AKA run or certificate key
 * exchange), then, when `authenticate` says so, authenticates the device itself, for
 * real, "in addition to" the RS:
 *  - aka: an AV from the RS's AV servers (IND of its own), sent to the device as a
 *    challenge; the device's USIM checks AUTN (its SQN advances) and answers RES, which is
 *    compared with XRES in constant time;
 *  - certificate: the RS's trust bundle (cached like a VO's, verifier.h), a fresh nonce sent
 *    to the device, the device's signature and certificate checked;
 * the challenge and the answer each travel the device's roaming link, then the check takes
 * auth_time; a device that fails is refused and comes back after its back-off. Then it
 * waits download_time and makes the real subscription -- IMSI 001-(01 + index)-MSIN, MSINs
 * in order from 1, K from the SHO's secret and the IMSI, OPc from K and the SHO's OP --
 * and seals it under K_SEAL. Work in progress when an outage starts completes; what
 * arrives is lost. */
#include "sho.h"

#include <math.h>
#include <openssl/crypto.h>
#include <stddef.h>
#include <string.h>

#include "m2m/kdf.h"
#include "m2m/resource.h"
#include "net.h"
#include "req.h"
#include "verifier.h"
#include "wrand.h"

/* Requests to the RS: registrations and releases until acknowledged; the key and the AV
 * of a download twice, then the device is refused. */
static const ReqPolicy register_policy = {"SHO registration", 0, true};
static const ReqPolicy release_policy = {"PIMSI release", 0, true};
static const ReqPolicy key_policy = {"K_SHO request", 2, true};
static const ReqPolicy av_policy = {"SHO AV request", 2, true};

/* A download context. */
typedef enum {
  D_NEW,
  D_KEY,
  D_AUTH_AV,
  D_AUTH_CA,
  D_AUTH_DEVICE,
  D_AUTH_CHECK,
  D_DOWNLOAD,
  D_N
} DlState;
typedef enum {
  E_DOWNLOAD,
  E_KEY,
  E_AV_ANSWER,
  E_CA_READY,
  E_DEVICE_ANSWER,
  E_CHECKED,
  E_DONE,
  E_GAVE_UP,
  E_N
} DlEvent;
static const char *const dl_events[E_N] = {"DOWNLOAD",      "KEY",     "AV_ANSWER", "CA_READY",
                                           "DEVICE_ANSWER", "CHECKED", "DONE",      "GAVE_UP"};
enum { T_NONE, T_DEVICE, T_AUTH, T_DOWNLOAD, T_N };
static const FsmTimer dl_timers[T_N] = {{"none", 0},
                                        {"request_timeout", E_GAVE_UP},
                                        {"auth_time", E_CHECKED},
                                        {"download_time", E_DONE}};

static void dl_action(void *ctx, uint64_t id, unsigned event, void *data);

#define B FSM_BIT
#define N(s) (1u << (s))
static const FsmState dl_states[D_N] = {
    [D_NEW] = {"NEW", B(E_DOWNLOAD), N(D_KEY), dl_action, 0},
    [D_KEY] = {"KEY", B(E_KEY) | B(E_GAVE_UP), N(D_AUTH_AV) | N(D_AUTH_CA) | N(D_DOWNLOAD),
               dl_action, 0},
    [D_AUTH_AV] = {"AUTH_AV", B(E_AV_ANSWER) | B(E_GAVE_UP), N(D_AUTH_DEVICE), dl_action, 0},
    [D_AUTH_CA] = {"AUTH_CA", B(E_CA_READY), N(D_AUTH_DEVICE), dl_action, 0},
    [D_AUTH_DEVICE] = {"AUTH_DEVICE", B(E_DEVICE_ANSWER) | B(E_GAVE_UP), N(D_AUTH_CHECK), dl_action,
                       T_DEVICE},
    [D_AUTH_CHECK] = {"AUTH_CHECK", B(E_CHECKED), N(D_DOWNLOAD), dl_action, T_AUTH},
    [D_DOWNLOAD] = {"DOWNLOAD", B(E_DONE), 0, dl_action, T_DOWNLOAD},
};
#undef B
#undef N
static const FsmDef sho_def = {"HomeOperator", dl_states, D_N, dl_events, E_N, dl_timers, T_N};

typedef struct {
  uint8_t state; /* DlState */
  uint8_t seq;   /* the device's download sequence */
  uint8_t ok;    /* D_AUTH_CHECK: the device passed */
  uint8_t pad;
  uint32_t sho, dev, pimsi;
  uint32_t via;                  /* the device's VO */
  PoolId req;                    /* the request to the RS in flight */
  SimEventId timer;              /* the state's timer */
  Imsi pimsi_imsi;               /* the device's PIMSI */
  uint8_t rand[16];              /* the run K_SHO comes from */
  uint8_t proof[16];             /* the device's key confirmation of K_SHO */
  uint8_t key[32];               /* K_SHO, once the RS sent it */
  uint8_t xres[MIL_MAC_LEN];     /* D_AUTH_DEVICE (aka): what RES must be */
  uint8_t nonce[CERT_NONCE_LEN]; /* D_AUTH_DEVICE (certificate): the challenge */
} ShoDl;

/* What an event brings to a download's state action. */
typedef struct {
  PoolId did;
  const Msg *m; /* the message that arrived, or NULL (timers) */
} DlArg;

/* What a home operator counts (SHO_FIGURES names the fields, in order), and what it
 * counts of its own authentication (reported when some home operator authenticates). */
typedef struct {
  uint64_t downloads, refusals, dropped, orphaned, rs_timeouts;
} ShoFigures;
#define SHO_FIGURES "sho.downloads sho.refusals sho.dropped rs.pimsi.orphaned sho.rs_timeouts"
typedef struct {
  uint64_t auth_ok, auth_failures, av_requests;
} ShoAuthFigures;
#define SHO_AUTH_FIGURES "sho.auth_ok sho.auth_failures sho.av_requests"

/* What a home operator keeps of a device: whether its owner registered it, and once it
 * has the real subscription, SEQ_HE (TS 33.102 Annex C.1.2) and whether its PIMSI went
 * back. Two octets: K and OPc are not stored but derived (sub_keys). */
typedef enum { SUB_UNKNOWN, SUB_KNOWN, SUB_SUBSCRIBED, SUB_RELEASED } SubState;
typedef struct {
  uint8_t state;  /* SubState */
  uint8_t seq_he; /* of the real subscription; AVs stop at 255 (a handful are ever used) */
} ShoSub;

/* The download servers' figures of one SHO, under its name: sho.NAME.download_wait_mean
 * (s), .download_wait_p99, .download_utilization, .download_queue_peak. */
typedef enum { DLF_WAIT_MEAN, DLF_WAIT_P99, DLF_UTILISATION, DLF_QUEUE_PEAK, DLF_N } DlFigure;
typedef struct {
  Sho *s;
  DlFigure what;
} DlProbe;

struct Sho {
  ShoFigures fig;
  ShoAuthFigures auth_fig;
  Verifier *verifier; /* authenticate: certificate: the RS's trust bundle and the checks */
  uint32_t index;
  const ScnHomeOperator *cfg;
  WRng r_dl, r_auth;
  uint16_t mnc;
  unsigned mnc_len;
  uint64_t next_msin;
  uint8_t op[16];
  uint8_t secret[32]; /* subscriber keys derive from it (sub_keys) */
  ShoSub *sub;        /* by device id */
  uint64_t n_dev;
  SimResource *dl; /* the download servers; NULL: no limit */
  DlProbe dl_probes[DLF_N];
};

#define HLOG(w, d, fmt, ...)                                                                       \
  FSM_LOG((w)->log, w_now(w), &sho_def, (d)->sho, (d)->state, "dev %u: " fmt, (d)->dev,            \
          ##__VA_ARGS__)

static Sho *
sho_at(World *w, uint32_t index)
{
  return w_inst(w, ROLE_SHO, index);
}

static void sho_destroy(void *p);

static double
dl_figure(void *ctx)
{
  const DlProbe *p = ctx;
  SimResource *r = p->s->dl;
  switch (p->what) {
  case DLF_WAIT_MEAN:
    return sim_resource_wait_s(r, SIM_RESOURCE_ALL, -1);
  case DLF_WAIT_P99:
    return sim_resource_wait_s(r, SIM_RESOURCE_ALL, 0.99);
  case DLF_UTILISATION:
    return sim_resource_utilisation(r);
  default:
    return (double)sim_resource_queue_peak(r);
  }
}

static void
register_download_figures(World *w, Sho *s)
{
  static const char *const suffix[DLF_N] = {"download_wait_mean", "download_wait_p99",
                                            "download_utilization", "download_queue_peak"};
  for (int i = 0; i < DLF_N; i++) {
    s->dl_probes[i] = (DlProbe){s, (DlFigure)i};
    g_autofree char *name = g_strdup_printf("sho.%s.%s", s->cfg->name, suffix[i]);
    stat_registry_value(w->figs, name, dl_figure, &s->dl_probes[i]);
  }
}

static void *
sho_create(World *w, uint32_t index, GError **error)
{
  Sho *s = g_new0(Sho, 1);
  s->index = index;
  s->cfg = &w->cfg->home_operators[index];
  /* Purpose 1 is the SHO's link to the RS (net.c). */
  wrng_init(&s->r_dl, w->seed, WR_SHO, index, 2);
  wrng_init(&s->r_auth, w->seed, WR_SHO, index, 3);
  stat_registry_counter_fields(w->figs, SHO_FIGURES, &s->fig, sizeof s->fig);
  stat_registry_counter(w->figs, "rs.timeouts",
                        &s->fig.rs_timeouts); /* the sum of every requester */
  bool auth = false;
  for (size_t i = 0; i < w->cfg->n_home_operators; i++)
    auth |= w->cfg->home_operators[i].authenticate != SCN_SHO_AUTH_NONE;
  if (auth)
    stat_registry_counter_fields(w->figs, SHO_AUTH_FIGURES, &s->auth_fig, sizeof s->auth_fig);
  if (s->cfg->authenticate == SCN_SHO_AUTH_CERTIFICATE)
    s->verifier = verifier_new(w, net_addr(ROLE_SHO, index), sho_ca_ready);
  if (s->cfg->download_servers > 0) {
    s->dl = sim_resource_new(w->sim, "sho.download", s->cfg->download_servers);
    register_download_figures(w, s);
  }
  s->mnc = (uint16_t)(index + 1);
  s->mnc_len = s->mnc < 100 ? 2 : 3;
  s->next_msin = 1;
  w_random(w, s->op, sizeof s->op);
  w_random(w, s->secret, sizeof s->secret);
  s->n_dev = w->total_devices;
  s->sub = w_big_new0(s->n_dev, sizeof(ShoSub));
  if (s->sub == NULL) {
    g_set_error(error, WORLD_ERROR, WORLD_ERROR_SETUP, "%s: cannot allocate", s->cfg->name);
    sho_destroy(s);
    return NULL;
  }
  return s;
}

static void
sho_destroy(void *p)
{
  Sho *s = p;
  OPENSSL_cleanse(s->op, sizeof s->op);
  OPENSSL_cleanse(s->secret, sizeof s->secret);
  verifier_free(s->verifier);
  sim_resource_free(s->dl);
  w_big_free(s->sub, s->n_dev, sizeof(ShoSub));
  g_free(s);
}

static size_t
sho_memory(const World *w, const void *p)
{
  return w->total_devices * sizeof(ShoSub);
}

static bool
knows(const Sho *s, uint32_t dev)
{
  return s->sub[dev].state != SUB_UNKNOWN;
}

/* A subscriber's K (and OPc from it and the operator's OP): derived from the operator's
 * secret and the IMSI, as an HSS would look them up (this keeps two octets per device). */
static void
sub_keys(World *w, const Sho *s, Imsi imsi, AkaKeys *keys)
{
  static const char label[] = "m2m-sho-subscriber";
  char digits[IMSI_STR_LEN];
  imsi_format(imsi, digits);
  uint8_t out[KDF_OUT_LEN];
  KdfParam p[2] = {{label, sizeof label - 1}, {digits, strlen(digits)}};
  if (!kdf_ctx_derive(w->kdf, s->secret, sizeof s->secret, KDF_FC_M2M_SUB, p, 2, out))
    g_error("subscriber key derivation failed");
  memcpy(keys->k, out, 16);
  OPENSSL_cleanse(out, sizeof out);
  mil_opc(w->mil, keys->k, s->op, keys->opc);
}

static NetAddr
self(const Sho *s)
{
  return net_addr(ROLE_SHO, s->index);
}

static Msg *
to_rs(World *w, Sho *s, MsgKind kind, uint32_t dev, uint32_t pimsi)
{
  Msg *m = net_msg_new(w, kind, self(s), net_addr(ROLE_RS, 0));
  m->dev = dev;
  m->pimsi = pimsi;
  return m;
}

/* A message from the SHO to the device of download d (through its VO). */
static Msg *
to_device(World *w, Sho *s, const ShoDl *d, MsgKind kind)
{
  Msg *m = net_msg_new(w, kind, self(s), net_addr(ROLE_DEV, d->dev));
  m->dev = d->dev;
  m->seq = d->seq;
  m->via = d->via;
  return m;
}

static void
end_dl(World *w, PoolId did, ShoDl *d)
{
  req_done(w, d->req);
  sim_cancel(w->sim, d->timer);
  explicit_bzero(d, sizeof *d);
  idpool_release(w->ctx[ROLE_SHO], did);
}

static void
refuse_device(World *w, Sho *s, PoolId did, ShoDl *d)
{
  s->fig.refusals++;
  HLOG(w, d, "download refused");
  net_send(w, to_device(w, s, d, MSG_DOWNLOAD_REFUSED), 0);
  end_dl(w, did, d);
}

static void on_timer(SimEngine *sim, void *ctx, uint64_t arg);

/* Enters a state whose timer runs `t`. */
static void
go_timed(World *w, PoolId did, ShoDl *d, DlState to, SimTime t)
{
  fsm_goto(&sho_def, d->sho, &d->state, to);
  sim_cancel(w->sim, d->timer);
  d->timer = w_after(w, t, on_timer, did);
}

static void
go(ShoDl *d, DlState to)
{
  fsm_goto(&sho_def, d->sho, &d->state, to);
}

static void dl_event(World *w, PoolId did, unsigned event, const Msg *m);

/* A download server is done with download `arg`. */
static void
dl_served(SimEngine *sim, void *ctx, uint64_t arg)
{
  dl_event(ctx, arg, E_DONE, NULL);
}

/* download_time, on one of the SHO's download_servers when it has a limit (FIFO while all
 * are busy), else at once. */
static void
start_download(World *w, Sho *s, PoolId did, ShoDl *d)
{
  SimTime t = wrng_dist(&s->r_dl, &s->cfg->download_time);
  if (s->dl == NULL) {
    go_timed(w, did, d, D_DOWNLOAD, t);
  } else {
    go(d, D_DOWNLOAD);
    sim_cancel(w->sim, d->timer);
    d->timer = SIM_EVENT_NONE;
    sim_resource_request(s->dl, t, dl_served, w, did);
  }
  HLOG(w, d, "downloading the USIM (%.3f s)", sim_time_to_s(t));
}

/* The device answered our own challenge (ok: it passed); the check takes auth_time. */
static void
check_device(World *w, Sho *s, PoolId did, ShoDl *d, bool ok)
{
  d->ok = ok;
  go_timed(w, did, d, D_AUTH_CHECK, wrng_dist(&s->r_auth, &s->cfg->auth_time));
}

static void
download_done(World *w, Sho *s, PoolId did, ShoDl *d)
{
  SealUsim usim;
  if (!imsi_make(1, s->mnc, s->mnc_len, s->next_msin++, 12 - s->mnc_len, &usim.imsi, NULL))
    g_error("%s: IMSI range exhausted", s->cfg->name);
  int64_t t0 = w_crypto_begin(w);
  AkaKeys keys;
  sub_keys(w, s, usim.imsi, &keys);
  memcpy(usim.k, keys.k, 16);
  memcpy(usim.opc, keys.opc, 16);
  OPENSSL_cleanse(&keys, sizeof keys);
  if (s->sub[d->dev].state == SUB_KNOWN)
    s->sub[d->dev].state = SUB_SUBSCRIBED;
  uint8_t k_seal[KDF_SEAL_KEY_LEN], nonce[SEAL_NONCE_LEN];
  if (!kdf_seal_key(w->kdf, d->key, d->pimsi_imsi, k_seal))
    g_error("kdf_seal_key failed");
  w_random(w, nonce, sizeof nonce);
  Msg *p = to_device(w, s, d, MSG_PACKAGE);
  if (seal_pack(w->seal, k_seal, d->pimsi_imsi, &usim, nonce, p->u.pkg) != SEAL_OK)
    g_error("seal_pack failed");
  w_crypto_end(w, t0);
  OPENSSL_cleanse(&usim, sizeof usim);
  OPENSSL_cleanse(k_seal, sizeof k_seal);
  s->fig.downloads++;
  HLOG(w, d, "sealed USIM sent");
  net_send(w, p, 0);
  end_dl(w, did, d);
}

/* The RS's K_SHO arrived: check the device's proof, then authenticate or download. */
static void
key_arrived(World *w, Sho *s, PoolId did, ShoDl *d, const Msg *k)
{
  d->req = POOL_NONE;
  bool ok = k->status == ST_OK;
  if (ok) {
    uint8_t proof[16];
    w_key_confirm(k->u.key, proof);
    ok = CRYPTO_memcmp(proof, d->proof, 16) == 0;
  }
  if (!ok) {
    refuse_device(w, s, did, d);
    return;
  }
  memcpy(d->key, k->u.key, 32);
  switch (s->cfg->authenticate) {
  case SCN_SHO_AUTH_NONE:
    start_download(w, s, did, d);
    break;
  case SCN_SHO_AUTH_AKA: {
    go(d, D_AUTH_AV);
    s->auth_fig.av_requests++;
    HLOG(w, d, "device proved K_SHO; an AV from the RS for our own AKA");
    Msg *r = to_rs(w, s, MSG_AV_REQUEST, d->dev, d->pimsi);
    r->ctx = did;
    d->req = req_send(w, &av_policy, r, did);
    break;
  }
  case SCN_SHO_AUTH_CERTIFICATE:
    go(d, D_AUTH_CA);
    HLOG(w, d, "device proved K_SHO; checking its certificate");
    verifier_need(w, s->verifier, did);
    break;
  }
}

static void
av_arrived(World *w, Sho *s, PoolId did, ShoDl *d, const Msg *a)
{
  d->req = POOL_NONE;
  if (a->status != ST_OK || a->batch == POOL_NONE) {
    refuse_device(w, s, did, d);
    return;
  }
  const AkaVector *av = idpool_get(w->batches, a->batch);
  memcpy(d->xres, av->xres, MIL_MAC_LEN);
  go_timed(w, did, d, D_AUTH_DEVICE, w->cfg->registration_service.request_timeout);
  Msg *c = to_device(w, s, d, MSG_SHO_CHALLENGE);
  c->ctx = did;
  memcpy(c->u.chal.rand, av->rand, 16);
  memcpy(c->u.chal.autn, av->autn, AKA_AUTN_LEN);
  net_send(w, c, 0);
}

static void
ca_ready(World *w, Sho *s, PoolId did, ShoDl *d)
{
  if (!verifier_ready(w, s->verifier)) {
    refuse_device(w, s, did, d);
    return;
  }
  w_random(w, d->nonce, sizeof d->nonce);
  go_timed(w, did, d, D_AUTH_DEVICE, w->cfg->registration_service.request_timeout);
  Msg *c = to_device(w, s, d, MSG_SHO_CHALLENGE);
  c->ctx = did;
  memcpy(c->u.chal.rand, d->nonce, sizeof d->nonce);
  net_send(w, c, 0);
}

static void
device_answered(World *w, Sho *s, PoolId did, ShoDl *d, const Msg *m)
{
  bool ok;
  if (s->cfg->authenticate == SCN_SHO_AUTH_AKA) {
    ok = m->status == ST_OK && CRYPTO_memcmp(m->u.chal.res, d->xres, MIL_MAC_LEN) == 0;
  } else {
    /* The certificate and proof the device sent, made for our nonce and name. */
    ok = m->status == ST_OK &&
         verifier_check(w, s->verifier, m->cert, d->nonce, s->cfg->name) == CERT_OK;
  }
  check_device(w, s, did, d, ok);
}

static void
dl_action(void *ctx, uint64_t id, unsigned event, void *data)
{
  World *w = ctx;
  Sho *s = sho_at(w, id);
  const DlArg *a = data;
  PoolId did = a->did;
  const Msg *m = a->m;
  ShoDl *d = idpool_get(w->ctx[ROLE_SHO], did);
  switch (event) {
  case E_DOWNLOAD:
    go(d, D_KEY);
    HLOG(w, d, "download request; K_SHO from the RS");
    {
      Msg *r = to_rs(w, s, MSG_KEY_REQUEST, d->dev, d->pimsi);
      r->ctx = did;
      memcpy(r->u.conn.rand, d->rand, 16);
      d->req = req_send(w, &key_policy, r, did);
    }
    break;
  case E_KEY:
    key_arrived(w, s, did, d, m);
    break;
  case E_AV_ANSWER:
    av_arrived(w, s, did, d, m);
    break;
  case E_CA_READY:
    ca_ready(w, s, did, d);
    break;
  case E_DEVICE_ANSWER:
    device_answered(w, s, did, d, m);
    break;
  case E_CHECKED:
    if (!d->ok) {
      s->auth_fig.auth_failures++;
      HLOG(w, d, "the device failed our authentication");
      refuse_device(w, s, did, d);
      break;
    }
    s->auth_fig.auth_ok++;
    start_download(w, s, did, d);
    break;
  case E_DONE:
    download_done(w, s, did, d);
    break;
  case E_GAVE_UP: /* the RS (key, AV) or the device (our challenge) did not answer */
    d->req = POOL_NONE;
    refuse_device(w, s, did, d);
    break;
  }
}

/* Runs event `event` on download `did` (with message m, or NULL). */
static void
dl_event(World *w, PoolId did, unsigned event, const Msg *m)
{
  ShoDl *d = idpool_get(w->ctx[ROLE_SHO], did);
  DlArg a = {did, m};
  fsm_dispatch(&sho_def, d->sho, d->state, event, w, &a);
}

static void
on_timer(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  ShoDl *d = idpool_get(w->ctx[ROLE_SHO], arg);
  d->timer = SIM_EVENT_NONE;
  dl_event(w, arg, fsm_timer_event(&sho_def, fsm_state_timer(&sho_def, d->state)), NULL);
}

void
sho_ca_ready(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  ShoDl *d = idpool_lookup(w->ctx[ROLE_SHO], arg);
  if (d == NULL || d->state != D_AUTH_CA)
    return;
  dl_event(w, arg, E_CA_READY, NULL);
}

/* ---- what arrives -------------------------------------------------------------------- */

static void
on_owner_register(World *w, Sho *s, const Msg *o)
{
  if (o->blob != NULL) { /* a fleet: the units new here, registered at the RS in one go */
    gsize len;
    const MsgUnit *u = g_bytes_get_data(o->blob, &len);
    GArray *fresh = g_array_new(FALSE, FALSE, sizeof(MsgUnit));
    for (gsize i = 0; i < len / sizeof(MsgUnit); i++)
      if (!knows(s, u[i].dev)) {
        s->sub[u[i].dev].state = SUB_KNOWN;
        g_array_append_val(fresh, u[i]);
      }
    if (fresh->len > 0) {
      FSM_LOG(w->log, w_now(w), &sho_def, s->index, D_NEW,
              "fleet of %u units registered by its owner; registering at the RS", fresh->len);
      const MsgUnit *f = &g_array_index(fresh, MsgUnit, 0);
      Msg *r = to_rs(w, s, MSG_SHO_REGISTER, f->dev, f->pimsi);
      r->aux = fresh->len;
      r->blob = g_bytes_new(fresh->data, fresh->len * sizeof(MsgUnit));
      req_send(w, &register_policy, r, 0);
    }
    g_array_free(fresh, TRUE);
  } else if (!knows(s, o->dev)) {
    s->sub[o->dev].state = SUB_KNOWN;
    FSM_LOG(w->log, w_now(w), &sho_def, s->index, D_NEW,
            "dev %u: registered by its owner; registering at the RS", o->dev);
    req_send(w, &register_policy, to_rs(w, s, MSG_SHO_REGISTER, o->dev, o->pimsi), 0);
  }
  net_send(w, net_answer_new(w, o, MSG_OWNER_ACK), 0);
}

static void
on_download(World *w, Sho *s, const Msg *m)
{
  void *p;
  PoolId did = idpool_alloc(w->ctx[ROLE_SHO], &p);
  ShoDl *d = p;
  d->sho = s->index;
  d->dev = m->dev;
  d->seq = m->seq;
  d->pimsi = m->pimsi;
  d->via = m->via;
  d->pimsi_imsi = m->u.conn.imsi;
  memcpy(d->rand, m->u.conn.rand, 16);
  memcpy(d->proof, m->u.conn.proof, 16);
  if (!knows(s, m->dev)) {
    refuse_device(w, s, did, d);
    return;
  }
  net_send(w, to_device(w, s, d, MSG_DOWNLOAD_STARTED), 0);
  dl_event(w, did, E_DOWNLOAD, m);
}

/* An answer of the RS for download m->ctx, if its request is still pending. */
static void
rs_answer(World *w, const Msg *m, DlEvent event)
{
  uint64_t did;
  if (!req_pending(w, m->txn, &did))
    return;
  req_done(w, m->txn);
  dl_event(w, did, event, m);
}

/* As the home network of a real IMSI: a VO's AV request for its subscriber (with an AUTS
 * after a sync failure: SEQ_HE follows the USIM's SQN_MS), one AV, IND = the VO's. */
static void
on_home_av_request(World *w, Sho *s, const Msg *q)
{
  Msg *a = net_answer_new(w, q, MSG_AV_ANSWER);
  ShoSub *sub = &s->sub[q->dev];
  a->status = ST_REFUSED;
  if (sub->state >= SUB_SUBSCRIBED) {
    int64_t t0 = w_crypto_begin(w);
    AkaKeys keys;
    sub_keys(w, s, q->imsi, &keys);
    uint64_t seq = sub->seq_he;
    bool ok = true;
    if (q->status == ST_SYNC_FAILURE)
      ok = aka_he_resync(&w->aka, w->mil, &keys, &seq, q->u.chal.rand, q->u.chal.auts, NULL) ==
           AKA_OK;
    if (ok && seq < UINT8_MAX) {
      void *p;
      PoolId bid = idpool_alloc(w->batches, &p);
      unsigned ind = net_addr_index(q->from) & ((1u << w->aka.ind_bits) - 1);
      if (aka_he_generate(&w->aka, w->mil, &keys, &seq, ind, 0x0000, &w->aka_rand, p, 1) ==
          AKA_OK) {
        a->batch = bid;
        a->status = ST_OK;
        sub->seq_he = (uint8_t)seq;
      } else {
        idpool_release(w->batches, bid);
      }
    }
    OPENSSL_cleanse(&keys, sizeof keys);
    w_crypto_end(w, t0);
  }
  net_send(w, a, 0);
}

/* A VO has the device attached with its real IMSI: the provisioning is complete, and the
 * PIMSI goes back to the RS (once, however often the VO resends this). */
static void
on_update_location(World *w, Sho *s, const Msg *u)
{
  ShoSub *sub = &s->sub[u->dev];
  if (sub->state == SUB_SUBSCRIBED) {
    sub->state = SUB_RELEASED;
    FSM_LOG(w->log, w_now(w), &sho_def, s->index, D_NEW,
            "dev %u: attached with its real IMSI; PIMSI release at the RS", u->dev);
    req_send(w, &release_policy, to_rs(w, s, MSG_RELEASE, u->dev, u->pimsi), 0);
  }
  net_send(w, net_answer_new(w, u, MSG_LOCATION_ACK), 0);
}

static void
sho_dispatch(World *w, Msg *m)
{
  Sho *s = sho_at(w, net_addr_index(m->to));
  switch (m->kind) {
  case MSG_OWNER_REGISTER:
    on_owner_register(w, s, m);
    break;
  case MSG_RS_ACK:
    req_done(w, m->txn);
    break;
  case MSG_DOWNLOAD:
    on_download(w, s, m);
    break;
  case MSG_KEY:
    rs_answer(w, m, E_KEY);
    break;
  case MSG_AV_ANSWER:
    rs_answer(w, m, E_AV_ANSWER);
    break;
  case MSG_SHO_AUTH_ANSWER: {
    ShoDl *d = idpool_lookup(w->ctx[ROLE_SHO], m->ctx);
    if (d != NULL && d->state == D_AUTH_DEVICE)
      dl_event(w, m->ctx, E_DEVICE_ANSWER, m);
    break;
  }
  case MSG_AV_REQUEST:
    on_home_av_request(w, s, m);
    break;
  case MSG_UPDATE_LOCATION:
    on_update_location(w, s, m);
    break;
  case MSG_CA_BUNDLE:
    verifier_bundle_arrived(w, s->verifier, m);
    break;
  default:
    g_error("HomeOperator: message %s not expected", msg_kind_info[m->kind].name);
  }
}

/* Lost in an outage. An AV answer goes unnoticed (its request times out); a lost
 * "installed" leaves the PIMSI held for good. */
static void
sho_lost(World *w, Msg *m)
{
  Sho *s = sho_at(w, net_addr_index(m->to));
  switch (m->kind) {
  case MSG_AV_ANSWER:
    return;
  case MSG_RS_ACK:
    if (!req_pending(w, m->txn, NULL))
      return; /* a second ack: nobody waits for it */
    break;
  default:
    break;
  }
  s->fig.dropped++;
}

static void
sho_req_timeout(World *w, PoolId req, uint64_t ref, const Msg *sent, unsigned tries, bool give_up)
{
  if (sent->kind == MSG_CA_FETCH) {
    verifier_fetch_timeout(w, sho_at(w, net_addr_index(sent->from))->verifier, give_up);
    return;
  }
  sho_at(w, net_addr_index(sent->from))->fig.rs_timeouts++;
  if (give_up) { /* a download's key or AV request */
    dl_event(w, ref, E_GAVE_UP, NULL);
    return;
  }
  FSM_LOG(w->log, w_now(w), &sho_def, net_addr_index(sent->from), D_NEW,
          "dev %u: no answer from the RS: again", sent->dev);
}

/* A ShoSub per device at each SHO (whether it knows it, its SEQ_HE). */
static double
sho_device_bytes(const ScnConfig *cfg)
{
  return (double)cfg->n_home_operators * sizeof(ShoSub);
}

/* clang-format off */
const RoleClass sho_role = {
    .name = "HomeOperator", .instances = offsetof(ScnConfig, n_home_operators),
    .create = sho_create, .destroy = sho_destroy, .memory = sho_memory, .device_bytes = sho_device_bytes,
    .ctx_size = sizeof(ShoDl), .dispatch = sho_dispatch, .lost = sho_lost,
    .req_timeout = sho_req_timeout};
/* clang-format on */
