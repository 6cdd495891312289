/* Replays a harness's corpus (tests/fuzz/NAME/, every file) as a GTest program: the
 * regression side of fuzzing. A file that once crashed the harness is added to the
 * corpus, and this test then fails if the bug comes back, in every build (the plain one,
 * and build-asan with AddressSanitizer and UBSan). */
#include <glib.h>
#include <string.h>

#include "fuzz.h"

static void
replay_one(gconstpointer path)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr(GError) error = NULL;
  g_assert_true(g_file_get_contents(path, &data, &len, &error));
  g_assert_no_error(error);
  /* A copy of exactly len octets: ASan then catches a read past the input's end, as it
   * would under the fuzzer. */
  g_autofree uint8_t *copy = g_memdup2(data, len);
  g_assert_cmpint(LLVMFuzzerTestOneInput(copy, len), ==, 0);
}

static int
by_name(gconstpointer a, gconstpointer b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_autofree char *dir = g_test_build_filename(G_TEST_DIST, "fuzz", fuzz_name, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GDir) d = g_dir_open(dir, 0, &error);
  if (d == NULL)
    g_error("corpus %s: %s", dir, error->message);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  for (const char *n; (n = g_dir_read_name(d)) != NULL;)
    g_ptr_array_add(names, g_strdup(n));
  if (names->len == 0)
    g_error("corpus %s is empty", dir);
  g_ptr_array_sort(names, by_name);
  for (guint i = 0; i < names->len; i++) {
    g_autofree char *test = g_strdup_printf("/fuzz/%s/%s", fuzz_name, (char *)names->pdata[i]);
    g_test_add_data_func_full(test, g_build_filename(dir, names->pdata[i], NULL), replay_one,
                              g_free);
  }
  return g_test_run();
}
