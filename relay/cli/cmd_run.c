/* cmd_run.c - `xrelay run` (the daemon in the foreground), `xrelay status`
 * and `xrelay envelopes`. */
#include "cli.h"

#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon.h"
#include "envelope_json.h"
#include "pipeline.h"

int cmd_run(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		printf("usage: xrelay run -c NODE_DIR/relay.json\n\nRuns the relay (as xrelayd "
		       "does) until SIGTERM or SIGINT.\n");
		return 0;
	}
	if (argc != 3 || strcmp(argv[1], "-c") != 0)
		return xr_cli_usage("xrelay run -c NODE_DIR/relay.json", "need -c CONFIG");
	return xr_daemon_run(argv[2]);
}

static const char status_usage[] = "xrelay status --dir DIR [--json]";

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *dir = NULL;
	bool as_json = false;
	struct xr_err err = {0};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'j':
			as_json = true;
			break;
		case 'h':
			printf(
			    "usage: %s\n\nPer chain: head, final, cursor, lag, envelopes "
			    "committed, state (running, waiting, halted) and why; then the ledger "
			    "size and newest checkpoint. Works while the daemon runs.\n",
			    status_usage);
			return 0;
		default:
			return xr_cli_usage(status_usage, "unknown option");
		}
	}
	if (!dir || optind != argc)
		return xr_cli_usage(status_usage, "--dir is required");
	struct xr_node n;
	if (xr_node_open(&n, dir, false, &err) < 0)
		return xr_cli_fail(&err);
	char path[4200];
	snprintf(path, sizeof(path), "%s/status.json", dir);
	json_t *st = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
	json_t *chains = json_object_get(st, "chains");
	bool live = false;
	if (st) {
		pid_t pid = (pid_t)json_integer_value(json_object_get(st, "pid"));
		live = pid > 0 && kill(pid, 0) == 0;
	}
	struct xr_buf note;
	struct xr_checkpoint cp;
	uint64_t blocks = xr_ledger_blocks(n.ledger);
	xr_buf_init(&note, XR_NOTE_MAX_LEN + 1);
	int rc = blocks ? xr_ledger_block(n.ledger, blocks - 1, &note, &cp, &err) : 0;
	xr_buf_u8(&note, 0);
	if (rc == 0 && as_json) {
		json_t *o = json_pack("{s:o, s:b, s:{s:I, s:I, s:s}}", "chains",
				      chains ? json_incref(chains) : json_array(), "daemon_running",
				      live, "ledger", "size", (json_int_t)xr_ledger_size(n.ledger),
				      "blocks", (json_int_t)blocks, "checkpoint",
				      blocks ? (const char *)note.data : "");
		xr_json_print(o, true);
		json_decref(o);
	} else if (rc == 0) {
		printf("daemon   %s\n", live ? "running" : "not running (figures as it left them)");
		printf("%-24s %10s %10s %10s %8s %10s  %s\n", "chain", "head", "final", "cursor",
		       "lag", "committed", "state");
		size_t i;
		json_t *ch;
		json_array_foreach(chains, i, ch)
		{
			const char *reason = json_string_value(json_object_get(ch, "reason"));
			printf("%-24s %10lld %10lld %10lld %8lld %10lld  %s%s%s\n",
			       json_string_value(json_object_get(ch, "chain")),
			       (long long)json_integer_value(json_object_get(ch, "head")),
			       (long long)json_integer_value(json_object_get(ch, "final")),
			       (long long)json_integer_value(json_object_get(ch, "cursor")),
			       (long long)json_integer_value(json_object_get(ch, "lag")),
			       (long long)json_integer_value(json_object_get(ch, "committed")),
			       json_string_value(json_object_get(ch, "state")), reason ? ": " : "",
			       reason ? reason : "");
			size_t k;
			json_t *ep, *eps = json_object_get(ch, "endpoints");
			json_array_foreach(eps, k, ep)
			{
				const char *problem =
				    json_string_value(json_object_get(ep, "problem"));
				if (json_array_size(eps) < 2 && !problem)
					continue;
				printf("  endpoint %-32s %-8s final %-10lld%s%s\n",
				       json_string_value(json_object_get(ep, "url")),
				       json_string_value(json_object_get(ep, "state")),
				       (long long)json_integer_value(json_object_get(ep, "final")),
				       problem ? "  " : "", problem ? problem : "");
			}
		}
		printf("ledger   %llu records, %llu blocks\n",
		       (unsigned long long)xr_ledger_size(n.ledger), (unsigned long long)blocks);
	}
	json_decref(st);
	xr_buf_fini(&note);
	xr_node_close(&n);
	return rc < 0 ? xr_cli_fail(&err) : 0;
}

static const char env_usage[] = "xrelay envelopes --dir DIR [--chain CAIP2] [--json]";

int cmd_envelopes(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"chain", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *chain = NULL;
	bool as_json = false;
	struct xr_err err = {0};
	int c, rc = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'c':
			chain = optarg;
			break;
		case 'j':
			as_json = true;
			break;
		case 'h':
			printf("usage: %s\n\nLists committed envelopes in ledger order; --json "
			       "prints the JSON view, one per line.\n",
			       env_usage);
			return 0;
		default:
			return xr_cli_usage(env_usage, "unknown option");
		}
	}
	if (!dir || optind != argc)
		return xr_cli_usage(env_usage, "--dir is required");
	struct xr_node n;
	if (xr_node_open(&n, dir, false, &err) < 0)
		return xr_cli_fail(&err);
	struct xr_buf rec;
	xr_buf_init(&rec, XR_RECORD_MAX_LEN);
	uint64_t size = xr_ledger_size(n.ledger);
	for (uint64_t i = 0; i < size && rc == 0; i++) {
		struct xr_record r;
		struct xr_envelope e;
		const uint8_t *env, *dig;
		size_t env_len;
		xr_buf_reset(&rec);
		if ((rc = xr_ledger_record(n.ledger, i, &rec, &err)) < 0 ||
		    (rc = xr_record_decode(rec.data, rec.len, &r, &err)) < 0)
			break;
		if (r.type != XR_REC_ENVELOPE)
			continue;
		if ((rc = xr_envelope_body_decode(r.body, r.body_len, &env, &env_len, &dig, &err)) <
			0 ||
		    (rc = xr_envelope_decode(env, env_len, &e, &err)) < 0)
			break;
		if (chain && strcmp(chain, e.src_chain) != 0)
			continue;
		json_t *j = xr_envelope_to_json(&e, &err);
		if (!j) {
			rc = XR_EINVAL;
			break;
		}
		if (as_json) {
			xr_json_print(j, true);
		} else {
			char amount[80];
			xr_u256_to_dec(e.amount, amount);
			printf("%s  %s #%llu -> %s  %s %s\n",
			       json_string_value(json_object_get(j, "id")), e.src_chain,
			       (unsigned long long)e.sequence, e.dst_chain,
			       e.kind == XR_ENV_TRANSFER ? "transfer" : "message",
			       e.kind == XR_ENV_TRANSFER ? amount : "");
		}
		json_decref(j);
	}
	xr_buf_fini(&rec);
	xr_node_close(&n);
	return rc < 0 ? xr_cli_fail(&err) : 0;
}
