"""cmocka_tap.py - run a cmocka test program and judge its TAP output.

cmocka 1.1 prints TAP when CMOCKA_MESSAGE_OUTPUT=TAP.  Each group run by
cmocka_run_group_tests() is its own TAP stream, so one program may print
several, one after the other:

    1..3
    ok 1 - t_pass
    not ok 2 - t_fail
    # 0x1 != 0x2
    # f.c:7: error: Failure!
    not ok 3 # SKIP t_skip        <- a skip: the test's name is the reason
    # not ok - first              <- the group's closing line
    1..2
    ...

Each line is classified by Debian's python3-tap (tap.parser); judge()
then checks the structure, strictly: every group opens with a plan and
closes with cmocka's `# ok - NAME` / `# not ok - NAME` line, results are
numbered 1..N in order, their count matches the plan, no line is
anything but TAP, and the exit status agrees (non-zero if and only if a
test failed).  A program that printed no test at all is a problem too.
"""
import os
import re
import subprocess

from tap.line import Diagnostic, Plan, Result
from tap.parser import Parser

from tally import Tally

GROUP_END = re.compile(r"# (ok|not ok) - (.+)")


def run(path, *args):
    """Run one cmocka program with TAP output; return (Tally, stderr text)."""
    env = dict(os.environ, CMOCKA_MESSAGE_OUTPUT="TAP")
    proc = subprocess.run([path, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          env=env, text=True, errors="replace")
    return judge(proc.stdout, proc.returncode), proc.stderr


def judge(stdout, status):
    """Judge a cmocka program's TAP stdout and exit status; return a Tally."""
    t = Tally()
    groups = _split_groups(stdout.splitlines(), t)
    for lines in groups:
        _judge_group(lines, t)
    if not groups:
        t.problems.append("no TAP plan: the program ran no test, or printed no TAP")
    elif not (t.passed or t.failed or t.skipped):
        t.problems.append("ran no test")
    if status < 0:
        t.problems.append("killed by signal %d" % -status)
    elif status != 0 and not t.failed:
        t.problems.append("exit status %d, yet no test failed" % status)
    elif status == 0 and t.failed:
        t.problems.append("exit status 0, yet %d tests failed" % len(t.failed))
    return t


def _split_groups(lines, t):
    """Cut the output into groups, each starting at its plan line."""
    groups, current = [], None
    for line in lines:
        if isinstance(Parser().parse_line(line), Plan):
            current = []
            groups.append(current)
        if current is None:
            t.problems.append("output before the first plan: %r" % line[:120])
            continue
        current.append(line)
    return groups


def _judge_group(lines, t):
    """Judge one group: plan, results 1..N, closing line."""
    plan = Parser().parse_line(lines[0])
    expected, closed, failed_before = 1, None, len(t.failed)
    for line in lines[1:]:
        item = Parser().parse_line(line)
        if closed:
            t.problems.append("text after the group's closing line: %r" % line[:120])
        elif isinstance(item, Result):
            expected = count_result(item, expected, t)
        elif GROUP_END.fullmatch(line):
            closed = GROUP_END.fullmatch(line)
        elif not isinstance(item, Diagnostic):
            t.problems.append("not TAP: %r" % line[:120])
    seen = expected - 1
    if plan.expected_tests == 0 or seen != plan.expected_tests:
        t.problems.append("plan 1..%d but %d results" % (plan.expected_tests, seen))
    if not closed:
        t.problems.append("a group never finished (no '# ok - NAME' line): the program stopped mid-run")
    elif (closed.group(1) == "not ok") != (len(t.failed) > failed_before):
        t.problems.append("group %s says '%s' but its results disagree" % (closed.group(2), closed.group(1)))


def count_result(result, expected, t, skipped_by="cmocka"):
    """Count one result; returns the number due next."""
    name = result.description.lstrip("- ") or result.directive.reason
    if result.number != expected:
        t.problems.append("result %s (%s) where %d was due" % (result.number, name, expected))
    if result.skip:
        t.skipped.append((result.directive.reason or name, "skipped by " + skipped_by))
    elif result.todo or result.directive.text:
        t.failed.append(name)
        t.problems.append("%s: unexpected directive '# %s'" % (name, result.directive.text))
    else:
        (t.passed if result.ok else t.failed).append(name)
    return expected + 1
