/* Figures for people: the unit of a scalar from its name (the results contract: times in
 * seconds, utilisations as fractions, counts), the area of the world it describes, and
 * values written as a planner reads them: durations in the unit that fits (ms, s, min,
 * h, d), counts with thousands separators, three significant digits, an interval in the
 * unit of its mean. Used by `m2msim report`, its plots and `m2msim solve`. */
#pragma once

#include <glib.h>
#include <stdbool.h>

typedef enum {
  HUMAN_COUNT,    /* things: devices, requests, PIMSIs; their means */
  HUMAN_SECONDS,  /* a time (simulated, or wall time for *.wall_s) */
  HUMAN_FRACTION, /* a share of something (utilisation), shown as a percentage */
  HUMAN_RATE,     /* per second */
} HumanUnit;

HumanUnit human_unit(const char *scalar_name);

/* Which part of the world a scalar describes, for grouping tables ("Devices",
 * "Provisioning latency", "Registration Service", "PIMSI pool", "Operators",
 * "Authentication and certificates", "Engine"); static strings. human_areas lists them in
 * report order, NULL-terminated. */
const char *human_area(const char *scalar_name);
extern const char *const human_areas[];

/* "37.2 s", "2.21 h", "1,000", "80.2%", "1,520/s"; "–" for NaN. A count that is a whole
 * number is written exactly. Caller frees. */
char *human_value(double v, HumanUnit u);

/* mean ± half-width in the unit of the mean ("2.21 ± 0.13 h"); just the mean when the
 * half-width is NaN. Caller frees. */
char *human_interval(double mean, double half_width, HumanUnit u);

/* The time unit a set of times up to max_s (seconds) reads best in: its name ("h") and
 * its length in seconds (3600). */
void human_time_scale(double max_s, const char **unit, double *seconds);

/* A parameter value as the scenario writes it ("4", "2d", "500/d") as a number: plain
 * (HUMAN_COUNT), seconds or per second; false when it is none of those. */
bool human_param_number(const char *text, double *x, HumanUnit *unit);
