/* fuzz_rlp.c - libFuzzer target for the strict RLP decoder and the header
 * decoder: no crash, and whatever either accepts re-encodes to exactly the
 * input (one encoding per value). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "header.h"
#include "rlp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void reencode(const struct xr_rlp_item *it, unsigned depth, struct xr_buf *b)
{
	struct xr_rlp_iter iter;
	struct xr_rlp_item c;
	int rc;

	if (it->kind == XR_RLP_BYTES) {
		uint64_t v;
		uint8_t u[32];
		/* Integers decode only from their minimal form. */
		if (xr_rlp_uint64(it, &v, "int", NULL) == 0 && it->len && it->p[0] == 0)
			abort();
		if (xr_rlp_uint256(it, u, "int", NULL) == 0 && it->len > 32)
			abort();
		xr_rlp_put_bytes(b, it->p, it->len);
		return;
	}
	size_t m = xr_rlp_list_begin(b);
	xr_rlp_iter_init(&iter, it, depth);
	while ((rc = xr_rlp_next(&iter, &c, NULL)) > 0)
		reencode(&c, depth + 1, b);
	if (rc < 0)
		abort(); /* the decoder checked the whole tree already */
	xr_rlp_list_end(b, m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xr_evm_header h;
	struct xr_rlp_item it;
	struct xr_buf b;

	xr_buf_init(&b, size + 16);
	if (xr_rlp_decode(data, size, &it, NULL) == 0) {
		reencode(&it, 1, &b);
		if (b.failed || b.len != size || memcmp(b.data, data, size) != 0)
			abort();
	}
	if (xr_evm_header_decode(data, size, &h, NULL) == 0) {
		xr_buf_reset(&b);
		if (xr_evm_header_encode(&h, &b, NULL) != 0 || b.len != size ||
		    memcmp(b.data, data, size) != 0)
			abort();
	}
	xr_buf_fini(&b);
	return 0;
}
