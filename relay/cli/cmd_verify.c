/* cmd_verify.c - `xrelay verify` and `xrelay verify-consistency`: offline
 * checks that need nothing but the committee's verifier keys. */
#include "cli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "merkle.h"

static const char usage[] = "xrelay verify BUNDLE --keys committee.vkeys [--threshold K] [--json]";
static const char cusage[] =
    "xrelay verify-consistency OLD_CHECKPOINT NEW_CHECKPOINT PROOF --keys committee.vkeys "
    "[--threshold K]";

/* The committee file: its keys and the origin of the one log they verify.
 * A file without an origin line is refused: with it, the keys of one
 * network would verify the checkpoints of every other network that the
 * same members sign. */
static int load_keys(const char *path,
		     const char *thr_s,
		     char origin[XR_ORIGIN_MAX + 1],
		     struct xr_vkey **keys,
		     size_t *nkeys,
		     size_t *thr,
		     struct xr_err *err)
{
	struct xr_buf b;
	xr_buf_init(&b, 1 << 20);
	int rc = xr_read_file(path, 1 << 20, &b, err);
	if (rc == 0)
		rc = xr_committee_parse((const char *)b.data, b.len, origin, keys, nkeys, err);
	xr_buf_fini(&b);
	if (rc < 0) {
		xr_err_prefix(err, "%s", path);
		return rc;
	}
	if (!origin[0])
		return xr_err_set(err, XR_EINVAL,
				  "%s names no origin: add the line 'origin <log origin>' (as "
				  "`xrelay init` writes it) so that its keys verify only that log",
				  path);
	*thr = xr_committee_threshold(*nkeys);
	if (thr_s) {
		uint64_t t;
		if ((rc = xr_u64_parse(thr_s, &t, err)) < 0)
			return rc;
		if (t == 0 || t > *nkeys)
			return xr_err_set(err, XR_EINVAL, "--threshold must be 1..%zu", *nkeys);
		*thr = (size_t)t;
	}
	return 0;
}

static json_t *load_json(const char *path, struct xr_err *err)
{
	struct xr_buf b;
	json_error_t je;
	json_t *j = NULL;
	xr_buf_init(&b, 256u << 20);
	if (xr_read_file(path, 256u << 20, &b, err) == 0) {
		j = json_loadb((const char *)b.data, b.len, JSON_REJECT_DUPLICATES, &je);
		if (!j)
			xr_err_set(err, XR_EINVAL, "%s is not JSON: %s (line %d)", path, je.text,
				   je.line);
	}
	xr_buf_fini(&b);
	return j;
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"keys", required_argument, NULL, 'k'},
	    {"threshold", required_argument, NULL, 't'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *keys_path = NULL, *thr_s = NULL;
	bool as_json = false;
	struct xr_err err = {0};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			keys_path = optarg;
			break;
		case 't':
			thr_s = optarg;
			break;
		case 'j':
			as_json = true;
			break;
		case 'h':
			printf(
			    "usage: %s\n\nChecks a proof bundle offline: the envelope against the "
			    "record, the evidence\nagainst the record's digest, the author's "
			    "signature, the inclusion proof against\nthe checkpoint root and the "
			    "checkpoint's signatures (default threshold: more\nthan two thirds "
			    "of the keys) and origin: the committee file's line\n'origin "
			    "<log origin>' names the one log its keys verify. Exit 0 and OK, or\n"
			    "exit 1 and the reason.\n",
			    usage);
			return 0;
		default:
			return xr_cli_usage(usage, "unknown option");
		}
	}
	if (!keys_path || optind != argc - 1)
		return xr_cli_usage(usage, "need one BUNDLE file and --keys");
	struct xr_vkey *keys = NULL;
	size_t nkeys = 0, thr;
	struct xr_bundle_result res;
	char origin[XR_ORIGIN_MAX + 1];
	json_t *b = NULL;
	int rc;
	if ((rc = load_keys(keys_path, thr_s, origin, &keys, &nkeys, &thr, &err)) < 0 ||
	    !(b = load_json(argv[optind], &err))) {
		free(keys);
		return xr_cli_fail(&err);
	}
	rc = xr_bundle_verify(b, keys, nkeys, thr, xr_evidence_all, xr_evidence_count, &res, &err);
	if (rc == 0 && strcmp(res.origin, origin) != 0)
		rc = xr_err_set(&err, XR_EVERIFY,
				"checkpoint: origin '%s' is not '%s', the log of the committee "
				"file %s",
				res.origin, origin, keys_path);
	/* Which evidence stood behind it, for the auditor to see. */
	char evidence[48] = "";
	const json_t *ev = json_object_get(b, "evidence");
	const char *fw = json_string_value(json_object_get(ev, "framework"));
	if (rc == 0 && fw && strlen(fw) < 32)
		snprintf(evidence, sizeof(evidence), "%s%s", fw,
			 strcmp(fw, "evm") == 0
			     ? (json_integer_value(json_object_get(ev, "version")) == 2 ? " v2" : " v1")
			     : "");
	json_decref(b);
	free(keys);
	char id[65] = "";
	bool is_env = false;
	for (int i = 0; i < 32; i++)
		is_env |= res.id[i] != 0;
	if (rc == 0 && is_env)
		xr_hex_encode(res.id, 32, id);
	if (as_json) {
		json_t *o =
		    rc == 0 ? json_pack("{s:b, s:I, s:I, s:I, s:s, s:s, s:s}", "ok", 1, "index",
					(json_int_t)res.index, "tree_size",
					(json_int_t)res.tree_size, "block", (json_int_t)res.block,
					"signers", res.signers, "envelope", id, "evidence", evidence)
			    : json_pack("{s:b, s:s}", "ok", 0, "reason", err.msg);
		xr_json_print(o, true);
		json_decref(o);
		return rc < 0 ? 1 : 0;
	}
	if (rc < 0) {
		printf("FAIL %s\n", err.msg);
		return 1;
	}
	printf("OK record %llu in tree of size %llu, block %llu signed by %s%s%s%s%s\n",
	       (unsigned long long)res.index, (unsigned long long)res.tree_size,
	       (unsigned long long)res.block, res.signers, is_env ? ", envelope 0x" : "", id,
	       is_env && evidence[0] ? ", evidence " : "", is_env ? evidence : "");
	return 0;
}

static int open_checkpoint(const char *path,
			   const char *origin,
			   const struct xr_vkey *keys,
			   size_t nkeys,
			   size_t thr,
			   struct xr_checkpoint *cp,
			   struct xr_err *err)
{
	struct xr_buf b;
	size_t tl;
	int rc;
	xr_buf_init(&b, XR_NOTE_MAX_LEN);
	if ((rc = xr_read_file(path, XR_NOTE_MAX_LEN, &b, err)) == 0 &&
	    (rc = xr_note_open((const char *)b.data, b.len, keys, nkeys, thr, &tl, NULL, err)) ==
		0 &&
	    (rc = xr_checkpoint_parse((const char *)b.data, tl, cp, err)) == 0 &&
	    strcmp(cp->origin, origin) != 0)
		rc = xr_err_set(err, XR_EVERIFY,
				"origin '%s' is not '%s', the log of the committee file",
				cp->origin, origin);
	if (rc < 0)
		xr_err_prefix(err, "%s", path);
	xr_buf_fini(&b);
	return rc;
}

int cmd_verify_consistency(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"keys", required_argument, NULL, 'k'},
	    {"threshold", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *keys_path = NULL, *thr_s = NULL;
	struct xr_err err = {0};
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			keys_path = optarg;
			break;
		case 't':
			thr_s = optarg;
			break;
		case 'h':
			printf(
			    "usage: %s\n\nChecks that the ledger of NEW_CHECKPOINT extends the one "
			    "of OLD_CHECKPOINT:\nboth signed by the committee, both of the log the "
			    "committee file's origin\nline names, and PROOF (from "
			    "`xrelay ledger consistency`)\nleads from the old root to the new.\n",
			    cusage);
			return 0;
		default:
			return xr_cli_usage(cusage, "unknown option");
		}
	}
	if (!keys_path || optind != argc - 3)
		return xr_cli_usage(cusage, "need OLD, NEW and PROOF files and --keys");
	struct xr_vkey *keys = NULL;
	size_t nkeys = 0, thr, n = 0;
	struct xr_checkpoint a, b;
	char origin[XR_ORIGIN_MAX + 1];
	uint8_t(*h)[32] = NULL;
	json_t *p = NULL;
	if ((rc = load_keys(keys_path, thr_s, origin, &keys, &nkeys, &thr, &err)) < 0 ||
	    (rc = open_checkpoint(argv[optind], origin, keys, nkeys, thr, &a, &err)) < 0 ||
	    (rc = open_checkpoint(argv[optind + 1], origin, keys, nkeys, thr, &b, &err)) < 0)
		goto out;
	if (strcmp(a.origin, b.origin) != 0) {
		rc = xr_err_set(&err, XR_EVERIFY,
				"the checkpoints are of different logs ('%s', '%s')", a.origin,
				b.origin);
		goto out;
	}
	if (!(p = load_json(argv[optind + 2], &err))) {
		rc = XR_EINVAL;
		goto out;
	}
	json_t *arr = json_object_get(p, "proof");
	json_t *from = json_object_get(p, "from"), *to = json_object_get(p, "to");
	if (!json_is_array(arr) || !json_is_integer(from) || !json_is_integer(to)) {
		rc = xr_err_set(&err, XR_EINVAL, "PROOF needs \"from\", \"to\" and \"proof\"");
		goto out;
	}
	if ((uint64_t)json_integer_value(from) != a.size ||
	    (uint64_t)json_integer_value(to) != b.size) {
		rc = xr_err_set(
		    &err, XR_EVERIFY,
		    "PROOF is from %lld to %lld but the checkpoints have sizes %llu and "
		    "%llu",
		    (long long)json_integer_value(from), (long long)json_integer_value(to),
		    (unsigned long long)a.size, (unsigned long long)b.size);
		goto out;
	}
	n = json_array_size(arr);
	if (n > XR_MERKLE_MAX_PROOF) {
		rc = xr_err_set(&err, XR_EINVAL, "PROOF has %zu hashes, at most %d", n,
				XR_MERKLE_MAX_PROOF);
		goto out;
	}
	h = malloc((n ? n : 1) * 32);
	for (size_t i = 0; h && i < n; i++)
		if ((rc = xr_hex_decode_exact(json_string_value(json_array_get(arr, i)), h[i], 32,
					      &err)) < 0) {
			xr_err_prefix(&err, "proof hash %zu", i);
			goto out;
		}
	if (!h) {
		rc = xr_err_set(&err, XR_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = xr_merkle_verify_consistency(a.size, b.size, a.root, b.root,
					       (const uint8_t(*)[32])h, n, &err)) < 0)
		goto out;
	printf("OK block %llu (size %llu) extends block %llu (size %llu)\n",
	       (unsigned long long)b.block, (unsigned long long)b.size, (unsigned long long)a.block,
	       (unsigned long long)a.size);
out:
	json_decref(p);
	free(h);
	free(keys);
	if (rc < 0) {
		printf("FAIL %s\n", err.msg);
		return 1;
	}
	return 0;
}
