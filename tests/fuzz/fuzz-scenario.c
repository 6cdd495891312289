/* Fuzz harness: the scenario loader on arbitrary octets (scn_load_data).
 *
 * Beyond "no crash, no leak, no undefined behaviour", it checks what a user relies on:
 * a file is either accepted or refused with a readable message (fuzz_check_error), and
 * the effective parameters of an accepted file (scn_config_params, what `m2msim check
 * --params` prints and what results store) are themselves valid --set overrides that
 * reproduce the same configuration. */
#include "fuzz.h"
#include "m2m/scenario.h"

const char fuzz_name[] = "scenario";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(ScnConfig) cfg = scn_load_data((const char *)data, size, "fuzz.yaml", NULL, &error);
  fuzz_check_error(cfg != NULL, error);
  if (cfg == NULL)
    return 0;

  fuzz_check_params(cfg, (const char *)data, size, NULL);
  return 0;
}
