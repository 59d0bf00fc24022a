/*
 * layout.c - builds the kernel address space described in layout.h and
 * keeps the table of every region it mapped.  Units: bytes.
 */
#include "layout.h"
#include "frames.h"
#include "memmap.h"
#include "mmu.h"
#include "pagetable.h"
#include "vmerr.h"

static struct layout_region regions[LAYOUT_MAX_REGIONS];
static size_t nregions;

/* Building state shared by the helpers below. */
struct build {
	uint64_t pml4;
	const struct layout_input *in;
	struct boot_info mat;           /* the MAT as a map (memmap_*); mmap NULL: none */
};

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
	return vm_nx_supported() ? flags : flags | VM_EXEC;
}

/* Append a row, or grow the last one when this piece continues it. */
static int record(const char *name, uint64_t va, uint64_t pa, uint64_t size,
		  unsigned flags, bool exempt)
{
	flags = effective(flags);
	struct layout_region *last = nregions ? &regions[nregions - 1] : 0;

	if (last && last->name == name && last->flags == flags && last->wx_exempt == exempt &&
	    last->va + last->size == va && last->pa + last->size == pa) {
		last->size += size;
		return 0;
	}
	if (nregions == LAYOUT_MAX_REGIONS)
		return VM_ENOMEM;
	regions[nregions++] = (struct layout_region){ name, va, pa, size, flags, exempt };
	return 0;
}

/* The largest page that fits at (va, pa) with rem bytes left. */
static unsigned best_page(uint64_t va, uint64_t pa, uint64_t rem)
{
	if (vm_1g_supported() && (va | pa) % PAGE_SIZE_1G == 0 && rem >= PAGE_SIZE_1G)
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
		uint64_t ps = vm_page_size(f);
		int err = vm_map(b->pml4, va + off, pa + off, ps, f);
		if (!err)
			err = record(name, va + off, pa + off, ps, f, exempt);
		if (err)
			return err;
		off += ps;
	}
	return 0;
}

/* Identity ranges must leave page 0 (NULL) and the heap window alone. */
static int check_identity(uint64_t base, uint64_t end)
{
	if (base < PAGE_SIZE)
		return VM_EINVAL;
	if (base < HEAP_END && end > HEAP_START)
		return VM_EEXIST;
	return 0;
}

/*
 * The direct map: each merged piece of RAM at DIRECT_MAP_BASE + pa, and
 * nothing between them.  Why not simply [0, highest end)?  That would map
 * device memory (legacy VGA, the PCI hole, LAPIC/IOAPIC, ECAM, the
 * framebuffer) write-back, inviting speculative reads of devices, and a
 * large page that spans two MTRR memory types is undefined (Intel SDM 3A
 * 11.11.9).  map_best never runs a page past the range's end, so ragged
 * edges get 2 MiB or 4 KiB pages.  DIRECT_MAP_BASE is 512 GiB aligned,
 * so va and pa share their alignment and whole GiBs get 1 GiB pages.
 */
static int map_direct(struct build *b, struct layout_out *out)
{
	struct memmap_range ram[LAYOUT_MAX_RAM_RANGES];
	size_t n;
	int err = memmap_ram_ranges(b->in->boot, ram, LAYOUT_MAX_RAM_RANGES, &n);

	if (!err && (n == 0 || ram[n - 1].end > DIRECT_MAP_MAX))
		err = VM_EINVAL; /* no RAM at all, or more than the slots hold */
	for (size_t i = 0; !err && i < n; i++) {
		uint64_t size = ram[i].end - ram[i].start;
		err = map_best(b, "direct map", DIRECT_MAP_BASE + ram[i].start, ram[i].start, size,
			       VM_WRITE | VM_GLOBAL, false);
		if (!err)
			out->direct_map_size += size;
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
	struct layout_span img = image_span(b->in);
	int err = check_identity(img.start, img.end);

	for (uint64_t pg = img.start; !err && pg < img.end; pg += PAGE_SIZE) {
		unsigned f;
		const char *name;
		err = image_page(b->in, pg, &f, &name);
		if (!err)
			err = vm_map(b->pml4, pg, pg, PAGE_SIZE, f);
		if (!err)
			err = record(name, pg, pg, PAGE_SIZE, f, false);
	}
	return err;
}

/* Fresh frames for a stack ending at top; *phys and *guard filled in. */
static int map_stack(struct build *b, const char *name, uint64_t top, uint64_t size,
		     uint64_t *phys, uint64_t *guard)
{
	uint64_t pa = frames_alloc_contig(size / PAGE_SIZE);

	if (!pa)
		return VM_ENOMEM;
	*phys = pa;
	*guard = top - size - PAGE_SIZE;
	return map_best(b, name, top - size, pa, size, VM_WRITE | VM_GLOBAL, false);
}

static int map_stacks(struct build *b, struct layout_out *out)
{
	int err = map_stack(b, "kernel stack", KSTACK_TOP, b->in->kstack_size,
			    &out->kstack_phys, &out->kstack_guard);
	if (err)
		return err;
	out->kstack_top = KSTACK_TOP;
	if (b->in->ist_stack_size == 0)
		return 0;
	out->ist_stack_top = IST_STACK_TOP;
	return map_stack(b, "double-fault stack", IST_STACK_TOP, b->in->ist_stack_size,
			 &out->ist_stack_phys, &out->ist_stack_guard);
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
static unsigned runtime_default(const struct efi_mem_desc *d, bool code_rx)
{
	if (d->type != EFI_MEM_RUNTIME_CODE)
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
 * Map one runtime code or data descriptor piece by piece: where a MAT
 * entry covers it, with the entry's rights (code RX, data RW NX, rodata
 * R NX); elsewhere with runtime_default, which is W^X-exempt only when
 * there is no table (with a table, an RWX piece is a W^X failure that
 * layout_verify counts).  The memory type is the descriptor's.
 */
static int map_runtime_ram(struct build *b, const struct efi_mem_desc *d, unsigned cache)
{
	uint64_t pa = d->phys_start, end = memmap_end(d);
	bool no_table = b->mat.mmap == NULL;

	while (pa < end) {
		uint64_t stop;
		const struct efi_mem_desc *e = mat_lookup(&b->mat, pa, &stop);
		unsigned f = e ? mat_flags(e) : runtime_default(d, b->in->rt_code_rx);
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

static int map_runtime(struct build *b)
{
	const struct boot_info *bi = b->in->boot;

	for (size_t i = 0; i < memmap_count(bi); i++) {
		const struct efi_mem_desc *d = memmap_desc(bi, i);
		if (!(d->attribute & EFI_MEM_ATTR_RUNTIME) || d->num_pages == 0)
			continue;
		unsigned cache = layout_memory_type(d->attribute, b->in->pat);
		int err = check_identity(d->phys_start, memmap_end(d));
		if (!err && memmap_is_mmio(d->type))
			err = map_best(b, "runtime mmio", d->phys_start, d->phys_start,
				       d->num_pages * PAGE_SIZE, VM_WRITE | cache, false);
		else if (!err)
			err = map_runtime_ram(b, d, cache);
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

	if (fb->base == 0 || bytes == 0)
		return 0;
	if (bytes > FB_WINDOW_MAX || fb->base > PHYS_ADDR_LIMIT - bytes)
		return VM_EINVAL;
	uint64_t pa = page_down(fb->base);
	uint64_t size = page_up(fb->base + bytes) - pa;
	if (size > FB_WINDOW_MAX)
		return VM_EINVAL;
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
		if (vm_translate(b->pml4, pg, &pa, &f) == 0)
			err = (pa == pg && f == effective(VM_WRITE)) ? 0 : VM_EEXIST;
		else
			err = vm_map(b->pml4, pg, pg, PAGE_SIZE, VM_WRITE);
		if (!err)
			err = record(name, pg, pg, PAGE_SIZE, VM_WRITE, false);
	}
	return err;
}

static int check_input(const struct layout_input *in)
{
	if (!in || memmap_check(in->boot) || span_empty(in->text) || in->nkeep > LAYOUT_MAX_KEEP)
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
	if (!err && vm_is_mapped(b->pml4, 0))
		err = VM_EINVAL; /* belt and braces: NULL must fault */
	return err;
}

/* Give back everything a failed build took. */
static void undo(struct build *b, struct layout_out *out)
{
	if (out->kstack_phys)
		frames_free_contig(out->kstack_phys, b->in->kstack_size / PAGE_SIZE);
	if (out->ist_stack_phys)
		frames_free_contig(out->ist_stack_phys, b->in->ist_stack_size / PAGE_SIZE);
	vm_free_space(b->pml4);
	nregions = 0;
	__builtin_memset(out, 0, sizeof(*out));
}

/*
 * The MAT as a map the memmap_ helpers can walk, in *view (mmap NULL when
 * there is none or it is unusable).  Usable: version 1 or 2, sane sizes
 * and entries (memmap_check), and every entry runtime code or data, as
 * the spec requires.  Linux ignores a table that fails such checks, and
 * so do we: the runtime code then stays RWX, and out says why.
 */
static void mat_view(const struct boot_info *bi, struct boot_info *view, struct layout_out *out)
{
	*view = (struct boot_info){ .mmap = bi->mat, .mmap_size = bi->mat_size,
				    .desc_size = bi->mat_desc_size };
	if (!bi->mat)
		return;
	bool ok = (bi->mat_version == 1 || bi->mat_version == 2) && memmap_check(view) == 0;
	for (size_t i = 0; ok && i < memmap_count(view); i++) {
		uint32_t t = memmap_desc(view, i)->type;
		ok = t == EFI_MEM_RUNTIME_CODE || t == EFI_MEM_RUNTIME_DATA;
	}
	if (ok)
		out->mat_entries = memmap_count(view);
	else
		view->mmap = NULL;
	out->mat_invalid = !ok;
}

/* 4 KiB pages recorded writable and executable (0 when NX is off: then
 * W^X cannot be had, and nothing is counted). */
static uint64_t count_rwx_pages(void)
{
	uint64_t n = 0;

	for (size_t i = 0; vm_nx_supported() && i < nregions; i++)
		if ((regions[i].flags & VM_WRITE) && (regions[i].flags & VM_EXEC))
			n += regions[i].size / PAGE_SIZE;
	return n;
}

int layout_build(const struct layout_input *in, struct layout_out *out)
{
	__builtin_memset(out, 0, sizeof(*out));
	nregions = 0;
	int err = check_input(in);
	if (err)
		return err;
	vm_set_nx_supported(in->nx);
	vm_set_1g_supported(in->gb_pages);
	struct build b = { vm_new_space(), in, { 0 } };
	if (!b.pml4)
		return VM_ENOMEM;
	mat_view(in->boot, &b.mat, out);
	err = build_all(&b, out);
	if (err) {
		undo(&b, out);
		return err;
	}
	out->pml4 = b.pml4;
	out->page_tables = vm_count_tables(b.pml4);
	out->rwx_pages = count_rwx_pages();
	return 0;
}

const struct layout_region *layout_regions(size_t *n)
{
	*n = nregions;
	return regions;
}

/* Is the leaf [va, va + size) wholly inside one wx_exempt row? */
static bool in_exempt_row(uint64_t va, uint64_t size)
{
	for (size_t i = 0; i < nregions; i++) {
		const struct layout_region *r = &regions[i];
		if (!r->wx_exempt || va < r->va)
			continue;
		uint64_t off = va - r->va; /* subtract, never add: no wrap at 2^64 */
		if (off < r->size && size <= r->size - off)
			return true;
	}
	return false;
}

/* vm_for_each_leaf callback: count a writable, executable leaf. */
static void count_wx(const struct vm_leaf *leaf, void *ctx)
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
	if (vm_nx_supported())
		vm_for_each_leaf(pml4, count_wx, bad);
	return *bad == 0;
}
