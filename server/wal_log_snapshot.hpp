// The body of a Snapshot answer: every page of the database as of a pinned position, as libSQL
// frames in gRPC-web data frames, produced a few pages at a time as the client reads (the read
// transaction of the pin holds the position until the last page went out). libSQL's order: frame
// numbers never increase, and only the last frame (page 1) carries the size, which commits the
// replica's transaction.
#pragma once
#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <memory>

#include "actors/replication_types.hpp"
#include "db/db_image.hpp"
#include "server/responses.hpp"

namespace monolite::server {

class snapshot_body : public body_stream, public std::enable_shared_from_this<snapshot_body> {
 public:
  // `frame_no`: the last frame the image holds (the replica continues after it).
  static proto::result<std::shared_ptr<snapshot_body>> open(std::shared_ptr<actors::pinned_snapshot> pin,
                                                            std::uint64_t frame_no,
                                                            boost::asio::any_io_executor blocking);
  void next(piece_handler deliver) override;
  void cancel() override { cancelled_.store(true, std::memory_order_release); }
  std::uint32_t pages() const { return reader_.info().pages; }

 private:
  snapshot_body(std::shared_ptr<actors::pinned_snapshot> pin, db::image_reader reader, std::uint64_t frame_no,
                boost::asio::any_io_executor blocking);
  piece_result produce();

  std::shared_ptr<actors::pinned_snapshot> pin_;
  db::image_reader reader_;
  std::uint64_t frame_no_;
  boost::asio::any_io_executor blocking_;
  std::uint32_t remaining_;  // pages not sent yet: 1..remaining_, sent from the top down
  std::atomic<bool> cancelled_{false};
};

}  // namespace monolite::server
