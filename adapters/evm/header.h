/* header.h - the Ethereum block header: the struct, its RLP (whose
 * Keccak-256 is the block hash) and the JSON-RPC block object it is read
 * from (eth_getBlockByNumber). */
#ifndef XR_EVM_HEADER_H
#define XR_EVM_HEADER_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "xr_bytes.h"
#include "xr_err.h"

/* extraData is 32 bytes on Ethereum mainnet but carries validators and
 * seals on Clique, IBFT/QBFT (Besu, Quorum) and BSC; this bounds it. */
#define XR_EVM_EXTRA_MAX 8192

/* The optional fields that forks appended, in order. A header carries a
 * prefix of them: n_tail = k means the first k are present. */
enum {
	XR_EVM_TAIL_BASE_FEE = 1,	  /* London: baseFeePerGas */
	XR_EVM_TAIL_WITHDRAWALS_ROOT = 2, /* Shanghai: withdrawalsRoot */
	XR_EVM_TAIL_BLOB_GAS_USED = 3,	  /* Cancun: blobGasUsed */
	XR_EVM_TAIL_EXCESS_BLOB_GAS = 4,  /* Cancun: excessBlobGas */
	XR_EVM_TAIL_BEACON_ROOT = 5,	  /* Cancun: parentBeaconBlockRoot */
	XR_EVM_TAIL_REQUESTS_HASH = 6,	  /* Prague: requestsHash */
	XR_EVM_TAIL_MAX = 6,
};

struct xr_evm_header {
	uint8_t parent_hash[32];
	uint8_t uncles_hash[32]; /* sha3Uncles */
	uint8_t miner[20];
	uint8_t state_root[32];
	uint8_t tx_root[32];	   /* transactionsRoot */
	uint8_t receipts_root[32]; /* receiptsRoot */
	uint8_t logs_bloom[256];
	uint8_t difficulty[32]; /* uint256, big-endian */
	uint64_t number;
	uint64_t gas_limit;
	uint64_t gas_used;
	uint64_t timestamp;
	size_t extra_len;
	uint8_t extra[XR_EVM_EXTRA_MAX]; /* extraData */
	uint8_t mix_hash[32];		 /* prevRandao since the merge */
	uint8_t nonce[8];
	unsigned n_tail;      /* 0..XR_EVM_TAIL_MAX, see above */
	uint8_t base_fee[32]; /* uint256, big-endian */
	uint8_t withdrawals_root[32];
	uint64_t blob_gas_used;
	uint64_t excess_blob_gas;
	uint8_t parent_beacon_root[32];
	uint8_t requests_hash[32];
};

/* Appends RLP([fields..., tail...]) to out; integers are minimal big-endian.
 * Fails only when out overflows or h is out of range (n_tail, extra_len). */
int xr_evm_header_encode(const struct xr_evm_header *h, struct xr_buf *out, struct xr_err *err);
/* Decodes a header from exactly p[0..n): 15 to 21 fields, canonical RLP and
 * integers, fixed sizes checked. */
int xr_evm_header_decode(const uint8_t *p, size_t n, struct xr_evm_header *ret, struct xr_err *err);
/* The block hash: keccak256 of the encoding. */
int xr_evm_header_hash(const struct xr_evm_header *h, uint8_t out[32], struct xr_err *err);

/* Reads a JSON-RPC block object (eth_getBlockByNumber / ByHash). QUANTITY
 * fields must be "0x" and minimal hex ("0x0", never "0x01" or "0x"); DATA
 * fields "0x" and exactly the field's size. Missing required fields, a later
 * optional field without the earlier ones, and oversized values are refused.
 * Other members (hash, size, transactions, ...) are ignored: compare the
 * object's "hash" with xr_evm_header_hash to check it. */
int xr_evm_header_from_json(const json_t *block, struct xr_evm_header *ret, struct xr_err *err);

#endif
