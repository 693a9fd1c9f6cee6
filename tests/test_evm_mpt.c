/* test_evm_mpt.c - adapters/evm/mpt.c: hex-prefix encoding from the yellow
 * paper, roots and proofs against tests/vectors/mpt.json (from the
 * insertion-based Python trie in scripts/gen-mpt-vectors.py), a proof of
 * every index of every trie of 1..300 entries, and tampered proofs. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keccak.h"
#include "mpt.h"
#include "rlp.h"
#include "xr_bytes.h"
#include "fixture.h"

#define EXPECT(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond))                                                                       \
			ck_abort_msg(__VA_ARGS__);                                                 \
	} while (0)

#define MAX_SIZE 300

static json_t *vectors;

/* value(i, n) of scripts/gen-mpt-vectors.py: 1..70 bytes, so leaves are
 * both embedded and hashed. */
static size_t value(size_t i, size_t n, uint8_t out[70])
{
	size_t len = 1 + (i * 37 + n) % 70;
	for (size_t j = 0; j < len; j++)
		out[j] = (uint8_t)(i * 13 + n * 7 + j * 5 + 1);
	return len;
}

/* The index trie of n entries; keys and values live in the caller's arrays. */
struct fixture {
	uint8_t keys[MAX_SIZE + 1][9];
	uint8_t vals[MAX_SIZE + 1][70];
	struct xr_mpt_kv kv[MAX_SIZE + 1];
	struct xr_mpt *t;
	uint8_t root[32];
};

static void make_trie(struct fixture *f, size_t n)
{
	struct xr_err err = {0};
	for (size_t i = 0; i <= n; i++) {
		f->kv[i].key = f->keys[i];
		f->kv[i].key_len = xr_mpt_index_key(i, f->keys[i]);
		f->kv[i].val = f->vals[i];
		f->kv[i].val_len = value(i, n, f->vals[i]);
	}
	/* Build in a shuffled order: the builder must not rely on input order. */
	struct xr_mpt_kv shuffled[MAX_SIZE];
	for (size_t i = 0; i < n; i++)
		shuffled[i] = f->kv[i];
	for (size_t i = n; i > 1; i--) {
		size_t j = (i * 2654435761u) % i;
		struct xr_mpt_kv tmp = shuffled[i - 1];
		shuffled[i - 1] = shuffled[j];
		shuffled[j] = tmp;
	}
	EXPECT(xr_mpt_build(shuffled, n, &f->t, &err) == 0, "build %zu: %s", n, err.msg);
	xr_mpt_root(f->t, f->root);
}

static int prove(const struct fixture *f, const uint8_t *key, size_t kl, struct xr_buf *out)
{
	xr_buf_reset(out);
	return xr_mpt_prove(f->t, key, kl, out, NULL, NULL);
}

/* Splits a proof into its nodes. */
static size_t split(const uint8_t *p, size_t n, size_t off[16], size_t len[16])
{
	size_t k = 0, o = 0, used;
	struct xr_rlp_item it;
	while (o < n) {
		ck_assert_uint_lt(k, 16);
		ck_assert_int_eq(xr_rlp_decode_prefix(p + o, n - o, &it, &used, NULL), 0);
		off[k] = o;
		len[k++] = used;
		o += used;
	}
	return k;
}

/* --- hex-prefix ---------------------------------------------------------- */

static const struct {
	const char *nibbles; /* one hex digit per nibble */
	bool leaf;
	const char *hp;
} hp_cases[] = {
    {"12345", false, "112345"},
    {"012345", false, "00012345"},
    {"0f1cb8", true, "200f1cb8"},
    {"f1cb8", true, "3f1cb8"},
    {"", true, "20"},
    {"", false, "00"},
    {"7", true, "37"},
    {"80", false, "0080"},
};

START_TEST(test_hex_prefix)
{
	uint8_t nib[64], out[40], back[80];
	size_t n = strlen(hp_cases[_i].nibbles), bn;
	bool leaf;
	char hex[81];
	for (size_t i = 0; i < n; i++) {
		char c = hp_cases[_i].nibbles[i];
		nib[i] = (uint8_t)(c <= '9' ? c - '0' : c - 'a' + 10);
	}
	size_t len = xr_mpt_hp_encode(nib, n, hp_cases[_i].leaf, out);
	xr_hex_encode(out, len, hex);
	ck_assert_str_eq(hex, hp_cases[_i].hp);
	ck_assert_int_eq(xr_mpt_hp_decode(out, len, back, &bn, &leaf, NULL), 0);
	ck_assert_uint_eq(bn, n);
	ck_assert_int_eq(leaf, hp_cases[_i].leaf);
	if (n)
		ck_assert_mem_eq(back, nib, n);
}
END_TEST

START_TEST(test_hex_prefix_refuses)
{
	uint8_t nib[8], in[2] = {0x40, 0x12};
	size_t n;
	bool leaf;
	struct xr_err err = {0};
	ck_assert_int_eq(xr_mpt_hp_decode(in, 0, nib, &n, &leaf, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "hex-prefix path is empty");
	for (unsigned flag = 4; flag < 16; flag++) {
		in[0] = (uint8_t)(flag << 4);
		ck_assert_int_eq(xr_mpt_hp_decode(in, 2, nib, &n, &leaf, NULL), XR_EINVAL);
	}
	in[0] = 0x21;
	err.code = 0;
	ck_assert_int_eq(xr_mpt_hp_decode(in, 2, nib, &n, &leaf, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "hex-prefix pad nibble of even path is 1, expected 0");
	in[0] = 0x01;
	ck_assert_int_eq(xr_mpt_hp_decode(in, 2, nib, &n, &leaf, NULL), XR_EINVAL);
}
END_TEST

static const struct {
	uint64_t i;
	const char *key;
} index_keys[] = {
    {0, "80"},
    {1, "01"},
    {127, "7f"},
    {128, "8180"},
    {255, "81ff"},
    {256, "820100"},
    {UINT64_MAX, "88ffffffffffffffff"},
};

START_TEST(test_index_key)
{
	uint8_t k[9];
	char hex[19];
	size_t n = xr_mpt_index_key(index_keys[_i].i, k);
	xr_hex_encode(k, n, hex);
	ck_assert_str_eq(hex, index_keys[_i].key);
}
END_TEST

/* --- roots and proofs ---------------------------------------------------- */

START_TEST(test_empty)
{
	uint8_t r[32], key[1] = {0x80};
	struct xr_mpt *t;
	struct xr_buf b;
	size_t count = 99;
	const uint8_t *v;
	size_t vl;
	struct xr_err err = {0};

	xr_keccak256("\x80", 1, r);
	ck_assert_mem_eq(r, xr_mpt_empty_root, 32);
	ck_assert_int_eq(xr_mpt_build(NULL, 0, &t, NULL), 0);
	xr_mpt_root(t, r);
	ck_assert_mem_eq(r, xr_mpt_empty_root, 32);
	xr_buf_init(&b, 1 << 16);
	ck_assert_int_eq(xr_mpt_prove(t, key, 1, &b, &count, NULL), 0);
	ck_assert_uint_eq(count, 0);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(xr_mpt_verify(r, key, 1, b.data, 0, &v, &vl, &err), XR_ENOTFOUND);
	r[0] ^= 1;
	ck_assert_int_eq(xr_mpt_verify(r, key, 1, b.data, 0, &v, &vl, NULL), XR_EVERIFY);
	xr_buf_fini(&b);
	xr_mpt_free(t);
	xr_mpt_free(NULL);
}
END_TEST

START_TEST(test_vectors)
{
	json_t *tries = json_object_get(vectors, "tries");
	struct fixture *f = malloc(sizeof(*f));
	struct xr_buf b;
	char hex[65];
	size_t i;
	json_t *v;

	ck_assert_uint_ge(json_array_size(tries), 5);
	xr_buf_init(&b, 1 << 20);
	json_array_foreach(tries, i, v)
	{
		size_t n = (size_t)json_integer_value(json_object_get(v, "size"));
		size_t pi = (size_t)json_integer_value(json_object_get(v, "proof_index"));
		json_t *proof = json_object_get(v, "proof");
		ck_assert_uint_le(n, MAX_SIZE);
		make_trie(f, n);
		xr_hex_encode(f->root, 32, hex);
		ck_assert_msg(strcmp(hex, json_string_value(json_object_get(v, "root"))) == 0,
			      "root of %zu entries is %s", n, hex);
		uint8_t key[9];
		size_t kl = xr_mpt_index_key(pi, key), count;
		xr_buf_reset(&b);
		ck_assert_int_eq(xr_mpt_prove(f->t, key, kl, &b, &count, NULL), 0);
		ck_assert_uint_eq(count, json_array_size(proof));
		size_t off = 0, k;
		json_t *node;
		json_array_foreach(proof, k, node)
		{
			uint8_t *want;
			size_t wl;
			ck_assert_int_eq(
			    xr_hex_decode_new(json_string_value(node), 1 << 20, &want, &wl, NULL),
			    0);
			ck_assert_uint_le(off + wl, b.len);
			ck_assert_msg(memcmp(b.data + off, want, wl) == 0,
				      "size %zu: proof node %zu differs", n, k);
			off += wl;
			free(want);
		}
		ck_assert_uint_eq(off, b.len);
		xr_mpt_free(f->t);
	}
	xr_buf_fini(&b);
	free(f);
}
END_TEST

/* Every trie of 1..300 entries: every index proves and verifies, and the
 * next index (absent) is proved absent. */
START_TEST(test_prove_every_index)
{
	struct fixture *f = malloc(sizeof(*f));
	struct xr_buf b;
	xr_buf_init(&b, 1 << 20);
	for (size_t n = 1; n <= MAX_SIZE; n++) {
		make_trie(f, n);
		for (size_t i = 0; i <= n; i++) {
			const uint8_t *v;
			size_t vl;
			struct xr_err err = {0};
			EXPECT(prove(f, f->keys[i], f->kv[i].key_len, &b) == 0, "prove");
			int rc = xr_mpt_verify(f->root, f->keys[i], f->kv[i].key_len, b.data, b.len,
					       &v, &vl, &err);
			if (i == n) {
				EXPECT(rc == XR_ENOTFOUND, "size %zu: absent index %zu: %d %s", n,
				       i, rc, err.msg);
				continue;
			}
			EXPECT(rc == 0, "size %zu index %zu: %s", n, i, err.msg);
			EXPECT(vl == f->kv[i].val_len && memcmp(v, f->vals[i], vl) == 0,
			       "size %zu index %zu: wrong value", n, i);
			EXPECT(v >= b.data && v + vl <= b.data + b.len, "value not borrowed");
		}
		xr_mpt_free(f->t);
	}
	xr_buf_fini(&b);
	free(f);
}
END_TEST

static const size_t tamper_sizes[] = {1, 2, 3, 16, 17, 100, 129, 300};

/* A tampered proof must never yield a value: every byte flipped, every node
 * dropped, duplicated or inserted, every truncation, wrong roots, wrong keys. */
START_TEST(test_tampered)
{
	struct fixture *f = malloc(sizeof(*f));
	size_t n = tamper_sizes[_i];
	struct xr_buf b;
	const uint8_t *v;
	size_t vl, off[16], len[16];
	xr_buf_init(&b, 1 << 20);
	make_trie(f, n);
	uint8_t *c = malloc(1 << 16);
	for (size_t i = 0; i < n; i += 1 + n / 12) {
		const uint8_t *key = f->keys[i];
		size_t kl = f->kv[i].key_len;
		ck_assert_int_eq(prove(f, key, kl, &b), 0);
		size_t pl = b.len, k = split(b.data, pl, off, len);
		ck_assert_uint_lt(pl, 1 << 15);

		for (size_t at = 0; at < pl; at++) {
			for (int bit = 0; bit < 8; bit += 3) {
				memcpy(c, b.data, pl);
				c[at] ^= (uint8_t)(1 << bit);
				EXPECT(xr_mpt_verify(f->root, key, kl, c, pl, &v, &vl, NULL) ==
					   XR_EVERIFY,
				       "size %zu index %zu: flip at %zu accepted", n, i, at);
			}
		}
		for (size_t cut = 0; cut < pl; cut++) {
			uint8_t *t = malloc(cut ? cut : 1);
			memcpy(t, b.data, cut);
			EXPECT(xr_mpt_verify(f->root, key, kl, t, cut, &v, &vl, NULL) == XR_EVERIFY,
			       "size %zu index %zu: truncation to %zu accepted", n, i, cut);
			free(t);
		}
		for (size_t d = 0; d < k; d++) {
			/* Drop node d. */
			size_t o = 0;
			for (size_t j = 0; j < k; j++)
				if (j != d) {
					memcpy(c + o, b.data + off[j], len[j]);
					o += len[j];
				}
			struct xr_err err = {0};
			EXPECT(xr_mpt_verify(f->root, key, kl, c, o, &v, &vl, &err) == XR_EVERIFY,
			       "size %zu index %zu: dropping node %zu accepted", n, i, d);
			/* Repeat node d right after itself. */
			o = 0;
			for (size_t j = 0; j < k; j++) {
				memcpy(c + o, b.data + off[j], len[j]);
				o += len[j];
				if (j == d) {
					memcpy(c + o, b.data + off[j], len[j]);
					o += len[j];
				}
			}
			EXPECT(xr_mpt_verify(f->root, key, kl, c, o, &v, &vl, NULL) == XR_EVERIFY,
			       "size %zu index %zu: repeating node %zu accepted", n, i, d);
		}
		/* An extra node at the end. */
		memcpy(c, b.data, pl);
		memcpy(c + pl, "\xc2\x80\x80", 3);
		struct xr_err err = {0};
		ck_assert_int_eq(xr_mpt_verify(f->root, key, kl, c, pl + 3, &v, &vl, &err),
				 XR_EVERIFY);
		ck_assert_msg(strstr(err.msg, "extra nodes"), "%s", err.msg);
		/* A wrong root. */
		for (int byte = 0; byte < 32; byte += 7) {
			uint8_t root[32];
			memcpy(root, f->root, 32);
			root[byte] ^= 0x80;
			err.code = 0;
			ck_assert_int_eq(xr_mpt_verify(root, key, kl, b.data, pl, &v, &vl, &err),
					 XR_EVERIFY);
			ck_assert_msg(strstr(err.msg, "proof node 0 hashes to"), "%s", err.msg);
		}
		/* Another present key: the proof either fails or (when the nodes it
		 * needs are all there) gives that key's own value. */
		for (size_t j = 0; j < n; j++) {
			int rc = xr_mpt_verify(f->root, f->keys[j], f->kv[j].key_len, b.data, pl,
					       &v, &vl, NULL);
			if (j == i)
				EXPECT(rc == 0, "own key refused");
			else if (rc == 0)
				EXPECT(vl == f->kv[j].val_len && !memcmp(v, f->vals[j], vl),
				       "size %zu: proof of %zu gave a wrong value for %zu", n, i,
				       j);
			else
				EXPECT(rc == XR_EVERIFY, "size %zu: key %zu gave %d", n, j, rc);
		}
	}
	free(c);
	xr_mpt_free(f->t);
	xr_buf_fini(&b);
	free(f);
}
END_TEST

START_TEST(test_random_proofs)
{
	struct fixture *f = malloc(sizeof(*f));
	uint64_t s = 0x9e3779b97f4a7c15ull;
	uint8_t buf[700];
	make_trie(f, 100);
	for (int round = 0; round < 100000; round++) {
		size_t n = (size_t)(s % sizeof(buf));
		for (size_t j = 0; j < n; j++) {
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			buf[j] = (uint8_t)s;
		}
		/* Half the time, start with a real node so the walk goes further. */
		if (round % 2 && n > 8)
			buf[0] = 0xf9, buf[1] = 0x01, buf[2] = (uint8_t)(n - 3);
		uint8_t *c = malloc(n ? n : 1);
		memcpy(c, buf, n);
		const uint8_t *v;
		size_t vl;
		EXPECT(xr_mpt_verify(f->root, f->keys[round % 100], f->kv[round % 100].key_len, c,
				     n, &v, &vl, NULL) == XR_EVERIFY,
		       "random proof accepted");
		free(c);
		s = s * 6364136223846793005ull + 1442695040888963407ull;
	}
	xr_mpt_free(f->t);
	free(f);
}
END_TEST

/* A trie over arbitrary keys, one a prefix of another (a branch value):
 * the Ethereum wiki's example, whose root is well known. */
START_TEST(test_general_keys)
{
	static const char *const kv[][2] = {
	    {"do", "verb"}, {"horse", "stallion"}, {"doge", "coin"}, {"dog", "puppy"}};
	struct xr_mpt_kv in[4];
	struct xr_mpt *t;
	uint8_t root[32];
	char hex[65];
	struct xr_buf b;
	for (int i = 0; i < 4; i++)
		in[i] = (struct xr_mpt_kv){(const uint8_t *)kv[i][0], strlen(kv[i][0]),
					   (const uint8_t *)kv[i][1], strlen(kv[i][1])};
	ck_assert_int_eq(xr_mpt_build(in, 4, &t, NULL), 0);
	xr_mpt_root(t, root);
	xr_hex_encode(root, 32, hex);
	ck_assert_str_eq(hex, "5991bb8c6514148a29db676a14ac506cd2cd5775ace63c30a4fe457715e9ac84");
	xr_buf_init(&b, 1 << 16);
	for (int i = 0; i < 4; i++) {
		const uint8_t *v;
		size_t vl;
		xr_buf_reset(&b);
		ck_assert_int_eq(xr_mpt_prove(t, in[i].key, in[i].key_len, &b, NULL, NULL), 0);
		ck_assert_int_eq(
		    xr_mpt_verify(root, in[i].key, in[i].key_len, b.data, b.len, &v, &vl, NULL), 0);
		ck_assert_uint_eq(vl, in[i].val_len);
		ck_assert_mem_eq(v, in[i].val, vl);
	}
	static const char *const absent[] = {"d", "", "doges", "hors", "horsey", "cat"};
	for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
		const uint8_t *v;
		size_t vl, kl = strlen(absent[i]);
		xr_buf_reset(&b);
		ck_assert_int_eq(xr_mpt_prove(t, (const uint8_t *)absent[i], kl, &b, NULL, NULL),
				 0);
		ck_assert_int_eq(xr_mpt_verify(root, (const uint8_t *)absent[i], kl, b.data, b.len,
					       &v, &vl, NULL),
				 XR_ENOTFOUND);
	}
	xr_buf_fini(&b);
	xr_mpt_free(t);
}
END_TEST

START_TEST(test_build_refuses)
{
	uint8_t longkey[XR_MPT_MAX_KEY + 1] = {0};
	struct xr_mpt_kv in[3] = {
	    {(const uint8_t *)"\x01", 1, (const uint8_t *)"a", 1},
	    {(const uint8_t *)"\x02", 1, (const uint8_t *)"b", 1},
	    {(const uint8_t *)"\x01", 1, (const uint8_t *)"c", 1},
	};
	struct xr_mpt *t = (struct xr_mpt *)&t;
	struct xr_mpt *const before = t;
	struct xr_err err = {0};
	ck_assert_int_eq(xr_mpt_build(in, 3, &t, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "trie key 0x01 appears twice");
	ck_assert_ptr_eq(t, before);
	in[2].key = (const uint8_t *)"\x03";
	in[2].val_len = 0;
	err.code = 0;
	ck_assert_int_eq(xr_mpt_build(in, 3, &t, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "trie value 2 is empty");
	in[2].val_len = 1;
	in[2].key = longkey;
	in[2].key_len = sizeof(longkey);
	ck_assert_int_eq(xr_mpt_build(in, 3, &t, NULL), XR_EINVAL);
	in[2].key_len = XR_MPT_MAX_KEY;
	ck_assert_int_eq(xr_mpt_build(in, 3, &t, NULL), 0);
	const uint8_t *v;
	size_t vl;
	uint8_t root[32];
	xr_mpt_root(t, root);
	ck_assert_int_eq(xr_mpt_verify(root, longkey, sizeof(longkey), NULL, 0, &v, &vl, NULL),
			 XR_EINVAL);
	struct xr_buf b;
	xr_buf_init(&b, 16); /* too small for the proof */
	ck_assert_int_eq(xr_mpt_prove(t, longkey, XR_MPT_MAX_KEY, &b, NULL, NULL), XR_ENOMEM);
	ck_assert_uint_eq(b.len, 0);
	xr_buf_fini(&b);
	xr_mpt_free(t);
}
END_TEST

/* Hand-made non-canonical proofs that hash correctly but break the rules. */
START_TEST(test_noncanonical)
{
	struct xr_buf node, leaf, proof;
	uint8_t h[32], root[32], key = 0x01, hp[2];
	const uint8_t *v;
	size_t vl;
	struct xr_err err = {0};
	xr_buf_init(&node, 4096);
	xr_buf_init(&leaf, 4096);
	xr_buf_init(&proof, 4096);

	/* A short leaf [0x3?, "v"] referenced by hash from a branch. */
	size_t m = xr_rlp_list_begin(&leaf);
	xr_rlp_put_bytes(&leaf, "\x31", 1); /* odd leaf path: nibble 1 */
	xr_rlp_put_bytes(&leaf, "v", 1);
	xr_rlp_list_end(&leaf, m);
	xr_keccak256(leaf.data, leaf.len, h);
	m = xr_rlp_list_begin(&node);
	for (int i = 0; i < 16; i++)
		xr_rlp_put_bytes(&node, i == 0 ? h : NULL, i == 0 ? 32 : 0);
	xr_rlp_put_bytes(&node, NULL, 0);
	xr_rlp_list_end(&node, m);
	xr_keccak256(node.data, node.len, root);
	xr_buf_put(&proof, node.data, node.len);
	xr_buf_put(&proof, leaf.data, leaf.len);
	ck_assert_int_eq(xr_mpt_verify(root, &key, 1, proof.data, proof.len, &v, &vl, &err),
			 XR_EVERIFY);
	ck_assert_str_eq(err.msg, "proof node 1 is 3 bytes and must be embedded in its parent");

	/* An extension pointing at a leaf. */
	xr_buf_reset(&node);
	m = xr_rlp_list_begin(&node);
	hp[0] = 0x10; /* odd extension path: nibble 0 */
	xr_rlp_put_bytes(&node, hp, 1);
	xr_rlp_put_raw(&node, leaf.data, leaf.len);
	xr_rlp_list_end(&node, m);
	xr_keccak256(node.data, node.len, root);
	err.code = 0;
	ck_assert_int_eq(xr_mpt_verify(root, &key, 1, node.data, node.len, &v, &vl, &err),
			 XR_EVERIFY);
	ck_assert_str_eq(err.msg,
			 "proof node 0: extension leads to a leaf or extension, expected a branch");

	/* A node of 3 items. */
	xr_buf_reset(&node);
	m = xr_rlp_list_begin(&node);
	for (int i = 0; i < 3; i++)
		xr_rlp_put_bytes(&node, "\x20", 1);
	xr_rlp_list_end(&node, m);
	xr_keccak256(node.data, node.len, root);
	err.code = 0;
	ck_assert_int_eq(xr_mpt_verify(root, &key, 1, node.data, node.len, &v, &vl, &err),
			 XR_EVERIFY);
	ck_assert_str_eq(err.msg, "proof node 0: trie node has 3 items, expected 2 or 17");

	/* A byte string as the root node. */
	xr_keccak256("\x83"
		     "abc",
		     4, root);
	err.code = 0;
	ck_assert_int_eq(xr_mpt_verify(root, &key, 1,
				       (const uint8_t *)"\x83"
							"abc",
				       4, &v, &vl, &err),
			 XR_EVERIFY);
	ck_assert_str_eq(err.msg, "proof node 0: trie node is a byte string, expected a list");
	xr_buf_fini(&node);
	xr_buf_fini(&leaf);
	xr_buf_fini(&proof);
}
END_TEST

static Suite *mpt_suite(void)
{
	Suite *s = suite_create("evm_mpt");
	TCase *tc = tcase_create("encoding");
	tcase_add_loop_test(tc, test_hex_prefix, 0, sizeof(hp_cases) / sizeof(hp_cases[0]));
	tcase_add_test(tc, test_hex_prefix_refuses);
	tcase_add_loop_test(tc, test_index_key, 0, sizeof(index_keys) / sizeof(index_keys[0]));
	suite_add_tcase(s, tc);
	tc = tcase_create("trie");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_vectors);
	tcase_add_test(tc, test_prove_every_index);
	tcase_add_test(tc, test_general_keys);
	tcase_add_test(tc, test_build_refuses);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, test_tampered, 0, sizeof(tamper_sizes) / sizeof(tamper_sizes[0]));
	tcase_add_test(tc, test_random_proofs);
	tcase_add_test(tc, test_noncanonical);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (!(vectors = fx_vectors("mpt.json")))
		return 1;
	SRunner *sr = srunner_create(mpt_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	json_decref(vectors);
	return failed ? 1 : 0;
}
