/* rlp.h - Recursive Length Prefix (Ethereum yellow paper, appendix B): an
 * encoder into xr_buf and a strict decoder that accepts only the canonical
 * encoding and hands out borrowed views into the input. */
#ifndef XR_EVM_RLP_H
#define XR_EVM_RLP_H

#include <stddef.h>
#include <stdint.h>

#include "xr_bytes.h"
#include "xr_err.h"

/* Lists nested deeper than this are refused by the decoder; the top item is
 * at depth 1, so a list holding a list is depth 2. */
#define XR_RLP_MAX_DEPTH 64

enum xr_rlp_kind {
	XR_RLP_BYTES = 0,
	XR_RLP_LIST = 1,
};

/* A decoded item: payload view plus the span of its whole encoding (header
 * included). Both borrow from the decoded input. */
struct xr_rlp_item {
	enum xr_rlp_kind kind;
	const uint8_t *p; /* payload: the bytes, or the concatenated list items */
	size_t len;
	const uint8_t *raw; /* header and payload, as they appear in the input */
	size_t raw_len;
};

/* --- encoding: every call appends to b; failures latch b->failed --------- */

void xr_rlp_put_bytes(struct xr_buf *b, const void *p, size_t n);
/* An integer as its minimal big-endian bytes (0 is the empty string). */
void xr_rlp_put_uint(struct xr_buf *b, uint64_t v);
/* A big-endian integer of n bytes (e.g. a uint256), leading zeros stripped. */
void xr_rlp_put_uint_be(struct xr_buf *b, const uint8_t *be, size_t n);
/* An item that is already RLP-encoded, copied verbatim. */
void xr_rlp_put_raw(struct xr_buf *b, const void *p, size_t n);
/* A list: remember the mark from begin, append the items, then end inserts
 * the header in front of them. Lists nest by nesting begin/end pairs. */
size_t xr_rlp_list_begin(const struct xr_buf *b);
void xr_rlp_list_end(struct xr_buf *b, size_t mark);

/* --- decoding ------------------------------------------------------------ */

/* Decodes the one item that spans all of p[0..n): the whole tree is checked
 * (canonical headers, lengths inside their parent, depth at most
 * XR_RLP_MAX_DEPTH) and trailing bytes are refused. *ret borrows from p. */
int xr_rlp_decode(const uint8_t *p, size_t n, struct xr_rlp_item *ret, struct xr_err *err);
/* As xr_rlp_decode for the first item of p[0..n), which may be followed by
 * more bytes; *ret_used is the length of that item's encoding. */
int xr_rlp_decode_prefix(
    const uint8_t *p, size_t n, struct xr_rlp_item *ret, size_t *ret_used, struct xr_err *err);

/* Walks the items of a list. The items of a list from xr_rlp_decode are
 * already checked; the iterator checks each header again anyway, so it is
 * safe on any view. */
struct xr_rlp_iter {
	const uint8_t *p;
	size_t len, off;
	unsigned depth;
};

/* list must be an XR_RLP_LIST item; depth is that list's depth (1 for a
 * top-level item), used to keep the depth cap on nested items. */
void xr_rlp_iter_init(struct xr_rlp_iter *it, const struct xr_rlp_item *list, unsigned depth);
/* Returns 1 and fills *ret with the next item, 0 at the end of the list, or
 * a negative error code. */
int xr_rlp_next(struct xr_rlp_iter *it, struct xr_rlp_item *ret, struct xr_err *err);

/* Splits a list into exactly n items (a struct with a fixed field count);
 * fails naming `what` when the list has a different number of items. */
int xr_rlp_list_exact(const struct xr_rlp_item *list,
		      struct xr_rlp_item *items,
		      size_t n,
		      const char *what,
		      struct xr_err *err);
/* Counts the items of a list. */
int xr_rlp_list_count(const struct xr_rlp_item *list, size_t *ret, struct xr_err *err);

/* Integers: a byte string with no leading zero byte (0 is the empty string).
 * xr_rlp_uint64 refuses more than 8 bytes; xr_rlp_uint256 refuses more than
 * 32 and writes the value big-endian, left-padded, into out. */
int xr_rlp_uint64(const struct xr_rlp_item *it,
		  uint64_t *ret,
		  const char *what,
		  struct xr_err *err);
int xr_rlp_uint256(const struct xr_rlp_item *it,
		   uint8_t out[32],
		   const char *what,
		   struct xr_err *err);
/* A byte string of exactly n bytes, copied into out. */
int xr_rlp_fixed(
    const struct xr_rlp_item *it, uint8_t *out, size_t n, const char *what, struct xr_err *err);

#endif
