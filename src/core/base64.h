// Base64 (RFC 4648 section 4), one implementation for every door: HTTP Basic and SASL want the
// strict form, vCard and friends the tolerant one. Thread-safe (no state).
#pragma once
#include <optional>
#include <string>
#include <string_view>

#include "core/bytes.h"

namespace openmapi {

std::string base64_encode(ByteView data);
// Strict: a multiple of four characters of the alphabet, '=' padding only at the end; nullopt
// for anything else (whitespace included). The output is bounded by the input.
std::optional<std::string> base64_decode_strict(std::string_view in);
// Tolerant: skips whitespace, stops at the first '=', accepts the URL-safe alphabet ('-', '_')
// too; nullopt for any other character.
std::optional<Bytes> base64_decode_lenient(std::string_view in);

}  // namespace openmapi
