/* test_pipeline.c - the chain state codec: round trips, and hostile stored
 * bytes refused without reading past them. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline.h"

START_TEST(state_round_trip)
{
	struct xr_chain_state s = {.height = 1234567, .halted = true}, t;
	struct xr_err err = {0};
	struct xr_buf b;
	memset(s.hash, 0xab, 32);
	memset(s.reason, 'r', sizeof(s.reason) - 1);
	xr_buf_init(&b, 4096);
	xr_chain_state_encode(&s, &b);
	ck_assert_int_eq(xr_chain_state_decode(b.data, b.len, &t, &err), 0);
	ck_assert_uint_eq(t.height, s.height);
	ck_assert(t.halted);
	ck_assert_mem_eq(t.hash, s.hash, 32);
	ck_assert_str_eq(t.reason, s.reason);
	/* Every truncation below the fixed part, and a halted byte of 2. */
	for (size_t n = 0; n < 41; n++)
		ck_assert_int_eq(xr_chain_state_decode(b.data, n, &t, &err), XR_EIO);
	b.data[40] = 2;
	ck_assert_int_eq(xr_chain_state_decode(b.data, b.len, &t, &err), XR_EIO);
	/* A reason longer than the struct holds is refused, not cut or overrun. */
	uint8_t big[41 + sizeof(s.reason)];
	memset(big, 'x', sizeof(big));
	big[40] = 1;
	ck_assert_int_eq(xr_chain_state_decode(big, sizeof(big), &t, &err), XR_EIO);
	ck_assert_int_eq(xr_chain_state_decode(big, sizeof(big) - 1, &t, &err), 0);
	ck_assert_uint_eq(strlen(t.reason), sizeof(s.reason) - 1);
	xr_buf_fini(&b);
}
END_TEST

/* States with the emitters' start sequences: round trip, a state of the
 * old layout still reads, and every cut or hostile count is refused. */
START_TEST(state_seeds)
{
	struct xr_chain_state s = {.height = 49, .nseeds = 3}, t;
	struct xr_err err = {0};
	struct xr_buf b;
	memset(s.hash, 0x5a, 32);
	snprintf(s.reason, sizeof(s.reason), "why");
	for (size_t i = 0; i < s.nseeds; i++) {
		s.seeds[i].len = (uint8_t)(i == 2 ? XR_ENV_EMITTER_MAX : 20);
		memset(s.seeds[i].emitter, (int)(0x10 + i), s.seeds[i].len);
		s.seeds[i].sequence = i == 1 ? UINT64_MAX : 7 * i;
	}
	xr_buf_init(&b, 4096);
	xr_chain_state_encode(&s, &b);
	ck_assert_int_eq(xr_chain_state_decode(b.data, b.len, &t, &err), 0);
	ck_assert_uint_eq(t.height, 49);
	ck_assert(!t.halted);
	ck_assert_uint_eq(t.nseeds, 3);
	for (size_t i = 0; i < 3; i++) {
		ck_assert_uint_eq(t.seeds[i].len, s.seeds[i].len);
		ck_assert_mem_eq(t.seeds[i].emitter, s.seeds[i].emitter, s.seeds[i].len);
		ck_assert_uint_eq(t.seeds[i].sequence, s.seeds[i].sequence);
	}
	ck_assert_str_eq(t.reason, "why");
	ck_assert_uint_eq(b.data[40], 2);
	/* Cut anywhere inside the seed list: refused (the reason is the rest). */
	size_t seeds_end = b.len - 3;
	for (size_t n = 41; n < seeds_end; n++)
		ck_assert_msg(xr_chain_state_decode(b.data, n, &t, &err) == XR_EIO, "cut at %zu", n);
	/* Hostile counts and lengths. */
	uint8_t *c = malloc(b.len);
	const struct {
		size_t off;
		uint8_t v;
	} bad[] = {{40, 4}, {40, 0x80}, {41, 0}, {41, XR_CHAIN_SEEDS_MAX + 1}, {41, 4}, {42, 0},
		   {42, XR_ENV_EMITTER_MAX + 1}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(c, b.data, b.len);
		c[bad[i].off] = bad[i].v;
		ck_assert_msg(xr_chain_state_decode(c, b.len, &t, &err) == XR_EIO, "byte %zu = %u",
			      bad[i].off, bad[i].v);
	}
	free(c);
	/* The old layout: flags 0, the reason right after. */
	struct xr_chain_state o = {.height = 3};
	xr_buf_reset(&b);
	xr_chain_state_encode(&o, &b);
	xr_buf_put(&b, "old", 3);
	ck_assert_uint_eq(b.len, 44);
	ck_assert_int_eq(xr_chain_state_decode(b.data, b.len, &t, &err), 0);
	ck_assert_uint_eq(t.nseeds, 0);
	ck_assert_str_eq(t.reason, "old");
	xr_buf_fini(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pipeline");
	TCase *t = tcase_create("state");
	tcase_add_test(t, state_round_trip);
	tcase_add_test(t, state_seeds);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
