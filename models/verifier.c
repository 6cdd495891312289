/* The operators' certificate verifier (see verifier.h). */
#include "verifier.h"

#include <string.h>

#include "net.h"
#include "req.h"

/* A fetch of the trust bundle: request_timeout each, given up after two. */
static const ReqPolicy fetch_policy = {"trust bundle fetch", 2, false};

/* What the verifiers count (each operator's under the same names: they add up). */
typedef struct {
  uint64_t verifications, accepted, refused_expired, refused_revoked, refused_signature;
  uint64_t refused_other, rs_timeouts;
} VerifierFigures;

#define VERIFIER_FIGURES                                                                           \
  "cert.verifications cert.accepted cert.refused_expired cert.refused_revoked "                    \
  "cert.refused_signature cert.refused_other cert.bundle_timeouts"

struct Verifier {
  VerifierFigures fig;
  NetAddr owner;
  SimHandler ready;
  CertVerifier *v;
  SimTime until;   /* the bundle is fresh before this time */
  bool fetching;   /* a fetch is in flight */
  GArray *waiting; /* PoolIds of contexts waiting for the bundle */
};

Verifier *
verifier_new(World *w, NetAddr owner, SimHandler ready)
{
  Verifier *v = g_new0(Verifier, 1);
  v->owner = owner;
  v->ready = ready;
  v->waiting = g_array_new(FALSE, FALSE, sizeof(PoolId));
  stat_registry_counter_fields(w->figs, VERIFIER_FIGURES, &v->fig, sizeof v->fig);
  stat_registry_counter(w->figs, "rs.timeouts", &v->fig.rs_timeouts); /* the sum of every requester */
  return v;
}

void
verifier_free(Verifier *v)
{
  if (v != NULL) { /* NULL: the operator checks no certificates */
    cert_verifier_free(v->v);
    g_array_unref(v->waiting);
    g_free(v);
  }
}

bool
verifier_ready(World *w, const Verifier *v)
{
  return v->v != NULL && w_now(w) < v->until;
}

/* Releases every waiting context to the ready handler. */
static void
release_waiting(World *w, Verifier *v)
{
  for (guint i = 0; i < v->waiting->len; i++)
    w_after(w, 0, v->ready, g_array_index(v->waiting, PoolId, i));
  g_array_set_size(v->waiting, 0);
  v->fetching = false;
}

void
verifier_need(World *w, Verifier *v, PoolId ctx)
{
  if (verifier_ready(w, v)) {
    w_after(w, 0, v->ready, ctx);
    return;
  }
  g_array_append_val(v->waiting, ctx);
  if (v->fetching)
    return;
  v->fetching = true;
  req_send(w, &fetch_policy, net_msg_new(w, MSG_CA_FETCH, v->owner, net_addr(ROLE_RS, 0)), 0);
}

void
verifier_fetch_timeout(World *w, Verifier *v, bool give_up)
{
  v->fig.rs_timeouts++;
  if (give_up)
    release_waiting(w, v);
}

void
verifier_bundle_arrived(World *w, Verifier *v, Msg *m)
{
  if (!req_done(w, m->txn))
    return; /* the fetch was given up; its answer is late */
  gsize len = 0;
  const uint8_t *bundle = g_bytes_get_data(m->blob, &len);
  CertStatus st = CERT_OK;
  CertVerifier *cv = cert_verifier_new(bundle, len, &st);
  if (cv == NULL)
    g_error("the RS's trust bundle does not load: %s", cert_status_name(st));
  cert_verifier_free(v->v);
  v->v = cv;
  v->until = w_now(w) + w->cfg->registration_service.ca_cache_lifetime;
  release_waiting(w, v);
}

CertStatus
verifier_check(World *w, Verifier *v, const MsgCert *p, const uint8_t nonce[CERT_NONCE_LEN],
               const char *context)
{
  g_assert(v->v != NULL);
  v->fig.verifications++;
  CertStatus st = CERT_BAD_ENCODING;
  int64_t t0 = w_crypto_begin(w);
  if (p != NULL)
    st = cert_verifier_check(v->v, p->der, p->der_len, &p->proof, nonce, context, strlen(context),
                             w_now(w) / SIM_S);
  w_crypto_end(w, t0);
  uint64_t *n = st == CERT_OK              ? &v->fig.accepted
                : st == CERT_EXPIRED       ? &v->fig.refused_expired
                : st == CERT_REVOKED       ? &v->fig.refused_revoked
                : st == CERT_BAD_SIGNATURE ? &v->fig.refused_signature
                                           : &v->fig.refused_other;
  (*n)++;
  return st;
}
