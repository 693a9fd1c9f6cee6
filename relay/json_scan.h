/* json_scan.h - a strict, allocation-free JSON (RFC 8259) checker that walks a
 * text once and hands back spans of the shallow values a caller asks for. */
#ifndef XR_JSON_SCAN_H
#define XR_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>

#include "xr_err.h"

/* Nesting deeper than this is refused when the caller does not say. */
#define XR_JSON_MAX_DEPTH 512
/* The largest max_depth a caller may ask for. */
#define XR_JSON_DEPTH_LIMIT 4096
/* The deepest items that can be reported (see report_depth). */
#define XR_JSON_REPORT_LIMIT 4

enum xr_json_type {
	XR_JSON_NONE = 0,
	XR_JSON_OBJECT,
	XR_JSON_ARRAY,
	XR_JSON_STRING,
	XR_JSON_NUMBER,
	XR_JSON_TRUE,
	XR_JSON_FALSE,
	XR_JSON_NULL,
};

/* Bytes of the scanned text (borrowed from it). */
struct xr_json_span {
	const char *p;
	size_t len;
};

/* One member of an object or element of an array, reported once its value
 * has been scanned. The top-level value has depth 0, its members or elements
 * depth 1, theirs depth 2. */
struct xr_json_item {
	unsigned depth;
	size_t index;		   /* among its siblings, from 0 */
	struct xr_json_span key;   /* the name token, quotes included; {NULL, 0} in arrays */
	struct xr_json_span value; /* the value's text, exactly as written */
	enum xr_json_type type;
	size_t offset; /* of the key (or of the value in an array) from the start of the text */
};

/* Returns 0 to go on; a negative code (with err set) stops the scan, which
 * then returns that code. */
typedef int (*xr_json_item_fn)(void *ctx, const struct xr_json_item *it, struct xr_err *err);

struct xr_json_scan_opts {
	unsigned max_depth;    /* 0: XR_JSON_MAX_DEPTH; at most XR_JSON_DEPTH_LIMIT */
	unsigned report_depth; /* report items of depth 1 to this; at most XR_JSON_REPORT_LIMIT */
	xr_json_item_fn item;  /* NULL: report nothing */
	void *ctx;
};

/* Checks that text[0, len) is exactly one JSON value with nothing but
 * whitespace around it: the RFC 8259 grammar, string escapes (a \u escape
 * of a surrogate must be a high one followed by a low one), no raw control
 * characters in strings, UTF-8 as RFC 3629 (no overlong forms, surrogates or
 * code points past U+10FFFF), the number grammar, and nesting no deeper than
 * max_depth. Allocates nothing; text need not be NUL-terminated.
 *
 * What it does not refuse, though some parsers do: \u0000 in strings and
 * names, numbers of any size (they are text here), and duplicate names
 * (a caller that cares sees every member through item).
 *
 * 0 with *ret_type (if not NULL) the type of the top-level value; XR_EINVAL
 * "invalid json at byte <offset>: <what>"; or what item returned. */
int xr_json_scan(const char *text,
		 size_t len,
		 const struct xr_json_scan_opts *o,
		 enum xr_json_type *ret_type,
		 struct xr_err *err);

/* Decodes a string token (quotes included) that xr_json_scan accepted into
 * UTF-8 in out, at most cap bytes (no NUL is added; \u0000 decodes to a NUL
 * byte). Returns the bytes written; *ret_cut (if not NULL) says whether the
 * string went on past cap. */
size_t xr_json_string_decode(const char *tok, size_t len, char *out, size_t cap, bool *ret_cut);

/* Is the string token (quotes included, accepted by xr_json_scan) the
 * string want (shorter than 64 bytes), escapes decoded? */
bool xr_json_string_eq(const char *tok, size_t len, const char *want);

#endif
