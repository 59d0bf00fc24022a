#!/usr/bin/env python3
"""run_tests.py - `make test`: the host unit tests, then the QEMU boot suite.

    run_tests.py [HOST_TEST_BINARY ...] [--no-host] [--no-qemu] [--only NAME]

Host tests are cmocka programs (built with ASan and UBSan); each of their
test cases counts once.  Each QEMU case boots build/BOOTX64.EFI under OVMF
and counts once; it fails on a timeout, a wrong exit status, a missing
KTAP plan, a `not ok`, a panic, or an expected line that never came.
Logs stay under build/logs/ (serial and OVMF's own debug log).
Ends with one line: "N passed, N failed".
"""
import argparse
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "qemu"))
import qemu  # noqa: E402
from cases import CASES  # noqa: E402


def run_host(binaries):
    """Run each cmocka binary; return (passed, failed) test-case counts."""
    passed = failed = 0
    for path in binaries:
        proc = subprocess.run([path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        ok = len(re.findall(r"^\[       OK \] ", proc.stdout, re.M))
        bad = len(re.findall(r"^\[  FAILED  \] (?!\d+ test)", proc.stdout, re.M))
        if proc.returncode != 0 and bad == 0:
            bad = 1  # crashed (a sanitizer report) before cmocka could say
        name = os.path.basename(path)
        print("host  %-28s %3d passed, %d failed" % (name, ok, bad))
        if bad:
            print(proc.stdout[-6000:])
        passed += ok
        failed += bad
    return passed, failed


KTAP_LINE = re.compile(r"^(not )?ok (\d+) (\S+)", re.M)


def check_ktap(text):
    """Problems with the KTAP report in text ([] when it is clean)."""
    if "KTAP version 1" not in text:
        return ["no KTAP header"]
    ktap = text[text.index("KTAP version 1"):]
    plan = re.search(r"^1\.\.(\d+)$", ktap, re.M)
    if not plan:
        return ["no KTAP plan"]
    results = KTAP_LINE.findall(ktap)
    problems = []
    if len(results) != int(plan.group(1)):
        problems.append("plan 1..%s but %d results" % (plan.group(1), len(results)))
    problems += ["not ok: " + name for neg, _, name in results if neg]
    if int(plan.group(1)) == 0:
        problems.append("empty plan")
    if not re.search(r"^# Totals: pass:\d+ fail:0 ", ktap, re.M):
        problems.append("no clean '# Totals:' line")
    return problems


def judge(case, b):
    """Problems with one boot ([] when it passed)."""
    problems = []
    if b.triple_fault:
        problems.append("triple fault (see build/logs/%s.qemu.log)" % case.name)
    if b.timed_out:
        problems.append("timed out after %d s" % case.timeout)
    elif b.status != case.status:
        problems.append("QEMU exit status %s, expected %s" % (b.status, case.status))
    if "PANIC:" in b.text and not case.allow_panic:
        problems.append("kernel panic: " + b.text[b.text.index("PANIC:"):].split("\n")[0])
    if case.ktap:
        problems += check_ktap(b.text)
    for pattern in case.expect:
        if not re.search(pattern, b.text, re.M):
            problems.append("missing: /%s/" % pattern)
    for pattern in case.reject:
        if re.search(pattern, b.text, re.M):
            problems.append("unexpected: /%s/" % pattern)
    return problems


def run_case(case):
    image = case.image()
    b = qemu.boot(image, case.name, timeout=case.timeout, mem=case.mem,
                  machine=case.machine, cpu=case.cpu)
    return case, b, judge(case, b)


def run_qemu(only):
    cases = [c for c in CASES if not only or c.name.startswith(only)]
    passed = failed = 0
    with ThreadPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1))) as pool:
        for case, b, problems in pool.map(run_case, cases):
            print("qemu  %-28s %-4s %5.1f s  (status %s)" % (
                case.name, "ok" if not problems else "FAIL", b.seconds, b.status))
            for p in problems:
                print("      - " + p)
            if problems:
                print("      log: build/logs/%s.serial.log" % case.name)
                failed += 1
            else:
                passed += 1
    return passed, failed


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("host", nargs="*", help="host test binaries")
    ap.add_argument("--no-host", action="store_true")
    ap.add_argument("--no-qemu", action="store_true")
    ap.add_argument("--only", help="run the QEMU cases whose name starts with this")
    args = ap.parse_args()
    passed = failed = 0
    if not args.no_host:
        p, f = run_host(args.host)
        passed, failed = passed + p, failed + f
    if not args.no_qemu:
        p, f = run_qemu(args.only)
        passed, failed = passed + p, failed + f
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
