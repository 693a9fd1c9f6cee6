/* record.c - Record v1 codec and author signatures, the ENVELOPE and MEMBER
 * bodies, member roles and member names. */
#include "record.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "envelope.h"

#define KEY_TYPE_ED25519 1

/* Untrusted bytes shown in an error message: printable ASCII as is, anything
 * else as \xNN, cut after SHOW_MAX input bytes, so a message stays one line. */
#define SHOW_MAX 48
#define SHOW_CAP (SHOW_MAX * 4 + 4)

static const char *show(const char *s, size_t n, char out[SHOW_CAP])
{
	return xr_show(s, n, SHOW_MAX, out);
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

/* Checks n bytes, which may hold a NUL when they come off the wire. */
static int name_check_n(const char *s, size_t n, struct xr_err *err)
{
	char sh[SHOW_CAP];

	if (n == 0)
		return xr_err_set(err, XR_EINVAL, "name is empty, expected 1..%d of [-_.a-zA-Z0-9]",
				  XR_AUTHOR_MAX);
	if (n > XR_AUTHOR_MAX)
		return xr_err_set(err, XR_EINVAL, "name '%s' is %zu characters, at most %d allowed",
				  show(s, n, sh), n, XR_AUTHOR_MAX);
	for (size_t i = 0; i < n; i++)
		if (!name_char(s[i]))
			return xr_err_set(err, XR_EINVAL,
					  "name '%s' has byte 0x%02x at position %zu, expected "
					  "[-_.a-zA-Z0-9]",
					  show(s, n, sh), (unsigned char)s[i], i);
	return 0;
}

int xr_name_check(const char *name, struct xr_err *err)
{
	if (!name)
		return xr_err_set(err, XR_EINVAL, "name is missing");
	return name_check_n(name, strnlen(name, XR_AUTHOR_MAX + 1), err);
}

const char *xr_record_type_name(uint8_t type)
{
	static const char *const names[] = {
	    [XR_REC_ENVELOPE] = "ENVELOPE", [XR_REC_CHAIN] = "CHAIN", [XR_REC_MEMBER] = "MEMBER",
	    [XR_REC_DELIVERY] = "DELIVERY", [XR_REC_ALERT] = "ALERT",
	};
	if (type >= sizeof(names) / sizeof(names[0]) || !names[type])
		return "?";
	return names[type];
}

static bool type_ok(uint8_t t)
{
	return t >= XR_REC_ENVELOPE && t <= XR_REC_ALERT;
}

/* Drops what a failed encoder appended; the buffer stays failed so that the
 * caller's single check at the end still sees it. */
static int buf_done(struct xr_buf *out, size_t start, const char *what, struct xr_err *err)
{
	if (!out->failed)
		return 0;
	size_t want = out->len - start;
	out->len = start;
	return xr_err_set(err, XR_ENOMEM, "%s does not fit the buffer (%zu bytes so far)", what,
			  want);
}

int xr_record_encode(const struct xr_record *r,
		     const uint8_t *seed,
		     struct xr_buf *out,
		     struct xr_err *err)
{
	size_t al = strnlen(r->author, sizeof(r->author));
	uint8_t h[32], sig[64];
	int rc;

	if (!type_ok(r->type))
		return xr_err_set(err, XR_EINVAL, "record type %u is unknown, expected 1..5",
				  r->type);
	if ((rc = name_check_n(r->author, al, err)) < 0) {
		xr_err_prefix(err, "record author");
		return rc;
	}
	if (r->body_len > XR_RECORD_BODY_MAX)
		return xr_err_set(err, XR_EINVAL, "record body of %u bytes exceeds the maximum %u",
				  r->body_len, XR_RECORD_BODY_MAX);
	assert(r->body || r->body_len == 0);
	if (out->failed)
		return xr_err_set(err, XR_ENOMEM, "record buffer has already overflowed");

	size_t start = out->len;
	xr_buf_u8(out, XR_RECORD_VERSION);
	xr_buf_u8(out, r->type);
	xr_buf_u64(out, r->time_ms);
	xr_buf_u8(out, (uint8_t)al);
	xr_buf_put(out, r->author, al);
	xr_buf_u32(out, r->body_len);
	xr_buf_put(out, r->body, r->body_len);
	if (out->failed)
		return buf_done(out, start, "record", err);
	if (!seed) {
		xr_buf_u8(out, 0);
		return buf_done(out, start, "record", err);
	}
	xr_sha256(out->data + start, out->len - start, h);
	if ((rc = xr_ed25519_sign(seed, h, sizeof(h), sig, err)) < 0) {
		out->len = start;
		return rc;
	}
	xr_buf_u8(out, 64);
	xr_buf_put(out, sig, sizeof(sig));
	return buf_done(out, start, "record", err);
}

int xr_record_decode(const uint8_t *p, size_t len, struct xr_record *ret, struct xr_err *err)
{
	struct xr_reader rd;
	struct xr_record r;
	const uint8_t *a, *sig;
	uint8_t version, al;
	int rc;

	memset(&r, 0, sizeof(r));
	xr_reader_init(&rd, p, len);
	if ((rc = xr_read_u8(&rd, &version, "record version", err)) < 0)
		return rc;
	if (version != XR_RECORD_VERSION)
		return xr_err_set(err, XR_EINVAL, "record version %u is not supported, expected %d",
				  version, XR_RECORD_VERSION);
	if ((rc = xr_read_u8(&rd, &r.type, "record type", err)) < 0)
		return rc;
	if (!type_ok(r.type))
		return xr_err_set(err, XR_EINVAL, "record type %u is unknown, expected 1..5",
				  r.type);
	if ((rc = xr_read_u64(&rd, &r.time_ms, "record time", err)) < 0 ||
	    (rc = xr_read_u8(&rd, &al, "record author length", err)) < 0)
		return rc;
	if (al == 0 || al > XR_AUTHOR_MAX)
		return xr_err_set(err, XR_EINVAL, "record author length %u, expected 1..%d", al,
				  XR_AUTHOR_MAX);
	if ((rc = xr_read_bytes(&rd, al, &a, "record author", err)) < 0)
		return rc;
	if ((rc = name_check_n((const char *)a, al, err)) < 0) {
		xr_err_prefix(err, "record author");
		return rc;
	}
	memcpy(r.author, a, al);
	if ((rc = xr_read_u32(&rd, &r.body_len, "record body length", err)) < 0)
		return rc;
	if (r.body_len > XR_RECORD_BODY_MAX)
		return xr_err_set(err, XR_EINVAL, "record body length %u exceeds the maximum %u",
				  r.body_len, XR_RECORD_BODY_MAX);
	if ((rc = xr_read_bytes(&rd, r.body_len, &r.body, "record body", err)) < 0 ||
	    (rc = xr_read_u8(&rd, &r.sig_len, "record signature length", err)) < 0)
		return rc;
	if (r.sig_len != 0 && r.sig_len != 64)
		return xr_err_set(err, XR_EINVAL, "record signature length %u, expected 0 or 64",
				  r.sig_len);
	if (r.sig_len) {
		if ((rc = xr_read_bytes(&rd, 64, &sig, "record signature", err)) < 0)
			return rc;
		memcpy(r.sig, sig, 64);
	}
	if (rd.off != len)
		return xr_err_set(err, XR_EINVAL, "%zu bytes after the end of the record",
				  len - rd.off);
	*ret = r;
	return 0;
}

int xr_record_verify_sig(const uint8_t *enc,
			 size_t len,
			 const struct xr_record *r,
			 const uint8_t pub[32],
			 struct xr_err *err)
{
	uint8_t h[32];

	if (r->sig_len != 64)
		return xr_err_set(err, XR_EVERIFY, "record by '%s' carries no signature",
				  r->author);
	/* The signature length byte and the signature end the encoding. */
	if (len < 1 + 64 || enc[len - 65] != 64 || memcmp(enc + len - 64, r->sig, 64) != 0)
		return xr_err_set(err, XR_EINVAL,
				  "record encoding of %zu bytes does not end in the decoded "
				  "signature",
				  len);
	xr_sha256(enc, len - 65, h);
	if (!xr_ed25519_verify(pub, h, sizeof(h), r->sig))
		return xr_err_set(err, XR_EVERIFY, "signature by author '%s' does not verify",
				  r->author);
	return 0;
}

int xr_envelope_body_encode(const uint8_t *env,
			    size_t env_len,
			    const uint8_t evidence_digest[32],
			    struct xr_buf *out,
			    struct xr_err *err)
{
	if (env_len == 0 || env_len > XR_ENV_MAX_LEN)
		return xr_err_set(err, XR_EINVAL, "envelope of %zu bytes, expected 1..%d", env_len,
				  XR_ENV_MAX_LEN);
	if (out->failed)
		return xr_err_set(err, XR_ENOMEM, "envelope body buffer has already overflowed");
	size_t start = out->len;
	xr_buf_u32(out, (uint32_t)env_len);
	xr_buf_put(out, env, env_len);
	xr_buf_put(out, evidence_digest, 32);
	return buf_done(out, start, "envelope body", err);
}

int xr_envelope_body_decode(const uint8_t *body,
			    size_t len,
			    const uint8_t **ret_env,
			    size_t *ret_env_len,
			    const uint8_t **ret_digest,
			    struct xr_err *err)
{
	struct xr_reader rd;
	const uint8_t *env, *dig;
	uint32_t el;
	int rc;

	xr_reader_init(&rd, body, len);
	if ((rc = xr_read_u32(&rd, &el, "envelope length", err)) < 0)
		return rc;
	if (el == 0 || el > XR_ENV_MAX_LEN)
		return xr_err_set(err, XR_EINVAL, "envelope length %u, expected 1..%d", el,
				  XR_ENV_MAX_LEN);
	if ((rc = xr_read_bytes(&rd, el, &env, "envelope", err)) < 0 ||
	    (rc = xr_read_bytes(&rd, 32, &dig, "evidence digest", err)) < 0)
		return rc;
	if (rd.off != len)
		return xr_err_set(err, XR_EINVAL, "%zu bytes after the end of the envelope body",
				  len - rd.off);
	*ret_env = env;
	*ret_env_len = el;
	*ret_digest = dig;
	return 0;
}

static int member_check(const struct xr_member *m, size_t nl, struct xr_err *err)
{
	int rc;

	if (m->op != XR_MEMBER_ENROL && m->op != XR_MEMBER_REVOKE)
		return xr_err_set(err, XR_EINVAL, "member op %u, expected 1 (enrol) or 2 (revoke)",
				  m->op);
	if ((rc = name_check_n(m->name, nl, err)) < 0) {
		xr_err_prefix(err, "member");
		return rc;
	}
	if (m->roles == 0 || (m->roles & ~XR_ROLE_ALL))
		return xr_err_set(err, XR_EINVAL,
				  "member roles 0x%02x, expected a non-empty subset of 0x%02x",
				  m->roles, XR_ROLE_ALL);
	return 0;
}

int xr_member_encode(const struct xr_member *m, struct xr_buf *out, struct xr_err *err)
{
	size_t nl = strnlen(m->name, sizeof(m->name));
	int rc;

	if ((rc = member_check(m, nl, err)) < 0)
		return rc;
	if (out->failed)
		return xr_err_set(err, XR_ENOMEM, "member body buffer has already overflowed");
	size_t start = out->len;
	xr_buf_u8(out, m->op);
	xr_buf_u8(out, (uint8_t)nl);
	xr_buf_put(out, m->name, nl);
	xr_buf_u8(out, m->roles);
	xr_buf_u8(out, KEY_TYPE_ED25519);
	xr_buf_put(out, m->pub, 32);
	return buf_done(out, start, "member body", err);
}

int xr_member_decode(const uint8_t *body, size_t len, struct xr_member *ret, struct xr_err *err)
{
	struct xr_reader rd;
	struct xr_member m;
	const uint8_t *name, *pub;
	uint8_t nl, kt;
	int rc;

	memset(&m, 0, sizeof(m));
	xr_reader_init(&rd, body, len);
	if ((rc = xr_read_u8(&rd, &m.op, "member op", err)) < 0)
		return rc;
	if (m.op != XR_MEMBER_ENROL && m.op != XR_MEMBER_REVOKE)
		return xr_err_set(err, XR_EINVAL, "member op %u, expected 1 (enrol) or 2 (revoke)",
				  m.op);
	if ((rc = xr_read_u8(&rd, &nl, "member name length", err)) < 0)
		return rc;
	if (nl == 0 || nl > XR_AUTHOR_MAX)
		return xr_err_set(err, XR_EINVAL, "member name length %u, expected 1..%d", nl,
				  XR_AUTHOR_MAX);
	if ((rc = xr_read_bytes(&rd, nl, &name, "member name", err)) < 0)
		return rc;
	memcpy(m.name, name, nl);
	if ((rc = xr_read_u8(&rd, &m.roles, "member roles", err)) < 0)
		return rc;
	if ((rc = member_check(&m, nl, err)) < 0)
		return rc;
	if ((rc = xr_read_u8(&rd, &kt, "member key type", err)) < 0)
		return rc;
	if (kt != KEY_TYPE_ED25519)
		return xr_err_set(err, XR_EINVAL, "member key type %u, expected 1 (ed25519)", kt);
	if ((rc = xr_read_bytes(&rd, 32, &pub, "member key", err)) < 0)
		return rc;
	memcpy(m.pub, pub, 32);
	if (rd.off != len)
		return xr_err_set(err, XR_EINVAL, "%zu bytes after the end of the member body",
				  len - rd.off);
	*ret = m;
	return 0;
}

static const struct {
	const char *name;
	uint8_t bit;
} roles[] = {
    {"admin", XR_ROLE_ADMIN},	  {"deployer", XR_ROLE_DEPLOYER}, {"dapp", XR_ROLE_DAPP},
    {"auditor", XR_ROLE_AUDITOR}, {"relayer", XR_ROLE_RELAYER},
};
#define NROLES (sizeof(roles) / sizeof(roles[0]))

int xr_roles_parse(const char *s, uint8_t *ret, struct xr_err *err)
{
	char sh[SHOW_CAP], sl[SHOW_CAP];
	uint8_t set = 0;

	if (!s || !*s)
		return xr_err_set(err, XR_EINVAL,
				  "role list is empty, expected some of "
				  "admin,deployer,dapp,auditor,relayer");
	for (const char *p = s;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		size_t i;
		for (i = 0; i < NROLES; i++)
			if (strlen(roles[i].name) == n && memcmp(roles[i].name, p, n) == 0)
				break;
		if (i == NROLES)
			return xr_err_set(err, XR_EINVAL,
					  "unknown role '%s' in '%s', expected "
					  "admin,deployer,dapp,auditor,relayer",
					  show(p, n, sh), show(s, strlen(s), sl));
		if (set & roles[i].bit)
			return xr_err_set(err, XR_EINVAL, "role '%s' appears twice in '%s'",
					  roles[i].name, show(s, strlen(s), sl));
		set |= roles[i].bit;
		if (!comma)
			break;
		p = comma + 1;
	}
	*ret = set;
	return 0;
}

void xr_roles_format(uint8_t r, char out[64])
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < NROLES; i++) {
		if (!(r & roles[i].bit))
			continue;
		size_t n = strlen(roles[i].name);
		if (o)
			out[o++] = ',';
		memcpy(out + o, roles[i].name, n + 1);
		o += n;
	}
	/* Bits no role names: shown, not dropped, so a bad set is visible. */
	if (r & ~XR_ROLE_ALL)
		snprintf(out + o, 64 - o, "%s0x%02x", o ? "," : "", (unsigned)(r & ~XR_ROLE_ALL));
}
