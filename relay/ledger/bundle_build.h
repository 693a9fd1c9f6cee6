/* bundle_build.h - assembles proof bundles (proto/bundle.h) from the ledger. */
#ifndef XR_BUNDLE_BUILD_H
#define XR_BUNDLE_BUILD_H

#include <jansson.h>

#include "bundle.h"
#include "ledger.h"

/* Builds the bundle of record `index` against the first checkpoint that
 * covers it. ev is the evidence framework of the record's source chain (NULL
 * for records without evidence, or to use "none"). Caller owns *ret. */
int xr_bundle_build(struct xr_ledger *l,
		    uint64_t index,
		    const struct xr_evidence_ops *ev,
		    json_t **ret,
		    struct xr_err *err);

#endif
