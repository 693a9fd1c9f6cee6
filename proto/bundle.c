/* bundle.c - offline verification of proof bundles. */
#include "bundle.h"

#include <stdlib.h>
#include <string.h>

#include "envelope_json.h"
#include "merkle.h"
#include "record.h"

static int rebuild_none(const json_t *evidence, struct xr_buf *out, struct xr_err *err)
{
	(void)out;
	if (json_object_size(evidence) != 1)
		return xr_err_set(err, XR_EINVAL,
				  "evidence of framework 'none' must hold only \"framework\"");
	return 0;
}

static json_t *none_to_json(const uint8_t *evidence, size_t len, struct xr_err *err)
{
	(void)evidence;
	if (len) {
		xr_err_set(err, XR_EINVAL, "framework 'none' has empty evidence, got %zu bytes",
			   len);
		return NULL;
	}
	return json_pack("{s:s}", "framework", "none");
}

const struct xr_evidence_ops xr_evidence_none = {"none", rebuild_none, NULL, none_to_json};

bool xr_bundle_envelope_has_view(const struct xr_envelope *e)
{
	return e->src_height <= INT64_MAX && e->sequence <= INT64_MAX && e->src_time <= INT64_MAX;
}

/* Reads a required member of the given type; NULL (with err set) if absent. */
static json_t *need(const json_t *o, const char *key, json_type t, struct xr_err *err)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		xr_err_set(err, XR_EINVAL, "bundle has no \"%s\"", key);
		return NULL;
	}
	if (json_typeof(v) != t) {
		xr_err_set(err, XR_EINVAL, "bundle \"%s\" has the wrong type", key);
		return NULL;
	}
	return v;
}

static int need_u64(const json_t *o, const char *key, uint64_t *ret, struct xr_err *err)
{
	json_t *v = need(o, key, JSON_INTEGER, err);
	if (!v)
		return XR_EINVAL;
	if (json_integer_value(v) < 0)
		return xr_err_set(err, XR_EINVAL, "bundle \"%s\" is negative", key);
	*ret = (uint64_t)json_integer_value(v);
	return 0;
}

static int
check_keys(const json_t *o, const char *const *allowed, const char *what, struct xr_err *err)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v)
	{
		bool ok = false;
		for (size_t i = 0; allowed[i] && !ok; i++)
			ok = strcmp(allowed[i], k) == 0;
		if (!ok)
			return xr_err_set(err, XR_EINVAL, "%s has an unknown key \"%s\"", what, k);
	}
	return 0;
}

/* Bundles are canonical: hex is lower case with its 0x prefix, so that no
 * byte of a bundle can change without verification noticing. */
static int lower_hex(const char *s, const char *what, struct xr_err *err)
{
	if (!s || s[0] != '0' || s[1] != 'x')
		return xr_err_set(err, XR_EINVAL, "%s must be 0x-prefixed hex", what);
	for (const char *p = s + 2; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return xr_err_set(err, XR_EINVAL,
					  "%s has '%c' at offset %td: bundles use lower-case hex",
					  what, *p, p - s);
	return 0;
}

/* Decodes a hex record and checks its inclusion at index in a tree. */
static int included(const json_t *rec_hex,
		    const json_t *proof,
		    uint64_t index,
		    uint64_t size,
		    const uint8_t root[32],
		    uint8_t **ret_rec,
		    size_t *ret_len,
		    const char *what,
		    struct xr_err *err)
{
	uint8_t *rec = NULL, (*hashes)[32] = NULL;
	size_t len, n = json_array_size(proof);
	int rc;

	if ((rc = lower_hex(json_string_value(rec_hex), what, err)) < 0 ||
	    (rc = xr_hex_decode_new(json_string_value(rec_hex), XR_RECORD_MAX_LEN, &rec, &len,
				    err)) < 0) {
		xr_err_prefix(err, "%s record", what);
		return rc;
	}
	if (n > XR_MERKLE_MAX_PROOF) {
		rc = xr_err_set(err, XR_EINVAL, "%s inclusion proof has %zu hashes, at most %d",
				what, n, XR_MERKLE_MAX_PROOF);
		goto out;
	}
	hashes = malloc((n ? n : 1) * 32);
	if (!hashes) {
		rc = xr_err_set(err, XR_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *s = json_string_value(json_array_get(proof, i));
		if ((rc = lower_hex(s, "inclusion hash", err)) < 0 ||
		    (rc = xr_hex_decode_exact(s, hashes[i], 32, err)) < 0) {
			xr_err_prefix(err, "%s inclusion hash %zu", what, i);
			goto out;
		}
	}
	uint8_t leaf[32];
	xr_merkle_leaf_hash(rec, len, leaf);
	if ((rc = xr_merkle_verify_inclusion(index, size, leaf, (const uint8_t(*)[32])hashes, n,
					     root, err)) < 0) {
		xr_err_prefix(err, "%s", what);
		goto out;
	}
	*ret_rec = rec;
	*ret_len = len;
	rec = NULL;
out:
	free(rec);
	free(hashes);
	return rc;
}

/* The bundle's "envelope" must be the JSON view of the record's envelope. */
static int verify_view(const json_t *ej,
		       const struct xr_envelope *e,
		       const uint8_t *env,
		       size_t env_len,
		       struct xr_err *err)
{
	size_t enc_len;
	int rc;

	uint8_t *enc = malloc(XR_ENV_MAX_LEN);
	if (!enc)
		return xr_err_set(err, XR_ENOMEM, "out of memory");
	rc = xr_envelope_from_json(ej, enc, XR_ENV_MAX_LEN, &enc_len, err);
	if (rc < 0)
		xr_err_prefix(err, "bundle envelope");
	else if (enc_len != env_len || memcmp(enc, env, env_len) != 0)
		rc = xr_err_set(err, XR_EVERIFY,
				"the bundle's envelope differs from the envelope in the record");
	free(enc);
	if (rc < 0)
		return rc;
	/* The JSON view must be the canonical one, byte for byte in meaning. */
	json_t *canon = xr_envelope_to_json(e, err);
	if (!canon)
		return err && err->code ? err->code : XR_ENOMEM;
	bool same = json_equal(canon, (json_t *)ej);
	json_decref(canon);
	if (!same)
		return xr_err_set(err, XR_EVERIFY,
				  "the bundle's envelope is not in canonical form (lower-case hex, "
				  "every field, the id)");
	return 0;
}

static int verify_envelope(const json_t *bundle,
			   const struct xr_record *r,
			   const struct xr_evidence_ops *const *ops,
			   size_t nops,
			   uint8_t ret_id[32],
			   struct xr_err *err)
{
	const uint8_t *env, *dig;
	size_t env_len;
	struct xr_envelope e;
	struct xr_buf ev;
	int rc;

	if ((rc = xr_envelope_body_decode(r->body, r->body_len, &env, &env_len, &dig, err)) < 0 ||
	    (rc = xr_envelope_decode(env, env_len, &e, err)) < 0) {
		xr_err_prefix(err, "envelope in the record");
		return rc;
	}
	/* Whether the view is there follows from the record, so a bundle has
	 * one form only. */
	if (xr_bundle_envelope_has_view(&e)) {
		const json_t *ej = need(bundle, "envelope", JSON_OBJECT, err);
		if (!ej)
			return XR_EINVAL;
		if ((rc = verify_view(ej, &e, env, env_len, err)) < 0)
			return rc;
	} else if (json_object_get(bundle, "envelope")) {
		return xr_err_set(err, XR_EVERIFY,
				  "the record's envelope has a height, sequence or time beyond "
				  "2^63-1, so it has no JSON view, but the bundle carries one");
	}
	const json_t *evj = need(bundle, "evidence", JSON_OBJECT, err);
	if (!evj)
		return XR_EINVAL;
	xr_envelope_id(env, env_len, ret_id);

	const char *fw = json_string_value(json_object_get(evj, "framework"));
	if (!fw)
		return xr_err_set(err, XR_EINVAL, "evidence has no \"framework\" string");
	const struct xr_evidence_ops *op = NULL;
	for (size_t i = 0; i < nops && !op; i++)
		if (strcmp(ops[i]->framework, fw) == 0)
			op = ops[i];
	if (!op)
		return xr_err_set(err, XR_EINVAL, "evidence framework '%s' is not known here", fw);
	xr_buf_init(&ev, XR_RECORD_BODY_MAX * 4u);
	if ((rc = op->rebuild(evj, &ev, err)) < 0) {
		xr_err_prefix(err, "%s evidence", fw);
		goto out;
	}
	if (ev.failed) {
		rc = xr_err_set(err, XR_EINVAL, "%s evidence is too large", fw);
		goto out;
	}
	uint8_t d[32];
	xr_sha256(ev.data ? ev.data : (const uint8_t *)"", ev.len, d);
	if (memcmp(d, dig, 32) != 0) {
		rc = xr_err_set(err, XR_EVERIFY,
				"%s evidence does not match the evidence digest in the record", fw);
		goto out;
	}
	if (op->check && (rc = op->check(&e, ev.data, ev.len, err)) < 0)
		xr_err_prefix(err, "%s evidence", fw);
out:
	xr_buf_fini(&ev);
	return rc;
}

static int verify_author(const json_t *bundle,
			 const uint8_t *rec,
			 size_t len,
			 const struct xr_record *r,
			 uint64_t index,
			 uint64_t size,
			 const uint8_t root[32],
			 const struct xr_vkey *keys,
			 size_t nkeys,
			 struct xr_err *err)
{
	static const char *const akeys[] = {"index", "record", "inclusion", NULL};
	const json_t *a = json_object_get(bundle, "author");

	if (r->sig_len == 0) {
		if (a)
			return xr_err_set(
			    err, XR_EVERIFY,
			    "bundle has an author enrolment but the record is unsigned");
		for (size_t i = 0; i < nkeys; i++)
			if (strcmp(keys[i].name, r->author) == 0)
				return 0;
		return xr_err_set(err, XR_EVERIFY,
				  "record by '%s' carries no signature and '%s' is not a committee "
				  "key",
				  r->author, r->author);
	}
	if (!a)
		return xr_err_set(err, XR_EINVAL,
				  "record is signed by '%s' but the bundle has no \"author\" "
				  "enrolment",
				  r->author);
	if (!json_is_object(a))
		return xr_err_set(err, XR_EINVAL, "bundle \"author\" has the wrong type");
	uint64_t ai;
	const json_t *ar = need(a, "record", JSON_STRING, err);
	const json_t *ap = ar ? need(a, "inclusion", JSON_ARRAY, err) : NULL;
	int rc;
	if (!ap || (rc = check_keys(a, akeys, "bundle author", err)) < 0 ||
	    (rc = need_u64(a, "index", &ai, err)) < 0)
		return XR_EINVAL;
	if (ai > index)
		return xr_err_set(err, XR_EVERIFY,
				  "the author's enrolment at %llu comes after the record at %llu",
				  (unsigned long long)ai, (unsigned long long)index);
	/* A record that enrols its own author (a key rotation) is signed by the
	 * key in force before it, never by the key it enrols: only the first
	 * record, which nothing precedes, proves itself. */
	if (ai == index && index != 0)
		return xr_err_set(err, XR_EVERIFY,
				  "the author's enrolment must come before the record at %llu; "
				  "only the first record may enrol its own author",
				  (unsigned long long)index);
	uint8_t *arec;
	size_t alen;
	if ((rc = included(ar, ap, ai, size, root, &arec, &alen, "author enrolment", err)) < 0)
		return rc;
	struct xr_record er;
	struct xr_member m;
	if ((rc = xr_record_decode(arec, alen, &er, err)) < 0 || er.type != XR_REC_MEMBER ||
	    (rc = xr_member_decode(er.body, er.body_len, &m, err)) < 0 || m.op != XR_MEMBER_ENROL ||
	    strcmp(m.name, r->author) != 0) {
		free(arec);
		xr_err_clear(err);
		return xr_err_set(err, XR_EVERIFY,
				  "the bundle's author record is not the enrolment of '%s'",
				  r->author);
	}
	if (ai == index) {
		bool same = alen == len && memcmp(arec, rec, len) == 0;
		free(arec);
		if (!same)
			return xr_err_set(err, XR_EVERIFY,
					  "author enrolment at the record's own index "
					  "is a different record");
		/* The same rule as the ledger's append: the genesis enrols an
		 * admin, who enrols everyone else. */
		if (!(m.roles & XR_ROLE_ADMIN))
			return xr_err_set(err, XR_EVERIFY,
					  "the first record enrols its author '%s' without the "
					  "admin role",
					  r->author);
	} else {
		free(arec);
	}
	rc = xr_record_verify_sig(rec, len, r, m.pub, err);
	if (rc < 0)
		xr_err_prefix(err, "record signature by '%s'", r->author);
	return rc;
}

int xr_bundle_verify(const json_t *bundle,
		     const struct xr_vkey *keys,
		     size_t nkeys,
		     size_t threshold,
		     const struct xr_evidence_ops *const *ops,
		     size_t nops,
		     struct xr_bundle_result *ret,
		     struct xr_err *err)
{
	static const char *const bkeys[] = {"version",	"index",    "tree_size", "record",
					    "envelope", "evidence", "inclusion", "checkpoint",
					    "author",	NULL};
	struct xr_bundle_result res = {0};
	const json_t *rec_j, *incl_j, *cp_j;
	uint64_t version;
	uint8_t *rec = NULL;
	size_t len, tl;
	uint64_t signers;
	struct xr_checkpoint cp;
	struct xr_record r;
	int rc;

	if (!json_is_object(bundle))
		return xr_err_set(err, XR_EINVAL, "a bundle is a JSON object");
	if (threshold == 0)
		return xr_err_set(err, XR_EINVAL,
				  "a threshold of 0 would accept a checkpoint no committee key "
				  "signed; at least 1 is needed");
	if ((rc = check_keys(bundle, bkeys, "bundle", err)) < 0 ||
	    (rc = need_u64(bundle, "version", &version, err)) < 0 ||
	    (rc = need_u64(bundle, "index", &res.index, err)) < 0 ||
	    (rc = need_u64(bundle, "tree_size", &res.tree_size, err)) < 0)
		return rc;
	if (version != 1)
		return xr_err_set(err, XR_EINVAL, "bundle version %llu is not supported (1 is)",
				  (unsigned long long)version);
	if (!(rec_j = need(bundle, "record", JSON_STRING, err)) ||
	    !(incl_j = need(bundle, "inclusion", JSON_ARRAY, err)) ||
	    !(cp_j = need(bundle, "checkpoint", JSON_STRING, err)))
		return XR_EINVAL;

	/* The checkpoint first: everything else is checked against its root. */
	const char *note = json_string_value(cp_j);
	if ((rc = xr_note_open(note, json_string_length(cp_j), keys, nkeys, threshold, &tl,
			       &signers, err)) < 0 ||
	    (rc = xr_checkpoint_parse(note, tl, &cp, err)) < 0) {
		xr_err_prefix(err, "checkpoint");
		return rc;
	}
	if (cp.size != res.tree_size)
		return xr_err_set(err, XR_EVERIFY,
				  "bundle tree_size %llu differs from the checkpoint's size %llu",
				  (unsigned long long)res.tree_size, (unsigned long long)cp.size);
	res.block = cp.block;
	memcpy(res.origin, cp.origin, sizeof(res.origin));
	for (size_t i = 0, o = 0; i < nkeys && i < 64; i++) {
		if (!(signers >> i & 1))
			continue;
		size_t nl = strlen(keys[i].name);
		if (o + nl + 2 >= sizeof(res.signers))
			break;
		if (o)
			res.signers[o++] = ',';
		memcpy(res.signers + o, keys[i].name, nl + 1);
		o += nl;
	}

	if ((rc = included(rec_j, incl_j, res.index, res.tree_size, cp.root, &rec, &len, "record",
			   err)) < 0)
		return rc;
	if ((rc = xr_record_decode(rec, len, &r, err)) < 0) {
		xr_err_prefix(err, "record");
		goto out;
	}
	if (r.type == XR_REC_ENVELOPE) {
		if ((rc = verify_envelope(bundle, &r, ops, nops, res.id, err)) < 0)
			goto out;
	} else if (json_object_get(bundle, "envelope") || json_object_get(bundle, "evidence")) {
		rc = xr_err_set(err, XR_EVERIFY, "bundle has an envelope but the record is a %s",
				xr_record_type_name(r.type));
		goto out;
	}
	if ((rc = verify_author(bundle, rec, len, &r, res.index, res.tree_size, cp.root, keys,
				nkeys, err)) < 0)
		goto out;
	if (ret)
		*ret = res;
out:
	free(rec);
	return rc;
}
