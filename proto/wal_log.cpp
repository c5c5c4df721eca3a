#include "proto/wal_log.hpp"

#include "proto/protobuf_wire.hpp"

namespace monolite::proto::wal_log {
namespace {

void put_le(std::string& out, std::uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i)
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

std::uint64_t get_le(std::string_view in, std::size_t at, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i)
    value |= std::uint64_t(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return value;
}

api_error malformed(std::string_view what) { return bad_request("malformed " + std::string(what) + " message"); }

}  // namespace

std::string encode(const hello_response& hello) {
  pb::writer w;
  w.bytes(1, hello.generation_id);
  if (hello.generation_start_index) w.varint(2, hello.generation_start_index);
  w.bytes(3, hello.log_id);
  w.bytes(4, hello.session_token);
  if (hello.current_replication_index) w.varint(5, *hello.current_replication_index);
  return w.take();
}

result<hello_response> decode_hello(std::string_view message) {
  hello_response hello;
  pb::reader r(message);
  while (auto f = r.next()) {
    const bool text = f->type == pb::wire_type::length_delimited;
    const bool number = f->type == pb::wire_type::varint;
    if (f->number == 1 && text) hello.generation_id = f->bytes;
    if (f->number == 2 && number) hello.generation_start_index = f->number_value;
    if (f->number == 3 && text) hello.log_id = f->bytes;
    if (f->number == 4 && text) hello.session_token = f->bytes;
    if (f->number == 5 && number) hello.current_replication_index = f->number_value;
  }
  if (r.failed()) return malformed("HelloResponse");
  return hello;
}

result<std::uint64_t> decode_offset(std::string_view message) {
  std::uint64_t next = 0;
  pb::reader r(message);
  while (auto f = r.next()) {
    if (f->number == 1 && f->type == pb::wire_type::varint) next = f->number_value;
  }
  if (r.failed()) return malformed("LogOffset");
  return result<std::uint64_t>(boost::system::in_place_value, next);
}

std::string encode_offset(std::uint64_t next_offset) {
  pb::writer w;
  if (next_offset) w.varint(1, next_offset);
  return w.take();
}

void append_frame_data(std::string& out, const frame_header& header, std::string_view page) {
  put_le(out, header.frame_no, 8);
  put_le(out, header.checksum, 8);
  put_le(out, header.page_no, 4);
  put_le(out, header.size_after, 4);
  out.append(page);
}

result<frame_header> parse_frame_data(std::string_view data) {
  if (data.size() != frame_size) return bad_request("a replication frame is 4120 bytes");
  return frame_header{get_le(data, 0, 8), get_le(data, 8, 8), static_cast<std::uint32_t>(get_le(data, 16, 4)),
                      static_cast<std::uint32_t>(get_le(data, 20, 4))};
}

std::string encode_frame_message(std::string_view frame_data) {
  pb::writer w;
  w.bytes(1, frame_data);
  return w.take();
}

void append_to_frames(std::string& frames_message, std::string_view frame_data) {
  pb::writer w;
  w.message(1, [&](pb::writer& frame) { frame.bytes(1, frame_data); });
  frames_message += w.str();
}

result<std::string_view> decode_frame_message(std::string_view message) {
  std::string_view data;
  pb::reader r(message);
  while (auto f = r.next()) {
    if (f->number == 1 && f->type == pb::wire_type::length_delimited) data = f->bytes;
  }
  if (r.failed()) return malformed("Frame");
  return data;
}

result<std::vector<std::string_view>> decode_frames(std::string_view message) {
  std::vector<std::string_view> frames;
  pb::reader r(message);
  while (auto f = r.next()) {
    if (f->number != 1 || f->type != pb::wire_type::length_delimited) continue;
    auto data = decode_frame_message(f->bytes);
    if (!data) return data.error();
    frames.push_back(*data);
  }
  if (r.failed()) return malformed("Frames");
  return frames;
}

}  // namespace monolite::proto::wal_log
