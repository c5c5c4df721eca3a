#include "server/wal_log_snapshot.hpp"

#include <boost/asio/post.hpp>

#include "common/log.hpp"
#include "proto/grpc_web.hpp"
#include "proto/wal_log.hpp"

namespace monolite::server {

namespace wal_log = proto::wal_log;

namespace {
constexpr std::uint32_t pages_per_piece = 64;  // 256 KiB of pages in memory per snapshot at most
}

proto::result<std::shared_ptr<snapshot_body>> snapshot_body::open(std::shared_ptr<actors::pinned_snapshot> pin,
                                                                  std::uint64_t frame_no,
                                                                  boost::asio::any_io_executor blocking) {
  auto reader = db::image_reader::open(pin->db_path, pin->wal_frames);
  if (!reader) return reader.error();
  if (reader->info().page_size != wal_log::page_size)
    return proto::api_error{409, "PAGE_SIZE", "libSQL replicas need a database of 4096-byte pages"};
  return std::shared_ptr<snapshot_body>(
      new snapshot_body(std::move(pin), std::move(*reader), frame_no, std::move(blocking)));
}

snapshot_body::snapshot_body(std::shared_ptr<actors::pinned_snapshot> pin, db::image_reader reader,
                             std::uint64_t frame_no, boost::asio::any_io_executor blocking)
    : pin_(std::move(pin)),
      reader_(std::move(reader)),
      frame_no_(frame_no),
      blocking_(std::move(blocking)),
      remaining_(reader_.info().pages) {}

void snapshot_body::next(piece_handler deliver) {
  boost::asio::post(blocking_, [self = shared_from_this(), deliver = std::move(deliver)] {
    if (self->cancelled_.load(std::memory_order_acquire)) return deliver(piece{{}, true, {}});
    deliver(self->produce());
  });
}

piece_result snapshot_body::produce() {
  const std::uint32_t count = std::min(pages_per_piece, remaining_);
  const std::uint32_t first = remaining_ - count + 1;
  std::string pages;
  if (auto read = reader_.read_pages(first, count, pages); !read) {
    log::error("a snapshot for a replica failed", {{"error", read.error().message}});
    return boost::system::errc::make_error_code(boost::system::errc::io_error);  // the body ends unfinished
  }
  piece out;
  std::string data;
  for (std::uint32_t page_no = remaining_; page_no >= first && page_no > 0; --page_no) {
    data.clear();
    const std::uint32_t size_after = page_no == 1 ? reader_.info().pages : 0;
    const std::string_view page(pages.data() + std::size_t(page_no - first) * wal_log::page_size, wal_log::page_size);
    wal_log::append_frame_data(data, {frame_no_, 0, page_no, size_after}, page);
    proto::grpc_web::append_message(out.bytes, wal_log::encode_frame_message(data));
  }
  remaining_ = first - 1;
  if (remaining_ == 0) {
    proto::grpc_web::append_trailers(out.bytes, proto::grpc_web::status::ok);
    out.last = true;
    pin_.reset();  // the read transaction ends with the last page
  }
  return out;
}

}  // namespace monolite::server
