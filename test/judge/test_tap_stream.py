"""test_tap_stream.py - the plain-TAP reader counts right and trusts nothing else."""
import unittest

import tap_stream


class TapStream(unittest.TestCase):
    def judge(self, text, status=0):
        return tap_stream.judge(text, status)

    def test_counts_pass_fail_skip(self):
        t = self.judge("TAP version 13\n1..3\nok 1 - a\nnot ok 2 - b\n# why\nok 3 - c # SKIP no disk\n", 1)
        self.assertEqual(t.counts(), (1, 1, 1))
        self.assertEqual(t.problems, [])

    def test_no_plan_is_untrusted(self):
        self.assertTrue(self.judge("ok 1 - a\n").problems)

    def test_plan_not_met_is_untrusted(self):
        self.assertTrue(self.judge("1..3\nok 1 - a\nok 2 - b\n").problems)

    def test_numbering_gap_is_untrusted(self):
        self.assertTrue(self.judge("1..2\nok 1 - a\nok 3 - b\n").problems)

    def test_exit_status_must_agree(self):
        self.assertTrue(self.judge("1..1\nok 1 - a\n", 1).problems)
        self.assertTrue(self.judge("1..1\nnot ok 1 - a\n", 0).problems)

    def test_stray_text_is_untrusted(self):
        self.assertTrue(self.judge("1..1\nSegmentation fault\nok 1 - a\n").problems)


if __name__ == "__main__":
    unittest.main()
