/* The request helper (see req.h).
 *
 * A pending request is a record in the world's request pool: the policy, the sends so
 * far, the timeout event and a copy of the message. Its pool id is the txn the message
 * and its answers carry, so a late answer (after the request was answered or given up)
 * finds no record. On each send the timeout is armed before the message leaves, as the
 * roles did it before this helper existed (same event order, same figures). */
#include "req.h"

#include <string.h>

#include "idpool.h"
#include "net.h"
#include "role.h"
#include "route.h"
#include "wrand.h"

typedef struct {
  const ReqPolicy *policy;
  uint64_t ref;     /* the requester's handle */
  SimEventId timer; /* the timeout of the last send */
  uint32_t tries;   /* sends so far (at this site, with several RS sites) */
  uint16_t tried;   /* several RS sites: the sites this request was sent to (bit i: site i) */
  uint16_t site_timeouts; /* several RS sites: timeouts in a row at the site of the last send */
  Msg copy; /* the request as first sent (txn set) */
} Req;

static void on_timeout(SimEngine *sim, void *ctx, uint64_t arg);
static void on_resend(SimEngine *sim, void *ctx, uint64_t arg);

static SimTime
wait_for(const World *w, const Req *r)
{
  return r->policy->growing ? w_timeout(w, r->tries) : w->cfg->registration_service.request_timeout;
}

/* A request to the RS: to the site its requester's route says now (route.h). */
static bool
to_sites(const World *w, const Req *r)
{
  return net_addr_role(r->copy.to) == ROLE_RS && route_n_sites(w) > 1;
}

static void
send(World *w, PoolId id, Req *r)
{
  if (to_sites(w, r)) {
    NetAddr to = route_rs(w, r->copy.from);
    if (to != r->copy.to)
      r->site_timeouts = 0;
    r->copy.to = to;
    r->tried |= (uint16_t)(1u << net_addr_index(to));
  }
  r->tries++;
  sim_cancel(w->sim, r->timer);
  r->timer = w_after(w, wait_for(w, r), on_timeout, id);
  Msg *m = net_msg_new(w, (MsgKind)r->copy.kind, r->copy.from, r->copy.to);
  memcpy(m, &r->copy, sizeof *m);
  if (m->blob != NULL) /* each copy sent holds its own reference */
    g_bytes_ref(m->blob);
  net_send(w, m, 0);
}

PoolId
req_send(World *w, const ReqPolicy *p, Msg *m, uint64_t ref)
{
  g_assert(m->batch == POOL_NONE && m->cert == NULL);
  void *rec;
  PoolId id = idpool_alloc(w->reqs, &rec);
  Req *r = rec;
  r->policy = p;
  r->ref = ref;
  m->txn = id;
  memcpy(&r->copy, m, sizeof r->copy);
  m->blob = NULL; /* the copy has its reference now */
  net_msg_discard(w, m);
  send(w, id, r);
  return id;
}

static void
forget(World *w, PoolId id, Req *r)
{
  sim_cancel(w->sim, r->timer);
  if (r->copy.blob != NULL)
    g_bytes_unref(r->copy.blob);
  explicit_bzero(&r->copy.u, sizeof r->copy.u);
  idpool_release(w->reqs, id);
}

static void
on_timeout(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  Req *r = idpool_lookup(w->reqs, arg);
  if (r == NULL)
    return;
  r->timer = SIM_EVENT_NONE;
  bool give_up = r->policy->max_tries > 0 && r->tries >= r->policy->max_tries;
  if (to_sites(w, r)) {
    /* Twice in a row at one site: the requester fails over to its next site. A request
     * out of tries goes on with the policy's tries anew while its route has a site it has
     * not been sent to (once every one was tried, it gives up as with one site). */
    if (++r->site_timeouts >= 2) {
      route_failover(w, r->copy.from, net_addr_index(r->copy.to));
      r->site_timeouts = 0;
    }
    if (give_up && route_untried(w, r->copy.from, r->tried)) {
      give_up = false;
      r->tries = 0;
    }
  }
  const RoleClass *rc = w->roles[net_addr_role(r->copy.from)];
  rc->req_timeout(w, arg, r->ref, &r->copy, r->tries, give_up);
  /* The requester may have closed the request itself meanwhile. */
  if ((r = idpool_lookup(w->reqs, arg)) == NULL)
    return;
  if (give_up) {
    forget(w, arg, r);
  } else if (r->policy->jitter) {
    double spread = wrng_u01(&w->r_resend) * 0.5;
    r->timer = w_after(w, (SimTime)(spread * (double)w->cfg->registration_service.request_timeout),
                       on_resend, arg);
  } else {
    send(w, arg, r);
  }
}

/* The jittered resend of a request still pending (an answer meanwhile cancelled it). */
static void
on_resend(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  Req *r = idpool_lookup(w->reqs, arg);
  if (r == NULL)
    return;
  r->timer = SIM_EVENT_NONE;
  send(w, arg, r);
}

bool
req_pending(World *w, PoolId id, uint64_t *ref)
{
  Req *r = id != POOL_NONE ? idpool_lookup(w->reqs, id) : NULL;
  if (r == NULL)
    return false;
  if (ref)
    *ref = r->ref;
  return true;
}

bool
req_done(World *w, PoolId id)
{
  Req *r = id != POOL_NONE ? idpool_lookup(w->reqs, id) : NULL;
  if (r == NULL)
    return false;
  forget(w, id, r);
  if (idpool_live(w->reqs) == 0)
    w_check_settled(w); /* the last thing pending may have been this */
  return true;
}

size_t
req_live(const World *w)
{
  return idpool_live(w->reqs);
}

static void
drop_blob(void *data, PoolId id, void *record)
{
  Req *r = record;
  if (r->copy.blob != NULL)
    g_bytes_unref(r->copy.blob);
  r->copy.blob = NULL;
}

void
req_drain(World *w)
{
  idpool_foreach(w->reqs, drop_blob, NULL);
}
