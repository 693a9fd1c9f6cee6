/* receipt.h - Ethereum transaction receipts: their consensus encoding
 * (EIP-2718) from JSON-RPC receipt objects, a strict decoder, the receipts
 * trie of a block, and the JSON-RPC value readers the EVM adapter shares. */
#ifndef XR_EVM_RECEIPT_H
#define XR_EVM_RECEIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "rlp.h"
#include "xr_bytes.h"
#include "xr_err.h"

/* Caps on what a node may send (and what a decoded receipt may hold). */
#define XR_EVM_RECEIPT_MAX_LOGS 10000
#define XR_EVM_LOG_DATA_MAX (1u << 20)
#define XR_EVM_LOG_TOPICS_MAX 4
/* Receipts in one block: far above what any gas limit allows today. */
#define XR_EVM_BLOCK_RECEIPTS_MAX 65536
/* One encoded receipt: its logs at their caps would not fit in any block;
 * this is what the trie builder accepts per value. */
#define XR_EVM_RECEIPT_MAX (16u << 20)

/* --- JSON-RPC values -------------------------------------------------------
 * A QUANTITY is "0x" and minimal hex ("0x0", never "0x" or "0x01"); DATA is
 * "0x" and an even number of hex digits (either case). `what` names the value
 * in error messages, which show (the start of) the offending text. */

int xr_evm_json_u64(const json_t *v, const char *what, uint64_t *ret, struct xr_err *err);
int xr_evm_json_u256(const json_t *v, const char *what, uint8_t ret[32], struct xr_err *err);
/* DATA of exactly n bytes into out. */
int xr_evm_json_fixed(
    const json_t *v, const char *what, uint8_t *out, size_t n, struct xr_err *err);
/* DATA of at most max bytes, appended to out; *ret_len (may be NULL) gets the
 * count. out is left as it was on failure. */
int xr_evm_json_data(const json_t *v,
		     const char *what,
		     size_t max,
		     struct xr_buf *out,
		     size_t *ret_len,
		     struct xr_err *err);

/* --- one receipt ------------------------------------------------------------ */

/* Appends the consensus encoding of a JSON-RPC receipt object
 * (eth_getTransactionReceipt, eth_getBlockReceipts): for type 0 (or no
 * "type") RLP([status, cumulativeGasUsed, logsBloom, logs]), for a typed
 * receipt type || that RLP; before Byzantium "root" stands in for status.
 * Strict: the fields must be well-formed and within the caps above; fields
 * not in the encoding are not looked at. out is left as it was on failure. */
int xr_evm_receipt_from_json(const json_t *r, struct xr_buf *out, struct xr_err *err);

/* A log, borrowed from the receipt encoding it was read from. */
struct xr_evm_log {
	const uint8_t *address;			      /* 20 bytes */
	size_t n_topics;			      /* 0..XR_EVM_LOG_TOPICS_MAX */
	const uint8_t *topics[XR_EVM_LOG_TOPICS_MAX]; /* 32 bytes each */
	const uint8_t *data;
	size_t data_len;
};

/* A decoded receipt; logs borrows from the encoding. */
struct xr_evm_receipt {
	uint8_t type;	  /* 0 legacy, else the EIP-2718 type byte 0x01..0x7f */
	bool has_root;	  /* pre-Byzantium: root instead of status */
	uint8_t root[32]; /* when has_root */
	uint8_t status;	  /* 0 or 1, when !has_root */
	uint64_t cumulative_gas;
	const uint8_t *bloom; /* 256 bytes */
	struct xr_rlp_item logs;
	size_t n_logs; /* 0..XR_EVM_RECEIPT_MAX_LOGS */
};

/* Decodes exactly p[0..n) as a receipt: canonical RLP, a type byte of
 * 0x01..0x7f or none, every log well-formed and within the caps. */
int xr_evm_receipt_decode(const uint8_t *p,
			  size_t n,
			  struct xr_evm_receipt *ret,
			  struct xr_err *err);
/* The log at position pos (0-based, in the receipt) of a decoded receipt. */
int xr_evm_receipt_log(const struct xr_evm_receipt *r,
		       size_t pos,
		       struct xr_evm_log *ret,
		       struct xr_err *err);

/* --- the receipts of one block ---------------------------------------------- */

struct xr_evm_receipts;

/* Encodes every receipt of an eth_getBlockReceipts result (a JSON array,
 * receipt i with transactionIndex i) and builds the block's receipts trie
 * (key RLP(i)). The caller frees *ret with xr_evm_receipts_free. */
int xr_evm_receipts_from_json(const json_t *receipts,
			      struct xr_evm_receipts **ret,
			      struct xr_err *err);
void xr_evm_receipts_free(struct xr_evm_receipts *r); /* accepts NULL */
size_t xr_evm_receipts_count(const struct xr_evm_receipts *r);
/* The encoding of receipt i < count, borrowed from r. */
void xr_evm_receipts_get(const struct xr_evm_receipts *r,
			 size_t i,
			 const uint8_t **ret_enc,
			 size_t *ret_len);
/* The receipts root (the empty-trie root for a block without receipts). */
void xr_evm_receipts_root(const struct xr_evm_receipts *r, uint8_t out[32]);
/* Appends the proof of receipt i (xr_mpt_prove) to out; *ret_count (may be
 * NULL) gets the number of nodes. */
int xr_evm_receipts_prove(const struct xr_evm_receipts *r,
			  size_t i,
			  struct xr_buf *out,
			  size_t *ret_count,
			  struct xr_err *err);

#endif
