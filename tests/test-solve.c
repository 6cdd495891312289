/* m2msim solve: its decisions on their own (the grid of candidates, targets with units,
 * verdicts from a replications' interval, the bisection on every threshold of small grids),
 * then the command on the fake runner (tests/fake-m2msim.c: rs.av.wait_mean = 2 ms / c
 * plus up to 0.1 ms of seed noise), in milliseconds per run: the answer and its
 * neighbour, --json, --max, the database it leaves (every run, the answer in meta),
 * and resumption after SIGKILL with the same answer and no finished run repeated. The
 * checks against queueing theory (Erlang C, Little's law) are in test-theory.c. */
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "m2m/results.h"
#include "m2m/solve.h"
#include "testutil.h"

/* ---- grid ------------------------------------------------------------------------- */

static void
assert_grid(SolveKind kind, const char *range, const char *step, size_t n, const char *first,
            const char *second, const char *last)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(SolveGrid) g = solve_grid_new(kind, range, step, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(solve_grid_n(g), ==, n);
  g_autofree char *a = solve_grid_text(g, 0), *b = solve_grid_text(g, 1),
                  *z = solve_grid_text(g, n - 1);
  g_assert_cmpstr(a, ==, first);
  g_assert_cmpstr(b, ==, second);
  g_assert_cmpstr(z, ==, last);
}

static void
test_grid(void)
{
  assert_grid(SOLVE_INTEGER, "1..8", NULL, 8, "1", "2", "8");
  assert_grid(SOLVE_INTEGER, "1000..5000", "500", 9, "1000", "1500", "5000");
  assert_grid(SOLVE_INTEGER, "1..10", "4", 3, "1", "5", "9"); /* 13 is past HI */
  assert_grid(SOLVE_DURATION, "1h..2d", "1h", 48, "1h", "2h", "2d");
  assert_grid(SOLVE_DURATION, "30min..2h", NULL, 101, "30min", "1854s", "2h");
  assert_grid(SOLVE_RATE, "100/s..200/s", "10/s", 11, "100/s", "110/s", "200/s");
  assert_grid(SOLVE_RATE, "500/d..1000/d", "50/d", 11, "500/d", "550/d", "1000/d");
  assert_grid(SOLVE_REAL, "0.5..1", "0.1", 6, "0.5", "0.6", "1");

  static const struct {
    SolveKind kind;
    const char *range, *step, *why;
  } bad[] = {
    {SOLVE_INTEGER, "5..5", NULL, "low end must be below"},
    {SOLVE_INTEGER, "8..1", NULL, "low end must be below"},
    {SOLVE_INTEGER, "1-8", NULL, "expected LO..HI"},
    {SOLVE_INTEGER, "..8", NULL, "expected LO..HI"},
    {SOLVE_INTEGER, "1..", NULL, "expected LO..HI"},
    {SOLVE_INTEGER, "a..b", NULL, "whole number"},
    {SOLVE_INTEGER, "1.5..3", NULL, "whole number"},
    {SOLVE_INTEGER, "-1..3", NULL, "whole number"},
    {SOLVE_INTEGER, "1..8", "0", "above 0"},
    {SOLVE_INTEGER, "1..100000000", NULL, "more than 1000000 candidates"},
    {SOLVE_DURATION, "1..8", NULL, "without a unit"},
    {SOLVE_DURATION, "1h..2x", NULL, "unknown duration unit"},
    {SOLVE_RATE, "1h..2h", NULL, "rate"},
    {SOLVE_REAL, "0..nan", NULL, "expected a number"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(SolveGrid) g = solve_grid_new(bad[i].kind, bad[i].range, bad[i].step, &error);
    g_assert_null(g);
    g_assert_error(error, SOLVE_ERROR, SOLVE_ERROR_RANGE);
    if (strstr(error->message, bad[i].why) == NULL)
      g_error("%s: got '%s', expected it to say '%s'", bad[i].range, error->message, bad[i].why);
  }
}

/* ---- targets and verdicts --------------------------------------------------------- */

static void
test_targets(void)
{
  static const struct {
    const char *text, *metric;
    SolveOp op;
    double value;
  } good[] = {
    {"rs.av.wait_mean < 50ms", "rs.av.wait_mean", SOLVE_LT, 0.05},
    {"rs.pimsi.blocked<=0", "rs.pimsi.blocked", SOLVE_LE, 0},
    {"  provision.latency_km.p99 <= 2h ", "provision.latency_km.p99", SOLVE_LE, 7200},
    {"devices.provisioned >= 990", "devices.provisioned", SOLVE_GE, 990},
    {"rs.av.utilization < 80%", "rs.av.utilization", SOLVE_LT, 0.8},
    {"rs.av.rate_peak > 100/s", "rs.av.rate_peak", SOLVE_GT, 100},
    {"rs.pimsi.exhausted_at > 30d", "rs.pimsi.exhausted_at", SOLVE_GT, 30 * 86400},
    {"x > 1.5e-3", "x", SOLVE_GT, 1.5e-3},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
    SolveTarget t;
    g_autoptr(GError) error = NULL;
    g_assert_true(solve_target_parse(good[i].text, &t, &error));
    g_assert_cmpstr(t.metric, ==, good[i].metric);
    g_assert_cmpint(t.op, ==, good[i].op);
    g_assert_cmpfloat_with_epsilon(t.value, good[i].value, 1e-12 * (1 + good[i].value));
    solve_target_clear(&t);
  }
  static const char *const bad[] = {"< 1", "x 1", "x <", "x < 1parsec", "x = 1", "x ! 1",
                                    "x y < 1", "x < 1/fortnight", "x < 5%%", "x < nan"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    SolveTarget t;
    g_autoptr(GError) error = NULL;
    if (solve_target_parse(bad[i], &t, &error))
      g_error("'%s' parsed", bad[i]);
    g_assert_error(error, SOLVE_ERROR, SOLVE_ERROR_TARGET);
    g_assert_nonnull(strstr(error->message, bad[i]));
  }
}

static SolveVerdict
verdict_eq(const char *target, size_t n, double mean, double sd, double hw, size_t absent,
           size_t equal_min)
{
  SolveTarget t;
  g_assert_true(solve_target_parse(target, &t, NULL));
  CiSummary c = {n, mean, sd, hw};
  SolveVerdict v = solve_verdict(&t, &c, absent, equal_min);
  solve_target_clear(&t);
  return v;
}

static SolveVerdict
verdict(const char *target, size_t n, double mean, double sd, double hw, size_t absent)
{
  return verdict_eq(target, n, mean, sd, hw, absent, SOLVE_EQUAL_MIN);
}

static void
test_verdicts(void)
{
  /* the interval 1 +- 0.1 against thresholds on either side and inside */
  g_assert_cmpint(verdict("x < 2", 3, 1, 0.05, 0.1, 0), ==, SOLVE_MET);
  g_assert_cmpint(verdict("x < 1.05", 3, 1, 0.05, 0.1, 0), ==, SOLVE_UNDECIDED);
  g_assert_cmpint(verdict("x < 0.8", 3, 1, 0.05, 0.1, 0), ==, SOLVE_MISSED);
  g_assert_cmpint(verdict("x > 0.8", 3, 1, 0.05, 0.1, 0), ==, SOLVE_MET);
  g_assert_cmpint(verdict("x >= 1.2", 3, 1, 0.05, 0.1, 0), ==, SOLVE_MISSED);
  /* the ends: < excludes, <= includes */
  g_assert_cmpint(verdict("x < 1.1", 3, 1, 0.05, 0.1, 0), ==, SOLVE_UNDECIDED);
  g_assert_cmpint(verdict("x <= 1.1", 3, 1, 0.05, 0.1, 0), ==, SOLVE_MET);
  /* every replication equal: no interval; off the target's side it is missed, on it met
   * only from equal_min such runs on (3 runs of 0 refusals say little) */
  g_assert_cmpint(verdict("x <= 0", 3, 0, 0, 0, 0), ==, SOLVE_UNDECIDED);
  g_assert_cmpint(verdict("x <= 0", 10, 0, 0, 0, 0), ==, SOLVE_MET);
  g_assert_cmpint(verdict_eq("x <= 0", 3, 0, 0, 0, 0, 3), ==, SOLVE_MET);
  g_assert_cmpint(verdict("x < 0", 3, 0, 0, 0, 0), ==, SOLVE_MISSED);
  /* one replication decides nothing */
  g_assert_cmpint(verdict("x < 100", 1, 1, NAN, NAN, 0), ==, SOLVE_UNDECIDED);
  /* absent everywhere = infinite: a latency never reached misses, a pool never
   * exhausted meets "exhausted_at > 30d"; absent in some runs only is undecided */
  g_assert_cmpint(verdict("x < 60s", 0, NAN, NAN, NAN, 3), ==, SOLVE_MISSED);
  g_assert_cmpint(verdict("x > 30d", 0, NAN, NAN, NAN, 3), ==, SOLVE_UNDECIDED);
  g_assert_cmpint(verdict("x > 30d", 0, NAN, NAN, NAN, 10), ==, SOLVE_MET);
  g_assert_cmpint(verdict("x > 30d", 2, 1e9, 1, 1, 1), ==, SOLVE_UNDECIDED);
  g_assert_cmpint(verdict("x < 60s", 0, NAN, NAN, NAN, 0), ==, SOLVE_UNDECIDED);

  /* replications wanted: the half-width must shrink below the gap, as 1 / sqrt(n) */
  SolveTarget t;
  g_assert_true(solve_target_parse("x < 0.8", &t, NULL));
  CiSummary c = {3, 1, 0.2, 0.5};
  size_t want = solve_replications_wanted(&t, &c, 3, SOLVE_EQUAL_MIN);
  g_assert_cmpuint(want, >=, (size_t)ceil(3 * (0.5 / 0.2) * (0.5 / 0.2)));
  g_assert_cmpuint(want, <=, 3 * 7);
  c.half_width = NAN;
  g_assert_cmpuint(solve_replications_wanted(&t, &c, 3, SOLVE_EQUAL_MIN), ==, 4);
  CiSummary eq = {3, 0, 0, 0}; /* three equal runs ask for equal_min */
  g_assert_cmpuint(solve_replications_wanted(&t, &eq, 3, SOLVE_EQUAL_MIN), ==, SOLVE_EQUAL_MIN);
  solve_target_clear(&t);
}

/* ---- bisection -------------------------------------------------------------------- */

/* Every grid of 1..40 candidates and every place of the threshold (k: the first index
 * that holds, n for none), both directions: the answer is exact and costs at most
 * 2 + ceil(log2 n) evaluations, none of them twice. */
static void
test_search(void)
{
  for (size_t n = 1; n <= 40; n++)
    for (int largest = 0; largest < 2; largest++)
      for (size_t k = 0; k <= n; k++) {
        SolveSearch s;
        solve_search_init(&s, n, largest);
        g_autofree bool *seen = g_new0(bool, n);
        size_t index, evals = 0;
        long answer = -2;
        while (solve_search_next(&s, &index, &answer)) {
          g_assert_cmpuint(index, <, n);
          g_assert_false(seen[index]);
          seen[index] = true;
          evals++;
          /* smallest mode: holds from k on; largest: holds up to n - 1 - k */
          bool holds = largest ? index + k < n : index >= k;
          solve_search_tell(&s, index, holds);
        }
        long want = k == n ? -1 : largest ? (long)(n - 1 - k) : (long)k;
        g_assert_cmpint(answer, ==, want);
        g_assert_cmpuint(evals, <=, 2 + (size_t)ceil(log2((double)n)));
        long nb = solve_search_neighbour(&s, answer);
        if (answer >= 0 && nb >= 0)
          g_assert_true(seen[nb]); /* the neighbour on the failing side was evaluated */
        if (answer < 0)
          g_assert_cmpint(nb, ==, -1);
      }
}

/* ---- the command on the fake runner ------------------------------------------------ */

typedef struct {
  char *dir, *db, *scn;
} Fixture;

static void
fx_setup(Fixture *fx, gconstpointer data)
{
  fx->dir = g_dir_make_tmp("test-solve-XXXXXX", NULL);
  fx->db = g_build_filename(fx->dir, "solve.db", NULL);
  fx->scn = g_build_filename(g_getenv("M2M_SRCDIR"), "scenarios", "quickstart.yaml", NULL);
  g_unsetenv("FAKE_M2MSIM_SLEEP_MS");
}

static void
fx_teardown(Fixture *fx, gconstpointer data)
{
  tu_rm_rf(fx->dir);
  g_free(fx->dir);
  g_free(fx->db);
  g_free(fx->scn);
}

/* The fake's wait is 2 ms / c + [0, 0.1 ms): below 0.62 ms from c = 4 (0.50-0.60 ms), not
 * at 3 (0.67-0.77 ms). */
static GPtrArray *
solve_args(const Fixture *fx, const char *extra, ...)
{
  GPtrArray *a = g_ptr_array_new();
  const char *base[] = {"solve",   fx->scn, "--m2msim", g_getenv("FAKE_M2MSIM"),
                        "--param", "registration_service.av_servers",
                        "--range", "1..16",
                        "--target", "rs.av.wait_mean < 0.62ms",
                        "-j",      "2",
                        "-o",      fx->db};
  for (size_t i = 0; i < G_N_ELEMENTS(base); i++)
    g_ptr_array_add(a, (gpointer)base[i]);
  va_list ap;
  va_start(ap, extra);
  for (const char *x = extra; x; x = va_arg(ap, const char *))
    g_ptr_array_add(a, (gpointer)x);
  va_end(ap);
  g_ptr_array_add(a, NULL);
  return a;
}

static guint
count_parts(const char *dir)
{
  guint n = 0;
  GDir *d = g_dir_open(dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d)) != NULL)
    n += name[0] == 'v' && g_str_has_suffix(name, ".db");
  if (d)
    g_dir_close(d);
  return n;
}

static void
test_answer(Fixture *fx, gconstpointer data)
{
  g_autoptr(GPtrArray) a = solve_args(fx, NULL);
  g_autofree char *o = NULL, *e = NULL;
  if (tu_run_m2msimv(&o, &e, (const char *const *)a->pdata) != 0)
    g_error("solve failed: %s", e);
  g_assert_true(g_str_has_prefix(o, "answer: registration_service.av_servers=4\n"));
  g_assert_nonnull(strstr(o, "    at 4 (3 replications): rs.av.wait_mean"));
  g_assert_nonnull(strstr(o, "    at 3 (3 replications): rs.av.wait_mean"));
  g_assert_nonnull(strstr(o, ", met\n"));
  g_assert_nonnull(strstr(o, ", missed\n"));
  /* 16 holds, 1 fails, then bisection 8, 4, 2, 3: six candidates of 3 replications */
  g_assert_nonnull(strstr(o, "candidates evaluated: 6; runs: 18 (0 done before)"));

  /* The database: every run, the parameter as a varied key, the answer in meta. */
  g_autoptr(GError) error = NULL;
  g_autoptr(ResReader) r = res_reader_open(fx->db, &error);
  g_assert_no_error(error);
  g_autoptr(GPtrArray) runs = res_reader_runs(r, &error);
  g_assert_cmpuint(runs->len, ==, 18);
  g_autofree char *answer = res_reader_meta(r, "solve.answer");
  g_autofree char *param = res_reader_meta(r, "solve.param");
  g_autofree char *targets = res_reader_meta(r, "solve.targets");
  g_assert_cmpstr(answer, ==, "4");
  g_assert_cmpstr(param, ==, "registration_service.av_servers");
  g_assert_cmpstr(targets, ==, "rs.av.wait_mean < 0.62ms");
  /* common random numbers: replication r has one seed at every candidate */
  g_autoptr(GHashTable) seeds = g_hash_table_new(g_int64_hash, g_int64_equal);
  for (guint i = 0; i < runs->len; i++) {
    const ResRun *run = runs->pdata[i];
    gint64 *seed = g_hash_table_lookup(seeds, &run->replication);
    if (seed)
      g_assert_cmpint(*seed, ==, run->seed);
    else
      g_hash_table_insert(seeds, (gpointer)&run->replication, (gpointer)&run->seed);
  }
  g_assert_cmpuint(g_hash_table_size(seeds), ==, 3);

  /* The report opens with the answer, in a real browser: the answer, every candidate in
   * the parameter's order, the answer's row marked, waits in microseconds. */
  g_autofree char *html = g_build_filename(fx->dir, "solve.html", NULL);
  g_autofree char *ro = NULL, *re = NULL;
  if (tu_run_m2msim(&ro, &re, "report", fx->db, "-o", html, NULL) != 0)
    g_error("report failed: %s", re);
  g_autofree char *dom = tu_browser_dom(html);
  const char *answer_at = strstr(dom, "<section id=\"answer\">");
  g_assert_nonnull(answer_at);
  g_assert_true(answer_at < strstr(dom, "<section id=\"scalars\">"));
  g_assert_nonnull(strstr(answer_at, "<h2>The answer</h2>"));
  g_assert_nonnull(strstr(answer_at, "Answer: <code>registration_service.av_servers</code> = "
                                     "<strong>4</strong>, the smallest value of 1..16"));
  g_assert_nonnull(strstr(answer_at, "<th>rs.av.wait_mean &lt; 0.62ms</th>"));
  const char *rows[] = {"<td>1</td>", "<td>2</td>", "<td>3</td>", "<td>4</td>", "<td>8</td>",
                        "<td>16</td>"};
  const char *prev = answer_at;
  for (size_t i = 0; i < G_N_ELEMENTS(rows); i++) {
    const char *at = strstr(prev, rows[i]);
    if (at == NULL)
      g_error("candidate row %s missing or out of order", rows[i]);
    prev = at;
  }
  g_assert_nonnull(strstr(answer_at, "<tr class=\"answer-row\"><td>4</td>"));
  g_assert_nonnull(strstr(answer_at, " µs <span class=\"verdict met\">met</span>"));
  g_assert_nonnull(strstr(answer_at, "<span class=\"verdict missed\">missed</span>"));

  /* --json, again: nothing re-runs, the same answer. */
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);
  g_autoptr(GPtrArray) j = solve_args(fx, "--json", NULL);
  g_assert_cmpint(tu_run_m2msimv(&o, &e, (const char *const *)j->pdata), ==, 0);
  g_assert_true(g_str_has_prefix(o, "{\"param\": \"registration_service.av_servers\", "
                                    "\"answer\": \"4\""));
  g_assert_nonnull(strstr(o, "\"runs\": 18, \"runs_done_before\": 18"));
  g_assert_nonnull(strstr(o, "\"at_neighbour\": {\"value\": \"3\""));

  /* Another threshold over the same parts: they are reused (targets pick runs). */
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);
  g_autoptr(GPtrArray) b = solve_args(fx, "--target", "rs.av.wait_mean < 0.45ms", NULL);
  g_assert_cmpint(tu_run_m2msimv(&o, &e, (const char *const *)b->pdata), ==, 0);
  g_assert_nonnull(strstr(o, "answer: registration_service.av_servers="));

  /* --max: the largest c whose wait stays above 0.62 ms is 3. */
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);
  g_autoptr(GPtrArray) m = solve_args(fx, "--max", NULL);
  g_ptr_array_index(m, 9) = (gpointer) "rs.av.wait_mean > 0.62ms";
  g_assert_cmpint(tu_run_m2msimv(&o, &e, (const char *const *)m->pdata), ==, 0);
  g_assert_true(g_str_has_prefix(o, "answer: registration_service.av_servers=3\n"));

  /* Nothing in the range: none. */
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);
  g_autoptr(GPtrArray) n = solve_args(fx, NULL);
  g_ptr_array_index(n, 9) = (gpointer) "rs.av.wait_mean < 0.01ms";
  g_assert_cmpint(tu_run_m2msimv(&o, &e, (const char *const *)n->pdata), ==, 0);
  g_assert_true(g_str_has_prefix(o, "answer: none in 1..16\n"));

  /* Other runs (another seed) are refused in the same parts directory. */
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);
  g_autoptr(GPtrArray) s = solve_args(fx, "--seed", "9", NULL);
  g_assert_cmpint(tu_run_m2msimv(&o, &e, (const char *const *)s->pdata), ==, 2);
  g_assert_nonnull(strstr(e, "holds parts of a different solve"));
}

/* Killed mid-search (SIGKILL), the same command finishes without repeating a finished
 * run and gives the answer of an uninterrupted search. */
static void
test_kill_and_resume(Fixture *fx, gconstpointer data)
{
  g_autoptr(GPtrArray) a = solve_args(fx, NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new();
  g_ptr_array_add(argv, (gpointer)g_getenv("M2MSIM"));
  for (guint i = 0; i + 1 < a->len; i++)
    g_ptr_array_add(argv, a->pdata[i]);
  g_ptr_array_add(argv, NULL);
  g_setenv("FAKE_M2MSIM_SLEEP_MS", "150", TRUE);
  GPid pid = 0;
  g_autoptr(GError) error = NULL;
  g_assert_true(g_spawn_async(NULL, (char **)argv->pdata, NULL,
                              G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDERR_TO_DEV_NULL |
                                  G_SPAWN_STDOUT_TO_DEV_NULL,
                              NULL, NULL, &pid, &error));
  g_autofree char *parts = g_strconcat(fx->db, ".parts", NULL);
  /* Kill after the first candidates (7 of the 18 runs), mid-way through the bisection. */
  for (int i = 0; i < 4000 && count_parts(parts) < 7; i++)
    g_usleep(5000);
  g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
  int status = 0;
  g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
  g_assert_true(WIFSIGNALED(status));
  g_spawn_close_pid(pid);
  g_usleep(300000); /* the children die with the search (PR_SET_PDEATHSIG) */
  guint done = count_parts(parts);
  g_assert_cmpuint(done, >=, 7);
  g_assert_cmpuint(done, <, 18);
  g_assert_false(g_file_test(fx->db, G_FILE_TEST_EXISTS));
  /* Remember the finished parts: the resumed search must leave them untouched. */
  g_autoptr(GHashTable) inodes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  GDir *d = g_dir_open(parts, 0, NULL);
  const char *name;
  while ((name = g_dir_read_name(d)) != NULL)
    if (name[0] == 'v' && g_str_has_suffix(name, ".db")) {
      struct stat st;
      char *p = g_build_filename(parts, name, NULL);
      g_assert_cmpint(g_stat(p, &st), ==, 0);
      g_hash_table_insert(inodes, p, GSIZE_TO_POINTER(st.st_ino));
    }
  g_dir_close(d);

  g_unsetenv("FAKE_M2MSIM_SLEEP_MS");
  g_autofree char *o = NULL, *e = NULL;
  if (tu_run_m2msimv(&o, &e, (const char *const *)a->pdata) != 0)
    g_error("resumed solve failed: %s", e);
  g_assert_true(g_str_has_prefix(o, "answer: registration_service.av_servers=4\n"));
  g_autofree char *expect = g_strdup_printf("runs: 18 (%u done before)", done);
  g_assert_nonnull(strstr(o, expect));
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, inodes);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    struct stat st;
    g_assert_cmpint(g_stat(k, &st), ==, 0);
    g_assert_cmpuint(st.st_ino, ==, GPOINTER_TO_SIZE(v));
  }
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/solve/grid", test_grid);
  g_test_add_func("/solve/targets", test_targets);
  g_test_add_func("/solve/verdicts", test_verdicts);
  g_test_add_func("/solve/search", test_search);
  g_test_add("/solve/answer", Fixture, NULL, fx_setup, test_answer, fx_teardown);
  g_test_add("/solve/kill-and-resume", Fixture, NULL, fx_setup, test_kill_and_resume,
             fx_teardown);
  return g_test_run();
}
