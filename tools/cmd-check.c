/* `m2msim check FILE...`: validate scenario files without running them. Prints
 * "FILE: ok" on stdout per good file and every problem of a bad one on stderr, one per
 * line ("FILE:LINE:COLUMN: message"); exits 0 when all are good, 2 otherwise.
 * --params lists the effective parameters, which is how a user sees the defaults. */
#include <stdio.h>

#include "cli.h"
#include "m2m/scenario.h"

int
cmd_check(int argc, char **argv)
{
  g_auto(GStrv) sets = NULL;
  gboolean params = FALSE;
  const GOptionEntry entries[] = {
      {"params", 0, 0, G_OPTION_ARG_NONE, &params,
       "after 'FILE: ok', print every effective parameter (defaults included) as KEY=VALUE", NULL},
      {"set", 0, 0, G_OPTION_ARG_STRING_ARRAY, &sets,
       "override a key before checking, e.g. manufacturers.0.devices=5000 (repeatable)",
       "KEY.PATH=VALUE"},
      {NULL},
  };
  if (!cli_parse("check", "FILE...",
                 "Validates scenario files (see scenarios/README.md) without running them.",
                 entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (argc < 2)
    return cli_usage_error("check", "no scenario file given (m2msim check FILE...)");
  int status = CLI_EXIT_OK;
  for (int i = 1; i < argc; i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(ScnConfig) cfg = scn_load(argv[i], (const char *const *)sets, &error);
    if (cfg == NULL) {
      fprintf(stderr, "%s\n", error->message);
      status = CLI_EXIT_USAGE;
      continue;
    }
    printf("%s: ok\n", argv[i]);
    if (params) {
      g_autoptr(GPtrArray) list = scn_config_params(cfg);
      for (guint j = 0; j < list->len; j++) {
        const ScnParam *p = list->pdata[j];
        printf("%s=%s\n", p->key, p->value);
      }
    }
  }
  return status;
}
