#!/bin/sh
# check-seam.sh - `make` checks the seam between the loader and the kernel
# (docs/contract.md) with the linker's own symbol tables:
#
#   check-seam.sh kernel KERNEL_O
#       KERNEL_O is kernel/, paging/ and heap/ partially linked (ld -r).
#       Everything it still needs must be on the allow-list below: the
#       image bounds our linker script defines.  Anything else (Print, BS,
#       memcpy from libefi, ...) means the kernel would need gnu-efi.
#   check-seam.sh loader "KERNEL_SIDE_OBJS" LOADER_OBJS...
#       Of the symbols kernel/ and heap/ define, the loader may use only
#       the three boot/boot_info.h offers a loader.
set -eu

# Defined by the linker: the image's bounds (efi/bootx64.lds; any loader
# linking the kernel provides them) and the GOT of position-independent code.
KERNEL_MAY_NEED="_GLOBAL_OFFSET_TABLE_ ImageBase __image_end __text_start __text_end
__rodata_start __rodata_end __data_start __data_end"
LOADER_MAY_CALL="kernel_main kernel_has_test kernel_handoff_failed"

# Print the words of $1 that are not in $2, one a line.
not_in() {
	for w in $1; do
		case " $(echo $2) " in *" $w "*) ;; *) echo "$w" ;; esac
	done
}

case "$1" in
kernel)
	bad=$(not_in "$(nm -u "$2" | awk '{ print $2 }')" "$KERNEL_MAY_NEED")
	if [ -n "$bad" ]; then
		echo "seam: kernel/, paging/ and heap/ need symbols they do not define:" >&2
		echo "$bad" | sed 's/^/seam:     /' >&2
		echo "seam: after ExitBootServices nothing of gnu-efi exists; the kernel may" >&2
		echo "seam: use only boot/boot_info.h and its own code (docs/contract.md)." >&2
		exit 1
	fi ;;
loader)
	kernel_defs=$(nm --defined-only $2 | awk '$2 ~ /^[TDBR]$/ { print $3 }')
	shift 2
	used=$(nm -u "$@" | awk '{ print $2 }' | sort -u)
	bad=$(not_in "$(not_in "$used" "$(not_in "$used" "$kernel_defs")")" "$LOADER_MAY_CALL")
	if [ -n "$bad" ]; then
		echo "seam: the loader (efi/) uses kernel internals:" >&2
		echo "$bad" | sed 's/^/seam:     /' >&2
		echo "seam: a loader calls only what boot/boot_info.h offers: $LOADER_MAY_CALL" >&2
		exit 1
	fi ;;
*)
	echo "usage: check-seam.sh kernel KERNEL_O | loader \"KERNEL_OBJS\" LOADER_OBJS..." >&2
	exit 2 ;;
esac
