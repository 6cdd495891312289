/* Units, areas and formatting of figures for people (see human.h). */
#include "human.h"

#include "m2m/units.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

HumanUnit
human_unit(const char *n)
{
  if (strstr(n, "utilization"))
    return HUMAN_FRACTION;
  if (strstr(n, "rate_peak"))
    return HUMAN_RATE;
  /* times: latencies, waits, holds, moments ("exhausted_at") and *_s */
  if (strstr(n, "latency") || strstr(n, "wait_") || strstr(n, "hold_") ||
      g_str_has_suffix(n, "_at") || g_str_has_suffix(n, "_s") || strstr(n, "lifetime"))
    return HUMAN_SECONDS;
  return HUMAN_COUNT;
}

const char *const human_areas[] = {
  "Devices", "Provisioning latency", "Registration Service", "PIMSI pool", "Operators",
  "Authentication and certificates", "Engine", "Other", NULL,
};

const char *
human_area(const char *n)
{
  if (g_str_has_prefix(n, "provision."))
    return "Provisioning latency";
  if (g_str_has_prefix(n, "rs.pimsi."))
    return "PIMSI pool";
  if (g_str_has_prefix(n, "aka.") || strstr(n, "cert"))
    return "Authentication and certificates";
  if (g_str_has_prefix(n, "rs."))
    return "Registration Service";
  if (g_str_has_prefix(n, "vo.") || g_str_has_prefix(n, "sho."))
    return "Operators";
  if (g_str_has_prefix(n, "devices.") || g_str_has_prefix(n, "owner.") ||
      g_str_has_prefix(n, "manufacturer."))
    return "Devices";
  if (g_str_has_prefix(n, "engine."))
    return "Engine";
  return "Other";
}

void
human_time_scale(double max_s, const char **unit, double *seconds)
{
  static const struct {
    const char *name;
    double s, below; /* used while max_s is below this */
  } u[] = {{"µs", 1e-6, 1e-3}, {"ms", 1e-3, 1},     {"s", 1, 120},
           {"min", 60, 7200},  {"h", 3600, 172800}, {"d", 86400, INFINITY}};
  double m = fabs(max_s);
  size_t i = 0;
  if (m > 0)
    while (i + 1 < G_N_ELEMENTS(u) && !(m < u[i].below))
      i++;
  else
    i = 2; /* zero reads best as "0 s" */
  *unit = u[i].name;
  *seconds = u[i].s;
}

/* Appends a whole number exactly, grouped by thousands ("1,230,000"). */
static void
whole(GString *out, double v)
{
  char buf[64];
  g_snprintf(buf, sizeof buf, "%.0f", fabs(v));
  if (v < 0)
    g_string_append_c(out, '-');
  size_t len = strlen(buf);
  for (size_t i = 0; i < len; i++) {
    if (i > 0 && (len - i) % 3 == 0)
      g_string_append_c(out, ',');
    g_string_append_c(out, buf[i]);
  }
}

/* Appends v to `digits` significant digits, integers of 4 or more digits grouped by
 * thousands ("1,230,000"). */
static void
sig(GString *out, double v, int digits)
{
  if (!(fabs(v) > 0) || !isfinite(v)) {
    g_string_append_printf(out, "%g", v);
    return;
  }
  double mag = floor(log10(fabs(v)));
  if (mag < digits - 1 && mag > -7) {
    g_string_append_printf(out, "%.*f", (int)(digits - 1 - mag), v);
    /* "2.50" -> "2.5", "3.00" -> "3": trailing zeros say nothing here */
    if (strchr(out->str, '.') != NULL) {
      while (out->len > 0 && out->str[out->len - 1] == '0')
        g_string_truncate(out, out->len - 1);
      if (out->len > 0 && out->str[out->len - 1] == '.')
        g_string_truncate(out, out->len - 1);
    }
    return;
  }
  if (mag <= -7) {
    g_string_append_printf(out, "%.*e", digits - 1, v);
    return;
  }
  double scale = pow(10, mag - (digits - 1));
  whole(out, round(v / scale) * scale);
}

/* Appends the number part of v (and of hw when not NaN) in unit u, and the unit. */
static char *
format(double v, double hw, HumanUnit u)
{
  if (isnan(v))
    return g_strdup("–");
  GString *s = g_string_new(NULL);
  const char *unit = "";
  double div = 1;
  switch (u) {
  case HUMAN_SECONDS:
    human_time_scale(v, &unit, &div);
    break;
  case HUMAN_FRACTION:
    unit = "%";
    div = 0.01;
    break;
  case HUMAN_RATE:
    unit = "/s";
    break;
  case HUMAN_COUNT:
    break;
  }
  bool exact = u == HUMAN_COUNT && isnan(hw) && fabs(v) < 9e15 && !(v - floor(v) > 0);
  if (exact)
    whole(s, v);
  else
    sig(s, v / div, 3);
  if (hw > 0) { /* an interval of zero width (every replication equal) says nothing more */
    g_string_append(s, " ± ");
    sig(s, hw / div, 2);
  }
  if (*unit)
    g_string_append_printf(s, "%s%s", u == HUMAN_SECONDS ? " " : "", unit);
  return g_string_free(s, FALSE);
}

char *
human_value(double v, HumanUnit u)
{
  return format(v, NAN, u);
}

char *
human_interval(double mean, double half_width, HumanUnit u)
{
  return format(mean, half_width, u);
}

bool
human_param_number(const char *text, double *x, HumanUnit *unit)
{
  char *end = NULL;
  double v = g_ascii_strtod(text, &end);
  if (end != text && *end == '\0' && isfinite(v)) {
    *x = v;
    *unit = HUMAN_COUNT;
    return true;
  }
  SimTime t;
  const char *why;
  if (units_parse_duration(text, &t, &why)) {
    *x = sim_time_to_s(t);
    *unit = HUMAN_SECONDS;
    return true;
  }
  if (units_parse_rate(text, &v, &why)) {
    *x = v;
    *unit = HUMAN_RATE;
    return true;
  }
  return false;
}
