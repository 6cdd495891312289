/* Scenario step 3: checks across fields, after every field converted on its own: shares
 * that must add up to 1, the PIMSI pool against the MSIN digits its MNC leaves (ITU-T
 * E.212), unique operator names, fault targets and allowed networks that name something,
 * at least one network accepting PIMSIs. Times after the end of the run are allowed (a
 * sweep over `duration` may cut a fault or a burst off; it then never happens). Checks
 * that need values a section could not convert are skipped (a bad share does not also
 * give "the shares add up to..."), but names are checked whenever they are known. */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "m2m/pool.h"
#include "m2m/units.h"
#include "scenario-internal.h"

const ScnNode *
scn_tree_lookup(const ScnNode *root, const char *path, const ScnNode **key,
                const ScnNode **nearest)
{
  g_auto(GStrv) segs = g_strsplit(path, ".", -1);
  const ScnNode *node = root, *k = NULL;
  *nearest = root;
  for (size_t i = 0; segs[i]; i++) {
    k = NULL;
    if (node->kind == SCN_NODE_MAP) {
      int at = scn_map_find(node, segs[i]);
      if (at < 0)
        return NULL;
      k = node->items->pdata[at];
      node = node->items->pdata[at + 1];
      *nearest = k;
    } else if (node->kind == SCN_NODE_SEQ) {
      char *end = NULL;
      guint64 n = g_ascii_strtoull(segs[i], &end, 10);
      if (end == segs[i] || *end != '\0' || n >= node->items->len)
        return NULL;
      node = node->items->pdata[n];
      *nearest = node;
    } else {
      return NULL;
    }
  }
  *key = k;
  return node;
}

/* The node a problem about `path` points at: its key (want_key) or value when written,
 * else the nearest written ancestor. */
static const ScnNode *
where(const ScnNode *root, bool want_key, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static const ScnNode *
where(const ScnNode *root, bool want_key, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *path = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  const ScnNode *key = NULL, *nearest = root;
  const ScnNode *v = scn_tree_lookup(root, path, &key, &nearest);
  if (v == NULL)
    return nearest;
  return want_key && key ? key : v;
}

static const char *
suggest_name(const char *name, char *const *names, size_t n)
{
  return scn_suggest(name, (const char *const *)names, n);
}

/* One range against the MSIN digits its MNC leaves (ITU-T E.212); `at` names it in
 * messages ("registration_service.pimsi_pool" or "...pimsi_pools.1"). */
static void
check_range(const ScnNode *root, const ScnPimsiPool *p, const char *at, ScnDiag *d)
{
  int digits = 15 - 3 - (int)strlen(p->mnc);
  uint64_t cap = 1;
  for (int i = 0; i < digits; i++)
    cap *= 10;
  if (p->size > cap) {
    scn_diag_add(d, where(root, false, "%s.size", at),
                 "%s.size: %llu PIMSIs do not fit: a %d-digit "
                 "MNC leaves %d MSIN digits (15 - 3 - %d, ITU-T E.212), so at most %llu",
                 at, (unsigned long long)p->size, (int)strlen(p->mnc), digits,
                 (int)strlen(p->mnc), (unsigned long long)cap);
  } else if (p->size > POOL_MAX_SIZE) {
    scn_diag_add(d, where(root, false, "%s.size", at),
                 "%s.size: %llu PIMSIs is more than one simulated "
                 "pool holds (at most %llu)", at, (unsigned long long)p->size,
                 (unsigned long long)POOL_MAX_SIZE);
  } else if (p->first_msin >= cap || p->first_msin + p->size > cap) {
    scn_diag_add(d, where(root, false, "%s.first_msin", at),
                 "%s.first_msin: the range %llu + %llu PIMSIs "
                 "passes the last %d-digit MSIN %llu (first_msin + size must be at most %llu)",
                 at, (unsigned long long)p->first_msin, (unsigned long long)p->size, digits,
                 (unsigned long long)(cap - 1), (unsigned long long)cap);
  }
}

static void
check_pool(const ScnNode *root, const ScnConfig *cfg, ScnDiag *d)
{
  const ScnRegistrationService *rs = &cfg->registration_service;
  bool one = rs->pimsi_pool.size > 0, many = rs->pimsi_pools != NULL;
  if (one == many) {
    scn_diag_add(d, where(root, true, "registration_service"),
                 one ? "registration_service: give either pimsi_pool (one number range) or "
                       "pimsi_pools (several), not both"
                     : "registration_service: missing required key 'pimsi_pool' (or "
                       "'pimsi_pools' for several number ranges)");
    return;
  }
  if (one) {
    check_range(root, &rs->pimsi_pool, "registration_service.pimsi_pool", d);
  } else if (rs->n_pimsi_pools > SCN_MAX_RANGES) {
    scn_diag_add(d, where(root, false, "registration_service.pimsi_pools"),
                 "registration_service.pimsi_pools: %zu ranges, at most %d", rs->n_pimsi_pools,
                 SCN_MAX_RANGES);
  } else {
    for (size_t i = 0; i < rs->n_pimsi_pools; i++) {
      const ScnPimsiPool *a = &rs->pimsi_pools[i];
      g_autofree char *at = g_strdup_printf("registration_service.pimsi_pools.%zu", i);
      check_range(root, a, at, d);
      /* the same numbers twice would be handed out twice */
      for (size_t j = 0; j < i; j++) {
        const ScnPimsiPool *b = &rs->pimsi_pools[j];
        if (strcmp(a->mcc, b->mcc) == 0 && strcmp(a->mnc, b->mnc) == 0 &&
            a->first_msin < b->first_msin + b->size && b->first_msin < a->first_msin + a->size)
          scn_diag_add(d, where(root, true, "%s", at),
                       "%s: overlaps range %zu (MCC %s, MNC %s, MSINs %llu..%llu): ranges must "
                       "not share numbers",
                       at, j, b->mcc, b->mnc, (unsigned long long)b->first_msin,
                       (unsigned long long)(b->first_msin + b->size - 1));
      }
    }
  }
  if (rs->pimsi_validity > 0 && rs->pimsi_validity < rs->pimsi_validity_grace) {
    char v[32], g[32];
    scn_diag_add(d, where(root, false, "registration_service.pimsi_validity"),
                 "registration_service.pimsi_validity: %s is shorter than "
                 "pimsi_validity_grace %s (the grace after expiry would outlast the validity "
                 "itself: a unit mistake?); lengthen the validity or shorten the grace",
                 units_format_duration(rs->pimsi_validity, v, sizeof v),
                 units_format_duration(rs->pimsi_validity_grace, g, sizeof g));
  }
}

/* Shares of one list must add up to 1 within 1e-6. */
static void
check_shares(const ScnNode *root, ScnDiag *d, const char *list, const double *shares,
             size_t stride, size_t n)
{
  double sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += *(const double *)((const char *)shares + i * stride);
  if (fabs(sum - 1) > 1e-6)
    scn_diag_add(d, where(root, true, "%s", list),
                 "%s: the shares add up to %.9g, not 1 (they must sum to 1 within 1e-6)", list,
                 sum);
}

/* Names in one list must be unique and must not be the RS's fault-target name. */
static void
check_unique(const ScnNode *root, ScnDiag *d, const char *list, char *const *names, size_t n,
             bool reserved)
{
  g_autoptr(GHashTable) first = g_hash_table_new(g_str_hash, g_str_equal);
  for (size_t i = 0; i < n; i++) {
    gpointer j;
    if (reserved && strcmp(names[i], "registration_service") == 0) {
      scn_diag_add(d, where(root, false, "%s.%zu.name", list, i),
                   "%s.%zu.name: 'registration_service' is reserved for the RS (fault "
                   "targets); choose another name", list, i);
    } else if (g_hash_table_lookup_extended(first, names[i], NULL, &j)) {
      scn_diag_add(d, where(root, false, "%s.%zu.name", list, i),
                   "%s.%zu.name: '%s' is already the name of %s.%zu (names must be unique)",
                   list, i, names[i], list, GPOINTER_TO_SIZE(j));
    } else {
      g_hash_table_insert(first, names[i], GSIZE_TO_POINTER(i));
    }
  }
}

static char **
vo_names(const ScnConfig *cfg)
{
  char **v = g_new0(char *, cfg->n_visited_operators + 1);
  for (size_t i = 0; i < cfg->n_visited_operators; i++)
    v[i] = cfg->visited_operators[i].name;
  return v;
}

static char **
ho_names(const ScnConfig *cfg)
{
  char **v = g_new0(char *, cfg->n_home_operators + 1);
  for (size_t i = 0; i < cfg->n_home_operators; i++)
    v[i] = cfg->home_operators[i].name;
  return v;
}

/* Name -> index of the first operator with that name (lookups in O(1); a scenario may
 * hold tens of thousands of operators and faults). NULL when a name is missing. */
static GHashTable *
name_index(char *const *names, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (names[i] == NULL)
      return NULL;
  GHashTable *h = g_hash_table_new(g_str_hash, g_str_equal);
  for (size_t i = n; i-- > 0;)
    g_hash_table_insert(h, names[i], GSIZE_TO_POINTER(i));
  return h;
}

static ssize_t
name_find(GHashTable *h, const char *name)
{
  gpointer v;
  return h && g_hash_table_lookup_extended(h, name, NULL, &v) ? (ssize_t)GPOINTER_TO_SIZE(v)
                                                             : -1;
}

/* True when every item of the list got its name (other keys may still be wrong). */
static bool
names_known(char *const *names, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (names[i] == NULL)
      return false;
  return n > 0;
}

static void
check_vos(const ScnNode *root, const ScnConfig *cfg, ScnDiag *d, bool clean)
{
  g_autofree char **names = vo_names(cfg);
  bool accepting = false;
  if (clean) {
    check_shares(root, d, "visited_operators", &cfg->visited_operators[0].share,
                 sizeof(ScnVisitedOperator), cfg->n_visited_operators);
    for (size_t i = 0; i < cfg->n_visited_operators; i++)
      accepting |= cfg->visited_operators[i].accepts_pimsi;
    if (!accepting)
      scn_diag_add(d, where(root, true, "visited_operators"),
                   "visited_operators: no visited operator accepts PIMSIs (at least one needs "
                   "accepts_pimsi: true)");
  }
  if (names_known(names, cfg->n_visited_operators))
    check_unique(root, d, "visited_operators", names, cfg->n_visited_operators, true);
}

static void
check_hos(const ScnNode *root, const ScnConfig *cfg, ScnDiag *d, bool clean)
{
  g_autofree char **names = ho_names(cfg);
  g_autofree char **vos = vo_names(cfg);
  if (clean)
    check_shares(root, d, "home_operators", &cfg->home_operators[0].share,
                 sizeof(ScnHomeOperator), cfg->n_home_operators);
  if (!names_known(names, cfg->n_home_operators))
    return;
  check_unique(root, d, "home_operators", names, cfg->n_home_operators, true);
  if (!names_known(vos, cfg->n_visited_operators))
    return;
  g_autoptr(GHashTable) vo_idx = name_index(vos, cfg->n_visited_operators);
  for (size_t i = 0; i < cfg->n_home_operators; i++)
    if (name_find(vo_idx, names[i]) >= 0)
      scn_diag_add(d, where(root, false, "home_operators.%zu.name", i),
                   "home_operators.%zu.name: '%s' is also a visited operator's name (fault "
                   "targets need names that say which one)", i, names[i]);
}

/* The RS's sites: unique names that no operator has (fault targets), at most
 * SCN_MAX_SITES; each VO's rs_sites naming them, once each, resolved into rs_route (all
 * sites in order without rs_sites; site 0 without sites). */
static void
check_sites(const ScnNode *root, ScnConfig *cfg, ScnDiag *d, bool rs_clean, bool vos_clean)
{
  const ScnRegistrationService *rs = &cfg->registration_service;
  size_t n = rs->n_sites;
  g_autofree char **names = g_new0(char *, n + 1);
  for (size_t i = 0; i < n; i++)
    names[i] = rs->sites[i].name;
  if (n > SCN_MAX_SITES)
    scn_diag_add(d, where(root, true, "registration_service.sites"),
                 "registration_service.sites: %zu sites, at most %d", n, SCN_MAX_SITES);
  bool known = n == 0 || names_known(names, n);
  /* With sites, the one-site keys would be silently unused: a sweep over them would
   * change nothing, so they are refused. */
  for (size_t i = 0; n > 0 && scn_one_site_keys[i] != NULL; i++) {
    const char *path = scn_one_site_keys[i];
    const ScnNode *key = NULL, *nearest = NULL;
    if (scn_tree_lookup(root, path, &key, &nearest) != NULL)
      scn_diag_add(d, key ? key : nearest,
                   "%s: not used with registration_service.sites (each site has its own %s)",
                   path, strrchr(path, '.') + 1);
  }
  if (n > 0 && known) {
    check_unique(root, d, "registration_service.sites", names, n, true);
    g_autofree char **vos = vo_names(cfg);
    g_autofree char **hos = ho_names(cfg);
    g_autoptr(GHashTable) vo_idx = name_index(vos, cfg->n_visited_operators);
    g_autoptr(GHashTable) ho_idx = name_index(hos, cfg->n_home_operators);
    for (size_t i = 0; i < n; i++)
      if (strcmp(names[i], "registration_service") == 0 || name_find(vo_idx, names[i]) >= 0 ||
          name_find(ho_idx, names[i]) >= 0)
        scn_diag_add(d, where(root, false, "registration_service.sites.%zu.name", i),
                     "registration_service.sites.%zu.name: '%s' is also %s (fault targets need "
                     "names that say which one)", i, names[i],
                     strcmp(names[i], "registration_service") == 0 ? "the whole service's name"
                                                                   : "an operator's name");
  }
  if (!vos_clean || !known || n > SCN_MAX_SITES)
    return;
  g_autoptr(GHashTable) idx = name_index(names, n);
  for (size_t v = 0; v < cfg->n_visited_operators; v++) {
    ScnVisitedOperator *vo = &cfg->visited_operators[v];
    for (size_t j = 0; j < vo->n_rs_site_delays; j++) {
      ScnSiteDelay *sd = &vo->rs_site_delays[j];
      ssize_t k = sd->site != NULL ? name_find(idx, sd->site) : -1;
      if (sd->site == NULL)
        continue;
      if (k < 0) {
        g_autofree char *all = n > 0 ? g_strjoinv(", ", names) : g_strdup("none");
        scn_diag_add(d, where(root, false, "visited_operators.%zu.rs_site_delays.%zu.site", v, j),
                     "visited_operators.%zu.rs_site_delays.%zu.site: '%s' is not a site "
                     "(known: %s)", v, j, sd->site, all);
        continue;
      }
      sd->index = (uint32_t)k;
      for (size_t q = 0; q < j; q++)
        if (vo->rs_site_delays[q].site != NULL && strcmp(vo->rs_site_delays[q].site, sd->site) == 0)
          scn_diag_add(d, where(root, false, "visited_operators.%zu.rs_site_delays.%zu.site", v, j),
                       "visited_operators.%zu.rs_site_delays.%zu.site: '%s' has a delay already "
                       "(rs_site_delays.%zu)", v, j, sd->site, q);
    }
    vo->n_rs_route = 0;
    if (vo->n_rs_sites == 0) {
      for (size_t i = 0; i < MAX(n, (size_t)1); i++)
        vo->rs_route[vo->n_rs_route++] = (uint32_t)i;
      continue;
    }
    if (n == 0) {
      scn_diag_add(d, where(root, true, "visited_operators.%zu.rs_sites", v),
                   "visited_operators.%zu.rs_sites: the registration service has no sites "
                   "(set registration_service.sites, or leave rs_sites out)", v);
      continue;
    }
    for (size_t j = 0; j < vo->n_rs_sites; j++) {
      const char *name = vo->rs_sites[j];
      ssize_t k = name != NULL ? name_find(idx, name) : -1;
      if (name == NULL)
        continue;
      if (k < 0) {
        const char *sg = suggest_name(name, names, n);
        g_autofree char *all = g_strjoinv(", ", names);
        if (sg)
          scn_diag_add(d, where(root, false, "visited_operators.%zu.rs_sites.%zu", v, j),
                       "visited_operators.%zu.rs_sites.%zu: '%s' is not a site (did you mean "
                       "'%s'?)", v, j, name, sg);
        else
          scn_diag_add(d, where(root, false, "visited_operators.%zu.rs_sites.%zu", v, j),
                       "visited_operators.%zu.rs_sites.%zu: '%s' is not a site (known: %s)", v,
                       j, name, all);
        continue;
      }
      bool twice = false;
      for (size_t q = 0; q < vo->n_rs_route; q++)
        twice |= vo->rs_route[q] == (uint32_t)k;
      if (twice) {
        scn_diag_add(d, where(root, false, "visited_operators.%zu.rs_sites.%zu", v, j),
                     "visited_operators.%zu.rs_sites.%zu: '%s' is listed twice (each site "
                     "once, in the order to try them)", v, j, name);
        continue;
      }
      vo->rs_route[vo->n_rs_route++] = (uint32_t)k;
    }
  }
  (void)rs_clean;
}

static void
check_manufacturers(const ScnNode *root, const ScnConfig *cfg, ScnDiag *d)
{
  for (size_t i = 0; i < cfg->n_manufacturers; i++)
    if (cfg->manufacturers[i].name == NULL)
      return;
  g_autofree char **names = g_new0(char *, cfg->n_manufacturers + 1);
  for (size_t i = 0; i < cfg->n_manufacturers; i++)
    names[i] = cfg->manufacturers[i].name;
  check_unique(root, d, "manufacturers", names, cfg->n_manufacturers, false);
}

static void
check_devices(const ScnNode *root, const ScnConfig *cfg, ScnDiag *d, bool clean, bool vos_clean)
{
  const ScnDevices *dv = &cfg->devices;
  if (clean && dv->retry.max < dv->retry.initial) {
    char a[64], b[64];
    scn_diag_add(d, where(root, false, "devices.retry.max"),
                 "devices.retry.max: %s is shorter than retry.initial %s (max caps the growing "
                 "wait, so max >= initial)", units_format_duration(dv->retry.max, a, sizeof a),
                 units_format_duration(dv->retry.initial, b, sizeof b));
  }
  g_autofree char **names = vo_names(cfg);
  if (dv->n_allowed_networks == 0 || !names_known(names, cfg->n_visited_operators))
    return;
  g_autoptr(GHashTable) vo_idx = name_index(names, cfg->n_visited_operators);
  bool accepting = false, all_known = true;
  for (size_t i = 0; i < dv->n_allowed_networks; i++) {
    const char *n = dv->allowed_networks[i];
    ssize_t vo = name_find(vo_idx, n);
    if (vo >= 0) {
      accepting |= cfg->visited_operators[vo].accepts_pimsi;
      continue;
    }
    all_known = false;
    const char *s = suggest_name(n, names, cfg->n_visited_operators);
    g_autofree char *known = g_strjoinv(", ", names);
    if (s)
      scn_diag_add(d, where(root, false, "devices.allowed_networks.%zu", i),
                   "devices.allowed_networks.%zu: '%s' is not a visited operator (did you mean "
                   "'%s'?)", i, n, s);
    else
      scn_diag_add(d, where(root, false, "devices.allowed_networks.%zu", i),
                   "devices.allowed_networks.%zu: '%s' is not a visited operator (known: %s)", i,
                   n, known);
  }
  if (all_known && !accepting && vos_clean)
    scn_diag_add(d, where(root, true, "devices.allowed_networks"),
                 "devices.allowed_networks: none of these networks accepts PIMSIs, so no device "
                 "could attach (allow at least one with accepts_pimsi: true)");
}

static void
check_faults(const ScnNode *root, ScnConfig *cfg, ScnDiag *d, const ScnClean *clean)
{
  g_autofree char **vos = vo_names(cfg);
  g_autofree char **hos = ho_names(cfg);
  g_autoptr(GHashTable) vo_idx = name_index(vos, cfg->n_visited_operators);
  g_autoptr(GHashTable) ho_idx = name_index(hos, cfg->n_home_operators);
  const ScnRegistrationService *rs = &cfg->registration_service;
  g_autofree char **sites = g_new0(char *, rs->n_sites + 1);
  for (size_t i = 0; i < rs->n_sites; i++)
    sites[i] = rs->sites[i].name;
  g_autoptr(GHashTable) site_idx = name_index(sites, rs->n_sites);
  for (size_t i = 0; i < cfg->n_faults; i++) {
    ScnFault *f = &cfg->faults[i];
    if (f->target == NULL || !names_known(vos, cfg->n_visited_operators) ||
        !names_known(hos, cfg->n_home_operators) ||
        (rs->n_sites > 0 && !names_known(sites, rs->n_sites)))
      continue;
    ssize_t k;
    if (strcmp(f->target, "registration_service") == 0) {
      f->target_kind = SCN_TARGET_RS;
      f->target_index = 0;
    } else if ((k = name_find(site_idx, f->target)) >= 0) {
      f->target_kind = SCN_TARGET_SITE;
      f->target_index = (size_t)k;
    } else if ((k = name_find(vo_idx, f->target)) >= 0) {
      f->target_kind = SCN_TARGET_VO;
      f->target_index = (size_t)k;
    } else if ((k = name_find(ho_idx, f->target)) >= 0) {
      f->target_kind = SCN_TARGET_HO;
      f->target_index = (size_t)k;
    } else {
      g_autoptr(GPtrArray) all = g_ptr_array_new();
      g_ptr_array_add(all, (gpointer) "registration_service");
      for (size_t j = 0; j < rs->n_sites; j++)
        g_ptr_array_add(all, sites[j]);
      for (size_t j = 0; j < cfg->n_visited_operators; j++)
        g_ptr_array_add(all, vos[j]);
      for (size_t j = 0; j < cfg->n_home_operators; j++)
        g_ptr_array_add(all, hos[j]);
      const char *s = scn_suggest(f->target, (const char *const *)all->pdata, all->len);
      g_ptr_array_add(all, NULL);
      g_autofree char *known = g_strjoinv(", ", (char **)all->pdata);
      if (s)
        scn_diag_add(d, where(root, false, "faults.%zu.target", i),
                     "faults.%zu.target: '%s' names nothing (did you mean '%s'?)", i, f->target,
                     s);
      else
        scn_diag_add(d, where(root, false, "faults.%zu.target", i),
                     "faults.%zu.target: '%s' names nothing (allowed: %s)", i, f->target,
                     known);
    }
  }
}

void
scn_validate(const ScnNode *root, ScnConfig *cfg, ScnDiag *d, const ScnClean *clean)
{
  if (clean->rs)
    check_pool(root, cfg, d);
  check_vos(root, cfg, d, clean->vos);
  check_sites(root, cfg, d, clean->rs, clean->vos);
  check_hos(root, cfg, d, clean->hos);
  check_manufacturers(root, cfg, d);
  check_devices(root, cfg, d, clean->devices, clean->vos);
  check_faults(root, cfg, d, clean);
}
