/* A manufacturer (see manufacturer.h): TR 33.812 alternative 1, step 1.
 *
 * Production follows the scenario's arrival process (dist.h: Poisson, constant gaps, or a
 * burst whose times are drawn at the start, sorted), one unit ahead. Each unit registers with the
 * RS at once; the request is a pending record resent after request_timeout, then after growing
 * waits (w_timeout), while the RS does not answer (outages). A refusal (pool empty) puts the unit
 * into a FIFO backlog: from then on the manufacturer asks for one unit at a time, the oldest, every
 * retry_after, and new units join the backlog until it drains. */
#include "manufacturer.h"

#include "net.h"
#include "req.h"
#include "wrand.h"

/* States: PRODUCING (each unit asks the RS at once) and BLOCKED (the pool refused: units
 * wait in the backlog, the oldest asks again every retry_after). */
typedef enum { M_PRODUCING, M_BLOCKED, M_N } MfrState;
typedef enum { E_PRODUCED, E_ANSWER, E_RETRY, E_N } MfrEvent;
static const char *const mfr_events[E_N] = {"PRODUCED", "REGISTER_ANSWER", "RETRY"};
enum { T_NONE, T_RETRY, T_N };
static const FsmTimer mfr_timers[T_N] = {{"none", 0}, {"retry_after", E_RETRY}};

static void producing(void *ctx, uint64_t id, unsigned event, void *data);
static void blocked(void *ctx, uint64_t id, unsigned event, void *data);

#define B FSM_BIT
static const FsmState mfr_states[M_N] = {
    /* A retry armed while blocked may come after the backlog drained: nothing to do. */
    [M_PRODUCING] = {"PRODUCING", B(E_PRODUCED) | B(E_ANSWER) | B(E_RETRY), 1u << M_BLOCKED,
                     producing, 0},
    [M_BLOCKED] = {"BLOCKED", B(E_PRODUCED) | B(E_ANSWER) | B(E_RETRY), 1u << M_PRODUCING, blocked,
                   T_RETRY},
};
#undef B
static const FsmDef mfr_def = {"Manufacturer", mfr_states, M_N, mfr_events, E_N, mfr_timers, T_N};

/* Registrations: resent after growing waits while the RS does not answer (outages). */
static const ReqPolicy register_policy = {"registration", 0, true};

/* What a manufacturer counts (MFR_FIGURES names the fields, in order). */
typedef struct {
  uint64_t produced, via_rs, factory_usim, timeouts, rs_timeouts;
} MfrFigures;

#define MFR_FIGURES                                                                                \
  "devices.produced devices.via_rs devices.factory_usim manufacturer.timeouts "             \
  "manufacturer.rs_timeouts"

struct Mfr {
  MfrFigures fig;
  uint64_t manufactured; /* units that got a PIMSI or a factory USIM */
  uint32_t index;
  const ScnManufacturer *cfg;
  WRng r_prod, r_known, r_wrong;
  DistArrivals arr;  /* production times */
  uint64_t produced; /* units made so far */
  uint32_t *backlog; /* ring of device ids waiting for a PIMSI */
  size_t b_cap, b_head, b_len;
  uint8_t state;      /* MfrState */
  bool head_inflight; /* the backlog's head has a request out */
  SimEventId retry;   /* retry_after timer */
};

#define MLOG(w, m, ...) FSM_LOG((w)->log, w_now(w), &mfr_def, (m)->index, (m)->state, __VA_ARGS__)

/* Units made that have neither a PIMSI nor a factory USIM yet. */
static double
awaiting(void *ctx)
{
  const Mfr *m = ctx;
  return (double)(m->fig.produced - m->manufactured);
}

static Mfr *
mfr_at(World *w, uint64_t index)
{
  return w_inst(w, ROLE_MFR, (uint32_t)index);
}

static void *
mfr_create(World *w, uint32_t index, GError **error)
{
  Mfr *m = g_new0(Mfr, 1);
  m->index = index;
  m->cfg = &w->cfg->manufacturers[index];
  wrng_init(&m->r_prod, w->seed, WR_MFR, index, 1);
  wrng_init(&m->r_known, w->seed, WR_MFR, index, 2);
  wrng_init(&m->r_wrong, w->seed, WR_MFR, index, 3);
  m->b_cap = 64;
  m->backlog = g_new(uint32_t, m->b_cap);
  stat_registry_counter_fields(w->figs, MFR_FIGURES, &m->fig, sizeof m->fig);
  stat_registry_counter(w->figs, "rs.timeouts", &m->fig.rs_timeouts); /* the sum of every requester */
  stat_registry_value(w->figs, "devices.awaiting_pimsi", awaiting, m);
  return m;
}

static void
mfr_destroy(void *p)
{
  Mfr *m = p;
  dist_arrivals_clear(&m->arr);
  g_free(m->backlog);
  g_free(m);
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

static NetAddr
self(const Mfr *m)
{
  return net_addr(ROLE_MFR, m->index);
}

static void
request(World *w, Mfr *m, uint32_t dev)
{
  Msg *r = net_msg_new(w, MSG_REGISTER, self(m), net_addr(ROLE_RS, 0));
  r->dev = dev;
  req_send(w, &register_policy, r, dev);
}

/* Something made in the factory passes to the device or its owner by hand. */
static void
hand_over(World *w, Mfr *m, MsgKind kind, RoleKind to, uint32_t index, uint32_t dev)
{
  Msg *h = net_msg_new(w, kind, self(m), net_addr(to, index));
  h->dev = dev;
  net_hand_over(w, h);
}

static void
on_timer(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  Mfr *m = mfr_at(w, arg);
  m->retry = SIM_EVENT_NONE;
  fsm_dispatch(&mfr_def, m->index, m->state, fsm_timer_event(&mfr_def, T_RETRY), w, NULL);
}

static void
arm_retry(World *w, Mfr *m)
{
  if (m->retry == SIM_EVENT_NONE || !sim_is_pending(w->sim, m->retry))
    m->retry = w_after(w, m->cfg->retry_after, on_timer, m->index);
}

static void
go(World *w, Mfr *m, MfrState to)
{
  fsm_goto(&mfr_def, m->index, &m->state, to);
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
  Mfr *m = mfr_at(w, arg);
  fsm_dispatch(&mfr_def, m->index, m->state, E_PRODUCED, w, NULL);
  schedule_next(w, m);
}

/* A unit is made: it gets its factory USIM, or asks the RS (PRODUCING) or joins the
 * backlog (BLOCKED). */
static void
produced(World *w, Mfr *m)
{
  m->produced++;
  g_assert(w->next_device < w->total_devices);
  uint32_t dev = w->next_device++;
  m->fig.produced++;
  hand_over(w, m, MSG_MADE, ROLE_DEV, dev, dev);
  if (m->cfg->home_operator_known > 0 && wrng_u01(&m->r_known) < m->cfg->home_operator_known) {
    hand_over(w, m, MSG_FACTORY_USIM, ROLE_DEV, dev, dev);
    m->fig.factory_usim++;
    m->manufactured++;
  } else if (m->state == M_BLOCKED) {
    push(m, dev);
  } else {
    request(w, m, dev);
  }
}

static void
mfr_start(World *w, void *p)
{
  Mfr *m = p;
  dist_arrivals_init(&m->arr, &m->cfg->production, 0, m->cfg->devices, &m->r_prod);
  schedule_next(w, m);
}

/* The RS's answer for unit a->dev. */
static void
answered(World *w, Mfr *m, const Msg *a)
{
  uint32_t dev = a->dev;
  bool is_head = m->head_inflight && m->b_len > 0 && head(m) == dev;
  if (is_head)
    m->head_inflight = false;
  if (a->status == ST_OK) {
    bool wrong = m->cfg->wrong_credentials > 0 && wrng_u01(&m->r_wrong) < m->cfg->wrong_credentials;
    Msg *c = net_msg_new(w, MSG_CREDENTIALS, self(m), net_addr(ROLE_DEV, dev));
    c->dev = dev;
    c->pimsi = a->pimsi;
    c->status = wrong ? ST_MAC_FAILURE : ST_OK;
    c->u.reg = a->u.reg;
    net_hand_over(w, c);
    m->manufactured++;
    m->fig.via_rs++;
    Msg *h = net_msg_new(w, MSG_HANDED_OVER, self(m), net_addr(ROLE_OWNER, 0));
    h->dev = dev;
    h->pimsi = a->pimsi;
    net_hand_over(w, h);
    if (is_head) {
      pop(m);
      if (m->b_len > 0) {
        m->head_inflight = true;
        request(w, m, head(m));
      } else {
        go(w, m, M_PRODUCING);
        MLOG(w, m, "backlog cleared");
      }
    }
  } else {
    if (!is_head) {
      push(m, dev);
      if (m->state != M_BLOCKED) {
        go(w, m, M_BLOCKED);
        MLOG(w, m, "PIMSI pool empty: unit %u waits", dev);
      }
    }
    arm_retry(w, m);
  }
}

static void
producing(void *ctx, uint64_t id, unsigned event, void *data)
{
  World *w = ctx;
  Mfr *m = mfr_at(w, id);
  if (event == E_PRODUCED)
    produced(w, m);
  else if (event == E_ANSWER)
    answered(w, m, data);
}

static void
blocked(void *ctx, uint64_t id, unsigned event, void *data)
{
  World *w = ctx;
  Mfr *m = mfr_at(w, id);
  switch (event) {
  case E_PRODUCED:
    produced(w, m);
    break;
  case E_ANSWER:
    answered(w, m, data);
    break;
  case E_RETRY:
    if (m->b_len == 0 || m->head_inflight)
      return;
    m->head_inflight = true;
    MLOG(w, m, "asks the RS again for unit %u (%zu waiting)", head(m), m->b_len);
    request(w, m, head(m));
    break;
  }
}

static void
mfr_dispatch(World *w, Msg *a)
{
  g_assert(a->kind == MSG_REGISTER_ANSWER);
  Mfr *m = mfr_at(w, net_addr_index(a->to));
  if (!req_done(w, a->txn))
    return; /* the answer to a copy of a request already answered: the same registration */
  fsm_dispatch(&mfr_def, m->index, m->state, E_ANSWER, w, a);
}

static void
mfr_req_timeout(World *w, PoolId req, uint64_t ref, const Msg *sent, unsigned tries, bool give_up)
{
  Mfr *m = mfr_at(w, net_addr_index(sent->from));
  m->fig.timeouts++;
  m->fig.rs_timeouts++;
}

/* clang-format off */
const RoleClass mfr_role = {
    .name = "Manufacturer", .instances = offsetof(ScnConfig, n_manufacturers),
    .create = mfr_create, .destroy = mfr_destroy, .start = mfr_start, .dispatch = mfr_dispatch,
    .req_timeout = mfr_req_timeout};
/* clang-format on */
