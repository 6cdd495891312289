/* Random numbers for simulation: independent streams per entity and purpose, derived from
 * the run's seed, and a seeded DRBG for protocol randomness (RAND, keys, nonces).
 *
 * Streams are counter-based: draw number c of stream (purpose, entity) under run seed s
 * is Philox2x64-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11;
 * passes TestU01 BigCrush) of the counter block {c, purpose << 32 | entity} under the key
 * s. Philox is a bijection of the counter block for each key, so two different
 * (purpose, entity, c) never share a block: streams cannot overlap, and adding entity
 * N + 1 cannot move any draw of entity N. A stream is 24 bytes of caller storage
 * (RngStream); a model that keeps its own counter can draw with rng_draw() and store
 * nothing else. The same (seed, purpose, entity) gives the same sequence on every
 * machine.
 *
 * The DRBG is AES-128 in counter mode (OpenSSL) keyed from SHA-256 of the seed and a
 * label: the same seed and label give the same bytes. It fills byte buffers through the
 * two-member {fill, ctx} interface protocol code takes (AkaRandom has the same shape),
 * so a test can pin the bytes by passing its own fill function. Simulation only: a
 * seeded generator is the opposite of what a real network element must use. */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

/* Philox2x64-10 block function: out = Philox_key(ctr). Exposed for known-answer tests. */
void rng_philox2x64_10(const uint64_t ctr[2], uint64_t key, uint64_t out[2]);

/* Draw number `counter` of stream (purpose, entity) under `seed`: 64 uniform bits. */
uint64_t rng_draw(uint64_t seed, uint32_t purpose, uint32_t entity, uint64_t counter);

/* A stream: the key, the stream's id and the next draw number. Plain struct so models can
 * keep one per entity in their own arrays. */
typedef struct {
  uint64_t key;     /* run seed */
  uint64_t id;      /* purpose << 32 | entity */
  uint64_t counter; /* draws taken */
} RngStream;

/* Positions `s` at draw 0 of stream (purpose, entity) under `seed`. */
void rng_stream_init(RngStream *s, uint64_t seed, uint32_t purpose, uint32_t entity);

/* Next 64 uniform bits. */
uint64_t rng_next_u64(RngStream *s);

/* Uniform double in [0, 1), 53 bits. */
double rng_uniform(RngStream *s);

/* Uniform double in (0, 1): never 0 or 1, safe for log(). */
double rng_uniform_open(RngStream *s);

/* Uniform integer in [0, n), unbiased (Lemire's multiply and reject); n >= 1. */
uint64_t rng_below(RngStream *s, uint64_t n);

/* ---- DRBG ---------------------------------------------------------------------------- */

typedef struct RngDrbg RngDrbg;

/* A DRBG for (seed, label): key = SHA-256("m2msim-drbg" 0x00 seed(8 octets, big-endian)
 * label)[0..15], initial counter block = the same digest's [16..31]. label may be "". */
RngDrbg *rng_drbg_new(uint64_t seed, const char *label);

void rng_drbg_free(RngDrbg *d);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(RngDrbg, rng_drbg_free)

/* Writes the next len bytes of the AES-128-CTR key stream to out. */
void rng_drbg_fill(RngDrbg *d, uint8_t *out, size_t len);

/* The byte-source interface protocol code takes: fill(ctx, out, len). */
typedef struct {
  void (*fill)(void *ctx, uint8_t *out, size_t len);
  void *ctx;
} RngBytes;

/* rng_drbg_fill with a void * context, to put in an RngBytes / AkaRandom. */
void rng_drbg_fill_cb(void *drbg, uint8_t *out, size_t len);

/* {rng_drbg_fill_cb, d}. */
RngBytes rng_drbg_bytes(RngDrbg *d);
