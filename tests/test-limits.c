/* Memory limits (limits.h): the estimate, the limit parsers, the refusal message, and that
 * the shipped quickstart passes on any machine that can build m2msim. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "m2m/limits.h"
#include "m2m/world.h"
#include "testutil.h"

static void
test_parse_meminfo(void)
{
  uint64_t v = 0;
  g_assert_true(lim_parse_meminfo("MemTotal:       24576000 kB\n"
                                  "MemFree:        20000000 kB\n"
                                  "MemAvailable:   23068672 kB\n",
                                  &v));
  g_assert_cmpuint(v, ==, UINT64_C(23068672) * 1024);
  g_assert_false(lim_parse_meminfo("MemTotal: 1 kB\nMemFree: 1 kB\n", &v));
  g_assert_false(lim_parse_meminfo("MemAvailable: lots\n", &v));
  g_assert_false(lim_parse_meminfo("MemAvailable: 12 pages\n", &v));
  g_assert_false(lim_parse_meminfo("", &v));
  /* Only at the start of a line. */
  g_assert_false(lim_parse_meminfo("XMemAvailable: 5 kB\n", &v));
}

static void
test_parse_size(void)
{
  static const struct {
    const char *text;
    uint64_t bytes;
  } good[] = {
      {"0", 0},
      {"4096", 4096},
      {"512M", UINT64_C(512) << 20},
      {"8G", UINT64_C(8) << 30},
      {"8GiB", UINT64_C(8) << 30},
      {"2k", 2048},
      {"1T", UINT64_C(1) << 40},
      {"18446744073709551615", UINT64_MAX},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
    uint64_t v = 1;
    g_assert_true(lim_parse_size(good[i].text, &v));
    g_assert_cmpuint(v, ==, good[i].bytes);
  }
  static const char *const bad[] = {
      "", "-1", "8 G", "8X", "G", "1e9", "8Gb", "18446744073709551616", "17179869184G", NULL};
  for (size_t i = 0; bad[i]; i++) {
    uint64_t v = 7;
    g_assert_false(lim_parse_size(bad[i], &v));
    g_assert_cmpuint(v, ==, 7);
  }
  g_assert_false(lim_parse_size(NULL, NULL));
}

static const char scenario[] = "name: lim\n"
                               "duration: 1d\n"
                               "registration_service:\n"
                               "  pimsi_pool: {mcc: \"001\", mnc: \"01\", size: 8000000}\n"
                               "visited_operators:\n"
                               "  - {name: vo, share: 1.0}\n"
                               "home_operators:\n"
                               "  - {name: sho, share: 1.0}\n"
                               "manufacturers:\n"
                               "  - {name: m, devices: 1000000000, production: {poisson: 10/s}}\n"
                               "  - {name: n, devices: 1000, production: {poisson: 10/s}}\n";

static void
test_estimate(void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ScnConfig) cfg = scn_load_string(scenario, "lim.yaml", NULL, &error);
  g_assert_no_error(error);
  /* The tables' rows plus the measured overhead; a pool far smaller than the devices
   * needs few PIMSI records. */
  uint64_t per = lim_device_bytes(cfg);
  g_assert_cmpuint(per, ==, (uint64_t)(world_device_bytes(cfg) + 0.999) + LIM_DEVICE_OVERHEAD);
  g_assert_cmpuint(per, >, LIM_DEVICE_OVERHEAD + 100);
  g_assert_cmpuint(lim_run_bytes(cfg), ==,
                   UINT64_C(1000001000) * per + 8000000 / 8 + LIM_FIXED_BYTES);
  /* A pool as large as the devices: a PIMSI record each, more per device. */
  const char *sets[] = {"registration_service.pimsi_pool.size=4000000000", NULL};
  g_autoptr(ScnConfig) big = scn_load_string(scenario, "lim.yaml", sets, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(lim_device_bytes(big), >, per + 40);
}

static void
test_check_message(void)
{
  LimMemory avail = {UINT64_C(1) << 30, "M2M_MEMORY_LIMIT"};
  g_autoptr(GError) error = NULL;
  g_assert_true(lim_check(1000, 684, 684000 + LIM_FIXED_BYTES, &avail, &error));
  g_assert_no_error(error);
  g_assert_true(lim_check(1, 1, avail.bytes, &avail, &error)); /* exactly the limit fits */
  g_assert_false(lim_check(1000000000, 684, UINT64_C(684000000000), &avail, &error));
  g_assert_error(error, LIM_ERROR, LIM_ERROR_MEMORY);
  g_assert_cmpstr(error->message, ==,
                  "needs about 637.0 GiB of memory (1000000000 devices at about 684 bytes "
                  "each), more than the 1.0 GiB this process may use (M2M_MEMORY_LIMIT); lower "
                  "manufacturers[].devices or run on a machine with more memory");
}

static void
test_available_env(void)
{
  g_autoptr(GError) error = NULL;
  LimMemory m;
  g_unsetenv("M2M_MEMORY_LIMIT");
  g_assert_true(lim_memory_available(&m, &error));
  g_assert_no_error(error);
  g_assert_nonnull(m.source);
  uint64_t machine = m.bytes;
  const char *machine_source = m.source;
  g_assert_cmpuint(machine, >, 0);
  /* The variable can only lower the limit. */
  g_setenv("M2M_MEMORY_LIMIT", "1M", TRUE);
  g_assert_true(lim_memory_available(&m, &error));
  g_assert_cmpuint(m.bytes, ==, UINT64_C(1) << 20);
  g_assert_cmpstr(m.source, ==, "M2M_MEMORY_LIMIT");
  g_setenv("M2M_MEMORY_LIMIT", "18446744073709551615", TRUE);
  g_assert_true(lim_memory_available(&m, &error));
  /* The machine's own figure wins again. It is read anew, and other processes (the rest of
   * the suite) move MemAvailable between the two reads: same source, about the same size. */
  g_assert_cmpstr(m.source, ==, machine_source);
  if (machine == UINT64_MAX)
    g_assert_cmpuint(m.bytes, ==, UINT64_MAX);
  else
    g_assert_cmpfloat(fabs((double)m.bytes - (double)machine), <=, 0.25 * (double)machine);
  g_setenv("M2M_MEMORY_LIMIT", "lots", TRUE);
  g_assert_false(lim_memory_available(&m, &error));
  g_assert_error(error, LIM_ERROR, LIM_ERROR_SETTING);
  g_unsetenv("M2M_MEMORY_LIMIT");
}

static void
test_quickstart_fits(void)
{
  /* Every scenario a user starts from fits on a machine that builds m2msim, and a billion
   * devices do not fit on any machine this suite runs on. */
  g_autoptr(GError) error = NULL;
  g_autofree char *path =
      g_build_filename(g_getenv("M2M_SRCDIR"), "scenarios", "quickstart.yaml", NULL);
  g_autoptr(ScnConfig) cfg = scn_load(path, NULL, &error);
  g_assert_no_error(error);
  g_assert_true(lim_check_run(cfg, &error));
  g_assert_no_error(error);
  g_autoptr(ScnConfig) huge = scn_load_string(scenario, "lim.yaml", NULL, &error);
  g_assert_false(lim_check_run(huge, &error));
  g_assert_error(error, LIM_ERROR, LIM_ERROR_MEMORY);
  g_assert_nonnull(strstr(error->message, "1000001000 devices"));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/limits/parse-meminfo", test_parse_meminfo);
  g_test_add_func("/limits/parse-size", test_parse_size);
  g_test_add_func("/limits/estimate", test_estimate);
  g_test_add_func("/limits/check-message", test_check_message);
  g_test_add_func("/limits/available-env", test_available_env);
  g_test_add_func("/limits/quickstart-fits", test_quickstart_fits);
  return g_test_run();
}
