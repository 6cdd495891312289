/* Scenario loading: the shipped files load with the values they say, flow and block
 * style mean the same, defaults are the documented ones (scenarios/README.md), every bad
 * file of tests/bad-scenarios/ gives exactly its expected lines (through the library and
 * through `m2msim check`), and --set overrides go through the same checks. */
#include <glib.h>
#include <string.h>

#include "m2m/scenario.h"
#include "testutil.h"

static char *
src_path(const char *rel)
{
  const char *top = g_getenv("M2M_SRCDIR");
  g_assert_nonnull(top);
  return g_build_filename(top, rel, NULL);
}

/* The params of a config as one "key=value\n" text, for whole comparisons. */
static char *
params_text(const ScnConfig *cfg)
{
  g_autoptr(GPtrArray) ps = scn_config_params(cfg);
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < ps->len; i++) {
    const ScnParam *p = ps->pdata[i];
    g_string_append_printf(s, "%s=%s\n", p->key, p->value);
  }
  return g_string_free(s, FALSE);
}

static const char *
param(GPtrArray *ps, const char *key)
{
  for (guint i = 0; i < ps->len; i++) {
    const ScnParam *p = ps->pdata[i];
    if (strcmp(p->key, key) == 0)
      return p->value;
  }
  return NULL;
}

static ScnConfig *
load_ok(const char *text, const char *const *sets)
{
  g_autoptr(GError) error = NULL;
  ScnConfig *cfg = scn_load_string(text, "test.yaml", sets, &error);
  if (cfg == NULL)
    g_error("expected a valid scenario, got:\n%s", error->message);
  return cfg;
}

/* Loads text that must fail; returns the message. */
static char *
load_bad(const char *text, const char *const *sets)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ScnConfig) cfg = scn_load_string(text, "test.yaml", sets, &error);
  g_assert_null(cfg);
  g_assert_error(error, SCN_ERROR, SCN_ERROR_INVALID);
  return g_strdup(error->message);
}

/* Only the required keys. */
static const char minimal[] =
  "name: minimal\n"
  "duration: 1d\n"
  "registration_service:\n"
  "  pimsi_pool: {mcc: \"001\", mnc: \"01\", size: 100}\n"
  "visited_operators:\n"
  "  - {name: vo, share: 1.0}\n"
  "home_operators:\n"
  "  - {name: sho, share: 1.0}\n"
  "manufacturers:\n"
  "  - {name: m, devices: 10, production: {poisson: 10/h}}\n";

static void
test_quickstart(void)
{
  g_autofree char *path = src_path("scenarios/quickstart.yaml");
  g_autoptr(GError) error = NULL;
  g_autoptr(ScnConfig) cfg = scn_load(path, NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(cfg->name, ==, "quickstart");
  g_assert_cmpuint(cfg->seed, ==, 1);
  g_assert_cmpint(cfg->duration, ==, 3 * SIM_D);
  const ScnRegistrationService *rs = &cfg->registration_service;
  g_assert_cmpstr(rs->pimsi_pool.mcc, ==, "901");
  g_assert_cmpstr(rs->pimsi_pool.mnc, ==, "70");
  g_assert_cmpuint(rs->pimsi_pool.size, ==, 5000);
  g_assert_cmpuint(rs->pimsi_pool.first_msin, ==, 0);
  g_assert_cmpint(rs->pimsi_recycle, ==, SCN_RECYCLE_AFTER_PROVISIONING);
  g_assert_cmpint(rs->pimsi_quarantine, ==, SIM_D);
  g_assert_cmpuint(rs->av_servers, ==, 4);
  g_assert_cmpint(rs->av_service_time.kind, ==, DIST_EXPONENTIAL);
  g_assert_cmpint(rs->av_service_time.a, ==, 2 * SIM_MS);
  g_assert_cmpuint(rs->av_batch, ==, 1);
  g_assert_cmpint(rs->auth, ==, SCN_AUTH_MILENAGE);

  g_assert_cmpuint(cfg->n_visited_operators, ==, 2);
  const ScnVisitedOperator *a = &cfg->visited_operators[0], *b = &cfg->visited_operators[1];
  g_assert_cmpstr(a->name, ==, "vo-a");
  g_assert_cmpfloat_with_epsilon(a->share, 0.7, 1e-12);
  g_assert_true(a->accepts_pimsi);
  g_assert_cmpint(a->attach_delay.kind, ==, DIST_CONSTANT);
  g_assert_cmpint(a->attach_delay.a, ==, 300 * SIM_MS);
  g_assert_cmpint(a->roaming_delay.a, ==, 60 * SIM_MS);
  g_assert_cmpstr(b->name, ==, "vo-b");
  g_assert_false(b->accepts_pimsi);
  g_assert_cmpint(b->refuse_delay.kind, ==, DIST_CONSTANT);
  g_assert_cmpint(b->refuse_delay.a, ==, SIM_S);

  g_assert_cmpuint(cfg->n_home_operators, ==, 1);
  const ScnHomeOperator *h = &cfg->home_operators[0];
  g_assert_cmpstr(h->name, ==, "sho-a");
  g_assert_cmpint(h->download_time.kind, ==, DIST_LOGNORMAL);
  g_assert_cmpint(h->download_time.a, ==, 20 * SIM_S);
  g_assert_cmpfloat_with_epsilon(h->download_time.p1, 0.5, 1e-12);

  g_assert_cmpuint(cfg->n_manufacturers, ==, 1);
  const ScnManufacturer *m = &cfg->manufacturers[0];
  g_assert_cmpstr(m->name, ==, "acme");
  g_assert_cmpuint(m->devices, ==, 1000);
  g_assert_cmpint(m->production.kind, ==, ARRIVAL_POISSON);
  g_assert_cmpfloat_with_epsilon(m->production.rate_per_s, 500.0 / 86400, 1e-15);
  g_assert_cmpuint(scn_config_total_devices(cfg), ==, 1000);

  g_assert_cmpint(cfg->owners.select_home_operator_after.kind, ==, DIST_EXPONENTIAL);
  g_assert_cmpint(cfg->owners.select_home_operator_after.a, ==, SIM_D);
  g_assert_cmpint(cfg->devices.power_on_after.a, ==, 2 * SIM_D);
  g_assert_cmpint(cfg->devices.retry.initial, ==, 30 * SIM_S);
  g_assert_cmpfloat_with_epsilon(cfg->devices.retry.factor, 2, 1e-12);
  g_assert_cmpint(cfg->devices.retry.max, ==, SIM_H);
  g_assert_null(cfg->devices.allowed_networks);

  g_assert_cmpuint(cfg->n_faults, ==, 1);
  g_assert_cmpint(cfg->faults[0].at, ==, SIM_D);
  g_assert_cmpint(cfg->faults[0].target_kind, ==, SCN_TARGET_RS);
  g_assert_cmpint(cfg->faults[0].down_for, ==, 2 * SIM_H);
  g_assert_cmpint(cfg->output.series_interval, ==, SIM_H);
  g_assert_false(cfg->has_sweep);

  /* provenance */
  g_assert_cmpstr(cfg->path, ==, path);
  g_assert_nonnull(strstr(cfg->text, "name: quickstart"));
  g_assert_nonnull(cfg->sets);
  g_assert_null(cfg->sets[0]);
}

/* The quickstart in flow style means exactly the same. */
static void
test_flow_style(void)
{
  g_autofree char *path = src_path("scenarios/quickstart.yaml");
  g_autoptr(ScnConfig) block = scn_load(path, NULL, NULL);
  g_assert_nonnull(block);
  static const char flow[] =
    "{name: quickstart, seed: 1, duration: 3d,\n"
    " registration_service: {pimsi_pool: {mcc: \"901\", mnc: \"70\", size: 5000},\n"
    "   pimsi_recycle: after_provisioning, pimsi_quarantine: 1d, av_servers: 4,\n"
    "   av_service_time: {exponential: 2ms}, av_batch: 1, auth: milenage},\n"
    " visited_operators: [\n"
    "   {name: vo-a, share: 0.7, accepts_pimsi: true, attach_delay: {constant: 300ms},\n"
    "    roaming_delay: {constant: 60ms}},\n"
    "   {name: vo-b, share: 0.3, accepts_pimsi: false}],\n"
    " home_operators: [{name: sho-a, share: 1.0,\n"
    "   download_time: {lognormal: {median: 20s, sigma: 0.5}}}],\n"
    " manufacturers: [{name: acme, devices: 1000, production: {poisson: 500/d}}],\n"
    " owners: {select_home_operator_after: {exponential: 1d}},\n"
    " devices: {power_on_after: {exponential: 2d}, retry: {initial: 30s, factor: 2, max: 1h}},\n"
    " faults: [{at: 1d, target: registration_service, down_for: 2h}],\n"
    " output: {series_interval: 1h}}\n";
  g_autoptr(ScnConfig) f = load_ok(flow, NULL);
  g_autofree char *pb = params_text(block), *pf = params_text(f);
  g_assert_cmpstr(pb, ==, pf);

  /* the one-line list item of scenario.md */
  g_autofree char *text = g_strdup(minimal);
  g_autoptr(ScnConfig) m = load_ok(text, NULL);
  g_assert_true(m->visited_operators[0].accepts_pimsi);
}

/* A few problems at once, each with its position. */
static void
test_basic_errors(void)
{
  g_autofree char *text = g_strdup(minimal);
  g_autofree char *bad = g_strjoin("", text, "output: {series_interval: 0, qantile_exact_max: 5}\n",
                                   NULL);
  g_autofree char *msg = load_bad(bad, NULL);
  g_assert_cmpstr(msg, ==,
                  "test.yaml:11:27: output.series_interval: must be greater than 0, got '0' "
                  "(expected a duration greater than 0 such as 250ms, 30s, 5min, 2h or 1d)\n"
                  "test.yaml:11:30: unknown key 'qantile_exact_max' in output (did you mean "
                  "'quantile_exact_max'?)");
  g_autoptr(ScnConfig) cfg = load_ok(minimal, NULL);
  g_autoptr(GPtrArray) ps = scn_config_params(cfg);
  g_assert_cmpstr(param(ps, "registration_service.ind_bits"), ==, "5");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/scenario/quickstart", test_quickstart);
  g_test_add_func("/scenario/flow-style", test_flow_style);
  g_test_add_func("/scenario/basic-errors", test_basic_errors);
  return g_test_run();
}
