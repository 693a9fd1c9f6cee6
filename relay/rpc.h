/* rpc.h - the JSON-RPC 2.0 over HTTP(S) client behind struct xr_host: timeouts,
 * fail-over across a chain's endpoints, jittered retry, per-method reply caps
 * (libcurl, with replies checked by relay/json_scan.h).
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

/* One override of the reply cap of a method (nginx-style table). */
struct xr_rpc_cap {
	const char *method;  /* a method name, or "*" for every method not named */
	size_t max_response; /* > 0; still never above xr_rpc_opts.max_response */
};

struct xr_rpc_opts {
	const char *const *urls; /* http:// or https://; copied */
	size_t nurls;
	long connect_timeout_ms; /* 0: 2000 */
	long timeout_ms;	 /* whole request, 0: 10000 */
	size_t max_response;	 /* the ceiling of every reply cap, 0: 64 MiB */
	unsigned retries;	 /* retries after the first attempt, 0: 4 */
	unsigned backoff_ms;	 /* 0: 100; doubles per retry, capped at 5000, full jitter */
	/* Appended: per-method reply caps that replace the built-in ones (see
	 * xr_rpc_reply_cap); NULL for none; copied. */
	const struct xr_rpc_cap *caps;
	size_t ncaps;
};

/* Makes a client; *ret is freed with xr_rpc_free. Refuses an empty URL
 * list, URLs that are not valid http:// or https:// URLs, and cap
 * overrides with a bad method name or a cap of 0. */
int xr_rpc_new(const struct xr_rpc_opts *o, struct xr_rpc **ret, struct xr_err *err);
void xr_rpc_free(struct xr_rpc *r); /* accepts NULL */

/* One call. params_json is the JSON text of the params array or object
 * (NULL: "[]"), sent as is. On success *ret_result is the JSON text of
 * "result" exactly as the node sent it, NUL-terminated (caller frees with
 * free()), and *ret_len (if ret_len is not NULL) its length. Nothing is
 * written to them on failure.
 *
 * The reply is checked in one pass over its text, without building a tree
 * of it (relay/json_scan.h): strict JSON, "jsonrpc" "2.0", an integer "id"
 * that matches, exactly one of "result" and "error", none of these four
 * named twice in the reply object (members the client does not read are not
 * compared, nor names inside the result). The client holds a reply once (the result takes over
 * the reply buffer when it is big) and makes no jansson tree of it; a caller
 * that parses the result with jansson can bound that parse with
 * relay/json_budget.h.
 *
 * Attempts go round the URLs, starting from the last URL that worked; a
 * retry waits a jittered back-off, and at least as long as the endpoint's
 * last Retry-After asked (at most 5 s). Messages show a URL as its origin
 * (scheme://host:port) only, so keys in paths do not reach logs. When the
 * attempts run out, the code is that of the last attempt's failure, and the
 * message ends "(<n> attempts)".
 *
 * Errors:
 * - XR_EINVAL: a bad method name or params; or the node answered with a
 *   JSON-RPC error object that is not rate limiting: "rpc <method>: error
 *   <code>: <message>" (e.g. "query returned more than 10000 results").
 *   Never retried.
 * - XR_ETOOBIG: the reply was larger than the method's cap (see
 *   xr_rpc_reply_cap): "rpc <method>: reply from <origin> larger than <cap>
 *   bytes". The transfer is cut off at once; that endpoint is not asked
 *   again during this call, the next URL is, if there is one.
 * - XR_EBUSY: rate limited: HTTP 429, or a JSON-RPC error with code 429 or
 *   -32029, or with code -32005, -32090 or -32000 and a message about a rate
 *   limit, too many requests, a quota, capacity or a request limit: "rpc
 *   <method>: rate limited by <origin>: <what>". Retried; the caller may
 *   fail over to other endpoints.
 * - XR_ETIMEOUT: no connection within connect_timeout_ms, or no whole reply
 *   within timeout_ms: "rpc <method>: timed out: no reply from <origin>
 *   within <ms> ms" (or "no connection to"). Retried.
 * - XR_EIO: any other transport failure (refused, reset, bad HTTP), HTTP
 *   5xx, or a malformed reply ("rpc <method>: malformed reply from <origin>:
 *   <what>"), all retried; or another HTTP status, at once: "rpc <method>:
 *   http <status> from <origin>: <body>".
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
 * is malformed (retried as above). If any call got a rate-limit error the
 * batch is rate limited (XR_EBUSY, as above); else if any call got a JSON-RPC
 * error object the whole batch fails with XR_EINVAL naming the first such
 * method. The batch's cap is the sum of its calls' caps, never above
 * max_response. The other codes are as for xr_rpc_call. Nothing is written
 * to ret_results or ret_lens on failure. */
int xr_rpc_batch(struct xr_rpc *r,
		 size_t n,
		 const char *const *methods,
		 const char *const *params_json,
		 char **ret_results,
		 size_t *ret_lens,
		 struct xr_err *err);

/* The cap of the reply to one call of method with params_json (NULL: "[]"):
 * an override from xr_rpc_opts.caps if one names the method, else the
 * built-in table (64 KiB for eth_chainId, eth_blockNumber and net_version;
 * 4 MiB for eth_getBlockByNumber and eth_getBlockByHash, 8 MiB when params
 * hold a top-level true (full transactions); 4 MiB for
 * eth_getTransactionReceipt; 32 MiB for eth_getBlockReceipts and
 * eth_getLogs; 1 MiB for eth_call), else the "*" override, else 4 MiB;
 * never above max_response. */
size_t xr_rpc_reply_cap(const struct xr_rpc *r, const char *method, const char *params_json);

/* The check every single reply gets, on a body already received: exposed for
 * the fuzz target. 0 with the result text (caller frees), XR_EINVAL for a
 * JSON-RPC error object, XR_EBUSY for one that means rate limiting, XR_EIO
 * for a malformed reply. */
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
