/* fuzz_checkpoint.c - libFuzzer target for the checkpoint text parser: no
 * crash, and a text that parses formats back to exactly the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "note.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xr_checkpoint c;
	struct xr_buf b;

	if (xr_checkpoint_parse((const char *)data, size, &c, NULL) != 0)
		return 0;
	xr_buf_init(&b, 4096);
	if (xr_checkpoint_format(&c, &b, NULL) != 0 || b.len != size ||
	    memcmp(b.data, data, size) != 0)
		abort();
	xr_buf_fini(&b);
	return 0;
}
