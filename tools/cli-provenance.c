/* Where a run came from (cli.h): kept apart from cli.c because it includes the generated
 * commit header, which only the m2msim executable builds. */
#include "cli.h"

#include "m2m-commit.h"
#include "m2m-config.h"

static char *command_line;

void
cli_set_command_line(int argc, char **argv)
{
  GString *s = g_string_new(NULL);
  for (int i = 0; i < argc; i++) {
    g_autofree char *q = g_shell_quote(argv[i]);
    g_string_append_printf(s, "%s%s", i ? " " : "", q);
  }
  g_free(command_line);
  command_line = g_string_free(s, FALSE);
}

void
cli_provenance(ResProvenance *out)
{
  out->version = g_strdup(M2M_VERSION);
  out->git_commit = M2M_GIT_COMMIT[0] ? g_strdup(M2M_GIT_COMMIT) : NULL;
  out->command = g_strdup(command_line);
  out->host = g_strdup(g_get_host_name());
}

void
cli_provenance_clear(ResProvenance *p)
{
  g_clear_pointer(&p->version, g_free);
  g_clear_pointer(&p->git_commit, g_free);
  g_clear_pointer(&p->command, g_free);
  g_clear_pointer(&p->host, g_free);
}
