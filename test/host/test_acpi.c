/*
 * test_acpi.c - host tests of kernel/acpi.c: the RSDP -> XSDT/RSDT ->
 * MADT walk over fixture tables built in a byte buffer that stands for
 * physical memory at [BASE, BASE + sizeof(mem)).
 *
 * Fixture layout (offsets from BASE):
 *   0x000 RSDP   0x100 XSDT -> FACP, APIC   0x200 RSDT -> FACP, APIC
 *   0x300 FACP (a header only)              0x400 MADT, entries appended
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "acpi.h"

#define BASE 0xE0000ull
#define RSDP 0x000
#define XSDT 0x100
#define RSDT 0x200
#define FACP 0x300
#define MADT 0x400

static uint8_t mem[8192];
static uint32_t madt_len;  /* bytes of the MADT so far */
static struct acpi_madt out;
static char bad[5];

static const void *map(uint64_t pa, uint64_t len, void *ctx)
{
	(void)ctx;
	if (pa < BASE || pa - BASE > sizeof(mem) || len > sizeof(mem) - (pa - BASE))
		return NULL;
	return mem + (pa - BASE);
}

static void put(uint32_t off, uint64_t v, int bytes)
{
	for (int i = 0; i < bytes; i++)
		mem[off + i] = (uint8_t)(v >> (8 * i));
}

/* Make the len bytes at off sum to zero through the byte at csum. */
static void fix_sum(uint32_t off, uint32_t len, uint32_t csum)
{
	uint8_t sum = 0;

	mem[csum] = 0;
	for (uint32_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + mem[off + i]);
	mem[csum] = (uint8_t)-sum;
}

static void header(uint32_t off, const char *sig, uint32_t len)
{
	memcpy(mem + off, sig, 4);
	put(off + 4, len, 4);
	mem[off + 8] = 1;
	memcpy(mem + off + 10, "TESTID", 6);
}

/* RSDP of this revision (0: ACPI 1.0, 2: 2.0+), both root tables, a
 * FACP, and an empty MADT with local APIC base 0xFEE00000. */
static void build(int revision)
{
	memset(mem, 0, sizeof(mem));
	memcpy(mem + RSDP, "RSD PTR ", 8);
	mem[RSDP + 15] = (uint8_t)revision;
	put(RSDP + 16, BASE + RSDT, 4);
	put(RSDP + 20, 36, 4);
	put(RSDP + 24, revision >= 2 ? BASE + XSDT : 0, 8);
	header(XSDT, "XSDT", 36 + 16);
	put(XSDT + 36, BASE + FACP, 8);
	put(XSDT + 44, BASE + MADT, 8);
	header(RSDT, "RSDT", 36 + 8);
	put(RSDT + 36, BASE + FACP, 4);
	put(RSDT + 40, BASE + MADT, 4);
	header(FACP, "FACP", 36);
	header(MADT, "APIC", 44);
	put(MADT + 36, 0xFEE00000, 4);
	put(MADT + 40, 1, 4);
	madt_len = 44;
}

static void entry(const uint8_t *bytes, uint8_t len)
{
	memcpy(mem + MADT + madt_len, bytes, len);
	madt_len += len;
}

static void lapic(uint8_t uid, uint8_t id, uint32_t flags)
{
	uint8_t e[8] = { 0, 8, uid, id };

	memcpy(e + 4, &flags, 4);
	entry(e, 8);
}

static void x2apic(uint32_t id, uint32_t uid, uint32_t flags)
{
	uint8_t e[16] = { 9, 16 };

	memcpy(e + 4, &id, 4);
	memcpy(e + 8, &flags, 4);
	memcpy(e + 12, &uid, 4);
	entry(e, 16);
}

/* Fill in lengths and checksums, as firmware does. */
static void seal(void)
{
	put(MADT + 4, madt_len, 4);
	fix_sum(MADT, madt_len, MADT + 9);
	fix_sum(XSDT, 52, XSDT + 9);
	fix_sum(RSDT, 44, RSDT + 9);
	fix_sum(FACP, 36, FACP + 9);
	fix_sum(RSDP, 20, RSDP + 8);
	fix_sum(RSDP, 36, RSDP + 32);
}

static int parse(void)
{
	return acpi_read_madt(BASE + RSDP, map, NULL, &out, bad);
}

/* Expect four enabled CPUs through the XSDT, in MADT order. */
static void acpi_read_madt_xsdt_four_cpus(void **state)
{
	(void)state;
	build(2);
	for (uint8_t i = 0; i < 4; i++)
		lapic(i, (uint8_t)(i * 2), ACPI_MADT_ENABLED);
	seal();
	assert_int_equal(parse(), ACPI_OK);
	assert_true(out.xsdt);
	assert_int_equal(out.madt_pa, BASE + MADT);
	assert_int_equal(out.lapic_base, 0xFEE00000);
	assert_int_equal(out.ncpus, 4);
	for (uint32_t i = 0; i < 4; i++) {
		assert_int_equal(out.cpu[i].apic_id, i * 2);
		assert_int_equal(out.cpu[i].uid, i);
		assert_int_equal(out.cpu[i].state, ACPI_CPU_ENABLED);
		assert_false(out.cpu[i].x2apic);
	}
	assert_string_equal(bad, "");
}

/* Expect an ACPI 1.0 RSDP to lead through the RSDT. */
static void acpi_read_madt_rsdt_only(void **state)
{
	(void)state;
	build(0);
	lapic(0, 0, ACPI_MADT_ENABLED);
	lapic(1, 1, ACPI_MADT_ENABLED);
	seal();
	mem[XSDT] = 'Z'; /* no XSDT may be read */
	assert_int_equal(parse(), ACPI_OK);
	assert_false(out.xsdt);
	assert_int_equal(out.ncpus, 2);
}

/* Expect a 2.0 RSDP with no XSDT address to fall back to the RSDT. */
static void acpi_read_madt_rsdp2_without_xsdt(void **state)
{
	(void)state;
	build(2);
	lapic(0, 0, ACPI_MADT_ENABLED);
	put(RSDP + 24, 0, 8);
	seal();
	assert_int_equal(parse(), ACPI_OK);
	assert_false(out.xsdt);
	assert_int_equal(out.ncpus, 1);
}

/* Expect x2APIC entries with 32-bit ids, and an id listed as both type 0
 * and type 9 to be kept once. */
static void acpi_read_madt_x2apic_entries(void **state)
{
	(void)state;
	build(2);
	lapic(0, 0, ACPI_MADT_ENABLED);
	x2apic(0, 0, ACPI_MADT_ENABLED);
	x2apic(300, 7, ACPI_MADT_ENABLED);
	x2apic(0xFFFFFFFF, 8, ACPI_MADT_ENABLED); /* names no CPU */
	lapic(9, 0xFF, ACPI_MADT_ENABLED);        /* neither */
	seal();
	assert_int_equal(parse(), ACPI_OK);
	assert_int_equal(out.ncpus, 2);
	assert_int_equal(out.duplicates, 1);
	assert_int_equal(out.cpu[1].apic_id, 300);
	assert_int_equal(out.cpu[1].uid, 7);
	assert_true(out.cpu[1].x2apic);
}

/* Expect the flags read as ACPI 6.5 5.2.12.2 says: Online Capable
 * matters only when Enabled is clear; neither bit: never start. */
static void acpi_read_madt_disabled_and_online_capable(void **state)
{
	(void)state;
	build(2);
	lapic(0, 0, ACPI_MADT_ENABLED);
	lapic(1, 1, 0);
	lapic(2, 2, ACPI_MADT_ONLINE_CAPABLE);
	lapic(3, 3, ACPI_MADT_ENABLED | ACPI_MADT_ONLINE_CAPABLE);
	x2apic(4, 4, ACPI_MADT_ONLINE_CAPABLE);
	seal();
	assert_int_equal(parse(), ACPI_OK);
	assert_int_equal(out.ncpus, 5);
	assert_int_equal(out.cpu[0].state, ACPI_CPU_ENABLED);
	assert_int_equal(out.cpu[1].state, ACPI_CPU_DISABLED);
	assert_int_equal(out.cpu[2].state, ACPI_CPU_ONLINE_CAPABLE);
	assert_int_equal(out.cpu[3].state, ACPI_CPU_ENABLED);
	assert_int_equal(out.cpu[4].state, ACPI_CPU_ONLINE_CAPABLE);
	assert_string_equal(acpi_cpu_state_name(out.cpu[2].state), "online-capable");
}

/* Expect a local APIC address override (type 5) to replace the base. */
static void acpi_read_madt_lapic_override(void **state)
{
	uint8_t e[12] = { 5, 12 };
	uint64_t base = 0x1234567000ull;

	(void)state;
	build(2);
	memcpy(e + 4, &base, 8);
	entry(e, 12);
	seal();
	assert_int_equal(parse(), ACPI_OK);
	assert_int_equal(out.lapic_base, base);
}

/* Expect each table's bad checksum to be reported with its name. */
static void acpi_read_madt_bad_checksums(void **state)
{
	static const struct { uint32_t at; const char *name; } cases[] = {
		{ RSDP + 10, "RSDP" },  /* in the 1.0 part (the OEM id) */
		{ RSDP + 33, "RSDP" },  /* in the 2.0 extension only */
		{ XSDT + 20, "XSDT" },
		{ MADT + 50, "APIC" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		build(2);
		lapic(0, 0, ACPI_MADT_ENABLED);
		seal();
		mem[cases[i].at] ^= 0x40;
		assert_int_equal(parse(), ACPI_ECHECKSUM);
		assert_string_equal(bad, cases[i].name);
	}
}

/* Expect a bad RSDT checksum to matter only on the RSDT path. */
static void acpi_read_madt_bad_rsdt_checksum(void **state)
{
	(void)state;
	build(0);
	lapic(0, 0, ACPI_MADT_ENABLED);
	seal();
	mem[RSDT + 12] ^= 1;
	assert_int_equal(parse(), ACPI_ECHECKSUM);
	assert_string_equal(bad, "RSDT");
}

/* Expect entry lengths that cannot advance, overrun the MADT or are too
 * short for their type to be refused, not read past. */
static void acpi_read_madt_truncated_entries(void **state)
{
	static const uint8_t zero_len[2] = { 0, 0 }, overrun[4] = { 0, 40, 0, 0 },
			     short_lapic[6] = { 0, 6, 0, 1, 1, 0 },
			     short_x2apic[12] = { 9, 12 }, odd_tail[1] = { 0 };
	static const struct { const uint8_t *e; uint8_t len; } cases[] = {
		{ zero_len, 2 }, { overrun, 4 }, { short_lapic, 6 }, { short_x2apic, 12 },
		{ odd_tail, 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		build(2);
		lapic(0, 0, ACPI_MADT_ENABLED);
		entry(cases[i].e, cases[i].len);
		seal();
		assert_int_equal(parse(), ACPI_ELENGTH);
		assert_string_equal(bad, "APIC");
	}
}

/* Expect table lengths below the header, or past readable memory, to be
 * refused. */
static void acpi_read_madt_bad_table_lengths(void **state)
{
	(void)state;
	build(2);
	seal();
	put(MADT + 4, 40, 4); /* shorter than the MADT's fixed part */
	fix_sum(MADT, 40, MADT + 9);
	assert_int_equal(parse(), ACPI_ELENGTH);
	assert_string_equal(bad, "APIC");

	build(2);
	seal();
	put(XSDT + 4, sizeof(mem), 4); /* runs off the end of memory */
	assert_int_equal(parse(), ACPI_EMAP);
	assert_string_equal(bad, "XSDT");

	build(2);
	seal();
	put(RSDP + 20, 20, 4); /* a 2.0 RSDP shorter than itself */
	fix_sum(RSDP, 20, RSDP + 8);
	assert_int_equal(parse(), ACPI_ELENGTH);
	assert_string_equal(bad, "RSDP");
}

/* Expect a 2.0 RSDP whose Length is absurd (past ACPI_TABLE_MAX) to be
 * refused for its length, before anything asks to map that much. */
static void acpi_read_madt_rsdp_absurd_length(void **state)
{
	(void)state;
	build(2);
	seal();
	put(RSDP + 20, 0xFFFFFFFF, 4);
	fix_sum(RSDP, 20, RSDP + 8);
	assert_int_equal(parse(), ACPI_ELENGTH);
	assert_string_equal(bad, "RSDP");
}

/* Expect a missing RSDP, a wrong signature and a root table without a
 * MADT to be told apart. */
static void acpi_read_madt_missing_pieces(void **state)
{
	(void)state;
	assert_int_equal(acpi_read_madt(0, map, NULL, &out, bad), ACPI_ENORSDP);
	build(2);
	seal();
	mem[RSDP] = 'X';
	assert_int_equal(parse(), ACPI_ENORSDP);

	build(2);
	seal();
	memcpy(mem + XSDT, "SSDT", 4);
	assert_int_equal(parse(), ACPI_ESIGNATURE);
	assert_string_equal(bad, "XSDT");

	build(2);
	seal();
	memcpy(mem + MADT, "APIX", 4);
	assert_int_equal(parse(), ACPI_ENOMADT);
	assert_string_equal(acpi_strerror(ACPI_ENOMADT), "no MADT in the root table");
}

/* Expect CPUs past ACPI_MAX_CPUS to be counted, not stored. */
static void acpi_read_madt_too_many_cpus(void **state)
{
	(void)state;
	build(2);
	for (uint32_t i = 0; i < ACPI_MAX_CPUS + 3; i++)
		x2apic(i, i, ACPI_MADT_ENABLED);
	seal();
	assert_int_equal(parse(), ACPI_OK);
	assert_int_equal(out.ncpus, ACPI_MAX_CPUS);
	assert_int_equal(out.dropped, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(acpi_read_madt_xsdt_four_cpus),
		cmocka_unit_test(acpi_read_madt_rsdt_only),
		cmocka_unit_test(acpi_read_madt_rsdp2_without_xsdt),
		cmocka_unit_test(acpi_read_madt_x2apic_entries),
		cmocka_unit_test(acpi_read_madt_disabled_and_online_capable),
		cmocka_unit_test(acpi_read_madt_lapic_override),
		cmocka_unit_test(acpi_read_madt_bad_checksums),
		cmocka_unit_test(acpi_read_madt_bad_rsdt_checksum),
		cmocka_unit_test(acpi_read_madt_truncated_entries),
		cmocka_unit_test(acpi_read_madt_bad_table_lengths),
		cmocka_unit_test(acpi_read_madt_rsdp_absurd_length),
		cmocka_unit_test(acpi_read_madt_missing_pieces),
		cmocka_unit_test(acpi_read_madt_too_many_cpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
