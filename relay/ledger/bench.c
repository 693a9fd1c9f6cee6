/* bench.c - xr-bench-ledger: append throughput of the ledger against raw
 * RocksDB batched puts of the same bytes, inclusion-proof latency and audit
 * speed, printed as one JSON object per line (scripts/bench-ledger runs it).
 * It lives in relay/ledger/ because the baseline uses rocksdb_* directly. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <rocksdb/c.h>

#include "envelope.h"
#include "ledger.h"
#include "node.h"
#include "merkle.h"
#include "note.h"
#include "record.h"
#include "xr_bytes.h"
#include "xr_err.h"

static const char usage[] =
    "usage: xr-bench-ledger --dir NODE_DIR --baseline-dir DIR [--records N] [--batch B]\n"
    "                       [--samples S]\n\n"
    "NODE_DIR is a node made by `xrelay init`; its ledger gets N synthetic ENVELOPE\n"
    "records authored by the node. DIR (must not exist) holds the raw RocksDB\n"
    "baseline. Results go to stdout, one JSON object per line; progress to stderr.\n";

#define PAYLOAD_LEN 64
#define WARMUP_SAMPLES 2000

struct bench_cfg {
	const char *dir, *baseline_dir;
	uint64_t records, batch, samples;
};

/* A batch of generated records: one arena and the offsets into it. */
struct gen_batch {
	struct xr_buf data;
	size_t *off, *len;
	size_t n;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* xorshift64*: a fixed seed makes every run pick the same indices. */
static uint64_t rnd_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545f4914f6cdd1dull;
}

static void rnd_fill(uint64_t *s, uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i += 8) {
		uint8_t w[8];
		xr_put_be64(w, rnd_next(s));
		memcpy(p + i, w, n - i < 8 ? n - i : 8);
	}
}

static int
parse_u64(const char *opt, const char *s, uint64_t min, uint64_t *ret, struct xr_err *err)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!s || *s < '0' || *s > '9')
		return xr_err_set(err, XR_EINVAL, "%s '%s' is not a number", opt, s ? s : "");
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min)
		return xr_err_set(err, XR_EINVAL, "%s '%s' is not a number >= %llu", opt, s,
				  (unsigned long long)min);
	*ret = v;
	return 0;
}

/* ---- synthetic records ------------------------------------------------- */

static void gen_batch_init(struct gen_batch *g)
{
	memset(g, 0, sizeof(*g));
	xr_buf_init(&g->data, (size_t)1 << 31);
}

static void gen_batch_fini(struct gen_batch *g)
{
	xr_buf_fini(&g->data);
	free(g->off);
	free(g->len);
}

/* A transfer like the EVM adapter emits, distinct per index (sequence, tx,
 * log index, amount), authored by the node without a signature. */
static int gen_record(uint64_t i,
		      const char *author,
		      const uint8_t empty_digest[32],
		      struct xr_buf *scratch,
		      uint8_t *env_buf,
		      struct xr_buf *out,
		      struct xr_err *err)
{
	static const char chain_a[] = "eip155:31337", chain_b[] = "eip155:31338";
	static const char asset[] = "eip155:31337/slip44:60";
	struct xr_envelope e;
	uint8_t payload[PAYLOAD_LEN];
	uint64_t s = 0x9e3779b97f4a7c15ull ^ (i * 0xbf58476d1ce4e5b9ull + 1);
	size_t env_len;
	int rc;

	memset(&e, 0, sizeof(e));
	e.kind = XR_ENV_TRANSFER;
	memcpy(e.src_chain, chain_a, sizeof(chain_a));
	e.src_height = 1000 + i / 8;
	rnd_fill(&s, e.src_block, 32);
	rnd_fill(&s, e.src_tx, 32);
	e.log_index = (uint32_t)(i % 8);
	memset(e.emitter, 0x11, 32);
	e.emitter_len = 32;
	e.sequence = i;
	memcpy(e.dst_chain, chain_b, sizeof(chain_b));
	rnd_fill(&s, e.recipient, 32);
	e.recipient_len = 32;
	memcpy(e.asset, asset, sizeof(asset));
	xr_put_be64(e.amount + 24, (i + 1) * 1000000000000000ull); /* (i+1) * 0.001 ether */
	e.src_time = 1700000000 + i / 8;
	rnd_fill(&s, payload, sizeof(payload));
	e.payload = payload;
	e.payload_len = sizeof(payload);
	if ((rc = xr_envelope_encode(&e, env_buf, XR_ENV_MAX_LEN, &env_len, err)) < 0)
		return rc;

	xr_buf_reset(scratch);
	if ((rc = xr_envelope_body_encode(env_buf, env_len, empty_digest, scratch, err)) < 0)
		return rc;
	struct xr_record r = {.type = XR_REC_ENVELOPE, .time_ms = wall_ms()};
	memcpy(r.author, author, strlen(author) + 1);
	r.body = scratch->data;
	r.body_len = (uint32_t)scratch->len;
	return xr_record_encode(&r, NULL, out, err);
}

/* Fills g with records [first, first + n). */
static int gen_fill(struct gen_batch *g,
		    uint64_t first,
		    size_t n,
		    const char *author,
		    const uint8_t empty_digest[32],
		    struct xr_buf *scratch,
		    uint8_t *env_buf,
		    struct xr_err *err)
{
	int rc;

	if (!g->off) {
		g->off = calloc(n, sizeof(*g->off));
		g->len = calloc(n, sizeof(*g->len));
		if (!g->off || !g->len)
			return xr_err_set(err, XR_ENOMEM, "out of memory generating records");
	}
	xr_buf_reset(&g->data);
	for (size_t k = 0; k < n; k++) {
		size_t start = g->data.len;
		if ((rc = gen_record(first + k, author, empty_digest, scratch, env_buf, &g->data,
				     err)) < 0)
			return rc;
		g->off[k] = start;
		g->len[k] = g->data.len - start;
	}
	g->n = n;
	if (g->data.failed)
		return xr_err_set(err, XR_ENOMEM, "out of memory generating records");
	return 0;
}

/* ---- the runs ------------------------------------------------------------ */

struct gen_ctx {
	const char *author;
	uint8_t empty_digest[32];
	struct xr_buf scratch;
	uint8_t *env_buf;
	struct gen_batch g;
	uint64_t bytes; /* record bytes produced */
};

static int gen_ctx_init(struct gen_ctx *gc, const char *author, struct xr_err *err)
{
	memset(gc, 0, sizeof(*gc));
	gc->author = author;
	xr_sha256("", 0, gc->empty_digest);
	xr_buf_init(&gc->scratch, XR_RECORD_BODY_MAX);
	gen_batch_init(&gc->g);
	gc->env_buf = malloc(XR_ENV_MAX_LEN);
	if (!gc->env_buf)
		return xr_err_set(err, XR_ENOMEM, "out of memory generating records");
	return 0;
}

static void gen_ctx_fini(struct gen_ctx *gc)
{
	xr_buf_fini(&gc->scratch);
	gen_batch_fini(&gc->g);
	free(gc->env_buf);
}

static int gen_next(struct gen_ctx *gc, uint64_t first, size_t n, struct xr_err *err)
{
	int rc = gen_fill(&gc->g, first, n, gc->author, gc->empty_digest, &gc->scratch, gc->env_buf,
			  err);
	if (rc == 0)
		gc->bytes += gc->g.data.len;
	return rc;
}

static void progress_line(const char *what, uint64_t done, uint64_t total, double t)
{
	fprintf(stderr, "\r%s: %" PRIu64 "/%" PRIu64 " (%.0f/s)   ", what, done, total,
		t > 0 ? (double)done / t : 0.0);
	if (done == total)
		fputc('\n', stderr);
}

/* Appends cfg->records records to the node's ledger; returns the seconds
 * spent inside the ledger API (record generation is not timed). */
static int run_append(const struct bench_cfg *cfg,
		      struct xr_ledger *l,
		      const char *author,
		      double *ret_s,
		      uint64_t *ret_bytes,
		      struct xr_err *err)
{
	struct xr_ledger_batch *b = xr_ledger_batch_new();
	struct gen_ctx gc;
	double spent = 0;
	int rc;

	if ((rc = gen_ctx_init(&gc, author, err)) < 0)
		goto out;
	if (!b) {
		rc = xr_err_set(err, XR_ENOMEM, "out of memory");
		goto out;
	}
	uint64_t base = xr_ledger_size(l);
	for (uint64_t done = 0; done < cfg->records;) {
		size_t n =
		    (size_t)(cfg->records - done < cfg->batch ? cfg->records - done : cfg->batch);
		if ((rc = gen_next(&gc, base + done, n, err)) < 0)
			goto out;
		double t0 = now_s();
		for (size_t k = 0; k < n; k++)
			if ((rc = xr_ledger_batch_add(b, gc.g.data.data + gc.g.off[k], gc.g.len[k],
						      NULL, 0, err)) < 0)
				goto out;
		if ((rc = xr_ledger_append(l, b, NULL, err)) < 0)
			goto out;
		xr_ledger_batch_clear(b);
		spent += now_s() - t0;
		done += n;
		if (done % (cfg->batch * 50) == 0 || done == cfg->records)
			progress_line("append", done, cfg->records, spent);
	}
	/* The tail is covered too, so the kept node can prove every record. */
	double t0 = now_s();
	if ((rc = xr_ledger_checkpoint(l, err)) < 0)
		goto out;
	spent += now_s() - t0;
	*ret_s = spent;
	*ret_bytes = gc.bytes;
out:
	xr_ledger_batch_free(b);
	gen_ctx_fini(&gc);
	return rc;
}

static int rdb_err(struct xr_err *err, char *e, const char *what)
{
	int rc = xr_err_set(err, XR_EIO, "%s: %s", what, e ? e : "unknown rocksdb error");
	free(e);
	return rc;
}

/* The same record bytes as raw batched puts keyed by be64 index, with the
 * ledger's sync policy and the options of its records column family. */
static int
run_baseline(const struct bench_cfg *cfg, const char *author, double *ret_s, struct xr_err *err)
{
	rocksdb_options_t *opts = rocksdb_options_create();
	rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create();
	rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
	rocksdb_t *db = NULL;
	struct gen_ctx gc;
	double spent = 0;
	char *e = NULL;
	int rc;

	rocksdb_options_set_create_if_missing(opts, 1);
	rocksdb_options_set_error_if_exists(opts, 1);
	rocksdb_options_increase_parallelism(opts, 2);
	rocksdb_options_set_max_open_files(opts, 512);
	rocksdb_options_set_write_buffer_size(opts, 64 << 20);
	rocksdb_writeoptions_set_sync(wo, 1);
	if ((rc = gen_ctx_init(&gc, author, err)) < 0)
		goto out;
	db = rocksdb_open(opts, cfg->baseline_dir, &e);
	if (e) {
		rc = rdb_err(err, e, "opening the baseline database");
		goto out;
	}
	for (uint64_t done = 0; done < cfg->records;) {
		size_t n =
		    (size_t)(cfg->records - done < cfg->batch ? cfg->records - done : cfg->batch);
		if ((rc = gen_next(&gc, done, n, err)) < 0)
			goto out;
		double t0 = now_s();
		for (size_t k = 0; k < n; k++) {
			uint8_t key[8];
			xr_put_be64(key, done + k);
			rocksdb_writebatch_put(wb, (const char *)key, 8,
					       (const char *)gc.g.data.data + gc.g.off[k],
					       gc.g.len[k]);
		}
		rocksdb_write(db, wo, wb, &e);
		if (e) {
			rc = rdb_err(err, e, "writing the baseline database");
			goto out;
		}
		rocksdb_writebatch_clear(wb);
		spent += now_s() - t0;
		done += n;
		if (done % (cfg->batch * 50) == 0 || done == cfg->records)
			progress_line("baseline", done, cfg->records, spent);
	}
	*ret_s = spent;
out:
	if (db)
		rocksdb_close(db);
	rocksdb_writebatch_destroy(wb);
	rocksdb_writeoptions_destroy(wo);
	rocksdb_options_destroy(opts);
	gen_ctx_fini(&gc);
	return rc;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n). */
static uint64_t pct(const uint64_t *v, size_t n, unsigned p)
{
	size_t r = (n * p + 99) / 100;
	return v[r ? r - 1 : 0];
}

/* What one proof request costs the node: the record and its inclusion
 * proof against the newest checkpoint. Each proof is verified (untimed). */
static int run_proofs(struct xr_ledger *l,
		      uint64_t samples,
		      double *ret_p50,
		      double *ret_p99,
		      uint64_t *ret_size,
		      struct xr_err *err)
{
	uint64_t *lat = calloc(samples ? samples : 1, sizeof(*lat));
	uint8_t(*proof)[32] = malloc(XR_MERKLE_MAX_PROOF * 32);
	struct xr_buf rec, note;
	struct xr_checkpoint cp;
	uint64_t s = 0x2545f4914f6cdd1dull;
	int rc;

	xr_buf_init(&rec, XR_RECORD_MAX_LEN);
	xr_buf_init(&note, XR_NOTE_MAX_LEN);
	if (!lat || !proof) {
		rc = xr_err_set(err, XR_ENOMEM, "out of memory");
		goto out;
	}
	uint64_t blocks = xr_ledger_blocks(l);
	if (blocks == 0) {
		rc = xr_err_set(err, XR_ESTATE, "the ledger has no checkpoint to prove against");
		goto out;
	}
	if ((rc = xr_ledger_block(l, blocks - 1, &note, &cp, err)) < 0)
		goto out;
	if (cp.size == 0) {
		rc = xr_err_set(err, XR_ESTATE, "the newest checkpoint covers no record");
		goto out;
	}
	for (uint64_t k = 0; k < WARMUP_SAMPLES + samples; k++) {
		uint64_t index = rnd_next(&s) % cp.size;
		size_t n;
		xr_buf_reset(&rec);
		uint64_t t0 = now_ns();
		if ((rc = xr_ledger_record(l, index, &rec, err)) < 0 ||
		    (rc = xr_ledger_inclusion(l, index, cp.size, proof, &n, err)) < 0)
			goto out;
		uint64_t t1 = now_ns();
		if (k >= WARMUP_SAMPLES)
			lat[k - WARMUP_SAMPLES] = t1 - t0;
		uint8_t leaf[32];
		xr_merkle_leaf_hash(rec.data, rec.len, leaf);
		if ((rc = xr_merkle_verify_inclusion(
			 index, cp.size, leaf, (const uint8_t(*)[32])proof, n, cp.root, err)) < 0) {
			xr_err_prefix(err, "inclusion proof of record %" PRIu64, index);
			goto out;
		}
	}
	qsort(lat, samples, sizeof(*lat), cmp_u64);
	*ret_p50 = (double)pct(lat, samples, 50) / 1000.0;
	*ret_p99 = (double)pct(lat, samples, 99) / 1000.0;
	*ret_size = cp.size;
out:
	xr_buf_fini(&rec);
	xr_buf_fini(&note);
	free(lat);
	free(proof);
	return rc;
}

static void audit_progress(void *ctx, uint64_t done, uint64_t total)
{
	progress_line("audit", done, total, now_s() - *(double *)ctx);
}

static int
run_audit(struct xr_node *n, double *ret_s, struct xr_audit_report *ret, struct xr_err *err)
{
	double t0 = now_s();
	int rc = xr_ledger_audit(n->ledger, n->keys, n->nkeys, xr_committee_threshold(n->nkeys),
				 audit_progress, &t0, ret, err);
	*ret_s = now_s() - t0;
	return rc;
}

static int run(const struct bench_cfg *cfg, struct xr_err *err)
{
	struct xr_node node = {0};
	double append_s = 0, base_s = 0, audit_s = 0, p50 = 0, p99 = 0;
	uint64_t bytes = 0, tree = 0;
	struct xr_audit_report rep;
	int rc;

	/* The node as the daemon opens it: its config, key and checkpoint policy. */
	if ((rc = xr_node_open(&node, cfg->dir, true, err)) < 0)
		goto out;
	fprintf(stderr, "node %s: %" PRIu64 " records in batches of %" PRIu64 "\n", cfg->dir,
		cfg->records, cfg->batch);
	rc = run_append(cfg, node.ledger, node.name, &append_s, &bytes, err);
	char author[XR_NOTE_NAME_MAX + 1];
	memcpy(author, node.name, sizeof(author));
	xr_node_close(&node);
	if (rc < 0)
		goto out;
	double append_rps = (double)cfg->records / append_s;
	printf(
	    "{\"bench\":\"append\",\"records\":%" PRIu64 ",\"records_per_s\":%.0f,\"seconds\":%.3f,"
	    "\"batch\":%" PRIu64 ",\"record_bytes\":%.1f}\n",
	    cfg->records, append_rps, append_s, cfg->batch, (double)bytes / (double)cfg->records);
	fflush(stdout);

	if ((rc = run_baseline(cfg, author, &base_s, err)) < 0)
		goto out;
	double base_rps = (double)cfg->records / base_s;
	printf("{\"bench\":\"rocksdb_baseline\",\"records_per_s\":%.0f,\"seconds\":%.3f,"
	       "\"batch\":%" PRIu64 "}\n",
	       base_rps, base_s, cfg->batch);
	printf("{\"bench\":\"append_ratio\",\"ratio\":%.3f}\n", append_rps / base_rps);
	fflush(stdout);

	/* Proofs and the audit read the ledger as `xrelay proof` and `xrelay
	 * ledger audit` do: a fresh read-only handle. */
	if ((rc = xr_node_open(&node, cfg->dir, false, err)) < 0)
		goto out;
	if ((rc = run_proofs(node.ledger, cfg->samples, &p50, &p99, &tree, err)) < 0)
		goto out;
	printf("{\"bench\":\"proof\",\"p50_us\":%.2f,\"p99_us\":%.2f,\"samples\":%" PRIu64
	       ",\"tree_size\":%" PRIu64 "}\n",
	       p50, p99, cfg->samples, tree);
	fflush(stdout);

	if ((rc = run_audit(&node, &audit_s, &rep, err)) < 0)
		goto out;
	printf("{\"bench\":\"audit\",\"records_per_s\":%.0f,\"records\":%" PRIu64
	       ",\"blocks\":%" PRIu64 ",\"seconds\":%.3f}\n",
	       (double)rep.records / audit_s, rep.records, rep.blocks, audit_s);
	fflush(stdout);
out:
	xr_node_close(&node);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"baseline-dir", required_argument, NULL, 'B'},
	    {"records", required_argument, NULL, 'n'},
	    {"batch", required_argument, NULL, 'b'},
	    {"samples", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct bench_cfg cfg = {.records = 1000000, .batch = 1000, .samples = 20000};
	struct xr_err err = {0};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			cfg.dir = optarg;
			break;
		case 'B':
			cfg.baseline_dir = optarg;
			break;
		case 'n':
			parse_u64("--records", optarg, 1, &cfg.records, &err);
			break;
		case 'b':
			parse_u64("--batch", optarg, 1, &cfg.batch, &err);
			break;
		case 's':
			parse_u64("--samples", optarg, 1, &cfg.samples, &err);
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (err.code) {
		fprintf(stderr, "xr-bench-ledger: %s\n", err.msg);
		return 2;
	}
	if (!cfg.dir || !cfg.baseline_dir || optind != argc) {
		fputs(usage, stderr);
		return 2;
	}
	if (run(&cfg, &err) < 0) {
		fprintf(stderr, "xr-bench-ledger: %s\n", err.msg[0] ? err.msg : "failed");
		return 1;
	}
	return 0;
}
