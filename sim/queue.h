/* Private to sim/: the pending-event priority queues behind SimEngine.
 *
 * A queue orders (time, seq, slot) triples: `time` is the event's SimTime (>= 0), `seq`
 * its insertion number (FIFO among equal times), `slot` its record in the engine's pool.
 * The engine owns the records (handler, ctx, arg, generation); a queue only orders slots.
 *
 * Heaps keep 16-byte entries {time, tag} with tag = seq << SIMQ_SLOT_BITS | slot, and
 * compare them as one unsigned 128-bit integer: no indirection and no branch on a field
 * in the comparison. Heaps cancel lazily (the engine marks the record and drops it when
 * it reaches the top, or compacts the queue when half of it is cancelled), so they need
 * no back-pointers from records to heap positions. The pairing heap keeps one node per
 * slot and cancels eagerly. seq has SIMQ_SEQ_BITS bits; when it runs out (after 6.8e10
 * insertions) the engine renumbers the pending entries by rank, which keeps their order
 * and therefore every structure's shape.
 *
 * The calendar queue (the default; Brown, CACM 31(10), 1988, with the far future in an
 * unsorted overflow as in Tang, Goh and Thng's ladder queue, ACM TOMACS 15(3), 2005)
 * appends each entry to the bucket of its time, unsorted, and orders only the bucket
 * being consumed, in a small 4-ary heap (so ties stay FIFO and a badly sized bucket
 * degrades to a heap, not to a list). It touches one bucket tail per insert where a heap
 * touches log n lines, and it prefetches the engine's records of the bucket it loads.
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

/* An implicit d-ary heap: h[0] is the root; h[n .. n + 7] hold sentinels (all ones), so
 * a child group can be scanned without a bound check. */
typedef struct {
  SimQEntry *h;
  void *mem;     /* allocation behind h (h is offset for cache-line alignment) */
  size_t n, cap; /* entries, capacity excluding sentinels */
} SimQHeap;

/* A growable bucket of the calendar queue (unsorted). */
typedef struct {
  SimQEntry *e;
  uint32_t len, cap;
} SimQBucket;

typedef struct {
  SimQueueKind kind;
  SimQHeap heap; /* heap kinds; the calendar's bottom */
  /* pairing heap: nodes indexed by slot */
  SimQPNode *pn;
  size_t pn_cap;
  uint32_t root;
  size_t count;
  /* calendar: entries before bot_end are in `heap` (4-ary), bucket j >= cur holds
   * [base + j w, base + (j + 1) w), entries from cal_end = base + nb w on wait in
   * `over` until the buckets run out, then spread into new buckets */
  SimQBucket *bk;
  size_t nb, nb_cap, cur;
  uint64_t base, w, bot_end, cal_end;
  SimQBucket over;
  uint64_t over_min, over_max;
  /* since the last rebuild: entries pushed straight into the bottom heap (due before
   * the end of the bucket being consumed) and entries loaded from buckets */
  uint64_t direct, loaded;
  size_t bot_limit; /* a bottom heap this large is spread over new buckets (see queue.c) */
  /* the engine's records (slot_size bytes each): the calendar prefetches the records of a
   * bucket it loads, so they are in cache when their events run */
  const char *slots;
  size_t slot_size;
  /* the engine's test for a lazily cancelled entry (and its release): the calendar drops
   * such entries when it loads a bucket, so they never pass through the bottom heap */
  bool (*keep)(void *ud, uint32_t slot);
  void *keep_ud;
  const uint64_t *keep_pending; /* the engine's count of such entries (none: no test) */
} SimQueue;

void simq_init(SimQueue *q, SimQueueKind kind);
void simq_clear(SimQueue *q);
void simq_heap_grow(SimQHeap *hp);

/* Cache-line aligned memory; from 2 MiB up, huge-page aligned and advised as huge pages.
 * Free with free(). */
void *simq_alloc_big(size_t bytes);

/* Pairing heap (queue.c). */
void simq_pairing_push(SimQueue *q, uint64_t time, uint64_t tag);
void simq_pairing_pop(SimQueue *q);
void simq_pairing_remove(SimQueue *q, uint32_t slot);

/* Calendar queue (queue.c). */
void simq_cal_push(SimQueue *q, uint64_t time, uint64_t tag);
bool simq_cal_refill(SimQueue *q); /* loads the next bucket into the bottom heap */
void simq_cal_pop(SimQueue *q);
void simq_cal_replace_top(SimQueue *q, uint64_t time, uint64_t tag);

/* Lazy kinds only: keeps the entries whose slot satisfies keep() and rebuilds the heap in
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
  return q->kind == SIM_QUEUE_PAIRING || q->kind == SIM_QUEUE_CALENDAR ? q->count : q->heap.n;
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
    /* the grandchildren are d*d contiguous entries: fetch them while choosing the child */
    size_t g = d * c + 1;
    if (g < n)
      for (unsigned j = 0; j < d * d * sizeof(SimQEntry); j += 64)
        __builtin_prefetch((const char *)&h[g] + j);
    size_t m = simq_min_child(h, c, d); /* sentinels past n never win */
    h[i] = h[m];
    i = m;
  }
  simq_heap_sift_up(h, i, e, d);
}

static inline __attribute__((always_inline)) void
simq_heap_push(SimQHeap *hp, uint64_t time, uint64_t tag, unsigned d)
{
  if (hp->n == hp->cap)
    simq_heap_grow(hp);
  SimQEntry e = {time, tag};
  simq_heap_sift_up(hp->h, hp->n++, e, d);
}

static inline __attribute__((always_inline)) void
simq_heap_pop(SimQHeap *hp, unsigned d)
{
  SimQEntry *h = hp->h;
  size_t n = --hp->n;
  SimQEntry last = h[n];
  h[n] = (SimQEntry){UINT64_MAX, UINT64_MAX};
  if (n > 0)
    simq_heap_fill_root(h, n, last, d);
}

static inline __attribute__((always_inline)) void
simq_heap_replace_top(SimQHeap *hp, uint64_t time, uint64_t tag, unsigned d)
{
  simq_heap_fill_root(hp->h, hp->n, (SimQEntry){time, tag}, d);
}

/* Generic operations (switch on kind, predictable in a loop). */

static inline void
simq_push(SimQueue *q, uint64_t time, uint64_t seq, uint32_t slot)
{
  uint64_t tag = seq << SIMQ_SLOT_BITS | slot;
  switch (q->kind) {
  case SIM_QUEUE_HEAP4:
    simq_heap_push(&q->heap, time, tag, 4);
    break;
  case SIM_QUEUE_HEAP2:
    simq_heap_push(&q->heap, time, tag, 2);
    break;
  case SIM_QUEUE_HEAP8:
    simq_heap_push(&q->heap, time, tag, 8);
    break;
  case SIM_QUEUE_CALENDAR:
    simq_cal_push(q, time, tag);
    break;
  default:
    simq_pairing_push(q, time, tag);
    break;
  }
}

/* The smallest entry, or false when empty. (Not const: the calendar loads its next
 * bucket here.) */
static inline bool
simq_top(SimQueue *q, uint64_t *time, uint32_t *slot)
{
  if (q->kind == SIM_QUEUE_PAIRING) {
    if (q->root == SIMQ_NIL)
      return false;
    *time = q->pn[q->root].time;
    *slot = q->root;
    return true;
  }
  if (q->heap.n == 0 && (q->kind != SIM_QUEUE_CALENDAR || !simq_cal_refill(q)))
    return false;
  *time = q->heap.h[0].time;
  *slot = (uint32_t)(q->heap.h[0].tag & SIMQ_SLOT_MASK);
  return true;
}

/* The slot of the event most likely next after the top (the least of the root's children
 * of a 4-ary heap: exact unless the top's handler schedules earlier), for prefetching;
 * false when there is none or the structure cannot tell cheaply. */
static inline bool
simq_peek_next(const SimQueue *q, uint32_t *slot)
{
  if (q->kind != SIM_QUEUE_CALENDAR && q->kind != SIM_QUEUE_HEAP4)
    return false;
  const SimQHeap *hp = &q->heap;
  if (hp->n < 2)
    return false;
  size_t best = 1, last = hp->n < 5 ? hp->n - 1 : 4;
  for (size_t i = 2; i <= last; i++)
    if (simq_key(hp->h[i].time, hp->h[i].tag) < simq_key(hp->h[best].time, hp->h[best].tag))
      best = i;
  *slot = (uint32_t)(hp->h[best].tag & SIMQ_SLOT_MASK);
  return true;
}

/* Removes the top; simq_top() must have returned true just before. */
static inline void
simq_pop(SimQueue *q)
{
  switch (q->kind) {
  case SIM_QUEUE_HEAP4:
    simq_heap_pop(&q->heap, 4);
    break;
  case SIM_QUEUE_HEAP2:
    simq_heap_pop(&q->heap, 2);
    break;
  case SIM_QUEUE_HEAP8:
    simq_heap_pop(&q->heap, 8);
    break;
  case SIM_QUEUE_CALENDAR:
    simq_cal_pop(q);
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
    simq_heap_replace_top(&q->heap, time, tag, 4);
    break;
  case SIM_QUEUE_HEAP2:
    simq_heap_replace_top(&q->heap, time, tag, 2);
    break;
  case SIM_QUEUE_HEAP8:
    simq_heap_replace_top(&q->heap, time, tag, 8);
    break;
  case SIM_QUEUE_CALENDAR:
    simq_cal_replace_top(q, time, tag);
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
