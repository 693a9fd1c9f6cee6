/* envelope_json.h - the JSON view of Envelope v1 used by the API and the CLI:
 * every byte field 0x-hex lower case, the amount a decimal string. */
#ifndef XR_ENVELOPE_JSON_H
#define XR_ENVELOPE_JSON_H

#include <jansson.h>

#include "envelope.h"

/* Builds the JSON view, including "id" computed from the encoding. Caller
 * owns the returned reference (json_decref). NULL on error. */
json_t *xr_envelope_to_json(const struct xr_envelope *e, struct xr_err *err);

/* Parses the JSON view into an encoding in out (capacity cap). Unknown keys
 * and wrong types are rejected; "id", when present, must match. */
int xr_envelope_from_json(
    const json_t *j, uint8_t *out, size_t cap, size_t *ret_len, struct xr_err *err);

#endif
