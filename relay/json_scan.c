/* json_scan.c - a strict one-pass JSON checker (RFC 8259, RFC 3629) that keeps
 * no tree: an explicit bit stack for nesting, spans for what the caller wants. */
#include "json_scan.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct level {
	size_t index;		 /* of the current child */
	struct xr_json_span key; /* of the current child, in an object */
	const char *start;	 /* of the current child's value */
	size_t offset;		 /* of the current child's key or value */
};

struct fault {
	const char *at;
	const char *what;
};

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static int
fail(struct xr_err *err, const char *text, const char *end, const char *at, const char *what)
{
	char found[24];
	if (at >= end)
		snprintf(found, sizeof(found), "end of text");
	else if (*at > 0x20 && *at < 0x7f && *at != '\'' && *at != '\\')
		snprintf(found, sizeof(found), "'%c'", *at);
	else
		snprintf(found, sizeof(found), "byte 0x%02x", (unsigned)(unsigned char)*at);
	return xr_err_set(err, XR_EINVAL, "invalid json at byte %zu: %s (found %s)",
			  (size_t)(at - text), what, found);
}

static int hex4(const char *p)
{
	int v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];
		int d = c >= '0' && c <= '9'   ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;
		if (d < 0)
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/* p is at the opening quote. Returns the end of the token, or NULL with f set. */
static const char *scan_string(const char *p, const char *end, struct fault *f)
{
	for (p++; p < end;) {
		unsigned char c = (unsigned char)*p;
		if (c == '"')
			return p + 1;
		if (c >= 0x20 && c < 0x80 && c != '\\') {
			p++;
			continue;
		}
		if (c < 0x20) {
			*f = (struct fault){p, "control character in a string"};
			return NULL;
		}
		if (c == '\\') {
			if (end - p < 2)
				break;
			switch (p[1]) {
			case '"':
			case '\\':
			case '/':
			case 'b':
			case 'f':
			case 'n':
			case 'r':
			case 't':
				p += 2;
				continue;
			case 'u':
				break;
			default:
				*f = (struct fault){p + 1, "bad escape in a string"};
				return NULL;
			}
			int u = end - p >= 6 ? hex4(p + 2) : -1;
			if (u < 0) {
				*f = (struct fault){p, "bad \\u escape in a string"};
				return NULL;
			}
			if (u >= 0xdc00 && u <= 0xdfff) {
				*f = (struct fault){p, "\\u escape of a lone low surrogate"};
				return NULL;
			}
			if (u >= 0xd800 && u <= 0xdbff) {
				int lo =
				    end - p >= 12 && p[6] == '\\' && p[7] == 'u' ? hex4(p + 8) : -1;
				if (lo < 0xdc00 || lo > 0xdfff) {
					*f = (struct fault){p, "\\u escape of a high surrogate not "
							       "followed by a low one"};
					return NULL;
				}
				p += 12;
				continue;
			}
			p += 6;
			continue;
		}
		/* UTF-8 as RFC 3629 table 3.7: the second byte's range rules out
		 * overlong forms, surrogates and code points past U+10FFFF. */
		size_t n;
		unsigned char lo = 0x80, hi = 0xbf;
		if (c >= 0xc2 && c <= 0xdf) {
			n = 1;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 2;
			if (c == 0xe0)
				lo = 0xa0;
			else if (c == 0xed)
				hi = 0x9f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 3;
			if (c == 0xf0)
				lo = 0x90;
			else if (c == 0xf4)
				hi = 0x8f;
		} else {
			*f = (struct fault){p, "invalid utf-8"};
			return NULL;
		}
		if ((size_t)(end - p) <= n) {
			*f = (struct fault){p, "truncated utf-8 sequence"};
			return NULL;
		}
		unsigned char c1 = (unsigned char)p[1];
		if (c1 < lo || c1 > hi) {
			*f = (struct fault){p + 1, "invalid utf-8"};
			return NULL;
		}
		for (size_t i = 2; i <= n; i++) {
			if (((unsigned char)p[i] & 0xc0) != 0x80) {
				*f = (struct fault){p + i, "invalid utf-8"};
				return NULL;
			}
		}
		p += n + 1;
	}
	*f = (struct fault){end, "unterminated string"};
	return NULL;
}

static bool is_digit(const char *p, const char *end)
{
	return p < end && *p >= '0' && *p <= '9';
}

static const char *scan_number(const char *p, const char *end, struct fault *f)
{
	if (*p == '-')
		p++;
	if (p < end && *p == '0') {
		p++;
	} else if (is_digit(p, end)) {
		while (is_digit(p, end))
			p++;
	} else {
		*f = (struct fault){p, "expected a digit"};
		return NULL;
	}
	if (p < end && *p == '.') {
		if (!is_digit(++p, end)) {
			*f = (struct fault){p, "expected a digit after '.'"};
			return NULL;
		}
		while (is_digit(p, end))
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (!is_digit(p, end)) {
			*f = (struct fault){p, "expected a digit in the exponent"};
			return NULL;
		}
		while (is_digit(p, end))
			p++;
	}
	return p;
}

static const char *scan_word(const char *p, const char *end, const char *word, struct fault *f)
{
	size_t n = strlen(word);
	for (size_t i = 0; i < n; i++) {
		if (p + i >= end || p[i] != word[i]) {
			*f = (struct fault){p + i, "expected a value"};
			return NULL;
		}
	}
	return p + n;
}

static bool is_object(const uint8_t *kind, unsigned d)
{
	return kind[d / 8] >> (d % 8) & 1;
}

int xr_json_scan(const char *text,
		 size_t len,
		 const struct xr_json_scan_opts *o,
		 enum xr_json_type *ret_type,
		 struct xr_err *err)
{
	static const struct xr_json_scan_opts none = {0};
	uint8_t kind[XR_JSON_DEPTH_LIMIT / 8]; /* bit d: the container at depth d is an object */
	struct level lv[XR_JSON_REPORT_LIMIT + 1];
	const char *end = text + len, *p;
	unsigned depth = 0; /* of the value being scanned: how many containers are open */
	enum xr_json_type t;
	struct fault f;
	char what[48];
	int rc;

	if (!o)
		o = &none;
	unsigned max = o->max_depth ? o->max_depth : XR_JSON_MAX_DEPTH;
	unsigned report = o->item ? o->report_depth : 0;
	assert(max <= XR_JSON_DEPTH_LIMIT && report <= XR_JSON_REPORT_LIMIT);
	assert(text || len == 0);
	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		return fail(err, text, end, text, "a byte order mark is not allowed");
	p = skip_ws(text, end);

value:
	if (depth >= 1 && depth <= report) {
		lv[depth].start = p;
		if (!is_object(kind, depth - 1)) {
			lv[depth].key = (struct xr_json_span){NULL, 0};
			lv[depth].offset = (size_t)(p - text);
		}
	}
	if (p >= end)
		return fail(err, text, end, p, "expected a value");
	switch (*p) {
	case '{':
	case '[':
		if (depth >= max) {
			snprintf(what, sizeof(what), "nesting deeper than %u", max);
			return fail(err, text, end, p, what);
		}
		if (*p == '{')
			kind[depth / 8] |= (uint8_t)(1u << (depth % 8));
		else
			kind[depth / 8] &= (uint8_t) ~(1u << (depth % 8));
		bool obj = *p == '{';
		depth++;
		if (depth <= report)
			lv[depth].index = 0;
		p = skip_ws(p + 1, end);
		if (p < end && *p == (obj ? '}' : ']')) {
			p++;
			goto close;
		}
		if (obj)
			goto key;
		goto value;
	case '"':
		p = scan_string(p, end, &f);
		t = XR_JSON_STRING;
		break;
	case 't':
		p = scan_word(p, end, "true", &f);
		t = XR_JSON_TRUE;
		break;
	case 'f':
		p = scan_word(p, end, "false", &f);
		t = XR_JSON_FALSE;
		break;
	case 'n':
		p = scan_word(p, end, "null", &f);
		t = XR_JSON_NULL;
		break;
	default:
		if (*p != '-' && (*p < '0' || *p > '9'))
			return fail(err, text, end, p, "expected a value");
		p = scan_number(p, end, &f);
		t = XR_JSON_NUMBER;
		break;
	}
	if (!p)
		return fail(err, text, end, f.at, f.what);
	goto done;

close: /* p is past the bracket that closed the container at depth - 1 */
	depth--;
	t = is_object(kind, depth) ? XR_JSON_OBJECT : XR_JSON_ARRAY;

done: /* a value of type t at depth `depth` ends at p */
	if (depth == 0) {
		const char *q = skip_ws(p, end);
		if (q != end)
			return fail(err, text, end, q, "expected nothing after the value");
		if (ret_type)
			*ret_type = t;
		return 0;
	}
	if (depth <= report) {
		struct xr_json_item it = {
		    .depth = depth,
		    .index = lv[depth].index++,
		    .key = lv[depth].key,
		    .value = {lv[depth].start, (size_t)(p - lv[depth].start)},
		    .type = t,
		    .offset = lv[depth].offset,
		};
		if ((rc = o->item(o->ctx, &it, err)) < 0)
			return rc;
	}
	p = skip_ws(p, end);
	bool obj = is_object(kind, depth - 1);
	if (p < end && *p == ',') {
		p = skip_ws(p + 1, end);
		if (obj)
			goto key;
		goto value;
	}
	if (p < end && *p == (obj ? '}' : ']')) {
		p++;
		goto close;
	}
	return fail(err, text, end, p, obj ? "expected ',' or '}'" : "expected ',' or ']'");

key:
	if (p >= end || *p != '"')
		return fail(err, text, end, p, "expected a member name");
	{
		const char *k = p;
		if (!(p = scan_string(p, end, &f)))
			return fail(err, text, end, f.at, f.what);
		if (depth <= report) {
			lv[depth].key = (struct xr_json_span){k, (size_t)(p - k)};
			lv[depth].offset = (size_t)(k - text);
		}
	}
	p = skip_ws(p, end);
	if (p >= end || *p != ':')
		return fail(err, text, end, p, "expected ':' after a member name");
	p = skip_ws(p + 1, end);
	goto value;
}

static size_t utf8_put(uint32_t cp, char *b)
{
	if (cp < 0x80) {
		b[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	b[0] = (char)(0xf0 | cp >> 18);
	b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	b[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	b[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

size_t xr_json_string_decode(const char *tok, size_t len, char *out, size_t cap, bool *ret_cut)
{
	assert(len >= 2 && tok[0] == '"' && tok[len - 1] == '"');
	const char *p = tok + 1, *end = tok + len - 1;
	size_t o = 0;
	bool cut = false;

	while (p < end) {
		char b[4];
		size_t n;
		const char *q = p;
		if (*p != '\\') {
			while (q < end && *q != '\\')
				q++;
			n = (size_t)(q - p);
			if (n > cap - o) {
				memcpy(out + o, p, cap - o);
				o = cap;
				cut = true;
				break;
			}
			memcpy(out + o, p, n);
			o += n;
			p = q;
			continue;
		}
		switch (p[1]) {
		case 'b':
			b[0] = '\b';
			break;
		case 'f':
			b[0] = '\f';
			break;
		case 'n':
			b[0] = '\n';
			break;
		case 'r':
			b[0] = '\r';
			break;
		case 't':
			b[0] = '\t';
			break;
		case 'u':
			break;
		default:
			b[0] = p[1];
			break;
		}
		if (p[1] == 'u') {
			uint32_t cp = (uint32_t)hex4(p + 2);
			p += 6;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				     ((uint32_t)hex4(p + 2) - 0xdc00);
				p += 6;
			}
			n = utf8_put(cp, b);
		} else {
			p += 2;
			n = 1;
		}
		if (n > cap - o) {
			cut = true;
			break;
		}
		memcpy(out + o, b, n);
		o += n;
	}
	if (ret_cut)
		*ret_cut = cut;
	return o;
}

bool xr_json_string_eq(const char *tok, size_t len, const char *want)
{
	char buf[64];
	size_t n = strlen(want);
	bool cut;

	assert(n < sizeof(buf));
	if (!memchr(tok, '\\', len))
		return len == n + 2 && memcmp(tok + 1, want, n) == 0;
	size_t got = xr_json_string_decode(tok, len, buf, n + 1, &cut);
	return !cut && got == n && memcmp(buf, want, n) == 0;
}
