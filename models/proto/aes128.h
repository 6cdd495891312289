/* Private to the protocol core: AES-128 with an expanded key on AES-NI, the block function
 * the sealed package runs OpenSSL's GCM mode (CRYPTO_gcm128_*) on. OpenSSL's own
 * AES-GCM costs ~1 us a package, nearly all of it the per-call machinery of EVP (provider
 * dispatch, parameter lookups, a new GHASH key per call through EVP_CipherInit); the
 * block cipher is the only part done here, OpenSSL keeps the mode and the GHASH. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct {
  uint8_t rk[11][16] __attribute__((aligned(16))); /* the round keys of FIPS 197 §5.2 */
} Aes128Key;

/* True when this CPU runs AES-NI (cpuid); the functions below need it. */
bool aes128_ni_available(void);

/* Expands k into *key. */
void aes128_ni_set_key(Aes128Key *key, const uint8_t k[16]);

/* out = AES-128(key, in), in OpenSSL's block128_f shape (key is an Aes128Key). */
void aes128_ni_block(const unsigned char in[16], unsigned char out[16], const void *key);
