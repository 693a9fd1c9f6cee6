/* test_note.c - signed notes, verifier keys and checkpoint text (proto/note.c),
 * with golden values computed independently in python (hashlib, base64 and
 * the RFC 8032 reference Ed25519). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "note.h"
#include "xr_bytes.h"

/* ck_assert records a mark point on every success; the exhaustive loops use
 * this instead. */
#define EXPECT(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond))                                                                       \
			ck_abort_msg(__VA_ARGS__);                                                 \
	} while (0)

#define EM "\xe2\x80\x94 "

static void seed_of(uint8_t first, uint8_t seed[32])
{
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)(first + i);
}

static void signer(struct xr_signer *s, const char *name, uint8_t first)
{
	uint8_t seed[32];
	seed_of(first, seed);
	ck_assert_int_eq(xr_signer_init(s, name, seed, NULL), 0);
}

/* Signs text with the signers and returns the note as a NUL-terminated
 * string the caller frees. */
static char *sign(const char *text, const struct xr_signer *s, size_t n, size_t *ret_len)
{
	struct xr_buf b;
	struct xr_err err = {0};
	xr_buf_init(&b, 1 << 20);
	ck_assert_msg(xr_note_sign(text, strlen(text), s, n, &b, &err) == 0, "%s", err.msg);
	xr_buf_u8(&b, 0);
	ck_assert(!b.failed);
	size_t len;
	char *note = (char *)xr_buf_steal(&b, &len);
	*ret_len = len - 1;
	return note;
}

/* Opens note (copied to an exact-size allocation so ASan sees over-reads). */
static int open_note(const char *note,
		     size_t len,
		     const struct xr_vkey *keys,
		     size_t nkeys,
		     size_t threshold,
		     size_t *tl,
		     uint64_t *bits,
		     struct xr_err *err)
{
	char *copy = malloc(len ? len : 1);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, note, len);
	int rc = xr_note_open(copy, len, keys, nkeys, threshold, tl, bits, err);
	free(copy);
	return rc;
}

static void expect_open_err(const char *note,
			    size_t len,
			    const struct xr_vkey *keys,
			    size_t nkeys,
			    size_t threshold,
			    int code,
			    const char *msg)
{
	struct xr_err err = {0};
	size_t tl = 12345;
	int rc = open_note(note, len, keys, nkeys, threshold, &tl, NULL, &err);
	ck_assert_msg(rc == code, "rc %d (%s), expected %d (%s)", rc, err.msg, code, msg);
	ck_assert_msg(strstr(err.msg, msg) != NULL, "message '%s' lacks '%s'", err.msg, msg);
	ck_assert_uint_eq(tl, 12345);
}

/* --- golden values (python3: hashlib, base64, RFC 8032 reference ed25519) --- */

static const char golden_pub[] = "79b5562e8fe654f94078b112e8a98ba7901f853ae695bed7e0e3910bad049664";
static const char golden_vkey[] = "golden+1bde060a+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZk";
static const char golden_text[] = "example.com/xrelay\n"
				  "5\n"
				  "SBNJTRN+FjG7owHVrKtue7eqdM4RhdRWVl71HXN2d7I=\n"
				  "block 2\n"
				  "time 1700000000000\n"
				  "prev hP2brDM615FUNIKWIE+n+MU3qW4ImD5fc7P1rKjo7fc=\n";
static const char golden_note[] =
    "example.com/xrelay\n"
    "5\n"
    "SBNJTRN+FjG7owHVrKtue7eqdM4RhdRWVl71HXN2d7I=\n"
    "block 2\n"
    "time 1700000000000\n"
    "prev hP2brDM615FUNIKWIE+n+MU3qW4ImD5fc7P1rKjo7fc=\n"
    "\n" EM "golden "
    "G94GCnM+JoQQRcPlMjtyghZyY4neW9XzbmJ/"
    "aK0gJwNhkpQPEL3EO7omeg9DLLYYmVB4wb2qudFWjvs9LhC2GFPvng0=\n" EM "node2 "
    "ixoyppooWkXHOddPEyLycAS4Wa7n0ijVDn8K/nFeqUa6ZEGZup+903cN/"
    "WgmxeUlB0ubnxdXxFDa3KqAyItfpekFAAU=\n";

START_TEST(test_key_id)
{
	struct xr_signer g;
	uint8_t pub[32], id[4], h[32], buf[6 + 2 + 32];

	signer(&g, "golden", 1);
	ck_assert_int_eq(xr_hex_decode_exact(golden_pub, pub, 32, NULL), 0);
	ck_assert_mem_eq(g.key.pub, pub, 32);
	/* By hand: SHA-256("golden" || 0x0a || 0x01 || pub)[:4] */
	memcpy(buf, "golden\n\x01", 8);
	memcpy(buf + 8, pub, 32);
	xr_sha256(buf, sizeof(buf), h);
	xr_note_key_id("golden", pub, id);
	ck_assert_mem_eq(id, h, 4);
	ck_assert_mem_eq(g.key.id, "\x1b\xde\x06\x0a", 4);
	ck_assert_str_eq(g.key.name, "golden");
	ck_assert_mem_eq(g.seed, "\x01\x02\x03\x04", 4);
}
END_TEST

START_TEST(test_signer_init_errors)
{
	struct xr_signer s;
	uint8_t seed[32] = {0};
	struct xr_err err = {0};
	static const char *const bad[] = {
	    "",		 "a b",
	    "a+b",	 "caf\xc3\xa9",
	    "tab\there", "x234567890123456789012345678901234567890123456789012345678901234X",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		xr_err_clear(&err);
		memset(&s, 0x77, sizeof(s));
		ck_assert_int_eq(xr_signer_init(&s, bad[i], seed, &err), XR_EINVAL);
		ck_assert(strstr(err.msg, "key name") != NULL);
		ck_assert_uint_eq(s.key.name[0], 0x77);
	}
	/* 64 bytes and every printable character but '+' are fine. */
	ck_assert_int_eq(
	    xr_signer_init(&s, "x23456789012345678901234567890123456789012345678901234567890123X",
			   seed, NULL),
	    0);
	ck_assert_int_eq(xr_signer_init(&s, "!\"#$%&'()*,-./:;<=>?@[\\]^_`{|}~", seed, NULL), 0);
}
END_TEST

START_TEST(test_vkey_roundtrip)
{
	struct xr_signer g;
	struct xr_vkey k;
	char out[XR_VKEY_MAX];

	signer(&g, "golden", 1);
	memset(out, 0x55, sizeof(out));
	xr_vkey_format(&g.key, out);
	ck_assert_str_eq(out, golden_vkey);
	ck_assert_int_eq(xr_vkey_parse(golden_vkey, strlen(golden_vkey), &k, NULL), 0);
	ck_assert_str_eq(k.name, "golden");
	ck_assert_mem_eq(k.id, g.key.id, 4);
	ck_assert_mem_eq(k.pub, g.key.pub, 32);

	/* The longest name fills XR_VKEY_MAX exactly. */
	struct xr_signer l;
	char name[XR_NOTE_NAME_MAX + 1];
	memset(name, 'n', XR_NOTE_NAME_MAX);
	name[XR_NOTE_NAME_MAX] = '\0';
	signer(&l, name, 7);
	memset(out, 0x55, sizeof(out));
	xr_vkey_format(&l.key, out);
	ck_assert_uint_eq(strlen(out), XR_VKEY_MAX - 1);
	ck_assert_int_eq(xr_vkey_parse(out, strlen(out), &k, NULL), 0);
	ck_assert_mem_eq(&k, &l.key, sizeof(k));

	/* Parsing uses the length, not a terminating NUL. */
	char buf[200];
	snprintf(buf, sizeof(buf), "%sJUNK", golden_vkey);
	ck_assert_int_eq(xr_vkey_parse(buf, strlen(golden_vkey), &k, NULL), 0);
}
END_TEST

/* Builds "<name>+<hex id>+<base64 of raw>" with the id computed as given. */
static void make_vkey(
    char *out, size_t cap, const char *name, const uint8_t *raw, size_t rawlen, const char *hex)
{
	char b64[128];
	xr_b64_encode(raw, rawlen, b64);
	snprintf(out, cap, "%s+%s+%s", name, hex, b64);
}

START_TEST(test_vkey_malformed)
{
	struct xr_signer g;
	uint8_t raw[40];
	char hex[9], s[300], longname[70];
	signer(&g, "golden", 1);
	xr_hex_encode(g.key.id, 4, hex);
	raw[0] = 0x01;
	memcpy(raw + 1, g.key.pub, 32);

	struct {
		const char *text;
		const char *msg;
	} cases[] = {
	    {"", "has no '+'"},
	    {"golden", "has no '+'"},
	    {"golden1bde060aAXm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZk",
	     "key id '1' of verifier key golden1bde060aAXm1Vi6P5lT5QHixEuipi6eQH4U65pW is not"},
	    {"golden+1bde060a", "no '+' after the key id"},
	    {"golden+1bde060aAXm1Vi6P5lT5QHixEuipi6eQH4U65pW", "no '+' after the key id"},
	    {"+1bde060a+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZk", "key name is empty"},
	    {"gol den+1bde060a+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZk",
	     "has byte 0x20 at position 3"},
	    {"golden+1BDE060A+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZk",
	     "key id '1BDE060A' of verifier key golden is not 8 lower-case hex digits"},
	    {"golden+1bde060g+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZk",
	     "is not 8 lower-case hex"},
	    {"golden+1bde060+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZk", "key id '1bde060'"},
	    {"golden+1bde060a0+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZk", "key id '1bde060a0'"},
	    {"golden++AXm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZk", "key id ''"},
	    {"golden+1bde060b+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZk",
	     "key id 1bde060b of verifier key golden does not match its name and key (expected "
	     "1bde060a)"},
	    {"golden+1bde060a+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZ", "not a multiple of 4"},
	    {"golden+1bde060a+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZl",
	     "key id 1bde060a of verifier key golden does not match"},
	    {"golden+1bde060a+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZ=", "non-canonical"},
	    {"golden+1bde060a+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW+1-DjkQutBJZk",
	     "invalid base64 character"},
	    {"golden+1bde060a+", "is 0 bytes, expected 33"},
	    {"golden+1bde060a+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZk ",
	     "not a multiple of 4"},
	    {"golden+1bde060a+AXm1Vi6P5lT5QHixEuipi6eQH4U65pW+1+DjkQutBJZk\n",
	     "not a multiple of 4"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xr_err err = {0};
		struct xr_vkey k;
		memset(&k, 0x33, sizeof(k));
		int rc = xr_vkey_parse(cases[i].text, strlen(cases[i].text), &k, &err);
		ck_assert_msg(rc == XR_EINVAL, "case %zu accepted", i);
		ck_assert_msg(strstr(err.msg, cases[i].msg) != NULL, "case %zu: '%s' lacks '%s'", i,
			      err.msg, cases[i].msg);
		ck_assert_uint_eq((uint8_t)k.name[0], 0x33);
	}

	struct xr_err err = {0};
	struct xr_vkey k;
	/* Wrong key type byte (with a matching id for the rest). */
	raw[0] = 0x02;
	make_vkey(s, sizeof(s), "golden", raw, 33, hex);
	ck_assert_int_eq(xr_vkey_parse(s, strlen(s), &k, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "verifier key golden has key type 0x02, expected 0x01 (ed25519)");
	raw[0] = 0x01;
	/* Wrong lengths: 32 and 34 bytes. */
	xr_err_clear(&err);
	make_vkey(s, sizeof(s), "golden", raw, 32, hex);
	ck_assert_int_eq(xr_vkey_parse(s, strlen(s), &k, &err), XR_EINVAL);
	ck_assert(strstr(err.msg, "is 32 bytes, expected 33") != NULL);
	xr_err_clear(&err);
	raw[33] = 0;
	make_vkey(s, sizeof(s), "golden", raw, 34, hex);
	ck_assert_int_eq(xr_vkey_parse(s, strlen(s), &k, &err), XR_EINVAL);
	ck_assert(strstr(err.msg, "base64 decodes to 34 bytes, at most 33") != NULL);
	/* A 65-byte name, even with the id it would have. */
	xr_err_clear(&err);
	memset(longname, 'a', 65);
	longname[65] = '\0';
	uint8_t id[4];
	char idhex[9];
	xr_note_key_id(longname, g.key.pub, id);
	xr_hex_encode(id, 4, idhex);
	make_vkey(s, sizeof(s), longname, raw, 33, idhex);
	ck_assert_int_eq(xr_vkey_parse(s, strlen(s), &k, &err), XR_EINVAL);
	ck_assert(strstr(err.msg, "is 65 bytes, at most 64 allowed") != NULL);
	/* A name with a control character is shown escaped, on one line. */
	xr_err_clear(&err);
	make_vkey(s, sizeof(s), "a\nb", raw, 33, hex);
	ck_assert_int_eq(xr_vkey_parse(s, strlen(s), &k, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "verifier key: key name 'a\\x0ab' has byte 0x0a at position 1, "
				  "expected printable ascii without space or '+'");
}
END_TEST

START_TEST(test_vkeys_parse)
{
	struct xr_signer a, b, c;
	char va[XR_VKEY_MAX], vb[XR_VKEY_MAX], vc[XR_VKEY_MAX], text[1024];
	struct xr_vkey *keys = NULL;
	size_t n = 0;
	struct xr_err err = {0};

	signer(&a, "node1", 1);
	signer(&b, "node2", 2);
	signer(&c, "node3", 3);
	xr_vkey_format(&a.key, va);
	xr_vkey_format(&b.key, vb);
	xr_vkey_format(&c.key, vc);
	snprintf(text, sizeof(text), "# committee\n\n%s\n  \t\n   # indented comment\n%s\r\n  %s",
		 va, vb, vc);
	ck_assert_msg(xr_vkeys_parse(text, strlen(text), &keys, &n, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(n, 3);
	ck_assert_mem_eq(&keys[0], &a.key, sizeof(a.key));
	ck_assert_mem_eq(&keys[1], &b.key, sizeof(b.key));
	ck_assert_mem_eq(&keys[2], &c.key, sizeof(c.key));
	free(keys);

	/* The error names the line. */
	snprintf(text, sizeof(text), "# committee\n%s\n\n%s\nnode9+zz+AA==\n", va, vb);
	keys = (struct xr_vkey *)&n; /* not touched on failure */
	ck_assert_int_eq(xr_vkeys_parse(text, strlen(text), &keys, &n, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "line 5: key id 'zz' of verifier key node9 is not 8 lower-case "
				  "hex digits");
	ck_assert_ptr_eq(keys, (struct xr_vkey *)&n);

	/* The same name twice. */
	xr_err_clear(&err);
	snprintf(text, sizeof(text), "%s\n%s\n%s\n", va, vb, va);
	ck_assert_int_eq(xr_vkeys_parse(text, strlen(text), &keys, &n, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "line 3: key name 'node1' appears more than once");

	/* No keys at all. */
	xr_err_clear(&err);
	ck_assert_int_eq(xr_vkeys_parse("# only\n\n", 8, &keys, &n, &err), XR_EINVAL);
	ck_assert(strstr(err.msg, "no verifier keys") != NULL);
	xr_err_clear(&err);
	ck_assert_int_eq(xr_vkeys_parse("", 0, &keys, &n, &err), XR_EINVAL);

	/* A NUL inside the text is a bad key, not the end of the text. */
	xr_err_clear(&err);
	snprintf(text, sizeof(text), "%s\n%s", va, vb);
	size_t tl = strlen(text);
	text[strlen(va) + 3] = '\0';
	ck_assert_int_eq(xr_vkeys_parse(text, tl, &keys, &n, &err), XR_EINVAL);
	ck_assert(strncmp(err.msg, "line 2: ", 8) == 0);
}
END_TEST

START_TEST(test_vkeys_cap)
{
	struct xr_buf b;
	struct xr_vkey *keys = NULL;
	size_t n = 0;
	struct xr_err err = {0};
	struct xr_signer s;
	char name[16], vk[XR_VKEY_MAX];

	xr_buf_init(&b, 1 << 20);
	for (int i = 0; i < 1001; i++) {
		uint8_t seed[32] = {0};
		seed[0] = (uint8_t)i;
		seed[1] = (uint8_t)(i >> 8);
		snprintf(name, sizeof(name), "k%d", i);
		ck_assert_int_eq(xr_signer_init(&s, name, seed, NULL), 0);
		xr_vkey_format(&s.key, vk);
		xr_buf_put(&b, vk, strlen(vk));
		xr_buf_u8(&b, '\n');
		if (i == 999) {
			ck_assert_int_eq(
			    xr_vkeys_parse((const char *)b.data, b.len, &keys, &n, NULL), 0);
			ck_assert_uint_eq(n, 1000);
			ck_assert_str_eq(keys[999].name, "k999");
			free(keys);
		}
	}
	ck_assert_int_eq(xr_vkeys_parse((const char *)b.data, b.len, &keys, &n, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "line 1001: more than 1000 verifier keys");
	xr_buf_fini(&b);
}
END_TEST

START_TEST(test_golden_note)
{
	struct xr_signer s[2];
	struct xr_vkey keys[2];
	size_t len, tl;
	uint64_t bits;

	signer(&s[0], "golden", 1);
	signer(&s[1], "node2", 33);
	char *note = sign(golden_text, s, 2, &len);
	ck_assert_uint_eq(len, strlen(golden_note));
	ck_assert_str_eq(note, golden_note);
	/* Deterministic: signing again gives the same bytes. */
	size_t len2;
	char *again = sign(golden_text, s, 2, &len2);
	ck_assert_str_eq(again, note);
	free(again);

	keys[0] = s[0].key;
	keys[1] = s[1].key;
	ck_assert_int_eq(open_note(golden_note, strlen(golden_note), keys, 2, 2, &tl, &bits, NULL),
			 0);
	ck_assert_uint_eq(tl, strlen(golden_text));
	ck_assert_uint_eq(bits, 3);
	/* The vkey text of python parses into the same key. */
	ck_assert_int_eq(xr_vkey_parse(golden_vkey, strlen(golden_vkey), &keys[0], NULL), 0);
	ck_assert_int_eq(open_note(golden_note, strlen(golden_note), keys, 1, 1, &tl, &bits, NULL),
			 0);
	ck_assert_uint_eq(bits, 1);
	free(note);
}
END_TEST

START_TEST(test_sign_open)
{
	struct xr_signer s[3];
	struct xr_vkey keys[3];
	size_t len, tl;
	uint64_t bits;
	struct xr_err err = {0};
	const char *text = "hello\nworld\n";

	signer(&s[0], "node1", 1);
	signer(&s[1], "node2", 2);
	signer(&s[2], "node3", 3);
	for (int i = 0; i < 3; i++)
		keys[i] = s[i].key;

	/* One signer. */
	char *note = sign(text, s, 1, &len);
	ck_assert_int_eq(open_note(note, len, keys, 1, 1, &tl, &bits, NULL), 0);
	ck_assert_uint_eq(tl, strlen(text));
	ck_assert_mem_eq(note, text, tl);
	ck_assert_uint_eq(bits, 1);
	ck_assert_int_eq(open_note(note, len, keys, 3, 1, &tl, NULL, NULL), 0);
	expect_open_err(note, len, keys, 3, 2, XR_EVERIFY,
			"signed by 1 of 3 committee keys, 2 needed");
	free(note);

	/* Three signers, every threshold. */
	note = sign(text, s, 3, &len);
	for (size_t t = 1; t <= 3; t++) {
		bits = 0;
		ck_assert_int_eq(open_note(note, len, keys, 3, t, &tl, &bits, NULL), 0);
		ck_assert_uint_eq(bits, 7);
	}
	expect_open_err(note, len, keys, 3, 4, XR_EVERIFY,
			"signed by 3 of 3 committee keys, 4 needed");
	/* Keys in another order: the bits follow keys[]. */
	struct xr_vkey rev[3] = {keys[2], keys[0], keys[1]};
	ck_assert_int_eq(open_note(note, len, rev, 2, 2, &tl, &bits, NULL), 0);
	ck_assert_uint_eq(bits, 3);
	ck_assert_int_eq(open_note(note, len, rev + 2, 1, 1, &tl, &bits, NULL), 0);
	ck_assert_uint_eq(bits, 1);
	/* No known keys. */
	xr_err_clear(&err);
	ck_assert_int_eq(open_note(note, len, keys, 0, 1, &tl, &bits, &err), XR_EVERIFY);
	ck_assert_str_eq(err.msg, "signed by 0 of 0 committee keys, 1 needed");
	free(note);

	/* A note whose text holds a blank line: the split is at the last one. */
	const char *blank = "a\n\nb\n\n";
	note = sign(blank, s, 2, &len);
	ck_assert_int_eq(open_note(note, len, keys, 3, 2, &tl, &bits, NULL), 0);
	ck_assert_uint_eq(tl, strlen(blank));
	free(note);
	/* The smallest text. */
	note = sign("\n", s, 1, &len);
	ck_assert_int_eq(open_note(note, len, keys, 1, 1, &tl, &bits, NULL), 0);
	ck_assert_uint_eq(tl, 1);
	free(note);
	/* Unicode text is fine. */
	note = sign("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\n", s, 1, &len);
	ck_assert_int_eq(open_note(note, len, keys, 1, 1, &tl, &bits, NULL), 0);
	free(note);
}
END_TEST

START_TEST(test_unknown_keys)
{
	struct xr_signer s[3];
	struct xr_vkey keys[3];
	size_t len, tl;
	uint64_t bits;
	struct xr_err err = {0};

	signer(&s[0], "node1", 1);
	signer(&s[1], "outsider", 9);
	signer(&s[2], "node3", 3);
	keys[0] = s[0].key;
	keys[1] = s[2].key;
	char *note = sign("text\n", s, 3, &len);
	ck_assert_int_eq(open_note(note, len, keys, 2, 2, &tl, &bits, NULL), 0);
	ck_assert_uint_eq(bits, 3);
	ck_assert_int_eq(open_note(note, len, keys, 1, 1, &tl, &bits, NULL), 0);
	free(note);

	/* Only an unknown signer. */
	note = sign("text\n", s + 1, 1, &len);
	ck_assert_int_eq(open_note(note, len, keys, 1, 1, &tl, &bits, &err), XR_EVERIFY);
	ck_assert_str_eq(err.msg, "signed by 0 of 1 committee keys, 1 needed");
	free(note);

	/* A known name with another key (so another key id) is someone else:
	 * ignored, not a failed signature. */
	struct xr_signer imp;
	signer(&imp, "node1", 77);
	ck_assert(memcmp(imp.key.id, s[0].key.id, 4) != 0);
	note = sign("text\n", &imp, 1, &len);
	xr_err_clear(&err);
	ck_assert_int_eq(open_note(note, len, keys, 2, 1, &tl, &bits, &err), XR_EVERIFY);
	ck_assert_str_eq(err.msg, "signed by 0 of 2 committee keys, 1 needed");
	free(note);

	/* ... but with the right name and key id, a signature by another key
	 * is a failed signature that rejects the note. */
	struct xr_signer forged = imp;
	memcpy(forged.key.id, s[0].key.id, 4);
	struct xr_signer both[2] = {s[2], forged};
	note = sign("text\n", both, 2, &len);
	xr_err_clear(&err);
	ck_assert_int_eq(open_note(note, len, keys, 2, 1, &tl, &bits, &err), XR_EVERIFY);
	ck_assert_str_eq(err.msg, "signature by node1 does not verify");
	free(note);

	/* Cosignatures of other types (76 bytes: id, timestamp, signature) by
	 * unknown keys are ignored; by a known name and id they fail. */
	uint8_t raw[76];
	char b64[120], buf[512];
	memset(raw, 0xab, sizeof(raw));
	memcpy(raw, "\x01\x02\x03\x04", 4);
	xr_b64_encode(raw, sizeof(raw), b64);
	note = sign("text\n", s, 1, &len);
	snprintf(buf, sizeof(buf), "%s" EM "witness %s\n", note, b64);
	ck_assert_int_eq(open_note(buf, strlen(buf), keys, 2, 1, &tl, &bits, NULL), 0);
	memcpy(raw, s[2].key.id, 4);
	xr_b64_encode(raw, sizeof(raw), b64);
	snprintf(buf, sizeof(buf), "%s" EM "node3 %s\n", note, b64);
	expect_open_err(buf, strlen(buf), keys, 2, 1, XR_EVERIFY,
			"signature by node3 is 72 bytes, expected an ed25519 signature of 64");
	free(note);
}
END_TEST

START_TEST(test_duplicates)
{
	struct xr_signer s[3];
	struct xr_vkey keys[3];
	size_t len, tl;
	uint64_t bits;
	char buf[1024];

	signer(&s[0], "node1", 1);
	signer(&s[1], "node2", 2);
	signer(&s[2], "node3", 3);
	for (int i = 0; i < 3; i++)
		keys[i] = s[i].key;
	/* The same signer three times. */
	struct xr_signer same[3] = {s[0], s[0], s[0]};
	char *note = sign("text\n", same, 3, &len);
	ck_assert_int_eq(open_note(note, len, keys, 3, 1, &tl, &bits, NULL), 0);
	ck_assert_uint_eq(bits, 1);
	expect_open_err(note, len, keys, 3, 2, XR_EVERIFY,
			"signed by 1 of 3 committee keys, 2 needed");
	free(note);
	/* A line repeated at the end of a two-signer note. */
	note = sign("text\n", s, 2, &len);
	const char *last = strstr(note, EM "node2");
	snprintf(buf, sizeof(buf), "%s%s", note, last);
	ck_assert_int_eq(open_note(buf, strlen(buf), keys, 3, 2, &tl, &bits, NULL), 0);
	expect_open_err(buf, strlen(buf), keys, 3, 3, XR_EVERIFY,
			"signed by 2 of 3 committee keys, 3 needed");
	free(note);
	/* The same key listed twice in keys[] counts once too. */
	struct xr_vkey twice[2] = {keys[0], keys[0]};
	note = sign("text\n", s, 1, &len);
	ck_assert_int_eq(open_note(note, len, twice, 2, 1, &tl, &bits, NULL), 0);
	ck_assert_uint_eq(bits, 1);
	expect_open_err(note, len, twice, 2, 2, XR_EVERIFY, "signed by 1 of 2");
	free(note);
}
END_TEST

START_TEST(test_tampered)
{
	struct xr_signer s;
	struct xr_vkey key;
	size_t len, tl;
	char *note;

	signer(&s, "node1", 1);
	key = s.key;
	note = sign(golden_text, &s, 1, &len);
	size_t text_len = strlen(golden_text);
	/* Every byte of the text, changed to another printable byte. */
	for (size_t i = 0; i < text_len; i++) {
		if (note[i] == '\n')
			continue;
		char saved = note[i];
		note[i] = saved == 'x' ? 'y' : 'x';
		struct xr_err err = {0};
		int rc = open_note(note, len, &key, 1, 1, &tl, NULL, &err);
		EXPECT(rc == XR_EVERIFY &&
			   strcmp(err.msg, "signature by node1 does not verify") == 0,
		       "text byte %zu: rc %d %s", i, rc, err.msg);
		note[i] = saved;
	}
	/* Every character of the signature's base64. */
	const char *b64 = strrchr(note, ' ') + 1;
	for (size_t i = (size_t)(b64 - note); i < len - 1; i++) {
		if (note[i] == '=')
			continue;
		char saved = note[i];
		note[i] = saved == 'A' ? 'B' : 'A';
		struct xr_err err = {0};
		int rc = open_note(note, len, &key, 1, 1, &tl, NULL, &err);
		EXPECT(rc < 0, "signature char %zu accepted", i);
		/* The first 6 characters hold the key id: changing them makes
		 * the signer unknown. */
		if (i - (size_t)(b64 - note) >= 6 && i < len - 3)
			EXPECT(rc == XR_EVERIFY &&
				   strcmp(err.msg, "signature by node1 does not verify") == 0,
			       "signature char %zu: %s", i, err.msg);
		note[i] = saved;
	}
	ck_assert_int_eq(open_note(note, len, &key, 1, 1, &tl, NULL, NULL), 0);
	free(note);
}
END_TEST

START_TEST(test_structure)
{
	struct xr_signer s;
	struct xr_vkey key;
	size_t len;
	char buf[1024];

	signer(&s, "node1", 1);
	key = s.key;
	char *note = sign("text\n", &s, 1, &len);
	const char *line = note + 6; /* the signature line */

	/* Missing blank line. */
	snprintf(buf, sizeof(buf), "text\n%s", line);
	expect_open_err(buf, strlen(buf), &key, 1, 1, XR_EINVAL,
			"note has no blank line before its signatures");
	/* No signatures. */
	expect_open_err("text\n\n", 6, &key, 1, 1, XR_EINVAL, "note has no signature lines");
	expect_open_err("", 0, &key, 1, 1, XR_EINVAL, "no blank line");
	expect_open_err("\n\n", 2, &key, 1, 1, XR_EINVAL, "note has no signature lines");
	/* Signature without a final newline. */
	expect_open_err(note, len - 1, &key, 1, 1, XR_EINVAL,
			"malformed signature line 1: no final newline");
	/* A blank line after the signature: the split moves, the "text" then
	 * ends in a signature and nothing follows the last blank line. */
	snprintf(buf, sizeof(buf), "%s\n", note);
	expect_open_err(buf, strlen(buf), &key, 1, 1, XR_EINVAL, "note has no signature lines");

	/* Malformed second lines, after a good first one. */
	struct {
		const char *line, *msg;
	} bad[] = {
	    {"- node1 AAAAAAAA\n", "malformed signature line 2: does not start with an em dash"},
	    {EM "node1\n", "malformed signature line 2: has no space between key name"},
	    {EM " AAAAAAAA\n", "malformed signature line 2: key name is empty"},
	    {EM "no+de AAAAAAAA\n",
	     "malformed signature line 2: key name 'no+de' has a '+' at position 2"},
	    /* C2SP: no Unicode spaces in a name (U+00A0, U+2003, U+3000). */
	    {EM "n\xc2\xa0x AAAAAAAA\n",
	     "malformed signature line 2: key name 'n\\xc2\\xa0x' has a unicode space at "
	     "position 1"},
	    {EM "\xe2\x80\x83x AAAAAAAA\n", "key name '\\xe2\\x80\\x83x' has a unicode space"},
	    {EM "x\xe3\x80\x80 AAAAAAAA\n", "has a unicode space at position 1"},
	    {EM "node1 AAAAAAAA AAAA\n", "malformed signature line 2: base64 length 13"},
	    {EM "node1 \n", "signature '' of 0 bytes is shorter"},
	    {EM "node1 AAAAAA==\n", "signature 'AAAAAA==' of 4 bytes is shorter"},
	    {EM "node1 AAAA=AAA\n", "malformed signature line 2: invalid base64 character"},
	    {EM "node1 AAAAAAB=\n", "malformed signature line 2: non-canonical base64"},
	    {"\xe2\x80\x94node1 AAAAAAAA\n", "does not start with an em dash and a space"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(buf, sizeof(buf), "%s%s", note, bad[i].line);
		expect_open_err(buf, strlen(buf), &key, 1, 1, XR_EINVAL, bad[i].msg);
	}

	/* 100 signature lines are fine, 101 are not. */
	struct xr_buf b;
	xr_buf_init(&b, 1 << 20);
	xr_buf_put(&b, note, len);
	for (int i = 1; i < 100; i++)
		xr_buf_put(&b, line, strlen(line));
	size_t tl;
	ck_assert_int_eq(open_note((const char *)b.data, b.len, &key, 1, 1, &tl, NULL, NULL), 0);
	xr_buf_put(&b, line, strlen(line));
	expect_open_err((const char *)b.data, b.len, &key, 1, 1, XR_EINVAL,
			"note has more than 100 signature lines");
	xr_buf_fini(&b);
	free(note);
}
END_TEST

START_TEST(test_control_chars)
{
	struct xr_signer s;
	struct xr_vkey key;
	size_t len;
	struct xr_buf out;
	char buf[1024];

	signer(&s, "node1", 1);
	key = s.key;
	xr_buf_init(&out, 1 << 20);
	static const char *const texts[] = {
	    "a\tb\n", "a\rb\n", "a\x7f\n", "a\x1b[0m\n", "\x01\n",
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct xr_err err = {0};
		ck_assert_int_eq(xr_note_sign(texts[i], strlen(texts[i]), &s, 1, &out, &err),
				 XR_EINVAL);
		ck_assert(strstr(err.msg, "note text has control character 0x") != NULL);
		ck_assert_uint_eq(out.len, 0);
	}
	/* NUL inside the text. */
	struct xr_err err = {0};
	ck_assert_int_eq(xr_note_sign("a\0b\n", 4, &s, 1, &out, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "note text has control character 0x00 at offset 1");
	/* Invalid UTF-8: a lone continuation byte, an overlong '/', a
	 * surrogate, a truncated sequence. */
	static const char *const bad_utf8[] = {"a\x80\n", "\xc0\xaf\n", "\xed\xa0\x80\n",
					       "\xe2\x82\n", "\xf4\x90\x80\x80\n"};
	for (size_t i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++) {
		xr_err_clear(&err);
		ck_assert_int_eq(xr_note_sign(bad_utf8[i], strlen(bad_utf8[i]), &s, 1, &out, &err),
				 XR_EINVAL);
		ck_assert(strstr(err.msg, "invalid utf-8") != NULL);
	}
	/* Text not ending in a newline, or empty. */
	xr_err_clear(&err);
	ck_assert_int_eq(xr_note_sign("abc", 3, &s, 1, &out, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "note text must end in a newline");
	ck_assert_int_eq(xr_note_sign("", 0, &s, 1, &out, NULL), XR_EINVAL);
	/* No signers, too many signers. */
	ck_assert_int_eq(xr_note_sign("a\n", 2, &s, 0, &out, NULL), XR_EINVAL);
	ck_assert_int_eq(xr_note_sign("a\n", 2, &s, 101, &out, NULL), XR_EINVAL);
	ck_assert_uint_eq(out.len, 0);
	xr_buf_fini(&out);

	/* Control characters in a note, anywhere, reject it on opening. */
	char *note = sign("text\n", &s, 1, &len);
	for (size_t i = 0; i < len; i++) {
		if (note[i] == '\n')
			continue;
		memcpy(buf, note, len);
		buf[i] = '\r';
		xr_err_clear(&err);
		size_t tl;
		int rc = open_note(buf, len, &key, 1, 1, &tl, NULL, &err);
		/* Inside the em dash the broken sequence is found first. */
		EXPECT(rc == XR_EINVAL && (strstr(err.msg, "note has control character 0x0d") ||
					   strstr(err.msg, "note has invalid utf-8")),
		       "offset %zu: %s", i, err.msg);
	}
	free(note);
}
END_TEST

START_TEST(test_sizes)
{
	struct xr_signer s[100];
	struct xr_vkey key;
	struct xr_buf out, big;
	struct xr_err err = {0};
	size_t tl;

	signer(&s[0], "node1", 1);
	key = s[0].key;
	/* The largest text signs and opens. */
	xr_buf_init(&big, 1 << 20);
	for (size_t i = 0; i + 1 < XR_NOTE_TEXT_MAX; i++)
		xr_buf_u8(&big, (uint8_t)('a' + i % 26));
	xr_buf_u8(&big, '\n');
	xr_buf_init(&out, 1 << 20);
	ck_assert_msg(xr_note_sign((const char *)big.data, big.len, s, 1, &out, &err) == 0, "%s",
		      err.msg);
	ck_assert_int_eq(open_note((const char *)out.data, out.len, &key, 1, 1, &tl, NULL, NULL),
			 0);
	ck_assert_uint_eq(tl, XR_NOTE_TEXT_MAX);
	/* One byte more is refused by both sides. */
	big.data[big.len - 1] = 'z';
	xr_buf_u8(&big, '\n');
	xr_buf_reset(&out);
	ck_assert_int_eq(xr_note_sign((const char *)big.data, big.len, s, 1, &out, &err),
			 XR_EINVAL);
	ck_assert_str_eq(err.msg, "note text of 65537 bytes exceeds the maximum 65536");
	ck_assert_uint_eq(out.len, 0);
	xr_buf_reset(&out);
	xr_buf_put(&out, big.data, big.len);
	xr_buf_put(&out, "\n" EM "node1 AAAAAAAA\n", 19);
	expect_open_err((const char *)out.data, out.len, &key, 1, 1, XR_EINVAL,
			"note text of 65537 bytes exceeds the maximum 65536");
	/* A whole note one byte over the cap is refused before it is read. */
	xr_buf_reset(&out);
	xr_buf_put(&out, "t\n\n", 3);
	while (out.len < XR_NOTE_MAX_LEN + 1)
		xr_buf_u8(&out, 'a');
	expect_open_err((const char *)out.data, out.len, &key, 1, 1, XR_EINVAL,
			"note of 262145 bytes exceeds the maximum 262144");
	xr_buf_fini(&out);
	xr_buf_fini(&big);

	/* An output buffer that is too small is left as it was. */
	xr_buf_init(&out, 50);
	xr_buf_put(&out, "keep", 4);
	xr_err_clear(&err);
	ck_assert_int_eq(xr_note_sign("text\n", 5, s, 1, &out, &err), XR_ENOMEM);
	ck_assert_uint_eq(out.len, 4);
	xr_buf_fini(&out);

	/* 100 signers sign; 101 do not. */
	char name[16];
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		signer(&s[i], name, (uint8_t)i);
	}
	xr_buf_init(&out, 1 << 20);
	ck_assert_int_eq(xr_note_sign("t\n", 2, s, 100, &out, NULL), 0);
	struct xr_vkey keys[100];
	for (int i = 0; i < 100; i++)
		keys[i] = s[i].key;
	uint64_t bits;
	ck_assert_int_eq(
	    open_note((const char *)out.data, out.len, keys, 100, 67, &tl, &bits, NULL), 0);
	/* Only the first 64 keys are reported. */
	ck_assert_uint_eq(bits, UINT64_MAX);
	xr_buf_fini(&out);
}
END_TEST

/* Appends one signature line "— <name> <base64(id || n bytes)>" to b. */
static void put_sig_line(struct xr_buf *b, const char *name, size_t nl, uint8_t fill, size_t n)
{
	uint8_t *raw = malloc(n);
	char *b64 = malloc(xr_b64_len(n) + 1);
	ck_assert(raw && b64);
	for (size_t i = 0; i < n; i++)
		raw[i] = (uint8_t)(fill + i * 7);
	xr_b64_encode(raw, n, b64);
	xr_buf_put(b, EM, 4);
	xr_buf_put(b, name, nl);
	xr_buf_u8(b, ' ');
	xr_buf_put(b, b64, strlen(b64));
	xr_buf_u8(b, '\n');
	ck_assert(!b->failed);
	free(raw);
	free(b64);
}

/* C2SP signed-note: verifiers MUST ignore signatures from unknown keys, and
 * a key name is any non-empty UTF-8 without Unicode spaces or '+': names
 * longer than ours or outside ASCII are someone else's, not malformed. */
START_TEST(test_foreign_names)
{
	struct xr_signer s;
	size_t len, tl;
	uint64_t bits;
	struct xr_err err = {0};
	char longname[301];

	signer(&s, "node1", 1);
	memset(longname, 'w', 300);
	memcpy(longname, "witness.example/", 16);
	longname[300] = '\0';
	const char *const names[] = {
	    "x234567890123456789012345678901234567890123456789012345678901234X5", /* 65 */
	    longname,
	    "w\xc3\xaftness.example/\xc3\xbc", /* wïtness.example/ü */
	    "\xe4\xbe\x8b\xe3\x81\x88.jp/log", /* 例え.jp/log */
	    "\xf0\x9f\x98\x80",		       /* an emoji */
	    "https://example.com:443/a?b=c#d", /* anything printable */
	    "node1\xc3\xa9",		       /* a known name and more */
	};
	char *note = sign("text\n", &s, 1, &len);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct xr_buf b;
		xr_buf_init(&b, 1 << 20);
		/* The unknown line first and last, with an ed25519-sized and a
		 * cosignature-sized (76-byte) signature. */
		xr_buf_put(&b, "text\n\n", 6);
		put_sig_line(&b, names[i], strlen(names[i]), (uint8_t)i, 68);
		xr_buf_put(&b, note + 6, len - 6);
		put_sig_line(&b, names[i], strlen(names[i]), (uint8_t)i, 76);
		xr_err_clear(&err);
		bits = 0;
		int rc = open_note((const char *)b.data, b.len, &s.key, 1, 1, &tl, &bits, &err);
		ck_assert_msg(rc == 0, "name %zu: %s", i, err.msg);
		ck_assert_uint_eq(bits, 1);
		ck_assert_uint_eq(tl, 5);
		/* Alone, such a line is still not a known signature. */
		b.len = 0;
		xr_buf_put(&b, "text\n\n", 6);
		put_sig_line(&b, names[i], strlen(names[i]), (uint8_t)i, 68);
		expect_open_err((const char *)b.data, b.len, &s.key, 1, 1, XR_EVERIFY,
				"signed by 0 of 1 committee keys, 1 needed");
		xr_buf_fini(&b);
	}
	free(note);
}
END_TEST

/* C2SP signed-note: verifiers MUST accept at least 16 signatures, and
 * post-quantum ones are nearly 5 kB. The largest text, our signature and
 * 16 cosignatures of XR_NOTE_SIG_ADMITTED bytes under names of
 * XR_NOTE_NAME_ADMITTED bytes open; so do 16 ML-DSA-87-sized ones beside a
 * real checkpoint. */
START_TEST(test_sixteen_large_sigs)
{
	struct xr_signer s;
	struct xr_buf text, out;
	char *name = malloc(XR_NOTE_NAME_ADMITTED + 1);
	size_t tl;
	uint64_t bits;
	struct xr_err err = {0};

	signer(&s, "node1", 1);
	xr_buf_init(&text, 1 << 20);
	for (size_t i = 0; i + 1 < XR_NOTE_TEXT_MAX; i++)
		xr_buf_u8(&text, (uint8_t)('a' + i % 26));
	xr_buf_u8(&text, '\n');
	xr_buf_init(&out, 1 << 20);
	ck_assert_int_eq(xr_note_sign((const char *)text.data, text.len, &s, 1, &out, NULL), 0);
	/* Names of two-byte characters ("é"), XR_NOTE_NAME_ADMITTED bytes. */
	for (size_t i = 0; i < XR_NOTE_NAME_ADMITTED; i += 2)
		memcpy(name + i, "\xc3\xa9", 2);
	for (int k = 0; k < XR_NOTE_SIGS_ADMITTED; k++) {
		name[0] = (char)('a' + k);
		name[1] = '/';
		put_sig_line(&out, name, XR_NOTE_NAME_ADMITTED, (uint8_t)k, XR_NOTE_SIG_ADMITTED);
	}
	ck_assert_uint_le(out.len, XR_NOTE_MAX_LEN);
	ck_assert_msg(open_note((const char *)out.data, out.len, &s.key, 1, 1, &tl, &bits, &err) ==
			  0,
		      "%s", err.msg);
	ck_assert_uint_eq(tl, XR_NOTE_TEXT_MAX);
	ck_assert_uint_eq(bits, 1);

	/* 16 ML-DSA-87 cosignatures (4-byte id and 4627 bytes) on a checkpoint,
	 * ours in the middle. */
	xr_buf_reset(&out);
	xr_buf_put(&out, golden_text, strlen(golden_text));
	xr_buf_u8(&out, '\n');
	char wname[64];
	for (int k = 0; k < 16; k++) {
		int n = snprintf(wname, sizeof(wname), "witness%d.example.org/ml-dsa-87", k);
		put_sig_line(&out, wname, (size_t)n, (uint8_t)k, 4 + 4627);
		if (k == 7) {
			size_t nl;
			char *mine = sign(golden_text, &s, 1, &nl);
			size_t t0 = strlen(golden_text) + 1;
			xr_buf_put(&out, mine + t0, nl - t0);
			free(mine);
		}
	}
	ck_assert_uint_gt(out.len, 65536);
	xr_err_clear(&err);
	ck_assert_msg(open_note((const char *)out.data, out.len, &s.key, 1, 1, &tl, &bits, &err) ==
			  0,
		      "%s", err.msg);
	ck_assert_uint_eq(tl, strlen(golden_text));
	xr_buf_fini(&out);
	xr_buf_fini(&text);
	free(name);
}
END_TEST

/* A threshold counts public keys, not entries of keys[]: one key under two
 * names (two key ids) signs twice but is one signer. */
START_TEST(test_distinct_keys)
{
	struct xr_signer a, alias, b;
	struct xr_vkey keys[3];
	size_t len, tl;
	uint64_t bits;

	signer(&a, "node1", 1);
	signer(&alias, "node1-again", 1);
	signer(&b, "node2", 2);
	ck_assert_mem_eq(a.key.pub, alias.key.pub, 32);
	ck_assert(memcmp(a.key.id, alias.key.id, 4) != 0);
	keys[0] = a.key;
	keys[1] = alias.key;
	keys[2] = b.key;
	struct xr_signer two[2] = {a, alias};
	char *note = sign("text\n", two, 2, &len);
	ck_assert_int_eq(open_note(note, len, keys, 3, 1, &tl, &bits, NULL), 0);
	ck_assert_uint_eq(bits, 3); /* both entries signed... */
	expect_open_err(note, len, keys, 3, 2, XR_EVERIFY,
			"signed by 1 of 3 committee keys, 2 needed"); /* ...as one key */
	free(note);
	struct xr_signer three[3] = {alias, b, a};
	note = sign("text\n", three, 3, &len);
	ck_assert_int_eq(open_note(note, len, keys, 3, 2, &tl, &bits, NULL), 0);
	ck_assert_uint_eq(bits, 7);
	expect_open_err(note, len, keys, 3, 3, XR_EVERIFY,
			"signed by 2 of 3 committee keys, 3 needed");
	free(note);

	/* A committee file refuses such a pair outright. */
	char va[XR_VKEY_MAX], vb[XR_VKEY_MAX], text[512];
	struct xr_vkey *parsed = NULL;
	size_t n = 0;
	struct xr_err err = {0};
	xr_vkey_format(&a.key, va);
	xr_vkey_format(&alias.key, vb);
	snprintf(text, sizeof(text), "%s\n%s\n", va, vb);
	ck_assert_int_eq(xr_vkeys_parse(text, strlen(text), &parsed, &n, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "line 2: key 'node1-again' is the public key of 'node1' again");
	ck_assert_ptr_null(parsed);
}
END_TEST

/* A threshold of 0 would accept a note that no known key signed: the
 * library refuses it rather than trusting every caller to. */
START_TEST(test_threshold_zero)
{
	struct xr_signer s, stranger;
	size_t len;

	signer(&s, "node1", 1);
	signer(&stranger, "stranger", 9);
	char *note = sign("text\n", &stranger, 1, &len);
	expect_open_err(note, len, &s.key, 1, 0, XR_EINVAL, "a threshold of 0");
	expect_open_err(note, len, NULL, 0, 0, XR_EINVAL, "at least 1 is needed");
	free(note);
	note = sign("text\n", &s, 1, &len);
	expect_open_err(note, len, &s.key, 1, 0, XR_EINVAL, "a threshold of 0");
	free(note);
}
END_TEST

/* A committee file names the log its keys verify: "origin <origin>". */
START_TEST(test_committee_origin)
{
	struct xr_signer a, b;
	char va[XR_VKEY_MAX], vb[XR_VKEY_MAX], text[1024], origin[XR_ORIGIN_MAX + 1];
	struct xr_vkey *keys = NULL;
	size_t n = 0;
	struct xr_err err = {0};

	signer(&a, "node1", 1);
	signer(&b, "node2", 2);
	xr_vkey_format(&a.key, va);
	xr_vkey_format(&b.key, vb);
	snprintf(text, sizeof(text), "# committee\norigin bsn-local/xrelay\n%s\n%s\n", va, vb);
	ck_assert_int_eq(xr_committee_parse(text, strlen(text), origin, &keys, &n, &err), 0);
	ck_assert_str_eq(origin, "bsn-local/xrelay");
	ck_assert_uint_eq(n, 2);
	ck_assert_mem_eq(&keys[1], &b.key, sizeof(b.key));
	free(keys);
	/* The node's loader (xr_vkeys_parse) reads the same file. */
	ck_assert_int_eq(xr_vkeys_parse(text, strlen(text), &keys, &n, NULL), 0);
	ck_assert_uint_eq(n, 2);
	free(keys);
	/* Anywhere in the file, blanks trimmed; unicode is fine. */
	snprintf(text, sizeof(text), "%s\n  origin   r\xc3\xa9seau/xrelay \t\r\n%s", va, vb);
	ck_assert_int_eq(xr_committee_parse(text, strlen(text), origin, &keys, &n, NULL), 0);
	ck_assert_str_eq(origin, "r\xc3\xa9seau/xrelay");
	free(keys);
	/* None: the caller decides. */
	snprintf(text, sizeof(text), "%s\n", va);
	ck_assert_int_eq(xr_committee_parse(text, strlen(text), origin, &keys, &n, NULL), 0);
	ck_assert_str_eq(origin, "");
	free(keys);

	char big[7 + XR_ORIGIN_MAX + 2];
	memset(big, 'o', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	struct {
		const char *line, *msg;
	} bad[] = {
	    {"origin a/b\norigin a/b", "line 3: a second origin line, 'origin a/b'"},
	    {"origin ", "line 2: origin '' is 0 bytes, expected 1..128"},
	    {"origin \xff", "line 2: origin has invalid utf-8 at offset 0"},
	    {"origin a\x01", "line 2: origin has control character 0x01 at offset 1"},
	    {big, "is 129 bytes, expected 1..128"},
	    {"origin", "line 2: origin '' is 0 bytes"},
	    {"origin\t", "line 2: origin '' is 0 bytes"},
	    {"origins a/b", "line 2: verifier key 'origins a/b' has no '+'"},
	};
	memcpy(big, "origin ", 7);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "%s\n%s\n%s\n", va, bad[i].line, vb);
		keys = (struct xr_vkey *)&n; /* not touched on failure */
		memcpy(origin, "keep", 5);
		xr_err_clear(&err);
		ck_assert_int_eq(xr_committee_parse(text, strlen(text), origin, &keys, &n, &err),
				 XR_EINVAL);
		ck_assert_msg(strstr(err.msg, bad[i].msg), "case %zu: '%s' lacks '%s'", i, err.msg,
			      bad[i].msg);
		ck_assert_ptr_eq(keys, (struct xr_vkey *)&n);
		ck_assert_str_eq(origin, "keep");
	}
}
END_TEST

/* The ledger signs a text that lives in the output buffer it appends to. */
START_TEST(test_sign_aliasing)
{
	struct xr_signer s;
	struct xr_buf b;
	size_t len;

	signer(&s, "golden", 1);
	xr_buf_init(&b, 1 << 20);
	xr_buf_put(&b, golden_text, strlen(golden_text));
	size_t tl = b.len;
	ck_assert_int_eq(xr_note_sign((const char *)b.data, tl, &s, 1, &b, NULL), 0);
	ck_assert_mem_eq(b.data, golden_text, tl);
	char *want = sign(golden_text, &s, 1, &len);
	ck_assert_uint_eq(b.len, tl + len);
	ck_assert_mem_eq(b.data + tl, want, len);
	free(want);
	xr_buf_fini(&b);
}
END_TEST

/* Every prefix of a real note is rejected, and none crashes. */
START_TEST(test_truncation)
{
	struct xr_signer s[3];
	struct xr_vkey keys[3];
	size_t len, tl;

	signer(&s[0], "node1", 1);
	signer(&s[1], "node2", 2);
	signer(&s[2], "node3", 3);
	for (int i = 0; i < 3; i++)
		keys[i] = s[i].key;
	char *note = sign(golden_text, s, 3, &len);
	for (size_t n = 0; n < len; n++) {
		struct xr_err err = {0};
		/* With threshold 1 a cut after the first full signature line
		 * would still be a note (it is: two lines dropped). */
		int rc = open_note(note, n, keys, 3, 3, &tl, NULL, &err);
		EXPECT(rc < 0, "prefix of %zu bytes accepted", n);
		EXPECT(err.msg[0] != '\0' && strchr(err.msg, '\n') == NULL, "prefix %zu: '%s'", n,
		       err.msg);
	}
	/* Threshold 1: only the cuts at a line end after a signature open. */
	size_t ok = 0;
	for (size_t n = 0; n <= len; n++)
		if (open_note(note, n, keys, 3, 1, &tl, NULL, NULL) == 0)
			ok++;
	ck_assert_uint_eq(ok, 3);
	free(note);
}
END_TEST

/* --- checkpoints ------------------------------------------------------------- */

static void golden_checkpoint(struct xr_checkpoint *c)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->origin, "example.com/xrelay", 19);
	c->size = 5;
	xr_sha256("root", 4, c->root);
	c->block = 2;
	c->time_ms = 1700000000000ull;
	xr_sha256("prev", 4, c->prev);
}

START_TEST(test_checkpoint_roundtrip)
{
	struct xr_checkpoint c, d;
	struct xr_buf b;

	golden_checkpoint(&c);
	xr_buf_init(&b, 4096);
	ck_assert_int_eq(xr_checkpoint_format(&c, &b, NULL), 0);
	ck_assert_uint_eq(b.len, strlen(golden_text));
	ck_assert_mem_eq(b.data, golden_text, b.len);
	memset(&d, 0xee, sizeof(d));
	ck_assert_int_eq(xr_checkpoint_parse((const char *)b.data, b.len, &d, NULL), 0);
	ck_assert_mem_eq(&c, &d, sizeof(c));

	/* Extremes. */
	static const uint64_t vals[] = {0, 1, 9, 10, 1234567890123ull, UINT64_MAX};
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		golden_checkpoint(&c);
		c.size = vals[i];
		c.block = vals[(i + 1) % 6];
		c.time_ms = vals[(i + 2) % 6];
		memset(c.root, (int)i * 37, 32);
		memset(c.prev, 0, 32);
		memset(c.origin, 0, sizeof(c.origin));
		memset(c.origin, 'o', i == 5 ? XR_ORIGIN_MAX : i + 1);
		xr_buf_reset(&b);
		ck_assert_int_eq(xr_checkpoint_format(&c, &b, NULL), 0);
		ck_assert_int_eq(xr_checkpoint_parse((const char *)b.data, b.len, &d, NULL), 0);
		ck_assert_mem_eq(&c, &d, sizeof(c));
	}
	xr_buf_reset(&b);
	c.size = UINT64_MAX;
	c.block = 0;
	c.time_ms = 10;
	memcpy(c.origin, "x", 2);
	memset(c.root, 0, 32);
	ck_assert_int_eq(xr_checkpoint_format(&c, &b, NULL), 0);
	xr_buf_u8(&b, 0);
	ck_assert_str_eq((const char *)b.data,
			 "x\n18446744073709551615\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
			 "block 0\ntime 10\nprev AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n");
	xr_buf_fini(&b);

	/* A unicode origin. */
	golden_checkpoint(&c);
	memcpy(c.origin, "r\xc3\xa9seau/xrelay", 15);
	xr_buf_init(&b, 4096);
	ck_assert_int_eq(xr_checkpoint_format(&c, &b, NULL), 0);
	ck_assert_int_eq(xr_checkpoint_parse((const char *)b.data, b.len, &d, NULL), 0);
	ck_assert_str_eq(d.origin, c.origin);
	xr_buf_fini(&b);
}
END_TEST

START_TEST(test_checkpoint_format_errors)
{
	struct xr_checkpoint c;
	struct xr_buf b;
	struct xr_err err = {0};

	xr_buf_init(&b, 4096);
	golden_checkpoint(&c);
	c.origin[0] = '\0';
	ck_assert_int_eq(xr_checkpoint_format(&c, &b, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "checkpoint origin must be 1..128 bytes");
	golden_checkpoint(&c);
	memset(c.origin, 'o', sizeof(c.origin));
	ck_assert_int_eq(xr_checkpoint_format(&c, &b, NULL), XR_EINVAL);
	golden_checkpoint(&c);
	c.origin[3] = '\n';
	xr_err_clear(&err);
	ck_assert_int_eq(xr_checkpoint_format(&c, &b, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "checkpoint origin has control character 0x0a at offset 3");
	ck_assert_uint_eq(b.len, 0);
	xr_buf_fini(&b);
	/* Too small a buffer: nothing is appended. */
	xr_buf_init(&b, 20);
	golden_checkpoint(&c);
	ck_assert_int_eq(xr_checkpoint_format(&c, &b, NULL), XR_ENOMEM);
	ck_assert_uint_eq(b.len, 0);
	xr_buf_fini(&b);
}
END_TEST

#define ROOT "SBNJTRN+FjG7owHVrKtue7eqdM4RhdRWVl71HXN2d7I="
#define PREV "hP2brDM615FUNIKWIE+n+MU3qW4ImD5fc7P1rKjo7fc="

static const struct {
	const char *text, *msg;
} bad_checkpoints[] = {
    {"", "checkpoint has 0 lines, expected 6"},
    {"o\n5\n" ROOT "\nblock 2\ntime 1\n", "checkpoint has 5 lines, expected 6"},
    {"o\n5\n" ROOT "\nblock 2\ntime 1\nprev " PREV, "checkpoint line 6 does not end in a newline"},
    {"o\n5\n" ROOT "\nblock 2\ntime 1\nprev " PREV "\n\n", "checkpoint has text after line 6"},
    {"o\n5\n" ROOT "\nblock 2\ntime 1\nprev " PREV "\nextra\n",
     "checkpoint has text after line 6: 'extra\\x0a'"},
    {"o\n5\n" ROOT "\nblock 2\nprev " PREV "\ntime 1\n",
     "checkpoint line 5 is 'prev hP2brDM615FUNIKWIE+n+MU3qW4ImD5fc7P1rKjo7fc...', expected "
     "'time <...>'"},
    {"o\n5\n" ROOT "\nblock 2\ntime 1\n" PREV "\n", "checkpoint line 6 is"},
    {"\n5\n" ROOT "\nblock 2\ntime 1\nprev " PREV "\n", "checkpoint origin '' is 0 bytes"},
    {"o\n05\n" ROOT "\nblock 2\ntime 1\nprev " PREV "\n",
     "checkpoint size '05' has a leading zero"},
    {"o\n00\n" ROOT "\nblock 2\ntime 1\nprev " PREV "\n", "has a leading zero"},
    {"o\n+5\n" ROOT "\nblock 2\ntime 1\nprev " PREV "\n",
     "checkpoint size '+5' is not a decimal number"},
    {"o\n-5\n" ROOT "\nblock 2\ntime 1\nprev " PREV "\n", "is not a decimal number"},
    {"o\n5 \n" ROOT "\nblock 2\ntime 1\nprev " PREV "\n", "is not a decimal number"},
    {"o\n\n" ROOT "\nblock 2\ntime 1\nprev " PREV "\n", "checkpoint size is empty"},
    {"o\n0x5\n" ROOT "\nblock 2\ntime 1\nprev " PREV "\n", "size '0x5' has a leading zero"},
    {"o\n5x\n" ROOT "\nblock 2\ntime 1\nprev " PREV "\n", "size '5x' is not a decimal number"},
    {"o\n18446744073709551616\n" ROOT "\nblock 2\ntime 1\nprev " PREV "\n",
     "checkpoint size '18446744073709551616' does not fit in 64 bits"},
    {"o\n99999999999999999999\n" ROOT "\nblock 2\ntime 1\nprev " PREV "\n",
     "does not fit in 64 bits"},
    {"o\n5\n" ROOT "\nblock 02\ntime 1\nprev " PREV "\n", "checkpoint block '02' has a leading"},
    {"o\n5\n" ROOT "\nblock 2\ntime 01\nprev " PREV "\n", "checkpoint time '01' has a leading"},
    {"o\n5\n" ROOT "\nblock 2\ntime 18446744073709551616\nprev " PREV "\n",
     "checkpoint time '18446744073709551616' does not fit"},
    {"o\n5\n" ROOT "\nblock\ntime 1\nprev " PREV "\n",
     "checkpoint line 4 is 'block', expected 'block <...>'"},
    {"o\n5\n" ROOT "\nblock \ntime 1\nprev " PREV "\n", "checkpoint block is empty"},
    {"o\n5\n" ROOT "\nblock  2\ntime 1\nprev " PREV "\n", "checkpoint block ' 2' is not"},
    {"o\n5\n" ROOT "\nBlock 2\ntime 1\nprev " PREV "\n", "checkpoint line 4 is 'Block 2'"},
    {"o\n5\n" ROOT "\nblocks 2\ntime 1\nprev " PREV "\n", "checkpoint line 4 is 'blocks 2'"},
    {"o\n5\n" ROOT "\nblock\t2\ntime 1\nprev " PREV "\n", "control character 0x09"},
    {"o\n5\n" ROOT "\nblock 2\ntime 1\nprev  " PREV "\n", "checkpoint prev ' hP2b"},
    {"o\n5\n" ROOT "\nblock 2\ntime 1\nprev\n", "checkpoint line 6 is 'prev'"},
    {"o\n5\nSBNJTRN+FjG7owHVrKtue7eqdM4RhdRWVl71HXN2d7I\nblock 2\ntime 1\nprev " PREV "\n",
     "not a multiple of 4"},
    {"o\n5\nSBNJTRN+FjG7owHVrKtue7eqdM4RhdRWVl71HXN2d7J=\nblock 2\ntime 1\nprev " PREV "\n",
     "non-canonical base64"},
    {"o\n5\nSBNJTRN-FjG7owHVrKtue7eqdM4RhdRWVl71HXN2d7I=\nblock 2\ntime 1\nprev " PREV "\n",
     "invalid base64 character at position 7"},
    /* 31 and 33 bytes, each in 44 characters. */
    {"o\n5\nSBNJTRN+FjG7owHVrKtue7eqdM4RhdRWVl71HXN2dw==\nblock 2\ntime 1\nprev " PREV "\n",
     "checkpoint root 'SBNJTRN+FjG7owHVrKtue7eqdM4RhdRWVl71HXN2dw==' is 31 bytes, expected a "
     "32-byte hash"},
    {"o\n5\nSBNJTRN+FjG7owHVrKtue7eqdM4RhdRWVl71HXN2d7IA\nblock 2\ntime 1\nprev " PREV "\n",
     "is 33 bytes, expected a 32-byte hash"},
    {"o\n5\nSBNJTRN+FjG7owHVrKtue7eqdM4RhdRWVl71HXN2d7I=AAAA\nblock 2\ntime 1\nprev " PREV "\n",
     "base64 decodes to 36 bytes"},
    {"o\n5\n\nblock 2\ntime 1\nprev " PREV "\n", "checkpoint root '' is 0 bytes"},
    {"o\n5\n" ROOT "\nblock 2\ntime 1\nprev AAAA\n", "checkpoint prev 'AAAA' is 3 bytes"},
    {"o\r\n5\n" ROOT "\nblock 2\ntime 1\nprev " PREV "\n",
     "checkpoint has control character 0x0d at offset 1"},
    {"o\n5\r\n" ROOT "\nblock 2\ntime 1\nprev " PREV "\n", "control character 0x0d"},
    {"o\xff\n5\n" ROOT "\nblock 2\ntime 1\nprev " PREV "\n", "checkpoint has invalid utf-8"},
    /* The signature part is not the text. */
    {"o\n5\n" ROOT "\nblock 2\ntime 1\nprev " PREV "\n\n" EM "x AAAAAAAA\n",
     "checkpoint has text after line 6"},
};

START_TEST(test_checkpoint_malformed)
{
	const char *t = bad_checkpoints[_i].text;
	struct xr_checkpoint c;
	struct xr_err err = {0};
	char *copy = malloc(strlen(t) + 1);
	memcpy(copy, t, strlen(t) + 1);
	memset(&c, 0x42, sizeof(c));
	int rc = xr_checkpoint_parse(copy, strlen(t), &c, &err);
	ck_assert_msg(rc == XR_EINVAL, "case %d accepted", _i);
	ck_assert_msg(strstr(err.msg, bad_checkpoints[_i].msg) != NULL, "case %d: '%s' lacks '%s'",
		      _i, err.msg, bad_checkpoints[_i].msg);
	ck_assert_uint_eq(c.size, 0x4242424242424242ull);
	free(copy);
}
END_TEST

START_TEST(test_checkpoint_origin)
{
	char buf[512], origin[200];
	struct xr_checkpoint c;
	struct xr_err err = {0};

	memset(origin, 'o', sizeof(origin));
	origin[128] = '\0';
	snprintf(buf, sizeof(buf), "%s\n5\n" ROOT "\nblock 2\ntime 1\nprev " PREV "\n", origin);
	ck_assert_int_eq(xr_checkpoint_parse(buf, strlen(buf), &c, NULL), 0);
	ck_assert_str_eq(c.origin, origin);
	origin[128] = 'o';
	origin[129] = '\0';
	snprintf(buf, sizeof(buf), "%s\n5\n" ROOT "\nblock 2\ntime 1\nprev " PREV "\n", origin);
	ck_assert_int_eq(xr_checkpoint_parse(buf, strlen(buf), &c, &err), XR_EINVAL);
	ck_assert(strstr(err.msg, "is 129 bytes, expected 1..128") != NULL);
	/* A NUL in the origin is a control character. */
	snprintf(buf, sizeof(buf), "ab\n5\n" ROOT "\nblock 2\ntime 1\nprev " PREV "\n");
	size_t len = strlen(buf);
	buf[1] = '\0';
	xr_err_clear(&err);
	ck_assert_int_eq(xr_checkpoint_parse(buf, len, &c, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "checkpoint has control character 0x00 at offset 1");
}
END_TEST

/* Every prefix of a checkpoint text, and every single-byte change, fails
 * cleanly or (for some digit changes) parses into a text that formats back
 * to exactly the input. */
START_TEST(test_checkpoint_mutations)
{
	size_t len = strlen(golden_text);
	char *buf = malloc(len);
	struct xr_checkpoint c;
	struct xr_buf b;
	xr_buf_init(&b, 4096);
	for (size_t n = 0; n < len; n++) {
		memcpy(buf, golden_text, n);
		EXPECT(xr_checkpoint_parse(buf, n, &c, NULL) < 0, "prefix %zu accepted", n);
	}
	for (size_t i = 0; i < len; i++)
		for (int v = 0; v < 256; v += 3) {
			memcpy(buf, golden_text, len);
			if ((uint8_t)buf[i] == v)
				continue;
			buf[i] = (char)v;
			if (xr_checkpoint_parse(buf, len, &c, NULL) != 0)
				continue;
			xr_buf_reset(&b);
			EXPECT(xr_checkpoint_format(&c, &b, NULL) == 0, "format failed");
			EXPECT(b.len == len && memcmp(b.data, buf, len) == 0,
			       "byte %zu = 0x%02x parsed but formats differently", i, v);
		}
	xr_buf_fini(&b);
	free(buf);
}
END_TEST

START_TEST(test_threshold)
{
	static const size_t want[][2] = {
	    {0, 1}, {1, 1}, {2, 2}, {3, 3}, {4, 3}, {5, 4}, {6, 5}, {7, 5}, {10, 7}, {100, 67},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_uint_eq(xr_committee_threshold(want[i][0]), want[i][1]);
	for (size_t n = 0; n < 3000; n++)
		EXPECT(xr_committee_threshold(n) == 2 * n / 3 + 1, "n=%zu", n);
	/* No overflow of 2n. */
	ck_assert_uint_eq(xr_committee_threshold(SIZE_MAX), SIZE_MAX / 3 * 2 + 1);
}
END_TEST

static Suite *note_suite(void)
{
	Suite *s = suite_create("note");
	TCase *tc = tcase_create("note");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_key_id);
	tcase_add_test(tc, test_signer_init_errors);
	tcase_add_test(tc, test_vkey_roundtrip);
	tcase_add_test(tc, test_vkey_malformed);
	tcase_add_test(tc, test_vkeys_parse);
	tcase_add_test(tc, test_vkeys_cap);
	tcase_add_test(tc, test_golden_note);
	tcase_add_test(tc, test_sign_open);
	tcase_add_test(tc, test_unknown_keys);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_tampered);
	tcase_add_test(tc, test_structure);
	tcase_add_test(tc, test_control_chars);
	tcase_add_test(tc, test_sizes);
	tcase_add_test(tc, test_foreign_names);
	tcase_add_test(tc, test_sixteen_large_sigs);
	tcase_add_test(tc, test_distinct_keys);
	tcase_add_test(tc, test_threshold_zero);
	tcase_add_test(tc, test_committee_origin);
	tcase_add_test(tc, test_sign_aliasing);
	tcase_add_test(tc, test_truncation);
	suite_add_tcase(s, tc);

	tc = tcase_create("checkpoint");
	tcase_add_test(tc, test_checkpoint_roundtrip);
	tcase_add_test(tc, test_checkpoint_format_errors);
	tcase_add_loop_test(tc, test_checkpoint_malformed, 0,
			    (int)(sizeof(bad_checkpoints) / sizeof(bad_checkpoints[0])));
	tcase_add_test(tc, test_checkpoint_origin);
	tcase_add_test(tc, test_checkpoint_mutations);
	tcase_add_test(tc, test_threshold);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(note_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
