/* Pending-event queues for the engine: growth, compaction and renumbering of the implicit
 * heaps (their hot paths are inline in queue.h), the calendar queue, and a pairing heap.
 *
 * The engine runs on the calendar queue because it measured fastest. `m2msim bench
 * engine` (tools/bench-engine.c) chose it and reruns the comparison with --queue: PHOLD,
 * K events pending, every executed event schedules one new event after an Exp(1 s)
 * delay, N = 10,000,000 events; best of 3 runs per row, interleaved with the ns-3 peer
 * (tools/peers/ns3-phold/run.sh, Debian libns3-dev 3.37, --rng=fast) on this
 * project's 2-core AMD EPYC VM while other builds were running (so every figure is low
 * against a quiet machine; the ratios are what counts). Events per second, peak RSS:
 *
 *   queue                          K = 10,000          K = 1,000,000
 *   calendar (default)             17.6 M    6 MiB      7.09 M   101 MiB
 *   heap4 (4-ary, 16-byte keys)    10.8 M    6 MiB      2.05 M    57 MiB
 *   heap8                          10.3 M    6 MiB      2.00 M    57 MiB
 *   heap2 (binary)                 10.3 M    6 MiB      1.43 M    57 MiB
 *   pairing (eager cancel)          3.1 M    6 MiB      0.22 M    68 MiB
 *   ns-3 PriorityQueueScheduler     2.51 M              0.76 M
 *   calendar / ns-3                 7.0 x               9.3 x
 *
 * On a quieter moment of the same machine (N = 5,000,000) the calendar reached 24 M at
 * K = 10,000 and 9.6 M at K = 1,000,000; the brief's quiet-machine ns-3 figures are 4.4 M
 * and 1.75 M (4.0 x and 4.0 x against the loaded calendar figures above).
 * What made the difference at K = 10^6: per event a heap walks ~10 levels of a 16 MiB
 * array (one dependent cache miss per level below L2, plus the record of the event that
 * fires); the calendar appends to one bucket tail and loads each bucket's records with
 * prefetches, so it pays about one miss per event. */
#include "queue.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define SIMQ_SENTINELS 8
#define SIMQ_LINE 128               /* two lines: 8-ary groups fill one pair */
#define SIMQ_HUGE ((size_t)2 << 20) /* transparent huge page */

static const SimQEntry simq_sentinel = {UINT64_MAX, UINT64_MAX};

void
simq_init(SimQueue *q, SimQueueKind kind)
{
  memset(q, 0, sizeof *q);
  q->kind = kind;
  q->root = SIMQ_NIL;
  if (kind != SIM_QUEUE_PAIRING)
    simq_heap_grow(&q->heap);
}

void
simq_clear(SimQueue *q)
{
  free(q->heap.mem);
  g_free(q->pn);
  for (size_t i = 0; i < q->nb_cap; i++)
    g_free(q->bk[i].e);
  g_free(q->bk);
  g_free(q->over.e);
  memset(q, 0, sizeof *q);
  q->root = SIMQ_NIL;
}

void *
simq_alloc_big(size_t bytes)
{
  void *p = NULL;
  if (bytes >= SIMQ_HUGE) {
    bytes = (bytes + SIMQ_HUGE - 1) & ~(size_t)(SIMQ_HUGE - 1);
    if (posix_memalign(&p, SIMQ_HUGE, bytes) != 0)
      g_error("engine: out of memory (%zu bytes)", bytes);
#ifdef MADV_HUGEPAGE
    madvise(p, bytes, MADV_HUGEPAGE); /* a hint: fewer TLB misses on random access */
#endif
    return p;
  }
  if (posix_memalign(&p, SIMQ_LINE, bytes ? bytes : 1) != 0)
    g_error("engine: out of memory (%zu bytes)", bytes);
  return p;
}

/* Doubles the heap. The array is placed so that h[1] starts a 128-byte block: then the
 * children d i + 1 .. d i + d of any node share one line (d = 4) or one pair (d = 8). */
void
simq_heap_grow(SimQHeap *hp)
{
  size_t cap = hp->cap ? hp->cap * 2 : 1024;
  void *mem = simq_alloc_big((cap + SIMQ_SENTINELS) * sizeof(SimQEntry) + SIMQ_LINE);
  SimQEntry *h = (SimQEntry *)((char *)mem + SIMQ_LINE - sizeof(SimQEntry));
  if (hp->n)
    memcpy(h, hp->h, hp->n * sizeof(SimQEntry));
  for (size_t i = hp->n; i < cap + SIMQ_SENTINELS; i++)
    h[i] = simq_sentinel;
  free(hp->mem);
  hp->mem = mem;
  hp->h = h;
  hp->cap = cap;
}

static unsigned
simq_arity(SimQueueKind kind)
{
  switch (kind) {
  case SIM_QUEUE_HEAP2:
    return 2;
  case SIM_QUEUE_HEAP8:
    return 8;
  default:
    return 4; /* heap4, and the calendar's bottom heap */
  }
}

static void
simq_heapify(SimQHeap *hp, unsigned d)
{
  SimQEntry *h = hp->h;
  size_t n = hp->n;
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

/* Keeps the entries of an array whose slot satisfies keep(); returns the new length. */
static size_t
simq_filter_array(SimQEntry *e, size_t n, bool (*keep)(void *ud, uint32_t slot), void *ud)
{
  size_t w = 0;
  for (size_t r = 0; r < n; r++)
    if (keep(ud, (uint32_t)(e[r].tag & SIMQ_SLOT_MASK)))
      e[w++] = e[r];
  return w;
}

void
simq_filter(SimQueue *q, bool (*keep)(void *ud, uint32_t slot), void *ud)
{
  g_assert(q->kind != SIM_QUEUE_PAIRING);
  SimQHeap *hp = &q->heap;
  size_t old = hp->n;
  hp->n = simq_filter_array(hp->h, hp->n, keep, ud);
  for (size_t i = hp->n; i < old; i++)
    hp->h[i] = simq_sentinel;
  simq_heapify(hp, simq_arity(q->kind));
  if (q->kind != SIM_QUEUE_CALENDAR)
    return;
  size_t count = hp->n;
  for (size_t j = q->cur; j < q->nb; j++) {
    q->bk[j].len = (uint32_t)simq_filter_array(q->bk[j].e, q->bk[j].len, keep, ud);
    count += q->bk[j].len;
  }
  q->over.len = (uint32_t)simq_filter_array(q->over.e, q->over.len, keep, ud);
  q->count = count + q->over.len;
}

/* ---- calendar queue ---------------------------------------------------------------- */

/* Bucket geometry, tuned with `m2msim bench engine --queue calendar` at K = 10^4 .. 10^6:
 * about n / CAL_PER_DIV entries per bucket at the front of the calendar (at least
 * CAL_PER_MIN, at most CAL_PER_MAX), and buckets enough to span CAL_COVER times the mean
 * distance of the waiting entries from the earliest. Large buckets at large n keep the
 * number of bucket tails (where appends land) small enough to stay in cache; the bucket
 * being consumed is a small heap in L1 whatever its size. */
#define CAL_PER_DIV 4096.0
#define CAL_PER_MIN 8.0
#define CAL_PER_MAX 256.0
#define CAL_COVER 1.5
#define CAL_KEEP_CAP 16     /* bucket arrays up to this capacity are kept when consumed */
#define CAL_BOTTOM_MIN 4096 /* bottom heap entries before a spread (simq_cal_respread) */

static void
simq_bucket_append(SimQBucket *b, uint64_t time, uint64_t tag)
{
  if (b->len == b->cap) {
    if (b->cap >= UINT32_MAX / 2)
      g_error("engine: calendar bucket overflow");
    b->cap = b->cap ? b->cap * 2 : 8;
    b->e = g_renew(SimQEntry, b->e, b->cap);
  }
  b->e[b->len++] = (SimQEntry){time, tag};
}

static void
simq_over_append(SimQueue *q, uint64_t time, uint64_t tag)
{
  if (q->over.len == 0 || time < q->over_min)
    q->over_min = time;
  if (q->over.len == 0 || time > q->over_max)
    q->over_max = time;
  simq_bucket_append(&q->over, time, tag);
}

static void simq_cal_rebuild(SimQueue *q);

/* The buckets were sized for entries that came later than those that arrived: the bottom
 * heap grew past bot_limit (at the start of a world run the first buckets are sized on a
 * dozen production events, and a day of traffic then lands in one heap of 30,000
 * entries). Every entry goes back to the overflow and new buckets are laid out over what
 * is pending now. The limit doubles at each spread until the buckets next run out, so
 * entries that no width can separate (ties) cost O(n log n) in all, not O(n) a push. */
static void
simq_cal_respread(SimQueue *q)
{
  SimQHeap *hp = &q->heap;
  for (size_t i = 0; i < hp->n; i++) {
    simq_over_append(q, hp->h[i].time, hp->h[i].tag);
    hp->h[i] = simq_sentinel;
  }
  hp->n = 0;
  for (size_t j = q->cur; j < q->nb; j++) {
    SimQBucket *b = &q->bk[j];
    for (uint32_t i = 0; i < b->len; i++)
      simq_over_append(q, b->e[i].time, b->e[i].tag);
    g_free(b->e);
    b->e = NULL;
    b->len = b->cap = 0;
  }
  q->nb = q->cur = 0;
  size_t limit = q->bot_limit * 2;
  simq_cal_rebuild(q);
  q->bot_limit = limit;
}

void
simq_cal_push(SimQueue *q, uint64_t time, uint64_t tag)
{
  if (time < q->bot_end && G_UNLIKELY(q->heap.n >= q->bot_limit))
    simq_cal_respread(q);
  q->count++;
  if (time < q->bot_end) {
    q->direct++;
    simq_heap_push(&q->heap, time, tag, 4);
  } else if (time < q->cal_end) {
    simq_bucket_append(&q->bk[(time - q->base) / q->w], time, tag);
  } else {
    simq_over_append(q, time, tag);
  }
}

/* Spreads the overflow over new buckets, sized from the mean distance of its entries to
 * the earliest (see CAL_PER_DIV). Entries past the new buckets stay in the overflow. At
 * least a third of the entries lie within 1.5 means of the earliest (Markov), so every
 * rebuild moves a constant fraction of what it scans: amortised O(1) per event. */
static void
simq_cal_rebuild(SimQueue *q)
{
  size_t n = q->over.len;
  uint64_t base = q->over_min;
  double sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += (double)(q->over.e[i].time - base);
  double mean = sum / (double)n;
  double per = (double)n / CAL_PER_DIV;
  per = per > CAL_PER_MAX ? CAL_PER_MAX : per;
  /* What the bottom heap holds is a bucket's entries plus those pushed straight into it
   * while it is consumed. Under PHOLD the latter are few; in the provisioning world most
   * events follow a message a few ms after their cause, and with buckets sized for the
   * days-long timers the bottom heap held 15 times a bucket (~600 entries): buckets
   * narrower by that factor keep it small (measured with `bench world`, 10% faster at a
   * million devices, and PHOLD unchanged). */
  if (q->loaded > 0)
    per *= (double)q->loaded / (double)(q->loaded + q->direct);
  q->loaded = q->direct = 0;
  per = per < CAL_PER_MIN ? CAL_PER_MIN : per;
  double wd = per * mean / (double)n;
  uint64_t w = wd < 1 ? 1 : wd > 1e18 ? (uint64_t)1e18 : (uint64_t)wd;
  uint64_t span = q->over_max - base;
  size_t nb_max = MAX((size_t)(CAL_COVER * (double)n / per), 16);
  size_t nb = (size_t)MIN(span / w + 1, (uint64_t)nb_max);
  if (nb > q->nb_cap) {
    q->bk = g_renew(SimQBucket, q->bk, nb);
    memset(q->bk + q->nb_cap, 0, (nb - q->nb_cap) * sizeof(SimQBucket));
    q->nb_cap = nb;
  }
  q->nb = nb;
  q->cur = 0;
  q->base = base;
  q->w = w;
  q->bot_end = base;
  q->cal_end = (uint64_t)nb * w > UINT64_MAX - base ? UINT64_MAX : base + (uint64_t)nb * w;
  /* move the entries inside the calendar, keep the rest in `over` */
  size_t keep = 0;
  uint64_t omin = UINT64_MAX, omax = 0;
  for (size_t i = 0; i < n; i++) {
    SimQEntry e = q->over.e[i];
    if (e.time < q->cal_end) {
      simq_bucket_append(&q->bk[(e.time - base) / w], e.time, e.tag);
    } else {
      q->over.e[keep++] = e;
      omin = MIN(omin, e.time);
      omax = MAX(omax, e.time);
    }
  }
  q->bot_limit = CAL_BOTTOM_MIN;
  q->over.len = (uint32_t)keep;
  if (q->over.cap > 1024 && keep < q->over.cap / 4) { /* the same for the overflow */
    q->over.cap = MAX((uint32_t)keep * 2, 1024u);
    q->over.e = g_renew(SimQEntry, q->over.e, q->over.cap);
  }
  q->over_min = omin;
  q->over_max = omax;
}

bool
simq_cal_refill(SimQueue *q)
{
  for (;;) {
    while (q->cur < q->nb && q->bk[q->cur].len == 0)
      q->cur++;
    if (q->cur < q->nb) {
      SimQBucket *b = &q->bk[q->cur++];
      q->bot_end = q->cur == q->nb ? q->cal_end : q->base + q->cur * q->w;
      SimQHeap *hp = &q->heap;
      while (hp->cap < b->len)
        simq_heap_grow(hp);
      memcpy(hp->h, b->e, b->len * sizeof(SimQEntry));
      if (q->slots)
        for (uint32_t i = 0; i < b->len; i++)
          __builtin_prefetch(q->slots + (b->e[i].tag & SIMQ_SLOT_MASK) * q->slot_size);
      hp->n = b->len;
      if (q->keep && *q->keep_pending > 0) {
        /* In the world a quarter of all entries are guard timers cancelled before they
         * fall due (the answer came); dropped here, they cost one look at their record
         * (just prefetched) instead of a trip through the bottom heap. */
        hp->n = simq_filter_array(hp->h, b->len, q->keep, q->keep_ud);
        q->count -= b->len - hp->n;
        for (size_t i = hp->n; i < b->len; i++)
          hp->h[i] = simq_sentinel;
      }
      size_t loaded = hp->n;
      q->loaded += loaded;
      /* A large bucket array goes back to the allocator: each bucket fills at a different
       * moment of the run, so kept arrays would add up to the sum of every bucket's
       * largest fill (20 times the entries pending at a million devices) instead of
       * what is pending now. Small ones stay (at most CAL_KEEP_CAP entries a bucket):
       * freeing those too cost PHOLD at 10^4 pending a quarter of its speed. */
      b->len = 0;
      if (b->cap > CAL_KEEP_CAP) {
        g_free(b->e);
        b->e = NULL;
        b->cap = 0;
      }
      if (loaded == 0)
        continue; /* every entry was cancelled */
      simq_heapify(hp, 4);
      return true;
    }
    if (q->over.len == 0)
      return false;
    simq_cal_rebuild(q);
  }
}

void
simq_cal_pop(SimQueue *q)
{
  simq_heap_pop(&q->heap, 4);
  q->count--;
}

void
simq_cal_replace_top(SimQueue *q, uint64_t time, uint64_t tag)
{
  if (time < q->bot_end) {
    q->direct++;
    simq_heap_replace_top(&q->heap, time, tag, 4);
    return;
  }
  simq_heap_pop(&q->heap, 4);
  q->count--;
  simq_cal_push(q, time, tag);
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
    for (size_t i = 0; i < q->heap.n; i++)
      r[k++] = (SimQRank){simq_ekey(&q->heap.h[i]), &q->heap.h[i].tag};
    if (q->kind == SIM_QUEUE_CALENDAR) {
      for (size_t j = q->cur; j < q->nb; j++)
        for (uint32_t i = 0; i < q->bk[j].len; i++)
          r[k++] = (SimQRank){simq_ekey(&q->bk[j].e[i]), &q->bk[j].e[i].tag};
      for (uint32_t i = 0; i < q->over.len; i++)
        r[k++] = (SimQRank){simq_ekey(&q->over.e[i]), &q->over.e[i].tag};
    }
  }
  g_assert(k == n);
  qsort(r, n, sizeof *r, simq_rank_cmp);
  for (size_t i = 0; i < n; i++)
    *r[i].tag = (uint64_t)i << SIMQ_SLOT_BITS | (*r[i].tag & SIMQ_SLOT_MASK);
  g_free(r);
  return n;
}
