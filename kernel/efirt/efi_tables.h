/*
 * kernel/efirt/efi_tables.h - the UEFI structures the runtime-services code
 * reads, as the UEFI specification (2.10) lays them out for x64: the table
 * header, the system table, the runtime services table, configuration-table
 * entries, the Memory Attributes Table, EFI_TIME, and the memory types and
 * attributes it needs.  Fixed-width fields only (addresses are uint64_t,
 * never pointers: these are read in host tests too); layouts pinned by
 * _Static_assert.  Portable and freestanding.
 */
#ifndef KERNEL_EFIRT_EFI_TABLES_H
#define KERNEL_EFIRT_EFI_TABLES_H

#include <stdint.h>

/* EFI pages are 4 KiB whatever the CPU's page size (spec 7.2). */
#define EFI_PAGE_SHIFT 12
#define EFI_PAGE_SIZE  (1ULL << EFI_PAGE_SHIFT)

/* EFI_MEMORY_TYPE values the runtime code looks at (spec 7.2, Table 7-6). */
#define EFI_RUNTIME_SERVICES_CODE 5
#define EFI_RUNTIME_SERVICES_DATA 6
#define EFI_MEMORY_MAPPED_IO      11

/* Memory attributes (spec 7.2, EFI_MEMORY_DESCRIPTOR.Attribute). */
#define EFI_MEMORY_UC      (1ULL << 0)
#define EFI_MEMORY_WB      (1ULL << 3)
#define EFI_MEMORY_XP      (1ULL << 14)  /* no execute */
#define EFI_MEMORY_RO      (1ULL << 17)  /* read only */
#define EFI_MEMORY_RUNTIME (1ULL << 63)  /* the OS must map it for runtime services */

/* EFI_MEMORY_DESCRIPTOR (spec 7.2); a map's or the MAT's descriptors may be
 * larger (their descriptor size), never smaller: walk by that size. */
struct efi_memory_desc {
	uint32_t type;
	uint32_t pad;
	uint64_t phys_start;
	uint64_t virt_start;
	uint64_t num_pages;    /* 4 KiB pages */
	uint64_t attribute;
};
_Static_assert(sizeof(struct efi_memory_desc) == 40, "EFI memory descriptor layout");

/* EFI_TABLE_HEADER (spec 4.2): every table below starts with it.  CRC32 is
 * the CRC-32 of HeaderSize bytes with the CRC32 field itself taken as 0. */
struct efi_table_header {
	uint64_t signature;
	uint32_t revision;     /* major << 16 | minor */
	uint32_t header_size;  /* bytes of the whole table, header included */
	uint32_t crc32;
	uint32_t reserved;
};
_Static_assert(sizeof(struct efi_table_header) == 24, "EFI table header layout");

#define EFI_SYSTEM_TABLE_SIGNATURE   0x5453595320494249ULL /* "IBI SYST" */
#define EFI_RUNTIME_SERVICES_SIGNATURE 0x56524553544e5552ULL /* "RUNTSERV" */

/* EFI_SYSTEM_TABLE (spec 4.3).  After ExitBootServices only the header,
 * the firmware strings, runtime_services and the configuration table are
 * valid; the console and boot-services fields are zeroed by the firmware. */
struct efi_system_table {
	struct efi_table_header hdr;
	uint64_t firmware_vendor;      /* CHAR16 * */
	uint32_t firmware_revision;
	uint32_t pad;
	uint64_t console_in_handle, con_in, console_out_handle, con_out;
	uint64_t standard_error_handle, std_err;
	uint64_t runtime_services;     /* EFI_RUNTIME_SERVICES *, physical until SetVirtualAddressMap */
	uint64_t boot_services;
	uint64_t number_of_table_entries;
	uint64_t configuration_table;  /* EFI_CONFIGURATION_TABLE * */
};
_Static_assert(sizeof(struct efi_system_table) == 120, "EFI system table layout");
_Static_assert(__builtin_offsetof(struct efi_system_table, runtime_services) == 88, "RT offset");

/* EFI_RUNTIME_SERVICES (spec 4.5): function pointers, MS x64 ABI. */
struct efi_runtime_services {
	struct efi_table_header hdr;
	uint64_t get_time, set_time, get_wakeup_time, set_wakeup_time;
	uint64_t set_virtual_address_map, convert_pointer;
	uint64_t get_variable, get_next_variable_name, set_variable;
	uint64_t get_next_high_monotonic_count, reset_system;
	uint64_t update_capsule, query_capsule_capabilities, query_variable_info;
};
_Static_assert(sizeof(struct efi_runtime_services) == 136, "EFI runtime services layout");
_Static_assert(__builtin_offsetof(struct efi_runtime_services, set_virtual_address_map) == 56,
	       "SetVirtualAddressMap offset");
_Static_assert(__builtin_offsetof(struct efi_runtime_services, reset_system) == 104,
	       "ResetSystem offset");

/* EFI_GUID as bytes in memory order. */
struct efi_guid {
	uint8_t b[16];
};

/* EFI_CONFIGURATION_TABLE (spec 4.6). */
struct efi_config_entry {
	struct efi_guid guid;
	uint64_t table;                /* VOID *, physical */
};
_Static_assert(sizeof(struct efi_config_entry) == 24, "EFI configuration table layout");

/* EFI_MEMORY_ATTRIBUTES_TABLE_GUID dcfa911d-26eb-469f-a220-38b7dc461220
 * (spec 4.6.4), in memory order. */
#define EFI_MEMORY_ATTRIBUTES_TABLE_GUID_BYTES                                  \
	{ 0x1d, 0x91, 0xfa, 0xdc, 0xeb, 0x26, 0x9f, 0x46,                       \
	  0xa2, 0x20, 0x38, 0xb7, 0xdc, 0x46, 0x12, 0x20 }

/* EFI_MEMORY_ATTRIBUTES_TABLE header (spec 4.6.4); number_of_entries
 * EFI_MEMORY_DESCRIPTORs of descriptor_size bytes each follow it.  Version
 * 1 (UEFI 2.6) calls the last word Reserved, version 2 (UEFI 2.10) Flags. */
struct efi_mat_header {
	uint32_t version;
	uint32_t number_of_entries;
	uint32_t descriptor_size;
	uint32_t flags;
};
_Static_assert(sizeof(struct efi_mat_header) == 16, "EFI MAT header layout");

/* EFI_TIME (spec 8.3). */
struct efi_time {
	uint16_t year;                 /* 1900 - 9999 */
	uint8_t month, day, hour, minute, second, pad1;
	uint32_t nanosecond;
	int16_t time_zone;
	uint8_t daylight, pad2;
};
_Static_assert(sizeof(struct efi_time) == 16, "EFI_TIME layout");

/* EFI_TIME fields' limits (spec 8.3). */
#define EFI_TIME_YEAR_MIN          1900
#define EFI_TIME_YEAR_MAX          9999
#define EFI_TIME_NS_LIMIT          1000000000u  /* nanosecond < this */
#define EFI_TIME_ZONE_MAX          1440         /* minutes, either sign */
#define EFI_UNSPECIFIED_TIMEZONE   0x07ff

/* EFI_TIME_CAPABILITIES (spec 8.3). */
struct efi_time_caps {
	uint32_t resolution, accuracy;
	uint8_t sets_to_zero, pad[3];
};
_Static_assert(sizeof(struct efi_time_caps) == 12, "EFI_TIME_CAPABILITIES layout");

/* EFI_RESET_TYPE (spec 8.5.1). */
#define EFI_RESET_COLD     0
#define EFI_RESET_WARM     1
#define EFI_RESET_SHUTDOWN 2

/* EFI_STATUS values a runtime call returns (spec Appendix D). */
#define EFI_SUCCESS        0ULL
#define EFI_ERROR_BIT      (1ULL << 63)

/* The descriptor version SetVirtualAddressMap expects (spec 7.2). */
#define EFI_MEMORY_DESCRIPTOR_VERSION 1

#endif
