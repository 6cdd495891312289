/* PIMSIs over several number ranges (see include/m2m/pools.h). */
#include "m2m/pools.h"

typedef struct {
  PimsiPool *pool;
  uint64_t offset; /* first index of this range in the index space */
  uint64_t span;   /* indices it may use: min(size, cap) */
} PoolsRange;

struct PimsiPools {
  PoolsRange *r;
  size_t n;
  PoolsPolicy policy;
  size_t next; /* round_robin: the range to try first */
  uint64_t n_index, refusals;
};

PimsiPools *
pools_new(size_t n, const Imsi *first, const uint64_t *size, int64_t quarantine, uint64_t cap,
          PoolsPolicy policy, GError **error)
{
  g_return_val_if_fail(n >= 1 && cap >= 1, NULL);
  g_autoptr(PimsiPools) p = g_new0(PimsiPools, 1);
  p->r = g_new0(PoolsRange, n);
  p->n = n;
  p->policy = policy;
  for (size_t i = 0; i < n; i++) {
    p->r[i].pool = pool_new(first[i], size[i], quarantine, error);
    if (p->r[i].pool == NULL) {
      if (n > 1)
        g_prefix_error(error, "range %zu: ", i);
      return NULL;
    }
    p->r[i].offset = p->n_index;
    p->r[i].span = MIN(size[i], cap);
    p->n_index += p->r[i].span;
  }
  return g_steal_pointer(&p);
}

void
pools_free(PimsiPools *p)
{
  if (p == NULL)
    return;
  for (size_t i = 0; i < p->n; i++)
    pool_free(p->r[i].pool);
  g_free(p->r);
  g_free(p);
}

size_t
pools_n_ranges(const PimsiPools *p)
{
  return p->n;
}

uint64_t
pools_n_index(const PimsiPools *p)
{
  return p->n_index;
}

const PimsiPool *
pools_range(const PimsiPools *p, size_t range)
{
  g_return_val_if_fail(range < p->n, NULL);
  return p->r[range].pool;
}

/* The range an index belongs to (ranges are few: a linear scan). */
static size_t
range_of(const PimsiPools *p, uint32_t index)
{
  size_t i = 0;
  while (i + 1 < p->n && index >= p->r[i + 1].offset)
    i++;
  return i;
}

void
pools_advance(PimsiPools *p, int64_t now)
{
  for (size_t i = 0; i < p->n; i++)
    pool_advance(p->r[i].pool, now);
}

bool
pools_alloc(PimsiPools *p, int64_t now, uint32_t *index)
{
  for (size_t k = 0; k < p->n; k++) {
    size_t i = p->policy == POOLS_ROUND_ROBIN ? (p->next + k) % p->n : k;
    PoolsRange *r = &p->r[i];
    pool_advance(r->pool, now);
    if (pool_n_free(r->pool) == 0)
      continue;
    uint32_t local;
    if (!pool_alloc(r->pool, now, &local))
      g_assert_not_reached();
    /* fresh numbers go first and no range sees more than cap allocations of them */
    g_assert(local < r->span);
    *index = (uint32_t)(r->offset + local);
    p->next = (i + 1) % p->n;
    return true;
  }
  p->refusals++;
  return false;
}

bool
pools_release(PimsiPools *p, uint32_t index, int64_t now)
{
  size_t i = range_of(p, index);
  return pool_release(p->r[i].pool, (uint32_t)(index - p->r[i].offset), now);
}

Imsi
pools_imsi(const PimsiPools *p, uint32_t index)
{
  size_t i = range_of(p, index);
  return pool_imsi(p->r[i].pool, (uint32_t)(index - p->r[i].offset));
}

#define POOLS_SUM(name, call)                                                                      \
  uint64_t name(const PimsiPools *p)                                                               \
  {                                                                                                \
    uint64_t s = 0;                                                                                \
    for (size_t i = 0; i < p->n; i++)                                                              \
      s += call(p->r[i].pool);                                                                     \
    return s;                                                                                      \
  }

POOLS_SUM(pools_size, pool_size)
POOLS_SUM(pools_n_in_use, pool_n_in_use)
POOLS_SUM(pools_n_quarantined, pool_n_quarantined)
POOLS_SUM(pools_n_free, pool_n_free)
POOLS_SUM(pools_n_allocations, pool_n_allocations)
POOLS_SUM(pools_n_distinct, pool_n_distinct)

uint64_t
pools_n_refusals(const PimsiPools *p)
{
  return p->refusals;
}

int64_t
pools_quarantine_after(const PimsiPools *p, int64_t t)
{
  int64_t s = 0;
  for (size_t i = 0; i < p->n; i++)
    s += pool_quarantine_after(p->r[i].pool, t);
  return s;
}

size_t
pools_memory(const PimsiPools *p)
{
  size_t s = sizeof *p + p->n * sizeof(PoolsRange);
  for (size_t i = 0; i < p->n; i++)
    s += pool_memory(p->r[i].pool);
  return s;
}
