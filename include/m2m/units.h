/* Parsing and formatting of the scenario's value syntax: durations ("250ms", "2h",
 * "0") and rates ("500/d", "800/s"). Shared by the scenario loader, the --set parser and
 * the command line. Units: us ms s min h d. */
#pragma once

#include <stdbool.h>
#include <glib.h>
#include "m2m/simtime.h"

/* Parses a duration such as "250ms", "1.5h" or "0" into microseconds. The number may be
 * fractional; the result is rounded to the nearest microsecond. Negative values, missing
 * units (except for a bare 0), unknown units, values that overflow and trailing junk are
 * refused with a message in *why (static string). */
bool units_parse_duration(const char *text, SimTime *out, const char **why);

/* Parses a rate "N/UNIT" (UNIT one of the duration units) into events per second.
 * Refuses zero, negative, non-finite and malformed rates. */
bool units_parse_rate(const char *text, double *per_s, const char **why);

/* Formats a duration with the largest unit that keeps it exact ("90s" -> "90s",
 * 3600000000 -> "1h", 1500 -> "1500us"). Returns buf. */
char *units_format_duration(SimTime t, char *buf, size_t len);
