// LZ4 frame format (what the `lz4` command line tool reads) for replica objects.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "proto/error.hpp"

namespace monolite::replica::lz4 {

using proto::result;

// Compresses piece by piece into one LZ4 frame held in memory.
class compressor {
 public:
  compressor();
  ~compressor();
  compressor(const compressor&) = delete;
  compressor& operator=(const compressor&) = delete;
  void append(std::string_view bytes);
  // The frame's bytes produced so far and not yet taken (a streamed upload sends them on).
  std::size_t pending() const;
  std::string take();
  std::string finish();  // the rest of the frame; the compressor is spent afterwards

 private:
  struct state;
  std::unique_ptr<state> state_;
};

std::string compress(std::string_view bytes);

// Decompresses one frame fed piece by piece as it arrives (a download), handing the output on.
class decompressor {
 public:
  using sink = std::function<bool(std::string_view)>;  // false: stop (feed() returns an error)
  decompressor();
  ~decompressor();
  decompressor(const decompressor&) = delete;
  decompressor& operator=(const decompressor&) = delete;
  result<void> feed(std::string_view piece, const sink& out);
  result<void> finish() const;  // the frame must have ended (not truncated)

 private:
  struct state;
  std::unique_ptr<state> state_;
};

// Decompresses a frame, handing the output to `sink` in pieces; false from the sink stops early.
result<void> decompress(std::string_view frame, const std::function<bool(std::string_view)>& sink);
result<std::string> decompress(std::string_view frame);

}  // namespace monolite::replica::lz4
