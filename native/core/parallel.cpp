#include "parallel.h"

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include "x86_intrin.h"
#endif

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

const char* threading_backend() { return "thread pool"; }

int64_t parallel_chunks(int64_t n, int64_t grain) {
  if (n <= 0) return 0;
  if (grain < 1) grain = 1;
  int64_t by_grain = (n + grain - 1) / grain;
  int64_t t = num_threads();
  return by_grain < t ? by_grain : t;
}

// ---------------------------------------------------------------------------------------------------
// The pool. A job is published under `m` with a new generation number; each of its `helpers` workers (the
// first ones by index) takes chunks from an atomic counter, then checks in; the caller takes chunks too and
// returns once every helper has checked in, so no worker can still be reading the job when the next one is
// published. Waits spin for a while (consecutive operations of a forward follow each other within
// microseconds) and then sleep on a condition variable. Workers are started on first need, never stopped
// (the process's exit ends them), and the pool object is never destroyed for the same reason.

namespace {

thread_local bool t_in_chunk = false;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// pause instructions before a wait sleeps: 15 µs to 0.2 ms, as the CPU's pause takes 10 to 140 cycles
constexpr int kSpins = 4000;

struct Pool {
  std::mutex busy;  // held by the caller whose job runs
  std::mutex m;
  std::condition_variable job_cv, done_cv;
  int workers = 0;
  std::atomic<uint64_t> gen{0};
  // the job of generation `gen`
  void (*body)(void*, int64_t) = nullptr;
  void* ctx = nullptr;
  int64_t chunks = 0;
  int helpers = 0;
  std::atomic<int64_t> next{0};
  std::atomic<int> checked_in{0};
  std::exception_ptr error;

  // Spins until ready(), then sleeps on cv (notified under m) if it is still false.
  template <class Ready>
  void wait(std::condition_variable& cv, Ready ready) {
    for (int spin = 0; !ready(); spin++) {
      if (spin < kSpins) {
        cpu_relax();
        continue;
      }
      std::unique_lock<std::mutex> lk(m);
      cv.wait(lk, ready);
    }
  }

  void take_chunks() {
    for (int64_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < chunks;) {
      try {
        body(ctx, c);
      } catch (...) {
        std::lock_guard<std::mutex> lk(m);
        if (!error) error = std::current_exception();
      }
    }
  }

  void worker(int index) {
    t_in_chunk = true;
    uint64_t seen = 0;
    for (;;) {
      wait(job_cv, [&] { return gen.load(std::memory_order_acquire) != seen; });
      // The generation and its helper count read together, under the lock that publishes them: a worker
      // that sat out one job must not pair its number with the next job's count.
      int needed;
      {
        std::lock_guard<std::mutex> lk(m);
        seen = gen.load(std::memory_order_relaxed);
        needed = helpers;
      }
      if (index >= needed) continue;  // not needed for this job (fewer chunks than workers)
      take_chunks();
      {
        std::lock_guard<std::mutex> lk(m);
        checked_in.fetch_add(1, std::memory_order_release);
      }
      done_cv.notify_one();
    }
  }

  void run(int64_t n_chunks, void (*fn)(void*, int64_t), void* arg, int want_helpers) {
    {
      std::lock_guard<std::mutex> lk(m);
      while (workers < want_helpers) {
        std::thread(&Pool::worker, this, workers).detach();
        workers++;
      }
      body = fn, ctx = arg, chunks = n_chunks, helpers = want_helpers, error = nullptr;
      next.store(0, std::memory_order_relaxed);
      checked_in.store(0, std::memory_order_relaxed);
      gen.fetch_add(1, std::memory_order_release);
    }
    job_cv.notify_all();
    t_in_chunk = true;
    take_chunks();
    t_in_chunk = false;
    wait(done_cv, [&] { return checked_in.load(std::memory_order_acquire) >= helpers; });
    std::exception_ptr e;
    {
      std::lock_guard<std::mutex> lk(m);
      e = error;
      error = nullptr;
    }
    if (e) std::rethrow_exception(e);
  }
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: its detached workers may outlive static destruction
  return *p;
}

}  // namespace

bool in_parallel() { return t_in_chunk; }

void run_chunks(int64_t chunks, void (*body)(void*, int64_t), void* ctx) {
  Pool& p = pool();
  std::unique_lock<std::mutex> own(p.busy, std::defer_lock);
  if (chunks < 2 || t_in_chunk || !own.try_lock()) {
    for (int64_t c = 0; c < chunks; c++) body(ctx, c);  // the same chunks, on this thread
    return;
  }
  p.run(chunks, body, ctx, (int)(chunks - 1));
}

}  // namespace pkg
