/* tx.h - Ethereum keys, EIP-55 addresses and transactions: signing and
 * sender recovery for legacy EIP-155 and EIP-1559 (type 2) transactions. */
#ifndef XR_EVM_TX_H
#define XR_EVM_TX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xr_bytes.h"
#include "xr_err.h"

#define XR_EVM_ADDR_LEN 20
/* "0x" + 40 hex digits + NUL. */
#define XR_EVM_ADDR_STR_LEN 43
/* Largest raw transaction accepted or produced: the txpool limit of geth. */
#define XR_EVM_TX_MAX (128 * 1024)
/* Largest chain id: keeps the legacy v = 36 + 2 * chain_id within 64 bits. */
#define XR_EVM_CHAIN_ID_MAX ((UINT64_MAX - 36) / 2)

enum {
	XR_EVM_TX_LEGACY = 0,  /* EIP-155 replay-protected legacy transaction */
	XR_EVM_TX_EIP1559 = 2, /* EIP-1559 dynamic-fee transaction */
};

/* A transaction without its signature. Amounts and fees are 256-bit
 * big-endian; nonce (EIP-2681), gas and chain id are 64-bit, as in every
 * client. Pointers are borrowed: from the caller when signing, from the raw
 * transaction after decoding. */
struct xr_evm_tx {
	uint8_t type;
	uint64_t chain_id; /* 1..XR_EVM_CHAIN_ID_MAX */
	uint64_t nonce;
	uint64_t gas;
	uint8_t gas_price[32];		      /* legacy only, zero for type 2 */
	uint8_t max_priority_fee_per_gas[32]; /* type 2 only, zero for legacy */
	uint8_t max_fee_per_gas[32];	      /* type 2 only, zero for legacy */
	bool has_to;			      /* false: contract creation */
	uint8_t to[XR_EVM_ADDR_LEN];
	uint8_t value[32];
	const uint8_t *data;
	size_t data_len;
	/* Type 2 only: the RLP-encoded access list item (a list of [address,
	 * [storage keys]]), or NULL with length 0 for the empty list. */
	const uint8_t *access_list;
	size_t access_list_len;
};

/* A recoverable secp256k1 signature: r, s big-endian, and the y parity of
 * the nonce point (0 or 1). */
struct xr_evm_sig {
	uint8_t r[32];
	uint8_t s[32];
	uint8_t y_parity;
};

/* The 65-byte uncompressed public key (0x04 || x || y) of a private key.
 * Fails for zero and for keys not below the curve order. */
int xr_evm_pubkey(const uint8_t priv[32], uint8_t ret_pub[65], struct xr_err *err);
/* The address of an uncompressed public key: the last 20 bytes of
 * keccak256(x || y). */
void xr_evm_address_of_pub(const uint8_t pub[65], uint8_t ret_addr[XR_EVM_ADDR_LEN]);
/* The address of a private key. */
int xr_evm_address_of_priv(const uint8_t priv[32],
			   uint8_t ret_addr[XR_EVM_ADDR_LEN],
			   struct xr_err *err);

/* EIP-55 mixed-case checksummed form, "0x"-prefixed and NUL-terminated. */
void xr_evm_address_format(const uint8_t addr[XR_EVM_ADDR_LEN], char out[XR_EVM_ADDR_STR_LEN]);
/* Parses "0x" + 40 hex digits. All-lower and all-upper digits are taken as
 * unchecksummed; mixed case must carry a correct EIP-55 checksum. */
int xr_evm_address_parse(const char *s, uint8_t ret_addr[XR_EVM_ADDR_LEN], struct xr_err *err);

/* The hash a sender signs: keccak256 of the EIP-155 signing payload, or of
 * 0x02 || RLP(fields) for type 2. Fails for an invalid tx. */
int xr_evm_tx_signing_hash(const struct xr_evm_tx *tx, uint8_t ret_hash[32], struct xr_err *err);

/* Signs tx with priv (RFC 6979 nonce, low s) and appends the raw signed
 * transaction to out; out is left as it was on failure. ret_hash (may be
 * NULL) receives the transaction hash. */
int xr_evm_tx_sign(const struct xr_evm_tx *tx,
		   const uint8_t priv[32],
		   struct xr_buf *out,
		   uint8_t ret_hash[32],
		   struct xr_err *err);

/* Appends the raw transaction made of tx and a signature produced elsewhere
 * (a remote signer), under the same checks as the decoder; out is left as it
 * was on failure. ret_hash (may be NULL) receives the transaction hash. Does
 * not check that the signature is valid for tx. */
int xr_evm_tx_encode(const struct xr_evm_tx *tx,
		     const struct xr_evm_sig *sig,
		     struct xr_buf *out,
		     uint8_t ret_hash[32],
		     struct xr_err *err);

/* Decodes a raw signed transaction of either type, strictly: canonical RLP,
 * nothing trailing, EIP-155 v only, 0 < r, s < n and s in the lower half.
 * ret_tx borrows data and access_list from raw. Either output may be NULL.
 * Does not check the signature. */
int xr_evm_tx_decode(const uint8_t *raw,
		     size_t n,
		     struct xr_evm_tx *ret_tx,
		     struct xr_evm_sig *ret_sig,
		     struct xr_err *err);

/* Decodes raw, requires its chain id to be chain_id and recovers the sender
 * address. ret_tx (may be NULL) as for xr_evm_tx_decode. */
int xr_evm_tx_recover(const uint8_t *raw,
		      size_t n,
		      uint64_t chain_id,
		      struct xr_evm_tx *ret_tx,
		      uint8_t ret_from[XR_EVM_ADDR_LEN],
		      struct xr_err *err);

/* The transaction hash: keccak256 of the raw signed bytes. */
void xr_evm_tx_hash(const uint8_t *raw, size_t n, uint8_t ret_hash[32]);

#endif
