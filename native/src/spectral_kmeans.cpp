// kmeans: k-means++ seeding (greedy, as scikit-learn: 2 + floor(ln k) candidates per center,
// the one that lowers the potential most is kept) and Lloyd iterations, n_init restarts run in
// parallel (one restart per thread at a time), the lowest inertia kept. The Java reference is
// dev.cleave.cluster.KMeans (Backend.JAVA); both draw from the same counter-based generator, so
// they choose the same seeds and agree up to rounding.
//
// Restart r uses seeds[r] alone and runs on one thread, and the best restart is chosen in
// index order, so labels do not depend on the thread count.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <vector>
#include "cleave_cpu.h"
#include "common.h"
#include "cleave_spectral.h"

namespace {

inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Uniform in [0, 1) with 53 random bits: the i-th draw of the stream `seed`
// (dev.cleave.cluster.KMeans.uniform is the same function).
inline double uniform(uint64_t seed, uint64_t i) {
  return (double)(mix64(seed + (i + 1) * 0x9E3779B97F4A7C15ULL) >> 11) * 0x1.0p-53;
}

struct Run {
  std::vector<int32_t> labels;
  std::vector<double> centers;
  double inertia = 0.0;
  int iterations = 0;
};

class KMeans {
 public:
  KMeans(const double* x, int64_t n, int d, int k) : x_(x), n_(n), d_(d), k_(k), kp_((k + 3) & ~3) {}

  // Squared distances from point i to every center (ct: centers transposed, d x kp).
  void distances(int64_t i, const double* ct, double* out) const {
    const double* xi = x_ + i * d_;
    for (int c = 0; c < kp_; ++c) out[c] = 0.0;
    for (int j = 0; j < d_; ++j) {
      const double xj = xi[j];
      const double* row = ct + (size_t)j * kp_;
      for (int c = 0; c < kp_; ++c) {
        const double t = xj - row[c];
        out[c] += t * t;
      }
    }
  }

  double dist2(int /*unused*/, const double* a, const double* b) const {
    double s = 0.0;
    for (int j = 0; j < d_; ++j) {
      const double t = a[j] - b[j];
      s += t * t;
    }
    return s;
  }

  double dist2(int64_t i, const double* center) const {
    const double* xi = x_ + i * d_;
    double s = 0.0;
    for (int j = 0; j < d_; ++j) {
      const double t = xi[j] - center[j];
      s += t * t;
    }
    return s;
  }

  void seed_plusplus(uint64_t seed, double* centers) const {
    uint64_t draw = 0;
    const int trials = 2 + (int)std::log((double)k_);
    std::vector<double> closest(n_), cum(n_), cand_d(n_), best_d(n_);
    int64_t first = std::min<int64_t>(n_ - 1, (int64_t)(uniform(seed, draw++) * (double)n_));
    std::memcpy(centers, x_ + first * d_, sizeof(double) * d_);
    double pot = 0.0;
    for (int64_t i = 0; i < n_; ++i) pot += (closest[i] = dist2(i, centers));
    for (int c = 1; c < k_; ++c) {
      double s = 0.0;
      for (int64_t i = 0; i < n_; ++i) cum[i] = (s += closest[i]);
      double best_pot = INFINITY;
      int64_t best = -1;
      for (int t = 0; t < trials; ++t) {
        const double r = uniform(seed, draw++);
        int64_t idx;
        if (s > 0.0) {
          idx = std::upper_bound(cum.begin(), cum.end(), r * s) - cum.begin();
          if (idx >= n_) idx = n_ - 1;
        } else {
          idx = std::min<int64_t>(n_ - 1, (int64_t)(r * (double)n_));
        }
        double p = 0.0;
        for (int64_t i = 0; i < n_; ++i) {
          const double dd = std::min(closest[i], dist2(i, x_ + idx * d_));
          cand_d[i] = dd;
          p += dd;
        }
        if (p < best_pot) {
          best_pot = p;
          best = idx;
          best_d.swap(cand_d);
        }
      }
      std::memcpy(centers + (size_t)c * d_, x_ + best * d_, sizeof(double) * d_);
      closest.swap(best_d);
      pot = best_pot;
    }
    (void)pot;
  }

  // Empty clusters take the point farthest from its center (among clusters with > 1 point);
  // the point becomes the center of its new cluster. Returns whether any cluster was empty.
  bool relocate_empty(int32_t* labels, double* dist, double* centers) const {
    std::vector<int64_t> count(k_, 0);
    for (int64_t i = 0; i < n_; ++i) ++count[labels[i]];
    bool any = false;
    for (int c = 0; c < k_; ++c) {
      if (count[c] > 0) continue;
      int64_t far = -1;
      for (int64_t i = 0; i < n_; ++i)
        if (count[labels[i]] > 1 && (far < 0 || dist[i] > dist[far])) far = i;
      if (far < 0) break;  // n < k cannot happen (validated); defensive
      --count[labels[far]];
      labels[far] = c;
      dist[far] = 0.0;
      count[c] = 1;
      std::memcpy(centers + (size_t)c * d_, x_ + far * d_, sizeof(double) * d_);
      any = true;
    }
    return any;
  }

  // Every center becomes the mean of its points (none is empty: relocate_empty ran first).
  void update_means(const int32_t* labels, double* centers) const {
    std::vector<int64_t> count(k_, 0);
    std::fill(centers, centers + (size_t)k_ * d_, 0.0);
    for (int64_t i = 0; i < n_; ++i) {
      ++count[labels[i]];
      double* ci = centers + (size_t)labels[i] * d_;
      const double* xi = x_ + i * d_;
      for (int j = 0; j < d_; ++j) ci[j] += xi[j];
    }
    for (int c = 0; c < k_; ++c)
      for (int j = 0; j < d_; ++j) centers[(size_t)c * d_ + j] /= (double)count[c];
  }

  // Lloyd's iterations in Hamerly's exact form: per point an upper bound u on the distance to
  // its center and a lower bound l on the distance to any other; a point whose u is below
  // max(l, half the distance from its center to the nearest other center) cannot change label,
  // so its k distances are skipped. Same assignments as plain Lloyd (which the Java reference
  // runs) up to rounding at exact ties.
  void run(uint64_t seed, int max_iter, double shift_tol, Run& out) const {
    out.labels.assign(n_, -1);
    out.centers.assign((size_t)k_ * d_, 0.0);
    seed_plusplus(seed, out.centers.data());
    std::vector<double> dist(n_), prev((size_t)k_ * d_), upper(n_), lower(n_), half_gap(k_), moved(k_),
        ct((size_t)d_ * kp_), dd(kp_);
    int32_t* lab = out.labels.data();
    double* cen = out.centers.data();
    auto transpose_centers = [&]() {
      for (int c = 0; c < kp_; ++c)
        for (int j = 0; j < d_; ++j) ct[(size_t)j * kp_ + c] = c < k_ ? cen[(size_t)c * d_ + j] : INFINITY;
    };
    auto full_assign = [&](int64_t i) -> bool {  // returns whether the label changed
      distances(i, ct.data(), dd.data());
      int best = 0;
      for (int c = 1; c < k_; ++c)
        if (dd[c] < dd[best]) best = c;
      double second = INFINITY;
      for (int c = 0; c < k_; ++c)
        if (c != best && dd[c] < second) second = dd[c];
      const bool changed = lab[i] != best;
      lab[i] = best;
      dist[i] = dd[best];
      upper[i] = std::sqrt(dd[best]);
      lower[i] = std::sqrt(second);
      return changed;
    };
    bool strict = false;
    int it = 0;
    transpose_centers();
    while (it < max_iter) {
      ++it;
      int64_t changed = 0;
      if (it == 1) {
        for (int64_t i = 0; i < n_; ++i) changed += full_assign(i);
      } else {
        for (int c = 0; c < k_; ++c) {  // half the distance to the nearest other center
          double m = INFINITY;
          for (int o = 0; o < k_; ++o)
            if (o != c) m = std::min(m, dist2(0, cen + (size_t)c * d_, cen + (size_t)o * d_));
          half_gap[c] = 0.5 * std::sqrt(m);
        }
        for (int64_t i = 0; i < n_; ++i) {
          const double bound = std::max(half_gap[lab[i]], lower[i]);
          if (upper[i] <= bound) continue;
          const double du = dist2(i, cen + (size_t)lab[i] * d_);
          upper[i] = std::sqrt(du);
          dist[i] = du;
          if (upper[i] <= bound) continue;
          changed += full_assign(i);
        }
      }
      if (changed == 0 && it > 1) {
        strict = true;
        break;
      }
      prev = out.centers;
      // exact distances for the relocation of empty clusters (rare): only then
      bool empty = false;
      {
        std::vector<int64_t> count(k_, 0);
        for (int64_t i = 0; i < n_; ++i) ++count[lab[i]];
        for (int c = 0; c < k_; ++c) empty |= count[c] == 0;
      }
      if (empty)
        for (int64_t i = 0; i < n_; ++i) dist[i] = dist2(i, cen + (size_t)lab[i] * d_);
      relocate_empty(lab, dist.data(), cen);
      update_means(lab, cen);
      transpose_centers();
      double shift = 0.0, max_move = 0.0, second_move = 0.0;
      int max_at = -1;
      for (int c = 0; c < k_; ++c) {
        const double m2 = dist2(0, prev.data() + (size_t)c * d_, cen + (size_t)c * d_);
        shift += m2;
        moved[c] = std::sqrt(m2);
        if (moved[c] > max_move) {
          second_move = max_move;
          max_move = moved[c];
          max_at = c;
        } else if (moved[c] > second_move) {
          second_move = moved[c];
        }
      }
      for (int64_t i = 0; i < n_; ++i) {
        upper[i] += moved[lab[i]];
        lower[i] -= lab[i] == max_at ? second_move : max_move;
        if (empty) upper[i] = INFINITY, lower[i] = 0.0;  // relocated points: bounds restart
      }
      if (shift <= shift_tol) break;
    }
    // Exact final distances (and, unless Lloyd converged strictly, the final assignment, after
    // which no cluster may be left empty).
    for (int64_t i = 0; i < n_; ++i) {
      if (!strict) full_assign(i);
      else dist[i] = dist2(i, cen + (size_t)lab[i] * d_);
    }
    if (!strict) relocate_empty(lab, dist.data(), cen);
    double inertia = 0.0;
    for (int64_t i = 0; i < n_; ++i) inertia += dist[i];
    out.inertia = inertia;
    out.iterations = it;
  }

 private:
  const double* x_;
  int64_t n_;
  int d_, k_, kp_;
};

}  // namespace

extern "C" int cleave_kmeans(const double* x, int64_t n, int d, int k, int n_init, int max_iter, double tol,
                             const uint64_t* seeds, int threads, int32_t* labels, double* centers, double* inertia,
                             int32_t* stats) {
  const char* OP = "kmeans";
  CLEAVE_REQUIRE(OP, x && seeds && labels && centers && inertia && stats, "arrays must not be null");
  CLEAVE_REQUIRE(OP, n >= 1 && d >= 1 && k >= 1 && k <= n, "need n >= 1, d >= 1 and 1 <= k <= n; got n = %lld, d = %d, k = %d",
                 (long long)n, d, k);
  CLEAVE_REQUIRE(OP, n_init >= 1 && max_iter >= 1 && tol >= 0.0, "n_init and max_iter must be >= 1 and tol >= 0");
  CLEAVE_REQUIRE(OP, threads >= 1 && threads <= 1024, "threads must be in [1, 1024], got %d", threads);
  for (int64_t i = 0; i < n * d; ++i)
    CLEAVE_REQUIRE(OP, std::isfinite(x[i]), "x[%lld] = %g is not finite", (long long)i, x[i]);
  try {
    // Shift tolerance relative to the data's mean per-dimension variance, as scikit-learn.
    double var = 0.0;
    for (int j = 0; j < d; ++j) {
      double m = 0.0, s = 0.0;
      for (int64_t i = 0; i < n; ++i) m += x[i * d + j];
      m /= (double)n;
      for (int64_t i = 0; i < n; ++i) s += (x[i * d + j] - m) * (x[i * d + j] - m);
      var += s / (double)n;
    }
    const double shift_tol = tol * var / d;
    KMeans km(x, n, d, k);
    std::vector<Run> runs(n_init);
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int r = 0; r < n_init; ++r) km.run(seeds[r], max_iter, shift_tol, runs[r]);
    int best = 0;
    for (int r = 1; r < n_init; ++r)
      if (runs[r].inertia < runs[best].inertia) best = r;
    std::memcpy(labels, runs[best].labels.data(), sizeof(int32_t) * n);
    std::memcpy(centers, runs[best].centers.data(), sizeof(double) * k * d);
    inertia[0] = runs[best].inertia;
    stats[0] = runs[best].iterations;
    stats[1] = best;
  } catch (const std::bad_alloc&) {
    return cleave::set_error(OP, __FILE__, __LINE__, "out of memory for %lld points", (long long)n);
  }
  return cleave::ok();
}
