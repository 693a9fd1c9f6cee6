/* test_pipeline.c - the chain state codec: round trips, and hostile stored
 * bytes refused without reading past them. */
#include <check.h>
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

int main(void)
{
	Suite *s = suite_create("pipeline");
	TCase *t = tcase_create("state");
	tcase_add_test(t, state_round_trip);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
