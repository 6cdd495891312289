/* A manufacturer (see manufacturer.h): TR 33.812 alternative 1, step 1.
 *
 * Production follows the scenario's arrival process (dist.h: Poisson, constant gaps, or a
 * burst whose times are drawn at the start, sorted), one unit ahead. Each unit registers with the
 * RS at once; the request is a pending record resent after request_timeout, then after growing
 * waits (w_timeout), while the RS does not answer (outages). A refusal (pool empty) puts the unit
 * into a FIFO backlog: from then on the manufacturer asks for one unit at a time, the oldest, every
 * retry_after, and new units join the backlog until it drains. */
#include "manufacturer.h"

#include <openssl/crypto.h>

#include "device.h"
#include "owner.h"
#include "rs.h"
#include "wrand.h"

static const FsmState mfr_states[] = {{"PRODUCING", 0, 0}, {"BLOCKED", 0, 0}};
static const char *const mfr_events[] = {"-"};
static const FsmDef mfr_def = {"Manufacturer", mfr_states, 2, mfr_events, 1};

struct Mfr {
  uint32_t index;
  const ScnManufacturer *cfg;
  WRng r_prod, r_known, r_wrong;
  DistArrivals arr;  /* production times */
  uint64_t produced; /* units made so far */
  uint32_t *backlog; /* ring of device ids waiting for a PIMSI */
  size_t b_cap, b_head, b_len;
  bool blocked;       /* the pool refused: one request at a time, oldest first */
  bool head_inflight; /* the backlog's head has a request out */
  SimEventId retry;   /* retry_after timer */
};

#define MLOG(w, m, ...) FSM_LOG((w)->log, w_now(w), &mfr_def, (m)->index, (m)->blocked, __VA_ARGS__)

Mfr *
mfr_new(World *w, uint32_t index, GError **error)
{
  Mfr *m = g_new0(Mfr, 1);
  m->index = index;
  m->cfg = &w->cfg->manufacturers[index];
  wrng_init(&m->r_prod, w->seed, WR_MFR, index, 1);
  wrng_init(&m->r_known, w->seed, WR_MFR, index, 2);
  wrng_init(&m->r_wrong, w->seed, WR_MFR, index, 3);
  m->b_cap = 64;
  m->backlog = g_new(uint32_t, m->b_cap);
  return m;
}

void
mfr_free(Mfr *m)
{
  if (m == NULL)
    return;
  dist_arrivals_clear(&m->arr);
  g_free(m->backlog);
  g_free(m);
}

uint64_t
mfr_backlog(const World *w, uint32_t index)
{
  return w->mfrs[index]->b_len;
}

static void
push(Mfr *m, uint32_t dev)
{
  if (m->b_len == m->b_cap) {
    uint32_t *b = g_new(uint32_t, m->b_cap * 2);
    for (size_t i = 0; i < m->b_len; i++)
      b[i] = m->backlog[(m->b_head + i) % m->b_cap];
    g_free(m->backlog);
    m->backlog = b;
    m->b_head = 0;
    m->b_cap *= 2;
  }
  m->backlog[(m->b_head + m->b_len) % m->b_cap] = dev;
  m->b_len++;
}

static uint32_t
head(const Mfr *m)
{
  return m->backlog[m->b_head];
}

static void
pop(Mfr *m)
{
  m->b_head = (m->b_head + 1) % m->b_cap;
  m->b_len--;
}

static void
send(World *w, PoolId pid, Msg *p)
{
  p->tries++;
  sim_cancel(w->sim, p->timer);
  p->timer = w_after(w, w_timeout(w, p->tries), mfr_on_timeout, pid);
  w_after(w, 0, rs_on_register, pid);
}

static void
request(World *w, Mfr *m, uint32_t dev)
{
  Msg *p;
  PoolId pid = w_msg_new(w, MSG_REGISTER, &p);
  p->dev = dev;
  p->from = m->index;
  p->t0 = w_now(w);
  send(w, pid, p);
}

static void
on_retry(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  Mfr *m = w->mfrs[arg];
  m->retry = SIM_EVENT_NONE;
  if (m->b_len == 0 || m->head_inflight)
    return;
  m->head_inflight = true;
  MLOG(w, m, "asks the RS again for unit %u (%zu waiting)", head(m), m->b_len);
  request(w, m, head(m));
}

static void
arm_retry(World *w, Mfr *m)
{
  if (m->retry == SIM_EVENT_NONE || !sim_is_pending(w->sim, m->retry))
    m->retry = w_after(w, m->cfg->retry_after, on_retry, m->index);
}

static void on_produce(SimEngine *sim, void *ctx, uint64_t arg);

/* Production is drawn one unit ahead (a burst's times were all drawn, sorted, at the
 * start), so a manufacturer has one pending production event at a time. */
static void
schedule_next(World *w, Mfr *m)
{
  SimTime t = dist_arrivals_next(&m->arr, &m->r_prod);
  if (t < w->cfg->duration)
    sim_schedule_at(w->sim, MAX(t, w_now(w)), on_produce, w, m->index);
}

static void
on_produce(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  Mfr *m = w->mfrs[arg];
  m->produced++;
  uint32_t dev = dev_produce(w, m->index);
  if (m->cfg->home_operator_known > 0 && wrng_u01(&m->r_known) < m->cfg->home_operator_known) {
    dev_install_factory_usim(w, dev);
    w->st.factory_usim++;
    w->st.manufactured++;
  } else if (m->blocked) {
    push(m, dev);
  } else {
    request(w, m, dev);
  }
  schedule_next(w, m);
}

void
mfr_start(World *w, uint32_t index)
{
  Mfr *m = w->mfrs[index];
  dist_arrivals_init(&m->arr, &m->cfg->production, 0, m->cfg->devices, &m->r_prod);
  schedule_next(w, m);
}

void
mfr_on_timeout(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  Msg *p = w_msg_lookup(w, arg);
  if (p == NULL)
    return;
  p->timer = SIM_EVENT_NONE;
  w->st.mfr_timeouts++;
  w->st.rs_timeouts++;
  send(w, arg, p);
}

void
mfr_on_answer(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  Msg *a = w_msg(w, arg);
  Msg *p = w_msg_lookup(w, a->ref);
  if (p == NULL) {
    /* Answer to a request already answered: a PIMSI allocated twice stays unused. */
    if (a->status == ST_OK)
      w->st.rs_orphaned++;
    OPENSSL_cleanse(&a->u, sizeof a->u);
    w_msg_free(w, arg);
    return;
  }
  sim_cancel(w->sim, p->timer);
  w_msg_free(w, a->ref);
  Mfr *m = w->mfrs[a->from];
  uint32_t dev = a->dev;
  bool is_head = m->head_inflight && m->b_len > 0 && head(m) == dev;
  if (is_head)
    m->head_inflight = false;
  if (a->status == ST_OK) {
    bool wrong = m->cfg->wrong_credentials > 0 && wrng_u01(&m->r_wrong) < m->cfg->wrong_credentials;
    dev_install_credentials(w, dev, a->pimsi, &a->u.keys, wrong);
    w->st.manufactured++;
    w->st.via_rs++;
    owners_device_made(w, dev, a->pimsi);
    if (is_head) {
      pop(m);
      if (m->b_len > 0) {
        m->head_inflight = true;
        request(w, m, head(m));
      } else {
        m->blocked = false;
        MLOG(w, m, "backlog cleared");
      }
    }
  } else {
    if (!is_head) {
      push(m, dev);
      if (!m->blocked)
        MLOG(w, m, "PIMSI pool empty: unit %u waits", dev);
      m->blocked = true;
    }
    arm_retry(w, m);
  }
  OPENSSL_cleanse(&a->u, sizeof a->u);
  w_msg_free(w, arg);
}
