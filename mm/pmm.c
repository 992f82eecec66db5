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
 * 4. Next fit: hint is the bitmap word of the last single-frame allocation
 *    (of a CPU without a cache; each cache's refills have their own hint,
 *    see pcp_open); the next search starts there and wraps around once.  chint does the
 *    same for contiguous requests (a frame number).  Hints only change
 *    where a search starts, never what it can find.
 *
 * 5. Contiguous allocation of n frames aligned to a frames: take the next
 *    free frame at or after pos (summary levels), round it up to a, scan the
 *    n frames for a used one (whole words at a time); if one is found at u,
 *    continue from u + 1.  Every frame is scanned O(1) times per search.
 *    A request of at least a block aligned to at least a block searches the
 *    free-block map instead (13).
 *
 * 6. Frees are checked before anything changes: the frame must lie in a
 *    usable region (map lookup, cached in a per-CPU ram_hint), must not be
 *    the allocator's own metadata, must be allocated (not free, not cached)
 *    and not tagged.  A bad free is printed
 *    with its address and returns an error; the bitmap is left untouched.
 *    A multi-frame free checks every frame first (all or nothing).
 *
 * 7. Invariants (pmm_check verifies them): bitmap_free == number of clear
 *    bits; summary and summary2 exactly reflect the level below; every
 *    frame outside the usable regions and every padding bit is set; a
 *    tagged frame is allocated and its where[] entry is WHERE_TAGGED; a
 *    cached frame is RAM, used in the bitmap, untagged, and its where[]
 *    entry names its slot (10); a block's bit in `blocks` is set iff its 8
 *    bitmap words are all 0 (13).
 *
 * 8. Tags: a second bitmap, one bit per frame, that an owner sets on the
 *    frames it hands out itself (kalloc's direct-map pages).  pmm_free
 *    refuses a tagged frame, and the owner frees only frames it tagged,
 *    so a stale or cross-API free is caught even after the frame went to
 *    someone else.  Cost: one more bit per frame (32 MiB per TiB of RAM,
 *    as much as the bitmap itself).  pmm_tag also writes WHERE_TAGGED into
 *    the frame's where[] entry (10), which nothing else overwrites while
 *    the tag is set: the free fast path sees a tag there without reading
 *    the tags.
 *
 * 9. Per-CPU caches (Linux's per-CPU pagesets, Bonwick's magazines).  A
 *    CPU with a number below ncpus has a cache: a stack of up to
 *    PMM_PCP_HIGH frame numbers in the metadata (struct pmm_pcp).  pmm_alloc
 *    pops from it and pmm_free pushes onto it without the lock; an empty
 *    cache is refilled with PMM_PCP_BATCH frames from the bitmap and a full
 *    one drains its PMM_PCP_BATCH oldest frames to the bitmap, under the
 *    lock (constants justified in mm/pmm.h).  A cached frame stays "used" in
 *    the bitmap (searches and contiguous requests never see it).  A frame
 *    is thus in exactly one of four states:
 *        free       bitmap 0  in no cache  tag 0
 *        cached     bitmap 1  in one slot  tag 0
 *        allocated  bitmap 1  in no cache  tag 0 or 1 (tagged)
 *    and frames outside RAM, the metadata, are bitmap 1 for ever.
 *    CPUs without a cache (numbers >= ncpus, see PMM_PCP_RAM_FRAMES) and
 *    contiguous or aligned requests go to the bitmap under the lock.
 *
 * 10. A cache is its owner's alone.  Only the owner CPU, with interrupts
 *    off, writes its cache's count and slots (or, under the lock, any CPU
 *    when nobody runs as the owner: mm_cpu_running).  So the fast paths need
 *    no atomic read-modify-write and no lock: plain loads and stores on the
 *    CPU's own cache and the frame's metadata (a locked instruction costs
 *    about 20 cycles, more than the whole pop).  Two things follow:
 *      - "is frame f cached?" (a double free, pmm_is_allocated) is where[f],
 *        a 16-bit entry per frame that is never initialised (the sparse-set
 *        trick, Briggs & Torczon 1993): f is cached iff where[f] = cpu *
 *        PMM_PCP_HIGH + i with cpu < ncpus, i below that cache's count and
 *        slot i holding f.  Garbage names no live slot holding f, so there
 *        is no memset at init; the cost is 2 bytes a frame (512 MiB per
 *        TiB, 1/2048 of RAM: eight times the bitmap; Linux spends 64 bytes a
 *        frame on struct page).  The owner writes where[f] when it pushes f
 *        and when a drain moves it down; a pop writes nothing (the slot
 *        leaves [0, count)).  The free fast path compares where[f] with its
 *        own slots first (a frame usually comes back to the cache it left);
 *        an entry naming another cache is checked out of line.  Other CPUs
 *        read where[], counts and slots without the lock, and a frame
 *        moves between a cache and the bitmap under their feet, so the
 *        order of stores and loads is what keeps a free frame from ever
 *        reading "used in the bitmap, in no cache" (allocated): a refill
 *        pushes a frame before it sets its bit (release); a drain clears
 *        the bits first and uncaches after (the kept frames moved down
 *        first, the count lowered last, release); a reader reads the bit,
 *        then the cache (where[] again around the count and slot, so a
 *        move is seen), then the bit again (pmm_is_allocated; the free
 *        fast path when where[] names another cache - a frame that names
 *        this CPU's cache can only be moved by this CPU).  A reader held
 *        up long enough can still see a frame leave a cache and come back
 *        (a drain, then a refill, of the same frame) between two of its
 *        loads, so drains and refills also keep a seqcount, `moves`
 *        (odd while one runs, written under the lock), and those readers
 *        trust their loads only if it read the same, even, around them
 *        (frame_allocated: pmm_is_allocated waits, the free fast path
 *        takes the slow path).  Two frees of
 *        one frame on two CPUs at the same instant may both be accepted
 *        (not caught; pmm_check then finds it in two slots), as any free
 *        racing a free of the same frame is a caller's race no check can
 *        order; a double free of a frame cached or free before the second
 *        free starts is always caught, whatever drains and refills run
 *        meanwhile (test_race_* in tests/host/test_pmm_pcp.c).
 *      - stealing is asking.  A CPU that needs the cached frames (its
 *        refill finds the bitmap empty, a bulk request finds too few, a
 *        contiguous search fails, pmm_drain_all) drops the lock and runs
 *        ask_all: a cache nobody runs it drains itself under the lock; a
 *        running CPU gets a ticket in `req` (atomic add), its `limit` set to
 *        0 (both fast paths then fail their one compare and take the slow
 *        path), a pointer to the allocator in asking[cpu], and a kick
 *        (kernel: the shootdown IPI).  The asker waits until `done` reaches
 *        its ticket, the cache reads empty, or the owner stops running,
 *        answering its own requests meanwhile and posting again every
 *        ASK_KICK_SPINS.  The owner answers (pcp_serve: its whole cache to
 *        the bitmap under the lock, `done` published with release, `limit`
 *        restored and req read again behind a fence, so a request posted
 *        meanwhile is never lost; a limit an asker's repost zeroed after
 *        the answer is restored the same way at the owner's next slow
 *        path) in its slow paths and in every wait:
 *        mm_lock's spin, the kernel's shootdown wait and IPI handler and
 *        the asker's own loop call mm_wait_hook = pmm_serve_pending (a
 *        trylock: never blocks).  So two CPUs asking each other both
 *        progress, and an asker never waits on a CPU spinning for a lock
 *        it holds.  MM_ENOMEM means no frame was free in the bitmap after
 *        every cache was drained or answered.  The contract this needs
 *        (mm/platform.h): a running CPU enters the allocator, waits in one
 *        of those loops or takes the kick within bounded time; an asker
 *        that waits ASK_GIVEUP_SPINS for one CPU reports it and goes on
 *        without its frames.
 *
 * 11. Counting.  Cached frames are free frames: pmm_free_frames (and the
 *    `pmm:` line, pmm_totals) is bitmap_free plus the caches' counts
 *    (relaxed loads: exact when no CPU is inside the allocator, a snapshot
 *    otherwise).
 *
 * 12. Locking.  One lock per allocator, `lock` (mm/lock.h), protects the
 *    bitmap's contents, the summary levels, the free-block map, hint,
 *    chint, ram_hint and bitmap_free; functions that need it assert it
 *    (MM_LOCK_ASSERT_HELD).  It is the innermost lock of mm/: callers
 *    (vaddr, paging, kalloc) may hold theirs when they call in, the
 *    allocator takes no other lock while it holds it, and ask_all waits
 *    without it.  Interrupts are off while it is held (mm_lock) and on the
 *    fast paths (mm_irq_save), so an interrupt handler on this CPU never
 *    finds its CPU's cache half updated, and the CPU number read at entry
 *    stays the CPU's.  A cache's count, slots, done and where[] entries of
 *    its frames are written only by its owner (or under the lock by a CPU
 *    draining a cache nobody runs); req and limit also by askers (atomic).
 *    Without the lock: the tag bits (atomic read-modify-write, several
 *    CPUs share a word), where[] (relaxed), lock-free readers of the bitmap
 *    (relaxed loads; writers hold the lock and store atomically); reads of
 *    bitmap_free and the counts are relaxed: a snapshot.  No recursion;
 *    ask_all keeps a ticket per CPU on the stack (1 KiB).
 *
 * 13. Free-block map: one bit per block of PMM_BLOCK_FRAMES = 512 frames
 *    (2 MiB, 8 bitmap words, one cache line of the bitmap), set iff all its
 *    frames are free; a last block of fewer than 8 words has no bit.  A
 *    request of n >= 512 frames aligned to a >= 512 frames starts on a
 *    block boundary, so it fits at block b iff b is a multiple of a / 512,
 *    the n / 512 blocks from b are free and the n % 512 frames after them
 *    are: the search walks the map (1/512 of the bitmap: 128 words for 16
 *    GiB, 8 Ki for 1 TiB) with the frame search's next-fit loop and skips
 *    every partly used block in one bit.  A partly free block costs the
 *    search nothing, which is what makes "nearly empty, nothing fits"
 *    cheap.  Upkeep: a word turning non-zero clears its block's bit (O(1));
 *    a word turning 0 reads its block's line to see whether the block
 *    became free.
 *
 * 14. Runs at memory speed.  set_frames writes the whole words of a run
 *    with memset and the matching summary and block bits as bit ranges
 *    (partial words at the ends one by one), then fixes summary2 for the
 *    summary words it touched; check_free ORs the bitmap and tag words of
 *    a run together (and reads a where[] entry per frame: 2 bytes) and only
 *    walks it frame by frame to report a refusal; pmm_init writes the bitmap, summary and free-block map
 *    straight from the map's regions (whole words by memset, the words at
 *    region edges from the bitmap) and derives summary2 from the summary
 *    (1/64 of the bitmap).  So init and the long runs of the kernel's OOM
 *    storm cost about a memset of the metadata.
 *
 * 15. Bulk single frames (pmm_alloc_bulk, pmm_free_bulk): n frames under
 *    one lock acquisition, straight from and to the bitmap.  The allocation
 *    takes every free frame of each word the summary finds, in address
 *    order from hint (next fit), so at 99.9% full it reads the bitmap once,
 *    forwards, instead of a refill's scattered walk through three bitmaps.
 *    The free checks each entry as pmm_free does just before clearing its
 *    bit (one visit to its words), so a frame listed twice is refused as
 *    "not allocated" at its second entry; a refusal puts back the entries
 *    already cleared (all or nothing).
 *
 * 16. NUMA nodes (pmm_set_numa).  The allocator keeps each node's frame
 *    ranges (sorted), each CPU's node and, per node, the other nodes in
 *    order of distance (nearest first, ties by number).  A refill of a CPU's
 *    cache (alloc_slow, pcp_refill) takes frames with numa_take: from its
 *    own node's ranges, starting at the cache's hint when that lies in one
 *    of them (pcp_open and pmm_set_numa put it cpu/ncpus of the way
 *    through the node's first range, as theory 4 spreads CPUs over the
 *    bitmap), then from the next node in its order, and only when every
 *    node is empty from anywhere (bitmap_take: RAM outside every node).
 *    A refill takes its whole batch from where its first frame came from
 *    (same_take): a cache is a stack, and a batch that ran on into the next
 *    node would hand out that node's frames before the home node's last.
 *    The search of a range is the usual summary search stopped at the
 *    range's last word; a node it finds without a free frame is marked
 *    empty, and stays skipped until a frame of it goes back to the bitmap
 *    (bitmap_give, pmm_free_contig: a binary search of the sorted ranges
 *    clears the mark), so a full node costs one walk, not one per refill.  The fast paths never look at nodes (no
 *    cost there); contiguous and bulk requests ignore them (any node).  A
 *    free goes to the freeing CPU's cache whatever its node, as in Linux:
 *    frames drift back to their node through drains.  Per-node counts
 *    (pmm_node_frames) are not kept: they are counted when asked, a block
 *    of the free-block map at a time (13), so the fast paths pay nothing.
 *    The node table is written under the lock and read under it.
 */
#include "lib/bitops.h"
#include "lib/prefetch.h"
#include "lib/range.h"
#include "mm/pmm.h"
#include "mm/bootalloc.h"
#include "lib/string.h"
#include "mm/lock.h"
#include "mm/platform.h"
#include "mm/status.h"
#include "mm/x86_64.h"

#define NONE       UINT64_MAX /* "no frame / no word" from the search helpers */
#define CACHE_LINE 64         /* x86: per-CPU caches start on their own line */

/* One CPU's cache (theory 9-12).  The header fills one cache line so that
 * the owner's fast path touches one line of its own before the slots. */
struct pmm_pcp {
	uint32_t count;       /* slots [0, count) are the cache's */
	uint32_t limit;       /* what the fast paths may fill up to: 0 until
				 the owner's first slow path (pcp_open), then
				 PMM_PCP_HIGH; an asker sets it to 0, which
				 sends both fast paths to the slow path, and
				 the owner's answer restores it (theory 10) */
	uint32_t req;         /* drain requests posted (askers: atomic add) */
	uint32_t done;        /* req as of the owner's last answer (release) */
	uint64_t ram_lo;      /* frames [ram_lo, ram_lo + ram_len): usable RAM */
	uint64_t ram_len;     /* without metadata, around the owner's last slow
				 free; the fast path frees there unchecked */
	uint64_t ram_hint;    /* map index of that region */
	uint64_t hint;        /* next-fit word of the owner's refills (lock) */
	uint32_t opened;      /* 1 after the owner's first slow path */
	uint32_t pad[3];
	uint64_t slot[PMM_PCP_HIGH];   /* frame numbers, oldest first; 0 = emptied */
};

_Static_assert(sizeof(struct pmm_pcp) == CACHE_LINE + 8 * PMM_PCP_HIGH, "pmm_pcp header is one line");

/* Relaxed atomic access: plain moves on x86, but a race-free read of a word
 * another CPU writes (and ThreadSanitizer knows it). */
#define LOAD(x)     __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/* where[] entries (theory 10): cpu * PMM_PCP_HIGH + slot. */
_Static_assert((uint64_t)MM_MAX_CPUS * PMM_PCP_HIGH <= UINT16_MAX + 1ULL,
	       "a where[] entry names any slot of any cache");

/* where[] entries that name no slot (cpu >= MM_MAX_CPUS): a tagged frame's
 * (pmm_tag writes it and nothing else overwrites it while the tag is set,
 * so the free fast path need not read the tags), and an untagged one's. */
#define WHERE_TAGGED 0xffffu
#define WHERE_NONE   0xfffeu
_Static_assert(WHERE_NONE / PMM_PCP_HIGH >= MM_MAX_CPUS, "the sentinels name no cache");

static inline uint16_t where_of(unsigned cpu, uint32_t i)
{
	return (uint16_t)(cpu * PMM_PCP_HIGH + i);
}

/* 1 if frame f (< nframes) is in a CPU cache (theory 10): where[f] names a
 * live slot of a cache (below its count) and that slot holds f.  where[]
 * is never initialised: garbage names no live slot holding f.  Without the
 * lock the owner may be moving f down its cache meanwhile (pcp_drain):
 * an answer "no" stands only if where[f] read the same before and after
 * the count and the slot (a move changes it, and f stays cached, at one
 * of the two slots, throughout).  The count and slot loads are acquire:
 * a caller that reads the frame's bitmap bit after a "no" sees a drain
 * that gave it back (pcp_drain, pcp_drain_all store them release). */
static inline int frame_cached(const struct pmm *p, uint64_t f)
{
	uint32_t w = LOAD(p->where[f]);

	for (;;) {
		uint32_t cpu = w / PMM_PCP_HIGH, i = w % PMM_PCP_HIGH;
		if (cpu >= p->ncpus)
			return 0;
		const struct pmm_pcp *c = &p->pcp[cpu];
		if (i < __atomic_load_n(&c->count, __ATOMIC_ACQUIRE) &&
		    __atomic_load_n(&c->slot[i], __ATOMIC_ACQUIRE) == f)
			return 1;
		uint32_t again = LOAD(p->where[f]);
		if (again == w)
			return 0;
		w = again;
	}
}

/* 1 if frame f's bitmap bit is set (a lock-free read). */
static inline int frame_used(const struct pmm *p, uint64_t f)
{
	return (int)(__atomic_load_n(&p->bitmap[bit_word(f)], __ATOMIC_ACQUIRE) >> bit_index(f) & 1);
}

/* A drain or refill (under the lock) starts or ends moving frames between
 * a cache and the bitmap: `moves` odd while it runs (a seqcount: the lock
 * makes the writer unique, so no atomic read-modify-write). */
static inline void moves_begin(struct pmm *p)
{
	STORE(p->moves, p->moves + 1);
	__atomic_thread_fence(__ATOMIC_RELEASE);        /* odd before the moves */
}

static inline void moves_end(struct pmm *p)
{
	__atomic_store_n(&p->moves, p->moves + 1, __ATOMIC_RELEASE);
}

/* 1 if frame f (< nframes) reads allocated without the lock: used in the
 * bitmap, in no cache, used again - all while no drain or refill ran
 * (moves even and unchanged around the reads); a frame moving between a
 * cache and the bitmap is free throughout and never reads allocated, even
 * when it moves both ways while the reader is held up (theory 10).  -1
 * instead of waiting (wait == 0) when a drain or refill ran meanwhile. */
static int frame_allocated(const struct pmm *p, uint64_t f, int wait)
{
	for (;;) {
		uint32_t s = __atomic_load_n(&p->moves, __ATOMIC_ACQUIRE);
		if (!(s & 1)) {
			int a = frame_used(p, f) && !frame_cached(p, f) && frame_used(p, f);
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			if (LOAD(p->moves) == s)
				return a;
		}
		if (!wait)
			return -1;
		mm_cpu_relax();
	}
}

/* The first frame of [f, end) (< nframes) that is in a CPU cache, or
 * NONE.  A short run reads a where[] entry per frame (and the slot it
 * names); a run longer than a cache and than all the caches' live slots
 * reads those slots instead (a live slot holds a cached frame): a
 * 512-frame free with one CPU's 32 frames cached reads 32 slots, not 512
 * entries. */
static uint64_t first_cached(const struct pmm *p, uint64_t f, uint64_t end)
{
	uint64_t first = NONE;

	if (end - f > PMM_PCP_HIGH && pmm_cached_frames(p) < end - f) {
		for (uint32_t cpu = 0; cpu < LOAD(p->cpus_seen); cpu++) {
			const struct pmm_pcp *c = &p->pcp[cpu];
			for (uint32_t i = 0, n = LOAD(c->count); i < n; i++) {
				uint64_t x = LOAD(c->slot[i]);
				if (x >= f && x < end && x < first)
					first = x;
			}
		}
		return first;
	}
	for (; f < end; f++)
		if (frame_cached(p, f))
			return f;
	return NONE;
}

/* Words of the bitmap in a free block (13). */
#define BLOCK_WORDS (PMM_BLOCK_FRAMES / BITS_PER_WORD)
_Static_assert(PMM_BLOCK_FRAMES % BITS_PER_WORD == 0, "a block is whole bitmap words");

/* Recomputes the free-block bit of the block holding bitmap word w: set
 * iff the block is whole (inside nwords) and its words are all 0. */
static void block_update(struct pmm *p, uint64_t w)
{
	uint64_t b = w / BLOCK_WORDS, w0 = b * BLOCK_WORDS, any = 0;

	if (b >= p->nblocks)
		return;
	for (uint64_t k = 0; k < BLOCK_WORDS; k++)
		any |= p->bitmap[w0 + k];
	if (any)
		bit_clear(p->blocks, b);
	else
		bit_set(p->blocks, b);
}

/* Bitmap word w went from old to new: keeps the free-block bit in step. */
static inline void block_note(struct pmm *p, uint64_t w, uint64_t old, uint64_t new)
{
	if (old == 0 && new != 0) {
		if (w / BLOCK_WORDS < p->nblocks)
			bit_clear(p->blocks, w / BLOCK_WORDS);
	} else if (new == 0 && old != 0) {
		block_update(p, w);
	}
}

/* fill_bits over more than one word. */
static void fill_bits_long(uint64_t *map, uint64_t lo, uint64_t hi, int v)
{
	if (bit_index(lo) != 0) {                        /* head word */
		uint64_t w = bit_word(lo), m = bit_mask_from(bit_index(lo));
		map[w] = v ? map[w] | m : map[w] & ~m;
		lo = bit_word_start(w + 1);
	}
	uint64_t w0 = bit_word(lo), w1 = bit_word(hi);
	if (w1 > w0)
		memset(&map[w0], v ? 0xff : 0, (w1 - w0) * sizeof(uint64_t));
	if (bit_index(hi)) {                             /* tail word */
		uint64_t m = bit_mask(0, bit_index(hi));
		map[w1] = v ? map[w1] | m : map[w1] & ~m;
	}
}

/* Sets (v = 1) or clears bits [lo, hi) of bitmap map: partial words by
 * mask, whole words with memset.  Inline for the usual case, a range
 * inside one word (a 2 MiB run's 8 summary bits, its block bit). */
static inline void fill_bits(uint64_t *map, uint64_t lo, uint64_t hi, int v)
{
	if (lo >= hi)
		return;
	if (bit_word(lo) != bit_word(hi - 1)) {
		fill_bits_long(map, lo, hi, v);
		return;
	}
	uint64_t w = bit_word(lo), n = hi - lo;
	uint64_t m = (n == BITS_PER_WORD ? WORD_ALL_SET : (1ULL << n) - 1) << bit_index(lo);
	map[w] = v ? map[w] | m : map[w] & ~m;
}

/* Makes summary2's bits for summary words [s0, s1] say whether each is
 * non-zero. */
static inline void summary2_fix(struct pmm *p, uint64_t s0, uint64_t s1)
{
	for (uint64_t s = s0; s <= s1 && s < p->nsum; s++) {
		if (p->summary[s])
			bit_set(p->summary2, s);
		else
			bit_clear(p->summary2, s);
	}
}

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

/* Sets (used = 1) or clears the bits m of bitmap word w, keeping the
 * summary levels and the free-block map in step. */
static void set_word(struct pmm *p, uint64_t w, uint64_t m, int used)
{
	uint64_t old = p->bitmap[w], v = used ? old | m : old & ~m;

	STORE(p->bitmap[w], v);
	if (used && v == WORD_ALL_SET && old != WORD_ALL_SET)
		summary_clear(p, w);
	else if (!used && old == WORD_ALL_SET && v != WORD_ALL_SET)
		summary_set(p, w);
	block_note(p, w, old, v);
}

/* Sets (used = 1) or clears bits [f, end) (f < end <= nwords * 64), keeping
 * the summary levels and the free-block map in step (theory 14): whole
 * words and their summary and block bits as ranges, the partial words at
 * the ends one by one.  The caller keeps bitmap_free and holds the lock
 * (or is pmm_init: nobody else can see p yet). */
static void set_frames_any(struct pmm *p, uint64_t f, uint64_t end, int used)
{
	uint64_t w0 = bit_words(f), w1 = bit_word(end);

	if (w0 >= w1) {                 /* within one or two partial words */
		while (f < end) {
			uint64_t w = bit_word(f), wend = bit_word_start(w + 1);
			unsigned hi = end >= wend ? BITS_PER_WORD : bit_index(end);
			set_word(p, w, bit_mask(bit_index(f), hi), used);
			f = end >= wend ? wend : end;
		}
		return;
	}
	if (w1 - w0 <= BLOCK_WORDS) {   /* a 2 MiB run: no call */
		for (uint64_t w = w0; w < w1; w++)
			STORE(p->bitmap[w], used ? WORD_ALL_SET : 0);
	} else {
		memset(&p->bitmap[w0], used ? 0xff : 0, (w1 - w0) * sizeof(uint64_t));
	}
	fill_bits(p->summary, w0, w1, !used);
	summary2_fix(p, bit_word(w0), bit_word(w1 - 1));
	uint64_t b0 = (w0 + BLOCK_WORDS - 1) / BLOCK_WORDS, b1 = w1 / BLOCK_WORDS;
	fill_bits(p->blocks, b0, b1, !used);
	if ((f | end) & (BITS_PER_WORD - 1)) {
		if (f < bit_word_start(w0))
			set_word(p, w0 - 1, bit_mask_from(bit_index(f)), used);
		if (end > bit_word_start(w1))
			set_word(p, w1, bit_mask(0, bit_index(end)), used);
	}
	if (((w0 | w1) % BLOCK_WORDS) == 0)
		return;
	/* The blocks the middle covers only in part: used, they are not free;
	 * free, they may have become free. */
	uint64_t e0 = w0 % BLOCK_WORDS ? w0 : NONE, e1 = w1 % BLOCK_WORDS ? w1 - 1 : NONE;
	if (e0 != NONE && e1 != NONE && e0 / BLOCK_WORDS == e1 / BLOCK_WORDS)
		e1 = NONE;
	for (int i = 0; i < 2; i++) {
		uint64_t e = i ? e1 : e0;
		if (e == NONE)
			continue;
		if (!used)
			block_update(p, e);
		else if (e / BLOCK_WORDS < p->nblocks)
			bit_clear(p->blocks, e / BLOCK_WORDS);
	}
}

/* Sets (used = 1) or clears the bits m of bitmap word w, nothing else. */
static inline void init_word(struct pmm *p, uint64_t w, uint64_t m, int used)
{
	p->bitmap[w] = used ? p->bitmap[w] | m : p->bitmap[w] & ~m;
}

/* set_frames: inline for whole blocks under one summary word (up to 16
 * MiB, the usual 2 MiB page or DMA buffer: their bitmap words, a mask of
 * summary bits, summary2's bit, the block bits), set_frames_any for the
 * rest. */
static inline void set_frames(struct pmm *p, uint64_t f, uint64_t end, int used)
{
	uint64_t w0 = bit_word(f), w1 = bit_word(end);

	if ((f | end) % PMM_BLOCK_FRAMES || bit_word(w0) != bit_word(w1 - 1)) {
		set_frames_any(p, f, end, used);
		return;
	}
	for (uint64_t w = w0; w < w1; w++)
		STORE(p->bitmap[w], used ? WORD_ALL_SET : 0);
	uint64_t s = bit_word(w0), n = w1 - w0;
	uint64_t m = (n == BITS_PER_WORD ? WORD_ALL_SET : (1ULL << n) - 1) << bit_index(w0);
	p->summary[s] = used ? p->summary[s] & ~m : p->summary[s] | m;
	summary2_fix(p, s, s);
	fill_bits(p->blocks, w0 / BLOCK_WORDS, w1 / BLOCK_WORDS, !used);
}

/* Writes the bitmap, summary and free-block map for frames [f, end), all
 * used or all free, during init (theory 14): whole words, summary bits and
 * block bits as ranges; the words at the ends (shared with a neighbour
 * range) are fixed up by init_edges once every range is written. */
static void init_frames(struct pmm *p, uint64_t f, uint64_t end, int used)
{
	uint64_t w0 = bit_words(f), w1 = bit_word(end);

	if (w0 >= w1) {                 /* within one or two partial words */
		while (f < end) {
			uint64_t w = bit_word(f), wend = bit_word_start(w + 1);
			unsigned hi = end >= wend ? BITS_PER_WORD : bit_index(end);
			init_word(p, w, bit_mask(bit_index(f), hi), used);
			f = end >= wend ? wend : end;
		}
		return;
	}
	if (f < bit_word_start(w0))
		init_word(p, w0 - 1, bit_mask_from(bit_index(f)), used);
	if (end > bit_word_start(w1))
		init_word(p, w1, bit_mask(0, bit_index(end)), used);
	memset(&p->bitmap[w0], used ? 0xff : 0, (w1 - w0) * sizeof(uint64_t));
	fill_bits(p->summary, w0, w1, !used);
	uint64_t b0 = (w0 + BLOCK_WORDS - 1) / BLOCK_WORDS, b1 = w1 / BLOCK_WORDS;
	if (b0 < b1)
		fill_bits(p->blocks, b0, b1, !used);
}

/* After init_frames wrote every range: the summary bits of the words at
 * the ends of [f, end), and the free-block bits of the blocks holding
 * them, from the bitmap. */
static void init_edges(struct pmm *p, uint64_t f, uint64_t end)
{
	uint64_t ws[2] = { bit_word(f), bit_word(end - 1) };

	for (int i = 0; i < 2; i++) {
		uint64_t w = ws[i];
		if (p->bitmap[w] != WORD_ALL_SET)
			bit_set(p->summary, w);
		else
			bit_clear(p->summary, w);
		block_update(p, w);
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

/* Number of CPU caches for total usable frames (mm/pmm.h: one per
 * PMM_PCP_RAM_FRAMES, between PMM_PCP_MIN_CPUS and MM_MAX_CPUS). */
static void asking_reset(void);

static uint32_t caches_for(uint64_t total)
{
	uint64_t n = total / PMM_PCP_RAM_FRAMES;
	if (n < PMM_PCP_MIN_CPUS)
		n = PMM_PCP_MIN_CPUS;
	return n > MM_MAX_CPUS ? MM_MAX_CPUS : (uint32_t)n;
}

int pmm_init_boot(struct pmm *p, const struct mm_region *map, size_t count,
		  struct bootalloc *ba)
{
	uint64_t total, top, handed = 0, cur = 0, words, pcp_off, where_off;
	int st = check_map(map, count, &total, &top);

	if (st != MM_OK)
		return st;
	if (total == 0)
		return MM_ENOMEM;
	p->map = map;
	p->map_count = count;
	p->numa.nodes = 0;        /* no NUMA until pmm_set_numa */
	p->numa.nranges = 0;
	p->nframes = top;
	p->nwords = bit_words(top);
	p->nsum = bit_words(p->nwords);
	p->nsum2 = bit_words(p->nsum);
	p->nblocks = p->nwords / BLOCK_WORDS;
	p->nblockw = bit_words(p->nblocks);
	p->ncpus = caches_for(total);
	/* bitmap, summary, summary2, blocks, tags; where[] from the next
	 * line; then the caches, on a line */
	words = p->nwords + p->nsum + p->nsum2 + p->nblockw + p->nwords;
	where_off = (words * sizeof(uint64_t) + CACHE_LINE - 1) & ~(uint64_t)(CACHE_LINE - 1);
	pcp_off = (where_off + p->nframes * sizeof(uint16_t) + CACHE_LINE - 1) &
		  ~(uint64_t)(CACHE_LINE - 1);
	p->meta_size = PAGE_ROUND_UP(pcp_off + p->ncpus * sizeof(struct pmm_pcp));
	st = bootalloc_alloc(ba, p->meta_size, PAGE_SIZE, &p->meta_pa);
	if (st != MM_OK)
		return MM_ENOMEM;
	p->bitmap = mm_phys_to_virt(p->meta_pa);
	p->summary = p->bitmap + p->nwords;
	p->summary2 = p->summary + p->nsum;
	p->blocks = p->summary2 + p->nsum2;
	p->tags = p->blocks + p->nblockw;
	p->where = (uint16_t *)((uint8_t *)p->bitmap + where_off);
	p->pcp = (struct pmm_pcp *)((uint8_t *)p->bitmap + pcp_off);
	/* summary, summary2, blocks (their padding bits stay 0) and tags: one
	 * run of words; where[] stays as it is (theory 10) */
	memset(p->summary, 0, (words - p->nwords) * sizeof(uint64_t));
	memset(p->pcp, 0, p->ncpus * sizeof(struct pmm_pcp));

	/* Holes used, usable regions free, padding after nframes used: the
	 * bitmap, summary and blocks in one pass (theory 14), then the words
	 * at range edges, then summary2 from the summary. */
	for (size_t i = 0; i <= count; i++) {
		uint64_t b = bit_word_start(p->nwords), e = b;
		if (i < count) {
			if (map[i].type != MR_USABLE)
				continue;
			b = map[i].base >> PAGE_SHIFT;
			e = b + (map[i].size >> PAGE_SHIFT);
		}
		init_frames(p, cur, b, 1);
		init_frames(p, b, e, 0);
		cur = e;
	}
	cur = 0;
	for (size_t i = 0; i <= count; i++) {
		uint64_t b = bit_word_start(p->nwords), e = b;
		if (i < count) {
			if (map[i].type != MR_USABLE)
				continue;
			b = map[i].base >> PAGE_SHIFT;
			e = b + (map[i].size >> PAGE_SHIFT);
		}
		if (b > cur)
			init_edges(p, cur, b);
		if (e > b)
			init_edges(p, b, e);
		cur = e;
	}
	summary2_fix(p, 0, p->nsum - 1);

	/* Everything the boot allocator handed out, the metadata included:
	 * now with full upkeep of the summaries. */
	for (size_t i = 0; i < ba->nranges; i++) {
		uint64_t b = ba->ranges[i].pa >> PAGE_SHIFT;
		uint64_t n = ba->ranges[i].size >> PAGE_SHIFT;
		if (n)
			set_frames(p, b, b + n, 1);
		handed += n;
	}
	p->total = total;
	p->bitmap_free = total - handed;
	p->hint = 0;
	p->chint = 0;
	p->ram_hint = 0;
	mm_lock_init(&p->lock, "pmm");
	p->cpus_seen = 0;
	p->moves = 0;
	asking_reset();
	__atomic_store_n(&mm_wait_hook, pmm_serve_pending, __ATOMIC_RELEASE);
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

/* ---------------------------------------------------------------- bitmap
 * Everything in this section runs with p->lock held. */

static void pcp_push(struct pmm *p, struct pmm_pcp *c, unsigned cpu, uint64_t f);

/* Marks free bit `bit` of bitmap word w used (summary, free-block map and
 * free count follow); returns its frame number.  A frame bound for a cache
 * (to, a refill: theory 10) is pushed onto it first and its bit set with
 * release: a lock-free reader that sees the bit set sees it cached, never
 * "used and in no cache" (allocated).  Lock held. */
static uint64_t take_bit(struct pmm *p, uint64_t w, unsigned bit, struct pmm_pcp *to)
{
	uint64_t word = p->bitmap[w];

	if (to)
		pcp_push(p, to, (unsigned)(to - p->pcp), bit_number(w, bit));
	if (word == 0 && w / BLOCK_WORDS < p->nblocks)
		bit_clear(p->blocks, w / BLOCK_WORDS);
	word |= 1ULL << bit;
	__atomic_store_n(&p->bitmap[w], word, __ATOMIC_RELEASE);
	if (word == WORD_ALL_SET)
		summary_clear(p, w);
	STORE(p->bitmap_free, p->bitmap_free - 1);
	return bit_number(w, bit);
}

/* Takes one frame from the bitmap, searching from word *hint (next fit;
 * *hint gets the word taken from): MM_OK with its number in *f (pushed
 * onto cache `to` if not NULL, see take_bit), or MM_ENOMEM if the bitmap
 * has none.  Lock held (asserted by the callers, once per batch). */
static int bitmap_take(struct pmm *p, uint64_t *hint, uint64_t *f, struct pmm_pcp *to)
{
	uint64_t w, word;

	if (p->bitmap_free == 0)
		return MM_ENOMEM;
	w = *hint < p->nwords ? *hint : 0;
	word = p->bitmap[w];
	if (word == WORD_ALL_SET) {     /* the hint word is used up: search */
		w = find_word_from(p, w);
		if (w == NONE)
			w = find_word_from(p, 0);
		if (w == NONE)
			mm_panic("bitmap_take: free count %llu but no free frame",
				 (unsigned long long)p->bitmap_free);
		word = p->bitmap[w];
	}
	*hint = w;
	*f = take_bit(p, w, bit_lowest(~word), to);
	return MM_OK;
}

/* Gives frame f (used, not cached, not tagged) back to the bitmap.  Lock
 * held (asserted by the callers). */
static void numa_note_free(struct pmm *p, uint64_t lo, uint64_t hi);

static void bitmap_give(struct pmm *p, uint64_t f)
{
	uint64_t w = bit_word(f), old = p->bitmap[w], v = old & ~(1ULL << bit_index(f));

	STORE(p->bitmap[w], v);
	if (old == WORD_ALL_SET)
		summary_set(p, w);
	if (v == 0)
		block_update(p, w);
	STORE(p->bitmap_free, p->bitmap_free + 1);
	numa_note_free(p, f, f + 1);
}

/* ---------------------------------------------------------------- nodes */

/* The bits of word w whose frames lie in [lo, hi) (lo < hi). */
static uint64_t range_mask(uint64_t w, uint64_t lo, uint64_t hi)
{
	uint64_t first = bit_word_start(w), end = first + BITS_PER_WORD;
	uint64_t a = lo > first ? lo : first, b = hi < end ? hi : end;

	return a >= b ? 0 : bit_mask((unsigned)(a - first), (unsigned)(b - first));
}

/* Takes a free frame of [lo, hi) from bitmap words [w, wend), the first
 * in address order: MM_OK (*f, *hint = its word; pushed onto cache `to`
 * if not NULL, see take_bit) or MM_ENOMEM.  Lock held. */
static int words_take(struct pmm *p, uint64_t lo, uint64_t hi, uint64_t w, uint64_t wend,
		      uint64_t *hint, uint64_t *f, struct pmm_pcp *to)
{
	while ((w = find_word_from(p, w)) != NONE && w < wend) {
		uint64_t m = ~p->bitmap[w] & range_mask(w, lo, hi);
		if (m) {
			*hint = w;
			*f = take_bit(p, w, bit_lowest(m), to);
			return MM_OK;
		}
		w++;          /* a word at the range's edge, free outside it */
	}
	return MM_ENOMEM;
}

/* The bitmap words [*w0, *w1) holding node range i's frames below
 * nframes; 0 if the range is empty or lies wholly above them. */
static int node_range_words(const struct pmm *p, uint32_t i, uint64_t *w0, uint64_t *w1)
{
	uint64_t lo = p->numa.range[i].lo, hi = p->numa.range[i].hi;

	if (lo >= hi || lo >= p->nframes)
		return 0;
	*w0 = bit_word(lo);
	*w1 = bit_word((hi < p->nframes ? hi : p->nframes) - 1) + 1;
	return 1;
}

/* Takes a frame of node `node`, from word *hint if it lies in one of the
 * node's ranges (next fit inside that range, wrapping once), else from
 * the start of each range in turn; onto cache `to` if not NULL (take_bit).
 * Lock held. */
static int node_take(struct pmm *p, uint32_t node, uint64_t *hint, uint64_t *f,
		     struct pmm_pcp *to)
{
	struct pmm_nodes *n = &p->numa;

	if (n->empty[node])          /* nothing came back since it ran dry */
		return MM_ENOMEM;
	for (uint32_t i = 0; i < n->nranges; i++) {
		uint64_t lo = n->range[i].lo, hi = n->range[i].hi, w0, w1;
		if (n->range[i].node != node || !node_range_words(p, i, &w0, &w1))
			continue;
		uint64_t start = (*hint >= w0 && *hint < w1) ? *hint : w0;
		if (words_take(p, lo, hi, start, w1, hint, f, to) == MM_OK ||
		    (start > w0 && words_take(p, lo, hi, w0, start, hint, f, to) == MM_OK))
			return MM_OK;
	}
	n->empty[node] = 1;
	return MM_ENOMEM;
}

/* Frames [lo, hi) went back to the bitmap: the nodes they lie in are no
 * longer known to be empty.  The ranges are sorted: a binary search finds
 * the first that ends above lo.  Lock held. */
static void numa_note_free(struct pmm *p, uint64_t lo, uint64_t hi)
{
	struct pmm_nodes *n = &p->numa;
	uint32_t a = 0, b = n->nranges;

	if (n->nodes <= 1)
		return;
	while (a < b) {
		uint32_t mid = a + (b - a) / 2;
		if (n->range[mid].hi <= lo)
			a = mid + 1;
		else
			b = mid;
	}
	for (; a < n->nranges && n->range[a].lo < hi; a++)
		n->empty[n->range[a].node] = 0;
}

/* Where CPU cpu's refills start (pcp_open, pmm_set_numa): cpu/ncpus of the
 * way through the bitmap (pcp_open explains why apart), or with NUMA
 * through the first range of its node.  Lock held. */
static uint64_t home_hint(const struct pmm *p, unsigned cpu)
{
	const struct pmm_nodes *n = &p->numa;

	if (n->nodes > 1) {
		uint32_t home = cpu < MM_MAX_CPUS ? n->cpu_node[cpu] : 0;
		for (uint32_t i = 0; i < n->nranges; i++) {
			uint64_t w0, w1;
			if (n->range[i].node != home || !node_range_words(p, i, &w0, &w1))
				continue;
			return w0 + (w1 - w0) / p->ncpus * cpu;
		}
	}
	return p->nwords / p->ncpus * cpu;
}

/* One frame for CPU cpu (theory 16): from its node, then the others
 * nearest first, then anywhere; *src gets where it came from (the index in
 * the CPU's node order, or nodes for "anywhere"), for same_take.  Without
 * NUMA, bitmap_take.  Lock held. */
static int numa_take(struct pmm *p, unsigned cpu, uint64_t *hint, uint64_t *f, uint32_t *src)
{
	const struct pmm_nodes *n = &p->numa;
	uint32_t home = cpu < MM_MAX_CPUS ? n->cpu_node[cpu] : 0;

	if (n->nodes > 1 && p->bitmap_free) {
		for (uint32_t k = 0; k < n->nodes; k++)
			if (node_take(p, n->order[home][k], hint, f, NULL) == MM_OK) {
				*src = k;
				return MM_OK;
			}
	}
	*src = n->nodes;
	return bitmap_take(p, hint, f, NULL);
}

/* One more frame from where numa_take's last one came from (src), so that
 * a refill never mixes nodes: a cache is a stack, and frames of the next
 * node pushed after the last of the home node's would be handed out
 * before them.  The frame is pushed onto CPU cpu's cache `to` (take_bit).
 * Lock held. */
static int same_take(struct pmm *p, unsigned cpu, uint32_t src, uint64_t *hint, uint64_t *f,
		     struct pmm_pcp *to)
{
	const struct pmm_nodes *n = &p->numa;
	uint32_t home = cpu < MM_MAX_CPUS ? n->cpu_node[cpu] : 0;

	if (n->nodes > 1 && src < n->nodes)
		return node_take(p, n->order[home][src], hint, f, to);
	return bitmap_take(p, hint, f, to);
}

/* Usable frames of the map in frames [lo, hi). */
static uint64_t usable_in(const struct pmm *p, uint64_t lo, uint64_t hi)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < p->map_count; i++) {
		const struct mm_region *r = &p->map[i];
		if (r->type != MR_USABLE)
			continue;
		uint64_t a = r->base >> PAGE_SHIFT, b = a + (r->size >> PAGE_SHIFT);
		if (a < lo)
			a = lo;
		if (b > hi)
			b = hi;
		if (a < b)
			sum += b - a;
	}
	return sum;
}

/* Rounds a byte address up to a frame number (the frame whose first byte
 * is at or after it). */
static uint64_t frame_up(uint64_t pa)
{
	return (pa >> PAGE_SHIFT) + ((pa & PAGE_MASK) != 0);
}

/* Checks n (see pmm_set_numa); MM_OK or MM_EINVAL after printing why. */
static int numa_check(const struct pmm_numa *n)
{
	if (n->nodes == 0 || n->nodes > PMM_MAX_NODES || n->nranges > PMM_MAX_NODE_RANGES) {
		mm_printf("pmm_set_numa: %u nodes, %u ranges: beyond 1..%u, %u\n", n->nodes,
			  n->nranges, PMM_MAX_NODES, PMM_MAX_NODE_RANGES);
		return MM_EINVAL;
	}
	for (uint32_t i = 0; i < n->nranges; i++) {
		uint64_t b = n->range[i].base, sz = n->range[i].size;
		if (n->range[i].node >= n->nodes || range_wraps(b, sz) ||
		    (i > 0 && b < n->range[i - 1].base + n->range[i - 1].size)) {
			mm_printf("pmm_set_numa: range %u [0x%llx, +0x%llx) node %u: unsorted, overlapping, wrapping or no such node\n",
				  i, (unsigned long long)b, (unsigned long long)sz, n->range[i].node);
			return MM_EINVAL;
		}
	}
	for (uint32_t c = 0; c < MM_MAX_CPUS; c++)
		if (n->cpu_node[c] >= n->nodes) {
			mm_printf("pmm_set_numa: CPU %u on node %u of %u\n", c, n->cpu_node[c], n->nodes);
			return MM_EINVAL;
		}
	return MM_OK;
}

int pmm_set_numa(struct pmm *p, const struct pmm_numa *n)
{
	struct pmm_nodes *t = &p->numa;

	if (numa_check(n) != MM_OK)
		return MM_EINVAL;
	/* Built in place under the lock: once, at boot, O(nodes^2 + ranges x
	 * map regions). */
	mm_lock(&p->lock);
	memset(t, 0, sizeof(*t));
	t->nodes = n->nodes;
	t->nranges = n->nranges;
	for (uint32_t i = 0; i < n->nranges; i++) {
		t->range[i].lo = frame_up(n->range[i].base);
		t->range[i].hi = frame_up(n->range[i].base + n->range[i].size);
		t->range[i].node = n->range[i].node;
		t->total[n->range[i].node] += usable_in(p, t->range[i].lo, t->range[i].hi);
	}
	memcpy(t->cpu_node, n->cpu_node, sizeof(t->cpu_node));
	/* Fallback order: the home node, then the rest by (distance, node). */
	for (uint32_t h = 0; h < n->nodes; h++) {
		uint8_t used[PMM_MAX_NODES] = { 0 };
		t->order[h][0] = (uint8_t)h;
		used[h] = 1;
		for (uint32_t k = 1; k < n->nodes; k++) {
			uint32_t best = PMM_MAX_NODES;
			for (uint32_t m = 0; m < n->nodes; m++)
				if (!used[m] && (best == PMM_MAX_NODES || n->dist[h][m] < n->dist[h][best]))
					best = m;
			t->order[h][k] = (uint8_t)best;
			used[best] = 1;
		}
	}
	/* Caches already open restart their refills in their node. */
	for (uint32_t cpu = 0; cpu < p->ncpus; cpu++)
		if (p->pcp[cpu].opened)
			p->pcp[cpu].hint = home_hint(p, cpu);
	mm_unlock(&p->lock);
	return MM_OK;
}

/* Frames of [lo, hi) in the caches: their live slots, counted. */
static uint64_t cached_in(const struct pmm *p, uint64_t lo, uint64_t hi)
{
	uint64_t sum = 0;

	for (uint32_t cpu = 0; cpu < LOAD(p->cpus_seen); cpu++) {
		const struct pmm_pcp *c = &p->pcp[cpu];
		for (uint32_t i = 0, n = LOAD(c->count); i < n; i++) {
			uint64_t f = LOAD(c->slot[i]);
			sum += f >= lo && f < hi;
		}
	}
	return sum;
}

/* Frames of [lo, hi) free in the bitmap or cached: whole free blocks of
 * the free-block map count 512 without reading the bitmap, and a word of
 * the map with all 64 blocks free 32768 (48 TiB at boot: 375 Ki words). */
static uint64_t free_in(const struct pmm *p, uint64_t lo, uint64_t hi)
{
	uint64_t sum = 0;

	if (hi > p->nframes)
		hi = p->nframes;
	for (uint64_t w = bit_word(lo); lo < hi && bit_word_start(w) < hi;) {
		uint64_t b = w / BLOCK_WORDS;
		/* 64 free blocks (128 MiB) at once: one word of the map. */
		if (w % (BLOCK_WORDS * BITS_PER_WORD) == 0 && b + BITS_PER_WORD <= p->nblocks &&
		    bit_word_start(w) >= lo &&
		    bit_word_start(w + BLOCK_WORDS * BITS_PER_WORD) <= hi &&
		    p->blocks[bit_word(b)] == WORD_ALL_SET) {
			sum += (uint64_t)PMM_BLOCK_FRAMES * BITS_PER_WORD;
			w += BLOCK_WORDS * BITS_PER_WORD;
			continue;
		}
		if (w % BLOCK_WORDS == 0 && b < p->nblocks && bit_word_start(w) >= lo &&
		    bit_word_start(w + BLOCK_WORDS) <= hi && bit_test(p->blocks, b)) {
			sum += PMM_BLOCK_FRAMES;
			w += BLOCK_WORDS;
			continue;
		}
		uint64_t m = range_mask(w, lo, hi);
		sum += bit_count(~LOAD(p->bitmap[w]) & m);
		w++;
	}
	return sum + cached_in(p, lo, hi);
}

int pmm_node_frames(const struct pmm *p, uint32_t node, uint64_t *free, uint64_t *total)
{
	const struct pmm_nodes *n = &p->numa;
	uint64_t f = 0, t = 0, prev = 0;

	if (n->nodes == 0 || node > n->nodes)
		return MM_EINVAL;
	if (node < n->nodes) {
		for (uint32_t i = 0; i < n->nranges; i++)
			if (n->range[i].node == node)
				f += free_in(p, n->range[i].lo, n->range[i].hi);
		t = n->total[node];
	} else {                         /* the gaps between the ranges */
		for (uint32_t i = 0; i <= n->nranges; i++) {
			uint64_t lo = i < n->nranges ? n->range[i].lo : p->nframes;
			if (lo > prev) {
				f += free_in(p, prev, lo);
				t += usable_in(p, prev, lo);
			}
			if (i < n->nranges && n->range[i].hi > prev)
				prev = n->range[i].hi;
		}
	}
	if (free)
		*free = f;
	if (total)
		*total = t;
	return MM_OK;
}

void pmm_print_nodes(const struct pmm *p)
{
	uint64_t f, t;

	for (uint32_t node = 0; node < p->numa.nodes; node++)
		if (pmm_node_frames(p, node, &f, &t) == MM_OK)
			mm_printf("pmm: node %u: %llu free frames of %llu\n", node,
				  (unsigned long long)f, (unsigned long long)t);
	if (p->numa.nodes && pmm_node_frames(p, p->numa.nodes, &f, &t) == MM_OK && t)
		mm_printf("pmm: no node: %llu free frames of %llu\n", (unsigned long long)f,
			  (unsigned long long)t);
}

/* ---------------------------------------------------------------- caches */

/* Returns this CPU's cache, or NULL if CPU cpu has none. */
static inline struct pmm_pcp *pcp_of(const struct pmm *p, unsigned cpu)
{
	return cpu < p->ncpus ? &p->pcp[cpu] : NULL;
}

/* First slow path of CPU cpu on its cache c: opens it for the fast paths
 * and makes askers look at it.  Its refills start at a word of their own,
 * cpu/ncpus of the way through the bitmap (or its node, theory 16), so
 * that two CPUs' cached frames do not share the bitmap words and where[]
 * lines the fast paths read and write - one next-fit hint for all would
 * deal out neighbouring frames, half a word each.  Lock held. */
static void pcp_open(struct pmm *p, struct pmm_pcp *c, unsigned cpu)
{
	MM_LOCK_ASSERT_HELD(&p->lock);
	if (c->opened)
		return;
	c->hint = home_hint(p, cpu);
	c->opened = 1;
	STORE(c->limit, PMM_PCP_HIGH);
	if (cpu + 1 > p->cpus_seen)
		STORE(p->cpus_seen, cpu + 1);
}

/* Pushes frame f onto the cache c of its owner, CPU cpu, recording its
 * slot in where[f] (theory 10). */
static inline void pcp_push(struct pmm *p, struct pmm_pcp *c, unsigned cpu, uint64_t f)
{
	uint32_t n = c->count;

	STORE(p->where[f], where_of(cpu, n));
	STORE(c->slot[n], f);
	STORE(c->count, n + 1);
}

/* Moves up to PMM_PCP_BATCH frames from the bitmap into the empty cache c
 * of its owner, CPU cpu, all from the node (or "anywhere") src that
 * alloc_slow's frame came from (theory 16); the takes push them (each
 * before its bit is set, take_bit).  Lock held. */
static void pcp_refill(struct pmm *p, struct pmm_pcp *c, unsigned cpu, uint32_t src)
{
	uint64_t f;

	MM_LOCK_ASSERT_HELD(&p->lock);
	moves_begin(p);
	for (int i = 0; i < PMM_PCP_BATCH && c->count < PMM_PCP_HIGH; i++)
		if (same_take(p, cpu, src, &c->hint, &f, c) != MM_OK)
			break;
	moves_end(p);
}

/* Gives the PMM_PCP_BATCH oldest frames of CPU cpu's full cache c back to
 * the bitmap and moves the rest down, their where[] entries with them.
 * Lock held; by the owner, or by any CPU for a cache nobody runs. */
static void pcp_drain(struct pmm *p, struct pmm_pcp *c, unsigned cpu)
{
	uint32_t n = c->count, k = n < PMM_PCP_BATCH ? n : PMM_PCP_BATCH;

	MM_LOCK_ASSERT_HELD(&p->lock);
	moves_begin(p);
	for (uint32_t i = 0; i < k; i++)
		bitmap_give(p, c->slot[i]);
	/* Moved first, the count lowered last (release, as each slot store:
	 * a given frame's slot is overwritten only after its bit was
	 * cleared): a moved frame reads cached throughout (frame_cached). */
	for (uint32_t i = k; i < n; i++) {
		uint64_t f = c->slot[i];
		__atomic_store_n(&c->slot[i - k], f, __ATOMIC_RELEASE);
		STORE(p->where[f], where_of(cpu, i - k));
	}
	__atomic_store_n(&c->count, n - k, __ATOMIC_RELEASE);
	moves_end(p);
}

/* Gives every frame of cache c back to the bitmap; returns how many.  Lock
 * held; by the owner, or by any CPU for a cache nobody runs. */
static uint32_t pcp_drain_all(struct pmm *p, struct pmm_pcp *c)
{
	uint32_t n = c->count;

	MM_LOCK_ASSERT_HELD(&p->lock);
	moves_begin(p);
	for (uint32_t i = 0; i < n; i++)
		bitmap_give(p, c->slot[i]);
	__atomic_store_n(&c->count, 0, __ATOMIC_RELEASE);  /* after the bits (frame_cached) */
	moves_end(p);
	return n;
}

/* Answers the drain requests posted to the owner's cache c, if any: drains
 * it whole, then publishes them as done (release: the frames are in the
 * bitmap before a waiting asker reads `done`).  An open cache closed with
 * nothing asked (an asker's repost, ask_all, landed after our answer) is
 * reopened the same way.  Returns 1 if there were requests.  Lock held, by
 * the owner. */
static int pcp_serve(struct pmm *p, struct pmm_pcp *c)
{
	uint32_t r = __atomic_load_n(&c->req, __ATOMIC_ACQUIRE);
	int served = 0;

	/* acquire: a zero an asker stored after its add to req makes the
	 * load of req below see that add */
	if (r == c->done && (!c->opened || __atomic_load_n(&c->limit, __ATOMIC_ACQUIRE) != 0))
		return 0;
	for (;;) {
		if (r != c->done) {
			pcp_drain_all(p, c);
			__atomic_store_n(&c->done, r, __ATOMIC_RELEASE);
			served = 1;
		}
		/* Reopen the fast paths, then look again: an asker adds to
		 * req before it zeroes limit, so either this load sees its
		 * request or its zero lands after our store (the fence orders
		 * our store before the load). */
		__atomic_store_n(&c->limit, PMM_PCP_HIGH, __ATOMIC_RELAXED);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		r = __atomic_load_n(&c->req, __ATOMIC_ACQUIRE);
		if (r == c->done)
			return served;
	}
}

/* ---------------------------------------------------------------- asking
 * Stealing is asking (theory 10). */

/* The allocator that last asked each CPU to drain: what pmm_serve_pending,
 * the wait hook, serves (it knows no allocator of its own).  A waiting
 * asker posts itself again every ASK_KICK_SPINS, so two allocators asking
 * one CPU at once are both answered in turn. */
static struct pmm *asking[MM_MAX_CPUS];

/* Spins of a waiting asker before it posts and kicks again, and before it
 * gives up on a CPU that never answers (reported; its frames stay where
 * they are, so the caller may see MM_ENOMEM). */
#define ASK_KICK_SPINS  1024
#define ASK_GIVEUP_SPINS (1ULL << 27)

/* Forgets every posted request pointer: a new allocator may reuse an old
 * one's memory (host tests make many).  Askers still waiting post again. */
static void asking_reset(void)
{
	for (unsigned i = 0; i < MM_MAX_CPUS; i++)
		__atomic_store_n(&asking[i], NULL, __ATOMIC_RELAXED);
}

/* Posts a request to CPU o's cache c: returns its ticket (never 0). */
static uint32_t ask_post(struct pmm *p, struct pmm_pcp *c, unsigned o)
{
	uint32_t t = __atomic_add_fetch(&c->req, 1, __ATOMIC_SEQ_CST);

	if (t == 0)                     /* 0 means "not asked" in ask_all */
		t = __atomic_add_fetch(&c->req, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&c->limit, 0, __ATOMIC_SEQ_CST);  /* fast paths: go slow */
	__atomic_store_n(&asking[o], p, __ATOMIC_RELEASE);
	mm_cpu_kick(o);
	return t;
}

/* Gives cache c, of a CPU nobody runs, back to the bitmap.  Takes the
 * lock. */
static void drain_unrun(struct pmm *p, struct pmm_pcp *c)
{
	mm_lock(&p->lock);
	pcp_drain_all(p, c);
	mm_unlock(&p->lock);
}

/* Makes every other CPU's cache give its frames back to the bitmap: a
 * cache nobody runs is drained here under the lock; a running CPU is asked
 * (ask_post) and waited for, all at once, answering our own requests
 * meanwhile.  Returns the frames the caches held when looked at.  Called
 * WITHOUT the lock (the owners need it to answer), interrupts off, by CPU
 * me. */
static uint64_t ask_all(struct pmm *p, unsigned me)
{
	uint32_t seen = LOAD(p->cpus_seen), ticket[MM_MAX_CPUS];
	uint64_t got = 0;

	for (uint32_t o = 0; o < seen; o++) {
		struct pmm_pcp *c = &p->pcp[o];
		uint32_t n = LOAD(c->count);
		ticket[o] = 0;
		if (o == me || n == 0)
			continue;
		got += n;
		if (mm_cpu_running(o)) {
			ticket[o] = ask_post(p, c, o);
			continue;
		}
		drain_unrun(p, c);
	}
	for (uint32_t o = 0; o < seen; o++) {
		struct pmm_pcp *c = &p->pcp[o];
		uint64_t spins = 0;
		if (!ticket[o])
			continue;
		while ((int32_t)(__atomic_load_n(&c->done, __ATOMIC_ACQUIRE) - ticket[o]) < 0 &&
		       LOAD(c->count) != 0) {
			if (!mm_cpu_running(o)) {       /* stopped meanwhile */
				drain_unrun(p, c);
				break;
			}
			mm_wait_serve();
			mm_cpu_relax();
			if (++spins % ASK_KICK_SPINS == 0) {
				__atomic_store_n(&c->limit, 0, __ATOMIC_SEQ_CST);
				__atomic_store_n(&asking[o], p, __ATOMIC_RELEASE);
				mm_cpu_kick(o);
			}
			if (spins == ASK_GIVEUP_SPINS) {
				mm_printf("pmm: CPU %u did not answer a drain request: its %u cached frames stay\n",
					  o, LOAD(c->count));
				break;
			}
		}
	}
	return got;
}

void pmm_serve_pending(void)
{
	unsigned me = mm_cpu_id();
	struct pmm *p = __atomic_load_n(&asking[me], __ATOMIC_ACQUIRE);

	if (!p || me >= p->ncpus || mm_lock_held(&p->lock))
		return;
	struct pmm_pcp *c = &p->pcp[me];
	if (__atomic_load_n(&c->req, __ATOMIC_RELAXED) == LOAD(c->done) || !mm_trylock(&p->lock))
		return;
	pcp_serve(p, c);
	mm_unlock(&p->lock);
	/* Answered: forget p, unless another allocator posted meanwhile. */
	__atomic_compare_exchange_n(&asking[me], &p, NULL, 0, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------- alloc */

/* pmm_alloc when this CPU's cache is empty or absent, or a drain request
 * waits: under the lock, the requests are answered (the whole cache goes
 * to the bitmap), then one frame for the caller from the bitmap - if that
 * is empty, after every other cache gave its frames back (ask_all,
 * without the lock) - then a batch for the cache, unless a request was
 * just answered (the asker wants those frames).  Interrupts are off.
 * Kept out of line: the fast path stays a leaf. */
static __attribute__((noinline)) int alloc_slow(struct pmm *p, unsigned cpu, uint64_t *pa)
{
	struct pmm_pcp *c = pcp_of(p, cpu);
	uint64_t f;
	uint32_t src;
	int st, served = 0;

	mm_lock(&p->lock);
	if (c) {
		pcp_open(p, c, cpu);
		served = pcp_serve(p, c);
	}
	if (p->bitmap_free == 0) {
		mm_unlock(&p->lock);
		ask_all(p, cpu);
		mm_lock(&p->lock);
	}
	st = numa_take(p, cpu, c ? &c->hint : &p->hint, &f, &src);
	if (st == MM_OK && c && !served)
		pcp_refill(p, c, cpu, src);
	mm_unlock(&p->lock);
	if (st == MM_OK)
		*pa = f << PAGE_SHIFT;
	return st;
}

int pmm_alloc(struct pmm *p, uint64_t *pa)
{
	uint64_t irq = mm_irq_save();
	unsigned cpu = mm_cpu_id();
	int st;

	/* Fast path: pop from this CPU's cache.  Only its owner touches it
	 * (theory 10): plain loads and stores, no atomic read-modify-write. */
	if (cpu < p->ncpus) {
		struct pmm_pcp *c = &p->pcp[cpu];
		uint32_t n = c->count;
		if (n - 1 < LOAD(c->limit)) {   /* not empty (n - 1 wraps), not asked */
			uint64_t f = c->slot[n - 1];
			STORE(c->count, n - 1);
			mm_irq_restore(irq);
			*pa = f << PAGE_SHIFT;
			return MM_OK;
		}
	}
	st = alloc_slow(p, cpu, pa);
	mm_irq_restore(irq);
	return st;
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

/* Returns the first set bit of blocks in [b, end), or end. */
static uint64_t next_free_block(const struct pmm *p, uint64_t b, uint64_t end)
{
	uint64_t w = bit_word(b);
	uint64_t m = b < end ? p->blocks[w] & bit_mask_from(bit_index(b)) : 0;

	while (m == 0) {
		if (bit_word_start(++w) >= end)
			return end;
		m = p->blocks[w];
	}
	b = bit_number(w, bit_lowest(m));
	return b < end ? b : end;
}

/* Returns the first clear bit of blocks in [b, end), or end. */
static uint64_t next_used_block(const struct pmm *p, uint64_t b, uint64_t end)
{
	uint64_t w = bit_word(b);
	uint64_t m = b < end ? ~p->blocks[w] & bit_mask_from(bit_index(b)) : 0;

	while (m == 0) {
		if (bit_word_start(++w) >= end)
			return end;
		m = ~p->blocks[w];
	}
	b = bit_number(w, bit_lowest(m));
	return b < end ? b : end;
}

/* The free-block map's search (theory 13) for n >= PMM_BLOCK_FRAMES frames
 * aligned to a (a multiple of PMM_BLOCK_FRAMES): the first fit starting at
 * a block in [lo, hi), as a frame number, or NONE. */
static uint64_t block_search(const struct pmm *p, uint64_t lo, uint64_t hi,
			     uint64_t n, uint64_t a)
{
	uint64_t ab = a / PMM_BLOCK_FRAMES, nb = n / PMM_BLOCK_FRAMES;
	uint64_t tail = n % PMM_BLOCK_FRAMES, pos = lo;

	for (;;) {
		uint64_t b;
		if (!align_up(pos, ab, &b) || b >= hi || p->nblocks - b < nb)
			return NONE;
		pos = next_free_block(p, b, hi);
		if (pos >= hi)
			return NONE;
		if (pos != b)
			continue;       /* realign the free block found */
		uint64_t u = next_used_block(p, b, b + nb);
		if (u < b + nb) {
			pos = u + 1;
			continue;
		}
		uint64_t t = (b + nb) * PMM_BLOCK_FRAMES;
		if (tail == 0)
			return b * PMM_BLOCK_FRAMES;
		if (p->nframes - t < tail)
			return NONE;    /* and so for every later block */
		u = next_used_frame(p, t, t + tail);
		if (u == t + tail)
			return b * PMM_BLOCK_FRAMES;
		pos = u / PMM_BLOCK_FRAMES + 1;
	}
}

/* Next-fit search for n free frames aligned to a frames, or NONE.  Lock
 * held. */
static uint64_t contig_find(const struct pmm *p, uint64_t n, uint64_t a)
{
	uint64_t f = NONE;

	if (n > p->bitmap_free)
		return NONE;
	if (a >= PMM_BLOCK_FRAMES && n >= PMM_BLOCK_FRAMES) {
		uint64_t start = (p->chint + PMM_BLOCK_FRAMES - 1) / PMM_BLOCK_FRAMES;
		if (start < p->nblocks)
			f = block_search(p, start, p->nblocks, n, a);
		if (f == NONE && start != 0)
			f = block_search(p, 0, start < p->nblocks ? start : p->nblocks, n, a);
		return f;
	}
	f = contig_search(p, p->chint, p->nframes, n, a);
	if (f == NONE && p->chint != 0)
		f = contig_search(p, 0, p->nframes, n, a);
	return f;
}

int pmm_alloc_contig(struct pmm *p, uint64_t count, uint64_t align, uint64_t *pa)
{
	uint64_t a, f;

	if (count == 0 || align < PAGE_SIZE || !is_pow2(align))
		return MM_EINVAL;
	if (count == 1 && align == PAGE_SIZE)
		return pmm_alloc(p, pa);
	if (count > p->total)
		return MM_ENOMEM;
	a = align >> PAGE_SHIFT;
	mm_lock(&p->lock);
	f = contig_find(p, count, a);
	if (f == NONE) {                /* cached frames are free frames: */
		mm_unlock(&p->lock);     /* have them all back, look again */
		uint64_t got = pmm_drain_all(p);
		mm_lock(&p->lock);
		if (got > 0)
			f = contig_find(p, count, a);
	}
	if (f == NONE) {
		mm_unlock(&p->lock);
		return MM_ENOMEM;
	}
	set_frames(p, f, f + count, 1);
	STORE(p->bitmap_free, p->bitmap_free - count);
	p->chint = f + count;
	mm_unlock(&p->lock);
	*pa = f << PAGE_SHIFT;
	return MM_OK;
}

/* ---------------------------------------------------------------- free */

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

/* Used in the bitmap, in no cache, and used again after that (theory 10:
 * a refill caches a frame before its bit is set, a drain clears the bit
 * before the frame leaves the cache, so a frame moving either way never
 * reads allocated). */
int pmm_is_allocated(const struct pmm *p, uint64_t pa)
{
	uint64_t f = pa >> PAGE_SHIFT;
	return pmm_is_ram(p, pa) && frame_allocated(p, f, 1) == 1;
}

/* Returns 1 if frames [f, end) are all allocated and untagged: bitmap 1,
 * tag 0 (theory 14: whole words ORed together, no branch per word), and
 * in no cache (where[] per frame).  Lock held. */
static int run_allocated(const struct pmm *p, uint64_t f, uint64_t end)
{
	uint64_t w0 = bit_word(f), wl = bit_word(end - 1), bad = 0;
	uint64_t m0 = bit_mask_from(bit_index(f));
	uint64_t ml = bit_mask(0, bit_index(end - 1) + 1);

	if (w0 == wl) {
		uint64_t m = m0 & ml;
		bad = (~p->bitmap[w0] | LOAD(p->tags[w0])) & m;
	} else {
		bad |= (~p->bitmap[w0] | LOAD(p->tags[w0])) & m0;
		bad |= (~p->bitmap[wl] | LOAD(p->tags[wl])) & ml;
		for (uint64_t w = w0 + 1; w < wl; w++)
			bad |= ~p->bitmap[w] | LOAD(p->tags[w]);
	}
	return bad == 0 && first_cached(p, f, end) == NONE;
}

/* Checks [pa, pa + n frames) can be freed: usable RAM (regions looked up
 * from *hint, which gets the last region's index), not the allocator's
 * metadata, every frame allocated (not free, not cached) and untagged.
 * Reports the first bad frame as fn(pa, n) and returns the status; MM_OK
 * if all is well.  Lock held: the bitmap does not change under it. */
static int check_free(struct pmm *p, const char *fn, uint64_t pa, uint64_t n, size_t *hint)
{
	uint64_t f = pa >> PAGE_SHIFT, end = 0, x;

	MM_LOCK_ASSERT_HELD(&p->lock);
	if ((pa & PAGE_MASK) || n == 0 || !range_end(f, n, &end)) {
		mm_printf("%s: bad argument pa 0x%llx, %llu frames\n", fn,
			  (unsigned long long)pa, (unsigned long long)n);
		return MM_EINVAL;
	}
	if (*hint >= p->map_count)      /* a region index kept in the metadata */
		mm_panic("check_free: region hint %zu beyond the map's %zu regions (metadata overwritten?)",
			 *hint, p->map_count);
	for (x = f; x < end;) {         /* every frame in usable regions */
		const struct mm_region *r = &p->map[*hint];
		uint64_t xpa = x << PAGE_SHIFT;
		if (xpa - r->base >= r->size && !(r = region_of(p, xpa, hint)))
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
	if (run_allocated(p, f, end))
		return MM_OK;
	for (x = f; x < end;) {         /* find and report the first bad frame */
		uint64_t w = bit_word(x), wend = bit_word_start(w + 1);
		unsigned lo = bit_index(x);
		unsigned hi = end >= wend ? BITS_PER_WORD : bit_index(end);
		uint64_t m = bit_mask(lo, hi);
		uint64_t clear = ~p->bitmap[w] & m;
		uint64_t tagged = LOAD(p->tags[w]) & m;
		uint64_t wlo = bit_word_start(w) + lo, whi = bit_word_start(w) + hi;
		uint64_t cf = first_cached(p, wlo, whi);
		if (cf != NONE)
			clear |= 1ULL << bit_index(cf);
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

/* Sets c's fast-path range to the part of usable region map[idx] that
 * holds frame f and no metadata frame. */
static void pcp_set_range(const struct pmm *p, struct pmm_pcp *c, size_t idx, uint64_t f)
{
	const struct mm_region *r = &p->map[idx];
	uint64_t lo = r->base >> PAGE_SHIFT, hi = (r->base + r->size) >> PAGE_SHIFT;
	uint64_t mlo = p->meta_pa >> PAGE_SHIFT, mhi = (p->meta_pa + p->meta_size) >> PAGE_SHIFT;

	if (mlo < hi && mhi > lo) {      /* the metadata splits the region */
		if (f < mlo)
			hi = mlo;
		else
			lo = mhi;
	}
	c->ram_hint = idx;
	c->ram_lo = lo;
	c->ram_len = hi - lo;
}

/* pmm_free when the fast path could not decide: under the lock, the full
 * check (which reports a bad free), then into this CPU's cache (draining
 * it first if full) or, for a CPU without one, into the bitmap.
 * Interrupts are off.  Kept out of line: the fast path stays a leaf. */
static __attribute__((noinline)) int free_slow(struct pmm *p, unsigned cpu, uint64_t pa)
{
	struct pmm_pcp *c = pcp_of(p, cpu);
	uint64_t f = pa >> PAGE_SHIFT;
	size_t hint;
	int st;

	mm_lock(&p->lock);
	hint = c ? c->ram_hint : p->ram_hint;
	st = check_free(p, "pmm_free", pa, 1, &hint);
	if (st != MM_OK)
		goto out;
	if (!c) {
		bitmap_give(p, f);
		p->ram_hint = hint;
		goto out;
	}
	pcp_open(p, c, cpu);
	if (pcp_serve(p, c)) {          /* an asker wants frames: this one too */
		bitmap_give(p, f);
		goto out;
	}
	if (c->count >= PMM_PCP_HIGH)
		pcp_drain(p, c, cpu);
	pcp_push(p, c, cpu, f);
	pcp_set_range(p, c, hint, f);
out:
	mm_unlock(&p->lock);
	return st;
}

/* pmm_free's fast path when where[f] = wf names no slot of this CPU's
 * cache c (a frame last cached elsewhere, garbage, a tag): pushes f unless
 * it is tagged (WHERE_TAGGED) or does not read allocated (cached in another
 * cache, given back to the bitmap by another CPU's drain since the fast
 * path's first look, or a drain or refill ran meanwhile: frame_allocated),
 * else the slow path decides.  Out of line and reached by a tail call, so
 * the fast path needs no stack frame. */
static __attribute__((noinline, cold)) int free_elsewhere(struct pmm *p, struct pmm_pcp *c,
							  unsigned cpu, uint64_t pa, uint32_t wf,
							  uint64_t irq)
{
	uint64_t f = pa >> PAGE_SHIFT;
	int st = MM_OK;

	if (wf != WHERE_TAGGED && frame_allocated(p, f, 0) == 1)
		pcp_push(p, c, cpu, f);
	else
		st = free_slow(p, cpu, pa);
	mm_irq_restore(irq);
	return st;
}

int pmm_free(struct pmm *p, uint64_t pa)
{
	uint64_t irq = mm_irq_save();
	unsigned cpu = mm_cpu_id();
	uint64_t f = pa >> PAGE_SHIFT;
	int st;

	/* Fast path, the usual case: the CPU has a cache with room and no
	 * drain request, pa is an aligned frame of the usable range (no
	 * metadata) of its last slow free, allocated (used in the bitmap, in
	 * no cache) and untagged.  Anything else goes through free_slow,
	 * which reports it.  Plain loads and stores (theory 10). */
	if (cpu < p->ncpus) {
		struct pmm_pcp *c = &p->pcp[cpu];
		uint32_t n = c->count;
		if (!(pa & PAGE_MASK) && f - c->ram_lo < c->ram_len && n < LOAD(c->limit) &&
		    frame_used(p, f)) {
			/* where[f] names a slot of this cache (the usual case: a
			 * dead one), or something else: another cache, a tag
			 * (WHERE_TAGGED), nothing */
			uint32_t wf = LOAD(p->where[f]), i = wf - cpu * PMM_PCP_HIGH;
			if (i >= PMM_PCP_HIGH)
				return free_elsewhere(p, c, cpu, pa, wf, irq);
			if (i >= n || c->slot[i] != f) {     /* a dead slot */
				pcp_push(p, c, cpu, f);
				mm_irq_restore(irq);
				return MM_OK;
			}
		}
	}
	st = free_slow(p, cpu, pa);
	mm_irq_restore(irq);
	return st;
}

int pmm_free_contig(struct pmm *p, uint64_t pa, uint64_t count)
{
	uint64_t f = pa >> PAGE_SHIFT;
	int st;

	mm_lock(&p->lock);
	st = check_free(p, "pmm_free_contig", pa, count, &p->ram_hint);
	if (st == MM_OK) {
		set_frames(p, f, f + count, 0);
		STORE(p->bitmap_free, p->bitmap_free + count);
		numa_note_free(p, f, f + count);
	}
	mm_unlock(&p->lock);
	return st;
}

/* ---------------------------------------------------------------- bulk */

/* How far ahead the bulk loops ask for the words they will need (theory
 * 15): the free, BULK_AHEAD entries (its three words each); the
 * allocation, BULK_AHEAD_WORDS bitmap words (8 lines, ~16 frames at 99.9%
 * full).  A miss costs ~100 ns; this many in flight hide it. */
#define BULK_AHEAD       32
#define BULK_AHEAD_WORDS 256

int pmm_alloc_bulk(struct pmm *p, uint64_t n, uint64_t *pa)
{
	uint64_t k = 0, w;

	if (n == 0 || !pa)
		return MM_EINVAL;
	if (n > p->total)
		return MM_ENOMEM;
	mm_lock(&p->lock);
	if (n > p->bitmap_free) {       /* cached frames are free frames */
		mm_unlock(&p->lock);
		pmm_drain_all(p);
		mm_lock(&p->lock);
	}
	if (n > p->bitmap_free) {
		mm_unlock(&p->lock);
		return MM_ENOMEM;
	}
	w = p->hint < p->nwords ? p->hint : 0;
	while (k < n) {                 /* theory 15: every free frame of a word */
		uint64_t old = p->bitmap[w], v = old;
		if (old == WORD_ALL_SET) {
			w = find_word_from(p, w);
			if (w == NONE)
				w = find_word_from(p, 0);
			if (w == NONE)
				mm_panic("pmm_alloc_bulk: free count %llu but no free frame",
					 (unsigned long long)p->bitmap_free);
			old = v = p->bitmap[w];
		}
		prefetch_line(&p->bitmap[w + BULK_AHEAD_WORDS]);
		for (; v != WORD_ALL_SET && k < n; k++) {
			unsigned bit = bit_lowest(~v);
			v |= 1ULL << bit;
			pa[k] = bit_number(w, bit) << PAGE_SHIFT;
		}
		STORE(p->bitmap[w], v);
		if (v == WORD_ALL_SET)
			summary_clear(p, w);
		block_note(p, w, old, v);
	}
	STORE(p->bitmap_free, p->bitmap_free - n);
	p->hint = w;
	mm_unlock(&p->lock);
	return MM_OK;
}

/* Marks frame f, which a refused pmm_free_bulk just gave back, used again
 * (the caller fixes bitmap_free).  Lock held. */
static void bulk_retake(struct pmm *p, uint64_t f)
{
	uint64_t w = bit_word(f), old = p->bitmap[w], v = old | 1ULL << bit_index(f);

	STORE(p->bitmap[w], v);
	if (v == WORD_ALL_SET)
		summary_clear(p, w);
	block_note(p, w, old, v);
}

/* A filter of the frames in the caches for pmm_free_bulk: bit
 * CACHE_FILTER_HASH(f) set for every frame in a live slot, so a clear bit
 * proves "not cached" from one word on the stack instead of a where[]
 * entry per frame (a cache miss each at 99.9 % full).  Worth it while the
 * caches hold few frames; past CACHE_FILTER_MAX the bits would all be set. */
#define CACHE_FILTER_BITS 4096
#define CACHE_FILTER_MAX  512
#define CACHE_FILTER_HASH(f) (((f) ^ ((f) >> 12)) % CACHE_FILTER_BITS)

/* Fills filter from the caches' live slots: 1, or 0 if they hold more than
 * CACHE_FILTER_MAX frames (then the filter is not used).  Lock held. */
static int cache_filter(const struct pmm *p, uint64_t filter[CACHE_FILTER_BITS / 64])
{
	uint32_t seen = LOAD(p->cpus_seen);

	if (pmm_cached_frames(p) > CACHE_FILTER_MAX)
		return 0;
	memset(filter, 0, CACHE_FILTER_BITS / 8);
	for (uint32_t cpu = 0; cpu < seen; cpu++) {
		const struct pmm_pcp *c = &p->pcp[cpu];
		for (uint32_t i = 0, k = LOAD(c->count); i < k; i++)
			bit_set(filter, CACHE_FILTER_HASH(LOAD(c->slot[i])));
	}
	return 1;
}

int pmm_free_bulk(struct pmm *p, uint64_t n, const uint64_t *pa)
{
	uint64_t i, filter[CACHE_FILTER_BITS / 64];
	int st = MM_OK, filtered;

	if (n == 0 || !pa) {
		mm_printf("pmm_free_bulk: bad argument: %llu frames at %p\n",
			  (unsigned long long)n, (const void *)pa);
		return MM_EINVAL;
	}
	mm_lock(&p->lock);
	filtered = cache_filter(p, filter);
	for (i = 0; i < n; i++) {       /* theory 15: check, then clear */
		uint64_t f = pa[i] >> PAGE_SHIFT, w = bit_word(f), m = 1ULL << bit_index(f);
		if (i + BULK_AHEAD < n) {
			uint64_t wa = bit_word(pa[i + BULK_AHEAD] >> PAGE_SHIFT);
			if (wa < p->nwords) {
				prefetch_line(&p->bitmap[wa]);
				prefetch_line(&p->tags[wa]);
				if (!filtered)
					prefetch_line(&p->where[pa[i + BULK_AHEAD] >> PAGE_SHIFT]);
			}
		}
		if ((pa[i] & PAGE_MASK) || f >= p->nframes || !(p->bitmap[w] & m) ||
		    (LOAD(p->tags[w]) & m) ||
		    ((!filtered || bit_test(filter, CACHE_FILTER_HASH(f))) && frame_cached(p, f)) ||
		    pa[i] - p->meta_pa < p->meta_size || p->map[p->ram_hint].type != MR_USABLE ||
		    pa[i] - p->map[p->ram_hint].base >= p->map[p->ram_hint].size) {
			st = check_free(p, "pmm_free_bulk", pa[i], 1, &p->ram_hint);
			if (st != MM_OK)
				break;
		}
		bitmap_give(p, f);
	}
	if (st != MM_OK) {
		mm_printf("pmm_free_bulk: entry %llu of %llu refused: nothing freed\n",
			  (unsigned long long)i, (unsigned long long)n);
		STORE(p->bitmap_free, p->bitmap_free - i);
		while (i-- > 0)
			bulk_retake(p, pa[i] >> PAGE_SHIFT);
	}
	mm_unlock(&p->lock);
	return st;
}

/* ---------------------------------------------------------------- tags */

int pmm_is_tagged(const struct pmm *p, uint64_t pa)
{
	uint64_t f = pa >> PAGE_SHIFT;
	return pmm_is_allocated(p, pa) && (LOAD(p->tags[bit_word(f)]) & (1ULL << bit_index(f)));
}

int pmm_tag(struct pmm *p, uint64_t pa)
{
	uint64_t f = pa >> PAGE_SHIFT, m = 1ULL << bit_index(f);

	if ((pa & PAGE_MASK) || !pmm_is_allocated(p, pa) ||
	    pa - p->meta_pa < p->meta_size)
		return MM_ENOENT;
	if (__atomic_fetch_or(&p->tags[bit_word(f)], m, __ATOMIC_RELAXED) & m)
		return MM_EBUSY;        /* was set: nothing changed */
	STORE(p->where[f], WHERE_TAGGED);
	return MM_OK;
}

int pmm_untag(struct pmm *p, uint64_t pa)
{
	uint64_t f = pa >> PAGE_SHIFT, m = 1ULL << bit_index(f);

	if ((pa & PAGE_MASK) || !pmm_is_tagged(p, pa))
		return MM_ENOENT;
	if (!(__atomic_fetch_and(&p->tags[bit_word(f)], ~m, __ATOMIC_RELAXED) & m))
		return MM_ENOENT;       /* untagged meanwhile: nothing changed */
	STORE(p->where[f], WHERE_NONE);
	return MM_OK;
}

/* ---------------------------------------------------------------- counts */

uint64_t pmm_cached_frames(const struct pmm *p)
{
	uint64_t n = 0;
	uint32_t seen = LOAD(p->cpus_seen);

	for (uint32_t cpu = 0; cpu < seen; cpu++)
		n += LOAD(p->pcp[cpu].count);
	return n;
}

uint64_t pmm_cpu_cached(const struct pmm *p, unsigned cpu)
{
	return cpu < p->ncpus ? LOAD(p->pcp[cpu].count) : 0;
}

uint64_t pmm_free_frames(const struct pmm *p)
{
	return LOAD(p->bitmap_free) + pmm_cached_frames(p);
}

/* This CPU's own cache here, the others by ask_all; interrupts off so
 * the CPU number stays ours.  Called without the lock. */
uint64_t pmm_drain_all(struct pmm *p)
{
	uint64_t irq = mm_irq_save(), got = 0;
	unsigned me = mm_cpu_id();

	if (me < p->ncpus) {
		mm_lock(&p->lock);
		got = pcp_drain_all(p, &p->pcp[me]);
		pcp_serve(p, &p->pcp[me]);      /* empty now: publishes done */
		mm_unlock(&p->lock);
	}
	got += ask_all(p, me);
	mm_irq_restore(irq);
	return got;
}

void pmm_totals(const struct pmm *p, uint64_t *total, uint64_t *free, uint64_t *used)
{
	uint64_t f = pmm_free_frames(p);

	if (total)
		*total = p->total;
	if (free)
		*free = f;
	if (used)
		*used = p->total - f;
}

void pmm_print(const struct pmm *p)
{
	uint64_t f = pmm_free_frames(p);

	mm_printf("pmm: %llu free frames of %llu (%llu MiB free)\n",
		  (unsigned long long)f, (unsigned long long)p->total,
		  (unsigned long long)(f >> (20 - PAGE_SHIFT)));
}

/* ---------------------------------------------------------------- check */

/* Checks the caches (theory 10): a cache is open (limit PMM_PCP_HIGH) or
 * untouched (limit 0, empty), holds at most its limit, and every live slot
 * holds a frame of usable RAM that is used in the bitmap, untagged, and
 * whose where[] entry names that slot - so no frame is in two slots.
 * O(slots).  Prints the first violation and returns MM_EINVAL. */
static int check_caches(const struct pmm *p)
{
	for (uint32_t cpu = 0; cpu < p->ncpus; cpu++) {
		const struct pmm_pcp *c = &p->pcp[cpu];
		uint32_t n = LOAD(c->count), lim = LOAD(c->limit);
		if ((lim != 0 && lim != PMM_PCP_HIGH) || n > PMM_PCP_HIGH ||
		    (!c->opened && (lim || n)) || (cpu >= p->cpus_seen && c->opened)) {
			mm_printf("pmm_check: cache of CPU %u: count %u limit %u (CPUs seen %u)\n",
				  cpu, n, lim, p->cpus_seen);
			return MM_EINVAL;
		}
		for (uint32_t i = 0; i < n; i++) {
			uint64_t f = LOAD(c->slot[i]);
			const char *bad = NULL;
			if (f >= p->nframes || !pmm_is_ram(p, f << PAGE_SHIFT))
				bad = "not RAM";
			else if (!bit_test(p->bitmap, f))
				bad = "free in the bitmap";
			else if (LOAD(p->tags[bit_word(f)]) & (1ULL << bit_index(f)))
				bad = "tagged";
			else if (LOAD(p->where[f]) != where_of(cpu, i))
				bad = "named elsewhere by where[] (in two slots?)";
			if (bad) {
				mm_printf("pmm_check: cache of CPU %u slot %u: frame 0x%llx is %s\n",
					  cpu, i, (unsigned long long)(f << PAGE_SHIFT), bad);
				return MM_EINVAL;
			}
		}
	}
	return MM_OK;
}

int pmm_check(const struct pmm *p)
{
	uint64_t clear = 0, cur = 0;

	for (uint64_t w = 0; w < p->nwords; w++) {
		uint64_t bm = p->bitmap[w], tg = LOAD(p->tags[w]);
		int has_free = bm != WORD_ALL_SET;
		int bit = (int)bit_test(p->summary, w);
		if (has_free != bit) {
			mm_printf("pmm_check: summary bit of word %llu is %d\n",
				  (unsigned long long)w, bit);
			return MM_EINVAL;
		}
		clear += BITS_PER_WORD - bit_count(bm);
		if (tg & ~bm) {
			mm_printf("pmm_check: a free frame of word %llu is tagged\n",
				  (unsigned long long)w);
			return MM_EINVAL;
		}
		for (uint64_t t = tg; t; t &= t - 1) {
			uint64_t f = bit_number(w, bit_lowest(t));
			if (LOAD(p->where[f]) != WHERE_TAGGED) {
				mm_printf("pmm_check: tagged frame 0x%llx has where[] 0x%x, not the tag's\n",
					  (unsigned long long)(f << PAGE_SHIFT), LOAD(p->where[f]));
				return MM_EINVAL;
			}
		}
	}
	for (uint64_t w = p->nwords; w < bit_word_start(p->nsum); w++)
		if (bit_test(p->summary, w)) {
			mm_printf("pmm_check: summary padding bit %llu is set\n",
				  (unsigned long long)w);
			return MM_EINVAL;
		}
	for (uint64_t b = 0; b < bit_word_start(p->nblockw); b++) {
		uint64_t any = 1;
		if (b < p->nblocks) {
			any = 0;
			for (uint64_t k = 0; k < BLOCK_WORDS; k++)
				any |= p->bitmap[b * BLOCK_WORDS + k];
		}
		if ((any == 0) != (int)bit_test(p->blocks, b)) {
			mm_printf("pmm_check: free-block bit of block %llu (frame 0x%llx) is %u\n",
				  (unsigned long long)b,
				  (unsigned long long)(b * PMM_BLOCK_FRAMES << PAGE_SHIFT),
				  bit_test(p->blocks, b));
			return MM_EINVAL;
		}
	}
	for (uint64_t s = 0; s < bit_word_start(p->nsum2); s++) {
		int bit = (int)bit_test(p->summary2, s);
		if (s >= p->nsum) {
			if (bit) {
				mm_printf("pmm_check: summary2 padding bit %llu is set\n",
					  (unsigned long long)s);
				return MM_EINVAL;
			}
			continue;
		}
		if ((p->summary[s] != 0) != bit) {
			mm_printf("pmm_check: summary2 bit of summary word %llu is %d\n",
				  (unsigned long long)s, bit);
			return MM_EINVAL;
		}
	}
	if (clear != p->bitmap_free) {
		mm_printf("pmm_check: %llu clear bits, free count %llu\n",
			  (unsigned long long)clear, (unsigned long long)p->bitmap_free);
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
	return check_caches(p);
}
