/* record.h - Record v1: the unit of the ledger's Merkle log, and the bodies of
 * the record types defined so far (ENVELOPE, MEMBER). */
#ifndef XR_RECORD_H
#define XR_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xr_bytes.h"
#include "xr_err.h"

#define XR_RECORD_VERSION 1
#define XR_AUTHOR_MAX 64
#define XR_RECORD_BODY_MAX (1u << 20)
#define XR_RECORD_MAX_LEN (1 + 1 + 8 + 1 + XR_AUTHOR_MAX + 4 + XR_RECORD_BODY_MAX + 1 + 64)

enum xr_record_type {
	XR_REC_ENVELOPE = 1,
	XR_REC_CHAIN = 2,
	XR_REC_MEMBER = 3,
	XR_REC_DELIVERY = 4,
	XR_REC_ALERT = 5,
};

/* A decoded record. body borrows from the decoded input. */
struct xr_record {
	uint8_t type;
	uint64_t time_ms;
	char author[XR_AUTHOR_MAX + 1];
	const uint8_t *body;
	uint32_t body_len;
	uint8_t sig_len; /* 0 (committee author) or 64 (Ed25519 by the author) */
	uint8_t sig[64];
};

/* "ENVELOPE", "MEMBER", ...; "?" for an unknown type. */
const char *xr_record_type_name(uint8_t type);

/* Appends the encoding to out. When seed is not NULL the record is signed by
 * it (sig_len 64); otherwise it carries no signature. */
int xr_record_encode(const struct xr_record *r,
		     const uint8_t *seed,
		     struct xr_buf *out,
		     struct xr_err *err);

/* Decodes exactly one record; ret->body borrows from p. */
int xr_record_decode(const uint8_t *p, size_t len, struct xr_record *ret, struct xr_err *err);

/* Verifies the author's signature over SHA-256 of the bytes before the
 * signature length (enc is the full encoding, as decoded into r). */
int xr_record_verify_sig(const uint8_t *enc,
			 size_t len,
			 const struct xr_record *r,
			 const uint8_t pub[32],
			 struct xr_err *err);

/* ENVELOPE body: u32 length + envelope bytes, then SHA-256(evidence). */
int xr_envelope_body_encode(const uint8_t *env,
			    size_t env_len,
			    const uint8_t evidence_digest[32],
			    struct xr_buf *out,
			    struct xr_err *err);
int xr_envelope_body_decode(const uint8_t *body,
			    size_t len,
			    const uint8_t **ret_env,
			    size_t *ret_env_len,
			    const uint8_t **ret_digest,
			    struct xr_err *err);

/* Member roles, a bit set. */
enum xr_role {
	XR_ROLE_ADMIN = 1 << 0,
	XR_ROLE_DEPLOYER = 1 << 1,
	XR_ROLE_DAPP = 1 << 2,
	XR_ROLE_AUDITOR = 1 << 3,
	XR_ROLE_RELAYER = 1 << 4,
	XR_ROLE_ALL = 0x1f,
};

enum xr_member_op {
	XR_MEMBER_ENROL = 1,
	XR_MEMBER_REVOKE = 2,
};

/* MEMBER body: u8 op, str8 name (1..64), u8 roles, u8 key type (1 = Ed25519),
 * 32-byte public key. A revoke carries the key it revokes. */
struct xr_member {
	uint8_t op;
	char name[XR_AUTHOR_MAX + 1];
	uint8_t roles;
	uint8_t pub[32];
};

int xr_member_encode(const struct xr_member *m, struct xr_buf *out, struct xr_err *err);
int xr_member_decode(const uint8_t *body, size_t len, struct xr_member *ret, struct xr_err *err);
/* Parses "admin,dapp" into a role set; formats a role set into out. */
int xr_roles_parse(const char *s, uint8_t *ret, struct xr_err *err);
void xr_roles_format(uint8_t roles, char out[64]);

/* Member names: 1..64 of [-_.a-zA-Z0-9], no '+' or space (they appear in
 * signed-note key names). */
int xr_name_check(const char *name, struct xr_err *err);

#endif
