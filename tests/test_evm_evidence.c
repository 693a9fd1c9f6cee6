/* test_evm_evidence.c - adapters/evm/{receipt,evidence}.c without a chain:
 * evidence built for the recorded anvil receipts (tests/vectors) opens and
 * verifies; for blocks carrying the bridge's Sent events (the recorded block
 * 2 with its receipts replaced, receiptsRoot and hash recomputed) the
 * evidence checks against the envelope, every byte flip and every envelope
 * change is refused, the JSON view round-trips, and hostile JSON, receipts
 * and event data are refused without a crash. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge_artifact.h"
#include "evidence.h"
#include "header.h"
#include "keccak.h"
#include "mpt.h"
#include "receipt.h"
#include "rlp.h"
#include "xr_bytes.h"
#include "fixture.h"

#define EXPECT(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond))                                                                       \
			ck_abort_msg(__VA_ARGS__);                                                 \
	} while (0)

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static json_t *vectors;

static json_t *block(size_t i)
{
	return json_array_get(json_object_get(vectors, "blocks"), i);
}

static json_t *hexstr(const uint8_t *p, size_t n)
{
	char *s = xr_hex0x_new(p, n);
	json_t *j = json_string(s);
	free(s);
	return j;
}

/* --- the contract artifact -------------------------------------------------- */

START_TEST(test_artifact)
{
	uint8_t h[32];

	xr_keccak256(XR_BRIDGE_SENT_SIGNATURE, strlen(XR_BRIDGE_SENT_SIGNATURE), h);
	ck_assert_mem_eq(h, xr_bridge_sent_topic, 32);
	ck_assert_str_eq(XR_BRIDGE_SENT_SIGNATURE,
			 "Sent(uint64,address,string,bytes,uint256,bytes)");
	xr_keccak256(XR_BRIDGE_SEND_SIGNATURE, strlen(XR_BRIDGE_SEND_SIGNATURE), h);
	ck_assert_mem_eq(h, xr_bridge_send_selector, 4);
	ck_assert_str_eq(XR_BRIDGE_SEND_SIGNATURE, "send(string,bytes,bytes)");
	ck_assert_uint_gt(XR_BRIDGE_BYTECODE_LEN, 100);
	ck_assert_uint_eq(sizeof(xr_bridge_bytecode), XR_BRIDGE_BYTECODE_LEN);
	/* solc's init code starts with the free memory pointer setup. */
	ck_assert_mem_eq(xr_bridge_bytecode, "\x60\x80\x60\x40\x52", 5);
}
END_TEST

/* --- recorded receipts -------------------------------------------------------- */

static void header_rlp(const json_t *b, struct xr_buf *out, struct xr_evm_header *h)
{
	struct xr_err err = {0};
	ck_assert_msg(xr_evm_header_from_json(b, h, &err) == 0, "%s", err.msg);
	xr_buf_reset(out);
	ck_assert_int_eq(xr_evm_header_encode(h, out, NULL), 0);
}

/* Evidence for receipt ri, log pos of a block. */
static void make_evidence(const struct xr_buf *hdr,
			  const struct xr_evm_receipts *rs,
			  size_t ri,
			  size_t pos,
			  struct xr_buf *out)
{
	struct xr_buf proof;
	struct xr_err err = {0};
	xr_buf_init(&proof, 1 << 24);
	ck_assert_msg(xr_evm_receipts_prove(rs, ri, &proof, NULL, &err) == 0, "%s", err.msg);
	xr_buf_reset(out);
	ck_assert_msg(xr_evm_evidence_encode(hdr->data, hdr->len, ri, proof.data, proof.len, pos,
					     out, &err) == 0,
		      "%s", err.msg);
	xr_buf_fini(&proof);
}

START_TEST(test_recorded)
{
	json_t *blocks = json_object_get(vectors, "blocks"), *b;
	size_t bi, proven = 0;

	json_array_foreach(blocks, bi, b)
	{
		json_t *receipts = json_object_get(json_object_get(vectors, "receipts"),
						   json_string_value(json_object_get(b, "number")));
		if (!receipts)
			continue;
		struct xr_evm_header h;
		struct xr_evm_receipts *rs;
		struct xr_buf hdr, ev;
		struct xr_err err = {0};
		uint8_t root[32], hash[32];
		xr_buf_init(&hdr, 1 << 16);
		xr_buf_init(&ev, XR_EVM_EVIDENCE_MAX);
		header_rlp(b, &hdr, &h);
		ck_assert_msg(xr_evm_receipts_from_json(receipts, &rs, &err) == 0, "%s", err.msg);
		xr_evm_receipts_root(rs, root);
		ck_assert_mem_eq(root, h.receipts_root, 32);
		ck_assert_int_eq(
		    xr_evm_json_fixed(json_object_get(b, "hash"), "hash", hash, 32, NULL), 0);
		for (size_t ri = 0; ri < xr_evm_receipts_count(rs); ri++) {
			json_t *logs = json_object_get(json_array_get(receipts, ri), "logs");
			for (size_t pos = 0; pos < json_array_size(logs); pos++) {
				json_t *lj = json_array_get(logs, pos);
				struct xr_evm_evidence o;
				uint8_t addr[20];
				make_evidence(&hdr, rs, ri, pos, &ev);
				ck_assert_msg(xr_evm_evidence_open(ev.data, ev.len, &o, &err) == 0,
					      "block %zu receipt %zu: %s", bi, ri, err.msg);
				ck_assert_mem_eq(o.block_hash, hash, 32);
				ck_assert_uint_eq(o.receipt_index, ri);
				ck_assert_uint_eq(o.log_position, pos);
				ck_assert_uint_eq(o.header.number, h.number);
				xr_evm_json_fixed(json_object_get(lj, "address"), "a", addr, 20,
						  NULL);
				ck_assert_mem_eq(o.log.address, addr, 20);
				ck_assert_uint_eq(o.log.n_topics,
						  json_array_size(json_object_get(lj, "topics")));
				ck_assert_uint_eq(o.log.data_len, 32);
				/* Not the bridge's event: the check refuses it. */
				struct xr_envelope env = {0};
				memcpy(env.src_chain, "eip155:31337", 13);
				memcpy(env.src_block, hash, 32);
				env.src_height = h.number;
				env.src_time = h.timestamp;
				memcpy(env.emitter, addr, 20);
				env.emitter_len = 20;
				err.code = 0;
				ck_assert_int_eq(xr_evidence_evm.check(&env, ev.data, ev.len, &err),
						 XR_EVERIFY);
				ck_assert_msg(strstr(err.msg, "topics, expected 3") ||
						  strstr(err.msg, "not the Sent"),
					      "%s", err.msg);
				xr_evm_evidence_fini(&o);
				proven++;
			}
			/* A log position past the receipt's logs. */
			make_evidence(&hdr, rs, ri, json_array_size(logs), &ev);
			struct xr_evm_evidence o;
			err.code = 0;
			ck_assert_int_eq(xr_evm_evidence_open(ev.data, ev.len, &o, &err),
					 XR_EINVAL);
			ck_assert_ptr_nonnull(strstr(err.msg, "log_position"));
		}
		xr_evm_receipts_free(rs);
		xr_buf_fini(&hdr);
		xr_buf_fini(&ev);
	}
	ck_assert_uint_ge(proven, 8);
}
END_TEST

/* --- blocks with Sent events ----------------------------------------------------- */

#define BRIDGE "0x5fbdb2315678afecb367f032d93f642f64180aa3"
#define SENDER "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"

struct sent_spec {
	uint64_t seq;
	const char *dst;
	const char *recipient; /* hex */
	const char *amount;    /* decimal */
	size_t payload_len;
};

static void put_word_u64(struct xr_buf *b, uint64_t v)
{
	uint8_t w[32] = {0};
	xr_put_be64(w + 24, v);
	xr_buf_put(b, w, 32);
}

static void put_dyn(struct xr_buf *b, const void *p, size_t n)
{
	static const uint8_t zero[32];
	put_word_u64(b, n);
	xr_buf_put(b, p, n);
	xr_buf_put(b, zero, (32 - n % 32) % 32);
}

/* ABI data of Sent: (string dstChain, bytes recipient, uint256 amount, bytes payload). */
static void sent_data(const char *dst,
		      const uint8_t *rcp,
		      size_t rlen,
		      const uint8_t amount[32],
		      const uint8_t *payload,
		      size_t plen,
		      struct xr_buf *out)
{
	size_t pad_d = (strlen(dst) + 31) / 32 * 32, pad_r = (rlen + 31) / 32 * 32;
	put_word_u64(out, 128);
	put_word_u64(out, 128 + 32 + pad_d);
	xr_buf_put(out, amount, 32);
	put_word_u64(out, 128 + 32 + pad_d + 32 + pad_r);
	put_dyn(out, dst, strlen(dst));
	put_dyn(out, rcp, rlen);
	put_dyn(out, payload, plen);
}

static json_t *sent_log(const struct sent_spec *s)
{
	struct xr_buf data;
	uint8_t amount[32], rcp[64], *payload = malloc(s->payload_len + 1), topic[32] = {0};
	size_t rlen = strlen(s->recipient) / 2 - 1;
	ck_assert_int_eq(xr_u256_from_dec(s->amount, amount, NULL), 0);
	ck_assert_int_eq(xr_hex_decode_exact(s->recipient, rcp, rlen, NULL), 0);
	for (size_t i = 0; i < s->payload_len; i++)
		payload[i] = (uint8_t)(i * 7 + s->seq);
	xr_buf_init(&data, 1 << 20);
	sent_data(s->dst, rcp, rlen, amount, payload, s->payload_len, &data);
	xr_put_be64(topic + 24, s->seq);
	uint8_t sender[32] = {0};
	xr_hex_decode_exact(SENDER, sender + 12, 20, NULL);
	json_t *log = json_pack("{s:s,s:[o,o,o],s:o}", "address", BRIDGE, "topics",
				hexstr(xr_bridge_sent_topic, 32), hexstr(topic, 32),
				hexstr(sender, 32), "data", hexstr(data.data, data.len));
	xr_buf_fini(&data);
	free(payload);
	return log;
}

static json_t *other_log(void)
{
	return json_pack("{s:s,s:[s],s:s}", "address", BRIDGE, "topics",
			 "0x1111111111111111111111111111111111111111111111111111111111111111",
			 "data", "0x1234");
}

static char bloom[2 + 512 + 1];

static json_t *receipt(size_t index, const char *type, json_t *logs)
{
	char ti[32];
	snprintf(ti, sizeof(ti), "0x%zx", index);
	return json_pack("{s:s,s:s,s:s,s:s,s:o,s:s}", "type", type, "status", "0x1",
			 "cumulativeGasUsed", "0x5208", "logsBloom", bloom, "logs", logs,
			 "transactionIndex", ti);
}

/* The events of the synthetic block: receipt 0 legacy without logs,
 * receipt 1 (type 2) with an unrelated log then two Sent events, receipt 2
 * (type 1) with a transfer carrying a large payload. */
static const struct sent_spec events[] = {
    {1, "eip155:31338", "0xf2930271d15938c8e953a064a5c36c5727be7c40", "1000000000000000000", 0},
    {2, "cosmos:cosmoshub-4", "0x0102030405060708091011121314151617181920212223242526272829303132",
     "0", 33},
    {3, "eip155:1", "0xaa",
     "115792089237316195423570985008687907853269984665640564039457584007913129639935",
     XR_ENV_PAYLOAD_MAX},
};

struct fixture {
	json_t *block;
	json_t *receipts;
	struct xr_evm_header h;
	uint8_t hash[32];
	struct xr_buf hdr;
	struct xr_evm_receipts *rs;
};

static struct fixture fx;

static void fixture_make(void)
{
	struct xr_err err = {0};
	uint8_t root[32];

	memset(&fx, 0, sizeof(fx));
	fx.receipts = json_array();
	json_array_append_new(fx.receipts, receipt(0, "0x0", json_array()));
	json_array_append_new(
	    fx.receipts,
	    receipt(1, "0x2",
		    json_pack("[o,o,o]", other_log(), sent_log(&events[0]), sent_log(&events[1]))));
	json_array_append_new(fx.receipts,
			      receipt(2, "0x1", json_pack("[o]", sent_log(&events[2]))));
	ck_assert_msg(xr_evm_receipts_from_json(fx.receipts, &fx.rs, &err) == 0, "%s", err.msg);
	xr_evm_receipts_root(fx.rs, root);
	fx.block = json_deep_copy(block(2));
	json_object_set_new(fx.block, "receiptsRoot", hexstr(root, 32));
	xr_buf_init(&fx.hdr, 1 << 16);
	header_rlp(fx.block, &fx.hdr, &fx.h);
	xr_keccak256(fx.hdr.data, fx.hdr.len, fx.hash);
}

static void fixture_free(void)
{
	json_decref(fx.block);
	json_decref(fx.receipts);
	xr_buf_fini(&fx.hdr);
	xr_evm_receipts_free(fx.rs);
}

/* Where each event sits: receipt, position, block-level log index. */
static const struct {
	size_t ri, pos;
	uint32_t log_index;
} where[] = {{1, 1, 1}, {1, 2, 2}, {2, 0, 3}};

static const uint8_t tx_hash[32] = {0xde, 0xad, 0xbe, 0xef};

static void event_envelope(size_t k, struct xr_envelope *env, struct xr_buf *ev)
{
	struct xr_evm_evidence o;
	struct xr_err err = {0};

	make_evidence(&fx.hdr, fx.rs, where[k].ri, where[k].pos, ev);
	ck_assert_msg(xr_evm_evidence_open(ev->data, ev->len, &o, &err) == 0, "%s", err.msg);
	ck_assert_msg(xr_evm_sent_envelope("eip155:31337", &o.header, o.block_hash, tx_hash,
					   where[k].log_index, &o.log, env, &err) == 0,
		      "%s", err.msg);
	/* The payload borrows from the opened evidence: point it into ev. */
	const uint8_t *p = memmem(ev->data, ev->len, env->payload, env->payload_len);
	ck_assert(env->payload_len == 0 || p);
	env->payload = env->payload_len ? p : NULL;
	xr_evm_evidence_fini(&o);
}

START_TEST(test_sent_check)
{
	struct xr_envelope env;
	struct xr_buf ev;
	struct xr_err err = {0};
	uint8_t amount[32];

	xr_buf_init(&ev, XR_EVM_EVIDENCE_MAX);
	event_envelope((size_t)_i, &env, &ev);
	const struct sent_spec *s = &events[_i];
	ck_assert_str_eq(env.src_chain, "eip155:31337");
	ck_assert_uint_eq(env.src_height, 2);
	ck_assert_mem_eq(env.src_block, fx.hash, 32);
	ck_assert_mem_eq(env.src_tx, tx_hash, 32);
	ck_assert_uint_eq(env.log_index, where[_i].log_index);
	ck_assert_uint_eq(env.emitter_len, 20);
	ck_assert_uint_eq(env.sequence, s->seq);
	ck_assert_str_eq(env.dst_chain, s->dst);
	ck_assert_uint_eq(env.recipient_len, strlen(s->recipient) / 2 - 1);
	xr_u256_from_dec(s->amount, amount, NULL);
	ck_assert_mem_eq(env.amount, amount, 32);
	ck_assert_uint_eq(env.src_time, fx.h.timestamp);
	ck_assert_uint_eq(env.payload_len, s->payload_len);
	if (strcmp(s->amount, "0") == 0) {
		ck_assert_uint_eq(env.kind, XR_ENV_MESSAGE);
		ck_assert_str_eq(env.asset, "");
	} else {
		ck_assert_uint_eq(env.kind, XR_ENV_TRANSFER);
		ck_assert_str_eq(env.asset, "eip155:31337/slip44:60");
	}
	ck_assert_msg(xr_evidence_evm.check(&env, ev.data, ev.len, &err) == 0, "%s", err.msg);

	/* Encodes as an envelope, decodes back, still checks. */
	uint8_t *enc = malloc(XR_ENV_MAX_LEN);
	size_t n;
	struct xr_envelope back;
	ck_assert_int_eq(xr_envelope_encode(&env, enc, XR_ENV_MAX_LEN, &n, NULL), 0);
	ck_assert_int_eq(xr_envelope_decode(enc, n, &back, NULL), 0);
	ck_assert_int_eq(xr_evidence_evm.check(&back, ev.data, ev.len, NULL), 0);
	free(enc);

	/* JSON: to_json, text, parse, rebuild gives the same bytes. */
	json_t *j = xr_evidence_evm.to_json(ev.data, ev.len, &err);
	ck_assert_msg(j, "%s", err.msg);
	ck_assert_str_eq(json_string_value(json_object_get(j, "framework")), "evm");
	ck_assert_int_eq(json_integer_value(json_object_get(j, "receipt_index")),
			 (json_int_t)where[_i].ri);
	ck_assert_int_eq(json_integer_value(json_object_get(j, "log_position")),
			 (json_int_t)where[_i].pos);
	char *text = json_dumps(j, JSON_COMPACT);
	json_t *j2 = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	struct xr_buf rb;
	xr_buf_init(&rb, XR_EVM_EVIDENCE_MAX);
	ck_assert_msg(xr_evidence_evm.rebuild(j2, &rb, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(rb.len, ev.len);
	ck_assert_mem_eq(rb.data, ev.data, ev.len);
	xr_buf_fini(&rb);
	free(text);
	json_decref(j);
	json_decref(j2);
	xr_buf_fini(&ev);
}
END_TEST

/* Every change of one envelope field is refused with XR_EVERIFY, naming it;
 * the fields the evidence cannot prove (src_tx, log_index) are not. */
START_TEST(test_envelope_changes)
{
	struct xr_envelope env, e;
	struct xr_buf ev;
	struct xr_err err;

	xr_buf_init(&ev, XR_EVM_EVIDENCE_MAX);
	event_envelope(0, &env, &ev);
	static const char *const why[] = {
	    "source block hash", "source height", "source time", "emitter", "sequence",
	    "destination",	 "recipient",	  "amount",	 "kind",    "payload",
	    "emitter is",	 "source chain",
	};
	for (size_t k = 0; k < N_ELEMS(why); k++) {
		e = env;
		uint8_t pl[1] = {7};
		switch (k) {
		case 0:
			e.src_block[31] ^= 1;
			break;
		case 1:
			e.src_height++;
			break;
		case 2:
			e.src_time--;
			break;
		case 3:
			e.emitter[0] ^= 0x80;
			break;
		case 4:
			e.sequence = 2;
			break;
		case 5:
			memcpy(e.dst_chain, "eip155:31339", 13);
			break;
		case 6:
			e.recipient[19] ^= 1;
			break;
		case 7:
			e.amount[31] ^= 1;
			break;
		case 8:
			e.kind = XR_ENV_MESSAGE;
			break;
		case 9:
			e.payload = pl;
			e.payload_len = 1;
			break;
		case 10:
			e.emitter_len = 19;
			break;
		case 11:
			memcpy(e.src_chain, "cosmos:hub", 11);
			break;
		}
		memset(&err, 0, sizeof(err));
		EXPECT(xr_evidence_evm.check(&e, ev.data, ev.len, &err) == XR_EVERIFY,
		       "change %zu accepted (%s)", k, err.msg);
		EXPECT(strstr(err.msg, why[k]), "change %zu: '%s' lacks '%s'", k, err.msg, why[k]);
	}
	e = env;
	e.src_tx[0] ^= 1;
	e.log_index = 99;
	ck_assert_int_eq(xr_evidence_evm.check(&e, ev.data, ev.len, NULL), 0);
	xr_buf_fini(&ev);
}
END_TEST

/* Every byte of the evidence changed, and every truncation: refused. */
START_TEST(test_byte_flips)
{
	struct xr_envelope env;
	struct xr_buf ev;

	xr_buf_init(&ev, XR_EVM_EVIDENCE_MAX);
	event_envelope((size_t)_i, &env, &ev);
	/* The payload borrows from ev: keep a copy to change ev freely. */
	uint8_t *copy = malloc(ev.len), *pl = malloc(env.payload_len + 1);
	memcpy(copy, ev.data, ev.len);
	if (env.payload_len)
		memcpy(pl, env.payload, env.payload_len);
	env.payload = env.payload_len ? pl : NULL;
	/* The 64 KiB payload of event 2: every byte near the ends, a stride
	 * through the middle (each check hashes the whole proof). */
	for (size_t at = 0; at < ev.len;
	     at += _i == 2 && at > 4096 && at + 4096 < ev.len ? 61 : 1) {
		for (int bit = 0; bit < 8; bit += _i == 2 ? 4 : 1) {
			copy[at] ^= (uint8_t)(1u << bit);
			EXPECT(xr_evidence_evm.check(&env, copy, ev.len, NULL) < 0,
			       "flip of bit %d at %zu of %zu accepted", bit, at, ev.len);
			copy[at] ^= (uint8_t)(1u << bit);
		}
	}
	ck_assert_int_eq(xr_evidence_evm.check(&env, copy, ev.len, NULL), 0);
	for (size_t n = 0; n < ev.len; n += _i == 2 ? 97 : 1)
		EXPECT(xr_evidence_evm.check(&env, copy, n, NULL) < 0, "prefix %zu accepted", n);
	free(copy);
	free(pl);
	xr_buf_fini(&ev);
}
END_TEST

/* A proof made for another block, or a header from another block: refused. */
START_TEST(test_wrong_block)
{
	struct xr_envelope env;
	struct xr_buf ev, hdr, bad;
	struct xr_evm_header h;
	struct xr_err err = {0};
	struct xr_buf proof;

	xr_buf_init(&ev, XR_EVM_EVIDENCE_MAX);
	xr_buf_init(&bad, XR_EVM_EVIDENCE_MAX);
	xr_buf_init(&hdr, 1 << 16);
	xr_buf_init(&proof, 1 << 24);
	event_envelope(0, &env, &ev);
	/* The real header of block 2: its receiptsRoot is not our trie's. */
	header_rlp(block(2), &hdr, &h);
	ck_assert_int_eq(xr_evm_receipts_prove(fx.rs, 1, &proof, NULL, NULL), 0);
	ck_assert_int_eq(
	    xr_evm_evidence_encode(hdr.data, hdr.len, 1, proof.data, proof.len, 1, &bad, NULL), 0);
	ck_assert_int_eq(xr_evidence_evm.check(&env, bad.data, bad.len, &err), XR_EVERIFY);
	/* The right header, but the proof of receipt 2 claimed as receipt 1. */
	xr_buf_reset(&proof);
	xr_buf_reset(&bad);
	ck_assert_int_eq(xr_evm_receipts_prove(fx.rs, 2, &proof, NULL, NULL), 0);
	ck_assert_int_eq(xr_evm_evidence_encode(fx.hdr.data, fx.hdr.len, 1, proof.data, proof.len,
						1, &bad, NULL),
			 0);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(xr_evidence_evm.check(&env, bad.data, bad.len, &err), XR_EVERIFY);
	/* Receipt 0 proven, index 3 claimed: the trie has no receipt 3. */
	xr_buf_reset(&proof);
	xr_buf_reset(&bad);
	ck_assert_int_eq(xr_evm_receipts_prove(fx.rs, 0, &proof, NULL, NULL), 0);
	ck_assert_int_eq(xr_evm_evidence_encode(fx.hdr.data, fx.hdr.len, 3, proof.data, proof.len,
						0, &bad, NULL),
			 0);
	ck_assert_int_lt(xr_evidence_evm.check(&env, bad.data, bad.len, NULL), 0);
	/* The unrelated log of receipt 1. */
	xr_buf_reset(&bad);
	make_evidence(&fx.hdr, fx.rs, 1, 0, &bad);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(xr_evidence_evm.check(&env, bad.data, bad.len, &err), XR_EVERIFY);
	ck_assert_ptr_nonnull(strstr(err.msg, "topics, expected 3"));
	xr_buf_fini(&ev);
	xr_buf_fini(&bad);
	xr_buf_fini(&hdr);
	xr_buf_fini(&proof);
}
END_TEST

/* --- hostile JSON ------------------------------------------------------------- */

static const struct {
	const char *key;
	const char *json; /* new value; NULL deletes the key */
	const char *why;
} json_bad[] = {
    {"extra", "1", "unknown key \"extra\""},
    {"framework", "\"none\"", "\"framework\" is not \"evm\""},
    {"framework", NULL, "\"framework\" is not \"evm\""},
    {"framework", "1", "\"framework\" is not \"evm\""},
    {"header_rlp", NULL, "no \"header_rlp\""},
    {"header_rlp", "1", "header_rlp is not a string"},
    {"header_rlp", "\"f9\"", "lacks the 0x prefix"},
    {"header_rlp", "\"0xf\"", "odd number of digits"},
    {"header_rlp", "\"0xzz\"", "non-hex character"},
    {"receipt_index", NULL, "no \"receipt_index\""},
    {"receipt_index", "\"1\"", "\"receipt_index\" is not an integer"},
    {"receipt_index", "1.0", "\"receipt_index\" is not an integer"},
    {"receipt_index", "-1", "\"receipt_index\" -1, expected 0..65535"},
    {"receipt_index", "65536", "\"receipt_index\" 65536"},
    {"receipt_index", "9223372036854775807", "expected 0..65535"},
    {"log_position", NULL, "no \"log_position\""},
    {"log_position", "10000", "\"log_position\" 10000, expected 0..9999"},
    {"log_position", "true", "not an integer"},
    {"receipt_proof", NULL, "no \"receipt_proof\""},
    {"receipt_proof", "{}", "\"receipt_proof\" is not an array"},
    {"receipt_proof", "[]", "has 0 nodes, expected 1..64"},
    {"receipt_proof", "[1]", "node 0 is not a string"},
    {"receipt_proof", "[\"0x\"]", "node 0 is not one rlp item"},
    {"receipt_proof", "[\"0xc0c0\"]", "node 0 is not one rlp item"},
    {"receipt_proof", "[\"0xc1\"]", "node 0 is not one rlp item"},
    {"receipt_proof", "[\"0xc0\", null]", "node 1 is not a string"},
};

START_TEST(test_json_refuses)
{
	struct xr_envelope env;
	struct xr_buf ev, out;
	struct xr_err err = {0};

	xr_buf_init(&ev, XR_EVM_EVIDENCE_MAX);
	xr_buf_init(&out, XR_EVM_EVIDENCE_MAX);
	event_envelope(0, &env, &ev);
	json_t *j = xr_evidence_evm.to_json(ev.data, ev.len, NULL);
	if (json_bad[_i].json)
		json_object_set_new(j, json_bad[_i].key,
				    json_loads(json_bad[_i].json, JSON_DECODE_ANY, NULL));
	else
		json_object_del(j, json_bad[_i].key);
	xr_buf_put(&out, "keep", 4);
	ck_assert_int_lt(xr_evidence_evm.rebuild(j, &out, &err), 0);
	ck_assert_msg(strstr(err.msg, json_bad[_i].why), "%s=%s: '%s' lacks '%s'", json_bad[_i].key,
		      json_bad[_i].json, err.msg, json_bad[_i].why);
	ck_assert_uint_eq(out.len, 4);
	json_decref(j);
	xr_buf_fini(&ev);
	xr_buf_fini(&out);
}
END_TEST

START_TEST(test_json_edges)
{
	struct xr_envelope env;
	struct xr_buf ev, out;
	struct xr_err err = {0};

	xr_buf_init(&ev, XR_EVM_EVIDENCE_MAX);
	xr_buf_init(&out, XR_EVM_EVIDENCE_MAX);
	event_envelope(1, &env, &ev);
	/* Not an object; too many nodes; a node too large for the output. */
	json_t *arr = json_array();
	ck_assert_int_eq(xr_evidence_evm.rebuild(arr, &out, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "evidence is not a json object");
	json_t *j = xr_evidence_evm.to_json(ev.data, ev.len, NULL);
	json_t *proof = json_object_get(j, "receipt_proof");
	for (int i = 0; i < 64; i++)
		json_array_append_new(proof, json_string("0xc0"));
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(xr_evidence_evm.rebuild(j, &out, &err), XR_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "expected 1..64"));
	json_decref(j);
	/* Upper-case hex is the same bytes. */
	j = xr_evidence_evm.to_json(ev.data, ev.len, NULL);
	char *up = strdup(json_string_value(json_object_get(j, "header_rlp")));
	for (char *c = up + 2; *c; c++)
		if (*c >= 'a' && *c <= 'f')
			*c = (char)(*c - 'a' + 'A');
	json_object_set_new(j, "header_rlp", json_string(up));
	free(up);
	ck_assert_int_eq(xr_evidence_evm.rebuild(j, &out, NULL), 0);
	ck_assert_mem_eq(out.data, ev.data, ev.len);
	/* A tiny output buffer: refused, left as it was. */
	struct xr_buf small;
	xr_buf_init(&small, 100);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(xr_evidence_evm.rebuild(j, &small, &err), XR_ENOMEM);
	ck_assert_uint_eq(small.len, 0);
	ck_assert(!small.failed);
	xr_buf_fini(&small);
	json_decref(j);
	json_decref(arr);
	/* to_json refuses what split refuses. */
	memset(&err, 0, sizeof(err));
	ck_assert_ptr_null(xr_evidence_evm.to_json((const uint8_t *)"\xc0", 1, &err));
	ck_assert_ptr_nonnull(strstr(err.msg, "evidence has 0 items, expected 4"));
	ck_assert_ptr_null(xr_evidence_evm.to_json(NULL, 0, NULL));
	xr_buf_fini(&ev);
	xr_buf_fini(&out);
}
END_TEST

/* Evidence bytes of the right shape but wrong parts. */
static const struct {
	const char *hex;
	const char *why;
} ev_bad[] = {
    {"c4808080c0", "receipt_proof is a byte string"},
    {"c58080c18080", "evidence header_rlp"},
    {"c5c080c18080", "header_rlp is a list"},
    {"c580c0c18080", "receipt_index is a list"},
    {"c48080c080", "receipt_proof has no nodes"},
    {"c480808080", "receipt_proof is a byte string"},
    {"c68080c2c08080", "node 0 is a list"},
    {"c780820001c18080", "leading zero"},
    {"c780838000008080", "receipt_index"},
    {"c68080c1808080", "evidence has 5 items"},
    {"c38080c0", "evidence has 3 items"},
    {"c78080c1808227108", "evidence"},
    {"c78080c180822710", "log_position 10000"},
    {"80", "evidence is a byte string"},
};

START_TEST(test_evidence_bytes_refused)
{
	struct xr_envelope env = {0};
	uint8_t *p;
	size_t n;
	struct xr_err err = {0};

	if (strlen(ev_bad[_i].hex) % 2) {
		/* Odd: an intentionally broken item; just make sure nothing crashes. */
		ck_assert_int_eq(xr_hex_decode_new("c78080c180822710", 64, &p, &n, NULL), 0);
		ck_assert_int_lt(xr_evidence_evm.check(&env, p, n - 1, NULL), 0);
		free(p);
		return;
	}
	ck_assert_int_eq(xr_hex_decode_new(ev_bad[_i].hex, 64, &p, &n, NULL), 0);
	ck_assert_int_lt(xr_evidence_evm.check(&env, p, n, &err), 0);
	ck_assert_msg(strstr(err.msg, ev_bad[_i].why), "%s: '%s' lacks '%s'", ev_bad[_i].hex,
		      err.msg, ev_bad[_i].why);
	/* to_json looks at the shape only; an empty header has the right one. */
	json_t *j = xr_evidence_evm.to_json(p, n, NULL);
	ck_assert(!j == (_i != 1));
	json_decref(j);
	free(p);
}
END_TEST

/* --- hostile receipts ------------------------------------------------------------ */

static const struct {
	const char *path; /* "field" of the receipt or "log.field" of its first log */
	const char *json;
	const char *why;
} receipt_bad[] = {
    {"type", "\"0x80\"", "receipt type 128, expected 0..0x7f"},
    {"type", "\"0x02\"", "leading zero"},
    {"type", "2", "receipt type is not a string"},
    {"status", "\"0x2\"", "receipt status 2, expected 0 or 1"},
    {"status", NULL, "receipt lacks field status"},
    {"cumulativeGasUsed", "\"0x10000000000000000\"", "does not fit in 8 bytes"},
    {"cumulativeGasUsed", NULL, "lacks field cumulativeGasUsed"},
    {"logsBloom", "\"0x00\"", "receipt logsBloom is 1 bytes, expected 256"},
    {"logs", "{}", "receipt logs is not an array"},
    {"logs", NULL, "lacks field logs"},
    {"logs", "[1]", "receipt log 0 is not a json object"},
    {"log.address", "\"0x1234\"", "receipt log 0 address is 2 bytes, expected 20"},
    {"log.address", NULL, "receipt log 0 lacks field address"},
    {"log.topics", "[\"0x00\"]", "receipt log 0 topic 0 is 1 bytes, expected 32"},
    {"log.topics", "\"0x\"", "receipt log 0 topics is not an array"},
    {"log.topics",
     "[\"0x0000000000000000000000000000000000000000000000000000000000000000\","
     "\"0x0000000000000000000000000000000000000000000000000000000000000000\","
     "\"0x0000000000000000000000000000000000000000000000000000000000000000\","
     "\"0x0000000000000000000000000000000000000000000000000000000000000000\","
     "\"0x0000000000000000000000000000000000000000000000000000000000000000\"]",
     "receipt log 0 has 5 topics, expected 0..4"},
    {"log.data", "\"0x0\"", "receipt log 0 data '0x0' has an odd number of digits"},
    {"log.data", "null", "receipt log 0 data is not a string"},
    {"log.data", NULL, "receipt log 0 lacks field data"},
    {"transactionIndex", "\"0x1\"", "receipt 0 has transactionIndex 1, expected 0"},
    {"transactionIndex", NULL, "receipt 0 lacks field transactionIndex"},
    {"transactionIndex", "\"0x\"", "receipt 0: transactionIndex '0x' has no digits"},
};

START_TEST(test_receipt_refuses)
{
	struct xr_evm_receipts *rs = (void *)0x1;
	struct xr_err err = {0};
	json_t *rcpts = json_pack("[o]", receipt(0, "0x2", json_pack("[o]", other_log())));
	json_t *r = json_array_get(rcpts, 0), *target = r;
	const char *key = receipt_bad[_i].path;
	if (strncmp(key, "log.", 4) == 0) {
		target = json_array_get(json_object_get(r, "logs"), 0);
		key += 4;
	}
	if (receipt_bad[_i].json)
		json_object_set_new(target, key,
				    json_loads(receipt_bad[_i].json, JSON_DECODE_ANY, NULL));
	else
		json_object_del(target, key);
	ck_assert_int_eq(xr_evm_receipts_from_json(rcpts, &rs, &err), XR_EINVAL);
	ck_assert_msg(strstr(err.msg, receipt_bad[_i].why), "%s: '%s' lacks '%s'",
		      receipt_bad[_i].path, err.msg, receipt_bad[_i].why);
	ck_assert_ptr_eq(rs, (void *)0x1);
	/* The single-receipt encoder leaves its output as it was. */
	struct xr_buf out;
	xr_buf_init(&out, 1 << 20);
	xr_buf_put(&out, "ab", 2);
	if (strcmp(receipt_bad[_i].path, "transactionIndex") != 0) {
		ck_assert_int_lt(xr_evm_receipt_from_json(r, &out, NULL), 0);
		ck_assert_uint_eq(out.len, 2);
		ck_assert(!out.failed);
	}
	xr_buf_fini(&out);
	json_decref(rcpts);
}
END_TEST

START_TEST(test_receipt_caps)
{
	struct xr_err err = {0};
	struct xr_buf out;
	xr_buf_init(&out, 64u << 20);

	/* Data: 1 MiB accepted, one byte more refused. */
	size_t max = XR_EVM_LOG_DATA_MAX;
	char *s = malloc(2 * max + 5);
	memcpy(s, "0x", 2);
	memset(s + 2, 'a', 2 * max);
	s[2 + 2 * max] = '\0';
	json_t *r = receipt(0, "0x0", json_pack("[o]", other_log()));
	json_t *log = json_array_get(json_object_get(r, "logs"), 0);
	json_object_set_new(log, "data", json_string(s));
	ck_assert_msg(xr_evm_receipt_from_json(r, &out, &err) == 0, "%s", err.msg);
	struct xr_evm_receipt d;
	struct xr_evm_log lg;
	ck_assert_int_eq(xr_evm_receipt_decode(out.data, out.len, &d, NULL), 0);
	ck_assert_uint_eq(d.type, 0);
	ck_assert_int_eq(xr_evm_receipt_log(&d, 0, &lg, NULL), 0);
	ck_assert_uint_eq(lg.data_len, max);
	memcpy(s + 2 + 2 * max, "aa", 3);
	json_object_set_new(log, "data", json_string(s));
	xr_buf_reset(&out);
	ck_assert_int_eq(xr_evm_receipt_from_json(r, &out, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "receipt log 0 data is 1048577 bytes, expected at most 1048576");
	free(s);
	json_decref(r);

	/* Logs: 10000 accepted, 10001 refused. */
	json_t *logs = json_array();
	for (int i = 0; i < XR_EVM_RECEIPT_MAX_LOGS; i++)
		json_array_append_new(logs, other_log());
	r = receipt(0, "0x7f", logs);
	xr_buf_reset(&out);
	ck_assert_int_eq(xr_evm_receipt_from_json(r, &out, NULL), 0);
	ck_assert_int_eq(xr_evm_receipt_decode(out.data, out.len, &d, NULL), 0);
	ck_assert_uint_eq(d.n_logs, XR_EVM_RECEIPT_MAX_LOGS);
	ck_assert_uint_eq(d.type, 0x7f);
	json_array_append_new(logs, other_log());
	xr_buf_reset(&out);
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(xr_evm_receipt_from_json(r, &out, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "receipt has 10001 logs, expected at most 10000");
	json_decref(r);

	/* Pre-Byzantium: root instead of status; no type field. */
	r = receipt(0, "0x0", json_array());
	json_object_del(r, "status");
	json_object_del(r, "type");
	json_object_set_new(r, "root", hexstr(fx.hash, 32));
	xr_buf_reset(&out);
	ck_assert_int_eq(xr_evm_receipt_from_json(r, &out, NULL), 0);
	ck_assert_int_eq(xr_evm_receipt_decode(out.data, out.len, &d, NULL), 0);
	ck_assert(d.has_root);
	ck_assert_mem_eq(d.root, fx.hash, 32);
	ck_assert_uint_eq(d.cumulative_gas, 0x5208);
	json_decref(r);

	/* Not an array, not objects, too many receipts. */
	struct xr_evm_receipts *rs;
	json_t *o = json_object();
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(xr_evm_receipts_from_json(o, &rs, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "block receipts is not a json array");
	json_decref(o);
	o = json_pack("[s]", "x");
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(xr_evm_receipts_from_json(o, &rs, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "receipt 0: receipt is not a json object");
	json_decref(o);
	o = json_array();
	ck_assert_int_eq(xr_evm_receipts_from_json(o, &rs, NULL), 0);
	uint8_t root[32];
	xr_evm_receipts_root(rs, root);
	ck_assert_mem_eq(root, xr_mpt_empty_root, 32);
	ck_assert_int_eq(xr_evm_receipts_prove(rs, 0, &out, NULL, NULL), XR_EINVAL);
	xr_evm_receipts_free(rs);
	xr_evm_receipts_free(NULL);
	json_decref(o);
	xr_buf_fini(&out);
}
END_TEST

/* Receipt bytes refused by the decoder. */
static const struct {
	const char *hex;
	const char *why;
} rdec_bad[] = {
    {"", "receipt is empty"},
    {"00c0", "type byte 0x00"},
    {"80", "receipt is a byte string"},
    {"02c0", "receipt has 0 items, expected 4"},
    {"02c4", "receipt: rlp length 4 at offset 0 runs past the end"},
    {"c4020180c0", "receipt status 2"},
    {"c501018180c0", "logsBloom is not 256 bytes"},
    {"c40101c0c0", "logsBloom is not 256 bytes"},
};

START_TEST(test_receipt_decode_refuses)
{
	uint8_t *p;
	size_t n;
	struct xr_evm_receipt r;
	struct xr_err err = {0};

	ck_assert_int_eq(xr_hex_decode_new(rdec_bad[_i].hex, 64, &p, &n, NULL), 0);
	ck_assert_int_eq(xr_evm_receipt_decode(p, n, &r, &err), XR_EINVAL);
	ck_assert_msg(strstr(err.msg, rdec_bad[_i].why), "%s: '%s' lacks '%s'", rdec_bad[_i].hex,
		      err.msg, rdec_bad[_i].why);
	free(p);
}
END_TEST

/* --- hostile event data ------------------------------------------------------------ */

/* Changes to a canonical Sent log's data and topics. */
START_TEST(test_sent_refuses)
{
	struct xr_buf data;
	uint8_t amount[32] = {0}, rcp[20] = {1}, payload[5] = {1, 2, 3, 4, 5}, t1[32] = {0},
		t2[32] = {0};
	struct xr_evm_log lg;
	struct xr_evm_sent s;
	struct xr_err err = {0};

	amount[31] = 9;
	t1[31] = 4;
	xr_buf_init(&data, 1 << 20);
	sent_data("eip155:1", rcp, 20, amount, payload, 5, &data);
	memset(&lg, 0, sizeof(lg));
	lg.address = rcp;
	lg.n_topics = 3;
	lg.topics[0] = xr_bridge_sent_topic;
	lg.topics[1] = t1;
	lg.topics[2] = t2;
	lg.data = data.data;
	lg.data_len = data.len;
	ck_assert_msg(xr_evm_sent_decode(&lg, &s, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(s.sequence, 4);
	ck_assert_uint_eq(s.dst_chain_len, 8);
	ck_assert_uint_eq(s.recipient_len, 20);
	ck_assert_uint_eq(s.payload_len, 5);
	ck_assert_mem_eq(s.payload, payload, 5);

	uint8_t *d = malloc(data.len + 64);
	static const struct {
		size_t at; /* byte to change; SIZE_MAX: length change */
		int delta;
		const char *why;
	} cases[] = {
	    {31, 32, "dstChain at offset 160, expected 128"},
	    {63, 32, "recipient at offset"},
	    {127, 32, "payload at offset"},
	    {0, 1, "dstChain does not fit in 64 bits"},
	    {128 + 31, 60, "dstChain is 68 bytes, expected at most 64"},
	    {256 + 31, 40, "payload of 45 bytes is past the data end"},
	    {128 + 32 + 9, 1, "non-zero padding"},
	    {SIZE_MAX, 32, "32 trailing bytes"},
	    {SIZE_MAX, -1, "past the data end"},
	};
	for (size_t k = 0; k < N_ELEMS(cases); k++) {
		size_t n = data.len;
		memcpy(d, data.data, data.len);
		if (cases[k].at == SIZE_MAX) {
			if (cases[k].delta > 0)
				memset(d + n, 0, (size_t)cases[k].delta);
			n = (size_t)((long)n + cases[k].delta);
		} else {
			d[cases[k].at] = (uint8_t)(d[cases[k].at] + cases[k].delta);
		}
		struct xr_evm_log l2 = lg;
		l2.data = d;
		l2.data_len = n;
		memset(&err, 0, sizeof(err));
		EXPECT(xr_evm_sent_decode(&l2, &s, &err) == XR_EINVAL, "case %zu accepted", k);
		EXPECT(strstr(err.msg, cases[k].why), "case %zu: '%s' lacks '%s'", k, err.msg,
		       cases[k].why);
	}
	/* Topics. */
	struct xr_evm_log l2 = lg;
	l2.n_topics = 2;
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(xr_evm_sent_decode(&l2, &s, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "sent event has 2 topics, expected 3");
	l2 = lg;
	l2.topics[0] = t2;
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(xr_evm_sent_decode(&l2, &s, &err), XR_EINVAL);
	ck_assert_str_eq(err.msg, "log topic0 is not the Sent event's topic");
	uint8_t big[32] = {1};
	l2 = lg;
	l2.topics[1] = big;
	ck_assert_int_eq(xr_evm_sent_decode(&l2, &s, NULL), XR_EINVAL);
	l2 = lg;
	l2.topics[2] = big;
	ck_assert_int_eq(xr_evm_sent_decode(&l2, &s, NULL), XR_EINVAL);
	l2 = lg;
	l2.data_len = 127;
	ck_assert_int_eq(xr_evm_sent_decode(&l2, &s, NULL), XR_EINVAL);

	/* Valid ABI, but not a valid envelope: refused by the envelope rules. */
	struct xr_envelope env;
	uint8_t hash[32] = {0};
	const char *bad_dst[] = {"EIP155:1", "eip155", "ab:c"};
	for (size_t k = 0; k < N_ELEMS(bad_dst); k++) {
		xr_buf_reset(&data);
		sent_data(bad_dst[k], rcp, 20, amount, payload, 5, &data);
		l2 = lg;
		l2.data = data.data;
		l2.data_len = data.len;
		memset(&err, 0, sizeof(err));
		EXPECT(xr_evm_sent_envelope("eip155:1", &fx.h, hash, hash, 0, &l2, &env, &err) ==
			   XR_EINVAL,
		       "dst %s accepted", bad_dst[k]);
		EXPECT(strstr(err.msg, "destination chain"), "%s", err.msg);
	}
	xr_buf_reset(&data);
	sent_data("eip155:1", rcp, 0, amount, payload, 5, &data);
	l2.data = data.data;
	l2.data_len = data.len;
	memset(&err, 0, sizeof(err));
	ck_assert_int_eq(xr_evm_sent_envelope("eip155:1", &fx.h, hash, hash, 0, &l2, &env, &err),
			 XR_EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "recipient length 0"));
	xr_buf_reset(&data);
	sent_data("eip155:1", rcp, 20, amount, payload, 5, &data);
	l2.data = data.data;
	l2.data_len = data.len;
	const char *bad_src[] = {"cosmos:hub", "eip155:", "eip155:01", "eip155:1a", "eip155"};
	for (size_t k = 0; k < N_ELEMS(bad_src); k++) {
		memset(&err, 0, sizeof(err));
		EXPECT(xr_evm_sent_envelope(bad_src[k], &fx.h, hash, hash, 0, &l2, &env, &err) ==
			   XR_EINVAL,
		       "src %s accepted", bad_src[k]);
		EXPECT(strstr(err.msg, "is not eip155:<decimal chain id>"), "%s", err.msg);
	}
	free(d);
	xr_buf_fini(&data);
}
END_TEST

static Suite *evidence_suite(void)
{
	Suite *s = suite_create("evm_evidence");
	TCase *tc = tcase_create("recorded");
	tcase_add_test(tc, test_artifact);
	tcase_add_test(tc, test_recorded);
	suite_add_tcase(s, tc);
	tc = tcase_create("sent");
	tcase_set_timeout(tc, 600);
	tcase_add_unchecked_fixture(tc, fixture_make, fixture_free);
	tcase_add_loop_test(tc, test_sent_check, 0, (int)N_ELEMS(events));
	tcase_add_test(tc, test_envelope_changes);
	tcase_add_loop_test(tc, test_byte_flips, 0, (int)N_ELEMS(events));
	tcase_add_test(tc, test_wrong_block);
	suite_add_tcase(s, tc);
	tc = tcase_create("hostile");
	tcase_set_timeout(tc, 600);
	tcase_add_unchecked_fixture(tc, fixture_make, fixture_free);
	tcase_add_loop_test(tc, test_json_refuses, 0, (int)N_ELEMS(json_bad));
	tcase_add_test(tc, test_json_edges);
	tcase_add_loop_test(tc, test_evidence_bytes_refused, 0, (int)N_ELEMS(ev_bad));
	tcase_add_loop_test(tc, test_receipt_refuses, 0, (int)N_ELEMS(receipt_bad));
	tcase_add_test(tc, test_receipt_caps);
	tcase_add_loop_test(tc, test_receipt_decode_refuses, 0, (int)N_ELEMS(rdec_bad));
	tcase_add_test(tc, test_sent_refuses);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (!(vectors = fx_vectors("anvil-blocks.json")))
		return 1;
	memcpy(bloom, "0x", 2);
	memset(bloom + 2, '0', 512);
	SRunner *sr = srunner_create(evidence_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	json_decref(vectors);
	return failed ? 1 : 0;
}
