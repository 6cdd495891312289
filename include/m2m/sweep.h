/* Sweep plans: a scenario, a grid of parameter values (axes from --vary or from the
 * scenario's `sweep:` section) and a number of replications, expanded into numbered
 * runs, each a `m2msim run` with its own --set values and seed. The plan is a pure
 * function of its inputs, so any run can be re-run alone, a sweep can resume, and the
 * same runs can be handed to GNU parallel or a Slurm array.
 *
 * Numbering: points in row-major order of the axes (the last axis varies fastest), and
 * run = point * replications + replication.
 *
 * Seeds: replication r of every point runs with seed sweep_seed(base, r), where base is
 * the scenario's seed (after --set / --seed). All points share their replications' seeds
 * on purpose: common random numbers (each entity's streams derive from the seed), so the
 * difference between two points reflects the parameter, not the luck of the draw. The
 * replications of one point are independent, which is what the confidence intervals
 * need. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#define SWEEP_ERROR (sweep_error_quark())
GQuark sweep_error_quark(void);

typedef enum {
  SWEEP_ERROR_SYNTAX,  /* a malformed --vary */
  SWEEP_ERROR_INVALID, /* a plan that cannot run: no axes, a bad key or value, ... */
} SweepError;

typedef struct SweepPlan SweepPlan;

/* Seed of replication r (0-based) derived from base: a SplitMix64 finaliser of
 * base + (r + 1) * golden gamma, shifted into 0 .. 2^63 - 1 (results store seeds as
 * signed SQLite integers). Distinct r give distinct, unrelated seeds. */
uint64_t sweep_seed(uint64_t base, uint64_t replication);

/* Splits "key.path=v1,v2,..." into the key and its values. Values are split at commas
 * outside brackets, braces and quotes, so flow YAML works ("k={exponential: 2ms},{constant:
 * 1s}"); values are trimmed of surrounding blanks. Refuses (SWEEP_ERROR_SYNTAX, the
 * message quoting the argument): no '=', an empty key, an empty value, unbalanced
 * brackets or quotes. *values is NULL-terminated; the caller frees both. */
bool sweep_parse_vary(const char *arg, char **key, char ***values, GError **error);

/* Builds a plan for the scenario at scenario_path with the fixed overrides `sets`
 * (NULL-terminated or NULL). `vary` (NULL-terminated or NULL) are --vary arguments; when
 * there are none, the scenario's `sweep:` axes are used. replications: 0 takes the
 * scenario's `sweep.replications` (1 without a sweep section). base_seed: used when
 * has_seed, else the scenario's seed. Loads the scenario once per grid point with that
 * point's values, so a bad key or value is reported before anything runs; the message is
 * the loader's, prefixed with the point. Errors: SCN_ERROR_* from loading (the file, a
 * --set), SWEEP_ERROR_SYNTAX, SWEEP_ERROR_INVALID (no axes anywhere, an axis given twice
 * or also in --set, varying `seed` -- use replications --, more than 10^7 runs). */
SweepPlan *sweep_plan_new(const char *scenario_path, const char *const *sets,
                          const char *const *vary, uint32_t replications, bool has_seed,
                          uint64_t base_seed, GError **error);
void sweep_plan_free(SweepPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SweepPlan, sweep_plan_free)

size_t sweep_plan_n_runs(const SweepPlan *plan);
size_t sweep_plan_n_points(const SweepPlan *plan);
uint32_t sweep_plan_replications(const SweepPlan *plan);
size_t sweep_plan_point(const SweepPlan *plan, size_t run);
uint32_t sweep_plan_replication(const SweepPlan *plan, size_t run);
uint64_t sweep_plan_seed(const SweepPlan *plan, size_t run);

/* Absolute path of the scenario file (what every run command names). */
const char *sweep_plan_scenario(const SweepPlan *plan);

/* "key=value, key2=value2" of a point (for messages). Caller frees. */
char *sweep_plan_point_label(const SweepPlan *plan, size_t point);

/* The argument vector of the run: {m2msim, "run", SCENARIO, "--seed", N, "--set", K=V...,
 * "-o", out, NULL}: the fixed --set values first, then the point's. Caller g_strfreev()s. */
char **sweep_plan_run_argv(const SweepPlan *plan, size_t run, const char *m2msim, const char *out);

/* The same as one POSIX shell command line, every word quoted (for job files). */
char *sweep_plan_run_command(const SweepPlan *plan, size_t run, const char *m2msim,
                             const char *out);

/* A canonical text describing the sweep (scenario path and SHA-256 of its text, base
 * seed, replications, fixed sets, axes): two invocations describe the same runs exactly
 * when their manifests are equal. */
char *sweep_plan_manifest(const SweepPlan *plan);
