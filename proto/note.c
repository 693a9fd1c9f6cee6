/* note.c - C2SP signed notes with Ed25519 keys (signature type 0x01), verifier
 * key text, and the ledger's checkpoint text (tlog-checkpoint + extensions). */
#include "note.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_TYPE_ED25519 0x01
/* "— ": U+2014 EM DASH and a space start every signature line. */
#define SIG_PREFIX "\xe2\x80\x94 "
#define SIG_PREFIX_LEN 4
#define VKEYS_MAX 1000
/* An Ed25519 signature line carries the 4-byte key id and the signature. */
#define ED25519_SIG_LEN (4 + 64)
/* Bytes of one signature line: prefix, name, space, base64, newline. */
#define SIG_LINE_LEN(name, raw) (SIG_PREFIX_LEN + (name) + 1 + ((raw) + 2) / 3 * 4 + 1)

_Static_assert(XR_NOTE_TEXT_MAX + 1 +
		       XR_NOTE_SIGS_ADMITTED *
			   SIG_LINE_LEN(XR_NOTE_NAME_ADMITTED, XR_NOTE_SIG_ADMITTED) <=
		   XR_NOTE_MAX_LEN,
	       "the note cap must admit the largest text and 16 large signatures");

/* Untrusted bytes shown in an error message: printable ASCII as is, anything
 * else as \xNN, cut after SHOW_MAX input bytes, so a message stays one line. */
#define SHOW_MAX 48
#define SHOW_CAP (SHOW_MAX * 4 + 4)

static const char *show(const char *s, size_t n, char out[SHOW_CAP])
{
	return xr_show(s, n, SHOW_MAX, out);
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when it is invalid:
 * truncated, overlong, a surrogate or beyond U+10FFFF. */
static size_t utf8_len(const uint8_t *p, size_t n)
{
	uint8_t c = p[0];
	size_t len;
	uint32_t cp, min;

	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0) {
		len = 2;
		cp = c & 0x1f;
		min = 0x80;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3;
		cp = c & 0x0f;
		min = 0x800;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Valid UTF-8 without control characters other than newline (when allowed). */
static int
check_text(const char *s, size_t n, bool newline_ok, const char *what, struct xr_err *err)
{
	const uint8_t *p = (const uint8_t *)s;
	for (size_t i = 0; i < n;) {
		if ((p[i] < 0x20 && !(p[i] == '\n' && newline_ok)) || p[i] == 0x7f)
			return xr_err_set(err, XR_EINVAL,
					  "%s has control character 0x%02x at offset %zu", what,
					  p[i], i);
		size_t l = utf8_len(p + i, n - i);
		if (l == 0)
			return xr_err_set(err, XR_EINVAL, "%s has invalid utf-8 at offset %zu",
					  what, i);
		i += l;
	}
	return 0;
}

/* Key names: 1..64 bytes of printable ASCII other than space and '+'. */
static int name_ok(const char *s, size_t n, struct xr_err *err)
{
	char sh[SHOW_CAP];

	if (n == 0)
		return xr_err_set(err, XR_EINVAL, "key name is empty");
	if (n > XR_NOTE_NAME_MAX)
		return xr_err_set(err, XR_EINVAL, "key name '%s' is %zu bytes, at most %d allowed",
				  show(s, n, sh), n, XR_NOTE_NAME_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || c == '+')
			return xr_err_set(err, XR_EINVAL,
					  "key name '%s' has byte 0x%02x at position %zu, expected "
					  "printable ascii without space or '+'",
					  show(s, n, sh), c, i);
	}
	return 0;
}

/* Length of the Unicode space (Go's unicode.IsSpace, the White_Space
 * property) that starts the valid UTF-8 at p, or 0. Control characters are
 * refused for the whole note before names are looked at. */
static size_t unicode_space(const uint8_t *p, size_t n)
{
	if (p[0] == ' ')
		return 1;
	if (n >= 2 && p[0] == 0xc2 && (p[1] == 0x85 || p[1] == 0xa0))
		return 2;
	if (n < 3)
		return 0;
	if (p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80) /* U+1680 */
		return 3;
	if (p[0] == 0xe2 && p[1] == 0x80 &&
	    (p[2] <= 0x8a || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf)) /* U+2000..200A,
									       2028, 2029, 202F */
		return 3;
	if (p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f) /* U+205F */
		return 3;
	if (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80) /* U+3000 */
		return 3;
	return 0;
}

/* A key name as C2SP signed-note allows it on a signature line: non-empty,
 * without Unicode spaces or '+', of any length. s is valid UTF-8 without
 * control characters (check_text ran over the whole note). */
static int line_name_ok(const char *s, size_t n, struct xr_err *err)
{
	const uint8_t *p = (const uint8_t *)s;
	char sh[SHOW_CAP];

	if (n == 0)
		return xr_err_set(err, XR_EINVAL, "key name is empty");
	for (size_t i = 0; i < n;) {
		size_t l = utf8_len(p + i, n - i);
		assert(l > 0);
		if (p[i] == '+')
			return xr_err_set(err, XR_EINVAL, "key name '%s' has a '+' at position %zu",
					  show(s, n, sh), i);
		if (unicode_space(p + i, n - i))
			return xr_err_set(err, XR_EINVAL,
					  "key name '%s' has a unicode space at position %zu",
					  show(s, n, sh), i);
		i += l;
	}
	return 0;
}

void xr_note_key_id(const char *name, const uint8_t pub[32], uint8_t ret[4])
{
	uint8_t tail[2 + 32], h[32];
	tail[0] = '\n';
	tail[1] = KEY_TYPE_ED25519;
	memcpy(tail + 2, pub, 32);
	xr_sha256_2(name, strlen(name), tail, sizeof(tail), h);
	memcpy(ret, h, 4);
}

int xr_signer_init(struct xr_signer *s,
		   const char *name,
		   const uint8_t seed[32],
		   struct xr_err *err)
{
	struct xr_signer t;
	size_t n = strnlen(name, XR_NOTE_NAME_MAX + 1);
	int rc;

	memset(&t, 0, sizeof(t));
	if ((rc = name_ok(name, n, err)) < 0)
		return rc;
	if ((rc = xr_ed25519_public(seed, t.key.pub, err)) < 0)
		return rc;
	memcpy(t.key.name, name, n);
	xr_note_key_id(t.key.name, t.key.pub, t.key.id);
	memcpy(t.seed, seed, 32);
	*s = t;
	memset(&t, 0, sizeof(t));
	return 0;
}

void xr_vkey_format(const struct xr_vkey *k, char out[XR_VKEY_MAX])
{
	uint8_t raw[33];
	size_t nl = strlen(k->name);

	assert(nl > 0 && nl <= XR_NOTE_NAME_MAX);
	memcpy(out, k->name, nl);
	out[nl] = '+';
	xr_hex_encode(k->id, 4, out + nl + 1);
	out[nl + 9] = '+';
	raw[0] = KEY_TYPE_ED25519;
	memcpy(raw + 1, k->pub, 32);
	xr_b64_encode(raw, sizeof(raw), out + nl + 10);
}

int xr_vkey_parse(const char *s, size_t len, struct xr_vkey *ret, struct xr_err *err)
{
	char sh[SHOW_CAP];
	struct xr_err e = {0};
	struct xr_vkey k;
	uint8_t raw[33], id[4];
	size_t got;

	memset(&k, 0, sizeof(k));
	const char *p1 = memchr(s, '+', len);
	if (!p1)
		return xr_err_set(err, XR_EINVAL,
				  "verifier key '%s' has no '+', expected <name>+<key id>+<key>",
				  show(s, len, sh));
	size_t nl = (size_t)(p1 - s);
	if (name_ok(s, nl, &e) < 0)
		return xr_err_set(err, XR_EINVAL, "verifier key: %s", e.msg);
	memcpy(k.name, s, nl);

	const char *hex = p1 + 1;
	size_t rest = len - nl - 1;
	const char *p2 = memchr(hex, '+', rest);
	if (!p2)
		return xr_err_set(err, XR_EINVAL,
				  "verifier key '%s' has no '+' after the key id, expected "
				  "<name>+<key id>+<key>",
				  show(s, len, sh));
	size_t hl = (size_t)(p2 - hex);
	bool hex_ok = hl == 8;
	for (size_t i = 0; hex_ok && i < hl; i++)
		hex_ok = (hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f');
	if (!hex_ok)
		return xr_err_set(err, XR_EINVAL,
				  "key id '%s' of verifier key %s is not 8 lower-case hex digits",
				  show(hex, hl, sh), k.name);
	for (size_t i = 0; i < 4; i++) {
		char d[3] = {hex[2 * i], hex[2 * i + 1], '\0'};
		id[i] = (uint8_t)strtoul(d, NULL, 16);
	}

	const char *b64 = p2 + 1;
	size_t bl = rest - hl - 1;
	if (xr_b64_decode(b64, bl, raw, sizeof(raw), &got, &e) < 0)
		return xr_err_set(err, XR_EINVAL, "key of verifier key %s: %s", k.name, e.msg);
	if (got != sizeof(raw))
		return xr_err_set(err, XR_EINVAL,
				  "key of verifier key %s is %zu bytes, expected 33 (type byte and "
				  "32-byte ed25519 key)",
				  k.name, got);
	if (raw[0] != KEY_TYPE_ED25519)
		return xr_err_set(err, XR_EINVAL,
				  "verifier key %s has key type 0x%02x, expected 0x01 (ed25519)",
				  k.name, raw[0]);
	memcpy(k.pub, raw + 1, 32);
	xr_note_key_id(k.name, k.pub, k.id);
	if (memcmp(k.id, id, 4) != 0) {
		char want[9];
		xr_hex_encode(k.id, 4, want);
		return xr_err_set(err, XR_EINVAL,
				  "key id %.8s of verifier key %s does not match its name and key "
				  "(expected %s)",
				  hex, k.name, want);
	}
	*ret = k;
	return 0;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

#define ORIGIN_KW "origin"
#define ORIGIN_KW_LEN (sizeof(ORIGIN_KW) - 1)

/* "origin" alone or followed by a blank: a key name has neither. */
static bool is_origin_line(const char *s, size_t n)
{
	return n >= ORIGIN_KW_LEN && memcmp(s, ORIGIN_KW, ORIGIN_KW_LEN) == 0 &&
	       (n == ORIGIN_KW_LEN || s[ORIGIN_KW_LEN] == ' ' || s[ORIGIN_KW_LEN] == '\t');
}

/* The origin line of a committee file: "origin <origin>". */
static int origin_line(
    const char *s, size_t n, size_t line, char origin[XR_ORIGIN_MAX + 1], struct xr_err *err)
{
	struct xr_err e = {0};
	char sh[SHOW_CAP];

	if (origin[0])
		return xr_err_set(err, XR_EINVAL, "line %zu: a second origin line, '%s'", line,
				  show(s, n, sh));
	s += ORIGIN_KW_LEN;
	n -= ORIGIN_KW_LEN;
	while (n && is_blank(s[0])) {
		s++;
		n--;
	}
	if (n == 0 || n > XR_ORIGIN_MAX)
		return xr_err_set(err, XR_EINVAL,
				  "line %zu: origin '%s' is %zu bytes, expected 1..%d", line,
				  show(s, n, sh), n, XR_ORIGIN_MAX);
	if (check_text(s, n, false, "origin", &e) < 0)
		return xr_err_set(err, XR_EINVAL, "line %zu: %s", line, e.msg);
	memcpy(origin, s, n);
	origin[n] = '\0';
	return 0;
}

int xr_vkeys_parse(
    const char *text, size_t len, struct xr_vkey **ret, size_t *ret_n, struct xr_err *err)
{
	char origin[XR_ORIGIN_MAX + 1];
	return xr_committee_parse(text, len, origin, ret, ret_n, err);
}

int xr_committee_parse(const char *text,
		       size_t len,
		       char ret_origin[XR_ORIGIN_MAX + 1],
		       struct xr_vkey **ret,
		       size_t *ret_n,
		       struct xr_err *err)
{
	char origin[XR_ORIGIN_MAX + 1] = "";
	struct xr_vkey *keys = NULL;
	size_t n = 0, line = 0;
	struct xr_err e = {0};
	int rc = 0;

	for (size_t off = 0; off < len;) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t end = nl ? (size_t)(nl - text) : len;
		const char *s = text + off;
		size_t sl = end - off;

		line++;
		off = nl ? end + 1 : len;
		/* Files edited by hand may carry indentation or CRLF line ends. */
		while (sl && is_blank(s[0])) {
			s++;
			sl--;
		}
		while (sl && is_blank(s[sl - 1]))
			sl--;
		if (sl == 0 || s[0] == '#')
			continue;
		if (is_origin_line(s, sl)) {
			if ((rc = origin_line(s, sl, line, origin, err)) < 0)
				goto fail;
			continue;
		}
		if (n == VKEYS_MAX) {
			rc = xr_err_set(err, XR_EINVAL, "line %zu: more than %d verifier keys",
					line, VKEYS_MAX);
			goto fail;
		}
		if (n % 16 == 0) {
			struct xr_vkey *nk = realloc(keys, (n + 16) * sizeof(*keys));
			if (!nk) {
				rc = xr_err_set(err, XR_ENOMEM,
						"out of memory at %zu verifier keys", n);
				goto fail;
			}
			keys = nk;
		}
		if (xr_vkey_parse(s, sl, &keys[n], &e) < 0) {
			rc = xr_err_set(err, XR_EINVAL, "line %zu: %s", line, e.msg);
			goto fail;
		}
		/* One name, one key: otherwise one member could count twice
		 * towards a threshold. */
		for (size_t i = 0; i < n; i++) {
			if (strcmp(keys[i].name, keys[n].name) == 0) {
				rc = xr_err_set(err, XR_EINVAL,
						"line %zu: key name '%s' appears more than once",
						line, keys[n].name);
				goto fail;
			}
			if (memcmp(keys[i].pub, keys[n].pub, 32) == 0) {
				rc = xr_err_set(err, XR_EINVAL,
						"line %zu: key '%s' is the public key of '%s' "
						"again",
						line, keys[n].name, keys[i].name);
				goto fail;
			}
		}
		n++;
	}
	if (n == 0) {
		rc = xr_err_set(err, XR_EINVAL,
				"no verifier keys found, expected one <name>+<key id>+<key> per "
				"line");
		goto fail;
	}
	memcpy(ret_origin, origin, sizeof(origin));
	*ret = keys;
	*ret_n = n;
	return 0;
fail:
	free(keys);
	return rc;
}

int xr_note_sign(const char *text,
		 size_t len,
		 const struct xr_signer *signers,
		 size_t n,
		 struct xr_buf *out,
		 struct xr_err *err)
{
	struct xr_buf note;
	uint8_t raw[ED25519_SIG_LEN];
	char b64[(ED25519_SIG_LEN + 2) / 3 * 4 + 1];
	int rc;

	if (len == 0 || text[len - 1] != '\n')
		return xr_err_set(err, XR_EINVAL, "note text must end in a newline");
	if (len > XR_NOTE_TEXT_MAX)
		return xr_err_set(err, XR_EINVAL, "note text of %zu bytes exceeds the maximum %d",
				  len, XR_NOTE_TEXT_MAX);
	if ((rc = check_text(text, len, true, "note text", err)) < 0)
		return rc;
	if (n == 0 || n > XR_NOTE_MAX_SIGS)
		return xr_err_set(err, XR_EINVAL,
				  "cannot sign a note with %zu signers, 1..%d allowed", n,
				  XR_NOTE_MAX_SIGS);
	/* The whole note is built aside first: text may point into out. */
	xr_buf_init(&note, XR_NOTE_MAX_LEN);
	xr_buf_put(&note, text, len);
	xr_buf_u8(&note, '\n');
	for (size_t i = 0; i < n; i++) {
		const struct xr_vkey *k = &signers[i].key;
		memcpy(raw, k->id, 4);
		if ((rc = xr_ed25519_sign(signers[i].seed, text, len, raw + 4, err)) < 0)
			goto out;
		xr_b64_encode(raw, sizeof(raw), b64);
		xr_buf_put(&note, SIG_PREFIX, SIG_PREFIX_LEN);
		xr_buf_put(&note, k->name, strlen(k->name));
		xr_buf_u8(&note, ' ');
		xr_buf_put(&note, b64, strlen(b64));
		xr_buf_u8(&note, '\n');
	}
	if (note.failed) {
		rc = xr_err_set(err, XR_EINVAL, "signed note exceeds %d bytes", XR_NOTE_MAX_LEN);
		goto out;
	}
	size_t start = out->len;
	xr_buf_put(out, note.data, note.len);
	if (out->failed) {
		out->len = start;
		rc = xr_err_set(err, XR_ENOMEM, "signed note of %zu bytes does not fit the buffer",
				note.len);
	}
out:
	xr_buf_fini(&note);
	return rc;
}

/* Parses "— <name> <base64>" (without its newline). */
static int sig_line(const char *s,
		    size_t n,
		    const char **ret_name,
		    size_t *ret_nl,
		    const char **ret_b64,
		    size_t *ret_bl,
		    struct xr_err *err)
{
	if (n < SIG_PREFIX_LEN || memcmp(s, SIG_PREFIX, SIG_PREFIX_LEN) != 0)
		return xr_err_set(err, XR_EINVAL, "does not start with an em dash and a space");
	s += SIG_PREFIX_LEN;
	n -= SIG_PREFIX_LEN;
	const char *sp = memchr(s, ' ', n);
	if (!sp)
		return xr_err_set(err, XR_EINVAL, "has no space between key name and signature");
	size_t nl = (size_t)(sp - s);
	int rc = line_name_ok(s, nl, err);
	if (rc < 0)
		return rc;
	*ret_name = s;
	*ret_nl = nl;
	*ret_b64 = sp + 1;
	*ret_bl = n - nl - 1;
	return 0;
}

int xr_note_open(const char *note,
		 size_t len,
		 const struct xr_vkey *keys,
		 size_t nkeys,
		 size_t threshold,
		 size_t *ret_text_len,
		 uint64_t *ret_signers,
		 struct xr_err *err)
{
	size_t seen[XR_NOTE_MAX_SIGS], nseen = 0, split = 0, nline = 0;
	uint8_t *raw = NULL;
	struct xr_err e = {0};
	char sh[SHOW_CAP];
	bool found = false;
	int rc;

	if (threshold == 0)
		return xr_err_set(err, XR_EINVAL,
				  "a threshold of 0 would accept a note no known key signed; at "
				  "least 1 is needed");
	if (len > XR_NOTE_MAX_LEN)
		return xr_err_set(err, XR_EINVAL, "note of %zu bytes exceeds the maximum %d", len,
				  XR_NOTE_MAX_LEN);
	if ((rc = check_text(note, len, true, "note", err)) < 0)
		return rc;
	for (size_t i = len; i >= 2; i--)
		if (note[i - 2] == '\n' && note[i - 1] == '\n') {
			split = i - 2;
			found = true;
			break;
		}
	if (!found)
		return xr_err_set(err, XR_EINVAL, "note has no blank line before its signatures");
	size_t text_len = split + 1;
	if (text_len > XR_NOTE_TEXT_MAX)
		return xr_err_set(err, XR_EINVAL, "note text of %zu bytes exceeds the maximum %d",
				  text_len, XR_NOTE_TEXT_MAX);
	const char *sigs = note + split + 2;
	size_t slen = len - split - 2;
	if (slen == 0)
		return xr_err_set(err, XR_EINVAL, "note has no signature lines");
	/* Unknown signers may use other algorithms (a witness cosignature is 76
	 * bytes), so their signatures are decoded into a buffer of any size. */
	raw = malloc(slen / 4 * 3 + 3);
	if (!raw)
		return xr_err_set(err, XR_ENOMEM, "out of memory opening a note of %zu bytes", len);

	for (size_t off = 0; off < slen;) {
		const char *line = sigs + off;
		const char *eol = memchr(line, '\n', slen - off);
		const char *name = NULL, *b64 = NULL;
		size_t nl = 0, bl = 0, got = 0;

		nline++;
		if (nline > XR_NOTE_MAX_SIGS) {
			rc = xr_err_set(err, XR_EINVAL, "note has more than %d signature lines",
					XR_NOTE_MAX_SIGS);
			goto out;
		}
		if (!eol) {
			rc = xr_err_set(err, XR_EINVAL,
					"malformed signature line %zu: no final newline", nline);
			goto out;
		}
		size_t ll = (size_t)(eol - line);
		off += ll + 1;
		if (sig_line(line, ll, &name, &nl, &b64, &bl, &e) < 0 ||
		    xr_b64_decode(b64, bl, raw, slen / 4 * 3 + 3, &got, &e) < 0) {
			rc = xr_err_set(err, XR_EINVAL, "malformed signature line %zu: %s", nline,
					e.msg);
			goto out;
		}
		if (got < 5) {
			rc = xr_err_set(err, XR_EINVAL,
					"malformed signature line %zu: signature '%s' of %zu bytes "
					"is shorter than a key id and a signature",
					nline, show(b64, bl, sh), got);
			goto out;
		}
		size_t k;
		for (k = 0; k < nkeys; k++)
			if (strlen(keys[k].name) == nl && memcmp(keys[k].name, name, nl) == 0 &&
			    memcmp(keys[k].id, raw, 4) == 0)
				break;
		if (k == nkeys)
			continue;
		if (got != ED25519_SIG_LEN) {
			rc = xr_err_set(err, XR_EVERIFY,
					"signature by %s is %zu bytes, expected an ed25519 "
					"signature of 64",
					keys[k].name, got - 4);
			goto out;
		}
		if (!xr_ed25519_verify(keys[k].pub, note, text_len, raw + 4)) {
			rc = xr_err_set(err, XR_EVERIFY, "signature by %s does not verify",
					keys[k].name);
			goto out;
		}
		size_t j;
		for (j = 0; j < nseen && seen[j] != k; j++)
			;
		if (j == nseen)
			seen[nseen++] = k;
	}
	/* Distinct public keys, not entries of keys[]: the same key under two
	 * names (so two key ids) is one signer. */
	size_t ndistinct = 0;
	for (size_t j = 0; j < nseen; j++) {
		size_t i;
		for (i = 0; i < j && memcmp(keys[seen[i]].pub, keys[seen[j]].pub, 32) != 0; i++)
			;
		if (i == j)
			ndistinct++;
	}
	if (ndistinct < threshold) {
		rc = xr_err_set(err, XR_EVERIFY, "signed by %zu of %zu committee keys, %zu needed",
				ndistinct, nkeys, threshold);
		goto out;
	}
	*ret_text_len = text_len;
	if (ret_signers) {
		uint64_t bits = 0;
		for (size_t j = 0; j < nseen; j++)
			if (seen[j] < 64)
				bits |= UINT64_C(1) << seen[j];
		*ret_signers = bits;
	}
	rc = 0;
out:
	free(raw);
	return rc;
}

int xr_checkpoint_format(const struct xr_checkpoint *c, struct xr_buf *out, struct xr_err *err)
{
	char root[45], prev[45], t[XR_ORIGIN_MAX + 256];
	size_t ol = strnlen(c->origin, sizeof(c->origin));
	int rc;

	if (ol == 0 || ol > XR_ORIGIN_MAX)
		return xr_err_set(err, XR_EINVAL, "checkpoint origin must be 1..%d bytes",
				  XR_ORIGIN_MAX);
	if ((rc = check_text(c->origin, ol, false, "checkpoint origin", err)) < 0)
		return rc;
	xr_b64_encode(c->root, 32, root);
	xr_b64_encode(c->prev, 32, prev);
	int w = snprintf(t, sizeof(t), "%s\n%llu\n%s\nblock %llu\ntime %llu\nprev %s\n", c->origin,
			 (unsigned long long)c->size, root, (unsigned long long)c->block,
			 (unsigned long long)c->time_ms, prev);
	assert(w > 0 && (size_t)w < sizeof(t));
	size_t start = out->len;
	xr_buf_put(out, t, (size_t)w);
	if (out->failed) {
		out->len = start;
		return xr_err_set(err, XR_ENOMEM, "checkpoint of %d bytes does not fit the buffer",
				  w);
	}
	return 0;
}

static int parse_u64(const char *s, size_t n, const char *what, uint64_t *ret, struct xr_err *err)
{
	char sh[SHOW_CAP];
	uint64_t v = 0;

	if (n == 0)
		return xr_err_set(err, XR_EINVAL,
				  "checkpoint %s is empty, expected a decimal number", what);
	if (n > 1 && s[0] == '0')
		return xr_err_set(err, XR_EINVAL, "checkpoint %s '%s' has a leading zero", what,
				  show(s, n, sh));
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return xr_err_set(err, XR_EINVAL,
					  "checkpoint %s '%s' is not a decimal number", what,
					  show(s, n, sh));
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return xr_err_set(err, XR_EINVAL,
					  "checkpoint %s '%s' does not fit in 64 bits", what,
					  show(s, n, sh));
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

static int
parse_hash(const char *s, size_t n, const char *what, uint8_t ret[32], struct xr_err *err)
{
	char sh[SHOW_CAP];
	struct xr_err e = {0};
	uint8_t t[33];
	size_t got;

	if (xr_b64_decode(s, n, t, sizeof(t), &got, &e) < 0)
		return xr_err_set(err, XR_EINVAL, "checkpoint %s '%s': %s", what, show(s, n, sh),
				  e.msg);
	if (got != 32)
		return xr_err_set(err, XR_EINVAL,
				  "checkpoint %s '%s' is %zu bytes, expected a 32-byte hash", what,
				  show(s, n, sh), got);
	memcpy(ret, t, 32);
	return 0;
}

/* Strips "<kw> " from the front of a line. */
static int keyword(const char **s, size_t *n, const char *kw, unsigned lineno, struct xr_err *err)
{
	char sh[SHOW_CAP];
	size_t kl = strlen(kw);

	if (*n <= kl || memcmp(*s, kw, kl) != 0 || (*s)[kl] != ' ')
		return xr_err_set(err, XR_EINVAL, "checkpoint line %u is '%s', expected '%s <...>'",
				  lineno, show(*s, *n, sh), kw);
	*s += kl + 1;
	*n -= kl + 1;
	return 0;
}

int xr_checkpoint_parse(const char *text, size_t len, struct xr_checkpoint *ret, struct xr_err *err)
{
	struct xr_checkpoint c;
	const char *line[6];
	size_t ll[6], off = 0;
	char sh[SHOW_CAP];
	int rc;

	memset(&c, 0, sizeof(c));
	if ((rc = check_text(text, len, true, "checkpoint", err)) < 0)
		return rc;
	for (unsigned i = 0; i < 6; i++) {
		if (off == len)
			return xr_err_set(err, XR_EINVAL, "checkpoint has %u lines, expected 6", i);
		const char *nl = memchr(text + off, '\n', len - off);
		if (!nl)
			return xr_err_set(err, XR_EINVAL,
					  "checkpoint line %u does not end in a newline", i + 1);
		line[i] = text + off;
		ll[i] = (size_t)(nl - line[i]);
		off += ll[i] + 1;
	}
	if (off != len)
		return xr_err_set(err, XR_EINVAL, "checkpoint has text after line 6: '%s'",
				  show(text + off, len - off, sh));

	if (ll[0] == 0 || ll[0] > XR_ORIGIN_MAX)
		return xr_err_set(err, XR_EINVAL,
				  "checkpoint origin '%s' is %zu bytes, expected 1..%d",
				  show(line[0], ll[0], sh), ll[0], XR_ORIGIN_MAX);
	memcpy(c.origin, line[0], ll[0]);
	if ((rc = parse_u64(line[1], ll[1], "size", &c.size, err)) < 0 ||
	    (rc = parse_hash(line[2], ll[2], "root", c.root, err)) < 0 ||
	    (rc = keyword(&line[3], &ll[3], "block", 4, err)) < 0 ||
	    (rc = parse_u64(line[3], ll[3], "block", &c.block, err)) < 0 ||
	    (rc = keyword(&line[4], &ll[4], "time", 5, err)) < 0 ||
	    (rc = parse_u64(line[4], ll[4], "time", &c.time_ms, err)) < 0 ||
	    (rc = keyword(&line[5], &ll[5], "prev", 6, err)) < 0 ||
	    (rc = parse_hash(line[5], ll[5], "prev", c.prev, err)) < 0)
		return rc;
	*ret = c;
	return 0;
}

size_t xr_committee_threshold(size_t n)
{
	/* floor(2n/3) without overflowing 2n. */
	return n / 3 * 2 + n % 3 * 2 / 3 + 1;
}
