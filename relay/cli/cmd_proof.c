/* cmd_proof.c - `xrelay proof`: the proof bundle of one record. */
#include "cli.h"

#include <getopt.h>
#include <string.h>

#include "bundle_build.h"

static const char usage[] = "xrelay proof --dir DIR (--index I | --id 0xENVELOPE_ID) [--compact]";

/* Which framework's evidence record `index` carries (NULL: none needed).
 * When want_id is not NULL the record must be the envelope with that id: the
 * index that led here is derived state, and a bundle of another record would
 * verify while answering a different question. */
static int evidence_of(struct xr_ledger *l,
		       uint64_t index,
		       const uint8_t *want_id,
		       const struct xr_evidence_ops **ret,
		       struct xr_err *err)
{
	struct xr_buf rec, ev;
	struct xr_record r;
	const uint8_t *env, *dig;
	size_t env_len;
	struct xr_envelope e;
	uint8_t id[32];
	int rc;
	xr_buf_init(&rec, XR_RECORD_MAX_LEN);
	xr_buf_init(&ev, (size_t)64 << 20);
	*ret = NULL;
	if ((rc = xr_ledger_record(l, index, &rec, err)) < 0 ||
	    (rc = xr_record_decode(rec.data, rec.len, &r, err)) < 0)
		goto out;
	if (r.type != XR_REC_ENVELOPE) {
		if (want_id)
			rc = xr_err_set(err, XR_EIO,
					"the envelope index points at record %llu, a %s record",
					(unsigned long long)index, xr_record_type_name(r.type));
		goto out;
	}
	if ((rc = xr_envelope_body_decode(r.body, r.body_len, &env, &env_len, &dig, err)) < 0 ||
	    (rc = xr_envelope_decode(env, env_len, &e, err)) < 0)
		goto out;
	xr_envelope_id(env, env_len, id);
	if (want_id && memcmp(id, want_id, 32) != 0) {
		rc = xr_err_set(err, XR_EIO,
				"the envelope index points at record %llu, which holds another "
				"envelope",
				(unsigned long long)index);
		goto out;
	}
	if ((rc = xr_ledger_evidence(l, index, &ev, err)) < 0)
		goto out;
	if (!(*ret = xr_evidence_for_chain(e.src_chain, ev.len)))
		rc = xr_err_set(err, XR_EINVAL, "no evidence framework is known for %s",
				e.src_chain);
out:
	xr_buf_fini(&rec);
	xr_buf_fini(&ev);
	return rc;
}

int cmd_proof(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'}, {"index", required_argument, NULL, 'i'},
	    {"id", required_argument, NULL, 'I'},  {"compact", no_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},	   {NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *idx_s = NULL, *id_s = NULL;
	bool compact = false;
	struct xr_err err = {0};
	struct xr_node node;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'i':
			idx_s = optarg;
			break;
		case 'I':
			id_s = optarg;
			break;
		case 'c':
			compact = true;
			break;
		case 'h':
			printf(
			    "usage: %s\n\nPrints the proof bundle (JSON) of the record at an "
			    "index, or of the envelope with\nthat id: envelope, record, evidence, "
			    "inclusion proof and the signed checkpoint\nthat covers it. `xrelay "
			    "verify` checks it offline.\n",
			    usage);
			return 0;
		default:
			return xr_cli_usage(usage, "unknown option");
		}
	}
	if (!dir || optind != argc || !idx_s == !id_s)
		return xr_cli_usage(usage, "need --dir and exactly one of --index or --id");
	uint64_t index;
	uint8_t id[32];
	if (idx_s && xr_u64_parse(idx_s, &index, &err) < 0)
		return xr_cli_fail(&err);
	if (id_s && xr_hex_decode_exact(id_s, id, 32, &err) < 0) {
		xr_err_prefix(&err, "--id");
		return xr_cli_fail(&err);
	}
	if ((rc = xr_node_open(&node, dir, false, &err)) < 0)
		return xr_cli_fail(&err);
	json_t *b = NULL;
	const struct xr_evidence_ops *ev = NULL;
	if ((!id_s || (rc = xr_ledger_find_envelope(node.ledger, id, &index, &err)) == 0) &&
	    (rc = evidence_of(node.ledger, index, id_s ? id : NULL, &ev, &err)) == 0 &&
	    (rc = xr_bundle_build(node.ledger, index, ev, &b, &err)) == 0) {
		xr_json_print(b, compact);
		json_decref(b);
	}
	xr_node_close(&node);
	return rc < 0 ? xr_cli_fail(&err) : 0;
}
