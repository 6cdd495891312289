/* The Registration Service's PIMSIs over several number ranges (pool.h is one range):
 * ranges of different MCC / MNC or MSIN blocks, each its own PimsiPool with the same
 * quarantine, under one index space and one allocation policy. With one range it is
 * that range's pool, index for index.
 *
 * Index space: range i's local index l is offset_i + l, where offset_i adds up
 * min(size_j, cap) over the ranges before it and `cap` is the most allocations any range
 * can see from fresh numbers (the number of units that can ask: a range hands out its
 * fresh PIMSIs before it reuses one, pool.h). So a caller can keep one record per index
 * in an array of pools_n_index() entries, whatever the ranges' sizes.
 *
 * Policies: fill_first takes from the first range with a free PIMSI (a second range is a
 * reserve); round_robin starts each allocation at the range after the last one used
 * (numbers spread over the ranges). A registration is refused (counted once) only when
 * no range has a free PIMSI. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m2m/pool.h"

typedef enum { POOLS_FILL_FIRST, POOLS_ROUND_ROBIN } PoolsPolicy;

typedef struct PimsiPools PimsiPools;

/* n ranges (first[i], size[i]), cap as above (>= 1). Errors: those of pool_new, the
 * message naming the range ("range 2: ..."). */
PimsiPools *pools_new(size_t n, const Imsi *first, const uint64_t *size, int64_t quarantine,
                      uint64_t cap, PoolsPolicy policy, GError **error);
void pools_free(PimsiPools *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PimsiPools, pools_free)

size_t pools_n_ranges(const PimsiPools *p);
/* Records a caller needs: the size of the index space. */
uint64_t pools_n_index(const PimsiPools *p);
/* One range's own pool (for its figures). */
const PimsiPool *pools_range(const PimsiPools *p, size_t range);

void pools_advance(PimsiPools *p, int64_t now);
bool pools_alloc(PimsiPools *p, int64_t now, uint32_t *index);
bool pools_release(PimsiPools *p, uint32_t index, int64_t now);
Imsi pools_imsi(const PimsiPools *p, uint32_t index);

/* Totals over the ranges; refusals count registrations no range could serve. */
uint64_t pools_size(const PimsiPools *p);
uint64_t pools_n_in_use(const PimsiPools *p);
uint64_t pools_n_quarantined(const PimsiPools *p);
uint64_t pools_n_free(const PimsiPools *p);
uint64_t pools_n_allocations(const PimsiPools *p);
uint64_t pools_n_distinct(const PimsiPools *p);
uint64_t pools_n_refusals(const PimsiPools *p);
int64_t pools_quarantine_after(const PimsiPools *p, int64_t t);
size_t pools_memory(const PimsiPools *p);
