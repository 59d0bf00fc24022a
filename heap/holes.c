/*
 * holes.c - the index of holes: an AVL tree ordered by address, in which
 * every node also records the largest hole in its subtree.
 *
 * That one extra number makes first fit a single descent.  From the root:
 * go left while the left subtree holds a hole big enough (its max says
 * so); else take this hole if it is big enough; else go right.  The
 * lowest-addressed hole that fits is found in O(log n) steps, where a list
 * walks past every hole below it.  Looking for 10 granules:
 *
 *                      [ 96: size 4, max 40 ]
 *                     /                      \
 *      [ 32: size 40, max 40 ]        [ 160: size 8, max 12 ]
 *                                                   \
 *                                        [ 300: size 12, max 12 ]
 *
 *   96: the left max is 40 >= 10, go left; 32: size 40 fits: take it.
 *   (Looking for 11 granules instead: left max 40, go left, take 32 too;
 *   for 41: the root's max is 40, so no hole fits, without a walk.)
 *
 * The nodes live inside the holes themselves (struct hole, heap_impl.h), so
 * the index costs no memory; links are 32-bit granule numbers.
 *
 * Every change finds its node by a descent from the root that records the
 * links it passed (struct path), changes the node, then walks back up the
 * path recomputing heights and maxima and rotating where a subtree leans by
 * two.  The walk stops at the first subtree that comes out as it was, so
 * most changes touch a node or two.
 *
 * Trust: a link is followed only to a granule the bitmap marks as a hole
 * start, and a path deeper than any AVL tree can be is refused, so a
 * damaged node (a write after free) cannot send the heap outside its holes
 * or into a loop: the heap is marked broken instead and refuses every call.
 */
#include "heap_impl.h"

struct path {
	int n;                      /* nodes on the path */
	uint32_t *slot[TREE_DEPTH]; /* slot[i] is the link holding node i; slot[0] is &h->root */
};

/* A link may be followed: a hole starts at granule g.  Else h is broken. */
static bool node_ok(struct heap *h, uint32_t g)
{
	if (g < granules(h) && kind_at(h, g) == HOLE)
		return true;
	h->broken = 1;
	return false;
}

/* Height and max of the subtree at g; 0 for none.  Reads only inside the
 * heap even through a damaged link (node_ok catches it when followed). */
static uint32_t height_of(const struct heap *h, uint32_t g)
{
	return g < granules(h) ? hole_at(h, g)->height : 0;
}

static uint32_t max_of(const struct heap *h, uint32_t g)
{
	return g < granules(h) ? hole_at(h, g)->max : 0;
}

static uint32_t larger(uint32_t a, uint32_t b)
{
	return a > b ? a : b;
}

/* Recompute x's height and max from its children. */
static void pull(struct heap *h, uint32_t x)
{
	struct hole *n = hole_at(h, x);

	n->height = 1 + larger(height_of(h, n->left), height_of(h, n->right));
	n->max = larger(n->hdr.size, larger(max_of(h, n->left), max_of(h, n->right)));
}

/* How far the subtree at x leans left (> 0) or right (< 0). */
static int lean(const struct heap *h, uint32_t x)
{
	if (x >= granules(h))
		return 0;
	return (int)height_of(h, hole_at(h, x)->left) - (int)height_of(h, hole_at(h, x)->right);
}

/*
 *        x               l
 *       / \             / \
 *      l   c    ->     a   x
 *     / \                 / \
 *    a   b               b   c
 */
static uint32_t rotate_right(struct heap *h, uint32_t x)
{
	uint32_t l = hole_at(h, x)->left;

	if (!node_ok(h, x) || !node_ok(h, l))
		return x;
	hole_at(h, x)->left = hole_at(h, l)->right;
	hole_at(h, l)->right = x;
	pull(h, x);
	pull(h, l);
	return l;
}

/* The mirror image of rotate_right. */
static uint32_t rotate_left(struct heap *h, uint32_t x)
{
	uint32_t r = hole_at(h, x)->right;

	if (!node_ok(h, x) || !node_ok(h, r))
		return x;
	hole_at(h, x)->right = hole_at(h, r)->left;
	hole_at(h, r)->left = x;
	pull(h, x);
	pull(h, r);
	return r;
}

/* Make the subtree at x balanced again after a change below it of one
 * level; returns its root, which is x unless it rotated. */
static uint32_t balance(struct heap *h, uint32_t x)
{
	struct hole *n = hole_at(h, x);

	if (lean(h, x) > 1) {
		if (lean(h, n->left) < 0) /* left-right: straighten it first */
			n->left = rotate_left(h, n->left);
		return rotate_right(h, x);
	}
	if (lean(h, x) < -1) {
		if (lean(h, n->right) > 0)
			n->right = rotate_right(h, n->right);
		return rotate_left(h, x);
	}
	pull(h, x);
	return x;
}

/* Walk back up the path from node `from` to the root, balancing each
 * subtree and recomputing its height and max.  At or above node `until`,
 * stop at the first subtree that comes out as it was: its parent already
 * counts it right, and so does everything above. */
static void fix(struct heap *h, struct path *p, int from, int until)
{
	for (int i = from; i >= 0 && !h->broken; i--) {
		uint32_t x = *p->slot[i];
		struct hole *n = hole_at(h, x);
		uint32_t height = n->height, max = n->max;
		uint32_t y = balance(h, x);

		*p->slot[i] = y;
		if (i <= until && y == x && n->height == height && n->max == max)
			return;
	}
}

/* Fill p with the path from the root towards granule g: its last slot
 * holds g, or is the empty link where g would hang.  false if a node on
 * the way is damaged (h is then broken). */
static bool find(struct heap *h, uint32_t g, struct path *p)
{
	uint32_t *slot = &h->root;

	for (p->n = 0; p->n < TREE_DEPTH;) {
		p->slot[p->n++] = slot;
		if (*slot == NIL)
			return true;
		if (!node_ok(h, *slot))
			return false;
		if (*slot == g)
			return true;
		slot = g < *slot ? &hole_at(h, *slot)->left : &hole_at(h, *slot)->right;
	}
	h->broken = 1;
	return false;
}

/* Both links of the node at g may be followed (or are empty). */
static bool links_ok(struct heap *h, uint32_t g)
{
	const struct hole *n = hole_at(h, g);

	return (n->left == NIL || node_ok(h, n->left)) && (n->right == NIL || node_ok(h, n->right));
}

/* find(), for a hole that must be in the tree and is about to change:
 * its own links are checked too, so a damaged one is never copied on. */
static bool find_node(struct heap *h, uint32_t g, struct path *p)
{
	if (find(h, g, p) && *p->slot[p->n - 1] == g && links_ok(h, g))
		return true;
	h->broken = 1;
	return false;
}

uint32_t holes_first_fit(struct heap *h, uint32_t units)
{
	uint32_t x = h->root;

	if (x == NIL || max_of(h, x) < units)
		return NIL;
	for (int depth = 0; depth < TREE_DEPTH && node_ok(h, x); depth++) {
		const struct hole *n = hole_at(h, x);

		if (max_of(h, n->left) >= units)
			x = n->left;
		else if (n->hdr.size >= units)
			return x;
		else
			x = n->right; /* the max promised a fit: it is on the right */
	}
	h->broken = 1; /* a max that lied, or a loop */
	return NIL;
}

/* holes_next_fit below x: in-order, the left subtree, x, the right one;
 * a subtree whose max is too small is skipped whole. */
static uint32_t next_fit(struct heap *h, uint32_t x, uint32_t after, uint32_t units, int depth)
{
	uint32_t y;

	if (x == NIL || max_of(h, x) < units)
		return NIL;
	if (depth == TREE_DEPTH || !node_ok(h, x)) {
		h->broken = 1;
		return NIL;
	}
	if (x > after) {
		y = next_fit(h, hole_at(h, x)->left, after, units, depth + 1);
		if (y != NIL || h->broken)
			return y;
		if (hole_at(h, x)->hdr.size >= units)
			return x;
	}
	return next_fit(h, hole_at(h, x)->right, after, units, depth + 1);
}

uint32_t holes_next_fit(struct heap *h, uint32_t after, uint32_t units)
{
	return next_fit(h, h->root, after, units, 0);
}

void holes_insert(struct heap *h, uint32_t g)
{
	struct hole *n = hole_at(h, g);
	struct path p;

	if (!find(h, g, &p) || *p.slot[p.n - 1] != NIL) {
		h->broken = 1; /* already there */
		return;
	}
	n->left = n->right = NIL;
	n->height = 1;
	n->max = n->hdr.size;
	*p.slot[p.n - 1] = g;
	fix(h, &p, p.n - 2, p.n - 2);
}

void holes_remove(struct heap *h, uint32_t g)
{
	struct hole *n = hole_at(h, g), *s;
	struct path p;
	uint32_t *slot;
	int at;

	if (!find_node(h, g, &p))
		return;
	at = p.n - 1;
	if (n->left == NIL || n->right == NIL) { /* a child, if any, moves up */
		*p.slot[at] = n->left == NIL ? n->right : n->left;
		fix(h, &p, at - 1, at - 1);
		return;
	}
	/* Two children: the next hole up, the leftmost of the right subtree,
	 * leaves its place and takes g's. */
	for (slot = &n->right;; slot = &hole_at(h, *slot)->left) {
		if (p.n == TREE_DEPTH || !node_ok(h, *slot)) {
			h->broken = 1;
			return;
		}
		p.slot[p.n++] = slot;
		if (hole_at(h, *slot)->left == NIL)
			break;
	}
	s = hole_at(h, *slot);
	*slot = s->right;
	s->left = n->left;
	s->right = n->right;
	s->height = n->height;
	s->max = n->max;
	*p.slot[at] = granule(h, (uintptr_t)s);
	p.slot[at + 1] = &s->right; /* the path went down g's right link: now s's */
	fix(h, &p, p.n - 2, at);    /* below g's old place every subtree changed */
}

void holes_resized(struct heap *h, uint32_t g)
{
	struct path p;

	if (find_node(h, g, &p))
		fix(h, &p, p.n - 1, p.n - 1);
}

void holes_move(struct heap *h, uint32_t g, uint32_t to, uint32_t units, uint32_t prev)
{
	struct hole old, *n = hole_at(h, to);
	struct path p;

	if (!find_node(h, g, &p))
		return;
	old = *hole_at(h, g); /* the new header may land on the old node */
	set_header(&n->hdr, MAGIC_FREE, units, prev);
	n->left = old.left;
	n->right = old.right;
	n->height = old.height;
	n->max = old.max;
	*p.slot[p.n - 1] = to;
	fix(h, &p, p.n - 1, p.n - 1);
}

/* Check the subtree at x: holes only, all strictly between granules lo
 * and hi, heights and maxima right, leaning by at most one.  Returns its
 * height, or -1 if anything is wrong. */
static int check_subtree(const struct heap *h, uint32_t x, int64_t lo, int64_t hi, int depth,
			 size_t *count)
{
	const struct hole *n;
	int l, r;

	if (x == NIL)
		return 0;
	if (depth == TREE_DEPTH || x >= granules(h) || kind_at(h, x) != HOLE || x <= lo || x >= hi)
		return -1;
	n = hole_at(h, x);
	l = check_subtree(h, n->left, lo, x, depth + 1, count);
	r = check_subtree(h, n->right, x, hi, depth + 1, count);
	if (l < 0 || r < 0 || l - r > 1 || r - l > 1 || n->height != (uint32_t)(1 + (l > r ? l : r)))
		return -1;
	if (n->max != larger(n->hdr.size, larger(max_of(h, n->left), max_of(h, n->right))))
		return -1;
	(*count)++;
	return (int)n->height;
}

bool holes_check(const struct heap *h, size_t *count)
{
	*count = 0;
	return check_subtree(h, h->root, -1, (int64_t)granules(h), 0, count) >= 0;
}
