// Library-wide state: the thread's last error, the thread count, the build description.
#include <cblas.h>
#include <omp.h>
#include <cstdio>
#include <cstring>
#include "cleave_cpu.h"
#include "common.h"

namespace {
thread_local char g_error[1024] = "";
int g_threads = 0;  // 0 = not yet set: use OpenMP's default
char g_info[512] = "";
}  // namespace

namespace cleave {
namespace {
const char* source_path(const char* file) { return cleave_shared::source_path(file, "native/src/"); }
}  // namespace
CLEAVE_DEFINE_ERROR_RECORDERS(g_error, source_path)
int threads() { return g_threads > 0 ? g_threads : omp_get_max_threads(); }
}  // namespace cleave

extern "C" {
const char* cleave_last_error(void) { return g_error; }

int cleave_set_threads(int n) {
  CLEAVE_REQUIRE("set_threads", n >= 1 && n <= 1024, "threads must be in [1, 1024], got %d", n);
  g_threads = n;
  omp_set_num_threads(n);
  // Our kernels split work across threads themselves and call OpenBLAS from each thread, so
  // OpenBLAS itself stays single-threaded (never nest its threads inside ours).
  openblas_set_num_threads(1);
  return cleave::ok();
}

int cleave_set_blas_threads(int n) {
  CLEAVE_REQUIRE("set_blas_threads", n >= 1 && n <= 1024, "threads must be in [1, 1024], got %d", n);
  openblas_set_num_threads(n);
  return cleave::ok();
}

int cleave_get_threads(void) { return cleave::threads(); }

const char* cleave_build_info(void) {
  if (g_info[0] == '\0') {
    const char* simd = __builtin_cpu_supports("avx512f") ? "avx512f available"
                       : __builtin_cpu_supports("avx2")  ? "avx2"
                                                         : "sse";
    std::snprintf(g_info, sizeof g_info, "gcc %d.%d, x86-64-v3 build (%s), OpenMP %d, OpenBLAS %s",
                  __GNUC__, __GNUC_MINOR__, simd, _OPENMP, openblas_get_config());
  }
  return g_info;
}
}
