"""test_cmocka_tap.py - the host-test judge, on a misbehaving cmocka program
(fixtures/judge_fixture.c, built as build/judge/judge_fixture by `make
test`) and on recorded TAP that cmocka would never print but a broken
program could.

The old scraper counted one_of_each as "1 passed, 2 failed" (the failure
is listed twice and the skip vanished) and passed no_test, not_tap and
stops_early.
"""
import os
import unittest

import cmocka_tap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXTURE = os.path.join(ROOT, "build", "judge", "judge_fixture")


def run_fixture(mode):
    """Run the fixture program in one mode; fail the test if it is missing."""
    if not os.access(FIXTURE, os.X_OK):
        raise AssertionError("%s is missing: `make test` builds it" % FIXTURE)
    return cmocka_tap.run(FIXTURE, mode)[0]


class FixtureProgram(unittest.TestCase):
    def test_one_of_each_counts_a_pass_a_failure_and_a_skip(self):
        t = run_fixture("one_of_each")
        self.assertEqual(t.counts(), (1, 1, 1))
        self.assertEqual(t.failed, ["fails"])
        self.assertEqual(t.problems, [])

    def test_two_groups_are_both_counted(self):
        t = run_fixture("two_groups")
        self.assertEqual(t.counts(), (3, 0, 1))
        self.assertEqual(t.problems, [])
        self.assertTrue(t.clean())

    def test_no_test_fails(self):
        t = run_fixture("no_test")
        self.assertEqual(t.counts(), (0, 0, 0))
        self.assertIn("no TAP plan", t.problems[0])
        self.assertFalse(t.clean())

    def test_text_inside_the_tap_fails(self):
        t = run_fixture("not_tap")
        self.assertEqual(t.problems, ["not TAP: 'this line is not TAP'"])

    def test_stopping_before_the_plan_is_met_fails(self):
        t = run_fixture("stops_early")
        self.assertEqual(t.counts(), (1, 0, 0))
        self.assertIn("plan 1..3 but 1 results", t.problems)
        self.assertFalse(t.clean())

    def test_a_crash_fails(self):
        t = run_fixture("crashes")
        self.assertIn("killed by signal 6", t.problems)
        self.assertFalse(t.clean())


# Recorded output: (name, TAP text, exit status, a problem that must be reported).
BROKEN = [
    ("duplicate number", "1..2\nok 1 - a\nok 1 - b\n# ok - g\n", 0, "result 1 (b) where 2 was due"),
    ("out of order", "1..2\nok 2 - a\nok 1 - b\n# ok - g\n", 0, "result 2 (a) where 1 was due"),
    ("no number", "1..1\nok - a\n# ok - g\n", 0, "result None (a) where 1 was due"),
    ("more than planned", "1..1\nok 1 - a\nok 2 - b\n# ok - g\n", 0, "plan 1..1 but 2 results"),
    ("empty plan", "1..0\n# ok - g\n", 0, "plan 1..0 but 0 results"),
    ("lying group line", "1..1\nnot ok 1 - a\n# ok - g\n", 1, "group g says 'ok' but its results disagree"),
    ("exit status without failure", "1..1\nok 1 - a\n# ok - g\n", 1, "exit status 1, yet no test failed"),
    ("failure with exit status 0", "1..1\nnot ok 1 - a\n# not ok - g\n", 0, "exit status 0, yet 1 tests failed"),
    ("text before the plan", "hello\n1..1\nok 1 - a\n# ok - g\n", 0, "output before the first plan: 'hello'"),
    ("text after the group", "1..1\nok 1 - a\n# ok - g\nbye\n", 0, "text after the group's closing line: 'bye'"),
    ("bail out", "1..2\nok 1 - a\nBail out! disk full\n", 0, "not TAP: 'Bail out! disk full'"),
    ("todo", "1..1\nnot ok 1 - a # TODO later\n# not ok - g\n", 1, "a: unexpected directive '# TODO later'"),
]


class RecordedOutput(unittest.TestCase):
    def test_each_broken_report_is_caught(self):
        for name, text, status, problem in BROKEN:
            with self.subTest(name):
                t = cmocka_tap.judge(text, status)
                self.assertIn(problem, t.problems)
                self.assertFalse(t.clean())

    def test_skip_is_never_a_pass(self):
        t = cmocka_tap.judge("1..2\nok 1 - a\nnot ok 2 # SKIP b\n# ok - g\n", 0)
        self.assertEqual((t.passed, t.skipped, t.problems), (["a"], [("b", "skipped by cmocka")], []))
