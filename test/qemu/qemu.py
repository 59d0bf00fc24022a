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
import varstore

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
LOGS = os.path.join(BUILD, "logs")

# Debian's ovmf package: the 4 MiB build first, the 2 MiB one as fallback.
OVMF_PAIRS = [
    ("/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"),
    ("/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd"),
]

# The firmware a case boots under (cases.Case.firmware), all Debian's ovmf:
#   ovmf          the plain pair above: Secure Boot built in, no key
#                 enrolled, so the firmware is in setup mode.
#   snakeoil      Secure Boot on: the SMM build and a vars store with
#                 Debian's snakeoil test certificate enrolled as PK, KEK and
#                 db (/usr/share/ovmf/PkKek-1-snakeoil.pem, the pair
#                 `make sign` uses by default).
#   snakeoil-off  the same keys, Secure Boot switched off as in a PC's
#                 setup menu (varstore.py).
# SMM guards the snakeoil vars store: the machine must be q35 with SMM on
# and the pflash in secure mode, or the firmware does not start.
SNAKEOIL = ("/usr/share/OVMF/OVMF_CODE_4M.snakeoil.fd", "/usr/share/OVMF/OVMF_VARS_4M.snakeoil.fd")
SNAKEOIL_ARGS = ["-global", "driver=cfi.pflash01,property=secure,value=on"]

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


def firmware_args(firmware, machine, vars_copy):
    """Fill vars_copy with the firmware's vars store; return its code
    file, the -machine value and any extra QEMU options."""
    if firmware == "ovmf":
        code, vars_template = ovmf()
        shutil.copyfile(vars_template, vars_copy)
        return code, machine, []
    if firmware not in ("snakeoil", "snakeoil-off"):
        raise ValueError("unknown firmware %r" % firmware)
    if machine != "q35":
        raise ValueError("the snakeoil firmware needs SMM, which OVMF has on q35 only")
    if not all(os.path.exists(f) for f in SNAKEOIL):
        sys.exit("qemu.py: no %s (apt-get install ovmf)" % SNAKEOIL[0])
    shutil.copyfile(SNAKEOIL[1], vars_copy)
    if firmware == "snakeoil-off":
        varstore.switch_secure_boot_off(vars_copy)
    return SNAKEOIL[0], "q35,smm=on", SNAKEOIL_ARGS


def qemu_command(image, name, mem="256M", machine="q35", cpu="qemu64",
                 serial="stdio", extra=(), firmware="ovmf", smp=1, devices=()):
    """The QEMU command line for one boot of `image`.  With smp > 1 the
    CPUs run on host threads of their own (multi-threaded TCG), so they
    really do run at the same time."""
    os.makedirs(LOGS, exist_ok=True)
    vars_copy = os.path.join(BUILD, "vars", name + ".fd")
    os.makedirs(os.path.dirname(vars_copy), exist_ok=True)
    code, machine, fw_extra = firmware_args(firmware, machine, vars_copy)
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
        *fw_extra, *extra, *devices,
    ]


class Boot:
    """One finished boot: its exit status, how it ended, serial text and
    wall times."""

    def __init__(self, name, status, raw_text, timed_out, seconds, last_line_at, ending):
        with open(os.path.join(LOGS, name + ".qemu.log"), errors="replace") as f:
            self.triple_fault = "Triple fault" in f.read()
        self.name = name
        self.status = status
        self.raw_text = raw_text          # serial as sent, ANSI codes and all
        self.text = serial_text(raw_text) # as the cases read it
        self.timed_out = timed_out
        self.seconds = seconds
        self.last_line_at = last_line_at
        self.ending = ending
        self.pause_errors = []  # what went wrong answering pause=key stops


def ending_of(timed_out, status, recorder, error, stopped=False):
    """How a run ended, in a word: "shutdown" (the guest powered off),
    "reset" (the guest reset; -no-reboot made it an exit), "debug-exit"
    (isa-debug-exit: no SHUTDOWN event, an odd status), "stop-line" (we
    stopped QEMU with SIGTERM when the case's stop line showed: `stopped`,
    and QMP saw the signal end it), "timeout", or else a sentence saying
    what QMP saw."""
    if timed_out:
        return "timeout"
    if error:
        return "unknown (%s)" % error
    reason = recorder.shutdown_reason()
    if stopped and reason == "host-signal":
        return "stop-line"
    if reason in ("guest-shutdown", "guest-reset"):
        return reason[len("guest-"):]
    if reason:
        return "SHUTDOWN event with reason %s" % reason
    if status is not None and status > 0 and status % 2 == 1:
        return "debug-exit"
    return "exit status %s without a SHUTDOWN event" % status


PAUSED = re.compile(rb"^# screen: paused (\S+)\r?\n", re.M)


class Pauses:
    """The kernel's pause=key stops ("# screen: paused NAME" on serial,
    then it waits for a key): call on_pause(name, recorder) at each, for
    instance to take a QMP screendump, then send the key that lets the
    kernel go on.  Runs in the serial reader's thread."""

    def __init__(self, on_pause):
        self.on_pause = on_pause
        self.seen = 0
        self.ready = threading.Event()
        self.recorder = None
        self.errors = []

    def start(self, recorder):
        self.recorder = recorder
        self.ready.set()

    def check(self, proc, text):
        names = PAUSED.findall(text)
        for name in names[self.seen:]:
            self.seen += 1
            if self.ready.wait(30) and self.recorder:
                try:
                    self.on_pause(name.decode(), self.recorder)
                except (RuntimeError, OSError, ValueError) as e:
                    self.errors.append("%s: %s" % (name.decode(), e))
            _send_key(proc, b"\n")


def _send_key(proc, key):
    try:
        proc.stdin.write(key)
        proc.stdin.flush()
    except OSError:
        pass


def boot(image, name, timeout=120, stop_at=None, on_pause=None, **kw):
    """Boot once, headless; skip the shell's 5 s wait by sending a key.
    QEMU starts paused; qmp.Recorder starts it and records its events.
    stop_at: a regex; when the serial text first matches it, QEMU is
    stopped (for a firmware that waits for a key after refusing us).
    on_pause(name, recorder): see Pauses (the kernel's pause=key)."""
    sock = qmp.socket_path(name)
    cmd = qemu_command(image, name, extra=qmp.qemu_args(sock), **kw)
    if os.environ.get("V") == "1":
        print(" ".join(cmd), flush=True)
    start = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    chunks, last, stopped = [], [start], threading.Event()
    pauses = Pauses(on_pause) if on_pause else None
    t = threading.Thread(target=_read_serial, args=(proc, chunks, last, stop_at, stopped, pauses),
                         daemon=True)
    t.start()
    recorder, error = None, None
    try:
        recorder = qmp.Recorder(sock, proc)
    except (RuntimeError, OSError, ValueError) as e:
        error = str(e)
    if pauses:
        pauses.start(recorder)
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
    b = Boot(name, proc.returncode, raw.decode("latin-1"), timed_out, time.monotonic() - start,
             last[0] - start,
             ending_of(timed_out, proc.returncode, recorder, error, stopped.is_set()))
    b.pause_errors = pauses.errors if pauses else []
    return b


def serial_text(raw_text):
    """Serial text as the cases read it: no ANSI escapes, no CRs."""
    return ANSI.sub("", raw_text).replace("\r", "")


def _read_serial(proc, chunks, last, stop_at, stopped, pauses=None):
    """Collect QEMU's serial output.  The shell only sees a key typed
    during its countdown: send one each time a new countdown line shows.
    Stop QEMU (SIGTERM: QEMU shuts down cleanly) at the stop_at line.
    Hand the text to pauses, if any, to answer the kernel's pauses."""
    seen = 0
    for raw in iter(lambda: proc.stdout.read1(4096), b""):
        chunks.append(raw)
        last[0] = time.monotonic()
        text = b"".join(chunks)
        if stop_at and not stopped.is_set() and re.search(stop_at, serial_text(text.decode("latin-1")), re.M):
            stopped.set()
            proc.terminate()
        count = text.count(SHELL_PROMPT.encode())
        if count > seen:
            _send_key(proc, b"x")
        seen = count
        if pauses:
            pauses.check(proc, text)


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
