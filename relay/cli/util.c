/* util.c - verb dispatch, error reporting and JSON output for the CLI. */
#include "cli.h"
#include "evidence.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

const struct xr_evidence_ops *const xr_evidence_all[] = {&xr_evidence_none, &xr_evidence_evm};
const size_t xr_evidence_count = sizeof(xr_evidence_all) / sizeof(xr_evidence_all[0]);

/* The evidence framework of a chain, by its CAIP-2 namespace. */
const struct xr_evidence_ops *xr_evidence_for_chain(const char *caip2, size_t evidence_len)
{
	if (evidence_len == 0)
		return &xr_evidence_none;
	if (strncmp(caip2, "eip155:", 7) == 0)
		return &xr_evidence_evm;
	return NULL;
}

int xr_cli_dispatch(const char *prog, const struct xr_cmd *cmds, int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		FILE *o = argc < 2 ? stderr : stdout;
		fprintf(o, "usage: %s <command> [options]\n\ncommands:\n", prog);
		for (const struct xr_cmd *c = cmds; c->name; c++)
			fprintf(o, "  %-20s %s\n", c->name, c->summary);
		fprintf(o, "\n'%s <command> --help' describes one command.\n", prog);
		return argc < 2 ? 2 : 0;
	}
	for (const struct xr_cmd *c = cmds; c->name; c++)
		if (strcmp(c->name, argv[1]) == 0)
			return c->fn(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command '%s'; '%s --help' lists them\n", prog, argv[1], prog);
	return 2;
}

int xr_cli_fail(const struct xr_err *err)
{
	fprintf(stderr, "xrelay: %s\n", err->msg[0] ? err->msg : "failed");
	return 1;
}

int xr_cli_usage(const char *usage, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "xrelay: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: %s\n", usage);
	return 2;
}

void xr_json_print(const json_t *j, bool compact)
{
	char *s = json_dumps(j, (compact ? JSON_COMPACT : JSON_INDENT(2)) | JSON_PRESERVE_ORDER);
	if (s) {
		fputs(s, stdout);
		fputc('\n', stdout);
		free(s);
	}
}
