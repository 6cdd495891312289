/* A Selected Home Operator: registers the equipment its owners register with it at the
 * RS, refuses devices it does not know, fetches K_SHO for a device from the RS (as a NAF
 * asks a BSF), checks the device's proof, may authenticate the device itself, and after
 * the download time sends the real USIM (IMSI from its own range, K, OPc from the DRBG)
 * sealed under K_SEAL. Each SHO i numbers its subscribers under MCC 001 (test networks),
 * MNC 01 + i. Reached only by messages, through its row in the role table (role.h). */
#pragma once

#include "role.h"

extern const RoleClass sho_role;

/* Certificates: what the SHO's verifier calls when a download may go on (verifier.h). */
void sho_ca_ready(SimEngine *sim, void *ctx, uint64_t arg);
