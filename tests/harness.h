/* harness.h - a minimal test harness: TEST() registers, CHECK*() assert,
 * and main() prints one line per test and "N passed, N failed". */
#ifndef PW_HARNESS_H
#define PW_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pw_test {
	const char *name;
	void (*fn)(void);
};

#define PW_MAX_TESTS 512
extern struct pw_test pw_tests[PW_MAX_TESTS];
extern int pw_ntests, pw_test_failed;

#define TEST(name)                                                          \
	static void name(void);                                             \
	__attribute__((constructor)) static void reg_##name(void)           \
	{                                                                   \
		if (pw_ntests < PW_MAX_TESTS)                               \
			pw_tests[pw_ntests++] = (struct pw_test){ #name, name }; \
	}                                                                   \
	static void name(void)

#define FAILF(...)                                                          \
	do {                                                                \
		fprintf(stderr, "    %s:%d: ", __FILE__, __LINE__);         \
		fprintf(stderr, __VA_ARGS__);                               \
		fputc('\n', stderr);                                        \
		pw_test_failed = 1;                                         \
	} while (0)

#define CHECK(cond)                                                         \
	do {                                                                \
		if (!(cond))                                                \
			FAILF("CHECK(%s) failed", #cond);                   \
	} while (0)

#define CHECK_EQ_INT(a, b)                                                  \
	do {                                                                \
		long long _a = (long long)(a), _b = (long long)(b);         \
		if (_a != _b)                                               \
			FAILF("%s == %lld, expected %s == %lld", #a, _a, #b, _b); \
	} while (0)

#define CHECK_EQ_STR(a, b)                                                  \
	do {                                                                \
		const char *_a = (a), *_b = (b);                            \
		if (!_a || !_b || strcmp(_a, _b) != 0)                      \
			FAILF("%s is \"%s\",\n      expected \"%s\"", #a,   \
			      _a ? _a : "(null)", _b ? _b : "(null)");      \
	} while (0)

/* Stop the current test (after a failed precondition). */
#define REQUIRE(cond)                                                       \
	do {                                                                \
		if (!(cond)) {                                              \
			FAILF("REQUIRE(%s) failed", #cond);                 \
			return;                                             \
		}                                                           \
	} while (0)

#define PW_TEST_MAIN()                                                      \
	struct pw_test pw_tests[PW_MAX_TESTS];                              \
	int pw_ntests, pw_test_failed;                                      \
	int main(int argc, char **argv)                                     \
	{                                                                   \
		int passed = 0, failed = 0;                                 \
		for (int i = 0; i < pw_ntests; i++) {                       \
			if (argc > 1 && !strstr(pw_tests[i].name, argv[1]))  \
				continue;                                   \
			pw_test_failed = 0;                                 \
			pw_tests[i].fn();                                   \
			printf("%s %s\n", pw_test_failed ? "FAIL" : "ok  ", \
			       pw_tests[i].name);                           \
			fflush(stdout);                                     \
			if (pw_test_failed)                                 \
				failed++;                                   \
			else                                                \
				passed++;                                   \
		}                                                           \
		printf("%d passed, %d failed\n", passed, failed);           \
		return failed ? 1 : 0;                                      \
	}

#endif
