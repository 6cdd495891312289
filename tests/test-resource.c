/* Tests of the multi-server FIFO resource: a hand-checked small case, and an M/M/4 queue
 * at utilisation 0.8 against Erlang C (mean wait, a tail quantile), utilisation, and
 * Little's law for the queue length. */
#include <glib.h>
#include <math.h>

#include "m2m/dist.h"
#include "m2m/resource.h"

typedef struct {
  GArray *done; /* arg of each completion, in order */
  GArray *at;   /* its time */
} Done;

static void
on_done(SimEngine *sim, void *ctx, uint64_t arg)
{
  Done *d = ctx;
  SimTime t = sim_now(sim);
  g_array_append_val(d->done, arg);
  g_array_append_val(d->at, t);
}

/* Two servers, four requests of 10 us at t = 0, one of 5 us at t = 3. */
static void
test_small(void)
{
  g_autoptr(SimEngine) sim = sim_engine_new();
  g_autoptr(SimResource) r = sim_resource_new(sim, "av", 2);
  Done d = {g_array_new(FALSE, FALSE, sizeof(uint64_t)),
            g_array_new(FALSE, FALSE, sizeof(SimTime))};
  for (uint64_t i = 0; i < 4; i++)
    sim_resource_request(r, 10, on_done, &d, i);
  g_assert_cmpuint(sim_resource_busy(r), ==, 2);
  g_assert_cmpuint(sim_resource_queue_length(r), ==, 2);
  g_assert_cmpfloat(sim_resource_probe_queue_length(r), >, 1.5);
  sim_run_until(sim, 3);
  sim_resource_request(r, 5, on_done, &d, 4);
  sim_run_until(sim, 40);
  /* 0,1 end at 10; 2,3 start at 10 end at 20; 4 starts at 20 (waited 17) ends at 25 */
  const uint64_t order[] = {0, 1, 2, 3, 4};
  const SimTime at[] = {10, 10, 20, 20, 25};
  g_assert_cmpuint(d.done->len, ==, 5);
  for (int i = 0; i < 5; i++) {
    g_assert_cmpuint(g_array_index(d.done, uint64_t, i), ==, order[i]);
    g_assert_cmpint(g_array_index(d.at, SimTime, i), ==, at[i]);
  }
  const StatTally *w = sim_resource_wait_tally(r);
  g_assert_cmpuint(w->n, ==, 5);
  g_assert_cmpfloat_with_epsilon(stat_tally_mean(w), (0 + 0 + 10 + 10 + 17) / 5.0, 1e-12);
  g_assert_cmpfloat_with_epsilon(stat_quantiles_get(sim_resource_wait_quantiles(r), 1), 17, 1e-12);
  /* busy server time: 2x20 + 5 = 45 over 2 x 40 */
  g_assert_cmpfloat_with_epsilon(sim_resource_utilisation(r), 45.0 / 80.0, 1e-12);
  /* queue: 2 on [0,10), 1 on [3,.. ) -> 2 on [0,3), 3 on [3,10), 1 on [10,20), 0 after */
  g_assert_cmpfloat_with_epsilon(sim_resource_mean_queue_length(r), (6 + 21 + 10) / 40.0, 1e-12);
  g_assert_cmpuint(sim_resource_arrivals(r), ==, 5);
  g_assert_cmpuint(sim_resource_completed(r), ==, 5);
  g_assert_cmpuint(sim_resource_busy(r), ==, 0);
  g_array_free(d.done, TRUE);
  g_array_free(d.at, TRUE);
}

/* ---- M/M/c against Erlang C ---------------------------------------------------------- */

enum { MMC_C = 4, MMC_N = 1500000, MMC_BATCHES = 30 };

typedef struct {
  SimResource *res;
  RngStream arrivals, services;
  DistSpec inter, service;
  uint64_t n;
  SimTime *arrived; /* per customer */
  SimTime *service_us;
  double batch_sum[MMC_BATCHES];
  uint64_t batch_n[MMC_BATCHES];
} Mmc;

static void
mmc_done(SimEngine *sim, void *ctx, uint64_t id)
{
  Mmc *m = ctx;
  double wait = (double)(sim_now(sim) - m->arrived[id] - m->service_us[id]);
  unsigned b = (unsigned)(id * MMC_BATCHES / MMC_N);
  m->batch_sum[b] += wait;
  m->batch_n[b]++;
}

static void
mmc_arrival(SimEngine *sim, void *ctx, uint64_t id)
{
  Mmc *m = ctx;
  m->arrived[id] = sim_now(sim);
  m->service_us[id] = dist_sample(&m->service, &m->services);
  sim_resource_request(m->res, m->service_us[id], mmc_done, m, id);
  if (id + 1 < MMC_N)
    sim_schedule(sim, dist_sample(&m->inter, &m->arrivals), mmc_arrival, m, id + 1);
}

/* Erlang C: probability that an arrival waits, offered load a = lambda / mu, c servers. */
static double
erlang_c(int c, double a)
{
  double term = 1, sum = 0;
  for (int k = 0; k < c; k++) {
    sum += term;
    term *= a / (k + 1);
  }
  double top = term * c / (c - a); /* a^c / c! * c / (c - a) */
  return top / (sum + top);
}

static void
test_mmc_erlang_c(void)
{
  const double mu = 1.0, lambda = 0.8 * MMC_C * mu; /* per second */
  g_autoptr(SimEngine) sim = sim_engine_new();
  Mmc *m = g_new0(Mmc, 1);
  m->res = sim_resource_new(sim, "mmc", MMC_C);
  rng_stream_init(&m->arrivals, 12345, 1, 0);
  rng_stream_init(&m->services, 12345, 2, 0);
  m->inter = (DistSpec){DIST_EXPONENTIAL, (SimTime)llround(1e6 / lambda)};
  m->service = (DistSpec){DIST_EXPONENTIAL, (SimTime)llround(1e6 / mu)};
  m->arrived = g_new(SimTime, MMC_N);
  m->service_us = g_new(SimTime, MMC_N);
  sim_schedule(sim, 0, mmc_arrival, m, 0);
  sim_run(sim);
  g_assert_cmpuint(sim_resource_completed(m->res), ==, MMC_N);

  /* theory, in seconds */
  double pw = erlang_c(MMC_C, lambda / mu);
  double wq = pw / (MMC_C * mu - lambda);
  /* waits are autocorrelated: the standard error comes from batch means */
  double bm[MMC_BATCHES], mean = 0;
  for (int b = 0; b < MMC_BATCHES; b++) {
    bm[b] = m->batch_sum[b] / (double)m->batch_n[b] / 1e6;
    mean += bm[b] / MMC_BATCHES;
  }
  double ss = 0;
  for (int b = 0; b < MMC_BATCHES; b++)
    ss += (bm[b] - mean) * (bm[b] - mean);
  double se = sqrt(ss / (MMC_BATCHES - 1) / MMC_BATCHES);
  const StatTally *w = sim_resource_wait_tally(m->res);
  double tally_mean = stat_tally_mean(w) / 1e6;
  g_test_message("P(wait) %g, Wq theory %g s, simulated %g s (batch-means se %g), tally %g", pw, wq,
                 mean, se, tally_mean);
  g_assert_cmpfloat(fabs(tally_mean - mean), <, 1e-9 * mean); /* same samples */
  g_assert_cmpfloat(fabs(mean - wq), <, 5 * se);
  g_assert_cmpfloat(se, <, 0.02 * wq); /* enough customers for the test to mean something */

  /* P(W > t) = pw exp(-(c mu - lambda) t): the 0.9 quantile; tolerance 5% (1% sketch
   * error plus sampling error of a tail quantile, about 5 batch-means SEs of the mean) */
  double t90 = -log(0.1 / pw) / (MMC_C * mu - lambda);
  double q90 = stat_quantiles_get(sim_resource_wait_quantiles(m->res), 0.9) / 1e6;
  g_test_message("0.9 quantile: theory %g s, simulated %g s", t90, q90);
  g_assert_cmpfloat(fabs(q90 - t90), <, 0.05 * t90);
  /* the fraction that did not wait at all is 1 - P(wait) */
  double p0 = stat_quantiles_get(sim_resource_wait_quantiles(m->res), 1 - pw - 0.01);
  g_assert_cmpfloat(p0, <=, 0);

  /* utilisation lambda / (c mu) = 0.8; the sampling error of the busy fraction over
   * ~470,000 s of simulated time is well below 0.005 */
  double u = sim_resource_utilisation(m->res);
  g_test_message("utilisation %g", u);
  g_assert_cmpfloat(fabs(u - 0.8), <, 0.005);
  /* Little: mean queue length = arrival rate x mean wait (same run, exact up to the
   * customers still waiting at the end, none here) */
  double elapsed = sim_time_to_s(sim_now(sim));
  double lq = sim_resource_mean_queue_length(m->res);
  g_assert_cmpfloat(fabs(lq - (double)MMC_N / elapsed * tally_mean), <, 1e-6 * lq);

  sim_resource_free(m->res);
  g_free(m->arrived);
  g_free(m->service_us);
  g_free(m);
}

/* Peaks over one-second windows: 2 servers; at 0.2 s three requests of 2.5 s (the third
 * waits until 2.7 s); at 6 s, 2 requests of 0.25 s; then nothing until 100 s. Window
 * [1, 2): both servers busy all second -> 1; the rate peak is the 3 requests of the first
 * window; the queue peak 1. A class of its own keeps its waits. */
static void
test_peaks(void)
{
  g_autoptr(SimEngine) sim = sim_engine_new();
  g_autoptr(SimResource) r = sim_resource_new(sim, "av", 2);
  sim_run_until(sim, 200000);
  for (int i = 0; i < 3; i++)
    sim_resource_request_as(r, i == 2, 2500000, NULL, NULL, 0);
  g_assert_cmpuint(sim_resource_take_queue_max(r), ==, 1);
  sim_run_until(sim, 6 * SIM_S);
  g_assert_cmpuint(sim_resource_take_queue_max(r), ==, 1); /* it still waited when taken */
  g_assert_cmpuint(sim_resource_take_queue_max(r), ==, 0);
  sim_resource_request(r, 250000, NULL, NULL, 0);
  sim_resource_request(r, 250000, NULL, NULL, 0);
  sim_run_until(sim, 100 * SIM_S);
  g_assert_cmpfloat_with_epsilon(sim_resource_utilisation_peak(r), 1.0, 1e-12);
  g_assert_cmpfloat_with_epsilon(sim_resource_rate_peak(r), 3.0, 1e-12);
  g_assert_cmpuint(sim_resource_queue_peak(r), ==, 1);
  /* busy integral: 2.5 x 3 + 0.25 x 2 server-s; the whole-run utilisation hides the peak */
  g_assert_cmpfloat_with_epsilon(sim_resource_busy_integral(r), 8.0e6, 1e-6);
  g_assert_cmpfloat_with_epsilon(sim_resource_utilisation(r), 8.0 / 200, 1e-12);
  g_assert_cmpfloat_with_epsilon(sim_resource_queue_integral(r), 2.5e6, 1e-6);
  /* the third request (class 1) waited 2.5 s for a server; class 0 never waited */
  g_assert_cmpuint(sim_resource_class_wait_tally(r, 1)->n, ==, 1);
  g_assert_cmpfloat_with_epsilon(stat_tally_mean(sim_resource_class_wait_tally(r, 1)), 2.5e6, 1e-6);
  g_assert_cmpuint(sim_resource_class_wait_tally(r, 0)->n, ==, 4);
  g_assert_cmpfloat_with_epsilon(sim_resource_class_wait_tally(r, 0)->max, 0, 1e-12);
  g_assert_cmpuint(sim_resource_wait_tally(r)->n, ==, 5);
}

/* A peak that only the window in progress holds is counted when read mid-window, and a
 * level held over many quiet windows counts as one of them. */
static void
test_peak_open_window(void)
{
  g_autoptr(SimEngine) sim = sim_engine_new();
  g_autoptr(SimResource) r = sim_resource_new(sim, "av", 4);
  sim_resource_request(r, 50 * SIM_S, NULL, NULL, 0); /* 1 of 4 busy for 50 s */
  sim_run_until(sim, 10 * SIM_S + SIM_S / 2);
  g_assert_cmpfloat_with_epsilon(sim_resource_utilisation_peak(r), 0.25, 1e-12);
  for (int i = 0; i < 3; i++)
    sim_resource_request(r, SIM_S / 2, NULL, NULL, 0); /* all 4 busy for the second half */
  sim_run_until(sim, 11 * SIM_S - 1);
  g_assert_cmpfloat_with_epsilon(sim_resource_utilisation_peak(r), (1 + 3 * 0.5 - 4e-6) / 4, 1e-9);
  g_assert_cmpfloat_with_epsilon(sim_resource_rate_peak(r), 3.0, 1e-12);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/resource/small", test_small);
  g_test_add_func("/resource/mmc-erlang-c", test_mmc_erlang_c);
  g_test_add_func("/resource/peaks", test_peaks);
  g_test_add_func("/resource/peak-open-window", test_peak_open_window);
  return g_test_run();
}
