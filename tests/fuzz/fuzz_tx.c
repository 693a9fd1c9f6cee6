/* fuzz_tx.c - libFuzzer target for raw Ethereum transactions
 * (adapters/evm/tx.c): decoding and sender recovery never crash, and what
 * decodes re-encodes to exactly the input (the decoder is canonical-only). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xr_evm_tx tx;
	struct xr_evm_sig sig;
	struct xr_buf b;
	uint8_t from[XR_EVM_ADDR_LEN], from2[XR_EVM_ADDR_LEN], hash[32], hash2[32];

	/* A wrong chain id is refused whatever the input. */
	if (xr_evm_tx_recover(data, size, 1, NULL, from, NULL) == 0) {
		if (xr_evm_tx_decode(data, size, &tx, NULL, NULL) != 0 || tx.chain_id != 1 ||
		    xr_evm_tx_recover(data, size, 2, NULL, from2, NULL) == 0)
			abort();
	}
	if (xr_evm_tx_decode(data, size, &tx, &sig, NULL) != 0)
		return 0;
	if (sig.y_parity > 1 || sig.s[0] > 0x7f || tx.chain_id == 0 ||
	    tx.chain_id > XR_EVM_CHAIN_ID_MAX ||
	    (tx.type != XR_EVM_TX_LEGACY && tx.type != XR_EVM_TX_EIP1559))
		abort();

	xr_buf_init(&b, XR_EVM_TX_MAX);
	if (xr_evm_tx_encode(&tx, &sig, &b, hash, NULL) != 0 || b.len != size ||
	    memcmp(b.data, data, size) != 0)
		abort();
	xr_evm_tx_hash(data, size, hash2);
	if (memcmp(hash, hash2, 32) != 0)
		abort();
	xr_buf_fini(&b);

	/* Recovery either fails (no point for r) or is stable. */
	if (xr_evm_tx_recover(data, size, tx.chain_id, NULL, from, NULL) == 0 &&
	    (xr_evm_tx_recover(data, size, tx.chain_id, NULL, from2, NULL) != 0 ||
	     memcmp(from, from2, sizeof(from)) != 0))
		abort();
	return 0;
}
