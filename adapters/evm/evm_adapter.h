/* evm_adapter.h - the built-in adapter for Ethereum JSON-RPC chains
 * (framework "evm"): reads the bridge contract's Sent events with header and
 * receipts-trie evidence. Parameters are described in adapter.c. */
#ifndef XR_EVM_ADAPTER_H
#define XR_EVM_ADAPTER_H

#include "adapter.h"

/* The adapter table; static, never freed. */
const struct xr_adapter *xr_evm_adapter(void);

#endif
