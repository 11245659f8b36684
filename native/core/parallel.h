// CPU parallelism for the CPU twins: parallel_for over [0, n) in contiguous chunks.
//
// One pool of worker threads per process (parallel.cpp), shared by every caller: the addon's calls run on
// whichever libuv thread picks them up (and the synchronous ones on the main thread), and OpenMP would give
// each of those threads a team of its own whose idle workers spin while another team computes (on 2 cores
// the tiny encoder's forward then took 4 or 8 ms by process, as the teams happened to share a core). The
// thread count comes from set_num_threads(), initialised from FUSED_MULTILABEL_THREADS or the hardware
// count. Chunks are contiguous and at least `grain` long, so a body sees whole rows and can vectorise.
#pragma once

#include <cstdint>

namespace pkg {

int num_threads();                 // threads parallel_for uses now on this thread (>= 1)
void set_num_threads(int n);       // n >= 1; also sets the BLAS library's thread count

// While it lives, num_threads() on the constructing thread reports at most `cap` (work too small to pay
// for waking the other threads runs on the caller alone); other threads are not affected. Nests.
class ScopedThreadCap {
 public:
  explicit ScopedThreadCap(int cap);
  ~ScopedThreadCap();
  ScopedThreadCap(const ScopedThreadCap&) = delete;
  ScopedThreadCap& operator=(const ScopedThreadCap&) = delete;

 private:
  int prev_;
};
const char* threading_backend();   // "OpenMP" or "serial"

// CPU seconds this thread (whole_process false) or this process has run, for benchmarks that must not count
// the time other processes take on shared cores; a negative value where the platform has no such clock
// (only Linux's clock_gettime CPU-time clocks are used).
double cpu_seconds(bool whole_process);

// Number of chunks parallel_for will use for n items with this grain (>= 1 when n > 0).
int64_t parallel_chunks(int64_t n, int64_t grain);

// Whether this thread is running a chunk of a parallel_for (a nested parallel_for runs its chunks inline).
bool in_parallel();

// Runs body(ctx, c) for c in [0, chunks) on the pool's workers and the calling thread and returns when all
// have run; the first exception a chunk throws is rethrown here after the others finish. The chunks run on
// the caller alone, in order, when it is already inside a chunk or another caller holds the pool.
void run_chunks(int64_t chunks, void (*body)(void*, int64_t), void* ctx);

// Calls fn(chunk_index, begin, end) for parallel_chunks(n, grain) disjoint chunks covering [0, n).
// Chunk boundaries depend only on n, grain and the thread count, never on timing or on which thread runs a
// chunk, so reductions over per-chunk partials are deterministic for a given thread count.
template <typename Fn>
void parallel_for(int64_t n, int64_t grain, Fn&& fn) {
  if (n <= 0) return;
  const int64_t chunks = parallel_chunks(n, grain);
  const int64_t step = (n + chunks - 1) / chunks;
  auto chunk = [&](int64_t c) {
    const int64_t b = c * step;
    const int64_t e = b + step < n ? b + step : n;
    if (b < e) fn(c, b, e);
  };
  if (chunks == 1) return chunk(0);
  using Chunk = decltype(chunk);
  run_chunks(chunks, [](void* p, int64_t c) { (*static_cast<Chunk*>(p))(c); }, &chunk);
}

}  // namespace pkg
