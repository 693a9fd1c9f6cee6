/* fuzz_vkeys.c - libFuzzer target for verifier key text: no crash, and every
 * key that parses formats back to a text that parses to the same key. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "note.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const struct xr_vkey *k)
{
	char text[XR_VKEY_MAX];
	struct xr_vkey back;
	xr_vkey_format(k, text);
	if (xr_vkey_parse(text, strlen(text), &back, NULL) != 0 ||
	    memcmp(&back, k, sizeof(back)) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xr_vkey k, *keys;
	size_t n;

	if (xr_vkey_parse((const char *)data, size, &k, NULL) == 0)
		roundtrip(&k);
	if (xr_vkeys_parse((const char *)data, size, &keys, &n, NULL) != 0)
		return 0;
	if (n == 0 || n > 1000)
		abort();
	for (size_t i = 0; i < n; i++)
		roundtrip(&keys[i]);
	free(keys);
	return 0;
}
