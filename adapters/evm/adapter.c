/* adapter.c - the EVM adapter: reads every header of a range, linked by
 * parent hash, finds the bridge's Sent events with eth_getLogs and the
 * headers' logsBloom, then proves each one from the block header, the
 * block's receipts trie and its transactions trie before it emits the
 * envelope with its evidence.
 *
 * Parameters (a JSON object; unknown keys are refused):
 *   "chain"          CAIP-2 "eip155:<chain id>", checked against eth_chainId
 *   "bridge"         the Bridge contract, "0x" + 40 hex digits (EIP-55 or not)
 *   "finality"       "finalized" (the default): the node's finalized block
 *                    is final; or
 *   "confirmations"  blocks below the tip that are final (1..1000000); 0 only
 *                    with "unsafe_no_confirmations": true
 *   "max_range"      most blocks per eth_getLogs (default 1000, 1..100000);
 *                    halved on a "too many results" or size error, grown back
 *                    (x2 per success) up to this
 *   "start_height"   blocks below it are never read for events (default 0)
 *   "rpc"            ignored: the endpoints are the relay's, behind the host
 *
 * Nothing a node sends is trusted: every reply is parsed strictly, a header
 * must hash to its block hash and link to its parent, a block's receipts and
 * transactions must rebuild its receiptsRoot and transactionsRoot, and the
 * events are read from those proven receipts; what eth_getLogs says must
 * agree with them. Which chain is the real one is not this adapter's to
 * decide: one instance talks to one endpoint, and the relay compares what
 * several instances say (the quorum) before it asks for a linked scan. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "adapter.h"
#include "bridge_artifact.h"
#include "envelope.h"
#include "evidence.h"
#include "evm_adapter.h"
#include "header.h"
#include "keccak.h"
#include "receipt.h"
#include "tx.h"
#include "txs.h"
#include "xr_bytes.h"

#define DEFAULT_CONFIRMATIONS 12
#define MAX_CONFIRMATIONS 1000000
#define DEFAULT_MAX_RANGE 1000
#define MAX_RANGE_CAP 100000
/* Logs in one eth_getLogs reply; more is treated as "too many results". */
#define MAX_LOGS_PER_QUERY 100000
/* The eth_getLogs window is sized to bring about this many logs, so that a
 * reply (and the memory it takes) does not grow with the scan. */
#define TARGET_LOGS 2000
/* Headers per JSON-RPC batch in pass 1 (halved on an oversized reply). */
#define HEADERS_PER_BATCH_MAX 100
/* Blocks (with transactions and receipts) per JSON-RPC batch. */
#define BLOCKS_PER_BATCH_MAX 8
/* eth_getTransactionReceipt calls per batch, for nodes without
 * eth_getBlockReceipts. */
#define TX_RECEIPTS_PER_BATCH 100
/* Blocks whose bloom hits in one eth_getLogs window: where it starts, and
 * the most it grows to. */
#define HIT_WINDOW_START 8
#define HIT_WINDOW_MAX 4096
/* Most blocks in one scan. */
#define MAX_SPAN 100000

struct evm {
	struct xr_host host;
	char chain[XR_ENV_CHAIN_MAX + 1];
	uint64_t chain_id;
	uint8_t bridge[20];
	char bridge_hex[2 + 40 + 1];
	char topic_hex[2 + 64 + 1];
	bool finalized;
	uint64_t confirmations;
	uint64_t max_range, range;
	uint64_t start_height;
	uint16_t bloom_bridge[3], bloom_topic[3];
	uint8_t sequence_selector[4];
	size_t hdr_batch, blk_batch, hit_window;
	bool per_tx_receipts; /* the node lacks eth_getBlockReceipts */
};

static void bloom_bits(const uint8_t *p, size_t n, uint16_t ret[3]);

static void say(struct evm *c, enum xr_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void say(struct evm *c, enum xr_log_level level, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!c->host.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->host.log(c->host.ctx, level, msg);
}

/* --- JSON-RPC ---------------------------------------------------------------- */

static int
parse_result(const char *method, const char *text, size_t len, json_t **ret, struct xr_err *err)
{
	json_error_t je;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
	if (!j)
		return xr_err_set(err, XR_EINVAL, "%s reply is not json: %s", method, je.text);
	*ret = j;
	return 0;
}

/* One call; *ret is the parsed result (JSON null included). */
static int
call(struct evm *c, const char *method, const char *params, json_t **ret, struct xr_err *err)
{
	char *res = NULL;
	size_t len = 0;
	int rc = c->host.rpc(c->host.ctx, method, params, &res, &len, err);
	if (rc < 0)
		return rc;
	rc = parse_result(method, res, len, ret, err);
	c->host.free_result(c->host.ctx, res);
	return rc;
}

/* n calls in one batch; rets[i] get the parsed results (all or none). */
static int batch(struct evm *c,
		 size_t n,
		 const char *const *methods,
		 const char *const *params,
		 json_t **rets,
		 struct xr_err *err)
{
	char **res = calloc(n, sizeof(*res));
	size_t *lens = calloc(n, sizeof(*lens));
	size_t i;
	int rc = 0;

	if (!res || !lens) {
		rc = xr_err_set(err, XR_ENOMEM, "out of memory for a batch of %zu calls", n);
		goto out;
	}
	if ((rc = c->host.rpc_batch(c->host.ctx, n, methods, params, res, lens, err)) < 0) {
		memset(res, 0, n * sizeof(*res)); /* nothing was written on failure */
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((rc = parse_result(methods[i], res[i], lens[i], &rets[i], err)) < 0)
			break;
	if (rc < 0)
		for (size_t j = 0; j < i; j++)
			json_decref(rets[j]);
out:
	if (res)
		for (i = 0; i < n; i++)
			if (res[i])
				c->host.free_result(c->host.ctx, res[i]);
	free(res);
	free(lens);
	return rc;
}

/* A block object, checked: the header hashes to "hash", and (when want is not
 * UINT64_MAX) its number is want. */
static int read_block(const json_t *b,
		      uint64_t want,
		      struct xr_evm_header *h,
		      uint8_t ret_hash[32],
		      struct xr_err *err)
{
	uint8_t hash[32], claimed[32];
	int rc;

	if ((rc = xr_evm_header_from_json(b, h, err)) < 0)
		return rc;
	if ((rc = xr_evm_json_fixed(json_object_get(b, "hash"), "block hash", claimed, 32, err)) <
	    0)
		return rc;
	if (want != UINT64_MAX && h->number != want)
		return xr_err_set(err, XR_EINVAL, "asked for block %llu, node sent block %llu",
				  (unsigned long long)want, (unsigned long long)h->number);
	if ((rc = xr_evm_header_hash(h, hash, err)) < 0)
		return rc;
	if (memcmp(hash, claimed, 32) != 0) {
		char a[65], b2[65];
		xr_hex_encode(hash, 32, a);
		xr_hex_encode(claimed, 32, b2);
		return xr_err_set(err, XR_EVERIFY,
				  "block %llu header hashes to 0x%s, node says 0x%s",
				  (unsigned long long)h->number, a, b2);
	}
	memcpy(ret_hash, hash, 32);
	return 0;
}

/* --- open / close ------------------------------------------------------------ */

static int param_uint(
    const json_t *v, const char *key, uint64_t min, uint64_t max, uint64_t *ret, struct xr_err *err)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    (uint64_t)json_integer_value(v) < min || (uint64_t)json_integer_value(v) > max)
		return xr_err_set(err, XR_EINVAL, "evm param \"%s\" must be an integer %llu..%llu",
				  key, (unsigned long long)min, (unsigned long long)max);
	*ret = (uint64_t)json_integer_value(v);
	return 0;
}

static int parse_chain(struct evm *c, const json_t *v, struct xr_err *err)
{
	const char *s = json_string_value(v);
	char show[4 * 40 + 4];
	int rc;

	if (!s)
		return xr_err_set(err, XR_EINVAL, "evm param \"chain\" must be a string");
	if ((rc = xr_caip2_check(s, err)) < 0)
		return rc;
	const char *id = s + 7;
	if (strncmp(s, "eip155:", 7) != 0 || (id[0] == '0') ||
	    strspn(id, "0123456789") != strlen(id) || strlen(id) > 20)
		return xr_err_set(err, XR_EINVAL,
				  "evm param chain '%s' is not eip155:<decimal chain id>",
				  xr_show(s, strlen(s), 40, show));
	uint64_t n = 0;
	for (const char *p = id; *p; p++) {
		if (n > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return xr_err_set(err, XR_EINVAL,
					  "evm param chain '%s': chain id too large", s);
		n = n * 10 + (uint64_t)(*p - '0');
	}
	memcpy(c->chain, s, strlen(s) + 1);
	c->chain_id = n;
	return 0;
}

static int parse_params(struct evm *c, const char *params_json, struct xr_err *err)
{
	static const char *const known[] = {"chain",	    "bridge",	    "confirmations",
					    "finality",	    "max_range",    "start_height",
					    "rpc",	    "unsafe_no_confirmations"};
	json_error_t je;
	json_t *p, *v;
	const char *key;
	int rc = 0;

	if (!params_json)
		return xr_err_set(err, XR_EINVAL, "evm params are missing");
	if (!(p = json_loads(params_json, JSON_REJECT_DUPLICATES, &je)))
		return xr_err_set(err, XR_EINVAL, "evm params are not json: %s (column %d)",
				  je.text, je.column);
	if (!json_is_object(p)) {
		rc = xr_err_set(err, XR_EINVAL, "evm params are not a json object");
		goto out;
	}
	json_object_foreach(p, key, v)
	{
		size_t i = 0;
		while (i < sizeof(known) / sizeof(known[0]) && strcmp(key, known[i]) != 0)
			i++;
		if (i == sizeof(known) / sizeof(known[0])) {
			char show[4 * 40 + 4];
			rc = xr_err_set(
			    err, XR_EINVAL,
			    "evm param \"%s\" is not known (chain, bridge, confirmations, "
			    "finality, max_range, start_height, unsafe_no_confirmations)",
			    xr_show(key, strlen(key), 40, show));
			goto out;
		}
	}
	if (!(v = json_object_get(p, "chain"))) {
		rc = xr_err_set(err, XR_EINVAL, "evm params lack \"chain\"");
		goto out;
	}
	if ((rc = parse_chain(c, v, err)) < 0)
		goto out;
	if (!(v = json_object_get(p, "bridge"))) {
		rc = xr_err_set(err, XR_EINVAL, "evm params lack \"bridge\"");
		goto out;
	}
	if (!json_is_string(v)) {
		rc = xr_err_set(err, XR_EINVAL, "evm param \"bridge\" must be a string");
		goto out;
	}
	if ((rc = xr_evm_address_parse(json_string_value(v), c->bridge, err)) < 0) {
		xr_err_prefix(err, "evm param bridge");
		goto out;
	}
	/* The safe default is the chain's own finality; confirmations are
	 * for chains without the tag, and none at all only when asked for. */
	c->finalized = !json_object_get(p, "confirmations");
	if ((v = json_object_get(p, "finality"))) {
		if (!json_is_string(v) || strcmp(json_string_value(v), "finalized") != 0) {
			rc = xr_err_set(err, XR_EINVAL,
					"evm param \"finality\" must be \"finalized\"");
			goto out;
		}
		if (json_object_get(p, "confirmations")) {
			rc =
			    xr_err_set(err, XR_EINVAL,
				       "evm params \"finality\" and \"confirmations\" exclude each "
				       "other");
			goto out;
		}
	}
	bool unsafe = false;
	if ((v = json_object_get(p, "unsafe_no_confirmations"))) {
		if (!json_is_boolean(v)) {
			rc = xr_err_set(err, XR_EINVAL,
					"evm param \"unsafe_no_confirmations\" must be true or "
					"false");
			goto out;
		}
		unsafe = json_is_true(v);
	}
	if ((v = json_object_get(p, "confirmations"))) {
		if ((rc = param_uint(v, "confirmations", 0, MAX_CONFIRMATIONS, &c->confirmations,
				     err)) < 0)
			goto out;
		if (c->confirmations == 0 && !unsafe) {
			rc = xr_err_set(err, XR_EINVAL,
					"evm param \"confirmations\": 0 makes every block final "
					"at once; set \"unsafe_no_confirmations\": true if that is "
					"meant");
			goto out;
		}
	}
	c->max_range = DEFAULT_MAX_RANGE;
	if ((v = json_object_get(p, "max_range")) &&
	    (rc = param_uint(v, "max_range", 1, MAX_RANGE_CAP, &c->max_range, err)) < 0)
		goto out;
	c->range = c->max_range;
	if ((v = json_object_get(p, "start_height")) &&
	    (rc = param_uint(v, "start_height", 0, INT64_MAX, &c->start_height, err)) < 0)
		goto out;
out:
	json_decref(p);
	return rc;
}

static int
evm_open(const struct xr_host *host, const char *params_json, void **ret_chain, struct xr_err *err)
{
	struct evm *c;
	json_t *r = NULL;
	uint64_t id;
	int rc;

	if (!host)
		return xr_err_set(err, XR_EINVAL, "evm adapter needs a host");
	if (host->abi_major != XR_HOST_ABI_MAJOR)
		return xr_err_set(err, XR_EINVAL, "host abi %u, evm adapter needs %d",
				  host->abi_major, XR_HOST_ABI_MAJOR);
	if (host->size < XR_HOST_V1_0_SIZE || !host->rpc || !host->rpc_batch ||
	    !host->free_result)
		return xr_err_set(err, XR_EINVAL,
				  "host of %u bytes lacks rpc, rpc_batch or free_result",
				  host->size);
	if (!(c = calloc(1, sizeof(*c))))
		return xr_err_set(err, XR_ENOMEM, "out of memory opening an evm chain");
	/* An older host's table is shorter: copy what it has, the rest is NULL. */
	memcpy(&c->host, host, host->size < sizeof(c->host) ? host->size : sizeof(c->host));
	c->host.size = host->size < sizeof(c->host) ? host->size : (uint32_t)sizeof(c->host);
	if ((rc = parse_params(c, params_json, err)) < 0)
		goto fail;
	c->bridge_hex[0] = '0';
	c->bridge_hex[1] = 'x';
	xr_hex_encode(c->bridge, 20, c->bridge_hex + 2);
	c->topic_hex[0] = '0';
	c->topic_hex[1] = 'x';
	xr_hex_encode(xr_bridge_sent_topic, 32, c->topic_hex + 2);
	bloom_bits(c->bridge, 20, c->bloom_bridge);
	bloom_bits(xr_bridge_sent_topic, 32, c->bloom_topic);
	uint8_t sel[32];
	xr_keccak256("sequence()", 10, sel);
	memcpy(c->sequence_selector, sel, 4);
	c->hdr_batch = HEADERS_PER_BATCH_MAX;
	c->blk_batch = BLOCKS_PER_BATCH_MAX;
	c->hit_window = HIT_WINDOW_START;

	if ((rc = call(c, "eth_chainId", "[]", &r, err)) < 0)
		goto fail;
	rc = xr_evm_json_u64(r, "eth_chainId", &id, err);
	json_decref(r);
	if (rc < 0)
		goto fail;
	if (id != c->chain_id) {
		rc = xr_err_set(err, XR_EVERIFY, "chain %s: the node serves chain id %llu", c->chain,
				(unsigned long long)id);
		goto fail;
	}
	*ret_chain = c;
	return 0;
fail:
	free(c);
	return rc;
}

static void evm_close(void *chain)
{
	free(chain);
}

/* --- head and block_hash ----------------------------------------------------- */

static int evm_head(void *chain, struct xr_head *ret_head, struct xr_err *err)
{
	struct evm *c = chain;
	const char *methods[2] = {"eth_getBlockByNumber", "eth_getBlockByNumber"};
	const char *params[2] = {"[\"latest\",false]", "[\"finalized\",false]"};
	json_t *r[2] = {NULL, NULL};
	struct xr_evm_header *h = malloc(sizeof(*h));
	struct xr_head out;
	uint8_t hash[32];
	int rc;

	if (!h)
		return xr_err_set(err, XR_ENOMEM, "out of memory for a header");
	memset(&out, 0, sizeof(out));
	if ((rc = batch(c, c->finalized ? 2 : 1, methods, params, r, err)) < 0)
		goto out;
	if ((rc = read_block(r[0], UINT64_MAX, h, out.latest_hash, err)) < 0) {
		xr_err_prefix(err, "%s latest block", c->chain);
		goto out;
	}
	out.latest = h->number;
	if (c->finalized) {
		if (json_is_null(r[1])) {
			rc = xr_err_set(err, XR_EINVAL, "%s: the node has no finalized block",
					c->chain);
			goto out;
		}
		if ((rc = read_block(r[1], UINT64_MAX, h, hash, err)) < 0) {
			xr_err_prefix(err, "%s finalized block", c->chain);
			goto out;
		}
		out.final = h->number < out.latest ? h->number : out.latest;
	} else {
		out.final = out.latest > c->confirmations ? out.latest - c->confirmations : 0;
	}
	*ret_head = out;
out:
	json_decref(r[0]);
	json_decref(r[1]);
	free(h);
	return rc;
}

static int evm_block_hash(void *chain, uint64_t height, uint8_t ret_hash[32], struct xr_err *err)
{
	struct evm *c = chain;
	struct xr_evm_header *h = malloc(sizeof(*h));
	char params[64];
	uint8_t hash[32];
	json_t *r = NULL;
	int rc;

	if (!h)
		return xr_err_set(err, XR_ENOMEM, "out of memory for a header");
	snprintf(params, sizeof(params), "[\"0x%llx\",false]", (unsigned long long)height);
	if ((rc = call(c, "eth_getBlockByNumber", params, &r, err)) < 0)
		goto out;
	if (json_is_null(r)) {
		rc = xr_err_set(err, XR_ENOTFOUND, "%s has no block %llu yet", c->chain,
				(unsigned long long)height);
		goto out;
	}
	if ((rc = read_block(r, height, h, hash, err)) < 0) {
		xr_err_prefix(err, "%s block %llu", c->chain, (unsigned long long)height);
		goto out;
	}
	memcpy(ret_hash, hash, 32);
out:
	json_decref(r);
	free(h);
	return rc;
}

/* --- scan ---------------------------------------------------------------------
 *
 * A scan of [from, to] runs in three passes, so that no block is passed over
 * and nothing off the agreed chain is emitted:
 *
 * 1. Headers: every block of the range (batched), each hashed, linked by
 *    parentHash from the anchor to the agreed hash of `to`. Each header's
 *    logsBloom says whether the block may hold a Sent event of the bridge.
 * 2. Windows of eth_getLogs, sized by how many logs come back; each log must
 *    name a block of the linked chain.
 * 3. For every block that eth_getLogs names or whose bloom hits: the block
 *    with its transactions and its receipts, both rebuilt into their tries
 *    and checked against the header. The events are read from the proven
 *    receipts. A named event the receipts do not hold is a lie (the scan
 *    fails); an event the receipts hold that eth_getLogs did not name was
 *    hidden (an alert naming the endpoint; the event is emitted all the same).
 */

/* One block of the range, from pass 1. */
struct blk {
	uint8_t hash[32];
	bool hit; /* the bloom holds the bridge and the Sent topic */
};

/* One Sent log as eth_getLogs reported it. */
struct found {
	uint64_t block;
	uint8_t block_hash[32];
	uint8_t tx[32];
	uint64_t log_index;
};

/* What a scan carries along. */
struct scan {
	struct evm *c;
	uint64_t from, to;
	struct blk *b; /* to - from + 1 */
	xr_observe_fn emit;
	xr_mark_fn mark;
	void *ctx;
	/* scratch, reused for every event */
	struct xr_evm_header *h;
	uint8_t *enc;
	struct xr_buf hdr, proof, tproof, ev;
	size_t emitted;
};

/* Bits of the 2048-bit bloom that a value sets (yellow paper, M3:2048). */
static void bloom_bits(const uint8_t *p, size_t n, uint16_t ret[3])
{
	uint8_t h[32];
	xr_keccak256(p, n, h);
	for (int i = 0; i < 3; i++)
		ret[i] = (uint16_t)(((h[2 * i] << 8) | h[2 * i + 1]) & 2047);
}

static bool bloom_has(const uint8_t bloom[256], const uint16_t bits[3])
{
	for (int i = 0; i < 3; i++)
		if (!(bloom[255 - bits[i] / 8] & (1u << (bits[i] % 8))))
			return false;
	return true;
}

/* Is this error the node saying the request was too big (rather than the
 * node being down)? Nodes word it differently: geth and Infura "query
 * returned more than 10000 results" (-32005), Alchemy "log response size
 * exceeded", others "block range too large", "exceed maximum block range".
 * Those come as JSON-RPC errors (XR_EINVAL). A reply over the host's cap
 * (XR_ETOOBIG, or an older host's "larger than" XR_EIO) and a timeout
 * (XR_ETIMEOUT: the node gave up on the work) count too. */
static bool range_error(int rc, const struct xr_err *e)
{
	static const char *const words[] = {
	    "-32005",	 "too many", "more than", "limit",	   "exceed",
	    "too large", "too big",  "range",	  "response size",
	};
	char low[sizeof(e->msg)];
	size_t i;

	if (rc == XR_ETOOBIG || rc == XR_ETIMEOUT)
		return true;
	if (rc == XR_EIO)
		return strstr(e->msg, "larger than") != NULL;
	if (rc != XR_EINVAL)
		return false;
	for (i = 0; i + 1 < sizeof(low) && e->msg[i]; i++)
		low[i] = (char)(e->msg[i] >= 'A' && e->msg[i] <= 'Z' ? e->msg[i] + 32 : e->msg[i]);
	low[i] = '\0';
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(low, words[i]))
			return true;
	return false;
}

/* Does a JSON-RPC error say the node does not have the method? */
static bool no_method(int rc, const struct xr_err *e)
{
	return rc == XR_EINVAL &&
	       (strstr(e->msg, "-32601") || strstr(e->msg, "ethod not found") ||
		strstr(e->msg, "not supported") || strstr(e->msg, "does not exist") ||
		strstr(e->msg, "not available"));
}

/* n calls in one batch; on success rets[i] holds the text of result i (the
 * caller frees each with c->host.free_result, or all with free_texts). */
static int batch_texts(struct evm *c,
		       size_t n,
		       const char *const *methods,
		       const char *const *params,
		       char **rets,
		       size_t *lens,
		       struct xr_err *err)
{
	memset(rets, 0, n * sizeof(*rets));
	int rc = c->host.rpc_batch(c->host.ctx, n, methods, params, rets, lens, err);
	if (rc < 0)
		memset(rets, 0, n * sizeof(*rets)); /* nothing was written on failure */
	return rc;
}

static void free_texts(struct evm *c, char **t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (t[i]) {
			c->host.free_result(c->host.ctx, t[i]);
			t[i] = NULL;
		}
}

/* Pass 1: the headers of [from, to], hashed and linked. */
static int read_headers(struct scan *s, const uint8_t *parent, const uint8_t *to_hash,
			struct xr_err *err)
{
	struct evm *c = s->c;
	const char *methods[HEADERS_PER_BATCH_MAX];
	const char *params[HEADERS_PER_BATCH_MAX];
	char pbuf[HEADERS_PER_BATCH_MAX][48];
	char *texts[HEADERS_PER_BATCH_MAX];
	size_t lens[HEADERS_PER_BATCH_MAX];
	uint8_t first_parent[32];
	int rc = 0;

	for (uint64_t n = s->from; n <= s->to;) {
		size_t k = c->hdr_batch;
		if (s->to - n + 1 < k)
			k = (size_t)(s->to - n + 1);
		for (size_t i = 0; i < k; i++) {
			methods[i] = "eth_getBlockByNumber";
			snprintf(pbuf[i], sizeof(pbuf[i]), "[\"0x%llx\",false]",
				 (unsigned long long)(n + i));
			params[i] = pbuf[i];
		}
		struct xr_err e = {0};
		if ((rc = batch_texts(c, k, methods, params, texts, lens, &e)) < 0) {
			if (rc == XR_ETOOBIG && c->hdr_batch > 1) {
				c->hdr_batch = c->hdr_batch / 2;
				continue;
			}
			return xr_err_set(err, e.code, "%s headers from %llu: %s", c->chain,
					  (unsigned long long)n, e.msg);
		}
		for (size_t i = 0; i < k && rc == 0; i++) {
			uint64_t num = n + i;
			json_t *j = NULL;
			if ((rc = parse_result("eth_getBlockByNumber", texts[i], lens[i], &j, err)) <
			    0)
				break;
			c->host.free_result(c->host.ctx, texts[i]);
			texts[i] = NULL;
			if (json_is_null(j)) {
				rc = xr_err_set(err, XR_ENOTFOUND, "%s has no block %llu",
						c->chain, (unsigned long long)num);
			} else if ((rc = read_block(j, num, s->h, s->b[num - s->from].hash, err)) <
				   0) {
				xr_err_prefix(err, "%s block %llu", c->chain,
					      (unsigned long long)num);
			} else {
				struct blk *b = &s->b[num - s->from];
				b->hit = bloom_has(s->h->logs_bloom, c->bloom_bridge) &&
					 bloom_has(s->h->logs_bloom, c->bloom_topic);
				if (num == s->from)
					memcpy(first_parent, s->h->parent_hash, 32);
				else if (memcmp(s->h->parent_hash, b[-1].hash, 32) != 0)
					rc = xr_err_set(err, XR_ESTATE,
							"%s block %llu does not link to block "
							"%llu (the chain changed during the scan?)",
							c->chain, (unsigned long long)num,
							(unsigned long long)num - 1);
			}
			json_decref(j);
		}
		free_texts(c, texts, k);
		if (rc < 0)
			return rc;
		if (c->hdr_batch < HEADERS_PER_BATCH_MAX)
			c->hdr_batch = c->hdr_batch * 2 < HEADERS_PER_BATCH_MAX
					   ? c->hdr_batch * 2
					   : HEADERS_PER_BATCH_MAX;
		n += k;
	}
	const uint8_t *last = s->b[s->to - s->from].hash;
	if (to_hash && memcmp(last, to_hash, 32) != 0) {
		char a[65], b[65];
		xr_hex_encode(last, 32, a);
		xr_hex_encode(to_hash, 32, b);
		return xr_err_set(err, XR_ESTATE,
				  "%s block %llu is 0x%s on this endpoint, the endpoints agreed "
				  "on 0x%s",
				  c->chain, (unsigned long long)s->to, a, b);
	}
	if (parent && memcmp(first_parent, parent, 32) != 0) {
		char a[65], b[65];
		xr_hex_encode(first_parent, 32, a);
		xr_hex_encode(parent, 32, b);
		return xr_err_set(err, XR_ECONFLICT,
				  "%s block %llu has parent 0x%s, the cursor holds 0x%s", c->chain,
				  (unsigned long long)s->from, a, b);
	}
	return 0;
}

static int read_log(struct evm *c,
		    const json_t *l,
		    size_t i,
		    uint64_t from,
		    uint64_t to,
		    struct found *ret,
		    struct xr_err *err)
{
	uint8_t addr[20], topic[32];
	const json_t *topics = json_object_get(l, "topics"), *removed;
	int rc;

	if (!json_is_object(l))
		return xr_err_set(err, XR_EINVAL, "log %zu is not a json object", i);
	if ((removed = json_object_get(l, "removed")) && !json_is_false(removed))
		return xr_err_set(err, XR_EINVAL, "log %zu is marked removed", i);
	if ((rc = xr_evm_json_u64(json_object_get(l, "blockNumber"), "log blockNumber", &ret->block,
				  err)) < 0 ||
	    (rc = xr_evm_json_fixed(json_object_get(l, "blockHash"), "log blockHash",
				    ret->block_hash, 32, err)) < 0 ||
	    (rc = xr_evm_json_fixed(json_object_get(l, "transactionHash"), "log transactionHash",
				    ret->tx, 32, err)) < 0 ||
	    (rc = xr_evm_json_u64(json_object_get(l, "logIndex"), "log logIndex", &ret->log_index,
				  err)) < 0 ||
	    (rc = xr_evm_json_fixed(json_object_get(l, "address"), "log address", addr, 20, err)) <
		0)
		goto bad;
	if (!json_is_array(topics) || json_array_size(topics) < 1) {
		rc = xr_err_set(err, XR_EINVAL, "log topics is not a non-empty array");
		goto bad;
	}
	if ((rc = xr_evm_json_fixed(json_array_get(topics, 0), "log topic 0", topic, 32, err)) < 0)
		goto bad;
	if (memcmp(addr, c->bridge, 20) != 0 || memcmp(topic, xr_bridge_sent_topic, 32) != 0) {
		rc = xr_err_set(err, XR_EINVAL, "log is not a Sent event of the bridge");
		goto bad;
	}
	if (ret->block < from || ret->block > to) {
		rc = xr_err_set(err, XR_EINVAL, "log of block %llu is outside %llu..%llu",
				(unsigned long long)ret->block, (unsigned long long)from,
				(unsigned long long)to);
		goto bad;
	}
	if (ret->log_index > UINT32_MAX) {
		rc = xr_err_set(err, XR_EINVAL, "log logIndex %llu is over 2^32-1",
				(unsigned long long)ret->log_index);
		goto bad;
	}
	return 0;
bad:
	xr_err_prefix(err, "%s eth_getLogs log %zu", c->chain, i);
	return rc;
}

/* --- walking a JSON array's text ---------------------------------------------
 * eth_getLogs replies can hold thousands of logs; a jansson tree of the whole
 * reply is ~20x its text. The elements are cut out of the text one at a
 * time and each is parsed (strictly) on its own. The cutting only has to be
 * safe: whatever it cuts wrong, jansson or the separator check refuses. */

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static const char *skip_value(const char *p, const char *end)
{
	size_t depth = 0;
	for (; p < end; p++) {
		if (*p == '"') {
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\' && p + 1 < end)
					p++;
			if (p == end)
				return end;
			if (depth == 0)
				return p + 1;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if (*p == '}' || *p == ']') {
			if (depth == 0)
				return p; /* the end of the enclosing array */
			if (--depth == 0)
				return p + 1;
		} else if (depth == 0 && (*p == ',' || *p == ' ' || *p == '\t' || *p == '\n' ||
					  *p == '\r')) {
			return p;
		}
	}
	return end;
}

/* Calls fn for each element of the JSON array in text. */
static int each_element(const char *text,
			size_t len,
			const char *what,
			int (*fn)(void *ctx, const json_t *v, size_t i, struct xr_err *err),
			void *ctx,
			struct xr_err *err)
{
	const char *p = skip_ws(text, text + len), *end = text + len;
	size_t i = 0;
	int rc;

	if (p == end || *p != '[')
		return xr_err_set(err, XR_EINVAL, "%s reply is not an array", what);
	p = skip_ws(p + 1, end);
	if (p < end && *p == ']') {
		p = skip_ws(p + 1, end);
	} else {
		for (;;) {
			const char *v = p;
			p = skip_value(p, end);
			json_error_t je;
			json_t *j = json_loadb(v, (size_t)(p - v), JSON_REJECT_DUPLICATES, &je);
			if (!j)
				return xr_err_set(err, XR_EINVAL, "%s element %zu is not json: %s",
						  what, i, je.text);
			rc = fn(ctx, j, i, err);
			json_decref(j);
			if (rc < 0)
				return rc;
			i++;
			p = skip_ws(p, end);
			if (p < end && *p == ',') {
				p = skip_ws(p + 1, end);
				continue;
			}
			if (p < end && *p == ']') {
				p = skip_ws(p + 1, end);
				break;
			}
			return xr_err_set(err, XR_EINVAL, "%s reply: element %zu is not followed "
							  "by ',' or ']'",
					  what, i - 1);
		}
	}
	if (p != end)
		return xr_err_set(err, XR_EINVAL, "%s reply has text after the array", what);
	return 0;
}

struct logs {
	struct scan *s;
	uint64_t from, to;
	struct found *f;
	size_t n, cap;
};

static int add_log(void *ctx, const json_t *l, size_t i, struct xr_err *err)
{
	struct logs *g = ctx;
	struct evm *c = g->s->c;
	struct found x;
	int rc;

	if (i >= MAX_LOGS_PER_QUERY)
		return xr_err_set(err, XR_EINVAL, "%s eth_getLogs: too many results (over %d)",
				  c->chain, MAX_LOGS_PER_QUERY);
	if ((rc = read_log(c, l, i, g->from, g->to, &x, err)) < 0)
		return rc;
	if (g->n > 0 && (x.block < g->f[g->n - 1].block ||
			 (x.block == g->f[g->n - 1].block && x.log_index <= g->f[g->n - 1].log_index)))
		return xr_err_set(err, XR_EINVAL,
				  "%s eth_getLogs: log %zu (block %llu, index %llu) is out of order",
				  c->chain, i, (unsigned long long)x.block,
				  (unsigned long long)x.log_index);
	if (memcmp(x.block_hash, g->s->b[x.block - g->s->from].hash, 32) != 0)
		return xr_err_set(err, XR_ESTATE,
				  "%s eth_getLogs names block %llu by a hash off the linked chain "
				  "(reorg?)",
				  c->chain, (unsigned long long)x.block);
	if (g->n == g->cap) {
		size_t nc = g->cap ? g->cap * 2 : 64;
		struct found *p = realloc(g->f, nc * sizeof(*p));
		if (!p)
			return xr_err_set(err, XR_ENOMEM, "out of memory for %zu logs", nc);
		g->f = p;
		g->cap = nc;
	}
	g->f[g->n++] = x;
	return 0;
}

/* eth_getLogs over [from, to]: the bridge's Sent logs, in (block, logIndex)
 * order, checked, into g (emptied first). */
static int get_logs(struct scan *s, uint64_t from, uint64_t to, struct logs *g, struct xr_err *err)
{
	struct evm *c = s->c;
	char params[512];
	char *res = NULL;
	size_t len = 0;
	int rc;

	g->n = 0;
	g->from = from;
	g->to = to;
	snprintf(params, sizeof(params),
		 "[{\"fromBlock\":\"0x%llx\",\"toBlock\":\"0x%llx\",\"address\":\"%s\","
		 "\"topics\":[\"%s\"]}]",
		 (unsigned long long)from, (unsigned long long)to, c->bridge_hex, c->topic_hex);
	if ((rc = c->host.rpc(c->host.ctx, "eth_getLogs", params, &res, &len, err)) < 0)
		return rc;
	rc = each_element(res, len, "eth_getLogs", add_log, g, err);
	c->host.free_result(c->host.ctx, res);
	return rc;
}

/* Builds the envelope and evidence of one Sent log, verifies them as an
 * auditor will, and emits them. */
static int emit_one(struct scan *s,
		    const uint8_t hash[32],
		    const struct xr_evm_receipts *rs,
		    const struct xr_evm_txs *txs,
		    size_t ri,
		    size_t pos,
		    const struct xr_evm_log *lg,
		    const uint8_t tx[32],
		    uint64_t log_index,
		    struct xr_err *err)
{
	struct evm *c = s->c;
	struct xr_envelope env, back;
	const uint8_t *raw;
	size_t elen, raw_len;
	int rc;

	if ((rc = xr_evm_sent_envelope(c->chain, s->h, hash, tx, (uint32_t)log_index, lg, &env,
				       err)) < 0 ||
	    (rc = xr_envelope_encode(&env, s->enc, XR_ENV_MAX_LEN, &elen, err)) < 0 ||
	    (rc = xr_envelope_decode(s->enc, elen, &back, err)) < 0)
		goto fail;
	xr_buf_reset(&s->proof);
	xr_buf_reset(&s->tproof);
	xr_buf_reset(&s->ev);
	xr_evm_txs_get(txs, ri, &raw, &raw_len);
	if ((rc = xr_evm_receipts_prove(rs, ri, &s->proof, NULL, err)) < 0 ||
	    (rc = xr_evm_txs_prove(txs, ri, &s->tproof, NULL, err)) < 0 ||
	    (rc = xr_evm_evidence_encode2(s->hdr.data, s->hdr.len, ri, s->proof.data, s->proof.len,
					  pos, raw, raw_len, s->tproof.data, s->tproof.len, &s->ev,
					  err)) < 0)
		goto fail;
	if ((rc = xr_evidence_evm.check(&back, s->ev.data, s->ev.len, err)) < 0) {
		xr_err_prefix(err, "own evidence");
		goto fail;
	}
	struct xr_observation o = {s->enc, elen, s->ev.data, s->ev.len};
	s->emitted++;
	return s->emit(s->ctx, &o, err);
fail:
	xr_err_prefix(err, "%s block %llu log %llu", c->chain, (unsigned long long)s->h->number,
		      (unsigned long long)log_index);
	return rc;
}

/* One Sent log of the proven receipts. */
struct sent_at {
	size_t ri, pos;
	uint64_t log_index;
};

/* One block's events, from its block object (with transactions) and its
 * receipts; f[0..nf) are the logs eth_getLogs named in it. */
static int scan_block(struct scan *s,
		      uint64_t number,
		      const json_t *bj,
		      const json_t *rj,
		      const struct found *f,
		      size_t nf,
		      struct xr_err *err)
{
	struct evm *c = s->c;
	const uint8_t *want = s->b[number - s->from].hash;
	struct xr_evm_receipts *rs = NULL;
	struct xr_evm_txs *txs = NULL;
	struct sent_at *at = NULL;
	size_t nat = 0, cap = 0;
	uint8_t hash[32], root[32];
	uint64_t log_index = 0;
	int rc;

	if (json_is_null(bj)) {
		rc = xr_err_set(err, XR_ESTATE, "%s block %llu is gone (reorg?)", c->chain,
				(unsigned long long)number);
		goto out;
	}
	if ((rc = read_block(bj, number, s->h, hash, err)) < 0)
		goto block_err;
	if (memcmp(hash, want, 32) != 0) {
		rc = xr_err_set(err, XR_ESTATE, "%s block %llu changed during the scan (reorg?)",
				c->chain, (unsigned long long)number);
		goto out;
	}
	if ((rc = xr_evm_receipts_from_json(rj, &rs, err)) < 0)
		goto block_err;
	xr_evm_receipts_root(rs, root);
	if (memcmp(root, s->h->receipts_root, 32) != 0) {
		rc = xr_err_set(err, XR_EVERIFY,
				"%s block %llu: the node's receipts do not match the "
				"header's receiptsRoot",
				c->chain, (unsigned long long)number);
		goto out;
	}
	if ((rc = xr_evm_txs_from_json(json_object_get(bj, "transactions"), &txs, err)) < 0)
		goto block_err;
	xr_evm_txs_root(txs, root);
	if (memcmp(root, s->h->tx_root, 32) != 0) {
		rc = xr_err_set(err, XR_EVERIFY,
				"%s block %llu: the node's transactions do not match the "
				"header's transactionsRoot",
				c->chain, (unsigned long long)number);
		goto out;
	}
	if (xr_evm_txs_count(txs) != xr_evm_receipts_count(rs)) {
		rc = xr_err_set(err, XR_EVERIFY, "%s block %llu has %zu transactions and %zu receipts",
				c->chain, (unsigned long long)number, xr_evm_txs_count(txs),
				xr_evm_receipts_count(rs));
		goto out;
	}
	xr_buf_reset(&s->hdr);
	if ((rc = xr_evm_header_encode(s->h, &s->hdr, err)) < 0)
		goto block_err;

	/* Every Sent log of the bridge in the proven receipts. */
	for (size_t ri = 0; ri < xr_evm_receipts_count(rs); ri++) {
		const uint8_t *renc;
		size_t rlen;
		struct xr_evm_receipt rcpt;
		xr_evm_receipts_get(rs, ri, &renc, &rlen);
		if ((rc = xr_evm_receipt_decode(renc, rlen, &rcpt, err)) < 0)
			goto block_err;
		for (size_t pos = 0; pos < rcpt.n_logs; pos++, log_index++) {
			struct xr_evm_log lg;
			if ((rc = xr_evm_receipt_log(&rcpt, pos, &lg, err)) < 0)
				goto block_err;
			if (memcmp(lg.address, c->bridge, 20) != 0 || lg.n_topics < 1 ||
			    memcmp(lg.topics[0], xr_bridge_sent_topic, 32) != 0)
				continue;
			if (nat == cap) {
				size_t nc = cap ? cap * 2 : 16;
				struct sent_at *p = realloc(at, nc * sizeof(*p));
				if (!p) {
					rc = xr_err_set(err, XR_ENOMEM, "out of memory");
					goto out;
				}
				at = p;
				cap = nc;
			}
			at[nat++] = (struct sent_at){ri, pos, log_index};
		}
	}
	/* What eth_getLogs named must be there, in the same transaction. */
	for (size_t k = 0, j = 0; k < nf; k++) {
		uint8_t tx[32];
		const uint8_t *raw;
		size_t raw_len;
		while (j < nat && at[j].log_index < f[k].log_index)
			j++;
		if (j < nat && at[j].log_index == f[k].log_index) {
			xr_evm_txs_get(txs, at[j].ri, &raw, &raw_len);
			xr_keccak256(raw, raw_len, tx);
		}
		if (j == nat || at[j].log_index != f[k].log_index || memcmp(tx, f[k].tx, 32) != 0) {
			rc = xr_err_set(err, XR_EVERIFY,
					"%s block %llu: eth_getLogs names log %llu, which the "
					"block's receipts and transactions do not hold",
					c->chain, (unsigned long long)number,
					(unsigned long long)f[k].log_index);
			goto out;
		}
	}
	if (nat > nf) {
		char detail[256];
		snprintf(detail, sizeof(detail),
			 "%s block %llu: eth_getLogs named %zu Sent events of the bridge, the "
			 "proven receipts hold %zu",
			 c->chain, (unsigned long long)number, nf, nat);
		say(c, XR_LOG_WARN, "%s", detail);
		if (XR_HOST_HAS(&c->host, alert))
			c->host.alert(c->host.ctx, "endpoint hid events", detail);
	}
	for (size_t j = 0; j < nat; j++) {
		const uint8_t *renc, *raw;
		size_t rlen, raw_len;
		struct xr_evm_receipt rcpt;
		struct xr_evm_log lg;
		uint8_t tx[32];
		xr_evm_receipts_get(rs, at[j].ri, &renc, &rlen);
		xr_evm_txs_get(txs, at[j].ri, &raw, &raw_len);
		xr_keccak256(raw, raw_len, tx);
		if ((rc = xr_evm_receipt_decode(renc, rlen, &rcpt, err)) < 0 ||
		    (rc = xr_evm_receipt_log(&rcpt, at[j].pos, &lg, err)) < 0)
			goto block_err;
		if ((rc = emit_one(s, hash, rs, txs, at[j].ri, at[j].pos, &lg, tx,
				   at[j].log_index, err)) < 0)
			goto out;
	}
	if (nat && s->mark && (rc = s->mark(s->ctx, number, hash, err)) < 0)
		goto out;
	rc = 0;
	goto out;
block_err:
	xr_err_prefix(err, "%s block %llu", c->chain, (unsigned long long)number);
out:
	free(at);
	xr_evm_receipts_free(rs);
	xr_evm_txs_free(txs);
	return rc;
}

/* A JSON array of the receipts of a block's transactions, one
 * eth_getTransactionReceipt each, for nodes without eth_getBlockReceipts. */
static int receipts_by_tx(struct evm *c, const json_t *bj, json_t **ret, struct xr_err *err)
{
	const json_t *txs = json_object_get(bj, "transactions");
	size_t n = json_array_size(txs);
	const char *methods[TX_RECEIPTS_PER_BATCH];
	const char *params[TX_RECEIPTS_PER_BATCH];
	char pbuf[TX_RECEIPTS_PER_BATCH][80];
	char *texts[TX_RECEIPTS_PER_BATCH];
	size_t lens[TX_RECEIPTS_PER_BATCH];
	json_t *arr = json_array();
	int rc = 0;

	if (!arr)
		return xr_err_set(err, XR_ENOMEM, "out of memory");
	if (!json_is_array(txs)) {
		rc = xr_err_set(err, XR_EINVAL, "block transactions is not an array");
		goto out;
	}
	for (size_t i = 0; i < n;) {
		size_t k = n - i < TX_RECEIPTS_PER_BATCH ? n - i : TX_RECEIPTS_PER_BATCH;
		for (size_t j = 0; j < k; j++) {
			uint8_t h[32];
			char hex[65];
			if ((rc = xr_evm_json_fixed(json_object_get(json_array_get(txs, i + j), "hash"),
						    "transaction hash", h, 32, err)) < 0)
				goto out;
			xr_hex_encode(h, 32, hex);
			snprintf(pbuf[j], sizeof(pbuf[j]), "[\"0x%s\"]", hex);
			methods[j] = "eth_getTransactionReceipt";
			params[j] = pbuf[j];
		}
		if ((rc = batch_texts(c, k, methods, params, texts, lens, err)) < 0)
			goto out;
		for (size_t j = 0; j < k && rc == 0; j++) {
			json_t *r = NULL;
			if ((rc = parse_result(methods[j], texts[j], lens[j], &r, err)) == 0)
				rc = json_array_append_new(arr, r) == 0
					 ? 0
					 : xr_err_set(err, XR_ENOMEM, "out of memory");
		}
		free_texts(c, texts, k);
		if (rc < 0)
			goto out;
		i += k;
	}
	*ret = arr;
	arr = NULL;
out:
	json_decref(arr);
	return rc;
}

/* Fetches blocks nums[0..nb) (full transactions, receipts) and scans them.
 * f and nf are the window's logs from eth_getLogs. */
static int scan_group(struct scan *s,
		      const uint64_t *nums,
		      size_t nb,
		      const struct found *f,
		      size_t nf,
		      size_t *fi,
		      struct xr_err *err)
{
	struct evm *c = s->c;
	const char *methods[2 * BLOCKS_PER_BATCH_MAX] = {NULL};
	const char *params[2 * BLOCKS_PER_BATCH_MAX] = {NULL};
	char pbuf[2 * BLOCKS_PER_BATCH_MAX][48];
	char *texts[2 * BLOCKS_PER_BATCH_MAX];
	size_t lens[2 * BLOCKS_PER_BATCH_MAX];
	size_t per = c->per_tx_receipts ? 1 : 2, n = 0;
	int rc;

	for (size_t i = 0; i < nb; i++) {
		unsigned long long b = (unsigned long long)nums[i];
		methods[n] = "eth_getBlockByNumber";
		snprintf(pbuf[n], sizeof(pbuf[0]), "[\"0x%llx\",true]", b);
		params[n] = pbuf[n];
		n++;
		if (per == 2) {
			methods[n] = "eth_getBlockReceipts";
			snprintf(pbuf[n], sizeof(pbuf[0]), "[\"0x%llx\"]", b);
			params[n] = pbuf[n];
			n++;
		}
	}
	if ((rc = batch_texts(c, n, methods, params, texts, lens, err)) < 0)
		return rc;
	for (size_t i = 0; i < nb && rc == 0; i++) {
		json_t *bj = NULL, *rj = NULL;
		size_t start = *fi, end = start;
		while (end < nf && f[end].block == nums[i])
			end++;
		if ((rc = parse_result(methods[per * i], texts[per * i], lens[per * i], &bj, err)) ==
		    0) {
			c->host.free_result(c->host.ctx, texts[per * i]);
			texts[per * i] = NULL;
			if (per == 2)
				rc = parse_result(methods[2 * i + 1], texts[2 * i + 1],
						  lens[2 * i + 1], &rj, err);
			else if (!json_is_null(bj))
				rc = receipts_by_tx(c, bj, &rj, err);
			if (per == 2) {
				c->host.free_result(c->host.ctx, texts[2 * i + 1]);
				texts[2 * i + 1] = NULL;
			}
		}
		if (rc == 0)
			rc = scan_block(s, nums[i], bj, rj, f + start, end - start, err);
		json_decref(bj);
		json_decref(rj);
		*fi = end;
	}
	free_texts(c, texts, n);
	return rc;
}

/* Pass 3 over one window: the blocks eth_getLogs named or whose bloom hits. */
static int scan_window(struct scan *s, uint64_t a, uint64_t b, const struct logs *g,
		       struct xr_err *err)
{
	struct evm *c = s->c;
	uint64_t nums[BLOCKS_PER_BATCH_MAX];
	size_t fi = 0;
	int rc;

	for (uint64_t n = a; n <= b;) {
		size_t nb = 0;
		uint64_t next = n;
		size_t fscan = fi;
		while (next <= b && nb < c->blk_batch) {
			bool named = false;
			while (fscan < g->n && g->f[fscan].block < next)
				fscan++;
			named = fscan < g->n && g->f[fscan].block == next;
			if (named || s->b[next - s->from].hit)
				nums[nb++] = next;
			next++;
		}
		if (nb == 0) {
			n = next;
			continue;
		}
		struct xr_err e = {0};
		size_t fi0 = fi, emitted = s->emitted;
		rc = scan_group(s, nums, nb, g->f, g->n, &fi, &e);
		/* A retry is safe only when nothing of the group was emitted. */
		if (rc == XR_ETOOBIG && c->blk_batch > 1 && s->emitted == emitted) {
			c->blk_batch /= 2; /* emitted nothing: the batch failed whole */
			fi = fi0;
			continue;
		}
		if (!c->per_tx_receipts && no_method(rc, &e) && s->emitted == emitted &&
		    strstr(e.msg, "eth_getBlockReceipts")) {
			say(c, XR_LOG_INFO,
			    "%s: the node has no eth_getBlockReceipts (%s); reading receipts "
			    "one transaction at a time",
			    c->chain, e.msg);
			c->per_tx_receipts = true;
			fi = fi0;
			continue;
		}
		if (rc < 0)
			return xr_err_set(err, e.code, "%s", e.msg);
		n = nums[nb - 1] + 1;
		if (c->blk_batch < BLOCKS_PER_BATCH_MAX)
			c->blk_batch++;
	}
	return 0;
}

static int scan_span(struct evm *c,
		     uint64_t from,
		     uint64_t to,
		     const uint8_t *parent,
		     const uint8_t *to_hash,
		     xr_observe_fn emit,
		     xr_mark_fn mark,
		     void *ctx,
		     struct xr_err *err)
{
	struct scan s = {.c = c, .from = from, .to = to, .emit = emit, .mark = mark, .ctx = ctx};
	struct logs g = {.s = &s};
	int rc;

	if (from > to)
		return xr_err_set(err, XR_EINVAL, "scan from %llu past to %llu",
				  (unsigned long long)from, (unsigned long long)to);
	if (to - from >= MAX_SPAN)
		return xr_err_set(err, XR_EINVAL, "scan of %llu blocks, at most %d at once",
				  (unsigned long long)(to - from + 1), MAX_SPAN);
	s.b = calloc((size_t)(to - from + 1), sizeof(*s.b));
	s.h = malloc(sizeof(*s.h));
	s.enc = malloc(XR_ENV_MAX_LEN);
	xr_buf_init(&s.hdr, XR_EVM_HEADER_RLP_MAX);
	xr_buf_init(&s.proof, XR_EVM_EVIDENCE_MAX);
	xr_buf_init(&s.tproof, XR_EVM_EVIDENCE_MAX);
	xr_buf_init(&s.ev, XR_EVM_EVIDENCE_MAX);
	if (!s.b || !s.h || !s.enc) {
		rc = xr_err_set(err, XR_ENOMEM, "out of memory scanning %llu blocks",
				(unsigned long long)(to - from + 1));
		goto out;
	}
	if ((rc = read_headers(&s, parent, to_hash, err)) < 0)
		goto out;
	/* Blocks below start_height are linked (the cursor must reach them)
	 * but never read for events. */
	uint64_t a = from < c->start_height ? c->start_height : from;
	while (a <= to) {
		uint64_t b = to - a >= c->range ? a + c->range - 1 : to;
		/* The headers say where events may be: a window holds at most
		 * hit_window blocks whose bloom hits, so the first reply is
		 * sized before any log count is known. */
		size_t hits = 0;
		for (uint64_t n = a; n <= b; n++)
			if (s.b[n - from].hit && ++hits == c->hit_window) {
				b = n;
				break;
			}
		struct xr_err e = {0};
		if ((rc = get_logs(&s, a, b, &g, &e)) < 0) {
			if ((c->range > 1 || c->hit_window > 1) && range_error(rc, &e)) {
				uint64_t w = b - a + 1;
				c->range = w / 2 ? w / 2 : 1;
				c->hit_window = hits / 2 ? hits / 2 : 1;
				say(c, XR_LOG_INFO,
				    "%s eth_getLogs over %llu blocks failed (%s); trying %llu",
				    c->chain, (unsigned long long)w, e.msg,
				    (unsigned long long)c->range);
				continue;
			}
			rc = xr_err_set(err, e.code, "%s", e.msg);
			goto out;
		}
		if ((rc = scan_window(&s, a, b, &g, err)) < 0)
			goto out;
		/* Size the next window so a reply holds about TARGET_LOGS logs. */
		uint64_t span = b - a + 1;
		if (g.n > TARGET_LOGS) {
			uint64_t r = span * TARGET_LOGS / g.n;
			c->range = r ? r : 1;
			size_t h = hits * TARGET_LOGS / g.n;
			c->hit_window = h ? h : 1;
		} else if (g.n < TARGET_LOGS / 2) {
			if (c->range < c->max_range)
				c->range =
				    c->range * 2 < c->max_range ? c->range * 2 : c->max_range;
			if (hits == c->hit_window && c->hit_window < HIT_WINDOW_MAX)
				c->hit_window *= 2;
		}
		if (b == UINT64_MAX)
			break;
		a = b + 1;
	}
	if (mark && (rc = mark(ctx, to, s.b[to - from].hash, err)) < 0)
		goto out;
	rc = 0;
out:
	free(g.f);
	free(s.b);
	free(s.h);
	free(s.enc);
	xr_buf_fini(&s.hdr);
	xr_buf_fini(&s.proof);
	xr_buf_fini(&s.tproof);
	xr_buf_fini(&s.ev);
	return rc;
}

static int
evm_scan(void *chain, uint64_t from, uint64_t to, xr_observe_fn emit, void *ctx, struct xr_err *err)
{
	return scan_span(chain, from, to, NULL, NULL, emit, NULL, ctx, err);
}

static int evm_scan_linked(void *chain,
			   const struct xr_span *span,
			   xr_observe_fn emit,
			   xr_mark_fn mark,
			   void *ctx,
			   struct xr_err *err)
{
	if (span->from == 0)
		return xr_err_set(err, XR_EINVAL, "linked scan must start at block 1 or later");
	return scan_span(chain, span->from, span->to, span->parent_hash, span->to_hash, emit, mark,
			 ctx, err);
}

/* The bridge's sequence() at block height: the last sequence it emitted. */
static int evm_emitters(void *chain,
			uint64_t height,
			const uint8_t block_hash[32],
			xr_emitter_fn fn,
			void *ctx,
			struct xr_err *err)
{
	struct evm *c = chain;
	char params[256], sel[9];
	char *res = NULL;
	size_t len;
	json_t *r = NULL;
	uint8_t word[32];
	int rc;

	(void)block_hash;
	xr_hex_encode(c->sequence_selector, 4, sel);
	snprintf(params, sizeof(params), "[{\"to\":\"%s\",\"data\":\"0x%s\"},\"0x%llx\"]",
		 c->bridge_hex, sel, (unsigned long long)height);
	if ((rc = c->host.rpc(c->host.ctx, "eth_call", params, &res, &len, err)) < 0)
		return rc;
	rc = parse_result("eth_call", res, len, &r, err);
	c->host.free_result(c->host.ctx, res);
	if (rc < 0)
		return rc;
	if (json_is_string(r) && strcmp(json_string_value(r), "0x") == 0) {
		/* No code there yet: a bridge deployed later has sent nothing. */
		say(c, XR_LOG_INFO, "%s: no bridge code at %s at block %llu: sequence 0", c->chain,
		    c->bridge_hex, (unsigned long long)height);
		memset(word, 0, sizeof(word));
	} else if ((rc = xr_evm_json_fixed(r, "bridge sequence()", word, 32, err)) == 0) {
		for (int i = 0; i < 24; i++)
			if (word[i])
				rc = xr_err_set(err, XR_EINVAL,
						"%s bridge sequence() does not fit in 64 bits",
						c->chain);
	}
	json_decref(r);
	if (rc < 0)
		return rc;
	return fn(ctx, c->bridge, 20, xr_get_be64(word + 24), err);
}

static const struct xr_adapter evm_adapter = {
    .abi_major = XR_ADAPTER_ABI_MAJOR,
    .abi_minor = XR_ADAPTER_ABI_MINOR,
    .size = sizeof(struct xr_adapter),
    .framework = "evm",
    .caps = XR_CAP_SCAN,
    .open = evm_open,
    .close = evm_close,
    .head = evm_head,
    .scan = evm_scan,
    .block_hash = evm_block_hash,
    .submit = NULL,
    .broadcast = NULL,
    .scan_linked = evm_scan_linked,
    .emitters = evm_emitters,
};

const struct xr_adapter *xr_evm_adapter(void)
{
	return &evm_adapter;
}
