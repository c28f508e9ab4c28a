// cuda_kernel_bench: GPU timings of every kernel of libcleave_cuda (cuda/include/cleave_cuda.h),
// each next to the hardware limit it is bound by: GFLOP/s against the FP32 peak for the GEMMs
// of linear_forward / linear_backward, GB/s against the DRAM peak for everything else, plus a
// device-to-device copy measured in the same run (the bandwidth a kernel can actually reach).
// Each line also prints the fraction of that peak expected for the case and where the figure
// comes from ("review": issue 17's line-by-line review of cuda/ against H100/A100 behaviour;
// "estimate": this file's reasoning, written next to the expectation), and says whether the run
// met it; a case below its expected range names what to fix next. So the first GPU run shows at
// a glance which kernel is furthest from what it should do.
//
// Each case runs once untimed, then `repeats` times; before every timed run the L2 cache is
// flushed (a memset of twice its size), and the run is bracketed by CUDA events on the default
// stream. Reported: median and minimum time, and throughput from the median. The ops with a
// host result (softmax_xent, weight_penalty, enmeshment) include their result copy and
// synchronisation, as a training loop sees them. "train_step" is one whole F21 training step at
// batch 128 as the cuda backend runs it (issue 17: the batch's asynchronous upload from pinned
// memory, 5 linear_dropout_forward, softmax_xent_record, 5 linear_dropout_backward, one
// adam_update_multi: 12 launches, no host synchronisation).
//
// Build (CMake builds it whenever nvcc is found) and run on a GPU box:
//   mvn -B -q -DskipTests package            # or: cmake --build java/target/cmake --target cleave_cuda_kernel_bench
//   java/target/cmake/bin/cleave_cuda_kernel_bench [--repeats 20] [--op linear_forward]
//   (benchmarks/scripts/cuda_kernel_bench.sh wraps this and saves the table with the device name)
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "cleave_cuda.h"

namespace {
#define CHECK_CUDA(call)                                                                      \
  do {                                                                                        \
    cudaError_t e_ = (call);                                                                  \
    if (e_ != cudaSuccess) {                                                                  \
      std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); \
      std::exit(2);                                                                           \
    }                                                                                         \
  } while (0)
#define CHECK_OP(call)                                                                        \
  do {                                                                                        \
    if ((call) != 0) {                                                                        \
      std::fprintf(stderr, "%s failed: %s\n", #call, cleave_cuda_last_error());              \
      std::exit(2);                                                                           \
    }                                                                                         \
  } while (0)

struct Peak {
  double gbps = 0;    // DRAM bandwidth, GB/s
  double gflops = 0;  // FP32 FMA throughput, GFLOP/s
  std::string name;
  size_t l2 = 0;
};

int fp32_cores_per_sm(int major, int minor) {
  if (major == 8 && minor == 0) return 64;  // A100
  if (major >= 8) return 128;               // 8.6, 8.9, 9.0, 10.x, 12.x
  return 64;
}

Peak device_peak() {
  int dev = 0;
  CHECK_CUDA(cudaGetDevice(&dev));
  cudaDeviceProp p;
  CHECK_CUDA(cudaGetDeviceProperties(&p, dev));
  int mem_khz = 0, bus_bits = 0, sm_khz = 0, sms = 0, l2 = 0;
  cudaDeviceGetAttribute(&mem_khz, cudaDevAttrMemoryClockRate, dev);
  cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, dev);
  cudaDeviceGetAttribute(&sm_khz, cudaDevAttrClockRate, dev);
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
  cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, dev);
  Peak k;
  k.name = p.name;
  k.gbps = 2.0 * mem_khz * 1e3 * (bus_bits / 8.0) / 1e9;  // double data rate
  k.gflops = 2.0 * sms * fp32_cores_per_sm(p.major, p.minor) * sm_khz * 1e3 / 1e9;
  k.l2 = (size_t)l2;
  return k;
}

// The fraction of the device's peak (FP32 for GEMMs, DRAM for the rest) a case should reach,
// from the review of issue 17 (review = true) or this file's estimate, and what to fix when a run
// falls below it.
struct Expect {
  double lo, hi;
  bool review;
  const char* next;
};

// Small cases of F21's MLP at batch 128: a few microseconds of work against a launch of about
// 3-5 us, so a kernel alone reaches a few percent at most; what helps is fewer launches (the
// fused step) and more blocks per launch (split-K).
constexpr Expect kLaunchBound{0.002, 0.10, false, "launch-bound: fuse it into the step's fewer launches"};
// Memory-bound grid-stride passes over large buffers: near the copy.
constexpr Expect kStreaming{0.60, 0.95, false, "a grid-stride pass should run near the copy: check the grid size and vector loads"};

struct Bench {
  int repeats = 20;
  int below = 0;  // cases under their expected range
  std::string only;
  Peak peak;
  void* flush = nullptr;
  size_t flush_bytes = 0;
  cudaEvent_t start, stop;

  void init() {
    peak = device_peak();
    flush_bytes = std::max<size_t>(2 * peak.l2, 64 << 20);
    CHECK_CUDA(cudaMalloc(&flush, flush_bytes));
    CHECK_CUDA(cudaEventCreate(&start));
    CHECK_CUDA(cudaEventCreate(&stop));
    std::printf("device: %s; peaks from the device attributes: DRAM %.0f GB/s, FP32 %.0f GFLOP/s; L2 %zu MiB "
                "(flushed before every timed run)\n",
                peak.name.c_str(), peak.gbps, peak.gflops, peak.l2 >> 20);
    std::printf("%-24s %-34s %10s %10s %12s %8s  %-22s %s\n", "op", "shape", "median ms", "min ms", "throughput",
                "of peak", "expected", "verdict");
  }

  // Times fn; `bytes` moved or `flops` done per call (one of them nonzero); `e` is the fraction
  // of the peak the case is expected to reach.
  void run(const char* op, const std::string& shape, double bytes, double flops, const Expect& e,
           const std::function<void()>& fn) {
    if (!only.empty() && only != op) return;
    fn();
    CHECK_CUDA(cudaDeviceSynchronize());
    std::vector<float> ms;
    for (int r = 0; r < repeats; ++r) {
      CHECK_CUDA(cudaMemsetAsync(flush, r & 0xFF, flush_bytes));
      CHECK_CUDA(cudaEventRecord(start));
      fn();
      CHECK_CUDA(cudaEventRecord(stop));
      CHECK_CUDA(cudaEventSynchronize(stop));
      float t = 0;
      CHECK_CUDA(cudaEventElapsedTime(&t, start, stop));
      ms.push_back(t);
    }
    std::sort(ms.begin(), ms.end());
    const double med = ms[ms.size() / 2], best = ms[0];
    char tp[64], pct[32], expect[48];
    double frac;
    if (flops > 0) {
      const double g = flops / (med * 1e-3) / 1e9;
      std::snprintf(tp, sizeof tp, "%.0f GFLOP/s", g);
      frac = g / peak.gflops;
    } else {
      const double g = bytes / (med * 1e-3) / 1e9;
      std::snprintf(tp, sizeof tp, "%.0f GB/s", g);
      frac = g / peak.gbps;
    }
    std::snprintf(pct, sizeof pct, "%.1f%%", 100.0 * frac);
    std::snprintf(expect, sizeof expect, "%g-%g%% %s", 100.0 * e.lo, 100.0 * e.hi, e.review ? "(review)" : "(estimate)");
    const char* verdict = frac < e.lo ? "BELOW: " : frac > e.hi ? "above: " : "as expected";
    std::printf("%-24s %-34s %10.4f %10.4f %12s %8s  %-22s %s%s\n", op, shape.c_str(), med, best, tp, pct, expect,
                verdict, frac < e.lo ? e.next : frac > e.hi ? "the expectation was too low; recheck its basis" : "");
    std::fflush(stdout);
    if (frac < e.lo) ++below;
  }
};

float* device_floats(size_t n, float scale, unsigned seed) {
  std::vector<float> h(n);
  unsigned s = seed;
  for (size_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    h[i] = scale * ((float)(s >> 8) / 16777216.0f - 0.5f);
  }
  void* d = nullptr;
  CHECK_OP(cleave_cuda_malloc(&d, (int64_t)(n * sizeof(float))));
  CHECK_OP(cleave_cuda_memcpy_htod(d, h.data(), (int64_t)(n * sizeof(float))));
  return static_cast<float*>(d);
}

int32_t* device_labels(size_t n, int k, unsigned seed, bool contiguous) {
  std::vector<int32_t> h(n);
  unsigned s = seed;
  for (size_t i = 0; i < n; ++i) {
    s = s * 1664525u + 1013904223u;
    h[i] = contiguous ? (int32_t)(i * k / n) : (int32_t)((s >> 8) % k);
  }
  void* d = nullptr;
  CHECK_OP(cleave_cuda_malloc(&d, (int64_t)(n * sizeof(int32_t))));
  CHECK_OP(cleave_cuda_memcpy_htod(d, h.data(), (int64_t)(n * sizeof(int32_t))));
  return static_cast<int32_t*>(d);
}

std::string dims(std::initializer_list<long long> v, const char* sep = " x ") {
  std::string s;
  for (long long x : v) s += (s.empty() ? "" : sep) + std::to_string(x);
  return s;
}
}  // namespace

int main(int argc, char** argv) {
  Bench b;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--repeats") && i + 1 < argc) b.repeats = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--op") && i + 1 < argc) b.only = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--repeats N] [--op name]\n", argv[0]);
      return 2;
    }
  }
  if (b.repeats < 1) b.repeats = 1;
  int count = 0;
  if (cleave_cuda_device_count(&count) != 0 || count == 0) {
    std::fprintf(stderr, "no usable CUDA device: %s\n", cleave_cuda_last_error());
    return 1;
  }
  b.init();

  // Device-to-device copy: the bandwidth an elementwise kernel can reach on this device.
  {
    const size_t n = 64 << 20;
    float* src = device_floats(n, 1, 1);
    float* dst = device_floats(n, 1, 2);
    b.run("copy (reference)", dims({(long long)n}), 2.0 * n * 4, 0,
          Expect{0.80, 0.95, false, "the device copies slowly: check its clocks (nvidia-smi -q -d CLOCK) and ECC"},
          [&] { CHECK_OP(cleave_cuda_memcpy_dtod(dst, src, (int64_t)(n * 4))); });
    cleave_cuda_free(src);
    cleave_cuda_free(dst);
  }

  // The linear layer: F21's MLP layer shapes at batch 128, and a large square case.
  const int shapes[][3] = {{128, 784, 256}, {128, 256, 256}, {128, 256, 10}, {1024, 4096, 4096}};
  for (const auto& s : shapes) {
    const int batch = s[0], in = s[1], out = s[2];
    float* x = device_floats((size_t)batch * in, 2, 3);
    float* w = device_floats((size_t)out * in, 0.1f, 4);
    float* bias = device_floats(out, 0.1f, 5);
    float* y = device_floats((size_t)batch * out, 1, 6);
    float* dy = device_floats((size_t)batch * out, 1, 7);
    float* dx = device_floats((size_t)batch * in, 1, 8);
    float* dw = device_floats((size_t)out * in, 1, 9);
    float* db = device_floats(out, 1, 10);
    float* mask = device_floats((size_t)batch * out, 1, 24);
    const double f = 2.0 * batch * in * out;
    // F21's batch-128 layers: 32x32 tiles, fewer blocks than SMs (the review: split-K with a
    // fixed-order reduction); the large case: the 64x64 tiles at full occupancy.
    const bool small = batch == 128;
    const Expect e = small ? Expect{0.003, 0.10, false, "fewer tiles than SMs: split-K with a fixed-order reduction (review)"}
                           : Expect{0.30, 0.60, false, "a SIMT GEMM of 64x64 tiles: double-buffer the k-slices, then tensor cores"};
    b.run("linear_forward", dims({batch, in, out}) + " relu", 0, f, e,
          [&] { CHECK_OP(cleave_cuda_linear_forward(x, w, bias, y, batch, in, out, 1)); });
    b.run("linear_backward", dims({batch, in, out}) + " relu dx", 0, 2 * f, e,
          [&] { CHECK_OP(cleave_cuda_linear_backward(x, w, y, dy, dx, dw, db, batch, in, out, 1)); });
    b.run("linear_dropout_forward", dims({batch, in, out}) + " relu p=0.2", 0, f, e,
          [&] { CHECK_OP(cleave_cuda_linear_dropout_forward(x, w, bias, y, mask, batch, in, out, 1, 0.2f, 1, 2)); });
    b.run("linear_dropout_backward", dims({batch, in, out}) + " dx masked", 0, 2 * f, e, [&] {
      CHECK_OP(cleave_cuda_linear_dropout_backward(x, w, x, dy, dx, dw, db, batch, in, out, 1));
    });
    for (float* p : {x, w, bias, y, dy, dx, dw, db, mask}) cleave_cuda_free(p);
  }

  // softmax cross-entropy: MNIST-like (10 classes) and wide rows.
  const int xent[][2] = {{128, 10}, {65536, 10}, {4096, 1000}};
  for (const auto& s : xent) {
    const int batch = s[0], classes = s[1];
    float* z = device_floats((size_t)batch * classes, 8, 11);
    float* dz = device_floats((size_t)batch * classes, 1, 12);
    int32_t* labels = device_labels(batch, classes, 13, false);
    double loss = 0;
    int32_t correct = 0;
    const double bytes = (2.0 * batch * classes + batch) * 4;
    const Expect e = batch == 128 ? Expect{0.0005, 0.05, false, "a host round trip per call: a training loop uses softmax_xent_record"}
                     : classes == 10 ? Expect{0.20, 0.70, false, "rows of 10 leave 22 of a warp's 32 lanes idle: several rows per warp"}
                                     : Expect{0.50, 0.90, false, "three passes over each row: keep the row in registers"};
    b.run("softmax_xent", dims({batch, classes}), bytes, 0, e, [&] {
      CHECK_OP(cleave_cuda_softmax_xent(z, labels, dz, batch, classes, 1.0f / batch, &loss, &correct));
    });
    double* record = nullptr;
    CHECK_OP(cleave_cuda_malloc((void**)&record, 8 * CLEAVE_XENT_RECORD));
    b.run("softmax_xent_record", dims({batch, classes}), bytes, 0, batch == 128 ? kLaunchBound : e, [&] {
      CHECK_OP(cleave_cuda_softmax_xent_record(z, labels, dz, batch, classes, 1.0f / batch, record));
    });
    cleave_cuda_free(record);
    cleave_cuda_free(z);
    cleave_cuda_free(dz);
    cleave_cuda_free(labels);
  }

  // Elementwise ops over 16M parameters (and the 200k of F21's MLP).
  for (const long long n : {200000LL, 16LL << 20}) {
    float* w = device_floats(n, 1, 14);
    float* g = device_floats(n, 1, 15);
    float* m = device_floats(n, 1, 16);
    float* v = device_floats(n, 1, 17);
    for (float* p : {v}) CHECK_OP(cleave_cuda_memset(p, 0, n * 4));
    float* mask = device_floats(n, 1, 18);
    const std::string shape = dims({n});
    const bool small = n < (1 << 20);
    const Expect e = small ? kLaunchBound : kStreaming;
    b.run("dropout_forward", shape, 2.0 * n * 4 + n * 4, 0, e,
          [&] { CHECK_OP(cleave_cuda_dropout_forward(w, mask, n, 0.5f, 42, 1)); });
    b.run("dropout_backward", shape, 3.0 * n * 4, 0, e,
          [&] { CHECK_OP(cleave_cuda_dropout_backward(g, mask, n)); });
    double value = 0;
    b.run("weight_penalty", shape, 3.0 * n * 4, 0,
          small ? kLaunchBound : Expect{0.40, 0.90, false, "two passes and a host copy: the training step folds it into adam_update_multi"},
          [&] { CHECK_OP(cleave_cuda_weight_penalty(w, g, n, 1e-5f, 1e-4f, &value)); });
    b.run("adam_update", shape, 7.0 * n * 4, 0, e,
          [&] { CHECK_OP(cleave_cuda_adam_update(w, g, m, v, nullptr, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 10)); });
    {
      float* const ws[] = {w};
      const float* const gs[] = {g};
      float* const ms[] = {m};
      float* const vs[] = {v};
      const float* const masks[] = {nullptr};
      const int64_t ns[] = {n};
      const float l1[] = {0.0f}, l2[] = {1e-4f};
      b.run("adam_update_multi", shape + " 1 tensor, l2", 7.0 * n * 4, 0, e, [&] {
        CHECK_OP(cleave_cuda_adam_update_multi(1, ws, gs, ms, vs, masks, ns, l1, l2, 1e-3f, 0.9f, 0.999f, 1e-8f, 10));
      });
    }
    for (float* p : {w, g, m, v, mask}) cleave_cuda_free(p);
  }

  // enmeshment: a hidden layer of F21 and a large matrix, k = 4, contiguous and scattered labels.
  const int enm[][2] = {{256, 256}, {4096, 4096}};
  for (const auto& s : enm) {
    const int rows = s[0], cols = s[1], k = 4;
    float* w = device_floats((size_t)rows * cols, 0.1f, 19);
    float* g = device_floats((size_t)rows * cols, 0.1f, 20);
    for (bool contiguous : {true, false}) {
      int32_t* rl = device_labels(rows, k, 21, contiguous);
      int32_t* cl = device_labels(cols, k, 22, contiguous);
      double c = 0;
      const double n = (double)rows * cols;
      b.run("enmeshment", dims({rows, cols}) + (contiguous ? " k=4 contiguous" : " k=4 scattered"),
            n * 4 * 4, 0,  // minimum DRAM traffic: w twice, grad read and written
            rows < 1024 ? kLaunchBound
                        : Expect{0.40, 0.85, false, "three launches and a host copy: fuse the label check into the sums"},
            [&] { CHECK_OP(cleave_cuda_enmeshment(w, rl, cl, rows, cols, 1, k, 1.0f, g, &c)); });
      cleave_cuda_free(rl);
      cleave_cuda_free(cl);
    }
    cleave_cuda_free(w);
    cleave_cuda_free(g);
  }
  // The spectral engine: the normalized adjacency of an 8-layer, 1024-wide network (dense mirrored
  // pieces: the weights are read twice per application, once per direction) applied to 16 vectors,
  // and the eigensolver's block kernels and the k-means assignment at n = 1M rows, p = 16 columns.
  // Throughput is the minimum DRAM traffic (weights and vectors) over time.
  {
    const int layers = 8, width = 1024, cols = 16;
    const int64_t n = (int64_t)layers * width, half = (int64_t)(layers / 2) * width;
    std::vector<double> scale(n, 1.0 / 32.0);
    cleave_cuda_spectral_op* op = nullptr;
    CHECK_OP(cleave_cuda_spectral_op_create(n, half, scale.data(), &op));
    std::vector<float> a((size_t)width * width);
    unsigned s = 23;
    for (float& v : a) {
      s = s * 1664525u + 1013904223u;
      v = (float)(s >> 8) / 16777216.0f;
    }
    for (int l = 0; l + 1 < layers; ++l) {  // even layers on side S (rows [0, half)), odd ones on T
      const int64_t from = (l % 2 == 0 ? 0 : half) + (int64_t)(l / 2) * width;
      const int64_t to = (l % 2 == 0 ? half : 0) + (int64_t)((l + 1) / 2) * width;
      CHECK_OP(cleave_cuda_spectral_op_add_dense(op, to, width, from, width, a.data(), 1));
    }
    double* x = nullptr;
    double* y = nullptr;
    CHECK_OP(cleave_cuda_malloc((void**)&x, n * cols * 8));
    CHECK_OP(cleave_cuda_malloc((void**)&y, n * cols * 8));
    CHECK_OP(cleave_cuda_memset(x, 0, n * cols * 8));
    const double weights = 2.0 * (layers - 1) * width * width * 4;
    b.run("spectral_op_apply", dims({n, cols}) + " N, 8x1024 dense", weights + 4.0 * n * cols * 8, 0,
          // the review's cap (near 28%: each float converted 16 times) is gone with the double-staged tile
          Expect{0.35, 0.80, false, "the dense tile reloads x per 64 rows: widen the tile or keep x in L2"},
          [&] { CHECK_OP(cleave_cuda_spectral_op_apply(op, 0, x, y, cols)); });
    CHECK_OP(cleave_cuda_spectral_op_free(op));
    cleave_cuda_free(x);
    cleave_cuda_free(y);
  }
  {
    const int64_t n = 1 << 20;
    const int p = 16;
    double *x = nullptr, *y = nullptr, *z = nullptr, *g = nullptr;
    int32_t* labels = nullptr;
    CHECK_OP(cleave_cuda_malloc((void**)&x, n * p * 8));
    CHECK_OP(cleave_cuda_malloc((void**)&y, n * p * 8));
    CHECK_OP(cleave_cuda_malloc((void**)&z, n * p * 8));
    CHECK_OP(cleave_cuda_malloc((void**)&g, p * p * 8));
    CHECK_OP(cleave_cuda_malloc((void**)&labels, n * 4));
    for (double* q : {x, y, z, g}) CHECK_OP(cleave_cuda_memset(q, 0, q == g ? p * p * 8 : n * p * 8));
    std::vector<double> theta(p, 0.5), res(p);
    const std::string shape = dims({n, p});
    const double block = (double)n * p * 8;
    const Expect gram{0.04, 0.15, true, "one lane per row walks p columns: split the rows across lanes (review)"};
    b.run("block_gram", shape, 2 * block, 0, gram, [&] { CHECK_OP(cleave_cuda_block_gram(n, x, p, p, y, p, p, g)); });
    const Expect rows{0.30, 0.80, false, "rows staged in shared memory: check the occupancy the grid was sized from"};
    b.run("block_sub_mul", shape, 3 * block, 0, rows, [&] { CHECK_OP(cleave_cuda_block_sub_mul(n, x, p, p, g, y, p, p)); });
    b.run("block_mul_square", shape, 2 * block, 0, rows, [&] { CHECK_OP(cleave_cuda_block_mul_square(n, x, p, p, g)); });
    b.run("block_residuals", shape, 2 * block, 0, gram,
          [&] { CHECK_OP(cleave_cuda_block_residuals(n, x, y, p, p, theta.data(), res.data())); });
    b.run("block_chebyshev_step", shape, 4 * block, 0, kStreaming,
          [&] { CHECK_OP(cleave_cuda_block_chebyshev_step(n * p, 1.5, 0.2, 0.3, x, y, z)); });
    b.run("block_copy", shape, 2 * block, 0, kStreaming, [&] { CHECK_OP(cleave_cuda_block_copy(n, x, p, 0, y, p, 0, p)); });
    b.run("kmeans_assign", shape + " k=16", block + n * 12.0, 0,
          Expect{0.20, 0.60, false, "k centers of p doubles per point from shared memory: stage fewer, reuse more"},
          [&] { CHECK_OP(cleave_cuda_kmeans_assign(x, n, p, g, p, labels, y)); });
    for (void* q : {(void*)x, (void*)y, (void*)z, (void*)g, (void*)labels}) cleave_cuda_free(q);
  }
  // ---- convolutional ops (issue 11): f21-cnn's layers at batch 64 (1x28x28 input), and
  // vgg16-cifar's widest 3x3 layer. conv2d counts 2 MACs per weight per output position
  // (backward: dw and dx, twice the forward); pooling and batchnorm count bytes moved.
  {
    // batch, in, h, w, out, kernel, stride, padding
    const int convs[][8] = {{64, 1, 28, 28, 64, 3, 1, 1}, {64, 64, 28, 28, 64, 3, 1, 1}, {64, 64, 14, 14, 64, 3, 1, 1},
                            {64, 512, 4, 4, 512, 3, 1, 1}};
    for (const auto& c : convs) {
      const int batch = c[0], in = c[1], h = c[2], w = c[3], out = c[4], k = c[5], st = c[6], pd = c[7];
      const int oh = (h + 2 * pd - k) / st + 1, ow = (w + 2 * pd - k) / st + 1;
      float* x = device_floats((size_t)batch * in * h * w, 2, 31);
      float* wt = device_floats((size_t)out * in * k * k, 0.1f, 32);
      float* bias = device_floats(out, 0.1f, 33);
      float* y = device_floats((size_t)batch * out * oh * ow, 1, 34);
      float* dy = device_floats((size_t)batch * out * oh * ow, 1, 35);
      float* dx = device_floats((size_t)batch * in * h * w, 1, 36);
      float* dw = device_floats((size_t)out * in * k * k, 1, 37);
      float* db = device_floats(out, 1, 38);
      const double f = 2.0 * batch * out * oh * ow * in * k * k;
      const std::string shape = dims({batch, in, h, w}) + " -> " + std::to_string(out) + " k" + std::to_string(k);
      const Expect conv{0.03, 0.40, false, "implicit GEMM in 32x32/64x64 SIMT tiles: gather the patches once per tile"};
      b.run("conv2d_forward", shape + " relu", 0, f, conv,
            [&] { CHECK_OP(cleave_cuda_conv2d_forward(x, wt, bias, y, batch, in, h, w, out, k, st, pd, 1)); });
      b.run("conv2d_backward", shape + " relu dx", 0, 2 * f, conv, [&] {
        CHECK_OP(cleave_cuda_conv2d_backward(x, wt, y, dy, dx, dw, db, batch, in, h, w, out, k, st, pd, 1));
      });
      for (float* p : {x, wt, bias, y, dy, dx, dw, db}) cleave_cuda_free(p);
    }
    const int pools[][4] = {{64, 64, 28, 28}, {64, 64, 14, 14}};
    for (const auto& p : pools) {
      const int batch = p[0], ch = p[1], h = p[2], w = p[3];
      const size_t n = (size_t)batch * ch * h * w, m = n / 4;
      float* x = device_floats(n, 2, 41);
      float* y = device_floats(m, 1, 42);
      float* dx = device_floats(n, 1, 43);
      void* arg = nullptr;
      CHECK_OP(cleave_cuda_malloc(&arg, (int64_t)(m * sizeof(int32_t))));
      int32_t* argmax = static_cast<int32_t*>(arg);
      b.run("maxpool2d_forward", dims({batch, ch, h, w}) + " 2x2/2", 4.0 * (n + 2 * m), 0, kStreaming,
            [&] { CHECK_OP(cleave_cuda_maxpool2d_forward(x, y, argmax, batch, ch, h, w, 2, 2)); });
      b.run("maxpool2d_backward", dims({batch, ch, h, w}) + " 2x2/2", 4.0 * (n + 2 * m), 0, kStreaming,
            [&] { CHECK_OP(cleave_cuda_maxpool2d_backward(y, argmax, dx, batch, ch, h, w, 2, 2)); });
      for (float* q : {x, y, dx}) cleave_cuda_free(q);
      cleave_cuda_free(argmax);
    }
    const int bns[][4] = {{64, 64, 32, 32}, {64, 512, 4, 4}};
    for (const auto& p : bns) {
      const int batch = p[0], ch = p[1], h = p[2], w = p[3];
      const size_t n = (size_t)batch * ch * h * w;
      float* x = device_floats(n, 2, 51);
      float* y = device_floats(n, 1, 52);
      float* dy = device_floats(n, 1, 53);
      float* dx = device_floats(n, 1, 54);
      float* per[8];
      for (int i = 0; i < 8; ++i) per[i] = device_floats(ch, 1, 55 + i);
      float *gamma = per[0], *beta = per[1], *rm = per[2], *rv = per[3], *sm = per[4], *si = per[5];
      float *dgamma = per[6], *dbeta = per[7];
      CHECK_OP(cleave_cuda_memset(rv, 0, (int64_t)(ch * sizeof(float))));
      const Expect bn{0.30, 0.85, false, "one block per channel: too few blocks when channels < 2 x SMs"};
      b.run("batchnorm2d_forward", dims({batch, ch, h, w}) + " training", 4.0 * 3 * n, 0, bn, [&] {
        CHECK_OP(cleave_cuda_batchnorm2d_forward(x, gamma, beta, rm, rv, y, sm, si, batch, ch, h, w, 1, 0.1f, 1e-5f));
      });
      b.run("batchnorm2d_backward", dims({batch, ch, h, w}) + " training", 4.0 * 5 * n, 0, bn, [&] {
        CHECK_OP(cleave_cuda_batchnorm2d_backward(x, gamma, sm, si, dy, dx, dgamma, dbeta, batch, ch, h, w, 1));
      });
      for (float* q : {x, y, dy, dx}) cleave_cuda_free(q);
      for (float* q : per) cleave_cuda_free(q);
    }
  }
  // One whole F21 training step at batch 128 as the cuda backend runs it (MlpPass with the fused
  // ops): 784-256-256-256-256-10, dropout 0.2, L2 on the weights. FLOPs: forward and the two
  // backward GEMMs of every layer. The review estimated the unfused step (48 launches, 9 host
  // synchronisations) at 0.25-0.35 ms on an H100, about 1% of FP32 peak; 12 launches and no host
  // synchronisation should bring it to a few percent, the rest being launch gaps and the small
  // GEMMs' few tiles.
  {
    const int widths[] = {784, 256, 256, 256, 256, 10};
    const int layers = 5, batch = 128;
    std::vector<float*> acts, grads, masks, ws, bs, gws, gbs, ms, vs;
    for (int l = 0; l <= layers; ++l) {
      acts.push_back(device_floats((size_t)batch * widths[l], 1, 60 + l));
      grads.push_back(device_floats((size_t)batch * widths[l], 1, 70 + l));
      masks.push_back(device_floats((size_t)batch * widths[l], 1, 80 + l));
    }
    double flops = 0;
    for (int l = 0; l < layers; ++l) {
      const size_t wn = (size_t)widths[l + 1] * widths[l], bn = widths[l + 1];
      ws.push_back(device_floats(wn, 0.1f, 90 + l));
      bs.push_back(device_floats(bn, 0.1f, 100 + l));
      gws.push_back(device_floats(wn, 1, 110 + l));
      gbs.push_back(device_floats(bn, 1, 120 + l));
      for (size_t count : {wn, bn}) {
        float* m = device_floats(count, 0, 130);
        float* v = device_floats(count, 0, 131);
        CHECK_OP(cleave_cuda_memset(m, 0, (int64_t)(count * 4)));
        CHECK_OP(cleave_cuda_memset(v, 0, (int64_t)(count * 4)));
        ms.push_back(m);
        vs.push_back(v);
      }
      flops += 3.0 * 2.0 * batch * widths[l] * widths[l + 1];
    }
    std::vector<float*> pw, pg;
    std::vector<const float*> pmask;
    std::vector<int64_t> pn;
    std::vector<float> l1, l2;
    for (int l = 0; l < layers; ++l) {
      pw.push_back(ws[l]);
      pg.push_back(gws[l]);
      pn.push_back((int64_t)widths[l + 1] * widths[l]);
      l2.push_back(1e-4f);
      pw.push_back(bs[l]);
      pg.push_back(gbs[l]);
      pn.push_back(widths[l + 1]);
      l2.push_back(0.0f);
    }
    pmask.assign(pw.size(), nullptr);
    l1.assign(pw.size(), 0.0f);
    std::vector<const float*> cg(pg.begin(), pg.end());
    int32_t* labels = device_labels(batch, 10, 140, false);
    double* record = nullptr;
    CHECK_OP(cleave_cuda_malloc((void**)&record, 8 * CLEAVE_XENT_RECORD));
    void* pinned = nullptr;
    const int64_t image_bytes = (int64_t)batch * widths[0] * 4;
    CHECK_OP(cleave_cuda_host_alloc(&pinned, image_bytes + batch * 4));
    std::memset(pinned, 0, (size_t)(image_bytes + batch * 4));
    int64_t step = 1;
    b.run("train_step", "F21 784-256x4-10 batch 128, 12 launches", 0, flops,
          Expect{0.01, 0.15, false, "split-K for the small GEMMs, then one CUDA graph per batch size (review)"}, [&] {
            CHECK_OP(cleave_cuda_memcpy_htod_async(acts[0], pinned, image_bytes));
            CHECK_OP(cleave_cuda_memcpy_htod_async(labels, (char*)pinned + image_bytes, batch * 4));
            for (int l = 0; l < layers; ++l) {
              const bool hidden = l + 1 < layers;
              CHECK_OP(cleave_cuda_linear_dropout_forward(acts[l], ws[l], bs[l], acts[l + 1], hidden ? masks[l] : nullptr,
                                                          batch, widths[l], widths[l + 1], hidden ? 1 : 0, 0.2f, 7,
                                                          (uint64_t)(step * layers + l)));
            }
            CHECK_OP(cleave_cuda_softmax_xent_record(acts[layers], labels, grads[layers], batch, 10, 1.0f / batch, record));
            for (int l = layers - 1; l >= 0; --l)
              CHECK_OP(cleave_cuda_linear_dropout_backward(acts[l], ws[l], l > 0 ? masks[l - 1] : nullptr, grads[l + 1],
                                                           l > 0 ? grads[l] : nullptr, gws[l], gbs[l], batch, widths[l],
                                                           widths[l + 1], l > 0 ? 1 : 0));
            CHECK_OP(cleave_cuda_adam_update_multi((int)pw.size(), pw.data(), cg.data(), ms.data(), vs.data(),
                                                   pmask.data(), pn.data(), l1.data(), l2.data(), 1e-3f, 0.9f, 0.999f,
                                                   1e-8f, step));
            ++step;
          });
    for (auto* list : {&acts, &grads, &masks, &ws, &bs, &gws, &gbs, &ms, &vs})
      for (float* q : *list) cleave_cuda_free(q);
    cleave_cuda_free(labels);
    cleave_cuda_free(record);
    CHECK_OP(cleave_cuda_host_free(pinned));
  }

  std::printf("%d case(s) below their expected range%s\n", b.below,
              b.below ? ": fix the ones marked BELOW first, the furthest below first" : "");
  return 0;
}
