/* pipeline.h - the watch pipeline: one watcher per configured chain agrees
 * with a quorum of the chain's endpoints on the final height and the hash of
 * the block it scans to, scans the blocks linked to that hash through its
 * adapter, dedups and checks what it sees against the ledger, and commits
 * envelopes, evidence and the chain's cursor in one WriteBatch per chunk. The
 * daemon (xrelayd, `xrelay run`) is a thin shell around it. */
#ifndef XR_PIPELINE_H
#define XR_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "adapter.h"
#include "node.h"

struct xr_relay;

/* Opens the node in DIR as the writer, loads the adapters of its "chains"
 * and checks each chain's configuration. No endpoint is contacted: a chain
 * whose endpoints do not answer waits (with the reason in status.json) and
 * is opened when they do, while the other chains run. */
int xr_relay_open(const char *dir, struct xr_relay **ret, struct xr_err *err);
/* Starts a watcher thread per chain. */
int xr_relay_start(struct xr_relay *r, struct xr_err *err);
/* Asks every watcher to finish its current step; xr_relay_free waits. */
void xr_relay_stop(struct xr_relay *r);
/* Joins the watchers, cuts a final checkpoint and closes; accepts NULL. */
void xr_relay_free(struct xr_relay *r);
/* Writes DIR/status.json (atomically) from the watchers' state and cuts a
 * checkpoint when one is due; the daemon calls it on a timer. */
int xr_relay_tick(struct xr_relay *r, struct xr_err *err);

/* Most emitters whose start sequence a chain state carries. */
#define XR_CHAIN_SEEDS_MAX 16

/* The last sequence of an emitter before the relay's start height. */
struct xr_chain_seed {
	uint8_t emitter[XR_ENV_EMITTER_MAX];
	uint8_t len;
	uint64_t sequence;
};

/* The persistent state of a chain, stored as its cursor on the ledger.
 *
 * Encoding: u64 height, 32-byte hash, a flags byte (bit 0 halted, bit 1
 * seeds follow), then with bit 1: u8 count and per seed u8 length, the
 * emitter, u64 sequence; then the reason (the rest, UTF-8). States written
 * before seeds existed have flags 0 or 1 and decode unchanged. */
struct xr_chain_state {
	uint64_t height;  /* every event up to and including it is committed */
	uint8_t hash[32]; /* that block's hash; all zero: not known yet */
	bool halted;
	char reason[400];
	size_t nseeds;
	struct xr_chain_seed seeds[XR_CHAIN_SEEDS_MAX];
};
int xr_chain_state_decode(const uint8_t *p,
			  size_t n,
			  struct xr_chain_state *ret,
			  struct xr_err *err);
void xr_chain_state_encode(const struct xr_chain_state *s, struct xr_buf *out);

#endif
