/* The Registration Service (TR 33.812 alternative 1, 5.2.1.2): owns the PIMSI pool and one
 * record per PIMSI (preliminary K and OPc from the DRBG, SEQ_HE, the SHO it is associated
 * with); serves AV requests of visited operators on `av_servers` FIFO servers (the M/M/c
 * queue of the scenario), resynchronises SQN on AUTS, tells an authenticated device its
 * SHO over the secured connection (K_RS), hands K_SHO to the SHO, and releases PIMSIs.
 * During an outage (faults) every request that arrives is dropped. */
#pragma once

#include "m2m/resource.h"
#include "world-internal.h"

Rs *rs_new(World *w, GError **error);
void rs_free(Rs *rs);

/* Outage: delta +1 when an outage starts, -1 when it ends (outages may overlap). */
void rs_set_down(World *w, int delta);

/* The IMSI of a PIMSI index (the range is public: the device's label says it). */
Imsi rs_pimsi_imsi(World *w, uint32_t pimsi);

/* Manufacturer -> RS: arg = the manufacturer's pending Msg (dev, from = manufacturer).
 * Answers mfr_on_answer with a MSG_REG_ANSWER (keys inside, or ST_REFUSED). */
void rs_on_register(SimEngine *sim, void *ctx, uint64_t arg);

/* SHO -> RS: arg = the SHO's pending Msg (dev, pimsi, from = SHO). Acks sho_on_rs_ack. */
void rs_on_sho_register(SimEngine *sim, void *ctx, uint64_t arg);

/* VO -> RS: arg = the VO's authentication context (dev, pimsi, from = VO; status
 * ST_SYNC_FAILURE with u.chal.rand/auts for a resynchronisation). Answers
 * vo_on_av_answer with a MSG_AV_JOB (aux = AV batch + 1, or status). */
void rs_on_av_request(SimEngine *sim, void *ctx, uint64_t arg);

/* Device -> RS over the secured connection: arg = MSG_LOOKUP (dev, pimsi, u.conn: RAND
 * and proof of K_RS). Answers dev_on_lookup_answer with the same record (aux = SHO + 1,
 * or ST_REFUSED: no SHO, unknown or unauthenticated device alike). */
void rs_on_lookup(SimEngine *sim, void *ctx, uint64_t arg);

/* SHO -> RS: arg = the SHO's download context (dev, pimsi, u.conn.rand). Answers
 * sho_on_key with a MSG_KEY holding K_SHO (or ST_REFUSED). */
void rs_on_key_request(SimEngine *sim, void *ctx, uint64_t arg);

/* SHO -> RS: arg = the SHO's pending release (dev, pimsi). Releases the PIMSI when the
 * policy says so; acks sho_on_rs_ack. */
void rs_on_release(SimEngine *sim, void *ctx, uint64_t arg);

/* For the certificate side (wcert.c): is the RS in an outage; the service time of one
 * non-AV request; when a PIMSI was last allocated. */
bool rs_is_down(const World *w);
SimTime rs_service_time(World *w);
SimTime rs_pimsi_allocated_at(const World *w, uint32_t pimsi);

/* For series and results. */
void rs_sample(World *w, double *in_use, double *quarantined, double *av_queue);
uint64_t rs_pool_size(const World *w);
uint64_t rs_pool_allocated(const World *w);
uint64_t rs_pool_blocked(const World *w);
double rs_quarantined_mean(const World *w);
uint32_t rs_av_servers(const World *w);
SimResource *rs_av_resource(const World *w); /* waits, utilisation, queue */
size_t rs_memory(const World *w);
