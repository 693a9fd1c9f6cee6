/* merkle.c - RFC 9162 Merkle tree hashing and proofs over a subtree source. */
#include "merkle.h"

#include <string.h>

#include "xr_bytes.h"

void xr_merkle_leaf_hash(const void *data, size_t n, uint8_t ret[32])
{
	static const uint8_t z = 0x00;
	xr_sha256_2(&z, 1, data, n, ret);
}

void xr_merkle_node_hash(const uint8_t left[32], const uint8_t right[32], uint8_t ret[32])
{
	uint8_t t[65];
	t[0] = 0x01;
	memcpy(t + 1, left, 32);
	memcpy(t + 33, right, 32);
	xr_sha256(t, sizeof(t), ret);
}

/* Largest power of two strictly below n (n >= 2). */
static uint64_t split(uint64_t n)
{
	uint64_t k = 1;
	/* k <= (n - 1) / 2 is 2k < n without overflowing 2k when n > 2^63. */
	while (k <= (n - 1) >> 1)
		k <<= 1;
	return k;
}

static bool is_pow2(uint64_t n)
{
	return n && !(n & (n - 1));
}

static unsigned log2u(uint64_t n)
{
	return 63u - (unsigned)__builtin_clzll(n);
}

/* MTH(D[a:b]) where a is aligned to the largest power of two <= b - a, as it
 * always is inside the RFC recursion. */
static int range_hash(
    uint64_t a, uint64_t b, xr_subtree_fn get, void *ctx, uint8_t ret[32], struct xr_err *err)
{
	uint64_t n = b - a;
	if (is_pow2(n) && a % n == 0) {
		unsigned l = log2u(n);
		return get(ctx, l, a >> l, ret, err);
	}
	uint64_t k = split(n);
	uint8_t l[32], r[32];
	int rc = range_hash(a, a + k, get, ctx, l, err);
	if (rc == 0)
		rc = range_hash(a + k, b, get, ctx, r, err);
	if (rc == 0)
		xr_merkle_node_hash(l, r, ret);
	return rc;
}

int xr_merkle_root(uint64_t size, xr_subtree_fn get, void *ctx, uint8_t ret[32], struct xr_err *err)
{
	if (size == 0) {
		xr_sha256("", 0, ret);
		return 0;
	}
	return range_hash(0, size, get, ctx, ret, err);
}

static int path(uint64_t m,
		uint64_t a,
		uint64_t b,
		xr_subtree_fn get,
		void *ctx,
		uint8_t out[][32],
		size_t *n,
		struct xr_err *err)
{
	if (b - a == 1)
		return 0;
	uint64_t k = split(b - a);
	int rc;
	if (m < a + k) {
		if ((rc = path(m, a, a + k, get, ctx, out, n, err)) < 0)
			return rc;
		rc = range_hash(a + k, b, get, ctx, out[*n], err);
	} else {
		if ((rc = path(m, a + k, b, get, ctx, out, n, err)) < 0)
			return rc;
		rc = range_hash(a, a + k, get, ctx, out[*n], err);
	}
	if (rc == 0)
		(*n)++;
	return rc;
}

int xr_merkle_inclusion_proof(uint64_t index,
			      uint64_t size,
			      xr_subtree_fn get,
			      void *ctx,
			      uint8_t ret[][32],
			      size_t *ret_n,
			      struct xr_err *err)
{
	if (index >= size)
		return xr_err_set(err, XR_EINVAL, "leaf index %llu is outside a tree of size %llu",
				  (unsigned long long)index, (unsigned long long)size);
	size_t n = 0;
	int rc = path(index, 0, size, get, ctx, ret, &n, err);
	if (rc == 0)
		*ret_n = n;
	return rc;
}

static int subproof(uint64_t m,
		    uint64_t a,
		    uint64_t b,
		    bool start,
		    xr_subtree_fn get,
		    void *ctx,
		    uint8_t out[][32],
		    size_t *n,
		    struct xr_err *err)
{
	uint64_t len = b - a;
	int rc;
	if (m == len) {
		if (start)
			return 0;
		if ((rc = range_hash(a, b, get, ctx, out[*n], err)) == 0)
			(*n)++;
		return rc;
	}
	uint64_t k = split(len);
	if (m <= k) {
		if ((rc = subproof(m, a, a + k, start, get, ctx, out, n, err)) < 0)
			return rc;
		rc = range_hash(a + k, b, get, ctx, out[*n], err);
	} else {
		if ((rc = subproof(m - k, a + k, b, false, get, ctx, out, n, err)) < 0)
			return rc;
		rc = range_hash(a, a + k, get, ctx, out[*n], err);
	}
	if (rc == 0)
		(*n)++;
	return rc;
}

int xr_merkle_consistency_proof(uint64_t m,
				uint64_t n,
				xr_subtree_fn get,
				void *ctx,
				uint8_t ret[][32],
				size_t *ret_n,
				struct xr_err *err)
{
	if (m == 0 || m > n)
		return xr_err_set(err, XR_EINVAL,
				  "consistency needs 0 < old size <= new size, got %llu and %llu",
				  (unsigned long long)m, (unsigned long long)n);
	/* Beyond 2^63 leaves a proof can need 65 hashes, more than ret holds. */
	if (n > UINT64_C(1) << 63)
		return xr_err_set(err, XR_EINVAL, "tree size %llu is larger than 2^63",
				  (unsigned long long)n);
	size_t cnt = 0;
	int rc = subproof(m, 0, n, true, get, ctx, ret, &cnt, err);
	if (rc == 0)
		*ret_n = cnt;
	return rc;
}

int xr_merkle_verify_inclusion(uint64_t index,
			       uint64_t size,
			       const uint8_t leaf[32],
			       const uint8_t proof[][32],
			       size_t n,
			       const uint8_t root[32],
			       struct xr_err *err)
{
	if (index >= size)
		return xr_err_set(err, XR_EVERIFY, "leaf index %llu is outside a tree of size %llu",
				  (unsigned long long)index, (unsigned long long)size);
	uint64_t fn = index, sn = size - 1;
	uint8_t r[32];
	memcpy(r, leaf, 32);
	for (size_t i = 0; i < n; i++) {
		if (sn == 0)
			return xr_err_set(
			    err, XR_EVERIFY,
			    "inclusion proof has %zu hashes, more than the tree needs", n);
		if ((fn & 1) || fn == sn) {
			xr_merkle_node_hash(proof[i], r, r);
			if (!(fn & 1))
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			xr_merkle_node_hash(r, proof[i], r);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return xr_err_set(err, XR_EVERIFY,
				  "inclusion proof has %zu hashes, fewer than the tree needs", n);
	if (memcmp(r, root, 32) != 0)
		return xr_err_set(err, XR_EVERIFY,
				  "inclusion proof for leaf %llu does not lead to the root",
				  (unsigned long long)index);
	return 0;
}

int xr_merkle_verify_consistency(uint64_t m,
				 uint64_t n,
				 const uint8_t root_m[32],
				 const uint8_t root_n[32],
				 const uint8_t proof[][32],
				 size_t cnt,
				 struct xr_err *err)
{
	if (m > n)
		return xr_err_set(err, XR_EVERIFY, "old size %llu is larger than new size %llu",
				  (unsigned long long)m, (unsigned long long)n);
	if (m == n) {
		if (cnt != 0)
			return xr_err_set(err, XR_EVERIFY,
					  "consistency proof between equal sizes must be empty");
		if (memcmp(root_m, root_n, 32) != 0)
			return xr_err_set(err, XR_EVERIFY,
					  "roots differ for the same tree size %llu",
					  (unsigned long long)m);
		return 0;
	}
	if (m == 0)
		return cnt == 0 ? 0
				: xr_err_set(err, XR_EVERIFY,
					     "consistency proof from the empty tree must be empty");
	/* The path, with the old root in front when m is a power of two. */
	const uint8_t *p[XR_MERKLE_MAX_PROOF + 1];
	size_t pn = 0;
	if (cnt > XR_MERKLE_MAX_PROOF)
		return xr_err_set(err, XR_EVERIFY, "consistency proof of %zu hashes is too long",
				  cnt);
	if (is_pow2(m))
		p[pn++] = root_m;
	for (size_t i = 0; i < cnt; i++)
		p[pn++] = proof[i];
	if (pn == 0)
		return xr_err_set(err, XR_EVERIFY, "consistency proof is empty");
	uint64_t fn = m - 1, sn = n - 1;
	while (fn & 1) {
		fn >>= 1;
		sn >>= 1;
	}
	uint8_t fr[32], sr[32];
	memcpy(fr, p[0], 32);
	memcpy(sr, p[0], 32);
	for (size_t i = 1; i < pn; i++) {
		if (sn == 0)
			return xr_err_set(err, XR_EVERIFY,
					  "consistency proof has more hashes than the trees need");
		if ((fn & 1) || fn == sn) {
			xr_merkle_node_hash(p[i], fr, fr);
			xr_merkle_node_hash(p[i], sr, sr);
			if (!(fn & 1))
				while (!(fn & 1) && fn != 0) {
					fn >>= 1;
					sn >>= 1;
				}
		} else {
			xr_merkle_node_hash(sr, p[i], sr);
		}
		fn >>= 1;
		sn >>= 1;
	}
	if (sn != 0)
		return xr_err_set(err, XR_EVERIFY,
				  "consistency proof has fewer hashes than the trees need");
	if (memcmp(fr, root_m, 32) != 0)
		return xr_err_set(err, XR_EVERIFY,
				  "consistency proof does not reproduce the old root of size %llu",
				  (unsigned long long)m);
	if (memcmp(sr, root_n, 32) != 0)
		return xr_err_set(err, XR_EVERIFY,
				  "consistency proof does not reproduce the new root of size %llu",
				  (unsigned long long)n);
	return 0;
}

void xr_merkle_frontier_push(struct xr_merkle_frontier *f,
			     const uint8_t leaf[32],
			     xr_node_fn on_node,
			     void *ctx)
{
	uint8_t h[32];
	uint64_t idx = f->size;
	unsigned level = 0;

	memcpy(h, leaf, 32);
	if (on_node)
		on_node(ctx, 0, idx, h);
	/* Each trailing one bit of the old size is a left sibling to merge. */
	while (idx & 1) {
		xr_merkle_node_hash(f->hash[level], h, h);
		idx >>= 1;
		level++;
		if (on_node)
			on_node(ctx, level, idx, h);
	}
	memcpy(f->hash[level], h, 32);
	f->size++;
}

void xr_merkle_frontier_root(const struct xr_merkle_frontier *f, uint8_t ret[32])
{
	if (f->size == 0) {
		xr_sha256("", 0, ret);
		return;
	}
	uint8_t h[32];
	bool have = false;
	for (unsigned l = 0; l < 64; l++) {
		if (!(f->size >> l & 1))
			continue;
		if (!have) {
			memcpy(h, f->hash[l], 32);
			have = true;
		} else {
			xr_merkle_node_hash(f->hash[l], h, h);
		}
	}
	memcpy(ret, h, 32);
}

int xr_merkle_frontier_load(
    struct xr_merkle_frontier *f, uint64_t size, xr_subtree_fn get, void *ctx, struct xr_err *err)
{
	memset(f, 0, sizeof(*f));
	uint64_t start = 0;
	for (int l = 63; l >= 0; l--) {
		if (!(size >> l & 1))
			continue;
		int rc = get(ctx, (unsigned)l, start >> l, f->hash[l], err);
		if (rc < 0)
			return rc;
		start += (uint64_t)1 << l;
	}
	f->size = size;
	return 0;
}
