/* cli.h - shared pieces of the xrelay command line: the verb table, files,
 * keys and the node directory. */
#ifndef XR_CLI_H
#define XR_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "bundle.h"
#include "node.h"

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
int cmd_run(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_envelopes(int argc, char **argv);
int cmd_evm(int argc, char **argv);

/* Dispatches argv[1] through a table; prints the table on --help. */
int xr_cli_dispatch(const char *prog, const struct xr_cmd *cmds, int argc, char **argv);

/* Prints "xrelay: <msg>" to stderr and returns exit code 1 (2 for usage). */
int xr_cli_fail(const struct xr_err *err);
int xr_cli_usage(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The evidence frameworks this build knows, for verify. */
extern const struct xr_evidence_ops *const xr_evidence_all[];
extern const size_t xr_evidence_count;
/* The framework whose evidence a chain's envelopes carry (NULL: unknown). */
const struct xr_evidence_ops *xr_evidence_for_chain(const char *caip2, size_t evidence_len);

/* Prints JSON to stdout with a newline (compact when compact is true). */
void xr_json_print(const json_t *j, bool compact);

#endif
