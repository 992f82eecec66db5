/*
 * tests/host/test_pmm.c - the bitmap frame allocator: pmm_init(_boot),
 * pmm_alloc, pmm_alloc_contig, pmm_free(_contig), pmm_alloc_bulk,
 * pmm_free_bulk, pmm_is_*, pmm_totals, pmm_print, pmm_check (and the
 * free-block map it checks).
 * Pictures: U usable, R reserved, M the allocator's bitmap, x allocated.
 */
#include <stdio.h>
#include <string.h>

#include "mm/bootalloc.h"
#include "mm/platform.h"
#include "mm/pmm.h"
#include "mm/status.h"
#include "tests/host/harness.h"
#include "tools/host_platform.h"

#define KiB 0x400ULL
#define MiB 0x100000ULL
#define GiB 0x40000000ULL
#define TiB 0x10000000000ULL
#define PG  4096ULL
#define R(t, b_, n_) { .base = (b_), .size = (n_), .type = (t) }
#define N(a) (sizeof(a) / sizeof((a)[0]))

/*
 *   4K    640K  1M   1M+4K           2M     3M  4M
 *   |UUUUU|     |MMMM|UUUUUUUUUUUUUUU|RRRRRR|UUU|
 * Expect: total = usable frames, the metadata's two frames at 1M used
 * (1024 frames: 16 bitmap words + 1 summary + 1 summary2 + 1 free-block
 * word + 16 tag words = 280 bytes, a line: 320; where[] 2 bytes a frame:
 * 2048, so 2368; 4 caches x 576 bytes: 4672 bytes, 2 pages), the printed
 * line; frames of the reserved hole are not RAM.
 */
static void test_init_totals(void)
{
	struct mm_region map[] = { R(MR_USABLE, PG, 636 * KiB), R(MR_USABLE, MiB, MiB),
				   R(MR_RESERVED, 2 * MiB, MiB), R(MR_USABLE, 3 * MiB, MiB) };
	struct pmm p;
	uint64_t total, free, used;

	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	pmm_totals(&p, &total, &free, &used);
	CHECK(total == 159 + 256 + 256, "total %llu", (unsigned long long)total);
	CHECK(used == 2 && free == total - 2, "used %llu free %llu", (unsigned long long)used,
	      (unsigned long long)free);
	CHECK(p.meta_pa == MiB && p.meta_size == 2 * PG, "meta %#llx+%#llx",
	      (unsigned long long)p.meta_pa, (unsigned long long)p.meta_size);
	CHECK(pmm_is_allocated(&p, MiB), "bitmap frame allocated");
	CHECK(!pmm_is_ram(&p, 2 * MiB) && !pmm_is_ram(&p, 0) && pmm_is_ram(&p, 3 * MiB), "is_ram");
	CHECK(pmm_check(&p) == MM_OK, "check");
	host_capture_begin();
	pmm_print(&p);
	const char *txt = host_capture_end();
	CHECK(strcmp(txt, "pmm: 669 free frames of 671 (2 MiB free)\n") == 0, "print: %s", txt);
}

/*
 *   1M      2M            4G                 1T
 *   |UUUUUUU|    ....     |MMIO MMIO MMIO ...|
 * Expect: the bitmap covers frames up to 2M only (MMIO above RAM is free).
 */
static void test_bitmap_ends_at_top_of_ram(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, MiB), R(MR_MMIO, 4 * GiB, TiB - 4 * GiB) };
	struct pmm p;

	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	CHECK(p.nframes == 2 * MiB / PG, "nframes %llu", (unsigned long long)p.nframes);
	CHECK(p.nwords == 8, "nwords %llu", (unsigned long long)p.nwords);
	CHECK(!pmm_is_ram(&p, 8 * GiB), "MMIO is not RAM");
}

/*
 *   1M   1M+4K                 1M+64K
 *   |MMMM|UUUUUUUUUUUUUUUUUUUUU|
 * Expect: 15 allocations return every usable frame once, then MM_ENOMEM;
 * after a free the same frame comes back.
 */
static void test_alloc_all(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, 64 * KiB) };
	struct pmm p;
	uint64_t pa, seen = 0;

	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	for (int i = 0; i < 15; i++) {
		REQUIRE_OK(pmm_alloc(&p, &pa), "alloc %d", i);
		CHECK(pa >= MiB + PG && pa < MiB + 64 * KiB && !(pa & (PG - 1)), "pa %#llx",
		      (unsigned long long)pa);
		uint64_t bit = 1ULL << ((pa - MiB) / PG);
		CHECK(!(seen & bit), "frame %#llx handed out twice", (unsigned long long)pa);
		seen |= bit;
	}
	CHECK(pmm_alloc(&p, &pa) == MM_ENOMEM, "exhausted");
	CHECK(pmm_free_frames(&p) == 0, "free %llu", (unsigned long long)pmm_free_frames(&p));
	REQUIRE_OK(pmm_free(&p, MiB + 7 * PG), "free");
	CHECK(pmm_alloc(&p, &pa) == MM_OK && pa == MiB + 7 * PG, "realloc %#llx",
	      (unsigned long long)pa);
	CHECK(pmm_check(&p) == MM_OK, "check");
}

/*
 *   1M          2M          4M          6M          8M
 *   |M x........|...........|...........|...........|
 * Expect: 512 frames aligned to 2 MiB start at 2M, then 4M, then 6M; a
 * 3-frame 16K-aligned block is aligned; bad arguments are MM_EINVAL; a
 * request bigger than any free run is MM_ENOMEM.
 */
static void test_contig_aligned(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, 7 * MiB) };
	struct pmm p;
	uint64_t pa;

	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	for (uint64_t want = 2 * MiB; want <= 6 * MiB; want += 2 * MiB) {
		REQUIRE_OK(pmm_alloc_contig(&p, 512, 2 * MiB, &pa), "2M block");
		CHECK(pa == want, "pa %#llx want %#llx", (unsigned long long)pa,
		      (unsigned long long)want);
	}
	CHECK(pmm_alloc_contig(&p, 512, 2 * MiB, &pa) == MM_ENOMEM, "no fourth 2M block");
	REQUIRE_OK(pmm_alloc_contig(&p, 3, 16 * KiB, &pa), "3 frames");
	CHECK(pa % (16 * KiB) == 0 && pa >= MiB && pa + 3 * PG <= 2 * MiB, "pa %#llx",
	      (unsigned long long)pa);
	CHECK(pmm_alloc_contig(&p, 0, PG, &pa) == MM_EINVAL, "count 0");
	CHECK(pmm_alloc_contig(&p, 2, 3 * PG, &pa) == MM_EINVAL, "align 12K");
	CHECK(pmm_alloc_contig(&p, 2, 2048, &pa) == MM_EINVAL, "align 2K");
	CHECK(pmm_alloc_contig(&p, 300, PG, &pa) == MM_ENOMEM, "300 > 252 free in 1M..2M");
	REQUIRE_OK(pmm_free_contig(&p, 4 * MiB, 512), "free middle block");
	CHECK(pmm_alloc_contig(&p, 300, PG, &pa) == MM_OK && pa == 4 * MiB, "300 at 4M: %#llx",
	      (unsigned long long)pa);
	CHECK(pmm_check(&p) == MM_OK, "check");
}

/*
 *   1M   1M+4K   2M   3M   4M
 *   |MMMM|UUUUUUU|RRRR|UUUU|
 * Expect: double free MM_ENOENT, reserved MM_ERANGE, beyond RAM MM_ERANGE,
 * the bitmap frame MM_ERANGE, misaligned MM_EINVAL - each reported with the
 * address - and nothing changes (free count, pmm_check).
 */
static void test_bad_frees(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, MiB), R(MR_RESERVED, 2 * MiB, MiB),
				   R(MR_USABLE, 3 * MiB, MiB) };
	struct pmm p;
	uint64_t pa, free0;
	const char *txt;

	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	REQUIRE_OK(pmm_alloc(&p, &pa), "alloc");
	REQUIRE_OK(pmm_free(&p, pa), "free");
	free0 = pmm_free_frames(&p);

	host_capture_begin();
	CHECK(pmm_free(&p, pa) == MM_ENOENT, "double free");
	txt = host_capture_end();
	CHECK(strstr(txt, "pmm_free") && strstr(txt, "0x102000") && strstr(txt, "not allocated"),
	      "message: %s", txt);

	host_capture_begin();
	CHECK(pmm_free(&p, 2 * MiB + 5 * PG) == MM_ERANGE, "reserved");
	txt = host_capture_end();
	CHECK(strstr(txt, "0x205000") && strstr(txt, "not RAM"), "message: %s", txt);

	host_capture_begin();
	CHECK(pmm_free(&p, 64 * GiB) == MM_ERANGE, "beyond RAM");
	CHECK(pmm_free(&p, 0) == MM_ERANGE, "page 0");
	CHECK(pmm_free(&p, MiB) == MM_ERANGE, "the bitmap itself");
	CHECK(pmm_free(&p, 3 * MiB + 12) == MM_EINVAL, "misaligned");
	txt = host_capture_end();
	CHECK(strstr(txt, "bitmap") && strstr(txt, "0x30000c"), "messages: %s", txt);

	CHECK(pmm_free_frames(&p) == free0, "free %llu want %llu", (unsigned long long)pmm_free_frames(&p),
	      (unsigned long long)free0);
	CHECK(pmm_check(&p) == MM_OK, "check");
}

/*
 *   3M      3M+16K           (4 frames allocated, then frame 2 freed)
 *   |x x . x|
 * Expect: pmm_free_contig of all 4 is MM_ENOENT naming frame 2 and frees
 * nothing; a range running into the reserved hole is MM_ERANGE.
 */
static void test_free_contig_all_or_nothing(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, MiB), R(MR_RESERVED, 2 * MiB, MiB),
				   R(MR_USABLE, 3 * MiB, MiB) };
	struct pmm p;
	uint64_t pa, free0;
	const char *txt;

	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	p.chint = 3 * MiB / PG;
	REQUIRE_OK(pmm_alloc_contig(&p, 4, PG, &pa), "alloc 4");
	REQUIRE(pa == 3 * MiB, "pa %#llx", (unsigned long long)pa);
	REQUIRE_OK(pmm_free(&p, 3 * MiB + 2 * PG), "free frame 2");
	free0 = pmm_free_frames(&p);
	host_capture_begin();
	CHECK(pmm_free_contig(&p, 3 * MiB, 4) == MM_ENOENT, "partial");
	CHECK(pmm_free_contig(&p, 2 * MiB - PG, 2) == MM_ERANGE, "into the hole");
	txt = host_capture_end();
	CHECK(strstr(txt, "0x302000") && strstr(txt, "0x200000"), "messages: %s", txt);
	CHECK(pmm_free_frames(&p) == free0 && pmm_is_allocated(&p, 3 * MiB), "nothing freed");
	CHECK(pmm_check(&p) == MM_OK, "check");
}

/*
 *   1M          2M
 *   |bbbb MM ...|      b = page tables the boot allocator gave out first
 * Expect: pmm_init_boot keeps the early allocation allocated (and freeable),
 * the bitmap lands after it.
 */
static void test_init_boot_takeover(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, MiB) };
	struct bootalloc ba;
	struct pmm p;
	uint64_t early;

	bootalloc_init(&ba, map, N(map));
	REQUIRE_OK(bootalloc_alloc(&ba, 4 * PG, PG, &early), "early alloc");
	REQUIRE_OK(pmm_init_boot(&p, map, N(map), &ba), "init");
	CHECK(early == MiB && p.meta_pa == MiB + 4 * PG, "early %#llx meta %#llx",
	      (unsigned long long)early, (unsigned long long)p.meta_pa);
	CHECK(pmm_free_frames(&p) == 256 - 5, "free %llu", (unsigned long long)pmm_free_frames(&p));
	for (int i = 0; i < 4; i++)
		CHECK(pmm_is_allocated(&p, early + i * PG), "early frame %d", i);
	CHECK(pmm_free_contig(&p, early, 4) == MM_OK, "early frames are freeable");
	CHECK(pmm_check(&p) == MM_OK, "check");
}

/*
 * Maps memmap_sanitize never makes.
 * Expect: MM_EINVAL for unsorted, overlapping, misaligned usable, usable
 * page 0; MM_ENOMEM with no usable memory above 1 MiB.
 */
static void test_init_rejects(void)
{
	struct mm_region unsorted[] = { R(MR_USABLE, 3 * MiB, MiB), R(MR_USABLE, MiB, MiB) };
	struct mm_region overlap[] = { R(MR_USABLE, MiB, 2 * MiB), R(MR_RESERVED, 2 * MiB, MiB) };
	struct mm_region misaligned[] = { R(MR_USABLE, MiB + 0x800, MiB) };
	struct mm_region page0[] = { R(MR_USABLE, 0, 2 * MiB) };
	struct mm_region low[] = { R(MR_USABLE, PG, 636 * KiB) };
	struct pmm p;

	CHECK(pmm_init(&p, unsorted, 2) == MM_EINVAL, "unsorted");
	CHECK(pmm_init(&p, overlap, 2) == MM_EINVAL, "overlap");
	CHECK(pmm_init(&p, misaligned, 1) == MM_EINVAL, "misaligned");
	CHECK(pmm_init(&p, page0, 1) == MM_EINVAL, "page 0");
	CHECK(pmm_init(&p, low, 1) == MM_ENOMEM, "nothing above 1M");
}

/*
 *   1M                                 1M + 64M
 *   |MM xxxxxxxxxxxxxxxxxxxxxxxxxxx . xx|    (one free frame far away)
 * Expect: with every frame but one allocated, the hint at the start and the
 * free frame near the end, pmm_alloc still finds it (summary levels).  The
 * frees and allocations that matter run on a CPU without a cache, so they
 * go to the bitmap (on a CPU with one, the freed frame would just come back
 * from its cache).
 */
static void test_nearly_full(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, 64 * MiB) };
	struct pmm p;
	uint64_t pa, n = 0;

	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	while (pmm_alloc(&p, &pa) == MM_OK)
		n++;
	/* Metadata: 16640 frames = 260 bitmap words + 5 summary words + 1
	 * summary2 word + 1 free-block word + 260 tag words = 4216 bytes,
	 * rounded to a cache line: 4224; where[], 2 bytes a frame: 33280,
	 * so 37504; then one CPU cache per 1024 frames of the 16384: 16 x 576
	 * bytes = 9216; 46720 bytes = 12 pages. */
	CHECK(p.ncpus == 16, "caches %u", p.ncpus);
	CHECK(n == 64 * MiB / PG - 12, "allocated %llu", (unsigned long long)n);
	host_set_cpu(MM_MAX_CPUS - 1);
	uint64_t far = MiB + 60 * MiB + 17 * PG;
	REQUIRE_OK(pmm_free(&p, far), "free far frame");
	p.hint = 0;
	CHECK(pmm_alloc(&p, &pa) == MM_OK && pa == far, "found %#llx", (unsigned long long)pa);
	REQUIRE_OK(pmm_free(&p, MiB + 16 * PG), "free near frame");
	p.hint = p.nwords - 1;              /* wrap around from the end */
	CHECK(pmm_alloc(&p, &pa) == MM_OK && pa == MiB + 16 * PG, "wrapped to %#llx",
	      (unsigned long long)pa);
	host_set_cpu(0);
	CHECK(pmm_check(&p) == MM_OK, "check");
}

/*
 *   1M           4G                    1T
 *   |UUUU (3G)...|UUUUUUUUUUUUUUUUUUUUU|
 * Expect: a 1 TiB map (what `make run MEM=1T` gives) initialises with 32 MiB
 * of bitmap from the first region, counts every frame, has a cache for
 * every CPU, and hands out frames at the very top.  (The sanitiser's 16 TiB case is in test_memmap.c;
 * here 16 TiB would only cost 512 MiB of host memory and time.)
 */
static void test_1_tib(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, 3 * GiB - MiB),
				   R(MR_USABLE, 4 * GiB, TiB - 4 * GiB) };
	struct pmm p;
	uint64_t pa;

	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	CHECK(p.total == (3 * GiB - MiB + TiB - 4 * GiB) / PG, "total %llu",
	      (unsigned long long)p.total);
	CHECK(p.meta_pa == MiB && p.meta_size >= 32 * MiB, "meta %#llx+%#llx",
	      (unsigned long long)p.meta_pa, (unsigned long long)p.meta_size);
	CHECK(p.ncpus == MM_MAX_CPUS, "caches %u", p.ncpus);
	p.chint = TiB / PG - 64;            /* bitmap search, no cache */
	CHECK(pmm_alloc_contig(&p, 2, 2 * PG, &pa) == MM_OK && pa == TiB - 64 * PG, "top %#llx",
	      (unsigned long long)pa);
	CHECK(pmm_free_contig(&p, pa, 2) == MM_OK, "free top");
	CHECK(pmm_check(&p) == MM_OK, "check");
}

/*
 *   1M   1M+8K                         1M + 16M
 *   |MMMM|a b c ...........................|     a tagged; b, c not
 * Expect: tags go only on allocated, non-metadata, aligned frames, once;
 * untag only on tagged ones; pmm_free and a pmm_free_contig that covers a
 * tagged frame are refused with the metadata byte-identical; after untag
 * the frame frees normally.
 */
static void test_tags_misuse(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, 16 * MiB) };
	struct pmm p;
	uint64_t a, b, freepa;
	static uint8_t meta[PG * 4];

	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	REQUIRE(p.meta_size <= sizeof(meta), "meta %llu", (unsigned long long)p.meta_size);
	REQUIRE_OK(pmm_alloc_contig(&p, 3, PG, &a), "three frames");
	b = a + PG;
	REQUIRE_OK(pmm_alloc(&p, &freepa), "one more");
	REQUIRE_OK(pmm_free(&p, freepa), "and free it again");
	CHECK(pmm_tag(&p, freepa) == MM_ENOENT, "tag of a free frame");
	CHECK(pmm_tag(&p, p.meta_pa) == MM_ENOENT, "tag of the metadata");
	CHECK(pmm_tag(&p, a + 8) == MM_ENOENT, "tag of an unaligned address");
	CHECK(pmm_tag(&p, 0xfff000000ULL) == MM_ENOENT, "tag beyond RAM");
	CHECK(pmm_untag(&p, a) == MM_ENOENT, "untag of an untagged frame");
	REQUIRE_OK(pmm_tag(&p, a), "tag a");
	CHECK(pmm_tag(&p, a) == MM_EBUSY, "tag twice");
	CHECK(pmm_is_tagged(&p, a) && !pmm_is_tagged(&p, b), "is_tagged");
	memcpy(meta, p.bitmap, p.meta_size);
	uint64_t free_before = pmm_free_frames(&p);
	host_capture_begin();
	int r1 = pmm_free(&p, a), r2 = pmm_free_contig(&p, a, 3), r3 = pmm_free_contig(&p, b - PG, 2);
	const char *out = host_capture_end();
	CHECK(r1 == MM_EBUSY && r2 == MM_EBUSY && r3 == MM_EBUSY, "%d %d %d", r1, r2, r3);
	CHECK(strstr(out, "tagged"), "report: %s", out);
	CHECK(!memcmp(meta, p.bitmap, p.meta_size) && pmm_free_frames(&p) == free_before,
	      "a refused free changed the metadata");
	REQUIRE_OK(pmm_untag(&p, a), "untag");
	CHECK(pmm_untag(&p, a) == MM_ENOENT, "untag twice");
	CHECK(pmm_free_contig(&p, a, 3) == MM_OK, "free after untag");
	CHECK(pmm_check(&p) == MM_OK, "pmm_check");
}

/* Brute force: the first frame >= from, a multiple of a, with [f, f + n)
 * all free (not allocated, RAM), or UINT64_MAX. */
static uint64_t brute_fit(const struct pmm *p, uint64_t from, uint64_t n, uint64_t a)
{
	for (uint64_t f = (from + a - 1) / a * a; f + n <= p->nframes; f += a) {
		uint64_t i = 0;
		while (i < n && pmm_is_ram(p, (f + i) * PG) && !pmm_is_allocated(p, (f + i) * PG))
			i++;
		if (i == n)
			return f;
	}
	return UINT64_MAX;
}

/*
 *   1M               64M+300K
 *   |M.x...x...x...x.|          one used frame in every 2 MiB block
 * Expect: no 512-frame run aligned to 2 MiB (ENOMEM, nothing changes)
 * though nearly everything is free; 500 unaligned frames fit; freeing one
 * block's frame makes exactly that block the answer; a 700-frame request
 * (a block plus a tail of 188) fits only where the next block's first 188
 * frames are free too, and never runs past the end of RAM.
 */
static void test_contig_blocks(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, 63 * MiB + 300 * KiB) };
	struct pmm p;
	uint64_t pa, used[32], n = 0, free0;

	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	for (uint64_t b = 1; b < 32; b++) {      /* frame 100 of every block */
		p.chint = b * 512 + 100;
		REQUIRE_OK(pmm_alloc_contig(&p, 1, 2 * PG, &pa), "alloc one (not via a cache)");
		REQUIRE(pa == (b * 512 + 100) * PG, "pa %#llx", (unsigned long long)pa);
		used[n++] = pa;
	}
	free0 = pmm_free_frames(&p);
	CHECK(pmm_alloc_contig(&p, 512, 2 * MiB, &pa) == MM_ENOMEM, "no aligned block");
	CHECK(pmm_alloc_contig(&p, 1024, 2 * MiB, &pa) == MM_ENOMEM, "no two blocks");
	CHECK(pmm_free_frames(&p) == free0 && pmm_check(&p) == MM_OK, "nothing changed");
	/* control: 500 frames at 4 KiB alignment fit between two used frames
	 * (511 free from frame 101 of a block), through the frame search */
	REQUIRE_OK(pmm_alloc_contig(&p, 500, PG, &pa), "500 frames fit");
	CHECK(pa / PG % 512 == 101, "at frame 101 of a block: %#llx", (unsigned long long)pa);
	REQUIRE_OK(pmm_free_contig(&p, pa, 500), "free 500");

	REQUIRE_OK(pmm_free(&p, used[9]), "free block 10's frame");   /* into a cache */
	REQUIRE(pmm_drain_all(&p) == 1, "drain");
	p.chint = 0;
	REQUIRE_OK(pmm_alloc_contig(&p, 512, 2 * MiB, &pa), "block 10 now fits");
	CHECK(pa == 10 * 2 * MiB, "pa %#llx want block 10", (unsigned long long)pa);
	CHECK(pmm_alloc_contig(&p, 700, 2 * MiB, &pa) == MM_ENOMEM, "no tail room anywhere");
	REQUIRE_OK(pmm_free_contig(&p, 10 * 2 * MiB, 512), "free block 10");
	REQUIRE_OK(pmm_free(&p, used[10]), "free block 11's frame");
	pmm_drain_all(&p);
	p.chint = 0;
	uint64_t want = brute_fit(&p, 0, 700, 512);
	REQUIRE_OK(pmm_alloc_contig(&p, 700, 2 * MiB, &pa), "700 frames");
	CHECK(pa / PG == want && want == 10 * 512, "pa %#llx want frame %#llx",
	      (unsigned long long)pa, (unsigned long long)want);
	CHECK(pmm_check(&p) == MM_OK, "check");
}

/*
 *   1M                         65M (the last, partial block: 44 frames)
 *   |M........................|..|
 * Expect: block-aligned requests against a brute-force first fit from the
 * next-fit hint, at every size from one block to all of RAM and over;
 * after a round of frees everything is back.
 */
static void test_contig_blocks_model(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, 64 * MiB + 44 * PG) };
	struct pmm p;
	uint64_t pa, got[64], ng = 0, free0;
	static const uint64_t sizes[][2] = {   /* frames, alignment in frames */
		{ 512, 512 }, { 513, 512 }, { 1000, 1024 }, { 2048, 2048 }, { 1536, 512 },
		{ 4096, 512 }, { 8192, 8192 }, { 700, 4096 }, { 16384 + 40, 512 },
	};

	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	free0 = pmm_free_frames(&p);
	for (int round = 0; round < 200; round++) {
		const uint64_t *sz = sizes[round % N(sizes)];
		uint64_t from = p.chint, want = brute_fit(&p, from, sz[0], sz[1]);
		if (want == UINT64_MAX)
			want = brute_fit(&p, 0, sz[0], sz[1]);
		int st = pmm_alloc_contig(&p, sz[0], sz[1] * PG, &pa);
		if (want == UINT64_MAX) {
			CHECK(st == MM_ENOMEM, "round %d: %s with no fit", round, mm_status_str(st));
		} else {
			REQUIRE(st == MM_OK && pa / PG == want, "round %d: %llu/%llu gave %s %#llx want %#llx",
				round, (unsigned long long)sz[0], (unsigned long long)sz[1],
				mm_status_str(st), (unsigned long long)pa, (unsigned long long)(want * PG));
			got[ng++] = pa;
		}
		if (ng == 16 || round % 37 == 36) {  /* give back every other one */
			for (uint64_t i = 0; i < ng; i += 2)
				REQUIRE_OK(pmm_free_contig(&p, got[i], 512), "free one block of it");
			ng = 0;
		}
		REQUIRE_OK(pmm_check(&p), "round %d: check", round);
	}
	CHECK(pmm_alloc_contig(&p, p.total + 1, 2 * MiB, &pa) == MM_ENOMEM, "more than RAM");
	CHECK(pmm_free_frames(&p) < free0, "some still held");
}

/*
 *   1M                 9M
 *   |M.................|     8 MiB, 2048 frames
 * Expect: pmm_alloc_bulk hands out n distinct free frames, allocated and
 * counted, not through the caches; pmm_free_bulk (in any order) gives them
 * all back.  Misuse changes nothing: n 0 or a NULL array (MM_EINVAL),
 * more frames than are free (MM_ENOMEM), and for pmm_free_bulk a frame
 * listed twice, a free frame, a cached frame, a tagged frame, the
 * allocator's metadata, a hole, a misaligned address - each refused with
 * a report naming it, the entries before it taken back.
 */
static void test_bulk(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, 8 * MiB), R(MR_RESERVED, 9 * MiB, MiB),
				   R(MR_USABLE, 10 * MiB, MiB) };
	struct pmm p;
	static uint64_t pa[4096];
	uint64_t free0, n, one;
	const char *txt;

	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	free0 = pmm_free_frames(&p);
	n = 1000;
	REQUIRE_OK(pmm_alloc_bulk(&p, n, pa), "bulk 1000");
	CHECK(pmm_free_frames(&p) == free0 - n && pmm_cached_frames(&p) == 0, "counted, no cache");
	for (uint64_t i = 0; i < n; i++) {
		CHECK(pmm_is_allocated(&p, pa[i]) && pa[i] % PG == 0, "entry %llu %#llx",
		      (unsigned long long)i, (unsigned long long)pa[i]);
		if (i > 0)
			CHECK(pa[i] > pa[i - 1], "ascending, distinct: %llu", (unsigned long long)i);
	}
	CHECK(pmm_check(&p) == MM_OK, "check after alloc");
	for (uint64_t i = 0; i < n / 2; i++) {   /* free in a shuffled order */
		uint64_t t = pa[i];
		pa[i] = pa[n - 1 - i];
		pa[n - 1 - i] = t;
	}
	REQUIRE_OK(pmm_free_bulk(&p, n, pa), "bulk free");
	CHECK(pmm_free_frames(&p) == free0 && pmm_check(&p) == MM_OK, "all back");

	/* Allocation misuse. */
	CHECK(pmm_alloc_bulk(&p, 0, pa) == MM_EINVAL, "n 0");
	CHECK(pmm_alloc_bulk(&p, 1, NULL) == MM_EINVAL, "NULL");
	CHECK(pmm_alloc_bulk(&p, free0 + 1, pa) == MM_ENOMEM, "one more than free");
	CHECK(pmm_alloc_bulk(&p, UINT64_MAX, pa) == MM_ENOMEM, "huge n");
	CHECK(pmm_free_frames(&p) == free0 && pmm_check(&p) == MM_OK, "refusals changed nothing");
	/* cached frames are free: a bulk allocation of everything gets them */
	REQUIRE_OK(pmm_alloc(&p, &one), "alloc one");
	REQUIRE_OK(pmm_free(&p, one), "free it into the cache");
	REQUIRE(pmm_cached_frames(&p) > 0, "cache holds frames");
	REQUIRE_OK(pmm_alloc_bulk(&p, free0, pa), "every free frame, cached ones too");
	CHECK(pmm_free_frames(&p) == 0 && pmm_check(&p) == MM_OK, "empty");
	REQUIRE_OK(pmm_free_bulk(&p, free0, pa), "all back");
	CHECK(pmm_free_frames(&p) == free0, "back to %llu", (unsigned long long)free0);

	/* Free misuse: 8 good entries, then one bad one at entry 8. */
	REQUIRE_OK(pmm_alloc_bulk(&p, 16, pa), "16");
	REQUIRE_OK(pmm_free(&p, pa[12]), "frame 12 freed (cached)");
	REQUIRE_OK(pmm_tag(&p, pa[13]), "frame 13 tagged");
	uint64_t bad[][2] = {             /* the bad entry, the status */
		{ pa[3], MM_ENOENT },          /* listed twice */
		{ pa[12], MM_ENOENT },         /* cached (freed already) */
		{ pa[13], MM_EBUSY },          /* tagged */
		{ pa[15] + 1, MM_EINVAL },     /* misaligned */
		{ p.meta_pa, MM_ERANGE },      /* the allocator's metadata */
		{ 9 * MiB + PG, MM_ERANGE },   /* the reserved hole */
		{ 64 * GiB, MM_ERANGE },       /* beyond RAM */
		{ 0, MM_ERANGE },              /* page 0 */
	};
	uint64_t list[9];
	memcpy(list, pa, 8 * sizeof(uint64_t));
	free0 = pmm_free_frames(&p);
	for (size_t k = 0; k < N(bad); k++) {
		list[8] = bad[k][0];
		host_capture_begin();
		int st = pmm_free_bulk(&p, 9, list);
		txt = host_capture_end();
		char want[32];
		snprintf(want, sizeof(want), "0x%llx", (unsigned long long)(bad[k][0] & ~(PG - 1)));
		CHECK(st == (int)bad[k][1], "bad %zu: %s want %s", k, mm_status_str(st),
		      mm_status_str((int)bad[k][1]));
		CHECK(strstr(txt, "pmm_free_bulk") && strstr(txt, "entry 8 of 9") &&
		      (bad[k][1] == MM_EINVAL || strstr(txt, want)), "bad %zu: message %s", k, txt);
		CHECK(pmm_free_frames(&p) == free0, "bad %zu: count changed", k);
		for (int i = 0; i < 8; i++)
			CHECK(pmm_is_allocated(&p, list[i]), "bad %zu: entry %d freed", k, i);
		CHECK(pmm_check(&p) == MM_OK, "bad %zu: check", k);
	}
	/* a free frame listed first: refused at entry 0 */
	list[0] = pa[12];
	host_capture_begin();
	CHECK(pmm_free_bulk(&p, 1, list) == MM_ENOENT, "cached frame alone");
	CHECK(pmm_free_bulk(&p, 0, list) == MM_EINVAL, "n 0");
	CHECK(pmm_free_bulk(&p, 3, NULL) == MM_EINVAL, "NULL");
	txt = host_capture_end();
	CHECK(strstr(txt, "bad argument"), "message %s", txt);
	CHECK(pmm_free_frames(&p) == free0 && pmm_check(&p) == MM_OK, "nothing changed");
	/* control: the 8 good entries alone go */
	REQUIRE_OK(pmm_untag(&p, pa[13]), "untag");
	memcpy(list, pa, 8 * sizeof(uint64_t));
	REQUIRE_OK(pmm_free_bulk(&p, 8, list), "the good eight");
	CHECK(pmm_free_frames(&p) == free0 + 8 && pmm_check(&p) == MM_OK, "eight freed");
}

/*
 * Expect: pmm_check notices a free-block bit that disagrees with the
 * bitmap either way, and a set padding bit of summary2 (controls: the
 * untouched allocator passes).
 */
static void test_check_blocks(void)
{
	struct mm_region map[] = { R(MR_USABLE, MiB, 16 * MiB) };
	struct pmm p;
	uint64_t pa;
	const char *txt;

	REQUIRE_OK(pmm_init(&p, map, N(map)), "init");
	REQUIRE_OK(pmm_alloc_contig(&p, 512, 2 * MiB, &pa), "a block");
	REQUIRE_OK(pmm_check(&p), "clean");
	uint64_t b = pa / PG / 512;
	host_capture_begin();
	p.blocks[b / 64] ^= 1ULL << (b % 64);        /* says free, is used */
	CHECK(pmm_check(&p) == MM_EINVAL, "used block marked free");
	p.blocks[b / 64] ^= 1ULL << (b % 64);
	p.blocks[(b + 1) / 64] ^= 1ULL << ((b + 1) % 64);   /* says used, is free */
	CHECK(pmm_check(&p) == MM_EINVAL, "free block marked used");
	p.blocks[(b + 1) / 64] ^= 1ULL << ((b + 1) % 64);
	p.summary2[0] |= 1ULL << 63;
	CHECK(pmm_check(&p) == MM_EINVAL, "summary2 padding");
	p.summary2[0] &= ~(1ULL << 63);
	txt = host_capture_end();
	CHECK(strstr(txt, "free-block bit") && strstr(txt, "padding"), "messages %s", txt);
	CHECK(pmm_check(&p) == MM_OK, "restored");
}

int main(void)
{
	RUN(test_init_totals);
	RUN(test_bitmap_ends_at_top_of_ram);
	RUN(test_alloc_all);
	RUN(test_contig_aligned);
	RUN(test_bad_frees);
	RUN(test_free_contig_all_or_nothing);
	RUN(test_init_boot_takeover);
	RUN(test_init_rejects);
	RUN(test_nearly_full);
	RUN(test_1_tib);
	RUN(test_tags_misuse);
	RUN(test_contig_blocks);
	RUN(test_contig_blocks_model);
	RUN(test_bulk);
	RUN(test_check_blocks);
	return harness_done("pmm");
}
