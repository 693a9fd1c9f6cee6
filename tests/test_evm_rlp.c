/* test_evm_rlp.c - adapters/evm/rlp.c: encodings from the yellow paper and
 * the Ethereum RLP test suite, canonical-form rejections, integers, depth,
 * and hostile input (every truncation, random bytes) against the rule that
 * whatever the decoder accepts re-encodes to exactly the same bytes. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rlp.h"
#include "xr_bytes.h"

#define EXPECT(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond))                                                                       \
			ck_abort_msg(__VA_ARGS__);                                                 \
	} while (0)

static uint8_t *unhex(const char *s, size_t *n)
{
	uint8_t *p;
	struct xr_err err = {0};
	ck_assert_msg(xr_hex_decode_new(s, 1 << 20, &p, n, &err) == 0, "bad test hex: %s", err.msg);
	return p;
}

static char *tohex(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 1);
	ck_assert_ptr_nonnull(s);
	xr_hex_encode(p, n, s);
	return s;
}

static void expect_buf(struct xr_buf *b, const char *hex)
{
	ck_assert(!b->failed);
	char *got = tohex(b->data, b->len);
	ck_assert_str_eq(got, hex);
	free(got);
}

/* Re-encodes a decoded item from its parts, not its raw span. */
static void reencode(const struct xr_rlp_item *it, unsigned depth, struct xr_buf *b)
{
	if (it->kind == XR_RLP_BYTES) {
		xr_rlp_put_bytes(b, it->p, it->len);
		return;
	}
	struct xr_rlp_iter iter;
	struct xr_rlp_item c;
	int rc;
	size_t mark = xr_rlp_list_begin(b);
	xr_rlp_iter_init(&iter, it, depth);
	while ((rc = xr_rlp_next(&iter, &c, NULL)) > 0)
		reencode(&c, depth + 1, b);
	EXPECT(rc == 0, "iterator failed on a decoded item");
	xr_rlp_list_end(b, mark);
}

/* Decodes p; if accepted, the re-encoding must be p itself. */
static int decode_roundtrip(const uint8_t *p, size_t n, struct xr_err *err)
{
	struct xr_rlp_item it;
	int rc = xr_rlp_decode(p, n, &it, err);
	if (rc < 0)
		return rc;
	EXPECT(it.raw == p && it.raw_len == n, "top item does not span the input");
	struct xr_buf b;
	xr_buf_init(&b, 1 << 24);
	reencode(&it, 1, &b);
	EXPECT(!b.failed && b.len == n && memcmp(b.data, p, n) == 0,
	       "accepted input of %zu bytes does not re-encode to itself", n);
	xr_buf_fini(&b);
	return 0;
}

/* --- encoding ------------------------------------------------------------ */

static const char lorem[] = "Lorem ipsum dolor sit amet, consectetur adipisicing elit";

START_TEST(test_encode_strings)
{
	struct xr_buf b;
	xr_buf_init(&b, 1 << 16);
	static const struct {
		const char *in;
		const char *out;
	} cases[] = {
	    {"", "80"},
	    {"dog", "83646f67"},
	    {"\x7f", "7f"},
	    {"\x01", "01"},
	    {"\x80", "8180"},
	    {"\xff", "81ff"},
	    {"Lorem ipsum dolor sit amet, consectetur adipisicing eli",
	     "b74c6f72656d20697073756d20646f6c6f722073697420616d65742c20636f6e7365637465747572"
	     "206164697069736963696e6720656c69"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		xr_buf_reset(&b);
		xr_rlp_put_bytes(&b, cases[i].in, strlen(cases[i].in));
		expect_buf(&b, cases[i].out);
	}
	/* A zero byte is a one-byte string, itself. */
	xr_buf_reset(&b);
	xr_rlp_put_bytes(&b, "", 1);
	expect_buf(&b, "00");
	/* 56 bytes: the first long form. */
	xr_buf_reset(&b);
	xr_rlp_put_bytes(&b, lorem, 56);
	ck_assert_uint_eq(b.len, 58);
	ck_assert_uint_eq(b.data[0], 0xb8);
	ck_assert_uint_eq(b.data[1], 56);
	/* 1024 and 65536 bytes: two- and three-byte lengths. */
	uint8_t *big = calloc(1, 65536);
	xr_buf_reset(&b);
	xr_rlp_put_bytes(&b, big, 1024);
	ck_assert_uint_eq(b.len, 1027);
	ck_assert_mem_eq(b.data, "\xb9\x04\x00", 3);
	xr_buf_fini(&b);
	xr_buf_init(&b, 1 << 20);
	xr_rlp_put_bytes(&b, big, 65536);
	ck_assert_uint_eq(b.len, 65540);
	ck_assert_mem_eq(b.data, "\xba\x01\x00\x00", 4);
	free(big);
	xr_buf_fini(&b);
}
END_TEST

static const struct {
	uint64_t v;
	const char *out;
} uints[] = {
    {0, "80"},
    {1, "01"},
    {15, "0f"},
    {127, "7f"},
    {128, "8180"},
    {255, "81ff"},
    {256, "820100"},
    {1024, "820400"},
    {0xffffff, "83ffffff"},
    {0x100000000ull, "850100000000"},
    {UINT64_MAX, "88ffffffffffffffff"},
};

START_TEST(test_encode_uint)
{
	struct xr_buf b;
	struct xr_rlp_item it;
	uint64_t v;
	xr_buf_init(&b, 64);
	xr_rlp_put_uint(&b, uints[_i].v);
	expect_buf(&b, uints[_i].out);
	ck_assert_int_eq(xr_rlp_decode(b.data, b.len, &it, NULL), 0);
	ck_assert_int_eq(xr_rlp_uint64(&it, &v, "value", NULL), 0);
	ck_assert_uint_eq(v, uints[_i].v);
	xr_buf_fini(&b);
}
END_TEST

START_TEST(test_encode_uint_be)
{
	struct xr_buf b;
	uint8_t be[32] = {0};
	xr_buf_init(&b, 64);
	xr_rlp_put_uint_be(&b, be, 32);
	expect_buf(&b, "80");
	be[31] = 0x7f;
	xr_buf_reset(&b);
	xr_rlp_put_uint_be(&b, be, 32);
	expect_buf(&b, "7f");
	be[0] = 0x01;
	xr_buf_reset(&b);
	xr_rlp_put_uint_be(&b, be, 32);
	expect_buf(&b, "a0010000000000000000000000000000000000000000000000000000000000007f");
	xr_buf_fini(&b);
}
END_TEST

START_TEST(test_encode_lists)
{
	struct xr_buf b;
	size_t m0, m1, m2;
	xr_buf_init(&b, 1 << 16);

	m0 = xr_rlp_list_begin(&b);
	xr_rlp_list_end(&b, m0);
	expect_buf(&b, "c0");

	xr_buf_reset(&b);
	m0 = xr_rlp_list_begin(&b);
	xr_rlp_put_bytes(&b, "cat", 3);
	xr_rlp_put_bytes(&b, "dog", 3);
	xr_rlp_list_end(&b, m0);
	expect_buf(&b, "c88363617483646f67");

	/* The set-theoretic representation of three: [ [], [[]], [ [], [[]] ] ]. */
	xr_buf_reset(&b);
	m0 = xr_rlp_list_begin(&b);
	m1 = xr_rlp_list_begin(&b);
	xr_rlp_list_end(&b, m1);
	m1 = xr_rlp_list_begin(&b);
	m2 = xr_rlp_list_begin(&b);
	xr_rlp_list_end(&b, m2);
	xr_rlp_list_end(&b, m1);
	m1 = xr_rlp_list_begin(&b);
	m2 = xr_rlp_list_begin(&b);
	xr_rlp_list_end(&b, m2);
	m2 = xr_rlp_list_begin(&b);
	size_t m3 = xr_rlp_list_begin(&b);
	xr_rlp_list_end(&b, m3);
	xr_rlp_list_end(&b, m2);
	xr_rlp_list_end(&b, m1);
	xr_rlp_list_end(&b, m0);
	expect_buf(&b, "c7c0c1c0c3c0c1c0");

	/* A list whose payload is 56 bytes takes the long form f8 38. */
	xr_buf_reset(&b);
	m0 = xr_rlp_list_begin(&b);
	xr_rlp_put_bytes(&b, lorem, 55);
	xr_rlp_list_end(&b, m0);
	ck_assert_uint_eq(b.len, 58);
	ck_assert_mem_eq(b.data, "\xf8\x38\xb7", 3);

	/* 55 bytes of payload is still the short form. */
	xr_buf_reset(&b);
	m0 = xr_rlp_list_begin(&b);
	xr_rlp_put_bytes(&b, lorem, 54);
	xr_rlp_list_end(&b, m0);
	ck_assert_uint_eq(b.len, 56);
	ck_assert_uint_eq(b.data[0], 0xf7);

	/* Raw items are copied verbatim. */
	xr_buf_reset(&b);
	m0 = xr_rlp_list_begin(&b);
	xr_rlp_put_raw(&b, "\xc1\x80", 2);
	xr_rlp_put_uint(&b, 1024);
	xr_rlp_list_end(&b, m0);
	expect_buf(&b, "c5c180820400");
	xr_buf_fini(&b);
}
END_TEST

START_TEST(test_encode_overflow)
{
	struct xr_buf b;
	xr_buf_init(&b, 8);
	size_t m = xr_rlp_list_begin(&b);
	xr_rlp_put_bytes(&b, "dog", 3);
	xr_rlp_put_bytes(&b, "cat", 3);
	ck_assert(!b.failed);
	xr_rlp_list_end(&b, m); /* would need 9 bytes */
	ck_assert(b.failed);
	xr_rlp_put_uint(&b, 5);
	xr_rlp_list_end(&b, 0);
	ck_assert(b.failed);
	xr_buf_fini(&b);
}
END_TEST

/* --- decoding ------------------------------------------------------------ */

static const struct {
	const char *hex;
	int kind;
	const char *payload; /* hex */
	size_t items;	     /* lists: number of items */
} accepted[] = {
    {"00", XR_RLP_BYTES, "00", 0},
    {"7f", XR_RLP_BYTES, "7f", 0},
    {"80", XR_RLP_BYTES, "", 0},
    {"8180", XR_RLP_BYTES, "80", 0},
    {"83646f67", XR_RLP_BYTES, "646f67", 0},
    {"c0", XR_RLP_LIST, "", 0},
    {"c88363617483646f67", XR_RLP_LIST, "8363617483646f67", 2},
    {"c7c0c1c0c3c0c1c0", XR_RLP_LIST, "c0c1c0c3c0c1c0", 3},
    {"c3808080", XR_RLP_LIST, "808080", 3},
    {"c50102030405", XR_RLP_LIST, "0102030405", 5},
};

START_TEST(test_decode_accepts)
{
	size_t n, pn, count;
	uint8_t *p = unhex(accepted[_i].hex, &n), *pl = unhex(accepted[_i].payload, &pn);
	struct xr_rlp_item it;
	struct xr_err err = {0};
	ck_assert_msg(xr_rlp_decode(p, n, &it, &err) == 0, "%s: %s", accepted[_i].hex, err.msg);
	ck_assert_int_eq(it.kind, accepted[_i].kind);
	ck_assert_uint_eq(it.len, pn);
	if (pn)
		ck_assert_mem_eq(it.p, pl, pn);
	ck_assert_ptr_eq(it.raw, p);
	ck_assert_uint_eq(it.raw_len, n);
	if (it.kind == XR_RLP_LIST) {
		ck_assert_int_eq(xr_rlp_list_count(&it, &count, NULL), 0);
		ck_assert_uint_eq(count, accepted[_i].items);
	} else {
		ck_assert_int_eq(xr_rlp_list_count(&it, &count, &err), XR_EINVAL);
	}
	ck_assert_int_eq(decode_roundtrip(p, n, NULL), 0);
	free(p);
	free(pl);
}
END_TEST

START_TEST(test_decode_long_forms)
{
	struct xr_buf b;
	struct xr_rlp_item it;
	uint8_t *big = malloc(70000);
	xr_buf_init(&b, 1 << 20);
	for (size_t i = 0; i < 70000; i++)
		big[i] = (uint8_t)(i * 3);
	static const size_t lens[] = {55, 56, 57, 255, 256, 1024, 65535, 65536, 70000};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		xr_buf_reset(&b);
		xr_rlp_put_bytes(&b, big, lens[i]);
		ck_assert_int_eq(xr_rlp_decode(b.data, b.len, &it, NULL), 0);
		ck_assert_uint_eq(it.len, lens[i]);
		ck_assert_mem_eq(it.p, big, lens[i]);
		xr_buf_reset(&b);
		size_t m = xr_rlp_list_begin(&b);
		xr_rlp_put_raw(&b, big, 0);
		for (size_t k = 0; k < lens[i]; k++)
			xr_rlp_put_bytes(&b, big + k, 1); /* some one byte, some two */
		xr_rlp_list_end(&b, m);
		ck_assert_int_eq(decode_roundtrip(b.data, b.len, NULL), 0);
	}
	free(big);
	xr_buf_fini(&b);
}
END_TEST

static const struct {
	const char *hex;
	const char *why; /* a piece of the expected message */
} refused[] = {
    {"", "no item at offset 0"},
    {"8100", "byte 0x00 at offset 0 must be encoded as itself"},
    {"817f", "byte 0x7f at offset 0 must be encoded as itself"},
    {"c28101", "byte 0x01 at offset 1 must be encoded as itself"},
    {"b800", "length at offset 0 has a leading zero byte"},
    {"b837"
     "0000000000000000000000000000000000000000000000000000000000000000000000000000000000"
     "0000000000000000000000000000",
     "long form for length 55"},
    {"f800", "leading zero"},
    {"f83700", "long form for length 55"},
    {"b9003800", "leading zero"},
    {"f90038", "leading zero"},
    {"b8", "length of 1 bytes at offset 0, have 0"},
    {"bf00", "length of 8 bytes"},
    {"bfffffffffffffffff", "runs past the end"},
    {"bf0100000000000000", "runs past the end"},
    {"fbffffffff", "runs past the end"},
    {"83646f", "length 3 at offset 0 runs past the end (2 bytes left)"},
    {"c883636174", "runs past the end"},
    {"c28363", "length 3 at offset 1 runs past the end (1 bytes left)"},
    {"c1b8", "length of 1 bytes at offset 1, have 0"},
    {"8080", "1 trailing bytes"},
    {"c0c0", "1 trailing bytes"},
    {"0000", "1 trailing bytes"},
    {"c2c28080", "length 2 at offset 1 runs past the end"},
};

START_TEST(test_decode_refuses)
{
	size_t n;
	uint8_t *p = unhex(refused[_i].hex, &n);
	struct xr_rlp_item it = {0}, before;
	struct xr_err err = {0};
	memset(&it, 0x5a, sizeof(it));
	before = it;
	ck_assert_int_eq(xr_rlp_decode(p, n, &it, &err), XR_EINVAL);
	ck_assert_msg(strstr(err.msg, refused[_i].why), "%s: message '%s' lacks '%s'",
		      refused[_i].hex, err.msg, refused[_i].why);
	ck_assert_mem_eq(&it, &before, sizeof(it));
	free(p);
}
END_TEST

START_TEST(test_decode_prefix)
{
	static const uint8_t two[] = {0x83, 'd', 'o', 'g', 0xc1, 0x80, 0x05};
	struct xr_rlp_item it;
	size_t used;
	ck_assert_int_eq(xr_rlp_decode_prefix(two, sizeof(two), &it, &used, NULL), 0);
	ck_assert_uint_eq(used, 4);
	ck_assert_int_eq(xr_rlp_decode_prefix(two + 4, sizeof(two) - 4, &it, &used, NULL), 0);
	ck_assert_uint_eq(used, 2);
	ck_assert_int_eq(it.kind, XR_RLP_LIST);
	ck_assert_int_eq(xr_rlp_decode_prefix(two + 6, 1, &it, &used, NULL), 0);
	ck_assert_uint_eq(used, 1);
	ck_assert_int_eq(xr_rlp_decode_prefix(two, 0, &it, &used, NULL), XR_EINVAL);
}
END_TEST

/* Lists nested n deep: [[[...]]]. */
static void nested(struct xr_buf *b, unsigned n)
{
	size_t marks[200];
	xr_buf_reset(b);
	for (unsigned i = 0; i < n; i++)
		marks[i] = xr_rlp_list_begin(b);
	xr_rlp_put_bytes(b, "x", 1);
	for (unsigned i = n; i-- > 0;)
		xr_rlp_list_end(b, marks[i]);
}

START_TEST(test_depth)
{
	struct xr_buf b;
	struct xr_err err = {0};
	struct xr_rlp_item it;
	xr_buf_init(&b, 1 << 16);
	nested(&b, XR_RLP_MAX_DEPTH);
	ck_assert_int_eq(decode_roundtrip(b.data, b.len, NULL), 0);
	nested(&b, XR_RLP_MAX_DEPTH + 1);
	ck_assert_int_eq(xr_rlp_decode(b.data, b.len, &it, &err), XR_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "nested deeper than 64"));
	nested(&b, 150);
	ck_assert_int_eq(xr_rlp_decode(b.data, b.len, &it, NULL), XR_EINVAL);
	/* 100k opening bytes with no payload: refused early, no deep recursion. */
	uint8_t *deep = malloc(100000);
	memset(deep, 0xc1, 100000);
	ck_assert_int_eq(xr_rlp_decode(deep, 100000, &it, NULL), XR_EINVAL);
	free(deep);

	/* The iterator keeps the cap on a list it is handed at depth 64. */
	nested(&b, 2);
	ck_assert_int_eq(xr_rlp_decode(b.data, b.len, &it, NULL), 0);
	struct xr_rlp_iter iter;
	struct xr_rlp_item c;
	xr_rlp_iter_init(&iter, &it, XR_RLP_MAX_DEPTH);
	err.code = 0;
	ck_assert_int_eq(xr_rlp_next(&iter, &c, &err), XR_EINVAL);
	xr_rlp_iter_init(&iter, &it, XR_RLP_MAX_DEPTH - 1);
	ck_assert_int_eq(xr_rlp_next(&iter, &c, NULL), 1);
	ck_assert_int_eq(xr_rlp_next(&iter, &c, NULL), 0);
	xr_buf_fini(&b);
}
END_TEST

static const struct {
	const char *hex;
	int rc64;
	uint64_t v;
	int rc256;
} ints[] = {
    {"80", 0, 0, 0},
    {"01", 0, 1, 0},
    {"7f", 0, 127, 0},
    {"8180", 0, 128, 0},
    {"820100", 0, 256, 0},
    {"88ffffffffffffffff", 0, UINT64_MAX, 0},
    {"00", XR_EINVAL, 0, XR_EINVAL},
    {"820001", XR_EINVAL, 0, XR_EINVAL},
    {"89010000000000000000", XR_EINVAL, 0, 0},
    {"a0ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", XR_EINVAL, 0, 0},
    {"a1010000000000000000000000000000000000000000000000000000000000000000", XR_EINVAL, 0,
     XR_EINVAL},
    {"c0", XR_EINVAL, 0, XR_EINVAL},
    {"c180", XR_EINVAL, 0, XR_EINVAL},
};

START_TEST(test_integers)
{
	size_t n;
	uint8_t *p = unhex(ints[_i].hex, &n), out[32], want[32] = {0};
	struct xr_rlp_item it;
	uint64_t v = 12345;
	struct xr_err err = {0};
	ck_assert_int_eq(xr_rlp_decode(p, n, &it, NULL), 0);
	ck_assert_int_eq(xr_rlp_uint64(&it, &v, "gasUsed", &err), ints[_i].rc64);
	if (ints[_i].rc64 == 0)
		ck_assert_uint_eq(v, ints[_i].v);
	else
		ck_assert_msg(v == 12345 && strstr(err.msg, "gasUsed"), "%s", err.msg);
	memset(out, 0xee, 32);
	ck_assert_int_eq(xr_rlp_uint256(&it, out, "difficulty", NULL), ints[_i].rc256);
	if (ints[_i].rc256 == 0) {
		if (it.len)
			memcpy(want + 32 - it.len, it.p, it.len);
		ck_assert_mem_eq(out, want, 32);
	} else {
		memset(want, 0xee, 32);
		ck_assert_mem_eq(out, want, 32);
	}
	free(p);
}
END_TEST

START_TEST(test_exact_and_fixed)
{
	size_t n;
	uint8_t *p = unhex("c88363617483646f67", &n), out[3];
	struct xr_rlp_item it, items[3];
	struct xr_err err = {0};
	ck_assert_int_eq(xr_rlp_decode(p, n, &it, NULL), 0);
	ck_assert_int_eq(xr_rlp_list_exact(&it, items, 2, "pair", NULL), 0);
	ck_assert_int_eq(xr_rlp_fixed(&items[1], out, 3, "animal", NULL), 0);
	ck_assert_mem_eq(out, "dog", 3);
	ck_assert_int_eq(xr_rlp_fixed(&items[1], out, 4, "animal", &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "animal is 3 bytes long, expected 4");
	ck_assert_int_eq(xr_rlp_fixed(&it, out, 3, "animal", NULL), XR_EINVAL);
	err.code = 0;
	ck_assert_int_eq(xr_rlp_list_exact(&it, items, 3, "triple", &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "triple has 2 items, expected 3");
	ck_assert_int_eq(xr_rlp_list_exact(&it, items, 1, "single", NULL), XR_EINVAL);
	ck_assert_int_eq(xr_rlp_list_exact(&items[0], items, 1, "single", NULL), XR_EINVAL);
	free(p);
}
END_TEST

/* --- hostile input ------------------------------------------------------- */

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A random tree of bytes and lists. */
static void random_item(struct xr_buf *b, unsigned depth)
{
	uint64_t r = next_rand();
	if (depth < 8 && r % 3 == 0) {
		size_t m = xr_rlp_list_begin(b), n = (size_t)(next_rand() % 6);
		for (size_t i = 0; i < n; i++)
			random_item(b, depth + 1);
		xr_rlp_list_end(b, m);
		return;
	}
	uint8_t tmp[300];
	size_t n = (size_t)(r >> 8) % 4 == 0 ? (size_t)(next_rand() % 300) : (size_t)(r >> 16) % 3;
	for (size_t i = 0; i < n; i++)
		tmp[i] = (uint8_t)next_rand();
	xr_rlp_put_bytes(b, tmp, n);
}

START_TEST(test_random_trees_and_truncation)
{
	struct xr_buf b;
	xr_buf_init(&b, 1 << 22);
	for (int round = 0; round < 300; round++) {
		xr_buf_reset(&b);
		random_item(&b, 1);
		ck_assert(!b.failed);
		EXPECT(decode_roundtrip(b.data, b.len, NULL) == 0, "random tree %d refused", round);
		/* Every proper prefix is refused, in an exact-size copy. */
		for (size_t cut = 0; cut < b.len; cut++) {
			uint8_t *c = malloc(cut ? cut : 1);
			memcpy(c, b.data, cut);
			struct xr_rlp_item it;
			EXPECT(xr_rlp_decode(c, cut, &it, NULL) == XR_EINVAL,
			       "prefix of %zu of %zu bytes accepted", cut, b.len);
			free(c);
		}
		/* Every single-byte change: refused, or accepted and canonical. */
		if (b.len < 400) {
			for (size_t i = 0; i < b.len; i++) {
				uint8_t *c = malloc(b.len);
				memcpy(c, b.data, b.len);
				c[i] ^= (uint8_t)(1 + next_rand() % 255);
				(void)decode_roundtrip(c, b.len, NULL);
				free(c);
			}
		}
	}
	xr_buf_fini(&b);
}
END_TEST

START_TEST(test_random_bytes)
{
	uint8_t buf[64];
	size_t accepted_n = 0;
	for (int round = 0; round < 200000; round++) {
		size_t n = (size_t)(next_rand() % sizeof(buf));
		for (size_t i = 0; i < n; i++) {
			uint64_t r = next_rand();
			/* Bias towards header bytes and small lengths. */
			buf[i] = r % 4 == 0 ? (uint8_t)(0x80 + (r >> 8) % 0x80) : (uint8_t)(r >> 8);
		}
		uint8_t *c = malloc(n ? n : 1);
		memcpy(c, buf, n);
		if (decode_roundtrip(c, n, NULL) == 0)
			accepted_n++;
		free(c);
	}
	ck_assert_uint_gt(accepted_n, 0);
}
END_TEST

static Suite *rlp_suite(void)
{
	Suite *s = suite_create("evm_rlp");
	TCase *tc = tcase_create("encode");
	tcase_add_test(tc, test_encode_strings);
	tcase_add_loop_test(tc, test_encode_uint, 0, sizeof(uints) / sizeof(uints[0]));
	tcase_add_test(tc, test_encode_uint_be);
	tcase_add_test(tc, test_encode_lists);
	tcase_add_test(tc, test_encode_overflow);
	suite_add_tcase(s, tc);
	tc = tcase_create("decode");
	tcase_add_loop_test(tc, test_decode_accepts, 0, sizeof(accepted) / sizeof(accepted[0]));
	tcase_add_test(tc, test_decode_long_forms);
	tcase_add_loop_test(tc, test_decode_refuses, 0, sizeof(refused) / sizeof(refused[0]));
	tcase_add_test(tc, test_decode_prefix);
	tcase_add_test(tc, test_depth);
	tcase_add_loop_test(tc, test_integers, 0, sizeof(ints) / sizeof(ints[0]));
	tcase_add_test(tc, test_exact_and_fixed);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_random_trees_and_truncation);
	tcase_add_test(tc, test_random_bytes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(rlp_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
