/* ledger.h - the permissioned, append-only, verifiable ledger on RocksDB:
 * records in one RFC 9162 Merkle log, signed checkpoints as blocks, indices,
 * chain cursors and members. Every append is one synced WriteBatch. No
 * rocksdb_* name leaves relay/ledger/. */
#ifndef XR_LEDGER_H
#define XR_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "envelope.h"
#include "merkle.h"
#include "note.h"
#include "record.h"
#include "xr_bytes.h"
#include "xr_err.h"

struct xr_ledger;

/* The most evidence one record may carry: the EVM adapter's cap
 * (XR_EVM_EVIDENCE_MAX), which no framework's evidence should need to pass. */
#define XR_LEDGER_EVIDENCE_MAX (16u << 20)

struct xr_ledger_opts {
	const char *path;   /* RocksDB folder; created when create is true */
	bool create;	    /* create a new ledger; refuse if one exists */
	bool read_only;	    /* open for reading (works while a writer runs) */
	const char *origin; /* checkpoint origin line, e.g. "bsn-local/xrelay" */
	/* Committee members whose keys this node holds: they sign checkpoints and
	 * author records without a per-record signature. */
	const struct xr_signer *signers;
	size_t nsigners;
	uint64_t checkpoint_every; /* cut a checkpoint after this many records (0: 1000) */
	uint64_t checkpoint_ms;	   /* ... or when the newest is this old (0: 1000) */
	bool no_sync;		   /* tests and benchmarks only: no fsync of the WAL */
};

int xr_ledger_open(const struct xr_ledger_opts *o, struct xr_ledger **ret, struct xr_err *err);
/* Closes the ledger; accepts NULL. Does not cut a checkpoint: call
 * xr_ledger_checkpoint first to cover the tail. */
void xr_ledger_free(struct xr_ledger *l);

/* A batch of records and state updates committed atomically. */
struct xr_ledger_batch;
struct xr_ledger_batch *xr_ledger_batch_new(void);
void xr_ledger_batch_free(struct xr_ledger_batch *b);
void xr_ledger_batch_clear(struct xr_ledger_batch *b);
size_t xr_ledger_batch_count(const struct xr_ledger_batch *b);
/* Adds an encoded record. For an ENVELOPE record the evidence bytes (may be
 * empty) are stored beside it; their SHA-256 must equal the record's digest.
 * XR_ETOOBIG for a record over XR_RECORD_MAX_LEN or evidence over
 * XR_LEDGER_EVIDENCE_MAX. */
int xr_ledger_batch_add(struct xr_ledger_batch *b,
			const uint8_t *record,
			size_t len,
			const uint8_t *evidence,
			size_t evidence_len,
			struct xr_err *err);
/* Sets a chain cursor in the same batch (exactly-once with the records). */
int xr_ledger_batch_cursor(struct xr_ledger_batch *b,
			   const char *chain,
			   const void *value,
			   size_t len,
			   struct xr_err *err);

/* Validates and appends the batch: authors (committee, or enrolled members
 * with a valid signature), envelope digests, duplicates by envelope id. Then
 * writes records, Merkle tiles, indices, cursors and, when due, a signed
 * checkpoint in one WriteBatch with a synced WAL. On error nothing is
 * written. ret_first (may be NULL) gets the index of the first record. */
int xr_ledger_append(struct xr_ledger *l,
		     struct xr_ledger_batch *b,
		     uint64_t *ret_first,
		     struct xr_err *err);
/* Cuts a checkpoint covering every record now, unless the newest already does. */
int xr_ledger_checkpoint(struct xr_ledger *l, struct xr_err *err);

/* Cuts a checkpoint if records are waiting and the interval has passed: for
 * a timer, so that an idle ledger's tail is covered within the interval. */
int xr_ledger_checkpoint_due(struct xr_ledger *l, struct xr_err *err);

uint64_t xr_ledger_size(const struct xr_ledger *l);
/* Number of checkpoints (blocks) cut so far. */
uint64_t xr_ledger_blocks(const struct xr_ledger *l);
int xr_ledger_cursor(struct xr_ledger *l,
		     const char *chain,
		     struct xr_buf *ret,
		     struct xr_err *err);

/* Reads record `index` (its bytes are appended to ret). */
int xr_ledger_record(struct xr_ledger *l, uint64_t index, struct xr_buf *ret, struct xr_err *err);
int xr_ledger_evidence(struct xr_ledger *l, uint64_t index, struct xr_buf *ret, struct xr_err *err);
/* XR_ENOTFOUND when the envelope index has no entry for that id; XR_EVERIFY
 * when the record the index names does not hold that envelope (a corrupt
 * index never yields another record). */
int xr_ledger_find_envelope(struct xr_ledger *l,
			    const uint8_t id[32],
			    uint64_t *ret_index,
			    struct xr_err *err);
/* Dedup by source: the id of a committed envelope with the same (source
 * chain, emitter, sequence) or (source chain, tx hash, log index) as e.
 * XR_ENOTFOUND when there is none. Appending an envelope whose keys are taken
 * by another envelope fails with XR_ECONFLICT (an equivocation). */
int xr_ledger_find_source(struct xr_ledger *l,
			  const struct xr_envelope *e,
			  uint8_t ret_id[32],
			  struct xr_err *err);
/* The highest sequence committed for e's (source chain, emitter); 0: none. */
int xr_ledger_emitter_sequence(struct xr_ledger *l,
			       const struct xr_envelope *e,
			       uint64_t *ret_seq,
			       struct xr_err *err);

/* The roles of which a member needs one to write records of `type`
 * (enum xr_record_type): ENVELOPE relayer or dapp, CHAIN admin or deployer,
 * MEMBER admin, DELIVERY and ALERT relayer; 0 for an unknown type. Committee
 * members write any type without a signature. Append and audit both apply
 * it. */
uint8_t xr_ledger_writer_roles(uint8_t type);

/* The index of the MEMBER record that enrolled `name` most recently. */
int xr_ledger_find_member(struct xr_ledger *l,
			  const char *name,
			  uint64_t *ret_index,
			  struct xr_member *ret,
			  struct xr_err *err);

int xr_ledger_root(struct xr_ledger *l, uint64_t size, uint8_t ret[32], struct xr_err *err);
int xr_ledger_inclusion(struct xr_ledger *l,
			uint64_t index,
			uint64_t size,
			uint8_t ret[][32],
			size_t *ret_n,
			struct xr_err *err);
int xr_ledger_consistency(struct xr_ledger *l,
			  uint64_t m,
			  uint64_t n,
			  uint8_t ret[][32],
			  size_t *ret_n,
			  struct xr_err *err);

/* Signed checkpoint text of block n (appended to ret), parsed into cp. */
int xr_ledger_block(struct xr_ledger *l,
		    uint64_t n,
		    struct xr_buf *ret,
		    struct xr_checkpoint *cp,
		    struct xr_err *err);
/* The first block whose tree covers `index`. XR_ENOTFOUND when none yet. */
int xr_ledger_block_covering(struct xr_ledger *l,
			     uint64_t index,
			     struct xr_buf *ret,
			     struct xr_checkpoint *cp,
			     struct xr_err *err);

struct xr_audit_report {
	uint64_t records, blocks, signed_records;
	uint64_t bad_index; /* first divergent record or block, when failing */
	/* Appended after version 1 of this struct: */
	uint64_t envelopes;    /* ENVELOPE records */
	uint64_t uncovered;    /* records after the newest checkpoint */
	uint64_t duplicates;   /* envelopes or source keys held by more than one record */
	uint64_t index_errors; /* index entries that disagree with the records */
	bool against;	       /* a kept checkpoint was given and the ledger extends it */
	uint64_t against_block, against_size;
};

struct xr_audit_opts {
	const struct xr_vkey *keys; /* the committee's verifier keys */
	size_t nkeys, threshold;
	/* Records after the newest checkpoint carry no signature: more than this
	 * many fail the audit (0: any tail fails; UINT64_MAX: any is allowed). */
	uint64_t allow_tail;
	/* A signed checkpoint (note text) an auditor kept, or NULL: the ledger
	 * must extend it (its signatures verify with keys, the ledger holds the
	 * same block, and a consistency proof leads from its root to the newest
	 * checkpoint's), so a truncation or a rewrite below it fails. */
	const char *against;
	size_t against_len;
	/* Where the uniqueness check spills sorted runs (NULL: $TMPDIR or /tmp),
	 * and the memory it sorts in (0: 256 MiB). */
	const char *scratch_dir;
	size_t sort_mem;
	void (*progress)(void *ctx, uint64_t done, uint64_t total); /* may be NULL */
	void *ctx;
};

/* Re-derives every Merkle node and checkpoint from the records, checks every
 * signature, hash-chain link and checkpoint time, applies the membership
 * rules append applies, decodes every envelope and re-derives from the
 * records alone that no envelope id and no source key is held twice, and
 * checks the envelope and source indices against the records both ways.
 * Fails at the first divergence with a precise message; ret (may be NULL) is
 * filled either way. */
int xr_ledger_audit_ex(struct xr_ledger *l,
		       const struct xr_audit_opts *o,
		       struct xr_audit_report *ret,
		       struct xr_err *err);

/* xr_ledger_audit_ex with no tail allowed and no kept checkpoint. */
int xr_ledger_audit(struct xr_ledger *l,
		    const struct xr_vkey *keys,
		    size_t nkeys,
		    size_t threshold,
		    void (*progress)(void *ctx, uint64_t done, uint64_t total),
		    void *ctx,
		    struct xr_audit_report *ret,
		    struct xr_err *err);

#endif
