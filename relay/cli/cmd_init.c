/* cmd_init.c - `xrelay init`: a new node directory with its keys, config,
 * committee file and a genesis ledger that enrols the admin and the node. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage[] = "xrelay init --dir DIR [--network NAME] [--name NODE] [--admin NAME]";

static int write_key(const char *dir, const char *file, const uint8_t seed[32], struct xr_err *err)
{
	char path[4200], hex[65 + 1];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	xr_hex_encode(seed, 32, hex);
	hex[64] = '\n';
	int rc = xr_write_new_file(path, hex, 65, 0600, err);
	memset(hex, 0, sizeof(hex));
	return rc;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Appends a MEMBER enrolment of (name, roles, pub), authored and signed by
 * the admin, to the batch. */
static int enrol(struct xr_ledger_batch *b,
		 const char *admin,
		 const uint8_t admin_seed[32],
		 const char *name,
		 uint8_t roles,
		 const uint8_t pub[32],
		 struct xr_err *err)
{
	struct xr_member m = {.op = XR_MEMBER_ENROL, .roles = roles};
	struct xr_buf body, rec;
	int rc;

	memcpy(m.name, name, strlen(name) + 1);
	memcpy(m.pub, pub, 32);
	xr_buf_init(&body, 1024);
	xr_buf_init(&rec, 2048);
	struct xr_record r = {.type = XR_REC_MEMBER, .time_ms = now_ms()};
	memcpy(r.author, admin, strlen(admin) + 1);
	if ((rc = xr_member_encode(&m, &body, err)) == 0) {
		r.body = body.data;
		r.body_len = (uint32_t)body.len;
		if ((rc = xr_record_encode(&r, admin_seed, &rec, err)) == 0)
			rc = xr_ledger_batch_add(b, rec.data, rec.len, NULL, 0, err);
	}
	xr_buf_fini(&body);
	xr_buf_fini(&rec);
	return rc;
}

int cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dir", required_argument, NULL, 'd'},  {"network", required_argument, NULL, 'n'},
	    {"name", required_argument, NULL, 'N'}, {"admin", required_argument, NULL, 'a'},
	    {"help", no_argument, NULL, 'h'},	    {NULL, 0, NULL, 0},
	};
	const char *dir = NULL, *network = "bsn-local", *name = "node1", *admin = "admin";
	struct xr_err err = {0};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'n':
			network = optarg;
			break;
		case 'N':
			name = optarg;
			break;
		case 'a':
			admin = optarg;
			break;
		case 'h':
			printf(
			    "usage: %s\n\nCreates DIR with the node's Ed25519 key (node.key, "
			    "0600), "
			    "an admin member key\n(admin.key, 0600), relay.json, committee.vkeys "
			    "and a ledger whose genesis\nblock enrols the admin and the node. "
			    "Refuses to overwrite anything.\n",
			    usage);
			return 0;
		default:
			return xr_cli_usage(usage, "unknown option");
		}
	}
	if (!dir || optind != argc)
		return xr_cli_usage(usage, "--dir is required");
	if (xr_name_check(name, &err) < 0 || xr_name_check(admin, &err) < 0)
		return xr_cli_fail(&err);
	if (strcmp(name, admin) == 0)
		return xr_cli_usage(usage, "the node and the admin need different names");
	if (strlen(network) == 0 || strlen(network) > 64 || strpbrk(network, " \n\t+"))
		return xr_cli_usage(usage, "--network must be 1..64 characters without spaces");
	if (mkdir(dir, 0700) < 0) {
		xr_err_set(&err, XR_EEXIST, "cannot create '%s': %s%s", dir, strerror(errno),
			   errno == EEXIST ? " (init never overwrites a node)" : "");
		return xr_cli_fail(&err);
	}

	uint8_t node_seed[32], node_pub[32], admin_seed[32], admin_pub[32];
	struct xr_signer signer;
	char vkey[XR_VKEY_MAX + 1], path[4200];
	struct xr_ledger *l = NULL;
	struct xr_ledger_batch *b = NULL;
	int rc;

	if ((rc = xr_ed25519_keygen(node_seed, node_pub, &err)) < 0 ||
	    (rc = xr_ed25519_keygen(admin_seed, admin_pub, &err)) < 0 ||
	    (rc = xr_signer_init(&signer, name, node_seed, &err)) < 0 ||
	    (rc = write_key(dir, "node.key", node_seed, &err)) < 0 ||
	    (rc = write_key(dir, "admin.key", admin_seed, &err)) < 0)
		goto out;
	xr_vkey_format(&signer.key, vkey);
	size_t vl = strlen(vkey);
	vkey[vl++] = '\n';
	/* C2SP tlog-checkpoint wants the log's key named by its origin. Each
	 * committee member co-signs under its member name instead (it stays the
	 * author of the records it writes unsigned), so the committee file ties
	 * its keys to the log by naming the origin they verify. */
	char origin[XR_ORIGIN_MAX + 1], committee[XR_ORIGIN_MAX + XR_VKEY_MAX + 128];
	snprintf(origin, sizeof(origin), "%s/xrelay", network);
	int cl = snprintf(committee, sizeof(committee),
			  "# the committee of the log %s: one verifier key per member\norigin "
			  "%s\n%.*s",
			  origin, origin, (int)vl, vkey);
	snprintf(path, sizeof(path), "%s/committee.vkeys", dir);
	if (cl < 0 || (size_t)cl >= sizeof(committee)) {
		rc = xr_err_set(&err, XR_EINVAL, "origin '%s' is too long", origin);
		goto out;
	}
	if ((rc = xr_write_new_file(path, committee, (size_t)cl, 0644, &err)) < 0)
		goto out;

	json_t *cfg =
	    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:i, s:i}}", "network", network, "name",
		      name, "admin", admin, "node_key", "node.key", "committee", "committee.vkeys",
		      "ledger", "ledger", "checkpoint", "every", 1000, "interval_ms", 1000);
	char *txt = cfg ? json_dumps(cfg, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(cfg);
	if (!txt) {
		rc = xr_err_set(&err, XR_ENOMEM, "out of memory writing the config");
		goto out;
	}
	snprintf(path, sizeof(path), "%s/relay.json", dir);
	rc = xr_write_new_file(path, txt, strlen(txt), 0644, &err);
	free(txt);
	if (rc < 0)
		goto out;

	snprintf(path, sizeof(path), "%s/ledger", dir);
	struct xr_ledger_opts o = {
	    .path = path, .create = true, .origin = origin, .signers = &signer, .nsigners = 1};
	if ((rc = xr_ledger_open(&o, &l, &err)) < 0)
		goto out;
	b = xr_ledger_batch_new();
	if (!b) {
		rc = xr_err_set(&err, XR_ENOMEM, "out of memory");
		goto out;
	}
	if ((rc = enrol(b, admin, admin_seed, admin, XR_ROLE_ALL, admin_pub, &err)) < 0 ||
	    (rc = enrol(b, admin, admin_seed, name, XR_ROLE_RELAYER, node_pub, &err)) < 0 ||
	    (rc = xr_ledger_append(l, b, NULL, &err)) < 0 ||
	    (rc = xr_ledger_checkpoint(l, &err)) < 0)
		goto out;
	printf("initialised node '%s' of network '%s' in %s\n", name, network, dir);
	printf("committee key: %.*s", (int)vl, vkey);
out:
	memset(node_seed, 0, sizeof(node_seed));
	memset(admin_seed, 0, sizeof(admin_seed));
	memset(&signer, 0, sizeof(signer));
	xr_ledger_batch_free(b);
	xr_ledger_free(l);
	return rc < 0 ? xr_cli_fail(&err) : 0;
}
