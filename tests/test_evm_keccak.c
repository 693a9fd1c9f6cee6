/* test_evm_keccak.c - adapters/evm/keccak.c against published digests and
 * tests/vectors/keccak.json (from the independent Python Keccak in
 * scripts/gen-keccak-vectors.py), one-shot against every incremental split. */
#include <check.h>
#include <jansson.h>
#include <nettle/sha3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "keccak.h"
#include "xr_bytes.h"
#include "fixture.h"

#define EXPECT(cond, ...)                                                                          \
	do {                                                                                       \
		if (!(cond))                                                                       \
			ck_abort_msg(__VA_ARGS__);                                                 \
	} while (0)

#define PATTERN_MAX 300

static json_t *vectors;

static void pattern(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 7 + 3);
}

static void hex32(const uint8_t d[32], char out[65])
{
	xr_hex_encode(d, 32, out);
}

static const struct {
	const char *input;
	const char *digest;
} known[] = {
    {"", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"},
    {"abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"},
    /* The 4-byte selector of ERC-20 transfer is the head of this digest. */
    {"transfer(address,uint256)",
     "a9059cbb2ab09eb219583f4a59a5d0623ade346d962bcd4e46b11da047c9049b"},
};

START_TEST(test_known)
{
	uint8_t d[32];
	char hex[65];

	xr_keccak256(known[_i].input, strlen(known[_i].input), d);
	hex32(d, hex);
	ck_assert_str_eq(hex, known[_i].digest);
}
END_TEST

START_TEST(test_not_sha3)
{
	/* The same sponge with SHA3's 0x06 padding gives a different digest. */
	struct sha3_256_ctx c;
	uint8_t s[32], k[32];

	sha3_256_init(&c);
	sha3_256_digest(&c, sizeof(s), s);
	xr_keccak256("", 0, k);
	ck_assert_mem_ne(s, k, 32);
}
END_TEST

START_TEST(test_pattern_vectors)
{
	json_t *arr = json_object_get(vectors, "pattern");
	uint8_t buf[PATTERN_MAX], d[32];
	char hex[65];

	ck_assert_uint_eq(json_array_size(arr), PATTERN_MAX + 1);
	pattern(buf, sizeof(buf));
	for (size_t i = 0; i <= PATTERN_MAX; i++) {
		json_t *v = json_array_get(arr, i);
		size_t len = (size_t)json_integer_value(json_object_get(v, "len"));
		EXPECT(len == i, "vector %zu has len %zu", i, len);
		xr_keccak256(buf, len, d);
		hex32(d, hex);
		EXPECT(strcmp(hex, json_string_value(json_object_get(v, "keccak256"))) == 0,
		       "keccak256 of pattern(%zu) = %s", len, hex);
	}
}
END_TEST

/* Every length, every split point, every chunk size: the same digest. */
START_TEST(test_incremental)
{
	uint8_t buf[PATTERN_MAX], want[32], got[32];
	struct xr_keccak256 k;

	pattern(buf, sizeof(buf));
	for (size_t len = 0; len <= PATTERN_MAX; len++) {
		xr_keccak256(buf, len, want);
		for (size_t cut = 0; cut <= len; cut++) {
			xr_keccak256_init(&k);
			xr_keccak256_update(&k, buf, cut);
			xr_keccak256_update(&k, buf + cut, len - cut);
			xr_keccak256_final(&k, got);
			EXPECT(memcmp(got, want, 32) == 0, "len %zu split at %zu differs", len,
			       cut);
		}
		for (size_t chunk = 1; chunk <= 140; chunk++) {
			xr_keccak256_init(&k);
			for (size_t off = 0; off < len; off += chunk)
				xr_keccak256_update(&k, buf + off,
						    len - off < chunk ? len - off : chunk);
			xr_keccak256_final(&k, got);
			EXPECT(memcmp(got, want, 32) == 0, "len %zu in chunks of %zu differs", len,
			       chunk);
		}
	}
}
END_TEST

START_TEST(test_final_resets)
{
	struct xr_keccak256 k;
	uint8_t a[32], b[32];

	xr_keccak256_init(&k);
	xr_keccak256_update(&k, "abc", 3);
	xr_keccak256_final(&k, a);
	xr_keccak256_update(&k, "abc", 3);
	xr_keccak256_final(&k, b);
	ck_assert_mem_eq(a, b, 32);
	xr_keccak256_final(&k, b);
	xr_keccak256("", 0, a);
	ck_assert_mem_eq(a, b, 32);
}
END_TEST

/* A large input crosses many blocks; compare with a byte-at-a-time run. */
START_TEST(test_large)
{
	size_t n = 1 << 20;
	uint8_t *p = malloc(n), a[32], b[32];
	struct xr_keccak256 k;

	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(i * 131 + (i >> 8));
	xr_keccak256(p, n, a);
	xr_keccak256_init(&k);
	for (size_t i = 0; i < n; i++)
		xr_keccak256_update(&k, p + i, 1);
	xr_keccak256_final(&k, b);
	ck_assert_mem_eq(a, b, 32);
	free(p);
}
END_TEST

static Suite *keccak_suite(void)
{
	Suite *s = suite_create("evm_keccak");
	TCase *tc = tcase_create("keccak");
	tcase_add_loop_test(tc, test_known, 0, sizeof(known) / sizeof(known[0]));
	tcase_add_test(tc, test_not_sha3);
	tcase_add_test(tc, test_pattern_vectors);
	tcase_add_test(tc, test_incremental);
	tcase_add_test(tc, test_final_resets);
	tcase_add_test(tc, test_large);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	if (!(vectors = fx_vectors("keccak.json")))
		return 1;
	SRunner *sr = srunner_create(keccak_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	json_decref(vectors);
	return failed ? 1 : 0;
}
