// Where a stream's work runs: the writer under the stream's lease, a shared reader, or the
// stream's pinned reader; and a batch's walk between them.
#include <sqlite3.h>

#include "actors/hrana_pipeline.hpp"

namespace monolite::actors::hrana {

place pipeline_run::place_for(const batch_run& run) const {
  switch (stream_->transaction) {
    case stream::txn::write: return place::writer;
    case stream::txn::read: return place::pinned;
    case stream::txn::none: break;
  }
  return run.move_to.value_or(first_place(run, stream_->settings));
}

bool pipeline_run::read_transaction_too_old() const {
  return stream_->transaction == stream::txn::read &&
         clock::now() - stream_->read_since > svc_->limits_.transaction_timeout;
}

// Runs steps where they belong until all ran; each hop comes back here through `reply_to_`.
void pipeline_run::run_batch(std::shared_ptr<batch_run> run, std::function<void()> then) {
  if (run->failure || run->next >= run->steps.size()) return then();
  if (++run->rounds > 2 * run->steps.size() + 4) {
    run->failure = ph::error{"the batch could not be placed on a connection", "INTERNAL"};
    return then();
  }
  if (read_transaction_too_old()) {
    return svc_->end_transaction(stream_, reply_to_, [run, then = std::move(then)] {
      run->failure = transaction_timeout_error();
      then();
    });
  }
  auto* settings = &stream_->settings;
  on_place(
      place_for(*run),
      [run, settings](db::connection& conn, place where, lease_state state) {
        if (state == lease_state::expired) run->failure = transaction_timeout_error();
        else run_steps(conn, where, *run, *settings);
      },
      [self = shared_from_this(), run, then = std::move(then)](proto::result<void> ran) mutable {
        if (!ran) run->failure = ph::from_api_error(ran.error());
        self->run_batch(run, std::move(then));
      });
}

void pipeline_run::on_place(place where, work_fn work, then_fn then) {
  switch (where) {
    case place::writer:
      return svc_->writer_->run_exclusive(
          stream_->id, [work = std::move(work)](db::connection& conn, lease_state state) { work(conn, place::writer, state); },
          reply_to_, [self = shared_from_this(), then = std::move(then)](lease_reply reply) {
            if (reply.ran) self->stream_->transaction = reply.transaction_open ? stream::txn::write : stream::txn::none;
            then(std::move(reply.ran));
          });
    case place::shared_reader:
      return svc_->readers_.run(
          home_, [work = std::move(work)](db::connection& conn) { work(conn, place::shared_reader, lease_state::none); },
          reply_to_, std::move(then));
    case place::pinned:
      return on_pinned(std::move(work), std::move(then));
  }
}

// The stream keeps its pinned reader while the read transaction is open and gives it back after.
void pipeline_run::on_pinned(work_fn work, then_fn then) {
  if (!stream_->pinned) {
    auto slot = svc_->pinned_->acquire();
    if (!slot)
      return then(proto::api_error{503, "TRANSACTION_BUSY",
                                   "all " + std::to_string(svc_->pinned_->size()) +
                                       " read transactions are in use; retry shortly",
                                   1});
    stream_->pinned = *slot;
    stream_->read_since = clock::now();
  }
  auto open = std::make_shared<bool>(false);
  svc_->pinned_->run(
      *stream_->pinned,
      [work = std::move(work), open](db::connection& conn) {
        work(conn, place::pinned, lease_state::none);
        *open = !sqlite3_get_autocommit(conn.handle());
      },
      reply_to_, [self = shared_from_this(), open, then = std::move(then)] {
        auto& s = *self->stream_;
        if (*open) {
          s.transaction = stream::txn::read;
        } else {
          self->svc_->pinned_->release(*s.pinned);
          s.pinned.reset();
          s.transaction = stream::txn::none;
        }
        then({});
      });
}

}  // namespace monolite::actors::hrana
