/* test_record.c - Record v1 codec and signatures, ENVELOPE and MEMBER bodies,
 * roles and member names (proto/record.c). The golden record was computed
 * independently in python (hashlib and the RFC 8032 reference Ed25519). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "record.h"
#include "xr_bytes.h"

/* ck_assert records a mark point on every success; the exhaustive loops use
 * this instead. */
#define EXPECT(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond))                                                                       \
			ck_abort_msg(__VA_ARGS__);                                                 \
	} while (0)

static void seed_of(uint8_t first, uint8_t seed[32])
{
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(first + i);
}

/* Encodes r into a malloc'd exact-size buffer (so ASan sees over-reads). */
static uint8_t *encode(const struct xr_record *r, const uint8_t *seed, size_t *ret_len)
{
	struct xr_buf b;
	struct xr_err err = {0};
	xr_buf_init(&b, XR_RECORD_MAX_LEN);
	ck_assert_msg(xr_record_encode(r, seed, &b, &err) == 0, "%s", err.msg);
	uint8_t *p = malloc(b.len);
	ck_assert_ptr_nonnull(p);
	memcpy(p, b.data, b.len);
	*ret_len = b.len;
	xr_buf_fini(&b);
	return p;
}

static int decode_copy(
    const uint8_t *p, size_t len, struct xr_record *r, struct xr_err *err, uint8_t **ret_copy)
{
	uint8_t *c = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(c);
	if (len)
		memcpy(c, p, len);
	int rc = xr_record_decode(c, len, r, err);
	*ret_copy = c;
	return rc;
}

static void expect_decode_err(const uint8_t *p, size_t len, const char *msg)
{
	struct xr_record r;
	struct xr_err err = {0};
	uint8_t *c;
	memset(&r, 0x5c, sizeof(r));
	int rc = decode_copy(p, len, &r, &err, &c);
	free(c);
	ck_assert_msg(rc == XR_EINVAL, "accepted, expected '%s'", msg);
	ck_assert_msg(strstr(err.msg, msg) != NULL, "'%s' lacks '%s'", err.msg, msg);
	ck_assert_uint_eq(r.type, 0x5c);
}

/* The golden record: a MEMBER enrolment of "admin" (roles admin|auditor, the
 * key of seed 0x01..0x20) signed by that key, at time 1700000000123. */
static const char golden_hex[] =
    "01030000018bcfe5687b0561646d696e00000029010561646d696e090179b5562e8fe654f94078b112e8a98"
    "ba7901f853ae695bed7e0e3910bad04966440a9a9589acef6f26d9bb2769e4439cb283fdb728136f6d14261"
    "522610c14294c73556ffeab596c18c236cd5e3ac841a9dd907aa146dab6710e949c931771e5e06";

START_TEST(test_golden)
{
	uint8_t seed[32], pub[32], *want;
	size_t wl, len;
	struct xr_member m = {
	    .op = XR_MEMBER_ENROL, .name = "admin", .roles = XR_ROLE_ADMIN | XR_ROLE_AUDITOR};
	struct xr_buf body;

	seed_of(1, seed);
	ck_assert_int_eq(xr_ed25519_public(seed, pub, NULL), 0);
	memcpy(m.pub, pub, 32);
	xr_buf_init(&body, 1024);
	ck_assert_int_eq(xr_member_encode(&m, &body, NULL), 0);
	struct xr_record r = {.type = XR_REC_MEMBER,
			      .time_ms = 1700000000123ull,
			      .author = "admin",
			      .body = body.data,
			      .body_len = (uint32_t)body.len};
	uint8_t *enc = encode(&r, seed, &len);
	ck_assert_int_eq(xr_hex_decode_new(golden_hex, 4096, &want, &wl, NULL), 0);
	ck_assert_uint_eq(len, wl);
	ck_assert_mem_eq(enc, want, wl);

	struct xr_record d;
	ck_assert_int_eq(xr_record_decode(want, wl, &d, NULL), 0);
	ck_assert_uint_eq(d.type, XR_REC_MEMBER);
	ck_assert_uint_eq(d.time_ms, 1700000000123ull);
	ck_assert_str_eq(d.author, "admin");
	ck_assert_uint_eq(d.body_len, body.len);
	ck_assert_mem_eq(d.body, body.data, body.len);
	ck_assert_ptr_eq(d.body, want + 1 + 1 + 8 + 1 + 5 + 4);
	ck_assert_uint_eq(d.sig_len, 64);
	ck_assert_int_eq(xr_record_verify_sig(want, wl, &d, pub, NULL), 0);
	struct xr_member dm;
	ck_assert_int_eq(xr_member_decode(d.body, d.body_len, &dm, NULL), 0);
	ck_assert_mem_eq(&dm, &m, sizeof(m));
	free(want);
	free(enc);
	xr_buf_fini(&body);
}
END_TEST

START_TEST(test_roundtrip)
{
	static const uint32_t body_lens[] = {0, 1, 31, 1000, XR_RECORD_BODY_MAX};
	uint8_t *body = malloc(XR_RECORD_BODY_MAX);
	uint8_t seed[32], pub[32];
	char author[XR_AUTHOR_MAX + 1];

	ck_assert_ptr_nonnull(body);
	for (uint32_t i = 0; i < XR_RECORD_BODY_MAX; i++)
		body[i] = (uint8_t)(i * 7 + 3);
	seed_of(9, seed);
	ck_assert_int_eq(xr_ed25519_public(seed, pub, NULL), 0);
	memset(author, 'a', XR_AUTHOR_MAX);
	author[XR_AUTHOR_MAX] = '\0';

	for (uint8_t type = XR_REC_ENVELOPE; type <= XR_REC_ALERT; type++)
		for (size_t bl = 0; bl < sizeof(body_lens) / sizeof(body_lens[0]); bl++)
			for (int signed_ = 0; signed_ < 2; signed_++) {
				struct xr_record r = {.type = type,
						      .time_ms =
							  type == 5 ? UINT64_MAX : type * 1000,
						      .body = body_lens[bl] ? body : NULL,
						      .body_len = body_lens[bl]};
				size_t an = bl == 4 ? XR_AUTHOR_MAX : 1 + bl;
				memcpy(r.author, author, an);
				r.author[an] = '\0';
				size_t len;
				uint8_t *enc = encode(&r, signed_ ? seed : NULL, &len);
				ck_assert_uint_eq(len, 1 + 1 + 8 + 1 + an + 4 + body_lens[bl] + 1 +
							   (signed_ ? 64 : 0));
				struct xr_record d;
				memset(&d, 0xcc, sizeof(d));
				ck_assert_int_eq(xr_record_decode(enc, len, &d, NULL), 0);
				ck_assert_uint_eq(d.type, type);
				ck_assert_uint_eq(d.time_ms, r.time_ms);
				ck_assert_str_eq(d.author, r.author);
				ck_assert_uint_eq(d.body_len, r.body_len);
				if (r.body_len)
					ck_assert_mem_eq(d.body, body, r.body_len);
				ck_assert_uint_eq(d.sig_len, signed_ ? 64 : 0);
				struct xr_err err = {0};
				int rc = xr_record_verify_sig(enc, len, &d, pub, &err);
				if (signed_) {
					ck_assert_int_eq(rc, 0);
				} else {
					ck_assert_int_eq(rc, XR_EVERIFY);
					ck_assert(strstr(err.msg, "carries no signature") != NULL);
				}
				/* Re-encoding the decoded record gives the same bytes. */
				size_t len2;
				uint8_t *enc2 = encode(&d, signed_ ? seed : NULL, &len2);
				ck_assert_uint_eq(len2, len);
				ck_assert_mem_eq(enc2, enc, len);
				free(enc2);
				free(enc);
			}
	free(body);
}
END_TEST

START_TEST(test_signatures)
{
	uint8_t seed[32], other[32], pub[32], opub[32];
	struct xr_record r = {.type = XR_REC_ENVELOPE,
			      .time_ms = 42,
			      .author = "dapp-1",
			      .body = (const uint8_t *)"hello",
			      .body_len = 5};
	struct xr_record d;
	struct xr_err err = {0};
	size_t len;

	seed_of(1, seed);
	seed_of(2, other);
	ck_assert_int_eq(xr_ed25519_public(seed, pub, NULL), 0);
	ck_assert_int_eq(xr_ed25519_public(other, opub, NULL), 0);
	uint8_t *enc = encode(&r, seed, &len);
	ck_assert_int_eq(xr_record_decode(enc, len, &d, NULL), 0);
	ck_assert_int_eq(xr_record_verify_sig(enc, len, &d, pub, NULL), 0);
	ck_assert_int_eq(xr_record_verify_sig(enc, len, &d, opub, &err), XR_EVERIFY);
	ck_assert_str_eq(err.msg, "signature by author 'dapp-1' does not verify");

	/* The signature is Ed25519 over SHA-256 of everything before the
	 * signature length byte. */
	uint8_t h[32];
	xr_sha256(enc, len - 65, h);
	ck_assert(xr_ed25519_verify(pub, h, 32, enc + len - 64));
	ck_assert_uint_eq(enc[len - 65], 64);

	/* A decoded record that does not match the bytes given. */
	struct xr_record e = d;
	e.sig[0] ^= 1;
	xr_err_clear(&err);
	ck_assert_int_eq(xr_record_verify_sig(enc, len, &e, pub, &err), XR_EINVAL);
	ck_assert(strstr(err.msg, "does not end in the decoded signature") != NULL);
	ck_assert_int_eq(xr_record_verify_sig(enc, 10, &d, pub, NULL), XR_EINVAL);

	/* Tamper with each byte: a decode error or a failed signature, never
	 * an accepted record. */
	for (size_t i = 0; i < len; i++)
		for (int bit = 0; bit < 8; bit += 7) {
			enc[i] ^= (uint8_t)(1 << bit);
			struct xr_record t;
			int rc = xr_record_decode(enc, len, &t, NULL);
			if (rc == 0)
				rc = xr_record_verify_sig(enc, len, &t, pub, NULL);
			EXPECT(rc < 0, "byte %zu bit %d: tampered record accepted", i, bit);
			enc[i] ^= (uint8_t)(1 << bit);
		}
	ck_assert_int_eq(xr_record_verify_sig(enc, len, &d, pub, NULL), 0);
	free(enc);
}
END_TEST

/* A valid unsigned record to break: type ENVELOPE, author "ab", body "xyz". */
static const uint8_t base[] = {
    1, 1, 0, 0, 0, 0, 0, 0, 0, 7, 2, 'a', 'b', 0, 0, 0, 3, 'x', 'y', 'z', 0,
};

struct mutation {
	size_t off;
	uint8_t val;
	const char *msg;
};

static const struct mutation mutations[] = {
    {0, 0, "record version 0 is not supported, expected 1"},
    {0, 2, "record version 2 is not supported, expected 1"},
    {0, 255, "record version 255 is not supported"},
    {1, 0, "record type 0 is unknown, expected 1..5"},
    {1, 6, "record type 6 is unknown, expected 1..5"},
    {1, 255, "record type 255 is unknown"},
    {10, 0, "record author length 0, expected 1..64"},
    {10, 65, "record author length 65, expected 1..64"},
    {10, 255, "record author length 255"},
    {10, 3, "record author: name 'ab\\x00' has byte 0x00 at position 2"},
    /* author "a", then the body length reads 'b', 0, 0, 0 */
    {10, 1, "record body length 1644167168 exceeds the maximum 1048576"},
    {11, ' ', "record author: name ' b' has byte 0x20 at position 0"},
    {12, '+', "record author: name 'a+' has byte 0x2b at position 1"},
    {12, 0, "record author: name 'a\\x00' has byte 0x00 at position 1"},
    {12, 0xc3, "has byte 0xc3 at position 1"},
    {13, 1, "record body length 16777219 exceeds the maximum 1048576"},
    {16, 5, "truncated at record body: need 5 bytes at offset 17, have 4"},
    {16, 4, "truncated at record signature length"},
    {16, 2, "record signature length 122, expected 0 or 64"},
    {20, 1, "record signature length 1, expected 0 or 64"},
    {20, 63, "record signature length 63"},
    {20, 65, "record signature length 65"},
    {20, 255, "record signature length 255"},
    {20, 64, "truncated at record signature: need 64 bytes at offset 21, have 0"},
};

START_TEST(test_malformed)
{
	const struct mutation *m = &mutations[_i];
	uint8_t buf[sizeof(base)];
	struct xr_record r;

	ck_assert_int_eq(xr_record_decode(base, sizeof(base), &r, NULL), 0);
	memcpy(buf, base, sizeof(base));
	buf[m->off] = m->val;
	expect_decode_err(buf, sizeof(buf), m->msg);
}
END_TEST

START_TEST(test_truncation_trailing)
{
	uint8_t seed[32];
	struct xr_record r = {.type = XR_REC_ALERT,
			      .time_ms = 1,
			      .author = "relayer.eu-1",
			      .body = (const uint8_t *)"alert body",
			      .body_len = 10};
	size_t len;

	seed_of(5, seed);
	for (int s = 0; s < 2; s++) {
		uint8_t *enc = encode(&r, s ? seed : NULL, &len);
		for (size_t n = 0; n < len; n++) {
			struct xr_record d;
			struct xr_err err = {0};
			uint8_t *c;
			int rc = decode_copy(enc, n, &d, &err, &c);
			free(c);
			EXPECT(rc == XR_EINVAL && strncmp(err.msg, "truncated at record ", 20) == 0,
			       "prefix %zu: rc %d '%s'", n, rc, err.msg);
		}
		/* Trailing bytes. */
		uint8_t *more = malloc(len + 3);
		memcpy(more, enc, len);
		memset(more + len, 0, 3);
		expect_decode_err(more, len + 1, "1 bytes after the end of the record");
		expect_decode_err(more, len + 3, "3 bytes after the end of the record");
		free(more);
		free(enc);
	}
	expect_decode_err(NULL, 0, "truncated at record version: need 1 bytes at offset 0, have 0");
}
END_TEST

START_TEST(test_encode_errors)
{
	struct xr_buf b;
	struct xr_err err = {0};
	struct xr_record r = {.type = XR_REC_CHAIN, .author = "a", .body_len = 0};

	xr_buf_init(&b, XR_RECORD_MAX_LEN);
	xr_buf_put(&b, "pre", 3);
	r.type = 0;
	ck_assert_int_eq(xr_record_encode(&r, NULL, &b, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "record type 0 is unknown, expected 1..5");
	r.type = 6;
	ck_assert_int_eq(xr_record_encode(&r, NULL, &b, NULL), XR_EINVAL);
	r.type = XR_REC_CHAIN;
	r.author[0] = '\0';
	xr_err_clear(&err);
	ck_assert_int_eq(xr_record_encode(&r, NULL, &b, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "record author: name is empty, expected 1..64 of [-_.a-zA-Z0-9]");
	memcpy(r.author, "bad name", 9);
	ck_assert_int_eq(xr_record_encode(&r, NULL, &b, NULL), XR_EINVAL);
	memset(r.author, 'a', sizeof(r.author)); /* no NUL: 65 bytes */
	xr_err_clear(&err);
	ck_assert_int_eq(xr_record_encode(&r, NULL, &b, &err), XR_EINVAL);
	ck_assert(strstr(err.msg, "is 65 characters, at most 64 allowed") != NULL);
	memcpy(r.author, "a", 2);
	r.body_len = XR_RECORD_BODY_MAX + 1;
	xr_err_clear(&err);
	ck_assert_int_eq(xr_record_encode(&r, NULL, &b, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "record body of 1048577 bytes exceeds the maximum 1048576");
	ck_assert_uint_eq(b.len, 3);
	xr_buf_fini(&b);

	/* Too small a buffer: nothing is left behind. */
	uint8_t seed[32];
	seed_of(3, seed);
	r.body = (const uint8_t *)"0123456789";
	r.body_len = 10;
	for (size_t max = 0; max < 100; max++) {
		xr_buf_init(&b, max);
		int rc = xr_record_encode(&r, seed, &b, NULL);
		size_t need = 1 + 1 + 8 + 1 + 1 + 4 + 10 + 1 + 64;
		EXPECT(rc == (max >= need ? 0 : XR_ENOMEM), "max %zu: rc %d", max, rc);
		EXPECT(b.len == (max >= need ? need : 0), "max %zu: len %zu", max, b.len);
		xr_buf_fini(&b);
	}
	/* An already failed buffer is refused. */
	xr_buf_init(&b, 2);
	xr_buf_put(&b, "abc", 3);
	ck_assert(b.failed);
	ck_assert_int_eq(xr_record_encode(&r, NULL, &b, NULL), XR_ENOMEM);
	xr_buf_fini(&b);
}
END_TEST

START_TEST(test_type_names)
{
	ck_assert_str_eq(xr_record_type_name(XR_REC_ENVELOPE), "ENVELOPE");
	ck_assert_str_eq(xr_record_type_name(XR_REC_CHAIN), "CHAIN");
	ck_assert_str_eq(xr_record_type_name(XR_REC_MEMBER), "MEMBER");
	ck_assert_str_eq(xr_record_type_name(XR_REC_DELIVERY), "DELIVERY");
	ck_assert_str_eq(xr_record_type_name(XR_REC_ALERT), "ALERT");
	ck_assert_str_eq(xr_record_type_name(0), "?");
	ck_assert_str_eq(xr_record_type_name(6), "?");
	ck_assert_str_eq(xr_record_type_name(255), "?");
}
END_TEST

/* --- ENVELOPE body ------------------------------------------------------------ */

START_TEST(test_envelope_body)
{
	static const size_t lens[] = {1, 2, 100, XR_ENV_MAX_LEN};
	uint8_t *env = malloc(XR_ENV_MAX_LEN), dig[32];
	struct xr_buf b;
	ck_assert_ptr_nonnull(env);
	for (size_t i = 0; i < XR_ENV_MAX_LEN; i++)
		env[i] = (uint8_t)(i ^ (i >> 8));
	xr_sha256("evidence", 8, dig);
	for (size_t t = 0; t < sizeof(lens) / sizeof(lens[0]); t++) {
		xr_buf_init(&b, XR_RECORD_BODY_MAX);
		ck_assert_int_eq(xr_envelope_body_encode(env, lens[t], dig, &b, NULL), 0);
		ck_assert_uint_eq(b.len, 4 + lens[t] + 32);
		ck_assert_uint_eq(xr_get_be32(b.data), lens[t]);
		const uint8_t *e, *d;
		size_t el;
		ck_assert_int_eq(xr_envelope_body_decode(b.data, b.len, &e, &el, &d, NULL), 0);
		ck_assert_ptr_eq(e, b.data + 4);
		ck_assert_uint_eq(el, lens[t]);
		ck_assert_mem_eq(e, env, el);
		ck_assert_ptr_eq(d, b.data + 4 + el);
		ck_assert_mem_eq(d, dig, 32);
		xr_buf_fini(&b);
	}

	struct xr_err err = {0};
	xr_buf_init(&b, XR_RECORD_BODY_MAX);
	char want[128];
	ck_assert_int_eq(xr_envelope_body_encode(env, 0, dig, &b, &err), XR_EINVAL);
	snprintf(want, sizeof(want), "envelope of 0 bytes, expected 1..%d", XR_ENV_MAX_LEN);
	ck_assert_str_eq(err.msg, want);
	ck_assert_int_eq(xr_envelope_body_encode(env, XR_ENV_MAX_LEN + 1, dig, &b, NULL),
			 XR_EINVAL);
	ck_assert_uint_eq(b.len, 0);
	xr_buf_fini(&b);
	xr_buf_init(&b, 40);
	ck_assert_int_eq(xr_envelope_body_encode(env, 5, dig, &b, NULL), XR_ENOMEM);
	ck_assert_uint_eq(b.len, 0);
	xr_buf_fini(&b);
	free(env);
}
END_TEST

static void expect_env_err(const uint8_t *p, size_t len, const char *msg)
{
	const uint8_t *e = NULL, *d = NULL;
	size_t el = 999;
	struct xr_err err = {0};
	uint8_t *c = malloc(len ? len : 1);
	if (len)
		memcpy(c, p, len);
	int rc = xr_envelope_body_decode(c, len, &e, &el, &d, &err);
	free(c);
	ck_assert_msg(rc == XR_EINVAL, "accepted, expected '%s'", msg);
	ck_assert_msg(strstr(err.msg, msg) != NULL, "'%s' lacks '%s'", err.msg, msg);
	ck_assert(e == NULL && d == NULL && el == 999);
}

START_TEST(test_envelope_body_malformed)
{
	uint8_t buf[4 + 3 + 32 + 2];
	xr_put_be32(buf, 3);
	memcpy(buf + 4, "env", 3);
	memset(buf + 7, 0xd1, 34);
	size_t good = 4 + 3 + 32;

	for (size_t n = 0; n < good; n++) {
		const char *msg = n < 4 ? "truncated at envelope length"
				  : n < 7
				      ? "truncated at envelope: need 3 bytes at offset 4"
				      : "truncated at evidence digest: need 32 bytes at offset 7";
		expect_env_err(buf, n, msg);
	}
	expect_env_err(buf, good + 1, "1 bytes after the end of the envelope body");
	expect_env_err(buf, good + 2, "2 bytes after the end of the envelope body");
	char want[128];
	xr_put_be32(buf, 0);
	snprintf(want, sizeof(want), "envelope length 0, expected 1..%d", XR_ENV_MAX_LEN);
	expect_env_err(buf, good, want);
	xr_put_be32(buf, XR_ENV_MAX_LEN + 1);
	snprintf(want, sizeof(want), "envelope length %d, expected 1..%d", XR_ENV_MAX_LEN + 1,
		 XR_ENV_MAX_LEN);
	expect_env_err(buf, good, want);
	xr_put_be32(buf, UINT32_MAX);
	expect_env_err(buf, good, "envelope length 4294967295");
	xr_put_be32(buf, 4);
	expect_env_err(buf, good, "truncated at evidence digest");
	xr_put_be32(buf, 2);
	expect_env_err(buf, good, "1 bytes after the end of the envelope body");
}
END_TEST

/* --- MEMBER body -------------------------------------------------------------- */

START_TEST(test_member)
{
	struct xr_member m = {
	    .op = XR_MEMBER_ENROL, .name = "relay-01.eu", .roles = XR_ROLE_RELAYER};
	struct xr_buf b;
	for (int i = 0; i < 32; i++)
		m.pub[i] = (uint8_t)(0xa0 + i);
	for (uint8_t op = 1; op <= 2; op++)
		for (uint8_t roles = 1; roles <= XR_ROLE_ALL; roles++) {
			m.op = op;
			m.roles = roles;
			xr_buf_init(&b, 256);
			EXPECT(xr_member_encode(&m, &b, NULL) == 0, "encode failed");
			EXPECT(b.len == 1 + 1 + 11 + 1 + 1 + 32, "length %zu", b.len);
			EXPECT(b.data[0] == op && b.data[1] == 11 && b.data[13] == roles &&
				   b.data[14] == 1,
			       "layout");
			struct xr_member d;
			memset(&d, 0xee, sizeof(d));
			uint8_t *c = malloc(b.len);
			memcpy(c, b.data, b.len);
			EXPECT(xr_member_decode(c, b.len, &d, NULL) == 0, "decode failed");
			EXPECT(memcmp(&d, &m, sizeof(m)) == 0, "round trip differs");
			free(c);
			xr_buf_fini(&b);
		}

	/* A 64-character name. */
	memset(m.name, 'Z', 64);
	m.name[64] = '\0';
	xr_buf_init(&b, 256);
	ck_assert_int_eq(xr_member_encode(&m, &b, NULL), 0);
	struct xr_member d;
	ck_assert_int_eq(xr_member_decode(b.data, b.len, &d, NULL), 0);
	ck_assert_str_eq(d.name, m.name);
	xr_buf_fini(&b);

	/* Encoder checks. */
	struct xr_err err = {0};
	struct xr_member bad = {.op = 3, .name = "x", .roles = 1};
	xr_buf_init(&b, 256);
	ck_assert_int_eq(xr_member_encode(&bad, &b, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "member op 3, expected 1 (enrol) or 2 (revoke)");
	bad.op = 1;
	bad.roles = 0;
	xr_err_clear(&err);
	ck_assert_int_eq(xr_member_encode(&bad, &b, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "member roles 0x00, expected a non-empty subset of 0x1f");
	bad.roles = 0x21;
	ck_assert_int_eq(xr_member_encode(&bad, &b, NULL), XR_EINVAL);
	bad.roles = 1;
	memcpy(bad.name, "x y", 4);
	xr_err_clear(&err);
	ck_assert_int_eq(xr_member_encode(&bad, &b, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "member: name 'x y' has byte 0x20 at position 1, expected "
				  "[-_.a-zA-Z0-9]");
	ck_assert_uint_eq(b.len, 0);
	xr_buf_fini(&b);
	xr_buf_init(&b, 20);
	memcpy(bad.name, "x", 2);
	ck_assert_int_eq(xr_member_encode(&bad, &b, NULL), XR_ENOMEM);
	ck_assert_uint_eq(b.len, 0);
	xr_buf_fini(&b);
}
END_TEST

static void expect_member_err(const uint8_t *p, size_t len, const char *msg)
{
	struct xr_member m;
	struct xr_err err = {0};
	uint8_t *c = malloc(len ? len : 1);
	if (len)
		memcpy(c, p, len);
	memset(&m, 0x99, sizeof(m));
	int rc = xr_member_decode(c, len, &m, &err);
	free(c);
	EXPECT(rc == XR_EINVAL, "accepted, expected '%s'", msg);
	EXPECT(strstr(err.msg, msg) != NULL, "'%s' lacks '%s'", err.msg, msg);
	EXPECT(m.op == 0x99, "output written on failure");
}

START_TEST(test_member_malformed)
{
	/* enrol "ab", roles admin, key type 1, key */
	uint8_t good[1 + 1 + 2 + 1 + 1 + 32 + 1], buf[sizeof(good)];
	good[0] = 1;
	good[1] = 2;
	good[2] = 'a';
	good[3] = 'b';
	good[4] = XR_ROLE_ADMIN;
	good[5] = 1;
	memset(good + 6, 0x42, 33);
	size_t len = sizeof(good) - 1;
	struct xr_member m;
	ck_assert_int_eq(xr_member_decode(good, len, &m, NULL), 0);
	ck_assert_str_eq(m.name, "ab");

	struct mutation cases[] = {
	    {0, 0, "member op 0, expected 1 (enrol) or 2 (revoke)"},
	    {0, 3, "member op 3"},
	    {0, 255, "member op 255"},
	    {1, 0, "member name length 0, expected 1..64"},
	    {1, 65, "member name length 65, expected 1..64"},
	    {1, 200, "member name length 200"},
	    {2, '/', "member: name '/b' has byte 0x2f at position 0"},
	    {3, 0, "member: name 'a\\x00' has byte 0x00 at position 1"},
	    {3, '+', "has byte 0x2b at position 1"},
	    {4, 0, "member roles 0x00, expected a non-empty subset of 0x1f"},
	    {4, 0x20, "member roles 0x20"},
	    {4, 0xff, "member roles 0xff"},
	    {5, 0, "member key type 0, expected 1 (ed25519)"},
	    {5, 2, "member key type 2"},
	    {1, 3, "member: name 'ab\\x01' has byte 0x01 at position 2"},
	    {1, 1, "member roles 0x62"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(buf, good, sizeof(good));
		buf[cases[i].off] = cases[i].val;
		expect_member_err(buf, len, cases[i].msg);
	}
	for (size_t n = 0; n < len; n++)
		expect_member_err(good, n, "truncated at member ");
	expect_member_err(good, len + 1, "1 bytes after the end of the member body");
}
END_TEST

/* --- roles and names ---------------------------------------------------------- */

START_TEST(test_roles)
{
	static const struct {
		const char *s;
		uint8_t roles;
	} ok[] = {
	    {"admin", XR_ROLE_ADMIN},
	    {"deployer", XR_ROLE_DEPLOYER},
	    {"dapp", XR_ROLE_DAPP},
	    {"auditor", XR_ROLE_AUDITOR},
	    {"relayer", XR_ROLE_RELAYER},
	    {"admin,dapp", XR_ROLE_ADMIN | XR_ROLE_DAPP},
	    {"relayer,admin", XR_ROLE_ADMIN | XR_ROLE_RELAYER},
	    {"admin,deployer,dapp,auditor,relayer", XR_ROLE_ALL},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint8_t r = 0;
		ck_assert_int_eq(xr_roles_parse(ok[i].s, &r, NULL), 0);
		ck_assert_uint_eq(r, ok[i].roles);
	}

	static const struct {
		const char *s, *msg;
	} bad[] = {
	    {"", "role list is empty"},
	    {",", "unknown role '' in ','"},
	    {"admin,", "unknown role '' in 'admin,'"},
	    {",admin", "unknown role '' in ',admin'"},
	    {"admin,,dapp", "unknown role '' in 'admin,,dapp'"},
	    {"Admin", "unknown role 'Admin' in 'Admin', expected admin,deployer,dapp,auditor,"
		      "relayer"},
	    {"admin ", "unknown role 'admin '"},
	    {" admin", "unknown role ' admin'"},
	    {"admin, dapp", "unknown role ' dapp'"},
	    {"root", "unknown role 'root'"},
	    {"adm", "unknown role 'adm'"},
	    {"admins", "unknown role 'admins'"},
	    {"admin,admin", "role 'admin' appears twice in 'admin,admin'"},
	    {"dapp,relayer,dapp", "role 'dapp' appears twice"},
	    {"admin\n", "unknown role 'admin\\x0a'"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t r = 0x77;
		struct xr_err err = {0};
		ck_assert_int_eq(xr_roles_parse(bad[i].s, &r, &err), XR_EINVAL);
		ck_assert_msg(strstr(err.msg, bad[i].msg) != NULL, "'%s' lacks '%s'", err.msg,
			      bad[i].msg);
		ck_assert_uint_eq(r, 0x77);
	}
	ck_assert_int_eq(xr_roles_parse(NULL, &(uint8_t){0}, NULL), XR_EINVAL);

	char out[64];
	xr_roles_format(0, out);
	ck_assert_str_eq(out, "");
	xr_roles_format(XR_ROLE_ALL, out);
	ck_assert_str_eq(out, "admin,deployer,dapp,auditor,relayer");
	xr_roles_format(XR_ROLE_RELAYER | XR_ROLE_DEPLOYER, out);
	ck_assert_str_eq(out, "deployer,relayer");
	xr_roles_format(0x21, out);
	ck_assert_str_eq(out, "admin,0x20");
	xr_roles_format(0xe0, out);
	ck_assert_str_eq(out, "0xe0");
	xr_roles_format(0xff, out);
	ck_assert_str_eq(out, "admin,deployer,dapp,auditor,relayer,0xe0");
	/* Inverse of each other on every valid set. */
	for (unsigned r = 1; r <= XR_ROLE_ALL; r++) {
		uint8_t back = 0;
		xr_roles_format((uint8_t)r, out);
		ck_assert_int_eq(xr_roles_parse(out, &back, NULL), 0);
		ck_assert_uint_eq(back, r);
	}
}
END_TEST

START_TEST(test_name_check)
{
	static const char *const ok[] = {
	    "a",       "Z",
	    "0",       "-",
	    "_",       ".",
	    "node-1",  "relay_02.eu",
	    "A.b-C_d", "x23456789012345678901234567890123456789012345678901234567890123X",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		ck_assert_msg(xr_name_check(ok[i], NULL) == 0, "'%s' rejected", ok[i]);

	static const struct {
		const char *s, *msg;
	} bad[] = {
	    {"", "name is empty, expected 1..64 of [-_.a-zA-Z0-9]"},
	    {"x234567890123456789012345678901234567890123456789012345678901234X",
	     "is 65 characters, at most 64 allowed"},
	    {"a b", "name 'a b' has byte 0x20 at position 1, expected [-_.a-zA-Z0-9]"},
	    {"a+b", "has byte 0x2b at position 1"},
	    {"a/b", "has byte 0x2f"},
	    {"a:b", "has byte 0x3a"},
	    {"a@b", "has byte 0x40"},
	    {"caf\xc3\xa9", "name 'caf\\xc3\\xa9' has byte 0xc3 at position 3"},
	    {"tab\t", "name 'tab\\x09' has byte 0x09"},
	    {"new\nline", "name 'new\\x0aline'"},
	    {"back\\slash", "name 'back\\x5cslash' has byte 0x5c"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct xr_err err = {0};
		ck_assert_int_eq(xr_name_check(bad[i].s, &err), XR_EINVAL);
		ck_assert_msg(strstr(err.msg, bad[i].msg) != NULL, "'%s' lacks '%s'", err.msg,
			      bad[i].msg);
	}
	ck_assert_int_eq(xr_name_check(NULL, NULL), XR_EINVAL);
	/* A very long name is shown cut, on one line. */
	char longname[300];
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	struct xr_err err = {0};
	ck_assert_int_eq(xr_name_check(longname, &err), XR_EINVAL);
	ck_assert(strstr(err.msg, "...' is 65 characters") != NULL);
}
END_TEST

static Suite *record_suite(void)
{
	Suite *s = suite_create("record");
	TCase *tc = tcase_create("record");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_golden);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_signatures);
	tcase_add_loop_test(tc, test_malformed, 0, (int)(sizeof(mutations) / sizeof(mutations[0])));
	tcase_add_test(tc, test_truncation_trailing);
	tcase_add_test(tc, test_encode_errors);
	tcase_add_test(tc, test_type_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("bodies");
	tcase_add_test(tc, test_envelope_body);
	tcase_add_test(tc, test_envelope_body_malformed);
	tcase_add_test(tc, test_member);
	tcase_add_test(tc, test_member_malformed);
	tcase_add_test(tc, test_roles);
	tcase_add_test(tc, test_name_check);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(record_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
