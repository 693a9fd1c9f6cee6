/* rpc.h - the JSON-RPC 2.0 over HTTP(S) client behind struct xr_host: timeouts,
 * fail-over across a chain's endpoints, and jittered retry (libcurl + jansson).
 *
 * Threading: an xr_rpc, and the xr_host services made from it, may be used by
 * one thread at a time; use one client per watcher or delivery thread. The
 * client keeps one curl handle, so connections to the endpoints are reused.
 * The process should ignore SIGPIPE (the daemon does): curl runs with
 * CURLOPT_NOSIGNAL so that timeouts work in threads. */
#ifndef XR_RPC_H
#define XR_RPC_H

#include <stddef.h>

#include "adapter.h"
#include "xr_err.h"

struct xr_rpc;

struct xr_rpc_opts {
	const char *const *urls; /* http:// or https://; copied */
	size_t nurls;
	long connect_timeout_ms; /* 0: 2000 */
	long timeout_ms;	 /* whole request, 0: 10000 */
	size_t max_response;	 /* largest reply body, 0: 64 MiB */
	unsigned retries;	 /* retries after the first attempt, 0: 4 */
	unsigned backoff_ms;	 /* 0: 100; doubles per retry, capped at 5000, full jitter */
};

/* Makes a client; *ret is freed with xr_rpc_free. Refuses an empty URL
 * list and URLs that are not valid http:// or https:// URLs. */
int xr_rpc_new(const struct xr_rpc_opts *o, struct xr_rpc **ret, struct xr_err *err);
void xr_rpc_free(struct xr_rpc *r); /* accepts NULL */

/* One call. params_json is the JSON text of the params array or object
 * (NULL: "[]"), sent as is. On success *ret_result is the JSON text of
 * "result" exactly as the node sent it, NUL-terminated (caller frees with
 * free()), and *ret_len (if ret_len is not NULL) its length.
 *
 * Errors:
 * - XR_EINVAL: a bad method name or params; or the node answered with a
 *   JSON-RPC error object: "rpc <method>: error <code>: <message>". Never
 *   retried.
 * - XR_EIO: every attempt failed on transport (connect, timeout, reset),
 *   HTTP 429 or 5xx, or a malformed reply ("rpc <method>: malformed reply
 *   from <url>: <what>"); all of these are retried with jittered back-off,
 *   moving to the next URL each time, starting from the last URL that
 *   worked. Another HTTP status fails at once. Messages show a URL as its
 *   origin (scheme://host:port) only, so keys in paths do not reach logs.
 * - XR_ENOMEM. */
int xr_rpc_call(struct xr_rpc *r,
		const char *method,
		const char *params_json,
		char **ret_result,
		size_t *ret_len,
		struct xr_err *err);

/* n calls (1 to 1000; 0 does nothing) in one HTTP request. On success
 * ret_results[i] and ret_lens[i] (if ret_lens is not NULL) hold the result of
 * call i, as for xr_rpc_call; the caller frees each with free(). Replies may
 * come in any order; each call must be answered exactly once, else the reply
 * is malformed (retried as above). If any call got a JSON-RPC error object
 * the whole batch fails with XR_EINVAL naming the first such method. Nothing
 * is written to ret_results or ret_lens on failure. */
int xr_rpc_batch(struct xr_rpc *r,
		 size_t n,
		 const char *const *methods,
		 const char *const *params_json,
		 char **ret_results,
		 size_t *ret_lens,
		 struct xr_err *err);

/* The check every single reply gets, on a body already received: exposed for
 * the fuzz target. 0 with the result text (caller frees), XR_EINVAL for a
 * JSON-RPC error object, XR_EIO for a malformed reply. */
int xr_rpc_check_reply(const char *body,
		       size_t len,
		       const char *method,
		       uint64_t id,
		       char **ret_result,
		       size_t *ret_len,
		       struct xr_err *err);

/* Fills *ret with services backed by r: rpc and rpc_batch call the client,
 * free_result is free(), log forwards to log(log_ctx, ...) (nothing if log is
 * NULL), now_ms reads CLOCK_REALTIME. The table is valid while r lives; a
 * client holds one log binding, so a second call rebinds the first table. */
void xr_rpc_host(struct xr_rpc *r,
		 void (*log)(void *ctx, enum xr_log_level level, const char *msg),
		 void *log_ctx,
		 struct xr_host *ret);

#endif
