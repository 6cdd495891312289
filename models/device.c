/* M2M equipment (see device.h): the field side of TR 33.812 alternative 1, step 3.
 *
 * Storage: one Dev row per device in a flat array sized from the scenario's total, and
 * the USIM's Annex C SQN state in a second flat array of (1 + 2^ind_bits) words per
 * device, so a device costs a few hundred octets and no heap allocation. Both arrays are
 * mapped zeroed up front (w_big_new0); the OS gives them pages only when devices are
 * made.
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

#include "m2m/kdf.h"
#include "rs.h"
#include "sho.h"
#include "vo.h"
#include "wcert.h"
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
  E_ATTACHED,
  E_N
} DevEvent;

static const char *const ev_names[E_N] = {
    "CREDENTIALS", "FACTORY_USIM", "POWER_ON",      "REFUSED",     "CHALLENGE",
    "GRANTED",     "REJECTED",     "GUARD_TIMEOUT", "BACKOFF_END", "LOOKUP_ANSWER",
    "DL_STARTED",  "DL_REFUSED",   "PACKAGE",       "ATTACHED",
};

#define B FSM_BIT
#define N(s) (UINT32_C(1) << (s))
static const FsmState states[S_N] = {
    [S_PRODUCED] = {"PRODUCED", B(E_CREDENTIALS) | B(E_FACTORY_USIM), N(S_STORED) | N(S_FACTORY)},
    [S_STORED] = {"STORED", B(E_POWER_ON), N(S_ATTACHING)},
    [S_FACTORY] = {"FACTORY", 0, 0},
    [S_ATTACHING] = {"ATTACHING",
                     B(E_REFUSED) | B(E_CHALLENGE) | B(E_GRANTED) | B(E_REJECTED) | B(E_GUARD),
                     N(S_ATTACHING) | N(S_BACKOFF) | N(S_LOOKUP) | N(S_FAILED)},
    [S_BACKOFF] = {"BACKOFF", B(E_BACKOFF_END), N(S_ATTACHING)},
    [S_LOOKUP] = {"LOOKUP", B(E_LOOKUP_ANSWER) | B(E_GUARD),
                  N(S_LOOKUP) | N(S_NO_SHO) | N(S_DOWNLOADING)},
    [S_NO_SHO] = {"NO_SHO", B(E_BACKOFF_END), N(S_LOOKUP)},
    [S_DOWNLOADING] = {"DOWNLOADING", B(E_DL_STARTED) | B(E_DL_REFUSED) | B(E_PACKAGE) | B(E_GUARD),
                       N(S_DOWNLOADING) | N(S_NO_SHO) | N(S_REATTACHING)},
    [S_REATTACHING] = {"REATTACHING", B(E_ATTACHED), N(S_DONE)},
    [S_DONE] = {"DONE", 0, 0},
    [S_FAILED] = {"FAILED", 0, 0},
};
#undef B
#undef N

static const FsmDef dev_def = {"Device", states, S_N, ev_names, E_N};

const FsmDef *
dev_fsm(void)
{
  return &dev_def;
}

enum { F_WRONG_K = 1, F_DESYNC = 2 };
enum { T_GUARD = 1, T_BACKOFF = 2, T_ATTACHED = 3 };

typedef struct {
  uint8_t state;          /* DevState */
  uint8_t seq;            /* sequence of the current request */
  uint8_t vo;             /* VO of the current attach (index) */
  uint8_t flags;          /* F_* */
  uint8_t mac_failures;   /* MAC failures so far */
  uint8_t timeouts;       /* consecutive request timeouts (RS lookup, SHO) */
  uint16_t attempts;      /* attach rounds ended in back-off */
  uint16_t lookups;       /* RS lookups answered "no SHO" (back-off exponent) */
  uint16_t sho;           /* SHO index + 1 the RS named, 0 none */
  uint32_t mfr;           /* manufacturer index */
  uint32_t pimsi;         /* PIMSI index */
  uint64_t tried;         /* VOs refused in this round (bit per VO index) */
  SimEventId timer;       /* guard, back-off or re-attach timer */
  SimTime t_power_on;     /* us */
  Imsi imsi;              /* real IMSI once provisioned */
  uint8_t k[16], opc[16]; /* preliminary credentials, then the real ones */
  uint8_t rand[16];       /* RAND of the last successful AKA run */
  uint8_t proof_rs[16];   /* proof of K_RS for that run (the secured connection's key) */
  uint8_t k_sho[32];      /* K_SHO for that run */
} Dev;

struct DevTable {
  Dev *devs;
  uint64_t *usim; /* (1 + slots) words per device: SQN_MS, SEQ_MS(0..slots-1) */
  unsigned slots; /* 2^ind_bits */
  uint64_t capacity;
  uint32_t n; /* devices made so far */
  WRng r_power_on, r_vo, r_desync, r_backoff;
  double *vo_share; /* share of each VO if allowed, else 0 */
  uint64_t n_factory, n_done_or_reattach, n_failed, n_stored_or_later;
};

static inline Dev *
dev_get(World *w, uint32_t id)
{
  g_assert(id < w->devs->n);
  return &w->devs->devs[id];
}

DevTable *
dev_table_new(World *w, uint64_t capacity, GError **error)
{
  const ScnConfig *cfg = w->cfg;
  DevTable *t = g_new0(DevTable, 1);
  t->capacity = capacity;
  t->slots = 1u << w->aka.ind_bits;
  t->devs = w_big_new0(capacity, sizeof(Dev));
  t->usim = w_big_new0(capacity * (1 + t->slots), sizeof(uint64_t));
  if (t->devs == NULL || t->usim == NULL) {
    g_set_error(error, WORLD_ERROR, WORLD_ERROR_SETUP,
                "cannot allocate the state of %" G_GUINT64_FORMAT " devices", capacity);
    dev_table_free(t);
    return NULL;
  }
  wrng_init(&t->r_power_on, w->seed, WR_DEV, 0, 1);
  wrng_init(&t->r_vo, w->seed, WR_DEV, 0, 2);
  wrng_init(&t->r_desync, w->seed, WR_DEV, 0, 3);
  wrng_init(&t->r_backoff, w->seed, WR_DEV, 0, 4);
  t->vo_share = g_new0(double, w->n_vo);
  for (size_t i = 0; i < w->n_vo; i++) {
    bool allowed = cfg->devices.allowed_networks == NULL;
    for (size_t j = 0; j < cfg->devices.n_allowed_networks; j++)
      allowed |= strcmp(cfg->devices.allowed_networks[j], cfg->visited_operators[i].name) == 0;
    t->vo_share[i] = allowed ? cfg->visited_operators[i].share : 0;
  }
  return t;
}

void
dev_table_free(DevTable *t)
{
  if (t == NULL)
    return;
  if (t->devs)
    OPENSSL_cleanse(t->devs, t->n * sizeof(Dev));
  w_big_free(t->devs, t->capacity, sizeof(Dev));
  w_big_free(t->usim, t->capacity * (1 + t->slots), sizeof(uint64_t));
  g_free(t->vo_share);
  g_free(t);
}

size_t
dev_memory(const World *w)
{
  const DevTable *t = w->devs;
  return sizeof *t + t->n * (sizeof(Dev) + (1 + t->slots) * sizeof(uint64_t));
}

uint32_t
dev_pimsi(const World *w, uint32_t dev)
{
  return w->devs->devs[dev].pimsi;
}

#define DLOG(w, id, d, ...) FSM_LOG((w)->log, w_now(w), &dev_def, (id), (d)->state, __VA_ARGS__)

static void
go(World *w, uint32_t id, Dev *d, DevState to)
{
  fsm_goto(&dev_def, id, &d->state, to);
}

/* ---- factory -------------------------------------------------------------------- */

uint32_t
dev_produce(World *w, uint32_t mfr)
{
  DevTable *t = w->devs;
  g_assert(t->n < t->capacity);
  uint32_t id = t->n++;
  Dev *d = &t->devs[id];
  d->state = S_PRODUCED;
  d->mfr = mfr;
  d->pimsi = W_NONE32;
  w->st.produced++;
  return id;
}

static void dev_on_timer(SimEngine *sim, void *ctx, uint64_t arg);

void
dev_install_credentials(World *w, uint32_t id, uint32_t pimsi, const AkaKeys *keys, bool wrong)
{
  DevTable *t = w->devs;
  Dev *d = dev_get(w, id);
  fsm_accept(&dev_def, id, d->state, E_CREDENTIALS);
  d->pimsi = pimsi;
  memcpy(d->k, keys->k, 16);
  memcpy(d->opc, keys->opc, 16);
  if (wrong) {
    /* A factory fault: one bit of K flipped. AUTN's MAC will not verify. */
    d->k[0] ^= 0x01;
    d->flags |= F_WRONG_K;
  }
  uint64_t *u = &t->usim[(size_t)id * (1 + t->slots)];
  if (w->cfg->devices.sqn_desync_fraction > 0 &&
      wrng_u01(&t->r_desync) < w->cfg->devices.sqn_desync_fraction) {
    /* The USIM has already accepted SQNs far ahead of the RS's SEQ_HE (e.g. a reused
     * card or a test run at the factory): its first AUTN is stale -> AUTS -> resync. */
    AkaUsim usim;
    uint64_t seq = 1000 + (wrng_u64(&t->r_desync) % 1000);
    if (!aka_usim_init_at(&usim, &w->aka, seq << w->aka.ind_bits))
      g_error("aka_usim_init_at refused a valid SQN");
    u[0] = usim.sqn_ms;
    memcpy(u + 1, usim.seq, t->slots * sizeof(uint64_t));
    d->flags |= F_DESYNC;
  }
  go(w, id, d, S_STORED);
  t->n_stored_or_later++;
  DLOG(w, id, d, "credentials installed%s%s", wrong ? " (wrong K)" : "",
       (d->flags & F_DESYNC) ? " (SQN ahead)" : "");
  SimTime after = wrng_dist(&t->r_power_on, &w->cfg->devices.power_on_after);
  w_after(w, after, dev_on_power_on, id);
}

void
dev_install_factory_usim(World *w, uint32_t id)
{
  Dev *d = dev_get(w, id);
  fsm_accept(&dev_def, id, d->state, E_FACTORY_USIM);
  go(w, id, d, S_FACTORY);
  w->devs->n_factory++;
  w->devs->n_stored_or_later++;
  DLOG(w, id, d, "SHO USIM installed at the factory");
}

/* ---- attach ---------------------------------------------------------------------- */

static void
arm(World *w, uint32_t id, Dev *d, SimTime delay, uint8_t kind)
{
  sim_cancel(w->sim, d->timer);
  d->timer = w_after(w, delay, dev_on_timer, dev_arg(id, d->seq, kind));
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
  DevTable *t = w->devs;
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
backoff_wait(const World *w, unsigned n)
{
  const ScnRetry *r = &w->cfg->devices.retry;
  double wait = (double)r->initial;
  for (unsigned i = 1; i < n && wait < (double)r->max; i++)
    wait *= r->factor;
  if (wait > (double)r->max)
    wait = (double)r->max;
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
    w->st.failed_attempts++;
    fail(w, id, d, why);
    return;
  }
  go(w, id, d, S_BACKOFF);
  /* Whatever still travels for the round just ended (a refusal slower than the guard) is
   * stale from now on. */
  d->seq++;
  SimTime wait = backoff_wait(w, d->attempts);
  DLOG(w, id, d, "%s: next attach in %.3f s", why, sim_time_to_s(wait));
  arm(w, id, d, wait, T_BACKOFF);
}

static void
send_attach(World *w, uint32_t id, Dev *d)
{
  int vo = pick_vo(w, d);
  if (vo < 0) {
    attach_round_failed(w, id, d, "every allowed network refused");
    return;
  }
  go(w, id, d, S_ATTACHING);
  d->vo = (uint8_t)vo;
  d->seq++;
  Msg *m;
  PoolId mid = w_msg_new(w, MSG_ATTACH, &m);
  m->dev = id;
  m->pimsi = d->pimsi;
  m->seq = d->seq;
  m->from = (uint32_t)vo;
  m->t0 = w_now(w);
  /* The attach request takes half the attach delay; challenge and answer a quarter each. */
  SimTime half = vo_attach_delay(w, (uint32_t)vo) / 2;
  w_after(w, half, vo_on_attach, mid);
  /* Guard: the VO tries the RS twice (request_timeout each) before it gives up. */
  arm(w, id, d, 3 * w->cfg->registration_service.request_timeout + 2 * half, T_GUARD);
  DLOG(w, id, d, "attach to %s with PIMSI", w->cfg->visited_operators[vo].name);
}

void
dev_on_power_on(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  uint32_t id = w_lo(arg);
  Dev *d = dev_get(w, id);
  fsm_accept(&dev_def, id, d->state, E_POWER_ON);
  d->t_power_on = w_now(w);
  w->st.powered_on++;
  send_attach(w, id, d);
}

/* Looks up the device of an (id, seq) answer; NULL when the answer is stale. */
static Dev *
current(World *w, uint32_t id, uint8_t seq)
{
  Dev *d = dev_get(w, id);
  return d->seq == seq ? d : NULL;
}

void
dev_on_refused(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  uint32_t id = w_lo(arg);
  Dev *d = current(w, id, (uint8_t)(arg >> 32));
  if (d == NULL)
    return;
  fsm_accept(&dev_def, id, d->state, E_REFUSED);
  disarm(w, d);
  d->tried |= UINT64_C(1) << d->vo;
  DLOG(w, id, d, "refused by %s", w->cfg->visited_operators[d->vo].name);
  send_attach(w, id, d);
}

static void derive_keys(World *w, Dev *d, const uint8_t ck[16], const uint8_t ik[16]);
static AkaStatus usim_check(World *w, uint32_t id, const Dev *d, const uint8_t rand[16],
                            const uint8_t autn[AKA_AUTN_LEN], AkaUsimAnswer *ans);

void
dev_on_challenge(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  Msg *m = w_msg(w, arg);
  uint32_t id = m->dev;
  Dev *d = current(w, id, m->seq);
  if (d == NULL) {
    w_msg_free(w, arg);
    return;
  }
  fsm_accept(&dev_def, id, d->state, E_CHALLENGE);
  if (w->cfg->registration_service.auth == SCN_AUTH_CERTIFICATE) {
    /* The nonce stands where RAND would: it binds the keys to this run like RAND does. */
    uint8_t master[CERT_MASTER_LEN];
    memcpy(d->rand, m->u.chal.rand, 16);
    wcert_prove(w, id, d->pimsi, (d->flags & F_WRONG_K) != 0, d->rand,
                w->cfg->visited_operators[d->vo].name, true, master);
    derive_keys(w, d, master, master + 16);
    OPENSSL_cleanse(master, sizeof master);
    memset(&m->u, 0, sizeof m->u);
    m->status = ST_OK;
    DLOG(w, id, d, "challenge signed, certificate sent");
    w_after(w, vo_attach_delay(w, d->vo) / 4, vo_on_auth_answer, arg);
    return;
  }
  AkaUsimAnswer ans;
  uint8_t rand[16];
  memcpy(rand, m->u.chal.rand, 16);
  AkaStatus st = usim_check(w, id, d, m->u.chal.rand, m->u.chal.autn, &ans);
  /* The answer travels back in the same record. */
  memset(&m->u, 0, sizeof m->u);
  memcpy(m->u.chal.rand, rand, 16);
  switch (st) {
  case AKA_OK:
    memcpy(d->rand, rand, 16);
    derive_keys(w, d, ans.ck, ans.ik);
    memcpy(m->u.chal.res, ans.res, MIL_MAC_LEN);
    m->status = ST_OK;
    DLOG(w, id, d, "AUTN ok, RES sent");
    break;
  case AKA_SYNC_FAILURE:
    memcpy(m->u.chal.auts, ans.auts, AKA_AUTS_LEN);
    m->status = ST_SYNC_FAILURE;
    DLOG(w, id, d, "SQN not fresh, AUTS sent");
    break;
  default:
    m->status = ST_MAC_FAILURE;
    DLOG(w, id, d, "AUTN MAC failure");
    break;
  }
  OPENSSL_cleanse(&ans, sizeof ans);
  w_after(w, vo_attach_delay(w, d->vo) / 4, vo_on_auth_answer, arg);
}

/* The USIM checks AUTN (TS 33.102 6.3.3, Annex C) against the device's SQN state,
 * which it updates when the AUTN is accepted. */
static AkaStatus
usim_check(World *w, uint32_t id, const Dev *d, const uint8_t rand_in[16],
           const uint8_t autn_in[AKA_AUTN_LEN], AkaUsimAnswer *ans)
{
  DevTable *t = w->devs;
  uint64_t *u = &t->usim[(size_t)id * (1 + t->slots)];
  /* With 2^5 slots a row has exactly AkaUsim's layout and is checked in place;
   * otherwise it is copied in and (on success) back. */
  G_STATIC_ASSERT(sizeof(AkaUsim) == (1 + AKA_SLOTS_MAX) * sizeof(uint64_t));
  AkaUsim local, *usim = &local;
  bool in_place = t->slots == AKA_SLOTS_MAX;
  if (in_place) {
    usim = (AkaUsim *)u;
  } else {
    local.sqn_ms = u[0];
    memcpy(local.seq, u + 1, t->slots * sizeof(uint64_t));
  }
  AkaKeys keys;
  memcpy(keys.k, d->k, 16);
  memcpy(keys.opc, d->opc, 16);
  uint8_t rand[16], autn[AKA_AUTN_LEN];
  memcpy(rand, rand_in, 16);
  memcpy(autn, autn_in, AKA_AUTN_LEN);
  AkaStatus st = aka_usim_check(&w->aka, w->mil, &keys, usim, rand, autn, ans);
  OPENSSL_cleanse(&keys, sizeof keys);
  if (st == AKA_OK && !in_place) {
    u[0] = local.sqn_ms;
    memcpy(u + 1, local.seq, t->slots * sizeof(uint64_t));
  }
  return st;
}

AkaStatus
dev_usim_answer(World *w, uint32_t id, const uint8_t rand[16], const uint8_t autn[AKA_AUTN_LEN],
                uint8_t res[MIL_MAC_LEN])
{
  AkaUsimAnswer ans;
  AkaStatus st = usim_check(w, id, dev_get(w, id), rand, autn, &ans);
  memcpy(res, ans.res, MIL_MAC_LEN);
  OPENSSL_cleanse(&ans, sizeof ans);
  return st;
}

bool
dev_wrong_credentials(World *w, uint32_t id)
{
  return (dev_get(w, id)->flags & F_WRONG_K) != 0;
}

/* ---- after AKA: the RS, then the SHO ------------------------------------------------ */

/* After AKA: K_RS (kept only as the proof the device shows on the secured connection,
 * which stays up across lookups) and K_SHO (for the SHO connection and K_SEAL), both
 * from CK || IK (kdf.h). CK and IK themselves are not kept. After a certificate
 * authentication the session master (cert.h) takes the place of CK || IK. */
static void
derive_keys(World *w, Dev *d, const uint8_t ck[16], const uint8_t ik[16])
{
  Imsi pimsi = rs_pimsi_imsi(w, d->pimsi);
  uint8_t k_rs[KDF_OUT_LEN];
  if (!kdf_rs_key(ck, ik, pimsi, d->rand, k_rs) || !kdf_sho_key(ck, ik, pimsi, d->rand, d->k_sho))
    g_error("key derivation failed");
  w_key_confirm(k_rs, d->proof_rs);
  OPENSSL_cleanse(k_rs, sizeof k_rs);
}

static void
send_lookup(World *w, uint32_t id, Dev *d)
{
  go(w, id, d, S_LOOKUP);
  d->seq++;
  Msg *m;
  PoolId mid = w_msg_new(w, MSG_LOOKUP, &m);
  m->dev = id;
  m->pimsi = d->pimsi;
  m->seq = d->seq;
  m->from = d->vo;
  m->t0 = w_now(w);
  memcpy(m->u.conn.rand, d->rand, 16);
  memcpy(m->u.conn.proof, d->proof_rs, 16);
  w_after(w, vo_roaming_delay(w, d->vo), rs_on_lookup, mid);
  arm(w, id, d, w_timeout(w, d->timeouts + 1u), T_GUARD);
  DLOG(w, id, d, "secured connection to the RS: where is my SHO?");
}

void
dev_on_granted(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  uint32_t id = w_lo(arg);
  Dev *d = current(w, id, (uint8_t)(arg >> 32));
  if (d == NULL)
    return;
  fsm_accept(&dev_def, id, d->state, E_GRANTED);
  disarm(w, d);
  wtally_add(&w->st.access_latency, sim_time_to_s(w_now(w) - d->t_power_on));
  d->tried = 0;
  DLOG(w, id, d, "temporary access granted by %s", w->cfg->visited_operators[d->vo].name);
  send_lookup(w, id, d);
}

void
dev_on_rejected(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  uint32_t id = w_lo(arg);
  Dev *d = current(w, id, (uint8_t)(arg >> 32));
  if (d == NULL)
    return;
  fsm_accept(&dev_def, id, d->state, E_REJECTED);
  disarm(w, d);
  unsigned why = (unsigned)(arg >> 40) & 0xff;
  if (why == ST_MAC_FAILURE) {
    d->mac_failures++;
    uint32_t limit = DEV_MAC_LIMIT;
    uint32_t max = w->cfg->devices.max_attempts;
    if (max > 0 && max < limit)
      limit = max;
    if (d->mac_failures >= limit) {
      w->st.failed_mac++;
      fail(w, id, d, "authentication failed (MAC) too often");
      return;
    }
    attach_round_failed(w, id, d, "authentication failed (MAC)");
  } else {
    attach_round_failed(w, id, d, "attach rejected (network failure)");
  }
}

static void
send_download(World *w, uint32_t id, Dev *d)
{
  go(w, id, d, S_DOWNLOADING);
  d->seq++;
  Msg *m;
  PoolId mid = w_msg_new(w, MSG_DOWNLOAD, &m);
  m->dev = id;
  m->pimsi = d->pimsi;
  m->seq = d->seq;
  m->from = (uint32_t)d->sho - 1;
  m->aux = d->vo;
  m->t0 = w_now(w);
  memcpy(m->u.conn.rand, d->rand, 16);
  w_key_confirm(d->k_sho, m->u.conn.proof);
  w_after(w, vo_roaming_delay(w, d->vo), sho_on_download, mid);
  arm(w, id, d, w_timeout(w, d->timeouts + 1u), T_GUARD);
  DLOG(w, id, d, "connect to SHO %s", w->cfg->home_operators[d->sho - 1].name);
}

static void
no_sho_backoff(World *w, uint32_t id, Dev *d, const char *why)
{
  go(w, id, d, S_NO_SHO);
  d->lookups++;
  w->st.dev_no_sho_retries++;
  SimTime wait = backoff_wait(w, d->lookups);
  DLOG(w, id, d, "%s: ask the RS again in %.3f s", why, sim_time_to_s(wait));
  arm(w, id, d, wait, T_BACKOFF);
}

void
dev_on_lookup_answer(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  Msg *m = w_msg(w, arg);
  uint32_t id = m->dev;
  Dev *d = current(w, id, m->seq);
  uint8_t status = m->status;
  uint32_t sho = m->aux;
  w_msg_free(w, arg);
  if (d == NULL)
    return;
  fsm_accept(&dev_def, id, d->state, E_LOOKUP_ANSWER);
  disarm(w, d);
  d->timeouts = 0;
  if (status != ST_OK) {
    no_sho_backoff(w, id, d, "no SHO yet");
    return;
  }
  d->sho = (uint16_t)sho;
  send_download(w, id, d);
}

void
dev_on_download_started(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  uint32_t id = w_lo(arg);
  Dev *d = current(w, id, (uint8_t)(arg >> 32));
  if (d == NULL)
    return;
  fsm_accept(&dev_def, id, d->state, E_DL_STARTED);
  /* The SHO has the request: no more guard, the download takes its time. */
  disarm(w, d);
  d->timeouts = 0;
}

void
dev_on_download_refused(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  uint32_t id = w_lo(arg);
  Dev *d = current(w, id, (uint8_t)(arg >> 32));
  if (d == NULL)
    return;
  fsm_accept(&dev_def, id, d->state, E_DL_REFUSED);
  disarm(w, d);
  d->timeouts = 0;
  no_sho_backoff(w, id, d, "refused by the SHO");
}

void
dev_on_package(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  Msg *m = w_msg(w, arg);
  uint32_t id = m->dev;
  Dev *d = current(w, id, m->seq);
  if (d == NULL) {
    w_msg_free(w, arg);
    return;
  }
  fsm_accept(&dev_def, id, d->state, E_PACKAGE);
  disarm(w, d);
  Imsi pimsi = rs_pimsi_imsi(w, d->pimsi);
  uint8_t k_seal[KDF_SEAL_KEY_LEN];
  if (!kdf_seal_key(d->k_sho, pimsi, k_seal))
    g_error("key derivation failed");
  SealUsim usim;
  SealStatus st = seal_open(k_seal, pimsi, m->u.pkg, SEAL_PACKAGE_LEN, &usim);
  OPENSSL_cleanse(k_seal, sizeof k_seal);
  uint32_t sho = m->from;
  if (st != SEAL_OK) {
    w_msg_free(w, arg);
    w->st.seal_failures++;
    no_sho_backoff(w, id, d, "USIM package refused");
    return;
  }
  /* Install: the real subscription replaces the preliminary one. */
  d->imsi = usim.imsi;
  memcpy(d->k, usim.k, 16);
  memcpy(d->opc, usim.opc, 16);
  OPENSSL_cleanse(&usim, sizeof usim);
  /* The temporary access is over: forget its keys. */
  OPENSSL_cleanse(d->rand, sizeof d->rand);
  OPENSSL_cleanse(d->proof_rs, sizeof d->proof_rs);
  OPENSSL_cleanse(d->k_sho, sizeof d->k_sho);
  wcert_forget(w, id);
  w->st.provisioned++;
  wtally_add(&w->st.latency, sim_time_to_s(w_now(w) - d->t_power_on));
  go(w, id, d, S_REATTACHING);
  d->seq++;
  DLOG(w, id, d, "USIM installed; attach with the real IMSI");
  /* Tell the SHO (which tells the RS: the PIMSI may go back to the pool). */
  memset(&m->u, 0, sizeof m->u);
  m->kind = MSG_RELEASE;
  m->pimsi = d->pimsi;
  m->from = sho;
  w_after(w, vo_roaming_delay(w, d->vo), sho_on_installed, arg);
  arm(w, id, d, vo_attach_delay(w, d->vo), T_ATTACHED);
}

/* ---- timers and the end ---------------------------------------------------------- */

static void
fail(World *w, uint32_t id, Dev *d, const char *why)
{
  go(w, id, d, S_FAILED);
  disarm(w, d);
  w->st.failed++;
  w->devs->n_failed++;
  wcert_forget(w, id);
  DLOG(w, id, d, "gives up: %s", why);
}

static void
dev_on_timer(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  uint32_t id = w_lo(arg);
  Dev *d = current(w, id, (uint8_t)(arg >> 32));
  if (d == NULL)
    return;
  d->timer = SIM_EVENT_NONE;
  switch ((arg >> 40) & 0xff) {
  case T_GUARD:
    fsm_accept(&dev_def, id, d->state, E_GUARD);
    w->st.dev_timeouts++;
    if (d->state == S_ATTACHING) {
      attach_round_failed(w, id, d, "attach timed out");
    } else if (d->state == S_LOOKUP) {
      w->st.rs_timeouts++;
      if (d->timeouts < UINT8_MAX)
        d->timeouts++;
      DLOG(w, id, d, "no answer from the RS: ask again");
      send_lookup(w, id, d);
    } else {
      w->st.sho_timeouts++;
      if (d->timeouts < UINT8_MAX)
        d->timeouts++;
      DLOG(w, id, d, "no answer from the SHO: connect again");
      send_download(w, id, d);
    }
    break;
  case T_BACKOFF:
    fsm_accept(&dev_def, id, d->state, E_BACKOFF_END);
    if (d->state == S_BACKOFF)
      send_attach(w, id, d);
    else
      send_lookup(w, id, d);
    break;
  case T_ATTACHED:
    fsm_accept(&dev_def, id, d->state, E_ATTACHED);
    go(w, id, d, S_DONE);
    w->devs->n_done_or_reattach++;
    w->st.attached_real++;
    wtally_add(&w->st.attach_latency, sim_time_to_s(w_now(w) - d->t_power_on));
    DLOG(w, id, d, "attached with the real IMSI");
    break;
  default:
    g_assert_not_reached();
  }
}

void
dev_count(const World *w, uint64_t *manufactured, uint64_t *provisioned, uint64_t *failed,
          uint64_t *in_progress)
{
  const DevTable *t = w->devs;
  uint64_t m = 0, p = 0, f = 0;
  for (uint32_t i = 0; i < t->n; i++) {
    switch (t->devs[i].state) {
    case S_PRODUCED:
      break;
    case S_FACTORY:
    case S_REATTACHING:
    case S_DONE:
      m++;
      p++;
      break;
    case S_FAILED:
      m++;
      f++;
      break;
    default:
      m++;
      break;
    }
  }
  *manufactured = m;
  *provisioned = p;
  *failed = f;
  *in_progress = m - p - f;
}
