/* cmd_envelope.c - `xrelay envelope encode|decode|id`: the JSON view and the
 * canonical hex encoding of envelopes, on stdin and stdout. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "envelope_json.h"

static const char usage[] = "xrelay envelope encode|decode|id < INPUT";

static int read_input(struct xr_buf *in, struct xr_err *err)
{
	int rc = xr_read_file("-", 4 * XR_ENV_MAX_LEN, in, err);
	while (rc == 0 && in->len &&
	       (in->data[in->len - 1] == '\n' || in->data[in->len - 1] == '\r' ||
		in->data[in->len - 1] == ' '))
		in->len--;
	xr_buf_u8(in, 0);
	in->len--;
	return rc;
}

/* Parses the JSON view in `in` into its encoding. */
static int from_json_text(const struct xr_buf *in, uint8_t *enc, size_t *len, struct xr_err *err)
{
	json_error_t je;
	json_t *j = json_loadb((const char *)in->data, in->len, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		return xr_err_set(err, XR_EINVAL, "input is not JSON: %s (line %d)", je.text,
				  je.line);
	int rc = xr_envelope_from_json(j, enc, XR_ENV_MAX_LEN, len, err);
	json_decref(j);
	return rc;
}

int cmd_envelope(int argc, char **argv)
{
	struct xr_err err = {0};
	struct xr_buf in;
	uint8_t *enc = NULL, *bytes = NULL;
	size_t len = 0;
	int rc;

	if (argc != 2 || strcmp(argv[1], "--help") == 0) {
		FILE *o = argc == 2 ? stdout : stderr;
		fprintf(o,
			"usage: %s\n\n"
			"  encode  JSON view on stdin -> canonical hex on stdout\n"
			"  decode  hex on stdin -> JSON view on stdout\n"
			"  id      JSON view or hex on stdin -> envelope id (0x-hex)\n",
			usage);
		return argc == 2 ? 0 : 2;
	}
	const char *verb = argv[1];
	if (strcmp(verb, "encode") && strcmp(verb, "decode") && strcmp(verb, "id"))
		return xr_cli_usage(usage, "unknown envelope verb '%s'", verb);

	xr_buf_init(&in, 4 * XR_ENV_MAX_LEN + 1);
	enc = malloc(XR_ENV_MAX_LEN);
	if (!enc) {
		rc = xr_err_set(&err, XR_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = read_input(&in, &err)) < 0)
		goto out;
	bool is_json = in.len && (in.data[0] == '{' || in.data[0] == ' ' || in.data[0] == '\n');
	if (strcmp(verb, "decode") == 0 || (strcmp(verb, "id") == 0 && !is_json)) {
		struct xr_envelope e;
		if ((rc = xr_hex_decode_new((const char *)in.data, XR_ENV_MAX_LEN, &bytes, &len,
					    &err)) < 0 ||
		    (rc = xr_envelope_decode(bytes, len, &e, &err)) < 0)
			goto out;
		if (strcmp(verb, "id") == 0) {
			uint8_t id[32];
			char hex[65];
			xr_envelope_id(bytes, len, id);
			xr_hex_encode(id, 32, hex);
			printf("0x%s\n", hex);
		} else {
			json_t *j = xr_envelope_to_json(&e, &err);
			if (!j) {
				rc = err.code ? err.code : XR_ENOMEM;
				goto out;
			}
			xr_json_print(j, false);
			json_decref(j);
		}
	} else {
		if ((rc = from_json_text(&in, enc, &len, &err)) < 0)
			goto out;
		if (strcmp(verb, "id") == 0) {
			uint8_t id[32];
			char hex[65];
			xr_envelope_id(enc, len, id);
			xr_hex_encode(id, 32, hex);
			printf("0x%s\n", hex);
		} else {
			char *hex = xr_hex0x_new(enc, len);
			if (!hex) {
				rc = xr_err_set(&err, XR_ENOMEM, "out of memory");
				goto out;
			}
			printf("%s\n", hex);
			free(hex);
		}
	}
out:
	xr_buf_fini(&in);
	free(enc);
	free(bytes);
	return rc < 0 ? xr_cli_fail(&err) : 0;
}
