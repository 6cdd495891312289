/* Device owners (see owner.h): TR 33.812 alternative 1, step 2. The owner of each device
 * picks a home operator by share after select_home_operator_after (from manufacture) and
 * registers the device with it; the request is a pending record resent after
 * request_timeout, then after growing waits (w_timeout), until the SHO acknowledges it
 * (an SHO outage drops requests). */
#include "owner.h"

#include "device.h"
#include "sho.h"
#include "wrand.h"

static const FsmState owner_states[] = {{"REGISTERING", 0, 0}};
static const char *const owner_events[] = {"-"};
static const FsmDef owner_def = {"Owner", owner_states, 1, owner_events, 1};

struct Owners {
  WRng r_select, r_sho, r_delay;
};

Owners *
owners_new(World *w, GError **error)
{
  Owners *o = g_new0(Owners, 1);
  wrng_init(&o->r_select, w->seed, WR_OWNER, 0, 1);
  wrng_init(&o->r_sho, w->seed, WR_OWNER, 0, 2);
  wrng_init(&o->r_delay, w->seed, WR_OWNER, 0, 3);
  return o;
}

void
owners_free(Owners *o)
{
  g_free(o);
}

SimTime
owners_delay(World *w)
{
  return wrng_dist(&w->owners->r_delay, &w->cfg->owners.register_delay);
}

static void
send(World *w, PoolId pid, Msg *p)
{
  p->tries++;
  sim_cancel(w->sim, p->timer);
  p->timer = w_after(w, w_timeout(w, p->tries), owner_on_timeout, pid);
  w_after(w, owners_delay(w), sho_on_owner_register, pid);
}

static void
owner_select(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  Owners *o = w->owners;
  const ScnConfig *cfg = w->cfg;
  unsigned sho = wrng_pick(&o->r_sho, &cfg->home_operators[0].share,
                           (unsigned)cfg->n_home_operators, sizeof(ScnHomeOperator));
  Msg *p;
  PoolId pid = w_msg_new(w, MSG_SHO_REG, &p);
  p->dev = w_lo(arg);
  p->pimsi = w_hi(arg);
  p->from = sho;
  p->t0 = w_now(w);
  FSM_LOG(w->log, w_now(w), &owner_def, p->dev, 0, "selects %s", cfg->home_operators[sho].name);
  send(w, pid, p);
}

void
owners_device_made(World *w, uint32_t dev, uint32_t pimsi)
{
  SimTime t = wrng_dist(&w->owners->r_select, &w->cfg->owners.select_home_operator_after);
  w_after(w, t, owner_select, w_arg(dev, pimsi));
}

void
owner_on_ack(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  Msg *p = w_msg_lookup(w, arg);
  if (p == NULL)
    return;
  sim_cancel(w->sim, p->timer);
  w_msg_free(w, arg);
}

void
owner_on_timeout(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  Msg *p = w_msg_lookup(w, arg);
  if (p == NULL)
    return;
  p->timer = SIM_EVENT_NONE;
  w->st.owner_timeouts++;
  send(w, arg, p);
}
