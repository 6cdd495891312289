/* A manufacturer: makes equipment per its arrival process, registers each with the RS
 * for a PIMSI and preliminary K/OPc (or installs the SHO's USIM at the factory when the
 * home operator is known), writes them into the device, and hands it to its owner. When
 * the pool is empty the RS refuses: the unit waits in a FIFO backlog and the
 * manufacturer asks again every retry_after, oldest unit first. */
#pragma once

#include "world-internal.h"

Mfr *mfr_new(World *w, uint32_t index, GError **error);
void mfr_free(Mfr *m);

/* Schedules the first production event(s). */
void mfr_start(World *w, uint32_t index);

/* RS -> manufacturer: arg = MSG_REG_ANSWER. */
void mfr_on_answer(SimEngine *sim, void *ctx, uint64_t arg);
/* Timeout of a registration: arg = the pending PoolId. */
void mfr_on_timeout(SimEngine *sim, void *ctx, uint64_t arg);

/* Units produced and still waiting for a PIMSI. */
uint64_t mfr_backlog(const World *w, uint32_t index);
