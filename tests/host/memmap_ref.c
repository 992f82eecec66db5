/*
 * tests/host/memmap_ref.c - the reference sanitiser of the differential
 * tests: memmap_sanitize as it was before change points (commit 1c284cf),
 * the O(n^2) sweep, kept here for tests only (see memmap_ref.h); since
 * then only its type classification (EFI attributes read through
 * memmap_efi_desc_to_region) and its rank table (soft-reserved) followed
 * mm/memmap.c's rules 1 and 2.
 *
 * At position pos one pass over all ranges finds the ranks covering pos and
 * the next change point (the nearest start above pos or end of a range
 * covering pos); [pos, next) has a single type and is emitted; pos moves to
 * next.  Emitted pieces merge, usable regions are trimmed to pages and page
 * 0 is never usable, as in mm/memmap.c.  It shares only the type
 * classification (memmap_efi_desc_to_region, memmap_used_type_to_region)
 * and the stride rule with the code under test; the overlap ranks are its
 * own copy.
 */
#include "lib/range.h"
#include "mm/memmap.h"
#include "mm/platform.h"
#include "mm/status.h"
#include "mm/x86_64.h"
#include "tests/host/memmap_ref.h"

/* Overlap rank of each region type: higher wins (mm/memmap.c's rule 2). */
static const uint8_t ref_rank[MR_NTYPES] = {
	[MR_USABLE] = 0,   [MR_LOADER] = 1,   [MR_ACPI_DATA] = 2,  [MR_ACPI_NVS] = 3,
	[MR_RUNTIME] = 4,  [MR_PERSISTENT] = 5, [MR_SOFT_RESERVED] = 6, [MR_MMIO] = 7,
	[MR_UNUSABLE] = 8, [MR_RESERVED] = 9, [MR_RAMDISK] = 10,   [MR_BOOTINFO] = 11,
	[MR_TRAMPOLINE] = 12, [MR_KERNEL] = 13,
};

/* The region type whose rank is r. */
static uint32_t rank_type(unsigned r)
{
	for (uint32_t t = 0; t < MR_NTYPES; t++)
		if (ref_rank[t] == r)
			return t;
	mm_panic("ref rank_type: no type has rank %u", r);
}

/* Sets *end to base + size; returns 0 if the range is to be dropped: size
 * 0, or an end that does not fit in 64 bits. */
static int kept_end(uint64_t base, uint64_t size, uint64_t *end)
{
	return size != 0 && range_end(base, size, end);
}

/* Returns raw descriptor i of a map walked by desc_size bytes. */
static const struct bootinfo_efi_desc *raw_desc(const void *raw, uint32_t desc_size,
						uint64_t i)
{
	return (const struct bootinfo_efi_desc *)((const uint8_t *)raw + i * desc_size);
}

/* Sets *base / *end of descriptor d; returns 0 if it is to be dropped. */
static int desc_range(const struct bootinfo_efi_desc *d, uint64_t *base, uint64_t *end)
{
	if (d->num_pages > (UINT64_MAX >> PAGE_SHIFT))
		return 0;
	*base = d->phys_start;
	return kept_end(d->phys_start, d->num_pages << PAGE_SHIFT, end);
}

/* Warns about every raw descriptor and used range that will be dropped. */
static void warn_dropped(const void *raw, uint64_t n, uint32_t desc_size,
			 const struct bootinfo_range *used, uint32_t used_count)
{
	uint64_t base, end;

	for (uint64_t i = 0; i < n; i++) {
		const struct bootinfo_efi_desc *d = raw_desc(raw, desc_size, i);
		if (desc_range(d, &base, &end))
			continue;
		mm_printf("memmap: dropped entry %llu (type %u, start 0x%016llx, %llu pages): %s\n",
			  (unsigned long long)i, d->type, (unsigned long long)d->phys_start,
			  (unsigned long long)d->num_pages,
			  d->num_pages == 0 ? "zero length" : "end wraps past 2^64");
	}
	for (uint32_t i = 0; i < used_count; i++) {
		if (kept_end(used[i].pa, used[i].size, &end))
			continue;
		mm_printf("memmap: dropped used range %u (type %u, start 0x%016llx, size 0x%llx): %s\n",
			  i, used[i].type, (unsigned long long)used[i].pa,
			  (unsigned long long)used[i].size,
			  used[i].size == 0 ? "zero length" : "end wraps past 2^64");
	}
}

/* Sweep state: the output array and the region being built (cur), which
 * goes into the array only once it is complete and trimmed, so a usable
 * piece that trims away to nothing never takes a slot. */
struct sweep {
	struct mm_region *out;
	size_t cap;
	size_t count;
	int overflow;
	int have_cur;
	struct mm_region cur;
};

/* Completes the region being built: a usable one shrinks inward to page
 * boundaries and disappears if that leaves nothing; what is left goes into
 * the output, or sets s->overflow when the output is full. */
static void sweep_commit(struct sweep *s)
{
	struct mm_region r = s->cur;

	if (!s->have_cur)
		return;
	s->have_cur = 0;
	if (r.type == MR_USABLE) {
		uint64_t base = 0, end = PAGE_ROUND_DOWN(r.base + r.size);
		if (!align_up(r.base, PAGE_SIZE, &base) || end <= base)
			return;                 /* wrapped or emptied */
		r.base = base;
		r.size = end - base;
	}
	if (s->count == s->cap) {
		s->overflow = 1;
		return;
	}
	s->out[s->count++] = r;
}

/* Adds [base, end) of type t: it extends the region being built when
 * adjacent and of the same type, else that one is committed and a new one
 * begins. */
static void sweep_emit(struct sweep *s, uint64_t base, uint64_t end, uint32_t t)
{
	if (s->have_cur && s->cur.type == t && s->cur.base + s->cur.size == base) {
		s->cur.size += end - base;
		return;
	}
	sweep_commit(s);
	s->cur = (struct mm_region){ .base = base, .size = end - base, .type = t };
	s->have_cur = 1;
}

/* Folds one range [base, end) of type t into the search at pos: raises
 * *rank if the range covers pos, lowers *next to its nearest change point
 * above pos, and sets *found if it has one. */
static void sweep_consider(uint64_t pos, uint64_t base, uint64_t end, uint32_t t,
			   int *rank, uint64_t *next, int *found)
{
	uint64_t cp;

	if (base > pos) {
		cp = base;
	} else if (end > pos) {
		cp = end;
		if (ref_rank[t] > *rank)
			*rank = ref_rank[t];
	} else {
		return;
	}
	if (!*found || cp < *next)
		*next = cp;
	*found = 1;
}

int memmap_ref_sanitize(const void *raw, uint64_t raw_size, uint32_t desc_size,
			const struct bootinfo_range *used, uint32_t used_count,
			struct mm_region *out, size_t cap, size_t *count)
{
	struct sweep s = { .out = out, .cap = cap };
	uint64_t n, base, end, pos = 0;

	*count = 0;
	if (!memmap_desc_size_ok(desc_size) || raw_size % desc_size != 0)
		return MM_EINVAL;
	n = raw_size / desc_size;
	warn_dropped(raw, n, desc_size, used, used_count);

	/* pos starts at the lowest base: every range has base >= 0, so a
	 * search at 0 either covers 0 or names the lowest base as next. */
	for (;;) {
		int rank = -1, found = 0;
		uint64_t next = 0;

		for (uint64_t i = 0; i < n; i++) {
			const struct bootinfo_efi_desc *d = raw_desc(raw, desc_size, i);
			if (desc_range(d, &base, &end))
				sweep_consider(pos, base, end,
					       memmap_efi_desc_to_region(d->type, d->attribute),
					       &rank, &next, &found);
		}
		for (uint32_t i = 0; i < used_count; i++)
			if (kept_end(used[i].pa, used[i].size, &end))
				sweep_consider(pos, used[i].pa, end,
					       memmap_used_type_to_region(used[i].type),
					       &rank, &next, &found);
		if (!found)
			break;
		/* Page 0 is a change point of its own (rule 5). */
		if (pos < PAGE_SIZE && next > PAGE_SIZE)
			next = PAGE_SIZE;
		if (rank >= 0) {
			uint32_t t = rank_type((unsigned)rank);
			if (t == MR_USABLE && pos < PAGE_SIZE)
				t = MR_RESERVED;
			sweep_emit(&s, pos, next, t);
			if (s.overflow)
				break;
		}
		pos = next;
	}
	if (!s.overflow)
		sweep_commit(&s);
	*count = s.count;
	return s.overflow ? MM_EOVERFLOW : MM_OK;
}
