#!/usr/bin/env python3
"""Training throughput of Cleave's cpu backend against its two references, in one run:

  1. the hardware bound: the FLOP rate of OpenBLAS sgemm on 2048^3 matrices (JMH,
     TrainStepBench.sgemmSquare), turned into samples/s by F21's FLOPs per sample;
  2. PyTorch's CPU training of the same MLP (torch_mlp_epoch.py) in its best configuration
     among 1 or 2 torch threads x 1 or 2 OpenBLAS threads x OPENBLAS_CORETYPE unset or SkylakeX.

Cleave is measured twice: the JMH training step (TrainStepBench.trainStep, batch 128) and a
whole epoch through the CLI (`./cleave train --epochs 1 --json`, data loading excluded), both
with the environment the launcher sets (GOMP_SPINCOUNT=1000; OPENBLAS_CORETYPE=SkylakeX on
AVX-512 CPUs). The sgemm bound uses the same OpenBLAS kernels.

    python3 benchmarks/scripts/compare_training.py          # from the repository root
Needs: the jar built by ./cleave (or mvn package), Debian python3-torch, dataset-fashion-mnist.
"""
import json, os, re, subprocess, sys, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FLOP_PER_SAMPLE = 2 * (784 * 256 + 3 * 256 * 256 + 256 * 10) * 2 + 2 * (3 * 256 * 256 + 256 * 10)


def cleave_env():
    """What the ./cleave launcher sets: short OpenMP spins, SkylakeX kernels on AVX-512 CPUs."""
    env = {"GOMP_SPINCOUNT": "1000"}
    with open("/proc/cpuinfo") as f:
        flags = next((l for l in f if l.startswith("flags")), "")
    if all(x in flags.split() for x in ("avx512f", "avx512cd", "avx512bw", "avx512vl", "avx512dq")):
        env["OPENBLAS_CORETYPE"] = "SkylakeX"
    return env


def run(cmd, env=None):
    e = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "OPENBLAS_CORETYPE", "GOMP_SPINCOUNT")}
    e.update(env or {})
    return subprocess.run(cmd, cwd=ROOT, env=e, check=True, capture_output=True, text=True).stdout


def jmh(tmp):
    """Runs TrainStepBench; returns {(method, threads): ops/s}."""
    result = os.path.join(tmp, "jmh.json")
    run(["java", "--enable-native-access=ALL-UNNAMED", "-jar", "benchmarks/target/benchmarks.jar",
         "TrainStepBench|SgemmBench", "-f", "1", "-t", "1", "-wi", "3", "-i", "5", "-w", "2s", "-r", "2s",
         "-rf", "json", "-rff", result], cleave_env())
    with open(result) as f:
        return {(r["benchmark"].rsplit(".", 1)[1], r["params"]["threads"]): r["primaryMetric"]["score"]
                for r in json.load(f) if r["params"].get("loss", "none") == "none"}


def main():
    if not os.path.exists(os.path.join(ROOT, "benchmarks/target/benchmarks.jar")):
        print("building (mvn -B -q -DskipTests package) ...", file=sys.stderr)
        run(["mvn", "-B", "-q", "-DskipTests", "package"])
    with tempfile.TemporaryDirectory() as tmp:
        rows = jmh(tmp)
        epoch = json.loads(run(["./cleave", "train", "--epochs", "1", "--json", "--no-install", "--out",
                                os.path.join(tmp, "run")]).strip().splitlines()[-1])
    torch_runs = []
    for threads in (1, 2):
        for blas_threads in (1, 2):
            for coretype in (None, "SkylakeX"):
                # PyTorch's configurations: its intra-op threads, the OpenBLAS pool under it, the
                # OpenBLAS kernel; passive OpenMP waits throughout (spinning waits steal the other core).
                env = {"OMP_WAIT_POLICY": "passive", "OPENBLAS_NUM_THREADS": str(blas_threads)}
                if coretype:
                    env["OPENBLAS_CORETYPE"] = coretype
                out = run(["/usr/bin/python3", os.path.join(ROOT, "benchmarks/scripts/torch_mlp_epoch.py"),
                           "--threads", str(threads), "--epochs", "1"], env)
                r = json.loads(out.strip().splitlines()[-1])
                r["blas_threads"] = blas_threads
                torch_runs.append(r)
    best_torch = max(torch_runs, key=lambda r: r["samples_per_s"])
    print("\n== training throughput, F21 MLP, batch 128 (one run) ==")
    for r in torch_runs:
        print(f"pytorch  threads={r['threads']} OPENBLAS_NUM_THREADS={r['blas_threads']} "
              f"OPENBLAS_CORETYPE={r['openblas_coretype'] or 'default':9s} {r['samples_per_s']:9.0f} samples/s")
    steps = {t: v * 128 for (name, t), v in rows.items() if name == "trainStep"}
    for threads, rate in sorted(steps.items()):
        print(f"cleave   JMH trainStep threads={threads}            {rate:9.0f} samples/s "
              f"({rate * FLOP_PER_SAMPLE / 1e9:.1f} GFLOP/s)")
    print(f"cleave   CLI epoch (threads=all)                {epoch['samples_per_s']:9.0f} samples/s")
    sgemm_rates = [v for (name, _), v in rows.items() if name == "sgemmSquare"]
    if sgemm_rates:
        gflops = max(sgemm_rates) * 2 * 2048 ** 3 / 1e9
        bound = gflops * 1e9 / FLOP_PER_SAMPLE
        print(f"bound    sgemm 2048^3 {gflops:.1f} GFLOP/s  ->  {bound:9.0f} samples/s at {FLOP_PER_SAMPLE / 1e6:.2f} MFLOP/sample")
    best_cleave = max(list(steps.values()) + [epoch["samples_per_s"]])
    print(f"\ncleave / best pytorch ({best_torch['threads']} threads, OpenBLAS {best_torch['blas_threads']} threads, "
          f"{best_torch['openblas_coretype'] or 'default'}): "
          f"{best_cleave / best_torch['samples_per_s']:.2f}x")
    if sgemm_rates:
        print(f"cleave / sgemm bound: {100 * best_cleave / bound:.0f}%")


if __name__ == "__main__":
    main()
