#!/usr/bin/env python3
"""Cleave's enmeshment kernel, a STREAM-like triad, PyTorch autograd and hand-written PyTorch,
in one run, one table.

Builds benchmarks/native/enmeshment_bw.cpp against the built libcleave_cpu.so (so it times the
kernel the Java API calls) and starts it as a second process that times what it is told and is
idle otherwise. Then, for each of --rounds rounds and each size (k = 4, the same W everywhere),
repeats --reps times, on 1 and then 2 threads: one triad sweep, one non-temporal triad sweep,
one batch of Cleave's kernel, one batch each of PyTorch autograd and the hand-written "mask"
and "blocks" (benchmarks/scripts/enmeshment_torch.py). So every implementation sees the same
load, repeat by repeat. Before timing, it checks that C and the gradient agree across all of
them. Within a round each one's time is its best repeat at its best thread count (PyTorch's
hand-written side also at its best variant); ratios and fractions are taken within a round and
the table shows the median over the rounds and the range. The load average is printed before
and after. PyTorch runs with glibc malloc told to keep freed memory (see MALLOC_KEEP below;
--plain-malloc for the defaults).

Bytes per element of W (16 for the kernel: W read twice, the gradient read and written) and
of the triad (16: b and c read, a written, plus the read of a's lines a plain store causes:
write-allocate) are explained in enmeshment_bw.cpp. "fraction of triad" is the kernel's GB/s
over the best triad GB/s of the same round and size (the sweeps between its repeats); at 256 and 1024 the arrays sit in L2 and L3, so that
fraction can exceed 1.

Needs Debian's python3-torch and the built library (`mvn -B -q -DskipTests package` once).
From the repository root:

    /usr/bin/python3 benchmarks/scripts/enmeshment_compare.py
"""
import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import time

os.environ["OMP_WAIT_POLICY"] = "passive"  # before torch loads libgomp (engineering.md, practice 15)
# PyTorch at its best: glibc malloc returns every freed block of 128 KiB or more to the system,
# so each of autograd's 64 MiB temporaries at 4096 page-faults afresh at every call (2 to 6x
# slower here). These two settings keep freed memory in the process; read at startup, hence the
# re-exec. --plain-malloc measures PyTorch with glibc's defaults instead.
MALLOC_KEEP = {"MALLOC_MMAP_THRESHOLD_": str(1 << 32), "MALLOC_TRIM_THRESHOLD_": str(1 << 36)}
if "--plain-malloc" not in sys.argv and any(os.environ.get(k) != v for k, v in MALLOC_KEEP.items()):
    os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, **MALLOC_KEEP})

import torch  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import enmeshment_torch as et  # noqa: E402

THREADS = (1, 2)


def build(root):
    lib = root / "java/target/cmake/lib/libcleave_cpu.so"
    ob = root / "java/target/openblas/org/bytedeco/openblas/linux-x86_64"
    if not lib.exists() or not (ob / "libopenblas.so.0").exists():
        sys.exit(f"enmeshment_compare: no {lib} (or OpenBLAS under {ob}): run 'mvn -B -q -DskipTests package' first")
    out = pathlib.Path(os.environ.get("TMPDIR", "/tmp")) / "cleave-enmeshment-bw"
    out.mkdir(parents=True, exist_ok=True)
    exe = out / "enmeshment_bw"
    # The flags of native/CMakeLists.txt, so the triad is compiled as the kernel was.
    subprocess.run(["g++", "-O3", "-march=x86-64-v3", "-mtune=generic", "-fno-math-errno", "-fopenmp",
                    "-I", str(root / "native/include"), str(root / "benchmarks/native/enmeshment_bw.cpp"),
                    str(lib), f"-Wl,-rpath,{lib.parent}", f"-Wl,-rpath,{ob}", f"-Wl,-rpath-link,{ob}",
                    "-o", str(exe)], check=True)
    return exe


class Native:
    """The enmeshment_bw process: one command, one answer line of key=value pairs."""

    def __init__(self, exe, sizes, triad_mib):
        self.proc = subprocess.Popen([str(exe), "--triad-mib", str(triad_mib)] + [str(n) for n in sizes],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.elements = self._read()["triad_elements"]

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            sys.exit(f"enmeshment_compare: enmeshment_bw stopped (exit {self.proc.wait()})")
        return {k: float(v) for k, v in (p.split("=") for p in line.split()[1:])}

    def ask(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


def loadavg():
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def med_range(values, fmt):
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--min-batch-seconds", type=float, default=0.03)
    parser.add_argument("--triad-mib", type=int, default=128, help="MiB per triad array (default 128: 4x a 32 MiB L3)")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(et.SIZES))
    parser.add_argument("--plain-malloc", action="store_true",
                        help="PyTorch with glibc's default malloc (temporaries page-fault at every call)")
    parser.add_argument("--root", default=str(pathlib.Path(__file__).resolve().parents[2]))
    args = parser.parse_args()
    root = pathlib.Path(args.root)

    load_before = loadavg()
    start = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    exe = build(root)
    model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    print(f"{start}; {os.cpu_count()} CPUs, {model}; torch {torch.__version__}; load average before {load_before}")
    print("PyTorch's malloc: " + ("glibc defaults" if args.plain_malloc else
                                  " ".join(f"{k}={v}" for k, v in MALLOC_KEEP.items()) + " (freed memory kept)"))
    torch.set_num_interop_threads(1)

    # Checks: every implementation's C and gradient from a zero gradient, one call.
    native = Native(exe, args.sizes, args.triad_mib)
    problems = {n: et.Problem(n) for n in args.sizes}
    for n, p in problems.items():
        ref = et.check(p)  # exits if a hand-written gradient disagrees with autograd
        cl = native.ask(f"check {n}")
        errs = {key: abs(cl[key] - ref[key]) / abs(ref[key]) for key in ("c", "grad_abs_sum", "grad_max_abs")}
        if max(errs.values()) > 1e-5:
            sys.exit(f"n={n}: Cleave and PyTorch autograd disagree: {errs}")
        print(f"check n={n}: C {ref['c']:.7f}; hand-written = autograd; Cleave = autograd "
              f"(C, sum |grad|, max |grad| within {max(errs.values()):.1e} relative)")

    # Batch sizes: calls per batch lasting at least --min-batch-seconds, for each (impl, n, t).
    batchers = {}
    for n, p in problems.items():
        for t in THREADS:
            batchers[("cleave", n, t)] = lambda c, n=n, t=t: native.ask(f"kernel {n} {t} {c}")["seconds"]
            for impl in et.IMPLS:
                batchers[(impl, n, t)] = lambda c, p=p, impl=impl, t=t: et.time_batch(p, impl, t, c)
    calls = {key: et.calibrate(f, args.min_batch_seconds) for key, f in batchers.items()}

    rounds = []
    for r in range(args.rounds):
        rnd = {kind: {} for kind in ("triad", "triad_nt", "cleave") + et.IMPLS}
        for n in args.sizes:
            for _ in range(args.reps):
                for t in THREADS:
                    for kind, nbytes in (("triad", 16), ("triad_nt", 12)):
                        gbs = nbytes * native.elements / native.ask(f"{kind} {t}")["seconds"] / 1e9
                        rnd[kind][(n, t)] = max(rnd[kind].get((n, t), 0.0), gbs)
                    for impl in ("cleave",) + et.IMPLS:
                        sec = batchers[(impl, n, t)](calls[(impl, n, t)])
                        rnd[impl][(n, t)] = min(rnd[impl].get((n, t), float("inf")), sec)
        rounds.append(rnd)
        print(f"round {r + 1} done, load average {loadavg()}")
    native.close()
    load_after = loadavg()

    def best(rnd, impls, n):
        return min((rnd[i][(n, t)], i, t) for i in impls for t in THREADS)

    print()
    print(f"Every time per call is the median over {args.rounds} rounds (range in brackets) of a best of "
          f"{args.reps}; ratios and fractions are taken within a round.")
    for kind, nbytes in (("triad", 16), ("triad_nt", 12)):
        cells = "; ".join(f"{t} thread(s) " + med_range([max(rnd[kind][(n, t)] for n in args.sizes) for rnd in rounds],
                                                        "{:.1f}") for t in THREADS)
        label = "triad (write-allocate)" if kind == "triad" else "triad, non-temporal stores"
        print(f"{label}, {args.triad_mib} MiB arrays, {nbytes} B/element: {cells} GB/s")
    print()
    print("per thread count (us per call):")
    for n in args.sizes:
        cells = []
        for impl in ("cleave",) + et.IMPLS:
            for t in THREADS:
                cells.append(f"{impl} {t}t {statistics.median([rnd[impl][(n, t)] for rnd in rounds]) * 1e6:.1f}")
        print(f"  {n}: " + ", ".join(cells))
    print()
    head = ("| n | Cleave us/call | GB/s (16 B/element) | fraction of triad | PyTorch autograd us/call "
            "| Cleave vs autograd | PyTorch hand-written us/call | Cleave vs hand-written |")
    print(head)
    print("|" + " --- |" * 8)
    for n in args.sizes:
        cl = [best(rnd, ("cleave",), n) for rnd in rounds]
        ag = [best(rnd, ("autograd",), n) for rnd in rounds]
        hw = [best(rnd, ("mask", "blocks"), n) for rnd in rounds]
        gbs = [16.0 * n * n / c[0] / 1e9 for c in cl]
        frac = [g / max(rnd["triad"][(n, t)] for t in THREADS) for g, rnd in zip(gbs, rounds)]
        won = lambda xs: "/".join(sorted({f"{x[1]} {x[2]}t" if x[1] not in ("cleave", "autograd") else f"{x[2]}t"
                                          for x in xs}))
        print(f"| {n}x{n} | {med_range([c[0] * 1e6 for c in cl], '{:.1f}')} [{won(cl)}] "
              f"| {med_range(gbs, '{:.1f}')} | {med_range(frac, '{:.2f}')} "
              f"| {med_range([a[0] * 1e6 for a in ag], '{:.1f}')} [{won(ag)}] "
              f"| {med_range([a[0] / c[0] for a, c in zip(ag, cl)], '{:.2f}')}x "
              f"| {med_range([h[0] * 1e6 for h in hw], '{:.1f}')} [{won(hw)}] "
              f"| {med_range([h[0] / c[0] for h, c in zip(hw, cl)], '{:.2f}')}x |")
    print(f"[brackets: the thread counts (and hand-written variant) that were best in some round]")
    print(f"load average (1/5/15 min) before {load_before}, after {load_after}; "
          f"finished {time.strftime('%H:%M UTC', time.gmtime())}")


if __name__ == "__main__":
    main()
