/* Table-driven finite state machines for simulation entities, after libosmocore's
 * osmo_fsm: each entity type has one const table with a row per state naming the events
 * that state accepts, the states it may go to, the action that handles what arrives, and
 * the timer it runs (by name, from the type's timer table). fsm_dispatch() is the one way
 * an event reaches an entity: an event the state does not accept, or a move to a state
 * not listed, is an invariant violation (a bug in a model, never user input) and aborts
 * the run with the entity's "Name(id){STATE}" in the message, because results computed
 * past a broken invariant are worthless.
 *
 * Per-entity state is one byte owned by the entity (a million devices fit in memory);
 * the table is shared and read-only. The checks are inline bit tests, cheap enough to
 * stay on in every build. Timers: the table says which timer a state runs and which
 * event its expiry is; how long it runs is the entity type's business (a scenario value,
 * a back-off), computed when the state is entered.
 *
 * Logging: every line reads "[T] Name(id){STATE}: message" with T the simulated time in
 * seconds. A FsmLog is off unless created, and the FSM_LOG macro tests it before doing
 * any formatting, so a disabled log costs one branch. Never log keys.
 *
 * Knows nothing about M2M (sim/ layer). */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "m2m/simtime.h"

enum {
  FSM_MAX_STATES = 32, /* bits of FsmState.next */
  FSM_MAX_EVENTS = 64, /* bits of FsmState.events */
};

/* What a state does with an accepted event: ctx is the entity type's context (the
 * world), id the entity, data the event's payload (a message, or NULL for a timer). */
typedef void (*FsmAction)(void *ctx, uint64_t id, unsigned event, void *data);

/* One row of a state table. */
typedef struct {
  const char *name; /* "ATTACHING": upper case by convention */
  uint64_t events;  /* bit e set: event e is accepted in this state */
  uint32_t next;    /* bit s set: this state may go to state s */
  FsmAction action; /* handles the accepted events; NULL: the state accepts none */
  uint8_t timer;    /* the timer this state runs: index in FsmDef.timers, 0 = none */
} FsmState;

/* A named timer of an entity type; entry 0 of a timer table is "none". */
typedef struct {
  const char *name; /* "attach_guard": logs and docs */
  unsigned event;   /* the event its expiry dispatches */
} FsmTimer;

/* An entity type: its name, its states (index = state value), events and timers. */
typedef struct {
  const char *name; /* "Device" */
  const FsmState *states;
  unsigned n_states;         /* <= FSM_MAX_STATES */
  const char *const *events; /* event names, index = event value */
  unsigned n_events;         /* <= FSM_MAX_EVENTS */
  const FsmTimer *timers;    /* NULL when the type has no timers */
  unsigned n_timers;         /* entries of timers, "none" included */
} FsmDef;

#define FSM_BIT(x) (UINT64_C(1) << (x))

#define FSM_ERROR (fsm_error_quark())
GQuark fsm_error_quark(void);

/* Checks a table for consistency: counts within limits, every state, event and timer
 * named, no bit set for a state or event that does not exist, an action for every state
 * that accepts an event, every timer's event accepted by the states that run it. Returns false with
 * a message naming the row (for unit tests of each entity's table). */
bool fsm_def_check(const FsmDef *def, GError **error);

/* Aborts with "Name(id){STATE}: event EVENT not accepted". Called by fsm_accept. */
G_GNUC_NORETURN void fsm_fail_event(const FsmDef *def, uint64_t id, unsigned state, unsigned event);

/* Aborts with "Name(id){STATE}: transition to TO not allowed". Called by fsm_goto. */
G_GNUC_NORETURN void fsm_fail_transition(const FsmDef *def, uint64_t id, unsigned state,
                                         unsigned to);

/* The dispatch check: event `event` arrives at entity `id` in `state`; aborts unless the
 * state accepts it. */
static inline void
fsm_accept(const FsmDef *def, uint64_t id, unsigned state, unsigned event)
{
  if (G_UNLIKELY(state >= def->n_states || event >= def->n_events ||
                 !(def->states[state].events & FSM_BIT(event))))
    fsm_fail_event(def, id, state, event);
}

/* Moves entity `id` from *state to `to`; aborts unless the table allows it. */
static inline void
fsm_goto(const FsmDef *def, uint64_t id, uint8_t *state, unsigned to)
{
  if (G_UNLIKELY(*state >= def->n_states || to >= def->n_states ||
                 !(def->states[*state].next & (UINT32_C(1) << to))))
    fsm_fail_transition(def, id, *state, to);
  *state = (uint8_t)to;
}

/* The one entry of events: checks that `state` accepts `event` (aborts otherwise) and
 * runs the state's action. */
static inline void
fsm_dispatch(const FsmDef *def, uint64_t id, unsigned state, unsigned event, void *ctx, void *data)
{
  fsm_accept(def, id, state, event);
  def->states[state].action(ctx, id, event, data);
}

/* The timer `state` runs (0: none) and the event its expiry dispatches. */
static inline unsigned
fsm_state_timer(const FsmDef *def, unsigned state)
{
  return def->states[state].timer;
}

static inline unsigned
fsm_timer_event(const FsmDef *def, unsigned timer)
{
  return def->timers[timer].event;
}

/* True if `state` accepts `event` (for code that must branch instead of abort). */
static inline bool
fsm_accepts(const FsmDef *def, unsigned state, unsigned event)
{
  return state < def->n_states && event < def->n_events &&
         (def->states[state].events & FSM_BIT(event));
}

/* Name of a state / event / timer, "?" when out of range. */
const char *fsm_state_name(const FsmDef *def, unsigned state);
const char *fsm_event_name(const FsmDef *def, unsigned event);
const char *fsm_timer_name(const FsmDef *def, unsigned timer);

/* ---- Logging ---------------------------------------------------------------------- */

typedef struct FsmLog FsmLog;

/* A log writing to `out` (not closed by fsm_log_free). */
FsmLog *fsm_log_new(FILE *out);
void fsm_log_free(FsmLog *log);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FsmLog, fsm_log_free)

/* Lines written so far. */
uint64_t fsm_log_lines(const FsmLog *log);

/* Writes "[T] Name(id){STATE}: message\n" (T in simulated seconds, 6 decimals). */
void fsm_logf(FsmLog *log, SimTime now, const FsmDef *def, uint64_t id, unsigned state,
              const char *fmt, ...) G_GNUC_PRINTF(6, 7);

/* Logs only when `log` is not NULL; arguments are not evaluated otherwise. */
#define FSM_LOG(log, now, def, id, state, ...)                                                     \
  do {                                                                                             \
    if (G_UNLIKELY((log) != NULL))                                                                 \
      fsm_logf((log), (now), (def), (id), (state), __VA_ARGS__);                                   \
  } while (0)
