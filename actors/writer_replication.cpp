// writer_actor: the replication side — capturing each commit's WAL frames, pinning snapshot
// positions, gating checkpoints and (sync mode) replies on what the replicas hold.
#include <sqlite3.h>

#include <boost/asio/post.hpp>

#include "actors/replicator.hpp"
#include "actors/writer_actor.hpp"

namespace monolite::actors {
namespace asio = boost::asio;
using namespace std::chrono_literals;

void writer_actor::attach_replicator(std::shared_ptr<replicator> rep, const resume_plan& plan,
                                     asio::any_io_executor done_on, std::function<void(proto::result<void>)> done) {
  asio::post(strand_, [self = shared_from_this(), rep = std::move(rep), plan, done_on, done = std::move(done)] {
    // The WAL outlives the connection, so a restart finds the frames the replica continues from.
    int persist = 1;
    sqlite3_file_control(self->conn_.handle(), "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
    self->tail_ = std::make_unique<db::wal_tail>(self->conn_.options().path);
    auto first = self->tail_->start(plan.index, plan.resume_frame, now_ms(), plan.prev_index_frames);
    if (!first) {
      self->tail_.reset();
      return asio::post(done_on, [done, error = first.error()] { done(error); });
    }
    self->replicator_ = rep;
    rep->start(plan, [weak = std::weak_ptr<writer_actor>(self)](pin_handler handler) {
      if (auto writer = weak.lock()) return writer->pin_snapshot(std::move(handler));
      handler(proto::not_ready("the writer is closed"));
    });
    if (*first) rep->on_chunk(std::make_shared<const db::wal_chunk>(std::move(**first)));
    asio::post(done_on, [done] { done(proto::result<void>{}); });
  });
}

void writer_actor::capture_commit(int wal_frames) {
  auto chunk = tail_->capture(static_cast<std::uint32_t>(wal_frames), now_ms());
  if (chunk && *chunk) return replicator_->on_chunk(std::make_shared<const db::wal_chunk>(std::move(**chunk)));
  if (chunk) return;
  // The WAL is not what the tail expects: start over from it as it is, in new generations.
  tail_->start(tail_->position().index + 1);
  replicator_->on_discontinuity();
}

void writer_actor::pin_snapshot(pin_handler handler) {
  asio::post(strand_, [self = shared_from_this(), handler = std::move(handler)] {
    if (self->closed_ || !self->tail_) return handler(proto::not_ready("the writer is closed"));
    db::connection_options options = self->conn_.options();
    options.read_only = true;
    auto reader = db::connection::open(options);
    if (!reader) return handler(reader.error());
    // A read transaction starts with its first read: from then on it sees exactly this position.
    auto begun = reader->exec("BEGIN");
    if (begun) begun = reader->exec("SELECT count(*) FROM sqlite_schema");
    if (!begun) return handler(begun.error());
    auto pin = std::make_shared<pinned_snapshot>();
    pin->reader = std::make_unique<db::connection>(std::move(*reader));
    pin->at = self->tail_->position();
    pin->wal_frames = self->wal_backfilled_ ? 0 : pin->at.frame;
    pin->time_ms = now_ms();
    pin->db_path = options.path;
    handler(std::move(pin));
  });
}

// A checkpoint lets SQLite reuse the WAL from its start, so first the replicas must hold every
// frame captured so far. Writes go on meanwhile; a replica that does not answer within the bound
// does not stop checkpoints for ever (its frames wait in the replicator's memory backlog).
void writer_actor::gated_checkpoint(int mode) {
  if (!replicator_) return checkpoint(mode);
  if (checkpoint_waiting_) return;
  checkpoint_waiting_ = true;
  const auto bound = std::max<std::chrono::milliseconds>(2s, replicator_->options().interval * 4);
  replicator_->when_shipped(tail_->position(), strand_, bound, [self = shared_from_this(), mode](bool) {
    self->checkpoint_waiting_ = false;
    // A lease's open transaction would make the checkpoint stop short; the next commit asks again.
    if (!self->closed_ && !self->leased()) self->checkpoint(mode);
  });
}

// --replica-sync: the reply leaves only once the commit is in every replica; after the bound it
// becomes 503 (committed here, but not known to be replicated — never acknowledged unshipped).
void writer_actor::answer_after_shipping(std::vector<job> group, std::vector<write_outcome> outcomes) {
  auto shared = std::make_shared<std::pair<std::vector<job>, std::vector<write_outcome>>>(std::move(group),
                                                                                          std::move(outcomes));
  replicator_->when_shipped(tail_->position(), strand_, replicator_->options().sync_timeout,
                            [self = shared_from_this(), shared](bool shipped) {
                              if (!shipped) {
                                for (auto& o : shared->second)
                                  if (o.results) o.results = proto::api_error{503, "REPLICA_UNAVAILABLE",
                                      "committed locally but not confirmed by every replica in time", 1};
                              }
                              self->send_replies(shared->first, shared->second);
                            });
}

// Shutdown: with replication, wait (bounded) until the replicas hold everything, and keep the
// WAL (no TRUNCATE) so the next start continues the same generation.
void writer_actor::close_now(asio::any_io_executor done_on, std::function<void()> done) {
  if (!replicator_) {
    checkpoint(SQLITE_CHECKPOINT_TRUNCATE);
    conn_.close();
    return asio::post(done_on, done);
  }
  replicator_->when_shipped(tail_->position(), strand_, 10s, [self = shared_from_this(), done_on, done](bool) {
    self->checkpoint(SQLITE_CHECKPOINT_PASSIVE);
    self->tail_.reset();
    self->replicator_.reset();
    self->conn_.close();
    asio::post(done_on, done);
  });
}

}  // namespace monolite::actors
