/* A manufacturer alone (role-harness.h): production (each unit made is handed to its
 * device and registers at the RS), the RS's answer (the credentials to the device, the
 * unit to its owner; wrong_credentials; factory USIMs when the home operator is known),
 * the backlog when the pool is empty (one unit at a time asks again every retry_after,
 * new units join the queue), resends with growing waits, a second answer ignored, and a message a
 * manufacturer never receives aborting the run. */
#include <glib.h>
#include <string.h>

#include "role-harness.h"

/* The harness: retry_after 1 h, request_timeout 5 s growing by 2 per resend (capped at
 * devices.retry.max 30 min); the manufacturer's line to the RS has no delay. */
#define RETRY (1 * SIM_H)

static SimTime
now(Harness *h)
{
  return w_now(h->w);
}

/* The REGISTERs the RS got for `dev`, and the last one. */
static guint
registers_of(Harness *h, uint32_t dev, const Msg **last)
{
  guint n = 0;
  for (guint i = 0; i < h->got->len; i++) {
    const Msg *m = harness_got(h, i);
    if (m->kind == MSG_REGISTER && m->dev == dev) {
      n++;
      if (last)
        *last = m;
    }
  }
  return n;
}

/* The RS answers registration r now: ST_OK with PIMSI `pimsi` (keys made from it) or a
 * refusal. */
static void
answer(Harness *h, const Msg *r, MsgStatus status, uint32_t pimsi)
{
  Msg *a = net_answer_new(h->w, r, MSG_REGISTER_ANSWER);
  a->status = (uint8_t)status;
  a->pimsi = status == ST_OK ? pimsi : W_NONE32;
  if (status == ST_OK) {
    g_assert_true(imsi_make(901, 70, 2, pimsi, 10, &a->u.reg.imsi, NULL));
    memset(a->u.reg.keys.k, (int)(0x10 + pimsi), 16);
    memset(a->u.reg.keys.opc, (int)(0x80 + pimsi), 16);
  }
  harness_send(h, a);
  harness_run(h, now(h)); /* delivered at once: no delay on the line */
}

static void
test_production(void)
{
  const char *sets[] = {"manufacturers.0.production={burst: {at: 1min, over: 1s}}",
                        "manufacturers.0.devices=3", NULL};
  Harness *h = harness_new(ROLE_MFR, sets);
  harness_run(h, SIM_MIN - 1);
  g_assert_cmpuint(harness_count(h, MSG_N), ==, 0);
  harness_run(h, SIM_MIN + SIM_S);
  g_assert_cmpuint(harness_count(h, MSG_MADE), ==, 3);
  g_assert_cmpuint(harness_count(h, MSG_REGISTER), ==, 3);
  /* Each unit: made (handed to device i), then its registration, in id order. */
  for (uint32_t i = 0; i < 3; i++) {
    const Msg *made = harness_got(h, 2 * i), *reg = harness_got(h, 2 * i + 1);
    g_assert_cmpuint(made->kind, ==, MSG_MADE);
    g_assert_cmpuint(made->to, ==, net_addr(ROLE_DEV, i));
    g_assert_cmpuint(made->dev, ==, i);
    g_assert_cmpuint(reg->kind, ==, MSG_REGISTER);
    g_assert_cmpuint(reg->dev, ==, i);
    g_assert_cmpuint(reg->from, ==, net_addr(ROLE_MFR, 0));
    g_assert_cmpuint(reg->to, ==, net_addr(ROLE_RS, 0));
    g_assert_cmpuint(reg->txn, !=, 0);
    g_assert_cmpint(harness_at(h, reg), ==, harness_at(h, made));
    g_assert_cmpint(harness_at(h, reg), >=, SIM_MIN);
  }
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "devices.produced"), 3, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "devices.awaiting_pimsi"), 3, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "devices.via_rs"), 0, 1e-9);
  harness_free(h);
}

/* ST_OK: the credentials to the device, the unit to its owner, at once. */
static void
test_registered(void)
{
  const char *sets[] = {"manufacturers.0.production={burst: {at: 1min, over: 1s}}",
                        "manufacturers.0.devices=3", NULL};
  Harness *h = harness_new(ROLE_MFR, sets);
  harness_run(h, SIM_MIN + SIM_S);
  const Msg *r1 = NULL;
  registers_of(h, 1, &r1);
  answer(h, r1, ST_OK, 4);
  const Msg *c = harness_last(h, MSG_CREDENTIALS);
  g_assert_nonnull(c);
  g_assert_cmpuint(c->to, ==, net_addr(ROLE_DEV, 1));
  g_assert_cmpuint(c->dev, ==, 1);
  g_assert_cmpuint(c->pimsi, ==, 4);
  g_assert_cmpuint(c->status, ==, ST_OK);
  Imsi want;
  g_assert_true(imsi_make(901, 70, 2, 4, 10, &want, NULL));
  g_assert_true(imsi_equal(c->u.reg.imsi, want));
  uint8_t k4[16], opc4[16];
  memset(k4, 0x14, 16);
  memset(opc4, 0x84, 16);
  g_assert_cmpmem(c->u.reg.keys.k, 16, k4, 16);
  g_assert_cmpmem(c->u.reg.keys.opc, 16, opc4, 16);
  const Msg *o = harness_last(h, MSG_HANDED_OVER);
  g_assert_nonnull(o);
  g_assert_cmpuint(o->to, ==, net_addr(ROLE_OWNER, 0));
  g_assert_cmpuint(o->dev, ==, 1);
  g_assert_cmpuint(o->pimsi, ==, 4);
  g_assert_cmpint(harness_at(h, c), ==, SIM_MIN + SIM_S);
  g_assert_cmpint(harness_at(h, o), ==, SIM_MIN + SIM_S);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "devices.via_rs"), 1, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "devices.awaiting_pimsi"), 2, 1e-9);
  /* The answered request is closed; the others go on being resent. */
  harness_run(h, 2 * SIM_MIN);
  g_assert_cmpuint(registers_of(h, 1, NULL), ==, 1);
  g_assert_cmpuint(registers_of(h, 0, NULL), >, 1);
  g_assert_cmpuint(registers_of(h, 2, NULL), >, 1);
  harness_free(h);
}

/* wrong_credentials 1: the factory writes a wrong K (ST_MAC_FAILURE to the device);
 * home_operator_known 1: the SHO's USIM at the factory, no registration. */
static void
test_factory_variants(void)
{
  const char *wrong[] = {"manufacturers.0.production={burst: {at: 1min, over: 1s}}",
                         "manufacturers.0.devices=1", "manufacturers.0.wrong_credentials=1", NULL};
  Harness *h = harness_new(ROLE_MFR, wrong);
  harness_run(h, SIM_MIN + SIM_S);
  answer(h, harness_last(h, MSG_REGISTER), ST_OK, 0);
  g_assert_cmpuint(harness_last(h, MSG_CREDENTIALS)->status, ==, ST_MAC_FAILURE);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "devices.via_rs"), 1, 1e-9);
  harness_free(h);
  const char *known[] = {"manufacturers.0.production={burst: {at: 1min, over: 1s}}",
                         "manufacturers.0.devices=2", "manufacturers.0.home_operator_known=1",
                         NULL};
  h = harness_new(ROLE_MFR, known);
  harness_run(h, 2 * SIM_MIN);
  g_assert_cmpuint(harness_count(h, MSG_FACTORY_USIM), ==, 2);
  g_assert_cmpuint(harness_count(h, MSG_REGISTER), ==, 0);
  g_assert_cmpuint(harness_count(h, MSG_HANDED_OVER), ==, 0);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "devices.factory_usim"), 2, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "devices.awaiting_pimsi"), 0, 1e-9);
  harness_free(h);
}

/* The pool is empty: the unit waits, new units join the backlog without asking, the
 * oldest asks again after retry_after (again after a refusal), and once one is served
 * the next asks at once; the backlog drained, units ask on their own again. */
static void
test_backlog(void)
{
  const char *sets[] = {"manufacturers.0.production={constant: 1/min}", "manufacturers.0.devices=5",
                        NULL};
  Harness *h = harness_new(ROLE_MFR, sets);
  harness_run(h, SIM_MIN);
  const Msg *r0 = NULL;
  g_assert_cmpuint(registers_of(h, 0, &r0), ==, 1);
  harness_run(h, SIM_MIN + SIM_S);
  answer(h, r0, ST_REFUSED, 0);
  SimTime refused = now(h);
  g_assert_cmpuint(harness_count(h, MSG_CREDENTIALS), ==, 0);
  /* Units 1 to 3 are made at 2, 3 and 4 min: into the backlog. */
  harness_run(h, 4 * SIM_MIN);
  g_assert_cmpuint(harness_count(h, MSG_MADE), ==, 4);
  g_assert_cmpuint(harness_count(h, MSG_REGISTER), ==, 1);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "devices.awaiting_pimsi"), 4, 1e-9);
  /* Unit 4 at 5 min too. */
  harness_run(h, 5 * SIM_MIN);
  g_assert_cmpuint(harness_count(h, MSG_REGISTER), ==, 1);
  /* The oldest asks again after retry_after. */
  harness_run(h, refused + RETRY - 1);
  g_assert_cmpuint(harness_count(h, MSG_REGISTER), ==, 1);
  harness_run(h, refused + RETRY);
  g_assert_cmpuint(registers_of(h, 0, &r0), ==, 2);
  g_assert_cmpuint(harness_count(h, MSG_REGISTER), ==, 2);
  g_assert_cmpint(harness_at(h, r0), ==, refused + RETRY);
  /* Refused again: the next try after another retry_after. */
  harness_run(h, refused + RETRY + SIM_S);
  answer(h, r0, ST_REFUSED, 0);
  SimTime again = now(h);
  harness_run(h, again + RETRY - 1);
  g_assert_cmpuint(harness_count(h, MSG_REGISTER), ==, 2);
  harness_run(h, again + RETRY);
  g_assert_cmpuint(registers_of(h, 0, &r0), ==, 3);
  /* Served: unit 1 asks at once, and so on down the backlog. */
  answer(h, r0, ST_OK, 0);
  for (uint32_t dev = 1; dev <= 4; dev++) {
    const Msg *r = NULL;
    g_assert_cmpuint(registers_of(h, dev, &r), ==, 1);
    g_assert_cmpint(harness_at(h, r), ==, again + RETRY);
    g_assert_cmpuint(registers_of(h, dev + 1, NULL), ==, 0);
    answer(h, r, ST_OK, dev);
  }
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "devices.via_rs"), 5, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "devices.awaiting_pimsi"), 0, 1e-9);
  g_assert_cmpuint(harness_count(h, MSG_HANDED_OVER), ==, 5);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "manufacturer.timeouts"), 0, 1e-9);
  harness_free(h);
}

/* A refusal while other units' requests are out: each refused unit joins the backlog
 * behind the first; a pending retry that finds the backlog drained does nothing. */
static void
test_backlog_order(void)
{
  const char *sets[] = {"manufacturers.0.production={burst: {at: 1min, over: 1s}}",
                        "manufacturers.0.devices=3", NULL};
  Harness *h = harness_new(ROLE_MFR, sets);
  harness_run(h, SIM_MIN + SIM_S);
  const Msg *r[3];
  for (uint32_t i = 0; i < 3; i++)
    registers_of(h, i, &r[i]);
  answer(h, r[2], ST_REFUSED, 0);
  SimTime refused = now(h);
  answer(h, r[0], ST_REFUSED, 0);
  answer(h, r[1], ST_OK, 1); /* an earlier request served: the backlog stays */
  harness_run(h, refused + RETRY);
  const Msg *q = NULL;
  g_assert_cmpuint(registers_of(h, 2, &q), ==, 2); /* the first refused, first again */
  g_assert_cmpint(harness_at(h, q), ==, refused + RETRY);
  g_assert_cmpuint(registers_of(h, 0, NULL), ==, 1);
  answer(h, q, ST_OK, 2);
  g_assert_cmpuint(registers_of(h, 0, &q), ==, 2);
  g_assert_cmpint(harness_at(h, q), ==, refused + RETRY);
  answer(h, q, ST_OK, 0);
  harness_run(h, refused + 3 * RETRY);
  g_assert_cmpuint(harness_count(h, MSG_REGISTER), ==, 5);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "devices.via_rs"), 3, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "devices.awaiting_pimsi"), 0, 1e-9);
  harness_free(h);
}

/* The RS does not answer: the same request after 5, 10, 20, 40 s; an answer ends it. */
static void
test_resend(void)
{
  const char *sets[] = {"manufacturers.0.production={constant: 1/min}", "manufacturers.0.devices=1",
                        NULL};
  Harness *h = harness_new(ROLE_MFR, sets);
  harness_run(h, SIM_MIN);
  const Msg *first = harness_last(h, MSG_REGISTER);
  g_assert_nonnull(first);
  static const SimTime at[] = {5, 15, 35, 75};
  for (unsigned i = 0; i < G_N_ELEMENTS(at); i++) {
    harness_run(h, SIM_MIN + at[i] * SIM_S - 1);
    g_assert_cmpuint(harness_count(h, MSG_REGISTER), ==, i + 1);
    harness_run(h, SIM_MIN + at[i] * SIM_S);
    g_assert_cmpuint(harness_count(h, MSG_REGISTER), ==, i + 2);
    g_assert_cmpuint(harness_last(h, MSG_REGISTER)->txn, ==, first->txn);
    g_assert_cmpfloat_with_epsilon(harness_figure(h, "manufacturer.timeouts"), i + 1, 1e-9);
  }
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.timeouts"), 4, 1e-9);
  harness_run(h, SIM_MIN + 80 * SIM_S);
  answer(h, first, ST_OK, 0); /* an answer to any copy */
  harness_run(h, SIM_D);
  g_assert_cmpuint(harness_count(h, MSG_REGISTER), ==, 5);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "manufacturer.timeouts"), 4, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "devices.via_rs"), 1, 1e-9);
  harness_free(h);
}

/* Two answers to one request (two copies served; the RS answers a repeated registration
 * with the same PIMSI): the second is ignored, nothing is lost. */
static void
test_second_answer(void)
{
  const char *sets[] = {"manufacturers.0.production={constant: 1/min}", "manufacturers.0.devices=1",
                        NULL};
  Harness *h = harness_new(ROLE_MFR, sets);
  harness_run(h, SIM_MIN + 6 * SIM_S);
  const Msg *r = harness_last(h, MSG_REGISTER);
  answer(h, r, ST_OK, 0);
  answer(h, r, ST_OK, 0);
  answer(h, r, ST_REFUSED, 0); /* a late refusal changes nothing either */
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.pimsi.orphaned"), 0, 1e-9);
  g_assert_cmpuint(harness_count(h, MSG_CREDENTIALS), ==, 1);
  g_assert_cmpuint(harness_last(h, MSG_CREDENTIALS)->pimsi, ==, 0);
  g_assert_cmpuint(harness_count(h, MSG_HANDED_OVER), ==, 1);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "devices.via_rs"), 1, 1e-9);
  harness_free(h);
}

/* A message a manufacturer never receives aborts the run. (Its state table accepts every
 * event in both states, so no message can make it refuse one.) */
static void
test_unexpected_message(void)
{
  if (g_test_subprocess()) {
    Harness *h = harness_new(ROLE_MFR, NULL);
    Msg *m = harness_msg(h, MSG_RS_ACK, net_addr(ROLE_RS, 0), 0);
    harness_send(h, m);
    harness_run(h, SIM_S);
    return;
  }
  g_test_trap_subprocess(NULL, 0, 0);
  g_test_trap_assert_failed();
  g_test_trap_assert_stderr("*MSG_REGISTER_ANSWER*");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/manufacturer/production", test_production);
  g_test_add_func("/manufacturer/registered", test_registered);
  g_test_add_func("/manufacturer/factory-variants", test_factory_variants);
  g_test_add_func("/manufacturer/backlog", test_backlog);
  g_test_add_func("/manufacturer/backlog-order", test_backlog_order);
  g_test_add_func("/manufacturer/resend", test_resend);
  g_test_add_func("/manufacturer/second-answer", test_second_answer);
  g_test_add_func("/manufacturer/unexpected-message", test_unexpected_message);
  return g_test_run();
}
