/* evidence.c - EVM evidence: encoding, its JSON view, and the check that a
 * header and receipt proof carry exactly the envelope's Sent event. */
#include "evidence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge_artifact.h"
#include "keccak.h"
#include "mpt.h"
#include "rlp.h"
#include "txs.h"

/* --- the evidence list ------------------------------------------------------ */

/* Appends the nodes of an xr_mpt_prove proof (back to back) as a list of
 * byte strings. */
static int put_proof(struct xr_buf *out, const uint8_t *proof, size_t proof_len, const char *what,
		     struct xr_err *err)
{
	struct xr_rlp_item node;
	size_t used, nodes = 0;
	int rc;

	size_t mp = xr_rlp_list_begin(out);
	for (size_t off = 0; off < proof_len; off += used) {
		if ((rc = xr_rlp_decode_prefix(proof + off, proof_len - off, &node, &used, err)) <
		    0) {
			xr_err_prefix(err, "%s node %zu", what, nodes);
			return rc;
		}
		xr_rlp_put_bytes(out, node.raw, node.raw_len);
		nodes++;
	}
	if (nodes == 0 || nodes > XR_EVM_PROOF_MAX_NODES)
		return xr_err_set(err, XR_EINVAL, "%s has %zu nodes, expected 1..%d", what, nodes,
				  XR_EVM_PROOF_MAX_NODES);
	xr_rlp_list_end(out, mp);
	return 0;
}

static int encode(const uint8_t *header_rlp,
		  size_t header_len,
		  uint64_t receipt_index,
		  const uint8_t *proof,
		  size_t proof_len,
		  uint64_t log_position,
		  const uint8_t *raw_tx,
		  size_t tx_len,
		  const uint8_t *tx_proof,
		  size_t tx_proof_len,
		  struct xr_buf *out,
		  struct xr_err *err)
{
	size_t mark = out->len;
	bool was_failed = out->failed;
	int rc = 0;

	size_t m = xr_rlp_list_begin(out);
	if (raw_tx)
		xr_rlp_put_uint(out, 2);
	xr_rlp_put_bytes(out, header_rlp, header_len);
	xr_rlp_put_uint(out, receipt_index);
	if ((rc = put_proof(out, proof, proof_len, "receipt proof", err)) < 0)
		goto out;
	xr_rlp_put_uint(out, log_position);
	if (raw_tx) {
		if (tx_len == 0 || tx_len > XR_EVM_BLOCK_TX_MAX) {
			rc = xr_err_set(err, XR_EINVAL, "transaction of %zu bytes, expected 1..%d",
					tx_len, XR_EVM_BLOCK_TX_MAX);
			goto out;
		}
		xr_rlp_put_bytes(out, raw_tx, tx_len);
		if ((rc = put_proof(out, tx_proof, tx_proof_len, "transaction proof", err)) < 0)
			goto out;
	}
	xr_rlp_list_end(out, m);
	if (!was_failed && (out->failed || out->len - mark > XR_EVM_EVIDENCE_MAX))
		rc = xr_err_set(err, XR_ENOMEM, "evidence of %zu bytes is too large",
				out->len - mark);
out:
	if (rc < 0 && !was_failed) {
		out->len = mark;
		out->failed = false;
	}
	return rc;
}

int xr_evm_evidence_encode(const uint8_t *header_rlp,
			   size_t header_len,
			   uint64_t receipt_index,
			   const uint8_t *proof,
			   size_t proof_len,
			   uint64_t log_position,
			   struct xr_buf *out,
			   struct xr_err *err)
{
	return encode(header_rlp, header_len, receipt_index, proof, proof_len, log_position, NULL,
		      0, NULL, 0, out, err);
}

int xr_evm_evidence_encode2(const uint8_t *header_rlp,
			    size_t header_len,
			    uint64_t receipt_index,
			    const uint8_t *proof,
			    size_t proof_len,
			    uint64_t log_position,
			    const uint8_t *raw_tx,
			    size_t tx_len,
			    const uint8_t *tx_proof,
			    size_t tx_proof_len,
			    struct xr_buf *out,
			    struct xr_err *err)
{
	if (!raw_tx)
		return xr_err_set(err, XR_EINVAL, "evidence version 2 needs the transaction");
	return encode(header_rlp, header_len, receipt_index, proof, proof_len, log_position,
		      raw_tx, tx_len, tx_proof, tx_proof_len, out, err);
}

struct parts {
	unsigned version;	   /* 1 or 2 */
	struct xr_rlp_item header; /* byte string: the header RLP */
	uint64_t receipt_index;
	struct xr_rlp_item proof; /* list of byte strings */
	size_t n_nodes;
	uint64_t log_position;
	struct xr_rlp_item tx;	     /* version 2: the raw transaction */
	struct xr_rlp_item tx_proof; /* version 2: list of byte strings */
};

/* A proof: a list of 1..XR_EVM_PROOF_MAX_NODES byte strings. */
static int split_proof(const struct xr_rlp_item *l, const char *what, size_t *ret_n,
		       struct xr_err *err)
{
	struct xr_rlp_iter it;
	struct xr_rlp_item node;
	size_t n = 0;
	int rc;

	if (l->kind != XR_RLP_LIST)
		return xr_err_set(err, XR_EINVAL, "evidence %s is a byte string, expected a list",
				  what);
	xr_rlp_iter_init(&it, l, 2);
	while ((rc = xr_rlp_next(&it, &node, err)) > 0) {
		if (node.kind != XR_RLP_BYTES)
			return xr_err_set(err, XR_EINVAL,
					  "evidence %s node %zu is a list, expected bytes", what,
					  n);
		if (++n > XR_EVM_PROOF_MAX_NODES)
			return xr_err_set(err, XR_EINVAL, "evidence %s has more than %d nodes",
					  what, XR_EVM_PROOF_MAX_NODES);
	}
	if (rc < 0)
		return rc;
	if (n == 0)
		return xr_err_set(err, XR_EINVAL, "evidence %s has no nodes", what);
	*ret_n = n;
	return 0;
}

/* Splits evidence bytes into their parts, checking shape and caps only.
 * Version 1 is a list of 4 items; version 2 a list of 7 whose first is the
 * integer 2 (a header RLP is never one byte long, so they cannot be mixed up). */
static int split(const uint8_t *p, size_t n, struct parts *ret, struct xr_err *err)
{
	struct xr_rlp_item top, f[7];
	struct parts s;
	size_t count, tx_nodes;
	int rc;

	if (n > XR_EVM_EVIDENCE_MAX)
		return xr_err_set(err, XR_EINVAL, "evidence is %zu bytes, expected at most %u", n,
				  XR_EVM_EVIDENCE_MAX);
	if ((rc = xr_rlp_decode(p, n, &top, err)) < 0) {
		xr_err_prefix(err, "evidence");
		return rc;
	}
	if (top.kind != XR_RLP_LIST)
		return xr_err_set(err, XR_EINVAL, "evidence is a byte string, expected a list");
	if ((rc = xr_rlp_list_count(&top, &count, err)) < 0)
		return rc;
	memset(&s, 0, sizeof(s));
	if (count == 7) {
		uint64_t v;
		if ((rc = xr_rlp_list_exact(&top, f, 7, "evidence", err)) < 0)
			return rc;
		if ((rc = xr_rlp_uint64(&f[0], &v, "evidence version", err)) < 0)
			return rc;
		if (v != 2)
			return xr_err_set(err, XR_EINVAL, "evidence version %llu, expected 2",
					  (unsigned long long)v);
		s.version = 2;
	} else {
		if ((rc = xr_rlp_list_exact(&top, f + 1, 4, "evidence", err)) < 0)
			return rc;
		s.version = 1;
	}
	if (f[1].kind != XR_RLP_BYTES)
		return xr_err_set(err, XR_EINVAL, "evidence header_rlp is a list, expected bytes");
	if (f[1].len > XR_EVM_HEADER_RLP_MAX)
		return xr_err_set(err, XR_EINVAL,
				  "evidence header_rlp is %zu bytes, expected at most %d", f[1].len,
				  XR_EVM_HEADER_RLP_MAX);
	s.header = f[1];
	if ((rc = xr_rlp_uint64(&f[2], &s.receipt_index, "evidence receipt_index", err)) < 0)
		return rc;
	if (s.receipt_index >= XR_EVM_BLOCK_RECEIPTS_MAX)
		return xr_err_set(err, XR_EINVAL, "evidence receipt_index %llu, expected 0..%d",
				  (unsigned long long)s.receipt_index,
				  XR_EVM_BLOCK_RECEIPTS_MAX - 1);
	if ((rc = split_proof(&f[3], "receipt_proof", &s.n_nodes, err)) < 0)
		return rc;
	s.proof = f[3];
	if ((rc = xr_rlp_uint64(&f[4], &s.log_position, "evidence log_position", err)) < 0)
		return rc;
	if (s.log_position >= XR_EVM_RECEIPT_MAX_LOGS)
		return xr_err_set(err, XR_EINVAL, "evidence log_position %llu, expected 0..%d",
				  (unsigned long long)s.log_position, XR_EVM_RECEIPT_MAX_LOGS - 1);
	if (s.version == 2) {
		if (f[5].kind != XR_RLP_BYTES || f[5].len == 0 || f[5].len > XR_EVM_BLOCK_TX_MAX)
			return xr_err_set(err, XR_EINVAL,
					  "evidence tx must be a byte string of 1..%d bytes",
					  XR_EVM_BLOCK_TX_MAX);
		s.tx = f[5];
		if ((rc = split_proof(&f[6], "tx_proof", &tx_nodes, err)) < 0)
			return rc;
		s.tx_proof = f[6];
	}
	*ret = s;
	return 0;
}

/* Copies the nodes of a proof list back to back into a fresh buffer, each
 * checked to be one RLP item of its own: otherwise the same concatenation
 * could be cut into nodes in several ways, and evidence would have more
 * than one encoding. */
static int join_proof(const struct xr_rlp_item *l, const char *what, uint8_t **ret,
		      size_t *ret_len, struct xr_err *err)
{
	struct xr_rlp_iter it;
	struct xr_rlp_item node, one;
	size_t off = 0;
	int rc;
	uint8_t *buf = malloc(l->len ? l->len : 1); /* the payload bounds the nodes */

	if (!buf)
		return xr_err_set(err, XR_ENOMEM, "out of memory for a %zu-byte proof", l->len);
	xr_rlp_iter_init(&it, l, 2);
	for (size_t i = 0; (rc = xr_rlp_next(&it, &node, err)) > 0; i++) {
		if ((rc = xr_rlp_decode(node.p, node.len, &one, err)) < 0) {
			xr_err_prefix(err, "evidence %s node %zu", what, i);
			break;
		}
		memcpy(buf + off, node.p, node.len);
		off += node.len;
	}
	if (rc < 0) {
		free(buf);
		return rc;
	}
	*ret = buf;
	*ret_len = off;
	return 0;
}

void xr_evm_evidence_fini(struct xr_evm_evidence *ev)
{
	if (!ev)
		return;
	free(ev->proof);
	ev->proof = NULL;
}

/* Version 2: the transaction at the receipt's index, proven under
 * transactionsRoot, is the evidence's tx; its Keccak is the tx hash. */
static int open_tx(struct xr_evm_evidence *ev, const struct parts *s, struct xr_err *err)
{
	uint8_t key[9], *proof = NULL;
	const uint8_t *val;
	size_t val_len, proof_len;
	int rc;

	if ((rc = join_proof(&s->tx_proof, "tx_proof", &proof, &proof_len, err)) < 0)
		return rc;
	struct xr_err pe = {0};
	rc = xr_mpt_verify(ev->header.tx_root, key, xr_mpt_index_key(s->receipt_index, key), proof,
			   proof_len, &val, &val_len, &pe);
	if (rc < 0 && rc != XR_ENOTFOUND)
		xr_err_set(err, rc, "%s", pe.msg);
	if (rc == XR_ENOTFOUND) {
		rc = xr_err_set(err, XR_EVERIFY,
				"transaction proof shows no transaction %llu under "
				"transactionsRoot",
				(unsigned long long)s->receipt_index);
		goto out;
	}
	if (rc < 0) {
		xr_err_prefix(err, "transaction %llu", (unsigned long long)s->receipt_index);
		goto out;
	}
	if (val_len != s->tx.len || memcmp(val, s->tx.p, val_len) != 0) {
		rc = xr_err_set(err, XR_EVERIFY,
				"evidence tx differs from transaction %llu proven under "
				"transactionsRoot",
				(unsigned long long)s->receipt_index);
		goto out;
	}
	xr_keccak256(s->tx.p, s->tx.len, ev->tx_hash);
	ev->has_tx = true;
out:
	free(proof);
	return rc;
}

int xr_evm_evidence_open(const uint8_t *p,
			 size_t n,
			 struct xr_evm_evidence *ret,
			 struct xr_err *err)
{
	struct xr_evm_evidence *ev = NULL;
	struct parts s;
	uint8_t key[9];
	const uint8_t *val;
	size_t val_len;
	int rc;

	if ((rc = split(p, n, &s, err)) < 0)
		return rc;
	if (!(ev = calloc(1, sizeof(*ev))))
		return xr_err_set(err, XR_ENOMEM, "out of memory opening evidence");
	if ((rc = xr_evm_header_decode(s.header.p, s.header.len, &ev->header, err)) < 0) {
		xr_err_prefix(err, "evidence header_rlp");
		goto out;
	}
	xr_keccak256(s.header.p, s.header.len, ev->block_hash);
	ev->receipt_index = s.receipt_index;
	ev->log_position = s.log_position;
	ev->version = s.version;
	if ((rc = join_proof(&s.proof, "receipt_proof", &ev->proof, &ev->proof_len, err)) < 0)
		goto out;
	/* The first message wins: the trie's own goes to a scratch error, so
	 * that "not in the trie" can be said in the evidence's terms. */
	struct xr_err pe = {0};
	rc = xr_mpt_verify(ev->header.receipts_root, key, xr_mpt_index_key(s.receipt_index, key),
			   ev->proof, ev->proof_len, &val, &val_len, &pe);
	if (rc < 0 && rc != XR_ENOTFOUND)
		xr_err_set(err, rc, "%s", pe.msg);
	if (rc == XR_ENOTFOUND) {
		rc = xr_err_set(err, XR_EVERIFY,
				"receipt proof shows no receipt %llu under receiptsRoot",
				(unsigned long long)s.receipt_index);
		goto out;
	}
	if (rc < 0) {
		xr_err_prefix(err, "receipt %llu", (unsigned long long)s.receipt_index);
		goto out;
	}
	if ((rc = xr_evm_receipt_decode(val, val_len, &ev->receipt, err)) < 0) {
		xr_err_prefix(err, "proven receipt %llu", (unsigned long long)s.receipt_index);
		goto out;
	}
	if (s.log_position >= ev->receipt.n_logs) {
		rc = xr_err_set(err, XR_EINVAL,
				"evidence log_position %llu, receipt %llu has %zu logs",
				(unsigned long long)s.log_position,
				(unsigned long long)s.receipt_index, ev->receipt.n_logs);
		goto out;
	}
	if ((rc = xr_evm_receipt_log(&ev->receipt, s.log_position, &ev->log, err)) < 0)
		goto out;
	if (s.version == 2 && (rc = open_tx(ev, &s, err)) < 0)
		goto out;
	memcpy(ret, ev, sizeof(*ev));
	ev->proof = NULL; /* now owned by *ret */
out:
	if (ev)
		free(ev->proof);
	free(ev);
	return rc;
}

/* --- the Sent event --------------------------------------------------------- */

/* A 32-byte ABI word that must hold a value below 2^64. */
static int word_u64(const uint8_t *w, const char *what, uint64_t *ret, struct xr_err *err)
{
	for (int i = 0; i < 24; i++)
		if (w[i])
			return xr_err_set(err, XR_EINVAL, "sent event %s does not fit in 64 bits",
					  what);
	*ret = xr_get_be64(w + 24);
	return 0;
}

/* A dynamic `bytes`/`string` member at offset off, which must be where the
 * canonical encoding puts it (want); *next gets where the next one goes. */
static int dyn(const uint8_t *d,
	       size_t len,
	       const uint8_t *head_word,
	       uint64_t want,
	       size_t max,
	       const char *what,
	       const uint8_t **ret_p,
	       size_t *ret_n,
	       uint64_t *next,
	       struct xr_err *err)
{
	uint64_t off, n;
	int rc;

	if ((rc = word_u64(head_word, what, &off, err)) < 0)
		return rc;
	if (off != want)
		return xr_err_set(err, XR_EINVAL,
				  "sent event %s at offset %llu, expected %llu (canonical abi)",
				  what, (unsigned long long)off, (unsigned long long)want);
	if (off > len || len - off < 32)
		return xr_err_set(err, XR_EINVAL, "sent event %s length is past the data end",
				  what);
	if ((rc = word_u64(d + off, what, &n, err)) < 0)
		return rc;
	if (n > max)
		return xr_err_set(err, XR_EINVAL,
				  "sent event %s is %llu bytes, expected at most %zu", what,
				  (unsigned long long)n, max);
	uint64_t padded = (n + 31) / 32 * 32;
	if (len - off - 32 < padded)
		return xr_err_set(err, XR_EINVAL,
				  "sent event %s of %llu bytes is past the data end", what,
				  (unsigned long long)n);
	for (uint64_t i = n; i < padded; i++)
		if (d[off + 32 + i])
			return xr_err_set(err, XR_EINVAL, "sent event %s has non-zero padding",
					  what);
	*ret_p = d + off + 32;
	*ret_n = (size_t)n;
	*next = off + 32 + padded;
	return 0;
}

int xr_evm_sent_decode(const struct xr_evm_log *log, struct xr_evm_sent *ret, struct xr_err *err)
{
	struct xr_evm_sent s;
	const uint8_t *d = log->data, *chain;
	size_t len = log->data_len, chain_len;
	uint64_t next;
	int rc;

	if (log->n_topics != 3)
		return xr_err_set(err, XR_EINVAL, "sent event has %zu topics, expected 3",
				  log->n_topics);
	if (memcmp(log->topics[0], xr_bridge_sent_topic, 32) != 0)
		return xr_err_set(err, XR_EINVAL, "log topic0 is not the Sent event's topic");
	memset(&s, 0, sizeof(s));
	if ((rc = word_u64(log->topics[1], "sequence", &s.sequence, err)) < 0)
		return rc;
	for (int i = 0; i < 12; i++)
		if (log->topics[2][i])
			return xr_err_set(err, XR_EINVAL, "sent event sender is not an address");
	memcpy(s.sender, log->topics[2] + 12, 20);
	if (len < 4 * 32)
		return xr_err_set(err, XR_EINVAL,
				  "sent event data is %zu bytes, expected 128 or more", len);
	if ((rc = dyn(d, len, d, 4 * 32, XR_ENV_CHAIN_MAX, "dstChain", &chain, &chain_len, &next,
		      err)) < 0 ||
	    (rc = dyn(d, len, d + 32, next, XR_ENV_RECIPIENT_MAX, "recipient", &s.recipient,
		      &s.recipient_len, &next, err)) < 0 ||
	    (rc = dyn(d, len, d + 96, next, XR_ENV_PAYLOAD_MAX, "payload", &s.payload,
		      &s.payload_len, &next, err)) < 0)
		return rc;
	if (next != len)
		return xr_err_set(err, XR_EINVAL, "sent event data has %llu trailing bytes",
				  (unsigned long long)(len - next));
	s.dst_chain = (const char *)chain;
	s.dst_chain_len = chain_len;
	memcpy(s.amount, d + 64, 32);
	*ret = s;
	return 0;
}

/* "eip155:" and a decimal chain id without leading zeros. */
static int eip155_chain(const char *c, struct xr_err *err)
{
	static const char ns[] = "eip155:";
	const char *id = c + sizeof(ns) - 1;
	char show[4 * 40 + 4];

	if (strncmp(c, ns, sizeof(ns) - 1) != 0 || !id[0] || (id[0] == '0' && id[1]) ||
	    strspn(id, "0123456789") != strlen(id))
		return xr_err_set(err, XR_EINVAL,
				  "source chain '%s' is not eip155:<decimal chain id>",
				  xr_show(c, strlen(c), 40, show));
	return 0;
}

int xr_evm_sent_envelope(const char *src_chain,
			 const struct xr_evm_header *h,
			 const uint8_t block_hash[32],
			 const uint8_t src_tx[32],
			 uint32_t log_index,
			 const struct xr_evm_log *log,
			 struct xr_envelope *ret,
			 struct xr_err *err)
{
	struct xr_envelope e;
	struct xr_evm_sent s;
	int rc;

	if ((rc = eip155_chain(src_chain, err)) < 0)
		return rc;
	if (strlen(src_chain) > XR_ENV_CHAIN_MAX)
		return xr_err_set(err, XR_EINVAL, "source chain is longer than %d bytes",
				  XR_ENV_CHAIN_MAX);
	if ((rc = xr_evm_sent_decode(log, &s, err)) < 0)
		return rc;
	memset(&e, 0, sizeof(e));
	memcpy(e.src_chain, src_chain, strlen(src_chain) + 1);
	e.src_height = h->number;
	memcpy(e.src_block, block_hash, 32);
	memcpy(e.src_tx, src_tx, 32);
	e.log_index = log_index;
	memcpy(e.emitter, log->address, 20);
	e.emitter_len = 20;
	e.sequence = s.sequence;
	memcpy(e.dst_chain, s.dst_chain, s.dst_chain_len);
	e.dst_chain[s.dst_chain_len] = '\0';
	if (memchr(s.dst_chain, '\0', s.dst_chain_len))
		return xr_err_set(err, XR_EINVAL, "sent event dstChain holds a nul byte");
	memcpy(e.recipient, s.recipient, s.recipient_len);
	e.recipient_len = (uint8_t)s.recipient_len;
	memcpy(e.amount, s.amount, 32);
	bool zero = true;
	for (int i = 0; i < 32; i++)
		zero &= s.amount[i] == 0;
	e.kind = zero ? XR_ENV_MESSAGE : XR_ENV_TRANSFER;
	if (!zero)
		snprintf(e.asset, sizeof(e.asset), "%s/slip44:60", src_chain);
	e.src_time = h->timestamp;
	e.payload = s.payload;
	e.payload_len = (uint32_t)s.payload_len;
	if ((rc = xr_envelope_check(&e, err)) < 0) {
		xr_err_prefix(err, "sent event %llu", (unsigned long long)s.sequence);
		return rc;
	}
	*ret = e;
	return 0;
}

/* --- the check -------------------------------------------------------------- */

static int differs(const char *what, const void *env, const void *ev, size_t n, struct xr_err *err)
{
	char a[2 * 32 + 1], b[2 * 32 + 1];
	if (n > 32) /* payloads and long fields: name them only */
		return xr_err_set(err, XR_EVERIFY, "envelope %s differs from the proven event",
				  what);
	xr_hex_encode(env, n, a);
	xr_hex_encode(ev, n, b);
	return xr_err_set(err, XR_EVERIFY, "envelope %s 0x%s, evidence proves 0x%s", what, a, b);
}

int xr_evm_evidence_check(const struct xr_envelope *env,
			  const uint8_t *evidence,
			  size_t len,
			  struct xr_err *err)
{
	struct xr_evm_evidence ev;
	struct xr_envelope want;
	char a[80], b[80];
	int rc;

	if ((rc = xr_evm_evidence_open(evidence, len, &ev, err)) < 0)
		return rc;
	if (memcmp(env->src_block, ev.block_hash, 32) != 0) {
		rc = differs("source block hash", env->src_block, ev.block_hash, 32, err);
		goto out;
	}
	if (env->src_height != ev.header.number) {
		rc = xr_err_set(err, XR_EVERIFY, "envelope source height %llu, header number %llu",
				(unsigned long long)env->src_height,
				(unsigned long long)ev.header.number);
		goto out;
	}
	if (env->src_time != ev.header.timestamp) {
		rc = xr_err_set(err, XR_EVERIFY, "envelope source time %llu, header timestamp %llu",
				(unsigned long long)env->src_time,
				(unsigned long long)ev.header.timestamp);
		goto out;
	}
	if (env->emitter_len != 20 || memcmp(env->emitter, ev.log.address, 20) != 0) {
		rc = env->emitter_len != 20
			 ? xr_err_set(err, XR_EVERIFY, "envelope emitter is %u bytes, expected 20",
				      env->emitter_len)
			 : differs("emitter", env->emitter, ev.log.address, 20, err);
		goto out;
	}
	if (ev.has_tx && memcmp(env->src_tx, ev.tx_hash, 32) != 0) {
		rc = differs("source tx hash", env->src_tx, ev.tx_hash, 32, err);
		goto out;
	}
	/* The unproven field (log_index; src_tx too in version 1) is taken
	 * from the envelope. */
	if ((rc = xr_evm_sent_envelope(env->src_chain, &ev.header, ev.block_hash, env->src_tx,
				       env->log_index, &ev.log, &want, err)) < 0) {
		if (rc == XR_EINVAL)
			rc = XR_EVERIFY;
		goto out;
	}
	if (env->sequence != want.sequence) {
		rc = xr_err_set(err, XR_EVERIFY, "envelope sequence %llu, evidence proves %llu",
				(unsigned long long)env->sequence,
				(unsigned long long)want.sequence);
	} else if (strcmp(env->dst_chain, want.dst_chain) != 0) {
		rc = xr_err_set(err, XR_EVERIFY,
				"envelope destination chain '%s', evidence proves '%s'",
				xr_show(env->dst_chain, strlen(env->dst_chain), 16, a),
				xr_show(want.dst_chain, strlen(want.dst_chain), 16, b));
	} else if (env->recipient_len != want.recipient_len ||
		   memcmp(env->recipient, want.recipient, want.recipient_len) != 0) {
		rc = env->recipient_len != want.recipient_len || want.recipient_len > 32
			 ? xr_err_set(err, XR_EVERIFY,
				      "envelope recipient of %u bytes differs from the proven "
				      "recipient of %u bytes",
				      env->recipient_len, want.recipient_len)
			 : differs("recipient", env->recipient, want.recipient, want.recipient_len,
				   err);
	} else if (memcmp(env->amount, want.amount, 32) != 0) {
		char da[80], db[80];
		xr_u256_to_dec(env->amount, da);
		xr_u256_to_dec(want.amount, db);
		rc = xr_err_set(err, XR_EVERIFY, "envelope amount %s, evidence proves %s", da, db);
	} else if (env->kind != want.kind || strcmp(env->asset, want.asset) != 0) {
		rc = xr_err_set(err, XR_EVERIFY,
				"envelope kind %u asset '%s', evidence proves kind %u asset '%s'",
				env->kind, xr_show(env->asset, strlen(env->asset), 16, a),
				want.kind, xr_show(want.asset, strlen(want.asset), 16, b));
	} else if (env->payload_len != want.payload_len ||
		   (want.payload_len &&
		    memcmp(env->payload, want.payload, want.payload_len) != 0)) {
		rc = xr_err_set(err, XR_EVERIFY,
				"envelope payload of %u bytes differs from the proven payload of "
				"%u bytes",
				env->payload_len, want.payload_len);
	}
out:
	xr_evm_evidence_fini(&ev);
	return rc;
}

/* --- the JSON view ---------------------------------------------------------- */

static int
json_index(const json_t *o, const char *key, long long max, uint64_t *ret, struct xr_err *err)
{
	const json_t *v = json_object_get(o, key);
	if (!v)
		return xr_err_set(err, XR_EINVAL, "evidence has no \"%s\"", key);
	if (!json_is_integer(v))
		return xr_err_set(err, XR_EINVAL, "evidence \"%s\" is not an integer", key);
	if (json_integer_value(v) < 0 || json_integer_value(v) > max)
		return xr_err_set(err, XR_EINVAL, "evidence \"%s\" %lld, expected 0..%lld", key,
				  json_integer_value(v), max);
	*ret = (uint64_t)json_integer_value(v);
	return 0;
}

/* A JSON proof: an array of 1..XR_EVM_PROOF_MAX_NODES hex nodes, each one
 * RLP item, appended back to back to nodes. */
static int json_proof(const json_t *proof, const char *name, struct xr_buf *nodes,
		      struct xr_err *err)
{
	int rc;

	if (!json_is_array(proof))
		return xr_err_set(err, XR_EINVAL, "evidence \"%s\" is not an array", name);
	if (json_array_size(proof) < 1 || json_array_size(proof) > XR_EVM_PROOF_MAX_NODES)
		return xr_err_set(err, XR_EINVAL, "evidence \"%s\" has %zu nodes, expected 1..%d",
				  name, json_array_size(proof), XR_EVM_PROOF_MAX_NODES);
	for (size_t i = 0; i < json_array_size(proof); i++) {
		char what[64];
		size_t n;
		struct xr_rlp_item it;
		size_t used;
		snprintf(what, sizeof(what), "evidence %s node %zu", name, i);
		if ((rc = xr_evm_json_data(json_array_get(proof, i), what, XR_MPT_MAX_NODE, nodes,
					   &n, err)) < 0)
			return rc;
		/* Each node is one RLP item (checked by the proof verifier). */
		if (n == 0 ||
		    xr_rlp_decode_prefix(nodes->data + nodes->len - n, n, &it, &used, NULL) < 0 ||
		    used != n)
			return xr_err_set(err, XR_EINVAL, "%s is not one rlp item", what);
	}
	return 0;
}

static int rebuild(const json_t *o, struct xr_buf *out, struct xr_err *err)
{
	static const char *const keys[] = {"framework",	 "version",  "header_rlp",
					   "receipt_index", "receipt_proof", "log_position",
					   "tx",	    "tx_proof"};
	const char *key, *fw;
	const json_t *v, *proof;
	struct xr_buf header, nodes, tx, tx_nodes;
	uint64_t ri, lp, version = 1;
	int rc;

	if (!json_is_object(o))
		return xr_err_set(err, XR_EINVAL, "evidence is not a json object");
	json_object_foreach((json_t *)o, key, v)
	{
		size_t i = 0;
		while (i < sizeof(keys) / sizeof(keys[0]) && strcmp(key, keys[i]) != 0)
			i++;
		if (i == sizeof(keys) / sizeof(keys[0])) {
			char show[4 * 40 + 4];
			return xr_err_set(err, XR_EINVAL, "evidence has unknown key \"%s\"",
					  xr_show(key, strlen(key), 40, show));
		}
	}
	if (!(fw = json_string_value(json_object_get(o, "framework"))) || strcmp(fw, "evm") != 0)
		return xr_err_set(err, XR_EINVAL, "evidence \"framework\" is not \"evm\"");
	/* Version 1 has no "version" key (and no tx); version 2 names itself. */
	if (json_object_get(o, "version")) {
		if ((rc = json_index(o, "version", 2, &version, err)) < 0) {
			xr_err_clear(err);
			return xr_err_set(err, XR_EINVAL, "evidence \"version\" must be 2");
		}
		if (version != 2)
			return xr_err_set(err, XR_EINVAL, "evidence \"version\" %llu, expected 2",
					  (unsigned long long)version);
	}
	if (version == 1 && (json_object_get(o, "tx") || json_object_get(o, "tx_proof")))
		return xr_err_set(err, XR_EINVAL,
				  "evidence \"tx\" and \"tx_proof\" need \"version\": 2");
	if ((rc = json_index(o, "receipt_index", XR_EVM_BLOCK_RECEIPTS_MAX - 1, &ri, err)) < 0 ||
	    (rc = json_index(o, "log_position", XR_EVM_RECEIPT_MAX_LOGS - 1, &lp, err)) < 0)
		return rc;
	if (!json_object_get(o, "header_rlp"))
		return xr_err_set(err, XR_EINVAL, "evidence has no \"header_rlp\"");
	if (!(proof = json_object_get(o, "receipt_proof")))
		return xr_err_set(err, XR_EINVAL, "evidence has no \"receipt_proof\"");
	if (!json_is_array(proof))
		return xr_err_set(err, XR_EINVAL, "evidence \"receipt_proof\" is not an array");
	if (json_array_size(proof) < 1 || json_array_size(proof) > XR_EVM_PROOF_MAX_NODES)
		return xr_err_set(err, XR_EINVAL,
				  "evidence \"receipt_proof\" has %zu nodes, expected 1..%d",
				  json_array_size(proof), XR_EVM_PROOF_MAX_NODES);
	xr_buf_init(&header, XR_EVM_HEADER_RLP_MAX);
	xr_buf_init(&nodes, XR_EVM_EVIDENCE_MAX);
	xr_buf_init(&tx, XR_EVM_BLOCK_TX_MAX);
	xr_buf_init(&tx_nodes, XR_EVM_EVIDENCE_MAX);
	if ((rc = xr_evm_json_data(json_object_get(o, "header_rlp"), "evidence header_rlp",
				   XR_EVM_HEADER_RLP_MAX, &header, NULL, err)) < 0 ||
	    (rc = json_proof(proof, "receipt_proof", &nodes, err)) < 0)
		goto out;
	if (version == 2) {
		const json_t *tp = json_object_get(o, "tx_proof");
		if (!json_object_get(o, "tx") || !tp) {
			rc = xr_err_set(err, XR_EINVAL,
					"evidence version 2 has no \"tx\" or \"tx_proof\"");
			goto out;
		}
		if ((rc = xr_evm_json_data(json_object_get(o, "tx"), "evidence tx", XR_EVM_BLOCK_TX_MAX,
					   &tx, NULL, err)) < 0 ||
		    (rc = json_proof(tp, "tx_proof", &tx_nodes, err)) < 0)
			goto out;
		rc = xr_evm_evidence_encode2(header.data, header.len, ri, nodes.data, nodes.len, lp,
					     tx.data, tx.len, tx_nodes.data, tx_nodes.len, out,
					     err);
	} else {
		rc = xr_evm_evidence_encode(header.data, header.len, ri, nodes.data, nodes.len, lp,
					    out, err);
	}
out:
	xr_buf_fini(&header);
	xr_buf_fini(&nodes);
	xr_buf_fini(&tx);
	xr_buf_fini(&tx_nodes);
	return rc;
}

/* o[key] = "0x" + hex of p[0..n); -1 when out of memory. */
static int set_hex(json_t *o, const char *key, const uint8_t *p, size_t n)
{
	char *hex = xr_hex0x_new(p, n);
	int rc = hex ? json_object_set_new(o, key, json_string(hex)) : -1;
	free(hex);
	return rc;
}

/* o[key] = the nodes of a proof list, each as hex; -1 when out of memory. */
static int set_proof(json_t *o, const char *key, const struct xr_rlp_item *list)
{
	struct xr_rlp_iter it;
	struct xr_rlp_item node;
	json_t *a = json_array();

	if (!a)
		return -1;
	xr_rlp_iter_init(&it, list, 2);
	while (xr_rlp_next(&it, &node, NULL) > 0) {
		char *hex = xr_hex0x_new(node.p, node.len);
		int rc = hex ? json_array_append_new(a, json_string(hex)) : -1;
		free(hex);
		if (rc < 0) {
			json_decref(a);
			return -1;
		}
	}
	return json_object_set_new(o, key, a);
}

static json_t *to_json(const uint8_t *evidence, size_t len, struct xr_err *err)
{
	struct parts s;
	json_t *o;

	if (split(evidence, len, &s, err) < 0)
		return NULL;
	if (!(o = json_object()) || json_object_set_new(o, "framework", json_string("evm")) < 0 ||
	    (s.version == 2 && json_object_set_new(o, "version", json_integer(2)) < 0) ||
	    set_hex(o, "header_rlp", s.header.p, s.header.len) < 0 ||
	    json_object_set_new(o, "receipt_index", json_integer((json_int_t)s.receipt_index)) <
		0 ||
	    set_proof(o, "receipt_proof", &s.proof) < 0 ||
	    json_object_set_new(o, "log_position", json_integer((json_int_t)s.log_position)) < 0 ||
	    (s.version == 2 && (set_hex(o, "tx", s.tx.p, s.tx.len) < 0 ||
				set_proof(o, "tx_proof", &s.tx_proof) < 0))) {
		json_decref(o);
		xr_err_set(err, XR_ENOMEM, "out of memory showing evidence");
		return NULL;
	}
	return o;
}

const struct xr_evidence_ops xr_evidence_evm = {"evm", rebuild, xr_evm_evidence_check, to_json};
