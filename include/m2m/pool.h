/* The PIMSI pool of the Registration Service (TR 33.812 alternative 1): a contiguous range
 * of IMSIs (one MCC, one MNC, one MSIN length) handed out to equipment at the factory and
 * taken back after the device has its real subscription, with a quarantine before reuse.
 *
 * The range is the "shortage of IMSI numbers" the seed leaves open: one MNC gives at most
 * 10^10 (2-digit MNC) or 10^9 (3-digit MNC) MSINs and a neutral RS may hold far fewer, so
 * pool occupancy, exhaustion and recycling policy are what studies measure with this.
 *
 * A PIMSI is named by its index 0..size-1 in the range; index i is the IMSI whose MSIN is
 * first_msin + i. The pool is a pure data structure: it never reads a clock, the caller
 * passes the current simulated time to every call that depends on it, and that time must
 * never go backwards.
 *
 * Allocation order: one FIFO queue of free PIMSIs whose initial contents are the whole
 * range in ascending order. So never-used PIMSIs go first, lowest index first, and only
 * once the range has been used up once are released PIMSIs reused, least recently
 * released first. This maximises the time between two uses of one number (what the
 * quarantine is for) and makes runs easy to read. The never-used part of the queue is
 * a counter, not memory.
 *
 * Quarantine: a released PIMSI becomes free `quarantine` microseconds after its release
 * (0 = at once; POOL_NEVER = never, i.e. no recycling). As the quarantine is the same
 * for all, PIMSIs leave quarantine in release order, so the quarantine is a FIFO too and
 * shares one ring buffer with the recycled free ones.
 *
 * Costs: pool_alloc and pool_release are O(1) amortised (each PIMSI leaves quarantine
 * once). Memory: 1 bit per PIMSI of the range plus 12 octets per PIMSI that is released
 * and not yet reused (the ring grows on demand, doubling), so a pool of 10^8 costs 12.5 MB
 * up front and at most ~1.2 GB when every PIMSI sits in quarantine at once.
 *
 * Invariant violations (programming errors of the caller, not user input): releasing an
 * index that is out of range, never allocated or already released, and passing a time
 * earlier than one passed before. They are reported with g_return_val_if_fail (a critical
 * message, fatal under tests) and change nothing. */
#pragma once

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m2m/imsi.h"

/* Times are plain microseconds (the caller's clock); POOL_NEVER is "never". */
#define POOL_NEVER INT64_MAX

#define POOL_MAX_SIZE ((uint64_t)UINT32_MAX) /* indices are 32-bit */

typedef struct _PimsiPool PimsiPool;

#define POOL_ERROR (pool_error_quark())
GQuark pool_error_quark(void);

typedef enum {
  POOL_ERROR_SIZE,       /* size 0, larger than POOL_MAX_SIZE or past the last MSIN */
  POOL_ERROR_FIRST,      /* first IMSI not valid */
  POOL_ERROR_QUARANTINE, /* negative quarantine */
  POOL_ERROR_NO_MEMORY,  /* the bitmap could not be allocated */
} PoolError;

/* Creates a pool of `size` PIMSIs starting at `first` (which fixes MCC, MNC and MSIN
 * length): the last one is first + size - 1 and must still fit the MSIN digits, i.e.
 * msin(first) + size <= 10^msin_len(first). Refuses, with a message giving the numbers,
 * size 0, size > POOL_MAX_SIZE, a range past the last MSIN, an invalid `first` and a
 * negative quarantine (microseconds). All PIMSIs start free; time starts at 0. */
PimsiPool *pool_new(Imsi first, uint64_t size, int64_t quarantine, GError **error);
void pool_free(PimsiPool *pool);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PimsiPool, pool_free)

/* Moves every PIMSI whose quarantine has ended by `now` (release time + quarantine <= now)
 * back to the free queue. pool_alloc does this itself; call it to read the counters at a
 * given time (e.g. when sampling occupancy). */
void pool_advance(PimsiPool *pool, int64_t now);

/* Allocates the next free PIMSI (see the allocation order above) at time `now`, after
 * pool_advance(now). Returns false, and counts a refusal, when none is free: the caller
 * may retry at pool_next_release_time(). */
bool pool_alloc(PimsiPool *pool, int64_t now, uint32_t *index);

/* Releases an allocated PIMSI at time `now`; it is free again at now + quarantine.
 * Returns false (with a critical message, state unchanged) on an invariant violation:
 * index out of range, not allocated (never, or already released), time going back. */
bool pool_release(PimsiPool *pool, uint32_t index, int64_t now);

/* The earliest time at which a PIMSI now in quarantine becomes free, POOL_NEVER when
 * none is in quarantine (or the quarantine is POOL_NEVER). "Now" is the latest time the
 * pool was told; the answer is later than that time. */
int64_t pool_next_release_time(const PimsiPool *pool);

/* True when `index` is allocated (in use). Out-of-range indices are not. */
bool pool_is_in_use(const PimsiPool *pool, uint32_t index);

/* Counters, as of the latest time the pool was told. in_use + quarantined + free == size.
 * allocations and refusals count pool_alloc successes and failures since creation. */
uint64_t pool_size(const PimsiPool *pool);
uint64_t pool_n_in_use(const PimsiPool *pool);
uint64_t pool_n_quarantined(const PimsiPool *pool);

/* The part of the quarantines still running that lies after t (sum over the PIMSIs in
 * quarantine of their free-again time minus t, us; retired PIMSIs not counted): what a
 * run ending at t did not see of them. */
int64_t pool_quarantine_after(const PimsiPool *pool, int64_t t);
uint64_t pool_n_free(const PimsiPool *pool);
uint64_t pool_n_allocations(const PimsiPool *pool);
/* PIMSIs allocated at least once (the allocation order hands out fresh ones first). */
uint64_t pool_n_distinct(const PimsiPool *pool);
uint64_t pool_n_refusals(const PimsiPool *pool);
int64_t pool_quarantine(const PimsiPool *pool);

/* Octets of heap the pool holds now (structure, bitmap and ring), for reports/benches. */
size_t pool_memory(const PimsiPool *pool);

/* The IMSI of index `index` (IMSI_NONE when out of range). */
Imsi pool_imsi(const PimsiPool *pool, uint32_t index);

/* The index of `imsi` in this pool's range; false when it is not in the range (other
 * MCC, MNC, MNC length or MSIN length, or MSIN outside first..first+size-1). */
bool pool_index_of(const PimsiPool *pool, Imsi imsi, uint32_t *index);
