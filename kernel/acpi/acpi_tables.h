/*
 * kernel/acpi/acpi_tables.h - ACPI firmware structures, byte for byte as the
 * ACPI specification (6.5) lays them out.
 *
 * Every struct is packed and pinned with _Static_assert on its size, so a
 * field can be read straight out of a mapped table.  Only the parsers in
 * kernel/acpi/acpi.c read them, and only after checking that the table (or
 * subtable) is long enough to hold the struct: a table shorter than a
 * struct is never cast to it.  Offsets in the comments are from the start
 * of the structure, in bytes.
 */
#ifndef KERNEL_ACPI_TABLES_H
#define KERNEL_ACPI_TABLES_H

#include <stdint.h>

#define ACPI_PACKED __attribute__((packed))

/* Root System Description Pointer (ACPI 5.2.5).  Revision 0 (ACPI 1.0) is
 * the first 20 bytes only; revision >= 2 adds the rest, covered by
 * ext_checksum over `length` bytes. */
#define ACPI_RSDP_SIG      "RSD PTR "
#define ACPI_RSDP_V1_LEN   20
struct ACPI_PACKED acpi_rsdp {
	char     signature[8];   /* 0: "RSD PTR " */
	uint8_t  checksum;       /* 8: bytes 0..19 sum to 0 */
	char     oem_id[6];      /* 9 */
	uint8_t  revision;       /* 15: 0 = ACPI 1.0, 2 = ACPI 2.0+ */
	uint32_t rsdt_pa;        /* 16 */
	uint32_t length;         /* 20: bytes of the whole RSDP (36) */
	uint64_t xsdt_pa;        /* 24 */
	uint8_t  ext_checksum;   /* 32: bytes 0..length-1 sum to 0 */
	uint8_t  reserved[3];    /* 33 */
};
_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP layout");

/* The header every system description table starts with (5.2.6). */
struct ACPI_PACKED acpi_sdt_header {
	char     signature[4];     /* 0 */
	uint32_t length;           /* 4: bytes of the whole table, header included */
	uint8_t  revision;         /* 8 */
	uint8_t  checksum;         /* 9: all `length` bytes sum to 0 */
	char     oem_id[6];        /* 10 */
	char     oem_table_id[8];  /* 16 */
	uint32_t oem_revision;     /* 24 */
	uint32_t creator_id;       /* 28 */
	uint32_t creator_revision; /* 32 */
};
_Static_assert(sizeof(struct acpi_sdt_header) == 36, "SDT header layout");

/* Generic Address Structure (5.2.3.2). */
#define ACPI_GAS_MEMORY 0
#define ACPI_GAS_IO     1
struct ACPI_PACKED acpi_gas {
	uint8_t  space_id;      /* 0: ACPI_GAS_* */
	uint8_t  bit_width;     /* 1 */
	uint8_t  bit_offset;    /* 2 */
	uint8_t  access_size;   /* 3: 0 undefined, 1 byte .. 4 qword */
	uint64_t address;       /* 4 */
};
_Static_assert(sizeof(struct acpi_gas) == 12, "GAS layout");

/* Fixed ACPI Description Table, signature "FACP" (5.2.9).  Its length grew
 * with the spec: 116 bytes in ACPI 1.0, 244 in 2.0-4.0, 268 in 5.x, 276 in
 * 6.x.  A field is read only if `length` covers it (ACPI_FADT_HAS). */
#define ACPI_FADT_V1_LEN  116
#define ACPI_FADT_V3_LEN  244
#define ACPI_FADT_V5_LEN  268
#define ACPI_FADT_V6_LEN  276
#define ACPI_FADT_F_TMR_VAL_EXT   (1u << 8)  /* PM timer is 32 bits, not 24 */
#define ACPI_FADT_F_RESET_REG_SUP (1u << 10) /* reset_reg is valid */
#define ACPI_FADT_F_HW_REDUCED    (1u << 20) /* hardware-reduced ACPI */
struct ACPI_PACKED acpi_fadt {
	struct acpi_sdt_header hdr;  /* 0 */
	uint32_t firmware_ctrl;      /* 36: FACS */
	uint32_t dsdt;               /* 40 */
	uint8_t  reserved0;          /* 44 */
	uint8_t  preferred_pm_profile; /* 45 */
	uint16_t sci_int;            /* 46 */
	uint32_t smi_cmd;            /* 48 */
	uint8_t  acpi_enable;        /* 52 */
	uint8_t  acpi_disable;       /* 53 */
	uint8_t  s4bios_req;         /* 54 */
	uint8_t  pstate_cnt;         /* 55 */
	uint32_t pm1a_evt_blk;       /* 56 */
	uint32_t pm1b_evt_blk;       /* 60 */
	uint32_t pm1a_cnt_blk;       /* 64 */
	uint32_t pm1b_cnt_blk;       /* 68 */
	uint32_t pm2_cnt_blk;        /* 72 */
	uint32_t pm_tmr_blk;         /* 76: I/O port of the PM timer */
	uint32_t gpe0_blk;           /* 80 */
	uint32_t gpe1_blk;           /* 84 */
	uint8_t  pm1_evt_len;        /* 88 */
	uint8_t  pm1_cnt_len;        /* 89 */
	uint8_t  pm2_cnt_len;        /* 90 */
	uint8_t  pm_tmr_len;         /* 91: 4 if the PM timer exists */
	uint8_t  gpe0_blk_len;       /* 92 */
	uint8_t  gpe1_blk_len;       /* 93 */
	uint8_t  gpe1_base;          /* 94 */
	uint8_t  cst_cnt;            /* 95 */
	uint16_t p_lvl2_lat;         /* 96 */
	uint16_t p_lvl3_lat;         /* 98 */
	uint16_t flush_size;         /* 100 */
	uint16_t flush_stride;       /* 102 */
	uint8_t  duty_offset;        /* 104 */
	uint8_t  duty_width;         /* 105 */
	uint8_t  day_alrm;           /* 106 */
	uint8_t  mon_alrm;           /* 107 */
	uint8_t  century;            /* 108 */
	uint16_t iapc_boot_arch;     /* 109 */
	uint8_t  reserved1;          /* 111 */
	uint32_t flags;              /* 112: ACPI_FADT_F_* */
	/* ---- end of ACPI 1.0 (116 bytes) ---- */
	struct acpi_gas reset_reg;   /* 116 */
	uint8_t  reset_value;        /* 128 */
	uint16_t arm_boot_arch;      /* 129 */
	uint8_t  fadt_minor_version; /* 131 */
	uint64_t x_firmware_ctrl;    /* 132 */
	uint64_t x_dsdt;             /* 140 */
	struct acpi_gas x_pm1a_evt_blk; /* 148 */
	struct acpi_gas x_pm1b_evt_blk; /* 160 */
	struct acpi_gas x_pm1a_cnt_blk; /* 172 */
	struct acpi_gas x_pm1b_cnt_blk; /* 184 */
	struct acpi_gas x_pm2_cnt_blk;  /* 196 */
	struct acpi_gas x_pm_tmr_blk;   /* 208 */
	struct acpi_gas x_gpe0_blk;     /* 220 */
	struct acpi_gas x_gpe1_blk;     /* 232 */
	/* ---- end of ACPI 2.0 - 4.0 (244 bytes) ---- */
	struct acpi_gas sleep_control_reg; /* 244 */
	struct acpi_gas sleep_status_reg;  /* 256 */
	/* ---- end of ACPI 5.x (268 bytes) ---- */
	uint64_t hypervisor_vendor_id;  /* 268 */
	/* ---- end of ACPI 6.x (276 bytes) ---- */
};
_Static_assert(sizeof(struct acpi_fadt) == ACPI_FADT_V6_LEN, "FADT layout");
_Static_assert(__builtin_offsetof(struct acpi_fadt, flags) == 112, "FADT flags");
_Static_assert(__builtin_offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT x_dsdt");
_Static_assert(__builtin_offsetof(struct acpi_fadt, sleep_control_reg) == ACPI_FADT_V3_LEN,
	       "FADT 2.0 end");

/* True if a FADT of `len` bytes holds the whole of `field`. */
#define ACPI_FADT_HAS(len, field)						\
	((len) >= __builtin_offsetof(struct acpi_fadt, field) +			\
		  sizeof(((struct acpi_fadt *)0)->field))

/* Multiple APIC Description Table, signature "APIC" (5.2.12): this fixed
 * part, then variable-length subtables each starting with type, length. */
#define ACPI_MADT_PCAT_COMPAT (1u << 0)  /* dual 8259s are present */
struct ACPI_PACKED acpi_madt {
	struct acpi_sdt_header hdr;  /* 0 */
	uint32_t lapic_pa;           /* 36: local APIC MMIO base */
	uint32_t flags;              /* 40: ACPI_MADT_PCAT_COMPAT */
};
_Static_assert(sizeof(struct acpi_madt) == 44, "MADT layout");

struct ACPI_PACKED acpi_madt_sub {
	uint8_t type;     /* ACPI_MADT_* */
	uint8_t length;   /* bytes, these two included */
};
_Static_assert(sizeof(struct acpi_madt_sub) == 2, "MADT subtable header");

#define ACPI_MADT_LAPIC          0
#define ACPI_MADT_IOAPIC         1
#define ACPI_MADT_ISO            2
#define ACPI_MADT_NMI_SOURCE     3
#define ACPI_MADT_LAPIC_NMI      4
#define ACPI_MADT_LAPIC_OVERRIDE 5
#define ACPI_MADT_X2APIC         9
#define ACPI_MADT_X2APIC_NMI     10

#define ACPI_MADT_CPU_ENABLED        (1u << 0)
#define ACPI_MADT_CPU_ONLINE_CAPABLE (1u << 1)

struct ACPI_PACKED acpi_madt_lapic {       /* type 0, 8 bytes */
	struct acpi_madt_sub sub;
	uint8_t  processor_uid;
	uint8_t  apic_id;
	uint32_t flags;                    /* ACPI_MADT_CPU_* */
};
_Static_assert(sizeof(struct acpi_madt_lapic) == 8, "MADT LAPIC");

struct ACPI_PACKED acpi_madt_ioapic {      /* type 1, 12 bytes */
	struct acpi_madt_sub sub;
	uint8_t  ioapic_id;
	uint8_t  reserved;
	uint32_t address;                  /* MMIO base */
	uint32_t gsi_base;                 /* first GSI it serves */
};
_Static_assert(sizeof(struct acpi_madt_ioapic) == 12, "MADT IOAPIC");

struct ACPI_PACKED acpi_madt_iso {         /* type 2, 10 bytes */
	struct acpi_madt_sub sub;
	uint8_t  bus;                      /* 0 = ISA */
	uint8_t  source;                   /* ISA IRQ */
	uint32_t gsi;
	uint16_t flags;                    /* MPS INTI polarity / trigger */
};
_Static_assert(sizeof(struct acpi_madt_iso) == 10, "MADT ISO");

struct ACPI_PACKED acpi_madt_lapic_nmi {   /* type 4, 6 bytes */
	struct acpi_madt_sub sub;
	uint8_t  processor_uid;            /* 0xff = all */
	uint16_t flags;
	uint8_t  lint;
};
_Static_assert(sizeof(struct acpi_madt_lapic_nmi) == 6, "MADT LAPIC NMI");

struct ACPI_PACKED acpi_madt_lapic_override { /* type 5, 12 bytes */
	struct acpi_madt_sub sub;
	uint16_t reserved;
	uint64_t address;                  /* 64-bit local APIC MMIO base */
};
_Static_assert(sizeof(struct acpi_madt_lapic_override) == 12, "MADT LAPIC override");

struct ACPI_PACKED acpi_madt_x2apic {      /* type 9, 16 bytes */
	struct acpi_madt_sub sub;
	uint16_t reserved;
	uint32_t x2apic_id;
	uint32_t flags;                    /* ACPI_MADT_CPU_* */
	uint32_t processor_uid;
};
_Static_assert(sizeof(struct acpi_madt_x2apic) == 16, "MADT x2APIC");

/* IA-PC High Precision Event Timer table, signature "HPET" (HPET spec 1.0a,
 * 3.2.4). */
struct ACPI_PACKED acpi_hpet {
	struct acpi_sdt_header hdr;   /* 0 */
	uint32_t event_timer_block_id; /* 36: copy of capabilities bits 0..31 */
	struct acpi_gas base;         /* 40: MMIO base of the register block */
	uint8_t  hpet_number;         /* 52 */
	uint16_t min_clock_tick;      /* 53: in main-counter ticks */
	uint8_t  page_protection;     /* 55 */
};
_Static_assert(sizeof(struct acpi_hpet) == 56, "HPET table layout");

/* PCI Express memory-mapped configuration table, signature "MCFG" (PCI
 * Firmware spec 3.2, 4.1.2): this fixed part, then 16-byte allocations. */
struct ACPI_PACKED acpi_mcfg {
	struct acpi_sdt_header hdr;   /* 0 */
	uint8_t reserved[8];          /* 36 */
};
_Static_assert(sizeof(struct acpi_mcfg) == 44, "MCFG layout");

struct ACPI_PACKED acpi_mcfg_alloc {
	uint64_t base_pa;       /* ECAM base as for bus 0: bus b is at base_pa + (b << 20) */
	uint16_t segment;       /* PCI segment group */
	uint8_t  start_bus;
	uint8_t  end_bus;       /* inclusive */
	uint32_t reserved;
};
_Static_assert(sizeof(struct acpi_mcfg_alloc) == 16, "MCFG allocation");

/* System Resource Affinity Table, signature "SRAT" (5.2.16): this fixed
 * part, then subtables each starting with type, length (as in the MADT). */
struct ACPI_PACKED acpi_srat {
	struct acpi_sdt_header hdr;   /* 0 */
	uint32_t reserved1;           /* 36: 1 for backward compatibility */
	uint64_t reserved2;           /* 40 */
};
_Static_assert(sizeof(struct acpi_srat) == 48, "SRAT layout");

#define ACPI_SRAT_LAPIC   0   /* Processor Local APIC/SAPIC Affinity */
#define ACPI_SRAT_MEMORY  1   /* Memory Affinity */
#define ACPI_SRAT_X2APIC  2   /* Processor Local x2APIC Affinity */

#define ACPI_SRAT_ENABLED   (1u << 0)  /* every type: the entry is valid */
#define ACPI_SRAT_HOTPLUG   (1u << 1)  /* memory: hot-pluggable */
#define ACPI_SRAT_NONVOLATILE (1u << 2) /* memory: non-volatile */

struct ACPI_PACKED acpi_srat_lapic {      /* type 0, 16 bytes */
	struct acpi_madt_sub sub;
	uint8_t  domain_lo;                /* 2: proximity domain bits 0..7 */
	uint8_t  apic_id;                  /* 3 */
	uint32_t flags;                    /* 4: ACPI_SRAT_ENABLED */
	uint8_t  sapic_eid;                /* 8 */
	uint8_t  domain_hi[3];             /* 9: proximity domain bits 8..31 */
	uint32_t clock_domain;             /* 12 */
};
_Static_assert(sizeof(struct acpi_srat_lapic) == 16, "SRAT LAPIC");

struct ACPI_PACKED acpi_srat_memory {     /* type 1, 40 bytes */
	struct acpi_madt_sub sub;
	uint32_t domain;                   /* 2 */
	uint16_t reserved1;                /* 6 */
	uint64_t base;                     /* 8: physical address */
	uint64_t length;                   /* 16: bytes */
	uint32_t reserved2;                /* 24 */
	uint32_t flags;                    /* 28: ACPI_SRAT_* */
	uint64_t reserved3;                /* 32 */
};
_Static_assert(sizeof(struct acpi_srat_memory) == 40, "SRAT memory");

struct ACPI_PACKED acpi_srat_x2apic {     /* type 2, 24 bytes */
	struct acpi_madt_sub sub;
	uint16_t reserved1;                /* 2 */
	uint32_t domain;                   /* 4 */
	uint32_t x2apic_id;                /* 8 */
	uint32_t flags;                    /* 12: ACPI_SRAT_ENABLED */
	uint32_t clock_domain;             /* 16 */
	uint32_t reserved2;                /* 20 */
};
_Static_assert(sizeof(struct acpi_srat_x2apic) == 24, "SRAT x2APIC");

/* System Locality Information Table, signature "SLIT" (5.2.17): the
 * count, then count x count one-byte distances, row i = from domain i.
 * 10 is "local"; 255 means unreachable. */
#define ACPI_SLIT_LOCAL 10
#define ACPI_SLIT_UNREACHABLE 255
struct ACPI_PACKED acpi_slit {
	struct acpi_sdt_header hdr;   /* 0 */
	uint64_t localities;          /* 36 */
	/* 44: uint8_t entry[localities][localities] */
};
_Static_assert(sizeof(struct acpi_slit) == 44, "SLIT layout");

#endif
