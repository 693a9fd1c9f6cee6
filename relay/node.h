/* node.h - a node directory made by `xrelay init` (relay.json, node.key,
 * committee.vkeys, ledger/), and the file helpers every relay tool uses. */
#ifndef XR_NODE_H
#define XR_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "ledger.h"
#include "note.h"
#include "xr_bytes.h"
#include "xr_err.h"

/* Reads a whole file (or stdin for "-") of at most max bytes into ret. */
int xr_read_file(const char *path, size_t max, struct xr_buf *ret, struct xr_err *err);
/* Creates a new file with mode; refuses to overwrite. */
int xr_write_new_file(const char *path, const void *p, size_t n, mode_t mode, struct xr_err *err);
/* Loads an Ed25519 seed from a hex key file; refuses a mode looser than 0600. */
int xr_key_load(const char *path, uint8_t ret_seed[32], struct xr_err *err);
int xr_u64_parse(const char *s, uint64_t *ret, struct xr_err *err);

/* A node directory made by `xrelay init`. */
struct xr_node {
	char dir[4096];
	json_t *config;
	char name[XR_NOTE_NAME_MAX + 1];
	char origin[XR_ORIGIN_MAX + 1];
	struct xr_vkey *keys; /* committee.vkeys */
	size_t nkeys;
	struct xr_ledger *ledger;
};

/* Opens DIR: its config, committee keys and ledger (read-only, or as a
 * writer holding the node's key). */
int xr_node_open(struct xr_node *n, const char *dir, bool writer, struct xr_err *err);
void xr_node_close(struct xr_node *n);
/* A path relative to the node directory (absolute paths stay as they are). */
int xr_node_resolve(const struct xr_node *n, const char *rel, char *out, size_t cap,
		    struct xr_err *err);
/* path of a file named in the config (relative to the config's folder). */
int xr_node_path(const struct xr_node *n,
		 const char *key,
		 const char *dflt,
		 char *out,
		 size_t cap,
		 struct xr_err *err);
/* Loads a verifier-key file (committee.vkeys). */
int xr_vkeys_load(const char *path, struct xr_vkey **ret, size_t *ret_n, struct xr_err *err);

#endif
