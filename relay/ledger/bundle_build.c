/* bundle_build.c - proof bundles from the ledger: record, envelope view,
 * evidence, inclusion proof, signed checkpoint and, for records a member
 * signed, the member's enrolment with its own inclusion proof. */
#include "bundle_build.h"

#include <stdlib.h>
#include <string.h>

#include "envelope_json.h"

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char *s = xr_hex0x_new(p, n);
	json_t *j = s ? json_string(s) : NULL;
	free(s);
	return j;
}

static json_t *proof_json(struct xr_ledger *l, uint64_t index, uint64_t size, struct xr_err *err)
{
	uint8_t h[XR_MERKLE_MAX_PROOF][32];
	size_t n;
	if (xr_ledger_inclusion(l, index, size, h, &n, err) < 0)
		return NULL;
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, hex_json(h[i], 32));
	return a;
}

int xr_bundle_build(struct xr_ledger *l,
		    uint64_t index,
		    const struct xr_evidence_ops *ev,
		    json_t **ret,
		    struct xr_err *err)
{
	struct xr_buf rec, note, evb, arec;
	struct xr_checkpoint cp;
	struct xr_record r;
	json_t *b = NULL;
	int rc;

	xr_buf_init(&rec, XR_RECORD_MAX_LEN);
	xr_buf_init(&note, XR_NOTE_MAX_LEN);
	xr_buf_init(&evb, (size_t)64 << 20);
	xr_buf_init(&arec, XR_RECORD_MAX_LEN);
	if ((rc = xr_ledger_record(l, index, &rec, err)) < 0 ||
	    (rc = xr_ledger_block_covering(l, index, &note, &cp, err)) < 0 ||
	    (rc = xr_record_decode(rec.data, rec.len, &r, err)) < 0)
		goto out;
	b = json_pack("{s:i, s:I, s:I, s:o}", "version", 1, "index", (json_int_t)index, "tree_size",
		      (json_int_t)cp.size, "record", hex_json(rec.data, rec.len));
	if (!b) {
		rc = xr_err_set(err, XR_ENOMEM, "out of memory building a bundle");
		goto out;
	}
	if (r.type == XR_REC_ENVELOPE) {
		const uint8_t *env, *dig;
		size_t env_len;
		struct xr_envelope e;
		if ((rc = xr_envelope_body_decode(r.body, r.body_len, &env, &env_len, &dig, err)) <
			0 ||
		    (rc = xr_envelope_decode(env, env_len, &e, err)) < 0 ||
		    (rc = xr_ledger_evidence(l, index, &evb, err)) < 0)
			goto out;
		json_t *ej = xr_envelope_to_json(&e, err);
		if (!ej) {
			rc = err && err->code ? err->code : XR_ENOMEM;
			goto out;
		}
		json_object_set_new(b, "envelope", ej);
		const struct xr_evidence_ops *op = ev ? ev : &xr_evidence_none;
		json_t *evj = op->to_json(evb.data, evb.len, err);
		if (!evj) {
			rc = err && err->code ? err->code : XR_ENOMEM;
			goto out;
		}
		json_object_set_new(b, "evidence", evj);
	}
	json_t *incl = proof_json(l, index, cp.size, err);
	if (!incl) {
		rc = err && err->code ? err->code : XR_ENOMEM;
		goto out;
	}
	json_object_set_new(b, "inclusion", incl);
	json_object_set_new(b, "checkpoint", json_stringn((const char *)note.data, note.len));
	if (r.sig_len) {
		uint64_t ai;
		if ((rc = xr_ledger_find_member(l, r.author, &ai, NULL, err)) < 0 ||
		    (rc = xr_ledger_record(l, ai, &arec, err)) < 0)
			goto out;
		if (ai > index) {
			rc = xr_err_set(err, XR_ESTATE,
					"'%s' was enrolled again after record %llu; its earlier "
					"enrolment is not indexed",
					r.author, (unsigned long long)index);
			goto out;
		}
		json_t *ap = proof_json(l, ai, cp.size, err);
		if (!ap) {
			rc = err && err->code ? err->code : XR_ENOMEM;
			goto out;
		}
		json_object_set_new(b, "author",
				    json_pack("{s:I, s:o, s:o}", "index", (json_int_t)ai, "record",
					      hex_json(arec.data, arec.len), "inclusion", ap));
	}
	*ret = b;
	b = NULL;
out:
	json_decref(b);
	xr_buf_fini(&rec);
	xr_buf_fini(&note);
	xr_buf_fini(&evb);
	xr_buf_fini(&arec);
	return rc;
}
