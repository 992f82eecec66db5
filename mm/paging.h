/*
 * mm/paging.h - x86_64 4-level page tables: map, unmap, allocate-and-map,
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
 *  4. The kernel half (PML4 slots 256..511) is shared by every address
 *     space, so table pages hanging directly from the PML4 there (PDPTs)
 *     are never freed; lower-level tables that become empty on unmap are
 *     freed.  The direct map (HHDM_BASE .. + HHDM_MAX_SIZE) is the loader's:
 *     no call here touches it (MM_EINVAL).  Page 0 is never mapped.
 *
 *  5. Permissions live in the leaf entry; intermediate entries are present,
 *     writable, and user-accessible only in the lower half.  A walker
 *     treats a PS entry at the PDPT or PD level as a 1 GiB / 2 MiB leaf.
 *
 *  6. Locking: none; the caller serialises work on one address space.
 *
 *  7. Who may free what.  A 4 KiB leaf whose frame came from the pmm with
 *     the mapping (mem_map_pages_at, kalloc) carries PTE_OWNED; one that
 *     maps someone else's frame (map_pages, mem_map_addr) does not.  Kernel
 *     window and user blocks carry their maker's tag (mm/vaddr.h theory 6).
 *     Every unmap (paging_unmap_block) checks the whole request first: each
 *     page mapped, 4 KiB, owned exactly when the call frees frames, and not
 *     inside a block another API made.  Any mismatch refuses the call with
 *     nothing changed, so a partly mapped range is never half unmapped.
 */
#ifndef MM_PAGING_H
#define MM_PAGING_H

#include <stdint.h>
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
 * cold TLB) is cheaper than the invlpg loop, and it bounds the work. */
#define PAGING_FLUSH_ALL_PAGES 32

struct addrspace {
	uint64_t root_pa;             /* PML4 */
	struct pmm *pmm;              /* frames for tables and mem_map_pages_at */
	struct virtaddr_space *kwin;  /* kernel window allocator (or NULL) */
	struct virtaddr_space *user;  /* user half allocator (or NULL) */
	uint64_t table_pages;         /* table pages this space allocated, live */
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
 * (PML4 slots 256..511) is shared.  MM_OK or MM_ENOMEM. */
int addrspace_create(struct addrspace *as, struct pmm *pmm, const struct addrspace *kernel,
		     struct virtaddr_space *kwin, struct virtaddr_space *user);

/* Frees every table page of a created space: all lower-half tables, the
 * kernel-half ones too if it did not share them, and the root.  Leaf
 * frames are the caller's.  Adopted spaces are left as they are. */
void addrspace_destroy(struct addrspace *as);

/* Makes sure the PML4 entries covering [va, va + size) exist, so spaces
 * created later share them.  MM_OK, MM_EINVAL or MM_ENOMEM. */
int paging_prepopulate(struct addrspace *as, uint64_t va, uint64_t size);

/* Maps count 4 KiB pages [va, ...) to frames [pa, ...) with flags.
 * All or nothing.  MM_OK; MM_EBUSY if anything is mapped there; MM_EINVAL
 * (unaligned, count 0, non-canonical, page 0, the direct map, user flag in
 * the upper half); MM_ENOMEM (no frame for a table). */
int map_pages(struct addrspace *as, uint64_t va, uint64_t pa, uint64_t count,
	      unsigned flags);

/* Unmaps count pages from va (mapped by map_pages), frees table pages that
 * become empty and flushes the TLB.  All or nothing (theory 7): a page not
 * mapped (MM_ENOENT), under a large page (MM_EINVAL), owning its frame or
 * inside a kalloc / mem_map_addr block (MM_EOWNER) refuses the whole call,
 * reported with the counts; nothing changes. */
int unmap_pages(struct addrspace *as, uint64_t va, uint64_t count);

/* Allocates count frames (zeroed; not necessarily contiguous) and maps them
 * at va.  All or nothing: on MM_ENOMEM / MM_EBUSY nothing stays allocated
 * or mapped.  Errors as map_pages. */
int mem_map_pages_at(struct addrspace *as, uint64_t va, uint64_t count, unsigned flags);

/* Unmaps count pages at va (mapped by mem_map_pages_at) and returns their
 * frames to the pmm.  All or nothing as unmap_pages: a page that does not
 * own its frame (map_pages) is MM_EOWNER. */
int mem_unmap_pages(struct addrspace *as, uint64_t va, uint64_t count);

/* The unmap behind unmap_pages (free_frames 0), mem_unmap_pages (1),
 * kfree and mem_unmap_addr: checks the range, the vaddr blocks under it
 * (made by the caller or by owner), every leaf (mapped, 4 KiB, owning its
 * frame exactly when free_frames), reporting a refusal as `who`; then
 * unmaps.  MM_OK, MM_EINVAL, MM_ENOENT or MM_EOWNER. */
int paging_unmap_block(struct addrspace *as, uint64_t va, uint64_t count, int free_frames,
		       uint32_t owner, const char *who);

/* Maps the physical range [pa, pa + size) (any alignment) into the kernel
 * window of as; *va gets the virtual address of pa itself.  MAPF_UNCACHED
 * for MMIO.  MM_OK, MM_EINVAL (as NULL or without a window, bad range or
 * flags), MM_ENOMEM (window or tables). */
int mem_map_addr(struct addrspace *as, uint64_t pa, uint64_t size, unsigned flags,
		 uint64_t *va);

/* Undoes mem_map_addr(pa, size) that returned va.  MM_OK; a range that is
 * not exactly one mem_map_addr block is refused with nothing changed:
 * MM_ENOENT, MM_EOWNER (kalloc or virtaddr_alloc made it) or MM_EINVAL. */
int mem_unmap_addr(struct addrspace *as, uint64_t va, uint64_t size);

/* Registers as the kernel's address space (the kernel does it once, in
 * kmem_init), which kalloc / kfree use; NULL unregisters it. */
void addrspace_set_kernel(struct addrspace *as);

/* Returns the kernel's address space, or NULL before it is registered. */
struct addrspace *addrspace_kernel(void);

/* Looks up va: MM_OK with *pa (physical address of va itself) and *pte
 * (the leaf entry, its PS bit set for large pages), or MM_ENOENT. */
int paging_query(const struct addrspace *as, uint64_t va, uint64_t *pa, uint64_t *pte);

/* Returns the PTE bits (P, W, U, NX, PCD, PWT) flags ask for in a leaf. */
uint64_t paging_pte_bits(unsigned flags);

#endif
