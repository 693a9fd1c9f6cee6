/* pipeline.h - the watch pipeline: one watcher per configured chain scans
 * final blocks through its adapter, dedups and checks what it sees against
 * the ledger, and commits envelopes, evidence and the chain's cursor in one
 * WriteBatch. The daemon (xrelayd, `xrelay run`) is a thin shell around it. */
#ifndef XR_PIPELINE_H
#define XR_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "adapter.h"
#include "node.h"

struct xr_relay;

/* Opens the node in DIR as the writer, loads the adapters of its "chains"
 * and opens each chain. Nothing runs yet. */
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

/* The persistent state of a chain, stored as its cursor on the ledger. */
struct xr_chain_state {
	uint64_t height;  /* every event up to and including it is committed */
	uint8_t hash[32]; /* that block's hash, to notice a reorg below it */
	bool halted;
	char reason[400];
};
int xr_chain_state_decode(const uint8_t *p,
			  size_t n,
			  struct xr_chain_state *ret,
			  struct xr_err *err);
void xr_chain_state_encode(const struct xr_chain_state *s, struct xr_buf *out);

#endif
