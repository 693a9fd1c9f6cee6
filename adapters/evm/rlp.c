/* rlp.c - RLP encoder and strict (canonical-only) decoder. */
#include "rlp.h"

#include <string.h>

/* --- encoding ------------------------------------------------------------ */

static size_t be_len(uint64_t v)
{
	size_t n = 0;
	for (; v; v >>= 8)
		n++;
	return n;
}

/* Writes the header for a payload of len bytes into h; returns its size. */
static size_t make_header(uint8_t h[9], uint8_t base, uint64_t len)
{
	if (len < 56) {
		h[0] = (uint8_t)(base + len);
		return 1;
	}
	size_t ll = be_len(len);
	h[0] = (uint8_t)(base + 55 + ll);
	for (size_t i = 0; i < ll; i++)
		h[1 + i] = (uint8_t)(len >> (8 * (ll - 1 - i)));
	return 1 + ll;
}

void xr_rlp_put_bytes(struct xr_buf *b, const void *p, size_t n)
{
	const uint8_t *d = p;
	uint8_t h[9];

	if (n == 1 && d[0] < 0x80) {
		xr_buf_u8(b, d[0]);
		return;
	}
	xr_buf_put(b, h, make_header(h, 0x80, n));
	xr_buf_put(b, d, n);
}

void xr_rlp_put_uint(struct xr_buf *b, uint64_t v)
{
	uint8_t be[8];
	xr_put_be64(be, v);
	xr_rlp_put_uint_be(b, be, sizeof(be));
}

void xr_rlp_put_uint_be(struct xr_buf *b, const uint8_t *be, size_t n)
{
	while (n > 0 && be[0] == 0) {
		be++;
		n--;
	}
	xr_rlp_put_bytes(b, be, n);
}

void xr_rlp_put_raw(struct xr_buf *b, const void *p, size_t n)
{
	xr_buf_put(b, p, n);
}

size_t xr_rlp_list_begin(const struct xr_buf *b)
{
	return b->len;
}

void xr_rlp_list_end(struct xr_buf *b, size_t mark)
{
	uint8_t h[9];

	if (b->failed)
		return;
	if (mark > b->len) {
		b->failed = true;
		return;
	}
	size_t len = b->len - mark;
	size_t hl = make_header(h, 0xc0, len);
	/* Grow by the header size, then slide the payload up behind it. */
	xr_buf_put(b, h, hl);
	if (b->failed)
		return;
	memmove(b->data + mark + hl, b->data + mark, len);
	memcpy(b->data + mark, h, hl);
}

/* --- decoding ------------------------------------------------------------ */

/* Reads the header of the item at p[off..n) and checks that it is the
 * canonical one and that the payload ends at or before n. */
static int header(const uint8_t *p,
		  size_t n,
		  size_t off,
		  enum xr_rlp_kind *ret_kind,
		  size_t *ret_poff,
		  size_t *ret_plen,
		  struct xr_err *err)
{
	if (off >= n)
		return xr_err_set(err, XR_EINVAL, "rlp truncated: no item at offset %zu", off);
	uint8_t b = p[off];
	if (b < 0x80) {
		*ret_kind = XR_RLP_BYTES;
		*ret_poff = off;
		*ret_plen = 1;
		return 0;
	}
	enum xr_rlp_kind kind = b >= 0xc0 ? XR_RLP_LIST : XR_RLP_BYTES;
	unsigned s = b - (kind == XR_RLP_LIST ? 0xc0u : 0x80u);
	size_t left = n - off - 1, hl = 1;
	uint64_t len;
	if (s <= 55) {
		len = s;
	} else {
		size_t ll = s - 55;
		if (ll > left)
			return xr_err_set(
			    err, XR_EINVAL,
			    "rlp truncated: length of %zu bytes at offset %zu, have %zu", ll, off,
			    left);
		if (p[off + 1] == 0)
			return xr_err_set(err, XR_EINVAL,
					  "rlp length at offset %zu has a leading zero byte", off);
		len = 0;
		for (size_t i = 0; i < ll; i++)
			len = len << 8 | p[off + 1 + i];
		if (len < 56)
			return xr_err_set(err, XR_EINVAL,
					  "rlp long form for length %u at offset %zu (must be "
					  "short form below 56)",
					  (unsigned)len, off);
		hl += ll;
		left -= ll;
	}
	if (len > left)
		return xr_err_set(
		    err, XR_EINVAL,
		    "rlp length %llu at offset %zu runs past the end (%zu bytes left)",
		    (unsigned long long)len, off, left);
	if (kind == XR_RLP_BYTES && len == 1 && p[off + 1] < 0x80)
		return xr_err_set(err, XR_EINVAL,
				  "rlp byte 0x%02x at offset %zu must be encoded as itself",
				  p[off + 1], off);
	*ret_kind = kind;
	*ret_poff = off + hl;
	*ret_plen = (size_t)len;
	return 0;
}

/* Checks the item at p[off..n) and everything inside it; *ret_end is the
 * offset just past it. */
static int check_item(
    const uint8_t *p, size_t n, size_t off, unsigned depth, size_t *ret_end, struct xr_err *err)
{
	enum xr_rlp_kind kind = XR_RLP_BYTES;
	size_t poff = 0, plen = 0;
	int rc = header(p, n, off, &kind, &poff, &plen, err);
	if (rc < 0)
		return rc;
	size_t end = poff + plen;
	if (kind == XR_RLP_LIST) {
		if (depth > XR_RLP_MAX_DEPTH)
			return xr_err_set(err, XR_EINVAL,
					  "rlp list at offset %zu nested deeper than %d", off,
					  XR_RLP_MAX_DEPTH);
		for (size_t o = poff; o < end;)
			if ((rc = check_item(p, end, o, depth + 1, &o, err)) < 0)
				return rc;
	}
	*ret_end = end;
	return 0;
}

static void fill(const uint8_t *p,
		 size_t off,
		 enum xr_rlp_kind kind,
		 size_t poff,
		 size_t plen,
		 struct xr_rlp_item *ret)
{
	ret->kind = kind;
	ret->p = p + poff;
	ret->len = plen;
	ret->raw = p + off;
	ret->raw_len = poff + plen - off;
}

int xr_rlp_decode_prefix(
    const uint8_t *p, size_t n, struct xr_rlp_item *ret, size_t *ret_used, struct xr_err *err)
{
	enum xr_rlp_kind kind = XR_RLP_BYTES;
	size_t poff = 0, plen = 0, end;
	int rc;

	if ((rc = check_item(p, n, 0, 1, &end, err)) < 0)
		return rc;
	if ((rc = header(p, n, 0, &kind, &poff, &plen, err)) < 0)
		return rc;
	fill(p, 0, kind, poff, plen, ret);
	*ret_used = end;
	return 0;
}

int xr_rlp_decode(const uint8_t *p, size_t n, struct xr_rlp_item *ret, struct xr_err *err)
{
	struct xr_rlp_item it;
	size_t used;
	int rc = xr_rlp_decode_prefix(p, n, &it, &used, err);
	if (rc < 0)
		return rc;
	if (used != n)
		return xr_err_set(err, XR_EINVAL, "rlp has %zu trailing bytes after the item",
				  n - used);
	*ret = it;
	return 0;
}

void xr_rlp_iter_init(struct xr_rlp_iter *it, const struct xr_rlp_item *list, unsigned depth)
{
	it->p = list->p;
	it->len = list->kind == XR_RLP_LIST ? list->len : 0;
	it->off = 0;
	it->depth = depth;
}

int xr_rlp_next(struct xr_rlp_iter *it, struct xr_rlp_item *ret, struct xr_err *err)
{
	enum xr_rlp_kind kind = XR_RLP_BYTES;
	size_t poff = 0, plen = 0;

	if (it->off >= it->len)
		return 0;
	int rc = header(it->p, it->len, it->off, &kind, &poff, &plen, err);
	if (rc < 0)
		return rc;
	if (kind == XR_RLP_LIST && it->depth + 1 > XR_RLP_MAX_DEPTH)
		return xr_err_set(err, XR_EINVAL, "rlp list nested deeper than %d",
				  XR_RLP_MAX_DEPTH);
	fill(it->p, it->off, kind, poff, plen, ret);
	it->off = poff + plen;
	return 1;
}

int xr_rlp_list_count(const struct xr_rlp_item *list, size_t *ret, struct xr_err *err)
{
	struct xr_rlp_iter it;
	struct xr_rlp_item item;
	size_t count = 0;
	int rc;

	if (list->kind != XR_RLP_LIST)
		return xr_err_set(err, XR_EINVAL, "rlp item is a byte string, expected a list");
	xr_rlp_iter_init(&it, list, 1);
	while ((rc = xr_rlp_next(&it, &item, err)) > 0)
		count++;
	if (rc < 0)
		return rc;
	*ret = count;
	return 0;
}

int xr_rlp_list_exact(const struct xr_rlp_item *list,
		      struct xr_rlp_item *items,
		      size_t n,
		      const char *what,
		      struct xr_err *err)
{
	struct xr_rlp_iter it;
	struct xr_rlp_item item;
	size_t count = 0;
	int rc;

	if (list->kind != XR_RLP_LIST)
		return xr_err_set(err, XR_EINVAL, "%s is a byte string, expected a list of %zu",
				  what, n);
	xr_rlp_iter_init(&it, list, 1);
	while ((rc = xr_rlp_next(&it, &item, err)) > 0) {
		if (count < n)
			items[count] = item;
		count++;
	}
	if (rc < 0)
		return rc;
	if (count != n)
		return xr_err_set(err, XR_EINVAL, "%s has %zu items, expected %zu", what, count, n);
	return 0;
}

static int
check_uint(const struct xr_rlp_item *it, size_t max, const char *what, struct xr_err *err)
{
	if (it->kind != XR_RLP_BYTES)
		return xr_err_set(err, XR_EINVAL, "%s is a list, expected an integer", what);
	if (it->len > max)
		return xr_err_set(err, XR_EINVAL, "%s is %zu bytes long, expected at most %zu",
				  what, it->len, max);
	if (it->len > 0 && it->p[0] == 0)
		return xr_err_set(err, XR_EINVAL, "%s has a leading zero byte", what);
	return 0;
}

int xr_rlp_uint64(const struct xr_rlp_item *it, uint64_t *ret, const char *what, struct xr_err *err)
{
	int rc = check_uint(it, 8, what, err);
	if (rc < 0)
		return rc;
	uint64_t v = 0;
	for (size_t i = 0; i < it->len; i++)
		v = v << 8 | it->p[i];
	*ret = v;
	return 0;
}

int xr_rlp_uint256(const struct xr_rlp_item *it,
		   uint8_t out[32],
		   const char *what,
		   struct xr_err *err)
{
	int rc = check_uint(it, 32, what, err);
	if (rc < 0)
		return rc;
	memset(out, 0, 32 - it->len);
	if (it->len)
		memcpy(out + 32 - it->len, it->p, it->len);
	return 0;
}

int xr_rlp_fixed(
    const struct xr_rlp_item *it, uint8_t *out, size_t n, const char *what, struct xr_err *err)
{
	if (it->kind != XR_RLP_BYTES)
		return xr_err_set(err, XR_EINVAL, "%s is a list, expected %zu bytes", what, n);
	if (it->len != n)
		return xr_err_set(err, XR_EINVAL, "%s is %zu bytes long, expected %zu", what,
				  it->len, n);
	memcpy(out, it->p, n);
	return 0;
}
