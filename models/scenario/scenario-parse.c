/* Scenario step 2: the schema of every key (type, range, default, place in the config
 * structs) and the conversion of the node tree into ScnConfig along it. One table drives
 * everything that must agree: conversion and its messages, defaults (written as YAML
 * text and converted like the file, so a default is valid by construction), --set path
 * resolution, the canonical parameter list for results, and freeing.
 * The reference for users is scenarios/README.md; a test checks its defaults against
 * this table. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "m2m/aka.h"
#include "m2m/units.h"
#include "scenario-internal.h"

typedef enum {
  F_TEXT,     /* char *: any one-line text */
  F_NAME,     /* char *: letters, digits, '.', '_', '-' */
  F_DIGITS,   /* char[4]: umin..umax decimal digits */
  F_U64,      /* uint64_t in umin..umax */
  F_U32,      /* uint32_t in umin..umax */
  F_REAL,     /* double in dmin..dmax (> dmin with F_POSITIVE) */
  F_BOOL,     /* bool: true | false */
  F_DURATION, /* SimTime (> 0 with F_POSITIVE) */
  F_RATE,     /* double events per second */
  F_SHAPE,    /* two doubles alpha, beta: "beta(A,B)" or "uniform" */
  F_DIST,     /* DistSpec */
  F_COUNT,    /* ScnCount, each count in umin..umax */
  F_ARRIVAL,  /* ArrivalSpec */
  F_ENUM,     /* an int-sized enum; names[] in enum order */
  F_MAP,      /* nested struct described by sub */
  F_LIST,     /* pointer to elem_size items at off, size_t count at count_off */
  F_NAMES,    /* char ** at off, size_t count at count_off; NULL = all */
  F_VARY,     /* ScnSweep axes (sweep.vary) */
} FieldKind;

enum {
  F_OPTIONAL = 1 << 0, /* may be left out without a default (zero value) */
  F_POSITIVE = 1 << 1, /* durations and numbers: strictly greater than the minimum */
  F_NONEMPTY = 1 << 2, /* lists: at least one item */
  F_NOPARAM = 1 << 3,  /* not listed by scn_config_params */
};

typedef struct Field Field;
struct Field {
  const char *key;
  FieldKind kind;
  size_t off;
  const char *def; /* default as YAML text; NULL = required unless F_OPTIONAL */
  unsigned flags;
  uint64_t umin, umax;
  double dmin, dmax;
  const char *const *names; /* F_ENUM, terminated by NULL */
  const Field *sub;         /* F_MAP, F_LIST; terminated by key NULL */
  size_t count_off;         /* F_LIST, F_NAMES */
  size_t elem_size;         /* F_LIST */
  const char *item;         /* F_LIST: what one item is, for messages */
};

G_STATIC_ASSERT(sizeof(ScnRecycle) == sizeof(int));
G_STATIC_ASSERT(sizeof(ScnAllocation) == sizeof(int));
G_STATIC_ASSERT(sizeof(ScnAuth) == sizeof(int));
G_STATIC_ASSERT(sizeof(ScnCertAlgorithm) == sizeof(int));
G_STATIC_ASSERT(sizeof(ScnShoAuth) == sizeof(int));

#define AT(type, member) .off = offsetof(type, member)

static const char *const recycle_names[] = {"never", "after_provisioning", NULL};
static const char *const auth_names[] = {"milenage", "certificate", NULL};
static const char *const cert_names[] = {"ecdsa-p256", "ed25519", NULL};
static const char *const sho_auth_names[] = {"none", "aka", "certificate", NULL};
static const char *const jitter_names[] = {"none", "full", "equal", NULL};
static const char *const stop_names[] = {"duration", "settled", NULL};

static const Field pool_fields[] = {
  {"mcc", F_DIGITS, AT(ScnPimsiPool, mcc), .umin = 3, .umax = 3},
  {"mnc", F_DIGITS, AT(ScnPimsiPool, mnc), .umin = 2, .umax = 3},
  {"size", F_U64, AT(ScnPimsiPool, size), .umin = 1, .umax = 10000000000ULL},
  {"first_msin", F_U64, AT(ScnPimsiPool, first_msin), "0", .umax = 9999999999ULL},
  {NULL},
};

static const char *const allocation_names[] = {"fill_first", "round_robin", NULL};

const char *const scn_one_site_keys[] = {"registration_service.av_servers",
                                         "registration_service.av_service_time", NULL};

static const Field site_fields[] = {
  {"name", F_NAME, AT(ScnRsSite, name)},
  {"av_servers", F_U32, AT(ScnRsSite, av_servers), .umin = 1, .umax = 100000},
  {"av_service_time", F_DIST, AT(ScnRsSite, av_service_time)},
  {"extra_delay", F_DIST, AT(ScnRsSite, extra_delay), "{constant: 0s}"},
  {NULL},
};

static const Field rs_fields[] = {
  {"pimsi_pool", F_MAP, AT(ScnRegistrationService, pimsi_pool), NULL, F_OPTIONAL,
   .sub = pool_fields},
  {"pimsi_pools", F_LIST, AT(ScnRegistrationService, pimsi_pools), NULL, F_OPTIONAL | F_NONEMPTY,
   .sub = pool_fields, .count_off = offsetof(ScnRegistrationService, n_pimsi_pools),
   .elem_size = sizeof(ScnPimsiPool), .item = "range"},
  {"pimsi_allocation", F_ENUM, AT(ScnRegistrationService, pimsi_allocation), "fill_first",
   .names = allocation_names},
  {"pimsi_recycle", F_ENUM, AT(ScnRegistrationService, pimsi_recycle), "never",
   .names = recycle_names},
  {"pimsi_quarantine", F_DURATION, AT(ScnRegistrationService, pimsi_quarantine), "1d"},
  {"pimsi_release_failed", F_BOOL, AT(ScnRegistrationService, pimsi_release_failed), "true"},
  {"pimsi_validity", F_DURATION, AT(ScnRegistrationService, pimsi_validity), "0"},
  {"pimsi_validity_grace", F_DURATION, AT(ScnRegistrationService, pimsi_validity_grace), "1d"},
  {"av_servers", F_U32, AT(ScnRegistrationService, av_servers), "4", .umin = 1,
   .umax = 100000},
  {"av_service_time", F_DIST, AT(ScnRegistrationService, av_service_time),
   "{exponential: 2ms}"},
  {"av_vector_time", F_DIST, AT(ScnRegistrationService, av_vector_time), "{constant: 0s}"},
  {"av_batch", F_U32, AT(ScnRegistrationService, av_batch), "1", .umin = 1, .umax = 100},
  {"auth", F_ENUM, AT(ScnRegistrationService, auth), "milenage", .names = auth_names},
  {"ind_bits", F_U32, AT(ScnRegistrationService, ind_bits), "5", .umax = AKA_IND_BITS_MAX},
  {"register_service_time", F_DIST, AT(ScnRegistrationService, register_service_time),
   "{constant: 1ms}"},
  {"front_servers", F_U32, AT(ScnRegistrationService, front_servers), "0", .umax = 100000},
  {"request_timeout", F_DURATION, AT(ScnRegistrationService, request_timeout), "5s",
   F_POSITIVE},
  {"cert_algorithm", F_ENUM, AT(ScnRegistrationService, cert_algorithm), "ecdsa-p256",
   .names = cert_names},
  {"cert_lifetime", F_DURATION, AT(ScnRegistrationService, cert_lifetime), "3650d",
   F_POSITIVE},
  {"revoked_fraction", F_REAL, AT(ScnRegistrationService, revoked_fraction), "0",
   .dmax = 1},
  {"ca_cache_lifetime", F_DURATION, AT(ScnRegistrationService, ca_cache_lifetime), "1d",
   F_POSITIVE},
  {"cert_check_time", F_DIST, AT(ScnRegistrationService, cert_check_time),
   "{constant: 400us}"},
  {"sites", F_LIST, AT(ScnRegistrationService, sites), NULL, F_OPTIONAL | F_NONEMPTY,
   .sub = site_fields, .count_off = offsetof(ScnRegistrationService, n_sites),
   .elem_size = sizeof(ScnRsSite), .item = "site"},
  {"failback_after", F_DURATION, AT(ScnRegistrationService, failback_after), "10min",
   F_POSITIVE},
  {"sqn_replication_delay", F_DIST, AT(ScnRegistrationService, sqn_replication_delay),
   "{constant: 0s}"},
  {NULL},
};

static const Field site_delay_fields[] = {
  {"site", F_NAME, AT(ScnSiteDelay, site)},
  {"roaming_delay", F_DIST, AT(ScnSiteDelay, roaming_delay)},
  {NULL},
};

static const Field vo_fields[] = {
  {"name", F_NAME, AT(ScnVisitedOperator, name)},
  {"share", F_REAL, AT(ScnVisitedOperator, share), .dmax = 1},
  {"accepts_pimsi", F_BOOL, AT(ScnVisitedOperator, accepts_pimsi), "true"},
  {"attach_delay", F_DIST, AT(ScnVisitedOperator, attach_delay), "{constant: 500ms}"},
  {"roaming_delay", F_DIST, AT(ScnVisitedOperator, roaming_delay), "{constant: 30ms}"},
  {"refuse_delay", F_DIST, AT(ScnVisitedOperator, refuse_delay), "{constant: 1s}"},
  {"cert_verify_time", F_DIST, AT(ScnVisitedOperator, cert_verify_time), "{constant: 2ms}"},
  {"temporary_access_limit", F_DURATION, AT(ScnVisitedOperator, temporary_access_limit), "0s"},
  {"spare_lifetime", F_DURATION, AT(ScnVisitedOperator, spare_lifetime), "1d", F_POSITIVE},
  {"rs_sites", F_NAMES, AT(ScnVisitedOperator, rs_sites), NULL, F_OPTIONAL | F_NONEMPTY,
   .count_off = offsetof(ScnVisitedOperator, n_rs_sites), .item = "site"},
  {"rs_site_delays", F_LIST, AT(ScnVisitedOperator, rs_site_delays), "[]",
   .sub = site_delay_fields, .count_off = offsetof(ScnVisitedOperator, n_rs_site_delays),
   .elem_size = sizeof(ScnSiteDelay), .item = "site delay"},
  {NULL},
};

static const Field ho_fields[] = {
  {"name", F_NAME, AT(ScnHomeOperator, name)},
  {"share", F_REAL, AT(ScnHomeOperator, share), .dmax = 1},
  {"download_time", F_DIST, AT(ScnHomeOperator, download_time),
   "{lognormal: {median: 20s, sigma: 0.5}}"},
  {"download_servers", F_U32, AT(ScnHomeOperator, download_servers), "0", .umax = 1000000},
  {"authenticate", F_ENUM, AT(ScnHomeOperator, authenticate), "none",
   .names = sho_auth_names},
  {"auth_time", F_DIST, AT(ScnHomeOperator, auth_time), "{constant: 100ms}"},
  {"register_delay", F_DIST, AT(ScnHomeOperator, register_delay), "{constant: 1s}"},
  {NULL},
};

static const Field mf_fields[] = {
  {"name", F_NAME, AT(ScnManufacturer, name)},
  {"devices", F_U64, AT(ScnManufacturer, devices), .umin = 1, .umax = 10000000000ULL},
  {"production", F_ARRIVAL, AT(ScnManufacturer, production)},
  {"home_operator_known", F_REAL, AT(ScnManufacturer, home_operator_known), "0", .dmax = 1},
  {"wrong_credentials", F_REAL, AT(ScnManufacturer, wrong_credentials), "0", .dmax = 1},
  {"retry_after", F_DURATION, AT(ScnManufacturer, retry_after), "1h", F_POSITIVE},
  {NULL},
};

static const Field owner_fields[] = {
  {"select_home_operator_after", F_DIST, AT(ScnOwners, select_home_operator_after),
   "{exponential: 1d}"},
  {"register_delay", F_DIST, AT(ScnOwners, register_delay), "{constant: 1s}"},
  {"fleet_size", F_COUNT, AT(ScnOwners, fleet_size), "1", .umin = 1, .umax = 1000000},
  {"fleet_window", F_DURATION, AT(ScnOwners, fleet_window), "7d", F_POSITIVE},
  {NULL},
};

static const Field retry_fields[] = {
  {"initial", F_DURATION, AT(ScnRetry, initial), "10s", F_POSITIVE},
  {"factor", F_REAL, AT(ScnRetry, factor), "2", .dmin = 1, .dmax = 100},
  {"max", F_DURATION, AT(ScnRetry, max), "12min", F_POSITIVE},
  {"jitter", F_ENUM, AT(ScnRetry, jitter), "equal", .names = jitter_names},
  {NULL},
};

static const Field device_fields[] = {
  {"power_on_after", F_DIST, AT(ScnDevices, power_on_after), "{exponential: 2d}"},
  {"retry", F_MAP, AT(ScnDevices, retry), "{}", .sub = retry_fields},
  {"max_attempts", F_U32, AT(ScnDevices, max_attempts), "0", .umax = 1000000},
  {"allowed_networks", F_NAMES, AT(ScnDevices, allowed_networks), NULL,
   F_OPTIONAL | F_NONEMPTY, .count_off = offsetof(ScnDevices, n_allowed_networks)},
  {"sqn_desync_fraction", F_REAL, AT(ScnDevices, sqn_desync_fraction), "0", .dmax = 1},
  {"never_deployed", F_REAL, AT(ScnDevices, never_deployed), "0", .dmax = 1},
  {NULL},
};

static const Field fault_fields[] = {
  {"at", F_DURATION, AT(ScnFault, at)},
  {"target", F_NAME, AT(ScnFault, target)},
  {"down_for", F_DURATION, AT(ScnFault, down_for), NULL, F_POSITIVE},
  {NULL},
};

static const Field output_fields[] = {
  {"series_interval", F_DURATION, AT(ScnOutput, series_interval), "1h", F_POSITIVE},
  {"quantile_exact_max", F_U64, AT(ScnOutput, quantile_exact_max), "0", .umax = 1000000000},
  {NULL},
};

static const Field sweep_fields[] = {
  {"vary", F_VARY, 0, NULL, F_OPTIONAL},
  {"replications", F_U32, AT(ScnSweep, replications), "1", .umin = 1, .umax = 100000},
  {NULL},
};

static const Field top_fields[] = {
  {"name", F_TEXT, AT(ScnConfig, name)},
  {"seed", F_U64, AT(ScnConfig, seed), "1", .umax = INT64_MAX},
  {"duration", F_DURATION, AT(ScnConfig, duration), NULL, F_POSITIVE},
  {"stop_when", F_ENUM, AT(ScnConfig, stop_when), "duration", .names = stop_names},
  {"registration_service", F_MAP, AT(ScnConfig, registration_service), .sub = rs_fields},
  {"visited_operators", F_LIST, AT(ScnConfig, visited_operators), NULL, F_NONEMPTY,
   .sub = vo_fields, .count_off = offsetof(ScnConfig, n_visited_operators),
   .elem_size = sizeof(ScnVisitedOperator), .item = "visited operator"},
  {"home_operators", F_LIST, AT(ScnConfig, home_operators), NULL, F_NONEMPTY,
   .sub = ho_fields, .count_off = offsetof(ScnConfig, n_home_operators),
   .elem_size = sizeof(ScnHomeOperator), .item = "home operator"},
  {"manufacturers", F_LIST, AT(ScnConfig, manufacturers), NULL, F_NONEMPTY,
   .sub = mf_fields, .count_off = offsetof(ScnConfig, n_manufacturers),
   .elem_size = sizeof(ScnManufacturer), .item = "manufacturer"},
  {"owners", F_MAP, AT(ScnConfig, owners), "{}", .sub = owner_fields},
  {"devices", F_MAP, AT(ScnConfig, devices), "{}", .sub = device_fields},
  {"faults", F_LIST, AT(ScnConfig, faults), "[]", .sub = fault_fields,
   .count_off = offsetof(ScnConfig, n_faults), .elem_size = sizeof(ScnFault),
   .item = "fault"},
  {"output", F_MAP, AT(ScnConfig, output), "{}", .sub = output_fields},
  {"sweep", F_MAP, AT(ScnConfig, sweep), "{}", F_NOPARAM, .sub = sweep_fields},
  {NULL},
};

/* Sub-schemas of the distribution and arrival forms that take a mapping. */
static const Field lognormal_fields[] = {
  {"median", F_DURATION, AT(DistSpec, a), NULL, F_POSITIVE},
  {"sigma", F_REAL, AT(DistSpec, p1), .dmax = 10},
  {NULL},
};

static const Field beta_fields[] = {
  {"alpha", F_REAL, AT(DistSpec, p1), NULL, F_POSITIVE, .dmax = 1000},
  {"beta", F_REAL, AT(DistSpec, p2), NULL, F_POSITIVE, .dmax = 1000},
  {"over", F_DURATION, AT(DistSpec, a), NULL, F_POSITIVE},
  {NULL},
};

static const Field burst_fields[] = {
  {"at", F_DURATION, AT(ArrivalSpec, at)},
  {"over", F_DURATION, AT(ArrivalSpec, over), NULL, F_POSITIVE},
  {"shape", F_SHAPE, AT(ArrivalSpec, alpha), "beta(3,4)"},
  {NULL},
};

static const char *const dist_names[] = {"constant", "exponential", "uniform", "lognormal",
                                         "beta", "mixture", "empirical"};
static const char *const arrival_names[] = {"poisson", "constant", "burst", "piecewise",
                                            "trace"};

static const Field piece_fields[] = {
  {"from", F_DURATION, AT(ArrivalPiece, from)},
  {"rate", F_RATE, AT(ArrivalPiece, rate_per_s)},
  {NULL},
};

#define DIST_FORMS                                                                               \
  "{constant: D}, {exponential: MEAN}, {uniform: [A, B]}, {lognormal: {median: D, "            \
  "sigma: S}}, {beta: {alpha: A, beta: B, over: D}}, {mixture: [{weight: W, DIST}, ...]} or "  \
  "{empirical: FILE.csv}"
#define ARRIVAL_FORMS                                                                            \
  "{poisson: RATE}, {constant: RATE} (either with growth: P%/y), {burst: {at: T, over: D, "     \
  "shape: beta(3,4)}}, {piecewise: [{from: 0, rate: R}, {from: T, rate: R2}, ...]} or "       \
  "{trace: FILE.csv}"

/* ---- Helpers ---- */

static size_t
fields_count(const Field *fields)
{
  size_t n = 0;
  while (fields[n].key)
    n++;
  return n;
}

static const Field *
fields_find(const Field *fields, const char *key)
{
  for (const Field *f = fields; f->key; f++)
    if (strcmp(f->key, key) == 0)
      return f;
  return NULL;
}

static char *
fields_list(const Field *fields)
{
  GString *s = g_string_new(NULL);
  for (const Field *f = fields; f->key; f++)
    g_string_append_printf(s, "%s%s", f == fields ? "" : ", ", f->key);
  return g_string_free(s, FALSE);
}

static size_t
levenshtein(const char *a, const char *b)
{
  size_t la = strlen(a), lb = strlen(b);
  g_autofree size_t *row = g_new(size_t, lb + 1);
  for (size_t j = 0; j <= lb; j++)
    row[j] = j;
  for (size_t i = 1; i <= la; i++) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= lb; j++) {
      size_t up = row[j];
      size_t best = MIN(row[j] + 1, row[j - 1] + 1);
      row[j] = MIN(best, diag + (a[i - 1] == b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[lb];
}

const char *
scn_suggest(const char *word, const char *const *candidates, size_t n)
{
  size_t len = strlen(word);
  size_t limit = len <= 3 ? 1 : len <= 6 ? 2 : len / 3;
  const char *best = NULL;
  size_t best_d = SIZE_MAX;
  if (len > 200)
    return NULL;
  for (size_t i = 0; i < n; i++) {
    size_t d = levenshtein(word, candidates[i]);
    if (d < best_d) {
      best_d = d;
      best = candidates[i];
    }
  }
  return best_d <= limit ? best : NULL;
}

/* "unknown key 'x' in PATH (did you mean 'y'?)" or "(allowed: ...)". */
static char *
unknown_key_message(const char *key, const char *path, const Field *fields)
{
  size_t n = fields_count(fields);
  g_autofree const char **keys = g_new(const char *, n);
  for (size_t i = 0; i < n; i++)
    keys[i] = fields[i].key;
  const char *s = scn_suggest(key, keys, n);
  g_autofree char *where = *path ? g_strdup_printf(" in %s", path) : g_strdup("");
  if (s)
    return g_strdup_printf("unknown key '%s'%s (did you mean '%s'?)", key, where, s);
  g_autofree char *all = fields_list(fields);
  return g_strdup_printf("unknown key '%s'%s (allowed: %s)", key, where, all);
}

static char *
path_join(const char *path, const char *key)
{
  return *path ? g_strdup_printf("%s.%s", path, key) : g_strdup(key);
}

static char *
fmt_real(double v)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE], fmt[8];
  if (fabs(v) < 1e15 && !(fabs(v - round(v)) > 0))
    return g_strdup_printf("%.0f", v); /* whole numbers without an exponent */
  for (int p = 1; p <= 17; p++) {
    g_snprintf(fmt, sizeof fmt, "%%.%dg", p);
    g_ascii_formatd(buf, sizeof buf, fmt, v);
    double back = g_ascii_strtod(buf, NULL);
    if (!(back < v) && !(back > v))
      break;
  }
  return g_strdup(buf);
}

static char *
fmt_duration(SimTime t)
{
  char buf[64];
  return g_strdup(units_format_duration(t, buf, sizeof buf));
}

/* A rate in the smallest unit where it is a whole number ("500/d", "800/s"). */
static char *
fmt_rate(double per_s)
{
  static const struct {
    const char *name;
    double s;
  } u[] = {{"us", 1e-6}, {"ms", 1e-3}, {"s", 1}, {"min", 60}, {"h", 3600}, {"d", 86400}};
  for (size_t i = 0; i < G_N_ELEMENTS(u); i++) {
    double v = per_s * u[i].s;
    if (v >= 1 && v < 1e15 && fabs(v - round(v)) <= 1e-9 * v)
      return g_strdup_printf("%.0f/%s", round(v), u[i].name);
  }
  g_autofree char *v = fmt_real(per_s);
  return g_strdup_printf("%s/s", v);
}

char *
scn_dist_to_string(const DistSpec *d)
{
  g_autofree char *a = fmt_duration(d->a);
  switch (d->kind) {
  case DIST_CONSTANT:
    return g_strdup_printf("{constant: %s}", a);
  case DIST_EXPONENTIAL:
    return g_strdup_printf("{exponential: %s}", a);
  case DIST_UNIFORM: {
    g_autofree char *b = fmt_duration(d->b);
    return g_strdup_printf("{uniform: [%s, %s]}", a, b);
  }
  case DIST_LOGNORMAL: {
    g_autofree char *s = fmt_real(d->p1);
    return g_strdup_printf("{lognormal: {median: %s, sigma: %s}}", a, s);
  }
  case DIST_BETA: {
    g_autofree char *al = fmt_real(d->p1), *be = fmt_real(d->p2);
    return g_strdup_printf("{beta: {alpha: %s, beta: %s, over: %s}}", al, be, a);
  }
  case DIST_EMPIRICAL:
    return g_strdup_printf("{empirical: %s}", d->table_path);
  case DIST_MIXTURE: {
    GString *out = g_string_new("{mixture: [");
    for (unsigned i = 0; i < d->n_parts; i++) {
      const DistPart *p = &d->part[i];
      DistSpec one = {p->kind, p->a, p->b, p->p1, p->p2};
      g_autofree char *text = scn_dist_to_string(&one);
      g_autofree char *w = fmt_real(d->weight[i]);
      /* "{exponential: 30d}" -> "{weight: 0.7, exponential: 30d}" */
      g_string_append_printf(out, "%s{weight: %s, %s", i ? ", " : "", w, text + 1);
    }
    g_string_append(out, "]}");
    return g_string_free(out, FALSE);
  }
  }
  g_assert_not_reached();
}

char *
scn_count_to_string(const ScnCount *c)
{
  switch (c->kind) {
  case SCN_COUNT_CONSTANT:
    return g_strdup_printf("%u", c->a);
  case SCN_COUNT_UNIFORM:
    return g_strdup_printf("{uniform: [%u, %u]}", c->a, c->b);
  case SCN_COUNT_GEOMETRIC: {
    g_autofree char *m = fmt_real(c->mean);
    return g_strdup_printf("{geometric: %s}", m);
  }
  }
  g_assert_not_reached();
}

static char *
fmt_shape(double alpha, double beta)
{
  g_autofree char *a = fmt_real(alpha), *b = fmt_real(beta);
  return g_strdup_printf("beta(%s,%s)", a, b);
}

char *
scn_arrival_to_string(const ArrivalSpec *a)
{
  switch (a->kind) {
  case ARRIVAL_POISSON:
  case ARRIVAL_CONSTANT: {
    g_autofree char *r = fmt_rate(a->rate_per_s);
    const char *name = a->kind == ARRIVAL_POISSON ? "poisson" : "constant";
    if (!(fabs(a->growth_pct_per_year) > 0))
      return g_strdup_printf("{%s: %s}", name, r);
    g_autofree char *g = fmt_real(a->growth_pct_per_year);
    return g_strdup_printf("{%s: %s, growth: %s%%/y}", name, r, g);
  }
  case ARRIVAL_TRACE:
    return g_strdup_printf("{trace: %s}", a->trace_path);
  case ARRIVAL_PIECEWISE: {
    GString *out = g_string_new("{piecewise: [");
    for (size_t i = 0; i < a->n_pieces; i++) {
      g_autofree char *from = fmt_duration(a->pieces[i].from);
      g_autofree char *r = fmt_rate(a->pieces[i].rate_per_s);
      g_string_append_printf(out, "%s{from: %s, rate: %s}", i ? ", " : "", from, r);
    }
    g_string_append(out, "]}");
    return g_string_free(out, FALSE);
  }
  case ARRIVAL_BURST: {
    g_autofree char *at = fmt_duration(a->at), *over = fmt_duration(a->over);
    g_autofree char *shape = fmt_shape(a->alpha, a->beta);
    return g_strdup_printf("{burst: {at: %s, over: %s, shape: %s}}", at, over, shape);
  }
  }
  g_assert_not_reached();
}

/* ---- Conversion ---- */

typedef struct {
  ScnDiag *d;
  const ScnNode *root;
  GHashTable *dirty; /* top-level keys whose conversion found a problem (or NULL) */
} Conv;

/* Parsed defaults, shared by every load of the process: schema text -> ScnNode. Filled
 * on first use under a lock and never freed (a few kB, fixed by the schema). */
static GHashTable *default_cache;
G_LOCK_DEFINE_STATIC(default_cache);

static const ScnNode *
default_node(const char *def)
{
  G_LOCK(default_cache);
  if (default_cache == NULL)
    default_cache = g_hash_table_new(g_str_hash, g_str_equal);
  ScnNode *n = g_hash_table_lookup(default_cache, def);
  if (n == NULL) {
    ScnDiag d;
    scn_diag_init(&d, "(default)", NULL);
    n = scn_tree_parse(def, strlen(def), -1, &d);
    if (n == NULL) {
      g_autofree char *msg = scn_diag_format(&d);
      g_error("scenario schema: default '%s' is not YAML: %s", def, msg);
    }
    scn_diag_clear(&d);
    g_hash_table_insert(default_cache, (gpointer)def, n);
  }
  G_UNLOCK(default_cache);
  return n;
}

/* Remembers that top-level section `key` had a problem if the count grew. */
static void
conv_mark(Conv *c, const char *path, const char *key, size_t before)
{
  if (c->dirty && *path == '\0' && scn_diag_count(c->d) > before)
    g_hash_table_add(c->dirty, (gpointer)key);
}

static void conv_map(Conv *c, const Field *fields, const ScnNode *v, const ScnNode *anchor,
                     void *base, const char *path);

/* What a field accepts, for messages. */
static char *
field_expect(const Field *f)
{
  switch (f->kind) {
  case F_TEXT:
    return g_strdup("one non-empty line of text");
  case F_NAME:
    return g_strdup("a name of letters, digits, '.', '_' and '-'");
  case F_DIGITS:
    if (f->umin == f->umax)
      return g_strdup_printf("%u decimal digits in quotes, e.g. \"901\"", (unsigned)f->umin);
    return g_strdup_printf("%u or %u decimal digits in quotes, e.g. \"70\"", (unsigned)f->umin,
                           (unsigned)f->umax);
  case F_U64:
  case F_U32:
    return g_strdup_printf("an integer from %llu to %llu", (unsigned long long)f->umin,
                           (unsigned long long)f->umax);
  case F_REAL: {
    g_autofree char *lo = fmt_real(f->dmin), *hi = fmt_real(f->dmax);
    if (f->flags & F_POSITIVE)
      return g_strdup_printf("a number greater than %s and at most %s", lo, hi);
    return g_strdup_printf("a number from %s to %s", lo, hi);
  }
  case F_BOOL:
    return g_strdup("true or false");
  case F_DURATION:
    return g_strdup_printf("a duration%s such as 250ms, 30s, 5min, 2h or 1d",
                           (f->flags & F_POSITIVE) ? " greater than 0" : "");
  case F_RATE:
    return g_strdup("a rate such as 500/d or 800/s");
  case F_SHAPE:
    return g_strdup("beta(A,B) with A, B > 0, or uniform");
  case F_DIST:
    return g_strdup("a distribution: " DIST_FORMS);
  case F_COUNT:
    return g_strdup_printf("a count from %llu to %llu: N, {uniform: [A, B]} or {geometric: MEAN}",
                           (unsigned long long)f->umin, (unsigned long long)f->umax);
  case F_ARRIVAL:
    return g_strdup("an arrival process: " ARRIVAL_FORMS);
  case F_ENUM: {
    g_autofree char *all = g_strjoinv(" | ", (char **)f->names);
    return g_strdup_printf("one of %s", all);
  }
  case F_MAP: {
    g_autofree char *all = fields_list(f->sub);
    return g_strdup_printf("a mapping with keys %s", all);
  }
  case F_LIST:
    return g_strdup_printf("a list of %ss", f->item);
  case F_NAMES:
    return g_strdup_printf("a list of %s names, or all", f->item ? f->item : "visited operator");
  case F_VARY:
    return g_strdup("a mapping of key paths to lists of values");
  }
  g_assert_not_reached();
}

static void
conv_bad(Conv *c, const Field *f, const ScnNode *v, const char *path, const char *why)
{
  g_autofree char *expect = field_expect(f);
  if (v->kind != SCN_NODE_SCALAR)
    scn_diag_add(c->d, v, "%s: expected %s, got a %s", path, expect,
                 v->kind == SCN_NODE_MAP ? "mapping" : "list");
  else if (why)
    scn_diag_add(c->d, v, "%s: %s, got '%s' (expected %s)", path, why, v->text, expect);
  else
    scn_diag_add(c->d, v, "%s: expected %s, got '%s'", path, expect, v->text);
}

static bool
parse_u64(const char *s, uint64_t *out)
{
  uint64_t v = 0;
  if (*s == '\0')
    return false;
  for (const char *p = s; *p; p++) {
    if (*p < '0' || *p > '9')
      return false;
    if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
      return false;
    v = v * 10 + (uint64_t)(*p - '0');
  }
  *out = v;
  return true;
}

static bool
parse_real(const char *s, double *out)
{
  char *end = NULL;
  if (*s == '\0' || strspn(s, "0123456789.eE+-") != strlen(s))
    return false;
  if (!(g_ascii_isdigit(s[0]) || s[0] == '.' || s[0] == '-'))
    return false;
  double v = g_ascii_strtod(s, &end);
  if (end == s || *end != '\0' || !isfinite(v))
    return false;
  *out = v;
  return true;
}

/* "beta(3,4)" / "beta(3, 4)" / "uniform". */
static bool
parse_shape(const char *s, double *alpha, double *beta)
{
  if (strcmp(s, "uniform") == 0) {
    *alpha = *beta = 1;
    return true;
  }
  if (strncmp(s, "beta(", 5) != 0 || s[strlen(s) - 1] != ')')
    return false;
  g_autofree char *inner = g_strndup(s + 5, strlen(s) - 6);
  g_auto(GStrv) parts = g_strsplit(inner, ",", -1);
  if (g_strv_length(parts) != 2)
    return false;
  double v[2];
  for (int i = 0; i < 2; i++) {
    g_strstrip(parts[i]);
    if (!parse_real(parts[i], &v[i]) || !(v[i] > 0) || v[i] > 1000)
      return false;
  }
  *alpha = v[0];
  *beta = v[1];
  return true;
}

static bool
name_ok(const char *s)
{
  if (*s == '\0' || strlen(s) > 64)
    return false;
  for (const char *p = s; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '.' && *p != '_' && *p != '-')
      return false;
  return true;
}

static void conv_field(Conv *c, const Field *f, const ScnNode *v, const ScnNode *anchor,
                       void *base, const char *path);

/* {constant: D} ... into *out. */
static void conv_dist(Conv *c, const Field *f, const ScnNode *v, DistSpec *out,
                      const char *path);

/* {mixture: [{weight: W, DIST}, ...]}: each part a distribution other than a mixture, the
 * weights above 0 and adding up to 1. */
static void
conv_mixture(Conv *c, const Field *f, const ScnNode *k, const ScnNode *v, DistSpec *out,
             const char *path)
{
  if (v->kind != SCN_NODE_SEQ || v->items->len < 2 || v->items->len > DIST_MAX_PARTS) {
    scn_diag_add(c->d, v->kind == SCN_NODE_SEQ ? k : v, "%s: expected a list of 2 to %d parts "
                 "[{weight: W, DIST}, ...] whose weights add up to 1", path, DIST_MAX_PARTS);
    return;
  }
  const Field wf = {"weight", F_REAL, 0, NULL, F_POSITIVE, .dmax = 1};
  size_t before = scn_diag_count(c->d);
  double sum = 0;
  out->n_parts = v->items->len;
  for (guint i = 0; i < v->items->len; i++) {
    const ScnNode *item = v->items->pdata[i];
    g_autofree char *p = g_strdup_printf("%s.%u", path, i);
    int wat = item->kind == SCN_NODE_MAP ? scn_map_find(item, "weight") : -1;
    if (wat < 0 || item->items->len != 4) {
      scn_diag_add(c->d, item, "%s: expected {weight: W, DIST}, e.g. {weight: 0.7, exponential: "
                   "30d}", p);
      continue;
    }
    g_autofree char *wp = path_join(p, "weight");
    conv_field(c, &wf, item->items->pdata[wat + 1], item->items->pdata[wat], &out->weight[i], wp);
    sum += out->weight[i];
    /* the part: the item without its weight */
    g_autoptr(ScnNode) part = scn_node_new(SCN_NODE_MAP, item->line, item->col, item->set);
    guint other = wat == 0 ? 2 : 0;
    g_ptr_array_add(part->items, scn_node_copy(item->items->pdata[other]));
    g_ptr_array_add(part->items, scn_node_copy(item->items->pdata[other + 1]));
    DistSpec one;
    size_t had = scn_diag_count(c->d);
    conv_dist(c, f, part, &one, p);
    if (scn_diag_count(c->d) != had)
      continue;
    if (one.kind == DIST_MIXTURE || one.kind == DIST_EMPIRICAL) {
      scn_diag_add(c->d, item, one.kind == DIST_MIXTURE
                                   ? "%s: a mixture inside a mixture; list its parts in the outer "
                                     "one"
                                   : "%s: an empirical distribution cannot be part of a mixture "
                                     "(put every sample in its file instead)",
                   p);
      g_free((double *)one.table);
      g_free(one.table_path);
      continue;
    }
    out->part[i] = (DistPart){one.kind, one.a, one.b, one.p1, one.p2};
  }
  if (scn_diag_count(c->d) == before && fabs(sum - 1) > 1e-9)
    scn_diag_add(c->d, v, "%s: the weights add up to %.6g, not 1", path, sum);
}

static void
conv_dist(Conv *c, const Field *f, const ScnNode *v, DistSpec *out, const char *path)
{
  if (v->kind != SCN_NODE_MAP || v->items->len != 2) {
    SimTime t;
    const char *why;
    if (v->kind == SCN_NODE_SCALAR && units_parse_duration(v->text, &t, &why))
      scn_diag_add(c->d, v, "%s: expected a distribution, got '%s' (for a fixed time write "
                   "{constant: %s}; allowed: " DIST_FORMS ")", path, v->text, v->text);
    else if (v->kind == SCN_NODE_MAP && v->items->len > 2)
      scn_diag_add(c->d, v, "%s: a distribution has exactly one key, found %u (allowed: "
                   DIST_FORMS ")", path, v->items->len / 2);
    else
      conv_bad(c, f, v, path, NULL);
    return;
  }
  const ScnNode *k = v->items->pdata[0], *val = v->items->pdata[1];
  int kind = -1;
  for (size_t i = 0; i < G_N_ELEMENTS(dist_names); i++)
    if (strcmp(k->text, dist_names[i]) == 0)
      kind = (int)i;
  g_autofree char *sub = path_join(path, k->text);
  if (kind < 0) {
    const char *s = scn_suggest(k->text, dist_names, G_N_ELEMENTS(dist_names));
    if (s)
      scn_diag_add(c->d, k, "%s: unknown distribution '%s' (did you mean '%s'?)", path, k->text,
                   s);
    else
      scn_diag_add(c->d, k, "%s: unknown distribution '%s' (allowed: " DIST_FORMS ")", path,
                   k->text);
    return;
  }
  memset(out, 0, sizeof *out);
  out->kind = (DistKind)kind;
  switch (out->kind) {
  case DIST_CONSTANT: {
    const Field df = {"constant", F_DURATION, AT(DistSpec, a)};
    conv_field(c, &df, val, k, out, sub);
    break;
  }
  case DIST_EXPONENTIAL: {
    const Field df = {"exponential", F_DURATION, AT(DistSpec, a), NULL, F_POSITIVE};
    conv_field(c, &df, val, k, out, sub);
    break;
  }
  case DIST_UNIFORM: {
    const Field lo = {"uniform", F_DURATION, AT(DistSpec, a)};
    const Field hi = {"uniform", F_DURATION, AT(DistSpec, b)};
    if (val->kind != SCN_NODE_SEQ || val->items->len != 2) {
      scn_diag_add(c->d, val, "%s: expected a list of two durations [A, B] with A <= B", sub);
      break;
    }
    size_t before = scn_diag_count(c->d);
    g_autofree char *p0 = path_join(sub, "0"), *p1 = path_join(sub, "1");
    conv_field(c, &lo, val->items->pdata[0], NULL, out, p0);
    conv_field(c, &hi, val->items->pdata[1], NULL, out, p1);
    if (scn_diag_count(c->d) == before && out->a > out->b)
      scn_diag_add(c->d, val, "%s: lower bound is above the upper bound (expected [A, B] with "
                   "A <= B)", sub);
    break;
  }
  case DIST_LOGNORMAL:
    conv_map(c, lognormal_fields, val, k, out, sub);
    break;
  case DIST_BETA:
    conv_map(c, beta_fields, val, k, out, sub);
    break;
  case DIST_MIXTURE:
    conv_mixture(c, f, k, val, out, sub);
    break;
  case DIST_EMPIRICAL: {
    g_autofree char *why = NULL;
    if (val->kind != SCN_NODE_SCALAR || *val->text == '\0') {
      scn_diag_add(c->d, val, "%s: expected the name of a CSV file (relative to the scenario)",
                   sub);
      break;
    }
    g_autofree char *file = scn_csv_resolve(c->d->file, val->text);
    double *table = scn_csv_empirical(file, &out->n_table, &out->table_cdf, &why);
    if (table == NULL) {
      scn_diag_add(c->d, val, "%s: %s", sub, why);
      break;
    }
    out->table = table;
    out->table_path = g_strdup(val->text);
    break;
  }
  }
}

/* N, {constant: N}, {uniform: [A, B]} or {geometric: MEAN}, every count in the field's
 * range, into *out. */
static void
conv_count(Conv *c, const Field *f, const ScnNode *v, ScnCount *out, const char *path)
{
  const Field one = {f->key, F_U32, 0, NULL, 0, .umin = f->umin, .umax = f->umax};
  memset(out, 0, sizeof *out);
  if (v->kind == SCN_NODE_SCALAR) {
    conv_field(c, &one, v, NULL, &out->a, path);
    return;
  }
  if (v->kind != SCN_NODE_MAP || v->items->len != 2) {
    conv_bad(c, f, v, path, NULL);
    return;
  }
  const ScnNode *k = v->items->pdata[0], *val = v->items->pdata[1];
  g_autofree char *sub = path_join(path, k->text);
  if (strcmp(k->text, "constant") == 0) {
    conv_field(c, &one, val, k, &out->a, sub);
  } else if (strcmp(k->text, "uniform") == 0) {
    out->kind = SCN_COUNT_UNIFORM;
    if (val->kind != SCN_NODE_SEQ || val->items->len != 2) {
      scn_diag_add(c->d, val, "%s: expected a list of two counts [A, B] with A <= B", sub);
      return;
    }
    size_t before = scn_diag_count(c->d);
    g_autofree char *p0 = path_join(sub, "0"), *p1 = path_join(sub, "1");
    conv_field(c, &one, val->items->pdata[0], NULL, &out->a, p0);
    conv_field(c, &one, val->items->pdata[1], NULL, &out->b, p1);
    if (scn_diag_count(c->d) == before && out->a > out->b)
      scn_diag_add(c->d, val, "%s: lower bound is above the upper bound (expected [A, B] with "
                   "A <= B)", sub);
  } else if (strcmp(k->text, "geometric") == 0) {
    out->kind = SCN_COUNT_GEOMETRIC;
    const Field mean = {"geometric", F_REAL, 0, NULL, 0, .dmin = 1, .dmax = (double)f->umax};
    conv_field(c, &mean, val, k, &out->mean, sub);
  } else {
    scn_diag_add(c->d, k, "%s: unknown count distribution '%s' (allowed: N, {constant: N}, "
                 "{uniform: [A, B]}, {geometric: MEAN})", path, k->text);
  }
}

/* In flow style, {shape: beta(3,4)} (as scenario.md writes it) reaches us split at the
 * comma: shape: "beta(3" and a key "4)" without a value. Joins them back (a copy). */
static ScnNode *
join_flow_shape(const ScnNode *map)
{
  ScnNode *m = scn_node_copy(map);
  int at = scn_map_find(m, "shape");
  if (at < 0 || (guint)at + 3 >= m->items->len)
    return m;
  ScnNode *v = m->items->pdata[at + 1], *k2 = m->items->pdata[at + 2];
  ScnNode *v2 = m->items->pdata[at + 3];
  if (v->kind != SCN_NODE_SCALAR || !v->plain || strchr(v->text, '(') == NULL ||
      strchr(v->text, ')') != NULL || !g_str_has_suffix(k2->text, ")") ||
      !scn_node_is_null(v2))
    return m;
  char *joined = g_strdup_printf("%s,%s", v->text, k2->text);
  g_free(v->text);
  v->text = joined;
  g_ptr_array_remove_range(m->items, (guint)at + 2, 2);
  return m;
}

/* "25%/y", "-10%/y": a yearly growth in percent, above -100. */
static bool
parse_growth(const char *text, double *pct, const char **why)
{
  char *end = NULL;
  double v = g_ascii_strtod(text, &end);
  if (end == text || strcmp(end, "%/y") != 0 || !isfinite(v)) {
    *why = "expected a yearly growth such as 25%/y or -10%/y";
    return false;
  }
  if (!(v > -100) || v > 10000) {
    *why = "a growth must be above -100%/y (a rate cannot fall below zero) and at most "
           "10000%/y";
    return false;
  }
  *pct = v;
  return true;
}

static void
conv_growth(Conv *c, const ScnNode *k, const ScnNode *v, ArrivalSpec *out, const char *path)
{
  const char *why = NULL;
  g_autofree char *sub = path_join(path, "growth");
  if (out->kind != ARRIVAL_POISSON && out->kind != ARRIVAL_CONSTANT)
    scn_diag_add(c->d, k, "%s: growth applies to {poisson: RATE} and {constant: RATE} only "
                 "(a piecewise rate says each rate itself)", path);
  else if (v->kind != SCN_NODE_SCALAR || !parse_growth(v->text, &out->growth_pct_per_year, &why))
    scn_diag_add(c->d, v, "%s: %s, got '%s'", sub, why ? why : "expected a yearly growth such "
                 "as 25%/y", v->kind == SCN_NODE_SCALAR ? v->text : "a collection");
}

static void
conv_pieces(Conv *c, const ScnNode *k, const ScnNode *v, ArrivalSpec *out, const char *path)
{
  if (v->kind != SCN_NODE_SEQ || v->items->len == 0) {
    scn_diag_add(c->d, v->kind == SCN_NODE_SEQ ? k : v, "%s: expected a list of pieces "
                 "[{from: 0, rate: R}, {from: T, rate: R2}, ...], the first from 0", path);
    return;
  }
  if (v->items->len > ARRIVAL_MAX_PIECES) {
    scn_diag_add(c->d, v, "%s: %u pieces, at most %d", path, v->items->len, ARRIVAL_MAX_PIECES);
    return;
  }
  out->n_pieces = v->items->len;
  for (guint i = 0; i < v->items->len; i++) {
    const ScnNode *item = v->items->pdata[i];
    g_autofree char *p = g_strdup_printf("%s.%u", path, i);
    size_t before = scn_diag_count(c->d);
    conv_map(c, piece_fields, item, k, &out->pieces[i], p);
    if (scn_diag_count(c->d) != before)
      continue;
    g_autofree char *from = fmt_duration(out->pieces[i].from);
    if (i == 0 && out->pieces[0].from != 0)
      scn_diag_add(c->d, item, "%s.from: the first piece starts at 0 (the rate from the "
                   "start of the run), got %s", p, from);
    if (i > 0 && out->pieces[i].from <= out->pieces[i - 1].from) {
      g_autofree char *prev = fmt_duration(out->pieces[i - 1].from);
      scn_diag_add(c->d, item, "%s.from: pieces must start at increasing times, got %s after "
                   "%s", p, from, prev);
    }
  }
}

static void
conv_arrival(Conv *c, const Field *f, const ScnNode *v, ArrivalSpec *out, const char *path)
{
  /* One key naming the process, and for poisson and constant an optional growth. */
  guint keys = v->kind == SCN_NODE_MAP ? v->items->len / 2 : 0;
  int growth_at = v->kind == SCN_NODE_MAP ? scn_map_find(v, "growth") : -1;
  if (v->kind != SCN_NODE_MAP || keys == 0 || keys > 2 || (keys == 2 && growth_at < 0)) {
    double r;
    const char *why;
    if (v->kind == SCN_NODE_SCALAR && units_parse_rate(v->text, &r, &why))
      scn_diag_add(c->d, v, "%s: expected an arrival process, got '%s' (write {poisson: %s} "
                   "or {constant: %s}; allowed: %s)", path, v->text, v->text, v->text,
                   ARRIVAL_FORMS);
    else if (v->kind == SCN_NODE_MAP && keys >= 2)
      scn_diag_add(c->d, v, "%s: an arrival process has one key (and growth with poisson or "
                   "constant), found %u (allowed: %s)", path, keys, ARRIVAL_FORMS);
    else
      conv_bad(c, f, v, path, NULL);
    return;
  }
  guint at = keys == 2 && growth_at == 0 ? 2 : 0;
  const ScnNode *k = v->items->pdata[at], *val = v->items->pdata[at + 1];
  if (keys == 1 && growth_at == 0) {
    scn_diag_add(c->d, k, "%s: growth needs a process to grow, e.g. {poisson: 2000/d, growth: "
                 "25%%/y}", path);
    return;
  }
  int kind = -1;
  for (size_t i = 0; i < G_N_ELEMENTS(arrival_names); i++)
    if (strcmp(k->text, arrival_names[i]) == 0)
      kind = (int)i;
  g_autofree char *sub = path_join(path, k->text);
  if (kind < 0) {
    const char *s = scn_suggest(k->text, arrival_names, G_N_ELEMENTS(arrival_names));
    if (s)
      scn_diag_add(c->d, k, "%s: unknown arrival process '%s' (did you mean '%s'?)", path,
                   k->text, s);
    else
      scn_diag_add(c->d, k, "%s: unknown arrival process '%s' (allowed: %s)", path, k->text,
                   ARRIVAL_FORMS);
    return;
  }
  memset(out, 0, sizeof *out);
  out->kind = (ArrivalKind)kind;
  if (out->kind == ARRIVAL_BURST) {
    g_autoptr(ScnNode) fixed = join_flow_shape(val);
    conv_map(c, burst_fields, fixed, k, out, sub);
  } else if (out->kind == ARRIVAL_PIECEWISE) {
    conv_pieces(c, k, val, out, sub);
  } else if (out->kind == ARRIVAL_TRACE) {
    g_autofree char *why = NULL;
    if (val->kind != SCN_NODE_SCALAR || *val->text == '\0') {
      scn_diag_add(c->d, val, "%s: expected the name of a CSV file (relative to the scenario)",
                   sub);
    } else {
      g_autofree char *file = scn_csv_resolve(c->d->file, val->text);
      SimTime *t = scn_csv_trace(file, &out->n_trace, &why);
      if (t == NULL) {
        scn_diag_add(c->d, val, "%s: %s", sub, why);
      } else {
        out->trace = t;
        out->trace_path = g_strdup(val->text);
      }
    }
  } else {
    const Field rf = {k->text, F_RATE, AT(ArrivalSpec, rate_per_s)};
    conv_field(c, &rf, val, k, out, sub);
  }
  if (growth_at >= 0)
    conv_growth(c, v->items->pdata[growth_at], v->items->pdata[growth_at + 1], out, path);
}

static void
conv_names(Conv *c, const Field *f, const ScnNode *v, void *base, const char *path)
{
  char ***out = (char ***)((char *)base + f->off);
  size_t *count = (size_t *)((char *)base + f->count_off);
  if (v->kind == SCN_NODE_SCALAR && strcmp(v->text, "all") == 0) {
    /* what the parameter list prints for "every one" (a list [all] names one called so) */
    g_clear_pointer(out, g_strfreev);
    *count = 0;
    return;
  }
  if (v->kind != SCN_NODE_SEQ) {
    conv_bad(c, f, v, path, NULL);
    return;
  }
  if (v->items->len == 0) {
    scn_diag_add(c->d, v, "%s: empty list (leave the key out to allow every %s)", path,
                 f->item ? f->item : "network");
    return;
  }
  g_strfreev(*out);
  *out = g_new0(char *, v->items->len + 1);
  *count = 0;
  for (guint i = 0; i < v->items->len; i++) {
    const ScnNode *n = v->items->pdata[i];
    g_autofree char *p = g_strdup_printf("%s.%u", path, i);
    if (n->kind != SCN_NODE_SCALAR || !name_ok(n->text)) {
      conv_bad(c, f, n, p, NULL);
      continue;
    }
    (*out)[(*count)++] = g_strdup(n->text);
  }
}

static void
conv_vary(Conv *c, const ScnNode *v, ScnSweep *sw, const char *path)
{
  if (v->kind != SCN_NODE_MAP) {
    scn_diag_add(c->d, v, "%s: expected a mapping of key paths to lists of values, e.g. "
                 "{registration_service.av_servers: [1, 2, 4]}", path);
    return;
  }
  size_t n = v->items->len / 2;
  sw->axes = g_new0(ScnSweepAxis, n);
  sw->n_axes = 0;
  for (guint i = 0; i + 1 < v->items->len; i += 2) {
    const ScnNode *k = v->items->pdata[i], *val = v->items->pdata[i + 1];
    g_autofree char *why = NULL;
    bool dup = false;
    for (guint j = 0; j < i; j += 2)
      if (strcmp(((ScnNode *)v->items->pdata[j])->text, k->text) == 0) {
        scn_diag_add(c->d, k, "%s: duplicate key '%s' (first given at line %d)", path, k->text,
                     ((ScnNode *)v->items->pdata[j])->line);
        dup = true;
        break;
      }
    if (dup)
      continue;
    if (!scn_path_check(c->root, k->text, &why)) {
      scn_diag_add(c->d, k, "%s: '%s' cannot be varied: %s", path, k->text, why);
      continue;
    }
    if (g_str_has_prefix(k->text, "sweep.") || strcmp(k->text, "sweep") == 0) {
      scn_diag_add(c->d, k, "%s: the sweep section cannot vary itself", path);
      continue;
    }
    if (val->kind != SCN_NODE_SEQ || val->items->len == 0) {
      scn_diag_add(c->d, val, "%s.%s: expected a non-empty list of values, e.g. [1, 2, 4]",
                   path, k->text);
      continue;
    }
    ScnSweepAxis *ax = &sw->axes[sw->n_axes++];
    ax->key = g_strdup(k->text);
    ax->n_values = val->items->len;
    ax->values = g_new0(char *, ax->n_values + 1);
    for (guint j = 0; j < val->items->len; j++) {
      const ScnNode *item = val->items->pdata[j];
      ax->values[j] = item->kind == SCN_NODE_SCALAR ? g_strdup(item->text)
                                                    : scn_node_to_flow(item);
    }
  }
}

static void
conv_field(Conv *c, const Field *f, const ScnNode *v, const ScnNode *anchor, void *base,
           const char *path)
{
  void *at = (char *)base + f->off;
  const char *why = NULL;

  bool scalar_kind = f->kind != F_MAP && f->kind != F_LIST && f->kind != F_NAMES &&
                     f->kind != F_DIST && f->kind != F_COUNT && f->kind != F_ARRIVAL &&
                     f->kind != F_VARY;
  if (scn_node_is_null(v) && (f->kind == F_MAP || f->kind == F_LIST)) {
    /* "owners:" with nothing below it: the defaults (or an empty list). */
    g_autoptr(ScnNode) empty =
      scn_node_new(f->kind == F_MAP ? SCN_NODE_MAP : SCN_NODE_SEQ, v->line, v->col, v->set);
    conv_field(c, f, empty, anchor, base, path);
    return;
  }
  if (scn_node_is_null(v)) {
    g_autofree char *expect = field_expect(f);
    scn_diag_add(c->d, v->line > 0 || v->set >= 0 ? v : anchor, "%s: no value given "
                 "(expected %s)", path, expect);
    return;
  }
  if (scalar_kind && v->kind != SCN_NODE_SCALAR) {
    conv_bad(c, f, v, path, NULL);
    return;
  }
  switch (f->kind) {
  case F_TEXT:
    if (v->text[0] == '\0' || strchr(v->text, '\n') || strlen(v->text) > 200) {
      scn_diag_add(c->d, v, "%s: expected one non-empty line of at most 200 characters", path);
      return;
    }
    g_free(*(char **)at);
    *(char **)at = g_strdup(v->text);
    return;
  case F_NAME:
    if (!name_ok(v->text)) {
      conv_bad(c, f, v, path, strlen(v->text) > 64 ? "longer than 64 characters" : NULL);
      return;
    }
    g_free(*(char **)at);
    *(char **)at = g_strdup(v->text);
    return;
  case F_DIGITS: {
    size_t n = strlen(v->text);
    if (n < f->umin || n > f->umax || strspn(v->text, "0123456789") != n) {
      conv_bad(c, f, v, path, NULL);
      return;
    }
    memcpy(at, v->text, n + 1);
    return;
  }
  case F_U64:
  case F_U32: {
    uint64_t u;
    if (!parse_u64(v->text, &u)) {
      conv_bad(c, f, v, path, NULL);
      return;
    }
    if (u < f->umin || u > f->umax) {
      conv_bad(c, f, v, path, "out of range");
      return;
    }
    if (f->kind == F_U64)
      *(uint64_t *)at = u;
    else
      *(uint32_t *)at = (uint32_t)u;
    return;
  }
  case F_REAL: {
    double r;
    if (!parse_real(v->text, &r)) {
      conv_bad(c, f, v, path, NULL);
      return;
    }
    if (r < f->dmin || r > f->dmax || ((f->flags & F_POSITIVE) && !(r > f->dmin))) {
      conv_bad(c, f, v, path, "out of range");
      return;
    }
    *(double *)at = r;
    return;
  }
  case F_BOOL:
    if (strcmp(v->text, "true") == 0)
      *(bool *)at = true;
    else if (strcmp(v->text, "false") == 0)
      *(bool *)at = false;
    else
      conv_bad(c, f, v, path, NULL);
    return;
  case F_DURATION: {
    SimTime t;
    if (!units_parse_duration(v->text, &t, &why)) {
      conv_bad(c, f, v, path, why);
      return;
    }
    if ((f->flags & F_POSITIVE) && t == 0) {
      conv_bad(c, f, v, path, "must be greater than 0");
      return;
    }
    *(SimTime *)at = t;
    return;
  }
  case F_RATE: {
    double r;
    if (!units_parse_rate(v->text, &r, &why)) {
      conv_bad(c, f, v, path, why);
      return;
    }
    *(double *)at = r;
    return;
  }
  case F_SHAPE:
    if (!parse_shape(v->text, (double *)at, (double *)at + 1))
      conv_bad(c, f, v, path, NULL);
    return;
  case F_ENUM:
    for (int i = 0; f->names[i]; i++)
      if (strcmp(v->text, f->names[i]) == 0) {
        *(int *)at = i;
        return;
      }
    {
      const char *s = scn_suggest(v->text, f->names, g_strv_length((char **)f->names));
      g_autofree char *expect = field_expect(f);
      if (s)
        scn_diag_add(c->d, v, "%s: unknown value '%s' (did you mean '%s'? expected %s)", path,
                     v->text, s, expect);
      else
        conv_bad(c, f, v, path, NULL);
    }
    return;
  case F_DIST:
    conv_dist(c, f, v, at, path);
    return;
  case F_COUNT:
    conv_count(c, f, v, at, path);
    return;
  case F_ARRIVAL:
    conv_arrival(c, f, v, at, path);
    return;
  case F_MAP:
    conv_map(c, f->sub, v, anchor, at, path);
    return;
  case F_LIST: {
    void **items = at;
    size_t *count = (size_t *)((char *)base + f->count_off);
    if (v->kind != SCN_NODE_SEQ) {
      g_autofree char *keys = fields_list(f->sub);
      scn_diag_add(c->d, v, "%s: expected a list of %ss (items '- {%s}'), got a %s", path,
                   f->item, keys, v->kind == SCN_NODE_MAP ? "mapping" : "scalar");
      return;
    }
    if (v->items->len == 0 && (f->flags & F_NONEMPTY)) {
      scn_diag_add(c->d, v->line > 0 || v->set >= 0 ? v : anchor,
                   "%s: empty list (at least one %s is required)", path, f->item);
      return;
    }
    *items = g_malloc0(f->elem_size * MAX(v->items->len, 1));
    *count = v->items->len;
    for (guint i = 0; i < v->items->len; i++) {
      g_autofree char *p = g_strdup_printf("%s.%u", path, i);
      conv_map(c, f->sub, v->items->pdata[i], v->items->pdata[i],
               (char *)*items + i * f->elem_size, p);
    }
    return;
  }
  case F_NAMES:
    conv_names(c, f, v, base, path);
    return;
  case F_VARY:
    conv_vary(c, v, base, path);
    return;
  }
}

/* Converts a default (YAML text from the schema) into the field. */
static void
conv_default(Conv *c, const Field *f, void *base, const char *path)
{
  ScnDiag d;
  scn_diag_init(&d, "(default)", NULL);
  const ScnNode *n = default_node(f->def);
  Conv dc = {&d, c->root, NULL};
  conv_field(&dc, f, n, n, base, path);
  if (scn_diag_count(&d) > 0) {
    g_autofree char *msg = scn_diag_format(&d);
    g_error("scenario schema: bad default for %s: %s", path, msg);
  }
  scn_diag_clear(&d);
}

static void
conv_map(Conv *c, const Field *fields, const ScnNode *v, const ScnNode *anchor, void *base,
         const char *path)
{
  size_t n = fields_count(fields);
  g_autofree const ScnNode **seen = g_new0(const ScnNode *, n);
  if (v->kind != SCN_NODE_MAP) {
    g_autofree char *keys = fields_list(fields);
    if (*path)
      scn_diag_add(c->d, v, "%s: expected a mapping with keys %s, got %s%s%s", path, keys,
                   v->kind == SCN_NODE_SEQ ? "a list" : "'",
                   v->kind == SCN_NODE_SEQ ? "" : v->text, v->kind == SCN_NODE_SEQ ? "" : "'");
    else if (scn_node_is_null(v))
      scn_diag_add(c->d, v, "empty scenario: expected a YAML mapping with keys %s (see "
                   "scenarios/quickstart.yaml)", keys);
    else
      scn_diag_add(c->d, v, "a scenario is a YAML mapping with keys %s", keys);
    return;
  }
  for (guint i = 0; i + 1 < v->items->len; i += 2) {
    const ScnNode *k = v->items->pdata[i], *val = v->items->pdata[i + 1];
    const Field *f = fields_find(fields, k->text);
    if (f == NULL) {
      g_autofree char *msg = unknown_key_message(k->text, path, fields);
      scn_diag_add(c->d, k, "%s", msg);
      continue;
    }
    size_t idx = (size_t)(f - fields);
    if (seen[idx]) {
      scn_diag_add(c->d, k, "duplicate key '%s'%s%s (first given at line %d)", k->text,
                   *path ? " in " : "", path, seen[idx]->line);
      continue;
    }
    seen[idx] = k;
    g_autofree char *p = path_join(path, k->text);
    size_t before = scn_diag_count(c->d);
    conv_field(c, f, val, k, base, p);
    conv_mark(c, path, f->key, before);
  }
  for (size_t i = 0; i < n; i++) {
    const Field *f = &fields[i];
    if (seen[i])
      continue;
    g_autofree char *p = path_join(path, f->key);
    size_t before = scn_diag_count(c->d);
    if (f->def)
      conv_default(c, f, base, p);
    else if (!(f->flags & F_OPTIONAL)) /* at the key above, unless --set gave the mapping */
      scn_diag_add(c->d, v->set >= 0 ? v : anchor, "%s%smissing required key '%s'", path,
                   *path ? ": " : "", f->key);
    conv_mark(c, path, f->key, before);
  }
}

void
scn_convert(const ScnNode *root, ScnConfig *cfg, ScnDiag *d, ScnClean *clean)
{
  g_autoptr(GHashTable) dirty = g_hash_table_new(g_str_hash, g_str_equal);
  Conv c = {d, root, dirty};
  conv_map(&c, top_fields, root, root, cfg, "");
  cfg->has_sweep = scn_map_find(root, "sweep") >= 0;
  /* Which sections converted cleanly, for the cross-field checks. */
  static const struct {
    const char *key;
    size_t off;
  } sections[] = {
    {"registration_service", offsetof(ScnClean, rs)},
    {"visited_operators", offsetof(ScnClean, vos)},
    {"home_operators", offsetof(ScnClean, hos)},
    {"manufacturers", offsetof(ScnClean, manufacturers)},
    {"owners", offsetof(ScnClean, owners)},
    {"devices", offsetof(ScnClean, devices)},
    {"faults", offsetof(ScnClean, faults)},
    {"output", offsetof(ScnClean, output)},
    {"duration", offsetof(ScnClean, duration)},
    {"sweep", offsetof(ScnClean, sweep)},
  };
  for (size_t s = 0; s < G_N_ELEMENTS(sections); s++)
    *(bool *)((char *)clean + sections[s].off) =
      root->kind == SCN_NODE_MAP && !g_hash_table_contains(dirty, sections[s].key);
}

/* ---- --set ---- */

/* Walks `path` through the schema and the tree. With value == NULL only checks it; else
 * puts value (owned) at that place, creating missing maps. False + *why on failure. With
 * root == NULL only the schema is walked (list indices not checked); *leaf (may be NULL)
 * gets the field the path ends at. */
static bool
path_walk_to(ScnNode *root, const char *path, ScnNode *value, const Field **leaf, char **why)
{
  g_auto(GStrv) segs = g_strsplit(path, ".", -1);
  const Field *fields = top_fields;
  ScnNode *node = root;
  g_autoptr(GString) done = g_string_new(NULL);
  g_autoptr(ScnNode) owned = value;

  if (path[0] == '\0') {
    *why = g_strdup("empty key path");
    return false;
  }
  for (size_t i = 0; segs[i]; i++) {
    const char *seg = segs[i];
    if (*seg == '\0') {
      *why = g_strdup_printf("empty part in key path '%s'", path);
      return false;
    }
    const Field *f = fields_find(fields, seg);
    if (f == NULL) {
      *why = unknown_key_message(seg, done->str, fields);
      return false;
    }
    if (done->len)
      g_string_append_c(done, '.');
    g_string_append(done, seg);
    if (node != NULL && node->kind != SCN_NODE_MAP) {
      *why = g_strdup_printf("cannot set '%s': the part above it is not a mapping in the "
                             "scenario", done->str);
      return false;
    }
    int at = node ? scn_map_find(node, seg) : -1;
    ScnNode *child = at >= 0 ? node->items->pdata[at + 1] : NULL;
    if (leaf != NULL)
      *leaf = f;
    if (segs[i + 1] == NULL) {
      if (value == NULL)
        return true;
      if (at >= 0) {
        g_ptr_array_index(node->items, at + 1) = g_steal_pointer(&owned);
        scn_node_free(child);
      } else {
        g_ptr_array_add(node->items, scn_node_new_scalar(seg, 0, 0, value->set));
        g_ptr_array_add(node->items, g_steal_pointer(&owned));
      }
      return true;
    }
    switch (f->kind) {
    case F_MAP:
      if (child == NULL && node != NULL && value != NULL) {
        child = scn_node_new(SCN_NODE_MAP, 0, 0, value->set);
        g_ptr_array_add(node->items, scn_node_new_scalar(seg, 0, 0, value->set));
        g_ptr_array_add(node->items, child);
      } else if (child != NULL && scn_node_is_null(child) && value != NULL) {
        ScnNode *m = scn_node_new(SCN_NODE_MAP, 0, 0, value->set);
        g_ptr_array_index(node->items, at + 1) = m;
        scn_node_free(child);
        child = m;
      }
      node = child;
      fields = f->sub;
      break;
    case F_LIST: {
      const char *idx = segs[++i];
      uint64_t n;
      guint len = child && child->kind == SCN_NODE_SEQ ? child->items->len : 0;
      if (!parse_u64(idx, &n)) {
        *why = g_strdup_printf("expected an item index after '%s' (%s.0 is the first %s), "
                               "got '%s'", done->str, done->str, f->item, idx);
        return false;
      }
      if (root == NULL) { /* schema-only check */
        node = NULL;
      } else if (n >= len) {
        if (len == 0)
          *why = g_strdup_printf("index %s out of range: the scenario has no %s", idx,
                                 done->str);
        else
          *why = g_strdup_printf("index %s out of range: %s has %u item%s (0 to %u)", idx,
                                 done->str, len, len == 1 ? "" : "s", len - 1);
        return false;
      } else {
        node = child->items->pdata[n];
        if (segs[i + 1] == NULL && value != NULL) {
          g_ptr_array_index(child->items, n) = g_steal_pointer(&owned);
          scn_node_free(node);
          return true;
        }
      }
      g_string_append_printf(done, ".%s", idx);
      if (segs[i + 1] == NULL)
        return true;
      fields = f->sub;
      break;
    }
    default: {
      g_autofree char *expect = field_expect(f);
      *why = g_strdup_printf("'%s' has no keys below it; set it whole: %s=VALUE with VALUE "
                             "%s", done->str, done->str, expect);
      return false;
    }
    }
  }
  g_assert_not_reached();
}

static bool
path_walk(ScnNode *root, const char *path, ScnNode *value, char **why)
{
  return path_walk_to(root, path, value, NULL, why);
}

bool
scn_path_check(const ScnNode *root, const char *path, char **why)
{
  return path_walk((ScnNode *)root, path, NULL, why);
}

ScnValueKind
scn_key_value_kind(const char *path, char **why)
{
  const Field *f = NULL;
  if (!path_walk_to(NULL, path, NULL, &f, why))
    return SCN_VALUE_NONE;
  switch (f->kind) { /* a path ending at a list index stops at the list: OTHER */
  case F_U64:
  case F_U32:
    return SCN_VALUE_INTEGER;
  case F_REAL:
    return SCN_VALUE_REAL;
  case F_DURATION:
    return SCN_VALUE_DURATION;
  case F_RATE:
    return SCN_VALUE_RATE;
  default:
    return SCN_VALUE_OTHER;
  }
}

bool
scn_apply_set(ScnNode *root, const char *set, int index, ScnDiag *d)
{
  const char *eq = strchr(set, '=');
  if (eq == NULL || eq == set) {
    scn_diag_add_at(d, 0, 0, index, "expected KEY.PATH=VALUE (e.g. manufacturers.0.devices="
                    "5000)");
    return false;
  }
  g_autofree char *key = g_strndup(set, (gsize)(eq - set));
  const char *text = eq + 1;
  ScnNode *value = scn_tree_parse(text, strlen(text), index, d);
  if (value == NULL)
    return false;
  scn_node_set_origin(value, index);
  if (root->kind != SCN_NODE_MAP) {
    scn_node_free(value);
    scn_diag_add_at(d, 0, 0, index, "the scenario is not a mapping, so nothing can be set");
    return false;
  }
  g_autofree char *why = NULL;
  if (!path_walk(root, key, value, &why)) {
    scn_diag_add_at(d, 0, 0, index, "%s", why);
    return false;
  }
  return true;
}

/* ---- Parameters ---- */

static void
params_add(GPtrArray *out, const char *key, char *value)
{
  ScnParam *p = g_new(ScnParam, 1);
  p->key = g_strdup(key);
  p->value = value;
  g_ptr_array_add(out, p);
}

/* An optional mapping the scenario left out: every octet of its fields still zero. */
static bool
map_is_zero(const Field *fields, const void *base)
{
  size_t end = 0;
  for (const Field *f = fields; f->key; f++)
    end = MAX(end, f->off + 8); /* the sub-structs here hold scalars of at most 8 octets */
  const unsigned char *b = base;
  for (size_t i = 0; i < end; i++)
    if (b[i] != 0)
      return false;
  return true;
}

static void
params_walk(const Field *fields, const void *base, const char *prefix, GPtrArray *out)
{
  for (const Field *f = fields; f->key; f++) {
    if (f->flags & F_NOPARAM)
      continue;
    const void *at = (const char *)base + f->off;
    g_autofree char *key = path_join(prefix, f->key);
    switch (f->kind) {
    case F_TEXT:
    case F_NAME:
      params_add(out, key, g_strdup(*(char *const *)at ? *(char *const *)at : ""));
      break;
    case F_DIGITS:
      params_add(out, key, g_strdup(at));
      break;
    case F_U64:
      params_add(out, key, g_strdup_printf("%llu", (unsigned long long)*(const uint64_t *)at));
      break;
    case F_U32:
      params_add(out, key, g_strdup_printf("%u", *(const uint32_t *)at));
      break;
    case F_REAL:
      params_add(out, key, fmt_real(*(const double *)at));
      break;
    case F_BOOL:
      params_add(out, key, g_strdup(*(const bool *)at ? "true" : "false"));
      break;
    case F_DURATION:
      params_add(out, key, fmt_duration(*(const SimTime *)at));
      break;
    case F_RATE:
      params_add(out, key, fmt_rate(*(const double *)at));
      break;
    case F_SHAPE:
      params_add(out, key, fmt_shape(((const double *)at)[0], ((const double *)at)[1]));
      break;
    case F_DIST:
      params_add(out, key, scn_dist_to_string(at));
      break;
    case F_COUNT:
      params_add(out, key, scn_count_to_string(at));
      break;
    case F_ARRIVAL:
      params_add(out, key, scn_arrival_to_string(at));
      break;
    case F_ENUM:
      params_add(out, key, g_strdup(f->names[*(const int *)at]));
      break;
    case F_MAP:
      if ((f->flags & F_OPTIONAL) && map_is_zero(f->sub, at))
        break; /* left out (another key said it instead) */
      params_walk(f->sub, at, key, out);
      break;
    case F_LIST: {
      const char *items = *(const char *const *)at;
      size_t n = *(const size_t *)((const char *)base + f->count_off);
      for (size_t i = 0; i < n; i++) {
        g_autofree char *p = g_strdup_printf("%s.%zu", key, i);
        params_walk(f->sub, items + i * f->elem_size, p, out);
      }
      break;
    }
    case F_NAMES: {
      char *const *names = *(char *const *const *)at;
      if (names == NULL || names[0] == NULL) {
        params_add(out, key, g_strdup("all"));
      } else {
        g_autofree char *list = g_strjoinv(", ", (char **)names);
        params_add(out, key, g_strdup_printf("[%s]", list));
      }
      break;
    }
    case F_VARY:
      break;
    }
  }
}

static void
scn_param_free(ScnParam *p)
{
  g_free(p->key);
  g_free(p->value);
  g_free(p);
}

GPtrArray *
scn_config_params(const ScnConfig *cfg)
{
  GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)scn_param_free);
  params_walk(top_fields, cfg, "", out);
  if (cfg->registration_service.n_sites > 0) /* not used then (each site has its own) */
    for (guint i = out->len; i-- > 0;) {
      const ScnParam *p = out->pdata[i];
      if (g_strv_contains(scn_one_site_keys, p->key))
        g_ptr_array_remove_index(out, i);
    }
  return out;
}

/* ---- Freeing ---- */

static void
clear_walk(const Field *fields, void *base)
{
  for (const Field *f = fields; f->key; f++) {
    void *at = (char *)base + f->off;
    switch (f->kind) {
    case F_TEXT:
    case F_NAME:
      g_clear_pointer((char **)at, g_free);
      break;
    case F_MAP:
      clear_walk(f->sub, at);
      break;
    case F_LIST: {
      char *items = *(char **)at;
      size_t *n = (size_t *)((char *)base + f->count_off);
      for (size_t i = 0; items && i < *n; i++)
        clear_walk(f->sub, items + i * f->elem_size);
      g_free(items);
      *(char **)at = NULL;
      *n = 0;
      break;
    }
    case F_NAMES:
      g_clear_pointer((char ***)at, g_strfreev);
      *(size_t *)((char *)base + f->count_off) = 0;
      break;
    case F_DIST: {
      DistSpec *d = at;
      g_clear_pointer((double **)&d->table, g_free);
      g_clear_pointer(&d->table_path, g_free);
      break;
    }
    case F_ARRIVAL: {
      ArrivalSpec *a = at;
      g_clear_pointer((SimTime **)&a->trace, g_free);
      g_clear_pointer(&a->trace_path, g_free);
      break;
    }
    case F_VARY: {
      ScnSweep *sw = base;
      for (size_t i = 0; i < sw->n_axes; i++) {
        g_free(sw->axes[i].key);
        g_strfreev(sw->axes[i].values);
      }
      g_clear_pointer(&sw->axes, g_free);
      sw->n_axes = 0;
      break;
    }
    default:
      break;
    }
  }
}

void
scn_config_clear_fields(ScnConfig *cfg)
{
  clear_walk(top_fields, cfg);
}
