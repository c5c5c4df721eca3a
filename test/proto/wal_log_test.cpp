#include "proto/wal_log.hpp"

#include <boost/test/unit_test.hpp>

#include "proto/grpc_web.hpp"
#include "proto/protobuf_wire.hpp"

using namespace monolite::proto;

BOOST_AUTO_TEST_SUITE(wal_log_wire)

BOOST_AUTO_TEST_CASE(varints_and_bytes_round_trip_and_unknown_fields_are_skipped) {
  pb::writer w;
  w.varint(1, 0).varint(2, 300).varint(3, ~0ull).bytes(4, "abc").sint64(5, -2);
  pb::reader r(w.str());
  std::vector<std::uint64_t> numbers;
  std::string text;
  while (auto f = r.next()) {
    if (f->type == pb::wire_type::varint) numbers.push_back(f->number_value);
    if (f->type == pb::wire_type::length_delimited) text = f->bytes;
  }
  BOOST_TEST(!r.failed());
  BOOST_TEST((numbers == std::vector<std::uint64_t>{0, 300, ~0ull, std::uint64_t(-2)}));
  BOOST_TEST(text == "abc");
}

BOOST_AUTO_TEST_CASE(truncated_or_overlong_input_fails) {
  for (std::string bad : {std::string("\x08", 1),
                          std::string("\x12\x05"
                                      "ab",
                                      4),
                          std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12), std::string("\x0b", 1),
                          std::string("\x00\x01", 2)}) {
    pb::reader r(bad);
    while (r.next()) {}
    BOOST_TEST(r.failed(), "accepted " << bad.size() << " bytes");
  }
}

BOOST_AUTO_TEST_CASE(hello_response_round_trips) {
  wal_log::hello_response hello{"gen", 42, "log", "token", 99};
  auto back = wal_log::decode_hello(wal_log::encode(hello));
  BOOST_REQUIRE(back);
  BOOST_TEST(back->generation_id == "gen");
  BOOST_TEST(back->generation_start_index == 42u);
  BOOST_TEST(back->log_id == "log");
  BOOST_TEST(back->session_token == "token");
  BOOST_TEST(back->current_replication_index.value_or(0) == 99u);
  hello.current_replication_index.reset();
  BOOST_TEST(!wal_log::decode_hello(wal_log::encode(hello))->current_replication_index);
}

BOOST_AUTO_TEST_CASE(the_client_s_offsets_decode) {
  BOOST_TEST(*wal_log::decode_offset("") == 0u);  // BatchLogEntries from 0 is an empty message
  BOOST_TEST(*wal_log::decode_offset(wal_log::encode_offset(12345)) == 12345u);
  BOOST_TEST(wal_log::decode_offset("\x08").has_error());
}

BOOST_AUTO_TEST_CASE(frames_carry_their_little_endian_header_and_page) {
  const std::string page(wal_log::page_size, 'p');
  std::string data;
  wal_log::append_frame_data(data, {0x0102030405060708ull, 7, 3, 9}, page);
  BOOST_REQUIRE_EQUAL(data.size(), wal_log::frame_size);
  BOOST_TEST(static_cast<unsigned char>(data[0]) == 0x08);  // little-endian frame_no
  BOOST_TEST(static_cast<unsigned char>(data[16]) == 3);    // page_no
  auto header = wal_log::parse_frame_data(data);
  BOOST_REQUIRE(header);
  BOOST_TEST(header->frame_no == 0x0102030405060708ull);
  BOOST_TEST(header->size_after == 9u);
  BOOST_TEST(wal_log::parse_frame_data(data.substr(1)).has_error());
  std::string frames;
  wal_log::append_to_frames(frames, data);
  wal_log::append_to_frames(frames, data);
  auto decoded = wal_log::decode_frames(frames);
  BOOST_REQUIRE(decoded);
  BOOST_REQUIRE_EQUAL(decoded->size(), 2u);
  BOOST_TEST((*decoded)[1] == data);
  BOOST_TEST(*wal_log::decode_frame_message(wal_log::encode_frame_message(data)) == data);
}

BOOST_AUTO_TEST_CASE(grpc_web_frames_requests_and_trailers) {
  std::string body;
  grpc_web::append_message(body, "\x08\x01");
  BOOST_TEST(body == std::string("\x00\x00\x00\x00\x02\x08\x01", 7));
  BOOST_TEST(*grpc_web::request_message(body) == "\x08\x01");
  BOOST_TEST(grpc_web::request_message(std::string("\x00\x00\x00\x00\x00", 5))->empty());
  for (std::string bad : {std::string("\x00\x00", 2), std::string("\x01\x00\x00\x00\x00", 5),
                          std::string("\x00\x00\x00\x00\x03\x08", 6), body + body}) {
    BOOST_TEST(grpc_web::request_message(bad).has_error());
  }
  std::string trailers;
  grpc_web::append_trailers(trailers, grpc_web::status::failed_precondition, "NEED_SNAPSHOT 100%");
  BOOST_TEST(trailers.substr(5) == "grpc-status:9\r\ngrpc-message:NEED_SNAPSHOT 100%25\r\n");
  BOOST_TEST(static_cast<unsigned char>(trailers[0]) == 0x80);
}

BOOST_AUTO_TEST_SUITE_END()
