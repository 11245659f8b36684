// CUDA errors become pkg::Error with code ERR_CUDA (never exit()): PKG_CUDA_CALL around a runtime call,
// PKG_LAUNCH_CHECK() after a kernel launch. For sources built with CUDA only.
#pragma once

#include <cuda_runtime_api.h>

#include <string>

#include "common.h"

namespace pkg {

[[noreturn]] inline void throw_cuda(cudaError_t err, const char* what, const char* file, int line) {
  throw Error(ErrorCode::Cuda, ErrorKind::Error,
              std::string("CUDA error in ") + what + " (" + file + ":" + std::to_string(line) + "): " +
                  cudaGetErrorString(err));
}

}  // namespace pkg

#define PKG_CUDA_CALL(call)                                                      \
  do {                                                                           \
    cudaError_t err_ = (call);                                                   \
    if (err_ != cudaSuccess) ::pkg::throw_cuda(err_, #call, __FILE__, __LINE__); \
  } while (0)

#define PKG_LAUNCH_CHECK()                                                                 \
  do {                                                                                     \
    cudaError_t err_ = cudaGetLastError();                                                 \
    if (err_ != cudaSuccess) ::pkg::throw_cuda(err_, "a kernel launch", __FILE__, __LINE__); \
  } while (0)
