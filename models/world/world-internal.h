/* What the roles of the provisioning world share: the World (engine, scenario, random
 * streams, the protocol DRBG, the network layer, the request helper, the record pools,
 * statistics). Role internals are NOT here: each role keeps its state in its own file and
 * is reached only by messages (msg.h) through the network layer (net.h); the builder
 * (world.c) knows each role by its row in the role table (role.h).
 *
 * Conventions for every role:
 *  - an event handler is a SimHandler with ctx = the World and arg = an id (never a
 *    pointer held across time);
 *  - a role that waits for an answer keeps its pending state in its own tables (and its
 *    request in the request helper, req.h); an answer names them by id and is dropped
 *    when they are gone. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "idpool.h"
#include "m2m/aka.h"
#include "m2m/engine.h"
#include "m2m/fsm.h"
#include "m2m/imsi.h"
#include "m2m/kdf.h"
#include "m2m/milenage.h"
#include "m2m/rng.h"
#include "m2m/scenario.h"
#include "m2m/seal.h"
#include "m2m/world.h"
#include "msg.h"
#include "m2m/stats.h"

typedef struct Rs Rs;
typedef struct Vo Vo;
typedef struct Sho Sho;
typedef struct Mfr Mfr;
typedef struct Owners Owners;
typedef struct DevTable DevTable;
typedef struct Net Net;
typedef struct Routes Routes;
typedef struct RoleClass RoleClass;

enum {
  W_NONE32 = UINT32_MAX, /* "no device / no PIMSI" */
  W_MAX_VO = 64,         /* bits of a device's tried-networks mask */
};

struct World {
  SimEngine *sim;
  const ScnConfig *cfg;
  FsmLog *log; /* NULL: off */
  AkaConfig aka;
  const MilImpl *mil;
  RngDrbg *drbg;      /* protocol bytes: RAND, K, OPc, nonces (seeded, replays exactly) */
  KdfCtx *kdf;        /* the key derivations' engine (kdf.h) */
  SealCtx *seal;      /* the USIM packages' engine (seal.h) */
  AkaRandom aka_rand; /* RAND source for aka_he_generate: the DRBG */
  uint64_t seed;
  RngStream r_resend; /* the request helper's resend jitter (req.h) */

  IdPool *msgs;                   /* Msg records in flight (net.h) */
  IdPool *reqs;                   /* pending requests (req.h) */
  IdPool *batches;                /* arrays of av_batch AkaVectors */
  Net *net;                       /* links and outages (net.h) */
  Routes *routes;                 /* who talks to which RS site (route.h) */
  const RoleClass *roles[ROLE_N]; /* the role table (role.h), by RoleKind */
  IdPool *ctx[ROLE_N];            /* each role kind's procedure contexts (role.h) */
  uint32_t next_device;           /* id of the next unit a manufacturer makes */
  uint64_t n_settled;             /* units done for good (w_unit_settled) */
  SimTime end;                    /* when the run ended: duration, or when it settled */
  bool settled;

  void **inst[ROLE_N]; /* each role kind's instances (role.h), scenario order */
  size_t n_inst[ROLE_N];
  size_t n_vo, n_sho, n_mfr; /* = n_inst of VOs, SHOs, manufacturers */
  uint64_t total_devices;    /* over all manufacturers */

  StatRegistry *figs;   /* every figure of the run, registered by the roles (stats.h) */
  StatSampler *sampler; /* the series, probes registered by the roles */
  bool profile;         /* bench world: time the protocol core's work (crypto_ns) */
  int64_t crypto_ns;    /* wall time spent in crypto while profiling, ns (sampled) */
  uint64_t crypto_tick; /* pieces of crypto work seen while profiling */
  uint64_t events;      /* after world_run */
  double wall_s;        /* wall time of world_run */
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

/* Does the run use certificates anywhere (the RS's auth, or an SHO's own check)? */
static inline bool
w_uses_certificates(const ScnConfig *cfg)
{
  if (cfg->registration_service.auth == SCN_AUTH_CERTIFICATE)
    return true;
  for (size_t i = 0; i < cfg->n_home_operators; i++)
    if (cfg->home_operators[i].authenticate == SCN_SHO_AUTH_CERTIFICATE)
      return true;
  return false;
}

/* ---- Profiling the protocol core ------------------------------------------------------- */

/* Brackets a piece of crypto work (MILENAGE, a KDF, a seal, certificates) for the profile
 * of bench world: w_crypto_end(w, w_crypto_begin(w)) adds its wall time to w->crypto_ns
 * when profiling is on. One piece in W_CRYPTO_SAMPLE is timed (two clock reads) and
 * counted that many times, so profiling costs little; nothing at all when off. */
enum { W_CRYPTO_SAMPLE = 16 };

static inline int64_t
w_clock_ns(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static inline int64_t
w_crypto_begin(World *w)
{
  if (!w->profile || ++w->crypto_tick % W_CRYPTO_SAMPLE != 0)
    return -1;
  return w_clock_ns();
}

static inline void
w_crypto_end(World *w, int64_t t0)
{
  if (t0 >= 0)
    w->crypto_ns += (w_clock_ns() - t0) * W_CRYPTO_SAMPLE;
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

/* A unit is done for good (attached with its real IMSI, failed, or given its USIM at the
 * factory); with stop_when: settled the run ends once all are and nothing is pending. */
void w_unit_settled(World *w);

/* Nothing may be pending any more (a request was answered): the settled check again. */
void w_check_settled(World *w);

/* When the run ends (or ended): duration, or the moment it settled. */
static inline SimTime
w_end(const World *w)
{
  return w->end;
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
