/* test_loader.c - plug-ins built as real shared objects: loaded and used,
 * or refused with a precise message. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "loader.h"

static const char *plugin(const char *name)
{
	static char p[4096];
	snprintf(p, sizeof(p), "%s/tests/plugins/%s", getenv("XR_BUILD"), name);
	return p;
}

static int count_emit(void *ctx, const struct xr_observation *o, struct xr_err *err)
{
	struct xr_envelope e;
	if (xr_envelope_decode(o->envelope, o->envelope_len, &e, err) < 0)
		return -1;
	(*(int *)ctx)++;
	return 0;
}

START_TEST(loads_and_runs)
{
	struct xr_err err = {0};
	void *h = NULL;
	const struct xr_adapter *a = NULL;
	int rc = xr_adapter_load(plugin("libxr_synth.so"), &h, &a, &err);
	ck_assert_msg(rc == 0, "%s", err.msg);
	ck_assert_str_eq(a->framework, "synth");
	char head[] = "/tmp/xr-loader-head-XXXXXX";
	int fd = mkstemp(head);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "7\n", 2), 2);
	close(fd);
	char params[256];
	snprintf(params, sizeof(params),
		 "{\"chain\":\"test:one\",\"head_file\":\"%s\",\"per_block\":3}", head);
	void *chain = NULL;
	ck_assert_int_eq(a->open(NULL, params, &chain, &err), 0);
	struct xr_head hd;
	ck_assert_int_eq(a->head(chain, &hd, &err), 0);
	ck_assert_uint_eq(hd.latest, 7);
	int n = 0;
	ck_assert_int_eq(a->scan(chain, 1, 4, count_emit, &n, &err), 0);
	ck_assert_int_eq(n, 12);
	ck_assert(a->submit == NULL);
	ck_assert_int_eq(xr_adapter_unsupported(a, "submit", &err), XR_ESTATE);
	ck_assert_str_eq(err.msg, "submit is not supported by synth");
	a->close(chain);
	unlink(head);
	xr_adapter_unload(h);
}
END_TEST

START_TEST(refusals)
{
	struct xr_err err = {0};
	void *h = NULL;
	const struct xr_adapter *a = NULL;
	ck_assert_int_eq(xr_adapter_load(plugin("libxr_synth_wrong_abi.so"), &h, &a, &err),
			 XR_EINVAL);
	ck_assert_msg(strstr(err.msg, "speaks adapter ABI 2.3; this relay speaks 1.1"), "%s",
		      err.msg);
	ck_assert_ptr_null(h);
	xr_err_clear(&err);
	ck_assert_int_eq(xr_adapter_load(plugin("libxr_noentry.so"), &h, &a, &err), XR_EINVAL);
	ck_assert_msg(strstr(err.msg, "is not an xrelay adapter: no symbol xr_adapter_entry"), "%s",
		      err.msg);
	xr_err_clear(&err);
	ck_assert_int_eq(xr_adapter_load("/nonexistent/adapter.so", &h, &a, &err), XR_EINVAL);
	ck_assert_msg(strstr(err.msg, "cannot load adapter '/nonexistent/adapter.so'"), "%s",
		      err.msg);

	/* Tables that lie about themselves. */
	struct xr_adapter t = {.abi_major = XR_ADAPTER_ABI_MAJOR, .size = 8, .framework = "x"};
	xr_err_clear(&err);
	ck_assert_int_lt(xr_adapter_check(&t, "'t'", &err), 0);
	ck_assert_msg(strstr(err.msg, "declares a table of 8 bytes"), "%s", err.msg);
	t.size = sizeof(t);
	t.caps = XR_CAP_SCAN;
	xr_err_clear(&err);
	ck_assert_int_lt(xr_adapter_check(&t, "'t'", &err), 0);
	ck_assert_msg(strstr(err.msg, "lacks open or close"), "%s", err.msg);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("loader");
	TCase *t = tcase_create("loader");
	tcase_add_test(t, loads_and_runs);
	tcase_add_test(t, refusals);
	suite_add_tcase(s, t);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
