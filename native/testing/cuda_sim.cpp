// The CUDA simulator's engine (see cuda_sim.h): device model, allocations, fibres and the block scheduler,
// warp rendezvous, the checks, the runtime API and the __tsan_* hooks the kernel translation units call.
// Single OS thread by design: one launch at a time, blocks one after another, threads as fibres.
#include "cuda_sim.h"
#include "cuda_sim_report.h"

#include <cxxabi.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

extern "C" char __start_fml_sim_shared[] __attribute__((weak));
extern "C" char __stop_fml_sim_shared[] __attribute__((weak));

namespace fml_sim {

// ---------------------------------------------------------------------------------------------------
// The device model: an H100 SXM5 (compute capability 9.0).
namespace dev {
constexpr int kSMs = 132, kMaxThreadsPerBlock = 1024, kMaxThreadsPerSM = 2048, kMaxBlocksPerSM = 32;
constexpr size_t kSmemPerSM = 228 * 1024, kSmemPerBlockOptin = 227 * 1024, kSmemPerBlock = 48 * 1024;
constexpr size_t kSmemReservedPerBlock = 1024, kGlobalMem = 80ull << 30;
}  // namespace dev

Coords* g_coords = nullptr;

// ---------------------------------------------------------------------------------------------------
// Reports

static std::vector<Report> g_reports;
static cudaError_t g_last_error = cudaSuccess;

struct Thread;
static Thread* g_running = nullptr;  // the fibre now running (null: host code)
static void abort_running();

static std::string demangle(const std::string& s) {
  int st = 0;
  char* d = abi::__cxa_demangle(s.c_str(), nullptr, nullptr, &st);
  std::string r = st == 0 && d ? d : s;
  std::free(d);
  return r;
}

// The launch being run, for messages.
struct LaunchInfo {
  std::string kernel;
  const void* fn = nullptr;
  dim3 grid, block;
  size_t smem = 0;
  int id = -1;  // kernel id (shared-array ownership)
};
static LaunchInfo g_launch;

static std::string where() {
  if (!g_coords) return "in host code";
  char b[160];
  std::snprintf(b, sizeof b, "in %s, block (%u,%u,%u), thread (%u,%u,%u)", g_launch.kernel.c_str(), g_coords->block.x,
                g_coords->block.y, g_coords->block.z, g_coords->thread.x, g_coords->thread.y, g_coords->thread.z);
  return b;
}

static void report(Check c, cudaError_t err, const char* fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  Report r{c, std::string(msg) + " " + where()};
  if (std::getenv("FML_SIM_VERBOSE")) std::fprintf(stderr, "========= [%s] %s\n", check_name(c), r.message.c_str());
  g_reports.push_back(r);
  g_last_error = err;
  if (g_running) abort_running();
}

const char* check_name(Check c) {
  switch (c) {
    case Check::Memcheck: return "memcheck";
    case Check::Racecheck: return "racecheck";
    case Check::Initcheck: return "initcheck";
    case Check::Synccheck: return "synccheck";
    case Check::Launch: return "launch";
  }
  return "?";
}

std::vector<Report> take_reports() {
  std::vector<Report> r;
  r.swap(g_reports);
  g_last_error = cudaSuccess;
  return r;
}

// ---------------------------------------------------------------------------------------------------
// Global memory: one reserved arena; every allocation is 256-byte aligned and followed by a red zone; one
// shadow byte per arena byte says whether the byte was ever written (initcheck).

static constexpr size_t kArenaBytes = 8ull << 30, kAlign = 256, kRedZone = 256;
static char* g_arena = nullptr;
static unsigned char* g_arena_init = nullptr;
static size_t g_arena_top = 0;
// Per byte of an allocation that kernels touched: the last write and reads (racecheck on global memory).
struct GByte {
  uint32_t w_epoch, r_epoch, w_stamp, r_stamp, r_warps;
  uint16_t w_tid, r_tid;
};
struct Alloc {
  size_t size;
  bool live;
  std::unique_ptr<GByte, void (*)(void*)> race{nullptr, std::free};  // calloc'ed at the first kernel access
};
static std::map<uintptr_t, Alloc> g_allocs;

static void arena_setup() {
  if (g_arena) return;
  void* a = mmap(nullptr, kArenaBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  void* s = mmap(nullptr, kArenaBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (a == MAP_FAILED || s == MAP_FAILED) {
    std::fprintf(stderr, "cuda_sim: cannot reserve the device arena\n");
    std::abort();
  }
  g_arena = static_cast<char*>(a);
  g_arena_init = static_cast<unsigned char*>(s);
  g_arena_top = kAlign;  // never hand out the arena's first byte (a null-like address)
}

static inline bool in_arena(uintptr_t a) { return g_arena && a - (uintptr_t)g_arena < kArenaBytes; }

// The allocation holding address a (live or freed), or null.
static const std::pair<const uintptr_t, Alloc>* find_alloc(uintptr_t a) {
  auto it = g_allocs.upper_bound(a);
  if (it == g_allocs.begin()) return nullptr;
  --it;
  if (a < it->first + std::max<size_t>(it->second.size, 1) + kRedZone) return &*it;
  return nullptr;
}

// Checks [a, a+n) against the allocations; false (and a memcheck report) when it is not inside one live one.
static bool check_global_range(uintptr_t a, size_t n, const char* what) {
  auto* al = find_alloc(a);
  if (al && al->second.live && a >= al->first && a + n <= al->first + al->second.size) return true;
  if (!al) {
    report(Check::Memcheck, cudaErrorIllegalAddress, "Invalid __global__ %s of size %zu at 0x%zx: not inside any allocation",
           what, n, (size_t)(a - (uintptr_t)g_arena));
  } else if (!al->second.live) {
    report(Check::Memcheck, cudaErrorIllegalAddress, "Invalid __global__ %s of size %zu: %zd bytes into an allocation of %zu bytes that was freed",
           what, n, (ssize_t)(a - al->first), al->second.size);
  } else {
    report(Check::Memcheck, cudaErrorIllegalAddress, "Invalid __global__ %s of size %zu: %zd bytes after the end of an allocation of %zu bytes",
           what, n, (ssize_t)(a + n - al->first - al->second.size), al->second.size);
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------
// Shared memory: static arrays live in section fml_sim_shared (one ELF symbol each); the dynamic buffer is
// ours. Shadow per byte: written in this block? and the last writer/reader since the last barrier.

static constexpr size_t kDynBytes = dev::kSmemPerBlockOptin;
alignas(128) static char g_dyn[kDynBytes];

struct SharedArray {
  uintptr_t lo, hi;
  std::string symbol;  // mangled: _ZZ<owner>E<name>
  int owner = -1;      // kernel id once its owner was launched as a kernel
};
static std::vector<SharedArray> g_arrays;  // sorted by address
struct FuncSym {
  std::string name;
  size_t size;
};
static std::unordered_map<uintptr_t, FuncSym> g_funcs;
static bool g_elf_loaded = false;

// Reads the static symbol table of our own executable: the shared arrays and every function's name.
static void load_elf() {
  if (g_elf_loaded) return;
  g_elf_loaded = true;
  int fd = open("/proc/self/exe", O_RDONLY);
  if (fd < 0) return;
  struct stat st;
  fstat(fd, &st);
  void* m = mmap(nullptr, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (m == MAP_FAILED) return;
  const char* base = static_cast<const char*>(m);
  auto* eh = reinterpret_cast<const Elf64_Ehdr*>(base);
  auto* sh = reinterpret_cast<const Elf64_Shdr*>(base + eh->e_shoff);
  const char* shstr = base + sh[eh->e_shstrndx].sh_offset;
  int shared_idx = -1;
  intptr_t bias = 0;
  for (int i = 0; i < eh->e_shnum; i++)
    if (std::strcmp(shstr + sh[i].sh_name, "fml_sim_shared") == 0) {
      shared_idx = i;
      bias = (intptr_t)__start_fml_sim_shared - (intptr_t)sh[i].sh_addr;
    }
  if (shared_idx < 0) {  // no static shared arrays: derive the load bias from a function of ours
    for (int i = 0; i < eh->e_shnum; i++)
      if (std::strcmp(shstr + sh[i].sh_name, ".text") == 0) bias = 0;
  }
  for (int i = 0; i < eh->e_shnum; i++) {
    if (sh[i].sh_type != SHT_SYMTAB) continue;
    auto* syms = reinterpret_cast<const Elf64_Sym*>(base + sh[i].sh_offset);
    const char* names = base + sh[sh[i].sh_link].sh_offset;
    const size_t n = sh[i].sh_size / sizeof(Elf64_Sym);
    // a function of known address gives the bias when there is no shared section
    for (size_t j = 0; j < n; j++) {
      const Elf64_Sym& s = syms[j];
      if (shared_idx < 0 && ELF64_ST_TYPE(s.st_info) == STT_FUNC &&
          std::strcmp(names + s.st_name, "_ZN7fml_sim12take_reportsEv") == 0)
        bias = (intptr_t)(void*)&take_reports - (intptr_t)s.st_value;
    }
    for (size_t j = 0; j < n; j++) {
      const Elf64_Sym& s = syms[j];
      if (ELF64_ST_TYPE(s.st_info) == STT_OBJECT && (int)s.st_shndx == shared_idx && s.st_size > 0)
        g_arrays.push_back({(uintptr_t)(s.st_value + bias), (uintptr_t)(s.st_value + bias + s.st_size), names + s.st_name});
      else if (ELF64_ST_TYPE(s.st_info) == STT_FUNC && s.st_value)
        g_funcs[(uintptr_t)(s.st_value + bias)] = {names + s.st_name, s.st_size};
    }
  }
  std::sort(g_arrays.begin(), g_arrays.end(), [](const SharedArray& a, const SharedArray& b) { return a.lo < b.lo; });
  munmap(m, st.st_size);
}

struct SByte {
  uint32_t init_block, w_epoch, r_epoch, w_stamp, r_stamp, r_warps;
  uint16_t w_tid, r_tid;
};
static std::vector<SByte> g_shadow_static, g_shadow_dyn;
// g_epoch grows at every block start and every barrier, over all launches: an access's epoch tells whether it
// came from an earlier launch (< g_launch_epoch0), another block of this launch (< g_block_epoch0) or this
// block's current phase (== g_epoch).
static uint32_t g_block_serial = 0, g_epoch = 0, g_stamp = 0, g_launch_epoch0 = 0, g_block_epoch0 = 0;
static std::vector<uint32_t> g_warp_stamp;  // per warp: the stamp of its last completed warp-level sync

static inline bool in_static_shared(uintptr_t a) {
  return __start_fml_sim_shared && a >= (uintptr_t)__start_fml_sim_shared && a < (uintptr_t)__stop_fml_sim_shared;
}
static inline bool in_dyn_shared(uintptr_t a) { return a - (uintptr_t)g_dyn < kDynBytes; }

static std::string g_pending_init;  // a deferred initcheck report

// Makes the deferred initcheck report, if any; false when there was one.
static bool flush_pending_init() {
  if (g_pending_init.empty()) return true;
  g_reports.push_back({Check::Initcheck, g_pending_init});
  if (std::getenv("FML_SIM_VERBOSE")) std::fprintf(stderr, "========= [initcheck] %s\n", g_pending_init.c_str());
  g_last_error = cudaErrorLaunchFailure;
  g_pending_init.clear();
  return false;
}

// ---------------------------------------------------------------------------------------------------
// Fibres and the block scheduler

enum class TState { New, Runnable, AtBarrier, AtWarp, Exited };
struct Thread {
  Coords c;
  int tid = 0;  // linear index in the block
  TState state = TState::New;
  ucontext_t ctx;
  char* stack = nullptr;
  // barrier / warp op being waited at
  const char* file = nullptr;
  int line = 0;
  WarpOp op = WarpOp::Sync;
  unsigned mask = 0;
  uint64_t bits = 0, result = 0;
  int arg = 0, width = 32;
};

static constexpr size_t kStackBytes = 128 * 1024;
static std::vector<char*> g_free_stacks;
static ucontext_t g_sched_ctx;
static std::vector<Thread> g_threads;
static bool g_aborted = false;
static void (*g_body)(void*) = nullptr;
static void* g_body_ctx = nullptr;
static Thread* g_starting = nullptr;

static char* get_stack() {
  if (!g_free_stacks.empty()) {
    char* s = g_free_stacks.back();
    g_free_stacks.pop_back();
    return s;
  }
  const size_t page = 4096;
  void* m = mmap(nullptr, kStackBytes + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) {
    std::fprintf(stderr, "cuda_sim: out of memory for fibre stacks\n");
    std::abort();
  }
  mprotect(m, page, PROT_NONE);  // guard page below the stack
  return static_cast<char*>(m) + page;
}

static void fibre_main() {
  Thread* t = g_starting;
  g_body(g_body_ctx);
  t->state = TState::Exited;
  // returning resumes uc_link (the scheduler)
}

static void switch_to(Thread& t) {
  if (t.state == TState::New) {
    t.stack = get_stack();
    getcontext(&t.ctx);
    t.ctx.uc_stack.ss_sp = t.stack;
    t.ctx.uc_stack.ss_size = kStackBytes;
    t.ctx.uc_link = &g_sched_ctx;
    makecontext(&t.ctx, fibre_main, 0);
    g_starting = &t;
  }
  t.state = TState::Runnable;
  g_running = &t;
  g_coords = &t.c;
  swapcontext(&g_sched_ctx, &t.ctx);
  g_running = nullptr;
  g_coords = nullptr;
  if (t.state == TState::Exited && t.stack) {
    g_free_stacks.push_back(t.stack);
    t.stack = nullptr;
  }
}

// From a fibre: back to the scheduler until it resumes us.
static void yield_to_scheduler() {
  Thread* t = g_running;
  Coords* c = g_coords;
  swapcontext(&t->ctx, &g_sched_ctx);
  g_running = t;
  g_coords = c;
}

static void abort_running() {
  g_aborted = true;
  Thread* t = g_running;
  swapcontext(&t->ctx, &g_sched_ctx);  // never resumed
}

static std::string site(const char* file, int line) {
  const char* s = std::strrchr(file, '/');
  return std::string(s ? s + 1 : file) + ":" + std::to_string(line);
}

void sync_threads(const char* file, int line) {
  if (!g_running) return;
  g_running->state = TState::AtBarrier;
  g_running->file = file;
  g_running->line = line;
  yield_to_scheduler();
}

uint64_t warp_op(WarpOp op, unsigned mask, uint64_t bits, int arg, int width, const char* file, int line) {
  if (!g_running) return bits;
  Thread* t = g_running;
  t->state = TState::AtWarp;
  t->op = op;
  t->mask = mask;
  t->bits = bits;
  t->arg = arg;
  t->width = width;
  t->file = file;
  t->line = line;
  yield_to_scheduler();
  return t->result;
}

void* dynamic_shared() { return g_dyn; }

static const char* op_name(WarpOp op) {
  static const char* n[] = {"__shfl_sync", "__shfl_up_sync", "__shfl_down_sync", "__shfl_xor_sync",
                            "__ballot_sync", "__any_sync", "__all_sync", "__syncwarp"};
  return n[(int)op];
}

// Completes the warp primitives the lanes of one warp wait at; false after a synccheck report.
static bool resolve_warp(int w, int nthreads) {
  const int first = w * 32, lanes = std::min(32, nthreads - first);
  Thread* L = &g_threads[first];
  unsigned waiting = 0;
  for (int l = 0; l < lanes; l++)
    if (L[l].state == TState::AtWarp) waiting |= 1u << l;
  if (!waiting) return true;
  unsigned done = 0;
  for (int l = 0; l < lanes; l++) {
    if (!(waiting >> l & 1) || (done >> l & 1)) continue;
    Thread& t = L[l];
    g_coords = &t.c;
    const unsigned m = t.mask;
    const std::string at = site(t.file, t.line);
    if (!(m >> l & 1)) {
      report(Check::Synccheck, cudaErrorLaunchFailure, "%s at %s: mask 0x%08x does not name the calling lane %d",
             op_name(t.op), at.c_str(), m, l);
      return false;
    }
    for (int j = 0; j < 32; j++) {
      if (!(m >> j & 1)) continue;
      if (j >= lanes) {
        report(Check::Synccheck, cudaErrorLaunchFailure, "%s at %s: mask 0x%08x names lane %d, which does not exist (block of %d threads)",
               op_name(t.op), at.c_str(), m, j, nthreads);
        return false;
      }
      Thread& o = L[j];
      if (o.state != TState::AtWarp) {
        report(Check::Synccheck, cudaErrorLaunchFailure, "%s at %s: mask 0x%08x names lane %d, which %s", op_name(t.op), at.c_str(),
               m, j, o.state == TState::Exited ? "has exited" : "waits at __syncthreads() instead");
        return false;
      }
      if (o.mask != m || o.op != t.op) {
        report(Check::Synccheck, cudaErrorLaunchFailure, "%s at %s with mask 0x%08x meets lane %d in %s at %s with mask 0x%08x",
               op_name(t.op), at.c_str(), m, j, op_name(o.op), site(o.file, o.line).c_str(), o.mask);
        return false;
      }
    }
    // every lane of the group has arrived with the same op and mask: compute
    unsigned ballot = 0;
    for (int j = 0; j < lanes; j++)
      if ((m >> j & 1) && L[j].bits) ballot |= 1u << j;
    for (int j = 0; j < lanes; j++) {
      if (!(m >> j & 1)) continue;
      Thread& x = L[j];
      const int wd = x.width;
      if (wd <= 0 || wd > 32 || (wd & (wd - 1))) {
        g_coords = &x.c;
        report(Check::Synccheck, cudaErrorLaunchFailure, "%s: width %d is not a power of two up to 32", op_name(x.op), wd);
        return false;
      }
      const int seg = j & ~(wd - 1), in = j & (wd - 1);
      int src = j;
      switch (x.op) {
        case WarpOp::Idx: src = seg + (x.arg & (wd - 1)); break;
        case WarpOp::Up: src = in < x.arg ? j : j - x.arg; break;
        case WarpOp::Down: src = in + x.arg >= wd ? j : j + x.arg; break;
        case WarpOp::Xor: {
          const int s = j ^ x.arg;
          src = (s < seg || s >= seg + wd) ? j : s;
          break;
        }
        default: break;
      }
      switch (x.op) {
        case WarpOp::Ballot: x.result = ballot; break;
        case WarpOp::Any: x.result = ballot != 0; break;
        case WarpOp::All: x.result = ballot == m; break;
        case WarpOp::Sync: x.result = 0; break;
        default:
          if (src >= lanes || !(m >> src & 1)) {
            g_coords = &x.c;
            report(Check::Synccheck, cudaErrorLaunchFailure, "%s at %s: lane %d reads lane %d, which is not in the mask 0x%08x (undefined value)",
                   op_name(x.op), site(x.file, x.line).c_str(), j, src, m);
            return false;
          }
          x.result = L[src].bits;
      }
    }
    for (int j = 0; j < lanes; j++)
      if (m >> j & 1) L[j].state = TState::Runnable;
    done |= m;
    g_warp_stamp[w] = ++g_stamp;
  }
  g_coords = nullptr;
  return true;
}

// Runs one block to completion; false when the launch must stop (a report was made).
static bool run_block(int nthreads, uint3 block) {
  g_block_serial++;
  g_block_epoch0 = ++g_epoch;
  for (int i = 0; i < nthreads; i++) {
    g_threads[i].state = TState::New;
    g_threads[i].c.block = block;
  }
  std::fill(g_warp_stamp.begin(), g_warp_stamp.end(), 0);
  for (;;) {
    for (int i = 0; i < nthreads; i++) {
      Thread& t = g_threads[i];
      if (t.state == TState::New || t.state == TState::Runnable) {
        switch_to(t);
        if (g_aborted) return false;
      }
    }
    int exited = 0, at_barrier = 0, at_warp = 0;
    for (int i = 0; i < nthreads; i++) {
      exited += g_threads[i].state == TState::Exited;
      at_barrier += g_threads[i].state == TState::AtBarrier;
      at_warp += g_threads[i].state == TState::AtWarp;
    }
    if (exited == nthreads) return flush_pending_init();
    if (at_warp) {
      for (int w = 0; w * 32 < nthreads; w++)
        if (!resolve_warp(w, nthreads)) return false;
      continue;
    }
    // every live thread waits at a barrier
    const Thread* first = nullptr;
    for (int i = 0; i < nthreads; i++) {
      const Thread& t = g_threads[i];
      if (t.state != TState::AtBarrier) continue;
      if (!first) first = &t;
      else if (t.line != first->line || std::strcmp(t.file, first->file) != 0) {
        g_coords = const_cast<Coords*>(&t.c);
        report(Check::Synccheck, cudaErrorLaunchFailure, "divergent __syncthreads(): this thread waits at %s, thread %d at %s",
               site(t.file, t.line).c_str(), first->tid, site(first->file, first->line).c_str());
        g_coords = nullptr;
        return false;
      }
    }
    if (exited) {
      for (int i = 0; i < nthreads; i++)
        if (g_threads[i].state == TState::Exited) {
          g_coords = &g_threads[i].c;
          report(Check::Synccheck, cudaErrorLaunchFailure, "this thread exited while %d threads of its block wait at __syncthreads() (%s)",
                 at_barrier, site(first->file, first->line).c_str());
          g_coords = nullptr;
          return false;
        }
    }
    if (!flush_pending_init()) return false;
    g_epoch++;
    for (int i = 0; i < nthreads; i++) g_threads[i].state = TState::Runnable;
  }
}

// ---------------------------------------------------------------------------------------------------
// The checks every instrumented load and store goes through

static inline uint32_t warp_stamp_of(int tid) { return g_warp_stamp[tid >> 5]; }
// Was an access by thread `prev` (warp stamp `stamp` at the time) ordered before now for thread `cur`?
static inline bool ordered(int prev, uint32_t stamp, int cur) {
  return prev == cur || ((prev >> 5) == (cur >> 5) && g_warp_stamp[cur >> 5] > stamp);
}

static void shared_access(uintptr_t a, size_t n, bool write) {
  SByte* sh;
  if (in_dyn_shared(a)) {
    if (a + n > (uintptr_t)g_dyn + g_launch.smem) {
      report(Check::Memcheck, cudaErrorIllegalAddress,
             "Invalid __shared__ %s of size %zu: %zd bytes past the end of the %zu bytes of dynamic shared memory",
             write ? "write" : "read", n, (ssize_t)(a + n - (uintptr_t)g_dyn - g_launch.smem), g_launch.smem);
      return;
    }
    sh = &g_shadow_dyn[a - (uintptr_t)g_dyn];
  } else {
    auto it = std::upper_bound(g_arrays.begin(), g_arrays.end(), a,
                               [](uintptr_t x, const SharedArray& s) { return x < s.lo; });
    const SharedArray* arr = it == g_arrays.begin() ? nullptr : &*(it - 1);
    if (!arr || a + n > arr->hi) {
      report(Check::Memcheck, cudaErrorIllegalAddress, "Invalid __shared__ %s of size %zu: %s", write ? "write" : "read", n,
             arr ? (std::to_string(a + n - arr->hi) + " bytes past the end of " + demangle(arr->symbol) + " (" +
                    std::to_string(arr->hi - arr->lo) + " bytes)").c_str()
                 : "outside every __shared__ array");
      return;
    }
    if (arr->owner >= 0 && arr->owner != g_launch.id) {
      report(Check::Memcheck, cudaErrorIllegalAddress, "Invalid __shared__ %s of size %zu: lands in %s, which belongs to another kernel",
             write ? "write" : "read", n, demangle(arr->symbol).c_str());
      return;
    }
    sh = &g_shadow_static[a - (uintptr_t)__start_fml_sim_shared];
  }
  if (a % n != 0 && (n == 2 || n == 4 || n == 8 || n == 16)) {
    report(Check::Memcheck, cudaErrorMisalignedAddress, "Misaligned __shared__ %s of size %zu", write ? "write" : "read", n);
    return;
  }
  const int t = g_running->tid;
  const uint32_t E = g_epoch;
  for (size_t i = 0; i < n; i++) {
    SByte& b = sh[i];
    if (b.w_epoch == E && !ordered(b.w_tid, b.w_stamp, t)) {
      report(Check::Racecheck, cudaErrorLaunchFailure,
             "__shared__ %s-after-write hazard at byte %zu of the access: thread %d wrote it since the last barrier",
             write ? "write" : "read", i, (int)b.w_tid);
      return;
    }
    if (write) {
      if (b.r_epoch == E && ((b.r_warps & ~(1u << (t >> 5))) || !ordered(b.r_tid, b.r_stamp, t))) {
        report(Check::Racecheck, cudaErrorLaunchFailure,
               "__shared__ write-after-read hazard: thread %d (or another warp) read this byte since the last barrier",
               (int)b.r_tid);
        return;
      }
      b.w_epoch = E;
      b.w_tid = (uint16_t)t;
      b.w_stamp = warp_stamp_of(t);
      b.init_block = g_block_serial;
    } else {
      if (b.init_block != g_block_serial && g_pending_init.empty()) {
        // reported at the next barrier or the block's end, unless another thread writes the byte before:
        // then it was a read-before-write race (racecheck names it better)
        g_pending_init = "Uninitialized __shared__ memory read of size " + std::to_string(n) + " " + where();
      }
      if (b.r_epoch != E) b.r_warps = 0;
      b.r_epoch = E;
      b.r_tid = (uint16_t)t;
      b.r_stamp = warp_stamp_of(t);
      b.r_warps |= 1u << (t >> 5);
    }
  }
}

// Racecheck on global memory: blocks of one launch are unordered, threads of a block are ordered by
// barriers (and lanes of a warp by warp-level syncs). Atomics never race. False after a report.
static bool global_race(uintptr_t a, size_t n, bool write) {
  auto it = g_allocs.upper_bound(a);
  Alloc& al = (--it)->second;
  if (!al.race) {
    al.race.reset(static_cast<GByte*>(std::calloc(std::max<size_t>(al.size, 1), sizeof(GByte))));
    if (!al.race) {
      std::fprintf(stderr, "cuda_sim: out of memory for the race shadow of %zu bytes\n", al.size);
      std::abort();
    }
  }
  GByte* g = al.race.get() + (a - it->first);
  const int t = g_running->tid;
  const uint32_t E = g_epoch;
  for (size_t i = 0; i < n; i++) {
    GByte& b = g[i];
    if (b.w_epoch >= g_launch_epoch0 &&
        (b.w_epoch < g_block_epoch0 || (b.w_epoch == E && !ordered(b.w_tid, b.w_stamp, t)))) {
      report(Check::Racecheck, cudaErrorLaunchFailure,
             "__global__ %s-after-write hazard: %s wrote this byte in this launch without an atomic or a barrier between",
             write ? "write" : "read", b.w_epoch < g_block_epoch0 ? "another block" : ("thread " + std::to_string(b.w_tid)).c_str());
      return false;
    }
    if (write) {
      if (b.r_epoch >= g_launch_epoch0 &&
          (b.r_epoch < g_block_epoch0 ||
           (b.r_epoch == E && ((b.r_warps & ~(1u << (t >> 5))) || !ordered(b.r_tid, b.r_stamp, t))))) {
        report(Check::Racecheck, cudaErrorLaunchFailure,
               "__global__ write-after-read hazard: %s read this byte in this launch without a barrier between",
               b.r_epoch < g_block_epoch0 ? "another block" : "another thread");
        return false;
      }
      b.w_epoch = E;
      b.w_tid = (uint16_t)t;
      b.w_stamp = warp_stamp_of(t);
    } else {
      if (b.r_epoch != E) b.r_warps = 0;
      b.r_epoch = E;
      b.r_tid = (uint16_t)t;
      b.r_stamp = warp_stamp_of(t);
      b.r_warps |= 1u << (t >> 5);
    }
  }
  return true;
}

static void global_access(uintptr_t a, size_t n, bool write, bool atomic) {
  const char* what = atomic ? "atomic" : write ? "write" : "read";
  if (!g_running) {
    report(Check::Memcheck, cudaErrorIllegalAddress, "Host code dereferenced device memory (%s of size %zu)", what, n);
    return;
  }
  if (!check_global_range(a, n, what)) return;
  if (a % n != 0 && (n == 2 || n == 4 || n == 8 || n == 16)) {
    report(Check::Memcheck, cudaErrorMisalignedAddress, "Misaligned __global__ %s of size %zu", what, n);
    return;
  }
  if (!atomic && !global_race(a, n, write)) return;
  unsigned char* s = g_arena_init + (a - (uintptr_t)g_arena);
  if (write && !atomic) {
    std::memset(s, 1, n);
    return;
  }
  for (size_t i = 0; i < n; i++)
    if (!s[i]) {
      report(Check::Initcheck, cudaErrorLaunchFailure, "Uninitialized __global__ memory %s of size %zu (%zu bytes into its allocation)",
             what, n, (size_t)(a - find_alloc(a)->first));
      return;
    }
  if (atomic) std::memset(s, 1, n);
}

static inline void access(const void* p, size_t n, bool write) {
  const uintptr_t a = (uintptr_t)p;
  if (in_arena(a)) global_access(a, n, write, false);
  else if (a < 65536 && g_running)  // reported before the access would crash the test binary
    report(Check::Memcheck, cudaErrorIllegalAddress, "Invalid %s of size %zu at 0x%zx: a null pointer plus an offset",
           write ? "write" : "read", n, (size_t)a);
  else if (g_running && (in_dyn_shared(a) || in_static_shared(a))) shared_access(a, n, write);
}

void check_vector_access(const void* p, size_t align, const char* type) {
  const uintptr_t a = (uintptr_t)p;
  if (a % align == 0 || !(in_arena(a) || in_dyn_shared(a) || in_static_shared(a))) return;
  report(Check::Memcheck, cudaErrorMisalignedAddress, "Misaligned %s access (address %% %zu = %zu)", type, align,
         (size_t)(a % align));
}

// Atomics are never a race; they are bounds-checked and count as initialising writes.
static void access_atomic(const void* p, size_t n) {
  const uintptr_t a = (uintptr_t)p;
  if (in_arena(a)) global_access(a, n, true, true);
  else if (g_running && in_dyn_shared(a) && a + n > (uintptr_t)g_dyn + g_launch.smem)
    report(Check::Memcheck, cudaErrorIllegalAddress, "Invalid __shared__ atomic of size %zu past the dynamic shared memory", n);
}

template <class T, class F>
static T atomic_rmw(T* p, F f) {
  access_atomic(p, sizeof(T));
  T old = *p;
  *p = f(old);
  return old;
}

// ---------------------------------------------------------------------------------------------------
// Kernels: ids, attributes, the launch

struct KernelInfo {
  int id;
  std::string name;
  size_t static_smem = 0, max_dynamic = dev::kSmemPerBlock;
};
static std::unordered_map<const void*, KernelInfo> g_kernels;

static KernelInfo& kernel_info(const void* fn) {
  auto it = g_kernels.find(fn);
  if (it != g_kernels.end()) return it->second;
  load_elf();
  KernelInfo k;
  k.id = (int)g_kernels.size();
  auto f = g_funcs.find((uintptr_t)fn);
  const std::string mangled = f != g_funcs.end() ? f->second.name : "";
  k.name = mangled.empty() ? "<kernel>" : demangle(mangled);
  // its static __shared__ arrays: _ZZ<its mangled name without _Z>E...
  if (mangled.size() > 2) {
    const std::string prefix = "_ZZ" + mangled.substr(2) + "E";
    for (SharedArray& a : g_arrays)
      if (a.symbol.compare(0, prefix.size(), prefix) == 0) {
        a.owner = k.id;
        k.static_smem += a.hi - a.lo;
      }
  }
  return g_kernels.emplace(fn, k).first->second;
}

cudaError_t func_set_attribute(const void* kernel, cudaFuncAttribute attr, int value) {
  KernelInfo& k = kernel_info(kernel);
  if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize || value < 0 ||
      (size_t)value + k.static_smem > dev::kSmemPerBlockOptin)
    return g_last_error = cudaErrorInvalidValue;
  k.max_dynamic = (size_t)value;
  return cudaSuccess;
}

cudaError_t occupancy(int* blocks, const void* kernel, int threads, size_t dynamic_smem) {
  KernelInfo& k = kernel_info(kernel);
  if (threads <= 0 || threads > dev::kMaxThreadsPerBlock) return g_last_error = cudaErrorInvalidValue;
  const int warps = (threads + 31) / 32;
  int b = std::min(dev::kMaxBlocksPerSM, dev::kMaxThreadsPerSM / (warps * 32));
  const size_t smem = k.static_smem + dynamic_smem + dev::kSmemReservedPerBlock;
  b = std::min<int>(b, (int)(dev::kSmemPerSM / smem));
  *blocks = b;  // registers are not modelled
  return cudaSuccess;
}

void run_kernel(const void* kernel, const char* name, dim3 grid, dim3 block, size_t smem, cudaStream_t,
                void (*body)(void*), void* ctx) {
  arena_setup();
  load_elf();
  KernelInfo& k = kernel_info(kernel);
  g_launch.kernel = k.name == "<kernel>" ? name : k.name;
  g_launch.fn = kernel;
  g_launch.grid = grid;
  g_launch.block = block;
  g_launch.smem = smem;
  g_launch.id = k.id;
  const uint64_t nthreads = (uint64_t)block.x * block.y * block.z;
  if (!block.x || !block.y || !block.z || block.x > 1024 || block.y > 1024 || block.z > 64 ||
      nthreads > (uint64_t)dev::kMaxThreadsPerBlock) {
    report(Check::Launch, cudaErrorInvalidConfiguration, "launch of %s: block (%u,%u,%u) exceeds the device limits (1024 threads)",
           g_launch.kernel.c_str(), block.x, block.y, block.z);
    return;
  }
  if (!grid.x || !grid.y || !grid.z || grid.x > 2147483647u || grid.y > 65535 || grid.z > 65535) {
    report(Check::Launch, cudaErrorInvalidConfiguration, "launch of %s: grid (%u,%u,%u) exceeds the device limits",
           g_launch.kernel.c_str(), grid.x, grid.y, grid.z);
    return;
  }
  if (smem > k.max_dynamic || smem + k.static_smem > dev::kSmemPerBlockOptin) {
    report(Check::Launch, cudaErrorInvalidValue,
           "launch of %s: %zu bytes of dynamic shared memory (+%zu static) exceed the kernel's limit of %zu",
           g_launch.kernel.c_str(), smem, k.static_smem, k.max_dynamic);
    return;
  }
  if (g_shadow_static.empty()) {
    g_shadow_static.assign(__start_fml_sim_shared ? __stop_fml_sim_shared - __start_fml_sim_shared : 0, SByte{});
    g_shadow_dyn.assign(kDynBytes, SByte{});
  }
  if (g_threads.size() < nthreads) g_threads.resize(nthreads);
  g_warp_stamp.assign((nthreads + 31) / 32, 0);
  for (uint64_t i = 0; i < nthreads; i++) {
    Thread& t = g_threads[i];
    t.tid = (int)i;
    t.c.thread = uint3{(unsigned)(i % block.x), (unsigned)(i / block.x % block.y), (unsigned)(i / ((uint64_t)block.x * block.y))};
    t.c.block_dim = block;
    t.c.grid_dim = grid;
  }
  g_body = body;
  g_body_ctx = ctx;
  g_aborted = false;
  g_pending_init.clear();
  g_launch_epoch0 = g_epoch + 1;
  for (unsigned z = 0; z < grid.z; z++)
    for (unsigned y = 0; y < grid.y; y++)
      for (unsigned x = 0; x < grid.x; x++)
        if (!run_block((int)nthreads, uint3{x, y, z})) {
          for (uint64_t i = 0; i < nthreads; i++)  // abandoned fibres: their stacks go back to the pool
            if (g_threads[i].stack) {
              g_free_stacks.push_back(g_threads[i].stack);
              g_threads[i].stack = nullptr;
            }
          return;
        }
}

}  // namespace fml_sim

// ---------------------------------------------------------------------------------------------------
// Atomics

using fml_sim::atomic_rmw;
float atomicAdd(float* p, float v) { return atomic_rmw(p, [v](float o) { return o + v; }); }
double atomicAdd(double* p, double v) { return atomic_rmw(p, [v](double o) { return o + v; }); }
int atomicAdd(int* p, int v) { return atomic_rmw(p, [v](int o) { return (int)((unsigned)o + (unsigned)v); }); }
unsigned atomicAdd(unsigned* p, unsigned v) { return atomic_rmw(p, [v](unsigned o) { return o + v; }); }
unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
  return atomic_rmw(p, [v](unsigned long long o) { return o + v; });
}
int atomicMax(int* p, int v) { return atomic_rmw(p, [v](int o) { return std::max(o, v); }); }
int atomicMin(int* p, int v) { return atomic_rmw(p, [v](int o) { return std::min(o, v); }); }
long long atomicMin(long long* p, long long v) { return atomic_rmw(p, [v](long long o) { return std::min(o, v); }); }
long long atomicMax(long long* p, long long v) { return atomic_rmw(p, [v](long long o) { return std::max(o, v); }); }
int atomicCAS(int* p, int e, int d) { return atomic_rmw(p, [e, d](int o) { return o == e ? d : o; }); }
unsigned long long atomicCAS(unsigned long long* p, unsigned long long e, unsigned long long d) {
  return atomic_rmw(p, [e, d](unsigned long long o) { return o == e ? d : o; });
}
int atomicExch(int* p, int v) { return atomic_rmw(p, [v](int) { return v; }); }
float atomicExch(float* p, float v) { return atomic_rmw(p, [v](float) { return v; }); }

// ---------------------------------------------------------------------------------------------------
// The runtime API

using namespace fml_sim;

static cudaError_t set_error(cudaError_t e) {
  if (e != cudaSuccess) g_last_error = e;
  return e;
}

cudaError_t cudaMalloc(void** p, size_t bytes) {
  arena_setup();
  if (!p) return set_error(cudaErrorInvalidValue);
  const size_t span = (std::max<size_t>(bytes, 1) + kRedZone + kAlign - 1) / kAlign * kAlign;
  if (g_arena_top + span > kArenaBytes) return set_error(cudaErrorMemoryAllocation);
  char* a = g_arena + g_arena_top;
  g_arena_top += span;
  g_allocs[(uintptr_t)a] = Alloc{bytes, true, {nullptr, std::free}};
  *p = a;
  return cudaSuccess;
}
cudaError_t cudaMallocAsync(void** p, size_t bytes, cudaStream_t) { return cudaMalloc(p, bytes); }

cudaError_t cudaFree(void* p) {
  if (!p) return cudaSuccess;
  auto it = g_allocs.find((uintptr_t)p);
  if (it == g_allocs.end() || !it->second.live) {
    report(Check::Memcheck, cudaErrorInvalidDevicePointer, "cudaFree of a pointer that is not a live allocation");
    return cudaErrorInvalidDevicePointer;
  }
  it->second.live = false;
  it->second.race.reset();
  // give the pages back (the address range is never reused, so a use after free is still reported)
  const uintptr_t lo = ((uintptr_t)p + 4095) / 4096 * 4096, hi = ((uintptr_t)p + it->second.size) / 4096 * 4096;
  if (hi > lo) {
    madvise((void*)lo, hi - lo, MADV_DONTNEED);
    madvise(g_arena_init + (lo - (uintptr_t)g_arena), hi - lo, MADV_DONTNEED);
  }
  return cudaSuccess;
}
cudaError_t cudaFreeAsync(void* p, cudaStream_t) { return cudaFree(p); }

// A host-side range into device memory: must be inside one live allocation.
static bool host_range_ok(const void* p, size_t n) {
  const uintptr_t a = (uintptr_t)p;
  auto* al = find_alloc(a);
  return al && al->second.live && a >= al->first && a + n <= al->first + al->second.size;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
  arena_setup();
  if (bytes == 0) return cudaSuccess;
  const bool dd = in_arena((uintptr_t)dst), sd = in_arena((uintptr_t)src);
  const bool want_dd = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool want_sd = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if (kind != cudaMemcpyDefault && (dd != want_dd || sd != want_sd)) return set_error(cudaErrorInvalidValue);
  if ((dd && !host_range_ok(dst, bytes)) || (sd && !host_range_ok(src, bytes))) {
    report(Check::Memcheck, cudaErrorInvalidValue, "cudaMemcpy of %zu bytes outside a live allocation", bytes);
    return cudaErrorInvalidValue;
  }
  std::memmove(dst, src, bytes);
  if (dd) {
    unsigned char* s = g_arena_init + ((uintptr_t)dst - (uintptr_t)g_arena);
    if (sd) std::memmove(s, g_arena_init + ((uintptr_t)src - (uintptr_t)g_arena), bytes);
    else std::memset(s, 1, bytes);
  }
  return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t) {
  return cudaMemcpy(dst, src, bytes, kind);
}
cudaError_t cudaMemset(void* p, int value, size_t bytes) {
  arena_setup();
  if (bytes == 0) return cudaSuccess;
  if (!host_range_ok(p, bytes)) {
    report(Check::Memcheck, cudaErrorInvalidValue, "cudaMemset of %zu bytes outside a live allocation", bytes);
    return cudaErrorInvalidValue;
  }
  std::memset(p, value, bytes);
  std::memset(g_arena_init + ((uintptr_t)p - (uintptr_t)g_arena), 1, bytes);
  return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t) { return cudaMemset(p, value, bytes); }
cudaError_t cudaMemGetInfo(size_t* f, size_t* t) {
  *t = dev::kGlobalMem;
  *f = dev::kGlobalMem - std::min<size_t>(g_arena_top, dev::kGlobalMem);
  return cudaSuccess;
}

// Streams and events: every call is synchronous, so a stream is a tag and an event a host time stamp.
struct CUstream_st {};
struct CUevent_st {
  std::chrono::steady_clock::time_point t;
};
cudaError_t cudaStreamCreate(cudaStream_t* s) {
  *s = new CUstream_st;
  return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t s) {
  delete s;
  return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
cudaError_t cudaEventCreate(cudaEvent_t* e) {
  *e = new CUevent_st;
  return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t e) {
  delete e;
  return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t) {
  e->t = std::chrono::steady_clock::now();
  return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t a, cudaEvent_t b) {
  *ms = std::chrono::duration<float, std::milli>(b->t - a->t).count();
  return cudaSuccess;
}

cudaError_t cudaGetLastError() {
  cudaError_t e = g_last_error;
  g_last_error = cudaSuccess;
  return e;
}
cudaError_t cudaPeekAtLastError() { return g_last_error; }
const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidDevicePointer: return "cudaErrorInvalidDevicePointer";
    case cudaErrorIllegalAddress: return "cudaErrorIllegalAddress";
    case cudaErrorMisalignedAddress: return "cudaErrorMisalignedAddress";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    default: return "cudaErrorUnknown";
  }
}
const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidDevicePointer: return "invalid device pointer";
    case cudaErrorIllegalAddress: return "an illegal memory access was encountered";
    case cudaErrorMisalignedAddress: return "misaligned address";
    case cudaErrorLaunchFailure: return "unspecified launch failure";
    default: return "unknown error";
  }
}
cudaError_t cudaGetDeviceCount(int* n) {
  *n = 1;
  return cudaSuccess;
}
cudaError_t cudaGetDevice(int* d) {
  *d = 0;
  return cudaSuccess;
}
cudaError_t cudaSetDevice(int d) { return d == 0 ? cudaSuccess : set_error(cudaErrorInvalidDevice); }
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int d) {
  if (d != 0) return set_error(cudaErrorInvalidDevice);
  *p = cudaDeviceProp{};
  std::snprintf(p->name, sizeof p->name, "simulated NVIDIA H100 (fused-multilabel cuda_sim)");
  p->totalGlobalMem = dev::kGlobalMem;
  p->sharedMemPerBlock = dev::kSmemPerBlock;
  p->sharedMemPerMultiprocessor = dev::kSmemPerSM;
  p->sharedMemPerBlockOptin = dev::kSmemPerBlockOptin;
  p->warpSize = 32;
  p->maxThreadsPerBlock = dev::kMaxThreadsPerBlock;
  p->maxThreadsDim[0] = p->maxThreadsDim[1] = 1024;
  p->maxThreadsDim[2] = 64;
  p->maxGridSize[0] = 2147483647;
  p->maxGridSize[1] = p->maxGridSize[2] = 65535;
  p->major = 9;
  p->minor = 0;
  p->multiProcessorCount = dev::kSMs;
  p->maxThreadsPerMultiProcessor = dev::kMaxThreadsPerSM;
  p->maxBlocksPerMultiProcessor = dev::kMaxBlocksPerSM;
  p->regsPerBlock = 65536;
  p->l2CacheSize = 50 * 1024 * 1024;
  return cudaSuccess;
}
cudaError_t cudaDeviceGetAttribute(int* v, cudaDeviceAttr a, int d) {
  if (d != 0) return set_error(cudaErrorInvalidDevice);
  switch (a) {
    case cudaDevAttrMaxThreadsPerBlock: *v = dev::kMaxThreadsPerBlock; break;
    case cudaDevAttrMaxSharedMemoryPerBlock: *v = (int)dev::kSmemPerBlock; break;
    case cudaDevAttrWarpSize: *v = 32; break;
    case cudaDevAttrMultiProcessorCount: *v = dev::kSMs; break;
    case cudaDevAttrMaxThreadsPerMultiProcessor: *v = dev::kMaxThreadsPerSM; break;
    case cudaDevAttrComputeCapabilityMajor: *v = 9; break;
    case cudaDevAttrComputeCapabilityMinor: *v = 0; break;
    case cudaDevAttrMaxSharedMemoryPerMultiprocessor: *v = (int)dev::kSmemPerSM; break;
    case cudaDevAttrMaxSharedMemoryPerBlockOptin: *v = (int)dev::kSmemPerBlockOptin; break;
    default: return set_error(cudaErrorInvalidValue);
  }
  return cudaSuccess;
}
cudaError_t cudaRuntimeGetVersion(int* v) {
  *v = 13000;
  return cudaSuccess;
}
cudaError_t cudaDriverGetVersion(int* v) {
  *v = 13000;
  return cudaSuccess;
}

// ---------------------------------------------------------------------------------------------------
// The instrumentation hooks: the kernel translation units are compiled with -fsanitize=thread and linked
// against these instead of the TSan runtime.
extern "C" {
void __tsan_init() {}
void __tsan_func_entry(void*) {}
void __tsan_func_exit() {}
#define FML_SIM_HOOK(n)                                                                \
  void __tsan_read##n(void* p) { fml_sim::access(p, n, false); }                       \
  void __tsan_write##n(void* p) { fml_sim::access(p, n, true); }                       \
  void __tsan_unaligned_read##n(void* p) { fml_sim::access(p, n, false); }             \
  void __tsan_unaligned_write##n(void* p) { fml_sim::access(p, n, true); }             \
  void __tsan_volatile_read##n(void* p) { fml_sim::access(p, n, false); }              \
  void __tsan_volatile_write##n(void* p) { fml_sim::access(p, n, true); }
FML_SIM_HOOK(1)
FML_SIM_HOOK(2)
FML_SIM_HOOK(4)
FML_SIM_HOOK(8)
FML_SIM_HOOK(16)
#undef FML_SIM_HOOK
void __tsan_read_range(void* p, unsigned long n) { fml_sim::access(p, n, false); }
void __tsan_write_range(void* p, unsigned long n) { fml_sim::access(p, n, true); }
void __tsan_vptr_update(void**, void*) {}
void __tsan_vptr_read(void**) {}
}
