/*
 * tests/bench/freelist.c - a plain stack of frame numbers (see freelist.h).
 */
#include "tests/bench/freelist.h"

#define FRAME_SHIFT 12

int freelist_alloc(struct freelist *fl, uint64_t *pa)
{
	if (fl->top == 0)
		return -1;
	*pa = fl->frames[--fl->top] << FRAME_SHIFT;
	return 0;
}

int freelist_free(struct freelist *fl, uint64_t pa)
{
	if (fl->top == fl->cap)
		return -1;
	fl->frames[fl->top++] = pa >> FRAME_SHIFT;
	return 0;
}
