/* keccak.c - Keccak-256 sponge (rate 136 bytes) over nettle's sha3_permute.
 * nettle keeps the state as 25 native 64-bit lanes and reads input bytes as
 * little-endian lanes, so absorbing and squeezing go through explicit
 * little-endian conversions and work on any host byte order. */
#include "keccak.h"

#include <string.h>

static void absorb(struct sha3_state *s, const uint8_t *block)
{
	for (size_t i = 0; i < XR_KECCAK256_RATE / 8; i++) {
		uint64_t lane = 0;
		for (int j = 7; j >= 0; j--)
			lane = lane << 8 | block[8 * i + (size_t)j];
		s->a[i] ^= lane;
	}
	sha3_permute(s);
}

void xr_keccak256_init(struct xr_keccak256 *k)
{
	memset(k, 0, sizeof(*k));
}

void xr_keccak256_update(struct xr_keccak256 *k, const void *p, size_t n)
{
	const uint8_t *d = p;

	if (k->index > 0) {
		size_t take = XR_KECCAK256_RATE - k->index;
		if (take > n)
			take = n;
		memcpy(k->block + k->index, d, take);
		k->index += take;
		d += take;
		n -= take;
		if (k->index < XR_KECCAK256_RATE)
			return;
		absorb(&k->state, k->block);
		k->index = 0;
	}
	for (; n >= XR_KECCAK256_RATE; d += XR_KECCAK256_RATE, n -= XR_KECCAK256_RATE)
		absorb(&k->state, d);
	if (n > 0) {
		memcpy(k->block, d, n);
		k->index = n;
	}
}

void xr_keccak256_final(struct xr_keccak256 *k, uint8_t out[32])
{
	/* pad10*1 with Keccak's domain byte 0x01; both ends may share a byte. */
	memset(k->block + k->index, 0, XR_KECCAK256_RATE - k->index);
	k->block[k->index] = 0x01;
	k->block[XR_KECCAK256_RATE - 1] |= 0x80;
	absorb(&k->state, k->block);
	for (size_t i = 0; i < 32; i++)
		out[i] = (uint8_t)(k->state.a[i / 8] >> (8 * (i % 8)));
	xr_keccak256_init(k);
}

void xr_keccak256(const void *p, size_t n, uint8_t out[32])
{
	struct xr_keccak256 k;

	xr_keccak256_init(&k);
	xr_keccak256_update(&k, p, n);
	xr_keccak256_final(&k, out);
}
