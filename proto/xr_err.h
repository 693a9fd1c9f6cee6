/* xr_err.h - the one error type of xrelay: a code and the first message set. */
#ifndef XR_ERR_H
#define XR_ERR_H

#include <stdarg.h>

enum {
	XR_OK = 0,
	XR_EINVAL = -1,	   /* malformed or out-of-range input */
	XR_ENOTFOUND = -2, /* the thing asked for does not exist */
	XR_EIO = -3,	   /* storage or OS failure */
	XR_ENOMEM = -4,	   /* allocation failed */
	XR_EVERIFY = -5,   /* a signature, hash or proof did not verify */
	XR_ESTATE = -6,	   /* operation not valid in the current state */
	XR_EEXIST = -7,	   /* refusing to overwrite */
	XR_ECONFLICT = -8, /* equivocation: the same key with other content */
	XR_EBUSY = -9,	   /* the peer is rate limiting us: try later or elsewhere */
	XR_ETOOBIG = -10,  /* a reply or request over its size cap */
	XR_ETIMEOUT = -11, /* the peer did not answer in time */
};

struct xr_err {
	int code;
	char msg[512]; /* room for two ids and a source key in one message */
};

/* Sets err (if not NULL and not already set: the first message wins) and
 * returns code, so a failure path is one line. */
int xr_err_set(struct xr_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the message already in err with "<prefix>: ". */
void xr_err_prefix(struct xr_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static inline void xr_err_clear(struct xr_err *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

#endif
