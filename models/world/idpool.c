/* Id-checked record pools (see idpool.h).
 *
 * Layout: chunks of MSG_CHUNK records; each slot is a small header (generation, next
 * free slot) followed by the payload. Chunks are never moved or freed before the pool,
 * so record pointers stay valid while a record is live. Releasing bumps the slot's
 * generation, which invalidates every id naming the old record. */
#include "idpool.h"

#include <string.h>

enum { MSG_CHUNK = 4096 };

typedef struct {
  uint32_t gen;  /* generation of the record now (or last) in this slot; odd = live */
  uint32_t next; /* free list: next free slot + 1, 0 = end */
  uint32_t slot; /* this slot's index (idpool_id_of) */
  uint32_t pad;
} SlotHead;

struct IdPool {
  size_t size;        /* payload octets (multiple of 8) */
  size_t stride;      /* octets per slot: header + payload */
  GPtrArray *chunks;  /* of MSG_CHUNK * stride octets each */
  uint32_t n_slots;   /* slots handed out so far (high-water mark) */
  uint32_t free_head; /* first free slot + 1, 0 = none */
  size_t live, peak;
};

static inline SlotHead *
slot_head(const IdPool *pool, uint32_t slot)
{
  char *chunk = pool->chunks->pdata[slot / MSG_CHUNK];
  return (SlotHead *)(chunk + (size_t)(slot % MSG_CHUNK) * pool->stride);
}

IdPool *
idpool_new(size_t size)
{
  IdPool *pool = g_new0(IdPool, 1);
  pool->size = (size + 7) & ~(size_t)7;
  pool->stride = sizeof(SlotHead) + pool->size;
  pool->chunks = g_ptr_array_new_with_free_func(g_free);
  return pool;
}

void
idpool_free(IdPool *pool)
{
  if (pool != NULL) { /* NULL: a role kind without contexts */
    g_ptr_array_unref(pool->chunks);
    g_free(pool);
  }
}

PoolId
idpool_alloc(IdPool *pool, void **record)
{
  uint32_t slot;
  SlotHead *h;
  if (pool->free_head != 0) {
    slot = pool->free_head - 1;
    h = slot_head(pool, slot);
    pool->free_head = h->next;
  } else {
    g_assert(pool->n_slots < UINT32_MAX - 1);
    slot = pool->n_slots++;
    if (slot / MSG_CHUNK >= pool->chunks->len)
      g_ptr_array_add(pool->chunks, g_malloc0((size_t)MSG_CHUNK * pool->stride));
    h = slot_head(pool, slot);
    h->slot = slot;
  }
  h->gen++; /* even -> odd: live */
  h->next = 0;
  void *p = h + 1;
  memset(p, 0, pool->size);
  if (++pool->live > pool->peak)
    pool->peak = pool->live;
  *record = p;
  return ((PoolId)h->gen << 32) | (PoolId)(slot + 1);
}

void *
idpool_lookup(IdPool *pool, PoolId id)
{
  uint32_t slot1 = (uint32_t)id;
  if (slot1 == 0 || slot1 > pool->n_slots)
    return NULL;
  SlotHead *h = slot_head(pool, slot1 - 1);
  if (h->gen != (uint32_t)(id >> 32) || !(h->gen & 1))
    return NULL;
  return h + 1;
}

void
idpool_prefetch(const IdPool *pool, PoolId id)
{
  uint32_t slot1 = (uint32_t)id;
  if (slot1 != 0 && slot1 <= pool->n_slots)
    __builtin_prefetch(slot_head(pool, slot1 - 1));
}

void *
idpool_get(IdPool *pool, PoolId id)
{
  void *p = idpool_lookup(pool, id);
  if (G_UNLIKELY(p == NULL))
    g_error("record %#" G_GINT64_MODIFIER "x is not live", (guint64)id);
  return p;
}

PoolId
idpool_id_of(const IdPool *pool, const void *record)
{
  const SlotHead *h = (const SlotHead *)record - 1;
  g_assert(h->gen & 1);
  return ((PoolId)h->gen << 32) | (PoolId)(h->slot + 1);
}

void
idpool_release(IdPool *pool, PoolId id)
{
  if (G_UNLIKELY(idpool_lookup(pool, id) == NULL))
    g_error("release of record %#" G_GINT64_MODIFIER "x that is not live", (guint64)id);
  uint32_t slot = (uint32_t)id - 1;
  SlotHead *h = slot_head(pool, slot);
  h->gen++; /* odd -> even: free */
  h->next = pool->free_head;
  pool->free_head = slot + 1;
  pool->live--;
}

void
idpool_foreach(IdPool *pool, void (*fn)(void *data, PoolId id, void *record), void *data)
{
  for (uint32_t slot = 0; slot < pool->n_slots; slot++) {
    SlotHead *h = slot_head(pool, slot);
    if (h->gen & 1)
      fn(data, ((PoolId)h->gen << 32) | (PoolId)(slot + 1), h + 1);
  }
}

size_t
idpool_live(const IdPool *pool)
{
  return pool->live;
}

size_t
idpool_peak(const IdPool *pool)
{
  return pool->peak;
}

size_t
idpool_memory(const IdPool *pool)
{
  return sizeof *pool + pool->chunks->len * ((size_t)MSG_CHUNK * pool->stride + sizeof(void *));
}
