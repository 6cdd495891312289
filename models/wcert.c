/* Certificates in the world (see wcert.h).
 *
 * Seeds: the CA's seed and a device master secret come from the DRBG at setup; a device's
 * seeds are KDF(master secret, "dev" || id || purpose), so its key pair does not depend on
 * when (or whether) other devices made theirs. Ephemeral keys come from the DRBG at the
 * moment of the proof, in event order, which is deterministic.
 *
 * Trust caches: one fetch in flight per trust at most; contexts that need the bundle
 * meanwhile wait in a list and are all released by the answer (or by the give-up after
 * WC_FETCH_TRIES unanswered fetches of request_timeout each). */
#include "wcert.h"

#include <openssl/crypto.h>
#include <string.h>

#include "m2m/kdf.h"
#include "net.h"
#include "req.h"
#include "wrand.h"

/* A fetch of the trust bundle: request_timeout each, given up after two. */
static const ReqPolicy fetch_policy = {"trust bundle fetch", 2, false};

typedef struct {
  CertProof proof;
  uint8_t nonce[CERT_NONCE_LEN];
  char context[CERT_MAX_CONTEXT_LEN + 1];
} WcProof;

typedef struct {
  CertDevice *cred;
  WcProof attach; /* the proof made at the last VO challenge (checked again by the RS) */
  WcProof last;   /* the last proof made, for any verifier */
  uint8_t rs_master[CERT_MASTER_LEN];
  bool rs_ok; /* rs_master holds the master of an accepted proof */
} WcDevice;

typedef struct {
  CertVerifier *v;
  SimTime until;   /* the bundle is fresh before this time */
  bool fetching;   /* a fetch is in flight */
  GArray *waiting; /* PoolIds of contexts waiting for the bundle */
  SimHandler ready;
} WcTrust;

/* What the certificate side counts (reported only when certificates are in use). */
typedef struct {
  uint64_t issued, revoked, verifications, accepted, refused_expired, refused_revoked;
  uint64_t refused_signature, refused_other, ca_fetches, rs_accepts, rs_refusals, rs_timeouts;
  double issue_wall_s; /* wall time spent issuing device credentials (lazily) */
} WcFigures;

static const StatCounterDef wc_counters[] = {
    {"cert.issued", offsetof(WcFigures, issued)},
    {"cert.revoked", offsetof(WcFigures, revoked)},
    {"cert.verifications", offsetof(WcFigures, verifications)},
    {"cert.accepted", offsetof(WcFigures, accepted)},
    {"cert.refused_expired", offsetof(WcFigures, refused_expired)},
    {"cert.refused_revoked", offsetof(WcFigures, refused_revoked)},
    {"cert.refused_signature", offsetof(WcFigures, refused_signature)},
    {"cert.refused_other", offsetof(WcFigures, refused_other)},
    {"rs.ca_fetches", offsetof(WcFigures, ca_fetches)},
    {"rs.cert_accepts", offsetof(WcFigures, rs_accepts)},
    {"rs.cert_refusals", offsetof(WcFigures, rs_refusals)},
    {"rs.timeouts", offsetof(WcFigures, rs_timeouts)},
};

static double
issue_wall_s(void *ctx)
{
  return ((const WcFigures *)ctx)->issue_wall_s;
}

struct WCert {
  WcFigures fig;
  CertCa *ca;
  uint8_t dev_secret[32]; /* per-device seeds derive from it */
  GHashTable *devs;       /* device id -> WcDevice */
  WcTrust *trust;         /* n_vo + n_sho */
  size_t n_trust;
  WRng r_revoke;
  /* What the CA recorded at each device's registration: its certificate's subject (the
   * PIMSI) and the start of its validity. */
  Imsi *subject;
  SimTime *issued_at;
  uint64_t n_dev;
};

static int64_t
cert_now(const World *w)
{
  return (int64_t)(w_now(w) / SIM_S);
}

static void
wc_device_free(gpointer p)
{
  WcDevice *d = p;
  cert_device_free(d->cred);
  OPENSSL_cleanse(d, sizeof *d);
  g_free(d);
}

static bool
uses_certificates(const ScnConfig *cfg)
{
  if (cfg->registration_service.auth == SCN_AUTH_CERTIFICATE)
    return true;
  for (size_t i = 0; i < cfg->n_home_operators; i++)
    if (cfg->home_operators[i].authenticate == SCN_SHO_AUTH_CERTIFICATE)
      return true;
  return false;
}

WCert *
wcert_new(World *w, GError **error)
{
  const ScnRegistrationService *rs = &w->cfg->registration_service;
  if (!uses_certificates(w->cfg))
    return NULL;
  WCert *c = g_new0(WCert, 1);
  uint8_t seed[CERT_SEED_LEN];
  w_random(w, seed, sizeof seed);
  w_random(w, c->dev_secret, sizeof c->dev_secret);
  CertAlg alg = rs->cert_algorithm == SCN_CERT_ED25519 ? CERT_ED25519 : CERT_ECDSA_P256;
  /* The root outlives every device certificate of the run. */
  int64_t life = (int64_t)((w->cfg->duration + rs->cert_lifetime) / SIM_S) + 86400;
  c->ca = cert_ca_new(alg, "m2m registration service", seed, 0, life);
  OPENSSL_cleanse(seed, sizeof seed);
  if (c->ca == NULL) {
    g_set_error(error, WORLD_ERROR, WORLD_ERROR_SETUP,
                "cannot create the RS's certificate "
                "authority (OpenSSL failed)");
    wcert_free(c);
    return NULL;
  }
  c->devs = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, wc_device_free);
  c->n_trust = w->n_vo + w->n_sho;
  c->trust = g_new0(WcTrust, c->n_trust);
  for (size_t i = 0; i < c->n_trust; i++)
    c->trust[i].waiting = g_array_new(FALSE, FALSE, sizeof(PoolId));
  wrng_init(&c->r_revoke, w->seed, WR_RS, 0, 3);
  c->subject = w_big_new0(w->total_devices, sizeof(Imsi));
  c->issued_at = w_big_new0(w->total_devices, sizeof(SimTime));
  if (c->subject == NULL || c->issued_at == NULL) {
    g_set_error(error, WORLD_ERROR, WORLD_ERROR_SETUP, "cannot allocate certificate records");
    wcert_free(c);
    return NULL;
  }
  c->n_dev = w->total_devices;
  stat_registry_counters(w->figs, wc_counters, G_N_ELEMENTS(wc_counters), &c->fig);
  stat_registry_value(w->figs, "cert.issue_wall_s", issue_wall_s, &c->fig);
  return c;
}

void
wcert_free(WCert *c)
{
  if (c == NULL)
    return;
  for (size_t i = 0; i < c->n_trust; i++) {
    cert_verifier_free(c->trust[i].v);
    g_array_unref(c->trust[i].waiting);
  }
  w_big_free(c->subject, c->n_dev, sizeof(Imsi));
  w_big_free(c->issued_at, c->n_dev, sizeof(SimTime));
  g_free(c->trust);
  if (c->devs)
    g_hash_table_unref(c->devs);
  cert_ca_free(c->ca);
  OPENSSL_cleanse(c->dev_secret, sizeof c->dev_secret);
  g_free(c);
}

uint32_t
wcert_sho_trust(const World *w, uint32_t sho)
{
  return (uint32_t)w->n_vo + sho;
}

static uint64_t
serial_of(uint32_t dev)
{
  return (uint64_t)dev + 1;
}

/* ---- the RS ------------------------------------------------------------------------- */

void
wcert_on_registered(World *w, uint32_t dev, Imsi pimsi)
{
  WCert *c = w->cert;
  if (c == NULL)
    return;
  g_assert(dev < c->n_dev);
  c->subject[dev] = pimsi;
  c->issued_at[dev] = w_now(w);
  double f = w->cfg->registration_service.revoked_fraction;
  if (!(f > 0) || wrng_u01(&c->r_revoke) >= f)
    return;
  cert_ca_revoke(c->ca, serial_of(dev), cert_now(w));
  w->cert->fig.revoked++;
}

GBytes *
wcert_bundle(World *w)
{
  size_t len = 0;
  const uint8_t *bundle = cert_ca_bundle(w->cert->ca, cert_now(w), &len);
  if (bundle == NULL)
    g_error("cert_ca_bundle failed");
  w->cert->fig.ca_fetches++;
  return g_bytes_new(bundle, len);
}

CertStatus
wcert_rs_accept(World *w, uint32_t dev, const uint8_t nonce[CERT_NONCE_LEN], const char *context,
                uint8_t master[CERT_MASTER_LEN])
{
  WCert *c = w->cert;
  WcDevice *d = g_hash_table_lookup(c->devs, GUINT_TO_POINTER(dev));
  memset(master, 0, CERT_MASTER_LEN);
  if (d == NULL || d->cred == NULL)
    return CERT_BAD_ENCODING; /* the device never showed a certificate */
  size_t len = 0;
  const uint8_t *der = cert_device_der(d->cred, &len);
  CertStatus st = cert_ca_accept(c->ca, der, len, &d->attach.proof, nonce, context, strlen(context),
                                 cert_now(w), master);
  if (st == CERT_OK) {
    w->cert->fig.rs_accepts++;
    memcpy(d->rs_master, master, CERT_MASTER_LEN);
    d->rs_ok = true;
  } else {
    w->cert->fig.rs_refusals++;
  }
  return st;
}

bool
wcert_rs_master(World *w, uint32_t dev, uint8_t master[CERT_MASTER_LEN])
{
  WcDevice *d = w->cert ? g_hash_table_lookup(w->cert->devs, GUINT_TO_POINTER(dev)) : NULL;
  if (d == NULL || !d->rs_ok)
    return false;
  memcpy(master, d->rs_master, CERT_MASTER_LEN);
  return true;
}

/* ---- devices ------------------------------------------------------------------------- */

static void
device_seed(const WCert *c, uint32_t dev, uint8_t purpose, uint8_t out[CERT_SEED_LEN])
{
  static const char label[] = "m2m-device-seed";
  uint8_t id[4] = {(uint8_t)(dev >> 24), (uint8_t)(dev >> 16), (uint8_t)(dev >> 8), (uint8_t)dev};
  KdfParam p[3] = {{label, sizeof label - 1}, {id, sizeof id}, {&purpose, 1}};
  G_STATIC_ASSERT(CERT_SEED_LEN == KDF_OUT_LEN);
  /* FC of the session master: the label keeps the two derivations apart. */
  if (!kdf(c->dev_secret, sizeof c->dev_secret, KDF_FC_M2M_CERT, p, 3, out))
    g_error("device seed derivation failed");
}

static WcDevice *
device_entry(World *w, uint32_t dev, bool wrong)
{
  WCert *c = w->cert;
  WcDevice *d = g_hash_table_lookup(c->devs, GUINT_TO_POINTER(dev));
  if (d != NULL)
    return d;
  d = g_new0(WcDevice, 1);
  const ScnRegistrationService *cfg = &w->cfg->registration_service;
  char subject[IMSI_STR_LEN + 1];
  imsi_format(c->subject[dev], subject);
  int64_t from = (int64_t)(c->issued_at[dev] / SIM_S);
  int64_t life = (int64_t)(cfg->cert_lifetime / SIM_S);
  uint8_t seed[CERT_SEED_LEN], other[CERT_SEED_LEN];
  device_seed(c, dev, 1, seed);
  gint64 t0 = g_get_monotonic_time();
  if (wrong) {
    device_seed(c, dev, 2, other);
    d->cred = cert_device_new_mismatched(c->ca, seed, other, serial_of(dev), subject, from, life);
  } else {
    d->cred = cert_device_new(c->ca, seed, serial_of(dev), subject, from, life);
  }
  w->cert->fig.issue_wall_s += (double)(g_get_monotonic_time() - t0) / 1e6;
  OPENSSL_cleanse(seed, sizeof seed);
  OPENSSL_cleanse(other, sizeof other);
  if (d->cred == NULL)
    g_error("cannot issue a device certificate (OpenSSL failed)");
  w->cert->fig.issued++;
  g_hash_table_insert(c->devs, GUINT_TO_POINTER(dev), d);
  return d;
}

void
wcert_prove(World *w, uint32_t dev, bool wrong, const uint8_t nonce[CERT_NONCE_LEN],
            const char *context, bool keep, uint8_t master[CERT_MASTER_LEN])
{
  WcDevice *d = device_entry(w, dev, wrong);
  size_t clen = strlen(context);
  g_assert(clen <= CERT_MAX_CONTEXT_LEN);
  uint8_t eph[CERT_SEED_LEN];
  w_random(w, eph, sizeof eph);
  WcProof *p = &d->last;
  memcpy(p->nonce, nonce, CERT_NONCE_LEN);
  memcpy(p->context, context, clen + 1);
  CertStatus st =
      cert_device_prove(d->cred, w->cert->ca, nonce, context, clen, eph, &p->proof, master);
  OPENSSL_cleanse(eph, sizeof eph);
  if (st != CERT_OK)
    g_error("device proof failed: %s", cert_status_name(st));
  if (keep)
    d->attach = d->last;
}

void
wcert_forget(World *w, uint32_t dev)
{
  if (w->cert)
    g_hash_table_remove(w->cert->devs, GUINT_TO_POINTER(dev));
}

/* ---- verifiers ------------------------------------------------------------------------ */

void
wcert_set_ready(World *w, uint32_t trust, SimHandler ready)
{
  w->cert->trust[trust].ready = ready;
}

bool
wcert_has_verifier(World *w, uint32_t trust)
{
  WcTrust *t = &w->cert->trust[trust];
  return t->v != NULL && w_now(w) < t->until;
}

/* The address a trust fetches from: visited operator i, or home operator i - n_vo. */
static NetAddr
trust_addr(const World *w, uint32_t trust)
{
  return trust < w->n_vo ? net_addr(ROLE_VO, trust) : net_addr(ROLE_SHO, trust - (uint32_t)w->n_vo);
}

/* Releases every waiting context to the trust's ready handler. */
static void
release_waiting(World *w, WcTrust *t)
{
  for (guint i = 0; i < t->waiting->len; i++)
    w_after(w, 0, t->ready, g_array_index(t->waiting, PoolId, i));
  g_array_set_size(t->waiting, 0);
  t->fetching = false;
}

void
wcert_need_verifier(World *w, uint32_t trust, PoolId ctx)
{
  WcTrust *t = &w->cert->trust[trust];
  if (wcert_has_verifier(w, trust)) {
    w_after(w, 0, t->ready, ctx);
    return;
  }
  g_array_append_val(t->waiting, ctx);
  if (t->fetching)
    return;
  t->fetching = true;
  Msg *m = net_msg_new(w, MSG_CA_FETCH, trust_addr(w, trust), net_addr(ROLE_RS, 0));
  req_send(w, &fetch_policy, m, trust);
}

void
wcert_fetch_timeout(World *w, uint32_t trust, bool give_up)
{
  w->cert->fig.rs_timeouts++;
  /* Given up: the waiting contexts find no fresh verifier and refuse (a network
   * failure). */
  if (give_up)
    release_waiting(w, &w->cert->trust[trust]);
}

void
wcert_bundle_arrived(World *w, uint32_t trust, Msg *m)
{
  if (!req_done(w, m->txn))
    return; /* the fetch was given up; its answer is late */
  WcTrust *t = &w->cert->trust[trust];
  gsize len = 0;
  const uint8_t *bundle = g_bytes_get_data(m->blob, &len);
  CertStatus st = CERT_OK;
  CertVerifier *v = cert_verifier_new(bundle, len, &st);
  if (v == NULL)
    g_error("the RS's trust bundle does not load: %s", cert_status_name(st));
  cert_verifier_free(t->v);
  t->v = v;
  t->until = w_now(w) + w->cfg->registration_service.ca_cache_lifetime;
  release_waiting(w, t);
}

CertStatus
wcert_check_last(World *w, uint32_t trust, uint32_t dev, const uint8_t nonce[CERT_NONCE_LEN],
                 const char *context)
{
  WCert *c = w->cert;
  WcTrust *t = &c->trust[trust];
  WcDevice *d = g_hash_table_lookup(c->devs, GUINT_TO_POINTER(dev));
  g_assert(t->v != NULL);
  w->cert->fig.verifications++;
  CertStatus st = CERT_BAD_ENCODING;
  if (d != NULL && d->cred != NULL) {
    size_t len = 0;
    const uint8_t *der = cert_device_der(d->cred, &len);
    st = cert_verifier_check(t->v, der, len, &d->last.proof, nonce, context, strlen(context),
                             cert_now(w));
  }
  switch (st) {
  case CERT_OK:
    w->cert->fig.accepted++;
    break;
  case CERT_EXPIRED:
    w->cert->fig.refused_expired++;
    break;
  case CERT_REVOKED:
    w->cert->fig.refused_revoked++;
    break;
  case CERT_BAD_SIGNATURE:
    w->cert->fig.refused_signature++;
    break;
  default:
    w->cert->fig.refused_other++;
    break;
  }
  return st;
}
