/*
 * spinlock.h - a ticket lock: the kernel's one kind of lock, for data
 * every CPU may change (the heap, the frame allocator, page tables).
 *
 * Like the queue at a deli counter: spin_lock takes the next ticket
 * (one atomic fetch-and-add) and waits until `serving` shows it;
 * spin_unlock serves the next ticket.  CPUs get the lock in the order
 * they asked for it, so none can starve, which a plain test-and-set
 * lock does not promise.  Acquire on lock and release on unlock order
 * the protected accesses inside the critical section.
 *
 * Interrupts: the kernel never enables maskable interrupts, and the one
 * interrupt it uses between CPUs, the NMI (kernel/smp.c), takes no lock,
 * so these locks need not turn interrupts off.  Not recursive: a CPU
 * that takes a lock it holds waits forever.
 *
 * Pure C with GCC/Clang atomic builtins: the host tests use it too.
 */
#ifndef PAGING_SPINLOCK_H
#define PAGING_SPINLOCK_H

#include <stdint.h>

struct spinlock {
	uint32_t next;          /* the next ticket to hand out */
	uint32_t serving;       /* the ticket that holds the lock */
	uint64_t acquired;      /* times taken (changed only by the holder) */
	uint64_t contended;     /* of which the taker had to wait */
};

#define SPINLOCK_INIT { 0, 0, 0, 0 }

static inline void spin_lock(struct spinlock *l)
{
	uint32_t ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_RELAXED);
	uint32_t waited = 0;

	while (__atomic_load_n(&l->serving, __ATOMIC_ACQUIRE) != ticket) {
		waited = 1;
		__builtin_ia32_pause(); /* tell the core (or its sibling) we spin */
	}
	l->acquired++;
	l->contended += waited;
}

static inline void spin_unlock(struct spinlock *l)
{
	/* Only the holder writes serving: a plain increment, released. */
	__atomic_store_n(&l->serving, l->serving + 1, __ATOMIC_RELEASE);
}

#endif
