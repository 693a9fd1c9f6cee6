/* xr_err.c - error setter: the first message wins. */
#include "xr_err.h"

#include <stdio.h>
#include <string.h>

int xr_err_set(struct xr_err *err, int code, const char *fmt, ...)
{
	if (err && err->code == 0) {
		va_list ap;
		err->code = code;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

void xr_err_prefix(struct xr_err *err, const char *fmt, ...)
{
	char pre[128], old[sizeof(err->msg)];
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	/* A long message is cut at the end; using the result tells gcc that
	 * the truncation it warns about is intended. */
	if (snprintf(err->msg, sizeof(err->msg), "%s: %s", pre, old) < 0)
		err->msg[0] = '\0';
}
