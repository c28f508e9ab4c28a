// Winograd F(4x4, 3x3) for conv2d_forward / conv2d_backward: 4x4 output tiles from 6x6 input
// tiles, 36 sgemms per image on transformed tiles, 4x fewer multiplies than direct (F(2x2, 3x3):
// 2.25x) and 2.25 instead of 4 transformed floats per output. Same structure as
// conv2d_winograd.cpp: the padded rows are split into 4 phases (columns 4j + k, tw + 1 each), so
// the 6 input columns of tile j are P0..P3[j], P0[j+1], P1[j+1] and every inner loop runs over
// the tiles j of a row. Points 0, +-1, +-2 and infinity:
//   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//   G   = [1/4 0 0; -1/6 -1/6 -1/6; -1/6 1/6 -1/6; 1/24 1/12 1/6; 1/24 -1/12 1/6; 0 0 1]
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
#include <cblas.h>
#include <algorithm>
#include <cstring>
#include "conv2d_internal.h"

namespace cleave::conv {
namespace {
constexpr int kA = 6;        // input tile side
constexpr int kP = kA * kA;  // transformed positions

inline int rows4(const Winograd& p) { return 4 * p.th + 2; }
inline int64_t stride4(const Winograd& p) { return 4LL * (p.tw + 1); }

// B^T d for one line of 6 values.
inline void bt(const float* d, float* r) {
  r[0] = 4.0f * d[0] - 5.0f * d[2] + d[4];
  r[1] = -4.0f * (d[1] + d[2]) + d[3] + d[4];
  r[2] = 4.0f * (d[1] - d[2]) - d[3] + d[4];
  r[3] = 2.0f * (d[3] - d[1]) - d[2] + d[4];
  r[4] = 2.0f * (d[1] - d[3]) - d[2] + d[4];
  r[5] = 4.0f * d[1] - 5.0f * d[3] + d[5];
}
// B g (the adjoint of bt).
inline void b(const float* g, float* d) {
  d[0] = 4.0f * g[0];
  d[1] = -4.0f * g[1] + 4.0f * g[2] - 2.0f * g[3] + 2.0f * g[4] + 4.0f * g[5];
  d[2] = -5.0f * g[0] - 4.0f * g[1] - 4.0f * g[2] - g[3] - g[4];
  d[3] = g[1] - g[2] + 2.0f * g[3] - 2.0f * g[4] - 5.0f * g[5];
  d[4] = g[0] + g[1] + g[2] + g[3] + g[4];
  d[5] = g[5];
}
// A^T m for one line of 6 values.
inline void at(const float* m, float* o) {
  o[0] = m[0] + m[1] + m[2] + m[3] + m[4];
  o[1] = m[1] - m[2] + 2.0f * (m[3] - m[4]);
  o[2] = m[1] + m[2] + 4.0f * (m[3] + m[4]);
  o[3] = m[1] - m[2] + 8.0f * (m[3] - m[4]) + m[5];
}
// A y (the adjoint of at).
inline void a(const float* y, float* m) {
  m[0] = y[0];
  m[1] = y[0] + y[1] + y[2] + y[3];
  m[2] = y[0] - y[1] + y[2] - y[3];
  m[3] = y[0] + 2.0f * y[1] + 4.0f * y[2] + 8.0f * y[3];
  m[4] = y[0] - 2.0f * y[1] + 4.0f * y[2] - 8.0f * y[3];
  m[5] = y[3];
}
// G k for one line of 3 values, and G^T u (its adjoint).
inline void gk(const float* k, float* u) {
  u[0] = 0.25f * k[0];
  u[1] = -(k[0] + k[1] + k[2]) / 6.0f;
  u[2] = -(k[0] - k[1] + k[2]) / 6.0f;
  u[3] = k[0] / 24.0f + k[1] / 12.0f + k[2] / 6.0f;
  u[4] = k[0] / 24.0f - k[1] / 12.0f + k[2] / 6.0f;
  u[5] = k[2];
}
inline void gt(const float* u, float* k) {
  k[0] = 0.25f * u[0] - (u[1] + u[2]) / 6.0f + (u[3] + u[4]) / 24.0f;
  k[1] = (u[2] - u[1]) / 6.0f + (u[3] - u[4]) / 12.0f;
  k[2] = -(u[1] + u[2]) / 6.0f + (u[3] + u[4]) / 6.0f + u[5];
}

// The 1-D transforms over n tiles at once: line k of the input is in[k][0..n), line k of the
// output out[k][0..n) (the lines of one tile row are contiguous, so each loop vectorises).
void bt_lines(const float* const* in, float* const* out, int n) {
  const float *__restrict d0 = in[0], *__restrict d1 = in[1], *__restrict d2 = in[2], *__restrict d3 = in[3],
              *__restrict d4 = in[4], *__restrict d5 = in[5];
  float *__restrict r0 = out[0], *__restrict r1 = out[1], *__restrict r2 = out[2], *__restrict r3 = out[3],
        *__restrict r4 = out[4], *__restrict r5 = out[5];
#pragma omp simd
  for (int j = 0; j < n; ++j) {
    const float d[kA] = {d0[j], d1[j], d2[j], d3[j], d4[j], d5[j]};
    float r[kA];
    bt(d, r);
    r0[j] = r[0], r1[j] = r[1], r2[j] = r[2], r3[j] = r[3], r4[j] = r[4], r5[j] = r[5];
  }
}
void b_lines(const float* const* in, float* const* out, int n) {
  const float *__restrict g0 = in[0], *__restrict g1 = in[1], *__restrict g2 = in[2], *__restrict g3 = in[3],
              *__restrict g4 = in[4], *__restrict g5 = in[5];
  float *__restrict r0 = out[0], *__restrict r1 = out[1], *__restrict r2 = out[2], *__restrict r3 = out[3],
        *__restrict r4 = out[4], *__restrict r5 = out[5];
#pragma omp simd
  for (int j = 0; j < n; ++j) {
    const float g[kA] = {g0[j], g1[j], g2[j], g3[j], g4[j], g5[j]};
    float r[kA];
    b(g, r);
    r0[j] = r[0], r1[j] = r[1], r2[j] = r[2], r3[j] = r[3], r4[j] = r[4], r5[j] = r[5];
  }
}
void at_lines(const float* const* in, float* const* out, int n) {
  const float *__restrict m0 = in[0], *__restrict m1 = in[1], *__restrict m2 = in[2], *__restrict m3 = in[3],
              *__restrict m4 = in[4], *__restrict m5 = in[5];
  float *__restrict r0 = out[0], *__restrict r1 = out[1], *__restrict r2 = out[2], *__restrict r3 = out[3];
#pragma omp simd
  for (int j = 0; j < n; ++j) {
    const float m[kA] = {m0[j], m1[j], m2[j], m3[j], m4[j], m5[j]};
    float r[4];
    at(m, r);
    r0[j] = r[0], r1[j] = r[1], r2[j] = r[2], r3[j] = r[3];
  }
}
void a_lines(const float* const* in, float* const* out, int n) {
  const float *__restrict y0 = in[0], *__restrict y1 = in[1], *__restrict y2 = in[2], *__restrict y3 = in[3];
  float *__restrict r0 = out[0], *__restrict r1 = out[1], *__restrict r2 = out[2], *__restrict r3 = out[3],
        *__restrict r4 = out[4], *__restrict r5 = out[5];
#pragma omp simd
  for (int j = 0; j < n; ++j) {
    const float y[4] = {y0[j], y1[j], y2[j], y3[j]};
    float r[kA];
    a(y, r);
    r0[j] = r[0], r1[j] = r[1], r2[j] = r[2], r3[j] = r[3], r4[j] = r[4], r5[j] = r[5];
  }
}

// P (in, 4 th + 2, 4 (tw + 1)): x zero-padded, each row split into its 4 column phases.
void pad_split4(const Winograd& p, const float* xn, float* P, float* __restrict row) {
  const Geometry& g = p.g;
  const int hp = rows4(p), tw1 = p.tw + 1;
  const int64_t rs = stride4(p);
  const int wn = std::max(0, std::min(g.w, (int)rs - g.pad));
  std::memset(row, 0, sizeof(float) * rs);
  for (int c = 0; c < g.in; ++c) {
    const float* xc = xn + (int64_t)c * g.h * g.w;
    for (int r = 0; r < hp; ++r) {
      float* __restrict Q = P + ((int64_t)c * hp + r) * rs;
      const int xr = r - g.pad;
      if (xr < 0 || xr >= g.h) {
        std::memset(Q, 0, sizeof(float) * rs);
        continue;
      }
      std::memcpy(row + g.pad, xc + (int64_t)xr * g.w, sizeof(float) * wn);
#pragma omp simd
      for (int j = 0; j < tw1; ++j) {
        Q[j] = row[4 * j];
        Q[tw1 + j] = row[4 * j + 1];
        Q[2 * tw1 + j] = row[4 * j + 2];
        Q[3 * tw1 + j] = row[4 * j + 3];
      }
    }
  }
}

// V[xi][c][t] = (B^T d B)[xi]; tmp holds 36 * tw floats.
void input_transform4(const Winograd& p, const float* P, float* V, float* tmp) {
  const Geometry& g = p.g;
  const int hp = rows4(p), tw = p.tw, tw1 = p.tw + 1;
  const int64_t rs = stride4(p), T = p.tiles(), plane = (int64_t)g.in * T;
  for (int c = 0; c < g.in; ++c) {
    for (int i = 0; i < p.th; ++i) {
      const float* Q = P + ((int64_t)c * hp + 4 * i) * rs;
      float* v = V + (int64_t)c * T + (int64_t)i * tw;
      for (int r = 0; r < kA; ++r) {  // tmp[r][b]: input row r through B^T along the columns
        const float* q = Q + r * rs;
        const float* in[kA] = {q, q + tw1, q + 2 * tw1, q + 3 * tw1, q + 1, q + tw1 + 1};
        float* out[kA];
        for (int bb = 0; bb < kA; ++bb) out[bb] = tmp + (int64_t)(r * kA + bb) * tw;
        bt_lines(in, out, tw);
      }
      for (int bb = 0; bb < kA; ++bb) {  // then each column through B^T along the rows
        const float* in[kA];
        float* out[kA];
        for (int r = 0; r < kA; ++r) {
          in[r] = tmp + (int64_t)(r * kA + bb) * tw;
          out[r] = v + (r * kA + bb) * plane;
        }
        bt_lines(in, out, tw);
      }
    }
  }
}
}  // namespace

Winograd winograd4_plan(const Geometry& g) {
  Winograd p;
  p.g = g;
  p.m = 4;
  p.th = (g.oh + 3) / 4;
  p.tw = (g.ow + 3) / 4;
  return p;
}

int64_t winograd4_scratch_floats(const Winograd& p) {
  const int64_t T = p.tiles();
  const int64_t padded = (int64_t)rows4(p) * stride4(p);
  // V, M (or dM), dV; the padded input of every channel; one padded channel of dx; 4 dy rows in
  // 4 phases; one tile row of dx (36 lines) or of y (16 lines); one padded row.
  return kP * T * (2LL * p.g.in + p.g.out) + (int64_t)p.g.in * padded + padded + 16LL * p.tw + 36LL * p.tw +
         stride4(p);
}

void winograd4_weights(const Winograd& p, const float* w, float* u) {
  const Geometry& g = p.g;
  const int64_t plane = (int64_t)g.out * g.in;
  for (int o = 0; o < g.out; ++o) {
    for (int c = 0; c < g.in; ++c) {
      const float* k = w + ((int64_t)o * g.in + c) * 9;
      float t[kA][3];  // G k: each kernel column through G
      for (int q = 0; q < 3; ++q) {
        const float col[3] = {k[q], k[3 + q], k[6 + q]};
        float out[kA];
        gk(col, out);
        for (int r = 0; r < kA; ++r) t[r][q] = out[r];
      }
      float* dst = u + (int64_t)o * g.in + c;
      for (int r = 0; r < kA; ++r) {
        float out[kA];
        gk(t[r], out);
        for (int s = 0; s < kA; ++s) dst[(r * kA + s) * plane] = out[s];
      }
    }
  }
}

void winograd4_forward_image(const Winograd& p, const float* u, const float* bias, int relu, const float* xn, float* yn,
                             float* scratch) {
  const Geometry& g = p.g;
  const int64_t T = p.tiles();
  const int tw = p.tw;
  float* V = scratch;
  float* M = V + kP * T * g.in;
  float* P = M + kP * T * g.out;
  float* tmp = P + (int64_t)g.in * rows4(p) * stride4(p);  // 36 * tw
  pad_split4(p, xn, P, M);  // M is free until the sgemms
  input_transform4(p, P, V, tmp);
  for (int xi = 0; xi < kP; ++xi) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g.out, (int)T, g.in, 1.0f, u + (int64_t)xi * g.out * g.in,
                g.in, V + xi * T * g.in, (int)T, 0.0f, M + xi * T * g.out, (int)T);
  }
  const int64_t plane = (int64_t)g.out * T;
  const float lo = relu ? 0.0f : -__builtin_inff();
  float* tile = tmp;  // 16 * tw: output rows 4i .. 4i+3, each in 4 column phases
  float* rowsT = P;   // 24 * tw: A^T M per column (free: P is not read after the transform)
  for (int o = 0; o < g.out; ++o) {
    const float bo = bias ? bias[o] : 0.0f;
    float* yo = yn + (int64_t)o * g.oh * g.ow;
    for (int i = 0; i < p.th; ++i) {
      const float* m = M + (int64_t)o * T + (int64_t)i * tw;
      for (int col = 0; col < kA; ++col) {
        const float* in[kA];
        for (int r = 0; r < kA; ++r) in[r] = m + (r * kA + col) * plane;
        float* out[4];
        for (int rr = 0; rr < 4; ++rr) out[rr] = rowsT + (int64_t)(rr * kA + col) * tw;
        at_lines(in, out, tw);
      }
      for (int rr = 0; rr < 4; ++rr) {
        const float* in[kA];
        for (int col = 0; col < kA; ++col) in[col] = rowsT + (int64_t)(rr * kA + col) * tw;
        float* out[4];
        for (int s4 = 0; s4 < 4; ++s4) out[s4] = tile + (int64_t)(rr * 4 + s4) * tw;
        at_lines(in, out, tw);
      }
      float* __restrict out = tile;
#pragma omp simd
      for (int j = 0; j < 16 * tw; ++j) out[j] = std::max(out[j] + bo, lo);
      for (int rr = 0; rr < 4; ++rr) {
        const int yr = 4 * i + rr;
        if (yr >= g.oh) break;
        float* dst = yo + (int64_t)yr * g.ow;
        const float* ph = out + (int64_t)rr * 4 * tw;
        const int quads = g.ow / 4;
        for (int j = 0; j < quads; ++j) {
          dst[4 * j] = ph[j];
          dst[4 * j + 1] = ph[tw + j];
          dst[4 * j + 2] = ph[2 * tw + j];
          dst[4 * j + 3] = ph[3 * tw + j];
        }
        for (int q = 4 * quads; q < g.ow; ++q) dst[q] = ph[(q & 3) * tw + quads];
      }
    }
  }
}

void winograd4_backward_image(const Winograd& p, const float* u, const float* xn, const float* dyn, float* dxn,
                              float* du, float* scratch) {
  const Geometry& g = p.g;
  const int64_t T = p.tiles();
  const int tw = p.tw, tw1 = p.tw + 1, hp = rows4(p);
  const int64_t rs = stride4(p);
  float* V = scratch;
  float* dM = V + kP * T * g.in;
  float* dV = dM + kP * T * g.out;
  float* P = dV + kP * T * g.in;
  float* dP = P + (int64_t)g.in * hp * rs;
  float* dyrows = dP + (int64_t)hp * rs;  // 16 * tw: dy rows 4i .. 4i+3 in 4 column phases
  float* dtile = dyrows + 16 * tw;        // 36 * tw: one tile row of dx before it is added up
  float* row = dtile + 36 * tw;           // one padded row

  const int64_t mplane = (int64_t)g.out * T;
  for (int o = 0; o < g.out; ++o) {
    const float* dyo = dyn + (int64_t)o * g.oh * g.ow;
    for (int i = 0; i < p.th; ++i) {
      for (int rr = 0; rr < 4; ++rr) {
        float* ph = dyrows + (int64_t)rr * 4 * tw;
        const int yr = 4 * i + rr;
        if (yr >= g.oh) {
          std::memset(ph, 0, sizeof(float) * 4 * tw);
          continue;
        }
        const float* src = dyo + (int64_t)yr * g.ow;
        const int quads = g.ow / 4;
        for (int j = 0; j < quads; ++j) {
          ph[j] = src[4 * j];
          ph[tw + j] = src[4 * j + 1];
          ph[2 * tw + j] = src[4 * j + 2];
          ph[3 * tw + j] = src[4 * j + 3];
        }
        if (quads < tw) {
            for (int s = 0; s < 4; ++s) {
            const int q = 4 * quads + s;
            ph[s * tw + quads] = q < g.ow ? src[q] : 0.0f;
          }
        }
      }
      float* m = dM + (int64_t)o * T + (int64_t)i * tw;
      for (int rr = 0; rr < 4; ++rr) {  // each dy row through A along the columns
        const float* in[4];
        for (int s4 = 0; s4 < 4; ++s4) in[s4] = dyrows + (int64_t)(rr * 4 + s4) * tw;
        float* out[kA];
        for (int col = 0; col < kA; ++col) out[col] = dtile + (int64_t)(rr * kA + col) * tw;
        a_lines(in, out, tw);
      }
      for (int col = 0; col < kA; ++col) {  // then each column through A along the rows
        const float* in[4];
        for (int rr = 0; rr < 4; ++rr) in[rr] = dtile + (int64_t)(rr * kA + col) * tw;
        float* out[kA];
        for (int r = 0; r < kA; ++r) out[r] = m + (r * kA + col) * mplane;
        a_lines(in, out, tw);
      }
    }
  }

  pad_split4(p, xn, P, dP);  // dP is free until dx
  input_transform4(p, P, V, dtile);
  for (int xi = 0; xi < kP; ++xi) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g.out, g.in, (int)T, 1.0f, dM + xi * mplane, (int)T,
                V + xi * T * g.in, (int)T, 1.0f, du + (int64_t)xi * g.out * g.in, g.in);
    if (dxn) {
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g.in, (int)T, g.out, 1.0f, u + (int64_t)xi * g.out * g.in,
                  g.in, dM + xi * mplane, (int)T, 0.0f, dV + xi * T * g.in, (int)T);
    }
  }
  if (!dxn) return;

  const int64_t vplane = (int64_t)g.in * T;
  for (int c = 0; c < g.in; ++c) {
    std::memset(dP, 0, sizeof(float) * hp * rs);
    for (int i = 0; i < p.th; ++i) {
      const float* __restrict v = dV + (int64_t)c * T + (int64_t)i * tw;
      // dtile[(r * 6 + s) * tw + j]: input row r, column s of tile j, dV through B on both
      // sides; the first pass goes into P (36 * tw floats), which is no longer read.
      float* rowsB = P;
      for (int col = 0; col < kA; ++col) {
        const float* in[kA];
        float* out[kA];
        for (int r = 0; r < kA; ++r) {
          in[r] = v + (r * kA + col) * vplane;
          out[r] = rowsB + (int64_t)(r * kA + col) * tw;
        }
        b_lines(in, out, tw);
      }
      for (int r = 0; r < kA; ++r) {
        const float* in[kA];
        float* out[kA];
        for (int col = 0; col < kA; ++col) {
          in[col] = rowsB + (int64_t)(r * kA + col) * tw;
          out[col] = dtile + (int64_t)(r * kA + col) * tw;
        }
        b_lines(in, out, tw);
      }
      for (int r = 0; r < kA; ++r) {
        float* __restrict Q = dP + (int64_t)(4 * i + r) * rs;
        const float* __restrict d = dtile + (int64_t)r * kA * tw;
#pragma omp simd
        for (int j = 0; j < tw; ++j) {
          Q[j] += d[j];
          Q[tw1 + j] += d[tw + j];
          Q[2 * tw1 + j] += d[2 * tw + j];
          Q[3 * tw1 + j] += d[3 * tw + j];
        }
#pragma omp simd
        for (int j = 0; j < tw; ++j) {
          Q[j + 1] += d[4 * tw + j];
          Q[tw1 + j + 1] += d[5 * tw + j];
        }
      }
    }
    float* dxc = dxn + (int64_t)c * g.h * g.w;
    const int wn = std::max(0, std::min(g.w, (int)rs - g.pad));
    for (int xr = 0; xr < g.h; ++xr) {
      float* dst = dxc + (int64_t)xr * g.w;
      if (xr + g.pad >= hp) {
        std::memset(dst, 0, sizeof(float) * g.w);
        continue;
      }
      const float* __restrict Q = dP + (int64_t)(xr + g.pad) * rs;
#pragma omp simd
      for (int j = 0; j < tw1; ++j) {
        row[4 * j] = Q[j];
        row[4 * j + 1] = Q[tw1 + j];
        row[4 * j + 2] = Q[2 * tw1 + j];
        row[4 * j + 3] = Q[3 * tw1 + j];
      }
      std::memcpy(dst, row + g.pad, sizeof(float) * wn);
      for (int q = wn; q < g.w; ++q) dst[q] = 0.0f;
    }
  }
}

void winograd4_weight_grad(const Winograd& p, const float* du, float* dw) {
  const Geometry& g = p.g;
  const int64_t plane = (int64_t)g.out * g.in;
  for (int o = 0; o < g.out; ++o) {
    for (int c = 0; c < g.in; ++c) {
      const float* src = du + (int64_t)o * g.in + c;
      float t[3][kA];  // G^T along the rows, per column
      for (int col = 0; col < kA; ++col) {
        const float line[kA] = {src[(0 * kA + col) * plane], src[(1 * kA + col) * plane], src[(2 * kA + col) * plane],
                                src[(3 * kA + col) * plane], src[(4 * kA + col) * plane], src[(5 * kA + col) * plane]};
        float k3[3];
        gt(line, k3);
        for (int r = 0; r < 3; ++r) t[r][col] = k3[r];
      }
      float* k = dw + ((int64_t)o * g.in + c) * 9;
      for (int r = 0; r < 3; ++r) gt(t[r], k + 3 * r);
    }
  }
}

}  // namespace cleave::conv
