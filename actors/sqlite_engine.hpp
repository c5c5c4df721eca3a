// sqlite_engine — the engine over the SQLite actors: reads go to the reader pool, writes to the
//   one writer actor (group commit), Hrana pipelines to the Hrana service.
// Executor: none of its own; the actors it forwards to keep theirs (their headers say which).
// Replies and full mailboxes: as those actors answer (posted to `reply_to`; 503 OVERLOADED).
// The actors stay reachable beside it (server_context) for what only SQLite has: replication,
// read-only mode, checkpoints and their metrics.
#pragma once
#include <memory>

#include "actors/engine.hpp"
#include "actors/hrana_service.hpp"
#include "actors/reader_pool.hpp"
#include "actors/writer_actor.hpp"

namespace monolite::actors {

class sqlite_engine final : public engine {
 public:
  // `readers` must outlive the engine.
  sqlite_engine(std::shared_ptr<writer_actor> writer, reader_pool& readers, std::shared_ptr<hrana::service> hrana);

  void query(proto::statement statement, boost::asio::any_io_executor reply_to, std::size_t home,
             read_handler reply) override;
  void write(proto::write_request request, boost::asio::any_io_executor reply_to, write_handler reply) override;
  void pipeline(std::optional<hrana::stream_ref> baton, bool read_only,
                std::vector<proto::hrana::decoded_request> requests, boost::asio::any_io_executor reply_to,
                std::size_t home, pipeline_handler done) override;
  bool available() const override { return true; }
  std::size_t open_streams() const override { return hrana_->open_streams(); }
  void interrupt() override;
  void close(boost::asio::any_io_executor done_on, std::function<void()> done) override;

 private:
  std::shared_ptr<writer_actor> writer_;
  reader_pool& readers_;
  std::shared_ptr<hrana::service> hrana_;
};

}  // namespace monolite::actors
