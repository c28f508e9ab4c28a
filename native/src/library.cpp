// Library-wide state: the thread's last error, the partition and the team (see common.h), the
// build description.
#include <cblas.h>
#include <omp.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstring>
#include "cleave_cpu.h"
#include "common.h"

namespace {
thread_local char g_error[1024] = "";
std::atomic<int> g_threads{0};  // the partition; 0 = not yet set: use OpenMP's default
std::atomic<int> g_team{0};     // threads that run the parts; 0 = as many as the partition
char g_info[512] = "";

// Adaptive teams (cleave_set_threads_adaptive): every kSampleNs the CPU time all processes
// spent on this process's CPUs (/proc/stat) is compared with this process's own; what the
// others used sets the team size (cleave_team_decision).
constexpr int64_t kSampleNs = 250'000'000;
std::atomic<bool> g_adaptive{false};
std::atomic<int64_t> g_next_sample{0};
std::atomic<bool> g_sampling{false};
cpu_set_t g_cpus;       // this process's CPUs, read when adaptation is turned on
int g_cpu_count = 0;
double g_last_busy = -1, g_last_own = 0;
int64_t g_last_wall = 0;

int64_t now_ns(clockid_t clock) {
  timespec t;
  clock_gettime(clock, &t);
  return (int64_t)t.tv_sec * 1'000'000'000 + t.tv_nsec;
}

// Busy seconds (user, nice, system, irq, softirq) of the CPUs in g_cpus since boot; -1 if
// /proc/stat cannot be read.
double busy_seconds() {
  FILE* f = std::fopen("/proc/stat", "r");
  if (!f) return -1;
  static const double hz = (double)sysconf(_SC_CLK_TCK);
  char line[512];
  double busy = 0;
  bool any = false;
  while (std::fgets(line, sizeof line, f)) {
    int cpu;
    unsigned long long user, nice, sys, idle, iowait, irq, softirq;
    if (std::strncmp(line, "cpu", 3) != 0 || line[3] < '0' || line[3] > '9') continue;
    if (std::sscanf(line + 3, "%d %llu %llu %llu %llu %llu %llu %llu", &cpu, &user, &nice, &sys, &idle, &iowait,
                    &irq, &softirq) != 8)
      continue;
    if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &g_cpus)) continue;
    busy += (double)(user + nice + sys + irq + softirq) / hz;
    any = true;
  }
  std::fclose(f);
  return any ? busy : -1;
}

// One sample: the cores other processes used since the last sample, and the team it implies.
void sample(int64_t wall) {
  const double busy = busy_seconds();
  const double own = now_ns(CLOCK_PROCESS_CPUTIME_ID) / 1e9;
  if (busy >= 0 && g_last_busy >= 0 && wall > g_last_wall) {
    const double seconds = (wall - g_last_wall) / 1e9;
    const double others = std::max(0.0, (busy - g_last_busy - (own - g_last_own)) / seconds);
    const int max = g_threads.load(std::memory_order_relaxed);
    const int team = g_team.load(std::memory_order_relaxed);
    g_team.store(cleave_team_decision(team > 0 ? team : max, max, g_cpu_count - others), std::memory_order_relaxed);
  }
  g_last_busy = busy;
  g_last_own = own;
  g_last_wall = wall;
}
}  // namespace

namespace cleave {
namespace {
const char* source_path(const char* file) { return cleave_shared::source_path(file, "native/src/"); }
}  // namespace
CLEAVE_DEFINE_ERROR_RECORDERS(g_error, source_path)
int threads() {
  const int n = g_threads.load(std::memory_order_relaxed);
  return n > 0 ? n : omp_get_max_threads();
}
int team(int parts) {
  if (g_adaptive.load(std::memory_order_relaxed)) {
    const int64_t wall = now_ns(CLOCK_MONOTONIC);
    if (wall >= g_next_sample.load(std::memory_order_relaxed) && !g_sampling.exchange(true, std::memory_order_acquire)) {
      if (g_adaptive.load(std::memory_order_relaxed)) sample(wall);
      g_next_sample.store(wall + kSampleNs, std::memory_order_relaxed);
      g_sampling.store(false, std::memory_order_release);
    }
  }
  const int t = g_team.load(std::memory_order_relaxed);
  return std::max(1, std::min(parts, t > 0 ? t : threads()));
}
}  // namespace cleave

extern "C" {
const char* cleave_last_error(void) { return g_error; }

int cleave_set_threads(int n) {
  CLEAVE_REQUIRE("set_threads", n >= 1 && n <= 1024, "threads must be in [1, 1024], got %d", n);
  g_adaptive.store(false);
  g_team.store(0);
  g_threads.store(n);
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

int cleave_set_threads_adaptive(int n) {
  if (const int status = cleave_set_threads(n)) return status;
  while (g_sampling.exchange(true, std::memory_order_acquire)) {
  }
  CPU_ZERO(&g_cpus);
  if (sched_getaffinity(0, sizeof g_cpus, &g_cpus) != 0) {
    for (int c = 0; c < std::min(CPU_SETSIZE, (int)sysconf(_SC_NPROCESSORS_ONLN)); ++c) CPU_SET(c, &g_cpus);
  }
  g_cpu_count = CPU_COUNT(&g_cpus);
  g_last_busy = -1;
  sample(now_ns(CLOCK_MONOTONIC));  // the baseline; the first decision comes one period later
  g_next_sample.store(now_ns(CLOCK_MONOTONIC) + kSampleNs);
  g_adaptive.store(true);
  g_sampling.store(false, std::memory_order_release);
  return cleave::ok();
}

int cleave_set_team(int n) {
  const int max = cleave::threads();
  CLEAVE_REQUIRE("set_team", n >= 1 && n <= max, "the team must be in [1, %d] (the threads set), got %d", max, n);
  g_adaptive.store(false);
  g_team.store(n);
  return cleave::ok();
}

int cleave_get_team(void) { return cleave::team(cleave::threads()); }

int cleave_team_decision(int team, int max, double free_cores) {
  max = std::max(1, max);
  team = std::min(std::max(team, 1), max);
  if (!std::isfinite(free_cores)) return team;
  // Hysteresis of 0.6 cores either way: a team of 2 on 2 cores shrinks when another process
  // keeps more than 0.6 of a core busy, a team of 1 grows back when the others use under 0.4.
  if (free_cores > team + 0.6) return std::min(max, (int)std::floor(free_cores + 0.4));
  if (free_cores < team - 0.6) return std::max(1, (int)std::ceil(free_cores - 0.4));
  return team;
}

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
