#!/usr/bin/python3
"""Times the f21-cnn training step (batch 64) in PyTorch on the CPU, the peer of
ConvBench.step (benchmarks/src/main/java/dev/cleave/bench/ConvBench.java): conv 1->64 ReLU,
conv 64->64 ReLU, maxpool 2, conv 64->64 ReLU, maxpool 2, flatten, linear 3136->128 ReLU,
linear 128->10, cross-entropy, backward, Adam 1e-3, on fixed random inputs (as ConvBench).

    /usr/bin/python3 benchmarks/scripts/torch_cnn_step.py              # 1 and 2 threads
    /usr/bin/python3 benchmarks/scripts/torch_cnn_step.py --threads 2 --samples 7 --steps 20

Per thread setting: --samples timed samples of --steps steps each (after --warmup steps), the
median and the range in samples/s, GFLOP/s at 221.0 MFLOP per sample (ConvBench.flop("step"); the issue rounds to 222),
and /proc/loadavg before and after. The best setting is printed last. Needs Debian's
python3-torch (1.13; oneDNN convolutions).
"""
import argparse, json, statistics, time

import torch

FLOP_PER_SAMPLE = (2 * (1 * 64 * 9 * 28 * 28) * 2 + 2 * (64 * 64 * 9 * 28 * 28) * 3 + 2 * (64 * 64 * 9 * 14 * 14) * 3
                   + 2 * 3136 * 128 * 3 + 2 * 128 * 10 * 3)


def load():
    with open("/proc/loadavg") as f:
        return f.read().strip()


def model():
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 64, 3, padding=1), torch.nn.ReLU(),
        torch.nn.Conv2d(64, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(64, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(3136, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))


def run(threads, batch, samples, steps, warmup):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = model()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.rand(batch, 1, 28, 28)
    y = torch.randint(0, 10, (batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(warmup):
        step()
    before = load()
    rates = []
    for _ in range(samples):
        t0 = time.perf_counter()
        for _ in range(steps):
            step()
        rates.append(batch * steps / (time.perf_counter() - t0))
    med = statistics.median(rates)
    return {"peer": "pytorch " + torch.__version__, "threads": torch.get_num_threads(), "batch": batch,
            "samples_per_s_median": round(med, 1), "samples_per_s_min": round(min(rates), 1),
            "samples_per_s_max": round(max(rates), 1), "gflops_median": round(med * FLOP_PER_SAMPLE / 1e9, 1),
            "samples": samples, "steps_per_sample": steps, "loadavg_before": before, "loadavg_after": load()}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, nargs="*", default=[1, 2])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--samples", type=int, default=5)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=5)
    args = ap.parse_args()
    best = None
    for t in args.threads:
        r = run(t, args.batch, args.samples, args.steps, args.warmup)
        print(json.dumps(r), flush=True)
        if best is None or r["samples_per_s_median"] > best["samples_per_s_median"]:
            best = r
    print(json.dumps({"best": best["threads"], "samples_per_s_median": best["samples_per_s_median"],
                      "gflops_median": best["gflops_median"]}))


if __name__ == "__main__":
    main()
