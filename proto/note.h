/* note.h - C2SP signed notes with Ed25519 keys, and the checkpoint (block)
 * text of the ledger in C2SP tlog-checkpoint form with xrelay's extension
 * lines. */
#ifndef XR_NOTE_H
#define XR_NOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "xr_bytes.h"
#include "xr_err.h"

/* Names of our own keys (signers and verifier keys): 1..64 bytes of printable
 * ASCII without space or '+'. Signature lines by keys we do not know may use
 * any name C2SP allows (non-empty UTF-8 without Unicode spaces or '+', of any
 * length); they are skipped, never refused for their name. */
#define XR_NOTE_NAME_MAX 64
/* The note text, with its final newline. */
#define XR_NOTE_TEXT_MAX 65536
/* C2SP signed-note: a verifier MUST accept at least 16 signatures, and
 * post-quantum ones are nearly 5 kB. The whole-note cap admits, beside the
 * largest text, XR_NOTE_SIGS_ADMITTED signature lines each with a name of
 * XR_NOTE_NAME_ADMITTED bytes and a key id plus signature of
 * XR_NOTE_SIG_ADMITTED bytes (note.c asserts the sum). */
#define XR_NOTE_SIGS_ADMITTED 16
#define XR_NOTE_NAME_ADMITTED 1024
#define XR_NOTE_SIG_ADMITTED (4 + 8192)
#define XR_NOTE_MAX_LEN (256 * 1024)
#define XR_NOTE_MAX_SIGS 100
#define XR_ORIGIN_MAX 128
/* "<name>+<8 hex>+<base64 of 33 bytes>" */
#define XR_VKEY_MAX (XR_NOTE_NAME_MAX + 1 + 8 + 1 + 44 + 1)

struct xr_vkey {
	char name[XR_NOTE_NAME_MAX + 1];
	uint8_t id[4];
	uint8_t pub[32];
};

struct xr_signer {
	struct xr_vkey key;
	uint8_t seed[32];
};

/* key id = SHA-256(name || "\n" || 0x01 || pub)[:4] */
void xr_note_key_id(const char *name, const uint8_t pub[32], uint8_t ret[4]);
int xr_signer_init(struct xr_signer *s,
		   const char *name,
		   const uint8_t seed[32],
		   struct xr_err *err);
/* Verifier key text `<name>+<hex id>+<base64(0x01 || pub)>`; out holds XR_VKEY_MAX. */
void xr_vkey_format(const struct xr_vkey *k, char out[XR_VKEY_MAX]);
/* Parses one verifier key; checks that the key id matches name and key. */
int xr_vkey_parse(const char *s, size_t len, struct xr_vkey *ret, struct xr_err *err);
/* Parses a file's text: one key per line, blank lines and '#' comments
 * skipped, and at most one line `origin <origin>` (see xr_committee_parse).
 * Names and public keys are each unique: one member, one key, so that no
 * member counts twice towards a threshold. *ret is malloc'd; caller frees. */
int xr_vkeys_parse(
    const char *text, size_t len, struct xr_vkey **ret, size_t *ret_n, struct xr_err *err);

/* A committee file: xr_vkeys_parse's format, whose line `origin <origin>`
 * names the one log its keys verify. The keys are named by member (each
 * member co-signs under its own name, as a C2SP witness does, and stays the
 * author of the records it writes unsigned); the origin line is what ties
 * those names to the log, so that a checkpoint of any other origin is
 * refused even when the same members sign it. ret_origin gets the origin,
 * or "" when the file declares none (the caller decides whether that is
 * allowed); *ret is malloc'd; caller frees. */
int xr_committee_parse(const char *text,
		       size_t len,
		       char ret_origin[XR_ORIGIN_MAX + 1],
		       struct xr_vkey **ret,
		       size_t *ret_n,
		       struct xr_err *err);

/* Appends `text` (which must end in '\n' and be a valid note text), the
 * blank line and one signature line per signer to out. */
int xr_note_sign(const char *text,
		 size_t len,
		 const struct xr_signer *signers,
		 size_t n,
		 struct xr_buf *out,
		 struct xr_err *err);

/* Opens a signed note: splits text from signatures, verifies every signature
 * by a known key (one that fails rejects the note), ignores unknown keys
 * (whatever their name, algorithm or size), and requires signatures by at
 * least `threshold` distinct public keys: two entries of keys[] with the same
 * public key count once. A threshold of 0 would accept a note nobody known
 * signed, and is refused (XR_EINVAL). Returns the length of the text
 * (including its final newline) and, when ret_signers is not NULL, a bit per
 * entry of keys[] that signed (entries beyond 64 are not reported). */
int xr_note_open(const char *note,
		 size_t len,
		 const struct xr_vkey *keys,
		 size_t nkeys,
		 size_t threshold,
		 size_t *ret_text_len,
		 uint64_t *ret_signers,
		 struct xr_err *err);

/* A ledger block: tlog-checkpoint lines plus `block`, `time`, `prev`. */
struct xr_checkpoint {
	char origin[XR_ORIGIN_MAX + 1];
	uint64_t size;
	uint8_t root[32];
	uint64_t block;
	uint64_t time_ms;
	uint8_t prev[32]; /* SHA-256 of the previous checkpoint's text; zeros for block 0 */
};

/* Formats the checkpoint text (unsigned) into out. */
int xr_checkpoint_format(const struct xr_checkpoint *c, struct xr_buf *out, struct xr_err *err);
/* Parses a checkpoint text (exactly the text, without the signature part). */
int xr_checkpoint_parse(const char *text,
			size_t len,
			struct xr_checkpoint *ret,
			struct xr_err *err);
/* Default committee threshold for n keys: floor(2n/3) + 1. */
size_t xr_committee_threshold(size_t n);

#endif
