/* txs.c - a block's transactions: EIP-2718 envelopes (legacy/EIP-155,
 * EIP-2930, EIP-1559, EIP-4844, EIP-7702) re-encoded from JSON-RPC objects,
 * and the index-keyed trie the transactions and receipts tries share. */
#include "txs.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keccak.h"
#include "mpt.h"
#include "receipt.h"
#include "rlp.h"

/* --- the fields of each type, in wire order ---------------------------------- */

enum kind {
	K_U8,	   /* QUANTITY of at most 1 byte */
	K_U64,	   /* QUANTITY of at most 8 bytes */
	K_U256,	   /* QUANTITY of at most 32 bytes */
	K_TO,	   /* an address, or null for contract creation */
	K_DEST,	   /* an address: "to" of a type that cannot create */
	K_ADDR,	   /* an address */
	K_DATA,	   /* DATA of at most XR_EVM_BLOCK_TX_MAX bytes */
	K_ACCESS,  /* EIP-2930 access list */
	K_BLOBS,   /* EIP-4844 versioned hashes */
	K_AUTHS,   /* EIP-7702 authorization list */
	K_V,	   /* legacy v, against "chainId" */
	K_YPARITY, /* typed y parity, against "v" */
};

struct field {
	const char *name;
	enum kind kind;
};

static const struct field legacy_fields[] = {
    {"nonce", K_U64},  {"gasPrice", K_U256}, {"gas", K_U64}, {"to", K_TO},  {"value", K_U256},
    {"input", K_DATA}, {"v", K_V},	     {"r", K_U256},  {"s", K_U256},
};

static const struct field eip2930_fields[] = {
    {"chainId", K_U256},    {"nonce", K_U64},  {"gasPrice", K_U256}, {"gas", K_U64},
    {"to", K_TO},	    {"value", K_U256}, {"input", K_DATA},    {"accessList", K_ACCESS},
    {"yParity", K_YPARITY}, {"r", K_U256},     {"s", K_U256},
};

static const struct field eip1559_fields[] = {
    {"chainId", K_U256},      {"nonce", K_U64},	 {"maxPriorityFeePerGas", K_U256},
    {"maxFeePerGas", K_U256}, {"gas", K_U64},	 {"to", K_TO},
    {"value", K_U256},	      {"input", K_DATA}, {"accessList", K_ACCESS},
    {"yParity", K_YPARITY},   {"r", K_U256},	 {"s", K_U256},
};

static const struct field eip4844_fields[] = {
    {"chainId", K_U256},
    {"nonce", K_U64},
    {"maxPriorityFeePerGas", K_U256},
    {"maxFeePerGas", K_U256},
    {"gas", K_U64},
    {"to", K_DEST},
    {"value", K_U256},
    {"input", K_DATA},
    {"accessList", K_ACCESS},
    {"maxFeePerBlobGas", K_U256},
    {"blobVersionedHashes", K_BLOBS},
    {"yParity", K_YPARITY},
    {"r", K_U256},
    {"s", K_U256},
};

static const struct field eip7702_fields[] = {
    {"chainId", K_U256},
    {"nonce", K_U64},
    {"maxPriorityFeePerGas", K_U256},
    {"maxFeePerGas", K_U256},
    {"gas", K_U64},
    {"to", K_DEST},
    {"value", K_U256},
    {"input", K_DATA},
    {"accessList", K_ACCESS},
    {"authorizationList", K_AUTHS},
    {"yParity", K_YPARITY},
    {"r", K_U256},
    {"s", K_U256},
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const struct tx_type {
	const char *name; /* in messages */
	const struct field *fields;
	size_t n;
} tx_types[] = {
    {"legacy transaction", legacy_fields, N_ELEMS(legacy_fields)},
    {"type-1 transaction", eip2930_fields, N_ELEMS(eip2930_fields)},
    {"type-2 transaction", eip1559_fields, N_ELEMS(eip1559_fields)},
    {"type-3 transaction", eip4844_fields, N_ELEMS(eip4844_fields)},
    {"type-4 transaction", eip7702_fields, N_ELEMS(eip7702_fields)},
};

/* --- field writers ------------------------------------------------------------ */

struct enc {
	const json_t *tx;
	const struct tx_type *type;
	struct xr_buf *out;
	struct xr_buf *scratch; /* for DATA */
	char what[96];		/* the value being read, for messages */
};

static const char *name_of(struct enc *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static const char *name_of(struct enc *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->what, sizeof(e->what), fmt, ap);
	va_end(ap);
	return e->what;
}

static const json_t *need(const json_t *o, const char *key, const char *in, struct xr_err *err)
{
	const json_t *v = json_object_get(o, key);
	if (!v)
		xr_err_set(err, XR_EINVAL, "%s lacks field %s", in, key);
	return v;
}

static int put_u256(struct enc *e, const json_t *v, const char *what, struct xr_err *err)
{
	uint8_t be[32];
	int rc = xr_evm_json_u256(v, what, be, err);
	if (rc == 0)
		xr_rlp_put_uint_be(e->out, be, 32);
	return rc;
}

static int put_fixed(struct enc *e, const json_t *v, const char *what, size_t n, struct xr_err *err)
{
	uint8_t b[32];
	int rc = xr_evm_json_fixed(v, what, b, n, err);
	if (rc == 0)
		xr_rlp_put_bytes(e->out, b, n);
	return rc;
}

/* A JSON array of at most max entries. */
static int array(const json_t *v, const char *what, size_t max, struct xr_err *err)
{
	if (!json_is_array(v))
		return xr_err_set(err, XR_EINVAL, "%s is not an array", what);
	if (json_array_size(v) > max)
		return xr_err_set(err, XR_EINVAL, "%s has %zu entries, expected at most %zu", what,
				  json_array_size(v), max);
	return 0;
}

static int put_value(
    struct enc *e, const struct field *f, const json_t *v, const char *what, struct xr_err *err);

/* [[address, [storage key, ...]], ...] */
static int put_access(struct enc *e, const json_t *list, struct xr_err *err)
{
	const char *tn = "transaction accessList";
	size_t keys = 0;
	int rc;

	if ((rc = array(list, tn, XR_EVM_TX_ACCESS_MAX, err)) < 0)
		return rc;
	size_t m = xr_rlp_list_begin(e->out);
	for (size_t i = 0; i < json_array_size(list); i++) {
		const json_t *ent = json_array_get(list, i), *v, *sk;
		char in[64];
		snprintf(in, sizeof(in), "%s entry %zu", tn, i);
		if (!json_is_object(ent))
			return xr_err_set(err, XR_EINVAL, "%s is not a json object", in);
		if (!(v = need(ent, "address", in, err)) ||
		    !(sk = need(ent, "storageKeys", in, err)))
			return XR_EINVAL;
		size_t me = xr_rlp_list_begin(e->out);
		if ((rc = put_fixed(e, v, name_of(e, "%s address", in), 20, err)) < 0 ||
		    (rc = array(sk, name_of(e, "%s storageKeys", in), XR_EVM_TX_KEYS_MAX, err)) < 0)
			return rc;
		keys += json_array_size(sk);
		if (keys > XR_EVM_TX_KEYS_MAX)
			return xr_err_set(err, XR_EINVAL,
					  "%s holds more than %d storage keys in all", tn,
					  XR_EVM_TX_KEYS_MAX);
		size_t mk = xr_rlp_list_begin(e->out);
		for (size_t j = 0; j < json_array_size(sk); j++)
			if ((rc = put_fixed(e, json_array_get(sk, j),
					    name_of(e, "%s storage key %zu", in, j), 32, err)) < 0)
				return rc;
		xr_rlp_list_end(e->out, mk);
		xr_rlp_list_end(e->out, me);
	}
	xr_rlp_list_end(e->out, m);
	return 0;
}

/* [versioned hash, ...]; a blob transaction without blobs cannot be in a
 * block (EIP-4844). */
static int put_blobs(struct enc *e, const json_t *list, struct xr_err *err)
{
	const char *tn = "transaction blobVersionedHashes";
	int rc;

	if ((rc = array(list, tn, XR_EVM_TX_BLOBS_MAX, err)) < 0)
		return rc;
	if (json_array_size(list) == 0)
		return xr_err_set(err, XR_EINVAL, "%s is empty, expected at least one hash", tn);
	size_t m = xr_rlp_list_begin(e->out);
	for (size_t i = 0; i < json_array_size(list); i++)
		if ((rc = put_fixed(e, json_array_get(list, i), name_of(e, "%s entry %zu", tn, i),
				    32, err)) < 0)
			return rc;
	xr_rlp_list_end(e->out, m);
	return 0;
}

/* [[chain_id, address, nonce, y_parity, r, s], ...]; an empty list makes
 * the transaction invalid (EIP-7702). A tuple's own bounds are those of its
 * encoding: chain id and r, s 256 bits, nonce 64, y parity 8. Whether a
 * tuple is valid is decided when it runs, so its values are not judged. */
static int put_auths(struct enc *e, const json_t *list, struct xr_err *err)
{
	static const struct field auth_fields[] = {
	    {"chainId", K_U256}, {"address", K_ADDR}, {"nonce", K_U64},
	    {"yParity", K_U8},	 {"r", K_U256},	      {"s", K_U256},
	};
	const char *tn = "transaction authorizationList";
	int rc;

	if ((rc = array(list, tn, XR_EVM_TX_AUTHS_MAX, err)) < 0)
		return rc;
	if (json_array_size(list) == 0)
		return xr_err_set(err, XR_EINVAL, "%s is empty, expected at least one entry", tn);
	size_t m = xr_rlp_list_begin(e->out);
	for (size_t i = 0; i < json_array_size(list); i++) {
		const json_t *a = json_array_get(list, i), *v;
		char in[64];
		snprintf(in, sizeof(in), "%s entry %zu", tn, i);
		if (!json_is_object(a))
			return xr_err_set(err, XR_EINVAL, "%s is not a json object", in);
		size_t ma = xr_rlp_list_begin(e->out);
		for (size_t k = 0; k < N_ELEMS(auth_fields); k++) {
			const struct field *f = &auth_fields[k];
			if (!(v = need(a, f->name, in, err)))
				return XR_EINVAL;
			if ((rc = put_value(e, f, v, name_of(e, "%s %s", in, f->name), err)) < 0)
				return rc;
		}
		xr_rlp_list_end(e->out, ma);
	}
	xr_rlp_list_end(e->out, m);
	return 0;
}

/* Legacy v: 27/28 before EIP-155, else 35 + 2 * chain id + y parity. The
 * node's "chainId" must tell the same story as v. */
static int put_v(struct enc *e, const json_t *v, struct xr_err *err)
{
	const char *tn = e->type->name;
	const json_t *cj = json_object_get(e->tx, "chainId");
	uint64_t val, cid = 0;
	int rc;

	if ((rc = xr_evm_json_u64(v, "transaction v", &val, err)) < 0 ||
	    (cj && (rc = xr_evm_json_u64(cj, "transaction chainId", &cid, err)) < 0))
		return rc;
	if (val == 27 || val == 28) {
		/* Some geth versions say chainId 0x0 for these. */
		if (cj && cid != 0)
			return xr_err_set(err, XR_EINVAL,
					  "%s v 0x%llx has no chain id, but chainId is 0x%llx", tn,
					  (unsigned long long)val, (unsigned long long)cid);
	} else if (val >= 37) {
		uint64_t from_v = (val - 35) / 2;
		if (cj && cid != from_v)
			return xr_err_set(
			    err, XR_EINVAL,
			    "%s v 0x%llx is for chain id 0x%llx, but chainId is 0x%llx", tn,
			    (unsigned long long)val, (unsigned long long)from_v,
			    (unsigned long long)cid);
	} else {
		return xr_err_set(err, XR_EINVAL,
				  "%s v 0x%llx is not 27, 28 or 35 + 2 * chain id (at least 1) + "
				  "{0, 1}",
				  tn, (unsigned long long)val);
	}
	xr_rlp_put_uint(e->out, val);
	return 0;
}

/* Typed y parity; nodes may repeat it as "v" for old clients. */
static int put_yparity(struct enc *e, const json_t *v, struct xr_err *err)
{
	const char *tn = e->type->name;
	const json_t *vj = json_object_get(e->tx, "v");
	uint64_t y, vv;
	int rc;

	if ((rc = xr_evm_json_u64(v, "transaction yParity", &y, err)) < 0)
		return rc;
	if (y > 1)
		return xr_err_set(err, XR_EINVAL, "%s %s 0x%llx is not 0x0 or 0x1", tn,
				  v == vj ? "v (standing for yParity)" : "yParity",
				  (unsigned long long)y);
	if (vj) {
		if ((rc = xr_evm_json_u64(vj, "transaction v", &vv, err)) < 0)
			return rc;
		if (vv != y)
			return xr_err_set(err, XR_EINVAL,
					  "%s v 0x%llx disagrees with yParity 0x%llx", tn,
					  (unsigned long long)vv, (unsigned long long)y);
	}
	xr_rlp_put_uint(e->out, y);
	return 0;
}

/* One value of kind f->kind, v being its JSON; what names it. */
static int put_value(
    struct enc *e, const struct field *f, const json_t *v, const char *what, struct xr_err *err)
{
	uint64_t u;
	size_t n;
	int rc;

	switch (f->kind) {
	case K_U8:
	case K_U64:
		if ((rc = xr_evm_json_u64(v, what, &u, err)) < 0)
			return rc;
		if (f->kind == K_U8 && u > 0xff)
			return xr_err_set(err, XR_EINVAL, "%s 0x%llx is above 0xff", what,
					  (unsigned long long)u);
		xr_rlp_put_uint(e->out, u);
		return 0;
	case K_U256:
		return put_u256(e, v, what, err);
	case K_TO:
		if (json_is_null(v)) {
			xr_rlp_put_bytes(e->out, NULL, 0);
			return 0;
		}
		return put_fixed(e, v, what, 20, err);
	case K_DEST:
		if (json_is_null(v))
			return xr_err_set(err, XR_EINVAL,
					  "%s has \"to\": null, but only types 0 to 2 create "
					  "contracts",
					  e->type->name);
		return put_fixed(e, v, what, 20, err);
	case K_ADDR:
		return put_fixed(e, v, what, 20, err);
	case K_DATA:
		xr_buf_reset(e->scratch);
		if ((rc = xr_evm_json_data(v, what, XR_EVM_BLOCK_TX_MAX, e->scratch, &n, err)) == 0)
			xr_rlp_put_bytes(e->out, e->scratch->data, n);
		return rc;
	case K_ACCESS:
		return put_access(e, v, err);
	case K_BLOBS:
		return put_blobs(e, v, err);
	case K_AUTHS:
		return put_auths(e, v, err);
	case K_V:
		return put_v(e, v, err);
	case K_YPARITY:
		return put_yparity(e, v, err);
	}
	return xr_err_set(err, XR_EINVAL, "transaction field %s has no encoder", f->name);
}

static int put_field(struct enc *e, const struct field *f, struct xr_err *err)
{
	/* Hardhat (EDR) sends typed transactions with "v" (0 or 1) and no
	 * "yParity", as clients did before yParity was specified: then v is
	 * the y parity. */
	if (f->kind == K_YPARITY && !json_object_get(e->tx, f->name) && json_object_get(e->tx, "v"))
		return put_value(e, f, json_object_get(e->tx, "v"), "transaction v", err);
	const json_t *v = need(e->tx, f->name, e->type->name, err);
	if (!v)
		return XR_EINVAL;
	return put_value(e, f, v, name_of(e, "transaction %s", f->name), err);
}

static int encode(struct enc *e, uint8_t hash[32], struct xr_err *err)
{
	const json_t *v;
	uint64_t type = 0;
	int rc;

	if (!json_is_object(e->tx))
		return xr_err_set(err, XR_EINVAL, "transaction is not a json object");
	/* Nodes before Berlin leave "type" out: a legacy transaction. */
	if ((v = json_object_get(e->tx, "type")) &&
	    (rc = xr_evm_json_u64(v, "transaction type", &type, err)) < 0)
		return rc;
	if (type >= N_ELEMS(tx_types))
		return xr_err_set(
		    err, XR_EINVAL,
		    "transaction type 0x%llx is not supported (expected 0x0 to 0x%zx)",
		    (unsigned long long)type, N_ELEMS(tx_types) - 1);
	e->type = &tx_types[type];
	if (!(v = need(e->tx, "hash", e->type->name, err)))
		return XR_EINVAL;
	if ((rc = xr_evm_json_fixed(v, "transaction hash", hash, 32, err)) < 0)
		return rc;
	if (type != 0)
		xr_buf_u8(e->out, (uint8_t)type);
	size_t m = xr_rlp_list_begin(e->out);
	for (size_t i = 0; i < e->type->n; i++)
		if ((rc = put_field(e, &e->type->fields[i], err)) < 0)
			return rc;
	xr_rlp_list_end(e->out, m);
	return 0;
}

int xr_evm_tx_raw_from_json(const json_t *tx,
			    struct xr_buf *out,
			    uint8_t ret_hash[32],
			    struct xr_err *err)
{
	struct xr_buf scratch;
	struct enc e = {.tx = tx, .out = out, .scratch = &scratch};
	uint8_t want[32], got[32];
	size_t mark = out->len;
	int rc;

	/* Nothing could be appended: say so rather than a hash mismatch. */
	if (out->failed)
		return xr_err_set(err, XR_ENOMEM, "transaction output buffer has failed before");
	xr_buf_init(&scratch, XR_EVM_BLOCK_TX_MAX);
	rc = encode(&e, want, err);
	if (rc == 0 && out->failed)
		rc = xr_err_set(err, XR_ENOMEM,
				"transaction does not fit in the output buffer (cap %zu bytes)",
				out->max);
	if (rc == 0 && out->len - mark > XR_EVM_BLOCK_TX_MAX)
		rc = xr_err_set(err, XR_EINVAL, "transaction of %zu bytes is larger than %u",
				out->len - mark, XR_EVM_BLOCK_TX_MAX);
	if (rc == 0) {
		xr_keccak256(out->data + mark, out->len - mark, got);
		if (memcmp(got, want, 32) != 0) {
			char w[65], g[65];
			xr_hex_encode(want, 32, w);
			xr_hex_encode(got, 32, g);
			rc = xr_err_set(err, XR_EVERIFY,
					"transaction hash 0x%s does not match its encoding, which "
					"hashes to 0x%s",
					w, g);
		}
	}
	if (rc < 0) {
		out->len = mark;
		out->failed = false;
	} else if (ret_hash) {
		memcpy(ret_hash, got, 32);
	}
	xr_buf_fini(&scratch);
	return rc;
}

/* --- index-keyed tries ----------------------------------------------------------- */

void xr_evm_itrie_fini(struct xr_evm_itrie *t)
{
	xr_buf_fini(&t->enc);
	free(t->off);
	xr_mpt_free(t->trie);
	memset(t, 0, sizeof(*t));
}

int xr_evm_itrie_init(struct xr_evm_itrie *t,
		      const json_t *array,
		      const struct xr_evm_itrie_spec *spec,
		      struct xr_err *err)
{
	const char *noun = spec->noun;
	struct xr_mpt_kv *kv = NULL;
	uint8_t(*keys)[9] = NULL;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	if (!json_is_array(array))
		return xr_err_set(err, XR_EINVAL, "block %s is not a json array", spec->nouns);
	size_t n = json_array_size(array);
	if (n > spec->max_count)
		return xr_err_set(err, XR_EINVAL, "block has %zu %s, expected at most %zu", n,
				  spec->nouns, spec->max_count);
	t->spec = spec;
	/* A block's contents are bounded by its gas; this bounds a hostile reply. */
	xr_buf_init(&t->enc, spec->max_total);
	if (!(t->off = calloc(n + 1, sizeof(*t->off))) ||
	    (n && (!(kv = calloc(n, sizeof(*kv))) || !(keys = calloc(n, sizeof(*keys)))))) {
		rc = xr_err_set(err, XR_ENOMEM, "out of memory for %zu %s", n, spec->nouns);
		goto out;
	}
	t->n = n;
	for (size_t i = 0; i < n; i++) {
		const json_t *o = json_array_get(array, i);
		uint64_t idx;
		/* Not an object: the encoder says so. */
		if (json_is_object(o)) {
			const json_t *ti = json_object_get(o, "transactionIndex");
			if (!ti) {
				rc = xr_err_set(err, XR_EINVAL,
						"%s %zu lacks field transactionIndex", noun, i);
				goto out;
			}
			if ((rc = xr_evm_json_u64(ti, "transactionIndex", &idx, err)) < 0) {
				xr_err_prefix(err, "%s %zu", noun, i);
				goto out;
			}
			if (idx != i) {
				rc = xr_err_set(err, XR_EINVAL,
						"%s %zu has transactionIndex %llu, expected %zu",
						noun, i, (unsigned long long)idx, i);
				goto out;
			}
		}
		t->off[i] = t->enc.len;
		if ((rc = spec->encode(o, &t->enc, err)) < 0) {
			xr_err_prefix(err, "%s %zu", noun, i);
			goto out;
		}
	}
	t->off[n] = t->enc.len;
	for (size_t i = 0; i < n; i++)
		kv[i] = (struct xr_mpt_kv){keys[i], xr_mpt_index_key(i, keys[i]),
					   t->enc.data + t->off[i], t->off[i + 1] - t->off[i]};
	rc = xr_mpt_build(kv, n, &t->trie, err);
out:
	if (rc < 0)
		xr_evm_itrie_fini(t);
	free(kv);
	free(keys);
	return rc;
}

void xr_evm_itrie_get(const struct xr_evm_itrie *t,
		      size_t i,
		      const uint8_t **ret_enc,
		      size_t *ret_len)
{
	*ret_enc = t->enc.data + t->off[i];
	*ret_len = t->off[i + 1] - t->off[i];
}

void xr_evm_itrie_root(const struct xr_evm_itrie *t, uint8_t out[32])
{
	xr_mpt_root(t->trie, out);
}

int xr_evm_itrie_prove(const struct xr_evm_itrie *t,
		       size_t i,
		       struct xr_buf *out,
		       size_t *ret_count,
		       struct xr_err *err)
{
	uint8_t key[9];

	if (i >= t->n)
		return xr_err_set(err, XR_EINVAL, "%s index %zu, block has %zu %s", t->spec->noun,
				  i, t->n, t->spec->nouns);
	return xr_mpt_prove(t->trie, key, xr_mpt_index_key(i, key), out, ret_count, err);
}

/* --- the transactions of one block ------------------------------------------------ */

struct xr_evm_txs {
	struct xr_evm_itrie it;
};

static int encode_tx(const json_t *item, struct xr_buf *out, struct xr_err *err)
{
	return xr_evm_tx_raw_from_json(item, out, NULL, err);
}

static const struct xr_evm_itrie_spec txs_spec = {
    .noun = "transaction",
    .nouns = "transactions",
    .max_count = XR_EVM_BLOCK_TXS_MAX,
    .max_total = (size_t)XR_EVM_BLOCK_TX_MAX * 4,
    .encode = encode_tx,
};

int xr_evm_txs_from_json(const json_t *transactions, struct xr_evm_txs **ret, struct xr_err *err)
{
	struct xr_evm_txs *t = calloc(1, sizeof(*t));
	int rc;

	if (!t)
		return xr_err_set(err, XR_ENOMEM, "out of memory for a block's transactions");
	if ((rc = xr_evm_itrie_init(&t->it, transactions, &txs_spec, err)) < 0) {
		free(t);
		return rc;
	}
	*ret = t;
	return 0;
}

void xr_evm_txs_free(struct xr_evm_txs *t)
{
	if (!t)
		return;
	xr_evm_itrie_fini(&t->it);
	free(t);
}

size_t xr_evm_txs_count(const struct xr_evm_txs *t)
{
	return t->it.n;
}

void xr_evm_txs_get(const struct xr_evm_txs *t, size_t i, const uint8_t **ret_raw, size_t *ret_len)
{
	xr_evm_itrie_get(&t->it, i, ret_raw, ret_len);
}

void xr_evm_txs_root(const struct xr_evm_txs *t, uint8_t out[32])
{
	xr_evm_itrie_root(&t->it, out);
}

int xr_evm_txs_prove(
    const struct xr_evm_txs *t, size_t i, struct xr_buf *out, size_t *ret_count, struct xr_err *err)
{
	return xr_evm_itrie_prove(&t->it, i, out, ret_count, err);
}
