/* receipt.c - receipts: EIP-2718 encoding from JSON-RPC, strict decoding,
 * and the receipts trie of a block. */
#include "receipt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "txs.h"

/* --- JSON-RPC values -------------------------------------------------------- */

/* The digits after "0x" of a JSON string; names `what` on failure. */
static int hex_body(
    const json_t *v, const char *what, const char **ret_digits, size_t *ret_n, struct xr_err *err)
{
	char show[4 * 40 + 4];

	if (!json_is_string(v))
		return xr_err_set(err, XR_EINVAL, "%s is not a string", what);
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (len < 2 || s[0] != '0' || s[1] != 'x')
		return xr_err_set(err, XR_EINVAL, "%s '%s' lacks the 0x prefix", what,
				  xr_show(s, len, 40, show));
	for (size_t i = 2; i < len; i++)
		if (xr_hex_digit(s[i]) < 0)
			return xr_err_set(err, XR_EINVAL, "%s '%s' has a non-hex character", what,
					  xr_show(s, len, 40, show));
	*ret_digits = s + 2;
	*ret_n = len - 2;
	return 0;
}

/* A QUANTITY of at most size bytes, big-endian into out[size]. */
static int
quantity(const json_t *v, const char *what, uint8_t *out, size_t size, struct xr_err *err)
{
	char show[4 * 40 + 4];
	const char *d;
	size_t n;
	int rc = hex_body(v, what, &d, &n, err);

	if (rc < 0)
		return rc;
	if (n == 0)
		return xr_err_set(err, XR_EINVAL, "%s '0x' has no digits", what);
	if (n > 1 && d[0] == '0')
		return xr_err_set(err, XR_EINVAL, "%s '%s' has a leading zero", what,
				  xr_show(d - 2, n + 2, 40, show));
	if (n > 2 * size)
		return xr_err_set(err, XR_EINVAL, "%s '%s' does not fit in %zu bytes", what,
				  xr_show(d - 2, n + 2, 40, show), size);
	memset(out, 0, size);
	for (size_t i = 0; i < n; i++) {
		size_t pos = 2 * size - n + i; /* nibble position in out */
		out[pos / 2] |= (uint8_t)(xr_hex_digit(d[i]) << (pos % 2 ? 0 : 4));
	}
	return 0;
}

int xr_evm_json_u64(const json_t *v, const char *what, uint64_t *ret, struct xr_err *err)
{
	uint8_t be[8];
	int rc = quantity(v, what, be, 8, err);
	if (rc == 0)
		*ret = xr_get_be64(be);
	return rc;
}

int xr_evm_json_u256(const json_t *v, const char *what, uint8_t ret[32], struct xr_err *err)
{
	uint8_t be[32];
	int rc = quantity(v, what, be, 32, err);
	if (rc == 0)
		memcpy(ret, be, 32);
	return rc;
}

static void fill(const char *d, size_t nbytes, uint8_t *out)
{
	for (size_t i = 0; i < nbytes; i++)
		out[i] = (uint8_t)(xr_hex_digit(d[2 * i]) << 4 | xr_hex_digit(d[2 * i + 1]));
}

int xr_evm_json_fixed(const json_t *v, const char *what, uint8_t *out, size_t n, struct xr_err *err)
{
	char show[4 * 40 + 4];
	const char *d;
	size_t digits;
	int rc = hex_body(v, what, &d, &digits, err);

	if (rc < 0)
		return rc;
	if (digits % 2)
		return xr_err_set(err, XR_EINVAL, "%s '%s' has an odd number of digits", what,
				  xr_show(d - 2, digits + 2, 40, show));
	if (digits / 2 != n)
		return xr_err_set(err, XR_EINVAL, "%s '%s' is %zu bytes, expected %zu", what,
				  xr_show(d - 2, digits + 2, 40, show), digits / 2, n);
	fill(d, n, out);
	return 0;
}

int xr_evm_json_data(const json_t *v,
		     const char *what,
		     size_t max,
		     struct xr_buf *out,
		     size_t *ret_len,
		     struct xr_err *err)
{
	char show[4 * 40 + 4];
	const char *d;
	size_t digits;
	int rc = hex_body(v, what, &d, &digits, err);

	if (rc < 0)
		return rc;
	if (digits % 2)
		return xr_err_set(err, XR_EINVAL, "%s '%s' has an odd number of digits", what,
				  xr_show(d - 2, digits + 2, 40, show));
	if (digits / 2 > max)
		return xr_err_set(err, XR_EINVAL, "%s is %zu bytes, expected at most %zu", what,
				  digits / 2, max);
	size_t n = digits / 2, mark = out->len;
	bool was_failed = out->failed;
	uint8_t chunk[512];
	for (size_t i = 0; i < n; i += sizeof(chunk)) {
		size_t k = n - i < sizeof(chunk) ? n - i : sizeof(chunk);
		fill(d + 2 * i, k, chunk);
		xr_buf_put(out, chunk, k);
	}
	if (out->failed && !was_failed) {
		out->len = mark;
		out->failed = false;
		return xr_err_set(err, XR_ENOMEM, "%s of %zu bytes does not fit in the buffer",
				  what, n);
	}
	if (ret_len)
		*ret_len = n;
	return 0;
}

/* --- encoding from JSON ----------------------------------------------------- */

static const json_t *member(const json_t *o, const char *key, const char *what, struct xr_err *err)
{
	const json_t *v = json_object_get(o, key);
	if (!v)
		xr_err_set(err, XR_EINVAL, "%s lacks field %s", what, key);
	return v;
}

/* DATA of min..max bytes, decoded into scratch and put as one RLP string. */
static int put_data(struct xr_buf *out,
		    struct xr_buf *scratch,
		    const json_t *v,
		    const char *what,
		    size_t min,
		    size_t max,
		    struct xr_err *err)
{
	size_t n;
	int rc;

	xr_buf_reset(scratch);
	if ((rc = xr_evm_json_data(v, what, max, scratch, &n, err)) < 0)
		return rc;
	if (n < min)
		return xr_err_set(err, XR_EINVAL, "%s is %zu bytes, expected %zu", what, n, min);
	xr_rlp_put_bytes(out, scratch->data, n);
	return 0;
}

static int
put_log(struct xr_buf *out, struct xr_buf *scratch, const json_t *log, size_t i, struct xr_err *err)
{
	char what[64];
	const json_t *v, *topics;
	int rc;

	snprintf(what, sizeof(what), "receipt log %zu", i);
	if (!json_is_object(log))
		return xr_err_set(err, XR_EINVAL, "%s is not a json object", what);
	size_t m = xr_rlp_list_begin(out);
	if (!(v = member(log, "address", what, err)))
		return XR_EINVAL;
	snprintf(what, sizeof(what), "receipt log %zu address", i);
	if ((rc = put_data(out, scratch, v, what, 20, 20, err)) < 0)
		return rc;
	snprintf(what, sizeof(what), "receipt log %zu", i);
	if (!(topics = member(log, "topics", what, err)))
		return XR_EINVAL;
	if (!json_is_array(topics))
		return xr_err_set(err, XR_EINVAL, "receipt log %zu topics is not an array", i);
	if (json_array_size(topics) > XR_EVM_LOG_TOPICS_MAX)
		return xr_err_set(err, XR_EINVAL, "receipt log %zu has %zu topics, expected 0..%d",
				  i, json_array_size(topics), XR_EVM_LOG_TOPICS_MAX);
	size_t mt = xr_rlp_list_begin(out);
	for (size_t j = 0; j < json_array_size(topics); j++) {
		snprintf(what, sizeof(what), "receipt log %zu topic %zu", i, j);
		if ((rc = put_data(out, scratch, json_array_get(topics, j), what, 32, 32, err)) < 0)
			return rc;
	}
	xr_rlp_list_end(out, mt);
	snprintf(what, sizeof(what), "receipt log %zu", i);
	if (!(v = member(log, "data", what, err)))
		return XR_EINVAL;
	snprintf(what, sizeof(what), "receipt log %zu data", i);
	if ((rc = put_data(out, scratch, v, what, 0, XR_EVM_LOG_DATA_MAX, err)) < 0)
		return rc;
	xr_rlp_list_end(out, m);
	return 0;
}

static int encode(const json_t *r, struct xr_buf *out, struct xr_buf *scratch, struct xr_err *err)
{
	const json_t *v, *logs;
	uint64_t type = 0, status, gas;
	int rc;

	if (!json_is_object(r))
		return xr_err_set(err, XR_EINVAL, "receipt is not a json object");
	/* Nodes before Berlin leave "type" out: a legacy receipt. */
	if ((v = json_object_get(r, "type")) &&
	    (rc = xr_evm_json_u64(v, "receipt type", &type, err)) < 0)
		return rc;
	if (type > 0x7f)
		return xr_err_set(err, XR_EINVAL, "receipt type %llu, expected 0..0x7f",
				  (unsigned long long)type);
	if (type != 0)
		xr_buf_u8(out, (uint8_t)type);
	size_t m = xr_rlp_list_begin(out);
	if ((v = json_object_get(r, "root")) && !json_object_get(r, "status")) {
		/* Before Byzantium: the post-transaction state root. */
		if ((rc = put_data(out, scratch, v, "receipt root", 32, 32, err)) < 0)
			return rc;
	} else {
		if (!(v = member(r, "status", "receipt", err)))
			return XR_EINVAL;
		if ((rc = xr_evm_json_u64(v, "receipt status", &status, err)) < 0)
			return rc;
		if (status > 1)
			return xr_err_set(err, XR_EINVAL, "receipt status %llu, expected 0 or 1",
					  (unsigned long long)status);
		xr_rlp_put_uint(out, status);
	}
	if (!(v = member(r, "cumulativeGasUsed", "receipt", err)))
		return XR_EINVAL;
	if ((rc = xr_evm_json_u64(v, "receipt cumulativeGasUsed", &gas, err)) < 0)
		return rc;
	xr_rlp_put_uint(out, gas);
	if (!(v = member(r, "logsBloom", "receipt", err)))
		return XR_EINVAL;
	if ((rc = put_data(out, scratch, v, "receipt logsBloom", 256, 256, err)) < 0)
		return rc;
	if (!(logs = member(r, "logs", "receipt", err)))
		return XR_EINVAL;
	if (!json_is_array(logs))
		return xr_err_set(err, XR_EINVAL, "receipt logs is not an array");
	if (json_array_size(logs) > XR_EVM_RECEIPT_MAX_LOGS)
		return xr_err_set(err, XR_EINVAL, "receipt has %zu logs, expected at most %d",
				  json_array_size(logs), XR_EVM_RECEIPT_MAX_LOGS);
	size_t ml = xr_rlp_list_begin(out);
	for (size_t i = 0; i < json_array_size(logs); i++)
		if ((rc = put_log(out, scratch, json_array_get(logs, i), i, err)) < 0)
			return rc;
	xr_rlp_list_end(out, ml);
	xr_rlp_list_end(out, m);
	return 0;
}

int xr_evm_receipt_from_json(const json_t *r, struct xr_buf *out, struct xr_err *err)
{
	struct xr_buf scratch;
	size_t mark = out->len;
	bool was_failed = out->failed;
	int rc;

	xr_buf_init(&scratch, XR_EVM_LOG_DATA_MAX);
	rc = encode(r, out, &scratch, err);
	if (rc == 0 && out->failed && !was_failed)
		rc = xr_err_set(err, XR_ENOMEM, "receipt does not fit in the output buffer");
	if (rc < 0 && !was_failed) {
		out->len = mark;
		out->failed = false;
	}
	xr_buf_fini(&scratch);
	return rc;
}

/* --- decoding --------------------------------------------------------------- */

static int decode_log(const struct xr_rlp_item *it, struct xr_evm_log *ret, struct xr_err *err)
{
	struct xr_rlp_item f[3], t;
	struct xr_rlp_iter iter;
	struct xr_evm_log lg;
	int rc;

	if (it->kind != XR_RLP_LIST)
		return xr_err_set(err, XR_EINVAL, "receipt log is a byte string, expected a list");
	if ((rc = xr_rlp_list_exact(it, f, 3, "receipt log", err)) < 0)
		return rc;
	memset(&lg, 0, sizeof(lg));
	if (f[0].kind != XR_RLP_BYTES || f[0].len != 20)
		return xr_err_set(err, XR_EINVAL, "receipt log address is not 20 bytes");
	lg.address = f[0].p;
	if (f[1].kind != XR_RLP_LIST)
		return xr_err_set(err, XR_EINVAL, "receipt log topics is not a list");
	/* Depth 3: receipt, logs, log, topics is 4; the iterator only uses it
	 * for the nesting cap. */
	xr_rlp_iter_init(&iter, &f[1], 4);
	while ((rc = xr_rlp_next(&iter, &t, err)) > 0) {
		if (lg.n_topics == XR_EVM_LOG_TOPICS_MAX)
			return xr_err_set(err, XR_EINVAL, "receipt log has more than %d topics",
					  XR_EVM_LOG_TOPICS_MAX);
		if (t.kind != XR_RLP_BYTES || t.len != 32)
			return xr_err_set(err, XR_EINVAL, "receipt log topic is not 32 bytes");
		lg.topics[lg.n_topics++] = t.p;
	}
	if (rc < 0)
		return rc;
	if (f[2].kind != XR_RLP_BYTES)
		return xr_err_set(err, XR_EINVAL, "receipt log data is a list, expected bytes");
	if (f[2].len > XR_EVM_LOG_DATA_MAX)
		return xr_err_set(err, XR_EINVAL,
				  "receipt log data is %zu bytes, expected at most %u", f[2].len,
				  XR_EVM_LOG_DATA_MAX);
	lg.data = f[2].p;
	lg.data_len = f[2].len;
	if (ret)
		*ret = lg;
	return 0;
}

int xr_evm_receipt_decode(const uint8_t *p,
			  size_t n,
			  struct xr_evm_receipt *ret,
			  struct xr_err *err)
{
	struct xr_evm_receipt r;
	struct xr_rlp_item top, f[4], it;
	struct xr_rlp_iter iter;
	int rc;

	if (n == 0)
		return xr_err_set(err, XR_EINVAL, "receipt is empty");
	memset(&r, 0, sizeof(r));
	if (p[0] < 0x80) {
		if (p[0] == 0)
			return xr_err_set(err, XR_EINVAL,
					  "receipt type byte 0x00, expected 0x01..0x7f or none");
		r.type = p[0];
		p++;
		n--;
	} else if (p[0] < 0xc0) {
		return xr_err_set(err, XR_EINVAL, "receipt is a byte string, expected a list");
	}
	if ((rc = xr_rlp_decode(p, n, &top, err)) < 0) {
		xr_err_prefix(err, "receipt");
		return rc;
	}
	if (top.kind != XR_RLP_LIST)
		return xr_err_set(err, XR_EINVAL, "receipt is a byte string, expected a list");
	if ((rc = xr_rlp_list_exact(&top, f, 4, "receipt", err)) < 0)
		return rc;
	if (f[0].kind == XR_RLP_BYTES && f[0].len == 32) {
		r.has_root = true;
		memcpy(r.root, f[0].p, 32);
	} else {
		uint64_t st;
		if ((rc = xr_rlp_uint64(&f[0], &st, "receipt status", err)) < 0)
			return rc;
		if (st > 1)
			return xr_err_set(err, XR_EINVAL, "receipt status %llu, expected 0 or 1",
					  (unsigned long long)st);
		r.status = (uint8_t)st;
	}
	if ((rc = xr_rlp_uint64(&f[1], &r.cumulative_gas, "receipt cumulativeGasUsed", err)) < 0)
		return rc;
	if (f[2].kind != XR_RLP_BYTES || f[2].len != 256)
		return xr_err_set(err, XR_EINVAL, "receipt logsBloom is not 256 bytes");
	r.bloom = f[2].p;
	if (f[3].kind != XR_RLP_LIST)
		return xr_err_set(err, XR_EINVAL, "receipt logs is a byte string, expected a list");
	r.logs = f[3];
	xr_rlp_iter_init(&iter, &f[3], 2);
	while ((rc = xr_rlp_next(&iter, &it, err)) > 0) {
		if (r.n_logs == XR_EVM_RECEIPT_MAX_LOGS)
			return xr_err_set(err, XR_EINVAL, "receipt has more than %d logs",
					  XR_EVM_RECEIPT_MAX_LOGS);
		if ((rc = decode_log(&it, NULL, err)) < 0) {
			xr_err_prefix(err, "log %zu", r.n_logs);
			return rc;
		}
		r.n_logs++;
	}
	if (rc < 0)
		return rc;
	*ret = r;
	return 0;
}

int xr_evm_receipt_log(const struct xr_evm_receipt *r,
		       size_t pos,
		       struct xr_evm_log *ret,
		       struct xr_err *err)
{
	struct xr_rlp_iter iter;
	struct xr_rlp_item it;
	size_t i = 0;
	int rc;

	if (pos >= r->n_logs)
		return xr_err_set(err, XR_EINVAL, "log position %zu, receipt has %zu logs", pos,
				  r->n_logs);
	xr_rlp_iter_init(&iter, &r->logs, 2);
	while ((rc = xr_rlp_next(&iter, &it, err)) > 0)
		if (i++ == pos)
			return decode_log(&it, ret, err);
	return rc < 0 ? rc : xr_err_set(err, XR_EINVAL, "log position %zu not found", pos);
}

/* --- the receipts of one block ---------------------------------------------- */

/* The trie machinery is shared with the transactions trie (txs.c). */
struct xr_evm_receipts {
	struct xr_evm_itrie it;
};

static const struct xr_evm_itrie_spec receipts_spec = {
    .noun = "receipt",
    .nouns = "receipts",
    .max_count = XR_EVM_BLOCK_RECEIPTS_MAX,
    /* A block's receipts are bounded by its gas; this bounds a hostile reply. */
    .max_total = (size_t)XR_EVM_RECEIPT_MAX * 4,
    .encode = xr_evm_receipt_from_json,
};

void xr_evm_receipts_free(struct xr_evm_receipts *r)
{
	if (!r)
		return;
	xr_evm_itrie_fini(&r->it);
	free(r);
}

int xr_evm_receipts_from_json(const json_t *receipts,
			      struct xr_evm_receipts **ret,
			      struct xr_err *err)
{
	struct xr_evm_receipts *r = calloc(1, sizeof(*r));
	int rc;

	if (!r)
		return xr_err_set(err, XR_ENOMEM, "out of memory for a block's receipts");
	if ((rc = xr_evm_itrie_init(&r->it, receipts, &receipts_spec, err)) < 0) {
		free(r);
		return rc;
	}
	*ret = r;
	return 0;
}

size_t xr_evm_receipts_count(const struct xr_evm_receipts *r)
{
	return r->it.n;
}

void xr_evm_receipts_get(const struct xr_evm_receipts *r,
			 size_t i,
			 const uint8_t **ret_enc,
			 size_t *ret_len)
{
	xr_evm_itrie_get(&r->it, i, ret_enc, ret_len);
}

void xr_evm_receipts_root(const struct xr_evm_receipts *r, uint8_t out[32])
{
	xr_evm_itrie_root(&r->it, out);
}

int xr_evm_receipts_prove(const struct xr_evm_receipts *r,
			  size_t i,
			  struct xr_buf *out,
			  size_t *ret_count,
			  struct xr_err *err)
{
	return xr_evm_itrie_prove(&r->it, i, out, ret_count, err);
}
