/*
 * kernel/acpi/boot.c - the kernel's one parse of the ACPI tables (see
 * boot.h).
 */
#include "kernel/acpi/boot.h"
#include "kernel/console/console.h"

static struct acpi boot_acpi;
static int boot_acpi_done;

/* See boot.h. */
const struct acpi *acpi_boot_init(const struct bootinfo *bi, const struct physmap *pm)
{
	if (boot_acpi_done) {
		kprintf("acpi: acpi_boot_init called again: the first parse is kept\n");
		return &boot_acpi;
	}
	acpi_parse(&boot_acpi, pm, (bi->flags & BOOTINFO_F_RSDP) ? bi->rsdp_pa : 0);
	boot_acpi_done = 1;
	return &boot_acpi;
}
