#!/usr/bin/env python3
"""check.py - test build/libheap-preload.so on real programs; prints TAP 13.

    check.py [NAME ...]   run every check, or those whose name starts
                          with a NAME (make preload-test builds first;
                          this script builds nothing)

Checks, in order:
  - the library exports exactly the malloc family, nothing of heap.c;
  - python3 (PYTHONMALLOC=malloc, so every object is a malloc block) and
    sqlite3 run one workload each twice, under glibc's malloc and with
    LD_PRELOAD: both must exit 0 with the same output, and the preloaded
    run must print the library's exit line (HEAP_PRELOAD_STATS=1) with a
    nonzero allocation count and heap_check=ok, which proves our malloc
    served it and left a sound heap;
  - each case of build/preload/cases (test/preload/cases.c) under the
    preload: the bad-pointer cases must die by SIGABRT after our message
    naming the pointer, the corrupt-heap case after ours saying so; the
    others must exit 0 with a clean exit line.
Exits 1 if any check failed.
"""
import os
import re
import shutil
import signal
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(ROOT, "test", "preload")
LIB = os.path.join(ROOT, "build", "libheap-preload.so")
CASES = os.path.join(ROOT, "build", "preload", "cases")
# Debian's interpreter (DEB_PKGS has python3), not a version manager's shim.
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
# The python3 workload's loop counts times this (the list heap needed
# 0.25 to stay inside make test's time; the indexed heap runs it whole).
PY_SCALE = "1"
TIMEOUT = 300  # seconds for one workload run; only a hang gets near it
CASE_TIMEOUT = 120  # seconds for one case (fork_while_busy hangs without atfork)

EXPORTS = {"malloc", "free", "calloc", "realloc", "reallocarray", "posix_memalign",
           "aligned_alloc", "memalign", "valloc", "pvalloc", "malloc_usable_size"}
STATS = re.compile(r"^heap-preload: allocs=(\d+) .* heap_check=(\w+)$", re.M)
REFUSAL = "heap-preload: %s(%s): not a live block (double free, interior or foreign pointer)"
CORRUPT = "heap-preload: malloc(2000): the heap is corrupt"

# name -> the call that must refuse the pointer, CORRUPT for a case that
# must be stopped with that message, or None for a case that must pass
# its own checks.
CASE_LIST = [
    ("double_free", "free"),
    ("interior_free", "free"),
    ("foreign_free", "free"),
    ("realloc_freed", "realloc"),
    ("alignments", None),
    ("bad_alignments", None),
    ("calloc", None),
    ("calloc_fresh", None),
    ("calloc_boundary", None),
    ("usable_size", None),
    ("realloc", None),
    ("large_block", None),
    ("threads", None),
    ("fork_while_busy", None),
    ("fork_handlers_allocate", None),
    ("overrun_then_malloc", CORRUPT),
]


def run(argv, preload, stdin=None, env=None, timeout=TIMEOUT):
    """Run argv, with our malloc when preload; return (status, out, err).
    status is None after a timeout, negative for a signal."""
    e = dict(os.environ, **(env or {}))
    e.pop("LD_PRELOAD", None)
    if preload:
        e["LD_PRELOAD"] = LIB
        e["HEAP_PRELOAD_STATS"] = "1"
    # A session of its own, so a timeout ends the forked children too.
    p = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=e, start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        return None, out, err
    return p.returncode, out, err


def tail(data, lines=8):
    text = data.decode(errors="replace").rstrip("\n")
    return text.split("\n")[-lines:] if text else []


def stats_problems(err):
    """Problems with the preloaded run's exit line ([] when it is clean)."""
    m = STATS.search(err.decode(errors="replace"))
    if not m:
        return ["no 'heap-preload:' exit line: was the library loaded?"]
    problems = []
    if int(m.group(1)) == 0:
        problems.append("the exit line counts no allocation")
    if m.group(2) != "ok":
        problems.append("heap_check at exit: " + m.group(2))
    return problems


def check_exports():
    out = subprocess.run(["nm", "-D", "--defined-only", LIB], capture_output=True, text=True)
    got = {line.split()[-1] for line in out.stdout.splitlines() if line.strip()}
    problems = []
    if got - EXPORTS:
        problems.append("exports more: " + " ".join(sorted(got - EXPORTS)))
    if EXPORTS - got:
        problems.append("does not export: " + " ".join(sorted(EXPORTS - got)))
    return problems, None


def compare_runs(argv, stdin_path=None, env=None):
    """Run argv under glibc, then preloaded: same output, both status 0."""
    problems, outs = [], []
    for preload in (False, True):
        with open(stdin_path or os.devnull, "rb") as f:
            status, out, err = run(argv, preload, stdin=f, env=env)
        who = "preloaded" if preload else "glibc"
        if status != 0:
            problems.append("%s run: status %s" % (who, status))
            problems += ["  " + line for line in tail(err)]
        outs.append(out)
        if preload and status == 0:
            problems += stats_problems(err)
    if outs[0] != outs[1]:
        problems.append("outputs differ (%d vs %d bytes)" % (len(outs[0]), len(outs[1])))
    return problems, None


def check_python():
    env = {"PYTHONMALLOC": "malloc", "PYTHONHASHSEED": "0"}
    return compare_runs([PYTHON, os.path.join(HERE, "workload.py"), PY_SCALE], env=env)


def check_sqlite():
    sqlite = shutil.which("sqlite3")
    if not sqlite:
        return [], "sqlite3 is not installed (Debian package sqlite3)"
    return compare_runs([sqlite, ":memory:"], stdin_path=os.path.join(HERE, "workload.sql"))


def check_case(name, refuser):
    status, out, err = run([CASES, name], preload=True, timeout=CASE_TIMEOUT)
    text = err.decode(errors="replace")
    if status is None:
        return ["timed out after %d s (a deadlock?)" % CASE_TIMEOUT], None
    if refuser is None:
        problems = [] if status == 0 else ["status %s" % status] + ["  " + l for l in tail(err)]
        return problems + stats_problems(err), None
    if refuser == CORRUPT:
        problems = [] if status == -signal.SIGABRT else ["status %s, expected death by SIGABRT" % status]
        if CORRUPT not in text:
            problems += ["missing on stderr: " + CORRUPT] + ["  " + l for l in tail(err)]
        return problems, None
    m = re.search(r"bad pointer (0x[0-9a-f]+)", out.decode(errors="replace"))
    if not m:
        return ["the case never printed its pointer"], None
    problems = []
    if status != -signal.SIGABRT:
        problems.append("status %s, expected death by SIGABRT" % status)
    if REFUSAL % (refuser, m.group(1)) not in text:
        problems.append("missing on stderr: " + REFUSAL % (refuser, m.group(1)))
        problems += ["  " + line for line in tail(err)]
    return problems, None


def main(names):
    for path in (LIB, CASES):
        if not os.path.exists(path):
            print("TAP version 13\n1..0\nBail out! %s is missing: run make preload-test" % path)
            return 1
    checks = [("exports_only_malloc_family", check_exports),
              ("python3_workload_same_output", check_python),
              ("sqlite3_workload_same_output", check_sqlite)]
    checks += [("case_" + name, lambda n=name, r=refuser: check_case(n, r))
               for name, refuser in CASE_LIST]
    if names:
        checks = [c for c in checks if any(c[0].startswith(n) for n in names)]
        if not checks:
            print("TAP version 13\n1..0\nBail out! no check starts with " + " or ".join(names))
            return 1
    print("TAP version 13")
    print("1..%d" % len(checks))
    failed = 0
    for n, (name, fn) in enumerate(checks, 1):
        problems, skip = fn()
        if skip:
            print("ok %d - %s # SKIP %s" % (n, name, skip))
        elif problems:
            print("not ok %d - %s" % (n, name))
            failed += 1
        else:
            print("ok %d - %s" % (n, name))
        for p in problems:
            print("# " + p)
        sys.stdout.flush()
    print("# preload checks: %d of %d ok" % (len(checks) - failed, len(checks)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
