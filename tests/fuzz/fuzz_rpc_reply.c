/* fuzz_rpc_reply.c - JSON-RPC reply checking on hostile bodies: the one-pass
 * checks of relay/rpc.c against a reference built on a jansson tree. A
 * result handed back must be valid JSON, cut from the body, and equal to
 * the reference's "result". */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_scan.h"
#include "rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the reply means by the rules of rpc.h, read from a jansson tree that
 * refuses duplicate names everywhere (so it only decides the replies it
 * parses): 0 result, 1 error object, -1 malformed. */
static int reference(const json_t *o, json_t **ret_result)
{
	json_t *v = json_object_get(o, "jsonrpc"), *id = json_object_get(o, "id");
	json_t *res = json_object_get(o, "result"), *e = json_object_get(o, "error");
	if (!json_is_object(o) || !json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0 ||
	    json_string_length(v) != 3 || !json_is_integer(id) || json_integer_value(id) != 1 ||
	    !res == !e)
		return -1;
	if (res) {
		*ret_result = res;
		return 0;
	}
	if (!json_is_object(e) || !json_is_integer(json_object_get(e, "code")) ||
	    !json_is_string(json_object_get(e, "message")))
		return -1;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xr_err err = {0};
	char *res = NULL;
	size_t len;
	json_t *want = NULL;
	int rc = xr_rpc_check_reply((const char *)data, size, "eth_fuzz", 1, &res, &len, &err);
	json_t *root = json_loadb((const char *)data, size,
				  JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL);
	int ref = root ? reference(root, &want) : -2;

	if (rc == 0) {
		if (strlen(err.msg) != 0 || !res || res[len] != '\0' || ref == -1 || ref == 1)
			abort();
		if (xr_json_scan(res, len, NULL, NULL, NULL) != 0)
			abort();
		if (!memmem(data, size, res, len))
			abort();
		if (ref == 0) {
			json_t *j = json_loadb(res, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
			if (!j || !json_equal(j, want))
				abort();
			json_decref(j);
		}
		free(res);
	} else {
		if (!err.msg[0] || res)
			abort();
		if (rc != XR_EIO && rc != XR_EINVAL && rc != XR_EBUSY)
			abort();
		/* A reply the reference reads must get the same verdict, but for
		 * nesting jansson allows (2048) and rpc.c does not (512). */
		if (strstr(err.msg, "nesting deeper than") || strstr(err.msg, "(found byte 0x00)"))
			ref = -2;
		if (ref == 0 || (ref == 1 && rc == XR_EIO) || (ref == -1 && rc != XR_EIO))
			abort();
	}
	json_decref(root);
	return 0;
}
