/* xr_bytes.h - byte-level helpers shared by every codec in proto/: big-endian
 * reader and writer with hard bounds, hex and base64, SHA-256 and Ed25519. */
#ifndef XR_BYTES_H
#define XR_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xr_err.h"

/* A growable output buffer with a hard cap. On overflow or allocation
 * failure it latches `failed`; callers check once at the end. */
struct xr_buf {
	uint8_t *data;
	size_t len, cap, max;
	bool failed;
};

void xr_buf_init(struct xr_buf *b, size_t max);
void xr_buf_fini(struct xr_buf *b);
void xr_buf_reset(struct xr_buf *b);
void xr_buf_put(struct xr_buf *b, const void *p, size_t n);
void xr_buf_u8(struct xr_buf *b, uint8_t v);
void xr_buf_u32(struct xr_buf *b, uint32_t v);
void xr_buf_u64(struct xr_buf *b, uint64_t v);
/* Detaches the data: the caller frees it with free(). */
uint8_t *xr_buf_steal(struct xr_buf *b, size_t *ret_len);

/* A bounds-checked reader over borrowed bytes. Every read fails cleanly on
 * truncation; `what` names the field in the error message. */
struct xr_reader {
	const uint8_t *p;
	size_t len, off;
};

static inline void xr_reader_init(struct xr_reader *r, const uint8_t *p, size_t len)
{
	r->p = p;
	r->len = len;
	r->off = 0;
}
int xr_read_u8(struct xr_reader *r, uint8_t *v, const char *what, struct xr_err *err);
int xr_read_u32(struct xr_reader *r, uint32_t *v, const char *what, struct xr_err *err);
int xr_read_u64(struct xr_reader *r, uint64_t *v, const char *what, struct xr_err *err);
/* Borrows n bytes from the input without copying. */
int xr_read_bytes(
    struct xr_reader *r, size_t n, const uint8_t **v, const char *what, struct xr_err *err);

static inline void xr_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}
static inline void xr_put_be64(uint8_t *p, uint64_t v)
{
	xr_put_be32(p, (uint32_t)(v >> 32));
	xr_put_be32(p + 4, (uint32_t)v);
}
static inline uint32_t xr_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t xr_get_be64(const uint8_t *p)
{
	return (uint64_t)xr_get_be32(p) << 32 | xr_get_be32(p + 4);
}

/* Shows untrusted bytes in an error message: printable ASCII as is, anything
 * else as \xNN, cut after max input bytes with "...", so a message stays one
 * line. out must hold 4 * max + 4 bytes. Returns out. */
const char *xr_show(const char *s, size_t n, size_t max, char *out);

/* The value of one hex digit (either case), or -1. */
int xr_hex_digit(char c);

/* Lower-case hex, no prefix; out must hold 2*n+1 bytes (NUL-terminated). */
void xr_hex_encode(const uint8_t *p, size_t n, char *out);
/* "0x" + lower-case hex; caller frees. NULL on allocation failure. */
char *xr_hex0x_new(const uint8_t *p, size_t n);
/* Decodes hex with an optional 0x prefix (either case of digits) into a new
 * buffer the caller frees. Rejects odd length, bad digits and more than max
 * bytes. */
int xr_hex_decode_new(
    const char *s, size_t max, uint8_t **ret, size_t *ret_len, struct xr_err *err);
/* Decodes exactly n bytes of 0x-prefixed (or bare) hex into out. */
int xr_hex_decode_exact(const char *s, uint8_t *out, size_t n, struct xr_err *err);

/* Standard base64 (RFC 4648 section 4) with padding. out must hold
 * xr_b64_len(n)+1 bytes. */
static inline size_t xr_b64_len(size_t n)
{
	return (n + 2) / 3 * 4;
}
void xr_b64_encode(const uint8_t *p, size_t n, char *out);
/* Strict decoding of canonical padded base64 of exactly slen characters into
 * out (capacity outcap); rejects non-canonical trailing bits. */
int xr_b64_decode(
    const char *s, size_t slen, uint8_t *out, size_t outcap, size_t *ret_len, struct xr_err *err);

void xr_sha256(const void *p, size_t n, uint8_t out[32]);
/* SHA-256 over two pieces, without copying them together. */
void xr_sha256_2(const void *a, size_t an, const void *b, size_t bn, uint8_t out[32]);

/* Ed25519: 32-byte seed (private), 32-byte public key, 64-byte signature. */
int xr_ed25519_keygen(uint8_t ret_seed[32], uint8_t ret_pub[32], struct xr_err *err);
int xr_ed25519_public(const uint8_t seed[32], uint8_t ret_pub[32], struct xr_err *err);
int xr_ed25519_sign(
    const uint8_t seed[32], const void *msg, size_t n, uint8_t ret_sig[64], struct xr_err *err);
/* Returns true only for a valid signature. */
bool xr_ed25519_verify(const uint8_t pub[32], const void *msg, size_t n, const uint8_t sig[64]);

#endif
