/* fuzz_note.c - libFuzzer target for opening signed notes against a fixed
 * committee ("golden" and "node2", seeds 0x01..0x20 and 0x21..0x40): no
 * crash, and an opened note's text is a prefix that ends in a newline. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "note.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct xr_vkey keys[3];

static void init_keys(void)
{
	static const char *const names[3] = {"golden", "node2", "node3"};
	for (int k = 0; k < 3; k++) {
		uint8_t seed[32];
		struct xr_signer s;
		for (int i = 0; i < 32; i++)
			seed[i] = (uint8_t)(1 + 32 * k + i);
		if (xr_signer_init(&s, names[k], seed, NULL) != 0)
			abort();
		keys[k] = s.key;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	const char *note = (const char *)data;
	size_t tl;
	uint64_t bits;

	if (!ready) {
		init_keys();
		ready = 1;
	}
	for (size_t threshold = 1; threshold <= 2; threshold++) {
		if (xr_note_open(note, size, keys, 3, threshold, &tl, &bits, NULL) != 0)
			continue;
		if (tl == 0 || tl + 2 > size || note[tl - 1] != '\n' || note[tl] != '\n' ||
		    bits > 7 || (size_t)__builtin_popcountll(bits) < threshold)
			abort();
		struct xr_checkpoint c;
		(void)xr_checkpoint_parse(note, tl, &c, NULL);
	}
	return 0;
}
