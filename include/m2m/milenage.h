/* MILENAGE (3GPP TS 35.206): the example algorithm set f1, f1*, f2, f3, f4, f5, f5* over
 * AES-128, and OPc = OP xor E_K(OP).
 *
 * Two implementations give bit-identical output: a portable one on OpenSSL libcrypto's
 * AES, and a fast one on AES-NI, used when the CPU has it (checked once, at run time).
 * Both are reached through a MilImpl, a const table of function pointers, so tests and
 * benchmarks can pick one explicitly; everything else calls mil_impl_best().
 *
 * Speed shapes the interface: an authentication centre serves a stream of different
 * subscribers, so the key changes on every call. Each call therefore takes K itself (no
 * key object to set up), expands the AES key schedule on the stack and computes every
 * block it needs in one pass. Nothing is allocated and nothing global is written.
 *
 * All values are big-endian octet strings as in TS 35.206 (SQN 6 octets, AMF 2). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
  MIL_K_LEN = 16,  /* K, OP, OPc, RAND: 128 bits */
  MIL_SQN_LEN = 6, /* SQN, AK, AK*: 48 bits */
  MIL_AMF_LEN = 2, /* AMF: 16 bits */
  MIL_MAC_LEN = 8, /* MAC-A, MAC-S, RES: 64 bits */
};

/* Every output of one MILENAGE evaluation (TS 35.206 §4.1). 72 octets. */
typedef struct {
  uint8_t mac_a[MIL_MAC_LEN]; /* f1: network authentication code */
  uint8_t mac_s[MIL_MAC_LEN]; /* f1*: resynchronisation authentication code */
  uint8_t res[MIL_MAC_LEN];   /* f2: response (RES / XRES) */
  uint8_t ck[MIL_K_LEN];      /* f3: cipher key */
  uint8_t ik[MIL_K_LEN];      /* f4: integrity key */
  uint8_t ak[MIL_SQN_LEN];    /* f5: anonymity key */
  uint8_t ak_s[MIL_SQN_LEN];  /* f5*: resynchronisation anonymity key */
} MilOut;

/* One implementation of the AES-based kernels. Every function is pure: it reads its
 * arguments, writes its outputs, and may be called from any thread. */
typedef struct {
  const char *name; /* "aesni" or "portable" */

  /* out = E_K(in): the AES-128 kernel of TS 35.206 §3 (one block). */
  void (*aes128)(const uint8_t k[MIL_K_LEN], const uint8_t in[16], uint8_t out[16]);

  /* All seven functions for one (K, OPc, RAND, SQN, AMF): TEMP and OUT1..OUT5, i.e. six
   * AES blocks under one key schedule. This is the AV fast path. */
  void (*compute)(const uint8_t k[MIL_K_LEN], const uint8_t opc[MIL_K_LEN],
                  const uint8_t rand[MIL_K_LEN], const uint8_t sqn[MIL_SQN_LEN],
                  const uint8_t amf[MIL_AMF_LEN], MilOut *out);
} MilImpl;

/* The portable implementation (OpenSSL AES). Never NULL. */
const MilImpl *mil_impl_portable(void);

/* The AES-NI implementation, or NULL when the CPU lacks AES-NI or SSE4.1, or the build
 * is not for x86-64. */
const MilImpl *mil_impl_aesni(void);

/* The fastest implementation this CPU runs: AES-NI when available, else portable. */
const MilImpl *mil_impl_best(void);

/* Looks an implementation up by name: "aesni", "portable" or "best". Returns NULL for an
 * unknown name or for "aesni" on a CPU without it. */
const MilImpl *mil_impl_by_name(const char *name);

/* OPc = OP xor E_K(OP) (TS 35.206 §4.1). `impl` NULL means mil_impl_best(). opc may
 * alias op. */
void mil_opc(const MilImpl *impl, const uint8_t k[MIL_K_LEN], const uint8_t op[MIL_K_LEN],
             uint8_t opc[MIL_K_LEN]);

/* Fills every output of MILENAGE for the inputs (f1, f1*, f2, f3, f4, f5, f5*). `impl`
 * NULL means mil_impl_best(). */
void mil_compute(const MilImpl *impl, const uint8_t k[MIL_K_LEN], const uint8_t opc[MIL_K_LEN],
                 const uint8_t rand[MIL_K_LEN], const uint8_t sqn[MIL_SQN_LEN],
                 const uint8_t amf[MIL_AMF_LEN], MilOut *out);

/* SQN as a 48-bit integer <-> its 6 big-endian octets. */
uint64_t mil_sqn_get(const uint8_t sqn[MIL_SQN_LEN]);
void mil_sqn_put(uint64_t value, uint8_t sqn[MIL_SQN_LEN]);
