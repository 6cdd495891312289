/* UMTS AKA (3GPP TS 33.102 §6.3) on MILENAGE: the home side (HE/AuC) that generates
 * authentication vectors and resynchronises, and the USIM side that checks AUTN, with
 * sequence numbers managed as in TS 33.102 Annex C.
 *
 * Sequence numbers (Annex C.1.1): SQN (48 bits) = SEQ || IND, IND the low `ind_bits`
 * bits (5 by default, 0 to 5 supported). The HE keeps one counter SEQ_HE per
 * subscriber and stamps each AV with SEQ_HE + 1 and the IND of the node it serves. The
 * USIM keeps one SEQ_MS(i) per IND slot i (Annex C.2.1): an AUTN is fresh when its SEQ
 * is above the slot's SEQ_MS(i) and at most L above the highest SEQ accepted so far
 * (Annex C.2.2). On a stale SQN the USIM answers AUTS = (SQN_MS xor AK*) || MAC-S with
 * SQN_MS its highest accepted SQN (§6.3.5); the HE verifies MAC-S and, if its next SQN
 * would not be accepted, restarts SEQ_HE from SEQ_MS (§6.3.5 c, Annex C.3).
 *
 * Plain structs on purpose: the simulator stores one AkaUsim per device and one SEQ_HE
 * per subscriber in its own arrays (a million devices), and the fields are exactly the
 * state Annex C names. Nothing here allocates or does I/O; randomness (RAND) comes from
 * the caller through AkaRandom, so a seeded DRBG or a test can pin it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "m2m/milenage.h"

enum {
  AKA_IND_BITS_DEFAULT = 5,
  AKA_IND_BITS_MAX = 5, /* 32 slots: the size of AkaUsim.seq */
  AKA_SLOTS_MAX = 1 << AKA_IND_BITS_MAX,
  AKA_AUTN_LEN = 16, /* (SQN xor AK) || AMF || MAC-A */
  AKA_AUTS_LEN = 14, /* (SQN_MS xor AK*) || MAC-S */
};

#define AKA_SQN_MAX ((UINT64_C(1) << 48) - 1)
#define AKA_LIMIT_DEFAULT (UINT64_C(1) << 28) /* L of Annex C.2.2, in SEQ steps */
#define AKA_AMF_SEPARATION 0x8000u            /* AMF bit 0: "separation bit" (TS 33.401) */

/* Annex C parameters shared by an HE and its USIMs (one per scenario, not per device). */
typedef struct {
  unsigned ind_bits; /* length of IND in bits, 0..AKA_IND_BITS_MAX */
  uint64_t limit;    /* L (Annex C.2.2): largest accepted SEQ - SEQ_MS, in SEQ steps, >= 1 */
} AkaConfig;

/* Fills `cfg` with the defaults: IND 5 bits, L = 2^28. */
void aka_config_init(AkaConfig *cfg);

/* A subscriber's long-term secrets, as both the HE and the USIM hold them. */
typedef struct {
  uint8_t k[MIL_K_LEN];   /* K */
  uint8_t opc[MIL_K_LEN]; /* OPc (derive it from OP with mil_opc) */
} AkaKeys;

/* Caller-supplied source of RAND (TS 33.102 §6.3.2: unpredictable). `fill` writes `len`
 * random octets to `out`; `ctx` is passed back untouched. */
typedef struct {
  void (*fill)(void *ctx, uint8_t *out, size_t len);
  void *ctx;
} AkaRandom;

/* One authentication vector (quintet), 72 octets. AK is not kept: SQN xor AK is in AUTN,
 * so a holder of SQN recovers AK = AUTN[0..5] xor SQN. */
typedef struct {
  uint8_t rand[MIL_K_LEN];
  uint8_t xres[MIL_MAC_LEN];
  uint8_t ck[MIL_K_LEN];
  uint8_t ik[MIL_K_LEN];
  uint8_t autn[AKA_AUTN_LEN];
} AkaVector;

typedef enum {
  AKA_OK = 0,
  AKA_MAC_FAILURE,   /* USIM: MAC-A wrong (AUTN not from our HE). HE: MAC-S wrong. */
  AKA_SYNC_FAILURE,  /* USIM: MAC-A right, SQN not fresh; AUTS computed */
  AKA_SQN_EXHAUSTED, /* HE: SEQ_HE would pass its maximum (2^(48 - ind_bits) - 1) */
  AKA_BAD_ARGUMENT,  /* an IND, SQN or configuration out of range */
} AkaStatus;

/* Short lowercase name of a status ("ok", "mac-failure", ...). */
const char *aka_status_name(AkaStatus status);

/* --- Home environment (AuC) ------------------------------------------------------------ */

/* Builds one AV for an explicit SQN (48 bits) and AMF: RAND given, XRES = f2,
 * CK = f3, IK = f4, AUTN = (SQN xor f5) || AMF || f1. `mil` NULL means
 * mil_impl_best(). Returns AKA_BAD_ARGUMENT when sqn > AKA_SQN_MAX. */
AkaStatus aka_av_build(const MilImpl *mil, const AkaKeys *keys, const uint8_t rand[MIL_K_LEN],
                       uint64_t sqn, uint16_t amf, AkaVector *av);

/* Generates `n` fresh AVs for one subscriber, as the HE answers one request of a
 * serving node (TS 33.102 §6.3.2, a batch): for each, SEQ_HE := SEQ_HE + 1 and
 * SQN = SEQ_HE || ind (Annex C.1.1), a RAND drawn from `rng`, the given AMF. `*seq_he` is
 * the subscriber's counter (start at 0) and is updated. Returns AKA_OK, or
 * AKA_BAD_ARGUMENT if ind >= 2^ind_bits, or AKA_SQN_EXHAUSTED if SEQ_HE would overflow
 * (nothing is generated and *seq_he is unchanged in both cases). */
AkaStatus aka_he_generate(const AkaConfig *cfg, const MilImpl *mil, const AkaKeys *keys,
                          uint64_t *seq_he, unsigned ind, uint16_t amf, const AkaRandom *rng,
                          AkaVector *avs, size_t n);

/* The SQN the next aka_he_generate() call would use for `ind`, without changing state. */
uint64_t aka_he_next_sqn(const AkaConfig *cfg, uint64_t seq_he, unsigned ind);

/* Recovers SQN_MS from an AUTS for the RAND it answered (TS 33.102 §6.3.5): AK* = f5*,
 * SQN_MS = (AUTS[0..5] xor AK*), then compares MAC-S with f1*(SQN_MS, RAND, AMF* = 0000)
 * in constant time. Returns AKA_OK and stores *sqn_ms, or AKA_MAC_FAILURE. */
AkaStatus aka_auts_verify(const MilImpl *mil, const AkaKeys *keys, const uint8_t rand[MIL_K_LEN],
                          const uint8_t auts[AKA_AUTS_LEN], uint64_t *sqn_ms);

/* The HE side of a resynchronisation (§6.3.5, Annex C.3): verifies the AUTS as
 * aka_auts_verify(); when the next SQN the HE would issue is not acceptable to a USIM
 * whose highest accepted SQN is SQN_MS (SEQ_HE + 1 <= SEQ_MS, or more than L ahead), sets
 * SEQ_HE := SEQ_MS, so the next AV carries SEQ_MS + 1. Stores SQN_MS in *sqn_ms when
 * not NULL. Returns AKA_OK or AKA_MAC_FAILURE (then *seq_he is unchanged). */
AkaStatus aka_he_resync(const AkaConfig *cfg, const MilImpl *mil, const AkaKeys *keys,
                        uint64_t *seq_he, const uint8_t rand[MIL_K_LEN],
                        const uint8_t auts[AKA_AUTS_LEN], uint64_t *sqn_ms);

/* --- USIM ------------------------------------------------------------------------------ */

/* The sequence-number state of one USIM (Annex C.2): 264 octets, plain uint64_t words so
 * the check is branch-light and the layout obvious (sized for 32 slots whatever
 * ind_bits). Tables of millions of USIMs keep the small form below and unpack it for a
 * check. */
typedef struct {
  uint64_t sqn_ms;             /* highest accepted SQN (SEQ || IND), 48 bits; 0 at start */
  uint64_t seq[AKA_SLOTS_MAX]; /* SEQ_MS(i) for each IND slot i < 2^ind_bits; 0 at start */
} AkaUsim;

/* A fresh USIM: every SEQ_MS(i) and SQN_MS zero (Annex C.2.1 initial values). */
void aka_usim_init(AkaUsim *usim);

/* A USIM whose highest accepted SQN is `sqn_ms`: slot IND(sqn_ms) holds SEQ(sqn_ms);
 * every other slot i holds the largest SEQ with SEQ || i <= sqn_ms, i.e. SEQ(sqn_ms) for
 * i below IND(sqn_ms) and SEQ(sqn_ms) - 1 above it (0 when SEQ(sqn_ms) is 0): the state
 * of a USIM that has accepted every SQN up to sqn_ms. Returns false if sqn_ms >
 * AKA_SQN_MAX or cfg->ind_bits > AKA_IND_BITS_MAX. */
bool aka_usim_init_at(AkaUsim *usim, const AkaConfig *cfg, uint64_t sqn_ms);

/* The same state in 32 octets, for tables of millions of USIMs that each use a handful of
 * IND slots (one per serving node they met): SQN_MS, the SQN_MS the USIM started from
 * (its slots as aka_usim_init_at gives them), and up to AKA_SMALL_SLOTS slots whose SEQ
 * has moved since. Annex C semantics are those of AkaUsim: unpack, check, pack. */
#define AKA_SMALL_SLOTS 2
typedef struct {
  uint64_t sqn_ms;                 /* SQN_MS now, 48 bits */
  uint64_t start;                  /* the SQN_MS it started from */
  uint64_t moved[AKA_SMALL_SLOTS]; /* SEQ << 8 | IND << 1 | 1 of a moved slot; 0 = unused */
} AkaUsimSmall;

/* A small USIM started at sqn_ms (0: a fresh one). False as aka_usim_init_at. */
bool aka_usim_small_init_at(AkaUsimSmall *small, const AkaConfig *cfg, uint64_t sqn_ms);

/* The full state of a small one. */
void aka_usim_unpack(const AkaUsimSmall *small, const AkaConfig *cfg, AkaUsim *usim);

/* Writes `usim` (a state that started where `small` started) back into `small`; false,
 * and `small` untouched, when more than AKA_SMALL_SLOTS of its slots have moved (keep the
 * full AkaUsim then). */
bool aka_usim_pack(AkaUsimSmall *small, const AkaConfig *cfg, const AkaUsim *usim);

/* What the USIM answers (one of the three). */
typedef struct {
  uint8_t res[MIL_MAC_LEN];   /* AKA_OK: RES = f2 */
  uint8_t ck[MIL_K_LEN];      /* AKA_OK: f3 */
  uint8_t ik[MIL_K_LEN];      /* AKA_OK: f4 */
  uint8_t auts[AKA_AUTS_LEN]; /* AKA_SYNC_FAILURE: (SQN_MS xor f5*) || f1*(SQN_MS, AMF*=0) */
} AkaUsimAnswer;

/* The USIM's check of (RAND, AUTN) (TS 33.102 §6.3.3): AK = f5(RAND),
 * SQN = AUTN[0..5] xor AK, XMAC = f1(SQN, RAND, AMF) compared with MAC-A in constant
 * time (AKA_MAC_FAILURE if different; state untouched); then SQN freshness per Annex
 * C.2: SEQ > SEQ_MS(IND) and SEQ - max SEQ accepted <= L. Fresh: updates the slot and
 * SQN_MS, fills res/ck/ik, returns AKA_OK. Stale: fills auts and returns
 * AKA_SYNC_FAILURE (state untouched). AKA_BAD_ARGUMENT if cfg is out of range. Parts
 * of `ans` not named for the outcome are zeroed. */
AkaStatus aka_usim_check(const AkaConfig *cfg, const MilImpl *mil, const AkaKeys *keys,
                         AkaUsim *usim, const uint8_t rand[MIL_K_LEN],
                         const uint8_t autn[AKA_AUTN_LEN], AkaUsimAnswer *ans);

/* AUTS for a given SQN_MS (the USIM's side of §6.3.5), for tools and tests. */
void aka_auts_build(const MilImpl *mil, const AkaKeys *keys, const uint8_t rand[MIL_K_LEN],
                    uint64_t sqn_ms, uint8_t auts[AKA_AUTS_LEN]);
