#include "actors/sqlite_engine.hpp"

namespace monolite::actors {

sqlite_engine::sqlite_engine(std::shared_ptr<writer_actor> writer, reader_pool& readers,
                             std::shared_ptr<hrana::service> hrana)
    : writer_(std::move(writer)), readers_(readers), hrana_(std::move(hrana)) {}

void sqlite_engine::query(proto::statement statement, boost::asio::any_io_executor reply_to, std::size_t home,
                          read_handler reply) {
  readers_.submit(std::move(statement), std::move(reply_to), home, std::move(reply));
}

void sqlite_engine::write(proto::write_request request, boost::asio::any_io_executor reply_to, write_handler reply) {
  writer_->submit(std::move(request), std::move(reply_to), std::move(reply));
}

void sqlite_engine::pipeline(std::optional<hrana::stream_ref> baton, bool read_only,
                             std::vector<proto::hrana::decoded_request> requests, boost::asio::any_io_executor reply_to,
                             std::size_t home, pipeline_handler done) {
  hrana_->pipeline(baton, read_only, std::move(requests), std::move(reply_to), home, std::move(done));
}

void sqlite_engine::interrupt() {
  writer_->interrupt();
  readers_.interrupt();
  hrana_->interrupt();
}

// The Hrana timer first (a pending one would keep its pool from joining), then the writer drains,
// checkpoints and closes.
void sqlite_engine::close(boost::asio::any_io_executor done_on, std::function<void()> done) {
  hrana_->stop();
  writer_->close(std::move(done_on), std::move(done));
}

}  // namespace monolite::actors
