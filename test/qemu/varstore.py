"""varstore.py - switch Secure Boot off in a copy of an OVMF vars store,
the way a user does in a PC's firmware setup: the keys stay enrolled (so
the firmware is not in setup mode), the firmware just stops checking.
The loader must then say "loader: Secure Boot off".

edk2 keeps that switch in a variable of its own, SecureBootEnable (one
byte, 1 = on), and sets the SecureBoot variable from it and the Platform
Key at every boot.  The vars store is a list of variables, each a 60-byte
header (edk2's AUTHENTICATED_VARIABLE_HEADER), its UCS-2 name, its data.
We change the one data byte, after checking every field around it.
"""
import struct
import uuid

NAME = "SecureBootEnable"
# edk2's gEfiSecureBootEnableDisableGuid: the variable's vendor GUID.
VENDOR = uuid.UUID("f0a30bc7-af08-4556-99c4-001009c93a44").bytes_le
START_ID = 0x55AA       # every variable header begins with it
VAR_ADDED = 0x3F        # the state of a live variable
NV_BS = 0x3             # non-volatile, boot-services access
# StartId, State, Reserved, Attributes, MonotonicCount, TimeStamp (16),
# PubKeyIndex, NameSize, DataSize, VendorGuid: 60 bytes.
HEADER = struct.Struct("<HBBIQ16sIII16s")


def secure_boot_enable_offset(store):
    """The offset of SecureBootEnable's data byte in store (bytes), after
    checking that exactly one live, one-byte copy of it exists there.
    Raises ValueError otherwise: a store we do not understand is not
    patched by guesswork."""
    name = (NAME + "\0").encode("utf-16-le")
    found = []
    at = store.find(name)
    while at >= 0:
        h = at - HEADER.size
        start, state, _, attrs, _, _, _, name_size, data_size, vendor = HEADER.unpack_from(store, h)
        if start == START_ID and state == VAR_ADDED and vendor == VENDOR and name_size == len(name):
            if attrs != NV_BS or data_size != 1:
                raise ValueError("%s: attributes 0x%x, %d bytes" % (NAME, attrs, data_size))
            found.append(at + name_size)
        at = store.find(name, at + 1)
    if len(found) != 1:
        raise ValueError("%d live copies of %s in the vars store" % (len(found), NAME))
    return found[0]


def switch_secure_boot_off(path):
    """Set SecureBootEnable to 0 in the vars store at path, in place."""
    with open(path, "r+b") as f:
        store = f.read()
        at = secure_boot_enable_offset(store)
        if store[at] != 1:
            raise ValueError("%s is %d, not 1" % (NAME, store[at]))
        f.seek(at)
        f.write(b"\0")
