/* Shared pieces of the m2msim command line: the subcommand signature, exit statuses and
 * option-parsing helpers, so every subcommand answers bad input the same way. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m2m/results.h"

/* Exit statuses every subcommand uses. */
enum {
  CLI_EXIT_OK = 0,
  CLI_EXIT_FAIL = 1,  /* the command ran and the answer is "no" (e.g. MAC-S mismatch) */
  CLI_EXIT_USAGE = 2, /* bad input: arguments, files, values */
};

typedef int (*CliCommand)(int argc, char **argv);

/* Prints "m2msim CMD: MESSAGE" on stderr and returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Parses options with GOptionContext; on failure prints one line and returns false.
 * `summary` is shown by --help. Leaves non-option arguments in argc/argv. */
/* Removes a directory this process made and the files in it (no subdirectories). */
void cli_remove_tree(const char *dir);

bool cli_parse(const char *cmd, const char *params, const char *summary,
               const GOptionEntry *entries, int *argc, char ***argv);

/* Decodes a required hex option of exactly `len` octets; prints a clear error naming the
 * option and returns false when it is missing, odd, not hex or of the wrong length. */
bool cli_hex_arg(const char *cmd, const char *opt, const char *value, uint8_t *out, size_t len);

/* Parses an unsigned decimal integer option (no sign, no junk) up to `max`. */
bool cli_uint_arg(const char *cmd, const char *opt, const char *value, uint64_t max, uint64_t *out);

/* Seconds on the monotonic clock, for benchmarks. */
double cli_now_s(void);

/* Appends s as a JSON string literal (quotes, backslashes and control characters escaped;
 * NULL as ""). */
void cli_json_string(GString *out, const char *s);

/* The command line of a bench whose only option is --seconds S, the measuring time per
 * workload (`what`, for --help): a number above 0 and at most 3600, default 1. False, the
 * error printed, on bad input (exit CLI_EXIT_USAGE). */
bool cli_bench_seconds(const char *cmd, const char *params, const char *summary, const char *what,
                       int argc, char **argv, double *seconds);

/* Remembers the process's whole command line (main calls it first) for provenance. */
void cli_set_command_line(int argc, char **argv);

/* This process's provenance for a run it writes: version, git commit of the build
 * (NULL outside a checkout), the command line, the host name. Caller frees with
 * cli_provenance_clear(). */
void cli_provenance(ResProvenance *out);
void cli_provenance_clear(ResProvenance *p);

/* Subcommands (one cmd-*.c each). */
int cmd_av(int argc, char **argv);
int cmd_usim(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_solve(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_report(int argc, char **argv);

/* Benchmarks (one bench-*.c each), dispatched by cmd_bench. */
int bench_av(int argc, char **argv);
int bench_engine(int argc, char **argv);
int bench_world(int argc, char **argv);
int bench_auth(int argc, char **argv);
int bench_crypto(int argc, char **argv);
