/* A manufacturer: makes equipment per its arrival process, registers each with the RS
 * for a PIMSI and preliminary K/OPc (or installs the SHO's USIM at the factory when the
 * home operator is known), writes them into the device, and hands it to its owner. When
 * the pool is empty the RS refuses: the unit waits in a FIFO backlog and the
 * manufacturer asks again every retry_after, oldest unit first.
 * Reached only by messages, through its row in the role table (role.h). */
#pragma once

#include "role.h"

extern const RoleClass mfr_role;
