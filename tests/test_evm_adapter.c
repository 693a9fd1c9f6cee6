/* test_evm_adapter.c - adapters/evm/adapter.c against a real anvil: the
 * Bridge (from the build's bridge_artifact.h) is deployed by dev account 0,
 * transfers and messages are sent (several in one block, with a reverted
 * call and a plain payment beside them), and a scan through relay/rpc.c must
 * emit every event in order with every envelope field right and evidence
 * that verifies and round-trips as JSON. A host that tampers with what the
 * node says (receipts, headers, logs) makes the scan fail, never emit; a
 * node refusing large log ranges makes it shrink the range. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "adapter.h"
#include "bridge_artifact.h"
#include "evidence.h"
#include "evm_adapter.h"
#include "anvil.h"
#include "header.h"
#include "receipt.h"
#include "rpc.h"
#include "xr_bytes.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define DEV0 "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"

static char problem[PATH_MAX + 256];

/* --- JSON-RPC for the test's own calls ---------------------------------------- */

static struct xr_rpc *rpc;

static json_t *rpc_json(const char *method, const char *params, struct xr_err *err)
{
	char *res = NULL;
	size_t len;
	if (xr_rpc_call(rpc, method, params, &res, &len, err) < 0)
		return NULL;
	json_t *j = json_loadb(res, len, JSON_DECODE_ANY, NULL);
	free(res);
	return j;
}

static json_t *must(const char *method, const char *params)
{
	struct xr_err err = {0};
	json_t *j = rpc_json(method, params, &err);
	if (!j)
		snprintf(problem, sizeof(problem), "%s %.200s: %s", method, params, err.msg);
	return j;
}

static uint64_t hex_u64(const json_t *v)
{
	uint64_t n = 0;
	ck_assert_int_eq(xr_evm_json_u64(v, "value", &n, NULL), 0);
	return n;
}

/* --- the chain's story -------------------------------------------------------- */

struct sent {
	const char *dst;
	const char *recipient; /* hex */
	uint64_t value;	       /* wei; 0: a message */
	size_t payload_len;
	int block; /* which mining step sends it: events in one step share a block */
	/* filled from the receipts */
	uint64_t height;
	uint8_t tx[32];
	uint32_t log_index;
	uint8_t block_hash[32];
	uint64_t time;
};

#define SEND(d, r, v, p, b)                                                                        \
	{                                                                                          \
		.dst = d, .recipient = r, .value = v, .payload_len = p, .block = b                 \
	}
static struct sent sends[] = {
    SEND(
	"eip155:31338", "0xf2930271d15938c8e953a064a5c36c5727be7c40", 1000000000000000000ull, 5, 0),
    SEND("cosmos:cosmoshub-4",
	 "0x0102030405060708091011121314151617181920212223242526272829303132",
	 0,
	 0,
	 1),
    SEND("eip155:1", "0xaa", 5, 1000, 2),
    SEND("eip155:10", "0xbbbb", 0, 64, 2),
    SEND("bip122:000000000019d6689c085ae165831e93", "0xcc", 7, 65536, 2),
    SEND("eip155:31338", "0xf2930271d15938c8e953a064a5c36c5727be7c40", 1, 1, 3),
};

static char bridge_hex[43];
static uint8_t bridge[20];
static uint64_t chain_latest;

static void payload_of(size_t k, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(i * 31 + k);
}

static void word(struct xr_buf *b, uint64_t v)
{
	uint8_t w[32] = {0};
	xr_put_be64(w + 24, v);
	xr_buf_put(b, w, 32);
}

static void dyn(struct xr_buf *b, const void *p, size_t n)
{
	static const uint8_t zero[32];
	word(b, n);
	xr_buf_put(b, p, n);
	xr_buf_put(b, zero, (32 - n % 32) % 32);
}

/* Calldata of send(string, bytes, bytes). */
static char *
send_calldata(const char *dst, const uint8_t *rcp, size_t rlen, const uint8_t *pl, size_t plen)
{
	struct xr_buf b;
	size_t pd = (strlen(dst) + 31) / 32 * 32, pr = (rlen + 31) / 32 * 32;
	xr_buf_init(&b, 1 << 20);
	xr_buf_put(&b, xr_bridge_send_selector, 4);
	word(&b, 96);
	word(&b, 96 + 32 + pd);
	word(&b, 96 + 32 + pd + 32 + pr);
	dyn(&b, dst, strlen(dst));
	dyn(&b, rcp, rlen);
	dyn(&b, pl, plen);
	ck_assert(!b.failed);
	char *hex = xr_hex0x_new(b.data, b.len);
	xr_buf_fini(&b);
	return hex;
}

/* eth_sendTransaction from dev account 0; returns the tx hash (a JSON string). */
static json_t *send_tx(const char *to, const char *data, uint64_t value, bool fixed_gas)
{
	json_t *tx = json_pack("{s:s,s:s}", "from", DEV0, "data", data);
	if (to)
		json_object_set_new(tx, "to", json_string(to));
	char v[32];
	snprintf(v, sizeof(v), "0x%llx", (unsigned long long)value);
	json_object_set_new(tx, "value", json_string(v));
	if (fixed_gas)
		json_object_set_new(tx, "gas", json_string("0x500000"));
	json_t *params = json_pack("[o]", tx);
	char *text = json_dumps(params, JSON_COMPACT);
	json_t *h = must("eth_sendTransaction", text);
	free(text);
	json_decref(params);
	return h;
}

static json_t *receipt_of(const json_t *hash)
{
	json_t *params = json_pack("[O]", hash);
	char *text = json_dumps(params, JSON_COMPACT);
	json_t *r = NULL;
	/* anvil may answer eth_sendTransaction before the receipt is there. */
	for (int i = 0; i < 200 && (!r || json_is_null(r)); i++) {
		json_decref(r);
		if (i) {
			struct timespec ts = {0, 25000000};
			nanosleep(&ts, NULL);
		}
		if (!(r = must("eth_getTransactionReceipt", text)))
			break;
	}
	free(text);
	json_decref(params);
	return r;
}

static char *send_data(size_t k)
{
	uint8_t rcp[64], *pl = malloc(sends[k].payload_len + 1);
	size_t rlen = strlen(sends[k].recipient) / 2 - 1;
	xr_hex_decode_exact(sends[k].recipient, rcp, rlen, NULL);
	payload_of(k, pl, sends[k].payload_len);
	char *data = send_calldata(sends[k].dst, rcp, rlen, pl, sends[k].payload_len);
	free(pl);
	return data;
}

/* Deploys the Bridge and sends every event; fills in where each landed. Runs
 * in the runner process (an unchecked fixture), so the tests see it all. */
static void chain_setup(void)
{
	struct xr_err err = {0};
	json_t *hashes[N_ELEMS(sends)] = {0}, *j;

	fx_anvil_start(problem, sizeof(problem));
	if (problem[0])
		return;
	const char *urls[] = {fx_anvil_url};
	struct xr_rpc_opts o = {.urls = urls, .nurls = 1, .retries = 1};
	if (xr_rpc_new(&o, &rpc, &err) < 0) {
		snprintf(problem, sizeof(problem), "xr_rpc_new: %s", err.msg);
		return;
	}
	/* Deploy. */
	char *code = xr_hex0x_new(xr_bridge_bytecode, XR_BRIDGE_BYTECODE_LEN);
	json_t *h = send_tx(NULL, code, 0, false);
	free(code);
	if (!h)
		return;
	json_t *r = receipt_of(h);
	json_decref(h);
	if (!r)
		return;
	const char *addr = json_string_value(json_object_get(r, "contractAddress"));
	if (!addr || strlen(addr) != 42 || hex_u64(json_object_get(r, "status")) != 1) {
		snprintf(problem, sizeof(problem), "deploying the bridge failed");
		json_decref(r);
		return;
	}
	memcpy(bridge_hex, addr, 43);
	xr_hex_decode_exact(addr, bridge, 20, NULL);
	json_decref(r);

	/* Step 0 and 1 one block each (automine); step 2 several in one block,
	 * with a reverted call and a plain payment between them; step 3 alone. */
	for (int step = 0; step <= 3; step++) {
		if (step == 2) {
			if (!(j = must("evm_setAutomine", "[false]")))
				return;
			json_decref(j);
		}
		for (size_t k = 0; k < N_ELEMS(sends); k++) {
			if (sends[k].block != step)
				continue;
			char *data = send_data(k);
			hashes[k] = send_tx(bridge_hex, data, sends[k].value, step == 2);
			free(data);
			if (!hashes[k])
				return;
			if (step == 2 && k == 2) {
				/* A send the contract refuses (mined, status 0) and a
				 * payment to nobody in particular. */
				uint8_t one = 1;
				char *bad = send_calldata("EIP155:1", &one, 1, NULL, 0);
				json_decref(send_tx(bridge_hex, bad, 0, true));
				free(bad);
				json_decref(send_tx("0x000000000000000000000000000000000000dead",
						    "0x", 3, true));
			}
		}
		if (step == 2) {
			json_decref(must("evm_mine", "[]"));
			json_decref(must("evm_setAutomine", "[true]"));
		}
	}
	/* A few empty blocks on top. */
	json_decref(must("anvil_mine", "[\"0x3\"]"));
	for (size_t k = 0; k < N_ELEMS(sends); k++) {
		if (!(r = receipt_of(hashes[k])) || json_is_null(r)) {
			snprintf(problem, sizeof(problem), "send %zu has no receipt", k);
			return;
		}
		if (hex_u64(json_object_get(r, "status")) != 1) {
			snprintf(problem, sizeof(problem), "send %zu reverted", k);
			return;
		}
		json_t *logs = json_object_get(r, "logs");
		sends[k].height = hex_u64(json_object_get(r, "blockNumber"));
		xr_evm_json_fixed(hashes[k], "tx", sends[k].tx, 32, NULL);
		sends[k].log_index =
		    (uint32_t)hex_u64(json_object_get(json_array_get(logs, 0), "logIndex"));
		xr_evm_json_fixed(json_object_get(r, "blockHash"), "bh", sends[k].block_hash, 32,
				  NULL);
		json_decref(r);
		char params[64];
		snprintf(params, sizeof(params), "[\"0x%llx\",false]",
			 (unsigned long long)sends[k].height);
		json_t *b = must("eth_getBlockByNumber", params);
		sends[k].time = hex_u64(json_object_get(b, "timestamp"));
		json_decref(b);
		json_decref(hashes[k]);
	}
	j = must("eth_blockNumber", "[]");
	chain_latest = hex_u64(j);
	json_decref(j);
}

static void chain_teardown(void)
{
	fx_anvil_stop();
	xr_rpc_free(rpc);
	rpc = NULL;
}

/* --- hosts ---------------------------------------------------------------------- */

enum tamper {
	T_NONE,
	T_RECEIPT,    /* a receipt's cumulativeGasUsed changed */
	T_TX_INPUT,   /* a transaction's input changed in the full block */
	T_HEADER,     /* a header field changed (its hash no longer matches) */
	T_HASH,	      /* header and hash both changed consistently: not our block */
	T_DROP_LOG,   /* eth_getLogs leaves a log out */
	T_LIMIT,      /* eth_getLogs refuses ranges over 2 blocks, as Infura does */
	T_GARBAGE,    /* the receipts reply is not JSON */
	T_NULL_BLOCK, /* the block is gone */
	T_NO_BLOCK_RECEIPTS, /* the node has no eth_getBlockReceipts (Hardhat) */
};

struct wrap {
	struct xr_host inner;
	enum tamper t;
	unsigned getlogs_calls, refused, tx_receipt_calls, alerts;
	char alert[512];
};

static void test_log(void *ctx, enum xr_log_level level, const char *msg)
{
	if (getenv("XR_TEST_VERBOSE"))
		fprintf(stderr, "log %d: %s\n", level, msg);
}

static char *replace(char *old, json_t *j)
{
	free(old);
	char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	return s;
}

static int w_rpc(void *ctx,
		 const char *method,
		 const char *params,
		 char **ret,
		 size_t *ret_len,
		 struct xr_err *err)
{
	struct wrap *w = ctx;
	if (strcmp(method, "eth_getLogs") == 0) {
		w->getlogs_calls++;
		if (w->t == T_LIMIT) {
			json_t *p = json_loads(params, 0, NULL);
			json_t *f = json_array_get(p, 0);
			uint64_t a = 0, b = 0;
			xr_evm_json_u64(json_object_get(f, "fromBlock"), "f", &a, NULL);
			xr_evm_json_u64(json_object_get(f, "toBlock"), "t", &b, NULL);
			json_decref(p);
			if (b - a + 1 > 2) {
				w->refused++;
				return xr_err_set(err, XR_EINVAL,
						  "rpc eth_getLogs: error -32005: query returned "
						  "more than 10000 results");
			}
		}
	}
	int rc = w->inner.rpc(w->inner.ctx, method, params, ret, ret_len, err);
	if (rc == 0 && w->t == T_DROP_LOG && strcmp(method, "eth_getLogs") == 0) {
		json_t *j = json_loads(*ret, 0, NULL);
		/* The middle one of the three events that share a block. */
		if (json_array_size(j) > 1)
			json_array_remove(j, 1);
		*ret = replace(*ret, j);
		*ret_len = strlen(*ret);
	}
	return rc;
}

static int w_batch(void *ctx,
		   size_t n,
		   const char *const *methods,
		   const char *const *params,
		   char **rets,
		   size_t *lens,
		   struct xr_err *err)
{
	struct wrap *w = ctx;
	for (size_t i = 0; i < n; i++) {
		if (w->t == T_NO_BLOCK_RECEIPTS && strcmp(methods[i], "eth_getBlockReceipts") == 0)
			return xr_err_set(err, XR_EINVAL,
					  "rpc eth_getBlockReceipts: error -32004: Method "
					  "eth_getBlockReceipts is not supported");
		if (strcmp(methods[i], "eth_getTransactionReceipt") == 0)
			w->tx_receipt_calls++;
	}
	int rc = w->inner.rpc_batch(w->inner.ctx, n, methods, params, rets, lens, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		bool receipts = strcmp(methods[i], "eth_getBlockReceipts") == 0;
		bool block = strcmp(methods[i], "eth_getBlockByNumber") == 0 &&
			     strstr(params[i], "latest") == NULL;
		bool full = block && strstr(params[i], "true") != NULL;
		json_t *j = json_loads(rets[i], JSON_DECODE_ANY, NULL);
		if (receipts && w->t == T_RECEIPT) {
			json_object_set_new(json_array_get(j, 0), "cumulativeGasUsed",
					    json_string("0x1"));
		} else if (full && w->t == T_TX_INPUT && json_array_size(json_object_get(j, "transactions"))) {
			json_object_set_new(json_array_get(json_object_get(j, "transactions"), 0),
					    "input", json_string("0x00"));
		} else if (receipts && w->t == T_GARBAGE) {
			json_decref(j);
			free(rets[i]);
			rets[i] = strdup("[{\"type\":");
			lens[i] = strlen(rets[i]);
			continue;
		} else if (block && w->t == T_HEADER) {
			json_object_set_new(j, "gasUsed", json_string("0x1"));
		} else if (block && w->t == T_NULL_BLOCK) {
			json_decref(j);
			j = json_null();
		} else if (block && w->t == T_HASH) {
			/* A consistent header of another block: hash recomputed. */
			struct xr_evm_header h;
			uint8_t hash[32];
			json_object_set_new(j, "gasUsed", json_string("0x1"));
			ck_assert_int_eq(xr_evm_header_from_json(j, &h, NULL), 0);
			xr_evm_header_hash(&h, hash, NULL);
			char *hx = xr_hex0x_new(hash, 32);
			json_object_set_new(j, "hash", json_string(hx));
			free(hx);
		} else {
			json_decref(j);
			continue;
		}
		rets[i] = replace(rets[i], j);
		lens[i] = strlen(rets[i]);
	}
	return 0;
}

static void w_free(void *ctx, char *p)
{
	free(p);
}

static uint64_t w_now(void *ctx)
{
	return 0;
}

static void w_alert(void *ctx, const char *kind, const char *detail)
{
	struct wrap *w = ctx;
	w->alerts++;
	snprintf(w->alert, sizeof(w->alert), "%s: %s", kind, detail);
}

static void make_host(struct wrap *w, enum tamper t, struct xr_host *ret)
{
	memset(w, 0, sizeof(*w));
	xr_rpc_host(rpc, test_log, NULL, &w->inner);
	w->t = t;
	*ret = w->inner;
	if (t == T_NONE)
		return;
	ret->ctx = w;
	ret->rpc = w_rpc;
	ret->rpc_batch = w_batch;
	ret->free_result = w_free;
	ret->now_ms = w_now;
	ret->log = test_log;
	ret->alert = w_alert;
}

/* --- collecting observations ------------------------------------------------------ */

struct seen {
	size_t n;
	uint8_t *env[32];
	size_t env_len[32];
	uint8_t *ev[32];
	size_t ev_len[32];
	int stop_after; /* >0: emit fails after this many */
};

static int collect(void *ctx, const struct xr_observation *o, struct xr_err *err)
{
	struct seen *s = ctx;
	if (s->stop_after && (int)s->n == s->stop_after)
		return xr_err_set(err, XR_ESTATE, "stop");
	ck_assert_uint_lt(s->n, 32);
	s->env[s->n] = malloc(o->envelope_len);
	memcpy(s->env[s->n], o->envelope, o->envelope_len);
	s->env_len[s->n] = o->envelope_len;
	s->ev[s->n] = malloc(o->evidence_len);
	memcpy(s->ev[s->n], o->evidence, o->evidence_len);
	s->ev_len[s->n] = o->evidence_len;
	s->n++;
	return 0;
}

static void seen_free(struct seen *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->env[i]);
		free(s->ev[i]);
	}
	memset(s, 0, sizeof(*s));
}

static void *open_chain(struct xr_host *host, const char *extra)
{
	char params[512];
	struct xr_err err = {0};
	void *c = NULL;
	snprintf(params, sizeof(params), "{\"chain\":\"eip155:31337\",\"bridge\":\"%s\"%s}",
		 bridge_hex, extra ? extra : "");
	ck_assert_msg(xr_evm_adapter()->open(host, params, &c, &err) == 0, "%s", err.msg);
	return c;
}

#define NEED_ANVIL()                                                                               \
	do {                                                                                       \
		if (problem[0])                                                                    \
			ck_abort_msg("%s", problem);                                               \
	} while (0)

/* --- tests ---------------------------------------------------------------------- */

START_TEST(test_table)
{
	const struct xr_adapter *a = xr_evm_adapter();
	ck_assert_uint_eq(a->abi_major, XR_ADAPTER_ABI_MAJOR);
	ck_assert_uint_eq(a->size, sizeof(struct xr_adapter));
	ck_assert_str_eq(a->framework, "evm");
	ck_assert_uint_eq(a->caps, XR_CAP_SCAN);
	ck_assert(a->open && a->close && a->head && a->scan && a->block_hash);
	ck_assert(!a->submit && !a->broadcast);
	a->close(NULL);
}
END_TEST

START_TEST(test_scan_all)
{
	NEED_ANVIL();
	struct wrap w;
	struct xr_host host;
	struct xr_err err = {0};
	struct seen s = {0};

	make_host(&w, T_NONE, &host);
	/* max_range 2: the scan walks the chain in many eth_getLogs calls. */
	void *c = open_chain(&host, ",\"confirmations\":0,\"unsafe_no_confirmations\":true,\"max_range\":2,\"rpc\":[\"x\"]");
	ck_assert_msg(xr_evm_adapter()->scan(c, 0, chain_latest, collect, &s, &err) == 0, "%s",
		      err.msg);
	ck_assert_uint_eq(s.n, N_ELEMS(sends));
	for (size_t k = 0; k < s.n; k++) {
		struct xr_envelope e;
		const struct sent *x = &sends[k];
		uint8_t rcp[64], amount[32] = {0}, *pl = malloc(x->payload_len + 1);
		size_t rlen = strlen(x->recipient) / 2 - 1;
		ck_assert_msg(xr_envelope_decode(s.env[k], s.env_len[k], &e, &err) == 0, "%s",
			      err.msg);
		ck_assert_uint_eq(e.sequence, k + 1);
		ck_assert_str_eq(e.src_chain, "eip155:31337");
		ck_assert_uint_eq(e.src_height, x->height);
		ck_assert_mem_eq(e.src_block, x->block_hash, 32);
		ck_assert_mem_eq(e.src_tx, x->tx, 32);
		ck_assert_uint_eq(e.log_index, x->log_index);
		ck_assert_uint_eq(e.emitter_len, 20);
		ck_assert_mem_eq(e.emitter, bridge, 20);
		ck_assert_str_eq(e.dst_chain, x->dst);
		xr_hex_decode_exact(x->recipient, rcp, rlen, NULL);
		ck_assert_uint_eq(e.recipient_len, rlen);
		ck_assert_mem_eq(e.recipient, rcp, rlen);
		xr_put_be64(amount + 24, x->value);
		ck_assert_mem_eq(e.amount, amount, 32);
		if (x->value) {
			ck_assert_uint_eq(e.kind, XR_ENV_TRANSFER);
			ck_assert_str_eq(e.asset, "eip155:31337/slip44:60");
		} else {
			ck_assert_uint_eq(e.kind, XR_ENV_MESSAGE);
			ck_assert_str_eq(e.asset, "");
		}
		ck_assert_uint_eq(e.src_time, x->time);
		payload_of(k, pl, x->payload_len);
		ck_assert_uint_eq(e.payload_len, x->payload_len);
		if (x->payload_len)
			ck_assert_mem_eq(e.payload, pl, x->payload_len);
		free(pl);

		/* The evidence verifies, and its JSON view rebuilds the same bytes. */
		ck_assert_msg(xr_evidence_evm.check(&e, s.ev[k], s.ev_len[k], &err) == 0, "%s",
			      err.msg);
		json_t *j = xr_evidence_evm.to_json(s.ev[k], s.ev_len[k], &err);
		ck_assert_msg(j, "%s", err.msg);
		char *text = json_dumps(j, JSON_COMPACT);
		json_t *j2 = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
		struct xr_buf b;
		xr_buf_init(&b, XR_EVM_EVIDENCE_MAX);
		ck_assert_msg(xr_evidence_evm.rebuild(j2, &b, &err) == 0, "%s", err.msg);
		ck_assert_uint_eq(b.len, s.ev_len[k]);
		ck_assert_mem_eq(b.data, s.ev[k], b.len);
		xr_buf_fini(&b);
		free(text);
		json_decref(j);
		json_decref(j2);
		/* Another event's evidence does not verify this envelope. */
		size_t other = (k + 1) % s.n;
		ck_assert_int_lt(xr_evidence_evm.check(&e, s.ev[other], s.ev_len[other], NULL), 0);
	}
	/* Three events share a block, with the refused call and the payment. */
	ck_assert_uint_eq(sends[2].height, sends[3].height);
	ck_assert_uint_eq(sends[3].height, sends[4].height);
	ck_assert_uint_lt(sends[2].log_index, sends[3].log_index);
	seen_free(&s);

	/* Block by block gives the same; start_height cuts off the start. */
	for (uint64_t h = 0; h <= chain_latest; h++)
		ck_assert_int_eq(xr_evm_adapter()->scan(c, h, h, collect, &s, NULL), 0);
	ck_assert_uint_eq(s.n, N_ELEMS(sends));
	seen_free(&s);
	xr_evm_adapter()->close(c);
	char extra[64];
	snprintf(extra, sizeof(extra), ",\"start_height\":%llu",
		 (unsigned long long)sends[2].height);
	c = open_chain(&host, extra);
	ck_assert_int_eq(xr_evm_adapter()->scan(c, 0, chain_latest, collect, &s, NULL), 0);
	ck_assert_uint_eq(s.n, N_ELEMS(sends) - 2);
	seen_free(&s);
	/* emit's failure stops the scan and comes back. */
	s.stop_after = 1;
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(xr_evm_adapter()->scan(c, 0, chain_latest, collect, &s, &err), XR_ESTATE);
	ck_assert_str_eq(err.msg, "stop");
	ck_assert_uint_eq(s.n, 1);
	seen_free(&s);
	/* from after to. */
	ck_assert_int_eq(xr_evm_adapter()->scan(c, 5, 4, collect, &s, NULL), XR_EINVAL);
	xr_evm_adapter()->close(c);
}
END_TEST

START_TEST(test_head_and_hash)
{
	NEED_ANVIL();
	struct wrap w;
	struct xr_host host;
	struct xr_err err = {0};
	struct xr_head hd;
	uint8_t hash[32];

	make_host(&w, T_NONE, &host);
	void *c = open_chain(&host, ",\"confirmations\":2");
	ck_assert_msg(xr_evm_adapter()->head(c, &hd, &err) == 0, "%s", err.msg);
	ck_assert_uint_ge(hd.latest, chain_latest);
	ck_assert_uint_eq(hd.final, hd.latest - 2);
	ck_assert_int_eq(xr_evm_adapter()->block_hash(c, hd.latest, hash, NULL), 0);
	ck_assert_mem_eq(hash, hd.latest_hash, 32);
	ck_assert_int_eq(xr_evm_adapter()->block_hash(c, sends[0].height, hash, NULL), 0);
	ck_assert_mem_eq(hash, sends[0].block_hash, 32);
	ck_assert_int_eq(xr_evm_adapter()->block_hash(c, hd.latest + 1000, hash, &err),
			 XR_ENOTFOUND);
	xr_evm_adapter()->close(c);

	c = open_chain(&host, ",\"confirmations\":1000");
	ck_assert_int_eq(xr_evm_adapter()->head(c, &hd, NULL), 0);
	ck_assert_uint_eq(hd.final, 0);
	xr_evm_adapter()->close(c);
	c = open_chain(&host, ",\"finality\":\"finalized\"");
	ck_assert_msg(xr_evm_adapter()->head(c, &hd, &err) == 0, "%s", err.msg);
	ck_assert_uint_le(hd.final, hd.latest);
	xr_evm_adapter()->close(c);
	c = open_chain(&host, NULL);
	ck_assert_int_eq(xr_evm_adapter()->head(c, &hd, NULL), 0);
	ck_assert_uint_eq(hd.final, hd.latest > 12 ? hd.latest - 12 : 0);
	xr_evm_adapter()->close(c);
}
END_TEST

/* The contract's checks: each bad call reverts. */
START_TEST(test_contract_refuses)
{
	NEED_ANVIL();
	uint8_t rcp[65] = {1};
	uint8_t *big = calloc(1, 65537);
	struct {
		const char *dst;
		size_t rlen, plen;
	} bad[] = {
	    {"eip155:1", 0, 0},	    {"eip155:1", 65, 0},
	    {"eip155:1", 1, 65537}, {"ei", 1, 0},
	    {"eip155:", 1, 0},	    {"EIP155:1", 1, 0},
	    {"eip155:1:2", 1, 0},   {"abcdefghi:1", 1, 0},
	    {"ab:1", 1, 0},	    {"eip155:123456789012345678901234567890123", 1, 0},
	    {"eip155:a b", 1, 0},
	};
	for (size_t k = 0; k < N_ELEMS(bad); k++) {
		char *data = send_calldata(bad[k].dst, rcp, bad[k].rlen, big, bad[k].plen);
		json_t *p =
		    json_pack("[{s:s,s:s,s:s}]", "from", DEV0, "to", bridge_hex, "data", data);
		char *text = json_dumps(p, JSON_COMPACT);
		struct xr_err err = {0};
		json_t *r = rpc_json("eth_call", text, &err);
		/* anvil words the revert of BadRecipientLength(0) with raw NUL
		 * characters, which relay/rpc.c refuses as a malformed reply. */
		bool nul = err.code == XR_EIO && strstr(err.msg, "JSON_ALLOW_NUL");
		ck_assert_msg(!r && (err.code == XR_EINVAL || nul),
			      "call %zu (%s) did not revert: %d %s", k, bad[k].dst, err.code,
			      err.msg);
		free(text);
		free(data);
		json_decref(p);
	}
	/* And the good edges are accepted. */
	char *data =
	    send_calldata("abcdefgh:abcdefghijklmnopqrstuvwxyz012345", rcp, 64, big, 65536);
	json_t *p = json_pack("[{s:s,s:s,s:s}]", "from", DEV0, "to", bridge_hex, "data", data);
	char *text = json_dumps(p, JSON_COMPACT);
	struct xr_err err = {0};
	json_t *r = rpc_json("eth_call", text, &err);
	ck_assert_msg(r, "%s", err.msg);
	json_decref(r);
	free(text);
	free(data);
	json_decref(p);
	free(big);
}
END_TEST

static const struct {
	const char *params; /* @B@: the bridge */
	const char *why;
	int code; /* 0: XR_EINVAL */
} open_bad[] = {
    {"{\"chain\":\"eip155:1\",\"bridge\":\"@B@\"}", "the node serves chain id 31337", XR_EVERIFY},
    {"{\"chain\":\"eip155:31337\",\"bridge\":\"@B@\",\"confirmations\":0}",
     "set \"unsafe_no_confirmations\": true if that is meant", 0},
    {"{\"chain\":\"eip155:31337\",\"bridge\":\"@B@\",\"confirmations\":0,"
     "\"unsafe_no_confirmations\":1}",
     "\"unsafe_no_confirmations\" must be true or false", 0},
    {"{\"chain\":\"eip155:31337\",\"bridge\":\"@B@\",\"x\":1}", "evm param \"x\" is not known", 0},
    {"{\"chain\":\"eip155:31337\"}", "evm params lack \"bridge\"", 0},
    {"{\"bridge\":\"@B@\"}", "evm params lack \"chain\"", 0},
    {"{\"chain\":\"cosmos:hub\",\"bridge\":\"@B@\"}", "is not eip155:<decimal chain id>", 0},
    {"{\"chain\":\"eip155:031337\",\"bridge\":\"@B@\"}", "is not eip155:<decimal chain id>", 0},
    {"{\"chain\":\"eip155:99999999999999999999\",\"bridge\":\"@B@\"}", "chain id too large", 0},
    {"{\"chain\":7,\"bridge\":\"@B@\"}", "\"chain\" must be a string", 0},
    {"{\"chain\":\"eip155:31337\",\"bridge\":\"0x12\"}", "evm param bridge", 0},
    {"{\"chain\":\"eip155:31337\",\"bridge\":1}", "\"bridge\" must be a string", 0},
    {"{\"chain\":\"eip155:31337\",\"bridge\":\"@B@\",\"confirmations\":-1}",
     "\"confirmations\" must be an integer 0..1000000", 0},
    {"{\"chain\":\"eip155:31337\",\"bridge\":\"@B@\",\"confirmations\":\"12\"}",
     "\"confirmations\" must be an integer", 0},
    {"{\"chain\":\"eip155:31337\",\"bridge\":\"@B@\",\"finality\":\"safe\"}",
     "\"finality\" must be \"finalized\"", 0},
    {"{\"chain\":\"eip155:31337\",\"bridge\":\"@B@\",\"finality\":\"finalized\","
     "\"confirmations\":3}",
     "exclude each other", 0},
    {"{\"chain\":\"eip155:31337\",\"bridge\":\"@B@\",\"max_range\":0}",
     "\"max_range\" must be an integer 1..100000", 0},
    {"{\"chain\":\"eip155:31337\",\"bridge\":\"@B@\",\"start_height\":1.5}",
     "\"start_height\" must be an integer", 0},
    {"[]", "evm params are not a json object", 0},
    {"{\"chain\":\"eip155:31337\",\"chain\":\"eip155:31337\"}", "evm params are not json", 0},
    {"{", "evm params are not json", 0},
};

START_TEST(test_open_refuses)
{
	NEED_ANVIL();
	struct wrap w;
	struct xr_host host;
	struct xr_err err = {0};
	char params[512];
	void *c = (void *)0x1;

	make_host(&w, T_NONE, &host);
	const char *t = open_bad[_i].params, *at = strstr(t, "@B@");
	if (at)
		snprintf(params, sizeof(params), "%.*s%s%s", (int)(at - t), t, bridge_hex, at + 3);
	else
		snprintf(params, sizeof(params), "%s", t);
	ck_assert_int_eq(xr_evm_adapter()->open(&host, params, &c, &err),
			 open_bad[_i].code ? open_bad[_i].code : XR_EINVAL);
	ck_assert_msg(strstr(err.msg, open_bad[_i].why), "%s: '%s' lacks '%s'", params, err.msg,
		      open_bad[_i].why);
	ck_assert_ptr_eq(c, (void *)0x1);
}
END_TEST

START_TEST(test_open_host)
{
	struct xr_host host = {0};
	struct xr_err err = {0};
	void *c = NULL;
	ck_assert_int_eq(xr_evm_adapter()->open(NULL, "{}", &c, &err), XR_EINVAL);
	host.abi_major = 2;
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(xr_evm_adapter()->open(&host, "{}", &c, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "host abi 2, evm adapter needs 1");
	host.abi_major = 1;
	host.size = 8;
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(xr_evm_adapter()->open(&host, "{}", &c, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "host of 8 bytes lacks rpc, rpc_batch or free_result");
	ck_assert_ptr_null(c);
}
END_TEST

static const struct {
	enum tamper t;
	int code;
	const char *why;
} tampered[] = {
    {T_RECEIPT, XR_EVERIFY, "receipts do not match the header's receiptsRoot"},
    {T_TX_INPUT, XR_EVERIFY, "does not match its encoding"},
    {T_HEADER, XR_EVERIFY, "header hashes to"},
    {T_HASH, XR_ESTATE, "does not link to block"},
    {T_GARBAGE, XR_EINVAL, "eth_getBlockReceipts reply is not json"},
    {T_NULL_BLOCK, XR_ENOTFOUND, "has no block"},
};

/* A node that lies is an error, never an event. */
START_TEST(test_tampered)
{
	NEED_ANVIL();
	struct wrap w;
	struct xr_host host;
	struct xr_err err = {0};
	struct seen s = {0};

	make_host(&w, tampered[_i].t, &host);
	void *c = open_chain(&host, ",\"confirmations\":0,\"unsafe_no_confirmations\":true");
	uint64_t from = 0;
	int rc = xr_evm_adapter()->scan(c, from, chain_latest, collect, &s, &err);
	ck_assert_msg(rc == tampered[_i].code, "tamper %d: rc %d (%s)", tampered[_i].t, rc,
		      err.msg);
	ck_assert_msg(strstr(err.msg, tampered[_i].why), "'%s' lacks '%s'", err.msg,
		      tampered[_i].why);
	ck_assert_uint_eq(s.n, 0);
	seen_free(&s);
	xr_evm_adapter()->close(c);
}
END_TEST

/* A node that refuses wide eth_getLogs ranges: the adapter halves until it
 * is accepted, emits everything, and grows back afterwards. */
START_TEST(test_range_limit)
{
	NEED_ANVIL();
	struct wrap w;
	struct xr_host host;
	struct xr_err err = {0};
	struct seen s = {0};

	make_host(&w, T_LIMIT, &host);
	void *c = open_chain(&host, ",\"confirmations\":0,\"unsafe_no_confirmations\":true,\"max_range\":64");
	ck_assert_msg(xr_evm_adapter()->scan(c, 0, chain_latest, collect, &s, &err) == 0, "%s",
		      err.msg);
	ck_assert_uint_eq(s.n, N_ELEMS(sends));
	for (size_t k = 0; k < s.n; k++) {
		struct xr_envelope e;
		ck_assert_int_eq(xr_envelope_decode(s.env[k], s.env_len[k], &e, NULL), 0);
		ck_assert_uint_eq(e.sequence, k + 1);
	}
	/* Halved from the window it tried (the chain is shorter than 64
	 * blocks) down to 2: at least 21 -> 10 -> 5 -> 2. */
	ck_assert_uint_ge(w.refused, 3);
	seen_free(&s);
	xr_evm_adapter()->close(c);
}
END_TEST

/* A node that hides a log from eth_getLogs: the header's bloom names the
 * block, the proven receipts hold the event, so it is emitted all the same
 * and the host hears an alert. */
START_TEST(test_hidden_log)
{
	NEED_ANVIL();
	struct wrap w;
	struct xr_host host;
	struct xr_err err = {0};
	struct seen s = {0};

	make_host(&w, T_DROP_LOG, &host);
	void *c = open_chain(&host, ",\"confirmations\":0,\"unsafe_no_confirmations\":true");
	ck_assert_msg(xr_evm_adapter()->scan(c, sends[2].height, chain_latest, collect, &s, &err) == 0,
		      "%s", err.msg);
	ck_assert_uint_eq(s.n, N_ELEMS(sends) - 2);
	for (size_t k = 0; k < s.n; k++) {
		struct xr_envelope e;
		ck_assert_int_eq(xr_envelope_decode(s.env[k], s.env_len[k], &e, NULL), 0);
		ck_assert_uint_eq(e.sequence, k + 3);
	}
	ck_assert_uint_eq(w.alerts, 1);
	ck_assert_msg(strstr(w.alert, "endpoint hid events") && strstr(w.alert, "named 2"), "%s",
		      w.alert);
	seen_free(&s);
	xr_evm_adapter()->close(c);
}
END_TEST

/* A node without eth_getBlockReceipts (Hardhat): receipts come one
 * transaction at a time, and the events are the same. */
START_TEST(test_receipts_by_tx)
{
	NEED_ANVIL();
	struct wrap w;
	struct xr_host host;
	struct xr_err err = {0};
	struct seen s = {0}, t = {0};

	make_host(&w, T_NONE, &host);
	void *c = open_chain(&host, ",\"confirmations\":0,\"unsafe_no_confirmations\":true");
	ck_assert_int_eq(xr_evm_adapter()->scan(c, 0, chain_latest, collect, &s, &err), 0);
	xr_evm_adapter()->close(c);
	make_host(&w, T_NO_BLOCK_RECEIPTS, &host);
	c = open_chain(&host, ",\"confirmations\":0,\"unsafe_no_confirmations\":true");
	ck_assert_msg(xr_evm_adapter()->scan(c, 0, chain_latest, collect, &t, &err) == 0, "%s",
		      err.msg);
	ck_assert_uint_gt(w.tx_receipt_calls, 0);
	ck_assert_uint_eq(t.n, s.n);
	for (size_t k = 0; k < s.n; k++) {
		ck_assert_uint_eq(t.env_len[k], s.env_len[k]);
		ck_assert_mem_eq(t.env[k], s.env[k], s.env_len[k]);
		ck_assert_uint_eq(t.ev_len[k], s.ev_len[k]);
		ck_assert_mem_eq(t.ev[k], s.ev[k], s.ev_len[k]);
	}
	seen_free(&s);
	seen_free(&t);
	xr_evm_adapter()->close(c);
}
END_TEST

struct marks {
	size_t n;
	uint64_t h[64];
};

static int mark(void *ctx, uint64_t height, const uint8_t hash[32], struct xr_err *err)
{
	struct marks *m = ctx;
	(void)hash;
	if (m->n < 64)
		m->h[m->n++] = height;
	return 0;
}

struct both {
	struct seen s;
	struct marks m;
};

static int both_emit(void *ctx, const struct xr_observation *o, struct xr_err *err)
{
	return collect(&((struct both *)ctx)->s, o, err);
}

static int both_mark(void *ctx, uint64_t height, const uint8_t hash[32], struct xr_err *err)
{
	return mark(&((struct both *)ctx)->m, height, hash, err);
}

/* A linked scan: anchored at both ends, it emits everything with marks at
 * block boundaries; a wrong parent is XR_ECONFLICT and a wrong tip hash
 * XR_ESTATE, both before anything is emitted. The evidence proves the
 * transaction hash (version 2): another tx hash in the envelope fails. */
START_TEST(test_linked)
{
	NEED_ANVIL();
	struct wrap w;
	struct xr_host host;
	struct xr_err err = {0};
	struct both b;
	struct xr_span sp = {.from = 1, .to = chain_latest};

	make_host(&w, T_NONE, &host);
	void *c = open_chain(&host, ",\"confirmations\":0,\"unsafe_no_confirmations\":true");
	ck_assert_int_eq(xr_evm_adapter()->block_hash(c, 0, sp.parent_hash, NULL), 0);
	ck_assert_int_eq(xr_evm_adapter()->block_hash(c, chain_latest, sp.to_hash, NULL), 0);
	memset(&b, 0, sizeof(b));
	ck_assert_msg(xr_evm_adapter()->scan_linked(c, &sp, both_emit, both_mark, &b, &err) == 0,
		      "%s", err.msg);
	ck_assert_uint_eq(b.s.n, N_ELEMS(sends));
	ck_assert_uint_ge(b.m.n, 2);
	ck_assert_uint_eq(b.m.h[b.m.n - 1], chain_latest);
	for (size_t i = 1; i < b.m.n; i++)
		ck_assert_uint_gt(b.m.h[i], b.m.h[i - 1]);
	/* Version 2 evidence: the tx hash is proven. */
	struct xr_evm_evidence ev;
	ck_assert_int_eq(xr_evm_evidence_open(b.s.ev[0], b.s.ev_len[0], &ev, &err), 0);
	ck_assert_uint_eq(ev.version, 2);
	ck_assert(ev.has_tx);
	ck_assert_mem_eq(ev.tx_hash, sends[0].tx, 32);
	xr_evm_evidence_fini(&ev);
	struct xr_envelope e;
	ck_assert_int_eq(xr_envelope_decode(b.s.env[0], b.s.env_len[0], &e, NULL), 0);
	e.src_tx[5] ^= 1;
	ck_assert_int_eq(xr_evidence_evm.check(&e, b.s.ev[0], b.s.ev_len[0], &err), XR_EVERIFY);
	ck_assert_msg(strstr(err.msg, "source tx hash"), "%s", err.msg);
	seen_free(&b.s);

	struct xr_span bad = sp;
	bad.parent_hash[0] ^= 1;
	memset(&b, 0, sizeof(b));
	xr_err_clear(&err);
	ck_assert_int_eq(xr_evm_adapter()->scan_linked(c, &bad, both_emit, both_mark, &b, &err),
			 XR_ECONFLICT);
	ck_assert_msg(strstr(err.msg, "the cursor holds"), "%s", err.msg);
	ck_assert_uint_eq(b.s.n, 0);
	bad = sp;
	bad.to_hash[31] ^= 1;
	xr_err_clear(&err);
	ck_assert_int_eq(xr_evm_adapter()->scan_linked(c, &bad, both_emit, both_mark, &b, &err),
			 XR_ESTATE);
	ck_assert_msg(strstr(err.msg, "the endpoints agreed on"), "%s", err.msg);
	ck_assert_uint_eq(b.s.n, 0);
	bad = sp;
	bad.from = 0;
	ck_assert_int_eq(xr_evm_adapter()->scan_linked(c, &bad, both_emit, both_mark, &b, NULL),
			 XR_EINVAL);
	xr_evm_adapter()->close(c);
}
END_TEST

static int seq_of(void *ctx, const uint8_t *emitter, size_t len, uint64_t last, struct xr_err *err)
{
	uint64_t *r = ctx;
	ck_assert_uint_eq(len, 20);
	ck_assert_mem_eq(emitter, bridge, 20);
	*r = last;
	return 0;
}

/* The bridge's sequence() as of a block: the start of a relay part-way. */
START_TEST(test_emitters)
{
	NEED_ANVIL();
	struct wrap w;
	struct xr_host host;
	struct xr_err err = {0};
	uint8_t h[32] = {0};
	uint64_t seq = 99;

	make_host(&w, T_NONE, &host);
	void *c = open_chain(&host, ",\"confirmations\":2");
	ck_assert_msg(xr_evm_adapter()->emitters(c, sends[2].height, h, seq_of, &seq, &err) == 0,
		      "%s", err.msg);
	ck_assert_uint_eq(seq, 5); /* sends[2..4] share a block */
	ck_assert_int_eq(xr_evm_adapter()->emitters(c, sends[0].height - 1, h, seq_of, &seq, NULL),
			 0);
	ck_assert_uint_eq(seq, 0);
	ck_assert_int_eq(xr_evm_adapter()->emitters(c, chain_latest, h, seq_of, &seq, NULL), 0);
	ck_assert_uint_eq(seq, N_ELEMS(sends));
	xr_evm_adapter()->close(c);
}
END_TEST

static Suite *adapter_suite(void)
{
	Suite *s = suite_create("evm_adapter");
	TCase *tc = tcase_create("table");
	tcase_add_test(tc, test_table);
	tcase_add_test(tc, test_open_host);
	suite_add_tcase(s, tc);
	tc = tcase_create("anvil");
	tcase_set_timeout(tc, 600);
	tcase_add_unchecked_fixture(tc, chain_setup, chain_teardown);
	tcase_add_test(tc, test_scan_all);
	tcase_add_test(tc, test_hidden_log);
	tcase_add_test(tc, test_receipts_by_tx);
	tcase_add_test(tc, test_linked);
	tcase_add_test(tc, test_emitters);
	tcase_add_test(tc, test_head_and_hash);
	tcase_add_test(tc, test_contract_refuses);
	tcase_add_loop_test(tc, test_open_refuses, 0, (int)N_ELEMS(open_bad));
	tcase_add_loop_test(tc, test_tampered, 0, (int)N_ELEMS(tampered));
	tcase_add_test(tc, test_range_limit);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	SRunner *sr = srunner_create(adapter_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	fx_anvil_stop(); /* in case a fixture was cut short */
	return failed ? 1 : 0;
}
