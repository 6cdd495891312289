/* Device owners (see owner.h): TR 33.812 alternative 1, step 2. The owner of each device
 * picks a home operator by share after select_home_operator_after (from the hand-over) and
 * registers the device with it; the request is resent after request_timeout, then after
 * growing waits (w_timeout), until the SHO acknowledges it (an SHO outage drops
 * requests).
 *
 * One state machine per device while its owner has it: HOLDING (made, the choice of a
 * home operator pending) -> REGISTERING (the request is out) -> done. The state is not
 * stored: the owner keeps only its pending requests, and the events say which state they
 * belong to (the choice timer before, the SHO's acknowledgement after). */
#include "owner.h"

#include <math.h>

#include "net.h"
#include "req.h"
#include "wrand.h"

typedef enum { O_HOLDING, O_REGISTERING, O_N } OwnerState;
typedef enum { E_HANDED_OVER, E_SELECT, E_ACK, E_N } OwnerEvent;
static const char *const owner_events[E_N] = {"HANDED_OVER", "SELECT", "ACK"};
enum { T_NONE, T_SELECT, T_N };
static const FsmTimer owner_timers[T_N] = {{"none", 0}, {"select_home_operator_after", E_SELECT}};

static void holding(void *ctx, uint64_t id, unsigned event, void *data);
static void registering(void *ctx, uint64_t id, unsigned event, void *data);

static const FsmState owner_states[O_N] = {
    [O_HOLDING] = {"HOLDING", FSM_BIT(E_HANDED_OVER) | FSM_BIT(E_SELECT), 1u << O_REGISTERING,
                   holding, T_SELECT},
    [O_REGISTERING] = {"REGISTERING", FSM_BIT(E_ACK), 0, registering, 0},
};
static const FsmDef owner_def = {"Owner", owner_states, O_N, owner_events, E_N, owner_timers, T_N};

/* Registrations with the SHO, and a failed unit's PIMSI returned to the RS: resent after
 * growing waits until acknowledged. */
static const ReqPolicy register_policy = {"owner registration", 0, true};
static const ReqPolicy return_policy = {"PIMSI return", 0, true};

/* A fleet being put together: the units of one manufacturer handed over since its first,
 * until it has fleet_size of them or fleet_window has passed. */
typedef struct {
  GArray *units;     /* MsgUnit */
  SimEventId window; /* closes it fleet_window after its first unit */
  uint64_t serial;   /* of the fleet being filled (the window event names it) */
  uint32_t size;     /* its size, drawn at its first unit (owners.fleet_size) */
} OpenFleet;

struct Owners {
  WRng r_select, r_sho, r_fleet;
  uint64_t timeouts;        /* owner.timeouts */
  uint64_t failed_returned; /* owner.failed_returned */
  uint64_t fleets;          /* owner.fleets: fleets registered in bulk */
  OpenFleet *open;          /* per manufacturer (fleet_size > 1) */
  GHashTable *chosen;       /* fleet serial -> its units (GBytes), until the owner chooses */
  uint64_t next_serial;
  size_t n_open;
};

/* Owners buy fleets (owners.fleet_size other than 1): the units go to them in bulk. */
static bool
fleets_on(const World *w)
{
  const ScnCount *c = &w->cfg->owners.fleet_size;
  return !(c->kind == SCN_COUNT_CONSTANT && c->a == 1);
}

static Owners *
owners_of(World *w)
{
  return w_inst(w, ROLE_OWNER, 0);
}

static void *
owners_create(World *w, uint32_t index, GError **error)
{
  Owners *o = g_new0(Owners, 1);
  wrng_init(&o->r_select, w->seed, WR_OWNER, 0, 1);
  wrng_init(&o->r_sho, w->seed, WR_OWNER, 0, 2);
  /* Purpose 3 is the owners' link to the home operators (net.c). */
  stat_registry_counter(w->figs, "owner.timeouts", &o->timeouts);
  if (w->cfg->registration_service.pimsi_release_failed)
    stat_registry_counter(w->figs, "owner.failed_returned", &o->failed_returned);
  if (fleets_on(w)) {
    wrng_init(&o->r_fleet, w->seed, WR_OWNER, 0, 4);
    stat_registry_counter(w->figs, "owner.fleets", &o->fleets);
    o->n_open = w->cfg->n_manufacturers;
    o->open = g_new0(OpenFleet, o->n_open);
    for (size_t i = 0; i < w->cfg->n_manufacturers; i++) {
      o->open[i].units = g_array_new(FALSE, FALSE, sizeof(MsgUnit));
      o->open[i].serial = ++o->next_serial;
    }
    o->chosen =
        g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, (GDestroyNotify)g_bytes_unref);
  }
  return o;
}

static void
owners_destroy(void *p)
{
  Owners *o = p;
  for (size_t i = 0; i < o->n_open; i++)
    g_array_free(o->open[i].units, TRUE);
  g_free(o->open);
  if (o->chosen)
    g_hash_table_unref(o->chosen);
  g_free(o);
}

static void
select_timer(SimEngine *sim, void *ctx, uint64_t arg)
{
  fsm_dispatch(&owner_def, w_lo(arg), O_HOLDING, fsm_timer_event(&owner_def, T_SELECT), ctx, &arg);
}

static void
holding(void *ctx, uint64_t id, unsigned event, void *data)
{
  World *w = ctx;
  Owners *o = owners_of(w);
  const ScnConfig *cfg = w->cfg;
  if (event == E_HANDED_OVER) {
    const Msg *h = data;
    SimTime t = wrng_dist(&o->r_select, &cfg->owners.select_home_operator_after);
    w_after(w, t, select_timer, w_arg(h->dev, h->pimsi));
    return;
  }
  /* E_SELECT: pick a home operator by share and register the device there. */
  uint64_t arg = *(const uint64_t *)data;
  unsigned sho = wrng_pick(&o->r_sho, &cfg->home_operators[0].share,
                           (unsigned)cfg->n_home_operators, sizeof(ScnHomeOperator));
  Msg *r = net_msg_new(w, MSG_OWNER_REGISTER, net_addr(ROLE_OWNER, 0), net_addr(ROLE_SHO, sho));
  r->dev = w_lo(arg);
  r->pimsi = w_hi(arg);
  FSM_LOG(w->log, w_now(w), &owner_def, r->dev, O_REGISTERING, "selects %s",
          cfg->home_operators[sho].name);
  req_send(w, &register_policy, r, r->dev);
}

static void
registering(void *ctx, uint64_t id, unsigned event, void *data)
{
  /* E_ACK: the SHO has it; the request was closed by dispatch. */
}

/* ---- fleets (owners.fleet_size > 1) ------------------------------------------------
 *
 * An owner buys a fleet: fleet_size units of one manufacturer, in the order they are
 * handed over (or fewer, when fleet_window passes before it is full). The fleet is the
 * unit of choice: after select_home_operator_after (one draw, from the fleet's last unit)
 * the owner picks one SHO by share and registers every unit with it in one request
 * (OWNER_REGISTER with the units in its blob), which the SHO passes to the RS in one
 * registration: the bulk burst of a fleet's units at both. */

static void fleet_select(SimEngine *sim, void *ctx, uint64_t arg);

/* One fleet's size (owners.fleet_size). */
static uint32_t
fleet_size(WRng *r, const ScnCount *c)
{
  switch (c->kind) {
  case SCN_COUNT_UNIFORM:
    return c->a + (uint32_t)floor(wrng_u01(r) * (double)(c->b - c->a + 1));
  case SCN_COUNT_GEOMETRIC: {
    if (c->mean <= 1)
      return 1;
    double n = 1 + floor(log(wrng_u01(r)) / log(1 - 1 / c->mean));
    return n > 1e6 ? 1000000u : (uint32_t)n;
  }
  default:
    return c->a;
  }
}

static void
fleet_close(World *w, Owners *o, size_t mi)
{
  OpenFleet *f = &o->open[mi];
  sim_cancel(w->sim, f->window);
  f->window = SIM_EVENT_NONE;
  GBytes *units = g_bytes_new(f->units->data, f->units->len * sizeof(MsgUnit));
  g_hash_table_insert(o->chosen, GUINT_TO_POINTER(f->serial), units);
  SimTime t = wrng_dist(&o->r_select, &w->cfg->owners.select_home_operator_after);
  w_after(w, t, fleet_select, f->serial);
  FSM_LOG(w->log, w_now(w), &owner_def, g_array_index(f->units, MsgUnit, 0).dev, O_HOLDING,
          "fleet of %u units complete", f->units->len);
  g_array_set_size(f->units, 0);
  f->serial = ++o->next_serial;
}

/* fleet_window after a fleet's first unit: it is registered as it is. arg: w_arg(the
 * fleet's serial, low 32 bits; the manufacturer's index). */
static void
fleet_window(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  Owners *o = owners_of(w);
  OpenFleet *f = &o->open[w_hi(arg)];
  f->window = SIM_EVENT_NONE;
  if ((uint32_t)f->serial == w_lo(arg) && f->units->len > 0)
    fleet_close(w, o, w_hi(arg));
}

static void
fleet_unit(World *w, Owners *o, const Msg *h)
{
  size_t mi = net_addr_index(h->from);
  OpenFleet *f = &o->open[mi];
  MsgUnit u = {h->dev, h->pimsi};
  g_array_append_val(f->units, u);
  if (f->units->len == 1) {
    f->size = fleet_size(&o->r_fleet, &w->cfg->owners.fleet_size);
    f->window = w_after(w, w->cfg->owners.fleet_window, fleet_window,
                        w_arg((uint32_t)f->serial, (uint32_t)mi));
  }
  if (f->units->len >= f->size)
    fleet_close(w, o, mi);
}

static void
fleet_select(SimEngine *sim, void *ctx, uint64_t serial)
{
  World *w = ctx;
  Owners *o = owners_of(w);
  const ScnConfig *cfg = w->cfg;
  GBytes *units = g_hash_table_lookup(o->chosen, GUINT_TO_POINTER(serial));
  gsize len;
  const MsgUnit *u = g_bytes_get_data(units, &len);
  unsigned sho = wrng_pick(&o->r_sho, &cfg->home_operators[0].share,
                           (unsigned)cfg->n_home_operators, sizeof(ScnHomeOperator));
  Msg *r = net_msg_new(w, MSG_OWNER_REGISTER, net_addr(ROLE_OWNER, 0), net_addr(ROLE_SHO, sho));
  r->dev = u[0].dev;
  r->pimsi = u[0].pimsi;
  r->aux = (uint32_t)(len / sizeof(MsgUnit));
  r->blob = g_bytes_ref(units);
  o->fleets++;
  FSM_LOG(w->log, w_now(w), &owner_def, r->dev, O_REGISTERING, "fleet of %u selects %s", r->aux,
          cfg->home_operators[sho].name);
  g_hash_table_remove(o->chosen, GUINT_TO_POINTER(serial));
  req_send(w, &register_policy, r, r->dev);
}

static void
owner_dispatch(World *w, Msg *m)
{
  switch (m->kind) {
  case MSG_HANDED_OVER:
    if (fleets_on(w))
      fleet_unit(w, owners_of(w), m);
    else
      fsm_dispatch(&owner_def, m->dev, O_HOLDING, E_HANDED_OVER, w, m);
    break;
  case MSG_OWNER_ACK:
    if (req_done(w, m->txn) && !fleets_on(w))
      fsm_dispatch(&owner_def, m->dev, O_REGISTERING, E_ACK, w, m);
    break;
  case MSG_GAVE_UP: { /* a unit gave up for good: its PIMSI goes back to the RS */
    Msg *r = net_msg_new(w, MSG_RELEASE, net_addr(ROLE_OWNER, 0), net_addr(ROLE_RS, 0));
    r->dev = m->dev;
    r->pimsi = m->pimsi;
    owners_of(w)->failed_returned++;
    FSM_LOG(w->log, w_now(w), &owner_def, m->dev, O_REGISTERING, "gave up: PIMSI back to the RS");
    req_send(w, &return_policy, r, m->dev);
    break;
  }
  case MSG_RS_ACK: /* a failed unit's PIMSI is back: that unit is done for good */
    if (req_done(w, m->txn))
      w_unit_settled(w);
    break;
  default:
    g_error("Owner: message %s not expected", msg_kind_info[m->kind].name);
  }
}

static void
owner_req_timeout(World *w, PoolId req, uint64_t ref, const Msg *sent, unsigned tries, bool give_up)
{
  owners_of(w)->timeouts++;
}

/* clang-format off */
const RoleClass owner_role = {
    .name = "Owner", .instances = ROLE_ONE, .create = owners_create, .destroy = owners_destroy,
    .dispatch = owner_dispatch, .req_timeout = owner_req_timeout};
/* clang-format on */
