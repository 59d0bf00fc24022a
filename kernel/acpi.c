/*
 * acpi.c - RSDP -> XSDT/RSDT -> MADT, and the processors the MADT lists.
 *
 * Pure C over bytes: every read goes through the caller's map function
 * and through rd16/rd32/rd64, which assemble little-endian values byte
 * by byte (ACPI tables are packed, so fields are often unaligned).
 * Layouts: ACPI 6.5, 5.2.5.3 (RSDP), 5.2.6 (the common header), 5.2.7
 * (RSDT), 5.2.8 (XSDT), 5.2.12 (MADT), 5.2.12.2 (local APIC), 5.2.12.12
 * (x2APIC), 5.2.12.8 (local APIC address override).
 */
#include "acpi.h"

#define RSDP_V1_LEN      20  /* the ACPI 1.0 part, covered by the first checksum */
#define RSDP_V2_LEN      36  /* the whole 2.0 structure */
#define HDR_LEN          36  /* every system description table's header */
#define MADT_FIXED_LEN   44  /* header + local APIC address + flags */

#define MADT_LAPIC       0   /* processor local APIC, 8 bytes */
#define MADT_LAPIC_ADDR  5   /* local APIC address override, 12 bytes */
#define MADT_X2APIC      9   /* processor local x2APIC, 16 bytes */

#define XAPIC_ID_INVALID  0xFFu        /* a type 0 entry with this id names no CPU */
#define X2APIC_ID_INVALID 0xFFFFFFFFu

static uint32_t rd16(const uint8_t *p) { return p[0] | (uint32_t)p[1] << 8; }
static uint32_t rd32(const uint8_t *p) { return rd16(p) | rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static bool sums_to_zero(const uint8_t *p, uint64_t len)
{
	uint8_t sum = 0;

	for (uint64_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return sum == 0;
}

static bool same4(const uint8_t *p, const char *sig)
{
	return p[0] == sig[0] && p[1] == sig[1] && p[2] == sig[2] && p[3] == sig[3];
}

static void set_bad(char bad[5], const char *sig)
{
	for (int i = 0; i < 4; i++)
		bad[i] = sig[i];
	bad[4] = '\0';
}

/*
 * The table at pa with signature sig, checked: header readable, length
 * in [min_len, ACPI_TABLE_MAX], all of it readable, checksum zero.
 * Returns it with its length in *len, or NULL with *err set.
 */
static const uint8_t *checked_table(uint64_t pa, const char *sig, uint32_t min_len,
				    acpi_map_fn *map, void *ctx, uint32_t *len, int *err)
{
	const uint8_t *t = map(pa, HDR_LEN, ctx);

	*err = ACPI_EMAP;
	if (!t)
		return NULL;
	*err = ACPI_ESIGNATURE;
	if (!same4(t, sig))
		return NULL;
	*err = ACPI_ELENGTH;
	*len = rd32(t + 4);
	if (*len < min_len || *len > ACPI_TABLE_MAX)
		return NULL;
	*err = ACPI_EMAP;
	if (!(t = map(pa, *len, ctx)))
		return NULL;
	*err = ACPI_ECHECKSUM;
	if (!sums_to_zero(t, *len))
		return NULL;
	*err = ACPI_OK;
	return t;
}

/* The root table's address from the RSDP, choosing XSDT over RSDT. */
static int read_rsdp(uint64_t rsdp_pa, acpi_map_fn *map, void *ctx, uint64_t *root, bool *xsdt)
{
	const uint8_t *r = rsdp_pa ? map(rsdp_pa, RSDP_V1_LEN, ctx) : NULL;

	if (!r || !(same4(r, "RSD ") && same4(r + 4, "PTR ")))
		return ACPI_ENORSDP;
	if (!sums_to_zero(r, RSDP_V1_LEN))
		return ACPI_ECHECKSUM;
	*xsdt = false;
	*root = rd32(r + 16);
	if (r[15] < 2)
		return ACPI_OK; /* ACPI 1.0: the RSDT only */
	if (!(r = map(rsdp_pa, RSDP_V2_LEN, ctx)))
		return ACPI_EMAP;
	uint32_t len = rd32(r + 20);
	if (len < RSDP_V2_LEN || len > ACPI_TABLE_MAX)
		return ACPI_ELENGTH;
	if (!(r = map(rsdp_pa, len, ctx)))
		return ACPI_EMAP;
	if (!sums_to_zero(r, len))
		return ACPI_ECHECKSUM;
	if (rd64(r + 24)) {
		*root = rd64(r + 24);
		*xsdt = true;
	}
	return ACPI_OK;
}

/* The MADT's address from the root table, or 0. */
static uint64_t find_madt(const uint8_t *root, uint32_t len, bool xsdt, acpi_map_fn *map,
			  void *ctx)
{
	uint32_t step = xsdt ? 8 : 4;

	for (uint32_t off = HDR_LEN; off + step <= len; off += step) {
		uint64_t pa = xsdt ? rd64(root + off) : rd32(root + off);
		const uint8_t *h = pa ? map(pa, 4, ctx) : NULL;
		if (h && same4(h, "APIC"))
			return pa;
	}
	return 0;
}

static enum acpi_cpu_state state_of(uint32_t flags)
{
	if (flags & ACPI_MADT_ENABLED)
		return ACPI_CPU_ENABLED; /* Online Capable is reserved (zero) then */
	return flags & ACPI_MADT_ONLINE_CAPABLE ? ACPI_CPU_ONLINE_CAPABLE : ACPI_CPU_DISABLED;
}

/* Record one processor entry; an id seen before is counted, not kept
 * twice (firmware may list a CPU as both type 0 and type 9). */
static void add_cpu(struct acpi_madt *m, uint32_t apic_id, uint32_t uid, uint32_t flags,
		    bool x2apic)
{
	for (uint32_t i = 0; i < m->ncpus; i++)
		if (m->cpu[i].apic_id == apic_id) {
			m->duplicates++;
			return;
		}
	if (m->ncpus == ACPI_MAX_CPUS) {
		m->dropped++;
		return;
	}
	m->cpu[m->ncpus++] = (struct acpi_cpu){ apic_id, uid, flags, state_of(flags), x2apic };
}

/* One MADT entry of the given type and length at e; ACPI_ELENGTH when it
 * is shorter than its type needs. */
static int parse_entry(struct acpi_madt *m, const uint8_t *e, uint8_t type, uint8_t len)
{
	switch (type) {
	case MADT_LAPIC:
		if (len < 8)
			return ACPI_ELENGTH;
		if (e[3] != XAPIC_ID_INVALID)
			add_cpu(m, e[3], e[2], rd32(e + 4), false);
		return ACPI_OK;
	case MADT_X2APIC:
		if (len < 16)
			return ACPI_ELENGTH;
		if (rd32(e + 4) != X2APIC_ID_INVALID)
			add_cpu(m, rd32(e + 4), rd32(e + 12), rd32(e + 8), true);
		return ACPI_OK;
	case MADT_LAPIC_ADDR:
		if (len < 12)
			return ACPI_ELENGTH;
		m->lapic_base = rd64(e + 4);
		return ACPI_OK;
	default:
		return ACPI_OK; /* I/O APICs, overrides, NMI sources: not ours */
	}
}

static int parse_madt(const uint8_t *t, uint32_t len, struct acpi_madt *m)
{
	m->lapic_base = rd32(t + 36);
	for (uint32_t off = MADT_FIXED_LEN; off < len;) {
		if (len - off < 2 || t[off + 1] < 2 || t[off + 1] > len - off)
			return ACPI_ELENGTH; /* an entry that overruns or cannot advance */
		int err = parse_entry(m, t + off, t[off], t[off + 1]);
		if (err)
			return err;
		off += t[off + 1];
	}
	return ACPI_OK;
}

int acpi_read_madt(uint64_t rsdp_pa, acpi_map_fn *map, void *ctx, struct acpi_madt *out,
		   char bad[5])
{
	const uint8_t *root, *madt;
	uint64_t root_pa;
	uint32_t len;
	int err;

	*out = (struct acpi_madt){ 0 };
	set_bad(bad, "RSDP");
	if ((err = read_rsdp(rsdp_pa, map, ctx, &root_pa, &out->xsdt)))
		return err;
	set_bad(bad, out->xsdt ? "XSDT" : "RSDT");
	if (!(root = checked_table(root_pa, bad, HDR_LEN, map, ctx, &len, &err)))
		return err;
	if (!(out->madt_pa = find_madt(root, len, out->xsdt, map, ctx)))
		return ACPI_ENOMADT;
	set_bad(bad, "APIC");
	if (!(madt = checked_table(out->madt_pa, bad, MADT_FIXED_LEN, map, ctx, &len, &err)))
		return err;
	if ((err = parse_madt(madt, len, out)))
		return err;
	bad[0] = '\0';
	return ACPI_OK;
}

const char *acpi_strerror(int err)
{
	switch (err) {
	case ACPI_OK: return "no error";
	case ACPI_ENORSDP: return "no RSDP";
	case ACPI_EMAP: return "cannot be read";
	case ACPI_ECHECKSUM: return "bad checksum";
	case ACPI_ESIGNATURE: return "wrong signature";
	case ACPI_ELENGTH: return "bad length";
	case ACPI_ENOMADT: return "no MADT in the root table";
	default: return "unknown error";
	}
}

const char *acpi_cpu_state_name(enum acpi_cpu_state s)
{
	switch (s) {
	case ACPI_CPU_ENABLED: return "enabled";
	case ACPI_CPU_ONLINE_CAPABLE: return "online-capable";
	default: return "disabled";
	}
}
