/* UMTS AKA (3GPP TS 33.102 §6.3) with Annex C sequence-number management: AV generation
 * and resynchronisation on the HE side, the AUTN check on the USIM side. See
 * include/m2m/aka.h for the model; every MILENAGE evaluation goes through one
 * MilImpl->compute call (one key schedule, six AES blocks). */
#include "m2m/aka.h"

#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t amf_resync[MIL_AMF_LEN] = {0, 0}; /* AMF* (TS 33.102 §6.3.3) */

void
aka_config_init(AkaConfig *cfg)
{
  cfg->ind_bits = AKA_IND_BITS_DEFAULT;
  cfg->limit = AKA_LIMIT_DEFAULT;
}

static bool
config_ok(const AkaConfig *cfg)
{
  return cfg->ind_bits <= AKA_IND_BITS_MAX && cfg->limit >= 1;
}

const char *
aka_status_name(AkaStatus status)
{
  switch (status) {
  case AKA_OK:
    return "ok";
  case AKA_MAC_FAILURE:
    return "mac-failure";
  case AKA_SYNC_FAILURE:
    return "sync-failure";
  case AKA_SQN_EXHAUSTED:
    return "sqn-exhausted";
  case AKA_BAD_ARGUMENT:
    return "bad-argument";
  }
  return "unknown";
}

static inline const MilImpl *
pick(const MilImpl *mil)
{
  return mil ? mil : mil_impl_best();
}

static inline void
amf_put(uint16_t amf, uint8_t out[MIL_AMF_LEN])
{
  out[0] = (uint8_t)(amf >> 8);
  out[1] = (uint8_t)amf;
}

/* The AV for one SQN: MILENAGE once, then AUTN = (SQN xor AK) || AMF || MAC-A. */
static void
av_build(const MilImpl *mil, const AkaKeys *keys, uint64_t sqn, const uint8_t amf[2], AkaVector *av)
{
  uint8_t sqn_b[MIL_SQN_LEN];
  MilOut o;
  mil_sqn_put(sqn, sqn_b);
  mil->compute(keys->k, keys->opc, av->rand, sqn_b, amf, &o);
  memcpy(av->xres, o.res, sizeof av->xres);
  memcpy(av->ck, o.ck, sizeof av->ck);
  memcpy(av->ik, o.ik, sizeof av->ik);
  for (int i = 0; i < MIL_SQN_LEN; i++)
    av->autn[i] = sqn_b[i] ^ o.ak[i];
  memcpy(av->autn + 6, amf, 2);
  memcpy(av->autn + 8, o.mac_a, 8);
}

AkaStatus
aka_av_build(const MilImpl *mil, const AkaKeys *keys, const uint8_t rand[MIL_K_LEN], uint64_t sqn,
             uint16_t amf, AkaVector *av)
{
  if (sqn > AKA_SQN_MAX)
    return AKA_BAD_ARGUMENT;
  uint8_t amf_b[MIL_AMF_LEN];
  amf_put(amf, amf_b);
  memmove(av->rand, rand, MIL_K_LEN);
  av_build(pick(mil), keys, sqn, amf_b, av);
  return AKA_OK;
}

static inline uint64_t
seq_max(const AkaConfig *cfg)
{
  return AKA_SQN_MAX >> cfg->ind_bits;
}

uint64_t
aka_he_next_sqn(const AkaConfig *cfg, uint64_t seq_he, unsigned ind)
{
  return (seq_he + 1) << cfg->ind_bits | ind;
}

AkaStatus
aka_he_generate(const AkaConfig *cfg, const MilImpl *mil, const AkaKeys *keys, uint64_t *seq_he,
                unsigned ind, uint16_t amf, const AkaRandom *rng, AkaVector *avs, size_t n)
{
  if (!config_ok(cfg) || ind >> cfg->ind_bits != 0)
    return AKA_BAD_ARGUMENT;
  if (*seq_he > seq_max(cfg) || n > seq_max(cfg) - *seq_he)
    return AKA_SQN_EXHAUSTED;
  mil = pick(mil);
  uint8_t amf_b[MIL_AMF_LEN];
  amf_put(amf, amf_b);
  uint64_t seq = *seq_he;
  for (size_t i = 0; i < n; i++) {
    seq++;
    rng->fill(rng->ctx, avs[i].rand, MIL_K_LEN);
    av_build(mil, keys, seq << cfg->ind_bits | ind, amf_b, &avs[i]);
  }
  *seq_he = seq;
  return AKA_OK;
}

void
aka_auts_build(const MilImpl *mil, const AkaKeys *keys, const uint8_t rand[MIL_K_LEN],
               uint64_t sqn_ms, uint8_t auts[AKA_AUTS_LEN])
{
  /* f5* does not depend on SQN, so one evaluation with SQN_MS and AMF* gives both
   * AK* and MAC-S. */
  uint8_t sqn_b[MIL_SQN_LEN];
  MilOut o;
  mil_sqn_put(sqn_ms & AKA_SQN_MAX, sqn_b);
  pick(mil)->compute(keys->k, keys->opc, rand, sqn_b, amf_resync, &o);
  for (int i = 0; i < MIL_SQN_LEN; i++)
    auts[i] = sqn_b[i] ^ o.ak_s[i];
  memcpy(auts + 6, o.mac_s, 8);
  OPENSSL_cleanse(&o, sizeof o);
}

AkaStatus
aka_auts_verify(const MilImpl *mil, const AkaKeys *keys, const uint8_t rand[MIL_K_LEN],
                const uint8_t auts[AKA_AUTS_LEN], uint64_t *sqn_ms)
{
  static const uint8_t zero_sqn[MIL_SQN_LEN];
  uint8_t sqn_b[MIL_SQN_LEN];
  MilOut o;
  mil = pick(mil);
  /* AK* = f5*(RAND) first (independent of SQN), then MAC-S over the recovered SQN_MS. */
  mil->compute(keys->k, keys->opc, rand, zero_sqn, amf_resync, &o);
  for (int i = 0; i < MIL_SQN_LEN; i++)
    sqn_b[i] = auts[i] ^ o.ak_s[i];
  mil->compute(keys->k, keys->opc, rand, sqn_b, amf_resync, &o);
  bool ok = CRYPTO_memcmp(o.mac_s, auts + 6, MIL_MAC_LEN) == 0;
  OPENSSL_cleanse(&o, sizeof o);
  if (!ok)
    return AKA_MAC_FAILURE;
  *sqn_ms = mil_sqn_get(sqn_b);
  return AKA_OK;
}

AkaStatus
aka_he_resync(const AkaConfig *cfg, const MilImpl *mil, const AkaKeys *keys, uint64_t *seq_he,
              const uint8_t rand[MIL_K_LEN], const uint8_t auts[AKA_AUTS_LEN], uint64_t *sqn_ms)
{
  if (!config_ok(cfg))
    return AKA_BAD_ARGUMENT;
  uint64_t ms;
  AkaStatus st = aka_auts_verify(mil, keys, rand, auts, &ms);
  if (st != AKA_OK)
    return st;
  /* §6.3.5 c): keep SEQ_HE when its next value is acceptable to the USIM (above SEQ_MS,
   * within L of it); otherwise restart from SEQ_MS so the next AV carries SEQ_MS + 1. */
  uint64_t seq_ms = ms >> cfg->ind_bits, next = *seq_he + 1;
  if (next <= seq_ms || next - seq_ms > cfg->limit)
    *seq_he = seq_ms;
  if (sqn_ms)
    *sqn_ms = ms;
  return AKA_OK;
}

void
aka_usim_init(AkaUsim *usim)
{
  memset(usim, 0, sizeof *usim);
}

bool
aka_usim_init_at(AkaUsim *usim, const AkaConfig *cfg, uint64_t sqn_ms)
{
  if (sqn_ms > AKA_SQN_MAX || cfg->ind_bits > AKA_IND_BITS_MAX)
    return false;
  aka_usim_init(usim);
  unsigned slots = 1u << cfg->ind_bits;
  uint64_t seq = sqn_ms >> cfg->ind_bits, ind = sqn_ms & (slots - 1);
  for (unsigned i = 0; i < slots; i++)
    usim->seq[i] = i <= ind ? seq : (seq > 0 ? seq - 1 : 0);
  usim->sqn_ms = sqn_ms;
  return true;
}

bool
aka_usim_small_init_at(AkaUsimSmall *small, const AkaConfig *cfg, uint64_t sqn_ms)
{
  if (sqn_ms > AKA_SQN_MAX || cfg->ind_bits > AKA_IND_BITS_MAX)
    return false;
  *small = (AkaUsimSmall){.sqn_ms = sqn_ms, .start = sqn_ms};
  return true;
}

void
aka_usim_unpack(const AkaUsimSmall *small, const AkaConfig *cfg, AkaUsim *usim)
{
  if (!aka_usim_init_at(usim, cfg, small->start))
    abort(); /* small_init_at checked it: a corrupted small state */
  usim->sqn_ms = small->sqn_ms;
  for (int k = 0; k < AKA_SMALL_SLOTS; k++)
    if (small->moved[k] & 1)
      usim->seq[(small->moved[k] >> 1) & 0x7f] = small->moved[k] >> 8;
}

bool
aka_usim_pack(AkaUsimSmall *small, const AkaConfig *cfg, const AkaUsim *usim)
{
  AkaUsim start;
  if (!aka_usim_init_at(&start, cfg, small->start))
    return false;
  uint64_t moved[AKA_SMALL_SLOTS] = {0};
  int n = 0;
  for (unsigned i = 0; i < (1u << cfg->ind_bits); i++) {
    if (usim->seq[i] == start.seq[i])
      continue;
    if (n == AKA_SMALL_SLOTS)
      return false;
    moved[n++] = usim->seq[i] << 8 | (uint64_t)i << 1 | 1;
  }
  small->sqn_ms = usim->sqn_ms;
  memcpy(small->moved, moved, sizeof moved);
  return true;
}

AkaStatus
aka_usim_check(const AkaConfig *cfg, const MilImpl *mil, const AkaKeys *keys, AkaUsim *usim,
               const uint8_t rand[MIL_K_LEN], const uint8_t autn[AKA_AUTN_LEN], AkaUsimAnswer *ans)
{
  static const uint8_t zero_sqn[MIL_SQN_LEN];
  memset(ans, 0, sizeof *ans);
  if (!config_ok(cfg))
    return AKA_BAD_ARGUMENT;
  mil = pick(mil);
  MilOut o;
  uint8_t sqn_b[MIL_SQN_LEN];
  /* AK = f5(RAND) does not depend on SQN: one evaluation to unmask SQN, a second one for
   * XMAC-A = f1(SQN, RAND, AMF) and the keys. */
  mil->compute(keys->k, keys->opc, rand, zero_sqn, autn + 6, &o);
  for (int i = 0; i < MIL_SQN_LEN; i++)
    sqn_b[i] = autn[i] ^ o.ak[i];
  mil->compute(keys->k, keys->opc, rand, sqn_b, autn + 6, &o);
  if (CRYPTO_memcmp(o.mac_a, autn + 8, MIL_MAC_LEN) != 0) {
    OPENSSL_cleanse(&o, sizeof o);
    return AKA_MAC_FAILURE;
  }

  /* Annex C.2.1 (array per IND slot) and C.2.2 (limit L from the highest SEQ accepted). */
  uint64_t sqn = mil_sqn_get(sqn_b);
  uint64_t seq = sqn >> cfg->ind_bits, ind = sqn & ((UINT64_C(1) << cfg->ind_bits) - 1);
  uint64_t seq_hi = usim->sqn_ms >> cfg->ind_bits;
  bool fresh = seq > usim->seq[ind] && (seq <= seq_hi || seq - seq_hi <= cfg->limit);
  if (!fresh) {
    /* AUTS = (SQN_MS xor AK*) || MAC-S; AK* is in `o` already (independent of SQN). */
    uint8_t ms_b[MIL_SQN_LEN];
    mil_sqn_put(usim->sqn_ms, ms_b);
    for (int i = 0; i < MIL_SQN_LEN; i++)
      ans->auts[i] = ms_b[i] ^ o.ak_s[i];
    mil->compute(keys->k, keys->opc, rand, ms_b, amf_resync, &o);
    memcpy(ans->auts + 6, o.mac_s, MIL_MAC_LEN);
    OPENSSL_cleanse(&o, sizeof o);
    return AKA_SYNC_FAILURE;
  }
  usim->seq[ind] = seq;
  if (sqn > usim->sqn_ms)
    usim->sqn_ms = sqn;
  memcpy(ans->res, o.res, sizeof ans->res);
  memcpy(ans->ck, o.ck, sizeof ans->ck);
  memcpy(ans->ik, o.ik, sizeof ans->ik);
  OPENSSL_cleanse(&o, sizeof o);
  return AKA_OK;
}
