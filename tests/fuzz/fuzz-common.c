/* Checks shared by the harnesses (see fuzz.h). */
#include "fuzz.h"

#include <string.h>

void
fuzz_check_error(gboolean ok, const GError *error)
{
  if (ok) {
    g_assert_null(error);
    return;
  }
  g_assert_nonnull(error);
  g_assert_nonnull(error->message);
  size_t n = strlen(error->message);
  g_assert_cmpuint(n, >, 0);
  g_assert_true(g_utf8_validate(error->message, -1, NULL));
  g_assert_cmpint(error->message[n - 1], !=, '\n');
}

void
fuzz_check_params(const ScnConfig *cfg, const char *text, size_t len, const char *const *sets)
{
  g_autoptr(GPtrArray) params = scn_config_params(cfg);
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func(g_free);
  for (const char *const *s = sets; s && *s; s++)
    g_ptr_array_add(all, g_strdup(*s));
  for (guint i = 0; i < params->len; i++) {
    const ScnParam *p = params->pdata[i];
    g_assert_true(g_utf8_validate(p->key, -1, NULL));
    g_assert_true(g_utf8_validate(p->value, -1, NULL));
    g_ptr_array_add(all, g_strdup_printf("%s=%s", p->key, p->value));
  }
  g_ptr_array_add(all, NULL);

  g_autoptr(GError) error = NULL;
  g_autoptr(ScnConfig) again =
    scn_load_data(text, len, "fuzz.yaml", (const char *const *)all->pdata, &error);
  if (again == NULL)
    g_error("effective parameters do not load back as --set: %s", error->message);
  g_autoptr(GPtrArray) params2 = scn_config_params(again);
  g_assert_cmpuint(params2->len, ==, params->len);
  for (guint i = 0; i < params->len; i++) {
    const ScnParam *a = params->pdata[i], *b = params2->pdata[i];
    g_assert_cmpstr(a->key, ==, b->key);
    g_assert_cmpstr(a->value, ==, b->value);
  }
}
