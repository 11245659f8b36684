// The CPU kernels on another architecture: built by test/foundation/aarch64.test.js twice, for this machine
// and with an AArch64 cross compiler (run under qemu-aarch64), from the same sources the addon compiles, so
// that the portable path's AArch64 form (the 8×8 NEON SGEMM kernel, the yield spin of the thread pool,
// GCC's NEON vectorisation of every generic loop) runs somewhere before a user's ARM machine does.
//   sgemm: every transpose case, edge tiles, alpha/beta, several k blocks and the epilogue against a double
//          reference, at 1 and 3 threads; prints one "FAIL ..." line per miss and "sgemm <n> checks, <f> failed";
//   encoder: BERT and DistilBERT encoders (seeded initialisation; pooler, cls and mean heads; padded rows)
//          run the inference forward, then a backward of fixed logit gradients; prints their logits and
//          the norm of each parameter's gradient, one "<case> <name> <values...>" line each, for the test
//          to compare between the two builds.
// Exit status 1 when an sgemm check failed.
#include <array>
#include <cmath>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "../core/parallel.h"
#include "../model/encoder.h"
#include "../ops/matmul.h"

using namespace pkg;

namespace {

int g_checks = 0, g_fails = 0;

void sgemm_case(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, float beta, bool bias, bool gelu,
                bool res) {
  std::mt19937 gen((uint32_t)(M * 131 + N * 7 + K));
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  const int64_t lda = (ta ? M : K) + 3, ldb = (tb ? K : N) + 5, ldc = N + 2;
  std::vector<float> A((size_t)((ta ? K : M) * lda)), B((size_t)((tb ? N : K) * ldb)), C((size_t)(M * ldc)),
      bv((size_t)N), rv((size_t)(M * N));
  for (std::vector<float>* v : {&A, &B, &C, &bv, &rv})
    for (float& x : *v) x = u(gen);
  const std::vector<float> C0 = C;
  SgemmEpilogue e;
  e.bias = bias ? bv.data() : nullptr;
  e.gelu = gelu;
  e.residual = res ? rv.data() : nullptr;
  e.ldr = N;
  sgemm_cpu(ta, tb, M, N, K, alpha, A.data(), lda, B.data(), ldb, beta, C.data(), ldc,
            bias || gelu || res ? &e : nullptr);
  double worst = 0;
  for (int64_t i = 0; i < M; i++)
    for (int64_t j = 0; j < N; j++) {
      double s = 0;
      for (int64_t k = 0; k < K; k++)
        s += (double)(ta ? A[k * lda + i] : A[i * lda + k]) * (tb ? B[j * ldb + k] : B[k * ldb + j]);
      double v = alpha * s + (beta == 0.0f ? 0.0 : beta * C0[i * ldc + j]);
      if (bias) v += bv[j];
      if (gelu) v = 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
      if (res) v += rv[i * N + j];
      worst = std::fmax(worst, std::fabs(v - C[i * ldc + j]) / (1.0 + std::fabs(v)));
    }
  g_checks++;
  const double tol = 2e-6 * std::sqrt((double)K + 1.0) + 1e-6;  // float rounding of K products, GELU's 4e-7
  if (!(worst <= tol)) {
    g_fails++;
    std::printf("FAIL sgemm %c%c %lldx%lldx%lld alpha %g beta %g%s%s%s: error %.3g > %.3g\n", ta ? 'T' : 'N',
                tb ? 'T' : 'N', (long long)M, (long long)N, (long long)K, alpha, beta, bias ? " bias" : "",
                gelu ? " gelu" : "", res ? " residual" : "", worst, tol);
  }
}

void sgemm_checks() {
  const std::vector<std::array<int64_t, 3>> shapes = {{1, 1, 1},      {7, 9, 5},      {8, 8, 8},     {17, 33, 300},
                                                      {64, 64, 64},   {129, 70, 513}, {300, 257, 40}};
  for (int threads : {1, 3}) {
    set_num_threads(threads);
    for (int ta = 0; ta < 2; ta++)
      for (int tb = 0; tb < 2; tb++)
        for (const auto& s : shapes) {
          sgemm_case(ta, tb, s[0], s[1], s[2], 1.0f, 0.0f, false, false, false);
          sgemm_case(ta, tb, s[0], s[1], s[2], 2.0f, 0.5f, false, false, false);
        }
    for (const auto& s : std::vector<std::array<int64_t, 3>>{{29, 70, 600}, {64, 64, 64}, {15, 8, 3}}) {
      sgemm_case(false, true, s[0], s[1], s[2], 1.0f, 0.0f, true, false, false);
      sgemm_case(false, true, s[0], s[1], s[2], 1.0f, 0.0f, true, true, false);
      sgemm_case(false, true, s[0], s[1], s[2], 1.0f, 0.0f, true, false, true);
      sgemm_case(true, false, s[0], s[1], s[2], 2.0f, 0.5f, true, true, true);
    }
    sgemm_case(false, false, 5, 7, 0, 1.0f, 0.5f, true, false, true);  // K = 0: beta · C and the epilogue
  }
  std::printf("sgemm %d checks, %d failed\n", g_checks, g_fails);
}

void print_row(const std::string& tag, const char* what, const float* v, size_t n) {
  std::printf("%s %s", tag.c_str(), what);
  for (size_t i = 0; i < n; i++) std::printf(" %.9g", v[i]);
  std::printf("\n");
}

struct EncoderCase {
  const char* name;
  Arch arch;
  Pooling pooling;
  int C, NH, FF, B, T;
  bool padded;
};

void encoder_case(const EncoderCase& ec) {
  EncoderConfig c;
  c.arch = ec.arch;
  c.V = 500;
  c.C = ec.C;
  c.L = 2;
  c.NH = ec.NH;
  c.FF = ec.FF;
  c.P = 64;
  c.TV = ec.arch == Arch::Bert ? 2 : 0;
  c.K = 5;
  c.pooling = ec.pooling;
  c.sinusoidal = ec.arch == Arch::DistilBert;
  validate_config(c);
  Encoder enc(c, Device::Cpu, 11);
  {  // weights 5 × BERT's initialisation (std 0.1), so that the texts' logits differ by more than rounding
    std::vector<float> w(enc.num_params());
    enc.get_parameters(w.data());
    for (const ParamEntry& p : enc.entries())
      if (p.shape.size() == 2)
        for (size_t i = 0; i < p.numel; i++) w[p.offset + i] *= 5.0f;
    enc.set_parameters(w.data());
  }
  const int B = ec.B, T = ec.T, n = B * T;
  std::vector<int32_t> ids((size_t)n);
  std::vector<uint8_t> mask((size_t)n, 1);
  for (int i = 0; i < n; i++) ids[(size_t)i] = i % T == 0 ? 101 : 1 + (i * 7919) % 499;
  if (ec.padded)
    for (int b = 1; b < B; b += 2)
      for (int t = T - 1 - b; t < T; t++) mask[(size_t)(b * T + t)] = 0;
  std::vector<float> logits((size_t)(B * c.K));
  enc.forward(ids.data(), mask.data(), nullptr, B, T, false, logits.data());
  print_row(ec.name, "logits", logits.data(), logits.size());
  std::vector<float> dlogits(logits.size());
  for (size_t i = 0; i < dlogits.size(); i++) dlogits[i] = 0.1f * (float)((int)(i % 7) - 3);
  enc.backward(dlogits.data());
  std::vector<float> grads(enc.num_params());
  enc.get_gradients(grads.data());
  std::vector<float> norms;
  for (const ParamEntry& p : enc.entries()) {
    double s = 0;
    for (size_t i = 0; i < p.numel; i++) s += (double)grads[p.offset + i] * grads[p.offset + i];
    norms.push_back((float)std::sqrt(s));
  }
  print_row(ec.name, "grad_norms", norms.data(), norms.size());
}

}  // namespace

int main() {
  sgemm_checks();
  set_num_threads(2);
  const EncoderCase cases[] = {
      {"bert_pooler_hs16", Arch::Bert, Pooling::Pooler, 64, 4, 256, 3, 21, true},
      {"bert_mean_hs32", Arch::Bert, Pooling::Mean, 128, 4, 512, 4, 17, true},
      {"bert_cls_hs64", Arch::Bert, Pooling::Cls, 128, 2, 512, 2, 33, false},
      {"distilbert_cls_hs24", Arch::DistilBert, Pooling::Cls, 96, 4, 384, 3, 19, true},
  };
  for (const EncoderCase& ec : cases) encoder_case(ec);
  return g_fails == 0 ? 0 : 1;
}
