"""bench_boot.py - what our loader and kernel add to a boot (a benchmark).

Boots, alternately and the same way (the UEFI Shell with a startup.nsh,
QEMU in TCG), a minimal EFI app that prints one line and exits, and
BOOTX64.EFI with `selftest boot_` (loader, ExitBootServices, our page
tables, heap, four self-tests).  Measures wall time from QEMU's start to
the last line on serial; prints medians of 5 and their ratio.  Then the
same for the removable-media path with the full default boot (demo and
every self-test).  Figures only: nothing here passes or fails.
"""
import os
import statistics

import qemu
from cases import make_removable_image, make_shell_image

RUNS = 5


def measure(image, name):
    b = qemu.boot(image, "bench_" + name, timeout=240)
    if b.timed_out or b.status not in (0, qemu.EXIT_PASS):
        raise SystemExit("bench: %s failed (status %s); see build/logs" % (name, b.status))
    return b.last_line_at


def pair(title, hello_img, ours_img):
    hello, ours = [], []
    for i in range(RUNS):  # alternate, so drift on the machine hits both
        hello.append(measure(hello_img, "hello_%d" % i))
        ours.append(measure(ours_img, "ours_%d" % i))
    h, o = statistics.median(hello), statistics.median(ours)
    print("%-44s hello %6.2f s   ours %6.2f s   ours/hello %.3f (+%.1f%%)" % (
        title, h, o, o / h, (o / h - 1) * 100))


def removable_image(efi, name):
    img = os.path.join(qemu.BUILD, "test-esp", name + ".img")
    os.makedirs(os.path.dirname(img), exist_ok=True)
    return make_removable_image(img, efi)


def main():
    hello_efi = os.path.join(qemu.BUILD, "HELLO.EFI")
    print("boot time, QEMU start to last serial line, median of %d (TCG, q35, 256 MiB)" % RUNS)
    pair("shell: HELLO.EFI vs BOOTX64.EFI selftest boot_",
         make_shell_image("bench_hello", ["HELLO.EFI"], efi=hello_efi, target="HELLO.EFI"),
         make_shell_image("bench_ours", ["BOOTX64.EFI selftest boot_ exit=qemu"]))
    pair("removable: hello vs default boot (all tests)",
         removable_image(hello_efi, "bench_hello_rm"), os.path.join(qemu.BUILD, "esp.img"))
    size = os.path.getsize(os.path.join(qemu.BUILD, "BOOTX64.EFI"))
    print("BOOTX64.EFI: %d bytes (%.1f KiB)" % (size, size / 1024))
    return 0
