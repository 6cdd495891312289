/* Private to MILENAGE: what milenage.c (portable path, selection) and milenage-aesni.c
 * (AES-NI path) share. Not part of the public interface. */
#pragma once

#include <string.h>

#include "m2m/milenage.h"

/* The AES-NI table when this CPU runs it (cpuid checked once), else NULL. Defined in
 * milenage-aesni.c, which is built with -maes -msse4.1. */
const MilImpl *mil_aesni_probe_(void);

/* Copies the outputs of TS 35.206 §4.1 out of OUT1, OUT2, ..., OUT5 (each already
 * xored with OPc): f1 = OUT1[0..63], f1* = OUT1[64..127], f5 = OUT2[0..47],
 * f2 = OUT2[64..127], f3 = OUT3, f4 = OUT4, f5* = OUT5[0..47]. */
static inline void
mil_out_from_blocks_(const uint8_t out1[16], const uint8_t out2[16], const uint8_t out3[16],
                     const uint8_t out4[16], const uint8_t out5[16], MilOut *out)
{
  memcpy(out->mac_a, out1, 8);
  memcpy(out->mac_s, out1 + 8, 8);
  memcpy(out->ak, out2, 6);
  memcpy(out->res, out2 + 8, 8);
  memcpy(out->ck, out3, 16);
  memcpy(out->ik, out4, 16);
  memcpy(out->ak_s, out5, 6);
}
