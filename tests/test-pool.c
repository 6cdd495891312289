/* The PIMSI pool: range checks, allocation order, quarantine, counters, index <-> IMSI,
 * invariant violations, and a long random workload against a naive model. */
#include <glib.h>
#include <string.h>

#include "m2m/pool.h"
#include "m2m/pools.h"
#include "m2m/simtime.h"
#include "testutil.h"

static Imsi
imsi_of(const char *text, unsigned mnc_len)
{
  Imsi imsi;
  g_autoptr(GError) error = NULL;
  if (!imsi_parse(text, mnc_len, &imsi, &error))
    g_error("%s", error->message);
  return imsi;
}

static void
check_counts(PimsiPool *pool, uint64_t in_use, uint64_t quarantined, uint64_t free_n)
{
  g_assert_cmpuint(pool_n_in_use(pool), ==, in_use);
  g_assert_cmpuint(pool_n_quarantined(pool), ==, quarantined);
  g_assert_cmpuint(pool_n_free(pool), ==, free_n);
  g_assert_cmpuint(in_use + quarantined + free_n, ==, pool_size(pool));
}

static void
expect_new_error(Imsi first, uint64_t size, SimTime q, PoolError code, const char *needle)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PimsiPool) pool = pool_new(first, size, q, &error);
  g_assert_null(pool);
  g_assert_error(error, POOL_ERROR, (gint)code);
  g_assert_nonnull(strstr(error->message, needle));
}

static void
test_new_errors(void)
{
  Imsi first = imsi_of("001019999999990", 2); /* 10 MSINs left */
  expect_new_error(first, 0, 0, POOL_ERROR_SIZE, "size 0");
  expect_new_error(first, 11, 0, POOL_ERROR_SIZE, "room for 10");
  expect_new_error(imsi_of("001010000000000", 2), UINT64_C(10000000001), 0, POOL_ERROR_SIZE,
                   "10-digit MSINs leave room for 10000000000");
  expect_new_error(imsi_of("001010000000000", 2), POOL_MAX_SIZE + 1, 0, POOL_ERROR_SIZE,
                   "supports");
  expect_new_error(imsi_of("001001000000000", 3), UINT64_C(1000000001), 0, POOL_ERROR_SIZE,
                   "9-digit");
  expect_new_error(IMSI_NONE, 10, 0, POOL_ERROR_FIRST, "not set");
  expect_new_error(first, 10, -1, POOL_ERROR_QUARANTINE, "negative");

  g_autoptr(GError) error = NULL;
  g_autoptr(PimsiPool) pool = pool_new(first, 10, 0, &error);
  g_assert_no_error(error);
  g_assert_nonnull(pool);
  g_assert_cmpuint(pool_size(pool), ==, 10);
  char buf[IMSI_STR_LEN];
  g_assert_cmpstr(imsi_format(pool_imsi(pool, 9), buf), ==, "001019999999999");
  /* A whole 3-digit-MNC range fits exactly. */
  g_autoptr(PimsiPool) whole =
      pool_new(imsi_of("001001000000000", 3), UINT64_C(1000000000), SIM_D, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(imsi_format(pool_imsi(whole, 999999999), buf), ==, "001001999999999");
  /* 10^9 PIMSIs cost the bitmap only until they are released. */
  g_assert_cmpuint(pool_memory(whole), <, 126 * 1000 * 1000);
  g_assert_cmpuint(pool_memory(whole), >=, 125 * 1000 * 1000);
}

static void
test_fresh_order_and_exhaustion(void)
{
  g_autoptr(PimsiPool) pool = pool_new(imsi_of("00101000000100", 2), 5, SIM_S, NULL);
  check_counts(pool, 0, 0, 5);
  for (uint32_t k = 0; k < 5; k++) {
    uint32_t i = 99;
    g_assert_true(pool_alloc(pool, k, &i));
    g_assert_cmpuint(i, ==, k); /* ascending */
    g_assert_true(pool_is_in_use(pool, i));
  }
  check_counts(pool, 5, 0, 0);
  uint32_t i = 77;
  g_assert_false(pool_alloc(pool, 10, &i));
  g_assert_cmpuint(i, ==, 77);
  g_assert_false(pool_alloc(pool, 11, &i));
  g_assert_cmpuint(pool_n_refusals(pool), ==, 2);
  g_assert_cmpuint(pool_n_allocations(pool), ==, 5);
  g_assert_cmpint(pool_next_release_time(pool), ==, SIM_TIME_MAX);
  g_assert_false(pool_is_in_use(pool, 5));
  g_assert_false(pool_is_in_use(pool, UINT32_MAX));
}

static void
test_quarantine(void)
{
  const SimTime q = 10 * SIM_S;
  g_autoptr(PimsiPool) pool = pool_new(imsi_of("001010000000000", 2), 3, q, NULL);
  g_assert_cmpint(pool_quarantine(pool), ==, q);
  uint32_t a, b, c, x;
  g_assert_true(pool_alloc(pool, 0, &a));
  g_assert_true(pool_alloc(pool, 0, &b));
  g_assert_true(pool_alloc(pool, 0, &c));
  /* Release out of index order: reuse must follow release order (FIFO). */
  g_assert_true(pool_release(pool, c, 1 * SIM_S));
  g_assert_true(pool_release(pool, a, 2 * SIM_S));
  g_assert_true(pool_release(pool, b, 3 * SIM_S));
  check_counts(pool, 0, 3, 0);
  g_assert_false(pool_is_in_use(pool, a));
  g_assert_cmpint(pool_next_release_time(pool), ==, 11 * SIM_S);
  /* One microsecond early: still quarantined. */
  g_assert_false(pool_alloc(pool, 11 * SIM_S - 1, &x));
  check_counts(pool, 0, 3, 0);
  /* Exactly at release + quarantine: free. */
  pool_advance(pool, 11 * SIM_S);
  check_counts(pool, 0, 2, 1);
  g_assert_cmpint(pool_next_release_time(pool), ==, 12 * SIM_S);
  pool_advance(pool, 13 * SIM_S);
  check_counts(pool, 0, 0, 3);
  g_assert_cmpint(pool_next_release_time(pool), ==, SIM_TIME_MAX);
  g_assert_true(pool_alloc(pool, 20 * SIM_S, &x));
  g_assert_cmpuint(x, ==, c);
  g_assert_true(pool_alloc(pool, 20 * SIM_S, &x));
  g_assert_cmpuint(x, ==, a);
  g_assert_true(pool_alloc(pool, 20 * SIM_S, &x));
  g_assert_cmpuint(x, ==, b);
  g_assert_cmpuint(pool_n_allocations(pool), ==, 6);
  g_assert_cmpuint(pool_n_refusals(pool), ==, 1);
}

static void
test_fresh_before_recycled(void)
{
  /* A PIMSI whose quarantine is over still waits behind the never-used ones. */
  g_autoptr(PimsiPool) pool = pool_new(imsi_of("001010000000000", 2), 4, 0, NULL);
  uint32_t i;
  g_assert_true(pool_alloc(pool, 0, &i));
  g_assert_true(pool_release(pool, i, 1));
  check_counts(pool, 0, 0, 4); /* zero quarantine: free at once */
  g_assert_cmpint(pool_next_release_time(pool), ==, SIM_TIME_MAX);
  for (uint32_t want = 1; want < 4; want++) {
    g_assert_true(pool_alloc(pool, 2, &i));
    g_assert_cmpuint(i, ==, want);
  }
  g_assert_true(pool_alloc(pool, 2, &i));
  g_assert_cmpuint(i, ==, 0);
  g_assert_false(pool_alloc(pool, 2, &i));
}

static void
test_infinite_quarantine(void)
{
  g_autoptr(PimsiPool) pool = pool_new(imsi_of("001010000000000", 2), 2, SIM_TIME_MAX, NULL);
  uint32_t i, j;
  g_assert_true(pool_alloc(pool, 0, &i));
  g_assert_true(pool_alloc(pool, 0, &j));
  g_assert_true(pool_release(pool, i, 5));
  check_counts(pool, 1, 1, 0);
  g_assert_cmpint(pool_next_release_time(pool), ==, SIM_TIME_MAX);
  g_assert_false(pool_alloc(pool, SIM_TIME_MAX - 1, &i));
  check_counts(pool, 1, 1, 0);
  /* A finite quarantine that overflows the clock saturates to "never" too. */
  g_autoptr(PimsiPool) p2 = pool_new(imsi_of("001010000000000", 2), 1, SIM_D, NULL);
  g_assert_true(pool_alloc(p2, SIM_TIME_MAX - SIM_S, &i));
  g_assert_true(pool_release(p2, i, SIM_TIME_MAX - SIM_S));
  g_assert_cmpint(pool_next_release_time(p2), ==, SIM_TIME_MAX);
}

static void
test_index_imsi(void)
{
  g_autoptr(PimsiPool) pool = pool_new(imsi_of("234150000001000", 2), 1000, 0, NULL);
  char buf[IMSI_STR_LEN];
  g_assert_cmpstr(imsi_format(pool_imsi(pool, 0), buf), ==, "234150000001000");
  g_assert_cmpstr(imsi_format(pool_imsi(pool, 999), buf), ==, "234150000001999");
  g_assert_false(imsi_is_valid(pool_imsi(pool, 1000)));
  for (uint32_t k = 0; k < 1000; k += 37) {
    uint32_t back = 12345;
    g_assert_true(pool_index_of(pool, pool_imsi(pool, k), &back));
    g_assert_cmpuint(back, ==, k);
  }
  static const struct {
    const char *text;
    unsigned mnc_len;
  } outside[] = {
      {"234150000000999", 2}, /* just below */
      {"234150000002000", 2}, /* just above */
      {"234150000001000", 3}, /* same digits, 3-digit MNC */
      {"23415000001000", 2},  /* shorter MSIN */
      {"234160000001000", 2}, /* other MNC */
      {"235150000001000", 2}, /* other MCC */
  };
  for (size_t k = 0; k < G_N_ELEMENTS(outside); k++) {
    uint32_t back = 12345;
    g_assert_false(pool_index_of(pool, imsi_of(outside[k].text, outside[k].mnc_len), &back));
    g_assert_cmpuint(back, ==, 12345);
  }
  uint32_t back;
  g_assert_false(pool_index_of(pool, IMSI_NONE, &back));
}

/* Invariant violations: a critical message, a false return and no change of state. */
static void
test_invariants(void)
{
  g_autoptr(PimsiPool) pool = pool_new(imsi_of("001010000000000", 2), 4, SIM_S, NULL);
  uint32_t i;
  g_assert_true(pool_alloc(pool, 100, &i));

  g_test_expect_message(NULL, G_LOG_LEVEL_CRITICAL, "*bit_get*");
  g_assert_false(pool_release(pool, 1, 100)); /* never allocated */
  g_test_assert_expected_messages();

  g_test_expect_message(NULL, G_LOG_LEVEL_CRITICAL, "*index < pool->size*");
  g_assert_false(pool_release(pool, 4, 100)); /* out of range */
  g_test_assert_expected_messages();

  g_test_expect_message(NULL, G_LOG_LEVEL_CRITICAL, "*now >= pool->now*");
  g_assert_false(pool_release(pool, i, 99)); /* time going back */
  g_test_assert_expected_messages();
  check_counts(pool, 1, 0, 3);

  g_assert_true(pool_release(pool, i, 200));
  g_test_expect_message(NULL, G_LOG_LEVEL_CRITICAL, "*bit_get*");
  g_assert_false(pool_release(pool, i, 200)); /* double release */
  g_test_assert_expected_messages();
  check_counts(pool, 0, 1, 3);

  g_test_expect_message(NULL, G_LOG_LEVEL_CRITICAL, "*now >= pool->now*");
  g_assert_false(pool_alloc(pool, 150, &i));
  g_test_assert_expected_messages();
  g_test_expect_message(NULL, G_LOG_LEVEL_CRITICAL, "*now >= pool->now*");
  pool_advance(pool, 150);
  g_test_assert_expected_messages();
  g_assert_cmpuint(pool_n_allocations(pool), ==, 1);
  g_assert_cmpuint(pool_n_refusals(pool), ==, 0);
}

/* The naive model: an explicit free FIFO (initially ascending) and a quarantine list. */
typedef struct {
  GQueue free_q;   /* GUINT_TO_POINTER(index) */
  GQueue quar;     /* index, paired with times in quar_at */
  GArray *quar_at; /* SimTime, same order as quar */
  guint quar_head;
  GHashTable *in_use;
} Model;

static void
model_advance(Model *m, SimTime now)
{
  while (!g_queue_is_empty(&m->quar) && g_array_index(m->quar_at, SimTime, m->quar_head) <= now) {
    g_queue_push_tail(&m->free_q, g_queue_pop_head(&m->quar));
    m->quar_head++;
  }
}

static void
test_random_against_model(void)
{
  const uint32_t size = 300;
  const SimTime q = 50;
  g_autoptr(PimsiPool) pool = pool_new(imsi_of("001010000000000", 2), size, q, NULL);
  Model m = {G_QUEUE_INIT, G_QUEUE_INIT, g_array_new(FALSE, FALSE, sizeof(SimTime)), 0,
             g_hash_table_new(NULL, NULL)};
  for (uint32_t k = 0; k < size; k++)
    g_queue_push_tail(&m.free_q, GUINT_TO_POINTER(k));
  g_autoptr(GRand) rng = g_rand_new_with_seed(20240611);
  g_autoptr(GArray) held = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  SimTime now = 0;
  uint64_t allocs = 0, refusals = 0;
  for (int step = 0; step < 200000; step++) {
    now += g_rand_int_range(rng, 0, 3);
    /* Bias toward allocation so the pool runs dry now and then. */
    if (g_rand_int_range(rng, 0, 100) < 52) {
      uint32_t i = 0;
      bool ok = pool_alloc(pool, now, &i);
      model_advance(&m, now);
      if (g_queue_is_empty(&m.free_q)) {
        g_assert_false(ok);
        refusals++;
        SimTime next = g_queue_is_empty(&m.quar) ? SIM_TIME_MAX
                                                 : g_array_index(m.quar_at, SimTime, m.quar_head);
        g_assert_cmpint(pool_next_release_time(pool), ==, next);
        g_assert_cmpint(next, >, now);
      } else {
        g_assert_true(ok);
        g_assert_cmpuint(i, ==, GPOINTER_TO_UINT(g_queue_pop_head(&m.free_q)));
        g_hash_table_add(m.in_use, GUINT_TO_POINTER(i + 1));
        g_array_append_val(held, i);
        allocs++;
      }
    } else if (held->len > 0) {
      guint k = (guint)g_rand_int_range(rng, 0, (gint32)held->len);
      uint32_t i = g_array_index(held, uint32_t, k);
      g_array_remove_index_fast(held, k);
      g_assert_true(pool_release(pool, i, now));
      g_assert_true(g_hash_table_remove(m.in_use, GUINT_TO_POINTER(i + 1)));
      g_queue_push_tail(&m.quar, GUINT_TO_POINTER(i));
      SimTime at = now + q;
      g_array_append_val(m.quar_at, at);
      model_advance(&m, now);
    }
    check_counts(pool, g_hash_table_size(m.in_use), g_queue_get_length(&m.quar),
                 g_queue_get_length(&m.free_q));
  }
  g_assert_cmpuint(pool_n_allocations(pool), ==, allocs);
  g_assert_cmpuint(pool_n_refusals(pool), ==, refusals);
  g_assert_cmpuint(refusals, >, 0);       /* the workload did exhaust the pool */
  g_assert_cmpuint(allocs, >, 10 * size); /* and recycled many times over */
  for (guint k = 0; k < held->len; k++)
    g_assert_true(pool_is_in_use(pool, g_array_index(held, uint32_t, k)));
  /* The ring never needs more than one slot per PIMSI. */
  g_assert_cmpuint(pool_memory(pool), <=, 200 + (size + 63) / 64 * 8 + size * 12);
  g_queue_clear(&m.free_q);
  g_queue_clear(&m.quar);
  g_array_free(m.quar_at, TRUE);
  g_hash_table_destroy(m.in_use);
}

/* A big pool stays cheap while only part of it is recycled. */
static void
test_large_pool(void)
{
  g_autoptr(PimsiPool) pool =
      pool_new(imsi_of("001010000000000", 2), UINT64_C(100000000), SIM_H, NULL);
  g_assert_cmpuint(pool_memory(pool), <, 13 * 1000 * 1000);
  uint32_t i;
  for (uint32_t k = 0; k < 100000; k++) {
    g_assert_true(pool_alloc(pool, k, &i));
    g_assert_true(pool_release(pool, i, k));
  }
  check_counts(pool, 0, 100000, UINT64_C(100000000) - 100000);
  /* 100,000 quarantined cost a ring of 2^17 slots of 12 octets, not 10^8. */
  g_assert_cmpuint(pool_memory(pool), <, 13 * 1000 * 1000 + 131072 * 12 + 1000);
  g_assert_cmpint(pool_next_release_time(pool), ==, SIM_H);
}

/* Several ranges: the index space packs min(size, cap) per range; fill_first drains the
 * first range before it touches the second, round_robin alternates; a release goes back to
 * its own range (by index), IMSIs are the ranges' own, and a registration no range can
 * serve is refused once. */
static void
test_ranges(void)
{
  const Imsi first[2] = {imsi_of("901700000000000", 2), imsi_of("001010000000500", 2)};
  const uint64_t size[2] = {3, 10};
  g_autoptr(GError) error = NULL;
  g_autoptr(PimsiPools) ff = pools_new(2, first, size, 10, 5, POOLS_FILL_FIRST, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(pools_n_index(ff), ==, 3 + 5); /* range 1 spans min(10, cap 5) */
  g_assert_cmpuint(pools_size(ff), ==, 13);
  uint32_t idx[8];
  for (int i = 0; i < 8; i++)
    g_assert_true(pools_alloc(ff, 0, &idx[i]));
  const uint32_t want_ff[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  for (int i = 0; i < 8; i++)
    g_assert_cmpuint(idx[i], ==, want_ff[i]);
  g_assert_true(imsi_equal(pools_imsi(ff, 2), imsi_of("901700000000002", 2)));
  g_assert_true(imsi_equal(pools_imsi(ff, 3), imsi_of("001010000000500", 2)));
  g_assert_cmpuint(pool_n_in_use(pools_range(ff, 0)), ==, 3);
  g_assert_cmpuint(pool_n_in_use(pools_range(ff, 1)), ==, 5);
  g_assert_true(pools_release(ff, 1, 100));
  g_assert_cmpuint(pool_n_quarantined(pools_range(ff, 0)), ==, 1);
  g_assert_cmpuint(pools_n_quarantined(ff), ==, 1);
  g_assert_cmpuint(pools_n_refusals(ff), ==, 0);

  g_autoptr(PimsiPools) rr = pools_new(2, first, size, 10, 100, POOLS_ROUND_ROBIN, &error);
  g_assert_cmpuint(pools_n_index(rr), ==, 13);
  uint32_t got[7];
  for (int i = 0; i < 7; i++)
    g_assert_true(pools_alloc(rr, 0, &got[i]));
  /* 0, 3, 1, 4, 2, 5 then range 0 is full: 6 */
  const uint32_t want_rr[7] = {0, 3, 1, 4, 2, 5, 6};
  for (int i = 0; i < 7; i++)
    g_assert_cmpuint(got[i], ==, want_rr[i]);
  /* drain range 1, then nothing is left: one refusal, counted once */
  uint32_t x;
  while (pools_n_free(rr) > 0)
    g_assert_true(pools_alloc(rr, 0, &x));
  g_assert_false(pools_alloc(rr, 0, &x));
  g_assert_cmpuint(pools_n_refusals(rr), ==, 1);
  g_assert_cmpuint(pools_n_allocations(rr), ==, 13);
  g_assert_cmpuint(pools_n_distinct(rr), ==, 13);
  /* a range that does not fit names itself */
  const uint64_t bad[2] = {3, 0};
  g_autoptr(PimsiPools) none = pools_new(2, first, bad, 10, 5, POOLS_FILL_FIRST, &error);
  g_assert_null(none);
  g_assert_nonnull(strstr(error->message, "range 1: "));
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/pool/new-errors", test_new_errors);
  g_test_add_func("/pool/fresh-order-exhaustion", test_fresh_order_and_exhaustion);
  g_test_add_func("/pool/quarantine", test_quarantine);
  g_test_add_func("/pool/fresh-before-recycled", test_fresh_before_recycled);
  g_test_add_func("/pool/infinite-quarantine", test_infinite_quarantine);
  g_test_add_func("/pool/index-imsi", test_index_imsi);
  g_test_add_func("/pool/invariants", test_invariants);
  g_test_add_func("/pool/random-vs-model", test_random_against_model);
  g_test_add_func("/pool/large", test_large_pool);
  g_test_add_func("/pool/ranges", test_ranges);
  return g_test_run();
}
