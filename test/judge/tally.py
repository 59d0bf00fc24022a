"""tally.py - what a test report said, as the judge counts it.

Both readers (cmocka_tap.py for the host tests, ktap.py for the kernel's
self-tests) return a Tally: the names that passed, failed and were
skipped, and the problems with the report itself.  A problem means the
report cannot be trusted (no plan, a gap in the numbering, a count that
does not add up, a crash mid-report), so it fails the run even when every
line that did arrive said `ok`.
"""
from dataclasses import dataclass, field


@dataclass
class Tally:
    passed: list = field(default_factory=list)    # test names
    failed: list = field(default_factory=list)    # test names
    skipped: list = field(default_factory=list)   # (test name, reason)
    problems: list = field(default_factory=list)  # sentences about the report

    def add(self, other):
        """Add other's results and problems to this tally."""
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped
        self.problems += other.problems

    def counts(self):
        """(passed, failed, skipped) as numbers."""
        return len(self.passed), len(self.failed), len(self.skipped)

    def clean(self):
        """True when nothing failed, the report is sound, and a test ran."""
        return not self.failed and not self.problems and bool(self.passed or self.skipped)

    def summary(self):
        """"P passed, F failed" with ", S skipped" when there are skips."""
        p, f, s = self.counts()
        return "%d passed, %d failed" % (p, f) + (", %d skipped" % s if s else "")
