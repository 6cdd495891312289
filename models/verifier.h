/* The certificate verifier a visited or home operator keeps (cert.h): the RS's trust
 * bundle (root + CRL) fetched over the operator's link to the RS and cached for
 * ca_cache_lifetime, and the check of a device's certificate and proof against it at
 * simulated time. One fetch in flight at most; contexts that need the bundle meanwhile
 * wait and are all released by the answer, or by the give-up after two unanswered
 * fetches of request_timeout each (they then find no verifier and refuse). */
#pragma once

#include "m2m/cert.h"
#include "msg.h"
#include "world-internal.h"

typedef struct Verifier Verifier;

/* The verifier of operator `owner` (a VO or SHO address); `ready` runs (arg = the waiting
 * context) when a context it was asked for may go on. Registers the cert.* check figures. */
Verifier *verifier_new(World *w, NetAddr owner, SimHandler ready);
void verifier_free(Verifier *v);

/* Context `ctx` needs the bundle: ready runs at once (as an event) if the cached one is
 * fresh, else after a fetch (a MSG_CA_FETCH request of the owner). */
void verifier_need(World *w, Verifier *v, PoolId ctx);

/* True while a fresh bundle is held. */
bool verifier_ready(World *w, const Verifier *v);

/* The owner's fetch timed out (its req_timeout): counted in rs.timeouts; given up, the
 * waiting contexts are released without a bundle. */
void verifier_fetch_timeout(World *w, Verifier *v, bool give_up);

/* The RS's MSG_CA_BUNDLE arrived at the owner. */
void verifier_bundle_arrived(World *w, Verifier *v, Msg *m);

/* Checks the certificate and proof a device sent (made for nonce and the owner's name as
 * context) at the current simulated time; NULL proof: CERT_BAD_ENCODING. Counted in
 * cert.verifications, cert.accepted and cert.refused_*. Needs verifier_ready. */
CertStatus verifier_check(World *w, Verifier *v, const MsgCert *proof,
                          const uint8_t nonce[CERT_NONCE_LEN], const char *context);
