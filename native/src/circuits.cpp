// circuit_loss / circuit_new / circuit_prune: the exact greedy search for a label's effective
// circuit, in the circuit arithmetic of cleave_circuits.h (integer sums of rounded products).
//
// A trial zeroes w[l][i][j]. Activations below layer l never change during layer l's pass, so
// for each image the trial changes only z[l][i], by -rint(w * h[j]), and only for the images
// with h[j] != 0 (listed once per pass). For the logit layer that moves one logit. For a
// hidden layer it may change unit i's activation; the change enters the next layer's
// pre-activations through column i of its weight (subtract the old product, add the new
// one: exact), and from there only the units whose activation changed are carried on,
// through the columns that still hold a non-zero weight. Changed rows are written to a
// per-image scratch area and copied into the cached state only when the trial is kept. The
// loss total is updated by the changed images' loss differences (exact integers), so it
// equals the total a full forward pass would compute, bit for bit.
//
// Everything is single-threaded: Java runs labels in parallel, one state per label.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <vector>
#include "cleave_circuits.h"
#include "cleave_cpu.h"
#include "common.h"

namespace {
constexpr double kMagic = 6755399441055744.0;  // 1.5 * 2^52: x + kMagic rounds x to an integer
constexpr int64_t kMagicBits = 0x4338000000000000LL;
constexpr double kLossScale = 4294967296.0;  // losses are stored in units of 2^-32
constexpr double kMaxLoss = 65536.0;         // a per-image loss saturates here
constexpr int kMaxImages = 16384;            // so a label's total (< 2^14 * 2^48) fits int64

// rint(x) for |x| < 2^51, rounding half to even; vectorizes (no double -> int64 instruction
// exists in AVX2).
inline int64_t qround(double x) {
  const double t = x + kMagic;
  int64_t bits;
  std::memcpy(&bits, &t, sizeof bits);
  return bits - kMagicBits;
}

inline int64_t relu(int64_t z) { return z > 0 ? z : 0; }

// One image's loss from its logits (grid units). Not inlined, so that every caller runs the
// same machine code and gets the same bits.
__attribute__((noinline)) int64_t image_loss(const int64_t* z, int classes, int label,
                                             double inv_scale) {
  int64_t zmax = z[0];
  for (int c = 1; c < classes; ++c) zmax = std::max(zmax, z[c]);
  double sum = 0.0;
  for (int c = 0; c < classes; ++c) sum += std::exp((double)(z[c] - zmax) * inv_scale);
  const double ce = std::log(sum) + (double)(zmax - z[label]) * inv_scale;
  return std::llrint(std::min(ce, kMaxLoss) * kLossScale);
}

// row[r] += rint(col[r] * after) - rint(col[r] * before): unit k's activation went from
// `before` to `after`, col is column k of the next layer's weight.
void replace_products(int64_t* __restrict row, const float* __restrict col, int n, double before,
                      double after) {
  if (before == 0.0) {
    for (int r = 0; r < n; ++r) row[r] += qround((double)col[r] * after);
  } else if (after == 0.0) {
    for (int r = 0; r < n; ++r) row[r] -= qround((double)col[r] * before);
  } else {
    for (int r = 0; r < n; ++r) {
      const double c = col[r];
      row[r] += qround(c * after) - qround(c * before);
    }
  }
}

struct Change {  // unit's activation before and after, grid units
  int unit;
  int64_t before, after;
};

struct Slot {  // one image a trial changes
  int image;
  int top;  // highest layer whose scratch row is valid (== the pruned layer when none)
  int64_t z_new;
  int64_t loss_new;
};
}  // namespace

struct cleave_circuit {
  int layers = 0, count = 0, label = 0;
  double inv_scale = 0.0;
  std::vector<int> widths;
  std::vector<std::vector<float>> w;       // current weights, (out x in) per layer
  std::vector<std::vector<int64_t>> bias;  // rint(b * 2^S)
  std::vector<int64_t> input;              // count x widths[0]
  std::vector<std::vector<int64_t>> z;     // z[l]: count x widths[l+1] pre-activations
  std::vector<int64_t> loss;               // per image
  int64_t baseline = 0, total = 0;

  // Cache of the layer whose pass is running (rebuilt whenever the layer changes).
  int cached = -1;
  std::vector<std::vector<float>> wt;     // wt[m] (m > cached): w[m] transposed, in x out
  std::vector<std::vector<char>> live;    // live[m][k]: column k of w[m] has a non-zero
  std::vector<int> act_start, act_list;   // images with h[j] != 0, grouped by j
  std::vector<int> offset;                // offset[m] of layer m's row in a scratch slot
  size_t stride = 0;
  std::vector<int64_t> scratch;           // count slots x stride
  std::vector<Slot> slots;
  std::vector<Change> cur, next;
  std::vector<int64_t> logits;

  int in(int l) const { return widths[l]; }
  int out(int l) const { return widths[l + 1]; }

  // Input j of layer l for image n.
  int64_t act(int l, int n, int j) const {
    return l == 0 ? input[(size_t)n * widths[0] + j] : relu(z[l - 1][(size_t)n * widths[l] + j]);
  }

  void forward() {
    std::vector<double> h, hn;  // activations as doubles (exact: |h| < 2^50)
    for (int n = 0; n < count; ++n) {
      h.assign(input.begin() + (size_t)n * widths[0], input.begin() + (size_t)(n + 1) * widths[0]);
      for (int l = 0; l < layers; ++l) {
        hn.resize(out(l));
        int64_t* zr = &z[l][(size_t)n * out(l)];
        for (int i = 0; i < out(l); ++i) {
          const float* row = &w[l][(size_t)i * in(l)];
          int64_t acc = bias[l][i];
          for (int j = 0; j < in(l); ++j) acc += qround((double)row[j] * h[j]);
          zr[i] = acc;
          hn[i] = (double)relu(acc);
        }
        h.swap(hn);
      }
      loss[n] = image_loss(&z[layers - 1][(size_t)n * out(layers - 1)], out(layers - 1), label,
                           inv_scale);
    }
    total = 0;
    for (int n = 0; n < count; ++n) total += loss[n];
  }

  void build_cache(int l) {
    wt.assign(layers, {});
    live.assign(layers, {});
    offset.assign(layers, 0);
    stride = 0;
    for (int m = l + 1; m < layers; ++m) {
      wt[m].resize((size_t)in(m) * out(m));
      live[m].assign(in(m), 0);
      for (int r = 0; r < out(m); ++r)
        for (int k = 0; k < in(m); ++k) {
          const float v = w[m][(size_t)r * in(m) + k];
          wt[m][(size_t)k * out(m) + r] = v;
          if (v != 0.0f) live[m][k] = 1;
        }
      offset[m] = (int)stride;
      stride += out(m);
    }
    act_start.assign(in(l) + 1, 0);
    act_list.clear();
    for (int j = 0; j < in(l); ++j) {
      for (int n = 0; n < count; ++n)
        if (act(l, n, j) != 0) act_list.push_back(n);
      act_start[j + 1] = (int)act_list.size();
    }
    scratch.resize((size_t)count * stride);
    slots.resize(count);
    logits.resize(out(layers - 1));
    cached = l;
  }

  // Carries `first` (a change of unit first.unit's activation in layer l's output) upward for
  // image n, writing the new pre-activation rows into scratch slot `slot`. Returns the
  // image's new loss and sets *top to the highest layer written.
  int64_t propagate(int n, size_t slot, int l, Change first, int* top) {
    cur.assign(1, first);
    for (int m = l + 1; m < layers; ++m) {
      cur.erase(std::remove_if(cur.begin(), cur.end(), [&](const Change& c) { return !live[m][c.unit]; }),
                cur.end());
      if (cur.empty()) return loss[n];
      const int width = out(m);
      int64_t* row = &scratch[slot * stride + offset[m]];
      const int64_t* old = &z[m][(size_t)n * width];
      std::memcpy(row, old, sizeof(int64_t) * width);
      for (const Change& c : cur)
        replace_products(row, &wt[m][(size_t)c.unit * width], width, (double)c.before, (double)c.after);
      *top = m;
      if (m == layers - 1) return image_loss(row, width, label, inv_scale);
      next.clear();
      for (int r = 0; r < width; ++r) {
        const int64_t before = relu(old[r]), after = relu(row[r]);
        if (before != after) next.push_back({r, before, after});
      }
      cur.swap(next);
    }
    return loss[n];
  }

  // One trial on w[l][i][j]; keeps the weight zeroed iff the total stays <= baseline.
  void trial(int l, int i, int j) {
    const bool last = l == layers - 1;
    const int width = out(l);
    const double wd = w[l][(size_t)i * in(l) + j];
    int64_t delta = 0;
    size_t used = 0;
    for (int p = act_start[j]; p < act_start[j + 1]; ++p) {
      const int n = act_list[p];
      const int64_t t = qround(wd * (double)act(l, n, j));
      if (t == 0) continue;
      Slot& s = slots[used];
      s.image = n;
      s.top = l;
      const int64_t zi = z[l][(size_t)n * width + i];
      s.z_new = zi - t;
      if (last) {
        std::memcpy(logits.data(), &z[l][(size_t)n * width], sizeof(int64_t) * width);
        logits[i] = s.z_new;
        s.loss_new = image_loss(logits.data(), width, label, inv_scale);
      } else {
        const int64_t before = relu(zi), after = relu(s.z_new);
        s.loss_new = before == after ? loss[n] : propagate(n, used, l, {i, before, after}, &s.top);
      }
      delta += s.loss_new - loss[n];
      ++used;
    }
    if (total + delta > baseline) return;
    w[l][(size_t)i * in(l) + j] = 0.0f;
    total += delta;
    for (size_t k = 0; k < used; ++k) {
      const Slot& s = slots[k];
      z[l][(size_t)s.image * width + i] = s.z_new;
      for (int m = l + 1; m <= s.top; ++m)
        std::memcpy(&z[m][(size_t)s.image * out(m)], &scratch[k * stride + offset[m]],
                    sizeof(int64_t) * out(m));
      loss[s.image] = s.loss_new;
    }
  }
};

namespace {
int check_args(const char* op, int layers, const int32_t* widths, const float* weights,
               const float* biases, const float* images, int count, int label, int scale_bits) {
  CLEAVE_REQUIRE(op, widths && weights && biases && images, "widths, weights, biases and images must not be null");
  CLEAVE_REQUIRE(op, layers >= 1, "layers must be >= 1, got %d", layers);
  for (int l = 0; l <= layers; ++l)
    CLEAVE_REQUIRE(op, widths[l] > 0, "widths[%d] must be positive, got %d", l, widths[l]);
  CLEAVE_REQUIRE(op, count >= 1 && count <= kMaxImages, "count must be in [1, %d], got %d", kMaxImages, count);
  CLEAVE_REQUIRE(op, label >= 0 && label < widths[layers], "label %d is outside [0, %d)", label, widths[layers]);
  CLEAVE_REQUIRE(op, scale_bits >= 1 && scale_bits <= 50, "scale_bits must be in [1, 50], got %d", scale_bits);
  return cleave::ok();
}

cleave_circuit* build(int layers, const int32_t* widths, const float* weights, const float* biases,
                      const float* images, int count, int label, int scale_bits) {
  auto* c = new cleave_circuit();
  c->layers = layers;
  c->count = count;
  c->label = label;
  c->inv_scale = std::ldexp(1.0, -scale_bits);
  const double scale = std::ldexp(1.0, scale_bits);
  c->widths.assign(widths, widths + layers + 1);
  c->input.resize((size_t)count * widths[0]);
  for (size_t k = 0; k < c->input.size(); ++k) c->input[k] = qround((double)images[k] * scale);
  for (int l = 0; l < layers; ++l) {
    const size_t n = (size_t)c->in(l) * c->out(l);
    c->w.emplace_back(weights, weights + n);
    weights += n;
    c->bias.emplace_back(c->out(l));
    for (int i = 0; i < c->out(l); ++i) c->bias[l][i] = qround((double)biases[i] * scale);
    biases += c->out(l);
    c->z.emplace_back((size_t)count * c->out(l));
  }
  c->loss.resize(count);
  c->forward();
  c->baseline = c->total;
  return c;
}
}  // namespace

extern "C" int cleave_circuit_loss(int layers, const int32_t* widths, const float* weights,
                                   const float* biases, const float* images, int count, int label,
                                   int scale_bits, int64_t* losses) {
  if (check_args("circuit_loss", layers, widths, weights, biases, images, count, label, scale_bits))
    return 1;
  CLEAVE_REQUIRE("circuit_loss", losses, "losses must not be null");
  try {
    cleave_circuit* c = build(layers, widths, weights, biases, images, count, label, scale_bits);
    std::copy(c->loss.begin(), c->loss.end(), losses);
    delete c;
  } catch (const std::bad_alloc&) {
    return cleave::set_error("circuit_loss", __FILE__, __LINE__, "out of memory for %d images", count);
  }
  return cleave::ok();
}

extern "C" cleave_circuit* cleave_circuit_new(int layers, const int32_t* widths, const float* weights,
                                              const float* biases, const float* images, int count,
                                              int label, int scale_bits) {
  if (check_args("circuit_new", layers, widths, weights, biases, images, count, label, scale_bits))
    return nullptr;
  try {
    cleave_circuit* c = build(layers, widths, weights, biases, images, count, label, scale_bits);
    cleave::ok();
    return c;
  } catch (const std::bad_alloc&) {
    cleave::set_error("circuit_new", __FILE__, __LINE__, "out of memory for %d images", count);
    return nullptr;
  }
}

extern "C" int cleave_circuit_prune(cleave_circuit* c, int layer, int row_begin, int row_end,
                                    int64_t* trials) {
  CLEAVE_REQUIRE("circuit_prune", c && trials, "circuit and trials must not be null");
  CLEAVE_REQUIRE("circuit_prune", layer >= 0 && layer < c->layers, "layer %d is outside [0, %d)", layer, c->layers);
  CLEAVE_REQUIRE("circuit_prune", 0 <= row_begin && row_begin <= row_end && row_end <= c->out(layer),
                 "rows [%d, %d) are outside [0, %d)", row_begin, row_end, c->out(layer));
  try {
    if (c->cached != layer) c->build_cache(layer);
  } catch (const std::bad_alloc&) {
    c->cached = -1;
    return cleave::set_error("circuit_prune", __FILE__, __LINE__, "out of memory for layer %d's cache", layer);
  }
  const int in = c->in(layer);
  for (int i = row_begin; i < row_end; ++i)
    for (int j = 0; j < in; ++j)
      if (c->w[layer][(size_t)i * in + j] != 0.0f) {
        c->trial(layer, i, j);
        ++*trials;
      }
  return cleave::ok();
}

extern "C" int cleave_circuit_state(const cleave_circuit* c, float* weights, int64_t* totals) {
  CLEAVE_REQUIRE("circuit_state", c && weights && totals, "circuit, weights and totals must not be null");
  for (const auto& wl : c->w) weights = std::copy(wl.begin(), wl.end(), weights);
  totals[0] = c->baseline;
  totals[1] = c->total;
  return cleave::ok();
}

extern "C" void cleave_circuit_free(cleave_circuit* c) { delete c; }
