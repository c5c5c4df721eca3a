// Hrana over HTTP, encoding: the responses and errors Hrana clients read.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/hrana.hpp"

namespace monolite::proto::hrana {

// {"baton", "base_url": null, "results": [...]}
std::string encode_pipeline_response(const std::optional<std::string>& baton,
                                     const std::vector<stream_result>& results);
// The cursor response: a {"baton", "base_url"} line, then one line per entry (step_begin, row...,
// step_end or step_error), then an error line when the batch as a whole failed.
std::string encode_cursor_response(const std::optional<std::string>& baton, const std::vector<step_outcome>& steps,
                                   const std::optional<error>& failure);
// An HTTP-level error in the shape Hrana clients read ({"message", "code"}), which also carries
// monolite's usual {"error": {"code", "message"}}.
std::string encode_http_error(const api_error& e);

// A monolite error as Hrana reports it: SQLite's base code name (SQLITE_CONSTRAINT_UNIQUE →
// SQLITE_CONSTRAINT), as clients compare codes with ===; BAD_PARAMS → ARGS_INVALID.
error from_api_error(const api_error& e);

}  // namespace monolite::proto::hrana
