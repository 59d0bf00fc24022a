#!/usr/bin/env python3
"""bench.py - real programs under glibc's malloc and under libheap-preload.so.

    bench.py [--runs N] [--scale S] [--only NAME]   (make bench-preload)

A benchmark, not a test: it prints figures and fails only when a run
fails or the two allocators' outputs differ.  Workloads:
  python3  test/preload/workload.py S, with PYTHONMALLOC=malloc
  sqlite3  test/preload/workload.sql on an in-memory database
  gcc      gcc -O2 -c of a generated C file of ~8,000 lines (cc1 runs
           under the preload too: LD_PRELOAD is inherited)
Each round runs every workload under glibc, then preloaded, side by side;
the table gives the median of N rounds for wall time and for CPU time
(user + system of the child).  CPU time is the steadier figure on a
shared machine.  Build first: make preload.
"""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HERE = os.path.join(ROOT, "test", "preload")
LIB = os.path.join(ROOT, "build", "libheap-preload.so")
WORK = os.path.join(ROOT, "build", "preload")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def big_c_file(path, functions=400):
    """Write a deterministic C file of many small functions: loops,
    switches, structs and arrays, so gcc builds and frees many trees."""
    with open(path, "w") as f:
        f.write("struct pt { long x, y; };\n")
        for i in range(functions):
            f.write("""
long f%d(const long *v, int n, struct pt *p)
{
	long acc = %d;
	for (int i = 0; i < n; i++) {
		switch ((v[i] + i) %% 5) {
		case 0: acc += v[i] * %d; break;
		case 1: acc ^= v[i] << (i & 7); break;
		case 2: p->x += acc - v[i]; break;
		case 3: p->y -= acc / (v[i] | 1); break;
		default: acc = acc * 31 + %d;
		}
	}
	if (acc > p->x)
		acc = f%d(v, n / 2, p);
	return acc + p->y;
}
""" % (i, i, i % 17 + 1, i * 7, max(i - 1, 0)))


def workloads(scale):
    """name -> (argv, stdin path or None, extra environment, output file or None)."""
    src = os.path.join(WORK, "big.c")
    big_c_file(src)
    gcc = shutil.which("gcc") or "gcc"
    return {
        "python3": ([PYTHON, os.path.join(HERE, "workload.py"), str(scale)], None,
                    {"PYTHONMALLOC": "malloc", "PYTHONHASHSEED": "0"}, None),
        "sqlite3": ([shutil.which("sqlite3") or "sqlite3", ":memory:"],
                    os.path.join(HERE, "workload.sql"), {}, None),
        "gcc": ([gcc, "-O2", "-c", src, "-o", os.path.join(WORK, "big.o")], None, {},
                os.path.join(WORK, "big.o")),
    }


def run_once(spec, preload):
    """One run: (wall seconds, CPU seconds, output bytes)."""
    argv, stdin_path, extra, out_file = spec
    env = dict(os.environ, **extra)
    env.pop("LD_PRELOAD", None)
    if preload:
        env["LD_PRELOAD"] = LIB
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    with open(stdin_path or os.devnull, "rb") as f:
        p = subprocess.run(argv, stdin=f, capture_output=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if p.returncode != 0:
        sys.exit("%s failed (status %d, preload=%s):\n%s" % (
            argv[0], p.returncode, preload, p.stderr.decode(errors="replace")[-2000:]))
    if out_file:
        with open(out_file, "rb") as f:
            return wall, cpu, f.read()
    return wall, cpu, p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--scale", type=float, default=1.0, help="python3 workload scale")
    ap.add_argument("--only", help="run only this workload")
    args = ap.parse_args()
    if not os.path.exists(LIB):
        sys.exit("%s is missing: run make preload" % LIB)
    os.makedirs(WORK, exist_ok=True)
    specs = workloads(args.scale)
    names = [n for n in specs if not args.only or n == args.only]
    times = {(n, pre): [] for n in names for pre in (False, True)}
    for _ in range(args.runs):
        for n in names:
            outs = []
            for pre in (False, True):
                wall, cpu, out = run_once(specs[n], pre)
                times[(n, pre)].append((wall, cpu))
                outs.append(out)
            if outs[0] != outs[1]:
                sys.exit("%s: output under the preload differs from glibc's" % n)
    print("median of %d rounds, load average %.1f at the end" % (args.runs, os.getloadavg()[0]))
    print("%-9s %10s %10s %7s   %10s %10s %7s" % (
        "workload", "glibc s", "preload s", "ratio", "glibc cpu", "pre cpu", "ratio"))
    for n in names:
        g = [statistics.median(x) for x in zip(*times[(n, False)])]
        p = [statistics.median(x) for x in zip(*times[(n, True)])]
        print("%-9s %10.2f %10.2f %6.1fx   %10.2f %10.2f %6.1fx" % (
            n, g[0], p[0], p[0] / g[0], g[1], p[1], p[1] / max(g[1], 1e-9)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
