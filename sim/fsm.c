/* Table-driven state machine checks and the entity log (see include/m2m/fsm.h).
 *
 * The hot checks are inline in the header; this file holds what runs only on a
 * violation (formatting the message, then aborting), the table validator used by unit
 * tests, and the log writer. */
#include "m2m/fsm.h"

#include <stdarg.h>

/* clang-format off */
G_DEFINE_QUARK(m2m-fsm-error-quark, fsm_error)
/* clang-format on */

struct FsmLog {
  FILE *out;      /* not owned */
  uint64_t lines; /* lines written */
};

const char *
fsm_state_name(const FsmDef *def, unsigned state)
{
  return state < def->n_states && def->states[state].name ? def->states[state].name : "?";
}

const char *
fsm_event_name(const FsmDef *def, unsigned event)
{
  return event < def->n_events && def->events[event] ? def->events[event] : "?";
}

const char *
fsm_timer_name(const FsmDef *def, unsigned timer)
{
  return timer < def->n_timers && def->timers[timer].name ? def->timers[timer].name : "?";
}

void
fsm_fail_event(const FsmDef *def, uint64_t id, unsigned state, unsigned event)
{
  g_error("%s(%" G_GUINT64_FORMAT "){%s}: event %s not accepted in this state", def->name, id,
          fsm_state_name(def, state), fsm_event_name(def, event));
}

void
fsm_fail_transition(const FsmDef *def, uint64_t id, unsigned state, unsigned to)
{
  g_error("%s(%" G_GUINT64_FORMAT "){%s}: transition to %s not allowed", def->name, id,
          fsm_state_name(def, state), fsm_state_name(def, to));
}

bool
fsm_def_check(const FsmDef *def, GError **error)
{
  if (def->name == NULL || def->n_states == 0 || def->n_states > FSM_MAX_STATES ||
      def->n_events > FSM_MAX_EVENTS || def->states == NULL ||
      (def->n_events > 0 && def->events == NULL)) {
    g_set_error(error, FSM_ERROR, 0, "%s: needs a name and 1..%d states, at most %d events",
                def->name ? def->name : "(unnamed)", FSM_MAX_STATES, FSM_MAX_EVENTS);
    return false;
  }
  uint64_t all_events = def->n_events == 64 ? UINT64_MAX : FSM_BIT(def->n_events) - 1;
  uint32_t all_states =
      def->n_states == 32 ? UINT32_MAX : (uint32_t)((UINT64_C(1) << def->n_states) - 1);
  for (unsigned e = 0; e < def->n_events; e++)
    if (def->events[e] == NULL) {
      g_set_error(error, FSM_ERROR, 0, "%s: event %u has no name", def->name, e);
      return false;
    }
  for (unsigned s = 0; s < def->n_states; s++) {
    const FsmState *st = &def->states[s];
    if (st->name == NULL) {
      g_set_error(error, FSM_ERROR, 0, "%s: state %u has no name", def->name, s);
      return false;
    }
    if (st->events & ~all_events) {
      g_set_error(error, FSM_ERROR, 0, "%s{%s}: accepts an event that does not exist", def->name,
                  st->name);
      return false;
    }
    if (st->next & ~all_states) {
      g_set_error(error, FSM_ERROR, 0, "%s{%s}: may go to a state that does not exist", def->name,
                  st->name);
      return false;
    }
    if (st->events != 0 && st->action == NULL) {
      g_set_error(error, FSM_ERROR, 0, "%s{%s}: accepts events but has no action", def->name,
                  st->name);
      return false;
    }
    if (st->timer != 0) {
      if (st->timer >= def->n_timers || def->timers == NULL ||
          def->timers[st->timer].name == NULL) {
        g_set_error(error, FSM_ERROR, 0, "%s{%s}: runs a timer that does not exist", def->name,
                    st->name);
        return false;
      }
      if (!(st->events & FSM_BIT(def->timers[st->timer].event))) {
        g_set_error(error, FSM_ERROR, 0, "%s{%s}: does not accept the expiry of its timer %s",
                    def->name, st->name, def->timers[st->timer].name);
        return false;
      }
    }
  }
  return true;
}

FsmLog *
fsm_log_new(FILE *out)
{
  FsmLog *log = g_new0(FsmLog, 1);
  log->out = out;
  return log;
}

void
fsm_log_free(FsmLog *log)
{
  if (log != NULL) {
    fflush(log->out);
    g_free(log);
  }
}

uint64_t
fsm_log_lines(const FsmLog *log)
{
  return log->lines;
}

void
fsm_logf(FsmLog *log, SimTime now, const FsmDef *def, uint64_t id, unsigned state, const char *fmt,
         ...)
{
  if (log == NULL)
    return;
  fprintf(log->out, "[%" G_GINT64_FORMAT ".%06" G_GINT64_FORMAT "] %s(%" G_GUINT64_FORMAT "){%s}: ",
          now / SIM_S, now % SIM_S, def->name, id, fsm_state_name(def, state));
  va_list ap;
  va_start(ap, fmt);
  vfprintf(log->out, fmt, ap);
  va_end(ap);
  fputc('\n', log->out);
  log->lines++;
}
