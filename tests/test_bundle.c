/* test_bundle.c - proof bundles built from a real ledger verify offline, and
 * any flipped byte, wrong key set or hostile bundle fails with a reason. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle_build.h"
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
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
