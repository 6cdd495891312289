/* Durations and rates in the scenario syntax. */
#include <glib.h>

#include "m2m/units.h"
#include "testutil.h"

static void
test_durations(void)
{
  static const struct {
    const char *text;
    SimTime us;
  } good[] = {
    {"0", 0},          {"250ms", 250000},      {"30s", 30 * SIM_S}, {"5min", 300 * SIM_S},
    {"2h", 2 * SIM_H}, {"1d", 86400 * SIM_S},  {"1.5s", 1500000},   {"7us", 7},
    {"0s", 0},         {"36500d", 36500 * SIM_D},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
    SimTime t = -1;
    const char *why = NULL;
    g_assert_true(units_parse_duration(good[i].text, &t, &why));
    g_assert_cmpint(t, ==, good[i].us);
  }
  static const char *bad[] = {"", "-1s", "5", "5 s", "s", "1e3s", "3weeks", "1.s.", "nan",
                              "9999999999999d", ".s", "5S"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    SimTime t;
    const char *why = NULL;
    g_assert_false(units_parse_duration(bad[i], &t, &why));
    g_assert_nonnull(why);
  }
}

static void
test_rates(void)
{
  double r;
  const char *why;
  g_assert_true(units_parse_rate("500/d", &r, &why));
  g_assert_cmpfloat_with_epsilon(r, 500.0 / 86400, 1e-12);
  g_assert_true(units_parse_rate("800/s", &r, &why));
  g_assert_cmpfloat_with_epsilon(r, 800, 1e-12);
  g_assert_false(units_parse_rate("0/s", &r, &why));
  g_assert_false(units_parse_rate("-5/s", &r, &why));
  g_assert_false(units_parse_rate("5", &r, &why));
  g_assert_false(units_parse_rate("5/week", &r, &why));
}

static void
test_format(void)
{
  char buf[32];
  g_assert_cmpstr(units_format_duration(0, buf, sizeof buf), ==, "0");
  g_assert_cmpstr(units_format_duration(SIM_H, buf, sizeof buf), ==, "1h");
  g_assert_cmpstr(units_format_duration(90 * SIM_S, buf, sizeof buf), ==, "90s");
  g_assert_cmpstr(units_format_duration(1500, buf, sizeof buf), ==, "1500us");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/units/durations", test_durations);
  g_test_add_func("/units/rates", test_rates);
  g_test_add_func("/units/format", test_format);
  return g_test_run();
}
