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

/* Whether rec (decoded into r) is an ENROL of `name`. */
static bool enrols(const struct xr_record *r, const char *name)
{
	struct xr_member m;
	return r->type == XR_REC_MEMBER && xr_member_decode(r->body, r->body_len, &m, NULL) == 0 &&
	       m.op == XR_MEMBER_ENROL && strcmp(m.name, name) == 0;
}

/* The MEMBER record enrolling `author` in force at record `index`: the
 * newest ENROL of `author` before `index` with no REVOKE between, so that a
 * record stays provable after its author is revoked or re-keyed (a key
 * rotation record itself is proved by the key before it). The first record
 * of a ledger, an admin enrolling itself, is its own enrolment. The ledger's
 * member table (the newest enrolment of each current member) answers at once
 * when the record it names is an enrolment of `author` before `index`: no
 * revoke or re-enrolment of `author` can follow it, or the table would have
 * moved on. Otherwise (the author was revoked or re-keyed since) the records
 * before `index` are read backwards; a ledger.h query over a member-history
 * index would make that one seek. The record's bytes are appended to ret. */
static int enrolment_at(struct xr_ledger *l,
			const struct xr_record *r,
			uint64_t index,
			uint64_t *ret_index,
			struct xr_buf *ret,
			struct xr_err *err)
{
	struct xr_err e = {0};
	struct xr_record er;
	uint64_t j;
	int rc;

	if (index == 0) {
		if (!enrols(r, r->author))
			return xr_err_set(err, XR_ESTATE,
					  "record 0 is signed by '%s' but does not enrol '%s'",
					  r->author, r->author);
		*ret_index = 0;
		return xr_ledger_record(l, 0, ret, err);
	}
	rc = xr_ledger_find_member(l, r->author, &j, NULL, &e);
	if (rc < 0 && rc != XR_ENOTFOUND)
		return xr_err_set(err, rc, "%s", e.msg);
	if (rc == 0 && j < index) {
		size_t start = ret->len;
		if ((rc = xr_ledger_record(l, j, ret, err)) < 0)
			return rc;
		if (xr_record_decode(ret->data + start, ret->len - start, &er, NULL) == 0 &&
		    enrols(&er, r->author)) {
			*ret_index = j;
			return 0;
		}
		ret->len = start;
	}
	struct xr_buf tmp;
	xr_buf_init(&tmp, XR_RECORD_MAX_LEN);
	for (j = index; j-- > 0;) {
		struct xr_member m;
		xr_buf_reset(&tmp);
		if ((rc = xr_ledger_record(l, j, &tmp, err)) < 0 ||
		    (rc = xr_record_decode(tmp.data, tmp.len, &er, err)) < 0)
			goto out;
		if (er.type != XR_REC_MEMBER ||
		    xr_member_decode(er.body, er.body_len, &m, NULL) < 0 ||
		    strcmp(m.name, r->author) != 0)
			continue;
		if (m.op != XR_MEMBER_ENROL) {
			rc =
			    xr_err_set(err, XR_ESTATE,
				       "'%s' signed record %llu but was revoked at record %llu "
				       "and not enrolled again before it",
				       r->author, (unsigned long long)index, (unsigned long long)j);
			goto out;
		}
		xr_buf_put(ret, tmp.data, tmp.len);
		if (ret->failed) {
			rc = xr_err_set(err, XR_ENOMEM, "out of memory building a bundle");
			goto out;
		}
		*ret_index = j;
		goto out;
	}
	rc = xr_err_set(err, XR_ESTATE,
			"'%s' signed record %llu but no record before it enrols '%s'", r->author,
			(unsigned long long)index, r->author);
out:
	xr_buf_fini(&tmp);
	return rc;
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
		/* Beyond the JSON view's range the envelope is shown by the
		 * record's bytes only (proto/ENVELOPE.md, "Integer range"). */
		if (xr_bundle_envelope_has_view(&e)) {
			json_t *ej = xr_envelope_to_json(&e, err);
			if (!ej) {
				rc = err && err->code ? err->code : XR_ENOMEM;
				goto out;
			}
			json_object_set_new(b, "envelope", ej);
		}
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
		uint64_t ai = 0;
		if ((rc = enrolment_at(l, &r, index, &ai, &arec, err)) < 0)
			goto out;
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
