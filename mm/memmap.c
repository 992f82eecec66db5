/*
 * mm/memmap.c - the memory-map sanitiser: raw EFI map + loader-used ranges
 * -> sorted, non-overlapping, page-trimmed regions (see mm/memmap.h).
 *
 * Theory (the rules follow Linux's e820 sanitiser, arch/x86/kernel/e820.c):
 *
 * 1. Every raw descriptor becomes a half-open range [base, end) with a region
 *    type (memmap_efi_type_to_region); every bootinfo used range becomes one
 *    of the "overlay" types kernel / bootinfo / ramdisk.  Zero-length ranges
 *    and ranges whose end does not fit in 64 bits are dropped with a warning
 *    naming them.
 *
 * 2. Where ranges overlap, the most restrictive type wins: each type has a
 *    rank (type_rank below) and the highest rank covering an address decides
 *    its type.  Usable ranks lowest, the overlay types highest, so what the
 *    loader used is carved out of whatever the firmware said was there.
 *
 * 3. The output is produced by a sweep from the lowest address upwards.  At
 *    position pos one pass over all ranges finds the ranks covering pos and
 *    the next "change point" (the nearest start above pos or end of a range
 *    covering pos).  [pos, next) has a single type and is emitted; pos moves
 *    to next.  The output is therefore sorted and non-overlapping by
 *    construction, without a scratch array or a sort: the cost is one pass
 *    per change point, O(n^2) for n ranges (a 300-entry map: ~2e5 steps,
 *    well under a millisecond), no recursion and O(1) stack.
 *
 * 4. An emitted piece extends the previous region when it is adjacent and of
 *    the same type (merging).  When a region is complete, a usable region is
 *    shrunk inward to 4 KiB boundaries and dropped if nothing is left: the
 *    partial pages around it become holes (not RAM), as in Linux.
 *
 * 5. Page 0 is never usable: the usable part of [0, 4096) becomes reserved
 *    (Linux does the same in trim_bios_range), so a NULL physical address
 *    can never be a valid allocation.
 */
#include "lib/range.h"
#include "mm/memmap.h"
#include "mm/platform.h"
#include "mm/status.h"
#include "mm/x86_64.h"


/*
 * Overlap rank of each region type: higher wins.  Usable loses to all;
 * reclaimable memory (loader, ACPI data) loses to memory kept forever
 * (ACPI NVS, runtime); memory that is not plain RAM (persistent, mmio) and
 * memory known bad or reserved beat those; what the loader put in memory
 * (ramdisk, bootinfo, kernel) is carved out of anything.
 */
static const uint8_t type_rank[MR_NTYPES] = {
	[MR_USABLE] = 0,  [MR_LOADER] = 1,     [MR_ACPI_DATA] = 2,
	[MR_ACPI_NVS] = 3, [MR_RUNTIME] = 4,   [MR_PERSISTENT] = 5,
	[MR_MMIO] = 6,    [MR_UNUSABLE] = 7,   [MR_RESERVED] = 8,
	[MR_RAMDISK] = 9, [MR_BOOTINFO] = 10,  [MR_KERNEL] = 11,
};

/* The region type whose rank is r (inverse of type_rank). */
static uint32_t rank_type(unsigned r)
{
	for (uint32_t t = 0; t < MR_NTYPES; t++)
		if (type_rank[t] == r)
			return t;
	mm_panic("rank_type: no type has rank %u", r);
}

/* Returns the region type of EFI memory type efi_type (see memmap.h). */
uint32_t memmap_efi_type_to_region(uint32_t efi_type)
{
	switch (efi_type) {
	case EFI_LOADER_CODE:
	case EFI_LOADER_DATA:
		return MR_LOADER;
	case EFI_BS_CODE:
	case EFI_BS_DATA:
	case EFI_CONVENTIONAL:
		return MR_USABLE;
	case EFI_RT_CODE:
	case EFI_RT_DATA:
		return MR_RUNTIME;
	case EFI_UNUSABLE:
		return MR_UNUSABLE;
	case EFI_ACPI_RECLAIM:
		return MR_ACPI_DATA;
	case EFI_ACPI_NVS:
		return MR_ACPI_NVS;
	case EFI_MMIO:
	case EFI_MMIO_PORT:
		return MR_MMIO;
	case EFI_PERSISTENT:
		return MR_PERSISTENT;
	default: /* reserved, PAL code, unaccepted, unknown, OS-defined */
		return MR_RESERVED;
	}
}

/* Returns the region type of bootinfo used-range type used_type. */
uint32_t memmap_used_type_to_region(uint32_t used_type)
{
	switch (used_type) {
	case BOOTINFO_USED_KERNEL:
	case BOOTINFO_USED_PAGETABLES:
	case BOOTINFO_USED_STACK:
		return MR_KERNEL;
	case BOOTINFO_USED_BOOTINFO:
		return MR_BOOTINFO;
	case BOOTINFO_USED_RAMDISK:
		return MR_RAMDISK;
	default: /* an unknown use is still in use: never hand it out */
		return MR_KERNEL;
	}
}

/* Returns the name the sanitised map prints for region type t. */
const char *memmap_type_name(uint32_t t)
{
	static const char *const names[MR_NTYPES] = {
		[MR_USABLE] = "usable",       [MR_RESERVED] = "reserved",
		[MR_ACPI_DATA] = "ACPI data", [MR_ACPI_NVS] = "ACPI NVS",
		[MR_UNUSABLE] = "unusable",   [MR_PERSISTENT] = "persistent",
		[MR_MMIO] = "mmio",           [MR_RUNTIME] = "runtime",
		[MR_LOADER] = "loader",       [MR_KERNEL] = "kernel",
		[MR_RAMDISK] = "ramdisk",     [MR_BOOTINFO] = "bootinfo",
	};
	return t < MR_NTYPES ? names[t] : "?";
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
		if (type_rank[t] > *rank)
			*rank = type_rank[t];
	} else {
		return;
	}
	if (!*found || cp < *next)
		*next = cp;
	*found = 1;
}

int memmap_sanitize(const void *raw, uint64_t raw_size, uint32_t desc_size,
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
					       memmap_efi_type_to_region(d->type),
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

/* Returns the number of usable bytes in r[0..count). */
uint64_t memmap_usable_bytes(const struct mm_region *r, size_t count)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < count; i++)
		if (r[i].type == MR_USABLE)
			sum += r[i].size;
	return sum;
}
