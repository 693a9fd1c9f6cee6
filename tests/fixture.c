/* fixture.c - records for tests, built with the real codecs. */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envelope.h"

/* Fixtures also run in the crash test's child, outside any Check test, where
 * ck_assert cannot report: a broken fixture aborts with the message. */
#define FX_OK(expr)                                                                                \
	do {                                                                                       \
		if ((expr) != 0) {                                                                 \
			fprintf(stderr, "%s:%d: fixture failed: %s: %s\n", __FILE__, __LINE__,     \
				#expr, err.msg);                                                   \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

void fx_envelope(struct xr_envelope *e, uint64_t seq)
{
	memset(e, 0, sizeof(*e));
	e->kind = XR_ENV_TRANSFER;
	memcpy(e->src_chain, "eip155:31337", 13);
	e->src_height = 100 + seq;
	memset(e->src_block, 0xbb, 32);
	xr_put_be64(e->src_tx, seq);
	e->emitter_len = 20;
	memset(e->emitter, 0xee, 20);
	e->sequence = seq;
	memcpy(e->dst_chain, "eip155:31338", 13);
	e->recipient_len = 20;
	memset(e->recipient, 0xcc, 20);
	memcpy(e->asset, "eip155:31337/slip44:60", 23);
	e->amount[31] = 1;
	e->src_time = 1763800000;
}

void fx_record_of(struct xr_buf *out,
		  const char *author,
		  const uint8_t *seed,
		  const struct xr_envelope *e,
		  const uint8_t *evidence,
		  size_t evlen)
{
	struct xr_err err = {0};
	uint8_t enc[1024], dig[32];
	size_t len;
	FX_OK(xr_envelope_encode(e, enc, sizeof(enc), &len, &err));
	xr_sha256(evidence ? evidence : (const uint8_t *)"", evlen, dig);
	struct xr_buf body;
	xr_buf_init(&body, 4096);
	FX_OK(xr_envelope_body_encode(enc, len, dig, &body, &err));
	struct xr_record r = {.type = XR_REC_ENVELOPE,
			      .time_ms = 1763800000000ull + e->sequence,
			      .body = body.data,
			      .body_len = (uint32_t)body.len};
	memcpy(r.author, author, strlen(author) + 1);
	xr_buf_reset(out);
	FX_OK(xr_record_encode(&r, seed, out, &err));
	xr_buf_fini(&body);
}

void fx_envelope_record(struct xr_buf *out,
			const char *author,
			const uint8_t *seed,
			uint64_t seq,
			const uint8_t *evidence,
			size_t evlen)
{
	struct xr_envelope e;
	fx_envelope(&e, seq);
	fx_record_of(out, author, seed, &e, evidence, evlen);
}

void fx_member_record(struct xr_buf *out,
		      const char *author,
		      const uint8_t *seed,
		      uint8_t op,
		      const char *name,
		      uint8_t roles,
		      const uint8_t pub[32])
{
	struct xr_err err = {0};
	struct xr_member m = {.op = op, .roles = roles};
	struct xr_buf body;
	memcpy(m.name, name, strlen(name) + 1);
	memcpy(m.pub, pub, 32);
	xr_buf_init(&body, 1024);
	FX_OK(xr_member_encode(&m, &body, &err));
	struct xr_record r = {
	    .type = XR_REC_MEMBER, .time_ms = 1, .body = body.data, .body_len = (uint32_t)body.len};
	memcpy(r.author, author, strlen(author) + 1);
	xr_buf_reset(out);
	FX_OK(xr_record_encode(&r, seed, out, &err));
	xr_buf_fini(&body);
}

json_t *fx_vectors(const char *file)
{
	const char *dir = getenv("XR_VECTORS");
	char path[4096];
	json_error_t je;
	if (!dir) {
		fprintf(stderr, "XR_VECTORS is not set (the tests/vectors folder)\n");
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	json_t *j = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!j)
		fprintf(stderr, "%s: %s (line %d)\n", path, je.text, je.line);
	return j;
}
