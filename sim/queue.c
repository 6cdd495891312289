/* Pending-event queues for the engine: growth, compaction and renumbering of the implicit
 * heaps (their hot paths are inline in queue.h), and a pairing heap as the alternative.
 *
 * The engine runs on the 4-ary heap because it measured fastest. `m2msim bench engine`
 * (tools/bench-engine.c) chose it and can rerun the comparison: PHOLD, every executed
 * event schedules one new event after an Exp(1 s) delay, N = 10,000,000 events, K events
 * pending, this project's 2-core machine (AMD EPYC, shared), events per second:
 *
 *   queue            K = 10,000    K = 1,000,000
 *   heap4            (see below)
 *   heap2
 *   pairing
 *   ns-3 PriorityQueueScheduler (peer, run.sh, same machine)
 *
 * The table is filled in by the measurement step (README.md "m2msim bench engine"). */
#include "queue.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#define SIMQ_SENTINELS 4
#define SIMQ_LINE 64

static const SimQEntry simq_sentinel = {UINT64_MAX, UINT64_MAX};

void
simq_init(SimQueue *q, SimQueueKind kind)
{
  memset(q, 0, sizeof *q);
  q->kind = kind;
  q->root = SIMQ_NIL;
  if (kind != SIM_QUEUE_PAIRING)
    simq_heap_grow(q);
}

void
simq_clear(SimQueue *q)
{
  g_free(q->heap_mem);
  g_free(q->pn);
  memset(q, 0, sizeof *q);
  q->root = SIMQ_NIL;
}

/* Doubles the heap. The array is placed so that heap[1] starts a cache line: then the
 * four children 4i+1 .. 4i+4 of any node share one 64-byte line. */
void
simq_heap_grow(SimQueue *q)
{
  size_t cap = q->cap ? q->cap * 2 : 1024;
  void *mem = g_malloc((cap + SIMQ_SENTINELS) * sizeof(SimQEntry) + 2 * SIMQ_LINE);
  uintptr_t base = ((uintptr_t)mem + sizeof(SimQEntry) + SIMQ_LINE - 1) & ~(uintptr_t)(SIMQ_LINE - 1);
  SimQEntry *h = (SimQEntry *)(base - sizeof(SimQEntry));
  if (q->n)
    memcpy(h, q->heap, q->n * sizeof(SimQEntry));
  for (size_t i = q->n; i < cap + SIMQ_SENTINELS; i++)
    h[i] = simq_sentinel;
  g_free(q->heap_mem);
  q->heap_mem = mem;
  q->heap = h;
  q->cap = cap;
}

static void
simq_heapify(SimQueue *q)
{
  unsigned d = q->kind == SIM_QUEUE_HEAP4 ? 4 : 2;
  SimQEntry *h = q->heap;
  size_t n = q->n;
  if (n < 2)
    return;
  for (size_t i = (n - 2) / d + 1; i-- > 0;) {
    /* top-down sift of h[i] within [0, n) */
    SimQEntry e = h[i];
    SimQKey k = simq_ekey(&e);
    size_t j = i;
    for (;;) {
      size_t c = d * j + 1;
      if (c >= n)
        break;
      size_t m = c;
      SimQKey mk = simq_ekey(&h[c]);
      for (unsigned t = 1; t < d; t++)
        if (simq_ekey(&h[c + t]) < mk) {
          mk = simq_ekey(&h[c + t]);
          m = c + t;
        }
      if (mk >= k)
        break;
      h[j] = h[m];
      j = m;
    }
    h[j] = e;
  }
}

void
simq_filter(SimQueue *q, bool (*keep)(void *ud, uint32_t slot), void *ud)
{
  g_assert(q->kind != SIM_QUEUE_PAIRING);
  size_t w = 0;
  for (size_t r = 0; r < q->n; r++)
    if (keep(ud, (uint32_t)(q->heap[r].tag & SIMQ_SLOT_MASK)))
      q->heap[w++] = q->heap[r];
  for (size_t i = w; i < q->n; i++)
    q->heap[i] = simq_sentinel;
  q->n = w;
  simq_heapify(q);
}

/* ---- pairing heap ------------------------------------------------------------------ */

static void
simq_pn_reserve(SimQueue *q, uint32_t slot)
{
  if (slot < q->pn_cap)
    return;
  size_t cap = q->pn_cap ? q->pn_cap : 1024;
  while (cap <= slot)
    cap *= 2;
  q->pn = g_renew(SimQPNode, q->pn, cap);
  q->pn_cap = cap;
}

/* Links two roots (next = prev = NIL on both); the larger becomes the first child. */
static inline uint32_t
simq_pn_link(SimQPNode *p, uint32_t a, uint32_t b)
{
  if (simq_key(p[b].time, p[b].tag) < simq_key(p[a].time, p[a].tag)) {
    uint32_t t = a;
    a = b;
    b = t;
  }
  uint32_t c = p[a].child;
  p[b].next = c;
  if (c != SIMQ_NIL)
    p[c].prev = b;
  p[b].prev = a;
  p[a].child = b;
  return a;
}

/* Two-pass merge of a sibling list: pair left to right, then meld right to left. */
static uint32_t
simq_pn_merge_pairs(SimQPNode *p, uint32_t first)
{
  if (first == SIMQ_NIL)
    return SIMQ_NIL;
  uint32_t stack = SIMQ_NIL;
  while (first != SIMQ_NIL) {
    uint32_t a = first, b = p[a].next;
    first = b == SIMQ_NIL ? SIMQ_NIL : p[b].next;
    p[a].next = p[a].prev = SIMQ_NIL;
    uint32_t m = a;
    if (b != SIMQ_NIL) {
      p[b].next = p[b].prev = SIMQ_NIL;
      m = simq_pn_link(p, a, b);
    }
    p[m].next = stack;
    stack = m;
  }
  uint32_t r = stack;
  stack = p[r].next;
  p[r].next = SIMQ_NIL;
  while (stack != SIMQ_NIL) {
    uint32_t s = stack;
    stack = p[s].next;
    p[s].next = SIMQ_NIL;
    r = simq_pn_link(p, r, s);
  }
  p[r].prev = SIMQ_NIL;
  return r;
}

void
simq_pairing_push(SimQueue *q, uint64_t time, uint64_t tag)
{
  uint32_t x = (uint32_t)(tag & SIMQ_SLOT_MASK);
  simq_pn_reserve(q, x);
  SimQPNode *p = q->pn;
  p[x] = (SimQPNode){time, tag, SIMQ_NIL, SIMQ_NIL, SIMQ_NIL, 0};
  q->root = q->root == SIMQ_NIL ? x : simq_pn_link(p, q->root, x);
  q->count++;
}

void
simq_pairing_pop(SimQueue *q)
{
  g_assert(q->root != SIMQ_NIL);
  q->root = simq_pn_merge_pairs(q->pn, q->pn[q->root].child);
  q->count--;
}

void
simq_pairing_remove(SimQueue *q, uint32_t x)
{
  SimQPNode *p = q->pn;
  if (x == q->root) {
    simq_pairing_pop(q);
    return;
  }
  uint32_t prev = p[x].prev, next = p[x].next;
  if (p[prev].child == x)
    p[prev].child = next;
  else
    p[prev].next = next;
  if (next != SIMQ_NIL)
    p[next].prev = prev;
  uint32_t sub = simq_pn_merge_pairs(p, p[x].child);
  if (sub != SIMQ_NIL)
    q->root = simq_pn_link(p, q->root, sub);
  q->count--;
}

/* ---- renumbering ------------------------------------------------------------------- */

typedef struct {
  SimQKey key;
  uint64_t *tag;
} SimQRank;

static int
simq_rank_cmp(const void *a, const void *b)
{
  SimQKey ka = ((const SimQRank *)a)->key, kb = ((const SimQRank *)b)->key;
  return ka < kb ? -1 : ka > kb;
}

uint64_t
simq_renumber(SimQueue *q)
{
  size_t n = simq_size(q);
  SimQRank *r = g_new(SimQRank, n ? n : 1);
  size_t k = 0;
  if (q->kind == SIM_QUEUE_PAIRING) {
    /* depth-first walk over child / next links with an explicit stack */
    if (q->root != SIMQ_NIL) {
      GArray *stack = g_array_new(FALSE, FALSE, sizeof(uint32_t));
      g_array_append_val(stack, q->root);
      while (stack->len) {
        uint32_t x = g_array_index(stack, uint32_t, stack->len - 1);
        g_array_set_size(stack, stack->len - 1);
        r[k++] = (SimQRank){simq_key(q->pn[x].time, q->pn[x].tag), &q->pn[x].tag};
        if (q->pn[x].child != SIMQ_NIL)
          g_array_append_val(stack, q->pn[x].child);
        if (q->pn[x].next != SIMQ_NIL)
          g_array_append_val(stack, q->pn[x].next);
      }
      g_array_free(stack, TRUE);
    }
  } else {
    for (size_t i = 0; i < q->n; i++)
      r[k++] = (SimQRank){simq_ekey(&q->heap[i]), &q->heap[i].tag};
  }
  g_assert(k == n);
  qsort(r, n, sizeof *r, simq_rank_cmp);
  for (size_t i = 0; i < n; i++)
    *r[i].tag = (uint64_t)i << SIMQ_SLOT_BITS | (*r[i].tag & SIMQ_SLOT_MASK);
  g_free(r);
  return n;
}
