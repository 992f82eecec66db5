/*
 * tests/host/test_cmdline.c - lib/cmdline.c: words of the boot command line.
 */
#include "lib/cmdline.h"
#include "tests/host/harness.h"

/* Expect: a word is found at the start, in the middle and at the end, and
 * with runs of spaces around it. */
static void test_found(void)
{
	CHECK(cmdline_has("qemu-exit", "qemu-exit"), "alone");
	CHECK(cmdline_has("qemu-exit test-smp-ghost", "qemu-exit"), "first");
	CHECK(cmdline_has("a qemu-exit b", "qemu-exit"), "middle");
	CHECK(cmdline_has("a b qemu-exit", "qemu-exit"), "last");
	CHECK(cmdline_has("  a   qemu-exit  ", "qemu-exit"), "spaces around");
}

/* Expect: prefixes, suffixes and longer words are not the word (the
 * control for a substring search: "qemu" is inside "qemu-exit"). */
static void test_not_found(void)
{
	CHECK(!cmdline_has("qemu-exit", "qemu"), "prefix of a word");
	CHECK(!cmdline_has("qemu-exit", "exit"), "suffix of a word");
	CHECK(!cmdline_has("qemu", "qemu-exit"), "longer than the word");
	CHECK(!cmdline_has("", "qemu-exit"), "empty command line");
	CHECK(!cmdline_has("a  b", ""), "empty word between two spaces");
	CHECK(!cmdline_has("", ""), "empty word, empty line");
}

int main(void)
{
	RUN(test_found);
	RUN(test_not_found);
	return harness_done("cmdline");
}
