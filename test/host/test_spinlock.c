/*
 * test_spinlock.c - host tests of the ticket lock (paging/spinlock.h):
 * tickets are served in order and a wait is counted.  No timing: the
 * second thread is known to be waiting once it has taken its ticket.
 * (Many CPUs at once on the real lock: the kernel's smp_ self-tests.)
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "spinlock.h"

static struct spinlock lock = SPINLOCK_INIT;
static int inside; /* set by the waiter once it holds the lock */

static void *waiter(void *arg)
{
	(void)arg;
	spin_lock(&lock);
	inside = 1;
	spin_unlock(&lock);
	return NULL;
}

/* Expect a thread that asks while the lock is held to wait (not get in)
 * until it is released, then to get it, and its wait to be counted. */
static void spin_lock_waits_for_holder(void **state)
{
	pthread_t t;

	(void)state;
	spin_lock(&lock);
	assert_int_equal(pthread_create(&t, NULL, waiter, NULL), 0);
	while (__atomic_load_n(&lock.next, __ATOMIC_ACQUIRE) != 2)
		; /* the waiter has taken ticket 1: from now on it is spinning */
	assert_int_equal(__atomic_load_n(&inside, __ATOMIC_ACQUIRE), 0);
	spin_unlock(&lock);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(inside, 1);
	assert_int_equal(lock.acquired, 2);
	assert_int_equal(lock.contended, 1);
	assert_int_equal(lock.serving, 2); /* both tickets served: free */
}

/* Expect tickets served in the order taken, and an uncontended lock to
 * count no wait. */
static void spin_lock_uncontended_counts(void **state)
{
	struct spinlock l = SPINLOCK_INIT;

	(void)state;
	for (int i = 0; i < 3; i++) {
		spin_lock(&l);
		assert_int_equal(l.serving, (uint32_t)i);
		assert_int_equal(l.next, (uint32_t)i + 1);
		spin_unlock(&l);
	}
	assert_int_equal(l.acquired, 3);
	assert_int_equal(l.contended, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(spin_lock_uncontended_counts),
		cmocka_unit_test(spin_lock_waits_for_holder),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
