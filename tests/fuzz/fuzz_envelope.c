/* fuzz_envelope.c - libFuzzer target for the Envelope v1 decoder: whatever
 * decodes must re-encode to the same bytes and survive the JSON view. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"
#include "envelope_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t out[XR_ENV_MAX_LEN], out2[XR_ENV_MAX_LEN];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xr_envelope e;
	struct xr_err err = {0};
	size_t len = 0, len2 = 0;

	if (xr_envelope_decode(data, size, &e, &err) < 0) {
		if (err.code != XR_EINVAL || err.msg[0] == '\0')
			abort();
		return 0;
	}
	if (xr_envelope_check(&e, &err) < 0 ||
	    xr_envelope_encode(&e, out, sizeof(out), &len, &err) < 0 || len != size ||
	    memcmp(out, data, size) != 0)
		abort();

	/* The JSON view holds every envelope except u64 fields above 2^63-1. */
	json_t *j = xr_envelope_to_json(&e, &err);
	if (!j) {
		if (e.src_height <= INT64_MAX && e.sequence <= INT64_MAX && e.src_time <= INT64_MAX)
			abort();
		return 0;
	}
	if (xr_envelope_from_json(j, out2, sizeof(out2), &len2, &err) < 0 || len2 != size ||
	    memcmp(out2, data, size) != 0)
		abort();
	json_decref(j);
	return 0;
}
