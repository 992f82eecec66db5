/*
 * mm/status.h - status codes of the memory manager.
 *
 * Expected failures (out of memory, a range already taken, a bad free by a
 * caller) return one of these; broken internal invariants call mm_panic.
 */
#ifndef MM_STATUS_H
#define MM_STATUS_H

enum mm_status {
	MM_OK = 0,
	MM_ENOMEM,     /* out of frames, virtual space or list nodes */
	MM_EINVAL,     /* bad argument: zero size, misaligned, out of range */
	MM_EBUSY,      /* range already taken / already mapped */
	MM_ENOENT,     /* not allocated / not mapped: a bad free or unmap */
	MM_ERANGE,     /* not RAM, or outside what this structure covers */
	MM_EOVERFLOW,  /* output buffer too small */
	MM_EOWNER,     /* made by another API: free it with that one */
};

/* Returns a static string naming status s ("MM_OK", ...). */
const char *mm_status_str(int s);

#endif
