/*
 * mm/pmm.c - the physical frame allocator: a bitmap of 4 KiB frames with two
 * summary levels and next-fit hints (see mm/pmm.h).
 *
 * Theory statement.
 *
 * 1. Bootstrap: the allocator's own metadata needs memory before any memory
 *    allocator exists, and how much depends on the RAM found at boot, so it
 *    cannot be static.  The way out is an order of three steps:
 *      (a) the sanitised map is a fixed-size array that needs no allocator;
 *      (b) the boot allocator (mm/bootalloc.c) needs nothing but that map and
 *          a bump pointer: it can hand out the bitmap's frames at once; it
 *          never frees, so it only has to remember a few ranges;
 *      (c) the bitmap is then built in those frames, marks every frame the
 *          boot allocator handed out as used (so they are never handed out
 *          twice) and from then on is the only allocator.
 *    Each step uses only what the previous one produced: no step needs the
 *    allocator it is building, which is the chicken-and-egg problem solved.
 *
 * 2. Bitmap: one bit per frame, 1 = used, in uint64_t words, for frames
 *    [0, nframes) where nframes is the end of the highest usable region: MMIO
 *    holes above RAM cost nothing.  Frames that are not usable RAM (holes,
 *    reserved, ACPI, kernel...) and the padding bits after nframes are set
 *    for ever, so a search never needs the map.
 *
 * 3. Summary levels: summary has one bit per bitmap word, set iff the word
 *    has a free frame (word != ~0); summary2 has one bit per summary word,
 *    set iff that summary word is non-zero.  A search finds the next word
 *    with a free frame by looking at one summary word, then at summary2
 *    words: 1 TiB of RAM is 4 Mi bitmap words, 64 Ki summary words and 1 Ki
 *    summary2 words, so the worst search reads ~1 Ki words however full and
 *    fragmented memory is.  Both levels are updated only when a word turns
 *    full or stops being full: O(1) per allocation and free.
 *
 * 4. Next fit: hint is the bitmap word of the last single-frame allocation;
 *    the next search starts there and wraps around once.  chint does the
 *    same for contiguous requests (a frame number).  Hints only change
 *    where a search starts, never what it can find.
 *
 * 5. Contiguous allocation of n frames aligned to a frames: take the next
 *    free frame at or after pos (summary levels), round it up to a, scan the
 *    n frames for a used one (whole words at a time); if one is found at u,
 *    continue from u + 1.  Every frame is scanned O(1) times per search.
 *
 * 6. Frees are checked before anything changes: the frame must lie in a
 *    usable region (map lookup, cached in ram_hint), must not be the
 *    allocator's own metadata, and must be allocated.  A bad free is printed
 *    with its address and returns an error; the bitmap is left untouched.
 *    A multi-frame free checks every frame first (all or nothing).
 *
 * 7. Invariants (pmm_check verifies them): free == number of clear bits;
 *    summary and summary2 exactly reflect the level below; every frame
 *    outside the usable regions and every padding bit is set; a tagged
 *    frame is allocated.
 *
 * 9. Tags: a second bitmap, one bit per frame, that an owner sets on the
 *    frames it hands out itself (kalloc's direct-map pages).  pmm_free
 *    refuses a tagged frame, and the owner frees only frames it tagged,
 *    so a stale or cross-API free is caught even after the frame went to
 *    someone else.  Cost: one more bit per frame (32 MiB per TiB of RAM,
 *    as much as the bitmap itself; 2 bits per frame in all, plus the
 *    summaries' 1/64 + 1/4096).
 *
 * 8. Locking: none inside; the caller serialises calls on one pmm (memboot
 *    does mm work on one CPU with interrupts off).  No recursion; O(1) stack.
 */
#include "lib/bitops.h"
#include "lib/range.h"
#include "mm/pmm.h"
#include "mm/bootalloc.h"
#include "lib/string.h"
#include "mm/platform.h"
#include "mm/status.h"
#include "mm/x86_64.h"

#define NONE       UINT64_MAX /* "no frame / no word" from the search helpers */

/* Bitmap word w just became full: clear its summary bit (and summary2's). */
static inline void summary_clear(struct pmm *p, uint64_t w)
{
	uint64_t s = bit_word(w);
	bit_clear(p->summary, w);
	if (p->summary[s] == 0)
		bit_clear(p->summary2, s);
}

/* Bitmap word w just got a free frame: set its summary bit (and summary2's). */
static inline void summary_set(struct pmm *p, uint64_t w)
{
	uint64_t s = bit_word(w);
	if (p->summary[s] == 0)
		bit_set(p->summary2, s);
	bit_set(p->summary, w);
}

/* Returns the first bitmap word >= w that has a free frame, or NONE. */
static uint64_t find_word_from(const struct pmm *p, uint64_t w)
{
	uint64_t s, t, m;

	if (w >= p->nwords)
		return NONE;
	s = bit_word(w);
	m = p->summary[s] & bit_mask_from(bit_index(w));
	if (m)
		return bit_number(s, bit_lowest(m));
	if (++s >= p->nsum)
		return NONE;
	t = bit_word(s);
	m = p->summary2[t] & bit_mask_from(bit_index(s));
	while (m == 0) {
		if (++t >= p->nsum2)
			return NONE;
		m = p->summary2[t];
	}
	s = bit_number(t, bit_lowest(m));
	if (p->summary[s] == 0)
		mm_panic("find_word_from: summary2 bit of empty summary word %llu",
			 (unsigned long long)s);
	return bit_number(s, bit_lowest(p->summary[s]));
}

/* Returns the first free frame >= f, or NONE. */
static uint64_t next_free_frame(const struct pmm *p, uint64_t f)
{
	uint64_t w = bit_word(f), m;

	if (f >= p->nframes)
		return NONE;
	m = ~p->bitmap[w] & bit_mask_from(bit_index(f));
	if (m)
		return bit_number(w, bit_lowest(m));
	w = find_word_from(p, w + 1);
	if (w == NONE)
		return NONE;
	return bit_number(w, bit_lowest(~p->bitmap[w]));
}

/* Returns the first used frame in [f, end), or end if all are free.
 * end <= nframes. */
static uint64_t next_used_frame(const struct pmm *p, uint64_t f, uint64_t end)
{
	uint64_t w = bit_word(f);
	uint64_t m = p->bitmap[w] & bit_mask_from(bit_index(f));

	while (m == 0) {
		if (bit_word_start(++w) >= end)
			return end;
		m = p->bitmap[w];
	}
	f = bit_number(w, bit_lowest(m));
	return f < end ? f : end;
}

/* Sets (used = 1) or clears bits [f, end) word by word, keeping the summary
 * levels in step when update_summary is set.  The caller keeps free. */
static void set_frames(struct pmm *p, uint64_t f, uint64_t end, int used, int update_summary)
{
	while (f < end) {
		uint64_t w = bit_word(f);
		unsigned lo = bit_index(f);
		uint64_t wend = bit_word_start(w + 1);
		unsigned hi = end >= wend ? BITS_PER_WORD : bit_index(end);
		uint64_t m = bit_mask(lo, hi), old = p->bitmap[w];

		p->bitmap[w] = used ? old | m : old & ~m;
		if (update_summary) {
			if (used && p->bitmap[w] == WORD_ALL_SET && old != WORD_ALL_SET)
				summary_clear(p, w);
			else if (!used && old == WORD_ALL_SET && p->bitmap[w] != WORD_ALL_SET)
				summary_set(p, w);
		}
		f = end >= wend ? wend : end;
	}
}

/* Fills bitmap words [w, end) with value v (0 or WORD_ALL_SET). */
static void fill_words(struct pmm *p, uint64_t w, uint64_t end, uint64_t v)
{
	if (end > w)
		memset(&p->bitmap[w], v ? 0xff : 0, (end - w) * sizeof(uint64_t));
}

/* Sets or clears frames [f, end) during init: partial words bit by bit,
 * whole words with memset (1 TiB is 32 MiB of bitmap). */
static void init_frames(struct pmm *p, uint64_t f, uint64_t end, int used)
{
	uint64_t fw = bit_words(f), ew = bit_word(end);

	if (fw >= ew) {
		set_frames(p, f, end, used, 0);
		return;
	}
	set_frames(p, f, bit_word_start(fw), used, 0);
	fill_words(p, fw, ew, used ? WORD_ALL_SET : 0);
	set_frames(p, bit_word_start(ew), end, used, 0);
}

/* Rebuilds summary and summary2 from the bitmap. */
static void build_summaries(struct pmm *p)
{
	for (uint64_t s = 0; s < p->nsum; s++) {
		uint64_t bits = 0, w0 = bit_word_start(s);
		uint64_t n = p->nwords - w0 < BITS_PER_WORD ? p->nwords - w0 : BITS_PER_WORD;
		for (uint64_t j = 0; j < n; j++)
			bits |= (uint64_t)(p->bitmap[w0 + j] != WORD_ALL_SET) << j;
		p->summary[s] = bits;
	}
	for (uint64_t t = 0; t < p->nsum2; t++) {
		uint64_t bits = 0, s0 = bit_word_start(t);
		uint64_t n = p->nsum - s0 < BITS_PER_WORD ? p->nsum - s0 : BITS_PER_WORD;
		for (uint64_t j = 0; j < n; j++)
			bits |= (uint64_t)(p->summary[s0 + j] != 0) << j;
		p->summary2[t] = bits;
	}
}

/* Checks the map is what memmap_sanitize makes: sorted, non-overlapping,
 * usable regions page aligned and clear of page 0.  Sets *total (usable
 * frames) and *top (end frame of the highest usable region). */
static int check_map(const struct mm_region *map, size_t count, uint64_t *total, uint64_t *top)
{
	*total = *top = 0;
	for (size_t i = 0; i < count; i++) {
		const struct mm_region *r = &map[i];
		if (r->size == 0 || range_wraps(r->base, r->size))
			return MM_EINVAL;
		if (i > 0 && map[i - 1].base + map[i - 1].size > r->base)
			return MM_EINVAL;
		if (r->type != MR_USABLE)
			continue;
		if (((r->base | r->size) & PAGE_MASK) || r->base < PAGE_SIZE)
			return MM_EINVAL;
		*total += r->size >> PAGE_SHIFT;
		*top = (r->base + r->size) >> PAGE_SHIFT;
	}
	return MM_OK;
}

int pmm_init_boot(struct pmm *p, const struct mm_region *map, size_t count,
		  struct bootalloc *ba)
{
	uint64_t total, top, handed = 0, cur = 0;
	int st = check_map(map, count, &total, &top);

	if (st != MM_OK)
		return st;
	if (total == 0)
		return MM_ENOMEM;
	p->map = map;
	p->map_count = count;
	p->nframes = top;
	p->nwords = bit_words(top);
	p->nsum = bit_words(p->nwords);
	p->nsum2 = bit_words(p->nsum);
	p->meta_size = PAGE_ROUND_UP((2 * p->nwords + p->nsum + p->nsum2) * sizeof(uint64_t));
	st = bootalloc_alloc(ba, p->meta_size, PAGE_SIZE, &p->meta_pa);
	if (st != MM_OK)
		return MM_ENOMEM;
	p->bitmap = mm_phys_to_virt(p->meta_pa);
	p->summary = p->bitmap + p->nwords;
	p->summary2 = p->summary + p->nsum;
	p->tags = p->summary2 + p->nsum2;
	memset(p->tags, 0, p->nwords * sizeof(uint64_t));

	/* Holes used, usable regions free, padding after nframes used. */
	for (size_t i = 0; i < count; i++) {
		if (map[i].type != MR_USABLE)
			continue;
		uint64_t b = map[i].base >> PAGE_SHIFT, e = b + (map[i].size >> PAGE_SHIFT);
		init_frames(p, cur, b, 1);
		init_frames(p, b, e, 0);
		cur = e;
	}
	init_frames(p, cur, bit_word_start(p->nwords), 1);

	/* Everything the boot allocator handed out, the bitmap included. */
	for (size_t i = 0; i < ba->nranges; i++) {
		uint64_t b = ba->ranges[i].pa >> PAGE_SHIFT;
		uint64_t n = ba->ranges[i].size >> PAGE_SHIFT;
		init_frames(p, b, b + n, 1);
		handed += n;
	}
	build_summaries(p);
	p->total = total;
	p->free = total - handed;
	p->hint = 0;
	p->chint = 0;
	p->ram_hint = 0;
	/* The boot allocator is retired: make a stray later use fail loudly. */
	ba->count = 0;
	ba->idx = 0;
	return MM_OK;
}

int pmm_init(struct pmm *p, const struct mm_region *map, size_t count)
{
	struct bootalloc ba;

	bootalloc_init(&ba, map, count);
	return pmm_init_boot(p, map, count, &ba);
}

int pmm_alloc(struct pmm *p, uint64_t *pa)
{
	uint64_t w, word, bit;

	if (p->free == 0)
		return MM_ENOMEM;
	w = p->hint;
	word = p->bitmap[w];
	if (word == WORD_ALL_SET) {     /* the hint word is used up: search */
		w = find_word_from(p, w);
		if (w == NONE)
			w = find_word_from(p, 0);
		if (w == NONE)
			mm_panic("pmm_alloc: free count %llu but no free frame",
				 (unsigned long long)p->free);
		word = p->bitmap[w];
	}
	bit = bit_lowest(~word);
	word |= 1ULL << bit;
	p->bitmap[w] = word;
	if (word == WORD_ALL_SET)
		summary_clear(p, w);
	p->free--;
	p->hint = w;
	*pa = bit_number(w, bit) << PAGE_SHIFT;
	return MM_OK;
}

/* Returns the first frame f in [lo, hi) with f % a == 0 and [f, f + n) all
 * free, or NONE. */
static uint64_t contig_search(const struct pmm *p, uint64_t lo, uint64_t hi,
			      uint64_t n, uint64_t a)
{
	uint64_t pos = lo;

	for (;;) {
		uint64_t f;
		if (!align_up(pos, a, &f) || f >= hi || hi - f < n)
			return NONE;
		pos = next_free_frame(p, f);
		if (pos == NONE || pos >= hi)
			return NONE;
		if (pos != f)
			continue;       /* realign the free frame found */
		uint64_t u = next_used_frame(p, f, f + n);
		if (u == f + n)
			return f;
		pos = u + 1;
	}
}

int pmm_alloc_contig(struct pmm *p, uint64_t count, uint64_t align, uint64_t *pa)
{
	uint64_t a, f;

	if (count == 0 || align < PAGE_SIZE || !is_pow2(align))
		return MM_EINVAL;
	if (count == 1 && align == PAGE_SIZE)
		return pmm_alloc(p, pa);
	if (count > p->free)
		return MM_ENOMEM;
	a = align >> PAGE_SHIFT;
	f = contig_search(p, p->chint, p->nframes, count, a);
	if (f == NONE && p->chint != 0)
		f = contig_search(p, 0, p->nframes, count, a);
	if (f == NONE)
		return MM_ENOMEM;
	set_frames(p, f, f + count, 1, 1);
	p->free -= count;
	p->chint = f + count;
	*pa = f << PAGE_SHIFT;
	return MM_OK;
}

/* Returns the map region holding pa (binary search), or NULL. */
static const struct mm_region *region_of(const struct pmm *p, uint64_t pa, size_t *idx)
{
	size_t lo = 0, hi = p->map_count;

	while (lo < hi) {               /* first region with base > pa */
		size_t mid = lo + (hi - lo) / 2;
		if (p->map[mid].base <= pa)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct mm_region *r = &p->map[lo - 1];
	if (pa - r->base >= r->size)
		return NULL;
	*idx = lo - 1;
	return r;
}

int pmm_is_ram(const struct pmm *p, uint64_t pa)
{
	size_t i;
	const struct mm_region *r = region_of(p, pa, &i);
	return r && r->type == MR_USABLE && (pa >> PAGE_SHIFT) < p->nframes;
}

int pmm_is_allocated(const struct pmm *p, uint64_t pa)
{
	uint64_t f = pa >> PAGE_SHIFT;
	return pmm_is_ram(p, pa) && bit_test(p->bitmap, f);
}

/* Checks [pa, pa + n frames) can be freed: usable RAM (regions looked up
 * from the cached ram_hint), not the allocator's metadata, every frame
 * allocated.  Reports the first bad frame as fn(pa, n) and returns the
 * status; MM_OK if all is well. */
static int check_free(struct pmm *p, const char *fn, uint64_t pa, uint64_t n)
{
	uint64_t f = pa >> PAGE_SHIFT, end = 0, x;

	if ((pa & PAGE_MASK) || n == 0 || !range_end(f, n, &end)) {
		mm_printf("%s: bad argument pa 0x%llx, %llu frames\n", fn,
			  (unsigned long long)pa, (unsigned long long)n);
		return MM_EINVAL;
	}
	for (x = f; x < end;) {         /* every frame in usable regions */
		const struct mm_region *r = &p->map[p->ram_hint];
		uint64_t xpa = x << PAGE_SHIFT;
		if (xpa - r->base >= r->size && !(r = region_of(p, xpa, &p->ram_hint)))
			goto not_ram;
		if (r->type != MR_USABLE || x >= p->nframes)
			goto not_ram;
		x = (r->base + r->size) >> PAGE_SHIFT;
	}
	if (f < (p->meta_pa + p->meta_size) >> PAGE_SHIFT && end > p->meta_pa >> PAGE_SHIFT) {
		mm_printf("%s(0x%llx, %llu): frames hold the allocator's own bitmap\n", fn,
			  (unsigned long long)pa, (unsigned long long)n);
		return MM_ERANGE;
	}
	for (x = f; x < end;) {         /* every frame allocated */
		uint64_t w = bit_word(x), wend = bit_word_start(w + 1);
		unsigned lo = bit_index(x);
		unsigned hi = end >= wend ? BITS_PER_WORD : bit_index(end);
		uint64_t m = bit_mask(lo, hi), clear = ~p->bitmap[w] & m, tagged = p->tags[w] & m;
		if (clear) {
			mm_printf("%s(0x%llx, %llu): frame 0x%llx is not allocated\n", fn,
				  (unsigned long long)pa, (unsigned long long)n,
				  (unsigned long long)(bit_number(w, bit_lowest(clear)) << PAGE_SHIFT));
			return MM_ENOENT;
		}
		if (tagged) {
			mm_printf("%s(0x%llx, %llu): frame 0x%llx is tagged by its owner (a kalloc page: kfree it)\n",
				  fn, (unsigned long long)pa, (unsigned long long)n,
				  (unsigned long long)(bit_number(w, bit_lowest(tagged)) << PAGE_SHIFT));
			return MM_EBUSY;
		}
		x = end >= wend ? wend : end;
	}
	return MM_OK;
not_ram:
	mm_printf("%s(0x%llx, %llu): frame 0x%llx is not RAM\n", fn, (unsigned long long)pa,
		  (unsigned long long)n, (unsigned long long)(x << PAGE_SHIFT));
	return MM_ERANGE;
}

int pmm_free(struct pmm *p, uint64_t pa)
{
	uint64_t f = pa >> PAGE_SHIFT, w = bit_word(f), old;
	const struct mm_region *r = &p->map[p->ram_hint];

	/* Fast path, the usual case: the cached region holds pa, it is
	 * usable, not the metadata, and the frame is allocated.  Anything
	 * else goes through check_free, which reports it. */
	if ((pa & PAGE_MASK) || pa - r->base >= r->size || r->type != MR_USABLE ||
	    f >= p->nframes || pa - p->meta_pa < p->meta_size ||
	    !bit_test(p->bitmap, f) || bit_test(p->tags, f)) {
		int st = check_free(p, "pmm_free", pa, 1);
		if (st != MM_OK)
			return st;
	}
	old = p->bitmap[w];
	p->bitmap[w] = old & ~(1ULL << bit_index(f));
	if (old == WORD_ALL_SET)
		summary_set(p, w);
	p->free++;
	return MM_OK;
}

int pmm_free_contig(struct pmm *p, uint64_t pa, uint64_t count)
{
	uint64_t f = pa >> PAGE_SHIFT;
	int st = check_free(p, "pmm_free_contig", pa, count);

	if (st != MM_OK)
		return st;
	set_frames(p, f, f + count, 0, 1);
	p->free += count;
	return MM_OK;
}

int pmm_is_tagged(const struct pmm *p, uint64_t pa)
{
	return pmm_is_allocated(p, pa) && bit_test(p->tags, pa >> PAGE_SHIFT);
}

int pmm_tag(struct pmm *p, uint64_t pa)
{
	uint64_t f = pa >> PAGE_SHIFT;

	if ((pa & PAGE_MASK) || !pmm_is_allocated(p, pa) ||
	    pa - p->meta_pa < p->meta_size)
		return MM_ENOENT;
	if (bit_test(p->tags, f))
		return MM_EBUSY;
	bit_set(p->tags, f);
	return MM_OK;
}

int pmm_untag(struct pmm *p, uint64_t pa)
{
	uint64_t f = pa >> PAGE_SHIFT;

	if ((pa & PAGE_MASK) || !pmm_is_tagged(p, pa))
		return MM_ENOENT;
	bit_clear(p->tags, f);
	return MM_OK;
}

void pmm_totals(const struct pmm *p, uint64_t *total, uint64_t *free, uint64_t *used)
{
	if (total)
		*total = p->total;
	if (free)
		*free = p->free;
	if (used)
		*used = p->total - p->free;
}

void pmm_print(const struct pmm *p)
{
	mm_printf("pmm: %llu free frames of %llu (%llu MiB free)\n",
		  (unsigned long long)p->free, (unsigned long long)p->total,
		  (unsigned long long)(p->free >> (20 - PAGE_SHIFT)));
}

int pmm_check(const struct pmm *p)
{
	uint64_t clear = 0, cur = 0;

	for (uint64_t w = 0; w < p->nwords; w++) {
		int has_free = p->bitmap[w] != WORD_ALL_SET;
		int bit = (int)bit_test(p->summary, w);
		if (has_free != bit) {
			mm_printf("pmm_check: summary bit of word %llu is %d\n",
				  (unsigned long long)w, bit);
			return MM_EINVAL;
		}
		clear += BITS_PER_WORD - bit_count(p->bitmap[w]);
		if (p->tags[w] & ~p->bitmap[w]) {
			mm_printf("pmm_check: a free frame of word %llu is tagged\n",
				  (unsigned long long)w);
			return MM_EINVAL;
		}
	}
	for (uint64_t s = 0; s < p->nsum; s++) {
		int bit = (int)bit_test(p->summary2, s);
		if ((p->summary[s] != 0) != bit) {
			mm_printf("pmm_check: summary2 bit of summary word %llu is %d\n",
				  (unsigned long long)s, bit);
			return MM_EINVAL;
		}
	}
	if (clear != p->free) {
		mm_printf("pmm_check: %llu clear bits, free count %llu\n",
			  (unsigned long long)clear, (unsigned long long)p->free);
		return MM_EINVAL;
	}
	/* Holes between usable regions and the padding after nframes. */
	for (size_t i = 0; i <= p->map_count; i++) {
		uint64_t b = bit_word_start(p->nwords), e;
		if (i < p->map_count) {
			if (p->map[i].type != MR_USABLE)
				continue;
			b = p->map[i].base >> PAGE_SHIFT;
		}
		for (uint64_t f = cur; f < b; f++)
			if (!bit_test(p->bitmap, f)) {
				mm_printf("pmm_check: frame 0x%llx is not RAM but free\n",
					  (unsigned long long)(f << PAGE_SHIFT));
				return MM_EINVAL;
			}
		if (i < p->map_count) {
			e = b + (p->map[i].size >> PAGE_SHIFT);
			cur = e;
		}
	}
	return MM_OK;
}
