/* Private to sim/: the pending-event priority queues behind SimEngine.
 *
 * A queue orders (time, seq, slot) triples: `time` is the event's SimTime (>= 0), `seq`
 * its insertion number (FIFO among equal times), `slot` its record in the engine's pool.
 * The engine owns the records (handler, ctx, arg, generation); a queue only orders slots.
 *
 * Heaps keep 16-byte entries {time, tag} with tag = seq << SIMQ_SLOT_BITS | slot, and
 * compare them as one unsigned 128-bit integer: no indirection and no branch on a field
 * in the comparison. Heaps cancel lazily (the engine marks the record and drops it when
 * it reaches the top, or compacts the heap when half of it is cancelled), so they need no
 * back-pointers from records to heap positions. The pairing heap keeps one node per slot
 * and cancels eagerly. seq has SIMQ_SEQ_BITS bits; when it runs out (after 6.8e10
 * insertions) the engine renumbers the pending entries by rank, which keeps their order
 * and therefore the heap shape.
 *
 * The heap operations are static inline so the engine's loop compiles them in place;
 * the cold paths and the pairing heap are in queue.c. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m2m/engine.h"

#define SIMQ_SLOT_BITS 28
#define SIMQ_MAX_SLOTS ((uint32_t)1 << SIMQ_SLOT_BITS) /* pending events at once */
#define SIMQ_SLOT_MASK ((uint64_t)SIMQ_MAX_SLOTS - 1)
#define SIMQ_SEQ_LIMIT ((uint64_t)1 << (64 - SIMQ_SLOT_BITS))
#define SIMQ_NIL UINT32_MAX

typedef unsigned __int128 SimQKey;

typedef struct {
  uint64_t time; /* us, as unsigned: events are never scheduled before 0 */
  uint64_t tag;  /* seq << SIMQ_SLOT_BITS | slot */
} SimQEntry;

typedef struct {
  uint64_t time, tag;         /* as in SimQEntry */
  uint32_t child, next, prev; /* first child, right sibling, left sibling or parent */
  uint32_t pad;
} SimQPNode;

typedef struct {
  SimQueueKind kind;
  /* heaps: heap[0] is the root; entries heap[n .. n + 4] hold sentinels (all ones), so a
   * child group can be scanned without a bound check. */
  SimQEntry *heap;
  void *heap_mem; /* allocation behind heap (heap is offset for cache-line alignment) */
  size_t n, cap;  /* entries, capacity excluding sentinels */
  /* pairing heap: nodes indexed by slot */
  SimQPNode *pn;
  size_t pn_cap;
  uint32_t root;
  size_t count;
} SimQueue;

void simq_init(SimQueue *q, SimQueueKind kind);
void simq_clear(SimQueue *q);
void simq_heap_grow(SimQueue *q);

/* Pairing heap (queue.c). */
void simq_pairing_push(SimQueue *q, uint64_t time, uint64_t tag);
void simq_pairing_pop(SimQueue *q);
void simq_pairing_remove(SimQueue *q, uint32_t slot);

/* Heaps only: keeps the entries whose slot satisfies keep() and rebuilds the heap in
 * O(n). keep() may have side effects (the engine frees the slots it drops). */
void simq_filter(SimQueue *q, bool (*keep)(void *ud, uint32_t slot), void *ud);

/* Reassigns seq = rank among the pending entries (order unchanged). Returns the number of
 * entries, which is the next free seq. */
uint64_t simq_renumber(SimQueue *q);

static inline SimQKey
simq_key(uint64_t time, uint64_t tag)
{
  return ((SimQKey)time << 64) | tag;
}

static inline SimQKey
simq_ekey(const SimQEntry *e)
{
  return simq_key(e->time, e->tag);
}

static inline size_t
simq_size(const SimQueue *q)
{
  return q->kind == SIM_QUEUE_PAIRING ? q->count : q->n;
}

/* d-ary heap, d a compile-time constant after inlining. */
static inline __attribute__((always_inline)) void
simq_heap_sift_up(SimQEntry *h, size_t i, SimQEntry e, unsigned d)
{
  SimQKey k = simq_ekey(&e);
  while (i > 0) {
    size_t p = (i - 1) / d;
    if (simq_ekey(&h[p]) <= k)
      break;
    h[i] = h[p];
    i = p;
  }
  h[i] = e;
}

/* Index of the smallest of h[c .. c + d - 1]; for d = 4 a two-round tournament (a
 * shorter dependency chain than a linear scan). */
static inline __attribute__((always_inline)) size_t
simq_min_child(const SimQEntry *h, size_t c, unsigned d)
{
  if (d == 4) {
    SimQKey k0 = simq_ekey(&h[c]), k1 = simq_ekey(&h[c + 1]);
    SimQKey k2 = simq_ekey(&h[c + 2]), k3 = simq_ekey(&h[c + 3]);
    size_t a = k1 < k0 ? c + 1 : c, b = k3 < k2 ? c + 3 : c + 2;
    SimQKey ka = k1 < k0 ? k1 : k0, kb = k3 < k2 ? k3 : k2;
    return kb < ka ? b : a;
  }
  size_t m = c;
  SimQKey mk = simq_ekey(&h[c]);
  for (unsigned j = 1; j < d; j++) {
    SimQKey kj = simq_ekey(&h[c + j]);
    if (kj < mk) {
      mk = kj;
      m = c + j;
    }
  }
  return m;
}

/* Fills the hole at the root with `e`: moves the hole down along the smallest children to
 * a leaf, then sifts e up from there (fewer comparisons than top-down when e is large,
 * as it is for both the last entry and a newly scheduled event). n includes e's place. */
static inline __attribute__((always_inline)) void
simq_heap_fill_root(SimQEntry *h, size_t n, SimQEntry e, unsigned d)
{
  size_t i = 0;
  for (;;) {
    size_t c = d * i + 1;
    if (c >= n)
      break;
    size_t m = simq_min_child(h, c, d); /* sentinels past n never win */
    h[i] = h[m];
    i = m;
  }
  simq_heap_sift_up(h, i, e, d);
}

static inline __attribute__((always_inline)) void
simq_heap_push(SimQueue *q, uint64_t time, uint64_t tag, unsigned d)
{
  if (q->n == q->cap)
    simq_heap_grow(q);
  SimQEntry e = {time, tag};
  simq_heap_sift_up(q->heap, q->n++, e, d);
}

static inline __attribute__((always_inline)) void
simq_heap_pop(SimQueue *q, unsigned d)
{
  SimQEntry *h = q->heap;
  size_t n = --q->n;
  SimQEntry last = h[n];
  h[n] = (SimQEntry){UINT64_MAX, UINT64_MAX};
  if (n > 0)
    simq_heap_fill_root(h, n, last, d);
}

static inline __attribute__((always_inline)) void
simq_heap_replace_top(SimQueue *q, uint64_t time, uint64_t tag, unsigned d)
{
  simq_heap_fill_root(q->heap, q->n, (SimQEntry){time, tag}, d);
}

/* Generic operations (switch on kind, predictable in a loop). */

static inline void
simq_push(SimQueue *q, uint64_t time, uint64_t seq, uint32_t slot)
{
  uint64_t tag = seq << SIMQ_SLOT_BITS | slot;
  switch (q->kind) {
  case SIM_QUEUE_HEAP4:
    simq_heap_push(q, time, tag, 4);
    break;
  case SIM_QUEUE_HEAP2:
    simq_heap_push(q, time, tag, 2);
    break;
  default:
    simq_pairing_push(q, time, tag);
    break;
  }
}

/* The smallest entry, or false when empty. */
static inline bool
simq_top(const SimQueue *q, uint64_t *time, uint32_t *slot)
{
  if (q->kind == SIM_QUEUE_PAIRING) {
    if (q->root == SIMQ_NIL)
      return false;
    *time = q->pn[q->root].time;
    *slot = q->root;
    return true;
  }
  if (q->n == 0)
    return false;
  *time = q->heap[0].time;
  *slot = (uint32_t)(q->heap[0].tag & SIMQ_SLOT_MASK);
  return true;
}

static inline void
simq_pop(SimQueue *q)
{
  switch (q->kind) {
  case SIM_QUEUE_HEAP4:
    simq_heap_pop(q, 4);
    break;
  case SIM_QUEUE_HEAP2:
    simq_heap_pop(q, 2);
    break;
  default:
    simq_pairing_pop(q);
    break;
  }
}

/* Pops the top and pushes a new entry, in one pass on heaps. The new entry must not be
 * smaller than the old top (true for any event scheduled at or after now). */
static inline void
simq_replace_top(SimQueue *q, uint64_t time, uint64_t seq, uint32_t slot)
{
  uint64_t tag = seq << SIMQ_SLOT_BITS | slot;
  switch (q->kind) {
  case SIM_QUEUE_HEAP4:
    simq_heap_replace_top(q, time, tag, 4);
    break;
  case SIM_QUEUE_HEAP2:
    simq_heap_replace_top(q, time, tag, 2);
    break;
  default:
    simq_pairing_pop(q);
    simq_pairing_push(q, time, tag);
    break;
  }
}

/* Hook for tests: makes the engine renumber after `limit` insertions instead of
 * SIMQ_SEQ_LIMIT, to exercise simq_renumber(). */
void sim_engine_set_seq_limit_for_tests(SimEngine *sim, uint64_t limit);
