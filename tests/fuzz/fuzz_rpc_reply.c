/* fuzz_rpc_reply.c - JSON-RPC reply checking on hostile bodies, including the
 * text scanner that cuts the result out of the node's own reply text. A
 * result handed back must itself be valid JSON. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xr_err err = {0};
	char *res = NULL;
	size_t len;
	if (xr_rpc_check_reply((const char *)data, size, "eth_fuzz", 1, &res, &len, &err) == 0) {
		json_t *j = json_loadb(res, len, JSON_DECODE_ANY, NULL);
		if (!j)
			abort();
		json_decref(j);
		free(res);
	} else if (!err.msg[0]) {
		abort();
	}
	return 0;
}
