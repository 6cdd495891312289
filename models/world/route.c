/* Routes of the requesters over the RS's sites (see route.h).
 *
 * A route is an order of site indices (the VO's rs_route from validation, or every site)
 * and a position; failing back is checked when the route is used (no event of its own),
 * so a route that nobody uses costs nothing. */
#include "route.h"

#include "m2m/stats.h"

typedef struct {
  const uint32_t *order;
  uint32_t n;
  uint32_t pos;      /* where on `order` the requester is now */
  SimTime failed_at; /* when it left order[0] (pos > 0) */
} Route;

typedef struct {
  uint64_t in, out;
} SiteFailovers;

struct Routes {
  uint32_t n_sites;
  uint32_t all[SCN_MAX_SITES]; /* 0 .. n_sites - 1: the route of every non-VO requester */
  Route *of[ROLE_N];           /* per role kind, per instance (devices: none) */
  size_t n_of[ROLE_N];
  SiteFailovers *fig; /* per site */
};

Routes *
route_new(World *w)
{
  const ScnRegistrationService *c = &w->cfg->registration_service;
  Routes *r = g_new0(Routes, 1);
  r->n_sites = (uint32_t)MAX(c->n_sites, (size_t)1);
  for (uint32_t i = 0; i < r->n_sites; i++)
    r->all[i] = i;
  r->n_of[ROLE_VO] = w->n_vo;
  r->n_of[ROLE_SHO] = w->n_sho;
  r->n_of[ROLE_MFR] = w->n_mfr;
  r->n_of[ROLE_OWNER] = 1;
  for (int k = 0; k < ROLE_N; k++) {
    r->of[k] = g_new0(Route, MAX(r->n_of[k], 1));
    for (size_t i = 0; i < r->n_of[k]; i++) {
      Route *rt = &r->of[k][i];
      const ScnVisitedOperator *vo = k == ROLE_VO ? &w->cfg->visited_operators[i] : NULL;
      if (vo != NULL && vo->n_rs_route > 0) {
        rt->order = vo->rs_route;
        rt->n = (uint32_t)vo->n_rs_route;
      } else {
        rt->order = r->all;
        rt->n = r->n_sites;
      }
    }
  }
  r->fig = g_new0(SiteFailovers, r->n_sites);
  for (size_t i = 0; i < c->n_sites; i++) {
    g_autofree char *in = g_strdup_printf("rs.sites.%s.failovers_in", c->sites[i].name);
    g_autofree char *out = g_strdup_printf("rs.sites.%s.failovers_out", c->sites[i].name);
    stat_registry_counter(w->figs, in, &r->fig[i].in);
    stat_registry_counter(w->figs, out, &r->fig[i].out);
  }
  return r;
}

void
route_free(Routes *r)
{
  if (r == NULL)
    return;
  for (int k = 0; k < ROLE_N; k++)
    g_free(r->of[k]);
  g_free(r->fig);
  g_free(r);
}

uint32_t
route_n_sites(const World *w)
{
  return w->routes->n_sites;
}

static Route *
route_of(const World *w, NetAddr from)
{
  Routes *r = w->routes;
  RoleKind k = net_addr_role(from);
  uint32_t i = net_addr_index(from);
  g_assert(i < r->n_of[k]);
  return &r->of[k][i];
}

NetAddr
route_rs(World *w, NetAddr from)
{
  if (w->routes->n_sites == 1)
    return net_addr(ROLE_RS, 0);
  Route *rt = route_of(w, from);
  if (rt->pos != 0 && w_now(w) - rt->failed_at >= w->cfg->registration_service.failback_after)
    rt->pos = 0; /* failback: the first site again */
  return net_addr(ROLE_RS, rt->order[rt->pos]);
}

void
route_failover(World *w, NetAddr from, uint32_t site)
{
  Routes *r = w->routes;
  Route *rt = route_of(w, from);
  if (rt->n < 2 || rt->order[rt->pos] != site)
    return; /* moved on already (another request), or nowhere to go */
  if (rt->pos == 0)
    rt->failed_at = w_now(w);      /* the failback wait runs from leaving the first site */
  rt->pos = (rt->pos + 1) % rt->n; /* past the last: the first site again */
  r->fig[site].out++;
  r->fig[rt->order[rt->pos]].in++;
}

bool
route_untried(const World *w, NetAddr from, uint32_t tried)
{
  const Route *rt = route_of(w, from);
  for (uint32_t i = 0; i < rt->n; i++)
    if (!(tried & (1u << rt->order[i])))
      return true;
  return false;
}
