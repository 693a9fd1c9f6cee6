/* pipeline.c - watchers: a quorum of endpoints per chain, linked scans,
 * dedup, gap and equivocation checks, and chunked commits.
 *
 * A chain lists endpoints and a quorum k. Each endpoint gets its own adapter
 * instance (its own JSON-RPC client, its chain id checked when it opens), so
 * no endpoint speaks for another. A step:
 *   1. asks every open instance for its head; the final height is the
 *      highest that k of them report as final;
 *   2. fixes `to` and asks every instance for the hash of block `to`; only a
 *      hash k of them agree on counts (disagreement: waiting, endpoints named);
 *   3. has one agreeing instance scan (cursor, to] linked by parent hash from
 *      the cursor's hash to that agreed hash, and commits what it emits in
 *      chunks that end at block boundaries, each in one WriteBatch with the
 *      cursor it advances to.
 * Failures of an endpoint move the scan to the next agreeing one. */
#include "pipeline.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "evm_adapter.h"
#include "json_budget.h"
#include "loader.h"
#include "record.h"
#include "rpc.h"

#define STATE_FIXED (8 + 32 + 1)
#define FLAG_HALTED 1u
#define FLAG_SEEDS 2u
/* A chunk is committed at the first block boundary past either figure, so
 * memory does not grow with the scan range. */
#define CHUNK_BYTES ((size_t)4 << 20)
#define CHUNK_EVENTS 1000
#define MAX_ENDPOINTS 16
/* jansson may hold this much at once on a watcher thread: one hostile
 * endpoint's reply cannot take the process's memory. */
#define JSON_BUDGET ((size_t)256 << 20)

enum chain_status { CHAIN_STARTING, CHAIN_RUNNING, CHAIN_WAITING, CHAIN_HALTED };

struct chain;

/* One endpoint of a chain, with its own adapter instance. */
struct endpoint {
	struct chain *c;
	size_t idx;
	char origin[160]; /* scheme://host:port, for messages */
	struct xr_rpc *rpc;
	struct xr_host host;
	void *ch; /* the adapter instance; NULL until it opened */
	/* guarded by the chain's mu */
	char problem[300], last_problem[300];
	uint64_t final, latest;
	bool head_ok, asked;
	uint64_t failures;
};

/* Emitters seen in a step and the highest sequence of each so far. */
struct emitter_seq {
	uint8_t emitter[XR_ENV_EMITTER_MAX];
	uint8_t len;
	uint64_t seq;
};

struct chain {
	struct xr_relay *relay;
	char name[XR_ENV_CHAIN_MAX + 1];
	char label[64]; /* for logs: "chain eip155:1" */
	void *plugin;	/* dlopen handle, NULL for built-ins */
	const struct xr_adapter *ad;
	char *params; /* the adapter's params, JSON text */
	uint64_t start_height;
	struct endpoint ep[MAX_ENDPOINTS];
	size_t nep, quorum, primary;
	bool linked; /* the adapter has scan_linked */
	pthread_t th;
	bool started;

	/* the step in progress (watcher thread only) */
	struct xr_ledger_batch *b;
	size_t pending_bytes, pending_events;
	uint64_t fresh, span_from, span_to;
	struct emitter_seq *es;
	size_t nes;
	struct endpoint *scanning;
	struct xr_buf body, rec, stbuf;
	/* the highest block k endpoints agreed on as final, and its hash: a later
	 * agreement that changes it is a reorg below the final height */
	uint64_t agreed_height;
	uint8_t agreed_hash[32];

	pthread_mutex_t mu; /* guards the status below and endpoint status */
	enum chain_status status;
	uint64_t head, final, committed, disagreements, hidden;
	struct xr_chain_state st;
	char problem[600]; /* why it is waiting (node down, ...) */
};

struct xr_relay {
	struct xr_node node;
	struct chain *chains;
	size_t nchains;
	uint64_t range;
	unsigned poll_ms;
	atomic_bool stop;
	pthread_mutex_t commit_mu; /* one writer appends at a time */
	pthread_mutex_t stop_mu;
	pthread_cond_t stop_cv;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void logf_(const char *level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(const char *level, const char *fmt, ...)
{
	char ts[32];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	va_list ap;
	va_start(ap, fmt);
	flockfile(stderr);
	fprintf(stderr, "%s %s ", ts, level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
	va_end(ap);
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* ---- chain state ------------------------------------------------------- */

void xr_chain_state_encode(const struct xr_chain_state *s, struct xr_buf *out)
{
	xr_buf_u64(out, s->height);
	xr_buf_put(out, s->hash, 32);
	xr_buf_u8(out, (uint8_t)((s->halted ? FLAG_HALTED : 0) | (s->nseeds ? FLAG_SEEDS : 0)));
	if (s->nseeds) {
		xr_buf_u8(out, (uint8_t)s->nseeds);
		for (size_t i = 0; i < s->nseeds; i++) {
			xr_buf_u8(out, s->seeds[i].len);
			xr_buf_put(out, s->seeds[i].emitter, s->seeds[i].len);
			xr_buf_u64(out, s->seeds[i].sequence);
		}
	}
	xr_buf_put(out, s->reason, strlen(s->reason));
}

int xr_chain_state_decode(const uint8_t *p,
			  size_t n,
			  struct xr_chain_state *ret,
			  struct xr_err *err)
{
	struct xr_chain_state s;
	size_t off = STATE_FIXED;

	if (n < STATE_FIXED || (p[40] & ~(FLAG_HALTED | FLAG_SEEDS)))
		return xr_err_set(err, XR_EIO, "stored chain state of %zu bytes is corrupt", n);
	memset(&s, 0, sizeof(s));
	s.height = xr_get_be64(p);
	memcpy(s.hash, p + 8, 32);
	s.halted = p[40] & FLAG_HALTED;
	if (p[40] & FLAG_SEEDS) {
		if (off >= n || p[off] == 0 || p[off] > XR_CHAIN_SEEDS_MAX)
			return xr_err_set(err, XR_EIO, "stored chain state has a corrupt seed list");
		s.nseeds = p[off++];
		for (size_t i = 0; i < s.nseeds; i++) {
			if (off >= n || p[off] == 0 || p[off] > XR_ENV_EMITTER_MAX ||
			    n - off - 1 < (size_t)p[off] + 8)
				return xr_err_set(err, XR_EIO,
						  "stored chain state seed %zu is corrupt", i);
			s.seeds[i].len = p[off++];
			memcpy(s.seeds[i].emitter, p + off, s.seeds[i].len);
			off += s.seeds[i].len;
			s.seeds[i].sequence = xr_get_be64(p + off);
			off += 8;
		}
	}
	if (n - off >= sizeof(s.reason))
		return xr_err_set(err, XR_EIO, "stored chain state of %zu bytes is corrupt", n);
	memcpy(s.reason, p + off, n - off);
	*ret = s;
	return 0;
}

/* ---- host services for adapters --------------------------------------- */

static int host_rpc(void *ctx,
		    const char *method,
		    const char *params_json,
		    char **ret_result,
		    size_t *ret_len,
		    struct xr_err *err)
{
	struct endpoint *e = ctx;
	if (!e->rpc)
		return xr_err_set(err, XR_ESTATE,
				  "%s: chain has no \"rpc\" endpoints configured for %s",
				  e->c->label, method);
	return xr_rpc_call(e->rpc, method, params_json, ret_result, ret_len, err);
}

static int host_rpc_batch(void *ctx,
			  size_t n,
			  const char *const *methods,
			  const char *const *params_json,
			  char **ret_results,
			  size_t *ret_lens,
			  struct xr_err *err)
{
	struct endpoint *e = ctx;
	if (!e->rpc)
		return xr_err_set(err, XR_ESTATE,
				  "%s: chain has no \"rpc\" endpoints configured for %s",
				  e->c->label, n ? methods[0] : "a batch");
	return xr_rpc_batch(e->rpc, n, methods, params_json, ret_results, ret_lens, err);
}

/* The dry run of open: every call fails as if no endpoint answered, so an
 * adapter gets as far as its parameter checks and no further. */
static int host_rpc_dry(void *ctx,
			const char *method,
			const char *params_json,
			char **ret_result,
			size_t *ret_len,
			struct xr_err *err)
{
	(void)ctx;
	(void)params_json;
	(void)ret_result;
	(void)ret_len;
	return xr_err_set(err, XR_ESTATE, "dry run: %s not sent", method);
}

static int host_rpc_batch_dry(void *ctx,
			      size_t n,
			      const char *const *methods,
			      const char *const *params_json,
			      char **ret_results,
			      size_t *ret_lens,
			      struct xr_err *err)
{
	(void)n;
	(void)params_json;
	(void)ret_results;
	(void)ret_lens;
	return host_rpc_dry(ctx, methods[0], NULL, NULL, NULL, err);
}

static void host_free_result(void *ctx, char *result)
{
	(void)ctx;
	free(result);
}

static void host_log(void *ctx, enum xr_log_level level, const char *msg)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	struct endpoint *e = ctx;
	size_t nl = strlen(e->c->name);
	/* Adapters name their chain; the label already does. */
	if (strncmp(msg, e->c->name, nl) == 0 && msg[nl] == ':' && msg[nl + 1] == ' ')
		msg += nl + 2;
	if (e->c->nep > 1)
		logf_(names[level <= XR_LOG_DEBUG ? level : XR_LOG_DEBUG], "%s via %s: %s",
		      e->c->label, e->origin, msg);
	else
		logf_(names[level <= XR_LOG_DEBUG ? level : XR_LOG_DEBUG], "%s: %s", e->c->label,
		      msg);
}

static uint64_t host_now_ms(void *ctx)
{
	(void)ctx;
	return now_ms();
}

static int alert_record(struct chain *c, const char *kind, const char *detail,
			const char *endpoint, struct xr_buf *out, struct xr_err *err);

/* An alert about an endpoint: an ALERT record in the batch being built, so
 * it is committed exactly once, with the events it concerns. */
static void host_alert(void *ctx, const char *kind, const char *detail)
{
	struct endpoint *e = ctx;
	struct chain *c = e->c;
	struct xr_err err = {0};

	logf_("warn", "%s: alert: %s via %s: %s", c->label, kind, e->origin, detail);
	pthread_mutex_lock(&c->mu);
	c->hidden++;
	pthread_mutex_unlock(&c->mu);
	xr_buf_reset(&c->rec);
	if (!c->b || alert_record(c, kind, detail, e->origin, &c->rec, &err) < 0 ||
	    xr_ledger_batch_add(c->b, c->rec.data, c->rec.len, NULL, 0, &err) < 0)
		logf_("error", "%s: cannot record the alert: %s", c->label, err.msg);
}

static void endpoint_host(struct endpoint *e, bool dry)
{
	e->host = (struct xr_host){
	    .abi_major = XR_HOST_ABI_MAJOR,
	    .abi_minor = XR_HOST_ABI_MINOR,
	    .size = sizeof(struct xr_host),
	    .ctx = e,
	    .rpc = dry ? host_rpc_dry : host_rpc,
	    .rpc_batch = dry ? host_rpc_batch_dry : host_rpc_batch,
	    .free_result = host_free_result,
	    .log = host_log,
	    .now_ms = host_now_ms,
	    .alert = host_alert,
	};
}

/* ---- status ------------------------------------------------------------ */

static void set_status(struct chain *c, enum chain_status s, const char *problem)
{
	pthread_mutex_lock(&c->mu);
	c->status = s;
	snprintf(c->problem, sizeof(c->problem), "%s", problem ? problem : "");
	pthread_mutex_unlock(&c->mu);
}

static void set_ep_problem(struct endpoint *e, const char *problem)
{
	pthread_mutex_lock(&e->c->mu);
	snprintf(e->problem, sizeof(e->problem), "%s", problem ? problem : "");
	if (problem) {
		e->failures++;
		snprintf(e->last_problem, sizeof(e->last_problem), "%s", problem);
	}
	pthread_mutex_unlock(&e->c->mu);
}

/* An endpoint failed: its problem, named by its origin when it has one. */
static void ep_fail(struct endpoint *e, struct xr_err *err)
{
	if (e->rpc)
		xr_err_prefix(err, "%s", e->origin);
	set_ep_problem(e, err->msg);
}

/* Sleeps up to ms, waking early when the relay stops. */
static void nap(struct xr_relay *r, unsigned ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&r->stop_mu);
	while (!atomic_load(&r->stop))
		if (pthread_cond_timedwait(&r->stop_cv, &r->stop_mu, &ts) == ETIMEDOUT)
			break;
	pthread_mutex_unlock(&r->stop_mu);
}

/* ---- records ------------------------------------------------------------ */

static int alert_record(struct chain *c, const char *kind, const char *detail,
			const char *endpoint, struct xr_buf *out, struct xr_err *err)
{
	struct xr_relay *r = c->relay;
	json_t *j = json_pack("{s:s, s:s, s:s, s:s*}", "chain", c->name, "kind", kind, "detail",
			      detail, "endpoint", endpoint);
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	if (!text)
		return xr_err_set(err, XR_ENOMEM, "out of memory for an alert");
	struct xr_record a = {.type = XR_REC_ALERT, .time_ms = now_ms()};
	memcpy(a.author, r->node.name, sizeof(r->node.name));
	size_t len = strlen(text);
	if (len > XR_RECORD_BODY_MAX)
		len = XR_RECORD_BODY_MAX;
	a.body = (const uint8_t *)text;
	a.body_len = (uint32_t)len;
	int rc = xr_record_encode(&a, NULL, out, err);
	xr_json_free(text);
	return rc;
}

/* Halts the chain: an ALERT record and the halted state in one batch. */
static int halt(struct chain *c, const char *kind, const char *detail)
{
	struct xr_relay *r = c->relay;
	struct xr_err err = {0};
	struct xr_buf rec, st;
	struct xr_ledger_batch *b = xr_ledger_batch_new();
	int rc;

	logf_("error", "%s: halted: %s: %s", c->label, kind, detail);
	xr_buf_init(&rec, XR_RECORD_MAX_LEN);
	xr_buf_init(&st, 4096);
	struct xr_chain_state s = c->st;
	s.halted = true;
	snprintf(s.reason, sizeof(s.reason), "%s: %s", kind, detail);
	xr_chain_state_encode(&s, &st);
	pthread_mutex_lock(&r->commit_mu);
	if (!b || (rc = alert_record(c, kind, detail, NULL, &rec, &err)) < 0 ||
	    (rc = xr_ledger_batch_add(b, rec.data, rec.len, NULL, 0, &err)) < 0 ||
	    (rc = xr_ledger_batch_cursor(b, c->name, st.data, st.len, &err)) < 0 ||
	    (rc = xr_ledger_append(r->node.ledger, b, NULL, &err)) < 0)
		logf_("error", "%s: cannot record the alert: %s", c->label, err.msg);
	pthread_mutex_unlock(&r->commit_mu);
	pthread_mutex_lock(&c->mu);
	c->st = s;
	c->status = CHAIN_HALTED;
	pthread_mutex_unlock(&c->mu);
	xr_buf_fini(&rec);
	xr_buf_fini(&st);
	xr_ledger_batch_free(b);
	return XR_ECONFLICT;
}

static int check_sequence(struct chain *c,
			  const struct xr_envelope *e,
			  char *detail,
			  size_t cap,
			  struct xr_err *err)
{
	struct emitter_seq *x = NULL;
	for (size_t i = 0; i < c->nes && !x; i++)
		if (c->es[i].len == e->emitter_len &&
		    memcmp(c->es[i].emitter, e->emitter, e->emitter_len) == 0)
			x = &c->es[i];
	if (!x) {
		uint64_t last;
		int rc = xr_ledger_emitter_sequence(c->relay->node.ledger, e, &last, err);
		if (rc < 0)
			return rc;
		/* Nothing committed yet: the sequence the bridge had before the
		 * start height. */
		for (size_t i = 0; last == 0 && i < c->st.nseeds; i++)
			if (c->st.seeds[i].len == e->emitter_len &&
			    memcmp(c->st.seeds[i].emitter, e->emitter, e->emitter_len) == 0)
				last = c->st.seeds[i].sequence;
		void *p = realloc(c->es, (c->nes + 1) * sizeof(*c->es));
		if (!p)
			return xr_err_set(err, XR_ENOMEM, "out of memory");
		c->es = p;
		x = &c->es[c->nes++];
		memcpy(x->emitter, e->emitter, e->emitter_len);
		x->len = e->emitter_len;
		x->seq = last;
	}
	if (e->sequence != x->seq + 1) {
		char hex[2 * XR_ENV_EMITTER_MAX + 1];
		xr_hex_encode(e->emitter, e->emitter_len, hex);
		snprintf(detail, cap,
			 "emitter 0x%s: sequence %llu follows %llu at height %llu (expected %llu)",
			 hex, (unsigned long long)e->sequence, (unsigned long long)x->seq,
			 (unsigned long long)e->src_height, (unsigned long long)x->seq + 1);
		return 1;
	}
	x->seq = e->sequence;
	return 0;
}

/* ---- one step of a watcher -------------------------------------------- */

/* Commits the pending batch with the cursor at (height, hash). Returns 0,
 * a transient error, or XR_ECONFLICT after halting the chain. */
static int commit(struct chain *c, uint64_t height, const uint8_t hash[32], struct xr_err *err)
{
	struct xr_relay *r = c->relay;
	struct xr_chain_state s = c->st;
	int rc;

	s.height = height;
	memcpy(s.hash, hash, 32);
	xr_buf_reset(&c->stbuf);
	xr_chain_state_encode(&s, &c->stbuf);
	if ((rc = xr_ledger_batch_cursor(c->b, c->name, c->stbuf.data, c->stbuf.len, err)) < 0)
		return rc;
	pthread_mutex_lock(&r->commit_mu);
	rc = xr_ledger_append(r->node.ledger, c->b, NULL, err);
	pthread_mutex_unlock(&r->commit_mu);
	if (rc == XR_ECONFLICT)
		return halt(c, "equivocation", err->msg);
	if (rc < 0)
		return rc;
	xr_ledger_batch_clear(c->b);
	pthread_mutex_lock(&c->mu);
	c->st = s;
	c->committed += c->fresh;
	pthread_mutex_unlock(&c->mu);
	c->fresh = 0;
	c->pending_bytes = 0;
	c->pending_events = 0;
	return 0;
}

/* One event from the adapter: checked, deduped, added to the batch. */
static int on_event(void *ctx, const struct xr_observation *o, struct xr_err *err)
{
	struct chain *c = ctx;
	struct xr_relay *r = c->relay;
	struct xr_envelope e;
	uint8_t id[32], have[32], dig[32];
	char detail[400];
	int rc;

	if ((rc = xr_envelope_decode(o->envelope, o->envelope_len, &e, err)) < 0) {
		xr_err_prefix(err, "adapter emitted a bad envelope");
		return rc;
	}
	if (strcmp(e.src_chain, c->name) != 0 || e.src_height < c->span_from ||
	    e.src_height > c->span_to)
		return xr_err_set(err, XR_EINVAL,
				  "adapter emitted an envelope of %s at height %llu while "
				  "scanning %s %llu..%llu",
				  e.src_chain, (unsigned long long)e.src_height, c->name,
				  (unsigned long long)c->span_from, (unsigned long long)c->span_to);
	xr_envelope_id(o->envelope, o->envelope_len, id);
	rc = xr_ledger_find_source(r->node.ledger, &e, have, err);
	if (rc == 0) {
		if (memcmp(have, id, 32) == 0)
			return 0; /* committed before: nothing twice */
		char a[65], b[65];
		xr_hex_encode(id, 32, a);
		xr_hex_encode(have, 32, b);
		snprintf(detail, sizeof(detail),
			 "envelope 0x%s at height %llu (sequence %llu, log index %u) conflicts "
			 "with committed envelope 0x%s",
			 a, (unsigned long long)e.src_height, (unsigned long long)e.sequence,
			 e.log_index, b);
		return halt(c, "equivocation", detail);
	}
	if (rc != XR_ENOTFOUND)
		return rc;
	xr_err_clear(err);
	if ((rc = check_sequence(c, &e, detail, sizeof(detail), err)) < 0)
		return rc;
	if (rc == 1)
		return halt(c, "sequence gap", detail);
	xr_sha256(o->evidence, o->evidence_len, dig);
	struct xr_record rd = {.type = XR_REC_ENVELOPE, .time_ms = now_ms()};
	memcpy(rd.author, r->node.name, sizeof(r->node.name));
	xr_buf_reset(&c->body);
	xr_buf_reset(&c->rec);
	if ((rc = xr_envelope_body_encode(o->envelope, o->envelope_len, dig, &c->body, err)) < 0)
		return rc;
	rd.body = c->body.data;
	rd.body_len = (uint32_t)c->body.len;
	if ((rc = xr_record_encode(&rd, NULL, &c->rec, err)) < 0 ||
	    (rc = xr_ledger_batch_add(c->b, c->rec.data, c->rec.len, o->evidence, o->evidence_len,
				      err)) < 0)
		return rc;
	c->fresh++;
	c->pending_events++;
	c->pending_bytes += c->rec.len + o->evidence_len;
	return 0;
}

/* A block boundary: commit a chunk when the batch is big enough, and always
 * at the end of the span. */
static int on_mark(void *ctx, uint64_t height, const uint8_t hash[32], struct xr_err *err)
{
	struct chain *c = ctx;
	if (height < c->span_from || height > c->span_to)
		return xr_err_set(err, XR_EINVAL, "adapter marked block %llu outside %llu..%llu",
				  (unsigned long long)height, (unsigned long long)c->span_from,
				  (unsigned long long)c->span_to);
	if (height == c->span_to || c->pending_bytes >= CHUNK_BYTES ||
	    c->pending_events >= CHUNK_EVENTS)
		return commit(c, height, hash, err);
	return 0;
}

/* How many endpoints are open; tries the closed ones. */
static size_t open_endpoints(struct chain *c)
{
	size_t open = 0;
	for (size_t i = 0; i < c->nep; i++) {
		struct endpoint *e = &c->ep[i];
		struct xr_err err = {0};
		if (!e->ch) {
			int rc = c->ad->open(&e->host, c->params, &e->ch, &err);
			if (rc < 0) {
				e->ch = NULL;
				ep_fail(e, &err);
				continue;
			}
			logf_("info", "%s: endpoint %s open", c->label, e->origin);
			set_ep_problem(e, NULL);
		}
		open++;
	}
	return open;
}

/* Joins the problems of the endpoints into buf. */
static void endpoint_problems(struct chain *c, char *buf, size_t cap)
{
	size_t n = strlen(buf);
	pthread_mutex_lock(&c->mu);
	for (size_t i = 0; i < c->nep && n + 3 < cap; i++) {
		if (!c->ep[i].problem[0])
			continue;
		int w = snprintf(buf + n, cap - n, "; %s", c->ep[i].problem);
		if (w < 0)
			break;
		n += (size_t)w < cap - n ? (size_t)w : cap - n - 1;
	}
	pthread_mutex_unlock(&c->mu);
}

static int cmp_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

/* The head k endpoints vouch for: the highest final (and latest) height
 * that at least k of them report. */
static int agree_head(struct chain *c, struct xr_head *ret, char *why, size_t cap)
{
	uint64_t finals[MAX_ENDPOINTS], latests[MAX_ENDPOINTS];
	size_t n = 0;

	for (size_t i = 0; i < c->nep; i++) {
		struct endpoint *e = &c->ep[i];
		struct xr_err err = {0};
		struct xr_head h;
		if (!e->ch)
			continue;
		if (c->ad->head(e->ch, &h, &err) < 0) {
			ep_fail(e, &err);
			pthread_mutex_lock(&c->mu);
			e->head_ok = false;
			e->asked = true;
			pthread_mutex_unlock(&c->mu);
			continue;
		}
		pthread_mutex_lock(&c->mu);
		e->head_ok = e->asked = true;
		e->final = h.final;
		e->latest = h.latest;
		e->problem[0] = '\0';
		pthread_mutex_unlock(&c->mu);
		finals[n] = h.final;
		latests[n] = h.latest;
		n++;
	}
	if (n < c->quorum) {
		if (c->nep == 1) {
			pthread_mutex_lock(&c->mu);
			snprintf(why, cap, "%s", c->ep[0].problem);
			pthread_mutex_unlock(&c->mu);
		} else {
			snprintf(why, cap, "%zu of %zu endpoints answered, %zu needed", n, c->nep,
				 c->quorum);
			endpoint_problems(c, why, cap);
		}
		return XR_EIO;
	}
	qsort(finals, n, sizeof(finals[0]), cmp_desc);
	qsort(latests, n, sizeof(latests[0]), cmp_desc);
	memset(ret, 0, sizeof(*ret));
	ret->final = finals[c->quorum - 1];
	ret->latest = latests[c->quorum - 1];
	return 0;
}

/* The hash of block height that at least k endpoints agree on. *ret_agree
 * gets a bit per endpoint that said it. */
static int agree_hash(struct chain *c, uint64_t height, uint8_t ret[32], uint32_t *ret_agree,
		      char *why, size_t cap)
{
	uint8_t h[MAX_ENDPOINTS][32];
	bool ok[MAX_ENDPOINTS] = {false};
	size_t answered = 0;

	for (size_t i = 0; i < c->nep; i++) {
		struct endpoint *e = &c->ep[i];
		struct xr_err err = {0};
		if (!e->ch)
			continue;
		if (c->ad->block_hash(e->ch, height, h[i], &err) < 0) {
			ep_fail(e, &err);
			continue;
		}
		ok[i] = true;
		answered++;
	}
	size_t best = MAX_ENDPOINTS, best_n = 0, groups = 0;
	for (size_t i = 0; i < c->nep; i++) {
		if (!ok[i])
			continue;
		size_t same = 0;
		bool first = true;
		for (size_t j = 0; j < c->nep; j++)
			if (ok[j] && memcmp(h[i], h[j], 32) == 0) {
				same++;
				if (j < i)
					first = false;
			}
		if (first)
			groups++;
		if (same > best_n) {
			best_n = same;
			best = i;
		}
	}
	if (groups > 1) {
		pthread_mutex_lock(&c->mu);
		c->disagreements++;
		pthread_mutex_unlock(&c->mu);
	}
	if (best_n < c->quorum) {
		size_t n = (size_t)snprintf(why, cap,
					    "%zu of %zu endpoints agree on block %llu, %zu needed",
					    best_n, c->nep, (unsigned long long)height, c->quorum);
		for (size_t i = 0; i < c->nep && n + 80 < cap; i++) {
			if (!ok[i])
				continue;
			char hex[65];
			xr_hex_encode(h[i], 32, hex);
			n += (size_t)snprintf(why + n, cap - n, "; %s says 0x%.16s…", c->ep[i].origin,
					      hex);
		}
		if (answered < c->quorum)
			endpoint_problems(c, why, cap);
		return XR_ESTATE;
	}
	if (groups > 1) {
		char hex[65];
		xr_hex_encode(h[best], 32, hex);
		logf_("warn", "%s: endpoints disagree on block %llu; %zu of them say 0x%s", c->label,
		      (unsigned long long)height, best_n, hex);
	}
	uint32_t agree = 0;
	for (size_t i = 0; i < c->nep; i++)
		if (ok[i] && memcmp(h[i], h[best], 32) == 0)
			agree |= 1u << i;
	memcpy(ret, h[best], 32);
	*ret_agree = agree;
	return 0;
}

/* The emitters' sequences at block height, as k endpoints agree. */
struct seeds_ctx {
	struct xr_chain_seed s[XR_CHAIN_SEEDS_MAX];
	size_t n;
};

static int collect_seed(void *ctx, const uint8_t *emitter, size_t len, uint64_t last,
			struct xr_err *err)
{
	struct seeds_ctx *x = ctx;
	if (len == 0 || len > XR_ENV_EMITTER_MAX || x->n == XR_CHAIN_SEEDS_MAX)
		return xr_err_set(err, XR_EINVAL, "adapter reported an emitter of %zu bytes or "
						  "more than %d emitters",
				  len, XR_CHAIN_SEEDS_MAX);
	memcpy(x->s[x->n].emitter, emitter, len);
	x->s[x->n].len = (uint8_t)len;
	x->s[x->n].sequence = last;
	x->n++;
	return 0;
}

static int agree_seeds(struct chain *c, uint64_t height, const uint8_t hash[32],
		       uint32_t agree, struct xr_chain_state *s, char *why, size_t cap)
{
	struct seeds_ctx got[MAX_ENDPOINTS];
	size_t n = 0, best_n = 0, best = 0;

	for (size_t i = 0; i < c->nep; i++) {
		struct xr_err err = {0};
		if (!(agree & (1u << i)) || !c->ep[i].ch)
			continue;
		memset(&got[i], 0, sizeof(got[i]));
		if (c->ad->emitters(c->ep[i].ch, height, hash, collect_seed, &got[i], &err) < 0) {
			xr_err_prefix(&err, "%s sequence at block %llu", c->ep[i].origin,
				      (unsigned long long)height);
			set_ep_problem(&c->ep[i], err.msg);
			agree &= ~(1u << i);
			continue;
		}
		n++;
	}
	for (size_t i = 0; i < c->nep; i++) {
		size_t same = 0;
		if (!(agree & (1u << i)))
			continue;
		for (size_t j = 0; j < c->nep; j++)
			if ((agree & (1u << j)) && got[j].n == got[i].n &&
			    memcmp(got[j].s, got[i].s, got[i].n * sizeof(got[i].s[0])) == 0)
				same++;
		if (same > best_n) {
			best_n = same;
			best = i;
		}
	}
	if (best_n < c->quorum) {
		snprintf(why, cap,
			 "%zu of %zu endpoints agree on the emitters' sequences at block %llu, "
			 "%zu needed",
			 best_n, n, (unsigned long long)height, c->quorum);
		endpoint_problems(c, why, cap);
		return XR_ESTATE;
	}
	s->nseeds = got[best].n;
	memcpy(s->seeds, got[best].s, got[best].n * sizeof(got[best].s[0]));
	return 0;
}

/* A chain without a cursor starts at start_height N: it stores the hash of
 * block N-1 that k endpoints agree on and the emitters' sequences then. */
static int start_chain(struct chain *c, char *why, size_t cap, struct xr_err *err)
{
	uint64_t h = c->start_height ? c->start_height - 1 : 0;
	struct xr_chain_state s = c->st;
	uint32_t agree;
	int rc;

	if ((rc = agree_hash(c, h, s.hash, &agree, why, cap)) < 0)
		return rc;
	s.height = h;
	s.nseeds = 0;
	if (XR_ADAPTER_HAS(c->ad, emitters) && h > 0 &&
	    (rc = agree_seeds(c, h, s.hash, agree, &s, why, cap)) < 0)
		return rc;
	xr_buf_reset(&c->stbuf);
	xr_chain_state_encode(&s, &c->stbuf);
	xr_ledger_batch_clear(c->b);
	if ((rc = xr_ledger_batch_cursor(c->b, c->name, c->stbuf.data, c->stbuf.len, err)) < 0)
		return rc;
	pthread_mutex_lock(&c->relay->commit_mu);
	rc = xr_ledger_append(c->relay->node.ledger, c->b, NULL, err);
	pthread_mutex_unlock(&c->relay->commit_mu);
	xr_ledger_batch_clear(c->b);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&c->mu);
	c->st = s;
	pthread_mutex_unlock(&c->mu);
	char hex[65];
	xr_hex_encode(s.hash, 32, hex);
	logf_("info", "%s: starting after block %llu (0x%s)%s", c->label, (unsigned long long)h,
	      hex, s.nseeds ? ", emitter sequences read there" : "");
	return 0;
}

/* Picks the endpoint to scan with: the primary if it agreed, else the next
 * that did. */
static struct endpoint *pick(struct chain *c, uint32_t agree)
{
	for (size_t k = 0; k < c->nep; k++) {
		size_t i = (c->primary + k) % c->nep;
		if ((agree & (1u << i)) && c->ep[i].ch) {
			c->primary = i;
			return &c->ep[i];
		}
	}
	return NULL;
}

static void reset_step(struct chain *c)
{
	xr_ledger_batch_clear(c->b);
	free(c->es);
	c->es = NULL;
	c->nes = 0;
	c->fresh = c->pending_bytes = c->pending_events = 0;
}

/* Scans (cursor, to] and commits it. Returns 0, or < 0 with err (and why)
 * set for a transient problem (retried), or XR_ECONFLICT after halting. */
static int step(struct chain *c, uint64_t to, char *why, size_t cap, struct xr_err *err)
{
	struct xr_span span = {.from = c->st.height + 1, .to = to};
	uint32_t agree;
	char detail[600];
	int rc;

	reset_step(c);
	if ((rc = agree_hash(c, to, span.to_hash, &agree, why, cap)) < 0)
		return xr_err_set(err, rc, "%s", why);
	/* A block k endpoints agreed was final must keep its hash. */
	if (c->agreed_height == to && c->agreed_height > c->st.height &&
	    memcmp(span.to_hash, c->agreed_hash, 32) != 0) {
		char a[65], b[65];
		xr_hex_encode(c->agreed_hash, 32, a);
		xr_hex_encode(span.to_hash, 32, b);
		snprintf(detail, sizeof(detail), "block %llu was agreed final as 0x%s and is now 0x%s",
			 (unsigned long long)to, a, b);
		return halt(c, "reorg below final height", detail);
	}
	if (c->agreed_height > c->st.height && c->agreed_height < to) {
		uint8_t h[32];
		uint32_t a2;
		if ((rc = agree_hash(c, c->agreed_height, h, &a2, why, cap)) < 0)
			return xr_err_set(err, rc, "%s", why);
		if (memcmp(h, c->agreed_hash, 32) != 0) {
			char a[65], b[65];
			xr_hex_encode(c->agreed_hash, 32, a);
			xr_hex_encode(h, 32, b);
			snprintf(detail, sizeof(detail),
				 "block %llu was agreed final as 0x%s and is now 0x%s",
				 (unsigned long long)c->agreed_height, a, b);
			return halt(c, "reorg below final height", detail);
		}
	}
	if (to >= c->agreed_height) {
		c->agreed_height = to;
		memcpy(c->agreed_hash, span.to_hash, 32);
	}
	memcpy(span.parent_hash, c->st.hash, 32);
	struct endpoint *e = pick(c, agree);
	if (!e)
		return xr_err_set(err, XR_ESTATE, "no agreeing endpoint is open");
	c->scanning = e;
	c->span_from = span.from;
	c->span_to = span.to;
	if (c->linked) {
		rc = c->ad->scan_linked(e->ch, &span, on_event, on_mark, c, err);
	} else {
		/* A plug-in of ABI 1.0 (quorum 1 only): its own reorg check. */
		uint8_t h[32];
		rc = 0;
		if (c->st.height > 0 && (rc = c->ad->block_hash(e->ch, c->st.height, h, err)) == 0 &&
		    memcmp(h, c->st.hash, 32) != 0)
			rc = xr_err_set(err, XR_ECONFLICT, "block %llu changed",
					(unsigned long long)c->st.height);
		if (rc == 0)
			rc = c->ad->scan(e->ch, span.from, span.to, on_event, c, err);
		if (rc == 0)
			rc = commit(c, span.to, span.to_hash, err);
	}
	/* An adapter that did not mark the end still has its span committed. */
	if (rc == 0 && c->linked && c->st.height != span.to)
		rc = commit(c, span.to, span.to_hash, err);
	c->scanning = NULL;
	if (c->st.halted)
		return XR_ECONFLICT;
	if (rc == XR_ECONFLICT) {
		/* The scanned chain does not reach back to our cursor. Ask the
		 * quorum whether the committed block really changed. */
		uint8_t h[32];
		uint32_t a2;
		xr_err_clear(err);
		if ((rc = agree_hash(c, c->st.height, h, &a2, why, cap)) < 0)
			return xr_err_set(err, rc, "%s", why);
		if (memcmp(h, c->st.hash, 32) == 0) {
			c->primary = (c->primary + 1) % c->nep;
			snprintf(why, cap, "%s: its blocks do not link to the cursor", e->origin);
			return xr_err_set(err, XR_ESTATE, "%s", why);
		}
		char a[65], b[65];
		xr_hex_encode(c->st.hash, 32, a);
		xr_hex_encode(h, 32, b);
		snprintf(detail, sizeof(detail), "block %llu was 0x%s when committed and is now 0x%s",
			 (unsigned long long)c->st.height, a, b);
		return halt(c, "reorg below final height", detail);
	}
	if (rc < 0) {
		snprintf(why, cap, "%s", err->msg);
		if (rc != XR_ENOMEM) {
			set_ep_problem(e, err->msg);
			c->primary = (c->primary + 1) % c->nep; /* fail over */
		}
		return rc;
	}
	return 0;
}

static void *watch(void *arg)
{
	struct chain *c = arg;
	struct xr_relay *r = c->relay;
	unsigned backoff = r->poll_ms;
	size_t failed_in_row = 0;
	char why[600];

	xr_json_budget_set(JSON_BUDGET);
	while (!atomic_load(&r->stop)) {
		struct xr_err err = {0};
		struct xr_head h;
		why[0] = '\0';
		if (c->st.halted) {
			nap(r, 1000);
			continue;
		}
		size_t open = open_endpoints(c);
		if (open < c->quorum) {
			snprintf(why, sizeof(why), "opening: %zu of %zu endpoints open, %zu needed",
				 open, c->nep, c->quorum);
			endpoint_problems(c, why, sizeof(why));
			goto wait;
		}
		if (agree_head(c, &h, why, sizeof(why)) < 0)
			goto wait;
		pthread_mutex_lock(&c->mu);
		c->head = h.latest;
		c->final = h.final;
		pthread_mutex_unlock(&c->mu);
		if (all_zero(c->st.hash, 32)) {
			if (h.final + 1 < c->start_height) {
				snprintf(why, sizeof(why),
					 "final height %llu is below the start height %llu - 1",
					 (unsigned long long)h.final,
					 (unsigned long long)c->start_height);
				set_status(c, CHAIN_WAITING, why);
				nap(r, r->poll_ms);
				continue;
			}
			if (start_chain(c, why, sizeof(why), &err) < 0) {
				if (!why[0])
					snprintf(why, sizeof(why), "%s", err.msg);
				goto wait;
			}
		}
		if (h.final < c->st.height) {
			snprintf(why, sizeof(why),
				 "endpoints report final height %llu, below the committed %llu",
				 (unsigned long long)h.final, (unsigned long long)c->st.height);
			goto wait;
		}
		uint64_t to = h.final - c->st.height > r->range ? c->st.height + r->range : h.final;
		if (to == c->st.height) {
			set_status(c, CHAIN_RUNNING, NULL);
			backoff = r->poll_ms;
			nap(r, r->poll_ms);
			continue;
		}
		int rc = step(c, to, why, sizeof(why), &err);
		reset_step(c);
		if (rc == XR_ECONFLICT && c->st.halted)
			continue;
		if (rc < 0) {
			if (!why[0])
				snprintf(why, sizeof(why), "%s", err.msg);
			logf_("warn", "%s: scanning %llu..%llu: %s", c->label,
			      (unsigned long long)c->st.height + 1, (unsigned long long)to, why);
			/* The next endpoint is tried at once; the back-off starts
			 * when every endpoint has failed in a row. */
			if (++failed_in_row < c->nep) {
				set_status(c, CHAIN_WAITING, why);
				continue;
			}
			goto wait;
		}
		failed_in_row = 0;
		backoff = r->poll_ms;
		set_status(c, CHAIN_RUNNING, NULL);
		continue;
	wait:
		failed_in_row = 0;
		set_status(c, CHAIN_WAITING, why);
		logf_("warn", "%s: waiting: %s", c->label, why);
		nap(r, backoff);
		backoff = backoff < 30000 ? backoff * 2 : 30000;
	}
	xr_json_budget_set(0);
	return NULL;
}

/* ---- open / run / close ----------------------------------------------- */

/* scheme://host:port of a URL (xr_rpc_new has checked it), for messages:
 * no user info, path or query, which may hold keys. */
static void url_origin(const char *url, char *out, size_t cap)
{
	const char *p = strstr(url, "://");
	const char *host = p ? p + 3 : url;
	size_t n = strcspn(host, "/?#");
	const char *at = memchr(host, '@', n);
	if (at) {
		n -= (size_t)(at + 1 - host);
		host = at + 1;
	}
	snprintf(out, cap, "%.*s%.*s", p ? (int)(host - url - (at ? 0 : 0)) : 0, url, (int)n, host);
	if (p)
		snprintf(out, cap, "%.*s://%.*s", (int)(p - url), url, (int)n, host);
}

static const char *const chain_keys[] = {"framework", "plugin", "rpc", "quorum",
					 "rpc_timeout_ms", "params"};

static int open_chain(struct xr_relay *r, size_t i, const json_t *cfg, struct xr_err *err)
{
	struct chain *c = &r->chains[i];
	const char *fw = json_string_value(json_object_get(cfg, "framework"));
	const char *plugin = json_string_value(json_object_get(cfg, "plugin"));
	json_t *params = json_object_get(cfg, "params");
	const char *name = json_string_value(json_object_get(params, "chain"));
	int rc;

	c->relay = r;
	pthread_mutex_init(&c->mu, NULL);
	xr_buf_init(&c->body, XR_RECORD_BODY_MAX);
	xr_buf_init(&c->rec, XR_RECORD_MAX_LEN);
	xr_buf_init(&c->stbuf, 4096);
	if (!(c->b = xr_ledger_batch_new()))
		return xr_err_set(err, XR_ENOMEM, "out of memory");
	const char *key;
	json_t *v;
	if (!json_is_object(cfg))
		return xr_err_set(err, XR_EINVAL, "chains[%zu] must be an object", i);
	json_object_foreach((json_t *)cfg, key, v)
	{
		size_t k = 0;
		while (k < sizeof(chain_keys) / sizeof(chain_keys[0]) && strcmp(key, chain_keys[k]))
			k++;
		if (k == sizeof(chain_keys) / sizeof(chain_keys[0])) {
			char show[4 * 40 + 4];
			return xr_err_set(err, XR_EINVAL,
					  "chains[%zu]: unknown key \"%s\" (expected framework, "
					  "plugin, rpc, quorum, rpc_timeout_ms, params)",
					  i, xr_show(key, strlen(key), 40, show));
		}
	}
	if (!fw || !json_is_object(params) || !name)
		return xr_err_set(err, XR_EINVAL,
				  "chains[%zu] needs \"framework\" and \"params\" with \"chain\"",
				  i);
	if ((rc = xr_caip2_check(name, err)) < 0) {
		xr_err_prefix(err, "chains[%zu]", i);
		return rc;
	}
	for (size_t k = 0; k < i; k++)
		if (strcmp(r->chains[k].name, name) == 0)
			return xr_err_set(err, XR_EINVAL, "chains[%zu]: %s is configured twice", i,
					  name);
	memcpy(c->name, name, strlen(name) + 1);
	snprintf(c->label, sizeof(c->label), "chain %s", name);
	if (plugin) {
		char path[4200];
		if ((rc = xr_node_resolve(&r->node, plugin, path, sizeof(path), err)) < 0 ||
		    (rc = xr_adapter_load(path, &c->plugin, &c->ad, err)) < 0)
			return rc;
	} else if (strcmp(fw, "evm") == 0) {
		c->ad = xr_evm_adapter();
		if ((rc = xr_adapter_check(c->ad, "evm (built in)", err)) < 0)
			return rc;
	} else {
		return xr_err_set(err, XR_EINVAL,
				  "chains[%zu]: no built-in adapter for framework '%s'; give a "
				  "\"plugin\"",
				  i, fw);
	}
	if (strcmp(c->ad->framework, fw) != 0)
		return xr_err_set(err, XR_EINVAL,
				  "chains[%zu]: the adapter is for '%s', the config says '%s'", i,
				  c->ad->framework, fw);
	if (!(c->ad->caps & XR_CAP_SCAN))
		return xr_adapter_unsupported(c->ad, "watching a chain", err);
	c->linked = XR_ADAPTER_HAS(c->ad, scan_linked);

	/* Endpoints and the quorum. */
	json_t *urls = json_object_get(cfg, "rpc");
	json_t *q = json_object_get(cfg, "quorum"), *to = json_object_get(cfg, "rpc_timeout_ms");
	long timeout_ms = 0;
	if (to && (!json_is_integer(to) || json_integer_value(to) < 100 ||
		   json_integer_value(to) > 600000))
		return xr_err_set(err, XR_EINVAL,
				  "chains[%zu]: \"rpc_timeout_ms\" must be an integer 100..600000",
				  i);
	if (to)
		timeout_ms = (long)json_integer_value(to);
	if (urls) {
		size_t nu = json_array_size(urls);
		if (!json_is_array(urls) || nu == 0 || nu > MAX_ENDPOINTS)
			return xr_err_set(err, XR_EINVAL,
					  "chains[%zu]: \"rpc\" must list 1..%d URLs", i,
					  MAX_ENDPOINTS);
		for (size_t k = 0; k < nu; k++) {
			const char *u = json_string_value(json_array_get(urls, k));
			if (!u)
				return xr_err_set(err, XR_EINVAL,
						  "chains[%zu]: \"rpc\" must list URL strings", i);
			for (size_t j = 0; j < k; j++)
				if (strcmp(u, json_string_value(json_array_get(urls, j))) == 0)
					return xr_err_set(err, XR_EINVAL,
							  "chains[%zu]: \"rpc\" lists %s twice", i,
							  u);
			struct xr_rpc_opts ro = {
			    .urls = &u, .nurls = 1, .timeout_ms = timeout_ms, .retries = 2};
			struct endpoint *e = &c->ep[k];
			if ((rc = xr_rpc_new(&ro, &e->rpc, err)) < 0) {
				xr_err_prefix(err, "chains[%zu]", i);
				return rc;
			}
			url_origin(u, e->origin, sizeof(e->origin));
			c->nep++;
		}
	} else {
		c->nep = 1;
		snprintf(c->ep[0].origin, sizeof(c->ep[0].origin), "%s", "(no endpoints)");
	}
	c->quorum = c->nep / 2 + 1; /* a majority unless told otherwise */
	if (q) {
		if (!json_is_integer(q) || json_integer_value(q) < 1 ||
		    (size_t)json_integer_value(q) > c->nep)
			return xr_err_set(err, XR_EINVAL,
					  "chains[%zu]: \"quorum\" must be an integer 1..%zu (the "
					  "number of endpoints)",
					  i, c->nep);
		c->quorum = (size_t)json_integer_value(q);
	}
	if (c->quorum > 1 && !c->linked)
		return xr_err_set(err, XR_EINVAL,
				  "chains[%zu]: a quorum of %zu needs linked scans (adapter ABI "
				  "1.1), not supported by %s",
				  i, c->quorum, c->ad->framework);
	json_t *sh = json_object_get(params, "start_height");
	c->start_height = json_is_integer(sh) && json_integer_value(sh) > 0
			      ? (uint64_t)json_integer_value(sh)
			      : 0;
	if (!(c->params = json_dumps(params, JSON_COMPACT)))
		return xr_err_set(err, XR_ENOMEM, "out of memory");
	for (size_t k = 0; k < c->nep; k++) {
		c->ep[k].c = c;
		c->ep[k].idx = k;
	}

	/* The parameters are checked now, with no endpoint contacted: a dry
	 * open fails at the adapter's first call (XR_ESTATE) once its
	 * parameters passed; any other failure is the config's. */
	void *dry = NULL;
	endpoint_host(&c->ep[0], true);
	rc = c->ad->open(&c->ep[0].host, c->params, &dry, err);
	if (rc == 0)
		c->ad->close(dry);
	else if (rc == XR_ESTATE)
		xr_err_clear(err), rc = 0;
	if (rc < 0) {
		xr_err_prefix(err, "%s", c->label);
		return rc;
	}
	for (size_t k = 0; k < c->nep; k++)
		endpoint_host(&c->ep[k], false);

	/* Where this chain stands on the ledger. */
	struct xr_buf st;
	xr_buf_init(&st, 4096);
	rc = xr_ledger_cursor(r->node.ledger, name, &st, err);
	if (rc == 0) {
		rc = xr_chain_state_decode(st.data, st.len, &c->st, err);
	} else if (rc == XR_ENOTFOUND) {
		xr_err_clear(err);
		c->st.height = c->start_height ? c->start_height - 1 : 0;
		rc = 0;
	}
	xr_buf_fini(&st);
	c->status = c->st.halted ? CHAIN_HALTED : CHAIN_STARTING;
	return rc;
}

int xr_relay_open(const char *dir, struct xr_relay **ret, struct xr_err *err)
{
	struct xr_relay *r = calloc(1, sizeof(*r));
	int rc;
	if (!r)
		return xr_err_set(err, XR_ENOMEM, "out of memory");
	pthread_mutex_init(&r->commit_mu, NULL);
	pthread_mutex_init(&r->stop_mu, NULL);
	pthread_cond_init(&r->stop_cv, NULL);
	if ((rc = xr_node_open(&r->node, dir, true, err)) < 0) {
		free(r);
		return rc;
	}
	json_t *chains = json_object_get(r->node.config, "chains");
	json_int_t range = json_integer_value(json_object_get(r->node.config, "scan_range"));
	json_int_t poll = json_integer_value(json_object_get(r->node.config, "poll_ms"));
	r->range = range > 0 ? (uint64_t)range : 1000;
	r->poll_ms = poll > 0 ? (unsigned)poll : 1000;
	r->nchains = json_array_size(chains);
	r->chains = calloc(r->nchains ? r->nchains : 1, sizeof(*r->chains));
	if (!r->chains) {
		rc = xr_err_set(err, XR_ENOMEM, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < r->nchains; i++)
		if ((rc = open_chain(r, i, json_array_get(chains, i), err)) < 0)
			goto fail;
	*ret = r;
	return 0;
fail:
	xr_relay_free(r);
	return rc;
}

int xr_relay_start(struct xr_relay *r, struct xr_err *err)
{
	for (size_t i = 0; i < r->nchains; i++) {
		struct chain *c = &r->chains[i];
		if (pthread_create(&c->th, NULL, watch, c) != 0)
			return xr_err_set(err, XR_EIO, "cannot start the watcher of %s", c->name);
		c->started = true;
		logf_("info", "%s: watching from height %llu with %zu of %zu endpoints%s", c->label,
		      (unsigned long long)c->st.height + 1, c->quorum, c->nep,
		      c->st.halted ? " (halted)" : "");
	}
	return 0;
}

void xr_relay_stop(struct xr_relay *r)
{
	pthread_mutex_lock(&r->stop_mu);
	atomic_store(&r->stop, true);
	pthread_cond_broadcast(&r->stop_cv);
	pthread_mutex_unlock(&r->stop_mu);
}

static json_t *endpoints_json(struct chain *c)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < c->nep && arr; i++) {
		struct endpoint *e = &c->ep[i];
		json_t *o = json_pack(
		    "{s:s, s:s, s:I, s:s?, s:s?}", "url", e->origin, "state",
		    !e->ch		? "closed"
		    : !e->asked		? "open"
		    : e->head_ok	? "ok"
					: "failing",
		    "failures", (json_int_t)e->failures, "problem", e->problem[0] ? e->problem : NULL,
		    "last_problem", e->last_problem[0] ? e->last_problem : NULL);
		if (o && e->ch && e->head_ok) {
			json_object_set_new(o, "final", json_integer((json_int_t)e->final));
			json_object_set_new(o, "latest", json_integer((json_int_t)e->latest));
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

int xr_relay_tick(struct xr_relay *r, struct xr_err *err)
{
	static const char *const names[] = {"starting", "running", "waiting", "halted"};
	json_t *arr = json_array();
	for (size_t i = 0; i < r->nchains; i++) {
		struct chain *c = &r->chains[i];
		pthread_mutex_lock(&c->mu);
		const char *reason = c->status == CHAIN_HALTED ? c->st.reason : c->problem;
		json_t *o = json_pack(
		    "{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s, s:s?, s:I, s:I, s:I}", "chain",
		    c->name, "framework", c->ad ? c->ad->framework : "", "head",
		    (json_int_t)c->head, "final", (json_int_t)c->final, "cursor",
		    (json_int_t)c->st.height, "lag",
		    (json_int_t)(c->head > c->st.height ? c->head - c->st.height : 0), "committed",
		    (json_int_t)c->committed, "state",
		    c->status == CHAIN_HALTED ? "halted" : names[c->status], "reason",
		    *reason ? reason : NULL, "quorum", (json_int_t)c->quorum, "disagreements",
		    (json_int_t)c->disagreements, "hidden_event_alerts", (json_int_t)c->hidden);
		if (o)
			json_object_set_new(o, "endpoints", endpoints_json(c));
		pthread_mutex_unlock(&c->mu);
		json_array_append_new(arr, o);
	}
	json_t *o = json_pack("{s:I, s:i, s:o}", "updated_ms", (json_int_t)now_ms(), "pid",
			      (int)getpid(), "chains", arr);
	char path[4200], tmp[4300];
	snprintf(path, sizeof(path), "%s/status.json", r->node.dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int rc = o && json_dump_file(o, tmp, JSON_COMPACT | JSON_PRESERVE_ORDER) == 0 &&
			 rename(tmp, path) == 0
		     ? 0
		     : xr_err_set(err, XR_EIO, "cannot write %s", path);
	json_decref(o);
	/* Cut a checkpoint when the interval has passed, even without appends. */
	pthread_mutex_lock(&r->commit_mu);
	int crc = xr_ledger_checkpoint_due(r->node.ledger, err);
	pthread_mutex_unlock(&r->commit_mu);
	return rc < 0 ? rc : crc;
}

void xr_relay_free(struct xr_relay *r)
{
	if (!r)
		return;
	xr_relay_stop(r);
	for (size_t i = 0; i < r->nchains; i++) {
		struct chain *c = &r->chains[i];
		if (c->started)
			pthread_join(c->th, NULL);
	}
	if (r->node.ledger) {
		struct xr_err err = {0};
		if (xr_ledger_checkpoint(r->node.ledger, &err) < 0)
			logf_("error", "final checkpoint: %s", err.msg);
		struct xr_err e2 = {0};
		xr_relay_tick(r, &e2);
	}
	for (size_t i = 0; i < r->nchains; i++) {
		struct chain *c = &r->chains[i];
		for (size_t k = 0; k < c->nep; k++) {
			if (c->ad && c->ep[k].ch)
				c->ad->close(c->ep[k].ch);
			xr_rpc_free(c->ep[k].rpc);
		}
		xr_adapter_unload(c->plugin);
		free(c->params);
		free(c->es);
		xr_ledger_batch_free(c->b);
		xr_buf_fini(&c->body);
		xr_buf_fini(&c->rec);
		xr_buf_fini(&c->stbuf);
		pthread_mutex_destroy(&c->mu);
	}
	free(r->chains);
	xr_node_close(&r->node);
	pthread_mutex_destroy(&r->commit_mu);
	pthread_mutex_destroy(&r->stop_mu);
	pthread_cond_destroy(&r->stop_cv);
	free(r);
}
