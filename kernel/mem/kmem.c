/*
 * kernel/mem/kmem.c - the kernel's address space (see kernel/mem/kmem.h).
 */
#include "kernel/arch/io.h"
#include "kernel/console/console.h"
#include "kernel/mem/kmem.h"
#include "mm/layout.h"
#include "mm/status.h"

static struct virtaddr_space kmem_kwin, kmem_user;
static struct addrspace kmem_as;

/* Adopts CR3 and sets up the allocators on top of it. */
void kmem_init(struct pmm *pmm)
{
	int s;

	s = virtaddr_init(&kmem_kwin, pmm, KWIN_BASE, KWIN_END);
	if (s == MM_OK)
		s = virtaddr_init(&kmem_user, pmm, USER_BASE, USER_END);
	if (s != MM_OK)
		panic("kmem_init: virtaddr_init: %s", mm_status_str(s));
	addrspace_adopt(&kmem_as, pmm, read_cr3(), &kmem_kwin, &kmem_user);
	/* Shared by every later address space: the PDPTs must exist now. */
	s = paging_prepopulate(&kmem_as, KWIN_BASE, KWIN_END - KWIN_BASE);
	if (s != MM_OK)
		panic("kmem_init: paging_prepopulate: %s", mm_status_str(s));
	addrspace_set_kernel(&kmem_as);
	kprintf("kmem: root 0x%lx, kernel window 0x%lx-0x%lx, user 0x%lx-0x%lx, %lu table pages\n",
		kmem_as.root_pa, (unsigned long)KWIN_BASE, (unsigned long)KWIN_END,
		(unsigned long)USER_BASE, (unsigned long)USER_END, kmem_as.table_pages);
}
