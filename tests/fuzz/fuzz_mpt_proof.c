/* fuzz_mpt_proof.c - libFuzzer target for Merkle-Patricia proof
 * verification against a fixed trie of 40 entries keyed by RLP(index). The
 * first input byte picks the key (index mod 64: 40..63 are absent), the rest
 * is the proof. No crash; a proof that verifies gives the key's true value;
 * a present key is never proved absent, an absent one never present. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ENTRIES 40

static uint8_t keys[64][9], vals[ENTRIES][48];
static size_t key_len[64], val_len[ENTRIES];
static uint8_t root[32];

/* Entry i: 1 + (i * 11) % 48 bytes, so leaves both embed and hash. */
static void init_trie(void)
{
	struct xr_mpt_kv kv[ENTRIES];
	struct xr_mpt *t;

	for (size_t i = 0; i < 64; i++)
		key_len[i] = xr_mpt_index_key(i, keys[i]);
	for (size_t i = 0; i < ENTRIES; i++) {
		val_len[i] = 1 + (i * 11) % 48;
		for (size_t j = 0; j < val_len[i]; j++)
			vals[i][j] = (uint8_t)(i * 31 + j);
		kv[i] = (struct xr_mpt_kv){keys[i], key_len[i], vals[i], val_len[i]};
	}
	if (xr_mpt_build(kv, ENTRIES, &t, NULL) != 0)
		abort();
	xr_mpt_root(t, root);
	xr_mpt_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	const uint8_t *v;
	size_t vl;

	if (!ready) {
		init_trie();
		ready = 1;
	}
	if (size == 0)
		return 0;
	size_t k = data[0] % 64;
	int rc = xr_mpt_verify(root, keys[k], key_len[k], data + 1, size - 1, &v, &vl, NULL);
	if (rc == 0) {
		if (k >= ENTRIES || vl != val_len[k] || memcmp(v, vals[k], vl) != 0)
			abort();
		if (v < data + 1 || v + vl > data + size)
			abort();
	} else if (rc == XR_ENOTFOUND) {
		if (k < ENTRIES)
			abort();
	} else if (rc != XR_EVERIFY) {
		abort();
	}
	/* Against the empty trie nothing can be present. */
	if (xr_mpt_verify(xr_mpt_empty_root, keys[k], key_len[k], data + 1, size - 1, &v, &vl,
			  NULL) == 0)
		abort();
	return 0;
}
