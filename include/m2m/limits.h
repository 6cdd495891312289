/* Memory limits of a run: a scenario that cannot fit in the memory this process may use
 * (say 10^9 devices) is refused before anything is allocated, with the estimate and the
 * limit, instead of being killed by the kernel's OOM killer an hour later (Linux
 * overcommits: the world's calloc of its flat per-device arrays succeeds, and the pages
 * only fail when touched).
 *
 * The estimate is devices x bytes per device + the PIMSI pool's bitmap + a fixed part.
 * Bytes per device are the sizes of the roles' per-device tables for the scenario
 * (world_device_bytes: a device's row, its PIMSI record, spare AV slots, SHO bits), plus
 * LIM_DEVICE_OVERHEAD for what grows with the devices but is not a table row (pending
 * events, messages and sessions in flight, quantile samples, allocator slack), measured
 * with `m2msim bench world`: peak RSS per device minus the tables' bytes, with a margin
 * (README, "Hardening"). */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "m2m/scenario.h"

#define LIM_ERROR (lim_error_quark())
GQuark lim_error_quark(void);

typedef enum {
  LIM_ERROR_MEMORY,  /* the run needs more memory than this process may use */
  LIM_ERROR_SETTING, /* M2M_MEMORY_LIMIT is malformed */
} LimError;

/* Peak RSS per device beyond the tables' rows, in octets (measured: 80 at 1,000,000
 * devices; with margin). */
#define LIM_DEVICE_OVERHEAD 112
/* Memory a run needs whatever its size (engine, statistics, SQLite, libraries), octets. */
#define LIM_FIXED_BYTES (32 * 1024 * 1024)

/* Estimated peak memory per device for a run of cfg, octets. */
uint64_t lim_device_bytes(const ScnConfig *cfg);

/* Estimated peak memory of a run of `cfg`, octets (saturates at UINT64_MAX). */
uint64_t lim_run_bytes(const ScnConfig *cfg);

/* The memory this process may still use and where that figure comes from. */
typedef struct {
  uint64_t bytes;     /* UINT64_MAX when no limit is known */
  const char *source; /* static text, e.g. "MemAvailable in /proc/meminfo" */
} LimMemory;

/* The smallest of: MemAvailable (/proc/meminfo); the cgroup v2 memory.max minus
 * memory.current of this process's cgroup; the soft RLIMIT_AS and RLIMIT_DATA minus what
 * the process already maps; and $M2M_MEMORY_LIMIT (octets, or with a K, M, G or T suffix
 * meaning KiB ... TiB), a cap a user sets on a shared machine. Files that cannot be read
 * are skipped. False (LIM_ERROR_SETTING) only when M2M_MEMORY_LIMIT is malformed. */
bool lim_memory_available(LimMemory *out, GError **error);

/* Refuses (false, LIM_ERROR_MEMORY) a run of cfg whose estimate exceeds what
 * lim_memory_available() reports, with a message giving both:
 *   "needs about 597.5 GiB of memory (1000000000 devices at about 684 bytes each), more
 *    than the 1.0 GiB this process may use (M2M_MEMORY_LIMIT); ..." */
bool lim_check_run(const ScnConfig *cfg, GError **error);

/* The check itself, with the figures given (for tests). */
bool lim_check(uint64_t devices, uint64_t per_device, uint64_t need, const LimMemory *avail,
               GError **error);

/* Parses the MemAvailable line of /proc/meminfo text into octets; false if absent. */
bool lim_parse_meminfo(const char *text, uint64_t *bytes);

/* Parses a size as M2M_MEMORY_LIMIT takes it ("8589934592", "512M", "8G", "1T"). */
bool lim_parse_size(const char *text, uint64_t *bytes);
