/* loader.h - adapters by framework name: the built-in ones, and plug-ins
 * loaded with dlopen from shared objects exporting xr_adapter_entry. */
#ifndef XR_LOADER_H
#define XR_LOADER_H

#include "adapter.h"
#include "xr_err.h"

/* Checks an adapter table before anything else of it is used: ABI major,
 * size, framework name and the operations its capabilities promise.
 * `origin` names where it came from in messages. */
int xr_adapter_check(const struct xr_adapter *a, const char *origin, struct xr_err *err);

/* Loads a plug-in. *ret_handle is for xr_adapter_unload; *ret is valid until
 * then. Refuses a wrong ABI major with both numbers in the message. */
int xr_adapter_load(const char *path,
		    void **ret_handle,
		    const struct xr_adapter **ret,
		    struct xr_err *err);
void xr_adapter_unload(void *handle); /* accepts NULL */

/* "not supported by <framework>" for an optional operation that is NULL. */
int xr_adapter_unsupported(const struct xr_adapter *a, const char *op, struct xr_err *err);

#endif
