// Cleave's enmeshment kernel (cleave_enmeshment from the built libcleave_cpu.so, the symbol
// dev.cleave.modular.Enmeshment.forwardBackward calls through JNI) and a STREAM-like triad
// a[i] = b[i] + s * c[i], on 1 or 2 OpenMP threads, timed on command. Driven by
// benchmarks/scripts/enmeshment_compare.py (which builds it, interleaves its timings with
// PyTorch's repeat by repeat, and prints the table): it allocates the arrays for the sizes N
// given, prints "ready", then answers commands read from stdin (listed in main), one line each,
// and sits idle (no CPU) between them.
//
//   enmeshment_bw [--triad-mib M] N [N ...]
//   e.g. printf 'check 4096\ntriad 2\nkernel 4096 2 4\n' | enmeshment_bw 4096
//
// Bytes, counted as the hardware moves them (write-allocate: a plain store to a line that is
// not in cache first reads the line):
//  - triad: reads b and c, writes a, and a is read for ownership first: 16 bytes per element
//    (STREAM itself counts 12). Each array is M MiB (default 128, 4x this machine's 32 MiB L3).
//  - triad with non-temporal stores (the line is written without being read): 12 bytes per
//    element. Its GB/s at 12 bytes next to the plain triad's at 16 shows whether the
//    write-allocate read really happens (they agree when it does).
//  - the enmeshment kernel (native/src/enmeshment.cpp): pass 1 reads W, pass 2 reads W and the
//    gradient G and writes G; G is read before it is written, so its store allocates no extra
//    line: 4 + 4 + 4 + 4 = 16 bytes per element of W. Labels (n ints each) are negligible.
//    At N = 4096, W and G are 64 MiB each (2x L3): DRAM. At 1024 (4 MiB each) they fit in
//    L3, at 256 (256 KiB each) in L2, so those GB/s are cache bandwidths, not DRAM's.
//
// W is the same on both sides of the comparison: w[idx] = (h(idx) >> 8) * 2^-24 - 0.5, h a
// 32-bit integer mix of the flat index (exact in float32; the PyTorch script builds the same
// tensor), so C and the gradient can be checked across implementations. G starts at zero and
// the kernel ADDS scale * dC/dW into it at every call (scale = -20/3, G24's lambda 20 over 3
// layers), as training does.
//
// Timing is the driver's: it asks for one triad sweep or one batch of kernel calls at a time
// and keeps the best of its repeats.
#include <omp.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <immintrin.h>
#include <vector>
#include "cleave_cpu.h"
#include "cleave_modular.h"

namespace {
double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

uint32_t mix(uint32_t x) {  // the integer hash the PyTorch side reproduces with int64 tensors
  x *= 2654435761u;
  x ^= x >> 16;
  x *= 0x45d9f3bu;
  x ^= x >> 16;
  return x;
}

float* alloc(int64_t n) {
  void* p = nullptr;
  if (posix_memalign(&p, 64, (size_t)n * sizeof(float)) != 0) {
    std::fprintf(stderr, "enmeshment_bw: out of memory for %lld floats\n", (long long)n);
    std::exit(1);
  }
  return (float*)p;
}

void check(int status) {
  if (status != 0) {
    std::fprintf(stderr, "enmeshment_bw: %s\n", cleave_last_error());
    std::exit(1);
  }
}

__attribute__((noinline)) void triad(float* __restrict a, const float* __restrict b,
                                     const float* __restrict c, float s, int64_t n, int threads) {
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
}

// The same with non-temporal (streaming) stores; n a multiple of 8 and the arrays 32-byte aligned.
__attribute__((noinline)) void triad_nt(float* __restrict a, const float* __restrict b,
                                        const float* __restrict c, float s, int64_t n,
                                        int threads) {
  const __m256 sv = _mm256_set1_ps(s);
#pragma omp parallel for schedule(static) num_threads(threads)
  for (int64_t i = 0; i < n; i += 8)
    _mm256_stream_ps(a + i, _mm256_fmadd_ps(sv, _mm256_load_ps(c + i), _mm256_load_ps(b + i)));
  _mm_sfence();
}

int usage() {
  std::fprintf(stderr, "usage: enmeshment_bw [--triad-mib M] N [N ...]   (commands on stdin)\n");
  return 2;
}
}  // namespace

int main(int argc, char** argv) {
  int64_t triad_mib = 128;
  std::vector<int> sizes;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--triad-mib") && i + 1 < argc) triad_mib = std::atoll(argv[++i]);
    else if (argv[i][0] != '-' && std::atoi(argv[i]) > 0) sizes.push_back(std::atoi(argv[i]));
    else return usage();
  }
  if (sizes.empty() || triad_mib < 1) return usage();
  const int k = 4;
  const float scale = -20.0f / 3;

  // Triad arrays, first touched by the same static schedule the triad uses.
  const int64_t tn = triad_mib * (1 << 20) / (int64_t)sizeof(float);
  float* ta = alloc(tn);
  float* tb = alloc(tn);
  float* tc = alloc(tn);
#pragma omp parallel for schedule(static) num_threads(2)
  for (int64_t i = 0; i < tn; ++i) {
    ta[i] = 0.0f;
    tb[i] = 1.0f;
    tc[i] = 2.0f;
  }

  struct Layer {
    float* w;
    float* g;
    std::vector<int32_t> labels;
  };
  std::vector<Layer> layers;
  for (int n : sizes) {
    Layer l{alloc((int64_t)n * n), alloc((int64_t)n * n), std::vector<int32_t>(n)};
    for (int64_t idx = 0; idx < (int64_t)n * n; ++idx) {
      l.w[idx] = (float)(mix((uint32_t)idx) >> 8) * 0x1p-24f - 0.5f;
      l.g[idx] = 0.0f;
    }
    for (int c = 0, i = 0; c < k; ++c)  // dev.cleave.modular.BalancedPartition: the first n % k one larger
      for (int m = 0; m < n / k + (c < n % k ? 1 : 0); ++m) l.labels[i++] = c;
    layers.push_back(std::move(l));
  }
  std::printf("ready triad_elements=%lld\n", (long long)tn);
  std::fflush(stdout);

  // Commands, one a line; each answers one line:
  //   check N            C and the gradient of one call from G = 0 (G is zeroed first)
  //   triad T | triad_nt T    seconds of one sweep on T threads
  //   kernel N T CALLS   seconds per call, the mean of CALLS calls on T threads
  char cmd[32];
  while (std::scanf("%31s", cmd) == 1) {
    int n = 0, threads = 1, calls = 1;
    if (!std::strcmp(cmd, "triad") || !std::strcmp(cmd, "triad_nt")) {
      if (std::scanf("%d", &threads) != 1 || threads < 1) return usage();
      const double t0 = now();
      if (cmd[5]) triad_nt(ta, tb, tc, 3.0f, tn, threads);
      else triad(ta, tb, tc, 3.0f, tn, threads);
      std::printf("%s threads=%d seconds=%.9f\n", cmd, threads, now() - t0);
    } else if (!std::strcmp(cmd, "check") || !std::strcmp(cmd, "kernel")) {
      const bool is_check = !std::strcmp(cmd, "check");
      if (std::scanf("%d", &n) != 1 || (!is_check && std::scanf("%d %d", &threads, &calls) != 2))
        return usage();
      const auto it = std::find(sizes.begin(), sizes.end(), n);
      if (it == sizes.end() || threads < 1 || calls < 1) return usage();
      Layer& l = layers[it - sizes.begin()];
      const int64_t elems = (int64_t)n * n;
      check(cleave_set_threads(threads));
      double c = 0.0;
      if (is_check) {
        std::fill(l.g, l.g + elems, 0.0f);
        check(cleave_enmeshment(l.w, l.labels.data(), l.labels.data(), n, n, 1, k, scale, l.g, &c));
        double abs_sum = 0.0, max_abs = 0.0;
        for (int64_t idx = 0; idx < elems; ++idx) {
          abs_sum += std::fabs(l.g[idx]);
          max_abs = std::max(max_abs, (double)std::fabs(l.g[idx]));
        }
        std::printf("check n=%d c=%.9f grad_abs_sum=%.9e grad_max_abs=%.9e\n", n, c, abs_sum, max_abs);
      } else {
        const double t0 = now();
        for (int i = 0; i < calls; ++i)
          check(cleave_enmeshment(l.w, l.labels.data(), l.labels.data(), n, n, 1, k, scale, l.g, &c));
        std::printf("kernel n=%d threads=%d seconds=%.9f\n", n, threads, (now() - t0) / calls);
      }
    } else {
      return usage();
    }
    std::fflush(stdout);
  }
  return 0;
}
