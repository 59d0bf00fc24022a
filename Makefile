# Makefile - build BOOTX64.EFI and its ESP image, boot it in QEMU, test it.
#
#   make                 build build/BOOTX64.EFI and build/esp.img
#   make run [ARGS=...]  boot it under QEMU + OVMF, serial on this terminal
#   make test            host unit tests, then the QEMU boot suite
#   make bench           allocator and frame-allocator benchmarks
#   make fuzz            run each fuzzer for FUZZ_SECONDS (FUZZ_TARGET=one)
#   make fuzz-smoke      replay the fuzz corpora, short fixed-seed runs
#   make preload         build/libheap-preload.so: our heap as malloc (LD_PRELOAD)
#   make preload-test    its checks on python3, sqlite3 and small cases (TAP)
#   make bench-preload   python3 and sqlite3 wall time, glibc vs the preload
#   make debug           QEMU waiting for gdb; see docs/debugging.md
#   make sign [KEY=... CERT=...]  build/signed/BOOTX64.EFI, build/esp-signed.img
#   make keys [KEYS_DIR=keys]     a fresh Secure Boot key pair of your own
#   make screenshot      PNGs of the screen under build/screenshots/ (docs/screen.md)
#   make clean           remove build/
#   V=1                  show full command lines
#
# Missing Debian packages are installed when run as root, else the exact
# apt-get line is printed (target `deps`).

.DEFAULT_GOAL := all
.DELETE_ON_ERROR:
.SUFFIXES:

V ?= 0
export V   # the QEMU runner prints its command lines when V=1
Q := $(if $(filter 1,$(V)),,@)
say = $(if $(filter 1,$(V)),,@printf '  %-7s %s\n' $(1) $(2);)

B := build

# --- Debian packages --------------------------------------------------------
DEB_PKGS := make gcc binutils gnu-efi mtools ovmf qemu-system-x86 python3 \
            kbd clang libclang-rt-14-dev libcmocka-dev sqlite3
# The test judge reads cmocka's TAP with python3-tap (test/judge/).
DEB_PKGS += python3-tap
# The heap benchmark's rivals (dlopen'd at run time) and its instruction counter.
DEB_PKGS += libjemalloc-dev libmimalloc-dev valgrind

.PHONY: deps
deps:
	$(Q)missing=""; for p in $(DEB_PKGS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    if [ "$$(id -u)" = 0 ]; then \
	        echo "deps: installing$$missing"; \
	        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	    else \
	        echo "deps: missing Debian packages. Run:"; \
	        echo "    sudo apt-get install -y$$missing"; exit 1; \
	    fi; \
	fi

# --- The EFI image -----------------------------------------------------------
EFI_INC   := /usr/include/efi
EFI_LIB   := /usr/lib
EFI_CRT0  := $(EFI_LIB)/crt0-efi-x86_64.o
LDSCRIPT  := efi/bootx64.lds
FONT_PSF  := /usr/share/consolefonts/Lat15-Fixed16.psf.gz

CC        := gcc
LD        := ld
OBJCOPY   := objcopy

# -fpic: the firmware loads us anywhere; crt0 applies our relocations.
# -mno-red-zone -mgeneral-regs-only: interrupts may arrive on our stack and
# exception handlers must not clobber SSE state.
KCFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror \
           -ffreestanding -fpic -fno-stack-protector \
           -fno-strict-aliasing -fno-asynchronous-unwind-tables \
           -mno-red-zone -mgeneral-regs-only -fvisibility=hidden
# Who may include whom, per folder: the include paths are the arrows of
# docs/contract.md.  Only the loader sees gnu-efi; a kernel/ file that
# includes <efi.h> does not compile.
#   efi/ (loader) -> boot/ (the contract) <- kernel/ -> paging/, heap/
# The loader only: GNU_EFI_USE_MS_ABI makes firmware calls plain C calls
# (no uefi_call_wrapper); -fshort-wchar makes L"" strings UEFI's CHAR16.
# It also sees paging/, for the pure pre-exit planner (plan.h).
EFI_CFLAGS := -DGNU_EFI_USE_MS_ABI -fshort-wchar -I$(EFI_INC) -I$(EFI_INC)/x86_64
INC_efi    := $(EFI_CFLAGS) -Iboot -Ipaging
INC_kernel := -Iboot -Ikernel -Ipaging -Iheap
INC_paging := -Iboot
INC_heap   :=
# kprintf and panic carry printf's format attribute: check every call's
# arguments, signedness included (uint64_t wants %lu or %lx, not %ld).
KCFLAGS += -Wformat=2 -Wformat-signedness
KLDFLAGS := -nostdlib -z noexecstack -znocombreloc -shared -Bsymbolic --no-undefined \
            -T $(LDSCRIPT) -L$(EFI_LIB)

HEAP_SRCS := heap/heap.c heap/index.c heap/check.c
LOADER_OBJS := $(patsubst %,$(B)/obj/%.o,$(wildcard efi/*.c))
KERNEL_OBJS := $(patsubst %,$(B)/obj/%.o,$(wildcard kernel/*.c kernel/*.S paging/*.c) \
                 $(HEAP_SRCS)) $(B)/obj/font.o
folder = $(firstword $(subst /, ,$(1)))

$(B)/obj/%.c.o: %.c | deps
	$(call say,CC,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(KCFLAGS) $(INC_$(call folder,$<)) -MMD -MP -c $< -o $@

$(B)/obj/%.S.o: %.S | deps
	$(call say,AS,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(KCFLAGS) $(INC_$(call folder,$<)) -MMD -MP -c $< -o $@

# The console font comes from Debian's kbd package, embedded as-is.
$(B)/obj/font.o: | deps
	$(call say,FONT,$(FONT_PSF))
	$(Q)mkdir -p $(B)/obj
	$(Q)zcat $(FONT_PSF) > $(B)/obj/font.psf
	$(Q)cd $(B)/obj && $(OBJCOPY) -I binary -O elf64-x86-64 -B i386:x86-64 \
	    --rename-section .data=.rodata,alloc,load,readonly,data,contents \
	    font.psf font.o

# --- The seam: the kernel as one object that needs nothing of gnu-efi -------
# kernel/, paging/ and heap/ linked into build/kernel.o first; its
# undefined symbols must be on boot/check-seam.sh's allow-list, and the
# loader may use of kernel/ and heap/ only what boot/boot_info.h offers.
# Then our memset/memcpy (kernel/mem.c) are made local, so the loader's
# copies from libefi never clash with them.
SEAM := boot/check-seam.sh
KERNEL_SIDE_OBJS = $(filter $(B)/obj/kernel/% $(B)/obj/heap/%,$(KERNEL_OBJS))

$(B)/kernel.o: $(KERNEL_OBJS) $(LOADER_OBJS) $(SEAM)
	$(call say,SEAM,$@)
	$(Q)$(LD) -r -z noexecstack $(KERNEL_OBJS) -o $@.all
	$(Q)$(SEAM) kernel $@.all
	$(Q)$(SEAM) loader "$(KERNEL_SIDE_OBJS)" $(LOADER_OBJS)
	$(Q)$(OBJCOPY) --localize-symbol=memset --localize-symbol=memcpy $@.all $@
	$(Q)rm -f $@.all

$(B)/BOOTX64.so: $(LOADER_OBJS) $(B)/kernel.o $(LDSCRIPT)
	$(call say,LD,$@)
	$(Q)$(LD) $(KLDFLAGS) $(EFI_CRT0) $(LOADER_OBJS) $(B)/kernel.o -o $@ -lefi -lgnuefi

$(B)/BOOTX64.EFI: $(B)/BOOTX64.so
	$(call say,OBJCOPY,$@)
	$(Q)$(OBJCOPY) -j .text -j .reloc -j .rodata -j .data -j .dynamic -j .dynsym \
	    -j .rel -j .rela -j '.rel.*' -j '.rela.*' -j .sbat \
	    --target efi-app-x86_64 --subsystem=10 $< $@
	$(Q)$(OBJCOPY) -O binary --only-section=.sbat $@ $@.sbat 2>/dev/null; \
	    head -c 7 $@.sbat | grep -qx 'sbat,1,' || { echo "$@: no .sbat section (shim refuses such an image; efi/sbat.c)"; rm -f $@ $@.sbat; exit 1; }; \
	    rm -f $@.sbat
	$(Q)ls -l $@ | awk '{ printf "  %-7s %s bytes\n", "SIZE", $$5 }'

# --- ESP images (mtools: no loop mounts, no root) ---------------------------
# esp.img: the firmware's removable-media path \EFI\BOOT\BOOTX64.EFI.
# esp-shell.img: the app at \BOOTX64.EFI, no \EFI\BOOT, so OVMF falls back
# to its built-in UEFI Shell, which runs startup.nsh with ARGS.
ARGS ?=
ESP_MB := 64

define make_fat
	$(Q)rm -f $(1) && truncate -s $(ESP_MB)M $(1)
	$(Q)mformat -i $(1) -F -v ESP ::
endef

# $(call removable_esp): $@ holds $< at \EFI\BOOT\BOOTX64.EFI.
define removable_esp
	$(call say,ESP,$@)
	$(call make_fat,$@)
	$(Q)mmd -i $@ ::/EFI ::/EFI/BOOT
	$(Q)mcopy -i $@ $< ::/EFI/BOOT/BOOTX64.EFI
endef

$(B)/esp.img: $(B)/BOOTX64.EFI
	$(call removable_esp)

$(B)/startup.nsh: esp/startup.nsh FORCE
	$(Q)sed 's|@ARGS@|$(ARGS)|' $< > $@.tmp
	$(Q)cmp -s $@.tmp $@ && rm $@.tmp || mv $@.tmp $@

$(B)/esp-shell.img: $(B)/BOOTX64.EFI $(B)/startup.nsh
	$(call say,ESP,$@)
	$(call make_fat,$@)
	$(Q)mcopy -i $@ $< ::/BOOTX64.EFI
	$(Q)mcopy -i $@ $(B)/startup.nsh ::/startup.nsh

# --- Secure Boot: signed images (sbsigntool) -------------------------------
# make sign: build/signed/BOOTX64.EFI, signed with KEY and CERT, and
# build/esp-signed.img holding it on the removable path.  See
# docs/secure-boot.md.
#
# The default pair is Debian ovmf's snakeoil test key, which
# OVMF_VARS_4M.snakeoil.fd has enrolled.  It is FOR TESTS ONLY: its
# private key is public (password "snakeoil"), so a signature made with it
# proves nothing.  On a real PC, enrol a key of your own (make keys) and
# sign with it: make sign KEY=keys/db.key CERT=keys/db.crt
DEB_PKGS += sbsigntool openssl
SNAKEOIL_KEY  := /usr/share/ovmf/PkKek-1-snakeoil.key
SNAKEOIL_CERT := /usr/share/ovmf/PkKek-1-snakeoil.pem
KEY  ?= $(SNAKEOIL_KEY)
CERT ?= $(SNAKEOIL_CERT)
# sbsign cannot be given a password: the test key is used decrypted.
SNAKEOIL_PLAIN := $(B)/signed/snakeoil.key
SIGN_KEY = $(if $(filter $(SNAKEOIL_KEY),$(KEY)),$(SNAKEOIL_PLAIN),$(KEY))

$(SNAKEOIL_PLAIN): | deps
	$(Q)mkdir -p $(dir $@)
	$(Q)umask 077 && openssl pkey -in $(SNAKEOIL_KEY) -passin pass:snakeoil -out $@

# Which pair signed build/signed/: a change of KEY or CERT signs again.
$(B)/signed/with: FORCE
	$(Q)mkdir -p $(dir $@)
	$(Q)echo '$(KEY) $(CERT)' > $@.tmp
	$(Q)cmp -s $@.tmp $@ && rm $@.tmp || mv $@.tmp $@

# $(call sign_efi,KEY,CERT): $@ is $< signed; sbverify checks the
# signature against CERT at once, so a key that is not CERT's is caught
# here.  Their output goes to $@.log, shown only on failure: both warn of
# "gaps between PE/COFF sections", which is the COFF symbol table objcopy
# leaves at the end of the file; it is signed like the rest (Authenticode
# hashes the bytes after the last section too).
define sign_efi
	$(call say,SIGN,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)sbsign --key $(1) --cert $(2) --output $@ $< >$@.log 2>&1 || { cat $@.log; exit 1; }
	$(Q)sbverify --cert $(2) $@ >>$@.log 2>&1 || { cat $@.log; rm -f $@; exit 1; }
endef

$(B)/signed/BOOTX64.EFI: $(B)/BOOTX64.EFI $(B)/signed/with $(SIGN_KEY) $(CERT)
	$(call sign_efi,$(SIGN_KEY),$(CERT))

$(B)/esp-signed.img: $(B)/signed/BOOTX64.EFI
	$(call removable_esp)

# The QEMU suite's own copy, always signed with the test key, so that a
# `make sign KEY=...` of yours is never overwritten by `make test`.
TEST_SIGNED := $(B)/test-signed/esp.img
$(B)/test-signed/BOOTX64.EFI: $(B)/BOOTX64.EFI $(SNAKEOIL_PLAIN)
	$(call sign_efi,$(SNAKEOIL_PLAIN),$(SNAKEOIL_CERT))

$(TEST_SIGNED): $(B)/test-signed/BOOTX64.EFI
	$(call removable_esp)

.PHONY: sign keys
sign: $(B)/esp-signed.img

# make keys: a fresh RSA-2048 key pair (most firmware takes no larger)
# for a user who enrols their own keys.  Written to KEYS_DIR, outside
# build/ so make clean never deletes a key a PC trusts; keys/ is in
# .gitignore.  An existing key is never overwritten.
KEYS_DIR ?= keys
keys: | deps
	$(Q)if [ -e $(KEYS_DIR)/db.key ] || [ -e $(KEYS_DIR)/db.crt ]; then \
	    echo "keys: $(KEYS_DIR)/db.key or db.crt exists; not overwriting it."; \
	    echo "      Move it away, or choose another folder: make keys KEYS_DIR=..."; exit 1; fi
	$(Q)mkdir -p $(KEYS_DIR)
	$(Q)umask 077 && openssl req -new -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 \
	    -subj "/CN=BOOTX64.EFI signing key ($$(hostname), $$(date +%F))/" \
	    -keyout $(KEYS_DIR)/db.key -out $(KEYS_DIR)/db.crt 2>/dev/null
	$(Q)openssl x509 -in $(KEYS_DIR)/db.crt -outform DER -out $(KEYS_DIR)/db.cer
	$(Q)chmod 644 $(KEYS_DIR)/db.crt $(KEYS_DIR)/db.cer
	@echo "keys: wrote $(KEYS_DIR)/db.key (private: keep it secret, it is not encrypted),"
	@echo "      $(KEYS_DIR)/db.crt (PEM, for make sign) and $(KEYS_DIR)/db.cer (DER, to enrol)."
	@echo "      Sign: make sign KEY=$(KEYS_DIR)/db.key CERT=$(KEYS_DIR)/db.crt"
	@echo "      Enrol db.cer in your PC's firmware: docs/secure-boot.md"

.PHONY: all FORCE
all: $(B)/BOOTX64.EFI $(B)/esp.img
FORCE:

# --- Running ------------------------------------------------------------------
RUNNER := python3 test/qemu/qemu.py
MEM ?= 256M
# CPUs: two by default, as any PC has and as the test suite boots;
# make run SMP=4 for four, SMP=1 for the one-CPU kernel (multi-threaded TCG).
SMP ?= 2

.PHONY: run debug
run: all $(B)/esp-shell.img
	$(Q)$(RUNNER) run --mem $(MEM) --smp $(SMP) $(if $(strip $(ARGS)),--shell,) 

debug: all $(B)/esp-shell.img
	$(Q)$(RUNNER) debug --mem $(MEM) --smp $(SMP) $(if $(strip $(ARGS)),--shell,)

# --- Host tests (cmocka, ASan + UBSan) --------------------------------------
HOST_CC     ?= clang
HOST_CFLAGS := -std=c11 -g -O1 -Wall -Wextra -Werror -fno-omit-frame-pointer \
               -fsanitize=address,undefined -fno-sanitize-recover=all \
               -Iboot -Iefi -Ipaging -Iheap -Itest/reference
# Every host test links the whole freestanding part of the project, and
# the reference list heap that the fast heap is tested against.
HOST_SRCS   := efi/options.c efi/exitloop.c $(wildcard paging/*.c) $(HEAP_SRCS) \
               test/reference/list_heap.c test/reference/heap_pair.c
# Test-only code that reaches inside paging/ (never linked into the kernel).
TEST_ONLY_SRCS := test/host/fixtures/frames_reserve.c
HOST_SRCS   += $(TEST_ONLY_SRCS)
HOST_TESTS  := $(patsubst test/host/%.c,$(B)/host/%,$(wildcard test/host/test_*.c)) \
               $(B)/host/test_heap_poison

$(B)/host/%: test/host/%.c $(HOST_SRCS) $(wildcard */*.h) | deps
	$(call say,HOSTCC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $< $(HOST_SRCS) -o $@ -lcmocka

# The framebuffer console on the host, with the real font object, beside
# the paging code it must agree with (test/host/test_fbcon.c).
$(B)/host/test_fbcon: test/host/test_fbcon.c kernel/fbcon.c $(B)/obj/font.o $(HOST_SRCS) \
                      $(wildcard */*.h) | deps
	$(call say,HOSTCC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Ikernel $< kernel/fbcon.c $(B)/obj/font.o $(HOST_SRCS) \
	    -Wl,-z,noexecstack -o $@ -lcmocka

# The kernel's printf (kernel/format.c) against the C library's
# (test/host/test_format.c); format.c is freestanding, built as it is.
$(B)/host/test_format: test/host/test_format.c kernel/format.c kernel/format.h | deps
	$(call say,HOSTCC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Ikernel $< kernel/format.c -o $@ -lcmocka

# The kernel's check of the boot_info it is handed (kernel/handoff.c).
$(B)/host/test_handoff: test/host/test_handoff.c kernel/handoff.c kernel/format.c \
                        boot/boot_info.h kernel/kernel.h | deps
	$(call say,HOSTCC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Ikernel $< kernel/handoff.c kernel/format.c -o $@ -lcmocka

# The loader's Secure Boot decision (efi/secureboot.c), plain C.
$(B)/host/test_secureboot: test/host/test_secureboot.c efi/secureboot.c efi/secureboot.h | deps
	$(call say,HOSTCC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $< efi/secureboot.c -o $@ -lcmocka
# The loader's checks of the RSDP and the framebuffer size (efi/fwcheck.c),
# plain C, and the framebuffer window's bound (an inline in paging/layout.h).
$(B)/host/test_fwcheck: test/host/test_fwcheck.c efi/fwcheck.c efi/fwcheck.h boot/boot_info.h \
                        paging/layout.h paging/mmu.h paging/memblock.h | deps
	$(call say,HOSTCC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) $< efi/fwcheck.c -o $@ -lcmocka

# The heap picture (kernel/heapbar.c, pure) drawn into host buffers.
# The kernel's heap policy (kernel/kheap.c, included by the test) over a
# window the test maps at HEAP_START; the frame count and kmap are the
# test's own, so no paging/ code is linked (test/host/test_kheap.c).
$(B)/host/test_kheap: test/host/test_kheap.c kernel/kheap.c $(HEAP_SRCS) $(wildcard */*.h) | deps
	$(call say,HOSTCC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Ikernel $< $(HEAP_SRCS) -o $@ -lcmocka

$(B)/host/test_heapbar: test/host/test_heapbar.c kernel/heapbar.c $(HOST_SRCS) \
                        $(wildcard */*.h) | deps
	$(call say,HOSTCC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Ikernel $< kernel/heapbar.c $(HOST_SRCS) -o $@ -lcmocka

# `make test` runs both halves and ends with one summary line.
# Debian's python3 (not whatever python3 is first on PATH): python3-tap is
# installed for it.
TESTER := /usr/bin/python3 test/run_tests.py

# The heap tests again, in a second build of the heap: the checked one
# that poisons freed memory, with the index scanned one entry at a time as
# the kernel scans it (HEAP_SCALAR: no SSE2 in the kernel).
$(B)/host/test_heap_poison: test/host/test_heap.c $(HOST_SRCS) $(wildcard */*.h) | deps
	$(call say,HOSTCC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -DHEAP_POISON -DHEAP_SCALAR $< $(HOST_SRCS) -o $@ -lcmocka

# --- The test judge's fixture ------------------------------------------------
# A cmocka program that misbehaves on request (test/judge/test_cmocka_tap.py).
JUDGE_FIXTURE := $(B)/judge/judge_fixture

$(JUDGE_FIXTURE): test/judge/fixtures/judge_fixture.c | deps
	$(call say,HOSTCC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(HOST_CC) -std=c11 -O1 -Wall -Wextra -Werror $< -o $@ -lcmocka

.PHONY: test host-test qemu-test
# Every result is read by the judge (test/run_tests.py): the cmocka
# binaries, the fuzzers' smoke run and the LD_PRELOAD checks (TAP), the
# judge's own tests, then the QEMU boots (KTAP).  One summary line.
test: deps
	$(Q)$(MAKE) --no-print-directory $(HOST_TESTS) $(JUDGE_FIXTURE) all $(TEST_SIGNED) $(FUZZ_BINS) $(PRELOAD_BUILT)
	$(Q)$(TESTER) $(HOST_TESTS) --tap "$(FUZZ_SMOKE)" --tap "$(PRELOAD_CHECK)" $(if $(ONLY),--only $(ONLY),)

host-test: $(HOST_TESTS) $(JUDGE_FIXTURE)
	$(Q)$(TESTER) --no-qemu $(HOST_TESTS)

qemu-test: all $(TEST_SIGNED)
	$(Q)$(TESTER) --no-host $(if $(ONLY),--only $(ONLY),)

# --- Benchmarks and fuzzing ---------------------------------------------------
BENCH_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Iboot -Iefi -Ipaging -Iheap

$(B)/bench/%: test/bench/%.c $(HOST_SRCS) | deps
	$(Q)mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(BENCH_CFLAGS) $< $(HOST_SRCS) -o $@ -lm

# --- Heap benchmark: ours, the list reference, glibc, jemalloc, mimalloc -----
# An explicit rule, so it beats the pattern above: more sources, -Werror,
# and DWARF 4 (valgrind 3.19 cannot read clang 14's DWARF 5).
BENCH_HEAP_SRCS := test/bench/bench_heap.c test/bench/bench_alloc.c \
                   test/bench/bench_report.c $(HEAP_SRCS) test/reference/list_heap.c
$(B)/bench/bench_heap: $(BENCH_HEAP_SRCS) $(wildcard test/bench/*.h heap/*.h test/reference/*.h) | deps
	$(call say,HOSTCC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(BENCH_CFLAGS) -gdwarf-4 -Werror -Itest/reference $(BENCH_HEAP_SRCS) -o $@

# A minimal EFI app, booted beside ours to measure our boot's overhead.
$(B)/HELLO.EFI: test/bench/hello_efi.c | deps
	$(call efi_app,bench/hello)

.PHONY: bench
bench: $(B)/bench/bench_heap $(B)/bench/bench_frames $(B)/HELLO.EFI all
	$(Q)$(B)/bench/bench_heap
	$(Q)$(B)/bench/bench_frames
	$(Q)$(RUNNER) bench-boot

# --- Fuzzing (libFuzzer, ASan + UBSan); see docs/testing.md -----------------
# make fuzz [FUZZ_TARGET=fuzz_memmap] [FUZZ_SECONDS=600]: run each target for
# FUZZ_SECONDS, new inputs in build/fuzz/corpus/<target>, the committed
# seeds (test/fuzz/corpus/<target>) read as well, crashes written to
# build/fuzz/<target>-crash-*.  make fuzz-smoke: the short run make test does.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := fuzz_heap fuzz_heap_diff fuzz_memmap fuzz_pagetable
FUZZ_TARGETS += fuzz_format fuzz_acpi
FUZZ_TARGET ?= $(FUZZ_TARGETS)
FUZZ_BINS := $(patsubst %,$(B)/fuzz/%,$(FUZZ_TARGETS))
FUZZ_CFLAGS := -std=c11 -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined \
               -fno-sanitize-recover=all -Iboot -Iefi -Ipaging -Iheap -Itest/host -Itest/reference
# The code under test, per target.
FUZZ_SRCS_fuzz_heap := $(HEAP_SRCS)
FUZZ_SRCS_fuzz_heap_diff := $(HEAP_SRCS) test/reference/list_heap.c test/reference/heap_pair.c
FUZZ_SRCS_fuzz_memmap := $(wildcard paging/*.c) $(TEST_ONLY_SRCS)
FUZZ_SRCS_fuzz_pagetable := $(wildcard paging/*.c)
# The kernel's printf against snprintf: kernel/format.c alone.
FUZZ_SRCS_fuzz_format := kernel/format.c
$(B)/fuzz/fuzz_format: kernel/format.c kernel/format.h
$(B)/fuzz/fuzz_format: FUZZ_CFLAGS += -Ikernel
# The ACPI walk (kernel/acpi.c, pure C over bytes; docs/smp.md).
FUZZ_SRCS_fuzz_acpi := kernel/acpi.c
$(B)/fuzz/fuzz_acpi: kernel/acpi.c kernel/acpi.h
$(B)/fuzz/fuzz_acpi: FUZZ_CFLAGS += -Ikernel
# fuzz_memmap hands out every frame of the map each run: comparison
# tracing in that loop costs 4x the executions, for little guidance.
FUZZ_COV_fuzz_memmap := -fno-sanitize-coverage=trace-cmp

# Only the code under test is instrumented for coverage: the harness and
# its model are built without it, so an input is "new" only when it
# reaches something new in heap/ or paging/.
$(B)/fuzz/%: test/fuzz/%.c $(wildcard heap/* paging/* boot/boot_info.h test/host/fixtures/sim.h test/reference/*) \
             $(TEST_ONLY_SRCS) test/host/fixtures/frames_reserve.h test/fuzz/fuzz_check.h | deps
	$(call say,FUZZCC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)clang $(FUZZ_CFLAGS) -c $< -o $@.harness.o
	$(Q)clang $(FUZZ_CFLAGS) -fsanitize=fuzzer $(FUZZ_COV_$*) $@.harness.o $(FUZZ_SRCS_$*) -o $@

.PHONY: fuzz fuzz-smoke
fuzz: $(patsubst %,$(B)/fuzz/%,$(FUZZ_TARGET))
	$(Q)test/fuzz/run.sh fuzz $(FUZZ_SECONDS) $(B)/fuzz $(FUZZ_TARGET)

# Replay every committed input (seeds and regress-* reproducers), then a
# short fixed-seed run per target: the same inputs every time.  One TAP
# line per target; non-zero exit on any failure.
FUZZ_SMOKE = test/fuzz/run.sh smoke $(B)/fuzz $(FUZZ_TARGETS)
fuzz-smoke: $(FUZZ_BINS)
	$(Q)$(FUZZ_SMOKE)

# --- Small test applications: FRAG.EFI, BOOTOPT.EFI, GOPSIZE.EFI --------------
# $(call efi_app,DIR/NAME): $@ from $<, a plain gnu-efi application linked
# with gnu-efi's own linker script (not ours: nothing of the kernel).
define efi_app
	$(call say,EFI,$@)
	$(Q)mkdir -p $(B)/obj/$(dir $(1))
	$(Q)$(CC) $(KCFLAGS) $(EFI_CFLAGS) -c $< -o $(B)/obj/$(1).o
	$(Q)$(LD) -nostdlib -z noexecstack -znocombreloc -shared -Bsymbolic \
	    -T $(EFI_LIB)/elf_x86_64_efi.lds -L$(EFI_LIB) $(EFI_CRT0) $(B)/obj/$(1).o \
	    -o $(B)/obj/$(1).so -lefi -lgnuefi
	$(Q)$(OBJCOPY) -j .text -j .sdata -j .data -j .dynamic -j .dynsym -j .rel -j .rela \
	    -j '.rel.*' -j '.rela.*' -j .reloc --target efi-app-x86_64 --subsystem=10 \
	    $(B)/obj/$(1).so $@
endef

# FRAG.EFI fragments the firmware's memory map before BOOTX64.EFI runs
# (the frag_* QEMU cases); see test/qemu/frag_efi.c.
$(B)/FRAG.EFI: test/qemu/frag_efi.c test/qemu/efi_tool.h | deps
	$(call efi_app,test/frag)

# BOOTOPT.EFI starts BOOTX64.EFI as a boot entry with options would (the
# entry_options_* QEMU cases); see test/qemu/bootopt_efi.c.
$(B)/BOOTOPT.EFI: test/qemu/bootopt_efi.c test/qemu/efi_tool.h | deps
	$(call efi_app,test/bootopt)

# GOPSIZE.EFI makes the GOP a loader would take report too small a
# framebuffer (the gop_size_* QEMU cases); see test/qemu/gopsize_efi.c.
$(B)/GOPSIZE.EFI: test/qemu/gopsize_efi.c test/qemu/efi_tool.h | deps
	$(call efi_app,test/gopsize)

all: $(B)/FRAG.EFI $(B)/BOOTOPT.EFI $(B)/GOPSIZE.EFI

# --- The heap as a process's malloc (LD_PRELOAD) ----------------------------
# Only the malloc family is exported (-fvisibility=hidden); -fno-builtin so
# gcc never turns our own code into calls to malloc or calloc.
PRELOAD_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -fPIC -fvisibility=hidden \
                  -fno-builtin -pthread -Iheap
PRELOAD_BUILT  := $(B)/libheap-preload.so $(B)/preload/cases
PRELOAD_CHECK  := python3 test/preload/check.py

$(B)/libheap-preload.so: test/preload/preload.c $(HEAP_SRCS) $(wildcard heap/*.h) | deps
	$(call say,CC,$@)
	$(Q)mkdir -p $(B)
	$(Q)$(CC) $(PRELOAD_CFLAGS) -shared -Wl,-z,defs test/preload/preload.c $(HEAP_SRCS) -o $@

# cases links forklib, a library whose constructor registers fork
# handlers that allocate (test/preload/forklib.c), found beside it.
$(B)/preload/libforklib.so: test/preload/forklib.c | deps
	$(call say,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) -std=c11 -O1 -g -Wall -Wextra -Werror -fno-builtin -fPIC -shared -pthread $< -o $@

$(B)/preload/cases: test/preload/cases.c $(B)/preload/libforklib.so | deps
	$(call say,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) -std=c11 -O1 -g -Wall -Wextra -Werror -fno-builtin -pthread $< \
		-L$(B)/preload -lforklib -Wl,-rpath,'$$ORIGIN' -o $@

.PHONY: preload preload-test bench-preload
preload: $(B)/libheap-preload.so

preload-test: $(PRELOAD_BUILT)
	$(Q)$(PRELOAD_CHECK)

bench-preload: $(B)/libheap-preload.so
	$(Q)python3 test/preload/bench.py

# --- Screenshots (docs/screen.md) ---------------------------------------------
# QMP screendumps of pause=key stops, made PNG by netpbm.
DEB_PKGS += netpbm

.PHONY: screenshot
screenshot: all
	$(Q)/usr/bin/python3 test/qemu/screenshots.py

.PHONY: clean
clean:
	rm -rf $(B)

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)

# --- SMP: the ACPI walk, host-tested (docs/smp.md); fuzz_acpi is above -----
# kernel/acpi.c is pure C over bytes, like kernel/handoff.c: built on the
# host beside its test.
$(B)/host/test_acpi: test/host/test_acpi.c kernel/acpi.c kernel/acpi.h | deps
	$(call say,HOSTCC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(HOST_CC) $(HOST_CFLAGS) -Ikernel $< kernel/acpi.c -o $@ -lcmocka

