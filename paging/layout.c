/*
 * layout.c - builds the kernel address space described in layout.h and
 * keeps the table of every region it mapped.  Units: bytes.
 */
#include "layout.h"
#include "frames.h"
#include "memblock.h"
#include "memmap.h"
#include "mmu.h"
#include "pagetable.h"
#include "phys.h"
#include "vmerr.h"

static struct layout_region static_regions[LAYOUT_STATIC_REGIONS];
static uint64_t regions_pa;   /* the table in frames, or 0: static_regions */
static size_t max_regions;    /* rows the current table holds */
static size_t nregions;

/* Building state shared by the helpers below. */
struct build {
	uint64_t pml4;
	const struct layout_input *in;
	struct boot_info mat;           /* the MAT as a map (memmap_*); mmap NULL: none */
};

/* The current table: re-read on each use, since the phys offset changes
 * when the kernel moves to its own page tables. */
static struct layout_region *regions(void)
{
	return regions_pa ? phys_to_virt(regions_pa) : static_regions;
}

static uint64_t page_down(uint64_t a) { return a & ~(PAGE_SIZE - 1); }
static uint64_t page_up(uint64_t a) { return (a + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1); }

static bool span_empty(struct layout_span s) { return s.end <= s.start; }

/* Does [a, a + size) overlap the span? */
static bool overlaps(struct layout_span s, uint64_t a, uint64_t size)
{
	return !span_empty(s) && s.start < a + size && a < s.end;
}

/* The flags translate will report: without NX every page is executable. */
static unsigned effective(unsigned flags)
{
	return pt_nx_supported() ? flags : flags | VM_EXEC;
}

/* Append a row, or grow the last one when this piece continues it. */
static int record(const char *name, uint64_t va, uint64_t pa, uint64_t size,
		  unsigned flags, bool exempt)
{
	flags = effective(flags);
	struct layout_region *last = nregions ? &regions()[nregions - 1] : 0;

	if (last && last->name == name && last->flags == flags && last->wx_exempt == exempt &&
	    last->va + last->size == va && last->pa + last->size == pa) {
		last->size += size;
		return 0;
	}
	if (nregions == max_regions)
		return VM_ENOMEM; /* layout_table_rows is wrong: a bug */
	regions()[nregions++] = (struct layout_region){ name, va, pa, size, flags, exempt };
	return 0;
}

/* The largest page that fits at (va, pa) with rem bytes left. */
static unsigned best_page(uint64_t va, uint64_t pa, uint64_t rem)
{
	if (pt_1g_supported() && (va | pa) % PAGE_SIZE_1G == 0 && rem >= PAGE_SIZE_1G)
		return VM_PAGE_1G;
	if ((va | pa) % PAGE_SIZE_2M == 0 && rem >= PAGE_SIZE_2M)
		return VM_PAGE_2M;
	return 0;
}

/* Map and record [va, va + size) -> pa with the largest pages that fit. */
static int map_best(struct build *b, const char *name, uint64_t va, uint64_t pa,
		    uint64_t size, unsigned flags, bool exempt)
{
	for (uint64_t off = 0; off < size;) {
		unsigned f = flags | best_page(va + off, pa + off, size - off);
		uint64_t ps = pt_page_size(f);
		int err = pt_map(b->pml4, va + off, pa + off, ps, f);
		if (!err)
			err = record(name, va + off, pa + off, ps, f, exempt);
		if (err)
			return err;
		off += ps;
	}
	return 0;
}

/*
 * Identity ranges (va == pa) must leave page 0 (NULL must fault) and the
 * heap window alone, and end in the lower canonical half: from 128 TiB
 * up, an address is not a canonical virtual address, so a page there
 * cannot be mapped at its own address.  identity_fault says why.
 */
static int check_identity(uint64_t base, uint64_t end)
{
	if (base < PAGE_SIZE)
		return VM_EINVAL;
	if (base < HEAP_END && end > HEAP_START)
		return VM_EEXIST;
	if (end > LOWER_HALF_END)
		return VM_ENONCANON;
	return 0;
}

/* What an error of check_identity means, in words for a refusal. */
static const char *identity_fault(int err)
{
	switch (err) {
	case VM_EINVAL: return "touches page 0, which stays unmapped so that NULL faults";
	case VM_EEXIST: return "overlaps the kernel heap window";
	default: return "ends above 128 TiB, where the lower canonical half it is "
			"identity-mapped in ends";
	}
}

/* Can layout_build map row r beside the image?  0, or the error with
 * *why filled. */
static int check_row(const struct memblock_range *r, struct layout_span image,
		     struct layout_refusal *why)
{
	*why = (struct layout_refusal){ "RAM", NULL, r->start, r->end };
	if (memblock_is_wb_ram(r) && r->end > DIRECT_MAP_MAX) {
		why->why = "lies beyond the 64 TiB the direct map holds";
		return VM_EINVAL;
	}
	if (!(r->attribute & EFI_MEM_ATTR_RUNTIME))
		return 0;
	why->what = "runtime memory";
	int err = check_identity(r->start, r->end);
	if (err)
		why->why = identity_fault(err);
	else if (overlaps(image, r->start, r->end - r->start))
		why->why = "overlaps the loader's own image", err = VM_EEXIST;
	return err;
}

int layout_check_map(const struct memblock *mb, struct layout_span image,
		     struct layout_refusal *why)
{
	bool ram = false;
	int err;

	if (!span_empty(image)) /* its pages, as map_image maps them */
		image = (struct layout_span){ page_down(image.start), page_up(image.end) };

	for (size_t i = 0; i < mb->n; i++) {
		err = check_row(&mb->r[i], image, why);
		if (err)
			return err;
		ram = ram || memblock_is_wb_ram(&mb->r[i]);
	}
	if (!ram) {
		*why = (struct layout_refusal){ "the map", "has no write-back RAM", 0, 0 };
		return VM_EINVAL;
	}
	err = span_empty(image) ? 0 : check_identity(image.start, image.end);
	if (err)
		*why = (struct layout_refusal){ "the image", identity_fault(err), image.start,
						image.end };
	return err;
}

/*
 * The direct map: each merged piece of RAM at DIRECT_MAP_BASE + pa, and
 * nothing between them (layout_check_map has made sure there is RAM, and
 * none above DIRECT_MAP_MAX).  Why not simply [0, highest end)?  That would map
 * device memory (legacy VGA, the PCI hole, LAPIC/IOAPIC, ECAM, the
 * framebuffer) write-back, inviting speculative reads of devices, and a
 * large page that spans two MTRR memory types is undefined (Intel SDM 3A
 * 11.11.9).  map_best never runs a page past the range's end, so ragged
 * edges get 2 MiB or 4 KiB pages.  DIRECT_MAP_BASE is 512 GiB aligned,
 * so va and pa share their alignment and whole GiBs get 1 GiB pages.
 */
static int map_direct(struct build *b, struct layout_out *out)
{
	struct memblock_span r;
	int err = 0;

	for (size_t i = 0; !err && memblock_next_ram(b->in->map, &i, &r);) {
		err = map_best(b, "direct map", DIRECT_MAP_BASE + r.start, r.start, r.end - r.start,
			       VM_WRITE | VM_GLOBAL, false);
		if (!err)
			out->direct_map_size += r.end - r.start;
	}
	return err;
}

/* Flags and row name for one image page; VM_EINVAL if it mixes W and X. */
static int image_page(const struct layout_input *in, uint64_t pg, unsigned *f, const char **name)
{
	bool text = overlaps(in->text, pg, PAGE_SIZE);
	bool data = overlaps(in->data, pg, PAGE_SIZE);

	if (text && data)
		return VM_EINVAL; /* the linker script must page-align sections */
	if (text) {
		*f = VM_EXEC, *name = "image text";
	} else if (data) {
		*f = VM_WRITE, *name = "image data";
	} else if (overlaps(in->rodata, pg, PAGE_SIZE)) {
		*f = VM_READ, *name = "image rodata";
	} else {
		*f = VM_READ, *name = "image other"; /* headers, relocations */
	}
	return 0;
}

/* The image's extent: the given span (or boot_info's), covering sections. */
static struct layout_span image_span(const struct layout_input *in)
{
	struct layout_span img = in->image;
	const struct layout_span *sec[] = { &in->text, &in->rodata, &in->data };

	if (span_empty(img))
		img = (struct layout_span){ in->boot->image_base,
					    in->boot->image_base + in->boot->image_size };
	for (int i = 0; i < 3; i++) {
		if (span_empty(*sec[i]))
			continue;
		if (span_empty(img) || sec[i]->start < img.start)
			img.start = sec[i]->start;
		if (sec[i]->end > img.end)
			img.end = sec[i]->end;
	}
	return (struct layout_span){ page_down(img.start), page_up(img.end) };
}

static int map_image(struct build *b)
{
	struct layout_span img = image_span(b->in); /* layout_check_map has checked it */
	int err = 0;

	for (uint64_t pg = img.start; !err && pg < img.end; pg += PAGE_SIZE) {
		unsigned f;
		const char *name;
		err = image_page(b->in, pg, &f, &name);
		if (!err)
			err = pt_map(b->pml4, pg, pg, PAGE_SIZE, f);
		if (!err)
			err = record(name, pg, pg, PAGE_SIZE, f, false);
	}
	return err;
}

/* Map a stack of size bytes ending at top onto the frames at phys. */
static int map_stack(struct build *b, const char *name, uint64_t top, uint64_t size,
		     uint64_t phys)
{
	return map_best(b, name, top - size, phys, size, VM_WRITE | VM_GLOBAL, false);
}

static int map_stacks(struct build *b, struct layout_out *out)
{
	int err = map_stack(b, "kernel stack", KSTACK_TOP, b->in->kstack_size, out->kstack_phys);

	if (!err && out->ist_stack_phys)
		err = map_stack(b, "double-fault stack", IST_STACK_TOP, b->in->ist_stack_size,
				out->ist_stack_phys);
	return err;
}

/*
 * The memory type for a region whose descriptor allows these caching
 * attributes (UEFI 2.10, 7.2; several may be set).  Write-back when
 * allowed: that is RAM.  Otherwise uncached when allowed (device memory:
 * every access reaches the device, in program order; Linux sets PCD
 * whenever EFI_MEMORY_WB is absent), then write-through, then
 * write-combining (only with the kernel's PAT loaded, else uncached).
 * A region that names no type at all gets uncached, the safe guess.
 */
unsigned layout_memory_type(uint64_t attribute, bool pat)
{
	if (attribute & EFI_MEM_ATTR_WB)
		return 0;
	if (attribute & (EFI_MEM_ATTR_UC | EFI_MEM_ATTR_UCE))
		return VM_NOCACHE;
	if (attribute & EFI_MEM_ATTR_WT)
		return VM_WRITETHROUGH;
	if ((attribute & EFI_MEM_ATTR_WC) && pat)
		return VM_WRITECOMBINE;
	return VM_NOCACHE;
}

/* The row name for runtime memory mapped with these flags. */
static const char *runtime_name(unsigned flags)
{
	if ((flags & VM_WRITE) && (flags & VM_EXEC))
		return "runtime code RWX";
	if (flags & VM_EXEC)
		return "runtime code";
	return flags & VM_WRITE ? "runtime data" : "runtime rodata";
}

/*
 * Flags for runtime memory no MAT entry describes.  Firmware images keep
 * their globals inside RuntimeServicesCode (edk2 loads a whole runtime
 * driver as code), so without the memory attributes table we cannot tell
 * code pages from data pages: RX would fault on ResetSystem's first
 * write.  Hence RWX, unless the caller asks for RX.
 */
static unsigned runtime_default(const struct memblock_range *r, bool code_rx)
{
	if (r->type != EFI_MEM_RUNTIME_CODE)
		return VM_WRITE;
	return code_rx ? VM_EXEC : VM_WRITE | VM_EXEC;
}

/* What a MAT entry allows: RO takes away write, XP takes away execute. */
static unsigned mat_flags(const struct efi_mem_desc *e)
{
	unsigned f = 0;

	if (!(e->attribute & EFI_MEM_ATTR_RO))
		f |= VM_WRITE;
	if (!(e->attribute & EFI_MEM_ATTR_XP))
		f |= VM_EXEC;
	return f;
}

/* The MAT entry holding pa, or NULL; then *next is the lowest entry start
 * above pa (UINT64_MAX if none), where the gap ends. */
static const struct efi_mem_desc *mat_lookup(const struct boot_info *mat, uint64_t pa,
					     uint64_t *next)
{
	*next = UINT64_MAX;
	for (size_t i = 0; mat->mmap && i < memmap_count(mat); i++) {
		const struct efi_mem_desc *e = memmap_desc(mat, i);
		if (e->phys_start <= pa && pa < memmap_end(e))
			return e;
		if (e->phys_start > pa && e->phys_start < *next)
			*next = e->phys_start;
	}
	return NULL;
}

/*
 * Map one runtime code or data range piece by piece: where a MAT entry
 * covers it, with the entry's rights (code RX, data RW NX, rodata R NX);
 * elsewhere with runtime_default, which is W^X-exempt only when there is
 * no table (with a table, an RWX piece is a W^X failure that
 * layout_verify counts).  The memory type is the range's.
 */
static int map_runtime_ram(struct build *b, const struct memblock_range *r, unsigned cache)
{
	uint64_t pa = r->start, end = r->end;
	bool no_table = b->mat.mmap == NULL;

	while (pa < end) {
		uint64_t stop;
		const struct efi_mem_desc *e = mat_lookup(&b->mat, pa, &stop);
		unsigned f = e ? mat_flags(e) : runtime_default(r, b->in->rt_code_rx);
		if (e)
			stop = memmap_end(e);
		if (stop > end)
			stop = end;
		bool exempt = no_table && (f & VM_WRITE) && (f & VM_EXEC);
		int err = map_best(b, runtime_name(f), pa, pa, stop - pa, f | cache, exempt);
		if (err)
			return err;
		pa = stop;
	}
	return 0;
}

/* Every runtime range, identity-mapped (layout_check_map has made sure
 * each one can be, clear of the image mapped before). */
static int map_runtime(struct build *b)
{
	const struct memblock *mb = b->in->map;

	for (size_t i = 0; i < mb->n; i++) {
		const struct memblock_range *r = &mb->r[i];
		if (!(r->attribute & EFI_MEM_ATTR_RUNTIME))
			continue;
		unsigned cache = layout_memory_type(r->attribute, b->in->pat);
		int err;
		if (r->kind == MEMBLOCK_MMIO)
			err = map_best(b, "runtime mmio", r->start, r->start, r->end - r->start,
				       VM_WRITE | cache, false);
		else
			err = map_runtime_ram(b, r, cache);
		if (err)
			return err;
	}
	return 0;
}

/*
 * The framebuffer window: framebuffer_bytes() (stride * height * 4, what
 * the console may touch) rounded out to pages.  Write-combining with the
 * kernel's PAT, as Linux maps efifb: writes are gathered into bursts, and
 * the console writes far more than it reads back.  Without the PAT,
 * write-through.
 */
static int map_framebuffer(struct build *b, struct layout_out *out)
{
	const struct framebuffer *fb = &b->in->boot->fb;
	uint64_t bytes = framebuffer_bytes(fb);
	unsigned type = b->in->pat ? VM_WRITECOMBINE : VM_WRITETHROUGH;

	if (fb->base == 0)
		return 0;
	if (layout_framebuffer_rows(fb) < fb->height)
		return VM_EINVAL; /* the loader keeps only the rows that fit */
	if (bytes == 0)
		return 0;
	uint64_t pa = page_down(fb->base);
	uint64_t size = page_up(fb->base + bytes) - pa;
	out->fb_va = FB_WINDOW_BASE + fb->base % PAGE_SIZE;
	return map_best(b, "framebuffer", FB_WINDOW_BASE, pa, size, VM_WRITE | type | VM_GLOBAL,
			false);
}

/* Identity RW NX, page by page; a page already identity-mapped RW NX
 * (by the image's data or another keep range) is fine. */
static int map_keep(struct build *b, const struct layout_keep *k)
{
	uint64_t start = page_down(k->base), end = page_up(k->base + k->size);
	int err = check_identity(start, end);
	const char *name = k->name ? k->name : "kept";

	for (uint64_t pg = start; !err && pg < end; pg += PAGE_SIZE) {
		uint64_t pa;
		unsigned f;
		if (pt_translate(b->pml4, pg, &pa, &f) == 0)
			err = (pa == pg && f == effective(VM_WRITE)) ? 0 : VM_EEXIST;
		else
			err = pt_map(b->pml4, pg, pg, PAGE_SIZE, VM_WRITE);
		if (!err)
			err = record(name, pg, pg, PAGE_SIZE, VM_WRITE, false);
	}
	return err;
}

static int check_input(const struct layout_input *in)
{
	if (!in || !in->boot || !in->map || span_empty(in->text) || in->nkeep > LAYOUT_MAX_KEEP)
		return VM_EINVAL;
	if (in->kstack_size == 0 || in->kstack_size % PAGE_SIZE || in->kstack_size > KSTACK_MAX)
		return VM_EINVAL;
	if (in->ist_stack_size % PAGE_SIZE || in->ist_stack_size > IST_STACK_MAX)
		return VM_EINVAL;
	return 0;
}

static int build_all(struct build *b, struct layout_out *out)
{
	int err = map_direct(b, out);

	if (!err)
		err = map_image(b);
	if (!err)
		err = map_stacks(b, out);
	if (!err)
		err = map_runtime(b);
	if (!err)
		err = map_framebuffer(b, out);
	for (size_t i = 0; !err && i < b->in->nkeep; i++)
		err = map_keep(b, &b->in->keep[i]);
	if (!err && pt_is_mapped(b->pml4, 0))
		err = VM_EINVAL; /* belt and braces: NULL must fault */
	return err;
}

/* Indexes of layout_runs' array, in the order the runs are taken. */
enum { RUN_TABLE, RUN_KSTACK, RUN_IST };

/*
 * Take the contiguous runs first (see layout_runs) and record where they
 * are: the region table, then the stacks with their guard pages.  A run
 * of 0 frames is not taken.
 */
static int take_runs(const struct layout_input *in, struct layout_out *out)
{
	struct layout_run runs[LAYOUT_NRUNS];
	uint64_t pa[LAYOUT_NRUNS] = { 0 };

	layout_runs(in->map, in->boot, in->kstack_size, in->ist_stack_size, runs);
	for (int i = 0; i < LAYOUT_NRUNS; i++)
		if (runs[i].frames && !(pa[i] = frames_alloc_contig(runs[i].frames)))
			break;
	out->table_pa = pa[RUN_TABLE];
	out->table_frames = pa[RUN_TABLE] ? runs[RUN_TABLE].frames : 0;
	out->kstack_phys = pa[RUN_KSTACK];
	out->ist_stack_phys = pa[RUN_IST];
	if (out->kstack_phys) {
		out->kstack_top = KSTACK_TOP;
		out->kstack_guard = KSTACK_TOP - in->kstack_size - PAGE_SIZE;
	}
	if (out->ist_stack_phys) {
		out->ist_stack_top = IST_STACK_TOP;
		out->ist_stack_guard = IST_STACK_TOP - in->ist_stack_size - PAGE_SIZE;
	}
	for (int i = 0; i < LAYOUT_NRUNS; i++)
		if (runs[i].frames && !pa[i])
			return VM_ENOMEM;
	return 0;
}

void layout_release(struct layout_out *out)
{
	uint64_t kstack = out->kstack_top - out->kstack_guard - PAGE_SIZE;
	uint64_t ist = out->ist_stack_top - out->ist_stack_guard - PAGE_SIZE;

	if (out->kstack_phys)
		frames_free_contig(out->kstack_phys, kstack / PAGE_SIZE);
	if (out->ist_stack_phys)
		frames_free_contig(out->ist_stack_phys, ist / PAGE_SIZE);
	if (out->table_pa)
		frames_free_contig(out->table_pa, out->table_frames);
	if (out->pml4)
		pt_free_space(out->pml4);
	if (out->table_pa == regions_pa) {
		regions_pa = 0;
		max_regions = nregions = 0;
	}
	__builtin_memset(out, 0, sizeof(*out));
}

/*
 * The MAT as a map the memmap_ helpers can walk, in *view; false (and
 * view->mmap NULL) when there is none or it is unusable.  Usable:
 * version 1 or 2, sane sizes and entries (memmap_check), and every entry
 * runtime code or data, as the spec requires.  Linux ignores a table
 * that fails such checks, and so do we: the runtime code then stays RWX.
 */
static bool mat_usable(const struct boot_info *bi, struct boot_info *view)
{
	*view = (struct boot_info){ .mmap = bi->mat, .mmap_size = bi->mat_size,
				    .desc_size = bi->mat_desc_size };
	bool ok = bi->mat && (bi->mat_version == 1 || bi->mat_version == 2) &&
		  memmap_check(view) == 0;
	for (size_t i = 0; ok && i < memmap_count(view); i++) {
		uint32_t t = memmap_desc(view, i)->type;
		ok = t == EFI_MEM_RUNTIME_CODE || t == EFI_MEM_RUNTIME_DATA;
	}
	if (!ok)
		view->mmap = NULL;
	return ok;
}

/* mat_usable, and say in out what became of the table. */
static void mat_view(const struct boot_info *bi, struct boot_info *view, struct layout_out *out)
{
	bool ok = mat_usable(bi, view);

	out->mat_entries = ok ? memmap_count(view) : 0;
	out->mat_invalid = bi->mat && !ok;
}

/* 4 KiB pages recorded writable and executable (0 when NX is off: then
 * W^X cannot be had, and nothing is counted). */
static uint64_t count_rwx_pages(void)
{
	const struct layout_region *r = regions();
	uint64_t n = 0;

	for (size_t i = 0; pt_nx_supported() && i < nregions; i++)
		if ((r[i].flags & VM_WRITE) && (r[i].flags & VM_EXEC))
			n += r[i].size / PAGE_SIZE;
	return n;
}

int layout_build(const struct layout_input *in, struct layout_out *out)
{
	struct layout_refusal why;

	__builtin_memset(out, 0, sizeof(*out));
	regions_pa = 0;
	max_regions = nregions = 0;
	int err = check_input(in);
	if (!err)
		err = layout_check_map(in->map, image_span(in), &why);
	if (err)
		return err;
	pt_set_nx_supported(in->nx);
	pt_set_1g_supported(in->gb_pages);
	err = take_runs(in, out);
	regions_pa = out->table_pa;
	max_regions = regions_pa ? layout_table_rows(in->map, in->boot) : LAYOUT_STATIC_REGIONS;
	struct build b = { 0, in, { 0 } };
	mat_view(in->boot, &b.mat, out);
	if (!err && !(b.pml4 = out->pml4 = pt_new_space()))
		err = VM_ENOMEM;
	if (!err)
		err = build_all(&b, out);
	if (err) {
		layout_release(out);
		return err;
	}
	out->page_tables = pt_count_tables(b.pml4);
	out->rwx_pages = count_rwx_pages();
	return 0;
}

/*
 * The map_best calls map_runtime makes for range r: none unless it is
 * runtime memory; one, or with a usable MAT up to 2E + 1 for the E
 * entries that overlap r (map_runtime_ram stops at each entry's start
 * and end inside r, and at r's end).
 */
static size_t runtime_pieces(const struct boot_info *bi, const struct memblock_range *r)
{
	struct boot_info mat;
	size_t entries = 0;

	if (!(r->attribute & EFI_MEM_ATTR_RUNTIME))
		return 0;
	if (r->kind == MEMBLOCK_MMIO || !mat_usable(bi, &mat))
		return 1;
	for (size_t i = 0; i < memmap_count(&mat); i++) {
		const struct efi_mem_desc *e = memmap_desc(&mat, i);
		entries += e->phys_start < r->end && r->start < memmap_end(e);
	}
	return 2 * entries + 1;
}

size_t layout_table_rows(const struct memblock *mb, const struct boot_info *bi)
{
	struct memblock_span r;
	size_t calls = 3; /* two stacks, the framebuffer */

	for (size_t i = 0; memblock_next_ram(mb, &i, &r);)
		calls++;
	for (size_t i = 0; i < mb->n; i++)
		calls += runtime_pieces(bi, &mb->r[i]);
	/* image: headers, text, rodata, data and "other" between them */
	return 5 * calls + 7 + LAYOUT_MAX_KEEP;
}

void layout_runs(const struct memblock *mb, const struct boot_info *bi, uint64_t kstack_size,
		 uint64_t ist_stack_size, struct layout_run runs[LAYOUT_NRUNS])
{
	size_t rows = layout_table_rows(mb, bi);
	uint64_t table = rows > LAYOUT_STATIC_REGIONS ? rows * sizeof(struct layout_region) : 0;

	runs[RUN_TABLE] = (struct layout_run){ "the region table", page_up(table) / PAGE_SIZE };
	runs[RUN_KSTACK] = (struct layout_run){ "the kernel stack", kstack_size / PAGE_SIZE };
	runs[RUN_IST] = (struct layout_run){ "the double-fault stack", ist_stack_size / PAGE_SIZE };
}

/* Page tables to map size bytes anywhere with the largest pages: one
 * page table at each ragged end, a directory per GiB touched, a PDPT per
 * 512 GiB touched. */
static uint64_t tables_for(uint64_t size)
{
	return 2 + (size / PAGE_SIZE_1G + 2) + (size / (512 * PAGE_SIZE_1G) + 2);
}

uint64_t layout_tables_bound(const struct memblock *mb, const struct boot_info *bi)
{
	struct memblock_span r;
	uint64_t n = 1; /* the PML4 */

	for (size_t i = 0; memblock_next_ram(mb, &i, &r);)
		n += tables_for(r.end - r.start);
	for (size_t i = 0; i < mb->n; i++)
		if (mb->r[i].attribute & EFI_MEM_ATTR_RUNTIME)
			n += tables_for(mb->r[i].end - mb->r[i].start);
	/* the image is mapped page by page: a page table per 2 MiB */
	n += tables_for(bi->image_size) + bi->image_size / PAGE_SIZE_2M;
	n += 2 * tables_for(KSTACK_MAX) + tables_for(FB_WINDOW_MAX);
	return n + LAYOUT_MAX_KEEP * tables_for(0);
}

const struct layout_region *layout_regions(size_t *n)
{
	*n = nregions;
	return regions();
}

/* Is the leaf [va, va + size) wholly inside one wx_exempt row? */
static bool in_exempt_row(uint64_t va, uint64_t size)
{
	for (size_t i = 0; i < nregions; i++) {
		const struct layout_region *r = &regions()[i];
		if (!r->wx_exempt || va < r->va)
			continue;
		uint64_t off = va - r->va; /* subtract, never add: no wrap at 2^64 */
		if (off < r->size && size <= r->size - off)
			return true;
	}
	return false;
}

/* pt_for_each_leaf callback: count a writable, executable leaf. */
static void count_wx(const struct pt_leaf *leaf, void *ctx)
{
	size_t *bad = ctx;

	if ((leaf->flags & VM_WRITE) && (leaf->flags & VM_EXEC) &&
	    !in_exempt_row(leaf->va, leaf->size))
		(*bad)++;
}

bool layout_verify(uint64_t pml4, size_t *bad)
{
	*bad = 0;
	/* W^X needs NX: without it every page is executable anyway. */
	if (pt_nx_supported())
		pt_for_each_leaf(pml4, count_wx, bad);
	return *bad == 0;
}
