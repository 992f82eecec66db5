/*
 * kernel/efirt/mat.c - runtime regions of the raw map and the Memory
 * Attributes Table: collection, validation, permissions (rules in mat.h).
 * Portable: descriptors are copied out with memcpy (a descriptor size that
 * is not a multiple of 8 never makes a misaligned read).
 */
#include "kernel/efirt/mat.h"
#include "lib/range.h"
#include "lib/string.h"

static const char *const status_names[EFIRT_STATUS_COUNT] = {
	[EFIRT_OK] = "ok",
	[EFIRT_EDESCSIZE] = "descriptor size below 40 bytes",
	[EFIRT_EREGION] = "runtime descriptor with 0 pages, unaligned or wrapping",
	[EFIRT_EOVERLAP] = "two runtime descriptors overlap",
	[EFIRT_EFULL] = "more entries than room",
	[EFIRT_EVERSION] = "version not 1 or 2",
	[EFIRT_ECOUNT] = "entries do not fit the table",
	[EFIRT_ETYPE] = "entry neither runtime code nor data",
	[EFIRT_ERANGE] = "entry with 0 pages, unaligned or wrapping",
	[EFIRT_ENOREGION] = "entry in no runtime region",
	[EFIRT_ESTRADDLE] = "entry runs past the end of its region",
	[EFIRT_EMISMATCH] = "entry type differs from its region's",
	[EFIRT_EPERM] = "entry neither RO nor XP",
	[EFIRT_ESIGNATURE] = "bad signature",
	[EFIRT_EREVISION] = "revision below 1.0",
	[EFIRT_EHDRSIZE] = "bad header size",
	[EFIRT_ECRC] = "bad CRC32",
	[EFIRT_ETIME] = "a field out of range",
};

/* See mat.h. */
const char *efirt_status_str(int s)
{
	return s >= 0 && s < EFIRT_STATUS_COUNT ? status_names[s] : "unknown status";
}

/* Sets *bytes to pages 4 KiB pages from pa and returns 1 if the range is
 * non-empty, page-aligned and ends below 2^64 (its end is representable:
 * no physical address comes near it, and every end computed later fits). */
static int page_range(uint64_t pa, uint64_t pages, uint64_t *bytes)
{
	if (pages == 0 || pages > (UINT64_MAX >> EFI_PAGE_SHIFT) || !is_aligned(pa, EFI_PAGE_SIZE))
		return 0;
	*bytes = pages << EFI_PAGE_SHIFT;
	uint64_t end;
	return range_end(pa, *bytes, &end) && end != 0;
}

/* See mat.h. */
int efirt_regions_collect(const void *map, uint64_t map_size, uint32_t desc_size,
			  struct efirt_region *out, size_t cap, size_t *n)
{
	*n = 0;
	if (desc_size < sizeof(struct efi_memory_desc))
		return EFIRT_EDESCSIZE;
	size_t k = 0;
	uint64_t count = map_size / desc_size;
	for (uint64_t i = 0; i < count; i++) {
		struct efi_memory_desc d;
		uint64_t bytes;
		memcpy(&d, (const uint8_t *)map + i * desc_size, sizeof(d));
		if (!(d.attribute & EFI_MEMORY_RUNTIME))
			continue;
		if (!page_range(d.phys_start, d.num_pages, &bytes))
			return EFIRT_EREGION;
		if (k == cap)
			return EFIRT_EFULL;
		for (size_t j = 0; j < k; j++)
			if (ranges_overlap(d.phys_start, bytes, out[j].pa,
					   out[j].pages << EFI_PAGE_SHIFT))
				return EFIRT_EOVERLAP;
		out[k++] = (struct efirt_region){ .pa = d.phys_start, .pages = d.num_pages,
						  .attr = d.attribute, .type = d.type,
						  .index = (uint32_t)i };
	}
	*n = k;
	return EFIRT_OK;
}

/* See mat.h. */
int efirt_mat_size(const struct efi_mat_header *h, uint64_t *total)
{
	if (h->version < 1 || h->version > 2)
		return EFIRT_EVERSION;
	if (h->descriptor_size < sizeof(struct efi_memory_desc))
		return EFIRT_EDESCSIZE;
	/* Both factors are 32-bit: the product fits in 64 bits. */
	uint64_t bytes = (uint64_t)h->number_of_entries * h->descriptor_size;
	if (bytes > EFIRT_MAT_MAX_BYTES - sizeof(*h))
		return EFIRT_ECOUNT;
	*total = sizeof(*h) + bytes;
	return EFIRT_OK;
}

/* Returns the permission MAT attributes attr ask for, 0 if neither RO nor
 * XP (read, write and execute: never applied). */
static unsigned perm_of_attr(uint64_t attr)
{
	if ((attr & EFI_MEMORY_RO) && (attr & EFI_MEMORY_XP))
		return EFIRT_PERM_R;
	if (attr & EFI_MEMORY_RO)
		return EFIRT_PERM_RX;
	if (attr & EFI_MEMORY_XP)
		return EFIRT_PERM_RW;
	return 0;
}

/* See mat.h. */
int efirt_mat_entry_check(const struct efi_memory_desc *e, const struct efirt_region *r,
			  size_t n, struct efirt_mat_entry *out)
{
	uint64_t bytes;
	if (e->type != EFI_RUNTIME_SERVICES_CODE && e->type != EFI_RUNTIME_SERVICES_DATA)
		return EFIRT_ETYPE;
	if (!page_range(e->phys_start, e->num_pages, &bytes))
		return EFIRT_ERANGE;
	for (size_t i = 0; i < n; i++) {
		uint64_t rbytes = r[i].pages << EFI_PAGE_SHIFT;
		if (!range_inside(e->phys_start, 1, r[i].pa, r[i].pa + rbytes))
			continue;
		/* The region holding the entry's start must hold all of it. */
		if (!range_inside(e->phys_start, bytes, r[i].pa, r[i].pa + rbytes))
			return EFIRT_ESTRADDLE;
		if (r[i].type != e->type)
			return EFIRT_EMISMATCH;
		unsigned perm = perm_of_attr(e->attribute);
		if (!perm)
			return EFIRT_EPERM;
		*out = (struct efirt_mat_entry){ .pa = e->phys_start, .pages = e->num_pages,
						 .perm = perm, .region = (uint32_t)i };
		return EFIRT_OK;
	}
	return EFIRT_ENOREGION;
}

/* See mat.h. */
int efirt_mat_parse(const void *tbl, uint64_t len, const struct efirt_region *r, size_t n,
		    struct efirt_mat_entry *out, size_t cap, struct efirt_mat_result *res)
{
	struct efi_mat_header h;
	uint64_t total;
	*res = (struct efirt_mat_result){ 0 };
	if (len < sizeof(h))
		return EFIRT_ECOUNT;
	memcpy(&h, tbl, sizeof(h));
	int s = efirt_mat_size(&h, &total);
	if (s != EFIRT_OK)
		return s;
	if (total > len)
		return EFIRT_ECOUNT;
	if (h.number_of_entries > cap)
		return EFIRT_EFULL;
	res->entries = h.number_of_entries;
	for (uint32_t i = 0; i < h.number_of_entries; i++) {
		struct efi_memory_desc d;
		memcpy(&d, (const uint8_t *)tbl + sizeof(h) + (uint64_t)i * h.descriptor_size,
		       sizeof(d));
		s = efirt_mat_entry_check(&d, r, n, &out[res->applied]);
		if (s == EFIRT_OK) {
			res->applied++;
		} else if (res->first_bad_status == EFIRT_OK) {
			res->first_bad = i;
			res->first_bad_status = s;
		}
	}
	return EFIRT_OK;
}

/* See mat.h. */
unsigned efirt_perm_default(const struct efirt_region *r)
{
	return r->type == EFI_RUNTIME_SERVICES_CODE ? EFIRT_PERM_RX : EFIRT_PERM_RW;
}

/* See mat.h. */
unsigned efirt_perm_at(const struct efirt_region *r, size_t ri, const struct efirt_mat_entry *m,
		       size_t k, uint64_t pa, uint64_t *run_end)
{
	const struct efirt_region *g = &r[ri];
	uint64_t end = g->pa + (g->pages << EFI_PAGE_SHIFT);
	for (size_t i = 0; i < k; i++) {
		if (m[i].region != ri)
			continue;
		uint64_t me = m[i].pa + (m[i].pages << EFI_PAGE_SHIFT);
		if (pa >= m[i].pa && pa < me) {
			/* Up to its end, or an earlier entry's start. */
			*run_end = me < end ? me : end;
			return m[i].perm;
		}
		/* An entry starting above pa ends the run there (an earlier
		 * entry wins where two overlap). */
		if (m[i].pa > pa && m[i].pa < end)
			end = m[i].pa;
	}
	*run_end = end;
	return efirt_perm_default(g);
}
