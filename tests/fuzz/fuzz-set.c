/* Fuzz harness: `--set KEY.PATH=VALUE` overrides (scn_load_string with sets) on a fixed
 * valid scenario. The input is split into lines, one override each (at most 32), so the
 * fuzzer explores key paths (list indices, nested maps), values in flow YAML, and
 * overrides that fight each other. Same checks as fuzz-scenario: a readable refusal, or
 * parameters that load back. */
#include <string.h>

#include "fuzz.h"

const char fuzz_name[] = "set";

/* Every section present, so overrides can reach every key. */
static const char base[] =
  "name: base\n"
  "duration: 1d\n"
  "registration_service:\n"
  "  pimsi_pool: {mcc: \"001\", mnc: \"01\", size: 100}\n"
  "  av_service_time: {exponential: 2ms}\n"
  "visited_operators:\n"
  "  - {name: vo-a, share: 0.5}\n"
  "  - {name: vo-b, share: 0.5, accepts_pimsi: false}\n"
  "home_operators:\n"
  "  - {name: sho, share: 1.0}\n"
  "manufacturers:\n"
  "  - {name: m, devices: 10, production: {poisson: 10/h}}\n"
  "owners:\n"
  "  select_home_operator_after: {exponential: 1h}\n"
  "devices:\n"
  "  power_on_after: {exponential: 1h}\n"
  "  allowed_networks: [vo-a, vo-b]\n"
  "faults:\n"
  "  - {at: 1h, target: registration_service, down_for: 10min}\n"
  "output:\n"
  "  series_interval: 1h\n";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  g_autoptr(GPtrArray) sets = g_ptr_array_new_with_free_func(g_free);
  const char *p = (const char *)data, *end = p + size;
  while (p < end && sets->len < 32) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *stop = nl ? nl : end;
    /* A NUL cannot reach the command line: an override ends at the first one. */
    g_ptr_array_add(sets, g_strndup(p, (gsize)(stop - p)));
    p = nl ? nl + 1 : end;
  }
  g_ptr_array_add(sets, NULL);

  g_autoptr(GError) error = NULL;
  g_autoptr(ScnConfig) cfg =
    scn_load_string(base, "base.yaml", (const char *const *)sets->pdata, &error);
  /* A refusal may quote an override back as given: when that is not UTF-8, neither is the
   * message. The command line cannot pass such an override (GOption refuses it first). */
  gboolean utf8 = g_utf8_validate((const char *)data, (gssize)size, NULL);
  if (utf8 || cfg != NULL)
    fuzz_check_error(cfg != NULL, error);
  if (cfg != NULL)
    fuzz_check_params(cfg, base, strlen(base), (const char *const *)sets->pdata);
  return 0;
}
