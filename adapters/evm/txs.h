/* txs.h - the transactions of an EVM block: their EIP-2718 envelopes
 * re-encoded from JSON-RPC transaction objects (checked against the
 * object's hash), and the block's transactions trie. Also the index-keyed
 * trie machinery the transactions and receipts tries share. */
#ifndef XR_EVM_TXS_H
#define XR_EVM_TXS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "xr_bytes.h"
#include "xr_err.h"

/* One raw transaction of a block, and the cap on its "input". Not
 * XR_EVM_TX_MAX: that is the txpool's limit, a policy a block builder need
 * not follow, and a block holding one transaction we refused could not be
 * proven at all. Since Osaka a whole block is at most 8 MiB of RLP
 * (EIP-7934); before, gas kept blocks below that. It also leaves room for
 * the trie leaf around the value (XR_MPT_MAX_NODE). */
#define XR_EVM_BLOCK_TX_MAX (8u << 20)
/* Transactions in one block: far above what any gas limit allows (21000
 * gas each). All of them together are capped at 4 * XR_EVM_BLOCK_TX_MAX. */
#define XR_EVM_BLOCK_TXS_MAX 65536
/* Per transaction, far above what its gas can pay for: access list
 * addresses (2400 gas each), storage keys over all entries (1900 gas each),
 * authorizations (25000 gas each) and blob hashes (one blob's gas each). */
#define XR_EVM_TX_ACCESS_MAX 65536
#define XR_EVM_TX_KEYS_MAX 65536
#define XR_EVM_TX_AUTHS_MAX 65536
#define XR_EVM_TX_BLOBS_MAX 4096

/* --- one transaction -------------------------------------------------------- */

/* Appends the raw signed transaction a JSON-RPC transaction object
 * (eth_getBlockByNumber(n, true), eth_getTransactionByHash) describes, as
 * the block's trie holds it:
 * - type 0 (or no "type"): RLP([nonce, gasPrice, gas, to, value, input, v,
 *   r, s]); v is 27/28 (no chain id) or 35 + 2 * chainId + {0, 1} (EIP-155).
 *   A "chainId" beside an EIP-155 v must be the chain id v gives; beside
 *   v 27/28 it may only be 0x0 (what some geth versions send). Which chain
 *   the transaction is for is not checked here: it is in the block.
 * - type 1 (EIP-2930), 2 (EIP-1559), 3 (EIP-4844, the canonical form: blob
 *   sidecar fields the node adds are not looked at) and 4 (EIP-7702):
 *   type || RLP(fields), signed with "yParity" (0 or 1, required: a "v"
 *   alone, as older nodes sent, is not taken); a "v" beside it must
 *   be equal to it.
 * Strict: every field of the encoding present (contract creation is "to":
 * null, only for types 0 to 2), QUANTITY and DATA as xr_evm_json_u64 and
 * friends read them, within the caps above; fields outside the encoding
 * (from, gasPrice of types 2 to 4, block fields) are not looked at. The
 * signature is not checked (a block before EIP-2 may hold a high s; an
 * EIP-7702 authorization's is checked only when it runs), but keccak256 of
 * the result must be "hash", else XR_EVERIFY naming both. Another type is
 * XR_EINVAL "transaction type 0x.. is not supported". Output that does not
 * fit in out (or an out that has failed already) is XR_ENOMEM. out is left
 * as it was on failure; ret_hash (may be NULL) gets the transaction hash. */
int xr_evm_tx_raw_from_json(const json_t *tx,
			    struct xr_buf *out,
			    uint8_t ret_hash[32],
			    struct xr_err *err);

/* --- the transactions of one block -------------------------------------- */

struct xr_evm_txs;

/* Encodes the "transactions" array of a block fetched with full objects
 * (eth_getBlockByNumber(n, true); transaction i must have transactionIndex
 * i) and builds the block's transactions trie (key RLP(i)). The caller
 * frees *ret with xr_evm_txs_free. */
int xr_evm_txs_from_json(const json_t *transactions, struct xr_evm_txs **ret, struct xr_err *err);
void xr_evm_txs_free(struct xr_evm_txs *t); /* accepts NULL */
size_t xr_evm_txs_count(const struct xr_evm_txs *t);
/* The raw transaction i < count, borrowed from t. */
void xr_evm_txs_get(const struct xr_evm_txs *t, size_t i, const uint8_t **ret_raw, size_t *ret_len);
/* The transactions root (the empty-trie root for a block without any). */
void xr_evm_txs_root(const struct xr_evm_txs *t, uint8_t out[32]);
/* Appends the proof of transaction i (xr_mpt_prove) to out; *ret_count
 * (may be NULL) gets the number of nodes. */
int xr_evm_txs_prove(const struct xr_evm_txs *t,
		     size_t i,
		     struct xr_buf *out,
		     size_t *ret_count,
		     struct xr_err *err);

/* --- index-keyed tries, shared with receipt.c ------------------------------
 * A block's transactions and receipts tries have one shape: entry i of a
 * JSON array, which must carry "transactionIndex" i, is encoded by a
 * callback and stored under RLP(i). Messages name entry i "<noun> i". */

typedef int (*xr_evm_encode_fn)(const json_t *item, struct xr_buf *out, struct xr_err *err);

struct xr_evm_itrie_spec {
	const char *noun;	 /* "receipt" */
	const char *nouns;	 /* "receipts" */
	size_t max_count;	 /* entries */
	size_t max_total;	 /* bytes of all encodings together */
	xr_evm_encode_fn encode; /* appends entry i; leaves out as it was on failure */
};

struct xr_mpt;

/* An object the caller embeds; every field is private to txs.c. */
struct xr_evm_itrie {
	const struct xr_evm_itrie_spec *spec; /* static storage */
	size_t n;
	struct xr_buf enc; /* every encoding back to back */
	size_t *off;	   /* n + 1 offsets into enc */
	struct xr_mpt *trie;
};

/* Encodes every entry of array and builds the trie; on failure t needs no
 * fini (it is left empty). spec must outlive t. */
int xr_evm_itrie_init(struct xr_evm_itrie *t,
		      const json_t *array,
		      const struct xr_evm_itrie_spec *spec,
		      struct xr_err *err);
void xr_evm_itrie_fini(struct xr_evm_itrie *t); /* accepts an empty t */
void xr_evm_itrie_get(const struct xr_evm_itrie *t,
		      size_t i,
		      const uint8_t **ret_enc,
		      size_t *ret_len);
void xr_evm_itrie_root(const struct xr_evm_itrie *t, uint8_t out[32]);
int xr_evm_itrie_prove(const struct xr_evm_itrie *t,
		       size_t i,
		       struct xr_buf *out,
		       size_t *ret_count,
		       struct xr_err *err);

#endif
