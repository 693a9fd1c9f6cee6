/* fuzz_tx_json.c - libFuzzer target for JSON-RPC transaction objects
 * (adapters/evm/txs.c): arbitrary bytes, parsed as JSON, never crash
 * xr_evm_tx_raw_from_json; a failure leaves the output as it was; a success
 * hashes to the object's hash; a hash mismatch is the only thing wrong once
 * "hash" is set to the hash the message names; and a block of that one
 * transaction gives the same bytes and a proof that verifies. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "keccak.h"
#include "mpt.h"
#include "txs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t prefix[] = "prefix";

/* Runs the encoder; aborts if it breaks its contract. Returns its code. */
static int check(const json_t *tx, struct xr_err *err, uint8_t hash[32])
{
	struct xr_buf b;
	int rc;

	xr_buf_init(&b, (size_t)XR_EVM_BLOCK_TX_MAX + 64);
	xr_buf_put(&b, prefix, sizeof(prefix));
	err->code = 0;
	err->msg[0] = '\0';
	rc = xr_evm_tx_raw_from_json(tx, &b, hash, err);
	if (b.failed || b.len < sizeof(prefix) || memcmp(b.data, prefix, sizeof(prefix)) != 0)
		abort();
	if (rc < 0) {
		if (b.len != sizeof(prefix) || err->code != rc || !err->msg[0])
			abort();
	} else {
		uint8_t h[32];
		if (rc != 0 || b.len == sizeof(prefix))
			abort();
		xr_keccak256(b.data + sizeof(prefix), b.len - sizeof(prefix), h);
		if (memcmp(h, hash, 32) != 0)
			abort();
		/* The same bytes through a block of this one transaction. */
		json_t *one = json_deep_copy(tx), *arr = json_array();
		struct xr_evm_txs *t;
		json_object_set_new(one, "transactionIndex", json_string("0x0"));
		json_array_append_new(arr, one);
		if (xr_evm_txs_from_json(arr, &t, NULL) != 0)
			abort();
		const uint8_t *raw, *val;
		size_t n, vn;
		uint8_t root[32], key[9];
		struct xr_buf proof;
		xr_evm_txs_get(t, 0, &raw, &n);
		if (xr_evm_txs_count(t) != 1 || n != b.len - sizeof(prefix) ||
		    memcmp(raw, b.data + sizeof(prefix), n) != 0)
			abort();
		xr_evm_txs_root(t, root);
		xr_buf_init(&proof, 1 << 26);
		if (xr_evm_txs_prove(t, 0, &proof, NULL, NULL) != 0 ||
		    xr_mpt_verify(root, key, xr_mpt_index_key(0, key), proof.data, proof.len, &val,
				  &vn, NULL) != 0 ||
		    vn != n || memcmp(val, raw, n) != 0)
			abort();
		xr_buf_fini(&proof);
		xr_evm_txs_free(t);
		json_decref(arr);
	}
	xr_buf_fini(&b);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xr_err err;
	uint8_t hash[32];
	json_t *tx = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);

	if (!tx)
		return 0;
	if (check(tx, &err, hash) == XR_EVERIFY && json_is_object(tx)) {
		/* Everything but the hash was right: with the hash the message
		 * names, it must pass. */
		const char *p = strstr(err.msg, "hashes to 0x");
		if (!p || strlen(p + 10) != 66)
			abort();
		json_object_set_new(tx, "hash", json_string(p + 10));
		if (check(tx, &err, hash) != 0)
			abort();
	}
	json_decref(tx);
	return 0;
}
