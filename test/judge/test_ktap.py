"""test_ktap.py - the kernel's KTAP reader (ktap.py) on a clean report and
on a table of broken ones, each of which must be caught."""
import unittest

import ktap

GOOD = """\
loader: exiting boot services
KTAP version 1
1..3
ok 1 boot_info_memory_map
# frames: total 53610, free 53310
not ok 2 heap_alignment
ok 3 paging_write_xor_execute # SKIP the CPU has no NX bit
# Totals: pass:1 fail:1 skip:1
kernel: run FAILED
"""


def replaced(old, new):
    """GOOD with one piece changed (it must be there to change)."""
    assert old in GOOD, old
    return GOOD.replace(old, new)


# (name, serial text, a problem the reader must report)
BROKEN = [
    ("no header", replaced("KTAP version 1\n", ""), "no 'KTAP version 1' header"),
    ("two headers", replaced("kernel:", "KTAP version 1\nkernel:"), "2 'KTAP version 1' headers: the kernel started its report again"),
    ("missing plan", replaced("1..3\n", ""), "no '1..N' plan right after the header"),
    ("empty plan", "KTAP version 1\n1..0\n# Totals: pass:0 fail:0 skip:0\n", "empty plan 1..0: no test ran"),
    ("duplicate number", replaced("not ok 2", "not ok 1"), "result 1 (heap_alignment) where 2 was due"),
    ("duplicate name", replaced("heap_alignment", "boot_info_memory_map"), "boot_info_memory_map reported twice"),
    ("out of order", replaced("ok 1 boot", "ok 2 boot").replace("not ok 2", "not ok 1"),
     "result 2 (boot_info_memory_map) where 1 was due"),
    ("gap", replaced("ok 3 ", "ok 4 "), "result 4 (paging_write_xor_execute) where 3 was due"),
    ("fewer results than planned", replaced("1..3", "1..4"), "plan 1..4 but 3 results"),
    ("more results than planned", replaced("1..3", "1..2"), "plan 1..2 but 3 results"),
    ("lying Totals", replaced("pass:1 fail:1", "pass:2 fail:0"),
     "'# Totals: pass:2 fail:0 skip:1' but the results say pass:1 fail:1 skip:1"),
    ("skip counted as pass in Totals", replaced("pass:1 fail:1 skip:1", "pass:2 fail:1 skip:0"),
     "'# Totals: pass:2 fail:1 skip:0' but the results say pass:1 fail:1 skip:1"),
    ("no Totals", replaced("# Totals: pass:1 fail:1 skip:1\n", ""), "no '# Totals: pass:P fail:F skip:S' line"),
    ("crash mid-line", replaced("not ok 2 heap_alignment", "ok 2 heap_alEXCEPTION: vector 14, #PF"),
     "not KTAP, the report stops here: 'ok 2 heap_alEXCEPTION: vector 14, #PF'"),
    ("crash between tests", replaced("not ok 2", "EXCEPTION: vector 13\nnot ok 2"),
     "not KTAP, the report stops here: 'EXCEPTION: vector 13'"),
    ("skip without a reason", replaced("# SKIP the CPU has no NX bit", "# SKIP"),
     "paging_write_xor_execute: directive '# SKIP' needs 'ok N name # SKIP reason'"),
    ("not ok with SKIP", replaced("ok 3 paging", "not ok 3 paging"),
     "paging_write_xor_execute: directive '# SKIP' needs 'ok N name # SKIP reason'"),
    ("TODO", replaced("# SKIP the CPU", "# TODO the CPU"),
     "paging_write_xor_execute: directive '# TODO' needs 'ok N name # SKIP reason'"),
    ("nested subtest", replaced("ok 1 boot", "    ok 1 sub\nok 1 boot"), "not KTAP, the report stops here: '    ok 1 sub'"),
]


class Read(unittest.TestCase):
    def test_clean_report_counts_pass_fail_and_skip(self):
        t = ktap.read(GOOD)
        self.assertEqual(t.problems, [])
        self.assertEqual(t.passed, ["boot_info_memory_map"])
        self.assertEqual(t.failed, ["heap_alignment"])
        self.assertEqual(t.skipped, [("paging_write_xor_execute", "the CPU has no NX bit")])

    def test_each_broken_report_is_caught(self):
        for name, text, problem in BROKEN:
            with self.subTest(name):
                self.assertIn(problem, ktap.read(text).problems)

    def test_a_skip_alone_is_clean_but_a_failure_is_not(self):
        self.assertFalse(ktap.read(GOOD).clean())
        t = ktap.read(replaced("not ok 2", "ok 2").replace("pass:1 fail:1", "pass:2 fail:0"))
        self.assertTrue(t.clean())
        self.assertEqual(t.counts(), (2, 0, 1))
