// PKG_HD marks per-element math shared by a CPU twin and its CUDA twin: compiled for both host and
// device under nvcc, plain inline C++ elsewhere, so the CPU tests prove the arithmetic the GPU runs.
#pragma once

#ifndef PKG_HD
#ifdef __CUDACC__
#define PKG_HD __host__ __device__ __forceinline__
#else
#define PKG_HD inline
#endif
#endif
