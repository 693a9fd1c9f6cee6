/* envelope.c - Envelope v1 canonical binary codec, CAIP-2 check and uint256
 * decimal conversion. proto/ENVELOPE.md is the normative specification. */
#include "envelope.h"

#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "xr_bytes.h"

/* Untrusted bytes shown in an error message: printable ASCII as is, anything
 * else as \xNN, cut after SHOW_MAX input bytes, so a message stays one line. */
#define SHOW_MAX 40
#define SHOW_CAP (SHOW_MAX * 4 + 4)

static const char *show(const char *s, size_t n, char out[SHOW_CAP])
{
	return xr_show(s, n, SHOW_MAX, out);
}

static bool ns_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

static bool ref_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* Checks n bytes against ^[-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,32}$. The bytes may
 * hold a NUL when they come off the wire; NUL is no valid character. */
static int caip2_check_n(const char *what, const char *s, size_t n, struct xr_err *err)
{
	char sh[SHOW_CAP], ch[SHOW_CAP];
	size_t colon = 0;

	while (colon < n && s[colon] != ':')
		colon++;
	if (colon == n)
		return xr_err_set(err, XR_EINVAL,
				  "%s '%s' is not a caip-2 chain id: no ':' between namespace and "
				  "reference",
				  what, show(s, n, sh));
	for (size_t i = 0; i < colon; i++)
		if (!ns_char(s[i]))
			return xr_err_set(err, XR_EINVAL,
					  "%s '%s' is not a caip-2 chain id: namespace character "
					  "'%s' at offset %zu, expected [-a-z0-9]",
					  what, show(s, n, sh), show(s + i, 1, ch), i);
	if (colon < 3 || colon > 8)
		return xr_err_set(err, XR_EINVAL,
				  "%s '%s' is not a caip-2 chain id: namespace of %zu characters, "
				  "expected 3..8",
				  what, show(s, n, sh), colon);
	size_t rl = n - colon - 1;
	for (size_t i = colon + 1; i < n; i++)
		if (!ref_char(s[i]))
			return xr_err_set(err, XR_EINVAL,
					  "%s '%s' is not a caip-2 chain id: reference character "
					  "'%s' at offset %zu, expected [-_a-zA-Z0-9]",
					  what, show(s, n, sh), show(s + i, 1, ch), i);
	if (rl < 1 || rl > 32)
		return xr_err_set(err, XR_EINVAL,
				  "%s '%s' is not a caip-2 chain id: reference of %zu characters, "
				  "expected 1..32",
				  what, show(s, n, sh), rl);
	return 0;
}

int xr_caip2_check(const char *s, struct xr_err *err)
{
	if (!s)
		return xr_err_set(err, XR_EINVAL, "chain is missing, expected a caip-2 chain id");
	return caip2_check_n("chain", s, strlen(s), err);
}

static int chain_check_n(const char *what, const char *s, size_t n, struct xr_err *err)
{
	if (n < 1 || n > XR_ENV_CHAIN_MAX)
		return xr_err_set(err, XR_EINVAL, "%s length %zu, expected 1..%d", what, n,
				  XR_ENV_CHAIN_MAX);
	return caip2_check_n(what, s, n, err);
}

static int asset_check_n(const char *s, size_t n, struct xr_err *err)
{
	char sh[SHOW_CAP];

	if (n > XR_ENV_ASSET_MAX)
		return xr_err_set(err, XR_EINVAL, "asset length %zu, expected 0..%d", n,
				  XR_ENV_ASSET_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x21 || c > 0x7e)
			return xr_err_set(err, XR_EINVAL,
					  "asset '%s' has byte 0x%02x at offset %zu, expected "
					  "printable ascii 0x21..0x7e",
					  show(s, n, sh), c, i);
	}
	return 0;
}

static bool is_zero(const uint8_t v[32])
{
	uint8_t acc = 0;
	for (int i = 0; i < 32; i++)
		acc |= v[i];
	return acc == 0;
}

static int kind_check(uint8_t kind, struct xr_err *err)
{
	if (kind != XR_ENV_TRANSFER && kind != XR_ENV_MESSAGE)
		return xr_err_set(err, XR_EINVAL, "kind %u, expected 1 (transfer) or 2 (message)",
				  kind);
	return 0;
}

/* The rules that tie kind, asset and amount together. */
static int value_check(
    uint8_t kind, const char *asset, size_t asset_len, const uint8_t amount[32], struct xr_err *err)
{
	char sh[SHOW_CAP], dec[80];

	if (kind == XR_ENV_TRANSFER) {
		if (asset_len == 0)
			return xr_err_set(err, XR_EINVAL,
					  "transfer with empty asset, expected an asset id");
		if (is_zero(amount))
			return xr_err_set(err, XR_EINVAL,
					  "transfer with zero amount, expected 1..2^256-1");
		return 0;
	}
	if (!is_zero(amount)) {
		xr_u256_to_dec(amount, dec);
		return xr_err_set(err, XR_EINVAL, "message with non-zero amount %s, expected 0",
				  dec);
	}
	if (asset_len != 0)
		return xr_err_set(err, XR_EINVAL, "message with asset '%s', expected empty",
				  show(asset, asset_len, sh));
	return 0;
}

/* Length of a NUL-terminated string in a fixed array, or -1 when the array
 * holds no NUL: the struct may come from untrusted code paths. */
static int fixed_len(const char *s, size_t size, const char *what, size_t *ret, struct xr_err *err)
{
	size_t n = strnlen(s, size);
	if (n == size)
		return xr_err_set(err, XR_EINVAL, "%s is not nul-terminated within %zu bytes", what,
				  size);
	*ret = n;
	return 0;
}

int xr_envelope_check(const struct xr_envelope *e, struct xr_err *err)
{
	size_t sl = 0, dl = 0, al = 0;
	int rc;

	if ((rc = kind_check(e->kind, err)) < 0 ||
	    (rc = fixed_len(e->src_chain, sizeof(e->src_chain), "source chain", &sl, err)) < 0 ||
	    (rc = chain_check_n("source chain", e->src_chain, sl, err)) < 0)
		return rc;
	if (e->emitter_len < 1 || e->emitter_len > XR_ENV_EMITTER_MAX)
		return xr_err_set(err, XR_EINVAL, "emitter length %u, expected 1..%d",
				  e->emitter_len, XR_ENV_EMITTER_MAX);
	if ((rc = fixed_len(e->dst_chain, sizeof(e->dst_chain), "destination chain", &dl, err)) <
		0 ||
	    (rc = chain_check_n("destination chain", e->dst_chain, dl, err)) < 0)
		return rc;
	if (e->recipient_len < 1 || e->recipient_len > XR_ENV_RECIPIENT_MAX)
		return xr_err_set(err, XR_EINVAL, "recipient length %u, expected 1..%d",
				  e->recipient_len, XR_ENV_RECIPIENT_MAX);
	if ((rc = fixed_len(e->asset, sizeof(e->asset), "asset", &al, err)) < 0 ||
	    (rc = asset_check_n(e->asset, al, err)) < 0 ||
	    (rc = value_check(e->kind, e->asset, al, e->amount, err)) < 0)
		return rc;
	if (e->payload_len > XR_ENV_PAYLOAD_MAX)
		return xr_err_set(err, XR_EINVAL, "payload length %u, expected 0..%d",
				  e->payload_len, XR_ENV_PAYLOAD_MAX);
	if (e->payload_len && !e->payload)
		return xr_err_set(err, XR_EINVAL, "payload length %u with no payload bytes",
				  e->payload_len);
	return 0;
}

static uint8_t *put(uint8_t *o, const void *p, size_t n)
{
	if (n)
		memcpy(o, p, n);
	return o + n;
}

static uint8_t *put_u8(uint8_t *o, uint8_t v)
{
	*o = v;
	return o + 1;
}

static uint8_t *put_u32(uint8_t *o, uint32_t v)
{
	xr_put_be32(o, v);
	return o + 4;
}

static uint8_t *put_u64(uint8_t *o, uint64_t v)
{
	xr_put_be64(o, v);
	return o + 8;
}

int xr_envelope_encode(
    const struct xr_envelope *e, uint8_t *out, size_t cap, size_t *ret_len, struct xr_err *err)
{
	int rc = xr_envelope_check(e, err);
	if (rc < 0)
		return rc;

	/* Lengths are known valid now, so the casts to u8 below are exact. */
	size_t sl = strlen(e->src_chain), dl = strlen(e->dst_chain), al = strlen(e->asset);
	size_t len = 4 + 1 + 1 + sl + 8 + 32 + 32 + 4 + 1 + e->emitter_len + 8 + 1 + dl + 1 +
		     e->recipient_len + 1 + al + 32 + 8 + 4 + e->payload_len;
	if (cap < len)
		return xr_err_set(err, XR_EINVAL,
				  "output buffer of %zu bytes is too small, the envelope needs %zu",
				  cap, len);

	uint8_t *o = out;
	o = put(o, XR_ENV_MAGIC, 4);
	o = put_u8(o, e->kind);
	o = put_u8(o, (uint8_t)sl);
	o = put(o, e->src_chain, sl);
	o = put_u64(o, e->src_height);
	o = put(o, e->src_block, 32);
	o = put(o, e->src_tx, 32);
	o = put_u32(o, e->log_index);
	o = put_u8(o, e->emitter_len);
	o = put(o, e->emitter, e->emitter_len);
	o = put_u64(o, e->sequence);
	o = put_u8(o, (uint8_t)dl);
	o = put(o, e->dst_chain, dl);
	o = put_u8(o, e->recipient_len);
	o = put(o, e->recipient, e->recipient_len);
	o = put_u8(o, (uint8_t)al);
	o = put(o, e->asset, al);
	o = put(o, e->amount, 32);
	o = put_u64(o, e->src_time);
	o = put_u32(o, e->payload_len);
	o = put(o, e->payload, e->payload_len);
	assert((size_t)(o - out) == len);
	*ret_len = len;
	return 0;
}

/* Reads a u8 length in lo..hi and then that many bytes. */
static int read_len8(struct xr_reader *r,
		     const char *what,
		     const char *what_len,
		     size_t lo,
		     size_t hi,
		     const uint8_t **ret,
		     size_t *ret_n,
		     struct xr_err *err)
{
	uint8_t n = 0;
	int rc;

	if ((rc = xr_read_u8(r, &n, what_len, err)) < 0)
		return rc;
	if (n < lo || n > hi)
		return xr_err_set(err, XR_EINVAL, "%s %u, expected %zu..%zu", what_len, n, lo, hi);
	if ((rc = xr_read_bytes(r, n, ret, what, err)) < 0)
		return rc;
	*ret_n = n;
	return 0;
}

static int read_chain(struct xr_reader *r,
		      const char *what,
		      const char *what_len,
		      char out[XR_ENV_CHAIN_MAX + 1],
		      struct xr_err *err)
{
	const uint8_t *p = NULL;
	size_t n = 0;
	int rc;

	if ((rc = read_len8(r, what, what_len, 1, XR_ENV_CHAIN_MAX, &p, &n, err)) < 0 ||
	    (rc = caip2_check_n(what, (const char *)p, n, err)) < 0)
		return rc;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

static int
read_fixed(struct xr_reader *r, uint8_t *out, size_t n, const char *what, struct xr_err *err)
{
	const uint8_t *p = NULL;
	int rc = xr_read_bytes(r, n, &p, what, err);
	if (rc == 0)
		memcpy(out, p, n);
	return rc;
}

int xr_envelope_decode(const uint8_t *p, size_t len, struct xr_envelope *ret, struct xr_err *err)
{
	struct xr_envelope e;
	struct xr_reader r;
	const uint8_t *b = NULL;
	char sh[SHOW_CAP];
	size_t n = 0;
	int rc;

	memset(&e, 0, sizeof(e));
	xr_reader_init(&r, p, len);
	if ((rc = xr_read_bytes(&r, 4, &b, "magic", err)) < 0)
		return rc;
	if (memcmp(b, XR_ENV_MAGIC, 4) != 0)
		return xr_err_set(err, XR_EINVAL, "bad magic '%s', expected '%s'",
				  show((const char *)b, 4, sh), XR_ENV_MAGIC);
	if ((rc = xr_read_u8(&r, &e.kind, "kind", err)) < 0 || (rc = kind_check(e.kind, err)) < 0)
		return rc;
	if ((rc = read_chain(&r, "source chain", "source chain length", e.src_chain, err)) < 0 ||
	    (rc = xr_read_u64(&r, &e.src_height, "source height", err)) < 0 ||
	    (rc = read_fixed(&r, e.src_block, 32, "source block hash", err)) < 0 ||
	    (rc = read_fixed(&r, e.src_tx, 32, "source tx hash", err)) < 0 ||
	    (rc = xr_read_u32(&r, &e.log_index, "log index", err)) < 0)
		return rc;
	if ((rc = read_len8(&r, "emitter", "emitter length", 1, XR_ENV_EMITTER_MAX, &b, &n, err)) <
	    0)
		return rc;
	memcpy(e.emitter, b, n);
	e.emitter_len = (uint8_t)n;
	if ((rc = xr_read_u64(&r, &e.sequence, "sequence", err)) < 0 ||
	    (rc = read_chain(&r, "destination chain", "destination chain length", e.dst_chain,
			     err)) < 0)
		return rc;
	if ((rc = read_len8(&r, "recipient", "recipient length", 1, XR_ENV_RECIPIENT_MAX, &b, &n,
			    err)) < 0)
		return rc;
	memcpy(e.recipient, b, n);
	e.recipient_len = (uint8_t)n;
	if ((rc = read_len8(&r, "asset", "asset length", 0, XR_ENV_ASSET_MAX, &b, &n, err)) < 0 ||
	    (rc = asset_check_n((const char *)b, n, err)) < 0)
		return rc;
	memcpy(e.asset, b, n);
	e.asset[n] = '\0';
	if ((rc = read_fixed(&r, e.amount, 32, "amount", err)) < 0 ||
	    (rc = value_check(e.kind, e.asset, n, e.amount, err)) < 0 ||
	    (rc = xr_read_u64(&r, &e.src_time, "source time", err)) < 0 ||
	    (rc = xr_read_u32(&r, &e.payload_len, "payload length", err)) < 0)
		return rc;
	if (e.payload_len > XR_ENV_PAYLOAD_MAX)
		return xr_err_set(err, XR_EINVAL, "payload length %u, expected 0..%d",
				  e.payload_len, XR_ENV_PAYLOAD_MAX);
	if ((rc = xr_read_bytes(&r, e.payload_len, &e.payload, "payload", err)) < 0)
		return rc;
	if (r.off != len)
		return xr_err_set(err, XR_EINVAL,
				  "%zu trailing bytes after the payload at offset %zu", len - r.off,
				  r.off);
	*ret = e;
	return 0;
}

void xr_envelope_id(const uint8_t *enc, size_t len, uint8_t ret_id[32])
{
	xr_sha256(enc, len, ret_id);
}

int xr_u256_from_dec(const char *s, uint8_t ret[32], struct xr_err *err)
{
	char sh[SHOW_CAP], ch[SHOW_CAP];
	uint8_t v[32] = {0};

	if (!s)
		return xr_err_set(err, XR_EINVAL, "decimal is missing, expected 0..2^256-1");
	size_t n = strnlen(s, 80);
	if (n == 0)
		return xr_err_set(err, XR_EINVAL, "decimal is empty, expected 0..2^256-1");
	if (n > 78)
		return xr_err_set(err, XR_EINVAL, "decimal '%s' has more than 78 digits",
				  show(s, n, sh));
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return xr_err_set(err, XR_EINVAL,
					  "decimal '%s' has '%s' at position %zu, expected digits "
					  "only",
					  show(s, n, sh), show(s + i, 1, ch), i);
	if (s[0] == '0' && n > 1)
		return xr_err_set(err, XR_EINVAL, "decimal '%s' has a leading zero", s);
	for (size_t i = 0; i < n; i++) {
		unsigned carry = (unsigned)(s[i] - '0');
		for (int k = 31; k >= 0; k--) {
			unsigned t = v[k] * 10u + carry;
			v[k] = (uint8_t)t;
			carry = t >> 8;
		}
		if (carry)
			return xr_err_set(err, XR_EINVAL, "decimal '%s' exceeds 2^256-1", s);
	}
	memcpy(ret, v, 32);
	return 0;
}

void xr_u256_to_dec(const uint8_t v[32], char out[80])
{
	uint8_t t[32];
	char rev[80];
	size_t n = 0;

	memcpy(t, v, 32);
	for (;;) {
		unsigned rem = 0;
		bool nz = false;
		for (int k = 0; k < 32; k++) {
			unsigned cur = rem << 8 | t[k];
			t[k] = (uint8_t)(cur / 10);
			rem = cur % 10;
			nz |= t[k] != 0;
		}
		rev[n++] = (char)('0' + rem);
		if (!nz)
			break;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = rev[n - 1 - i];
	out[n] = '\0';
}
