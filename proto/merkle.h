/* merkle.h - RFC 9162 section 2.1 Merkle tree math: hashing, root, inclusion
 * and consistency proofs (generation and verification), and the frontier
 * that an append-only log keeps to add leaves in O(1) amortized hashes. */
#ifndef XR_MERKLE_H
#define XR_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xr_err.h"

#define XR_MERKLE_MAX_PROOF 64

/* leaf = SHA-256(0x00 || data) */
void xr_merkle_leaf_hash(const void *data, size_t n, uint8_t ret[32]);
/* node = SHA-256(0x01 || left || right) */
void xr_merkle_node_hash(const uint8_t left[32], const uint8_t right[32], uint8_t ret[32]);

/* Supplies the hash of the complete subtree at `level` whose leaves are
 * [index << level, (index + 1) << level). Level 0 is a leaf hash. */
typedef int (*xr_subtree_fn)(
    void *ctx, unsigned level, uint64_t index, uint8_t ret[32], struct xr_err *err);

/* MTH of the first `size` leaves (size 0: SHA-256 of the empty string). */
int xr_merkle_root(
    uint64_t size, xr_subtree_fn get, void *ctx, uint8_t ret[32], struct xr_err *err);

/* PATH(index, D[size]); ret must hold XR_MERKLE_MAX_PROOF hashes. */
int xr_merkle_inclusion_proof(uint64_t index,
			      uint64_t size,
			      xr_subtree_fn get,
			      void *ctx,
			      uint8_t ret[][32],
			      size_t *ret_n,
			      struct xr_err *err);

/* PROOF(m, D[n]) for 0 < m <= n; ret must hold XR_MERKLE_MAX_PROOF hashes. */
int xr_merkle_consistency_proof(uint64_t m,
				uint64_t n,
				xr_subtree_fn get,
				void *ctx,
				uint8_t ret[][32],
				size_t *ret_n,
				struct xr_err *err);

/* RFC 9162 section 2.1.3.2; XR_EVERIFY with the reason on mismatch. */
int xr_merkle_verify_inclusion(uint64_t index,
			       uint64_t size,
			       const uint8_t leaf[32],
			       const uint8_t proof[][32],
			       size_t n,
			       const uint8_t root[32],
			       struct xr_err *err);

/* RFC 9162 section 2.1.4.2; XR_EVERIFY with the reason on mismatch. */
int xr_merkle_verify_consistency(uint64_t m,
				 uint64_t n,
				 const uint8_t root_m[32],
				 const uint8_t root_n[32],
				 const uint8_t proof[][32],
				 size_t cnt,
				 struct xr_err *err);

/* The right edge of a log: for every set bit b of size, the root of the
 * complete subtree of 2^b leaves that ends the covered prefix. */
struct xr_merkle_frontier {
	uint64_t size;
	uint8_t hash[64][32];
};

/* Called for every complete subtree the push creates, level 0 first. */
typedef void (*xr_node_fn)(void *ctx, unsigned level, uint64_t index, const uint8_t hash[32]);

void xr_merkle_frontier_push(struct xr_merkle_frontier *f,
			     const uint8_t leaf[32],
			     xr_node_fn on_node,
			     void *ctx);
void xr_merkle_frontier_root(const struct xr_merkle_frontier *f, uint8_t ret[32]);
/* Rebuilds the frontier of `size` leaves from stored subtrees. */
int xr_merkle_frontier_load(
    struct xr_merkle_frontier *f, uint64_t size, xr_subtree_fn get, void *ctx, struct xr_err *err);

#endif
