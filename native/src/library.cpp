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
int record(int status, const char* op, const char* file, int line, const char* fmt, va_list ap) {
  const char* base = std::strrchr(file, '/');
  base = base ? base + 1 : file;
  int n = std::snprintf(g_error, sizeof g_error, "%s: ", op);
  if (n > 0 && n < (int)sizeof g_error) n += std::vsnprintf(g_error + n, sizeof g_error - n, fmt, ap);
  if (n > 0 && n < (int)sizeof g_error)
    std::snprintf(g_error + n, sizeof g_error - n, " (native/src/%s:%d)", base, line);
  return status;
}
}  // namespace
int fail(int status, const char* op, const char* file, int line, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  record(status, op, file, line, fmt, ap);
  va_end(ap);
  return status;
}
int set_error(const char* op, const char* file, int line, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  record(CLEAVE_INTERNAL_ERROR, op, file, line, fmt, ap);
  va_end(ap);
  return CLEAVE_INTERNAL_ERROR;
}
int ok() { g_error[0] = '\0'; return 0; }
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
