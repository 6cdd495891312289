/* A home operator alone (role-harness.h): the owner's registration (acknowledged, then
 * registered at the RS until the RS acknowledges), downloads (refused for an unknown
 * device; for a known one K_SHO from the RS, the device's key confirmation checked, the
 * sealed USIM after download_time; the key request given up after two sends), the
 * home network of the real IMSI (its AVs for the USIM it sent, the PIMSI's release at the
 * RS once a VO reports the device attached with it), the SHO's own AKA (authenticate: aka),
 * an outage, and an answer of the wrong kind aborting with HomeOperator(0){KEY}. */
#include <glib.h>
#include <string.h>

#include "m2m/aka.h"
#include "m2m/kdf.h"
#include "m2m/seal.h"
#include "req.h"
#include "role-harness.h"

/* The harness: owners <-> SHO 200 ms, SHO <-> RS 100 ms (sho-a's register_delay), the
 * device's traffic through vo-a 50 ms; download_time 20 s, auth_time 10 ms;
 * request_timeout 5 s, growing by 2 per resend for the SHO's requests. */
#define OWNER_LEG (200 * SIM_MS)
#define RS_LEG (100 * SIM_MS)
#define DEV_LEG (50 * SIM_MS)
#define DOWNLOAD_TIME (20 * SIM_S)
#define AUTH_TIME (10 * SIM_MS)

enum { DEV = 3, PIMSI = 6, SEQ = 9 };

static NetAddr
device(void)
{
  return net_addr(ROLE_DEV, DEV);
}

static NetAddr
owner(void)
{
  return net_addr(ROLE_OWNER, 0);
}

static Imsi
pimsi_imsi(void)
{
  Imsi i;
  g_assert_true(imsi_make(901, 70, 2, PIMSI, 10, &i, NULL));
  return i;
}

/* The owner registers device `dev` now. */
static void
owner_register(Harness *h, uint32_t dev)
{
  Msg *o = harness_msg(h, MSG_OWNER_REGISTER, owner(), 0);
  o->dev = dev;
  o->pimsi = PIMSI;
  o->txn = 321;
  harness_send(h, o);
}

/* The device is known to the SHO (its SHO registration acknowledged by the RS). */
static Harness *
with_known_device(const char *const *sets)
{
  Harness *h = harness_new(ROLE_SHO, sets);
  owner_register(h, DEV);
  harness_run(h, OWNER_LEG + RS_LEG);
  const Msg *r = harness_last(h, MSG_SHO_REGISTER);
  g_assert_nonnull(r);
  harness_send(h, net_answer_new(h->w, r, MSG_RS_ACK));
  harness_run(h, SIM_S);
  g_assert_cmpuint(harness_count(h, MSG_OWNER_ACK), ==, 1);
  return h;
}

/* The K_SHO the RS would send, and the device's key confirmation of it. */
static void
k_sho(uint8_t key[32], uint8_t proof[16])
{
  for (int i = 0; i < 32; i++)
    key[i] = (uint8_t)(0x30 + 7 * i);
  w_key_confirm(key, proof);
}

static const uint8_t dl_rand[16] = {9, 8, 7,    6,    5,    4,    3,    2,
                                    1, 0, 0xf0, 0xe0, 0xd0, 0xc0, 0xb0, 0xa0};

/* Device `dev` asks for its USIM now with key confirmation `proof`. */
static void
download(Harness *h, uint32_t dev, const uint8_t proof[16])
{
  Msg *d = harness_msg(h, MSG_DOWNLOAD, net_addr(ROLE_DEV, dev), 0);
  d->dev = dev;
  d->pimsi = PIMSI;
  d->seq = SEQ;
  d->via = 0;
  d->u.conn.imsi = pimsi_imsi();
  memcpy(d->u.conn.rand, dl_rand, 16);
  memcpy(d->u.conn.proof, proof, 16);
  harness_send(h, d);
}

/* A download of the known device up to the SHO's key request (returned). */
static const Msg *
download_to_key_request(Harness *h, const uint8_t proof[16])
{
  SimTime t = harness_now(h);
  download(h, DEV, proof);
  harness_run(h, t + DEV_LEG + RS_LEG);
  const Msg *s = harness_last(h, MSG_DOWNLOAD_STARTED);
  g_assert_nonnull(s);
  g_assert_cmpint(harness_at(h, s), ==, t + 2 * DEV_LEG);
  g_assert_cmpuint(s->to, ==, device());
  g_assert_cmpuint(s->seq, ==, SEQ);
  g_assert_cmpuint(s->via, ==, 0);
  const Msg *q = harness_last(h, MSG_KEY_REQUEST);
  g_assert_nonnull(q);
  g_assert_cmpint(harness_at(h, q), ==, t + DEV_LEG + RS_LEG);
  g_assert_cmpuint(q->to, ==, net_addr(ROLE_RS, 0));
  g_assert_cmpuint(q->dev, ==, DEV);
  g_assert_cmpuint(q->pimsi, ==, PIMSI);
  g_assert_cmpuint(q->ctx, !=, 0);
  g_assert_cmpmem(q->u.conn.rand, 16, dl_rand, 16);
  return q;
}

/* The RS answers key request q now with `key` (or a refusal). */
static void
send_key(Harness *h, const Msg *q, MsgStatus status, const uint8_t key[32])
{
  Msg *a = net_answer_new(h->w, q, MSG_KEY);
  a->status = (uint8_t)status;
  if (key != NULL)
    memcpy(a->u.key, key, 32);
  harness_send(h, a);
}

/* The package opens under K_SEAL of `key` for the device's PIMSI: the SHO's USIM. */
static void
assert_package_usim(const Msg *p, const uint8_t key[32], uint64_t msin, SealUsim *out)
{
  g_assert_cmpuint(p->to, ==, device());
  g_assert_cmpuint(p->seq, ==, SEQ);
  uint8_t k_seal[KDF_SEAL_KEY_LEN];
  g_assert_true(kdf_seal_key(NULL, key, pimsi_imsi(), k_seal));
  SealUsim usim;
  g_assert_cmpint(seal_open(NULL, k_seal, pimsi_imsi(), p->u.pkg, SEAL_PACKAGE_LEN, &usim), ==,
                  SEAL_OK);
  Imsi want;
  g_assert_true(imsi_make(1, 1, 2, msin, 10, &want, NULL)); /* 001-01: sho-a, index 0 */
  g_assert_true(imsi_equal(usim.imsi, want));
  if (out != NULL)
    *out = usim;
}

static void
assert_package(const Msg *p, const uint8_t key[32], uint64_t msin)
{
  assert_package_usim(p, key, msin, NULL);
}

/* The owner's registration: acknowledged to the owner; registered at the RS once (the
 * same device again is only acknowledged), resent after growing waits until the RS
 * acknowledges. */
static void
test_owner_register(void)
{
  Harness *h = harness_new(ROLE_SHO, NULL);
  owner_register(h, DEV);
  harness_run(h, 2 * OWNER_LEG);
  const Msg *a = harness_last(h, MSG_OWNER_ACK);
  g_assert_nonnull(a);
  g_assert_cmpint(harness_at(h, a), ==, 2 * OWNER_LEG);
  g_assert_cmpuint(a->to, ==, owner());
  g_assert_cmpuint(a->txn, ==, 321);
  g_assert_cmpuint(a->dev, ==, DEV);
  const Msg *r = harness_last(h, MSG_SHO_REGISTER);
  g_assert_nonnull(r);
  g_assert_cmpint(harness_at(h, r), ==, OWNER_LEG + RS_LEG);
  g_assert_cmpuint(r->dev, ==, DEV);
  g_assert_cmpuint(r->pimsi, ==, PIMSI);
  g_assert_cmpuint(r->from, ==, net_addr(ROLE_SHO, 0));
  owner_register(h, DEV);
  harness_run(h, 3 * SIM_S);
  g_assert_cmpuint(harness_count(h, MSG_OWNER_ACK), ==, 2);
  g_assert_cmpuint(harness_count(h, MSG_SHO_REGISTER), ==, 1);
  /* No RS_ACK: again after 5 s, then after 10 s more. */
  harness_run(h, OWNER_LEG + 5 * SIM_S + RS_LEG);
  g_assert_cmpuint(harness_count(h, MSG_SHO_REGISTER), ==, 2);
  g_assert_cmpuint(harness_last(h, MSG_SHO_REGISTER)->txn, ==, r->txn);
  harness_run(h, OWNER_LEG + 15 * SIM_S + RS_LEG - 1);
  g_assert_cmpuint(harness_count(h, MSG_SHO_REGISTER), ==, 2);
  harness_run(h, OWNER_LEG + 15 * SIM_S + RS_LEG);
  g_assert_cmpuint(harness_count(h, MSG_SHO_REGISTER), ==, 3);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.timeouts"), 2, 1e-9);
  /* The RS acknowledges (one copy): no more resends. */
  harness_send(h, net_answer_new(h->w, r, MSG_RS_ACK));
  harness_run(h, 10 * SIM_MIN);
  g_assert_cmpuint(harness_count(h, MSG_SHO_REGISTER), ==, 3);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.timeouts"), 2, 1e-9);
  g_assert_cmpuint(req_live(h->w), ==, 0);
  harness_free(h);
}

static void
test_download_unknown(void)
{
  Harness *h = with_known_device(NULL);
  uint8_t key[32], proof[16];
  k_sho(key, proof);
  SimTime t = harness_now(h);
  download(h, DEV + 1, proof);
  harness_run(h, t + 2 * DEV_LEG);
  const Msg *r = harness_last(h, MSG_DOWNLOAD_REFUSED);
  g_assert_nonnull(r);
  g_assert_cmpint(harness_at(h, r), ==, t + 2 * DEV_LEG);
  g_assert_cmpuint(r->to, ==, net_addr(ROLE_DEV, DEV + 1));
  g_assert_cmpuint(r->seq, ==, SEQ);
  harness_run(h, t + SIM_S);
  g_assert_cmpuint(harness_count(h, MSG_KEY_REQUEST), ==, 0);
  g_assert_cmpuint(harness_count(h, MSG_DOWNLOAD_STARTED), ==, 0);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "sho.refusals"), 1, 1e-9);
  g_assert_cmpuint(idpool_live(h->w->ctx[ROLE_SHO]), ==, 0);
  harness_free(h);
}

/* The key confirms the device's proof: the sealed USIM after download_time. */
static void
test_download(void)
{
  Harness *h = with_known_device(NULL);
  uint8_t key[32], proof[16];
  k_sho(key, proof);
  const Msg *q = download_to_key_request(h, proof);
  SimTime t = harness_now(h);
  send_key(h, q, ST_OK, key);
  harness_run(h, t + RS_LEG + DOWNLOAD_TIME + DEV_LEG - 1);
  g_assert_cmpuint(harness_count(h, MSG_PACKAGE), ==, 0);
  harness_run(h, t + RS_LEG + DOWNLOAD_TIME + DEV_LEG);
  const Msg *p = harness_last(h, MSG_PACKAGE);
  g_assert_nonnull(p);
  assert_package(p, key, 1);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "sho.downloads"), 1, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "sho.refusals"), 0, 1e-9);
  /* A second download: the next MSIN. A second KEY for the first: dropped. */
  send_key(h, q, ST_OK, key);
  q = download_to_key_request(h, proof);
  send_key(h, q, ST_OK, key);
  harness_run(h, harness_now(h) + RS_LEG + DOWNLOAD_TIME + DEV_LEG);
  g_assert_cmpuint(harness_count(h, MSG_PACKAGE), ==, 2);
  assert_package(harness_last(h, MSG_PACKAGE), key, 2);
  g_assert_cmpuint(idpool_live(h->w->ctx[ROLE_SHO]), ==, 0);
  harness_free(h);
}

/* A key whose confirmation is not the device's proof, or the RS's refusal: refused. */
static void
test_key_mismatch(void)
{
  Harness *h = with_known_device(NULL);
  uint8_t key[32], proof[16];
  k_sho(key, proof);
  const Msg *q = download_to_key_request(h, proof);
  key[31] ^= 1;
  SimTime t = harness_now(h);
  send_key(h, q, ST_OK, key);
  harness_run(h, t + RS_LEG + DEV_LEG);
  const Msg *r = harness_last(h, MSG_DOWNLOAD_REFUSED);
  g_assert_nonnull(r);
  g_assert_cmpint(harness_at(h, r), ==, t + RS_LEG + DEV_LEG);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "sho.refusals"), 1, 1e-9);
  key[31] ^= 1;
  q = download_to_key_request(h, proof);
  send_key(h, q, ST_REFUSED, NULL);
  harness_run(h, harness_now(h) + SIM_MIN);
  g_assert_cmpuint(harness_count(h, MSG_DOWNLOAD_REFUSED), ==, 2);
  g_assert_cmpuint(harness_count(h, MSG_PACKAGE), ==, 0);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "sho.refusals"), 2, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "sho.downloads"), 0, 1e-9);
  harness_free(h);
}

/* The RS does not answer the key request: again after 5 s, refused after 10 s more. */
static void
test_key_timeout(void)
{
  Harness *h = with_known_device(NULL);
  uint8_t key[32], proof[16];
  k_sho(key, proof);
  const Msg *q = download_to_key_request(h, proof);
  SimTime sent = harness_at(h, q) - RS_LEG;
  harness_run(h, sent + 5 * SIM_S + RS_LEG);
  g_assert_cmpuint(harness_count(h, MSG_KEY_REQUEST), ==, 2);
  g_assert_cmpuint(harness_last(h, MSG_KEY_REQUEST)->txn, ==, q->txn);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.timeouts"), 1, 1e-9);
  harness_run(h, sent + 15 * SIM_S + DEV_LEG - 1);
  g_assert_cmpuint(harness_count(h, MSG_DOWNLOAD_REFUSED), ==, 0);
  harness_run(h, sent + 15 * SIM_S + DEV_LEG);
  g_assert_cmpuint(harness_count(h, MSG_DOWNLOAD_REFUSED), ==, 1);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.timeouts"), 2, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "sho.refusals"), 1, 1e-9);
  g_assert_cmpuint(harness_count(h, MSG_KEY_REQUEST), ==, 2);
  /* The key after all: dropped. */
  send_key(h, q, ST_OK, key);
  harness_run(h, harness_now(h) + SIM_MIN);
  g_assert_cmpuint(harness_count(h, MSG_PACKAGE), ==, 0);
  g_assert_cmpuint(harness_count(h, MSG_DOWNLOAD_REFUSED), ==, 1);
  harness_free(h);
}

/* The device has its USIM (downloaded as `msin`); returns what the package holds. */
static SealUsim
provisioned(Harness *h)
{
  uint8_t key[32], proof[16];
  k_sho(key, proof);
  send_key(h, download_to_key_request(h, proof), ST_OK, key);
  harness_run(h, harness_now(h) + DOWNLOAD_TIME + SIM_S);
  SealUsim usim;
  assert_package_usim(harness_last(h, MSG_PACKAGE), key, 1, &usim);
  return usim;
}

/* A VO asks the home network for an AV of subscriber `imsi` (device dev) now. */
static void
home_av_request(Harness *h, uint32_t dev, Imsi imsi)
{
  Msg *q = harness_msg(h, MSG_AV_REQUEST, net_addr(ROLE_VO, 0), 0);
  q->dev = dev;
  q->imsi = imsi;
  q->txn = 55;
  q->ctx = 77;
  harness_send(h, q);
}

/* As the home network of the real IMSI: an AV for the USIM it sent (its K and OPc, SQN
 * fresh for a new USIM, RES = XRES), the next one with a higher SQN; nothing for a
 * device it has no subscription for. */
static void
test_home_av(void)
{
  Harness *h = with_known_device(NULL);
  SealUsim usim = provisioned(h);
  AkaKeys keys;
  memcpy(keys.k, usim.k, 16);
  memcpy(keys.opc, usim.opc, 16);
  AkaConfig cfg;
  aka_config_init(&cfg); /* IND 5 bits, as the harness's world */
  AkaUsim card;
  aka_usim_init(&card);
  for (int i = 0; i < 2; i++) {
    SimTime t = harness_now(h);
    home_av_request(h, DEV, usim.imsi);
    harness_run(h, t + 2 * DEV_LEG);
    const Msg *a = harness_last(h, MSG_AV_ANSWER);
    g_assert_nonnull(a);
    g_assert_cmpint(harness_at(h, a), ==, t + 2 * DEV_LEG);
    g_assert_cmpuint(a->to, ==, net_addr(ROLE_VO, 0));
    g_assert_cmpuint(a->txn, ==, 55);
    g_assert_cmpuint(a->ctx, ==, 77);
    g_assert_cmpint(a->status, ==, ST_OK);
    const AkaVector *av = harness_batch(h, a);
    g_assert_nonnull(av);
    AkaUsimAnswer ans;
    g_assert_cmpint(aka_usim_check(&cfg, NULL, &keys, &card, av->rand, av->autn, &ans), ==, AKA_OK);
    g_assert_cmpmem(ans.res, MIL_MAC_LEN, av->xres, MIL_MAC_LEN);
    g_assert_cmpmem(ans.ck, 16, av->ck, 16);
  }
  g_assert_cmpuint(card.sqn_ms >> 5, ==, 2); /* SEQ 1, then 2 */
  home_av_request(h, DEV + 1, usim.imsi);
  harness_run(h, harness_now(h) + 2 * DEV_LEG);
  g_assert_cmpint(harness_last(h, MSG_AV_ANSWER)->status, ==, ST_REFUSED);
  harness_free(h);
}

/* The VO's location update for the real IMSI: acknowledged every time, the PIMSI's
 * release at the RS once, resent until the RS acknowledges. */
static void
test_update_location(void)
{
  Harness *h = with_known_device(NULL);
  (void)provisioned(h);
  SimTime t0 = harness_now(h);
  for (int i = 0; i < 2; i++) {
    Msg *u = harness_msg(h, MSG_UPDATE_LOCATION, net_addr(ROLE_VO, 0), 0);
    u->dev = DEV;
    u->pimsi = PIMSI;
    u->txn = 66 + (uint64_t)i;
    harness_send(h, u);
    harness_run(h, harness_now(h) + 2 * DEV_LEG);
    g_assert_cmpuint(harness_count(h, MSG_LOCATION_ACK), ==, (guint)i + 1);
    g_assert_cmpuint(harness_last(h, MSG_LOCATION_ACK)->txn, ==, 66 + (uint64_t)i);
  }
  const Msg *r = harness_last(h, MSG_RELEASE);
  g_assert_nonnull(r);
  g_assert_cmpint(harness_at(h, r), ==, t0 + DEV_LEG + RS_LEG);
  g_assert_cmpuint(r->dev, ==, DEV);
  g_assert_cmpuint(r->pimsi, ==, PIMSI);
  g_assert_cmpuint(r->to, ==, net_addr(ROLE_RS, 0));
  harness_run(h, t0 + DEV_LEG + 5 * SIM_S + RS_LEG);
  g_assert_cmpuint(harness_count(h, MSG_RELEASE), ==, 2);
  harness_send(h, net_answer_new(h->w, r, MSG_RS_ACK));
  harness_run(h, harness_now(h) + SIM_H);
  g_assert_cmpuint(harness_count(h, MSG_RELEASE), ==, 2);
  harness_free(h);
}

/* authenticate: aka: after the key an AV from the RS, the SHO's challenge to the device;
 * returns the challenge, with the AV the RS sent in *av. */
static const Msg *
aka_challenge(Harness *h, AkaVector *av, uint8_t key[32])
{
  uint8_t proof[16];
  k_sho(key, proof);
  const Msg *q = download_to_key_request(h, proof);
  SimTime t = harness_now(h);
  send_key(h, q, ST_OK, key);
  harness_run(h, t + 2 * RS_LEG);
  const Msg *r = harness_last(h, MSG_AV_REQUEST);
  g_assert_nonnull(r);
  g_assert_cmpint(harness_at(h, r), ==, t + 2 * RS_LEG);
  g_assert_cmpuint(r->dev, ==, DEV);
  g_assert_cmpuint(r->pimsi, ==, PIMSI);
  g_assert_cmpuint(r->status, ==, ST_OK);
  g_assert_cmpuint(r->ctx, ==, q->ctx);
  g_assert_cmpuint(harness_count(h, MSG_PACKAGE), ==, 0);
  AkaKeys keys;
  harness_keys(&keys);
  g_assert_cmpint(aka_av_build(NULL, &keys, dl_rand, (4u << 5) | 2, 0, av), ==, AKA_OK);
  Msg *a = net_answer_new(h->w, r, MSG_AV_ANSWER);
  a->batch = harness_batch_new(h, av, 1);
  t = harness_now(h);
  harness_send(h, a);
  harness_run(h, t + RS_LEG + DEV_LEG);
  const Msg *c = harness_last(h, MSG_SHO_CHALLENGE);
  g_assert_nonnull(c);
  g_assert_cmpint(harness_at(h, c), ==, t + RS_LEG + DEV_LEG);
  g_assert_cmpuint(c->to, ==, device());
  g_assert_cmpuint(c->seq, ==, SEQ);
  g_assert_cmpuint(c->ctx, ==, q->ctx);
  g_assert_cmpmem(c->u.chal.rand, 16, av->rand, 16);
  g_assert_cmpmem(c->u.chal.autn, AKA_AUTN_LEN, av->autn, AKA_AUTN_LEN);
  g_assert_cmpuint(idpool_live(h->w->batches), ==, 0);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "sho.av_requests"), 1, 1e-9);
  return c;
}

static void
sho_auth_answer(Harness *h, const Msg *c, MsgStatus status, const uint8_t *res)
{
  Msg *m = harness_msg(h, MSG_SHO_AUTH_ANSWER, device(), 0);
  m->dev = DEV;
  m->seq = c->seq;
  m->ctx = c->ctx;
  m->via = 0;
  m->status = (uint8_t)status;
  if (res != NULL)
    memcpy(m->u.chal.res, res, MIL_MAC_LEN);
  harness_send(h, m);
}

static const char *const aka_sets[] = {"home_operators.0.authenticate=aka", NULL};

/* The device's RES is the AV's XRES: the download goes on after auth_time. */
static void
test_aka_ok(void)
{
  Harness *h = with_known_device(aka_sets);
  AkaVector av;
  uint8_t key[32];
  const Msg *c = aka_challenge(h, &av, key);
  SimTime t = harness_now(h);
  sho_auth_answer(h, c, ST_OK, av.xres);
  harness_run(h, t + DEV_LEG + AUTH_TIME + DOWNLOAD_TIME + DEV_LEG);
  const Msg *p = harness_last(h, MSG_PACKAGE);
  g_assert_nonnull(p);
  g_assert_cmpint(harness_at(h, p), ==, t + DEV_LEG + AUTH_TIME + DOWNLOAD_TIME + DEV_LEG);
  assert_package(p, key, 1);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "sho.auth_ok"), 1, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "sho.auth_failures"), 0, 1e-9);
  /* A second answer to the same challenge: dropped. */
  sho_auth_answer(h, c, ST_OK, av.xres);
  harness_run(h, harness_now(h) + SIM_MIN);
  g_assert_cmpuint(harness_count(h, MSG_PACKAGE), ==, 1);
  g_assert_cmpuint(harness_count(h, MSG_DOWNLOAD_REFUSED), ==, 0);
  harness_free(h);
}

/* A wrong RES, or the device's own failure: refused after auth_time. */
static void
test_aka_wrong_res(void)
{
  Harness *h = with_known_device(aka_sets);
  AkaVector av;
  uint8_t key[32];
  const Msg *c = aka_challenge(h, &av, key);
  av.xres[3] ^= 0x10;
  SimTime t = harness_now(h);
  sho_auth_answer(h, c, ST_OK, av.xres);
  harness_run(h, t + DEV_LEG + AUTH_TIME + DEV_LEG);
  const Msg *r = harness_last(h, MSG_DOWNLOAD_REFUSED);
  g_assert_nonnull(r);
  g_assert_cmpint(harness_at(h, r), ==, t + DEV_LEG + AUTH_TIME + DEV_LEG);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "sho.auth_failures"), 1, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "sho.refusals"), 1, 1e-9);
  /* Again; the device reports a MAC failure (with the right RES bytes: the status counts). */
  av.xres[3] ^= 0x10;
  harness_free(h);
  h = with_known_device(aka_sets);
  c = aka_challenge(h, &av, key);
  sho_auth_answer(h, c, ST_MAC_FAILURE, av.xres);
  harness_run(h, harness_now(h) + SIM_MIN);
  g_assert_cmpuint(harness_count(h, MSG_DOWNLOAD_REFUSED), ==, 1);
  g_assert_cmpuint(harness_count(h, MSG_PACKAGE), ==, 0);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "sho.auth_failures"), 1, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "sho.auth_ok"), 0, 1e-9);
  harness_free(h);
}

/* The device does not answer the SHO's challenge: refused after request_timeout, not an
 * authentication failure; the RS refusing the AV: refused. */
static void
test_aka_no_answer(void)
{
  Harness *h = with_known_device(aka_sets);
  AkaVector av;
  uint8_t key[32];
  const Msg *c = aka_challenge(h, &av, key);
  SimTime sent = harness_at(h, c) - DEV_LEG;
  harness_run(h, sent + 5 * SIM_S + DEV_LEG);
  g_assert_cmpuint(harness_count(h, MSG_DOWNLOAD_REFUSED), ==, 1);
  g_assert_cmpint(harness_at(h, harness_last(h, MSG_DOWNLOAD_REFUSED)), ==,
                  sent + 5 * SIM_S + DEV_LEG);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "sho.auth_failures"), 0, 1e-9);
  /* A late answer: dropped. */
  sho_auth_answer(h, c, ST_OK, av.xres);
  harness_run(h, harness_now(h) + SIM_MIN);
  g_assert_cmpuint(harness_count(h, MSG_PACKAGE), ==, 0);
  g_assert_cmpuint(harness_count(h, MSG_DOWNLOAD_REFUSED), ==, 1);
  /* The AV refused by the RS. */
  uint8_t proof[16];
  k_sho(key, proof);
  const Msg *q = download_to_key_request(h, proof);
  send_key(h, q, ST_OK, key);
  harness_run(h, harness_now(h) + 2 * RS_LEG);
  const Msg *r = harness_last(h, MSG_AV_REQUEST);
  Msg *a = net_answer_new(h->w, r, MSG_AV_ANSWER);
  a->status = ST_REFUSED;
  harness_send(h, a);
  harness_run(h, harness_now(h) + SIM_S);
  g_assert_cmpuint(harness_count(h, MSG_DOWNLOAD_REFUSED), ==, 2);
  g_assert_cmpuint(harness_count(h, MSG_SHO_CHALLENGE), ==, 1);
  harness_free(h);
}

/* sho-a down from 10 s to 20 s: what arrives is lost (an owner's registration: no ack;
 * a location update: nothing released, the VO resends it); a download under way
 * completes. */
static void
test_outage(void)
{
  const char *sets[] = {"faults=[{at: 10s, target: sho-a, down_for: 10s}]", NULL};
  Harness *h = with_known_device(sets);
  uint8_t key[32], proof[16];
  k_sho(key, proof);
  harness_run(h, 5 * SIM_S);
  send_key(h, download_to_key_request(h, proof), ST_OK, key); /* downloading until 25.x s */
  harness_run(h, 11 * SIM_S);
  owner_register(h, DEV + 1);
  Msg *m = harness_msg(h, MSG_UPDATE_LOCATION, net_addr(ROLE_VO, 0), 0);
  m->dev = DEV;
  m->pimsi = PIMSI;
  harness_send(h, m);
  harness_run(h, 19 * SIM_S);
  g_assert_cmpuint(harness_count(h, MSG_OWNER_ACK), ==, 1);
  g_assert_cmpuint(harness_count(h, MSG_RELEASE), ==, 0);
  g_assert_cmpuint(harness_count(h, MSG_LOCATION_ACK), ==, 0);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "sho.dropped"), 2, 1e-9);
  g_assert_cmpfloat_with_epsilon(harness_figure(h, "rs.pimsi.orphaned"), 0, 1e-9);
  harness_run(h, 30 * SIM_S);
  const Msg *p = harness_last(h, MSG_PACKAGE);
  g_assert_nonnull(p);
  assert_package(p, key, 1);
  harness_free(h);
}

/* The RS answers the key request with an AV answer: KEY does not accept it. */
static void
test_refused_event(void)
{
  if (g_test_subprocess()) {
    Harness *h = with_known_device(NULL);
    uint8_t key[32], proof[16];
    k_sho(key, proof);
    const Msg *q = download_to_key_request(h, proof);
    harness_send(h, net_answer_new(h->w, q, MSG_AV_ANSWER));
    harness_run(h, harness_now(h) + SIM_S);
    return;
  }
  g_test_trap_subprocess(NULL, 0, 0);
  g_test_trap_assert_failed();
  g_test_trap_assert_stderr("*HomeOperator(0){KEY}: event AV_ANSWER not accepted*");
}

int
main(int argc, char **argv)
{
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sho/owner-register", test_owner_register);
  g_test_add_func("/sho/download-unknown", test_download_unknown);
  g_test_add_func("/sho/download", test_download);
  g_test_add_func("/sho/key-mismatch", test_key_mismatch);
  g_test_add_func("/sho/key-timeout", test_key_timeout);
  g_test_add_func("/sho/home-av", test_home_av);
  g_test_add_func("/sho/update-location", test_update_location);
  g_test_add_func("/sho/aka-ok", test_aka_ok);
  g_test_add_func("/sho/aka-wrong-res", test_aka_wrong_res);
  g_test_add_func("/sho/aka-no-answer", test_aka_no_answer);
  g_test_add_func("/sho/outage", test_outage);
  g_test_add_func("/sho/refused-event", test_refused_event);
  return g_test_run();
}
