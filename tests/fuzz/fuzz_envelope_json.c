/* fuzz_envelope_json.c - libFuzzer target for the JSON view: whatever JSON
 * is accepted must give bytes that decode and map back to the same bytes. */
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

	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!j)
		return 0;
	if (xr_envelope_from_json(j, out, sizeof(out), &len, &err) < 0) {
		if (err.code != XR_EINVAL || err.msg[0] == '\0')
			abort();
		json_decref(j);
		return 0;
	}
	json_decref(j);

	if (xr_envelope_decode(out, len, &e, &err) < 0)
		abort();
	json_t *back = xr_envelope_to_json(&e, &err);
	if (!back)
		abort();
	if (xr_envelope_from_json(back, out2, sizeof(out2), &len2, &err) < 0 || len2 != len ||
	    memcmp(out2, out, len) != 0)
		abort();
	json_decref(back);
	return 0;
}
