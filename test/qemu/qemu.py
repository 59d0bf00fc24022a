#!/usr/bin/env python3
"""qemu.py - boot our ESP image under QEMU + OVMF, and read what it says.

Used three ways:
  qemu.py run [--shell] [--mem 256M]   `make run`: serial on this terminal
  qemu.py debug [--shell]              `make debug`: QEMU waits for gdb
  qemu.py bench-boot                   wall time of our boot beside a
                                        minimal EFI app (a benchmark)
and as a module by test/run_tests.py, which runs the boot suite.

QEMU runs in TCG (software emulation): it never needs KVM.  OVMF's code is
a read-only pflash; each boot gets its own writable copy of the vars store
under build/, so parallel boots do not share one.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import threading
import time

import qmp

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
LOGS = os.path.join(BUILD, "logs")

# Debian's ovmf package: the 4 MiB build first, the 2 MiB one as fallback.
OVMF_PAIRS = [
    ("/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"),
    ("/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd"),
]

# isa-debug-exit: QEMU exits with (value << 1) | 1.
EXIT_PASS = 33  # the kernel wrote 0x10
EXIT_FAIL = 35  # the kernel wrote 0x11

ANSI = re.compile(r"\x1b\[[0-9;?=]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]")
SHELL_PROMPT = "any other key to continue."  # the end of each countdown line


def ovmf():
    for code, vars_ in OVMF_PAIRS:
        if os.path.exists(code) and os.path.exists(vars_):
            return code, vars_
    sys.exit("qemu.py: no OVMF firmware found (apt-get install ovmf)")


def qemu_command(image, name, mem="256M", machine="q35", cpu="qemu64",
                 serial="stdio", extra=(), smp=1):
    """The QEMU command line for one boot of `image`.  With smp > 1 the
    CPUs run on host threads of their own (multi-threaded TCG), so they
    really do run at the same time."""
    code, vars_template = ovmf()
    os.makedirs(LOGS, exist_ok=True)
    vars_copy = os.path.join(BUILD, "vars", name + ".fd")
    os.makedirs(os.path.dirname(vars_copy), exist_ok=True)
    shutil.copyfile(vars_template, vars_copy)
    return [
        "qemu-system-x86_64", "-machine", machine,
        "-accel", "tcg,thread=multi" if smp > 1 else "tcg",
        "-cpu", cpu, "-m", mem, "-smp", str(smp),
        "-drive", "if=pflash,format=raw,readonly=on,file=" + code,
        "-drive", "if=pflash,format=raw,file=" + vars_copy,
        "-drive", "format=raw,file=" + image,
        "-net", "none", "-display", "none", "-no-reboot",
        "-serial", serial, "-monitor", "none",
        "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
        "-debugcon", "file:" + os.path.join(LOGS, name + ".ovmf.log"),
        # QEMU logs "Triple fault" here: with -no-reboot a triple fault
        # exits with status 0, just like a clean shutdown.
        "-d", "cpu_reset", "-D", os.path.join(LOGS, name + ".qemu.log"),
        "-global", "isa-debugcon.iobase=0x402",
        *extra,
    ]


class Boot:
    """One finished boot: its exit status, how it ended, serial text and
    wall times."""

    def __init__(self, name, status, text, timed_out, seconds, last_line_at, ending):
        with open(os.path.join(LOGS, name + ".qemu.log"), errors="replace") as f:
            self.triple_fault = "Triple fault" in f.read()
        self.name = name
        self.status = status
        self.text = text
        self.timed_out = timed_out
        self.seconds = seconds
        self.last_line_at = last_line_at
        self.ending = ending


def ending_of(timed_out, status, recorder, error):
    """How a run ended, in a word: "shutdown" (the guest powered off),
    "reset" (the guest reset; -no-reboot made it an exit), "debug-exit"
    (isa-debug-exit: no SHUTDOWN event, an odd status), "timeout", or
    else a sentence saying what QMP saw."""
    if timed_out:
        return "timeout"
    if error:
        return "unknown (%s)" % error
    reason = recorder.shutdown_reason()
    if reason in ("guest-shutdown", "guest-reset"):
        return reason[len("guest-"):]
    if reason:
        return "SHUTDOWN event with reason %s" % reason
    if status is not None and status > 0 and status % 2 == 1:
        return "debug-exit"
    return "exit status %s without a SHUTDOWN event" % status


def boot(image, name, timeout=120, **kw):
    """Boot once, headless; skip the shell's 5 s wait by sending a key.
    QEMU starts paused; qmp.Recorder starts it and records its events."""
    sock = qmp.socket_path(name)
    cmd = qemu_command(image, name, extra=qmp.qemu_args(sock), **kw)
    if os.environ.get("V") == "1":
        print(" ".join(cmd), flush=True)
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    chunks, last = [], [start]
    t = threading.Thread(target=_read_serial, args=(proc, chunks, last), daemon=True)
    t.start()
    recorder, error = None, None
    try:
        recorder = qmp.Recorder(sock, proc)
    except (RuntimeError, OSError, ValueError) as e:
        error = str(e)
    timed_out = False
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        proc.kill()
        proc.wait()
    t.join(timeout=5)
    if recorder:
        recorder.wait()
        error = recorder.error
    qmp.remove_socket(sock)
    raw = b"".join(chunks)
    with open(os.path.join(LOGS, name + ".serial.log"), "wb") as f:
        f.write(raw)
    text = ANSI.sub("", raw.decode("latin-1")).replace("\r", "")
    return Boot(name, proc.returncode, text, timed_out, time.monotonic() - start, last[0] - start,
                ending_of(timed_out, proc.returncode, recorder, error))


def _read_serial(proc, chunks, last):
    """Collect QEMU's serial output.  The shell only sees a key typed
    during its countdown: send one each time a new countdown line shows."""
    seen = 0
    for raw in iter(lambda: proc.stdout.read1(4096), b""):
        chunks.append(raw)
        last[0] = time.monotonic()
        count = b"".join(chunks).count(SHELL_PROMPT.encode())
        if count > seen:
            try:
                proc.stdin.write(b"x")
                proc.stdin.flush()
            except OSError:
                pass
        seen = count


GDB_SCRIPT = """# build/gdbinit - written by `make debug`; use: gdb -x build/gdbinit
# The firmware loaded BOOTX64.EFI at {base} in a headless boot of the same
# machine just before this one (OVMF places it the same way each time).
set architecture i386:x86-64
add-symbol-file {so} -o {base}
target remote localhost:1234
echo Symbols loaded at {base}. Try: break kernel_main, then continue\\n
"""


def write_gdbinit(image, mem):
    """Boot once headless to learn where OVMF loads the image."""
    b = boot(image, "debug-probe", timeout=180, mem=mem)
    m = re.search(r"loader: image base (0x[0-9A-Fa-f]+)", b.text)
    if not m:
        sys.exit("qemu.py: the probe boot printed no image base; see build/logs/debug-probe.serial.log")
    path = os.path.join(BUILD, "gdbinit")
    with open(path, "w") as f:
        f.write(GDB_SCRIPT.format(base=m.group(1), so=os.path.join(BUILD, "BOOTX64.so")))
    return m.group(1), path


def interactive(args, debug=False):
    image = os.path.join(BUILD, "esp-shell.img" if args.shell else "esp.img")
    extra = []
    if debug:
        base, script = write_gdbinit(image, args.mem)
        extra = ["-s", "-S"]
        print("qemu.py: QEMU is waiting for gdb on localhost:1234. In another terminal:\n"
              "    gdb -x %s      (symbols at %s)" % (os.path.relpath(script, ROOT), base))
    cmd = qemu_command(image, "run", mem=args.mem, serial="mon:stdio", extra=extra, smp=args.smp)
    if os.environ.get("V") == "1":
        print(" ".join(cmd))
    print("qemu.py: booting %s (Ctrl-A X quits QEMU)" % os.path.relpath(image, ROOT), flush=True)
    status = subprocess.call(cmd)
    if status in (0, EXIT_PASS):
        return 0
    print("qemu.py: QEMU exited with status %d" % status)
    return 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["run", "debug", "bench-boot"])
    ap.add_argument("--shell", action="store_true", help="boot build/esp-shell.img (startup.nsh with ARGS)")
    ap.add_argument("--mem", default="256M")
    ap.add_argument("--smp", type=int, default=1, help="CPUs (multi-threaded TCG when > 1)")
    args = ap.parse_args()
    if args.mode == "bench-boot":
        import bench_boot
        return bench_boot.main()
    return interactive(args, debug=args.mode == "debug")


if __name__ == "__main__":
    sys.exit(main())
