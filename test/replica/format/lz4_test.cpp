// lz4::decompressor: a frame fed in pieces as it is downloaded.
#include "replica/format/lz4.hpp"

#include <boost/test/unit_test.hpp>

using namespace monolite::replica;

namespace {

std::string sample(std::size_t size) {
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; ++i)
    out[i] = static_cast<char>((i * 2654435761u) >> 13);  // compresses a little, not much
  return out;
}

// The frame fed `piece` bytes at a time; what came out, or the error.
monolite::proto::result<std::string> fed_in_pieces(std::string_view frame, std::size_t piece) {
  lz4::decompressor d;
  std::string out;
  for (std::size_t at = 0; at < frame.size(); at += piece) {
    auto fed = d.feed(frame.substr(at, piece), [&](std::string_view bytes) { return out.append(bytes), true; });
    if (!fed) return fed.error();
  }
  if (auto ended = d.finish(); !ended) return ended.error();
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(replica_lz4)

BOOST_AUTO_TEST_CASE(any_piece_size_gives_the_same_bytes) {
  const std::string data = sample(5 << 20);  // several 1 MiB blocks and a 4 MiB output buffer
  const std::string frame = lz4::compress(data);
  for (std::size_t piece : {std::size_t{1} << 20, std::size_t{65521}, std::size_t{7}, frame.size()})
    BOOST_TEST((fed_in_pieces(frame, piece).value() == data), "pieces of " << piece);
}

BOOST_AUTO_TEST_CASE(a_truncated_frame_fails_at_finish) {
  const std::string frame = lz4::compress(sample(100000));
  auto cut = fed_in_pieces(frame.substr(0, frame.size() - 3), 1000);
  BOOST_REQUIRE(!cut.has_value());
  BOOST_TEST(cut.error().message == "truncated LZ4 data");
}

BOOST_AUTO_TEST_CASE(bytes_after_the_frame_and_corruption_are_errors) {
  const std::string frame = lz4::compress(sample(100000));
  auto extra = fed_in_pieces(frame + "x", 1000);
  BOOST_REQUIRE(!extra.has_value());
  BOOST_TEST(extra.error().message.find("after the end of the frame") != std::string::npos);
  std::string bad = frame;
  bad[bad.size() / 2] ^= 0x55;
  BOOST_TEST(!fed_in_pieces(bad, 4096).has_value());
}

BOOST_AUTO_TEST_CASE(compressor_pieces_taken_early_make_the_same_frame) {
  const std::string data = sample(3 << 20);
  lz4::compressor c;
  std::string frame;
  for (std::size_t at = 0; at < data.size(); at += 300000) {
    c.append(std::string_view(data).substr(at, 300000));
    if (c.pending() > 0) frame += c.take();
    BOOST_TEST(c.pending() == 0u);
  }
  frame += c.finish();
  BOOST_TEST(lz4::decompress(frame).value() == data);
}

BOOST_AUTO_TEST_SUITE_END()
