/* The Registration Service (TR 33.812 alternative 1, 5.2.1.2): owns the PIMSI pool and one
 * record per PIMSI (preliminary K and OPc from the DRBG, SEQ_HE, the SHO it is associated
 * with); serves AV requests of visited operators on `av_servers` FIFO servers (the M/M/c
 * queue of the scenario), resynchronises SQN on AUTS, tells an authenticated device its
 * SHO over the secured connection (K_RS), hands K_SHO to the SHO, releases PIMSIs, and in
 * certificate mode is the certificate authority. Reached only by messages, through its
 * row in the role table (role.h). */
#pragma once

#include "role.h"

extern const RoleClass rs_role;
