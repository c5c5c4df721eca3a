// The writer's read-only mode: a gate on the strand. Whatever reached the strand before the switch
// is served (group commits still queued, the lease holder's calls until it ends its transaction);
// everything after is 503 READ_ONLY. The switch is answered once that has all happened, so a copy
// of the database taken after the answer holds every write ever acknowledged.
#include <sqlite3.h>

#include <boost/asio/post.hpp>

#include "actors/writer_actor.hpp"
#include "common/strand_check.hpp"

namespace monolite::actors {
namespace asio = boost::asio;

void writer_actor::set_read_only(bool on, asio::any_io_executor reply_to, read_only_handler done) {
  asio::post(strand_,
             [self = shared_from_this(), on, w = read_only_waiter{std::move(reply_to), std::move(done)}]() mutable {
               self->switch_read_only(on, std::move(w));
             });
}

void writer_actor::switch_read_only(bool on, read_only_waiter waiter) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  read_only_ = on;
  read_only_flag_.store(on, std::memory_order_release);
  read_only_waiters_.push_back(std::move(waiter));
  settle_read_only();
}

// Answers the waiting switches once nothing accepted before is left: no group commit queued and
// no lease (its holder may still commit). Called wherever one of those can end.
void writer_actor::settle_read_only() {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (read_only_waiters_.empty()) return;
  if (read_only_ && !closed_ && (!pending_.empty() || leased())) return;
  const read_only_state state{read_only_, write_commits(), wal_pages_};
  for (auto& w : read_only_waiters_)
    asio::post(w.reply_to, [done = std::move(w.done), state] { done(state); });
  read_only_waiters_.clear();
}

bool writer_actor::refuse_if_read_only(job& j) {
  MONOLITE_ASSERT_ON_STRAND(strand_);
  if (!read_only_) return false;
  in_flight_.fetch_sub(1, std::memory_order_acq_rel);
  asio::post(j.reply_to, [reply = std::move(j.reply)] {
    reply(write_outcome{proto::read_only("the server is read-only; writes are refused"), 0});
  });
  return true;
}

}  // namespace monolite::actors
