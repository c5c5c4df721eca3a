#include "proto/protobuf_wire.hpp"

namespace monolite::proto::pb {

std::optional<std::uint64_t> reader::varint() {
  std::uint64_t value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (rest_.empty()) return std::nullopt;
    const auto byte = static_cast<unsigned char>(rest_.front());
    rest_.remove_prefix(1);
    value |= std::uint64_t(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) return value;
  }
  return std::nullopt;  // more than 10 bytes
}

std::optional<field> reader::next() {
  if (rest_.empty() || failed_) return std::nullopt;
  auto fail = [this]() -> std::optional<field> {
    failed_ = true;
    return std::nullopt;
  };
  const auto key = varint();
  if (!key || (*key >> 3) == 0 || (*key >> 3) > 0x1fffffff) return fail();
  field f{static_cast<std::uint32_t>(*key >> 3), static_cast<wire_type>(*key & 7), 0, {}};
  auto fixed = [&](std::size_t size) -> bool {
    if (rest_.size() < size) return false;
    for (std::size_t i = 0; i < size; ++i)
      f.number_value |= std::uint64_t(static_cast<unsigned char>(rest_[i])) << (8 * i);
    rest_.remove_prefix(size);
    return true;
  };
  switch (f.type) {
    case wire_type::varint: {
      auto v = varint();
      if (!v) return fail();
      f.number_value = *v;
      return f;
    }
    case wire_type::fixed64: return fixed(8) ? std::optional(f) : fail();
    case wire_type::fixed32: return fixed(4) ? std::optional(f) : fail();
    case wire_type::length_delimited: {
      auto size = varint();
      if (!size || *size > rest_.size()) return fail();
      f.bytes = rest_.substr(0, static_cast<std::size_t>(*size));
      rest_.remove_prefix(static_cast<std::size_t>(*size));
      return f;
    }
  }
  return fail();  // groups (3, 4) and reserved types are not ours to read
}

void writer::raw_varint(std::uint64_t value) {
  while (value >= 0x80) {
    out_.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out_.push_back(static_cast<char>(value));
}

writer& writer::varint(std::uint32_t number, std::uint64_t value) {
  raw_varint(std::uint64_t(number) << 3);
  raw_varint(value);
  return *this;
}

writer& writer::bytes(std::uint32_t number, std::string_view value) {
  raw_varint((std::uint64_t(number) << 3) | 2);
  raw_varint(value.size());
  out_.append(value);
  return *this;
}

}  // namespace monolite::proto::pb
