"""cases.py - the QEMU boot suite: what each boot runs and must show.

A case boots either its own copy of a removable-media image (build/esp.img:
the firmware starts \\EFI\\BOOT\\BOOTX64.EFI with no arguments) or a shell
image made for it: BOOTX64.EFI at the root and a startup.nsh holding the
case's shell lines, so the firmware falls back to the UEFI Shell.  Its
firmware is plain OVMF (Secure Boot in setup mode) unless it names
another (qemu.firmware_args(); the Secure Boot cases at the end).
"""
import os
import subprocess
from dataclasses import dataclass, field

import qemu
import tamper

EFI = os.path.join(qemu.BUILD, "BOOTX64.EFI")
HEAP_ADDR = r"0x4444444[0-9A-F]{5}\b"


@dataclass
class Case:
    name: str
    shell: list = None          # startup.nsh lines; None: removable path
    status: int = qemu.EXIT_PASS
    ending: str = "debug-exit"  # qemu.ending_of(): how QEMU must stop
    skips: list = field(default_factory=list)    # KTAP tests that must SKIP
    expect: list = field(default_factory=list)   # regexes that must match
    reject: list = field(default_factory=list)   # regexes that must not
    ktap: bool = True
    allow_panic: bool = False
    mem: str = "256M"
    machine: str = "q35"
    cpu: str = "qemu64"
    smp: int = 2                # QEMU -smp: two CPUs, as any PC has; > 1 runs multi-threaded TCG
    timeout: int = 180
    firmware: str = "ovmf"      # qemu.firmware_args(): ovmf, snakeoil, snakeoil-off
    esp: str = "esp.img"        # the removable-path image under build/
    stop_at: str = None         # a regex: stop QEMU there (ending "stop-line")
    stops: list = None  # pause=key stops, in order: screendumps checked by screen.py
    devices: list = field(default_factory=list)  # more QEMU arguments: -device ...
    expect_raw: list = field(default_factory=list)  # regexes on serial with its ANSI codes
    reject_raw: list = field(default_factory=list)  # ... that must not match

    def may_skip(self):
        """SKIPs that are right without being asked for: with one CPU the
        smp_ tests that need a second one."""
        return SMP_ONLY_TESTS if self.smp == 1 else []

    def image(self):
        if self.shell is None:
            return private_copy(self.name, os.path.join(qemu.BUILD, self.esp))
        return make_shell_image(self.name, self.shell)


def case_file(name, ext=".img"):
    """build/test-esp/NAME.img (or another ext): a case's own files."""
    d = os.path.join(qemu.BUILD, "test-esp")
    os.makedirs(d, exist_ok=True)
    return os.path.join(d, name + ext)


def private_copy(name, img):
    """A copy of img for one case.  QEMU locks the image it boots, so two
    cases booting the same file at the same time would fail to start."""
    copy = case_file(name)
    subprocess.run(["cp", "--sparse=always", img, copy], check=True)
    return copy


def new_fat_image(img):
    """An empty 64 MiB FAT image at img (mtools: no loop mount, no root)."""
    if os.path.exists(img):
        os.remove(img)
    subprocess.run(["truncate", "-s", "64M", img], check=True)
    subprocess.run(["mformat", "-i", img, "-F", "-v", "TEST", "::"], check=True)


def make_removable_image(img, efi):
    """A FAT image at img with efi as \\EFI\\BOOT\\BOOTX64.EFI: the path a
    firmware boots from a disk it has no boot entry for."""
    new_fat_image(img)
    subprocess.run(["mmd", "-i", img, "::/EFI", "::/EFI/BOOT"], check=True)
    subprocess.run(["mcopy", "-i", img, efi, "::/EFI/BOOT/BOOTX64.EFI"], check=True)
    return img


def make_shell_image(name, lines, efi=EFI, target="BOOTX64.EFI"):
    """A FAT image with the app and startup.nsh at its root (mtools)."""
    img, nsh = case_file(name), case_file(name, ".nsh")
    with open(nsh, "w") as f:
        f.write("@echo -off\nfs0:\n" + "\n".join(lines) + "\n")
    new_fat_image(img)
    subprocess.run(["mcopy", "-i", img, efi, "::/" + target], check=True)
    subprocess.run(["mcopy", "-i", img, nsh, "::/startup.nsh"], check=True)
    return img


def selftest(name, args="", **kw):
    return Case(name, shell=["BOOTX64.EFI selftest %s exit=qemu" % args], **kw)


def crash(kind, expect, pause=False, **kw):
    """A crash case; pause: also read its report off the screen (screen.py)."""
    if pause:
        kw["stops"] = ["verdict"]
    return Case("crash_" + kind.replace("-", "_"),
                shell=["BOOTX64.EFI crash %s%s exit=qemu" % (kind, " pause=key" if pause else "")],
                status=qemu.EXIT_FAIL, ktap=False, expect=expect, **kw)


# The smp_ self-tests that need a second CPU: on one they SKIP.
SMP_ONLY_TESTS = ["smp_cpus_online_each_own_data", "smp_heap_stress_all_cpus",
                  "smp_frames_and_tables_all_cpus", "smp_tlb_shootdown_reaches_all"]

# What the kernel says about OVMF: memory types, global pages, runtime
# code W^X from the memory attributes table, boot-services memory reclaimed.
FIRMWARE_LINES = [
    r"^vm: PAT WB WT UC- UC WC WT UC- UC, global pages on",
    r"^vm: runtime code W\^X from the EFI memory attributes table \(\d+ entries\): 0 RWX pages",
    r"^vm:   framebuffer {10}0xFFFFFE0000000000 .* WC$",  # left-aligned name column
    r"^vm: boot-services memory reclaimed: [1-9]\d* of [1-9]\d* pages",
]

CASES = [
    # The removable-media path: no arguments, the demo then every
    # self-test, and the default exit (shutdown: QEMU ends with 0).
    Case("removable_default_boot", status=0, ending="shutdown", expect=[
        r"^loader: exiting boot services", r"^kernel: boot services exited",
        r"^boot: framebuffer \d+x\d+", r"^boot: ACPI RSDP at 0x[0-9A-F]+ \(ACPI 2\.0\+\)",
        r"^memmap: \d+ entries", r"^memmap: conventional memory \d+ MiB",
        r"^demo: heap_value at " + HEAP_ADDR, r"^demo: vec at " + HEAP_ADDR,
        r"^demo: current reference count is 2$", r"^demo: reference count is 1 now$",
        r"^demo: It did not crash!$", r"^kernel: run PASSED$"] + FIRMWARE_LINES + [
        # Debian's plain OVMF has Secure Boot built in and no key enrolled.
        r"^loader: Secure Boot setup mode$"],
        # OVMF's RSDP and GOP pass the loader's checks (efi/fwcheck.c):
        # no note that one was refused or the screen clamped.
        reject=[r"EXCEPTION:", r"ResetSystem returned", r"^loader: .*(RSDP|GOP framebuffer)"],
        # Without color=on, the kernel's serial is plain text (the
        # firmware's, before the exit, has its own ANSI codes).
        reject_raw=[r"\x1b\[[0-9;]*m(ok |not ok |kernel: run )"]),

    # The shell path: bad command lines are refused before
    # ExitBootServices with a message, and the shell goes on to the next
    # line, which runs the self-tests with options.
    Case("shell_errors_then_selftest", shell=[
        "BOOTX64.EFI frobnicate",
        "echo shell-alive-1",
        "BOOTX64.EFI heap=12Q",
        "echo shell-alive-2",
        "BOOTX64.EFI selftest no_such_test",
        "echo shell-alive-3",
        "BOOTX64.EFI exit=sideways",
        "echo shell-alive-4",
        "BOOTX64.EFI selftest heap=4M exit=qemu",
    ], expect=[
        r"BOOTX64.EFI: unknown command 'frobnicate'", r"^shell-alive-1",
        r"BOOTX64.EFI: heap=: not a size: '12Q'", r"^shell-alive-2",
        r"no test name starts with 'no_such_test'", r"^shell-alive-3",
        r"exit=: unknown mode 'sideways'", r"^shell-alive-4",
        r"^kheap: 4096 KiB at 0x444444440000", r"^kernel: run PASSED$"],
        reject=[r"^demo:"]),

    # More memory than the machine has: refused at the shell.
    Case("shell_heap_too_big", mem="128M", shell=[
        "BOOTX64.EFI heap=1G exit=qemu",
        "echo shell-alive-after-oom",
        "BOOTX64.EFI selftest boot_ exit=qemu",
    ], expect=[r"too little conventional memory", r"^shell-alive-after-oom",
               r"^ok \d+ boot_frames_only_conventional"]),

    # Each refusal at the shell gives back what the loader took: after
    # 150 of them the pages below 640 KiB that start the other CPUs are
    # still there (two per try, before).
    Case("shell_refusals_give_back", mem="128M", ktap=False, shell=[
        "for %a run (1 150)",
        "  BOOTX64.EFI heap=1G exit=qemu",
        "endfor",
        "BOOTX64.EFI cpus exit=qemu",
    ], expect=[r"too little conventional memory", r"^cpus: 2 found, 2 started"],
       reject=[r"no free pages below 640 KiB"]),

    # One test by name prefix.
    selftest("selftest_by_name", "heap_random", expect=[r"^1\.\.1$", r"^ok 1 heap_random_stress$"]),

    # Every heap= the loader accepts must pass every self-test: a heap
    # larger than the 16 MiB the growth test once assumed, and a small
    # machine whose heap takes most of its memory.
    selftest("selftest_heap_32m", "heap=32M", expect=[r"^kheap: 32768 KiB at 0x444444440000"]),
    selftest("selftest_64m_heap_8m", "heap=8M", mem="64M",
             expect=[r"^kheap: 8192 KiB at 0x444444440000"]),

    # A CPU without NX: W^X cannot hold, so its test must say SKIP (and
    # the rest must pass).
    selftest("selftest_no_nx", "", cpu="qemu64,-nx", skips=["paging_write_xor_execute"],
             expect=[r"^vm: NX off", r"^ok \d+ paging_write_xor_execute # SKIP "]),

    # exit=reboot goes through ResetSystem; -no-reboot turns it into an
    # exit, and QMP tells it from a power-off.  Both ResetSystem cases run
    # after boot-services memory was reclaimed and poisoned: the
    # firmware's runtime code must not need it.
    Case("exit_reboot", shell=["BOOTX64.EFI selftest boot_ exit=reboot"], status=0, ending="reset",
         expect=[r"^kernel: run PASSED$"] + FIRMWARE_LINES,
         reject=[r"EXCEPTION:", r"ResetSystem returned"]),

    # CPU exceptions are reported, then the run fails cleanly (QEMU 35).
    crash("null", [r"EXCEPTION: vector 14, #PF page fault", r"page not present, read",
                   r"CR2 = 0x0$", r"NULL pointer dereference", r"0x0 is not mapped"]),
    crash("write-code", [r"EXCEPTION: vector 14, #PF", r"protection violation, write",
                         r"read-only, executable"]),
    crash("exec-heap", [r"EXCEPTION: vector 14, #PF", r"protection violation, instruction fetch",
                        r"CR2 = " + HEAP_ADDR, r"writable, no-execute"]),
    crash("stack-overflow", [r"EXCEPTION: vector 8, #DF double fault",
                             r"kernel stack overflow: the stack ran into its guard page"]),
    crash("double-free", [r"PANIC: kfree\(0x4444444[0-9A-F]{5}\): not a live block"],
          allow_panic=True, pause=True),
]

# The screen, read back from QEMU screendumps (test/qemu/screen.py): the
# heap session stops after each step and after the verdict; each heap
# picture must agree with the heap_stats it was drawn from, the verdict
# line must be green.  color=on puts ANSI colour on serial too: the
# judge reads through it.
# Two GPUs, as on a desktop with an integrated and a discrete one: edk2's
# console splitter then gives the console-out handle a GOP of its own
# that only does Blt, with no framebuffer, and the loader must look on
# the GPUs' own handles for one to draw on.
# (From the removable path: started from the UEFI Shell, OVMF's splitter
# still had a framebuffer here, and the old loader passed.)
CASES.append(Case("two_gpus_framebuffer", status=0, ending="shutdown",
                  devices=["-device", "bochs-display"],
                  expect=[r"^boot: framebuffer \d+x\d+ \(stride \d+ pixels, [BR]GRX\)",
                          FIRMWARE_LINES[2]]))

CASES.append(Case("screen_heapmap", shell=["BOOTX64.EFI heapmap pause=key color=on exit=qemu"],
                  stops=["heapmap-%d" % i for i in range(1, 7)] + ["verdict"],
                  expect=[r"^ok 6 heapmap_free_all$", r"^# heapview: \d+ pictures"],
                  expect_raw=[r"\x1b\[32mok 1 heapmap_fill\x1b\[0m\r\n",
                              r"\x1b\[32mkernel: run PASSED\x1b\[0m\r\n"]))

# The machine matrix: memory sizes (6 GiB puts RAM above 4 GiB), both
# chipsets, and a CPU without (qemu64) and with (max) 1 GiB pages.
for mem in ("128M", "1G", "6G"):
    for machine in ("q35", "pc"):
        for cpu in ("qemu64", "max"):
            expect = [r"^vm: NX on, 1 GiB pages %s" % ("on" if cpu == "max" else "off")]
            expect += FIRMWARE_LINES
            if mem == "6G":
                expect.append(r"direct map (\d{5,}|[5-9]\d{3}) MiB")
            CASES.append(selftest("matrix_%s_%s_%s" % (mem.lower(), machine, cpu), "",
                                  mem=mem, machine=machine, cpu=cpu, expect=expect))


# --- Fragmented memory maps -------------------------------------------------
# FRAG.EFI (test/qemu/frag_efi.c) runs from the shell first and leaves the
# firmware's map in pieces, as busy firmware does: hundreds of RAM pieces
# and thousands of 4 KiB free ranges must all be used, and a map with no
# 64 KiB free run must be refused before ExitBootServices, with a reason.
@dataclass
class ToolCase(Case):
    """A shell case whose image also holds test tools, build/NAME.EFI,
    at its root beside BOOTX64.EFI."""
    tools: list = field(default_factory=list)

    def image(self):
        img = make_shell_image(self.name, self.shell)
        for tool in self.tools:
            subprocess.run(["mcopy", "-i", img, os.path.join(qemu.BUILD, tool), "::/" + tool],
                           check=True)
        return img


def FragCase(name, **kw):
    return ToolCase(name, tools=["FRAG.EFI"], **kw)


CASES += [
    # 400 holes: over the old limits (64 RAM pieces, 256 free ranges).
    FragCase("frag_holes_400", shell=[
        "FRAG.EFI holes 400",
        "BOOTX64.EFI selftest exit=qemu",
    ], expect=[r"^frag: 400 holes punched", r"^memmap: \d{3,} entries",
               r"^frames: \d+ managed in (4\d\d|[5-9]\d\d|\d{4,}) ranges, \d+ of bookkeeping, "
               r"0 conventional pages left out$",
               r"^kernel: run PASSED$"]),
    FragCase("frag_no_stack_run", shell=["FRAG.EFI runs 60 24 BOOTX64.EFI"],
             ktap=False, expect=[
                 r"no 64 KiB run of free memory for the kernel stack \(largest run: 60 KiB\)",
                 r"^frag: BOOTX64.EFI returned"],
             reject=[r"exiting boot services"]),
]


# --- A GOP whose FrameBufferSize is too small -----------------------------------
# GOPSIZE.EFI (test/qemu/gopsize_efi.c) cuts a GOP's FrameBufferSize to
# one scan line short of its mode's span, as buggy firmware reports it,
# then starts BOOTX64.EFI as a removable disk would.  Under the shell it
# cuts the first GPU's GOP; beside it stands a whole one (with one GPU,
# the console splitter's copy of the same framebuffer; with two, the
# second GPU's), and the loader must draw on that one, whole (an older
# loader took the cut one and kept a row fewer).  With every GOP cut,
# it keeps the rows that fit.
def GopsizeCase(name, args, **kw):
    return ToolCase(name, tools=["GOPSIZE.EFI"], shell=["GOPSIZE.EFI %sBOOTX64.EFI" % args],
                    status=0, ending="shutdown", **kw)


GOP_CUT = r"^gopsize: FrameBufferSize of the \d+x\d+ GOP at 0x[0-9A-F]+ cut to \d+ bytes$"
GOP_CLAMPED = (r"^loader: GOP framebuffer is \d+ bytes, its mode spans \d+ "
               r"\(FrameBufferSize is smaller than the mode's span\): using \d+ of \d+ rows$")
GOP_WHOLE = [GOP_CUT, r"^boot: framebuffer \d+x\d+ \(stride \d+ pixels, [BR]GRX\)",
             r"^kernel: run PASSED$"]

CASES += [
    GopsizeCase("gop_size_one_gpu", "", expect=GOP_WHOLE,
                reject=[r"^loader: GOP framebuffer is", r"^gopsize: BOOTX64.EFI returned"]),
    GopsizeCase("gop_size_two_gpus", "", devices=["-device", "bochs-display"], expect=GOP_WHOLE,
                reject=[r"^loader: GOP framebuffer is", r"^gopsize: BOOTX64.EFI returned"]),
    GopsizeCase("gop_size_all", "-all ", expect=[GOP_CUT, GOP_CLAMPED, r"^kernel: run PASSED$"],
                reject=[r"^gopsize: BOOTX64.EFI returned"]),
]


# --- A boot entry's options -----------------------------------------------------
# BOOTOPT.EFI (test/qemu/bootopt_efi.c) starts BOOTX64.EFI as the boot
# manager starts an entry: LoadOptions set, no shell protocol.  Text
# options are a command line with no program name in front (efibootmgr
# -u); data is the entry's own and must not stop the boot.
def BootoptCase(name, **kw):
    return ToolCase(name, tools=["BOOTOPT.EFI"], **kw)


CASES += [
    BootoptCase("entry_options_text", shell=["BOOTOPT.EFI BOOTX64.EFI memmap exit=qemu"],
                ktap=False, expect=[r"^memmap: \d+ entries", r"^kernel: run PASSED$"],
                reject=[r"^demo:", r"^bootopt: BOOTX64.EFI returned"]),
    BootoptCase("entry_options_data", shell=["BOOTOPT.EFI -data BOOTX64.EFI"],
                status=0, ending="shutdown",
                expect=[r"^loader: the boot entry's options are not text: ignored$",
                        r"^demo: It did not crash!$", r"^kernel: run PASSED$"],
                reject=[r"^bootopt: BOOTX64.EFI returned"]),
]


# --- Secure Boot --------------------------------------------------------------
# Under the snakeoil firmware (Secure Boot on, Debian's test certificate
# enrolled) only an image signed with its key may run.  Its built-in
# shell is not signed with that key, so these cases use the removable
# path.  build/test-signed/esp.img is made by the Makefile (sbsign, the
# snakeoil key); the unsigned image is build/esp.img itself.
#
# A refused image is seen on serial: the boot manager says it failed to
# load the disk's boot option ("Access Denied"), falls through to the
# built-in shell (refused too: "Security Violation"), then says no boot
# option was found and waits for a key forever.  The case stops QEMU at
# that line, and not one line of our loader may have been printed.
SIGNED_EFI = os.path.join(qemu.BUILD, "test-signed", "BOOTX64.EFI")
SNAKEOIL_CERT = "/usr/share/ovmf/PkKek-1-snakeoil.pem"
REFUSED = [r'^BdsDxe: failed to load Boot\d{4} "UEFI QEMU HARDDISK [^"]*" from .*: Access Denied$',
           r'^BdsDxe: failed to start Boot\d{4} "EFI Internal Shell" from .*: Security Violation$']


NOTHING_BOOTED = r"^BdsDxe: No bootable option or device was found\.$"


# These firmware cases run on one CPU: under TCG every SMI gathers all
# CPUs into SMM, and with two the snakeoil firmware's boot got 5-10x
# slower (65 s instead of 10 s for secure_boot_off_runs_unsigned).
def refused(name, cls=Case, **kw):
    return cls(name, firmware="snakeoil", smp=1, status=0, ending="stop-line", ktap=False,
               stop_at=NOTHING_BOOTED, expect=REFUSED, reject=[r"^loader: "], timeout=60, **kw)


@dataclass
class TamperedCase(Case):
    """The signed image with one byte changed after signing (tamper.py)."""
    def image(self):
        efi, img = case_file(self.name, ".efi"), case_file(self.name)
        tamper.flip_one_byte(SIGNED_EFI, efi, SNAKEOIL_CERT)
        return make_removable_image(img, efi)


CASES += [
    # Signed with the enrolled key: runs, says so, and passes (the full
    # default boot: demo, then every self-test, then power-off).
    Case("secure_boot_signed_runs", firmware="snakeoil", smp=1, esp="test-signed/esp.img",
         status=0, ending="shutdown", timeout=120, stop_at=NOTHING_BOOTED,  # refused: fail fast
         expect=[r"^loader: Secure Boot on$", r"^kernel: run PASSED$"],
         reject=[r"Access Denied", r"Security Violation", r"EXCEPTION:"]),
    refused("secure_boot_unsigned_refused"),
    # The same keys, Secure Boot switched off as in a PC's setup menu: not
    # setup mode, and the unsigned image runs.
    Case("secure_boot_off_runs_unsigned", firmware="snakeoil-off", smp=1, status=0, ending="shutdown",
         timeout=120, stop_at=NOTHING_BOOTED,
         expect=[r"^loader: Secure Boot off$", r"^kernel: run PASSED$"],
         reject=[r"Access Denied", r"Security Violation", r"EXCEPTION:"]),
    refused("secure_boot_tampered_refused", cls=TamperedCase),
]


# --- SMP: every CPU from the MADT, the heap under real concurrency ---------
# -smp 1, 2, 4, 8 on both chipsets, multi-threaded TCG; only the smp_
# self-tests, so the matrix stays lean (8 vCPUs share this machine's 2
# cores).  Every CPU the MADT lists must come online.
for machine in ("q35", "pc"):
    for n in (1, 2, 4, 8):
        CASES.append(selftest(
            "smp_%d_%s" % (n, machine), "smp_", smp=n, machine=machine, timeout=420,
            skips=SMP_ONLY_TESTS if n == 1 else [],
            expect=[r"^acpi: MADT at 0x[0-9A-F]+ via the XSDT: %d processors" % n,
                    r"^smp: %d of %d CPUs online \(xAPIC\)" % (n, n),
                    r"^# smp_heap_scaling: %d CPUs, " % n]))

CASES += [
    # smp= is checked at the shell; smp=3 of 4 starts three and lists all.
    Case("smp_cpus_command", smp=4, timeout=240, ktap=False, shell=[
        "BOOTX64.EFI cpus smp=0",
        "echo shell-alive-smp",
        "BOOTX64.EFI cpus smp=3 exit=qemu",
    ], expect=[r"BOOTX64.EFI: smp=0: out of range \(1 to 64\)", r"^shell-alive-smp",
               r"^cpus: 4 found, 3 started$",
               r"^cpu: APIC id 0, ACPI uid 0, local APIC entry: online as CPU 0 \(the boot CPU\)$",
               r"^cpu: APIC id 2, ACPI uid 2, local APIC entry: online as CPU 2$",
               r"^cpu: APIC id 3, ACPI uid 3, local APIC entry: not started \(smp= limit\)$"]),
    # smp=1 on a machine of two: the one-CPU kernel, no trampoline taken.
    Case("smp_one_of_two", smp=2, ktap=False, shell=["BOOTX64.EFI cpus smp=1 exit=qemu"],
         expect=[r"^cpus: 2 found, 1 started$", r"^smp: 1 of 2 CPUs online"],
         reject=[r"online as CPU 1"]),
    # A fault on CPU 1: reported with its number, the boot CPU stopped
    # by NMI first, the run ends cleanly (QEMU 35).
    crash("ap-null", [r"EXCEPTION: vector 14, #PF page fault", r"^  on CPU 1 \(APIC id 1\) of 2 online$",
                      r"CR2 = 0x0$"], smp=2),
]
