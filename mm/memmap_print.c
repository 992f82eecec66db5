/*
 * mm/memmap_print.c - printing of the raw map (EDK II shell `memmap -sfo`
 * form) and of the sanitised map (Linux e820 style).  See mm/memmap.h.
 *
 * The -sfo form, as the EDK II shell of OVMF writes it (captured samples:
 * tests/data/memmaps/ovmf-q35-*.sfo*):
 *   ShellCommand,"memmap"
 *   MemoryMap,"<type>","<start>","<inclusive end>","<pages>","<attribute>"
 *   MemoryMapSummary,"<total>","<reserved>",... 17 decimal byte counts
 * Numbers in MemoryMap lines are upper-case hex without padding.  The shell
 * leaves out descriptors of unknown / OS-defined types; we print them with
 * the name "Type<hex>" so nothing the kernel sees is hidden.
 */
#include "mm/memmap.h"
#include "mm/platform.h"
#include "mm/x86_64.h"

/* Returns the EDK II shell's -sfo name of EFI memory type t, or NULL for a
 * type the shell does not name (unknown or OS-defined). */
const char *memmap_efi_type_name(uint32_t t)
{
	static const char *const names[EFI_NAMED_TYPES] = {
		"Reserved", "LoaderCode", "LoaderData", "BootServiceCode",
		"BootServiceData", "RuntimeCode", "RuntimeData", "Available",
		"UnusableMemory", "ACPIReclaimMemory", "ACPIMemoryNVS",
		"MemoryMappedIO", "MemoryMappedIOPortSpace", "PalCode",
		"Persistent", "Unaccepted",
	};
	return t < EFI_NAMED_TYPES ? names[t] : NULL;
}

/* Summary columns of MemoryMapSummary after the total, in the shell's order;
 * each is the EFI type whose bytes it sums.  The shell separates the last
 * column with ", " (a space after the comma); we copy that quirk. */
static const uint8_t summary_types[] = {
	EFI_RESERVED, EFI_BS_CODE, EFI_BS_DATA, EFI_RT_CODE, EFI_RT_DATA,
	EFI_LOADER_CODE, EFI_LOADER_DATA, EFI_CONVENTIONAL, EFI_MMIO,
	EFI_MMIO_PORT, EFI_UNUSABLE, EFI_ACPI_RECLAIM, EFI_ACPI_NVS,
	EFI_PAL_CODE, EFI_UNACCEPTED, EFI_PERSISTENT,
};

/* Returns 1 if the shell counts EFI type t in its total: everything but
 * reserved, unusable and MMIO (unknown and OS-defined types included). */
static int counts_in_total(uint32_t t)
{
	return t != EFI_RESERVED && t != EFI_UNUSABLE && t != EFI_MMIO && t != EFI_MMIO_PORT;
}

void memmap_print_raw(const void *raw, uint64_t raw_size, uint32_t desc_size)
{
	uint64_t bytes[EFI_NAMED_TYPES] = { 0 };
	uint64_t total = 0;

	mm_printf("ShellCommand,\"memmap\"\n");
	if (!memmap_desc_size_ok(desc_size))
		return;             /* memmap_sanitize refuses it too (MM_EINVAL) */
	for (uint64_t off = 0; off + desc_size <= raw_size; off += desc_size) {
		const struct bootinfo_efi_desc *d =
			(const struct bootinfo_efi_desc *)((const uint8_t *)raw + off);
		const char *name = memmap_efi_type_name(d->type);
		uint64_t size = d->num_pages << PAGE_SHIFT;

		if (name)
			mm_printf("MemoryMap,\"%s\",", name);
		else
			mm_printf("MemoryMap,\"Type%X\",", d->type);
		mm_printf("\"%llX\",\"%llX\",\"%llX\",\"%llX\"\n",
			  (unsigned long long)d->phys_start,
			  (unsigned long long)(d->phys_start + size - 1),
			  (unsigned long long)d->num_pages,
			  (unsigned long long)d->attribute);
		if (d->type < EFI_NAMED_TYPES)
			bytes[d->type] += size;
		if (counts_in_total(d->type))
			total += size;
	}
	mm_printf("MemoryMapSummary,\"%llu\"", (unsigned long long)total);
	for (size_t i = 0; i < sizeof(summary_types); i++)
		mm_printf("%s\"%llu\"", i + 1 < sizeof(summary_types) ? "," : ", ",
			  (unsigned long long)bytes[summary_types[i]]);
	mm_printf("\n");
}

void memmap_print(const struct mm_region *r, size_t count)
{
	uint64_t usable = 0, nusable = 0;

	for (size_t i = 0; i < count; i++) {
		mm_printf("memmap: [mem 0x%016llx-0x%016llx] %s\n",
			  (unsigned long long)r[i].base,
			  (unsigned long long)(r[i].base + r[i].size - 1),
			  memmap_type_name(r[i].type));
		if (r[i].type == MR_USABLE) {
			usable += r[i].size;
			nusable++;
		}
	}
	mm_printf("memmap: usable %llu bytes in %llu regions\n",
		  (unsigned long long)usable, (unsigned long long)nusable);
}

void memmap_print_reliable(uint64_t bytes)
{
	if (bytes != 0)
		mm_printf("memmap: %llu MiB of usable memory is more-reliable (mirrored)\n",
			  (unsigned long long)(bytes >> 20));
}
