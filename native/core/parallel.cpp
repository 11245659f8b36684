#include "parallel.h"

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <thread>

#ifdef FML_HAVE_OPENBLAS
extern "C" void openblas_set_num_threads(int);
#endif

namespace pkg {

static int initial_threads() {
  if (const char* env = std::getenv("FUSED_MULTILABEL_THREADS")) {
    char* end = nullptr;
    long v = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && v >= 1 && v <= 1024) return (int)v;
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : (int)hw;
}

static std::atomic<int> g_threads{0};
static thread_local int t_cap = 0;  // ScopedThreadCap's limit on this thread (0: none)

int num_threads() {
  int t = g_threads.load(std::memory_order_relaxed);
  if (t == 0) {
    set_num_threads(initial_threads());
    t = g_threads.load(std::memory_order_relaxed);
  }
  return t_cap > 0 && t_cap < t ? t_cap : t;
}

ScopedThreadCap::ScopedThreadCap(int cap) : prev_(t_cap) {
  if (cap < 1) cap = 1;
  t_cap = prev_ > 0 && prev_ < cap ? prev_ : cap;
}
ScopedThreadCap::~ScopedThreadCap() { t_cap = prev_; }

double cpu_seconds(bool whole_process) {
#ifdef __linux__
  timespec t;
  if (clock_gettime(whole_process ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_THREAD_CPUTIME_ID, &t) == 0)
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
#endif
  (void)whole_process;
  return -1.0;
}

void set_num_threads(int n) {
  if (n < 1) n = 1;
  g_threads.store(n, std::memory_order_relaxed);
#ifdef FML_HAVE_OPENBLAS
  openblas_set_num_threads(n);
#endif
}

const char* threading_backend() {
#ifdef FML_HAVE_OPENMP
  return "OpenMP";
#else
  return "serial";
#endif
}

int64_t parallel_chunks(int64_t n, int64_t grain) {
  if (n <= 0) return 0;
  if (grain < 1) grain = 1;
#ifdef FML_HAVE_OPENMP
  int64_t by_grain = (n + grain - 1) / grain;
  int64_t t = num_threads();
  return by_grain < t ? by_grain : t;
#else
  return 1;
#endif
}

}  // namespace pkg
