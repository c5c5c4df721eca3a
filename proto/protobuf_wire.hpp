// The protobuf wire format, as much of it as libSQL's replication and proxy messages need:
// varints, 64-bit fixed fields, length-delimited fields (bytes, strings, nested messages).
// A reader walks the fields of one message; unknown fields are skipped, as protobuf requires.
// Encoding follows proto3: a writer leaves out nothing itself; callers skip default values.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace monolite::proto::pb {

enum class wire_type : std::uint8_t { varint = 0, fixed64 = 1, length_delimited = 2, fixed32 = 5 };

struct field {
  std::uint32_t number = 0;
  wire_type type = wire_type::varint;
  std::uint64_t number_value = 0;  // varint or fixed
  std::string_view bytes;          // length-delimited
};

class reader {
 public:
  explicit reader(std::string_view message) : rest_(message) {}
  // The next field; nullopt at the end of the message or on malformed input (then failed()).
  std::optional<field> next();
  bool failed() const { return failed_; }

 private:
  std::optional<std::uint64_t> varint();
  std::string_view rest_;
  bool failed_ = false;
};

class writer {
 public:
  writer& varint(std::uint32_t number, std::uint64_t value);
  writer& sint64(std::uint32_t number, std::int64_t value) { return varint(number, std::uint64_t(value)); }
  writer& boolean(std::uint32_t number, bool value) { return varint(number, value ? 1 : 0); }
  writer& bytes(std::uint32_t number, std::string_view value);
  // A nested message, written by `fill` into a writer of its own.
  template <class Fill>
  writer& message(std::uint32_t number, Fill&& fill) {
    writer inner;
    fill(inner);
    return bytes(number, inner.out_);
  }
  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void raw_varint(std::uint64_t value);
  std::string out_;
};

}  // namespace monolite::proto::pb
