/* tx.c - Ethereum keys, EIP-55 addresses, and signing and sender recovery
 * for EIP-155 legacy and EIP-1559 transactions, on libsecp256k1. */
#include "tx.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <secp256k1.h>
#include <secp256k1_recovery.h>

#include "keccak.h"
#include "rlp.h"

#define LEGACY_FIELDS 9
#define EIP1559_FIELDS 12

/* --- keys and addresses -------------------------------------------------- */

/* A context for operations on secret keys: signing and key derivation need
 * a context other than secp256k1_context_static, and randomizing it blinds
 * those operations against side channels. One per call keeps this file free
 * of globals; creating one is cheap since the tables are static. The
 * caller destroys it. */
static int secret_ctx(secp256k1_context **ret_ctx, struct xr_err *err)
{
	uint8_t seed[32];
	secp256k1_context *ctx = secp256k1_context_create(SECP256K1_CONTEXT_NONE);
	if (!ctx)
		return xr_err_set(err, XR_ENOMEM, "cannot allocate a secp256k1 context");
	int ok = RAND_bytes(seed, sizeof(seed)) == 1 && secp256k1_context_randomize(ctx, seed);
	OPENSSL_cleanse(seed, sizeof(seed));
	if (!ok) {
		secp256k1_context_destroy(ctx);
		return xr_err_set(err, XR_EIO, "no randomness available to blind secp256k1");
	}
	*ret_ctx = ctx;
	return 0;
}

static int check_priv(const secp256k1_context *ctx, const uint8_t priv[32], struct xr_err *err)
{
	if (!secp256k1_ec_seckey_verify(ctx, priv))
		return xr_err_set(err, XR_EINVAL,
				  "secp256k1 private key is zero or not below the curve order");
	return 0;
}

int xr_evm_pubkey(const uint8_t priv[32], uint8_t ret_pub[65], struct xr_err *err)
{
	secp256k1_context *ctx;
	secp256k1_pubkey pk;
	uint8_t pub[65];
	size_t len = sizeof(pub);
	int rc;

	if ((rc = secret_ctx(&ctx, err)) < 0)
		return rc;
	if ((rc = check_priv(ctx, priv, err)) < 0)
		goto out;
	if (!secp256k1_ec_pubkey_create(ctx, &pk, priv)) {
		rc = xr_err_set(err, XR_EINVAL, "secp256k1 public key derivation failed");
		goto out;
	}
	secp256k1_ec_pubkey_serialize(ctx, pub, &len, &pk, SECP256K1_EC_UNCOMPRESSED);
	memcpy(ret_pub, pub, sizeof(pub));
out:
	secp256k1_context_destroy(ctx);
	return rc;
}

void xr_evm_address_of_pub(const uint8_t pub[65], uint8_t ret_addr[XR_EVM_ADDR_LEN])
{
	uint8_t h[32];
	xr_keccak256(pub + 1, 64, h);
	memcpy(ret_addr, h + 12, XR_EVM_ADDR_LEN);
}

int xr_evm_address_of_priv(const uint8_t priv[32],
			   uint8_t ret_addr[XR_EVM_ADDR_LEN],
			   struct xr_err *err)
{
	uint8_t pub[65];
	int rc = xr_evm_pubkey(priv, pub, err);
	if (rc < 0)
		return rc;
	xr_evm_address_of_pub(pub, ret_addr);
	return 0;
}

void xr_evm_address_format(const uint8_t addr[XR_EVM_ADDR_LEN], char out[XR_EVM_ADDR_STR_LEN])
{
	char hex[2 * XR_EVM_ADDR_LEN + 1];
	uint8_t h[32];

	xr_hex_encode(addr, XR_EVM_ADDR_LEN, hex);
	xr_keccak256(hex, 2 * XR_EVM_ADDR_LEN, h);
	out[0] = '0';
	out[1] = 'x';
	for (size_t i = 0; i < 2 * XR_EVM_ADDR_LEN; i++) {
		unsigned nib = (i % 2 ? h[i / 2] : h[i / 2] >> 4) & 0xf;
		char c = hex[i];
		if (c >= 'a' && c <= 'f' && nib >= 8)
			c = (char)(c - 'a' + 'A');
		out[2 + i] = c;
	}
	out[XR_EVM_ADDR_STR_LEN - 1] = '\0';
}

/* Up to 64 characters of untrusted text for an error message, with control
 * and non-ASCII bytes shown as '?' so the message stays one line. */
static const char *printable(const char *s, char out[65])
{
	size_t i = 0;
	for (; i < 64 && s[i]; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	out[i] = '\0';
	return out;
}

int xr_evm_address_parse(const char *s, uint8_t ret_addr[XR_EVM_ADDR_LEN], struct xr_err *err)
{
	char shown[65];
	bool lower = false, upper = false;
	uint8_t addr[XR_EVM_ADDR_LEN];
	char want[XR_EVM_ADDR_STR_LEN];
	size_t i;

	if (!s)
		return xr_err_set(err, XR_EINVAL, "address is missing");
	if (s[0] != '0' || s[1] != 'x')
		return xr_err_set(err, XR_EINVAL, "address '%s' does not start with 0x",
				  printable(s, shown));
	for (i = 2; i < XR_EVM_ADDR_STR_LEN - 1; i++) {
		char c = s[i];
		if (c >= 'a' && c <= 'f')
			lower = true;
		else if (c >= 'A' && c <= 'F')
			upper = true;
		else if (c < '0' || c > '9')
			break;
	}
	if (i != XR_EVM_ADDR_STR_LEN - 1 || s[i] != '\0')
		return xr_err_set(err, XR_EINVAL,
				  "address '%s' is not 0x followed by 40 hex digits",
				  printable(s, shown));
	int rc = xr_hex_decode_exact(s, addr, sizeof(addr), err);
	if (rc < 0)
		return rc;
	if (lower && upper) {
		xr_evm_address_format(addr, want);
		if (strcmp(s, want) != 0)
			return xr_err_set(
			    err, XR_EINVAL,
			    "address '%s' has a wrong eip-55 checksum (expected '%s')", s, want);
	}
	memcpy(ret_addr, addr, sizeof(addr));
	return 0;
}

/* --- encoding ------------------------------------------------------------ */

static bool is_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* Checks that an access list item is [[address, [storage key, ...]], ...]
 * with 20-byte addresses and 32-byte keys. depth is the list's RLP depth. */
static int check_access_list(const struct xr_rlp_item *list, unsigned depth, struct xr_err *err)
{
	struct xr_rlp_iter it, kit;
	struct xr_rlp_item entry, pair[2], key;
	size_t count = 0;
	int rc;

	if (list->kind != XR_RLP_LIST)
		return xr_err_set(err, XR_EINVAL, "access list is a byte string, expected a list");
	xr_rlp_iter_init(&it, list, depth);
	while ((rc = xr_rlp_next(&it, &entry, err)) > 0) {
		count++;
		if ((rc = xr_rlp_list_exact(&entry, pair, 2, "access list entry", err)) < 0)
			return rc;
		if (pair[0].kind != XR_RLP_BYTES || pair[0].len != XR_EVM_ADDR_LEN)
			return xr_err_set(err, XR_EINVAL,
					  "access list entry %zu address is not 20 bytes", count);
		if (pair[1].kind != XR_RLP_LIST)
			return xr_err_set(err, XR_EINVAL,
					  "access list entry %zu storage keys are not a list",
					  count);
		xr_rlp_iter_init(&kit, &pair[1], depth + 2);
		while ((rc = xr_rlp_next(&kit, &key, err)) > 0)
			if (key.kind != XR_RLP_BYTES || key.len != 32)
				return xr_err_set(err, XR_EINVAL,
						  "access list entry %zu has a storage key that "
						  "is not 32 bytes",
						  count);
		if (rc < 0)
			return rc;
	}
	return rc;
}

/* Checks what the encoder cannot express or the caller got wrong. */
static int check_tx(const struct xr_evm_tx *tx, struct xr_err *err)
{
	if (tx->type != XR_EVM_TX_LEGACY && tx->type != XR_EVM_TX_EIP1559)
		return xr_err_set(err, XR_EINVAL,
				  "transaction type %u is not supported (expected 0 or 2)",
				  tx->type);
	if (tx->chain_id == 0 || tx->chain_id > XR_EVM_CHAIN_ID_MAX)
		return xr_err_set(err, XR_EINVAL, "chain id %llu is out of range (1 to %llu)",
				  (unsigned long long)tx->chain_id,
				  (unsigned long long)XR_EVM_CHAIN_ID_MAX);
	if (tx->data_len > XR_EVM_TX_MAX || (tx->data_len && !tx->data))
		return xr_err_set(err, XR_EINVAL, "transaction data of %zu bytes is invalid",
				  tx->data_len);
	if (tx->type == XR_EVM_TX_LEGACY) {
		if (!is_zero(tx->max_fee_per_gas, 32) || !is_zero(tx->max_priority_fee_per_gas, 32))
			return xr_err_set(
			    err, XR_EINVAL,
			    "legacy transaction has eip-1559 fees set (use gas_price)");
		if (tx->access_list || tx->access_list_len)
			return xr_err_set(err, XR_EINVAL, "legacy transaction has an access list");
		return 0;
	}
	if (!is_zero(tx->gas_price, 32))
		return xr_err_set(err, XR_EINVAL,
				  "type-2 transaction has gas_price set (use max_fee_per_gas)");
	if (tx->access_list_len == 0)
		return 0;
	if (!tx->access_list || tx->access_list_len > XR_EVM_TX_MAX)
		return xr_err_set(err, XR_EINVAL, "access list of %zu bytes is invalid",
				  tx->access_list_len);
	struct xr_rlp_item al;
	int rc = xr_rlp_decode(tx->access_list, tx->access_list_len, &al, err);
	if (rc < 0)
		return rc;
	return check_access_list(&al, 1, err);
}

/* Appends the fields the sender signs, in wire order, up to and including
 * data (legacy) or the access list (type 2). */
static void put_fields(struct xr_buf *b, const struct xr_evm_tx *tx)
{
	static const uint8_t empty_list = 0xc0;

	if (tx->type == XR_EVM_TX_EIP1559)
		xr_rlp_put_uint(b, tx->chain_id);
	xr_rlp_put_uint(b, tx->nonce);
	if (tx->type == XR_EVM_TX_EIP1559) {
		xr_rlp_put_uint_be(b, tx->max_priority_fee_per_gas, 32);
		xr_rlp_put_uint_be(b, tx->max_fee_per_gas, 32);
	} else {
		xr_rlp_put_uint_be(b, tx->gas_price, 32);
	}
	xr_rlp_put_uint(b, tx->gas);
	xr_rlp_put_bytes(b, tx->to, tx->has_to ? XR_EVM_ADDR_LEN : 0);
	xr_rlp_put_uint_be(b, tx->value, 32);
	xr_rlp_put_bytes(b, tx->data, tx->data_len);
	if (tx->type == XR_EVM_TX_EIP1559) {
		if (tx->access_list_len)
			xr_rlp_put_raw(b, tx->access_list, tx->access_list_len);
		else
			xr_rlp_put_raw(b, &empty_list, 1);
	}
}

/* Appends the signed transaction (sig != NULL) or the signing payload. */
static void put_tx(struct xr_buf *b, const struct xr_evm_tx *tx, const struct xr_evm_sig *sig)
{
	if (tx->type == XR_EVM_TX_EIP1559)
		xr_buf_u8(b, XR_EVM_TX_EIP1559);
	size_t mark = xr_rlp_list_begin(b);
	put_fields(b, tx);
	if (sig) {
		if (tx->type == XR_EVM_TX_EIP1559)
			xr_rlp_put_uint(b, sig->y_parity);
		else
			xr_rlp_put_uint(b, 35 + 2 * tx->chain_id + sig->y_parity);
		xr_rlp_put_uint_be(b, sig->r, 32);
		xr_rlp_put_uint_be(b, sig->s, 32);
	} else if (tx->type == XR_EVM_TX_LEGACY) {
		/* EIP-155: chain id, then empty r and s. */
		xr_rlp_put_uint(b, tx->chain_id);
		xr_rlp_put_uint(b, 0);
		xr_rlp_put_uint(b, 0);
	}
	xr_rlp_list_end(b, mark);
}

/* The signing hash of a transaction that passed check_tx. */
static int signing_hash(const struct xr_evm_tx *tx, uint8_t ret_hash[32], struct xr_err *err)
{
	struct xr_buf b;
	int rc = 0;

	xr_buf_init(&b, XR_EVM_TX_MAX);
	put_tx(&b, tx, NULL);
	if (b.failed)
		rc = xr_err_set(err, XR_EINVAL, "transaction is larger than %d bytes",
				XR_EVM_TX_MAX);
	else
		xr_keccak256(b.data, b.len, ret_hash);
	xr_buf_fini(&b);
	return rc;
}

int xr_evm_tx_signing_hash(const struct xr_evm_tx *tx, uint8_t ret_hash[32], struct xr_err *err)
{
	int rc = check_tx(tx, err);
	if (rc < 0)
		return rc;
	return signing_hash(tx, ret_hash, err);
}

/* Appends the signed encoding of a checked tx and sig to out, or leaves out
 * as it was. */
static int append_signed(const struct xr_evm_tx *tx,
			 const struct xr_evm_sig *sig,
			 struct xr_buf *out,
			 uint8_t ret_hash[32],
			 struct xr_err *err)
{
	size_t mark = out->len;
	bool was_failed = out->failed;

	put_tx(out, tx, sig);
	/* What we produce must also pass our own decoder's size cap. */
	if (out->failed || out->len - mark > XR_EVM_TX_MAX) {
		size_t got = out->failed ? 0 : out->len - mark;
		out->len = mark;
		out->failed = was_failed;
		if (got)
			return xr_err_set(err, XR_EINVAL,
					  "signed transaction of %zu bytes is larger than %d", got,
					  XR_EVM_TX_MAX);
		return xr_err_set(err, XR_ENOMEM,
				  "signed transaction does not fit in the output buffer (cap %zu "
				  "bytes)",
				  out->max);
	}
	if (ret_hash)
		xr_keccak256(out->data + mark, out->len - mark, ret_hash);
	return 0;
}

int xr_evm_tx_sign(const struct xr_evm_tx *tx,
		   const uint8_t priv[32],
		   struct xr_buf *out,
		   uint8_t ret_hash[32],
		   struct xr_err *err)
{
	secp256k1_ecdsa_recoverable_signature rs;
	secp256k1_context *ctx;
	struct xr_evm_sig sig;
	uint8_t hash[32], rsbuf[64];
	int recid, rc;

	if ((rc = check_tx(tx, err)) < 0 || (rc = signing_hash(tx, hash, err)) < 0 ||
	    (rc = secret_ctx(&ctx, err)) < 0)
		return rc;
	if ((rc = check_priv(ctx, priv, err)) < 0)
		goto out;
	/* NULL nonce function: RFC 6979, so the signature is deterministic. */
	if (!secp256k1_ecdsa_sign_recoverable(ctx, &rs, hash, priv, NULL, NULL)) {
		rc = xr_err_set(err, XR_EINVAL, "secp256k1 signing failed");
		goto out;
	}
	secp256k1_ecdsa_recoverable_signature_serialize_compact(ctx, rsbuf, &recid, &rs);
	/* recid 2 and 3 mean r overflowed the order: probability about 2^-127,
	 * and Ethereum cannot express them. */
	if (recid < 0 || recid > 1) {
		rc = xr_err_set(err, XR_EINVAL, "secp256k1 recovery id %d is not 0 or 1", recid);
		goto out;
	}
	memcpy(sig.r, rsbuf, 32);
	memcpy(sig.s, rsbuf + 32, 32);
	sig.y_parity = (uint8_t)recid;
	rc = append_signed(tx, &sig, out, ret_hash, err);
out:
	secp256k1_context_destroy(ctx);
	return rc;
}

/* --- decoding ------------------------------------------------------------ */

/* Checks 0 < r, s < n and s <= n/2 (EIP-2): a high s is a second valid
 * signature for the same transaction, so it is refused, as by every client. */
static int check_rs(const uint8_t r[32], const uint8_t s[32], struct xr_err *err)
{
	secp256k1_ecdsa_signature es;
	uint8_t rs[64];

	if (is_zero(r, 32) || is_zero(s, 32))
		return xr_err_set(err, XR_EINVAL, "signature has a zero r or s");
	memcpy(rs, r, 32);
	memcpy(rs + 32, s, 32);
	if (!secp256k1_ecdsa_signature_parse_compact(secp256k1_context_static, &es, rs))
		return xr_err_set(err, XR_EINVAL, "signature r or s is not below the curve order");
	if (secp256k1_ecdsa_signature_normalize(secp256k1_context_static, NULL, &es))
		return xr_err_set(err, XR_EINVAL, "signature s is in the upper half of the order");
	return 0;
}

static int decode_to(const struct xr_rlp_item *it, struct xr_evm_tx *tx, struct xr_err *err)
{
	if (it->kind != XR_RLP_BYTES || (it->len != 0 && it->len != XR_EVM_ADDR_LEN))
		return xr_err_set(err, XR_EINVAL,
				  "transaction 'to' is not empty or 20 bytes (%zu %s)", it->len,
				  it->kind == XR_RLP_LIST ? "list bytes" : "bytes");
	tx->has_to = it->len != 0;
	if (tx->has_to)
		memcpy(tx->to, it->p, XR_EVM_ADDR_LEN);
	return 0;
}

static int decode_data(const struct xr_rlp_item *it, struct xr_evm_tx *tx, struct xr_err *err)
{
	if (it->kind != XR_RLP_BYTES)
		return xr_err_set(err, XR_EINVAL, "transaction data is a list, expected bytes");
	tx->data = it->len ? it->p : NULL;
	tx->data_len = it->len;
	return 0;
}

/* [nonce, gasPrice, gas, to, value, data, v, r, s] */
static int decode_legacy(const struct xr_rlp_item *top,
			 struct xr_evm_tx *tx,
			 struct xr_evm_sig *sig,
			 struct xr_err *err)
{
	struct xr_rlp_item f[LEGACY_FIELDS];
	uint64_t v;
	int rc;

	if ((rc = xr_rlp_list_exact(top, f, LEGACY_FIELDS, "legacy transaction", err)) < 0 ||
	    (rc = xr_rlp_uint64(&f[0], &tx->nonce, "nonce", err)) < 0 ||
	    (rc = xr_rlp_uint256(&f[1], tx->gas_price, "gas price", err)) < 0 ||
	    (rc = xr_rlp_uint64(&f[2], &tx->gas, "gas limit", err)) < 0 ||
	    (rc = decode_to(&f[3], tx, err)) < 0 ||
	    (rc = xr_rlp_uint256(&f[4], tx->value, "value", err)) < 0 ||
	    (rc = decode_data(&f[5], tx, err)) < 0 ||
	    (rc = xr_rlp_uint64(&f[6], &v, "v", err)) < 0 ||
	    (rc = xr_rlp_uint256(&f[7], sig->r, "r", err)) < 0 ||
	    (rc = xr_rlp_uint256(&f[8], sig->s, "s", err)) < 0)
		return rc;
	if (v == 27 || v == 28)
		return xr_err_set(err, XR_EINVAL,
				  "v %llu has no chain id (pre-eip-155 signatures are refused)",
				  (unsigned long long)v);
	if (v < 37)
		return xr_err_set(err, XR_EINVAL, "v %llu is not 35 + 2 * chain id + {0, 1}",
				  (unsigned long long)v);
	tx->chain_id = (v - 35) / 2;
	sig->y_parity = (uint8_t)((v - 35) & 1);
	if (tx->chain_id > XR_EVM_CHAIN_ID_MAX)
		return xr_err_set(err, XR_EINVAL, "v %llu gives chain id %llu, above %llu",
				  (unsigned long long)v, (unsigned long long)tx->chain_id,
				  (unsigned long long)XR_EVM_CHAIN_ID_MAX);
	tx->type = XR_EVM_TX_LEGACY;
	return 0;
}

/* [chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, gas, to, value, data,
 *  accessList, yParity, r, s] */
static int decode_1559(const struct xr_rlp_item *top,
		       struct xr_evm_tx *tx,
		       struct xr_evm_sig *sig,
		       struct xr_err *err)
{
	struct xr_rlp_item f[EIP1559_FIELDS];
	uint8_t *tip = tx->max_priority_fee_per_gas;
	uint64_t y;
	int rc;

	if ((rc = xr_rlp_list_exact(top, f, EIP1559_FIELDS, "type-2 transaction", err)) < 0 ||
	    (rc = xr_rlp_uint64(&f[0], &tx->chain_id, "chain id", err)) < 0 ||
	    (rc = xr_rlp_uint64(&f[1], &tx->nonce, "nonce", err)) < 0 ||
	    (rc = xr_rlp_uint256(&f[2], tip, "max priority fee", err)) < 0 ||
	    (rc = xr_rlp_uint256(&f[3], tx->max_fee_per_gas, "max fee", err)) < 0 ||
	    (rc = xr_rlp_uint64(&f[4], &tx->gas, "gas limit", err)) < 0 ||
	    (rc = decode_to(&f[5], tx, err)) < 0 ||
	    (rc = xr_rlp_uint256(&f[6], tx->value, "value", err)) < 0 ||
	    (rc = decode_data(&f[7], tx, err)) < 0 || (rc = check_access_list(&f[8], 2, err)) < 0 ||
	    (rc = xr_rlp_uint64(&f[9], &y, "y parity", err)) < 0 ||
	    (rc = xr_rlp_uint256(&f[10], sig->r, "r", err)) < 0 ||
	    (rc = xr_rlp_uint256(&f[11], sig->s, "s", err)) < 0)
		return rc;
	if (y > 1)
		return xr_err_set(err, XR_EINVAL, "y parity %llu is not 0 or 1",
				  (unsigned long long)y);
	if (tx->chain_id == 0 || tx->chain_id > XR_EVM_CHAIN_ID_MAX)
		return xr_err_set(err, XR_EINVAL, "chain id %llu is out of range (1 to %llu)",
				  (unsigned long long)tx->chain_id,
				  (unsigned long long)XR_EVM_CHAIN_ID_MAX);
	sig->y_parity = (uint8_t)y;
	/* An empty access list is stored as absent, as the signer takes it. */
	if (f[8].len) {
		tx->access_list = f[8].raw;
		tx->access_list_len = f[8].raw_len;
	}
	tx->type = XR_EVM_TX_EIP1559;
	return 0;
}

int xr_evm_tx_decode(const uint8_t *raw,
		     size_t n,
		     struct xr_evm_tx *ret_tx,
		     struct xr_evm_sig *ret_sig,
		     struct xr_err *err)
{
	struct xr_rlp_item top;
	struct xr_evm_tx tx;
	struct xr_evm_sig sig;
	int rc;

	if (n == 0)
		return xr_err_set(err, XR_EINVAL, "transaction is empty");
	if (n > XR_EVM_TX_MAX)
		return xr_err_set(err, XR_EINVAL, "transaction of %zu bytes is larger than %d", n,
				  XR_EVM_TX_MAX);
	memset(&tx, 0, sizeof(tx));
	memset(&sig, 0, sizeof(sig));
	if (raw[0] >= 0xc0) {
		if ((rc = xr_rlp_decode(raw, n, &top, err)) < 0 ||
		    (rc = decode_legacy(&top, &tx, &sig, err)) < 0)
			return rc;
	} else if (raw[0] == XR_EVM_TX_EIP1559) {
		if ((rc = xr_rlp_decode(raw + 1, n - 1, &top, err)) < 0 ||
		    (rc = decode_1559(&top, &tx, &sig, err)) < 0)
			return rc;
	} else if (raw[0] < 0x80) {
		return xr_err_set(err, XR_EINVAL,
				  "transaction type 0x%02x is not supported (expected legacy or "
				  "0x02)",
				  raw[0]);
	} else {
		return xr_err_set(err, XR_EINVAL,
				  "transaction starts with 0x%02x, neither a type nor an rlp list",
				  raw[0]);
	}
	if ((rc = check_rs(sig.r, sig.s, err)) < 0)
		return rc;
	if (ret_tx)
		*ret_tx = tx;
	if (ret_sig)
		*ret_sig = sig;
	return 0;
}

int xr_evm_tx_recover(const uint8_t *raw,
		      size_t n,
		      uint64_t chain_id,
		      struct xr_evm_tx *ret_tx,
		      uint8_t ret_from[XR_EVM_ADDR_LEN],
		      struct xr_err *err)
{
	const secp256k1_context *ctx = secp256k1_context_static;
	secp256k1_ecdsa_recoverable_signature rs;
	secp256k1_pubkey pk;
	struct xr_evm_tx tx;
	struct xr_evm_sig sig;
	uint8_t hash[32], rsbuf[64], pub[65];
	size_t len = sizeof(pub);
	int rc;

	if ((rc = xr_evm_tx_decode(raw, n, &tx, &sig, err)) < 0)
		return rc;
	if (tx.chain_id != chain_id)
		return xr_err_set(err, XR_EVERIFY,
				  "transaction is for chain id %llu, expected %llu",
				  (unsigned long long)tx.chain_id, (unsigned long long)chain_id);
	if ((rc = signing_hash(&tx, hash, err)) < 0)
		return rc;
	memcpy(rsbuf, sig.r, 32);
	memcpy(rsbuf + 32, sig.s, 32);
	if (!secp256k1_ecdsa_recoverable_signature_parse_compact(ctx, &rs, rsbuf, sig.y_parity))
		return xr_err_set(err, XR_EINVAL, "signature r or s is not below the curve order");
	if (!secp256k1_ecdsa_recover(ctx, &pk, &rs, hash))
		return xr_err_set(err, XR_EVERIFY, "signature does not recover a public key");
	secp256k1_ec_pubkey_serialize(ctx, pub, &len, &pk, SECP256K1_EC_UNCOMPRESSED);
	xr_evm_address_of_pub(pub, ret_from);
	if (ret_tx)
		*ret_tx = tx;
	return 0;
}

int xr_evm_tx_encode(const struct xr_evm_tx *tx,
		     const struct xr_evm_sig *sig,
		     struct xr_buf *out,
		     uint8_t ret_hash[32],
		     struct xr_err *err)
{
	int rc;

	if ((rc = check_tx(tx, err)) < 0 || (rc = check_rs(sig->r, sig->s, err)) < 0)
		return rc;
	if (sig->y_parity > 1)
		return xr_err_set(err, XR_EINVAL, "y parity %u is not 0 or 1", sig->y_parity);
	return append_signed(tx, sig, out, ret_hash, err);
}

void xr_evm_tx_hash(const uint8_t *raw, size_t n, uint8_t ret_hash[32])
{
	xr_keccak256(raw, n, ret_hash);
}
