// Helpers shared by the test suites.
#pragma once
#include <functional>

#include "core/error.h"

namespace openmapi::testing {

// The MAPI error `f` throws, or Success when it returns.
inline ErrorCode code_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const MapiError& e) {
    return e.code();
  }
  return ErrorCode::Success;
}

}  // namespace openmapi::testing
