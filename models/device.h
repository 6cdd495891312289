/* M2M equipment: one row per device in flat arrays (no heap allocation per device). A
 * device powers on, attaches to an allowed network with its PIMSI, runs the USIM side of
 * AKA on its own SQN state (TS 33.102 Annex C), proves K_RS to the RS to learn its SHO
 * (backing off while there is none), downloads and opens the sealed USIM, installs it
 * and attaches with the real IMSI. Each failure path is counted and bounded. Reached
 * only by messages, through its row in the role table (role.h). */
#pragma once

#include "role.h"

extern const RoleClass dev_role;

/* The device's state table (tests check it). */
const FsmDef *dev_fsm(void);
