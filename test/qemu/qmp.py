"""qmp.py - learn how a QEMU run ended from QEMU itself, over QMP.

With -no-reboot, a guest that powers off and a guest that resets (or
triple-faults) both make QEMU exit with status 0, so the status cannot
tell them apart.  QEMU's machine protocol can: it sends a SHUTDOWN event
whose "reason" says why ("guest-shutdown" for an ACPI power-off,
"guest-reset" for a reset that -no-reboot turned into an exit, ...).

QEMU is started paused (-S) with a QMP socket it waits on before it does
anything (server=on,wait=on).  We connect, leave capabilities-negotiation
mode (events are only sent after that), then let the machine run (`cont`).
So no event can happen before we listen.  isa-debug-exit ends QEMU with
exit() at once: that ending has no event at all.

While the machine runs, command() sends more (a `screendump` for the
screen tests); the reader thread hands each answer back to it.
"""
import json
import os
import queue
import shutil
import socket
import tempfile
import threading
import time


def qemu_args(path):
    """The QEMU options for a paused machine with a QMP socket at path."""
    return ["-S", "-qmp", "unix:%s,server=on,wait=on" % path]


def socket_path(name):
    """A fresh path for a QMP socket (a short one: unix paths are limited),
    in a new directory of its own; remove_socket() removes both."""
    return os.path.join(tempfile.mkdtemp(prefix="qmp-"), name[:40] + ".sock")


def remove_socket(path):
    shutil.rmtree(os.path.dirname(path), ignore_errors=True)


class Recorder:
    """Connects to QEMU's QMP socket, starts the machine and records every
    event until QEMU closes the socket."""

    def __init__(self, path, proc, connect_timeout=30):
        self.events = []   # (event name, data dict), in order
        self.error = None  # why QMP could not be used, or None
        self._sock = _connect(path, proc, connect_timeout)
        self._file = self._sock.makefile("rw")
        self._answers = queue.Queue()
        self._command("qmp_capabilities")
        self._command("cont")
        self._thread = threading.Thread(target=self._read_events, daemon=True)
        self._thread.start()

    def _command(self, name):
        """Send one command and wait for its answer, keeping events met on the way."""
        self._file.write(json.dumps({"execute": name}) + "\n")
        self._file.flush()
        for line in self._file:
            msg = json.loads(line)
            if "return" in msg:
                return
            if "error" in msg:
                raise RuntimeError("QMP %s: %s" % (name, msg["error"]))
            self._keep(msg)
        raise RuntimeError("QMP %s: QEMU closed the socket" % name)

    def _keep(self, msg):
        if "event" in msg:
            self.events.append((msg["event"], msg.get("data", {})))

    def _read_events(self):
        try:
            for line in self._file:
                msg = json.loads(line)
                if "return" in msg or "error" in msg:
                    self._answers.put(msg)
                self._keep(msg)
        except ConnectionResetError:
            # QEMU exited before reading all we sent (a command racing the
            # guest's exit), so the socket was reset, not closed: an end,
            # not an error.  The exit status and the events read decide
            # the verdict; a lost event can only make it a failure.
            pass
        except (OSError, ValueError) as e:
            self.error = "QMP: %s" % e
        self._answers.put({"error": "QEMU closed the socket"})

    def command(self, name, timeout=60, **arguments):
        """Send one command while the machine runs; return its answer's
        "return" value, or raise RuntimeError with QEMU's error."""
        self._file.write(json.dumps({"execute": name, "arguments": arguments}) + "\n")
        self._file.flush()
        try:
            msg = self._answers.get(timeout=timeout)
        except queue.Empty:
            raise RuntimeError("QMP %s: no answer in %d s" % (name, timeout))
        if "error" in msg:
            raise RuntimeError("QMP %s: %s" % (name, msg["error"]))
        return msg["return"]

    def wait(self, timeout=5):
        """Wait for QEMU to close the socket (it has exited)."""
        self._thread.join(timeout)
        self._sock.close()

    def shutdown_reason(self):
        """The reason of the first SHUTDOWN event, or None if there was none."""
        for name, data in self.events:
            if name == "SHUTDOWN":
                return data.get("reason", "unknown")
        return None


def _connect(path, proc, timeout):
    """Connect to the socket QEMU is creating; give up if QEMU exits."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            return s
        except (FileNotFoundError, ConnectionRefusedError):
            s.close()
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("QEMU never opened its QMP socket %s" % path)
            time.sleep(0.02)
