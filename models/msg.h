/* Message records of the provisioning world: payloads that do not fit in an event's
 * 64-bit argument (AV batches, RAND || AUTN, RES, AUTS, sealed USIM packages,
 * registration replies) travel as records in a pool, and the event carries the
 * record's id. The sender allocates, the receiver releases; an entity that keeps a
 * record while it waits for an answer (a pending request with its timeout) releases it
 * when the answer or the timeout comes.
 *
 * A pool hands out fixed-size records from chunks that never move, reused through a
 * LIFO free list: no allocation per message in steady state, stable pointers, and the
 * same ids in the same order on every run of a seed (determinism).
 *
 * Ids carry a generation: a record id kept across time (a pending request named by a
 * timeout event, a reply that arrives after its request timed out) can be checked with
 * msg_lookup(), which returns NULL once the record was released, even if its slot was
 * reused since. Id 0 is never used (MSG_NONE). */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

typedef struct MsgPool MsgPool;
typedef uint64_t MsgId; /* (generation << 32) | (slot + 1); 0 = none */

#define MSG_NONE ((MsgId)0)

/* A pool of records of `size` octets (rounded up to 8), zeroed when allocated. */
MsgPool *msg_pool_new(size_t size);
void msg_pool_free(MsgPool *pool);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(MsgPool, msg_pool_free)

/* A new zeroed record; its pointer stays valid until released. */
MsgId msg_alloc(MsgPool *pool, void **record);

/* The record of a live id; NULL when the id was released (or never existed). */
void *msg_lookup(MsgPool *pool, MsgId id);

/* The record of an id that must be live (an invariant: aborts otherwise). */
void *msg_get(MsgPool *pool, MsgId id);

/* Releases a live record (aborts on a stale id: a double release is a model bug). */
void msg_release(MsgPool *pool, MsgId id);

/* Records live now, the most ever live at once, and heap octets held. */
size_t msg_pool_live(const MsgPool *pool);
size_t msg_pool_peak(const MsgPool *pool);
size_t msg_pool_memory(const MsgPool *pool);
