/* `m2msim report`: a self-contained HTML5 file (balanced tags, unique ids, no reference to
 * the network or to external files: checked with python3's html.parser), the scenario
 * text HTML-escaped, every scalar, mean and 95% Student t confidence interval per sweep
 * point (worked by hand), inline SVG figures; and the refusals: gnuplot missing (unless
 * --no-plots), -o naming a file that is not an HTML report, a file that is not a results
 * database, missing -o. */
#include <math.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "../tools/human.h"
#include "study-fixture.h"
#include "testutil.h"

/* Prints "ok" or the first problems; exit status 1 on any. */
static const char checker[] =
    "import sys\n"
    "from html.parser import HTMLParser\n"
    "VOID = {'area','base','br','col','embed','hr','img','input','link','meta','source',"
    "'track','wbr'}\n"
    "class P(HTMLParser):\n"
    "    def __init__(s):\n"
    "        super().__init__(convert_charrefs=True); s.stack=[]; s.err=[]; s.ids=set()\n"
    "    def attrs(s, tag, attrs):\n"
    "        for k, v in attrs:\n"
    "            if v and ('http://' in v or 'https://' in v or v.startswith('//')):\n"
    "                s.err.append('external reference %s %s=%s' % (tag, k, v))\n"
    "            if k in ('src', 'srcset', 'data'): s.err.append('%s has %s' % (tag, k))\n"
    "            if k == 'href' and v and not v.startswith('#'):\n"
    "                s.err.append('link out of the page: %s' % v)\n"
    "            if k == 'id':\n"
    "                if v in s.ids: s.err.append('duplicate id ' + v)\n"
    "                s.ids.add(v)\n"
    "        if tag in ('script','link','img','iframe','object','embed'):\n"
    "            s.err.append('tag ' + tag)\n"
    "    def handle_starttag(s, tag, attrs):\n"
    "        s.attrs(tag, attrs)\n"
    "        if tag not in VOID: s.stack.append(tag)\n"
    "    def handle_startendtag(s, tag, attrs): s.attrs(tag, attrs)\n"
    "    def handle_endtag(s, tag):\n"
    "        if not s.stack or s.stack[-1] != tag:\n"
    "            s.err.append('unbalanced </%s>, open %s' % (tag, s.stack[-3:])); return\n"
    "        s.stack.pop()\n"
    "text = open(sys.argv[1], encoding='utf-8').read()\n"
    "p = P(); p.feed(text); p.close()\n"
    "if not text.startswith('<!DOCTYPE html>'): p.err.append('no <!DOCTYPE html>')\n"
    "if p.stack: p.err.append('unclosed %s' % p.stack)\n"
    "print('\\n'.join(p.err[:5]) if p.err else 'ok')\n"
    "sys.exit(1 if p.err else 0)\n";

typedef struct {
  char *dir;
} Fixture;

static void
fx_setup(Fixture *fx, gconstpointer data)
{
  fx->dir = g_dir_make_tmp("test-report-XXXXXX", NULL);
}

static void
fx_teardown(Fixture *fx, gconstpointer data)
{
  GDir *d = g_dir_open(fx->dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d)) != NULL) {
    g_autofree char *p = g_build_filename(fx->dir, name, NULL);
    g_unlink(p);
  }
  if (d)
    g_dir_close(d);
  g_rmdir(fx->dir);
  g_free(fx->dir);
}

static void
assert_has(const char *text, const char *needle)
{
  if (strstr(text, needle) == NULL)
    g_error("'%s' not found in:\n%.1500s", needle, text);
}

/* Runs the checker; skips the check (not the test) without python3. */
static void
check_html(const char *path)
{
  g_autofree char *py = g_find_program_in_path("python3");
  if (py == NULL) {
    g_test_message("python3 missing: HTML structure not checked");
    return;
  }
  const char *argv[] = {py, "-c", checker, path, NULL};
  g_autofree char *out = NULL;
  int status = 0;
  g_autoptr(GError) error = NULL;
  g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL,
                             &status, &error));
  if (!g_spawn_check_wait_status(status, NULL))
    g_error("%s: %s", path, out);
  g_assert_cmpstr(out, ==, "ok\n");
}

static const char *const scenario =
    "# Pool study <small> & \"quoted\" -- see https://example.org/notes\n"
    "name: study-report\n";

static void
test_sweep_report(Fixture *fx, gconstpointer data)
{
  g_autofree char *db = g_build_filename(fx->dir, "sweep.db", NULL);
  SfRunSpec spec = {scenario, "study-report", false, true};
  const char *points[] = {"1000", "2000", "4000", NULL};
  sf_write(db, &spec, points, 3);
  g_autofree char *html = g_build_filename(fx->dir, "report.html", NULL);
  g_autofree char *o = NULL, *e = NULL;
  int rc = tu_run_m2msim(&o, &e, "report", db, "-o", html, NULL);
  if (rc != 0)
    g_error("report failed: %s", e);
  check_html(html);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(html, &text, NULL, NULL));
  /* The scenario text, escaped (the URL in it is text, not a reference). */
  assert_has(text, "# Pool study &lt;small&gt; &amp; &quot;quoted&quot; -- see "
                   "https://example.org/notes\n");
  g_assert_null(strstr(text, "<small>"));
  /* rs.pimsi.blocked at pool 1000 over replications 0, 1, 2: 100, 101, 102: mean 101,
   * sd 1, half-width t(0.975, 2) / sqrt(3) = 4.302653 / 1.732051 = 2.48414: three
   * significant digits for the mean, two for the half-width. */
  assert_has(text, "<tr><td class=\"key\">rs.pimsi.blocked</td><td>101 ± 2.5</td>"
                   "<td>51 ± 2.5</td><td>26 ± 2.5</td></tr>");
  /* one varied key: the corner names it, the columns are its values as written */
  assert_has(text, "<th>scalar \\ <code>registration_service.pimsi_pool.size</code></th>");
  assert_has(text, "<th title=\"3 runs\">2000</th>");
  /* a time in the unit that fits it, the half-width in the same unit (108001 s = 30.0003 h) */
  assert_has(text, "rs.pimsi.exhausted_at</td><td>30 ± 0.00069 h</td>");
  /* scalars grouped by area */
  assert_has(text, "<h3 id=\"area-pimsi-pool\">PIMSI pool</h3>");
  /* The key figures open the report: one row per point, in the parameter's order. */
  const char *key = strstr(text, "<table id=\"key-figures\">");
  g_assert_nonnull(key);
  g_assert_true(key < strstr(text, "<section id=\"scalars\">"));
  assert_has(key, "<th><code>registration_service.pimsi_pool.size</code></th><th>runs</th>"
                  "<th>provisioned of made</th><th>pool exhausted</th>");
  assert_has(key, "<tr><td>1000</td><td>3</td>");
  g_assert_true(strstr(key, "<tr><td>1000</td>") < strstr(key, "<tr><td>4000</td>"));
  /* Figures inline: the sweep plot and each point's. */
  assert_has(text, "<svg role=\"img\" aria-label=\"rs.pimsi.blocked against "
                   "registration_service.pimsi_pool.size");
  assert_has(text, "<h3>Point 3: registration_service.pimsi_pool.size=4000 (3 runs)</h3>");
  assert_has(text, "PIMSI pool occupancy: pool exhausted at t = 1.25 d (3 of 3 runs)");
  assert_has(text, "<td class=\"key\">duration</td><td>2d</td>");
  g_assert_null(strstr(text, "<?xml"));
  /* Written again over an earlier report: fine. */
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);
  g_assert_cmpint(tu_run_m2msim(&o, &e, "report", db, "-o", html, "--no-plots", NULL), ==, 0);
  g_autofree char *again = NULL;
  g_assert_true(g_file_get_contents(html, &again, NULL, NULL));
  g_assert_null(strstr(again, "<svg"));
  check_html(html);
}

static void
test_single_run(Fixture *fx, gconstpointer data)
{
  g_autofree char *db = g_build_filename(fx->dir, "one.db", NULL);
  SfRunSpec spec = {scenario, "study-report", true, false};
  sf_write(db, &spec, NULL, 1);
  g_autofree char *html = g_build_filename(fx->dir, "one.html", NULL);
  g_autofree char *o = NULL, *e = NULL;
  g_assert_cmpint(tu_run_m2msim(&o, &e, "report", db, "-o", html, NULL), ==, 0);
  check_html(html);
  g_autofree char *text = NULL;
  g_assert_true(g_file_get_contents(html, &text, NULL, NULL));
  assert_has(text, "one.db: 1 run, seed 7.");
  assert_has(text, "<tr><td class=\"key\">rs.pimsi.blocked</td><td>20</td></tr>");
  assert_has(text, "Provisioning latency CDF");
  /* the latency figures say which devices they cover */
  assert_has(text, "over the devices provisioned by the end of the run only");
  assert_has(text, "over every device that powered on");
  g_assert_null(strstr(text, "step approximation"));
}

static guint
count(const char *text, const char *needle)
{
  guint n = 0;
  for (const char *p = strstr(text, needle); p; p = strstr(p + 1, needle))
    n++;
  return n;
}

/* The sweep's report as a real browser builds it: the key figures first, times in human
 * units, and every figure with its drawing (an inline SVG with a label). */
static void
test_browser(Fixture *fx, gconstpointer data)
{
  g_autofree char *db = g_build_filename(fx->dir, "sweep.db", NULL);
  SfRunSpec spec = {scenario, "study-report", true, true};
  const char *points[] = {"1000", "2000", "4000", NULL};
  sf_write(db, &spec, points, 3);
  g_autofree char *html = g_build_filename(fx->dir, "report.html", NULL);
  g_autofree char *o = NULL, *e = NULL;
  if (tu_run_m2msim(&o, &e, "report", db, "-o", html, NULL) != 0)
    g_error("report failed: %s", e);
  g_autofree char *dom = tu_browser_dom(html);
  const char *answer = strstr(dom, "<section id=\"answer\">");
  g_assert_nonnull(answer);
  g_assert_true(answer < strstr(dom, "<section id=\"scalars\">"));
  assert_has(answer, "<h2>Key figures</h2>");
  assert_has(answer, "<table id=\"key-figures\">");
  /* three points, each a row, their pool exhausted at 30 h */
  const char *rows = strstr(answer, "<tbody>");
  g_assert_cmpuint(count(rows, "<tr>") - count(strstr(rows, "</table>"), "<tr>"), ==, 3);
  assert_has(answer, " h");
  assert_has(dom, "<td>30 ± 0.00069 h</td>");
  assert_has(dom, "id=\"provenance\"");
  /* every figure has its drawing: 1 sweep figure per varying scalar and 4 per point */
  guint figures = count(dom, "<figure>"), svgs = count(dom, "<svg role=\"img\" aria-label=\"");
  g_test_message("%u figures, %u drawings", figures, svgs);
  g_assert_cmpuint(figures, >=, 3 * 4 + 1);
  g_assert_cmpuint(svgs, ==, figures);
  g_assert_cmpuint(count(dom, "<figcaption>"), ==, figures);
}

static void
test_errors(Fixture *fx, gconstpointer data)
{
  g_autofree char *db = g_build_filename(fx->dir, "one.db", NULL);
  SfRunSpec spec = {scenario, "x", false, false};
  sf_write(db, &spec, NULL, 1);
  g_autofree char *html = g_build_filename(fx->dir, "r.html", NULL);
  g_autofree char *o = NULL, *e = NULL;

  g_autofree char *path = g_strdup(g_getenv("PATH"));
  g_setenv("PATH", fx->dir, TRUE);
  int rc = tu_run_m2msim(&o, &e, "report", db, "-o", html, NULL);
  g_assert_cmpint(rc, ==, 2);
  g_assert_cmpstr(e, ==,
                  "m2msim report: gnuplot not found; install it with: apt-get install "
                  "gnuplot-nox (or use --no-plots)\n");
  g_assert_false(g_file_test(html, G_FILE_TEST_EXISTS));
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);
  rc = tu_run_m2msim(&o, &e, "report", db, "-o", html, "--no-plots", NULL);
  g_setenv("PATH", path, TRUE);
  g_assert_cmpint(rc, ==, 0);
  g_assert_true(g_file_test(html, G_FILE_TEST_EXISTS));

  /* -o naming the database itself (a typo) is refused and the database kept. */
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);
  g_assert_cmpint(tu_run_m2msim(&o, &e, "report", db, "-o", db, NULL), ==, 2);
  assert_has(e, "exists and is not an HTML report; not overwriting it");
  g_autofree char *head = NULL;
  g_assert_true(g_file_get_contents(db, &head, NULL, NULL));
  g_assert_true(g_str_has_prefix(head, "SQLite format 3"));

  g_autofree char *junk = g_build_filename(fx->dir, "junk.db", NULL);
  g_assert_true(g_file_set_contents(junk, "hello\n", -1, NULL));
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);
  g_assert_cmpint(tu_run_m2msim(&o, &e, "report", junk, "-o", html, NULL), ==, 2);
  assert_has(e, "not an m2msim results database");
  g_clear_pointer(&o, g_free);
  g_clear_pointer(&e, g_free);
  g_assert_cmpint(tu_run_m2msim(&o, &e, "report", db, NULL), ==, 2);
  g_assert_cmpstr(e, ==, "m2msim report: missing -o report.html (the HTML file to write)\n");
}

/* Figures for people: the unit that fits, three significant digits, separators. */
static void
test_human(void)
{
  static const struct {
    double v, hw;
    HumanUnit u;
    const char *want;
  } cases[] = {
    {31.155884, NAN, HUMAN_SECONDS, "31.2 s"},
    {32194.24, NAN, HUMAN_SECONDS, "8.94 h"},
    {181044.7, NAN, HUMAN_SECONDS, "2.1 d"},
    {0.0005, NAN, HUMAN_SECONDS, "500 µs"},
    {0.0123, 0.0011, HUMAN_SECONDS, "12.3 ± 1.1 ms"},
    {90, NAN, HUMAN_SECONDS, "90 s"},
    {7200, NAN, HUMAN_SECONDS, "2 h"},
    {0, NAN, HUMAN_SECONDS, "0 s"},
    {1097660, NAN, HUMAN_COUNT, "1,097,660"},
    {414625.3, NAN, HUMAN_COUNT, "415,000"},
    {1097660, 19200, HUMAN_COUNT, "1,100,000 ± 19,000"},
    {101, 2.48414, HUMAN_COUNT, "101 ± 2.5"},
    {5, 0, HUMAN_COUNT, "5"},
    {0.802, NAN, HUMAN_FRACTION, "80.2%"},
    {1520, NAN, HUMAN_RATE, "1,520/s"},
    {NAN, NAN, HUMAN_COUNT, "–"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *got = human_interval(cases[i].v, cases[i].hw, cases[i].u);
    g_assert_cmpstr(got, ==, cases[i].want);
  }
  g_assert_cmpint(human_unit("provision.latency_km.p99"), ==, HUMAN_SECONDS);
  g_assert_cmpint(human_unit("rs.pimsi.exhausted_at"), ==, HUMAN_SECONDS);
  g_assert_cmpint(human_unit("devices.awaiting_pimsi"), ==, HUMAN_COUNT);
  g_assert_cmpint(human_unit("devices.waiting_sho"), ==, HUMAN_COUNT);
  g_assert_cmpint(human_unit("rs.av.utilization_peak"), ==, HUMAN_FRACTION);
  g_assert_cmpstr(human_area("rs.pimsi.blocked"), ==, "PIMSI pool");
  g_assert_cmpstr(human_area("rs.cert_check.wait_mean"), ==, "Authentication and certificates");
  g_assert_cmpstr(human_area("rs.av.wait_mean"), ==, "Registration Service");
  g_assert_cmpstr(human_area("sho.sho-1.download_wait_mean"), ==, "Operators");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
#define ADD(path, fn) g_test_add(path, Fixture, NULL, fx_setup, fn, fx_teardown)
  ADD("/report/sweep", test_sweep_report);
  ADD("/report/single-run", test_single_run);
  ADD("/report/errors", test_errors);
  ADD("/report/browser", test_browser);
  g_test_add_func("/report/human", test_human);
  return g_test_run();
}
