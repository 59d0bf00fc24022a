/*
 * vmerr.h - error codes shared by everything in paging/.
 *
 * Actions return 0 on success or one of these (negative) codes; predicates
 * return bool; allocators return physical address 0 for "none left"
 * (0 is never a frame).  Nothing in paging/ panics: the caller decides.
 */
#ifndef PAGING_VMERR_H
#define PAGING_VMERR_H

enum vm_err {
	VM_OK = 0,
	VM_EINVAL = -1,    /* bad argument: misaligned, zero size, bad flags, nonsense map */
	VM_ENOMEM = -2,    /* out of frames, or a fixed-size table is full */
	VM_EEXIST = -3,    /* already mapped (any overlap), or frame already free */
	VM_ENOENT = -4,    /* nothing mapped there */
	VM_ENONCANON = -5, /* address non-canonical, or range crosses the hole */
	VM_ENOTSUP = -6,   /* needs a CPU feature not enabled (1 GiB pages) */
	VM_ESPLIT = -7,    /* range covers only part of a large page */
	VM_EBUSY = -8,     /* frames in the range were already handed out */
};

/* A short constant name for err ("VM_ENOMEM"), "VM_E?" if unknown. */
const char *vm_strerror(int err);

#endif
