/* m2msim: the one executable. Dispatches `m2msim COMMAND ...` to its cmd_*() function;
 * each command parses its own options (with --help) and returns its exit status. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "m2m-config.h"

static const struct {
  const char *name;
  CliCommand fn;
  const char *summary;
} commands[] = {
    {"run", cmd_run, "run a scenario and write its results database"},
    {"check", cmd_check, "validate scenario files without running them"},
    {"sweep", cmd_sweep, "run a parameter grid x replications (resumable)"},
    {"solve", cmd_solve, "find the smallest (or largest) value meeting targets (resumable)"},
    {"merge", cmd_merge, "join run databases into one"},
    {"export", cmd_export, "write a results database as a CSV / JSON-lines table"},
    {"plot", cmd_plot, "draw a results database with gnuplot"},
    {"report", cmd_report, "write a self-contained HTML report of a results database"},
    {"av", cmd_av, "compute a MILENAGE authentication vector, or check an AUTS"},
    {"usim", cmd_usim, "play the USIM side of AKA on an AUTN"},
    {"bench", cmd_bench, "benchmarks: av, engine, world, auth"},
};

static void
usage(FILE *out)
{
  fprintf(out, "Usage: m2msim COMMAND [OPTIONS...]\n\n"
               "Discrete-event simulator of remote USIM provisioning for M2M equipment\n"
               "(3GPP TR 33.812 alternative 1) on the real protocol core.\n\nCommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\nm2msim COMMAND --help describes each command. m2msim --version prints the "
               "version.\n");
}

int
main(int argc, char **argv)
{
  cli_set_command_line(argc, argv);
  if (argc < 2) {
    usage(stderr);
    return CLI_EXIT_USAGE;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return CLI_EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("m2msim %s\n", M2M_VERSION);
    return CLI_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(argv[1], commands[i].name) == 0) {
      g_set_prgname(commands[i].name);
      return commands[i].fn(argc - 1, argv + 1);
    }
  fprintf(stderr, "m2msim: unknown command '%s' (m2msim --help lists them)\n", argv[1]);
  return CLI_EXIT_USAGE;
}
