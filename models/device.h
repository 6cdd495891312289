/* M2M equipment: one row per device in flat arrays (no heap allocation per device). A
 * device powers on, attaches to an allowed network with its PIMSI, runs the USIM side of
 * AKA on its own SQN state (TS 33.102 Annex C), proves K_RS to the RS to learn its SHO
 * (backing off while there is none), downloads and opens the sealed USIM, installs it
 * and attaches with the real IMSI. Each failure path is counted and bounded. */
#pragma once

#include "world-internal.h"

DevTable *dev_table_new(World *w, uint64_t capacity, GError **error);
void dev_table_free(DevTable *t);

/* A new device of manufacturer `mfr`, state PRODUCED; returns its id. */
uint32_t dev_produce(World *w, uint32_t mfr);

/* Factory: write the PIMSI and preliminary keys (corrupted K when `wrong`), then the
 * device waits for power-on (scheduled here). */
void dev_install_credentials(World *w, uint32_t dev, uint32_t pimsi, const AkaKeys *keys,
                             bool wrong);

/* Factory with the home operator known: the SHO's USIM is installed (no PIMSI). */
void dev_install_factory_usim(World *w, uint32_t dev);

/* The PIMSI index written into the device (the label on the box). */
uint32_t dev_pimsi(const World *w, uint32_t dev);

void dev_on_power_on(SimEngine *sim, void *ctx, uint64_t arg);         /* arg = dev */
void dev_on_refused(SimEngine *sim, void *ctx, uint64_t arg);          /* dev | seq << 32 */
void dev_on_challenge(SimEngine *sim, void *ctx, uint64_t arg);        /* MSG_CHALLENGE */
void dev_on_granted(SimEngine *sim, void *ctx, uint64_t arg);          /* dev | seq << 32 */
void dev_on_rejected(SimEngine *sim, void *ctx, uint64_t arg);         /* dev|seq<<32|why<<40 */
void dev_on_lookup_answer(SimEngine *sim, void *ctx, uint64_t arg);    /* MSG_LOOKUP */
void dev_on_download_started(SimEngine *sim, void *ctx, uint64_t arg); /* dev | seq << 32 */
void dev_on_download_refused(SimEngine *sim, void *ctx, uint64_t arg); /* dev | seq << 32 */
void dev_on_package(SimEngine *sim, void *ctx, uint64_t arg);          /* MSG_PACKAGE */

/* Packs dev, seq and a reason into a handler argument. */
static inline uint64_t
dev_arg(uint32_t dev, uint8_t seq, uint8_t why)
{
  return (uint64_t)dev | ((uint64_t)seq << 32) | ((uint64_t)why << 40);
}

/* Counts of devices by outcome, for the accounting check. */
void dev_count(const World *w, uint64_t *manufactured, uint64_t *provisioned, uint64_t *failed,
               uint64_t *in_progress);
const FsmDef *dev_fsm(void);

/* For an SHO's own authentication (home_operators[].authenticate): the device's USIM
 * answers an AKA challenge (RES when AKA_OK; its SQN state advances); whether the
 * device was given wrong preliminary credentials (its certificate key does not match). */
AkaStatus dev_usim_answer(World *w, uint32_t id, const uint8_t rand[16],
                          const uint8_t autn[AKA_AUTN_LEN], uint8_t res[MIL_MAC_LEN]);
bool dev_wrong_credentials(World *w, uint32_t id);
size_t dev_memory(const World *w);
