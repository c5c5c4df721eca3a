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
  std::string finish();  // the whole frame; the compressor is spent afterwards

 private:
  struct state;
  std::unique_ptr<state> state_;
};

std::string compress(std::string_view bytes);

// Decompresses a frame, handing the output to `sink` in pieces; false from the sink stops early.
result<void> decompress(std::string_view frame, const std::function<bool(std::string_view)>& sink);
result<std::string> decompress(std::string_view frame);

}  // namespace monolite::replica::lz4
