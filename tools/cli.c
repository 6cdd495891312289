/* Option-parsing helpers shared by every subcommand. */
#include "cli.h"

#include <glib/gstdio.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "m2m/hex.h"

int
cli_usage_error(const char *cmd, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  fprintf(stderr, "m2msim %s: %s\n", cmd, msg);
  return CLI_EXIT_USAGE;
}

bool
cli_parse(const char *cmd, const char *params, const char *summary, const GOptionEntry *entries,
          int *argc, char ***argv)
{
  g_autoptr(GOptionContext) ctx = g_option_context_new(params);
  g_autoptr(GError) error = NULL;
  g_option_context_set_summary(ctx, summary);
  g_option_context_add_main_entries(ctx, entries, NULL);
  if (!g_option_context_parse(ctx, argc, argv, &error)) {
    cli_usage_error(cmd, "%s (see m2msim %s --help)", error->message, cmd);
    return false;
  }
  return true;
}

bool
cli_hex_arg(const char *cmd, const char *opt, const char *value, uint8_t *out, size_t len)
{
  if (value == NULL) {
    cli_usage_error(cmd, "missing --%s (%zu octets as %zu hex digits)", opt, len, 2 * len);
    return false;
  }
  size_t n = strlen(value);
  if (n % 2 != 0) {
    cli_usage_error(cmd, "--%s: odd number of hex digits (%zu); expected %zu", opt, n, 2 * len);
    return false;
  }
  if (n != 2 * len) {
    cli_usage_error(cmd, "--%s: %zu octets given; expected %zu (%zu hex digits)", opt, n / 2, len,
                    2 * len);
    return false;
  }
  if (!hex_decode(value, out, len)) {
    cli_usage_error(cmd, "--%s: not hexadecimal (only 0-9 a-f A-F)", opt);
    return false;
  }
  return true;
}

bool
cli_uint_arg(const char *cmd, const char *opt, const char *value, uint64_t max, uint64_t *out)
{
  char *end = NULL;
  if (value == NULL) {
    cli_usage_error(cmd, "missing --%s", opt);
    return false;
  }
  if (*value < '0' || *value > '9') {
    cli_usage_error(cmd, "--%s: expected a non-negative decimal integer, got '%s'", opt, value);
    return false;
  }
  errno = 0;
  unsigned long long v = strtoull(value, &end, 10);
  if (errno != 0 || *end != '\0' || v > max) {
    cli_usage_error(cmd, "--%s: '%s' is not an integer from 0 to %llu", opt, value,
                    (unsigned long long)max);
    return false;
  }
  *out = v;
  return true;
}

double
cli_now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

bool
cli_bench_seconds(const char *cmd, const char *params, const char *summary, const char *what,
                  int argc, char **argv, double *seconds)
{
  g_autofree char *value = NULL;
  const GOptionEntry entries[] = {
      {"seconds", 0, 0, G_OPTION_ARG_STRING, &value, what, "S"},
      {NULL},
  };
  if (!cli_parse(cmd, params, summary, entries, &argc, &argv))
    return false;
  if (argc > 1) {
    cli_usage_error(cmd, "unexpected argument '%s'", argv[1]);
    return false;
  }
  *seconds = 1.0;
  if (value == NULL)
    return true;
  char *end = NULL;
  double v = g_ascii_strtod(value, &end);
  if (end == value || *end != '\0' || !(v > 0 && v <= 3600)) {
    cli_usage_error(cmd, "--seconds: expected a number above 0 and at most 3600, got '%s'", value);
    return false;
  }
  *seconds = v;
  return true;
}

void
cli_remove_tree(const char *dir)
{
  GDir *d = g_dir_open(dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d)) != NULL) {
    g_autofree char *p = g_build_filename(dir, name, NULL);
    g_unlink(p);
  }
  if (d)
    g_dir_close(d);
  g_rmdir(dir);
}

void
cli_json_string(GString *out, const char *s)
{
  g_string_append_c(out, '"');
  for (const unsigned char *c = (const unsigned char *)s; c && *c; c++) {
    if (*c == '"' || *c == '\\')
      g_string_append_printf(out, "\\%c", *c);
    else if (*c < 0x20)
      g_string_append_printf(out, "\\u%04x", *c);
    else
      g_string_append_c(out, (char)*c);
  }
  g_string_append_c(out, '"');
}
