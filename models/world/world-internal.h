/* What the entities of the provisioning world share: the World (engine, scenario,
 * random streams, the protocol DRBG, message pools, statistics) and the message record
 * format. Entity internals are NOT here: each entity keeps its state in its own file
 * and is reached only through the handlers its header declares.
 *
 * Conventions for every entity:
 *  - a handler is a SimHandler with ctx = the World and arg = packed ids (never a
 *    pointer held across time); payloads travel in Msg records (msg.h) whose id is the
 *    arg, and the receiver releases what it receives;
 *  - "sending" is scheduling the receiver's handler after the network delay;
 *  - a requester that waits for an answer keeps a pending Msg with its timeout timer;
 *    an answer names the pending record by id and is ignored when that record is gone.
 */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "m2m/aka.h"
#include "m2m/engine.h"
#include "m2m/fsm.h"
#include "m2m/imsi.h"
#include "m2m/milenage.h"
#include "m2m/rng.h"
#include "m2m/scenario.h"
#include "m2m/seal.h"
#include "m2m/world.h"
#include "idpool.h"
#include "wstats.h"

typedef struct Rs Rs;
typedef struct Vo Vo;
typedef struct Sho Sho;
typedef struct Mfr Mfr;
typedef struct Owners Owners;
typedef struct DevTable DevTable;
typedef struct WCert WCert;

enum {
  W_NONE32 = UINT32_MAX, /* "no device / no PIMSI" */
  W_MAX_VO = 64,         /* bits of a device's tried-networks mask */
};

/* Message kinds (Msg.kind), for logs and checks. */
typedef enum {
  MSG_REGISTER,   /* manufacturer -> RS: a PIMSI for this equipment, please */
  MSG_REG_ANSWER, /* RS -> manufacturer: PIMSI + K + OPc, or refused */
  MSG_SHO_REG,    /* owner -> SHO, SHO -> RS: this equipment is mine */
  MSG_ATTACH,     /* device -> VO (then the VO's authentication context) */
  MSG_AV_JOB,     /* RS: an AV request being served, then the answer to the VO */
  MSG_CHALLENGE,  /* VO -> device: RAND || AUTN; device -> VO: RES or AUTS */
  MSG_LOOKUP,     /* device -> RS over the secured connection; RS -> device: SHO */
  MSG_DOWNLOAD,   /* device -> SHO (then the SHO's download context) */
  MSG_KEY,        /* RS -> SHO: K_SHO for a device */
  MSG_PACKAGE,    /* SHO -> device: the sealed USIM */
  MSG_RELEASE,    /* device -> SHO -> RS: USIM installed, PIMSI can go */
  MSG_CA_FETCH,   /* VO/SHO -> RS -> VO/SHO: the trust bundle (root + CRL), wcert.h */
} MsgKind;

/* Status carried in answers. */
typedef enum {
  ST_OK = 0,
  ST_REFUSED,      /* pool empty, device unknown, no SHO yet */
  ST_MAC_FAILURE,  /* device: AUTN's MAC wrong */
  ST_SYNC_FAILURE, /* device: SQN not fresh, AUTS inside */
  ST_FAILED,       /* the network gave up (timeouts) */
} MsgStatus;

/* One message record (see the file comment). */
typedef struct {
  uint8_t kind;   /* MsgKind */
  uint8_t status; /* MsgStatus */
  uint8_t seq;    /* device request sequence this message belongs to */
  uint8_t tries;  /* sends of a pending request so far */
  uint8_t phase;  /* owner-specific sub-state of a pending record */
  uint8_t pad[3];
  uint32_t dev;     /* device id */
  uint32_t pimsi;   /* PIMSI index in the pool */
  uint32_t from;    /* index of the sending / requesting VO, SHO or manufacturer */
  uint32_t aux;     /* AV batch slot + 1, SHO index + 1, ... */
  PoolId ref;        /* the pending record an answer belongs to */
  PoolId batch;      /* an AV batch (w->batches) travelling with an answer */
  SimEventId timer; /* pending records: their timeout */
  SimTime t0;       /* when the request was first made (waits, latencies) */
  union {
    AkaVector av; /* VO context: the AV in use */
    struct {
      uint8_t rand[MIL_K_LEN];
      uint8_t autn[AKA_AUTN_LEN]; /* challenge */
      uint8_t res[MIL_MAC_LEN];   /* answer: RES */
      uint8_t auts[AKA_AUTS_LEN]; /* answer: AUTS */
    } chal;
    AkaKeys keys; /* registration answer: K, OPc */
    struct {
      uint8_t rand[MIL_K_LEN]; /* the AKA run the keys come from */
      uint8_t proof[16];       /* MAC under K_RS / K_SHO */
    } conn;
    uint8_t key[32];               /* K_SHO */
    uint8_t pkg[SEAL_PACKAGE_LEN]; /* sealed USIM */
  } u;
} Msg;

struct World {
  SimEngine *sim;
  const ScnConfig *cfg;
  FsmLog *log; /* NULL: off */
  AkaConfig aka;
  const MilImpl *mil;
  RngDrbg *drbg;      /* protocol bytes: RAND, K, OPc, nonces (seeded, replays exactly) */
  AkaRandom aka_rand; /* RAND source for aka_he_generate: the DRBG */
  uint64_t seed;

  IdPool *msgs;    /* Msg records */
  IdPool *batches; /* arrays of av_batch AkaVectors */

  Rs *rs;
  Vo **vos;
  size_t n_vo;
  Sho **shos;
  size_t n_sho;
  Mfr **mfrs;
  size_t n_mfr;
  Owners *owners;
  DevTable *devs;
  WCert *cert; /* certificates (wcert.h); NULL when the scenario uses none */
  uint64_t total_devices; /* over all manufacturers */

  WStats st;
  uint64_t events; /* after world_run */
  double wall_s;   /* wall time of world_run */
  bool ran;
};

/* ---- Argument packing ------------------------------------------------------------- */

static inline uint64_t
w_arg(uint32_t lo, uint32_t hi)
{
  return (uint64_t)lo | ((uint64_t)hi << 32);
}

static inline uint32_t
w_lo(uint64_t arg)
{
  return (uint32_t)arg;
}

static inline uint32_t
w_hi(uint64_t arg)
{
  return (uint32_t)(arg >> 32);
}

/* ---- Messages --------------------------------------------------------------------- */

static inline PoolId
w_msg_new(World *w, MsgKind kind, Msg **m)
{
  void *p;
  PoolId id = idpool_alloc(w->msgs, &p);
  *m = p;
  (*m)->kind = (uint8_t)kind;
  return id;
}

static inline Msg *
w_msg(World *w, PoolId id)
{
  return idpool_get(w->msgs, id);
}

static inline Msg *
w_msg_lookup(World *w, PoolId id)
{
  return idpool_lookup(w->msgs, id);
}

static inline void
w_msg_free(World *w, PoolId id)
{
  idpool_release(w->msgs, id);
}

/* ---- Protocol randomness ---------------------------------------------------------- */

/* Fills `out` with `len` octets of the protocol DRBG. */
static inline void
w_random(World *w, uint8_t *out, size_t len)
{
  rng_drbg_fill(w->drbg, out, len);
}

/* ---- Time helpers ----------------------------------------------------------------- */

static inline SimTime
w_now(const World *w)
{
  return sim_now(w->sim);
}

/* Schedules fn after `delay`; a delay past the end of the run is dropped by the engine
 * (SIM_TIME_MAX) or simply never reached. */
static inline SimEventId
w_after(World *w, SimTime delay, SimHandler fn, uint64_t arg)
{
  return sim_schedule(w->sim, delay < 0 ? 0 : delay, fn, w, arg);
}

/* How long a requester waits for the answer to its `tries`-th send (tries >= 1):
 * request_timeout, then times devices.retry.factor per resend, capped at
 * max(devices.retry.max, request_timeout), so an outage of hours does not turn every
 * waiting request into a resend every few seconds. */
static inline SimTime
w_timeout(const World *w, unsigned tries)
{
  SimTime base = w->cfg->registration_service.request_timeout;
  SimTime cap = MAX(w->cfg->devices.retry.max, base);
  double t = (double)base;
  for (unsigned i = 1; i < tries && t < (double)cap; i++)
    t *= w->cfg->devices.retry.factor;
  return t > (double)cap ? cap : (SimTime)t;
}

/* Key confirmation. K_RS and K_SHO (kdf.h, 32 octets of HMAC-SHA-256 output) are split
 * like a TLS key block: octets 0-15 key the connection, octets 16-31 are the
 * key-confirmation value the device shows to prove it ran AKA with the right K. The
 * halves of a PRF output are independent, so showing the second reveals nothing of the
 * first (nor of K_SEAL, derived from the whole K_SHO). */
static inline void
w_key_confirm(const uint8_t key[32], uint8_t out[16])
{
  memcpy(out, key + 16, 16);
}

/* Zeroed arrays of n elements of `size` octets for per-device and per-PIMSI state: mapped
 * anonymous memory (pages appear, zeroed, on first touch) with transparent huge pages
 * requested, since millions of rows are touched in random order. NULL when the memory
 * cannot be mapped. Free with w_big_free(p, n, size). */
void *w_big_new0(size_t n, size_t size);
void w_big_free(void *p, size_t n, size_t size);

/* Bytes of flat per-device arrays the world holds (for bench figures). */
size_t w_memory(const World *w);
