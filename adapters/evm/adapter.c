/* adapter.c - the EVM adapter: finds the bridge's Sent events with
 * eth_getLogs, then proves each one from the block header and the block's
 * receipts trie before it emits the envelope with its evidence.
 *
 * Parameters (a JSON object; unknown keys are refused):
 *   "chain"          CAIP-2 "eip155:<chain id>", checked against eth_chainId
 *   "bridge"         the Bridge contract, "0x" + 40 hex digits (EIP-55 or not)
 *   "confirmations"  blocks below the tip that are final (default 12), or
 *   "finality"       "finalized": the node's finalized block is final
 *   "max_range"      most blocks per eth_getLogs (default 1000, 1..100000);
 *                    halved on a "too many results" or size error, grown back
 *                    (x2 per success) up to this
 *   "start_height"   blocks below it are never scanned (default 0)
 *   "rpc"            ignored: the endpoints are the relay's, behind the host
 *
 * Nothing a node sends is trusted: every reply is parsed strictly, a header
 * must hash to its block hash, a block's receipts must rebuild its
 * receiptsRoot, and the events are read from those proven receipts; what
 * eth_getLogs says must agree with them. */
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
#include "xr_bytes.h"

#define DEFAULT_CONFIRMATIONS 12
#define MAX_CONFIRMATIONS 1000000
#define DEFAULT_MAX_RANGE 1000
#define MAX_RANGE_CAP 100000
/* Logs in one eth_getLogs reply; more is treated as "too many results". */
#define MAX_LOGS_PER_QUERY 100000
/* Blocks fetched (header and receipts) in one JSON-RPC batch. */
#define BLOCKS_PER_BATCH 8

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
};

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
	static const char *const known[] = {
	    "chain", "bridge", "confirmations", "finality", "max_range", "start_height", "rpc"};
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
			    "finality, max_range, start_height)",
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
	c->confirmations = DEFAULT_CONFIRMATIONS;
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
		c->finalized = true;
		c->confirmations = 0;
	}
	if ((v = json_object_get(p, "confirmations")) &&
	    (rc = param_uint(v, "confirmations", 0, MAX_CONFIRMATIONS, &c->confirmations, err)) < 0)
		goto out;
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
	if (host->size < sizeof(struct xr_host) || !host->rpc || !host->rpc_batch ||
	    !host->free_result)
		return xr_err_set(err, XR_EINVAL,
				  "host of %u bytes lacks rpc, rpc_batch or free_result",
				  host->size);
	if (!(c = calloc(1, sizeof(*c))))
		return xr_err_set(err, XR_ENOMEM, "out of memory opening an evm chain");
	memcpy(&c->host, host, sizeof(c->host));
	if ((rc = parse_params(c, params_json, err)) < 0)
		goto fail;
	c->bridge_hex[0] = '0';
	c->bridge_hex[1] = 'x';
	xr_hex_encode(c->bridge, 20, c->bridge_hex + 2);
	c->topic_hex[0] = '0';
	c->topic_hex[1] = 'x';
	xr_hex_encode(xr_bridge_sent_topic, 32, c->topic_hex + 2);

	if ((rc = call(c, "eth_chainId", "[]", &r, err)) < 0)
		goto fail;
	rc = xr_evm_json_u64(r, "eth_chainId", &id, err);
	json_decref(r);
	if (rc < 0)
		goto fail;
	if (id != c->chain_id) {
		rc = xr_err_set(err, XR_EINVAL, "chain %s: the node serves chain id %llu", c->chain,
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

/* --- scan --------------------------------------------------------------------- */

/* One Sent log as eth_getLogs reported it. */
struct found {
	uint64_t block;
	uint8_t block_hash[32];
	uint8_t tx[32];
	uint64_t log_index;
};

/* Does a failed eth_getLogs say the range was too big (rather than the node
 * being down)? Nodes word it differently: geth and Infura "query returned
 * more than 10000 results" (-32005), Alchemy "log response size exceeded",
 * others "block range too large", "exceed maximum block range". Those come
 * as JSON-RPC errors (XR_EINVAL); a reply that outgrows the host's size cap
 * comes as a transport error naming the cap. */
static bool range_error(int rc, const struct xr_err *e)
{
	static const char *const words[] = {
	    "-32005",	 "too many", "more than", "limit",	   "exceed",
	    "too large", "too big",  "range",	  "response size",
	};
	char low[sizeof(e->msg)];
	size_t i;

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

/* eth_getLogs over [from, to]: the bridge's Sent logs, in (block, logIndex)
 * order, checked. *ret is malloc'd (NULL when there are none). */
static int get_logs(struct evm *c,
		    uint64_t from,
		    uint64_t to,
		    struct found **ret,
		    size_t *ret_n,
		    struct xr_err *err)
{
	char params[512];
	json_t *r = NULL;
	struct found *f = NULL;
	size_t n;
	int rc;

	snprintf(params, sizeof(params),
		 "[{\"fromBlock\":\"0x%llx\",\"toBlock\":\"0x%llx\",\"address\":\"%s\","
		 "\"topics\":[\"%s\"]}]",
		 (unsigned long long)from, (unsigned long long)to, c->bridge_hex, c->topic_hex);
	if ((rc = call(c, "eth_getLogs", params, &r, err)) < 0)
		return rc;
	if (!json_is_array(r)) {
		rc = xr_err_set(err, XR_EINVAL, "%s eth_getLogs reply is not an array", c->chain);
		goto out;
	}
	n = json_array_size(r);
	if (n > MAX_LOGS_PER_QUERY) {
		rc = xr_err_set(err, XR_EINVAL, "%s eth_getLogs: too many results (%zu)", c->chain,
				n);
		goto out;
	}
	if (n && !(f = calloc(n, sizeof(*f)))) {
		rc = xr_err_set(err, XR_ENOMEM, "out of memory for %zu logs", n);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if ((rc = read_log(c, json_array_get(r, i), i, from, to, &f[i], err)) < 0)
			goto out;
		if (i > 0 &&
		    (f[i].block < f[i - 1].block ||
		     (f[i].block == f[i - 1].block && f[i].log_index <= f[i - 1].log_index))) {
			rc =
			    xr_err_set(err, XR_EINVAL,
				       "%s eth_getLogs: log %zu (block %llu, index %llu) is out of "
				       "order",
				       c->chain, i, (unsigned long long)f[i].block,
				       (unsigned long long)f[i].log_index);
			goto out;
		}
	}
	*ret = f;
	*ret_n = n;
	f = NULL;
out:
	free(f);
	json_decref(r);
	return rc;
}

/* The k-th Sent log of a block's receipts (at block-level log_index, in
 * receipt ri) must be the k-th log eth_getLogs named, in the same
 * transaction. */
static int cross_check(struct evm *c,
		       const json_t *rj,
		       size_t ri,
		       uint64_t number,
		       uint64_t log_index,
		       const struct found *f,
		       size_t nf,
		       size_t k,
		       struct xr_err *err)
{
	uint8_t tx[32];
	int rc;

	if (k == nf || f[k].log_index != log_index)
		return xr_err_set(err, XR_EVERIFY,
				  "%s block %llu: eth_getLogs disagrees with the receipts at log "
				  "%llu",
				  c->chain, (unsigned long long)number,
				  (unsigned long long)log_index);
	const json_t *tj = json_object_get(json_array_get(rj, ri), "transactionHash");
	if ((rc = xr_evm_json_fixed(tj, "receipt transactionHash", tx, 32, err)) < 0) {
		xr_err_prefix(err, "%s block %llu receipt %zu", c->chain,
			      (unsigned long long)number, ri);
		return rc;
	}
	if (memcmp(tx, f[k].tx, 32) != 0)
		return xr_err_set(err, XR_EVERIFY,
				  "%s block %llu: eth_getLogs and the receipts name different "
				  "transactions for log %llu",
				  c->chain, (unsigned long long)number,
				  (unsigned long long)log_index);
	return 0;
}

/* Builds the envelope and evidence of one Sent log, verifies them as an
 * auditor will, and emits them. enc, proof and ev are scratch buffers. */
static int emit_one(struct evm *c,
		    const struct xr_evm_header *h,
		    const uint8_t hash[32],
		    const struct xr_evm_receipts *rs,
		    const struct xr_buf *hdr,
		    size_t ri,
		    size_t pos,
		    const struct xr_evm_log *lg,
		    const uint8_t tx[32],
		    uint64_t log_index,
		    uint8_t *enc,
		    struct xr_buf *proof,
		    struct xr_buf *ev,
		    xr_observe_fn emit,
		    void *ctx,
		    struct xr_err *err)
{
	struct xr_envelope env, back;
	size_t elen;
	int rc;

	if ((rc = xr_evm_sent_envelope(c->chain, h, hash, tx, (uint32_t)log_index, lg, &env, err)) <
		0 ||
	    (rc = xr_envelope_encode(&env, enc, XR_ENV_MAX_LEN, &elen, err)) < 0 ||
	    (rc = xr_envelope_decode(enc, elen, &back, err)) < 0)
		goto fail;
	xr_buf_reset(proof);
	xr_buf_reset(ev);
	if ((rc = xr_evm_receipts_prove(rs, ri, proof, NULL, err)) < 0 ||
	    (rc = xr_evm_evidence_encode(hdr->data, hdr->len, ri, proof->data, proof->len, pos, ev,
					 err)) < 0)
		goto fail;
	if ((rc = xr_evidence_evm.check(&back, ev->data, ev->len, err)) < 0) {
		xr_err_prefix(err, "own evidence");
		goto fail;
	}
	struct xr_observation o = {enc, elen, ev->data, ev->len};
	return emit(ctx, &o, err);
fail:
	xr_err_prefix(err, "%s block %llu log %llu", c->chain, (unsigned long long)h->number,
		      (unsigned long long)log_index);
	return rc;
}

/* One block's events, from its header and receipts (already fetched). */
static int scan_block(struct evm *c,
		      const json_t *bj,
		      const json_t *rj,
		      const struct found *f,
		      size_t nf,
		      xr_observe_fn emit,
		      void *ctx,
		      struct xr_err *err)
{
	uint64_t number = f[0].block;
	struct xr_evm_header *h = malloc(sizeof(*h));
	struct xr_evm_receipts *rs = NULL;
	struct xr_buf hdr, proof, ev;
	uint8_t hash[32], root[32];
	uint8_t *enc = malloc(XR_ENV_MAX_LEN);
	uint64_t log_index = 0;
	size_t k = 0;
	int rc;

	xr_buf_init(&hdr, XR_EVM_HEADER_RLP_MAX);
	xr_buf_init(&proof, XR_EVM_EVIDENCE_MAX);
	xr_buf_init(&ev, XR_EVM_EVIDENCE_MAX);
	if (!h || !enc) {
		rc = xr_err_set(err, XR_ENOMEM, "out of memory scanning a block");
		goto out;
	}
	if (json_is_null(bj)) {
		rc = xr_err_set(err, XR_ESTATE, "%s block %llu is gone (reorg?)", c->chain,
				(unsigned long long)number);
		goto out;
	}
	if ((rc = read_block(bj, number, h, hash, err)) < 0)
		goto block_err;
	for (size_t i = 0; i < nf; i++)
		if (memcmp(f[i].block_hash, hash, 32) != 0) {
			rc = xr_err_set(err, XR_ESTATE,
					"%s block %llu changed during the scan (reorg?)", c->chain,
					(unsigned long long)number);
			goto out;
		}
	if ((rc = xr_evm_receipts_from_json(rj, &rs, err)) < 0)
		goto block_err;
	xr_evm_receipts_root(rs, root);
	if (memcmp(root, h->receipts_root, 32) != 0) {
		rc = xr_err_set(err, XR_EVERIFY,
				"%s block %llu: the node's receipts do not match the "
				"header's receiptsRoot",
				c->chain, (unsigned long long)number);
		goto out;
	}
	if ((rc = xr_evm_header_encode(h, &hdr, err)) < 0)
		goto block_err;

	/* Walk the proven receipts twice: every Sent log of the bridge is an
	 * event, and eth_getLogs must have named exactly those (first pass)
	 * before any of the block's events is emitted (second pass). */
	for (int pass = 0; pass < 2; pass++) {
		log_index = 0;
		k = 0;
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
				if (pass == 0) {
					if ((rc = cross_check(c, rj, ri, number, log_index, f, nf,
							      k, err)) < 0)
						goto out;
				} else if ((rc = emit_one(c, h, hash, rs, &hdr, ri, pos, &lg,
							  f[k].tx, log_index, enc, &proof, &ev,
							  emit, ctx, err)) < 0) {
					goto out;
				}
				k++;
			}
		}
		if (pass == 0 && k != nf) {
			rc = xr_err_set(err, XR_EVERIFY,
					"%s block %llu: eth_getLogs named %zu Sent events, the "
					"receipts hold %zu",
					c->chain, (unsigned long long)number, nf, k);
			goto out;
		}
	}
	rc = 0;
	goto out;
block_err:
	xr_err_prefix(err, "%s block %llu", c->chain, (unsigned long long)number);
out:
	xr_evm_receipts_free(rs);
	xr_buf_fini(&hdr);
	xr_buf_fini(&proof);
	xr_buf_fini(&ev);
	free(enc);
	free(h);
	return rc;
}

/* Fetches header and receipts of nb blocks (first log of each at f[starts[i]])
 * in one batch, then scans them in order. */
static int scan_blocks(struct evm *c,
		       const struct found *f,
		       const size_t *starts,
		       size_t nb,
		       size_t nf_total,
		       xr_observe_fn emit,
		       void *ctx,
		       struct xr_err *err)
{
	const char *methods[2 * BLOCKS_PER_BATCH];
	const char *params[2 * BLOCKS_PER_BATCH];
	char pbuf[2 * BLOCKS_PER_BATCH][64];
	json_t *res[2 * BLOCKS_PER_BATCH];
	int rc;

	for (size_t i = 0; i < nb; i++) {
		unsigned long long n = (unsigned long long)f[starts[i]].block;
		methods[2 * i] = "eth_getBlockByNumber";
		snprintf(pbuf[2 * i], sizeof(pbuf[0]), "[\"0x%llx\",false]", n);
		params[2 * i] = pbuf[2 * i];
		methods[2 * i + 1] = "eth_getBlockReceipts";
		snprintf(pbuf[2 * i + 1], sizeof(pbuf[0]), "[\"0x%llx\"]", n);
		params[2 * i + 1] = pbuf[2 * i + 1];
	}
	if ((rc = batch(c, 2 * nb, methods, params, res, err)) < 0)
		return rc;
	for (size_t i = 0; i < nb && rc == 0; i++) {
		size_t end = i + 1 < nb ? starts[i + 1] : nf_total;
		rc = scan_block(c, res[2 * i], res[2 * i + 1], f + starts[i], end - starts[i], emit,
				ctx, err);
	}
	for (size_t i = 0; i < 2 * nb; i++)
		json_decref(res[i]);
	return rc;
}

static int
evm_scan(void *chain, uint64_t from, uint64_t to, xr_observe_fn emit, void *ctx, struct xr_err *err)
{
	struct evm *c = chain;
	int rc = 0;

	if (from > to)
		return xr_err_set(err, XR_EINVAL, "scan from %llu past to %llu",
				  (unsigned long long)from, (unsigned long long)to);
	if (from < c->start_height)
		from = c->start_height;
	while (from <= to) {
		uint64_t last = to - from >= c->range ? from + c->range - 1 : to;
		struct found *f = NULL;
		size_t nf = 0;
		struct xr_err e = {0};

		if ((rc = get_logs(c, from, last, &f, &nf, &e)) < 0) {
			if (c->range > 1 && range_error(rc, &e)) {
				c->range /= 2;
				say(c, XR_LOG_INFO,
				    "%s eth_getLogs over %llu blocks failed (%s); "
				    "trying %llu",
				    c->chain, (unsigned long long)(last - from + 1), e.msg,
				    (unsigned long long)c->range);
				continue;
			}
			return xr_err_set(err, e.code, "%s", e.msg);
		}
		/* Group the logs by block, then fetch the blocks a batch at a time. */
		size_t starts[BLOCKS_PER_BATCH], nb = 0, group_end;
		for (size_t i = 0; i < nf && rc == 0; i = group_end) {
			nb = 0;
			group_end = i;
			while (group_end < nf && nb < BLOCKS_PER_BATCH) {
				starts[nb++] = group_end;
				uint64_t b = f[group_end].block;
				while (group_end < nf && f[group_end].block == b)
					group_end++;
			}
			/* scan_blocks sees the logs from f + i, with starts made relative. */
			for (size_t j = 0; j < nb; j++)
				starts[j] -= i;
			rc = scan_blocks(c, f + i, starts, nb, group_end - i, emit, ctx, err);
		}
		free(f);
		if (rc < 0)
			return rc;
		if (c->range < c->max_range)
			c->range = c->range * 2 < c->max_range ? c->range * 2 : c->max_range;
		if (last == UINT64_MAX)
			break;
		from = last + 1;
	}
	return 0;
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
};

const struct xr_adapter *xr_evm_adapter(void)
{
	return &evm_adapter;
}
