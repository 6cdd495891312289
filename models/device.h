/* M2M equipment: one row per device in flat arrays (no heap allocation per device). A
 * device powers on, attaches to an allowed network with its PIMSI, runs the USIM side of
 * AKA on its own SQN state (TS 33.102 Annex C), proves K_RS to the RS to learn its SHO
 * (backing off while there is none), downloads and opens the sealed USIM, installs it
 * and attaches with the real IMSI. Each failure path is counted and bounded. Reached
 * only through its row in the role table (role.h); the builder and the figures use the
 * functions below. */
#pragma once

#include "role.h"

extern const RoleClass dev_role;

DevTable *dev_table_new(World *w, uint64_t capacity, GError **error);
void dev_table_free(DevTable *t);

/* Counts of devices by outcome, for the accounting check. */
void dev_count(const World *w, uint64_t *manufactured, uint64_t *provisioned, uint64_t *failed,
               uint64_t *in_progress);
const FsmDef *dev_fsm(void);
/* Power-on -> USIM installed, s (the latency CDF series). */
StatSamples *dev_latency(const World *w);
size_t dev_memory(const World *w);
