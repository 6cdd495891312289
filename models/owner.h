/* Device owners: after select_home_operator_after (from manufacture) the owner of a
 * device picks a home operator by share and registers the device there, retrying after
 * request_timeout when the SHO does not answer. Owners hold no per-device state beyond
 * their pending requests. */
#pragma once

#include "world-internal.h"

Owners *owners_new(World *w, GError **error);
void owners_free(Owners *o);

/* Called by the manufacturer when device `dev` (PIMSI `pimsi`) is manufactured. */
void owners_device_made(World *w, uint32_t dev, uint32_t pimsi);

/* SHO -> owner: arg = the owner's pending Msg. */
void owner_on_ack(SimEngine *sim, void *ctx, uint64_t arg);
void owner_on_timeout(SimEngine *sim, void *ctx, uint64_t arg);

/* One sample of the owner <-> SHO delay (owners.register_delay), one way. */
SimTime owners_delay(World *w);
