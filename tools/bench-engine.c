/* `m2msim bench engine`: events per second of the engine on a PHOLD-style hold load, the
 * workload of the ns-3 peer (tools/peers/ns3-phold, ns-3's schedulers from Debian
 * libns3-dev): K events pending; each executed event schedules one new event after an
 * Exp(1 s) delay drawn by an xorshift64 generator (the peer's --rng=fast); stop after N
 * events. The time to schedule the K initial events is excluded, as in the peer.
 *
 * This is the benchmark that chose the engine's queue (table in sim/queue.c and
 * README.md); --queue reruns the comparison. */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "cli.h"
#include "m2m/engine.h"

static const char summary[] =
    "Runs a PHOLD-style load: K events pending, each executed event schedules one new\n"
    "event after an Exp(1 s) delay, until N events have run. Prints:\n"
    "  events_per_s: N    executed events per second of wall time\n"
    "  peak_rss_kib: N    peak resident set size of the process (getrusage ru_maxrss)\n"
    "Queues: calendar (the engine's default), heap4, heap8, heap2, pairing.";

typedef struct {
  uint64_t xs;     /* xorshift64 state */
  uint64_t target; /* events to execute */
  uint64_t done;
} Phold;

static inline SimTime
phold_delay(Phold *p)
{
  uint64_t x = p->xs;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  p->xs = x;
  double u = ((double)(x >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  return (SimTime)(-log(u) * (double)SIM_S + 0.5);
}

static void
phold_handler(SimEngine *sim, void *ctx, uint64_t arg)
{
  Phold *p = ctx;
  if (++p->done >= p->target) {
    sim_stop(sim);
    return;
  }
  sim_schedule(sim, phold_delay(p), phold_handler, p, arg);
}

int
bench_engine(int argc, char **argv)
{
  g_autofree char *events_s = NULL, *pending_s = NULL, *queue_s = NULL;
  const GOptionEntry entries[] = {
      {"events", 0, 0, G_OPTION_ARG_STRING, &events_s, "events to execute (10000000)", "N"},
      {"pending", 0, 0, G_OPTION_ARG_STRING, &pending_s, "events pending (10000)", "K"},
      {"queue", 0, 0, G_OPTION_ARG_STRING, &queue_s,
       "calendar (default), heap4, heap8, heap2, pairing", "NAME"},
      {NULL},
  };
  if (!cli_parse("bench engine", "", summary, entries, &argc, &argv))
    return CLI_EXIT_USAGE;
  if (argc > 1)
    return cli_usage_error("bench engine", "unexpected argument '%s'", argv[1]);
  uint64_t n = 10000000, k = 10000;
  if (events_s && !cli_uint_arg("bench engine", "events", events_s, UINT64_MAX / 2, &n))
    return CLI_EXIT_USAGE;
  if (pending_s && !cli_uint_arg("bench engine", "pending", pending_s, 100000000, &k))
    return CLI_EXIT_USAGE;
  if (n == 0 || k == 0)
    return cli_usage_error("bench engine", "--events and --pending must be at least 1");
  SimQueueKind kind = SIM_QUEUE_DEFAULT;
  if (queue_s && !sim_queue_kind_from_name(queue_s, &kind))
    return cli_usage_error("bench engine",
                           "--queue: unknown queue '%s' (calendar, heap4, heap8, heap2, pairing)",
                           queue_s);

  g_autoptr(SimEngine) sim = sim_engine_new_with_queue(kind);
  Phold p = {88172645463325252u, n, 0};
  for (uint64_t i = 0; i < k; i++)
    sim_schedule(sim, phold_delay(&p), phold_handler, &p, i);
  double t0 = cli_now_s();
  sim_run(sim);
  double secs = cli_now_s() - t0;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("queue: %s\npending: %llu\nevents: %llu\nseconds: %.3f\nsim_time_s: %.3f\n",
         sim_queue_kind_name(kind), (unsigned long long)k,
         (unsigned long long)sim_events_executed(sim), secs, sim_time_to_s(sim_now(sim)));
  printf("events_per_s: %.0f\n", (double)sim_events_executed(sim) / (secs > 0 ? secs : 1e-9));
  printf("peak_rss_kib: %ld\n", ru.ru_maxrss);
  return CLI_EXIT_OK;
}
