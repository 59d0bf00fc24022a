/*
 * vmerr.c - names for the paging/ error codes, for the kernel's reports.
 */
#include "vmerr.h"

const char *vm_strerror(int err)
{
	switch (err) {
	case VM_OK: return "VM_OK";
	case VM_EINVAL: return "VM_EINVAL";
	case VM_ENOMEM: return "VM_ENOMEM";
	case VM_EEXIST: return "VM_EEXIST";
	case VM_ENOENT: return "VM_ENOENT";
	case VM_ENONCANON: return "VM_ENONCANON";
	case VM_ENOTSUP: return "VM_ENOTSUP";
	case VM_ESPLIT: return "VM_ESPLIT";
	case VM_EBUSY: return "VM_EBUSY";
	}
	return "VM_E?";
}
