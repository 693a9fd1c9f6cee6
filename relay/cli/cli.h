/* cli.h - shared pieces of the xrelay command line: the verb table, files,
 * keys and the node directory. */
#ifndef XR_CLI_H
#define XR_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "bundle.h"
#include "ledger.h"
#include "note.h"
#include "xr_bytes.h"
#include "xr_err.h"

struct xr_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

/* Verbs. Each returns the process exit code. */
int cmd_init(int argc, char **argv);
int cmd_envelope(int argc, char **argv);
int cmd_proof(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_verify_consistency(int argc, char **argv);
int cmd_ledger(int argc, char **argv);

/* Dispatches argv[1] through a table; prints the table on --help. */
int xr_cli_dispatch(const char *prog, const struct xr_cmd *cmds, int argc, char **argv);

/* Prints "xrelay: <msg>" to stderr and returns exit code 1 (2 for usage). */
int xr_cli_fail(const struct xr_err *err);
int xr_cli_usage(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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
/* path of a file named in the config (relative to the config's folder). */
int xr_node_path(const struct xr_node *n, const char *key, const char *dflt, char *out, size_t cap,
		 struct xr_err *err);
/* Loads a verifier-key file (committee.vkeys). */
int xr_vkeys_load(const char *path, struct xr_vkey **ret, size_t *ret_n, struct xr_err *err);

/* The evidence frameworks this build knows, for verify. */
extern const struct xr_evidence_ops *const xr_evidence_all[];
extern const size_t xr_evidence_count;

/* Prints JSON to stdout with a newline (compact when compact is true). */
void xr_json_print(const json_t *j, bool compact);

#endif
