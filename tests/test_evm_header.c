/* test_evm_header.c - adapters/evm/header.c on real anvil blocks
 * (tests/vectors/anvil-blocks.json, recorded from anvil 1.7.1, Prague): the
 * RLP of each header hashes to the block's hash, the receipts trie built
 * from eth_getBlockReceipts (adapters/evm/receipt.c) has the header's
 * receiptsRoot and proves every receipt, and malformed JSON and RLP are
 * refused without a crash. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "header.h"
#include "keccak.h"
#include "mpt.h"
#include "receipt.h"
#include "rlp.h"
#include "xr_bytes.h"
#include "fixture.h"

#define EXPECT(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond))                                                                       \
			ck_abort_msg(__VA_ARGS__);                                                 \
	} while (0)

static json_t *vectors;

static json_t *block(size_t i)
{
	return json_array_get(json_object_get(vectors, "blocks"), i);
}

static size_t n_blocks(void)
{
	return json_array_size(json_object_get(vectors, "blocks"));
}

static void parse_ok(const json_t *b, struct xr_evm_header *h)
{
	struct xr_err err = {0};
	ck_assert_msg(xr_evm_header_from_json(b, h, &err) == 0, "%s", err.msg);
}

static void hex_field(const json_t *obj, const char *name, uint8_t *out, size_t n)
{
	const char *s = json_string_value(json_object_get(obj, name));
	ck_assert_msg(s, "vector lacks %s", name);
	ck_assert_int_eq(xr_hex_decode_exact(s, out, n, NULL), 0);
}

/* --- receipts (EIP-2718): type || RLP([status, cumulativeGas, bloom, logs]) */

static uint64_t quantity(const json_t *obj, const char *name)
{
	const char *s = json_string_value(json_object_get(obj, name));
	ck_assert_msg(s && s[0] == '0' && s[1] == 'x', "receipt %s", name);
	return strtoull(s + 2, NULL, 16);
}

/* The library's encoder (adapters/evm/receipt.c). */
static void encode_receipt(const json_t *r, struct xr_buf *b)
{
	struct xr_err err = {0};

	xr_buf_reset(b);
	ck_assert_msg(xr_evm_receipt_from_json(r, b, &err) == 0, "%s", err.msg);
	ck_assert(!b->failed);
}

/* --- real blocks ---------------------------------------------------------- */

START_TEST(test_anvil_hash)
{
	json_t *b = block((size_t)_i);
	struct xr_evm_header h, back;
	uint8_t hash[32], want[32];
	struct xr_buf enc, again;
	struct xr_err err = {0};

	parse_ok(b, &h);
	ck_assert_uint_eq(h.n_tail, XR_EVM_TAIL_MAX); /* Prague: every field */
	ck_assert_uint_eq(h.number, (uint64_t)_i);
	ck_assert_int_eq(xr_evm_header_hash(&h, hash, NULL), 0);
	hex_field(b, "hash", want, 32);
	ck_assert_mem_eq(hash, want, 32);

	xr_buf_init(&enc, 1 << 16);
	ck_assert_int_eq(xr_evm_header_encode(&h, &enc, NULL), 0);
	xr_keccak256(enc.data, enc.len, hash);
	ck_assert_mem_eq(hash, want, 32);
	ck_assert_msg(xr_evm_header_decode(enc.data, enc.len, &back, &err) == 0, "%s", err.msg);
	ck_assert_mem_eq(&back, &h, sizeof(h));
	xr_buf_init(&again, 1 << 16);
	ck_assert_int_eq(xr_evm_header_encode(&back, &again, NULL), 0);
	ck_assert_uint_eq(again.len, enc.len);
	ck_assert_mem_eq(again.data, enc.data, enc.len);

	/* Parent links: each block names the previous block's hash. */
	if (_i > 0) {
		struct xr_evm_header parent;
		parse_ok(block((size_t)_i - 1), &parent);
		ck_assert_int_eq(xr_evm_header_hash(&parent, hash, NULL), 0);
		ck_assert_mem_eq(hash, h.parent_hash, 32);
	}
	xr_buf_fini(&enc);
	xr_buf_fini(&again);
}
END_TEST

START_TEST(test_anvil_receipts)
{
	json_t *b = block((size_t)_i);
	json_t *receipts = json_object_get(json_object_get(vectors, "receipts"),
					   json_string_value(json_object_get(b, "number")));
	struct xr_evm_header h;
	size_t n = json_array_size(receipts), i;
	json_t *r;

	parse_ok(b, &h);
	if (!receipts) {
		/* No receipts recorded: only for empty blocks. */
		ck_assert_uint_eq(json_array_size(json_object_get(b, "transactions")), 0);
		ck_assert_mem_eq(h.receipts_root, xr_mpt_empty_root, 32);
		return;
	}
	ck_assert_uint_eq(n, json_array_size(json_object_get(b, "transactions")));
	ck_assert_uint_gt(n, 0);
	struct xr_buf *enc = calloc(n, sizeof(*enc));
	struct xr_mpt_kv *kv = calloc(n, sizeof(*kv));
	uint8_t(*keys)[9] = calloc(n, sizeof(*keys));
	bool typed = false, legacy = false, with_logs = false;
	json_array_foreach(receipts, i, r)
	{
		ck_assert_uint_eq(quantity(r, "transactionIndex"), i);
		xr_buf_init(&enc[i], 1 << 20);
		encode_receipt(r, &enc[i]);
		typed |= quantity(r, "type") != 0;
		legacy |= quantity(r, "type") == 0;
		with_logs |= json_array_size(json_object_get(r, "logs")) > 0;
		kv[i] = (struct xr_mpt_kv){keys[i], xr_mpt_index_key(i, keys[i]), enc[i].data,
					   enc[i].len};
	}
	/* The recorded blocks of several receipts mix legacy and typed receipts,
	 * with and without logs. */
	if (n > 1)
		ck_assert(typed && legacy && with_logs);
	struct xr_mpt *t;
	uint8_t root[32];
	struct xr_err err = {0};
	ck_assert_msg(xr_mpt_build(kv, n, &t, &err) == 0, "%s", err.msg);
	xr_mpt_root(t, root);
	ck_assert_mem_eq(root, h.receipts_root, 32);
	/* The same through the library's block receipts. */
	struct xr_evm_receipts *br;
	ck_assert_msg(xr_evm_receipts_from_json(receipts, &br, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(xr_evm_receipts_count(br), n);
	xr_evm_receipts_root(br, root);
	ck_assert_mem_eq(root, h.receipts_root, 32);
	xr_evm_receipts_free(br);

	struct xr_buf proof;
	xr_buf_init(&proof, 1 << 20);
	for (i = 0; i < n; i++) {
		const uint8_t *v;
		size_t vl;
		xr_buf_reset(&proof);
		ck_assert_int_eq(xr_mpt_prove(t, kv[i].key, kv[i].key_len, &proof, NULL, NULL), 0);
		ck_assert_msg(xr_mpt_verify(h.receipts_root, kv[i].key, kv[i].key_len, proof.data,
					    proof.len, &v, &vl, &err) == 0,
			      "receipt %zu: %s", i, err.msg);
		ck_assert_uint_eq(vl, enc[i].len);
		ck_assert_mem_eq(v, enc[i].data, vl);
	}
	xr_buf_fini(&proof);
	xr_mpt_free(t);
	for (i = 0; i < n; i++)
		xr_buf_fini(&enc[i]);
	free(enc);
	free(kv);
	free(keys);
}
END_TEST

/* Dropping the optional tail field by field from the end: each prefix is
 * accepted, encodes with that many fields, and decodes back the same. */
START_TEST(test_tail_prefixes)
{
	json_t *b = json_deep_copy(block(2));
	static const char *const tail[] = {"requestsHash",    "parentBeaconBlockRoot",
					   "excessBlobGas",   "blobGasUsed",
					   "withdrawalsRoot", "baseFeePerGas"};
	struct xr_buf enc;
	xr_buf_init(&enc, 1 << 16);
	for (int k = 0; k <= 6; k++) {
		struct xr_evm_header h, back;
		struct xr_rlp_item top;
		size_t count;
		parse_ok(b, &h);
		ck_assert_uint_eq(h.n_tail, (unsigned)(6 - k));
		xr_buf_reset(&enc);
		ck_assert_int_eq(xr_evm_header_encode(&h, &enc, NULL), 0);
		ck_assert_int_eq(xr_rlp_decode(enc.data, enc.len, &top, NULL), 0);
		ck_assert_int_eq(xr_rlp_list_count(&top, &count, NULL), 0);
		ck_assert_uint_eq(count, 15 + 6 - (size_t)k);
		ck_assert_int_eq(xr_evm_header_decode(enc.data, enc.len, &back, NULL), 0);
		ck_assert_mem_eq(&back, &h, sizeof(h));
		if (k < 6)
			json_object_del(b, tail[k]);
	}
	xr_buf_fini(&enc);
	json_decref(b);
}
END_TEST

/* --- JSON refusals -------------------------------------------------------- */

static const struct {
	const char *field;
	const char *json; /* the new value as JSON text; NULL deletes the field */
	const char *why;
} json_bad[] = {
    {"number", "\"0x02\"", "block field number '0x02' has a leading zero"},
    {"number", "\"0x00\"", "has a leading zero"},
    {"number", "\"0x\"", "block field number '0x' has no digits"},
    {"number", "\"2\"", "block field number '2' lacks the 0x prefix"},
    {"number", "\"0X2\"", "lacks the 0x prefix"},
    {"number", "\"\"", "lacks the 0x prefix"},
    {"number", "\"0x2g\"", "block field number '0x2g' has a non-hex character"},
    {"number", "\" 0x2\"", "lacks the 0x prefix"},
    {"number", "2", "block field number is not a string"},
    {"number", "null", "block field number is not a string"},
    {"gasLimit", "\"0x10000000000000000\"", "does not fit in 8 bytes"},
    {"blobGasUsed", "\"0x1ffffffffffffffff\"", "does not fit in 8 bytes"},
    {"difficulty", "\"0x10000000000000000000000000000000000000000000000000000000000000000\"",
     "does not fit in 32 bytes"},
    {"baseFeePerGas", "\"0x0342770c0\"", "leading zero"},
    {"miner", "\"0x00000000000000000000000000000000000000\"", "is 19 bytes, expected 20"},
    {"miner", "\"0x000000000000000000000000000000000000000000\"", "is 21 bytes, expected 20"},
    {"miner", "\"0x00000000000000000000000000000000000000000\"", "odd number of digits"},
    {"parentHash", "\"0x\"", "block field parentHash '0x' is 0 bytes, expected 32"},
    {"logsBloom", "\"0x00\"", "is 1 bytes, expected 256"},
    {"nonce", "\"0x0000000000000000000000000000000000000000\"", "is 20 bytes, expected 8"},
    {"nonce", "\"0x\"", "is 0 bytes, expected 8"},
    {"requestsHash", "\"0x1234\"", "is 2 bytes, expected 32"},
    {"extraData", "\"0x0\"", "odd number of digits"},
    {"extraData", "\"00\"", "lacks the 0x prefix"},
    {"parentHash", NULL, "block lacks field parentHash"},
    {"nonce", NULL, "block lacks field nonce"},
    {"logsBloom", NULL, "block lacks field logsBloom"},
    {"extraData", NULL, "block lacks field extraData"},
    {"baseFeePerGas", NULL, "block has field withdrawalsRoot but lacks baseFeePerGas"},
    {"parentBeaconBlockRoot", NULL, "block has field requestsHash but lacks parentBeaconBlockRoot"},
    {"blobGasUsed", NULL, "block has field excessBlobGas but lacks blobGasUsed"},
};

START_TEST(test_json_refuses)
{
	json_t *b = json_deep_copy(block(2));
	struct xr_evm_header *h = malloc(sizeof(*h)), *before = malloc(sizeof(*before));
	struct xr_err err = {0};
	if (json_bad[_i].json) {
		json_t *v = json_loads(json_bad[_i].json, JSON_DECODE_ANY, NULL);
		ck_assert_ptr_nonnull(v);
		json_object_set_new(b, json_bad[_i].field, v);
	} else {
		json_object_del(b, json_bad[_i].field);
	}
	memset(h, 0x5a, sizeof(*h));
	memcpy(before, h, sizeof(*h));
	ck_assert_int_eq(xr_evm_header_from_json(b, h, &err), XR_EINVAL);
	ck_assert_msg(strstr(err.msg, json_bad[_i].why), "%s=%s: '%s' lacks '%s'",
		      json_bad[_i].field, json_bad[_i].json, err.msg, json_bad[_i].why);
	ck_assert_mem_eq(h, before, sizeof(*h));
	json_decref(b);
	free(h);
	free(before);
}
END_TEST

START_TEST(test_json_edges)
{
	json_t *b = json_deep_copy(block(2));
	struct xr_evm_header *h = malloc(sizeof(*h));
	struct xr_err err = {0};
	size_t max = XR_EVM_EXTRA_MAX;
	char *s = malloc(2 * max + 5);

	/* extraData up to the cap is accepted, one byte more is not. */
	memcpy(s, "0x", 2);
	for (size_t i = 0; i < 2 * max; i++)
		s[2 + i] = "0123456789abcdef"[i % 16];
	s[2 + 2 * max] = '\0';
	json_object_set_new(b, "extraData", json_string(s));
	parse_ok(b, h);
	ck_assert_uint_eq(h->extra_len, max);
	ck_assert_uint_eq(h->extra[0], 0x01);
	memcpy(s + 2 + 2 * max, "ab", 3);
	json_object_set_new(b, "extraData", json_string(s));
	ck_assert_int_eq(xr_evm_header_from_json(b, h, &err), XR_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "is 8193 bytes, expected at most 8192"));

	/* Largest values, and upper-case digits (the same bytes). */
	json_object_set_new(b, "extraData", json_string("0xABcd"));
	json_object_set_new(b, "gasLimit", json_string("0xffffffffffffffff"));
	json_object_set_new(b, "number", json_string("0xA"));
	json_object_set_new(b, "difficulty",
			    json_string("0xffffffffffffffffffffffffffffffffffffffffffffffffffff"
					"ffffffffffff"));
	json_object_set_new(b, "baseFeePerGas", json_string("0x0"));
	parse_ok(b, h);
	ck_assert_uint_eq(h->gas_limit, UINT64_MAX);
	ck_assert_uint_eq(h->number, 10);
	ck_assert_uint_eq(h->extra_len, 2);
	ck_assert_mem_eq(h->extra, "\xab\xcd", 2);
	for (int i = 0; i < 32; i++)
		ck_assert_uint_eq(h->difficulty[i], 0xff);
	for (int i = 0; i < 32; i++)
		ck_assert_uint_eq(h->base_fee[i], 0);
	struct xr_evm_header *back = malloc(sizeof(*back));
	struct xr_buf enc;
	xr_buf_init(&enc, 1 << 16);
	ck_assert_int_eq(xr_evm_header_encode(h, &enc, NULL), 0);
	ck_assert_int_eq(xr_evm_header_decode(enc.data, enc.len, back, NULL), 0);
	ck_assert_mem_eq(back, h, sizeof(*h));

	/* Not an object. */
	json_t *arr = json_array();
	err.code = 0;
	ck_assert_int_eq(xr_evm_header_from_json(arr, h, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "block is not a json object");
	ck_assert_int_eq(xr_evm_header_from_json(NULL, h, NULL), XR_EINVAL);
	json_decref(arr);

	/* Out-of-range structs are refused by the encoder. */
	h->n_tail = XR_EVM_TAIL_MAX + 1;
	uint8_t hash[32];
	ck_assert_int_eq(xr_evm_header_hash(h, hash, NULL), XR_EINVAL);
	h->n_tail = 0;
	h->extra_len = XR_EVM_EXTRA_MAX + 1;
	ck_assert_int_eq(xr_evm_header_hash(h, hash, NULL), XR_EINVAL);
	/* A buffer too small: refused, and the buffer is left as it was. */
	h->extra_len = 0;
	struct xr_buf small;
	xr_buf_init(&small, 300);
	xr_buf_put(&small, "abc", 3);
	ck_assert_int_eq(xr_evm_header_encode(h, &small, NULL), XR_ENOMEM);
	ck_assert_uint_eq(small.len, 3);
	xr_buf_fini(&small);
	xr_buf_fini(&enc);
	free(back);
	free(s);
	free(h);
	json_decref(b);
}
END_TEST

/* --- RLP refusals --------------------------------------------------------- */

/* Re-encodes the header list of enc with field k replaced by raw (NULL
 * drops it), and extra appended when not NULL. */
static void splice(const struct xr_buf *enc,
		   size_t k,
		   const char *raw_hex,
		   const char *extra_hex,
		   struct xr_buf *out)
{
	struct xr_rlp_item top, it;
	struct xr_rlp_iter iter;
	size_t i = 0, n;
	uint8_t *raw;
	ck_assert_int_eq(xr_rlp_decode(enc->data, enc->len, &top, NULL), 0);
	xr_buf_reset(out);
	size_t m = xr_rlp_list_begin(out);
	xr_rlp_iter_init(&iter, &top, 1);
	while (xr_rlp_next(&iter, &it, NULL) > 0) {
		if (i++ != k) {
			xr_rlp_put_raw(out, it.raw, it.raw_len);
		} else if (raw_hex) {
			ck_assert_int_eq(xr_hex_decode_new(raw_hex, 1 << 16, &raw, &n, NULL), 0);
			xr_rlp_put_raw(out, raw, n);
			free(raw);
		}
	}
	if (extra_hex) {
		ck_assert_int_eq(xr_hex_decode_new(extra_hex, 1 << 16, &raw, &n, NULL), 0);
		xr_rlp_put_raw(out, raw, n);
		free(raw);
	}
	xr_rlp_list_end(out, m);
	ck_assert(!out->failed);
}

static const struct {
	size_t field; /* SIZE_MAX: none replaced */
	const char *raw;
	const char *extra;
	const char *why;
} rlp_bad[] = {
    {2,
     "93"
     "00000000000000000000000000000000000000",
     NULL, "miner is 19 bytes long, expected 20"},
    {2, "c0", NULL, "miner is a list, expected 20 bytes"},
    {0, "80", NULL, "parentHash is 0 bytes long, expected 32"},
    {8, "820002", NULL, "number has a leading zero byte"},
    {8, "00", NULL, "number has a leading zero byte"},
    {8, "89010000000000000000", NULL, "number is 9 bytes long, expected at most 8"},
    {7, "a1010000000000000000000000000000000000000000000000000000000000000000", NULL,
     "difficulty is 33 bytes long, expected at most 32"},
    {15, "c0", NULL, "baseFeePerGas is a list, expected an integer"},
    {14, "8700000000000000", NULL, "nonce is 7 bytes long, expected 8"},
    {12, "c0", NULL, "extraData is not a byte string"},
    {SIZE_MAX, NULL, "80", "header has more than 21 fields"},
    {6, "8180", NULL, "logsBloom is 1 bytes long, expected 256"},
    {8, "8102", NULL, "must be encoded as itself"},
};

START_TEST(test_rlp_refuses)
{
	struct xr_evm_header h, *got = malloc(sizeof(*got)), *before = malloc(sizeof(*before));
	struct xr_buf enc, bad;
	struct xr_err err = {0};
	parse_ok(block(2), &h);
	xr_buf_init(&enc, 1 << 16);
	xr_buf_init(&bad, 1 << 16);
	ck_assert_int_eq(xr_evm_header_encode(&h, &enc, NULL), 0);
	splice(&enc, rlp_bad[_i].field, rlp_bad[_i].raw, rlp_bad[_i].extra, &bad);
	memset(got, 0x33, sizeof(*got));
	memcpy(before, got, sizeof(*got));
	ck_assert_int_eq(xr_evm_header_decode(bad.data, bad.len, got, &err), XR_EINVAL);
	ck_assert_msg(strstr(err.msg, rlp_bad[_i].why), "'%s' lacks '%s'", err.msg,
		      rlp_bad[_i].why);
	ck_assert_mem_eq(got, before, sizeof(*got));
	xr_buf_fini(&enc);
	xr_buf_fini(&bad);
	free(got);
	free(before);
}
END_TEST

START_TEST(test_rlp_shapes)
{
	struct xr_evm_header h, *got = malloc(sizeof(*got));
	struct xr_buf enc, bad;
	struct xr_err err = {0};
	parse_ok(block(3), &h);
	xr_buf_init(&enc, 1 << 16);
	xr_buf_init(&bad, 1 << 16);
	ck_assert_int_eq(xr_evm_header_encode(&h, &enc, NULL), 0);

	/* 14 fields: one short of the oldest header. */
	h.n_tail = 0;
	xr_buf_reset(&bad);
	ck_assert_int_eq(xr_evm_header_encode(&h, &bad, NULL), 0);
	ck_assert_int_eq(xr_evm_header_decode(bad.data, bad.len, got, NULL), 0);
	ck_assert_uint_eq(got->n_tail, 0);
	struct xr_buf cut;
	xr_buf_init(&cut, 1 << 16);
	splice(&bad, 14, NULL, NULL, &cut);
	ck_assert_int_eq(xr_evm_header_decode(cut.data, cut.len, got, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "header has 14 fields, expected 15 to 21");
	xr_buf_fini(&cut);

	/* A byte string, trailing bytes. */
	err.code = 0;
	ck_assert_int_eq(xr_evm_header_decode((const uint8_t *)"\x83"
							       "abc",
					      4, got, &err),
			 XR_EINVAL);
	ck_assert_str_eq(err.msg, "header is a byte string, expected a list");
	xr_buf_reset(&bad);
	xr_buf_put(&bad, enc.data, enc.len);
	xr_buf_u8(&bad, 0x80);
	ck_assert_int_eq(xr_evm_header_decode(bad.data, bad.len, got, NULL), XR_EINVAL);

	/* Every truncation of a real header is refused. */
	for (size_t n = 0; n < enc.len; n++) {
		uint8_t *c = malloc(n ? n : 1);
		memcpy(c, enc.data, n);
		EXPECT(xr_evm_header_decode(c, n, got, NULL) == XR_EINVAL, "prefix %zu accepted",
		       n);
		free(c);
	}
	/* Every byte changed: refused, or accepted and re-encoding to the same
	 * bytes (the decoder admits one encoding per header). */
	uint64_t s = 0x2545f4914f6cdd1dull;
	for (size_t at = 0; at < enc.len; at++) {
		for (int round = 0; round < 4; round++) {
			s ^= s << 13;
			s ^= s >> 7;
			s ^= s << 17;
			uint8_t *c = malloc(enc.len);
			memcpy(c, enc.data, enc.len);
			c[at] ^= (uint8_t)(1 + s % 255);
			if (xr_evm_header_decode(c, enc.len, got, NULL) == 0) {
				xr_buf_reset(&bad);
				EXPECT(xr_evm_header_encode(got, &bad, NULL) == 0, "re-encode");
				EXPECT(bad.len == enc.len && !memcmp(bad.data, c, enc.len),
				       "change at %zu accepted but not canonical", at);
			}
			free(c);
		}
	}
	xr_buf_fini(&enc);
	xr_buf_fini(&bad);
	free(got);
}
END_TEST

static Suite *header_suite(void)
{
	Suite *s = suite_create("evm_header");
	TCase *tc = tcase_create("anvil");
	tcase_add_loop_test(tc, test_anvil_hash, 0, (int)n_blocks());
	tcase_add_loop_test(tc, test_anvil_receipts, 0, (int)n_blocks());
	tcase_add_test(tc, test_tail_prefixes);
	suite_add_tcase(s, tc);
	tc = tcase_create("json");
	tcase_add_loop_test(tc, test_json_refuses, 0, sizeof(json_bad) / sizeof(json_bad[0]));
	tcase_add_test(tc, test_json_edges);
	suite_add_tcase(s, tc);
	tc = tcase_create("rlp");
	tcase_set_timeout(tc, 600);
	tcase_add_loop_test(tc, test_rlp_refuses, 0, sizeof(rlp_bad) / sizeof(rlp_bad[0]));
	tcase_add_test(tc, test_rlp_shapes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (!(vectors = fx_vectors("anvil-blocks.json")))
		return 1;
	if (n_blocks() < 4) {
		fprintf(stderr,
			"test_evm_header: anvil-blocks.json holds %zu blocks, expected 4 or more\n",
			n_blocks());
		return 1;
	}
	SRunner *sr = srunner_create(header_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	json_decref(vectors);
	return failed ? 1 : 0;
}
