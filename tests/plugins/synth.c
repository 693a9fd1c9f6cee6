/* synth.c - a plug-in adapter over a synthetic, deterministic chain, for
 * testing the loader and the relay's pipeline logic (dedup, gaps,
 * equivocation, restarts) without a node. Block h holds `per_block` events
 * with consecutive sequences; the head is read from `head_file` on every
 * call, so a test moves the chain by rewriting one number. At height
 * `twist_height` it also emits sequence `twist_seq` again with another
 * amount (an equivocation); `skip_seq` leaves that sequence out (a gap);
 * block hashes mix in the number in `salt_file`, so changing it rewrites
 * history (a reorg below the final height). */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "adapter.h"
#include "envelope.h"
#include "xr_bytes.h"

struct synth {
	char chain[XR_ENV_CHAIN_MAX + 1];
	char head_file[1024], salt_file[1024];
	unsigned per_block, confirmations;
	uint64_t twist_seq, twist_height, skip_seq;
};

static int synth_open(const struct xr_host *host,
		      const char *params_json,
		      void **ret_chain,
		      struct xr_err *err)
{
	(void)host;
	json_error_t je;
	json_t *p = json_loads(params_json, JSON_REJECT_DUPLICATES, &je);
	const char *chain = json_string_value(json_object_get(p, "chain"));
	const char *hf = json_string_value(json_object_get(p, "head_file"));
	if (!p || !chain || !hf || xr_caip2_check(chain, err) < 0 || strlen(hf) >= 1024) {
		json_decref(p);
		return xr_err_set(err, XR_EINVAL, "synth needs \"chain\" and \"head_file\"");
	}
	struct synth *s = calloc(1, sizeof(*s));
	if (!s) {
		json_decref(p);
		return xr_err_set(err, XR_ENOMEM, "out of memory");
	}
	memcpy(s->chain, chain, strlen(chain) + 1);
	memcpy(s->head_file, hf, strlen(hf) + 1);
	json_int_t pb = json_integer_value(json_object_get(p, "per_block"));
	s->per_block = pb > 0 ? (unsigned)pb : 2;
	s->confirmations = (unsigned)json_integer_value(json_object_get(p, "confirmations"));
	s->twist_seq = (uint64_t)json_integer_value(json_object_get(p, "twist_seq"));
	s->twist_height = (uint64_t)json_integer_value(json_object_get(p, "twist_height"));
	const char *salt = json_string_value(json_object_get(p, "salt_file"));
	if (salt && strlen(salt) < sizeof(s->salt_file))
		memcpy(s->salt_file, salt, strlen(salt) + 1);
	s->skip_seq = (uint64_t)json_integer_value(json_object_get(p, "skip_seq"));
	json_decref(p);
	*ret_chain = s;
	return 0;
}

static void synth_close(void *chain)
{
	free(chain);
}

static int read_number(const char *path, unsigned long long *ret)
{
	FILE *f = path[0] ? fopen(path, "r") : NULL;
	int ok = f && fscanf(f, "%llu", ret) == 1;
	if (f)
		fclose(f);
	return ok ? 0 : -1;
}

static int synth_head(void *chain, struct xr_head *ret, struct xr_err *err)
{
	struct synth *s = chain;
	unsigned long long h;
	if (read_number(s->head_file, &h) < 0)
		return xr_err_set(err, XR_EIO, "synth: cannot read the head from %s", s->head_file);
	memset(ret, 0, sizeof(*ret));
	ret->latest = h;
	ret->final = h > s->confirmations ? h - s->confirmations : 0;
	xr_put_be64(ret->latest_hash, h);
	return 0;
}

static int synth_block_hash(void *chain, uint64_t height, uint8_t ret[32], struct xr_err *err)
{
	struct synth *s = chain;
	unsigned long long salt = 0;
	(void)err;
	read_number(s->salt_file, &salt);
	memset(ret, 0x5a, 32);
	xr_put_be64(ret, height);
	xr_put_be64(ret + 8, salt);
	return 0;
}

static int synth_scan(
    void *chain, uint64_t from, uint64_t to, xr_observe_fn emit, void *ctx, struct xr_err *err)
{
	struct synth *s = chain;
	uint8_t enc[1024];
	for (uint64_t h = from; h <= to; h++) {
		unsigned n = s->per_block + (h == s->twist_height && s->twist_seq ? 1 : 0);
		for (unsigned i = 0; i < n; i++) {
			bool twist = i == s->per_block;
			uint64_t seq = twist ? s->twist_seq : (h - 1) * s->per_block + i + 1;
			if (h == 0 || (!twist && seq == s->skip_seq))
				continue;
			struct xr_envelope e = {.kind = XR_ENV_TRANSFER,
						.src_height = h,
						.log_index = i,
						.emitter_len = 20,
						.sequence = seq,
						.recipient_len = 20,
						.src_time = 1763800000 + h};
			memcpy(e.src_chain, s->chain, strlen(s->chain) + 1);
			memcpy(e.dst_chain, "eip155:31338", 13);
			snprintf(e.asset, sizeof(e.asset), "%s/slip44:60", s->chain);
			synth_block_hash(chain, h, e.src_block, err);
			memset(e.src_tx, 0x7a, 32);
			xr_put_be64(e.src_tx, h);
			memset(e.emitter, 0xee, 20);
			memset(e.recipient, 0xcc, 20);
			xr_put_be64(e.amount + 24, twist ? 1000 + seq : seq);
			size_t len;
			int rc = xr_envelope_encode(&e, enc, sizeof(enc), &len, err);
			if (rc < 0)
				return rc;
			struct xr_observation o = {enc, len, NULL, 0};
			if ((rc = emit(ctx, &o, err)) < 0)
				return rc;
		}
	}
	return 0;
}

static const struct xr_adapter synth = {
    .abi_major = XR_ADAPTER_ABI_MAJOR,
    .abi_minor = XR_ADAPTER_ABI_MINOR,
    .size = sizeof(struct xr_adapter),
    .framework = "synth",
    .caps = XR_CAP_SCAN,
    .open = synth_open,
    .close = synth_close,
    .head = synth_head,
    .scan = synth_scan,
    .block_hash = synth_block_hash,
};

#ifdef SYNTH_WRONG_ABI
static struct xr_adapter wrong;
#endif

__attribute__((visibility("default"))) const struct xr_adapter *xr_adapter_entry(void);

const struct xr_adapter *xr_adapter_entry(void)
{
#ifdef SYNTH_WRONG_ABI
	wrong = synth;
	wrong.abi_major = XR_ADAPTER_ABI_MAJOR + 1;
	wrong.abi_minor = 3;
	return &wrong;
#else
	return &synth;
#endif
}
