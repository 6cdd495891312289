/* A visited operator alone (role-harness.h): an attach where PIMSIs are not taken refused
 * after refuse_delay; an attach where they are opens a context that asks the RS for AVs
 * (resent after request_timeout, given up after two sends: the device rejected with a
 * network failure), challenges the device with the AV the RS sent, grants on RES = XRES
 * and rejects otherwise, sends a sync failure's AUTS to the RS; spare AVs of a batch;
 * stale answers dropped; an outage losing the answer ends the context; a message the VO
 * never receives aborts the run. */
#include <glib.h>
#include <string.h>

#include "m2m/aka.h"
#include "role-harness.h"

/* The harness: vo-a's attach_delay 400 ms (the attach takes half, a challenge, an answer
 * and a rejection a quarter each, a grant nothing), roaming_delay 50 ms; vo-b's
 * attach_delay 500 ms, refuse_delay 1 s; request_timeout 5 s. */
#define ATTACH_LEG (200 * SIM_MS)
#define ROAM (50 * SIM_MS)
#define CHAL_LEG (100 * SIM_MS)
#define REJ_LEG (100 * SIM_MS)
#define TIMEOUT (5 * SIM_S)

enum { DEV = 2, PIMSI = 5, SEQ = 7 };

static NetAddr
device(void)
{
  return net_addr(ROLE_DEV, DEV);
}

/* The device attaches at VO `vo` now with attach sequence `seq`. */
static void
attach(Harness *h, uint32_t vo, uint8_t seq)
{
  Msg *a = harness_msg(h, MSG_ATTACH, device(), vo);
  a->dev = DEV;
  a->pimsi = PIMSI;
  a->seq = seq;
  harness_send(h, a);
}

/* Attaches at vo-a and returns the AV request the VO sent the RS. */
static const Msg *
attach_a(Harness *h, uint8_t seq)
{
  guint before = harness_count(h, MSG_AV_REQUEST);
  SimTime t = harness_now(h);
  attach(h, 0, seq);
  harness_run(h, t + ATTACH_LEG + ROAM);
  g_assert_cmpuint(harness_count(h, MSG_AV_REQUEST), ==, before + 1);
  const Msg *q = harness_last(h, MSG_AV_REQUEST);
  g_assert_cmpint(harness_at(h, q), ==, t + ATTACH_LEG + ROAM);
  g_assert_cmpuint(q->from, ==, net_addr(ROLE_VO, 0));
  g_assert_cmpuint(q->to, ==, net_addr(ROLE_RS, 0));
  g_assert_cmpuint(q->dev, ==, DEV);
  g_assert_cmpuint(q->pimsi, ==, PIMSI);
  g_assert_cmpuint(q->ctx, !=, 0);
  g_assert_cmpuint(q->txn, !=, 0);
  return q;
}

/* An AV for the device with SQN = seq << 5 (IND 0, vo-a's). */
static AkaVector
vector(uint64_t seq)
{
  AkaKeys keys;
  harness_keys(&keys);
  uint8_t rand[16];
  for (int i = 0; i < 16; i++)
    rand[i] = (uint8_t)(seq * 16 + (uint64_t)i);
  AkaVector av;
  g_assert_cmpint(aka_av_build(NULL, &keys, rand, seq << 5, 0, &av), ==, AKA_OK);
  return av;
}

/* The RS answers request q (status, and n AVs when n > 0); returns the challenge the
 * device then gets, or NULL when none came. */
static const Msg *
answer_av(Harness *h, const Msg *q, MsgStatus status, const AkaVector *avs, size_t n)
{
  Msg *a = net_answer_new(h->w, q, MSG_AV_ANSWER);
  a->status = (uint8_t)status;
  if (n > 0)
    a->batch = harness_batch_new(h, avs, n);
  guint before = harness_count(h, MSG_CHALLENGE);
  SimTime t = harness_now(h);
  harness_send(h, a);
  harness_run(h, t + ROAM + CHAL_LEG);
  if (harness_count(h, MSG_CHALLENGE) == before)
    return NULL;
  const Msg *c = harness_last(h, MSG_CHALLENGE);
  g_assert_cmpint(harness_at(h, c), ==, t + ROAM + CHAL_LEG);
  return c;
}

/* The device answers challenge c (status, RES or AUTS). */
static void
answer_challenge(Harness *h, const Msg *c, MsgStatus status, const uint8_t *res,
                 const uint8_t *auts)
{
  Msg *r = harness_msg(h, MSG_AUTH_ANSWER, device(), 0);
  r->dev = DEV;
  r->seq = c->seq;
  r->ctx = c->ctx;
  r->status = (uint8_t)status;
  if (res != NULL)
    memcpy(r->u.chal.res, res, MIL_MAC_LEN);
  if (auts != NULL) {
    memcpy(r->u.chal.rand, c->u.chal.rand, 16);
    memcpy(r->u.chal.auts, auts, AKA_AUTS_LEN);
  }
  harness_send(h, r);
  harness_run(h, harness_now(h) + CHAL_LEG + REJ_LEG);
}

static void
assert_challenge(const Msg *c, const AkaVector *av, uint8_t seq)
{
  g_assert_nonnull(c);
  g_assert_cmpuint(c->to, ==, device());
  g_assert_cmpuint(c->dev, ==, DEV);
  g_assert_cmpuint(c->seq, ==, seq);
  g_assert_cmpmem(c->u.chal.rand, 16, av->rand, 16);
  g_assert_cmpmem(c->u.chal.autn, AKA_AUTN_LEN, av->autn, AKA_AUTN_LEN);
}

static void
test_refused_at_vo_b(void)
{
  Harness *h = harness_new(ROLE_VO, NULL);
  attach(h, 1, SEQ);
  harness_run(h, 250 * SIM_MS + SIM_S - 1);
  g_assert_cmpuint(harness_count(h, MSG_N), ==, 0);
  harness_run(h, 250 * SIM_MS + SIM_S);
  const Msg *r = harness_last(h, MSG_REFUSED);
  g_assert_nonnull(r);
  g_assert_cmpint(harness_at(h, r), ==, 250 * SIM_MS + SIM_S);
  g_assert_cmpuint(r->from, ==, net_addr(ROLE_VO, 1));
  g_assert_cmpuint(r->to, ==, device());
  g_assert_cmpuint(r->seq, ==, SEQ);
  g_assert_cmpuint(harness_count(h, MSG_N), ==, 1); /* the RS is not asked */
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "vo.refusals"), 1, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "vo.attaches"), 0, 1e-9);
  harness_free(h);
}

/* The RS does not answer: the request again after request_timeout and a jitter of at
 * most half of it (the same txn), then after two sends the device is rejected with a
 * network failure request_timeout after the resend; an answer after that is dropped. */
static void
test_av_gave_up(void)
{
  Harness *h = harness_new(ROLE_VO, NULL);
  const Msg *q = attach_a(h, SEQ);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "vo.attaches"), 1, 1e-9);
  g_assert_cmpuint(q->status, ==, ST_OK);
  harness_run(h, ATTACH_LEG + TIMEOUT + ROAM - 1);
  g_assert_cmpuint(harness_count(h, MSG_AV_REQUEST), ==, 1);
  harness_run(h, ATTACH_LEG + TIMEOUT + TIMEOUT / 2 + ROAM);
  g_assert_cmpuint(harness_count(h, MSG_AV_REQUEST), ==, 2);
  const Msg *q2 = harness_last(h, MSG_AV_REQUEST);
  SimTime resent = harness_at(h, q2) - ROAM;
  g_assert_cmpint(resent, >=, ATTACH_LEG + TIMEOUT);
  g_assert_cmpint(resent, <=, ATTACH_LEG + TIMEOUT + TIMEOUT / 2);
  g_assert_cmpuint(q2->txn, ==, q->txn);
  g_assert_cmpuint(q2->ctx, ==, q->ctx);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.timeouts"), 1, 1e-9);
  harness_run(h, resent + TIMEOUT + REJ_LEG - 1);
  g_assert_cmpuint(harness_count(h, MSG_REJECTED), ==, 0);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "vo.gave_up"), 1, 1e-9);
  harness_run(h, resent + TIMEOUT + REJ_LEG);
  const Msg *r = harness_last(h, MSG_REJECTED);
  g_assert_nonnull(r);
  g_assert_cmpuint(r->status, ==, ST_FAILED);
  g_assert_cmpuint(r->seq, ==, SEQ);
  g_assert_cmpuint(r->to, ==, device());
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "vo.gave_up"), 1, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.timeouts"), 2, 1e-9);
  g_assert_cmpuint(harness_count(h, MSG_AV_REQUEST), ==, 2); /* not a third */
  /* A late answer to the given-up request: dropped (its batch freed with it). */
  AkaVector av = vector(1);
  g_assert_null(answer_av(h, q, ST_OK, &av, 1));
  harness_run(h, harness_now(h) + 20 * SIM_S);
  g_assert_cmpuint(harness_count(h, MSG_N), ==, 3);
  g_assert_cmpuint(idpool_live(h->w->batches), ==, 0);
  g_assert_cmpuint(idpool_live(h->w->ctx[ROLE_VO]), ==, 0);
  harness_free(h);
}

/* The RS refuses (unknown PIMSI): the device is rejected with a network failure. */
static void
test_av_refused(void)
{
  Harness *h = harness_new(ROLE_VO, NULL);
  const Msg *q = attach_a(h, SEQ);
  g_assert_null(answer_av(h, q, ST_REFUSED, NULL, 0));
  harness_run(h, harness_now(h) + REJ_LEG);
  const Msg *r = harness_last(h, MSG_REJECTED);
  g_assert_nonnull(r);
  g_assert_cmpuint(r->status, ==, ST_FAILED);
  g_assert_cmpint(harness_at(h, r), ==, ATTACH_LEG + 2 * ROAM + REJ_LEG);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "vo.gave_up"), 0, 1e-9);
  /* Nothing more: the request was closed. */
  harness_run(h, 30 * SIM_S);
  g_assert_cmpuint(harness_count(h, MSG_AV_REQUEST), ==, 1);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.timeouts"), 0, 1e-9);
  harness_free(h);
}

/* A real AV: the challenge carries its RAND and AUTN; RES = XRES grants access. */
static void
test_granted(void)
{
  Harness *h = harness_new(ROLE_VO, NULL);
  const Msg *q = attach_a(h, SEQ);
  AkaVector av = vector(1);
  const Msg *c = answer_av(h, q, ST_OK, &av, 1);
  assert_challenge(c, &av, SEQ);
  g_assert_cmpuint(c->ctx, ==, q->ctx);
  answer_challenge(h, c, ST_OK, av.xres, NULL);
  const Msg *g = harness_last(h, MSG_GRANTED);
  g_assert_nonnull(g);
  g_assert_cmpuint(g->seq, ==, SEQ);
  g_assert_cmpuint(g->to, ==, device());
  g_assert_cmpint(harness_at(h, g), ==, harness_at(h, c) + CHAL_LEG);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "aka.successes"), 1, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "aka.failures"), 0, 1e-9);
  /* A second answer to the same challenge: the context is gone, dropped. */
  answer_challenge(h, c, ST_OK, av.xres, NULL);
  harness_run(h, harness_now(h) + 20 * SIM_S);
  g_assert_cmpuint(harness_count(h, MSG_GRANTED), ==, 1);
  g_assert_cmpuint(harness_count(h, MSG_REJECTED), ==, 0);
  g_assert_cmpuint(harness_count(h, MSG_AV_REQUEST), ==, 1); /* the request was closed */
  g_assert_cmpuint(idpool_live(h->w->ctx[ROLE_VO]), ==, 0);
  g_assert_cmpuint(idpool_live(h->w->batches), ==, 0);
  harness_free(h);
}

/* A wrong RES, or the device's MAC failure: rejected as an authentication failure. */
static void
test_auth_failures(void)
{
  Harness *h = harness_new(ROLE_VO, NULL);
  AkaVector av = vector(1);
  const Msg *c = answer_av(h, attach_a(h, SEQ), ST_OK, &av, 1);
  uint8_t wrong[MIL_MAC_LEN];
  memcpy(wrong, av.xres, sizeof wrong);
  wrong[0] ^= 1;
  SimTime t = harness_now(h);
  answer_challenge(h, c, ST_OK, wrong, NULL);
  const Msg *r = harness_last(h, MSG_REJECTED);
  g_assert_nonnull(r);
  g_assert_cmpint(harness_at(h, r), ==, t + CHAL_LEG + REJ_LEG);
  g_assert_cmpuint(r->status, ==, ST_MAC_FAILURE);
  g_assert_cmpuint(r->seq, ==, SEQ);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "aka.failures"), 1, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "aka.res_mismatch"), 1, 1e-9);
  /* The next attempt: the device finds the AUTN's MAC wrong. */
  AkaVector av2 = vector(2);
  c = answer_av(h, attach_a(h, SEQ + 1), ST_OK, &av2, 1);
  assert_challenge(c, &av2, SEQ + 1);
  answer_challenge(h, c, ST_MAC_FAILURE, NULL, NULL);
  r = harness_last(h, MSG_REJECTED);
  g_assert_cmpuint(harness_count(h, MSG_REJECTED), ==, 2);
  g_assert_cmpuint(r->status, ==, ST_MAC_FAILURE);
  g_assert_cmpuint(r->seq, ==, SEQ + 1);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "aka.failures"), 2, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "aka.res_mismatch"), 1, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "aka.successes"), 0, 1e-9);
  g_assert_cmpuint(harness_count(h, MSG_GRANTED), ==, 0);
  harness_free(h);
}

/* A sync failure: the AUTS and the RAND go to the RS in a new request (same context);
 * the fresh AV it sends is challenged, then granted. */
static void
test_sync_failure(void)
{
  Harness *h = harness_new(ROLE_VO, NULL);
  const Msg *q = attach_a(h, SEQ);
  AkaVector av = vector(1);
  const Msg *c = answer_av(h, q, ST_OK, &av, 1);
  uint8_t auts[AKA_AUTS_LEN];
  for (int i = 0; i < AKA_AUTS_LEN; i++)
    auts[i] = (uint8_t)(0xc0 + i);
  SimTime t = harness_now(h);
  answer_challenge(h, c, ST_SYNC_FAILURE, NULL, auts);
  harness_run(h, t + CHAL_LEG + ROAM);
  g_assert_cmpuint(harness_count(h, MSG_AV_REQUEST), ==, 2);
  const Msg *q2 = harness_last(h, MSG_AV_REQUEST);
  g_assert_cmpint(harness_at(h, q2), ==, t + CHAL_LEG + ROAM);
  g_assert_cmpuint(q2->status, ==, ST_SYNC_FAILURE);
  g_assert_cmpmem(q2->u.chal.auts, AKA_AUTS_LEN, auts, AKA_AUTS_LEN);
  g_assert_cmpmem(q2->u.chal.rand, 16, av.rand, 16);
  g_assert_cmpuint(q2->ctx, ==, q->ctx);
  g_assert_cmpuint(q2->txn, !=, q->txn);
  g_assert_cmpuint(q2->pimsi, ==, PIMSI);
  g_assert_cmpuint(harness_count(h, MSG_REJECTED), ==, 0);
  /* The challenge's timer was stopped: nothing happens at its old deadline. */
  harness_run(h, harness_at(h, c) + TIMEOUT + SIM_MS);
  g_assert_cmpuint(harness_count(h, MSG_REJECTED), ==, 0);
  AkaVector fresh = vector(12);
  const Msg *c2 = answer_av(h, q2, ST_OK, &fresh, 1);
  assert_challenge(c2, &fresh, SEQ);
  answer_challenge(h, c2, ST_OK, fresh.xres, NULL);
  g_assert_cmpuint(harness_count(h, MSG_GRANTED), ==, 1);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "aka.successes"), 1, 1e-9);
  /* The first request's late answer: dropped. */
  g_assert_null(answer_av(h, q, ST_OK, &av, 1));
  harness_free(h);
}

/* The device does not answer the challenge: the context ends after request_timeout
 * without a word to the device (its own guard brings it back); a late answer is
 * dropped. */
static void
test_challenge_timeout(void)
{
  Harness *h = harness_new(ROLE_VO, NULL);
  AkaVector av = vector(1);
  const Msg *c = answer_av(h, attach_a(h, SEQ), ST_OK, &av, 1);
  g_assert_nonnull(c);
  g_assert_cmpuint(idpool_live(h->w->ctx[ROLE_VO]), ==, 1);
  harness_run(h, harness_at(h, c) - CHAL_LEG + TIMEOUT + SIM_MS);
  g_assert_cmpuint(idpool_live(h->w->ctx[ROLE_VO]), ==, 0);
  answer_challenge(h, c, ST_OK, av.xres, NULL);
  harness_run(h, harness_now(h) + SIM_S);
  g_assert_cmpuint(harness_count(h, MSG_GRANTED), ==, 0);
  g_assert_cmpuint(harness_count(h, MSG_REJECTED), ==, 0);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "aka.successes"), 0, 1e-9);
  harness_free(h);
}

/* av_batch 3: the VO keeps the spares of a batch for the device's next attempt after a
 * failure (no request to the RS) and after a grant (for the re-attach when the temporary
 * access ends), until they are used up or spare_lifetime after they came. */
static void
test_spares(void)
{
  const char *sets[] = {"registration_service.av_batch=3", NULL};
  Harness *h = harness_new(ROLE_VO, sets);
  AkaVector avs[3] = {vector(1), vector(2), vector(3)};
  const Msg *c = answer_av(h, attach_a(h, SEQ), ST_OK, avs, 3);
  assert_challenge(c, &avs[0], SEQ);
  g_assert_cmpuint(idpool_live(h->w->batches), ==, 1); /* kept */
  answer_challenge(h, c, ST_MAC_FAILURE, NULL, NULL);
  g_assert_cmpuint(harness_count(h, MSG_REJECTED), ==, 1);
  /* The next attach is challenged at once with the second AV. */
  SimTime t = harness_now(h);
  attach(h, 0, SEQ + 1);
  harness_run(h, t + ATTACH_LEG + CHAL_LEG);
  g_assert_cmpuint(harness_count(h, MSG_AV_REQUEST), ==, 1);
  c = harness_last(h, MSG_CHALLENGE);
  assert_challenge(c, &avs[1], SEQ + 1);
  g_assert_cmpint(harness_at(h, c), ==, t + ATTACH_LEG + CHAL_LEG);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "vo.spare_used"), 1, 1e-9);
  answer_challenge(h, c, ST_OK, avs[1].xres, NULL);
  g_assert_cmpuint(harness_count(h, MSG_GRANTED), ==, 1);
  g_assert_cmpuint(idpool_live(h->w->batches), ==, 1); /* the third AV stays */
  /* Granted, back again: challenged with the third AV, which uses the batch up. */
  t = harness_now(h);
  attach(h, 0, SEQ + 2);
  harness_run(h, t + ATTACH_LEG + CHAL_LEG);
  g_assert_cmpuint(harness_count(h, MSG_AV_REQUEST), ==, 1);
  assert_challenge(harness_last(h, MSG_CHALLENGE), &avs[2], SEQ + 2);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "vo.spare_used"), 2, 1e-9);
  g_assert_cmpuint(idpool_live(h->w->batches), ==, 0);
  answer_challenge(h, harness_last(h, MSG_CHALLENGE), ST_OK, avs[2].xres, NULL);
  /* None left: the next attach asks the RS. */
  attach_a(h, SEQ + 3);
  g_assert_cmpuint(harness_count(h, MSG_AV_REQUEST), ==, 2);
  harness_free(h);
}

/* Requests that timed out together are not all sent again together: eight attaches at
 * once, the RS silent, eight resends at eight different moments within half a
 * request_timeout of the timeout. */
static void
test_resends_spread(void)
{
  Harness *h = harness_new(ROLE_VO, NULL);
  for (uint32_t i = 0; i < 8; i++) {
    Msg *a = harness_msg(h, MSG_ATTACH, net_addr(ROLE_DEV, 10 + i), 0);
    a->dev = 10 + i;
    a->pimsi = 20 + i;
    a->seq = SEQ;
    harness_send(h, a);
  }
  harness_run(h, ATTACH_LEG + TIMEOUT + TIMEOUT / 2 + ROAM);
  g_assert_cmpuint(harness_count(h, MSG_AV_REQUEST), ==, 16);
  g_autoptr(GHashTable) at = g_hash_table_new(g_int64_hash, g_int64_equal);
  for (guint i = 0; i < h->got->len; i++) {
    const Msg *m = h->got->pdata[i];
    SimTime t = harness_at(h, m);
    if (m->kind != MSG_AV_REQUEST || t == ATTACH_LEG + ROAM)
      continue; /* the first sends, all at once */
    g_assert_cmpint(t - ROAM, >=, ATTACH_LEG + TIMEOUT);
    g_assert_cmpint(t - ROAM, <=, ATTACH_LEG + TIMEOUT + TIMEOUT / 2);
    SimTime *k = g_new(SimTime, 1);
    *k = t;
    g_hash_table_add(at, k);
  }
  g_assert_cmpuint(g_hash_table_size(at), ==, 8);
  GList *keys = g_hash_table_get_keys(at);
  for (GList *l = keys; l; l = l->next)
    g_free(l->data);
  g_list_free(keys);
  harness_free(h);
}

/* The attach with the real IMSI, at a VO that takes no PIMSIs (vo-b: a real subscriber
 * roams as usual): the AV comes from the home network (the SHO the device names), not the
 * RS; RES = XRES grants, and the SHO hears of it in a location update resent until
 * acknowledged. */
static void
test_home_attach(void)
{
  Harness *h = harness_new(ROLE_VO, NULL);
  Imsi real;
  g_assert_true(imsi_make(1, 1, 2, 42, 10, &real, NULL));
  Msg *a = harness_msg(h, MSG_HOME_ATTACH, device(), 1);
  a->dev = DEV;
  a->pimsi = PIMSI;
  a->seq = SEQ;
  a->aux = 1; /* sho-a */
  a->imsi = real;
  harness_send(h, a);
  harness_run(h, 2 * SIM_S);
  g_assert_cmpuint(harness_count(h, MSG_REFUSED), ==, 0);
  const Msg *q = harness_last(h, MSG_AV_REQUEST);
  g_assert_nonnull(q);
  g_assert_cmpuint(q->to, ==, net_addr(ROLE_SHO, 0));
  g_assert_true(imsi_equal(q->imsi, real));
  g_assert_cmpuint(q->dev, ==, DEV);
  AkaVector av = vector(1);
  Msg *ans = net_answer_new(h->w, q, MSG_AV_ANSWER);
  ans->status = ST_OK;
  ans->batch = harness_batch_new(h, &av, 1);
  harness_send(h, ans);
  harness_run(h, harness_now(h) + SIM_S);
  const Msg *c = harness_last(h, MSG_CHALLENGE);
  assert_challenge(c, &av, SEQ);
  answer_challenge(h, c, ST_OK, av.xres, NULL);
  harness_run(h, harness_now(h) + SIM_S);
  g_assert_cmpuint(harness_count(h, MSG_GRANTED), ==, 1);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "vo.home_attaches"), 1, 1e-9);
  const Msg *u = harness_last(h, MSG_UPDATE_LOCATION);
  g_assert_nonnull(u);
  g_assert_cmpuint(u->to, ==, net_addr(ROLE_SHO, 0));
  g_assert_cmpuint(u->dev, ==, DEV);
  g_assert_cmpuint(u->pimsi, ==, PIMSI);
  harness_run(h, harness_now(h) + TIMEOUT + SIM_S);
  g_assert_cmpuint(harness_count(h, MSG_UPDATE_LOCATION), ==, 2); /* resent */
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "vo.sho_timeouts"), 1, 1e-9);
  harness_send(h, net_answer_new(h->w, u, MSG_LOCATION_ACK));
  harness_run(h, harness_now(h) + SIM_H);
  g_assert_cmpuint(harness_count(h, MSG_UPDATE_LOCATION), ==, 2);
  g_assert_cmpuint(harness_count(h, MSG_AV_REQUEST), ==, 1); /* none to the RS */
  harness_free(h);
}

/* Spares not used within spare_lifetime are purged (vo.spare_purged counts the AVs). */
static void
test_spares_purged(void)
{
  const char *sets[] = {"registration_service.av_batch=3", "visited_operators.0.spare_lifetime=1h",
                        NULL};
  Harness *h = harness_new(ROLE_VO, sets);
  AkaVector avs[3] = {vector(1), vector(2), vector(3)};
  const Msg *c = answer_av(h, attach_a(h, SEQ), ST_OK, avs, 3);
  answer_challenge(h, c, ST_OK, avs[0].xres, NULL);
  g_assert_cmpuint(harness_count(h, MSG_GRANTED), ==, 1);
  g_assert_cmpuint(idpool_live(h->w->batches), ==, 1);
  harness_run(h, harness_now(h) + 2 * SIM_H);
  g_assert_cmpuint(idpool_live(h->w->batches), ==, 0);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "vo.spare_purged"), 2, 1e-9);
  attach_a(h, SEQ + 1);
  g_assert_cmpuint(harness_count(h, MSG_AV_REQUEST), ==, 2);
  harness_free(h);
}

/* vo-a down from 1 s to 11 s: the RS's answer is lost and ends the context (no
 * challenge, no resend, nothing to the device); an attach is lost; after the outage the
 * VO works again. */
static void
test_outage(void)
{
  const char *sets[] = {"faults=[{at: 1s, target: vo-a, down_for: 10s}]", NULL};
  Harness *h = harness_new(ROLE_VO, sets);
  const Msg *q = attach_a(h, SEQ);
  harness_run(h, 2 * SIM_S);
  AkaVector av = vector(1);
  g_assert_null(answer_av(h, q, ST_OK, &av, 1));
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "vo.dropped"), 1, 1e-9);
  g_assert_cmpuint(idpool_live(h->w->ctx[ROLE_VO]), ==, 0);
  g_assert_cmpuint(idpool_live(h->w->batches), ==, 0);
  attach(h, 0, SEQ + 1);
  harness_run(h, 20 * SIM_S);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "vo.dropped"), 2, 1e-9);
  g_assert_cmpuint(harness_count(h, MSG_N), ==, 1); /* the first AV request only */
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.timeouts"), 0, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "vo.attaches"), 1, 1e-9);
  const Msg *q2 = attach_a(h, SEQ + 2);
  assert_challenge(answer_av(h, q2, ST_OK, &av, 1), &av, SEQ + 2);
  harness_free(h);
}

/* A late copy of an answer lost in an outage ends nothing: the attach it no longer
 * belongs to goes on (the device's RES after the outage is granted). */
static void
test_outage_late_copy(void)
{
  const char *sets[] = {"faults=[{at: 2s, target: vo-a, down_for: 1s}]", NULL};
  Harness *h = harness_new(ROLE_VO, sets);
  const Msg *q = attach_a(h, SEQ);
  Msg request = *q;
  AkaVector av = vector(1);
  const Msg *c = answer_av(h, &request, ST_OK, &av, 1);
  assert_challenge(c, &av, SEQ);
  Msg challenge = *c;
  harness_run(h, 2200 * SIM_MS);
  g_assert_null(answer_av(h, &request, ST_OK, &av, 1)); /* the second copy: lost */
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "vo.dropped"), 1, 1e-9);
  g_assert_cmpuint(idpool_live(h->w->ctx[ROLE_VO]), ==, 1);
  harness_run(h, 3100 * SIM_MS);
  answer_challenge(h, &challenge, ST_OK, av.xres, NULL);
  g_assert_cmpuint(harness_count(h, MSG_GRANTED), ==, 1);
  harness_free(h);
}

/* Certificates: a trust bundle that reaches a VO in outage is lost like any message; the
 * fetch is not answered for the VO, so it times out and is sent again. */
static void
test_outage_loses_bundle(void)
{
  const char *sets[] = {"registration_service.auth=certificate",
                        "faults=[{at: 1s, target: vo-a, down_for: 3s}]", NULL};
  Harness *h = harness_new(ROLE_VO, sets);
  attach(h, 0, SEQ);
  harness_run(h, ATTACH_LEG + ROAM);
  g_assert_cmpuint(harness_count(h, MSG_CA_FETCH), ==, 1);
  Msg fetch = *harness_last(h, MSG_CA_FETCH);
  harness_run(h, 2 * SIM_S);
  Msg *b = net_answer_new(h->w, &fetch, MSG_CA_BUNDLE);
  b->blob = g_bytes_new("not parsed when lost", 20);
  harness_send(h, b);
  harness_run(h, 3 * SIM_S);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "vo.dropped"), 1, 1e-9);
  g_assert_cmpuint(harness_count(h, MSG_CHALLENGE), ==, 0);
  harness_run(h, ATTACH_LEG + TIMEOUT + ROAM);
  g_assert_cmpuint(harness_count(h, MSG_CA_FETCH), ==, 2); /* resent after request_timeout */
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.timeouts"), 1, 1e-9);
  harness_free(h);
}

/* A message the VO never receives (a PACKAGE for the device) aborts the run. Its
 * context table cannot be driven into an event its state refuses with messages: an AV
 * answer finds its context through the pending request, the device's answer only a
 * context waiting for it. */
static void
test_unexpected_message(void)
{
  if (g_test_subprocess()) {
    Harness *h = harness_new(ROLE_VO, NULL);
    attach_a(h, SEQ);
    Msg *m = harness_msg(h, MSG_PACKAGE, device(), 0);
    m->dev = DEV;
    harness_send(h, m);
    harness_run(h, 2 * SIM_S);
    return;
  }
  g_test_trap_subprocess(NULL, 0, 0);
  g_test_trap_assert_failed();
  g_test_trap_assert_stderr("*VisitedOperator: message PACKAGE not expected*");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/vo/refused-at-vo-b", test_refused_at_vo_b);
  g_test_add_func("/vo/av-gave-up", test_av_gave_up);
  g_test_add_func("/vo/av-refused", test_av_refused);
  g_test_add_func("/vo/granted", test_granted);
  g_test_add_func("/vo/auth-failures", test_auth_failures);
  g_test_add_func("/vo/sync-failure", test_sync_failure);
  g_test_add_func("/vo/challenge-timeout", test_challenge_timeout);
  g_test_add_func("/vo/spares", test_spares);
  g_test_add_func("/vo/spares-purged", test_spares_purged);
  g_test_add_func("/vo/home-attach", test_home_attach);
  g_test_add_func("/vo/resends-spread", test_resends_spread);
  g_test_add_func("/vo/outage", test_outage);
  g_test_add_func("/vo/outage-late-copy", test_outage_late_copy);
  g_test_add_func("/vo/outage-loses-bundle", test_outage_loses_bundle);
  g_test_add_func("/vo/unexpected-message", test_unexpected_message);
  return g_test_run();
}
