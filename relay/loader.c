/* loader.c - adapter tables from plug-ins, checked before use. */
#include "loader.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define ADAPTER_V1_SIZE XR_ADAPTER_V1_0_SIZE

int xr_adapter_check(const struct xr_adapter *a, const char *origin, struct xr_err *err)
{
	if (!a)
		return xr_err_set(err, XR_EINVAL, "adapter %s returned no table", origin);
	if (a->abi_major != XR_ADAPTER_ABI_MAJOR)
		return xr_err_set(err, XR_EINVAL,
				  "adapter %s speaks adapter ABI %u.%u; this relay speaks %u.%u "
				  "and refuses another major version",
				  origin, a->abi_major, a->abi_minor, XR_ADAPTER_ABI_MAJOR,
				  XR_ADAPTER_ABI_MINOR);
	if (a->size < ADAPTER_V1_SIZE)
		return xr_err_set(err, XR_EINVAL,
				  "adapter %s declares a table of %u bytes, version 1 needs %zu",
				  origin, a->size, (size_t)ADAPTER_V1_SIZE);
	if (!a->framework || !*a->framework || strlen(a->framework) > 32)
		return xr_err_set(err, XR_EINVAL, "adapter %s has no framework name", origin);
	if (!a->open || !a->close)
		return xr_err_set(err, XR_EINVAL, "adapter %s (%s) lacks open or close", origin,
				  a->framework);
	if ((a->caps & XR_CAP_SCAN) && (!a->head || !a->scan || !a->block_hash))
		return xr_err_set(err, XR_EINVAL,
				  "adapter %s (%s) declares scanning but lacks head, scan or "
				  "block_hash",
				  origin, a->framework);
	if ((a->caps & XR_CAP_SUBMIT) && !a->submit)
		return xr_err_set(err, XR_EINVAL, "adapter %s (%s) declares submit but lacks it",
				  origin, a->framework);
	if ((a->caps & XR_CAP_BROADCAST) && !a->broadcast)
		return xr_err_set(err, XR_EINVAL, "adapter %s (%s) declares broadcast but lacks it",
				  origin, a->framework);
	return 0;
}

int xr_adapter_load(const char *path,
		    void **ret_handle,
		    const struct xr_adapter **ret,
		    struct xr_err *err)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *why = dlerror();
		return xr_err_set(err, XR_EINVAL, "cannot load adapter '%s': %s", path,
				  why ? why : "unknown error");
	}
	/* POSIX: a data pointer from dlsym converts to a function pointer. */
	void *sym = dlsym(h, XR_ADAPTER_ENTRY_SYMBOL);
	if (!sym) {
		dlclose(h);
		return xr_err_set(err, XR_EINVAL, "'%s' is not an xrelay adapter: no symbol %s",
				  path, XR_ADAPTER_ENTRY_SYMBOL);
	}
	xr_adapter_entry_fn entry;
	memcpy(&entry, &sym, sizeof(entry));
	const struct xr_adapter *a = entry();
	char origin[512];
	int n = snprintf(origin, sizeof(origin), "'%s'", path);
	(void)n;
	int rc = xr_adapter_check(a, origin, err);
	if (rc < 0) {
		dlclose(h);
		return rc;
	}
	*ret_handle = h;
	*ret = a;
	return 0;
}

void xr_adapter_unload(void *handle)
{
	if (handle)
		dlclose(handle);
}

int xr_adapter_unsupported(const struct xr_adapter *a, const char *op, struct xr_err *err)
{
	return xr_err_set(err, XR_ESTATE, "%s is not supported by %s", op, a->framework);
}
