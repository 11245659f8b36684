#include "device.h"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

#ifdef __linux__
#include <sys/mman.h>
#endif

#include "common.h"

#ifdef FML_HAVE_CUDA
#include <cuda_runtime_api.h>

#include "cuda_check.h"
#endif

namespace pkg {

size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: case DType::I32: return 4;
    case DType::F16: case DType::BF16: return 2;
    case DType::I8: case DType::U8: return 1;
  }
  return 0;
}

static const char* const kDTypeNames[] = {"float32", "float16", "bfloat16", "int8", "uint8", "int32"};

const char* dtype_name(DType t) { return kDTypeNames[(int)t]; }

bool dtype_from_name(const std::string& s, DType* out) {
  for (int i = 0; i < 6; i++)
    if (s == kDTypeNames[i]) {
      *out = (DType)i;
      return true;
    }
  return false;
}

const char* device_name(Device d) { return d == Device::Cuda ? "cuda" : "cpu"; }

bool compiled_with_cuda() {
#ifdef FML_HAVE_CUDA
  return true;
#else
  return false;
#endif
}

const char* cuda_architectures() {
#ifdef FML_CUDA_ARCHS
  return FML_CUDA_ARCHS;
#else
  return "";
#endif
}

const CudaProbe& cuda_probe() {
  static CudaProbe probe;
  static std::once_flag once;
  std::call_once(once, [] {
#ifdef FML_HAVE_CUDA
    int count = 0;
    cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
      probe.error = cudaGetErrorString(err);
      (void)cudaGetLastError();  // clear the sticky error
      return;
    }
    if (count == 0) {
      probe.error = "no CUDA device found";
      return;
    }
    probe.device_count = count;
    for (int i = 0; i < count; i++) {
      cudaDeviceProp prop;
      if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
      probe.devices.push_back({i, prop.name, prop.major, prop.minor, prop.totalGlobalMem});
    }
    probe.available = true;
#else
    probe.error = "this build of the addon was compiled without CUDA";
#endif
  });
  return probe;
}

void require_cuda() {
  const CudaProbe& p = cuda_probe();
  if (!p.available) throw Error(ErrorCode::Cuda, ErrorKind::Error, "CUDA is not available: " + p.error);
}

void* device_alloc(Device d, size_t bytes) {
  if (bytes == 0) bytes = 1;
  if (d == Device::Cpu) {
    // Arenas of 4 MB and more (a model's parameters, gradients, optimizer state, activations) on 2 MB pages where
    // Linux's transparent huge pages allow it ("madvise" mode, as on Debian): the SGEMM reads weights and
    // activations in rows kilobytes apart, and with 4 KB pages BERT-base's weights alone span 100,000 pages.
    const size_t align = bytes >= ((size_t)4 << 20) ? ((size_t)2 << 20) : 64;
    const size_t rounded = (bytes + align - 1) / align * align;
    void* p = std::aligned_alloc(align, rounded);
    if (!p) throw Error(ErrorCode::InvalidArg, ErrorKind::RangeError,
                        "out of host memory allocating " + std::to_string(bytes) + " bytes");
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (align > 64) (void)madvise(p, rounded, MADV_HUGEPAGE);  // advice only: without it, 4 KB pages
#endif
    return p;
  }
#ifdef FML_HAVE_CUDA
  require_cuda();
  void* p = nullptr;
  PKG_CUDA_CALL(cudaMalloc(&p, bytes));
  return p;
#else
  require_cuda();
  return nullptr;
#endif
}

void device_free(Device d, void* p) {
  if (!p) return;
  if (d == Device::Cpu) {
    std::free(p);
    return;
  }
#ifdef FML_HAVE_CUDA
  (void)cudaFree(p);  // never throws: called from finalizers and destructors
#endif
}

void copy_to_device(Device d, void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  if (d == Device::Cpu) {
    std::memcpy(dst, src, bytes);
    return;
  }
#ifdef FML_HAVE_CUDA
  PKG_CUDA_CALL(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
#else
  require_cuda();
#endif
}

void copy_to_host(Device d, void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  if (d == Device::Cpu) {
    std::memcpy(dst, src, bytes);
    return;
  }
#ifdef FML_HAVE_CUDA
  PKG_CUDA_CALL(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
#else
  require_cuda();
#endif
}

void device_synchronize(Device d) {
  if (d == Device::Cpu) return;
#ifdef FML_HAVE_CUDA
  PKG_CUDA_CALL(cudaDeviceSynchronize());
#endif
}

Buffer::Buffer(Device d, DType t, std::vector<int64_t> s) : device(d), dtype(t), shape(std::move(s)) {
  numel = 1;
  for (int64_t v : shape) numel *= (size_t)v;
  data = device_alloc(d, bytes());
}

void Buffer::release() {
  device_free(device, data);
  data = nullptr;
}

}  // namespace pkg
