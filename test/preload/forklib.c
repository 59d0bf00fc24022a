/*
 * forklib.c - a library that, as many do, registers fork handlers from
 * its constructor, and whose handlers allocate.  cases links it, so its
 * constructor runs before libheap-preload.so's: its handlers are
 * registered first, and so run inside the preload's own (its prepare
 * handler after the preload's, its parent and child handlers before).
 * case fork_handlers_allocate forks under it.
 */
#include <pthread.h>
#include <stdlib.h>

static void allocate_and_free(void)
{
	volatile char *p = malloc(64); /* volatile: the compiler may not drop the pair */

	if (p)
		p[0] = 1;
	free((void *)p);
}

__attribute__((constructor)) static void forklib_start(void)
{
	pthread_atfork(allocate_and_free, allocate_and_free, allocate_and_free);
}

/* cases calls this, so that the link keeps the library. */
int forklib_linked(void)
{
	return 1;
}
