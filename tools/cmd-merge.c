/* `m2msim merge PARTS... -o DB`: joins run databases (the parts of a sweep run by GNU
 * parallel or Slurm, or any runs of one scenario) into one, refusing duplicate runs and
 * runs of different scenarios. The output appears atomically (temporary file, rename). */
#include <stdio.h>

#include "cli.h"
#include "m2m/merge.h"

int
cmd_merge(int argc, char **argv)
{
  g_autofree char *out = NULL;
  const GOptionEntry entries[] = {
      {"output", 'o', 0, G_OPTION_ARG_FILENAME, &out, "merged results database to write (required)",
       "DB"},
      {NULL},
  };
  if (!cli_parse("merge", "PARTS...",
                 "Joins results databases of one scenario into DB, written atomically.\n"
                 "Refuses a run given twice (same scenario, seed and parameters) and runs of\n"
                 "different scenario texts.",
                 entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (out == NULL)
    return cli_usage_error("merge", "missing -o DB (the merged database to write)");
  if (argc < 2)
    return cli_usage_error("merge", "no results database given (m2msim merge PARTS... -o DB)");
  g_autoptr(GError) error = NULL;
  size_t n_runs = 0;
  if (!merge_files((const char *const *)argv + 1, (size_t)argc - 1, NULL, out, &n_runs, &error))
    return cli_usage_error("merge", "%s", error->message);
  printf("%s: %zu runs from %d databases\n", out, n_runs, argc - 1);
  return CLI_EXIT_OK;
}
