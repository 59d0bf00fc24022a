#!/usr/bin/env python3
"""workload.py - a python3 workload for the malloc preload (check.py, bench.py).

Run with PYTHONMALLOC=malloc so every Python object is a malloc block:
dicts, sorting, a JSON round trip, string building, and a few MB of live
objects that churn.  Prints a digest of everything it computed, so two runs
(glibc's malloc, then ours) must print the same text.  Deterministic: a
fixed seed, and no output that depends on addresses or hash order.

    workload.py [SCALE]    SCALE (default 1) multiplies every loop count;
                           the live set of the churn part stays ~6 MB.
"""
import hashlib
import json
import random
import sys


def dicts(rng, digest, scale):
    """Build, grow and shrink dicts of records keyed by strings."""
    table = {}
    for i in range(int(60000 * scale)):
        key = "k%d" % rng.randrange(40000)
        rec = table.setdefault(key, {"n": 0, "tags": []})
        rec["n"] += 1
        rec["tags"].append(i % 7)
        if i % 5 == 0:
            table.pop("k%d" % rng.randrange(40000), None)
    digest.update(repr(sorted((k, v["n"], sum(v["tags"])) for k, v in table.items())).encode())
    return len(table)


def sorting(rng, digest, scale):
    """Sort tuples, strings and floats several ways."""
    rows = [(rng.randrange(1000), "s%07d" % rng.randrange(10 ** 7), rng.random()) for _ in range(int(80000 * scale))]
    for key in (None, lambda r: r[1], lambda r: (-r[0], r[2])):
        digest.update(repr(sorted(rows, key=key)[::997]).encode())
    return len(rows)


def json_round_trip(rng, digest, scale):
    """Encode nested objects to JSON and back, and check they survive."""
    doc = [{"id": i, "name": "item-%d" % i, "vals": [rng.random() for _ in range(8)],
            "sub": {"a": [i] * (i % 9), "b": str(i) * (i % 5)}} for i in range(int(15000 * scale))]
    text = json.dumps(doc, sort_keys=True)
    back = json.loads(text)
    if back != doc:
        raise SystemExit("json round trip changed the document")
    digest.update(hashlib.sha256(text.encode()).digest())
    return len(text)


def strings(rng, digest, scale):
    """Build strings by concatenation, join and replace."""
    parts = []
    s = ""
    for i in range(int(40000 * scale)):
        s += chr(97 + i % 26)
        if len(s) > 300:
            parts.append(s.replace("a", "AA"))
            s = ""
        if i % 3 == 0:
            parts.append("%x" % rng.getrandbits(64))
    text = "|".join(parts)
    digest.update(text.encode())
    return len(text)


def churn(rng, digest, scale):
    """Keep about 6 MB of objects of mixed sizes live; replace them at random."""
    live = [bytearray(rng.randrange(16, 4096)) for _ in range(3000)]
    for step in range(int(60000 * scale)):
        i = rng.randrange(len(live))
        live[i] = bytearray([step & 255]) * rng.randrange(16, 4096)
    total = sum(len(b) for b in live)
    digest.update(b"".join(bytes(b[:1]) for b in live))
    return total


def main():
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    rng = random.Random(1234)
    digest = hashlib.sha256()
    for part in (dicts, sorting, json_round_trip, strings, churn):
        print("%-16s %d" % (part.__name__, part(rng, digest, scale)))
    print("digest", digest.hexdigest())
    return 0


if __name__ == "__main__":
    sys.exit(main())
