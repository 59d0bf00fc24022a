/*
 * spinlock.h - the kernel's one kind of lock, for data every CPU may
 * change (the heap, the frame allocator, page tables).
 *
 * A test-and-test-and-set lock: spin_lock swaps 1 into `locked` (one
 * atomic exchange); if it was already 1, it waits, reading the word
 * (cheap: the cache line stays shared) until it looks free, and tries
 * again.  Acquire on lock and release on unlock order the protected
 * accesses inside the critical section.
 *
 * Why not a ticket lock, which serves CPUs in the order they asked?  We
 * had one.  Under QEMU, 8 virtual CPUs share this machine's 2 cores, and
 * when the CPU whose ticket is next is not running, every other CPU
 * waits for the host to schedule it: the heap stress fell from ~50,000
 * to 57 operations a second (docs/smp.md).  Real machines meet the same
 * trouble under hypervisors; Linux answers with paravirtual locks.  Here
 * any running CPU may take a free lock, so one that is not running holds
 * nobody up; the price is no promise of order.
 *
 * Interrupts: the kernel never enables maskable interrupts, and the one
 * interrupt it uses between CPUs, the NMI (kernel/smp_ipi.c), takes no
 * lock, so these locks need not turn interrupts off.  Not recursive: a
 * CPU that takes a lock it holds waits forever.
 *
 * Pure C with GCC/Clang atomic builtins: the host tests use it too.
 */
#ifndef PAGING_SPINLOCK_H
#define PAGING_SPINLOCK_H

#include <stdint.h>

struct spinlock {
	uint32_t locked;        /* 1 while held */
	uint32_t waiting;       /* CPUs spinning for it now */
	uint64_t acquired;      /* times taken (changed only by the holder) */
	uint64_t contended;     /* of which the taker had to wait */
};

#define SPINLOCK_INIT { 0, 0, 0, 0 }

static inline void spin_lock(struct spinlock *l)
{
	uint32_t waited = 0;

	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE)) {
		if (!waited)
			__atomic_add_fetch(&l->waiting, 1, __ATOMIC_RELAXED);
		waited = 1;
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			__builtin_ia32_pause(); /* tell the core (or its sibling) we spin */
	}
	if (waited)
		__atomic_sub_fetch(&l->waiting, 1, __ATOMIC_RELAXED);
	l->acquired++;
	l->contended += waited;
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

#endif
