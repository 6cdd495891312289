/* Certificates in the world (cert.h): the RS as certificate authority, device
 * credentials made lazily, and the trust bundle (root + CRL) that each visited operator
 * and each home operator fetches from the RS and keeps for ca_cache_lifetime.
 *
 * Present only when something uses certificates (registration_service.auth: certificate,
 * or an SHO with authenticate: certificate); w->cert is NULL otherwise.
 *
 * Device credentials. On paper the equipment gets its key pair and certificate at
 * manufacture; here they are made when the device first needs them (its first
 * challenge), from a per-device seed, with the validity starting at the PIMSI's
 * allocation. The outcome is the same certificate, and equipment that never powers on
 * costs nothing: a million key pairs up front would dominate a run (cert.issue_wall_s
 * says what the lazy ones cost). Credentials are dropped once the device has its real
 * USIM or gives up.
 *
 * What travels by reference: the certificate and the proof a device shows at attach stay
 * in its entry here (a few hundred octets, too big for a Msg record); the VO and the RS
 * read them from there, as if from the messages that carried them.
 *
 * Trust ids: visited operator i is trust i; home operator j is trust n_vo + j. */
#pragma once

#include "m2m/cert.h"
#include "msg.h"
#include "world-internal.h"

typedef struct WCert WCert;

/* NULL, and no error, when the scenario uses no certificates. */
WCert *wcert_new(World *w, GError **error);
void wcert_free(WCert *c);

/* The trust id of a home operator. */
uint32_t wcert_sho_trust(const World *w, uint32_t sho);

/* ---- the RS ------------------------------------------------------------------------- */

/* At registration: records the device's subject (its PIMSI) and the start of its
 * certificate's validity (now), and decides (revoked_fraction) whether its certificate is
 * revoked before use, and if so revokes it now. Nothing when certificates are not used. */
void wcert_on_registered(World *w, uint32_t dev, Imsi pimsi);

/* The CA's trust bundle (root + CRL) as of now, for a MSG_CA_BUNDLE. */
GBytes *wcert_bundle(World *w);

/* The RS side of the key exchange for the device's attach proof, made for nonce at the VO
 * named context (what the device says on the secured connection): checks the
 * certificate against the CA's current state and the proof, and derives the session
 * master (kept for wcert_rs_master). Counted in rs.cert_accepts / cert.refused_*. */
CertStatus wcert_rs_accept(World *w, uint32_t dev, const uint8_t nonce[CERT_NONCE_LEN],
                           const char *context, uint8_t master[CERT_MASTER_LEN]);

/* The session master the RS derived for dev; false if it has none. */
bool wcert_rs_master(World *w, uint32_t dev, uint8_t master[CERT_MASTER_LEN]);

/* ---- devices ------------------------------------------------------------------------- */

/* The device answers a challenge (nonce, the verifier's name as context): issues its
 * credentials on first use (wrong: a key that does not match the certificate), signs,
 * and writes the session master. keep: remember this proof as the attach proof the RS
 * will check (VO challenges); otherwise (SHO challenges) it is checked at once with
 * wcert_check_last. */
void wcert_prove(World *w, uint32_t dev, bool wrong, const uint8_t nonce[CERT_NONCE_LEN],
                 const char *context, bool keep, uint8_t master[CERT_MASTER_LEN]);

/* The device is done with its preliminary credentials (provisioned or failed). */
void wcert_forget(World *w, uint32_t dev);

/* ---- verifiers (VO, SHO) ------------------------------------------------------------ */

/* Handler the trust calls (arg = the waiting context's PoolId) once it has a bundle or
 * has given up fetching one. Set once per trust at setup. */
void wcert_set_ready(World *w, uint32_t trust, SimHandler ready);

/* The context `ctx` needs a verifier: its ready handler runs now (scheduled at once) if
 * the cached bundle is fresh, else after a fetch from the RS (a MSG_CA_FETCH request of
 * the trust's operator, ref = the trust). */
void wcert_need_verifier(World *w, uint32_t trust, PoolId ctx);

/* The operator's fetch for `trust` timed out (its req_timeout, role.h): counted in
 * rs.timeouts; on giving up the waiting contexts are released without a verifier. */
void wcert_fetch_timeout(World *w, uint32_t trust, bool give_up);

/* The RS's MSG_CA_BUNDLE arrived at the trust's operator. */
void wcert_bundle_arrived(World *w, uint32_t trust, Msg *m);

/* True if the trust holds a fresh verifier (the fetch did not fail). */
bool wcert_has_verifier(World *w, uint32_t trust);

/* Checks the device's last proof (made for nonce and context) with the trust's verifier
 * at the current simulated time. Counted in cert.verifications and cert.refused_*. */
CertStatus wcert_check_last(World *w, uint32_t trust, uint32_t dev,
                            const uint8_t nonce[CERT_NONCE_LEN], const char *context);
