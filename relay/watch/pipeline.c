/* pipeline.c - watchers, dedup, gap and equivocation checks, commits. */
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
#include "loader.h"
#include "rpc.h"
#include "record.h"

#define STATE_MIN (8 + 32 + 1)
#define MAX_OBS_BYTES (256u << 20)

enum chain_status { CHAIN_STARTING, CHAIN_RUNNING, CHAIN_WAITING, CHAIN_HALTED };

struct obs_list {
	struct xr_buf data;
	size_t *env_off, *env_len, *ev_off, *ev_len;
	size_t n, cap;
};

struct chain {
	struct xr_relay *relay;
	char name[XR_ENV_CHAIN_MAX + 1];
	char label[64]; /* for logs: "chain[0] eip155:1" */
	void *plugin;	/* dlopen handle, NULL for built-ins */
	const struct xr_adapter *ad;
	void *ch;
	struct xr_rpc *rpc; /* the chain's endpoints, when it has any */
	struct xr_host host;
	pthread_t th;
	bool started;

	pthread_mutex_t mu; /* guards the status below */
	enum chain_status status;
	uint64_t head, final, committed;
	struct xr_chain_state st;
	char problem[400]; /* why it is waiting (node down, ...) */
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

/* ---- chain state ------------------------------------------------------- */

void xr_chain_state_encode(const struct xr_chain_state *s, struct xr_buf *out)
{
	xr_buf_u64(out, s->height);
	xr_buf_put(out, s->hash, 32);
	xr_buf_u8(out, s->halted);
	xr_buf_put(out, s->reason, strlen(s->reason));
}

int xr_chain_state_decode(const uint8_t *p,
			  size_t n,
			  struct xr_chain_state *ret,
			  struct xr_err *err)
{
	if (n < STATE_MIN || n - STATE_MIN >= sizeof(ret->reason) || p[40] > 1)
		return xr_err_set(err, XR_EIO, "stored chain state of %zu bytes is corrupt", n);
	memset(ret, 0, sizeof(*ret));
	ret->height = xr_get_be64(p);
	memcpy(ret->hash, p + 8, 32);
	ret->halted = p[40];
	memcpy(ret->reason, p + STATE_MIN, n - STATE_MIN);
	return 0;
}

/* ---- host services for adapters --------------------------------------- */

static int host_rpc_none(void *ctx,
			 const char *method,
			 const char *params_json,
			 char **ret_result,
			 size_t *ret_len,
			 struct xr_err *err)
{
	(void)params_json;
	(void)ret_result;
	(void)ret_len;
	return xr_err_set(err, XR_ESTATE, "%s: chain has no \"rpc\" endpoints configured for %s",
			  ((struct chain *)ctx)->label, method);
}

static int host_rpc_batch_none(void *ctx,
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
	return host_rpc_none(ctx, methods[0], NULL, NULL, NULL, err);
}

static void host_free_result(void *ctx, char *result)
{
	(void)ctx;
	free(result);
}

static void host_log(void *ctx, enum xr_log_level level, const char *msg)
{
	static const char *const names[] = {"error", "warn", "info", "debug"};
	logf_(names[level <= XR_LOG_DEBUG ? level : XR_LOG_DEBUG], "%s: %s",
	      ((struct chain *)ctx)->label, msg);
}

static uint64_t host_now_ms(void *ctx)
{
	(void)ctx;
	return now_ms();
}

/* ---- status ------------------------------------------------------------ */

static void set_status(struct chain *c, enum chain_status s, const char *problem)
{
	pthread_mutex_lock(&c->mu);
	c->status = s;
	snprintf(c->problem, sizeof(c->problem), "%s", problem ? problem : "");
	pthread_mutex_unlock(&c->mu);
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

/* ---- one step of a watcher -------------------------------------------- */

static int collect(void *ctx, const struct xr_observation *o, struct xr_err *err)
{
	struct obs_list *l = ctx;
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 256;
		size_t *a = realloc(l->env_off, nc * 4 * sizeof(size_t));
		if (!a)
			return xr_err_set(err, XR_ENOMEM, "out of memory collecting events");
		l->env_off = a;
		/* One allocation holds the four arrays; move the old ones apart. */
		memmove(a + 3 * nc, a + 3 * l->cap, l->n * sizeof(size_t));
		memmove(a + 2 * nc, a + 2 * l->cap, l->n * sizeof(size_t));
		memmove(a + nc, a + l->cap, l->n * sizeof(size_t));
		l->env_len = a + nc;
		l->ev_off = a + 2 * nc;
		l->ev_len = a + 3 * nc;
		l->cap = nc;
	}
	l->env_off[l->n] = l->data.len;
	l->env_len[l->n] = o->envelope_len;
	xr_buf_put(&l->data, o->envelope, o->envelope_len);
	l->ev_off[l->n] = l->data.len;
	l->ev_len[l->n] = o->evidence_len;
	xr_buf_put(&l->data, o->evidence, o->evidence_len);
	if (l->data.failed)
		return xr_err_set(err, XR_ENOMEM, "events of one scan exceed %u bytes",
				  MAX_OBS_BYTES);
	l->n++;
	return 0;
}

/* Halts the chain: an ALERT record and the halted state in one batch. */
static int halt(struct chain *c, const char *kind, const char *detail)
{
	struct xr_relay *r = c->relay;
	struct xr_err err = {0};
	struct xr_buf body, rec, st;
	struct xr_ledger_batch *b = xr_ledger_batch_new();
	int rc;

	logf_("error", "%s: halted: %s: %s", c->label, kind, detail);
	json_t *j = json_pack("{s:s, s:s, s:s}", "chain", c->name, "kind", kind, "detail", detail);
	char *text = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	xr_buf_init(&body, XR_RECORD_BODY_MAX);
	xr_buf_init(&rec, XR_RECORD_MAX_LEN);
	xr_buf_init(&st, 1024);
	struct xr_chain_state s = c->st;
	s.halted = true;
	snprintf(s.reason, sizeof(s.reason), "%s: %s", kind, detail);
	struct xr_record a = {.type = XR_REC_ALERT, .time_ms = now_ms()};
	memcpy(a.author, r->node.name, sizeof(r->node.name));
	xr_buf_put(&body, text ? text : "{}", text ? strlen(text) : 2);
	a.body = body.data;
	a.body_len = (uint32_t)body.len;
	xr_chain_state_encode(&s, &st);
	pthread_mutex_lock(&r->commit_mu);
	if (!b || (rc = xr_record_encode(&a, NULL, &rec, &err)) < 0 ||
	    (rc = xr_ledger_batch_add(b, rec.data, rec.len, NULL, 0, &err)) < 0 ||
	    (rc = xr_ledger_batch_cursor(b, c->name, st.data, st.len, &err)) < 0 ||
	    (rc = xr_ledger_append(r->node.ledger, b, NULL, &err)) < 0)
		logf_("error", "%s: cannot record the alert: %s", c->label, err.msg);
	pthread_mutex_unlock(&r->commit_mu);
	pthread_mutex_lock(&c->mu);
	c->st = s;
	c->status = CHAIN_HALTED;
	pthread_mutex_unlock(&c->mu);
	free(text);
	xr_buf_fini(&body);
	xr_buf_fini(&rec);
	xr_buf_fini(&st);
	xr_ledger_batch_free(b);
	return XR_ECONFLICT;
}

/* Emitters seen in one scan and the highest sequence of each so far. */
struct emitter_seq {
	uint8_t emitter[XR_ENV_EMITTER_MAX];
	uint8_t len;
	uint64_t seq;
};

static int check_sequence(struct chain *c,
			  const struct xr_envelope *e,
			  struct emitter_seq **es,
			  size_t *nes,
			  char *detail,
			  size_t cap,
			  struct xr_err *err)
{
	struct emitter_seq *x = NULL;
	for (size_t i = 0; i < *nes && !x; i++)
		if ((*es)[i].len == e->emitter_len &&
		    memcmp((*es)[i].emitter, e->emitter, e->emitter_len) == 0)
			x = &(*es)[i];
	if (!x) {
		uint64_t last;
		int rc = xr_ledger_emitter_sequence(c->relay->node.ledger, e, &last, err);
		if (rc < 0)
			return rc;
		void *p = realloc(*es, (*nes + 1) * sizeof(**es));
		if (!p)
			return xr_err_set(err, XR_ENOMEM, "out of memory");
		*es = p;
		x = &(*es)[(*nes)++];
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

/* Scans (cursor, to] and commits it. Returns 0, or < 0 with err set for a
 * transient problem (retried), or XR_ECONFLICT after halting the chain. */
static int step(struct chain *c, uint64_t to, struct xr_err *err)
{
	struct xr_relay *r = c->relay;
	struct obs_list ol = {0};
	struct emitter_seq *es = NULL;
	size_t nes = 0;
	struct xr_ledger_batch *b = xr_ledger_batch_new();
	struct xr_buf body, rec, st;
	uint64_t from = c->st.height + 1;
	char detail[400];
	int rc;

	xr_buf_init(&ol.data, MAX_OBS_BYTES);
	xr_buf_init(&body, XR_RECORD_BODY_MAX);
	xr_buf_init(&rec, XR_RECORD_MAX_LEN);
	xr_buf_init(&st, 1024);
	if (!b) {
		rc = xr_err_set(err, XR_ENOMEM, "out of memory");
		goto out;
	}
	/* A committed block that changed is a reorg below the final height. */
	if (c->st.height > 0) {
		uint8_t h[32];
		if ((rc = c->ad->block_hash(c->ch, c->st.height, h, err)) < 0)
			goto out;
		if (memcmp(h, c->st.hash, 32) != 0) {
			char a[65], o[65];
			xr_hex_encode(c->st.hash, 32, a);
			xr_hex_encode(h, 32, o);
			snprintf(detail, sizeof(detail),
				 "block %llu was 0x%s when committed and is now 0x%s",
				 (unsigned long long)c->st.height, a, o);
			rc = halt(c, "reorg below final height", detail);
			goto out;
		}
	}
	if ((rc = c->ad->scan(c->ch, from, to, collect, &ol, err)) < 0)
		goto out;
	uint64_t fresh = 0;
	for (size_t i = 0; i < ol.n; i++) {
		const uint8_t *env = ol.data.data + ol.env_off[i];
		struct xr_envelope e;
		uint8_t id[32], have[32], dig[32];
		if ((rc = xr_envelope_decode(env, ol.env_len[i], &e, err)) < 0) {
			xr_err_prefix(err, "adapter emitted a bad envelope");
			goto out;
		}
		if (strcmp(e.src_chain, c->name) != 0 || e.src_height < from || e.src_height > to) {
			rc = xr_err_set(err, XR_EINVAL,
					"adapter emitted an envelope of %s at height %llu while "
					"scanning %s %llu..%llu",
					e.src_chain, (unsigned long long)e.src_height, c->name,
					(unsigned long long)from, (unsigned long long)to);
			goto out;
		}
		xr_envelope_id(env, ol.env_len[i], id);
		rc = xr_ledger_find_source(r->node.ledger, &e, have, err);
		if (rc == 0) {
			if (memcmp(have, id, 32) == 0)
				continue; /* committed before: nothing twice */
			char a[65], o[65];
			xr_hex_encode(id, 32, a);
			xr_hex_encode(have, 32, o);
			snprintf(
			    detail, sizeof(detail),
			    "envelope 0x%s at height %llu (sequence %llu, log index %u) conflicts "
			    "with committed envelope 0x%s",
			    a, (unsigned long long)e.src_height, (unsigned long long)e.sequence,
			    e.log_index, o);
			rc = halt(c, "equivocation", detail);
			goto out;
		}
		if (rc != XR_ENOTFOUND)
			goto out;
		xr_err_clear(err);
		if ((rc = check_sequence(c, &e, &es, &nes, detail, sizeof(detail), err)) < 0)
			goto out;
		if (rc == 1) {
			rc = halt(c, "sequence gap", detail);
			goto out;
		}
		const uint8_t *ev = ol.data.data + ol.ev_off[i];
		xr_sha256(ev, ol.ev_len[i], dig);
		struct xr_record rd = {.type = XR_REC_ENVELOPE, .time_ms = now_ms()};
		memcpy(rd.author, r->node.name, sizeof(r->node.name));
		xr_buf_reset(&body);
		xr_buf_reset(&rec);
		if ((rc = xr_envelope_body_encode(env, ol.env_len[i], dig, &body, err)) < 0)
			goto out;
		rd.body = body.data;
		rd.body_len = (uint32_t)body.len;
		if ((rc = xr_record_encode(&rd, NULL, &rec, err)) < 0 ||
		    (rc = xr_ledger_batch_add(b, rec.data, rec.len, ev, ol.ev_len[i], err)) < 0)
			goto out;
		fresh++;
	}
	struct xr_chain_state s = c->st;
	s.height = to;
	if ((rc = c->ad->block_hash(c->ch, to, s.hash, err)) < 0)
		goto out;
	xr_chain_state_encode(&s, &st);
	if ((rc = xr_ledger_batch_cursor(b, c->name, st.data, st.len, err)) < 0)
		goto out;
	pthread_mutex_lock(&r->commit_mu);
	rc = xr_ledger_append(r->node.ledger, b, NULL, err);
	pthread_mutex_unlock(&r->commit_mu);
	if (rc == XR_ECONFLICT) {
		rc = halt(c, "equivocation", err->msg);
		goto out;
	}
	if (rc < 0)
		goto out;
	pthread_mutex_lock(&c->mu);
	c->st = s;
	c->committed += fresh;
	pthread_mutex_unlock(&c->mu);
out:
	xr_buf_fini(&ol.data);
	free(ol.env_off);
	free(es);
	xr_buf_fini(&body);
	xr_buf_fini(&rec);
	xr_buf_fini(&st);
	xr_ledger_batch_free(b);
	return rc;
}

static void *watch(void *arg)
{
	struct chain *c = arg;
	struct xr_relay *r = c->relay;
	unsigned backoff = r->poll_ms;

	while (!atomic_load(&r->stop)) {
		struct xr_err err = {0};
		struct xr_head h;
		if (c->st.halted) {
			nap(r, 1000);
			continue;
		}
		if (c->ad->head(c->ch, &h, &err) < 0) {
			set_status(c, CHAIN_WAITING, err.msg);
			logf_("warn", "%s: %s", c->label, err.msg);
			nap(r, backoff);
			backoff = backoff < 30000 ? backoff * 2 : 30000;
			continue;
		}
		pthread_mutex_lock(&c->mu);
		c->head = h.latest;
		c->final = h.final;
		pthread_mutex_unlock(&c->mu);
		if (h.final < c->st.height) {
			char msg[200];
			snprintf(
			    msg, sizeof(msg),
			    "node reports final height %llu, below the committed %llu: waiting",
			    (unsigned long long)h.final, (unsigned long long)c->st.height);
			set_status(c, CHAIN_WAITING, msg);
			nap(r, backoff);
			continue;
		}
		uint64_t to = h.final - c->st.height > r->range ? c->st.height + r->range : h.final;
		if (to == c->st.height) {
			set_status(c, CHAIN_RUNNING, NULL);
			backoff = r->poll_ms;
			nap(r, r->poll_ms);
			continue;
		}
		int rc = step(c, to, &err);
		if (rc == XR_ECONFLICT)
			continue; /* halted */
		if (rc < 0) {
			set_status(c, CHAIN_WAITING, err.msg);
			logf_("warn", "%s: scanning %llu..%llu: %s", c->label,
			      (unsigned long long)c->st.height + 1, (unsigned long long)to,
			      err.msg);
			nap(r, backoff);
			backoff = backoff < 30000 ? backoff * 2 : 30000;
			continue;
		}
		backoff = r->poll_ms;
		set_status(c, CHAIN_RUNNING, NULL);
	}
	return NULL;
}

/* ---- open / run / close ----------------------------------------------- */

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
	const char *key;
	json_t *v;
	if (!json_is_object(cfg))
		return xr_err_set(err, XR_EINVAL, "chains[%zu] must be an object", i);
	json_object_foreach((json_t *)cfg, key, v)
	{
		if (strcmp(key, "framework") && strcmp(key, "plugin") && strcmp(key, "rpc") &&
		    strcmp(key, "params"))
			return xr_err_set(err, XR_EINVAL,
					  "chains[%zu]: unknown key \"%s\" (expected framework, "
					  "plugin, rpc, params)",
					  i, key);
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
	json_t *urls = json_object_get(cfg, "rpc");
	if (urls) {
		const char *u[16];
		size_t nu = json_array_size(urls);
		if (!json_is_array(urls) || nu == 0 || nu > 16)
			return xr_err_set(err, XR_EINVAL,
					  "chains[%zu]: \"rpc\" must list 1..16 URLs", i);
		for (size_t k = 0; k < nu; k++)
			if (!(u[k] = json_string_value(json_array_get(urls, k))))
				return xr_err_set(err, XR_EINVAL,
						  "chains[%zu]: \"rpc\" must list URL strings", i);
		struct xr_rpc_opts ro = {.urls = u, .nurls = nu};
		if ((rc = xr_rpc_new(&ro, &c->rpc, err)) < 0) {
			xr_err_prefix(err, "chains[%zu]", i);
			return rc;
		}
		xr_rpc_host(c->rpc, host_log, c, &c->host);
	} else
		c->host = (struct xr_host){
		    .abi_major = XR_HOST_ABI_MAJOR,
		    .abi_minor = XR_HOST_ABI_MINOR,
		    .size = sizeof(struct xr_host),
		    .ctx = c,
		    .rpc = host_rpc_none,
		    .rpc_batch = host_rpc_batch_none,
		    .free_result = host_free_result,
		    .log = host_log,
		    .now_ms = host_now_ms,
		};
	char *pj = json_dumps(params, JSON_COMPACT);
	if (!pj)
		return xr_err_set(err, XR_ENOMEM, "out of memory");
	rc = c->ad->open(&c->host, pj, &c->ch, err);
	free(pj);
	if (rc < 0) {
		xr_err_prefix(err, "%s", c->label);
		return rc;
	}
	/* Where this chain stands on the ledger. */
	struct xr_buf st;
	xr_buf_init(&st, 1024);
	rc = xr_ledger_cursor(r->node.ledger, name, &st, err);
	if (rc == 0) {
		rc = xr_chain_state_decode(st.data, st.len, &c->st, err);
	} else if (rc == XR_ENOTFOUND) {
		xr_err_clear(err);
		json_int_t sh = json_integer_value(json_object_get(params, "start_height"));
		c->st.height = sh > 0 ? (uint64_t)sh - 1 : 0;
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
		logf_("info", "%s: watching from height %llu%s", c->label,
		      (unsigned long long)c->st.height + 1, c->st.halted ? " (halted)" : "");
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

int xr_relay_tick(struct xr_relay *r, struct xr_err *err)
{
	static const char *const names[] = {"starting", "running", "waiting", "halted"};
	json_t *arr = json_array();
	for (size_t i = 0; i < r->nchains; i++) {
		struct chain *c = &r->chains[i];
		pthread_mutex_lock(&c->mu);
		const char *reason = c->status == CHAIN_HALTED ? c->st.reason : c->problem;
		json_array_append_new(
		    arr,
		    json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:s, s:s?}", "chain", c->name,
			      "framework", c->ad ? c->ad->framework : "", "head",
			      (json_int_t)c->head, "final", (json_int_t)c->final, "cursor",
			      (json_int_t)c->st.height, "lag",
			      (json_int_t)(c->head > c->st.height ? c->head - c->st.height : 0),
			      "committed", (json_int_t)c->committed, "state",
			      c->status == CHAIN_HALTED ? "halted" : names[c->status], "reason",
			      *reason ? reason : NULL));
		pthread_mutex_unlock(&c->mu);
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
		if (c->ad && c->ch)
			c->ad->close(c->ch);
		xr_rpc_free(c->rpc);
		xr_adapter_unload(c->plugin);
		pthread_mutex_destroy(&c->mu);
	}
	free(r->chains);
	xr_node_close(&r->node);
	pthread_mutex_destroy(&r->commit_mu);
	pthread_mutex_destroy(&r->stop_mu);
	pthread_cond_destroy(&r->stop_cv);
	free(r);
}
