// The CUDA emulator's runtime: the scheduler that runs a grid's blocks one after another with
// the threads of a block as fibers (ucontext, one OS thread) or as real OS threads, the
// barriers, warp exchanges and votes between them, and the emulated device memory
// (allocations with poisoned guard bands, checked after every launch). See cuda_emu.h for the
// API and cuda/emu/README.md for the model and its limits.
#include "cuda_emu.h"

#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <condition_variable>
#include <cstdarg>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace cleave_emu {
thread_local ThreadCtx* tls_ctx = nullptr;

namespace {
// ---------------------------------------------------------------------------------------------
// Errors: the runtime API keeps a per-thread last error, as CUDA does, plus a detailed message
// that cudaGetErrorString returns for that error.
thread_local cudaError_t g_last_error = cudaSuccess;
thread_local cudaError_t g_detail_code = cudaSuccess;
thread_local std::string g_detail;
thread_local std::string g_error_string;

cudaError_t set_last(cudaError_t err, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
cudaError_t set_last(cudaError_t err, const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  g_last_error = err;
  g_detail_code = err;
  g_detail = buf;
  return err;
}

// The error model (cleave_cuda_emu_set_error_model). 0: a kernel fault is reported by its launch
// and is not sticky. 1, as on a GPU: the launch succeeds, the fault is reported by the next call
// that synchronizes, and it is sticky: every later call of any thread fails with it until
// cleave_cuda_emu_reset_device.
std::atomic<int> g_error_model{0};
std::mutex g_sticky_mu;
cudaError_t g_sticky = cudaSuccess;  // guarded by g_sticky_mu
std::string g_sticky_detail;
std::atomic<bool> g_pending{false};  // a fault not yet reported by a synchronizing call
std::atomic<int> g_sm_count{4};

// In error model 1: the sticky error once a synchronizing call (sync) has seen it, or, for
// launches and other non-synchronizing calls, once it was reported; cudaSuccess otherwise.
cudaError_t sticky(bool sync) {
  if (g_error_model.load() != 1) return cudaSuccess;
  std::lock_guard<std::mutex> lock(g_sticky_mu);
  if (g_sticky == cudaSuccess) return cudaSuccess;
  if (g_pending.load() && !sync) return cudaSuccess;
  g_pending = false;
  return set_last(g_sticky, "%s", g_sticky_detail.c_str());
}

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Emulated device memory: each allocation has kPad poisoned bytes (0xFF) on both sides, and the
// allocation itself starts filled with 0xFF (float NaN, int -1), as device memory starts
// undefined. The guard bands are checked after every launch: a kernel that wrote outside its
// buffers fails with cudaErrorIllegalAddress naming the allocation.
constexpr size_t kPad = 256;
constexpr size_t kEmuMemory = size_t(8) << 30;  // what the emulated device reports

struct Alloc {
  char* raw;
  size_t bytes;
};
std::mutex g_mem_mu;
std::map<uintptr_t, Alloc> g_allocs;  // by user address
size_t g_allocated = 0;

// The allocation holding [p, p + bytes], or null. Caller holds g_mem_mu.
const std::pair<const uintptr_t, Alloc>* find_alloc(const void* p, size_t bytes) {
  const uintptr_t a = (uintptr_t)p;
  auto it = g_allocs.upper_bound(a);
  if (it == g_allocs.begin()) return nullptr;
  --it;
  if (a + bytes > it->first + it->second.bytes || a + bytes < a) return nullptr;
  return &*it;
}

bool is_device(const void* p, size_t bytes) {
  std::lock_guard<std::mutex> lock(g_mem_mu);
  return find_alloc(p, bytes) != nullptr;
}

std::map<uintptr_t, size_t> g_pinned;  // cudaMallocHost blocks: start -> bytes (guarded by g_mem_mu)

// Whether [p, p + bytes) lies inside one block of pinned host memory.
bool is_pinned(const void* p, size_t bytes) {
  std::lock_guard<std::mutex> lock(g_mem_mu);
  const uintptr_t a = (uintptr_t)p;
  auto it = g_pinned.upper_bound(a);
  if (it == g_pinned.begin()) return false;
  --it;
  return a + bytes <= it->first + it->second && a + bytes >= a;
}

bool pad_intact(const char* p, size_t n, size_t* first_bad) {
  for (size_t i = 0; i < n; ++i) {
    if ((unsigned char)p[i] != 0xFF) {
      *first_bad = i;
      return false;
    }
  }
  return true;
}

// Describes the first corrupted guard band (and repairs all of them); empty when all intact.
std::string check_guards() {
  std::lock_guard<std::mutex> lock(g_mem_mu);
  std::string problem;
  for (auto& [user, a] : g_allocs) {
    size_t bad = 0;
    char* after = a.raw + kPad + a.bytes;
    if (!pad_intact(a.raw, kPad, &bad)) {
      if (problem.empty())
        problem = format("memory %zu bytes before the device allocation at %p (%zu bytes) was "
                         "written: a kernel wrote out of bounds",
                         kPad - bad, (void*)user, a.bytes);
      std::memset(a.raw, 0xFF, kPad);
    }
    if (!pad_intact(after, kPad, &bad)) {
      if (problem.empty())
        problem = format("memory %zu bytes past the end of the device allocation at %p (%zu "
                         "bytes) was written: a kernel wrote out of bounds",
                         bad, (void*)user, a.bytes);
      std::memset(after, 0xFF, kPad);
    }
  }
  return problem;
}

// ---------------------------------------------------------------------------------------------
// Shared memory: every variable declared with CLEAVE_SHARED that has been reached.
std::mutex g_shared_mu;
std::map<void*, size_t> g_shared;

void poison_shared() {
  std::lock_guard<std::mutex> lock(g_shared_mu);
  for (const auto& [p, bytes] : g_shared) std::memset(p, 0xFF, bytes);
}

// ---------------------------------------------------------------------------------------------
// Scheduling.
std::mutex g_launch_mu;  // one launch at a time in the process (shared memory is static)
std::atomic<int> g_schedule{0};
std::atomic<uint64_t> g_seed{0};

struct Stats {
  int64_t launches = 0, blocks = 0, threads = 0, block_barriers = 0, warp_barriers = 0;
  // Host synchronisations (calls that make the host wait for the device), copies (all), of
  // them asynchronous ones, and memsets: see cleave_cuda_emu_sync_stats.
  int64_t host_syncs = 0, copies = 0, async_copies = 0, memsets = 0;
  std::map<std::string, int64_t> kernels;
};
std::mutex g_stats_mu;
Stats g_stats;

void count(int64_t Stats::*field) {
  std::lock_guard<std::mutex> lock(g_stats_mu);
  ++(g_stats.*field);
}

struct Abort {};  // unwinds an emulated thread out of its kernel after a fault

void fiber_entry();

// ---- fiber context switching ----
// On x86-64 a fiber is its saved stack pointer: cleave_emu_switch pushes the callee-saved
// registers and the SSE/x87 control words, stores the stack pointer, loads the other fiber's and
// pops its registers (about 20 instructions; glibc's swapcontext also makes a sigprocmask system
// call per switch, 50x slower). Elsewhere, or with -DCLEAVE_EMU_UCONTEXT, ucontext does the job.
#if defined(__x86_64__) && !defined(CLEAVE_EMU_UCONTEXT)
struct Fiber {
  void* sp = nullptr;
};
}  // namespace
}  // namespace cleave_emu
extern "C" void cleave_emu_switch(void** save_sp, void* load_sp);
extern "C" void cleave_emu_fiber_start();
asm(R"(
  .text
  .p2align 4
  .type cleave_emu_switch,@function
cleave_emu_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  subq $16, %rsp
  stmxcsr 8(%rsp)
  fnstcw (%rsp)
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  fldcw (%rsp)
  ldmxcsr 8(%rsp)
  addq $16, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret
  .size cleave_emu_switch,.-cleave_emu_switch

  .p2align 4
  .type cleave_emu_fiber_start,@function
cleave_emu_fiber_start:
  call cleave_emu_fiber_main@PLT
  ud2
  .size cleave_emu_fiber_start,.-cleave_emu_fiber_start
)");
namespace cleave_emu {
namespace {
// Prepares `f` to run fiber_entry on [stack, stack + bytes) at its first switch.
void fiber_make(Fiber* f, char* stack, size_t bytes, Fiber* /*back*/) {
  uintptr_t top = ((uintptr_t)(stack + bytes)) & ~(uintptr_t)15;
  uint64_t* sp = (uint64_t*)top;
  // Where the first switch "returns" to; after that ret the stack pointer is 16-byte aligned,
  // so the start routine's call enters cleave_emu_fiber_main with the alignment the ABI wants.
  *--sp = (uint64_t)&cleave_emu_fiber_start;
  for (int i = 0; i < 6; ++i) *--sp = 0;       // rbp rbx r12 r13 r14 r15
  sp -= 2;                                     // x87 control word, then MXCSR
  uint32_t mxcsr;
  uint16_t fpucw;
  asm volatile("stmxcsr %0" : "=m"(mxcsr));
  asm volatile("fnstcw %0" : "=m"(fpucw));
  std::memcpy((char*)sp, &fpucw, sizeof fpucw);
  std::memcpy((char*)sp + 8, &mxcsr, sizeof mxcsr);
  f->sp = sp;
}
inline void fiber_switch(Fiber* from, Fiber* to) { cleave_emu_switch(&from->sp, to->sp); }
#else
struct Fiber {
  ucontext_t uc;
};
void fiber_make(Fiber* f, char* stack, size_t bytes, Fiber* back) {
  getcontext(&f->uc);
  f->uc.uc_stack.ss_sp = stack;
  f->uc.uc_stack.ss_size = bytes;
  f->uc.uc_link = &back->uc;
  makecontext(&f->uc, fiber_entry, 0);
}
inline void fiber_switch(Fiber* from, Fiber* to) { swapcontext(&from->uc, &to->uc); }
#endif

enum class Wait : uint8_t { None, Block, Warp, Done };

struct EThread {
  ThreadCtx ctx;
  Wait wait = Wait::None;
  Fiber fiber;                  // fibers mode
  std::condition_variable cv;   // threads mode: signalled when this thread is released
};

struct WarpState {
  uint32_t exists = 0;   // lanes that exist (the last warp of a block may be partial)
  uint32_t live = 0;     // lanes that have not returned
  uint32_t arrived = 0;  // lanes waiting in the current warp operation
  uint32_t want = 0;     // its mask
  uint64_t gen = 0;      // operations completed
  uint64_t slot[2][32];  // values offered, double-buffered by gen parity
};

struct BlockRun {
  bool threads_mode = false;
  const Task* task = nullptr;
  std::deque<EThread> th;  // deque: EThread holds a condition variable and cannot move
  std::vector<WarpState> warps;
  int live = 0;         // threads that have not returned
  int waiting = 0;      // threads parked in a barrier or warp operation
  int bar_arrived = 0;  // threads waiting in __syncthreads
  bool faulted = false;
  std::string fault;
  int64_t block_barriers = 0, warp_barriers = 0;
  int schedule = 0;                // see cleave_cuda_emu_set_schedule
  std::mt19937_64* rng = nullptr;  // the shuffled schedule's
  std::mutex mu;  // threads mode only
  Fiber sched;    // fibers: the scheduler's context
};

thread_local BlockRun* tls_block = nullptr;
thread_local EThread* tls_self = nullptr;

// Locks the block's state in threads mode; fibers never run concurrently, and must not hold a
// mutex across a context switch.
struct Guard {
  std::unique_lock<std::mutex> lk;
  explicit Guard(BlockRun& b) : lk(b.mu, std::defer_lock) {
    if (b.threads_mode) lk.lock();
  }
};

std::string describe_wait(const BlockRun& B) {
  int at_block = 0, done = 0, running = 0;
  std::string warps;
  for (const EThread& t : B.th) {
    if (t.wait == Wait::Block) ++at_block;
    else if (t.wait == Wait::Done) ++done;
    else if (t.wait == Wait::None) ++running;
  }
  for (size_t w = 0; w < B.warps.size(); ++w) {
    const WarpState& W = B.warps[w];
    if (W.arrived)
      warps += format(" warp %zu: lanes 0x%08x wait in a warp operation with mask 0x%08x;", w,
                      W.arrived, W.want);
  }
  return format("%d threads wait in __syncthreads, %d have returned, %d are running;%s",
                at_block, done, running, warps.c_str());
}

// Threads mode: wakes `t` if it is parked (the caller holds the block's mutex).
void wake(BlockRun& B, EThread& t) {
  if (B.threads_mode) t.cv.notify_one();
}

void wake_all(BlockRun& B) {
  if (B.threads_mode)
    for (EThread& t : B.th) t.cv.notify_one();
}

void set_fault(BlockRun& B, const std::string& why) {
  if (!B.faulted) {
    B.faulted = true;
    B.fault = why;
  }
  wake_all(B);
}

[[noreturn]] void fault(BlockRun& B, const std::string& why) {
  set_fault(B, why);
  throw Abort{};
}

void release_block(BlockRun& B) {
  for (EThread& t : B.th) {
    if (t.wait == Wait::Block) {
      t.wait = Wait::None;
      --B.waiting;
      wake(B, t);
    }
  }
  B.bar_arrived = 0;
  ++B.block_barriers;
}

void release_warp(BlockRun& B, int w) {
  WarpState& W = B.warps[w];
  for (int lane = 0; lane < 32; ++lane) {
    if (W.want & (1u << lane)) {
      EThread& t = B.th[w * 32 + lane];
      if (t.wait == Wait::Warp) {
        t.wait = Wait::None;
        --B.waiting;
        wake(B, t);
      }
    }
  }
  W.arrived = 0;
  ++W.gen;
  ++B.warp_barriers;
}

// Parks the calling thread until another releases it. Called with the Guard held.
void park(BlockRun& B, EThread& me, Guard& g) {
  if (B.threads_mode) {
    if (B.waiting == B.live) set_fault(B, "deadlock: " + describe_wait(B));
    me.cv.wait(g.lk, [&] { return me.wait == Wait::None || B.faulted; });
  } else {
    fiber_switch(&me.fiber, &B.sched);
  }
  if (B.faulted) throw Abort{};
}

// Fibers: a thread that has just released a barrier either runs on (forward and reverse orders:
// it gets ahead of the threads it released) or yields, so that every released thread resumes in
// schedule order (lockstep: all threads advance one phase at a time; shuffled: a coin flip).
void after_release(BlockRun& B, EThread& me) {
  if (B.threads_mode) return;
  const bool yield = B.schedule == 4 || (B.schedule == 2 && ((*B.rng)() & 1));
  if (!yield) return;
  fiber_switch(&me.fiber, &B.sched);
  if (B.faulted) throw Abort{};
}

// An emulated thread returns from its kernel.
void thread_exit(BlockRun& B, EThread& me) {
  Guard g(B);
  me.wait = Wait::Done;
  --B.live;
  WarpState& W = B.warps[me.ctx.warp];
  const uint32_t bit = 1u << me.ctx.lane;
  W.live &= ~bit;
  if (W.arrived && (W.want & bit) && !B.faulted)
    set_fault(B, format("thread %d (warp %d lane %d) returned while lanes 0x%08x wait for it in "
                        "a warp operation with mask 0x%08x",
                        me.ctx.linear, me.ctx.warp, me.ctx.lane, W.arrived, W.want));
  if (B.bar_arrived > 0 && B.bar_arrived == B.live) release_block(B);
  if (B.threads_mode && !B.faulted && B.live > 0 && B.waiting == B.live)
    set_fault(B, "deadlock: " + describe_wait(B));
}

enum class WarpOp { Sync, Exchange, Ballot };

uint64_t warp_op(WarpOp op, unsigned mask, uint64_t value, int src) {
  BlockRun& B = *tls_block;
  EThread& me = *tls_self;
  Guard g(B);
  if (B.faulted) throw Abort{};
  const int w = me.ctx.warp, lane = me.ctx.lane;
  WarpState& W = B.warps[w];
  const uint32_t bit = 1u << lane;
  const char* what = op == WarpOp::Sync ? "__syncwarp" : op == WarpOp::Exchange ? "a shuffle" : "a vote";
  if (!(mask & bit))
    fault(B, format("thread %d (warp %d lane %d) calls %s with mask 0x%08x, which does not "
                    "include it", me.ctx.linear, w, lane, what, mask));
  if (mask & ~W.exists)
    fault(B, format("%s with mask 0x%08x names lanes that do not exist: warp %d has lanes 0x%08x "
                    "(block size not a multiple of 32?)", what, mask, w, W.exists));
  if (W.arrived == 0) {
    W.want = mask;
  } else if (W.want != mask) {
    fault(B, format("lanes of warp %d wait in warp operations with different masks (0x%08x and "
                    "0x%08x); the emulator needs one mask per operation", w, W.want, mask));
  }
  if (mask & ~W.live)
    fault(B, format("%s with mask 0x%08x waits for lanes 0x%08x of warp %d that have returned",
                    what, mask, mask & ~W.live, w));
  const uint64_t gen = W.gen;
  W.slot[gen & 1][lane] = value;
  W.arrived |= bit;
  me.wait = Wait::Warp;
  ++B.waiting;
  if (W.arrived == W.want) {
    release_warp(B, w);
    after_release(B, me);
  }
  if (me.wait != Wait::None) park(B, me, g);
  if (op == WarpOp::Exchange) {
    if (src < 0 || src >= 32 || !(mask & (1u << src)))
      fault(B, format("lane %d of warp %d reads lane %d in a shuffle with mask 0x%08x: the source "
                      "lane is not in the mask, so its value is undefined", lane, w, src, mask));
    return W.slot[gen & 1][src];
  }
  if (op == WarpOp::Ballot) {
    uint64_t bits = 0;
    for (int l = 0; l < 32; ++l)
      if ((mask & (1u << l)) && W.slot[gen & 1][l]) bits |= 1u << l;
    return bits;
  }
  return 0;
}

// ---- fibers ----
constexpr size_t kStackBytes = 256 * 1024;
std::vector<char*> g_stacks;  // reused across launches (guarded by g_launch_mu)
size_t g_page = 0;

char* stack_for(size_t i) {
  if (g_page == 0) g_page = (size_t)sysconf(_SC_PAGESIZE);
  while (g_stacks.size() <= i) {
    void* m = mmap(nullptr, kStackBytes + g_page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return nullptr;
    mprotect(m, g_page, PROT_NONE);  // guard page below the stack: overflow faults loudly
    g_stacks.push_back(static_cast<char*>(m));
  }
  return g_stacks[i] + g_page;
}

// Runs the kernel in the calling emulated thread; a fault elsewhere unwinds it with Abort, and any
// other exception becomes a fault of the launch instead of ending the process.
void run_kernel(BlockRun& B) {
  try {
    B.task->run(B.task->self);
  } catch (const Abort&) {
  } catch (const std::exception& e) {
    Guard g(B);
    set_fault(B, format("a C++ exception escaped the kernel: %s", e.what()));
  } catch (...) {
    Guard g(B);
    set_fault(B, "a C++ exception escaped the kernel");
  }
}

void fiber_entry() {
  BlockRun& B = *tls_block;
  EThread& me = *tls_self;
  run_kernel(B);
  thread_exit(B, me);
#if defined(__x86_64__) && !defined(CLEAVE_EMU_UCONTEXT)
  fiber_switch(&me.fiber, &B.sched);  // never resumed: the next block makes a fresh fiber
#endif
  // with ucontext, returning resumes uc_link: the scheduler
}

void run_block_fibers(BlockRun& B, int schedule, std::mt19937_64& rng) {
  const int n = (int)B.th.size();
  for (int i = 0; i < n; ++i) {
    EThread& t = B.th[i];
    char* stack = stack_for(i);
    if (!stack) {
      set_fault(B, "could not map a fiber stack");
      return;
    }
    fiber_make(&t.fiber, stack, kStackBytes, &B.sched);
  }
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  if (schedule == 1) std::reverse(order.begin(), order.end());  // 0 and 4: forward
  while (B.live > 0 && !B.faulted) {
    if (schedule == 2) std::shuffle(order.begin(), order.end(), rng);
    bool ran = false;
    for (int i : order) {
      EThread& t = B.th[i];
      if (t.wait != Wait::None) continue;
      tls_self = &t;
      tls_ctx = &t.ctx;
      fiber_switch(&B.sched, &t.fiber);
      ran = true;
      if (B.faulted) break;
    }
    if (!ran && !B.faulted && B.live > 0) set_fault(B, "deadlock: " + describe_wait(B));
  }
}

void run_block_threads(BlockRun& B) {
  const int n = (int)B.th.size();
  std::vector<std::thread> threads;
  threads.reserve(n);
  int started = 0;
  try {
    for (; started < n; ++started) {
      threads.emplace_back([&B, started] {
        tls_block = &B;
        tls_self = &B.th[started];
        tls_ctx = &B.th[started].ctx;
        run_kernel(B);
        thread_exit(B, B.th[started]);
      });
    }
  } catch (const std::exception& e) {
    Guard g(B);
    set_fault(B, format("could not start OS thread %d of the block: %s", started, e.what()));
    // the threads that never started will not arrive anywhere: count them as returned
    for (int i = started; i < n; ++i) {
      B.th[i].wait = Wait::Done;
      --B.live;
    }
  }
  for (std::thread& t : threads) t.join();
}

}  // namespace

extern "C" void cleave_emu_fiber_main() { fiber_entry(); }

bool register_shared(void* p, size_t bytes) {
  std::lock_guard<std::mutex> lock(g_shared_mu);
  g_shared[p] = bytes;
  std::memset(p, 0xFF, bytes);  // reached for the first time inside a block: poison it now too
  return true;
}

// ---- the barrier entry points called by the kernels ----
void block_barrier() {
  BlockRun& B = *tls_block;
  EThread& me = *tls_self;
  Guard g(B);
  if (B.faulted) throw Abort{};
  me.wait = Wait::Block;
  ++B.waiting;
  ++B.bar_arrived;
  if (B.bar_arrived == B.live) {
    release_block(B);
    after_release(B, me);
  }
  if (me.wait != Wait::None) park(B, me, g);
}

void warp_barrier(unsigned mask) { warp_op(WarpOp::Sync, mask, 0, 0); }

uint64_t warp_exchange(unsigned mask, uint64_t value, int src) {
  return warp_op(WarpOp::Exchange, mask, value, src);
}

unsigned warp_ballot(unsigned mask, int pred) {
  return (unsigned)warp_op(WarpOp::Ballot, mask, pred != 0, 0);
}

cudaError_t run_launch(const char* name, dim3 grid, dim3 block, Task task, const PointerArg* ptrs,
                       int n_ptrs) {
  if (const cudaError_t e = sticky(false)) return e;
  std::lock_guard<std::mutex> launch_lock(g_launch_mu);
  const uint64_t nthreads = (uint64_t)block.x * block.y * block.z;
  if (block.x == 0 || block.y == 0 || block.z == 0 || nthreads > 1024 || block.x > 1024 ||
      block.y > 1024 || block.z > 64 || grid.x == 0 || grid.y == 0 || grid.z == 0 ||
      grid.x > (unsigned)INT_MAX || grid.y > 65535 || grid.z > 65535)
    return set_last(cudaErrorInvalidConfiguration,
                    "kernel %s: invalid launch configuration: grid (%u, %u, %u), block (%u, %u, %u) "
                    "(at most 1024 threads per block, block.z <= 64, grid.y and grid.z <= 65535)",
                    name, grid.x, grid.y, grid.z, block.x, block.y, block.z);
  for (int i = 0; i < n_ptrs; ++i) {
    if (!is_device(ptrs[i].ptr, 0))
      return set_last(cudaErrorInvalidValue,
                      "kernel %s: argument %d (%p) does not point into emulated device memory "
                      "(a host pointer passed where a device pointer belongs?)",
                      name, ptrs[i].index, ptrs[i].ptr);
  }
  const int schedule = g_schedule.load();
  static uint64_t launch_number = 0;  // guarded by g_launch_mu: every launch gets its own order
  std::mt19937_64 rng(g_seed.load() ^ ++launch_number * 0x9E3779B97F4A7C15ULL);

  BlockRun B;
  B.threads_mode = schedule == 3;
  B.schedule = schedule;
  B.rng = &rng;
  B.task = &task;
  for (uint64_t i = 0; i < nthreads; ++i) B.th.emplace_back();
  const int nwarps = (int)((nthreads + 31) / 32);
  B.warps.resize(nwarps);
  for (int w = 0; w < nwarps; ++w) {
    const uint64_t lanes = std::min<uint64_t>(32, nthreads - (uint64_t)w * 32);
    B.warps[w].exists = lanes == 32 ? 0xffffffffu : (uint32_t)((1ull << lanes) - 1);
  }
  BlockRun* saved_block = tls_block;
  EThread* saved_self = tls_self;
  ThreadCtx* saved_ctx = tls_ctx;
  tls_block = &B;
  int64_t blocks_run = 0;
  for (unsigned bz = 0; bz < grid.z && !B.faulted; ++bz) {
    for (unsigned by = 0; by < grid.y && !B.faulted; ++by) {
      for (unsigned bx = 0; bx < grid.x && !B.faulted; ++bx) {
        poison_shared();
        for (uint64_t l = 0; l < nthreads; ++l) {
          EThread& t = B.th[l];
          t.wait = Wait::None;
          t.ctx.thread_idx = uint3{(unsigned)(l % block.x), (unsigned)((l / block.x) % block.y),
                                   (unsigned)(l / ((uint64_t)block.x * block.y))};
          t.ctx.block_idx = uint3{bx, by, bz};
          t.ctx.block_dim = block;
          t.ctx.grid_dim = grid;
          t.ctx.linear = (int)l;
          t.ctx.lane = (int)(l % 32);
          t.ctx.warp = (int)(l / 32);
        }
        for (WarpState& W : B.warps) {
          W.live = W.exists;
          W.arrived = 0;
          W.want = 0;
          W.gen = 0;
        }
        B.live = (int)nthreads;
        B.waiting = 0;
        B.bar_arrived = 0;
        if (B.threads_mode) run_block_threads(B);
        else run_block_fibers(B, schedule, rng);
        ++blocks_run;
        if (B.faulted)
          B.fault = format("block (%u, %u, %u): ", bx, by, bz) + B.fault;
      }
    }
  }
  tls_block = saved_block;
  tls_self = saved_self;
  tls_ctx = saved_ctx;
  {
    std::lock_guard<std::mutex> lock(g_stats_mu);
    ++g_stats.launches;
    g_stats.blocks += blocks_run;
    g_stats.threads += blocks_run * (int64_t)nthreads;
    g_stats.block_barriers += B.block_barriers;
    g_stats.warp_barriers += B.warp_barriers;
    ++g_stats.kernels[name];
  }
  cudaError_t fault = cudaSuccess;
  std::string detail;
  if (B.faulted) {
    fault = cudaErrorLaunchFailure;
    detail = format("kernel %s, grid (%u, %u, %u), block (%u, %u, %u): %s", name, grid.x, grid.y,
                    grid.z, block.x, block.y, block.z, B.fault.c_str());
  } else {
    const std::string oob = check_guards();
    if (!oob.empty()) {
      fault = cudaErrorIllegalAddress;
      detail = format("kernel %s: %s", name, oob.c_str());
    }
  }
  if (fault == cudaSuccess) return cudaSuccess;
  if (g_error_model.load() == 1) {
    std::lock_guard<std::mutex> lock(g_sticky_mu);
    if (g_sticky == cudaSuccess) {
      g_sticky = fault;
      g_sticky_detail = detail;
      g_pending = true;
    }
    return cudaSuccess;  // as on a GPU: the launch itself went fine
  }
  return set_last(fault, "%s", detail.c_str());
}
}  // namespace cleave_emu

// ---------------------------------------------------------------------------------------------
// The runtime API.
using cleave_emu::set_last;

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  if (const cudaError_t e = cleave_emu::sticky(true)) return e;
  using namespace cleave_emu;
  if (!ptr) return set_last(cudaErrorInvalidValue, "cudaMalloc: ptr is null");
  *ptr = nullptr;
  const size_t total = (bytes + 2 * kPad + 255) / 256 * 256;
  if (bytes > kEmuMemory) return set_last(cudaErrorMemoryAllocation, "cudaMalloc: out of memory");
  char* raw = static_cast<char*>(std::aligned_alloc(256, total));
  if (!raw) return set_last(cudaErrorMemoryAllocation, "cudaMalloc: out of host memory for %zu bytes", bytes);
  std::memset(raw, 0xFF, total);
  std::lock_guard<std::mutex> lock(g_mem_mu);
  g_allocs[(uintptr_t)(raw + kPad)] = Alloc{raw, bytes};
  g_allocated += bytes;
  *ptr = raw + kPad;
  return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
  if (const cudaError_t e = cleave_emu::sticky(true)) return e;
  using namespace cleave_emu;
  if (!ptr) return cudaSuccess;
  count(&Stats::host_syncs);  // cudaFree waits for the device to be idle
  std::lock_guard<std::mutex> lock(g_mem_mu);
  auto it = g_allocs.find((uintptr_t)ptr);
  if (it == g_allocs.end())
    return set_last(cudaErrorInvalidValue, "cudaFree: %p is not the start of an emulated device allocation", ptr);
  g_allocated -= it->second.bytes;
  std::free(it->second.raw);
  g_allocs.erase(it);
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  if (const cudaError_t e = cleave_emu::sticky(true)) return e;
  using namespace cleave_emu;
  if (bytes == 0) return cudaSuccess;
  if (!dst || !src) return set_last(cudaErrorInvalidValue, "cudaMemcpy: null pointer");
  const bool dst_dev = is_device(dst, bytes), src_dev = is_device(src, bytes);
  const bool ok = kind == cudaMemcpyDefault || (kind == cudaMemcpyHostToDevice && dst_dev && !src_dev) ||
                  (kind == cudaMemcpyDeviceToHost && src_dev && !dst_dev) ||
                  (kind == cudaMemcpyDeviceToDevice && src_dev && dst_dev) ||
                  (kind == cudaMemcpyHostToHost && !src_dev && !dst_dev);
  if (!ok)
    return set_last(cudaErrorInvalidValue,
                    "cudaMemcpy kind %d of %zu bytes from %p (%s) to %p (%s): a pointer is not "
                    "where the kind says, or the range runs past the end of its allocation",
                    (int)kind, bytes, src, src_dev ? "device" : "not device", dst,
                    dst_dev ? "device" : "not device");
  std::memmove(dst, src, bytes);
  count(&Stats::copies);
  if (src_dev != dst_dev) count(&Stats::host_syncs);  // to or from the host: the host waits
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t stream) {
  using namespace cleave_emu;
  if (stream != nullptr) return set_last(cudaErrorInvalidValue, "cudaMemcpyAsync: the emulator has only the default stream");
  if (const cudaError_t e = sticky(false)) return e;
  if (bytes == 0) return cudaSuccess;
  if (!dst || !src) return set_last(cudaErrorInvalidValue, "cudaMemcpyAsync: null pointer");
  const bool dst_dev = is_device(dst, bytes), src_dev = is_device(src, bytes);
  const bool ok = kind == cudaMemcpyDefault || (kind == cudaMemcpyHostToDevice && dst_dev && !src_dev) ||
                  (kind == cudaMemcpyDeviceToHost && src_dev && !dst_dev) ||
                  (kind == cudaMemcpyDeviceToDevice && src_dev && dst_dev);
  if (!ok)
    return set_last(cudaErrorInvalidValue,
                    "cudaMemcpyAsync kind %d of %zu bytes from %p (%s) to %p (%s): a pointer is not "
                    "where the kind says, or the range runs past the end of its allocation",
                    (int)kind, bytes, src, src_dev ? "device" : "not device", dst,
                    dst_dev ? "device" : "not device");
  std::memmove(dst, src, bytes);
  count(&Stats::copies);
  count(&Stats::async_copies);
  // From or to pageable memory the runtime stages the copy and the host waits, as cudaMemcpy.
  if (src_dev != dst_dev && !is_pinned(src_dev ? dst : src, bytes)) count(&Stats::host_syncs);
  return cudaSuccess;
}

cudaError_t cudaMallocHost(void** ptr, size_t bytes) {
  using namespace cleave_emu;
  if (const cudaError_t e = sticky(true)) return e;
  if (!ptr) return set_last(cudaErrorInvalidValue, "cudaMallocHost: ptr is null");
  *ptr = nullptr;
  const size_t total = (bytes + 255) / 256 * 256;
  void* p = std::aligned_alloc(256, total == 0 ? 256 : total);
  if (!p) return set_last(cudaErrorMemoryAllocation, "cudaMallocHost: out of host memory for %zu bytes", bytes);
  std::lock_guard<std::mutex> lock(g_mem_mu);
  g_pinned[(uintptr_t)p] = bytes;
  *ptr = p;
  return cudaSuccess;
}

cudaError_t cudaFreeHost(void* ptr) {
  using namespace cleave_emu;
  if (const cudaError_t e = sticky(true)) return e;
  if (!ptr) return cudaSuccess;
  count(&Stats::host_syncs);  // as cudaFree, waits for the device
  std::lock_guard<std::mutex> lock(g_mem_mu);
  auto it = g_pinned.find((uintptr_t)ptr);
  if (it == g_pinned.end())
    return set_last(cudaErrorInvalidValue, "cudaFreeHost: %p is not from cudaMallocHost", ptr);
  std::free(ptr);
  g_pinned.erase(it);
  return cudaSuccess;
}

// Events: work has run by the time it is issued, so every recorded event is complete.
struct CUevent_st {
  bool recorded = false;
};

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned) {
  if (!event) return set_last(cudaErrorInvalidValue, "cudaEventCreateWithFlags: event is null");
  *event = new CUevent_st();
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  if (!event) return set_last(cudaErrorInvalidValue, "cudaEventRecord: event is null");
  if (stream != nullptr) return set_last(cudaErrorInvalidValue, "cudaEventRecord: the emulator has only the default stream");
  if (const cudaError_t e = cleave_emu::sticky(false)) return e;
  event->recorded = true;
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  if (!event) return set_last(cudaErrorInvalidValue, "cudaEventSynchronize: event is null");
  cleave_emu::count(&cleave_emu::Stats::host_syncs);
  return cleave_emu::sticky(true);
}

cudaError_t cudaEventQuery(cudaEvent_t event) {
  if (!event) return set_last(cudaErrorInvalidValue, "cudaEventQuery: event is null");
  return cleave_emu::sticky(false);
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete event;
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  if (stream != nullptr) return set_last(cudaErrorInvalidValue, "cudaStreamSynchronize: the emulator has only the default stream");
  cleave_emu::count(&cleave_emu::Stats::host_syncs);
  if (const cudaError_t e = cleave_emu::sticky(true)) return e;
  const std::string oob = cleave_emu::check_guards();
  if (!oob.empty()) return set_last(cudaErrorIllegalAddress, "%s", oob.c_str());
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* ptr, int value, size_t bytes, cudaStream_t stream) {
  if (stream != nullptr) return set_last(cudaErrorInvalidValue, "cudaMemsetAsync: the emulator has only the default stream");
  return cudaMemset(ptr, value, bytes);
}

cudaError_t cudaMemset(void* ptr, int value, size_t bytes) {
  if (const cudaError_t e = cleave_emu::sticky(false)) return e;
  using namespace cleave_emu;
  if (bytes == 0) return cudaSuccess;
  count(&Stats::memsets);
  if (!is_device(ptr, bytes))
    return set_last(cudaErrorInvalidValue, "cudaMemset of %zu bytes at %p: not inside one emulated device allocation", bytes, ptr);
  std::memset(ptr, value, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  if (const cudaError_t e = cleave_emu::sticky(true)) return e;
  using namespace cleave_emu;
  std::lock_guard<std::mutex> lock(g_mem_mu);
  if (free_bytes) *free_bytes = kEmuMemory > g_allocated ? kEmuMemory - g_allocated : 0;
  if (total_bytes) *total_bytes = kEmuMemory;
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize(void) {
  cleave_emu::count(&cleave_emu::Stats::host_syncs);
  if (const cudaError_t e = cleave_emu::sticky(true)) return e;
  const std::string oob = cleave_emu::check_guards();
  if (!oob.empty()) return set_last(cudaErrorIllegalAddress, "%s", oob.c_str());
  return cudaSuccess;
}

cudaError_t cudaGetLastError(void) {
  if (const cudaError_t e = cleave_emu::sticky(false)) return e;
  const cudaError_t e = cleave_emu::g_last_error;
  cleave_emu::g_last_error = cudaSuccess;
  return e;
}

cudaError_t cudaPeekAtLastError(void) { return cleave_emu::g_last_error; }

const char* cudaGetErrorName(cudaError_t err) {
  switch (err) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInitializationError: return "cudaErrorInitializationError";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInsufficientDriver: return "cudaErrorInsufficientDriver";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorNoKernelImageForDevice: return "cudaErrorNoKernelImageForDevice";
    case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    case cudaErrorDevicesUnavailable: return "cudaErrorDevicesUnavailable";
    case cudaErrorUnsupportedPtxVersion: return "cudaErrorUnsupportedPtxVersion";
    default: break;
  }
  return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t err) {
  const char* base;
  switch (err) {
    case cudaSuccess: base = "no error"; break;
    case cudaErrorInvalidValue: base = "invalid argument"; break;
    case cudaErrorMemoryAllocation: base = "out of memory"; break;
    case cudaErrorInvalidConfiguration: base = "invalid configuration argument"; break;
    case cudaErrorInvalidDevice: base = "invalid device ordinal"; break;
    case cudaErrorIllegalAddress: base = "an illegal memory access was encountered"; break;
    case cudaErrorLaunchFailure: base = "unspecified launch failure"; break;
    default: base = "emulator error"; break;
  }
  if (err != cudaSuccess && err == cleave_emu::g_detail_code && !cleave_emu::g_detail.empty()) {
    cleave_emu::g_error_string = std::string(base) + " (emulator: " + cleave_emu::g_detail + ")";
    return cleave_emu::g_error_string.c_str();
  }
  return base;
}

cudaError_t cudaDriverGetVersion(int* version) {
  if (version) *version = CUDART_VERSION;
  return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int* version) {
  if (version) *version = CUDART_VERSION;
  return cudaSuccess;
}

cudaError_t cudaGetDeviceCount(int* count) {
  if (count) *count = 1;
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
  if (device) *device = 0;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  if (device != 0)
    return set_last(cudaErrorInvalidDevice, "the emulator has one device (0), not %d", device);
  return cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* prop, int device) {
  if (device != 0)
    return set_last(cudaErrorInvalidDevice, "the emulator has one device (0), not %d", device);
  std::memset(prop, 0, sizeof *prop);
  std::snprintf(prop->name, sizeof prop->name, "Cleave CUDA emulator (CPU)");
  prop->totalGlobalMem = cleave_emu::kEmuMemory;
  prop->sharedMemPerBlock = 48 * 1024;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = 1024;
  prop->major = 9;
  prop->minor = 0;
  prop->multiProcessorCount = cleave_emu::g_sm_count.load();
  return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  cudaDeviceProp p;
  const cudaError_t e = cudaGetDeviceProperties(&p, device);
  if (e != cudaSuccess) return e;
  switch (attr) {
    case cudaDevAttrMaxThreadsPerBlock: *value = p.maxThreadsPerBlock; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *value = (int)p.sharedMemPerBlock; break;
    case cudaDevAttrWarpSize: *value = p.warpSize; break;
    case cudaDevAttrMultiProcessorCount: *value = p.multiProcessorCount; break;
    case cudaDevAttrComputeCapabilityMajor: *value = p.major; break;
    case cudaDevAttrComputeCapabilityMinor: *value = p.minor; break;
    case cudaDevAttrComputeMode: *value = 0; break;
    case cudaDevAttrSingleToDoublePrecisionPerfRatio: *value = 2; break;
    default: return set_last(cudaErrorInvalidValue, "attribute %d is not emulated", (int)attr);
  }
  return cudaSuccess;
}

cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int* blocks, const void* kernel, int threads,
                                                          size_t) {
  if (!blocks || !kernel || threads < 1 || threads > 1024)
    return set_last(cudaErrorInvalidValue, "cudaOccupancyMaxActiveBlocksPerMultiprocessor: bad arguments");
  const int b = 2048 / threads;
  *blocks = b < 1 ? 1 : (b > 32 ? 32 : b);
  return cudaSuccess;
}

// ---------------------------------------------------------------------------------------------
// The emulator's own controls (cleave_cuda_emu.h).
extern "C" {
int cleave_cuda_emu_set_sm_count(int sms) {
  if (sms < 1 || sms > 1024) return 1;
  cleave_emu::g_sm_count = sms;
  return 0;
}

int cleave_cuda_emu_set_error_model(int model) {
  if (model < 0 || model > 1) return 1;
  cleave_emu::g_error_model = model;
  return 0;
}

int cleave_cuda_emu_reset_device(void) {
  std::lock_guard<std::mutex> lock(cleave_emu::g_sticky_mu);
  cleave_emu::g_sticky = cudaSuccess;
  cleave_emu::g_sticky_detail.clear();
  cleave_emu::g_pending = false;
  cleave_emu::g_last_error = cudaSuccess;
  return 0;
}

int cleave_cuda_emu_set_schedule(int schedule, uint64_t seed) {
  if (schedule < 0 || schedule > 4) return 1;
  cleave_emu::g_schedule = schedule;
  cleave_emu::g_seed = seed;
  return 0;
}

int cleave_cuda_emu_stats(int64_t* launches, int64_t* blocks, int64_t* threads,
                          int64_t* block_barriers, int64_t* warp_barriers) {
  std::lock_guard<std::mutex> lock(cleave_emu::g_stats_mu);
  const cleave_emu::Stats& s = cleave_emu::g_stats;
  if (launches) *launches = s.launches;
  if (blocks) *blocks = s.blocks;
  if (threads) *threads = s.threads;
  if (block_barriers) *block_barriers = s.block_barriers;
  if (warp_barriers) *warp_barriers = s.warp_barriers;
  return 0;
}

int cleave_cuda_emu_sync_stats(int64_t* host_syncs, int64_t* copies, int64_t* async_copies, int64_t* memsets) {
  std::lock_guard<std::mutex> lock(cleave_emu::g_stats_mu);
  const cleave_emu::Stats& s = cleave_emu::g_stats;
  if (host_syncs) *host_syncs = s.host_syncs;
  if (copies) *copies = s.copies;
  if (async_copies) *async_copies = s.async_copies;
  if (memsets) *memsets = s.memsets;
  return 0;
}

int cleave_cuda_emu_launched(char* buf, int len) {
  std::lock_guard<std::mutex> lock(cleave_emu::g_stats_mu);
  std::string all;
  for (const auto& [name, count] : cleave_emu::g_stats.kernels) {
    if (!all.empty()) all += ';';
    all += name + "=" + std::to_string(count);
  }
  if (!buf || len <= 0) return 1;
  std::snprintf(buf, (size_t)len, "%s", all.c_str());
  return (int)all.size() < len ? 0 : 1;
}

int cleave_cuda_emu_reset_stats(void) {
  std::lock_guard<std::mutex> lock(cleave_emu::g_stats_mu);
  cleave_emu::g_stats = cleave_emu::Stats{};
  return 0;
}
}
