/*
 * kernel/acpi/acpi.c - ACPI table discovery (RSDP, XSDT/RSDT, every table) and
 * the MADT, FADT, HPET and MCFG parsers.  See kernel/acpi/acpi.h for the theory
 * of operation; this file only reads firmware memory through a struct
 * physmap and unmaps everything it maps before returning.
 */
#include "kernel/acpi/acpi.h"
#include "kernel/acpi/acpi_tables.h"
#include "kernel/acpi/unaligned.h"
#include "lib/string.h"
#include "mm/platform.h"
#include "lib/range.h"

#define SDT_HDR_LEN ((uint32_t)sizeof(struct acpi_sdt_header))

static const char *const status_names[ACPI_STATUS_COUNT] = {
	[ACPI_OK]             = "ok",
	[ACPI_E_NO_RSDP]      = "no RSDP",
	[ACPI_E_MAP]          = "cannot map",
	[ACPI_E_SIGNATURE]    = "bad signature",
	[ACPI_E_CHECKSUM]     = "bad checksum",
	[ACPI_E_EXT_CHECKSUM] = "bad extended checksum",
	[ACPI_E_LENGTH]       = "bad length",
	[ACPI_E_ROOT_LENGTH]  = "length not header + n*entry",
	[ACPI_E_NULL_ENTRY]   = "null entry",
	[ACPI_E_NOT_FOUND]    = "not found",
	[ACPI_E_TOO_SHORT]    = "too short",
	[ACPI_E_SUBTABLE]     = "bad subtable",
	[ACPI_E_BAD_VALUE]    = "bad value",
	[ACPI_E_FULL]         = "list full",
};

const char *acpi_status_str(enum acpi_status st)
{
	if ((unsigned)st >= ACPI_STATUS_COUNT || !status_names[st])
		return "unknown status";
	return status_names[st];
}

/* ---------------------------------------------------------------- helpers */


int acpi_checksum_ok(const void *p, uint64_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;
	for (uint64_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
	return sum == 0;
}

static void *hmap(const struct physmap *h, uint64_t pa, uint64_t len)
{
	if (range_wraps(pa, len))
		return 0;
	return h->map(h->ctx, pa, len, PHYSMAP_CACHED);
}

static void hunmap(const struct physmap *h, const void *va, uint64_t len)
{
	h->unmap(h->ctx, (void *)va, len);
}

/* Copies n raw firmware chars to a printable, NUL-terminated string:
 * non-printable bytes become '?'.  With trim, stops at a NUL and drops
 * trailing blanks (OEM IDs are blank- or NUL-padded). */
static void printable(char *dst, const char *src, unsigned n, int trim)
{
	unsigned i;
	for (i = 0; i < n; i++) {
		char c = src[i];
		if (trim && c == 0)
			break;
		dst[i] = (c >= 0x20 && c < 0x7f) ? c : '?';
	}
	while (trim && i > 0 && dst[i - 1] == ' ')
		i--;
	dst[i] = 0;
}

void acpi_print_table(const struct acpi_table_info *t)
{
	char sig[5], oem[7];
	printable(sig, t->sig, 4, 0);
	printable(oem, t->oem_id, 6, 1);
	if (t->status == ACPI_OK || t->status == ACPI_E_CHECKSUM) {
		mm_printf("acpi: %s phys=0x%016llx len=%u rev=%u oem=\"%s\" checksum=%s\n",
			  sig, (unsigned long long)t->pa, t->length, t->revision, oem,
			  t->status == ACPI_OK ? "ok" : "BAD");
	} else if (t->length) {
		mm_printf("acpi: %s phys=0x%016llx len=%u: %s, ignored\n", sig,
			  (unsigned long long)t->pa, t->length, acpi_status_str(t->status));
	} else {
		mm_printf("acpi: table phys=0x%016llx: %s, ignored\n",
			  (unsigned long long)t->pa, acpi_status_str(t->status));
	}
}

/* ---------------------------------------------------------------- tables */

enum acpi_status acpi_table_load(const struct physmap *h, uint64_t pa,
				 struct acpi_table_info *out)
{
	memset(out, 0, sizeof(*out));
	out->pa = pa;
	if (pa == 0)
		return out->status = ACPI_E_NULL_ENTRY;

	const struct acpi_sdt_header *hdr = hmap(h, pa, SDT_HDR_LEN);
	if (!hdr)
		return out->status = ACPI_E_MAP;
	memcpy(out->sig, hdr->signature, 4);
	memcpy(out->oem_id, hdr->oem_id, 6);
	out->length = ld32(&hdr->length);
	out->revision = hdr->revision;
	hunmap(h, hdr, SDT_HDR_LEN);

	if (out->length < SDT_HDR_LEN || out->length > ACPI_TABLE_MAX_LEN ||
	    range_wraps(pa, out->length))
		return out->status = ACPI_E_LENGTH;

	const void *whole = hmap(h, pa, out->length);
	if (!whole)
		return out->status = ACPI_E_MAP;
	int ok = acpi_checksum_ok(whole, out->length);
	hunmap(h, whole, out->length);
	return out->status = ok ? ACPI_OK : ACPI_E_CHECKSUM;
}

/* Appends a table to the list (its line is printed by acpi_report).
 * Returns the entry, or NULL (counted in dropped) when the list is full. */
static struct acpi_table_info *add_table(struct acpi *a, uint64_t pa)
{
	if (a->count == ACPI_MAX_TABLES) {
		a->dropped++;
		return 0;
	}
	struct acpi_table_info *t = &a->tables[a->count++];
	acpi_table_load(a->pm, pa, t);
	return t;
}

/* Validates the RSDP; on success fills rsdp_revision and the root candidates
 * (*xsdt_pa is 0 for revision < 2). */
static enum acpi_status check_rsdp(struct acpi *a, uint64_t *xsdt_pa, uint64_t *rsdt_pa)
{
	const struct physmap *h = a->pm;
	const struct acpi_rsdp *r = hmap(h, a->rsdp_pa, ACPI_RSDP_V1_LEN);
	if (!r)
		return ACPI_E_MAP;
	enum acpi_status st = ACPI_OK;
	if (memcmp(r->signature, ACPI_RSDP_SIG, 8) != 0)
		st = ACPI_E_SIGNATURE;
	else if (!acpi_checksum_ok(r, ACPI_RSDP_V1_LEN))
		st = ACPI_E_CHECKSUM;
	a->rsdp_revision = r->revision;
	*rsdt_pa = ld32(&r->rsdt_pa);
	*xsdt_pa = 0;
	hunmap(h, r, ACPI_RSDP_V1_LEN);
	if (st != ACPI_OK || a->rsdp_revision < 2)
		return st;

	/* Revision >= 2: the length field and the rest are covered by the
	 * extended checksum; the length is checked before mapping that much. */
	r = hmap(h, a->rsdp_pa, sizeof(struct acpi_rsdp));
	if (!r)
		return ACPI_E_MAP;
	uint32_t len = ld32(&r->length);
	hunmap(h, r, sizeof(struct acpi_rsdp));
	if (len < sizeof(struct acpi_rsdp) || len > ACPI_RSDP_MAX_LEN)
		return ACPI_E_LENGTH;
	r = hmap(h, a->rsdp_pa, len);
	if (!r)
		return ACPI_E_MAP;
	if (!acpi_checksum_ok(r, len))
		st = ACPI_E_EXT_CHECKSUM;
	*xsdt_pa = ld64(&r->xsdt_pa);
	hunmap(h, r, len);
	return st;
}

/* Loads the root table at pa (expected signature sig, entries of esize
 * bytes) and every table it lists, recording the attempt in a->roots[]. */
static enum acpi_status walk_root(struct acpi *a, uint64_t pa, const char *sig, uint32_t esize)
{
	const struct physmap *h = a->pm;
	struct acpi_root_try *r = &a->roots[a->roots_tried++];
	struct acpi_table_info *root = &r->table;

	r->esize = esize;
	if (acpi_table_load(h, pa, root) == ACPI_OK && memcmp(root->sig, sig, 4) != 0)
		root->status = ACPI_E_SIGNATURE;
	if (root->status != ACPI_OK)
		return r->result = root->status;

	uint32_t n = (root->length - SDT_HDR_LEN) / esize;   /* rounded down */
	a->root_pa = pa;
	memcpy(a->root_sig, sig, 4);
	a->root_entries = n;
	r->entries = n;
	a->root_warning = ACPI_OK;
	if ((root->length - SDT_HDR_LEN) % esize)
		a->root_warning = r->warning = ACPI_E_ROOT_LENGTH;

	const uint8_t *tab = hmap(h, pa, root->length);
	if (!tab)
		return r->result = ACPI_E_MAP;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = tab + SDT_HDR_LEN + (uint64_t)i * esize;
		add_table(a, esize == 8 ? ld64(e) : ld32(e));
	}
	hunmap(h, tab, root->length);
	return r->result = ACPI_OK;
}

/* See acpi.h. */
enum acpi_status acpi_parse(struct acpi *a, const struct physmap *pm, uint64_t rsdp_pa)
{
	memset(a, 0, sizeof(*a));
	a->pm = pm;
	a->rsdp_pa = rsdp_pa;
	a->dsdt_renamed = ACPI_NO_INDEX;
	acpi_numa_parse(0, 0, 0, 0, &a->numa);  /* one node until the tables say more */
	if (rsdp_pa == 0)
		return a->status = ACPI_E_NO_RSDP;

	uint64_t xsdt_pa, rsdt_pa;
	enum acpi_status st = a->rsdp_status = check_rsdp(a, &xsdt_pa, &rsdt_pa);
	if (st != ACPI_OK)
		return a->status = st;

	/* XSDT when present; the RSDT if there is none or it is bad. */
	st = ACPI_E_NOT_FOUND;
	if (xsdt_pa)
		st = walk_root(a, xsdt_pa, "XSDT", 8);
	if (st != ACPI_OK && rsdt_pa)
		st = walk_root(a, rsdt_pa, "RSDT", 4);
	if (st != ACPI_OK)
		return a->status = st;

	/* The DSDT is not in the root: the FADT points at it. */
	struct acpi_fadt_info f;
	if (acpi_get_fadt(a, &f) == ACPI_OK && f.dsdt_pa) {
		struct acpi_table_info *t = add_table(a, f.dsdt_pa);
		if (t && t->status == ACPI_OK && memcmp(t->sig, "DSDT", 4) != 0) {
			t->status = ACPI_E_SIGNATURE;
			a->dsdt_renamed = (unsigned)(t - a->tables);
		}
	}
	acpi_get_numa(a, &a->numa);
	return a->status = ACPI_OK;
}

/* Prints the lines of one root attempt (and, if it was used, of its
 * tables).  first: index of a->roots[]. */
static void report_root(const struct acpi *a, unsigned i)
{
	const struct acpi_root_try *r = &a->roots[i];
	char sig[5] = { 0 };
	if (i > 0)
		mm_printf("acpi: XSDT unusable, falling back to the RSDT\n");
	acpi_print_table(&r->table);
	if (r->table.status != ACPI_OK)
		return;
	memcpy(sig, r->table.sig, 4);
	if (r->warning != ACPI_OK)
		mm_printf("acpi: %s len=%u is not %u + %u*n: using %u entries\n", sig,
			  r->table.length, SDT_HDR_LEN, r->esize, r->entries);
}

/* See acpi.h. */
void acpi_report(const struct acpi *a)
{
	if (a->rsdp_pa == 0) {
		mm_printf("acpi: no RSDP\n");
		return;
	}
	mm_printf("acpi: RSDP phys=0x%016llx rev=%u: %s\n", (unsigned long long)a->rsdp_pa,
		  a->rsdp_revision, acpi_status_str(a->rsdp_status));
	if (a->rsdp_status != ACPI_OK)
		return;
	for (unsigned i = 0; i < a->roots_tried; i++)
		report_root(a, i);
	if (a->status != ACPI_OK) {
		mm_printf("acpi: no usable root table: %s\n", acpi_status_str(a->status));
		return;
	}
	for (unsigned i = 0; i < a->count; i++) {
		if (i == a->dsdt_renamed) {
			/* Printed as loaded, then again once its signature was
			 * found wrong. */
			struct acpi_table_info loaded = a->tables[i];
			loaded.status = ACPI_OK;
			acpi_print_table(&loaded);
		}
		acpi_print_table(&a->tables[i]);
	}
	if (a->dropped)
		mm_printf("acpi: %u tables beyond the first %u ignored\n", a->dropped,
			  ACPI_MAX_TABLES);
}

/* See acpi.h. */
enum acpi_status acpi_init(struct acpi *a, const struct physmap *pm, uint64_t rsdp_pa)
{
	enum acpi_status st = acpi_parse(a, pm, rsdp_pa);
	acpi_report(a);
	return st;
}

const struct acpi_table_info *acpi_find(const struct acpi *a, const char *sig, unsigned n)
{
	for (unsigned i = 0; i < a->count; i++) {
		const struct acpi_table_info *t = &a->tables[i];
		if (t->status == ACPI_OK && memcmp(t->sig, sig, 4) == 0 && n-- == 0)
			return t;
	}
	return 0;
}

const void *acpi_table_map(const struct acpi *a, const struct acpi_table_info *t)
{
	if (!t || t->status != ACPI_OK)
		return 0;
	return hmap(a->pm, t->pa, t->length);
}

void acpi_table_unmap(const struct acpi *a, const struct acpi_table_info *t, const void *va)
{
	hunmap(a->pm, va, t->length);
}



/* ---------------------------------------------------------------- MADT */

/* Minimum length of each known subtable type; 0 = unknown, only the 2-byte
 * header is required. */
static uint8_t madt_min_len(uint8_t type)
{
	switch (type) {
	case ACPI_MADT_LAPIC:          return sizeof(struct acpi_madt_lapic);
	case ACPI_MADT_IOAPIC:         return sizeof(struct acpi_madt_ioapic);
	case ACPI_MADT_ISO:            return sizeof(struct acpi_madt_iso);
	case ACPI_MADT_LAPIC_NMI:      return sizeof(struct acpi_madt_lapic_nmi);
	case ACPI_MADT_LAPIC_OVERRIDE: return sizeof(struct acpi_madt_lapic_override);
	case ACPI_MADT_X2APIC:         return sizeof(struct acpi_madt_x2apic);
	default:                       return sizeof(struct acpi_madt_sub);
	}
}

static void madt_cpu(struct acpi_madt_info *m, uint32_t apic_id, uint32_t uid,
		     uint32_t flags, uint8_t x2apic)
{
	if (!(flags & ACPI_MADT_CPU_ENABLED)) {
		m->cpus_disabled++;
		return;
	}
	if (m->cpus_listed < ACPI_MADT_MAX_CPUS) {
		m->cpu[m->cpus_listed].apic_id = apic_id;
		m->cpu[m->cpus_listed].uid = uid;
		m->cpu[m->cpus_listed].x2apic = x2apic;
		m->cpus_listed++;
	}
	m->cpus++;
}

enum acpi_status acpi_madt_parse(const void *table, uint32_t len, struct acpi_madt_info *m)
{
	const uint8_t *b = table;
	memset(m, 0, sizeof(*m));
	if (len < sizeof(struct acpi_madt))
		return ACPI_E_TOO_SHORT;
	const struct acpi_madt *madt = table;
	m->lapic_pa = ld32(&madt->lapic_pa);
	m->flags = ld32(&madt->flags);

	/* Each step advances by the subtable's own length, which is checked
	 * to be at least its type's size (>= 2, so the walk always ends) and
	 * to end inside the table. */
	for (uint32_t off = sizeof(struct acpi_madt); off < len;) {
		if (len - off < sizeof(struct acpi_madt_sub)) {
			m->bad_offset = off;
			return ACPI_E_SUBTABLE;
		}
		uint8_t type = b[off], slen = b[off + 1];
		if (slen < madt_min_len(type) || slen > len - off) {
			m->bad_offset = off;
			return ACPI_E_SUBTABLE;
		}
		const void *s = b + off;
		switch (type) {
		case ACPI_MADT_LAPIC: {
			const struct acpi_madt_lapic *l = s;
			madt_cpu(m, l->apic_id, l->processor_uid, ld32(&l->flags), 0);
			break;
		}
		case ACPI_MADT_X2APIC: {
			const struct acpi_madt_x2apic *x = s;
			madt_cpu(m, ld32(&x->x2apic_id), ld32(&x->processor_uid),
				 ld32(&x->flags), 1);
			break;
		}
		case ACPI_MADT_IOAPIC: {
			const struct acpi_madt_ioapic *io = s;
			if (m->ioapics < ACPI_MADT_MAX_IOAPICS) {
				m->ioapic[m->ioapics].id = io->ioapic_id;
				m->ioapic[m->ioapics].address = ld32(&io->address);
				m->ioapic[m->ioapics].gsi_base = ld32(&io->gsi_base);
				m->ioapics++;
			}
			break;
		}
		case ACPI_MADT_ISO: {
			const struct acpi_madt_iso *iso = s;
			if (m->isos < ACPI_MADT_MAX_ISOS) {
				m->iso[m->isos].bus = iso->bus;
				m->iso[m->isos].source = iso->source;
				m->iso[m->isos].gsi = ld32(&iso->gsi);
				m->iso[m->isos].flags = ld16(&iso->flags);
				m->isos++;
			}
			break;
		}
		case ACPI_MADT_LAPIC_OVERRIDE:
			m->lapic_pa = ld64(&((const struct acpi_madt_lapic_override *)s)->address);
			break;
		case ACPI_MADT_LAPIC_NMI:
		case ACPI_MADT_X2APIC_NMI:
			m->nmis++;
			break;
		default:
			m->others++;
			break;
		}
		off += slen;
	}
	return ACPI_OK;
}

void acpi_madt_print(const struct acpi_madt_info *m)
{
	mm_printf("acpi: MADT lapic=0x%llx flags=0x%x%s\n", (unsigned long long)m->lapic_pa,
		  m->flags, (m->flags & ACPI_MADT_PCAT_COMPAT) ? " (8259 present)" : "");
	for (unsigned i = 0; i < m->cpus_listed; i++)
		mm_printf("acpi: MADT cpu %u: %s id=%u uid=%u\n", i,
			  m->cpu[i].x2apic ? "x2apic" : "lapic", m->cpu[i].apic_id, m->cpu[i].uid);
	if (m->cpus > m->cpus_listed)
		mm_printf("acpi: MADT (%u more cpus not listed)\n", m->cpus - m->cpus_listed);
	for (unsigned i = 0; i < m->ioapics; i++)
		mm_printf("acpi: MADT ioapic id=%u base=0x%08x gsi_base=%u\n", m->ioapic[i].id,
			  m->ioapic[i].address, m->ioapic[i].gsi_base);
	for (unsigned i = 0; i < m->isos; i++)
		mm_printf("acpi: MADT override bus=%u irq=%u gsi=%u flags=0x%04x\n", m->iso[i].bus,
			  m->iso[i].source, m->iso[i].gsi, m->iso[i].flags);
	mm_printf("acpi: MADT disabled-cpus=%u nmi=%u other=%u\n", m->cpus_disabled, m->nmis,
		  m->others);
	mm_printf("acpi: MADT cpus=%u ioapics=%u\n", m->cpus, m->ioapics);
}

/* ---------------------------------------------------------------- FADT */

/* The spec revision a FADT of len bytes is at least (1, 3, 5 or 6). */
static uint8_t fadt_len_revision(uint32_t len)
{
	if (len >= ACPI_FADT_V6_LEN)
		return 6;
	if (len >= ACPI_FADT_V5_LEN)
		return 5;
	if (len >= ACPI_FADT_V3_LEN)
		return 3;
	return 1;
}

enum acpi_status acpi_fadt_parse(const void *table, uint32_t len, struct acpi_fadt_info *f)
{
	const struct acpi_fadt *t = table;
	memset(f, 0, sizeof(*f));
	if (len < ACPI_FADT_V1_LEN)
		return ACPI_E_TOO_SHORT;
	f->revision = t->hdr.revision;
	f->length = len;
	f->len_revision = fadt_len_revision(len);
	f->flags = ld32(&t->flags);
	f->sci_int = ld16(&t->sci_int);
	f->facs_pa = ld32(&t->firmware_ctrl);
	f->dsdt32 = ld32(&t->dsdt);
	f->dsdt_pa = f->dsdt32;
	if (t->pm_tmr_len >= 4)
		f->pm_timer_port = ld32(&t->pm_tmr_blk);
	f->pm_timer_bits = (f->flags & ACPI_FADT_F_TMR_VAL_EXT) ? 32 : 24;

	if (ACPI_FADT_HAS(len, fadt_minor_version))
		f->minor = t->fadt_minor_version;
	if (ACPI_FADT_HAS(len, reset_value) && (f->flags & ACPI_FADT_F_RESET_REG_SUP)) {
		f->has_reset = 1;
		f->reset_space = t->reset_reg.space_id;
		f->reset_addr = ld64(&t->reset_reg.address);
		f->reset_value = t->reset_value;
	}
	if (ACPI_FADT_HAS(len, x_firmware_ctrl) && ld64(&t->x_firmware_ctrl))
		f->facs_pa = ld64(&t->x_firmware_ctrl);
	if (ACPI_FADT_HAS(len, x_dsdt)) {
		f->x_dsdt = ld64(&t->x_dsdt);
		if (f->x_dsdt)
			f->dsdt_pa = f->x_dsdt;
	}
	/* The 64-bit PM timer block wins if it is an I/O port. */
	if (ACPI_FADT_HAS(len, x_pm_tmr_blk) && t->x_pm_tmr_blk.space_id == ACPI_GAS_IO &&
	    ld64(&t->x_pm_tmr_blk.address))
		f->pm_timer_port = (uint32_t)ld64(&t->x_pm_tmr_blk.address);
	return ACPI_OK;
}

void acpi_fadt_print(const struct acpi_fadt_info *f)
{
	mm_printf("acpi: FADT rev=%u.%u len=%u (length implies rev>=%u) flags=0x%08x sci=%u%s\n",
		  f->revision, f->minor, f->length, f->len_revision, f->flags, f->sci_int,
		  (f->flags & ACPI_FADT_F_HW_REDUCED) ? " hw-reduced" : "");
	if (f->pm_timer_port)
		mm_printf("acpi: FADT pm_timer port=0x%x %u-bit\n", f->pm_timer_port,
			  f->pm_timer_bits);
	else
		mm_printf("acpi: FADT pm_timer none\n");
	mm_printf("acpi: FADT dsdt=0x%08x x_dsdt=0x%016llx facs=0x%llx\n", f->dsdt32,
		  (unsigned long long)f->x_dsdt, (unsigned long long)f->facs_pa);
	if (f->has_reset)
		mm_printf("acpi: FADT reset_reg %s 0x%llx value=0x%02x\n",
			  f->reset_space == ACPI_GAS_IO ? "io" :
			  f->reset_space == ACPI_GAS_MEMORY ? "mem" : "space?",
			  (unsigned long long)f->reset_addr, f->reset_value);
	else
		mm_printf("acpi: FADT reset_reg none\n");
}

/* ---------------------------------------------------------------- HPET */

enum acpi_status acpi_hpet_parse(const void *table, uint32_t len, struct acpi_hpet_info *out)
{
	const struct acpi_hpet *t = table;
	memset(out, 0, sizeof(*out));
	if (len < sizeof(struct acpi_hpet))
		return ACPI_E_TOO_SHORT;
	out->block_id = ld32(&t->event_timer_block_id);
	out->base_pa = ld64(&t->base.address);
	out->number = t->hpet_number;
	out->min_tick = ld16(&t->min_clock_tick);
	if (t->base.space_id != ACPI_GAS_MEMORY || out->base_pa == 0)
		return ACPI_E_BAD_VALUE;
	return ACPI_OK;
}

/* ---------------------------------------------------------------- MCFG */

enum acpi_status acpi_mcfg_parse(const void *table, uint32_t len, struct acpi_mcfg_info *out)
{
	const uint8_t *b = table;
	memset(out, 0, sizeof(*out));
	if (len < sizeof(struct acpi_mcfg))
		return ACPI_E_TOO_SHORT;
	uint32_t n = (len - sizeof(struct acpi_mcfg)) / sizeof(struct acpi_mcfg_alloc);
	if ((len - sizeof(struct acpi_mcfg)) % sizeof(struct acpi_mcfg_alloc))
		out->warning = ACPI_E_ROOT_LENGTH;
	for (uint32_t i = 0; i < n; i++) {
		const struct acpi_mcfg_alloc *al = (const void *)(b + sizeof(struct acpi_mcfg) +
								  i * sizeof(*al));
		uint64_t base = ld64(&al->base_pa);
		if (al->end_bus < al->start_bus || base == 0 ||
		    range_wraps(base, ((uint64_t)al->end_bus + 1) << 20) ||
		    out->count == ACPI_MCFG_MAX) {
			out->skipped++;
			continue;
		}
		out->seg[out->count].base_pa = base;
		out->seg[out->count].segment = ld16(&al->segment);
		out->seg[out->count].start_bus = al->start_bus;
		out->seg[out->count].end_bus = al->end_bus;
		out->count++;
	}
	return ACPI_OK;
}

/* ---------------------------------------------------------------- lookup */

enum acpi_kind { KIND_MADT, KIND_FADT, KIND_HPET, KIND_MCFG };

/* Finds, maps, parses and unmaps the first valid table of a kind. */
static enum acpi_status get_table(const struct acpi *a, enum acpi_kind kind, void *out)
{
	static const char *const sigs[] = { "APIC", "FACP", "HPET", "MCFG" };
	const struct acpi_table_info *t = acpi_find(a, sigs[kind], 0);
	if (!t)
		return ACPI_E_NOT_FOUND;
	const void *tab = acpi_table_map(a, t);
	if (!tab)
		return ACPI_E_MAP;
	enum acpi_status st = ACPI_E_NOT_FOUND;
	switch (kind) {
	case KIND_MADT: st = acpi_madt_parse(tab, t->length, out); break;
	case KIND_FADT: st = acpi_fadt_parse(tab, t->length, out); break;
	case KIND_HPET: st = acpi_hpet_parse(tab, t->length, out); break;
	case KIND_MCFG: st = acpi_mcfg_parse(tab, t->length, out); break;
	}
	acpi_table_unmap(a, t, tab);
	return st;
}

enum acpi_status acpi_get_madt(const struct acpi *a, struct acpi_madt_info *out)
{
	return get_table(a, KIND_MADT, out);
}

enum acpi_status acpi_get_fadt(const struct acpi *a, struct acpi_fadt_info *out)
{
	return get_table(a, KIND_FADT, out);
}

enum acpi_status acpi_get_hpet(const struct acpi *a, struct acpi_hpet_info *out)
{
	return get_table(a, KIND_HPET, out);
}

enum acpi_status acpi_get_mcfg(const struct acpi *a, struct acpi_mcfg_info *out)
{
	return get_table(a, KIND_MCFG, out);
}
