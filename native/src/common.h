// Internal helpers shared by the kernel files: error reporting and OpenMP thresholds.
#ifndef CLEAVE_COMMON_H
#define CLEAVE_COMMON_H
#include <cstdarg>
#include <cstdint>

namespace cleave {
// Records "op: message (native/src/file:line)" as the thread's last error and returns `status`
// (a cleave_status, cleave_status.h).
int fail(int status, const char* op, const char* file, int line, const char* fmt, ...)
    __attribute__((format(printf, 5, 6)));
// The same for an internal failure (out of memory, a LAPACK error): returns CLEAVE_INTERNAL_ERROR.
int set_error(const char* op, const char* file, int line, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));
// Clears the thread's last error; returns 0.
int ok();
// The partition: a kernel that splits its work splits it into parts fixed by this count and the
// shapes alone (never by team()), so its results do not depend on how many threads run.
int threads();
// Threads to run `parts` parts with: the team (cleave_set_team, or adaptive:
// cleave_set_threads_adaptive), at most `parts`, at least 1. Thread t of a team of n runs the
// parts t, t + n, t + 2n, ...
int team(int parts);
// Elementwise loops shorter than this stay on one thread: waking OpenMP costs more.
constexpr int64_t kParallelMin = 1 << 16;
}  // namespace cleave

// CLEAVE_REQUIRE (a bad argument) and CLEAVE_REQUIRE_FINITE (numbers gone bad) come from the
// header shared with cuda/src, as do the argument checks of the ops both libraries implement.
#define CLEAVE_FAIL ::cleave::fail
#include "cleave_shared.h"

#endif
