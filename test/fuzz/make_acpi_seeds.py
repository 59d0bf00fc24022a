#!/usr/bin/env python3
"""make_acpi_seeds.py - seeds for fuzz_acpi: physical memory holding an
RSDP at its first byte (address 0x80000 to the fuzzer), its root table
and a MADT, checksums right, as OVMF lays them out in small.

    python3 test/fuzz/make_acpi_seeds.py test/fuzz/corpus/fuzz_acpi
"""
import os
import struct
import sys

BASE = 0x80000


def checksum(b, at):
    b[at] = 0
    b[at] = (-sum(b)) & 0xFF


def table(sig, body):
    b = bytearray(sig + struct.pack("<IBB6s8sIII", 36 + len(body), 1, 0, b"SEEDS ",
                                    b"FUZZACPI", 1, 0, 0) + body)
    checksum(b, 9)
    return bytes(b)


def madt(entries):
    return table(b"APIC", struct.pack("<II", 0xFEE00000, 1) + b"".join(entries))


def lapic(uid, apic_id, flags):
    return struct.pack("<BBBBI", 0, 8, uid, apic_id, flags)


def x2apic(apic_id, uid, flags):
    return struct.pack("<BBHIII", 9, 16, 0, apic_id, flags, uid)


def memory(revision, m):
    """RSDP at 0, root table at 0x40, MADT at 0x100."""
    root_pa, madt_pa = BASE + 0x40, BASE + 0x100
    if revision >= 2:
        root = table(b"XSDT", struct.pack("<Q", madt_pa))
    else:
        root = table(b"RSDT", struct.pack("<I", madt_pa))
    rsdp = bytearray(b"RSD PTR " + bytes(1) + b"SEEDS " + bytes([revision]) +
                     struct.pack("<IIQ", 0 if revision >= 2 else root_pa, 36,
                                 root_pa if revision >= 2 else 0) + bytes(4))
    checksum(rsdp, 8)
    b = bytearray(rsdp[:20])
    checksum(b, 8)
    rsdp[:20] = b
    checksum(rsdp, 32)
    mem = bytearray(0x100 + len(m))
    mem[0:36] = rsdp
    mem[0x40:0x40 + len(root)] = root
    mem[0x100:] = m
    return bytes(mem)


SEEDS = {
    "xsdt-4-cpus": memory(2, madt([lapic(i, i, 1) for i in range(4)])),
    "rsdt-2-cpus": memory(0, madt([lapic(0, 0, 1), lapic(1, 1, 1)])),
    "x2apic-mixed": memory(2, madt([lapic(0, 0, 1), x2apic(0, 0, 1), x2apic(300, 1, 1),
                                    x2apic(0xFFFFFFFF, 2, 1)])),
    "flags": memory(2, madt([lapic(0, 0, 1), lapic(1, 1, 0), lapic(2, 2, 2), lapic(3, 3, 3),
                             struct.pack("<BBHQ", 5, 12, 0, 0xFEE00000)])),
}

if __name__ == "__main__":
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
