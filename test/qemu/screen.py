"""screen.py - read what the kernel drew, from QEMU screendumps.

With pause=key the kernel stops at named points ("# screen: paused
NAME" on serial, after the screen is finished) and waits for a key;
qemu.boot() calls us at each stop, and we ask QEMU over QMP for a
screendump (PPM: a short text header, then 3 bytes R G B per pixel), then
send the key.  Afterwards the checks read the dumps as a person would:
is something on the screen, does the heap picture show what heap_stats
said, is the verdict line in the verdict's colour.

The colours are kernel/pixels.h's palette, as the screen shows them
whatever the framebuffer's pixel format (RGBX or BGRX).
"""
import collections
import os
import re

import qemu

SCREENS = os.path.join(qemu.BUILD, "screens")

# kernel/pixels.h
TEXT = (0xC0, 0xC0, 0xC0)
BLACK = (0, 0, 0)
OK = (0x33, 0xDD, 0x33)
BAD = (0xFF, 0x40, 0x40)
REPORT = {(0xFF, 0xFF, 0xFF), (0xB0, 0, 0)}     # white on red: a panic or exception
USED = {(0xE0, 0x80, 0x20), (0x80, 0x40, 0x10)}   # a used block, its header
FREE = {(0x20, 0x50, 0x80), (0x40, 0x80, 0xC0)}   # a hole, its header
GLYPH_H = 16  # Lat15-Fixed16 (the Makefile's FONT_PSF)

# "# heapview: bar X Y W H size S index I used U free F holes N used_px P free_px Q"
HEAPVIEW = re.compile(r"^# heapview: bar (\d+) (\d+) (\d+) (\d+) size (\d+) index (\d+) "
                      r"used (\d+) free (\d+) holes (\d+) used_px (\d+) free_px (\d+)$", re.M)


class Ppm:
    """A binary PPM (P6, maxval 255): width, height, pixel(x, y) -> (r, g, b)."""

    def __init__(self, path):
        with open(path, "rb") as f:
            data = f.read()
        fields, pos = [], 0
        while len(fields) < 4:
            m = re.compile(rb"\s*(#[^\n]*\n\s*)*(\S+)").match(data, pos)
            fields.append(m.group(2))
            pos = m.end()
        if fields[0] != b"P6" or fields[3] != b"255":
            raise ValueError("%s: not a P6 PPM with maxval 255" % path)
        self.width, self.height = int(fields[1]), int(fields[2])
        self.data = data[pos + 1:]

    def pixel(self, x, y):
        i = 3 * (y * self.width + x)
        return tuple(self.data[i:i + 3])

    def colours(self, x, y, w, h):
        """How many pixels of each colour the rectangle holds."""
        counts = collections.Counter()
        for row in range(y, y + h):
            i = 3 * (row * self.width + x)
            line = self.data[i:i + 3 * w]
            counts.update(zip(line[0::3], line[1::3], line[2::3]))
        return counts


def dump_path(case, name):
    return os.path.join(SCREENS, "%s-%s.ppm" % (case, name))


def dumper(case):
    """An on_pause for qemu.boot(): a screendump per stop, named after it.
    The case's old dumps go first: a stop that makes none must show."""
    os.makedirs(SCREENS, exist_ok=True)
    for f in os.listdir(SCREENS):
        if f.startswith(case + "-"):
            os.remove(os.path.join(SCREENS, f))

    def on_pause(name, recorder):
        recorder.command("screendump", filename=dump_path(case, name))
    return on_pause


def stats_before(text, name):
    """The last "# heapview:" line before the stop called name."""
    stop = text.find("# screen: paused %s\n" % name)
    found = list(HEAPVIEW.finditer(text, 0, stop)) if stop >= 0 else []
    return [int(g) for g in found[-1].groups()] if found else None


def check_not_blank(ppm, name):
    lit = sum(n for c, n in ppm.colours(0, 0, ppm.width, ppm.height).items() if c != BLACK)
    if lit < ppm.width * ppm.height // 50:
        return ["%s: the screen is blank (%d lit pixels)" % (name, lit)]
    return []


def check_heap_picture(ppm, name, stats):
    """Used and free pixels of the bar against heap_stats at that scale:
    each run of blocks is rounded to whole pixels at its ends, so they may
    differ by one pixel per hole (kernel/heapbar.c, "Scale")."""
    x, y, w, h, size, index, used, free, holes, used_px, free_px = stats
    counts = ppm.colours(x, y, w, h)
    seen_used = sum(counts.get(c, 0) for c in USED)
    seen_free = sum(counts.get(c, 0) for c in FREE)
    npx, span = w * h, size + index
    problems = []
    for kind, seen, bytes_, slack, drawn in (("used", seen_used, used, holes + 1, used_px),
                                             ("free", seen_free, free, holes, free_px)):
        want = bytes_ * npx // span
        if abs(seen - want) > slack + 1:
            problems.append("%s: %d %s pixels on screen, heap_stats says %d (+-%d)"
                            % (name, seen, kind, want, slack + 1))
        if seen != drawn:
            problems.append("%s: %d %s pixels on screen, the kernel drew %d" % (name, seen, kind, drawn))
    return problems


def text_rows(ppm):
    """The screen's text rows (fbcon.c: GLYPH_H pixels each from the top)
    from the bottom up, as colour counts; empty (all black) rows left out."""
    rows = []
    for top in reversed(range(0, ppm.height - GLYPH_H + 1, GLYPH_H)):
        counts = ppm.colours(0, top, ppm.width, GLYPH_H)
        if set(counts) != {BLACK}:
            rows.append(counts)
    return rows


def check_verdict(ppm, name, text):
    """The line above the pause marker (the last line) is the verdict:
    green when the run passed; after a panic or exception report, white
    on red like the report; else red.  In nothing but those colours."""
    rows = text_rows(ppm)
    if "kernel: run PASSED" in text:
        want = {OK}
    elif "PANIC:" in text or "EXCEPTION:" in text:
        want = REPORT
    else:
        want = {BAD}
    if len(rows) < 2:
        return ["%s: no verdict line on screen" % name]
    colours = set(rows[1]) - {BLACK}
    if colours != want:
        return ["%s: the verdict line is drawn in %s, expected %s"
                % (name, sorted(colours), sorted(want))]
    return []


def check(case, text, stops):
    """Problems with the dumps of the stops a boot made: each must exist
    and show something; each heap picture must match its statistics; the
    verdict must be drawn in the verdict's colour."""
    problems = []
    for name in stops:
        path = dump_path(case, name)
        if not os.path.exists(path):
            problems.append("%s: no screendump" % name)
            continue
        ppm = Ppm(path)
        problems += check_not_blank(ppm, name)
        if name == "verdict":
            problems += check_verdict(ppm, name, text)
            continue
        stats = stats_before(text, name)
        if stats is None:
            problems.append("%s: no '# heapview:' line before the stop" % name)
        else:
            problems += check_heap_picture(ppm, name, stats)
    return problems
