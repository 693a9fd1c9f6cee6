/* cmd_ledger.c - `xrelay ledger ...`: append envelopes, cut and print
 * checkpoints, prove consistency and audit the whole ledger. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "envelope_json.h"

struct ledger_args {
	const char *dir, *file, *from, *to, *block, *keys, *thr, *against, *tail;
	bool json, compact, allow_tail;
};

static const char usage[] =
    "xrelay ledger show|append|checkpoint|cut|consistency|audit --dir DIR [options]";

static int parse(int argc, char **argv, struct ledger_args *a, const char *help)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'},
	    {"file", required_argument, NULL, 'f'},
	    {"from", required_argument, NULL, 'F'},
	    {"to", required_argument, NULL, 'T'},
	    {"block", required_argument, NULL, 'b'},
	    {"keys", required_argument, NULL, 'k'},
	    {"threshold", required_argument, NULL, 't'},
	    {"json", no_argument, NULL, 'j'},
	    {"allow-tail", optional_argument, NULL, 'A'},
	    {"against", required_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	memset(a, 0, sizeof(*a));
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			a->dir = optarg;
			break;
		case 'f':
			a->file = optarg;
			break;
		case 'F':
			a->from = optarg;
			break;
		case 'T':
			a->to = optarg;
			break;
		case 'b':
			a->block = optarg;
			break;
		case 'k':
			a->keys = optarg;
			break;
		case 't':
			a->thr = optarg;
			break;
		case 'j':
			a->json = true;
			break;
		case 'A':
			a->allow_tail = true;
			a->tail = optarg;
			break;
		case 'a':
			a->against = optarg;
			break;
		case 'h':
			printf("%s", help);
			return 0;
		default:
			return xr_cli_usage(usage, "unknown option");
		}
	}
	if (optind != argc)
		return xr_cli_usage(usage, "unexpected argument '%s'", argv[optind]);
	if (!a->dir)
		return xr_cli_usage(usage, "--dir is required");
	return -1; /* go on */
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int do_show(int argc, char **argv)
{
	struct ledger_args a;
	struct xr_err err = {0};
	struct xr_node n;
	int rc = parse(argc, argv, &a,
		       "usage: xrelay ledger show --dir DIR [--json]\n\nPrints the ledger's size, "
		       "block count and newest signed checkpoint.\n");
	if (rc >= 0)
		return rc;
	rc = 0;
	if (xr_node_open(&n, a.dir, false, &err) < 0)
		return xr_cli_fail(&err);
	struct xr_buf note;
	struct xr_checkpoint cp;
	uint64_t blocks = xr_ledger_blocks(n.ledger);
	xr_buf_init(&note, XR_NOTE_MAX_LEN + 1);
	rc = blocks ? xr_ledger_block(n.ledger, blocks - 1, &note, &cp, &err) : 0;
	if (rc == 0) {
		xr_buf_u8(&note, 0);
		if (a.json) {
			json_t *o = json_pack("{s:s, s:I, s:I, s:s}", "origin", n.origin, "size",
					      (json_int_t)xr_ledger_size(n.ledger), "blocks",
					      (json_int_t)blocks, "checkpoint",
					      blocks ? (const char *)note.data : "");
			xr_json_print(o, true);
			json_decref(o);
		} else {
			printf("origin     %s\nsize       %llu records\nblocks     %llu\n",
			       n.origin, (unsigned long long)xr_ledger_size(n.ledger),
			       (unsigned long long)blocks);
			if (blocks)
				printf("checkpoint\n%s", (const char *)note.data);
		}
	}
	xr_buf_fini(&note);
	xr_node_close(&n);
	return rc < 0 ? xr_cli_fail(&err) : 0;
}

static int do_checkpoint(int argc, char **argv)
{
	struct ledger_args a;
	struct xr_err err = {0};
	struct xr_node n;
	int rc = parse(argc, argv, &a,
		       "usage: xrelay ledger checkpoint --dir DIR [--block N]\n\nPrints the signed "
		       "checkpoint of block N (default: the newest), as a file\nfor "
		       "`xrelay verify-consistency`.\n");
	if (rc >= 0)
		return rc;
	rc = 0;
	if (xr_node_open(&n, a.dir, false, &err) < 0)
		return xr_cli_fail(&err);
	uint64_t b = xr_ledger_blocks(n.ledger);
	struct xr_buf note;
	xr_buf_init(&note, XR_NOTE_MAX_LEN);
	if (a.block)
		rc = xr_u64_parse(a.block, &b, &err);
	else if (b == 0)
		rc = xr_err_set(&err, XR_ENOTFOUND, "the ledger has no checkpoint yet");
	else
		b--;
	if (rc == 0 && (rc = xr_ledger_block(n.ledger, b, &note, NULL, &err)) == 0)
		fwrite(note.data, 1, note.len, stdout);
	xr_buf_fini(&note);
	xr_node_close(&n);
	return rc < 0 ? xr_cli_fail(&err) : 0;
}

static int do_cut(int argc, char **argv)
{
	struct ledger_args a;
	struct xr_err err = {0};
	struct xr_node n;
	int rc = parse(argc, argv, &a,
		       "usage: xrelay ledger cut --dir DIR\n\nCuts a checkpoint now if records "
		       "were appended since the newest one.\nNeeds the node's key and no running "
		       "daemon.\n");
	if (rc >= 0)
		return rc;
	rc = 0;
	if (xr_node_open(&n, a.dir, true, &err) < 0)
		return xr_cli_fail(&err);
	rc = xr_ledger_checkpoint(n.ledger, &err);
	if (rc == 0)
		printf("block %llu covers %llu records\n",
		       (unsigned long long)xr_ledger_blocks(n.ledger) - 1,
		       (unsigned long long)xr_ledger_size(n.ledger));
	xr_node_close(&n);
	return rc < 0 ? xr_cli_fail(&err) : 0;
}

/* Appends envelopes (JSON view, one per line) as ENVELOPE records authored by
 * the node, with empty evidence; one batch, then a checkpoint. */
static int do_append(int argc, char **argv)
{
	struct ledger_args a;
	struct xr_err err = {0};
	struct xr_node n;
	int rc = parse(argc, argv, &a,
		       "usage: xrelay ledger append --dir DIR [--file FILE]\n\nAppends envelopes "
		       "(JSON view, one per line; stdin by default) as ENVELOPE\nrecords authored "
		       "by the node, with empty evidence (framework \"none\"),\nthen cuts a "
		       "checkpoint. Prints one id per line. For imports and tests:\nthe daemon "
		       "appends what it observes on chains with their evidence.\n");
	if (rc >= 0)
		return rc;
	rc = 0;
	if (xr_node_open(&n, a.dir, true, &err) < 0)
		return xr_cli_fail(&err);
	FILE *in = a.file ? fopen(a.file, "r") : stdin;
	struct xr_ledger_batch *b = xr_ledger_batch_new();
	struct xr_buf body, rec;
	uint8_t *enc = malloc(XR_ENV_MAX_LEN), empty[32], id[32];
	char *line = NULL, hex[65];
	size_t cap = 0, lineno = 0;
	ssize_t ll;
	xr_buf_init(&body, XR_RECORD_BODY_MAX);
	xr_buf_init(&rec, XR_RECORD_MAX_LEN);
	xr_sha256("", 0, empty);
	if (!in) {
		rc = xr_err_set(&err, XR_ENOTFOUND, "cannot open '%s'", a.file);
		goto out;
	}
	if (!b || !enc) {
		rc = xr_err_set(&err, XR_ENOMEM, "out of memory");
		goto out;
	}
	rc = 0;
	while ((ll = getline(&line, &cap, in)) > 0) {
		lineno++;
		if (ll > 4 * XR_ENV_MAX_LEN) {
			rc = xr_err_set(&err, XR_EINVAL, "line %zu is too long", lineno);
			goto out;
		}
		size_t len;
		json_error_t je;
		json_t *j = json_loadb(line, (size_t)ll, JSON_REJECT_DUPLICATES, &je);
		if (!j) {
			if (strspn(line, " \t\r\n") == (size_t)ll)
				continue;
			rc = xr_err_set(&err, XR_EINVAL, "line %zu is not JSON: %s", lineno,
					je.text);
			goto out;
		}
		rc = xr_envelope_from_json(j, enc, XR_ENV_MAX_LEN, &len, &err);
		json_decref(j);
		if (rc < 0) {
			xr_err_prefix(&err, "line %zu", lineno);
			goto out;
		}
		struct xr_record r = {.type = XR_REC_ENVELOPE, .time_ms = now_ms()};
		memcpy(r.author, n.name, sizeof(n.name));
		xr_buf_reset(&body);
		xr_buf_reset(&rec);
		if ((rc = xr_envelope_body_encode(enc, len, empty, &body, &err)) < 0)
			goto out;
		r.body = body.data;
		r.body_len = (uint32_t)body.len;
		if ((rc = xr_record_encode(&r, NULL, &rec, &err)) < 0 ||
		    (rc = xr_ledger_batch_add(b, rec.data, rec.len, NULL, 0, &err)) < 0)
			goto out;
		xr_envelope_id(enc, len, id);
		xr_hex_encode(id, 32, hex);
		printf("0x%s\n", hex);
	}
	uint64_t first = 0;
	if ((rc = xr_ledger_append(n.ledger, b, &first, &err)) < 0 ||
	    (rc = xr_ledger_checkpoint(n.ledger, &err)) < 0)
		goto out;
	fprintf(stderr, "appended %zu records at %llu..%llu; ledger size %llu, %llu blocks\n",
		xr_ledger_batch_count(b), (unsigned long long)first,
		(unsigned long long)(first + xr_ledger_batch_count(b)) - 1,
		(unsigned long long)xr_ledger_size(n.ledger),
		(unsigned long long)xr_ledger_blocks(n.ledger));
out:
	if (in && in != stdin)
		fclose(in);
	free(line);
	free(enc);
	xr_buf_fini(&body);
	xr_buf_fini(&rec);
	xr_ledger_batch_free(b);
	xr_node_close(&n);
	return rc < 0 ? xr_cli_fail(&err) : 0;
}

static int do_consistency(int argc, char **argv)
{
	struct ledger_args a;
	struct xr_err err = {0};
	struct xr_node n;
	int rc =
	    parse(argc, argv, &a,
		  "usage: xrelay ledger consistency --dir DIR --from SIZE [--to SIZE]\n\nPrints "
		  "the RFC 9162 consistency proof between two tree sizes (default\n--to: the "
		  "newest checkpoint's size) as JSON for `xrelay verify-consistency`.\n");
	if (rc >= 0)
		return rc;
	rc = 0;
	uint64_t m, to = 0;
	if (!a.from)
		return xr_cli_usage(usage, "--from is required");
	if (xr_u64_parse(a.from, &m, &err) < 0 || (a.to && xr_u64_parse(a.to, &to, &err) < 0))
		return xr_cli_fail(&err);
	if (xr_node_open(&n, a.dir, false, &err) < 0)
		return xr_cli_fail(&err);
	if (!a.to) {
		struct xr_checkpoint cp;
		struct xr_buf note;
		uint64_t blocks = xr_ledger_blocks(n.ledger);
		xr_buf_init(&note, XR_NOTE_MAX_LEN);
		rc = blocks ? xr_ledger_block(n.ledger, blocks - 1, &note, &cp, &err)
			    : xr_err_set(&err, XR_ENOTFOUND, "the ledger has no checkpoint yet");
		to = cp.size;
		xr_buf_fini(&note);
	}
	uint8_t h[XR_MERKLE_MAX_PROOF][32];
	size_t cnt;
	if (rc == 0 && (rc = xr_ledger_consistency(n.ledger, m, to, h, &cnt, &err)) == 0) {
		json_t *arr = json_array();
		for (size_t i = 0; i < cnt; i++) {
			char *s = xr_hex0x_new(h[i], 32);
			json_array_append_new(arr, json_string(s));
			free(s);
		}
		json_t *o = json_pack("{s:I, s:I, s:o}", "from", (json_int_t)m, "to",
				      (json_int_t)to, "proof", arr);
		xr_json_print(o, false);
		json_decref(o);
	}
	xr_node_close(&n);
	return rc < 0 ? xr_cli_fail(&err) : 0;
}

static void progress(void *ctx, uint64_t done, uint64_t total)
{
	(void)ctx;
	fprintf(stderr, "\raudit: %llu / %llu records (%.0f%%)", (unsigned long long)done,
		(unsigned long long)total, total ? 100.0 * (double)done / (double)total : 100.0);
	if (done == total)
		fputc('\n', stderr);
}

static int do_audit(int argc, char **argv)
{
	struct ledger_args a;
	struct xr_err err = {0};
	struct xr_node n;
	int rc = parse(
	    argc, argv, &a,
	    "usage: xrelay ledger audit --dir DIR [--keys FILE] [--threshold K]\n"
	    "                           [--allow-tail[=N]] [--against CHECKPOINT] [--json]\n\n"
	    "Re-derives every Merkle node and checkpoint from the records, checks every\n"
	    "signature, hash-chain link and membership rule, and that no envelope or source\n"
	    "key is on the ledger twice and the indices agree with the records. Reports the\n"
	    "first divergence. Keys default to the node's committee.vkeys.\n\n"
	    "Records after the newest checkpoint are signed by nothing and fail the audit;\n"
	    "--allow-tail accepts such a tail (of at most N records). --against CHECKPOINT\n"
	    "(a signed checkpoint you kept, from `xrelay ledger checkpoint`) also proves that\n"
	    "the ledger extends it, so a truncation or a rewrite below it fails.\n");
	if (rc >= 0)
		return rc;
	rc = 0;
	uint64_t allow = 0;
	if (a.allow_tail && a.tail && xr_u64_parse(a.tail, &allow, &err) < 0)
		return xr_cli_usage(usage, "--allow-tail=N needs a number: %s", err.msg);
	if (a.allow_tail && !a.tail)
		allow = UINT64_MAX;
	if (xr_node_open(&n, a.dir, false, &err) < 0)
		return xr_cli_fail(&err);
	struct xr_vkey *keys = n.keys;
	size_t nkeys = n.nkeys;
	struct xr_buf kept;
	bool audited = false;
	xr_buf_init(&kept, XR_NOTE_MAX_LEN);
	if (a.keys && (rc = xr_vkeys_load(a.keys, &keys, &nkeys, &err)) < 0) {
		xr_node_close(&n);
		return xr_cli_fail(&err);
	}
	size_t thr = xr_committee_threshold(nkeys);
	uint64_t t;
	if (a.thr && (xr_u64_parse(a.thr, &t, &err) < 0 || t == 0 || t > nkeys)) {
		rc = xr_err_set(&err, XR_EINVAL, "--threshold must be 1..%zu", nkeys);
		goto out;
	}
	if (a.thr)
		thr = (size_t)t;
	if (a.against && (rc = xr_read_file(a.against, XR_NOTE_MAX_LEN, &kept, &err)) < 0) {
		xr_err_prefix(&err, "--against");
		goto out;
	}
	struct timespec t0, t1;
	struct xr_audit_report rep;
	audited = true;
	struct xr_audit_opts ao = {
	    .keys = keys,
	    .nkeys = nkeys,
	    .threshold = thr,
	    .allow_tail = allow,
	    .against = a.against ? (const char *)kept.data : NULL,
	    .against_len = kept.len,
	    .progress = !a.json && isatty(STDERR_FILENO) ? progress : NULL,
	};
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = xr_ledger_audit_ex(n.ledger, &ao, &rep, &err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (a.json) {
		json_t *o =
		    rc == 0 ? json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:f}", "ok", 1, "records",
					(json_int_t)rep.records, "blocks", (json_int_t)rep.blocks,
					"signed_records", (json_int_t)rep.signed_records,
					"envelopes", (json_int_t)rep.envelopes, "uncovered",
					(json_int_t)rep.uncovered, "seconds", s)
			    : json_pack("{s:b, s:s, s:I}", "ok", 0, "reason", err.msg, "uncovered",
					(json_int_t)rep.uncovered);
		if (o && rc == 0 && rep.against)
			json_object_set_new(o, "against",
					    json_pack("{s:I, s:I}", "block",
						      (json_int_t)rep.against_block, "size",
						      (json_int_t)rep.against_size));
		xr_json_print(o, true);
		json_decref(o);
	} else if (rc == 0) {
		printf(
		    "OK audited %llu records and %llu blocks (%llu signed by members) in %.2fs\n",
		    (unsigned long long)rep.records, (unsigned long long)rep.blocks,
		    (unsigned long long)rep.signed_records, s);
		if (rep.uncovered && rep.blocks)
			printf("tail: %llu records after block %llu are covered by no checkpoint "
			       "yet (allowed)\n",
			       (unsigned long long)rep.uncovered,
			       (unsigned long long)rep.blocks - 1);
		else if (rep.uncovered)
			printf(
			    "tail: %llu records are covered by no checkpoint yet: the ledger has "
			    "none (allowed)\n",
			    (unsigned long long)rep.uncovered);
		if (rep.against)
			printf("against: the ledger extends the kept checkpoint of block %llu "
			       "(size %llu)\n",
			       (unsigned long long)rep.against_block,
			       (unsigned long long)rep.against_size);
	} else {
		printf("FAIL %s\n", err.msg);
	}
out:
	if (rc < 0 && !audited)
		xr_cli_fail(&err);
	if (keys != n.keys)
		free(keys);
	xr_buf_fini(&kept);
	xr_node_close(&n);
	return rc < 0 ? 1 : 0;
}

static const struct xr_cmd ledger_cmds[] = {
    {"show", do_show, "size, blocks and the newest checkpoint"},
    {"append", do_append, "append envelopes (JSON lines) as records of this node"},
    {"checkpoint", do_checkpoint, "print a signed checkpoint"},
    {"cut", do_cut, "cut a checkpoint now"},
    {"consistency", do_consistency, "print a consistency proof between two sizes"},
    {"audit", do_audit, "re-derive and check the whole ledger"},
    {NULL, NULL, NULL},
};

int cmd_ledger(int argc, char **argv)
{
	return xr_cli_dispatch("xrelay ledger", ledger_cmds, argc, argv);
}
