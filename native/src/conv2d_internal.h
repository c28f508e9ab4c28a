// Internal to conv2d*.cpp: the geometry of one conv2d call and the Winograd F(2x2, 3x3)
// algorithm (conv2d_winograd.cpp) that conv2d.cpp dispatches to for 3x3 stride-1 layers.
#ifndef CLEAVE_CONV2D_INTERNAL_H
#define CLEAVE_CONV2D_INTERNAL_H
#include <cstdint>

namespace cleave::conv {

struct Geometry {
  int batch, in, h, w, out, k, stride, pad, oh, ow;
  int64_t patch() const { return (int64_t)in * k * k; }
  int64_t ohw() const { return (int64_t)oh * ow; }
  int64_t in_size() const { return (int64_t)in * h * w; }
  int64_t out_size() const { return (int64_t)out * oh * ow; }
  bool direct() const { return k == 1 && stride == 1 && pad == 0; }
};

// Winograd F(2x2, 3x3) (Lavin & Gray 2016): the output in 2x2 tiles, each from a 4x4 input
// tile; per tile and channel pair 16 multiplies instead of 36, as 16 sgemms (one per position
// xi of the 4x4 transformed tile). Defined for kernel 3, stride 1, any padding.
//   U[xi][o][c]  = (G w[o][c] G^T)[xi]           weights, (16, out, in)
//   V[xi][c][t]  = (B^T x_tile(c, t) B)[xi]      input tiles, (16, in, tiles)
//   M[xi][o][t]  = sum_c U[xi][o][c] V[xi][c][t] (the sgemms)
//   y_tile(o, t) = A^T M(o, t) A, then bias and ReLU.
// The backward pass is the exact adjoint of this linear map: dM = A dy_tile A^T, dV = U^T dM
// (then dx_tile = B dV B^T, added where tiles overlap), dU = sum over tiles and images of
// dM V^T, dw = G^T dU G.
struct Winograd {
  Geometry g;
  int th, tw;            // tiles per column and row: ceil(oh / 2), ceil(ow / 2)
  int64_t tiles() const { return (int64_t)th * tw; }
  int64_t u_size() const { return 16LL * g.out * g.in; }
  // Floats of per-image scratch each thread needs (forward and backward alike).
  int64_t scratch_floats() const;
};

inline bool winograd_applies(const Geometry& g) { return g.k == 3 && g.stride == 1; }
Winograd winograd_plan(const Geometry& g);
// U from w (out, in, 3, 3).
void winograd_weights(const Winograd& p, const float* w, float* u);
// y_n (out, oh, ow) of one image, bias (may be null) and ReLU applied.
void winograd_forward_image(const Winograd& p, const float* u, const float* b, int relu, const float* xn, float* yn,
                            float* scratch);
// One image of the backward pass, dy_n already masked by the ReLU: adds dM V^T into du
// (16, out, in) and, unless dxn is null, writes dx_n (in, h, w).
void winograd_backward_image(const Winograd& p, const float* u, const float* xn, const float* dyn, float* dxn,
                             float* du, float* scratch);
// dw (out, in, 3, 3) = G^T dU G.
void winograd_weight_grad(const Winograd& p, const float* du, float* dw);

enum class Algorithm { kIm2col, kWinograd };
// Winograd needs at least this many input and output channels (see choose() in conv2d.cpp).
constexpr int kWinogradMinChannels = 8;
// The algorithm cleave_conv2d_forward/backward run for this shape.
Algorithm choose(const Geometry& g);
// The two ops with the algorithm named (kWinograd falls back to im2col where it does not apply);
// arguments as cleave_conv2d_forward/backward, already checked. For benchmarks/native/conv_algos.cpp.
int forward(Algorithm algo, const Geometry& g, const float* x, const float* w, const float* b, float* y, int relu);
int backward(Algorithm algo, const Geometry& g, const float* x, const float* w, const float* y, float* dy, float* dx,
             float* dw, float* db, int relu);
// Checks the arguments as the ops do and fills g (0, or the op's error status).
int make_geometry(const char* op, int batch, int in, int h, int w, int out, int k, int stride, int pad, Geometry* g);

}  // namespace cleave::conv

#endif
