/* cmd_evm.c - `xrelay evm ...`: deploy the Bridge contract and send transfers
 * and messages through it on EVM chains, over JSON-RPC with a local key. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "bridge_artifact.h"
#include "envelope.h"
#include "rpc.h"
#include "tx.h"

/* How long to wait for a receipt, and how often to ask. */
#define RECEIPT_WAIT_MS 60000
#define RECEIPT_POLL_MS 200
/* The largest payload and recipient of an envelope (Bridge.sol agrees). */
#define PAYLOAD_MAX 65536
#define RECIPIENT_MAX 64

struct evm_args {
	const char *rpc, *key_file, *bridge, *to_chain, *recipient, *amount, *payload;
	bool json;
};

/* What one sending session needs: the client, the key and its address. */
struct session {
	struct xr_rpc *rpc;
	uint8_t priv[32];
	uint8_t from[XR_EVM_ADDR_LEN];
	char from_str[XR_EVM_ADDR_STR_LEN];
	uint64_t chain_id;
};

/* A mined transaction: its hash, block and the receipt (owned). */
struct mined {
	uint8_t hash[32];
	char hash_str[67];
	uint64_t block;
	json_t *receipt;
};

static const char usage[] = "xrelay evm deploy-bridge|send --rpc URL --key-file FILE [options]";

/* Parses the options; returns -1 to go on, else the exit code. need_send
 * requires the options of `send`. */
static int parse(int argc, char **argv, struct evm_args *a, bool need_send, const char *help)
{
	static const struct option opts[] = {
	    {"rpc", required_argument, NULL, 'r'},
	    {"key-file", required_argument, NULL, 'k'},
	    {"bridge", required_argument, NULL, 'b'},
	    {"to-chain", required_argument, NULL, 'c'},
	    {"recipient", required_argument, NULL, 'R'},
	    {"amount", required_argument, NULL, 'a'},
	    {"payload", required_argument, NULL, 'p'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			a->rpc = optarg;
			break;
		case 'k':
			a->key_file = optarg;
			break;
		case 'b':
			a->bridge = optarg;
			break;
		case 'c':
			a->to_chain = optarg;
			break;
		case 'R':
			a->recipient = optarg;
			break;
		case 'a':
			a->amount = optarg;
			break;
		case 'p':
			a->payload = optarg;
			break;
		case 'j':
			a->json = true;
			break;
		case 'h':
			printf("%s", help);
			return 0;
		default:
			return xr_cli_usage(usage, "unknown option");
		}
	}
	if (optind != argc)
		return xr_cli_usage(usage, "unexpected argument '%s'", argv[optind]);
	if (!a->rpc)
		return xr_cli_usage(usage, "--rpc is required");
	if (!a->key_file)
		return xr_cli_usage(usage, "--key-file is required");
	if (need_send) {
		if (!a->bridge)
			return xr_cli_usage(usage, "--bridge is required");
		if (!a->to_chain)
			return xr_cli_usage(usage, "--to-chain is required");
		if (!a->recipient)
			return xr_cli_usage(usage, "--recipient is required");
		if (!a->amount)
			return xr_cli_usage(usage, "--amount is required");
	} else if (a->bridge || a->to_chain || a->recipient || a->amount || a->payload) {
		return xr_cli_usage(usage, "deploy-bridge takes only --rpc, --key-file and --json");
	}
	return -1;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* One call; *ret is the parsed result (JSON null included), caller decrefs. */
static int
call(struct session *s, const char *method, const char *params, json_t **ret, struct xr_err *err)
{
	char *res = NULL;
	size_t len = 0;
	json_error_t je;
	int rc = xr_rpc_call(s->rpc, method, params, &res, &len, err);
	if (rc < 0)
		return rc;
	json_t *j = json_loadb(res, len, JSON_DECODE_ANY, &je);
	free(res);
	if (!j)
		return xr_err_set(err, XR_EIO, "rpc %s: result is not json: %s", method, je.text);
	*ret = j;
	return 0;
}

/* A JSON-RPC quantity ("0x" + 1..64 hex digits, no leading zero) into a
 * 256-bit big-endian number. */
static int qty256(const json_t *v, const char *what, uint8_t ret[32], struct xr_err *err)
{
	const char *s = json_string_value(v);
	char shown[4 * 40 + 4];
	if (!s)
		return xr_err_set(err, XR_EIO, "%s is not a hex quantity string", what);
	size_t n = strlen(s);
	if (n < 3 || n > 66 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') ||
	    (n > 3 && s[2] == '0'))
		return xr_err_set(err, XR_EIO, "%s '%s' is not a hex quantity", what,
				  xr_show(s, n, 40, shown));
	uint8_t out[32] = {0};
	for (size_t i = 0; i < n - 2; i++) {
		int d = xr_hex_digit(s[n - 1 - i]);
		if (d < 0)
			return xr_err_set(err, XR_EIO, "%s '%s' is not a hex quantity", what,
					  xr_show(s, n, 40, shown));
		out[31 - i / 2] |= (uint8_t)(i % 2 ? d << 4 : d);
	}
	memcpy(ret, out, 32);
	return 0;
}

static int qty64(const json_t *v, const char *what, uint64_t *ret, struct xr_err *err)
{
	uint8_t b[32];
	int rc = qty256(v, what, b, err);
	if (rc < 0)
		return rc;
	for (int i = 0; i < 24; i++)
		if (b[i])
			return xr_err_set(err, XR_EIO, "%s '%s' does not fit in 64 bits", what,
					  json_string_value(v));
	*ret = xr_get_be64(b + 24);
	return 0;
}

static void u256_of_u64(uint64_t v, uint8_t out[32])
{
	memset(out, 0, 32);
	xr_put_be64(out + 24, v);
}

/* "0x" + the shortest hex of a 256-bit number; out holds 67 bytes. */
static void qty_format(const uint8_t v[32], char out[67])
{
	char hex[65];
	size_t i = 0;
	xr_hex_encode(v, 32, hex);
	while (i < 63 && hex[i] == '0')
		i++;
	out[0] = '0';
	out[1] = 'x';
	memcpy(out + 2, hex + i, 65 - i);
}

static int call_qty64(
    struct session *s, const char *method, const char *params, uint64_t *ret, struct xr_err *err)
{
	json_t *j = NULL;
	int rc = call(s, method, params, &j, err);
	if (rc == 0)
		rc = qty64(j, method, ret, err);
	json_decref(j);
	return rc;
}

static int session_open(struct session *s, const struct evm_args *a, struct xr_err *err)
{
	const char *urls[1] = {a->rpc};
	struct xr_rpc_opts o = {.urls = urls, .nurls = 1, .retries = 2, .timeout_ms = 15000};
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = xr_key_load(a->key_file, s->priv, err)) < 0)
		return rc;
	if ((rc = xr_evm_address_of_priv(s->priv, s->from, err)) < 0) {
		xr_err_prefix(err, "key file '%s'", a->key_file);
		return rc;
	}
	xr_evm_address_format(s->from, s->from_str);
	if ((rc = xr_rpc_new(&o, &s->rpc, err)) < 0)
		return rc;
	if ((rc = call_qty64(s, "eth_chainId", NULL, &s->chain_id, err)) < 0) {
		xr_err_prefix(err, "cannot reach the chain at '%s'", a->rpc);
		return rc;
	}
	if (s->chain_id == 0 || s->chain_id > XR_EVM_CHAIN_ID_MAX)
		return xr_err_set(err, XR_EIO, "chain id %llu of '%s' is out of range",
				  (unsigned long long)s->chain_id, a->rpc);
	return 0;
}

static void session_close(struct session *s)
{
	xr_rpc_free(s->rpc);
	memset(s->priv, 0, sizeof(s->priv));
	s->rpc = NULL;
}

/* EIP-1559 fees: the next base fee and a tip from eth_feeHistory; else
 * eth_gasPrice with eth_maxPriorityFeePerGas. max fee = 2 * base + tip. */
static int fees(struct session *s, uint64_t *ret_tip, uint64_t *ret_max, struct xr_err *err)
{
	json_t *h = NULL, *t = NULL;
	struct xr_err ignored = {0};
	uint64_t base = 0, tip = 0, gp = 0;
	int rc;

	if (call(s, "eth_feeHistory", "[\"0x1\",\"latest\",[50]]", &h, &ignored) == 0) {
		json_t *bases = json_object_get(h, "baseFeePerGas");
		json_t *rw = json_array_get(json_array_get(json_object_get(h, "reward"), 0), 0);
		size_t nb = json_array_size(bases);
		if (nb == 0)
			rc = xr_err_set(err, XR_EIO, "eth_feeHistory reply has no base fee");
		else
			rc = qty64(json_array_get(bases, nb - 1), "eth_feeHistory base fee", &base,
				   err);
		if (rc < 0) {
			json_decref(h);
			return rc;
		}
		if (rw && (rc = qty64(rw, "eth_feeHistory reward", &tip, err)) < 0) {
			json_decref(h);
			return rc;
		}
		json_decref(h);
	} else {
		if ((rc = call_qty64(s, "eth_gasPrice", NULL, &gp, err)) < 0)
			return rc;
		base = gp;
	}
	/* A quiet chain reports no reward: ask the node for its suggestion. */
	if (tip == 0 && call(s, "eth_maxPriorityFeePerGas", NULL, &t, &ignored) == 0) {
		if ((rc = qty64(t, "eth_maxPriorityFeePerGas", &tip, err)) < 0) {
			json_decref(t);
			return rc;
		}
	}
	json_decref(t);
	if (tip == 0 && gp)
		tip = gp;
	if (base > (UINT64_MAX - tip) / 2)
		return xr_err_set(err, XR_EIO, "fees too high: base fee %llu, tip %llu",
				  (unsigned long long)base, (unsigned long long)tip);
	*ret_tip = tip;
	*ret_max = 2 * base + tip;
	return 0;
}

/* Waits for the receipt of hash; fails if it does not come in time or the
 * transaction reverted. */
static int wait_receipt(struct session *s, struct mined *m, struct xr_err *err)
{
	char params[80];
	uint64_t deadline = mono_ms() + RECEIPT_WAIT_MS;
	int rc;

	snprintf(params, sizeof(params), "[\"%s\"]", m->hash_str);
	for (;;) {
		json_t *r = NULL;
		if ((rc = call(s, "eth_getTransactionReceipt", params, &r, err)) < 0)
			return rc;
		if (json_is_object(r)) {
			uint64_t status = 0;
			if ((rc = qty64(json_object_get(r, "blockNumber"), "receipt blockNumber",
					&m->block, err)) < 0 ||
			    (rc = qty64(json_object_get(r, "status"), "receipt status", &status,
					err)) < 0) {
				json_decref(r);
				return rc;
			}
			if (status != 1) {
				json_decref(r);
				return xr_err_set(
				    err, XR_EVERIFY,
				    "transaction %s reverted in block %llu (status %llu)",
				    m->hash_str, (unsigned long long)m->block,
				    (unsigned long long)status);
			}
			m->receipt = r;
			return 0;
		}
		json_decref(r);
		if (mono_ms() >= deadline)
			return xr_err_set(err, XR_EIO, "transaction %s not mined after %d s",
					  m->hash_str, RECEIPT_WAIT_MS / 1000);
		sleep_ms(RECEIPT_POLL_MS);
	}
}

/* Estimates gas, signs an EIP-1559 transaction (to NULL: a contract
 * creation), sends it and waits for a successful receipt. */
static int transact(struct session *s,
		    const uint8_t *to,
		    const uint8_t value[32],
		    const uint8_t *data,
		    size_t data_len,
		    struct mined *m,
		    struct xr_err *err)
{
	struct xr_evm_tx tx = {.type = XR_EVM_TX_EIP1559, .chain_id = s->chain_id};
	struct xr_buf raw, q;
	char *hex = NULL, *p = NULL, val[67], to_str[XR_EVM_ADDR_STR_LEN] = "";
	uint64_t tip = 0, max = 0;
	json_t *j = NULL;
	int rc;

	memset(m, 0, sizeof(*m));
	xr_buf_init(&raw, XR_EVM_TX_MAX);
	xr_buf_init(&q, 4 * XR_EVM_TX_MAX);
	/* The nonce, fees and gas. */
	xr_buf_put(&q, "[\"", 2);
	xr_buf_put(&q, s->from_str, strlen(s->from_str));
	xr_buf_put(&q, "\",\"pending\"]", 13);
	if (q.failed) {
		rc = xr_err_set(err, XR_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = call_qty64(s, "eth_getTransactionCount", (const char *)q.data, &tx.nonce, err)) <
		0 ||
	    (rc = fees(s, &tip, &max, err)) < 0)
		goto out;
	u256_of_u64(tip, tx.max_priority_fee_per_gas);
	u256_of_u64(max, tx.max_fee_per_gas);
	memcpy(tx.value, value, 32);
	qty_format(value, val);
	if (to)
		xr_evm_address_format(to, to_str);
	if (!(hex = xr_hex0x_new(data, data_len))) {
		rc = xr_err_set(err, XR_ENOMEM, "out of memory");
		goto out;
	}
	j = json_pack("[{s:s, s:s, s:s}]", "from", s->from_str, "value", val, "data", hex);
	if (j && to)
		json_object_set_new(json_array_get(j, 0), "to", json_string(to_str));
	if (!j || !(p = json_dumps(j, JSON_COMPACT))) {
		rc = xr_err_set(err, XR_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = call_qty64(s, "eth_estimateGas", p, &tx.gas, err)) < 0) {
		xr_err_prefix(err, "the transaction would fail");
		goto out;
	}
	tx.gas += tx.gas / 5; /* headroom for state that changes before mining */
	tx.has_to = to != NULL;
	if (to)
		memcpy(tx.to, to, XR_EVM_ADDR_LEN);
	tx.data = data;
	tx.data_len = data_len;
	if ((rc = xr_evm_tx_sign(&tx, s->priv, &raw, m->hash, err)) < 0)
		goto out;
	m->hash_str[0] = '0';
	m->hash_str[1] = 'x';
	xr_hex_encode(m->hash, 32, m->hash_str + 2);

	/* Send it: the node must answer with the hash we computed. */
	free(hex);
	free(p);
	json_decref(j);
	p = NULL;
	j = NULL;
	if (!(hex = xr_hex0x_new(raw.data, raw.len)) || !(j = json_pack("[s]", hex)) ||
	    !(p = json_dumps(j, JSON_COMPACT))) {
		rc = xr_err_set(err, XR_ENOMEM, "out of memory");
		goto out;
	}
	json_decref(j);
	j = NULL;
	if ((rc = call(s, "eth_sendRawTransaction", p, &j, err)) < 0) {
		xr_err_prefix(err, "transaction %s", m->hash_str);
		goto out;
	}
	if (!json_is_string(j) || strcasecmp(json_string_value(j), m->hash_str) != 0) {
		rc = xr_err_set(
		    err, XR_EIO, "eth_sendRawTransaction answered '%s', expected transaction %s",
		    json_is_string(j) ? json_string_value(j) : "(not a string)", m->hash_str);
		goto out;
	}
	rc = wait_receipt(s, m, err);
out:
	json_decref(j);
	free(hex);
	free(p);
	xr_buf_fini(&raw);
	xr_buf_fini(&q);
	return rc;
}

static int do_deploy(int argc, char **argv)
{
	struct evm_args a;
	struct xr_err err = {0};
	struct session s;
	struct mined m = {0};
	uint8_t zero[32] = {0}, addr[XR_EVM_ADDR_LEN];
	char addr_str[XR_EVM_ADDR_STR_LEN];
	int rc =
	    parse(argc, argv, &a, false,
		  "usage: xrelay evm deploy-bridge --rpc URL --key-file FILE [--json]\n\n"
		  "Deploys the Bridge contract (solc " XR_BRIDGE_SOLC_VERSION
		  ") with an EIP-1559\ntransaction signed by the key in FILE (hex, mode 0600), "
		  "waits for its\nreceipt (up to 60 s) and prints the contract's address "
		  "(EIP-55).\nWith --json: {\"address\", \"tx\", \"block\"}.\n");
	if (rc >= 0)
		return rc;
	if ((rc = session_open(&s, &a, &err)) < 0)
		goto out;
	if ((rc = transact(&s, NULL, zero, xr_bridge_bytecode, XR_BRIDGE_BYTECODE_LEN, &m, &err)) <
	    0)
		goto out;
	json_t *ca = json_object_get(m.receipt, "contractAddress");
	if (!json_is_string(ca) ||
	    (rc = xr_evm_address_parse(json_string_value(ca), addr, &err)) < 0) {
		rc = xr_err_set(&err, XR_EIO, "the receipt of %s has no contract address",
				m.hash_str);
		goto out;
	}
	xr_evm_address_format(addr, addr_str);
	if (a.json) {
		json_t *o = json_pack("{s:s, s:s, s:I}", "address", addr_str, "tx", m.hash_str,
				      "block", (json_int_t)m.block);
		xr_json_print(o, true);
		json_decref(o);
	} else {
		printf("%s\n", addr_str);
	}
out:
	json_decref(m.receipt);
	session_close(&s);
	return rc < 0 ? xr_cli_fail(&err) : 0;
}

static size_t pad32(size_t n)
{
	return (n + 31) / 32 * 32;
}

static void put_word(struct xr_buf *b, uint64_t v)
{
	uint8_t w[32];
	u256_of_u64(v, w);
	xr_buf_put(b, w, 32);
}

static void put_tail(struct xr_buf *b, const void *p, size_t n)
{
	static const uint8_t zeros[32];
	put_word(b, n);
	xr_buf_put(b, p, n);
	xr_buf_put(b, zeros, pad32(n) - n);
}

/* The calldata of send(string dstChain, bytes recipient, bytes payload). */
static int encode_send(const char *chain,
		       const uint8_t *rcpt,
		       size_t rcpt_len,
		       const uint8_t *payload,
		       size_t payload_len,
		       struct xr_buf *out,
		       struct xr_err *err)
{
	size_t chain_len = strlen(chain);
	size_t o1 = 3 * 32, o2 = o1 + 32 + pad32(chain_len), o3 = o2 + 32 + pad32(rcpt_len);
	xr_buf_put(out, xr_bridge_send_selector, 4);
	put_word(out, o1);
	put_word(out, o2);
	put_word(out, o3);
	put_tail(out, chain, chain_len);
	put_tail(out, rcpt, rcpt_len);
	put_tail(out, payload, payload_len);
	if (out->failed)
		return xr_err_set(err, XR_ENOMEM, "send calldata of %zu bytes is too large",
				  4 + o3 + 32 + pad32(payload_len));
	return 0;
}

/* The sequence of the Sent event of bridge in a receipt. */
static int find_sent(const json_t *receipt,
		     const uint8_t bridge[XR_EVM_ADDR_LEN],
		     const char *tx,
		     uint64_t *ret_seq,
		     struct xr_err *err)
{
	json_t *logs = json_object_get(receipt, "logs"), *l;
	size_t i;
	json_array_foreach(logs, i, l)
	{
		uint8_t addr[XR_EVM_ADDR_LEN], topic[32], seq[32];
		struct xr_err ignored = {0};
		json_t *topics = json_object_get(l, "topics");
		const char *as = json_string_value(json_object_get(l, "address"));
		const char *t0 = json_string_value(json_array_get(topics, 0));
		const char *t1 = json_string_value(json_array_get(topics, 1));
		if (!as || !t0 || !t1 || xr_evm_address_parse(as, addr, &ignored) < 0 ||
		    memcmp(addr, bridge, sizeof(addr)) != 0 ||
		    xr_hex_decode_exact(t0, topic, 32, &ignored) < 0 ||
		    memcmp(topic, xr_bridge_sent_topic, 32) != 0)
			continue;
		if (xr_hex_decode_exact(t1, seq, 32, &ignored) < 0)
			continue;
		for (int k = 0; k < 24; k++)
			if (seq[k])
				return xr_err_set(
				    err, XR_EIO,
				    "the Sent event of %s has sequence %s beyond 64 bits", tx, t1);
		*ret_seq = xr_get_be64(seq + 24);
		return 0;
	}
	return xr_err_set(err, XR_ENOTFOUND, "the receipt of %s has no Sent event of the bridge",
			  tx);
}

/* --payload 0xHEX, or @FILE holding the hex (a full 64 KiB payload does not
 * fit in one command-line argument). */
static int read_payload(const char *arg, uint8_t **ret, size_t *ret_len, struct xr_err *err)
{
	struct xr_buf b;
	int rc = 0;

	if (arg[0] != '@') {
		if ((rc = xr_hex_decode_new(arg, PAYLOAD_MAX, ret, ret_len, err)) < 0)
			xr_err_prefix(err, "--payload (0x + at most 65536 bytes of hex)");
		return rc;
	}
	xr_buf_init(&b, 2 * PAYLOAD_MAX + 16);
	if ((rc = xr_read_file(arg + 1, 2 * PAYLOAD_MAX + 8, &b, err)) < 0) {
		xr_err_prefix(err, "--payload");
		goto out;
	}
	while (b.len &&
	       (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r' || b.data[b.len - 1] == ' '))
		b.len--;
	xr_buf_u8(&b, 0);
	if (b.failed) {
		rc = xr_err_set(err, XR_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = xr_hex_decode_new((const char *)b.data, PAYLOAD_MAX, ret, ret_len, err)) < 0)
		xr_err_prefix(err, "--payload file '%s' (0x + at most 65536 bytes of hex)",
			      arg + 1);
out:
	xr_buf_fini(&b);
	return rc;
}

static int do_send(int argc, char **argv)
{
	struct evm_args a;
	struct xr_err err = {0};
	struct session s = {0};
	struct mined m = {0};
	struct xr_buf data;
	uint8_t bridge[XR_EVM_ADDR_LEN], value[32], *rcpt = NULL, *payload = NULL;
	size_t rcpt_len = 0, payload_len = 0;
	uint64_t seq = 0;
	int rc =
	    parse(argc, argv, &a, true,
		  "usage: xrelay evm send --rpc URL --key-file FILE --bridge ADDR\n"
		  "       --to-chain CAIP2 --recipient 0xHEX --amount WEI [--payload 0xHEX] "
		  "[--json]\n\n"
		  "Calls send(dstChain, recipient, payload) on the Bridge at ADDR with AMOUNT\n"
		  "wei of the native coin (decimal, 0 for a message), signed by the key in\n"
		  "FILE (hex, mode 0600), waits for the receipt (up to 60 s) and prints\n"
		  "\"tx 0x... sequence N\" from the Sent event. The recipient is 1..64 bytes,\n"
		  "the payload at most 65536 (@FILE: hex read from FILE). With --json: {\"tx\", "
		  "\"sequence\", \"block\"}.\n");
	if (rc >= 0)
		return rc;
	xr_buf_init(&data, XR_EVM_TX_MAX);

	/* Everything the user typed is checked before the chain is asked. */
	if ((rc = xr_evm_address_parse(a.bridge, bridge, &err)) < 0) {
		xr_err_prefix(&err, "--bridge");
		goto out;
	}
	if ((rc = xr_caip2_check(a.to_chain, &err)) < 0) {
		xr_err_prefix(&err, "--to-chain");
		goto out;
	}
	if ((rc = xr_hex_decode_new(a.recipient, RECIPIENT_MAX, &rcpt, &rcpt_len, &err)) < 0) {
		xr_err_prefix(&err, "--recipient (0x + 1..64 bytes of hex)");
		goto out;
	}
	if (rcpt_len == 0) {
		rc = xr_err_set(&err, XR_EINVAL, "--recipient '%s' is empty; expected 1..64 bytes",
				a.recipient);
		goto out;
	}
	if (a.payload && (rc = read_payload(a.payload, &payload, &payload_len, &err)) < 0)
		goto out;
	if ((rc = xr_u256_from_dec(a.amount, value, &err)) < 0) {
		xr_err_prefix(&err, "--amount (wei, decimal)");
		goto out;
	}
	if ((rc = encode_send(a.to_chain, rcpt, rcpt_len, payload, payload_len, &data, &err)) < 0)
		goto out;

	if ((rc = session_open(&s, &a, &err)) < 0)
		goto out;
	/* A missing contract would take the coin and emit nothing. */
	char params[80];
	json_t *code = NULL;
	snprintf(params, sizeof(params), "[\"%s\",\"latest\"]", a.bridge);
	if ((rc = call(&s, "eth_getCode", params, &code, &err)) < 0)
		goto out;
	bool empty = !json_is_string(code) || strlen(json_string_value(code)) <= 2;
	json_decref(code);
	if (empty) {
		rc = xr_err_set(&err, XR_ENOTFOUND, "no contract at --bridge %s on chain %llu",
				a.bridge, (unsigned long long)s.chain_id);
		goto out;
	}
	if ((rc = transact(&s, bridge, value, data.data, data.len, &m, &err)) < 0)
		goto out;
	if ((rc = find_sent(m.receipt, bridge, m.hash_str, &seq, &err)) < 0)
		goto out;
	if (a.json) {
		json_t *o = json_pack("{s:s, s:I, s:I}", "tx", m.hash_str, "sequence",
				      (json_int_t)seq, "block", (json_int_t)m.block);
		xr_json_print(o, true);
		json_decref(o);
	} else {
		printf("tx %s sequence %llu\n", m.hash_str, (unsigned long long)seq);
	}
out:
	json_decref(m.receipt);
	session_close(&s);
	free(rcpt);
	free(payload);
	xr_buf_fini(&data);
	return rc < 0 ? xr_cli_fail(&err) : 0;
}

static const struct xr_cmd evm_cmds[] = {
    {"deploy-bridge", do_deploy, "deploy the Bridge contract; prints its address"},
    {"send", do_send, "send a transfer or message through a Bridge"},
    {NULL, NULL, NULL},
};

int cmd_evm(int argc, char **argv)
{
	return xr_cli_dispatch("xrelay evm", evm_cmds, argc, argv);
}
