#!/usr/bin/env python3
"""Training throughput of F21's MLP (784-256-256-256-256-10, batch 128, Adam) in one run:
Cleave's CLI against PyTorch at its best, quiet and with one core busy, every number a set of
samples reported as median and range, with the load each configuration ran under.

Rows, per load phase (`--phases quiet,busy`; `busy` starts one `while 1: pass` process per
`--busy-cores` for the whole phase and kills it at the end):
  cleave CLI     `./cleave train --epochs E --json` (batch gathering and the per-step loss
                 readback included, data loading and the JVM start not), threads left to the
                 default (adaptive), 1 and 2, and the default with the spectral regulariser;
  pytorch 1.13   Debian's python3-torch (torch_mlp_epoch.py), full epochs the same way, in every
                 configuration of torch threads 1|2 x OpenBLAS threads 1|2 x OpenBLAS kernels
                 default|SkylakeX|Haswell (passive OpenMP waits); the best by median is the peer;
  pytorch 2.10   libtorch on the JVM (bytedeco pytorch 2.10.0-1.5.13, TorchMlpEpoch in the
                 benchmarks module), intra-op threads 1|2 x OpenBLAS kernels
                 default|SkylakeX|Haswell, loaded once before any timing (its first load once
                 crashed in native code, and does on a fresh cache here);
  JMH step       TrainStepBench.trainStep (one step on fixed data, no batch gathering), a
                 separate row, and the 2048^3 sgemm rate turned into the samples/s bound.
Each configuration runs --processes times, in rounds that take every configuration once (so a
change of load spreads over all); every epoch after each process's first --warmup is a sample.
The load column is what /proc/stat says all other processes used (in cores) while a
configuration ran, its own processes' CPU time taken out (the busy process counts as other
load), and the range of the 1-minute /proc/loadavg before its runs.

    python3 benchmarks/scripts/compare_training.py                # both phases, ~15 minutes
    python3 benchmarks/scripts/compare_training.py --phases busy --skip jmh,jvm-torch
Needs: Debian python3-torch and dataset-fashion-mnist; the jars (built when missing); for the
JVM peer the bytedeco pytorch jars (fetched once by `mvn dependency:copy`, about 92 MB).
"""
import argparse, json, os, resource, statistics, subprocess, sys, tempfile, time, datetime, platform

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FLOP_PER_SAMPLE = 2 * (784 * 256 + 3 * 256 * 256 + 256 * 10) * 2 + 2 * (3 * 256 * 256 + 256 * 10)
SCRUB = ("OMP_WAIT_POLICY", "OPENBLAS_CORETYPE", "GOMP_SPINCOUNT", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")
HZ = os.sysconf("SC_CLK_TCK")
TORCH_CACHE = os.path.join(ROOT, "benchmarks/target/javacpp-pytorch")  # libtorch is 330 MB to extract: once


def avx512():
    with open("/proc/cpuinfo") as f:
        flags = next((l for l in f if l.startswith("flags")), "").split()
    return all(x in flags for x in ("avx512f", "avx512cd", "avx512bw", "avx512vl", "avx512dq"))


def launcher_env():
    """What the ./cleave launcher sets for the JMH runs (the CLI rows go through the launcher itself)."""
    with open(os.path.join(ROOT, "cleave")) as f:
        text = f.read()
    spin = next((l.split(":-")[1].split("}")[0] for l in text.splitlines() if "GOMP_SPINCOUNT=" in l), None)
    env = {"GOMP_SPINCOUNT": spin} if spin else {}
    if avx512():
        env["OPENBLAS_CORETYPE"] = "SkylakeX"
    return env


def proc_busy():
    """(busy, all) CPU seconds of the whole machine since boot."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    busy = v[0] + v[1] + v[2] + v[5] + v[6]  # user nice system irq softirq (steal and guests left out)
    return busy / HZ, (busy + idle) / HZ


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


class Meter:
    """Other processes' CPU use while one configuration runs; accumulates over its runs."""

    def __init__(self):
        self.wall = self.others_s = self.own_s = 0.0
        self.loadavg = []

    def __enter__(self):
        self.loadavg.append(float(loadavg().split()[0]))
        self.t0 = time.monotonic()
        self.busy0 = proc_busy()[0]
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.own0 = r.ru_utime + r.ru_stime
        return self

    def __exit__(self, *exc):
        wall = time.monotonic() - self.t0
        r = resource.getrusage(resource.RUSAGE_CHILDREN)
        own = r.ru_utime + r.ru_stime - self.own0
        self.wall += wall
        self.own_s += own
        self.others_s += max(0.0, proc_busy()[0] - self.busy0 - own)
        return False

    @property
    def others(self):
        return self.others_s / self.wall if self.wall else float("nan")

    @property
    def load1(self):
        return f"{min(self.loadavg):.1f}–{max(self.loadavg):.1f}" if self.loadavg else "–"


def run(cmd, env=None, check=True):
    e = {k: v for k, v in os.environ.items() if k not in SCRUB}
    e.update(env or {})
    p = subprocess.run(cmd, cwd=ROOT, env=e, capture_output=True, text=True)
    if check and p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {' '.join(cmd)}\n{p.stderr[-2000:]}")
    return p


def json_lines(text, key="samples_per_s"):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("{") and key in line:
            out.append(json.loads(line))
    return out


class Row:
    def __init__(self, phase, engine, config, command=None, env=None, parse=None):
        self.phase, self.engine, self.config = phase, engine, config
        self.command, self.env, self.parse = command, env or {}, parse
        self.samples, self.note, self.meter = [], "", Meter()

    @property
    def median(self):
        return statistics.median(self.samples) if self.samples else float("nan")

    def run_once(self, warmup):
        """One process; its epochs after the first `warmup` become samples."""
        with self.meter:
            p = run(self.command, self.env, check=False)
        if p.returncode != 0:
            self.note = f"failed: exit {p.returncode}: " + " ".join(p.stderr.strip().splitlines()[-1:])
            return
        self.samples += [r["samples_per_s"] for r in json_lines(p.stdout) if "epoch" in r][warmup:]

    def line(self):
        s = self.samples
        rng = f"{min(s) / 1e3:.1f}–{max(s) / 1e3:.1f}k" if s else "–"
        return (f"| {self.phase} | {self.engine} | {self.config} | {len(s)} | {self.median / 1e3:.1f}k | {rng} "
                f"| {self.meter.others:.2f} | {self.meter.load1} |{(' ' + self.note) if self.note else ''}")


def cleave_configs(phase, args, tmp):
    rows = []
    env = {"JAVA_OPTS": "-Xmx4g -Dorg.bytedeco.javacpp.cachedir=" + os.path.join(tmp, "javacpp")}
    for threads, extra in ((None, []), (1, []), (2, []), (None, ["--spectral-lambda", "0.1"])):
        cfg = f"threads={threads or 'default'}" + (" spectral λ=0.1" if extra else "")
        row = Row(phase, "cleave CLI", cfg, None, env)
        count = [0]

        def command(row=row, threads=threads, extra=extra, count=count):
            count[0] += 1
            out = os.path.join(tmp, f"run-{phase}-{threads}-{len(extra)}-{count[0]}")
            return (["./cleave", "train", "--epochs", str(args.epochs), "--json", "--no-install", "--out", out]
                    + (["--threads", str(threads)] if threads else []) + extra)
        row.make = command
        rows.append(row)
    return rows


def torch_configs(phase, args):
    rows = []
    for threads in (1, 2):
        for blas in (1, 2):
            for coretype in (None, "SkylakeX", "Haswell"):
                env = {"OMP_WAIT_POLICY": "passive", "OPENBLAS_NUM_THREADS": str(blas)}
                if coretype:
                    env["OPENBLAS_CORETYPE"] = coretype
                cmd = ["/usr/bin/python3", os.path.join(ROOT, "benchmarks/scripts/torch_mlp_epoch.py"),
                       "--threads", str(threads), "--epochs", str(args.epochs)]
                rows.append(Row(phase, "pytorch 1.13", f"threads={threads} blas={blas} {coretype or 'default'}", cmd, env))
    return rows


def jvm_torch_classpath():
    """The benchmarks jar plus the bytedeco pytorch jars (API and linux-x86_64 natives, copied by
    Maven into benchmarks/target/pytorch once); (None, why) when Maven cannot fetch them."""
    with open(os.path.join(ROOT, "benchmarks/pom.xml")) as f:
        version = next(l.split(">")[1].split("<")[0] for l in f if "<pytorch.version>" in l)
    folder = os.path.join(ROOT, "benchmarks/target/pytorch")
    jars = []
    for classifier in ("", ":jar:linux-x86_64"):
        name = f"pytorch-{version}{'-linux-x86_64' if classifier else ''}.jar"
        if not os.path.exists(os.path.join(folder, name)):
            p = run(["mvn", "-B", "-q", "dependency:copy", f"-Dartifact=org.bytedeco:pytorch:{version}{classifier}",
                     "-DoutputDirectory=" + folder], check=False)
            if p.returncode != 0:
                return None, [f"mvn dependency:copy -Dartifact=org.bytedeco:pytorch:{version}{classifier} "
                              f"exited {p.returncode}"] + (p.stdout + p.stderr).strip().splitlines()[-3:]
        jars.append(os.path.join(folder, name))
    return os.pathsep.join([os.path.join(ROOT, "benchmarks/target/benchmarks.jar")] + jars), None


def jvm_torch_configs(phase, args, classpath):
    rows = []
    base = ["java", "-Xmx4g", "--enable-native-access=ALL-UNNAMED", "-Dorg.bytedeco.javacpp.cachedir=" + TORCH_CACHE,
            "-cp", classpath, "dev.cleave.bench.TorchMlpEpoch"]
    for threads in (1, 2):
        for coretype in (None, "SkylakeX", "Haswell"):
            env = {"OMP_WAIT_POLICY": "passive"}
            if coretype:
                env["OPENBLAS_CORETYPE"] = coretype
            rows.append(Row(phase, "pytorch 2.10 JVM", f"threads={threads} {coretype or 'default'}",
                            base + ["--threads", str(threads), "--epochs", str(args.epochs)], env))
    return rows


def measure(rows, args):
    """Every configuration once per round, rounds interleaved, so load changes spread over all."""
    for rnd in range(args.processes):
        for row in rows:
            if getattr(row, "make", None):
                row.command = row.make()
            if not row.note:
                row.run_once(args.warmup)
        print(f"  round {rnd + 1}/{args.processes} done", file=sys.stderr, flush=True)
    for row in rows:
        print(row.line(), flush=True)
    return rows


def jmh_rows(phase, args, tmp):
    """TrainStepBench.trainStep and SgemmBench, 1 and 2 threads: every 1-s iteration a sample."""
    result = os.path.join(tmp, f"jmh-{phase}.json")
    meter = Meter()
    with meter:
        run(["java", "--enable-native-access=ALL-UNNAMED", "-Dorg.bytedeco.javacpp.cachedir=" + os.path.join(tmp, "javacpp"),
             "-jar", "benchmarks/target/benchmarks.jar", "TrainStepBench.trainStep|SgemmBench", "-p", "loss=none",
             "-f", "1", "-wi", "3", "-i", str(max(3, args.epochs * args.processes)), "-w", "1s", "-r", "1s",
             "-rf", "json", "-rff", result], launcher_env())
    rows = []
    with open(result) as f:
        for r in json.load(f):
            name, t = r["benchmark"].rsplit(".", 1)[1], int(r["params"]["threads"])
            raw = [x for it in r["primaryMetric"]["rawData"] for x in it]
            if name == "trainStep":
                row = Row(phase, "cleave JMH step", f"threads={t}")
                row.samples = [x * 128 for x in raw]
            else:
                row = Row(phase, "sgemm bound", f"threads={t} (2048^3, {statistics.median(raw) * 2 * 2048 ** 3 / 1e9:.0f} GFLOP/s)")
                row.samples = [x * 2 * 2048 ** 3 / FLOP_PER_SAMPLE for x in raw]
            row.meter = meter
            rows.append(row)
    for r in rows:
        print(r.line(), flush=True)
    return rows


def best(rows, phase, engine):
    c = [r for r in rows if r.phase == phase and r.engine == engine and r.samples]
    return max(c, key=lambda r: r.median) if c else None


def find(rows, phase, engine, config):
    return next((r for r in rows if r.phase == phase and r.engine == engine and r.config == config and r.samples), None)


def summary(rows, phases):
    print("\n== checks (medians) ==")
    quiet1 = find(rows, "quiet", "cleave CLI", "threads=1")
    for ph in phases:
        d = find(rows, ph, "cleave CLI", "threads=default")
        for peer in ("pytorch 1.13", "pytorch 2.10 JVM"):
            b = best(rows, ph, peer)
            if d and b:
                print(f"{ph}: cleave default / best {peer} ({b.config}) = {d.median / b.median:.2f}x "
                      f"(worst cleave sample / best peer sample {min(d.samples) / max(b.samples):.2f}x)")
        if d and quiet1 and ph != "quiet":
            print(f"{ph}: cleave default / its quiet 1-thread rate = {d.median / quiet1.median:.2f}")
        two = find(rows, ph, "cleave CLI", "threads=2")
        bound = next((r for r in rows if r.phase == ph and r.engine == "sgemm bound" and r.config.startswith("threads=2")), None)
        if two and bound:
            print(f"{ph}: cleave CLI 2 threads / 2-thread sgemm bound = {100 * two.median / bound.median:.0f}%")
        step = find(rows, ph, "cleave JMH step", "threads=2")
        if two and step:
            print(f"{ph}: cleave CLI 2 threads / JMH step 2 threads = {two.median / step.median:.2f} "
                  "(what the CLI loop adds to the step: README \"The CLI loop against the JMH step\")")
        sp = find(rows, ph, "cleave CLI", "threads=default spectral λ=0.1")
        if sp and d:
            print(f"{ph}: spectral epoch time / plain epoch time (default threads) = {d.median / sp.median:.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--phases", default="quiet,busy", help="quiet, busy, or both (default)")
    ap.add_argument("--busy-cores", type=int, default=1, help="busy-loop processes in the busy phase")
    ap.add_argument("--epochs", type=int, default=3, help="epochs per process")
    ap.add_argument("--warmup", type=int, default=1, help="first epochs of each process left out (JIT, first touch)")
    ap.add_argument("--processes", type=int, default=3, help="processes per configuration, in interleaved rounds")
    ap.add_argument("--skip", default="", help="comma list of cleave, torch, jvm-torch, jmh")
    args = ap.parse_args()
    phases = [p for p in args.phases.split(",") if p]
    skip = set(args.skip.split(","))
    for jar in ("benchmarks/target/benchmarks.jar", "java/target/cleave-all.jar"):
        if not os.path.exists(os.path.join(ROOT, jar)):
            print("building (mvn -B -q -DskipTests package) ...", file=sys.stderr)
            run(["mvn", "-B", "-q", "-DskipTests", "package"])
            break
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        classpath = None
        if "jvm-torch" not in skip:
            classpath, why = jvm_torch_classpath()
            if classpath is None:
                print("pytorch 2.10 on the JVM left out: Maven could not resolve the bytedeco pytorch jars:\n  "
                      + "\n  ".join(why), file=sys.stderr)
            else:
                # The first load of libtorch once crashed in native code: load it once, untimed.
                load = ["java", "--enable-native-access=ALL-UNNAMED", "-Dorg.bytedeco.javacpp.cachedir=" + TORCH_CACHE,
                        "-cp", classpath, "dev.cleave.bench.TorchMlpEpoch", "--load-only"]
                p = run(load, check=False)
                if p.returncode != 0:
                    print(f"pytorch 2.10 on the JVM: the first load failed (exit {p.returncode}), loading again",
                          file=sys.stderr)
                    p = run(load, check=False)
                if p.returncode != 0:
                    print(f"pytorch 2.10 on the JVM left out: loading it failed twice (exit {p.returncode}):\n"
                          + p.stderr[-1500:], file=sys.stderr)
                    classpath = None
        print(f"# {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.node()}, "
              f"{os.cpu_count()} CPUs ({cpu_model()}), samples/s of F21's MLP, batch 128; kept from the environment: "
              + (" ".join(f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith(("OPENBLAS_", "OMP_", "GOMP_"))
                          and k not in SCRUB) or "nothing"))
        print("| load | engine | configuration | samples | median | range | other load (cores) | loadavg (1 min) |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for ph in phases:
            busy = []
            if ph == "busy":
                busy = [subprocess.Popen([sys.executable, "-c", "while 1: pass"]) for _ in range(args.busy_cores)]
                time.sleep(1)
            try:
                configs = []
                if "cleave" not in skip:
                    configs += cleave_configs(ph, args, tmp)
                if "torch" not in skip:
                    configs += torch_configs(ph, args)
                if classpath:
                    configs += jvm_torch_configs(ph, args, classpath)
                rows += measure(configs, args)
                if "jmh" not in skip:
                    rows += jmh_rows(ph, args, tmp)
            finally:
                for b in busy:
                    b.kill()
                    b.wait()
    summary(rows, phases)


def cpu_model():
    with open("/proc/cpuinfo") as f:
        return next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), platform.processor())


if __name__ == "__main__":
    main()
