#!/usr/bin/python3
"""Peak memory (maximum resident set size) of one f21-cnn training epoch on Fashion-MNIST,
batch 64, Adam 1e-3: `cleave train` (the launcher's JVM, default heap) against the same
training in Debian's PyTorch 1.13 (2 threads), each in its own child process, read from
getrusage(RUSAGE_CHILDREN) after it exits. Prints both in MiB, their ratio, the wall times
and /proc/loadavg.

    /usr/bin/python3 benchmarks/scripts/cnn_peak_memory.py          # from the repository root
"""
import os, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def torch_epoch():
    import torch
    torch.set_num_threads(2)
    torch.manual_seed(0)

    from pytorch_cnn_interop import train_epoch  # the interop scripts' IDX reader and training loop
    nn = torch.nn
    train_epoch(nn.Sequential(nn.Conv2d(1, 64, 3, padding=1), nn.ReLU(), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                              nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10)))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--torch-child":
        torch_epoch()
        return
    with open("/proc/loadavg") as f:
        print("load before:", f.read().strip())
    # Each run under its own wrapper interpreter, whose RUSAGE_CHILDREN then holds that run alone.
    out = tempfile.mkdtemp(prefix="cleave-peak-")
    results = {}
    for name, cmd in (("pytorch 1.13", [sys.executable, os.path.abspath(__file__), "--torch-child"]),
                      ("cleave", [os.path.join(ROOT, "cleave"), "train", "--arch", "f21-cnn", "--epochs", "1", "--batch-size",
                                  "64", "--out", os.path.join(out, "run")])):
        wrapper = [sys.executable, "-c", "import resource,subprocess,sys; subprocess.run(sys.argv[1:], check=True, "
                   "stdout=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"] + cmd
        t = time.time()
        p = subprocess.run(wrapper, cwd=ROOT, check=True, capture_output=True, text=True)
        results[name] = (int(p.stdout.strip().splitlines()[-1]) / 1024.0, time.time() - t)
        print(f"{name:13s} peak RSS {results[name][0]:8.1f} MiB   wall {results[name][1]:6.1f} s")
    print(f"cleave / pytorch peak memory: {results['cleave'][0] / results['pytorch 1.13'][0]:.2f}")
    with open("/proc/loadavg") as f:
        print("load after:", f.read().strip())


if __name__ == "__main__":
    main()
