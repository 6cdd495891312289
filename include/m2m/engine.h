/* The discrete-event engine: a simulated clock, a pending-event queue with cancellable
 * timers, and the loop that runs them. Knows nothing about M2M.
 *
 * Time is SimTime (integer microseconds). Events run in (time, insertion order): two
 * events at the same microsecond run in the order they were scheduled (FIFO), so a run
 * is a pure function of its inputs. The clock never goes backwards (asserted).
 *
 * An event is a handler function plus a `ctx` pointer and a 64-bit `arg`. The world has
 * millions of entities: `ctx` should be a long-lived object (the world, an entity table)
 * and `arg` the entity id, never a pointer to something that may go away before the event
 * fires. Event records live in a pool addressed by SimEventId and are reused through a
 * free list, so scheduling allocates nothing in steady state.
 *
 * A SimEventId carries a generation counter: cancelling is always safe, including from
 * inside a handler, twice, or after the event fired (it then returns false). Ids are
 * never 0, so SIM_EVENT_NONE (0) can mark "no timer". A slot is reused with a new
 * generation each time; an id could only alias after 2^32 reuses of one slot while the
 * caller still holds it. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "m2m/simtime.h"

typedef struct SimEngine SimEngine;
typedef uint64_t SimEventId; /* (generation << 32) | slot; 0 = none */

#define SIM_EVENT_NONE ((SimEventId)0)

/* An event handler. Runs with sim_now() == the event's time. May schedule, cancel (any
 * event, itself included: a no-op returning false), and call sim_stop(). */
typedef void (*SimHandler)(SimEngine *sim, void *ctx, uint64_t arg);

/* Priority-queue structures the engine can run on. All give the same event order; they
 * differ only in speed and memory (see the table at the top of sim/queue.c and
 * `m2msim bench engine --queue`). SIM_QUEUE_DEFAULT is the fastest one measured. */
typedef enum {
  SIM_QUEUE_HEAP4,    /* 4-ary implicit heap of 16-byte keys, lazy cancel + compaction */
  SIM_QUEUE_HEAP2,    /* the same as a binary heap (baseline) */
  SIM_QUEUE_PAIRING,  /* pairing heap over the event pool, eager O(log n) cancel */
  SIM_QUEUE_HEAP8,    /* 8-ary heap: two cache lines per child group */
  SIM_QUEUE_CALENDAR, /* buckets of time loaded into a small 4-ary heap, lazy cancel */
  SIM_QUEUE_N_KINDS,
  SIM_QUEUE_DEFAULT = SIM_QUEUE_CALENDAR,
} SimQueueKind;

/* Name of a queue kind ("heap4", "heap2", "pairing"). */
const char *sim_queue_kind_name(SimQueueKind kind);

/* Parses a queue kind name; returns false for an unknown name. */
bool sim_queue_kind_from_name(const char *name, SimQueueKind *out);

/* A new engine with the clock at 0 and no events, on the default queue. */
SimEngine *sim_engine_new(void);

/* The same on a chosen queue structure. */
SimEngine *sim_engine_new_with_queue(SimQueueKind kind);

/* Frees the engine and every pending event (handlers are not called). NULL is a no-op. */
void sim_engine_free(SimEngine *sim);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SimEngine, sim_engine_free)

/* The current simulated time. */
SimTime sim_now(const SimEngine *sim);

/* Schedules fn(sim, ctx, arg) at now + delay. delay must be >= 0 (a negative delay is a
 * bug in the caller: asserted). An event at or beyond SIM_TIME_MAX ("never", including
 * when now + delay overflows) is refused: nothing is scheduled and SIM_EVENT_NONE is
 * returned, which is itself safe to cancel. */
SimEventId sim_schedule(SimEngine *sim, SimTime delay, SimHandler fn, void *ctx, uint64_t arg);

/* Schedules at an absolute time; `at` must be >= now (asserted). at >= SIM_TIME_MAX is
 * refused as above. */
SimEventId sim_schedule_at(SimEngine *sim, SimTime at, SimHandler fn, void *ctx, uint64_t arg);

/* Cancels a pending event. Returns true if it was pending and now will never run; false
 * for SIM_EVENT_NONE, an event that already ran or is running, an id already cancelled,
 * or an id of another engine's range. Amortised O(1) (lazy: the record is dropped when it
 * reaches the front, or in a compaction once half the queue is cancelled), O(log n) on
 * the pairing heap. */
bool sim_cancel(SimEngine *sim, SimEventId id);

/* True if the event is still pending. */
bool sim_is_pending(const SimEngine *sim, SimEventId id);

/* Runs events in order while their time is <= end and sim_stop() has not been called.
 * When the queue runs dry or the next event is after `end`, the clock is advanced to
 * `end` (unless end == SIM_TIME_MAX). After sim_stop() the clock stays at the time of
 * the event that stopped it. Returns the number of events executed by this call.
 * An `end` before now does nothing. Must not be called from inside a handler. */
uint64_t sim_run_until(SimEngine *sim, SimTime end);

/* Runs until no event is pending or sim_stop(). */
uint64_t sim_run(SimEngine *sim);

/* Makes the running sim_run_until() return after the current handler. */
void sim_stop(SimEngine *sim);

/* True if the last sim_run_until() ended because of sim_stop(). */
bool sim_stopped(const SimEngine *sim);

/* Events executed since the engine was created (cancelled ones not counted). */
uint64_t sim_events_executed(const SimEngine *sim);

/* Events pending now (cancelled ones not counted). */
uint64_t sim_events_pending(const SimEngine *sim);

/* Time of the earliest pending event, or SIM_TIME_MAX if none. */
SimTime sim_next_time(SimEngine *sim);

/* A prefetch hook: issues prefetches for what fn(sim, ctx, arg) will touch (it must not
 * change anything). Before each event runs, the engine calls the hook registered for the
 * handler of the event likely next (calendar and heap4 queues), so that event's data is
 * on its way while the current one runs. At most 8 hooks. */
typedef void (*SimPrefetch)(void *ctx, uint64_t arg);
void sim_set_prefetch(SimEngine *sim, SimHandler fn, SimPrefetch hook);

/* Octets the engine holds now: event records and the queue's arrays (their capacity). */
size_t sim_memory(const SimEngine *sim);

/* The queue structure in use. */
SimQueueKind sim_queue_kind(const SimEngine *sim);
