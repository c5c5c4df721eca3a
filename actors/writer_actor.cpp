#include "actors/writer_actor.hpp"

#include "actors/replicator.hpp"
#include "common/strand_check.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <boost/asio/post.hpp>

namespace monolite::actors {
namespace asio = boost::asio;

proto::result<std::shared_ptr<writer_actor>> writer_actor::open(asio::any_io_executor executor,
                                                                const db::connection_options& db_options,
                                                                const writer_options& options) {
  auto conn = db::connection::open(db_options);
  if (!conn) return conn.error();
  std::shared_ptr<writer_actor> actor(new writer_actor(executor, std::move(*conn), options));
  sqlite3_wal_hook(actor->conn_.handle(), &writer_actor::on_wal_commit, actor.get());
  asio::post(actor->strand_, [actor] { actor->arm_idle_timer(); });
  return actor;
}

writer_actor::writer_actor(asio::any_io_executor executor, db::connection conn, const writer_options& options)
    : strand_(asio::make_strand(executor)), idle_timer_(strand_), conn_(std::move(conn)), options_(options) {}

int writer_actor::on_wal_commit(void* self, ::sqlite3*, const char*, int pages) {
  auto* writer = static_cast<writer_actor*>(self);
  MONOLITE_ASSERT_ON_STRAND(writer->strand_);  // commits happen only in the strand's transactions
  writer->wal_pages_ = pages;
  writer->write_commits_.fetch_add(1, std::memory_order_acq_rel);
  writer->wal_backfilled_ = false;
  if (writer->tail_) writer->capture_commit(pages);
  return SQLITE_OK;
}

void writer_actor::submit(proto::write_request request, asio::any_io_executor reply_to, reply_handler reply) {
  auto refuse = [&](proto::api_error error) {
    asio::post(reply_to, [reply = std::move(reply), error = std::move(error)] { reply(write_outcome{error, 0}); });
  };
  if (closing_.load(std::memory_order_acquire)) return refuse(proto::not_ready("the server is shutting down"));
  // Early only: the strand's gate in enqueue() decides for the writes racing with the switch.
  if (read_only()) return refuse(proto::read_only("the server is read-only; writes are refused"));
  if (in_flight_.fetch_add(1, std::memory_order_acq_rel) >= options_.mailbox_capacity) {
    in_flight_.fetch_sub(1, std::memory_order_acq_rel);
    rejected_full_.fetch_add(1, std::memory_order_relaxed);
    return refuse(proto::overloaded("the writer's queue is full; retry shortly"));
  }
  asio::post(strand_, [self = shared_from_this(), j = job{std::move(request), reply_to, std::move(reply)}]() mutable {
    self->enqueue(std::move(j));
  });
}

void writer_actor::enqueue(job j) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (closed_) {  // raced with close(): the connection is gone
    in_flight_.fetch_sub(1, std::memory_order_acq_rel);
    asio::post(j.reply_to, [reply = std::move(j.reply)] {
      reply(write_outcome{proto::not_ready("the server is shutting down"), 0});
    });
    return;
  }
  if (refuse_if_read_only(j)) return;
  pending_.push_back(std::move(j));
  if (drain_scheduled_) return;
  // Posted behind the submissions already queued on the strand, so they join this group.
  drain_scheduled_ = true;
  asio::post(strand_, [self = shared_from_this()] { self->drain(); });
}

void writer_actor::drain() {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  drain_scheduled_ = false;
  if (pending_.empty() || closed_ || leased()) return;  // a lease's end drains what waited
  std::vector<job> group;
  if (pending_.size() <= options_.max_group) {
    group.swap(pending_);
  } else {
    group.assign(std::make_move_iterator(pending_.begin()),
                 std::make_move_iterator(pending_.begin() + static_cast<long>(options_.max_group)));
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(options_.max_group));
    drain_scheduled_ = true;
    asio::post(strand_, [self = shared_from_this()] { self->drain(); });
  }
  std::vector<const proto::write_request*> requests;
  requests.reserve(group.size());
  for (const auto& j : group)
    requests.push_back(&j.request);
  const auto began = std::chrono::steady_clock::now();
  auto outcomes = run_group_commit(conn_, requests);
  record_group(group, outcomes, std::chrono::steady_clock::now() - began);
  answer(group, outcomes);
  checkpoint_if_due();
  settle_read_only();
}

void writer_actor::answer(std::vector<job>& group, std::vector<write_outcome>& outcomes) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  const bool committed =
      std::any_of(outcomes.begin(), outcomes.end(), [](const auto& o) { return o.results.has_value(); });
  if (committed) commits_.fetch_add(1, std::memory_order_relaxed);
  if (committed && replicator_ && replicator_->sync())
    return answer_after_shipping(std::move(group), std::move(outcomes));
  send_replies(group, outcomes);
}

void writer_actor::record_group(const std::vector<job>& group, const std::vector<write_outcome>& outcomes,
                                std::chrono::steady_clock::duration took) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  const auto us = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(took).count());
  busy_us_.fetch_add(us, std::memory_order_relaxed);
  std::uint64_t statements = 0, committed = 0;
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (!outcomes[i].results) continue;
    statements += group[i].request.statements.size();
    ++committed;
  }
  if (committed == 0) return;
  write_statements_.fetch_add(statements, std::memory_order_relaxed);
  commit_durations_.observe(us);
  group_sizes_.observe(committed);
}

void writer_actor::send_replies(std::vector<job>& group, std::vector<write_outcome>& outcomes) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  // Counted out before the replies leave, so a caller that got its reply sees the counters settled.
  requests_.fetch_add(group.size(), std::memory_order_relaxed);
  in_flight_.fetch_sub(group.size(), std::memory_order_acq_rel);
  for (std::size_t i = 0; i < group.size(); ++i) {
    asio::post(group[i].reply_to, [reply = std::move(group[i].reply), outcome = std::move(outcomes[i])]() mutable {
      reply(std::move(outcome));
    });
  }
}

void writer_actor::checkpoint_if_due() {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (wal_pages_ >= options_.truncate_checkpoint_pages)
    gated_checkpoint(SQLITE_CHECKPOINT_TRUNCATE);
  else if (wal_pages_ >= options_.passive_checkpoint_pages)
    gated_checkpoint(SQLITE_CHECKPOINT_PASSIVE);
}

void writer_actor::checkpoint(int mode) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  // A snapshot being uploaded holds its read transaction, which TRUNCATE would wait for (up to
  // the busy timeout, every commit queued behind it); PASSIVE copies what it can and returns.
  if (mode == SQLITE_CHECKPOINT_TRUNCATE && pins_alive_->load(std::memory_order_acquire) > 0)
    mode = SQLITE_CHECKPOINT_PASSIVE;
  int wal_frames = 0, checkpointed = 0;
  const int rc = sqlite3_wal_checkpoint_v2(conn_.handle(), nullptr, mode, &wal_frames, &checkpointed);
  checkpoints_.fetch_add(1, std::memory_order_relaxed);
  // Readers on older snapshots stop a checkpoint short of the WAL's end: the WAL cannot restart.
  if (rc != SQLITE_OK || checkpointed < wal_frames) checkpoints_incomplete_.fetch_add(1, std::memory_order_relaxed);
  // Frames still in the WAL after a full backfill are reused from the start by the next commit.
  wal_backfilled_ = rc == SQLITE_OK && wal_frames == checkpointed;
  if (wal_backfilled_ && tail_) tail_->write_mark();
  wal_pages_ = wal_backfilled_ ? 0 : wal_frames - checkpointed;
}

void writer_actor::arm_idle_timer() {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (closed_) return;
  idle_timer_.expires_after(options_.idle_checkpoint);
  idle_timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
    if (ec || self->closed_) return;
    const auto commits = self->commits_.load(std::memory_order_relaxed);
    if (commits == self->commits_at_last_tick_ && self->wal_pages_ > 0 && self->pending_.empty() && !self->leased())
      self->gated_checkpoint(SQLITE_CHECKPOINT_PASSIVE);
    self->commits_at_last_tick_ = commits;
    self->arm_idle_timer();
  });
}

void writer_actor::close(asio::any_io_executor done_on, std::function<void()> done) {
  closing_.store(true, std::memory_order_release);
  asio::post(strand_, [self = shared_from_this(), done_on, done = std::move(done)] {
    // Submissions accepted before closing_ was set are already on the strand ahead of us
    // or in pending_: answer them first.
    self->abandon_lease();
    while (!self->pending_.empty())
      self->drain();
    self->settle_read_only();
    self->closed_ = true;
    self->idle_timer_.cancel();
    self->close_now(done_on, std::move(done));
  });
}

void writer_actor::interrupt() { conn_.interrupt(); }

writer_stats writer_actor::stats() const {
  return {commits_.load(std::memory_order_relaxed),
          requests_.load(std::memory_order_relaxed),
          rejected_full_.load(std::memory_order_relaxed),
          checkpoints_.load(std::memory_order_relaxed),
          in_flight_.load(std::memory_order_relaxed),
          write_statements_.load(std::memory_order_relaxed),
          busy_us_.load(std::memory_order_relaxed),
          checkpoints_incomplete_.load(std::memory_order_relaxed),
          commit_durations_.counts(),
          group_sizes_.counts(),
          read_only()};
}

// writer_actor: the replication side — capturing each commit's WAL frames, pinning snapshot
// positions, gating checkpoints and (sync mode) replies on what the replicas hold.
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
  MONOLITE_ASSERT_ON_STRAND(strand_);
  auto chunk = tail_->capture(static_cast<std::uint32_t>(wal_frames), now_ms());
  if (chunk && *chunk) {
    auto shared = std::make_shared<const db::wal_chunk>(std::move(**chunk));
    if (frame_sink_) {
      frame_sink_->on_commit(shared, next_frame_no_);
      next_frame_no_ += shared->frame_count();
      next_frame_no_published_.store(next_frame_no_, std::memory_order_release);
    }
    if (replicator_) replicator_->on_chunk(std::move(shared));
    return;
  }
  if (chunk) return;
  // The WAL is not what the tail expects: start over from it as it is, in new generations.
  tail_->start(tail_->position().index + 1);
  if (replicator_) replicator_->on_discontinuity();
  if (frame_sink_) frame_sink_->on_gap(next_frame_no_);
}

void writer_actor::attach_frame_sink(std::shared_ptr<frame_sink> sink, std::uint64_t next_frame_no,
                                     asio::any_io_executor done_on, std::function<void(proto::result<void>)> done) {
  asio::post(strand_, [self = shared_from_this(), sink = std::move(sink), next_frame_no, done_on,
                       done = std::move(done)]() mutable {
    if (!self->tail_) {  // no replicator: follow the WAL from where it stands now
      self->tail_ = std::make_unique<db::wal_tail>(self->conn_.options().path);
      if (auto started = self->tail_->start(0); !started) {
        self->tail_.reset();
        return asio::post(done_on, [done, error = started.error()] { done(error); });
      }
    }
    self->frame_sink_ = std::move(sink);
    self->next_frame_no_ = next_frame_no;
    self->next_frame_no_published_.store(next_frame_no, std::memory_order_release);
    asio::post(done_on, [done] { done(proto::result<void>{}); });
  });
}

void writer_actor::pin_snapshot(pin_handler handler) {
  asio::post(strand_, [self = shared_from_this(), handler = std::move(handler)] {
    // Not closed_: while close_now() waits for the replicas the connection is still open, and a
    // replica that has not pinned its first snapshot yet cannot hold anything without this one.
    if (!self->tail_) return handler(proto::not_ready("the writer is closed"));
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
    pin->next_frame_no = self->next_frame_no_;
    pin->wal_frames = self->wal_backfilled_ ? 0 : pin->at.frame;
    pin->time_ms = now_ms();
    pin->db_path = options.path;
    pin->pins_alive = self->pins_alive_;
    self->pins_alive_->fetch_add(1, std::memory_order_acq_rel);
    handler(std::move(pin));
  });
}

// A checkpoint lets SQLite reuse the WAL from its start, so first the replicas must hold every
// frame captured so far. Writes go on meanwhile; a replica that does not answer within the bound
// does not stop checkpoints for ever (its frames wait in the replicator's memory backlog).
void writer_actor::gated_checkpoint(int mode) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
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
  MONOLITE_ASSERT_ON_STRAND(strand_);
  auto shared =
      std::make_shared<std::pair<std::vector<job>, std::vector<write_outcome>>>(std::move(group), std::move(outcomes));
  replicator_->when_shipped(tail_->position(), strand_, replicator_->options().sync_timeout,
                            [self = shared_from_this(), shared](bool shipped) {
                              if (!shipped) {
                                for (auto& o : shared->second)
                                  if (o.results)
                                    o.results = proto::api_error{
                                        503, "REPLICA_UNAVAILABLE",
                                        "committed locally but not confirmed by every replica in time", 1};
                              }
                              self->send_replies(shared->first, shared->second);
                            });
}

// Shutdown: with replication, wait (bounded) until the replicas hold everything, and keep the
// WAL (no TRUNCATE) so the next start continues the same generation.
void writer_actor::close_now(asio::any_io_executor done_on, std::function<void()> done) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (!replicator_) {
    checkpoint(SQLITE_CHECKPOINT_TRUNCATE);
    tail_.reset();
    frame_sink_.reset();
    conn_.close();
    return asio::post(done_on, done);
  }
  replicator_->when_shipped(tail_->position(), strand_, 10s, [self = shared_from_this(), done_on, done](bool) {
    self->checkpoint(SQLITE_CHECKPOINT_PASSIVE);
    self->tail_.reset();
    self->replicator_.reset();
    self->frame_sink_.reset();
    self->conn_.close();
    asio::post(done_on, done);
  });
}

}  // namespace monolite::actors
