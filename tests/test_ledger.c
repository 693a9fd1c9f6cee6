/* test_ledger.c - the ledger on a real RocksDB: appends, refusals, proofs
 * across checkpoints, reopen, read-only readers, audit and tampering, and
 * crash safety by SIGKILL of a child in the middle of appending. */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	    {"membership change by a dapp", "may not write MEMBER records"},
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
	/* The 20 records after block 1 are a tail: allowed when asked for. */
	struct xr_audit_opts ao = {.keys = &node.key, .nkeys = 1, .threshold = 1};
	struct xr_audit_report rep;
	struct xr_err aerr = {0};
	ck_assert_int_eq(xr_ledger_audit(r, &node.key, 1, 1, NULL, NULL, &rep, &aerr), XR_EVERIFY);
	ck_assert_msg(strstr(aerr.msg, "records 100..119 (20 after block 1)"), "%s", aerr.msg);
	ck_assert_uint_eq(rep.uncovered, 20);
	ao.allow_tail = 20;
	xr_err_clear(&aerr);
	ck_assert_msg(xr_ledger_audit_ex(r, &ao, &rep, &aerr) == 0, "%s", aerr.msg);
	ck_assert_uint_eq(rep.records, 120);
	ck_assert_uint_eq(rep.envelopes, 120);
	struct xr_err err = {0};
	struct xr_ledger_batch *b = xr_ledger_batch_new();
	ck_assert_int_eq(xr_ledger_append(r, b, NULL, &err), XR_ESTATE);
	xr_ledger_batch_free(b);
	xr_ledger_free(r);
	xr_ledger_free(w);
}
END_TEST

/* Raw access to the ledger's RocksDB, to build the bad ledgers an audit must
 * catch: stored bytes changed behind the ledger's back. */
static const char *const cf_names[] = {"default",    "records",	 "tiles",
				       "blocks",     "evidence", "idx_envelope",
				       "idx_source", "cursors",	 "members"};
#define NCF 9

struct raw {
	rocksdb_t *db;
	rocksdb_options_t *o;
	rocksdb_column_family_handle_t *h[NCF];
	rocksdb_writeoptions_t *wo;
	rocksdb_readoptions_t *ro;
};

static void raw_open(struct raw *r, const char *path)
{
	const rocksdb_options_t *cfo[NCF];
	char *e = NULL;
	r->o = rocksdb_options_create();
	for (int i = 0; i < NCF; i++)
		cfo[i] = r->o;
	r->db = rocksdb_open_column_families(r->o, path, NCF, cf_names, cfo, r->h, &e);
	ck_assert_msg(!e, "%s", e);
	r->wo = rocksdb_writeoptions_create();
	r->ro = rocksdb_readoptions_create();
}

static void raw_close(struct raw *r)
{
	rocksdb_writeoptions_destroy(r->wo);
	rocksdb_readoptions_destroy(r->ro);
	for (int i = 0; i < NCF; i++)
		rocksdb_column_family_handle_destroy(r->h[i]);
	rocksdb_close(r->db);
	rocksdb_options_destroy(r->o);
}

static rocksdb_column_family_handle_t *raw_cf(struct raw *r, const char *cf)
{
	for (int i = 0; i < NCF; i++)
		if (strcmp(cf_names[i], cf) == 0)
			return r->h[i];
	ck_abort_msg("no column family %s", cf);
	return NULL;
}

static void
raw_put(struct raw *r, const char *cf, const void *k, size_t kl, const void *v, size_t vl)
{
	char *e = NULL;
	rocksdb_put_cf(r->db, r->wo, raw_cf(r, cf), k, kl, v, vl, &e);
	ck_assert_msg(!e, "%s", e);
}

/* The value of k (caller frees), or NULL. */
static char *raw_get(struct raw *r, const char *cf, const void *k, size_t kl, size_t *vl)
{
	char *e = NULL;
	char *v = rocksdb_get_cf(r->db, r->ro, raw_cf(r, cf), k, kl, vl, &e);
	ck_assert_msg(!e, "%s", e);
	return v;
}

/* Deletes every entry of a column family. */
static void raw_wipe(struct raw *r, const char *cf)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(r->db, r->ro, raw_cf(r, cf));
	rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
	char *e = NULL;
	for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t kl;
		const char *k = rocksdb_iter_key(it, &kl);
		rocksdb_writebatch_delete_cf(wb, raw_cf(r, cf), k, kl);
	}
	rocksdb_iter_destroy(it);
	rocksdb_write(r->db, r->wo, wb, &e);
	ck_assert_msg(!e, "%s", e);
	rocksdb_writebatch_destroy(wb);
}

/* Overwrites one stored value behind the ledger's back. */
static void tamper(const char *cf, const void *k, size_t kl, const void *v, size_t vl)
{
	struct raw r;
	raw_open(&r, db_path());
	raw_put(&r, cf, k, kl, v, vl);
	raw_close(&r);
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

/* ---- bad ledgers the audit must catch ---------------------------------- */

struct forged_tiles {
	uint8_t (*h[16])[32];
	uint64_t n[16];
};

static void forge_node(void *ctx, unsigned level, uint64_t index, const uint8_t hash[32])
{
	struct forged_tiles *ft = ctx;
	if (level % 4)
		return;
	memcpy(ft->h[level / 4][index], hash, 32);
	if (index + 1 > ft->n[level / 4])
		ft->n[level / 4] = index + 1;
}

/* Rewrites history as a holder of the committee key could: record `index`
 * becomes rec (unless rec is NULL), every Merkle tile is derived again from
 * the records, and every block is signed again over the new roots and hash
 * chain; block `tblock` (unless UINT64_MAX) gets the time t. The ledger at
 * db_path() must be closed. */
static void forge(uint64_t index, const struct xr_buf *rec, uint64_t tblock, uint64_t t)
{
	struct xr_err err = {0};
	struct xr_ledger *l = open_ledger(false, true, 0);
	uint64_t size = xr_ledger_size(l), blocks = xr_ledger_blocks(l);
	struct xr_buf *recs = calloc(size, sizeof(*recs));
	struct xr_checkpoint *cps = calloc(blocks, sizeof(*cps));
	struct xr_buf text, note;
	xr_buf_init(&text, XR_NOTE_MAX_LEN);
	xr_buf_init(&note, XR_NOTE_MAX_LEN);
	for (uint64_t i = 0; i < size; i++) {
		xr_buf_init(&recs[i], XR_RECORD_MAX_LEN);
		ck_assert_int_eq(xr_ledger_record(l, i, &recs[i], &err), 0);
	}
	for (uint64_t b = 0; b < blocks; b++) {
		xr_buf_reset(&note);
		ck_assert_int_eq(xr_ledger_block(l, b, &note, &cps[b], &err), 0);
	}
	xr_ledger_free(l);
	if (rec) {
		xr_buf_reset(&recs[index]);
		xr_buf_put(&recs[index], rec->data, rec->len);
	}

	struct forged_tiles ft = {0};
	for (unsigned L = 0; L < 16; L++)
		ft.h[L] = calloc((size >> (4 * L)) + 1, 32);
	struct xr_merkle_frontier *f = calloc(1, sizeof(*f));
	struct raw r;
	uint8_t prev[32] = {0}, k[9];
	uint64_t b = 0;
	raw_open(&r, db_path());
	for (uint64_t i = 0;; i++) {
		while (b < blocks && cps[b].size == f->size) {
			xr_merkle_frontier_root(f, cps[b].root);
			memcpy(cps[b].prev, prev, 32);
			if (b == tblock)
				cps[b].time_ms = t;
			xr_buf_reset(&text);
			xr_buf_reset(&note);
			ck_assert_int_eq(xr_checkpoint_format(&cps[b], &text, &err), 0);
			xr_sha256(text.data, text.len, prev);
			ck_assert_int_eq(
			    xr_note_sign((const char *)text.data, text.len, &node, 1, &note, &err),
			    0);
			xr_put_be64(k, b);
			raw_put(&r, "blocks", k, 8, note.data, note.len);
			b++;
		}
		if (i == size)
			break;
		uint8_t leaf[32];
		xr_merkle_leaf_hash(recs[i].data, recs[i].len, leaf);
		xr_merkle_frontier_push(f, leaf, forge_node, &ft);
	}
	ck_assert_uint_eq(b, blocks);
	if (rec) {
		xr_put_be64(k, index);
		raw_put(&r, "records", k, 8, rec->data, rec->len);
	}
	for (unsigned L = 0; L < 16; L++) {
		for (uint64_t tt = 0; tt * 16 < ft.n[L]; tt++) {
			uint64_t n = ft.n[L] - tt * 16 < 16 ? ft.n[L] - tt * 16 : 16;
			k[0] = (uint8_t)L;
			xr_put_be64(k + 1, tt);
			raw_put(&r, "tiles", k, 9, ft.h[L][tt * 16], n * 32);
		}
		free(ft.h[L]);
	}
	/* The writer's state: the hash and time of the newest block. */
	size_t vl;
	char *st = raw_get(&r, "default", "state", 5, &vl);
	ck_assert_ptr_nonnull(st);
	memcpy(st + 16, prev, 32);
	if (blocks)
		xr_put_be64((uint8_t *)st + 48, cps[blocks - 1].time_ms);
	raw_put(&r, "default", "state", 5, st, vl);
	free(st);
	raw_close(&r);
	for (uint64_t i = 0; i < size; i++)
		xr_buf_fini(&recs[i]);
	free(recs);
	free(cps);
	free(f);
	xr_buf_fini(&text);
	xr_buf_fini(&note);
}

/* Fails the test unless the audit of the closed ledger at db_path() fails
 * with a message holding `expect`; returns the report. */
static struct xr_audit_report audit_fails(const char *what, const char *expect)
{
	struct xr_err err = {0};
	struct xr_audit_report rep;
	struct xr_ledger *l = open_ledger(false, true, 0);
	int rc = xr_ledger_audit(l, &node.key, 1, 1, NULL, NULL, &rep, &err);
	ck_assert_msg(rc < 0, "%s: the audit passed", what);
	ck_assert_msg(strstr(err.msg, expect), "%s: message '%s' lacks '%s'", what, err.msg,
		      expect);
	xr_ledger_free(l);
	return rep;
}

static void envelope_id_of(const struct xr_buf *rec, uint8_t id[32], char hex[65])
{
	struct xr_err err = {0};
	struct xr_record r;
	const uint8_t *env, *dig;
	size_t env_len;
	ck_assert_int_eq(xr_record_decode(rec->data, rec->len, &r, &err), 0);
	ck_assert_int_eq(xr_envelope_body_decode(r.body, r.body_len, &env, &env_len, &dig, &err),
			 0);
	xr_envelope_id(env, env_len, id);
	xr_hex_encode(id, 32, hex);
}

/* Hole 1 of issue 7, as the issue reproduced it: with both index column
 * families wiped, the same envelope again and a conflicting one are
 * appended and signed into checkpoints. The audit re-derives uniqueness from
 * the records alone and names the duplicate. */
START_TEST(audit_rederives_uniqueness)
{
	for (int c = 0; c < 2; c++) {
		dbn = 200 + c;
		struct xr_err err = {0};
		struct xr_ledger *l = open_ledger(true, false, 1000);
		add_envelopes(l, 1, 20, 20); /* sequence s at index s - 1 */
		ck_assert_int_eq(xr_ledger_checkpoint(l, &err), 0);
		xr_ledger_free(l);
		struct raw r;
		raw_open(&r, db_path());
		raw_wipe(&r, "idx_envelope");
		raw_wipe(&r, "idx_source");
		raw_close(&r);

		l = open_ledger(false, false, 1000);
		struct xr_ledger_batch *b = xr_ledger_batch_new();
		struct xr_buf rec;
		struct xr_envelope e;
		uint8_t id[32];
		char hex[65];
		xr_buf_init(&rec, 1 << 20);
		if (c == 0) {
			fx_envelope_record(&rec, "node1", NULL, 3, NULL, 0); /* record 2 again */
			envelope_id_of(&rec, id, hex);
			ck_assert_int_eq(xr_ledger_batch_add(b, rec.data, rec.len, NULL, 0, &err),
					 0);
		}
		fx_envelope(&e, 5); /* record 4's keys, another amount */
		e.amount[31] = 7;
		fx_record_of(&rec, "node1", NULL, &e, NULL, 0);
		ck_assert_int_eq(xr_ledger_batch_add(b, rec.data, rec.len, NULL, 0, &err), 0);
		append_ok(l, b);
		ck_assert_int_eq(xr_ledger_checkpoint(l, &err), 0);
		xr_ledger_free(l);
		xr_ledger_batch_free(b);
		xr_buf_fini(&rec);

		if (c == 0) {
			char want[128];
			snprintf(want, sizeof(want), "envelope 0x%s is on the ledger twice", hex);
			struct xr_audit_report rep = audit_fails("same envelope twice", want);
			audit_fails("same envelope twice", "records 2 and 20");
			ck_assert_uint_eq(rep.bad_index, 20);
		} else {
			audit_fails("conflicting envelope", "equivocation on chain eip155:31337");
			audit_fails("conflicting envelope", "records 4 and 20");
		}
	}
}
END_TEST

/* The indices must agree with the records both ways: every envelope record
 * indexed under its keys, and no entry that points at a record without that
 * key. xr_ledger_find_envelope checks the record it returns. */
START_TEST(audit_checks_indices)
{
	static const char *const expect[] = {
	    "envelope index lacks",	  /* 0: both indices wiped */
	    "envelope index maps",	  /* 1: a stray id */
	    "envelope index maps",	  /* 2: an id pointed at another record */
	    "highest sequence",		  /* 3: an emitter's highest sequence changed */
	    "source index",		  /* 4: a source key pointed at another id */
	    "source index holds key",	  /* 5: a stray source key */
	    "envelope index holds a key", /* 6: a key of the wrong length */
	};
	for (size_t c = 0; c < sizeof(expect) / sizeof(expect[0]); c++) {
		dbn = 300 + (int)c;
		struct xr_err err = {0};
		struct xr_ledger *l = open_ledger(true, false, 1000);
		add_envelopes(l, 1, 20, 20);
		ck_assert_int_eq(xr_ledger_checkpoint(l, &err), 0);
		struct xr_buf rec;
		uint8_t id3[32], k[32], v[32];
		char hex[65];
		uint64_t idx;
		xr_buf_init(&rec, 1 << 20);
		fx_envelope_record(&rec, "node1", NULL, 3, NULL, 0);
		envelope_id_of(&rec, id3, hex);
		ck_assert_int_eq(xr_ledger_find_envelope(l, id3, &idx, &err), 0);
		ck_assert_uint_eq(idx, 2);
		xr_ledger_free(l);
		xr_buf_fini(&rec);

		struct raw r;
		raw_open(&r, db_path());
		memset(k, 0x5a, 32);
		memset(v, 0xa5, 32);
		uint8_t be[8];
		switch (c) {
		case 0:
			raw_wipe(&r, "idx_envelope");
			raw_wipe(&r, "idx_source");
			break;
		case 1:
			xr_put_be64(be, 3);
			raw_put(&r, "idx_envelope", k, 32, be, 8);
			break;
		case 2:
			xr_put_be64(be, 4);
			raw_put(&r, "idx_envelope", id3, 32, be, 8);
			break;
		case 3:
		case 4: {
			/* The first entry of the kind: 8-byte values are emitters'
			 * highest sequences, 32-byte ones envelope ids. */
			rocksdb_iterator_t *it =
			    rocksdb_create_iterator_cf(r.db, r.ro, raw_cf(&r, "idx_source"));
			bool done = false;
			for (rocksdb_iter_seek_to_first(it); !done && rocksdb_iter_valid(it);
			     rocksdb_iter_next(it)) {
				size_t kl, vl;
				const char *ik = rocksdb_iter_key(it, &kl);
				rocksdb_iter_value(it, &vl);
				if (vl != (c == 3 ? 8u : 32u))
					continue;
				memcpy(k, ik, 32);
				done = true;
			}
			rocksdb_iter_destroy(it);
			ck_assert(done);
			xr_put_be64(be, 99);
			raw_put(&r, "idx_source", k, 32, c == 3 ? (const void *)be : v,
				c == 3 ? 8 : 32);
			break;
		}
		case 5:
			raw_put(&r, "idx_source", k, 32, v, 32);
			break;
		case 6:
			xr_put_be64(be, 3);
			raw_put(&r, "idx_envelope", k, 31, be, 8);
			break;
		}
		raw_close(&r);
		audit_fails(expect[c], expect[c]);
		if (c == 2) {
			/* A lookup through the corrupt entry is an error, not record 4. */
			l = open_ledger(false, true, 0);
			xr_err_clear(&err);
			int rc = xr_ledger_find_envelope(l, id3, &idx, &err);
			ck_assert_msg(rc == XR_EVERIFY, "find_envelope: rc %d index %llu (%s)", rc,
				      (unsigned long long)idx, err.msg);
			ck_assert_msg(strstr(err.msg, "record 4"), "%s", err.msg);
			xr_ledger_free(l);
		}
	}
}
END_TEST

/* Hole 2: records after the newest checkpoint carry no signature. */
START_TEST(audit_uncovered_tail)
{
	struct xr_err err = {0};
	struct xr_ledger *l = open_ledger(true, false, 10);
	add_envelopes(l, 1, 25, 5); /* blocks at 10 and 20, 5 records after */
	ck_assert_uint_eq(xr_ledger_blocks(l), 2);
	xr_ledger_free(l);
	audit_fails("a tail", "records 20..24 (5 after block 1) are covered by no checkpoint");
	/* A tail record rewritten on disk, tiles and all: nothing signed covers it. */
	struct xr_buf rec;
	struct xr_record r;
	xr_buf_init(&rec, 1 << 20);
	l = open_ledger(false, true, 0);
	ck_assert_int_eq(xr_ledger_record(l, 22, &rec, &err), 0);
	xr_ledger_free(l);
	ck_assert_int_eq(xr_record_decode(rec.data, rec.len, &r, &err), 0);
	struct xr_buf body;
	xr_buf_init(&body, 1 << 20);
	xr_buf_put(&body, r.body, r.body_len);
	r.body = body.data;
	r.time_ms += 1000;
	xr_buf_reset(&rec);
	ck_assert_int_eq(xr_record_encode(&r, NULL, &rec, &err), 0);
	forge(22, &rec, UINT64_MAX, 0);
	audit_fails("a rewritten tail", "covered by no checkpoint");
	xr_buf_fini(&rec);
	xr_buf_fini(&body);
}
END_TEST

static int audit_against(const struct xr_buf *kept, struct xr_audit_report *rep, struct xr_err *err)
{
	struct xr_ledger *l = open_ledger(false, true, 0);
	struct xr_audit_opts o = {.keys = &node.key,
				  .nkeys = 1,
				  .threshold = 1,
				  .against = (const char *)kept->data,
				  .against_len = kept->len};
	int rc = xr_ledger_audit_ex(l, &o, rep, err);
	xr_ledger_free(l);
	return rc;
}

/* Hole 2: a checkpoint an auditor kept holds the ledger to its history. */
START_TEST(audit_against_kept)
{
	struct xr_err err = {0};
	struct xr_audit_report rep;
	struct xr_buf kept1, kept2;
	char cmd[1024], base[256];
	xr_buf_init(&kept1, XR_NOTE_MAX_LEN);
	xr_buf_init(&kept2, XR_NOTE_MAX_LEN);
	dbn = 600;
	struct xr_ledger *l = open_ledger(true, false, 10);
	add_envelopes(l, 1, 20, 5); /* blocks 0 (10) and 1 (20) */
	xr_ledger_free(l);
	snprintf(base, sizeof(base), "%s", db_path());
	dbn = 601; /* a copy as it was at block 1 */
	snprintf(cmd, sizeof(cmd), "cp -a %s %s", base, db_path());
	ck_assert_int_eq(system(cmd), 0);
	dbn = 600;
	l = open_ledger(false, false, 10);
	add_envelopes(l, 21, 5, 5);
	ck_assert_int_eq(xr_ledger_checkpoint(l, &err), 0); /* block 2 (25) */
	ck_assert_int_eq(xr_ledger_block(l, 1, &kept1, NULL, &err), 0);
	ck_assert_int_eq(xr_ledger_block(l, 2, &kept2, NULL, &err), 0);
	xr_ledger_free(l);

	ck_assert_msg(audit_against(&kept1, &rep, &err) == 0, "%s", err.msg);
	ck_assert(rep.against);
	ck_assert_uint_eq(rep.against_block, 1);
	ck_assert_uint_eq(rep.against_size, 20);
	ck_assert_msg(audit_against(&kept2, &rep, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(rep.against_size, 25);

	/* Truncated: the copy at block 1 does not extend block 2. */
	dbn = 601;
	ck_assert_int_lt(audit_against(&kept2, &rep, &err), 0);
	ck_assert_msg(strstr(err.msg, "the ledger was truncated"), "%s", err.msg);
	xr_err_clear(&err);
	ck_assert_msg(audit_against(&kept1, &rep, &err) == 0, "%s", err.msg);

	/* Rewritten below it, every block signed again by the committee key: a
	 * plain audit cannot tell, the kept checkpoint can. */
	dbn = 602;
	snprintf(cmd, sizeof(cmd), "cp -a %s %s", base, db_path());
	ck_assert_int_eq(system(cmd), 0);
	struct xr_buf rec;
	struct xr_record r;
	xr_buf_init(&rec, 1 << 20);
	l = open_ledger(false, true, 0);
	ck_assert_int_eq(xr_ledger_record(l, 3, &rec, &err), 0);
	xr_ledger_free(l);
	ck_assert_int_eq(xr_record_decode(rec.data, rec.len, &r, &err), 0);
	struct xr_buf body;
	xr_buf_init(&body, 1 << 20);
	xr_buf_put(&body, r.body, r.body_len);
	r.body = body.data;
	r.time_ms += 1;
	xr_buf_reset(&rec);
	ck_assert_int_eq(xr_record_encode(&r, NULL, &rec, &err), 0);
	forge(3, &rec, UINT64_MAX, 0);
	l = open_ledger(false, true, 0);
	audit_ok(l);
	xr_ledger_free(l);
	xr_err_clear(&err);
	ck_assert_int_lt(audit_against(&kept1, &rep, &err), 0);
	ck_assert_msg(strstr(err.msg, "does not extend the kept checkpoint (block 1, size 20)"),
		      "%s", err.msg);

	/* A kept checkpoint whose signature does not verify is refused. */
	dbn = 600;
	kept1.data[kept1.len - 10] ^= 1;
	xr_err_clear(&err);
	ck_assert_int_lt(audit_against(&kept1, &rep, &err), 0);
	ck_assert_msg(strstr(err.msg, "the kept checkpoint"), "%s", err.msg);
	xr_buf_fini(&rec);
	xr_buf_fini(&body);
	xr_buf_fini(&kept1);
	xr_buf_fini(&kept2);
}
END_TEST

/* The uniqueness check in little memory: sorted runs spilled to a scratch
 * file and merged, and more emitters than the emitter cache holds. */
START_TEST(audit_sorts_in_runs)
{
	struct xr_err err = {0};
	struct xr_ledger *l = open_ledger(true, false, 500);
	struct xr_ledger_batch *b = xr_ledger_batch_new();
	struct xr_buf rec;
	struct xr_envelope e;
	xr_buf_init(&rec, 1 << 20);
	for (uint64_t s = 1; s <= 3000; s++) {
		fx_envelope(&e, s);
		xr_put_be32(e.emitter, (uint32_t)(s % 1500)); /* 1500 emitters, two each */
		fx_record_of(&rec, "node1", NULL, &e, NULL, 0);
		ck_assert_int_eq(xr_ledger_batch_add(b, rec.data, rec.len, NULL, 0, &err), 0);
		if (xr_ledger_batch_count(b) == 250)
			append_ok(l, b);
	}
	ck_assert_int_eq(xr_ledger_checkpoint(l, &err), 0);
	xr_ledger_free(l);
	char scratch[300];
	snprintf(scratch, sizeof(scratch), "%s/scratch", root);
	ck_assert_int_eq(mkdir(scratch, 0700), 0);
	struct xr_audit_opts o = {.keys = &node.key,
				  .nkeys = 1,
				  .threshold = 1,
				  .scratch_dir = scratch,
				  .sort_mem = 64 << 10};
	struct xr_audit_report rep;
	l = open_ledger(false, true, 0);
	ck_assert_msg(xr_ledger_audit_ex(l, &o, &rep, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(rep.envelopes, 3000);
	ck_assert_uint_eq(rep.duplicates, 0);
	xr_ledger_free(l);

	/* With the indices wiped, record 1234 again: found through the merge. */
	struct raw r;
	raw_open(&r, db_path());
	raw_wipe(&r, "idx_envelope");
	raw_wipe(&r, "idx_source");
	raw_close(&r);
	l = open_ledger(false, false, 500);
	fx_envelope(&e, 1235);
	xr_put_be32(e.emitter, 1235);
	fx_record_of(&rec, "node1", NULL, &e, NULL, 0);
	ck_assert_int_eq(xr_ledger_batch_add(b, rec.data, rec.len, NULL, 0, &err), 0);
	append_ok(l, b);
	ck_assert_int_eq(xr_ledger_checkpoint(l, &err), 0);
	xr_ledger_free(l);
	l = open_ledger(false, true, 0);
	xr_err_clear(&err);
	ck_assert_int_eq(xr_ledger_audit_ex(l, &o, &rep, &err), XR_EVERIFY);
	ck_assert_msg(strstr(err.msg, "is on the ledger twice: records 1234 and 3000"), "%s",
		      err.msg);
	ck_assert_uint_eq(rep.bad_index, 3000);
	ck_assert_uint_gt(rep.index_errors, 2999);
	xr_ledger_free(l);
	xr_buf_fini(&rec);
	xr_ledger_batch_free(b);
}
END_TEST

/* Hole 3: sizes are bounded where they enter (xr_ledger_batch_add) and where
 * the audit reads them back from a hostile ledger. */
START_TEST(hostile_sizes)
{
	struct xr_err err = {0};
	struct xr_ledger_batch *b = xr_ledger_batch_new();
	struct xr_buf rec;
	size_t cap = (size_t)16 << 20;
	uint8_t *big = calloc(1, XR_RECORD_MAX_LEN + cap + 1);
	xr_buf_init(&rec, 1 << 20);
	fx_envelope_record(&rec, "node1", NULL, 1, big, cap + 1);
	ck_assert_int_eq(xr_ledger_batch_add(b, rec.data, rec.len, big, cap + 1, &err), XR_ETOOBIG);
	ck_assert_msg(strstr(err.msg, "evidence of 16777217 bytes"), "%s", err.msg);
	xr_err_clear(&err);
	ck_assert_int_eq(xr_ledger_batch_add(b, big, XR_RECORD_MAX_LEN + 1, NULL, 0, &err),
			 XR_ETOOBIG);
	ck_assert_msg(strstr(err.msg, "record of"), "%s", err.msg);
	ck_assert_uint_eq(xr_ledger_batch_count(b), 0);
	fx_envelope_record(&rec, "node1", NULL, 1, big, cap);
	ck_assert_int_eq(xr_ledger_batch_add(b, rec.data, rec.len, big, cap, &err), 0);
	xr_ledger_batch_free(b);

	/* Stored directly: a record and evidence beyond their caps. */
	for (int c = 0; c < 2; c++) {
		dbn = 400 + c;
		struct xr_ledger *l = open_ledger(true, false, 1000);
		add_envelopes(l, 1, 10, 10);
		ck_assert_int_eq(xr_ledger_checkpoint(l, &err), 0);
		xr_ledger_free(l);
		uint8_t k[8];
		xr_put_be64(k, c == 0 ? 5 : 7);
		tamper(c == 0 ? "records" : "evidence", k, 8, big, c == 0 ? 2u << 20 : cap + 1);
		if (c == 0)
			audit_fails("a huge record", "record 5 is 2097152 bytes");
		else
			audit_fails("huge evidence", "the evidence of record 7 is 16777217 bytes");
	}
	free(big);
	xr_buf_fini(&rec);
}
END_TEST

#if defined(__SANITIZE_ADDRESS__)
#define XR_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XR_ASAN 1
#endif
#endif

/* The audit child: audits the ledger at path; exit 0 when it failed cleanly
 * for want of memory, 10 when it passed, 11 on another failure. */
static int audit_child(const char *path, const char *seed_hex)
{
	struct xr_err err = {0};
	struct xr_signer s;
	uint8_t seed[32];
	if (xr_hex_decode_exact(seed_hex, seed, 32, &err) < 0 ||
	    xr_signer_init(&s, "node1", seed, &err) < 0)
		return 3;
	struct xr_ledger_opts o = {.path = path, .read_only = true};
	struct xr_ledger *l;
	if (xr_ledger_open(&o, &l, &err) < 0)
		return 4;
	struct xr_audit_report rep;
	int rc = xr_ledger_audit(l, &s.key, 1, 1, NULL, NULL, &rep, &err);
	printf("audit child: rc %d: %s\n", rc, err.msg);
	xr_ledger_free(l);
	return rc == 0 ? 10 : strstr(err.msg, "out of memory") ? 0 : 11;
}

/* A chunk of the audit's reader that outgrows what the allocator gives
 * latches its buffer failed: the audit must stop there and fail cleanly,
 * never read past the buffer. The child's ASan allocator refuses any
 * allocation over 48 MiB; the records here fill a chunk's buffer to exactly
 * 32 MiB, so that the next one needs 64. */
START_TEST(audit_reader_out_of_memory)
{
	struct xr_err err = {0};
	struct xr_ledger *l = open_ledger(true, false, 1000);
	struct xr_ledger_batch *b = xr_ledger_batch_new();
	struct xr_buf rec;
	xr_buf_init(&rec, 1 << 20);
	fx_envelope_record(&rec, "node1", NULL, 1, NULL, 0);
	size_t evlen = ((size_t)8 << 20) - rec.len;
	uint8_t *ev = calloc(1, evlen);
	for (uint64_t s = 1; s <= 8; s++) {
		ev[0] = (uint8_t)s;
		fx_envelope_record(&rec, "node1", NULL, s, ev, evlen);
		ck_assert_uint_eq(rec.len + evlen, (size_t)8 << 20);
		ck_assert_int_eq(xr_ledger_batch_add(b, rec.data, rec.len, ev, evlen, &err), 0);
		append_ok(l, b);
	}
	ck_assert_int_eq(xr_ledger_checkpoint(l, &err), 0);
	audit_ok(l);
	xr_ledger_free(l);
	xr_ledger_batch_free(b);
	xr_buf_fini(&rec);
	free(ev);
#ifdef XR_ASAN
	char seed_hex[65], opts[1024];
	const char *have = getenv("ASAN_OPTIONS");
	xr_hex_encode(node_seed, 32, seed_hex);
	snprintf(opts, sizeof(opts), "%s%sallocator_may_return_null=1:max_allocation_size_mb=48",
		 have ? have : "", have && *have ? ":" : "");
	pid_t pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		setenv("ASAN_OPTIONS", opts, 1);
		execl("/proc/self/exe", "test_ledger", "--audit-child", db_path(), seed_hex,
		      (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	ck_assert_msg(
	    WIFEXITED(st) && WEXITSTATUS(st) == 0, "the audit child did not fail cleanly: %s %d",
	    WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
#endif
}
END_TEST

/* Hole 5: append and audit apply one set of membership rules. Each bad
 * ledger is one a holder of the committee key could sign. */
START_TEST(one_set_of_rules)
{
	struct xr_err err = {0};
	uint8_t aud_seed[32], aud_pub[32], dep_seed[32], dep_pub[32];
	ck_assert_int_eq(xr_ed25519_keygen(aud_seed, aud_pub, &err), 0);
	ck_assert_int_eq(xr_ed25519_keygen(dep_seed, dep_pub, &err), 0);
	struct xr_ledger_batch *b = xr_ledger_batch_new();
	struct xr_buf rec;
	xr_buf_init(&rec, 1 << 20);

	/* Append refuses. */
	struct xr_ledger *l = open_ledger(true, false, 5);
	genesis(l); /* 0: admin, 1: dapp1 */
	fx_member_record(&rec, "admin", admin_seed, XR_MEMBER_ENROL, "aud1", XR_ROLE_AUDITOR,
			 aud_pub);
	ck_assert_int_eq(xr_ledger_batch_add(b, rec.data, rec.len, NULL, 0, &err), 0);
	fx_member_record(&rec, "admin", admin_seed, XR_MEMBER_ENROL, "dep1", XR_ROLE_DEPLOYER,
			 dep_pub);
	ck_assert_int_eq(xr_ledger_batch_add(b, rec.data, rec.len, NULL, 0, &err), 0);
	fx_member_record(&rec, "admin", admin_seed, XR_MEMBER_ENROL, "ph1", XR_ROLE_DAPP, dapp_pub);
	ck_assert_int_eq(xr_ledger_batch_add(b, rec.data, rec.len, NULL, 0, &err), 0);
	append_ok(l, b); /* 2: aud1, 3: dep1, 4: ph1 */
	add_envelopes(l, 1, 10, 3);
	ck_assert_int_eq(xr_ledger_checkpoint(l, &err), 0);
	uint64_t size0 = xr_ledger_size(l);
	struct {
		const char *name, *expect;
	} cases[] = {
	    {"revoke of a non-member", "not a member"},
	    {"revoke with another key", "enrolled with another key"},
	    {"envelope by an auditor", "may not write ENVELOPE records"},
	    {"envelope by a deployer", "may not write ENVELOPE records"},
	    {"membership by a dapp", "may not write MEMBER records"},
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		switch (c) {
		case 0:
			fx_member_record(&rec, "admin", admin_seed, XR_MEMBER_REVOKE, "ghost",
					 XR_ROLE_DAPP, dapp_pub);
			break;
		case 1:
			fx_member_record(&rec, "admin", admin_seed, XR_MEMBER_REVOKE, "dapp1",
					 XR_ROLE_DAPP, admin_pub);
			break;
		case 2:
			fx_envelope_record(&rec, "aud1", aud_seed, 900, NULL, 0);
			break;
		case 3:
			fx_envelope_record(&rec, "dep1", dep_seed, 901, NULL, 0);
			break;
		case 4:
			fx_member_record(&rec, "dapp1", dapp_seed, XR_MEMBER_ENROL, "eve",
					 XR_ROLE_DAPP, dapp_pub);
			break;
		}
		xr_ledger_batch_clear(b);
		xr_err_clear(&err);
		ck_assert_int_eq(xr_ledger_batch_add(b, rec.data, rec.len, NULL, 0, &err), 0);
		int rc = xr_ledger_append(l, b, NULL, &err);
		ck_assert_msg(rc < 0, "append accepted %s", cases[c].name);
		ck_assert_msg(strstr(err.msg, cases[c].expect), "%s: '%s'", cases[c].name, err.msg);
		ck_assert_uint_eq(xr_ledger_size(l), size0);
	}
	xr_ledger_batch_clear(b);
	audit_ok(l);
	xr_ledger_free(l);

	/* The audit reports the same ledgers, signed by the committee. Record 4
	 * (ph1's enrolment) is replaced; copies of the good ledger are forged. */
	char cmd[1024], good[256];
	snprintf(good, sizeof(good), "%s", db_path());
	for (size_t c = 0; c < 5; c++) {
		dbn = 500 + (int)c;
		snprintf(cmd, sizeof(cmd), "rm -rf %s && cp -a %s %s", db_path(), good, db_path());
		ck_assert_int_eq(system(cmd), 0);
		uint64_t at = 4;
		switch (c) {
		case 0:
			fx_member_record(&rec, "admin", admin_seed, XR_MEMBER_REVOKE, "ghost",
					 XR_ROLE_DAPP, dapp_pub);
			break;
		case 1:
			fx_member_record(&rec, "admin", admin_seed, XR_MEMBER_REVOKE, "dapp1",
					 XR_ROLE_DAPP, admin_pub);
			break;
		case 2:
			fx_envelope_record(&rec, "aud1", aud_seed, 900, NULL, 0);
			break;
		case 3:
			fx_envelope_record(&rec, "dep1", dep_seed, 901, NULL, 0);
			break;
		case 4:
			fx_member_record(&rec, "dapp1", dapp_seed, XR_MEMBER_ENROL, "eve",
					 XR_ROLE_DAPP, dapp_pub);
			break;
		}
		forge(at, &rec, UINT64_MAX, 0);
		struct xr_audit_report rep = audit_fails(cases[c].name, cases[c].expect);
		ck_assert_uint_eq(rep.bad_index, at);
	}

	/* The first record's self-enrolment must be an enrolment. */
	dbn = 510;
	l = open_ledger(true, false, 5);
	fx_member_record(&rec, "admin", admin_seed, XR_MEMBER_ENROL, "admin", XR_ROLE_ALL,
			 admin_pub);
	ck_assert_int_eq(xr_ledger_batch_add(b, rec.data, rec.len, NULL, 0, &err), 0);
	append_ok(l, b);
	add_envelopes(l, 1, 10, 10);
	ck_assert_int_eq(xr_ledger_checkpoint(l, &err), 0);
	audit_ok(l);
	xr_ledger_free(l);
	fx_member_record(&rec, "admin", admin_seed, XR_MEMBER_REVOKE, "admin", XR_ROLE_ALL,
			 admin_pub);
	forge(0, &rec, UINT64_MAX, 0);
	audit_fails("a first record that revokes its author", "not an enrolled member");

	/* Checkpoint times never decrease. */
	dbn = 511;
	l = open_ledger(true, false, 5);
	add_envelopes(l, 1, 12, 4);
	ck_assert_int_eq(xr_ledger_checkpoint(l, &err), 0);
	uint64_t nb = xr_ledger_blocks(l);
	struct xr_buf note;
	struct xr_checkpoint cp;
	xr_buf_init(&note, XR_NOTE_MAX_LEN);
	ck_assert_int_eq(xr_ledger_block(l, nb - 2, &note, &cp, &err), 0);
	xr_ledger_free(l);
	forge(0, NULL, nb - 1, cp.time_ms - 1);
	audit_fails("a block older than its predecessor", "before the time");
	xr_buf_fini(&note);
	xr_buf_fini(&rec);
	xr_ledger_batch_free(b);
}
END_TEST

/* A clock that steps back behind the newest checkpoint must not make every
 * append cut one (now - cp_time underflowed), and the next checkpoint's time
 * must not go back either. */
START_TEST(clock_steps_back)
{
	struct xr_err err = {0};
	struct xr_ledger *l = open_ledger(true, false, 1000000);
	add_envelopes(l, 1, 3, 3);
	ck_assert_int_eq(xr_ledger_checkpoint(l, &err), 0);
	xr_ledger_free(l);
	struct raw r;
	size_t vl;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t ahead = (uint64_t)ts.tv_sec * 1000 + 3600 * 1000;
	raw_open(&r, db_path());
	char *st = raw_get(&r, "default", "state", 5, &vl);
	ck_assert_ptr_nonnull(st);
	xr_put_be64((uint8_t *)st + 48, ahead); /* the newest checkpoint, an hour ahead */
	raw_put(&r, "default", "state", 5, st, vl);
	free(st);
	raw_close(&r);

	l = open_ledger(false, false, 1000000);
	for (uint64_t s = 4; s < 9; s++)
		add_envelopes(l, s, 1, 1);
	ck_assert_uint_eq(xr_ledger_blocks(l), 1);
	ck_assert_int_eq(xr_ledger_checkpoint(l, &err), 0);
	struct xr_buf note;
	struct xr_checkpoint cp;
	xr_buf_init(&note, XR_NOTE_MAX_LEN);
	ck_assert_int_eq(xr_ledger_block(l, 1, &note, &cp, &err), 0);
	ck_assert_uint_ge(cp.time_ms, ahead);
	audit_ok(l);
	xr_buf_fini(&note);
	xr_ledger_free(l);
}
END_TEST

/* For cli_ledger.sh: drops the newest block of the (closed) ledger at path,
 * as a truncation would, so that the records it covered become a tail.
 * Outside a Check test: errors are printed, not asserted. */
static int drop_newest_block(const char *path)
{
	struct xr_err err = {0};
	struct xr_ledger_opts o = {.path = path, .read_only = true};
	struct xr_ledger *l;
	struct xr_buf note;
	struct xr_checkpoint cp;
	if (xr_ledger_open(&o, &l, &err) < 0) {
		fprintf(stderr, "drop-newest-block: %s\n", err.msg);
		return 1;
	}
	uint64_t n = xr_ledger_blocks(l);
	xr_buf_init(&note, XR_NOTE_MAX_LEN);
	int rc = n < 2 ? xr_err_set(&err, XR_ESTATE, "the ledger has %llu blocks, need two",
				    (unsigned long long)n)
		       : xr_ledger_block(l, n - 2, &note, &cp, &err);
	xr_ledger_free(l);
	if (rc < 0) {
		fprintf(stderr, "drop-newest-block: %s\n", err.msg);
		xr_buf_fini(&note);
		return 1;
	}
	size_t tl = 0;
	for (size_t i = note.len; i >= 2 && !tl; i--)
		if (note.data[i - 2] == '\n' && note.data[i - 1] == '\n')
			tl = i - 1;
	const rocksdb_options_t *cfo[NCF];
	rocksdb_column_family_handle_t *h[NCF];
	rocksdb_options_t *opt = rocksdb_options_create();
	char *e = NULL;
	for (int i = 0; i < NCF; i++)
		cfo[i] = opt;
	rocksdb_t *db = rocksdb_open_column_families(opt, path, NCF, cf_names, cfo, h, &e);
	if (!e) {
		rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
		rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
		rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
		uint8_t k[8];
		size_t vl = 0;
		char *st = rocksdb_get_cf(db, ro, h[0], "state", 5, &vl, &e);
		if (!e && st && vl == 64) {
			xr_put_be64(k, n - 1);
			rocksdb_writebatch_delete_cf(wb, h[3], (const char *)k, 8);
			xr_put_be64((uint8_t *)st + 8, n - 1);
			xr_sha256(note.data, tl, (uint8_t *)st + 16);
			xr_put_be64((uint8_t *)st + 48, cp.time_ms);
			xr_put_be64((uint8_t *)st + 56, cp.size);
			rocksdb_writebatch_put_cf(wb, h[0], "state", 5, st, vl);
			rocksdb_write(db, wo, wb, &e);
		} else if (!e) {
			e = strdup("no ledger state of 64 bytes");
		}
		free(st);
		rocksdb_writebatch_destroy(wb);
		rocksdb_writeoptions_destroy(wo);
		rocksdb_readoptions_destroy(ro);
		for (int i = 0; i < NCF; i++)
			rocksdb_column_family_handle_destroy(h[i]);
		rocksdb_close(db);
	}
	rocksdb_options_destroy(opt);
	xr_buf_fini(&note);
	if (e) {
		fprintf(stderr, "drop-newest-block: %s\n", e);
		free(e);
		return 1;
	}
	return 0;
}

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
	tcase_add_test(t, audit_rederives_uniqueness);
	tcase_add_test(t, audit_checks_indices);
	tcase_add_test(t, audit_uncovered_tail);
	tcase_add_test(t, audit_against_kept);
	tcase_add_test(t, audit_sorts_in_runs);
	tcase_add_test(t, hostile_sizes);
	tcase_add_test(t, audit_reader_out_of_memory);
	tcase_add_test(t, one_set_of_rules);
	tcase_add_test(t, clock_steps_back);
	suite_add_tcase(s, t);
	return s;
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "--append-child") == 0)
		return append_child(argv[2], argv[3], (int)strtol(argv[4], NULL, 10));
	if (argc == 4 && strcmp(argv[1], "--audit-child") == 0)
		return audit_child(argv[2], argv[3]);
	if (argc == 3 && strcmp(argv[1], "--drop-newest-block") == 0)
		return drop_newest_block(argv[2]);
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
