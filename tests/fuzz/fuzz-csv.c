/* Fuzz harness: the data files a scenario names (models/scenario/scenario-csv.c), read as
 * a production trace and as an empirical distribution. Either a refusal with a readable
 * one-line message naming the file, or data the samplers may trust: a trace sorted, a
 * distribution function's values increasing and its probabilities in [0, 1], not
 * decreasing, ending at 1. */
#include <string.h>

#include "fuzz.h"
#include "scenario-internal.h"

const char fuzz_name[] = "csv";

static void
check_why(char *why)
{
  g_assert_nonnull(why);
  g_assert_true(g_str_has_prefix(why, "data.csv"));
  g_assert_true(g_utf8_validate(why, -1, NULL));
  g_assert_null(strchr(why, '\n'));
  g_free(why);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *text = (const char *)data;
  char *why = NULL;
  size_t n = 0;
  g_autofree SimTime *t = scn_csv_trace_data("data.csv", text, size, &n, &why);
  if (t == NULL) {
    check_why(why);
  } else {
    g_assert_null(why);
    g_assert_cmpuint(n, >, 0);
    for (size_t i = 1; i < n; i++)
      g_assert_cmpint(t[i - 1], <=, t[i]);
  }
  why = NULL;
  bool cdf = false;
  g_autofree double *v = scn_csv_empirical_data("data.csv", text, size, &n, &cdf, &why);
  if (v == NULL) {
    check_why(why);
    return 0;
  }
  g_assert_null(why);
  g_assert_cmpuint(n, >, 0);
  if (cdf) {
    for (size_t i = 0; i < n; i++) {
      g_assert_cmpfloat(v[2 * i + 1], >=, 0);
      g_assert_cmpfloat(v[2 * i + 1], <=, 1);
      if (i > 0) {
        g_assert_cmpfloat(v[2 * i], >, v[2 * i - 2]);
        g_assert_cmpfloat(v[2 * i + 1], >=, v[2 * i - 1]);
      }
    }
    g_assert_cmpfloat(v[2 * n - 1], >, 1 - 1e-9);
  }
  for (size_t i = 0; i < (cdf ? 2 * n : n); i += cdf ? 2 : 1)
    g_assert_cmpfloat(v[i], >=, 0);
  return 0;
}
