/* mpt.c - Merkle-Patricia trie: build from sorted keys by recursion, prove,
 * verify. No database: the whole trie is made in memory from its pairs. */
#include "mpt.h"

#include <stdlib.h>
#include <string.h>

#include "keccak.h"
#include "rlp.h"

const uint8_t xr_mpt_empty_root[32] = {
    0x56, 0xe8, 0x1f, 0x17, 0x1b, 0xcc, 0x55, 0xa6, 0xff, 0x83, 0x45, 0xe6, 0x92, 0xc0, 0xf8, 0x6e,
    0x5b, 0x48, 0xe0, 0x1b, 0x99, 0x6c, 0xad, 0xc0, 0x01, 0x62, 0x2f, 0xb5, 0xe3, 0x63, 0xb4, 0x21,
};

#define MAX_NIBBLES (2 * XR_MPT_MAX_KEY)
#define NONE SIZE_MAX

enum node_kind { LEAF, EXTENSION, BRANCH };

struct node {
	enum node_kind kind;
	const uint8_t *path; /* leaf and extension: nibbles, into the trie's copy */
	size_t path_len;
	size_t child[16]; /* extension: child[0]; branch: NONE where empty */
	uint8_t *enc;	  /* the node's RLP */
	size_t enc_len;
	uint8_t hash[32]; /* keccak256(enc) when enc_len >= 32 */
};

/* A key spelled as nibbles, with its value (borrowed during the build). */
struct entry {
	uint8_t *nib;
	size_t nib_len;
	const uint8_t *val;
	size_t val_len;
};

struct xr_mpt {
	struct node *nodes;
	size_t n_nodes, cap;
	size_t root; /* NONE for the empty trie */
	uint8_t root_hash[32];
	uint8_t *nibbles; /* every key's nibbles, back to back */
};

size_t xr_mpt_index_key(uint64_t i, uint8_t out[9])
{
	struct xr_buf b;
	size_t n;

	xr_buf_init(&b, 9);
	xr_rlp_put_uint(&b, i);
	n = b.len;
	memcpy(out, b.data, n);
	xr_buf_fini(&b);
	return n;
}

size_t xr_mpt_hp_encode(const uint8_t *nibbles, size_t n, bool leaf, uint8_t *out)
{
	uint8_t flag = leaf ? 2 : 0;
	size_t o = 0, i = 0;

	if (n % 2) {
		out[o++] = (uint8_t)((flag + 1) << 4 | nibbles[0]);
		i = 1;
	} else {
		out[o++] = (uint8_t)(flag << 4);
	}
	for (; i < n; i += 2)
		out[o++] = (uint8_t)(nibbles[i] << 4 | nibbles[i + 1]);
	return o;
}

int xr_mpt_hp_decode(
    const uint8_t *p, size_t n, uint8_t *nibbles, size_t *ret_n, bool *ret_leaf, struct xr_err *err)
{
	if (n == 0)
		return xr_err_set(err, XR_EINVAL, "hex-prefix path is empty");
	uint8_t flag = p[0] >> 4;
	if (flag > 3)
		return xr_err_set(err, XR_EINVAL, "hex-prefix flag nibble %u is above 3", flag);
	if (!(flag & 1) && (p[0] & 15))
		return xr_err_set(err, XR_EINVAL,
				  "hex-prefix pad nibble of even path is %u, expected 0",
				  p[0] & 15);
	size_t o = 0;
	if (flag & 1)
		nibbles[o++] = p[0] & 15;
	for (size_t i = 1; i < n; i++) {
		nibbles[o++] = p[i] >> 4;
		nibbles[o++] = p[i] & 15;
	}
	*ret_n = o;
	*ret_leaf = flag & 2;
	return 0;
}

/* --- building ------------------------------------------------------------ */

static void to_nibbles(const uint8_t *key, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = key[i] >> 4;
		out[2 * i + 1] = key[i] & 15;
	}
}

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	size_t n = x->nib_len < y->nib_len ? x->nib_len : y->nib_len;
	int c = memcmp(x->nib, y->nib, n);
	if (c)
		return c;
	return (x->nib_len > y->nib_len) - (x->nib_len < y->nib_len);
}

static int new_node(struct xr_mpt *t, size_t *ret, struct xr_err *err)
{
	if (t->n_nodes == t->cap) {
		size_t ncap = t->cap ? 2 * t->cap : 16;
		struct node *nn = realloc(t->nodes, ncap * sizeof(*nn));
		if (!nn)
			return xr_err_set(err, XR_ENOMEM, "out of memory for %zu trie nodes", ncap);
		t->nodes = nn;
		t->cap = ncap;
	}
	struct node *nd = &t->nodes[t->n_nodes];
	memset(nd, 0, sizeof(*nd));
	for (int i = 0; i < 16; i++)
		nd->child[i] = NONE;
	*ret = t->n_nodes++;
	return 0;
}

/* Appends the reference to node i: its RLP when shorter than 32 bytes,
 * otherwise its hash. */
static void put_ref(struct xr_buf *b, const struct node *nd)
{
	if (nd->enc_len < 32)
		xr_rlp_put_raw(b, nd->enc, nd->enc_len);
	else
		xr_rlp_put_bytes(b, nd->hash, 32);
}

static void put_path(struct xr_buf *b, const uint8_t *nib, size_t n, bool leaf)
{
	uint8_t hp[MAX_NIBBLES / 2 + 1];
	xr_rlp_put_bytes(b, hp, xr_mpt_hp_encode(nib, n, leaf, hp));
}

static int finish_node(struct xr_mpt *t, size_t i, struct xr_buf *b, struct xr_err *err)
{
	if (b->failed)
		return xr_err_set(err, XR_ENOMEM, "trie node is over %u bytes or out of memory",
				  XR_MPT_MAX_NODE);
	struct node *nd = &t->nodes[i];
	nd->enc = xr_buf_steal(b, &nd->enc_len);
	if (!nd->enc)
		return xr_err_set(err, XR_ENOMEM, "out of memory for a trie node");
	if (nd->enc_len >= 32)
		xr_keccak256(nd->enc, nd->enc_len, nd->hash);
	return 0;
}

/* Builds the subtrie of e[lo..hi) (sorted, distinct, at least one), whose
 * keys all share their first `depth` nibbles. */
static int build(struct xr_mpt *t,
		 struct entry *e,
		 size_t lo,
		 size_t hi,
		 size_t depth,
		 size_t *ret,
		 struct xr_err *err)
{
	struct xr_buf b;
	size_t me, child;
	int rc;

	xr_buf_init(&b, XR_MPT_MAX_NODE);
	if ((rc = new_node(t, &me, err)) < 0)
		return rc;
	if (hi - lo == 1) {
		struct node *nd = &t->nodes[me];
		nd->kind = LEAF;
		nd->path = e[lo].nib + depth;
		nd->path_len = e[lo].nib_len - depth;
		size_t mark = xr_rlp_list_begin(&b);
		put_path(&b, nd->path, nd->path_len, true);
		xr_rlp_put_bytes(&b, e[lo].val, e[lo].val_len);
		xr_rlp_list_end(&b, mark);
		goto out;
	}
	/* Sorted keys: the common prefix of all is that of the first and last. */
	size_t cp = 0;
	while (depth + cp < e[lo].nib_len && depth + cp < e[hi - 1].nib_len &&
	       e[lo].nib[depth + cp] == e[hi - 1].nib[depth + cp])
		cp++;
	if (cp > 0) {
		if ((rc = build(t, e, lo, hi, depth + cp, &child, err)) < 0)
			goto out;
		struct node *nd = &t->nodes[me];
		nd->kind = EXTENSION;
		nd->path = e[lo].nib + depth;
		nd->path_len = cp;
		nd->child[0] = child;
		size_t mark = xr_rlp_list_begin(&b);
		put_path(&b, nd->path, cp, false);
		put_ref(&b, &t->nodes[child]);
		xr_rlp_list_end(&b, mark);
		goto out;
	}
	t->nodes[me].kind = BRANCH;
	const struct entry *value = NULL;
	if (e[lo].nib_len == depth)
		value = &e[lo++];
	for (size_t i = lo; i < hi;) {
		uint8_t nib = e[i].nib[depth];
		size_t j = i + 1;
		while (j < hi && e[j].nib[depth] == nib)
			j++;
		if ((rc = build(t, e, i, j, depth + 1, &child, err)) < 0)
			goto out;
		t->nodes[me].child[nib] = child;
		i = j;
	}
	size_t mark = xr_rlp_list_begin(&b);
	for (int i = 0; i < 16; i++) {
		size_t c = t->nodes[me].child[i];
		if (c == NONE)
			xr_rlp_put_bytes(&b, NULL, 0);
		else
			put_ref(&b, &t->nodes[c]);
	}
	if (value)
		xr_rlp_put_bytes(&b, value->val, value->val_len);
	else
		xr_rlp_put_bytes(&b, NULL, 0);
	xr_rlp_list_end(&b, mark);
out:
	if (rc == 0 && (rc = finish_node(t, me, &b, err)) == 0)
		*ret = me;
	xr_buf_fini(&b);
	return rc;
}

void xr_mpt_free(struct xr_mpt *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_nodes; i++)
		free(t->nodes[i].enc);
	free(t->nodes);
	free(t->nibbles);
	free(t);
}

int xr_mpt_build(const struct xr_mpt_kv *kv, size_t n, struct xr_mpt **ret, struct xr_err *err)
{
	struct xr_mpt *t = calloc(1, sizeof(*t));
	struct entry *e = NULL;
	size_t total = 0;
	int rc = 0;

	if (!t)
		return xr_err_set(err, XR_ENOMEM, "out of memory for a trie");
	t->root = NONE;
	memcpy(t->root_hash, xr_mpt_empty_root, 32);
	for (size_t i = 0; i < n; i++) {
		if (kv[i].key_len > XR_MPT_MAX_KEY) {
			rc = xr_err_set(err, XR_EINVAL, "trie key %zu is %zu bytes, at most %d", i,
					kv[i].key_len, XR_MPT_MAX_KEY);
			goto out;
		}
		if (kv[i].val_len == 0) {
			rc = xr_err_set(err, XR_EINVAL, "trie value %zu is empty", i);
			goto out;
		}
		total += 2 * kv[i].key_len;
	}
	if (n == 0)
		goto out;
	e = calloc(n, sizeof(*e));
	t->nibbles = malloc(total ? total : 1);
	if (!e || !t->nibbles) {
		rc = xr_err_set(err, XR_ENOMEM, "out of memory for %zu trie keys", n);
		goto out;
	}
	for (size_t i = 0, off = 0; i < n; i++) {
		e[i].nib = t->nibbles + off;
		e[i].nib_len = 2 * kv[i].key_len;
		e[i].val = kv[i].val;
		e[i].val_len = kv[i].val_len;
		to_nibbles(kv[i].key, kv[i].key_len, e[i].nib);
		off += e[i].nib_len;
	}
	qsort(e, n, sizeof(*e), cmp_entry);
	for (size_t i = 1; i < n; i++) {
		if (cmp_entry(&e[i - 1], &e[i]) == 0) {
			char hex[2 * XR_MPT_MAX_KEY + 1];
			for (size_t k = 0; k < e[i].nib_len; k++)
				hex[k] = "0123456789abcdef"[e[i].nib[k]];
			hex[e[i].nib_len] = '\0';
			rc = xr_err_set(err, XR_EINVAL, "trie key 0x%s appears twice", hex);
			goto out;
		}
	}
	if ((rc = build(t, e, 0, n, 0, &t->root, err)) < 0)
		goto out;
	const struct node *r = &t->nodes[t->root];
	/* The root is referenced by its hash whatever its size. */
	xr_keccak256(r->enc, r->enc_len, t->root_hash);
out:
	free(e);
	if (rc < 0) {
		xr_mpt_free(t);
		return rc;
	}
	*ret = t;
	return 0;
}

void xr_mpt_root(const struct xr_mpt *t, uint8_t out[32])
{
	memcpy(out, t->root_hash, 32);
}

int xr_mpt_prove(const struct xr_mpt *t,
		 const uint8_t *key,
		 size_t key_len,
		 struct xr_buf *out,
		 size_t *ret_count,
		 struct xr_err *err)
{
	uint8_t nib[MAX_NIBBLES];
	size_t nk = 2 * key_len, pos = 0, count = 0, start = out->len;

	if (key_len > XR_MPT_MAX_KEY)
		return xr_err_set(err, XR_EINVAL, "trie key is %zu bytes, at most %d", key_len,
				  XR_MPT_MAX_KEY);
	to_nibbles(key, key_len, nib);
	for (size_t cur = t->root; cur != NONE;) {
		const struct node *nd = &t->nodes[cur];
		if (cur == t->root || nd->enc_len >= 32) {
			xr_buf_put(out, nd->enc, nd->enc_len);
			count++;
		}
		cur = NONE;
		switch (nd->kind) {
		case LEAF:
			break;
		case EXTENSION:
			if (nk - pos >= nd->path_len &&
			    !memcmp(nib + pos, nd->path, nd->path_len)) {
				pos += nd->path_len;
				cur = nd->child[0];
			}
			break;
		case BRANCH:
			if (pos < nk)
				cur = nd->child[nib[pos++]];
			break;
		}
	}
	if (out->failed) {
		out->len = start;
		return xr_err_set(err, XR_ENOMEM, "proof does not fit its buffer (%zu bytes max)",
				  out->max);
	}
	if (ret_count)
		*ret_count = count;
	return 0;
}

/* --- verifying ----------------------------------------------------------- */

struct walk {
	const uint8_t *proof;
	size_t len, off, idx; /* idx: number of proof nodes taken */
};

/* Takes the next proof node and checks it hashes to ref. */
static int
take_node(struct walk *w, const uint8_t ref[32], struct xr_rlp_item *ret, struct xr_err *err)
{
	struct xr_err e = {0};
	struct xr_rlp_item node;
	size_t used;
	uint8_t h[32];
	char got[65], want[65];

	if (w->off == w->len)
		return xr_err_set(err, XR_EVERIFY,
				  "proof ends after %zu nodes, before the path reaches the key",
				  w->idx);
	if (xr_rlp_decode_prefix(w->proof + w->off, w->len - w->off, &node, &used, &e) < 0)
		return xr_err_set(err, XR_EVERIFY, "proof node %zu is not valid rlp: %s", w->idx,
				  e.msg);
	xr_keccak256(node.raw, node.raw_len, h);
	if (memcmp(h, ref, 32) != 0) {
		xr_hex_encode(h, 32, got);
		xr_hex_encode(ref, 32, want);
		return xr_err_set(err, XR_EVERIFY, "proof node %zu hashes to 0x%s, expected 0x%s",
				  w->idx, got, want);
	}
	if (w->idx > 0 && node.raw_len < 32)
		return xr_err_set(err, XR_EVERIFY,
				  "proof node %zu is %zu bytes and must be embedded in its parent",
				  w->idx, node.raw_len);
	w->off += used;
	w->idx++;
	*ret = node;
	return 0;
}

static int finish(const struct walk *w, struct xr_err *err)
{
	if (w->off != w->len)
		return xr_err_set(err, XR_EVERIFY,
				  "proof has %zu bytes of extra nodes after the %zu it needs",
				  w->len - w->off, w->idx);
	return 0;
}

int xr_mpt_verify(const uint8_t root[32],
		  const uint8_t *key,
		  size_t key_len,
		  const uint8_t *proof,
		  size_t proof_len,
		  const uint8_t **ret_val,
		  size_t *ret_val_len,
		  struct xr_err *err)
{
	struct walk w = {.proof = proof, .len = proof_len};
	uint8_t nib[MAX_NIBBLES], path[MAX_NIBBLES + 2];
	size_t nk = 2 * key_len, pos = 0;
	struct xr_rlp_item node, items[17], child, value;
	bool after_ext = false;
	int rc;

	if (key_len > XR_MPT_MAX_KEY)
		return xr_err_set(err, XR_EINVAL, "trie key is %zu bytes, at most %d", key_len,
				  XR_MPT_MAX_KEY);
	to_nibbles(key, key_len, nib);
	if (proof_len == 0) {
		if (memcmp(root, xr_mpt_empty_root, 32) == 0)
			return xr_err_set(err, XR_ENOTFOUND, "key is not in the empty trie");
		return xr_err_set(err, XR_EVERIFY, "proof has no nodes for a non-empty trie");
	}
	if ((rc = take_node(&w, root, &node, err)) < 0)
		return rc;
	for (;;) {
		/* Every node met is in proof node w.idx - 1, itself or embedded. */
		size_t at = w.idx - 1, count;
		struct xr_err e = {0};
		if (node.kind != XR_RLP_LIST)
			return xr_err_set(err, XR_EVERIFY,
					  "proof node %zu: trie node is a byte string, expected a "
					  "list",
					  at);
		if (xr_rlp_list_count(&node, &count, &e) < 0)
			return xr_err_set(err, XR_EVERIFY, "proof node %zu: %s", at, e.msg);
		if (count != 2 && count != 17)
			return xr_err_set(
			    err, XR_EVERIFY,
			    "proof node %zu: trie node has %zu items, expected 2 or 17", at, count);
		if (xr_rlp_list_exact(&node, items, count, "trie node", &e) < 0)
			return xr_err_set(err, XR_EVERIFY, "proof node %zu: %s", at, e.msg);
		if (after_ext && count != 17)
			return xr_err_set(err, XR_EVERIFY,
					  "proof node %zu: extension leads to a leaf or extension, "
					  "expected a branch",
					  at);
		after_ext = false;
		if (count == 17) {
			if (pos == nk) {
				value = items[16];
				if (value.kind != XR_RLP_BYTES)
					return xr_err_set(err, XR_EVERIFY,
							  "proof node %zu: branch value is a list",
							  at);
				if (value.len == 0)
					goto absent;
				goto found;
			}
			child = items[nib[pos++]];
		} else {
			size_t plen;
			bool leaf;
			if (items[0].kind != XR_RLP_BYTES || items[0].len > MAX_NIBBLES / 2 + 1)
				return xr_err_set(err, XR_EVERIFY,
						  "proof node %zu: path is not a byte string of at "
						  "most %d bytes",
						  at, MAX_NIBBLES / 2 + 1);
			if (xr_mpt_hp_decode(items[0].p, items[0].len, path, &plen, &leaf, &e) < 0)
				return xr_err_set(err, XR_EVERIFY, "proof node %zu: %s", at, e.msg);
			bool match = nk - pos >= plen && !memcmp(nib + pos, path, plen);
			if (leaf) {
				value = items[1];
				if (value.kind != XR_RLP_BYTES || value.len == 0)
					return xr_err_set(err, XR_EVERIFY,
							  "proof node %zu: leaf value is not a "
							  "non-empty byte string",
							  at);
				if (match && pos + plen == nk)
					goto found;
				goto absent;
			}
			if (plen == 0)
				return xr_err_set(err, XR_EVERIFY,
						  "proof node %zu: extension with an empty path",
						  at);
			if (!match)
				goto absent;
			pos += plen;
			child = items[1];
			after_ext = true;
		}
		if (child.kind == XR_RLP_LIST) {
			if (child.raw_len >= 32)
				return xr_err_set(
				    err, XR_EVERIFY,
				    "proof node %zu: embedded child of %zu bytes must be "
				    "referenced by its hash",
				    at, child.raw_len);
			node = child;
			continue;
		}
		if (child.len == 0) {
			if (after_ext)
				return xr_err_set(err, XR_EVERIFY,
						  "proof node %zu: extension has no child", at);
			goto absent;
		}
		if (child.len != 32)
			return xr_err_set(
			    err, XR_EVERIFY,
			    "proof node %zu: child reference is %zu bytes, expected 32 "
			    "or an embedded node",
			    at, child.len);
		if ((rc = take_node(&w, child.p, &node, err)) < 0)
			return rc;
	}
found:
	if ((rc = finish(&w, err)) < 0)
		return rc;
	*ret_val = value.p;
	*ret_val_len = value.len;
	return 0;
absent:
	if ((rc = finish(&w, err)) < 0)
		return rc;
	return xr_err_set(err, XR_ENOTFOUND, "the proof shows the key is not in the trie");
}
