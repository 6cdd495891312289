/* A visited operator: accepts (or refuses) attaches with a PIMSI, fetches AVs from the RS
 * over the roaming interface (keeping a batch's spares per device), runs UMTS AKA with
 * the device and compares RES with XRES in constant time, then grants temporary access.
 * On a sync failure it forwards the AUTS to the RS and retries with fresh AVs.
 * Reached only by messages, through its row in the role table (role.h). */
#pragma once

#include "role.h"

extern const RoleClass vo_role;

/* Certificate mode: what the VO's verifier calls when a context may go on (verifier.h). */
void vo_ca_ready(SimEngine *sim, void *ctx, uint64_t arg);
