/* Data files a scenario names (scenario-internal.h): production traces and empirical
 * distributions as small CSV files with a header row. Only what these two need: comma
 * separated fields, no quoting, blank lines and '#' comments skipped, values either plain
 * numbers (seconds, counts, probabilities) or durations as the scenario writes them. Every
 * problem names the file and its line. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "m2m/units.h"
#include "scenario-internal.h"

/* Largest data file accepted: ten million rows of a trace are about 100 MB. */
#define CSV_MAX_SIZE (256 * 1024 * 1024)
/* Most units a trace may make (its times take 8 octets each): a few day,count rows must
 * not ask for billions (found by fuzz-csv). */
#define CSV_MAX_UNITS 50000000

char *
scn_csv_resolve(const char *scenario_file, const char *path)
{
  if (g_path_is_absolute(path) || scenario_file == NULL)
    return g_strdup(path);
  g_autofree char *dir = g_path_get_dirname(scenario_file);
  if (strcmp(dir, ".") == 0)
    return g_strdup(path);
  return g_build_filename(dir, path, NULL);
}

/* A time: seconds as a plain number, or a duration ("90s", "2d"). */
static bool
csv_time(const char *text, SimTime *out)
{
  char *end = NULL;
  double s = g_ascii_strtod(text, &end);
  if (end != text && *end == '\0') {
    if (!(s >= 0) || s > 9e12)
      return false;
    *out = (SimTime)llround(s * (double)SIM_S);
    return true;
  }
  const char *why;
  return units_parse_duration(text, out, &why);
}

static bool
csv_count(const char *text, uint64_t *out)
{
  char *end = NULL;
  if (!g_ascii_isdigit(text[0]))
    return false;
  *out = g_ascii_strtoull(text, &end, 10);
  return *end == '\0' && *out < (1ULL << 40);
}

/* The rows after the header of `data` (len octets, named path in messages), split and
 * trimmed; *header gets the header's fields. NULL with *why on failure. */
static GPtrArray *
csv_rows(const char *path, const char *data, size_t len, char ***header, GArray *lines,
         char **why)
{
  if (len > CSV_MAX_SIZE || memchr(data, '\0', len) != NULL ||
      !g_utf8_validate(data, (gssize)len, NULL)) {
    *why = g_strdup_printf("%s: not a CSV text file (UTF-8, no NUL) of at most %d MiB", path,
                           CSV_MAX_SIZE / (1024 * 1024));
    return NULL;
  }
  g_autofree char *text = g_strndup(data, len);
  GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
  *header = NULL;
  unsigned line = 0;
  for (char *p = text, *next; p != NULL; p = next) {
    next = strchr(p, '\n');
    if (next)
      *next++ = '\0';
    line++;
    g_strstrip(p);
    if (*p == '\0' || *p == '#')
      continue;
    char **fields = g_strsplit(p, ",", -1);
    for (char **f = fields; *f; f++)
      g_strstrip(*f);
    if (*header == NULL) {
      *header = fields;
      continue;
    }
    g_ptr_array_add(rows, fields);
    g_array_append_val(lines, line);
  }
  if (*header == NULL) {
    *why = g_strdup_printf("%s: empty (expected a header row, then one row per value)", path);
    g_ptr_array_unref(rows);
    return NULL;
  }
  return rows;
}

static bool
header_is(char **h, const char *a, const char *b)
{
  return h[0] && strcmp(h[0], a) == 0 &&
         (b ? h[1] && strcmp(h[1], b) == 0 && h[2] == NULL : h[1] == NULL);
}

/* The file's contents; NULL with *why when it cannot be read. */
static char *
csv_file(const char *path, size_t *len, char **why)
{
  char *text = NULL;
  gsize n = 0;
  g_autoptr(GError) error = NULL;
  if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
    *why = g_strdup_printf("%s: no such file (a relative name is read from the scenario's "
                           "folder)",
                           path);
    return NULL;
  }
  if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
    *why = g_strdup_printf("%s: a directory, not a CSV file", path);
    return NULL;
  }
  if (!g_file_get_contents(path, &text, &n, &error)) {
    *why = g_strdup(error->message); /* names the file */
    return NULL;
  }
  *len = n;
  return text;
}

SimTime *
scn_csv_trace(const char *path, size_t *n, char **why)
{
  size_t len = 0;
  g_autofree char *text = csv_file(path, &len, why);
  return text ? scn_csv_trace_data(path, text, len, n, why) : NULL;
}

double *
scn_csv_empirical(const char *path, size_t *n, bool *cdf, char **why)
{
  size_t len = 0;
  g_autofree char *text = csv_file(path, &len, why);
  return text ? scn_csv_empirical_data(path, text, len, n, cdf, why) : NULL;
}

SimTime *
scn_csv_trace_data(const char *path, const char *data, size_t len, size_t *n, char **why)
{
  g_auto(GStrv) header = NULL;
  g_autoptr(GArray) lines = g_array_new(FALSE, FALSE, sizeof(unsigned));
  g_autoptr(GPtrArray) rows = csv_rows(path, data, len, &header, lines, why);
  if (rows == NULL)
    return NULL;
  bool times = header_is(header, "time", NULL), daily = header_is(header, "day", "count");
  if (!times && !daily) {
    *why = g_strdup_printf("%s: the header must be 'time' (one manufacture time per row) or "
                           "'day,count' (units made on each day)",
                           path);
    return NULL;
  }
  g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(SimTime));
  uint64_t last_day = 0;
  for (guint i = 0; i < rows->len; i++) {
    char **f = rows->pdata[i];
    unsigned line = g_array_index(lines, unsigned, i);
    if (g_strv_length(f) != (times ? 1u : 2u)) {
      *why = g_strdup_printf("%s:%u: expected %s", path, line, times ? "one time" : "day,count");
      return NULL;
    }
    if (times) {
      SimTime t;
      if (!csv_time(f[0], &t)) {
        *why = g_strdup_printf("%s:%u: expected a time (seconds, or a duration such as 90s or "
                               "2d), got '%s'",
                               path, line, f[0]);
        return NULL;
      }
      if (out->len > 0 && t < g_array_index(out, SimTime, out->len - 1)) {
        *why = g_strdup_printf("%s:%u: times must not decrease (a trace is sorted), got '%s' "
                               "after a later one",
                               path, line, f[0]);
        return NULL;
      }
      if (out->len >= CSV_MAX_UNITS) {
        *why = g_strdup_printf("%s:%u: more than %d units in one trace", path, line,
                               CSV_MAX_UNITS);
        return NULL;
      }
      g_array_append_val(out, t);
      continue;
    }
    uint64_t day, count;
    if (!csv_count(f[0], &day) || !csv_count(f[1], &count) || day > 1000000) {
      *why = g_strdup_printf("%s:%u: expected a day number (0 = the first day) and a count of "
                             "units, got '%s,%s'",
                             path, line, f[0], f[1]);
      return NULL;
    }
    if (i > 0 && day <= last_day) {
      *why = g_strdup_printf("%s:%u: days must increase, got day %s after day %" G_GUINT64_FORMAT,
                             path, line, f[0], last_day);
      return NULL;
    }
    last_day = day;
    if (count > CSV_MAX_UNITS - (uint64_t)out->len) {
      *why = g_strdup_printf("%s:%u: more than %d units in one trace", path, line,
                             CSV_MAX_UNITS);
      return NULL;
    }
    /* spread evenly over the day: unit k of n at day + (k + 1/2) / n */
    for (uint64_t k = 0; k < count; k++) {
      SimTime t = (SimTime)day * SIM_D + (SimTime)llround(((double)k + 0.5) / (double)count *
                                                          (double)SIM_D);
      g_array_append_val(out, t);
    }
  }
  if (out->len == 0) {
    *why = g_strdup_printf("%s: no units in the trace", path);
    return NULL;
  }
  *n = out->len;
  return (SimTime *)g_array_free(g_steal_pointer(&out), FALSE);
}

double *
scn_csv_empirical_data(const char *path, const char *data, size_t len, size_t *n, bool *cdf,
                       char **why)
{
  g_auto(GStrv) header = NULL;
  g_autoptr(GArray) lines = g_array_new(FALSE, FALSE, sizeof(unsigned));
  g_autoptr(GPtrArray) rows = csv_rows(path, data, len, &header, lines, why);
  if (rows == NULL)
    return NULL;
  bool samples = header_is(header, "value", NULL);
  *cdf = header_is(header, "value", "cdf");
  if (!samples && !*cdf) {
    *why = g_strdup_printf("%s: the header must be 'value' (one sample per row) or "
                           "'value,cdf' (points of the distribution function)",
                           path);
    return NULL;
  }
  /* samples: one value each; cdf: value, probability pairs */
  g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(double));
  for (guint i = 0; i < rows->len; i++) {
    char **f = rows->pdata[i];
    unsigned line = g_array_index(lines, unsigned, i);
    if (g_strv_length(f) != (*cdf ? 2u : 1u)) {
      *why = g_strdup_printf("%s:%u: expected %s", path, line, *cdf ? "value,cdf" : "one value");
      return NULL;
    }
    SimTime t;
    if (!csv_time(f[0], &t)) {
      *why = g_strdup_printf("%s:%u: expected a time (seconds, or a duration such as 90s or "
                             "2d), got '%s'",
                             path, line, f[0]);
      return NULL;
    }
    double us = (double)t;
    g_array_append_val(out, us);
    if (!*cdf)
      continue;
    char *end = NULL;
    double p = g_ascii_strtod(f[1], &end);
    size_t k = out->len; /* this pair: out[k-1] = value, out[k] = p */
    if (end == f[1] || *end != '\0' || !(p >= 0 && p <= 1)) {
      *why = g_strdup_printf("%s:%u: expected a probability from 0 to 1, got '%s'", path, line,
                             f[1]);
      return NULL;
    }
    if (k >= 3 && (us <= g_array_index(out, double, k - 3) || p < g_array_index(out, double, k - 2))) {
      *why = g_strdup_printf("%s:%u: a distribution function's values must increase and its "
                             "probabilities must not decrease",
                             path, line);
      return NULL;
    }
    g_array_append_val(out, p);
  }
  size_t rows_n = *cdf ? out->len / 2 : out->len;
  if (rows_n < (*cdf ? 2u : 1u)) {
    *why = g_strdup_printf("%s: %s", path,
                           *cdf ? "a distribution function needs at least two points"
                                : "no samples");
    return NULL;
  }
  if (*cdf && fabs(g_array_index(out, double, out->len - 1) - 1) > 1e-9) {
    *why = g_strdup_printf("%s: the last point's probability must be 1", path);
    return NULL;
  }
  *n = rows_n;
  return (double *)g_array_free(g_steal_pointer(&out), FALSE);
}
