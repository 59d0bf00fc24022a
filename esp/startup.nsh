@echo -off
# startup.nsh - run BOOTX64.EFI from the UEFI Shell with arguments.
# The shell runs this file from the first file system it maps.  The
# Makefile replaces the arguments placeholder with ARGS='...'.
fs0:
BOOTX64.EFI @ARGS@
