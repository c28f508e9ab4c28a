// circuit_loss / circuit_new / circuit_prune: the exact greedy search for a label's effective
// circuit, in the circuit arithmetic of cleave_circuits.h (integer sums of rounded products).
//
// A trial zeroes w[l][i][j]. Activations below layer l never change during layer l's pass, so
// for each image the trial changes only z[l][i], by -rint(w * h[j]), and only for the images
// with h[j] != 0 (listed once per pass). For the logit layer that moves one logit. For a
// hidden layer it may change unit i's activation; the change enters the next layer's
// pre-activations through the non-zeros of column i of its weight (subtract the old product,
// add the new one: exact), and from there only the units whose activation changed are carried
// on, again through their columns' non-zeros. The layers above l are fixed during l's pass
// and, after the search has been through them, very sparse (a trained F21 MLP keeps about 1%
// of them), so they are held as compressed columns. The new pre-activations go to a scratch
// list and go into the cached state only when the trial is kept. The loss total is updated by the
// changed images' loss differences (exact integers), so it equals the total a full forward
// pass would compute, bit for bit.
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

// rint(a * b) of the exact product, rounding half to even, for |a * b| < 2^51: one fused
// multiply-add puts the product's integer part in the low mantissa bits of a double near
// 1.5 * 2^52. Explicit fma, so no compiler contraction can round any call differently, and it
// vectorizes (AVX2 has no double -> int64 conversion).
inline int64_t qmul(double a, double b) {
  const double t = std::fma(a, b, kMagic);
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

struct Change {  // a unit's activation before and after, grid units
  int unit;
  int64_t before, after;
};

struct Entry {  // a trial's new pre-activation of one unit above the pruned layer
  int layer, unit;
  int64_t z;
};

struct Slot {  // one image a trial changes
  int image;
  size_t begin, end;  // its entries
  int64_t z_new;      // its new z[l][i]
  int64_t loss_new;
};

// A weight matrix by columns, non-zeros only.
struct Columns {
  std::vector<int> start;  // column k's non-zeros are [start[k], start[k + 1])
  std::vector<int> row;
  std::vector<double> value;
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
  std::vector<Columns> cols;              // cols[m] (m > cached): w[m]'s non-zeros by column
  std::vector<int> act_start, act_image;  // images with h[j] != 0, grouped by j ...
  std::vector<double> act_value;          // ... and their h[j]
  std::vector<Slot> slots;
  std::vector<Entry> entries;
  std::vector<Change> cur, next;
  std::vector<int64_t> logits;
  std::vector<int64_t> delta;             // change of each unit of the layer being updated; 0 between uses
  std::vector<int> touched;               // units whose delta may be non-zero (repeats allowed)

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
          for (int j = 0; j < in(l); ++j) acc += qmul(row[j], h[j]);
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
    cols.assign(layers, {});
    int widest = out(layers - 1);
    for (int m = l + 1; m < layers; ++m) {
      Columns& c = cols[m];
      c.start.assign(in(m) + 1, 0);
      c.row.clear();
      c.value.clear();
      for (int k = 0; k < in(m); ++k) {
        for (int r = 0; r < out(m); ++r) {
          const float v = w[m][(size_t)r * in(m) + k];
          if (v != 0.0f) {
            c.row.push_back(r);
            c.value.push_back(v);
          }
        }
        c.start[k + 1] = (int)c.row.size();
      }
      widest = std::max(widest, out(m));
    }
    act_start.assign(in(l) + 1, 0);
    act_image.clear();
    act_value.clear();
    for (int j = 0; j < in(l); ++j) {
      for (int n = 0; n < count; ++n) {
        const int64_t h = act(l, n, j);
        if (h != 0) {
          act_image.push_back(n);
          act_value.push_back((double)h);
        }
      }
      act_start[j + 1] = (int)act_image.size();
    }
    slots.resize(count);
    logits.resize(out(layers - 1));
    delta.assign(widest, 0);
    cached = l;
  }

  // Carries `first` (a change of one unit's activation in layer l's output) upward for image
  // n, appending the new pre-activations to `entries`. Returns the image's new loss.
  int64_t propagate(int n, int l, Change first) {
    cur.assign(1, first);
    for (int m = l + 1; m < layers; ++m) {
      const Columns& c = cols[m];
      touched.clear();
      for (const Change& ch : cur) {
        // The unit came alive, died, or changed: one product per weight, or two.
        const int begin = c.start[ch.unit], nnz = c.start[ch.unit + 1] - begin;
        const int* rows = c.row.data() + begin;
        const double* v = c.value.data() + begin;
        const double before = (double)ch.before, after = (double)ch.after;
        for (int p = 0; p < nnz; ++p) {
          const int r = rows[p];
          if (delta[r] == 0) touched.push_back(r);
          delta[r] += ch.before == 0 ? qmul(v[p], after)
                      : ch.after == 0 ? -qmul(v[p], before)
                                      : qmul(v[p], after) - qmul(v[p], before);
        }
      }
      // Collect the units that changed (a repeat finds its delta already taken) and reset delta.
      const int width = out(m);
      const int64_t* old = &z[m][(size_t)n * width];
      const size_t first_entry = entries.size();
      for (int r : touched) {
        if (delta[r] == 0) continue;
        entries.push_back({m, r, old[r] + delta[r]});
        delta[r] = 0;
      }
      if (entries.size() == first_entry) return loss[n];
      if (m == layers - 1) {
        std::memcpy(logits.data(), old, sizeof(int64_t) * width);
        for (size_t e = first_entry; e < entries.size(); ++e) logits[entries[e].unit] = entries[e].z;
        return image_loss(logits.data(), width, label, inv_scale);
      }
      next.clear();
      for (size_t e = first_entry; e < entries.size(); ++e) {
        const int r = entries[e].unit;
        const int64_t before = relu(old[r]), after = relu(entries[e].z);
        if (before != after) next.push_back({r, before, after});
      }
      if (next.empty()) return loss[n];
      cur.swap(next);
    }
    return loss[n];
  }

  // One trial on w[l][i][j]; keeps the weight zeroed iff the total stays <= baseline.
  void trial(int l, int i, int j) {
    const bool last = l == layers - 1;
    const int width = out(l);
    const double wd = w[l][(size_t)i * in(l) + j];
    int64_t loss_change = 0;
    size_t used = 0;
    entries.clear();
    for (int p = act_start[j]; p < act_start[j + 1]; ++p) {
      const int n = act_image[p];
      const int64_t t = qmul(wd, act_value[p]);
      if (t == 0) continue;
      Slot& s = slots[used];
      s.image = n;
      s.begin = entries.size();
      const int64_t zi = z[l][(size_t)n * width + i];
      s.z_new = zi - t;
      if (last) {
        std::memcpy(logits.data(), &z[l][(size_t)n * width], sizeof(int64_t) * width);
        logits[i] = s.z_new;
        s.loss_new = image_loss(logits.data(), width, label, inv_scale);
      } else {
        const int64_t before = relu(zi), after = relu(s.z_new);
        s.loss_new = before == after ? loss[n] : propagate(n, l, {i, before, after});
      }
      s.end = entries.size();
      loss_change += s.loss_new - loss[n];
      ++used;
    }
    if (total + loss_change > baseline) return;
    w[l][(size_t)i * in(l) + j] = 0.0f;
    total += loss_change;
    for (size_t k = 0; k < used; ++k) {
      const Slot& s = slots[k];
      z[l][(size_t)s.image * width + i] = s.z_new;
      for (size_t e = s.begin; e < s.end; ++e)
        z[entries[e].layer][(size_t)s.image * out(entries[e].layer) + entries[e].unit] = entries[e].z;
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
  for (size_t k = 0; k < c->input.size(); ++k) c->input[k] = qmul(images[k], scale);
  for (int l = 0; l < layers; ++l) {
    const size_t n = (size_t)c->in(l) * c->out(l);
    c->w.emplace_back(weights, weights + n);
    weights += n;
    c->bias.emplace_back(c->out(l));
    for (int i = 0; i < c->out(l); ++i) c->bias[l][i] = qmul(biases[i], scale);
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
  CLEAVE_RETURN_IF(check_args("circuit_loss", layers, widths, weights, biases, images, count, label, scale_bits));
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
