"""test_case_verdict.py - how the runner judges one QEMU boot: the ending
QMP saw (qemu.ending_of) against the one the case expects, and the KTAP
skips against the ones it lists.  Boots are faked: no QEMU runs here."""
import os
import sys
import unittest
from types import SimpleNamespace

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import run_tests  # noqa: E402  (puts test/qemu on the path)
import qemu  # noqa: E402
from cases import Case  # noqa: E402

KTAP_SKIP = ("KTAP version 1\n1..2\nok 1 a\nok 2 paging_write_xor_execute # SKIP no NX\n"
             "# Totals: pass:1 fail:0 skip:1\n")


def recorder(*reasons):
    """A stand-in for qmp.Recorder that saw SHUTDOWN events with these reasons."""
    events = [("SHUTDOWN", {"guest": True, "reason": r}) for r in reasons]
    return SimpleNamespace(shutdown_reason=lambda: events[0][1]["reason"] if events else None)


def boot(ending, status=qemu.EXIT_PASS, text=KTAP_SKIP):
    return SimpleNamespace(triple_fault=False, timed_out=False, ending=ending, status=status, text=text)


class EndingOf(unittest.TestCase):
    def test_each_ending_is_named(self):
        self.assertEqual(qemu.ending_of(False, 0, recorder("guest-shutdown"), None), "shutdown")
        self.assertEqual(qemu.ending_of(False, 0, recorder("guest-reset"), None), "reset")
        self.assertEqual(qemu.ending_of(False, 33, recorder(), None), "debug-exit")
        self.assertEqual(qemu.ending_of(True, -9, recorder(), None), "timeout")

    def test_unclear_endings_are_not_mistaken_for_good_ones(self):
        self.assertEqual(qemu.ending_of(False, 0, recorder(), None),
                         "exit status 0 without a SHUTDOWN event")
        self.assertEqual(qemu.ending_of(False, 0, recorder("host-signal"), None),
                         "SHUTDOWN event with reason host-signal")
        self.assertTrue(qemu.ending_of(False, 0, None, "no socket").startswith("unknown"))

    def test_a_stop_line_ending_needs_our_signal_to_have_ended_qemu(self):
        # We sent SIGTERM at the case's stop line, and QEMU says so: stop-line.
        self.assertEqual(qemu.ending_of(False, 0, recorder("host-signal"), None, stopped=True),
                         "stop-line")
        # The guest had powered off before our signal landed: not a stop.
        self.assertEqual(qemu.ending_of(False, 0, recorder("guest-shutdown"), None, stopped=True),
                         "shutdown")
        self.assertEqual(qemu.ending_of(False, 33, recorder(), None, stopped=True), "debug-exit")


class Judge(unittest.TestCase):
    def test_a_reset_where_a_shutdown_was_due_fails(self):
        case = Case("c", status=0, ending="shutdown", skips=["paging_write_xor_execute"])
        problems, _ = run_tests.judge(case, boot("reset", status=0))
        self.assertEqual(problems, ["ended by reset, expected shutdown"])

    def test_the_expected_ending_and_skip_pass(self):
        case = Case("c", skips=["paging_write_xor_execute"])
        problems, report = run_tests.judge(case, boot("debug-exit"))
        self.assertEqual(problems, [])
        self.assertEqual(report.counts(), (1, 0, 1))

    def test_an_unlisted_skip_fails(self):
        problems, _ = run_tests.judge(Case("c"), boot("debug-exit"))
        self.assertEqual(problems, ["unexpected SKIP: paging_write_xor_execute (no NX)"])

    def test_a_listed_skip_that_ran_fails(self):
        case = Case("c", skips=["paging_write_xor_execute"])
        text = KTAP_SKIP.replace(" # SKIP no NX", "").replace("pass:1 fail:0 skip:1", "pass:2 fail:0 skip:0")
        problems, _ = run_tests.judge(case, boot("debug-exit", text=text))
        self.assertEqual(problems, ["paging_write_xor_execute should have been skipped on this machine"])
