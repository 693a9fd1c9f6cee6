/* fuzz_json_scan.c - relay/json_scan.c against jansson as an oracle: the same
 * accept/reject verdict on the same bytes, the same top-level type and
 * number of children, and the same decoded strings.
 *
 * Differences that are by design and allowed here: jansson refuses numbers
 * that overflow a long long or a double and \u0000 in object names (even
 * with JSON_ALLOW_NUL), which the scanner accepts (numbers are text to it);
 * the scanner refuses nesting deeper than its cap (64 here, 512 in the rpc
 * client) where jansson allows 2048. Duplicate names are not compared:
 * jansson keeps the last one unless told to refuse them, the scanner reports
 * every member and leaves the choice to its caller. And jansson 2.14 lets
 * a NUL byte right after a number or literal pass (it accepts "[1\0,2]" and
 * "42\0"; NUL is its stream's end-of-buffer mark), where the scanner refuses
 * NUL as any byte outside a string that is not whitespace. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_scan.h"

#define DEPTH 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool by_design(const json_error_t *je)
{
	enum json_error_code c = json_error_code(je);
	return c == json_error_numeric_overflow || c == json_error_null_byte_in_key;
}

static size_t depth_of(const json_t *v)
{
	size_t d = 0, i;
	const char *k;
	json_t *c;
	if (json_is_array(v)) {
		json_array_foreach(v, i, c)
		{
			size_t e = depth_of(c);
			d = e > d ? e : d;
		}
		return d + 1;
	}
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, c)
		{
			size_t e = depth_of(c);
			d = e > d ? e : d;
		}
		return d + 1;
	}
	return 0;
}

static bool same_type(enum xr_json_type t, const json_t *v)
{
	switch (t) {
	case XR_JSON_OBJECT:
		return json_is_object(v);
	case XR_JSON_ARRAY:
		return json_is_array(v);
	case XR_JSON_STRING:
		return json_is_string(v);
	case XR_JSON_NUMBER:
		return json_is_number(v);
	case XR_JSON_TRUE:
		return json_is_true(v);
	case XR_JSON_FALSE:
		return json_is_false(v);
	case XR_JSON_NULL:
		return json_is_null(v);
	case XR_JSON_NONE:
		break;
	}
	return false;
}

/* A string token decodes as jansson decodes it. */
static void check_string(const char *tok, size_t len)
{
	json_error_t je;
	json_t *v = json_loadb(tok, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (!v || !json_is_string(v))
		abort();
	char *buf = malloc(len);
	bool cut = true;
	size_t n = xr_json_string_decode(tok, len, buf, len, &cut);
	if (cut || n != json_string_length(v) || memcmp(buf, json_string_value(v), n) != 0)
		abort();
	/* A cut decode is a prefix. */
	if (n > 1) {
		size_t m = xr_json_string_decode(tok, len, buf, n - 1, &cut);
		if (!cut || m > n - 1 || memcmp(buf, json_string_value(v), m) != 0)
			abort();
	}
	if (n < 64 && !memchr(buf, '\0', n)) {
		char want[64];
		memcpy(want, buf, n);
		want[n] = '\0';
		if (!xr_json_string_eq(tok, len, want))
			abort();
	}
	free(buf);
	json_decref(v);
}

struct seen {
	const char *base;
	size_t len, children;
};

static int item(void *ctx, const struct xr_json_item *it, struct xr_err *err)
{
	struct seen *s = ctx;
	const struct xr_json_scan_opts o = {.max_depth = DEPTH};
	enum xr_json_type t = XR_JSON_NONE;
	(void)err;

	if (it->value.p < s->base || it->value.len > s->len ||
	    it->value.p + it->value.len > s->base + s->len || it->depth < 1 || it->depth > 2)
		abort();
	/* Every value handed back is itself one JSON value, of the type said. */
	if (xr_json_scan(it->value.p, it->value.len, &o, &t, NULL) != 0 || t != it->type)
		abort();
	if (it->key.p) {
		if (xr_json_scan(it->key.p, it->key.len, &o, &t, NULL) != 0 ||
		    t != XR_JSON_STRING || it->offset != (size_t)(it->key.p - s->base))
			abort();
		check_string(it->key.p, it->key.len);
	} else if (it->offset != (size_t)(it->value.p - s->base)) {
		abort();
	}
	if (it->type == XR_JSON_STRING)
		check_string(it->value.p, it->value.len);
	if (it->depth == 1)
		s->children++;
	return 0;
}

/* Is text JSON to the scanner once its NUL bytes are taken out, at any
 * depth jansson allows? */
static bool scans_without_nul(const char *text, size_t size)
{
	const struct xr_json_scan_opts o = {.max_depth = XR_JSON_DEPTH_LIMIT};
	char *t = malloc(size ? size : 1);
	size_t n = 0;
	for (size_t i = 0; i < size; i++)
		if (text[i])
			t[n++] = text[i];
	bool ok = xr_json_scan(t, n, &o, NULL, NULL) == 0;
	free(t);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct seen s = {.base = text, .len = size};
	struct xr_json_scan_opts o = {
	    .max_depth = DEPTH, .report_depth = 2, .item = item, .ctx = &s};
	struct xr_err err = {0};
	enum xr_json_type t = XR_JSON_NONE;
	json_error_t je;

	int rc = xr_json_scan(text, size, &o, &t, &err);
	json_t *v = json_loadb(text, size, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (rc != 0 && (rc != XR_EINVAL || !err.msg[0] || !strstr(err.msg, "invalid json at byte")))
		abort();
	if (rc == 0 && !v && !by_design(&je))
		abort();
	if (rc != 0 && v) {
		/* Only the differences by design. */
		bool nul = strstr(err.msg, "(found byte 0x00)");
		bool deep = strstr(err.msg, "nesting deeper than 64") && depth_of(v) > DEPTH;
		if (!(nul || deep) || !scans_without_nul(text, size))
			abort();
	}
	if (rc == 0 && v) {
		if (!same_type(t, v))
			abort();
		if (json_is_array(v) && s.children != json_array_size(v))
			abort();
		if (json_is_object(v) && s.children < json_object_size(v))
			abort();
		if (t == XR_JSON_STRING) {
			/* The whole text, less whitespace, is the token. */
			size_t a = 0, b = size;
			while (is_ws(text[a]))
				a++;
			while (is_ws(text[b - 1]))
				b--;
			check_string(text + a, b - a);
		}
	}
	json_decref(v);
	return 0;
}
