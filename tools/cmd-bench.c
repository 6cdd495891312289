/* `m2msim bench NAME`: dispatch to one benchmark (bench-*.c). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct {
  const char *name;
  CliCommand fn;
  const char *summary;
} benches[] = {
    {"av", bench_av, "AVs per second: fast path, portable path, libosmocore"},
    {"engine", bench_engine, "PHOLD events per second and peak RSS"},
    {"world", bench_world, "whole provisioning world, end to end"},
    {"auth", bench_auth, "authentications per second: AKA and certificates"},
    {"crypto", bench_crypto, "key derivations and USIM packages per second: engine vs one-shot"},
};

int
cmd_bench(int argc, char **argv)
{
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    FILE *out = argc < 2 ? stderr : stdout;
    fprintf(out, "Usage: m2msim bench NAME [OPTIONS...]\n\nBenchmarks:\n");
    for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++)
      fprintf(out, "  %-7s %s\n", benches[i].name, benches[i].summary);
    return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
  }
  for (size_t i = 0; i < sizeof benches / sizeof benches[0]; i++)
    if (strcmp(argv[1], benches[i].name) == 0)
      return benches[i].fn(argc - 1, argv + 1);
  return cli_usage_error("bench", "unknown benchmark '%s' (av, engine, world, auth, crypto)",
                         argv[1]);
}
