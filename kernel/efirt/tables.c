/*
 * kernel/efirt/tables.c - table header checks, CRC-32 and the
 * configuration-table lookup (contracts in tables.h).
 */
#include "kernel/efirt/tables.h"
#include "lib/string.h"

/* The reflected CRC-32 polynomial of IEEE 802.3. */
#define CRC32_POLY 0xedb88320u

/* Offset and size of efi_table_header.crc32, counted as 0 in the sum. */
#define CRC_FIELD_OFF offsetof(struct efi_table_header, crc32)
#define CRC_FIELD_LEN sizeof(uint32_t)

/* Feeds byte b into the running CRC c (bitwise: tables are a few hundred
 * bytes, checked once per boot, so no lookup table). */
static uint32_t crc32_byte(uint32_t c, uint8_t b)
{
	c ^= b;
	for (int k = 0; k < 8; k++)
		c = (c >> 1) ^ (CRC32_POLY & (0u - (c & 1)));
	return c;
}

/* See tables.h. */
uint32_t efirt_crc32(const void *p, size_t n)
{
	uint32_t c = ~0u;
	for (size_t i = 0; i < n; i++)
		c = crc32_byte(c, ((const uint8_t *)p)[i]);
	return ~c;
}

/* See tables.h. */
int efirt_header_check(const struct efi_table_header *h, uint64_t signature, uint32_t min_size)
{
	if (h->signature != signature)
		return EFIRT_ESIGNATURE;
	if ((h->revision >> 16) < 1)
		return EFIRT_EREVISION;
	if (h->header_size < min_size || h->header_size > EFIRT_TABLE_MAX)
		return EFIRT_EHDRSIZE;
	return EFIRT_OK;
}

/* See tables.h. */
int efirt_crc_check(const void *tbl)
{
	struct efi_table_header h;
	memcpy(&h, tbl, sizeof(h));
	uint32_t c = ~0u;
	for (size_t i = 0; i < h.header_size; i++) {
		uint8_t b = ((const uint8_t *)tbl)[i];
		if (i >= CRC_FIELD_OFF && i < CRC_FIELD_OFF + CRC_FIELD_LEN)
			b = 0;
		c = crc32_byte(c, b);
	}
	return ~c == h.crc32 ? EFIRT_OK : EFIRT_ECRC;
}

/* See tables.h. */
int efirt_config_find(const struct efi_config_entry *t, uint64_t count,
		      const struct efi_guid *guid, uint64_t *table)
{
	for (uint64_t i = 0; i < count; i++) {
		struct efi_config_entry e;
		memcpy(&e, &t[i], sizeof(e));
		if (memcmp(&e.guid, guid, sizeof(*guid)) == 0) {
			*table = e.table;
			return 1;
		}
	}
	return 0;
}

/* Returns 1 if year is a Gregorian leap year. */
static int leap_year(unsigned year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/* See tables.h. */
int efirt_time_check(const struct efi_time *t)
{
	static const uint8_t month_days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (t->year < EFI_TIME_YEAR_MIN || t->year > EFI_TIME_YEAR_MAX || t->month < 1 ||
	    t->month > 12)
		return EFIRT_ETIME;
	unsigned days = month_days[t->month - 1] + (t->month == 2 && leap_year(t->year));
	if (t->day < 1 || t->day > days || t->hour > 23 || t->minute > 59 || t->second > 59 ||
	    t->nanosecond >= EFI_TIME_NS_LIMIT)
		return EFIRT_ETIME;
	if (t->time_zone != EFI_UNSPECIFIED_TIMEZONE &&
	    (t->time_zone < -EFI_TIME_ZONE_MAX || t->time_zone > EFI_TIME_ZONE_MAX))
		return EFIRT_ETIME;
	return EFIRT_OK;
}
