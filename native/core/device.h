// Devices, dtypes and raw buffers. The one place that knows whether CUDA was compiled in.
//
// Buffer is the storage behind a JS Tensor: host memory (64-byte aligned) or device memory. The CUDA
// runtime is linked statically, so cuda_probe() works (and reports why not) on machines with no driver.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace pkg {

enum class Device { Cpu, Cuda };
enum class DType { F32, F16, BF16, I8, U8, I32 };

size_t dtype_size(DType t);
const char* dtype_name(DType t);
bool dtype_from_name(const std::string& s, DType* out);
const char* device_name(Device d);

struct CudaDeviceInfo {
  int index;
  std::string name;
  int major, minor;
  size_t total_memory;
};

struct CudaProbe {
  bool available = false;
  int device_count = 0;
  std::vector<CudaDeviceInfo> devices;
  std::string error;  // why CUDA is unavailable; empty when available
};

bool compiled_with_cuda();
const char* cuda_architectures();  // e.g. "sm_80, sm_86, sm_89, sm_90 + PTX"; "" without CUDA
const CudaProbe& cuda_probe();     // probed once, cached; never throws
void require_cuda();               // throws ERR_CUDA with the probe's reason when unavailable

// Raw memory on a device. Throws ERR_CUDA on failure (with file:line and the CUDA message).
void* device_alloc(Device d, size_t bytes);
void device_free(Device d, void* p);
void copy_to_device(Device d, void* dst, const void* src_host, size_t bytes);
void copy_to_host(Device d, void* dst_host, const void* src, size_t bytes);
void device_synchronize(Device d);

// An owned buffer with a dtype and a shape (row-major, no strides).
struct Buffer {
  Device device = Device::Cpu;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  void* data = nullptr;
  size_t numel = 0;

  Buffer() = default;
  Buffer(Device d, DType t, std::vector<int64_t> shape);  // allocates, uninitialised
  ~Buffer() { release(); }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  size_t bytes() const { return numel * dtype_size(dtype); }
  void release();
};

}  // namespace pkg
