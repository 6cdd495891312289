/* Memory limits of a run (see limits.h): an estimate from measured bytes per device,
 * compared with the smallest memory limit the process is under. Linux only reads
 * /proc and /sys; elsewhere the files are missing and only the rlimits count. */
#include "m2m/limits.h"
#include "m2m/world.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

G_DEFINE_QUARK(m2m - limits - error - quark, lim_error)

uint64_t
lim_device_bytes(const ScnConfig *cfg)
{
  return (uint64_t)(world_device_bytes(cfg) + 0.999) + LIM_DEVICE_OVERHEAD;
}

static uint64_t
sat_add(uint64_t a, uint64_t b)
{
  return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t
sat_mul(uint64_t a, uint64_t b)
{
  return b != 0 && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

uint64_t
lim_run_bytes(const ScnConfig *cfg)
{
  uint64_t devices = scn_config_total_devices(cfg);
  uint64_t need = sat_mul(devices, lim_device_bytes(cfg));
  /* The PIMSI pool keeps one bit per PIMSI (pool.c). */
  size_t n_ranges;
  const ScnPimsiPool *ranges = scn_config_ranges(cfg, &n_ranges);
  for (size_t i = 0; i < n_ranges; i++)
    need = sat_add(need, ranges[i].size / 8);
  return sat_add(need, LIM_FIXED_BYTES);
}

bool
lim_parse_meminfo(const char *text, uint64_t *bytes)
{
  for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
    if (strncmp(p, "MemAvailable:", 13) != 0)
      continue;
    char *end = NULL;
    errno = 0;
    unsigned long long kib = strtoull(p + 13, &end, 10);
    if (errno != 0 || end == p + 13)
      return false;
    while (*end == ' ')
      end++;
    if (strncmp(end, "kB", 2) != 0)
      return false;
    *bytes = sat_mul(kib, 1024);
    return true;
  }
  return false;
}

bool
lim_parse_size(const char *text, uint64_t *bytes)
{
  if (text == NULL || *text < '0' || *text > '9')
    return false;
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(text, &end, 10);
  if (errno != 0)
    return false;
  unsigned shift = 0;
  switch (*end) {
  case '\0':
    break;
  case 'k':
  case 'K':
    shift = 10;
    break;
  case 'M':
    shift = 20;
    break;
  case 'G':
    shift = 30;
    break;
  case 'T':
    shift = 40;
    break;
  default:
    return false;
  }
  if (shift != 0) {
    end++;
    if (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0)
      end += strlen(end);
  }
  if (*end != '\0' || v > (UINT64_MAX >> shift))
    return false;
  *bytes = (uint64_t)v << shift;
  return true;
}

/* Reads a small text file (NULL if it cannot be read). */
static char *
read_text(const char *path)
{
  char *text = NULL;
  return g_file_get_contents(path, &text, NULL, NULL) ? text : NULL;
}

/* cgroup v2: memory.max - memory.current of the cgroup named in /proc/self/cgroup. */
static bool
cgroup_available(uint64_t *bytes)
{
  g_autofree char *self = read_text("/proc/self/cgroup");
  if (self == NULL)
    return false;
  const char *line = strstr(self, "0::");
  if (line == NULL || (line != self && line[-1] != '\n'))
    return false;
  g_autofree char *rel = g_strndup(line + 3, strcspn(line + 3, "\n"));
  g_autofree char *max_path = g_build_filename("/sys/fs/cgroup", rel, "memory.max", NULL);
  g_autofree char *cur_path = g_build_filename("/sys/fs/cgroup", rel, "memory.current", NULL);
  g_autofree char *max_s = read_text(max_path);
  g_autofree char *cur_s = read_text(cur_path);
  if (max_s == NULL || g_str_has_prefix(max_s, "max"))
    return false;
  uint64_t max = g_ascii_strtoull(max_s, NULL, 10);
  uint64_t cur = cur_s ? g_ascii_strtoull(cur_s, NULL, 10) : 0;
  *bytes = max > cur ? max - cur : 0;
  return true;
}

/* Octets this process maps now (first field of /proc/self/statm, in pages). */
static uint64_t
mapped_now(void)
{
  g_autofree char *statm = read_text("/proc/self/statm");
  long page = sysconf(_SC_PAGESIZE);
  return statm && page > 0 ? sat_mul(g_ascii_strtoull(statm, NULL, 10), (uint64_t)page) : 0;
}

static void
consider(LimMemory *out, uint64_t bytes, const char *source)
{
  if (bytes < out->bytes) {
    out->bytes = bytes;
    out->source = source;
  }
}

bool
lim_memory_available(LimMemory *out, GError **error)
{
  out->bytes = UINT64_MAX;
  out->source = "no known limit";
  uint64_t v = 0;
  g_autofree char *meminfo = read_text("/proc/meminfo");
  if (meminfo && lim_parse_meminfo(meminfo, &v))
    consider(out, v, "MemAvailable in /proc/meminfo");
  if (cgroup_available(&v))
    consider(out, v, "the cgroup's memory.max");
  static const struct {
    int resource;
    const char *name;
  } rl[] = {{RLIMIT_AS, "ulimit -v (RLIMIT_AS)"}, {RLIMIT_DATA, "ulimit -d (RLIMIT_DATA)"}};
  for (size_t i = 0; i < G_N_ELEMENTS(rl); i++) {
    struct rlimit r;
    if (getrlimit(rl[i].resource, &r) == 0 && r.rlim_cur != RLIM_INFINITY) {
      uint64_t used = mapped_now();
      consider(out, r.rlim_cur > used ? r.rlim_cur - used : 0, rl[i].name);
    }
  }
  const char *env = g_getenv("M2M_MEMORY_LIMIT");
  if (env != NULL) {
    if (!lim_parse_size(env, &v)) {
      g_set_error(error, LIM_ERROR, LIM_ERROR_SETTING,
                  "M2M_MEMORY_LIMIT='%s': expected a size in octets, or with a K, M, G or T "
                  "suffix (e.g. 8G)",
                  env);
      return false;
    }
    consider(out, v, "M2M_MEMORY_LIMIT");
  }
  return true;
}

/* "1.0 GiB", "512.0 MiB": one decimal, plain space, '.' whatever the locale. */
static char *
format_size(uint64_t bytes)
{
  static const char *const unit[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  double v = (double)bytes;
  size_t u = 0;
  while (v >= 1024 && u + 1 < G_N_ELEMENTS(unit)) {
    v /= 1024;
    u++;
  }
  if (u == 0)
    return g_strdup_printf("%" G_GUINT64_FORMAT " bytes", bytes);
  char num[G_ASCII_DTOSTR_BUF_SIZE];
  g_ascii_formatd(num, sizeof num, "%.1f", v);
  return g_strdup_printf("%s %s", num, unit[u]);
}

bool
lim_check(uint64_t devices, uint64_t per_device, uint64_t need, const LimMemory *avail,
          GError **error)
{
  if (need <= avail->bytes)
    return true;
  g_autofree char *need_s = format_size(need);
  g_autofree char *avail_s = format_size(avail->bytes);
  g_set_error(error, LIM_ERROR, LIM_ERROR_MEMORY,
              "needs about %s of memory (%" G_GUINT64_FORMAT " devices at about %" G_GUINT64_FORMAT
              " bytes each), more than the %s this process may use (%s); lower "
              "manufacturers[].devices or run on a machine with more memory",
              need_s, devices, per_device, avail_s, avail->source);
  return false;
}

bool
lim_check_run(const ScnConfig *cfg, GError **error)
{
  LimMemory avail;
  if (!lim_memory_available(&avail, error))
    return false;
  return lim_check(scn_config_total_devices(cfg), lim_device_bytes(cfg), lim_run_bytes(cfg), &avail,
                   error);
}
