/* envelope.h - Envelope v1: the one canonical form of a cross-chain event.
 * proto/ENVELOPE.md is the normative specification. */
#ifndef XR_ENVELOPE_H
#define XR_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "xr_err.h"

#define XR_ENV_MAGIC "XRE1"
#define XR_ENV_CHAIN_MAX 64
#define XR_ENV_EMITTER_MAX 64
#define XR_ENV_RECIPIENT_MAX 64
#define XR_ENV_ASSET_MAX 128
#define XR_ENV_PAYLOAD_MAX 65536
/* Largest possible encoding: fixed fields plus every maximum. */
#define XR_ENV_MAX_LEN                                                                             \
	(4 + 1 + 1 + XR_ENV_CHAIN_MAX + 8 + 32 + 32 + 4 + 1 + XR_ENV_EMITTER_MAX + 8 + 1 +         \
	 XR_ENV_CHAIN_MAX + 1 + XR_ENV_RECIPIENT_MAX + 1 + XR_ENV_ASSET_MAX + 32 + 8 + 4 +         \
	 XR_ENV_PAYLOAD_MAX)

enum xr_env_kind {
	XR_ENV_TRANSFER = 1,
	XR_ENV_MESSAGE = 2,
};

/* A decoded envelope. Strings are NUL-terminated; byte fields carry a length.
 * The payload is borrowed: after xr_envelope_decode it points into the input
 * buffer, which must outlive the struct. */
struct xr_envelope {
	uint8_t kind;
	char src_chain[XR_ENV_CHAIN_MAX + 1];
	uint64_t src_height;
	uint8_t src_block[32];
	uint8_t src_tx[32];
	uint32_t log_index;
	uint8_t emitter[XR_ENV_EMITTER_MAX];
	uint8_t emitter_len;
	uint64_t sequence;
	char dst_chain[XR_ENV_CHAIN_MAX + 1];
	uint8_t recipient[XR_ENV_RECIPIENT_MAX];
	uint8_t recipient_len;
	char asset[XR_ENV_ASSET_MAX + 1];
	uint8_t amount[32]; /* uint256, big-endian */
	uint64_t src_time;
	const uint8_t *payload;
	uint32_t payload_len;
};

/* Checks a CAIP-2 chain id: ^[-a-z0-9]{3,8}:[-_a-zA-Z0-9]{1,32}$ */
int xr_caip2_check(const char *s, struct xr_err *err);

/* Checks every field rule of the spec (lengths, CAIP-2, kind/amount/asset). */
int xr_envelope_check(const struct xr_envelope *e, struct xr_err *err);

/* Encodes into out (capacity cap, XR_ENV_MAX_LEN always suffices); checks the
 * envelope first and writes nothing on failure. */
int xr_envelope_encode(
    const struct xr_envelope *e, uint8_t *out, size_t cap, size_t *ret_len, struct xr_err *err);

/* Decodes exactly one canonical envelope; anything else is rejected with a
 * message naming the field. ret->payload borrows from p. */
int xr_envelope_decode(const uint8_t *p, size_t len, struct xr_envelope *ret, struct xr_err *err);

/* id = SHA-256 of the canonical encoding. */
void xr_envelope_id(const uint8_t *enc, size_t len, uint8_t ret_id[32]);

/* uint256 big-endian <-> decimal string. The string form has no sign, no
 * leading zeros (except "0") and at most 78 digits. */
int xr_u256_from_dec(const char *s, uint8_t ret[32], struct xr_err *err);
void xr_u256_to_dec(const uint8_t v[32], char out[80]);

#endif
