// Encoder bindings: filled in by the encoder work (issue 4).
#include "addon_data.h"

namespace pkg {

void init_encoder(Napi::Env, Napi::Object) {}

}  // namespace pkg
