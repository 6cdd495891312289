/* Commands not built yet. Each refuses loudly (exit 2) rather than pretending to work;
 * a command moves out of this file into its own cmd-*.c when it is implemented. */
#include "cli.h"

#define NOT_YET(fn, name)                                                                        \
  int fn(int argc, char **argv)                                                                  \
  {                                                                                              \
    return cli_usage_error(name, "not available yet in this version of m2msim");                 \
  }

NOT_YET(bench_auth, "bench auth")
