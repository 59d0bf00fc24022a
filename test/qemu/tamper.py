"""tamper.py - change one byte of a signed EFI image, for the Secure Boot
case that the firmware must refuse (test/qemu/cases.py).

The byte changed is padding: a byte of a section's raw data in the file
past the section's size in memory.  The image the firmware would load is
the same byte for byte, so only the signature can tell the copies apart;
Authenticode hashes each section's whole raw data, padding included.
"""
import struct
import subprocess

# The PE/COFF layout (Microsoft PE format): where the header starts, and
# the fields of the COFF header and of one section header we read.
PE_OFFSET_AT = 0x3C        # e_lfanew in the DOS header
COFF_HEADER_SIZE = 20      # after the 4-byte "PE\0\0" signature
SECTION_HEADER_SIZE = 40


def sections(data):
    """(name, virtual size, raw size, raw offset) of each section."""
    pe = struct.unpack_from("<I", data, PE_OFFSET_AT)[0]
    if data[pe:pe + 4] != b"PE\0\0":
        raise ValueError("not a PE image")
    count, opt_size = struct.unpack_from("<H12xH", data, pe + 6)
    table = pe + 4 + COFF_HEADER_SIZE + opt_size
    out = []
    for i in range(count):
        h = table + i * SECTION_HEADER_SIZE
        name = data[h:h + 8].rstrip(b"\0").decode("ascii", "replace")
        vsize, _, raw_size, raw_off = struct.unpack_from("<4I", data, h + 8)
        out.append((name, vsize, raw_size, raw_off))
    return out


def padding_offset(data):
    """The file offset of the first padding byte of the first section
    whose raw data is longer than its size in memory."""
    for name, vsize, raw_size, raw_off in sections(data):
        if raw_size > vsize:
            return raw_off + vsize
    raise ValueError("no section has padding to change")


def flip_one_byte(src, dst, cert):
    """Write src to dst with one padding byte inverted, and check with
    sbverify that the signature no longer holds for cert: a copy whose
    change the signature does not cover would prove nothing."""
    with open(src, "rb") as f:
        data = bytearray(f.read())
    off = padding_offset(data)
    data[off] ^= 0xFF
    with open(dst, "wb") as f:
        f.write(data)
    check = subprocess.run(["sbverify", "--cert", cert, dst], capture_output=True, text=True)
    if check.returncode == 0:
        raise RuntimeError("%s still verifies after changing byte 0x%x" % (dst, off))
    return off
