/* test_envelope.c - Envelope v1 codec and JSON view: the shared vectors, then
 * hostile inputs (truncations, byte flips, random bytes, bad JSON). */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "envelope_json.h"
#include "xr_bytes.h"
#include "fixture.h"

static json_t *vectors;
static size_t n_valid, n_invalid;

static const json_t *valid_vec(size_t i)
{
	return json_array_get(json_object_get(vectors, "valid"), i);
}

static const json_t *invalid_vec(size_t i)
{
	return json_array_get(json_object_get(vectors, "invalid"), i);
}

static const char *vstr(const json_t *v, const char *key)
{
	const char *s = json_string_value(json_object_get(v, key));
	ck_assert_msg(s, "vector has no string \"%s\"", key);
	return s;
}

static uint8_t *unhex(const char *s, size_t *ret_len)
{
	struct xr_err err = {0};
	uint8_t *p = NULL;
	ck_assert_msg(xr_hex_decode_new(s, SIZE_MAX / 2, &p, ret_len, &err) == 0, "%s", err.msg);
	return p;
}

/* A copy in an allocation of exactly n bytes, so ASan sees any over-read. */
static uint8_t *exact_copy(const uint8_t *p, size_t n)
{
	uint8_t *q = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(q);
	if (n)
		memcpy(q, p, n);
	return q;
}

static uint64_t rng_state = 0x243f6a8885a308d3ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Decodes; on success the envelope must re-encode to exactly the input. */
static int decode_roundtrip(const uint8_t *p, size_t n, struct xr_err *err)
{
	struct xr_envelope e;
	int rc = xr_envelope_decode(p, n, &e, err);
	if (rc < 0) {
		ck_assert_int_eq(rc, XR_EINVAL);
		ck_assert_msg(err->msg[0] != '\0', "rejection without a message");
		return rc;
	}
	static uint8_t out[XR_ENV_MAX_LEN];
	size_t len = 0;
	struct xr_err e2 = {0};
	ck_assert_msg(xr_envelope_encode(&e, out, sizeof(out), &len, &e2) == 0, "%s", e2.msg);
	ck_assert_uint_eq(len, n);
	ck_assert_msg(memcmp(out, p, n) == 0, "decoded envelope re-encodes differently");
	return 0;
}

/* ------------------------------------------------------------------ vectors */

START_TEST(test_vector_valid)
{
	const json_t *v = valid_vec((size_t)_i);
	const char *name = vstr(v, "name");
	const json_t *vj = json_object_get(v, "json");
	struct xr_err err = {0};
	struct xr_envelope e;
	size_t n, len = 0;
	uint8_t *bin = unhex(vstr(v, "hex"), &n);
	uint8_t *in = exact_copy(bin, n);
	uint8_t *out = malloc(XR_ENV_MAX_LEN);
	uint8_t id[32], want_id[32];

	ck_assert_ptr_nonnull(out);
	ck_assert_msg(xr_envelope_decode(in, n, &e, &err) == 0, "%s: %s", name, err.msg);
	ck_assert_msg(xr_envelope_check(&e, &err) == 0, "%s: %s", name, err.msg);

	/* Re-encode: identical bytes; one byte less room fails and writes nothing. */
	ck_assert_msg(xr_envelope_encode(&e, out, XR_ENV_MAX_LEN, &len, &err) == 0, "%s: %s", name,
		      err.msg);
	ck_assert_uint_eq(len, n);
	ck_assert_msg(memcmp(out, bin, n) == 0, "%s: re-encoding differs", name);
	memset(out, 0xa5, XR_ENV_MAX_LEN);
	len = 12345;
	ck_assert_int_eq(xr_envelope_encode(&e, out, n - 1, &len, &err), XR_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "too small"));
	ck_assert_uint_eq(len, 12345);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(out[i], 0xa5);
	xr_err_clear(&err);

	/* id */
	xr_envelope_id(bin, n, id);
	ck_assert_int_eq(xr_hex_decode_exact(vstr(v, "id"), want_id, 32, &err), 0);
	ck_assert_msg(memcmp(id, want_id, 32) == 0, "%s: id differs", name);

	/* to_json: same value, same key order, same text. */
	json_t *j = xr_envelope_to_json(&e, &err);
	ck_assert_msg(j, "%s: %s", name, err.msg);
	ck_assert_msg(json_equal(j, vj), "%s: json view differs", name);
	char *t1 = json_dumps(j, JSON_COMPACT);
	char *t2 = json_dumps(vj, JSON_COMPACT);
	ck_assert_str_eq(t1, t2);
	free(t1);
	free(t2);

	/* from_json: the vector's JSON, our JSON and the JSON without id. */
	const json_t *inputs[3];
	json_t *noid = json_deep_copy(vj);
	json_object_del(noid, "id");
	inputs[0] = vj;
	inputs[1] = j;
	inputs[2] = noid;
	for (int k = 0; k < 3; k++) {
		memset(out, 0, XR_ENV_MAX_LEN);
		ck_assert_msg(xr_envelope_from_json(inputs[k], out, XR_ENV_MAX_LEN, &len, &err) ==
				  0,
			      "%s: %s", name, err.msg);
		ck_assert_uint_eq(len, n);
		ck_assert_msg(memcmp(out, bin, n) == 0, "%s: from_json bytes differ", name);
	}
	/* Exactly enough room works, one byte less does not. */
	ck_assert_int_eq(xr_envelope_from_json(vj, out, n, &len, &err), 0);
	ck_assert_int_eq(xr_envelope_from_json(vj, out, n - 1, &len, &err), XR_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "too small"));

	json_decref(noid);
	json_decref(j);
	free(out);
	free(in);
	free(bin);
}
END_TEST

START_TEST(test_vector_invalid)
{
	const json_t *v = invalid_vec((size_t)_i);
	const char *name = vstr(v, "name"), *want = vstr(v, "error");
	struct xr_err err = {0};
	struct xr_envelope e, before;
	size_t n;
	uint8_t *bin = unhex(vstr(v, "hex"), &n);
	uint8_t *in = exact_copy(bin, n);

	memset(&e, 0x5a, sizeof(e));
	memcpy(&before, &e, sizeof(e));
	ck_assert_int_eq(xr_envelope_decode(in, n, &e, &err), XR_EINVAL);
	ck_assert_msg(strstr(err.msg, want), "%s: error \"%s\" does not contain \"%s\"", name,
		      err.msg, want);
	ck_assert_msg(memcmp(&e, &before, sizeof(e)) == 0, "%s: output written on failure", name);
	ck_assert_msg(!strchr(err.msg, '\n'), "%s: message spans lines", name);
	free(in);
	free(bin);
}
END_TEST

START_TEST(test_vector_counts)
{
	ck_assert_uint_ge(n_valid, 20);
	ck_assert_uint_ge(n_invalid, 20);
}
END_TEST

/* Every strict prefix of a valid envelope is a truncation, at every length. */
START_TEST(test_truncation_every_prefix)
{
	const json_t *v = valid_vec((size_t)_i);
	size_t n;
	uint8_t *bin = unhex(vstr(v, "hex"), &n);

	for (size_t k = 0; k < n; k++) {
		struct xr_err err = {0};
		struct xr_envelope e;
		/* Exact copies for the small vectors; the 64 KiB one in place. */
		uint8_t *in = n < 4096 ? exact_copy(bin, k) : bin;
		ck_assert_int_eq(xr_envelope_decode(in, k, &e, &err), XR_EINVAL);
		ck_assert_msg(strstr(err.msg, "truncated at "), "%s prefix %zu: %s",
			      vstr(v, "name"), k, err.msg);
		if (in != bin)
			free(in);
	}
	free(bin);
}
END_TEST

/* Every single-byte change either is rejected or decodes to an envelope
 * that re-encodes to exactly the changed bytes. */
START_TEST(test_byte_flips)
{
	static const uint8_t masks[] = {0x01, 0x02, 0x10, 0x80, 0xff};
	const json_t *v = valid_vec((size_t)_i);
	size_t n, accepted = 0;
	uint8_t *bin = unhex(vstr(v, "hex"), &n);

	if (n > 4096) {
		free(bin);
		return;
	}
	uint8_t *in = exact_copy(bin, n);
	for (size_t k = 0; k < n; k++) {
		for (size_t m = 0; m < sizeof(masks); m++) {
			struct xr_err err = {0};
			in[k] = bin[k] ^ masks[m];
			if (decode_roundtrip(in, n, &err) == 0)
				accepted++;
		}
		in[k] = bin[k];
	}
	/* Flips inside hashes, heights and payloads stay valid. */
	ck_assert_uint_gt(accepted, 0);
	free(in);
	free(bin);
}
END_TEST

/* -------------------------------------------------------------- hostile bytes */

START_TEST(test_random_bytes)
{
	uint8_t buf[1024];
	for (int i = 0; i < 50000; i++) {
		size_t n = (size_t)(rnd() % sizeof(buf));
		for (size_t k = 0; k < n; k++)
			buf[k] = (uint8_t)rnd();
		/* Half of them with a valid magic and kind, to get past the door. */
		if (i % 2 && n >= 5) {
			memcpy(buf, XR_ENV_MAGIC, 4);
			buf[4] = (uint8_t)(1 + i % 4 / 2);
		}
		uint8_t *in = exact_copy(buf, n);
		struct xr_err err = {0};
		decode_roundtrip(in, n, &err);
		free(in);
	}
}
END_TEST

/* Builds an envelope with every variable field at its maximum. */
static void max_envelope(struct xr_envelope *e, uint8_t *payload)
{
	memset(e, 0, sizeof(*e));
	e->kind = XR_ENV_TRANSFER;
	/* No CAIP-2 id reaches 64 characters (8 + 1 + 32 at most), so the chain
	 * fields cannot reach XR_ENV_CHAIN_MAX; the rest can. */
	memcpy(e->src_chain, "abcdefgh:abcdefghijklmnopqrstuvwxyz012345", 42);
	memcpy(e->dst_chain, "zzzzzzzz:ABCDEFGHIJKLMNOPQRSTUVWXYZ-_0123", 42);
	e->src_height = UINT64_MAX;
	memset(e->src_block, 0xff, 32);
	memset(e->src_tx, 0xee, 32);
	e->log_index = UINT32_MAX;
	memset(e->emitter, 0x11, XR_ENV_EMITTER_MAX);
	e->emitter_len = XR_ENV_EMITTER_MAX;
	e->sequence = UINT64_MAX;
	memset(e->recipient, 0x22, XR_ENV_RECIPIENT_MAX);
	e->recipient_len = XR_ENV_RECIPIENT_MAX;
	memset(e->asset, '~', XR_ENV_ASSET_MAX);
	e->asset[XR_ENV_ASSET_MAX] = '\0';
	memset(e->amount, 0xff, 32);
	e->src_time = UINT64_MAX;
	for (size_t i = 0; i < XR_ENV_PAYLOAD_MAX; i++)
		payload[i] = (uint8_t)(i * 7);
	e->payload = payload;
	e->payload_len = XR_ENV_PAYLOAD_MAX;
}

START_TEST(test_oversized)
{
	struct xr_err err = {0};
	struct xr_envelope e, d;
	uint8_t *payload = malloc(XR_ENV_PAYLOAD_MAX);
	uint8_t *out = malloc(XR_ENV_MAX_LEN + 4096);
	size_t len = 0;

	ck_assert_ptr_nonnull(payload);
	ck_assert_ptr_nonnull(out);
	max_envelope(&e, payload);
	ck_assert_msg(xr_envelope_encode(&e, out, XR_ENV_MAX_LEN, &len, &err) == 0, "%s", err.msg);
	/* Only the two chain fields fall short of their maximum: 2 * (64 - 41). */
	ck_assert_uint_eq(len, XR_ENV_MAX_LEN - 2 * (XR_ENV_CHAIN_MAX - 41));
	ck_assert_int_eq(xr_envelope_decode(out, len, &d, &err), 0);
	ck_assert_uint_eq(d.src_height, UINT64_MAX);
	ck_assert_uint_eq(d.payload_len, XR_ENV_PAYLOAD_MAX);
	ck_assert_ptr_eq(d.payload, out + len - XR_ENV_PAYLOAD_MAX);

	/* Past the maximum: trailing bytes, never a read past the input. */
	for (size_t extra = 1; extra < 4096; extra *= 3) {
		memset(out + len, 0, extra);
		xr_err_clear(&err);
		ck_assert_int_eq(xr_envelope_decode(out, len + extra, &d, &err), XR_EINVAL);
		ck_assert_ptr_nonnull(strstr(err.msg, "trailing bytes"));
	}

	/* The u64 fields above 2^63-1 are valid bytes but outside the JSON view. */
	xr_err_clear(&err);
	ck_assert_ptr_null(xr_envelope_to_json(&e, &err));
	ck_assert_str_eq(err.msg, "source height 18446744073709551615 does not fit the json "
				  "view, expected 0..2^63-1");
	e.src_height = INT64_MAX;
	e.sequence = (uint64_t)INT64_MAX + 1;
	xr_err_clear(&err);
	ck_assert_ptr_null(xr_envelope_to_json(&e, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "sequence 9223372036854775808"));
	e.sequence = 0;
	xr_err_clear(&err);
	ck_assert_ptr_null(xr_envelope_to_json(&e, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "source time"));
	e.src_time = INT64_MAX;
	json_t *j = xr_envelope_to_json(&e, &err);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(xr_envelope_from_json(j, out, XR_ENV_MAX_LEN, &len, &err), 0);
	ck_assert_int_eq(xr_envelope_decode(out, len, &d, &err), 0);
	ck_assert_uint_eq(d.src_time, INT64_MAX);
	json_decref(j);

	/* A megabyte of garbage behind a valid magic. */
	uint8_t *big = malloc(1 << 20);
	ck_assert_ptr_nonnull(big);
	memset(big, 0x41, 1 << 20);
	memcpy(big, XR_ENV_MAGIC "\x01", 5);
	xr_err_clear(&err);
	ck_assert_int_eq(xr_envelope_decode(big, 1 << 20, &d, &err), XR_EINVAL);
	free(big);
	free(out);
	free(payload);
}
END_TEST

/* Random valid envelopes: encode, decode, encode, JSON and back. */
START_TEST(test_roundtrip_random)
{
	static const char *const chains[] = {
	    "eip155:1",
	    "eip155:31337",
	    "cosmos:cosmoshub-4",
	    "bip122:000000000019d6689c085ae165831e93",
	    "abc:d",
	    "polkadot:b0a8d493285c2df73290dfb7e61f870f",
	};
	uint8_t payload[700], *out = malloc(XR_ENV_MAX_LEN), *out2 = malloc(XR_ENV_MAX_LEN);
	ck_assert_ptr_nonnull(out);
	ck_assert_ptr_nonnull(out2);

	for (int it = 0; it < 3000; it++) {
		struct xr_envelope e, d;
		struct xr_err err = {0};
		size_t len = 0, len2 = 0;

		memset(&e, 0, sizeof(e));
		e.kind = it % 2 ? XR_ENV_TRANSFER : XR_ENV_MESSAGE;
		snprintf(e.src_chain, sizeof(e.src_chain), "%s", chains[rnd() % 6]);
		snprintf(e.dst_chain, sizeof(e.dst_chain), "%s", chains[rnd() % 6]);
		e.src_height = rnd() >> 1;
		for (int k = 0; k < 32; k++) {
			e.src_block[k] = (uint8_t)rnd();
			e.src_tx[k] = (uint8_t)rnd();
		}
		e.log_index = (uint32_t)rnd();
		e.emitter_len = (uint8_t)(1 + rnd() % XR_ENV_EMITTER_MAX);
		e.recipient_len = (uint8_t)(1 + rnd() % XR_ENV_RECIPIENT_MAX);
		for (int k = 0; k < XR_ENV_EMITTER_MAX; k++) {
			e.emitter[k] = (uint8_t)rnd();
			e.recipient[k] = (uint8_t)rnd();
		}
		e.sequence = rnd() >> 1;
		e.src_time = rnd() >> 1;
		if (e.kind == XR_ENV_TRANSFER) {
			size_t al = 1 + rnd() % XR_ENV_ASSET_MAX;
			for (size_t k = 0; k < al; k++)
				e.asset[k] = (char)(0x21 + rnd() % 94);
			for (size_t k = rnd() % 32; k < 32; k++)
				e.amount[k] = (uint8_t)rnd();
			e.amount[31] |= 1;
		}
		e.payload_len = (uint32_t)(rnd() % sizeof(payload));
		for (size_t k = 0; k < e.payload_len; k++)
			payload[k] = (uint8_t)rnd();
		e.payload = payload;

		ck_assert_msg(xr_envelope_encode(&e, out, XR_ENV_MAX_LEN, &len, &err) == 0, "%s",
			      err.msg);
		ck_assert_msg(xr_envelope_decode(out, len, &d, &err) == 0, "%s", err.msg);
		ck_assert_str_eq(d.src_chain, e.src_chain);
		ck_assert_str_eq(d.asset, e.asset);
		ck_assert_uint_eq(d.sequence, e.sequence);
		ck_assert_mem_eq(d.amount, e.amount, 32);
		ck_assert_mem_eq(d.emitter, e.emitter, e.emitter_len);
		ck_assert_mem_eq(d.payload, payload, e.payload_len);
		json_t *j = xr_envelope_to_json(&d, &err);
		ck_assert_msg(j, "%s", err.msg);
		/* Through text too, as the API sees it. */
		char *text = json_dumps(j, JSON_COMPACT);
		json_t *j2 = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
		ck_assert_ptr_nonnull(j2);
		ck_assert_msg(xr_envelope_from_json(j2, out2, XR_ENV_MAX_LEN, &len2, &err) == 0,
			      "%s", err.msg);
		ck_assert_uint_eq(len2, len);
		ck_assert_mem_eq(out2, out, len);
		free(text);
		json_decref(j2);
		json_decref(j);
	}
	free(out2);
	free(out);
}
END_TEST

/* ----------------------------------------------------------- struct checks */

enum mut {
	M_KIND0,
	M_KIND3,
	M_SRC_UNTERMINATED,
	M_SRC_EMPTY,
	M_DST_BAD,
	M_EMITTER0,
	M_EMITTER65,
	M_RECIPIENT0,
	M_RECIPIENT255,
	M_ASSET_UNTERMINATED,
	M_ASSET_SPACE,
	M_ZERO_AMOUNT,
	M_EMPTY_ASSET,
	M_MESSAGE_AMOUNT,
	M_MESSAGE_ASSET,
	M_PAYLOAD_LONG,
	M_PAYLOAD_NULL,
};

static const struct {
	enum mut m;
	const char *want;
} check_cases[] = {
    {M_KIND0, "kind 0, expected 1 (transfer) or 2 (message)"},
    {M_KIND3, "kind 3"},
    {M_SRC_UNTERMINATED, "source chain is not nul-terminated within 65 bytes"},
    {M_SRC_EMPTY, "source chain length 0, expected 1..64"},
    {M_DST_BAD, "destination chain 'eip155_1' is not a caip-2 chain id: no ':'"},
    {M_EMITTER0, "emitter length 0, expected 1..64"},
    {M_EMITTER65, "emitter length 65, expected 1..64"},
    {M_RECIPIENT0, "recipient length 0, expected 1..64"},
    {M_RECIPIENT255, "recipient length 255, expected 1..64"},
    {M_ASSET_UNTERMINATED, "asset is not nul-terminated within 129 bytes"},
    {M_ASSET_SPACE, "has byte 0x20 at offset 1"},
    {M_ZERO_AMOUNT, "transfer with zero amount"},
    {M_EMPTY_ASSET, "transfer with empty asset"},
    {M_MESSAGE_AMOUNT, "message with non-zero amount 115792089237316195423570985008687907853269"},
    {M_MESSAGE_ASSET, "message with asset 'x', expected empty"},
    {M_PAYLOAD_LONG, "payload length 65537, expected 0..65536"},
    {M_PAYLOAD_NULL, "payload length 3 with no payload bytes"},
};

static void mutate(struct xr_envelope *e, enum mut m)
{
	switch (m) {
	case M_KIND0:
		e->kind = 0;
		break;
	case M_KIND3:
		e->kind = 3;
		break;
	case M_SRC_UNTERMINATED:
		memset(e->src_chain, 'a', sizeof(e->src_chain));
		break;
	case M_SRC_EMPTY:
		e->src_chain[0] = '\0';
		break;
	case M_DST_BAD:
		snprintf(e->dst_chain, sizeof(e->dst_chain), "eip155_1");
		break;
	case M_EMITTER0:
		e->emitter_len = 0;
		break;
	case M_EMITTER65:
		e->emitter_len = 65;
		break;
	case M_RECIPIENT0:
		e->recipient_len = 0;
		break;
	case M_RECIPIENT255:
		e->recipient_len = 255;
		break;
	case M_ASSET_UNTERMINATED:
		memset(e->asset, 'a', sizeof(e->asset));
		break;
	case M_ASSET_SPACE:
		snprintf(e->asset, sizeof(e->asset), "a b");
		break;
	case M_ZERO_AMOUNT:
		memset(e->amount, 0, 32);
		break;
	case M_EMPTY_ASSET:
		e->asset[0] = '\0';
		break;
	case M_MESSAGE_AMOUNT:
		e->kind = XR_ENV_MESSAGE;
		e->asset[0] = '\0';
		memset(e->amount, 0xff, 32);
		break;
	case M_MESSAGE_ASSET:
		e->kind = XR_ENV_MESSAGE;
		memset(e->amount, 0, 32);
		snprintf(e->asset, sizeof(e->asset), "x");
		break;
	case M_PAYLOAD_LONG:
		e->payload_len = XR_ENV_PAYLOAD_MAX + 1;
		break;
	case M_PAYLOAD_NULL:
		e->payload = NULL;
		e->payload_len = 3;
		break;
	}
}

START_TEST(test_check_struct)
{
	struct xr_err err = {0};
	struct xr_envelope e;
	size_t n, len = 777;
	uint8_t *bin = unhex(vstr(valid_vec(0), "hex"), &n);
	uint8_t out[512];

	ck_assert_int_eq(xr_envelope_decode(bin, n, &e, &err), 0);
	mutate(&e, check_cases[_i].m);
	ck_assert_int_eq(xr_envelope_check(&e, &err), XR_EINVAL);
	ck_assert_msg(strstr(err.msg, check_cases[_i].want), "case %d: \"%s\" lacks \"%s\"", _i,
		      err.msg, check_cases[_i].want);
	/* encode and to_json refuse it too, and encode writes nothing. */
	memset(out, 0x5a, sizeof(out));
	xr_err_clear(&err);
	ck_assert_int_eq(xr_envelope_encode(&e, out, sizeof(out), &len, &err), XR_EINVAL);
	ck_assert_uint_eq(len, 777);
	for (size_t i = 0; i < sizeof(out); i++)
		ck_assert_uint_eq(out[i], 0x5a);
	xr_err_clear(&err);
	ck_assert_ptr_null(xr_envelope_to_json(&e, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, check_cases[_i].want));
	free(bin);
}
END_TEST

static const struct {
	const char *s;
	const char *want; /* NULL: valid */
} caip2_cases[] = {
    {"eip155:1", NULL},
    {"eip155:31337", NULL},
    {"cosmos:cosmoshub-4", NULL},
    {"bip122:000000000019d6689c085ae165831e93", NULL},
    {"abc:d", NULL},
    {"abcdefgh:ABCDEFGHIJKLMNOPQRSTUVWXYZ-_0123", NULL},
    {"a-9:_", NULL},
    {"", "chain '' is not a caip-2 chain id: no ':'"},
    {"eip155", "no ':'"},
    {":1", "namespace of 0 characters, expected 3..8"},
    {"ab:1", "namespace of 2 characters, expected 3..8"},
    {"abcdefghi:1", "namespace of 9 characters, expected 3..8"},
    {"EIP155:1", "namespace character 'E' at offset 0, expected [-a-z0-9]"},
    {"eip_155:1", "namespace character '_' at offset 3"},
    {"eip155:", "reference of 0 characters, expected 1..32"},
    {"eip155:123456789012345678901234567890123", "reference of 33 characters"},
    {"eip155:1.0", "reference character '.' at offset 8"},
    {"eip155:1:2", "reference character ':' at offset 8"},
    {"eip155:1 ", "reference character ' '"},
    {"eip155:\xc3\xa9", "reference character '\\xc3'"},
    {"eip155:1\n", "reference character '\\x0a'"},
};

START_TEST(test_caip2)
{
	struct xr_err err = {0};
	int rc = xr_caip2_check(caip2_cases[_i].s, &err);
	if (!caip2_cases[_i].want) {
		ck_assert_msg(rc == 0, "'%s': %s", caip2_cases[_i].s, err.msg);
		return;
	}
	ck_assert_int_eq(rc, XR_EINVAL);
	ck_assert_msg(strstr(err.msg, caip2_cases[_i].want), "'%s': \"%s\" lacks \"%s\"",
		      caip2_cases[_i].s, err.msg, caip2_cases[_i].want);
	ck_assert_int_eq(xr_caip2_check(NULL, &err), XR_EINVAL);
}
END_TEST

/* ------------------------------------------------------------------- u256 */

#define U256_MAX_DEC                                                                               \
	"115792089237316195423570985008687907853269984665640564039457584007913129639935"

static const struct {
	const char *s;
	const char *want_hex; /* NULL: rejected */
	const char *want_err;
} u256_cases[] = {
    {"0", "00", NULL},
    {"1", "01", NULL},
    {"255", "ff", NULL},
    {"256", "0100", NULL},
    {"1000000000000000000", "0de0b6b3a7640000", NULL},
    {"18446744073709551615", "ffffffffffffffff", NULL},
    {"18446744073709551616", "010000000000000000", NULL},
    {U256_MAX_DEC, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", NULL},
    {"115792089237316195423570985008687907853269984665640564039457584007913129639936", NULL,
     "exceeds 2^256-1"},
    {"999999999999999999999999999999999999999999999999999999999999999999999999999999", NULL,
     "exceeds 2^256-1"},
    {"1000000000000000000000000000000000000000000000000000000000000000000000000000000", NULL,
     "more than 78 digits"},
    {"", NULL, "decimal is empty"},
    {"00", NULL, "leading zero"},
    {"01", NULL, "decimal '01' has a leading zero"},
    {"-1", NULL, "decimal '-1' has '-' at position 0, expected digits only"},
    {"+1", NULL, "has '+' at position 0"},
    {" 1", NULL, "has ' ' at position 0"},
    {"1 ", NULL, "has ' ' at position 1"},
    {"1e3", NULL, "has 'e' at position 1"},
    {"0x10", NULL, "has 'x' at position 1"},
    {"1.0", NULL, "has '.' at position 1"},
    {"12\xff", NULL, "has '\\xff' at position 2"},
};

START_TEST(test_u256_dec)
{
	struct xr_err err = {0};
	uint8_t v[32], want[32] = {0};
	char back[80];

	memset(v, 0x77, 32);
	int rc = xr_u256_from_dec(u256_cases[_i].s, v, &err);
	if (!u256_cases[_i].want_hex) {
		ck_assert_int_eq(rc, XR_EINVAL);
		ck_assert_msg(strstr(err.msg, u256_cases[_i].want_err), "'%s': \"%s\" lacks \"%s\"",
			      u256_cases[_i].s, err.msg, u256_cases[_i].want_err);
		for (int k = 0; k < 32; k++)
			ck_assert_uint_eq(v[k], 0x77);
		return;
	}
	ck_assert_msg(rc == 0, "'%s': %s", u256_cases[_i].s, err.msg);
	size_t hl = strlen(u256_cases[_i].want_hex) / 2;
	ck_assert_int_eq(xr_hex_decode_exact(u256_cases[_i].want_hex, want + 32 - hl, hl, &err), 0);
	ck_assert_mem_eq(v, want, 32);
	xr_u256_to_dec(v, back);
	ck_assert_str_eq(back, u256_cases[_i].s);
}
END_TEST

START_TEST(test_u256_powers)
{
	struct xr_err err = {0};
	uint8_t v[32], w[32];
	char dec[80];

	/* 2^k for every k, and 2^k - 1: through decimal and back. */
	for (int k = 0; k < 256; k++) {
		memset(v, 0, 32);
		v[31 - k / 8] = (uint8_t)(1u << (k % 8));
		xr_u256_to_dec(v, dec);
		ck_assert_int_eq(xr_u256_from_dec(dec, w, &err), 0);
		ck_assert_mem_eq(v, w, 32);
		for (int b = 0; b < 32; b++)
			v[b] = 31 - b < k / 8 ? 0xff : 0;
		v[31 - k / 8] = (uint8_t)((1u << (k % 8)) - 1);
		xr_u256_to_dec(v, dec);
		ck_assert_int_eq(xr_u256_from_dec(dec, w, &err), 0);
		ck_assert_mem_eq(v, w, 32);
	}
	/* 10^k is "1" and k zeros. */
	char s[80] = "1";
	for (int k = 0; k <= 77; k++) {
		ck_assert_int_eq(xr_u256_from_dec(s, w, &err), 0);
		xr_u256_to_dec(w, dec);
		ck_assert_str_eq(dec, s);
		s[k + 1] = '0';
		s[k + 2] = '\0';
	}
	ck_assert_int_eq(xr_u256_from_dec(NULL, w, &err), XR_EINVAL);
	memset(v, 0xff, 32);
	xr_u256_to_dec(v, dec);
	ck_assert_str_eq(dec, U256_MAX_DEC);
}
END_TEST

/* ------------------------------------------------------------------- JSON */

/* Sets (value text) or deletes (NULL) the key at path "a" or "a.b". */
static void json_edit(json_t *root, const char *path, const char *value)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", path);
	char *dot = strchr(buf, '.');
	json_t *o = root;
	const char *key = buf;
	if (dot) {
		*dot = '\0';
		o = json_object_get(root, buf);
		ck_assert_ptr_nonnull(o);
		key = dot + 1;
	}
	if (!value) {
		ck_assert_int_eq(json_object_del(o, key), 0);
		return;
	}
	json_error_t jerr;
	json_t *v = json_loads(value, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	ck_assert_msg(v, "bad test value %s: %s", value, jerr.text);
	ck_assert_int_eq(json_object_set_new(o, key, v), 0);
}

#define HEX32_Z "\"0xzz00000000000000000000000000000000000000000000000000000000000000\""
#define HEX65                                                                                      \
	"\"0x0101010101010101010101010101010101010101010101010101010101010101010101010101010101"   \
	"010101010101010101010101010101010101010101010101\""
#define STR65 "\"eip155:1234567890123456789012345678901234567890123456789012345678\""
#define STR129                                                                                     \
	"\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" \
	"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""

static const struct {
	int base; /* 0: the transfer vector, 1: the message vector */
	const char *path;
	const char *value; /* JSON text, or NULL to delete the key */
	const char *want;
} json_bad[] = {
    {0, "kind", "\"swap\"", "kind 'swap', expected \"transfer\" or \"message\""},
    {0, "kind", "\"Transfer\"", "kind 'Transfer'"},
    {0, "kind", "1", "kind is an integer, expected a string"},
    {0, "kind", "null", "kind is null, expected a string"},
    {0, "source", "[]", "source is an array, expected an object"},
    {0, "source", "\"x\"", "source is a string, expected an object"},
    {0, "source", "{\"a\":{\"b\":[1,2,{\"c\":[[[]]]}]}}", "unknown key \"source.a\""},
    {0, "destination", "null", "destination is null, expected an object"},
    {0, "destination", "{}", "missing key \"destination.chain\""},
    {0, "source.height", "-1", "source.height -1 is out of range, expected 0..9223372036854775807"},
    {0, "source.height", "-9223372036854775808", "source.height -9223372036854775808 is out"},
    {0, "source.height", "1.5", "source.height is a real number, expected an integer"},
    {0, "source.height", "12.0", "source.height is a real number"},
    {0, "source.height", "1e3", "source.height is a real number"},
    {0, "source.height", "\"12\"", "source.height is a string"},
    {0, "source.height", "true", "source.height is true"},
    {0, "source.height", "[12]", "source.height is an array"},
    {0, "source.log_index", "4294967296",
     "source.log_index 4294967296 is out of range, expected "
     "0..4294967295"},
    {0, "source.log_index", "-1", "source.log_index -1 is out of range"},
    {0, "source.sequence", "-5", "source.sequence -5 is out of range"},
    {0, "source.time", "false", "source.time is false"},
    {0, "source.block", "\"0x12\"", "source.block: expected 32 hex bytes, got 1"},
    {0, "source.block", HEX32_Z, "source.block '0xzz000000"},
    {0, "source.block", "\"\"", "source.block '' has no 0x prefix"},
    {0, "source.tx", "\"1234\"", "source.tx '1234' has no 0x prefix"},
    {0, "source.tx", "\"0X00\"", "source.tx '0X00' has no 0x prefix"},
    {0, "source.tx", "\"0x0x00\"", "source.tx '0x0x00' has a bad hex digit at position 3"},
    {0, "source.tx", "\"0x123\"", "source.tx: hex string has odd length 3"},
    {0, "source.tx", "\" 0x00\"", "has no 0x prefix"},
    {0, "source.emitter", "\"0x\"", "emitter length 0, expected 1..64"},
    {0, "source.emitter", HEX65, "source.emitter: hex string of 65 bytes exceeds the maximum 64"},
    {0, "source.emitter", "{}", "source.emitter is an object, expected a string"},
    {0, "source.chain", "\"EIP155:1\"", "namespace character 'E' at offset 0"},
    {0, "source.chain", "\"eip155:1\\u0000x\"", "source.chain has a nul character"},
    {0, "source.chain", STR65, "source.chain of 65 characters, expected at most 64"},
    {0, "source.chain", "\"\"", "source chain length 0, expected 1..64"},
    {0, "destination.chain", "1", "destination.chain is an integer, expected a string"},
    {0, "destination.chain", "\"eip155:\"", "reference of 0 characters"},
    {0, "destination.recipient", "\"0x\"", "recipient length 0, expected 1..64"},
    {0, "destination.extra", "1", "unknown key \"destination.extra\""},
    {0, "source.Chain", "\"eip155:1\"", "unknown key \"source.Chain\""},
    {0, "asset", "\"\"", "transfer with empty asset"},
    {0, "asset", "\"a b\"", "asset 'a b' has byte 0x20 at offset 1"},
    {0, "asset", "\"caf\\u00e9\"", "has byte 0xc3 at offset 3"},
    {0, "asset", STR129, "asset of 129 characters, expected at most 128"},
    {0, "asset", "null", "asset is null"},
    {0, "amount", "1", "amount is an integer, expected a string"},
    {0, "amount", "1.0", "amount is a real number"},
    {0, "amount", "\"0\"", "transfer with zero amount"},
    {0, "amount", "\"01\"", "amount: decimal '01' has a leading zero"},
    {0, "amount", "\"-1\"", "amount: decimal '-1' has '-'"},
    {0, "amount", "\"1e18\"", "amount: decimal '1e18' has 'e'"},
    {0, "amount", "\"\"", "amount: decimal is empty"},
    {0, "amount",
     "\"115792089237316195423570985008687907853269984665640564039457584007913129639936\"",
     "amount: decimal '1157920892373161954235"},
    {0, "payload", "null", "payload is null, expected a string"},
    {0, "payload", "\"0x1\"", "payload: hex string has odd length 1"},
    {0, "payload", "\"0xg0\"", "payload '0xg0' has a bad hex digit at position 2"},
    {0, "id", "\"0x0000000000000000000000000000000000000000000000000000000000000000\"",
     "id 0x0000000000000000000000000000000000000000000000000000000000000000 does not match "
     "the computed id 0x"},
    {0, "id", "\"0x12\"", "id: expected 32 hex bytes, got 1"},
    {0, "id", "5", "id is an integer, expected a string"},
    {0, "id", "null", "id is null"},
    {0, "extra", "1", "unknown key \"extra\" in the envelope json"},
    {0, "ID", "\"x\"", "unknown key \"ID\""},
    {0, "\xc3\xa9", "1", "unknown key \"\\xc3\\xa9\""},
    {0, "source.chain", NULL, "missing key \"source.chain\""},
    {0, "source.time", NULL, "missing key \"source.time\""},
    {0, "destination.recipient", NULL, "missing key \"destination.recipient\""},
    {0, "payload", NULL, "missing key \"payload\""},
    {0, "destination", NULL, "missing key \"destination\""},
    {0, "kind", NULL, "missing key \"kind\""},
    {0, "asset", NULL, "missing key \"asset\""},
    {0, "amount", NULL, "missing key \"amount\""},
    {1, "amount", "\"5\"", "message with non-zero amount 5, expected 0"},
    {1, "asset", "\"eip155:1/slip44:60\"", "message with asset 'eip155:1/slip44:60'"},
    {1, "kind", "\"transfer\"", "transfer with empty asset"},
};

START_TEST(test_json_bad)
{
	const json_t *vj = json_object_get(valid_vec((size_t)json_bad[_i].base), "json");
	json_t *j = json_deep_copy(vj);
	struct xr_err err = {0};
	uint8_t out[1024];
	size_t len = 4242;

	json_edit(j, json_bad[_i].path, json_bad[_i].value);
	memset(out, 0x5a, sizeof(out));
	ck_assert_int_eq(xr_envelope_from_json(j, out, sizeof(out), &len, &err), XR_EINVAL);
	ck_assert_msg(strstr(err.msg, json_bad[_i].want), "%s=%s: \"%s\" lacks \"%s\"",
		      json_bad[_i].path, json_bad[_i].value ? json_bad[_i].value : "(deleted)",
		      err.msg, json_bad[_i].want);
	ck_assert_uint_eq(len, 4242);
	for (size_t i = 0; i < sizeof(out); i++)
		ck_assert_uint_eq(out[i], 0x5a);
	json_decref(j);
}
END_TEST

/* Edits the JSON view accepts: they change nothing in the bytes. */
static const struct {
	const char *path;
	int upper; /* 1: upper-case the hex digits of the field */
	int drop;  /* 1: delete the key */
} json_ok[] = {
    {"id", 0, 1},
    {"id", 1, 0},
    {"source.block", 1, 0},
    {"source.tx", 1, 0},
    {"source.emitter", 1, 0},
    {"destination.recipient", 1, 0},
};

START_TEST(test_json_accepts)
{
	const json_t *v = valid_vec(0);
	json_t *j = json_deep_copy(json_object_get(v, "json"));
	struct xr_err err = {0};
	size_t n, len = 0;
	uint8_t *bin = unhex(vstr(v, "hex"), &n);
	uint8_t out[1024];

	if (json_ok[_i].drop) {
		json_edit(j, json_ok[_i].path, NULL);
	} else {
		char buf[200], *dot = strchr(json_ok[_i].path, '.');
		json_t *o = j;
		const char *key = json_ok[_i].path;
		if (dot) {
			char parent[32];
			snprintf(parent, sizeof(parent), "%.*s", (int)(dot - key), key);
			o = json_object_get(j, parent);
			key = dot + 1;
		}
		snprintf(buf, sizeof(buf), "%s", json_string_value(json_object_get(o, key)));
		for (char *c = buf + 2; *c; c++)
			if (*c >= 'a' && *c <= 'f')
				*c = (char)(*c - 'a' + 'A');
		json_object_set_new(o, key, json_string(buf));
	}
	ck_assert_msg(xr_envelope_from_json(j, out, sizeof(out), &len, &err) == 0, "%s: %s",
		      json_ok[_i].path, err.msg);
	ck_assert_uint_eq(len, n);
	ck_assert_mem_eq(out, bin, n);
	json_decref(j);
	free(bin);
}
END_TEST

START_TEST(test_json_not_object)
{
	static const char *const texts[] = {"[]", "\"x\"", "1", "null", "true", "[{}]", "1.5"};
	struct xr_err err = {0};
	uint8_t out[16];
	size_t len;

	ck_assert_int_eq(xr_envelope_from_json(NULL, out, sizeof(out), &len, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "envelope json is missing, expected an object");
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		json_t *j = json_loads(texts[i], JSON_DECODE_ANY, NULL);
		ck_assert_ptr_nonnull(j);
		xr_err_clear(&err);
		ck_assert_int_eq(xr_envelope_from_json(j, out, sizeof(out), &len, &err), XR_EINVAL);
		ck_assert_ptr_nonnull(strstr(err.msg, "envelope json is "));
		json_decref(j);
	}
	json_t *empty = json_object();
	xr_err_clear(&err);
	ck_assert_int_eq(xr_envelope_from_json(empty, out, sizeof(out), &len, &err), XR_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "missing key \"kind\""));
	json_decref(empty);
}
END_TEST

/* Text the parser refuses never reaches the codec: integers beyond
 * json_int_t, deep nesting. Duplicates are refused with the API's flag. */
START_TEST(test_json_text)
{
	static const char *const refused[] = {
	    "{\"source\":{\"height\":9223372036854775808}}",
	    "{\"source\":{\"height\":18446744073709551616}}",
	    "{\"source\":{\"height\":1e400}}",
	    "{\"kind\":\"transfer\",\"kind\":\"message\"}",
	};
	json_error_t jerr;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		ck_assert_ptr_null(json_loads(refused[i], JSON_REJECT_DUPLICATES, &jerr));

	char *deep = malloc(20001);
	ck_assert_ptr_nonnull(deep);
	memset(deep, '[', 10000);
	memset(deep + 10000, ']', 10000);
	deep[20000] = '\0';
	ck_assert_ptr_null(json_loads(deep, JSON_DECODE_ANY, &jerr));
	free(deep);

	/* 9223372036854775807 is the largest height the JSON view carries. */
	const json_t *v = valid_vec(0);
	json_t *j = json_deep_copy(json_object_get(v, "json"));
	struct xr_err err = {0};
	struct xr_envelope e;
	uint8_t out[1024];
	size_t len;
	json_object_del(j, "id");
	json_edit(j, "source.height", "9223372036854775807");
	ck_assert_int_eq(xr_envelope_from_json(j, out, sizeof(out), &len, &err), 0);
	ck_assert_int_eq(xr_envelope_decode(out, len, &e, &err), 0);
	ck_assert_uint_eq(e.src_height, INT64_MAX);
	json_decref(j);
}
END_TEST

static Suite *envelope_suite(void)
{
	Suite *s = suite_create("envelope");
	TCase *tc;

	tc = tcase_create("vectors");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_vector_counts);
	tcase_add_loop_test(tc, test_vector_valid, 0, (int)n_valid);
	tcase_add_loop_test(tc, test_vector_invalid, 0, (int)n_invalid);
	suite_add_tcase(s, tc);

	tc = tcase_create("hostile-bytes");
	tcase_set_timeout(tc, 300);
	tcase_add_loop_test(tc, test_truncation_every_prefix, 0, (int)n_valid);
	tcase_add_loop_test(tc, test_byte_flips, 0, (int)n_valid);
	tcase_add_test(tc, test_random_bytes);
	tcase_add_test(tc, test_oversized);
	tcase_add_test(tc, test_roundtrip_random);
	suite_add_tcase(s, tc);

	tc = tcase_create("fields");
	tcase_add_loop_test(tc, test_check_struct, 0, sizeof(check_cases) / sizeof(check_cases[0]));
	tcase_add_loop_test(tc, test_caip2, 0, sizeof(caip2_cases) / sizeof(caip2_cases[0]));
	tcase_add_loop_test(tc, test_u256_dec, 0, sizeof(u256_cases) / sizeof(u256_cases[0]));
	tcase_add_test(tc, test_u256_powers);
	suite_add_tcase(s, tc);

	tc = tcase_create("json");
	tcase_add_loop_test(tc, test_json_bad, 0, sizeof(json_bad) / sizeof(json_bad[0]));
	tcase_add_loop_test(tc, test_json_accepts, 0, sizeof(json_ok) / sizeof(json_ok[0]));
	tcase_add_test(tc, test_json_not_object);
	tcase_add_test(tc, test_json_text);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (!(vectors = fx_vectors("envelopes.json")))
		return 1;
	n_valid = json_array_size(json_object_get(vectors, "valid"));
	n_invalid = json_array_size(json_object_get(vectors, "invalid"));

	SRunner *sr = srunner_create(envelope_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	json_decref(vectors);
	return failed ? 1 : 0;
}
