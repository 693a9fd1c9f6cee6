/* ledger.c - the ledger on RocksDB: records, Merkle tiles, checkpoints,
 * indices, cursors and members; each append is one synced WriteBatch.
 *
 * Merkle nodes are stored as tiles of height 4 (as in transparency logs'
 * tiles): tile (L, t) holds the up to 16 node hashes at node level 4L with
 * indices [16t, 16t + 16); levels 4L+1..4L+3 are recomputed from them (at
 * most 15 hashes). That writes about 1.07 tile puts per 16 records instead of
 * two node puts per record, and keeps a proof at a handful of reads. */
#include "ledger.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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

/* The members in force at some index of the log. */
struct members {
	struct member_ent *v;
	size_t n;
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
	/* How long ago the newest checkpoint was cut is cp_age0 plus the
	 * monotonic time since cp_mono0: a wall clock that steps back neither
	 * underflows it nor makes it grow. */
	uint64_t cp_mono0, cp_age0;
	struct xr_merkle_frontier frontier;
	struct edge_tile edge[MAX_TILE_LEVELS];

	struct members mem;
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

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Milliseconds since the newest checkpoint (0 when it lies in the future). */
static uint64_t since_checkpoint(const struct xr_ledger *l)
{
	uint64_t m = mono_ms();
	return l->cp_age0 + (m > l->cp_mono0 ? m - l->cp_mono0 : 0);
}

/* The clock baseline after loading a checkpoint time from disk. */
static void clock_from_wall(struct xr_ledger *l)
{
	uint64_t now = now_ms();
	l->cp_age0 = now > l->cp_time_ms ? now - l->cp_time_ms : 0;
	l->cp_mono0 = mono_ms();
}

/* A checkpoint's time: now, but never before the previous checkpoint's, so
 * that times never decrease when the clock steps back (the audit checks it). */
static uint64_t checkpoint_time(uint64_t prev, uint64_t now)
{
	return now > prev ? now : prev;
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
	if (len > XR_RECORD_MAX_LEN)
		return xr_err_set(err, XR_ETOOBIG,
				  "record of %zu bytes is larger than a record may be (%zu bytes)",
				  len, (size_t)XR_RECORD_MAX_LEN);
	if (evidence_len > XR_LEDGER_EVIDENCE_MAX)
		return xr_err_set(
		    err, XR_ETOOBIG,
		    "evidence of %zu bytes is larger than the ledger's cap of %u bytes",
		    evidence_len, XR_LEDGER_EVIDENCE_MAX);
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

/* ---- members and the rules of who writes what -------------------------- */

static struct member_ent *members_find(const struct members *ms, const char *name)
{
	for (size_t i = 0; i < ms->n; i++)
		if (strcmp(ms->v[i].m.name, name) == 0)
			return &ms->v[i];
	return NULL;
}

/* Applies a MEMBER body: an enrolment adds or replaces the member; a
 * revocation must name a member and carry the key it is enrolled with. */
static int
members_change(struct members *ms, const struct xr_member *m, uint64_t index, struct xr_err *err)
{
	struct member_ent *e = members_find(ms, m->name);
	if (m->op == XR_MEMBER_REVOKE) {
		if (!e)
			return xr_err_set(err, XR_EVERIFY, "cannot revoke '%s': not a member",
					  m->name);
		if (memcmp(e->m.pub, m->pub, 32) != 0)
			return xr_err_set(err, XR_EVERIFY,
					  "cannot revoke '%s' with this key: it is enrolled with "
					  "another key (at record %llu)",
					  m->name, (unsigned long long)e->index);
		*e = ms->v[--ms->n];
		return 0;
	}
	if (!e) {
		void *p = realloc(ms->v, (ms->n + 1) * sizeof(*ms->v));
		if (!p)
			return xr_err_set(err, XR_ENOMEM, "out of memory enrolling a member");
		ms->v = p;
		e = &ms->v[ms->n++];
	}
	e->m = *m;
	e->index = index;
	return 0;
}

/* Who may write records of each type without being on the committee. */
static const struct {
	uint8_t type, roles;
} writer_roles[] = {
    {XR_REC_ENVELOPE, XR_ROLE_RELAYER | XR_ROLE_DAPP},
    {XR_REC_CHAIN, XR_ROLE_ADMIN | XR_ROLE_DEPLOYER},
    {XR_REC_MEMBER, XR_ROLE_ADMIN},
    {XR_REC_DELIVERY, XR_ROLE_RELAYER},
    {XR_REC_ALERT, XR_ROLE_RELAYER},
};

uint8_t xr_ledger_writer_roles(uint8_t type)
{
	for (size_t i = 0; i < sizeof(writer_roles) / sizeof(writer_roles[0]); i++)
		if (writer_roles[i].type == type)
			return writer_roles[i].roles;
	return 0;
}

/* The committee by name: the signers a writer holds, or the verifier keys an
 * auditor was given. Each element of keys is `stride` bytes and starts with
 * a struct xr_vkey (struct xr_signer does). */
struct committee {
	const void *keys;
	size_t n, stride;
};

static bool committee_has(const struct committee *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++) {
		const struct xr_vkey *k =
		    (const struct xr_vkey *)((const char *)c->keys + i * c->stride);
		if (strcmp(k->name, name) == 0)
			return true;
	}
	return false;
}

/* The one set of rules append and audit both apply to the record r (encoded
 * as enc) at `index`, given the members in force: committee members write
 * without a signature; everyone else is enrolled, signs with the enrolled
 * key and holds a role that may write the record's type; the very first
 * record may instead be an admin's self-enrolment, signed by the key it
 * enrols. A MEMBER record is then applied to ms (on refusal ms is unchanged)
 * and, when ret_m is not NULL, returned. *ret_signed says whether a member
 * signed the record. */
static int rules_apply(struct members *ms,
		       const struct committee *c,
		       const uint8_t *enc,
		       size_t len,
		       const struct xr_record *r,
		       uint64_t index,
		       bool *ret_signed,
		       struct xr_member *ret_m,
		       struct xr_err *err)
{
	struct xr_member m = {0};
	int rc;
	if (r->type == XR_REC_MEMBER && (rc = xr_member_decode(r->body, r->body_len, &m, err)) < 0)
		return rc;
	if (r->sig_len == 0) {
		if (!committee_has(c, r->author))
			return xr_err_set(err, XR_EVERIFY,
					  "record by '%s' has no signature and '%s' is not a "
					  "committee member",
					  r->author, r->author);
	} else {
		const struct member_ent *e = members_find(ms, r->author);
		const uint8_t *pub;
		uint8_t roles;
		bool self = r->type == XR_REC_MEMBER && strcmp(m.name, r->author) == 0;
		if (e) {
			pub = e->m.pub;
			roles = e->m.roles;
		} else if (index == 0 && self && m.op == XR_MEMBER_ENROL &&
			   (m.roles & XR_ROLE_ADMIN)) {
			pub = m.pub;
			roles = m.roles;
		} else if (index == 0 && self) {
			return xr_err_set(
			    err, XR_EVERIFY,
			    "record author '%s' is not an enrolled member: the first "
			    "record may enrol its own author as an admin, this one %s",
			    r->author,
			    m.op == XR_MEMBER_ENROL ? "lacks the admin role" : "revokes");
		} else {
			return xr_err_set(err, XR_EVERIFY,
					  "record author '%s' is not an enrolled member",
					  r->author);
		}
		if ((rc = xr_record_verify_sig(enc, len, r, pub, err)) < 0)
			return rc;
		uint8_t need = xr_ledger_writer_roles(r->type);
		if (!(roles & need)) {
			char have[64], want[64];
			xr_roles_format(roles, have);
			xr_roles_format(need, want);
			return xr_err_set(err, XR_EVERIFY,
					  "member '%s' (roles %s) may not write %s records, which "
					  "take one of the roles %s",
					  r->author, have, xr_record_type_name(r->type), want);
		}
	}
	if (r->type == XR_REC_MEMBER) {
		if ((rc = members_change(ms, &m, index, err)) < 0)
			return rc;
		if (ret_m)
			*ret_m = m;
	}
	if (ret_signed)
		*ret_signed = r->sig_len != 0;
	return 0;
}

static int members_load(struct xr_ledger *l, struct xr_err *err)
{
	l->mem.n = 0;
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(l->db, l->ro, l->cf[CF_MEMBERS]);
	int rc = 0;
	for (rocksdb_iter_seek_to_first(it); rocksdb_iter_valid(it); rocksdb_iter_next(it)) {
		size_t vl;
		const char *v = rocksdb_iter_value(it, &vl);
		struct xr_member m;
		if (vl < 8 ||
		    (rc = xr_member_decode((const uint8_t *)v + 8, vl - 8, &m, err)) < 0 ||
		    m.op != XR_MEMBER_ENROL) {
			rc = xr_err_set(err, XR_EIO, "stored member entry is corrupt");
			break;
		}
		if ((rc = members_change(&l->mem, &m, xr_get_be64((const uint8_t *)v), err)) < 0)
			break;
	}
	rocksdb_iter_destroy(it);
	return rc;
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
		clock_from_wall(l);
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
	clock_from_wall(l);
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
	free(l->mem.v);
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
	cp.time_ms = l->blocks ? checkpoint_time(l->cp_time_ms, now_ms()) : now_ms();
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
	l->cp_age0 = 0;
	l->cp_mono0 = mono_ms();
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

/* The fields of an envelope the dedup keys are made of, and its id. */
struct env_keys {
	uint8_t id[32];
	uint8_t tx[32];
	uint64_t sequence;
	uint32_t log_index;
	uint8_t emitter_len, chain_len;
	uint8_t emitter[XR_ENV_EMITTER_MAX];
	char chain[XR_ENV_CHAIN_MAX];
};

static void env_keys_of(const struct xr_envelope *e, struct env_keys *k)
{
	size_t cl = strnlen(e->src_chain, XR_ENV_CHAIN_MAX);
	memcpy(k->tx, e->src_tx, 32);
	k->sequence = e->sequence;
	k->log_index = e->log_index;
	k->emitter_len = e->emitter_len;
	memcpy(k->emitter, e->emitter, e->emitter_len);
	k->chain_len = (uint8_t)cl;
	memcpy(k->chain, e->src_chain, cl);
}

static void source_key_of(int kind, const struct env_keys *k, uint8_t ret[32])
{
	uint8_t buf[1 + XR_ENV_CHAIN_MAX + 1 + 1 + XR_ENV_EMITTER_MAX + 32 + 8];
	size_t n = 0;
	buf[n++] = (uint8_t)kind;
	memcpy(buf + n, k->chain, k->chain_len);
	n += k->chain_len;
	buf[n++] = 0;
	if (kind == SK_TXLOG) {
		memcpy(buf + n, k->tx, 32);
		n += 32;
		xr_put_be32(buf + n, k->log_index);
		n += 4;
	} else {
		buf[n++] = k->emitter_len;
		memcpy(buf + n, k->emitter, k->emitter_len);
		n += k->emitter_len;
		if (kind == SK_SEQUENCE) {
			xr_put_be64(buf + n, k->sequence);
			n += 8;
		}
	}
	xr_sha256(buf, n, ret);
}

static void source_key(int kind, const struct xr_envelope *e, uint8_t ret[32])
{
	struct env_keys k;
	env_keys_of(e, &k);
	source_key_of(kind, &k, ret);
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
	const struct committee com = {l->signers, l->nsigners, sizeof(*l->signers)};
	int rc = 0;

	xr_buf_init(&tmp, XR_NOTE_MAX_LEN * 2);
	if (!save_f || !save_e || !ids || !src) {
		rc = xr_err_set(err, XR_ENOMEM, "out of memory appending to the ledger");
		goto out_free;
	}
	uint64_t first = l->size, save_blocks = l->blocks, save_cps = l->cp_size,
		 save_cpt = l->cp_time_ms, save_mono = l->cp_mono0, save_age = l->cp_age0;
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
		struct xr_member m;
		uint8_t k[8], leaf[32];

		if ((rc = xr_record_decode(enc, br->len, &r, err)) == 0) {
			members_changed |= r.type == XR_REC_MEMBER;
			rc = rules_apply(&l->mem, &com, enc, br->len, &r, index, NULL, &m, err);
		}
		if (rc < 0) {
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
			struct env_keys ek;
			env_keys_of(&e, &ek);
			for (int kind = SK_SEQUENCE; kind <= SK_EMITTER; kind++) {
				struct src_ent *se = &src[nsrc++];
				source_key_of(kind, &ek, se->key);
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
	if (l->size > l->cp_size && since_checkpoint(l) >= l->cp_ms &&
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
	l->cp_mono0 = save_mono;
	l->cp_age0 = save_age;
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
	if (l->read_only || l->size == l->cp_size || since_checkpoint(l) < l->cp_ms)
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
	uint64_t save_blocks = l->blocks, save_cps = l->cp_size, save_cpt = l->cp_time_ms,
		 save_mono = l->cp_mono0, save_age = l->cp_age0;
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
		l->cp_mono0 = save_mono;
		l->cp_age0 = save_age;
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

/* The envelope id of an encoded record; XR_EINVAL (without a message when
 * err is NULL) when it is not an ENVELOPE record or does not decode. */
static int record_envelope(const uint8_t *rec,
			   size_t len,
			   uint8_t ret_id[32],
			   struct xr_envelope *ret_e,
			   struct xr_err *err)
{
	struct xr_record r;
	const uint8_t *env, *dig;
	size_t env_len;
	int rc;
	if ((rc = xr_record_decode(rec, len, &r, err)) < 0)
		return rc;
	if (r.type != XR_REC_ENVELOPE)
		return xr_err_set(err, XR_EINVAL, "it is a %s record", xr_record_type_name(r.type));
	if ((rc = xr_envelope_body_decode(r.body, r.body_len, &env, &env_len, &dig, err)) < 0 ||
	    (ret_e && (rc = xr_envelope_decode(env, env_len, ret_e, err)) < 0))
		return rc;
	xr_envelope_id(env, env_len, ret_id);
	return 0;
}

int xr_ledger_find_envelope(struct xr_ledger *l,
			    const uint8_t id[32],
			    uint64_t *ret_index,
			    struct xr_err *err)
{
	struct xr_buf b;
	char hex[65], got[65];
	uint64_t index = 0;
	xr_hex_encode(id, 32, hex);
	xr_buf_init(&b, XR_RECORD_MAX_LEN);
	int rc = get_into(l, CF_IDX_ENVELOPE, id, 32, &b, "looking up an envelope", err);
	if (rc == XR_ENOTFOUND) {
		rc = xr_err_set(err, rc, "no envelope 0x%s on the ledger", hex);
		goto out;
	}
	if (rc == 0 && b.len != 8)
		rc = xr_err_set(err, XR_EIO, "envelope index entry has length %zu", b.len);
	if (rc < 0)
		goto out;
	/* The index is a hint: the record it names must hold the envelope. */
	index = xr_get_be64(b.data);
	xr_buf_reset(&b);
	uint8_t have[32];
	struct xr_err e2 = {0};
	rc = xr_ledger_record(l, index, &b, &e2);
	if (rc == 0 && (rc = record_envelope(b.data, b.len, have, NULL, &e2)) == 0 &&
	    memcmp(have, id, 32) != 0) {
		xr_hex_encode(have, 32, got);
		rc = xr_err_set(&e2, XR_EVERIFY, "it holds envelope 0x%s", got);
	}
	if (rc == XR_EIO || rc == XR_ENOMEM) {
		rc = xr_err_set(err, rc, "%s", e2.msg);
		goto out;
	}
	if (rc < 0) {
		rc = xr_err_set(err, XR_EVERIFY,
				"the envelope index maps 0x%s to record %llu, which does not hold "
				"it (%s)",
				hex, (unsigned long long)index, e2.msg);
		goto out;
	}
	*ret_index = index;
out:
	xr_buf_fini(&b);
	return rc;
}

int xr_ledger_find_member(struct xr_ledger *l,
			  const char *name,
			  uint64_t *ret_index,
			  struct xr_member *ret,
			  struct xr_err *err)
{
	struct member_ent *m = members_find(&l->mem, name);
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

/* ---- audit: uniqueness by external sort -------------------------------- */

/* Fixed-size entries that start with a 32-byte hash, sorted by their bytes.
 * They are appended to an arena in runs of at most RUN_BYTES, each sorted in
 * place as soon as it is full (in cache, while the audit goes on); the runs
 * are merged when read back. When the arena is full its runs are merged into
 * one run of an unlinked scratch file. Memory stays at the arena, the sort's
 * scratch and, when merging, a read buffer per file run: never a table of
 * every id. Errors latch in err; xsort_next then returns NULL. */
#define RUN_BYTES ((size_t)4 << 20)
#define READ_BYTES ((size_t)1 << 20)

struct xsort_run {
	const uint8_t *p;   /* the run's entries in memory, or its read buffer */
	uint8_t *buf;	    /* a file run's read buffer */
	size_t n, pos;	    /* entries at p; the current one */
	uint64_t off, left; /* a file run: where the rest is; entries not read yet */
};

struct xsort {
	size_t esz, run_max;	/* entry size; entries per run */
	uint8_t *arena, *tmp;	/* runs back to back (arena_max entries); sort scratch (shared) */
	size_t arena_max, used; /* entries the arena holds, and holds now */
	size_t run_start;	/* where the run being filled starts */
	const char *dir;
	int fd;
	uint64_t fend; /* bytes in the scratch file */
	struct xsort_run *runs;
	size_t nfile, nruns; /* file runs come first */
	size_t *heap, nheap, last;
	size_t rbytes; /* a file run's read buffer */
	bool have_last, merging;
	struct xr_err err;
};

/* Anonymous memory on huge pages where the kernel allows: the arena is
 * written once, front to back, and page faults were a large part of the
 * audit's profile. */
static void *big_alloc(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
#ifdef MADV_HUGEPAGE
	madvise(p, bytes, MADV_HUGEPAGE);
#endif
	return p;
}

static void xsort_init(struct xsort *s, size_t esz, size_t mem, const char *dir)
{
	memset(s, 0, sizeof(*s));
	s->esz = esz;
	s->run_max = RUN_BYTES / esz;
	if (s->run_max > mem / esz / 2)
		s->run_max = mem / esz / 2;
	if (s->run_max < 64)
		s->run_max = 64;
	s->arena_max = mem / esz / s->run_max * s->run_max;
	if (s->arena_max < 2 * s->run_max)
		s->arena_max = 2 * s->run_max;
	s->dir = dir;
	s->fd = -1;
}

static void xsort_fini(struct xsort *s)
{
	if (s->arena)
		munmap(s->arena, s->arena_max * s->esz);
	for (size_t i = 0; i < s->nfile; i++)
		free(s->runs[i].buf);
	free(s->runs);
	free(s->heap);
	if (s->fd >= 0)
		close(s->fd);
}

/* Entries in order: the first 8 bytes as a number decide almost always. */
static inline int entry_cmp(const uint8_t *a, const uint8_t *b, size_t esz)
{
	uint64_t x, y;
	memcpy(&x, a, 8);
	memcpy(&y, b, 8);
	if (x != y)
		return __builtin_bswap64(x) < __builtin_bswap64(y) ? -1 : 1;
	return memcmp(a + 8, b + 8, esz - 8);
}

static int entry_cmp_q(const void *a, const void *b, void *ctx)
{
	return entry_cmp(a, b, *(const size_t *)ctx);
}

static void insertion_sort(uint8_t *p, size_t n, size_t esz)
{
	uint8_t t[64];
	assert(esz <= sizeof(t));
	for (size_t i = 1; i < n; i++) {
		if (entry_cmp(p + (i - 1) * esz, p + i * esz, esz) <= 0)
			continue;
		size_t j = i;
		memcpy(t, p + i * esz, esz);
		while (j > 0 && entry_cmp(p + (j - 1) * esz, t, esz) > 0)
			j--;
		memmove(p + (j + 1) * esz, p + j * esz, (i - j) * esz);
		memcpy(p + j * esz, t, esz);
	}
}

/* One stable counting pass on byte b, from src into dst. */
static void radix_pass(const uint8_t *src, uint8_t *dst, size_t n, size_t esz, unsigned b)
{
	size_t cnt[257] = {0};
	for (size_t i = 0; i < n; i++)
		cnt[src[i * esz + b] + 1]++;
	for (unsigned k = 0; k < 256; k++)
		cnt[k + 1] += cnt[k];
	for (size_t i = 0; i < n; i++)
		memcpy(dst + cnt[src[i * esz + b]]++ * esz, src + i * esz, esz);
}

/* Sorts n entries in place: two radix passes on the first two bytes (the
 * entries start with hashes, so what is left is a handful of entries per
 * prefix), then each prefix group. A hostile ledger can fill one group (a
 * repeated id, or hashes ground to share two bytes); it is still sorted in
 * O(n log n). */
static void run_sort(struct xsort *s, uint8_t *p, size_t n)
{
	size_t esz = s->esz;
	if (n <= 32 || !s->tmp) {
		if (n <= 32)
			insertion_sort(p, n, esz);
		else
			qsort_r(p, n, esz, entry_cmp_q, &s->esz);
		return;
	}
	radix_pass(p, s->tmp, n, esz, 1);
	radix_pass(s->tmp, p, n, esz, 0);
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1;
		     j < n && p[j * esz] == p[i * esz] && p[j * esz + 1] == p[i * esz + 1]; j++)
			;
		if (j - i > 32)
			qsort_r(p + i * esz, j - i, esz, entry_cmp_q, &s->esz);
		else if (j - i > 1)
			insertion_sort(p + i * esz, j - i, esz);
	}
}

static const uint8_t *run_head(const struct xsort_run *r, size_t esz)
{
	return r->p + r->pos * esz;
}

static void heap_down(struct xsort_run *runs, size_t *heap, size_t n, size_t esz, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < n && entry_cmp(run_head(&runs[heap[l]], esz), run_head(&runs[heap[m]], esz),
				       esz) < 0)
			m = l;
		if (l + 1 < n && entry_cmp(run_head(&runs[heap[l + 1]], esz),
					   run_head(&runs[heap[m]], esz), esz) < 0)
			m = l + 1;
		if (m == i)
			return;
		size_t t = heap[i];
		heap[i] = heap[m];
		heap[m] = t;
		i = m;
	}
}

static int run_fill(struct xsort *s, struct xsort_run *r)
{
	size_t per = s->rbytes / s->esz;
	size_t k = r->left < per ? (size_t)r->left : per, len = k * s->esz;
	for (size_t done = 0; done < len;) {
		ssize_t got = pread(s->fd, r->buf + done, len - done, (off_t)(r->off + done));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return xr_err_set(&s->err, XR_EIO,
					  "cannot read the audit's scratch file: %s",
					  got < 0 ? strerror(errno) : "it is shorter than written");
		done += (size_t)got;
	}
	r->p = r->buf;
	r->off += len;
	r->left -= k;
	r->n = k;
	r->pos = 0;
	return 0;
}

static int write_all(struct xsort *s, const uint8_t *p, size_t len)
{
	if (s->fd < 0) {
		const char *dir = s->dir ? s->dir : getenv("TMPDIR");
		char path[4096];
		if (!dir || !*dir)
			dir = "/tmp";
		int w = snprintf(path, sizeof(path), "%s/xrelay-audit-XXXXXX", dir);
		if (w < 0 || (size_t)w >= sizeof(path))
			return xr_err_set(&s->err, XR_EINVAL, "scratch folder name is too long");
		if ((s->fd = mkostemp(path, O_CLOEXEC)) < 0)
			return xr_err_set(&s->err, XR_EIO,
					  "cannot create a scratch file for the audit in %s: %s",
					  dir, strerror(errno));
		unlink(path);
	}
	for (size_t done = 0; done < len;) {
		ssize_t w = pwrite(s->fd, p + done, len - done, (off_t)(s->fend + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return xr_err_set(&s->err, XR_EIO,
					  "cannot write the audit's scratch file: %s",
					  w < 0 ? strerror(errno) : "no space");
		done += (size_t)w;
	}
	s->fend += len;
	return 0;
}

/* Merges the arena's runs into one run of the scratch file. */
static int xsort_spill(struct xsort *s)
{
	size_t esz = s->esz, k = (s->used + s->run_max - 1) / s->run_max, nh = 0, on = 0;
	size_t per = READ_BYTES / esz;
	struct xsort_run *r = calloc(k, sizeof(*r));
	size_t *h = malloc(k * sizeof(*h));
	uint8_t *out = malloc(per * esz);
	void *nr = realloc(s->runs, (s->nfile + 1) * sizeof(*s->runs));
	int rc = 0;
	if (nr)
		s->runs = nr;
	if (!r || !h || !out || !nr) {
		rc = xr_err_set(&s->err, XR_ENOMEM, "out of memory sorting envelope keys");
		goto out;
	}
	uint64_t off = s->fend;
	for (size_t i = 0; i < k; i++) {
		size_t a = i * s->run_max, b = a + s->run_max < s->used ? a + s->run_max : s->used;
		r[i] = (struct xsort_run){.p = s->arena + a * esz, .n = b - a};
		h[nh++] = i;
	}
	for (size_t i = nh / 2; i-- > 0;)
		heap_down(r, h, nh, esz, i);
	while (nh) {
		struct xsort_run *t = &r[h[0]];
		memcpy(out + on++ * esz, run_head(t, esz), esz);
		if (on == per) {
			if ((rc = write_all(s, out, on * esz)) < 0)
				goto out;
			on = 0;
		}
		if (++t->pos == t->n)
			h[0] = h[--nh];
		if (nh)
			heap_down(r, h, nh, esz, 0);
	}
	if (on && (rc = write_all(s, out, on * esz)) < 0)
		goto out;
	s->runs[s->nfile++] = (struct xsort_run){.off = off, .left = s->used};
	s->used = s->run_start = 0;
out:
	free(r);
	free(h);
	free(out);
	return rc;
}

static void xsort_add(struct xsort *s, const void *e)
{
	if (s->err.code)
		return;
	if (!s->arena) {
		s->arena = big_alloc(s->arena_max * s->esz);
		if (!s->arena) {
			xr_err_set(&s->err, XR_ENOMEM, "out of memory sorting envelope keys");
			return;
		}
	}
	memcpy(s->arena + s->used++ * s->esz, e, s->esz);
	if (s->used - s->run_start == s->run_max) {
		run_sort(s, s->arena + s->run_start * s->esz, s->run_max);
		s->run_start = s->used;
		if (s->used == s->arena_max)
			xsort_spill(s);
	}
}

/* Ends the adding: sorts the last run and sets up the merge of every run. */
static int xsort_finish(struct xsort *s)
{
	size_t esz = s->esz;
	if (s->err.code)
		return s->err.code;
	if (s->used > s->run_start)
		run_sort(s, s->arena + s->run_start * esz, s->used - s->run_start);
	size_t nmem = (s->used + s->run_max - 1) / s->run_max;
	void *nr = realloc(s->runs, (s->nfile + nmem + 1) * sizeof(*s->runs));
	if (nr)
		s->runs = nr;
	if (!nr || !(s->heap = malloc((s->nfile + nmem + 1) * sizeof(*s->heap))))
		return xr_err_set(&s->err, XR_ENOMEM, "out of memory merging envelope keys");
	/* Read buffers take about the arena's size, however many runs there are
	 * (at least 64 KiB each: a run per arena of data). */
	s->rbytes = s->nfile ? s->arena_max * esz / s->nfile : READ_BYTES;
	s->rbytes = s->rbytes > READ_BYTES    ? READ_BYTES
		    : s->rbytes < (64u << 10) ? 64u << 10
					      : s->rbytes;
	s->rbytes = s->rbytes / esz * esz;
	for (size_t i = 0; i < s->nfile; i++) {
		if (!(s->runs[i].buf = malloc(s->rbytes)))
			return xr_err_set(&s->err, XR_ENOMEM,
					  "out of memory merging envelope keys");
		if (run_fill(s, &s->runs[i]) < 0)
			return s->err.code;
	}
	s->nruns = s->nfile;
	for (size_t i = 0; i < nmem; i++) {
		size_t a = i * s->run_max, b = a + s->run_max < s->used ? a + s->run_max : s->used;
		s->runs[s->nruns++] = (struct xsort_run){.p = s->arena + a * esz, .n = b - a};
	}
	for (size_t i = 0; i < s->nruns; i++)
		if (s->runs[i].n)
			s->heap[s->nheap++] = i;
	for (size_t i = s->nheap / 2; i-- > 0;)
		heap_down(s->runs, s->heap, s->nheap, esz, i);
	s->merging = true;
	return 0;
}

/* The next entry in order, valid until the next call; NULL at the end or
 * after an error. */
static const uint8_t *xsort_next(struct xsort *s)
{
	if (s->err.code || !s->merging)
		return NULL;
	if (s->have_last) {
		struct xsort_run *r = &s->runs[s->last];
		if (++r->pos == r->n) {
			if (r->left) {
				if (run_fill(s, r) < 0)
					return NULL;
			} else {
				s->heap[0] = s->heap[--s->nheap];
			}
		}
		if (s->nheap)
			heap_down(s->runs, s->heap, s->nheap, s->esz, 0);
	}
	if (s->nheap == 0)
		return NULL;
	s->last = s->heap[0];
	s->have_last = true;
	return run_head(&s->runs[s->last], s->esz);
}

/* Recent emitters and their highest sequence, so that an honest ledger's few
 * emitters cost no sorting; an evicted slot goes to the sort. */
#define EM_SLOTS 1024

struct em_slot {
	uint8_t key[32];
	uint64_t seq;
	bool used;
};

/* The keys every envelope record holds, as the audit derives them, in two
 * shards by the first bit of the key, so that both cores join. */
#define SHARDS 2

struct shard {
	struct xsort ids; /* envelope id, be64 record index */
	struct xsort
	    src;	 /* (chain, emitter, sequence) or (chain, tx, log index) key, envelope id */
	struct xsort em; /* (chain, emitter) key, be64 sequence: the highest counts */
};

struct uniq {
	struct shard sh[SHARDS];
	struct em_slot *slot;
	uint8_t *tmp; /* the sorters' scratch: one sorts at a time */
	uint64_t envelopes;
};

static struct shard *shard_of(struct uniq *u, const uint8_t *key)
{
	return &u->sh[key[0] >> 7];
}

static int uniq_init(struct uniq *u, size_t mem, const char *dir, struct xr_err *err)
{
	for (int i = 0; i < SHARDS; i++) {
		size_t m = mem / SHARDS;
		xsort_init(&u->sh[i].ids, 40, m / 4, dir);
		xsort_init(&u->sh[i].src, 64, m / 2 + m / 8, dir);
		xsort_init(&u->sh[i].em, 40, m / 8, dir);
	}
	u->envelopes = 0;
	if (!(u->slot = calloc(EM_SLOTS, sizeof(*u->slot))) || !(u->tmp = big_alloc(RUN_BYTES)))
		return xr_err_set(err, XR_ENOMEM, "out of memory auditing");
	for (int i = 0; i < SHARDS; i++)
		u->sh[i].ids.tmp = u->sh[i].src.tmp = u->sh[i].em.tmp = u->tmp;
	return 0;
}

static void uniq_fini(struct uniq *u)
{
	for (int i = 0; i < SHARDS; i++) {
		xsort_fini(&u->sh[i].ids);
		xsort_fini(&u->sh[i].src);
		xsort_fini(&u->sh[i].em);
	}
	free(u->slot);
	if (u->tmp)
		munmap(u->tmp, RUN_BYTES);
}

static void em_flush(struct uniq *u, const struct em_slot *sl)
{
	uint8_t ent[40];
	memcpy(ent, sl->key, 32);
	xr_put_be64(ent + 32, sl->seq);
	xsort_add(&shard_of(u, ent)->em, ent);
}

static void uniq_add(struct uniq *u, const struct env_keys *ek, uint64_t index)
{
	uint8_t ent[64], k[32];
	memcpy(ent, ek->id, 32);
	xr_put_be64(ent + 32, index);
	xsort_add(&shard_of(u, ent)->ids, ent);
	memcpy(ent + 32, ek->id, 32);
	source_key_of(SK_SEQUENCE, ek, ent);
	xsort_add(&shard_of(u, ent)->src, ent);
	source_key_of(SK_TXLOG, ek, ent);
	xsort_add(&shard_of(u, ent)->src, ent);
	source_key_of(SK_EMITTER, ek, k);
	struct em_slot *sl = &u->slot[((size_t)k[0] << 8 | k[1]) % EM_SLOTS];
	if (sl->used && memcmp(sl->key, k, 32) == 0) {
		sl->seq = ek->sequence > sl->seq ? ek->sequence : sl->seq;
	} else {
		if (sl->used)
			em_flush(u, sl);
		memcpy(sl->key, k, 32);
		sl->seq = ek->sequence;
		sl->used = true;
	}
	u->envelopes++;
}

static void uniq_finish(struct uniq *u)
{
	for (size_t i = 0; i < EM_SLOTS; i++)
		if (u->slot[i].used)
			em_flush(u, &u->slot[i]);
	for (int i = 0; i < SHARDS; i++) {
		xsort_finish(&u->sh[i].ids);
		xsort_finish(&u->sh[i].src);
		xsort_finish(&u->sh[i].em);
	}
}

enum { ENV_NONE, ENV_KEYS, ENV_BAD };

/* Decodes an ENVELOPE record's envelope for the uniqueness check, in the
 * reader thread: ENV_KEYS with its id and key fields in *k, ENV_BAD when the
 * envelope does not decode (the consumer says why), ENV_NONE otherwise. */
static uint8_t derive(const uint8_t *v, size_t vl, struct env_keys *k)
{
	struct xr_envelope e;
	struct xr_record r;
	const uint8_t *env, *dig;
	size_t env_len;
	if (xr_record_decode(v, vl, &r, NULL) < 0 || r.type != XR_REC_ENVELOPE ||
	    xr_envelope_body_decode(r.body, r.body_len, &env, &env_len, &dig, NULL) < 0)
		return ENV_NONE; /* the consumer reports the record */
	if (xr_envelope_decode(env, env_len, &e, NULL) < 0)
		return ENV_BAD;
	xr_envelope_id(env, env_len, k->id);
	env_keys_of(&e, k);
	return ENV_KEYS;
}

/* What joining the sorted keys with an index found: the first duplicate and
 * the first disagreement, and how many of each. */
struct join_res {
	struct xr_err err; /* the join could not finish */
	uint64_t ndup, nbad;
	bool dup;
	uint8_t key[32];	  /* the envelope id, or the source key */
	uint64_t a, b;		  /* the records holding the id (a < b) */
	uint8_t ida[32], idb[32]; /* the envelopes holding the source key */
	bool bad;
	char msg[400];
	uint64_t bad_index; /* UINT64_MAX: not known */
	bool bad_has_id;
	uint8_t bad_id[32]; /* the envelope it concerns, to find its record */
};

__attribute__((format(printf, 4, 5))) static void
note_bad(struct join_res *j, uint64_t index, const uint8_t *id, const char *fmt, ...)
{
	j->nbad++;
	if (j->bad)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(j->msg, sizeof(j->msg), fmt, ap);
	va_end(ap);
	j->bad = true;
	j->bad_index = index;
	if ((j->bad_has_id = id != NULL))
		memcpy(j->bad_id, id, 32);
}

/* An index iterator over one shard's keys: those whose first bit is the
 * shard's (keys too short for one belong to shard 0). */
static rocksdb_iterator_t *
shard_iter(struct xr_ledger *l, const rocksdb_readoptions_t *ro, int cf, int shard)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(l->db, ro, l->cf[cf]);
	if (shard)
		rocksdb_iter_seek(it, "\x80", 1);
	else
		rocksdb_iter_seek_to_first(it);
	return it;
}

static bool shard_valid(rocksdb_iterator_t *it, int shard, const char **ret_k, size_t *ret_kl)
{
	if (!rocksdb_iter_valid(it))
		return false;
	*ret_k = rocksdb_iter_key(it, ret_kl);
	return shard || *ret_kl == 0 || (uint8_t)(*ret_k)[0] < 0x80;
}

static void
iter_done(rocksdb_iterator_t *it, struct xsort *s1, struct xsort *s2, struct join_res *j)
{
	char *e = NULL;
	rocksdb_iter_get_error(it, &e);
	if (e)
		rerr(&j->err, e, "reading an index");
	if (s1->err.code)
		xr_err_set(&j->err, s1->err.code, "%s", s1->err.msg);
	if (s2 && s2->err.code)
		xr_err_set(&j->err, s2->err.code, "%s", s2->err.msg);
	rocksdb_iter_destroy(it);
}

/* Envelope ids against idx_envelope (id -> be64 record index), both sorted. */
static void join_ids(struct xr_ledger *l,
		     const rocksdb_readoptions_t *ro,
		     int shard,
		     struct xsort *s,
		     struct join_res *j)
{
	rocksdb_iterator_t *it = shard_iter(l, ro, CF_IDX_ENVELOPE, shard);
	const uint8_t *e = xsort_next(s);
	char hx[65];
	for (;;) {
		size_t kl = 0, vl = 0;
		const char *ik = NULL;
		bool iv = shard_valid(it, shard, &ik, &kl);
		if (!e && !iv)
			break;
		if (iv && kl != 32) {
			note_bad(j, UINT64_MAX, NULL, "the envelope index holds a key of %zu bytes",
				 kl);
			rocksdb_iter_next(it);
			continue;
		}
		int cmp = !e ? 1 : !iv ? -1 : memcmp(e, ik, 32);
		if (cmp > 0) {
			const char *v = rocksdb_iter_value(it, &vl);
			xr_hex_encode((const uint8_t *)ik, 32, hx);
			if (vl == 8)
				note_bad(
				    j, xr_get_be64((const uint8_t *)v), NULL,
				    "the envelope index maps 0x%s to record %llu, which does not "
				    "hold it",
				    hx, (unsigned long long)xr_get_be64((const uint8_t *)v));
			else
				note_bad(
				    j, UINT64_MAX, NULL,
				    "the envelope index maps 0x%s to %zu bytes, expected a record "
				    "index",
				    hx, vl);
			rocksdb_iter_next(it);
			continue;
		}
		uint8_t key[32];
		uint64_t first = xr_get_be64(e + 32), want = UINT64_MAX;
		bool matched = false;
		memcpy(key, e, 32);
		if (cmp == 0) {
			const char *v = rocksdb_iter_value(it, &vl);
			if (vl == 8)
				want = xr_get_be64((const uint8_t *)v);
		}
		for (;;) {
			uint64_t idx = xr_get_be64(e + 32);
			matched |= idx == want;
			if (idx != first) {
				j->ndup++;
				if (!j->dup || idx < j->b) {
					j->dup = true;
					memcpy(j->key, key, 32);
					j->a = first;
					j->b = idx;
				}
			}
			e = xsort_next(s);
			if (!e || memcmp(e, key, 32) != 0)
				break;
		}
		if (cmp < 0 || vl != 8 || !matched)
			xr_hex_encode(key, 32, hx);
		if (cmp < 0)
			note_bad(j, first, key,
				 "it holds envelope 0x%s, which the envelope index lacks", hx);
		else if (vl != 8)
			note_bad(
			    j, first, key,
			    "the envelope index maps its envelope 0x%s to %zu bytes, expected a "
			    "record index",
			    hx, vl);
		else if (!matched)
			note_bad(
			    j, want, NULL,
			    "the envelope index maps 0x%s to record %llu, which does not hold it "
			    "(record %llu does)",
			    hx, (unsigned long long)want, (unsigned long long)first);
		if (cmp == 0)
			rocksdb_iter_next(it);
	}
	iter_done(it, s, NULL, j);
}

/* Source keys (key -> envelope id) and emitters' highest sequences (key ->
 * be64) against idx_source, which holds both kinds. */
static void join_sources(struct xr_ledger *l,
			 const rocksdb_readoptions_t *ro,
			 int shard,
			 struct xsort *src,
			 struct xsort *em,
			 struct join_res *j)
{
	rocksdb_iterator_t *it = shard_iter(l, ro, CF_IDX_SOURCE, shard);
	const uint8_t *s = xsort_next(src), *m = xsort_next(em);
	char hk[65], hv[65];
	for (;;) {
		size_t kl = 0, vl = 0;
		const char *ik = NULL;
		bool iv = shard_valid(it, shard, &ik, &kl);
		if (!s && !m && !iv)
			break;
		if (iv && kl != 32) {
			note_bad(j, UINT64_MAX, NULL, "the source index holds a key of %zu bytes",
				 kl);
			rocksdb_iter_next(it);
			continue;
		}
		bool from_src = s && (!m || memcmp(s, m, 32) <= 0);
		const uint8_t *x = from_src ? s : m;
		int cmp = !x ? 1 : !iv ? -1 : memcmp(x, ik, 32);
		const uint8_t *v = iv ? (const uint8_t *)rocksdb_iter_value(it, &vl) : NULL;
		if (cmp > 0) {
			xr_hex_encode((const uint8_t *)ik, 32, hk);
			if (vl == 32) {
				xr_hex_encode(v, 32, hv);
				note_bad(
				    j, UINT64_MAX, NULL,
				    "the source index holds key 0x%s for envelope 0x%s, which no "
				    "record's envelope has",
				    hk, hv);
			} else {
				note_bad(
				    j, UINT64_MAX, NULL,
				    "the source index holds key 0x%s (%zu bytes of value), which "
				    "no record's envelope has",
				    hk, vl);
			}
			rocksdb_iter_next(it);
			continue;
		}
		uint8_t key[32];
		memcpy(key, x, 32);
		if (from_src) {
			uint8_t id0[32];
			bool matched = false;
			memcpy(id0, s + 32, 32);
			for (;;) {
				if (cmp == 0 && vl == 32 && memcmp(s + 32, v, 32) == 0)
					matched = true;
				if (memcmp(s + 32, id0, 32) != 0) {
					/* Another envelope on the same key. The same one again
					 * is the id check's to report. */
					j->ndup++;
					if (!j->dup) {
						j->dup = true;
						memcpy(j->key, key, 32);
						memcpy(j->ida, id0, 32);
						memcpy(j->idb, s + 32, 32);
					}
				}
				s = xsort_next(src);
				if (!s || memcmp(s, key, 32) != 0)
					break;
			}
			if (cmp < 0 || vl != 32 || !matched) {
				xr_hex_encode(key, 32, hk);
				xr_hex_encode(id0, 32, hv);
			}
			if (cmp < 0)
				note_bad(j, UINT64_MAX, id0,
					 "the source index lacks a source key of its envelope 0x%s",
					 hv);
			else if (vl != 32)
				note_bad(
				    j, UINT64_MAX, id0,
				    "the source index maps a source key of its envelope 0x%s to "
				    "%zu bytes, expected an envelope id",
				    hv, vl);
			else if (!matched)
				note_bad(
				    j, UINT64_MAX, id0,
				    "the source index maps the source key 0x%s of its envelope "
				    "0x%s to another envelope",
				    hk, hv);
		} else {
			uint64_t hi = xr_get_be64(m + 32);
			for (;;) {
				m = xsort_next(em);
				if (!m || memcmp(m, key, 32) != 0)
					break;
				uint64_t q = xr_get_be64(m + 32);
				hi = q > hi ? q : hi;
			}
			if (cmp < 0 || vl != 8 || xr_get_be64(v) != hi)
				xr_hex_encode(key, 32, hk);
			if (cmp < 0)
				note_bad(j, UINT64_MAX, NULL,
					 "the source index lacks the highest sequence %llu of the "
					 "emitter of key 0x%s",
					 (unsigned long long)hi, hk);
			else if (vl != 8 || xr_get_be64(v) != hi)
				note_bad(
				    j, UINT64_MAX, NULL,
				    "the source index gives the emitter of key 0x%s the highest "
				    "sequence %llu (%zu bytes), the records %llu",
				    hk, vl == 8 ? (unsigned long long)xr_get_be64(v) : 0ull, vl,
				    (unsigned long long)hi);
		}
		if (cmp == 0)
			rocksdb_iter_next(it);
	}
	iter_done(it, src, em, j);
}

/* Joins one shard: its ids (res[0]) and its source keys (res[1]). */
struct join_arg {
	struct xr_ledger *l;
	const rocksdb_readoptions_t *ro;
	struct shard *sh;
	int shard;
	struct join_res *res;
};

static void *join_shard(void *arg)
{
	struct join_arg *ja = arg;
	join_ids(ja->l, ja->ro, ja->shard, &ja->sh->ids, &ja->res[0]);
	join_sources(ja->l, ja->ro, ja->shard, &ja->sh->src, &ja->sh->em, &ja->res[1]);
	return NULL;
}

/* Finds the records holding the envelope ids ids[0..n) (a scan: only when
 * reporting a failure). Unfound ones stay UINT64_MAX. */
static void locate(struct xr_ledger *l,
		   const rocksdb_readoptions_t *ro,
		   const uint8_t (*ids)[32],
		   size_t n,
		   uint64_t *ret)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(l->db, ro, l->cf[CF_RECORDS]);
	size_t left = n;
	for (size_t i = 0; i < n; i++)
		ret[i] = UINT64_MAX;
	for (rocksdb_iter_seek_to_first(it); left && rocksdb_iter_valid(it);
	     rocksdb_iter_next(it)) {
		size_t kl, vl;
		const char *k = rocksdb_iter_key(it, &kl);
		const char *v = rocksdb_iter_value(it, &vl);
		uint8_t id[32];
		if (kl != 8 || vl > XR_RECORD_MAX_LEN ||
		    record_envelope((const uint8_t *)v, vl, id, NULL, NULL) < 0)
			continue;
		for (size_t i = 0; i < n; i++)
			if (ret[i] == UINT64_MAX && memcmp(id, ids[i], 32) == 0) {
				ret[i] = xr_get_be64((const uint8_t *)k);
				left--;
			}
	}
	rocksdb_iter_destroy(it);
}

/* Describes the source key `key` of the envelope in record `index`. */
static void
describe_key(struct xr_ledger *l, uint64_t index, const uint8_t key[32], char *out, size_t cap)
{
	struct xr_buf b;
	struct xr_envelope e;
	uint8_t id[32], k[32];
	char hex[2 * XR_ENV_EMITTER_MAX + 1];
	snprintf(out, cap, "source key 0x");
	xr_hex_encode(key, 32, hex);
	snprintf(out, cap, "source key 0x%s", hex);
	xr_buf_init(&b, XR_RECORD_MAX_LEN);
	if (xr_ledger_record(l, index, &b, NULL) == 0 &&
	    record_envelope(b.data, b.len, id, &e, NULL) == 0) {
		source_key(SK_SEQUENCE, &e, k);
		if (memcmp(k, key, 32) == 0) {
			xr_hex_encode(e.emitter, e.emitter_len, hex);
			snprintf(out, cap, "chain %s, emitter 0x%s, sequence %llu", e.src_chain,
				 hex, (unsigned long long)e.sequence);
		} else {
			xr_hex_encode(e.src_tx, 32, hex);
			snprintf(out, cap, "chain %s, tx 0x%s, log index %u", e.src_chain, hex,
				 e.log_index);
		}
	}
	xr_buf_fini(&b);
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
 * thread iterates RocksDB, copies records and evidence into chunks and
 * derives every envelope's keys for the uniqueness check; the calling thread
 * decodes, hashes and checks them in order. A chunk holds at most
 * AUDIT_CHUNK records and stops taking more past AUDIT_CHUNK_BYTES, so its
 * buffer is bounded by that plus one record and its evidence. */
#define AUDIT_CHUNK 4096
#define AUDIT_CHUNK_BYTES ((size_t)64 << 20)
#define AUDIT_SLOTS 3

struct audit_chunk {
	uint64_t first;
	size_t n; /* records complete in data; nothing is recorded of others */
	struct xr_buf data;
	size_t off[AUDIT_CHUNK], len[AUDIT_CHUNK], ev_off[AUDIT_CHUNK], ev_len[AUDIT_CHUNK];
	uint8_t env[AUDIT_CHUNK];	   /* ENV_NONE, ENV_KEYS or ENV_BAD */
	struct env_keys keys[AUDIT_CHUNK]; /* for ENV_KEYS */
	uint64_t missing; /* first index not stored where expected; UINT64_MAX: none */
	bool extra;	  /* records are stored beyond the ledger size */
	bool last;
	struct xr_err err; /* why reading stopped at record first + n */
};

struct audit_reader {
	struct xr_ledger *l;
	rocksdb_readoptions_t *ro;
	const rocksdb_snapshot_t *snap;
	uint64_t size;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct audit_chunk ch[AUDIT_SLOTS];
	uint64_t produced, consumed;
	bool stop;
	struct uniq u; /* fed by the consumer */
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
	xr_err_clear(&c->err);
	c->first = i;
	c->n = 0;
	c->missing = UINT64_MAX;
	c->extra = c->last = false;
	while (c->n < AUDIT_CHUNK && i < size && c->data.len < AUDIT_CHUNK_BYTES) {
		const char *k = rocksdb_iter_valid(it) ? rocksdb_iter_key(it, &kl) : NULL;
		if (!k || kl != 8 || xr_get_be64((const uint8_t *)k) != i) {
			c->missing = i;
			c->last = true;
			break;
		}
		const char *v = rocksdb_iter_value(it, &vl), *ev = NULL;
		size_t evl = 0;
		if (vl > XR_RECORD_MAX_LEN) {
			xr_err_set(&c->err, XR_EVERIFY,
				   "record %llu is %zu bytes, more than a record may be (%zu)",
				   (unsigned long long)i, vl, (size_t)XR_RECORD_MAX_LEN);
			break;
		}
		/* Evidence is keyed like records; skip entries of other indices. */
		while (rocksdb_iter_valid(eit)) {
			const char *ek = rocksdb_iter_key(eit, &kl);
			uint64_t ei = kl == 8 ? xr_get_be64((const uint8_t *)ek) : UINT64_MAX;
			if (ei > i)
				break;
			if (ei == i) {
				ev = rocksdb_iter_value(eit, &evl);
				break;
			}
			rocksdb_iter_next(eit);
		}
		if (evl > XR_LEDGER_EVIDENCE_MAX) {
			xr_err_set(&c->err, XR_EVERIFY,
				   "the evidence of record %llu is %zu bytes, more than the cap of "
				   "%u",
				   (unsigned long long)i, evl, XR_LEDGER_EVIDENCE_MAX);
			break;
		}
		size_t mark = c->data.len;
		xr_buf_put(&c->data, v, vl);
		xr_buf_put(&c->data, ev, evl);
		/* A latched buffer holds nothing more: stop before recording it. */
		if (c->data.failed) {
			xr_err_set(&c->err, XR_ENOMEM,
				   "out of memory reading record %llu (%zu bytes of records held)",
				   (unsigned long long)i, mark);
			break;
		}
		c->off[c->n] = mark;
		c->len[c->n] = vl;
		c->ev_off[c->n] = mark + vl;
		c->ev_len[c->n] = evl;
		c->env[c->n] = derive(c->data.data + mark, vl, &c->keys[c->n]);
		if (ev)
			rocksdb_iter_next(eit);
		rocksdb_iter_next(it);
		c->n++;
		i++;
	}
	if (!c->err.code && i == size) {
		c->last = true;
		c->extra = rocksdb_iter_valid(it);
	}
	char *e = NULL;
	rocksdb_iter_get_error(it, &e);
	if (!e)
		rocksdb_iter_get_error(eit, &e);
	if (e)
		rerr(&c->err, e, "reading records");
	if (c->err.code)
		c->last = true;
	*next = i;
}

static void *audit_reader_main(void *arg)
{
	struct audit_reader *r = arg;
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(r->l->db, r->ro, r->l->cf[CF_RECORDS]);
	rocksdb_iterator_t *eit =
	    rocksdb_create_iterator_cf(r->l->db, r->ro, r->l->cf[CF_EVIDENCE]);
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
	return NULL;
}

struct audit_state {
	struct xr_ledger *l;
	const struct xr_vkey *keys;
	size_t nkeys, threshold;
	struct committee com;
	uint64_t nblocks;
	struct xr_audit_report rep;
	struct xr_merkle_frontier f;
	struct tile_reader tr;
	struct audit_ctx ac;
	struct members mem;
	struct xr_buf note;
	uint8_t prev[32];
	uint64_t prev_time;
	struct xr_checkpoint cp;
	bool have_cp;
	struct xr_err *err;
};

/* Loads block rep.blocks: signatures, numbering, time and the hash chain. */
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
	if (a->rep.blocks && a->cp.time_ms < a->prev_time)
		return xr_err_set(
		    a->err, XR_EVERIFY, "its time %llu is before the time %llu of block %llu",
		    (unsigned long long)a->cp.time_ms, (unsigned long long)a->prev_time,
		    (unsigned long long)a->rep.blocks - 1);
	a->prev_time = a->cp.time_ms;
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

/* One record, by the rules append applies (rules_apply), then its envelope
 * and evidence, then its leaf. */
static int audit_record(struct audit_state *a,
			uint64_t i,
			const uint8_t *v,
			size_t vl,
			const uint8_t *ev,
			size_t evl,
			bool env_bad)
{
	struct xr_record r;
	bool sig;
	int rc;
	if ((rc = xr_record_decode(v, vl, &r, a->err)) < 0 ||
	    (rc = rules_apply(&a->mem, &a->com, v, vl, &r, i, &sig, NULL, a->err)) < 0)
		return rc;
	if (sig)
		a->rep.signed_records++;
	if (r.type == XR_REC_ENVELOPE) {
		const uint8_t *env, *dig;
		size_t env_len;
		uint8_t evd[32];
		if ((rc = xr_envelope_body_decode(r.body, r.body_len, &env, &env_len, &dig,
						  a->err)) < 0)
			return rc;
		if (env_bad) {
			struct xr_envelope e;
			if ((rc = xr_envelope_decode(env, env_len, &e, a->err)) == 0)
				rc = xr_err_set(a->err, XR_EVERIFY, "its envelope did not decode");
			return rc;
		}
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

/* The ledger's size and block count as of the audit's view. */
static int audit_view(struct xr_ledger *l,
		      const rocksdb_readoptions_t *ro,
		      uint64_t *ret_size,
		      uint64_t *ret_blocks,
		      struct xr_err *err)
{
	char *e = NULL;
	size_t vl;
	char *v =
	    rocksdb_get_cf(l->db, ro, l->cf[CF_DEFAULT], state_key, sizeof(state_key) - 1, &vl, &e);
	if (e)
		return rerr(err, e, "reading ledger state");
	*ret_size = *ret_blocks = 0;
	if (!v)
		return 0;
	int rc = vl == STATE_LEN
		     ? 0
		     : xr_err_set(err, XR_EIO, "ledger state has length %zu, expected %d", vl,
				  STATE_LEN);
	if (rc == 0) {
		*ret_size = xr_get_be64((const uint8_t *)v);
		*ret_blocks = xr_get_be64((const uint8_t *)v + 8);
	}
	free(v);
	return rc;
}

/* No block is stored past the block count. */
static int audit_no_more_blocks(struct audit_state *a, const rocksdb_readoptions_t *ro)
{
	rocksdb_iterator_t *it = rocksdb_create_iterator_cf(a->l->db, ro, a->l->cf[CF_BLOCKS]);
	uint8_t k[8];
	size_t kl;
	int rc = 0;
	xr_put_be64(k, a->nblocks);
	rocksdb_iter_seek(it, (const char *)k, 8);
	if (rocksdb_iter_valid(it)) {
		const char *ik = rocksdb_iter_key(it, &kl);
		rc = xr_err_set(
		    a->err, XR_EVERIFY, "block %llu is stored beyond the %llu blocks of the ledger",
		    kl == 8 ? (unsigned long long)xr_get_be64((const uint8_t *)ik) : 0ull,
		    (unsigned long long)a->nblocks);
	}
	char *e = NULL;
	rocksdb_iter_get_error(it, &e);
	if (e)
		rc = rerr(a->err, e, "reading blocks");
	rocksdb_iter_destroy(it);
	return rc;
}

/* The uniqueness check: the sorted keys against the indices, a shard per
 * core. What it reports first: an envelope twice, then two envelopes on one
 * source key, then an index that disagrees with the records. */
static int audit_uniq(struct audit_state *a, struct audit_reader *rd)
{
	struct uniq *u = &rd->u;
	struct join_res *j = calloc(2 * SHARDS, sizeof(*j));
	struct join_arg arg[SHARDS];
	pthread_t th[SHARDS];
	bool started[SHARDS] = {false};
	struct xr_err *err = a->err;
	char ha[65], hb[65], what[300];
	int rc = 0;

	if (!j)
		return xr_err_set(err, XR_ENOMEM, "out of memory auditing");
	for (int i = 0; i < SHARDS; i++) {
		arg[i] = (struct join_arg){a->l, rd->ro, &u->sh[i], i, &j[2 * i]};
		if (i + 1 < SHARDS)
			started[i] = pthread_create(&th[i], NULL, join_shard, &arg[i]) == 0;
		if (!started[i])
			join_shard(&arg[i]);
	}
	for (int i = 0; i < SHARDS; i++)
		if (started[i])
			pthread_join(th[i], NULL);
	struct join_res *idd = NULL, *srcd = NULL, *bad = NULL;
	a->rep.envelopes = u->envelopes;
	for (int i = 0; i < 2 * SHARDS; i++) {
		struct join_res *r = &j[i];
		a->rep.duplicates += r->ndup;
		a->rep.index_errors += r->nbad;
		if (r->err.code && !rc)
			rc = xr_err_set(err, r->err.code, "checking envelope uniqueness: %s",
					r->err.msg);
		if (r->dup && i % 2 == 0 && (!idd || r->b < idd->b))
			idd = r;
		if (r->dup && i % 2 == 1 && !srcd)
			srcd = r;
		if (r->bad && !bad)
			bad = r;
	}
	if (rc < 0) {
		/* the join could not finish */
	} else if (idd) {
		xr_hex_encode(idd->key, 32, ha);
		a->rep.bad_index = idd->b;
		rc = xr_err_set(err, XR_EVERIFY,
				"envelope 0x%s is on the ledger twice: records %llu and %llu", ha,
				(unsigned long long)idd->a, (unsigned long long)idd->b);
	} else if (srcd) {
		uint8_t ids[2][32];
		uint64_t at[2];
		memcpy(ids[0], srcd->ida, 32);
		memcpy(ids[1], srcd->idb, 32);
		locate(a->l, rd->ro, (const uint8_t(*)[32])ids, 2, at);
		int f = at[0] > at[1]; /* report in record order */
		describe_key(a->l, at[f], srcd->key, what, sizeof(what));
		xr_hex_encode(ids[f], 32, ha);
		xr_hex_encode(ids[!f], 32, hb);
		a->rep.bad_index = at[!f];
		rc =
		    xr_err_set(err, XR_EVERIFY,
			       "equivocation on %s: records %llu and %llu hold envelopes 0x%s and "
			       "0x%s",
			       what, (unsigned long long)at[f], (unsigned long long)at[!f], ha, hb);
	} else if (bad) {
		uint64_t at = bad->bad_index;
		if (at == UINT64_MAX && bad->bad_has_id)
			locate(a->l, rd->ro, (const uint8_t(*)[32])bad->bad_id, 1, &at);
		a->rep.bad_index = at;
		if (bad->bad_has_id && at != UINT64_MAX)
			rc = xr_err_set(err, XR_EVERIFY, "record %llu: %s", (unsigned long long)at,
					bad->msg);
		else
			rc = xr_err_set(err, XR_EVERIFY, "%s", bad->msg);
	}
	free(j);
	return rc;
}

/* The ledger extends the checkpoint an auditor kept: its signatures, the
 * same block in the ledger, and a consistency proof from its tree to the
 * newest checkpoint's. */
static int audit_against(struct audit_state *a, const struct xr_audit_opts *o, uint64_t size)
{
	struct xr_err *err = a->err;
	struct xr_checkpoint k, nw;
	struct xr_buf b;
	size_t tl;
	int rc;

	if (o->against_len > XR_NOTE_MAX_LEN)
		return xr_err_set(err, XR_EINVAL, "the kept checkpoint is %zu bytes, more than %d",
				  o->against_len, XR_NOTE_MAX_LEN);
	if ((rc = xr_note_open(o->against, o->against_len, a->keys, a->nkeys, a->threshold, &tl,
			       NULL, err)) < 0 ||
	    (rc = xr_checkpoint_parse(o->against, tl, &k, err)) < 0) {
		xr_err_prefix(err, "the kept checkpoint");
		return rc;
	}
	if (a->nblocks == 0)
		return xr_err_set(err, XR_EVERIFY,
				  "the ledger has no checkpoint, the kept one is block %llu (size "
				  "%llu): the ledger was truncated or replaced",
				  (unsigned long long)k.block, (unsigned long long)k.size);
	xr_buf_init(&b, XR_NOTE_MAX_LEN);
	if ((rc = xr_ledger_block(a->l, a->nblocks - 1, &b, &nw, err)) < 0)
		goto out;
	if (strcmp(k.origin, nw.origin) != 0) {
		rc = xr_err_set(err, XR_EVERIFY,
				"the kept checkpoint is of the log '%s', this ledger's is '%s'",
				k.origin, nw.origin);
		goto out;
	}
	if (k.block >= a->nblocks || k.size > nw.size) {
		rc = xr_err_set(err, XR_EVERIFY,
				"the kept checkpoint (block %llu, size %llu) is newer than the "
				"ledger's newest (block %llu, size %llu): the ledger was truncated",
				(unsigned long long)k.block, (unsigned long long)k.size,
				(unsigned long long)nw.block, (unsigned long long)nw.size);
		goto out;
	}
	uint8_t(*h)[32] = malloc(XR_MERKLE_MAX_PROOF * 32);
	size_t n = 0;
	if (!h) {
		rc = xr_err_set(err, XR_ENOMEM, "out of memory auditing");
		goto out;
	}
	rc = 0;
	if (k.size && k.size < nw.size && nw.size <= size)
		rc = xr_ledger_consistency(a->l, k.size, nw.size, h, &n, err);
	if (rc == 0)
		rc = xr_merkle_verify_consistency(k.size, nw.size, k.root, nw.root,
						  (const uint8_t(*)[32])h, n, err);
	free(h);
	if (rc < 0) {
		xr_err_prefix(err,
			      "the ledger does not extend the kept checkpoint (block %llu, size "
			      "%llu): history was rewritten below it",
			      (unsigned long long)k.block, (unsigned long long)k.size);
		goto out;
	}
	xr_buf_reset(&b);
	if ((rc = xr_ledger_block(a->l, k.block, &b, NULL, err)) < 0)
		goto out;
	if (b.len < tl || memcmp(b.data, o->against, tl) != 0 || b.data[tl] != '\n') {
		rc = xr_err_set(err, XR_EVERIFY,
				"the ledger's block %llu differs from the kept checkpoint: history "
				"was rewritten",
				(unsigned long long)k.block);
		goto out;
	}
	a->rep.against = true;
	a->rep.against_block = k.block;
	a->rep.against_size = k.size;
out:
	xr_buf_fini(&b);
	return rc;
}

int xr_ledger_audit_ex(struct xr_ledger *l,
		       const struct xr_audit_opts *o,
		       struct xr_audit_report *ret,
		       struct xr_err *err)
{
	struct audit_state *a = calloc(1, sizeof(*a));
	struct audit_reader *rd = calloc(1, sizeof(*rd));
	bool started = false, have_uniq = false;
	pthread_t th;
	int rc = 0;

	if (!a || !rd) {
		free(a);
		free(rd);
		return xr_err_set(err, XR_ENOMEM, "out of memory auditing");
	}
	a->l = l;
	a->keys = o->keys;
	a->nkeys = o->nkeys;
	a->threshold = o->threshold;
	a->com = (struct committee){o->keys, o->nkeys, sizeof(*o->keys)};
	a->err = err;
	a->ac = (struct audit_ctx){l, &a->tr, 0, err};
	a->rep.bad_index = UINT64_MAX;
	tile_reader_init(&a->tr, l);
	xr_buf_init(&a->note, XR_NOTE_MAX_LEN);
	rd->l = l;
	pthread_mutex_init(&rd->mu, NULL);
	pthread_cond_init(&rd->cv, NULL);
	for (int s = 0; s < AUDIT_SLOTS; s++)
		xr_buf_init(&rd->ch[s].data,
			    AUDIT_CHUNK_BYTES + XR_RECORD_MAX_LEN + XR_LEDGER_EVIDENCE_MAX);
	/* One view for the whole audit: a writer in this process may append
	 * meanwhile (a read-only handle sees the ledger as it was opened). */
	rd->ro = rocksdb_readoptions_create();
	/* Measured on the 200k-record benchmark: 256 KiB beats 4 MiB (whose
	 * buffers are copied and faulted in) by a quarter of the audit's time. */
	rocksdb_readoptions_set_readahead_size(rd->ro, 256 << 10);
	rocksdb_readoptions_set_fill_cache(rd->ro, 0);
	/* The hashed indices are iterated in key order. */
	rocksdb_readoptions_set_total_order_seek(rd->ro, 1);
	if (!l->read_only) {
		rd->snap = rocksdb_create_snapshot(l->db);
		rocksdb_readoptions_set_snapshot(rd->ro, rd->snap);
	}
	if ((rc = audit_view(l, rd->ro, &rd->size, &a->nblocks, err)) < 0 ||
	    (rc = uniq_init(&rd->u, o->sort_mem ? o->sort_mem : (size_t)256 << 20, o->scratch_dir,
			    err)) < 0)
		goto out;
	have_uniq = true;
	a->rep.uncovered = rd->size;
	if (a->nblocks) {
		struct xr_checkpoint nw;
		xr_buf_reset(&a->note);
		if ((rc = xr_ledger_block(l, a->nblocks - 1, &a->note, &nw, err)) < 0) {
			a->rep.blocks = a->nblocks - 1;
			goto fail_block;
		}
		a->rep.uncovered = rd->size > nw.size ? rd->size - nw.size : 0;
	}

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
			/* The reader records only what it stored. */
			assert(c->ev_off[k] == c->off[k] + c->len[k] &&
			       c->ev_off[k] + c->ev_len[k] <= c->data.len);
			if ((rc = audit_record(a, i, c->data.data + c->off[k], c->len[k],
					       c->data.data + c->ev_off[k], c->ev_len[k],
					       c->env[k] == ENV_BAD)) < 0) {
				a->rep.bad_index = i;
				xr_err_prefix(err, "record %llu", (unsigned long long)i);
				goto out;
			}
			if (c->env[k] == ENV_KEYS)
				uniq_add(&rd->u, &c->keys[k], i);
			a->rep.records = i + 1;
			if ((rc = audit_blocks_here(a)) < 0)
				goto fail_block;
		}
		if (c->err.code) {
			a->rep.bad_index = c->first + c->n;
			rc = xr_err_set(err, c->err.code, "%s", c->err.msg);
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
		if (o->progress)
			o->progress(o->ctx, a->rep.records, rd->size);
	}
	if (o->progress && rd->size == 0)
		o->progress(o->ctx, 0, 0);
	if (a->rep.blocks < a->nblocks) {
		rc = xr_err_set(err, XR_EVERIFY, "it covers %llu records, the ledger has %llu",
				(unsigned long long)a->cp.size, (unsigned long long)rd->size);
		goto fail_block;
	}
	if ((rc = audit_no_more_blocks(a, rd->ro)) < 0)
		goto out;
	pthread_join(th, NULL);
	started = false;
	uniq_finish(&rd->u);
	if ((rc = audit_uniq(a, rd)) < 0)
		goto out;
	if (a->rep.uncovered > o->allow_tail) {
		uint64_t from = rd->size - a->rep.uncovered;
		a->rep.bad_index = from;
		if (a->nblocks)
			rc = xr_err_set(
			    err, XR_EVERIFY,
			    "records %llu..%llu (%llu after block %llu) are covered by no "
			    "checkpoint: nothing signed vouches for them",
			    (unsigned long long)from, (unsigned long long)rd->size - 1,
			    (unsigned long long)a->rep.uncovered,
			    (unsigned long long)a->nblocks - 1);
		else
			rc = xr_err_set(err, XR_EVERIFY,
					"records 0..%llu are covered by no checkpoint: the ledger "
					"has none",
					(unsigned long long)rd->size - 1);
		goto out;
	}
	if (o->against && (rc = audit_against(a, o, rd->size)) < 0)
		goto out;
	a->rep.bad_index = 0;
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
	for (int s = 0; s < AUDIT_SLOTS; s++)
		xr_buf_fini(&rd->ch[s].data);
	if (have_uniq)
		uniq_fini(&rd->u);
	if (rd->snap)
		rocksdb_release_snapshot(l->db, rd->snap);
	rocksdb_readoptions_destroy(rd->ro);
	pthread_mutex_destroy(&rd->mu);
	pthread_cond_destroy(&rd->cv);
	if (ret)
		*ret = a->rep;
	xr_buf_fini(&a->note);
	free(a->mem.v);
	free(a);
	free(rd);
	return rc;
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
	struct xr_audit_opts o = {
	    .keys = keys, .nkeys = nkeys, .threshold = threshold, .progress = progress, .ctx = ctx};
	return xr_ledger_audit_ex(l, &o, ret, err);
}
