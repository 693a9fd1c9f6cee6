/* mpt.h - Ethereum's Merkle-Patricia trie (yellow paper, appendices C and D)
 * as far as block evidence needs it: build a trie from all of its (key,
 * value) pairs at once (transactions, receipts and withdrawals tries), take
 * its root, prove one key, and verify such a proof against a root. */
#ifndef XR_EVM_MPT_H
#define XR_EVM_MPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xr_bytes.h"
#include "xr_err.h"

/* Longest key accepted, in bytes (state tries use 32, index tries at most 9). */
#define XR_MPT_MAX_KEY 64
/* Largest encoded node the builder makes (a leaf holds a whole receipt). */
#define XR_MPT_MAX_NODE (16u << 20)

/* keccak256(RLP("")): the root of the trie with no keys. */
extern const uint8_t xr_mpt_empty_root[32];

/* One pair for the builder; both borrowed for the duration of the call. */
struct xr_mpt_kv {
	const uint8_t *key;
	size_t key_len;
	const uint8_t *val;
	size_t val_len;
};

struct xr_mpt;

/* The key of entry i in a transactions, receipts or withdrawals trie:
 * RLP(i). Writes at most 9 bytes to out and returns how many. */
size_t xr_mpt_index_key(uint64_t i, uint8_t out[9]);

/* Builds the trie of n pairs (any order). Keys must be distinct and at most
 * XR_MPT_MAX_KEY bytes; values must be non-empty (an empty value means "no
 * key" in this trie). The caller frees *ret with xr_mpt_free. */
int xr_mpt_build(const struct xr_mpt_kv *kv, size_t n, struct xr_mpt **ret, struct xr_err *err);
void xr_mpt_free(struct xr_mpt *t);
void xr_mpt_root(const struct xr_mpt *t, uint8_t out[32]);

/* Appends to out the proof for key: the RLP encodings of the nodes on its
 * path, root first, concatenated (each is one RLP list, so the proof splits
 * with xr_rlp_decode_prefix). Nodes embedded in their parent (encodings
 * under 32 bytes) are not repeated. For a key not in the trie this is the
 * proof of its absence. *ret_count (may be NULL) gets the number of nodes. */
int xr_mpt_prove(const struct xr_mpt *t,
		 const uint8_t *key,
		 size_t key_len,
		 struct xr_buf *out,
		 size_t *ret_count,
		 struct xr_err *err);

/* Verifies a proof made as above against root for key. Returns 0 and the
 * value (borrowed from proof) when the proof shows key holds it;
 * XR_ENOTFOUND when the proof shows key is not in the trie; XR_EVERIFY
 * naming the first thing wrong otherwise (a node not hashing to its
 * reference, a malformed node, a path that does not lead to key, a missing
 * or extra node). */
int xr_mpt_verify(const uint8_t root[32],
		  const uint8_t *key,
		  size_t key_len,
		  const uint8_t *proof,
		  size_t proof_len,
		  const uint8_t **ret_val,
		  size_t *ret_val_len,
		  struct xr_err *err);

/* Hex-prefix encoding (appendix C) of n nibbles (each 0..15) with the leaf
 * flag; out must hold n / 2 + 1 bytes. Returns the encoded length. */
size_t xr_mpt_hp_encode(const uint8_t *nibbles, size_t n, bool leaf, uint8_t *out);
/* Decodes hex-prefix bytes into nibbles (room for 2 * n - 1 of them);
 * refuses an empty input, a flag nibble above 3 and a non-zero pad nibble. */
int xr_mpt_hp_decode(const uint8_t *p,
		     size_t n,
		     uint8_t *nibbles,
		     size_t *ret_n,
		     bool *ret_leaf,
		     struct xr_err *err);

#endif
