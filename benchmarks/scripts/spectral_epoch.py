#!/usr/bin/env python3
"""The spectral regulariser's cost in one run: CLI training epochs of F21's MLP (fashion-mnist,
default threads) with and without `--spectral-lambda 0.1`, processes interleaved (plain,
spectral, plain, ...) so a change of load spreads over both; every epoch after each process's
first (JIT, first touch) is a sample. Prints per configuration the median and range of the epoch
seconds, the ratio of the medians, and the 1-minute load average before each process.

    python3 benchmarks/scripts/spectral_epoch.py                       # this checkout
    python3 benchmarks/scripts/spectral_epoch.py --root . --root ../old # also another checkout, same run
Needs dataset-fashion-mnist; each root's ./cleave builds its jar on first use (do that first).
"""
import argparse, json, os, statistics, subprocess, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def epochs(root, extra, epochs, out):
    env = dict(os.environ)
    env["JAVA_OPTS"] = "-Xmx4g -Dorg.bytedeco.javacpp.cachedir=" + os.path.join(out, "javacpp")
    cmd = [os.path.join(root, "cleave"), "train", "--epochs", str(epochs), "--json", "--no-install",
           "--out", os.path.join(out, "run")] + extra
    p = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip().splitlines()[-1:]}")
    rows = [json.loads(l) for l in p.stdout.splitlines() if l.startswith("{") and '"epoch"' in l]
    return [r["seconds"] for r in rows][1:]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", action="append", help="checkout(s) to measure (default: this one)")
    ap.add_argument("--epochs", type=int, default=3, help="epochs per process (the first is left out)")
    ap.add_argument("--processes", type=int, default=3, help="processes per configuration")
    args = ap.parse_args()
    roots = [os.path.abspath(r) for r in (args.root or [ROOT])]
    configs = [(r, name, extra) for r in roots for name, extra in (("plain", []), ("spectral", ["--spectral-lambda", "0.1"]))]
    samples = {c[:2]: [] for c in configs}
    loads = []
    with tempfile.TemporaryDirectory(prefix="spectral-epoch-") as tmp:
        for round_ in range(args.processes):
            for root, name, extra in configs:
                loads.append(loadavg())
                out = os.path.join(tmp, f"{len(loads)}")
                os.makedirs(out)
                samples[(root, name)] += epochs(root, extra, args.epochs, out)
    print(f"load average (1 min) before the processes: {min(loads):.2f} to {max(loads):.2f}")
    print("| checkout | configuration | samples | epoch s, median | range |")
    print("|---|---|---|---|---|")
    for (root, name), s in samples.items():
        print(f"| {root} | {name} | {len(s)} | {statistics.median(s):.3f} | {min(s):.3f} to {max(s):.3f} |")
    for root in roots:
        plain, spec = samples[(root, "plain")], samples[(root, "spectral")]
        print(f"{root}: spectral epoch time / plain epoch time (default threads) = "
              f"{statistics.median(spec) / statistics.median(plain):.2f}")


if __name__ == "__main__":
    main()
