// Errors and checks shared by every native file.
//
// Rule: native code never calls exit() or abort() on bad input or on a CUDA failure. It throws
// pkg::Error; the addon layer turns that into a JS Error whose `code` is one of the ErrorCode names
// below (ERR_INVALID_ARG becomes a TypeError or RangeError, as `kind` says).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace pkg {

enum class ErrorCode { InvalidArg, Disposed, Busy, Cuda, InvalidFile, Internal };
enum class ErrorKind { Error, TypeError, RangeError };

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, ErrorKind kind, const std::string& msg) : std::runtime_error(msg), code(code), kind(kind) {}
  ErrorCode code;
  ErrorKind kind;
};

inline const char* error_code_name(ErrorCode c) {
  switch (c) {
    case ErrorCode::InvalidArg: return "ERR_INVALID_ARG";
    case ErrorCode::Disposed: return "ERR_DISPOSED";
    case ErrorCode::Busy: return "ERR_BUSY";
    case ErrorCode::Cuda: return "ERR_CUDA";
    case ErrorCode::InvalidFile: return "ERR_INVALID_FILE";
    case ErrorCode::Internal: return "ERR_INTERNAL";
  }
  return "ERR_INTERNAL";
}

[[noreturn]] inline void throw_type(const std::string& msg) { throw Error(ErrorCode::InvalidArg, ErrorKind::TypeError, msg); }
[[noreturn]] inline void throw_range(const std::string& msg) { throw Error(ErrorCode::InvalidArg, ErrorKind::RangeError, msg); }
[[noreturn]] inline void throw_internal(const std::string& msg) { throw Error(ErrorCode::Internal, ErrorKind::Error, msg); }

#define PKG_CHECK_RANGE(cond, msg) \
  do {                             \
    if (!(cond)) ::pkg::throw_range(msg); \
  } while (0)

#define CEIL_DIV(a, b) (((a) + (b) - 1) / (b))

}  // namespace pkg
