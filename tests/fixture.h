/* fixture.h - records for tests: envelopes and memberships, built with the
 * real codecs. */
#ifndef XR_TEST_FIXTURE_H
#define XR_TEST_FIXTURE_H

#include <stddef.h>

#include <jansson.h>
#include <stdint.h>

#include "envelope.h"
#include "record.h"
#include "xr_bytes.h"

/* A valid transfer envelope unique per seq (tx hash and sequence from seq). */
void fx_envelope(struct xr_envelope *e, uint64_t seq);
/* The ENVELOPE record of e by `author` (signed when seed is not NULL). */
void fx_record_of(struct xr_buf *out,
		  const char *author,
		  const uint8_t *seed,
		  const struct xr_envelope *e,
		  const uint8_t *evidence,
		  size_t evlen);
/* An ENVELOPE record by `author` (signed when seed is not NULL) whose
 * envelope is unique per seq; the record's digest covers `evidence`. */
void fx_envelope_record(struct xr_buf *out,
			const char *author,
			const uint8_t *seed,
			uint64_t seq,
			const uint8_t *evidence,
			size_t evlen);
/* A MEMBER record by `author`, signed with seed. */
void fx_member_record(struct xr_buf *out,
		      const char *author,
		      const uint8_t *seed,
		      uint8_t op,
		      const char *name,
		      uint8_t roles,
		      const uint8_t pub[32]);

/* Loads tests/vectors/<file> (the folder comes from XR_VECTORS, which meson
 * sets); on failure says why on stderr and returns NULL. */
json_t *fx_vectors(const char *file);

#endif
