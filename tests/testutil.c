#include "testutil.h"

#include <stdarg.h>
#include <string.h>

#include "m2m/hex.h"

char *
tu_vector_path(const char *name)
{
  const char *dir = g_getenv("M2M_VECTORS");
  g_assert_nonnull(dir);
  return g_build_filename(dir, name, NULL);
}

GPtrArray *
tu_read_tsv(const char *name)
{
  g_autofree char *path = tu_vector_path(name);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  if (!g_file_get_contents(path, &text, NULL, &error))
    g_error("cannot read %s: %s", path, error->message);
  GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  for (char **l = lines; *l; l++) {
    if (**l == '\0' || **l == '#')
      continue;
    g_ptr_array_add(rows, g_strsplit(*l, "\t", -1));
  }
  return rows;
}

void
tu_hex(const char *hex, uint8_t *out, size_t len)
{
  if (!hex_decode(hex, out, len))
    g_error("bad hex in test data: '%s' (want %zu octets)", hex, len);
}

int
tu_run_m2msimv(char **out, char **err, const char *const *args)
{
  const char *bin = g_getenv("M2MSIM");
  g_assert_nonnull(bin);
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_ptr_array_add(argv, (gpointer)bin);
  for (const char *const *a = args; *a; a++)
    g_ptr_array_add(argv, (gpointer)*a);
  g_ptr_array_add(argv, NULL);
  int status = 0;
  g_autoptr(GError) error = NULL;
  if (!g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, err,
                    &status, &error))
    g_error("cannot run %s: %s", bin, error->message);
  g_assert_true(WIFEXITED(status));
  return WEXITSTATUS(status);
}

int
tu_run_m2msim(char **out, char **err, const char *arg0, ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new();
  va_list ap;
  va_start(ap, arg0);
  for (const char *a = arg0; a; a = va_arg(ap, const char *))
    g_ptr_array_add(args, (gpointer)a);
  va_end(ap);
  g_ptr_array_add(args, NULL);
  return tu_run_m2msimv(out, err, (const char *const *)args->pdata);
}
