#!/usr/bin/env python3
"""make_format_seeds.py - seed inputs for fuzz_format (kernel/format.c).

Each seed encodes pieces the way fuzz_format.c's build_piece() reads
them, one input byte per choice, so the fuzzer starts from the formats
the kernel really prints: the layout report's columns, 64-bit hex with
zero padding, star widths and precisions, NULL %p, extremes cut short.
Writes test/fuzz/corpus/fuzz_format/seed-*.  Run it again after
changing build_piece():

    python3 test/fuzz/make_format_seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
CONVS = "diuoxXcsp"
LENGTHS = ["", "hh", "h", "l", "ll", "z", "j", "t"]
FLAG_BITS = {"-": 1, "0": 2, "+": 4, " ": 8, "#": 16}
BUF = 512


def piece(conv, text="", flags="", width=None, star_width=None, precision=None,
          star_precision=None, length="", value=0, string=b"", size=BUF):
    """One piece: the bytes build_piece() turns into
    text %[flags][width][.precision][length]conv, value, string, size."""
    out = bytes([CONVS.index(conv), len(text)])
    out += bytes(ord(c) - ord(" ") for c in text)
    out += bytes([1])  # no "%%" after the text
    out += bytes([sum(FLAG_BITS[f] for f in flags)])
    w = 2 if star_width is not None else 1 if width is not None else 0
    p = 3 if star_precision is not None else 2 if precision is not None else 0
    out += bytes([w, p])
    if star_width is not None:
        out += bytes([star_width + 99])
    elif width is not None:
        out += bytes([width])
    if star_precision is not None:
        out += bytes([star_precision + 99])
    elif precision is not None:
        out += bytes([precision])
    out += bytes([LENGTHS.index(length)])
    out += struct.pack(">Q", value & (2**64 - 1))
    out += (string + b"\x01" * 15)[:15] + bytes([len(string)])
    out += bytes([1]) if size == BUF else bytes([0, size])
    return out


SEEDS = {
    # vm_print_layout: "%-20s 0x%016lX %10lu KiB"
    "seed-layout": piece("s", flags="-", width=20, string=b"kernel stack")
    + piece("X", text=" 0x", flags="0", width=16, length="l", value=0xFFFFFE0000000000)
    + piece("u", text=" ", width=10, length="l", value=3072),
    # exceptions and memsummary: "0x%lX", "%u", "%ld"
    "seed-kernel-lines": piece("X", text="CR2=0x", length="l", value=0x444444440010)
    + piece("u", text="fb ", value=1280) + piece("d", length="l", value=-1),
    # stars: negative width means '-', negative precision means none
    "seed-stars": piece("d", star_width=-12, star_precision=5, value=42)
    + piece("s", star_width=8, star_precision=-1, string=b"abc")
    + piece("x", flags="#", star_width=0, star_precision=0, value=0),
    # extremes, cut short by small buffers
    "seed-extremes": piece("d", flags="+", length="ll", value=-(2**63), size=7)
    + piece("o", flags="#", length="j", value=2**64 - 1, size=0)
    + piece("u", length="hh", value=0x1FF, size=2),
    # pointers, characters and a NULL pointer
    "seed-pointers": piece("p", flags="-", width=20, value=0x7FFC0000)
    + piece("p", value=0) + piece("c", width=3, value=ord("%")),
}


def main():
    d = os.path.join(HERE, "corpus", "fuzz_format")
    os.makedirs(d, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    print("make_format_seeds: wrote %d seeds under %s" % (len(SEEDS), os.path.relpath(d)))


if __name__ == "__main__":
    main()
