// The CUDA twins on the CUDA simulator (cuda_sim.h), each against its CPU twin, on shapes that stress the
// launch geometry; every case also fails on any memcheck/racecheck/initcheck/synccheck/launch report.
// Built and run by test/cuda_sim/kernels.test.js (scripts/build-cuda-sim.mjs); prints one line per case:
//   ok <name> (<ms> ms)            or            FAIL <name> :: <why>
// Usage: cuda_sim_test [--list] [word...]   (cases whose name contains any word)
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "../core/common.h"
#include "../core/half.h"
#include "../model/encoder.h"
#include "../ops/adamw.h"
#include "../ops/attention.h"
#include "../ops/bce.h"
#include "../ops/dropout.h"
#include "../ops/embedding.h"
#include "../ops/embedding_bag.h"
#include "../ops/gelu.h"
#include "../ops/layernorm.h"
#include "../ops/matmul.h"
#include "../ops/pooler.h"
#include "../ops/softmax_xent.h"
#include "cuda_sim.h"
#include "cuda_sim_report.h"

using namespace pkg;

std::string cuda_sim_selftest(const std::string& which);  // cuda_sim_selftest.cu

namespace {

// ---- helpers ----
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint32_t next() {
    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
    return (uint32_t)(s >> 11);
  }
  float uniform() { return (next() >> 8) * (1.0f / 16777216.0f); }
  float normal() { return (uniform() + uniform() + uniform() + uniform() - 2.0f) * 1.7320508f; }
};
std::vector<float> randn(size_t n, uint64_t seed, float scale = 1.0f) {
  Rng r(seed);
  std::vector<float> v(n);
  for (float& x : v) x = r.normal() * scale;
  return v;
}

struct Failure {
  std::string why;
};
[[noreturn]] void fail(const std::string& why) { throw Failure{why}; }

// Device buffer holding a copy of host data; `offset` elements in (for unaligned pointers).
template <class T>
struct Dev {
  T* base = nullptr;
  T* p = nullptr;
  size_t n = 0;
  explicit Dev(const std::vector<T>& h, size_t offset = 0) : n(h.size()) {
    if (cudaMalloc(&base, (n + offset) * sizeof(T) + 1) != cudaSuccess) fail("cudaMalloc failed");
    p = base + offset;
    if (offset) cudaMemset(base, 0, offset * sizeof(T));
    if (n) cudaMemcpy(p, h.data(), n * sizeof(T), cudaMemcpyHostToDevice);
  }
  explicit Dev(size_t count) : n(count) {  // uninitialised, like cudaMalloc
    if (cudaMalloc(&base, n * sizeof(T) + 1) != cudaSuccess) fail("cudaMalloc failed");
    p = base;
  }
  ~Dev() { cudaFree(base); }
  Dev(const Dev&) = delete;
  std::vector<T> get() const {
    std::vector<T> h(n);
    if (n) cudaMemcpy(h.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost);
    return h;
  }
};

void expect_close(const std::vector<float>& got, const std::vector<float>& want, double atol, double rtol, const char* what) {
  if (got.size() != want.size()) fail(std::string(what) + ": size mismatch");
  for (size_t i = 0; i < got.size(); i++) {
    const double g = got[i], w = want[i];
    if (std::isnan(w) && std::isnan(g)) continue;
    if (!(std::fabs(g - w) <= atol + rtol * std::fabs(w))) {
      char b[200];
      std::snprintf(b, sizeof b, "%s[%zu]: CUDA %.9g vs CPU %.9g", what, i, g, w);
      fail(b);
    }
  }
}
void expect_close(double got, double want, double atol, double rtol, const char* what) {
  expect_close(std::vector<float>{(float)got}, std::vector<float>{(float)want}, atol, rtol, what);
}
// Exactly equal (elementwise ops that share the header's math).
void expect_equal(const std::vector<float>& got, const std::vector<float>& want, const char* what) {
  expect_close(got, want, 0, 0, what);
}

struct Case {
  std::string name;
  std::function<void()> run;
};
std::vector<Case>& cases() {
  static std::vector<Case> c;
  return c;
}
void add(const std::string& name, std::function<void()> f) { cases().push_back({name, std::move(f)}); }

// ---- elementwise ops ----
void gelu_cases() {
  for (int64_t N : {1, 31, 257, 1027}) {
    add("gelu N=" + std::to_string(N), [N] {
      auto x = randn(N, 1 + N, 3.0f), d = randn(N, 2 + N);
      std::vector<float> out(N), din(N);
      gelu_forward_cpu(out.data(), x.data(), N);
      gelu_backward_cpu(din.data(), d.data(), x.data(), N);
      Dev<float> dx(x), dd(d), dout(N), ddin(N);
      gelu_forward_cuda(dout.p, dx.p, N, 0);
      gelu_backward_cuda(ddin.p, dd.p, dx.p, N, 0);
      expect_close(dout.get(), out, 1e-6, 1e-6, "out");
      expect_close(ddin.get(), din, 1e-6, 1e-6, "dinp");
    });
  }
}

void dropout_cases() {
  for (int64_t N : {1, 255, 1029})
    for (float p : {0.0f, 0.1f}) {
      add("dropout N=" + std::to_string(N) + " p=" + std::to_string(p).substr(0, 3), [N, p] {
        auto x = randn(N, 3 + N), r = randn(N, 4 + N);
        std::vector<float> out(N), res(N), din(N);
        dropout_forward_cpu(out.data(), x.data(), N, p, 7, 11);
        dropout_residual_forward_cpu(res.data(), r.data(), x.data(), N, p, 7, 11);
        dropout_backward_cpu(din.data(), r.data(), N, p, 7, 11);
        Dev<float> dx(x), dr(r), dout(N), dres(N), ddin(N);
        dropout_forward_cuda(dout.p, dx.p, N, p, 7, 11, 0);
        dropout_residual_forward_cuda(dres.p, dr.p, dx.p, N, p, 7, 11, 0);
        dropout_backward_cuda(ddin.p, dr.p, N, p, 7, 11, 0);
        expect_equal(dout.get(), out, "out");
        expect_equal(dres.get(), res, "residual out");
        expect_equal(ddin.get(), din, "dinp");
      });
    }
}

void pooler_cases() {
  struct S {
    int B, T, C;
  };
  for (S s : {S{1, 1, 1}, S{3, 5, 33}, S{2, 9, 300}})
    for (PoolMode mode : {PoolMode::Cls, PoolMode::Mean}) {
      add("pooler B=" + std::to_string(s.B) + " T=" + std::to_string(s.T) + " C=" + std::to_string(s.C) +
              (mode == PoolMode::Cls ? " cls" : " mean"),
          [s, mode] {
            const int64_t BTC = (int64_t)s.B * s.T * s.C, BC = (int64_t)s.B * s.C;
            auto x = randn(BTC, 5), d = randn(BC, 6);
            std::vector<uint8_t> mask((size_t)s.B * s.T);
            for (size_t i = 0; i < mask.size(); i++) mask[i] = (i % s.T) <= (size_t)(i / s.T) % s.T;  // ragged rows
            if (s.B > 2)
              for (int t = 0; t < s.T; t++) mask[(size_t)2 * s.T + t] = 0;  // a fully padded row: mean of nothing
            std::vector<float> out(BC), din(BTC);
            pool_forward_cpu(out.data(), x.data(), mask.data(), s.B, s.T, s.C, mode);
            pool_backward_cpu(din.data(), d.data(), mask.data(), s.B, s.T, s.C, mode);
            Dev<float> dx(x), dd(d), dout(BC), ddin(BTC);
            Dev<uint8_t> dm(mask);
            pool_forward_cuda(dout.p, dx.p, dm.p, s.B, s.T, s.C, mode, 0);
            pool_backward_cuda(ddin.p, dd.p, dm.p, s.B, s.T, s.C, mode, 0);
            expect_close(dout.get(), out, 1e-6, 1e-5, "out");
            expect_close(ddin.get(), din, 1e-6, 1e-5, "dinp");
            for (Activation a : {Activation::Tanh, Activation::Relu}) {
              std::vector<float> y(BC), dy(BC);
              act_forward_cpu(y.data(), out.data(), BC, a);
              act_backward_cpu(dy.data(), d.data(), y.data(), BC, a);
              Dev<float> dy_in(out), dyo(BC), ddy(BC), dyy(y);
              act_forward_cuda(dyo.p, dy_in.p, BC, a, 0);
              act_backward_cuda(ddy.p, dd.p, dyy.p, BC, a, 0);
              expect_close(dyo.get(), y, 1e-6, 1e-6, "activation out");
              expect_close(ddy.get(), dy, 1e-6, 1e-6, "activation dinp");
            }
          });
    }
}

void embedding_cases() {
  struct S {
    int B, T, C;
    bool tt, wtt, dpe;  // token types given, a token-type table, trained positions
  };
  for (S s : {S{1, 1, 1, false, true, true}, S{2, 5, 33, true, true, true}, S{3, 7, 65, false, false, false}}) {
    add("embedding B=" + std::to_string(s.B) + " T=" + std::to_string(s.T) + " C=" + std::to_string(s.C) +
            (s.wtt ? "" : " no token types") + (s.dpe ? "" : " frozen positions"),
        [s] {
          const int V = 11, P = 8, TV = 2;
          const int64_t BT = (int64_t)s.B * s.T, BTC = BT * s.C;
          std::vector<int32_t> ids(BT), tt(BT);
          Rng r(9);
          for (int64_t i = 0; i < BT; i++) ids[i] = (int32_t)(r.next() % V), tt[i] = (int32_t)(r.next() % TV);
          ids[0] = 0;  // the pad id: no gradient
          auto wte = randn((size_t)V * s.C, 1), wpe = randn((size_t)P * s.C, 2), wtt = randn((size_t)TV * s.C, 3);
          auto d = randn(BTC, 4);
          auto g0 = randn((size_t)V * s.C, 5), gp0 = randn((size_t)P * s.C, 6), gt0 = randn((size_t)TV * s.C, 7);
          std::vector<float> out(BTC), gte = g0, gpe = gp0, gtt = gt0;
          const int32_t* tth = s.tt ? tt.data() : nullptr;
          embedding_forward_cpu(out.data(), ids.data(), tth, wte.data(), wpe.data(), s.wtt ? wtt.data() : nullptr, s.B, s.T, s.C);
          embedding_backward_cpu(gte.data(), s.dpe ? gpe.data() : nullptr, s.wtt ? gtt.data() : nullptr, d.data(), ids.data(),
                                 tth, s.B, s.T, s.C, 0);
          Dev<int32_t> dids(ids), dtt(tt);
          Dev<float> dwte(wte), dwpe(wpe), dwtt(wtt), dd(d), dout(BTC), dg(g0), dgp(gp0), dgt(gt0);
          embedding_forward_cuda(dout.p, dids.p, s.tt ? dtt.p : nullptr, dwte.p, dwpe.p, s.wtt ? dwtt.p : nullptr, s.B, s.T,
                                 s.C, 0);
          embedding_backward_cuda(dg.p, s.dpe ? dgp.p : nullptr, s.wtt ? dgt.p : nullptr, dd.p, dids.p, s.tt ? dtt.p : nullptr,
                                  s.B, s.T, s.C, 0, 0);
          expect_equal(dout.get(), out, "out");
          expect_close(dg.get(), gte, 1e-5, 1e-5, "dwte");
          expect_close(dgp.get(), gpe, 1e-5, 1e-5, "dwpe");
          expect_close(dgt.get(), gtt, 1e-5, 1e-5, "dwtt");
        });
  }
}

void embedding_bag_cases() {
  struct S {
    int V, C, B;
    BagMode mode;
  };
  for (S s : {S{5, 1, 1, BagMode::Mean}, S{13, 33, 6, BagMode::SqrtN}, S{40, 130, 9, BagMode::Mean}}) {
    add("embedding_bag V=" + std::to_string(s.V) + " C=" + std::to_string(s.C) + " B=" + std::to_string(s.B) +
            (s.mode == BagMode::Mean ? " mean" : " sqrt-n"),
        [s] {
          Rng r(21);
          std::vector<int32_t> offsets(s.B + 1, 0), ids;
          for (int b = 0; b < s.B; b++) {
            const int n = b == 1 ? 0 : 1 + (int)(r.next() % 7);  // bag 1 empty
            for (int i = 0; i < n; i++) ids.push_back((int32_t)(r.next() % s.V));
            offsets[b + 1] = (int32_t)ids.size();
          }
          if (ids.empty()) ids.push_back(0), offsets[s.B] = 1;
          // distinct rows in first-use order and their occurrences grouped by row (as lib/ngram_features.ts builds them)
          std::vector<int32_t> slot(s.V, -1), rows, slot_of(ids.size());
          for (size_t i = 0; i < ids.size(); i++) {
            if (slot[ids[i]] < 0) slot[ids[i]] = (int32_t)rows.size(), rows.push_back(ids[i]);
            slot_of[i] = slot[ids[i]];
          }
          const int U = (int)rows.size();
          std::vector<int32_t> row_ptr(U + 1, 0), occ(ids.size());
          for (int32_t sl : slot_of) row_ptr[sl + 1]++;
          for (int u = 0; u < U; u++) row_ptr[u + 1] += row_ptr[u];
          std::vector<int32_t> fill(row_ptr.begin(), row_ptr.end() - 1);
          for (int b = 0; b < s.B; b++)
            for (int32_t i = offsets[b]; i < offsets[b + 1]; i++) occ[fill[slot_of[i]]++] = b;
          auto w = randn((size_t)s.V * s.C, 1), dout = randn((size_t)s.B * s.C, 2), m = randn((size_t)s.V * s.C, 3, 0.1f),
               v = randn((size_t)s.V * s.C, 4, 0.1f);
          for (float& x : v) x = std::fabs(x);
          std::vector<float> out((size_t)s.B * s.C), scale(s.B), drows((size_t)U * s.C);
          embedding_bag_forward_cpu(out.data(), scale.data(), w.data(), ids.data(), offsets.data(), s.mode, s.B, s.C);
          embedding_bag_backward_cpu(drows.data(), dout.data(), scale.data(), occ.data(), row_ptr.data(), U, s.C);
          AdamWParams a;
          a.t = 4;
          a.weight_decay = 0.01f;
          std::vector<float> W = w, M = m, Vv = v;
          sparse_adamw_cpu(W.data(), M.data(), Vv.data(), drows.data(), rows.data(), a, U, s.C);
          Dev<int32_t> dids(ids), doff(offsets), docc(occ), dptr(row_ptr), drws(rows);
          Dev<float> dw(w), dm(m), dv(v), ddout(dout), dout_(std::vector<float>(out.size())), dscale(std::vector<float>(s.B)),
              ddrows(std::vector<float>(drows.size()));
          embedding_bag_forward_cuda(dout_.p, dscale.p, dw.p, dids.p, doff.p, s.mode, s.B, s.C, 0);
          embedding_bag_backward_cuda(ddrows.p, ddout.p, dscale.p, docc.p, dptr.p, U, s.C, 0);
          sparse_adamw_cuda(dw.p, dm.p, dv.p, ddrows.p, drws.p, a, U, s.C, 0);
          expect_equal(dout_.get(), out, "out");
          expect_equal(dscale.get(), scale, "scale");
          expect_equal(ddrows.get(), drows, "drows");
          expect_close(dw.get(), W, 1e-7, 1e-6, "weight");
          expect_close(dm.get(), M, 1e-7, 1e-6, "m");
          expect_close(dv.get(), Vv, 1e-7, 1e-6, "v");
        });
  }
}

void softmax_xent_cases() {
  struct S {
    int64_t N;
    int V;
    int ignore_every;  // every k-th row has no target (1: all rows ignored)
    bool extreme;      // ±1e4 logits
    bool in_place;     // dlogits = logits
    Reduction red;
  };
  for (S s : {S{1, 1, 0, false, false, Reduction::Mean}, S{5, 33, 3, false, false, Reduction::Mean},
              S{4, 257, 0, true, false, Reduction::Sum}, S{3, 9, 1, false, false, Reduction::Mean},
              S{3, 4099, 2, false, true, Reduction::Mean}, S{2, 30522, 0, false, false, Reduction::None}}) {
    add("softmax_xent N=" + std::to_string(s.N) + " V=" + std::to_string(s.V) + (s.ignore_every ? " ignored rows" : "") +
            (s.extreme ? " extreme" : "") + (s.in_place ? " in place" : "") + " " + kReductionNames[(int)s.red],
        [s] {
          const int64_t NV = s.N * s.V;
          auto x = randn(NV, 31, 4.0f);
          Rng r(32);
          if (s.extreme)
            for (float& v : x)
              if (r.next() % 3 == 0) v = (r.next() & 1) ? 1e4f : -1e4f;
          std::vector<int32_t> t(s.N);
          for (int64_t n = 0; n < s.N; n++)
            t[n] = (s.ignore_every && n % s.ignore_every == s.ignore_every - 1) ? -100 : (int32_t)(r.next() % s.V);
          std::vector<float> d(NV), l(s.N);
          const XentResult want = softmax_xent_cpu(d.data(), l.data(), x.data(), t.data(), -100, s.red, s.N, s.V);
          Dev<float> dx(x), dd(NV), dl(s.N);
          Dev<int32_t> dt(t);
          float* dgrad = s.in_place ? dx.p : dd.p;
          const XentResult got = softmax_xent_cuda(dgrad, dl.p, dx.p, dt.p, -100, s.red, s.N, s.V, 0);
          if (got.count != want.count) fail("count");
          expect_close(got.loss, want.loss, 1e-6, 1e-5, "loss");
          expect_close(dl.get(), l, 2e-6, 2e-5, "losses");
          expect_close(s.in_place ? dx.get() : dd.get(), d, 2e-8, 2e-5, "dlogits");
        });
  }
}

void layernorm_cases() {
  struct S {
    int64_t N;
    int C;
  };
  for (S s : {S{1, 1}, S{7, 31}, S{9, 33}, S{17, 768}}) {
    add("layernorm N=" + std::to_string(s.N) + " C=" + std::to_string(s.C), [s] {
      const int64_t NC = s.N * s.C;
      auto x = randn(NC, 1, 2.0f), w = randn(s.C, 2), b = randn(s.C, 3), d = randn(NC, 4);
      auto gw0 = randn(s.C, 5), gb0 = randn(s.C, 6);
      std::vector<float> out(NC), mean(s.N), rstd(s.N), din(NC), gw = gw0, gb = gb0;
      layernorm_forward_cpu(out.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(), s.N, s.C, 1e-5f);
      layernorm_backward_cpu(din.data(), gw.data(), gb.data(), d.data(), x.data(), w.data(), mean.data(), rstd.data(), s.N, s.C);
      Dev<float> dx(x), dw(w), db(b), dd(d), dout(NC), dmean(s.N), drstd(s.N), ddin(NC), dgw(gw0), dgb(gb0);
      layernorm_forward_cuda(dout.p, dmean.p, drstd.p, dx.p, dw.p, db.p, s.N, s.C, 1e-5f, 0);
      layernorm_backward_cuda(ddin.p, dgw.p, dgb.p, dd.p, dx.p, dw.p, dmean.p, drstd.p, s.N, s.C, 0);
      expect_close(dout.get(), out, 1e-5, 1e-4, "out");
      expect_close(dmean.get(), mean, 1e-6, 1e-5, "mean");
      expect_close(drstd.get(), rstd, 1e-6, 1e-5, "rstd");
      expect_close(ddin.get(), din, 1e-5, 1e-4, "dinp");
      expect_close(dgw.get(), gw, 1e-5, 1e-4, "dweight");
      expect_close(dgb.get(), gb, 1e-5, 1e-4, "dbias");
    });
  }
}

void matmul_cases() {
  struct S {
    int64_t M, N, K;
  };
  for (S s : {S{1, 1, 1}, S{65, 63, 17}, S{64, 64, 16}, S{3, 130, 1}, S{129, 5, 33}})
    for (int t = 0; t < 4; t++) {
      const bool ta = t & 1, tb = t & 2;
      add("sgemm M=" + std::to_string(s.M) + " N=" + std::to_string(s.N) + " K=" + std::to_string(s.K) +
              (ta ? " A^T" : "") + (tb ? " B^T" : ""),
          [s, ta, tb] {
            // leading dimensions larger than the rows: the kernel must use lda/ldb/ldc, not the sizes
            const int64_t lda = (ta ? s.M : s.K) + 3, ldb = (tb ? s.K : s.N) + 1, ldc = s.N + 2;
            auto A = randn((size_t)(ta ? s.K : s.M) * lda, 1), B = randn((size_t)(tb ? s.N : s.K) * ldb, 2);
            auto C0 = randn((size_t)s.M * ldc, 3);
            for (float beta : {0.0f, 0.5f}) {
              std::vector<float> C = C0;
              sgemm_cpu(ta, tb, s.M, s.N, s.K, 1.5f, A.data(), lda, B.data(), ldb, beta, C.data(), ldc);
              Dev<float> dA(A), dB(B), dC(C0);
              sgemm_cuda(ta, tb, s.M, s.N, s.K, 1.5f, dA.p, lda, dB.p, ldb, beta, dC.p, ldc, 0);
              expect_close(dC.get(), C, 1e-4, 1e-4, beta == 0 ? "C (beta 0)" : "C (beta 0.5)");
            }
          });
    }
  for (int epi = 0; epi < 4; epi++) {
    const bool bias = epi & 1, gelu = epi == 2 || epi == 3, residual = epi == 3;
    add(std::string("matmul forward/backward N=37 C=20 OC=70") + (bias ? " bias" : "") + (gelu ? " gelu" : "") +
            (residual ? " residual" : ""),
        [bias, gelu, residual] {
          const int64_t N = 37;
          const int C = 20, OC = 70;
          auto x = randn(N * C, 1), w = randn((size_t)OC * C, 2), b = randn(OC, 3), d = randn(N * OC, 4), r = randn(N * OC, 8);
          auto di0 = randn(N * C, 5), dw0 = randn((size_t)OC * C, 6), db0 = randn(OC, 7);
          std::vector<float> out(N * OC), di = di0, dw = dw0, db = db0;
          matmul_forward_cpu(out.data(), x.data(), w.data(), bias ? b.data() : nullptr, residual ? r.data() : nullptr, N, C, OC,
                             gelu);
          matmul_backward_cpu(di.data(), dw.data(), db.data(), d.data(), x.data(), w.data(), N, C, OC, true);
          Dev<float> dx(x), dwt(w), dbs(b), dd(d), dr(r), dout(N * OC), ddi(di0), ddw(dw0), ddb(db0);
          matmul_forward_cuda(dout.p, dx.p, dwt.p, bias ? dbs.p : nullptr, residual ? dr.p : nullptr, N, C, OC, gelu, 0);
          matmul_backward_cuda(ddi.p, ddw.p, ddb.p, dd.p, dx.p, dwt.p, N, C, OC, true, 0);
          expect_close(dout.get(), out, 1e-4, 1e-4, "out");
          expect_close(ddi.get(), di, 1e-4, 1e-4, "dinp");
          expect_close(ddw.get(), dw, 1e-4, 1e-4, "dweight");
          expect_close(ddb.get(), db, 1e-4, 1e-4, "dbias");
        });
  }
}

void attention_cases() {
  struct S {
    int B, T, C, NH;
    float p;
  };
  for (S s : {S{1, 1, 4, 1, 0.0f}, S{2, 5, 12, 3, 0.1f}, S{1, 33, 64, 2, 0.0f}, S{2, 130, 8, 2, 0.2f}}) {
    add("attention B=" + std::to_string(s.B) + " T=" + std::to_string(s.T) + " C=" + std::to_string(s.C) +
            " NH=" + std::to_string(s.NH) + " p=" + std::to_string(s.p).substr(0, 3),
        [s] {
          const int64_t BTC = (int64_t)s.B * s.T * s.C, ATT = (int64_t)s.B * s.NH * s.T * s.T;
          auto q = randn(BTC, 1), k = randn(BTC, 2), v = randn(BTC, 3), d = randn(BTC, 4);
          std::vector<uint8_t> mask((size_t)s.B * s.T, 1);
          for (int t = 0; t < s.T; t++) mask[(size_t)(s.B - 1) * s.T + t] = t < (s.T + 1) / 2;  // padded last row
          if (s.B > 1 && s.T > 1)
            for (int t = 0; t < s.T; t++) mask[t] = 0;  // a fully padded row: uniform probabilities, not NaN
          std::vector<float> out(BTC), att(ATT), dq(BTC), dk(BTC), dv(BTC);
          attention_forward_cpu(out.data(), att.data(), q.data(), k.data(), v.data(), mask.data(), s.B, s.T, s.C, s.NH, s.p, 5, 9);
          attention_backward_cpu(dq.data(), dk.data(), dv.data(), d.data(), q.data(), k.data(), v.data(), att.data(), s.B, s.T,
                                 s.C, s.NH, s.p, 5, 9);
          Dev<float> dq_(q), dk_(k), dv_(v), dd(d), dout(BTC), datt(ATT), ddq(BTC), ddk(BTC), ddv(BTC);
          Dev<uint8_t> dm(mask);
          attention_forward_cuda(dout.p, datt.p, dq_.p, dk_.p, dv_.p, dm.p, s.B, s.T, s.C, s.NH, s.p, 5, 9, 0);
          attention_backward_cuda(ddq.p, ddk.p, ddv.p, dd.p, dq_.p, dk_.p, dv_.p, datt.p, s.B, s.T, s.C, s.NH, s.p, 5, 9, 0);
          expect_close(dout.get(), out, 1e-5, 1e-4, "out");
          expect_close(datt.get(), att, 1e-6, 1e-4, "att");
          expect_close(ddq.get(), dq, 1e-5, 1e-3, "dq");
          expect_close(ddk.get(), dk, 1e-5, 1e-3, "dk");
          expect_close(ddv.get(), dv, 1e-5, 1e-3, "dv");
          // inference: no probabilities saved (att null), same output
          Dev<float> dout2(BTC);
          attention_forward_cuda(dout2.p, nullptr, dq_.p, dk_.p, dv_.p, dm.p, s.B, s.T, s.C, s.NH, 0.0f, 5, 9, 0);
          std::vector<float> out2(BTC);
          attention_forward_cpu(out2.data(), nullptr, q.data(), k.data(), v.data(), mask.data(), s.B, s.T, s.C, s.NH, 0.0f, 5, 9);
          expect_close(dout2.get(), out2, 1e-5, 1e-4, "out (inference, att null)");
        });
  }
  // the largest rows the launcher takes: 2·T floats of dynamic shared memory above the 48 KiB default
  add("attention forward T=6200 (49.6 KB of dynamic shared memory, opt-in attribute)", [] {
    const int B = 1, T = 6200, C = 1, NH = 1;
    auto q = randn(T, 1), k = randn(T, 2), v = randn(T, 3);
    std::vector<uint8_t> mask(T, 1);
    std::vector<float> out(T);
    // the inference path (no T×T probabilities stored) keeps the test's memory small
    attention_forward_cpu(out.data(), nullptr, q.data(), k.data(), v.data(), mask.data(), B, T, C, NH, 0.0f, 5, 9);
    Dev<float> dq_(q), dk_(k), dv_(v), dout(T);
    Dev<uint8_t> dm(mask);
    attention_forward_cuda(dout.p, nullptr, dq_.p, dk_.p, dv_.p, dm.p, B, T, C, NH, 0.0f, 5, 9, 0);
    expect_close(dout.get(), out, 1e-5, 1e-4, "out");
  });
}

void adamw_cases() {
  for (int64_t N : {1, 1000, 70001}) {
    add("adamw/sum_squares/scale N=" + std::to_string(N), [N] {
      auto p = randn(N, 1), m = randn(N, 2, 0.1f), v = randn(N, 3, 0.1f), g = randn(N, 4);
      for (float& x : v) x = std::fabs(x);
      AdamWParams a;
      a.t = 3;
      a.weight_decay = 0.01f;
      std::vector<float> P = p, M = m, V = v;
      adamw_cpu(P.data(), M.data(), V.data(), g.data(), N, a);
      Dev<float> dp(p), dm(m), dv(v), dg(g);
      adamw_cuda(dp.p, dm.p, dv.p, dg.p, N, a, 0);
      expect_close(dp.get(), P, 1e-7, 1e-6, "params");
      expect_close(dm.get(), M, 1e-7, 1e-6, "m");
      expect_close(dv.get(), V, 1e-7, 1e-6, "v");
      expect_close(sum_squares_cuda(dg.p, N, 0), sum_squares_cpu(g.data(), N), 0, 1e-9, "sum of squares");
      std::vector<float> S = g;
      scale_cpu(S.data(), N, 0.37f);
      scale_cuda(dg.p, N, 0.37f, 0);
      expect_equal(dg.get(), S, "scaled");
    });
  }
}

// ---- the fused loss ----
struct LossCase {
  LossVariant variant;
  DType ldt, tdt;
  int64_t N, K;
  bool opts;
  int unaligned;  // 0: aligned tensors; 1: every tensor one element off; 2: only the targets
  Reduction red;
  bool in_place = false;  // dlogits == logits (the contract allows it)
};

std::string loss_name(const LossCase& c) {
  static const char* vn[] = {"bce", "focal", "asl", "db"};
  static const char* rn[] = {"mean", "sum", "none"};
  return std::string("loss ") + vn[(int)c.variant] + " logits=" + dtype_name(c.ldt) + " targets=" + dtype_name(c.tdt) +
         " N=" + std::to_string(c.N) + " K=" + std::to_string(c.K) + (c.opts ? " weights+mask+smoothing" : "") +
         (c.unaligned == 1 ? " unaligned" : c.unaligned == 2 ? " unaligned targets" : "") + (c.in_place ? " in-place" : "") +
         " " + rn[(int)c.red];
}

void run_loss(const LossCase& c) {
  const int64_t N = c.N, K = c.K, NK = N * K;
  Rng r(NK + (int)c.variant);
  std::vector<float> x(NK), yf(NK), pw(K), sw(N), cw(K), ew(NK), counts(K);
  std::vector<uint8_t> mask(NK);
  for (int64_t i = 0; i < NK; i++) {
    x[i] = r.normal() * 3.0f;
    yf[i] = (r.next() % 3 == 0) ? 1.0f : 0.0f;
    if (c.tdt == DType::F32 && i % 5 == 1) yf[i] = r.uniform();  // soft labels
    if (c.opts && c.tdt != DType::U8 && i % 7 == 3) yf[i] = -1.0f;  // the ignore value
    mask[i] = (i % 11) != 4;
    ew[i] = 0.5f + r.uniform();
  }
  for (int64_t k = 0; k < K; k++) pw[k] = 0.5f + r.uniform(), cw[k] = 0.5f + r.uniform(), counts[k] = 1.0f + (float)(k % 9);
  for (int64_t n = 0; n < N; n++) sw[n] = 0.5f + r.uniform();
  // storage in the case's dtypes; the CPU twin sees the same values in float32
  std::vector<uint16_t> x16(NK);
  std::vector<int8_t> y8(NK);
  for (int64_t i = 0; i < NK; i++) {
    if (c.ldt == DType::F16) x16[i] = f32_to_f16(x[i]), x[i] = f16_to_f32(x16[i]);
    if (c.ldt == DType::BF16) x16[i] = f32_to_bf16(x[i]), x[i] = bf16_to_f32(x16[i]);
    y8[i] = (int8_t)yf[i];
  }
  BceArgs a;
  a.N = N;
  a.K = K;
  a.variant = c.variant;
  a.reduction = c.red;
  a.alpha = 0.25f;  // BceArgs holds no defaults: the variant parameters are set here
  if (c.variant == LossVariant::Focal) a.gamma = NK % 2 ? 2.0f : 1.5f, a.has_alpha = true;
  if (c.variant == LossVariant::DistributionBalanced) {
    a.class_counts = counts.data(), a.train_size = 40;
    a.neg_scale = 2.0f, a.init_bias = 0.05f, a.rebalance = true, a.db_focal = true;
    a.rb_alpha = 0.1f, a.rb_beta = 10.0f, a.rb_mu = 0.405f;
  }
  if (c.opts) a.label_smoothing = 0.1f, a.has_ignore_value = true, a.ignore_value = -1.0f;
  BceArgs h = a;
  std::vector<float> dl(NK, 7.0f), lo(NK, 7.0f);
  h.logits = x.data();
  h.targets = yf.data();
  if (c.opts) h.pos_weight = pw.data(), h.sample_weight = sw.data(), h.class_weight = cw.data(), h.element_weight = ew.data(),
              h.mask = mask.data();
  h.dlogits = dl.data();
  h.loss_out = lo.data();
  std::vector<float> xin = x;  // in place: the CPU twin writes its gradient over this copy
  if (c.in_place) h.logits = xin.data(), h.dlogits = xin.data();
  const BceResult want = bce_fused_cpu(h);
  if (c.in_place) dl = xin;

  const size_t off = c.unaligned == 1 ? 1 : 0, toff = c.unaligned ? 1 : 0;
  Dev<float> dx(x, off), dy(yf, toff), dpw(pw), dsw(sw), dcw(cw), dew(ew, off), dlo(NK + off);
  Dev<uint16_t> dx16(x16, off);
  Dev<int8_t> dy8(y8, toff);
  Dev<uint8_t> dm(mask, off);
  Dev<uint16_t> ddl16(NK + off);
  Dev<float> ddl(NK + off);
  BceArgs d = a;
  d.logits_dtype = c.ldt;
  d.logits = c.ldt == DType::F32 ? (const void*)dx.p : (const void*)dx16.p;
  d.targets_dtype = c.tdt;
  d.targets = c.tdt == DType::F32 ? (const void*)dy.p : (const void*)dy8.p;
  if (c.opts) d.pos_weight = dpw.p, d.sample_weight = dsw.p, d.class_weight = dcw.p, d.element_weight = dew.p, d.mask = dm.p;
  d.dlogits = c.ldt == DType::F32 ? (void*)(ddl.p + off) : (void*)(ddl16.p + off);
  if (c.in_place) d.dlogits = const_cast<void*>(d.logits);
  d.loss_out = dlo.p + off;
  const BceResult got = bce_fused_cuda(d);
  if (got.count != want.count) fail("count: CUDA " + std::to_string(got.count) + " vs CPU " + std::to_string(want.count));
  expect_close(got.loss, want.loss, 1e-6, 1e-5, "loss");
  std::vector<float> g(NK), l(NK);
  if (c.in_place) {
    auto all = dx.get();
    std::copy(all.begin(), all.end(), g.begin());
  } else if (c.ldt == DType::F32) {
    auto all = ddl.get();
    std::copy(all.begin() + off, all.end(), g.begin());
  } else {
    auto all = ddl16.get();
    for (int64_t i = 0; i < NK; i++) g[i] = c.ldt == DType::F16 ? f16_to_f32(all[i + off]) : bf16_to_f32(all[i + off]);
    // the reference gradient, rounded once like the store
    for (float& v : dl) v = c.ldt == DType::F16 ? f16_to_f32(f32_to_f16(v)) : bf16_to_f32(f32_to_bf16(v));
  }
  const double grtol = c.ldt == DType::F16 ? 1.0 / 1024 : c.ldt == DType::BF16 ? 1.0 / 128 : 2e-5;
  expect_close(g, dl, 2e-6, grtol, "dlogits");
  if (c.red == Reduction::None) {
    auto all = dlo.get();
    std::copy(all.begin() + off, all.end(), l.begin());
    expect_close(l, lo, 2e-6, 2e-5, "per-element loss");
  }
}

void loss_cases() {
  const LossVariant variants[] = {LossVariant::Bce, LossVariant::Focal, LossVariant::Asymmetric, LossVariant::DistributionBalanced};
  for (LossVariant v : variants)
    for (DType tdt : {DType::F32, DType::I8, DType::U8})
      for (bool opts : {false, true}) {
        LossCase c{v, DType::F32, tdt, 5, 7, opts, 0, opts ? Reduction::Sum : Reduction::Mean};
        add(loss_name(c), [c] { run_loss(c); });
      }
  // geometry: one element, K = 1, NK a multiple of 4 with aligned and unaligned pointers, several blocks
  const LossCase geo[] = {
      {LossVariant::Bce, DType::F32, DType::F32, 1, 1, false, 0, Reduction::Mean},
      {LossVariant::Bce, DType::F32, DType::F32, 33, 1, true, 0, Reduction::None},
      {LossVariant::Bce, DType::F32, DType::F32, 8, 16, false, 0, Reduction::None},
      {LossVariant::Bce, DType::F32, DType::U8, 8, 16, false, 2, Reduction::None},
      {LossVariant::Focal, DType::F32, DType::F32, 8, 16, true, 2, Reduction::Mean},
      {LossVariant::Bce, DType::F32, DType::F32, 8, 16, true, 1, Reduction::None},
      {LossVariant::Focal, DType::F32, DType::U8, 64, 33, false, 1, Reduction::Mean},
      {LossVariant::Asymmetric, DType::F32, DType::F32, 1031, 5, true, 0, Reduction::Mean},
      {LossVariant::DistributionBalanced, DType::F32, DType::I8, 300, 9, true, 0, Reduction::Sum},
      // more rows than the resident grid (132 SMs × 8 blocks): the row loop strides
      {LossVariant::DistributionBalanced, DType::F32, DType::U8, 1100, 3, false, 0, Reduction::Mean},
      // rows longer than the block: the DB kernel's column loops and the elementwise grid stride
      {LossVariant::DistributionBalanced, DType::F32, DType::F32, 2, 600, true, 0, Reduction::Mean},
      {LossVariant::Bce, DType::F32, DType::I8, 1, 1030, false, 0, Reduction::Sum},
      {LossVariant::Focal, DType::F32, DType::F32, 9, 12, true, 0, Reduction::Mean, true},
      {LossVariant::DistributionBalanced, DType::F32, DType::U8, 7, 9, false, 0, Reduction::Sum, true},
      {LossVariant::Bce, DType::F16, DType::F32, 6, 12, true, 0, Reduction::None},
      {LossVariant::Focal, DType::BF16, DType::U8, 6, 12, false, 0, Reduction::Mean},
      {LossVariant::Asymmetric, DType::F16, DType::I8, 7, 5, false, 1, Reduction::Sum},
      {LossVariant::DistributionBalanced, DType::BF16, DType::F32, 9, 7, true, 0, Reduction::Mean},
  };
  for (const LossCase& c : geo) add(loss_name(c), [c] { run_loss(c); });
  add("loss bad target reported like the CPU twin", [] {
    std::vector<float> x(12, 0.5f), y(12, 0.0f);
    y[7] = 2.0f;
    BceArgs h;
    h.N = 3, h.K = 4, h.logits = x.data(), h.targets = y.data();
    std::string cpu, gpu;
    try {
      bce_fused_cpu(h);
    } catch (const std::exception& e) {
      cpu = e.what();
    }
    Dev<float> dx(x), dy(y);
    BceArgs d = h;
    d.logits = dx.p, d.targets = dy.p, d.validate_first = true;
    try {
      bce_fused_cuda(d);
    } catch (const std::exception& e) {
      gpu = e.what();
    }
    if (gpu.empty() || gpu.find("row 1, column 3") == std::string::npos) fail("CUDA error: '" + gpu + "' (CPU: '" + cpu + "')");
  });
}

// ---- a whole encoder training step ----
// trainStep (the fused BCE), or with mlm the masked-LM step (gathered rows, tied decoder, softmax_xent)
void encoder_cases() {
  for (bool mlm : {false, true})
  for (Arch arch : {Arch::Bert, Arch::DistilBert}) {
    add(std::string(mlm ? "encoder mlmStep " : "encoder trainStep ") + (arch == Arch::Bert ? "bert" : "distilbert"), [arch, mlm] {
      EncoderConfig cfg;
      cfg.mlm = mlm;
      cfg.arch = arch;
      cfg.V = 40, cfg.C = 24, cfg.L = 2, cfg.NH = 3, cfg.FF = 37, cfg.P = 12, cfg.K = 5;
      cfg.TV = arch == Arch::Bert ? 2 : 0;
      cfg.eps = 1e-12f;
      cfg.hidden_dropout = 0.1f, cfg.attention_dropout = 0.1f, cfg.classifier_dropout = 0.1f;
      cfg.pooling = arch == Arch::Bert ? Pooling::Pooler : Pooling::Mean;
      cfg.sinusoidal = arch == Arch::DistilBert;
      Encoder cpu(cfg, Device::Cpu, 3), gpu(cfg, Device::Cuda, 3);
      cpu.init_parameters(17);
      std::vector<float> params(cpu.num_params());
      cpu.get_parameters(params.data());
      gpu.set_parameters(params.data());
      const int B = 3, T = 9;
      std::vector<int32_t> ids(B * T), tt(B * T);
      std::vector<uint8_t> mask(B * T);
      Rng r(5);
      for (int i = 0; i < B * T; i++) {
        ids[i] = 1 + (int32_t)(r.next() % (cfg.V - 1));
        tt[i] = (i % T) > T / 2;
        mask[i] = (i % T) < T - (i / T);  // rows of 9, 8 and 7 tokens
        if (!mask[i]) ids[i] = 0;
      }
      std::vector<float> y(B * cfg.K);
      for (size_t i = 0; i < y.size(); i++) y[i] = (i * 7 % 3) == 0;
      std::vector<int32_t> labels(B * T, -100);  // every 4th real token, one of them [PAD] (row 0)
      for (int i = 0; i < B * T; i++)
        if (mask[i] && i % 4 == 1) labels[i] = i == 1 ? 0 : (int32_t)(r.next() % cfg.V);
      TrainStepOptions opt;
      opt.max_grad_norm = 0.5f;
      opt.adamw.lr = 1e-3f;
      opt.adamw.weight_decay = 0.01f;
      const int32_t* tts = arch == Arch::Bert ? tt.data() : nullptr;
      for (int step = 0; step < 2; step++) {
        BceArgs lh;
        lh.targets = y.data();
        Dev<float> dy(y);
        BceArgs ld;
        ld.targets = dy.p;
        const TrainStepResult rc = mlm ? cpu.mlm_step(ids.data(), mask.data(), tts, B, T, labels.data(), &opt)
                                       : cpu.train_step(ids.data(), mask.data(), tts, B, T, lh, opt);
        const TrainStepResult rg = mlm ? gpu.mlm_step(ids.data(), mask.data(), tts, B, T, labels.data(), &opt)
                                       : gpu.train_step(ids.data(), mask.data(), tts, B, T, ld, opt);
        if (rc.count != rg.count) fail("mlm count");
        expect_close(rg.loss, rc.loss, 1e-5, 1e-4, "loss");
        expect_close(rg.grad_norm, rc.grad_norm, 1e-5, 1e-4, "grad norm");
        std::vector<float> gc(cpu.num_params()), gg(cpu.num_params()), pc(cpu.num_params()), pg(cpu.num_params());
        cpu.get_gradients(gc.data());
        gpu.get_gradients(gg.data());
        expect_close(gg, gc, 1e-5, 1e-3, "gradients");
        cpu.get_parameters(pc.data());
        gpu.get_parameters(pg.data());
        expect_close(pg, pc, 1e-5, 1e-4, "parameters after AdamW");
      }
      if (mlm) return;
      std::vector<float> lc((size_t)B * cfg.K), lg((size_t)B * cfg.K);
      cpu.forward(ids.data(), mask.data(), arch == Arch::Bert ? tt.data() : nullptr, B, T, false, lc.data());
      gpu.forward(ids.data(), mask.data(), arch == Arch::Bert ? tt.data() : nullptr, B, T, false, lg.data());
      expect_close(lg, lc, 1e-5, 1e-4, "logits");
    });
  }
}

}  // namespace

// ---- the simulator itself: known answers and planted bugs each check must report ----
void selftest_cases() {
  for (const char* which : {"warp", "barrier", "checks", "launch limits"})
    add(std::string("sim: ") + which, [which] {
      const std::string why = cuda_sim_selftest(which);
      if (!why.empty()) fail(why);
    });
}

int main(int argc, char** argv) {
  bool list = false;
  std::vector<std::string> words;
  for (int i = 1; i < argc; i++) {
    if (std::strcmp(argv[i], "--list") == 0) list = true;
    else words.push_back(argv[i]);
  }
  selftest_cases();
  gelu_cases();
  dropout_cases();
  pooler_cases();
  embedding_cases();
  embedding_bag_cases();
  softmax_xent_cases();
  layernorm_cases();
  matmul_cases();
  attention_cases();
  adamw_cases();
  loss_cases();
  encoder_cases();
  int failed = 0, ran = 0;
  for (const Case& c : cases()) {
    bool want = words.empty();
    for (const std::string& w : words) want = want || c.name.find(w) != std::string::npos;
    if (!want) continue;
    if (list) {
      std::printf("%s\n", c.name.c_str());
      continue;
    }
    ran++;
    const auto t0 = std::chrono::steady_clock::now();
    std::string why;
    try {
      c.run();
    } catch (const Failure& f) {
      why = f.why;
    } catch (const std::exception& e) {
      why = std::string("exception: ") + e.what();
    }
    const auto reports = fml_sim::take_reports();
    if (!reports.empty())  // a check beats a value mismatch: it names the cause
      why = std::string("[") + fml_sim::check_name(reports[0].check) + "] " + reports[0].message +
            (reports.size() > 1 ? " (+" + std::to_string(reports.size() - 1) + " more)" : "");
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (why.empty()) std::printf("ok %s (%.0f ms)\n", c.name.c_str(), ms);
    else {
      failed++;
      std::printf("FAIL %s :: %s\n", c.name.c_str(), why.c_str());
    }
    std::fflush(stdout);
  }
  if (!list) std::printf("%d cases, %d failed\n", ran, failed);
  return failed ? 1 : 0;
}
