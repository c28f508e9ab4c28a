// Self-tests of the emulation harness: small kernels whose result (or whose failure) is known,
// so the Java suite can check that the emulator itself behaves as documented before trusting it
// with the real kernels. cleave_cuda_emu_selftest(name) runs one under the current schedule.
#include <climits>
#include <cstring>
#include <string>
#include <vector>
#include "cuda_emu.h"
#include "common.cuh"

namespace {
const char* const op = "emu_selftest";

#define EXPECT(cond, ...) CLEAVE_REQUIRE(op, cond, __VA_ARGS__)

// RAII device buffer of n values of T.
template <typename T>
struct Buf {
  T* p = nullptr;
  size_t n;
  explicit Buf(size_t count) : n(count) { cudaMalloc(&p, sizeof(T) * count); }
  ~Buf() { cudaFree(p); }
  std::vector<T> get() const {
    std::vector<T> h(n);
    cudaMemcpy(h.data(), p, sizeof(T) * n, cudaMemcpyDeviceToHost);
    return h;
  }
  void set(const std::vector<T>& h) { cudaMemcpy(p, h.data(), sizeof(T) * n, cudaMemcpyHostToDevice); }
};

// ---- barrier: every thread reads its neighbour's value written before the barrier ----
__global__ void neighbour_kernel(int* out) {
  CLEAVE_SHARED(int, s, [96]);
  const int t = threadIdx.x;
  s[t] = t * 7 + blockIdx.x;
  __syncthreads();
  out[blockIdx.x * 96 + t] = s[(t + 1) % 96];
}

int barrier() {
  Buf<int> out(3 * 96);
  CLEAVE_LAUNCH(op, neighbour_kernel, dim3(3), dim3(96), out.p);
  const std::vector<int> h = out.get();
  for (int b = 0; b < 3; ++b)
    for (int t = 0; t < 96; ++t)
      EXPECT(h[b * 96 + t] == ((t + 1) % 96) * 7 + b, "block %d thread %d read %d", b, t, h[b * 96 + t]);
  return 0;
}

// ---- the same without the barrier: some thread must see an unwritten (poisoned) value ----
__global__ void racy_kernel(int* out) {
  CLEAVE_SHARED(int, s, [64]);
  const int t = threadIdx.x;
  s[t] = t;
  __syncwarp();  // orders the warp, not the block
  out[t] = s[63 - t];
}

int missing_barrier_visible() {
  Buf<int> out(64);
  CLEAVE_LAUNCH(op, racy_kernel, dim3(1), dim3(64), out.p);
  const std::vector<int> h = out.get();
  int stale = 0;
  for (int t = 0; t < 64; ++t) stale += h[t] != 63 - t;
  EXPECT(stale > 0, "a read across warps without __syncthreads saw the written value in every "
                    "thread: the fiber schedule should expose it");
  for (int t = 0; t < 64; ++t)
    EXPECT(h[t] == 63 - t || h[t] == -1, "thread %d read %d: neither the value nor the poison", t, h[t]);
  return 0;
}

// ---- shuffles of 4- and 8-byte values, widths 32 and 8 ----
__global__ void shuffle_kernel(int* out, double* dout) {
  const int lane = threadIdx.x % 32;
  const int base = threadIdx.x * 6;
  out[base + 0] = __shfl_down_sync(0xffffffffu, lane * 10, 3);
  out[base + 1] = __shfl_up_sync(0xffffffffu, lane * 10, 2);
  out[base + 2] = __shfl_xor_sync(0xffffffffu, lane * 10, 5);
  out[base + 3] = __shfl_sync(0xffffffffu, lane * 10, 7);
  out[base + 4] = __shfl_down_sync(0xffffffffu, lane * 10, 3, 8);
  out[base + 5] = __shfl_sync(0xffffffffu, lane * 10, 2, 8);
  dout[threadIdx.x] = __shfl_xor_sync(0xffffffffu, lane + 0.25, 1);
}

int shuffles() {
  Buf<int> out(64 * 6);
  Buf<double> dout(64);
  CLEAVE_LAUNCH(op, shuffle_kernel, dim3(1), dim3(64), out.p, dout.p);
  const std::vector<int> h = out.get();
  const std::vector<double> d = dout.get();
  for (int t = 0; t < 64; ++t) {
    const int l = t % 32;
    const int want[6] = {(l + 3 < 32 ? l + 3 : l) * 10, (l >= 2 ? l - 2 : l) * 10, (l ^ 5) * 10, 70,
                         ((l % 8) + 3 < 8 ? l + 3 : l) * 10, ((l / 8) * 8 + 2) * 10};
    for (int k = 0; k < 6; ++k)
      EXPECT(h[t * 6 + k] == want[k], "thread %d shuffle %d gave %d, expected %d", t, k, h[t * 6 + k], want[k]);
    EXPECT(d[t] == (l ^ 1) + 0.25, "thread %d double shuffle gave %g", t, d[t]);
  }
  return 0;
}

// ---- votes ----
__global__ void vote_kernel(unsigned* out) {
  const int lane = threadIdx.x % 32;
  out[threadIdx.x * 4 + 0] = __ballot_sync(0xffffffffu, lane % 3 == 0);
  out[threadIdx.x * 4 + 1] = __any_sync(0xffffffffu, lane == 17);
  out[threadIdx.x * 4 + 2] = __all_sync(0xffffffffu, lane < 32);
  out[threadIdx.x * 4 + 3] = __all_sync(0xffffffffu, lane < 31);
}

int votes() {
  Buf<unsigned> out(32 * 4);
  CLEAVE_LAUNCH(op, vote_kernel, dim3(1), dim3(32), out.p);
  const std::vector<unsigned> h = out.get();
  unsigned every_third = 0;
  for (int l = 0; l < 32; l += 3) every_third |= 1u << l;
  for (int t = 0; t < 32; ++t) {
    EXPECT(h[t * 4] == every_third, "ballot gave 0x%08x, expected 0x%08x", h[t * 4], every_third);
    EXPECT(h[t * 4 + 1] == 1 && h[t * 4 + 2] == 1 && h[t * 4 + 3] == 0, "any/all gave %u %u %u",
           h[t * 4 + 1], h[t * 4 + 2], h[t * 4 + 3]);
  }
  return 0;
}

// ---- atomics from many blocks and threads ----
__global__ void atomic_kernel(float* f, double* d, int* i, int* mx, int* mn) {
  const int id = blockIdx.x * blockDim.x + threadIdx.x;
  atomicAdd(f, 1.0f);
  atomicAdd(d, 0.5);
  atomicAdd(i, 2);
  atomicMax(mx, id);
  atomicMin(mn, id);
}

int atomics() {
  Buf<float> f(1);
  Buf<double> d(1);
  Buf<int> i(1), mx(1), mn(1);
  f.set({0.0f});
  d.set({0.0});
  i.set({0});
  mx.set({INT_MIN});
  mn.set({INT_MAX});
  CLEAVE_LAUNCH(op, atomic_kernel, dim3(5), dim3(128), f.p, d.p, i.p, mx.p, mn.p);
  EXPECT(f.get()[0] == 640.0f && d.get()[0] == 320.0 && i.get()[0] == 1280,
         "atomicAdd sums %g %g %d, expected 640 320 1280", f.get()[0], d.get()[0], i.get()[0]);
  EXPECT(mx.get()[0] == 639 && mn.get()[0] == 0, "atomicMax/Min gave %d %d", mx.get()[0], mn.get()[0]);
  return 0;
}

// ---- shared memory starts poisoned in every block, and device memory after cudaMalloc ----
__global__ void poison_kernel(unsigned* out) {
  CLEAVE_SHARED(unsigned, s, [32]);
  out[blockIdx.x * 32 + threadIdx.x] = s[threadIdx.x];  // read before any write: undefined
  __syncthreads();
  s[threadIdx.x] = 12345;  // the next block must not see this
}

// The same in a template device function called from a template kernel (GCC drops section
// attributes on their static locals: the reason shared memory is registered, not sectioned).
template <int N>
__device__ unsigned template_shared_read(unsigned value) {
  CLEAVE_SHARED(unsigned, t, [N]);
  const unsigned before = t[threadIdx.x % N];
  __syncthreads();
  t[threadIdx.x % N] = value;
  return before;
}

template <int N>
__global__ void poison_template_kernel(unsigned* out) {
  CLEAVE_SHARED(unsigned, s, [N]);
  out[blockIdx.x * N + threadIdx.x] = s[threadIdx.x] & template_shared_read<N>(7);
  __syncthreads();
  s[threadIdx.x] = 12345;
}

int poison() {
  Buf<unsigned> out(2 * 32);
  for (unsigned v : out.get()) EXPECT(v == 0xffffffffu, "fresh device memory holds 0x%08x, not the poison", v);
  CLEAVE_LAUNCH(op, poison_kernel, dim3(2), dim3(32), out.p);
  for (unsigned v : out.get()) EXPECT(v == 0xffffffffu, "shared memory held 0x%08x at block start, not the poison", v);
  CLEAVE_LAUNCH(op, (poison_template_kernel<32>), dim3(2), dim3(32), out.p);
  for (unsigned v : out.get())
    EXPECT(v == 0xffffffffu, "shared memory of a template kernel held 0x%08x at block start, not the poison", v);
  return 0;
}

// ---- faults the emulator must report instead of hanging or passing ----
template <typename Launch>
int expect_failure(const char* what, cudaError_t want, const char* needle, Launch launch) {
  const cudaError_t err = launch();
  cudaGetLastError();
  const std::string msg = cudaGetErrorString(err);
  EXPECT(err == want, "%s: the launch returned %d (%s), expected %d", what, (int)err, msg.c_str(), (int)want);
  EXPECT(msg.find(needle) != std::string::npos, "%s: the message '%s' does not mention '%s'", what,
         msg.c_str(), needle);
  return 0;
}

__global__ void deadlock_kernel(int* out) {
  if (threadIdx.x == 0) {
    out[0] = __shfl_sync(0xffffffffu, 1, 0);  // waits for lanes that wait in __syncthreads
  } else {
    __syncthreads();
  }
}

__global__ void exited_lane_kernel(int* out) {
  if (threadIdx.x < 16) return;
  out[threadIdx.x] = __shfl_sync(0xffffffffu, (int)threadIdx.x, 0);
}

__global__ void partial_warp_kernel(int* out) {
  out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, (int)threadIdx.x, 1);
}

__global__ void out_of_bounds_kernel(int* out, int n) { out[n + threadIdx.x] = 1; }

__global__ void noop_kernel(int* out) {}

int faults() {
  Buf<int> out(64);
  CLEAVE_RETURN_IF(expect_failure("deadlock", cudaErrorLaunchFailure, "deadlock", [&] {
    return cleave_cuda::launch("deadlock_kernel", deadlock_kernel, dim3(1), dim3(64), out.p);
  }));
  CLEAVE_RETURN_IF(expect_failure("exited lane", cudaErrorLaunchFailure, "returned", [&] {
    return cleave_cuda::launch("exited_lane_kernel", exited_lane_kernel, dim3(1), dim3(32), out.p);
  }));
  CLEAVE_RETURN_IF(expect_failure("partial warp", cudaErrorLaunchFailure, "do not exist", [&] {
    return cleave_cuda::launch("partial_warp_kernel", partial_warp_kernel, dim3(1), dim3(48), out.p);
  }));
  CLEAVE_RETURN_IF(expect_failure("out of bounds", cudaErrorIllegalAddress, "out of bounds", [&] {
    return cleave_cuda::launch("out_of_bounds_kernel", out_of_bounds_kernel, dim3(1), dim3(2), out.p, 64);
  }));
  int host[4];
  CLEAVE_RETURN_IF(expect_failure("host pointer", cudaErrorInvalidValue, "device memory", [&] {
    return cleave_cuda::launch("noop_kernel", noop_kernel, dim3(1), dim3(32), host);
  }));
  CLEAVE_RETURN_IF(expect_failure("block too large", cudaErrorInvalidConfiguration, "1024", [&] {
    return cleave_cuda::launch("noop_kernel", noop_kernel, dim3(1), dim3(2048), out.p);
  }));
  // and the emulator still works afterwards
  return barrier();
}

struct SelfTest {
  const char* name;
  int (*run)();
};
const SelfTest kTests[] = {
    {"barrier", barrier},   {"missing_barrier_visible", missing_barrier_visible},
    {"shuffles", shuffles}, {"votes", votes},
    {"atomics", atomics},   {"poison", poison},
    {"faults", faults},
};
}  // namespace

extern "C" {
int cleave_cuda_emu_selftest(const char* name) {
  for (const SelfTest& t : kTests) {
    if (name && std::strcmp(name, t.name) == 0) {
      const int status = t.run();
      return status == 0 ? cleave_cuda::ok() : status;
    }
  }
  return cleave_cuda::set_error(op, __FILE__, __LINE__, "no self-test named '%s'", name ? name : "(null)");
}

int cleave_cuda_emu_selftest_names(char* buf, int len) {
  std::string all;
  for (const SelfTest& t : kTests) {
    if (!all.empty()) all += ';';
    all += t.name;
  }
  if (!buf || len <= 0) return 1;
  std::snprintf(buf, (size_t)len, "%s", all.c_str());
  return (int)all.size() < len ? 0 : 1;
}
}
