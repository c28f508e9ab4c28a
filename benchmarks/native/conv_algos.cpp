// The conv2d algorithms side by side on the f21-cnn layer shapes (batch 64): im2col + sgemm and
// Winograd F(2x2, 3x3), forward and backward, 1 and 2 threads, with OpenBLAS's sgemm rate on
// 2048^3 measured in the same run. The numbers behind choose() in native/src/conv2d.cpp.
// Also checks that the algorithms agree (max |difference| / max |value|) before timing.
//
//   benchmarks/scripts/conv_algos.sh            (builds this against native/src and runs it)
//
// GFLOP/s counts the direct convolution's 2 * batch * out * in * 9 * oh * ow per pass
// (backward: twice that with dx, once without), whatever the algorithm does.
//   arguments: [batch, default 64] [timed runs, default 9] [threads up to, default 2]
#include <cblas.h>
#include <omp.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>
#include "../../native/src/conv2d_internal.h"
#include "cleave_cpu.h"

using namespace cleave::conv;

namespace {
double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

struct Layer {
  const char* name;
  int in, hw, out, k, pad;
  bool dx;
};

// Median seconds of `reps` runs of f (after one warm-up run), and the min and max.
template <class F>
void timeit(F f, int reps, double* med, double* lo, double* hi) {
  f();
  std::vector<double> t;
  for (int r = 0; r < reps; ++r) {
    const double t0 = now();
    f();
    t.push_back(now() - t0);
  }
  std::sort(t.begin(), t.end());
  *med = t[t.size() / 2];
  *lo = t.front();
  *hi = t.back();
}

double max_rel(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0, m = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    d = std::max(d, (double)std::fabs(a[i] - b[i]));
    m = std::max(m, (double)std::fabs(a[i]));
  }
  return m > 0 ? d / m : d;
}
}  // namespace

int main(int argc, char** argv) {
  const int batch = argc > 1 ? std::atoi(argv[1]) : 64;
  const int reps = argc > 2 ? std::atoi(argv[2]) : 9;
  const Layer layers[] = {{"conv1 1->64 28x28", 1, 28, 64, 3, 1, false},
                          {"conv2 64->64 28x28", 64, 28, 64, 3, 1, true},
                          {"conv3 64->64 14x14", 64, 14, 64, 3, 1, true},
                          // Around the Winograd rule's threshold, and CIFAR first layers (g24/g25/vgg16).
                          {"4->4 28x28", 4, 28, 4, 3, 1, true},
                          {"8->8 28x28", 8, 28, 8, 3, 1, true},
                          {"16->16 28x28", 16, 28, 16, 3, 1, true},
                          {"3->32 32x32", 3, 32, 32, 3, 1, false},
                          {"32->64 32x32", 32, 32, 64, 3, 1, true}};
  std::mt19937 rng(7);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  FILE* la = std::fopen("/proc/loadavg", "r");
  char load[128] = "?";
  if (la) {
    if (!std::fgets(load, sizeof load, la)) load[0] = 0;
    std::fclose(la);
  }
  std::printf("batch %d, %d timed runs each (median [min, max]); /proc/loadavg at start: %s", batch, reps, load);
  const int max_threads = argc > 3 ? std::atoi(argv[3]) : 2;
  for (int threads = 1; threads <= max_threads; ++threads) {
    cleave_set_blas_threads(threads);
    const int n = 2048;
    std::vector<float> a((size_t)n * n), b((size_t)n * n), c((size_t)n * n);
    for (auto& v : a) v = nd(rng);
    for (auto& v : b) v = nd(rng);
    double med, lo, hi;
    timeit([&] { cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a.data(), n, b.data(), n, 0.0f, c.data(), n); },
           5, &med, &lo, &hi);
    const double sg = 2.0 * n * n * n / med / 1e9;
    std::printf("\n%d thread(s): sgemm 2048^3 %.1f GFLOP/s [%.1f, %.1f]\n", threads, sg, 2.0 * n * n * n / hi / 1e9,
                2.0 * n * n * n / lo / 1e9);
    cleave_set_threads(threads);
    std::printf("%-20s %-9s %-8s %10s %10s %8s %s\n", "layer", "algo", "pass", "ms", "GFLOP/s", "sgemm%", "range ms");
    for (const Layer& L : layers) {
      Geometry g;
      if (make_geometry("bench", batch, L.in, L.hw, L.hw, L.out, L.k, 1, L.pad, &g)) return 1;
      std::vector<float> x(batch * g.in_size()), w(g.out * g.patch()), bias(g.out), y(batch * g.out_size()),
          y2(y.size()), dy0(y.size()), dy(y.size()), dx(x.size()), dx2(x.size()), dw(w.size()), dw2(w.size()),
          db(g.out);
      for (auto& v : x) v = nd(rng);
      for (auto& v : w) v = nd(rng) * 0.1f;
      for (auto& v : bias) v = nd(rng) * 0.1f;
      for (auto& v : dy0) v = nd(rng);
      // Agreement: Winograd against im2col.
      forward(Algorithm::kIm2col, g, x.data(), w.data(), bias.data(), y.data(), 1);
      forward(Algorithm::kWinograd, g, x.data(), w.data(), bias.data(), y2.data(), 1);
      dy = dy0;
      backward(Algorithm::kIm2col, g, x.data(), w.data(), y.data(), dy.data(), L.dx ? dx.data() : nullptr, dw.data(), db.data(), 1);
      dy = dy0;
      backward(Algorithm::kWinograd, g, x.data(), w.data(), y.data(), dy.data(), L.dx ? dx2.data() : nullptr, dw2.data(), db.data(), 1);
      std::printf("%-20s agreement winograd vs im2col: y %.2e, dw %.2e, dx %.2e (max |diff| / max |value|)\n", L.name,
                  max_rel(y, y2), max_rel(dw, dw2), L.dx ? max_rel(dx, dx2) : 0.0);
      const double flop = 2.0 * batch * g.out * g.in * 9 * g.ohw();
      for (Algorithm algo : {Algorithm::kIm2col, Algorithm::kWinograd}) {
        const char* an = algo == Algorithm::kIm2col ? "im2col" : "winograd";
        double med, lo, hi;
        timeit([&] { forward(algo, g, x.data(), w.data(), bias.data(), y.data(), 1); }, reps, &med, &lo, &hi);
        std::printf("%-20s %-9s %-8s %10.3f %10.1f %7.0f%% [%.3f, %.3f]%s\n", L.name, an, "forward", med * 1e3,
                    flop / med / 1e9, 100 * flop / med / 1e9 / sg, lo * 1e3, hi * 1e3, choose(g) == algo ? "  <- chosen" : "");
        // dy is masked in place; refilling it is part of neither algorithm, so it is left out.
        const double bflop = flop * (L.dx ? 2 : 1);
        timeit([&] { backward(algo, g, x.data(), w.data(), y.data(), dy.data(), L.dx ? dx.data() : nullptr, dw.data(), db.data(), 1); },
               reps, &med, &lo, &hi);
        std::printf("%-20s %-9s %-8s %10.3f %10.1f %7.0f%% [%.3f, %.3f]%s\n", L.name, an, "backward", med * 1e3,
                    bflop / med / 1e9, 100 * bflop / med / 1e9 / sg, lo * 1e3, hi * 1e3, choose(g) == algo ? "  <- chosen" : "");
      }
    }
  }
  return 0;
}
