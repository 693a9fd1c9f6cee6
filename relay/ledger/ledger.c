/* ledger.c - the ledger on RocksDB: records, Merkle tiles, checkpoints,
 * indices, cursors and members; each append is one synced WriteBatch.
 *
 * Merkle nodes are stored as tiles of height 4 (as in transparency logs'
 * tiles): tile (L, t) holds the up to 16 node hashes at node level 4L with
 * indices [16t, 16t + 16); levels 4L+1..4L+3 are recomputed from them (at
 * most 15 hashes). That writes about 1.07 tile puts per 16 records instead of
 * two node puts per record, and keeps a proof at a handful of reads. */
#include "ledger.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <rocksdb/c.h>

#include "envelope.h"

#define TILE_H 4
#define TILE_W (1u << TILE_H)
#define MAX_TILE_LEVELS (64 / TILE_H)

enum {
	CF_DEFAULT,
	CF_RECORDS,
	CF_TILES,
	CF_BLOCKS,
	CF_EVIDENCE,
	CF_IDX_ENVELOPE,
	CF_IDX_SOURCE,
	CF_CURSORS,
	CF_MEMBERS,
	CF_COUNT,
};

static const char *const cf_names[] = {
    "default",	    "records",	  "tiles",   "blocks",	"evidence",
    "idx_envelope", "idx_source", "cursors", "members",
};
_Static_assert(sizeof(cf_names) / sizeof(cf_names[0]) == CF_COUNT, "a name per column family");

static const char state_key[] = "state";
#define STATE_LEN (8 + 8 + 32 + 8 + 8)

struct edge_tile {
	uint64_t t;
	unsigned n;
	bool dirty;
	uint8_t h[TILE_W][32];
};

struct member_ent {
	struct xr_member m;
	uint64_t index;
};

struct xr_ledger {
	rocksdb_t *db;
	rocksdb_options_t *opts;
	rocksdb_cache_t *cache;
	rocksdb_column_family_handle_t *cf[CF_COUNT];
	rocksdb_writeoptions_t *wo;
	rocksdb_readoptions_t *ro;
	bool read_only;

	char origin[XR_ORIGIN_MAX + 1];
	struct xr_signer *signers;
	size_t nsigners;
	uint64_t cp_every, cp_ms;

	pthread_mutex_t lock;	       /* guards pub_size and pub_blocks */
	uint64_t pub_size, pub_blocks; /* what readers see: committed state only */
	/* The writer's working state; equal to the published one between appends. */
	uint64_t size;
	uint64_t blocks;       /* checkpoints cut */
	uint8_t prev_hash[32]; /* SHA-256 of the newest checkpoint text */
	uint64_t cp_time_ms;   /* time of the newest checkpoint */
	uint64_t cp_size;      /* size the newest checkpoint covers */
	struct xr_merkle_frontier frontier;
	struct edge_tile edge[MAX_TILE_LEVELS];

	struct member_ent *members;
	size_t nmembers;
};

struct batch_rec {
	size_t off, len, ev_off, ev_len;
};

struct batch_cursor {
	size_t key_off, key_len, val_off, val_len;
};

struct xr_ledger_batch {
	struct xr_buf data;
	struct batch_rec *recs;
	size_t nrecs, caprecs;
	struct batch_cursor *curs;
	size_t ncurs, capcurs;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int rerr(struct xr_err *err, char *e, const char *what)
{
	int rc = xr_err_set(err, XR_EIO, "%s: %s", what, e ? e : "unknown rocksdb error");
	free(e);
	return rc;
}

/* ---- batches ---------------------------------------------------------- */

struct xr_ledger_batch *xr_ledger_batch_new(void)
{
	struct xr_ledger_batch *b = calloc(1, sizeof(*b));
	if (b)
		xr_buf_init(&b->data, (size_t)1 << 32);
	return b;
}

void xr_ledger_batch_free(struct xr_ledger_batch *b)
{
	if (!b)
		return;
	xr_buf_fini(&b->data);
	free(b->recs);
	free(b->curs);
	free(b);
}

void xr_ledger_batch_clear(struct xr_ledger_batch *b)
{
	xr_buf_reset(&b->data);
	b->nrecs = b->ncurs = 0;
}

size_t xr_ledger_batch_count(const struct xr_ledger_batch *b)
{
	return b->nrecs;
}

static int grow(void **p, size_t *cap, size_t need, size_t sz)
{
	if (need <= *cap)
		return 0;
	size_t nc = *cap ? *cap * 2 : 64;
	while (nc < need)
		nc *= 2;
	void *np = realloc(*p, nc * sz);
	if (!np)
		return -1;
	*p = np;
	*cap = nc;
	return 0;
}

int xr_ledger_batch_add(struct xr_ledger_batch *b,
			const uint8_t *record,
			size_t len,
			const uint8_t *evidence,
			size_t evidence_len,
			struct xr_err *err)
{
	if (grow((void **)&b->recs, &b->caprecs, b->nrecs + 1, sizeof(*b->recs)) < 0)
		return xr_err_set(err, XR_ENOMEM, "out of memory growing a ledger batch");
	struct batch_rec *r = &b->recs[b->nrecs];
	r->off = b->data.len;
	r->len = len;
	xr_buf_put(&b->data, record, len);
	r->ev_off = b->data.len;
	r->ev_len = evidence_len;
	if (evidence_len)
		xr_buf_put(&b->data, evidence, evidence_len);
	if (b->data.failed)
		return xr_err_set(err, XR_ENOMEM, "out of memory growing a ledger batch");
	b->nrecs++;
	return 0;
}

int xr_ledger_batch_cursor(
    struct xr_ledger_batch *b, const char *chain, const void *value, size_t len, struct xr_err *err)
{
	if (grow((void **)&b->curs, &b->capcurs, b->ncurs + 1, sizeof(*b->curs)) < 0)
		return xr_err_set(err, XR_ENOMEM, "out of memory growing a ledger batch");
	struct batch_cursor *c = &b->curs[b->ncurs];
	c->key_off = b->data.len;
	c->key_len = strlen(chain);
	xr_buf_put(&b->data, chain, c->key_len);
	c->val_off = b->data.len;
	c->val_len = len;
	xr_buf_put(&b->data, value, len);
	if (b->data.failed)
		return xr_err_set(err, XR_ENOMEM, "out of memory growing a ledger batch");
	b->ncurs++;
	return 0;
}

/* ---- tiles and subtree hashes ----------------------------------------- */

static void tile_key(uint8_t k[9], unsigned L, uint64_t t)
{
	k[0] = (uint8_t)L;
	xr_put_be64(k + 1, t);
}

/* A reader's tile cache: one tile per tile level, enough for a proof or a
 * root without reading a tile twice. */
struct tile_reader {
	struct xr_ledger *l;
	bool have[MAX_TILE_LEVELS];
	uint64_t t[MAX_TILE_LEVELS];
	unsigned n[MAX_TILE_LEVELS];
	uint8_t h[MAX_TILE_LEVELS][TILE_W][32];
};

static int load_tile(struct xr_ledger *l,
		     unsigned L,
		     uint64_t t,
		     uint8_t out[TILE_W][32],
		     unsigned *ret_n,
		     struct xr_err *err)
{
	uint8_t k[9];
	char *e = NULL;
	size_t vl;
	tile_key(k, L, t);
	rocksdb_pinnableslice_t *ps =
	    rocksdb_get_pinned_cf(l->db, l->ro, l->cf[CF_TILES], (const char *)k, 9, &e);
	if (e)
		return rerr(err, e, "reading a merkle tile");
	if (!ps)
		return xr_err_set(err, XR_ENOTFOUND, "merkle tile %u/%llu is missing", L,
				  (unsigned long long)t);
	const char *v = rocksdb_pinnableslice_value(ps, &vl);
	if (vl == 0 || vl % 32 || vl > TILE_W * 32) {
		rocksdb_pinnableslice_destroy(ps);
		return xr_err_set(err, XR_EIO, "merkle tile %u/%llu has a bad length %zu", L,
				  (unsigned long long)t, vl);
	}
	memcpy(out, v, vl);
	*ret_n = (unsigned)(vl / 32);
	rocksdb_pinnableslice_destroy(ps);
	return 0;
}

static int subtree(void *ctx, unsigned level, uint64_t index, uint8_t ret[32], struct xr_err *err)
{
	struct tile_reader *tr = ctx;
	unsigned L = level / TILE_H, r = level % TILE_H;
	uint64_t start = index << r;
	uint64_t t = start / TILE_W;
	unsigned off = (unsigned)(start % TILE_W), cnt = 1u << r;
	int rc;

	if (L >= MAX_TILE_LEVELS)
		return xr_err_set(err, XR_EINVAL, "merkle level %u out of range", level);
	if (!tr->have[L] || tr->t[L] != t) {
		if ((rc = load_tile(tr->l, L, t, tr->h[L], &tr->n[L], err)) < 0)
			return rc;
		tr->have[L] = true;
		tr->t[L] = t;
	}
	if (off + cnt > tr->n[L])
		return xr_err_set(err, XR_EIO, "merkle tile %u/%llu holds %u hashes, need %u", L,
				  (unsigned long long)t, tr->n[L], off + cnt);
	uint8_t tmp[TILE_W][32];
	memcpy(tmp, tr->h[L][off], (size_t)cnt * 32);
	for (unsigned w = cnt; w > 1; w /= 2)
		for (unsigned i = 0; i < w / 2; i++)
			xr_merkle_node_hash(tmp[2 * i], tmp[2 * i + 1], tmp[i]);
	memcpy(ret, tmp[0], 32);
	return 0;
}

static void tile_reader_init(struct tile_reader *tr, struct xr_ledger *l)
{
	tr->l = l;
	memset(tr->have, 0, sizeof(tr->have));
}

/* ---- members ---------------------------------------------------------- */

static struct member_ent *member_find(struct xr_ledger *l, const char *name)
{
	for (size_t i = 0; i < l->nmembers; i++)
		if (strcmp(l->members[i].m.name, name) == 0)
			return &l->members[i];
	return NULL;
}

static int
member_apply(struct xr_ledger *l, const struct xr_member *m, uint64_t index, struct xr_err *err)
{
	struct member_ent *e = member_find(l, m->name);
	if (m->op == XR_MEMBER_REVOKE) {
		if (!e)
			return xr_err_set(err, XR_EINVAL, "cannot revoke '%s': not a member",
					  m->name);
		*e = l->members[--l->nmembers];
		return 0;
	}
	if (!e) {
		void *p = realloc(l->members, (l->nmembers + 1) * sizeof(*l->members));
		if (!p)
			return xr_err_set(err, XR_ENOMEM, "out of memory enrolling a member");
		l->members = p;
		e = &l->members[l->nmembers++];
	}
	e->m = *m;
	e->index = index;
	return 0;
}

static int members_load(struct xr_ledger *l, struct xr_err *err)
{
	l->nmembers = 0;
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(l->db, l->ro, l->cf[CF_MEMBERS]);
	int rc = 0;
	for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t vl;
		const char *v = rocksdb_iter_value(it, &vl);
		struct xr_member m;
		if (vl < 8 ||
		    (rc = xr_member_decode((const uint8_t *)v + 8, vl - 8, &m, err)) < 0) {
			rc = xr_err_set(err, XR_EIO, "stored member entry is corrupt");
			break;
		}
		if ((rc = member_apply(l, &m, xr_get_be64((const uint8_t *)v), err)) < 0)
			break;
	}
	rocksdb_iter_destroy(it);
	return rc;
}

static bool is_committee(const struct xr_ledger *l, const char *name)
{
	for (size_t i = 0; i < l->nsigners; i++)
		if (strcmp(l->signers[i].key.name, name) == 0)
			return true;
	return false;
}

/* ---- open / close ----------------------------------------------------- */

static int load_state(struct xr_ledger *l, struct xr_err *err)
{
	char *e = NULL;
	size_t vl;
	char *v = rocksdb_get_cf(l->db, l->ro, l->cf[CF_DEFAULT], state_key, sizeof(state_key) - 1,
				 &vl, &e);
	if (e)
		return rerr(err, e, "reading ledger state");
	if (!v) {
		l->cp_time_ms = now_ms(); /* empty: the first checkpoint is due T ms from now */
		return 0;
	}
	if (vl != STATE_LEN) {
		free(v);
		return xr_err_set(err, XR_EIO, "ledger state has length %zu, expected %d", vl,
				  STATE_LEN);
	}
	const uint8_t *p = (const uint8_t *)v;
	l->size = xr_get_be64(p);
	l->blocks = xr_get_be64(p + 8);
	memcpy(l->prev_hash, p + 16, 32);
	l->cp_time_ms = xr_get_be64(p + 48);
	l->cp_size = xr_get_be64(p + 56);
	l->pub_size = l->size;
	l->pub_blocks = l->blocks;
	free(v);

	/* The right edge of every tile level, then the frontier from it. */
	for (unsigned L = 0; L < MAX_TILE_LEVELS; L++) {
		uint64_t cnt = l->size >> (TILE_H * L);
		if (cnt == 0)
			break;
		struct edge_tile *et = &l->edge[L];
		et->t = (cnt - 1) / TILE_W;
		unsigned n;
		int rc = load_tile(l, L, et->t, et->h, &n, err);
		if (rc < 0)
			return rc;
		if (n != (cnt - 1) % TILE_W + 1)
			return xr_err_set(err, XR_EIO,
					  "merkle tile %u/%llu holds %u hashes, expected %llu", L,
					  (unsigned long long)et->t, n,
					  (unsigned long long)((cnt - 1) % TILE_W + 1));
		et->n = n;
	}
	struct tile_reader *tr = malloc(sizeof(*tr));
	if (!tr)
		return xr_err_set(err, XR_ENOMEM, "out of memory opening the ledger");
	tile_reader_init(tr, l);
	int rc = xr_merkle_frontier_load(&l->frontier, l->size, subtree, tr, err);
	free(tr);
	return rc;
}

int xr_ledger_open(const struct xr_ledger_opts *o, struct xr_ledger **ret, struct xr_err *err)
{
	struct xr_ledger *l = calloc(1, sizeof(*l));
	rocksdb_options_t *cfo[CF_COUNT] = {0};
	char *e = NULL;
	int rc = 0;

	if (!l)
		return xr_err_set(err, XR_ENOMEM, "out of memory opening the ledger");
	pthread_mutex_init(&l->lock, NULL);
	l->read_only = o->read_only;
	l->cp_every = o->checkpoint_every ? o->checkpoint_every : 1000;
	l->cp_ms = o->checkpoint_ms ? o->checkpoint_ms : 1000;
	if (o->origin) {
		if (strlen(o->origin) > XR_ORIGIN_MAX) {
			rc = xr_err_set(err, XR_EINVAL, "origin '%s' is longer than %d bytes",
					o->origin, XR_ORIGIN_MAX);
			goto fail;
		}
		memcpy(l->origin, o->origin, strlen(o->origin) + 1);
	}
	if (o->nsigners) {
		l->signers = malloc(o->nsigners * sizeof(*l->signers));
		if (!l->signers) {
			rc = xr_err_set(err, XR_ENOMEM, "out of memory opening the ledger");
			goto fail;
		}
		memcpy(l->signers, o->signers, o->nsigners * sizeof(*l->signers));
		l->nsigners = o->nsigners;
	}

	struct stat st;
	bool exists = stat(o->path, &st) == 0;
	if (o->create && exists) {
		rc = xr_err_set(err, XR_EEXIST, "ledger '%s' already exists", o->path);
		goto fail;
	}
	if (!o->create && !exists) {
		rc = xr_err_set(err, XR_ENOTFOUND, "no ledger at '%s'", o->path);
		goto fail;
	}

	l->opts = rocksdb_options_create();
	rocksdb_options_set_create_if_missing(l->opts, o->create);
	rocksdb_options_set_create_missing_column_families(l->opts, 1);
	rocksdb_options_increase_parallelism(l->opts, 2);
	/* One writer thread; the hashed memtable below needs this off. */
	rocksdb_options_set_allow_concurrent_memtable_write(l->opts, 0);
	rocksdb_options_set_max_open_files(l->opts, 512);
	/* Small column families rarely flush; without a cap their WAL files pile
	 * up and every open replays hundreds of MB (seconds per `xrelay proof`). */
	rocksdb_options_set_max_total_wal_size(l->opts, 256u << 20);
	l->cache = rocksdb_cache_create_lru(256u << 20);
	for (int i = 0; i < CF_COUNT; i++) {
		cfo[i] = rocksdb_options_create_copy(l->opts);
		rocksdb_block_based_table_options_t *bb = rocksdb_block_based_options_create();
		rocksdb_block_based_options_set_block_cache(bb, l->cache);
		if (i == CF_IDX_ENVELOPE || i == CF_IDX_SOURCE || i == CF_MEMBERS ||
		    i == CF_CURSORS || i == CF_TILES) {
			rocksdb_block_based_options_set_filter_policy(
			    bb, rocksdb_filterpolicy_create_bloom_full(10));
			rocksdb_block_based_options_set_cache_index_and_filter_blocks(bb, 1);
		}
		rocksdb_options_set_block_based_table_factory(cfo[i], bb);
		rocksdb_block_based_options_destroy(bb);
		/* Hashes and ids do not compress; records decompress fast with LZ4. */
		if (i == CF_TILES || i == CF_IDX_ENVELOPE || i == CF_IDX_SOURCE || i == CF_BLOCKS)
			rocksdb_options_set_compression(cfo[i], rocksdb_no_compression);
		else
			rocksdb_options_set_compression(cfo[i], rocksdb_lz4_compression);
		if (i == CF_RECORDS || i == CF_IDX_ENVELOPE)
			rocksdb_options_set_write_buffer_size(cfo[i], 64 << 20);
		if (i == CF_IDX_ENVELOPE || i == CF_IDX_SOURCE) {
			/* Ids are random and only ever looked up whole: a hashed memtable
			 * spares the ordered skiplist's insert cost, which was the largest
			 * item in the append profile; the bloom lets new ids (the common
			 * case) skip the memtable search. */
			rocksdb_options_set_prefix_extractor(
			    cfo[i], rocksdb_slicetransform_create_fixed_prefix(8));
			rocksdb_options_set_hash_skip_list_rep(cfo[i], 1 << 20, 4, 4);
			rocksdb_options_set_memtable_prefix_bloom_size_ratio(cfo[i], 0.1);
			rocksdb_options_set_memtable_whole_key_filtering(cfo[i], 1);
		}
	}
	if (o->read_only)
		l->db = rocksdb_open_for_read_only_column_families(
		    l->opts, o->path, CF_COUNT, cf_names, (const rocksdb_options_t *const *)cfo,
		    l->cf, 0, &e);
	else
		l->db =
		    rocksdb_open_column_families(l->opts, o->path, CF_COUNT, cf_names,
						 (const rocksdb_options_t *const *)cfo, l->cf, &e);
	if (e) {
		rc = rerr(err, e, "opening the ledger");
		goto fail;
	}
	l->wo = rocksdb_writeoptions_create();
	rocksdb_writeoptions_set_sync(l->wo, !o->no_sync);
	l->ro = rocksdb_readoptions_create();
	if ((rc = load_state(l, err)) < 0 || (rc = members_load(l, err)) < 0)
		goto fail;
	for (int i = 0; i < CF_COUNT; i++)
		rocksdb_options_destroy(cfo[i]);
	*ret = l;
	return 0;
fail:
	for (int i = 0; i < CF_COUNT; i++)
		if (cfo[i])
			rocksdb_options_destroy(cfo[i]);
	xr_ledger_free(l);
	return rc;
}

void xr_ledger_free(struct xr_ledger *l)
{
	if (!l)
		return;
	if (l->db) {
		if (!l->read_only) {
			/* Flush so the next open has no WAL to replay. */
			rocksdb_flushoptions_t *fo = rocksdb_flushoptions_create();
			char *e = NULL;
			rocksdb_flushoptions_set_wait(fo, 1);
			for (int i = 0; i < CF_COUNT && l->cf[i]; i++) {
				rocksdb_flush_cf(l->db, fo, l->cf[i], &e);
				free(e);
				e = NULL;
			}
			rocksdb_flushoptions_destroy(fo);
		}
		for (int i = 0; i < CF_COUNT; i++)
			if (l->cf[i])
				rocksdb_column_family_handle_destroy(l->cf[i]);
		rocksdb_close(l->db);
	}
	if (l->opts)
		rocksdb_options_destroy(l->opts);
	if (l->cache)
		rocksdb_cache_destroy(l->cache);
	if (l->wo)
		rocksdb_writeoptions_destroy(l->wo);
	if (l->ro)
		rocksdb_readoptions_destroy(l->ro);
	if (l->signers) {
		memset(l->signers, 0, l->nsigners * sizeof(*l->signers));
		free(l->signers);
	}
	free(l->members);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

uint64_t xr_ledger_size(const struct xr_ledger *l)
{
	pthread_mutex_lock((pthread_mutex_t *)&l->lock);
	uint64_t s = l->pub_size;
	pthread_mutex_unlock((pthread_mutex_t *)&l->lock);
	return s;
}

uint64_t xr_ledger_blocks(const struct xr_ledger *l)
{
	pthread_mutex_lock((pthread_mutex_t *)&l->lock);
	uint64_t s = l->pub_blocks;
	pthread_mutex_unlock((pthread_mutex_t *)&l->lock);
	return s;
}

/* ---- append ----------------------------------------------------------- */

struct append_ctx {
	struct xr_ledger *l;
	rocksdb_writebatch_t *wb;
};

static void put_tile(struct xr_ledger *l, rocksdb_writebatch_t *wb, unsigned L)
{
	struct edge_tile *et = &l->edge[L];
	uint8_t k[9];
	tile_key(k, L, et->t);
	rocksdb_writebatch_put_cf(wb, l->cf[CF_TILES], (const char *)k, 9, (const char *)et->h,
				  (size_t)et->n * 32);
	et->dirty = false;
}

static void on_node(void *ctx, unsigned level, uint64_t index, const uint8_t hash[32])
{
	struct append_ctx *ac = ctx;
	if (level % TILE_H)
		return;
	unsigned L = level / TILE_H;
	struct edge_tile *et = &ac->l->edge[L];
	uint64_t t = index / TILE_W;
	if (et->t != t || et->n == 0) {
		if (et->dirty)
			put_tile(ac->l, ac->wb, L);
		et->t = t;
		et->n = 0;
	}
	memcpy(et->h[index % TILE_W], hash, 32);
	et->n = (unsigned)(index % TILE_W) + 1;
	et->dirty = true;
}

static int cut_checkpoint(struct xr_ledger *l,
			  rocksdb_writebatch_t *wb,
			  struct xr_buf *tmp,
			  struct xr_err *err)
{
	struct xr_checkpoint cp = {0};
	int rc;

	if (l->nsigners == 0)
		return xr_err_set(err, XR_ESTATE, "this node holds no committee key to sign with");
	memcpy(cp.origin, l->origin, sizeof(cp.origin));
	cp.size = l->size;
	xr_merkle_frontier_root(&l->frontier, cp.root);
	cp.block = l->blocks;
	cp.time_ms = now_ms();
	if (l->blocks)
		memcpy(cp.prev, l->prev_hash, 32);
	xr_buf_reset(tmp);
	if ((rc = xr_checkpoint_format(&cp, tmp, err)) < 0)
		return rc;
	uint8_t h[32];
	xr_sha256(tmp->data, tmp->len, h);
	size_t tl = tmp->len;
	if ((rc = xr_note_sign((const char *)tmp->data, tl, l->signers, l->nsigners, tmp, err)) < 0)
		return rc;
	uint8_t k[8];
	xr_put_be64(k, cp.block);
	/* xr_note_sign appended the signed note after the text. */
	rocksdb_writebatch_put_cf(wb, l->cf[CF_BLOCKS], (const char *)k, 8,
				  (const char *)tmp->data + tl, tmp->len - tl);
	memcpy(l->prev_hash, h, 32);
	l->cp_time_ms = cp.time_ms;
	l->cp_size = l->size;
	l->blocks++;
	return 0;
}

static void put_state(struct xr_ledger *l, rocksdb_writebatch_t *wb)
{
	uint8_t v[STATE_LEN];
	xr_put_be64(v, l->size);
	xr_put_be64(v + 8, l->blocks);
	memcpy(v + 16, l->prev_hash, 32);
	xr_put_be64(v + 48, l->cp_time_ms);
	xr_put_be64(v + 56, l->cp_size);
	rocksdb_writebatch_put_cf(wb, l->cf[CF_DEFAULT], state_key, sizeof(state_key) - 1,
				  (const char *)v, sizeof(v));
}

/* The dedup keys of DESIGN.md, hashed to fixed-size keys of idx_source:
 * (source chain, emitter, sequence) and (source chain, tx hash, log index)
 * map to the envelope id; (source chain, emitter) maps to the highest
 * sequence committed for that emitter. */
enum { SK_SEQUENCE = 1, SK_TXLOG = 2, SK_EMITTER = 3 };

static void source_key(int kind, const struct xr_envelope *e, uint8_t ret[32])
{
	uint8_t buf[1 + XR_ENV_CHAIN_MAX + 1 + 1 + XR_ENV_EMITTER_MAX + 32 + 8];
	size_t n = 0, cl = strlen(e->src_chain);
	buf[n++] = (uint8_t)kind;
	memcpy(buf + n, e->src_chain, cl);
	n += cl;
	buf[n++] = 0;
	if (kind == SK_TXLOG) {
		memcpy(buf + n, e->src_tx, 32);
		n += 32;
		xr_put_be32(buf + n, e->log_index);
		n += 4;
	} else {
		buf[n++] = e->emitter_len;
		memcpy(buf + n, e->emitter, e->emitter_len);
		n += e->emitter_len;
		if (kind == SK_SEQUENCE) {
			xr_put_be64(buf + n, e->sequence);
			n += 8;
		}
	}
	xr_sha256(buf, n, ret);
}

struct src_ent {
	uint8_t key[32];
	uint8_t val[32]; /* envelope id, or be64 sequence for SK_EMITTER */
	uint32_t rec;	 /* record in the batch */
	uint8_t kind;
};

static int cmp_src(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* SHA-256 of the empty string: the digest of empty evidence. */
static const uint8_t sha256_empty[32] = {
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
};

static int cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* Checks who may write a record: committee members author without a
 * signature; everyone else must be enrolled and sign. The very first record
 * of a ledger may be an admin's self-enrolment, signed by the enrolled key. */
static int check_author(struct xr_ledger *l,
			const uint8_t *enc,
			size_t len,
			const struct xr_record *r,
			uint64_t index,
			struct xr_err *err)
{
	if (r->sig_len == 0) {
		if (!is_committee(l, r->author))
			return xr_err_set(err, XR_EVERIFY,
					  "record by '%s' has no signature and '%s' is not a "
					  "committee member of this node",
					  r->author, r->author);
		return 0;
	}
	const uint8_t *pub;
	struct xr_member self;
	struct member_ent *m = member_find(l, r->author);
	if (m) {
		pub = m->m.pub;
	} else if (index == 0 && r->type == XR_REC_MEMBER &&
		   xr_member_decode(r->body, r->body_len, &self, NULL) == 0 &&
		   self.op == XR_MEMBER_ENROL && strcmp(self.name, r->author) == 0 &&
		   (self.roles & XR_ROLE_ADMIN)) {
		pub = self.pub;
	} else {
		return xr_err_set(err, XR_EVERIFY, "record author '%s' is not an enrolled member",
				  r->author);
	}
	int rc = xr_record_verify_sig(enc, len, r, pub, err);
	if (rc < 0)
		return rc;
	if (r->type == XR_REC_MEMBER && !(index == 0 && !m) && !(m->m.roles & XR_ROLE_ADMIN))
		return xr_err_set(err, XR_EVERIFY,
				  "member '%s' may not change membership: not an admin", r->author);
	return 0;
}

static int get_source(
    struct xr_ledger *l, const uint8_t key[32], uint8_t ret[32], size_t want, struct xr_err *err)
{
	char *e = NULL;
	size_t vl;
	rocksdb_pinnableslice_t *ps =
	    rocksdb_get_pinned_cf(l->db, l->ro, l->cf[CF_IDX_SOURCE], (const char *)key, 32, &e);
	if (e)
		return rerr(err, e, "reading the source index");
	if (!ps)
		return XR_ENOTFOUND;
	const char *v = rocksdb_pinnableslice_value(ps, &vl);
	int rc = vl == want ? 0 : xr_err_set(err, XR_EIO, "source index entry has length %zu", vl);
	if (rc == 0)
		memcpy(ret, v, want);
	rocksdb_pinnableslice_destroy(ps);
	return rc;
}

/* Describes the envelope of batch record `rec` for an equivocation message. */
static void describe(const struct xr_ledger_batch *b, uint32_t rec, int kind, char *out, size_t cap)
{
	const struct batch_rec *br = &b->recs[rec];
	struct xr_record r;
	struct xr_envelope e;
	const uint8_t *env, *dig;
	size_t env_len;
	char hex[2 * XR_ENV_EMITTER_MAX + 1];
	out[0] = '\0';
	if (xr_record_decode(b->data.data + br->off, br->len, &r, NULL) < 0 ||
	    xr_envelope_body_decode(r.body, r.body_len, &env, &env_len, &dig, NULL) < 0 ||
	    xr_envelope_decode(env, env_len, &e, NULL) < 0)
		return;
	if (kind == SK_TXLOG) {
		xr_hex_encode(e.src_tx, 32, hex);
		snprintf(out, cap, "chain %s, tx 0x%s, log index %u", e.src_chain, hex,
			 e.log_index);
	} else {
		xr_hex_encode(e.emitter, e.emitter_len, hex);
		snprintf(out, cap, "chain %s, emitter 0x%s, sequence %llu", e.src_chain, hex,
			 (unsigned long long)e.sequence);
	}
}

static int equivocation(const struct xr_ledger_batch *b,
			const struct src_ent *se,
			const uint8_t other[32],
			const char *where,
			struct xr_err *err)
{
	char what[256], a[65], o[65];
	describe(b, se->rec, se->kind, what, sizeof(what));
	xr_hex_encode(se->val, 32, a);
	xr_hex_encode(other, 32, o);
	return xr_err_set(err, XR_ECONFLICT,
			  "equivocation on %s: envelope 0x%s and %s envelope 0x%s share that key",
			  what, a, where, o);
}

/* Dedup keys: a second envelope on a key with other bytes is an
 * equivocation, refused with both ids; emitters' highest sequences advance. */
static int check_sources(struct xr_ledger *l,
			 const struct xr_ledger_batch *b,
			 rocksdb_writebatch_t *wb,
			 struct src_ent *src,
			 size_t n,
			 struct xr_err *err)
{
	qsort(src, n, sizeof(*src), cmp_src);
	for (size_t i = 0; i < n; i++) {
		struct src_ent *se = &src[i];
		uint8_t stored[32];
		int rc;
		if (se->kind == SK_EMITTER) {
			/* Entries of one emitter are adjacent: write the highest once. */
			uint64_t hi = xr_get_be64(se->val);
			while (i + 1 < n && memcmp(src[i + 1].key, se->key, 32) == 0) {
				uint64_t s = xr_get_be64(src[++i].val);
				hi = s > hi ? s : hi;
			}
			rc = get_source(l, se->key, stored, 8, err);
			if (rc == 0 && xr_get_be64(stored) > hi)
				hi = xr_get_be64(stored);
			else if (rc < 0 && rc != XR_ENOTFOUND)
				return rc;
			uint8_t v[8];
			xr_put_be64(v, hi);
			rocksdb_writebatch_put_cf(wb, l->cf[CF_IDX_SOURCE], (const char *)se->key,
						  32, (const char *)v, 8);
			continue;
		}
		if (i + 1 < n && memcmp(src[i + 1].key, se->key, 32) == 0)
			return equivocation(b, se, src[i + 1].val, "the batch's", err);
		rc = get_source(l, se->key, stored, 32, err);
		if (rc == 0 && memcmp(stored, se->val, 32) != 0)
			return equivocation(b, se, stored, "stored", err);
		if (rc < 0 && rc != XR_ENOTFOUND)
			return rc;
		rocksdb_writebatch_put_cf(wb, l->cf[CF_IDX_SOURCE], (const char *)se->key, 32,
					  (const char *)se->val, 32);
	}
	return 0;
}

int xr_ledger_find_source(struct xr_ledger *l,
			  const struct xr_envelope *e,
			  uint8_t ret_id[32],
			  struct xr_err *err)
{
	uint8_t key[32];
	for (int kind = SK_SEQUENCE; kind <= SK_TXLOG; kind++) {
		source_key(kind, e, key);
		int rc = get_source(l, key, ret_id, 32, err);
		if (rc != XR_ENOTFOUND)
			return rc;
	}
	return XR_ENOTFOUND;
}

int xr_ledger_emitter_sequence(struct xr_ledger *l,
			       const struct xr_envelope *e,
			       uint64_t *ret_seq,
			       struct xr_err *err)
{
	uint8_t key[32], v[32];
	source_key(SK_EMITTER, e, key);
	int rc = get_source(l, key, v, 8, err);
	if (rc == 0)
		*ret_seq = xr_get_be64(v);
	else if (rc == XR_ENOTFOUND)
		*ret_seq = 0;
	return rc == XR_ENOTFOUND ? 0 : rc;
}

int xr_ledger_append(struct xr_ledger *l,
		     struct xr_ledger_batch *b,
		     uint64_t *ret_first,
		     struct xr_err *err)
{
	if (l->read_only)
		return xr_err_set(err, XR_ESTATE, "the ledger is open read-only");
	if (b->data.failed)
		return xr_err_set(err, XR_ENOMEM, "the ledger batch ran out of memory");

	/* Saved so that a refused or failed batch leaves no trace in memory. */
	struct xr_merkle_frontier *save_f = malloc(sizeof(*save_f));
	struct edge_tile *save_e = malloc(sizeof(l->edge));
	/* Envelope ids with their record index, sorted before they are written:
	 * in-order inserts are much cheaper for RocksDB's memtable. */
	uint8_t(*ids)[40] = malloc((b->nrecs ? b->nrecs : 1) * 40);
	struct src_ent *src = malloc((b->nrecs ? b->nrecs : 1) * 3 * sizeof(*src));
	size_t nsrc = 0;
	struct xr_buf tmp;
	rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
	struct append_ctx ac = {l, wb};
	bool members_changed = false;
	size_t nids = 0;
	int rc = 0;

	xr_buf_init(&tmp, XR_NOTE_MAX_LEN * 2);
	if (!save_f || !save_e || !ids || !src) {
		rc = xr_err_set(err, XR_ENOMEM, "out of memory appending to the ledger");
		goto out_free;
	}
	uint64_t first = l->size, save_blocks = l->blocks, save_cps = l->cp_size,
		 save_cpt = l->cp_time_ms;
	uint8_t save_prev[32];
	memcpy(save_prev, l->prev_hash, 32);
	memcpy(save_f, &l->frontier, sizeof(*save_f));
	memcpy(save_e, l->edge, sizeof(l->edge));

	for (size_t i = 0; i < b->nrecs; i++) {
		const struct batch_rec *br = &b->recs[i];
		const uint8_t *enc = b->data.data + br->off;
		const uint8_t *ev = b->data.data + br->ev_off;
		uint64_t index = first + i;
		struct xr_record r;
		uint8_t k[8], leaf[32];

		if ((rc = xr_record_decode(enc, br->len, &r, err)) < 0 ||
		    (rc = check_author(l, enc, br->len, &r, index, err)) < 0) {
			xr_err_prefix(err, "record %zu of the batch", i);
			goto undo;
		}
		xr_put_be64(k, index);
		if (r.type == XR_REC_ENVELOPE) {
			const uint8_t *env, *dig;
			size_t env_len;
			struct xr_envelope e;
			uint8_t evd[32];
			if ((rc = xr_envelope_body_decode(r.body, r.body_len, &env, &env_len, &dig,
							  err)) < 0 ||
			    (rc = xr_envelope_decode(env, env_len, &e, err)) < 0) {
				xr_err_prefix(err, "record %zu of the batch", i);
				goto undo;
			}
			if (br->ev_len)
				xr_sha256(ev, br->ev_len, evd);
			else
				memcpy(evd, sha256_empty, 32);
			if (memcmp(evd, dig, 32) != 0) {
				rc = xr_err_set(err, XR_EINVAL,
						"record %zu of the batch: evidence does not match "
						"the record's evidence digest",
						i);
				goto undo;
			}
			xr_envelope_id(env, env_len, ids[nids]);
			memcpy(ids[nids] + 32, k, 8);
			for (int kind = SK_SEQUENCE; kind <= SK_EMITTER; kind++) {
				struct src_ent *se = &src[nsrc++];
				source_key(kind, &e, se->key);
				memset(se->val, 0, 32);
				if (kind == SK_EMITTER)
					xr_put_be64(se->val, e.sequence);
				else
					memcpy(se->val, ids[nids], 32);
				se->rec = (uint32_t)i;
				se->kind = (uint8_t)kind;
			}
			nids++;
			if (br->ev_len)
				rocksdb_writebatch_put_cf(wb, l->cf[CF_EVIDENCE], (const char *)k,
							  8, (const char *)ev, br->ev_len);
		} else if (r.type == XR_REC_MEMBER) {
			struct xr_member m;
			if ((rc = xr_member_decode(r.body, r.body_len, &m, err)) < 0 ||
			    (rc = member_apply(l, &m, index, err)) < 0) {
				xr_err_prefix(err, "record %zu of the batch", i);
				goto undo;
			}
			members_changed = true;
			if (m.op == XR_MEMBER_REVOKE) {
				rocksdb_writebatch_delete_cf(wb, l->cf[CF_MEMBERS], m.name,
							     strlen(m.name));
			} else {
				xr_buf_reset(&tmp);
				xr_buf_put(&tmp, k, 8);
				xr_buf_put(&tmp, r.body, r.body_len);
				rocksdb_writebatch_put_cf(wb, l->cf[CF_MEMBERS], m.name,
							  strlen(m.name), (const char *)tmp.data,
							  tmp.len);
			}
		}
		rocksdb_writebatch_put_cf(wb, l->cf[CF_RECORDS], (const char *)k, 8,
					  (const char *)enc, br->len);
		xr_merkle_leaf_hash(enc, br->len, leaf);
		xr_merkle_frontier_push(&l->frontier, leaf, on_node, &ac);
		l->size = index + 1;
		if (l->size - l->cp_size >= l->cp_every &&
		    (rc = cut_checkpoint(l, wb, &tmp, err)) < 0)
			goto undo;
	}

	/* Envelope ids must be new: within the batch and in the ledger. */
	if (nids) {
		qsort(ids, nids, 40, cmp_id);
		for (size_t i = 0; i < nids; i++) {
			char *e = NULL, hex[65];
			if (i + 1 < nids && memcmp(ids[i], ids[i + 1], 32) == 0) {
				xr_hex_encode(ids[i], 32, hex);
				rc = xr_err_set(err, XR_EEXIST,
						"envelope 0x%s appears twice in the batch", hex);
				goto undo;
			}
			size_t vl;
			rocksdb_pinnableslice_t *ps = rocksdb_get_pinned_cf(
			    l->db, l->ro, l->cf[CF_IDX_ENVELOPE], (const char *)ids[i], 32, &e);
			(void)vl;
			if (e) {
				rc = rerr(err, e, "checking for duplicate envelopes");
				goto undo;
			}
			if (ps) {
				rocksdb_pinnableslice_destroy(ps);
				xr_hex_encode(ids[i], 32, hex);
				rc = xr_err_set(err, XR_EEXIST,
						"envelope 0x%s is already on the ledger", hex);
				goto undo;
			}
			rocksdb_writebatch_put_cf(wb, l->cf[CF_IDX_ENVELOPE], (const char *)ids[i],
						  32, (const char *)ids[i] + 32, 8);
		}
	}
	if (nsrc && (rc = check_sources(l, b, wb, src, nsrc, err)) < 0)
		goto undo;
	if (l->size > l->cp_size && now_ms() - l->cp_time_ms >= l->cp_ms &&
	    (rc = cut_checkpoint(l, wb, &tmp, err)) < 0)
		goto undo;
	for (unsigned L = 0; L < MAX_TILE_LEVELS; L++)
		if (l->edge[L].dirty)
			put_tile(l, wb, L);
	for (size_t i = 0; i < b->ncurs; i++) {
		const struct batch_cursor *c = &b->curs[i];
		rocksdb_writebatch_put_cf(wb, l->cf[CF_CURSORS],
					  (const char *)b->data.data + c->key_off, c->key_len,
					  (const char *)b->data.data + c->val_off, c->val_len);
	}
	put_state(l, wb);
	{
		char *e = NULL;
		rocksdb_write(l->db, l->wo, wb, &e);
		if (e) {
			rc = rerr(err, e, "writing to the ledger");
			goto undo;
		}
	}
	pthread_mutex_lock(&l->lock);
	l->pub_size = l->size;
	l->pub_blocks = l->blocks;
	pthread_mutex_unlock(&l->lock);
	if (ret_first)
		*ret_first = first;
	goto out_free;

undo:
	l->size = first;
	l->blocks = save_blocks;
	l->cp_size = save_cps;
	l->cp_time_ms = save_cpt;
	memcpy(l->prev_hash, save_prev, 32);
	memcpy(&l->frontier, save_f, sizeof(*save_f));
	memcpy(l->edge, save_e, sizeof(l->edge));
	if (members_changed)
		members_load(l, NULL);
out_free:
	rocksdb_writebatch_destroy(wb);
	xr_buf_fini(&tmp);
	free(save_f);
	free(save_e);
	free(ids);
	free(src);
	return rc;
}

int xr_ledger_checkpoint_due(struct xr_ledger *l, struct xr_err *err)
{
	if (l->read_only || l->size == l->cp_size || now_ms() - l->cp_time_ms < l->cp_ms)
		return 0;
	return xr_ledger_checkpoint(l, err);
}

int xr_ledger_checkpoint(struct xr_ledger *l, struct xr_err *err)
{
	if (l->read_only)
		return xr_err_set(err, XR_ESTATE, "the ledger is open read-only");
	if (l->blocks && l->cp_size == l->size)
		return 0;
	struct xr_buf tmp;
	rocksdb_writebatch_t *wb = rocksdb_writebatch_create();
	uint64_t save_blocks = l->blocks, save_cps = l->cp_size, save_cpt = l->cp_time_ms;
	uint8_t save_prev[32];
	char *e = NULL;
	int rc;

	memcpy(save_prev, l->prev_hash, 32);
	xr_buf_init(&tmp, XR_NOTE_MAX_LEN * 2);
	if ((rc = cut_checkpoint(l, wb, &tmp, err)) == 0) {
		put_state(l, wb);
		rocksdb_write(l->db, l->wo, wb, &e);
		if (e)
			rc = rerr(err, e, "writing a checkpoint");
	}
	if (rc == 0) {
		pthread_mutex_lock(&l->lock);
		l->pub_blocks = l->blocks;
		pthread_mutex_unlock(&l->lock);
	} else {
		l->blocks = save_blocks;
		l->cp_size = save_cps;
		l->cp_time_ms = save_cpt;
		memcpy(l->prev_hash, save_prev, 32);
	}
	rocksdb_writebatch_destroy(wb);
	xr_buf_fini(&tmp);
	return rc;
}

/* ---- reads ------------------------------------------------------------ */

static int get_into(struct xr_ledger *l,
		    int cf,
		    const void *k,
		    size_t kl,
		    struct xr_buf *ret,
		    const char *what,
		    struct xr_err *err)
{
	char *e = NULL;
	size_t vl;
	rocksdb_pinnableslice_t *ps =
	    rocksdb_get_pinned_cf(l->db, l->ro, l->cf[cf], (const char *)k, kl, &e);
	if (e)
		return rerr(err, e, what);
	if (!ps)
		return XR_ENOTFOUND;
	const char *v = rocksdb_pinnableslice_value(ps, &vl);
	xr_buf_put(ret, v, vl);
	rocksdb_pinnableslice_destroy(ps);
	return ret->failed ? xr_err_set(err, XR_ENOMEM, "out of memory %s", what) : 0;
}

int xr_ledger_cursor(struct xr_ledger *l, const char *chain, struct xr_buf *ret, struct xr_err *err)
{
	int rc = get_into(l, CF_CURSORS, chain, strlen(chain), ret, "reading a chain cursor", err);
	if (rc == XR_ENOTFOUND)
		return xr_err_set(err, rc, "no cursor for chain '%s'", chain);
	return rc;
}

int xr_ledger_record(struct xr_ledger *l, uint64_t index, struct xr_buf *ret, struct xr_err *err)
{
	uint8_t k[8];
	xr_put_be64(k, index);
	int rc = get_into(l, CF_RECORDS, k, 8, ret, "reading a record", err);
	if (rc == XR_ENOTFOUND)
		return xr_err_set(err, rc, "no record at index %llu (ledger size %llu)",
				  (unsigned long long)index, (unsigned long long)xr_ledger_size(l));
	return rc;
}

int xr_ledger_evidence(struct xr_ledger *l, uint64_t index, struct xr_buf *ret, struct xr_err *err)
{
	uint8_t k[8];
	xr_put_be64(k, index);
	int rc = get_into(l, CF_EVIDENCE, k, 8, ret, "reading evidence", err);
	return rc == XR_ENOTFOUND ? 0 : rc; /* no entry: empty evidence */
}

int xr_ledger_find_envelope(struct xr_ledger *l,
			    const uint8_t id[32],
			    uint64_t *ret_index,
			    struct xr_err *err)
{
	struct xr_buf b;
	char hex[65];
	xr_buf_init(&b, 64);
	int rc = get_into(l, CF_IDX_ENVELOPE, id, 32, &b, "looking up an envelope", err);
	if (rc == 0 && b.len != 8)
		rc = xr_err_set(err, XR_EIO, "envelope index entry has length %zu", b.len);
	if (rc == 0)
		*ret_index = xr_get_be64(b.data);
	xr_buf_fini(&b);
	if (rc == XR_ENOTFOUND) {
		xr_hex_encode(id, 32, hex);
		return xr_err_set(err, rc, "no envelope 0x%s on the ledger", hex);
	}
	return rc;
}

int xr_ledger_find_member(struct xr_ledger *l,
			  const char *name,
			  uint64_t *ret_index,
			  struct xr_member *ret,
			  struct xr_err *err)
{
	struct member_ent *m = member_find(l, name);
	if (!m)
		return xr_err_set(err, XR_ENOTFOUND, "'%s' is not an enrolled member", name);
	if (ret_index)
		*ret_index = m->index;
	if (ret)
		*ret = m->m;
	return 0;
}

static int check_size(struct xr_ledger *l, uint64_t size, struct xr_err *err)
{
	uint64_t have = xr_ledger_size(l);
	if (size > have)
		return xr_err_set(err, XR_EINVAL, "tree size %llu is beyond the ledger size %llu",
				  (unsigned long long)size, (unsigned long long)have);
	return 0;
}

int xr_ledger_root(struct xr_ledger *l, uint64_t size, uint8_t ret[32], struct xr_err *err)
{
	int rc = check_size(l, size, err);
	if (rc < 0)
		return rc;
	struct tile_reader *tr = malloc(sizeof(*tr));
	if (!tr)
		return xr_err_set(err, XR_ENOMEM, "out of memory computing a root");
	tile_reader_init(tr, l);
	rc = xr_merkle_root(size, subtree, tr, ret, err);
	free(tr);
	return rc;
}

int xr_ledger_inclusion(struct xr_ledger *l,
			uint64_t index,
			uint64_t size,
			uint8_t ret[][32],
			size_t *ret_n,
			struct xr_err *err)
{
	int rc = check_size(l, size, err);
	if (rc < 0)
		return rc;
	struct tile_reader *tr = malloc(sizeof(*tr));
	if (!tr)
		return xr_err_set(err, XR_ENOMEM, "out of memory computing a proof");
	tile_reader_init(tr, l);
	rc = xr_merkle_inclusion_proof(index, size, subtree, tr, ret, ret_n, err);
	free(tr);
	return rc;
}

int xr_ledger_consistency(struct xr_ledger *l,
			  uint64_t m,
			  uint64_t n,
			  uint8_t ret[][32],
			  size_t *ret_n,
			  struct xr_err *err)
{
	int rc = check_size(l, n, err);
	if (rc < 0)
		return rc;
	struct tile_reader *tr = malloc(sizeof(*tr));
	if (!tr)
		return xr_err_set(err, XR_ENOMEM, "out of memory computing a proof");
	tile_reader_init(tr, l);
	rc = xr_merkle_consistency_proof(m, n, subtree, tr, ret, ret_n, err);
	free(tr);
	return rc;
}

static int
parse_block(const struct xr_buf *b, size_t start, struct xr_checkpoint *cp, struct xr_err *err)
{
	const char *note = (const char *)b->data + start;
	size_t len = b->len - start;
	/* The text ends at the last blank line. */
	size_t tl = 0;
	for (size_t i = len; i >= 2; i--)
		if (note[i - 2] == '\n' && note[i - 1] == '\n') {
			tl = i - 1;
			break;
		}
	if (tl == 0)
		return xr_err_set(err, XR_EIO, "stored checkpoint is not a signed note");
	return xr_checkpoint_parse(note, tl, cp, err);
}

int xr_ledger_block(struct xr_ledger *l,
		    uint64_t n,
		    struct xr_buf *ret,
		    struct xr_checkpoint *cp,
		    struct xr_err *err)
{
	uint8_t k[8];
	size_t start = ret->len;
	xr_put_be64(k, n);
	int rc = get_into(l, CF_BLOCKS, k, 8, ret, "reading a checkpoint", err);
	if (rc == XR_ENOTFOUND)
		return xr_err_set(err, rc, "no block %llu (the ledger has %llu)",
				  (unsigned long long)n, (unsigned long long)xr_ledger_blocks(l));
	if (rc == 0 && cp)
		rc = parse_block(ret, start, cp, err);
	return rc;
}

int xr_ledger_block_covering(struct xr_ledger *l,
			     uint64_t index,
			     struct xr_buf *ret,
			     struct xr_checkpoint *cp,
			     struct xr_err *err)
{
	/* Sizes grow with block numbers: binary search for the first size > index. */
	uint64_t lo = 0, hi = xr_ledger_blocks(l);
	struct xr_buf tmp;
	struct xr_checkpoint c;
	int rc = 0;

	xr_buf_init(&tmp, XR_NOTE_MAX_LEN);
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		xr_buf_reset(&tmp);
		if ((rc = xr_ledger_block(l, mid, &tmp, &c, err)) < 0)
			goto out;
		if (c.size > index)
			hi = mid;
		else
			lo = mid + 1;
	}
	if (lo == xr_ledger_blocks(l)) {
		rc = xr_err_set(err, XR_ENOTFOUND,
				"no checkpoint covers record %llu yet; one is cut within the "
				"configured interval",
				(unsigned long long)index);
		goto out;
	}
	rc = xr_ledger_block(l, lo, ret, cp, err);
out:
	xr_buf_fini(&tmp);
	return rc;
}

/* ---- audit ------------------------------------------------------------ */

struct audit_ctx {
	struct xr_ledger *l;
	struct tile_reader *tr;
	int rc;
	struct xr_err *err;
};

static void audit_node(void *ctx, unsigned level, uint64_t index, const uint8_t hash[32])
{
	struct audit_ctx *a = ctx;
	if (level % TILE_H || a->rc < 0)
		return;
	unsigned L = level / TILE_H;
	uint64_t t = index / TILE_W;
	struct tile_reader *tr = a->tr;
	if (!tr->have[L] || tr->t[L] != t) {
		int rc = load_tile(a->l, L, t, tr->h[L], &tr->n[L], a->err);
		if (rc < 0) {
			a->rc = rc;
			return;
		}
		tr->have[L] = true;
		tr->t[L] = t;
	}
	unsigned off = (unsigned)(index % TILE_W);
	if (off >= tr->n[L] || memcmp(tr->h[L][off], hash, 32) != 0)
		a->rc = xr_err_set(a->err, XR_EVERIFY,
				   "stored merkle node at level %u index %llu differs from the "
				   "one derived from the records",
				   level, (unsigned long long)index);
}

/* The audit runs as a pipeline over the two halves of its work: a reader
 * thread iterates RocksDB and copies records and evidence into chunks, and
 * the calling thread decodes, hashes and checks them in order. */
#define AUDIT_CHUNK 4096
#define AUDIT_SLOTS 3

struct audit_chunk {
	uint64_t first;
	size_t n;
	struct xr_buf data;
	size_t off[AUDIT_CHUNK], len[AUDIT_CHUNK], ev_off[AUDIT_CHUNK], ev_len[AUDIT_CHUNK];
	uint64_t missing; /* first index not stored where expected; UINT64_MAX: none */
	bool extra;	  /* records are stored beyond the ledger size */
	bool last;
	char *rerr; /* a RocksDB read error */
};

struct audit_reader {
	struct xr_ledger *l;
	uint64_t size;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct audit_chunk ch[AUDIT_SLOTS];
	uint64_t produced, consumed;
	bool stop;
};

static void fill_chunk(struct audit_chunk *c,
		       rocksdb_iterator_t *it,
		       rocksdb_iterator_t *eit,
		       uint64_t *next,
		       uint64_t size)
{
	uint64_t i = *next;
	size_t kl, vl;
	xr_buf_reset(&c->data);
	c->first = i;
	c->n = 0;
	c->missing = UINT64_MAX;
	c->extra = c->last = false;
	while (c->n < AUDIT_CHUNK && i < size) {
		const char *k = rocksdb_iter_valid(it) ? rocksdb_iter_key(it, &kl) : NULL;
		if (!k || kl != 8 || xr_get_be64((const uint8_t *)k) != i) {
			c->missing = i;
			c->last = true;
			break;
		}
		const char *v = rocksdb_iter_value(it, &vl);
		c->off[c->n] = c->data.len;
		c->len[c->n] = vl;
		xr_buf_put(&c->data, v, vl);
		c->ev_off[c->n] = c->data.len;
		c->ev_len[c->n] = 0;
		/* Evidence is keyed like records; skip entries of other indices. */
		while (rocksdb_iter_valid(eit)) {
			const char *ek = rocksdb_iter_key(eit, &kl);
			uint64_t ei = kl == 8 ? xr_get_be64((const uint8_t *)ek) : UINT64_MAX;
			if (ei > i)
				break;
			if (ei == i) {
				v = rocksdb_iter_value(eit, &vl);
				xr_buf_put(&c->data, v, vl);
				c->ev_len[c->n] = vl;
			}
			rocksdb_iter_next(eit);
		}
		rocksdb_iter_next(it);
		c->n++;
		i++;
	}
	if (i == size) {
		c->last = true;
		c->extra = rocksdb_iter_valid(it);
	}
	char *e = NULL;
	rocksdb_iter_get_error(it, &e);
	if (!e)
		rocksdb_iter_get_error(eit, &e);
	if (e || c->data.failed) {
		c->rerr = e ? e : strdup("out of memory reading records");
		c->last = true;
	}
	*next = i;
}

static void *audit_reader_main(void *arg)
{
	struct audit_reader *r = arg;
	rocksdb_readoptions_t *ro = rocksdb_readoptions_create();
	rocksdb_readoptions_set_readahead_size(ro, 4 << 20);
	rocksdb_readoptions_set_fill_cache(ro, 0);
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(r->l->db, ro, r->l->cf[CF_RECORDS]);
	rocksdb_iterator_t *eit = rocksdb_create_iterator_cf(r->l->db, ro, r->l->cf[CF_EVIDENCE]);
	uint64_t next = 0;
	bool last = false;

	rocksdb_iter_seek_to_first(it);
	rocksdb_iter_seek_to_first(eit);
	while (!last) {
		pthread_mutex_lock(&r->mu);
		while (!r->stop && r->produced - r->consumed == AUDIT_SLOTS)
			pthread_cond_wait(&r->cv, &r->mu);
		bool stop = r->stop;
		struct audit_chunk *c = &r->ch[r->produced % AUDIT_SLOTS];
		pthread_mutex_unlock(&r->mu);
		if (stop)
			break;
		fill_chunk(c, it, eit, &next, r->size);
		last = c->last;
		pthread_mutex_lock(&r->mu);
		r->produced++;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
	}
	rocksdb_iter_destroy(it);
	rocksdb_iter_destroy(eit);
	rocksdb_readoptions_destroy(ro);
	return NULL;
}

struct audit_state {
	struct xr_ledger *l;
	const struct xr_vkey *keys;
	size_t nkeys, threshold;
	uint64_t nblocks;
	struct xr_audit_report rep;
	struct xr_merkle_frontier f;
	struct tile_reader tr;
	struct audit_ctx ac;
	struct member_ent *mem;
	size_t nmem;
	struct xr_buf note;
	uint8_t prev[32];
	struct xr_checkpoint cp;
	bool have_cp;
	struct xr_err *err;
};

/* Loads block rep.blocks: signatures, numbering and the hash chain. */
static int audit_load_block(struct audit_state *a)
{
	size_t tl;
	int rc;
	xr_buf_reset(&a->note);
	if ((rc = xr_ledger_block(a->l, a->rep.blocks, &a->note, &a->cp, a->err)) < 0 ||
	    (rc = xr_note_open((const char *)a->note.data, a->note.len, a->keys, a->nkeys,
			       a->threshold, &tl, NULL, a->err)) < 0)
		return rc;
	if (a->cp.block != a->rep.blocks)
		return xr_err_set(a->err, XR_EVERIFY, "it is numbered %llu",
				  (unsigned long long)a->cp.block);
	if (memcmp(a->cp.prev, a->prev, 32) != 0)
		return xr_err_set(a->err, XR_EVERIFY,
				  "it does not link to the previous block's hash");
	xr_sha256(a->note.data, tl, a->prev);
	a->have_cp = true;
	return 0;
}

/* Checks every block whose tree is the records audited so far. */
static int audit_blocks_here(struct audit_state *a)
{
	int rc;
	while (a->have_cp && a->cp.size == a->f.size) {
		uint8_t root[32];
		xr_merkle_frontier_root(&a->f, root);
		if (memcmp(root, a->cp.root, 32) != 0)
			return xr_err_set(
			    a->err, XR_EVERIFY,
			    "its root differs from the root of the first %llu records",
			    (unsigned long long)a->cp.size);
		a->rep.blocks++;
		a->have_cp = false;
		if (a->rep.blocks < a->nblocks && (rc = audit_load_block(a)) < 0)
			return rc;
	}
	if (a->have_cp && a->cp.size < a->f.size)
		return xr_err_set(a->err, XR_EVERIFY, "its size %llu is out of order",
				  (unsigned long long)a->cp.size);
	return 0;
}

static struct member_ent *audit_member(struct audit_state *a, const char *name)
{
	for (size_t j = 0; j < a->nmem; j++)
		if (strcmp(a->mem[j].m.name, name) == 0)
			return &a->mem[j];
	return NULL;
}

/* The same rules as append: committee authors sign nothing, everyone else
 * is enrolled and signs, only admins change membership. */
static int audit_record(
    struct audit_state *a, uint64_t i, const uint8_t *v, size_t vl, const uint8_t *ev, size_t evl)
{
	struct xr_record r;
	int rc;
	if ((rc = xr_record_decode(v, vl, &r, a->err)) < 0)
		return rc;
	struct member_ent *m = NULL;
	if (r.sig_len == 0) {
		bool known = false;
		for (size_t j = 0; j < a->nkeys && !known; j++)
			known = strcmp(a->keys[j].name, r.author) == 0;
		if (!known)
			return xr_err_set(a->err, XR_EVERIFY,
					  "unsigned record by '%s', who is not on the committee",
					  r.author);
	} else {
		const uint8_t *pub = NULL;
		struct xr_member self;
		if ((m = audit_member(a, r.author)))
			pub = m->m.pub;
		else if (i == 0 && r.type == XR_REC_MEMBER &&
			 xr_member_decode(r.body, r.body_len, &self, NULL) == 0 &&
			 strcmp(self.name, r.author) == 0 && (self.roles & XR_ROLE_ADMIN))
			pub = self.pub;
		if (!pub)
			return xr_err_set(a->err, XR_EVERIFY,
					  "record signed by '%s', who was not enrolled", r.author);
		if ((rc = xr_record_verify_sig(v, vl, &r, pub, a->err)) < 0)
			return rc;
		if (r.type == XR_REC_MEMBER && m && !(m->m.roles & XR_ROLE_ADMIN))
			return xr_err_set(a->err, XR_EVERIFY,
					  "membership changed by '%s', who is not an admin",
					  r.author);
		a->rep.signed_records++;
	}
	if (r.type == XR_REC_MEMBER) {
		struct xr_member mb;
		if ((rc = xr_member_decode(r.body, r.body_len, &mb, a->err)) < 0)
			return rc;
		struct member_ent *e = audit_member(a, mb.name);
		if (mb.op == XR_MEMBER_REVOKE && e) {
			*e = a->mem[--a->nmem];
		} else if (mb.op == XR_MEMBER_ENROL) {
			if (!e) {
				void *p = realloc(a->mem, (a->nmem + 1) * sizeof(*a->mem));
				if (!p)
					return xr_err_set(a->err, XR_ENOMEM, "out of memory");
				a->mem = p;
				e = &a->mem[a->nmem++];
			}
			e->m = mb;
			e->index = i;
		}
	} else if (r.type == XR_REC_ENVELOPE) {
		const uint8_t *env, *dig;
		size_t env_len;
		uint8_t evd[32];
		if ((rc = xr_envelope_body_decode(r.body, r.body_len, &env, &env_len, &dig,
						  a->err)) < 0)
			return rc;
		if (evl)
			xr_sha256(ev, evl, evd);
		else
			memcpy(evd, sha256_empty, 32);
		if (memcmp(evd, dig, 32) != 0)
			return xr_err_set(
			    a->err, XR_EVERIFY,
			    "stored evidence does not match the digest in the record");
	}
	uint8_t leaf[32];
	xr_merkle_leaf_hash(v, vl, leaf);
	xr_merkle_frontier_push(&a->f, leaf, audit_node, &a->ac);
	return a->ac.rc;
}

int xr_ledger_audit(struct xr_ledger *l,
		    const struct xr_vkey *keys,
		    size_t nkeys,
		    size_t threshold,
		    void (*progress)(void *ctx, uint64_t done, uint64_t total),
		    void *ctx,
		    struct xr_audit_report *ret,
		    struct xr_err *err)
{
	struct audit_state *a = calloc(1, sizeof(*a));
	struct audit_reader *rd = calloc(1, sizeof(*rd));
	bool started = false;
	pthread_t th;
	int rc = 0;

	if (!a || !rd) {
		free(a);
		free(rd);
		return xr_err_set(err, XR_ENOMEM, "out of memory auditing");
	}
	a->l = l;
	a->keys = keys;
	a->nkeys = nkeys;
	a->threshold = threshold;
	a->nblocks = xr_ledger_blocks(l);
	a->err = err;
	a->ac = (struct audit_ctx){l, &a->tr, 0, err};
	tile_reader_init(&a->tr, l);
	xr_buf_init(&a->note, XR_NOTE_MAX_LEN);
	rd->l = l;
	rd->size = xr_ledger_size(l);
	pthread_mutex_init(&rd->mu, NULL);
	pthread_cond_init(&rd->cv, NULL);
	for (int s = 0; s < AUDIT_SLOTS; s++)
		xr_buf_init(&rd->ch[s].data, (size_t)1 << 31);

	if (a->nblocks && (rc = audit_load_block(a)) < 0)
		goto fail_block;
	if ((rc = audit_blocks_here(a)) < 0)
		goto fail_block;
	if (pthread_create(&th, NULL, audit_reader_main, rd) != 0) {
		rc = xr_err_set(err, XR_EIO, "cannot start the audit reader thread");
		goto out;
	}
	started = true;
	for (bool last = rd->size == 0; !last;) {
		pthread_mutex_lock(&rd->mu);
		while (rd->produced == rd->consumed)
			pthread_cond_wait(&rd->cv, &rd->mu);
		struct audit_chunk *c = &rd->ch[rd->consumed % AUDIT_SLOTS];
		pthread_mutex_unlock(&rd->mu);
		for (size_t k = 0; k < c->n; k++) {
			uint64_t i = c->first + k;
			if ((rc = audit_record(a, i, c->data.data + c->off[k], c->len[k],
					       c->data.data + c->ev_off[k], c->ev_len[k])) < 0) {
				a->rep.bad_index = i;
				xr_err_prefix(err, "record %llu", (unsigned long long)i);
				goto out;
			}
			a->rep.records = i + 1;
			if ((rc = audit_blocks_here(a)) < 0)
				goto fail_block;
		}
		if (c->rerr) {
			rc = rerr(err, c->rerr, "reading records");
			c->rerr = NULL;
			goto out;
		}
		if (c->missing != UINT64_MAX) {
			a->rep.bad_index = c->missing;
			rc = xr_err_set(err, XR_EVERIFY, "record %llu is missing",
					(unsigned long long)c->missing);
			goto out;
		}
		if (c->extra) {
			rc = xr_err_set(err, XR_EVERIFY,
					"records beyond the ledger size %llu are stored",
					(unsigned long long)rd->size);
			goto out;
		}
		last = c->last;
		pthread_mutex_lock(&rd->mu);
		rd->consumed++;
		pthread_cond_broadcast(&rd->cv);
		pthread_mutex_unlock(&rd->mu);
		if (progress)
			progress(ctx, a->rep.records, rd->size);
	}
	if (progress && rd->size == 0)
		progress(ctx, 0, 0);
	if (a->rep.blocks < a->nblocks) {
		rc = xr_err_set(err, XR_EVERIFY, "it covers %llu records, the ledger has %llu",
				(unsigned long long)a->cp.size, (unsigned long long)rd->size);
		goto fail_block;
	}
	goto out;

fail_block:
	a->rep.bad_index = a->rep.blocks;
	xr_err_prefix(err, "block %llu", (unsigned long long)a->rep.blocks);
out:
	if (started) {
		pthread_mutex_lock(&rd->mu);
		rd->stop = true;
		pthread_cond_broadcast(&rd->cv);
		pthread_mutex_unlock(&rd->mu);
		pthread_join(th, NULL);
	}
	for (int s = 0; s < AUDIT_SLOTS; s++) {
		xr_buf_fini(&rd->ch[s].data);
		free(rd->ch[s].rerr);
	}
	pthread_mutex_destroy(&rd->mu);
	pthread_cond_destroy(&rd->cv);
	if (ret)
		*ret = a->rep;
	xr_buf_fini(&a->note);
	free(a->mem);
	free(a);
	free(rd);
	return rc;
}
