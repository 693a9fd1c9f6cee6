/* test_merkle.c - proto/merkle.c against a naive RFC 9162 reference written
 * here (MTH, PATH, SUBPROOF straight from the definitions), the RFC 6962 test
 * vectors, tampered proofs, and the frontier. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merkle.h"
#include "xr_bytes.h"

#define MAX_LEAVES 1024
/* ck_assert records a mark point (a write to a pipe) on every success: too
 * slow for the millions of checks below, so hot loops use this instead. */
#define EXPECT(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond))                                                                       \
			ck_abort_msg(__VA_ARGS__);                                                 \
	} while (0)
#define CHECK(cond) EXPECT(cond, "check failed: %s", #cond)
#define SAME(a, b) EXPECT(memcmp((a), (b), 32) == 0, "%s differs from %s", #a, #b)
/* C17 does not convert uint8_t (*)[32] to const uint8_t (*)[32] implicitly. */
#define PROOF(p) ((const uint8_t(*)[32])(p))

/* --- the reference: RFC 9162 section 2.1 written out naively ---------------- */

static uint8_t leaves[MAX_LEAVES][32];

static void ref_leaf(const void *d, size_t n, uint8_t out[32])
{
	uint8_t buf[64];
	CHECK(n < sizeof(buf));
	buf[0] = 0x00;
	memcpy(buf + 1, d, n);
	xr_sha256(buf, n + 1, out);
}

static void ref_node(const uint8_t l[32], const uint8_t r[32], uint8_t out[32])
{
	uint8_t buf[65];
	buf[0] = 0x01;
	memcpy(buf + 1, l, 32);
	memcpy(buf + 33, r, 32);
	xr_sha256(buf, sizeof(buf), out);
}

/* Largest power of two strictly smaller than n. */
static uint64_t ref_k(uint64_t n)
{
	uint64_t k = 1;
	while (2 * k < n)
		k *= 2;
	return k;
}

/* Complete subtrees are memoised: the recursion stays the definition, the
 * test just does not recompute the same subtree a million times. */
static uint8_t memo[11][MAX_LEAVES][32];
static bool memo_ok[11][MAX_LEAVES];

static void mth(uint64_t lo, uint64_t hi, uint8_t out[32]);

static void mth(uint64_t lo, uint64_t hi, uint8_t out[32])
{
	uint64_t n = hi - lo;
	CHECK(n >= 1);
	CHECK(hi <= MAX_LEAVES);
	if (n == 1) {
		memcpy(out, leaves[lo], 32);
		return;
	}
	bool complete = (n & (n - 1)) == 0 && lo % n == 0;
	unsigned lvl = (unsigned)__builtin_ctzll(n);
	if (complete && memo_ok[lvl][lo >> lvl]) {
		memcpy(out, memo[lvl][lo >> lvl], 32);
		return;
	}
	uint64_t k = ref_k(n);
	uint8_t l[32], r[32];
	mth(lo, lo + k, l);
	mth(lo + k, hi, r);
	ref_node(l, r, out);
	if (complete) {
		memcpy(memo[lvl][lo >> lvl], out, 32);
		memo_ok[lvl][lo >> lvl] = true;
	}
}

/* PATH(m, D[lo:hi]) */
static void ref_path(uint64_t m, uint64_t lo, uint64_t hi, uint8_t out[][32], size_t *n)
{
	if (hi - lo <= 1)
		return;
	uint64_t k = ref_k(hi - lo);
	if (m < k) {
		ref_path(m, lo, lo + k, out, n);
		mth(lo + k, hi, out[(*n)++]);
	} else {
		ref_path(m - k, lo + k, hi, out, n);
		mth(lo, lo + k, out[(*n)++]);
	}
}

/* SUBPROOF(m, D[lo:hi], b) */
static void ref_subproof(uint64_t m, uint64_t lo, uint64_t hi, bool b, uint8_t out[][32], size_t *n)
{
	uint64_t len = hi - lo;
	if (m == len) {
		if (!b)
			mth(lo, hi, out[(*n)++]);
		return;
	}
	uint64_t k = ref_k(len);
	if (m <= k) {
		ref_subproof(m, lo, lo + k, b, out, n);
		mth(lo + k, hi, out[(*n)++]);
	} else {
		ref_subproof(m - k, lo + k, hi, false, out, n);
		mth(lo, lo + k, out[(*n)++]);
	}
}

static void ref_root(uint64_t size, uint8_t out[32])
{
	if (size == 0)
		xr_sha256("", 0, out);
	else
		mth(0, size, out);
}

/* The subtree source handed to merkle.c: complete subtrees only, and only
 * inside the tree it was asked about. */
struct src {
	uint64_t size;
	unsigned calls;
	int fail_after; /* < 0: never */
};

static int get(void *ctx, unsigned level, uint64_t index, uint8_t ret[32], struct xr_err *err)
{
	struct src *s = ctx;
	CHECK(level < 11);
	uint64_t lo = index << level, hi = (index + 1) << level;
	EXPECT(hi <= s->size, "subtree %u/%llu is outside a tree of %llu", level,
	       (unsigned long long)index, (unsigned long long)s->size);
	if (s->fail_after >= 0 && s->calls >= (unsigned)s->fail_after)
		return xr_err_set(err, XR_EIO, "subtree %u/%llu is not stored", level,
				  (unsigned long long)index);
	s->calls++;
	mth(lo, hi, ret);
	return 0;
}

static void setup_leaves(void)
{
	for (unsigned i = 0; i < MAX_LEAVES; i++) {
		uint8_t d[8];
		xr_put_be64(d, i * 0x9e3779b97f4a7c15ull);
		ref_leaf(d, i % 9, leaves[i]);
	}
	memset(memo_ok, 0, sizeof(memo_ok));
}

static void hex32(const char *hex, uint8_t out[32])
{
	CHECK(xr_hex_decode_exact(hex, out, 32, NULL) == 0);
}

/* --- hashing and the RFC 6962 vectors ---------------------------------------- */

START_TEST(test_hashes)
{
	uint8_t a[32], b[32], c[32], d[32];
	xr_merkle_leaf_hash("abc", 3, a);
	ref_leaf("abc", 3, b);
	SAME(a, b);
	xr_merkle_leaf_hash(NULL, 0, a);
	hex32("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d", b);
	SAME(a, b);
	xr_merkle_node_hash(a, b, c);
	ref_node(a, b, d);
	SAME(c, d);
	/* The output may alias an input, as the verifiers rely on. */
	memcpy(c, a, 32);
	xr_merkle_node_hash(c, b, c);
	SAME(c, d);
	memcpy(c, b, 32);
	xr_merkle_node_hash(a, c, c);
	SAME(c, d);
}
END_TEST

static const uint8_t *const rfc_leaf[8] = {
    (const uint8_t *)"",
    (const uint8_t *)"\x00",
    (const uint8_t *)"\x10",
    (const uint8_t *)"\x20\x21",
    (const uint8_t *)"\x30\x31",
    (const uint8_t *)"\x40\x41\x42\x43",
    (const uint8_t *)"\x50\x51\x52\x53\x54\x55\x56\x57",
    (const uint8_t *)"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
};
static const size_t rfc_len[8] = {0, 1, 1, 2, 2, 4, 8, 16};

/* Roots of the first n test leaves, as in certificate-transparency's
 * merkle_tree_test; checked with python3 hashlib before use. */
static const char *const rfc_root[9] = {
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
};

static void rfc_setup(void)
{
	memset(memo_ok, 0, sizeof(memo_ok));
	for (int i = 0; i < 8; i++)
		xr_merkle_leaf_hash(rfc_leaf[i], rfc_len[i], leaves[i]);
}

START_TEST(test_rfc6962_roots)
{
	rfc_setup();
	for (uint64_t n = 0; n <= 8; n++) {
		struct src s = {.size = n, .fail_after = -1};
		uint8_t got[32], want[32];
		hex32(rfc_root[n], want);
		CHECK(xr_merkle_root(n, get, &s, got, NULL) == 0);
		SAME(got, want);
		ref_root(n, got);
		SAME(got, want);
	}
	setup_leaves();
}
END_TEST

struct proof_vec {
	uint64_t a, n; /* index (inclusion) or old size (consistency), tree size */
	bool consistency;
	const char *h[4];
};

/* Computed with python3 from the RFC 9162 definitions; the same values as
 * certificate-transparency's test data. */
static const struct proof_vec rfc_proofs[] = {
    {0,
     8,
     false,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {5,
     8,
     false,
     {"bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2, 3, false, {"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"}},
    {0, 1, false, {NULL}},
    {1,
     8,
     true,
     {"96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
      "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"}},
    {6,
     8,
     true,
     {"0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
      "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"}},
    {2,
     5,
     true,
     {"5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
      "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"}},
    {3,
     7,
     true,
     {"0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
      "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "837dbb152e9b079010717e84e865da4ebc0fa198a806d59d31bf15accef22d0e"}},
    {8, 8, true, {NULL}},
};

START_TEST(test_rfc6962_proofs)
{
	const struct proof_vec *v = &rfc_proofs[_i];
	uint8_t got[XR_MERKLE_MAX_PROOF][32], want[4][32], root_a[32], root_n[32];
	struct src s = {.size = v->n, .fail_after = -1};
	size_t n = 99, nw = 0;

	rfc_setup();
	for (; nw < 4 && v->h[nw]; nw++)
		hex32(v->h[nw], want[nw]);
	hex32(rfc_root[v->n], root_n);
	if (v->consistency) {
		hex32(rfc_root[v->a], root_a);
		ck_assert_int_eq(xr_merkle_consistency_proof(v->a, v->n, get, &s, got, &n, NULL),
				 0);
		CHECK(n == nw);
		for (size_t i = 0; i < n; i++)
			SAME(got[i], want[i]);
		ck_assert_int_eq(
		    xr_merkle_verify_consistency(v->a, v->n, root_a, root_n, PROOF(want), nw, NULL),
		    0);
	} else {
		CHECK(xr_merkle_inclusion_proof(v->a, v->n, get, &s, got, &n, NULL) == 0);
		CHECK(n == nw);
		for (size_t i = 0; i < n; i++)
			SAME(got[i], want[i]);
		ck_assert_int_eq(xr_merkle_verify_inclusion(v->a, v->n, leaves[v->a], PROOF(want),
							    nw, root_n, NULL),
				 0);
	}
	setup_leaves();
}
END_TEST

/* --- roots and inclusion proofs for every size 1..300 -------------------------- */

START_TEST(test_root_all_sizes)
{
	for (uint64_t n = 0; n <= 300; n++) {
		struct src s = {.size = n, .fail_after = -1};
		uint8_t got[32], want[32];
		memset(got, 0xaa, 32);
		CHECK(xr_merkle_root(n, get, &s, got, NULL) == 0);
		ref_root(n, want);
		SAME(got, want);
		/* One stored subtree per set bit of n, nothing recomputed. */
		CHECK(s.calls == (unsigned)__builtin_popcountll(n));
	}
}
END_TEST

START_TEST(test_inclusion_all)
{
	uint8_t got[XR_MERKLE_MAX_PROOF][32], want[XR_MERKLE_MAX_PROOF][32], root[32];
	for (uint64_t n = 1; n <= 300; n++) {
		ref_root(n, root);
		for (uint64_t i = 0; i < n; i++) {
			struct src s = {.size = n, .fail_after = -1};
			size_t gn = 0, wn = 0;
			ck_assert_int_eq(xr_merkle_inclusion_proof(i, n, get, &s, got, &gn, NULL),
					 0);
			ref_path(i, 0, n, want, &wn);
			CHECK(gn == wn);
			for (size_t j = 0; j < gn; j++)
				SAME(got[j], want[j]);
			struct xr_err err = {0};
			EXPECT(xr_merkle_verify_inclusion(i, n, leaves[i], PROOF(got), gn, root,
							  &err) == 0,
			       "leaf %llu of %llu: %s", (unsigned long long)i,
			       (unsigned long long)n, err.msg);
		}
	}
}
END_TEST

static void expect_incl_fail(uint64_t i,
			     uint64_t n,
			     const uint8_t leaf[32],
			     const uint8_t proof[][32],
			     size_t pn,
			     const uint8_t root[32],
			     const char *what)
{
	struct xr_err err = {0};
	int rc = xr_merkle_verify_inclusion(i, n, leaf, proof, pn, root, &err);
	EXPECT(rc == XR_EVERIFY, "%s: leaf %llu of %llu accepted (rc %d)", what,
	       (unsigned long long)i, (unsigned long long)n, rc);
	CHECK(err.code == XR_EVERIFY);
	CHECK(err.msg[0] != '\0');
}

START_TEST(test_inclusion_tampered)
{
	uint8_t p[XR_MERKLE_MAX_PROOF + 1][32], q[XR_MERKLE_MAX_PROOF + 1][32], root[32], other[32],
	    leaf[32];
	for (uint64_t n = 1; n <= 70; n++) {
		ref_root(n, root);
		for (uint64_t i = 0; i < n; i++) {
			size_t pn = 0;
			ref_path(i, 0, n, p, &pn);
			/* Each hash, each byte position sampled, flipped. */
			for (size_t j = 0; j < pn; j++)
				for (size_t b = 0; b < 32; b += 7) {
					memcpy(q, p, sizeof(p));
					q[j][b] ^= 0x01;
					expect_incl_fail(i, n, leaves[i], PROOF(q), pn, root,
							 "flipped");
				}
			memcpy(leaf, leaves[i], 32);
			leaf[31] ^= 0x80;
			expect_incl_fail(i, n, leaf, PROOF(p), pn, root, "wrong leaf");
			memcpy(q, p, sizeof(p));
			memcpy(q[pn], root, 32);
			expect_incl_fail(i, n, leaves[i], PROOF(q), pn + 1, root, "extra hash");
			if (pn > 0) {
				expect_incl_fail(i, n, leaves[i], PROOF(p), pn - 1, root,
						 "missing last");
				expect_incl_fail(i, n, leaves[i], PROOF(p + 1), pn - 1, root,
						 "missing first");
			}
			for (uint64_t w = 0; w < n; w++)
				if (w != i)
					expect_incl_fail(w, n, leaves[i], PROOF(p), pn, root,
							 "wrong index");
			expect_incl_fail(n, n, leaves[i], PROOF(p), pn, root, "index = size");
			expect_incl_fail(i + n + 5, n, leaves[i], PROOF(p), pn, root,
					 "index > size");
			/* Another size, with that size's own root. */
			if (n > 1 && i < n - 1) {
				ref_root(n - 1, other);
				expect_incl_fail(i, n - 1, leaves[i], PROOF(p), pn, other,
						 "smaller size");
			}
			ref_root(n + 1, other);
			expect_incl_fail(i, n + 1, leaves[i], PROOF(p), pn, other, "larger size");
			/* The wrong root. */
			memcpy(other, root, 32);
			other[0] ^= 1;
			expect_incl_fail(i, n, leaves[i], PROOF(p), pn, other, "wrong root");
		}
	}
	/* A tree of size 0 includes nothing. */
	expect_incl_fail(0, 0, leaves[0], PROOF(p), 0, root, "empty tree");
}
END_TEST

/* --- consistency proofs -------------------------------------------------------- */

START_TEST(test_consistency_all)
{
	uint8_t got[XR_MERKLE_MAX_PROOF][32], want[XR_MERKLE_MAX_PROOF][32], rm[32], rn[32];
	for (uint64_t n = 1; n <= 120; n++) {
		ref_root(n, rn);
		for (uint64_t m = 1; m <= n; m++) {
			struct src s = {.size = n, .fail_after = -1};
			size_t gn = 99, wn = 0;
			ck_assert_int_eq(xr_merkle_consistency_proof(m, n, get, &s, got, &gn, NULL),
					 0);
			ref_subproof(m, 0, n, true, want, &wn);
			CHECK(gn == wn);
			for (size_t j = 0; j < gn; j++)
				SAME(got[j], want[j]);
			ref_root(m, rm);
			struct xr_err err = {0};
			EXPECT(xr_merkle_verify_consistency(m, n, rm, rn, PROOF(got), gn, &err) ==
				   0,
			       "%llu -> %llu: %s", (unsigned long long)m, (unsigned long long)n,
			       err.msg);
		}
		/* The empty tree is consistent with every tree, by an empty proof. */
		ck_assert_int_eq(xr_merkle_verify_consistency(0, n, rn, rn, PROOF(got), 0, NULL),
				 0);
	}
}
END_TEST

static void expect_cons_fail(uint64_t m,
			     uint64_t n,
			     const uint8_t rm[32],
			     const uint8_t rn[32],
			     const uint8_t proof[][32],
			     size_t pn,
			     const char *what)
{
	struct xr_err err = {0};
	int rc = xr_merkle_verify_consistency(m, n, rm, rn, proof, pn, &err);
	EXPECT(rc == XR_EVERIFY, "%s: %llu -> %llu accepted (rc %d)", what, (unsigned long long)m,
	       (unsigned long long)n, rc);
	CHECK(err.msg[0] != '\0');
}

START_TEST(test_consistency_tampered)
{
	uint8_t p[XR_MERKLE_MAX_PROOF + 1][32], q[XR_MERKLE_MAX_PROOF + 1][32], rm[32], rn[32],
	    other[32];
	for (uint64_t n = 1; n <= 64; n++) {
		ref_root(n, rn);
		for (uint64_t m = 1; m <= n; m++) {
			size_t pn = 0;
			ref_subproof(m, 0, n, true, p, &pn);
			ref_root(m, rm);
			for (size_t j = 0; j < pn; j++)
				for (size_t b = 0; b < 32; b += 11) {
					memcpy(q, p, sizeof(p));
					q[j][b] ^= 0x40;
					expect_cons_fail(m, n, rm, rn, PROOF(q), pn, "flipped");
				}
			memcpy(q, p, sizeof(p));
			memcpy(q[pn], rn, 32);
			expect_cons_fail(m, n, rm, rn, PROOF(q), pn + 1, "extra hash");
			if (pn > 0) {
				expect_cons_fail(m, n, rm, rn, PROOF(p), pn - 1, "missing last");
				expect_cons_fail(m, n, rm, rn, PROOF(p + 1), pn - 1,
						 "missing first");
			}
			memcpy(other, rm, 32);
			other[5] ^= 1;
			expect_cons_fail(m, n, other, rn, PROOF(p), pn, "wrong old root");
			memcpy(other, rn, 32);
			other[5] ^= 1;
			expect_cons_fail(m, n, rm, other, PROOF(p), pn, "wrong new root");
			/* Other sizes, each with its own true root. */
			if (m > 1) {
				ref_root(m - 1, other);
				expect_cons_fail(m - 1, n, other, rn, PROOF(p), pn,
						 "smaller old size");
			}
			if (m < n) {
				ref_root(m + 1, other);
				expect_cons_fail(m + 1, n, other, rn, PROOF(p), pn,
						 "larger old size");
				ref_root(n - 1, other);
				if (m < n - 1 || pn != 0)
					expect_cons_fail(m, n - 1, rm, other, PROOF(p), pn,
							 "smaller new size");
			}
			ref_root(n + 1, other);
			expect_cons_fail(m, n + 1, rm, other, PROOF(p), pn, "larger new size");
			expect_cons_fail(n + 1, n, rm, rn, PROOF(p), pn, "old larger than new");
		}
		/* Same size: only the empty proof and equal roots. */
		expect_cons_fail(n, n, rn, rn, PROOF(p), 1, "non-empty proof between equal sizes");
		memcpy(other, rn, 32);
		other[0] ^= 1;
		expect_cons_fail(n, n, rn, other, PROOF(p), 0, "different roots of one size");
		expect_cons_fail(0, n, rn, rn, PROOF(p), 1, "non-empty proof from the empty tree");
	}
	/* Proof arrays longer than any tree needs are refused outright. */
	uint8_t(*big)[32] = calloc(XR_MERKLE_MAX_PROOF + 5, 32);
	ck_assert_ptr_nonnull(big);
	ref_root(5, rm);
	ref_root(9, rn);
	expect_cons_fail(5, 9, rm, rn, PROOF(big), XR_MERKLE_MAX_PROOF + 5, "oversized proof");
	free(big);
}
END_TEST

START_TEST(test_bad_arguments)
{
	uint8_t out[XR_MERKLE_MAX_PROOF][32], r[32];
	struct src s = {.size = 10, .fail_after = -1};
	struct xr_err err = {0};
	size_t n = 77;

	CHECK(xr_merkle_inclusion_proof(10, 10, get, &s, out, &n, &err) == XR_EINVAL);
	ck_assert_str_eq(err.msg, "leaf index 10 is outside a tree of size 10");
	CHECK(n == 77);
	xr_err_clear(&err);
	CHECK(xr_merkle_inclusion_proof(0, 0, get, &s, out, &n, &err) == XR_EINVAL);
	xr_err_clear(&err);
	CHECK(xr_merkle_consistency_proof(0, 10, get, &s, out, &n, &err) == XR_EINVAL);
	CHECK(strstr(err.msg, "0 and 10") != NULL);
	xr_err_clear(&err);
	CHECK(xr_merkle_consistency_proof(11, 10, get, &s, out, &n, &err) == XR_EINVAL);
	CHECK(n == 77);
	xr_err_clear(&err);
	CHECK(xr_merkle_root(0, get, &s, r, &err) == 0);
	CHECK(s.calls == 0);
}
END_TEST

/* Every operation passes a failing subtree source's error through. */
START_TEST(test_source_errors)
{
	uint8_t out[XR_MERKLE_MAX_PROOF][32], r[32];
	struct xr_merkle_frontier f;
	for (int after = 0; after < 6; after++) {
		struct src s = {.size = 300, .fail_after = after};
		struct xr_err err = {0};
		size_t n = 123;
		int rc = xr_merkle_root(300, get, &s, r, &err);
		if (rc != 0) {
			CHECK(rc == XR_EIO);
			CHECK(strstr(err.msg, "is not stored") != NULL);
		}
		s.calls = 0;
		xr_err_clear(&err);
		rc = xr_merkle_inclusion_proof(137, 300, get, &s, out, &n, &err);
		CHECK(rc == 0 || rc == XR_EIO);
		if (rc)
			CHECK(n == 123);
		s.calls = 0;
		rc = xr_merkle_consistency_proof(101, 300, get, &s, out, &n, NULL);
		CHECK(rc == 0 || rc == XR_EIO);
		if (rc)
			CHECK(n == 123);
		s.calls = 0;
		rc = xr_merkle_frontier_load(&f, 300, get, &s, NULL);
		CHECK(rc == (after < 4 ? XR_EIO : 0)); /* 300 has four set bits */
	}
}
END_TEST

/* --- huge trees: proofs stay within XR_MERKLE_MAX_PROOF ------------------------ */

/* A huge tree whose leaves are all the same: the subtree at level l is then
 * H_l = node(H_(l-1), H_(l-1)), so every stored subtree is consistent. */
static uint8_t same[65][32];

static int synth(void *ctx, unsigned level, uint64_t index, uint8_t ret[32], struct xr_err *err)
{
	(void)ctx;
	(void)index;
	(void)err;
	CHECK(level <= 64);
	memcpy(ret, same[level], 32);
	return 0;
}

START_TEST(test_huge_trees)
{
	static const uint64_t sizes[] = {
	    (UINT64_C(1) << 40) + 12345,
	    (UINT64_C(1) << 62) + 1,
	    (UINT64_C(1) << 63) - 1,
	    UINT64_C(1) << 63,
	};
	uint8_t p[XR_MERKLE_MAX_PROOF][32], leaf[32], rm[32], rn[32];
	ref_leaf("x", 1, same[0]);
	for (unsigned l = 1; l <= 64; l++)
		ref_node(same[l - 1], same[l - 1], same[l]);
	for (size_t t = 0; t < sizeof(sizes) / sizeof(sizes[0]); t++) {
		uint64_t n = sizes[t];
		uint64_t idx[] = {0, 1, n / 3, n - 2, n - 1};
		CHECK(xr_merkle_root(n, synth, NULL, rn, NULL) == 0);
		for (size_t j = 0; j < 5; j++) {
			size_t pn;
			CHECK(xr_merkle_inclusion_proof(idx[j], n, synth, NULL, p, &pn, NULL) == 0);
			CHECK(pn <= XR_MERKLE_MAX_PROOF);
			synth(NULL, 0, idx[j], leaf, NULL);
			CHECK(xr_merkle_verify_inclusion(idx[j], n, leaf, PROOF(p), pn, rn, NULL) ==
			      0);
			uint64_t m = idx[j] + 1;
			CHECK(xr_merkle_consistency_proof(m, n, synth, NULL, p, &pn, NULL) == 0);
			CHECK(pn <= XR_MERKLE_MAX_PROOF);
			CHECK(xr_merkle_root(m, synth, NULL, rm, NULL) == 0);
			CHECK(xr_merkle_verify_consistency(m, n, rm, rn, PROOF(p), pn, NULL) == 0);
		}
	}
	/* Beyond 2^63 leaves: roots and inclusion proofs still work (these
	 * used to loop forever in split()); consistency proofs are refused
	 * since they could need 65 hashes. */
	uint64_t n = UINT64_MAX;
	size_t pn;
	struct xr_err err = {0};
	CHECK(xr_merkle_root(n, synth, NULL, rn, NULL) == 0);
	CHECK(xr_merkle_inclusion_proof(n - 1, n, synth, NULL, p, &pn, NULL) == 0);
	CHECK(pn <= XR_MERKLE_MAX_PROOF);
	synth(NULL, 0, n - 1, leaf, NULL);
	CHECK(xr_merkle_verify_inclusion(n - 1, n, leaf, PROOF(p), pn, rn, NULL) == 0);
	CHECK(xr_merkle_consistency_proof(3, n, synth, NULL, p, &pn, &err) == XR_EINVAL);
	ck_assert_str_eq(err.msg, "tree size 18446744073709551615 is larger than 2^63");
}
END_TEST

/* --- the frontier ----------------------------------------------------------- */

struct emitted {
	unsigned n;
	unsigned level[64];
	uint64_t index[64];
	uint8_t hash[64][32];
};

static void on_node(void *ctx, unsigned level, uint64_t index, const uint8_t hash[32])
{
	struct emitted *e = ctx;
	CHECK(e->n < 64);
	e->level[e->n] = level;
	e->index[e->n] = index;
	memcpy(e->hash[e->n], hash, 32);
	e->n++;
}

START_TEST(test_frontier)
{
	struct xr_merkle_frontier f, g;
	uint8_t got[32], want[32];

	memset(&f, 0, sizeof(f));
	xr_merkle_frontier_root(&f, got);
	ref_root(0, want);
	SAME(got, want);
	for (uint64_t i = 0; i < 1000; i++) {
		struct emitted e = {0};
		xr_merkle_frontier_push(&f, leaves[i], on_node, &e);
		uint64_t size = i + 1;
		CHECK(f.size == size);
		xr_merkle_frontier_root(&f, got);
		ref_root(size, want);
		EXPECT(memcmp(got, want, 32) == 0, "frontier root differs at size %llu",
		       (unsigned long long)size);

		/* Exactly the complete subtrees ending at leaf i, level 0 first. */
		unsigned expect = 0;
		for (unsigned l = 0; l < 64 && size % (UINT64_C(1) << l) == 0; l++) {
			CHECK(expect < e.n);
			CHECK(e.level[expect] == l);
			CHECK(e.index[expect] == (size >> l) - 1);
			mth(size - (UINT64_C(1) << l), size, want);
			SAME(e.hash[expect], want);
			expect++;
		}
		CHECK(e.n == expect);

		/* Loading from stored subtrees gives the same frontier. */
		struct src s = {.size = size, .fail_after = -1};
		memset(&g, 0x5a, sizeof(g));
		CHECK(xr_merkle_frontier_load(&g, size, get, &s, NULL) == 0);
		CHECK(g.size == f.size);
		for (unsigned l = 0; l < 64; l++)
			if (size >> l & 1)
				SAME(g.hash[l], f.hash[l]);
		xr_merkle_frontier_root(&g, got);
		ref_root(size, want);
		SAME(got, want);

		/* Pushing onto a loaded frontier continues the same log. */
		if (size < 1000 && size % 97 == 0) {
			struct xr_merkle_frontier h = g;
			xr_merkle_frontier_push(&h, leaves[size], NULL, NULL);
			xr_merkle_frontier_root(&h, got);
			ref_root(size + 1, want);
			SAME(got, want);
		}
	}
	/* A frontier of size 0 loads without asking for anything. */
	struct src s = {.size = 0, .fail_after = 0};
	CHECK(xr_merkle_frontier_load(&g, 0, get, &s, NULL) == 0);
	CHECK(g.size == 0);
}
END_TEST

static Suite *merkle_suite(void)
{
	Suite *s = suite_create("merkle");
	TCase *tc = tcase_create("merkle");
	tcase_set_timeout(tc, 600);
	tcase_add_unchecked_fixture(tc, setup_leaves, NULL);
	tcase_add_test(tc, test_hashes);
	tcase_add_test(tc, test_rfc6962_roots);
	tcase_add_loop_test(tc, test_rfc6962_proofs, 0,
			    (int)(sizeof(rfc_proofs) / sizeof(rfc_proofs[0])));
	tcase_add_test(tc, test_root_all_sizes);
	tcase_add_test(tc, test_inclusion_all);
	tcase_add_test(tc, test_inclusion_tampered);
	tcase_add_test(tc, test_consistency_all);
	tcase_add_test(tc, test_consistency_tampered);
	tcase_add_test(tc, test_bad_arguments);
	tcase_add_test(tc, test_source_errors);
	tcase_add_test(tc, test_huge_trees);
	tcase_add_test(tc, test_frontier);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(merkle_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
