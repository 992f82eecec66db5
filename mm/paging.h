/*
 * mm/paging.h - x86_64 page tables, 4 or 5 levels as chosen at boot
 * (mm/pgmode.h): map, unmap, allocate-and-map,
 * and mapping physical ranges (ACPI tables, MMIO, the ramdisk) into the
 * kernel window.
 *
 * Theory statement of mm/ (frames -> addresses -> mappings):
 *
 *  1. Frames come from struct pmm (mm/pmm.h).  Virtual ranges come from a
 *     struct virtaddr_space per range (mm/vaddr.h): the kernel window
 *     [KWIN_BASE, KWIN_END) and the user half [USER_BASE, USER_END).
 *     struct addrspace ties a root table to one pmm and those spaces.
 *
 *  2. Page tables are frames reached through the direct map
 *     (mm_phys_to_virt); no table is ever mapped anywhere else.  A table
 *     page is zeroed when it is taken from the pmm.
 *
 *  3. Mapping never overwrites: a present entry in the way (a 4 KiB page or
 *     a large page at a higher level) makes the call fail with MM_EBUSY,
 *     and map_pages / mem_map_pages_at are all or nothing: on any failure
 *     they unmap what they mapped (and free the frames they took).
 *
 *  4. The kernel half (root slots 256..511 of the PML4 or PML5) is shared
 *     by every address space, so table pages hanging directly from the
 *     root there (PDPTs, or PML4s under 5 levels)
 *     are never freed; lower-level tables that become empty on unmap are
 *     unlinked at once and freed after the next TLB shootdown (theory 8).  The direct map (HHDM_BASE .. + HHDM_MAX_SIZE) is the loader's:
 *     no call here touches it (MM_EINVAL).  Page 0 is never mapped.
 *
 *  5. Permissions live in the leaf entry; intermediate entries are present,
 *     writable, and user-accessible only in the lower half.  A walker
 *     treats a PS entry at the PDPT or PD level as a 1 GiB / 2 MiB leaf.
 *
 *  6. Locking.  Every lock is a struct mm_lock (mm/lock.h): held with
 *     interrupts off, never across mm_tlb_shootdown.
 *       as->lock   ("paging")  the lower half's page tables of as, and the
 *                  kernel half's if as owns them (adopted, or created
 *                  without a space to share);
 *       as->klock  points at the lock of the kernel half's tables: &as->lock,
 *                  or the shared space's klock.  A call works in one half
 *                  (check_range) and takes that half's lock, the "paging
 *                  lock" below; the two are never held together, except
 *                  ptcheck, which takes them one after the other.
 *       as->lazy_lock ("paging lazy")  the lazy list, the dead-table list,
 *                  their counters and the blocks' lazy_next links (theory 8).
 *       s->lock    ("vaddr") each vaddr space (mm/vaddr.h theory 5).
 *       the pmm's own lock, innermost.
 *     Order: paging -> vaddr -> pmm, and paging -> lazy; the lazy lock
 *     nests nothing.  table_pages is atomic (two halves, two locks).
 *     walk_pt, map_core, mark_pending, finalize and park_path assert the
 *     paging lock held.  kalloc has no lock of its own: a kfree is made
 *     atomic by claiming its block (mm/vaddr.h theory 7) under the paging
 *     lock, a direct-map page by pmm_untag.  Calls that may shoot down
 *     (every unmap, and every allocation, which may purge) hold no lock
 *     and run with interrupts on, or on the only CPU.
 *
 *  7. Who may free what.  A 4 KiB leaf whose frame came from the pmm with
 *     the mapping (mem_map_pages_at, kalloc) carries PTE_OWNED; one that
 *     maps someone else's frame (map_pages, mem_map_addr) does not.  Kernel
 *     window and user blocks carry their maker's tag (mm/vaddr.h theory 6).
 *     Every unmap (paging_unmap_block) checks the whole request first: each
 *     page mapped, 4 KiB, owned exactly when the call frees frames, and not
 *     inside a block another API made.  Any mismatch refuses the call with
 *     nothing changed, so a partly mapped range is never half unmapped.
 *
 *  8. Unmapping on many CPUs.  Other CPUs may hold translations of any
 *     page, so a frame, a table page or a virtual range may be reused only
 *     after mm_tlb_shootdown has returned.  An unmap therefore:
 *       a. under the paging lock, checks the request and turns each leaf
 *          into a pending entry: not present (the MMU ignores it), with
 *          PTE_PENDING and the frame address and PTE_OWNED kept, so the
 *          frame is remembered without any other memory.  A pending entry
 *          is non-zero: map_pages sees it busy (MM_EBUSY), another unmap
 *          sees it not mapped (MM_ENOENT), its table is not empty;
 *       b. drops the lock and shoots down (no lock held);
 *       c. under the paging lock again (finalize), frees owned frames and
 *          zeroes the entries; a table that becomes empty is unlinked from
 *          its parent and parked on the dead list (chained through its
 *          word 0, a page-aligned address, i.e. a not-present entry to a
 *          stale paging-structure cache), to be freed after the next
 *          shootdown: one issued after the unlink empties every CPU's
 *          paging-structure caches of it (an invlpg drops those entries).
 *     unmap_pages and mem_unmap_pages do a-b-c in the call (and a second
 *     shootdown if they parked tables), so frames and tables are back when
 *     they return.  kfree and mem_unmap_addr are lazy, as Linux's vfree:
 *     a. also claims the vaddr block (pending: no free or allocation can
 *     touch it) and flushes this CPU's TLB for the range (so this CPU
 *     faults on a use after free at once; other CPUs may still read the old
 *     frames, which stay allocated), and the block goes on as's lazy list.
 *     A purge round takes the whole lazy list and the dead list, issues ONE
 *     shootdown over the union of their ranges, then finalizes every block
 *     and frees the block's range.  A round runs when the lazy list holds
 *     lazy_max pages (PAGING_LAZY_MAX_PAGES, at most 1/PAGING_LAZY_RAM_SHARE
 *     of the pmm's frames); paging_purge runs rounds until nothing
 *     is pending (before a baseline comparison), and every allocation that
 *     would fail for lack of frames or addresses purges and tries once more
 *     (mm/vaddr.h theory 7 for the vaddr spaces), so out of memory still
 *     means out of memory.  Dead tables count in lazy_pages too, so held
 *     memory is bounded by lazy_max plus one round's tables.
 *     ptcheck sees neither pending entries as mappings nor dead tables; it
 *     checks that a pending entry's owned frame is still allocated.
 *     Address spaces sharing a kernel half keep their own lazy lists.
 */
#ifndef MM_PAGING_H
#define MM_PAGING_H

#include <stdint.h>
#include "mm/lock.h"
#include "mm/pmm.h"
#include "mm/vaddr.h"

/* Mapping flags (the `flags` argument below). */
#define MAPF_WRITE      (1u << 0)   /* writable */
#define MAPF_USER       (1u << 1)   /* user accessible (lower half only) */
#define MAPF_NOEXEC     (1u << 2)   /* no execute */
#define MAPF_UNCACHED   (1u << 3)   /* cache mode UC (PCD|PWT): MMIO */
#define MAPF_WRTHROUGH  (1u << 4)   /* cache mode WT (PWT) */
/* Cache mode WC (PAT|PCD|PWT: PAT entry 7, which the kernel programs to WC
 * at boot, mm/x86_64.h): framebuffers.  MAPF_UNCACHED wins over it, it
 * wins over MAPF_WRTHROUGH. */
#define MAPF_WRCOMBINE  (1u << 5)
#define MAPF_ALL        0x3fu

/* Unmapping more pages than this flushes the whole TLB instead of one
 * invlpg per page: past a few dozen pages a CR3 reload (and the refill of a
 * cold TLB) is cheaper than the invlpg loop, and it bounds the work (Linux's
 * tlb_single_page_flush_ceiling is 33).  The kernel's shootdown uses the
 * same ceiling on every CPU. */
#define PAGING_FLUSH_ALL_PAGES 33

/* A pending leaf (theory 8): bit 10, free for software like PTE_OWNED (bit
 * 9), on an entry whose P bit is clear. */
#define PTE_PENDING    (1ULL << 10)

/* Pages kfree / mem_unmap_addr may leave pending before a purge round:
 * 32 MiB, Linux's lazy vmalloc unit (lazy_max_pages() is fls(ncpu) of
 * them; mm/ does not know the CPU count, so one).  At 4 KiB per page a
 * 2-page kfree costs one shootdown per 4096 frees. */
#define PAGING_LAZY_MAX_PAGES 8192

/* ...and at most this share of the pmm's frames (1/16), so a small machine
 * does not keep a large part of its memory waiting for a purge (128 MiB:
 * 2 MiB; from 512 MiB on the 32 MiB above is the bound). */
#define PAGING_LAZY_RAM_SHARE 16

/* ...and at most this many pending blocks: each pins a vaddr node (80
 * bytes) until its round, and node frames stay in the space's pool once
 * taken; 256 blocks are 5 frames of nodes.  A 1-page kfree then costs one
 * shootdown per 256 frees (4 per 1,000). */
#define PAGING_LAZY_MAX_BLOCKS 256

/* Counters of unmaps and shootdowns (paging_stats). */
struct paging_stats {
	uint64_t unmaps;       /* unmapping calls that succeeded */
	uint64_t lazy_unmaps;  /* of them, lazy (kfree, mem_unmap_addr) */
	uint64_t shootdowns;   /* mm_tlb_shootdown calls made */
	uint64_t purges;       /* purge rounds that shot down */
};

struct addrspace {
	struct mm_lock lock;          /* "paging": see theory 6 */
	struct mm_lock *klock;        /* the kernel half's lock (theory 6) */
	struct mm_lock lazy_lock;     /* "paging lazy": lazy .. inflight below */
	struct virtaddr_block *lazy;  /* pending blocks (theory 8), newest first */
	uint64_t lazy_pages;          /* their pages + dead tables */
	uint64_t lazy_blocks;         /* blocks on the lazy list */
	uint64_t lazy_max;            /* a round when lazy_pages reaches it (const) */
	uint64_t dead_pa;             /* parked empty tables, chained by word 0 */
	uint64_t ndead;               /* how many */
	uint64_t dead_lo, dead_hi;    /* pages whose walks used them: [lo, hi) */
	uint64_t inflight;            /* purge rounds between detach and finish */
	struct paging_stats stats;    /* atomic counters */
	uint64_t root_pa;             /* root table: PML4 or PML5 (mm/pgmode.h) */
	struct pmm *pmm;              /* frames for tables and mem_map_pages_at */
	struct virtaddr_space *kwin;  /* kernel window allocator (or NULL) */
	struct virtaddr_space *user;  /* user half allocator (or NULL) */
	uint64_t table_pages;         /* table pages this space allocated, live
					 (dead ones included until freed) */
	int owns_root;                /* created here: addrspace_destroy frees the
					 root and the lower-half tables */
	int owns_kernel_half;         /* created without a space to share: it
					 frees the kernel-half tables too */
};

/* Adopts the live root table at root_pa (e.g. from CR3): nothing is
 * allocated and the existing entries (the loader's direct map and kernel
 * image) are left alone.  kwin / user may be NULL.  Always MM_OK. */
int addrspace_adopt(struct addrspace *as, struct pmm *pmm, uint64_t root_pa,
		    struct virtaddr_space *kwin, struct virtaddr_space *user);

/* Creates a space with a fresh root; if kernel is not NULL its kernel half
* (root slots 256..511) is shared.  MM_OK or MM_ENOMEM. */
int addrspace_create(struct addrspace *as, struct pmm *pmm, const struct addrspace *kernel,
		     struct virtaddr_space *kwin, struct virtaddr_space *user);

/* Purges (paging_purge), then frees every table page of a created space:
 * all lower-half tables, the kernel-half ones too if it did not share them,
 * and the root.  Leaf frames are the caller's.  Adopted spaces are only
 * purged.  No other CPU may use as meanwhile. */
void addrspace_destroy(struct addrspace *as);

/* Makes sure the root-table entries covering [va, va + size) exist, so spaces
 * created later share them.  MM_OK, MM_EINVAL (reported: what map_pages
 * refuses - unaligned, empty, wrapping, non-canonical, across the halves,
 * the 5-level hole above USER_END, page 0, the direct map) or MM_ENOMEM. */
int paging_prepopulate(struct addrspace *as, uint64_t va, uint64_t size);

/* Maps count 4 KiB pages [va, ...) to frames [pa, ...) with flags.
 * All or nothing.  MM_OK; MM_EBUSY if anything is mapped there; MM_EINVAL
 * (unaligned, count 0, non-canonical, page 0, the direct map, user flag in
 * the upper half); MM_ENOMEM (no frame for a table). */
int map_pages(struct addrspace *as, uint64_t va, uint64_t pa, uint64_t count,
	      unsigned flags);

/* Unmaps count pages from va (mapped by map_pages), shoots down every
 * CPU's TLB entries for them and frees table pages that become empty, all
 * before it returns (theory 8).  All or nothing (theory 7): a page not
 * mapped (MM_ENOENT), under a large page (MM_EINVAL), owning its frame or
 * inside a kalloc / mem_map_addr block (MM_EOWNER) refuses the whole call,
 * reported with the counts; nothing changes. */
int unmap_pages(struct addrspace *as, uint64_t va, uint64_t count);

/* Allocates count frames (zeroed; not necessarily contiguous) and maps them
 * at va.  All or nothing: on MM_ENOMEM / MM_EBUSY nothing stays allocated
 * or mapped.  Errors as map_pages. */
int mem_map_pages_at(struct addrspace *as, uint64_t va, uint64_t count, unsigned flags);

/* Unmaps count pages at va (mapped by mem_map_pages_at) and returns their
 * frames to the pmm once every CPU's TLB is shot down (theory 8).  All or nothing as unmap_pages: a page that does not
 * own its frame (map_pages) is MM_EOWNER. */
int mem_unmap_pages(struct addrspace *as, uint64_t va, uint64_t count);

/* The unmap behind unmap_pages (free_frames 0), mem_unmap_pages (1),
 * kfree and mem_unmap_addr: checks the range, the vaddr blocks under it
 * (made by the caller or by owner), every leaf (mapped, 4 KiB, owning its
 * frame exactly when free_frames), reporting a refusal as `who`; then
 * unmaps.  MM_OK, MM_EINVAL, MM_ENOENT or MM_EOWNER. */
int paging_unmap_block(struct addrspace *as, uint64_t va, uint64_t count, int free_frames,
		       uint32_t owner, const char *who);

/* The lazy unmap behind kfree (s: the space holding va) and mem_unmap_addr
 * (theory 8).  Under the paging lock: [va, va + count pages) must be
 * exactly one block of s made by owner (else a bad free reported as `who`:
 * MM_ENOENT - a pending block too -, MM_EOWNER, MM_EINVAL), then passes
 * paging_unmap_block's checks; then the block is claimed (pending), its
 * leaves made pending, this CPU's TLB flushed for them, and the block
 * queued on as's lazy list; a full list runs a purge round.  Refused calls
 * change nothing. */
int paging_unmap_lazy(struct addrspace *as, struct virtaddr_space *s, uint64_t va,
		      uint64_t count, int free_frames, uint32_t owner, const char *who);

/* Maps the physical range [pa, pa + size) (any alignment) into the kernel
 * window of as; *va gets the virtual address of pa itself.  MAPF_UNCACHED
 * for MMIO.  MM_OK, MM_EINVAL (as NULL or without a window, bad range or
 * flags), MM_ENOMEM (window or tables). */
int mem_map_addr(struct addrspace *as, uint64_t pa, uint64_t size, unsigned flags,
		 uint64_t *va);

/* Undoes mem_map_addr(pa, size) that returned va, lazily (theory 8: the
 * range faults on this CPU at once and is reused after a purge round).
 * MM_OK; a range that is not exactly one mem_map_addr block is refused with
 * nothing changed: MM_ENOENT (a pending one too), MM_EOWNER (kalloc or
 * virtaddr_alloc made it) or MM_EINVAL. */
int mem_unmap_addr(struct addrspace *as, uint64_t va, uint64_t size);

/* Runs purge rounds (theory 8) until nothing is pending in as - none on
 * its lazy list, no dead table, no round of another CPU unfinished - so
 * every frame, table page and range freed before the call is back in its
 * allocator.  Returns the pages and tables it reclaimed.  No lock held;
 * interrupts on (or the only CPU). */
uint64_t paging_purge(struct addrspace *as);

/* Copies the counters of as (theory 8) to *st. */
void paging_stats(const struct addrspace *as, struct paging_stats *st);

/* Returns the vaddr space of as (kwin or user) holding va, or NULL. */
struct virtaddr_space *addrspace_vspace(struct addrspace *as, uint64_t va);

/* Registers as the kernel's address space (the kernel does it once, in
 * kmem_init), which kalloc / kfree use; NULL unregisters it. */
void addrspace_set_kernel(struct addrspace *as);

/* Returns the kernel's address space, or NULL before it is registered. */
struct addrspace *addrspace_kernel(void);

/* Looks up va: MM_OK with *pa (physical address of va itself) and *pte
 * (the leaf entry, its PS bit set for large pages), or MM_ENOENT (pending
 * entries too, and a non-canonical va).  Takes the paging lock of va's half. */
int paging_query(const struct addrspace *as, uint64_t va, uint64_t *pa, uint64_t *pte);

/* Returns the PTE bits (P, W, U, NX, PCD, PWT) flags ask for in a leaf. */
uint64_t paging_pte_bits(unsigned flags);

#endif
