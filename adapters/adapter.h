/* adapter.h - the adapter ABI: how the relay drives one chain framework.
 *
 * An adapter is a versioned table of function pointers (the shape of
 * SQLite's VFS, Redis modules and PipeWire plug-ins). The relay hands it a
 * versioned table of host services when it opens a chain. Nothing from
 * jansson, OpenSSL or curl crosses this boundary: parameters arrive as JSON
 * text, services as function pointers, results in the plain structs below.
 *
 * Compatibility rules:
 * - abi_major changes only when an existing field changes meaning; the
 *   loader refuses a major mismatch with both numbers in the message.
 * - Fields are only ever appended, with abi_minor raised. A reader checks
 *   `size` (or the minor version) before touching a field past version 1.
 * - Optional operations may be NULL; the relay then says "not supported by
 *   <framework>" instead of failing late.
 * - A plug-in is a shared object exporting one symbol, xr_adapter_entry,
 *   built with -fvisibility=hidden. Built-in adapters are linked in. */
#ifndef XR_ADAPTER_H
#define XR_ADAPTER_H

#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "xr_err.h"

#define XR_ADAPTER_ABI_MAJOR 1
#define XR_ADAPTER_ABI_MINOR 1
#define XR_HOST_ABI_MAJOR 1
#define XR_HOST_ABI_MINOR 1

/* Capabilities an adapter declares in caps. */
enum {
	XR_CAP_SCAN = 1u << 0,      /* head, scan, block_hash */
	XR_CAP_SUBMIT = 1u << 1,    /* deliver envelopes to this chain */
	XR_CAP_BROADCAST = 1u << 2, /* forward a dapp's signed transaction */
};

enum xr_log_level {
	XR_LOG_ERROR = 0,
	XR_LOG_WARN = 1,
	XR_LOG_INFO = 2,
	XR_LOG_DEBUG = 3,
};

/* Services the relay lends to an adapter; valid until close() returns. */
struct xr_host {
	uint32_t abi_major, abi_minor, size;
	void *ctx; /* passed back as the first argument of every service */
	/* One JSON-RPC 2.0 call over HTTP to this adapter instance's endpoint
	 * (the relay opens one instance per endpoint and compares what they
	 * say), with the host's timeouts and retry with jittered back-off on
	 * transport errors, 429, 5xx and rate-limit errors. params_json is the
	 * JSON text of the params array. On success *ret_result is the JSON
	 * text of "result" (malloc'd, the adapter frees it with free_result)
	 * and *ret_len its length. Failures: XR_EINVAL for a JSON-RPC error
	 * object (its code and message in err), XR_ETOOBIG for a reply over
	 * the method's size cap ("larger than" in the message), XR_ETIMEOUT,
	 * XR_EBUSY (rate limited), XR_EIO for other transport trouble. */
	int (*rpc)(void *ctx, const char *method, const char *params_json, char **ret_result,
		   size_t *ret_len, struct xr_err *err);
	/* Several calls in one HTTP request (a JSON-RPC batch); methods[i] and
	 * params[i] for i < n; results are returned in request order. */
	int (*rpc_batch)(void *ctx, size_t n, const char *const *methods,
			 const char *const *params_json, char **ret_results, size_t *ret_lens,
			 struct xr_err *err);
	void (*free_result)(void *ctx, char *result);
	void (*log)(void *ctx, enum xr_log_level level, const char *msg);
	uint64_t (*now_ms)(void *ctx); /* wall clock, unix milliseconds */
	/* version 1.0 ends here; fields are only appended */

	/* Version 1.1. Records an alert about what this endpoint did (an ALERT
	 * record, written with the events of the scan in progress); the chain
	 * keeps running. kind is a short fixed phrase ("endpoint hid events"),
	 * detail one line. The host fills in which endpoint it was. Read only
	 * when size covers it; may be NULL. */
	void (*alert)(void *ctx, const char *kind, const char *detail);
};

/* The size of version 1.0 of struct xr_host. */
#define XR_HOST_V1_0_SIZE (offsetof(struct xr_host, now_ms) + sizeof(void *))

/* The chain's tip as the adapter sees it. */
struct xr_head {
	uint64_t latest;   /* newest block */
	uint64_t final;    /* newest block that can no longer change */
	uint8_t latest_hash[32];
};

/* One observed event: the canonical envelope and the framework's evidence.
 * Both are borrowed for the duration of the emit call. */
struct xr_observation {
	const uint8_t *envelope; /* Envelope v1 encoding (proto/ENVELOPE.md) */
	size_t envelope_len;
	const uint8_t *evidence; /* framework evidence; its SHA-256 goes in the record */
	size_t evidence_len;
};

/* Called by scan() for every event in order; a negative return stops the
 * scan and is returned by it. */
typedef int (*xr_observe_fn)(void *ctx, const struct xr_observation *obs, struct xr_err *err);

/* A range of blocks to scan, anchored to the chain the relay agreed on. */
struct xr_span {
	uint64_t from, to;	 /* inclusive; from >= 1 */
	uint8_t parent_hash[32]; /* the hash of block from - 1: the relay's cursor */
	uint8_t to_hash[32];	 /* the hash of block to, agreed by a quorum of endpoints */
};

/* Called by scan_linked at a block boundary: every event of the blocks up to
 * and including height has been emitted, and hash is that block's hash on
 * the linked chain, so the relay may commit them with height as its cursor.
 * A negative return stops the scan and is returned by it. */
typedef int (*xr_mark_fn)(void *ctx, uint64_t height, const uint8_t hash[32], struct xr_err *err);

/* Called by emitters() once per emitter the chain watches. */
typedef int (*xr_emitter_fn)(void *ctx,
			     const uint8_t *emitter,
			     size_t len,
			     uint64_t last_sequence,
			     struct xr_err *err);

/* An envelope to deliver on this chain. */
struct xr_delivery {
	const uint8_t *envelope;
	size_t envelope_len;
	const uint8_t *proof; /* what the destination needs to accept it; framework-defined */
	size_t proof_len;
};

struct xr_submitted {
	uint8_t tx_hash[32];
	uint64_t nonce;
};

struct xr_adapter {
	uint32_t abi_major, abi_minor, size;
	const char *framework; /* "evm", "cometbft", ... */
	uint64_t caps;         /* XR_CAP_* */
	/* Opens one chain from its parameters (JSON object text). */
	int (*open)(const struct xr_host *host, const char *params_json, void **ret_chain,
		    struct xr_err *err);
	void (*close)(void *chain); /* accepts NULL */
	int (*head)(void *chain, struct xr_head *ret_head, struct xr_err *err);
	/* Emits, in order, every event in blocks [from, to], each with evidence
	 * the adapter has verified itself. */
	int (*scan)(void *chain, uint64_t from, uint64_t to, xr_observe_fn emit, void *ctx,
		    struct xr_err *err);
	int (*block_hash)(void *chain, uint64_t height, uint8_t ret_hash[32], struct xr_err *err);
	int (*submit)(void *chain, const struct xr_delivery *d, struct xr_submitted *ret,
		      struct xr_err *err);
	int (*broadcast)(void *chain, const uint8_t *raw_tx, size_t len, uint8_t ret_tx_hash[32],
			 struct xr_err *err);
	/* version 1.0 ends here; fields are only appended */

	/* Version 1.1; read only when size covers them; each may be NULL.
	 *
	 * scan_linked is scan anchored to a chain: before it emits anything it
	 * checks that blocks from..to link by parent hash from
	 * span->parent_hash to span->to_hash, so every event it emits is on
	 * the chain whose tip the relay's endpoints agreed on, and no block of
	 * the range is passed over unread. It calls mark after the last event
	 * of a block (at least every few blocks with events, and for to at the
	 * end). XR_ECONFLICT when the blocks link up to to_hash but block
	 * from's parent is not parent_hash: the relay's cursor is not on the
	 * agreed chain. */
	int (*scan_linked)(void *chain, const struct xr_span *span, xr_observe_fn emit,
			   xr_mark_fn mark, void *ctx, struct xr_err *err);
	/* For each emitter the chain watches, its last sequence as of block
	 * height (whose hash is block_hash): the relay seeds its gap check with
	 * it when it starts watching at height + 1. */
	int (*emitters)(void *chain, uint64_t height, const uint8_t block_hash[32],
			xr_emitter_fn fn, void *ctx, struct xr_err *err);
};

/* The size of version 1.0 of struct xr_adapter. */
#define XR_ADAPTER_V1_0_SIZE (offsetof(struct xr_adapter, broadcast) + sizeof(void *))

/* Does the table (by its size field) hold field f, and is it set? */
#define XR_ADAPTER_HAS(a, f)                                                                      \
	((a)->size >= offsetof(struct xr_adapter, f) + sizeof((a)->f) && (a)->f)
#define XR_HOST_HAS(h, f) ((h)->size >= offsetof(struct xr_host, f) + sizeof((h)->f) && (h)->f)

/* The one symbol a plug-in exports. */
typedef const struct xr_adapter *(*xr_adapter_entry_fn)(void);
#define XR_ADAPTER_ENTRY_SYMBOL "xr_adapter_entry"

#endif
