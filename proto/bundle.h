/* bundle.h - proof bundles: everything an auditor needs to check one record
 * offline with nothing but the committee's verifier keys. */
#ifndef XR_BUNDLE_H
#define XR_BUNDLE_H

#include <jansson.h>

#include "envelope.h"
#include "note.h"
#include "xr_bytes.h"

/* Evidence handling for one framework, supplied by the caller so that proto
 * stays free of framework code. rebuild turns the bundle's evidence object
 * into the evidence bytes whose SHA-256 the record holds; check verifies those
 * bytes against the envelope (NULL: nothing beyond the digest to check). */
struct xr_evidence_ops {
	const char *framework;
	int (*rebuild)(const json_t *evidence, struct xr_buf *out, struct xr_err *err);
	int (*check)(const struct xr_envelope *env,
		     const uint8_t *evidence,
		     size_t len,
		     struct xr_err *err);
	/* The evidence object of a bundle, from the stored evidence bytes. */
	json_t *(*to_json)(const uint8_t *evidence, size_t len, struct xr_err *err);
};

/* The built-in "none" framework: empty evidence. */
extern const struct xr_evidence_ops xr_evidence_none;

struct xr_bundle_result {
	uint64_t index, tree_size, block;
	uint8_t id[32];
	char signers[256]; /* comma-separated names of the committee keys that signed */
	char origin[XR_ORIGIN_MAX + 1]; /* the checkpoint's origin: the caller compares
					 * it with the committee's */
};

/* Whether an envelope has a JSON view: jansson integers stop at 2^63-1
 * (proto/ENVELOPE.md, "Integer range"). A bundle of an envelope without one
 * carries no "envelope" object; the envelope is in the record's bytes. */
bool xr_bundle_envelope_has_view(const struct xr_envelope *e);

/* Verifies a bundle: envelope JSON <-> record bytes, evidence digest and
 * framework checks, author signature, inclusion against the checkpoint root,
 * and the checkpoint's signatures by at least threshold (>= 1) distinct keys.
 *
 * A signed record is proved by "author": the MEMBER record enrolling its
 * author's key at an index before the record's (the enrolment in force when
 * it was appended; a later revoke or key rotation does not undo the proof).
 * Only the ledger's first record, an admin's ENROL of itself, is its own
 * enrolment. The bundle cannot show that no revoke came between the
 * enrolment and the record: the audit of the whole ledger does.
 * XR_EVERIFY/XR_EINVAL with the precise reason otherwise. */
int xr_bundle_verify(const json_t *bundle,
		     const struct xr_vkey *keys,
		     size_t nkeys,
		     size_t threshold,
		     const struct xr_evidence_ops *const *ops,
		     size_t nops,
		     struct xr_bundle_result *ret,
		     struct xr_err *err);

#endif
