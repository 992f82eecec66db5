/*
 * kernel/acpi/acpi.h - ACPI table discovery and the parsers of MADT, FADT, HPET
 * and MCFG.
 *
 * Portable, freestanding C: the same code runs in the kernel and in the host
 * tests.  Physical memory is reached only through a struct physmap
 * (kernel/mem/physmap.h): mem_map_addr in the kernel, blobs of captured or
 * compiled tables at fake physical addresses in the tests
 * (tests/host/acpi_fake.h).
 *
 * Theory of operation:
 *   1. acpi_parse validates the RSDP (signature, 20-byte checksum, and for
 *      revision >= 2 the extended checksum), then the XSDT (or the RSDT when
 *      there is no XSDT, or the XSDT is bad).  The entry count is rounded
 *      down: a root whose length is not header + n*entry is reported and
 *      only its whole entries are used.
 *   2. Every table is loaded the same way (acpi_table_load): map the 36-byte
 *      header, check the length (>= header, <= ACPI_TABLE_MAX_LEN, pa + len
 *      does not wrap), unmap, map the whole table, verify the checksum,
 *      unmap.  A table failing any step is listed with its status and is
 *      never handed to a parser ("treated as absent").  The DSDT, which the
 *      FADT points at, goes through the same path.
 *   3. A parser gets a table only through acpi_table_map, which maps it again
 *      with the length that was verified; parsers are pure functions of
 *      (bytes, length) that bounds-check every field and subtable.
 *   4. Nothing stays mapped: every map is paired with an unmap before the
 *      function returns, so the caller can check that its window is back to
 *      where it was.
 *   5. Parsing and printing are apart: acpi_parse walks the tables once and
 *      records everything the report needs (the RSDP's status, each root
 *      attempted, every table as loaded, the DSDT whose signature was
 *      wrong); acpi_report prints the lines from that record alone, with no
 *      mapping.  The kernel parses once at boot (kernel/acpi/boot.h) and
 *      every user - TSC calibration, SMP bring-up, the demo that prints the
 *      report - reads that one struct acpi.  acpi_init is the two in a row.
 *
 * Output (mm_printf): one line per table,
 *   acpi: <SIG> phys=0x<16 hex> len=<decimal> rev=<decimal> oem="<OEM ID>" checksum=ok
 * or checksum=BAD; signature bytes outside printable ASCII print as '?', the
 * OEM ID stops at a NUL and loses trailing blanks.
 */
#ifndef KERNEL_ACPI_H
#define KERNEL_ACPI_H

#include <stdint.h>
#include "kernel/mem/physmap.h"

/* ---------------------------------------------------------------- status */

enum acpi_status {
	ACPI_OK = 0,
	ACPI_E_NO_RSDP,        /* no RSDP address */
	ACPI_E_MAP,            /* the physmap could not map a range */
	ACPI_E_SIGNATURE,      /* wrong signature where one is known */
	ACPI_E_CHECKSUM,       /* bytes do not sum to 0 */
	ACPI_E_EXT_CHECKSUM,   /* RSDP extended checksum (revision >= 2) */
	ACPI_E_LENGTH,         /* length < header, > bound, or pa + length wraps */
	ACPI_E_ROOT_LENGTH,    /* root length not header + n*entry (warning) */
	ACPI_E_NULL_ENTRY,     /* root entry with address 0 */
	ACPI_E_NOT_FOUND,      /* no valid table with that signature */
	ACPI_E_TOO_SHORT,      /* table shorter than its fixed fields */
	ACPI_E_SUBTABLE,       /* subtable length 0/too small or past the end */
	ACPI_E_BAD_VALUE,      /* a field holds a value the spec rules out */
	ACPI_E_FULL,           /* more entries than the fixed-size list holds */
	ACPI_STATUS_COUNT
};

/* Returns a constant name for st ("ok", "bad checksum", ...). */
const char *acpi_status_str(enum acpi_status st);

/* ---------------------------------------------------------------- tables */

/* A table bigger than this is taken as a corrupt length.  The largest real
 * tables are DSDTs of big servers, a few MiB; 16 MiB leaves room for those
 * while a garbage length (up to 4 GiB) never reaches the mapping window. */
#define ACPI_TABLE_MAX_LEN (16u << 20)

/* The RSDP is 36 bytes in every revision so far; a length beyond this bound
 * is corruption, not a future revision. */
#define ACPI_RSDP_MAX_LEN  4096u

/* Tables acpi_parse records.  QEMU has ~8, real machines 20-60 (many SSDTs);
 * entries beyond this are counted in `dropped` and reported. */
#define ACPI_MAX_TABLES    96

struct acpi_table_info {
	uint64_t pa;            /* physical address of the header */
	uint32_t length;        /* bytes, as the header says (0 if unreadable) */
	uint8_t  revision;
	char     sig[4];        /* raw signature bytes */
	char     oem_id[6];     /* raw OEM ID bytes */
	enum acpi_status status; /* ACPI_OK: usable; else why it is absent */
};

/* One root table attempted by acpi_parse (the XSDT, then maybe the RSDT). */
struct acpi_root_try {
	struct acpi_table_info table; /* as loaded; ACPI_E_SIGNATURE if not the one asked */
	uint32_t esize;               /* entry size: 8 (XSDT) or 4 (RSDT) */
	uint32_t entries;             /* whole entries */
	enum acpi_status warning;     /* ACPI_E_ROOT_LENGTH or ACPI_OK */
	enum acpi_status result;      /* ACPI_OK: its tables are in tables[] */
};

#define ACPI_NO_INDEX (~0u)

#include "kernel/acpi/numa.h"   /* struct acpi_numa_info (needs the status) */

struct acpi {
	const struct physmap *pm;   /* how tables are reached */
	enum acpi_status status;    /* what acpi_parse returned */
	uint64_t rsdp_pa;
	enum acpi_status rsdp_status;
	uint8_t  rsdp_revision;
	unsigned roots_tried;       /* entries used in roots[] */
	struct acpi_root_try roots[2];
	unsigned dsdt_renamed;      /* index in tables[] of a DSDT pointer whose table
				     * had another signature, or ACPI_NO_INDEX */
	char     root_sig[4];    /* "XSDT" or "RSDT" */
	uint64_t root_pa;
	uint32_t root_entries;   /* whole entries used */
	enum acpi_status root_warning; /* ACPI_E_ROOT_LENGTH or ACPI_OK */
	unsigned count;          /* entries used in tables[] */
	unsigned dropped;        /* root entries beyond ACPI_MAX_TABLES */
	struct acpi_table_info tables[ACPI_MAX_TABLES];
	struct acpi_numa_info numa; /* SRAT + SLIT (kernel/acpi/numa.h), parsed
				       once at the end of acpi_parse */
};

/* Validates the RSDP at rsdp_pa and the root table, then loads every table
 * the root lists (and the DSDT named by the FADT), recording in *a what
 * acpi_report prints (theory 5), and the SRAT and SLIT into a->numa;
 * prints nothing.  Returns ACPI_OK if a
 * valid root table was found (individual tables may still be bad: see
 * tables[].status), else the reason; a->status holds the same. */
enum acpi_status acpi_parse(struct acpi *a, const struct physmap *pm, uint64_t rsdp_pa);

/* Prints the lines of a parse (see the top): the RSDP, the root table(s),
 * one line per table, the warnings.  Maps nothing. */
void acpi_report(const struct acpi *a);

/* acpi_parse, then acpi_report; returns acpi_parse's status. */
enum acpi_status acpi_init(struct acpi *a, const struct physmap *pm, uint64_t rsdp_pa);

/* Loads the table at pa: header, length check, whole table, checksum.  Fills
 * *out (as far as it could read) and returns out->status.  Maps nothing
 * after it returns. */
enum acpi_status acpi_table_load(const struct physmap *pm, uint64_t pa,
				 struct acpi_table_info *out);

/* Returns the n-th (from 0) valid table with signature sig, or NULL. */
const struct acpi_table_info *acpi_find(const struct acpi *a, const char *sig, unsigned n);

/* Maps a valid table whole; returns its bytes (t->length of them) or NULL.
 * Undo with acpi_table_unmap. */
const void *acpi_table_map(const struct acpi *a, const struct acpi_table_info *t);
void acpi_table_unmap(const struct acpi *a, const struct acpi_table_info *t, const void *va);

/* Returns 1 if len bytes at p sum to 0 (mod 256), else 0. */
int acpi_checksum_ok(const void *p, uint64_t len);

/* Prints the standard line for one table. */
void acpi_print_table(const struct acpi_table_info *t);

/* ---------------------------------------------------------------- MADT */

#define ACPI_MADT_MAX_CPUS    256 /* CPUs listed; more are still counted */
#define ACPI_MADT_MAX_IOAPICS 16  /* 16 x 24 pins covers any PC chipset */
#define ACPI_MADT_MAX_ISOS    32  /* 16 ISA IRQs, with room for duplicates */

struct acpi_madt_info {
	uint64_t lapic_pa;       /* 32-bit field, or the type 5 override */
	uint32_t flags;
	unsigned cpus;           /* enabled LAPIC + x2APIC entries */
	unsigned cpus_disabled;  /* entries not enabled (hot-plug slots) */
	unsigned cpus_listed;    /* entries stored in cpu[] */
	struct { uint32_t apic_id, uid; uint8_t x2apic; } cpu[ACPI_MADT_MAX_CPUS];
	unsigned ioapics;        /* stored in ioapic[] (bounded) */
	struct { uint8_t id; uint32_t address, gsi_base; } ioapic[ACPI_MADT_MAX_IOAPICS];
	unsigned isos;
	struct { uint8_t bus, source; uint32_t gsi; uint16_t flags; } iso[ACPI_MADT_MAX_ISOS];
	unsigned nmis;           /* LAPIC / x2APIC NMI entries */
	unsigned others;         /* subtables of other types (skipped) */
	uint32_t bad_offset;     /* on ACPI_E_SUBTABLE: offset of the bad subtable */
};

/* Parses a MADT of len verified bytes into *out.  Returns ACPI_OK, or
 * ACPI_E_TOO_SHORT / ACPI_E_SUBTABLE (out holds what came before). */
enum acpi_status acpi_madt_parse(const void *table, uint32_t len, struct acpi_madt_info *out);
void acpi_madt_print(const struct acpi_madt_info *m);

/* ---------------------------------------------------------------- FADT */

struct acpi_fadt_info {
	uint8_t  revision;        /* header revision */
	uint8_t  minor;           /* fadt_minor_version, 0 if not present */
	uint8_t  len_revision;    /* revision the length implies: 1, 3, 5 or 6 */
	uint32_t length;
	uint32_t flags;
	uint16_t sci_int;
	uint32_t pm_timer_port;   /* 0 = none */
	uint8_t  pm_timer_bits;   /* 24 or 32 */
	uint64_t facs_pa;
	uint32_t dsdt32;          /* DSDT field */
	uint64_t x_dsdt;          /* X_DSDT field, 0 if not present */
	uint64_t dsdt_pa;         /* the one to use: X_DSDT if non-zero */
	int      has_reset;       /* RESET_REG_SUP and the field is present */
	uint8_t  reset_space;     /* ACPI_GAS_* */
	uint64_t reset_addr;
	uint8_t  reset_value;
};

enum acpi_status acpi_fadt_parse(const void *table, uint32_t len, struct acpi_fadt_info *out);
void acpi_fadt_print(const struct acpi_fadt_info *f);

/* ---------------------------------------------------------------- HPET */

struct acpi_hpet_info {
	uint64_t base_pa;         /* MMIO base of the register block */
	uint32_t block_id;        /* event_timer_block_id */
	uint8_t  number;
	uint16_t min_tick;
};

/* Returns ACPI_E_BAD_VALUE if the base is not in memory space or is 0. */
enum acpi_status acpi_hpet_parse(const void *table, uint32_t len, struct acpi_hpet_info *out);

/* ---------------------------------------------------------------- MCFG */

#define ACPI_MCFG_MAX 16 /* segment groups; one on every PC seen so far */

struct acpi_mcfg_info {
	unsigned count;           /* usable allocations in seg[] */
	unsigned skipped;         /* allocations with end_bus < start_bus or base 0 */
	enum acpi_status warning; /* ACPI_E_ROOT_LENGTH if length not 44 + 16*n */
	struct { uint64_t base_pa; uint16_t segment; uint8_t start_bus, end_bus; } seg[ACPI_MCFG_MAX];
};

enum acpi_status acpi_mcfg_parse(const void *table, uint32_t len, struct acpi_mcfg_info *out);

/* Each finds the first valid table of its kind, maps it, parses it into
 * *out and unmaps it.  Returns ACPI_E_NOT_FOUND, ACPI_E_MAP or the parser's
 * status. */
enum acpi_status acpi_get_madt(const struct acpi *a, struct acpi_madt_info *out);
enum acpi_status acpi_get_fadt(const struct acpi *a, struct acpi_fadt_info *out);
enum acpi_status acpi_get_hpet(const struct acpi *a, struct acpi_hpet_info *out);
enum acpi_status acpi_get_mcfg(const struct acpi *a, struct acpi_mcfg_info *out);

#endif
