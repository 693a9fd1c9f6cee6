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

int xr_node_path(const struct xr_node *n,
		 const char *key,
		 const char *dflt,
		 char *out,
		 size_t cap,
		 struct xr_err *err)
{
	const char *v = json_string_value(json_object_get(n->config, key));
	if (!v)
		v = dflt;
	int w = v[0] == '/' ? snprintf(out, cap, "%s", v) : snprintf(out, cap, "%s/%s", n->dir, v);
	if (w < 0 || (size_t)w >= cap)
		return xr_err_set(err, XR_EINVAL, "path for '%s' is too long", key);
	return 0;
}

int xr_node_open(struct xr_node *n, const char *dir, bool writer, struct xr_err *err)
{
	char path[4096 + 64];
	json_error_t je;
	struct xr_signer signer;
	int rc;

	memset(n, 0, sizeof(*n));
	if (strlen(dir) >= sizeof(n->dir))
		return xr_err_set(err, XR_EINVAL, "directory name is too long");
	memcpy(n->dir, dir, strlen(dir) + 1);
	snprintf(path, sizeof(path), "%s/relay.json", dir);
	n->config = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!n->config)
		return xr_err_set(err, XR_EINVAL, "%s:%d: %s", path, je.line, je.text);
	if (!json_is_object(n->config)) {
		rc = xr_err_set(err, XR_EINVAL, "%s: the config is a JSON object", path);
		goto fail;
	}
	const char *name = json_string_value(json_object_get(n->config, "name"));
	const char *network = json_string_value(json_object_get(n->config, "network"));
	if (!name || xr_name_check(name, NULL) < 0) {
		rc = xr_err_set(err, XR_EINVAL, "%s: \"name\" must be a member name", path);
		goto fail;
	}
	if (!network || !*network || strlen(network) + 7 > XR_ORIGIN_MAX) {
		rc = xr_err_set(err, XR_EINVAL, "%s: \"network\" must be a non-empty string", path);
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
