// Winograd F(2x2, 3x3) for conv2d_forward / conv2d_backward (see conv2d_internal.h for the
// algebra and conv2d.cpp for when it is chosen). One image at a time, on the calling thread.
//
// The transforms run over whole tile rows so that every inner loop is a contiguous,
// vectorisable loop over the tiles j of the row: the zero-padded input is first copied into a
// buffer whose rows hold the even columns, then the odd columns ("E" and "O", tw + 1 each), so
// the 4 input columns 2j .. 2j+3 of tile j are E[j], O[j], E[j+1], O[j+1].
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
//   A^T = [1 1 1 0; 0 1 -1 -1]
#include <cblas.h>
#include <algorithm>
#include <cstring>
#include "conv2d_internal.h"

namespace cleave::conv {
namespace {
// Padded rows and the floats per padded row (E then O).
inline int padded_rows(const Winograd& p) { return 2 * p.th + 2; }
inline int64_t row_stride(const Winograd& p) { return 2LL * (p.tw + 1); }

// P (in, 2 th + 2, 2 (tw + 1)): x zero-padded, each row split into even and odd columns.
// `row` is scratch for one padded row (2 (tw + 1) floats).
void pad_split(const Winograd& p, const float* xn, float* P, float* __restrict row) {
  const Geometry& g = p.g;
  const int hp = padded_rows(p), tw1 = p.tw + 1;
  const int64_t rs = row_stride(p);
  // Columns of x that land in the padded row: [0, wn) (the rest are never read by a tile).
  const int wn = std::max(0, std::min(g.w, (int)rs - g.pad));
  std::memset(row, 0, sizeof(float) * rs);
  for (int c = 0; c < g.in; ++c) {
    const float* xc = xn + (int64_t)c * g.h * g.w;
    for (int r = 0; r < hp; ++r) {
      float* __restrict E = P + ((int64_t)c * hp + r) * rs;
      float* __restrict O = E + tw1;
      const int xr = r - g.pad;
      if (xr < 0 || xr >= g.h) {
        std::memset(E, 0, sizeof(float) * rs);
        continue;
      }
      // The zeros of `row` outside [pad, pad + wn) stay zero from row to row.
      std::memcpy(row + g.pad, xc + (int64_t)xr * g.w, sizeof(float) * wn);
#pragma omp simd
      for (int j = 0; j < tw1; ++j) {
        E[j] = row[2 * j];
        O[j] = row[2 * j + 1];
      }
    }
  }
}

// V[xi][c][t] = (B^T d B)[xi] for every tile t of every channel.
void input_transform(const Winograd& p, const float* P, float* V) {
  const Geometry& g = p.g;
  const int hp = padded_rows(p), tw = p.tw, tw1 = p.tw + 1;
  const int64_t rs = row_stride(p), T = p.tiles(), plane = (int64_t)g.in * T;
  for (int c = 0; c < g.in; ++c) {
    for (int i = 0; i < p.th; ++i) {
      const float* __restrict E[4];
      const float* __restrict O[4];
      for (int a = 0; a < 4; ++a) {
        E[a] = P + ((int64_t)c * hp + 2 * i + a) * rs;
        O[a] = E[a] + tw1;
      }
      float* __restrict v = V + (int64_t)c * T + (int64_t)i * tw;
#pragma omp simd
      for (int j = 0; j < tw; ++j) {
        float t[4][4];  // t[row a][column b] = row a transformed along the columns
        for (int a = 0; a < 4; ++a) {
          t[a][0] = E[a][j] - E[a][j + 1];
          t[a][1] = O[a][j] + E[a][j + 1];
          t[a][2] = E[a][j + 1] - O[a][j];
          t[a][3] = O[a][j] - O[a][j + 1];
        }
        for (int b = 0; b < 4; ++b) {
          v[(0 * 4 + b) * plane + j] = t[0][b] - t[2][b];
          v[(1 * 4 + b) * plane + j] = t[1][b] + t[2][b];
          v[(2 * 4 + b) * plane + j] = t[2][b] - t[1][b];
          v[(3 * 4 + b) * plane + j] = t[1][b] - t[3][b];
        }
      }
    }
  }
}
}  // namespace

Winograd winograd_plan(const Geometry& g) {
  Winograd p;
  p.g = g;
  p.th = (g.oh + 1) / 2;
  p.tw = (g.ow + 1) / 2;
  return p;
}

int64_t Winograd::scratch_floats() const {
  const int64_t T = tiles();
  const int64_t padded = (int64_t)(2 * th + 2) * 2 * (tw + 1);
  // V, M (or dM), dV; the padded input of every channel; one padded channel of dx; 4 dy rows;
  // one tile row of dx; one padded row.
  return 16 * T * (2LL * g.in + g.out) + (int64_t)g.in * padded + padded + 4LL * tw + 16LL * tw + 2LL * (tw + 1);
}

void winograd_weights(const Winograd& p, const float* w, float* u) {
  const Geometry& g = p.g;
  const int64_t plane = (int64_t)g.out * g.in;
  for (int o = 0; o < g.out; ++o) {
    for (int c = 0; c < g.in; ++c) {
      const float* k = w + ((int64_t)o * g.in + c) * 9;
      float gk[4][3];  // G k
      for (int q = 0; q < 3; ++q) {
        const float k0 = k[0 * 3 + q], k1 = k[1 * 3 + q], k2 = k[2 * 3 + q];
        gk[0][q] = k0;
        gk[1][q] = 0.5f * (k0 + k1 + k2);
        gk[2][q] = 0.5f * (k0 - k1 + k2);
        gk[3][q] = k2;
      }
      float* dst = u + (int64_t)o * g.in + c;
      for (int a = 0; a < 4; ++a) {
        const float r0 = gk[a][0], r1 = gk[a][1], r2 = gk[a][2];
        dst[(a * 4 + 0) * plane] = r0;
        dst[(a * 4 + 1) * plane] = 0.5f * (r0 + r1 + r2);
        dst[(a * 4 + 2) * plane] = 0.5f * (r0 - r1 + r2);
        dst[(a * 4 + 3) * plane] = r2;
      }
    }
  }
}

void winograd_forward_image(const Winograd& p, const float* u, const float* b, int relu, const float* xn, float* yn,
                            float* scratch) {
  const Geometry& g = p.g;
  const int64_t T = p.tiles();
  float* V = scratch;
  float* M = V + 16 * T * g.in;
  float* P = M + 16 * T * g.out;
  pad_split(p, xn, P, M);  // M is free until the sgemms
  input_transform(p, P, V);
  for (int xi = 0; xi < 16; ++xi) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, g.out, (int)T, g.in, 1.0f, u + (int64_t)xi * g.out * g.in,
                g.in, V + xi * T * g.in, (int)T, 0.0f, M + xi * T * g.out, (int)T);
  }
  // y = A^T M A per tile, then bias and ReLU; tiles past the edge of an odd-sized output are
  // computed and dropped.
  const int tw = p.tw;
  const int64_t plane = (int64_t)g.out * T;
  float* rows = P;  // 4 * tw floats: output rows 2i and 2i+1, even and odd columns
  const float lo = relu ? 0.0f : -__builtin_inff();  // ReLU as max(v, lo)
  for (int o = 0; o < g.out; ++o) {
    const float bo = b ? b[o] : 0.0f;
    float* yo = yn + (int64_t)o * g.oh * g.ow;
    for (int i = 0; i < p.th; ++i) {
      const float* __restrict m = M + (int64_t)o * T + (int64_t)i * tw;
      float* __restrict e0 = rows;
      float* __restrict o0 = rows + tw;
      float* __restrict e1 = rows + 2 * tw;
      float* __restrict o1 = rows + 3 * tw;
#pragma omp simd
      for (int j = 0; j < tw; ++j) {
        float r[2][4];
        for (int c = 0; c < 4; ++c) {
          const float m0 = m[(0 * 4 + c) * plane + j], m1 = m[(1 * 4 + c) * plane + j];
          const float m2 = m[(2 * 4 + c) * plane + j], m3 = m[(3 * 4 + c) * plane + j];
          r[0][c] = m0 + m1 + m2;
          r[1][c] = m1 - m2 - m3;
        }
        e0[j] = std::max(r[0][0] + r[0][1] + r[0][2] + bo, lo);
        o0[j] = std::max(r[0][1] - r[0][2] - r[0][3] + bo, lo);
        e1[j] = std::max(r[1][0] + r[1][1] + r[1][2] + bo, lo);
        o1[j] = std::max(r[1][1] - r[1][2] - r[1][3] + bo, lo);
      }
      for (int rr = 0; rr < 2; ++rr) {
        const int yr = 2 * i + rr;
        if (yr >= g.oh) break;
        float* dst = yo + (int64_t)yr * g.ow;
        const float* ev = rr ? e1 : e0;
        const float* od = rr ? o1 : o0;
        const int pairs = g.ow / 2;
        for (int j = 0; j < pairs; ++j) {
          dst[2 * j] = ev[j];
          dst[2 * j + 1] = od[j];
        }
        if (g.ow & 1) dst[g.ow - 1] = ev[pairs];
      }
    }
  }
}

void winograd_backward_image(const Winograd& p, const float* u, const float* xn, const float* dyn, float* dxn,
                             float* du, float* scratch) {
  const Geometry& g = p.g;
  const int64_t T = p.tiles();
  const int tw = p.tw, tw1 = p.tw + 1, hp = padded_rows(p);
  const int64_t rs = row_stride(p);
  float* V = scratch;
  float* dM = V + 16 * T * g.in;
  float* dV = dM + 16 * T * g.out;
  float* P = dV + 16 * T * g.in;
  float* dP = P + (int64_t)g.in * hp * rs;
  float* dyrows = dP + (int64_t)hp * rs;  // 4 * tw: dy rows 2i, 2i+1 split into even and odd columns
  float* dtile = dyrows + 4 * tw;         // 16 * tw: one tile row of dx before it is added up
  float* row = dtile + 16 * tw;           // one padded row, 2 (tw + 1)

  // dM = A dy_tile A^T.
  const int64_t mplane = (int64_t)g.out * T;
  for (int o = 0; o < g.out; ++o) {
    const float* dyo = dyn + (int64_t)o * g.oh * g.ow;
    for (int i = 0; i < p.th; ++i) {
      for (int rr = 0; rr < 2; ++rr) {
        float* e = dyrows + (2 * rr) * tw;
        float* od = e + tw;
        const int yr = 2 * i + rr;
        if (yr >= g.oh) {
          std::memset(e, 0, sizeof(float) * 2 * tw);
          continue;
        }
        const float* src = dyo + (int64_t)yr * g.ow;
        const int pairs = g.ow / 2;
        for (int j = 0; j < pairs; ++j) {
          e[j] = src[2 * j];
          od[j] = src[2 * j + 1];
        }
        if (g.ow & 1) {
          e[pairs] = src[g.ow - 1];
          od[pairs] = 0.0f;
        }
      }
      const float* __restrict e0 = dyrows;
      const float* __restrict o0 = dyrows + tw;
      const float* __restrict e1 = dyrows + 2 * tw;
      const float* __restrict o1 = dyrows + 3 * tw;
      float* __restrict m = dM + (int64_t)o * T + (int64_t)i * tw;
#pragma omp simd
      for (int j = 0; j < tw; ++j) {
        // s[r][b]: dy row r through A along the columns.
        const float s0[4] = {e0[j], e0[j] + o0[j], e0[j] - o0[j], -o0[j]};
        const float s1[4] = {e1[j], e1[j] + o1[j], e1[j] - o1[j], -o1[j]};
        for (int b = 0; b < 4; ++b) {
          m[(0 * 4 + b) * mplane + j] = s0[b];
          m[(1 * 4 + b) * mplane + j] = s0[b] + s1[b];
          m[(2 * 4 + b) * mplane + j] = s0[b] - s1[b];
          m[(3 * 4 + b) * mplane + j] = -s1[b];
        }
      }
    }
  }

  pad_split(p, xn, P, dP);  // dP is free until dx
  input_transform(p, P, V);
  for (int xi = 0; xi < 16; ++xi) {
    const float* uxi = u + (int64_t)xi * g.out * g.in;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, g.out, g.in, (int)T, 1.0f, dM + xi * mplane, (int)T,
                V + xi * T * g.in, (int)T, 1.0f, du + (int64_t)xi * g.out * g.in, g.in);
    if (dxn) {
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g.in, (int)T, g.out, 1.0f, uxi, g.in, dM + xi * mplane,
                  (int)T, 0.0f, dV + xi * T * g.in, (int)T);
    }
  }
  if (!dxn) return;

  // dx_tile = B dV B^T, added into the padded, split channel dP, then cropped into dx.
  const int64_t vplane = (int64_t)g.in * T;
  for (int c = 0; c < g.in; ++c) {
    std::memset(dP, 0, sizeof(float) * hp * rs);
    for (int i = 0; i < p.th; ++i) {
      const float* __restrict v = dV + (int64_t)c * T + (int64_t)i * tw;
      // Per input row a of the tile, the gradient of its columns 2j, 2j+1 (at j) and 2j+2,
      // 2j+3 (at j + 1), then added into E and O in two passes that do not overlap.
      float* __restrict de0 = dtile;
      float* __restrict do0 = dtile + 4 * tw;
      float* __restrict de1 = dtile + 8 * tw;
      float* __restrict do1 = dtile + 12 * tw;
#pragma omp simd
      for (int j = 0; j < tw; ++j) {
        float d[4][4];  // d[row a][column b]
        for (int b = 0; b < 4; ++b) {
          const float v0 = v[(0 * 4 + b) * vplane + j], v1 = v[(1 * 4 + b) * vplane + j];
          const float v2 = v[(2 * 4 + b) * vplane + j], v3 = v[(3 * 4 + b) * vplane + j];
          d[0][b] = v0;
          d[1][b] = v1 - v2 + v3;
          d[2][b] = -v0 + v1 + v2;
          d[3][b] = -v3;
        }
        for (int a = 0; a < 4; ++a) {
          de0[a * tw + j] = d[a][0];
          do0[a * tw + j] = d[a][1] - d[a][2] + d[a][3];
          de1[a * tw + j] = -d[a][0] + d[a][1] + d[a][2];
          do1[a * tw + j] = -d[a][3];
        }
      }
      for (int a = 0; a < 4; ++a) {
        float* __restrict E = dP + (int64_t)(2 * i + a) * rs;
        float* __restrict O = E + tw1;
#pragma omp simd
        for (int j = 0; j < tw; ++j) {
          E[j] += de0[a * tw + j];
          O[j] += do0[a * tw + j];
        }
#pragma omp simd
        for (int j = 0; j < tw; ++j) {
          E[j + 1] += de1[a * tw + j];
          O[j + 1] += do1[a * tw + j];
        }
      }
    }
    // Rows and columns of x past the padded area are read by no tile: their gradient is 0.
    float* dxc = dxn + (int64_t)c * g.h * g.w;
    const int wn = std::max(0, std::min(g.w, (int)rs - g.pad));
    for (int xr = 0; xr < g.h; ++xr) {
      float* dst = dxc + (int64_t)xr * g.w;
      if (xr + g.pad >= hp) {
        std::memset(dst, 0, sizeof(float) * g.w);
        continue;
      }
      const float* __restrict E = dP + (int64_t)(xr + g.pad) * rs;
      const float* __restrict O = E + tw1;
#pragma omp simd
      for (int j = 0; j < tw1; ++j) {
        row[2 * j] = E[j];
        row[2 * j + 1] = O[j];
      }
      std::memcpy(dst, row + g.pad, sizeof(float) * wn);
      for (int q = wn; q < g.w; ++q) dst[q] = 0.0f;
    }
  }
}

void winograd_weight_grad(const Winograd& p, const float* du, float* dw) {
  const Geometry& g = p.g;
  const int64_t plane = (int64_t)g.out * g.in;
  for (int o = 0; o < g.out; ++o) {
    for (int c = 0; c < g.in; ++c) {
      const float* src = du + (int64_t)o * g.in + c;
      float m[4][4];
      for (int xi = 0; xi < 16; ++xi) m[xi / 4][xi % 4] = src[xi * plane];
      float t[3][4];  // G^T m
      for (int b = 0; b < 4; ++b) {
        t[0][b] = m[0][b] + 0.5f * (m[1][b] + m[2][b]);
        t[1][b] = 0.5f * (m[1][b] - m[2][b]);
        t[2][b] = 0.5f * (m[1][b] + m[2][b]) + m[3][b];
      }
      float* k = dw + ((int64_t)o * g.in + c) * 9;
      for (int a = 0; a < 3; ++a) {
        k[a * 3 + 0] = t[a][0] + 0.5f * (t[a][1] + t[a][2]);
        k[a * 3 + 1] = 0.5f * (t[a][1] - t[a][2]);
        k[a * 3 + 2] = 0.5f * (t[a][1] + t[a][2]) + t[a][3];
      }
    }
  }
}

}  // namespace cleave::conv
