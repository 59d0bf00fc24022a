#!/usr/bin/env python3
"""screenshots.py - `make screenshot`: pictures of what the screen shows.

Boots BOOTX64.EFI a few times under QEMU with pause=key; at each stop
the kernel makes ("# screen: paused NAME"), QMP's screendump writes the
screen as PPM (screen.py), then the kernel goes on.  netpbm turns the
dumps into PNG:

  build/screenshots/<boot>-<stop>.png     every stop, full size
  build/screenshots/docs/<name>.png       the few docs/ shows, cropped
                                          and scaled to a few tens of KiB

The boots: the default run (the demo, the heap picture in the middle of
the random stress test, the test results), the heapmap session, and two
reports (a CPU exception and a panic).
"""
import os
import shutil
import subprocess
import sys

import cases
import qemu
import screen

OUT = os.path.join(qemu.BUILD, "screenshots")
BOOTS = [
    ("default", "BOOTX64.EFI pause=key exit=qemu"),
    ("heapmap", "BOOTX64.EFI heapmap pause=key exit=qemu"),
    ("exception", "BOOTX64.EFI crash null pause=key exit=qemu"),
    ("panic", "BOOTX64.EFI crash double-free pause=key exit=qemu"),
]
# The small copies docs/ uses: (boot-stop, name, pamcut's left top width
# height, or None for the whole screen; the width to scale to).
DOCS = [
    ("default-stress", "stress", (0, 0, 1280, 176), 960),
    ("heapmap-heapmap-2", "heapmap-holes", (0, 0, 1280, 176), 960),
    ("heapmap-heapmap-3", "heapmap-coalesced", (0, 0, 1280, 176), 960),
    ("default-verdict", "results", (0, 480, 960, 320), 960),
    ("exception-verdict", "exception", (0, 608, 800, 192), 800),
    ("panic-verdict", "panic", (0, 688, 800, 112), 800),
]


def netpbm(cmd, src, dst):
    """Run a netpbm filter chain (a list of argument lists) from src to dst."""
    with open(src, "rb") as data:
        stream = data.read()
    for args in cmd:
        stream = subprocess.run(args, input=stream, stdout=subprocess.PIPE, check=True).stdout
    with open(dst, "wb") as f:
        f.write(stream)


def shoot(name, line):
    """Boot once; every stop's dump becomes build/screenshots/<name>-<stop>.png."""
    img = cases.make_shell_image("shot_" + name, [line])
    b = qemu.boot(img, "shot_" + name, timeout=600, on_pause=screen.dumper("shot_" + name))
    made = []
    for f in sorted(os.listdir(screen.SCREENS)):
        if f.startswith("shot_%s-" % name) and f.endswith(".ppm"):
            stop = f[len("shot_%s-" % name):-len(".ppm")]
            png = os.path.join(OUT, "%s-%s.png" % (name, stop))
            netpbm([["pnmtopng", "-compression", "9"]], os.path.join(screen.SCREENS, f), png)
            made.append(os.path.relpath(png, qemu.ROOT))
    print("screenshot: %-10s %s (QEMU status %s): %s" % (name, line, b.status, ", ".join(made) or "none"))
    return b.pause_errors


def small_copies():
    os.makedirs(os.path.join(OUT, "docs"), exist_ok=True)
    for shot, name, crop, width in DOCS:
        src = os.path.join(screen.SCREENS, "shot_%s.ppm" % shot)
        if not os.path.exists(src):
            print("screenshot: no %s for docs/%s.png" % (shot, name))
            continue
        chain = [["pamcut"] + [str(v) for v in crop]] if crop else []
        chain += [["pamscale", "-width", str(width)], ["pnmtopng", "-compression", "9"]]
        netpbm(chain, src, os.path.join(OUT, "docs", name + ".png"))


def main():
    if not shutil.which("pnmtopng"):
        sys.exit("screenshots.py: pnmtopng not found (apt-get install netpbm)")
    os.makedirs(OUT, exist_ok=True)
    errors = []
    for name, line in BOOTS:
        errors += shoot(name, line)
    small_copies()
    for e in errors:
        print("screenshot: " + e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
