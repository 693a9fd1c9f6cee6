/* node.c - a node directory made by `xrelay init`: its config, key files,
 * committee keys and ledger; and the small file helpers they need. */
#include "node.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int xr_read_file(const char *path, size_t max, struct xr_buf *ret, struct xr_err *err)
{
	bool is_stdin = strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "rb");
	if (!f)
		return xr_err_set(err, errno == ENOENT ? XR_ENOTFOUND : XR_EIO,
				  "cannot open '%s': %s", path, strerror(errno));
	uint8_t chunk[65536];
	size_t n;
	int rc = 0;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (ret->len + n > max) {
			rc = xr_err_set(err, XR_EINVAL, "'%s' is larger than %zu bytes", path, max);
			break;
		}
		xr_buf_put(ret, chunk, n);
	}
	if (rc == 0 && ferror(f))
		rc = xr_err_set(err, XR_EIO, "cannot read '%s': %s", path, strerror(errno));
	if (rc == 0 && ret->failed)
		rc = xr_err_set(err, XR_ENOMEM, "out of memory reading '%s'", path);
	if (!is_stdin)
		fclose(f);
	return rc;
}

int xr_write_new_file(const char *path, const void *p, size_t n, mode_t mode, struct xr_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return xr_err_set(err, errno == EEXIST ? XR_EEXIST : XR_EIO,
				  "cannot create '%s': %s", path, strerror(errno));
	const uint8_t *b = p;
	size_t off = 0;
	while (off < n) {
		ssize_t w = write(fd, b + off, n - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return xr_err_set(err, XR_EIO, "cannot write '%s': %s", path,
					  strerror(errno));
		}
		off += (size_t)w;
	}
	if (fsync(fd) < 0 || close(fd) < 0)
		return xr_err_set(err, XR_EIO, "cannot write '%s': %s", path, strerror(errno));
	return 0;
}

int xr_key_load(const char *path, uint8_t ret_seed[32], struct xr_err *err)
{
	struct stat st;
	struct xr_buf b;
	int rc;

	if (stat(path, &st) < 0)
		return xr_err_set(err, XR_ENOTFOUND, "cannot read key file '%s': %s", path,
				  strerror(errno));
	if (st.st_mode & 077)
		return xr_err_set(err, XR_EINVAL,
				  "key file '%s' has mode %03o; it must be 0600 or stricter", path,
				  (unsigned)(st.st_mode & 0777));
	xr_buf_init(&b, 256);
	if ((rc = xr_read_file(path, 200, &b, err)) < 0)
		goto out;
	while (b.len &&
	       (b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r' || b.data[b.len - 1] == ' '))
		b.len--;
	xr_buf_u8(&b, 0);
	if ((rc = xr_hex_decode_exact((const char *)b.data, ret_seed, 32, err)) < 0)
		xr_err_prefix(err, "key file '%s'", path);
out:
	if (b.data)
		memset(b.data, 0, b.cap);
	xr_buf_fini(&b);
	return rc;
}

int xr_u64_parse(const char *s, uint64_t *ret, struct xr_err *err)
{
	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return xr_err_set(err, XR_EINVAL, "'%s' is not a non-negative integer", s ? s : "");
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end)
		return xr_err_set(err, XR_EINVAL, "'%s' is not a non-negative integer", s);
	*ret = v;
	return 0;
}

int xr_vkeys_load(const char *path, struct xr_vkey **ret, size_t *ret_n, struct xr_err *err)
{
	struct xr_buf b;
	xr_buf_init(&b, 1 << 20);
	int rc = xr_read_file(path, 1 << 20, &b, err);
	if (rc == 0)
		rc = xr_vkeys_parse((const char *)b.data, b.len, ret, ret_n, err);
	if (rc < 0)
		xr_err_prefix(err, "%s", path);
	xr_buf_fini(&b);
	return rc;
}

int xr_node_resolve(
    const struct xr_node *n, const char *rel, char *out, size_t cap, struct xr_err *err)
{
	int w = rel[0] == '/' ? snprintf(out, cap, "%s", rel)
			      : snprintf(out, cap, "%s/%s", n->dir, rel);
	if (w < 0 || (size_t)w >= cap)
		return xr_err_set(err, XR_EINVAL, "path '%s' is too long", rel);
	return 0;
}

int xr_node_path(const struct xr_node *n,
		 const char *key,
		 const char *dflt,
		 char *out,
		 size_t cap,
		 struct xr_err *err)
{
	const char *v = json_string_value(json_object_get(n->config, key));
	return xr_node_resolve(n, v ? v : dflt, out, cap, err);
}

/* The keys relay.json may hold, with their types and ranges: anything else
 * is refused, so a misspelt key is an error rather than a silent default. */
struct cfg_key {
	const char *name;
	json_type type;
	bool required;
	json_int_t min, max; /* integers only */
};

static const struct cfg_key top_keys[] = {
    {"network", JSON_STRING, true, 0, 0},
    {"name", JSON_STRING, true, 0, 0},
    {"admin", JSON_STRING, false, 0, 0},
    {"node_key", JSON_STRING, false, 0, 0},
    {"committee", JSON_STRING, false, 0, 0},
    {"ledger", JSON_STRING, false, 0, 0},
    {"checkpoint", JSON_OBJECT, false, 0, 0},
    {"chains", JSON_ARRAY, false, 0, 0},
    {"scan_range", JSON_INTEGER, false, 1, 100000},
    {"poll_ms", JSON_INTEGER, false, 10, 600000},
    {NULL, 0, false, 0, 0},
};

static const struct cfg_key checkpoint_keys[] = {
    {"every", JSON_INTEGER, false, 1, 1000000000},
    {"interval_ms", JSON_INTEGER, false, 1, 86400000},
    {NULL, 0, false, 0, 0},
};

static const char *type_name(json_type t)
{
	switch (t) {
	case JSON_OBJECT:
		return "an object";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_ARRAY:
		return "an array";
	default:
		return "another type";
	}
}

static int
config_check(const json_t *o, const struct cfg_key *keys, const char *where, struct xr_err *err)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)o, k, v)
	{
		const struct cfg_key *c = keys;
		while (c->name && strcmp(c->name, k) != 0)
			c++;
		if (!c->name)
			return xr_err_set(err, XR_EINVAL, "%s: unknown key \"%s\"", where, k);
		if (json_typeof(v) != c->type)
			return xr_err_set(err, XR_EINVAL, "%s: \"%s\" must be %s", where, k,
					  type_name(c->type));
		/* jansson refuses \u0000 unless asked, so strings hold no NUL. */
		if (c->type == JSON_STRING &&
		    (json_string_length(v) == 0 || json_string_length(v) > 1024))
			return xr_err_set(err, XR_EINVAL, "%s: \"%s\" must be 1..1024 characters",
					  where, k);
		if (c->type == JSON_INTEGER &&
		    (json_integer_value(v) < c->min || json_integer_value(v) > c->max))
			return xr_err_set(err, XR_EINVAL, "%s: \"%s\" must be %lld..%lld", where, k,
					  (long long)c->min, (long long)c->max);
	}
	for (const struct cfg_key *c = keys; c->name; c++)
		if (c->required && !json_object_get(o, c->name))
			return xr_err_set(err, XR_EINVAL, "%s: \"%s\" is required", where, c->name);
	return 0;
}

/* Reads and checks relay.json; *ret is the caller's (json_decref). */
static int config_load(const char *path, json_t **ret, struct xr_err *err)
{
	struct xr_buf b;
	json_error_t je;
	json_t *j = NULL;
	int rc;

	xr_buf_init(&b, 1 << 20);
	if ((rc = xr_read_file(path, 1 << 20, &b, err)) < 0)
		goto out;
	j = json_loadb((const char *)b.data, b.len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		rc = xr_err_set(err, XR_EINVAL, "%s:%d: %s", path, je.line, je.text);
		goto out;
	}
	if (!json_is_object(j)) {
		rc = xr_err_set(err, XR_EINVAL, "%s: the config must be a JSON object", path);
		goto out;
	}
	char where[4200];
	snprintf(where, sizeof(where), "%s: checkpoint", path);
	if ((rc = config_check(j, top_keys, path, err)) < 0)
		goto out;
	json_t *cp = json_object_get(j, "checkpoint");
	if (cp && (rc = config_check(cp, checkpoint_keys, where, err)) < 0)
		goto out;
	*ret = j;
	j = NULL;
out:
	json_decref(j);
	xr_buf_fini(&b);
	return rc;
}

int xr_node_open(struct xr_node *n, const char *dir, bool writer, struct xr_err *err)
{
	char path[4096 + 64];
	struct xr_signer signer;
	int rc;

	memset(n, 0, sizeof(*n));
	if (strlen(dir) >= sizeof(n->dir))
		return xr_err_set(err, XR_EINVAL, "directory name is too long");
	memcpy(n->dir, dir, strlen(dir) + 1);
	snprintf(path, sizeof(path), "%s/relay.json", dir);
	if ((rc = config_load(path, &n->config, err)) < 0)
		return rc;
	const char *name = json_string_value(json_object_get(n->config, "name"));
	const char *network = json_string_value(json_object_get(n->config, "network"));
	if (xr_name_check(name, err) < 0) {
		rc = XR_EINVAL;
		xr_err_prefix(err, "%s: \"name\"", path);
		goto fail;
	}
	if (!*network || strlen(network) + 7 > XR_ORIGIN_MAX || strpbrk(network, " +\n\t")) {
		rc = xr_err_set(err, XR_EINVAL,
				"%s: \"network\" must be 1..%d characters without spaces or '+'",
				path, XR_ORIGIN_MAX - 7);
		goto fail;
	}
	memcpy(n->name, name, strlen(name) + 1);
	snprintf(n->origin, sizeof(n->origin), "%s/xrelay", network);

	if ((rc = xr_node_path(n, "committee", "committee.vkeys", path, sizeof(path), err)) < 0 ||
	    (rc = xr_vkeys_load(path, &n->keys, &n->nkeys, err)) < 0)
		goto fail;

	json_t *cp = json_object_get(n->config, "checkpoint");
	struct xr_ledger_opts o = {
	    .read_only = !writer,
	    .origin = n->origin,
	    .checkpoint_every = (uint64_t)json_integer_value(json_object_get(cp, "every")),
	    .checkpoint_ms = (uint64_t)json_integer_value(json_object_get(cp, "interval_ms")),
	};
	if (writer) {
		uint8_t seed[32];
		if ((rc = xr_node_path(n, "node_key", "node.key", path, sizeof(path), err)) < 0 ||
		    (rc = xr_key_load(path, seed, err)) < 0 ||
		    (rc = xr_signer_init(&signer, n->name, seed, err)) < 0)
			goto fail;
		memset(seed, 0, sizeof(seed));
		o.signers = &signer;
		o.nsigners = 1;
	}
	if ((rc = xr_node_path(n, "ledger", "ledger", path, sizeof(path), err)) < 0)
		goto fail;
	o.path = path;
	rc = xr_ledger_open(&o, &n->ledger, err);
	memset(&signer, 0, sizeof(signer));
	if (rc < 0)
		goto fail;
	return 0;
fail:
	xr_node_close(n);
	return rc;
}

void xr_node_close(struct xr_node *n)
{
	xr_ledger_free(n->ledger);
	json_decref(n->config);
	free(n->keys);
	memset(n, 0, sizeof(*n));
}
