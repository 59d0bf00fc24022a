"""ktap.py - a strict reader of the kernel's KTAP self-test report.

The kernel (kernel/selftest.c) prints, after its boot log:

    KTAP version 1
    1..N
    ok 1 boot_info_memory_map
    # a diagnostic line
    not ok 2 some_test
    ok 3 paging_write_xor_execute # SKIP the CPU has no NX bit
    # Totals: pass:1 fail:1 skip:1

read() accepts exactly that shape and reports anything else as a problem:
no header or two, no plan or an empty one, a result numbered out of order,
twice or past the plan, a line that is not KTAP (a crash report cutting
in), a result count that differs from the plan, a missing `# Totals:`
line or one that disagrees with the lines above it.  `# SKIP` counts as
skipped, never as passed.
"""
import re

from tally import Tally

HEADER = "KTAP version 1"
PLAN = re.compile(r"1\.\.(\d+)")
# "ok 3 name" or "not ok 3 name", then optionally " # DIRECTIVE reason".
RESULT = re.compile(r"(ok|not ok) (\d+) (\w+)(?: # (\S+)(?: (.*))?)?")
TOTALS = re.compile(r"# Totals: pass:(\d+) fail:(\d+) skip:(\d+)")


def read(text):
    """Judge the KTAP report in text (a whole serial log); return a Tally."""
    t = Tally()
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line == HEADER]
    if not starts:
        t.problems.append("no '%s' header" % HEADER)
        return t
    if len(starts) > 1:
        t.problems.append("%d '%s' headers: the kernel started its report again" % (len(starts), HEADER))
    body = lines[starts[0] + 1:]
    plan = PLAN.fullmatch(body[0]) if body else None
    if not plan:
        t.problems.append("no '1..N' plan right after the header")
        return t
    planned = int(plan.group(1))
    if planned == 0:
        t.problems.append("empty plan 1..0: no test ran")
    totals, seen = _read_results(body[1:], t)
    if seen != planned:
        t.problems.append("plan 1..%d but %d results" % (planned, seen))
    _check_totals(totals, t)
    return t


def _read_results(lines, t):
    """Read result and diagnostic lines up to `# Totals:` into t.
    Returns (the Totals match or None, how many results were read)."""
    expected, names = 1, set()
    for line in lines:
        totals = TOTALS.fullmatch(line)
        if totals:
            return totals, expected - 1
        if line.startswith("#"):
            continue
        m = RESULT.fullmatch(line)
        if not m:
            t.problems.append("not KTAP, the report stops here: %r" % line[:120])
            return None, expected - 1
        number, name = int(m.group(2)), m.group(3)
        if number != expected:
            t.problems.append("result %d (%s) where %d was due" % (number, name, expected))
        if name in names:
            t.problems.append("%s reported twice" % name)
        names.add(name)
        _count(m, t)
        expected += 1
    return None, expected - 1


def _count(m, t):
    """Count one result line: SKIP only with `ok` and a reason."""
    ok, name, directive, reason = m.group(1) == "ok", m.group(3), m.group(4), m.group(5)
    if directive is None:
        (t.passed if ok else t.failed).append(name)
    elif directive == "SKIP" and ok and reason:
        t.skipped.append((name, reason))
    else:
        t.failed.append(name)
        t.problems.append("%s: directive '# %s' needs 'ok N name # SKIP reason'" % (name, directive))


def _check_totals(totals, t):
    if not totals:
        t.problems.append("no '# Totals: pass:P fail:F skip:S' line")
        return
    said = tuple(int(g) for g in totals.groups())
    if said != t.counts():
        t.problems.append("'%s' but the results say pass:%d fail:%d skip:%d"
                          % (totals.group(0), *t.counts()))
