// Helpers shared by the test suites.
#pragma once
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <stdexcept>

#include "core/bytes.h"
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

// The bytes of a file; a missing file fails the test (it is a test input, not a case).
inline Bytes read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + p.string());
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace openmapi::testing
