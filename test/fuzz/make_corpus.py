#!/usr/bin/env python3
"""make_corpus.py - seed corpora for the paging fuzzers, from the real maps.

Reads the OVMF memory maps captured by test/host/fixtures/capture.py
(test/host/fixtures/*.inc, one FIX(type, start, pages, attr) row each) and
writes the committed seeds:

  test/fuzz/corpus/fuzz_memmap/<machine>-d<size>-<variant>
      the map as raw descriptors of 40, 48 or 64 bytes (in firmware order,
      or reversed), after fuzz_memmap.c's 16-byte header;
  test/fuzz/corpus/fuzz_pagetable/<machine>-<page size>-<part>
      the map's RAM mapped the way layout_build maps it (largest pages
      that fit, at DIRECT_MAP_BASE + pa), each run's last byte translated,
      every second run unmapped again, in fuzz_pagetable.c's 16-byte
      operations.

Files named regress-* in those directories are crash reproducers; this
script leaves them alone.  Run it again after capture.py:

    python3 test/fuzz/make_corpus.py
"""
import glob
import os
import re
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "host", "fixtures")
ROW = re.compile(r"^FIX\((\d+), (0x[0-9A-F]+), (0x[0-9A-F]+), (0x[0-9A-F]+)\)$", re.M)

RAM_TYPES = {1, 2, 3, 4, 5, 6, 7, 9, 10, 14}  # memblock_is_ram(): kinds below MMIO
PAGE_SIZE, MB2, GB1 = 4096, 1 << 21, 1 << 30  # mmu.h: PAGE_SIZE, PAGE_SIZE_2M, PAGE_SIZE_1G
DIRECT_MAP_BASE = 0xFFFF800000000000

# fuzz_memmap.c's header options (enum OPT_*).
OPT_NX, OPT_GB, OPT_RT_RX, OPT_IST, OPT_FB, OPT_KEEP = 1, 2, 4, 8, 16, 32

# fuzz_pagetable.c's operations (enum op) and flags (pagetable.h VM_*).
OP_MAP, OP_UNMAP, OP_TRANSLATE = 0, 1, 2
VM_WRITE, VM_GLOBAL, VM_PAGE_2M, VM_PAGE_1G = 1, 32, 64, 128
MAX_COUNT = 16  # pages per map operation
MAX_OPS = 255   # operations per input: 16 + 255 * 16 = 4096 bytes


def fixtures():
    """(name, [(type, start, pages, attr), ...]) for every captured map."""
    for path in sorted(glob.glob(os.path.join(FIXTURES, "*.inc"))):
        with open(path) as f:
            rows = [tuple(int(x, 0) for x in m) for m in ROW.findall(f.read())]
        yield os.path.basename(path)[:-4], rows


def memmap_seed(rows, desc_size, opts):
    """fuzz_memmap input: struct hdr, then the descriptors."""
    hdr = struct.pack("<HBBBBHBBBBB3x", desc_size, opts, 16, 64, 1, 8, len(rows) - 1,
                      0, 160, 200, 8)
    pad = b"\xa5" * (desc_size - 40)
    return hdr + b"".join(struct.pack("<IIQQQQ", t, 0, s, 0, n, a) + pad
                          for t, s, n, a in rows)


def ram_ranges(rows):
    """The pieces of RAM, as memblock_next_ram() gives them (the captured
    maps do not overlap, so merging descriptors gives the same)."""
    out = []
    for t, s, n, _ in sorted(r for r in rows if r[0] in RAM_TYPES and r[2]):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], s + n * PAGE_SIZE)
        else:
            out.append([s, s + n * PAGE_SIZE])
    return out


def op(kind, va, pa=0, count=0, flags=0):
    """One fuzz_pagetable operation (16 bytes; shape 0 = canonical va)."""
    return struct.pack("<BBBB", kind, flags, count, 0) + \
        (va & (1 << 48) - 1).to_bytes(6, "little") + (pa >> 12).to_bytes(5, "little") + b"\0"


def best_page(pa, end, gb):
    """The largest page map_best() would use at pa with end still to map."""
    for size in ([GB1] if gb else []) + [MB2]:
        if pa % size == 0 and end - pa >= size:
            return size
    return PAGE_SIZE


def best_pages(start, end, gb):
    """(pa, page size, count) runs covering [start, end) as map_best does,
    at most MAX_COUNT pages a run."""
    pa = start
    while pa < end:
        size, n = best_page(pa, end, gb), 1
        while n < MAX_COUNT and best_page(pa + n * size, end, gb) == size:
            n += 1
        yield pa, size, n
        pa += n * size


def pagetable_seeds(rows, gb, nframes):
    """fuzz_pagetable inputs: header, then the direct map run by run, each
    map followed by a translation of its last byte, every second run
    unmapped again at once; split into files of at most MAX_OPS
    operations (-max_len=4096 would cut longer ones short)."""
    flags_of = {PAGE_SIZE: 0, MB2: VM_PAGE_2M, GB1: VM_PAGE_1G}
    hdr = struct.pack("<BHx12x", 1 | (2 if gb else 0), nframes)
    body = []
    runs = [(pa, size, n) for s, e in ram_ranges(rows) for pa, size, n in best_pages(s, e, gb)]
    for i, (pa, size, n) in enumerate(runs):
        va = DIRECT_MAP_BASE + pa
        body.append(op(OP_MAP, va, pa, n, VM_WRITE | VM_GLOBAL | flags_of[size]))
        body.append(op(OP_TRANSLATE, va + n * size - 1))
        if i % 2:
            body.append(op(OP_UNMAP, va, 0, n, flags_of[size]))
    return [hdr + b"".join(body[i:i + MAX_OPS]) for i in range(0, len(body), MAX_OPS)]


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    full = OPT_NX | OPT_GB | OPT_IST | OPT_FB | OPT_KEEP
    for name, rows in fixtures():
        write("fuzz_memmap", name + "-d48-full", memmap_seed(rows, 48, full))
        write("fuzz_memmap", name + "-d40-nx", memmap_seed(rows, 40, OPT_NX))
        write("fuzz_memmap", name + "-d64-reversed", memmap_seed(rows[::-1], 64, full | OPT_RT_RX))
        for pages in ("2m", "1g"):
            for i, data in enumerate(pagetable_seeds(rows, pages == "1g", 64)):
                write("fuzz_pagetable", "%s-%s-%d" % (name, pages, i), data)
    print("make_corpus: wrote seeds under %s" % os.path.relpath(os.path.join(HERE, "corpus")))


if __name__ == "__main__":
    main()
