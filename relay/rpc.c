/* rpc.c - JSON-RPC 2.0 over HTTP(S) with libcurl: one reused easy handle per
 * client, fail-over across endpoints, jittered exponential back-off, strict
 * reply checks (jansson), and results handed back as the node's own text. */
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
#include <jansson.h>

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
#define MAX_BATCH 1000
#define MAX_URL 2048
#define MAX_METHOD 128
#define MAX_REQUEST ((size_t)64 << 20)
/* A reply buffer larger than this is released after the call instead of
 * being kept for the next one, so one huge block does not pin memory. */
#define KEEP_BUFFER ((size_t)1 << 20)
/* How much of an untrusted string (error message, parser complaint) goes
 * into an error message. */
#define SHOW_MAX 96

struct endpoint {
	char *url;
	char origin[160]; /* scheme://host:port, for messages */
};

/* What the xr_host services get as ctx. */
struct host_ctx {
	struct xr_rpc *rpc;
	void (*log)(void *ctx, enum xr_log_level level, const char *msg);
	void *log_ctx;
};

struct xr_rpc {
	struct endpoint *ep;
	size_t nep;
	size_t good; /* the endpoint that answered last */
	long connect_timeout_ms, timeout_ms;
	size_t max_response;
	unsigned retries, backoff_ms;
	uint64_t next_id;
	uint64_t rng;
	CURL *curl;
	struct curl_slist *headers;
	struct xr_buf req, resp;
	bool overflow;
	char curl_err[CURL_ERROR_SIZE];
	struct host_ctx host;
};

/* What one attempt came to. */
enum {
	DONE = 0,  /* a valid reply with results */
	RETRY = 1, /* transport, 429/5xx or malformed: try again; `what` says why */
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

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Full jitter (AWS architecture blog): a uniform delay in [0, min(cap,
 * base * 2^retry)], so clients that failed together do not retry together. */
static void back_off(struct xr_rpc *r, unsigned retry)
{
	uint64_t ceiling = r->backoff_ms;
	for (unsigned i = 0; i < retry && ceiling < MAX_BACKOFF_MS; i++)
		ceiling *= 2;
	if (ceiling > MAX_BACKOFF_MS)
		ceiling = MAX_BACKOFF_MS;
	sleep_ms((unsigned)(splitmix64(&r->rng) % (ceiling + 1)));
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

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		break;
	}
	return "null";
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct xr_rpc *r = ud;
	size_t len = size * n;
	/* Returning short makes curl abort the transfer at once. */
	if (len > r->max_response - r->resp.len) {
		r->overflow = true;
		return 0;
	}
	xr_buf_put(&r->resp, p, len);
	return r->resp.failed ? 0 : len;
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
	json_error_t je;
	char show[4 * SHOW_MAX + 4];
	json_t *v = json_loads(params, 0, &je);
	if (!v)
		return xr_err_set(err, XR_EINVAL,
				  "rpc %s: params are not a json array or object: %s", method,
				  xr_show(je.text, strlen(je.text), SHOW_MAX, show));
	json_decref(v);
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

/* --- raw spans ---------------------------------------------------------------
 * jansson re-encodes numbers (0.1 becomes 0.10000000000000001), so results
 * are cut out of the reply text instead. These scanners only run over text
 * jansson has already accepted, so they need not diagnose anything; they
 * still never step past end. */

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static const char *skip_string(const char *p, const char *end)
{
	for (p++; p < end && *p != '"'; p++)
		if (*p == '\\')
			p++;
	return p < end ? p + 1 : end;
}

static const char *skip_value(const char *p, const char *end)
{
	if (p < end && *p == '"')
		return skip_string(p, end);
	if (p < end && (*p == '{' || *p == '[')) {
		size_t depth = 0;
		while (p < end) {
			if (*p == '"') {
				p = skip_string(p, end);
				continue;
			}
			if (*p == '{' || *p == '[')
				depth++;
			else if ((*p == '}' || *p == ']') && --depth == 0)
				return p + 1;
			p++;
		}
		return end;
	}
	while (p < end && !strchr(",}] \t\n\r", *p))
		p++;
	return p;
}

/* Is the string token [k, k + n) (quotes included) the key want? */
static bool key_is(const char *k, size_t n, const char *want)
{
	if (!memchr(k, '\\', n))
		return n == strlen(want) + 2 && memcmp(k + 1, want, n - 2) == 0;
	json_t *v = json_loadb(k, n, JSON_DECODE_ANY, NULL);
	bool same = json_is_string(v) && strcmp(json_string_value(v), want) == 0;
	json_decref(v);
	return same;
}

/* The text of member key of the object starting at p. */
static bool
member_span(const char *p, const char *end, const char *key, const char **ret, size_t *ret_len)
{
	p = skip_ws(p, end);
	if (p >= end || *p != '{')
		return false;
	for (p = skip_ws(p + 1, end); p < end && *p == '"';) {
		const char *k = p;
		p = skip_string(p, end);
		bool match = key_is(k, (size_t)(p - k), key);
		p = skip_ws(p, end);
		if (p >= end || *p != ':')
			return false;
		const char *v = skip_ws(p + 1, end);
		p = skip_value(v, end);
		if (match) {
			*ret = v;
			*ret_len = (size_t)(p - v);
			return true;
		}
		p = skip_ws(p, end);
		if (p < end && *p == ',')
			p = skip_ws(p + 1, end);
	}
	return false;
}

static char *copy_span(const char *p, size_t n)
{
	char *s = malloc(n + 1);
	if (s) {
		memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

/* --- replies --------------------------------------------------------------- */

/* Checks the envelope of one reply object. On success *ret_id is its id and
 * *ret_error its error object (borrowed) or NULL when it has a result. */
static int check_reply(json_t *o, json_int_t *ret_id, json_t **ret_error, char *what, size_t n)
{
	if (!json_is_object(o))
		return why(what, n, "reply is %s, not an object", type_name(o));
	json_t *v = json_object_get(o, "jsonrpc");
	if (!json_is_string(v) || strcmp(json_string_value(v), "2.0") != 0)
		return why(what, n, "\"jsonrpc\" is not \"2.0\"");
	json_t *id = json_object_get(o, "id");
	if (!json_is_integer(id))
		return why(what, n, "\"id\" is %s, not an integer", id ? type_name(id) : "missing");
	json_t *res = json_object_get(o, "result"), *e = json_object_get(o, "error");
	if (res && e)
		return why(what, n,
			   "both \"result\" and \"error\" in reply to id %" JSON_INTEGER_FORMAT,
			   json_integer_value(id));
	if (!res && !e)
		return why(what, n,
			   "neither \"result\" nor \"error\" in reply to id %" JSON_INTEGER_FORMAT,
			   json_integer_value(id));
	if (e && (!json_is_object(e) || !json_is_integer(json_object_get(e, "code")) ||
		  !json_is_string(json_object_get(e, "message"))))
		return why(what, n,
			   "\"error\" is not an object with an integer code and a message");
	*ret_id = json_integer_value(id);
	*ret_error = e;
	return 0;
}

static int rpc_error(const char *method, json_t *e, struct xr_err *err)
{
	char show[4 * SHOW_MAX + 4];
	json_t *m = json_object_get(e, "message");
	return xr_err_set(err, XR_EINVAL, "rpc %s: error %" JSON_INTEGER_FORMAT ": %s", method,
			  json_integer_value(json_object_get(e, "code")),
			  xr_show(json_string_value(m), json_string_length(m), SHOW_MAX, show));
}

static json_t *parse(const struct xr_buf *body, char *what, size_t n)
{
	json_error_t je;
	char show[4 * SHOW_MAX + 4];
	json_t *root = json_loadb((const char *)body->data, body->len,
				  JSON_DECODE_ANY | JSON_REJECT_DUPLICATES, &je);
	if (!root)
		why(what, n, "invalid json at byte %d: %s", je.position,
		    xr_show(je.text, strlen(je.text), SHOW_MAX, show));
	return root;
}

/* What a single call waits for, and where its result goes. */
struct one {
	const char *method;
	uint64_t id;
	char *result;
	size_t len;
};

/* DONE with o->result set, RETRY with what set, or an error. An HTTP status
 * other than 2xx comes here only to look for a JSON-RPC error in the body
 * (some nodes send those with 400); a result there is still a failure. */
static int check_one(
    const struct xr_buf *resp, struct one *o, long status, char *what, size_t n, struct xr_err *err)
{
	json_int_t id;
	json_t *e = NULL;
	const char *span;
	size_t len;
	int rc;

	json_t *root = parse(resp, what, n);
	if (!root)
		return RETRY;
	if ((rc = check_reply(root, &id, &e, what, n)) != 0)
		goto out;
	if (id < 0 || (uint64_t)id != o->id) {
		rc = why(what, n, "id %" JSON_INTEGER_FORMAT ", expected %" PRIu64, id, o->id);
		goto out;
	}
	if (e) {
		rc = rpc_error(o->method, e, err);
		goto out;
	}
	if (status / 100 != 2) {
		rc = RETRY; /* the caller reports the status */
		goto out;
	}
	const char *body = (const char *)resp->data;
	if (!member_span(body, body + resp->len, "result", &span, &len)) {
		rc = why(what, n, "\"result\" not found in the reply text");
		goto out;
	}
	if (!(o->result = copy_span(span, len))) {
		rc = xr_err_set(err, XR_ENOMEM, "rpc %s: out of memory for a %zu-byte result",
				o->method, len);
		goto out;
	}
	o->len = len;
	rc = DONE;
out:
	json_decref(root);
	return rc;
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

static int
check_many(const struct xr_buf *resp, struct many *m, char *what, size_t n, struct xr_err *err)
{
	size_t *slot = NULL;
	const char **start = NULL;
	json_int_t id;
	json_t *e;
	int rc = RETRY;

	json_t *root = parse(resp, what, n);
	if (!root)
		return RETRY;
	if (!json_is_array(root)) {
		why(what, n, "reply is %s, not an array of %zu replies", type_name(root), m->n);
		goto out;
	}
	size_t count = json_array_size(root);
	if (count > m->n) {
		why(what, n, "%zu replies to %zu calls", count, m->n);
		goto out;
	}
	slot = malloc(m->n * sizeof(*slot));
	start = malloc((count ? count : 1) * sizeof(*start));
	if (!slot || !start) {
		rc = xr_err_set(err, XR_ENOMEM, "rpc batch: out of memory");
		goto out;
	}
	for (size_t k = 0; k < m->n; k++)
		slot[k] = SIZE_MAX;
	for (size_t i = 0; i < count; i++) {
		if (check_reply(json_array_get(root, i), &id, &e, what, n) != 0)
			goto out;
		if (id < 0 || (uint64_t)id < m->first || (uint64_t)id - m->first >= m->n) {
			why(what, n,
			    "id %" JSON_INTEGER_FORMAT " is not in the batch (%" PRIu64
			    " to %" PRIu64 ")",
			    id, m->first, m->first + m->n - 1);
			goto out;
		}
		size_t k = (size_t)((uint64_t)id - m->first);
		if (slot[k] != SIZE_MAX) {
			why(what, n, "id %" JSON_INTEGER_FORMAT " answered twice", id);
			goto out;
		}
		slot[k] = i;
	}
	for (size_t k = 0; k < m->n; k++) {
		if (slot[k] == SIZE_MAX) {
			why(what, n, "no reply to id %" PRIu64 " (%s)", m->first + k,
			    m->methods[k]);
			goto out;
		}
	}
	/* Well formed: from here on the node has answered. */
	for (size_t k = 0; k < m->n; k++) {
		e = json_object_get(json_array_get(root, slot[k]), "error");
		if (e) {
			rc = rpc_error(m->methods[k], e, err);
			goto out;
		}
	}
	const char *p = (const char *)resp->data, *end = p + resp->len;
	p = skip_ws(p, end);
	for (size_t i = 0; i < count; i++) {
		p = skip_ws(p + 1, end); /* past '[' or ',' */
		start[i] = p;
		p = skip_ws(skip_value(p, end), end);
	}
	for (size_t k = 0; k < m->n; k++) {
		const char *span;
		size_t len;
		if (!member_span(start[slot[k]], end, "result", &span, &len)) {
			why(what, n, "\"result\" of id %" PRIu64 " not found in the reply text",
			    m->first + k);
			goto fail;
		}
		if (!(m->results[k] = copy_span(span, len))) {
			rc = xr_err_set(err, XR_ENOMEM,
					"rpc %s: out of memory for a %zu-byte result",
					m->methods[k], len);
			goto fail;
		}
		m->lens[k] = len;
	}
	rc = DONE;
	goto out;
fail:
	free_results(m->results, m->n);
out:
	free(start);
	free(slot);
	json_decref(root);
	return rc;
}

/* --- transport ------------------------------------------------------------- */

struct exchange {
	const char *label; /* the method, or "batch of N (first…)" */
	struct one *one;   /* exactly one of one and many */
	struct many *many;
};

/* One HTTP request to endpoint idx. */
static int
attempt(struct xr_rpc *r, size_t idx, struct exchange *x, char *what, size_t n, struct xr_err *err)
{
	const struct endpoint *ep = &r->ep[idx];
	char why_[256], show[4 * SHOW_MAX + 4];
	long status = 0;
	int rc;

	xr_buf_reset(&r->resp);
	r->overflow = false;
	r->curl_err[0] = '\0';
	if (curl_easy_setopt(r->curl, CURLOPT_URL, ep->url) != CURLE_OK)
		return xr_err_set(err, XR_ENOMEM, "rpc %s: out of memory", x->label);
	CURLcode cc = curl_easy_perform(r->curl);
	if (r->overflow || cc == CURLE_FILESIZE_EXCEEDED)
		return why(what, n, "malformed reply from %s: body larger than %zu bytes",
			   ep->origin, r->max_response);
	if (cc == CURLE_OUT_OF_MEMORY || r->resp.failed)
		return xr_err_set(err, XR_ENOMEM, "rpc %s: out of memory", x->label);
	if (cc != CURLE_OK)
		return why(what, n, "no reply from %s: %s", ep->origin,
			   r->curl_err[0] ? r->curl_err : curl_easy_strerror(cc));
	curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status == 429 || status >= 500)
		return why(what, n, "http %ld from %s", status, ep->origin);
	if (status / 100 != 2) {
		/* Not retried; but a JSON-RPC error in the body is the better news. */
		if (x->one &&
		    (rc = check_one(&r->resp, x->one, status, why_, sizeof(why_), err)) < 0) {
			if (rc == XR_EINVAL)
				r->good = idx;
			return rc;
		}
		return xr_err_set(err, XR_EIO, "rpc %s: http %ld from %s: %s", x->label, status,
				  ep->origin,
				  xr_show((const char *)r->resp.data, r->resp.len, 64, show));
	}
	char sub[200];
	rc = x->one ? check_one(&r->resp, x->one, status, sub, sizeof(sub), err)
		    : check_many(&r->resp, x->many, sub, sizeof(sub), err);
	if (rc == RETRY)
		return why(what, n, "malformed reply from %s: %s", ep->origin, sub);
	if (rc == DONE || rc == XR_EINVAL)
		r->good = idx;
	return rc;
}

/* Sends r->req with retry and fail-over. */
static int exchange(struct xr_rpc *r, struct exchange *x, struct xr_err *err)
{
	unsigned attempts = r->retries + 1;
	size_t idx = r->good;
	char what[256] = "";
	int rc;

	curl_easy_setopt(r->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->req.len);
	curl_easy_setopt(r->curl, CURLOPT_POSTFIELDS, (const char *)r->req.data);
	for (unsigned a = 0; a < attempts; a++, idx = (idx + 1) % r->nep) {
		if (a > 0)
			back_off(r, a - 1);
		what[0] = '\0';
		if ((rc = attempt(r, idx, x, what, sizeof(what), err)) != RETRY)
			goto out;
	}
	rc = xr_err_set(err, XR_EIO, "rpc %s: %s (%u attempts)", x->label, what, attempts);
out:
	/* A big reply buffer is not kept for the next call. */
	if (r->resp.cap > KEEP_BUFFER) {
		xr_buf_fini(&r->resp);
		xr_buf_init(&r->resp, r->max_response);
	}
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
	xr_buf_fini(&r->req);
	xr_buf_fini(&r->resp);
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
	    curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)r->max_response) !=
		CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_WRITEDATA, r) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->curl_err) != CURLE_OK ||
	    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK)
		return xr_err_set(err, XR_EIO, "curl refused an option");
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
	xr_buf_init(&r->resp, r->max_response);
	r->host.rpc = r;
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
	struct exchange x = {.label = method, .one = &o};
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
	struct xr_buf b = {.data = (uint8_t *)body, .len = len, .cap = len, .max = len};
	struct one o = {.method = method, .id = id};
	char what[256] = "";
	int rc = check_one(&b, &o, 200, what, sizeof(what), err);
	if (rc == RETRY)
		return xr_err_set(err, XR_EIO, "rpc %s: malformed reply: %s", method, what);
	if (rc < 0)
		return rc;
	*ret_result = o.result;
	*ret_len = o.len;
	return 0;
}
