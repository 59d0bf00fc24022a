/*
 * fuzz_acpi.c - libFuzzer target for the ACPI walk (kernel/acpi.c):
 * RSDP -> XSDT/RSDT -> MADT and its processor entries.
 *
 * The input is physical memory: its bytes stand for [BASE, BASE + size)
 * and the RSDP is at BASE, so every pointer, length, checksum and entry
 * of every table can be anything.  Each run:
 *   - the parser reads only through the map function (any read outside
 *     the input is caught by ASan, as the map hands out the input itself);
 *   - a refusal is one of the acpi_err codes, with the table named;
 *   - a success holds at most ACPI_MAX_CPUS CPUs, no APIC id twice, no
 *     invalid id (0xFF from a type 0 entry, 0xFFFFFFFF), and each CPU's
 *     state is the one its flags give.
 * Seeds: test/fuzz/corpus/fuzz_acpi (make_acpi_seeds.py).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acpi.h"
#include "fuzz_check.h"

#define BASE 0x80000ull

struct input {
	const uint8_t *data;
	size_t size;
};

static const void *map(uint64_t pa, uint64_t len, void *ctx)
{
	const struct input *in = ctx;

	if (pa < BASE || pa - BASE > in->size || len > in->size - (pa - BASE))
		return NULL;
	return in->data + (pa - BASE);
}

static enum acpi_cpu_state expected_state(uint32_t flags)
{
	if (flags & ACPI_MADT_ENABLED)
		return ACPI_CPU_ENABLED;
	return flags & ACPI_MADT_ONLINE_CAPABLE ? ACPI_CPU_ONLINE_CAPABLE : ACPI_CPU_DISABLED;
}

static void check_cpus(const struct acpi_madt *m)
{
	CHECK(m->ncpus <= ACPI_MAX_CPUS);
	CHECK(m->dropped == 0 || m->ncpus == ACPI_MAX_CPUS);
	for (uint32_t i = 0; i < m->ncpus; i++) {
		const struct acpi_cpu *c = &m->cpu[i];
		CHECK(c->state == expected_state(c->flags));
		CHECK(c->x2apic ? c->apic_id != 0xFFFFFFFFu : c->apic_id < 0xFF);
		for (uint32_t j = 0; j < i; j++)
			CHECK(m->cpu[j].apic_id != c->apic_id);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly size bytes: ASan then sees any read past it. */
	uint8_t *copy = malloc(size ? size : 1);
	struct input in = { copy, size };
	static struct acpi_madt m;
	char bad[5];

	memcpy(copy, data, size);
	int err = acpi_read_madt(BASE, map, &in, &m, bad);
	if (err == ACPI_OK) {
		CHECK(bad[0] == '\0');
		check_cpus(&m);
	} else {
		CHECK(err > ACPI_OK && err <= ACPI_ENOMADT);
		CHECK(strlen(bad) == 4);
	}
	free(copy);
	return 0;
}
