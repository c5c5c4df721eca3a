// libSQL's replication service (`wal_log.ReplicationLog`) messages, and the frame its clients
// apply: a 24-byte little-endian header {frame_no u64, checksum u64, page_no u32, size_after u32}
// then one 4096-byte page. size_after != 0 marks the last frame of a transaction (the database's
// size in pages after it). Both directions: the primary encodes, a follower decodes.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/error.hpp"

namespace monolite::proto::wal_log {

inline constexpr std::size_t page_size = 4096;
inline constexpr std::size_t frame_header_size = 24;
inline constexpr std::size_t frame_size = frame_header_size + page_size;
// gRPC messages a client acts on (status 9, FAILED_PRECONDITION).
inline constexpr std::string_view need_snapshot = "NEED_SNAPSHOT";
inline constexpr std::string_view no_hello = "NO_HELLO";
inline constexpr std::string_view session_header = "x-session-token";

struct hello_response {
  std::string generation_id;
  std::uint64_t generation_start_index = 0;
  std::string log_id;
  std::string session_token;
  std::optional<std::uint64_t> current_replication_index;  // the last committed frame_no
};

struct frame_header {
  std::uint64_t frame_no = 0;
  std::uint64_t checksum = 0;
  std::uint32_t page_no = 0;
  std::uint32_t size_after = 0;
};

std::string encode(const hello_response& hello);
result<hello_response> decode_hello(std::string_view message);
// LogOffset.next_offset (absent = 0).
result<std::uint64_t> decode_offset(std::string_view message);
std::string encode_offset(std::uint64_t next_offset);

// One frame's data (header + page) appended to `out`; `page` must be page_size bytes.
void append_frame_data(std::string& out, const frame_header& header, std::string_view page);
result<frame_header> parse_frame_data(std::string_view data);

// `Frame{data}` as a message, and `Frames{repeated Frame}` built frame by frame.
std::string encode_frame_message(std::string_view frame_data);
void append_to_frames(std::string& frames_message, std::string_view frame_data);
// The frames' data of a Frames message (views into `message`), or of one Frame message.
result<std::vector<std::string_view>> decode_frames(std::string_view message);
result<std::string_view> decode_frame_message(std::string_view message);

}  // namespace monolite::proto::wal_log
