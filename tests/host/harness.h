/*
 * tests/host/harness.h - the tiny test harness of the host tests.
 *
 *   static void test_foo(void) { CHECK(x == 1, "x=%d", x); }
 *   int main(void) { RUN(test_foo); return harness_done("vaddr"); }
 *
 * Every test is a function run by RUN, which resets the host arena first so
 * no test sees another's state.  CHECK records a failure with file, line,
 * the condition and a printf-style explanation, and the test goes on.
 * harness_done prints `<name>: N passed, M failed` and returns the exit code.
 */
#ifndef TESTS_HOST_HARNESS_H
#define TESTS_HOST_HARNESS_H

#include <stdio.h>
#include "tools/host_platform.h"

static int harness_passed, harness_failed, harness_cur_failed;
static const char *harness_cur;

#define CHECK(cond, ...) do {							\
	if (!(cond)) {								\
		printf("FAIL %s (%s:%d): %s: ", harness_cur, __FILE__, __LINE__, #cond); \
		printf(__VA_ARGS__);						\
		printf("\n");							\
		harness_cur_failed = 1;						\
	}									\
} while (0)

/* Like CHECK, but returns from the test on failure (later steps depend on
 * it).  cond is evaluated once, so it may have side effects. */
#define REQUIRE(cond, ...) do {							\
	int require_ok_ = !!(cond);						\
	CHECK(require_ok_ && #cond, __VA_ARGS__);				\
	if (!require_ok_)							\
		return;								\
} while (0)

/* REQUIRE that a call returns status 0 (MM_OK, ACPI_OK, ...). */
#define REQUIRE_OK(expr, ...) REQUIRE((expr) == 0, __VA_ARGS__)

#define RUN(fn) harness_run(#fn, fn)

static inline void harness_run(const char *name, void (*fn)(void))
{
	harness_cur = name;
	harness_cur_failed = 0;
	host_arena_init(HOST_ARENA_DEFAULT);
	fn();
	if (harness_cur_failed)
		harness_failed++;
	else
		harness_passed++;
}

static inline int harness_done(const char *suite)
{
	printf("%s: %d passed, %d failed\n", suite, harness_passed, harness_failed);
	return harness_failed ? 1 : 0;
}

#endif
