/* The pieces of `m2msim solve` that are pure decisions, testable without running a world:
 * the grid of candidate values of the parameter, the targets ("rs.av.wait_mean < 50ms")
 * and the verdict of a target on a candidate's replications, and the bisection over the
 * grid. The command (tools/cmd-solve.c) runs the replications.
 *
 * The search assumes every target is monotone in the parameter: once it holds at a
 * value, it holds at every larger one (smallest mode) or every smaller one (--max).
 *
 * Part of the engine: generic numerics and text, nothing about M2M. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

#include "m2m/ci.h"

#define SOLVE_ERROR (solve_error_quark())
GQuark solve_error_quark(void);

typedef enum {
  SOLVE_ERROR_RANGE,  /* a range or step that does not parse or is empty */
  SOLVE_ERROR_TARGET, /* a target that does not parse */
} SolveError;

/* ---- the grid of candidates ------------------------------------------------------- */

typedef enum {
  SOLVE_INTEGER,  /* whole numbers */
  SOLVE_REAL,     /* plain numbers */
  SOLVE_DURATION, /* "250ms", "2h": integer microseconds */
  SOLVE_RATE,     /* "500/d": events per second, written in the unit of the range's low end */
} SolveKind;

typedef struct SolveGrid SolveGrid;

/* The candidates lo, lo + step, ... up to hi (hi included when the steps land on it)
 * from range "LO..HI" (LO < HI, both of the kind) and step (NULL: 1 for integers, else
 * (HI - LO) / 100). At most 10^6 candidates. SOLVE_ERROR_RANGE naming what is wrong. */
SolveGrid *solve_grid_new(SolveKind kind, const char *range, const char *step, GError **error);
void solve_grid_free(SolveGrid *g);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SolveGrid, solve_grid_free)

size_t solve_grid_n(const SolveGrid *g);
/* Candidate i as the scenario would write it ("4", "90s", "500/d"). Caller frees. */
char *solve_grid_text(const SolveGrid *g, size_t i);
/* A canonical description ("2h..1d step 2h"): equal for the same candidates. Caller frees. */
char *solve_grid_describe(const SolveGrid *g);

/* ---- targets ---------------------------------------------------------------------- */

typedef enum { SOLVE_LT, SOLVE_LE, SOLVE_GT, SOLVE_GE } SolveOp;

typedef struct {
  char *metric;
  SolveOp op;
  double value; /* durations in seconds, rates per second, percentages as fractions */
  char *text;   /* the target as given, trimmed */
} SolveTarget;

/* Parses "METRIC OP VALUE" (blanks around OP optional): OP one of < <= > >=, VALUE a
 * number, a duration ("60s", "2h"; in seconds, as results store times), a rate ("100/s")
 * or a percentage ("90%"). SOLVE_ERROR_TARGET on anything else. */
bool solve_target_parse(const char *text, SolveTarget *out, GError **error);
void solve_target_clear(SolveTarget *t);

typedef enum {
  SOLVE_MET,       /* the interval lies wholly on the target's side of the threshold */
  SOLVE_MISSED,    /* wholly on the other side */
  SOLVE_UNDECIDED, /* it straddles the threshold (or too few replications to tell) */
} SolveVerdict;

const char *solve_verdict_name(SolveVerdict v);

/* The verdict of target t on a candidate's replications: `c` summarises the runs that
 * report the metric (c->n of them) and `absent` counts those that do not. A run that does
 * not report the metric counts as +infinity (a latency quantile the estimate does not
 * reach, a pool that is never exhausted); some absent and some not is undecided. One
 * replication never decides. When every run gives the same value (no spread, or all
 * absent) there is no interval: such a value off the target's side is missed, and on its
 * side met only from equal_min such runs on (n equal runs bound the chance of a differing
 * one only below 1 - 0.05^(1/n), about 3/n: 26 % at 10). */
#define SOLVE_EQUAL_MIN 10
SolveVerdict solve_verdict(const SolveTarget *t, const CiSummary *c, size_t absent,
                           size_t equal_min);

/* How many replications would decide target t, from what n replications showed: the
 * half-width shrinks as 1 / sqrt(n), so n (hw / |mean - threshold|)^2, at least n + 1;
 * equal runs ask for equal_min. */
size_t solve_replications_wanted(const SolveTarget *t, const CiSummary *c, size_t n,
                                 size_t equal_min);

/* ---- bisection -------------------------------------------------------------------- */

/* The search over grid indices 0 .. n-1. Ask solve_search_next() which candidate to
 * evaluate, tell it whether every target held there (an undecided candidate counts as
 * not holding), until it answers. */
typedef struct {
  size_t n;
  bool largest;           /* --max: the largest value that holds */
  long ok, bad;           /* indices known to hold / not to hold; -1 while unknown */
  bool tried_far, tried_near; /* the far end (hi, or lo for --max) and the near end */
} SolveSearch;

void solve_search_init(SolveSearch *s, size_t n, bool largest);
/* The next index to evaluate; false when the search is over, *answer then the index of
 * the answer or -1 for none in the range. */
bool solve_search_next(SolveSearch *s, size_t *index, long *answer);
void solve_search_tell(SolveSearch *s, size_t index, bool holds);
/* The candidate next to the answer on the failing side (just below it, or above with
 * --max), or -1 when the answer is the range's end. */
long solve_search_neighbour(const SolveSearch *s, long answer);
