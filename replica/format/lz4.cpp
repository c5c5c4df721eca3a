#include "replica/format/lz4.hpp"

#include <lz4frame.h>

#include <stdexcept>
#include <utility>
#include <vector>

namespace monolite::replica::lz4 {
using proto::internal_error;

namespace {
constexpr std::size_t input_block = 1 << 20;

void check(std::size_t code) {
  if (LZ4F_isError(code)) throw std::runtime_error(std::string("lz4: ") + LZ4F_getErrorName(code));
}
}  // namespace

struct compressor::state {
  LZ4F_cctx* ctx = nullptr;
  LZ4F_preferences_t prefs{};
  std::string out;
  std::vector<char> buffer;
};

compressor::compressor() : state_(std::make_unique<state>()) {
  check(LZ4F_createCompressionContext(&state_->ctx, LZ4F_VERSION));
  state_->prefs.frameInfo.blockSizeID = LZ4F_max1MB;
  state_->prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
  state_->buffer.resize(LZ4F_compressBound(input_block, &state_->prefs) + LZ4F_HEADER_SIZE_MAX);
  const std::size_t n = LZ4F_compressBegin(state_->ctx, state_->buffer.data(), state_->buffer.size(), &state_->prefs);
  check(n);
  state_->out.append(state_->buffer.data(), n);
}

compressor::~compressor() {
  if (state_ && state_->ctx) LZ4F_freeCompressionContext(state_->ctx);
}

void compressor::append(std::string_view bytes) {
  while (!bytes.empty()) {
    const std::size_t take = std::min(bytes.size(), input_block);
    const std::size_t n =
        LZ4F_compressUpdate(state_->ctx, state_->buffer.data(), state_->buffer.size(), bytes.data(), take, nullptr);
    check(n);
    state_->out.append(state_->buffer.data(), n);
    bytes.remove_prefix(take);
  }
}

std::size_t compressor::pending() const { return state_->out.size(); }

std::string compressor::take() { return std::exchange(state_->out, std::string()); }

std::string compressor::finish() {
  const std::size_t n = LZ4F_compressEnd(state_->ctx, state_->buffer.data(), state_->buffer.size(), nullptr);
  check(n);
  state_->out.append(state_->buffer.data(), n);
  return std::move(state_->out);
}

std::string compress(std::string_view bytes) {
  compressor c;
  c.append(bytes);
  return c.finish();
}

struct decompressor::state {
  LZ4F_dctx* ctx = nullptr;
  std::vector<char> out = std::vector<char>(4 << 20);
  bool ended = false;  // the frame's end mark (and checksum) was read
};

decompressor::decompressor() : state_(std::make_unique<state>()) {
  check(LZ4F_createDecompressionContext(&state_->ctx, LZ4F_VERSION));
}

decompressor::~decompressor() {
  if (state_ && state_->ctx) LZ4F_freeDecompressionContext(state_->ctx);
}

result<void> decompressor::feed(std::string_view piece, const sink& out) {
  while (!piece.empty()) {
    if (state_->ended) return internal_error("corrupt LZ4 data: bytes after the end of the frame");
    std::size_t out_size = state_->out.size(), in_size = piece.size();
    const std::size_t hint =
        LZ4F_decompress(state_->ctx, state_->out.data(), &out_size, piece.data(), &in_size, nullptr);
    if (LZ4F_isError(hint)) return internal_error(std::string("corrupt LZ4 data: ") + LZ4F_getErrorName(hint));
    piece.remove_prefix(in_size);
    state_->ended = hint == 0;
    if (out_size > 0 && !out(std::string_view(state_->out.data(), out_size)))
      return internal_error("stopped by the reader");
  }
  return {};
}

result<void> decompressor::finish() const {
  if (!state_->ended) return internal_error("truncated LZ4 data");
  return {};
}

result<void> decompress(std::string_view frame, const std::function<bool(std::string_view)>& sink) {
  decompressor d;
  bool stopped = false;
  auto fed = d.feed(frame, [&](std::string_view piece) { return (stopped = !sink(piece)), !stopped; });
  if (stopped) return {};
  if (!fed) return fed;
  return d.finish();
}

result<std::string> decompress(std::string_view frame) {
  std::string out;
  auto done = decompress(frame, [&](std::string_view piece) {
    out.append(piece);
    return true;
  });
  if (!done) return done.error();
  return out;
}

}  // namespace monolite::replica::lz4
