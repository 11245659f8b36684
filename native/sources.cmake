# The native source lists, read by CMakeLists.txt (include) and by scripts/gyp-sources.mjs (the node-gyp
# fallback parses the set(...) blocks below: keep one path per line, relative to the repository root).
# A new source is added here, in the list of the binary it belongs to.

# Every CPU source of the addon users load (the module entry, native/addon/addon.cpp, is listed apart:
# it is compiled once per addon).
set(FML_CPU_SOURCES
  native/addon/device_binding.cpp
  native/addon/encoder_binding.cpp
  native/addon/loss_args.cpp
  native/addon/losses_binding.cpp
  native/addon/ngram_binding.cpp
  native/addon/tensor_binding.cpp
  native/core/device.cpp
  native/core/parallel.cpp
  native/model/encoder.cpp
  native/ops/adamw_cpu.cpp
  native/ops/attention_cpu.cpp
  native/ops/bce_cpu.cpp
  native/ops/bce_cpu_avx2.cpp
  native/ops/bce_cpu_avx512.cpp
  native/ops/dropout_cpu.cpp
  native/ops/embedding_bag_cpu.cpp
  native/ops/embedding_cpu.cpp
  native/ops/gelu_cpu.cpp
  native/ops/layernorm_cpu.cpp
  native/ops/matmul_cpu.cpp
  native/ops/ngram_head_cpu.cpp
  native/ops/pooler_cpu.cpp
  native/ops/sgemm_cpu.cpp
  native/ops/softmax_xent_cpu.cpp
)

# The CUDA twins, compiled when CUDA is on.
set(FML_CUDA_SOURCES
  native/ops/adamw_cuda.cu
  native/ops/attention_cuda.cu
  native/ops/bce_cuda.cu
  native/ops/dropout_cuda.cu
  native/ops/embedding_bag_cuda.cu
  native/ops/embedding_cuda.cu
  native/ops/gelu_cuda.cu
  native/ops/layernorm_cuda.cu
  native/ops/matmul_cuda.cu
  native/ops/pooler_cuda.cu
  native/ops/softmax_xent_cuda.cu
)

# The module entry (NODE_API_MODULE), compiled into each addon.
set(FML_ENTRY_SOURCES
  native/addon/addon.cpp
)

# Benchmark-only entry points: compiled only into fused_multilabel_bench.node (npm run build:bench).
set(FML_BENCH_SOURCES
  native/addon/bench_binding.cpp
)

# The test-only CUDA simulator (native/testing/): never part of an addon. scripts/build-cuda-sim.mjs reads
# these lists and builds build-cuda-sim/cuda_sim_test from them with the host compiler: FML_CUDA_SOURCES and
# FML_CUDA_SIM_KERNELS as instrumented kernel units, FML_CPU_SOURCES outside native/addon/ and
# FML_CUDA_SIM_SOURCES as plain C++.
set(FML_CUDA_SIM_KERNELS
  native/testing/cuda_sim_selftest.cu
)
set(FML_CUDA_SIM_SOURCES
  native/testing/cuda_sim.cpp
  native/testing/cuda_sim_test.cpp
)

# The test-only cross-architecture check (scripts/build-cross-check.mjs, test/foundation/aarch64.test.js): linked
# with FML_CPU_SOURCES outside native/addon/, for this machine and for AArch64 (run under qemu-aarch64).
set(FML_CROSS_CHECK_SOURCES
  native/testing/cross_check.cpp
)
