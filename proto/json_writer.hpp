// Appends JSON to a string directly, without building a DOM: response bodies are written once,
// so this saves an allocation per value. Text is escaped and made valid UTF-8; floats keep a
// fraction or exponent so clients read them back as floats; infinities become null.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "proto/value.hpp"

namespace monolite::proto {

class json_writer {
 public:
  explicit json_writer(std::string& out) : out_(out) {}

  json_writer& raw(std::string_view text) {
    out_.append(text);
    return *this;
  }
  json_writer& string(std::string_view text);
  json_writer& integer(std::int64_t i);
  json_writer& number(double d);
  json_writer& value(const proto::value& v);

 private:
  void escaped(std::string_view valid_text);
  std::string& out_;
};

}  // namespace monolite::proto
