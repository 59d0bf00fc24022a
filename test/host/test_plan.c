/*
 * test_plan.c - host tests for paging/plan.c, the check the loader makes
 * before ExitBootServices: it must pass every map the kernel can use and
 * refuse, with the missing piece named, every map it cannot, and agree
 * with what frames_init and layout_build then really do.
 */
#define _DEFAULT_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>

#include "fixtures/fixtures.h"
#include "frames.h"
#include "layout.h"
#include "mmu.h"
#include "plan.h"
#include "vmerr.h"

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define RT EFI_MEM_ATTR_RUNTIME

static struct boot_info bi;
static struct plan p;

/* Where the firmware "loaded" the loader, in the plan and in the kernel's
 * layout: below 1 MiB, clear of every fixture's runtime memory. */
#define IMAGE_BASE 0x10000

/* Plan over the map in bi with heap_bytes of heap, as the loader does:
 * the list built in a copy of the map (bi keeps its descriptors for
 * kernel_attempt), scratch for the dry run, the check. */
static enum plan_verdict plan_bi(uint64_t heap_bytes)
{
	struct boot_info probe = bi;
	struct memblock mb;

	bi.image_base = probe.image_base = IMAGE_BASE; /* kernel_attempt's image */
	bi.image_size = probe.image_size = 256 * KiB;
	probe.mmap = malloc(bi.mmap_size);
	memcpy(probe.mmap, bi.mmap, bi.mmap_size);
	enum plan_verdict v = plan_read_map(&probe, &mb, &p);
	if (v == PLAN_OK) {
		void *store = malloc(plan_store_bytes(&mb) + 1);
		v = plan_check(&mb, &probe, heap_bytes, store, &p);
		free(store);
	}
	free(probe.mmap);
	return v;
}

/* Plan over rows with heap_bytes of heap; the map stays in bi. */
static enum plan_verdict plan_rows(const struct fix_row *rows, size_t n, uint64_t heap_bytes)
{
	map_build(&bi, rows, n, 48);
	return plan_bi(heap_bytes);
}

/*
 * Free memory only in runs of `run` pages, each followed by a reserved
 * page, starting at 1 MiB; page 0..1M boot code.  runs * (run + 1) + 1
 * rows into r (caller's, big enough).
 */
static size_t runs_map(struct fix_row *r, size_t runs, uint64_t run)
{
	size_t n = 0;
	uint64_t at = MiB;
	r[n++] = (struct fix_row){ EFI_MEM_BOOT_CODE, 0, 0x100, 0xF };
	for (size_t i = 0; i < runs; i++, at += (run + 1) * 4096) {
		r[n++] = (struct fix_row){ EFI_MEM_CONVENTIONAL, at, run, 0xF };
		r[n++] = (struct fix_row){ EFI_MEM_RESERVED, at + run * 4096, 1, 0 };
	}
	return n;
}

/* The kernel's own attempt on bi: frames_init, then layout_build. */
static int kernel_attempt(void)
{
	struct layout_out out;
	struct layout_input in = {
		.map = sim_list(&bi), .boot = &bi, .image = { IMAGE_BASE, IMAGE_BASE + 256 * KiB },
		.text = { IMAGE_BASE + 0x1000, IMAGE_BASE + 0x2000 },
		.kstack_size = LAYOUT_KSTACK_SIZE,
		.ist_stack_size = LAYOUT_IST_STACK_SIZE, .nx = true,
	};
	int err = frames_init(sim_list(&bi));
	if (!err)
		err = layout_build(&in, &out);
	if (!err) {
		assert_true(out.page_tables <= layout_tables_bound(sim_list(&bi), &bi));
		layout_release(&out);
	}
	return err;
}

/* Expect every captured OVMF map, with its memory attributes table, to
 * pass with the default heap, and the kernel to manage with it too. */
static void plan_fixtures_pass(void **state)
{
	(void)state;
	for (size_t f = 0; f < ROWS(fixtures); f++) {
		const struct fixture *fx = &fixtures[f];
		sim_phys_init(rows_ram_end(fx->rows, fx->n) + MiB);
		map_build(&bi, fx->rows, fx->n, 48);
		map_attach_mat(&bi, fx->mat, fx->nmat);
		assert_int_equal(plan_bi(MiB), PLAN_OK);
		assert_true(p.have >= p.need);
		assert_int_equal(kernel_attempt(), 0);
		map_free(&bi);
		sim_phys_fini();
	}
}

/*
 * Free memory only in `runs` runs of `run` pages: expect the plan to
 * refuse it for `what`, naming the longest run (`have` bytes), and the
 * kernel, given the same map after the exit, to fail with VM_ENOMEM (as
 * it did before this check existed: a panic, the machine lost).
 */
static void expect_no_run(size_t runs, uint64_t run, const char *what, uint64_t have)
{
	struct fix_row *rows = calloc(1 + 2 * runs, sizeof(*rows));
	size_t n = runs_map(rows, runs, run);
	sim_phys_init(MiB + runs * (run + 1) * 4096 + MiB);
	assert_int_equal(plan_rows(rows, n, 64 * KiB), PLAN_NO_RUN);
	assert_string_equal(p.what, what);
	assert_int_equal(p.have, have);
	assert_true(p.need > have);
	assert_int_equal(kernel_attempt(), VM_ENOMEM);
	map_free(&bi);
	sim_phys_fini();
	free(rows);
}

/* Expect 18 MiB free, all of it in 60 KiB runs, refused for the kernel
 * stack: "no 64 KiB run ... for the kernel stack (largest run: 60 KiB)". */
static void plan_no_run_for_the_stack(void **state)
{
	(void)state;
	expect_no_run(300, 15, "the kernel stack", 60 * KiB);
	assert_int_equal(p.need, 64 * KiB);
}

/*
 * Expect the memory attributes table's pieces counted: free memory in
 * 290 runs of 60 KiB, where the region table just fits (15 pages), plus
 * a runtime code region of 64 pages that a table cuts into 64 pieces
 * (32 one-page RX entries, the pages between them RWX): the region table
 * outgrows the runs, so the plan names it (it is taken first, before the
 * kernel stack that does not fit either), and the kernel fails as well.
 */
static void plan_mat_pieces_counted(void **state)
{
	(void)state;
	struct fix_row *rows = calloc(2 + 2 * 290, sizeof(*rows)), mat[32];
	size_t n = runs_map(rows, 290, 15);
	rows[n++] = (struct fix_row){ EFI_MEM_RUNTIME_CODE, 64 * MiB, 64, 0xF | EFI_MEM_ATTR_RUNTIME };
	for (size_t i = 0; i < ROWS(mat); i++)
		mat[i] = (struct fix_row){ EFI_MEM_RUNTIME_CODE, 64 * MiB + 2 * i * 4096, 1,
					   EFI_MEM_ATTR_RUNTIME | EFI_MEM_ATTR_RO };
	sim_phys_init(MiB + 290 * 16 * 4096 + MiB);
	map_build(&bi, rows, n, 48);
	map_attach_mat(&bi, mat, ROWS(mat));
	assert_int_equal(plan_bi(64 * KiB), PLAN_NO_RUN);
	assert_string_equal(p.what, "the region table");
	assert_int_equal(p.have, 60 * KiB);
	assert_int_equal(kernel_attempt(), VM_ENOMEM);
	map_free(&bi);
	sim_phys_fini();
	free(rows);
}

/* Expect 194 MiB free in 60 KiB runs (3104 of them) refused too: the
 * range table for 3104 free ranges (104 KiB with the bitmap) needs a
 * longer run than any. */
static void plan_no_run_for_the_bookkeeping(void **state)
{
	(void)state;
	expect_no_run(3104, 15, "the frame allocator's bookkeeping", 60 * KiB);
}

/* Expect 8 MiB free only in 4 KiB runs refused for the bookkeeping. */
static void plan_only_4k_runs(void **state)
{
	(void)state;
	expect_no_run(2048, 1, "the frame allocator's bookkeeping", 4 * KiB);
}

/* Expect a heap larger than the free memory refused as too little, with
 * the free memory and the need (heap included) reported. */
static void plan_too_little_memory(void **state)
{
	(void)state;
	const struct fixture *fx = &fixtures[0]; /* q35, 128 MiB */
	sim_phys_init(rows_ram_end(fx->rows, fx->n) + MiB);
	assert_int_equal(plan_rows(fx->rows, fx->n, 1ull << 30), PLAN_TOO_LITTLE);
	assert_true(p.need > (1ull << 30));
	assert_true(p.have < 128 * MiB);
	map_free(&bi);
	sim_phys_fini();
}

/* Expect specific-purpose memory (EFI_MEM_ATTR_SP) not counted as
 * free: 8 MiB of plain free memory and 64 MiB soft reserved are too
 * little for a 16 MiB heap. */
static void plan_soft_reserved_not_free(void **state)
{
	(void)state;
	const struct fix_row rows[] = {
		{ EFI_MEM_CONVENTIONAL, MiB, 0x800, 0xF },
		{ EFI_MEM_CONVENTIONAL, 16 * MiB, 0x4000, 0xF | EFI_MEM_ATTR_SP },
	};
	sim_phys_init(128 * MiB);
	assert_int_equal(plan_rows(rows, ROWS(rows), 16 * MiB), PLAN_TOO_LITTLE);
	assert_true(p.have < 8 * MiB);
	map_free(&bi);
	sim_phys_fini();
}

/* Expect a fragmented but usable map (500 pieces of RAM, a region table
 * in frames) to pass, and the kernel to manage with it. */
static void plan_fragmented_but_usable(void **state)
{
	(void)state;
	static struct fix_row rows[2 + 500];
	size_t n = 0;
	rows[n++] = (struct fix_row){ EFI_MEM_CONVENTIONAL, MiB, 0x4000, 0xF };
	for (size_t i = 0; i < 500; i++)
		rows[n++] = (struct fix_row){ EFI_MEM_CONVENTIONAL, 128 * MiB + 2 * i * 4096, 1, 0xF };
	sim_phys_init(256 * MiB);
	assert_int_equal(plan_rows(rows, n, MiB), PLAN_OK);
	assert_int_equal(kernel_attempt(), 0);
	map_free(&bi);
	sim_phys_fini();
}

/* Expect a map the kernel cannot read refused as such. */
static void plan_bad_map(void **state)
{
	(void)state;
	const struct fix_row rows[] = { { EFI_MEM_CONVENTIONAL, 0x1000, 0x100, 0xF } };
	map_build(&bi, rows, 1, 48);
	bi.desc_size = 36;
	assert_int_equal(plan_bi(MiB), PLAN_BAD_MAP);
	assert_string_equal(p.what, "bad descriptors");
	map_free(&bi);
}

/* Expect a map whose overlaps split more ranges than its buffer holds
 * (one free descriptor with two reserved pages inside it: five rows,
 * where three 40-byte descriptors leave room for three) refused at the
 * shell with the reason, not met by a panic after the exit. */
static void plan_map_overlaps_too_many(void **state)
{
	(void)state;
	const struct fix_row rows[] = {
		{ EFI_MEM_CONVENTIONAL, 0x100000, 0x100, 0xF },
		{ EFI_MEM_RESERVED, 0x110000, 1, 0 },  /* inside the free row */
		{ EFI_MEM_RESERVED, 0x120000, 1, 0 },  /* and again */
	};
	map_build(&bi, rows, 3, 40);
	assert_int_equal(plan_bi(MiB), PLAN_BAD_MAP);
	assert_string_equal(p.what, "too many overlapping descriptors");
	map_free(&bi);
}

/*
 * A usable machine (64 MiB free from 1 MiB) plus one row `bad` the
 * layout cannot map, whatever the free memory: expect the plan to refuse
 * it as PLAN_UNMAPPABLE, naming `what` and the row's range, and the
 * kernel, given the same map after the exit, to fail with err (as it did
 * before the plan checked this: a panic, the machine lost).
 */
static void expect_unmappable(struct fix_row bad, const char *what, int err)
{
	const struct fix_row rows[] = { { EFI_MEM_CONVENTIONAL, MiB, 0x4000, 0xF }, bad };
	sim_phys_init(128 * MiB);
	assert_int_equal(plan_rows(rows, ROWS(rows), MiB), PLAN_UNMAPPABLE);
	assert_string_equal(p.what, what);
	assert_string_equal(p.refusal.what, what);
	assert_non_null(p.refusal.why);
	assert_int_equal(p.refusal.start, bad.start);
	assert_int_equal(p.refusal.end, bad.start + bad.pages * 4096);
	assert_int_equal(kernel_attempt(), err);
	map_free(&bi);
	sim_phys_fini();
}

/* Expect RAM that runs past 64 TiB refused: the direct map's PML4 slots
 * end there.
 *
 *   64 TiB - 64K   64 TiB   + 64K
 *   [conv ........|........]        */
static void plan_refuses_ram_above_64t(void **state)
{
	(void)state;
	struct fix_row high = { EFI_MEM_CONVENTIONAL, DIRECT_MAP_MAX - 64 * KiB, 32, 0xF };
	expect_unmappable(high, "RAM", VM_EINVAL);
}

/* Expect specific-purpose memory past 64 TiB (a CXL window, say) not
 * refused: it is not ours, so the direct map leaves it out. */
static void plan_ignores_soft_reserved_above_64t(void **state)
{
	(void)state;
	const struct fix_row rows[] = {
		{ EFI_MEM_CONVENTIONAL, MiB, 0x4000, 0xF },
		{ EFI_MEM_CONVENTIONAL, DIRECT_MAP_MAX - 64 * KiB, 32, 0xF | EFI_MEM_ATTR_SP },
	};
	sim_phys_init(128 * MiB);
	assert_int_equal(plan_rows(rows, ROWS(rows), MiB), PLAN_OK);
	map_free(&bi);
	sim_phys_fini();
}

/* Expect runtime memory on page 0 refused: it is identity-mapped, and
 * page 0 stays unmapped so that a NULL dereference faults. */
static void plan_refuses_runtime_at_page_0(void **state)
{
	(void)state;
	struct fix_row low = { EFI_MEM_RUNTIME_DATA, 0, 1, 0xF | RT };
	expect_unmappable(low, "runtime memory", VM_EINVAL);
}

/* Expect runtime MMIO reaching into the kernel heap window refused: its
 * identity mapping would sit where the heap grows. */
static void plan_refuses_runtime_in_heap_window(void **state)
{
	(void)state;
	struct fix_row mmio = { EFI_MEM_MMIO, HEAP_START - 16 * KiB, 8, EFI_MEM_ATTR_UC | RT };
	expect_unmappable(mmio, "runtime memory", VM_EEXIST);
}

/* Expect runtime MMIO running past 128 TiB refused: from there up an
 * address is no canonical virtual address, so it cannot be mapped at
 * its own address. */
static void plan_refuses_runtime_above_128t(void **state)
{
	(void)state;
	struct fix_row mmio = { EFI_MEM_MMIO, LOWER_HALF_END - 16 * KiB, 8, EFI_MEM_ATTR_UC | RT };
	expect_unmappable(mmio, "runtime memory", VM_ENONCANON);
}

/* Expect runtime memory overlapping the loader's own image refused (a
 * map with overlapping descriptors: the runtime kind wins the bytes):
 * the kernel maps the image's pages with its own rights and would find
 * them taken when it maps the runtime range.  Runtime memory right
 * beside the image is fine.
 *
 *   IMAGE_BASE          + 32K  + 40K        + 256K
 *   [image ............[rt rt]..........]
 *                                        [rt] beside: fine */
static void plan_refuses_runtime_over_image(void **state)
{
	(void)state;
	struct fix_row rt = { EFI_MEM_RUNTIME_DATA, IMAGE_BASE + 32 * KiB, 2, 0xF | RT };
	expect_unmappable(rt, "runtime memory", VM_EEXIST);
	assert_string_equal(p.refusal.why, "overlaps the loader's own image");

	const struct fix_row beside[] = { { EFI_MEM_CONVENTIONAL, MiB, 0x4000, 0xF },
					  { EFI_MEM_RUNTIME_DATA, IMAGE_BASE + 256 * KiB, 2, 0xF | RT } };
	sim_phys_init(128 * MiB);
	assert_int_equal(plan_rows(beside, ROWS(beside), MiB), PLAN_OK);
	assert_int_equal(kernel_attempt(), 0);
	map_free(&bi);
	sim_phys_fini();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plan_fixtures_pass),
		cmocka_unit_test(plan_no_run_for_the_stack),
		cmocka_unit_test(plan_mat_pieces_counted),
		cmocka_unit_test(plan_no_run_for_the_bookkeeping),
		cmocka_unit_test(plan_only_4k_runs),
		cmocka_unit_test(plan_too_little_memory),
		cmocka_unit_test(plan_soft_reserved_not_free),
		cmocka_unit_test(plan_fragmented_but_usable),
		cmocka_unit_test(plan_bad_map),
		cmocka_unit_test(plan_map_overlaps_too_many),
		cmocka_unit_test(plan_refuses_ram_above_64t),
		cmocka_unit_test(plan_ignores_soft_reserved_above_64t),
		cmocka_unit_test(plan_refuses_runtime_at_page_0),
		cmocka_unit_test(plan_refuses_runtime_in_heap_window),
		cmocka_unit_test(plan_refuses_runtime_above_128t),
		cmocka_unit_test(plan_refuses_runtime_over_image),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
