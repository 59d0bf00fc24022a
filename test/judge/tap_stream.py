"""tap_stream.py - judge a program that prints one plain TAP stream.

The fuzzers' smoke run (test/fuzz/run.sh smoke, `make fuzz-smoke`) and
the LD_PRELOAD checks (test/preload/check.py) print TAP: an optional
`TAP version 13`, one plan `1..N`, then `ok N - name` or `not ok N - name`
for each test in order, with `# ...` diagnostics between.  It is read as
strictly as cmocka's: a missing or second plan, a gap or repeat in the
numbering, a count that misses the plan, a line that is not TAP, or an
exit status that disagrees with the results makes the report untrusted.
"""
import subprocess

from tap.line import Diagnostic, Plan, Result, Version
from tap.parser import Parser

import cmocka_tap
from tally import Tally


def run(command):
    """Run a shell command; return (Tally, its output)."""
    proc = subprocess.run(command, shell=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, errors="replace")
    return judge(proc.stdout, proc.returncode), proc.stdout


def judge(stdout, status):
    """Judge one TAP stream and the exit status that came with it."""
    t, plan, expected = Tally(), None, 1
    for line in stdout.splitlines():
        item = Parser().parse_line(line)
        if isinstance(item, Version) and plan is None and expected == 1:
            continue
        if isinstance(item, Plan):
            if plan:
                t.problems.append("a second plan: %r" % line)
            plan = item
        elif isinstance(item, Result):
            expected = cmocka_tap.count_result(item, expected, t, "the program")
        elif not isinstance(item, Diagnostic) and line.strip():
            t.problems.append("not TAP: %r" % line[:120])
    if not plan:
        t.problems.append("no TAP plan")
    elif plan.expected_tests != expected - 1 or plan.expected_tests == 0:
        t.problems.append("plan 1..%d but %d results" % (plan.expected_tests, expected - 1))
    if (status != 0) != bool(t.failed):
        t.problems.append("exit status %d with %d failed tests" % (status, len(t.failed)))
    return t
