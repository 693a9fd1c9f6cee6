/* keccak.h - Keccak-256 as Ethereum uses it (the original Keccak padding
 * 0x01, not SHA3-256's 0x06), on top of nettle's Keccak-f[1600]. */
#ifndef XR_EVM_KECCAK_H
#define XR_EVM_KECCAK_H

#include <stddef.h>
#include <stdint.h>

#include <nettle/sha3.h>

#define XR_KECCAK256_RATE 136

/* Incremental state; embed it and call xr_keccak256_init before use. */
struct xr_keccak256 {
	struct sha3_state state;
	uint8_t block[XR_KECCAK256_RATE];
	size_t index;
};

void xr_keccak256_init(struct xr_keccak256 *k);
void xr_keccak256_update(struct xr_keccak256 *k, const void *p, size_t n);
/* Writes the digest and leaves k re-initialised for a new message. */
void xr_keccak256_final(struct xr_keccak256 *k, uint8_t out[32]);

/* One-shot Keccak-256 of n bytes at p. */
void xr_keccak256(const void *p, size_t n, uint8_t out[32]);

#endif
