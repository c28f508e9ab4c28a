#!/usr/bin/env bash
# GPU timings of every kernel of libcleave_cuda (cuda/bench/cuda_kernel_bench.cu), saved with the
# device and the commit: CUDA-event timing, L2 flushed before every timed run, GB/s or GFLOP/s
# against the device's peak, the fraction of it expected for each case (from issue 17's review,
# or the bench's estimate) and a verdict naming what to fix next for the cases below it, counted
# on the last line. Needs a GPU box with the NVIDIA driver (R580+) and a build made with nvcc on
# PATH:
#   mvn -B -q -DskipTests package
#   benchmarks/scripts/cuda_kernel_bench.sh [--repeats 20] [--op linear_forward]
# Writes benchmarks/results/cuda_kernel_bench-<date>.txt and prints it.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
bench="$root/java/target/cmake/bin/cleave_cuda_kernel_bench"
if [[ ! -x "$bench" ]]; then
  echo "no $bench: build with nvcc on PATH first (mvn -B -q -DskipTests package)" >&2
  exit 1
fi
mkdir -p "$root/benchmarks/results"
out="$root/benchmarks/results/cuda_kernel_bench-$(date +%Y%m%d-%H%M%S).txt"
{
  echo "# cleave_cuda_kernel_bench $*"
  echo "# commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown), $(date -u +%FT%TZ)"
  nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.max.mem --format=csv,noheader 2>/dev/null | sed 's/^/# /' || true
  "$bench" "$@"
} | tee "$out"
echo "saved $out" >&2
