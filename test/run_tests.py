#!/usr/bin/env python3
"""run_tests.py - `make test`: the host unit tests, the judge's own tests,
then the QEMU boot suite.

    run_tests.py [HOST_TEST_BINARY ...] [--no-host] [--no-qemu] [--only NAME]

Every test counts once, as passed, failed or skipped:
  - each cmocka test case, read from cmocka's TAP output (judge/cmocka_tap.py);
  - each test of the judge itself (test/judge/test_*.py, Python unittest);
  - each QEMU boot (test/qemu/cases.py): how it ended (QMP), its exit
    status, its expected and rejected lines, the soundness of its KTAP;
  - each kernel self-test that boot reported in KTAP (judge/ktap.py).
A report that cannot be trusted (no plan, a plan not met, text that is
not TAP, an exit status that disagrees, no test at all) counts as one
more failure.  Logs stay under build/logs/.
Ends with one line: "N passed, N failed", then ", N skipped" if any were.
Exits non-zero when anything failed or nothing passed.
"""
import argparse
import os
import re
import sys
import unittest
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
JUDGE = os.path.join(HERE, "judge")
sys.path[:0] = [os.path.join(HERE, "qemu"), JUDGE]
import cmocka_tap  # noqa: E402
import ktap  # noqa: E402
import tap_stream  # noqa: E402
import qemu  # noqa: E402
import screen  # noqa: E402
from cases import CASES  # noqa: E402
from tally import Tally  # noqa: E402


def fold(total, tally, label):
    """Add tally to total; an untrustworthy report is one more failure."""
    total.add(Tally(tally.passed, tally.failed, tally.skipped))
    if tally.problems:
        total.failed.append(label)


def report(kind, name, t, output, total):
    """Print one report's line, its problems and, if it failed, the tail
    of its output; then add it to the total."""
    print("%-5s %-28s %s" % (kind, name, t.summary()))
    for p in t.problems:
        print("      - " + p)
    if t.failed or t.problems:
        print("      failed: %s\n%s" % (", ".join(t.failed) or "-", output[-6000:]))
    fold(total, t, name)


def run_host(binaries, total):
    """Run each cmocka binary and judge its TAP."""
    for path in binaries:
        t, output = cmocka_tap.run(path)
        report("host", os.path.basename(path), t, output, total)


def run_tap(commands, total):
    """Run each command that prints one TAP stream (the fuzzers' smoke
    run, the LD_PRELOAD checks) and judge it."""
    for command in commands:
        words = command.split()
        name = next((w for w in words if "/" in w), words[0])  # the script's path
        t, output = tap_stream.run(command)
        report("tap", name, t, output, total)


class _Collect(unittest.TestResult):
    """A unittest result that also keeps the names of the tests that passed."""

    def __init__(self):
        super().__init__()
        self.passed = []

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed.append(test.id())


def run_judge_tests(total):
    """Run the judge's own tests (test/judge/test_*.py) in this process."""
    suite = unittest.defaultTestLoader.discover(JUDGE, pattern="test_*.py", top_level_dir=JUDGE)
    r = _Collect()
    suite.run(r)
    bad = r.failures + r.errors
    t = Tally(r.passed, [str(test) for test, _ in bad] + [str(x) for x in r.unexpectedSuccesses],
              [(str(test), why) for test, why in r.skipped])
    print("judge %-28s %s" % ("test/judge/test_*.py", t.summary()))
    for test, trace in bad:
        print("      FAIL %s\n%s" % (test, trace))
    fold(total, t, "judge")


def check_skips(case, report):
    """Problems with which tests skipped: case.skips must, case.may_skip()
    may (the smp_ tests on one CPU), no other may."""
    skipped = {name: why for name, why in report.skipped}
    allowed = set(case.skips) | set(case.may_skip())
    problems = ["unexpected SKIP: %s (%s)" % (n, why) for n, why in skipped.items() if n not in allowed]
    problems += ["%s should have been skipped on this machine" % n for n in case.skips if n not in skipped]
    return problems


def judge(case, b):
    """Judge one boot: (problems with the boot itself, its KTAP Tally)."""
    problems = []
    if b.triple_fault:
        problems.append("triple fault (see build/logs/%s.qemu.log)" % case.name)
    if b.timed_out:
        problems.append("timed out after %d s" % case.timeout)
    elif b.ending != case.ending:
        problems.append("ended by %s, expected %s" % (b.ending, case.ending))
    if not b.timed_out and b.status != case.status:
        problems.append("QEMU exit status %s, expected %s" % (b.status, case.status))
    if "PANIC:" in b.text and not case.allow_panic:
        problems.append("kernel panic: " + b.text[b.text.index("PANIC:"):].split("\n")[0])
    report = ktap.read(b.text) if case.ktap else Tally()
    problems += ["KTAP: " + p for p in report.problems]
    problems += ["not ok: " + name for name in report.failed]
    problems += check_skips(case, report)
    for pattern in case.expect:
        if not re.search(pattern, b.text, re.M):
            problems.append("missing: /%s/" % pattern)
    for pattern in case.reject:
        if re.search(pattern, b.text, re.M):
            problems.append("unexpected: /%s/" % pattern)
    for pattern in case.expect_raw:
        if not re.search(pattern, b.raw_text):
            problems.append("missing on raw serial: /%s/" % pattern)
    for pattern in case.reject_raw:
        if re.search(pattern, b.raw_text):
            problems.append("unexpected on raw serial: /%s/" % pattern)
    problems += judge_screens(case, b)
    return problems, report


def judge_screens(case, b):
    """Problems with a pause=key case's stops and screendumps (screen.py)."""
    if case.stops is None:
        return []
    stops = re.findall(r"^# screen: paused (\S+)$", b.text, re.M)
    problems = ["screendump: " + e for e in b.pause_errors]
    if stops != case.stops:
        problems.append("stops %s, expected %s" % (stops, case.stops))
    return problems + screen.check(case.name, b.text, stops)


def run_case(case):
    on_pause = screen.dumper(case.name) if case.stops is not None else None
    b = qemu.boot(case.image(), case.name, timeout=case.timeout, mem=case.mem,
                  machine=case.machine, cpu=case.cpu, firmware=case.firmware,
                  stop_at=case.stop_at, on_pause=on_pause, smp=case.smp,
                  devices=case.devices)
    return case, b, judge(case, b)


def run_qemu(only, total):
    """Boot every selected case, two at a time; each boot counts once and
    each of its KTAP results once more."""
    cases = [c for c in CASES if not only or c.name.startswith(only)]
    with ThreadPoolExecutor(max_workers=max(1, min(2, os.cpu_count() or 1))) as pool:
        for case, b, (problems, report) in pool.map(run_case, cases):
            ktap_note = ("  ktap: " + report.summary()) if case.ktap else ""
            print("qemu  %-28s %-4s %5.1f s  (%s, status %s)%s" % (
                case.name, "ok" if not problems else "FAIL", b.seconds, b.ending, b.status, ktap_note))
            for p in problems:
                print("      - " + p)
            if problems:
                print("      log: build/logs/%s.serial.log" % case.name)
            boot_failed = [p for p in problems if not p.startswith("not ok: ")]
            (total.failed if boot_failed else total.passed).append(case.name)
            total.add(Tally([case.name + "/" + n for n in report.passed],
                            [case.name + "/" + n for n in report.failed],
                            [(case.name + "/" + n, why) for n, why in report.skipped]))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("host", nargs="*", help="host test binaries")
    ap.add_argument("--no-host", action="store_true", help="skip the host tests and the judge's tests")
    ap.add_argument("--no-qemu", action="store_true")
    ap.add_argument("--tap", action="append", default=[], metavar="COMMAND",
                    help="a shell command that prints one TAP stream (may repeat)")
    ap.add_argument("--only", help="run the QEMU cases whose name starts with this")
    args = ap.parse_args()
    total = Tally()
    if not args.no_host:
        run_host(args.host, total)
        run_tap(args.tap, total)
        run_judge_tests(total)
    if not args.no_qemu:
        run_qemu(args.only, total)
    print(total.summary())
    return 0 if not total.failed and total.passed else 1


if __name__ == "__main__":
    sys.exit(main())
