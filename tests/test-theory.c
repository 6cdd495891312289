/* Checks of the provisioning world against queueing theory (issue 4, "Checks against
 * theory"). Each test writes a scenario built so that a textbook result applies, runs it
 * with `m2msim run FILE -o DB` and reads the figures back from the results database:
 *
 * - M/M/c: Poisson production, constant delays everywhere else, exponential AV service
 *   and exactly one AV request per device (av_batch 1, one accepting network, no failures,
 *   the home operator known before power-on) make the RS's AV generators an M/M/c queue
 *   (Poisson arrivals: a Poisson process shifted by a constant stays Poisson); its mean
 *   wait must match Erlang C within 5% at utilisation 0.8.
 * - Little's law on the PIMSI pool (recycling after provisioning, with a quarantine).
 * - Exhaustion time without releases: pool size / production rate; with a fraction f of the
 *   equipment given its home operator's USIM at the factory, pool / (rate x (1 - f)).
 * - Every device is accounted for: manufactured = provisioned + failed + in progress.
 *
 * The runs are deterministic (fixed seeds); set M2M_THEORY_SEED=N to run them with
 * another seed when checking that a tolerance is not met by luck.
 * Until `m2msim run` exists (it refuses with "not available yet"), the run-based tests
 * are skipped with a message saying so; the Erlang C formula is tested on its own. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "m2m/results.h"
#include "testutil.h"

/* ---- Erlang C ---------------------------------------------------------------------- */

/* Probability that an arrival has to wait in an M/M/c queue offered a = lambda / mu
 * erlangs (0 <= a < c): Erlang's C formula, computed through the Erlang B recursion
 * B(0) = 1, B(k) = a B(k-1) / (k + a B(k-1)), C = c B(c) / (c - a (1 - B(c))), which
 * stays accurate for any c (no factorials or powers). */
static double
erlang_c(unsigned c, double a)
{
  g_assert(c >= 1 && a >= 0 && a < c);
  double b = 1.0;
  for (unsigned k = 1; k <= c; k++)
    b = a * b / (k + a * b);
  return c * b / (c - a * (1.0 - b));
}

/* Mean wait in queue of M/M/c: W_q = C(c, a) / (c mu - lambda) = C(c, a) S / (c - a),
 * with S = 1 / mu the mean service time (any unit; the result is in the same unit). */
static double
mmc_wait_mean(unsigned c, double lambda, double service_mean)
{
  double a = lambda * service_mean;
  return erlang_c(c, a) * service_mean / (c - a);
}

/* The same formula written the textbook way, for small c only:
 * C = (a^c / c!) (c / (c - a)) / (sum_{k<c} a^k / k! + (a^c / c!) (c / (c - a))). */
static double
erlang_c_direct(unsigned c, double a)
{
  double term = 1.0, sum = 0.0;
  for (unsigned k = 0; k < c; k++) {
    sum += term;
    term *= a / (k + 1);
  }
  double top = term * c / (c - a);
  return top / (sum + top);
}

static void
test_erlang_c(void)
{
  /* table values: C(2, 1) = 1/3, C(3, 2) = 4/9, C(10, 8) = 0.40918 */
  g_assert_cmpfloat_with_epsilon(erlang_c(2, 1.0), 1.0 / 3.0, 1e-15);
  g_assert_cmpfloat_with_epsilon(erlang_c(3, 2.0), 4.0 / 9.0, 1e-15);
  g_assert_cmpfloat_with_epsilon(erlang_c(10, 8.0), 0.4091801507964435, 1e-12);
  /* M/M/1: the probability of waiting is the utilisation */
  g_assert_cmpfloat_with_epsilon(erlang_c(1, 0.8), 0.8, 1e-15);
  g_assert_cmpfloat_with_epsilon(erlang_c(1, 0.0), 0.0, 1e-15);
  /* the case the M/M/c test uses: c = 4 at utilisation 0.8 */
  g_assert_cmpfloat_with_epsilon(erlang_c(4, 3.2), 0.5964324717874046, 1e-12);
  /* M/M/1 mean wait rho / (mu - lambda); M/M/2 with a = 1, S = 1: (1/3) / 1 */
  g_assert_cmpfloat_with_epsilon(mmc_wait_mean(1, 0.8, 1.0), 4.0, 1e-12);
  g_assert_cmpfloat_with_epsilon(mmc_wait_mean(2, 1.0, 1.0), 1.0 / 3.0, 1e-12);
  /* recursion and textbook formula agree over a grid */
  for (unsigned c = 1; c <= 20; c++)
    for (double rho = 0.05; rho < 0.99; rho += 0.07) {
      double x = erlang_c(c, rho * c), y = erlang_c_direct(c, rho * c);
      g_assert_cmpfloat(fabs(x - y), <=, 1e-12 * y);
      g_assert_cmpfloat(x, >, 0.0);
      g_assert_cmpfloat(x, <, 1.0);
    }
  /* more servers at the same utilisation wait less often */
  g_assert_cmpfloat(erlang_c(8, 6.4), <, erlang_c(4, 3.2));
}

/* ---- Running scenarios ----------------------------------------------------------------- */

typedef struct {
  char *dir;      /* temporary directory holding scenario and database */
  ResReader *db;  /* the results database, open */
  int64_t run_id; /* the one run in it */
} Run;

static void
run_clear(Run *run)
{
  g_clear_pointer(&run->db, res_reader_free);
  if (run->dir) {
    g_autofree char *yaml = g_build_filename(run->dir, "scenario.yaml", NULL);
    g_autofree char *db = g_build_filename(run->dir, "out.db", NULL);
    g_remove(yaml);
    g_remove(db);
    g_rmdir(run->dir);
    g_clear_pointer(&run->dir, g_free);
  }
}

/* Seed of the runs: the test's own, unless M2M_THEORY_SEED says otherwise. */
static uint64_t
run_seed(uint64_t dflt)
{
  const char *s = g_getenv("M2M_THEORY_SEED");
  return s && *s ? g_ascii_strtoull(s, NULL, 10) : dflt;
}

/* Runs the scenario `text` with `m2msim run FILE -o DB --seed SEED [--set S]...` (sets: a
 * NULL-terminated list or NULL). Returns false after g_test_skip() when `m2msim run` is not
 * built yet; fails the test on any other error. */
static bool run_scenario_log(const char *text, uint64_t seed, const char *const *sets,
                             const char *log, Run *run);

static bool
run_scenario(const char *text, uint64_t seed, const char *const *sets, Run *run)
{
  return run_scenario_log(text, seed, sets, NULL, run);
}

/* The same, with the world's event log written to `log` (NULL: none). */
static bool
run_scenario_log(const char *text, uint64_t seed, const char *const *sets, const char *log,
                 Run *run)
{
  memset(run, 0, sizeof *run);
  g_autoptr(GError) error = NULL;
  run->dir = g_dir_make_tmp("m2m-theory-XXXXXX", &error);
  g_assert_no_error(error);
  g_autofree char *yaml = g_build_filename(run->dir, "scenario.yaml", NULL);
  g_autofree char *db = g_build_filename(run->dir, "out.db", NULL);
  g_assert_true(g_file_set_contents(yaml, text, -1, &error));
  g_assert_no_error(error);

  g_autofree char *seed_s = g_strdup_printf("%" G_GUINT64_FORMAT, run_seed(seed));
  g_autoptr(GPtrArray) args = g_ptr_array_new();
  const char *fixed[] = {"run", yaml, "-o", db, "--seed", seed_s};
  for (size_t i = 0; i < G_N_ELEMENTS(fixed); i++)
    g_ptr_array_add(args, (gpointer)fixed[i]);
  for (size_t i = 0; sets && sets[i]; i++) {
    g_ptr_array_add(args, (gpointer) "--set");
    g_ptr_array_add(args, (gpointer)sets[i]);
  }
  if (log != NULL) {
    g_ptr_array_add(args, (gpointer) "--log");
    g_ptr_array_add(args, (gpointer)log);
  }
  g_ptr_array_add(args, NULL);

  g_autofree char *out = NULL, *err = NULL;
  int status = tu_run_m2msimv(&out, &err, (const char *const *)args->pdata);
  if (status == 2 && strstr(err, "not available yet")) {
    run_clear(run);
    g_test_skip("m2msim run is not available yet (the provisioning world of issue 4 has "
                "not landed); these theory checks run once it has");
    return false;
  }
  if (status != 0)
    g_error("m2msim run failed (status %d):\n%s\n--- scenario\n%s", status, err, text);

  run->db = res_reader_open(db, &error);
  g_assert_no_error(error);
  g_autoptr(GPtrArray) runs = res_reader_runs(run->db, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(runs->len, ==, 1);
  const ResRun *r = runs->pdata[0];
  g_assert_cmpstr(r->status, ==, "complete");
  run->run_id = r->id;
  return true;
}

/* A scalar that must be there. */
static double
scalar(Run *run, const char *name)
{
  g_autoptr(GError) error = NULL;
  double v = NAN;
  if (!res_reader_scalar(run->db, run->run_id, name, &v, &error))
    g_error("scalar %s: %s", name, error->message);
  return v;
}

/* A scalar that counts things: must be there and be a whole number. */
static int64_t
count(Run *run, const char *name)
{
  double v = scalar(run, name);
  if (!(v >= 0 && v < 9e15) || v - floor(v) > 0)
    g_error("scalar %s = %g is not a count", name, v);
  return (int64_t)v;
}

/* A scalar that may be absent (e.g. rs.pimsi.exhausted_at when never exhausted). */
static bool
scalar_opt(Run *run, const char *name, double *v)
{
  g_autoptr(GError) error = NULL;
  if (res_reader_scalar(run->db, run->run_id, name, v, &error))
    return true;
  g_assert_error(error, RES_ERROR, RES_ERROR_NOT_FOUND);
  return false;
}

/* Last sample of a series. */
static double
series_last(Run *run, const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) pts = res_reader_series(run->db, run->run_id, name, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(pts->len, >, 0);
  return g_array_index(pts, ResPoint, pts->len - 1).value;
}

static void
assert_rel(const char *what, double got, double want, double tol)
{
  double rel = fabs(got - want) / fabs(want);
  g_test_message("%s: got %.6g, theory %.6g, relative difference %.4f (tolerance %.4f)",
                 what, got, want, rel, tol);
  if (!(rel <= tol))
    g_error("%s: got %.6g, theory %.6g: relative difference %.4f > %.4f", what, got, want,
            rel, tol);
}

/* ---- M/M/c --------------------------------------------------------------------------------- */

/* The AV generators at utilisation 0.8 with c = 4 and exponential 2 ms service: lambda =
 * 0.8 x 4 / 2 ms = 1,600 requests/s. Arrivals: Poisson production at that rate; every later
 * step (registration, power-on delay, attach, roaming) is a constant, so the AV requests
 * reach the RS as the same Poisson process shifted. Each device makes exactly one AV
 * request: one accepting network, no failures, and no second attach within the run (the
 * owner chooses a home operator only after the run, so an authenticated device learns "no
 * SHO yet" and would retry a day later; this halves the work per device against a full
 * provisioning and changes nothing at the AV queue).
 *
 * Sample size: M/M/c waits are strongly autocorrelated at rho = 0.8. A stand-alone M/M/4
 * simulation (100-200 replications per size) gives a standard deviation of the mean wait
 * of 4.6% of it at 100,000 requests, 2.5-2.8% at 300,000 and 2.1% at 500,000 (falling as
 * 1/sqrt(n)). Much of it comes from the realised input: the sample arrival rate and mean
 * service time sit within ~0.3% of nominal, but W_q moves ~5x as much as rho near 0.8.
 * Against Erlang C at the realised lambda and S (both recoverable from the results: the
 * pool is exactly as large as production, so rs.pimsi.exhausted_at is the time of the
 * last arrival, and busy time = utilisation x c x duration), the standard deviation is
 * 1.8% at 300,000 and 1.6% at 400,000 in that simulation. At 400,000 requests 5% is
 * ~2.3 standard deviations of the nominal comparison; both comparisons are checked.
 * Against the world (M2M_THEORY_SEED=1..9): nominal -3.8% .. +2.3% (mean -0.8%, sd 2.0%),
 * realised -3.2% .. +3.0% (sd 2.2%): no sign of a bias, and the realised comparison helps
 * less there than in the stand-alone model. 400,000 devices take ~7.5 s of CPU and
 * ~240 MB: the largest test of the suite; fewer requests would make 5% a coin toss, and
 * ~800,000 would be needed for 3 standard deviations. */
#define MMC_SERVERS 4
#define MMC_SERVICE_S 0.002
#define MMC_RHO 0.8
#define MMC_DEVICES 400000

/* The M/M/c world of the premises below: Poisson production at lambda (requests per s, one
 * per device), exponential service, constant delays everywhere else, no second attach
 * within the run; long enough for the production, the power-on delay and a margin. */
static char *
mmc_scenario(const char *name, unsigned servers, double service_s, int devices, double lambda)
{
  return g_strdup_printf(
    "name: %s\n"
    "duration: %.0fs\n"
    "registration_service:\n"
    "  pimsi_pool: {mcc: \"001\", mnc: \"01\", size: %d}\n"
    "  pimsi_recycle: never\n"
    "  av_servers: %u\n"
    "  av_service_time: {exponential: %gms}\n"
    "  av_batch: 1\n"
    "  register_service_time: {constant: 1ms}\n"
    "visited_operators:\n"
    "  - {name: vo, share: 1.0, accepts_pimsi: true, attach_delay: {constant: 500ms},\n"
    "     roaming_delay: {constant: 30ms}}\n"
    "home_operators:\n"
    "  - {name: sho, share: 1.0}\n"
    "manufacturers:\n"
    "  - {name: fab, devices: %d, production: {poisson: %.0f/s}}\n"
    "owners:\n"
    "  select_home_operator_after: {constant: 1d}\n"
    "devices:\n"
    "  power_on_after: {constant: 10min}\n"
    "  retry: {initial: 1d, max: 1d}\n"
    "output:\n"
    "  series_interval: 1h\n",
    name, ceil(devices / lambda + 600 + 300), devices, servers, service_s * 1e3, devices, lambda);
}

static void
test_mmc(void)
{
  double lambda = MMC_RHO * MMC_SERVERS / MMC_SERVICE_S; /* requests (= devices) per s */
  /* production (~250 s) + power-on delay + a margin for the last devices */
  double duration_s = ceil(MMC_DEVICES / lambda + 600 + 300); /* as mmc_scenario's */
  g_autofree char *text =
    mmc_scenario("theory-mmc", MMC_SERVERS, MMC_SERVICE_S, MMC_DEVICES, lambda);
  Run run;
  if (!run_scenario(text, 1, NULL, &run))
    return;

  /* the premises: every device made and authenticated once, exactly one AV request each */
  g_assert_cmpint(count(&run, "devices.manufactured"), ==, MMC_DEVICES);
  g_assert_cmpint(count(&run, "rs.av.requests"), ==, MMC_DEVICES);
  g_assert_cmpint(count(&run, "rs.av.vectors"), ==, MMC_DEVICES);
  g_assert_cmpint(count(&run, "aka.failures"), ==, 0);
  g_assert_cmpint(count(&run, "aka.resyncs"), ==, 0);
  g_assert_cmpint(count(&run, "rs.timeouts"), ==, 0);
  g_assert_cmpint(count(&run, "vo.refusals"), ==, 0);

  double wait = scalar(&run, "rs.av.wait_mean");
  assert_rel("rs.av.wait_mean (s) vs Erlang C at rho = 0.8", wait,
             mmc_wait_mean(MMC_SERVERS, lambda, MMC_SERVICE_S), 0.05);

  /* realised input: N arrivals by the last one (the 1 ms registration after it is
   * 4e-6 of the ~250 s) and the mean of the service times drawn */
  double last_arrival_s = scalar(&run, "rs.pimsi.exhausted_at");
  double lambda_hat = MMC_DEVICES / last_arrival_s;
  double s_hat = scalar(&run, "rs.av.utilization") * MMC_SERVERS * duration_s / MMC_DEVICES;
  assert_rel("realised arrival rate (1/s)", lambda_hat, lambda, 0.02);
  assert_rel("realised mean service time (s)", s_hat, MMC_SERVICE_S, 0.02);
  assert_rel("rs.av.wait_mean (s) vs Erlang C at the realised lambda and S", wait,
             mmc_wait_mean(MMC_SERVERS, lambda_hat, s_hat), 0.05);
  run_clear(&run);
}

/* One VO taking PIMSIs and one SHO, then the manufacturers' list (its item follows). */
static const char one_vo_one_sho[] = "visited_operators:\n"
                                     "  - {name: vo, share: 1.0, accepts_pimsi: true}\n"
                                     "home_operators:\n"
                                     "  - {name: sho, share: 1.0}\n"
                                     "manufacturers:\n";

/* ---- the RS's front servers as an M/M/c ------------------------------------------------------ */

/* The RS's non-AV work queues for front_servers: here only the manufacturer's
 * registrations reach the RS (devices power on, owners choose, after the run), a Poisson
 * stream of 700/s (production; the factory's line has no delay), each holding one of 2
 * front servers for an exponential 2 ms: an M/M/2 at rho = 0.7. 300,000 registrations;
 * the mean wait against Erlang C within 5 %, at the nominal and the realised input (as
 * the AV servers' test above, whose notes on the sample size apply). */
#define FRONT_SERVERS 2
#define FRONT_SERVICE_S 0.002
#define FRONT_RHO 0.7
#define FRONT_DEVICES 300000

static void
test_front_mmc(void)
{
  double lambda = FRONT_RHO * FRONT_SERVERS / FRONT_SERVICE_S;
  double duration_s = ceil(FRONT_DEVICES / lambda + 60);
  g_autofree char *text = g_strdup_printf(
    "name: theory-front\n"
    "duration: %.0fs\n"
    "registration_service:\n"
    "  pimsi_pool: {mcc: \"001\", mnc: \"01\", size: %d}\n"
    "  pimsi_recycle: never\n"
    "  front_servers: %d\n"
    "  register_service_time: {exponential: %gms}\n"
    "%s"
    "  - {name: fab, devices: %d, production: {poisson: %.0f/s}}\n"
    "owners:\n"
    "  select_home_operator_after: {constant: 1d}\n"
    "devices:\n"
    "  power_on_after: {constant: 1d}\n"
    "output:\n"
    "  series_interval: 1h\n",
    duration_s, FRONT_DEVICES, FRONT_SERVERS, FRONT_SERVICE_S * 1e3, one_vo_one_sho, FRONT_DEVICES,
    lambda);
  Run run;
  if (!run_scenario(text, 2, NULL, &run))
    return;
  g_assert_cmpint(count(&run, "rs.registrations"), ==, FRONT_DEVICES);
  g_assert_cmpint(count(&run, "rs.lookups"), ==, 0);
  g_assert_cmpint(count(&run, "rs.timeouts"), ==, 0);
  double wait = scalar(&run, "rs.front.wait_mean");
  assert_rel("rs.front.wait_mean (s) vs Erlang C at rho = 0.7", wait,
             mmc_wait_mean(FRONT_SERVERS, lambda, FRONT_SERVICE_S), 0.05);
  double last_arrival_s = scalar(&run, "rs.pimsi.exhausted_at");
  double lambda_hat = FRONT_DEVICES / last_arrival_s;
  double s_hat = scalar(&run, "rs.front.utilization") * FRONT_SERVERS * duration_s / FRONT_DEVICES;
  assert_rel("rs.front.wait_mean (s) vs Erlang C at the realised lambda and S", wait,
             mmc_wait_mean(FRONT_SERVERS, lambda_hat, s_hat), 0.05);
  g_assert_cmpfloat(scalar(&run, "rs.front.queue_peak"), >, 5);
  run_clear(&run);
}

/* ---- what a batch of vectors costs ---------------------------------------------------------- */

/* An AV request holds a server for av_service_time plus av_vector_time per vector: with
 * exponential 1 ms per request and 0.2 ms per vector, a batch of 5 means 2 ms, of 1 means
 * 1.2 ms. The realised mean service (busy time / requests, from the utilisation) is that
 * within 2 % (50,000 requests: the sample mean of Exp(1 ms) has a standard deviation of
 * 0.45 % of it), and the utilisation grows with the batch as lambda E[S] / c says. */
#define BATCH_DEVICES 50000
#define BATCH_RATE 400.0 /* per s */

static void
test_vector_time(void)
{
  const unsigned batches[] = {1, 5};
  double util[2];
  for (int k = 0; k < 2; k++) {
    double duration_s = ceil(BATCH_DEVICES / BATCH_RATE + 600 + 300);
    g_autofree char *text = g_strdup_printf(
      "name: theory-batch\n"
      "duration: %.0fs\n"
      "registration_service:\n"
      "  pimsi_pool: {mcc: \"001\", mnc: \"01\", size: %d}\n"
      "  av_servers: 4\n"
      "  av_service_time: {exponential: 1ms}\n"
      "  av_vector_time: {constant: 200us}\n"
      "  av_batch: %u\n"
      "%s"
      "  - {name: fab, devices: %d, production: {poisson: %.0f/s}}\n"
      "owners:\n"
      "  select_home_operator_after: {constant: 1d}\n"
      "devices:\n"
      "  power_on_after: {constant: 10min}\n"
      "  retry: {initial: 1d, max: 1d}\n",
      duration_s, BATCH_DEVICES, batches[k], one_vo_one_sho, BATCH_DEVICES, BATCH_RATE);
    Run run;
    if (!run_scenario(text, 3, NULL, &run))
      return;
    int64_t requests = count(&run, "rs.av.requests");
    g_assert_cmpint(requests, ==, BATCH_DEVICES);
    g_assert_cmpint(count(&run, "rs.av.vectors"), ==, (int64_t)batches[k] * BATCH_DEVICES);
    util[k] = scalar(&run, "rs.av.utilization");
    double s_hat = util[k] * 4 * duration_s / (double)requests;
    assert_rel("mean service per request (s) = request + batch x vector", s_hat,
               1e-3 + batches[k] * 200e-6, 0.02);
    run_clear(&run);
  }
  assert_rel("utilisation ratio batch 5 / batch 1", util[1] / util[0], 2.0 / 1.2, 0.03);
}

/* ---- Little's law on the pool ------------------------------------------------------------- */

/* Production Poisson 2/s through the whole 2 h run (20,000 devices would take 2.8 h), so
 * the pool is in steady state. A PIMSI is held from allocation (registration) to release
 * after provisioning: power-on after exponential 60 s + attach, AKA, SHO lookup and a
 * download of exponential 10 s: about 75 s, 1% of the run. A small pool (600) with a 1 min
 * quarantine makes every PIMSI serve many devices (L + quarantined ~ 2/s x 135 s = 270).
 *
 * Little's law holds exactly on a sample path when everything allocated was released:
 * integral of in_use over [0, T] = sum of holding times. The edge is the PIMSIs still held
 * at T: they count in `allocated` with the mean hold of the released ones but contribute
 * only their age so far to the integral. About lambda W of them, mean age
 * E[h^2] / (2 E[h]) ~ 60 s against E[h] ~ 75 s: an error of lambda W x 15 s against
 * lambda W T, 0.2%. The quarantine's Little's law has the same kind of edge: PIMSIs
 * released in the last Q count fully in released x Q: about Q / (2 T) = 0.4%. */
static void
test_little(void)
{
  static const char text[] =
    "name: theory-little\n"
    "duration: 2h\n"
    "registration_service:\n"
    "  pimsi_pool: {mcc: \"001\", mnc: \"01\", size: 600}\n"
    "  pimsi_recycle: after_provisioning\n"
    "  pimsi_quarantine: 1min\n"
    "visited_operators:\n"
    "  - {name: vo, share: 1.0, accepts_pimsi: true, attach_delay: {constant: 500ms},\n"
    "     roaming_delay: {constant: 30ms}}\n"
    "home_operators:\n"
    "  - {name: sho, share: 1.0, download_time: {exponential: 10s},\n"
    "     register_delay: {constant: 1s}}\n"
    "manufacturers:\n"
    "  - {name: fab, devices: 20000, production: {poisson: 2/s}}\n"
    "owners:\n"
    "  select_home_operator_after: {constant: 1s}\n"
    "  register_delay: {constant: 1s}\n"
    "devices:\n"
    "  power_on_after: {exponential: 60s}\n"
    "output:\n"
    "  series_interval: 1min\n";
  Run run;
  if (!run_scenario(text, 2, NULL, &run))
    return;
  double duration_s = 2 * 3600.0;
  double allocated = scalar(&run, "rs.pimsi.allocated");
  double hold = scalar(&run, "rs.pimsi.hold_mean");
  double in_use = scalar(&run, "rs.pimsi.in_use_mean");
  double dummy;
  /* premises: production ran the whole run, PIMSIs were reused, the pool never ran dry */
  g_assert_cmpfloat(allocated, >, 2 * duration_s * 0.95);
  g_assert_cmpfloat(allocated, <, 20000);
  g_assert_cmpfloat(allocated, >, 10 * 600);
  g_assert_cmpint(count(&run, "rs.pimsi.blocked"), ==, 0);
  g_assert_false(scalar_opt(&run, "rs.pimsi.exhausted_at", &dummy));
  g_assert_cmpfloat(hold, >, 60);
  g_assert_cmpfloat(hold, <, 120);
  g_assert_cmpint(count(&run, "rs.pimsi.in_use_peak"), <=, 600);

  assert_rel("rs.pimsi.in_use_mean vs allocation rate x hold_mean", in_use,
             allocated / duration_s * hold, 0.03);

  /* the quarantine: quarantined = release rate x 1 min, released = allocated - held at T */
  double released = allocated - series_last(&run, "rs.pimsi.in_use");
  assert_rel("rs.pimsi.quarantined_mean vs release rate x quarantine",
             scalar(&run, "rs.pimsi.quarantined_mean"), released / duration_s * 60.0, 0.03);
  run_clear(&run);
}

/* ---- Exhaustion without releases ---------------------------------------------------------- */

/* A pool of 20,000 and Poisson production at 100/s without recycling: the pool runs dry
 * with the 20,000th allocation, a Gamma(20000, 100/s) time of mean 200 s and standard
 * deviation 1.4 s (0.7%), so 3% is over 4 standard deviations. Devices power on after the
 * end of the run: only registrations happen. */
static const char exhaustion_text[] =
  "name: theory-exhaustion\n"
  "duration: 250s\n"
  "registration_service:\n"
  "  pimsi_pool: {mcc: \"001\", mnc: \"01\", size: 20000}\n"
  "  pimsi_recycle: never\n"
  "visited_operators:\n"
  "  - {name: vo, share: 1.0, accepts_pimsi: true}\n"
  "home_operators:\n"
  "  - {name: sho, share: 1.0}\n"
  "manufacturers:\n"
  "  - {name: fab, devices: 30000, production: {poisson: 100/s}, retry_after: 10s}\n"
  "owners:\n"
  "  select_home_operator_after: {constant: 1d}\n"
  "devices:\n"
  "  power_on_after: {constant: 1d}\n"
  "output:\n"
  "  series_interval: 10s\n";

static void
test_exhaustion(void)
{
  Run run;
  if (!run_scenario(exhaustion_text, 3, NULL, &run))
    return;
  double at = NAN;
  g_assert_true(scalar_opt(&run, "rs.pimsi.exhausted_at", &at));
  assert_rel("rs.pimsi.exhausted_at (s) vs pool size / production rate", at, 20000 / 100.0,
             0.03);
  g_assert_cmpint(count(&run, "rs.pimsi.allocated"), ==, 20000);
  g_assert_cmpint(count(&run, "devices.manufactured"), ==, 20000);
  g_assert_cmpint(count(&run, "rs.pimsi.in_use_peak"), ==, 20000);
  g_assert_cmpint(count(&run, "rs.pimsi.blocked"), >, 0);
  g_assert_cmpfloat(fabs(series_last(&run, "rs.pimsi.in_use") - 20000), <, 0.5);
  run_clear(&run);
}

/* ---- Exhaustion with a known home operator ------------------------------------------------ */

/* A fraction f of the equipment gets its SHO's USIM at the factory and never asks for a
 * PIMSI (issue 6). Each unit is one independent Bernoulli(f) draw, so the units that do ask
 * are the Poisson production thinned to rate lambda (1 - f), and the pool of P runs dry at
 * the P-th of them: a Gamma(P, lambda (1 - f)) time, mean P / (lambda (1 - f)), standard
 * deviation sqrt(P) / (lambda (1 - f)), i.e. 1 / sqrt(P) = 0.71% of the mean at P = 20,000
 * whatever f is. The tolerance is 4 standard deviations, 2.8%; the 1 ms registration
 * service time adds 1e-5 of it at most. Were factory units drawing PIMSIs too, the pool
 * would run dry at P / lambda: 25% early at f = 0.25, far outside. The world is the one of
 * test_exhaustion with N = 100,000 units (production ends near N / lambda = 1,000 s, sd
 * 3.2 s, inside the 1,100 s run), which leaves 25,000 asking at f = 0.75 (binomial sd 137),
 * more than the pool. Devices power on after the run: only manufacture happens, so every
 * unit ends with a factory USIM (provisioned), a PIMSI (in progress) or in the factory's
 * backlog. */
#define HOK_POOL 20000 /* PIMSIs, as in exhaustion_text */
#define HOK_DEVICES 100000
#define HOK_RATE 100.0 /* units per s, as in exhaustion_text */

static void
test_exhaustion_known(void)
{
  static const double fractions[] = {0.0, 0.25, 0.5, 0.75};
  for (size_t i = 0; i < G_N_ELEMENTS(fractions); i++) {
    double f = fractions[i];
    g_autofree char *known = g_strdup_printf("manufacturers.0.home_operator_known=%g", f);
    g_autofree char *devices = g_strdup_printf("manufacturers.0.devices=%d", HOK_DEVICES);
    const char *const sets[] = {"duration=1100s", devices, known, NULL};
    Run run;
    if (!run_scenario(exhaustion_text, 6 + i, sets, &run))
      return;

    double at = NAN;
    g_assert_true(scalar_opt(&run, "rs.pimsi.exhausted_at", &at));
    g_autofree char *what = g_strdup_printf(
      "rs.pimsi.exhausted_at (s) at home_operator_known %g vs P / (lambda (1 - f))", f);
    assert_rel(what, at, HOK_POOL / (HOK_RATE * (1.0 - f)), 4.0 / sqrt(HOK_POOL));

    /* every unit made is accounted for: a PIMSI each or a factory USIM, or still waiting */
    int64_t factory = count(&run, "devices.factory_usim");
    int64_t via_rs = count(&run, "devices.via_rs");
    g_assert_cmpint(count(&run, "rs.pimsi.allocated"), ==, HOK_POOL);
    g_assert_cmpint(via_rs, ==, HOK_POOL);
    g_assert_cmpint(count(&run, "devices.manufactured"), ==, HOK_POOL); /* got a PIMSI */
    g_assert_cmpint(count(&run, "devices.produced"), ==, HOK_DEVICES);
    g_assert_cmpint(count(&run, "devices.produced"), ==,
                    via_rs + factory + count(&run, "devices.awaiting_pimsi"));
    g_assert_cmpint(count(&run, "rs.pimsi.blocked"), >, 0);
    /* none has powered on yet (a factory USIM is not provisioning over the air) */
    g_assert_cmpint(count(&run, "devices.provisioned"), ==, 0);
    g_assert_cmpint(count(&run, "devices.in_progress"), ==, via_rs);
    /* the factory share is Binomial(N, f): within 5 standard deviations of f N */
    double sd = sqrt(HOK_DEVICES * f * (1.0 - f));
    g_test_message("devices.factory_usim %" G_GINT64_FORMAT ", f N = %.0f, sd %.0f", factory,
                   f * HOK_DEVICES, sd);
    g_assert_cmpfloat(fabs(factory - f * HOK_DEVICES), <=, 5.0 * sd);
    run_clear(&run);
  }
}

/* ---- Accounting --------------------------------------------------------------------------- */

/* A world with every failure path: a refusing network, wrong credentials (MAC failures,
 * devices giving up after max_attempts), SQN desynchronisation (resync), an RS outage,
 * a pool too small for production (blocked registrations), home operators known at the
 * factory for some devices; cut at 2 d while devices are still being made and powered
 * on. manufactured = provisioned + failed + in progress must hold, with all three terms
 * non-zero; run long enough for everyone to finish, in progress must be 0. */
static const char accounting_text[] =
  "name: theory-accounting\n"
  "duration: 2d\n"
  "registration_service:\n"
  "  pimsi_pool: {mcc: \"001\", mnc: \"01\", size: 2500}\n"
  "  pimsi_recycle: never\n"
  "  av_batch: 3\n"
  "visited_operators:\n"
  "  - {name: vo-a, share: 0.7, accepts_pimsi: true}\n"
  "  - {name: vo-b, share: 0.3, accepts_pimsi: false}\n"
  "home_operators:\n"
  "  - {name: sho-a, share: 0.6}\n"
  "  - {name: sho-b, share: 0.4}\n"
  "manufacturers:\n"
  "  - {name: fab, devices: 2000, production: {poisson: 1500/d}, wrong_credentials: 0.05,\n"
  "     home_operator_known: 0.1, retry_after: 1h}\n"
  "  - {name: other, devices: 1000, production: {poisson: 1000/d}, retry_after: 1h}\n"
  "owners:\n"
  "  select_home_operator_after: {exponential: 6h}\n"
  "devices:\n"
  "  power_on_after: {exponential: 12h}\n"
  "  retry: {initial: 10s, factor: 2, max: 12min}\n"
  "  max_attempts: 4\n"
  "  sqn_desync_fraction: 0.05\n"
  "faults:\n"
  "  - {at: 12h, target: registration_service, down_for: 1h}\n"
  "output:\n"
  "  series_interval: 1h\n";

static void
check_accounting(Run *run)
{
  int64_t made = count(run, "devices.manufactured");
  int64_t prov = count(run, "devices.provisioned");
  int64_t failed = count(run, "devices.failed");
  int64_t busy = count(run, "devices.in_progress");
  g_test_message("manufactured %" G_GINT64_FORMAT " = provisioned %" G_GINT64_FORMAT
                 " + failed %" G_GINT64_FORMAT " + in progress %" G_GINT64_FORMAT,
                 made, prov, failed, busy);
  g_assert_cmpint(made, ==, prov + failed + busy);
  /* and the equipment made: with a PIMSI (manufactured), with a factory USIM, or still
   * waiting for a PIMSI */
  g_assert_cmpint(made, ==, count(run, "devices.via_rs"));
  g_assert_cmpint(count(run, "devices.produced"), ==,
                  made + count(run, "devices.factory_usim") + count(run, "devices.awaiting_pimsi"));
  g_assert_cmpfloat(fabs((double)prov - series_last(run, "devices.provisioned")), <, 0.5);
}

static void
test_accounting(void)
{
  Run run;
  if (!run_scenario(accounting_text, 4, NULL, &run))
    return;
  check_accounting(&run);
  g_assert_cmpint(count(&run, "devices.provisioned"), >, 0);
  g_assert_cmpint(count(&run, "devices.failed"), >, 0);
  g_assert_cmpint(count(&run, "devices.in_progress"), >, 0);
  g_assert_cmpint(count(&run, "aka.failures"), >, 0);
  g_assert_cmpint(count(&run, "aka.resyncs"), >, 0);
  g_assert_cmpint(count(&run, "rs.pimsi.blocked"), >, 0);
  g_assert_cmpint(count(&run, "devices.manufactured"), <=, 3000);
  run_clear(&run);

  /* the same world left to finish: nobody stays in progress */
  static const char *const sets[] = {"duration=30d", NULL};
  if (!run_scenario(accounting_text, 5, sets, &run))
    return;
  check_accounting(&run);
  g_assert_cmpint(count(&run, "devices.in_progress"), ==, 0);
  g_assert_cmpint(count(&run, "devices.failed"), >, 0);
  run_clear(&run);
}

/* ---- Production that changes over time ----------------------------------------------------- */

/* Production as a piecewise rate (2,000 a day for 5 days, 6,000 until day 12, then 1,000)
 * and as a Poisson rate growing 500% a year: the units made by the end of the run are a
 * Poisson count of mean the integral of the rate (60,000 and 64,660 here), so within 4
 * standard deviations (~1%) of it; the growing constant-rate process makes exactly the
 * integral, rounded down. The pool is large and the units power on after the run: only
 * production and registration happen. */
static const char varying_text[] =
  "name: theory-varying-production\n"
  "duration: %s\n"
  "registration_service:\n"
  "  pimsi_pool: {mcc: \"001\", mnc: \"01\", size: %d}\n"
  "  pimsi_recycle: never\n"
  "visited_operators:\n"
  "  - {name: vo, share: 1.0, accepts_pimsi: true}\n"
  "home_operators:\n"
  "  - {name: sho, share: 1.0}\n"
  "manufacturers:\n"
  "  - {name: fab, devices: 1000000, production: %s}\n"
  "devices:\n"
  "  power_on_after: {constant: 1000d}\n"
  "output:\n"
  "  series_interval: 1d\n";

static const char piecewise[] =
  "{piecewise: [{from: 0, rate: 2000/d}, {from: 5d, rate: 6000/d}, {from: 12d, rate: 1000/d}]}";

static void
test_varying_production(void)
{
  static const struct {
    const char *production, *duration;
    double expected;
    bool exact;
  } cases[] = {
    {piecewise, "20d", 2000.0 * 5 + 6000.0 * 7 + 1000.0 * 8, false},
    {"{poisson: 2000/d, growth: 500%/y}", "30d", 0, false},
    {"{constant: 2000/d, growth: 500%/y}", "30d", 0, true},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    double want = cases[i].expected;
    if (!(want > 0)) { /* r0 (e^(b t) - 1) / b with b = ln(1 + 5) / 365 d, t = 30 d */
      double b = log(6.0) / 365.0;
      want = 2000.0 * expm1(b * 30) / b;
    }
    g_autofree char *text =
      g_strdup_printf(varying_text, cases[i].duration, 2000000, cases[i].production);
    Run run;
    if (!run_scenario(text, 11 + i, NULL, &run))
      return;
    double made = (double)count(&run, "devices.produced");
    g_test_message("%s over %s: %.0f made, integral of the rate %.1f", cases[i].production,
                   cases[i].duration, made, want);
    if (cases[i].exact)
      g_assert_cmpfloat(fabs(made - floor(want)), <=, 1);
    else
      g_assert_cmpfloat(fabs(made - want), <=, 4 * sqrt(want));
    run_clear(&run);
  }
}

/* Without recycling the pool of P PIMSIs runs dry with the P-th unit made: under the
 * piecewise rate above, where its integral reaches P = 30,000, at 5 d + 20,000 / 6,000 a
 * day = 8.33 d (the P-th arrival of a Poisson process at 6,000 a day has a standard
 * deviation of sqrt(P) / rate ~ 0.35% of that; 3% is far outside it). */
static void
test_varying_exhaustion(void)
{
  enum { POOL = 30000 };
  g_autofree char *text = g_strdup_printf(varying_text, "15d", POOL, piecewise);
  Run run;
  if (!run_scenario(text, 21, NULL, &run))
    return;
  double at = NAN;
  g_assert_true(scalar_opt(&run, "rs.pimsi.exhausted_at", &at));
  assert_rel("rs.pimsi.exhausted_at (s) vs where the piecewise rate's integral reaches P", at,
             (5 + 20000.0 / 6000) * 86400, 0.03);
  g_assert_cmpint(count(&run, "rs.pimsi.allocated"), ==, POOL);
  run_clear(&run);
}

/* Units never deployed keep their PIMSI for good: run until every other unit is
 * provisioned and has released its PIMSI (recycling after provisioning, stop_when:
 * settled), the PIMSIs never released are exactly the units never deployed, and those
 * are Binomial(N, f) (within 4 standard deviations of f N). */
static void
test_never_deployed(void)
{
  enum { N = 20000 };
  const double f = 0.15;
  static const char text[] =
    "name: theory-never-deployed\n"
    "duration: 60d\n"
    "stop_when: settled\n"
    "registration_service:\n"
    "  pimsi_pool: {mcc: \"001\", mnc: \"01\", size: 30000}\n"
    "  pimsi_recycle: after_provisioning\n"
    "  pimsi_quarantine: 1h\n"
    "visited_operators:\n"
    "  - {name: vo, share: 1.0, accepts_pimsi: true}\n"
    "home_operators:\n"
    "  - {name: sho, share: 1.0}\n"
    "manufacturers:\n"
    "  - {name: fab, devices: 20000, production: {poisson: 5000/d}}\n"
    "owners:\n"
    "  select_home_operator_after: {exponential: 2h}\n"
    "devices:\n"
    "  power_on_after: {exponential: 1d}\n"
    "  never_deployed: 0.15\n";
  Run run;
  if (!run_scenario(text, 31, NULL, &run))
    return;
  int64_t never = count(&run, "devices.never_deployed");
  int64_t made = count(&run, "devices.manufactured");
  g_assert_cmpint(made, ==, N);
  g_assert_cmpint(count(&run, "devices.in_progress"), ==, 0);
  g_assert_cmpint(count(&run, "devices.provisioned") + count(&run, "devices.failed") + never, ==,
                  made);
  g_assert_cmpint(count(&run, "rs.pimsi.allocated") - count(&run, "rs.pimsi.released"), ==, never);
  double sd = sqrt(N * f * (1 - f));
  g_test_message("devices.never_deployed %" G_GINT64_FORMAT ", f N = %.0f, sd %.0f", never, f * N,
                 sd);
  g_assert_cmpfloat(fabs((double)never - f * N), <=, 4 * sd);
  run_clear(&run);
}

/* PIMSI validity: a unit whose shelf time (power-on after its PIMSI is installed) is
 * exponential of mean m outlives a validity T unused with probability exp(-T / m); run
 * until every unit is provisioned or stranded, the stranded share of the N units made is
 * Binomial(N, exp(-T / m)) (within 4 standard deviations), and every stranded unit's PIMSI
 * expired, was refused and went back to the pool. */
static void
test_validity(void)
{
  enum { N = 20000 };
  const double m = 30, T = 20; /* days */
  static const char text[] =
    "name: theory-validity\n"
    "duration: 2000d\n"
    "stop_when: settled\n"
    "registration_service:\n"
    "  pimsi_pool: {mcc: \"001\", mnc: \"01\", size: 30000}\n"
    "  pimsi_recycle: after_provisioning\n"
    "  pimsi_quarantine: 1d\n"
    "  pimsi_validity: 20d\n"
    "  pimsi_validity_grace: 2d\n"
    "visited_operators:\n"
    "  - {name: vo, share: 1.0, accepts_pimsi: true}\n"
    "home_operators:\n"
    "  - {name: sho, share: 1.0}\n"
    "manufacturers:\n"
    "  - {name: fab, devices: 20000, production: {poisson: 2000/d}}\n"
    "owners:\n"
    "  select_home_operator_after: {exponential: 1h}\n"
    "devices:\n"
    "  power_on_after: {exponential: 30d}\n";
  Run run;
  if (!run_scenario(text, 41, NULL, &run))
    return;
  int64_t stranded = count(&run, "devices.stranded");
  g_assert_cmpint(count(&run, "devices.manufactured"), ==, N);
  g_assert_cmpint(count(&run, "devices.in_progress"), ==, 0);
  g_assert_cmpint(count(&run, "devices.provisioned") + count(&run, "devices.failed") + stranded, ==,
                  N);
  g_assert_cmpint(count(&run, "rs.pimsi.expired"), ==, stranded);
  g_assert_cmpint(count(&run, "rs.pimsi.reclaimed"), ==, stranded);
  g_assert_cmpint(count(&run, "rs.pimsi.expired_refusals"), >=, stranded);
  double p = exp(-T / m), sd = sqrt(N * p * (1 - p));
  g_test_message("devices.stranded %" G_GINT64_FORMAT ", N exp(-T/m) = %.0f, sd %.0f", stranded,
                 N * p, sd);
  g_assert_cmpfloat(fabs((double)stranded - N * p), <=, 4 * sd);
  /* the PIMSIs in use, by what their units are doing, add up at every sample */
  g_autoptr(GError) error = NULL;
  const char *const parts[] = {"rs.pimsi.unused", "rs.pimsi.used", "rs.pimsi.expired_held"};
  g_autoptr(GArray) in_use = res_reader_series(run.db, run.run_id, "rs.pimsi.in_use", &error);
  g_assert_cmpuint(in_use->len, >, 100);
  GArray *pts[G_N_ELEMENTS(parts)];
  for (size_t k = 0; k < G_N_ELEMENTS(parts); k++) {
    pts[k] = res_reader_series(run.db, run.run_id, parts[k], &error);
    g_assert_cmpuint(pts[k]->len, ==, in_use->len);
  }
  double sum_expired = 0;
  for (guint i = 0; i < in_use->len; i++) {
    double sum = 0;
    for (size_t k = 0; k < G_N_ELEMENTS(parts); k++) {
      double v = g_array_index(pts[k], ResPoint, i).value;
      g_assert_cmpfloat(v, >=, 0);
      sum += v;
    }
    sum_expired += g_array_index(pts[2], ResPoint, i).value;
    g_assert_cmpfloat(fabs(sum - g_array_index(in_use, ResPoint, i).value), <, 0.5);
  }
  for (size_t k = 0; k < G_N_ELEMENTS(parts); k++)
    g_array_unref(pts[k]);
  g_assert_cmpfloat(sum_expired, >, 0);
  run_clear(&run);
}

/* Several number ranges: 1,000 units against two ranges of 600 without recycling; filling
 * the first range first leaves 600 + 400 in use, round robin 500 + 500 (each range's
 * series), and together they hold what one range of 1,200 would. */
static void
test_ranges(void)
{
  static const char text[] =
    "name: theory-ranges\n"
    "duration: 1d\n"
    "registration_service:\n"
    "  pimsi_pools:\n"
    "    - {mcc: \"901\", mnc: \"70\", size: 600}\n"
    "    - {mcc: \"001\", mnc: \"01\", size: 600, first_msin: 5000}\n"
    "  pimsi_allocation: %s\n"
    "  pimsi_recycle: never\n"
    "visited_operators:\n"
    "  - {name: vo, share: 1.0, accepts_pimsi: true}\n"
    "home_operators:\n"
    "  - {name: sho, share: 1.0}\n"
    "manufacturers:\n"
    "  - {name: fab, devices: 1000, production: {poisson: 100/h}}\n"
    "devices:\n"
    "  power_on_after: {constant: 100d}\n"
    "output:\n"
    "  series_interval: 1h\n";
  static const struct {
    const char *policy;
    double first, second;
  } cases[] = {{"fill_first", 600, 400}, {"round_robin", 500, 500}};
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *t = g_strdup_printf(text, cases[i].policy);
    Run run;
    if (!run_scenario(t, 51, NULL, &run))
      return;
    g_assert_cmpint(count(&run, "devices.manufactured"), ==, 1000);
    g_assert_cmpint(count(&run, "rs.pimsi.pool_size"), ==, 1200);
    g_assert_cmpint(count(&run, "rs.pimsi.blocked"), ==, 0);
    g_assert_cmpint((int64_t)series_last(&run, "rs.pimsi.pools.0.in_use"), ==, (int64_t)cases[i].first);
    g_assert_cmpint((int64_t)series_last(&run, "rs.pimsi.pools.1.in_use"), ==, (int64_t)cases[i].second);
    g_assert_cmpint((int64_t)series_last(&run, "rs.pimsi.in_use"), ==, 1000);
    run_clear(&run);
  }
}

/* ---- m2msim solve against theory ----------------------------------------------------------- */

/* Runs `m2msim solve` on the scenario text with the given arguments after FILE; returns
 * the JSON it prints (caller frees), the database at *db (in *dir, caller removes). */
static char *
solve_scenario(const char *text, const char *const *args, char **dir, char **db)
{
  g_autoptr(GError) error = NULL;
  *dir = g_dir_make_tmp("m2m-theory-solve-XXXXXX", &error);
  g_assert_no_error(error);
  g_autofree char *yaml = g_build_filename(*dir, "scenario.yaml", NULL);
  *db = g_build_filename(*dir, "solve.db", NULL);
  g_assert_true(g_file_set_contents(yaml, text, -1, &error));
  g_autofree char *seed = g_strdup_printf("%" G_GUINT64_FORMAT, run_seed(1));
  g_autoptr(GPtrArray) a = g_ptr_array_new();
  const char *fixed[] = {"solve", yaml, "-o", *db, "--seed", seed, "--json", "-j", "2"};
  for (size_t i = 0; i < G_N_ELEMENTS(fixed); i++)
    g_ptr_array_add(a, (gpointer)fixed[i]);
  for (size_t i = 0; args[i]; i++)
    g_ptr_array_add(a, (gpointer)args[i]);
  g_ptr_array_add(a, NULL);
  char *out = NULL;
  g_autofree char *err = NULL;
  if (tu_run_m2msimv(&out, &err, (const char *const *)a->pdata) != 0)
    g_error("m2msim solve failed:\n%s", err);
  g_test_message("%s", err);
  return out;
}

/* The "answer" of solve's JSON, as a number (-1 for null). */
static double
json_answer(const char *json)
{
  const char *a = strstr(json, "\"answer\": ");
  g_assert_nonnull(a);
  a += strlen("\"answer\": ");
  return *a == '"' ? g_ascii_strtod(a + 1, NULL) : -1;
}

/* Removes the solve's directory: the scenario, the database, its parts and their logs. */
static void
solve_clear(char *dir, char *db)
{
  tu_rm_rf(dir);
  g_free(dir);
  g_free(db);
}

/* The AV generators as an M/M/c queue (the premises of test_mmc, 30,000 devices): Poisson
 * requests at 1,500/s, exponential 2 ms service, a = 3 erlangs. Erlang C gives the mean
 * wait 1.02 ms at c = 4, 0.236 ms at 5, 0.066 ms at 6; for a threshold of 0.5 ms the
 * smallest c is 5, with the waits at 4 and 5 a factor of two either side of it. solve
 * over 2..12 (2 and 3 are overloaded: the queue only drains after production) must find
 * the c of the formula. */
static void
test_solve_mmc(void)
{
  enum { DEVICES = 30000 };
  const double lambda = 1500, service = 0.002, threshold = 0.0005;
  unsigned want = 0;
  for (unsigned c = 4; c <= 12 && want == 0; c++)
    if (mmc_wait_mean(c, lambda, service) < threshold)
      want = c;
  g_assert_cmpuint(want, ==, 5);
  /* well apart: the formula's waits at c - 1 and c are each a factor 2 from the threshold */
  g_assert_cmpfloat(mmc_wait_mean(want - 1, lambda, service), >, 2 * threshold);
  g_assert_cmpfloat(mmc_wait_mean(want, lambda, service), <, threshold / 2);
  /* av_servers is the searched parameter: solve sets it for every run */
  g_autofree char *text = mmc_scenario("theory-solve-mmc", 4, service, DEVICES, lambda);
  const char *args[] = {"--param", "registration_service.av_servers", "--range", "2..12",
                        "--target", "rs.av.wait_mean < 0.5ms", NULL};
  char *dir, *db;
  g_autofree char *json = solve_scenario(text, args, &dir, &db);
  g_assert_cmpint((int)json_answer(json), ==, (int)want);
  /* the neighbour below missed, not merely undecided */
  g_assert_nonnull(strstr(json, "\"at_neighbour\": {\"value\": \"4\""));
  g_assert_nonnull(strstr(strstr(json, "\"at_neighbour\""), "\"verdict\": \"missed\""));
  solve_clear(dir, db);
}

/* The pool that never refuses a registration, against Little's law. Production at a
 * constant 5/s for 30 min, every delay constant: a PIMSI is held from allocation to release
 * for H (power-on after 60 s, attach, AKA, a 10 s download, the location update) and then
 * quarantined Q = 5 min, so once production has run H + Q the PIMSIs in use or quarantined
 * are L = lambda (H + Q) ~ 1,860 (Little's law with H the measured rs.pimsi.hold_mean), and
 * with constant inputs the peak is L itself, not L plus a Poisson excursion: the smallest
 * pool that never blocks is L, up to the one arrival in flight. solve over 1,000..3,000 in
 * steps of 10 must land within 3% of it (it lands within a step), and the pool's measured
 * peak of held PIMSIs at the answer must fit the answer. */
static void
test_solve_pool(void)
{
  const double lambda = 5, quarantine = 300;
  static const char text[] =
    "name: theory-solve-pool\n"
    "duration: 40min\n"
    "registration_service:\n"
    "  pimsi_pool: {mcc: \"001\", mnc: \"01\", size: 5000}\n"
    "  pimsi_recycle: after_provisioning\n"
    "  pimsi_quarantine: 5min\n"
    "  av_service_time: {constant: 2ms}\n"
    "  register_service_time: {constant: 1ms}\n"
    "visited_operators:\n"
    "  - {name: vo, share: 1.0, accepts_pimsi: true, attach_delay: {constant: 500ms},\n"
    "     roaming_delay: {constant: 30ms}}\n"
    "home_operators:\n"
    "  - {name: sho, share: 1.0, download_time: {constant: 10s},\n"
    "     register_delay: {constant: 1s}}\n"
    "manufacturers:\n"
    "  - {name: fab, devices: 9000, production: {constant: 5/s}}\n"
    "owners:\n"
    "  select_home_operator_after: {constant: 1s}\n"
    "  register_delay: {constant: 1s}\n"
    "devices:\n"
    "  power_on_after: {constant: 60s}\n"
    "output:\n"
    "  series_interval: 1min\n";
  /* every input constant: the replications are equal by construction, two suffice */
  const char *args[] = {"--param", "registration_service.pimsi_pool.size", "--range",
                        "1000..3000", "--step", "10", "--min-replications", "2",
                        "--equal-replications", "2", "--target", "rs.pimsi.blocked <= 0", NULL};
  char *dir, *db;
  g_autofree char *json = solve_scenario(text, args, &dir, &db);
  double answer = json_answer(json);
  g_assert_cmpfloat(answer, >, 0);
  /* hold time and held peak measured at the answer */
  g_autoptr(GError) error = NULL;
  g_autoptr(ResReader) r = res_reader_open(db, &error);
  g_assert_no_error(error);
  g_autoptr(GPtrArray) runs = res_reader_runs(r, &error);
  double hold = NAN, peak = NAN;
  g_autofree char *want_size = g_strdup_printf("%.0f", answer);
  for (guint i = 0; i < runs->len; i++) {
    const ResRun *run = runs->pdata[i];
    g_autoptr(GPtrArray) params = res_reader_params(r, run->id, &error);
    for (guint k = 0; k < params->len; k++) {
      const ResParam *p = params->pdata[k];
      if (strcmp(p->key, "registration_service.pimsi_pool.size") == 0 &&
          strcmp(p->value, want_size) == 0) {
        g_assert_true(res_reader_scalar(r, run->id, "rs.pimsi.hold_mean", &hold, &error));
        g_assert_true(res_reader_scalar(r, run->id, "rs.pimsi.held_peak", &peak, &error));
      }
    }
  }
  g_assert_cmpfloat(hold, >, 60);
  g_assert_cmpfloat(hold, <, 90);
  double little = lambda * (hold + quarantine);
  assert_rel("solve's pool size vs Little's law lambda (H + Q)", answer, little, 0.03);
  g_assert_cmpfloat(peak, <=, answer);
  g_assert_cmpfloat(peak, >, answer - 10);
  solve_clear(dir, db);
}

/* ---- RS sites (issue 15) ------------------------------------------------------------------ */

/* One site given as registration_service.sites with the values of the old keys is the RS
 * of old: every figure of the accounting world (outage, failures, resyncs, a pool too
 * small) is bit for bit the same, the new rs.sites.NAME.* figures aside. */
static void
test_sites_one_site(void)
{
  static const char *const one[] = {
    "registration_service.sites=[{name: only, av_servers: 4, av_service_time: {exponential: 2ms}}]",
    NULL};
  Run old, site;
  if (!run_scenario(accounting_text, 4, NULL, &old))
    return;
  if (!run_scenario(accounting_text, 4, one, &site))
    return;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) a = res_reader_scalars(old.db, old.run_id, &error);
  g_assert_no_error(error);
  g_autoptr(GPtrArray) b = res_reader_scalars(site.db, site.run_id, &error);
  g_assert_no_error(error);
  guint j = 0, compared = 0;
  for (guint i = 0; i < b->len; i++) {
    const ResScalar *y = b->pdata[i];
    if (g_str_has_prefix(y->name, "rs.sites.only."))
      continue;
    g_assert_cmpuint(j, <, a->len);
    const ResScalar *x = a->pdata[j++];
    g_assert_cmpstr(x->name, ==, y->name);
    if (strcmp(x->name, "engine.wall_s") == 0)
      continue;
    if (memcmp(&x->value, &y->value, sizeof x->value) != 0) /* bit for bit */
      g_error("%s: %.17g with the old keys, %.17g with one site", x->name, x->value, y->value);
    compared++;
  }
  g_assert_cmpuint(j, ==, a->len);
  g_assert_cmpuint(compared, >, 80);
  /* the one site did all the service's AV work */
  g_assert_cmpint(count(&site, "rs.sites.only.vectors"), ==, count(&site, "rs.av.vectors"));
  g_assert_cmpint(count(&site, "rs.sites.only.requests"), >=, count(&site, "rs.av.requests"));
  g_assert_cmpint(count(&site, "rs.sites.only.dropped"), ==, count(&site, "rs.dropped"));
  run_clear(&old);
  run_clear(&site);
}

/* Replication constructed: 200 devices authenticate at site a (SQN_HE moves there), no
 * home operator yet, so they wait with their temporary access, which ends a minute later;
 * meanwhile site a went down, the VO failed over to b, and b makes their next AVs from its
 * copy -- still 0 with a replication delay of an hour. Each USIM sees an SQN it has seen,
 * answers AUTS; the RS checks it with f1* / f5* (aka_he_resync), recovers the USIM's
 * SQN_MS (compared through the world's log with the USIM's own), takes SEQ_HE := SEQ_MS,
 * and the next AV passes: every device resyncs exactly once, and is provisioned. With a
 * delay of 0 the same world has no resync at all. */
static const char sites_resync_text[] =
  "name: theory-sites-resync\n"
  "duration: 2h\n"
  "registration_service:\n"
  "  pimsi_pool: {mcc: \"001\", mnc: \"01\", size: 1000}\n"
  "  pimsi_recycle: never\n"
  "  request_timeout: 1s\n"
  "  sites:\n"
  "    - {name: a, av_servers: 4, av_service_time: {exponential: 1ms}}\n"
  "    - {name: b, av_servers: 4, av_service_time: {exponential: 1ms}}\n"
  "  sqn_replication_delay: {constant: 1h}\n"
  "  failback_after: 2h\n"
  "visited_operators:\n"
  "  - {name: vo, share: 1.0, attach_delay: {constant: 500ms}, roaming_delay: {constant: 20ms},\n"
  "     temporary_access_limit: 1min, rs_sites: [a, b]}\n"
  "home_operators:\n"
  "  - {name: sho, share: 1.0, download_time: {constant: 20s}}\n"
  "manufacturers:\n"
  "  - {name: fab, devices: 200, production: {constant: 100/s}}\n"
  "owners:\n"
  "  select_home_operator_after: {constant: 4min}\n"
  "devices:\n"
  "  power_on_after: {constant: 1min}\n"
  "faults:\n"
  "  - {at: 80s, target: a, down_for: 1h}\n";

/* From the world's log: SQN_MS of each device's sync failure (the USIM's own state), and
 * of each resync at the RS (recovered from the AUTS), through the PIMSI allocations. */
static void
check_recovered_sqn(const char *log_path, unsigned expect)
{
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(log_path, &text, NULL, NULL));
  g_autoptr(GHashTable) dev_of = g_hash_table_new(g_direct_hash, g_direct_equal);
  g_autoptr(GHashTable) usim = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  unsigned pairs = 0;
  for (char **l = lines; *l; l++) {
    unsigned idx, dev;
    guint64 sqn;
    const char *p;
    if ((p = strstr(*l, "RegistrationService.pimsi(")) != NULL &&
        sscanf(p, "RegistrationService.pimsi(%u){ALLOCATED}: allocated to device %u", &idx,
               &dev) == 2) {
      g_hash_table_insert(dev_of, GUINT_TO_POINTER(idx), GUINT_TO_POINTER(dev));
    } else if ((p = strstr(*l, "Device(")) != NULL && strstr(p, "AUTS sent (SQN_MS ") != NULL) {
      g_assert_cmpint(sscanf(p, "Device(%u)", &dev), ==, 1);
      g_assert_cmpint(sscanf(strstr(p, "SQN_MS "), "SQN_MS %" G_GUINT64_FORMAT, &sqn), ==, 1);
      g_hash_table_insert(usim, GUINT_TO_POINTER(dev), g_memdup2(&sqn, sizeof sqn));
    } else if ((p = strstr(*l, "RegistrationService.pimsi(")) != NULL &&
               strstr(p, "SQN resynchronised (SQN_MS ") != NULL) {
      g_assert_cmpint(sscanf(p, "RegistrationService.pimsi(%u)", &idx), ==, 1);
      g_assert_cmpint(sscanf(strstr(p, "SQN_MS "), "SQN_MS %" G_GUINT64_FORMAT, &sqn), ==, 1);
      gpointer d;
      g_assert_true(g_hash_table_lookup_extended(dev_of, GUINT_TO_POINTER(idx), NULL, &d));
      const guint64 *want = g_hash_table_lookup(usim, d);
      g_assert_nonnull(want); /* the device's AUTS came first */
      g_assert_cmpuint(sqn, ==, *want);
      pairs++;
    }
  }
  g_assert_cmpuint(pairs, ==, expect);
}

static void
test_sites_replication(void)
{
  Run run;
  g_autofree char *log_dir = g_dir_make_tmp("m2m-sites-log-XXXXXX", NULL);
  g_autofree char *log = g_build_filename(log_dir, "world.log", NULL);
  if (!run_scenario_log(sites_resync_text, 1, NULL, log, &run))
    return;
  /* the SQN_MS the RS recovered from each AUTS is the one the USIM had */
  check_recovered_sqn(log, 200);
  g_remove(log);
  g_rmdir(log_dir);
  g_assert_cmpint(count(&run, "devices.provisioned"), ==, 200);
  /* a second authentication each */
  g_assert_cmpint(count(&run, "devices.access_expired"), >=, 200);
  g_assert_cmpint(count(&run, "rs.sites.a.failovers_out"), >, 0);
  g_assert_cmpint(count(&run, "aka.resyncs_replication"), ==, 200);
  g_assert_cmpint(count(&run, "rs.av.resync_requests"), ==, 200);
  g_assert_cmpint(count(&run, "aka.resyncs"), ==, 200); /* every AUTS verified */
  g_assert_cmpint(count(&run, "aka.failures"), ==, 0);
  run_clear(&run);

  static const char *const sync[] = {"registration_service.sqn_replication_delay={constant: 0s}",
                                     NULL};
  if (!run_scenario(sites_resync_text, 1, sync, &run))
    return;
  g_assert_cmpint(count(&run, "devices.provisioned"), ==, 200);
  g_assert_cmpint(count(&run, "rs.sites.a.failovers_out"), >, 0);
  g_assert_cmpint(count(&run, "aka.resyncs_replication"), ==, 0);
  g_assert_cmpint(count(&run, "aka.resyncs"), ==, 0);
  run_clear(&run);

  /* no outage: the VO's requests are answered in time; with a delay of its own of 700 ms
   * each way to site a (rs_site_delays) every answer comes after the 1 s timeout */
  static const char *const calm[] = {"faults=[]", NULL};
  static const char *const far[] = {
    "faults=[]", "visited_operators.0.rs_site_delays=[{site: a, roaming_delay: {constant: 700ms}}]",
    NULL};
  if (!run_scenario(sites_resync_text, 1, calm, &run))
    return;
  g_assert_cmpint(count(&run, "vo.rs_timeouts"), ==, 0);
  run_clear(&run);
  if (!run_scenario(sites_resync_text, 1, far, &run))
    return;
  g_assert_cmpint(count(&run, "vo.rs_timeouts"), >=, count(&run, "rs.sites.a.requests") / 2);
  g_assert_cmpint(count(&run, "devices.provisioned"), ==, 200);
  run_clear(&run);
}

/* Poisson production split by the VOs' shares (0.4, 0.6: each device draws its network,
 * so each stream is Poisson), each VO's AV requests to a site of its own with 2 and 3
 * exponential 2 ms servers: two M/M/c queues at rho = 0.7 (1,750 requests/s in all).
 * Each site's mean wait against Erlang C for its own share within 5 %: seeds 1-6
 * (M2M_THEORY_SEED) give -3.5 % .. +3.4 % with about 120,000 and 180,000 requests. */
static void
test_sites_erlang_c(void)
{
  const double lambda = 1750, service = 0.002, share[2] = {0.4, 0.6};
  const unsigned servers[2] = {2, 3};
  g_autofree char *text = g_strdup_printf(
    "name: theory-sites-mmc\n"
    "duration: 1200s\n"
    "registration_service:\n"
    "  pimsi_pool: {mcc: \"001\", mnc: \"01\", size: 300000}\n"
    "  pimsi_recycle: never\n"
    "  av_batch: 1\n"
    "  register_service_time: {constant: 1ms}\n"
    "  sites:\n"
    "    - {name: two, av_servers: %u, av_service_time: {exponential: %gms}}\n"
    "    - {name: three, av_servers: %u, av_service_time: {exponential: %gms}}\n"
    "visited_operators:\n"
    "  - {name: vo-a, share: %g, attach_delay: {constant: 500ms},\n"
    "     roaming_delay: {constant: 30ms}, rs_sites: [two]}\n"
    "  - {name: vo-b, share: %g, attach_delay: {constant: 500ms},\n"
    "     roaming_delay: {constant: 30ms}, rs_sites: [three]}\n"
    "home_operators:\n"
    "  - {name: sho, share: 1.0}\n"
    "manufacturers:\n"
    "  - {name: fab, devices: 300000, production: {poisson: %.0f/s}}\n"
    "owners:\n"
    "  select_home_operator_after: {constant: 1d}\n"
    "devices:\n"
    "  power_on_after: {constant: 10min}\n"
    "  retry: {initial: 1d, max: 1d}\n",
    servers[0], service * 1e3, servers[1], service * 1e3, share[0], share[1], lambda);
  Run run;
  if (!run_scenario(text, 1, NULL, &run))
    return;
  g_assert_cmpint(count(&run, "rs.timeouts"), ==, 0);
  g_assert_cmpint(count(&run, "rs.sites.two.requests") + count(&run, "rs.sites.three.requests"),
                  ==, 300000);
  const char *names[2] = {"two", "three"};
  for (int i = 0; i < 2; i++) {
    g_autofree char *wait = g_strdup_printf("rs.sites.%s.av.wait_mean", names[i]);
    g_autofree char *what = g_strdup_printf("%s (s) vs Erlang C for its share", wait);
    assert_rel(what, scalar(&run, wait), mmc_wait_mean(servers[i], share[i] * lambda, service),
               0.05);
  }
  run_clear(&run);
}

/* A site lost for an hour in the middle of a day's production, both sites on every VO's
 * route (then three sites, two lost at once): nothing is lost -- every AV request is answered at the other site (no VO gives
 * up, no device fails), the dropped ones were retried there -- and every unit is accounted
 * for; the run settles with everyone provisioned. */
static void
test_sites_outage(void)
{
  static const char text[] =
    "name: theory-sites-outage\n"
    "duration: 10d\n"
    "stop_when: settled\n"
    "registration_service:\n"
    "  pimsi_pool: {mcc: \"001\", mnc: \"01\", size: 10000}\n"
    "  request_timeout: 2s\n"
    "  sites:\n"
    "    - {name: west, av_servers: 2, av_service_time: {exponential: 2ms}}\n"
    "    - {name: east, av_servers: 2, av_service_time: {exponential: 2ms},\n"
    "       extra_delay: {constant: 60ms}}\n"
    "  sqn_replication_delay: {exponential: 2s}\n"
    "visited_operators:\n"
    "  - {name: vo-w, share: 0.6, rs_sites: [west, east]}\n"
    "  - {name: vo-e, share: 0.4, rs_sites: [east, west]}\n"
    "home_operators:\n"
    "  - {name: sho, share: 1.0}\n"
    "manufacturers:\n"
    "  - {name: fab, devices: 4000, production: {poisson: 4000/d}}\n"
    "owners:\n"
    "  select_home_operator_after: {exponential: 1h}\n"
    "devices:\n"
    "  power_on_after: {exponential: 2h}\n"
    "faults:\n"
    "  - {at: 12h, target: west, down_for: 1h}\n";
  Run run;
  if (!run_scenario(text, 3, NULL, &run))
    return;
  check_accounting(&run);
  g_assert_cmpint(count(&run, "devices.provisioned"), ==, 4000);
  g_assert_cmpint(count(&run, "devices.failed"), ==, 0);
  g_assert_cmpint(count(&run, "vo.gave_up"), ==, 0);
  g_assert_cmpint(count(&run, "rs.sites.west.dropped"), >, 0);
  g_assert_cmpint(count(&run, "rs.sites.west.failovers_out"), >, 0);
  g_assert_cmpint(count(&run, "rs.sites.east.failovers_in"), ==,
                  count(&run, "rs.sites.west.failovers_out"));
  g_assert_cmpint(count(&run, "rs.sites.east.dropped"), ==, 0);
  run_clear(&run);

  /* three sites, two of them lost at once: the requests go on to the third */
  static const char *const three[] = {
    "registration_service.sites=[{name: west, av_servers: 2, av_service_time: {exponential: "
    "2ms}}, {name: east, av_servers: 2, av_service_time: {exponential: 2ms}}, {name: north, "
    "av_servers: 2, av_service_time: {exponential: 2ms}}]",
    "visited_operators.0.rs_sites=[west, east, north]",
    "visited_operators.1.rs_sites=[east, west, north]",
    "faults=[{at: 12h, target: west, down_for: 1h}, {at: 12h, target: east, down_for: 1h}]",
    NULL};
  if (!run_scenario(text, 3, three, &run))
    return;
  check_accounting(&run);
  g_assert_cmpint(count(&run, "devices.provisioned"), ==, 4000);
  g_assert_cmpint(count(&run, "vo.gave_up"), ==, 0);
  g_assert_cmpint(count(&run, "rs.sites.north.failovers_in"), >, 0);
  g_assert_cmpint(count(&run, "rs.sites.north.requests"), >, 0);
  run_clear(&run);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/theory/erlang-c", test_erlang_c);
  g_test_add_func("/theory/mmc-wait", test_mmc);
  g_test_add_func("/theory/little-pool", test_little);
  g_test_add_func("/theory/vector-time", test_vector_time);
  g_test_add_func("/theory/front-mmc", test_front_mmc);
  g_test_add_func("/theory/exhaustion-time", test_exhaustion);
  g_test_add_func("/theory/exhaustion-home-operator-known", test_exhaustion_known);
  g_test_add_func("/theory/accounting", test_accounting);
  g_test_add_func("/theory/varying-production", test_varying_production);
  g_test_add_func("/theory/varying-exhaustion", test_varying_exhaustion);
  g_test_add_func("/theory/never-deployed", test_never_deployed);
  g_test_add_func("/theory/validity", test_validity);
  g_test_add_func("/theory/ranges", test_ranges);
  g_test_add_func("/theory/solve-mmc", test_solve_mmc);
  g_test_add_func("/theory/solve-pool", test_solve_pool);
  g_test_add_func("/theory/sites-one-site", test_sites_one_site);
  g_test_add_func("/theory/sites-replication", test_sites_replication);
  g_test_add_func("/theory/sites-erlang-c", test_sites_erlang_c);
  g_test_add_func("/theory/sites-outage", test_sites_outage);
  return g_test_run();
}
