/*
 * mm/memmap.c - the memory-map sanitiser: raw EFI map + loader-used ranges
 * -> sorted, non-overlapping, page-trimmed regions (see mm/memmap.h).
 *
 * Theory (the rules follow Linux's e820 sanitiser, arch/x86/kernel/e820.c):
 *
 * 1. Every raw descriptor becomes a half-open range [base, end) with a region
 *    type from its EFI type and attributes (memmap_efi_desc_to_region, after
 *    Linux's do_add_efi_memmap): RAM types (loader and boot-services
 *    code/data, conventional) marked EFI_MEMORY_SP (specific purpose) become
 *    soft-reserved - never handed out, printed "soft-reserved"; RAM types
 *    without EFI_MEMORY_WB become reserved (memory that cannot be cached
 *    write-back is no RAM to run the kernel on; loader memory so marked is
 *    not reclaimed either); RAM types marked EFI_MEMORY_RUNTIME become
 *    runtime (the firmware uses them after ExitBootServices and kernel/efirt
 *    maps them for it; Linux's efi_free_boot_services keeps them too); the
 *    attributes of other types change nothing.
 *    Every bootinfo used range becomes one of the "overlay" types kernel /
 *    bootinfo / ramdisk / trampoline.  Zero-length ranges and ranges whose end does not
 *    fit in 64 bits are dropped with a warning naming them.
 *
 * 2. Where ranges overlap, the most restrictive type wins: each type has a
 *    rank (type_rank below) and the highest rank covering an address decides
 *    its type.  Usable ranks lowest, the overlay types highest, so what the
 *    loader used is carved out of whatever the firmware said was there.
 *
 * 3. The output is produced by a sweep from the lowest address upwards over
 *    the "change points" of the ranges: the start and the end of each, with
 *    the rank of its type (Linux's e820 change points).  The change points
 *    go into a scratch array the caller provides (two per range,
 *    MEMMAP_SCRATCH_LEN; the kernel's is static, sized for the largest map
 *    bootinfo_check accepts) and are heap-sorted by address: in place, no
 *    recursion, no libc.  The sweep keeps one coverage counter per rank:
 *    at each distinct change-point address the piece since the previous
 *    one is emitted with the type of the highest rank whose counter is
 *    non-zero (none: a hole, nothing emitted), then every change point at
 *    that address moves its counter.  Page 4096 is a piece boundary of its
 *    own (rule 5).  The output is therefore sorted and non-overlapping by
 *    construction; the cost is O(n log n) for n ranges (100000 entries: a
 *    few tens of milliseconds), O(1) stack.  The order of change points at
 *    one address does not matter, since all of them are applied before the
 *    next piece, so the sort need not be stable.
 *
 * 4. An emitted piece extends the previous region when it is adjacent and of
 *    the same type (merging).  When a region is complete, a usable region is
 *    shrunk inward to 4 KiB boundaries and dropped if nothing is left: the
 *    partial pages around it become holes (not RAM), as in Linux.
 *
 * 5. Page 0 is never usable: the usable part of [0, 4096) becomes reserved
 *    (Linux does the same in trim_bios_range), so a NULL physical address
 *    can never be a valid allocation.
 *
 * 6. A used range over soft-reserved or non-write-back memory is typed as
 *    what the loader put there (kernel, bootinfo, ramdisk), like anywhere
 *    else: the bytes are in use whatever the firmware's attributes say, and
 *    the kernel must see its own image.  The loader never allocates there
 *    (AllocatePages of loader data is served from general RAM), so this
 *    only happens with broken firmware; the memory around it keeps its
 *    soft-reserved / reserved type and is never handed out.
 *
 * 7. EFI_MEMORY_MORE_RELIABLE (address-range mirroring) does not change a
 *    region's type: memmap_reliable_bytes counts the usable bytes of the
 *    sanitised map inside descriptors so marked, with the same change-point
 *    sort (the union of those descriptors, then one pass over the map), and
 *    the kernel and the memmap tool print it as `memmap: <N> MiB of usable
 *    memory is more-reliable (mirrored)` when it is not 0.
 */
#include "lib/range.h"
#include "mm/memmap.h"
#include "mm/platform.h"
#include "mm/status.h"
#include "mm/x86_64.h"


/*
 * Overlap rank of each region type: higher wins.  Usable loses to all;
 * reclaimable memory (loader, ACPI data) loses to memory kept forever
 * (ACPI NVS, runtime); memory that is not plain RAM (persistent, then
 * soft-reserved: RAM set aside for a specific purpose, which a firmware
 * bug might list twice with another RAM-like type, must stay out of the
 * allocator's reach; it loses only to device space and to memory known bad
 * or reserved) and memory known bad or reserved beat those; what the
 * loader put in memory (ramdisk, bootinfo, kernel) is carved out of
 * anything - soft-reserved and non-write-back memory included (rule 6).
 */
static const uint8_t type_rank[MR_NTYPES] = {
	[MR_USABLE] = 0,     [MR_LOADER] = 1,         [MR_ACPI_DATA] = 2,
	[MR_ACPI_NVS] = 3,   [MR_RUNTIME] = 4,        [MR_PERSISTENT] = 5,
	[MR_SOFT_RESERVED] = 6, [MR_MMIO] = 7,        [MR_UNUSABLE] = 8,
	[MR_RESERVED] = 9,   [MR_RAMDISK] = 10,       [MR_BOOTINFO] = 11,
	[MR_TRAMPOLINE] = 12, [MR_KERNEL] = 13,
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

/* Returns 1 if EFI type efi_type is RAM the firmware may hand out (the
 * types whose attributes memmap_efi_desc_to_region reads). */
static int efi_type_is_ram(uint32_t efi_type)
{
	return efi_type == EFI_LOADER_CODE || efi_type == EFI_LOADER_DATA ||
	       efi_type == EFI_BS_CODE || efi_type == EFI_BS_DATA ||
	       efi_type == EFI_CONVENTIONAL;
}

/* Returns the region type of a descriptor of EFI type efi_type with
 * attributes attr (see memmap.h; rule 1). */
uint32_t memmap_efi_desc_to_region(uint32_t efi_type, uint64_t attr)
{
	if (efi_type_is_ram(efi_type)) {
		if (attr & EFI_MEMORY_SP)
			return MR_SOFT_RESERVED;
		if (!(attr & EFI_MEMORY_WB))
			return MR_RESERVED;
		if (attr & EFI_MEMORY_RUNTIME)
			return MR_RUNTIME;
	}
	return memmap_efi_type_to_region(efi_type);
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
	case BOOTINFO_USED_TRAMPOLINE:
		return MR_TRAMPOLINE;
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
		[MR_SOFT_RESERVED] = "soft-reserved", [MR_TRAMPOLINE] = "trampoline",
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

/* Emits the piece [base, end) whose highest covering rank is rank: split
 * at PAGE_SIZE, the part in page 0 reserved where it would be usable
 * (rule 5). */
static void sweep_piece(struct sweep *s, uint64_t base, uint64_t end, unsigned rank)
{
	uint32_t t = rank_type(rank);

	if (base < PAGE_SIZE) {
		uint64_t cut = end < PAGE_SIZE ? end : PAGE_SIZE;
		sweep_emit(s, base, cut, t == MR_USABLE ? MR_RESERVED : t);
		if (s->overflow || cut == end)
			return;
		base = cut;
	}
	sweep_emit(s, base, end, t);
}

/* Appends the change points of [base, end) of region type t at cp[*n],
 * cp[*n + 1] and adds 2 to *n. */
static void cp_add(struct memmap_cp *cp, uint64_t *n, uint64_t base, uint64_t end, uint32_t t)
{
	cp[(*n)++] = (struct memmap_cp){ .addr = base, .rank = type_rank[t], .is_end = 0 };
	cp[(*n)++] = (struct memmap_cp){ .addr = end, .rank = type_rank[t], .is_end = 1 };
}

/* Sifts cp[root] down the max-heap (by address) cp[0..n). */
static void cp_sift_down(struct memmap_cp *cp, uint64_t root, uint64_t n)
{
	struct memmap_cp v = cp[root];

	for (;;) {
		uint64_t child = 2 * root + 1;
		if (child >= n)
			break;
		if (child + 1 < n && cp[child + 1].addr > cp[child].addr)
			child++;
		if (cp[child].addr <= v.addr)
			break;
		cp[root] = cp[child];
		root = child;
	}
	cp[root] = v;
}

/* Sorts cp[0..n) by address: heap sort, in place, O(n log n), no
 * recursion (not stable; rule 3 does not need it). */
static void cp_sort(struct memmap_cp *cp, uint64_t n)
{
	if (n < 2)
		return;
	for (uint64_t i = n / 2; i-- > 0;)
		cp_sift_down(cp, i, n);
	for (uint64_t end = n - 1; end > 0; end--) {
		struct memmap_cp top = cp[0];
		cp[0] = cp[end];
		cp[end] = top;
		cp_sift_down(cp, 0, end);
	}
}

/* Fills cp with the change points of every kept raw descriptor and used
 * range (dropped ones: warn_dropped); returns how many. */
static uint64_t cp_collect(struct memmap_cp *cp, const void *raw, uint64_t n, uint32_t desc_size,
			   const struct bootinfo_range *used, uint32_t used_count)
{
	uint64_t ncp = 0, base, end;

	for (uint64_t i = 0; i < n; i++) {
		const struct bootinfo_efi_desc *d = raw_desc(raw, desc_size, i);
		if (desc_range(d, &base, &end))
			cp_add(cp, &ncp, base, end, memmap_efi_desc_to_region(d->type, d->attribute));
	}
	for (uint32_t i = 0; i < used_count; i++)
		if (kept_end(used[i].pa, used[i].size, &end))
			cp_add(cp, &ncp, used[i].pa, end, memmap_used_type_to_region(used[i].type));
	return ncp;
}

/* Returns the highest rank whose counter in cover[] is non-zero, or -1. */
static int top_rank(const uint64_t cover[MR_NTYPES])
{
	for (int r = MR_NTYPES - 1; r >= 0; r--)
		if (cover[r])
			return r;
	return -1;
}

/* Returns 1 if scratch_len change points are enough for n descriptors and
 * used_count used ranges; else reports it, naming the caller fn, and
 * returns 0. */
static int scratch_ok(const char *fn, uint64_t scratch_len, uint64_t n, uint32_t used_count)
{
	if (scratch_len >= MEMMAP_SCRATCH_LEN(n, used_count))
		return 1;
	mm_printf("memmap: %s: scratch of %llu change points, %llu needed "
		  "(%llu descriptors, %u used ranges)\n", fn,
		  (unsigned long long)scratch_len,
		  (unsigned long long)MEMMAP_SCRATCH_LEN(n, used_count),
		  (unsigned long long)n, used_count);
	return 0;
}

int memmap_sanitize(const void *raw, uint64_t raw_size, uint32_t desc_size,
		    const struct bootinfo_range *used, uint32_t used_count,
		    struct memmap_cp *scratch, uint64_t scratch_len,
		    struct mm_region *out, size_t cap, size_t *count)
{
	struct sweep s = { .out = out, .cap = cap };
	uint64_t cover[MR_NTYPES] = { 0 };  /* ranges of each rank covering pos */
	uint64_t n, ncp, pos = 0;
	int rank = -1;

	*count = 0;
	if (!memmap_desc_size_ok(desc_size) || raw_size % desc_size != 0)
		return MM_EINVAL;
	n = raw_size / desc_size;
	if (!scratch_ok("memmap_sanitize", scratch_len, n, used_count))
		return MM_EINVAL;
	warn_dropped(raw, n, desc_size, used, used_count);
	ncp = cp_collect(scratch, raw, n, desc_size, used, used_count);
	cp_sort(scratch, ncp);

	for (uint64_t i = 0; i < ncp && !s.overflow;) {
		uint64_t at = scratch[i].addr;
		if (at > pos && rank >= 0)
			sweep_piece(&s, pos, at, (unsigned)rank);
		pos = at;
		for (; i < ncp && scratch[i].addr == at; i++) {
			if (scratch[i].is_end)
				cover[scratch[i].rank]--;
			else
				cover[scratch[i].rank]++;
		}
		rank = top_rank(cover);
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

/* Returns the bytes of MR_USABLE regions of r[*i..count) inside [base,
 * end); moves *i past the regions that end at or before end (r sorted and
 * disjoint, the calls in increasing order of base). */
static uint64_t usable_inside(const struct mm_region *r, size_t count, size_t *i,
			      uint64_t base, uint64_t end)
{
	uint64_t sum = 0;

	for (; *i < count; ++*i) {
		uint64_t rb = r[*i].base, re = r[*i].base + r[*i].size;
		if (rb >= end)
			break;
		if (r[*i].type == MR_USABLE && re > base)
			sum += (re < end ? re : end) - (rb > base ? rb : base);
		if (re > end)
			break;          /* reaches into the next interval too */
	}
	return sum;
}

/* The more-reliable bytes (rule 7): the change points of the descriptors
 * with EFI_MEMORY_MORE_RELIABLE, sorted, give the union of their ranges
 * as disjoint intervals in increasing order; each is intersected with the
 * usable regions of r in one merge-like pass. */
int memmap_reliable_bytes(const void *raw, uint64_t raw_size, uint32_t desc_size,
			  const struct mm_region *r, size_t count,
			  struct memmap_cp *scratch, uint64_t scratch_len, uint64_t *bytes)
{
	uint64_t n, ncp = 0, base, end, depth = 0, start = 0;
	size_t i = 0;

	*bytes = 0;
	if (!memmap_desc_size_ok(desc_size) || raw_size % desc_size != 0)
		return MM_EINVAL;
	n = raw_size / desc_size;
	if (!scratch_ok("memmap_reliable_bytes", scratch_len, n, 0))
		return MM_EINVAL;
	for (uint64_t k = 0; k < n; k++) {
		const struct bootinfo_efi_desc *d = raw_desc(raw, desc_size, k);
		if ((d->attribute & EFI_MEMORY_MORE_RELIABLE) && desc_range(d, &base, &end))
			cp_add(scratch, &ncp, base, end, MR_USABLE);
	}
	cp_sort(scratch, ncp);
	for (uint64_t k = 0; k < ncp;) {
		uint64_t at = scratch[k].addr, was = depth;
		for (; k < ncp && scratch[k].addr == at; k++)
			depth += scratch[k].is_end ? (uint64_t)-1 : 1;
		if (was == 0 && depth != 0)
			start = at;
		else if (was != 0 && depth == 0)
			*bytes += usable_inside(r, count, &i, start, at);
	}
	return MM_OK;
}
