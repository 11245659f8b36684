// Link-time placeholder for the fused BCE kernels while they are developed on the `losses` branch
// (issue 3). Weak symbols: the real bce_fused_cpu/bce_fused_cuda in native/ops/bce_*.{cpp,cu} replace
// these at link time. This file computes nothing; delete it once the loss kernels are merged.
#include "../core/common.h"
#include "../ops/bce.h"

namespace pkg {

__attribute__((weak)) BceResult bce_fused_cpu(const BceArgs&) {
  throw Error(ErrorCode::Internal, ErrorKind::Error, "the fused BCE kernels are not built into this binary");
}

#ifdef FML_HAVE_CUDA
__attribute__((weak)) BceResult bce_fused_cuda(const BceArgs&) {
  throw Error(ErrorCode::Internal, ErrorKind::Error, "the fused BCE kernels are not built into this binary");
}
#endif

}  // namespace pkg
