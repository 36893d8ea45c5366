#include <sys/wait.h>

#include <string.h>
#include <unistd.h>

#include "../common/hex.h"
#include "../crypto/hash.h"
#include "../crypto/random.h"
#include "check.h"

START_TEST(sha256_vectors)
{
	/* FIPS 180-2 examples. */
	static const struct {
		const char	*in, *hex;
	} v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b"
		    "7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff"
		    "61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd4"
		    "19db06c1" },
	};
	uint8_t	digest[HASH_LEN];
	char	hex[2 * HASH_LEN + 1];
	size_t	i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ck_assert_int_eq(hash_sha256(v[i].in, strlen(v[i].in), digest),
		    0);
		hex_encode(digest, HASH_LEN, hex);
		ck_assert_str_eq(hex, v[i].hex);
	}
}
END_TEST

START_TEST(equal_is_exact)
{
	uint8_t	a[32], b[32];

	memset(a, 7, sizeof(a));
	memcpy(b, a, sizeof(b));
	ck_assert(hash_equal(a, b, sizeof(a)));
	b[31] ^= 1;
	ck_assert(!hash_equal(a, b, sizeof(a)));
	b[31] ^= 1;
	b[0] ^= 0x80;
	ck_assert(!hash_equal(a, b, sizeof(a)));
}
END_TEST

START_TEST(random_differs)
{
	char	a[65], b[65];

	ck_assert_int_eq(random_hex(a, 32), 0);
	ck_assert_int_eq(random_hex(b, 32), 0);
	ck_assert_uint_eq(strlen(a), 64);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(random_hex(a, 65), -1);
}
END_TEST

/*
 * The pool (random.c): draws that cross a refill, or are larger than the
 * pool, still differ; a forked child does not hand out the bytes its
 * parent hands out next.
 */
START_TEST(random_pool_never_repeats)
{
	uint8_t	a[40], b[40], big[2][1024], parent[32], child[32];
	int	fds[2], status, i;
	pid_t	pid;

	for (i = 0; i < 64; i++) {
		ck_assert_int_eq(random_bytes(a, sizeof(a)), 0);
		ck_assert_int_eq(random_bytes(b, sizeof(b)), 0);
		ck_assert(memcmp(a, b, sizeof(a)) != 0);
	}
	ck_assert_int_eq(random_bytes(big[0], sizeof(big[0])), 0);
	ck_assert_int_eq(random_bytes(big[1], sizeof(big[1])), 0);
	ck_assert(memcmp(big[0], big[1], sizeof(big[0])) != 0);

	/* The pool holds bytes now: a child must not see them. */
	ck_assert_int_eq(random_bytes(a, 1), 0);
	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_ge(pid = fork(), 0);
	if (pid == 0) {
		close(fds[0]);
		_exit(random_bytes(child, sizeof(child)) == 0 &&
		    write(fds[1], child, sizeof(child)) ==
		    (ssize_t)sizeof(child) ? 0 : 1);
	}
	close(fds[1]);
	ck_assert_int_eq(random_bytes(parent, sizeof(parent)), 0);
	ck_assert_int_eq(read(fds[0], child, sizeof(child)), sizeof(child));
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert(memcmp(parent, child, sizeof(parent)) != 0);
}
END_TEST

Suite *
crypto_suite(void)
{
	Suite	*s = suite_create("crypto");
	TCase	*tc = tcase_create("hash");

	tcase_add_test(tc, sha256_vectors);
	tcase_add_test(tc, equal_is_exact);
	tcase_add_test(tc, random_differs);
	tcase_add_test(tc, random_pool_never_repeats);
	suite_add_tcase(s, tc);
	return s;
}
