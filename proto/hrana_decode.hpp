// Hrana over HTTP, decoding: pipeline and cursor request bodies from JSON.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/hrana.hpp"

namespace monolite::proto::hrana {

std::string_view request_name(request_kind kind);

// A malformed body (not JSON, not an object, no "requests" array) is an HTTP 400.
result<pipeline_body> decode_pipeline(std::string_view body);
result<cursor_body> decode_cursor(std::string_view body);

}  // namespace monolite::proto::hrana
