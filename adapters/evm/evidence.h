/* evidence.h - the evidence behind an envelope from an EVM chain: the block
 * header, a receipts-trie proof of the receipt that holds the bridge's Sent
 * log and (version 2) a transactions-trie proof of its transaction, and the
 * check that ties them to the envelope.
 *
 * Version 1 bytes are RLP([header_rlp, receipt_index, [proof_node, ...],
 * log_position]). Version 2 bytes are RLP([2, header_rlp, receipt_index,
 * [proof_node, ...], log_position, tx, [tx_proof_node, ...]]): tx is the
 * transaction's EIP-2718 encoding, proven under transactionsRoot at the
 * receipt's index. header_rlp, tx and each proof node (root first, as
 * xr_mpt_prove makes them) are byte strings, the positions integers. The JSON
 * view is {"framework":"evm","header_rlp":"0x..","receipt_index":N,
 * "receipt_proof":["0x..",...],"log_position":N}, and for version 2 also
 * "version":2,"tx":"0x..","tx_proof":["0x..",...]. The relay writes
 * version 2; version 1 evidence still verifies, for what it proves.
 *
 * What the evidence proves: the block (its hash is keccak256(header_rlp)),
 * height and time, and, through receiptsRoot, the receipt and so the log:
 * emitter, sequence, destination, recipient, amount and payload; version 2
 * also the source tx hash (keccak256(tx)). What it does not prove: the
 * block-level log index (it counts the logs of every earlier receipt in the
 * block; the relay computes it from every receipt of the block, proven
 * against receiptsRoot, but the evidence carries only one). Nor does it
 * prove the chain id (a header does not hold it) or that the block is on the
 * chain everyone else sees: that comes from the relay's quorum of endpoints
 * (README, "What the relay trusts"). */
#ifndef XR_EVM_EVIDENCE_H
#define XR_EVM_EVIDENCE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "bundle.h"
#include "envelope.h"
#include "header.h"
#include "receipt.h"
#include "tx.h"
#include "xr_bytes.h"
#include "xr_err.h"

/* Largest evidence accepted or made: a receipt that holds a Sent log may
 * also hold other large logs of the same transaction. */
#define XR_EVM_EVIDENCE_MAX (16u << 20)
/* A receipts-trie path is at most 19 nodes (a 9-byte key); this is slack. */
#define XR_EVM_PROOF_MAX_NODES 64
/* A header RLP: 21 fields and XR_EVM_EXTRA_MAX of extraData fit in this. */
#define XR_EVM_HEADER_RLP_MAX (XR_EVM_EXTRA_MAX + 1024)

/* The EVM evidence framework ("evm") for proof bundles and the relay. */
extern const struct xr_evidence_ops xr_evidence_evm;

/* Appends the evidence bytes. proof is the concatenated node encodings of
 * xr_mpt_prove (split here into one byte string per node). out is left as it
 * was on failure. */
int xr_evm_evidence_encode(const uint8_t *header_rlp,
			   size_t header_len,
			   uint64_t receipt_index,
			   const uint8_t *proof,
			   size_t proof_len,
			   uint64_t log_position,
			   struct xr_buf *out,
			   struct xr_err *err);

/* Appends version 2 evidence: as above, with the raw transaction and the
 * concatenated nodes of its transactions-trie proof (xr_evm_txs_prove). */
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
			    struct xr_err *err);

/* Evidence opened and verified as far as it goes without an envelope. The
 * pointers borrow from the evidence bytes, except receipt and log, which
 * borrow from `proof` (a copy owned by the struct). */
struct xr_evm_evidence {
	struct xr_evm_header header;
	uint8_t block_hash[32]; /* keccak256(header_rlp) */
	uint64_t receipt_index;
	uint64_t log_position;
	struct xr_evm_receipt receipt;
	struct xr_evm_log log;
	uint8_t *proof; /* the concatenated proof nodes; freed by _fini */
	size_t proof_len;
	unsigned version; /* 1 or 2 */
	bool has_tx;	  /* version 2: the transaction is proven */
	uint8_t tx_hash[32];
};

/* Decodes evidence strictly, hashes the header, verifies the receipt proof
 * against its receiptsRoot, decodes the receipt and takes the log at
 * log_position. XR_EVERIFY for a proof that does not verify, XR_EINVAL for
 * malformed evidence. Release *ret with xr_evm_evidence_fini (only after
 * success). */
int xr_evm_evidence_open(const uint8_t *p,
			 size_t n,
			 struct xr_evm_evidence *ret,
			 struct xr_err *err);
void xr_evm_evidence_fini(struct xr_evm_evidence *ev);

/* The fields of a Sent(uint64 indexed sequence, address indexed sender,
 * string dstChain, bytes recipient, uint256 amount, bytes payload) log,
 * borrowed from the log's data. */
struct xr_evm_sent {
	uint64_t sequence;
	uint8_t sender[20];
	const char *dst_chain; /* not NUL-terminated */
	size_t dst_chain_len;
	const uint8_t *recipient;
	size_t recipient_len;
	uint8_t amount[32];
	const uint8_t *payload;
	size_t payload_len;
};

/* Decodes a log as the bridge's Sent event: three topics (the Sent topic,
 * the sequence, the sender) and the canonical ABI encoding of the data, as
 * solc emits it (offsets in order, zero padding, nothing trailing), within
 * the envelope's limits. */
int xr_evm_sent_decode(const struct xr_evm_log *log, struct xr_evm_sent *ret, struct xr_err *err);

/* Builds the envelope of a Sent log of block h (hash block_hash) on chain
 * src_chain ("eip155:<chain id>"): a transfer of the native coin
 * ("eip155:<id>/slip44:60") when the amount is not zero, else a message.
 * src_tx and log_index come from the caller (see above). ret->payload
 * borrows from the log. Fails for a log that is not a valid Sent event or
 * does not make a valid envelope. */
int xr_evm_sent_envelope(const char *src_chain,
			 const struct xr_evm_header *h,
			 const uint8_t block_hash[32],
			 const uint8_t src_tx[32],
			 uint32_t log_index,
			 const struct xr_evm_log *log,
			 struct xr_envelope *ret,
			 struct xr_err *err);

/* Checks evidence against a decoded envelope: everything the evidence
 * proves (see the top of this file) must equal the envelope's field. This is
 * xr_evidence_evm.check. */
int xr_evm_evidence_check(const struct xr_envelope *env,
			  const uint8_t *evidence,
			  size_t len,
			  struct xr_err *err);

#endif
