/*
 * mm/hhdm.c - the plan of the direct map (theory in mm/hhdm.h).
 */
#include "lib/range.h"
#include "mm/hhdm.h"
#include "mm/layout.h"
#include "mm/memmap.h"
#include "mm/pgmode.h"
#include "mm/status.h"
#include "mm/x86_64.h"

/* See hhdm.h.  The list is rule 1 of the theory. */
int hhdm_desc_mapped(uint32_t efi_type, uint64_t attr)
{
	if (!(attr & EFI_MEMORY_WB) || (attr & EFI_MEMORY_SP))
		return 0;    /* not cacheable, or specific-purpose (soft-reserved) */
	switch (efi_type) {
	case EFI_LOADER_CODE:
	case EFI_LOADER_DATA:
	case EFI_BS_CODE:
	case EFI_BS_DATA:
	case EFI_CONVENTIONAL:
	case EFI_ACPI_RECLAIM:
	case EFI_ACPI_NVS:
	case EFI_RT_CODE:
	case EFI_RT_DATA:
		return 1;
	default:
		return 0;
	}
}

/* One descriptor as the sweep sees it: [lo, hi), page-aligned, clipped to
 * the direct map's reach; mapped or blocking. */
struct span {
	uint64_t lo, hi;
	int mapped;
};

/* Reads descriptor i of raw into *s (rule 2: mapped ones trimmed inward,
 * others widened outward and clipped to HHDM_MAX_SIZE).  Returns 1 if *s
 * is a non-empty span, 0 if the descriptor can be ignored, -1 if it is
 * direct-mapped memory beyond HHDM_MAX_SIZE or wraps. */
static int read_span(const uint8_t *raw, uint32_t desc_size, uint64_t i, struct span *s)
{
	const struct bootinfo_efi_desc *d = (const void *)(raw + i * desc_size);
	uint64_t start = d->phys_start, end = 0;
	int wraps = d->num_pages > (UINT64_MAX >> PAGE_SHIFT) ||
		    !range_end(start, d->num_pages << PAGE_SHIFT, &end);
	if (d->num_pages == 0)
		return 0;
	s->mapped = hhdm_desc_mapped(d->type, d->attribute);
	if (s->mapped) {
		if (wraps || end > HHDM_MAX_SIZE)
			return -1;
		s->lo = PAGE_ROUND_UP(start);
		s->hi = PAGE_ROUND_DOWN(end);
		return s->lo < s->hi;
	}
	s->lo = PAGE_ROUND_DOWN(start);
	if (s->lo >= HHDM_MAX_SIZE)
		return 0;
	s->hi = wraps || end >= HHDM_MAX_SIZE ? HHDM_MAX_SIZE : PAGE_ROUND_UP(end);
	return 1;
}

/* See hhdm.h.  The sweep of mm/memmap.c: at pos, one pass finds whether a
 * mapped and a blocking span cover pos and the next change point. */
int hhdm_ranges(const void *raw, uint64_t raw_size, uint32_t desc_size,
		struct hhdm_range *out, size_t cap, size_t *count)
{
	uint64_t n;
	struct span s;
	*count = 0;
	if (!memmap_desc_size_ok(desc_size) || raw_size % desc_size)
		return MM_EINVAL;
	n = raw_size / desc_size;
	for (uint64_t i = 0; i < n; i++)
		if (read_span(raw, desc_size, i, &s) < 0)
			return MM_ERANGE;

	for (uint64_t pos = 0; pos < HHDM_MAX_SIZE;) {
		uint64_t next = HHDM_MAX_SIZE;
		int mapped = 0, blocked = 0;
		for (uint64_t i = 0; i < n; i++) {
			if (read_span(raw, desc_size, i, &s) <= 0)
				continue;
			if (s.lo <= pos && pos < s.hi) {
				mapped |= s.mapped;
				blocked |= !s.mapped;
				if (s.hi < next)
					next = s.hi;
			} else if (s.lo > pos && s.lo < next) {
				next = s.lo;
			}
		}
		if (mapped && !blocked) {
			if (*count && out[*count - 1].pa + out[*count - 1].size == pos) {
				out[*count - 1].size += next - pos;
			} else if (*count == cap) {
				return MM_EOVERFLOW;
			} else {
				out[(*count)++] = (struct hhdm_range){ pos, next - pos };
			}
		}
		pos = next;
	}
	return MM_OK;
}

/* Returns the largest page size <= max_page that is aligned at pa and fits
 * in [pa, end). */
static uint64_t page_fit(uint64_t pa, uint64_t end, uint64_t max_page)
{
	for (uint64_t ps = max_page; ps > PAGE_SIZE; ps >>= 9)
		if (is_aligned(pa, ps) && end - pa >= ps)
			return ps;
	return PAGE_SIZE;
}

/* See hhdm.h. */
int hhdm_plan(const struct hhdm_range *r, size_t n, uint64_t max_page,
	      struct hhdm_piece *out, size_t cap, size_t *count)
{
	uint64_t prev_end = 0;
	*count = 0;
	if (max_page != LARGE_SIZE && max_page != HUGE_SIZE)
		return MM_EINVAL;
	for (size_t i = 0; i < n; i++) {
		uint64_t end;
		if (r[i].size == 0 || ((r[i].pa | r[i].size) & PAGE_MASK) ||
		    !range_end(r[i].pa, r[i].size, &end) || r[i].pa < prev_end)
			return MM_EINVAL;
		prev_end = end;
		for (uint64_t pa = r[i].pa; pa < end;) {
			uint64_t ps = page_fit(pa, end, max_page);
			struct hhdm_piece *last = *count ? &out[*count - 1] : 0;
			if (last && last->page_size == ps && last->pa + last->size == pa) {
				last->size += ps;
			} else if (*count == cap) {
				return MM_EOVERFLOW;
			} else {
				out[(*count)++] = (struct hhdm_piece){ pa, ps, ps };
			}
			pa += ps;
		}
	}
	return MM_OK;
}

/* See hhdm.h.  Level 4 tables (PML4s, only under 5-level paging) cover
 * 256 TiB each, level 3 (PDPTs) 512 GiB, level 2 (PDs) 1 GiB, level 1
 * (PTs) 2 MiB; a page of size ps needs the tables of every level below the
 * root down to the one its entry sits in, down to level 1 for 4 KiB.
 * HHDM_BASE is aligned to a root slot, so indices from pa count alike. */
uint64_t hhdm_plan_tables(const struct hhdm_piece *p, size_t n)
{
	uint64_t tables = 0;
	uint64_t counted[5] = { 0, 0, 0, 0, 0 };  /* level: tables [0, counted) seen */
	int below_root = (int)pgmode_levels() - 1;
	for (size_t i = 0; i < n; i++) {
		int lowest = p[i].page_size == HUGE_SIZE ? 3 : p[i].page_size == LARGE_SIZE ? 2 : 1;
		for (int level = below_root; level >= lowest; level--) {
			int shift = PX_SHIFT(level + 1);
			uint64_t first = p[i].pa >> shift;
			uint64_t end = ((p[i].pa + p[i].size - 1) >> shift) + 1;
			if (first < counted[level])
				first = counted[level];
			if (first < end) {
				tables += end - first;
				counted[level] = end;
			}
		}
	}
	return tables;
}

/* See hhdm.h. */
struct hhdm_counts hhdm_plan_count(const struct hhdm_piece *p, size_t n)
{
	struct hhdm_counts c = { 0, 0, 0, 0, 0 };
	for (size_t i = 0; i < n; i++) {
		uint64_t pages = p[i].size / p[i].page_size;
		if (p[i].page_size == HUGE_SIZE)
			c.huge += pages;
		else if (p[i].page_size == LARGE_SIZE)
			c.large += pages;
		else
			c.small += pages;
		c.bytes += p[i].size;
		c.top = p[i].pa + p[i].size;
	}
	return c;
}

/* See hhdm.h. */
int hhdm_ranges_contain(const struct hhdm_range *r, size_t n, uint64_t pa)
{
	size_t lo = 0, hi = n;   /* the answer, if any, is r[lo..hi) */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (r[mid].pa <= pa)
			lo = mid;
		else
			hi = mid;
	}
	return n && pa >= r[lo].pa && pa - r[lo].pa < r[lo].size;
}
