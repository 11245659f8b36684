// CPU parallelism for the CPU twins: parallel_for over [0, n) in contiguous chunks.
//
// OpenMP when the build found it (FML_HAVE_OPENMP), otherwise a plain serial loop. The thread count
// comes from set_num_threads(), initialised from FUSED_MULTILABEL_THREADS or the hardware count.
// Chunks are contiguous and at least `grain` long, so a body sees whole rows and can vectorise.
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

// Calls fn(chunk_index, begin, end) for parallel_chunks(n, grain) disjoint chunks covering [0, n).
// Chunk boundaries depend only on n, grain and the thread count, never on timing, so reductions
// over per-chunk partials are deterministic for a given thread count.
template <typename Fn>
void parallel_for(int64_t n, int64_t grain, Fn&& fn) {
  if (n <= 0) return;
  const int64_t chunks = parallel_chunks(n, grain);
  const int64_t step = (n + chunks - 1) / chunks;
#ifdef FML_HAVE_OPENMP
#pragma omp parallel for num_threads((int)chunks) schedule(static, 1) if (chunks > 1)
#endif
  for (int64_t c = 0; c < chunks; c++) {
    const int64_t b = c * step;
    const int64_t e = b + step < n ? b + step : n;
    if (b < e) fn(c, b, e);
  }
}

}  // namespace pkg
