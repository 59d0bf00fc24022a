/*
 * demo.c - the blog_os "Heap Allocation" post's demo, in C.
 *
 * Rust's Box, Vec and Rc become kmalloc, struct vec and a counted
 * struct.  Every address printed is in the heap window at 0x4444_4444_0000.
 * The heap picture (heapview.c) is redrawn at each step, so the screen
 * shows the box come and go and the vector move as it doubles.
 */
#include "kernel.h"
#include "kheap.h"
#include "vec.h"

/* Rc<Vec<long>>: a count and the value it guards. */
struct rc_vec {
	size_t count;
	struct vec v;
};

static struct rc_vec *rc_clone(struct rc_vec *rc)
{
	rc->count++;
	return rc;
}

static void rc_drop(struct rc_vec *rc)
{
	if (--rc->count == 0) {
		vec_free(&rc->v);
		kfree(rc);
	}
}

static void demo_box(void)
{
	long *heap_value = kmalloc(sizeof(long));

	if (!heap_value)
		panic("demo: kmalloc failed");
	*heap_value = 41;
	kprintf("demo: heap_value at 0x%lX\n", (uint64_t)(uintptr_t)heap_value);
	heapview_update();
	kfree(heap_value);
}

static void demo_vec(void)
{
	struct vec v = { 0 };

	for (long i = 0; i < 500; i++) {
		size_t cap = v.cap;
		if (!vec_push(&v, i))
			panic("demo: vec_push failed at %ld", i);
		if (v.cap != cap)
			heapview_update(); /* it grew: a new block, the old one freed */
	}
	kprintf("demo: vec at 0x%lX\n", (uint64_t)(uintptr_t)v.data);
	heapview_pause("demo");
	vec_free(&v);
}

static void demo_rc(void)
{
	struct rc_vec *rc = kzalloc(sizeof(*rc)), *clone;

	if (!rc || !vec_push(&rc->v, 1) || !vec_push(&rc->v, 2) || !vec_push(&rc->v, 3))
		panic("demo: out of heap");
	rc->count = 1;
	clone = rc_clone(rc);
	kprintf("demo: current reference count is %lu\n", (uint64_t)clone->count);
	heapview_update();
	rc_drop(rc);
	kprintf("demo: reference count is %lu now\n", (uint64_t)clone->count);
	rc_drop(clone);
}

void demo(void)
{
	heapview_start();
	demo_box();
	demo_vec();
	demo_rc();
	heapview_update();
	kputs("demo: It did not crash!\n");
}
