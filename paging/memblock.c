/*
 * memblock.c - the one reader of the firmware's memory map: raw
 * descriptors in, a sorted, merged list of typed ranges out, built in
 * the map's own buffer (see memblock.h for the list, the overlap rule
 * and why in place).  Four passes, each over the rows of the last:
 *
 *   1. compact  descriptor i -> row m <= i (empty descriptors dropped)
 *   2. sort     by start (insertion sort: stable, O(D) on a sorted map)
 *   3. settle   overlapping neighbours, by the rule
 *   4. merge    touching rows of the same type and attributes
 *
 * Units: bytes.
 */
#include "memblock.h"
#include "memmap.h"
#include "mmu.h"
#include "vmerr.h"

/* Rows fit where descriptors were (pass 1). */
_Static_assert(sizeof(struct memblock_range) == 32 &&
	       sizeof(struct memblock_range) < MEMMAP_DESC_MIN, "a row must be smaller than a descriptor");

/* The kind of an EFI type, whatever the attributes. */
static enum memblock_kind type_kind(uint32_t type)
{
	switch (type) {
	case EFI_MEM_CONVENTIONAL: return MEMBLOCK_FREE;
	case EFI_MEM_BOOT_CODE:
	case EFI_MEM_BOOT_DATA: return MEMBLOCK_BOOT_SERVICES;
	case EFI_MEM_LOADER_CODE:
	case EFI_MEM_LOADER_DATA: return MEMBLOCK_LOADER;
	case EFI_MEM_ACPI_RECLAIM: return MEMBLOCK_ACPI_RECLAIM;
	case EFI_MEM_PERSISTENT: return MEMBLOCK_PERSISTENT;
	case EFI_MEM_RUNTIME_CODE:
	case EFI_MEM_RUNTIME_DATA: return MEMBLOCK_RUNTIME;
	case EFI_MEM_ACPI_NVS: return MEMBLOCK_ACPI_NVS;
	case EFI_MEM_MMIO:
	case EFI_MEM_MMIO_PORT: return MEMBLOCK_MMIO;
	default: return MEMBLOCK_RESERVED; /* Reserved, Unusable, Unaccepted, PalCode, OEM */
	}
}

/*
 * Specific-purpose memory (EFI_MEM_ATTR_SP) is RAM the firmware earmarks
 * for one user: high-bandwidth memory or CXL memory meant for a device
 * driver or an application.  Linux calls it "soft reserved" and keeps it
 * from its page allocator unless told otherwise.  We have no driver to
 * give it to, so we leave it alone: memory that would be ours (free now
 * or after the exit) becomes soft reserved.  Then the frame allocator never
 * takes it, reclaim never adds it, the plan does not count it, and the
 * direct map leaves it out.  Why not map it all the same?  Nothing of
 * ours reads it, and such memory can lie far above the rest (a CXL
 * window past 64 TiB), where layout_check_map would refuse a machine
 * for memory we never use.  Loader, ACPI and runtime memory keep their
 * kinds: they are in use, whatever the hint says.  And where a
 * descriptor overlaps soft-reserved memory, any claim stronger than
 * "free" wins the overlap (the kind sits just above BootServices): a
 * hint must not erase a runtime or loader range.
 */
enum memblock_kind memblock_kind_of(uint32_t type, uint64_t attribute)
{
	enum memblock_kind k = type_kind(type);
	bool ours = k == MEMBLOCK_FREE || k == MEMBLOCK_BOOT_SERVICES;

	return ours && (attribute & EFI_MEM_ATTR_SP) ? MEMBLOCK_SOFT_RESERVED : k;
}

bool memblock_is_ram(const struct memblock_range *r)
{
	return r->kind < MEMBLOCK_MMIO && r->kind != MEMBLOCK_SOFT_RESERVED;
}

bool memblock_is_wb_ram(const struct memblock_range *r)
{
	return memblock_is_ram(r) && (r->attribute & EFI_MEM_ATTR_WB);
}

bool memblock_is_free_wb(const struct memblock_range *r)
{
	return r->kind == MEMBLOCK_FREE && memblock_is_wb_ram(r);
}

uint64_t memblock_pages(const struct memblock_range *r)
{
	return (r->end - r->start) / PAGE_SIZE;
}

/*
 * Pass 1.  Row m sits at byte 32 * m, descriptor i at desc_size * i with
 * m <= i and desc_size >= 40: a row never reaches a descriptor not yet
 * read (descriptor i itself is copied out first).
 */
static size_t compact(const struct boot_info *bi, struct memblock_range *rows)
{
	size_t m = 0;

	for (size_t i = 0; i < memmap_count(bi); i++) {
		struct efi_mem_desc d;
		__builtin_memcpy(&d, memmap_desc(bi, i), sizeof(d));
		if (d.num_pages == 0)
			continue;
		rows[m++] = (struct memblock_range){ d.phys_start, memmap_end(&d),
						     d.attribute & MEMBLOCK_ATTRS, d.type,
						     memblock_kind_of(d.type, d.attribute) };
	}
	return m;
}

static void remove_row(struct memblock_range *rows, size_t *m, size_t i)
{
	for (; i + 1 < *m; i++)
		rows[i] = rows[i + 1];
	(*m)--;
}

/* Put x after every row that starts at or below it; room checked by the caller. */
static void insert_row(struct memblock_range *rows, size_t *m, struct memblock_range x)
{
	size_t j = *m;

	for (; j > 0 && rows[j - 1].start > x.start; j--)
		rows[j] = rows[j - 1];
	rows[j] = x;
	(*m)++;
}

/* Pass 2: insertion sort by start, each row inserted into the sorted
 * rows before it (x is a copy, so its slot may be overwritten).  Stable:
 * equal starts keep map order. */
static void sort_rows(struct memblock_range *rows, size_t m)
{
	size_t sorted = 0;

	for (size_t i = 0; i < m; i++)
		insert_row(rows, &sorted, rows[i]);
}

/* Does a win where it overlaps b?  The stronger kind, then the larger
 * EFI type, then the larger attribute word; a tie means equal rows. */
static bool stronger(const struct memblock_range *a, const struct memblock_range *b)
{
	if (a->kind != b->kind)
		return a->kind > b->kind;
	if (a->type != b->type)
		return a->type > b->type;
	return a->attribute > b->attribute;
}

/*
 * Rows i (a) and i + 1 (b) overlap: a.start <= b.start < a.end.  Give
 * the overlap to the stronger (a on a tie: the rows are equal).  The
 * loser keeps what lies outside the winner: b its part past a's end
 * (put back in order), a its parts before and after b.  Only the last
 * can add a row.  VM_ENOMEM when cap rows are in use already.
 */
static int settle_pair(struct memblock_range *rows, size_t *m, size_t cap, size_t i)
{
	struct memblock_range *a = &rows[i], b = rows[i + 1];

	if (!stronger(&b, a)) {
		uint64_t a_end = a->end;
		remove_row(rows, m, i + 1);
		b.start = a_end;
		if (b.start < b.end)
			insert_row(rows, m, b);
		return 0;
	}
	struct memblock_range tail = *a;
	tail.start = b.end;
	a->end = b.start;
	if (a->start == a->end)
		remove_row(rows, m, i);
	if (tail.start >= tail.end)
		return 0;
	if (*m == cap)
		return VM_ENOMEM;
	insert_row(rows, m, tail);
	return 0;
}

/* Pass 3.  Rows before i are settled: disjoint from everything after. */
static int settle(struct memblock_range *rows, size_t *m, size_t cap)
{
	for (size_t i = 0; i + 1 < *m;) {
		if (rows[i + 1].start >= rows[i].end) {
			i++;
			continue;
		}
		int err = settle_pair(rows, m, cap, i);
		if (err)
			return err;
	}
	return 0;
}

/* Pass 4: join touching rows of the same type and attributes. */
static size_t merge(struct memblock_range *rows, size_t m)
{
	size_t w = 0;

	for (size_t i = 0; i < m; i++) {
		struct memblock_range *last = w ? &rows[w - 1] : NULL;
		if (last && last->end == rows[i].start && last->type == rows[i].type &&
		    last->attribute == rows[i].attribute)
			last->end = rows[i].end;
		else
			rows[w++] = rows[i];
	}
	return w;
}

int memblock_build(struct boot_info *bi, struct memblock *mb)
{
	struct memblock_range *rows = bi ? bi->mmap : NULL;

	*mb = (struct memblock){ rows, 0, 0 };
	if (memmap_check(bi))
		return VM_EINVAL;
	size_t cap = bi->mmap_size / sizeof(struct memblock_range);
	size_t m = compact(bi, rows);
	mb->descs = memmap_count(bi);
	bi->mmap_size = 0; /* rows from here on, not descriptors */
	sort_rows(rows, m);
	int err = settle(rows, &m, cap);
	if (err)
		return err;
	mb->n = merge(rows, m);
	return 0;
}

bool memblock_next_ram(const struct memblock *mb, size_t *i, struct memblock_span *out)
{
	while (*i < mb->n && !memblock_is_wb_ram(&mb->r[*i]))
		(*i)++;
	if (*i == mb->n)
		return false;
	*out = (struct memblock_span){ mb->r[*i].start, mb->r[*i].end };
	for ((*i)++; *i < mb->n && memblock_is_wb_ram(&mb->r[*i]) && mb->r[*i].start == out->end;
	     (*i)++)
		out->end = mb->r[*i].end;
	return true;
}

void memblock_summarize(const struct memblock *mb, struct memblock_summary *out)
{
	__builtin_memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < mb->n; i++) {
		const struct memblock_range *r = &mb->r[i];
		if (r->kind == MEMBLOCK_SOFT_RESERVED)
			out->soft_reserved_pages += memblock_pages(r);
		else if (r->type < EFI_MEM_NTYPES)
			out->pages[r->type] += memblock_pages(r);
		else
			out->other_pages += memblock_pages(r);
		if (r->attribute & EFI_MEM_ATTR_RUNTIME)
			out->runtime_ranges++;
		if (memblock_is_ram(r))
			out->ram_end = r->end; /* sorted: the last RAM row ends highest */
	}
}
