/* The network layer (see net.h).
 *
 * Messages live in the world's message pool (idpool.h) from net_msg_new to the end of
 * their delivery; the delivery event carries the record's id. Payloads that hold keys are
 * wiped when the record is freed, and what a message owns (an AV batch, a certificate
 * proof, a trust bundle) is released with it unless the receiver took it (set the field
 * to zero/NULL).
 *
 * Which link a message takes is decided by the pair of roles (link_of); adding a role
 * means adding its pairs there. */
#include "net.h"

#include <string.h>

#include "idpool.h"
#include "role.h"
#include "wrand.h"

typedef struct {
  const DistSpec *delay; /* NULL: no delay, no draw */
  WRng r;
} Link;

struct Net {
  Link *links;   /* all of them, in one block: */
  Link *access;  /* per VO: device <-> VO */
  Link *roaming; /* per VO: VO <-> RS, and device traffic through the VO */
  Link *sho_rs;  /* per SHO: SHO <-> RS */
  Link *owners;  /* owners <-> SHO */
  Link *site_extra;  /* per RS site: what it adds to the roaming delay (several sites) */
  Link *replication; /* RS site <-> RS site: SQN_HE replication (several sites) */
  size_t n_sites;    /* registration_service.sites (0: the one RS of old) */
  Link *vo_site; /* [vo * n_sites + site]: its own delay to that site (rs_site_delays); delay
                    NULL: none, roaming + extra_delay */
  int *down[ROLE_N];
  size_t n_of[ROLE_N];
};

Net *
net_new(World *w, GError **error)
{
  const ScnConfig *cfg = w->cfg;
  Net *n = g_new0(Net, 1);
  size_t n_sites = cfg->registration_service.n_sites;
  n->links = g_new0(Link, 2 * w->n_vo + w->n_sho + 1 + n_sites + 1);
  n->access = n->links;
  n->roaming = n->access + w->n_vo;
  n->sho_rs = n->roaming + w->n_vo;
  n->owners = n->sho_rs + w->n_sho;
  n->site_extra = n->owners + 1;
  n->replication = n->site_extra + n_sites;
  n->n_sites = n_sites;
  for (size_t i = 0; i < w->n_vo; i++) {
    /* Stream numbers: those of the visited operator's attach and roaming draws. */
    n->access[i].delay = &cfg->visited_operators[i].attach_delay;
    wrng_init(&n->access[i].r, w->seed, WR_VO, (uint32_t)i, 1);
    n->roaming[i].delay = &cfg->visited_operators[i].roaming_delay;
    wrng_init(&n->roaming[i].r, w->seed, WR_VO, (uint32_t)i, 2);
  }
  for (size_t i = 0; i < w->n_sho; i++) {
    n->sho_rs[i].delay = &cfg->home_operators[i].register_delay;
    wrng_init(&n->sho_rs[i].r, w->seed, WR_SHO, (uint32_t)i, 1);
  }
  n->owners->delay = &cfg->owners.register_delay;
  wrng_init(&n->owners->r, w->seed, WR_OWNER, 0, 3);
  for (size_t i = 0; i < n_sites; i++) {
    const DistSpec *x = &cfg->registration_service.sites[i].extra_delay;
    bool none = x->kind == DIST_CONSTANT && x->a == 0;
    n->site_extra[i].delay = none ? NULL : x; /* nothing to add: no draw */
    wrng_init(&n->site_extra[i].r, w->seed, WR_RS, (uint32_t)i, 8);
  }
  n->vo_site = g_new0(Link, MAX(w->n_vo * n_sites, (size_t)1));
  for (size_t v = 0; v < w->n_vo; v++)
    for (size_t j = 0; j < cfg->visited_operators[v].n_rs_site_delays; j++) {
      const ScnSiteDelay *sd = &cfg->visited_operators[v].rs_site_delays[j];
      size_t at = v * n_sites + sd->index;
      n->vo_site[at].delay = &sd->roaming_delay;
      wrng_init(&n->vo_site[at].r, w->seed, WR_VO, (uint32_t)v, 16 + sd->index);
    }
  n->replication->delay = &cfg->registration_service.sqn_replication_delay;
  wrng_init(&n->replication->r, w->seed, WR_RS, 0, 9);
  n->n_of[ROLE_RS] = MAX(n_sites, (size_t)1);
  n->n_of[ROLE_VO] = w->n_vo;
  n->n_of[ROLE_SHO] = w->n_sho;
  n->n_of[ROLE_MFR] = w->n_mfr;
  n->n_of[ROLE_OWNER] = 1;
  n->n_of[ROLE_DEV] = 0; /* devices are never down */
  for (int r = 0; r < ROLE_N; r++)
    n->down[r] = g_new0(int, MAX(n->n_of[r], 1));
  (void)error;
  return n;
}

static void release(World *w, PoolId id, Msg *m);

static void
drop_one(void *data, PoolId id, void *record)
{
  release(data, id, record);
}

void
net_drain(World *w)
{
  if (w->msgs != NULL)
    idpool_foreach(w->msgs, drop_one, w);
}

void
net_free(Net *n)
{
  if (n != NULL) { /* NULL: the world was not built that far */
    g_free(n->links);
    g_free(n->vo_site);
    for (int r = 0; r < ROLE_N; r++)
      g_free(n->down[r]);
    g_free(n);
  }
}

Msg *
net_msg_new(World *w, MsgKind kind, NetAddr from, NetAddr to)
{
  void *p;
  idpool_alloc(w->msgs, &p);
  Msg *m = p;
  m->kind = (uint8_t)kind;
  m->from = from;
  m->to = to;
  return m;
}

Msg *
net_answer_new(World *w, const Msg *req, MsgKind kind)
{
  Msg *a = net_msg_new(w, kind, req->to, req->from);
  a->txn = req->txn;
  a->ctx = req->ctx;
  a->dev = req->dev;
  a->pimsi = req->pimsi;
  a->seq = req->seq;
  a->via = req->via;
  return a;
}

/* The pool id of a live message record (messages are found by pointer while a role
 * fills them; the pool keeps the id in the record's slot header). */
static PoolId
id_of(World *w, Msg *m)
{
  return idpool_id_of(w->msgs, m);
}

static void
release(World *w, PoolId id, Msg *m)
{
  if (m->batch != POOL_NONE) {
    AkaVector *avs = idpool_get(w->batches, m->batch);
    explicit_bzero(avs, w->cfg->registration_service.av_batch * sizeof(AkaVector));
    idpool_release(w->batches, m->batch);
  }
  if (m->cert != NULL) {
    explicit_bzero(m->cert, sizeof *m->cert);
    g_free(m->cert);
  }
  if (m->blob != NULL)
    g_bytes_unref(m->blob);
  explicit_bzero(&m->u, sizeof m->u);
  idpool_release(w->msgs, id);
}

void
net_msg_discard(World *w, Msg *m)
{
  release(w, id_of(w, m), m);
}

PoolId
net_msg_id(World *w, const Msg *m)
{
  return idpool_id_of(w->msgs, m);
}

Msg *
net_msg_at(World *w, PoolId id)
{
  return idpool_get(w->msgs, id);
}

static SimTime
draw(Link *l, unsigned leg)
{
  if (l->delay == NULL || leg == 0)
    return 0;
  return wrng_dist(&l->r, l->delay) / leg;
}

/* One way between VO `vo` and RS site `site`: the VO's own delay to that site
 * (rs_site_delays), else its roaming delay plus what the site adds (extra_delay). */
static SimTime
vo_site_delay(Net *n, uint32_t vo, uint32_t site)
{
  if (site >= n->n_sites)
    return draw(&n->roaming[vo], 1); /* the RS of old */
  size_t at = (size_t)vo * n->n_sites + site;
  if (n->vo_site[at].delay != NULL)
    return draw(&n->vo_site[at], 1);
  return draw(&n->roaming[vo], 1) + draw(&n->site_extra[site], 1);
}

/* The link between the two ends of m, and the share of its delay m takes. */
static SimTime
link_delay(World *w, const Msg *m)
{
  Net *n = w->net;
  RoleKind a = net_addr_role(m->from), b = net_addr_role(m->to);
  uint32_t ia = net_addr_index(m->from), ib = net_addr_index(m->to);
  if (a > b) { /* links are symmetric: order the pair */
    RoleKind t = a;
    a = b;
    b = t;
    uint32_t u = ia;
    ia = ib;
    ib = u;
  }
  switch (a * ROLE_N + b) {
  case ROLE_VO *ROLE_N + ROLE_DEV:
    return draw(&n->access[ia], msg_kind_info[m->kind].leg);
  case ROLE_RS *ROLE_N + ROLE_VO:
    return vo_site_delay(n, ib, ia);
  case ROLE_VO *ROLE_N + ROLE_SHO: /* a home network is reached as the RS is: over IPX */
    return draw(&n->roaming[ia], 1);
  case ROLE_RS *ROLE_N + ROLE_DEV:
    return vo_site_delay(n, m->via, ia);
  case ROLE_SHO *ROLE_N + ROLE_DEV:
    return draw(&n->roaming[m->via], 1);
  case ROLE_RS *ROLE_N + ROLE_RS: /* SQN_HE replication between sites */
    return draw(n->replication, 1);
  case ROLE_RS *ROLE_N + ROLE_SHO:
    return draw(&n->sho_rs[ib], 1);
  case ROLE_SHO *ROLE_N + ROLE_OWNER:
  case ROLE_RS *ROLE_N + ROLE_OWNER:  /* a failed unit's PIMSI returned */
  case ROLE_OWNER *ROLE_N + ROLE_DEV: /* the owner hears a unit gave up */
    return draw(n->owners, 1);
  case ROLE_RS *ROLE_N + ROLE_MFR:
    return 0;
  default:
    g_error("no link between %s and %s (message %s)", w->roles[a]->name, w->roles[b]->name,
            msg_kind_info[m->kind].name);
  }
}

static void
deliver(SimEngine *sim, void *ctx, uint64_t arg)
{
  World *w = ctx;
  Msg *m = idpool_get(w->msgs, arg);
  const RoleClass *rc = w->roles[net_addr_role(m->to)];
  if (net_is_down(w, m->to)) {
    if (rc->lost)
      rc->lost(w, m);
  } else {
    rc->dispatch(w, m);
  }
  release(w, arg, m);
}

/* The prefetch hook of deliver (engine.h): the receiver's data for the message. */
static void
deliver_prefetch(void *ctx, uint64_t arg)
{
  const World *w = ctx;
  const Msg *m = idpool_lookup(w->msgs, arg);
  if (m != NULL) {
    const RoleClass *rc = w->roles[net_addr_role(m->to)];
    if (rc->prefetch != NULL)
      rc->prefetch(w, m);
  }
}

void
net_start(World *w)
{
  sim_set_prefetch(w->sim, deliver, deliver_prefetch);
}

SimTime
net_send(World *w, Msg *m, SimTime extra)
{
  g_assert(m->kind < MSG_N);
  SimTime wire = link_delay(w, m);
  w_after(w, extra + wire, deliver, id_of(w, m));
  return wire;
}

void
net_hand_over(World *w, Msg *m)
{
  RoleKind a = net_addr_role(m->from), b = net_addr_role(m->to);
  g_assert(a == ROLE_MFR && (b == ROLE_DEV || b == ROLE_OWNER));
  w->roles[b]->dispatch(w, m);
  release(w, id_of(w, m), m);
}

void
net_set_down(World *w, NetAddr who, int delta)
{
  Net *n = w->net;
  RoleKind r = net_addr_role(who);
  uint32_t i = net_addr_index(who);
  g_assert(r < ROLE_N && i < n->n_of[r]);
  n->down[r][i] += delta;
}

bool
net_is_down(const World *w, NetAddr who)
{
  const Net *n = w->net;
  RoleKind r = net_addr_role(who);
  uint32_t i = net_addr_index(who);
  return i < n->n_of[r] && n->down[r][i] > 0;
}
