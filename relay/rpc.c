/* rpc.c - JSON-RPC 2.0 over HTTP(S) with libcurl: one reused easy handle per
 * client, fail-over across endpoints, jittered exponential back-off, per-method
 * reply caps, strict one-pass reply checks (json_scan.c) without a tree of the
 * body, and results handed back as the node's own text. */
#include "rpc.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>

#include "json_scan.h"
#include "xr_bytes.h"

#if LIBCURL_VERSION_NUM < 0x075500
#error "xrelay needs libcurl 7.85 or newer (CURLOPT_PROTOCOLS_STR)"
#endif

#define DEFAULT_CONNECT_TIMEOUT_MS 2000
#define DEFAULT_TIMEOUT_MS 10000
#define DEFAULT_MAX_RESPONSE ((size_t)64 << 20)
#define DEFAULT_RETRIES 4
#define DEFAULT_BACKOFF_MS 100
#define MAX_BACKOFF_MS 5000
#define MAX_RETRY_AFTER_MS 5000
#define MAX_BATCH 1000
#define MAX_URL 2048
#define MAX_METHOD 128
#define MAX_REQUEST ((size_t)64 << 20)
/* A reply buffer larger than this is released after the call instead of
 * being kept for the next one, so one huge block does not pin memory; a
 * result larger than this takes over the reply buffer instead of being
 * copied out of it, so a big reply is held once. */
#define KEEP_BUFFER ((size_t)1 << 20)
/* How much of an untrusted string (error message, parser complaint) goes
 * into an error message. */
#define SHOW_MAX 96
/* How much of a JSON-RPC error message is decoded, to show and classify. */
#define MESSAGE_MAX 512

#define KIB ((size_t)1 << 10)
#define MIB ((size_t)1 << 20)
#define DEFAULT_CAP (4 * MIB)

/* The built-in reply caps (nginx-style command table). cap_full, when not 0,
 * is the cap when the params ask for full transactions (a top-level true). */
static const struct {
	const char *method;
	size_t cap, cap_full;
} builtin_caps[] = {
    {"eth_chainId", 64 * KIB, 0},
    {"eth_blockNumber", 64 * KIB, 0},
    {"net_version", 64 * KIB, 0},
    {"eth_getBlockByNumber", 4 * MIB, 8 * MIB},
    {"eth_getBlockByHash", 4 * MIB, 8 * MIB},
    {"eth_getTransactionReceipt", 4 * MIB, 0},
    {"eth_getBlockReceipts", 32 * MIB, 0},
    {"eth_getLogs", 32 * MIB, 0},
    {"eth_call", 1 * MIB, 0},
};

struct endpoint {
	char *url;
	char origin[160];	/* scheme://host:port, for messages */
	uint64_t not_before_ms; /* CLOCK_MONOTONIC: what its last Retry-After asked */
	bool too_big;		/* sent a reply over the cap during this exchange */
};

/* What the xr_host services get as ctx. */
struct host_ctx {
	struct xr_rpc *rpc;
	void (*log)(void *ctx, enum xr_log_level level, const char *msg);
	void *log_ctx;
};

/* A reply body; room is kept for a NUL after it. */
struct body {
	char *data;
	size_t len, cap;
	bool failed; /* out of memory */
};

struct xr_rpc {
	struct endpoint *ep;
	size_t nep;
	size_t good; /* the endpoint that answered last */
	long connect_timeout_ms, timeout_ms;
	size_t max_response;
	struct xr_rpc_cap *caps; /* overrides, names owned */
	size_t ncaps;
	size_t default_cap;
	unsigned retries, backoff_ms;
	uint64_t next_id;
	uint64_t rng;
	CURL *curl;
	struct curl_slist *headers;
	struct xr_buf req;
	struct body resp;
	size_t cap; /* of the reply in flight */
	bool overflow;
	char curl_err[CURL_ERROR_SIZE];
	struct host_ctx host;
};

/* What one attempt came to, besides an error code; `what` says why. */
enum {
	DONE = 0,	   /* a valid reply with results */
	RETRY = 1,	   /* transport, 5xx or malformed: try again (XR_EIO) */
	RETRY_BUSY = 2,	   /* rate limited: try again (XR_EBUSY) */
	RETRY_TIMEOUT = 3, /* timed out: try again (XR_ETIMEOUT) */
	TOO_BIG = 4,	   /* over the cap: try another endpoint (XR_ETOOBIG) */
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* --- helpers --------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = {.tv_sec = (time_t)(ms / 1000),
			      .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Full jitter (AWS architecture blog): a uniform delay in [0, min(cap,
 * base * 2^retry)], so clients that failed together do not retry together. */
static uint64_t back_off_ms(struct xr_rpc *r, unsigned retry)
{
	uint64_t ceiling = r->backoff_ms;
	for (unsigned i = 0; i < retry && ceiling < MAX_BACKOFF_MS; i++)
		ceiling *= 2;
	if (ceiling > MAX_BACKOFF_MS)
		ceiling = MAX_BACKOFF_MS;
	return splitmix64(&r->rng) % (ceiling + 1);
}

/* Writes a reason for a retry into what; returns RETRY. */
__attribute__((format(printf, 3, 4))) static int why(char *what, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (vsnprintf(what, n, fmt, ap) < 0)
		what[0] = '\0';
	va_end(ap);
	return RETRY;
}

static const char *type_name(enum xr_json_type t)
{
	switch (t) {
	case XR_JSON_OBJECT:
		return "an object";
	case XR_JSON_ARRAY:
		return "an array";
	case XR_JSON_STRING:
		return "a string";
	case XR_JSON_NUMBER:
		return "a number";
	case XR_JSON_TRUE:
	case XR_JSON_FALSE:
		return "a boolean";
	case XR_JSON_NULL:
		return "null";
	case XR_JSON_NONE:
		break;
	}
	return "missing";
}

static const char *first_char(const char *p, size_t len)
{
	const char *end = p + len;
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p < end ? p : NULL;
}

/* Grows b to hold want bytes and a NUL, but never past limit + 1. */
static bool body_reserve(struct body *b, size_t want, size_t limit)
{
	if (want < b->cap)
		return true;
	size_t ncap = b->cap ? b->cap : 16384;
	while (ncap <= want && ncap <= limit)
		ncap = ncap > SIZE_MAX / 2 ? SIZE_MAX : ncap * 2;
	if (ncap > limit + 1)
		ncap = limit + 1;
	if (ncap <= want)
		ncap = want + 1;
	char *d = realloc(b->data, ncap);
	if (!d)
		return false;
	b->data = d;
	b->cap = ncap;
	return true;
}

static void body_fini(struct body *b)
{
	free(b->data);
	*b = (struct body){0};
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct xr_rpc *r = ud;
	struct body *b = &r->resp;
	size_t len = size * n;
	/* Returning short makes curl abort the transfer at once. */
	if (len > r->cap - b->len) {
		r->overflow = true;
		return 0;
	}
	if (b->len == 0) {
		/* Sized once from Content-Length (already checked against the
		 * cap by curl), so a big body is not copied while it grows. */
		curl_off_t cl = -1;
		if (curl_easy_getinfo(r->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl) ==
			CURLE_OK &&
		    cl > 0 && (uint64_t)cl <= r->cap && !body_reserve(b, (size_t)cl, r->cap)) {
			b->failed = true;
			return 0;
		}
	}
	if (!body_reserve(b, b->len + len, r->cap)) {
		b->failed = true;
		return 0;
	}
	memcpy(b->data + b->len, p, len);
	b->len += len;
	return len;
}

/* Method names go into the request unescaped, so they must be plain. */
static int check_method(const char *method, struct xr_err *err)
{
	char show[4 * 40 + 4];
	size_t len = method ? strnlen(method, MAX_METHOD + 1) : 0;
	if (len == 0 || len > MAX_METHOD)
		return xr_err_set(err, XR_EINVAL, "rpc method name must be 1 to %d characters",
				  MAX_METHOD);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)method[i];
		if (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\')
			return xr_err_set(err, XR_EINVAL, "rpc method '%s' is not a plain name",
					  xr_show(method, len, 40, show));
	}
	return 0;
}

/* Params are sent as the caller wrote them (no re-encoding of numbers), but
 * only once we know they are one JSON array or object. */
static int check_params(const char *method, const char *params, struct xr_err *err)
{
	char show[4 * SHOW_MAX + 4];
	struct xr_err e = {0};
	enum xr_json_type t = XR_JSON_NONE;
	if (xr_json_scan(params, strlen(params), NULL, &t, &e) < 0)
		return xr_err_set(err, XR_EINVAL,
				  "rpc %s: params are not a json array or object: %s", method,
				  xr_show(e.msg, strlen(e.msg), SHOW_MAX, show));
	if (t != XR_JSON_ARRAY && t != XR_JSON_OBJECT)
		return xr_err_set(err, XR_EINVAL,
				  "rpc %s: params are not a json array or object: %s", method,
				  type_name(t));
	return 0;
}

static void put_str(struct xr_buf *b, const char *s)
{
	xr_buf_put(b, s, strlen(s));
}

static void put_call(struct xr_buf *b, uint64_t id, const char *method, const char *params)
{
	char num[24];
	snprintf(num, sizeof(num), "%" PRIu64, id);
	put_str(b, "{\"jsonrpc\":\"2.0\",\"id\":");
	put_str(b, num);
	put_str(b, ",\"method\":\"");
	put_str(b, method);
	put_str(b, "\",\"params\":");
	put_str(b, params);
	put_str(b, "}");
}

/* --- caps ------------------------------------------------------------------ */

static int find_true(void *ctx, const struct xr_json_item *it, struct xr_err *err)
{
	(void)err;
	if (it->type == XR_JSON_TRUE)
		*(bool *)ctx = true;
	return 0;
}

/* Does the params text hold a top-level true (full transactions)? */
static bool wants_full(const char *params)
{
	bool full = false;
	struct xr_json_scan_opts o = {.report_depth = 1, .item = find_true, .ctx = &full};
	return xr_json_scan(params, strlen(params), &o, NULL, NULL) == 0 && full;
}

size_t xr_rpc_reply_cap(const struct xr_rpc *r, const char *method, const char *params_json)
{
	size_t cap = r->default_cap;
	bool found = false;

	assert(r && method);
	for (size_t i = 0; i < r->ncaps && !found; i++) {
		if (strcmp(r->caps[i].method, method) == 0) {
			cap = r->caps[i].max_response;
			found = true;
		}
	}
	for (size_t i = 0; i < sizeof(builtin_caps) / sizeof(builtin_caps[0]) && !found; i++) {
		if (strcmp(builtin_caps[i].method, method) == 0) {
			found = true;
			cap = builtin_caps[i].cap;
			if (builtin_caps[i].cap_full &&
			    wants_full(params_json ? params_json : "[]"))
				cap = builtin_caps[i].cap_full;
		}
	}
	return cap < r->max_response ? cap : r->max_response;
}

/* --- replies ---------------------------------------------------------------
 * Replies are checked by one pass of json_scan over the body, which hands back
 * the spans of the reply object's members; only the error object is looked at
 * again. jansson is not used: its tree of a body is about 20 times the body,
 * and it re-encodes numbers (0.1 becomes 0.10000000000000001) where results
 * must be the node's own text. */

/* The members of one reply object that matter. */
struct envelope {
	struct xr_json_span v[4];
	enum xr_json_type t[4];
};

enum { M_JSONRPC, M_ID, M_RESULT, M_ERROR };
static const char *const member_names[] = {"jsonrpc", "id", "result", "error"};

/* A JSON-RPC error object: its code, and its message token. */
struct rpc_fault {
	int64_t code;
	struct xr_json_span message;
};

static int envelope_member(struct envelope *e, const struct xr_json_item *it, struct xr_err *err)
{
	if (!it->key.p)
		return 0;
	for (size_t i = 0; i < 4; i++) {
		if (!xr_json_string_eq(it->key.p, it->key.len, member_names[i]))
			continue;
		/* Two parsers could pick different ones: refuse. */
		if (e->v[i].p)
			return xr_err_set(err, XR_EINVAL,
					  "invalid json at byte %zu: duplicate member \"%s\"",
					  it->offset, member_names[i]);
		e->v[i] = it->value;
		e->t[i] = it->type;
		return 0;
	}
	return 0;
}

/* Reads an integer token: 0 with *ret, 1 for a fraction or exponent, 2 out of
 * the range of int64_t. */
static int int_token(struct xr_json_span s, int64_t *ret)
{
	const char *p = s.p, *end = s.p + s.len;
	uint64_t v = 0;
	bool neg = p < end && *p == '-';

	if (memchr(p, '.', s.len) || memchr(p, 'e', s.len) || memchr(p, 'E', s.len))
		return 1;
	for (p += neg; p < end; p++) {
		unsigned d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return 2;
		v = v * 10 + d;
	}
	if (v > (uint64_t)INT64_MAX + neg)
		return 2;
	*ret = !neg ? (int64_t)v : v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	return 0;
}

/* The members of an error object that matter: code and message. */
struct fault_scan {
	struct xr_json_span v[2];
	enum xr_json_type t[2]; /* XR_JSON_NONE for a member named twice */
};

static int fault_member(void *ctx, const struct xr_json_item *it, struct xr_err *err)
{
	static const char *const names[] = {"code", "message"};
	struct fault_scan *f = ctx;
	(void)err;
	for (size_t i = 0; i < 2; i++) {
		if (it->key.p && xr_json_string_eq(it->key.p, it->key.len, names[i])) {
			f->t[i] = f->v[i].p ? XR_JSON_NONE : it->type;
			f->v[i] = it->value;
		}
	}
	return 0;
}

/* Checks the envelope of one reply object. On success *ret_id is its id,
 * and *ret_is_error says whether it has an error (in *ret_fault) rather
 * than a result. */
static int check_envelope(const struct envelope *e,
			  int64_t *ret_id,
			  bool *ret_is_error,
			  struct rpc_fault *ret_fault,
			  char *what,
			  size_t n)
{
	char show[4 * 24 + 4];
	int64_t id = 0;

	if (e->t[M_JSONRPC] != XR_JSON_STRING ||
	    !xr_json_string_eq(e->v[M_JSONRPC].p, e->v[M_JSONRPC].len, "2.0"))
		return why(what, n, "\"jsonrpc\" is not \"2.0\"");
	if (e->t[M_ID] != XR_JSON_NUMBER)
		return why(what, n, "\"id\" is %s, not an integer", type_name(e->t[M_ID]));
	switch (int_token(e->v[M_ID], &id)) {
	case 1:
		return why(what, n, "\"id\" is a number, not an integer");
	case 2:
		return why(what, n, "\"id\" %s does not fit in 64 bits",
			   xr_show(e->v[M_ID].p, e->v[M_ID].len, 24, show));
	}
	bool res = e->v[M_RESULT].p, er = e->v[M_ERROR].p;
	if (res && er)
		return why(what, n, "both \"result\" and \"error\" in reply to id %" PRId64, id);
	if (!res && !er)
		return why(what, n, "neither \"result\" nor \"error\" in reply to id %" PRId64, id);
	if (er) {
		struct fault_scan f = {0};
		struct xr_json_scan_opts o = {.report_depth = 1, .item = fault_member, .ctx = &f};
		int64_t code;
		if (e->t[M_ERROR] != XR_JSON_OBJECT ||
		    xr_json_scan(e->v[M_ERROR].p, e->v[M_ERROR].len, &o, NULL, NULL) < 0 ||
		    f.t[0] != XR_JSON_NUMBER || int_token(f.v[0], &code) != 0 ||
		    f.t[1] != XR_JSON_STRING)
			return why(what, n,
				   "\"error\" is not an object with an integer code and a message");
		ret_fault->code = code;
		ret_fault->message = f.v[1];
	}
	*ret_id = id;
	*ret_is_error = er;
	return 0;
}

/* Decodes the start of an error's message into buf (MESSAGE_MAX bytes);
 * returns its length, one more than SHOW_MAX if it was cut, so xr_show
 * marks the cut. */
static size_t fault_message(const struct rpc_fault *f, char *buf)
{
	bool cut;
	size_t n = xr_json_string_decode(f->message.p, f->message.len, buf, MESSAGE_MAX, &cut);
	return cut && n <= SHOW_MAX ? SHOW_MAX + 1 : n;
}

/* Is this error the node telling us to slow down? Not "query returned more
 * than 10000 results" (-32005 too): that is about the range asked for. */
static bool rate_limited(const struct rpc_fault *f)
{
	static const char *const words[] = {
	    "rate limit",	  "rate-limit",	    "ratelimit", "too many requests",
	    "exceeded the quota", "quota exceeded", "capacity",	 "request limit",
	};
	char msg[MESSAGE_MAX];

	if (f->code == 429 || f->code == -32029)
		return true;
	if (f->code != -32005 && f->code != -32090 && f->code != -32000)
		return false;
	size_t n = xr_json_string_decode(f->message.p, f->message.len, msg, sizeof(msg), NULL);
	for (size_t i = 0; i < n; i++)
		if (msg[i] >= 'A' && msg[i] <= 'Z')
			msg[i] = (char)(msg[i] + 32);
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (memmem(msg, n, words[i], strlen(words[i])))
			return true;
	return false;
}

static int rpc_error(const char *method, const struct rpc_fault *f, struct xr_err *err)
{
	char show[4 * SHOW_MAX + 4], msg[MESSAGE_MAX];
	size_t n = fault_message(f, msg);
	return xr_err_set(err, XR_EINVAL, "rpc %s: error %" PRId64 ": %s", method, f->code,
			  xr_show(msg, n, SHOW_MAX, show));
}

/* Writes a rate-limit error into what; returns RETRY_BUSY. */
static int busy(const struct rpc_fault *f, char *what, size_t n)
{
	char show[4 * SHOW_MAX + 4], msg[MESSAGE_MAX];
	size_t len = fault_message(f, msg);
	why(what, n, "error %" PRId64 ": %s", f->code, xr_show(msg, len, SHOW_MAX, show));
	return RETRY_BUSY;
}

/* Scans a body; a grammar fault is a RETRY with what set. */
static int scan_body(const char *body,
		     size_t len,
		     unsigned report,
		     xr_json_item_fn item,
		     void *ctx,
		     enum xr_json_type *ret_type,
		     char *what,
		     size_t n,
		     struct xr_err *err)
{
	struct xr_err e = {0};
	struct xr_json_scan_opts o = {.report_depth = report, .item = item, .ctx = ctx};
	int rc = xr_json_scan(body, len, &o, ret_type, &e);
	if (rc == XR_EINVAL)
		return why(what, n, "%s", e.msg);
	if (rc < 0)
		return xr_err_set(err, rc, "%s", e.msg);
	return 0;
}

/* The result text as a new NUL-terminated string. A big result takes over
 * the reply buffer (when own is the buffer the span lies in) rather than
 * being copied, so a 20 MB reply is not held twice. */
static char *take_span(struct body *own, struct xr_json_span s)
{
	if (own && own->data && s.len > KEEP_BUFFER) {
		assert(s.p >= own->data && s.p + s.len <= own->data + own->len);
		char *d = own->data;
		memmove(d, s.p, s.len);
		d[s.len] = '\0';
		if (s.len < own->cap / 2) {
			char *t = realloc(d, s.len + 1);
			if (t)
				d = t;
		}
		*own = (struct body){0};
		return d;
	}
	char *t = malloc(s.len + 1);
	if (t) {
		memcpy(t, s.p, s.len);
		t[s.len] = '\0';
	}
	return t;
}

/* What a single call waits for, and where its result goes. */
struct one {
	const char *method;
	uint64_t id;
	char *result;
	size_t len;
};

static int one_member(void *ctx, const struct xr_json_item *it, struct xr_err *err)
{
	return envelope_member(ctx, it, err);
}

/* DONE with o->result set, RETRY or RETRY_BUSY with what set, or an error.
 * An HTTP status other than 2xx comes here only to look for a JSON-RPC error
 * in the body (some nodes send those with 400); a result there is still a
 * failure. own is the buffer body lies in, if the result may take it over. */
static int check_one(const char *body,
		     size_t blen,
		     struct body *own,
		     struct one *o,
		     long status,
		     char *what,
		     size_t n,
		     struct xr_err *err)
{
	struct envelope e = {0};
	struct rpc_fault f = {0};
	enum xr_json_type t = XR_JSON_NONE;
	int64_t id;
	bool is_error;
	int rc;

	/* Members are only of interest when the reply is an object. */
	const char *c = first_char(body, blen);
	unsigned report = c && *c == '{' ? 1 : 0;
	if ((rc = scan_body(body, blen, report, one_member, &e, &t, what, n, err)) != 0)
		return rc;
	if (t != XR_JSON_OBJECT)
		return why(what, n, "reply is %s, not an object", type_name(t));
	if ((rc = check_envelope(&e, &id, &is_error, &f, what, n)) != 0)
		return rc;
	if (id < 0 || (uint64_t)id != o->id)
		return why(what, n, "id %" PRId64 ", expected %" PRIu64, id, o->id);
	if (is_error)
		return rate_limited(&f) ? busy(&f, what, n) : rpc_error(o->method, &f, err);
	if (status / 100 != 2)
		return RETRY; /* the caller reports the status */
	struct xr_json_span s = e.v[M_RESULT];
	if (!(o->result = take_span(own, s)))
		return xr_err_set(err, XR_ENOMEM, "rpc %s: out of memory for a %zu-byte result",
				  o->method, s.len);
	o->len = s.len;
	return DONE;
}

/* What a batch waits for: ids first..first+n-1 for methods[0..n-1]. */
struct many {
	size_t n;
	const char *const *methods;
	uint64_t first;
	char **results; /* n, owned until handed over */
	size_t *lens;
};

static void free_results(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i]);
		v[i] = NULL;
	}
}

/* The answer to one call of a batch. */
struct slot {
	bool seen, is_error;
	struct xr_json_span result;
	struct rpc_fault fault;
};

/* The state of the scan of a batch reply: replies are checked as the scan
 * meets them, in order, and the first fault is kept (the scan goes on, so
 * a grammar fault later in the body still wins, as it would with a parser). */
struct batch {
	const struct many *m;
	struct slot *slots;  /* m->n, by id - first */
	struct envelope cur; /* of the reply being scanned */
	size_t count;
	bool bad;
	char *what;
	size_t n;
};

static int batch_item(void *ctx, const struct xr_json_item *it, struct xr_err *err)
{
	struct batch *b = ctx;
	const struct many *m = b->m;
	int64_t id;
	bool is_error;
	struct rpc_fault f = {0};

	if (it->depth == 2)
		return b->count < m->n ? envelope_member(&b->cur, it, err) : 0;
	size_t i = b->count++;
	struct envelope e = b->cur;
	b->cur = (struct envelope){0};
	if (b->bad || i >= m->n)
		return 0; /* more replies than calls is reported at the end */
	if (it->type != XR_JSON_OBJECT) {
		b->bad = true;
		why(b->what, b->n, "reply is %s, not an object", type_name(it->type));
		return 0;
	}
	if (check_envelope(&e, &id, &is_error, &f, b->what, b->n) != 0) {
		b->bad = true;
		return 0;
	}
	if (id < 0 || (uint64_t)id < m->first || (uint64_t)id - m->first >= m->n) {
		b->bad = true;
		why(b->what, b->n,
		    "id %" PRId64 " is not in the batch (%" PRIu64 " to %" PRIu64 ")", id, m->first,
		    m->first + m->n - 1);
		return 0;
	}
	struct slot *s = &b->slots[(uint64_t)id - m->first];
	if (s->seen) {
		b->bad = true;
		why(b->what, b->n, "id %" PRId64 " answered twice", id);
		return 0;
	}
	*s = (struct slot){.seen = true, .is_error = is_error, .result = e.v[M_RESULT], .fault = f};
	return 0;
}

static int check_many(const char *body,
		      size_t blen,
		      struct body *own,
		      struct many *m,
		      char *what,
		      size_t n,
		      struct xr_err *err)
{
	struct batch b = {.m = m, .what = what, .n = n};
	enum xr_json_type t = XR_JSON_NONE;
	int rc;

	if (!(b.slots = calloc(m->n, sizeof(*b.slots))))
		return xr_err_set(err, XR_ENOMEM, "rpc batch: out of memory");
	const char *c = first_char(body, blen);
	unsigned report = c && *c == '[' ? 2 : 0;
	if ((rc = scan_body(body, blen, report, batch_item, &b, &t, what, n, err)) != 0)
		goto out;
	rc = RETRY;
	if (t != XR_JSON_ARRAY) {
		why(what, n, "reply is %s, not an array of %zu replies", type_name(t), m->n);
		goto out;
	}
	if (b.count > m->n) {
		why(what, n, "%zu replies to %zu calls", b.count, m->n);
		goto out;
	}
	if (b.bad)
		goto out;
	for (size_t k = 0; k < m->n; k++) {
		if (!b.slots[k].seen) {
			why(what, n, "no reply to id %" PRIu64 " (%s)", m->first + k,
			    m->methods[k]);
			goto out;
		}
	}
	/* Well formed: from here on the node has answered. Being rate limited
	 * on any call is the news for the whole batch. */
	for (size_t k = 0; k < m->n; k++) {
		if (b.slots[k].is_error && rate_limited(&b.slots[k].fault)) {
			rc = busy(&b.slots[k].fault, what, n);
			goto out;
		}
	}
	for (size_t k = 0; k < m->n; k++) {
		if (b.slots[k].is_error) {
			rc = rpc_error(m->methods[k], &b.slots[k].fault, err);
			goto out;
		}
	}
	/* The largest result may take over the buffer, so it goes last. */
	size_t big = 0;
	for (size_t k = 1; k < m->n; k++)
		if (b.slots[k].result.len > b.slots[big].result.len)
			big = k;
	for (size_t j = 0; j < m->n; j++) {
		size_t k = j == m->n - 1 ? big : j < big ? j : j + 1;
		if (!(m->results[k] = take_span(k == big ? own : NULL, b.slots[k].result))) {
			rc = xr_err_set(err, XR_ENOMEM,
					"rpc %s: out of memory for a %zu-byte result",
					m->methods[k], b.slots[k].result.len);
			free_results(m->results, m->n);
			goto out;
		}
		m->lens[k] = b.slots[k].result.len;
	}
	rc = DONE;
out:
	free(b.slots);
	return rc;
}

/* --- transport ------------------------------------------------------------- */

struct exchange {
	const char *label; /* the method, or "batch of N (first…)" */
	struct one *one;   /* exactly one of one and many */
	struct many *many;
	size_t cap;
};

/* Keeps what a Retry-After header asked of endpoint ep (in seconds; curl
 * also reads the HTTP-date form), at most MAX_RETRY_AFTER_MS. */
static void note_retry_after(struct xr_rpc *r, struct endpoint *ep)
{
	curl_off_t s = 0;
	if (curl_easy_getinfo(r->curl, CURLINFO_RETRY_AFTER, &s) != CURLE_OK || s <= 0)
		return;
	uint64_t ms =
	    (uint64_t)s > MAX_RETRY_AFTER_MS / 1000 ? MAX_RETRY_AFTER_MS : (uint64_t)s * 1000;
	ep->not_before_ms = mono_ms() + ms;
}

/* One HTTP request to endpoint idx. */
static int
attempt(struct xr_rpc *r, size_t idx, struct exchange *x, char *what, size_t n, struct xr_err *err)
{
	struct endpoint *ep = &r->ep[idx];
	char sub[200], show[4 * SHOW_MAX + 4];
	long status = 0;
	int rc;

	r->resp.len = 0;
	r->resp.failed = false;
	r->overflow = false;
	r->curl_err[0] = '\0';
	if (curl_easy_setopt(r->curl, CURLOPT_URL, ep->url) != CURLE_OK)
		return xr_err_set(err, XR_ENOMEM, "rpc %s: out of memory", x->label);
	CURLcode cc = curl_easy_perform(r->curl);
	if (r->overflow || cc == CURLE_FILESIZE_EXCEEDED) {
		why(what, n, "reply from %s larger than %zu bytes", ep->origin, r->cap);
		return TOO_BIG;
	}
	if (cc == CURLE_OUT_OF_MEMORY || r->resp.failed)
		return xr_err_set(err, XR_ENOMEM, "rpc %s: out of memory", x->label);
	if (cc == CURLE_OPERATION_TIMEDOUT) {
		curl_off_t connected = 0;
		curl_easy_getinfo(r->curl, CURLINFO_CONNECT_TIME_T, &connected);
		if (connected > 0)
			why(what, n, "timed out: no reply from %s within %ld ms", ep->origin,
			    r->timeout_ms);
		else
			why(what, n, "timed out: no connection to %s within %ld ms", ep->origin,
			    r->connect_timeout_ms);
		return RETRY_TIMEOUT;
	}
	if (cc != CURLE_OK)
		return why(what, n, "no reply from %s: %s", ep->origin,
			   r->curl_err[0] ? r->curl_err : curl_easy_strerror(cc));
	curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
	const char *body = r->resp.data ? r->resp.data : "";
	size_t blen = r->resp.len;
	if (status == 429) {
		note_retry_after(r, ep);
		why(what, n, "rate limited by %s: http 429%s%s", ep->origin, blen ? ": " : "",
		    xr_show(body, blen, 64, show));
		return RETRY_BUSY;
	}
	if (status >= 500) {
		note_retry_after(r, ep);
		return why(what, n, "http %ld from %s", status, ep->origin);
	}
	if (status / 100 != 2) {
		/* Not retried; but a JSON-RPC error in the body is the better news. */
		if (x->one) {
			rc = check_one(body, blen, NULL, x->one, status, sub, sizeof(sub), err);
			if (rc == XR_EINVAL)
				r->good = idx;
			if (rc < 0)
				return rc;
			if (rc == RETRY_BUSY) {
				note_retry_after(r, ep);
				why(what, n, "rate limited by %s: %s", ep->origin, sub);
				return RETRY_BUSY;
			}
		}
		return xr_err_set(err, XR_EIO, "rpc %s: http %ld from %s: %s", x->label, status,
				  ep->origin, xr_show(body, blen, 64, show));
	}
	rc = x->one ? check_one(body, blen, &r->resp, x->one, status, sub, sizeof(sub), err)
		    : check_many(body, blen, &r->resp, x->many, sub, sizeof(sub), err);
	if (rc == RETRY)
		return why(what, n, "malformed reply from %s: %s", ep->origin, sub);
	if (rc == RETRY_BUSY) {
		note_retry_after(r, ep);
		why(what, n, "rate limited by %s: %s", ep->origin, sub);
		return RETRY_BUSY;
	}
	if (rc == DONE || rc == XR_EINVAL)
		r->good = idx;
	return rc;
}

/* The next endpoint from idx on that has not sent too big a reply in this
 * exchange; SIZE_MAX when none is left. */
static size_t next_endpoint(const struct xr_rpc *r, size_t idx)
{
	for (size_t i = 0; i < r->nep; i++, idx = (idx + 1) % r->nep)
		if (!r->ep[idx].too_big)
			return idx;
	return SIZE_MAX;
}

/* Sends r->req with retry and fail-over. */
static int exchange(struct xr_rpc *r, struct exchange *x, struct xr_err *err)
{
	static const int codes[] = {
	    [RETRY] = XR_EIO,
	    [RETRY_BUSY] = XR_EBUSY,
	    [RETRY_TIMEOUT] = XR_ETIMEOUT,
	    [TOO_BIG] = XR_ETOOBIG,
	};
	unsigned attempts = r->retries + 1, made = 0;
	size_t idx = r->good;
	char what[256] = "";
	int rc = RETRY, last = RETRY;

	for (size_t i = 0; i < r->nep; i++)
		r->ep[i].too_big = false;
	r->cap = x->cap;
	curl_easy_setopt(r->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->cap);
	curl_easy_setopt(r->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->req.len);
	curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, (const char *)r->req.data);
	for (; made < attempts; idx = (idx + 1) % r->nep) {
		if ((idx = next_endpoint(r, idx)) == SIZE_MAX)
			break;
		/* Another endpoint after a reply too big: no reason to wait. */
		uint64_t wait = made > 0 && last != TOO_BIG ? back_off_ms(r, made - 1) : 0;
		uint64_t now = mono_ms();
		if (r->ep[idx].not_before_ms > now + wait)
			wait = r->ep[idx].not_before_ms - now;
		if (wait)
			sleep_ms(wait);
		what[0] = '\0';
		made++;
		if ((rc = attempt(r, idx, x, what, sizeof(what), err)) < 0 || rc == DONE)
			goto out;
		last = rc;
		if (rc == TOO_BIG)
			r->ep[idx].too_big = true;
	}
	if (made > 1)
		rc = xr_err_set(err, codes[last], "rpc %s: %s (%u attempts)", x->label, what, made);
	else
		rc = xr_err_set(err, codes[last], "rpc %s: %s", x->label, what);
out:
	/* A big reply buffer is not kept for the next call. */
	if (r->resp.cap > KEEP_BUFFER)
		body_fini(&r->resp);
	xr_buf_reset(&r->req);
	return rc;
}

/* --- public ---------------------------------------------------------------- */

static int add_endpoint(struct endpoint *ep, const char *url, struct xr_err *err)
{
	char show[4 * 64 + 4], *scheme = NULL, *host = NULL, *port = NULL;
	size_t len = url ? strnlen(url, MAX_URL + 1) : 0;
	CURLU *u = NULL;
	CURLUcode uc;
	int rc = 0;

	if (len == 0 || len > MAX_URL)
		return xr_err_set(err, XR_EINVAL, "rpc url must be 1 to %d characters", MAX_URL);
	xr_show(url, len, 64, show);
	if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
		return xr_err_set(err, XR_EINVAL,
				  "rpc url '%s' must start with http:// or https://", show);
	if (!(u = curl_url()))
		return xr_err_set(err, XR_ENOMEM, "out of memory");
	if ((uc = curl_url_set(u, CURLUPART_URL, url, 0)) != CURLUE_OK ||
	    (uc = curl_url_get(u, CURLUPART_SCHEME, &scheme, 0)) != CURLUE_OK ||
	    (uc = curl_url_get(u, CURLUPART_HOST, &host, 0)) != CURLUE_OK ||
	    (uc = curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT)) != CURLUE_OK) {
		rc = uc == CURLUE_OUT_OF_MEMORY
			 ? xr_err_set(err, XR_ENOMEM, "out of memory")
			 : xr_err_set(err, XR_EINVAL, "rpc url '%s' is not valid: %s", show,
				      curl_url_strerror(uc));
		goto out;
	}
	snprintf(ep->origin, sizeof(ep->origin), "%s://%.100s:%s", scheme, host, port);
	if (!(ep->url = strdup(url)))
		rc = xr_err_set(err, XR_ENOMEM, "out of memory");
out:
	curl_free(port);
	curl_free(host);
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

void xr_rpc_free(struct xr_rpc *r)
{
	if (!r)
		return;
	if (r->curl)
		curl_easy_cleanup(r->curl);
	curl_slist_free_all(r->headers);
	for (size_t i = 0; i < r->nep; i++)
		free(r->ep[i].url);
	free(r->ep);
	for (size_t i = 0; i < r->ncaps; i++)
		free((char *)r->caps[i].method);
	free(r->caps);
	xr_buf_fini(&r->req);
	body_fini(&r->resp);
	free(r);
}

static int setup_curl(struct xr_rpc *r, struct xr_err *err)
{
	static const char *const headers[] = {
	    "Content-Type: application/json", "Accept: application/json",
	    "Expect:", /* no 100-continue round trip on large requests */
	};
	CURL *c;

	pthread_once(&global_once, global_init);
	if (global_rc != CURLE_OK)
		return xr_err_set(err, XR_EIO, "curl_global_init: %s",
				  curl_easy_strerror(global_rc));
	if (!(c = r->curl = curl_easy_init()))
		return xr_err_set(err, XR_ENOMEM, "curl_easy_init failed");
	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
		struct curl_slist *h = curl_slist_append(r->headers, headers[i]);
		if (!h)
			return xr_err_set(err, XR_ENOMEM, "out of memory");
		r->headers = h;
	}
	if (curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_HTTPHEADER, r->headers) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_USERAGENT, "xrelay") != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, r->connect_timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r->timeout_ms) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, r) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->curl_err) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK)
		return xr_err_set(err, XR_EIO, "curl refused an option");
	return 0;
}

/* Copies the cap overrides; "*" sets the cap of methods not named. */
static int add_caps(struct xr_rpc *r, const struct xr_rpc_opts *o, struct xr_err *err)
{
	int rc;

	r->default_cap = DEFAULT_CAP;
	if (o->ncaps == 0)
		return 0;
	if (!o->caps)
		return xr_err_set(err, XR_EINVAL, "rpc caps: %zu overrides but no table", o->ncaps);
	if (!(r->caps = calloc(o->ncaps, sizeof(*r->caps))))
		return xr_err_set(err, XR_ENOMEM, "out of memory");
	for (size_t i = 0; i < o->ncaps; i++) {
		const struct xr_rpc_cap *c = &o->caps[i];
		bool star = c->method && strcmp(c->method, "*") == 0;
		if (!star && (rc = check_method(c->method, err)) < 0)
			return rc;
		if (c->max_response == 0)
			return xr_err_set(err, XR_EINVAL,
					  "rpc reply cap of '%s' must be more than 0 bytes",
					  c->method);
		if (star) {
			r->default_cap = c->max_response;
			continue;
		}
		if (!(r->caps[r->ncaps].method = strdup(c->method)))
			return xr_err_set(err, XR_ENOMEM, "out of memory");
		r->caps[r->ncaps++].max_response = c->max_response;
	}
	return 0;
}

int xr_rpc_new(const struct xr_rpc_opts *o, struct xr_rpc **ret, struct xr_err *err)
{
	struct xr_rpc *r;
	int rc;

	assert(o && ret);
	if (!o->urls || o->nurls == 0)
		return xr_err_set(err, XR_EINVAL, "rpc needs at least one url");
	if (o->connect_timeout_ms < 0 || o->timeout_ms < 0)
		return xr_err_set(err, XR_EINVAL, "rpc timeouts must not be negative (%ld, %ld)",
				  o->connect_timeout_ms, o->timeout_ms);
	if (!(r = calloc(1, sizeof(*r))))
		return xr_err_set(err, XR_ENOMEM, "out of memory");
	r->connect_timeout_ms =
	    o->connect_timeout_ms ? o->connect_timeout_ms : DEFAULT_CONNECT_TIMEOUT_MS;
	r->timeout_ms = o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	r->max_response = o->max_response ? o->max_response : DEFAULT_MAX_RESPONSE;
	r->retries = o->retries ? o->retries : DEFAULT_RETRIES;
	r->backoff_ms = o->backoff_ms ? o->backoff_ms : DEFAULT_BACKOFF_MS;
	r->next_id = 1;
	if (getrandom(&r->rng, sizeof(r->rng), GRND_NONBLOCK) != (ssize_t)sizeof(r->rng))
		r->rng = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)r;
	xr_buf_init(&r->req, MAX_REQUEST);
	r->host.rpc = r;
	if ((rc = add_caps(r, o, err)) < 0)
		goto fail;
	if (!(r->ep = calloc(o->nurls, sizeof(*r->ep)))) {
		rc = xr_err_set(err, XR_ENOMEM, "out of memory");
		goto fail;
	}
	for (; r->nep < o->nurls; r->nep++)
		if ((rc = add_endpoint(&r->ep[r->nep], o->urls[r->nep], err)) < 0)
			goto fail;
	if ((rc = setup_curl(r, err)) < 0)
		goto fail;
	*ret = r;
	return 0;
fail:
	xr_rpc_free(r);
	return rc;
}

int xr_rpc_call(struct xr_rpc *r,
		const char *method,
		const char *params_json,
		char **ret_result,
		size_t *ret_len,
		struct xr_err *err)
{
	int rc;

	assert(r && ret_result);
	if (!params_json)
		params_json = "[]";
	if ((rc = check_method(method, err)) < 0 ||
	    (rc = check_params(method, params_json, err)) < 0)
		return rc;
	struct one o = {.method = method, .id = r->next_id++};
	put_call(&r->req, o.id, method, params_json);
	if (r->req.failed) {
		xr_buf_reset(&r->req);
		return xr_err_set(err, XR_EINVAL, "rpc %s: request larger than %zu bytes", method,
				  r->req.max);
	}
	struct exchange x = {
	    .label = method, .one = &o, .cap = xr_rpc_reply_cap(r, method, params_json)};
	if ((rc = exchange(r, &x, err)) < 0)
		return rc;
	*ret_result = o.result;
	if (ret_len)
		*ret_len = o.len;
	return 0;
}

int xr_rpc_batch(struct xr_rpc *r,
		 size_t n,
		 const char *const *methods,
		 const char *const *params_json,
		 char **ret_results,
		 size_t *ret_lens,
		 struct xr_err *err)
{
	char label[MAX_METHOD + 32];
	int rc;

	assert(r);
	if (n == 0)
		return 0;
	assert(methods && params_json && ret_results);
	if (n > MAX_BATCH)
		return xr_err_set(err, XR_EINVAL, "rpc batch of %zu calls is over the limit of %d",
				  n, MAX_BATCH);
	for (size_t i = 0; i < n; i++) {
		const char *p = params_json[i] ? params_json[i] : "[]";
		if ((rc = check_method(methods[i], err)) < 0 ||
		    (rc = check_params(methods[i], p, err)) < 0)
			return rc;
	}
	struct many m = {.n = n, .methods = methods, .first = r->next_id};
	r->next_id += n;
	m.results = calloc(n, sizeof(*m.results));
	m.lens = calloc(n, sizeof(*m.lens));
	if (!m.results || !m.lens) {
		rc = xr_err_set(err, XR_ENOMEM, "out of memory");
		goto out;
	}
	put_str(&r->req, "[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			put_str(&r->req, ",");
		put_call(&r->req, m.first + i, methods[i], params_json[i] ? params_json[i] : "[]");
	}
	put_str(&r->req, "]");
	if (r->req.failed) {
		xr_buf_reset(&r->req);
		rc = xr_err_set(err, XR_EINVAL, "rpc batch: request larger than %zu bytes",
				r->req.max);
		goto out;
	}
	snprintf(label, sizeof(label), "batch of %zu (%s%s)", n, methods[0], n > 1 ? ", ..." : "");
	struct exchange x = {.label = label, .many = &m};
	for (size_t i = 0; i < n; i++) {
		size_t c = xr_rpc_reply_cap(r, methods[i], params_json[i]);
		x.cap = c > r->max_response - x.cap ? r->max_response : x.cap + c;
	}
	if ((rc = exchange(r, &x, err)) < 0)
		goto out;
	memcpy(ret_results, m.results, n * sizeof(*ret_results));
	if (ret_lens)
		memcpy(ret_lens, m.lens, n * sizeof(*ret_lens));
	rc = 0;
out:
	free(m.results);
	free(m.lens);
	return rc;
}

/* --- host services --------------------------------------------------------- */

static int host_rpc(void *ctx,
		    const char *method,
		    const char *params_json,
		    char **ret_result,
		    size_t *ret_len,
		    struct xr_err *err)
{
	struct host_ctx *h = ctx;
	return xr_rpc_call(h->rpc, method, params_json, ret_result, ret_len, err);
}

static int host_rpc_batch(void *ctx,
			  size_t n,
			  const char *const *methods,
			  const char *const *params_json,
			  char **ret_results,
			  size_t *ret_lens,
			  struct xr_err *err)
{
	struct host_ctx *h = ctx;
	return xr_rpc_batch(h->rpc, n, methods, params_json, ret_results, ret_lens, err);
}

static void host_free_result(void *ctx, char *result)
{
	(void)ctx;
	free(result);
}

static void host_log(void *ctx, enum xr_log_level level, const char *msg)
{
	struct host_ctx *h = ctx;
	if (h->log)
		h->log(h->log_ctx, level, msg);
}

static uint64_t host_now_ms(void *ctx)
{
	struct timespec ts;
	(void)ctx;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void xr_rpc_host(struct xr_rpc *r,
		 void (*log)(void *ctx, enum xr_log_level level, const char *msg),
		 void *log_ctx,
		 struct xr_host *ret)
{
	assert(r && ret);
	r->host.log = log;
	r->host.log_ctx = log_ctx;
	*ret = (struct xr_host){
	    .abi_major = XR_HOST_ABI_MAJOR,
	    .abi_minor = XR_HOST_ABI_MINOR,
	    .size = sizeof(struct xr_host),
	    .ctx = &r->host,
	    .rpc = host_rpc,
	    .rpc_batch = host_rpc_batch,
	    .free_result = host_free_result,
	    .log = host_log,
	    .now_ms = host_now_ms,
	};
}

int xr_rpc_check_reply(const char *body,
		       size_t len,
		       const char *method,
		       uint64_t id,
		       char **ret_result,
		       size_t *ret_len,
		       struct xr_err *err)
{
	struct one o = {.method = method, .id = id};
	char what[256] = "";
	int rc = check_one(body, len, NULL, &o, 200, what, sizeof(what), err);
	if (rc == RETRY)
		return xr_err_set(err, XR_EIO, "rpc %s: malformed reply: %s", method, what);
	if (rc == RETRY_BUSY)
		return xr_err_set(err, XR_EBUSY, "rpc %s: rate limited: %s", method, what);
	if (rc < 0)
		return rc;
	*ret_result = o.result;
	*ret_len = o.len;
	return 0;
}
