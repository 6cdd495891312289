/* The provisioning world: each flow and failure path of every entity is taken and
 * counted, every device is accounted for, the table-driven FSM check catches an illegal
 * event, runs replay exactly from a seed (and differ with another), and `m2msim run`
 * writes every results.md figure, refuses bad input before running, and never lets a key
 * into the results database. Small worlds only (a few hundred devices). */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "m2m/fsm.h"
#include "m2m/results.h"
#include "m2m/rng.h"
#include "m2m/scenario.h"
#include "m2m/world.h"
#include "testutil.h"

#include "device.h" /* dev_fsm(): the device's table, checked below */

/* A small world: 200 devices over 2 days, two VOs (one refusing), one SHO. %s is
 * appended at the end of the registration_service / devices / faults sections via
 * --set-like overrides given to scn_load_string. */
static const char base[] =
    "name: tiny\n"
    "seed: 7\n"
    "duration: 2d\n"
    "registration_service:\n"
    "  pimsi_pool: {mcc: \"901\", mnc: \"70\", size: 1000}\n"
    "  pimsi_recycle: after_provisioning\n"
    "  pimsi_quarantine: 1h\n"
    "visited_operators:\n"
    "  - {name: vo-a, share: 0.7, accepts_pimsi: true, attach_delay: {constant: 300ms},\n"
    "     roaming_delay: {constant: 50ms}}\n"
    "  - {name: vo-b, share: 0.3, accepts_pimsi: false}\n"
    "home_operators:\n"
    "  - {name: sho-a, share: 1.0, download_time: {constant: 20s}}\n"
    "manufacturers:\n"
    "  - {name: acme, devices: 200, production: {poisson: 1000/d}}\n"
    "owners:\n"
    "  select_home_operator_after: {exponential: 2h}\n"
    "devices:\n"
    "  power_on_after: {exponential: 4h}\n"
    "  retry: {initial: 30s, factor: 2, max: 30min}\n"
    "output:\n"
    "  series_interval: 1h\n";

typedef struct {
  GHashTable *s; /* name -> double* */
} Scalars;

static void
collect(void *data, const char *name, double value)
{
  GHashTable *h = data;
  g_assert_false(g_hash_table_contains(h, name)); /* every name once */
  double *v = g_new(double, 1);
  *v = value;
  g_hash_table_insert(h, g_strdup(name), v);
}

/* Runs the world of cfg; its scalars by name. */
static GHashTable *
run_config(const ScnConfig *cfg)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(World) w = world_new(cfg, &error);
  g_assert_no_error(error);
  world_run(w, NULL, NULL);
  GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  world_foreach_scalar(w, collect, h);
  return h;
}

static GHashTable *
run_world(const char *const *sets)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ScnConfig) cfg = scn_load_string(base, "tiny.yaml", sets, &error);
  g_assert_no_error(error);
  return run_config(cfg);
}

/* A world of the base scenario, run (with a log when `log` is not NULL); free with
 * ran_clear. The world points at its configuration, so both live together. */
typedef struct {
  ScnConfig *cfg;
  World *w;
} Ran;

static void
ran_world(const char *const *sets, FILE *log, Ran *r)
{
  g_autoptr(GError) error = NULL;
  r->cfg = scn_load_string(base, "tiny.yaml", sets, &error);
  g_assert_no_error(error);
  r->w = world_new(r->cfg, &error);
  g_assert_no_error(error);
  if (log != NULL)
    world_set_log(r->w, log);
  world_run(r->w, NULL, NULL);
}

static void
ran_clear(Ran *r)
{
  g_clear_pointer(&r->w, world_free);
  g_clear_pointer(&r->cfg, scn_config_free);
}

static double
sc(GHashTable *h, const char *name)
{
  double *v = g_hash_table_lookup(h, name);
  if (v == NULL)
    g_error("scalar %s missing", name);
  return *v;
}

static void
check_accounting(GHashTable *h)
{
  double m = sc(h, "devices.manufactured"), p = sc(h, "devices.provisioned");
  double f = sc(h, "devices.failed"), ip = sc(h, "devices.in_progress");
  g_assert_cmpint((gint64)(m), ==, (gint64)(p + f + ip));
  /* Made = with a PIMSI (manufactured) + with the SHO's USIM from the factory + waiting. */
  g_assert_cmpint((gint64)(sc(h, "devices.produced")), ==,
                  (gint64)(m + sc(h, "devices.factory_usim") + sc(h, "devices.awaiting_pimsi")));
  g_assert_cmpint((gint64)(m), ==, (gint64)(sc(h, "devices.via_rs")));
}

static void
test_basic_flow(void)
{
  g_autoptr(GHashTable) h = run_world(NULL);
  check_accounting(h);
  g_assert_cmpint((gint64)(sc(h, "devices.manufactured")), ==, (gint64)(200));
  /* 2 days, power-on after ~4 h: almost everything is done. */
  g_assert_cmpfloat(sc(h, "devices.provisioned"), >=, 190);
  g_assert_cmpint((gint64)(sc(h, "devices.failed")), ==, (gint64)(0));
  g_assert_cmpfloat(sc(h, "vo.refusals"), >, 0); /* vo-b refuses PIMSIs */
  g_assert_cmpfloat(sc(h, "aka.successes"), >=, sc(h, "devices.provisioned"));
  g_assert_cmpint((gint64)(sc(h, "aka.failures")), ==, (gint64)(0));
  g_assert_cmpint((gint64)(sc(h, "rs.av.vectors")), ==, (gint64)(sc(h, "rs.av.requests")));
  g_assert_cmpint((gint64)(sc(h, "sho.downloads")), ==, (gint64)(sc(h, "devices.provisioned")));
  /* Owners choose after ~2 h, devices power on after ~4 h: some ask before the SHO is
   * known and back off. */
  g_assert_cmpfloat(sc(h, "rs.lookups_no_sho"), >, 0);
  g_assert_cmpint((gint64)(sc(h, "rs.lookups_refused")), ==, (gint64)(0));
  /* Every latency figure is there and ordered. */
  double p50 = sc(h, "provision.latency.p50"), p99 = sc(h, "provision.latency.p99");
  g_assert_cmpfloat(p50, >=, 20.0); /* the download alone takes 20 s */
  g_assert_cmpfloat(p50, <=, p99);
  g_assert_cmpfloat(p99, <=, sc(h, "provision.latency.max"));
  g_assert_cmpfloat(sc(h, "provision.attach_latency.p50"), >, p50);
  /* Released PIMSIs: hold time measured, quarantine seen. */
  g_assert_cmpint((gint64)(sc(h, "rs.pimsi.released")), ==, (gint64)(sc(h, "devices.provisioned")));
  g_assert_cmpfloat(sc(h, "rs.pimsi.hold_mean"), >, 0);
  g_assert_cmpfloat(sc(h, "rs.pimsi.quarantined_mean"), >, 0);
  g_assert_false(g_hash_table_contains(h, "rs.pimsi.exhausted_at"));
}

static void
test_wrong_credentials(void)
{
  const char *sets[] = {"manufacturers.0.wrong_credentials=1", NULL};
  g_autoptr(GHashTable) h = run_world(sets);
  check_accounting(h);
  g_assert_cmpint((gint64)(sc(h, "devices.provisioned")), ==, (gint64)(0));
  g_assert_cmpint((gint64)(sc(h, "aka.successes")), ==, (gint64)(0));
  /* Each device fails after 3 MAC failures (a few may still be backing off). */
  g_assert_cmpfloat(sc(h, "devices.failed"), >=, 190);
  g_assert_cmpint((gint64)(sc(h, "devices.failed_mac")), ==, (gint64)(sc(h, "devices.failed")));
  g_assert_cmpfloat(sc(h, "aka.failures"), >=, 3 * sc(h, "devices.failed"));
  g_assert_cmpint((gint64)(sc(h, "rs.lookups")), ==, (gint64)(0)); /* none got as far as the RS */
  /* Their owners return the PIMSIs of the units that gave up (pimsi_release_failed): each
   * one released (quarantined, here), none held for good (a handful still on the way). */
  g_assert_cmpint((gint64)sc(h, "owner.failed_returned"), ==, (gint64)sc(h, "devices.failed"));
  g_assert_cmpfloat(sc(h, "rs.pimsi.released"), >=, sc(h, "devices.failed") - 3);
  g_assert_cmpfloat(sc(h, "rs.pimsi.released"), <=, sc(h, "devices.failed"));
  const char *keep[] = {"manufacturers.0.wrong_credentials=1",
                        "registration_service.pimsi_release_failed=false", NULL};
  g_autoptr(GHashTable) k = run_world(keep);
  g_assert_cmpint((gint64)sc(k, "rs.pimsi.released"), ==, 0);
  g_assert_false(g_hash_table_contains(k, "owner.failed_returned"));
}

static void
test_max_attempts(void)
{
  /* Only the refusing network is allowed... which the loader refuses; so allow both and
   * let the RS be down for the whole run: every attach times out. */
  const char *sets[] = {"devices.max_attempts=2",
                        "faults=[{at: 0, target: registration_service, down_for: 2d}]", NULL};
  g_autoptr(GHashTable) h = run_world(sets);
  check_accounting(h);
  /* The RS is down from the start: no PIMSI is ever allocated. */
  g_assert_cmpint((gint64)(sc(h, "devices.manufactured")), ==, (gint64)(0));
  g_assert_cmpint((gint64)(sc(h, "devices.awaiting_pimsi")), ==, (gint64)(200));
  g_assert_cmpfloat(sc(h, "rs.timeouts"), >, 0);
  g_assert_cmpfloat(sc(h, "manufacturer.timeouts"), >, 0);
}

static void
test_sqn_resync(void)
{
  const char *sets[] = {"devices.sqn_desync_fraction=1", "registration_service.av_batch=3", NULL};
  g_autoptr(GHashTable) h = run_world(sets);
  check_accounting(h);
  g_assert_cmpfloat(sc(h, "devices.provisioned"), >=, 190);
  /* Every device that authenticated with its PIMSI first answered with AUTS, and the RS
   * resynced; its new USIM starts fresh (the real IMSI's AKA needs none). */
  g_assert_cmpfloat(sc(h, "aka.resyncs"), >=, sc(h, "aka.successes") - sc(h, "vo.home_attaches"));
  g_assert_cmpint((gint64)sc(h, "vo.home_attaches"), ==, (gint64)sc(h, "devices.attached_real"));
  g_assert_cmpint((gint64)(sc(h, "rs.av.resync_requests")), ==, (gint64)(sc(h, "aka.resyncs")));
  g_assert_cmpint((gint64)(sc(h, "aka.failures")), ==, (gint64)(0));
  g_assert_cmpint((gint64)(sc(h, "rs.av.vectors")), ==, (gint64)(3 * sc(h, "rs.av.requests")));
}

static void
test_batch_spares(void)
{
  /* Wrong credentials and batches of 4: the retries after a MAC failure use spares. */
  const char *sets[] = {"manufacturers.0.wrong_credentials=1", "registration_service.av_batch=4",
                        NULL};
  g_autoptr(GHashTable) h = run_world(sets);
  g_assert_cmpfloat(sc(h, "vo.spare_used"), >, 0);
  g_assert_cmpint((gint64)(sc(h, "rs.av.vectors")), ==, (gint64)(4 * sc(h, "rs.av.requests")));
  g_assert_cmpfloat(sc(h, "rs.av.requests"), <, sc(h, "aka.failures"));
}

/* Certificates instead of AKA (registration_service.auth: certificate), both algorithms:
 * every provisioned device was verified by a VO and accepted by the RS, no AV is served,
 * each VO fetched the trust bundle once (one-day cache over a two-day run: at most twice),
 * credentials were issued lazily (no more than devices powered on). */
static void
test_certificate_flow(gconstpointer data)
{
  const char *alg = data;
  g_autofree char *set_alg = g_strdup_printf("registration_service.cert_algorithm=%s", alg);
  const char *sets[] = {"registration_service.auth=certificate", set_alg, NULL};
  g_autoptr(GHashTable) h = run_world(sets);
  check_accounting(h);
  g_assert_cmpfloat(sc(h, "devices.provisioned"), >=, 190);
  g_assert_cmpint((gint64)sc(h, "devices.failed"), ==, 0);
  g_assert_cmpint((gint64)sc(h, "rs.av.requests"), ==, 0);
  /* No AKA with the PIMSI; the real IMSI's USIM authenticates with AKA, at its home. */
  g_assert_cmpint((gint64)sc(h, "aka.successes"), ==, (gint64)sc(h, "vo.home_attaches"));
  g_assert_cmpint((gint64)sc(h, "vo.home_attaches"), ==, (gint64)sc(h, "devices.attached_real"));
  g_assert_cmpfloat(sc(h, "cert.accepted"), >=, sc(h, "devices.provisioned"));
  g_assert_cmpint((gint64)sc(h, "cert.accepted"), ==, (gint64)sc(h, "cert.verifications"));
  g_assert_cmpfloat(sc(h, "rs.cert_accepts"), >=, sc(h, "devices.provisioned"));
  g_assert_cmpint((gint64)sc(h, "rs.cert_refusals"), ==, 0);
  g_assert_cmpint((gint64)sc(h, "rs.lookups_refused"), ==, 0);
  g_assert_cmpfloat(sc(h, "rs.ca_fetches"), >=, 1);
  g_assert_cmpfloat(sc(h, "rs.ca_fetches"), <=, 2);
  g_assert_cmpfloat(sc(h, "cert.issued"), <=, sc(h, "devices.powered_on"));
  g_assert_cmpfloat(sc(h, "cert.issued"), >=, sc(h, "devices.provisioned"));
  g_assert_cmpint((gint64)sc(h, "sho.downloads"), ==, (gint64)sc(h, "devices.provisioned"));
  /* The RS's proof checks held its 4 servers for cert_check_time (400 us) each: busy time
   * over 2 days is exactly their number times 400 us. */
  double busy = sc(h, "rs.av.utilization") * 4 * 2 * 86400;
  g_assert_cmpfloat_with_epsilon(busy, sc(h, "rs.cert_accepts") * 400e-6, 1e-6);
}

/* Refused for real in the world: keys that do not match the certificate, revoked
 * certificates (revoked at registration, so in every bundle the VO fetches later),
 * certificates expired before the device powers on. Each device gives up after three
 * refusals, as after MAC failures. */
static void
test_certificate_refusals(void)
{
  const char *wrong[] = {"registration_service.auth=certificate",
                         "manufacturers.0.wrong_credentials=1", NULL};
  g_autoptr(GHashTable) h = run_world(wrong);
  check_accounting(h);
  g_assert_cmpint((gint64)sc(h, "devices.provisioned"), ==, 0);
  g_assert_cmpfloat(sc(h, "cert.refused_signature"), >=, 3 * 190);
  g_assert_cmpint((gint64)sc(h, "cert.accepted"), ==, 0);
  g_assert_cmpfloat(sc(h, "devices.failed_mac"), >=, 190);

  const char *revoked[] = {"registration_service.auth=certificate",
                           "registration_service.revoked_fraction=0.5", NULL};
  g_autoptr(GHashTable) r = run_world(revoked);
  check_accounting(r);
  double rev = sc(r, "cert.revoked");
  g_assert_cmpfloat(rev, >, 60); /* 200 x 0.5, binomial */
  g_assert_cmpfloat(rev, <, 140);
  g_assert_cmpfloat(sc(r, "cert.refused_revoked"), >, 0);
  /* Every device is either revoked (and never provisioned) or provisioned. */
  g_assert_cmpfloat(sc(r, "devices.provisioned"), <=, 200 - rev);
  g_assert_cmpfloat(sc(r, "devices.provisioned"), >=, 200 - rev - 10);

  const char *expired[] = {"registration_service.auth=certificate",
                           "registration_service.cert_lifetime=1min", NULL};
  g_autoptr(GHashTable) e = run_world(expired);
  check_accounting(e);
  g_assert_cmpfloat(sc(e, "cert.refused_expired"), >, 0);
  g_assert_cmpfloat(sc(e, "devices.provisioned"), <, 20); /* power-on after ~4 h */
}

/* Certificates through outages: the RS down for 3 h while devices attach (bundle fetches
 * and lookups dropped, fetches given up and retried), the VO and the SHO down later; the
 * devices recover, and every waiting attach was released (none stuck on a fetch). */
static void
test_certificate_outages(void)
{
  const char *sets[] = {
      "registration_service.auth=certificate", "home_operators.0.authenticate=certificate",
      "faults=[{at: 3h, target: registration_service, down_for: 3h},"
      " {at: 7h, target: vo-a, down_for: 1h}, {at: 8h, target: sho-a, down_for: 2h}]",
      "registration_service.ca_cache_lifetime=30min", NULL};
  g_autoptr(GHashTable) h = run_world(sets);
  check_accounting(h);
  g_assert_cmpfloat(sc(h, "rs.dropped"), >, 0);
  g_assert_cmpfloat(sc(h, "rs.timeouts"), >, 0);
  g_assert_cmpfloat(sc(h, "vo.dropped") + sc(h, "sho.dropped"), >, 0);
  g_assert_cmpfloat(sc(h, "devices.provisioned"), >=, 180);
  g_assert_cmpint((gint64)sc(h, "devices.failed"), ==, 0);
  g_assert_cmpint((gint64)sc(h, "cert.accepted"), ==, (gint64)sc(h, "cert.verifications"));
}

/* The SHO authenticates the device itself, with AKA (an AV of its own from the RS: the
 * USIM's SQN advances, nothing breaks) or with the device certificate; with wrong
 * credentials the RS-side AKA already stops them, so use certificate mode at the RS and
 * AKA at the SHO with good credentials, then the reverse. */
static void
test_sho_authenticates(void)
{
  const char *aka[] = {"home_operators.0.authenticate=aka", NULL};
  g_autoptr(GHashTable) h = run_world(aka);
  check_accounting(h);
  g_assert_cmpfloat(sc(h, "devices.provisioned"), >=, 190);
  g_assert_cmpint((gint64)sc(h, "sho.auth_ok"), ==, (gint64)sc(h, "devices.provisioned"));
  g_assert_cmpint((gint64)sc(h, "sho.auth_failures"), ==, 0);
  /* The RS's AVs: every AKA with the PIMSI (at a VO or the SHO), not those with the real
   * IMSI (the SHO's own, as the home network). */
  g_assert_cmpfloat(sc(h, "rs.av.requests"), >=,
                    sc(h, "aka.successes") - sc(h, "vo.home_attaches") + sc(h, "sho.auth_ok"));

  const char *cert[] = {"home_operators.0.authenticate=certificate", NULL};
  g_autoptr(GHashTable) c = run_world(cert);
  check_accounting(c);
  g_assert_cmpfloat(sc(c, "devices.provisioned"), >=, 190);
  g_assert_cmpint((gint64)sc(c, "sho.auth_ok"), ==, (gint64)sc(c, "devices.provisioned"));
  g_assert_cmpint((gint64)sc(c, "cert.accepted"), ==, (gint64)sc(c, "sho.auth_ok"));
  g_assert_cmpfloat(sc(c, "rs.ca_fetches"), >=, 1); /* the SHO's own bundle */

  /* Revoked certificates: AKA gets the device through the VO and the RS, the SHO's
   * certificate check refuses it, again and again. The SHO's bundle is refetched every
   * minute, so its CRL knows every device registered a minute before (with the default
   * day, devices registered after its first fetch would pass: test_cached_crl). */
  const char *revoked[] = {"home_operators.0.authenticate=certificate",
                           "registration_service.revoked_fraction=1",
                           "registration_service.ca_cache_lifetime=1min",
                           "duration=1d", /* refused devices come back every 30 min */
                           NULL};
  g_autoptr(GHashTable) r = run_world(revoked);
  g_assert_cmpint((gint64)sc(r, "devices.provisioned"), ==, 0);
  g_assert_cmpfloat(sc(r, "sho.auth_failures"), >=, 180);
  g_assert_cmpfloat(sc(r, "cert.refused_revoked"), >=, 190);
}

/* A revocation reaches a verifier only with its next fetch: with a one-day cache, the
 * devices revoked after the VO's first fetch pass the VO, and the RS (which always knows)
 * refuses them on the secured connection; with a one-minute cache the VO refuses them. */
static void
test_cached_crl(void)
{
  const char *day[] = {"registration_service.auth=certificate",
                       "registration_service.revoked_fraction=1", NULL};
  g_autoptr(GHashTable) d = run_world(day);
  g_assert_cmpint((gint64)sc(d, "devices.provisioned"), ==, 0);
  g_assert_cmpfloat(sc(d, "rs.cert_refusals"), >, 0);
  g_assert_cmpint((gint64)sc(d, "rs.ca_fetches"), <=, 2);
  const char *minute[] = {"registration_service.auth=certificate",
                          "registration_service.revoked_fraction=1",
                          "registration_service.ca_cache_lifetime=1min", NULL};
  g_autoptr(GHashTable) m = run_world(minute);
  g_assert_cmpint((gint64)sc(m, "devices.provisioned"), ==, 0);
  g_assert_cmpint((gint64)sc(m, "rs.cert_refusals"), ==, 0);
  g_assert_cmpint((gint64)sc(m, "cert.accepted"), ==, 0);
  g_assert_cmpfloat(sc(m, "cert.refused_revoked"), >=, 3 * 190);
  g_assert_cmpfloat(sc(m, "rs.ca_fetches"), >, sc(d, "rs.ca_fetches"));
}

static void
test_outages(void)
{
  const char *sets[] = {
      "faults=[{at: 2h, target: registration_service, down_for: 3h},"
      " {at: 6h, target: vo-a, down_for: 1h}, {at: 8h, target: sho-a, down_for: 2h}]",
      NULL};
  g_autoptr(GHashTable) h = run_world(sets);
  check_accounting(h);
  g_assert_cmpfloat(sc(h, "rs.dropped"), >, 0);
  g_assert_cmpfloat(sc(h, "rs.timeouts"), >, 0);
  g_assert_cmpfloat(sc(h, "vo.dropped") + sc(h, "sho.dropped"), >, 0);
  g_assert_cmpfloat(sc(h, "devices.provisioned"), >=, 180); /* they recover */
  /* The SHO's outage loses location updates and releases, which are resent: every device
   * attached with its real IMSI had its PIMSI released (those attached in the last
   * moments aside: their release may still be on its way), none orphaned. */
  g_assert_cmpint((gint64)sc(h, "rs.pimsi.orphaned"), ==, 0);
  g_assert_cmpfloat(sc(h, "rs.pimsi.released"), >=, sc(h, "devices.attached_real") - 3);
  g_assert_cmpfloat(sc(h, "rs.pimsi.released"), <=, sc(h, "devices.attached_real"));
}

static void
test_pool_exhaustion(void)
{
  const char *sets[] = {"registration_service.pimsi_pool.size=50",
                        "registration_service.pimsi_recycle=never", NULL};
  g_autoptr(GHashTable) h = run_world(sets);
  check_accounting(h);
  g_assert_cmpint((gint64)(sc(h, "devices.manufactured")), ==, (gint64)(50));
  g_assert_cmpint((gint64)(sc(h, "devices.awaiting_pimsi")), ==, (gint64)(150));
  g_assert_cmpfloat(sc(h, "rs.pimsi.blocked"), >, 0);
  g_assert_cmpint((gint64)(sc(h, "rs.pimsi.allocated")), ==, (gint64)(50));
  g_assert_cmpint((gint64)(sc(h, "rs.pimsi.in_use_peak")), ==, (gint64)(50));
  double at = sc(h, "rs.pimsi.exhausted_at");
  g_assert_cmpfloat(at, >, 0);
  g_assert_cmpfloat(at, <, 86400.0);                              /* 50 at 1000/d: about 72 min */
  g_assert_false(g_hash_table_contains(h, "rs.pimsi.hold_mean")); /* nothing released */

  /* With recycling and no quarantine, the backlog drains as PIMSIs come back. */
  const char *sets2[] = {"registration_service.pimsi_pool.size=50",
                         "registration_service.pimsi_quarantine=0", NULL};
  g_autoptr(GHashTable) h2 = run_world(sets2);
  check_accounting(h2);
  g_assert_cmpfloat(sc(h2, "devices.manufactured"), >, 50);
  g_assert_cmpfloat(sc(h2, "rs.pimsi.allocated"), >, 50);
  g_assert_cmpfloat(sc(h2, "rs.pimsi.released"), >, 0);
}

static void
test_factory_usim(void)
{
  const char *sets[] = {"manufacturers.0.home_operator_known=1", NULL};
  g_autoptr(GHashTable) h = run_world(sets);
  check_accounting(h);
  g_assert_cmpint((gint64)(sc(h, "devices.factory_usim")), ==, (gint64)(200));
  /* Not equipment that got a PIMSI, not provisioned over the air. */
  g_assert_cmpint((gint64)(sc(h, "devices.manufactured")), ==, (gint64)(0));
  g_assert_cmpint((gint64)(sc(h, "devices.provisioned")), ==, (gint64)(0));
  g_assert_cmpint((gint64)(sc(h, "rs.pimsi.allocated")), ==, (gint64)(0));
  g_assert_cmpint((gint64)(sc(h, "rs.av.requests")), ==, (gint64)(0));
}

static bool
same_scalars(GHashTable *a, GHashTable *b)
{
  if (g_hash_table_size(a) != g_hash_table_size(b))
    return false;
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, a);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    if (strcmp(k, "engine.wall_s") == 0 || strcmp(k, "cert.issue_wall_s") == 0)
      continue;
    double *o = g_hash_table_lookup(b, k);
    if (o == NULL || memcmp(o, v, sizeof(double)) != 0)
      return false;
  }
  return true;
}

static void
test_determinism(void)
{
  const char *sets[] = {"devices.sqn_desync_fraction=0.3", "manufacturers.0.wrong_credentials=0.1",
                        "faults=[{at: 3h, target: registration_service, down_for: 1h}]", NULL};
  g_autoptr(GHashTable) a = run_world(sets);
  g_autoptr(GHashTable) b = run_world(sets);
  g_assert_true(same_scalars(a, b));
  const char *sets2[] = {"seed=8", "devices.sqn_desync_fraction=0.3",
                         "manufacturers.0.wrong_credentials=0.1",
                         "faults=[{at: 3h, target: registration_service, down_for: 1h}]", NULL};
  g_autoptr(GHashTable) c = run_world(sets2);
  g_assert_false(same_scalars(a, c));
  g_assert_cmpint((gint64)(1e6 * sc(a, "provision.latency.mean")), !=,
                  (gint64)(1e6 * sc(c, "provision.latency.mean")));
  /* Certificates too: ECDSA signatures carry OpenSSL's random nonces, but every verdict,
   * and so every figure, is a function of the seed. */
  const char *cert[] = {
      "registration_service.auth=certificate", "registration_service.revoked_fraction=0.2",
      "manufacturers.0.wrong_credentials=0.1", "home_operators.0.authenticate=certificate", NULL};
  g_autoptr(GHashTable) d = run_world(cert);
  g_autoptr(GHashTable) e = run_world(cert);
  g_assert_true(same_scalars(d, e));
}

/* Latency over devices still in progress: the same world (2,000 devices made in the first
 * hour, each powered on within 2 days, owners choosing an SHO after 1 day on average) cut
 * at day 3 and run to completion (40 days). Every device powered on before day 3 in both,
 * and same seed, same streams: the cut run's devices are the completed run's. The
 * Kaplan-Meier median of the cut run has the completed run's median inside its 95 %
 * interval; the median over the devices provisioned by day 3 is far below it. The same
 * for the hold time of a PIMSI. */
static void
test_latency_censored(void)
{
  const char *cut[] = {"duration=3d",
                       "manufacturers.0.devices=2000",
                       "manufacturers.0.production={burst: {at: 0s, over: 1h, shape: uniform}}",
                       "registration_service.pimsi_pool.size=5000",
                       "owners.select_home_operator_after={exponential: 1d}",
                       "devices.power_on_after={uniform: [0s, 2d]}",
                       NULL};
  g_autoptr(GHashTable) a = run_world(cut);
  const char *whole[G_N_ELEMENTS(cut)];
  memcpy(whole, cut, sizeof cut);
  whole[0] = "duration=40d";
  g_autoptr(GHashTable) b = run_world(whole);
  check_accounting(a);
  check_accounting(b);
  g_assert_cmpint((gint64)sc(a, "devices.powered_on"), ==, 2000);
  g_assert_cmpint((gint64)sc(b, "devices.powered_on"), ==, 2000);
  g_assert_cmpint((gint64)sc(b, "devices.in_progress"), ==, 0);
  g_assert_cmpfloat(sc(a, "devices.waiting_sho"), >, 100); /* many still waiting at day 3 */
  g_assert_cmpint((gint64)(sc(a, "devices.not_powered_on") + sc(a, "devices.attaching") +
                           sc(a, "devices.waiting_sho") + sc(a, "devices.downloading")),
                  ==, (gint64)sc(a, "devices.in_progress"));
  /* Completed: nothing censored, the estimate is the plain median. */
  double truth = sc(b, "provision.latency_km.p50");
  g_assert_cmpfloat(fabs(truth - sc(b, "provision.latency.p50")), <=, 1e-6 * truth + 1e-9);
  g_assert_cmpfloat(sc(a, "provision.latency_km.p50_lo"), <=, truth);
  g_assert_cmpfloat(sc(a, "provision.latency_km.p50_hi"), >=, truth);
  g_assert_cmpfloat(sc(a, "provision.latency.p50"), <, sc(a, "provision.latency_km.p50_lo"));
  double hold = sc(b, "rs.pimsi.hold_km.p50");
  g_assert_cmpfloat(sc(a, "rs.pimsi.hold_km.p50_lo"), <=, hold);
  g_assert_cmpfloat(sc(a, "rs.pimsi.hold_km.p50_hi"), >=, hold);
  g_assert_cmpfloat(sc(a, "rs.pimsi.hold_mean"), <, sc(b, "rs.pimsi.hold_mean")); /* biased low */
}

/* A temporary access of 30 min while owners take ~2 h to pick an SHO: devices waiting
 * are detached, attach again and authenticate with the spares their VO kept (no new AV
 * request while a batch lasts); every AV made is used, purged or still held. */
static void
test_access_limit_spares(void)
{
  const char *sets[] = {"registration_service.av_batch=3",
                        "visited_operators.0.temporary_access_limit=30min",
                        "visited_operators.0.spare_lifetime=6h", NULL};
  g_autoptr(GHashTable) h = run_world(sets);
  check_accounting(h);
  g_assert_cmpfloat(sc(h, "devices.access_expired"), >, 50);
  g_assert_cmpfloat(sc(h, "vo.spare_used"), >, 50);
  g_assert_cmpfloat(sc(h, "devices.provisioned"), >=, 150);
  /* Each AKA run with the PIMSI used one AV: the first of a batch or a spare (those with
   * the real IMSI are the SHO's). */
  g_assert_cmpint((gint64)sc(h, "aka.successes") + (gint64)sc(h, "aka.failures") -
                      (gint64)sc(h, "vo.home_attaches"),
                  ==, (gint64)sc(h, "rs.av.requests") + (gint64)sc(h, "vo.spare_used"));
  g_assert_cmpint((gint64)sc(h, "rs.av.vectors"), ==, 3 * (gint64)sc(h, "rs.av.requests"));
  g_assert_cmpfloat(sc(h, "rs.av.vectors"), >=,
                    sc(h, "rs.av.requests") + sc(h, "vo.spare_used") + sc(h, "vo.spare_purged"));
  /* The access latency counts first accesses only: one sample per device powered on that
   * got one, not one per re-attach. */
  g_assert_cmpfloat(sc(h, "provision.access_latency.p50"), <, 60);
  /* Without a limit nobody is detached, and a grant no longer drops the spares. */
  const char *nolimit[] = {"registration_service.av_batch=3", NULL};
  g_autoptr(GHashTable) n = run_world(nolimit);
  g_assert_cmpint((gint64)sc(n, "devices.access_expired"), ==, 0);
}

/* The retry waits a run logs ("ask the RS again in S s" after "no SHO yet"), as
 * fractions of the un-jittered wait of the same try: initial 30 s x 2^(k-1), at most
 * 30 min (the base scenario's retry), k counted per device. */
static GArray *
retry_fractions(const char *jitter)
{
  g_autofree char *set = g_strdup_printf("devices.retry.jitter=%s", jitter);
  const char *sets[] = {set, NULL};
  char *buf = NULL;
  size_t len = 0;
  FILE *log = open_memstream(&buf, &len);
  Ran r;
  ran_world(sets, log, &r);
  ran_clear(&r);
  fclose(log);
  GArray *out = g_array_new(FALSE, FALSE, sizeof(double));
  g_autoptr(GHashTable) tries = g_hash_table_new(g_direct_hash, g_direct_equal);
  g_auto(GStrv) lines = g_strsplit(buf, "\n", -1);
  free(buf);
  for (char **l = lines; *l; l++) {
    unsigned dev;
    double t, wait;
    if (sscanf(*l, "[%lf] Device(%u){NO_SHO}: no SHO yet: ask the RS again in %lf s", &t, &dev,
               &wait) != 3)
      continue;
    unsigned k = GPOINTER_TO_UINT(g_hash_table_lookup(tries, GUINT_TO_POINTER(dev))) + 1;
    g_hash_table_insert(tries, GUINT_TO_POINTER(dev), GUINT_TO_POINTER(k));
    double full = MIN(30.0 * pow(2, k - 1), 1800.0);
    double f = wait / full;
    g_array_append_val(out, f);
  }
  return out;
}

/* devices.retry.jitter: none keeps the exponential back-off's waits exact, full spreads
 * each uniformly over [0, w], equal over [w/2, w]: checked on their range and mean (the
 * mean of n uniform fractions within 4 standard errors). */
static void
test_retry_jitter(void)
{
  const struct {
    const char *name;
    double lo, hi;
  } modes[] = {{"none", 1, 1}, {"full", 0, 1}, {"equal", 0.5, 1}};
  for (size_t i = 0; i < G_N_ELEMENTS(modes); i++) {
    g_autoptr(GArray) f = retry_fractions(modes[i].name);
    g_assert_cmpuint(f->len, >, 200);
    double sum = 0, lo = 2, hi = -1;
    for (guint j = 0; j < f->len; j++) {
      double x = g_array_index(f, double, j);
      sum += x;
      lo = MIN(lo, x);
      hi = MAX(hi, x);
    }
    double mean = sum / f->len, want = (modes[i].lo + modes[i].hi) / 2;
    double se = (modes[i].hi - modes[i].lo) / sqrt(12.0 * f->len);
    g_test_message("jitter %s: %u waits, fraction of the wait %.4f..%.4f, mean %.4f", modes[i].name,
                   f->len, lo, hi, mean);
    g_assert_cmpfloat(lo, >=, modes[i].lo - 1e-3); /* the log rounds to 1 ms */
    g_assert_cmpfloat(hi, <=, modes[i].hi + 1e-3);
    g_assert_cmpfloat(fabs(mean - want), <=, 4 * se + 1e-3);
    if (modes[i].hi > modes[i].lo) /* spread over the range, not stuck at one end */
      g_assert_cmpfloat(hi - lo, >=, 0.8 * (modes[i].hi - modes[i].lo));
  }
}

/* An SHO that serves one download at a time (20 s each) for 200 devices made in an hour:
 * downloads queue (a wait, a queue, utilisation under 1), nobody is lost. */
static void
test_download_servers(void)
{
  const char *sets[] = {"home_operators.0.download_servers=1",
                        "manufacturers.0.production={burst: {at: 0s, over: 1h, shape: uniform}}",
                        "owners.select_home_operator_after={constant: 10min}",
                        "devices.power_on_after={uniform: [0s, 30min]}", NULL};
  g_autoptr(GHashTable) h = run_world(sets);
  check_accounting(h);
  g_assert_cmpfloat(sc(h, "sho.sho-a.download_wait_mean"), >, 10);
  g_assert_cmpfloat(sc(h, "sho.sho-a.download_queue_peak"), >, 5);
  double u = sc(h, "sho.sho-a.download_utilization");
  g_assert_cmpfloat(u, >, 0);
  g_assert_cmpfloat(u, <=, 1);
  g_assert_cmpint((gint64)sc(h, "devices.provisioned"), ==, 200);
  /* one server, 20 s each: 200 downloads take at least 4,000 s of it */
  g_assert_cmpfloat(u * 2 * 86400, >=, 200 * 20 - 1e-6);
}

/* Owners as fleets: 200 units in fleets of 20 make 10 fleets, each registered in one
 * request at its SHO and in one at the RS (every unit registered once); with fleets of 30
 * the last 20 units wait for a fleet that is never full, until fleet_window closes it. */
static void
test_fleets(void)
{
  const char *full[] = {"owners.fleet_size=20", NULL};
  g_autoptr(GHashTable) a = run_world(full);
  check_accounting(a);
  g_assert_cmpint((gint64)sc(a, "owner.fleets"), ==, 10);
  g_assert_cmpint((gint64)sc(a, "rs.sho_registrations"), ==, 200);
  g_assert_cmpfloat(sc(a, "devices.provisioned"), >=, 190);
  const char *partial[] = {"owners.fleet_size=30", NULL};
  g_autoptr(GHashTable) b = run_world(partial);
  check_accounting(b);
  g_assert_cmpint((gint64)sc(b, "owner.fleets"), ==, 6);
  g_assert_cmpint((gint64)sc(b, "rs.sho_registrations"), ==, 180);
  g_assert_cmpfloat(sc(b, "devices.provisioned"), <=, 180);
  /* Sizes drawn per fleet, 5 to 15: between 200 / 15 and 200 / 5 fleets, every unit
   * registered once. */
  const char *drawn[] = {"owners.fleet_size={uniform: [5, 15]}", "owners.fleet_window=1d", NULL};
  g_autoptr(GHashTable) d = run_world(drawn);
  g_assert_cmpfloat(sc(d, "owner.fleets"), >=, 200.0 / 15);
  g_assert_cmpfloat(sc(d, "owner.fleets"), <=, 200.0 / 5);
  g_assert_cmpint((gint64)sc(d, "owner.fleets"), !=, (gint64)sc(a, "owner.fleets"));
  g_assert_cmpint((gint64)sc(d, "rs.sho_registrations"), ==, 200);
  const char *window[] = {"owners.fleet_size=30", "owners.fleet_window=2h", NULL};
  g_autoptr(GHashTable) c = run_world(window);
  check_accounting(c);
  g_assert_cmpfloat(sc(c, "owner.fleets"), >, 6);
  g_assert_cmpint((gint64)sc(c, "rs.sho_registrations"), ==, 200);
}

typedef struct {
  double in_use_max, held_max, in_use_sampled;
} SeriesMax;

static bool
series_max(void *data, const char *name, double t, double value)
{
  SeriesMax *m = data;
  if (strcmp(name, "rs.pimsi.in_use_max") == 0)
    m->in_use_max = MAX(m->in_use_max, value);
  else if (strcmp(name, "rs.pimsi.held_max") == 0)
    m->held_max = MAX(m->held_max, value);
  else if (strcmp(name, "rs.pimsi.in_use") == 0)
    m->in_use_sampled = MAX(m->in_use_sampled, value);
  return true;
}

/* The interval maxima of the pool's series reach the run's peaks exactly (every moment
 * is in some interval), which the point samples of rs.pimsi.in_use can miss. */
static void
test_series_maxima(void)
{
  const char *sets[] = {"output.series_interval=6h", NULL};
  Ran r;
  ran_world(sets, NULL, &r);
  World *w = r.w;
  SeriesMax m = {0, 0, 0};
  world_foreach_series(w, series_max, &m);
  g_autoptr(GHashTable) h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  world_foreach_scalar(w, collect, h);
  g_assert_cmpfloat_with_epsilon(m.in_use_max, sc(h, "rs.pimsi.in_use_peak"), 1e-9);
  g_assert_cmpfloat_with_epsilon(m.held_max, sc(h, "rs.pimsi.held_peak"), 1e-9);
  g_assert_cmpfloat(m.in_use_sampled, <=, m.in_use_max);
  ran_clear(&r);
}

typedef struct {
  double last_t;
  guint rows;
} LastSample;

static bool
last_sample(void *data, const char *name, double t, double value)
{
  LastSample *l = data;
  if (strcmp(name, "devices.provisioned") == 0) {
    l->last_t = t;
    l->rows++;
  }
  return true;
}

/* stop_when: settled ends the run when the last unit is done and nothing is pending: the
 * same outcome as running the full 60 days (same seed), ended days earlier, with the last
 * series sample at the end and the time averages over the shorter run. */
static void
test_stop_when_settled(void)
{
  const char *sets[] = {"duration=60d", "stop_when=settled", NULL};
  Ran r;
  ran_world(sets, NULL, &r);
  World *w = r.w;
  g_autoptr(GHashTable) h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  world_foreach_scalar(w, collect, h);
  LastSample l = {0, 0};
  world_foreach_series(w, last_sample, &l);
  check_accounting(h);
  double end = sc(h, "engine.end_s");
  g_assert_cmpfloat(end, <, 60 * 86400.0);
  g_assert_cmpfloat(end, >, 86400.0);
  g_assert_cmpint((gint64)sc(h, "devices.in_progress"), ==, 0);
  g_assert_cmpint((gint64)(sc(h, "devices.provisioned") + sc(h, "devices.failed")), ==, 200);
  g_assert_cmpint((gint64)sc(h, "devices.attached_real"), ==, (gint64)sc(h, "devices.provisioned"));
  g_assert_cmpint((gint64)sc(h, "rs.pimsi.released"), ==, 200); /* every release acknowledged */
  g_assert_cmpfloat_with_epsilon(l.last_t, end, 1e-9);
  const char *full[] = {"duration=60d", NULL};
  g_autoptr(GHashTable) f = run_world(full);
  g_assert_cmpfloat_with_epsilon(sc(f, "engine.end_s"), 60 * 86400.0, 1e-9);
  g_assert_cmpfloat_with_epsilon(sc(h, "provision.latency.p50"), sc(f, "provision.latency.p50"),
                                 1e-9);
  g_assert_cmpfloat_with_epsilon(sc(h, "devices.provisioned"), sc(f, "devices.provisioned"), 1e-9);
  /* the same PIMSI-seconds over a shorter run */
  g_assert_cmpfloat_with_epsilon(sc(h, "rs.pimsi.in_use_mean") * end,
                                 sc(f, "rs.pimsi.in_use_mean") * 60 * 86400.0, 1e-3);
  g_assert_cmpfloat(sc(h, "rs.pimsi.in_use_mean"), >, sc(f, "rs.pimsi.in_use_mean"));
  ran_clear(&r);
}

/* A shipped scenario, run with --set-like overrides. */
static GHashTable *
run_shipped(const char *name, const char *const *sets)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename(g_getenv("M2M_SRCDIR"), "scenarios", name, NULL);
  g_autoptr(ScnConfig) cfg = scn_load(path, sets, &error);
  g_assert_no_error(error);
  return run_config(cfg);
}

/* The storm saturates the AV servers for a few seconds of a quiet hour: the whole-run
 * utilisation is a fraction of a percent, the peaks say what happened, whatever the
 * series interval. */
static void
test_storm_peaks(void)
{
  const char *const intervals[] = {"output.series_interval=1s", "output.series_interval=15min"};
  for (size_t i = 0; i < G_N_ELEMENTS(intervals); i++) {
    const char *sets[] = {intervals[i], NULL};
    g_autoptr(GHashTable) h = run_shipped("storm.yaml", sets);
    g_assert_cmpfloat(sc(h, "rs.av.utilization"), <, 0.01);
    g_assert_cmpfloat_with_epsilon(sc(h, "rs.av.utilization_peak"), 1.0, 1e-12);
    g_assert_cmpfloat(sc(h, "rs.av.queue_peak"), >=, 5000);
    g_assert_cmpfloat(sc(h, "rs.av.rate_peak"), >=, 5000);
    g_assert_cmpfloat(sc(h, "rs.pimsi.held_peak"), >=, sc(h, "rs.pimsi.in_use_peak"));
  }
}

/* A state action for the test tables: counts what it is given. */
static void
count_action(void *ctx, uint64_t id, unsigned event, void *data)
{
  unsigned *seen = ctx;
  seen[event]++;
}

static void
test_fsm_table_check(void)
{
  static const char *const ev[] = {"GO", "STOP"};
  static const FsmTimer timers[] = {{"none", 0}, {"stop_after", 1}};
  static const FsmState ok_states[] = {{"IDLE", FSM_BIT(0), 1u << 1, count_action, 0},
                                       {"BUSY", FSM_BIT(1), 1u, count_action, 1}};
  FsmDef def = {"Thing", ok_states, 2, ev, 2, timers, 2};
  g_autoptr(GError) error = NULL;
  g_assert_true(fsm_def_check(&def, &error));
  g_assert_no_error(error);
  /* fsm_dispatch runs the state's action with the event. */
  unsigned seen[2] = {0, 0};
  fsm_dispatch(&def, 1, 0, 0, seen, NULL);
  fsm_dispatch(&def, 1, 1, fsm_timer_event(&def, fsm_state_timer(&def, 1)), seen, NULL);
  g_assert_cmpuint(seen[0], ==, 1);
  g_assert_cmpuint(seen[1], ==, 1);
  g_assert_cmpstr(fsm_timer_name(&def, 1), ==, "stop_after");
  static const FsmState bad_states[] = {{"IDLE", FSM_BIT(5), 1u << 1, count_action, 0},
                                        {"BUSY", 0, 1u, NULL, 0}};
  FsmDef bad = {"Thing", bad_states, 2, ev, 2, NULL, 0};
  g_assert_false(fsm_def_check(&bad, &error));
  g_assert_nonnull(strstr(error->message, "Thing{IDLE}"));
  /* A state that accepts events needs an action; a state's timer must end in an event
   * the state accepts. */
  static const FsmState no_action[] = {{"IDLE", FSM_BIT(0), 0, NULL, 0}};
  FsmDef bad2 = {"Thing", no_action, 1, ev, 2, NULL, 0};
  g_clear_error(&error);
  g_assert_false(fsm_def_check(&bad2, &error));
  g_assert_nonnull(strstr(error->message, "no action"));
  static const FsmState deaf_timer[] = {{"IDLE", FSM_BIT(0), 0, count_action, 1}};
  FsmDef bad3 = {"Thing", deaf_timer, 1, ev, 2, timers, 2};
  g_clear_error(&error);
  g_assert_false(fsm_def_check(&bad3, &error));
  g_assert_nonnull(strstr(error->message, "stop_after"));
  g_assert_true(fsm_accepts(&def, 0, 0));
  g_assert_false(fsm_accepts(&def, 0, 1));
  /* The device's own table is consistent, and a few of its rules hold. */
  const FsmDef *dev = dev_fsm();
  g_clear_error(&error);
  g_assert_true(fsm_def_check(dev, &error));
  g_assert_no_error(error);
  g_assert_cmpstr(dev->name, ==, "Device");
  for (unsigned st = 0; st < dev->n_states; st++) {
    const char *n = fsm_state_name(dev, st);
    if (strcmp(n, "DONE") == 0 || strcmp(n, "FAILED") == 0 || strcmp(n, "FACTORY") == 0 ||
        strcmp(n, "SHELVED") == 0 || strcmp(n, "STRANDED") == 0) {
      g_assert_cmpuint(dev->states[st].events, ==, 0); /* final states accept nothing */
      g_assert_cmpuint(dev->states[st].next, ==, 0);
    } else {
      g_assert_cmpuint(dev->states[st].events, !=, 0); /* no dead end */
    }
  }
}

static void
test_fsm_violation(void)
{
  if (g_test_subprocess()) {
    static const char *const ev[] = {"GO", "STOP"};
    static const FsmState st[] = {{"IDLE", FSM_BIT(0), 1u << 1}, {"BUSY", FSM_BIT(1), 1u}};
    FsmDef def = {"Thing", st, 2, ev, 2};
    fsm_accept(&def, 42, 0, 1); /* IDLE does not accept STOP */
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed();
  g_test_trap_assert_stderr("*Thing(42){IDLE}: event STOP not accepted*");
}

static void
test_fsm_log(void)
{
  g_autofree char *path = g_build_filename(g_get_tmp_dir(), "m2m-fsm-log-XXXXXX", NULL);
  int fd = g_mkstemp(path);
  g_assert_cmpint(fd, >=, 0);
  FILE *f = fdopen(fd, "w");
  static const char *const ev[] = {"GO"};
  static const FsmState st[] = {{"IDLE", FSM_BIT(0), 1u}};
  FsmDef def = {"Thing", st, 1, ev, 1};
  FsmLog *log = fsm_log_new(f);
  FSM_LOG(log, 1500000, &def, 7, 0, "hello %d", 3);
  FsmLog *off = NULL;
  int evaluated = 0;
  FSM_LOG(off, 0, &def, 7, 0, "never %d", ++evaluated);
  g_assert_cmpint(evaluated, ==, 0); /* a disabled log does not even evaluate */
  g_assert_cmpuint(fsm_log_lines(log), ==, 1);
  fsm_log_free(log);
  fclose(f);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  g_assert_cmpstr(text, ==, "[1.500000] Thing(7){IDLE}: hello 3\n");
  g_unlink(path);
}

/* ---- m2msim run ------------------------------------------------------------------ */

static char *
write_tmp(const char *dir, const char *name, const char *text)
{
  char *path = g_build_filename(dir, name, NULL);
  g_assert_true(g_file_set_contents(path, text, -1, NULL));
  return path;
}

/* m2msim export: a run's scalars as a tidy CSV (a header, a row per scalar, the values
 * the database holds, quoted where they hold a comma) and JSON lines; parameters in long
 * form; a bad --format or database refused with exit 2 and nothing written. */
static void
test_cli_export(void)
{
  g_autofree char *dir = g_dir_make_tmp("m2m-export-XXXXXX", NULL);
  g_autofree char *scn = write_tmp(dir, "tiny.yaml", base);
  g_autofree char *db = g_build_filename(dir, "out.db", NULL);
  g_autofree char *csv = g_build_filename(dir, "out.csv", NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_assert_cmpint(tu_run_m2msim(&out, &err, "run", scn, "-o", db, "--set",
                                "visited_operators.0.attach_delay={uniform: [300ms, 1s]}", NULL),
                  ==, 0);
  g_clear_pointer(&out, g_free);
  g_clear_pointer(&err, g_free);
  g_assert_cmpint(tu_run_m2msim(&out, &err, "export", db, "-o", csv, NULL), ==, 0);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(csv, &text, NULL, NULL));
  g_auto(GStrv) lines = g_strsplit(text, "\r\n", -1);
  g_assert_cmpstr(lines[0], ==, "run,seed,replication,name,value");
  g_autoptr(GError) error = NULL;
  g_autoptr(ResReader) r = res_reader_open(db, &error);
  g_autoptr(GPtrArray) runs = res_reader_runs(r, &error);
  int64_t id = ((ResRun *)runs->pdata[0])->id;
  g_autoptr(GPtrArray) scalars = res_reader_scalars(r, id, &error);
  g_assert_cmpuint(g_strv_length(lines), ==, scalars->len + 2); /* header, rows, "" */
  double want;
  g_assert_true(res_reader_scalar(r, id, "devices.provisioned", &want, &error));
  g_autofree char *row =
      g_strdup_printf("%" G_GINT64_FORMAT ",7,0,devices.provisioned,%.17g", id, want);
  g_assert_true(g_strv_contains((const char *const *)lines, row));
  g_clear_pointer(&out, g_free);
  g_clear_pointer(&err, g_free);
  g_assert_cmpint(tu_run_m2msim(&out, &err, "export", db, "--what", "params", NULL), ==, 0);
  g_assert_nonnull(strstr(out, ",visited_operators.0.attach_delay,\"{uniform: [300ms, 1s]}\"\r\n"));
  g_assert_nonnull(strstr(out, "1,duration,2d\r\n"));
  g_clear_pointer(&out, g_free);
  g_clear_pointer(&err, g_free);
  g_assert_cmpint(
      tu_run_m2msim(&out, &err, "export", db, "--format", "jsonl", "--what", "series", NULL), ==,
      0);
  g_assert_true(g_str_has_prefix(out, "{\"run\":"));
  g_assert_nonnull(strstr(out, "\"name\":\"devices.provisioned\",\"t\":0,\"value\":0}\n"));
  g_autofree char *none = g_build_filename(dir, "none.csv", NULL);
  g_clear_pointer(&out, g_free);
  g_clear_pointer(&err, g_free);
  g_assert_cmpint(tu_run_m2msim(&out, &err, "export", db, "--format", "xml", "-o", none, NULL), ==,
                  2);
  g_assert_nonnull(strstr(err, "expected csv or jsonl"));
  g_clear_pointer(&out, g_free);
  g_clear_pointer(&err, g_free);
  g_assert_cmpint(tu_run_m2msim(&out, &err, "export", scn, "-o", none, NULL), ==, 2);
  g_assert_false(g_file_test(none, G_FILE_TEST_EXISTS));
  g_remove(csv);
  g_remove(db);
  g_remove(scn);
  g_rmdir(dir);
}

static void
test_cli_run_results(void)
{
  g_autofree char *dir = g_dir_make_tmp("m2m-world-XXXXXX", NULL);
  g_autofree char *scn = write_tmp(dir, "tiny.yaml", base);
  g_autofree char *db = g_build_filename(dir, "out.db", NULL);
  g_autofree char *out = NULL, *err = NULL;
  int st = tu_run_m2msim(&out, &err, "run", scn, "-o", db, "--seed", "11", "--set",
                         "devices.sqn_desync_fraction=0.2", NULL);
  g_assert_cmpint(st, ==, 0);
  g_assert_nonnull(strstr(out, "provisioned"));
  g_assert_nonnull(strstr(out, "p95"));

  g_autoptr(GError) error = NULL;
  g_autoptr(ResReader) r = res_reader_open(db, &error);
  g_assert_no_error(error);
  g_autoptr(GPtrArray) runs = res_reader_runs(r, &error);
  g_assert_cmpuint(runs->len, ==, 1);
  const ResRun *run = runs->pdata[0];
  g_assert_cmpstr(run->status, ==, "complete");
  g_assert_cmpint(run->seed, ==, 11);
  g_assert_cmpstr(run->name, ==, "tiny");
  g_assert_cmpstr(run->scenario, ==, base);
  static const char *const names[] = {
      "devices.manufactured",
      "devices.provisioned",
      "devices.failed",
      "provision.latency.mean",
      "provision.latency.p50",
      "provision.latency.p95",
      "provision.latency.p99",
      "provision.latency.max",
      "rs.av.requests",
      "rs.av.vectors",
      "rs.av.wait_mean",
      "rs.av.wait_p99",
      "rs.av.utilization",
      "rs.pimsi.pool_size",
      "rs.pimsi.allocated",
      "rs.pimsi.in_use_mean",
      "rs.pimsi.in_use_peak",
      "rs.pimsi.quarantined_mean",
      "rs.pimsi.hold_mean",
      "rs.pimsi.blocked",
      "aka.failures",
      "aka.resyncs",
      "engine.events",
      "engine.wall_s",
      "devices.via_rs",
      "devices.in_progress",
      "vo.refusals",
      "rs.timeouts",
      "provision.attach_latency.p50",
      "rs.av.queue_mean",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
    double v;
    if (!res_reader_scalar(r, run->id, names[i], &v, &error))
      g_error("%s: %s", names[i], error->message);
  }
  double pool;
  g_assert_true(res_reader_scalar(r, run->id, "rs.pimsi.pool_size", &pool, NULL));
  g_assert_cmpint((gint64)(pool), ==, (gint64)(1000));
  /* Series from t = 0 to the duration (2 d) every hour: 49 points each. */
  static const char *const series[] = {"rs.pimsi.in_use", "rs.pimsi.quarantined", "rs.av.queue",
                                       "devices.provisioned", "rs.av.utilization"};
  for (size_t i = 0; i < G_N_ELEMENTS(series); i++) {
    g_autoptr(GArray) pts = res_reader_series(r, run->id, series[i], &error);
    g_assert_no_error(error);
    g_assert_cmpuint(pts->len, ==, 49);
    g_assert_cmpint((gint64)(g_array_index(pts, ResPoint, 0).t_s), ==, (gint64)(0));
    g_assert_cmpint((gint64)(g_array_index(pts, ResPoint, 48).t_s), ==, (gint64)(172800));
  }
  /* The latency CDF: percentiles 1..100, latencies non-decreasing, the last one the
   * maximum, the middle one the median. */
  g_autoptr(GArray) cdf = res_reader_series(r, run->id, "provision.latency.cdf", &error);
  g_assert_no_error(error);
  g_assert_cmpuint(cdf->len, ==, 100);
  for (guint k = 0; k < cdf->len; k++) {
    const ResPoint *pt = &g_array_index(cdf, ResPoint, k);
    g_assert_cmpfloat_with_epsilon(pt->value, (k + 1) / 100.0, 1e-12);
    if (k > 0)
      g_assert_cmpfloat(pt->t_s, >=, g_array_index(cdf, ResPoint, k - 1).t_s);
  }
  double lat_max, lat_p50;
  g_assert_true(res_reader_scalar(r, run->id, "provision.latency.max", &lat_max, NULL));
  g_assert_true(res_reader_scalar(r, run->id, "provision.latency.p50", &lat_p50, NULL));
  g_assert_cmpfloat_with_epsilon(g_array_index(cdf, ResPoint, 99).t_s, lat_max, 1e-9);
  g_assert_cmpfloat_with_epsilon(g_array_index(cdf, ResPoint, 49).t_s, lat_p50, 1e-9);
  /* Parameters: every effective one, the --set value and the --seed. */
  g_autoptr(GPtrArray) params = res_reader_params(r, run->id, &error);
  bool seed = false, desync = false, batch = false;
  for (guint i = 0; i < params->len; i++) {
    const ResParam *p = params->pdata[i];
    seed |= strcmp(p->key, "seed") == 0 && strcmp(p->value, "11") == 0;
    desync |= strcmp(p->key, "devices.sqn_desync_fraction") == 0 && strcmp(p->value, "0.2") == 0;
    batch |= strcmp(p->key, "registration_service.av_batch") == 0;
  }
  g_assert_true(seed);
  g_assert_true(desync);
  g_assert_true(batch);

  /* No key material in the file: no 8-octet window of the run's protocol DRBG output
   * (which made every K, OPc, RAND and nonce) appears anywhere in it. */
  g_autofree char *bytes = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(db, &bytes, &len, NULL));
  g_autoptr(RngDrbg) drbg = rng_drbg_new(11, "m2msim world protocol bytes");
  enum { N = 64 * 1024 };
  g_autofree uint8_t *stream = g_malloc(N);
  rng_drbg_fill(drbg, stream, N);
  for (size_t off = 0; off + 8 <= N; off++)
    g_assert_null(memmem(bytes, len, stream + off, 8));

  /* The same seed writes the same figures. */
  g_autofree char *db2 = g_build_filename(dir, "out2.db", NULL);
  g_autofree char *out2 = NULL;
  st = tu_run_m2msim(&out2, NULL, "run", scn, "-o", db2, "--seed", "11", "--set",
                     "devices.sqn_desync_fraction=0.2", NULL);
  g_assert_cmpint(st, ==, 0);
  g_autoptr(ResReader) r2 = res_reader_open(db2, &error);
  g_autoptr(GPtrArray) s1 = res_reader_scalars(r, run->id, &error);
  g_autoptr(GPtrArray) s2 = res_reader_scalars(r2, run->id, &error);
  g_assert_cmpuint(s1->len, ==, s2->len);
  for (guint i = 0; i < s1->len; i++) {
    const ResScalar *x = s1->pdata[i], *y = s2->pdata[i];
    g_assert_cmpstr(x->name, ==, y->name);
    if (strcmp(x->name, "engine.wall_s") != 0)
      g_assert_cmpmem(&x->value, sizeof x->value, &y->value, sizeof y->value);
  }
  g_autoptr(GArray) a1 = res_reader_series(r, run->id, "devices.provisioned", &error);
  g_autoptr(GArray) a2 = res_reader_series(r2, run->id, "devices.provisioned", &error);
  g_assert_cmpuint(a1->len, ==, a2->len);
  g_assert_cmpint(memcmp(a1->data, a2->data, a1->len * sizeof(ResPoint)), ==, 0);
  g_unlink(db);
  g_unlink(db2);
  g_unlink(scn);
  g_rmdir(dir);
}

static void
test_cli_run_errors(void)
{
  g_autofree char *dir = g_dir_make_tmp("m2m-world-XXXXXX", NULL);
  g_autofree char *bad = write_tmp(dir, "bad.yaml", "name: x\nduration: 1d\nfoo: 1\n");
  g_autofree char *db = g_build_filename(dir, "never.db", NULL);
  g_autofree char *err = NULL, *err2 = NULL, *out = NULL, *o1 = NULL;
  /* A bad scenario: exit 2, FILE:LINE:COLUMN lines, nothing written. */
  int st = tu_run_m2msim(&o1, &err, "run", bad, "-o", db, NULL);
  g_assert_cmpint(st, ==, 2);
  g_assert_nonnull(strstr(err, "bad.yaml:3:1:"));
  g_assert_false(g_file_test(db, G_FILE_TEST_EXISTS));
  /* A bad -o path: a clear error before running. */
  g_autofree char *scn = write_tmp(dir, "tiny.yaml", base);
  g_autofree char *nodir = g_build_filename(dir, "no", "such", "dir", "x.db", NULL);
  st = tu_run_m2msim(&out, &err2, "run", scn, "-o", nodir, NULL);
  g_assert_cmpint(st, ==, 2);
  g_assert_nonnull(strstr(err2, "m2msim run:"));
  g_assert_cmpstr(out, ==, "");
  g_unlink(bad);
  g_unlink(scn);
  g_rmdir(dir);
}

static void
test_cli_run_json_default_path(void)
{
  g_autofree char *dir = g_dir_make_tmp("m2m-world-XXXXXX", NULL);
  g_autofree char *scn = write_tmp(dir, "tiny.yaml", base);
  g_autofree char *old = g_get_current_dir();
  g_assert_cmpint(g_chdir(dir), ==, 0);
  g_autofree char *out = NULL;
  int st = tu_run_m2msim(&out, NULL, "run", "tiny.yaml", "--json", NULL);
  g_assert_cmpint(g_chdir(old), ==, 0);
  g_assert_cmpint(st, ==, 0);
  /* results/ is created and the file named after the scenario. */
  g_autofree char *db = g_build_filename(dir, "results", "tiny.db", NULL);
  g_assert_true(g_file_test(db, G_FILE_TEST_IS_REGULAR));
  /* One JSON object with every scalar (numbers; null only for non-finite values). */
  g_assert_true(g_str_has_prefix(out, "{\n"));
  g_assert_true(g_str_has_suffix(out, "}\n"));
  g_assert_nonnull(strstr(out, "\"scalars\": {"));
  g_assert_nonnull(strstr(out, "\"devices.provisioned\": "));
  g_assert_nonnull(strstr(out, "\"output\": \"results/tiny.db\""));
  g_assert_null(strstr(out, "nan"));
  g_assert_null(strstr(out, "inf"));
  /* Balanced braces and quotes. */
  int depth = 0, quotes = 0;
  for (const char *c = out; *c; c++) {
    depth += *c == '{' ? 1 : *c == '}' ? -1 : 0;
    quotes += *c == '"';
    g_assert_cmpint(depth, >=, 0);
  }
  g_assert_cmpint(depth, ==, 0);
  g_assert_cmpint(quotes % 2, ==, 0);
  g_unlink(db);
  g_autofree char *rdir = g_build_filename(dir, "results", NULL);
  g_rmdir(rdir);
  g_unlink(scn);
  g_rmdir(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/world/basic-flow", test_basic_flow);
  g_test_add_func("/world/wrong-credentials", test_wrong_credentials);
  g_test_add_func("/world/rs-down-all-run", test_max_attempts);
  g_test_add_func("/world/sqn-resync", test_sqn_resync);
  g_test_add_func("/world/batch-spares", test_batch_spares);
  g_test_add_func("/world/outages", test_outages);
  g_test_add_data_func("/world/certificate/ecdsa-p256", "ecdsa-p256", test_certificate_flow);
  g_test_add_data_func("/world/certificate/ed25519", "ed25519", test_certificate_flow);
  g_test_add_func("/world/certificate/refusals", test_certificate_refusals);
  g_test_add_func("/world/certificate/cached-crl", test_cached_crl);
  g_test_add_func("/world/certificate/outages", test_certificate_outages);
  g_test_add_func("/world/sho-authenticates", test_sho_authenticates);
  g_test_add_func("/world/pool-exhaustion", test_pool_exhaustion);
  g_test_add_func("/world/factory-usim", test_factory_usim);
  g_test_add_func("/world/determinism", test_determinism);
  g_test_add_func("/world/latency-censored", test_latency_censored);
  g_test_add_func("/world/storm-peaks", test_storm_peaks);
  g_test_add_func("/world/access-limit-spares", test_access_limit_spares);
  g_test_add_func("/world/retry-jitter", test_retry_jitter);
  g_test_add_func("/world/download-servers", test_download_servers);
  g_test_add_func("/world/fleets", test_fleets);
  g_test_add_func("/world/series-maxima", test_series_maxima);
  g_test_add_func("/world/stop-when-settled", test_stop_when_settled);
  g_test_add_func("/world/fsm/table-check", test_fsm_table_check);
  g_test_add_func("/world/fsm/violation", test_fsm_violation);
  g_test_add_func("/world/fsm/log", test_fsm_log);
  g_test_add_func("/world/run/results", test_cli_run_results);
  g_test_add_func("/world/run/export", test_cli_export);
  g_test_add_func("/world/run/errors", test_cli_run_errors);
  g_test_add_func("/world/run/json-default-path", test_cli_run_json_default_path);
  return g_test_run();
}
