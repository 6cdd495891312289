/* The Registration Service alone (role-harness.h): registrations (a PIMSI index, its IMSI
 * and fresh keys; pool exhaustion and recycling after quarantine), AV requests on the AV
 * servers (real vectors for the registered keys, the IND of the requesting VO or SHO,
 * batches, resynchronisation with an AUTS, unknown PIMSIs refused), SHO registrations,
 * the device's secured connection (every refusal alike), key requests, releases, the
 * certificate authority's part of a registration, an RS outage losing what arrives and
 * what is in service, and a message the RS does not expect aborting the run. */
#include <glib.h>
#include <math.h>
#include <string.h>

#include "m2m/aka.h"
#include "m2m/kdf.h"
#include "m2m/milenage.h"
#include "role-harness.h"

/* The harness: the manufacturer's line has no delay, register_service_time 1 ms; the VO's
 * roaming interface 50 ms each way (and the device's traffic through vo-a), av_service_time
 * 2 ms on one server; the SHO's link 100 ms each way. */
#define REG (1 * SIM_MS)
#define AV_RTT (50 * SIM_MS + 2 * SIM_MS + 50 * SIM_MS)
#define SHO_RTT (100 * SIM_MS + REG + 100 * SIM_MS)
#define DEV_RTT (50 * SIM_MS + REG + 50 * SIM_MS)

static NetAddr
mfr(void)
{
  return net_addr(ROLE_MFR, 0);
}

static NetAddr
vo_a(void)
{
  return net_addr(ROLE_VO, 0);
}

static NetAddr
sho_a(void)
{
  return net_addr(ROLE_SHO, 0);
}

static SimTime
now(Harness *h)
{
  return w_now(h->w);
}

/* Device `dev` registers now; returns the RS's answer (run until it is there). */
static const Msg *
register_dev(Harness *h, uint32_t dev)
{
  Msg *r = harness_msg(h, MSG_REGISTER, mfr(), 0);
  r->dev = dev;
  r->txn = 1000 + dev; /* the manufacturer's pending request: echoed */
  harness_send(h, r);
  guint before = harness_count(h, MSG_REGISTER_ANSWER);
  SimTime sent = now(h);
  harness_run(h, sent + REG);
  g_assert_cmpuint(harness_count(h, MSG_REGISTER_ANSWER), ==, before + 1);
  const Msg *a = harness_last(h, MSG_REGISTER_ANSWER);
  g_assert_cmpint(harness_at(h, a), ==, sent + REG);
  g_assert_cmpuint(a->dev, ==, dev);
  g_assert_cmpuint(a->txn, ==, 1000 + dev);
  g_assert_cmpuint(a->to, ==, mfr());
  return a;
}

/* An AV request for (dev, pimsi) from `from` (vo-a or sho-a), optionally a resync with
 * (rand, auts); returns the answer. */
static const Msg *
av_request(Harness *h, NetAddr from, uint32_t dev, uint32_t pimsi, const uint8_t *rand,
           const uint8_t *auts)
{
  Msg *q = harness_msg(h, MSG_AV_REQUEST, from, 0);
  q->dev = dev;
  q->pimsi = pimsi;
  q->ctx = 77;
  q->txn = 4242;
  if (auts != NULL) {
    q->status = ST_SYNC_FAILURE;
    memcpy(q->u.chal.rand, rand, 16);
    memcpy(q->u.chal.auts, auts, AKA_AUTS_LEN);
  }
  harness_send(h, q);
  guint before = harness_count(h, MSG_AV_ANSWER);
  SimTime rtt = net_addr_role(from) == ROLE_SHO ? SHO_RTT - REG + 2 * SIM_MS : AV_RTT;
  SimTime sent = now(h);
  harness_run(h, sent + rtt);
  g_assert_cmpuint(harness_count(h, MSG_AV_ANSWER), ==, before + 1);
  const Msg *a = harness_last(h, MSG_AV_ANSWER);
  g_assert_cmpint(harness_at(h, a), ==, sent + rtt);
  g_assert_cmpuint(a->to, ==, from);
  g_assert_cmpuint(a->ctx, ==, 77);
  g_assert_cmpuint(a->txn, ==, 4242);
  return a;
}

/* A USIM holding `keys` whose highest accepted SQN is sqn_ms checks av: it must accept
 * it (MAC and freshness); returns the SQN it accepted. */
static uint64_t
usim_accepts(Harness *h, const AkaKeys *keys, uint64_t sqn_ms, const AkaVector *av)
{
  AkaUsim usim;
  g_assert_true(aka_usim_init_at(&usim, &h->w->aka, sqn_ms));
  AkaUsimAnswer ans;
  g_assert_cmpint(aka_usim_check(&h->w->aka, h->w->mil, keys, &usim, av->rand, av->autn, &ans), ==,
                  AKA_OK);
  g_assert_cmpmem(ans.res, MIL_MAC_LEN, av->xres, MIL_MAC_LEN);
  return usim.sqn_ms;
}

static Imsi
pimsi_imsi(uint32_t index)
{
  Imsi i;
  g_assert_true(imsi_make(901, 70, 2, index, 10, &i, NULL));
  return i;
}

static void
test_register(void)
{
  Harness *h = harness_new(ROLE_RS, NULL);
  const Msg *a = register_dev(h, 0);
  g_assert_cmpuint(a->status, ==, ST_OK);
  g_assert_cmpuint(a->pimsi, ==, 0); /* never-used indices in ascending order */
  g_assert_true(imsi_equal(a->u.reg.imsi, pimsi_imsi(0)));
  g_assert_null(a->u.reg.issuer); /* AKA: no certificates */
  const Msg *b = register_dev(h, 1);
  g_assert_cmpuint(b->status, ==, ST_OK);
  g_assert_cmpuint(b->pimsi, ==, 1);
  g_assert_true(imsi_equal(b->u.reg.imsi, pimsi_imsi(1)));
  /* Fresh keys per PIMSI, K drawn and OPc derived from it. */
  static const uint8_t zero[16];
  g_assert_true(memcmp(a->u.reg.keys.k, zero, 16) != 0);
  g_assert_true(memcmp(a->u.reg.keys.k, b->u.reg.keys.k, 16) != 0);
  g_assert_true(memcmp(a->u.reg.keys.opc, b->u.reg.keys.opc, 16) != 0);
  g_assert_true(memcmp(a->u.reg.keys.k, a->u.reg.keys.opc, 16) != 0);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.registrations"), 2, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.pimsi.allocated"), 2, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.pimsi.in_use_peak"), 2, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.pimsi.blocked"), 0, 1e-9);
  g_assert_true(isnan(harness_figure(h, "rs.pimsi.exhausted_at")));
  harness_free(h);
}

/* A registration repeated for the same unit (a resend that crossed a slow answer) gets
 * the same PIMSI and keys, allocates nothing more, and is counted; once the unit has
 * released its PIMSI a late copy is refused. */
static void
test_register_repeated(void)
{
  Harness *h = harness_new(ROLE_RS, NULL);
  Msg first = *register_dev(h, 0);
  const Msg *again = register_dev(h, 0);
  g_assert_cmpuint(again->status, ==, ST_OK);
  g_assert_cmpuint(again->pimsi, ==, first.pimsi);
  g_assert_cmpmem(again->u.reg.keys.k, 16, first.u.reg.keys.k, 16);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.registrations"), 1, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.registrations_repeated"), 1, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.pimsi.allocated"), 1, 1e-9);
  const Msg *b = register_dev(h, 1);
  g_assert_cmpuint(b->pimsi, ==, first.pimsi + 1);
  harness_free(h);
}

/* A pool of 2: the third registration is refused; a released PIMSI comes back after its
 * quarantine (1 h). */
static void
test_pool_exhausted(void)
{
  const char *sets[] = {"registration_service.pimsi_pool.size=2", NULL};
  Harness *h = harness_new(ROLE_RS, sets);
  g_assert_cmpuint(register_dev(h, 0)->status, ==, ST_OK);
  g_assert_cmpuint(register_dev(h, 1)->status, ==, ST_OK);
  SimTime t_full = now(h) - REG;
  const Msg *c = register_dev(h, 2);
  g_assert_cmpuint(c->status, ==, ST_REFUSED);
  g_assert_cmpuint(c->pimsi, ==, W_NONE32);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.pimsi.blocked"), 1, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.registrations"), 2, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.pimsi.exhausted_at"), sim_time_to_s(t_full),
                                 1e-9);
  /* PIMSI 0 provisioned: released, then quarantined. */
  Msg *r = harness_msg(h, MSG_RELEASE, sho_a(), 0);
  r->dev = 0;
  r->pimsi = 0;
  harness_send(h, r);
  harness_run(h, now(h) + SHO_RTT);
  g_assert_cmpuint(harness_count(h, MSG_RS_ACK), ==, 1);
  SimTime released = now(h) - 100 * SIM_MS - REG;
  g_assert_cmpuint(register_dev(h, 3)->status, ==, ST_REFUSED); /* still in quarantine */
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.pimsi.blocked"), 2, 1e-9);
  harness_run(h, released + SIM_H + SIM_S);
  const Msg *d = register_dev(h, 3);
  g_assert_cmpuint(d->status, ==, ST_OK);
  g_assert_cmpuint(d->pimsi, ==, 0);
  harness_free(h);
}

/* AV requests: real vectors for the registered keys, SQN = SEQ_HE || IND with IND the
 * requesting node's (vo-a 0; sho-a after the two VOs, 2); refused for an unknown PIMSI or
 * another device's; queued on the single AV server. */
static void
test_av_request(void)
{
  Harness *h = harness_new(ROLE_RS, NULL);
  const Msg *reg = register_dev(h, 0);
  AkaKeys keys = reg->u.reg.keys;
  const Msg *a = av_request(h, vo_a(), 0, 0, NULL, NULL);
  g_assert_cmpuint(a->status, ==, ST_OK);
  const AkaVector *av = harness_batch(h, a);
  g_assert_nonnull(av);
  g_assert_cmpuint(usim_accepts(h, &keys, 0, av), ==, (1u << 5) | 0);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.av.requests"), 1, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.av.vectors"), 1, 1e-9);
  /* The same PIMSI asked by the SHO: SEQ_HE 2, IND 2. */
  const Msg *s = av_request(h, sho_a(), 0, 0, NULL, NULL);
  g_assert_cmpuint(s->status, ==, ST_OK);
  g_assert_cmpuint(usim_accepts(h, &keys, (1u << 5) | 0, harness_batch(h, s)), ==, (2u << 5) | 2);
  /* Unknown PIMSI, and PIMSI 0 for another device: refused, no batch, nothing counted. */
  const Msg *u = av_request(h, vo_a(), 0, 9, NULL, NULL);
  g_assert_cmpuint(u->status, ==, ST_REFUSED);
  g_assert_null(harness_batch(h, u));
  const Msg *o = av_request(h, vo_a(), 5, 0, NULL, NULL);
  g_assert_cmpuint(o->status, ==, ST_REFUSED);
  g_assert_null(harness_batch(h, o));
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.av.requests"), 2, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.av.vectors"), 2, 1e-9);
  g_assert_cmpuint(idpool_live(h->w->batches), ==, 0); /* freed with the answers */
  /* Two requests at once: the second waits for the server (2 ms). */
  SimTime t0 = now(h);
  for (int i = 0; i < 2; i++) {
    Msg *q = harness_msg(h, MSG_AV_REQUEST, vo_a(), 0);
    q->dev = 0;
    q->pimsi = 0;
    harness_send(h, q);
  }
  harness_run(h, t0 + SIM_S);
  g_assert_cmpuint(harness_count(h, MSG_AV_ANSWER), ==, 6);
  g_assert_cmpint(harness_at(h, harness_got(h, h->got->len - 2)), ==, t0 + AV_RTT);
  g_assert_cmpint(harness_at(h, harness_got(h, h->got->len - 1)), ==, t0 + AV_RTT + 2 * SIM_MS);
  harness_free(h);
}

/* av_batch 3: three vectors per answer, consecutive SEQs. */
static void
test_av_batch(void)
{
  const char *sets[] = {"registration_service.av_batch=3", NULL};
  Harness *h = harness_new(ROLE_RS, sets);
  AkaKeys keys = register_dev(h, 0)->u.reg.keys;
  const Msg *a = av_request(h, vo_a(), 0, 0, NULL, NULL);
  g_assert_cmpuint(a->status, ==, ST_OK);
  const AkaVector *avs = harness_batch(h, a);
  for (unsigned i = 0; i < 3; i++)
    g_assert_cmpuint(usim_accepts(h, &keys, 0, &avs[i]), ==, (uint64_t)(i + 1) << 5);
  g_assert_true(memcmp(avs[0].rand, avs[1].rand, 16) != 0);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.av.requests"), 1, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.av.vectors"), 3, 1e-9);
  harness_free(h);
}

/* A resynchronisation: a valid AUTS moves SEQ_HE to the USIM's; a forged one fails. */
static void
test_resync(void)
{
  Harness *h = harness_new(ROLE_RS, NULL);
  AkaKeys keys = register_dev(h, 0)->u.reg.keys;
  const Msg *a = av_request(h, vo_a(), 0, 0, NULL, NULL);
  AkaVector av = harness_batch(h, a)[0];
  uint64_t sqn_ms = (9u << 5) | 3; /* the USIM is ahead */
  uint8_t auts[AKA_AUTS_LEN];
  aka_auts_build(h->w->mil, &keys, av.rand, sqn_ms, auts);
  const Msg *r = av_request(h, vo_a(), 0, 0, av.rand, auts);
  g_assert_cmpuint(r->status, ==, ST_OK);
  g_assert_cmpuint(usim_accepts(h, &keys, sqn_ms, harness_batch(h, r)), ==, 10u << 5);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.av.resync_requests"), 1, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "aka.resyncs"), 1, 1e-9);
  auts[AKA_AUTS_LEN - 1] ^= 1; /* MAC-S wrong */
  const Msg *f = av_request(h, vo_a(), 0, 0, av.rand, auts);
  g_assert_cmpuint(f->status, ==, ST_FAILED);
  g_assert_null(harness_batch(h, f));
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.av.resync_requests"), 2, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "aka.resyncs"), 1, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.av.requests"), 2, 1e-9);
  harness_free(h);
}

static const Msg *
sho_register(Harness *h, uint32_t dev, uint32_t pimsi)
{
  Msg *m = harness_msg(h, MSG_SHO_REGISTER, sho_a(), 0);
  m->dev = dev;
  m->pimsi = pimsi;
  m->txn = 555;
  harness_send(h, m);
  guint before = harness_count(h, MSG_RS_ACK);
  harness_run(h, now(h) + SHO_RTT);
  g_assert_cmpuint(harness_count(h, MSG_RS_ACK), ==, before + 1);
  const Msg *a = harness_last(h, MSG_RS_ACK);
  g_assert_cmpuint(a->to, ==, sho_a());
  g_assert_cmpuint(a->txn, ==, 555);
  g_assert_cmpuint(a->dev, ==, dev);
  return a;
}

/* The device's proof of K_RS for the AKA run with `rand`. */
static void
proof_rs(Harness *h, const AkaKeys *keys, uint32_t pimsi, const uint8_t rand[16], uint8_t out[16])
{
  static const uint8_t sqn[MIL_SQN_LEN], amf[MIL_AMF_LEN];
  MilOut o;
  mil_compute(h->w->mil, keys->k, keys->opc, rand, sqn, amf, &o);
  uint8_t k_rs[KDF_OUT_LEN];
  g_assert_true(kdf_rs_key(NULL, o.ck, o.ik, pimsi_imsi(pimsi), rand, k_rs));
  w_key_confirm(k_rs, out);
}

static const Msg *
lookup(Harness *h, uint32_t dev, uint32_t pimsi, const uint8_t rand[16], const uint8_t proof[16])
{
  Msg *l = harness_msg(h, MSG_LOOKUP, net_addr(ROLE_DEV, dev), 0);
  l->dev = dev;
  l->pimsi = pimsi;
  l->seq = 3;
  l->via = 0;
  l->u.conn.imsi = pimsi_imsi(pimsi);
  memcpy(l->u.conn.rand, rand, 16);
  memcpy(l->u.conn.proof, proof, 16);
  harness_send(h, l);
  guint before = harness_count(h, MSG_LOOKUP_ANSWER);
  SimTime sent = now(h);
  harness_run(h, sent + DEV_RTT);
  g_assert_cmpuint(harness_count(h, MSG_LOOKUP_ANSWER), ==, before + 1);
  const Msg *a = harness_last(h, MSG_LOOKUP_ANSWER);
  g_assert_cmpint(harness_at(h, a), ==, sent + DEV_RTT);
  g_assert_cmpuint(a->to, ==, net_addr(ROLE_DEV, dev));
  g_assert_cmpuint(a->seq, ==, 3);
  return a;
}

/* Every refusal looks the same: status, aux, payload, timing. */
static void
assert_refused(const Msg *a)
{
  static const uint8_t zero[sizeof a->u];
  g_assert_cmpuint(a->status, ==, ST_REFUSED);
  g_assert_cmpuint(a->aux, ==, 0);
  g_assert_cmpmem(&a->u, sizeof a->u, zero, sizeof zero);
}

/* The secured connection: refused alike without AVs issued, with a wrong proof, for an
 * unknown PIMSI, and without an SHO; with the SHO registered, the SHO's index + 1. */
static void
test_lookup(void)
{
  Harness *h = harness_new(ROLE_RS, NULL);
  AkaKeys keys = register_dev(h, 0)->u.reg.keys;
  uint8_t rand[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, proof[16], bad[16];
  proof_rs(h, &keys, 0, rand, proof);
  memcpy(bad, proof, 16);
  bad[5] ^= 0x40;
  assert_refused(lookup(h, 0, 0, rand, proof)); /* no AV issued yet */
  av_request(h, vo_a(), 0, 0, NULL, NULL);
  assert_refused(lookup(h, 0, 0, rand, bad));   /* wrong proof */
  assert_refused(lookup(h, 0, 7, rand, proof)); /* unknown PIMSI */
  assert_refused(lookup(h, 1, 0, rand, proof)); /* another device's PIMSI */
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.lookups_refused"), 4, 1e-9);
  assert_refused(lookup(h, 0, 0, rand, proof)); /* right, but no SHO yet */
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.lookups_no_sho"), 1, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.lookups_refused"), 4, 1e-9);
  sho_register(h, 0, 0);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.sho_registrations"), 1, 1e-9);
  const Msg *ok = lookup(h, 0, 0, rand, proof);
  g_assert_cmpuint(ok->status, ==, ST_OK);
  g_assert_cmpuint(ok->aux, ==, 1);
  /* The connection stays up: the same proof again, and a wrong one still refused. */
  g_assert_cmpuint(lookup(h, 0, 0, rand, proof)->status, ==, ST_OK);
  assert_refused(lookup(h, 0, 0, rand, bad));
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.lookups"), 8, 1e-9);
  harness_free(h);
}

/* SHO registration: acknowledged always, counted only for the PIMSI's holder. */
static void
test_sho_register(void)
{
  Harness *h = harness_new(ROLE_RS, NULL);
  register_dev(h, 0);
  SimTime t = now(h);
  sho_register(h, 1, 0); /* not this PIMSI's device */
  g_assert_cmpint(harness_at(h, harness_last(h, MSG_RS_ACK)), ==, t + SHO_RTT);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.sho_registrations"), 0, 1e-9);
  sho_register(h, 0, 0);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.sho_registrations"), 1, 1e-9);
  harness_free(h);
}

static const Msg *
key_request(Harness *h, uint32_t dev, uint32_t pimsi, const uint8_t rand[16])
{
  Msg *q = harness_msg(h, MSG_KEY_REQUEST, sho_a(), 0);
  q->dev = dev;
  q->pimsi = pimsi;
  q->ctx = 31;
  memcpy(q->u.conn.rand, rand, 16);
  harness_send(h, q);
  guint before = harness_count(h, MSG_KEY);
  harness_run(h, now(h) + SHO_RTT);
  g_assert_cmpuint(harness_count(h, MSG_KEY), ==, before + 1);
  const Msg *k = harness_last(h, MSG_KEY);
  g_assert_cmpuint(k->ctx, ==, 31);
  return k;
}

/* K_SHO for the SHO of the device, derived from the device's AKA run; refused before the
 * AVs were issued and before the SHO registered the device. */
static void
test_key_request(void)
{
  Harness *h = harness_new(ROLE_RS, NULL);
  AkaKeys keys = register_dev(h, 0)->u.reg.keys;
  uint8_t rand[16] = {0xa5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 0x5a};
  g_assert_cmpuint(key_request(h, 0, 0, rand)->status, ==, ST_REFUSED);
  av_request(h, vo_a(), 0, 0, NULL, NULL);
  g_assert_cmpuint(key_request(h, 0, 0, rand)->status, ==, ST_REFUSED); /* no SHO */
  sho_register(h, 0, 0);
  const Msg *k = key_request(h, 0, 0, rand);
  g_assert_cmpuint(k->status, ==, ST_OK);
  static const uint8_t sqn[MIL_SQN_LEN], amf[MIL_AMF_LEN];
  MilOut o;
  mil_compute(h->w->mil, keys.k, keys.opc, rand, sqn, amf, &o);
  uint8_t k_sho[KDF_OUT_LEN];
  g_assert_true(kdf_sho_key(NULL, o.ck, o.ik, pimsi_imsi(0), rand, k_sho));
  g_assert_cmpmem(k->u.key, 32, k_sho, 32);
  harness_free(h);
}

/* A release: acknowledged, the PIMSI back to the pool; the record is gone. */
static void
test_release(void)
{
  Harness *h = harness_new(ROLE_RS, NULL);
  register_dev(h, 0);
  av_request(h, vo_a(), 0, 0, NULL, NULL);
  sho_register(h, 0, 0);
  harness_run(h, 10 * SIM_S);
  Msg *r = harness_msg(h, MSG_RELEASE, sho_a(), 0);
  r->dev = 0;
  r->pimsi = 0;
  r->txn = 99;
  harness_send(h, r);
  harness_run(h, now(h) + SHO_RTT);
  const Msg *a = harness_last(h, MSG_RS_ACK);
  g_assert_cmpuint(a->txn, ==, 99);
  g_assert_cmpint(harness_at(h, a), ==, 10 * SIM_S + SHO_RTT);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.pimsi.released"), 1, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.pimsi.hold_mean"),
                                 sim_time_to_s(10 * SIM_S + 100 * SIM_MS), 1e-9);
  /* Released twice, or another device's: acknowledged, nothing released. */
  Msg *again = harness_msg(h, MSG_RELEASE, sho_a(), 0);
  again->dev = 0;
  again->pimsi = 0;
  harness_send(h, again);
  harness_run(h, now(h) + SHO_RTT);
  g_assert_cmpuint(harness_count(h, MSG_RS_ACK), ==, 3);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.pimsi.released"), 1, 1e-9);
  /* The record is gone: no AVs for it any more. */
  g_assert_cmpuint(av_request(h, vo_a(), 0, 0, NULL, NULL)->status, ==, ST_REFUSED);
  harness_free(h);
}

/* An RS outage from 10 s to 20 s loses what arrives and the AV work that ends while it
 * is down; what it answered before stays answered. */
static void
test_outage(void)
{
  const char *sets[] = {"faults=[{at: 10s, target: registration_service, down_for: 10s}]", NULL};
  Harness *h = harness_new(ROLE_RS, sets);
  register_dev(h, 0);
  /* Done at 9.992 s: answered. */
  harness_run(h, 10 * SIM_S - 60 * SIM_MS);
  Msg *q = harness_msg(h, MSG_AV_REQUEST, vo_a(), 0);
  q->dev = 0;
  q->pimsi = 0;
  harness_send(h, q);
  /* Arrives at 9.999 s, its service ends at 10.001 s: dropped. */
  harness_run(h, 10 * SIM_S - 51 * SIM_MS);
  q = harness_msg(h, MSG_AV_REQUEST, vo_a(), 0);
  q->dev = 0;
  q->pimsi = 0;
  harness_send(h, q);
  harness_run(h, 12 * SIM_S);
  g_assert_cmpuint(harness_count(h, MSG_AV_ANSWER), ==, 1);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.dropped"), 1, 1e-9);
  /* Registrations and lookups while down: lost, no answer, nothing allocated. */
  Msg *r = harness_msg(h, MSG_REGISTER, mfr(), 0);
  r->dev = 1;
  harness_send(h, r);
  uint8_t zero[16] = {0};
  Msg *l = harness_msg(h, MSG_LOOKUP, net_addr(ROLE_DEV, 0), 0);
  l->dev = 0;
  l->via = 0;
  memcpy(l->u.conn.proof, zero, 16);
  harness_send(h, l);
  harness_run(h, 19 * SIM_S);
  g_assert_cmpuint(harness_count(h, MSG_REGISTER_ANSWER), ==, 1);
  g_assert_cmpuint(harness_count(h, MSG_LOOKUP_ANSWER), ==, 0);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.dropped"), 3, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.lookups"), 0, 1e-9);
  /* Up again: the next registration gets PIMSI 1 (the lost one allocated nothing). */
  harness_run(h, 20 * SIM_S + SIM_MS);
  const Msg *a = register_dev(h, 1);
  g_assert_cmpuint(a->status, ==, ST_OK);
  g_assert_cmpuint(a->pimsi, ==, 1);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.registrations"), 2, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.dropped"), 3, 1e-9);
  harness_free(h);
}

/* Certificates: a registration carries the CA and the validity start (a voucher); the
 * trust bundle is served on request. */
static void
test_certificate_voucher(void)
{
  const char *sets[] = {"registration_service.auth=certificate", NULL};
  Harness *h = harness_new(ROLE_RS, sets);
  harness_run(h, 3 * SIM_S);
  const Msg *a = register_dev(h, 0);
  g_assert_cmpuint(a->status, ==, ST_OK);
  g_assert_nonnull(a->u.reg.issuer);
  g_assert_cmpint(a->u.reg.cert_from, ==, 3);
  Msg *f = harness_msg(h, MSG_CA_FETCH, vo_a(), 0);
  f->txn = 8;
  harness_send(h, f);
  harness_run(h, now(h) + DEV_RTT);
  const Msg *b = harness_last(h, MSG_CA_BUNDLE);
  g_assert_nonnull(b);
  g_assert_cmpuint(b->txn, ==, 8);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.ca_fetches"), 1, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "cert.revoked"), 0, 1e-9);
  harness_free(h);
}

/* A message the RS never receives (an SHO's LOCATION_ACK, sent to it by mistake) aborts
 * the run. The RS has no request state machine of its own: its PIMSI records' table
 * (RegistrationService.pimsi) cannot be reached with a wrong event through messages,
 * since every handler looks the record up as allocated first. */
static void
test_unexpected_message(void)
{
  if (g_test_subprocess()) {
    Harness *h = harness_new(ROLE_RS, NULL);
    Msg *m = harness_msg(h, MSG_LOCATION_ACK, sho_a(), 0);
    harness_send(h, m);
    harness_run(h, SIM_S);
    return;
  }
  g_test_trap_subprocess(NULL, 0, 0);
  g_test_trap_assert_failed();
  g_test_trap_assert_stderr("*RegistrationService: message LOCATION_ACK not expected*");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/rs/register", test_register);
  g_test_add_func("/rs/register-repeated", test_register_repeated);
  g_test_add_func("/rs/pool-exhausted", test_pool_exhausted);
  g_test_add_func("/rs/av-request", test_av_request);
  g_test_add_func("/rs/av-batch", test_av_batch);
  g_test_add_func("/rs/resync", test_resync);
  g_test_add_func("/rs/lookup", test_lookup);
  g_test_add_func("/rs/sho-register", test_sho_register);
  g_test_add_func("/rs/key-request", test_key_request);
  g_test_add_func("/rs/release", test_release);
  g_test_add_func("/rs/outage", test_outage);
  g_test_add_func("/rs/certificate-voucher", test_certificate_voucher);
  g_test_add_func("/rs/unexpected-message", test_unexpected_message);
  return g_test_run();
}
