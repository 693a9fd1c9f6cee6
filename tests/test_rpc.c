/* test_rpc.c - relay/rpc.c against a scripted fake HTTP/1.1 JSON-RPC server
 * living in this process (one thread per server, counting requests so retry
 * and fail-over are asserted exactly), and against a real anvil node. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "anvil.h"
#include "json_budget.h"
#include "json_scan.h"
#include "rpc.h"

/* --- the fake server ------------------------------------------------------- */

enum beh {
	B_OK,		  /* {"m": method, "p": params} as the result of each call */
	B_RAW,		  /* raw body: step.raw with @ID@ replaced by the request id */
	B_STATUS,	  /* HTTP step.status with a plain-text body */
	B_STATUS_RPC_ERR, /* HTTP step.status with a JSON-RPC error body */
	B_RPC_ERROR,	  /* a JSON-RPC error, message step.raw */
	B_BIG,		  /* 1 MB body, no Content-Length, sent in paced chunks */
	B_BIG_LEN,	  /* the same with Content-Length */
	B_SLOW,		  /* no answer: wait until the client hangs up */
	B_HANGUP,	  /* close without an answer */
	B_BATCH_REVERSED, /* answer every call, last first */
	B_BATCH_MISSING,  /* leave out the last call */
	B_BATCH_DUP,	  /* answer the first call twice instead of the last */
	B_BATCH_ERROR,	  /* call 1 gets an error object */
	B_SIZED,	  /* each call's result a string of step.status bytes */
	B_STATUS_HDR,	  /* HTTP step.status with the header line step.raw */
	B_RPC_CODE,	  /* a JSON-RPC error, code step.status, message step.raw (a
			     batch: call 1 gets it, the others results) */
	B_PAYLOAD,	  /* the result is the text in `payload`, with Content-Length */
};

struct step {
	enum beh b;
	int status;
	const char *raw;
};

/* What B_PAYLOAD sends as the result (set before the server starts). */
static const char *payload;
static size_t payload_len;

struct fake {
	int lfd;
	int port;
	char url[64];
	pthread_t th;
	const struct step *script; /* after the end, the last step repeats */
	size_t nscript;
	atomic_int requests;
	atomic_bool stop;
	atomic_bool cut;     /* the client cut a big body short */
	atomic_bool hung_up; /* the client gave up on a slow reply */
};

#define BIG_BODY (1 << 20)
#define REQ_MAX (1 << 20)

static int send_all(int c, const void *p, size_t n)
{
	const char *s = p;
	while (n > 0) {
		ssize_t w = send(c, s, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 429:
		return "Too Many Requests";
	case 503:
		return "Service Unavailable";
	}
	return "Whatever";
}

static int reply_hdr(int c, int status, const char *header, const char *body, size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
			 "%s%sContent-Length: %zu\r\n\r\n",
			 status, reason(status), header ? header : "", header ? "\r\n" : "", len);
	if (send_all(c, head, (size_t)n) < 0)
		return -1;
	return send_all(c, body, len);
}

static int reply(int c, int status, const char *body, size_t len)
{
	return reply_hdr(c, status, NULL, body, len);
}

/* A reply to call whose result is a string of size bytes ("aaa..."). */
static json_t *sized_answer(json_t *call, size_t size)
{
	char *s = malloc(size + 1);
	memset(s, 'a', size);
	s[size] = '\0';
	json_t *v = json_pack("{s:s, s:O, s:s}", "jsonrpc", "2.0", "id",
			      json_object_get(call, "id"), "result", s);
	free(s);
	return v;
}

static int send_payload(int c, json_t *call)
{
	char head[256], pre[96];
	int np = snprintf(pre, sizeof(pre),
			  "{\"jsonrpc\":\"2.0\",\"id\":%" JSON_INTEGER_FORMAT ",\"result\":",
			  json_integer_value(json_object_get(call, "id")));
	int nh = snprintf(head, sizeof(head),
			  "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
			  "Content-Length: %zu\r\n\r\n",
			  (size_t)np + payload_len + 1);
	if (send_all(c, head, (size_t)nh) < 0 || send_all(c, pre, (size_t)np) < 0 ||
	    send_all(c, payload, payload_len) < 0)
		return -1;
	return send_all(c, "}", 1);
}

static int reply_json(int c, int status, json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	int rc = reply(c, status, s, strlen(s));
	xr_json_free(s); /* jansson's allocator: the budget is installed */
	json_decref(v);
	return rc;
}

/* The answer B_OK gives to one call. */
static json_t *answer(json_t *call)
{
	return json_pack("{s:s, s:O, s:{s:O, s:O}}", "jsonrpc", "2.0", "id",
			 json_object_get(call, "id"), "result", "m",
			 json_object_get(call, "method"), "p", json_object_get(call, "params"));
}

static json_t *error_answer(json_t *call, int code, const char *msg)
{
	return json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id",
			 json_object_get(call, "id"), "error", "code", code, "message", msg);
}

static int send_big(struct fake *f, int c, bool with_len)
{
	static char chunk[16384];
	char head[128];
	int n = with_len
		    ? snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n",
			       BIG_BODY)
		    : snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
	memset(chunk, ' ', sizeof(chunk));
	if (send_all(c, head, (size_t)n) < 0) {
		atomic_store(&f->cut, true);
		return -1;
	}
	/* Paced (over 300 ms in all), so the client has read the first chunk and
	 * hung up long before the kernel's socket buffers could have swallowed
	 * the whole body. */
	for (size_t sent = 0; sent < BIG_BODY; sent += sizeof(chunk)) {
		if (send_all(c, chunk, sizeof(chunk)) < 0) {
			atomic_store(&f->cut, true);
			return -1;
		}
		struct timespec ts = {0, 5000000};
		nanosleep(&ts, NULL);
	}
	return -1;
}

/* Answers one request; returns 0 to keep the connection, -1 to close it. */
static int respond(struct fake *f, int c, const char *body, size_t blen)
{
	json_t *req = json_loadb(body, blen, 0, NULL);
	int k = atomic_fetch_add(&f->requests, 1);
	const struct step *s = &f->script[(size_t)k < f->nscript ? (size_t)k : f->nscript - 1];
	json_t *out = NULL;
	int rc = 0;

	if (!req)
		return -1;
	size_t n = json_is_array(req) ? json_array_size(req) : 1;
	json_t *first = json_is_array(req) ? json_array_get(req, 0) : req;
	switch (s->b) {
	case B_OK:
		if (!json_is_array(req)) {
			rc = reply_json(c, 200, answer(req));
			break;
		}
		out = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(out, answer(json_array_get(req, i)));
		rc = reply_json(c, 200, out);
		break;
	case B_RAW: {
		char id[32], text[4096];
		const char *at = strstr(s->raw, "@ID@");
		snprintf(id, sizeof(id), "%" JSON_INTEGER_FORMAT,
			 json_integer_value(json_object_get(first, "id")));
		if (at)
			snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - s->raw), s->raw, id,
				 at + 4);
		else
			snprintf(text, sizeof(text), "%s", s->raw);
		rc = reply(c, 200, text, strlen(text));
		break;
	}
	case B_STATUS:
		rc = reply(c, s->status, "busy\n", 5);
		break;
	case B_SIZED:
		if (!json_is_array(req)) {
			rc = reply_json(c, 200, sized_answer(req, (size_t)s->status));
			break;
		}
		out = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(
			    out, sized_answer(json_array_get(req, i), (size_t)s->status));
		rc = reply_json(c, 200, out);
		break;
	case B_STATUS_HDR:
		rc = reply_hdr(c, s->status, s->raw, "slow down\n", 10);
		break;
	case B_RPC_CODE:
		if (!json_is_array(req)) {
			rc = reply_json(c, 200, error_answer(req, s->status, s->raw));
			break;
		}
		out = json_array();
		for (size_t i = 0; i < n; i++) {
			json_t *call = json_array_get(req, i);
			json_array_append_new(out, i == 1 ? error_answer(call, s->status, s->raw)
							  : answer(call));
		}
		rc = reply_json(c, 200, out);
		break;
	case B_PAYLOAD:
		rc = send_payload(c, req);
		break;
	case B_STATUS_RPC_ERR:
		rc = reply_json(c, s->status, error_answer(req, -32602, "invalid params"));
		break;
	case B_RPC_ERROR:
		rc = reply_json(c, 200, error_answer(req, -32601, s->raw));
		break;
	case B_BIG:
	case B_BIG_LEN:
		rc = send_big(f, c, s->b == B_BIG_LEN);
		break;
	case B_SLOW: {
		struct pollfd p = {.fd = c, .events = POLLIN};
		char x;
		if (poll(&p, 1, 5000) == 1 && recv(c, &x, 1, 0) <= 0)
			atomic_store(&f->hung_up, true);
		rc = -1;
		break;
	}
	case B_HANGUP:
		rc = -1;
		break;
	case B_BATCH_REVERSED:
	case B_BATCH_MISSING:
	case B_BATCH_DUP:
	case B_BATCH_ERROR:
		out = json_array();
		for (size_t i = 0; i < n; i++) {
			json_t *call = json_array_get(req, i);
			if (s->b == B_BATCH_REVERSED)
				json_array_insert_new(out, 0, answer(call));
			else if (s->b == B_BATCH_MISSING && i == n - 1)
				continue;
			else if (s->b == B_BATCH_DUP && i == n - 1)
				json_array_append_new(out, answer(first));
			else if (s->b == B_BATCH_ERROR && i == 1)
				json_array_append_new(out,
						      error_answer(call, 3, "execution reverted"));
			else
				json_array_append_new(out, answer(call));
		}
		rc = reply_json(c, 200, out);
		break;
	}
	json_decref(req);
	return rc;
}

/* Waits for input on c; returns false when the server stops or a new client
 * is waiting while this connection is idle (curl moved on). */
static bool wait_input(struct fake *f, int c)
{
	for (;;) {
		struct pollfd p[2] = {{.fd = c, .events = POLLIN},
				      {.fd = f->lfd, .events = POLLIN}};
		if (atomic_load(&f->stop))
			return false;
		if (poll(p, 2, 20) <= 0)
			continue;
		if (p[0].revents)
			return true;
		if (p[1].revents)
			return false;
	}
}

static void serve_conn(struct fake *f, int c)
{
	char *buf = malloc(REQ_MAX + 1);
	size_t len = 0;

	for (;;) {
		char *end = NULL;
		size_t clen = 0;
		for (;;) {
			buf[len] = '\0';
			end = strstr(buf, "\r\n\r\n");
			if (end) {
				const char *cl = strcasestr(buf, "\r\ncontent-length:");
				clen = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
				if ((size_t)(end + 4 - buf) + clen <= len)
					break;
			}
			if (len == REQ_MAX || !wait_input(f, c))
				goto out;
			ssize_t r = recv(c, buf + len, REQ_MAX - len, 0);
			if (r <= 0)
				goto out;
			len += (size_t)r;
		}
		size_t used = (size_t)(end + 4 - buf) + clen;
		int rc = respond(f, c, end + 4, clen);
		memmove(buf, buf + used, len - used);
		len -= used;
		if (rc < 0)
			break;
	}
out:
	free(buf);
}

static void *serve(void *arg)
{
	struct fake *f = arg;
	while (!atomic_load(&f->stop)) {
		struct pollfd p = {.fd = f->lfd, .events = POLLIN};
		if (poll(&p, 1, 20) <= 0)
			continue;
		int c = accept(f->lfd, NULL, NULL);
		if (c < 0)
			continue;
		serve_conn(f, c);
		close(c);
	}
	return NULL;
}

/* A socket bound to a free loopback port; its port in *port. */
static int bound_socket(int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(s, 0);
	ck_assert_int_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(getsockname(s, (struct sockaddr *)&a, &alen), 0);
	*port = ntohs(a.sin_port);
	return s;
}

/* A loopback URL nobody listens on: connections are refused. */
static void closed_url(char *url, size_t n)
{
	int port;
	close(bound_socket(&port));
	snprintf(url, n, "http://127.0.0.1:%d", port);
}

static void fake_start(struct fake *f, const struct step *script, size_t n)
{
	memset(f, 0, sizeof(*f));
	f->script = script;
	f->nscript = n;
	f->lfd = bound_socket(&f->port);
	ck_assert_int_eq(listen(f->lfd, 16), 0);
	snprintf(f->url, sizeof(f->url), "http://127.0.0.1:%d", f->port);
	ck_assert_int_eq(pthread_create(&f->th, NULL, serve, f), 0);
}

/* Stops the server; returns how many requests it saw. */
static int fake_stop(struct fake *f)
{
	atomic_store(&f->stop, true);
	pthread_join(f->th, NULL);
	close(f->lfd);
	return atomic_load(&f->requests);
}

#define SCRIPT(...) ((const struct step[]){__VA_ARGS__})
#define NSTEPS(...) (sizeof((const struct step[]){__VA_ARGS__}) / sizeof(struct step))
#define FAKE_START(f, ...) fake_start((f), SCRIPT(__VA_ARGS__), NSTEPS(__VA_ARGS__))

static struct xr_rpc *client_opts(const char *const *urls, size_t n, const struct xr_rpc_opts *base)
{
	struct xr_rpc_opts o = *base;
	struct xr_rpc *r = NULL;
	struct xr_err err = {0};
	o.urls = urls;
	o.nurls = n;
	ck_assert_msg(xr_rpc_new(&o, &r, &err) == 0, "xr_rpc_new: %s", err.msg);
	return r;
}

/* A client of one URL with tiny back-off and the given retries. */
static struct xr_rpc *client1(const char *url, unsigned retries)
{
	const char *urls[] = {url};
	struct xr_rpc_opts o = {.retries = retries, .backoff_ms = 1};
	return client_opts(urls, 1, &o);
}

static long elapsed_ms(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

#define CONTAINS(s, sub) ck_assert_msg(strstr((s), (sub)) != NULL, "'%s' lacks '%s'", (s), (sub))

/* The calls of the batch tests. */
static const char *const bm[] = {"m0", "m1", "m2"};
static const char *const bp[] = {"[0]", NULL, "[\"x\",2]"};

/* --- single calls ------------------------------------------------------------ */

START_TEST(call_ok)
{
	struct fake f;
	struct xr_err err = {0};
	char *res = NULL;
	size_t len = 0;
	FAKE_START(&f, {B_OK, 0, NULL});
	struct xr_rpc *r = client1(f.url, 0);
	ck_assert_msg(xr_rpc_call(r, "eth_test", "[1,\"two\"]", &res, &len, &err) == 0, "%s",
		      err.msg);
	ck_assert_str_eq(res, "{\"m\":\"eth_test\",\"p\":[1,\"two\"]}");
	ck_assert_uint_eq(len, strlen(res));
	free(res);
	/* NULL params are [] and the connection is reused. */
	ck_assert_int_eq(xr_rpc_call(r, "eth_x", NULL, &res, NULL, &err), 0);
	ck_assert_str_eq(res, "{\"m\":\"eth_x\",\"p\":[]}");
	free(res);
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 2);
}
END_TEST

/* Results come back as the node wrote them, not re-encoded. */
static const struct {
	const char *body, *result;
} raw_cases[] = {
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":\"0x7a69\"}", "\"0x7a69\""},
    {" { \"id\" : @ID@ ,\n \"result\" : {\"a\" : 0.1, \"s\":\"x\\\"}]y\", \"n\":[1, {\"b\":null}]}"
     " , \"jsonrpc\" : \"2.0\" }\n",
     "{\"a\" : 0.1, \"s\":\"x\\\"}]y\", \"n\":[1, {\"b\":null}]}"},
    {"{\"jsonrpc\":\"2.0\",\"result\":null,\"id\":@ID@}", "null"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"\\u0072esult\":-1.5e3}", "-1.5e3"},
    {"{\"jsonrpc\":\"2.0\",\"x\":\"\\\"result\\\":1\",\"id\":@ID@,\"result\":true}", "true"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":[]}", "[]"},
};

START_TEST(call_raw_result)
{
	struct fake f;
	struct xr_err err = {0};
	char *res = NULL;
	size_t len = 0;
	fake_start(&f, (const struct step[]){{B_RAW, 0, raw_cases[_i].body}}, 1);
	struct xr_rpc *r = client1(f.url, 0);
	ck_assert_msg(xr_rpc_call(r, "eth_raw", "[]", &res, &len, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(res, raw_cases[_i].result);
	ck_assert_uint_eq(len, strlen(raw_cases[_i].result));
	free(res);
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 1);
}
END_TEST

/* 520 brackets: nesting past the cap of 512. */
#define OPEN_8 "[[[[[[[["
#define OPEN_64 OPEN_8 OPEN_8 OPEN_8 OPEN_8 OPEN_8 OPEN_8 OPEN_8 OPEN_8
#define OPEN_520 OPEN_64 OPEN_64 OPEN_64 OPEN_64 OPEN_64 OPEN_64 OPEN_64 OPEN_64 OPEN_8

/* Malformed replies: retried, then XR_EIO naming method, URL and the fault. */
static const struct {
	const char *body, *what;
} bad_cases[] = {
    {"{\"jsonrpc\":\"2.0\",\"id\":999,\"result\":1}", "id 999, expected "},
    {"{\"jsonrpc\":\"2.0\",\"id\":", "invalid json"},
    {"", "invalid json"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":1} x", "invalid json"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":1,\"result\":2}", "invalid json"},
    {"42", "reply is a number, not an object"},
    {"[{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":1}]", "reply is an array, not an object"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@}", "neither \"result\" nor \"error\""},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":1,\"error\":{\"code\":1,\"message\":\"x\"}}",
     "both \"result\" and \"error\""},
    {"{\"id\":@ID@,\"result\":1}", "\"jsonrpc\" is not \"2.0\""},
    {"{\"jsonrpc\":\"1.0\",\"id\":@ID@,\"result\":1}", "\"jsonrpc\" is not \"2.0\""},
    {"{\"jsonrpc\":\"2.0\",\"id\":\"@ID@\",\"result\":1}", "\"id\" is a string"},
    {"{\"jsonrpc\":\"2.0\",\"result\":1}", "\"id\" is missing"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"error\":\"boom\"}", "\"error\" is not an object"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"error\":{\"code\":\"1\",\"message\":\"x\"}}",
     "\"error\" is not an object"},
    /* What the one-pass scanner refuses, and says why. Truncated: */
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":[1,2", "expected ',' or ']' (found end of text)"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":\"0x12", "unterminated string"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":{\"a\"", "expected ':' after a member name"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":tru", "expected a value (found end of text)"},
    /* Bad UTF-8: a stray byte, an overlong '/', a surrogate, past U+10FFFF,
     * a sequence cut short. */
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":\"\xff\"}", "invalid utf-8 (found byte 0xff)"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":\"\xc0\xaf\"}",
     "invalid utf-8 (found byte 0xc0)"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":\"\xed\xa0\x80\"}",
     "invalid utf-8 (found byte 0xa0)"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":\"\xf4\x90\x80\x80\"}", "invalid utf-8"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":\"\xe2\x82\"}", "invalid utf-8 (found '\"')"},
    /* Bad escapes and control characters. */
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":\"\\x41\"}", "bad escape in a string"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":\"\\u12\"}", "bad \\u escape in a string"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":\"\\ud800\"}",
     "high surrogate not followed by a low one"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":\"\\ud800\\u0041\"}",
     "high surrogate not followed"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":\"\\udc00\"}", "lone low surrogate"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":\"a\x01\"}", "control character in a string"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":\"a\nb\"}", "control character in a string"},
    /* Trailing garbage, a byte order mark. */
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":1}}", "expected nothing after the value"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":1}\n{}", "expected nothing after the value"},
    {"\xef\xbb\xbf{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":1}",
     "a byte order mark is not allowed"},
    /* Members named twice, also behind an escape. */
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":1,\"result\":2}", "duplicate member \"result\""},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":1,\"\\u0072esult\":2}",
     "duplicate member \"result\""},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"id\":7,\"result\":1}", "duplicate member \"id\""},
    {"{\"jsonrpc\":\"2.0\",\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":1}",
     "duplicate member \"jsonrpc\""},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"error\":{\"code\":1,\"message\":\"x\"},\"error\":1}",
     "duplicate member \"error\""},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"error\":{\"code\":1,\"code\":2,\"message\":\"x\"}}",
     "\"error\" is not an object"},
    /* Numbers and structure. */
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":01}", "expected ',' or '}' (found '1')"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":1.}", "expected a digit after '.'"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":1e+}", "expected a digit in the exponent"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":-x}", "expected a digit"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":.5}", "expected a value (found '.')"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":+1}", "expected a value (found '+')"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":[1,]}", "expected a value (found ']')"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":1,}", "expected a member name (found '}')"},
    {"{'jsonrpc':'2.0'}", "expected a member name (found byte 0x27)"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@.0,\"result\":1}", "\"id\" is a number, not an integer"},
    {"{\"jsonrpc\":\"2.0\",\"id\":18446744073709551617,\"result\":1}",
     "\"id\" 18446744073709551617 does not fit in 64 bits"},
    {"{\"jsonrpc\":\"2.0\",\"id\":@ID@,\"result\":" OPEN_520,
     "nesting deeper than 512 (found '[')"},
};

START_TEST(call_malformed)
{
	struct fake f;
	struct xr_err err = {0};
	char *res = NULL, want[128];
	size_t len = 7;
	fake_start(&f, (const struct step[]){{B_RAW, 0, bad_cases[_i].body}}, 1);
	struct xr_rpc *r = client1(f.url, 2);
	ck_assert_int_eq(xr_rpc_call(r, "eth_bad", "[]", &res, &len, &err), XR_EIO);
	ck_assert_ptr_null(res);
	ck_assert_uint_eq(len, 7);
	snprintf(want, sizeof(want), "rpc eth_bad: malformed reply from %s: ", f.url);
	CONTAINS(err.msg, want);
	CONTAINS(err.msg, bad_cases[_i].what);
	CONTAINS(err.msg, "(3 attempts)");
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 3);
}
END_TEST

START_TEST(malformed_then_ok)
{
	struct fake f;
	struct xr_err err = {0};
	char *res = NULL;
	FAKE_START(&f, {B_RAW, 0, "{\"jsonrpc\":\"2.0\",\"id\":999,\"result\":1}"},
		   {B_OK, 0, NULL});
	struct xr_rpc *r = client1(f.url, 0);
	ck_assert_msg(xr_rpc_call(r, "eth_y", "[]", &res, NULL, &err) == 0, "%s", err.msg);
	free(res);
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 2);
}
END_TEST

/* A body over the cap is cut off while it streams in: the server sees the
 * connection die long before it has sent its megabyte. It is not asked
 * again: XR_ETOOBIG at once with one URL, the next URL with two. */
START_TEST(oversized_body)
{
	static const enum beh kinds[] = {B_BIG, B_BIG_LEN};
	for (size_t k = 0; k < 2; k++) {
		struct fake f, g;
		struct xr_err err = {0};
		char *res = NULL, want[128];
		const char *urls[2];
		struct xr_rpc_opts o = {.retries = 3, .backoff_ms = 1, .max_response = 4096};

		/* Always over the cap: one request only. */
		fake_start(&f, (const struct step[]){{kinds[k], 0, NULL}}, 1);
		urls[0] = f.url;
		struct xr_rpc *r = client_opts(urls, 1, &o);
		ck_assert_int_eq(xr_rpc_call(r, "eth_big", "[]", &res, NULL, &err), XR_ETOOBIG);
		ck_assert_ptr_null(res);
		snprintf(want, sizeof(want), "rpc eth_big: reply from %s larger than 4096 bytes",
			 f.url);
		ck_assert_str_eq(err.msg, want);
		xr_rpc_free(r);
		ck_assert_int_eq(fake_stop(&f), 1);
		ck_assert_msg(atomic_load(&f.cut), "the client read the whole body");

		/* Over the cap at the first URL: the second answers. */
		fake_start(&f, (const struct step[]){{kinds[k], 0, NULL}}, 1);
		FAKE_START(&g, {B_OK, 0, NULL});
		urls[0] = f.url;
		urls[1] = g.url;
		r = client_opts(urls, 2, &o);
		xr_err_clear(&err);
		ck_assert_msg(xr_rpc_call(r, "eth_big", "[]", &res, NULL, &err) == 0, "%s",
			      err.msg);
		ck_assert_str_eq(res, "{\"m\":\"eth_big\",\"p\":[]}");
		free(res);
		xr_rpc_free(r);
		ck_assert_int_eq(fake_stop(&f), 1);
		ck_assert_int_eq(fake_stop(&g), 1);
		ck_assert(atomic_load(&f.cut));
	}
}
END_TEST

/* --- reply caps ------------------------------------------------------------ */

START_TEST(cap_table)
{
	static const struct {
		const char *method, *params;
		size_t cap;
	} cases[] = {
	    {"eth_chainId", "[]", 64 << 10},
	    {"eth_blockNumber", NULL, 64 << 10},
	    {"net_version", "[]", 64 << 10},
	    {"eth_getBlockByNumber", "[\"latest\",false]", 4 << 20},
	    {"eth_getBlockByNumber", "[\"latest\",true]", 8 << 20},
	    {"eth_getBlockByHash", "[\"0xab\", true]", 8 << 20},
	    {"eth_getBlockByHash", "[\"true\",{\"x\":true}]", 4 << 20},
	    {"eth_getTransactionReceipt", "[\"0xab\"]", 4 << 20},
	    {"eth_getBlockReceipts", "[\"0x1\"]", 32 << 20},
	    {"eth_getLogs", "[{}]", 32 << 20},
	    {"eth_call", "[{},\"latest\"]", 1 << 20},
	    {"eth_getBalance", "[]", 4 << 20},
	};
	const char *urls[] = {"http://127.0.0.1:1"};
	struct xr_rpc_opts o = {0};
	struct xr_rpc *r = client_opts(urls, 1, &o);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(xr_rpc_reply_cap(r, cases[i].method, cases[i].params) == cases[i].cap,
			      "%s %s: %zu", cases[i].method, cases[i].params,
			      xr_rpc_reply_cap(r, cases[i].method, cases[i].params));
	xr_rpc_free(r);

	/* Overrides, a default for the rest, and the ceiling over all. */
	const struct xr_rpc_cap caps[] = {
	    {"eth_chainId", 200 << 10}, {"*", 1 << 10}, {"eth_getLogs", 128 << 20}};
	o = (struct xr_rpc_opts){.max_response = 64 << 20, .caps = caps, .ncaps = 3};
	r = client_opts(urls, 1, &o);
	ck_assert_uint_eq(xr_rpc_reply_cap(r, "eth_chainId", "[]"), 200 << 10);
	ck_assert_uint_eq(xr_rpc_reply_cap(r, "eth_getBalance", "[]"), 1 << 10);
	ck_assert_uint_eq(xr_rpc_reply_cap(r, "eth_call", "[]"), 1 << 20);
	ck_assert_uint_eq(xr_rpc_reply_cap(r, "eth_getLogs", "[]"), 64 << 20);
	xr_rpc_free(r);
	o = (struct xr_rpc_opts){.max_response = 4096};
	r = client_opts(urls, 1, &o);
	ck_assert_uint_eq(xr_rpc_reply_cap(r, "eth_chainId", "[]"), 4096);
	xr_rpc_free(r);

	/* Bad overrides are refused. */
	static const struct {
		struct xr_rpc_cap cap;
		const char *msg;
	} bad[] = {
	    {{"eth_chainId", 0}, "rpc reply cap of 'eth_chainId' must be more than 0 bytes"},
	    {{"eth x", 10}, "rpc method 'eth x' is not a plain name"},
	    {{NULL, 10}, "rpc method name must be 1 to 128 characters"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct xr_err err = {0};
		struct xr_rpc_opts b = {.urls = urls, .nurls = 1, .caps = &bad[i].cap, .ncaps = 1};
		r = NULL;
		ck_assert_int_eq(xr_rpc_new(&b, &r, &err), XR_EINVAL);
		ck_assert_str_eq(err.msg, bad[i].msg);
		ck_assert_ptr_null(r);
	}
}
END_TEST

/* A 100 KiB answer to eth_chainId is over its 64 KiB cap; the same answer
 * to a method with the default cap, or to a batch of two eth_chainId calls
 * (cap 128 KiB), is fine. Not retried on the same URL. */
START_TEST(cap_per_method)
{
	static const char *const two[] = {"eth_chainId", "eth_chainId"};
	static const char *const none[] = {NULL, NULL};
	struct fake f;
	struct xr_err err = {0};
	char *res = NULL, *res2[2] = {0}, want[160];
	size_t len = 0;
	FAKE_START(&f, {B_SIZED, 100 << 10, NULL}, {B_SIZED, 100 << 10, NULL},
		   {B_SIZED, 50 << 10, NULL}, {B_SIZED, 100 << 10, NULL});
	struct xr_rpc *r = client1(f.url, 3);
	ck_assert_int_eq(xr_rpc_call(r, "eth_chainId", "[]", &res, &len, &err), XR_ETOOBIG);
	ck_assert_ptr_null(res);
	snprintf(want, sizeof(want), "rpc eth_chainId: reply from %s larger than 65536 bytes",
		 f.url);
	ck_assert_str_eq(err.msg, want);
	ck_assert_int_eq(atomic_load(&f.requests), 1);

	xr_err_clear(&err);
	ck_assert_msg(xr_rpc_call(r, "eth_getBalance", "[]", &res, &len, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(len, (100 << 10) + 2);
	free(res);

	ck_assert_msg(xr_rpc_batch(r, 2, two, none, res2, NULL, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(strlen(res2[0]), (50 << 10) + 2);
	free(res2[0]);
	free(res2[1]);
	res2[0] = res2[1] = NULL;

	/* A batch of two at 100 KiB each is over 128 KiB. */
	ck_assert_int_eq(xr_rpc_batch(r, 2, two, none, res2, NULL, &err), XR_ETOOBIG);
	CONTAINS(err.msg, "larger than 131072 bytes");
	ck_assert_ptr_null(res2[0]);
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 4);
}
END_TEST

/* --- rate limits and timeouts ---------------------------------------------- */

START_TEST(status_429_forever)
{
	struct fake f;
	struct xr_err err = {0};
	char *res = NULL, want[160];
	FAKE_START(&f, {B_STATUS, 429, NULL});
	struct xr_rpc *r = client1(f.url, 2);
	ck_assert_int_eq(xr_rpc_call(r, "eth_z", "[]", &res, NULL, &err), XR_EBUSY);
	ck_assert_ptr_null(res);
	snprintf(want, sizeof(want),
		 "rpc eth_z: rate limited by %s: http 429: busy\\x0a (3 attempts)", f.url);
	ck_assert_str_eq(err.msg, want);
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 3);
}
END_TEST

/* Rate limited at the first URL, by status or by error object: the second
 * URL answers, and later calls start there. */
START_TEST(rate_limit_fails_over)
{
	static const struct step busy[] = {{B_STATUS, 429, NULL},
					   {B_RPC_CODE, -32005,
					    "daily request count exceeded, "
					    "request rate limited"}};
	for (size_t k = 0; k < 2; k++) {
		struct fake a, b;
		struct xr_err err = {0};
		char *res = NULL;
		fake_start(&a, &busy[k], 1);
		FAKE_START(&b, {B_OK, 0, NULL});
		const char *urls[] = {a.url, b.url};
		struct xr_rpc_opts o = {.retries = 1, .backoff_ms = 1};
		struct xr_rpc *r = client_opts(urls, 2, &o);
		for (int i = 0; i < 2; i++) {
			ck_assert_msg(xr_rpc_call(r, "eth_f", "[]", &res, NULL, &err) == 0, "%s",
				      err.msg);
			ck_assert_str_eq(res, "{\"m\":\"eth_f\",\"p\":[]}");
			free(res);
		}
		xr_rpc_free(r);
		ck_assert_int_eq(fake_stop(&a), 1);
		ck_assert_int_eq(fake_stop(&b), 2);
	}
}
END_TEST

/* JSON-RPC errors that mean "slow down" are retried and end in XR_EBUSY. */
static const struct {
	int code;
	const char *msg;
} busy_errors[] = {
    {429, "Too Many Requests"},
    {-32029, "whatever"},
    {-32005, "daily request count exceeded, request rate limited"},
    {-32005, "Your app has exceeded its compute units per second capacity"},
    {-32090, "Too many requests, reason: call rate limit exhausted, retry in 10m0s"},
    {-32000, "You have exceeded the quota of requests"},
    {-32000, "Request Limit reached"},
    {-32000, "rate-limited"},
};

START_TEST(rpc_rate_limit_errors)
{
	struct fake f;
	struct xr_err err = {0};
	char *res = NULL, want[160];
	fake_start(
	    &f, (const struct step[]){{B_RPC_CODE, busy_errors[_i].code, busy_errors[_i].msg}}, 1);
	struct xr_rpc *r = client1(f.url, 2);
	ck_assert_int_eq(xr_rpc_call(r, "eth_getLogs", "[{}]", &res, NULL, &err), XR_EBUSY);
	ck_assert_ptr_null(res);
	snprintf(want, sizeof(want), "rpc eth_getLogs: rate limited by %s: error %d: ", f.url,
		 busy_errors[_i].code);
	CONTAINS(err.msg, want);
	CONTAINS(err.msg, "(3 attempts)");
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 3);
}
END_TEST

/* Errors that look alike but are final answers: XR_EINVAL, one request. The
 * first is what geth and Infura say when an eth_getLogs range is too big. */
static const struct {
	int code;
	const char *msg;
} final_errors[] = {
    {-32005, "query returned more than 10000 results"},
    {-32000, "exceeds block gas limit"},
    {-32601, "rate limit"},
    {3, "execution reverted: too many requests"},
};

START_TEST(rpc_final_errors)
{
	struct fake f;
	struct xr_err err = {0};
	char *res = NULL, want[160];
	fake_start(&f,
		   (const struct step[]){{B_RPC_CODE, final_errors[_i].code, final_errors[_i].msg}},
		   1);
	struct xr_rpc *r = client1(f.url, 2);
	ck_assert_int_eq(xr_rpc_call(r, "eth_getLogs", "[{}]", &res, NULL, &err), XR_EINVAL);
	snprintf(want, sizeof(want), "rpc eth_getLogs: error %d: %s", final_errors[_i].code,
		 final_errors[_i].msg);
	ck_assert_str_eq(err.msg, want);
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 1);
}
END_TEST

/* A rate-limit error on one call of a batch makes the batch rate limited. */
START_TEST(batch_rate_limited)
{
	struct fake f;
	struct xr_err err = {0};
	char *res[3] = {0};
	FAKE_START(&f, {B_RPC_CODE, -32005, "rate limit exceeded"}, {B_OK, 0, NULL});
	struct xr_rpc *r = client1(f.url, 0);
	ck_assert_msg(xr_rpc_batch(r, 3, bm, bp, res, NULL, &err) == 0, "%s", err.msg);
	for (int i = 0; i < 3; i++) {
		free(res[i]);
		res[i] = NULL;
	}
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 2);

	FAKE_START(&f, {B_RPC_CODE, 429, "slow down"});
	r = client1(f.url, 1);
	ck_assert_int_eq(xr_rpc_batch(r, 3, bm, bp, res, NULL, &err), XR_EBUSY);
	CONTAINS(err.msg, "rpc batch of 3 (m0, ...): rate limited by ");
	CONTAINS(err.msg, ": error 429: slow down (2 attempts)");
	ck_assert_ptr_null(res[0]);
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 2);
}
END_TEST

/* Retry-After is honoured (in seconds), but never more than 5 s. */
START_TEST(retry_after)
{
	static const struct {
		const char *header;
		long min_ms, max_ms;
	} cases[] = {
	    {"Retry-After: 1", 950, 3000},
	    {"Retry-After: 3600", 4900, 8000},
	};
	for (size_t k = 0; k < 2; k++) {
		struct fake f;
		struct xr_err err = {0};
		char *res = NULL;
		struct timespec t0;
		fake_start(
		    &f,
		    (const struct step[]){{B_STATUS_HDR, 429, cases[k].header}, {B_OK, 0, NULL}},
		    2);
		struct xr_rpc *r = client1(f.url, 1);
		clock_gettime(CLOCK_MONOTONIC, &t0);
		ck_assert_msg(xr_rpc_call(r, "eth_ra", "[]", &res, NULL, &err) == 0, "%s", err.msg);
		long ms = elapsed_ms(&t0);
		ck_assert_msg(ms >= cases[k].min_ms && ms < cases[k].max_ms, "%s: waited %ld ms",
			      cases[k].header, ms);
		free(res);
		xr_rpc_free(r);
		ck_assert_int_eq(fake_stop(&f), 2);
	}
}
END_TEST

/* A node that does not answer in time: XR_ETIMEOUT naming origin and timeout
 * once the retries are spent, not XR_EIO. */
START_TEST(timeout_is_etimeout)
{
	struct fake f;
	struct xr_err err = {0};
	char *res = NULL, want[160];
	const char *urls[1];
	struct xr_rpc_opts o = {.retries = 1, .backoff_ms = 1, .timeout_ms = 300};
	FAKE_START(&f, {B_SLOW, 0, NULL});
	urls[0] = f.url;
	struct xr_rpc *r = client_opts(urls, 1, &o);
	ck_assert_int_eq(xr_rpc_call(r, "eth_getLogs", "[{}]", &res, NULL, &err), XR_ETIMEOUT);
	ck_assert_ptr_null(res);
	snprintf(want, sizeof(want),
		 "rpc eth_getLogs: timed out: no reply from %s within 300 ms (2 attempts)", f.url);
	ck_assert_str_eq(err.msg, want);
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 2);
}
END_TEST

START_TEST(status_503_twice_then_ok)
{
	struct fake f;
	struct xr_err err = {0};
	char *res = NULL;
	FAKE_START(&f, {B_STATUS, 503, NULL}, {B_STATUS, 503, NULL}, {B_OK, 0, NULL});
	struct xr_rpc *r = client1(f.url, 0);
	ck_assert_msg(xr_rpc_call(r, "eth_z", "[]", &res, NULL, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(res, "{\"m\":\"eth_z\",\"p\":[]}");
	free(res);
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 3);
}
END_TEST

START_TEST(status_429_then_ok)
{
	struct fake f;
	struct xr_err err = {0};
	char *res = NULL;
	FAKE_START(&f, {B_STATUS, 429, NULL}, {B_OK, 0, NULL});
	struct xr_rpc *r = client1(f.url, 0);
	ck_assert_msg(xr_rpc_call(r, "eth_z", "[]", &res, NULL, &err) == 0, "%s", err.msg);
	free(res);
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 2);
}
END_TEST

START_TEST(status_503_forever)
{
	struct fake f;
	struct xr_err err = {0};
	char *res = NULL, want[128];
	FAKE_START(&f, {B_STATUS, 503, NULL});
	struct xr_rpc *r = client1(f.url, 3);
	ck_assert_int_eq(xr_rpc_call(r, "eth_z", "[]", &res, NULL, &err), XR_EIO);
	snprintf(want, sizeof(want), "rpc eth_z: http 503 from %s (4 attempts)", f.url);
	ck_assert_str_eq(err.msg, want);
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 4);
}
END_TEST

START_TEST(status_404_not_retried)
{
	struct fake f;
	struct xr_err err = {0};
	char *res = NULL, want[128];
	FAKE_START(&f, {B_STATUS, 404, NULL});
	struct xr_rpc *r = client1(f.url, 0);
	ck_assert_int_eq(xr_rpc_call(r, "eth_z", "[]", &res, NULL, &err), XR_EIO);
	ck_assert_ptr_null(res);
	snprintf(want, sizeof(want), "rpc eth_z: http 404 from %s: busy\\x0a", f.url);
	ck_assert_str_eq(err.msg, want);
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 1);
}
END_TEST

/* Some nodes send JSON-RPC errors with HTTP 400: still a JSON-RPC error. */
START_TEST(status_400_rpc_error)
{
	struct fake f;
	struct xr_err err = {0};
	char *res = NULL;
	FAKE_START(&f, {B_STATUS_RPC_ERR, 400, NULL});
	struct xr_rpc *r = client1(f.url, 0);
	ck_assert_int_eq(xr_rpc_call(r, "eth_call", "[]", &res, NULL, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "rpc eth_call: error -32602: invalid params");
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 1);
}
END_TEST

START_TEST(slow_then_ok)
{
	struct fake f;
	struct xr_err err = {0};
	char *res = NULL;
	const char *urls[1];
	struct xr_rpc_opts o = {.retries = 1, .backoff_ms = 1, .timeout_ms = 300};
	struct timespec t0;
	FAKE_START(&f, {B_SLOW, 0, NULL}, {B_OK, 0, NULL});
	urls[0] = f.url;
	struct xr_rpc *r = client_opts(urls, 1, &o);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_msg(xr_rpc_call(r, "eth_slow", "[]", &res, NULL, &err) == 0, "%s", err.msg);
	long ms = elapsed_ms(&t0);
	ck_assert_int_ge(ms, 290);
	ck_assert_int_lt(ms, 3000);
	free(res);
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 2);
	ck_assert(atomic_load(&f.hung_up));
}
END_TEST

START_TEST(hangup_then_ok)
{
	struct fake f;
	struct xr_err err = {0};
	char *res = NULL;
	FAKE_START(&f, {B_HANGUP, 0, NULL}, {B_OK, 0, NULL});
	struct xr_rpc *r = client1(f.url, 0);
	ck_assert_msg(xr_rpc_call(r, "eth_h", "[]", &res, NULL, &err) == 0, "%s", err.msg);
	free(res);
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 2);
}
END_TEST

START_TEST(rpc_error_not_retried)
{
	struct fake f;
	struct xr_err err = {0};
	char *res = NULL;
	size_t len = 5;
	FAKE_START(&f, {B_RPC_ERROR, 0, "no\nsuch \"method\" \xc3\xbf"});
	struct xr_rpc *r = client1(f.url, 0);
	ck_assert_int_eq(xr_rpc_call(r, "eth_nope", "[]", &res, &len, &err), XR_EINVAL);
	ck_assert_ptr_null(res);
	ck_assert_uint_eq(len, 5);
	ck_assert_str_eq(err.msg, "rpc eth_nope: error -32601: no\\x0asuch \"method\" \\xc3\\xbf");
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 1);
}
END_TEST

START_TEST(long_rpc_error_capped)
{
	static char msg[2000];
	struct fake f;
	struct xr_err err = {0};
	char *res = NULL;
	memset(msg, 'e', sizeof(msg) - 1);
	FAKE_START(&f, {B_RPC_ERROR, 0, msg});
	struct xr_rpc *r = client1(f.url, 0);
	ck_assert_int_eq(xr_rpc_call(r, "eth_nope", "[]", &res, NULL, &err), XR_EINVAL);
	CONTAINS(err.msg, "eee...");
	ck_assert_uint_lt(strlen(err.msg), 160);
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 1);
}
END_TEST

START_TEST(failover_from_refused)
{
	struct fake f;
	struct xr_err err = {0};
	char *res = NULL, dead[64];
	closed_url(dead, sizeof(dead));
	FAKE_START(&f, {B_OK, 0, NULL});
	const char *urls[] = {dead, f.url};
	struct xr_rpc_opts o = {.retries = 1, .backoff_ms = 1};
	struct xr_rpc *r = client_opts(urls, 2, &o);
	ck_assert_msg(xr_rpc_call(r, "eth_f", "[]", &res, NULL, &err) == 0, "%s", err.msg);
	free(res);
	/* The next call starts at the URL that worked: retries=1 would not
	 * survive another refusal followed by nothing. */
	ck_assert_msg(xr_rpc_call(r, "eth_f", "[]", &res, NULL, &err) == 0, "%s", err.msg);
	free(res);
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 2);
}
END_TEST

START_TEST(round_robin_sticks_to_last_good)
{
	struct fake bad, good;
	struct xr_err err = {0};
	char *res = NULL;
	FAKE_START(&bad, {B_STATUS, 503, NULL});
	FAKE_START(&good, {B_OK, 0, NULL});
	const char *urls[] = {bad.url, good.url};
	struct xr_rpc_opts o = {.retries = 3, .backoff_ms = 1};
	struct xr_rpc *r = client_opts(urls, 2, &o);
	for (int i = 0; i < 3; i++) {
		ck_assert_msg(xr_rpc_call(r, "eth_rr", "[]", &res, NULL, &err) == 0, "%s", err.msg);
		free(res);
	}
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&bad), 1);
	ck_assert_int_eq(fake_stop(&good), 3);
}
END_TEST

START_TEST(all_dead)
{
	struct xr_err err = {0};
	char *res = NULL, a[64], b[64], want[160];
	closed_url(a, sizeof(a));
	closed_url(b, sizeof(b));
	const char *urls[] = {a, b};
	struct xr_rpc_opts o = {.retries = 2, .backoff_ms = 1};
	struct xr_rpc *r = client_opts(urls, 2, &o);
	ck_assert_int_eq(xr_rpc_call(r, "eth_blockNumber", "[]", &res, NULL, &err), XR_EIO);
	ck_assert_ptr_null(res);
	/* Attempts go a, b, a: the last URL named is a. */
	snprintf(want, sizeof(want), "rpc eth_blockNumber: no reply from %s: ", a);
	CONTAINS(err.msg, want);
	CONTAINS(err.msg, "(3 attempts)");
	xr_rpc_free(r);
}
END_TEST

START_TEST(bad_method_or_params)
{
	static const char *const methods[] = {"", "eth x", "eth\"x", "eth\\x", "\x01"};
	static const char *const params[] = {"", "1", "\"x\"", "[1", "[1] [2]", "[1],\"x\":[2]"};
	struct fake f;
	struct xr_err err = {0};
	char *res = NULL;
	FAKE_START(&f, {B_OK, 0, NULL});
	struct xr_rpc *r = client1(f.url, 0);
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		xr_err_clear(&err);
		ck_assert_int_eq(xr_rpc_call(r, methods[i], "[]", &res, NULL, &err), XR_EINVAL);
		CONTAINS(err.msg, "rpc method");
	}
	for (size_t i = 0; i < sizeof(params) / sizeof(params[0]); i++) {
		xr_err_clear(&err);
		ck_assert_int_eq(xr_rpc_call(r, "eth_p", params[i], &res, NULL, &err), XR_EINVAL);
		CONTAINS(err.msg, "rpc eth_p: params are not a json array or object");
	}
	ck_assert_ptr_null(res);
	/* An object is fine (by-name params). */
	ck_assert_int_eq(xr_rpc_call(r, "eth_p", "{\"a\":1}", &res, NULL, &err), 0);
	ck_assert_str_eq(res, "{\"m\":\"eth_p\",\"p\":{\"a\":1}}");
	free(res);
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 1);
}
END_TEST

START_TEST(new_refuses)
{
	static const struct {
		const char *url, *msg;
	} cases[] = {
	    {"ftp://127.0.0.1/", "rpc url 'ftp://127.0.0.1/' must start with http:// or https://"},
	    {"localhost:8545", "rpc url 'localhost:8545' must start with http:// or https://"},
	    {"ws://127.0.0.1:8546", "rpc url 'ws://127.0.0.1:8546' must start with http://"},
	    {"", "rpc url must be 1 to 2048 characters"},
	    {"http://", "rpc url 'http://' is not valid"},
	    {"http://exa mple.com/", "rpc url 'http://exa mple.com/' is not valid"},
	};
	struct xr_rpc *r = (struct xr_rpc *)&r;
	struct xr_err err = {0};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *urls[] = {"http://127.0.0.1:1", cases[i].url};
		struct xr_rpc_opts o = {.urls = urls, .nurls = 2};
		xr_err_clear(&err);
		ck_assert_int_eq(xr_rpc_new(&o, &r, &err), XR_EINVAL);
		CONTAINS(err.msg, cases[i].msg);
		ck_assert_ptr_eq(r, (struct xr_rpc *)&r);
	}
	struct xr_rpc_opts none = {0};
	xr_err_clear(&err);
	ck_assert_int_eq(xr_rpc_new(&none, &r, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "rpc needs at least one url");
	xr_rpc_free(NULL);
}
END_TEST

/* Secrets in a URL's path, query or user info stay out of messages. */
START_TEST(messages_show_origin_only)
{
	struct xr_err err = {0};
	char *res = NULL, dead[64], url[160];
	closed_url(dead, sizeof(dead));
	snprintf(url, sizeof(url), "http://user:secret@%s/v3/secretkey?k=secret", dead + 7);
	const char *urls[] = {url};
	struct xr_rpc_opts o = {.retries = 1, .backoff_ms = 1};
	struct xr_rpc *r = client_opts(urls, 1, &o);
	ck_assert_int_eq(xr_rpc_call(r, "eth_s", "[]", &res, NULL, &err), XR_EIO);
	CONTAINS(err.msg, dead);
	ck_assert_msg(!strstr(err.msg, "secret"), "secret leaked: %s", err.msg);
	xr_rpc_free(r);
}
END_TEST

/* --- batches --------------------------------------------------------------- */

START_TEST(batch_out_of_order)
{
	struct fake f;
	struct xr_err err = {0};
	char *res[3] = {0};
	size_t lens[3] = {0};
	FAKE_START(&f, {B_OK, 0, NULL}, {B_BATCH_REVERSED, 0, NULL});
	struct xr_rpc *r = client1(f.url, 0);
	/* A call first so batch ids do not start at 1. */
	char *one = NULL;
	ck_assert_int_eq(xr_rpc_call(r, "eth_first", "[]", &one, NULL, &err), 0);
	free(one);
	ck_assert_msg(xr_rpc_batch(r, 3, bm, bp, res, lens, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(res[0], "{\"m\":\"m0\",\"p\":[0]}");
	ck_assert_str_eq(res[1], "{\"m\":\"m1\",\"p\":[]}");
	ck_assert_str_eq(res[2], "{\"m\":\"m2\",\"p\":[\"x\",2]}");
	for (int i = 0; i < 3; i++) {
		ck_assert_uint_eq(lens[i], strlen(res[i]));
		free(res[i]);
	}
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 2);
}
END_TEST

START_TEST(batch_in_order)
{
	struct fake f;
	struct xr_err err = {0};
	char *res[3] = {0};
	FAKE_START(&f, {B_OK, 0, NULL});
	struct xr_rpc *r = client1(f.url, 0);
	ck_assert_msg(xr_rpc_batch(r, 3, bm, bp, res, NULL, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(res[2], "{\"m\":\"m2\",\"p\":[\"x\",2]}");
	for (int i = 0; i < 3; i++)
		free(res[i]);
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 1);
}
END_TEST

static const struct {
	struct step step;
	const char *what;
} batch_bad[] = {
    {{B_BATCH_MISSING, 0, NULL}, "no reply to id 3 (m2)"},
    {{B_BATCH_DUP, 0, NULL}, "id 1 answered twice"},
    {{B_RAW, 0, "{\"jsonrpc\":\"2.0\",\"id\":null,\"error\":{\"code\":-32600,\"message\":\"no\"}}"},
     "reply is an object, not an array of 3 replies"},
    {{B_RAW, 0, "[]"}, "no reply to id 1 (m0)"},
    {{B_RAW, 0, "[1,2,3]"}, "reply is a number, not an object"},
    {{B_RAW, 0, "[{\"jsonrpc\":\"2.0\",\"id\":7,\"result\":1}]"},
     "id 7 is not in the batch (1 to 3)"},
    {{B_RAW, 0, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1,\"result\":1}]"},
     "duplicate member \"result\""},
    {{B_RAW, 0,
      "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1},{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":1},"
      "{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":1},{\"jsonrpc\":\"2.0\",\"id\":3,\"result\":1}]"},
     "4 replies to 3 calls"},
    {{B_RAW, 0, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1}] ,"},
     "expected nothing after the value"},
    {{B_RAW, 0, "[{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"\xc3\"}]"}, "invalid utf-8"},
};

START_TEST(batch_malformed)
{
	struct fake f;
	struct xr_err err = {0};
	char *res[3] = {0};
	size_t lens[3] = {9, 9, 9};
	char want[128];
	fake_start(&f, &batch_bad[_i].step, 1);
	struct xr_rpc *r = client1(f.url, 1);
	ck_assert_int_eq(xr_rpc_batch(r, 3, bm, bp, res, lens, &err), XR_EIO);
	for (int i = 0; i < 3; i++) {
		ck_assert_ptr_null(res[i]);
		ck_assert_uint_eq(lens[i], 9);
	}
	snprintf(want, sizeof(want), "rpc batch of 3 (m0, ...): malformed reply from %s: ", f.url);
	CONTAINS(err.msg, want);
	CONTAINS(err.msg, batch_bad[_i].what);
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 2);
}
END_TEST

START_TEST(batch_error_object)
{
	struct fake f;
	struct xr_err err = {0};
	char *res[3] = {0};
	FAKE_START(&f, {B_BATCH_ERROR, 0, NULL});
	struct xr_rpc *r = client1(f.url, 0);
	ck_assert_int_eq(xr_rpc_batch(r, 3, bm, bp, res, NULL, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "rpc m1: error 3: execution reverted");
	for (int i = 0; i < 3; i++)
		ck_assert_ptr_null(res[i]);
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 1);
}
END_TEST

START_TEST(batch_limits)
{
	static const char *methods[1001], *params[1001];
	static char *res[1001], pbuf[1001][16];
	static const char *const bad[] = {"m0", "m 1"};
	struct fake f;
	struct xr_err err = {0};
	char want[64];
	FAKE_START(&f, {B_BATCH_REVERSED, 0, NULL});
	struct xr_rpc *r = client1(f.url, 0);
	ck_assert_int_eq(xr_rpc_batch(r, 0, NULL, NULL, NULL, NULL, &err), 0);
	for (size_t i = 0; i < 1001; i++) {
		methods[i] = "eth_n";
		snprintf(pbuf[i], sizeof(pbuf[i]), "[%zu]", i);
		params[i] = pbuf[i];
	}
	ck_assert_int_eq(xr_rpc_batch(r, 1001, methods, params, res, NULL, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "rpc batch of 1001 calls is over the limit of 1000");
	xr_err_clear(&err);
	ck_assert_int_eq(xr_rpc_batch(r, 2, bad, bp, res, NULL, &err), XR_EINVAL);
	CONTAINS(err.msg, "rpc method 'm 1'");
	xr_err_clear(&err);
	ck_assert_int_eq(
	    xr_rpc_batch(r, 2, bm, (const char *const[]){"[]", "[x]"}, res, NULL, &err), XR_EINVAL);
	CONTAINS(err.msg, "rpc m1: params are not a json array or object");
	ck_assert_ptr_null(res[0]);
	/* The largest batch, answered backwards. */
	ck_assert_msg(xr_rpc_batch(r, 1000, methods, params, res, NULL, &err) == 0, "%s", err.msg);
	for (size_t i = 0; i < 1000; i++) {
		snprintf(want, sizeof(want), "{\"m\":\"eth_n\",\"p\":[%zu]}", i);
		ck_assert_str_eq(res[i], want);
		free(res[i]);
	}
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 1);
}
END_TEST

/* --- the scanner, on bodies with any bytes ----------------------------------- */

#define T(lit) lit, sizeof(lit) - 1

/* xr_rpc_check_reply on bodies a C string cannot carry (NUL bytes), and what
 * the scanner accepts that jansson does not. */
START_TEST(check_reply_bytes)
{
	static const struct {
		const char *body;
		size_t len;
		int rc;
		const char *what; /* the message part, or the result */
	} cases[] = {
	    {T("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"a\0b\"}"), XR_EIO,
	     "control character in a string (found byte 0x00)"},
	    {T("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":1}\0"), XR_EIO,
	     "expected nothing after the value (found byte 0x00)"},
	    {T("\0{}"), XR_EIO, "invalid json at byte 0: expected a value"},
	    {T("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"a\\u0000b\"}"), 0, "\"a\\u0000b\""},
	    {T("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":[1e400,123456789012345678901234567890]}"),
	     0, "[1e400,123456789012345678901234567890]"},
	    {T("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"a\":1,\"a\":2}}"), 0,
	     "{\"a\":1,\"a\":2}"},
	    {T("{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":\"\\ud83d\\ude00\xf0\x9f\x98\x80\"}"), 0,
	     "\"\\ud83d\\ude00\xf0\x9f\x98\x80\""},
	    {T("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":3,\"message\":\"reverted "
	       "\\u0000\"}}"),
	     XR_EINVAL, "rpc eth_t: error 3: reverted \\x00"},
	    {T("{\"jsonrpc\":\"2.0\",\"id\":1,\"error\":{\"code\":-32029,\"message\":\"slow\"}}"),
	     XR_EBUSY, "rpc eth_t: rate limited: error -32029: slow"},
	    {T(""), XR_EIO, "invalid json at byte 0: expected a value (found end of text)"},
	    {T("   "), XR_EIO, "invalid json at byte 3: expected a value (found end of text)"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xr_err err = {0};
		char *res = NULL;
		size_t len = 99;
		int rc =
		    xr_rpc_check_reply(cases[i].body, cases[i].len, "eth_t", 1, &res, &len, &err);
		ck_assert_msg(rc == cases[i].rc, "case %zu: %d %s", i, rc, err.msg);
		if (rc == 0) {
			ck_assert_uint_eq(len, strlen(cases[i].what));
			ck_assert_str_eq(res, cases[i].what);
			free(res);
		} else {
			ck_assert_ptr_null(res);
			ck_assert_uint_eq(len, 99);
			CONTAINS(err.msg, cases[i].what);
		}
	}
}
END_TEST

/* Nesting up to the cap is fine; one more level is refused. */
START_TEST(scan_depth)
{
	static char text[2 * XR_JSON_MAX_DEPTH + 4];
	struct xr_err err = {0};
	enum xr_json_type t = XR_JSON_NONE;
	for (unsigned extra = 0; extra < 2; extra++) {
		unsigned d = XR_JSON_MAX_DEPTH + extra;
		memset(text, '[', d);
		memset(text + d, ']', d);
		xr_err_clear(&err);
		int rc = xr_json_scan(text, 2 * d, NULL, &t, &err);
		if (!extra) {
			ck_assert_msg(rc == 0, "%s", err.msg);
			ck_assert_int_eq(t, XR_JSON_ARRAY);
		} else {
			ck_assert_int_eq(rc, XR_EINVAL);
			ck_assert_str_eq(
			    err.msg,
			    "invalid json at byte 512: nesting deeper than 512 (found '[')");
		}
	}
}
END_TEST

/* --- memory ---------------------------------------------------------------- */

/* A kB figure of /proc/self/status ("VmHWM:", "VmRSS:"), or -1. */
static long status_kb(const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0)
			v = strtol(line + strlen(key), NULL, 10);
	fclose(f);
	return v;
}

/* Makes VmHWM start again from the current RSS (Linux 4.0 and later). */
static bool reset_peak(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");
	if (!f)
		return false;
	bool ok = fputs("5", f) >= 0;
	return fclose(f) == 0 && ok;
}

/* An eth_getLogs result of about want bytes; caller frees. */
static char *make_logs(size_t want, size_t *ret_len)
{
	static const char log[] =
	    "{\"address\":\"0x5fbdb2315678afecb367f032d93f642f64180aa3\",\"topics\":["
	    "\"0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef\","
	    "\"0x000000000000000000000000f39fd6e51aad88f6f4ce6ab8827279cfffb92266\"],"
	    "\"data\":\"0x00000000000000000000000000000000000000000000000000000000000003e8\","
	    "\"blockNumber\":\"0x1b4\",\"transactionHash\":"
	    "\"0x88df016429689c079f3b2f6ad39fa052532c56795b733da78a91ebe6a713944b\","
	    "\"transactionIndex\":\"0x0\",\"blockHash\":"
	    "\"0xdc0818cf78f21a8e70579cb46a43643f78291264dda342ae31049421c82d21ae\","
	    "\"logIndex\":\"0x%zx\",\"removed\":false,\"note\":\"0.1 \\u00e9\\ud83d\\ude00\"}";
	char *p = malloc(want + sizeof(log) + 32);
	size_t n = 0;
	p[n++] = '[';
	for (size_t i = 0; n < want; i++) {
		if (i)
			p[n++] = ',';
		n += (size_t)snprintf(p + n, sizeof(log) + 30, log, i);
	}
	p[n++] = ']';
	*ret_len = n;
	return p;
}

/* A 20 MB eth_getLogs reply is accepted, comes back as the node's text, and
 * costs the process about one copy of itself: no tree of it (jansson's was
 * ~20 times the body), no second copy of the result. Measured as the peak
 * RSS over the call, in the forked test process. */
START_TEST(big_logs_memory)
{
	struct fake f;
	struct xr_err err = {0};
	char *res = NULL;
	size_t len = 0;
	payload = make_logs(20u << 20, &payload_len);
	FAKE_START(&f, {B_PAYLOAD, 0, NULL});
	struct xr_rpc *r = client1(f.url, 0);

	/* No jansson memory either: a 1 MiB budget is plenty. */
	size_t live = xr_json_budget_live();
	xr_json_budget_set(1 << 20);
	bool measured = reset_peak();
	long before = status_kb("VmRSS:");
	ck_assert_msg(xr_rpc_call(r, "eth_getLogs", "[{}]", &res, &len, &err) == 0, "%s", err.msg);
	long peak = status_kb("VmHWM:");
	xr_json_budget_set(0);
	ck_assert_uint_eq(xr_json_budget_live(), live);
	ck_assert_uint_eq(len, payload_len);
	ck_assert(memcmp(res, payload, len) == 0);
	ck_assert(res[len] == '\0');
	if (measured && before > 0 && peak > 0) {
		long extra = peak - before;
		fprintf(stderr, "big_logs_memory: %zu-byte body, %ld kB extra peak RSS (%.2fx)\n",
			payload_len, extra, (double)extra * 1024 / (double)payload_len);
		ck_assert_msg((size_t)extra * 1024 < payload_len * 3 / 2,
			      "%ld kB extra peak for a %zu-byte body", extra, payload_len);
	} else {
		fprintf(stderr, "big_logs_memory: cannot reset VmHWM, peak not measured\n");
	}
	free(res);
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 1);
	free((char *)payload);
	payload = NULL;
}
END_TEST

/* --- the jansson budget ----------------------------------------------------- */

/* "[0,1,...]": about 6 bytes of text, but more than 60 bytes of tree, each. */
static char *int_array(size_t n)
{
	char *p = malloc(n * 8 + 2), *q = p;
	*q++ = '[';
	for (size_t i = 0; i < n; i++)
		q += sprintf(q, i ? ",%zu" : "%zu", i % 100000);
	*q++ = ']';
	*q = '\0';
	return p;
}

START_TEST(budget_limits_jansson)
{
	json_error_t je;
	size_t base = xr_json_budget_live();
	char *text = int_array(20000);

	ck_assert_uint_eq(xr_json_budget_set(256 << 10), 0);
	json_t *small = json_loads("[1,2,{\"a\":\"b\"}]", 0, &je);
	ck_assert_ptr_nonnull(small);
	ck_assert_uint_gt(xr_json_budget_live(), base);
	/* Over the budget: a clean failure (jansson 2.14 leaves the error text
	 * empty when an array append fails), all of the partial tree freed. */
	ck_assert_ptr_null(json_loads(text, 0, &je));
	json_decref(small);
	ck_assert_uint_eq(xr_json_budget_live(), base);
	/* One allocation over the limit by itself. */
	char *wide = malloc(300 << 10);
	memset(wide, 'x', 300 << 10);
	ck_assert_ptr_null(json_stringn(wide, 300 << 10));
	free(wide);
	ck_assert_uint_eq(xr_json_budget_live(), base);
	/* Without a limit the same text parses. */
	ck_assert_uint_eq(xr_json_budget_set(0), 256 << 10);
	json_t *v = json_loads(text, 0, &je);
	ck_assert_msg(v != NULL, "%s", je.text);
	ck_assert_uint_eq(json_array_size(v), 20000);
	ck_assert_uint_gt(xr_json_budget_live(), base + 20000 * 24);
	json_decref(v);
	ck_assert_uint_eq(xr_json_budget_live(), base);
	free(text);
}
END_TEST

/* A reply whose tree would be over the budget is no problem for the client
 * (it keeps no tree); the caller's parse of the result fails cleanly, and
 * calls and parses work again once the budget is lifted. */
START_TEST(budget_with_rpc)
{
	struct fake f;
	struct xr_err err = {0};
	char *res = NULL;
	size_t len = 0;
	json_error_t je;
	char *text = int_array(30000);
	payload = text;
	payload_len = strlen(text);
	FAKE_START(&f, {B_PAYLOAD, 0, NULL});
	struct xr_rpc *r = client1(f.url, 0);
	size_t base = xr_json_budget_live();

	xr_json_budget_set(256 << 10);
	ck_assert_msg(xr_rpc_call(r, "eth_getLogs", "[{}]", &res, &len, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(len, payload_len);
	ck_assert_ptr_null(json_loadb(res, len, 0, &je));
	ck_assert_uint_eq(xr_json_budget_live(), base);
	free(res);

	xr_json_budget_set(0);
	ck_assert_msg(xr_rpc_call(r, "eth_getLogs", "[{}]", &res, &len, &err) == 0, "%s", err.msg);
	json_t *v = json_loadb(res, len, 0, &je);
	ck_assert_msg(v != NULL, "%s", je.text);
	ck_assert_uint_eq(json_array_size(v), 30000);
	json_decref(v);
	free(res);
	ck_assert_uint_eq(xr_json_budget_live(), base);
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 2);
	payload = NULL;
	free(text);
}
END_TEST

struct cross {
	json_t *v;
	size_t live, limit_live;
	bool limited;
};

static void *alloc_in_thread(void *arg)
{
	struct cross *c = arg;
	c->v = json_array();
	for (int i = 0; i < 1000; i++)
		json_array_append_new(c->v, json_integer(i));
	c->live = xr_json_budget_live();
	/* A limit of this thread's own. */
	xr_json_budget_set(c->live + 8);
	c->limited = json_string("this is longer than eight bytes") == NULL;
	return NULL;
}

static void *free_in_thread(void *arg)
{
	json_decref(arg);
	return NULL;
}

/* A thread's count goes down for the blocks it frees, whoever allocated
 * them, never below zero; another thread's limit is its own. Blocks are
 * plain malloc blocks, so freeing across threads (and after the allocating
 * thread is gone) is safe (ASan would say). */
START_TEST(budget_cross_thread)
{
	struct cross c = {0};
	pthread_t th;
	size_t base = xr_json_budget_live();

	ck_assert_int_eq(pthread_create(&th, NULL, alloc_in_thread, &c), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_uint_gt(c.live, 1000 * 8);
	ck_assert(c.limited);
	ck_assert_uint_eq(xr_json_budget_live(), base);
	/* The thread is gone; freeing its tree here lowers our count at most
	 * to zero. */
	json_decref(c.v);
	ck_assert_uint_le(xr_json_budget_live(), base);
	base = xr_json_budget_live();
	/* The other way round: our count stays overstated, never corrupt. */
	json_t *w = json_pack("{s:[i,i,i], s:s}", "a", 1, 2, 3, "b", "text");
	size_t with = xr_json_budget_live();
	ck_assert_uint_gt(with, base);
	ck_assert_int_eq(pthread_create(&th, NULL, free_in_thread, w), 0);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_uint_eq(xr_json_budget_live(), with);
	/* The other thread's limit was its own. */
	json_t *big = json_string("this is longer than eight bytes");
	ck_assert_ptr_nonnull(big);
	json_decref(big);
}
END_TEST

/* --- host services --------------------------------------------------------- */

struct log_seen {
	enum xr_log_level level;
	char msg[64];
	int n;
};

static void test_log(void *ctx, enum xr_log_level level, const char *msg)
{
	struct log_seen *s = ctx;
	s->level = level;
	snprintf(s->msg, sizeof(s->msg), "%s", msg);
	s->n++;
}

START_TEST(host_table)
{
	struct fake f;
	struct xr_err err = {0};
	struct xr_host h;
	struct log_seen seen = {0};
	char *res = NULL, *res2[2] = {0};
	size_t len = 0;
	FAKE_START(&f, {B_OK, 0, NULL});
	struct xr_rpc *r = client1(f.url, 0);
	xr_rpc_host(r, test_log, &seen, &h);
	ck_assert_uint_eq(h.abi_major, XR_HOST_ABI_MAJOR);
	ck_assert_uint_eq(h.abi_minor, XR_HOST_ABI_MINOR);
	ck_assert_uint_eq(h.size, sizeof(struct xr_host));
	ck_assert_msg(h.rpc(h.ctx, "eth_h", "[7]", &res, &len, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(res, "{\"m\":\"eth_h\",\"p\":[7]}");
	h.free_result(h.ctx, res);
	ck_assert_int_eq(h.rpc_batch(h.ctx, 2, bm, bp, res2, NULL, &err), 0);
	ck_assert_str_eq(res2[1], "{\"m\":\"m1\",\"p\":[]}");
	h.free_result(h.ctx, res2[0]);
	h.free_result(h.ctx, res2[1]);
	h.log(h.ctx, XR_LOG_WARN, "hello from an adapter");
	ck_assert_int_eq(seen.n, 1);
	ck_assert_int_eq(seen.level, XR_LOG_WARN);
	ck_assert_str_eq(seen.msg, "hello from an adapter");
	uint64_t now = h.now_ms(h.ctx);
	uint64_t t = (uint64_t)time(NULL) * 1000;
	ck_assert_uint_ge(now + 2000, t);
	ck_assert_uint_le(now, t + 2000);
	/* Without a log callback, log does nothing. */
	xr_rpc_host(r, NULL, NULL, &h);
	h.log(h.ctx, XR_LOG_ERROR, "dropped");
	ck_assert_int_eq(seen.n, 1);
	xr_rpc_free(r);
	ck_assert_int_eq(fake_stop(&f), 2);
}
END_TEST

/* --- a real node: anvil ----------------------------------------------------
 * Started by an unchecked fixture, which runs in the runner process: the
 * teardown kills anvil even when the test's forked child dies. */

static char anvil_problem[PATH_MAX + 256];

static void anvil_start(void)
{
	fx_anvil_start(anvil_problem, sizeof(anvil_problem));
}

START_TEST(anvil_chain_id_and_batch)
{
	static const char *const methods[] = {"eth_blockNumber", "eth_chainId"};
	static const char *const params[] = {"[]", NULL};
	struct xr_err err = {0};
	char *res = NULL, *res2[2] = {0};
	size_t lens[2];

	if (anvil_problem[0])
		ck_abort_msg("%s", anvil_problem);
	struct xr_rpc *r = client1(fx_anvil_url, 0);
	ck_assert_msg(xr_rpc_call(r, "eth_chainId", "[]", &res, NULL, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(res, "\"0x7a69\"");
	free(res);
	ck_assert_msg(xr_rpc_batch(r, 2, methods, params, res2, lens, &err) == 0, "%s", err.msg);
	ck_assert_msg(strncmp(res2[0], "\"0x", 3) == 0, "block number %s", res2[0]);
	ck_assert_str_eq(res2[1], "\"0x7a69\"");
	ck_assert_uint_eq(lens[1], 8);
	free(res2[0]);
	free(res2[1]);
	/* A real JSON-RPC error from a real node. */
	xr_err_clear(&err);
	ck_assert_int_eq(xr_rpc_call(r, "eth_noSuchMethod", "[]", &res, NULL, &err), XR_EINVAL);
	CONTAINS(err.msg, "rpc eth_noSuchMethod: error -32601: ");
	xr_rpc_free(r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("rpc");
	TCase *t = tcase_create("fake");
	tcase_set_timeout(t, 60);
	tcase_add_test(t, call_ok);
	tcase_add_loop_test(t, call_raw_result, 0, (int)(sizeof(raw_cases) / sizeof(raw_cases[0])));
	tcase_add_loop_test(t, call_malformed, 0, (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(t, malformed_then_ok);
	tcase_add_test(t, oversized_body);
	tcase_add_test(t, cap_table);
	tcase_add_test(t, cap_per_method);
	tcase_add_test(t, status_429_forever);
	tcase_add_test(t, rate_limit_fails_over);
	tcase_add_loop_test(t, rpc_rate_limit_errors, 0,
			    (int)(sizeof(busy_errors) / sizeof(busy_errors[0])));
	tcase_add_loop_test(t, rpc_final_errors, 0,
			    (int)(sizeof(final_errors) / sizeof(final_errors[0])));
	tcase_add_test(t, batch_rate_limited);
	tcase_add_test(t, retry_after);
	tcase_add_test(t, timeout_is_etimeout);
	tcase_add_test(t, check_reply_bytes);
	tcase_add_test(t, scan_depth);
	tcase_add_test(t, big_logs_memory);
	tcase_add_test(t, budget_limits_jansson);
	tcase_add_test(t, budget_with_rpc);
	tcase_add_test(t, budget_cross_thread);
	tcase_add_test(t, status_503_twice_then_ok);
	tcase_add_test(t, status_429_then_ok);
	tcase_add_test(t, status_503_forever);
	tcase_add_test(t, status_404_not_retried);
	tcase_add_test(t, status_400_rpc_error);
	tcase_add_test(t, slow_then_ok);
	tcase_add_test(t, hangup_then_ok);
	tcase_add_test(t, rpc_error_not_retried);
	tcase_add_test(t, long_rpc_error_capped);
	tcase_add_test(t, failover_from_refused);
	tcase_add_test(t, round_robin_sticks_to_last_good);
	tcase_add_test(t, all_dead);
	tcase_add_test(t, bad_method_or_params);
	tcase_add_test(t, new_refuses);
	tcase_add_test(t, messages_show_origin_only);
	tcase_add_test(t, batch_out_of_order);
	tcase_add_test(t, batch_in_order);
	tcase_add_loop_test(t, batch_malformed, 0, (int)(sizeof(batch_bad) / sizeof(batch_bad[0])));
	tcase_add_test(t, batch_error_object);
	tcase_add_test(t, batch_limits);
	tcase_add_test(t, host_table);
	suite_add_tcase(s, t);

	TCase *a = tcase_create("anvil");
	tcase_set_timeout(a, 60);
	tcase_add_unchecked_fixture(a, anvil_start, fx_anvil_stop);
	tcase_add_test(a, anvil_chain_id_and_batch);
	suite_add_tcase(s, a);
	return s;
}

int main(void)
{
	/* Before any jansson call: every jansson block goes through it. */
	xr_json_budget_install();
	/* A client that hangs up on the fake server must not kill the test. */
	signal(SIGPIPE, SIG_IGN);
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
