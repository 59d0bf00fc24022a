/*
 * test_spinlock.c - host tests of the kernel's lock (paging/spinlock.h):
 * a held lock keeps a second thread out until released, and the wait is
 * counted.  No timing: the second thread is known to be waiting once it
 * has said so in `waiting`.
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
	while (__atomic_load_n(&lock.waiting, __ATOMIC_ACQUIRE) != 1)
		; /* the waiter found it held: from now on it is spinning */
	assert_int_equal(__atomic_load_n(&inside, __ATOMIC_ACQUIRE), 0);
	spin_unlock(&lock);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(inside, 1);
	assert_int_equal(lock.acquired, 2);
	assert_int_equal(lock.contended, 1);
	assert_int_equal(lock.locked, 0);
	assert_int_equal(lock.waiting, 0);
}

/* Expect lock and unlock to set and clear the word, and an uncontended
 * lock to count no wait. */
static void spin_lock_uncontended_counts(void **state)
{
	struct spinlock l = SPINLOCK_INIT;

	(void)state;
	for (int i = 0; i < 3; i++) {
		spin_lock(&l);
		assert_int_equal(l.locked, 1);
		spin_unlock(&l);
		assert_int_equal(l.locked, 0);
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
