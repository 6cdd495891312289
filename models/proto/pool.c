/* The PIMSI pool: a range of IMSIs with O(1) allocate/release and a FIFO quarantine.
 *
 * State of index i: allocated <=> bit i of in_use is set. Otherwise it is either never
 * used (i >= next_fresh) or sits in the ring. The ring holds, from its head, first the
 * recycled free PIMSIs (n_recycled of them, oldest release first) and then the
 * quarantined ones (n_quarantined, with the time each becomes free, non-decreasing).
 * Leaving quarantine just moves the border between the two parts. With an infinite
 * quarantine released PIMSIs are only counted (n_retired): they never come back. */
#include "m2m/pool.h"

#include <string.h>

#define RING_MIN_CAP 64

struct _PimsiPool {
  Imsi first;             /* IMSI of index 0 */
  uint64_t first_msin;    /* its MSIN */
  uint64_t size;          /* PIMSIs in the range, <= POOL_MAX_SIZE */
  int64_t quarantine;     /* us from release to free again; POOL_NEVER = never */
  int64_t now;            /* latest time told, us */
  uint64_t next_fresh;    /* indices >= this were never allocated */
  uint64_t *in_use;       /* bitmap, size bits */
  uint32_t *ring_index;   /* ring of released PIMSIs: index */
  int64_t *ring_free_at;  /* ... and the time it is free again, us */
  uint64_t ring_cap;      /* slots in the ring arrays */
  uint64_t ring_head;     /* slot of the oldest recycled-free (or quarantined) entry */
  uint64_t n_recycled;    /* free entries at the ring head */
  uint64_t n_quarantined; /* quarantined entries after them */
  uint64_t n_retired;     /* released under an infinite quarantine */
  uint64_t n_in_use;
  uint64_t n_allocations;
  uint64_t n_refusals;
};

/* clang-format off */
G_DEFINE_QUARK(m2m-pool-error-quark, pool_error)
/* clang-format on */

static uint64_t
pow10u(unsigned n)
{
  uint64_t v = 1;
  while (n--)
    v *= 10;
  return v;
}

PimsiPool *
pool_new(Imsi first, uint64_t size, int64_t quarantine, GError **error)
{
  if (!imsi_is_valid(first)) {
    g_set_error(error, POOL_ERROR, POOL_ERROR_FIRST, "the first PIMSI of the pool is not set");
    return NULL;
  }
  char text[IMSI_SPLIT_STR_LEN];
  imsi_format_split(first, text);
  if (size == 0) {
    g_set_error(error, POOL_ERROR, POOL_ERROR_SIZE, "PIMSI pool from %s has size 0", text);
    return NULL;
  }
  uint64_t room = pow10u(imsi_msin_len(first)) - imsi_msin(first);
  if (size > room) {
    g_set_error(error, POOL_ERROR, POOL_ERROR_SIZE,
                "PIMSI pool of %" G_GUINT64_FORMAT " from %s does not fit: %u-digit MSINs "
                "leave room for %" G_GUINT64_FORMAT " from there",
                size, text, imsi_msin_len(first), room);
    return NULL;
  }
  if (size > POOL_MAX_SIZE) {
    g_set_error(error, POOL_ERROR, POOL_ERROR_SIZE,
                "PIMSI pool of %" G_GUINT64_FORMAT " is larger than the %" G_GUINT64_FORMAT
                " this implementation supports",
                size, POOL_MAX_SIZE);
    return NULL;
  }
  if (quarantine < 0) {
    g_set_error(error, POOL_ERROR, POOL_ERROR_QUARANTINE,
                "PIMSI quarantine of %" G_GINT64_FORMAT " us is negative", quarantine);
    return NULL;
  }
  uint64_t *bits = g_try_malloc0((size + 63) / 64 * sizeof(uint64_t));
  if (bits == NULL) {
    g_set_error(error, POOL_ERROR, POOL_ERROR_NO_MEMORY,
                "no memory for a PIMSI pool of %" G_GUINT64_FORMAT, size);
    return NULL;
  }
  PimsiPool *pool = g_new0(PimsiPool, 1);
  pool->first = first;
  pool->first_msin = imsi_msin(first);
  pool->size = size;
  pool->quarantine = quarantine;
  pool->in_use = bits;
  return pool;
}

void
pool_free(PimsiPool *pool)
{
  if (pool != NULL) {
    g_free(pool->in_use);
    g_free(pool->ring_index);
    g_free(pool->ring_free_at);
    g_free(pool);
  }
}

static uint64_t
ring_slot(const PimsiPool *pool, uint64_t k)
{
  uint64_t s = pool->ring_head + k;
  return s >= pool->ring_cap ? s - pool->ring_cap : s;
}

/* Doubles the ring (up to the pool size), unwrapping it to start at slot 0. */
static void
ring_grow(PimsiPool *pool)
{
  uint64_t n = pool->n_recycled + pool->n_quarantined;
  uint64_t cap = MAX(RING_MIN_CAP, 2 * pool->ring_cap);
  cap = MIN(cap, pool->size);
  g_assert(cap > n);
  uint32_t *idx = g_new(uint32_t, cap);
  int64_t *at = g_new(int64_t, cap);
  for (uint64_t k = 0; k < n; k++) {
    uint64_t s = ring_slot(pool, k);
    idx[k] = pool->ring_index[s];
    at[k] = pool->ring_free_at[s];
  }
  g_free(pool->ring_index);
  g_free(pool->ring_free_at);
  pool->ring_index = idx;
  pool->ring_free_at = at;
  pool->ring_cap = cap;
  pool->ring_head = 0;
}

static bool
bit_get(const PimsiPool *pool, uint64_t i)
{
  return (pool->in_use[i / 64] >> (i % 64)) & 1;
}

static void
bit_flip(PimsiPool *pool, uint64_t i)
{
  pool->in_use[i / 64] ^= UINT64_C(1) << (i % 64);
}

void
pool_advance(PimsiPool *pool, int64_t now)
{
  g_return_if_fail(pool != NULL);
  g_return_if_fail(now >= pool->now);
  pool->now = now;
  while (pool->n_quarantined > 0 && pool->ring_free_at[ring_slot(pool, pool->n_recycled)] <= now) {
    pool->n_recycled++;
    pool->n_quarantined--;
  }
}

bool
pool_alloc(PimsiPool *pool, int64_t now, uint32_t *index)
{
  g_return_val_if_fail(pool != NULL && index != NULL, false);
  g_return_val_if_fail(now >= pool->now, false);
  pool_advance(pool, now);
  uint64_t i;
  if (pool->next_fresh < pool->size) {
    i = pool->next_fresh++;
  } else if (pool->n_recycled > 0) {
    i = pool->ring_index[pool->ring_head];
    pool->ring_head = ring_slot(pool, 1);
    pool->n_recycled--;
  } else {
    pool->n_refusals++;
    return false;
  }
  g_assert(!bit_get(pool, i));
  bit_flip(pool, i);
  pool->n_in_use++;
  pool->n_allocations++;
  *index = (uint32_t)i;
  return true;
}

bool
pool_release(PimsiPool *pool, uint32_t index, int64_t now)
{
  g_return_val_if_fail(pool != NULL, false);
  g_return_val_if_fail(now >= pool->now, false);
  g_return_val_if_fail(index < pool->size, false);
  g_return_val_if_fail(bit_get(pool, index), false); /* never allocated or released twice */
  bit_flip(pool, index);
  pool->n_in_use--;
  pool->now = now;
  if (pool->quarantine == POOL_NEVER) {
    pool->n_retired++;
    return true;
  }
  int64_t free_at = now > POOL_NEVER - pool->quarantine ? POOL_NEVER : now + pool->quarantine;
  if (pool->n_recycled + pool->n_quarantined == pool->ring_cap)
    ring_grow(pool);
  uint64_t s = ring_slot(pool, pool->n_recycled + pool->n_quarantined);
  pool->ring_index[s] = index;
  pool->ring_free_at[s] = free_at;
  pool->n_quarantined++;
  /* A zero quarantine frees it at once, so the counters never show it quarantined. */
  pool_advance(pool, now);
  return true;
}

int64_t
pool_next_release_time(const PimsiPool *pool)
{
  g_return_val_if_fail(pool != NULL, POOL_NEVER);
  if (pool->n_quarantined == 0)
    return POOL_NEVER;
  return pool->ring_free_at[ring_slot(pool, pool->n_recycled)];
}

bool
pool_is_in_use(const PimsiPool *pool, uint32_t index)
{
  g_return_val_if_fail(pool != NULL, false);
  return index < pool->size && bit_get(pool, index);
}

uint64_t
pool_size(const PimsiPool *pool)
{
  return pool->size;
}

uint64_t
pool_n_in_use(const PimsiPool *pool)
{
  return pool->n_in_use;
}

int64_t
pool_quarantine_after(const PimsiPool *pool, int64_t t)
{
  g_return_val_if_fail(pool != NULL, 0);
  int64_t sum = 0;
  for (uint64_t k = pool->n_recycled; k < pool->n_recycled + pool->n_quarantined; k++) {
    int64_t at = pool->ring_free_at[ring_slot(pool, k)];
    if (at > t)
      sum += at - t;
  }
  return sum;
}

uint64_t
pool_n_quarantined(const PimsiPool *pool)
{
  return pool->n_quarantined + pool->n_retired;
}

uint64_t
pool_n_free(const PimsiPool *pool)
{
  return pool->size - pool->next_fresh + pool->n_recycled;
}

uint64_t
pool_n_distinct(const PimsiPool *pool)
{
  return pool->next_fresh;
}

uint64_t
pool_n_allocations(const PimsiPool *pool)
{
  return pool->n_allocations;
}

uint64_t
pool_n_refusals(const PimsiPool *pool)
{
  return pool->n_refusals;
}

int64_t
pool_quarantine(const PimsiPool *pool)
{
  return pool->quarantine;
}

size_t
pool_memory(const PimsiPool *pool)
{
  return sizeof *pool + (size_t)((pool->size + 63) / 64 * sizeof(uint64_t)) +
         (size_t)pool->ring_cap * (sizeof(uint32_t) + sizeof(int64_t));
}

Imsi
pool_imsi(const PimsiPool *pool, uint32_t index)
{
  g_return_val_if_fail(pool != NULL, IMSI_NONE);
  if (index >= pool->size)
    return IMSI_NONE;
  Imsi imsi = IMSI_NONE;
  Imsi f = pool->first;
  /* Cannot fail: the range was checked to fit when the pool was made. */
  if (!imsi_make(imsi_mcc(f), imsi_mnc(f), imsi_mnc_len(f), pool->first_msin + index,
                 imsi_msin_len(f), &imsi, NULL))
    g_assert_not_reached();
  return imsi;
}

bool
pool_index_of(const PimsiPool *pool, Imsi imsi, uint32_t *index)
{
  g_return_val_if_fail(pool != NULL && index != NULL, false);
  Imsi f = pool->first;
  if (!imsi_is_valid(imsi) || imsi_mcc(imsi) != imsi_mcc(f) || imsi_mnc(imsi) != imsi_mnc(f) ||
      imsi_mnc_len(imsi) != imsi_mnc_len(f) || imsi_msin_len(imsi) != imsi_msin_len(f))
    return false;
  uint64_t msin = imsi_msin(imsi);
  if (msin < pool->first_msin || msin - pool->first_msin >= pool->size)
    return false;
  *index = (uint32_t)(msin - pool->first_msin);
  return true;
}
