/* xr_bytes.c - bounded buffers, readers, hex, base64, SHA-256 and Ed25519. */
#include "xr_bytes.h"

#include <stdlib.h>
#include <string.h>

/* The low-level SHA256_* calls are deprecated in OpenSSL 3 but avoid the
 * EVP fetch on every hash, which dominates for short Merkle node inputs. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

void xr_buf_init(struct xr_buf *b, size_t max)
{
	memset(b, 0, sizeof(*b));
	b->max = max;
}

void xr_buf_fini(struct xr_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

void xr_buf_reset(struct xr_buf *b)
{
	b->len = 0;
	b->failed = false;
}

void xr_buf_put(struct xr_buf *b, const void *p, size_t n)
{
	if (b->failed)
		return;
	if (n > b->max - b->len || b->len > b->max) {
		b->failed = true;
		return;
	}
	if (b->len + n > b->cap) {
		size_t ncap = b->cap ? b->cap : 256;
		while (ncap < b->len + n)
			ncap *= 2;
		uint8_t *nd = realloc(b->data, ncap);
		if (!nd) {
			b->failed = true;
			return;
		}
		b->data = nd;
		b->cap = ncap;
	}
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

void xr_buf_u8(struct xr_buf *b, uint8_t v)
{
	xr_buf_put(b, &v, 1);
}

void xr_buf_u32(struct xr_buf *b, uint32_t v)
{
	uint8_t t[4];
	xr_put_be32(t, v);
	xr_buf_put(b, t, 4);
}

void xr_buf_u64(struct xr_buf *b, uint64_t v)
{
	uint8_t t[8];
	xr_put_be64(t, v);
	xr_buf_put(b, t, 8);
}

uint8_t *xr_buf_steal(struct xr_buf *b, size_t *ret_len)
{
	uint8_t *d = b->data;
	if (!d)
		d = malloc(1);
	*ret_len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return d;
}

int xr_read_bytes(
    struct xr_reader *r, size_t n, const uint8_t **v, const char *what, struct xr_err *err)
{
	if (n > r->len - r->off)
		return xr_err_set(err, XR_EINVAL,
				  "truncated at %s: need %zu bytes at offset %zu, have %zu", what,
				  n, r->off, r->len - r->off);
	*v = r->p + r->off;
	r->off += n;
	return 0;
}

int xr_read_u8(struct xr_reader *r, uint8_t *v, const char *what, struct xr_err *err)
{
	const uint8_t *p = NULL;
	int rc = xr_read_bytes(r, 1, &p, what, err);
	if (rc == 0)
		*v = p[0];
	return rc;
}

int xr_read_u32(struct xr_reader *r, uint32_t *v, const char *what, struct xr_err *err)
{
	const uint8_t *p = NULL;
	int rc = xr_read_bytes(r, 4, &p, what, err);
	if (rc == 0)
		*v = xr_get_be32(p);
	return rc;
}

int xr_read_u64(struct xr_reader *r, uint64_t *v, const char *what, struct xr_err *err)
{
	const uint8_t *p = NULL;
	int rc = xr_read_bytes(r, 8, &p, what, err);
	if (rc == 0)
		*v = xr_get_be64(p);
	return rc;
}

const char *xr_show(const char *s, size_t n, size_t max, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n && i < max; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\') {
			out[o++] = (char)c;
		} else {
			static const char d[] = "0123456789abcdef";
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = d[c >> 4];
			out[o++] = d[c & 15];
		}
	}
	if (n > max) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

void xr_hex_encode(const uint8_t *p, size_t n, char *out)
{
	static const char d[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = d[p[i] >> 4];
		out[2 * i + 1] = d[p[i] & 15];
	}
	out[2 * n] = '\0';
}

char *xr_hex0x_new(const uint8_t *p, size_t n)
{
	char *s = malloc(2 * n + 3);
	if (!s)
		return NULL;
	s[0] = '0';
	s[1] = 'x';
	xr_hex_encode(p, n, s + 2);
	return s;
}

int xr_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
hex_body(const char *s, const char **ret_body, size_t *ret_n, size_t max, struct xr_err *err)
{
	if (!s)
		return xr_err_set(err, XR_EINVAL, "expected a hex string, got nothing");
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	size_t sl = strlen(s);
	if (sl % 2)
		return xr_err_set(err, XR_EINVAL, "hex string has odd length %zu", sl);
	if (sl / 2 > max)
		return xr_err_set(err, XR_EINVAL, "hex string of %zu bytes exceeds the maximum %zu",
				  sl / 2, max);
	for (size_t i = 0; i < sl; i++)
		if (xr_hex_digit(s[i]) < 0)
			return xr_err_set(err, XR_EINVAL, "invalid hex digit '%c' at position %zu",
					  s[i], i);
	*ret_body = s;
	*ret_n = sl / 2;
	return 0;
}

static void hex_fill(const char *s, size_t n, uint8_t *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(xr_hex_digit(s[2 * i]) << 4 | xr_hex_digit(s[2 * i + 1]));
}

int xr_hex_decode_new(const char *s, size_t max, uint8_t **ret, size_t *ret_len, struct xr_err *err)
{
	const char *body;
	size_t n;
	int rc = hex_body(s, &body, &n, max, err);
	if (rc < 0)
		return rc;
	uint8_t *out = malloc(n ? n : 1);
	if (!out)
		return xr_err_set(err, XR_ENOMEM, "out of memory decoding %zu hex bytes", n);
	hex_fill(body, n, out);
	*ret = out;
	*ret_len = n;
	return 0;
}

int xr_hex_decode_exact(const char *s, uint8_t *out, size_t n, struct xr_err *err)
{
	const char *body;
	size_t got;
	int rc = hex_body(s, &body, &got, n, err);
	if (rc < 0)
		return rc;
	if (got != n)
		return xr_err_set(err, XR_EINVAL, "expected %zu hex bytes, got %zu", n, got);
	hex_fill(body, n, out);
	return 0;
}

static const char b64d[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void xr_b64_encode(const uint8_t *p, size_t n, char *out)
{
	size_t o = 0, i = 0;
	for (; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = b64d[v >> 18];
		out[o++] = b64d[(v >> 12) & 63];
		out[o++] = b64d[(v >> 6) & 63];
		out[o++] = b64d[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;
		out[o++] = b64d[v >> 18];
		out[o++] = b64d[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		out[o++] = b64d[v >> 18];
		out[o++] = b64d[(v >> 12) & 63];
		out[o++] = b64d[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
}

static int b64val(char c)
{
	const char *q = c ? strchr(b64d, c) : NULL;
	return q ? (int)(q - b64d) : -1;
}

int xr_b64_decode(
    const char *s, size_t slen, uint8_t *out, size_t outcap, size_t *ret_len, struct xr_err *err)
{
	if (slen % 4)
		return xr_err_set(err, XR_EINVAL, "base64 length %zu is not a multiple of 4", slen);
	size_t pad = 0;
	if (slen >= 1 && s[slen - 1] == '=')
		pad++;
	if (slen >= 2 && s[slen - 2] == '=')
		pad++;
	size_t n = slen / 4 * 3 - pad;
	if (n > outcap)
		return xr_err_set(err, XR_EINVAL,
				  "base64 decodes to %zu bytes, at most %zu allowed", n, outcap);
	size_t o = 0;
	for (size_t i = 0; i < slen; i += 4) {
		int v[4];
		for (int j = 0; j < 4; j++) {
			bool padpos = i + 4 == slen && j >= 4 - (int)pad;
			v[j] = padpos ? 0 : b64val(s[i + j]);
			if (v[j] < 0)
				return xr_err_set(err, XR_EINVAL,
						  "invalid base64 character at position %zu",
						  i + j);
		}
		uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 |
			     (uint32_t)v[3];
		uint8_t t[3] = {w >> 16, w >> 8, w};
		size_t take = i + 4 == slen ? 3 - pad : 3;
		if (i + 4 == slen && pad && (t[take] != 0 || (pad == 2 && t[2] != 0)))
			return xr_err_set(err, XR_EINVAL, "non-canonical base64 padding bits");
		memcpy(out + o, t, take);
		o += take;
	}
	*ret_len = o;
	return 0;
}

void xr_sha256(const void *p, size_t n, uint8_t out[32])
{
	/* SHA256() fetches the algorithm on every call in OpenSSL 3: 4x slower
	 * for a Merkle node than the context API (measured by bench-ledger). */
	SHA256_CTX c;
	SHA256_Init(&c);
	SHA256_Update(&c, p, n);
	SHA256_Final(out, &c);
}

void xr_sha256_2(const void *a, size_t an, const void *b, size_t bn, uint8_t out[32])
{
	SHA256_CTX c;
	SHA256_Init(&c);
	SHA256_Update(&c, a, an);
	SHA256_Update(&c, b, bn);
	SHA256_Final(out, &c);
}

int xr_ed25519_public(const uint8_t seed[32], uint8_t ret_pub[32], struct xr_err *err)
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	size_t n = 32;
	int ok = k && EVP_PKEY_get_raw_public_key(k, ret_pub, &n) == 1 && n == 32;
	EVP_PKEY_free(k);
	return ok ? 0 : xr_err_set(err, XR_EINVAL, "invalid ed25519 private key");
}

int xr_ed25519_keygen(uint8_t ret_seed[32], uint8_t ret_pub[32], struct xr_err *err)
{
	uint8_t seed[32];
	if (RAND_priv_bytes(seed, sizeof(seed)) != 1)
		return xr_err_set(err, XR_EIO, "no randomness available for key generation");
	int rc = xr_ed25519_public(seed, ret_pub, err);
	if (rc == 0)
		memcpy(ret_seed, seed, 32);
	OPENSSL_cleanse(seed, sizeof(seed));
	return rc;
}

int xr_ed25519_sign(
    const uint8_t seed[32], const void *msg, size_t n, uint8_t ret_sig[64], struct xr_err *err)
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	size_t sl = 64;
	int ok = k && c && EVP_DigestSignInit(c, NULL, NULL, NULL, k) == 1 &&
		 EVP_DigestSign(c, ret_sig, &sl, msg, n) == 1 && sl == 64;
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(k);
	return ok ? 0 : xr_err_set(err, XR_EINVAL, "ed25519 signing failed");
}

bool xr_ed25519_verify(const uint8_t pub[32], const void *msg, size_t n, const uint8_t sig[64])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	bool ok = k && c && EVP_DigestVerifyInit(c, NULL, NULL, NULL, k) == 1 &&
		  EVP_DigestVerify(c, sig, 64, msg, n) == 1;
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(k);
	return ok;
}
