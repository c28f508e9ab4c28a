// Internal helpers shared by the kernel files: error reporting and OpenMP thresholds.
#ifndef CLEAVE_COMMON_H
#define CLEAVE_COMMON_H
#include <cstdarg>
#include <cstdint>

namespace cleave {
// Records "op: message (file:line)" as the thread's last error and returns status 1.
int set_error(const char* op, const char* file, int line, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));
// Clears the thread's last error; returns 0.
int ok();
// Threads the kernels use (also what OpenBLAS was told).
int threads();
// Elementwise loops shorter than this stay on one thread: waking OpenMP costs more.
constexpr int64_t kParallelMin = 1 << 16;
}  // namespace cleave

#define CLEAVE_REQUIRE(op, cond, ...) \
  do { if (!(cond)) return ::cleave::set_error(op, __FILE__, __LINE__, __VA_ARGS__); } while (0)

#endif
