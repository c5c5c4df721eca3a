// One pipeline of requests on one stream (internal to hrana_service): runs them in order, each on
// the writer, a shared reader or the stream's pinned reader, and comes back to the caller's
// executor between hops. `reply_to` must be serial (a strand or a one-thread io_context).
#pragma once
#include "actors/hrana_service.hpp"

namespace monolite::actors::hrana {

class pipeline_run : public std::enable_shared_from_this<pipeline_run> {
 public:
  pipeline_run(std::shared_ptr<service> svc, std::shared_ptr<stream> s, bool registered,
               std::vector<ph::decoded_request> requests, boost::asio::any_io_executor reply_to, std::size_t home,
               service::done_handler done);
  void next();

 private:
  using work_fn = std::function<void(db::connection&, place, lease_state)>;
  using then_fn = std::function<void(proto::result<void>)>;

  void start(const ph::decoded_request& request);
  void complete(ph::stream_result r);
  void finish();

  void run_execute(const ph::stmt& statement);
  void run_batch_request(const ph::batch& b);
  // The request's SQL text; when it has none, the request is answered with the error.
  std::optional<std::string> sql_or_fail(const ph::stream_request& request);
  void run_sequence(const ph::stream_request& request);
  void run_describe(const ph::stream_request& request);
  ph::stream_result store_sql(const ph::stream_request& request);
  void close();

  void run_batch(std::shared_ptr<batch_run> run, std::function<void()> then);
  place place_for(const batch_run& run) const;
  bool read_transaction_too_old() const;
  void on_place(place where, work_fn work, then_fn then);
  void on_pinned(work_fn work, then_fn then);

  std::shared_ptr<service> svc_;
  std::shared_ptr<stream> stream_;
  bool registered_;
  std::vector<ph::decoded_request> requests_;
  std::vector<ph::stream_result> results_;
  std::size_t index_ = 0;
  bool in_loop_ = false;
  bool completed_ = false;
  boost::asio::any_io_executor reply_to_;
  std::size_t home_;
  service::done_handler done_;
};

}  // namespace monolite::actors::hrana
