// JSON-lines logging on stderr: one object per line with ts, level, msg and fields.
// Thread-safe: each line is written with a single call. Never log a secret or a token.
#pragma once
#include <boost/json/object.hpp>
#include <string_view>

namespace monolite::log {

enum class level { debug = 0, info = 1, warn = 2, error = 3 };

void set_level(level minimum);
// False for names other than debug, info, warn, error.
bool parse_level(std::string_view name, level& out);

void write(level lvl, std::string_view msg, boost::json::object fields = {});
inline void debug(std::string_view msg, boost::json::object fields = {}) {
  write(level::debug, msg, std::move(fields));
}
inline void info(std::string_view msg, boost::json::object fields = {}) { write(level::info, msg, std::move(fields)); }
inline void warn(std::string_view msg, boost::json::object fields = {}) { write(level::warn, msg, std::move(fields)); }
inline void error(std::string_view msg, boost::json::object fields = {}) {
  write(level::error, msg, std::move(fields));
}

}  // namespace monolite::log
