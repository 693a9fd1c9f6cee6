/* test_ledger.c - the ledger on a real RocksDB: appends, refusals, proofs
 * across checkpoints, reopen, read-only readers, audit and tampering, and
 * crash safety by SIGKILL of a child in the middle of appending. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rocksdb/c.h> /* only to tamper with stored bytes behind the ledger's back */

#include "bundle_build.h"
#include "envelope.h"
#include "fixture.h"
#include "ledger.h"

static char tmpl[] = "/tmp/xr-ledger-XXXXXX";
static char *root;
static uint8_t node_seed[32], admin_seed[32], admin_pub[32], dapp_seed[32], dapp_pub[32];
static struct xr_signer node;
static int dbn;

static void setup(void)
{
	struct xr_err err = {0};
	memcpy(tmpl + sizeof(tmpl) - 7, "XXXXXX", 6);
	root = mkdtemp(tmpl);
	ck_assert_ptr_nonnull(root);
	uint8_t pub[32];
	ck_assert_int_eq(xr_ed25519_keygen(node_seed, pub, &err), 0);
	ck_assert_int_eq(xr_ed25519_keygen(admin_seed, admin_pub, &err), 0);
	ck_assert_int_eq(xr_ed25519_keygen(dapp_seed, dapp_pub, &err), 0);
	ck_assert_int_eq(xr_signer_init(&node, "node1", node_seed, &err), 0);
}

static void teardown(void)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	ck_assert_int_eq(system(cmd), 0);
}

static char *db_path(void)
{
	static char p[256];
	snprintf(p, sizeof(p), "%s/db%d", root, dbn);
	return p;
}

static struct xr_ledger *open_ledger(bool create, bool ro, uint64_t every)
{
	struct xr_err err = {0};
	struct xr_ledger *l = NULL;
	struct xr_ledger_opts o = {
	    .path = db_path(),
	    .create = create,
	    .read_only = ro,
	    .origin = "test/xrelay",
	    .signers = ro ? NULL : &node,
	    .nsigners = ro ? 0 : 1,
	    .checkpoint_every = every,
	    .checkpoint_ms = 1000000,
	    .no_sync = true,
	};
	int rc = xr_ledger_open(&o, &l, &err);
	ck_assert_msg(rc == 0, "open: %s", err.msg);
	return l;
}

static void append_ok(struct xr_ledger *l, struct xr_ledger_batch *b)
{
	struct xr_err err = {0};
	int rc = xr_ledger_append(l, b, NULL, &err);
	ck_assert_msg(rc == 0, "append: %s", err.msg);
	xr_ledger_batch_clear(b);
}

static void genesis(struct xr_ledger *l)
{
	struct xr_ledger_batch *b = xr_ledger_batch_new();
	struct xr_buf rec;
	struct xr_err err = {0};
	xr_buf_init(&rec, 1 << 20);
	fx_member_record(&rec, "admin", admin_seed, XR_MEMBER_ENROL, "admin", XR_ROLE_ALL,
			 admin_pub);
	ck_assert_int_eq(xr_ledger_batch_add(b, rec.data, rec.len, NULL, 0, &err), 0);
	fx_member_record(&rec, "admin", admin_seed, XR_MEMBER_ENROL, "dapp1", XR_ROLE_DAPP,
			 dapp_pub);
	ck_assert_int_eq(xr_ledger_batch_add(b, rec.data, rec.len, NULL, 0, &err), 0);
	append_ok(l, b);
	xr_buf_fini(&rec);
	xr_ledger_batch_free(b);
}

static void add_envelopes(struct xr_ledger *l, uint64_t from, uint64_t n, size_t per_batch)
{
	struct xr_ledger_batch *b = xr_ledger_batch_new();
	struct xr_buf rec;
	struct xr_err err = {0};
	xr_buf_init(&rec, 1 << 20);
	for (uint64_t s = from; s < from + n; s++) {
		fx_envelope_record(&rec, "node1", NULL, s, NULL, 0);
		ck_assert_int_eq(xr_ledger_batch_add(b, rec.data, rec.len, NULL, 0, &err), 0);
		if (xr_ledger_batch_count(b) == per_batch)
			append_ok(l, b);
	}
	if (xr_ledger_batch_count(b))
		append_ok(l, b);
	xr_buf_fini(&rec);
	xr_ledger_batch_free(b);
}

static void audit_ok(struct xr_ledger *l)
{
	struct xr_err err = {0};
	struct xr_audit_report rep;
	int rc = xr_ledger_audit(l, &node.key, 1, 1, NULL, NULL, &rep, &err);
	ck_assert_msg(rc == 0, "audit: %s", err.msg);
	ck_assert_uint_eq(rep.records, xr_ledger_size(l));
	ck_assert_uint_eq(rep.blocks, xr_ledger_blocks(l));
}

/* Every record's inclusion proof against every checkpoint that covers it
 * verifies with the signed root; consistency between all block pairs. */
static void check_proofs(struct xr_ledger *l)
{
	struct xr_err err = {0};
	uint64_t blocks = xr_ledger_blocks(l);
	struct xr_checkpoint *cps = calloc(blocks, sizeof(*cps));
	struct xr_buf note, rec;
	xr_buf_init(&note, XR_NOTE_MAX_LEN);
	xr_buf_init(&rec, XR_RECORD_MAX_LEN);
	for (uint64_t b = 0; b < blocks; b++) {
		size_t tl;
		xr_buf_reset(&note);
		ck_assert_int_eq(xr_ledger_block(l, b, &note, &cps[b], &err), 0);
		ck_assert_msg(xr_note_open((const char *)note.data, note.len, &node.key, 1, 1, &tl,
					   NULL, &err) == 0,
			      "%s", err.msg);
		ck_assert_uint_eq(cps[b].block, b);
		uint8_t r[32];
		ck_assert_int_eq(xr_ledger_root(l, cps[b].size, r, &err), 0);
		ck_assert_mem_eq(r, cps[b].root, 32);
	}
	for (uint64_t b = 0; b < blocks; b++) {
		uint64_t step = cps[b].size / 37 + 1;
		for (uint64_t i = 0; i < cps[b].size; i += step) {
			uint8_t h[XR_MERKLE_MAX_PROOF][32], leaf[32];
			size_t n;
			xr_buf_reset(&rec);
			ck_assert_int_eq(xr_ledger_record(l, i, &rec, &err), 0);
			xr_merkle_leaf_hash(rec.data, rec.len, leaf);
			ck_assert_int_eq(xr_ledger_inclusion(l, i, cps[b].size, h, &n, &err), 0);
			ck_assert_msg(xr_merkle_verify_inclusion(i, cps[b].size, leaf,
								 (const uint8_t(*)[32])h, n,
								 cps[b].root, &err) == 0,
				      "index %llu size %llu: %s", (unsigned long long)i,
				      (unsigned long long)cps[b].size, err.msg);
		}
		for (uint64_t a = 0; a <= b; a++) {
			uint8_t h[XR_MERKLE_MAX_PROOF][32];
			size_t n;
			ck_assert_int_eq(
			    xr_ledger_consistency(l, cps[a].size, cps[b].size, h, &n, &err), 0);
			ck_assert_msg(xr_merkle_verify_consistency(
					  cps[a].size, cps[b].size, cps[a].root, cps[b].root,
					  (const uint8_t(*)[32])h, n, &err) == 0,
				      "%s", err.msg);
		}
	}
	free(cps);
	xr_buf_fini(&note);
	xr_buf_fini(&rec);
}

START_TEST(append_reopen_prove)
{
	struct xr_ledger *l = open_ledger(true, false, 100);
	genesis(l);
	add_envelopes(l, 1, 1000, 37);
	struct xr_err err = {0};
	ck_assert_int_eq(xr_ledger_checkpoint(l, &err), 0);
	ck_assert_uint_eq(xr_ledger_size(l), 1002);
	/* A checkpoint every 100 records, and one for the tail. */
	ck_assert_uint_eq(xr_ledger_blocks(l), 11);
	check_proofs(l);
	audit_ok(l);
	uint8_t before[32], after[32];
	ck_assert_int_eq(xr_ledger_root(l, 1002, before, &err), 0);
	xr_ledger_free(l);

	l = open_ledger(false, false, 100);
	ck_assert_uint_eq(xr_ledger_size(l), 1002);
	ck_assert_int_eq(xr_ledger_root(l, 1002, after, &err), 0);
	ck_assert_mem_eq(before, after, 32);
	/* Appending after a reopen continues the same tree. */
	add_envelopes(l, 1001, 333, 50);
	ck_assert_int_eq(xr_ledger_checkpoint(l, &err), 0);
	check_proofs(l);
	audit_ok(l);
	xr_ledger_free(l);
}
END_TEST

START_TEST(every_size_roots_match_frontier)
{
	/* One record per batch: the stored tiles give the right root at every
	 * size, including every partial tile. */
	struct xr_ledger *l = open_ledger(true, false, 1000000);
	struct xr_err err = {0};
	struct xr_merkle_frontier f = {0};
	struct xr_buf rec;
	struct xr_ledger_batch *b = xr_ledger_batch_new();
	xr_buf_init(&rec, 1 << 20);
	for (uint64_t s = 1; s <= 300; s++) {
		fx_envelope_record(&rec, "node1", NULL, s, NULL, 0);
		uint8_t leaf[32], want[32], got[32];
		xr_merkle_leaf_hash(rec.data, rec.len, leaf);
		xr_merkle_frontier_push(&f, leaf, NULL, NULL);
		ck_assert_int_eq(xr_ledger_batch_add(b, rec.data, rec.len, NULL, 0, &err), 0);
		append_ok(l, b);
		xr_merkle_frontier_root(&f, want);
		ck_assert_int_eq(xr_ledger_root(l, s, got, &err), 0);
		ck_assert_mem_eq(want, got, 32);
	}
	xr_buf_fini(&rec);
	xr_ledger_batch_free(b);
	xr_ledger_free(l);
}
END_TEST

START_TEST(refusals_leave_no_trace)
{
	struct xr_ledger *l = open_ledger(true, false, 1000);
	genesis(l);
	add_envelopes(l, 1, 10, 10);
	struct xr_err err = {0};
	uint8_t root0[32], root1[32];
	uint64_t size0 = xr_ledger_size(l);
	ck_assert_int_eq(xr_ledger_root(l, size0, root0, &err), 0);

	struct xr_ledger_batch *b = xr_ledger_batch_new();
	struct xr_buf rec, ok;
	xr_buf_init(&rec, 1 << 20);
	xr_buf_init(&ok, 1 << 20);
	fx_envelope_record(&ok, "node1", NULL, 500, NULL, 0);
	struct {
		const char *name, *expect;
	} cases[] = {
	    {"unsigned by a non-committee author", "not a committee member"},
	    {"signed by a stranger", "not an enrolled member"},
	    {"signed with the wrong key", "signature"},
	    {"evidence that does not match", "evidence"},
	    {"duplicate within the batch", "twice in the batch"},
	    {"duplicate of a stored envelope", "already on the ledger"},
	    {"membership change by a dapp", "not an admin"},
	    {"garbage bytes", "record"},
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		xr_ledger_batch_clear(b);
		xr_err_clear(&err);
		/* A good record first: the whole batch must be refused with it. */
		ck_assert_int_eq(xr_ledger_batch_add(b, ok.data, ok.len, NULL, 0, &err), 0);
		switch (c) {
		case 0:
			fx_envelope_record(&rec, "dapp1", NULL, 600, NULL, 0);
			break;
		case 1:
			fx_envelope_record(&rec, "mallory", dapp_seed, 600, NULL, 0);
			break;
		case 2:
			fx_envelope_record(&rec, "dapp1", admin_seed, 600, NULL, 0);
			break;
		case 3:
			fx_envelope_record(&rec, "node1", NULL, 600, (const uint8_t *)"abc", 3);
			break;
		case 4:
			fx_envelope_record(&rec, "node1", NULL, 500, NULL, 0);
			break;
		case 5:
			fx_envelope_record(&rec, "node1", NULL, 3, NULL, 0);
			break;
		case 6:
			fx_member_record(&rec, "dapp1", dapp_seed, XR_MEMBER_ENROL, "eve",
					 XR_ROLE_ALL, dapp_pub);
			break;
		case 7:
			xr_buf_reset(&rec);
			xr_buf_put(&rec, "\x01\x01garbage", 9);
			break;
		}
		const uint8_t *ev = c == 3 ? (const uint8_t *)"abd" : NULL;
		ck_assert_int_eq(xr_ledger_batch_add(b, rec.data, rec.len, ev, ev ? 3 : 0, &err),
				 0);
		int rc = xr_ledger_append(l, b, NULL, &err);
		ck_assert_msg(rc < 0, "case '%s' was accepted", cases[c].name);
		ck_assert_msg(strstr(err.msg, cases[c].expect), "case '%s': message '%s'",
			      cases[c].name, err.msg);
		ck_assert_uint_eq(xr_ledger_size(l), size0);
		ck_assert_int_eq(xr_ledger_root(l, size0, root1, &err), 0);
		ck_assert_mem_eq(root0, root1, 32);
	}
	/* A signed record by an enrolled dapp is fine; after revocation it is not. */
	xr_ledger_batch_clear(b);
	fx_envelope_record(&rec, "dapp1", dapp_seed, 700, NULL, 0);
	ck_assert_int_eq(xr_ledger_batch_add(b, rec.data, rec.len, NULL, 0, &err), 0);
	append_ok(l, b);
	fx_member_record(&rec, "admin", admin_seed, XR_MEMBER_REVOKE, "dapp1", XR_ROLE_DAPP,
			 dapp_pub);
	ck_assert_int_eq(xr_ledger_batch_add(b, rec.data, rec.len, NULL, 0, &err), 0);
	append_ok(l, b);
	fx_envelope_record(&rec, "dapp1", dapp_seed, 701, NULL, 0);
	ck_assert_int_eq(xr_ledger_batch_add(b, rec.data, rec.len, NULL, 0, &err), 0);
	xr_err_clear(&err);
	ck_assert_int_lt(xr_ledger_append(l, b, NULL, &err), 0);
	ck_assert_msg(strstr(err.msg, "not an enrolled member"), "%s", err.msg);
	xr_ledger_batch_clear(b);
	add_envelopes(l, 800, 5, 5);
	ck_assert_int_eq(xr_ledger_checkpoint(l, &err), 0);
	audit_ok(l);
	xr_buf_fini(&rec);
	xr_buf_fini(&ok);
	xr_ledger_batch_free(b);
	xr_ledger_free(l);
}
END_TEST

START_TEST(evidence_and_cursors)
{
	struct xr_ledger *l = open_ledger(true, false, 1000);
	struct xr_err err = {0};
	struct xr_ledger_batch *b = xr_ledger_batch_new();
	struct xr_buf rec, got;
	xr_buf_init(&rec, 1 << 20);
	xr_buf_init(&got, 1 << 20);
	fx_envelope_record(&rec, "node1", NULL, 1, (const uint8_t *)"evidence!", 9);
	ck_assert_int_eq(
	    xr_ledger_batch_add(b, rec.data, rec.len, (const uint8_t *)"evidence!", 9, &err), 0);
	ck_assert_int_eq(xr_ledger_batch_cursor(b, "eip155:31337", "\x00\x07", 2, &err), 0);
	append_ok(l, b);
	ck_assert_int_eq(xr_ledger_evidence(l, 0, &got, &err), 0);
	ck_assert_uint_eq(got.len, 9);
	ck_assert_mem_eq(got.data, "evidence!", 9);
	xr_buf_reset(&got);
	ck_assert_int_eq(xr_ledger_cursor(l, "eip155:31337", &got, &err), 0);
	ck_assert_uint_eq(got.len, 2);
	ck_assert_int_eq(got.data[1], 7);
	ck_assert_int_eq(xr_ledger_cursor(l, "eip155:1", &got, &err), XR_ENOTFOUND);

	/* Find by envelope id, and the bundle of it. */
	struct xr_record r;
	const uint8_t *env, *dig;
	size_t env_len;
	uint8_t id[32];
	uint64_t idx;
	ck_assert_int_eq(xr_record_decode(rec.data, rec.len, &r, &err), 0);
	ck_assert_int_eq(xr_envelope_body_decode(r.body, r.body_len, &env, &env_len, &dig, &err),
			 0);
	xr_envelope_id(env, env_len, id);
	ck_assert_int_eq(xr_ledger_find_envelope(l, id, &idx, &err), 0);
	ck_assert_uint_eq(idx, 0);
	id[0] ^= 1;
	ck_assert_int_eq(xr_ledger_find_envelope(l, id, &idx, &err), XR_ENOTFOUND);
	json_t *bundle = NULL;
	xr_err_clear(&err);
	ck_assert_int_eq(xr_bundle_build(l, 0, NULL, &bundle, &err), XR_ENOTFOUND); /* no block */
	xr_err_clear(&err);
	ck_assert_int_eq(xr_ledger_checkpoint(l, &err), 0);
	audit_ok(l);
	xr_buf_fini(&rec);
	xr_buf_fini(&got);
	xr_ledger_batch_free(b);
	xr_ledger_free(l);
}
END_TEST

START_TEST(source_keys_and_equivocation)
{
	struct xr_ledger *l = open_ledger(true, false, 1000);
	struct xr_err err = {0};
	struct xr_ledger_batch *b = xr_ledger_batch_new();
	struct xr_buf rec;
	struct xr_envelope e;
	uint8_t id[32];
	uint64_t seq;
	xr_buf_init(&rec, 1 << 20);
	add_envelopes(l, 1, 5, 5);

	/* Lookups by either source key find the committed envelope. */
	fx_envelope(&e, 3);
	ck_assert_int_eq(xr_ledger_find_source(l, &e, id, &err), 0);
	e.sequence = 99; /* same tx and log index */
	ck_assert_int_eq(xr_ledger_find_source(l, &e, id, &err), 0);
	fx_envelope(&e, 3);
	xr_put_be64(e.src_tx, 12345); /* same emitter and sequence */
	ck_assert_int_eq(xr_ledger_find_source(l, &e, id, &err), 0);
	fx_envelope(&e, 6);
	ck_assert_int_eq(xr_ledger_find_source(l, &e, id, &err), XR_ENOTFOUND);
	ck_assert_int_eq(xr_ledger_emitter_sequence(l, &e, &seq, &err), 0);
	ck_assert_uint_eq(seq, 5);
	e.emitter[0] ^= 1;
	ck_assert_int_eq(xr_ledger_emitter_sequence(l, &e, &seq, &err), 0);
	ck_assert_uint_eq(seq, 0);

	/* Other bytes on a taken key: refused as an equivocation naming both. */
	struct {
		const char *name, *expect;
		int batch; /* 1: the conflict is inside one batch */
	} cases[] = {
	    {"same emitter and sequence, other amount", "emitter 0xeeee", 0},
	    {"same tx and log index, other sequence", "log index 0", 0},
	    {"two of one sequence in a batch", "the batch's envelope", 1},
	};
	for (size_t c = 0; c < 3; c++) {
		xr_ledger_batch_clear(b);
		xr_err_clear(&err);
		fx_envelope(&e, c == 2 ? 50 : 2);
		if (c == 0)
			e.amount[31] = 2;
		if (c == 1)
			e.sequence = 77;
		if (cases[c].batch) {
			fx_record_of(&rec, "node1", NULL, &e, NULL, 0);
			ck_assert_int_eq(xr_ledger_batch_add(b, rec.data, rec.len, NULL, 0, &err),
					 0);
			e.amount[31] = 9;
		}
		fx_record_of(&rec, "node1", NULL, &e, NULL, 0);
		ck_assert_int_eq(xr_ledger_batch_add(b, rec.data, rec.len, NULL, 0, &err), 0);
		int rc = xr_ledger_append(l, b, NULL, &err);
		ck_assert_msg(rc == XR_ECONFLICT, "%s: rc %d (%s)", cases[c].name, rc, err.msg);
		ck_assert_msg(strstr(err.msg, "equivocation on chain eip155:31337"), "%s", err.msg);
		ck_assert_msg(strstr(err.msg, cases[c].expect), "%s: %s", cases[c].name, err.msg);
		ck_assert_uint_eq(xr_ledger_size(l), 5);
	}
	/* The emitter's highest sequence only goes up. */
	xr_ledger_batch_clear(b);
	fx_envelope(&e, 9);
	fx_record_of(&rec, "node1", NULL, &e, NULL, 0);
	ck_assert_int_eq(xr_ledger_batch_add(b, rec.data, rec.len, NULL, 0, &err), 0);
	fx_envelope(&e, 7);
	fx_record_of(&rec, "node1", NULL, &e, NULL, 0);
	ck_assert_int_eq(xr_ledger_batch_add(b, rec.data, rec.len, NULL, 0, &err), 0);
	append_ok(l, b);
	ck_assert_int_eq(xr_ledger_emitter_sequence(l, &e, &seq, &err), 0);
	ck_assert_uint_eq(seq, 9);
	xr_ledger_free(l);
	l = open_ledger(false, true, 0);
	ck_assert_int_eq(xr_ledger_emitter_sequence(l, &e, &seq, &err), 0);
	ck_assert_uint_eq(seq, 9);
	xr_buf_fini(&rec);
	xr_ledger_batch_free(b);
	xr_ledger_free(l);
}
END_TEST

START_TEST(reader_beside_writer)
{
	struct xr_ledger *w = open_ledger(true, false, 50);
	add_envelopes(w, 1, 120, 10);
	struct xr_ledger *r = open_ledger(false, true, 0);
	ck_assert_uint_eq(xr_ledger_size(r), 120);
	ck_assert_uint_eq(xr_ledger_blocks(r), 2);
	audit_ok(r);
	struct xr_err err = {0};
	struct xr_ledger_batch *b = xr_ledger_batch_new();
	ck_assert_int_eq(xr_ledger_append(r, b, NULL, &err), XR_ESTATE);
	xr_ledger_batch_free(b);
	xr_ledger_free(r);
	xr_ledger_free(w);
}
END_TEST

/* Overwrites one stored value behind the ledger's back. */
static void tamper(const char *cf, const void *k, size_t kl, const void *v, size_t vl)
{
	const char *names[] = {"default",      "records",    "tiles",	"blocks", "evidence",
			       "idx_envelope", "idx_source", "cursors", "members"};
	rocksdb_options_t *o = rocksdb_options_create();
	const rocksdb_options_t *cfo[9];
	rocksdb_column_family_handle_t *h[9];
	char *e = NULL;
	for (int i = 0; i < 9; i++)
		cfo[i] = o;
	rocksdb_t *db = rocksdb_open_column_families(o, db_path(), 9, names, cfo, h, &e);
	ck_assert_msg(!e, "%s", e);
	int ci = 0;
	for (int i = 0; i < 9; i++)
		if (strcmp(names[i], cf) == 0)
			ci = i;
	rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
	rocksdb_put_cf(db, wo, h[ci], k, kl, v, vl, &e);
	ck_assert_msg(!e, "%s", e);
	rocksdb_writeoptions_destroy(wo);
	for (int i = 0; i < 9; i++)
		rocksdb_column_family_handle_destroy(h[i]);
	rocksdb_close(db);
	rocksdb_options_destroy(o);
}

START_TEST(audit_finds_tampering)
{
	struct {
		const char *cf, *expect;
	} cases[] = {
	    {"records", "record 40"},
	    {"tiles", "merkle node"},
	    {"blocks", "block 1"},
	    {"evidence", "evidence"},
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		dbn = (int)c + 100;
		struct xr_ledger *l = open_ledger(true, false, 64);
		add_envelopes(l, 1, 200, 25);
		struct xr_err err = {0};
		ck_assert_int_eq(xr_ledger_checkpoint(l, &err), 0);
		struct xr_buf v;
		xr_buf_init(&v, 1 << 20);
		uint8_t k[9];
		if (c == 0) {
			/* A stored record with one byte changed. */
			xr_put_be64(k, 40);
			ck_assert_int_eq(xr_ledger_record(l, 40, &v, &err), 0);
			v.data[v.len - 40] ^= 1;
		} else if (c == 1) {
			k[0] = 0;
			xr_put_be64(k + 1, 5);
			memset(k + 1 + 8, 0, 0);
			xr_buf_put(&v, "0123456789abcdef0123456789abcdef", 32);
			for (int i = 0; i < 15; i++)
				xr_buf_put(&v, "0123456789abcdef0123456789abcdef", 32);
		} else if (c == 2) {
			xr_put_be64(k, 1);
			ck_assert_int_eq(xr_ledger_block(l, 1, &v, NULL, &err), 0);
			char *p = strstr((char *)v.data, "\ntime ");
			ck_assert_ptr_nonnull(p);
			p[7] = p[7] == '1' ? '2' : '1';
		} else {
			xr_put_be64(k, 7);
			xr_buf_put(&v, "forged", 6);
		}
		xr_ledger_free(l);
		tamper(cases[c].cf, k, c == 1 ? 9 : 8, v.data, v.len);
		l = open_ledger(false, true, 0);
		struct xr_audit_report rep;
		xr_err_clear(&err);
		int rc = xr_ledger_audit(l, &node.key, 1, 1, NULL, NULL, &rep, &err);
		ck_assert_msg(rc == XR_EVERIFY || rc == XR_EINVAL, "case %s: rc %d (%s)",
			      cases[c].cf, rc, err.msg);
		ck_assert_msg(strstr(err.msg, cases[c].expect), "case %s: '%s'", cases[c].cf,
			      err.msg);
		xr_ledger_free(l);
		xr_buf_fini(&v);
	}
}
END_TEST

/* The crash test's writer, run as a fresh process (RocksDB's background
 * threads do not survive a bare fork): appends batches of 50 records with a
 * cursor holding the number of records, until it is killed. */
static int append_child(const char *path, const char *seed_hex, int ack_fd)
{
	struct xr_err err = {0};
	struct xr_signer s;
	uint8_t seed[32];
	if (xr_hex_decode_exact(seed_hex, seed, 32, &err) < 0 ||
	    xr_signer_init(&s, "node1", seed, &err) < 0)
		return 3;
	struct xr_ledger_opts o = {.path = path,
				   .origin = "test/xrelay",
				   .signers = &s,
				   .nsigners = 1,
				   .checkpoint_every = 120,
				   .checkpoint_ms = 5};
	struct xr_ledger *cl;
	if (xr_ledger_open(&o, &cl, &err) < 0)
		return 4;
	struct xr_ledger_batch *b = xr_ledger_batch_new();
	struct xr_buf rec;
	xr_buf_init(&rec, 1 << 20);
	uint64_t next = xr_ledger_size(cl);
	for (;;) {
		for (int i = 0; i < 50; i++) {
			fx_envelope_record(&rec, "node1", NULL, ++next, NULL, 0);
			xr_ledger_batch_add(b, rec.data, rec.len, NULL, 0, &err);
		}
		uint8_t cur[8];
		xr_put_be64(cur, next);
		xr_ledger_batch_cursor(b, "eip155:31337", cur, 8, &err);
		if (xr_ledger_append(cl, b, NULL, &err) < 0) {
			fprintf(stderr, "append_child: %s\n", err.msg);
			return 5;
		}
		/* Acknowledge: from here on this batch must survive a crash. */
		if (write(ack_fd, "a", 1) != 1)
			return 6;
		xr_ledger_batch_clear(b);
	}
}

/* The parent kills the writer at a random moment. After each restart the
 * ledger audits clean, the cursor matches the size exactly (records and
 * cursor were one batch), and appending goes on without duplicates. */
START_TEST(kill_mid_append)
{
	struct xr_ledger *l = open_ledger(true, false, 120);
	xr_ledger_free(l);
	char seed_hex[65];
	xr_hex_encode(node_seed, 32, seed_hex);
	srand((unsigned)time(NULL));
	uint64_t total = 0;
	for (int round = 0; round < 12; round++) {
		int fds[2];
		ck_assert_int_eq(pipe(fds), 0);
		pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			char fd_s[16];
			close(fds[0]);
			snprintf(fd_s, sizeof(fd_s), "%d", fds[1]);
			execl("/proc/self/exe", "test_ledger", "--append-child", db_path(),
			      seed_hex, fd_s, (char *)NULL);
			_exit(127);
		}
		close(fds[1]);
		/* Kill after 1..4 acknowledged batches and a random delay, so the kill
		 * lands anywhere in the append path. */
		int acks = 0, want = 1 + rand() % 4;
		char c;
		while (acks < want && read(fds[0], &c, 1) == 1)
			acks++;
		ck_assert_int_eq(acks, want);
		struct timespec d = {0, (long)(rand() % 40) * 1000000L};
		nanosleep(&d, NULL);
		kill(pid, SIGKILL);
		int st;
		waitpid(pid, &st, 0);
		while (read(fds[0], &c, 1) == 1)
			acks++;
		close(fds[0]);
		ck_assert_msg(WIFSIGNALED(st), "child exited early with %d", WEXITSTATUS(st));

		l = open_ledger(false, false, 120);
		uint64_t size = xr_ledger_size(l);
		/* Nothing acknowledged is lost; nothing half-written is visible. */
		ck_assert_uint_ge(size, total + 50u * (unsigned)acks);
		ck_assert_uint_eq(size % 50, 0);
		struct xr_err err = {0};
		struct xr_buf cur;
		xr_buf_init(&cur, 64);
		if (size) {
			ck_assert_int_eq(xr_ledger_cursor(l, "eip155:31337", &cur, &err), 0);
			ck_assert_uint_eq(xr_get_be64(cur.data), size);
		}
		xr_buf_fini(&cur);
		/* Cut a checkpoint over the tail so the audit covers everything. */
		ck_assert_int_eq(xr_ledger_checkpoint(l, &err), 0);
		audit_ok(l);
		total = size;
		xr_ledger_free(l);
	}
	ck_assert_uint_ge(total, 12 * 50);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ledger");
	TCase *t = tcase_create("ledger");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_set_timeout(t, 300);
	tcase_add_test(t, append_reopen_prove);
	tcase_add_test(t, every_size_roots_match_frontier);
	tcase_add_test(t, refusals_leave_no_trace);
	tcase_add_test(t, evidence_and_cursors);
	tcase_add_test(t, source_keys_and_equivocation);
	tcase_add_test(t, reader_beside_writer);
	tcase_add_test(t, audit_finds_tampering);
	tcase_add_test(t, kill_mid_append);
	suite_add_tcase(s, t);
	return s;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "--append-child") == 0)
		return append_child(argv[2], argv[3], (int)strtol(argv[4], NULL, 10));
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
