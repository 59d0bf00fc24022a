/*
 * tests_smp.c - self-tests with every started CPU at once: each CPU's
 * own data, the one global heap hammered by all of them together, the
 * frame allocator and page tables changed from all of them, and a TLB
 * shootdown that must reach them.  With one CPU online each says SKIP:
 * nothing concurrent can be shown.
 *
 * smp_heap_scaling prints the figures for the closing note: heap
 * operations per second with 1, 2, 4, 8 CPUs and the lock's contention
 * rate (under QEMU the time is emulated: compare, do not quote).
 */
#include "selftest.h"
#include "smp.h"
#include "cpu.h"
#include "frames.h"
#include "kheap.h"
#include "mmu.h"
#include "pagetable.h"
#include "phys.h"

#define SLOTS 48            /* live blocks per CPU */
#define PHASES 4            /* heap_check between phases, all CPUs stopped */
#define STRESS_OPS 8000     /* per CPU, all phases */
#define SCALE_OPS 4000      /* per CPU, per scaling run */
#define MAX_BLOCK 1024
#define FRAME_ROUNDS 400
#define FRAME_BATCHES 10 /* the emptied tables go back after each batch of rounds */
#define FRAMES_EACH 16
#define SCRATCH_BASE 0x0000500000000000ull /* a PML4 slot of its own: tables are made */

static const char one_cpu[] = "one CPU online (QEMU -smp 1 or smp=1): nothing runs at once";

/* xorshift64: each CPU its own sequence */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Spin until all n CPUs have arrived at barrier round r (counter starts at 0). */
static void barrier(volatile uint32_t *count, unsigned n, unsigned round)
{
	__atomic_add_fetch(count, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(count, __ATOMIC_ACQUIRE) < n * (round + 1))
		cpu_relax();
}

struct slot {
	uint8_t *p;
	size_t n;
	uint8_t seed;
};

static bool holds(const struct slot *s)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->p[i] != (uint8_t)(s->seed + i * 7))
			return false;
	return true;
}

static void fill(struct slot *s)
{
	for (size_t i = 0; i < s->n; i++)
		s->p[i] = (uint8_t)(s->seed + i * 7);
}

struct stress {
	unsigned ncpus;
	unsigned ops;          /* per CPU */
	unsigned phases;
	volatile uint32_t arrived;
	volatile uint32_t bad_contents, refused, check_failed;
};

/* One step on one slot: check and free, or realloc, or allocate. */
static void step(struct stress *st, struct slot *s, uint64_t *rng)
{
	uint64_t r = next_rand(rng);

	if (s->p && !holds(s))
		__atomic_add_fetch(&st->bad_contents, 1, __ATOMIC_RELAXED);
	if (s->p && r % 4 == 0) {
		size_t n = 1 + (r >> 8) % MAX_BLOCK;
		uint8_t *q = krealloc(s->p, n);
		if (!q) {
			__atomic_add_fetch(&st->refused, 1, __ATOMIC_RELAXED);
			return;
		}
		s->p = q;
		s->n = n < s->n ? n : s->n; /* the common prefix survives */
		if (!holds(s))
			__atomic_add_fetch(&st->bad_contents, 1, __ATOMIC_RELAXED);
		s->n = n;
		fill(s);
	} else if (s->p) {
		kfree(s->p);
		s->p = NULL;
	} else {
		s->n = 1 + (r >> 8) % MAX_BLOCK;
		s->seed = (uint8_t)(r >> 32);
		if (!(s->p = kmalloc(s->n)))
			__atomic_add_fetch(&st->refused, 1, __ATOMIC_RELAXED);
		else
			fill(s);
	}
}

/* What every CPU runs: phases of random steps on its own slots, all
 * CPUs stopping between phases while CPU 0 runs heap_check. */
static void stress_cpu(void *arg, unsigned cpu)
{
	struct stress *st = arg;
	struct slot slots[SLOTS] = { 0 };
	uint64_t rng = 0x9E3779B97F4A7C15ull * (cpu + 1);
	unsigned round = 0;

	barrier(&st->arrived, st->ncpus, round++); /* start together */
	for (unsigned ph = 0; ph < st->phases; ph++) {
		for (unsigned op = 0; op < st->ops / st->phases; op++)
			step(st, &slots[next_rand(&rng) % SLOTS], &rng);
		barrier(&st->arrived, st->ncpus, round++);
		if (cpu == 0 && kheap_check() != 0)
			st->check_failed++;
		barrier(&st->arrived, st->ncpus, round++);
	}
	for (int i = 0; i < SLOTS; i++)
		if (slots[i].p) {
			if (!holds(&slots[i]))
				__atomic_add_fetch(&st->bad_contents, 1, __ATOMIC_RELAXED);
			kfree(slots[i].p);
		}
}

/* Run the stress on n CPUs; print ops/s and lock contention.  Returns
 * false when a check failed. */
static bool stress_run(unsigned n, unsigned ops, unsigned phases, const char *label)
{
	struct stress st = { .ncpus = n, .ops = ops, .phases = phases };
	uint64_t acq0, cont0, acq1, cont1, t0, us;

	kheap_lock_counts(&acq0, &cont0);
	t0 = timer_us();
	smp_run(n, stress_cpu, &st);
	us = timer_us() - t0;
	kheap_lock_counts(&acq1, &cont1);
	acq1 -= acq0;
	cont1 -= cont0;
	kprintf("# %s: %u CPUs, %u heap ops in %lu us: %lu ops/s; lock taken %lu times, "
		"%lu waited (%lu.%lu%%)\n", label, n, n * ops, us,
		us ? (uint64_t)n * ops * 1000000 / us : 0, acq1, cont1,
		acq1 ? cont1 * 100 / acq1 : 0, acq1 ? cont1 * 1000 / acq1 % 10 : 0);
	EXPECT(st.bad_contents == 0);
	EXPECT(st.refused == 0);
	EXPECT(st.check_failed == 0);
	EXPECT(kheap_check() == 0);
	return st.bad_contents == 0 && st.refused == 0 && st.check_failed == 0;
}

/* Expect every CPU the MADT enabled (within smp=) online, each with its
 * own struct cpu, APIC id and stack, reached through its GS base. */
struct whoami {
	volatile uint32_t wrong;
	uint64_t rsp[SMP_MAX_CPUS];
};

static void whoami_cpu(void *arg, unsigned cpu)
{
	struct whoami *w = arg;
	struct cpu *c = this_cpu();
	uint64_t rsp;

	__asm__ volatile("movq %%rsp, %0" : "=r"(rsp));
	w->rsp[cpu] = rsp;
	if (c != smp_cpu(cpu) || c->index != cpu || c->apic_id != lapic_id() ||
	    (cpu && (rsp > c->kstack_top || rsp < c->kstack_top - AP_KSTACK_SIZE)))
		__atomic_add_fetch(&w->wrong, 1, __ATOMIC_RELAXED);
}

static void smp_cpus_online_each_own_data(void)
{
	static struct whoami w;
	unsigned n = smp_cpus_online();

	kprintf("# smp: %u CPUs online, first SIPI to last CPU online %lu us\n", n,
		smp_bringup_us());
	EXPECT(smp_cpus_failed() == 0);
	if (n < 2) {
		SKIP(one_cpu);
		return;
	}
	w.wrong = 0;
	smp_run(n, whoami_cpu, &w);
	EXPECT(w.wrong == 0);
	for (unsigned i = 1; i < n; i++)
		EXPECT(w.rsp[i] != w.rsp[0]);
}

/* Expect every CPU at once on the one heap, in PHASES phases with a
 * heap_check between them, to keep every block's contents. */
static void smp_heap_stress_all_cpus(void)
{
	if (smp_cpus_online() < 2) {
		SKIP(one_cpu);
		return;
	}
	stress_run(smp_cpus_online(), STRESS_OPS, PHASES, "smp_heap_stress");
}

/* The figures: the same work per CPU on 1, 2, 4 and 8 CPUs. */
static void smp_heap_scaling(void)
{
	uint32_t r[4];

	cpuid(1, r);
	kprintf("# smp_heap_scaling: %s\n", r[2] & (1u << 31)
		? "under a hypervisor (QEMU TCG: emulated time, compare only)" : "bare metal");
	for (unsigned n = 1; n <= smp_cpus_online() && n <= 8; n *= 2)
		if (!stress_run(n, SCALE_OPS, 1, "smp_heap_scaling"))
			return;
}

/* Frames and mappings changed from every CPU at once: each CPU maps
 * its own page in a fresh PML4 slot (so all race to create and free the
 * same tables) and takes frames, marks them, checks no other CPU got
 * the same ones, and gives them back. */
enum race_fault { NO_FRAME, MAP, TRANSLATE, READ, UNMAP, FRAME, FREE, NFAULTS };

static const char *const race_fault_name[NFAULTS] = {
	"no frame", "pt_map failed", "wrong translation", "wrong word read through the page",
	"pt_unmap failed", "a frame's word changed", "frames_free refused",
};

struct frames_race {
	volatile uint32_t bad;
	volatile uint32_t fault[NFAULTS]; /* what went wrong, for the report */
	struct pt_gather tables[SMP_MAX_CPUS]; /* each CPU's emptied tables */
};

/* One thing went wrong: counted, and by its kind. */
static void race_bad(struct frames_race *fr, enum race_fault f)
{
	__atomic_add_fetch(&fr->bad, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&fr->fault[f], 1, __ATOMIC_RELAXED);
}

static void frames_cpu(void *arg, unsigned cpu)
{
	struct frames_race *fr = arg;
	uint64_t got[FRAMES_EACH], va = SCRATCH_BASE + cpu * PAGE_SIZE, pa;

	for (unsigned round = 0; round < FRAME_ROUNDS / FRAME_BATCHES; round++) {
		for (int i = 0; i < FRAMES_EACH; i++) {
			got[i] = frames_alloc();
			if (got[i])
				*(volatile uint64_t *)phys_to_virt(got[i]) = (uint64_t)cpu << 32 | i;
		}
		if (!got[0]) {
			race_bad(fr, NO_FRAME);
		} else if (pt_map(current_pml4(), va, got[0], PAGE_SIZE, VM_WRITE) != 0) {
			race_bad(fr, MAP);
		} else {
			if (pt_translate(current_pml4(), va, &pa, NULL) != 0 || pa != got[0])
				race_bad(fr, TRANSLATE);
			else if (*(volatile uint64_t *)va != (uint64_t)cpu << 32)
				race_bad(fr, READ);
			/* The tables this empties may sit in other CPUs'
			 * paging-structure caches (they walked them for their
			 * own pages): gathered, and freed after the batch's
			 * shootdown. */
			if (pt_unmap_gather(current_pml4(), va, PAGE_SIZE, &fr->tables[cpu]) != 0)
				race_bad(fr, UNMAP);
			invlpg(va); /* only this CPU touched va */
		}
		for (int i = 0; i < FRAMES_EACH; i++)
			if (!got[i])
				race_bad(fr, NO_FRAME);
			else if (*(volatile uint64_t *)phys_to_virt(got[i]) !=
				 ((uint64_t)cpu << 32 | (uint64_t)i))
				race_bad(fr, FRAME);
			else if (frames_free(got[i]) != 0)
				race_bad(fr, FREE);
	}
}

/* Expect no frame handed to two CPUs, every mapping where it was put,
 * and (the runner's leak check) every table and frame back. */
static void smp_frames_and_tables_all_cpus(void)
{
	static struct frames_race fr;
	uint64_t before = frames_free_count();

	if (smp_cpus_online() < 2) {
		SKIP(one_cpu);
		return;
	}
	fr = (struct frames_race){ 0 };
	for (unsigned batch = 0; batch < FRAME_BATCHES; batch++) {
		smp_run(smp_cpus_online(), frames_cpu, &fr);
		/* A CPU may have cached a table another CPU made and
		 * emptied after its own last invlpg (speculation may walk
		 * anything mapped): a shootdown, then they can go. */
		tlb_shootdown(SCRATCH_BASE, smp_cpus_online() * PAGE_SIZE);
		for (unsigned cpu = 0; cpu < SMP_MAX_CPUS; cpu++)
			pt_gather_free(&fr.tables[cpu]);
	}
	for (int f = 0; f < NFAULTS; f++)
		if (fr.fault[f])
			kprintf("# smp_frames: %s: %u times\n", race_fault_name[f], fr.fault[f]);
	EXPECT(fr.bad == 0);
	EXPECT(frames_free_count() == before);
}

/* Every CPU reads one word through the scratch page (so its TLB holds
 * the translation), and reports what it read. */
struct tlb_probe {
	volatile uint64_t seen[SMP_MAX_CPUS];
};

static void read_scratch(void *arg, unsigned cpu)
{
	struct tlb_probe *p = arg;

	p->seen[cpu] = *(volatile uint64_t *)SCRATCH_BASE;
}

/* Expect a page remapped to another frame to be read from the new
 * frame by every CPU: tlb_shootdown dropped their cached translation. */
static void smp_tlb_shootdown_reaches_all(void)
{
	static struct tlb_probe p;
	struct pt_gather tables = PT_GATHER_INIT;
	uint64_t a = frames_alloc(), b = frames_alloc(), pml4 = current_pml4();
	unsigned n = smp_cpus_online();

	if (n < 2 || !a || !b) {
		if (a)
			frames_free(a);
		if (b)
			frames_free(b);
		SKIP(n < 2 ? one_cpu : "no frames");
		return;
	}
	*(volatile uint64_t *)phys_to_virt(a) = 0xAAAA;
	*(volatile uint64_t *)phys_to_virt(b) = 0xBBBB;
	EXPECT(pt_map(pml4, SCRATCH_BASE, a, PAGE_SIZE, VM_WRITE) == 0);
	smp_run(n, read_scratch, &p);              /* every TLB now maps it to a */
	EXPECT(pt_unmap_gather(pml4, SCRATCH_BASE, PAGE_SIZE, &tables) == 0);
	EXPECT(pt_map(pml4, SCRATCH_BASE, b, PAGE_SIZE, VM_WRITE) == 0);
	tlb_shootdown(SCRATCH_BASE, PAGE_SIZE);
	pt_gather_free(&tables); /* other CPUs walked them: only now */
	smp_run(n, read_scratch, &p);
	for (unsigned i = 0; i < n; i++)
		EXPECT(p.seen[i] == 0xBBBB);
	EXPECT(pt_unmap_gather(pml4, SCRATCH_BASE, PAGE_SIZE, &tables) == 0);
	tlb_shootdown(SCRATCH_BASE, PAGE_SIZE);
	pt_gather_free(&tables);
	frames_free(a);
	frames_free(b);
}

const struct selftest smp_tests[] = {
	{ "smp_cpus_online_each_own_data", smp_cpus_online_each_own_data },
	{ "smp_heap_stress_all_cpus", smp_heap_stress_all_cpus },
	{ "smp_frames_and_tables_all_cpus", smp_frames_and_tables_all_cpus },
	{ "smp_tlb_shootdown_reaches_all", smp_tlb_shootdown_reaches_all },
	{ "smp_heap_scaling", smp_heap_scaling },
	{ NULL, NULL },
};
