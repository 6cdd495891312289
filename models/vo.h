/* A visited operator: accepts (or refuses) attaches with a PIMSI, fetches AVs from the RS
 * over the roaming interface (keeping a batch's spares per device), runs UMTS AKA with
 * the device and compares RES with XRES in constant time, then grants temporary access.
 * On a sync failure it forwards the AUTS to the RS and retries with fresh AVs. */
#pragma once

#include "world-internal.h"

Vo *vo_new(World *w, uint32_t index, GError **error);
void vo_free(Vo *vo);
void vo_set_down(World *w, uint32_t index, int delta);

/* One sample of this VO's roaming delay (VO <-> RS, one way), and of its attach delay. */
SimTime vo_roaming_delay(World *w, uint32_t index);
SimTime vo_attach_delay(World *w, uint32_t index);

/* Device -> VO: arg = MSG_ATTACH (dev, pimsi, seq, from = this VO). */
void vo_on_attach(SimEngine *sim, void *ctx, uint64_t arg);
/* RS -> VO: arg = MSG_AV_JOB. */
void vo_on_av_answer(SimEngine *sim, void *ctx, uint64_t arg);
/* Device -> VO: arg = MSG_CHALLENGE with the device's answer (RES, MAC or sync failure). */
void vo_on_auth_answer(SimEngine *sim, void *ctx, uint64_t arg);
/* Timeout of an authentication context: arg = its PoolId. */
void vo_on_timeout(SimEngine *sim, void *ctx, uint64_t arg);
/* Certificate mode: the trust bundle a waiting context asked for (wcert.h). */
void vo_on_ca_ready(SimEngine *sim, void *ctx, uint64_t arg);

size_t vo_memory(const World *w);
