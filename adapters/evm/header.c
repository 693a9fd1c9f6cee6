/* header.c - Ethereum block header: RLP codec and JSON-RPC reader, both
 * driven by one field table in header order. */
#include "header.h"
#include "xr_bytes.h"

#include <stddef.h>
#include <string.h>

#include "keccak.h"
#include "rlp.h"

enum ftype {
	F_FIXED, /* exactly size bytes */
	F_U64,
	F_U256, /* 32 bytes big-endian */
	F_EXTRA,
};

struct field {
	const char *name; /* the JSON-RPC member */
	enum ftype type;
	size_t off;
	size_t size; /* F_FIXED only */
};

#define FIX(name, member, n)                                                                       \
	{                                                                                          \
		name, F_FIXED, offsetof(struct xr_evm_header, member), n                           \
	}
#define U64(name, member)                                                                          \
	{                                                                                          \
		name, F_U64, offsetof(struct xr_evm_header, member), 8                             \
	}
#define U256(name, member)                                                                         \
	{                                                                                          \
		name, F_U256, offsetof(struct xr_evm_header, member), 32                           \
	}

static const struct field fields[] = {
    FIX("parentHash", parent_hash, 32),
    FIX("sha3Uncles", uncles_hash, 32),
    FIX("miner", miner, 20),
    FIX("stateRoot", state_root, 32),
    FIX("transactionsRoot", tx_root, 32),
    FIX("receiptsRoot", receipts_root, 32),
    FIX("logsBloom", logs_bloom, 256),
    U256("difficulty", difficulty),
    U64("number", number),
    U64("gasLimit", gas_limit),
    U64("gasUsed", gas_used),
    U64("timestamp", timestamp),
    {"extraData", F_EXTRA, offsetof(struct xr_evm_header, extra), XR_EVM_EXTRA_MAX},
    FIX("mixHash", mix_hash, 32),
    FIX("nonce", nonce, 8),
    /* the optional tail, in fork order */
    U256("baseFeePerGas", base_fee),
    FIX("withdrawalsRoot", withdrawals_root, 32),
    U64("blobGasUsed", blob_gas_used),
    U64("excessBlobGas", excess_blob_gas),
    FIX("parentBeaconBlockRoot", parent_beacon_root, 32),
    FIX("requestsHash", requests_hash, 32),
};

#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))
#define N_REQUIRED (N_FIELDS - XR_EVM_TAIL_MAX)

_Static_assert(N_REQUIRED == 15, "the pre-London header has 15 fields");

static void *at(struct xr_evm_header *h, const struct field *f)
{
	return (uint8_t *)h + f->off;
}

static const void *cat(const struct xr_evm_header *h, const struct field *f)
{
	return (const uint8_t *)h + f->off;
}

/* --- RLP ----------------------------------------------------------------- */

int xr_evm_header_encode(const struct xr_evm_header *h, struct xr_buf *out, struct xr_err *err)
{
	if (h->n_tail > XR_EVM_TAIL_MAX)
		return xr_err_set(err, XR_EINVAL, "header has %u optional fields, at most %d",
				  h->n_tail, XR_EVM_TAIL_MAX);
	if (h->extra_len > XR_EVM_EXTRA_MAX)
		return xr_err_set(err, XR_EINVAL, "header extraData is %zu bytes, at most %d",
				  h->extra_len, XR_EVM_EXTRA_MAX);
	size_t start = out->len, mark = xr_rlp_list_begin(out);
	for (size_t i = 0; i < N_REQUIRED + h->n_tail; i++) {
		const struct field *f = &fields[i];
		const void *v = cat(h, f);
		switch (f->type) {
		case F_FIXED:
			xr_rlp_put_bytes(out, v, f->size);
			break;
		case F_U64:
			xr_rlp_put_uint(out, *(const uint64_t *)v);
			break;
		case F_U256:
			xr_rlp_put_uint_be(out, v, 32);
			break;
		case F_EXTRA:
			xr_rlp_put_bytes(out, h->extra, h->extra_len);
			break;
		}
	}
	xr_rlp_list_end(out, mark);
	if (out->failed) {
		if (start <= out->len)
			out->len = start;
		return xr_err_set(err, XR_ENOMEM, "header does not fit its buffer (%zu bytes max)",
				  out->max);
	}
	return 0;
}

int xr_evm_header_hash(const struct xr_evm_header *h, uint8_t out[32], struct xr_err *err)
{
	struct xr_buf b;
	int rc;

	xr_buf_init(&b, XR_EVM_EXTRA_MAX + 2048);
	if ((rc = xr_evm_header_encode(h, &b, err)) == 0)
		xr_keccak256(b.data, b.len, out);
	xr_buf_fini(&b);
	return rc;
}

int xr_evm_header_decode(const uint8_t *p, size_t n, struct xr_evm_header *ret, struct xr_err *err)
{
	struct xr_rlp_item top, item;
	struct xr_rlp_iter it;
	struct xr_evm_header h;
	size_t count = 0;
	int rc;

	if ((rc = xr_rlp_decode(p, n, &top, err)) < 0)
		return rc;
	if (top.kind != XR_RLP_LIST)
		return xr_err_set(err, XR_EINVAL, "header is a byte string, expected a list");
	memset(&h, 0, sizeof(h));
	xr_rlp_iter_init(&it, &top, 1);
	while ((rc = xr_rlp_next(&it, &item, err)) > 0) {
		if (count == N_FIELDS)
			return xr_err_set(err, XR_EINVAL, "header has more than %zu fields",
					  N_FIELDS);
		const struct field *f = &fields[count++];
		void *v = at(&h, f);
		switch (f->type) {
		case F_FIXED:
			rc = xr_rlp_fixed(&item, v, f->size, f->name, err);
			break;
		case F_U64:
			rc = xr_rlp_uint64(&item, v, f->name, err);
			break;
		case F_U256:
			rc = xr_rlp_uint256(&item, v, f->name, err);
			break;
		case F_EXTRA:
			if (item.kind != XR_RLP_BYTES || item.len > XR_EVM_EXTRA_MAX)
				rc = xr_err_set(err, XR_EINVAL,
						"header extraData is not a byte string of at most "
						"%d bytes",
						XR_EVM_EXTRA_MAX);
			else if ((h.extra_len = item.len) > 0)
				memcpy(h.extra, item.p, item.len);
			break;
		}
		if (rc < 0)
			return rc;
	}
	if (rc < 0)
		return rc;
	if (count < N_REQUIRED)
		return xr_err_set(err, XR_EINVAL, "header has %zu fields, expected %zu to %zu",
				  count, N_REQUIRED, N_FIELDS);
	h.n_tail = (unsigned)(count - N_REQUIRED);
	memcpy(ret, &h, sizeof(h));
	return 0;
}

/* --- JSON-RPC ------------------------------------------------------------ */

/* "0x" + hex; *ret_digits points after the prefix. Names the field and
 * shows (the start of) the value on failure. */
static int hex_body(
    const char *name, const char *s, const char **ret_digits, size_t *ret_n, struct xr_err *err)
{
	if (s[0] != '0' || s[1] != 'x')
		return xr_err_set(err, XR_EINVAL, "block field %s '%.80s' lacks the 0x prefix",
				  name, s);
	size_t n = 0;
	for (const char *q = s + 2; *q; q++, n++)
		if (xr_hex_digit(*q) < 0)
			return xr_err_set(err, XR_EINVAL,
					  "block field %s '%.80s' has a non-hex character", name,
					  s);
	*ret_digits = s + 2;
	*ret_n = n;
	return 0;
}

/* A QUANTITY of at most size bytes into out[size] (big-endian). */
static int quantity(const char *name, const char *s, uint8_t *out, size_t size, struct xr_err *err)
{
	const char *d;
	size_t n;
	int rc = hex_body(name, s, &d, &n, err);
	if (rc < 0)
		return rc;
	if (n == 0)
		return xr_err_set(err, XR_EINVAL, "block field %s '%.80s' has no digits", name, s);
	if (n > 1 && d[0] == '0')
		return xr_err_set(err, XR_EINVAL, "block field %s '%.80s' has a leading zero", name,
				  s);
	if (n > 2 * size)
		return xr_err_set(err, XR_EINVAL,
				  "block field %s '%.80s' does not fit in %zu bytes", name, s,
				  size);
	memset(out, 0, size);
	for (size_t i = 0; i < n; i++) {
		size_t pos = 2 * size - n + i; /* nibble position in out */
		out[pos / 2] |= (uint8_t)(xr_hex_digit(d[i]) << (pos % 2 ? 0 : 4));
	}
	return 0;
}

/* DATA of exactly size bytes, or (max) at most size bytes. */
static int data(const char *name,
		const char *s,
		uint8_t *out,
		size_t size,
		bool max,
		size_t *ret_len,
		struct xr_err *err)
{
	const char *d;
	size_t n;
	int rc = hex_body(name, s, &d, &n, err);
	if (rc < 0)
		return rc;
	if (n % 2)
		return xr_err_set(err, XR_EINVAL,
				  "block field %s '%.80s' has an odd number of digits", name, s);
	if (max ? n / 2 > size : n / 2 != size)
		return xr_err_set(err, XR_EINVAL,
				  "block field %s '%.80s' is %zu bytes, expected %s%zu", name, s,
				  n / 2, max ? "at most " : "", size);
	for (size_t i = 0; i < n / 2; i++)
		out[i] = (uint8_t)(xr_hex_digit(d[2 * i]) << 4 | xr_hex_digit(d[2 * i + 1]));
	*ret_len = n / 2;
	return 0;
}

static int
read_field(const struct field *f, const char *s, struct xr_evm_header *h, struct xr_err *err)
{
	uint8_t be[8];
	size_t len;
	int rc;

	switch (f->type) {
	case F_FIXED:
		return data(f->name, s, at(h, f), f->size, false, &len, err);
	case F_U64:
		if ((rc = quantity(f->name, s, be, 8, err)) == 0)
			*(uint64_t *)at(h, f) = xr_get_be64(be);
		return rc;
	case F_U256:
		return quantity(f->name, s, at(h, f), 32, err);
	case F_EXTRA:
		return data(f->name, s, h->extra, XR_EVM_EXTRA_MAX, true, &h->extra_len, err);
	}
	return xr_err_set(err, XR_EINVAL, "block field %s has an unknown type", f->name);
}

int xr_evm_header_from_json(const json_t *block, struct xr_evm_header *ret, struct xr_err *err)
{
	struct xr_evm_header h;
	size_t i;
	int rc;

	if (!json_is_object(block))
		return xr_err_set(err, XR_EINVAL, "block is not a json object");
	memset(&h, 0, sizeof(h));
	for (i = 0; i < N_FIELDS; i++) {
		const struct field *f = &fields[i];
		json_t *v = json_object_get(block, f->name);
		if (!v) {
			if (i < N_REQUIRED)
				return xr_err_set(err, XR_EINVAL, "block lacks field %s", f->name);
			break;
		}
		if (!json_is_string(v))
			return xr_err_set(err, XR_EINVAL, "block field %s is not a string",
					  f->name);
		if ((rc = read_field(f, json_string_value(v), &h, err)) < 0)
			return rc;
	}
	h.n_tail = (unsigned)(i - N_REQUIRED);
	for (size_t j = i + 1; j < N_FIELDS; j++)
		if (json_object_get(block, fields[j].name))
			return xr_err_set(err, XR_EINVAL, "block has field %s but lacks %s",
					  fields[j].name, fields[i].name);
	memcpy(ret, &h, sizeof(h));
	return 0;
}
