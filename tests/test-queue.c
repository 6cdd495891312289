/* Tests of the event queue and the engine loop: order against a sorted reference under
 * random schedule / cancel / run sequences on every queue kind, FIFO ties, cancelling
 * from handlers and after firing, and the clock's limits. */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../sim/queue.h"
#include "testutil.h"
#include "m2m/engine.h"

/* ---- random operations against a reference ------------------------------------------ */

typedef struct {
  SimTime time;
  uint64_t seq;
} RefKey;

static gint
ref_cmp(gconstpointer a, gconstpointer b, gpointer ud)
{
  const RefKey *x = a, *y = b;
  if (x->time != y->time)
    return x->time < y->time ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

typedef struct {
  SimEngine *sim;
  GRand *rand;
  GTree *ref;           /* RefKey -> token (pending events in expected order) */
  GHashTable *by_token; /* token -> RefKey */
  GArray *ids;          /* SimEventId by token (includes dead ones) */
  uint64_t next_seq;
  uint64_t fired_token;
  bool fired;
  uint64_t n_checked;
  bool burst; /* ref_delay: only short delays (a burst of traffic after a few timers) */
} RefWorld;

static void ref_handler(SimEngine *sim, void *ctx, uint64_t token);

static void
ref_schedule(RefWorld *w, SimTime delay)
{
  uint64_t token = w->ids->len;
  SimEventId id = sim_schedule(w->sim, delay, ref_handler, w, token);
  g_assert_cmpuint(id, !=, SIM_EVENT_NONE);
  g_array_append_val(w->ids, id);
  RefKey *k = g_new(RefKey, 1);
  *k = (RefKey){sim_now(w->sim) + delay, w->next_seq++};
  g_tree_insert(w->ref, k, GSIZE_TO_POINTER(token));
  g_hash_table_insert(w->by_token, GSIZE_TO_POINTER(token), k);
}

static SimTime
ref_delay(RefWorld *w)
{
  /* many ties: small delays, often 0; now and then a far-future timer (the calendar
   * queue keeps those in its overflow across rebuilds) */
  if (w->burst)
    return g_rand_int_range(w->rand, 0, 3) == 0 ? 0 : g_rand_int_range(w->rand, 1, 20000);
  if (g_rand_int_range(w->rand, 0, 50) == 0)
    return (SimTime)g_rand_int_range(w->rand, 1, 1000) * SIM_D;
  switch (g_rand_int_range(w->rand, 0, 4)) {
  case 0:
    return 0;
  case 1:
    return g_rand_int_range(w->rand, 0, 5);
  case 2:
    return g_rand_int_range(w->rand, 0, 1000);
  default:
    return g_rand_int_range(w->rand, 0, 1000000);
  }
}

static void
ref_cancel_random(RefWorld *w)
{
  if (w->ids->len == 0)
    return;
  uint64_t token = g_rand_int_range(w->rand, 0, (gint32)w->ids->len);
  SimEventId id = g_array_index(w->ids, SimEventId, token);
  RefKey *k = g_hash_table_lookup(w->by_token, GSIZE_TO_POINTER(token));
  bool expect = k != NULL;
  g_assert_cmpint(sim_is_pending(w->sim, id), ==, expect);
  g_assert_cmpint(sim_cancel(w->sim, id), ==, expect);
  g_assert_false(sim_cancel(w->sim, id));
  if (k) {
    g_tree_remove(w->ref, k);
    g_hash_table_remove(w->by_token, GSIZE_TO_POINTER(token));
  }
}

static gboolean
ref_first(gpointer key, gpointer value, gpointer data)
{
  *(gpointer *)data = key;
  return TRUE;
}

static void
ref_handler(SimEngine *sim, void *ctx, uint64_t token)
{
  RefWorld *w = ctx;
  RefKey *first = NULL;
  g_tree_foreach(w->ref, ref_first, &first);
  g_assert_nonnull(first);
  uint64_t expect = GPOINTER_TO_SIZE(g_tree_lookup(w->ref, first));
  g_assert_cmpuint(token, ==, expect);
  g_assert_cmpint(sim_now(sim), ==, first->time);
  g_tree_remove(w->ref, first);
  g_hash_table_remove(w->by_token, GSIZE_TO_POINTER(token));
  /* the running event is no longer pending */
  g_assert_false(sim_cancel(sim, g_array_index(w->ids, SimEventId, token)));
  w->n_checked++;
  /* from inside the handler: schedule (hold), cancel, or both */
  int r = g_rand_int_range(w->rand, 0, 8);
  if (r < 5)
    ref_schedule(w, ref_delay(w));
  if (r == 5 || r == 6)
    ref_cancel_random(w);
  sim_stop(sim);
}

static void
run_reference(SimQueueKind kind, guint32 seed)
{
  RefWorld w = {0};
  w.sim = sim_engine_new_with_queue(kind);
  w.rand = g_rand_new_with_seed(seed);
  w.ref = g_tree_new_full(ref_cmp, NULL, g_free, NULL);
  w.by_token = g_hash_table_new(g_direct_hash, g_direct_equal);
  w.ids = g_array_new(FALSE, FALSE, sizeof(SimEventId));
  for (int op = 0; op < 100000; op++) {
    int r = g_rand_int_range(w.rand, 0, 10);
    /* drift the pending population up and down */
    bool grow = (op / 20000) % 2 == 0;
    if (r < (grow ? 5 : 1)) {
      ref_schedule(&w, ref_delay(&w));
    } else if (r < (grow ? 7 : 4)) {
      ref_cancel_random(&w);
    } else {
      uint64_t before = sim_events_executed(w.sim);
      gint was_pending = g_tree_nnodes(w.ref);
      uint64_t n = sim_run(w.sim); /* the handler stops after one event */
      g_assert_cmpuint(n, ==, was_pending > 0 ? 1 : 0);
      g_assert_cmpuint(sim_events_executed(w.sim), ==, before + n);
    }
    g_assert_cmpuint(sim_events_pending(w.sim), ==, g_tree_nnodes(w.ref));
  }
  /* drain */
  while (g_tree_nnodes(w.ref) > 0)
    g_assert_cmpuint(sim_run(w.sim), ==, 1);
  g_assert_cmpuint(sim_run(w.sim), ==, 0);
  g_assert_cmpuint(sim_events_pending(w.sim), ==, 0);
  g_assert_cmpuint(w.n_checked, >, 10000);
  g_array_free(w.ids, TRUE);
  g_hash_table_destroy(w.by_token);
  g_tree_destroy(w.ref);
  g_rand_free(w.rand);
  sim_engine_free(w.sim);
}

static void
test_reference(gconstpointer data)
{
  SimQueueKind kind = (SimQueueKind)GPOINTER_TO_INT(data);
  for (guint32 seed = 1; seed <= 4; seed++)
    run_reference(kind, seed);
}

/* A dozen timers days apart size the calendar's first buckets, then a burst of short
 * delays (growing to ~10,000 pending, with cancels) lands in its bottom heap until that
 * is spread over new buckets (queue.c, simq_cal_respread; twice here): the order must
 * stay the reference's throughout. */
static void
test_bottom_spread(gconstpointer data)
{
  RefWorld w = {0};
  w.sim = sim_engine_new_with_queue((SimQueueKind)GPOINTER_TO_INT(data));
  w.rand = g_rand_new_with_seed(11);
  w.ref = g_tree_new_full(ref_cmp, NULL, g_free, NULL);
  w.by_token = g_hash_table_new(g_direct_hash, g_direct_equal);
  w.ids = g_array_new(FALSE, FALSE, sizeof(SimEventId));
  for (int i = 1; i <= 12; i++)
    ref_schedule(&w, (SimTime)i * 3 * SIM_D);
  g_assert_cmpuint(sim_run(w.sim), ==, 1); /* the calendar lays out its first buckets */
  w.burst = true;
  for (int op = 0; op < 60000; op++) {
    int r = g_rand_int_range(w.rand, 0, 10);
    if (r < (op < 30000 ? 6 : 2))
      ref_schedule(&w, ref_delay(&w));
    else if (r < (op < 30000 ? 7 : 3))
      ref_cancel_random(&w);
    else
      sim_run(w.sim); /* one event: the handler stops */
    g_assert_cmpuint(sim_events_pending(w.sim), ==, g_tree_nnodes(w.ref));
  }
  while (g_tree_nnodes(w.ref) > 0)
    g_assert_cmpuint(sim_run(w.sim), ==, 1);
  g_assert_cmpuint(w.n_checked, >, 20000);
  g_array_free(w.ids, TRUE);
  g_hash_table_destroy(w.by_token);
  g_tree_destroy(w.ref);
  g_rand_free(w.rand);
  sim_engine_free(w.sim);
}

/* A tiny seq limit forces the engine to renumber the pending entries every ~2000
 * insertions; order (time, then insertion) must not change across renumberings. */
typedef struct {
  GRand *rand;
  uint64_t inserted, ran;
  SimTime last_time;
  uint64_t last_arg;
} HoldCheck;

static void
hold_check_handler(SimEngine *sim, void *ctx, uint64_t arg)
{
  HoldCheck *h = ctx;
  g_assert_cmpint(sim_now(sim), >=, h->last_time);
  if (sim_now(sim) == h->last_time && h->ran > 0)
    g_assert_cmpuint(arg, >, h->last_arg); /* FIFO among ties */
  h->last_time = sim_now(sim);
  h->last_arg = arg;
  h->ran++;
  if (h->ran < 100000)
    sim_schedule(sim, g_rand_int_range(h->rand, 0, 3), hold_check_handler, h, h->inserted++);
}

static void
test_renumber(gconstpointer data)
{
  g_autoptr(SimEngine) sim = sim_engine_new_with_queue((SimQueueKind)GPOINTER_TO_INT(data));
  sim_engine_set_seq_limit_for_tests(sim, 3000);
  HoldCheck h = {g_rand_new_with_seed(7), 0, 0, 0, 0};
  for (int i = 0; i < 1000; i++)
    sim_schedule(sim, g_rand_int_range(h.rand, 0, 3), hold_check_handler, &h, h.inserted++);
  g_assert_cmpuint(sim_run(sim), ==, 100000 + 999);
  g_assert_cmpuint(h.ran, ==, 100999);
  g_rand_free(h.rand);
}

/* Hold models on delay distributions that stress bucket sizing (all ties, heavy tails,
 * two far-apart clusters): order and FIFO checked on every event. */
typedef struct {
  HoldCheck h;
  int shape;
} ShapedHold;

static SimTime
shaped_delay(ShapedHold *s)
{
  GRand *r = s->h.rand;
  switch (s->shape) {
  case 0: /* everything at the same instant */
    return 0;
  case 1: /* heavy tail: exp of a wide normal, from microseconds to days */
    return (SimTime)fmin(exp(g_rand_double_range(r, 0, 25)), 1e11);
  default: /* two clusters: now-ish and a day later */
    return g_rand_boolean(r) ? g_rand_int_range(r, 0, 100) : SIM_D + g_rand_int_range(r, 0, 100);
  }
}

static void
shaped_handler(SimEngine *sim, void *ctx, uint64_t arg)
{
  ShapedHold *s = ctx;
  HoldCheck *h = &s->h;
  g_assert_cmpint(sim_now(sim), >=, h->last_time);
  if (sim_now(sim) == h->last_time && h->ran > 0)
    g_assert_cmpuint(arg, >, h->last_arg);
  h->last_time = sim_now(sim);
  h->last_arg = arg;
  if (++h->ran < 60000)
    sim_schedule(sim, shaped_delay(s), shaped_handler, s, h->inserted++);
}

static void
test_shaped_holds(gconstpointer data)
{
  for (int shape = 0; shape < 3; shape++) {
    g_autoptr(SimEngine) sim = sim_engine_new_with_queue((SimQueueKind)GPOINTER_TO_INT(data));
    ShapedHold s = {{g_rand_new_with_seed(11 + shape), 0, 0, 0, 0}, shape};
    for (int i = 0; i < 5000; i++)
      sim_schedule(sim, shaped_delay(&s), shaped_handler, &s, s.h.inserted++);
    g_assert_cmpuint(sim_run(sim), ==, 60000 + 4999);
    g_rand_free(s.h.rand);
  }
}

/* ---- FIFO ties ----------------------------------------------------------------------- */

typedef struct {
  GArray *order;
} Log;

static void
log_handler(SimEngine *sim, void *ctx, uint64_t arg)
{
  Log *l = ctx;
  g_array_append_val(l->order, arg);
}

static void
test_fifo_ties(gconstpointer data)
{
  g_autoptr(SimEngine) sim = sim_engine_new_with_queue((SimQueueKind)GPOINTER_TO_INT(data));
  Log l = {g_array_new(FALSE, FALSE, sizeof(uint64_t))};
  /* 3000 events over three times, inserted interleaved: each time's events must run in
   * insertion order */
  for (uint64_t i = 0; i < 3000; i++)
    sim_schedule_at(sim, (SimTime)(2 - i % 3) * 10, log_handler, &l, i);
  g_assert_cmpuint(sim_run(sim), ==, 3000);
  g_assert_cmpuint(l.order->len, ==, 3000);
  uint64_t prev = 0;
  for (guint i = 0; i < 3000; i++) {
    uint64_t a = g_array_index(l.order, uint64_t, i);
    g_assert_cmpuint(2 - a % 3, ==, i / 1000); /* times 0, 10, 20 in order */
    if (i % 1000)
      g_assert_cmpuint(a, >, prev);
    prev = a;
  }
  g_assert_cmpint(sim_now(sim), ==, 20);
  g_array_free(l.order, TRUE);
}

/* Events scheduled with delay 0 from a handler run after those already at that time. */
static void
zero_delay_handler(SimEngine *sim, void *ctx, uint64_t arg)
{
  Log *l = ctx;
  g_array_append_val(l->order, arg);
  if (arg < 3)
    sim_schedule(sim, 0, zero_delay_handler, ctx, arg + 100);
}

static void
test_zero_delay(void)
{
  g_autoptr(SimEngine) sim = sim_engine_new();
  Log l = {g_array_new(FALSE, FALSE, sizeof(uint64_t))};
  for (uint64_t i = 0; i < 3; i++)
    sim_schedule_at(sim, 5, zero_delay_handler, &l, i);
  sim_run(sim);
  const uint64_t expect[] = {0, 1, 2, 100, 101, 102};
  g_assert_cmpuint(l.order->len, ==, 6);
  for (guint i = 0; i < 6; i++)
    g_assert_cmpuint(g_array_index(l.order, uint64_t, i), ==, expect[i]);
  g_array_free(l.order, TRUE);
}

/* ---- cancelling ---------------------------------------------------------------------- */

typedef struct {
  SimEventId victim, self;
  int ran_victim, ran_killer;
  bool self_cancel_result, victim_cancel_result;
} CancelCtx;

static void
victim_handler(SimEngine *sim, void *ctx, uint64_t arg)
{
  ((CancelCtx *)ctx)->ran_victim++;
}

static void
killer_handler(SimEngine *sim, void *ctx, uint64_t arg)
{
  CancelCtx *c = ctx;
  c->ran_killer++;
  c->self_cancel_result = sim_cancel(sim, c->self);
  c->victim_cancel_result = sim_cancel(sim, c->victim);
}

static void
test_cancel(gconstpointer data)
{
  SimQueueKind kind = (SimQueueKind)GPOINTER_TO_INT(data);
  g_autoptr(SimEngine) sim = sim_engine_new_with_queue(kind);
  CancelCtx c = {0};
  g_assert_false(sim_cancel(sim, SIM_EVENT_NONE));
  g_assert_false(sim_cancel(sim, (SimEventId)1 << 32 | 12345)); /* never issued */
  c.self = sim_schedule(sim, 10, killer_handler, &c, 0);
  c.victim = sim_schedule(sim, 10, victim_handler, &c, 0); /* same time, after killer */
  g_assert_true(sim_is_pending(sim, c.victim));
  g_assert_cmpuint(sim_events_pending(sim), ==, 2);
  sim_run(sim);
  g_assert_cmpint(c.ran_killer, ==, 1);
  g_assert_cmpint(c.ran_victim, ==, 0);
  g_assert_false(c.self_cancel_result); /* running: no longer pending */
  g_assert_true(c.victim_cancel_result);
  g_assert_false(sim_cancel(sim, c.self));   /* after it fired */
  g_assert_false(sim_cancel(sim, c.victim)); /* twice */
  g_assert_cmpuint(sim_events_executed(sim), ==, 1);

  /* a dead id stays dead when its record is reused */
  SimEventId fresh = sim_schedule(sim, 1, victim_handler, &c, 0);
  g_assert_false(sim_cancel(sim, c.self));
  g_assert_false(sim_cancel(sim, c.victim));
  g_assert_true(sim_is_pending(sim, fresh));
  g_assert_true(sim_cancel(sim, fresh));
  g_assert_cmpuint(sim_events_pending(sim), ==, 0);
}

/* Cancelling most of a large population (triggers heap compaction), the rest in order. */
static void
test_cancel_mass(gconstpointer data)
{
  g_autoptr(SimEngine) sim = sim_engine_new_with_queue((SimQueueKind)GPOINTER_TO_INT(data));
  Log l = {g_array_new(FALSE, FALSE, sizeof(uint64_t))};
  GArray *ids = g_array_new(FALSE, FALSE, sizeof(SimEventId));
  for (uint64_t i = 0; i < 20000; i++) {
    SimEventId id = sim_schedule(sim, (SimTime)((i * 7919) % 20000), log_handler, &l, i);
    g_array_append_val(ids, id);
  }
  for (guint i = 0; i < 20000; i++)
    if (i % 10 != 0)
      g_assert_true(sim_cancel(sim, g_array_index(ids, SimEventId, i)));
  g_assert_cmpuint(sim_events_pending(sim), ==, 2000);
  g_assert_cmpuint(sim_run(sim), ==, 2000);
  SimTime prev = -1;
  for (guint i = 0; i < l.order->len; i++) {
    uint64_t a = g_array_index(l.order, uint64_t, i);
    g_assert_cmpuint(a % 10, ==, 0);
    SimTime t = (SimTime)((a * 7919) % 20000);
    g_assert_cmpint(t, >, prev);
    prev = t;
  }
  g_array_free(ids, TRUE);
  g_array_free(l.order, TRUE);
}

/* ---- clock --------------------------------------------------------------------------- */

static void
count_handler(SimEngine *sim, void *ctx, uint64_t arg)
{
  (*(int *)ctx)++;
}

static void
test_clock_limits(void)
{
  g_autoptr(SimEngine) sim = sim_engine_new();
  int n = 0;
  /* "never" is refused, not clamped: an event at SIM_TIME_MAX could never run */
  g_assert_cmpuint(sim_schedule(sim, SIM_TIME_MAX, count_handler, &n, 0), ==, SIM_EVENT_NONE);
  g_assert_cmpuint(sim_schedule_at(sim, SIM_TIME_MAX, count_handler, &n, 0), ==, SIM_EVENT_NONE);
  g_assert_cmpuint(sim_events_pending(sim), ==, 0);
  g_assert_cmpuint(sim_schedule_at(sim, SIM_TIME_MAX - 1, count_handler, &n, 0), !=,
                   SIM_EVENT_NONE);
  g_assert_cmpuint(sim_run_until(sim, 100), ==, 0);
  g_assert_cmpint(sim_now(sim), ==, 100); /* the clock moves to end */
  g_assert_cmpint(sim_next_time(sim), ==, SIM_TIME_MAX - 1);
  g_assert_cmpuint(sim_run(sim), ==, 1);
  g_assert_cmpint(n, ==, 1);
  g_assert_cmpint(sim_now(sim), ==, SIM_TIME_MAX - 1);
  /* near the end of time: now + delay would overflow */
  g_assert_cmpuint(sim_schedule(sim, 1, count_handler, &n, 0), ==, SIM_EVENT_NONE);
  g_assert_cmpuint(sim_schedule(sim, SIM_TIME_MAX, count_handler, &n, 0), ==, SIM_EVENT_NONE);
  g_assert_cmpuint(sim_schedule(sim, 0, count_handler, &n, 0), !=, SIM_EVENT_NONE);
  g_assert_cmpuint(sim_run(sim), ==, 1);
  g_assert_cmpint(sim_next_time(sim), ==, SIM_TIME_MAX);
  /* running until a time in the past does nothing */
  g_assert_cmpuint(sim_run_until(sim, 5), ==, 0);
  g_assert_cmpint(sim_now(sim), ==, SIM_TIME_MAX - 1);
}

static void
test_run_until_boundary(void)
{
  g_autoptr(SimEngine) sim = sim_engine_new();
  int n = 0;
  sim_schedule_at(sim, 10, count_handler, &n, 0);
  sim_schedule_at(sim, 11, count_handler, &n, 0);
  g_assert_cmpuint(sim_run_until(sim, 10), ==, 1); /* events at end run */
  g_assert_cmpint(sim_now(sim), ==, 10);
  g_assert_false(sim_stopped(sim));
  g_assert_cmpuint(sim_run_until(sim, 20), ==, 1);
  g_assert_cmpint(sim_now(sim), ==, 20);
  g_assert_cmpint(n, ==, 2);
}

static void
test_negative_delay(void)
{
  if (g_test_subprocess()) {
    g_autoptr(SimEngine) sim = sim_engine_new();
    int n = 0;
    sim_schedule(sim, -1, count_handler, &n, 0);
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed();
}

static void
test_past_absolute(void)
{
  if (g_test_subprocess()) {
    g_autoptr(SimEngine) sim = sim_engine_new();
    int n = 0;
    sim_run_until(sim, 50);
    sim_schedule_at(sim, 49, count_handler, &n, 0);
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed();
}

/* `m2msim bench engine` on a tiny load: the two result lines, and bad options refused. */
static void
test_bench_cli(void)
{
  for (int k = 0; k < SIM_QUEUE_N_KINDS; k++) {
    g_autofree char *out = NULL, *err = NULL;
    int rc = tu_run_m2msim(&out, &err, "bench", "engine", "--events", "3000", "--pending", "50",
                           "--queue", sim_queue_kind_name((SimQueueKind)k), NULL);
    g_assert_cmpint(rc, ==, 0);
    g_assert_true(g_regex_match_simple("^events_per_s: [0-9]+$", out, G_REGEX_MULTILINE, 0));
    g_assert_true(g_regex_match_simple("^peak_rss_kib: [0-9]+$", out, G_REGEX_MULTILINE, 0));
    g_assert_true(g_regex_match_simple("^events: 3000$", out, G_REGEX_MULTILINE, 0));
  }
  const char *bad[][2] = {{"--queue", "ladder"}, {"--events", "0"}, {"--pending", "-3"}};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *err = NULL;
    g_assert_cmpint(tu_run_m2msim(NULL, &err, "bench", "engine", bad[i][0], bad[i][1], NULL), ==,
                    2);
    g_assert_nonnull(strstr(err, "bench engine"));
  }
}

static void
test_queue_names(void)
{
  for (int k = 0; k < SIM_QUEUE_N_KINDS; k++) {
    SimQueueKind back;
    g_assert_true(sim_queue_kind_from_name(sim_queue_kind_name((SimQueueKind)k), &back));
    g_assert_cmpint(back, ==, k);
  }
  SimQueueKind dummy;
  g_assert_false(sim_queue_kind_from_name("ladder", &dummy));
  g_autoptr(SimEngine) sim = sim_engine_new();
  g_assert_cmpint(sim_queue_kind(sim), ==, SIM_QUEUE_DEFAULT);
}

/* Prefetch hooks: the hook of the handler of the event likely next is called with that
 * event's ctx and arg before the current one runs; on a random load it names the event
 * that does run next most of the time; the order of events does not change. */
typedef struct {
  GArray *ran;    /* args in the order they ran */
  GArray *hinted; /* the arg the hook was given before each event ran */
  uint64_t last_hint;
} PfLog;

static void
pf_event(SimEngine *sim, void *ctx, uint64_t arg)
{
  PfLog *l = ctx;
  g_array_append_val(l->ran, arg);
  g_array_append_val(l->hinted, l->last_hint);
  l->last_hint = UINT64_MAX;
}

static void
pf_hook(void *ctx, uint64_t arg)
{
  ((PfLog *)ctx)->last_hint = arg;
}

static void
test_prefetch_hook(void)
{
  for (int with_hook = 0; with_hook < 2; with_hook++) {
    g_autoptr(SimEngine) sim = sim_engine_new();
    PfLog l = {g_array_new(FALSE, FALSE, sizeof(uint64_t)),
               g_array_new(FALSE, FALSE, sizeof(uint64_t)), UINT64_MAX};
    if (with_hook)
      sim_set_prefetch(sim, pf_event, pf_hook);
    GRand *r = g_rand_new_with_seed(3);
    for (uint64_t i = 0; i < 5000; i++)
      sim_schedule(sim, g_rand_int_range(r, 0, 1000000), pf_event, &l, i);
    g_rand_free(r);
    sim_run(sim);
    g_assert_cmpuint(l.ran->len, ==, 5000);
    static uint64_t first[5000];
    if (!with_hook) {
      memcpy(first, l.ran->data, sizeof first);
    } else {
      g_assert_cmpmem(first, sizeof first, l.ran->data, sizeof first); /* same order */
      guint right = 0;
      for (guint i = 1; i < l.ran->len; i++)
        right += g_array_index(l.hinted, uint64_t, i - 1) == g_array_index(l.ran, uint64_t, i);
      /* the hint was the event that ran next, but where the next one sits in the next
       * calendar bucket (not loaded yet) */
      g_assert_cmpuint(right, >, 3000);
    }
    g_array_unref(l.ran);
    g_array_unref(l.hinted);
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  for (int k = 0; k < SIM_QUEUE_N_KINDS; k++) {
    const char *name = sim_queue_kind_name((SimQueueKind)k);
    gconstpointer d = GINT_TO_POINTER(k);
    char path[128];
    snprintf(path, sizeof path, "/queue/%s/reference", name);
    g_test_add_data_func(path, d, test_reference);
    snprintf(path, sizeof path, "/queue/%s/bottom-spread", name);
    g_test_add_data_func(path, d, test_bottom_spread);
    snprintf(path, sizeof path, "/queue/%s/renumber", name);
    g_test_add_data_func(path, d, test_renumber);
    snprintf(path, sizeof path, "/queue/%s/shaped-holds", name);
    g_test_add_data_func(path, d, test_shaped_holds);
    snprintf(path, sizeof path, "/queue/%s/fifo-ties", name);
    g_test_add_data_func(path, d, test_fifo_ties);
    snprintf(path, sizeof path, "/queue/%s/cancel", name);
    g_test_add_data_func(path, d, test_cancel);
    snprintf(path, sizeof path, "/queue/%s/cancel-mass", name);
    g_test_add_data_func(path, d, test_cancel_mass);
  }
  g_test_add_func("/engine/zero-delay", test_zero_delay);
  g_test_add_func("/engine/prefetch-hook", test_prefetch_hook);
  g_test_add_func("/engine/clock-limits", test_clock_limits);
  g_test_add_func("/engine/run-until-boundary", test_run_until_boundary);
  g_test_add_func("/engine/negative-delay", test_negative_delay);
  g_test_add_func("/engine/past-absolute", test_past_absolute);
  g_test_add_func("/engine/queue-names", test_queue_names);
  g_test_add_func("/engine/bench-cli", test_bench_cli);
  return g_test_run();
}
