/*
 * acpi.h - find the CPUs the firmware describes: RSDP -> XSDT (or RSDT)
 * -> MADT, and the local APIC (type 0) and x2APIC (type 9) entries of
 * the MADT (ACPI 6.5, 5.2.5 to 5.2.12).
 *
 * The parser is pure: it reads physical memory only through a map
 * function the caller gives, so the kernel passes its identity map and
 * the host tests and the fuzzer pass a byte buffer.  Every table it
 * uses has its checksum and length checked; a table that fails is
 * reported (which one, and why), never trusted.
 */
#ifndef ACPI_H
#define ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CPUs the result holds; further MADT entries are only counted. */
#define ACPI_MAX_CPUS 256

/* A longer table is not believed (the largest real MADTs are ~30 KiB). */
#define ACPI_TABLE_MAX (1u << 20)

/* MADT processor flags (ACPI 6.5, Table 5.23). */
#define ACPI_MADT_ENABLED        (1u << 0)
#define ACPI_MADT_ONLINE_CAPABLE (1u << 1) /* only meaningful when not enabled */

/*
 * Return a pointer through which the len bytes at physical address pa
 * can be read, or NULL when they cannot (outside memory, not mapped).
 */
typedef const void *acpi_map_fn(uint64_t pa, uint64_t len, void *ctx);

/* What the MADT says a processor is, and so what the kernel may do. */
enum acpi_cpu_state {
	ACPI_CPU_ENABLED,        /* present and usable: start it */
	ACPI_CPU_ONLINE_CAPABLE, /* may be hot-added later: not started at boot */
	ACPI_CPU_DISABLED,       /* neither: must never be started */
};

struct acpi_cpu {
	uint32_t apic_id;        /* local APIC or x2APIC id */
	uint32_t uid;            /* ACPI processor UID */
	uint32_t flags;          /* the entry's flags, as given */
	enum acpi_cpu_state state;
	bool x2apic;             /* from a type 9 (x2APIC) entry */
};

struct acpi_madt {
	bool xsdt;               /* found through the XSDT (else the RSDT) */
	uint64_t madt_pa;        /* where the MADT is */
	uint64_t lapic_base;     /* local APIC MMIO base (type 5 overrides) */
	uint32_t ncpus;          /* entries in cpu[] */
	uint32_t dropped;        /* processor entries past ACPI_MAX_CPUS */
	uint32_t duplicates;     /* entries repeating an APIC id already seen */
	struct acpi_cpu cpu[ACPI_MAX_CPUS];
};

enum acpi_err {
	ACPI_OK = 0,
	ACPI_ENORSDP,    /* no RSDP address, or no "RSD PTR " signature there */
	ACPI_EMAP,       /* a table (or part of one) cannot be read */
	ACPI_ECHECKSUM,  /* a table's bytes do not sum to zero */
	ACPI_ESIGNATURE, /* a table is not what the table pointing at it says */
	ACPI_ELENGTH,    /* a length is too short, too long or overruns its table */
	ACPI_ENOMADT,    /* the root table lists no MADT ("APIC") */
};

/*
 * Read the MADT reached from the RSDP at rsdp_pa into *out.  The XSDT is
 * used when the RSDP is revision 2 or later and names one, else the
 * RSDT.  Checked: the RSDP's checksum (both for ACPI 2.0+), the root
 * table's and the MADT's signature, length and checksum, and every MADT
 * entry's length.  Returns ACPI_OK, or an acpi_err with the signature of
 * the table at fault in bad[] ("RSDP", "XSDT", "APIC", ...); then *out
 * holds nothing usable.
 */
int acpi_read_madt(uint64_t rsdp_pa, acpi_map_fn *map, void *ctx, struct acpi_madt *out,
		   char bad[5]);

/* A short English name for an acpi_err ("bad checksum"). */
const char *acpi_strerror(int err);

/* "enabled", "online-capable" or "disabled". */
const char *acpi_cpu_state_name(enum acpi_cpu_state s);

#endif
