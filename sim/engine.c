/* The event loop: clock, event-record pool, scheduling, cancelling (see m2m/engine.h for
 * the contract, sim/queue.h for the queues).
 *
 * Records live in one array addressed by slot and recycled LIFO through a free list, so
 * the record an event frees is the one its handler's next schedule reuses (hot in
 * cache), and steady-state scheduling allocates nothing.
 *
 * The loop does not pop an event before running it: the fired entry stays at the top of
 * the queue while its handler runs, and the first event the handler schedules replaces
 * it in one pass (a hold operation) instead of a pop followed by a push. Any other queue
 * operation first pops the stale top (sim_top_settle). */
#include "m2m/engine.h"

#include <stdlib.h>
#include <string.h>

#include "queue.h"

enum { SLOT_FREE = 0, SLOT_PENDING = 1, SLOT_CANCELLED = 2 };

static bool sim_keep_pending(void *ud, uint32_t s);

typedef struct {
  SimHandler fn;
  void *ctx;
  uint64_t arg;   /* the event's argument; the next free slot while free */
  uint32_t gen;   /* generation, bumped whenever the record is freed; never 0 */
  uint32_t state; /* SLOT_* */
} SimSlot;

enum { SIM_MAX_PREFETCH = 8 };

struct SimEngine {
  SimTime now; /* us */
  /* prefetch hooks: before an event runs, the data of the one likely next is prefetched
   * through the hook registered for its handler */
  SimHandler pf_fn[SIM_MAX_PREFETCH];
  SimPrefetch pf_hook[SIM_MAX_PREFETCH];
  unsigned n_pf;
  SimQueue q;
  SimSlot *slots;
  uint32_t n_slots; /* records ever used (high-water mark) */
  uint32_t cap_slots;
  uint32_t free_head; /* SIMQ_NIL when empty */
  uint64_t seq;       /* next insertion number */
  uint64_t seq_limit; /* renumber when seq reaches it */
  uint64_t executed;
  uint64_t pending;   /* scheduled, not run, not cancelled */
  uint64_t cancelled; /* cancelled records still in a heap (lazy cancel) */
  bool running, stop;
  bool top_stale; /* the queue top is the event being run; pop it before use */
};

static const char *const queue_names[SIM_QUEUE_N_KINDS] = {"heap4", "heap2", "pairing", "heap8",
                                                           "calendar"};

const char *
sim_queue_kind_name(SimQueueKind kind)
{
  return kind < SIM_QUEUE_N_KINDS ? queue_names[kind] : "?";
}

bool
sim_queue_kind_from_name(const char *name, SimQueueKind *out)
{
  for (int k = 0; k < SIM_QUEUE_N_KINDS; k++)
    if (name && strcmp(name, queue_names[k]) == 0) {
      *out = (SimQueueKind)k;
      return true;
    }
  return false;
}

SimEngine *
sim_engine_new_with_queue(SimQueueKind kind)
{
  g_assert(kind < SIM_QUEUE_N_KINDS);
  SimEngine *sim = g_new0(SimEngine, 1);
  simq_init(&sim->q, kind);
  if (kind == SIM_QUEUE_CALENDAR) {
    sim->q.keep = sim_keep_pending;
    sim->q.keep_ud = sim;
    sim->q.keep_pending = &sim->cancelled;
  }
  sim->free_head = SIMQ_NIL;
  sim->seq_limit = SIMQ_SEQ_LIMIT;
  return sim;
}

SimEngine *
sim_engine_new(void)
{
  return sim_engine_new_with_queue(SIM_QUEUE_DEFAULT);
}

void
sim_engine_free(SimEngine *sim)
{
  if (sim == NULL)
    return;
  g_assert(!sim->running);
  simq_clear(&sim->q);
  free(sim->slots);
  g_free(sim);
}

void
sim_engine_set_seq_limit_for_tests(SimEngine *sim, uint64_t limit)
{
  g_assert(limit > 0 && limit <= SIMQ_SEQ_LIMIT);
  sim->seq_limit = limit;
}

SimTime
sim_now(const SimEngine *sim)
{
  return sim->now;
}

SimQueueKind
sim_queue_kind(const SimEngine *sim)
{
  return sim->q.kind;
}

uint64_t
sim_events_executed(const SimEngine *sim)
{
  return sim->executed;
}

uint64_t
sim_events_pending(const SimEngine *sim)
{
  return sim->pending;
}

static inline void
sim_top_settle(SimEngine *sim)
{
  if (sim->top_stale) {
    simq_pop(&sim->q);
    sim->top_stale = false;
  }
}

static __attribute__((noinline)) void
sim_slots_grow(SimEngine *sim)
{
  if (sim->cap_slots >= SIMQ_MAX_SLOTS)
    g_error("engine: more than %u events pending at once", SIMQ_MAX_SLOTS);
  uint32_t cap = sim->cap_slots ? sim->cap_slots * 2 : 1024;
  if (cap > SIMQ_MAX_SLOTS)
    cap = SIMQ_MAX_SLOTS;
  SimSlot *slots = simq_alloc_big((size_t)cap * sizeof(SimSlot));
  if (sim->n_slots)
    memcpy(slots, sim->slots, (size_t)sim->n_slots * sizeof(SimSlot));
  free(sim->slots);
  sim->slots = slots;
  sim->cap_slots = cap;
  sim->q.slots = (const char *)slots;
  sim->q.slot_size = sizeof(SimSlot);
}

static inline uint32_t
sim_slot_alloc(SimEngine *sim)
{
  uint32_t s = sim->free_head;
  if (s != SIMQ_NIL) {
    sim->free_head = (uint32_t)sim->slots[s].arg;
    return s;
  }
  if (sim->n_slots == sim->cap_slots)
    sim_slots_grow(sim);
  s = sim->n_slots++;
  sim->slots[s].gen = 1;
  return s;
}

static inline void
sim_slot_free(SimEngine *sim, uint32_t s)
{
  SimSlot *r = &sim->slots[s];
  r->state = SLOT_FREE;
  r->gen = r->gen + 1 ? r->gen + 1 : 1;
  r->arg = sim->free_head;
  sim->free_head = s;
}

static __attribute__((noinline)) void
sim_renumber(SimEngine *sim)
{
  sim_top_settle(sim);
  sim->seq = simq_renumber(&sim->q);
}

SimEventId
sim_schedule_at(SimEngine *sim, SimTime at, SimHandler fn, void *ctx, uint64_t arg)
{
  g_assert(at >= sim->now);
  g_assert(fn != NULL);
  if (at >= SIM_TIME_MAX)
    return SIM_EVENT_NONE;
  if (G_UNLIKELY(sim->seq >= sim->seq_limit))
    sim_renumber(sim);
  uint32_t s = sim_slot_alloc(sim);
  SimSlot *r = &sim->slots[s];
  r->fn = fn;
  r->ctx = ctx;
  r->arg = arg;
  r->state = SLOT_PENDING;
  if (sim->top_stale) {
    simq_replace_top(&sim->q, (uint64_t)at, sim->seq++, s);
    sim->top_stale = false;
  } else {
    simq_push(&sim->q, (uint64_t)at, sim->seq++, s);
  }
  sim->pending++;
  return (SimEventId)r->gen << 32 | s;
}

SimEventId
sim_schedule(SimEngine *sim, SimTime delay, SimHandler fn, void *ctx, uint64_t arg)
{
  g_assert(delay >= 0);
  if (delay >= SIM_TIME_MAX - sim->now)
    return SIM_EVENT_NONE;
  return sim_schedule_at(sim, sim->now + delay, fn, ctx, arg);
}

static inline SimSlot *
sim_lookup(const SimEngine *sim, SimEventId id)
{
  uint32_t s = (uint32_t)id;
  if (id == SIM_EVENT_NONE || s >= sim->n_slots)
    return NULL;
  SimSlot *r = &sim->slots[s];
  if (r->gen != (uint32_t)(id >> 32) || r->state != SLOT_PENDING)
    return NULL;
  return r;
}

bool
sim_is_pending(const SimEngine *sim, SimEventId id)
{
  return sim_lookup(sim, id) != NULL;
}

static bool
sim_keep_pending(void *ud, uint32_t s)
{
  SimEngine *sim = ud;
  switch (sim->slots[s].state) {
  case SLOT_PENDING:
    return true;
  case SLOT_CANCELLED:
    sim_slot_free(sim, s);
    sim->cancelled--;
    return false;
  default: /* the stale top: its record is already free */
    return false;
  }
}

bool
sim_cancel(SimEngine *sim, SimEventId id)
{
  SimSlot *r = sim_lookup(sim, id);
  if (r == NULL)
    return false;
  uint32_t s = (uint32_t)id;
  sim->pending--;
  if (sim->q.kind == SIM_QUEUE_PAIRING) {
    sim_top_settle(sim);
    simq_pairing_remove(&sim->q, s);
    sim_slot_free(sim, s);
    return true;
  }
  /* lazy: bump the generation now so the id is dead, free the record when its entry
   * leaves the heap; compact when cancelled entries are half the heap */
  r->state = SLOT_CANCELLED;
  r->gen = r->gen + 1 ? r->gen + 1 : 1;
  sim->cancelled++;
  if (sim->cancelled * 2 > simq_size(&sim->q) && simq_size(&sim->q) >= 64) {
    simq_filter(&sim->q, sim_keep_pending, sim);
    sim->top_stale = false;
    g_assert(sim->cancelled == 0);
  }
  return true;
}

SimTime
sim_next_time(SimEngine *sim)
{
  sim_top_settle(sim);
  uint64_t t;
  uint32_t s;
  while (simq_top(&sim->q, &t, &s)) {
    if (sim->slots[s].state == SLOT_PENDING)
      return (SimTime)t;
    simq_pop(&sim->q); /* a cancelled record reached the top */
    sim_slot_free(sim, s);
    sim->cancelled--;
  }
  return SIM_TIME_MAX;
}

void
sim_stop(SimEngine *sim)
{
  sim->stop = true;
}

bool
sim_stopped(const SimEngine *sim)
{
  return sim->stop;
}

void
sim_set_prefetch(SimEngine *sim, SimHandler fn, SimPrefetch hook)
{
  g_assert(sim->n_pf < SIM_MAX_PREFETCH);
  sim->pf_fn[sim->n_pf] = fn;
  sim->pf_hook[sim->n_pf] = hook;
  sim->n_pf++;
}

/* Asks the hook of the event likely next to prefetch what its handler will touch: one
 * event of work ahead, about what a miss to memory costs. */
static inline void
prefetch_next(SimEngine *sim)
{
  uint32_t s;
  if (!simq_peek_next(&sim->q, &s))
    return;
  const SimSlot *r = &sim->slots[s];
  for (unsigned i = 0; i < sim->n_pf; i++)
    if (sim->pf_fn[i] == r->fn) {
      sim->pf_hook[i](r->ctx, r->arg);
      return;
    }
}

uint64_t
sim_run_until(SimEngine *sim, SimTime end)
{
  g_assert(!sim->running);
  if (end < sim->now)
    return 0;
  sim->running = true;
  sim->stop = false;
  uint64_t before = sim->executed;
  SimQueue *q = &sim->q;
  uint64_t t;
  uint32_t s;
  while (simq_top(q, &t, &s)) {
    SimSlot *r = &sim->slots[s];
    if (G_UNLIKELY(r->state != SLOT_PENDING)) {
      simq_pop(q);
      sim_slot_free(sim, s);
      sim->cancelled--;
      continue;
    }
    if ((SimTime)t > end)
      break;
    g_assert((SimTime)t >= sim->now); /* the clock never goes backwards */
    sim->now = (SimTime)t;
    SimHandler fn = r->fn;
    void *ctx = r->ctx;
    uint64_t arg = r->arg;
    sim_slot_free(sim, s);
    sim->pending--;
    sim->top_stale = true;
    if (sim->n_pf > 0)
      prefetch_next(sim);
    fn(sim, ctx, arg);
    sim->executed++;
    sim_top_settle(sim);
    if (sim->stop)
      break;
  }
  if (!sim->stop && end != SIM_TIME_MAX)
    sim->now = end;
  sim->running = false;
  return sim->executed - before;
}

uint64_t
sim_run(SimEngine *sim)
{
  return sim_run_until(sim, SIM_TIME_MAX);
}

size_t
sim_memory(const SimEngine *sim)
{
  const SimQueue *q = &sim->q;
  size_t n = sizeof *sim + (size_t)sim->cap_slots * sizeof(SimSlot);
  n += (q->heap.cap + 8) * sizeof(SimQEntry) + q->pn_cap * sizeof(SimQPNode);
  n += q->nb_cap * sizeof(SimQBucket) + (size_t)q->over.cap * sizeof(SimQEntry);
  for (size_t i = 0; i < q->nb; i++)
    n += (size_t)q->bk[i].cap * sizeof(SimQEntry);
  return n;
}
