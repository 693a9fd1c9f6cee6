/* test_bundle.c - proof bundles built from a real ledger verify offline, and
 * any flipped byte, wrong key set or hostile bundle fails with a reason. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_build.h"
#include "envelope_json.h"
#include "fixture.h"
#include "ledger.h"

static char tmpl[] = "/tmp/xr-bundle-XXXXXX";
static char *root;
static uint8_t node_seed[32], admin_seed[32], admin_pub[32], dapp_seed[32], dapp_pub[32];
static struct xr_signer node;
static struct xr_ledger *led;
static const struct xr_evidence_ops *const ops[] = {&xr_evidence_none};

static void add(struct xr_ledger_batch *b, const struct xr_buf *rec)
{
	struct xr_err err = {0};
	ck_assert_int_eq(xr_ledger_batch_add(b, rec->data, rec->len, NULL, 0, &err), 0);
}

/* Ledger: 0 admin self-enrolment, 1 dapp enrolment, 2..41 node envelopes,
 * 42 an envelope signed by the dapp; checkpoints every 16 records. */
static void setup(void)
{
	struct xr_err err = {0};
	uint8_t pub[32];
	memcpy(tmpl + sizeof(tmpl) - 7, "XXXXXX", 6);
	root = mkdtemp(tmpl);
	ck_assert_ptr_nonnull(root);
	ck_assert_int_eq(xr_ed25519_keygen(node_seed, pub, &err), 0);
	ck_assert_int_eq(xr_ed25519_keygen(admin_seed, admin_pub, &err), 0);
	ck_assert_int_eq(xr_ed25519_keygen(dapp_seed, dapp_pub, &err), 0);
	ck_assert_int_eq(xr_signer_init(&node, "node1", node_seed, &err), 0);
	char path[256];
	snprintf(path, sizeof(path), "%s/db", root);
	struct xr_ledger_opts o = {.path = path,
				   .create = true,
				   .origin = "test/xrelay",
				   .signers = &node,
				   .nsigners = 1,
				   .checkpoint_every = 16,
				   .checkpoint_ms = 1000000,
				   .no_sync = true};
	ck_assert_int_eq(xr_ledger_open(&o, &led, &err), 0);
	struct xr_ledger_batch *b = xr_ledger_batch_new();
	struct xr_buf rec;
	xr_buf_init(&rec, 1 << 20);
	fx_member_record(&rec, "admin", admin_seed, XR_MEMBER_ENROL, "admin", XR_ROLE_ALL,
			 admin_pub);
	add(b, &rec);
	fx_member_record(&rec, "admin", admin_seed, XR_MEMBER_ENROL, "dapp1", XR_ROLE_DAPP,
			 dapp_pub);
	add(b, &rec);
	for (uint64_t s = 1; s <= 40; s++) {
		fx_envelope_record(&rec, "node1", NULL, s, NULL, 0);
		add(b, &rec);
	}
	fx_envelope_record(&rec, "dapp1", dapp_seed, 1000, NULL, 0);
	add(b, &rec);
	ck_assert_int_eq(xr_ledger_append(led, b, NULL, &err), 0);
	ck_assert_int_eq(xr_ledger_checkpoint(led, &err), 0);
	xr_buf_fini(&rec);
	xr_ledger_batch_free(b);
}

static void teardown(void)
{
	xr_ledger_free(led);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	ck_assert_int_eq(system(cmd), 0);
}

static json_t *bundle(uint64_t index)
{
	struct xr_err err = {0};
	json_t *b = NULL;
	int rc = xr_bundle_build(led, index, NULL, &b, &err);
	ck_assert_msg(rc == 0, "build %llu: %s", (unsigned long long)index, err.msg);
	return b;
}

static int verify(const json_t *b, struct xr_bundle_result *res, struct xr_err *err)
{
	return xr_bundle_verify(b, &node.key, 1, 1, ops, 1, res, err);
}

START_TEST(every_record_verifies)
{
	for (uint64_t i = 0; i < xr_ledger_size(led); i++) {
		json_t *b = bundle(i);
		struct xr_err err = {0};
		struct xr_bundle_result res;
		ck_assert_msg(verify(b, &res, &err) == 0, "index %llu: %s", (unsigned long long)i,
			      err.msg);
		ck_assert_uint_eq(res.index, i);
		ck_assert_uint_gt(res.tree_size, i);
		ck_assert_str_eq(res.signers, "node1");
		/* Checkpoints every 16: record i is covered by block i / 16. */
		ck_assert_uint_eq(res.block, i / 16);
		ck_assert_int_eq(json_object_get(b, "author") != NULL, i == 0 || i == 1 || i == 42);
		json_decref(b);
	}
}
END_TEST

/* Flips one bit at every byte of the serialized bundle; whatever still
 * parses as JSON must fail verification. */
static void flip_all(uint64_t index, size_t flags, uint8_t mask)
{
	json_t *b = bundle(index);
	char *text = json_dumps(b, flags | JSON_PRESERVE_ORDER);
	size_t n = strlen(text);
	size_t parsed = 0;
	json_decref(b);
	for (size_t i = 0; i < n; i++) {
		text[i] ^= (char)mask;
		json_t *j = json_loadb(text, n, JSON_REJECT_DUPLICATES, NULL);
		if (j) {
			struct xr_err err = {0};
			parsed++;
			ck_assert_msg(verify(j, NULL, &err) < 0,
				      "flip 0x%02x at %zu of bundle %llu verified: ...%.40s...",
				      mask, i, (unsigned long long)index,
				      text + (i > 20 ? i - 20 : 0));
			ck_assert_msg(err.msg[0], "no reason at %zu", i);
			json_decref(j);
		}
		text[i] ^= (char)mask;
	}
	ck_assert_uint_gt(parsed, n / 4);
	free(text);
}

START_TEST(flipped_bytes_fail)
{
	static const uint8_t masks[] = {0x01, 0x20, 0x02};
	for (size_t m = 0; m < sizeof(masks); m++) {
		flip_all(5, JSON_COMPACT, masks[m]);
		flip_all(42, JSON_INDENT(2), masks[m]);
	}
	flip_all(0, JSON_COMPACT, 0x01);
}
END_TEST

START_TEST(wrong_keys_and_thresholds)
{
	json_t *b = bundle(7);
	struct xr_err err = {0};
	struct xr_signer other;
	uint8_t seed[32], pub[32];
	ck_assert_int_eq(xr_ed25519_keygen(seed, pub, &err), 0);
	ck_assert_int_eq(xr_signer_init(&other, "node1", seed, &err), 0);
	/* Same name, other key: the key id differs, so no known signer. */
	ck_assert_int_lt(xr_bundle_verify(b, &other.key, 1, 1, ops, 1, NULL, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "checkpoint"));
	struct xr_vkey two[2] = {node.key, other.key};
	snprintf(two[1].name, sizeof(two[1].name), "node2");
	xr_note_key_id("node2", two[1].pub, two[1].id);
	xr_err_clear(&err);
	ck_assert_int_eq(xr_bundle_verify(b, two, 2, 1, ops, 1, NULL, &err), 0);
	ck_assert_int_lt(xr_bundle_verify(b, two, 2, 2, ops, 1, NULL, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "1 of 2"));
	/* No evidence framework known. */
	xr_err_clear(&err);
	ck_assert_int_lt(xr_bundle_verify(b, &node.key, 1, 1, ops, 0, NULL, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "framework"));
	json_decref(b);
}
END_TEST

START_TEST(hostile_bundles)
{
	json_t *good = bundle(9);
	struct {
		const char *key;
		json_t *value; /* NULL: delete the key */
		const char *expect;
	} cases[] = {
	    {"version", json_integer(2), "version"},
	    {"index", json_integer(-1), "negative"},
	    {"index", json_integer(8), "root"},
	    {"index", json_string("9"), "wrong type"},
	    {"tree_size", json_integer(1), "size"},
	    {"record", json_string("0x"), "record"},
	    {"record", json_string("0xzz"), "hex"},
	    {"inclusion", json_array(), "fewer"},
	    {"inclusion", json_pack("[s]", "0x00"), "inclusion hash"},
	    {"checkpoint", json_string(""), "checkpoint"},
	    {"checkpoint", json_string("x\n\n\xe2\x80\x94 node1 AAAA\n"), "checkpoint"},
	    {"envelope", NULL, "envelope"},
	    {"evidence", json_pack("{s:s}", "framework", "evm"), "framework"},
	    {"evidence", json_pack("{s:s, s:i}", "framework", "none", "x", 1), "none"},
	    {"author", json_pack("{s:i}", "index", 0), "author"},
	    {"extra", json_true(), "unknown key"},
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		json_t *b = json_deep_copy(good);
		if (cases[c].value)
			json_object_set_new(b, cases[c].key, cases[c].value);
		else
			json_object_del(b, cases[c].key);
		struct xr_err err = {0};
		ck_assert_msg(verify(b, NULL, &err) < 0, "case %zu (%s) verified", c, cases[c].key);
		ck_assert_msg(strstr(err.msg, cases[c].expect), "case %zu (%s): '%s'", c,
			      cases[c].key, err.msg);
		json_decref(b);
	}
	/* Not an object at all, and a proof that is absurdly long. */
	struct xr_err err = {0};
	json_t *arr = json_array();
	ck_assert_int_lt(verify(arr, NULL, &err), 0);
	json_decref(arr);
	json_t *b = json_deep_copy(good);
	json_t *longp = json_array();
	for (int i = 0; i < 100; i++)
		json_array_append_new(longp, json_string("0x00000000000000000000000000000000000000"
							 "00000000000000000000000000"));
	json_object_set_new(b, "inclusion", longp);
	xr_err_clear(&err);
	ck_assert_int_lt(verify(b, NULL, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "at most"));
	json_decref(b);
	json_decref(good);
}
END_TEST

START_TEST(signed_record_needs_enrolment)
{
	json_t *b = bundle(42);
	struct xr_err err = {0};
	/* Point the author at another member's enrolment (the admin's, record 0),
	 * with a valid inclusion proof in the same tree. */
	json_t *other = bundle(0);
	json_t *a = json_object_get(b, "author");
	uint64_t size = (uint64_t)json_integer_value(json_object_get(b, "tree_size"));
	uint8_t h[XR_MERKLE_MAX_PROOF][32];
	size_t n;
	ck_assert_int_eq(xr_ledger_inclusion(led, 0, size, h, &n, &err), 0);
	json_t *p = json_array();
	for (size_t i = 0; i < n; i++) {
		char *s = xr_hex0x_new(h[i], 32);
		json_array_append_new(p, json_string(s));
		free(s);
	}
	json_object_set(a, "record", json_object_get(other, "record"));
	json_object_set_new(a, "index", json_integer(0));
	json_object_set_new(a, "inclusion", p);
	ck_assert_int_lt(verify(b, NULL, &err), 0);
	ck_assert_msg(strstr(err.msg, "not the enrolment of 'dapp1'"), "%s", err.msg);
	json_object_del(b, "author");
	xr_err_clear(&err);
	ck_assert_int_lt(verify(b, NULL, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "no \"author\""));
	json_decref(other);
	json_decref(b);
}
END_TEST

/* --- members over time: revokes, re-enrolments, key rotations ------------- */

/* An ENVELOPE record with the given height, sequence and time (the record's
 * own time is 1763800000000 + seq, so it wraps past 2^64 as seq grows). */
static void big_envelope(struct xr_buf *rec,
			 const char *author,
			 const uint8_t *seed,
			 uint64_t height,
			 uint64_t seq,
			 uint64_t time)
{
	struct xr_envelope e;
	fx_envelope(&e, seq);
	e.src_height = height;
	e.src_time = time;
	fx_record_of(rec, author, seed, &e, NULL, 0);
}

/* Builds and verifies the bundle of every record so far, and checks which
 * enrolment proves each signed one (want[i]: its index, -1: unsigned). */
static void verify_history(struct xr_ledger *l, const int *want, uint64_t n)
{
	ck_assert_uint_eq(xr_ledger_size(l), n);
	for (uint64_t i = 0; i < n; i++) {
		struct xr_err err = {0};
		struct xr_bundle_result res;
		json_t *b = NULL;
		int rc = xr_bundle_build(l, i, NULL, &b, &err);
		ck_assert_msg(rc == 0, "build %llu of %llu: %s", (unsigned long long)i,
			      (unsigned long long)n, err.msg);
		rc = verify(b, &res, &err);
		ck_assert_msg(rc == 0, "verify %llu of %llu: %s", (unsigned long long)i,
			      (unsigned long long)n, err.msg);
		ck_assert_uint_eq(res.index, i);
		ck_assert_str_eq(res.origin, "test/xrelay");
		json_t *a = json_object_get(b, "author");
		if (want[i] < 0) {
			ck_assert_msg(!a, "record %llu has an author", (unsigned long long)i);
		} else {
			ck_assert_msg(a, "record %llu has no author", (unsigned long long)i);
			ck_assert_msg(
			    json_integer_value(json_object_get(a, "index")) == want[i],
			    "record %llu proved by %lld, expected %d", (unsigned long long)i,
			    (long long)json_integer_value(json_object_get(a, "index")), want[i]);
		}
		json_decref(b);
	}
}

/* A bundle verifies for every record ever appended: before and after its
 * author is revoked, re-enrolled or re-keyed; the admin's own key rotation
 * (signed by the old key) and what the admin signs with each key; and
 * heights, sequences and times of 2^63 and beyond. Every stage re-checks
 * every record so far. */
START_TEST(members_over_time)
{
	struct xr_err err = {0};
	uint8_t a2_seed[32], a2_pub[32], a3_seed[32], a3_pub[32];
	uint8_t d1b_seed[32], d1b_pub[32], d2_seed[32], d2_pub[32], d2b_seed[32], d2b_pub[32];
	ck_assert_int_eq(xr_ed25519_keygen(a2_seed, a2_pub, &err), 0);
	ck_assert_int_eq(xr_ed25519_keygen(a3_seed, a3_pub, &err), 0);
	ck_assert_int_eq(xr_ed25519_keygen(d1b_seed, d1b_pub, &err), 0);
	ck_assert_int_eq(xr_ed25519_keygen(d2_seed, d2_pub, &err), 0);
	ck_assert_int_eq(xr_ed25519_keygen(d2b_seed, d2b_pub, &err), 0);
	char path[256];
	snprintf(path, sizeof(path), "%s/history", root);
	struct xr_ledger_opts o = {.path = path,
				   .create = true,
				   .origin = "test/xrelay",
				   .signers = &node,
				   .nsigners = 1,
				   .checkpoint_every = 1000,
				   .checkpoint_ms = 1000000,
				   .no_sync = true};
	struct xr_ledger *l = NULL;
	ck_assert_int_eq(xr_ledger_open(&o, &l, &err), 0);
	struct xr_ledger_batch *b = xr_ledger_batch_new();
	struct xr_buf rec;
	xr_buf_init(&rec, 1 << 20);
	/* want[i]: the enrolment that proves record i, -1 for unsigned. */
	static const int want[] = {0, 0, 1, -1, 0, 0, 5, 0, 7, 8, 7, 10, 7, 12, -1, 8, 12};
	const uint64_t two63 = UINT64_C(1) << 63;
#define STAGE(n)                                                                                   \
	do {                                                                                       \
		ck_assert_int_eq(xr_ledger_append(l, b, NULL, &err), 0);                           \
		xr_ledger_batch_clear(b);                                                          \
		ck_assert_int_eq(xr_ledger_checkpoint(l, &err), 0);                                \
		verify_history(l, want, n);                                                        \
	} while (0)

	/* 0 genesis, 1 enrols dapp1, 2 dapp1 signs, 3 the committee writes. */
	fx_member_record(&rec, "admin", admin_seed, XR_MEMBER_ENROL, "admin", XR_ROLE_ALL,
			 admin_pub);
	add(b, &rec);
	fx_member_record(&rec, "admin", admin_seed, XR_MEMBER_ENROL, "dapp1", XR_ROLE_DAPP,
			 dapp_pub);
	add(b, &rec);
	fx_envelope_record(&rec, "dapp1", dapp_seed, 1, NULL, 0);
	add(b, &rec);
	fx_envelope_record(&rec, "node1", NULL, 2, NULL, 0);
	add(b, &rec);
	STAGE(4);
	/* 4 revokes dapp1, 5 enrols dapp2, 6 dapp2 signs. */
	fx_member_record(&rec, "admin", admin_seed, XR_MEMBER_REVOKE, "dapp1", XR_ROLE_DAPP,
			 dapp_pub);
	add(b, &rec);
	fx_member_record(&rec, "admin", admin_seed, XR_MEMBER_ENROL, "dapp2", XR_ROLE_DAPP, d2_pub);
	add(b, &rec);
	fx_envelope_record(&rec, "dapp2", d2_seed, 3, NULL, 0);
	add(b, &rec);
	STAGE(7);
	/* 7 the admin rotates its own key, signed by the old one; 8 re-enrols
	 * dapp1 with a new key, signed by the new admin key; 9 dapp1 signs. */
	fx_member_record(&rec, "admin", admin_seed, XR_MEMBER_ENROL, "admin", XR_ROLE_ALL, a2_pub);
	add(b, &rec);
	fx_member_record(&rec, "admin", a2_seed, XR_MEMBER_ENROL, "dapp1", XR_ROLE_DAPP, d1b_pub);
	add(b, &rec);
	fx_envelope_record(&rec, "dapp1", d1b_seed, 4, NULL, 0);
	add(b, &rec);
	STAGE(10);
	/* 10 re-keys dapp2 while enrolled, 11 dapp2 signs with the new key, 12
	 * the admin rotates again, 13 revokes dapp2 with the third admin key. */
	fx_member_record(&rec, "admin", a2_seed, XR_MEMBER_ENROL, "dapp2", XR_ROLE_DAPP, d2b_pub);
	add(b, &rec);
	fx_envelope_record(&rec, "dapp2", d2b_seed, 5, NULL, 0);
	add(b, &rec);
	fx_member_record(&rec, "admin", a2_seed, XR_MEMBER_ENROL, "admin", XR_ROLE_ALL, a3_pub);
	add(b, &rec);
	fx_member_record(&rec, "admin", a3_seed, XR_MEMBER_REVOKE, "dapp2", XR_ROLE_DAPP, d2b_pub);
	add(b, &rec);
	STAGE(14);
	/* 14 by the committee and 15 by dapp1: heights, sequences and times at
	 * and beyond 2^63; 15's record time is 2^64-1. 16 the admin again. */
	big_envelope(&rec, "node1", NULL, two63, two63 + 5, two63);
	add(b, &rec);
	big_envelope(&rec, "dapp1", d1b_seed, UINT64_MAX, UINT64_MAX - 1763800000000ull,
		     UINT64_MAX);
	add(b, &rec);
	fx_member_record(&rec, "admin", a3_seed, XR_MEMBER_ENROL, "dapp3", XR_ROLE_DAPP, d2_pub);
	add(b, &rec);
	STAGE(17);
#undef STAGE

	/* The envelopes beyond the JSON view's range are shown by the record's
	 * bytes only; a bundle that adds a view is refused. */
	json_t *bb = NULL;
	ck_assert_int_eq(xr_bundle_build(l, 15, NULL, &bb, &err), 0);
	ck_assert_ptr_null(json_object_get(bb, "envelope"));
	struct xr_bundle_result res;
	ck_assert_int_eq(verify(bb, &res, &err), 0);
	uint8_t want_id[32];
	{
		struct xr_envelope e;
		uint8_t enc[1024];
		size_t len;
		fx_envelope(&e, UINT64_MAX - 1763800000000ull);
		e.src_height = UINT64_MAX;
		e.src_time = UINT64_MAX;
		ck_assert_int_eq(xr_envelope_encode(&e, enc, sizeof(enc), &len, &err), 0);
		xr_envelope_id(enc, len, want_id);
	}
	ck_assert_mem_eq(res.id, want_id, 32);
	json_t *normal = bundle(5);
	json_object_set(bb, "envelope", json_object_get(normal, "envelope"));
	xr_err_clear(&err);
	ck_assert_int_lt(verify(bb, NULL, &err), 0);
	ck_assert_msg(strstr(err.msg, "no JSON view"), "%s", err.msg);
	json_decref(normal);
	json_decref(bb);

	/* The rotation record pointed at itself (as if it proved itself) is
	 * refused, as is a proof by the key it installs. */
	ck_assert_int_eq(xr_bundle_build(l, 7, NULL, &bb, &err), 0);
	json_t *self = json_deep_copy(bb);
	json_t *a = json_object_get(self, "author");
	json_object_set_new(a, "index", json_integer(7));
	json_object_set(a, "record", json_object_get(bb, "record"));
	json_object_set(a, "inclusion", json_object_get(bb, "inclusion"));
	xr_err_clear(&err);
	ck_assert_int_lt(verify(self, NULL, &err), 0);
	ck_assert_msg(strstr(err.msg, "only the first record may enrol its own author"), "%s",
		      err.msg);
	json_decref(self);
	json_decref(bb);
	/* A record signed by the old admin key, proved by the new enrolment. */
	ck_assert_int_eq(xr_bundle_build(l, 8, NULL, &bb, &err), 0);
	json_t *eight = bb;
	ck_assert_int_eq(xr_bundle_build(l, 4, NULL, &bb, &err), 0);
	json_object_set(bb, "author", json_object_get(eight, "author"));
	xr_err_clear(&err);
	ck_assert_int_lt(verify(bb, NULL, &err), 0);
	ck_assert_msg(strstr(err.msg, "comes after the record"), "%s", err.msg);
	json_decref(bb);
	json_decref(eight);

	/* Reopened read-only, with no member table of its own making, the
	 * answers are the same. */
	xr_ledger_batch_free(b);
	xr_buf_fini(&rec);
	xr_ledger_free(l);
	o.create = false;
	o.read_only = true;
	o.signers = NULL;
	o.nsigners = 0;
	ck_assert_int_eq(xr_ledger_open(&o, &l, &err), 0);
	verify_history(l, want, 17);
	xr_ledger_free(l);
}
END_TEST

/* A hostile committee can sign any tree: the verifier's rules must not
 * depend on the ledger having refused a record. The records are hashed into
 * a tree here and the checkpoint signed by the test committee. */
struct tree {
	uint8_t (*leaf)[32];
	uint64_t n;
};

static int tree_get(void *ctx, unsigned level, uint64_t index, uint8_t ret[32], struct xr_err *err)
{
	const struct tree *t = ctx;
	(void)err;
	if (level == 0) {
		memcpy(ret, t->leaf[index], 32);
		return 0;
	}
	uint8_t l[32], r[32];
	tree_get(ctx, level - 1, 2 * index, l, NULL);
	tree_get(ctx, level - 1, 2 * index + 1, r, NULL);
	xr_merkle_node_hash(l, r, ret);
	return 0;
}

static json_t *proof_of(struct tree *t, uint64_t index)
{
	uint8_t h[XR_MERKLE_MAX_PROOF][32];
	size_t n;
	struct xr_err err = {0};
	ck_assert_int_eq(xr_merkle_inclusion_proof(index, t->n, tree_get, t, h, &n, &err), 0);
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		char *s = xr_hex0x_new(h[i], 32);
		json_array_append_new(a, json_string(s));
		free(s);
	}
	return a;
}

/* The bundle of record `index` of recs[], whose author is proved by record
 * `ai` (no author when ai < 0), against a checkpoint of all n records. */
static json_t *forged_bundle(struct xr_buf *recs, uint64_t n, uint64_t index, int ai)
{
	struct xr_err err = {0};
	struct tree t = {malloc(n * 32), n};
	for (uint64_t i = 0; i < n; i++)
		xr_merkle_leaf_hash(recs[i].data, recs[i].len, t.leaf[i]);
	struct xr_checkpoint cp = {.size = n, .block = 0, .time_ms = 1};
	memcpy(cp.origin, "test/xrelay", 12);
	ck_assert_int_eq(xr_merkle_root(n, tree_get, &t, cp.root, &err), 0);
	struct xr_buf note;
	xr_buf_init(&note, XR_NOTE_MAX_LEN);
	ck_assert_int_eq(xr_checkpoint_format(&cp, &note, &err), 0);
	size_t tl = note.len;
	ck_assert_int_eq(xr_note_sign((const char *)note.data, tl, &node, 1, &note, &err), 0);
	char *rh = xr_hex0x_new(recs[index].data, recs[index].len);
	json_t *b =
	    json_pack("{s:i, s:I, s:I, s:s, s:o, s:s%}", "version", 1, "index", (json_int_t)index,
		      "tree_size", (json_int_t)n, "record", rh, "inclusion", proof_of(&t, index),
		      "checkpoint", (const char *)note.data + tl, note.len - tl);
	free(rh);
	struct xr_record r;
	ck_assert_int_eq(xr_record_decode(recs[index].data, recs[index].len, &r, &err), 0);
	if (r.type == XR_REC_ENVELOPE) {
		const uint8_t *env, *dig;
		size_t env_len;
		struct xr_envelope e;
		ck_assert_int_eq(
		    xr_envelope_body_decode(r.body, r.body_len, &env, &env_len, &dig, &err), 0);
		ck_assert_int_eq(xr_envelope_decode(env, env_len, &e, &err), 0);
		json_object_set_new(b, "envelope", xr_envelope_to_json(&e, &err));
		json_object_set_new(b, "evidence", json_pack("{s:s}", "framework", "none"));
	}
	if (ai >= 0) {
		char *ah = xr_hex0x_new(recs[ai].data, recs[ai].len);
		json_object_set_new(b, "author",
				    json_pack("{s:i, s:s, s:o}", "index", ai, "record", ah,
					      "inclusion", proof_of(&t, (uint64_t)ai)));
		free(ah);
	}
	ck_assert_ptr_nonnull(b);
	xr_buf_fini(&note);
	free(t.leaf);
	return b;
}

/* Only the first record, and only an admin's ENROL of itself, proves its
 * own author: a later record that enrols its own author is not a genesis. */
START_TEST(self_enrolment_only_at_genesis)
{
	struct xr_err err = {0};
	uint8_t m_seed[32], m_pub[32];
	ck_assert_int_eq(xr_ed25519_keygen(m_seed, m_pub, &err), 0);
	struct xr_buf recs[3];
	for (int i = 0; i < 3; i++)
		xr_buf_init(&recs[i], 1 << 20);

	/* The honest genesis proves itself. */
	fx_member_record(&recs[0], "admin", admin_seed, XR_MEMBER_ENROL, "admin", XR_ROLE_ALL,
			 admin_pub);
	fx_member_record(&recs[1], "admin", admin_seed, XR_MEMBER_ENROL, "dapp1", XR_ROLE_DAPP,
			 dapp_pub);
	json_t *b = forged_bundle(recs, 2, 0, 0);
	ck_assert_msg(verify(b, NULL, &err) == 0, "%s", err.msg);
	json_decref(b);
	b = forged_bundle(recs, 2, 1, 0);
	ck_assert_msg(verify(b, NULL, &err) == 0, "%s", err.msg);
	json_decref(b);

	/* Record 1: mallory enrols herself with her own key. */
	fx_member_record(&recs[1], "mallory", m_seed, XR_MEMBER_ENROL, "mallory", XR_ROLE_ALL,
			 m_pub);
	b = forged_bundle(recs, 2, 1, 1);
	xr_err_clear(&err);
	ck_assert_int_lt(verify(b, NULL, &err), 0);
	ck_assert_msg(strstr(err.msg, "only the first record may enrol its own author"), "%s",
		      err.msg);
	json_decref(b);
	/* Her envelope, proved by that enrolment, does verify: a bundle shows
	 * that the record's author signed it under the enrolment the committee
	 * signed into the log, not who authorised that enrolment. That is the
	 * audit's to check, over every record. */
	fx_envelope_record(&recs[2], "mallory", m_seed, 1, NULL, 0);
	b = forged_bundle(recs, 3, 2, 1);
	xr_err_clear(&err);
	ck_assert_msg(verify(b, NULL, &err) == 0, "%s", err.msg);
	json_decref(b);

	/* Record 0 that revokes its author, or enrols it without the admin
	 * role, proves nothing. */
	fx_member_record(&recs[0], "admin", admin_seed, XR_MEMBER_REVOKE, "admin", XR_ROLE_ALL,
			 admin_pub);
	b = forged_bundle(recs, 1, 0, 0);
	xr_err_clear(&err);
	ck_assert_int_lt(verify(b, NULL, &err), 0);
	ck_assert_msg(strstr(err.msg, "not the enrolment of 'admin'"), "%s", err.msg);
	json_decref(b);
	fx_member_record(&recs[0], "admin", admin_seed, XR_MEMBER_ENROL, "admin", XR_ROLE_DAPP,
			 admin_pub);
	b = forged_bundle(recs, 1, 0, 0);
	xr_err_clear(&err);
	ck_assert_int_lt(verify(b, NULL, &err), 0);
	ck_assert_msg(strstr(err.msg, "without the admin role"), "%s", err.msg);
	json_decref(b);
	/* A signed envelope at index 0 has nothing before it. */
	fx_envelope_record(&recs[0], "admin", admin_seed, 1, NULL, 0);
	b = forged_bundle(recs, 1, 0, 0);
	xr_err_clear(&err);
	ck_assert_int_lt(verify(b, NULL, &err), 0);
	ck_assert_msg(strstr(err.msg, "not the enrolment of 'admin'"), "%s", err.msg);
	json_decref(b);
	for (int i = 0; i < 3; i++)
		xr_buf_fini(&recs[i]);
}
END_TEST

/* A threshold of 0 is refused even for a well-signed bundle, and above all
 * with keys that signed nothing: another key under the committee's name
 * signed no checkpoint, yet would vouch for node1's unsigned records. */
START_TEST(threshold_zero_refused)
{
	json_t *b = bundle(7);
	struct xr_err err = {0};
	struct xr_signer other;
	uint8_t seed[32], pub[32];
	ck_assert_int_eq(xr_ed25519_keygen(seed, pub, &err), 0);
	ck_assert_int_eq(xr_signer_init(&other, "node1", seed, &err), 0);
	ck_assert_int_eq(xr_bundle_verify(b, &other.key, 1, 0, ops, 1, NULL, &err), XR_EINVAL);
	ck_assert_msg(strstr(err.msg, "threshold of 0"), "%s", err.msg);
	xr_err_clear(&err);
	ck_assert_int_eq(xr_bundle_verify(b, &node.key, 1, 0, ops, 1, NULL, &err), XR_EINVAL);
	json_decref(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("bundle");
	TCase *t = tcase_create("bundle");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 300);
	tcase_add_test(t, every_record_verifies);
	tcase_add_test(t, flipped_bytes_fail);
	tcase_add_test(t, wrong_keys_and_thresholds);
	tcase_add_test(t, hostile_bundles);
	tcase_add_test(t, signed_record_needs_enrolment);
	tcase_add_test(t, members_over_time);
	tcase_add_test(t, self_enrolment_only_at_genesis);
	tcase_add_test(t, threshold_zero_refused);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
