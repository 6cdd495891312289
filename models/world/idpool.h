/* Pools of fixed-size records addressed by generation-checked ids: messages in flight,
 * pending requests, AV batches, a role's procedure contexts. No allocation per record in
 * steady state, stable pointers, and the same ids in the same order on every run of a
 * seed (determinism).
 *
 * A pool hands out records from chunks that never move, reused through a LIFO free list.
 * Ids carry a generation: an id kept across time (a timeout event naming a pending
 * request, an answer that arrives after its request was given up) can be checked with
 * idpool_lookup(), which returns NULL once the record was released, even if its slot was
 * reused since. Id 0 is never used (POOL_NONE). */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

typedef struct IdPool IdPool;
typedef uint64_t PoolId; /* (generation << 32) | (slot + 1); 0 = none */

#define POOL_NONE ((PoolId)0)

/* A pool of records of `size` octets (rounded up to 8), zeroed when allocated. */
IdPool *idpool_new(size_t size);
void idpool_free(IdPool *pool);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(IdPool, idpool_free)

/* A new zeroed record; its pointer stays valid until released. */
PoolId idpool_alloc(IdPool *pool, void **record);

/* The record of a live id; NULL when the id was released (or never existed). */
void *idpool_lookup(IdPool *pool, PoolId id);

/* Prefetches the record of an id (reads only the pool's own chunk table). */
void idpool_prefetch(const IdPool *pool, PoolId id);

/* The record of an id that must be live (an invariant: aborts otherwise). */
void *idpool_get(IdPool *pool, PoolId id);

/* The id of a live record, from its pointer. */
PoolId idpool_id_of(const IdPool *pool, const void *record);

/* Releases a live record (aborts on a stale id: a double release is a model bug). */
void idpool_release(IdPool *pool, PoolId id);

/* Calls fn on every live record, in slot order (fn may release the record it is given). */
void idpool_foreach(IdPool *pool, void (*fn)(void *data, PoolId id, void *record), void *data);

/* Records live now, the most ever live at once, and heap octets held. */
size_t idpool_live(const IdPool *pool);
size_t idpool_peak(const IdPool *pool);
size_t idpool_memory(const IdPool *pool);
