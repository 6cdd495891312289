/* The device role alone (role-harness.h): power-on and the attach guard, refusals and the
 * back-off, the USIM's answers to real AKA challenges (RES, AUTS, MAC failure), stale
 * answers dropped, and an event its state does not accept aborting the run. */
#include <glib.h>
#include <string.h>

#include "m2m/aka.h"
#include "role-harness.h"

/* The harness: power_on_after 10 min, attach_delay 400 ms (the attach takes 200 ms),
 * request_timeout 5 s, retry initial 30 s. */
#define POWER_ON (10 * SIM_MIN)
#define GUARD (3 * 5 * SIM_S + 2 * 200 * SIM_MS)

/* A device made and powered on: its attach is at vo-a. */
static Harness *
powered_on(const Msg **attach)
{
  Harness *h = harness_new(ROLE_DEV, NULL);
  AkaKeys keys;
  harness_keys(&keys);
  harness_make_device(h, 0, 3, keys.k, keys.opc);
  harness_run(h, POWER_ON + 200 * SIM_MS);
  *attach = harness_last(h, MSG_ATTACH);
  g_assert_nonnull(*attach);
  return h;
}

static void
test_power_on_and_guard(void)
{
  const Msg *a;
  g_autoptr(GError) error = NULL;
  Harness *h = powered_on(&a);
  g_assert_cmpuint(a->pimsi, ==, 3);
  g_assert_cmpuint(net_addr_role(a->to), ==, ROLE_VO);
  g_assert_cmpuint(net_addr_index(a->to), ==, 0); /* vo-b has share 0 */
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "devices.powered_on"), 1, 1e-9);
  /* Nobody answers: the attach guard ends the round, the device backs off 30 s. */
  harness_run(h, POWER_ON + GUARD);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "devices.timeouts"), 1, 1e-9);
  g_assert_cmpuint(harness_count(h, MSG_ATTACH), ==, 1);
  harness_run(h, POWER_ON + GUARD + 30 * SIM_S + 200 * SIM_MS);
  g_assert_cmpuint(harness_count(h, MSG_ATTACH), ==, 2);
  harness_free(h);
}

/* A refusal from the only allowed network ends the round at once. */
static void
test_refused(void)
{
  const Msg *a;
  Harness *h = powered_on(&a);
  Msg *r = harness_msg(h, MSG_REFUSED, a->to, 0);
  r->dev = 0;
  r->seq = a->seq;
  harness_send(h, r);
  harness_run(h, POWER_ON + 2 * SIM_S);
  g_assert_cmpuint(harness_count(h, MSG_ATTACH), ==, 1);
  /* The next round after the back-off, not after the guard. */
  harness_run(h, POWER_ON + 200 * SIM_MS + 30 * SIM_S + 200 * SIM_MS);
  g_assert_cmpuint(harness_count(h, MSG_ATTACH), ==, 2);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "devices.timeouts"), 0, 1e-9);
  harness_free(h);
}

/* An AV for the device (or, wrong_k, for another K) with SQN = seq << 5 | ind. */
static AkaVector
vector(uint64_t seq, unsigned ind, bool wrong_k)
{
  AkaKeys keys;
  harness_keys(&keys);
  keys.k[1] ^= wrong_k ? 0x80 : 0;
  static const uint8_t rand[16] = {0x23, 0x55, 0x3c, 0xbe, 0x96, 0x37, 0xa8, 0x9d,
                                   0x21, 0x8a, 0xe6, 0x4d, 0xae, 0x47, 0xbf, 0x35};
  AkaVector av;
  g_assert_cmpint(aka_av_build(NULL, &keys, rand, (seq << 5) | ind, 0, &av), ==, AKA_OK);
  return av;
}

/* Sends the challenge of av to the device (its attach a) and returns its answer. */
static const Msg *
challenge(Harness *h, const Msg *a, const AkaVector *av, SimTime at)
{
  Msg *c = harness_msg(h, MSG_CHALLENGE, a->to, 0);
  c->seq = a->seq;
  c->ctx = 42; /* the VO's context: echoed */
  memcpy(c->u.chal.rand, av->rand, 16);
  memcpy(c->u.chal.autn, av->autn, AKA_AUTN_LEN);
  guint before = harness_count(h, MSG_AUTH_ANSWER);
  harness_send(h, c);
  harness_run(h, at);
  g_assert_cmpuint(harness_count(h, MSG_AUTH_ANSWER), ==, before + 1);
  const Msg *r = harness_last(h, MSG_AUTH_ANSWER);
  g_assert_cmpuint(r->ctx, ==, 42);
  g_assert_cmpuint(r->seq, ==, a->seq);
  return r;
}

/* The USIM answers real AUTNs: RES = XRES for a fresh SQN, AUTS for one it has seen
 * (TS 33.102 Annex C: SEQ not above SEQ_MS of its IND slot), a MAC failure for another K. */
static void
test_challenges(void)
{
  const Msg *a;
  Harness *h = powered_on(&a);
  SimTime t = POWER_ON + 300 * SIM_MS;
  AkaVector good = vector(5, 0, false);
  const Msg *r = challenge(h, a, &good, t += SIM_S);
  g_assert_cmpuint(r->status, ==, ST_OK);
  g_assert_cmpmem(r->u.chal.res, MIL_MAC_LEN, good.xres, MIL_MAC_LEN);
  /* The same SQN again: a replay, answered with AUTS (whose MAC-S verifies under K). */
  r = challenge(h, a, &good, t += SIM_S);
  g_assert_cmpuint(r->status, ==, ST_SYNC_FAILURE);
  AkaKeys keys;
  harness_keys(&keys);
  uint64_t sqn_ms = 0;
  g_assert_cmpint(aka_auts_verify(NULL, &keys, good.rand, r->u.chal.auts, &sqn_ms), ==, AKA_OK);
  g_assert_cmpuint(sqn_ms, ==, 5u << 5);
  /* Another K: MAC failure. */
  AkaVector bad = vector(9, 0, true);
  r = challenge(h, a, &bad, t += SIM_S);
  g_assert_cmpuint(r->status, ==, ST_MAC_FAILURE);
  harness_free(h);
}

/* A PACKAGE while the device waits for the RS's answer: not an event LOOKUP accepts. */
static void
test_refused_event(void)
{
  if (g_test_subprocess()) {
    const Msg *a;
    Harness *h = powered_on(&a);
    AkaVector good = vector(5, 0, false);
    challenge(h, a, &good, POWER_ON + SIM_S); /* the keys of the temporary access */
    Msg *g = harness_msg(h, MSG_GRANTED, a->to, 0);
    g->seq = a->seq;
    harness_send(h, g);
    harness_run(h, POWER_ON + 2 * SIM_S);
    const Msg *l = harness_last(h, MSG_LOOKUP);
    g_assert_nonnull(l);
    Msg *p = harness_msg(h, MSG_PACKAGE, net_addr(ROLE_SHO, 0), 0);
    p->seq = l->seq;
    p->via = 0;
    harness_send(h, p);
    harness_run(h, POWER_ON + 3 * SIM_S);
    return;
  }
  g_test_trap_subprocess(NULL, 0, 0);
  g_test_trap_assert_failed();
  g_test_trap_assert_stderr("*Device(0){LOOKUP}: event PACKAGE not accepted*");
}

/* An answer for a request the device has moved on from is dropped. */
static void
test_stale_dropped(void)
{
  const Msg *a;
  Harness *h = powered_on(&a);
  uint8_t seq = a->seq;
  harness_run(h, POWER_ON + GUARD + 1 * SIM_S); /* the round ended: back-off */
  Msg *g = harness_msg(h, MSG_GRANTED, net_addr(ROLE_VO, 0), 0);
  g->seq = seq;
  harness_send(h, g);
  harness_run(h, POWER_ON + GUARD + 2 * SIM_S);
  g_assert_cmpuint(harness_count(h, MSG_LOOKUP), ==, 0);
  harness_free(h);
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/device/power-on-and-guard", test_power_on_and_guard);
  g_test_add_func("/device/refused", test_refused);
  g_test_add_func("/device/challenges", test_challenges);
  g_test_add_func("/device/refused-event", test_refused_event);
  g_test_add_func("/device/stale-dropped", test_stale_dropped);
  return g_test_run();
}
