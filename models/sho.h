/* A Selected Home Operator: registers the equipment its owners register with it at the
 * RS, refuses devices it does not know, fetches K_SHO for a device from the RS (as a NAF
 * asks a BSF), checks the device's proof, and after the download time sends the real
 * USIM (IMSI from its own range, K, OPc from the DRBG) sealed under K_SEAL. Each SHO i
 * numbers its subscribers under MCC 001 (test networks), MNC 01 + i. */
#pragma once

#include "world-internal.h"

Sho *sho_new(World *w, uint32_t index, GError **error);
void sho_free(Sho *sho);
void sho_set_down(World *w, uint32_t index, int delta);

/* Owner -> SHO: arg = the owner's pending Msg (dev, pimsi, from = this SHO). */
void sho_on_owner_register(SimEngine *sim, void *ctx, uint64_t arg);
/* RS -> SHO: ack of a registration or release; arg = the SHO's pending Msg. */
void sho_on_rs_ack(SimEngine *sim, void *ctx, uint64_t arg);
/* Timeout of a pending SHO request: arg = its PoolId. */
void sho_on_timeout(SimEngine *sim, void *ctx, uint64_t arg);
/* Device -> SHO: arg = MSG_DOWNLOAD (dev, seq, pimsi, from = SHO, aux = VO, u.conn). */
void sho_on_download(SimEngine *sim, void *ctx, uint64_t arg);
/* RS -> SHO: arg = MSG_KEY (ref = the download context). */
void sho_on_key(SimEngine *sim, void *ctx, uint64_t arg);
/* Device -> SHO: USIM installed; arg = MSG_RELEASE (dev, pimsi, from = SHO). */
void sho_on_installed(SimEngine *sim, void *ctx, uint64_t arg);

/* The SHO's own authentication (authenticate: aka | certificate): the RS's AV answer
 * (arg = MSG_AV_JOB, as vo_on_av_answer), and the trust bundle a waiting download
 * context asked for (wcert.h). */
void sho_on_av_answer(SimEngine *sim, void *ctx, uint64_t arg);
void sho_on_ca_ready(SimEngine *sim, void *ctx, uint64_t arg);

size_t sho_memory(const World *w);

/* One sample of SHO `index`'s delay to and from the RS (its register_delay), one way. */
SimTime sho_rs_delay(World *w, uint32_t index);
