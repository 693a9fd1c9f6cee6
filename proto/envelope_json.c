/* envelope_json.c - the JSON view of Envelope v1 (proto/ENVELOPE.md, "JSON
 * view"): strict in both directions, so the view maps one-to-one onto the
 * canonical bytes within its integer range. */
#include "envelope_json.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xr_bytes.h"

/* jansson integers are signed 64-bit: the JSON view limits the u64 fields to
 * 0..2^63-1 rather than silently wrapping. */
#define JSON_U64_MAX ((uint64_t)INT64_MAX)

#define SHOW_MAX 40
#define SHOW_CAP (SHOW_MAX * 4 + 4)

/* Untrusted text shown in an error message, kept to one short line. */
static const char *show(const char *s, size_t n, char out[SHOW_CAP])
{
	return xr_show(s, n, SHOW_MAX, out);
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char *s = xr_hex0x_new(p, n);
	json_t *j = s ? json_string(s) : NULL;
	free(s);
	return j;
}

static void add(json_t *o, const char *k, json_t *v, bool *ok)
{
	/* json_object_set_new releases v even when it fails. */
	if (json_object_set_new(o, k, v) < 0)
		*ok = false;
}

static int u64_fits(const char *what, uint64_t v, struct xr_err *err)
{
	if (v > JSON_U64_MAX)
		return xr_err_set(err, XR_EINVAL,
				  "%s %" PRIu64 " does not fit the json view, expected 0..2^63-1",
				  what, v);
	return 0;
}

json_t *xr_envelope_to_json(const struct xr_envelope *e, struct xr_err *err)
{
	uint8_t id[32];
	size_t len;
	char dec[80];
	bool ok = true;

	if (xr_envelope_check(e, err) < 0 || u64_fits("source height", e->src_height, err) < 0 ||
	    u64_fits("sequence", e->sequence, err) < 0 ||
	    u64_fits("source time", e->src_time, err) < 0)
		return NULL;
	uint8_t *enc = malloc(XR_ENV_MAX_LEN);
	if (!enc) {
		xr_err_set(err, XR_ENOMEM, "out of memory encoding the envelope");
		return NULL;
	}
	if (xr_envelope_encode(e, enc, XR_ENV_MAX_LEN, &len, err) < 0) {
		free(enc);
		return NULL;
	}
	xr_envelope_id(enc, len, id);
	free(enc);

	json_t *o = json_object(), *src = json_object(), *dst = json_object();
	add(o, "id", hex_json(id, 32), &ok);
	add(o, "kind", json_string(e->kind == XR_ENV_TRANSFER ? "transfer" : "message"), &ok);
	add(src, "chain", json_string(e->src_chain), &ok);
	add(src, "height", json_integer((json_int_t)e->src_height), &ok);
	add(src, "block", hex_json(e->src_block, 32), &ok);
	add(src, "tx", hex_json(e->src_tx, 32), &ok);
	add(src, "log_index", json_integer((json_int_t)e->log_index), &ok);
	add(src, "emitter", hex_json(e->emitter, e->emitter_len), &ok);
	add(src, "sequence", json_integer((json_int_t)e->sequence), &ok);
	add(src, "time", json_integer((json_int_t)e->src_time), &ok);
	add(o, "source", src, &ok);
	add(dst, "chain", json_string(e->dst_chain), &ok);
	add(dst, "recipient", hex_json(e->recipient, e->recipient_len), &ok);
	add(o, "destination", dst, &ok);
	add(o, "asset", json_string(e->asset), &ok);
	xr_u256_to_dec(e->amount, dec);
	add(o, "amount", json_string(dec), &ok);
	add(o, "payload", hex_json(e->payload, e->payload_len), &ok);
	if (!ok) {
		json_decref(o);
		xr_err_set(err, XR_ENOMEM, "out of memory building the envelope json");
		return NULL;
	}
	return o;
}

static const char *type_name(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a real number";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

/* Every key of o must be in keys, and every key of keys except "id" must be
 * in o. path is "" or the parent key with a dot, for the messages. */
static int
check_keys(const json_t *o, const char *path, const char *const *keys, struct xr_err *err)
{
	char sh[SHOW_CAP];
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)o, k, v)
	{
		size_t i = 0;
		while (keys[i] && strcmp(keys[i], k) != 0)
			i++;
		if (!keys[i])
			return xr_err_set(err, XR_EINVAL,
					  "unknown key \"%s%s\" in the envelope json", path,
					  show(k, strlen(k), sh));
	}
	for (size_t i = 0; keys[i]; i++)
		if (strcmp(keys[i], "id") != 0 && !json_object_get(o, keys[i]))
			return xr_err_set(err, XR_EINVAL,
					  "missing key \"%s%s\" in the envelope json", path,
					  keys[i]);
	return 0;
}

static int get_object(const json_t *o, const char *key, const json_t **ret, struct xr_err *err)
{
	const json_t *v = json_object_get(o, key);
	if (!json_is_object(v))
		return xr_err_set(err, XR_EINVAL, "%s is %s, expected an object", key,
				  type_name(v));
	*ret = v;
	return 0;
}

/* A string without embedded NUL of at most max bytes. */
static int get_string(const json_t *o,
		      const char *path,
		      const char *key,
		      size_t max,
		      const char **ret,
		      size_t *ret_len,
		      struct xr_err *err)
{
	const json_t *v = json_object_get(o, key);
	if (!json_is_string(v))
		return xr_err_set(err, XR_EINVAL, "%s%s is %s, expected a string", path, key,
				  type_name(v));
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	if (strlen(s) != n)
		return xr_err_set(err, XR_EINVAL, "%s%s has a nul character", path, key);
	if (n > max)
		return xr_err_set(err, XR_EINVAL, "%s%s of %zu characters, expected at most %zu",
				  path, key, n, max);
	*ret = s;
	*ret_len = n;
	return 0;
}

static int get_uint(const json_t *o,
		    const char *path,
		    const char *key,
		    uint64_t max,
		    uint64_t *ret,
		    struct xr_err *err)
{
	const json_t *v = json_object_get(o, key);
	if (!json_is_integer(v))
		return xr_err_set(err, XR_EINVAL, "%s%s is %s, expected an integer 0..%" PRIu64,
				  path, key, type_name(v), max);
	json_int_t i = json_integer_value(v);
	if (i < 0 || (uint64_t)i > max)
		return xr_err_set(err, XR_EINVAL,
				  "%s%s %" JSON_INTEGER_FORMAT
				  " is out of range, expected 0..%" PRIu64,
				  path, key, i, max);
	*ret = (uint64_t)i;
	return 0;
}

/* "0x" then hex digits of either case; returns the body after the prefix. */
static int get_hex(
    const json_t *o, const char *path, const char *key, const char **ret_body, struct xr_err *err)
{
	char sh[SHOW_CAP];
	const char *s = NULL;
	size_t n = 0;
	int rc;

	if ((rc = get_string(o, path, key, SIZE_MAX, &s, &n, err)) < 0)
		return rc;
	if (n < 2 || s[0] != '0' || s[1] != 'x')
		return xr_err_set(err, XR_EINVAL, "%s%s '%s' has no 0x prefix, expected 0x-hex",
				  path, key, show(s, n, sh));
	for (size_t i = 2; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return xr_err_set(err, XR_EINVAL,
					  "%s%s '%s' has a bad hex digit at position %zu", path,
					  key, show(s, n, sh), i);
	}
	*ret_body = s + 2;
	return 0;
}

static int get_hex_fixed(
    const json_t *o, const char *path, const char *key, uint8_t *out, size_t n, struct xr_err *err)
{
	const char *body = NULL;
	int rc;

	if ((rc = get_hex(o, path, key, &body, err)) < 0)
		return rc;
	if ((rc = xr_hex_decode_exact(body, out, n, err)) < 0)
		xr_err_prefix(err, "%s%s", path, key);
	return rc;
}

static int get_hex_var(const json_t *o,
		       const char *path,
		       const char *key,
		       size_t max,
		       uint8_t **ret,
		       size_t *ret_len,
		       struct xr_err *err)
{
	const char *body = NULL;
	int rc;

	if ((rc = get_hex(o, path, key, &body, err)) < 0)
		return rc;
	if ((rc = xr_hex_decode_new(body, max, ret, ret_len, err)) < 0)
		xr_err_prefix(err, "%s%s", path, key);
	return rc;
}

static const char *const top_keys[] = {
    "id", "kind", "source", "destination", "asset", "amount", "payload", NULL,
};
static const char *const src_keys[] = {
    "chain", "height", "block", "tx", "log_index", "emitter", "sequence", "time", NULL,
};
static const char *const dst_keys[] = {"chain", "recipient", NULL};

int xr_envelope_from_json(
    const json_t *j, uint8_t *out, size_t cap, size_t *ret_len, struct xr_err *err)
{
	const json_t *src = NULL, *dst = NULL;
	struct xr_envelope e;
	const char *s = NULL;
	char sh[SHOW_CAP];
	uint8_t *emitter = NULL, *recipient = NULL, *payload = NULL, *enc = NULL;
	size_t n = 0, emitter_len = 0, recipient_len = 0, payload_len = 0, len = 0;
	uint8_t want_id[32], id[32];
	uint64_t v = 0;
	int rc;

	memset(&e, 0, sizeof(e));
	if (!json_is_object(j))
		return xr_err_set(err, XR_EINVAL, "envelope json is %s, expected an object",
				  j ? type_name(j) : "missing");
	if ((rc = check_keys(j, "", top_keys, err)) < 0 ||
	    (rc = get_object(j, "source", &src, err)) < 0 ||
	    (rc = check_keys(src, "source.", src_keys, err)) < 0 ||
	    (rc = get_object(j, "destination", &dst, err)) < 0 ||
	    (rc = check_keys(dst, "destination.", dst_keys, err)) < 0)
		return rc;
	if (json_object_get(j, "id") && (rc = get_hex_fixed(j, "", "id", want_id, 32, err)) < 0)
		return rc;

	if ((rc = get_string(j, "", "kind", SIZE_MAX, &s, &n, err)) < 0)
		return rc;
	if (strcmp(s, "transfer") == 0)
		e.kind = XR_ENV_TRANSFER;
	else if (strcmp(s, "message") == 0)
		e.kind = XR_ENV_MESSAGE;
	else
		return xr_err_set(err, XR_EINVAL, "kind '%s', expected \"transfer\" or \"message\"",
				  show(s, n, sh));

	if ((rc = get_string(src, "source.", "chain", XR_ENV_CHAIN_MAX, &s, &n, err)) < 0)
		return rc;
	memcpy(e.src_chain, s, n + 1);
	if ((rc = get_uint(src, "source.", "height", JSON_U64_MAX, &e.src_height, err)) < 0 ||
	    (rc = get_hex_fixed(src, "source.", "block", e.src_block, 32, err)) < 0 ||
	    (rc = get_hex_fixed(src, "source.", "tx", e.src_tx, 32, err)) < 0 ||
	    (rc = get_uint(src, "source.", "log_index", UINT32_MAX, &v, err)) < 0)
		return rc;
	e.log_index = (uint32_t)v;
	if ((rc = get_uint(src, "source.", "sequence", JSON_U64_MAX, &e.sequence, err)) < 0 ||
	    (rc = get_uint(src, "source.", "time", JSON_U64_MAX, &e.src_time, err)) < 0 ||
	    (rc = get_string(dst, "destination.", "chain", XR_ENV_CHAIN_MAX, &s, &n, err)) < 0)
		return rc;
	memcpy(e.dst_chain, s, n + 1);
	if ((rc = get_string(j, "", "asset", XR_ENV_ASSET_MAX, &s, &n, err)) < 0)
		return rc;
	memcpy(e.asset, s, n + 1);
	if ((rc = get_string(j, "", "amount", SIZE_MAX, &s, &n, err)) < 0)
		return rc;
	if ((rc = xr_u256_from_dec(s, e.amount, err)) < 0) {
		xr_err_prefix(err, "amount");
		return rc;
	}

	if ((rc = get_hex_var(src, "source.", "emitter", XR_ENV_EMITTER_MAX, &emitter, &emitter_len,
			      err)) < 0 ||
	    (rc = get_hex_var(dst, "destination.", "recipient", XR_ENV_RECIPIENT_MAX, &recipient,
			      &recipient_len, err)) < 0 ||
	    (rc = get_hex_var(j, "", "payload", XR_ENV_PAYLOAD_MAX, &payload, &payload_len, err)) <
		0)
		goto out;
	memcpy(e.emitter, emitter, emitter_len);
	e.emitter_len = (uint8_t)emitter_len;
	memcpy(e.recipient, recipient, recipient_len);
	e.recipient_len = (uint8_t)recipient_len;
	e.payload = payload;
	e.payload_len = (uint32_t)payload_len;

	/* Encode aside so out is untouched when the id does not match. */
	if (!(enc = malloc(XR_ENV_MAX_LEN))) {
		rc = xr_err_set(err, XR_ENOMEM, "out of memory encoding the envelope");
		goto out;
	}
	if ((rc = xr_envelope_encode(&e, enc, XR_ENV_MAX_LEN, &len, err)) < 0)
		goto out;
	xr_envelope_id(enc, len, id);
	if (json_object_get(j, "id") && memcmp(id, want_id, 32) != 0) {
		char want[65], got[65];
		xr_hex_encode(want_id, 32, want);
		xr_hex_encode(id, 32, got);
		rc = xr_err_set(err, XR_EINVAL, "id 0x%s does not match the computed id 0x%s", want,
				got);
		goto out;
	}
	if (cap < len) {
		rc = xr_err_set(err, XR_EINVAL,
				"output buffer of %zu bytes is too small, the envelope needs %zu",
				cap, len);
		goto out;
	}
	memcpy(out, enc, len);
	*ret_len = len;
out:
	free(enc);
	free(payload);
	free(recipient);
	free(emitter);
	return rc;
}
