/* Durations and rates in the scenario syntax ("250ms", "500/d"). Parsed by hand rather
 * than with strtod alone so that "1e3s", "nan s", " 5s" and "5 s" are refused: a scenario
 * value means exactly one thing. */
#include "m2m/units.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const struct {
  const char *name;
  SimTime us;
} unit_table[] = {
  {"us", SIM_US}, {"ms", SIM_MS}, {"s", SIM_S}, {"min", SIM_MIN}, {"h", SIM_H}, {"d", SIM_D},
};

/* Reads an unsigned decimal number "123" or "12.5" at *p; advances *p. */
static bool
units_read_number(const char **p, double *out)
{
  const char *s = *p;
  double v = 0;
  int digits = 0;
  while (*s >= '0' && *s <= '9') {
    v = v * 10 + (*s++ - '0');
    digits++;
  }
  if (*s == '.') {
    double scale = 0.1;
    s++;
    while (*s >= '0' && *s <= '9') {
      v += (*s++ - '0') * scale;
      scale /= 10;
      digits++;
    }
  }
  if (digits == 0 || !isfinite(v))
    return false;
  *p = s;
  *out = v;
  return true;
}

static bool
units_lookup(const char *name, SimTime *us)
{
  for (size_t i = 0; i < G_N_ELEMENTS(unit_table); i++)
    if (strcmp(unit_table[i].name, name) == 0) {
      *us = unit_table[i].us;
      return true;
    }
  return false;
}

bool
units_parse_duration(const char *text, SimTime *out, const char **why)
{
  const char *p = text;
  double v;
  SimTime unit;
  if (text == NULL || *text == '\0') {
    *why = "empty duration (expected a number and a unit: us ms s min h d)";
    return false;
  }
  if (*p == '-') {
    *why = "negative duration (durations are >= 0)";
    return false;
  }
  if (!units_read_number(&p, &v)) {
    *why = "not a duration (expected a number and a unit such as 250ms, 30s, 2h, 1d)";
    return false;
  }
  if (*p == '\0') {
    if (!(v > 0)) { /* a bare 0 needs no unit */
      *out = 0;
      return true;
    }
    *why = "duration without a unit (use us ms s min h d, e.g. 30s)";
    return false;
  }
  if (!units_lookup(p, &unit)) {
    *why = "unknown duration unit (use us ms s min h d)";
    return false;
  }
  double us = v * (double)unit;
  if (us >= 9.2e18) {
    *why = "duration too long (at most about 292,000 years)";
    return false;
  }
  *out = (SimTime)llround(us);
  return true;
}

bool
units_parse_rate(const char *text, double *per_s, const char **why)
{
  const char *p = text;
  double v;
  SimTime unit;
  if (text == NULL || *text == '-') {
    *why = "negative rate (rates are > 0, e.g. 500/d)";
    return false;
  }
  if (!units_read_number(&p, &v) || *p != '/') {
    *why = "not a rate (expected N/UNIT such as 500/d or 800/s)";
    return false;
  }
  if (!units_lookup(p + 1, &unit)) {
    *why = "unknown rate unit (use /us /ms /s /min /h /d)";
    return false;
  }
  if (v <= 0) {
    *why = "rate must be greater than zero";
    return false;
  }
  *per_s = v * (double)SIM_S / (double)unit;
  return true;
}

char *
units_format_duration(SimTime t, char *buf, size_t len)
{
  const char *name = "us";
  SimTime div = 1;
  for (size_t i = G_N_ELEMENTS(unit_table); i-- > 0;)
    if (t != 0 && t % unit_table[i].us == 0) {
      name = unit_table[i].name;
      div = unit_table[i].us;
      break;
    }
  if (t == 0)
    snprintf(buf, len, "0");
  else
    snprintf(buf, len, "%lld%s", (long long)(t / div), name);
  return buf;
}
