/* fuzz_record.c - libFuzzer target for the Record v1 decoder and the ENVELOPE
 * and MEMBER body decoders: no crash, and what decodes encodes back to the
 * same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_body(const struct xr_record *r)
{
	struct xr_buf b;
	xr_buf_init(&b, XR_RECORD_BODY_MAX);
	if (r->type == XR_REC_ENVELOPE) {
		const uint8_t *env, *dig;
		size_t el;
		if (xr_envelope_body_decode(r->body, r->body_len, &env, &el, &dig, NULL) == 0 &&
		    (xr_envelope_body_encode(env, el, dig, &b, NULL) != 0 || b.len != r->body_len ||
		     memcmp(b.data, r->body, b.len) != 0))
			abort();
	} else if (r->type == XR_REC_MEMBER) {
		struct xr_member m;
		if (xr_member_decode(r->body, r->body_len, &m, NULL) == 0 &&
		    (xr_member_encode(&m, &b, NULL) != 0 || b.len != r->body_len ||
		     memcmp(b.data, r->body, b.len) != 0))
			abort();
	}
	xr_buf_fini(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t pub[32] = {0x79, 0xb5, 0x56, 0x2e}; /* any key will do */
	struct xr_record r;
	struct xr_buf b;

	/* Bodies on their own, too: the ledger decodes them from storage. */
	struct xr_record whole = {
	    .type = XR_REC_ENVELOPE, .body = data, .body_len = (uint32_t)size};
	if (size <= XR_RECORD_BODY_MAX) {
		check_body(&whole);
		whole.type = XR_REC_MEMBER;
		check_body(&whole);
	}

	if (xr_record_decode(data, size, &r, NULL) != 0)
		return 0;
	if (r.body < data || r.body + r.body_len > data + size)
		abort();
	(void)xr_record_verify_sig(data, size, &r, pub, NULL);
	check_body(&r);
	/* Unsigned re-encoding reproduces everything before the signature. */
	xr_buf_init(&b, XR_RECORD_MAX_LEN);
	if (xr_record_encode(&r, NULL, &b, NULL) != 0)
		abort();
	size_t pre = size - (r.sig_len ? 65 : 1);
	if (b.len != pre + 1 || memcmp(b.data, data, pre) != 0 || b.data[pre] != 0)
		abort();
	xr_buf_fini(&b);
	return 0;
}
