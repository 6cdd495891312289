/* Student t confidence intervals: t quantiles against published table values (to the
 * digits tables give), symmetry and the normal limit, and the summary of small samples
 * worked by hand. */
#include <math.h>

#include <glib.h>

#include "m2m/ci.h"

static void
test_t_quantile_table(void)
{
  /* Two-sided 95% (p = 0.975) and 99% (p = 0.995) critical values, e.g. NIST/SEMATECH
   * e-Handbook 1.3.6.7.2. */
  static const struct {
    double p, df, t;
  } table[] = {
      {0.975, 1, 12.706204736}, {0.975, 2, 4.302652730},  {0.975, 3, 3.182446305},
      {0.975, 4, 2.776445105},  {0.975, 5, 2.570581836},  {0.975, 9, 2.262157163},
      {0.975, 10, 2.228138852}, {0.975, 30, 2.042272456}, {0.975, 100, 1.983971519},
      {0.995, 1, 63.656741163}, {0.995, 5, 4.032142984},  {0.95, 7, 1.894578605},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
    double t = ci_t_quantile(table[i].p, table[i].df);
    g_assert_cmpfloat_with_epsilon(t, table[i].t, 1e-8 * table[i].t);
    g_assert_cmpfloat_with_epsilon(ci_t_cdf(t, table[i].df), table[i].p, 1e-12);
  }
}

static void
test_t_symmetry_and_limits(void)
{
  g_assert_cmpfloat_with_epsilon(ci_t_quantile(0.025, 6), -ci_t_quantile(0.975, 6), 1e-12);
  g_assert_cmpfloat_with_epsilon(ci_t_cdf(0, 3), 0.5, 1e-15);
  /* Large df tends to the normal quantile 1.959963985. */
  g_assert_cmpfloat_with_epsilon(ci_t_quantile(0.975, 1e7), 1.959963985, 1e-6);
  g_assert_true(isnan(ci_t_quantile(1.0, 3)));
  g_assert_true(isnan(ci_t_quantile(0.5, 0.5)));
  g_assert_true(isnan(ci_t_quantile(0.0, 3)));
}

static void
test_summarize(void)
{
  CiSummary s;
  const double v[] = {2, 4, 4, 4, 5, 5, 7, 9};
  ci_summarize(v, 8, 0.95, &s);
  g_assert_cmpuint(s.n, ==, 8);
  g_assert_cmpfloat_with_epsilon(s.mean, 5.0, 1e-12);
  /* Sample variance 32 / 7. */
  g_assert_cmpfloat_with_epsilon(s.sd, sqrt(32.0 / 7), 1e-12);
  g_assert_cmpfloat_with_epsilon(s.half_width, 2.364624252 * sqrt(32.0 / 7) / sqrt(8), 1e-8);

  /* Large offsets do not lose the spread (Welford). */
  const double big[] = {1e9 + 1, 1e9 + 2, 1e9 + 3};
  ci_summarize(big, 3, 0.95, &s);
  g_assert_cmpfloat_with_epsilon(s.sd, 1.0, 1e-9);

  ci_summarize(v, 1, 0.95, &s);
  g_assert_cmpfloat_with_epsilon(s.mean, 2.0, 1e-15);
  g_assert_true(isnan(s.half_width));
  ci_summarize(v, 0, 0.95, &s);
  g_assert_true(isnan(s.mean));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/ci/t-quantile-table", test_t_quantile_table);
  g_test_add_func("/ci/t-symmetry-limits", test_t_symmetry_and_limits);
  g_test_add_func("/ci/summarize", test_summarize);
  return g_test_run();
}
