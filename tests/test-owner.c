/* The owners alone (role-harness.h): a unit handed over is registered with a home
 * operator chosen by share after select_home_operator_after; the registration is resent
 * after growing waits until the home operator acknowledges it; late acknowledgements are
 * ignored; a message the owners never receive aborts the run. */
#include <glib.h>

#include "req.h"
#include "role-harness.h"

/* The harness: select_home_operator_after 1 h, owners <-> SHO 200 ms, request_timeout
 * 5 s growing by 2 per resend. */
#define SELECT (1 * SIM_H)
#define LEG (200 * SIM_MS)

static SimTime
now(Harness *h)
{
  return w_now(h->w);
}

/* The manufacturer hands unit `dev` (PIMSI `pimsi`) over now. */
static void
hand_over(Harness *h, uint32_t dev, uint32_t pimsi)
{
  Msg *m = harness_msg(h, MSG_HANDED_OVER, net_addr(ROLE_MFR, 0), 0);
  m->dev = dev;
  m->pimsi = pimsi;
  harness_send(h, m);
}

/* The OWNER_REGISTERs the SHOs got for `dev`, and the last one. */
static guint
registers_of(Harness *h, uint32_t dev, const Msg **last)
{
  guint n = 0;
  for (guint i = 0; i < h->got->len; i++) {
    const Msg *m = harness_got(h, i);
    if (m->kind == MSG_OWNER_REGISTER && m->dev == dev) {
      n++;
      if (last)
        *last = m;
    }
  }
  return n;
}

static void
ack(Harness *h, const Msg *r)
{
  harness_send(h, net_answer_new(h->w, r, MSG_OWNER_ACK));
  harness_run(h, now(h) + LEG);
}

static void
test_select_and_register(void)
{
  Harness *h = harness_new(ROLE_OWNER, NULL);
  harness_run(h, 10 * SIM_S);
  hand_over(h, 1, 4);
  harness_run(h, 10 * SIM_S + SELECT + LEG - 1);
  g_assert_cmpuint(harness_count(h, MSG_N), ==, 0);
  harness_run(h, 10 * SIM_S + SELECT + LEG);
  const Msg *r = harness_last(h, MSG_OWNER_REGISTER);
  g_assert_nonnull(r);
  g_assert_cmpuint(r->from, ==, net_addr(ROLE_OWNER, 0));
  g_assert_cmpuint(r->to, ==, net_addr(ROLE_SHO, 0));
  g_assert_cmpuint(r->dev, ==, 1);
  g_assert_cmpuint(r->pimsi, ==, 4);
  g_assert_cmpuint(r->txn, !=, 0);
  ack(h, r);
  harness_run(h, 10 * SIM_S + SELECT + SIM_H);
  g_assert_cmpuint(harness_count(h, MSG_OWNER_REGISTER), ==, 1);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "owner.timeouts"), 0, 1e-9);
  g_assert_cmpuint(req_live(h->w), ==, 0);
  harness_free(h);
}

/* No acknowledgement: the same request after 5, 10, 20 s; the ack (to any copy) ends it;
 * a second ack is ignored. */
static void
test_resend_until_ack(void)
{
  Harness *h = harness_new(ROLE_OWNER, NULL);
  hand_over(h, 2, 7);
  harness_run(h, SELECT + LEG);
  const Msg *first = harness_last(h, MSG_OWNER_REGISTER);
  g_assert_nonnull(first);
  static const SimTime at[] = {5, 15, 35};
  for (unsigned i = 0; i < G_N_ELEMENTS(at); i++) {
    harness_run(h, SELECT + at[i] * SIM_S + LEG - 1);
    g_assert_cmpuint(harness_count(h, MSG_OWNER_REGISTER), ==, i + 1);
    harness_run(h, SELECT + at[i] * SIM_S + LEG);
    g_assert_cmpuint(harness_count(h, MSG_OWNER_REGISTER), ==, i + 2);
    const Msg *again = harness_last(h, MSG_OWNER_REGISTER);
    g_assert_cmpuint(again->txn, ==, first->txn);
    g_assert_cmpuint(again->dev, ==, 2);
    g_assert_cmpuint(again->pimsi, ==, 7);
    g_assert_cmpfloat_with_epsilon(harness_figure(h, "owner.timeouts"), i + 1, 1e-9);
  }
  ack(h, first);
  ack(h, first); /* a second ack (for the other copy): nobody waits for it */
  harness_run(h, SIM_D);
  g_assert_cmpuint(harness_count(h, MSG_OWNER_REGISTER), ==, 4);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "owner.timeouts"), 3, 1e-9);
  g_assert_cmpuint(req_live(h->w), ==, 0);
  harness_free(h);
}

/* Two units: two independent registrations; acknowledging one leaves the other's
 * resends going. */
static void
test_two_units(void)
{
  Harness *h = harness_new(ROLE_OWNER, NULL);
  hand_over(h, 0, 1);
  harness_run(h, 30 * SIM_MIN);
  hand_over(h, 5, 2);
  harness_run(h, 30 * SIM_MIN + SELECT + LEG);
  const Msg *r0 = NULL, *r5 = NULL;
  g_assert_cmpuint(registers_of(h, 0, &r0), >=, 1);
  g_assert_cmpuint(registers_of(h, 5, &r5), ==, 1);
  g_assert_cmpint(harness_at(h, r5), ==, 30 * SIM_MIN + SELECT + LEG);
  g_assert_cmpuint(r0->txn, !=, r5->txn);
  ack(h, r5);
  guint n0 = registers_of(h, 0, NULL);
  harness_run(h, now(h) + SIM_H);
  g_assert_cmpuint(registers_of(h, 5, NULL), ==, 1);
  g_assert_cmpuint(registers_of(h, 0, NULL), >, n0);
  harness_free(h);
}

/* The home operator is drawn by share: all of it on the second. */
static void
test_share(void)
{
  const char *sets[] = {"home_operators=[{name: sho-a, share: 0}, {name: sho-b, share: 1}]", NULL};
  Harness *h = harness_new(ROLE_OWNER, sets);
  for (uint32_t dev = 0; dev < 4; dev++)
    hand_over(h, dev, dev);
  harness_run(h, SELECT + SIM_S);
  g_assert_cmpuint(harness_count(h, MSG_OWNER_REGISTER), ==, 4);
  for (guint i = 0; i < h->got->len; i++)
    g_assert_cmpuint(harness_got(h, i)->to, ==, net_addr(ROLE_SHO, 1));
  harness_free(h);
}

/* A message the owners never receive aborts the run. (Their table is not stored per
 * device: each event names its state, so none can be refused.) */
static void
test_unexpected_message(void)
{
  if (g_test_subprocess()) {
    Harness *h = harness_new(ROLE_OWNER, NULL);
    Msg *m = harness_msg(h, MSG_DOWNLOAD_STARTED, net_addr(ROLE_SHO, 0), 0);
    harness_send(h, m);
    harness_run(h, SIM_S);
    return;
  }
  g_test_trap_subprocess(NULL, 0, 0);
  g_test_trap_assert_failed();
  g_test_trap_assert_stderr("*Owner: message DOWNLOAD_STARTED not expected*");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/owner/select-and-register", test_select_and_register);
  g_test_add_func("/owner/resend-until-ack", test_resend_until_ack);
  g_test_add_func("/owner/two-units", test_two_units);
  g_test_add_func("/owner/share", test_share);
  g_test_add_func("/owner/unexpected-message", test_unexpected_message);
  return g_test_run();
}
