/* test_evm_tx.c - Ethereum keys, EIP-55 addresses, and transaction signing
 * and sender recovery (adapters/evm/tx.c). Known answers come from the EIP
 * texts, from anvil's well-known dev accounts, and from transactions that
 * anvil 1.7.1 accepted from us or signed itself (recorded below). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rlp.h"
#include "tx.h"
#include "xr_bytes.h"

/* ck_assert records a mark point on every success; the exhaustive loops use
 * this instead. */
#define EXPECT(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond))                                                                       \
			ck_abort_msg(__VA_ARGS__);                                                 \
	} while (0)

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

#define ANVIL_CHAIN 31337
#define ANVIL_KEY0 "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
#define ANVIL_ADDR0 "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
#define ANVIL_KEY1 "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
#define ANVIL_ADDR1 "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
#define ANVIL_ADDR2 "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"

/* EIP-155, "Example". */
#define EIP155_SIGHASH "daf5a779ae972f972197303d7b574746c7ef83eadac0f2791ad23db92e4c8e53"
#define EIP155_RAW                                                                                 \
	"f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080"   \
	"25a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761a"   \
	"ecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83"

/* Signed here, submitted with eth_sendRawTransaction to anvil 1.7.1 (chain
 * 31337), mined with status 1; eth_getTransactionByHash returned this hash
 * and from = dev account 0. A: type 2 with data "xrelay" and value 1 ether;
 * B: type 2 with an access list; C: legacy EIP-155 contract creation. */
#define ANVIL_A_RAW                                                                                \
	"02f87b827a6980843b9aca0085174876e8008275309470997970c51812dc3a010c7d01b50e0d17dc79c888"   \
	"0de0b6b3a7640000867872656c6179c001a05d56becbb46632983f2aa97b4ae2aff40b8eff2759a716e577"   \
	"bc6b917a4fbe7fa063680676a560ba48c310ec6b3802f18eb7568f7764ecbb610b01e62ec274ba09"
#define ANVIL_A_HASH "939448b6b765c13dae573581c12ef66370a223e42e1a884baa068c7c74520fc6"
#define ANVIL_B_RAW                                                                                \
	"02f8c9827a6901843b9aca0085174876e80082c3509470997970c51812dc3a010c7d01b50e0d17dc79c880"   \
	"80f85bf8599470997970c51812dc3a010c7d01b50e0d17dc79c8f842a00000000000000000000000000000"   \
	"000000000000000000000000000000000000a000000000000000000000000000000000000000000000000000" \
	"0000000000000101a058ee6f51d7b193cb512c088c936e15a57ad4612a1a1cdfaed4e8d187747c23a5a05b"   \
	"58c35a20052220bfde8de6b6dad21bb5ba73bb0e19a5d43dcb4666ba0da260"
#define ANVIL_B_HASH "9e8f77e0e5c1e5984a253e7b01e11cde01caf2429f73e2dee8a98ee651320fc5"
#define ANVIL_C_RAW                                                                                \
	"f8520285174876e80082ea6080808082f4f5a01a2a5e23fdf5a3f8ab550da580de2b9aaea90a3e62f56022"   \
	"410822ca79c89611a044d1acc66caa1afe92fdbe6de2acdde8200f890ad61ce845992cdcf8f1b2ce0b"
#define ANVIL_C_HASH "207b317d7051f315381db1bfeaa127dafb5092aae1f45099909606abf4f88343"

/* Signed by anvil itself (eth_sendTransaction from unlocked accounts, then
 * eth_getRawTransactionByHash). D: type 2 from account 0, nonce 3, with data
 * and an access list; E: legacy from account 1, nonce 0, v = 0xf4f5. */
#define ANVIL_D_RAW                                                                                \
	"02f8ae827a6903843b9aca0085174876e800830186a0943c44cdddb6a900fa2b585dd299e03d12fa4293bc"   \
	"82123485deadbeef00f838f7943c44cdddb6a900fa2b585dd299e03d12fa4293bce1a00000000000000000"   \
	"0000000000000000000000000000000000000000000000ff80a0b60a31ffcafb57c911af6cb903bdf9cdf8"   \
	"2dc00a1ce6b8dccfde81ac6c8d8097a03bd012ddf300b1f79a5d02f6057034837d7e873162ed9f882cdccb"   \
	"1a2600384d"
#define ANVIL_D_HASH "6fb3343f06f10e7d4a4fb83112b554d0a032952115f0bd26fa5f5f31f7749dc0"
#define ANVIL_E_RAW                                                                                \
	"f8668085174876e800825208943c44cdddb6a900fa2b585dd299e03d12fa4293bc018082f4f5a0a2daee5a"   \
	"fd2e50168a49588222c75af582f3f94160ab578d17a457c98edd073da0749448aa0d83132c35b09f468b83"   \
	"7625744c5bdede921f375108939d2d56a143"
#define ANVIL_E_HASH "c5a4054b0c3763198ee62499904c6d832398108fc82a6a1bcd5e13a22f3556dc"

/* The secp256k1 group order. */
static const uint8_t order_n[32] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41,
};

static uint64_t rng = 0x243f6a8885a308d3ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void rand_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)next_rand();
}

/* Decodes hex into a new exact-size allocation (so ASan sees over-reads). */
static uint8_t *unhex(const char *s, size_t *ret_len)
{
	struct xr_err err = {0};
	uint8_t *p;
	ck_assert_msg(xr_hex_decode_new(s, 1 << 20, &p, ret_len, &err) == 0, "%s", err.msg);
	return p;
}

static void unhex_exact(const char *s, uint8_t *out, size_t n)
{
	struct xr_err err = {0};
	ck_assert_msg(xr_hex_decode_exact(s, out, n, &err) == 0, "%s: %s", s, err.msg);
}

static void u256(uint8_t out[32], uint64_t v)
{
	memset(out, 0, 32);
	xr_put_be64(out + 24, v);
}

static void addr_of(const char *s, uint8_t out[XR_EVM_ADDR_LEN])
{
	struct xr_err err = {0};
	ck_assert_msg(xr_evm_address_parse(s, out, &err) == 0, "%s", err.msg);
}

static void assert_hex(const uint8_t *p, size_t n, const char *want)
{
	char *got = malloc(2 * n + 1);
	ck_assert_ptr_nonnull(got);
	xr_hex_encode(p, n, got);
	ck_assert_str_eq(got, want);
	free(got);
}

/* Copies p into an exact-size allocation and recovers its sender. */
static int recover_copy(const uint8_t *p,
			size_t n,
			uint64_t chain_id,
			struct xr_evm_tx *tx,
			uint8_t from[XR_EVM_ADDR_LEN],
			struct xr_err *err)
{
	uint8_t *c = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(c);
	if (n)
		memcpy(c, p, n);
	int rc = xr_evm_tx_recover(c, n, chain_id, tx, from, err);
	free(c);
	return rc;
}

/* The sender of a raw hex transaction, checked against want_addr. */
static void assert_sender(const char *raw_hex, uint64_t chain_id, const char *want_addr)
{
	struct xr_err err = {0};
	uint8_t from[XR_EVM_ADDR_LEN];
	char got[XR_EVM_ADDR_STR_LEN];
	size_t n;
	uint8_t *raw = unhex(raw_hex, &n);
	ck_assert_msg(xr_evm_tx_recover(raw, n, chain_id, NULL, from, &err) == 0, "%s", err.msg);
	xr_evm_address_format(from, got);
	ck_assert_str_eq(got, want_addr);
	free(raw);
}

/* Signs tx with the hex key and checks raw bytes and hash. */
static void assert_signs_to(const struct xr_evm_tx *tx,
			    const char *key_hex,
			    const char *want_raw,
			    const char *want_hash)
{
	struct xr_err err = {0};
	uint8_t priv[32], hash[32];
	struct xr_buf b;

	unhex_exact(key_hex, priv, 32);
	xr_buf_init(&b, 1 << 20);
	ck_assert_msg(xr_evm_tx_sign(tx, priv, &b, hash, &err) == 0, "%s", err.msg);
	assert_hex(b.data, b.len, want_raw);
	assert_hex(hash, 32, want_hash);
	xr_buf_fini(&b);
}

/* --- keys and addresses -------------------------------------------------- */

START_TEST(test_anvil_accounts)
{
	static const struct {
		const char *key, *addr;
	} cases[] = {
	    {ANVIL_KEY0, ANVIL_ADDR0},
	    {ANVIL_KEY1, ANVIL_ADDR1},
	    /* The EIP-155 example key. */
	    {"4646464646464646464646464646464646464646464646464646464646464646",
	     "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F"},
	};
	for (size_t i = 0; i < N_OF(cases); i++) {
		struct xr_err err = {0};
		uint8_t priv[32], pub[65], addr[XR_EVM_ADDR_LEN], addr2[XR_EVM_ADDR_LEN];
		char s[XR_EVM_ADDR_STR_LEN];
		unhex_exact(cases[i].key, priv, 32);
		ck_assert_int_eq(xr_evm_address_of_priv(priv, addr, &err), 0);
		xr_evm_address_format(addr, s);
		ck_assert_str_eq(s, cases[i].addr);
		ck_assert_int_eq(xr_evm_pubkey(priv, pub, &err), 0);
		ck_assert_int_eq(pub[0], 0x04);
		xr_evm_address_of_pub(pub, addr2);
		ck_assert_mem_eq(addr, addr2, sizeof(addr));
	}
}
END_TEST

START_TEST(test_bad_private_keys)
{
	uint8_t bad[3][32], pub[65], addr[XR_EVM_ADDR_LEN];
	memset(bad[0], 0, 32);
	memcpy(bad[1], order_n, 32);
	memset(bad[2], 0xff, 32);
	for (size_t i = 0; i < N_OF(bad); i++) {
		struct xr_err err = {0};
		memset(pub, 0xaa, sizeof(pub));
		ck_assert_int_eq(xr_evm_pubkey(bad[i], pub, &err), XR_EINVAL);
		ck_assert_ptr_nonnull(strstr(err.msg, "private key"));
		ck_assert_int_eq(pub[0], 0xaa);
		ck_assert_int_eq(pub[64], 0xaa);
		ck_assert_int_eq(xr_evm_address_of_priv(bad[i], addr, NULL), XR_EINVAL);
	}
	/* n - 1 is the largest valid key. */
	uint8_t top[32];
	memcpy(top, order_n, 32);
	top[31]--;
	ck_assert_int_eq(xr_evm_pubkey(top, pub, NULL), 0);
}
END_TEST

/* EIP-55, "Test Cases": all four kinds, each already in checksummed form. */
static const char *const eip55_cases[] = {
    "0x52908400098527886E0F7030069857D2E4169EE7", "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77", "0x27b1fdb04752bbc536007a920d24acb045561c26",
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
};

START_TEST(test_eip55)
{
	const char *s = eip55_cases[_i];
	struct xr_err err = {0};
	uint8_t addr[XR_EVM_ADDR_LEN], again[XR_EVM_ADDR_LEN];
	char out[XR_EVM_ADDR_STR_LEN], lower[XR_EVM_ADDR_STR_LEN], upper[XR_EVM_ADDR_STR_LEN];

	ck_assert_msg(xr_evm_address_parse(s, addr, &err) == 0, "%s", err.msg);
	xr_evm_address_format(addr, out);
	ck_assert_str_eq(out, s);

	/* Unchecksummed forms are accepted and mean the same address. */
	memcpy(lower, s, sizeof(lower));
	memcpy(upper, s, sizeof(upper));
	for (size_t i = 2; i < XR_EVM_ADDR_STR_LEN - 1; i++) {
		if (lower[i] >= 'A' && lower[i] <= 'F')
			lower[i] = (char)(lower[i] - 'A' + 'a');
		if (upper[i] >= 'a' && upper[i] <= 'f')
			upper[i] = (char)(upper[i] - 'a' + 'A');
	}
	ck_assert_int_eq(xr_evm_address_parse(lower, again, &err), 0);
	ck_assert_mem_eq(again, addr, sizeof(addr));
	ck_assert_int_eq(xr_evm_address_parse(upper, again, &err), 0);
	ck_assert_mem_eq(again, addr, sizeof(addr));

	/* Changing the case of any one letter of a mixed-case address breaks
	 * its checksum; for the all-lower and all-upper cases it makes the
	 * string mixed, and then the checksum is wrong too. */
	for (size_t i = 2; i < XR_EVM_ADDR_STR_LEN - 1; i++) {
		char m[XR_EVM_ADDR_STR_LEN];
		memcpy(m, s, sizeof(m));
		if (m[i] >= 'a' && m[i] <= 'f')
			m[i] = (char)(m[i] - 'a' + 'A');
		else if (m[i] >= 'A' && m[i] <= 'F')
			m[i] = (char)(m[i] - 'A' + 'a');
		else
			continue;
		struct xr_err e2 = {0};
		memset(again, 0x5a, sizeof(again));
		EXPECT(xr_evm_address_parse(m, again, &e2) == XR_EINVAL, "%s accepted", m);
		EXPECT(strstr(e2.msg, "checksum") && strstr(e2.msg, m), "message: %s", e2.msg);
		EXPECT(again[0] == 0x5a && again[19] == 0x5a, "output written on failure");
	}
}
END_TEST

START_TEST(test_address_parse_errors)
{
	static const char *const bad[] = {
	    "",
	    "0x",
	    "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
	    "0X5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
	    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe",
	    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed0",
	    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg",
	    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe ",
	    " 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
	    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\n",
	    "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", /* wrong checksum */
	};
	for (size_t i = 0; i < N_OF(bad); i++) {
		struct xr_err err = {0};
		uint8_t addr[XR_EVM_ADDR_LEN];
		EXPECT(xr_evm_address_parse(bad[i], addr, &err) == XR_EINVAL, "'%s' accepted",
		       bad[i]);
		EXPECT(err.msg[0] && !strchr(err.msg, '\n'), "message for '%s': %s", bad[i],
		       err.msg);
	}
	struct xr_err err = {0};
	uint8_t addr[XR_EVM_ADDR_LEN];
	ck_assert_int_eq(xr_evm_address_parse(NULL, addr, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "address is missing");
	xr_err_clear(&err);
	ck_assert_int_eq(xr_evm_address_parse("0x12\n34\xff", addr, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "address '0x12?34?' is not 0x followed by 40 hex digits");
}
END_TEST

/* --- known answers ------------------------------------------------------- */

static void eip155_tx(struct xr_evm_tx *tx)
{
	memset(tx, 0, sizeof(*tx));
	tx->type = XR_EVM_TX_LEGACY;
	tx->chain_id = 1;
	tx->nonce = 9;
	u256(tx->gas_price, 20000000000ull);
	tx->gas = 21000;
	tx->has_to = true;
	memset(tx->to, 0x35, XR_EVM_ADDR_LEN);
	u256(tx->value, 1000000000000000000ull);
}

START_TEST(test_eip155_example)
{
	struct xr_err err = {0};
	struct xr_evm_tx tx, got;
	struct xr_evm_sig sig;
	uint8_t hash[32];
	size_t n;

	eip155_tx(&tx);
	ck_assert_int_eq(xr_evm_tx_signing_hash(&tx, hash, &err), 0);
	assert_hex(hash, 32, EIP155_SIGHASH);
	assert_signs_to(&tx, "4646464646464646464646464646464646464646464646464646464646464646",
			EIP155_RAW,
			"33469b22e9f636356c4160a87eb19df52b7412e8eac32a4a55ffe88ea8350788");

	uint8_t *raw = unhex(EIP155_RAW, &n);
	ck_assert_int_eq(xr_evm_tx_decode(raw, n, &got, &sig, &err), 0);
	ck_assert_int_eq(got.type, XR_EVM_TX_LEGACY);
	ck_assert_uint_eq(got.chain_id, 1);
	ck_assert_uint_eq(got.nonce, 9);
	ck_assert_uint_eq(got.gas, 21000);
	ck_assert_mem_eq(got.gas_price, tx.gas_price, 32);
	ck_assert_mem_eq(got.value, tx.value, 32);
	ck_assert(got.has_to);
	ck_assert_mem_eq(got.to, tx.to, XR_EVM_ADDR_LEN);
	ck_assert_uint_eq(got.data_len, 0);
	ck_assert_ptr_null(got.access_list);
	/* v = 37: chain id 1, parity 0; r and s as in the EIP (decimal there). */
	ck_assert_uint_eq(sig.y_parity, 0);
	assert_hex(sig.r, 32, "28ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276");
	assert_hex(sig.s, 32, "67cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83");
	free(raw);
	assert_sender(EIP155_RAW, 1, "0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F");
}
END_TEST

static void anvil_a_tx(struct xr_evm_tx *tx)
{
	memset(tx, 0, sizeof(*tx));
	tx->type = XR_EVM_TX_EIP1559;
	tx->chain_id = ANVIL_CHAIN;
	tx->nonce = 0;
	u256(tx->max_priority_fee_per_gas, 1000000000ull);
	u256(tx->max_fee_per_gas, 100000000000ull);
	tx->gas = 30000;
	tx->has_to = true;
	addr_of(ANVIL_ADDR1, tx->to);
	u256(tx->value, 1000000000000000000ull);
	tx->data = (const uint8_t *)"xrelay";
	tx->data_len = 6;
}

/* [[account 1, [slot 0, slot 1]]] */
static const char anvil_b_access_list[] =
    "f85bf8599470997970c51812dc3a010c7d01b50e0d17dc79c8f842a00000000000000000000000000000000000"
    "000000000000000000000000000000a0000000000000000000000000000000000000000000000000000000000000"
    "0001";

START_TEST(test_anvil_signed_by_us)
{
	struct xr_evm_tx tx;
	size_t aln;

	anvil_a_tx(&tx);
	assert_signs_to(&tx, ANVIL_KEY0, ANVIL_A_RAW, ANVIL_A_HASH);
	assert_sender(ANVIL_A_RAW, ANVIL_CHAIN, ANVIL_ADDR0);

	uint8_t *al = unhex(anvil_b_access_list, &aln);
	tx.nonce = 1;
	tx.gas = 50000;
	u256(tx.value, 0);
	tx.data = NULL;
	tx.data_len = 0;
	tx.access_list = al;
	tx.access_list_len = aln;
	assert_signs_to(&tx, ANVIL_KEY0, ANVIL_B_RAW, ANVIL_B_HASH);
	assert_sender(ANVIL_B_RAW, ANVIL_CHAIN, ANVIL_ADDR0);
	free(al);

	memset(&tx, 0, sizeof(tx));
	tx.type = XR_EVM_TX_LEGACY;
	tx.chain_id = ANVIL_CHAIN;
	tx.nonce = 2;
	tx.gas = 60000;
	u256(tx.gas_price, 100000000000ull);
	assert_signs_to(&tx, ANVIL_KEY0, ANVIL_C_RAW, ANVIL_C_HASH);
	assert_sender(ANVIL_C_RAW, ANVIL_CHAIN, ANVIL_ADDR0);
}
END_TEST

/* Anvil's own signatures: we recover the right sender and, signing the
 * decoded fields with the same key, reproduce anvil's bytes exactly (both
 * sides use RFC 6979 and low s). */
START_TEST(test_anvil_signed_by_anvil)
{
	static const struct {
		const char *raw, *hash, *key, *from;
	} cases[] = {
	    {ANVIL_D_RAW, ANVIL_D_HASH, ANVIL_KEY0, ANVIL_ADDR0},
	    {ANVIL_E_RAW, ANVIL_E_HASH, ANVIL_KEY1, ANVIL_ADDR1},
	};
	for (size_t i = 0; i < N_OF(cases); i++) {
		struct xr_err err = {0};
		struct xr_evm_tx tx;
		uint8_t from[XR_EVM_ADDR_LEN], hash[32], to[XR_EVM_ADDR_LEN];
		char s[XR_EVM_ADDR_STR_LEN];
		size_t n;
		uint8_t *raw = unhex(cases[i].raw, &n);

		ck_assert_msg(xr_evm_tx_recover(raw, n, ANVIL_CHAIN, &tx, from, &err) == 0, "%s",
			      err.msg);
		xr_evm_address_format(from, s);
		ck_assert_str_eq(s, cases[i].from);
		xr_evm_tx_hash(raw, n, hash);
		assert_hex(hash, 32, cases[i].hash);
		addr_of(ANVIL_ADDR2, to);
		ck_assert(tx.has_to);
		ck_assert_mem_eq(tx.to, to, sizeof(to));
		assert_signs_to(&tx, cases[i].key, cases[i].raw, cases[i].hash);
		free(raw);
	}

	struct xr_err err = {0};
	struct xr_evm_tx tx;
	uint8_t want[32];
	size_t n;
	uint8_t *raw = unhex(ANVIL_D_RAW, &n);
	ck_assert_int_eq(xr_evm_tx_decode(raw, n, &tx, NULL, &err), 0);
	ck_assert_int_eq(tx.type, XR_EVM_TX_EIP1559);
	ck_assert_uint_eq(tx.nonce, 3);
	ck_assert_uint_eq(tx.gas, 100000);
	u256(want, 0x1234);
	ck_assert_mem_eq(tx.value, want, 32);
	u256(want, 1000000000ull);
	ck_assert_mem_eq(tx.max_priority_fee_per_gas, want, 32);
	u256(want, 100000000000ull);
	ck_assert_mem_eq(tx.max_fee_per_gas, want, 32);
	ck_assert_uint_eq(tx.data_len, 5);
	ck_assert_mem_eq(tx.data, "\xde\xad\xbe\xef\x00", 5);
	ck_assert_uint_eq(tx.access_list_len, 0x3a);
	ck_assert_int_eq(tx.access_list[0], 0xf8);
	free(raw);
}
END_TEST

/* --- round trips --------------------------------------------------------- */

static const size_t data_lens[] = {0, 1, 2, 55, 56, 200, 1024, 70000};

static void random_tx(struct xr_evm_tx *tx, uint8_t *data, unsigned i)
{
	memset(tx, 0, sizeof(*tx));
	tx->type = i % 2 ? XR_EVM_TX_EIP1559 : XR_EVM_TX_LEGACY;
	switch (i % 5) {
	case 0:
		tx->chain_id = 1;
		break;
	case 1:
		tx->chain_id = XR_EVM_CHAIN_ID_MAX;
		break;
	default:
		tx->chain_id = 1 + next_rand() % XR_EVM_CHAIN_ID_MAX;
	}
	tx->nonce = i % 3 ? next_rand() >> (next_rand() % 64) : 0;
	tx->gas = i % 7 ? next_rand() >> (next_rand() % 64) : UINT64_MAX;
	/* Amounts of every length from 0 to 32 bytes. */
	uint8_t *amounts[] = {tx->gas_price, tx->max_priority_fee_per_gas, tx->max_fee_per_gas,
			      tx->value};
	for (size_t k = 0; k < N_OF(amounts); k++) {
		if (k < 3 && (k == 0) != (tx->type == XR_EVM_TX_LEGACY))
			continue;
		size_t len = (i + 7 * k) % 33;
		rand_bytes(amounts[k] + 32 - len, len);
	}
	tx->has_to = i % 4 != 3;
	if (tx->has_to)
		rand_bytes(tx->to, XR_EVM_ADDR_LEN);
	tx->data_len = data_lens[i % N_OF(data_lens)];
	if (tx->data_len == 1)
		data[0] = (uint8_t)(i % 2 ? 0x7f : 0x80); /* both sides of RLP's single byte */
	else
		rand_bytes(data, tx->data_len);
	tx->data = tx->data_len ? data : NULL;
}

START_TEST(test_roundtrip_random)
{
	uint8_t *data = malloc(70000);
	ck_assert_ptr_nonnull(data);
	struct xr_buf b;
	xr_buf_init(&b, XR_EVM_TX_MAX);
	for (unsigned i = 0; i < 300; i++) {
		struct xr_err err = {0};
		struct xr_evm_tx tx, got;
		struct xr_evm_sig sig;
		uint8_t priv[32], addr[XR_EVM_ADDR_LEN], from[XR_EVM_ADDR_LEN], hash[32], h2[32];

		rand_bytes(priv, 32);
		EXPECT(xr_evm_address_of_priv(priv, addr, &err) == 0, "key %u: %s", i, err.msg);
		random_tx(&tx, data, i);
		xr_buf_reset(&b);
		EXPECT(xr_evm_tx_sign(&tx, priv, &b, hash, &err) == 0, "tx %u: %s", i, err.msg);
		EXPECT(b.len > 0 &&
			   (tx.type == XR_EVM_TX_LEGACY ? b.data[0] >= 0xc0 : b.data[0] == 2),
		       "tx %u starts with 0x%02x", i, b.data[0]);
		xr_evm_tx_hash(b.data, b.len, h2);
		EXPECT(memcmp(hash, h2, 32) == 0, "tx %u: hash", i);

		memset(&got, 0, sizeof(got));
		EXPECT(recover_copy(b.data, b.len, tx.chain_id, NULL, from, &err) == 0, "tx %u: %s",
		       i, err.msg);
		/* got borrows data from b. */
		EXPECT(xr_evm_tx_recover(b.data, b.len, tx.chain_id, &got, from, &err) == 0,
		       "tx %u: %s", i, err.msg);
		EXPECT(memcmp(from, addr, sizeof(addr)) == 0, "tx %u: wrong sender", i);
		EXPECT(got.type == tx.type && got.chain_id == tx.chain_id &&
			   got.nonce == tx.nonce && got.gas == tx.gas && got.has_to == tx.has_to &&
			   got.data_len == tx.data_len,
		       "tx %u: fields differ", i);
		EXPECT(!memcmp(got.gas_price, tx.gas_price, 32) &&
			   !memcmp(got.max_fee_per_gas, tx.max_fee_per_gas, 32) &&
			   !memcmp(got.max_priority_fee_per_gas, tx.max_priority_fee_per_gas, 32) &&
			   !memcmp(got.value, tx.value, 32),
		       "tx %u: amounts differ", i);
		EXPECT(!tx.has_to || !memcmp(got.to, tx.to, XR_EVM_ADDR_LEN), "tx %u: to", i);
		EXPECT(!tx.data_len || !memcmp(got.data, tx.data, tx.data_len), "tx %u: data", i);

		/* Re-encoding the decoded transaction gives the same bytes. */
		struct xr_buf again;
		xr_buf_init(&again, XR_EVM_TX_MAX);
		EXPECT(xr_evm_tx_decode(b.data, b.len, NULL, &sig, &err) == 0, "tx %u", i);
		EXPECT(xr_evm_tx_encode(&got, &sig, &again, NULL, &err) == 0, "tx %u: %s", i,
		       err.msg);
		EXPECT(again.len == b.len && !memcmp(again.data, b.data, b.len), "tx %u: encode",
		       i);
		xr_buf_fini(&again);
		EXPECT(sig.s[0] < 0x80, "tx %u: high s", i);

		/* Any other chain id is refused. */
		uint64_t other = tx.chain_id == 1 ? 2 : tx.chain_id - 1;
		EXPECT(recover_copy(b.data, b.len, other, NULL, from, NULL) == XR_EVERIFY,
		       "tx %u: wrong chain accepted", i);
	}
	xr_buf_fini(&b);
	free(data);
}
END_TEST

/* Every byte of each signed transaction, changed in nine ways: the result
 * is refused or recovers someone else. */
static const char *const mutated[] = {EIP155_RAW,  ANVIL_A_RAW, ANVIL_B_RAW,
				      ANVIL_C_RAW, ANVIL_D_RAW, ANVIL_E_RAW};

START_TEST(test_byte_flips)
{
	static const uint8_t masks[] = {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff};
	struct xr_err err = {0};
	struct xr_evm_tx tx;
	uint8_t from[XR_EVM_ADDR_LEN], orig[XR_EVM_ADDR_LEN];
	size_t n;
	uint8_t *raw = unhex(mutated[_i], &n);
	uint64_t chain = _i == 0 ? 1 : ANVIL_CHAIN;

	ck_assert_int_eq(xr_evm_tx_recover(raw, n, chain, &tx, orig, &err), 0);
	unsigned refused = 0, other = 0;
	for (size_t pos = 0; pos < n; pos++) {
		for (size_t m = 0; m < N_OF(masks); m++) {
			struct xr_err e2 = {0};
			raw[pos] ^= masks[m];
			memset(from, 0, sizeof(from));
			int rc = recover_copy(raw, n, chain, NULL, from, &e2);
			raw[pos] ^= masks[m];
			if (rc < 0) {
				EXPECT(e2.msg[0] != '\0', "no message at %zu^%02x", pos, masks[m]);
				refused++;
				continue;
			}
			EXPECT(memcmp(from, orig, sizeof(orig)) != 0,
			       "byte %zu ^ 0x%02x still recovers the sender", pos, masks[m]);
			other++;
		}
	}
	ck_assert_uint_eq(refused + other, n * N_OF(masks));
	ck_assert_uint_gt(refused, 0);
	free(raw);
}
END_TEST

START_TEST(test_truncation)
{
	struct xr_err err = {0};
	uint8_t from[XR_EVM_ADDR_LEN];
	size_t n;
	uint8_t *raw = unhex(mutated[_i], &n);
	uint64_t chain = _i == 0 ? 1 : ANVIL_CHAIN;

	for (size_t len = 0; len < n; len++) {
		struct xr_err e2 = {0};
		memset(from, 0x77, sizeof(from));
		EXPECT(recover_copy(raw, len, chain, NULL, from, &e2) == XR_EINVAL,
		       "prefix of %zu accepted", len);
		EXPECT(from[0] == 0x77 && from[19] == 0x77, "output written for prefix %zu", len);
		EXPECT(e2.msg[0] != '\0', "no message for prefix %zu", len);
	}
	ck_assert_int_eq(recover_copy(raw, n, chain, NULL, from, &err), 0);
	free(raw);
}
END_TEST

/* --- malformed transactions ---------------------------------------------- */

/* Rebuilds a signed transaction with field `field` replaced by the RLP item
 * `item` (hex), or removed (item NULL), or with `extra` appended. */
static uint8_t *
rebuild(const char *raw_hex, int field, const char *item, const char *extra, size_t *ret_len)
{
	struct xr_err err = {0};
	struct xr_rlp_item top, f[16];
	struct xr_buf b;
	size_t n, count;
	uint8_t *raw = unhex(raw_hex, &n);
	size_t skip = raw[0] == 2;

	ck_assert_int_eq(xr_rlp_decode(raw + skip, n - skip, &top, &err), 0);
	ck_assert_int_eq(xr_rlp_list_count(&top, &count, &err), 0);
	ck_assert_int_eq(xr_rlp_list_exact(&top, f, count, "tx", &err), 0);
	xr_buf_init(&b, 1 << 20);
	if (skip)
		xr_buf_u8(&b, 2);
	size_t mark = xr_rlp_list_begin(&b);
	for (size_t i = 0; i < count; i++) {
		if ((int)i != field) {
			xr_rlp_put_raw(&b, f[i].raw, f[i].raw_len);
		} else if (item) {
			size_t il;
			uint8_t *it = unhex(item, &il);
			xr_rlp_put_raw(&b, it, il);
			free(it);
		}
	}
	if (extra) {
		size_t el;
		uint8_t *e = unhex(extra, &el);
		xr_rlp_put_raw(&b, e, el);
		free(e);
	}
	xr_rlp_list_end(&b, mark);
	ck_assert(!b.failed);
	free(raw);
	return xr_buf_steal(&b, ret_len);
}

#define HIGH_R "a0fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141"

static const struct bad_tx {
	const char *raw;   /* base transaction, or a whole raw hex when field < -1 */
	int field;	   /* field to replace; -1 for none */
	const char *item;  /* replacement RLP item (NULL: drop the field) */
	const char *extra; /* item appended to the list */
	int code;
	const char *msg; /* a substring of the expected message */
} bad_txs[] = {
    /* legacy: [nonce, gasPrice, gas, to, value, data, v, r, s] */
    {EIP155_RAW, 6, "1b", NULL, XR_EINVAL, "v 27 has no chain id"},
    {EIP155_RAW, 6, "1c", NULL, XR_EINVAL, "v 28 has no chain id"},
    {EIP155_RAW, 6, "23", NULL, XR_EINVAL, "v 35 is not"},
    {EIP155_RAW, 6, "24", NULL, XR_EINVAL, "v 36 is not"},
    {EIP155_RAW, 6, "80", NULL, XR_EINVAL, "v 0 is not"},
    {EIP155_RAW, 6, "820025", NULL, XR_EINVAL, "v has a leading zero"},
    {EIP155_RAW, 6, "89010000000000000025", NULL, XR_EINVAL, "v is 9 bytes"},
    {EIP155_RAW, 6, "88ffffffffffffffff", NULL, XR_EINVAL, "above"},
    {EIP155_RAW, 6, "c0", NULL, XR_EINVAL, "v is a list"},
    {EIP155_RAW, 6, "27", NULL, XR_EVERIFY, "chain id 2, expected 1"},
    {EIP155_RAW, 7, "80", NULL, XR_EINVAL, "zero r or s"},
    {EIP155_RAW, 8, "80", NULL, XR_EINVAL, "zero r or s"},
    {EIP155_RAW, 7, HIGH_R, NULL, XR_EINVAL, "not below the curve order"},
    {EIP155_RAW, 8, HIGH_R, NULL, XR_EINVAL, "not below the curve order"},
    {EIP155_RAW, 8, "a10167cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83", NULL,
     XR_EINVAL, "s is 33 bytes"},
    {EIP155_RAW, 8, "a00067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d", NULL,
     XR_EINVAL, "s has a leading zero"},
    {EIP155_RAW, 0, "8109", NULL, XR_EINVAL, "must be encoded as itself"},
    {EIP155_RAW, 0, "820009", NULL, XR_EINVAL, "nonce has a leading zero"},
    {EIP155_RAW, 0, "89010000000000000000", NULL, XR_EINVAL, "nonce is 9 bytes"},
    {EIP155_RAW, 2, "89010000000000000000", NULL, XR_EINVAL, "gas limit is 9 bytes"},
    {EIP155_RAW, 3, "9335353535353535353535353535353535353535", NULL, XR_EINVAL,
     "'to' is not empty or 20 bytes (19 bytes)"},
    {EIP155_RAW, 3, "c0", NULL, XR_EINVAL, "'to' is not empty or 20 bytes"},
    {EIP155_RAW, 5, "c0", NULL, XR_EINVAL, "data is a list"},
    {EIP155_RAW, 4, "a1010000000000000000000000000000000000000000000000000000000000000000", NULL,
     XR_EINVAL, "value is 33 bytes"},
    {EIP155_RAW, 8, NULL, NULL, XR_EINVAL, "legacy transaction has 8 items, expected 9"},
    {EIP155_RAW, -1, NULL, "80", XR_EINVAL, "legacy transaction has 10 items, expected 9"},
    /* type 2: [chainId, nonce, tip, maxFee, gas, to, value, data, accessList,
     * yParity, r, s] */
    {ANVIL_D_RAW, 0, "80", NULL, XR_EINVAL, "chain id 0 is out of range"},
    {ANVIL_D_RAW, 0, "01", NULL, XR_EVERIFY, "chain id 1, expected 31337"},
    {ANVIL_D_RAW, 9, "02", NULL, XR_EINVAL, "y parity 2 is not 0 or 1"},
    {ANVIL_D_RAW, 9, "00", NULL, XR_EINVAL, "y parity has a leading zero"},
    {ANVIL_D_RAW, 9, "c0", NULL, XR_EINVAL, "y parity is a list"},
    {ANVIL_D_RAW, 8, "80", NULL, XR_EINVAL, "access list is a byte string"},
    {ANVIL_D_RAW, 8, "c180", NULL, XR_EINVAL, "access list entry is a byte string"},
    {ANVIL_D_RAW, 8, "c2c180", NULL, XR_EINVAL, "access list entry has 1 items"},
    {ANVIL_D_RAW, 8, "d6d5933c44cdddb6a900fa2b585dd299e03d12fa4293c0", NULL, XR_EINVAL,
     "entry 1 address is not 20 bytes"},
    {ANVIL_D_RAW, 8, "d7d6943c44cdddb6a900fa2b585dd299e03d12fa4293bc80", NULL, XR_EINVAL,
     "entry 1 storage keys are not a list"},
    {ANVIL_D_RAW, 8,
     "f7f6943c44cdddb6a900fa2b585dd299e03d12fa4293bce09f"
     "000000000000000000000000000000000000000000000000000000000000ff",
     NULL, XR_EINVAL, "storage key that is not 32 bytes"},
    {ANVIL_D_RAW, 11, "80", NULL, XR_EINVAL, "zero r or s"},
    {ANVIL_D_RAW, 11, NULL, NULL, XR_EINVAL, "type-2 transaction has 11 items, expected 12"},
    /* An empty access list where anvil signed a full one: a valid
     * transaction by someone else. */
    {ANVIL_D_RAW, 8, "c0", NULL, 0, NULL},
    /* Whole inputs. */
    {"", -2, NULL, NULL, XR_EINVAL, "transaction is empty"},
    {"01c0", -2, NULL, NULL, XR_EINVAL, "type 0x01 is not supported"},
    {"03c0", -2, NULL, NULL, XR_EINVAL, "type 0x03 is not supported"},
    {"7fc0", -2, NULL, NULL, XR_EINVAL, "type 0x7f is not supported"},
    {"80", -2, NULL, NULL, XR_EINVAL, "starts with 0x80"},
    {"b8", -2, NULL, NULL, XR_EINVAL, "starts with 0xb8"},
    {"02", -2, NULL, NULL, XR_EINVAL, "rlp truncated"},
    {"0280", -2, NULL, NULL, XR_EINVAL, "is a byte string, expected a list of 12"},
    {"c0", -2, NULL, NULL, XR_EINVAL, "legacy transaction has 0 items, expected 9"},
    {EIP155_RAW "00", -2, NULL, NULL, XR_EINVAL, "1 trailing bytes"},
    {ANVIL_D_RAW "c0", -2, NULL, NULL, XR_EINVAL, "1 trailing bytes"},
};

START_TEST(test_bad_tx)
{
	const struct bad_tx *c = &bad_txs[_i];
	struct xr_err err = {0};
	uint8_t from[XR_EVM_ADDR_LEN], orig[XR_EVM_ADDR_LEN];
	struct xr_evm_tx tx;
	uint8_t *raw;
	size_t n;

	if (c->field < -1)
		raw = unhex(c->raw, &n);
	else
		raw = rebuild(c->raw, c->field, c->item, c->extra, &n);
	uint64_t chain = strncmp(c->raw, EIP155_RAW, strlen(EIP155_RAW)) == 0 ? 1 : ANVIL_CHAIN;
	memset(from, 0x5a, sizeof(from));
	memset(&tx, 0x5a, sizeof(tx));
	int rc = recover_copy(raw, n, chain, &tx, from, &err);
	ck_assert_msg(rc == c->code, "case %d: rc %d, want %d (%s)", _i, rc, c->code, err.msg);
	if (c->code == 0) {
		addr_of(ANVIL_ADDR0, orig);
		ck_assert(memcmp(from, orig, sizeof(orig)) != 0);
	} else {
		ck_assert_msg(strstr(err.msg, c->msg), "case %d: message '%s' lacks '%s'", _i,
			      err.msg, c->msg);
		ck_assert_int_eq(from[0], 0x5a);
		ck_assert_int_eq(tx.nonce, 0x5a5a5a5a5a5a5a5aull);
		ck_assert_ptr_null(strchr(err.msg, '\n'));
	}
	free(raw);
}
END_TEST

/* A high s is the other valid signature of the same transaction (n - s with
 * the parity flipped); it is refused as malleable. */
START_TEST(test_high_s)
{
	static const char *const bases[] = {EIP155_RAW, ANVIL_D_RAW};
	for (size_t k = 0; k < N_OF(bases); k++) {
		struct xr_err err = {0};
		struct xr_evm_tx tx;
		struct xr_evm_sig sig;
		char item[2 + 64 + 1], vitem[16];
		uint8_t s2[32];
		size_t n;
		uint8_t *raw = unhex(bases[k], &n);

		ck_assert_int_eq(xr_evm_tx_decode(raw, n, &tx, &sig, &err), 0);
		free(raw);
		int borrow = 0;
		for (int i = 31; i >= 0; i--) {
			int d = order_n[i] - sig.s[i] - borrow;
			borrow = d < 0;
			s2[i] = (uint8_t)(d + (borrow ? 256 : 0));
		}
		ck_assert_int_ge(s2[0], 0x80);
		item[0] = 'a';
		item[1] = '0';
		xr_hex_encode(s2, 32, item + 2);
		uint8_t *hi;
		if (tx.type == XR_EVM_TX_LEGACY) {
			uint64_t v = 35 + 2 * tx.chain_id + (sig.y_parity ^ 1u);
			ck_assert_uint_lt(v, 0x80);
			snprintf(vitem, sizeof(vitem), "%02x", (unsigned)v);
			uint8_t *tmp = rebuild(bases[k], 8, item, NULL, &n);
			char *hex = malloc(2 * n + 1);
			xr_hex_encode(tmp, n, hex);
			free(tmp);
			hi = rebuild(hex, 6, vitem, NULL, &n);
			free(hex);
		} else {
			snprintf(vitem, sizeof(vitem), "%s", sig.y_parity ? "80" : "01");
			uint8_t *tmp = rebuild(bases[k], 11, item, NULL, &n);
			char *hex = malloc(2 * n + 1);
			xr_hex_encode(tmp, n, hex);
			free(tmp);
			hi = rebuild(hex, 9, vitem, NULL, &n);
			free(hex);
		}
		ck_assert_int_eq(xr_evm_tx_decode(hi, n, NULL, NULL, &err), XR_EINVAL);
		ck_assert_str_eq(err.msg, "signature s is in the upper half of the order");
		free(hi);
	}
}
END_TEST

/* --- signing errors ------------------------------------------------------ */

START_TEST(test_sign_errors)
{
	struct xr_evm_tx good, tx;
	struct xr_buf b;
	uint8_t priv[32], hash[32];
	size_t aln;
	uint8_t *al = unhex(anvil_b_access_list, &aln);
	uint8_t *big = calloc(1, XR_EVM_TX_MAX + 1);
	ck_assert_ptr_nonnull(big);

	unhex_exact(ANVIL_KEY0, priv, 32);
	eip155_tx(&good);
	xr_buf_init(&b, 1 << 20);
	xr_buf_put(&b, "keep", 4);

	struct {
		const char *msg;
	} want[16];
	struct xr_evm_tx cases[16];
	size_t nc = 0;

	tx = good;
	tx.type = 1;
	cases[nc] = tx;
	want[nc++].msg = "transaction type 1 is not supported";
	tx = good;
	tx.chain_id = 0;
	cases[nc] = tx;
	want[nc++].msg = "chain id 0 is out of range";
	tx = good;
	tx.chain_id = XR_EVM_CHAIN_ID_MAX + 1;
	cases[nc] = tx;
	want[nc++].msg = "is out of range";
	tx = good;
	tx.max_fee_per_gas[31] = 1;
	cases[nc] = tx;
	want[nc++].msg = "legacy transaction has eip-1559 fees set";
	tx = good;
	tx.access_list = al;
	tx.access_list_len = aln;
	cases[nc] = tx;
	want[nc++].msg = "legacy transaction has an access list";
	tx = good;
	tx.type = XR_EVM_TX_EIP1559;
	cases[nc] = tx;
	want[nc++].msg = "type-2 transaction has gas_price set";
	tx = good;
	tx.type = XR_EVM_TX_EIP1559;
	memset(tx.gas_price, 0, 32);
	tx.access_list = al;
	tx.access_list_len = aln - 1;
	cases[nc] = tx;
	want[nc++].msg = "rlp length";
	tx.access_list = (const uint8_t *)"\x80";
	tx.access_list_len = 1;
	cases[nc] = tx;
	want[nc++].msg = "access list is a byte string";
	tx.access_list = NULL;
	tx.access_list_len = 3;
	cases[nc] = tx;
	want[nc++].msg = "access list of 3 bytes is invalid";
	tx = good;
	tx.data = NULL;
	tx.data_len = 1;
	cases[nc] = tx;
	want[nc++].msg = "transaction data of 1 bytes is invalid";
	tx = good;
	tx.data = big;
	tx.data_len = XR_EVM_TX_MAX + 1;
	cases[nc] = tx;
	want[nc++].msg = "is invalid";
	tx = good;
	tx.data = big;
	tx.data_len = XR_EVM_TX_MAX - 80; /* signing payload fits, signed tx does not */
	cases[nc] = tx;
	want[nc++].msg = "signed transaction of";

	for (size_t i = 0; i < nc; i++) {
		struct xr_err err = {0};
		memset(hash, 0x5a, sizeof(hash));
		EXPECT(xr_evm_tx_sign(&cases[i], priv, &b, hash, &err) == XR_EINVAL, "case %zu", i);
		EXPECT(strstr(err.msg, want[i].msg), "case %zu: '%s' lacks '%s'", i, err.msg,
		       want[i].msg);
		EXPECT(b.len == 4 && !b.failed && !memcmp(b.data, "keep", 4), "case %zu: out", i);
		EXPECT(hash[0] == 0x5a, "case %zu: hash written", i);
	}

	/* Bad private keys. */
	struct xr_err err = {0};
	uint8_t zero[32] = {0};
	ck_assert_int_eq(xr_evm_tx_sign(&good, zero, &b, hash, &err), XR_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "private key"));
	ck_assert_int_eq(xr_evm_tx_sign(&good, order_n, &b, hash, NULL), XR_EINVAL);
	ck_assert_uint_eq(b.len, 4);

	/* A full output buffer is left as it was. */
	struct xr_buf small;
	xr_buf_init(&small, 50);
	xr_buf_put(&small, "x", 1);
	err.code = 0;
	err.msg[0] = '\0';
	ck_assert_int_eq(xr_evm_tx_sign(&good, priv, &small, hash, &err), XR_ENOMEM);
	ck_assert_ptr_nonnull(strstr(err.msg, "does not fit"));
	ck_assert_uint_eq(small.len, 1);
	ck_assert(!small.failed);
	xr_buf_fini(&small);

	/* Appending after existing bytes: the hash covers only the tx. */
	ck_assert_int_eq(xr_evm_tx_sign(&good, priv, &b, hash, NULL), 0);
	ck_assert_mem_eq(b.data, "keep", 4);
	uint8_t h2[32];
	xr_evm_tx_hash(b.data + 4, b.len - 4, h2);
	ck_assert_mem_eq(hash, h2, 32);
	struct xr_evm_tx got;
	uint8_t from[XR_EVM_ADDR_LEN];
	ck_assert_int_eq(xr_evm_tx_recover(b.data + 4, b.len - 4, 1, &got, from, NULL), 0);

	/* The largest transaction we produce is one we decode. */
	tx = good;
	tx.data = big;
	tx.data_len = XR_EVM_TX_MAX - 120;
	xr_buf_reset(&b);
	err.code = 0;
	err.msg[0] = '\0';
	ck_assert_msg(xr_evm_tx_sign(&tx, priv, &b, NULL, &err) == 0, "%s", err.msg);
	ck_assert_uint_le(b.len, XR_EVM_TX_MAX);
	ck_assert_int_eq(xr_evm_tx_recover(b.data, b.len, 1, NULL, from, &err), 0);

	xr_buf_fini(&b);
	free(big);
	free(al);
}
END_TEST

START_TEST(test_encode_errors)
{
	struct xr_err err = {0};
	struct xr_evm_tx tx;
	struct xr_evm_sig sig;
	struct xr_buf b;
	size_t n;
	uint8_t *raw = unhex(EIP155_RAW, &n);

	ck_assert_int_eq(xr_evm_tx_decode(raw, n, &tx, &sig, &err), 0);
	free(raw);
	xr_buf_init(&b, 1 << 20);
	struct xr_evm_sig bad = sig;
	bad.y_parity = 2;
	ck_assert_int_eq(xr_evm_tx_encode(&tx, &bad, &b, NULL, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "y parity 2 is not 0 or 1");
	bad = sig;
	memset(bad.s, 0xff, 32);
	ck_assert_int_eq(xr_evm_tx_encode(&tx, &bad, &b, NULL, NULL), XR_EINVAL);
	bad = sig;
	memset(bad.r, 0, 32);
	ck_assert_int_eq(xr_evm_tx_encode(&tx, &bad, &b, NULL, NULL), XR_EINVAL);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(xr_evm_tx_encode(&tx, &sig, &b, NULL, NULL), 0);
	assert_hex(b.data, b.len, EIP155_RAW);
	xr_buf_fini(&b);

	/* Oversized input is refused before it is parsed. */
	uint8_t *big = calloc(1, XR_EVM_TX_MAX + 1);
	big[0] = 0xf9;
	err.code = 0;
	err.msg[0] = '\0';
	ck_assert_int_eq(xr_evm_tx_decode(big, XR_EVM_TX_MAX + 1, NULL, NULL, &err), XR_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "larger than"));
	free(big);
}
END_TEST

static Suite *evm_tx_suite(void)
{
	Suite *s = suite_create("evm_tx");
	TCase *tc = tcase_create("keys");
	tcase_add_test(tc, test_anvil_accounts);
	tcase_add_test(tc, test_bad_private_keys);
	tcase_add_loop_test(tc, test_eip55, 0, (int)N_OF(eip55_cases));
	tcase_add_test(tc, test_address_parse_errors);
	suite_add_tcase(s, tc);

	tc = tcase_create("known");
	tcase_add_test(tc, test_eip155_example);
	tcase_add_test(tc, test_anvil_signed_by_us);
	tcase_add_test(tc, test_anvil_signed_by_anvil);
	suite_add_tcase(s, tc);

	tc = tcase_create("robust");
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_roundtrip_random);
	tcase_add_loop_test(tc, test_byte_flips, 0, (int)N_OF(mutated));
	tcase_add_loop_test(tc, test_truncation, 0, (int)N_OF(mutated));
	tcase_add_loop_test(tc, test_bad_tx, 0, (int)N_OF(bad_txs));
	tcase_add_test(tc, test_high_s);
	tcase_add_test(tc, test_sign_errors);
	tcase_add_test(tc, test_encode_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(evm_tx_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
