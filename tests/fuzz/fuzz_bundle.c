/* fuzz_bundle.c - proof-bundle verification on hostile JSON. The committee is
 * one fixed key (seed 0x01..0x20, name "node1"); the corpus holds real
 * bundles signed by it, so mutations reach every stage of verification. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "note.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct xr_signer signer;
	static int ready;
	static const struct xr_evidence_ops *const ops[] = {&xr_evidence_none};
	if (!ready) {
		uint8_t seed[32];
		for (int i = 0; i < 32; i++)
			seed[i] = (uint8_t)(i + 1);
		if (xr_signer_init(&signer, "node1", seed, NULL) < 0)
			abort();
		ready = 1;
	}
	json_t *j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
	if (!j)
		return 0;
	struct xr_err err = {0};
	struct xr_bundle_result res;
	int rc = xr_bundle_verify(j, &signer.key, 1, 1, ops, 1, &res, &err);
	/* A failure always says why. */
	if (rc < 0 && err.msg[0] == '\0')
		abort();
	json_decref(j);
	return 0;
}
