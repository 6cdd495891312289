/* Scenario loading: the shipped files load with the values they say, flow and block
 * style mean the same, defaults are the documented ones (scenarios/README.md), every bad
 * file of tests/bad-scenarios/ gives exactly its expected lines (through the library and
 * through `m2msim check`), and --set overrides go through the same checks. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

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
  g_assert_cmpint(cfg->duration, ==, 60 * SIM_D);
  g_assert_cmpint(cfg->stop_when, ==, SCN_STOP_SETTLED);
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

/* Every scenario shipped in scenarios/ is valid. */
static void
test_shipped(void)
{
  g_autofree char *dir = src_path("scenarios");
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  g_assert_nonnull(d);
  guint n = 0;
  const char *entry;
  while ((entry = g_dir_read_name(d)) != NULL) {
    if (!g_str_has_suffix(entry, ".yaml"))
      continue;
    g_autofree char *path = g_build_filename(dir, entry, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(ScnConfig) cfg = scn_load(path, NULL, &error);
    if (cfg == NULL)
      g_error("shipped scenario %s is invalid:\n%s", entry, error->message);
    n++;
  }
  g_assert_cmpuint(n, >=, 1);
}

/* The quickstart in flow style means exactly the same. */
static void
test_flow_style(void)
{
  g_autofree char *path = src_path("scenarios/quickstart.yaml");
  g_autoptr(ScnConfig) block = scn_load(path, NULL, NULL);
  g_assert_nonnull(block);
  static const char flow[] =
    "{name: quickstart, seed: 1, duration: 60d, stop_when: settled,\n"
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

  /* the same file with a UTF-8 byte order mark and CRLF line ends (Windows editors) */
  g_autofree char *qs_text = NULL;
  g_assert_true(g_file_get_contents(path, &qs_text, NULL, NULL));
  g_auto(GStrv) qs_lines = g_strsplit(qs_text, "\n", -1);
  g_autofree char *crlf = g_strjoinv("\r\n", qs_lines);
  g_autofree char *bom = g_strconcat("\xef\xbb\xbf", crlf, NULL);
  g_autoptr(ScnConfig) w = load_ok(bom, NULL);
  g_autofree char *pw = params_text(w);
  g_assert_cmpstr(pb, ==, pw);

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

/* Every tests/bad-scenarios/NAME.yaml gives exactly NAME.err, through the library and
 * through `m2msim check` (exit 2, nothing on stdout). */
static void
test_bad_corpus(void)
{
  g_autofree char *dir = src_path("tests/bad-scenarios");
  g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
  g_assert_nonnull(d);
  g_autofree char *prefix = g_strconcat(dir, G_DIR_SEPARATOR_S, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  const char *entry;
  while ((entry = g_dir_read_name(d)) != NULL)
    if (g_str_has_suffix(entry, ".yaml"))
      g_ptr_array_add(names, g_strdup(entry));
  g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
  g_assert_cmpuint(names->len, >=, 30);

  /* one m2msim check over every file: stderr is the .err files in argument order */
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GString) all_expected = g_string_new(NULL);
  g_ptr_array_add(args, g_strdup("check"));
  for (guint i = 0; i < names->len; i++) {
    const char *name = names->pdata[i];
    g_autofree char *stem = g_strndup(name, strlen(name) - 5);
    g_autofree char *yaml = g_build_filename(dir, name, NULL);
    g_autofree char *errname = g_strconcat(stem, ".err", NULL);
    g_autofree char *errpath = g_build_filename(dir, errname, NULL);
    g_autofree char *expected = NULL;
    if (!g_file_get_contents(errpath, &expected, NULL, NULL))
      g_error("%s has no %s", name, errname);
    g_strchomp(expected);
    g_assert_cmpstr(expected, !=, "");
    g_string_append_printf(all_expected, "%s\n", expected);

    /* library */
    g_autoptr(GError) error = NULL;
    g_autoptr(ScnConfig) cfg = scn_load(yaml, NULL, &error);
    g_assert_null(cfg);
    g_assert_error(error, SCN_ERROR, SCN_ERROR_INVALID);
    g_auto(GStrv) parts = g_strsplit(error->message, prefix, -1);
    g_autofree char *got = g_strjoinv("", parts);
    if (strcmp(got, expected) != 0)
      g_error("%s via scn_load:\n--- expected\n%s\n--- got\n%s", name, expected, got);
    g_ptr_array_add(args, g_steal_pointer(&yaml));
  }
  g_ptr_array_add(args, NULL);

  /* command */
  g_autofree char *out = NULL, *err = NULL;
  int status = tu_run_m2msimv(&out, &err, (const char *const *)args->pdata);
  g_assert_cmpint(status, ==, 2);
  g_assert_cmpstr(out, ==, "");
  g_auto(GStrv) eparts = g_strsplit(err, prefix, -1);
  g_autofree char *egot = g_strjoinv("", eparts);
  if (strcmp(egot, all_expected->str) != 0) {
    g_auto(GStrv) want = g_strsplit(all_expected->str, "\n", -1);
    g_auto(GStrv) got = g_strsplit(egot, "\n", -1);
    for (guint i = 0; want[i] && got[i]; i++)
      if (strcmp(want[i], got[i]) != 0)
        g_error("m2msim check: line %u differs:\n--- expected\n%s\n--- got\n%s", i + 1,
                want[i], got[i]);
    g_error("m2msim check: output differs in length");
  }
}

/* Files that are not scenarios at all. */
static void
test_not_files(void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = src_path("scenarios");
  g_autoptr(ScnConfig) c1 = scn_load(dir, NULL, &error);
  g_assert_null(c1);
  g_assert_error(error, SCN_ERROR, SCN_ERROR_IO);
  g_assert_true(g_str_has_suffix(error->message, ": is a directory; give a scenario file (e.g. "
                                                 "scenarios/quickstart.yaml)"));
  g_clear_error(&error);

  g_autoptr(ScnConfig) c2 = scn_load("/nonexistent/x.yaml", NULL, &error);
  g_assert_null(c2);
  g_assert_error(error, SCN_ERROR, SCN_ERROR_IO);
  g_assert_cmpstr(error->message, ==, "/nonexistent/x.yaml: cannot open: No such file or "
                                      "directory");
  g_clear_error(&error);

  /* a file over the limit is refused without parsing it */
  g_autofree char *big = NULL;
  g_autoptr(GError) ferr = NULL;
  int fd = g_file_open_tmp("m2m-big-XXXXXX.yaml", &big, &ferr);
  g_assert_no_error(ferr);
  close(fd);
  g_autofree char *junk = g_strnfill(SCN_MAX_FILE_SIZE + 1, '#');
  g_assert_true(g_file_set_contents(big, junk, -1, NULL));
  g_autoptr(ScnConfig) c3 = scn_load(big, NULL, &error);
  g_assert_null(c3);
  g_assert_error(error, SCN_ERROR, SCN_ERROR_IO);
  g_assert_nonnull(strstr(error->message, ": larger than 4 MiB"));
  g_clear_error(&error);

  /* and through the command: a directory, then one good and one missing file */
  g_autofree char *qs = src_path("scenarios/quickstart.yaml");
  g_autofree char *out = NULL, *err = NULL;
  g_assert_cmpint(tu_run_m2msim(&out, &err, "check", qs, big, NULL), ==, 2);
  g_autofree char *ok = g_strdup_printf("%s: ok\n", qs);
  g_assert_cmpstr(out, ==, ok);
  g_assert_nonnull(strstr(err, ": larger than 4 MiB"));
  g_remove(big);
  g_clear_pointer(&out, g_free);
  g_clear_pointer(&err, g_free);
  g_assert_cmpint(tu_run_m2msim(&out, &err, "check", NULL), ==, 2);
  g_assert_cmpstr(err, ==, "m2msim check: no scenario file given (m2msim check FILE...)\n");

  /* the loader for fuzzers takes NUL octets and refuses them */
  static const char nul[] = "name: a\0b\nduration: 1d\n";
  g_autoptr(ScnConfig) c4 = scn_load_data(nul, sizeof nul - 1, "nul.yaml", NULL, &error);
  g_assert_null(c4);
  g_assert_error(error, SCN_ERROR, SCN_ERROR_INVALID);
  g_assert_true(g_str_has_prefix(error->message, "nul.yaml:1:8: "));
}

/* --set: overrides of scalars, whole values in flow YAML, keys the file left out. */
static void
test_set_good(void)
{
  g_autofree char *path = src_path("scenarios/quickstart.yaml");
  const char *sets[] = {"manufacturers.0.devices=5000",
                        "registration_service.auth=certificate",
                        "registration_service.pimsi_pool.size=100",
                        "registration_service.av_service_time={lognormal: {median: 3ms, sigma: 1}}",
                        "registration_service.ind_bits=3",
                        "output.quantile_exact_max=1000",
                        "visited_operators.1={name: vo-c, share: 0.3, accepts_pimsi: true}",
                        "devices.allowed_networks=[vo-c]",
                        "faults=[]",
                        "registration_service.pimsi_pool.mcc=001",
                        "name=with spaces",
                        NULL};
  g_autoptr(GError) error = NULL;
  g_autoptr(ScnConfig) cfg = scn_load(path, sets, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(cfg->manufacturers[0].devices, ==, 5000);
  g_assert_cmpint(cfg->registration_service.auth, ==, SCN_AUTH_CERTIFICATE);
  g_assert_cmpuint(cfg->registration_service.pimsi_pool.size, ==, 100);
  g_assert_cmpstr(cfg->registration_service.pimsi_pool.mcc, ==, "001");
  g_assert_cmpint(cfg->registration_service.av_service_time.kind, ==, DIST_LOGNORMAL);
  g_assert_cmpint(cfg->registration_service.av_service_time.a, ==, 3 * SIM_MS);
  g_assert_cmpuint(cfg->registration_service.ind_bits, ==, 3);
  g_assert_cmpuint(cfg->output.quantile_exact_max, ==, 1000);
  g_assert_cmpstr(cfg->visited_operators[1].name, ==, "vo-c");
  g_assert_true(cfg->visited_operators[1].accepts_pimsi);
  g_assert_cmpint(cfg->visited_operators[1].refuse_delay.a, ==, SIM_S); /* default again */
  g_assert_cmpuint(cfg->devices.n_allowed_networks, ==, 1);
  g_assert_cmpstr(cfg->devices.allowed_networks[0], ==, "vo-c");
  g_assert_cmpuint(cfg->n_faults, ==, 0);
  g_assert_cmpstr(cfg->name, ==, "with spaces");
  g_assert_cmpuint(g_strv_length(cfg->sets), ==, G_N_ELEMENTS(sets) - 1);
  g_assert_cmpstr(cfg->sets[0], ==, "manufacturers.0.devices=5000");
  g_autoptr(GPtrArray) ps = scn_config_params(cfg);
  g_assert_cmpstr(param(ps, "manufacturers.0.devices"), ==, "5000");
  g_assert_cmpstr(param(ps, "registration_service.av_service_time"), ==,
                  "{lognormal: {median: 3ms, sigma: 1}}");
  g_assert_cmpstr(param(ps, "devices.allowed_networks"), ==, "[vo-c]");
  g_assert_null(param(ps, "faults.0.at"));

  /* a section the file left out is created */
  g_autofree char *text = g_strdup(minimal);
  const char *sets2[] = {"owners.register_delay={exponential: 1h}", "seed=42", NULL};
  g_autoptr(ScnConfig) m = load_ok(text, sets2);
  g_assert_cmpint(m->owners.register_delay.kind, ==, DIST_EXPONENTIAL);
  g_assert_cmpint(m->owners.register_delay.a, ==, SIM_H);
  g_assert_cmpint(m->owners.select_home_operator_after.a, ==, SIM_D);
  g_assert_cmpuint(m->seed, ==, 42);
}

static void
test_set_bad(void)
{
  const char *sets[] = {"registration_service.av_server=3",    /* bad path */
                        "manufacturers.1.devices=5",           /* index out of range */
                        "registration_service.av_batch=0",     /* bad value */
                        "duration",                            /* no '=' */
                        "faults.x.at=1d",                      /* not an index */
                        "visited_operators.0.attach_delay.constant=1s", /* inside a value */
                        "name=[",                              /* not YAML */
                        "devices.retry.factor=0.5",            /* range */
                        "owners.select_home_operator_after=1d", /* not a distribution */
                        NULL};
  g_autofree char *msg = load_bad(minimal, sets);
  g_assert_cmpstr(msg, ==,
    "--set registration_service.av_server=3: unknown key 'av_server' in registration_service "
    "(did you mean 'av_servers'?)\n"
    "--set manufacturers.1.devices=5: index 1 out of range: manufacturers has 1 item (0 to "
    "0)\n"
    "--set registration_service.av_batch=0: registration_service.av_batch: out of range, got "
    "'0' (expected an integer from 1 to 100)\n"
    "--set duration: expected KEY.PATH=VALUE (e.g. manufacturers.0.devices=5000)\n"
    "--set faults.x.at=1d: expected an item index after 'faults' (faults.0 is the first "
    "fault), got 'x'\n"
    "--set visited_operators.0.attach_delay.constant=1s: 'visited_operators.0.attach_delay' "
    "has no keys below it; set it whole: visited_operators.0.attach_delay=VALUE with VALUE a "
    "distribution: {constant: D}, {exponential: MEAN}, {uniform: [A, B]}, {lognormal: "
    "{median: D, sigma: S}}, {beta: {alpha: A, beta: B, over: D}}, {mixture: [{weight: W, "
    "DIST}, ...]} or {empirical: FILE.csv}\n"
    "--set name=[: value is not valid YAML: YAML syntax error: did not find expected node "
    "content (while parsing a flow node)\n"
    "--set devices.retry.factor=0.5: devices.retry.factor: out of range, got '0.5' (expected "
    "a number from 1 to 100)\n"
    "--set owners.select_home_operator_after=1d: owners.select_home_operator_after: expected "
    "a distribution, got '1d' (for a fixed time write {constant: 1d}; allowed: {constant: D}, "
    "{exponential: MEAN}, {uniform: [A, B]}, {lognormal: {median: D, sigma: S}}, {beta: "
    "{alpha: A, beta: B, over: D}}, {mixture: [{weight: W, DIST}, ...]} or {empirical: "
    "FILE.csv})");

  /* a --set problem and a file problem are reported together */
  g_autofree char *text = g_strconcat(minimal, "seed: x\n", NULL);
  const char *one[] = {"registration_service.pimsi_pool.size=100000000000", NULL};
  g_autofree char *both = load_bad(text, one);
  g_assert_cmpstr(both, ==,
    "--set registration_service.pimsi_pool.size=100000000000: "
    "registration_service.pimsi_pool.size: out of range, got '100000000000' (expected an "
    "integer from 1 to 10000000000)\n"
    "test.yaml:11:7: seed: expected an integer from 0 to 9223372036854775807, got 'x'");

  /* a value that breaks a cross-field rule: the pool is checked against the new MNC */
  const char *mnc[] = {"registration_service.pimsi_pool.mnc=001",
                       "registration_service.pimsi_pool.size=1000000001", NULL};
  g_autofree char *pool = load_bad(minimal, mnc);
  g_assert_cmpstr(pool, ==,
    "--set registration_service.pimsi_pool.size=1000000001: "
    "registration_service.pimsi_pool.size: 1000000001 PIMSIs do not fit: a 3-digit MNC leaves "
    "9 MSIN digits (15 - 3 - 3, ITU-T E.212), so at most 1000000000");

  /* a whole mapping given by --set is reported as the --set, key by key */
  const char *pool_set[] = {"registration_service.pimsi_pool={mcc: \"001\"}", NULL};
  g_autofree char *missing = load_bad(minimal, pool_set);
  g_assert_cmpstr(missing, ==,
    "--set registration_service.pimsi_pool={mcc: \"001\"}: registration_service.pimsi_pool: "
    "missing required key 'mnc'\n"
    "--set registration_service.pimsi_pool={mcc: \"001\"}: registration_service.pimsi_pool: "
    "missing required key 'size'");

  /* through the command: exit 2, the line on stderr */
  g_autofree char *qs = src_path("scenarios/quickstart.yaml");
  g_autofree char *out = NULL, *err = NULL;
  g_assert_cmpint(tu_run_m2msim(&out, &err, "check", "--set", "manufacturers.0.devics=5", qs,
                                NULL), ==, 2);
  g_assert_cmpstr(out, ==, "");
  g_assert_cmpstr(err, ==, "--set manufacturers.0.devics=5: unknown key 'devics' in "
                           "manufacturers.0 (did you mean 'devices'?)\n");
  g_clear_pointer(&out, g_free);
  g_clear_pointer(&err, g_free);
  g_assert_cmpint(tu_run_m2msim(&out, &err, "check", "--set", "manufacturers.0.devices=5000",
                                "--params", qs, NULL), ==, 0);
  g_assert_nonnull(strstr(out, "\nmanufacturers.0.devices=5000\n"));
}

static ScnConfig *
load_file_ok(const char *rel)
{
  g_autofree char *path = src_path(rel);
  g_autoptr(GError) error = NULL;
  ScnConfig *cfg = scn_load(path, NULL, &error);
  if (cfg == NULL)
    g_error("%s should load: %s", rel, error->message);
  g_autofree char *out = NULL, *err = NULL;
  g_assert_cmpint(tu_run_m2msim(&out, &err, "check", path, NULL), ==, 0);
  g_autofree char *ok = g_strdup_printf("%s: ok\n", path);
  g_assert_cmpstr(out, ==, ok);
  g_assert_cmpstr(err, ==, "");
  return cfg;
}

/* The cells of a Markdown table row, trimmed ("\\|" inside a cell is not a border). */
static GStrv
md_cells(const char *row)
{
  g_autoptr(GPtrArray) cells = g_ptr_array_new();
  g_autoptr(GString) cur = g_string_new(NULL);
  const char *p = strchr(row, '|');
  for (p = p ? p + 1 : row; *p; p++) {
    if (*p == '\\' && p[1] == '|') {
      g_string_append_c(cur, '|');
      p++;
    } else if (*p == '|') {
      g_ptr_array_add(cells, g_strstrip(g_strdup(cur->str)));
      g_string_truncate(cur, 0);
    } else {
      g_string_append_c(cur, *p);
    }
  }
  g_ptr_array_add(cells, NULL);
  return (GStrv)g_ptr_array_steal(cells, NULL);
}

/* Every default documented in scenarios/README.md is the loader's default, every key the
 * loader has is documented, and every documented key exists. */
static void
test_documented_defaults(void)
{
  g_autoptr(ScnConfig) cfg = load_file_ok("tests/good-scenarios/minimal.yaml");
  g_assert_cmpstr(cfg->registration_service.pimsi_pool.mcc, ==, "001");
  g_assert_cmpuint(cfg->n_faults, ==, 0);
  g_assert_false(cfg->has_sweep);
  g_autoptr(GPtrArray) ps = scn_config_params(cfg);
  g_autoptr(ScnConfig) all = load_file_ok("tests/good-scenarios/all-keys.yaml");
  g_autoptr(GPtrArray) pall = scn_config_params(all);
  /* the keys of several sites, which exclude av_servers / av_service_time */
  g_autoptr(ScnConfig) sites = load_file_ok("tests/good-scenarios/sites.yaml");
  g_autoptr(GPtrArray) psites = scn_config_params(sites);
  for (guint i = 0; i < psites->len; i++) {
    const ScnParam *p = psites->pdata[i];
    if (strstr(p->key, "site") != NULL && param(pall, p->key) == NULL) {
      ScnParam *copy = g_new0(ScnParam, 1); /* freed as the list's own (key, value, record) */
      copy->key = g_strdup(p->key);
      copy->value = g_strdup(p->value);
      g_ptr_array_add(pall, copy);
    }
  }
  g_autofree char *readme_path = src_path("scenarios/README.md");
  g_autofree char *readme = NULL;
  g_assert_true(g_file_get_contents(readme_path, &readme, NULL, NULL));
  g_autoptr(GHashTable) documented = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_auto(GStrv) lines = g_strsplit(readme, "\n", -1);
  guint rows = 0, defaults = 0;
  for (char **l = lines; *l; l++) {
    if (!g_str_has_prefix(*l, "| `"))
      continue;
    g_auto(GStrv) cells = md_cells(*l);
    /* key rows of the key tables: | `path` | type | unit | default | ... */
    if (g_strv_length(cells) < 5 || cells[0][0] != '`')
      continue;
    g_autofree char *raw = g_strndup(cells[0] + 1, strcspn(cells[0] + 1, "`"));
    if (strchr(raw, '.') == NULL && strcmp(raw, "name") && strcmp(raw, "seed") &&
        strcmp(raw, "duration") && strcmp(raw, "stop_when"))
      continue; /* the Values tables */
    g_auto(GStrv) parts = g_strsplit(raw, "[]", -1);
    g_autofree char *key = g_strjoinv(".0", parts);
    const char *def = cells[3];
    rows++;
    g_hash_table_add(documented, g_strdup(key));
    if (g_str_has_prefix(key, "sweep.")) {
      if (strcmp(key, "sweep.replications") == 0)
        g_assert_cmpstr(def, ==, "`1`");
      g_assert_cmpuint(cfg->sweep.replications, ==, 1);
      continue;
    }
    const char *actual = param(ps, key);
    if (actual == NULL && param(pall, key) == NULL)
      g_error("README documents '%s', which the loader does not have", key);
    if (actual == NULL) { /* keys of list items the minimal file has none of (faults, sites) */
      g_assert_true(strcmp(def, "**required**") == 0 || def[0] == '`');
      continue;
    }
    if (strcmp(def, "**required**") == 0)
      continue;
    if (def[0] != '`')
      g_error("README row for %s: default cell '%s' is neither **required** nor `code`", key, def);
    g_autofree char *want = g_strndup(def + 1, strcspn(def + 1, "`"));
    if (strcmp(want, actual) != 0)
      g_error("README says %s defaults to '%s'; the loader gives '%s'", key, want, actual);
    defaults++;
  }
  for (guint i = 0; i < pall->len; i++) {
    const ScnParam *p = pall->pdata[i];
    g_auto(GStrv) parts = g_strsplit(p->key, ".", -1);
    for (char **q = parts; *q; q++)
      if (g_ascii_isdigit(**q))
        strcpy(*q, "0"); /* visited_operators.2.name is documented as [].name */
    g_autofree char *key = g_strjoinv(".", parts);
    if (!g_hash_table_contains(documented, key))
      g_error("key '%s' is not documented in scenarios/README.md", key);
  }
  g_assert_cmpuint(rows, >=, 54);
  g_assert_cmpuint(defaults, >=, 37);
}

/* A file setting every key: each value is read (differs from the default). */
static void
test_all_keys(void)
{
  g_autoptr(ScnConfig) all = load_file_ok("tests/good-scenarios/all-keys.yaml");
  g_autoptr(ScnConfig) min = load_file_ok("tests/good-scenarios/minimal.yaml");
  g_autoptr(GPtrArray) pa = scn_config_params(all);
  g_autoptr(GPtrArray) pm = scn_config_params(min);
  g_autoptr(ScnConfig) sites = load_file_ok("tests/good-scenarios/sites.yaml");
  g_autoptr(GPtrArray) psites = scn_config_params(sites);
  guint compared = 0;
  for (guint i = 0; i < pm->len; i++) {
    const ScnParam *p = pm->pdata[i];
    const char *v = param(pa, p->key);
    g_assert_nonnull(v);
    /* a list item's key counts as set when some item of the list differs */
    bool differs = strcmp(v, p->value) != 0;
    const char *dot0 = strstr(p->key, ".0.");
    for (int item = 1; !differs && dot0 && item < 10; item++) {
      g_autofree char *head = g_strndup(p->key, (gsize)(dot0 - p->key));
      g_autofree char *k = g_strdup_printf("%s.%d.%s", head, item, dot0 + 3);
      const char *w = param(pa, k);
      differs = w && strcmp(w, p->value) != 0;
    }
    if (!differs && strstr(p->key, "site") != NULL) { /* several sites: sites.yaml */
      const char *w = param(psites, p->key);
      differs = w && strcmp(w, p->value) != 0;
    }
    if (!differs)
      g_error("all-keys.yaml leaves %s at '%s'", p->key, v);
    compared++;
  }
  g_assert_cmpuint(compared, ==, pm->len);

  g_assert_cmpuint(all->n_visited_operators, ==, 3);
  g_assert_cmpint(all->registration_service.av_service_time.kind, ==, DIST_UNIFORM);
  g_assert_cmpint(all->registration_service.av_service_time.b, ==, 3 * SIM_MS);
  g_assert_cmpint(all->home_operators[0].download_time.kind, ==, DIST_BETA);
  g_assert_cmpfloat_with_epsilon(all->home_operators[0].download_time.p1, 2, 1e-12);
  g_assert_cmpfloat_with_epsilon(all->home_operators[0].download_time.p2, 5, 1e-12);
  g_assert_cmpint(all->home_operators[0].download_time.a, ==, SIM_MIN);
  const ArrivalSpec *burst = &all->manufacturers[0].production;
  g_assert_cmpint(burst->kind, ==, ARRIVAL_BURST);
  g_assert_cmpint(burst->at, ==, 2 * SIM_H);
  g_assert_cmpint(burst->over, ==, 10 * SIM_S);
  g_assert_cmpfloat_with_epsilon(burst->alpha, 3, 1e-12);
  g_assert_cmpfloat_with_epsilon(burst->beta, 4, 1e-12);
  g_assert_cmpint(all->manufacturers[1].production.kind, ==, ARRIVAL_CONSTANT);
  g_assert_cmpfloat_with_epsilon(all->manufacturers[1].production.rate_per_s, 100.0 / 3600,
                                 1e-15);
  g_assert_cmpuint(scn_config_total_devices(all), ==, 28000);
  g_assert_cmpint(all->faults[1].target_kind, ==, SCN_TARGET_VO);
  g_assert_cmpuint(all->faults[1].target_index, ==, 1);
  g_assert_cmpint(all->faults[2].target_kind, ==, SCN_TARGET_HO);
  g_assert_cmpuint(all->faults[2].target_index, ==, 1);
  g_assert_cmpint(scn_config_find_vo(all, "vo-closed"), ==, 2);
  g_assert_cmpint(scn_config_find_ho(all, "vo-closed"), ==, -1);

  /* the sweep: axes in file order, values as --set text */
  g_assert_true(all->has_sweep);
  g_assert_cmpuint(all->sweep.replications, ==, 3);
  g_assert_cmpuint(all->sweep.n_axes, ==, 3);
  g_assert_cmpstr(all->sweep.axes[0].key, ==, "registration_service.av_servers");
  g_assert_cmpuint(all->sweep.axes[0].n_values, ==, 3);
  g_assert_cmpstr(all->sweep.axes[0].values[2], ==, "4");
  g_assert_null(all->sweep.axes[0].values[3]);
  g_assert_cmpstr(all->sweep.axes[1].values[0], ==, "{exponential: 1ms}");
  g_assert_cmpstr(all->sweep.axes[1].values[1], ==, "{exponential: 2ms}");
  g_assert_cmpstr(all->sweep.axes[2].values[0], ==,
                  "{burst: {at: 1h, over: 60s, shape: uniform}}");
  /* every grid value loads as a --set */
  g_autofree char *path = src_path("tests/good-scenarios/all-keys.yaml");
  for (size_t a = 0; a < all->sweep.n_axes; a++)
    for (size_t v = 0; v < all->sweep.axes[a].n_values; v++) {
      g_autofree char *set = g_strdup_printf("%s=%s", all->sweep.axes[a].key,
                                             all->sweep.axes[a].values[v]);
      const char *sets[] = {set, NULL};
      g_autoptr(GError) error = NULL;
      g_autoptr(ScnConfig) c = scn_load(path, sets, &error);
      g_assert_no_error(error);
    }

  /* the burst of scenario.md in flow style (the comma inside beta(3,4)) */
  g_autofree char *flow = g_strconcat(minimal, NULL);
  const char *sets[] = {"manufacturers.0.production={burst: {at: 1h, over: 10s, "
                        "shape: beta(3, 4)}}", NULL};
  g_autoptr(ScnConfig) f = load_ok(flow, sets);
  g_assert_cmpint(f->manufacturers[0].production.kind, ==, ARRIVAL_BURST);
  g_assert_cmpfloat_with_epsilon(f->manufacturers[0].production.alpha, 3, 1e-12);
  g_assert_cmpfloat_with_epsilon(f->manufacturers[0].production.beta, 4, 1e-12);
}

/* Production over time: a piecewise rate and a growing one, read and written back by
 * --params in a form that loads to the same process. */
static void
test_varying_production(void)
{
  static const char text[] =
    "name: varying\n"
    "duration: 2d\n"
    "registration_service:\n"
    "  pimsi_pool: {mcc: \"001\", mnc: \"01\", size: 1000}\n"
    "visited_operators:\n"
    "  - {name: vo, share: 1.0}\n"
    "home_operators:\n"
    "  - {name: sho, share: 1.0}\n"
    "manufacturers:\n"
    "  - {name: a, devices: 10, production: {piecewise: [{from: 0, rate: 2000/d},\n"
    "      {from: 365d, rate: 3000/d}]}}\n"
    "  - {name: b, devices: 10, production: {growth: -20%/y, constant: 500/d}}\n"
    "devices:\n"
    "  power_on_after: {mixture: [{weight: 0.75, exponential: 20d},\n"
    "    {lognormal: {median: 180d, sigma: 0.6}, weight: 0.25}]}\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(ScnConfig) cfg = scn_load_string(text, "varying.yaml", NULL, &error);
  g_assert_no_error(error);
  const ArrivalSpec *a = &cfg->manufacturers[0].production, *b = &cfg->manufacturers[1].production;
  g_assert_cmpint(a->kind, ==, ARRIVAL_PIECEWISE);
  g_assert_cmpuint(a->n_pieces, ==, 2);
  g_assert_cmpint(a->pieces[1].from, ==, 365 * 86400 * SIM_S);
  g_assert_cmpfloat_with_epsilon(a->pieces[1].rate_per_s, 3000.0 / 86400, 1e-15);
  g_assert_cmpint(b->kind, ==, ARRIVAL_CONSTANT);
  g_assert_cmpfloat_with_epsilon(b->growth_pct_per_year, -20, 1e-12);
  g_autofree char *as = scn_arrival_to_string(a), *bs = scn_arrival_to_string(b);
  g_assert_cmpstr(as, ==, "{piecewise: [{from: 0, rate: 2000/d}, {from: 365d, rate: 125/h}]}");
  g_assert_cmpstr(bs, ==, "{constant: 500/d, growth: -20%/y}");
  const DistSpec *m = &cfg->devices.power_on_after;
  g_assert_cmpint(m->kind, ==, DIST_MIXTURE);
  g_assert_cmpuint(m->n_parts, ==, 2);
  g_assert_cmpint(m->part[1].kind, ==, DIST_LOGNORMAL);
  g_assert_cmpfloat_with_epsilon(m->weight[1], 0.25, 1e-15);
  g_autofree char *ms = scn_dist_to_string(m);
  g_assert_cmpstr(ms, ==, "{mixture: [{weight: 0.75, exponential: 20d}, {weight: 0.25, "
                          "lognormal: {median: 180d, sigma: 0.6}}]}");
  /* the written forms load back to the same processes */
  g_autofree char *set_a = g_strdup_printf("manufacturers.0.production=%s", as);
  g_autofree char *set_b = g_strdup_printf("manufacturers.1.production=%s", bs);
  g_autofree char *set_m = g_strdup_printf("devices.power_on_after=%s", ms);
  const char *const sets[] = {set_a, set_b, set_m, NULL};
  g_autoptr(ScnConfig) again = scn_load_string(text, "varying.yaml", sets, &error);
  g_assert_no_error(error);
  g_assert_true(memcmp(&again->manufacturers[0].production, a, sizeof *a) == 0);
  g_assert_true(memcmp(&again->manufacturers[1].production, b, sizeof *b) == 0);
  g_assert_true(memcmp(&again->devices.power_on_after, m, sizeof *m) == 0);
}

/* Data files: a production trace and an empirical distribution, named relative to the
 * scenario's folder, read with their rows; --params writes the names back as given. */
static void
test_data_files(void)
{
  g_autofree char *dir = g_dir_make_tmp("scn-data-XXXXXX", NULL);
  g_autofree char *sub = g_build_filename(dir, "data", NULL);
  g_assert_cmpint(g_mkdir(sub, 0700), ==, 0);
  g_autofree char *trace = g_build_filename(sub, "made.csv", NULL);
  g_autofree char *shelf = g_build_filename(sub, "shelf.csv", NULL);
  g_autofree char *yaml = g_build_filename(dir, "s.yaml", NULL);
  g_assert_true(g_file_set_contents(trace, "day,count\n0,2\n2,1\n", -1, NULL));
  g_assert_true(g_file_set_contents(shelf, "value,cdf\n1h,0\n1d,0.5\n3d,1\n", -1, NULL));
  g_assert_true(g_file_set_contents(yaml,
                                    "name: data\n"
                                    "duration: 5d\n"
                                    "registration_service:\n"
                                    "  pimsi_pool: {mcc: \"001\", mnc: \"01\", size: 10}\n"
                                    "visited_operators:\n"
                                    "  - {name: vo, share: 1.0}\n"
                                    "home_operators:\n"
                                    "  - {name: sho, share: 1.0}\n"
                                    "manufacturers:\n"
                                    "  - {name: a, devices: 10, production: {trace: data/made.csv}}\n"
                                    "devices:\n"
                                    "  power_on_after: {empirical: data/shelf.csv}\n",
                                    -1, NULL));
  g_autoptr(GError) error = NULL;
  g_autoptr(ScnConfig) cfg = scn_load(yaml, NULL, &error);
  g_assert_no_error(error);
  const ArrivalSpec *a = &cfg->manufacturers[0].production;
  g_assert_cmpint(a->kind, ==, ARRIVAL_TRACE);
  g_assert_cmpuint(a->n_trace, ==, 3);
  /* two units on day 0 at 1/4 and 3/4 of it, one on day 2 at its middle */
  g_assert_cmpint(a->trace[0], ==, SIM_D / 4);
  g_assert_cmpint(a->trace[1], ==, 3 * SIM_D / 4);
  g_assert_cmpint(a->trace[2], ==, 2 * SIM_D + SIM_D / 2);
  const DistSpec *d = &cfg->devices.power_on_after;
  g_assert_cmpint(d->kind, ==, DIST_EMPIRICAL);
  g_assert_true(d->table_cdf);
  g_assert_cmpuint(d->n_table, ==, 3);
  g_assert_cmpfloat_with_epsilon(d->table[4], 3.0 * 86400 * 1e6, 0.5);
  g_autofree char *as = scn_arrival_to_string(a), *ds = scn_dist_to_string(d);
  g_assert_cmpstr(as, ==, "{trace: data/made.csv}");
  g_assert_cmpstr(ds, ==, "{empirical: data/shelf.csv}");
  /* the same names given back as overrides load the same data */
  g_autofree char *set_a = g_strdup_printf("manufacturers.0.production=%s", as);
  const char *const sets[] = {set_a, NULL};
  g_autoptr(ScnConfig) again = scn_load(yaml, sets, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(again->manufacturers[0].production.n_trace, ==, 3);
  g_unlink(trace);
  g_unlink(shelf);
  g_unlink(yaml);
  g_rmdir(sub);
  g_rmdir(dir);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/scenario/data-files", test_data_files);
  g_test_add_func("/scenario/varying-production", test_varying_production);
  g_test_add_func("/scenario/quickstart", test_quickstart);
  g_test_add_func("/scenario/shipped", test_shipped);
  g_test_add_func("/scenario/flow-style", test_flow_style);
  g_test_add_func("/scenario/basic-errors", test_basic_errors);
  g_test_add_func("/scenario/bad-corpus", test_bad_corpus);
  g_test_add_func("/scenario/not-files", test_not_files);
  g_test_add_func("/scenario/set-good", test_set_good);
  g_test_add_func("/scenario/set-bad", test_set_bad);
  g_test_add_func("/scenario/documented-defaults", test_documented_defaults);
  g_test_add_func("/scenario/all-keys", test_all_keys);
  return g_test_run();
}
