#include "testutil.h"

#include <stdarg.h>
#include <glib/gstdio.h>
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

void
tu_rm_rf(const char *path)
{
  if (g_file_test(path, G_FILE_TEST_IS_DIR) && !g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
    GDir *d = g_dir_open(path, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d)) != NULL) {
      g_autofree char *p = g_build_filename(path, name, NULL);
      tu_rm_rf(p);
    }
    if (d)
      g_dir_close(d);
    g_rmdir(path);
  } else {
    g_unlink(path);
  }
}

char *
tu_browser_dom(const char *path)
{
  g_autofree char *bin = g_find_program_in_path("chromium");
  if (bin == NULL)
    bin = g_find_program_in_path("chromium-browser");
  if (bin == NULL)
    g_error("headless Chromium not found: the report is checked in a real browser; install "
            "it with apt-get install chromium (tools/test.sh does)");
  g_autofree char *profile = g_dir_make_tmp("m2m-chromium-XXXXXX", NULL);
  g_autofree char *abs = g_canonicalize_filename(path, NULL);
  g_autofree char *uri = g_filename_to_uri(abs, NULL, NULL);
  g_autofree char *data_dir = g_strdup_printf("--user-data-dir=%s", profile);
  /* --no-sandbox: tests may run as root (CI), where Chromium's sandbox refuses to start. */
  const char *argv[] = {bin,          "--headless",     "--no-sandbox", "--disable-gpu",
                        "--no-first-run", data_dir, "--dump-dom",   uri, NULL};
  char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;
  g_autoptr(GError) error = NULL;
  bool ok = g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err,
                         &status, &error);
  tu_rm_rf(profile);
  if (!ok)
    g_error("cannot run %s: %s", bin, error->message);
  if (!g_spawn_check_wait_status(status, NULL) || out == NULL || strstr(out, "<body") == NULL)
    g_error("%s did not render %s:\n%s", bin, path, err);
  return out;
}
