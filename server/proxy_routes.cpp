// The write proxy runs each Program as one Hrana batch followed by get_autocommit, on the client's
// stream when it holds a transaction open, on a new stream otherwise. A stream in autocommit after
// the program is closed at once; one in a transaction is kept for the client's next call.
#include "server/proxy_routes.hpp"

#include <mutex>
#include <unordered_map>

#include "proto/libsql_proxy.hpp"
#include "server/grpc_responses.hpp"
#include "server/statement_recording.hpp"

namespace monolite::server {
namespace {
namespace ph = proto::hrana;
namespace lp = proto::libsql_proxy;
using actors::hrana::pipeline_outcome;
using actors::hrana::stream_ref;
using grpc_status = proto::grpc_web::status;

// client_id → the Hrana stream holding its open transaction. Thread-safe (one mutex, map work only).
// An entry is busy while a call of its client runs: a second call meanwhile is refused rather than
// run outside the first one's transaction.
class client_streams {
 public:
  struct taken {
    std::optional<stream_ref> baton;    // the client's open stream; empty: run on a new one
    std::optional<stream_ref> evicted;  // the oldest idle client's stream, to close
  };

  explicit client_streams(std::size_t capacity) : capacity_(capacity) {}

  // For Execute: the client's stream, now busy (a busy placeholder when it has none).
  proto::result<taken> take(const std::string& id) {
    std::lock_guard lock(mutex_);
    taken out;
    if (auto it = entries_.find(id); it != entries_.end()) {
      auto& e = it->second;
      if (e.busy) return busy_error();
      if (e.gone) {
        entries_.erase(it);
        return gone_error("");
      }
      e.busy = true;
      out.baton = e.baton;
      return out;
    }
    if (entries_.size() >= capacity_) {
      auto oldest = oldest_idle();
      if (oldest == entries_.end())
        return proto::api_error{503, "TOO_MANY_CLIENTS",
                                "all " + std::to_string(capacity_) + " proxy client slots are busy; retry", 1};
      out.evicted = oldest->second.baton;
      entries_.erase(oldest);
    }
    entries_.emplace(id, entry{{}, true, false, false, ++order_});
    return out;
  }
  // For Describe: the client's idle open stream, now busy; nothing otherwise.
  std::optional<stream_ref> borrow(const std::string& id) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.busy || it->second.gone || !it->second.baton) return std::nullopt;
    it->second.busy = true;
    return it->second.baton;
  }
  // Ends a call: `next` keeps the stream for the client; without it the entry goes, or stays as
  // `gone` so the next Execute hears that its transaction is lost. True: keep; false: close `next`.
  bool give_back(const std::string& id, std::optional<stream_ref> next, bool gone = false) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return false;
    auto& e = it->second;
    if (next && !e.closing) {
      e = entry{next, false, false, false, ++order_};
      return true;
    }
    if (gone && !e.closing)
      e = entry{{}, false, true, false, ++order_};
    else
      entries_.erase(it);
    return false;
  }
  // For Disconnect: the idle client's stream, forgotten; a busy one is closed when its call ends.
  std::optional<stream_ref> remove(const std::string& id) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return std::nullopt;
    if (it->second.busy) {
      it->second.closing = true;
      return std::nullopt;
    }
    auto baton = it->second.baton;
    entries_.erase(it);
    return baton;
  }

  static proto::api_error gone_error(const std::string& why) {
    return {400, "TRANSACTION_GONE",
            "the transaction this client left open is gone and was rolled back" + (why.empty() ? "" : ": " + why) +
                " (its stream expired after being idle, or the transaction outlived the transaction timeout)"};
  }

 private:
  struct entry {
    std::optional<stream_ref> baton;
    bool busy = false;
    bool gone = false;     // the stream expired or was rolled back: the next Execute says so
    bool closing = false;  // Disconnect came while busy
    std::uint64_t order = 0;
  };
  static proto::api_error busy_error() {
    return {400, "CLIENT_BUSY", "another call of this client_id is still running; send one at a time"};
  }
  std::unordered_map<std::string, entry>::iterator oldest_idle() {
    auto oldest = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
      if (!it->second.busy && (oldest == entries_.end() || it->second.order < oldest->second.order)) oldest = it;
    return oldest;
  }

  std::mutex mutex_;
  std::unordered_map<std::string, entry> entries_;
  std::uint64_t order_ = 0;
  std::size_t capacity_;
};

struct proxy_state {
  proxy_state(server_context& c, proxy_options o) : ctx(c), options(std::move(o)), clients(options.max_clients) {}
  server_context& ctx;
  proxy_options options;
  client_streams clients;
};

std::vector<ph::decoded_request> requests_of(std::initializer_list<ph::request_kind> kinds) {
  std::vector<ph::decoded_request> out;
  for (auto kind : kinds) {
    ph::stream_request r;
    r.kind = kind;
    out.emplace_back(std::move(r));
  }
  return out;
}

// Closes a stream nobody will use again (rolling back what it holds); nothing waits for it.
void close_stream(
    const proxy_state& st, stream_ref baton, const responder& respond, std::function<void()> then = [] {}) {
  st.ctx.engine->pipeline(baton, false, requests_of({ph::request_kind::close}), respond.executor, respond.home,
                          [then = std::move(then)](pipeline_outcome) { then(); });
}

// The client's state forbids the call (its transaction is gone, or another call holds it).
response precondition_response(const proto::api_error& e) {
  return grpc_status_response(grpc_status::failed_precondition, e.code + ": " + e.message);
}

std::optional<response> reject(const server_context& ctx) {
  if (!ctx.ready.load(std::memory_order_acquire) || !ctx.engine)
    return grpc_error_response(proto::not_ready("the server is not ready"));
  return std::nullopt;
}

lp::query_error query_error_of(const ph::error& e) {
  auto code = lp::error_code::sql_error;
  if (e.code == "TRANSACTION_TIMEOUT") code = lp::error_code::tx_timeout;
  if (e.code == "TRANSACTION_BUSY" || e.code == "SQLITE_BUSY") code = lp::error_code::tx_busy;
  if (e.code == "INTERNAL") code = lp::error_code::internal;
  return {code, e.message, lp::sqlite_result_code(e.code)};
}

// A failure of the whole batch (no step ran to its end) as the call's gRPC status.
response batch_failure_response(const ph::error& e) {
  if (e.code == "TRANSACTION_TIMEOUT") return precondition_response(client_streams::gone_error(e.message));
  const bool busy = e.code == "OVERLOADED" || e.code == "TRANSACTION_BUSY";
  return grpc_error_response({busy ? 503u : 500u, e.code, e.message});
}

lp::execute_results results_of(std::vector<ph::step_outcome>& steps, bool open) {
  lp::execute_results out;
  for (auto& s : steps) {
    if (s.status == ph::step_outcome::state::ok)
      out.results.emplace_back(std::move(s.result));
    else if (s.status == ph::step_outcome::state::failed)
      out.results.emplace_back(query_error_of(s.failure));
    else
      out.results.emplace_back(lp::skipped{});
  }
  out.state = open ? lp::txn_state::txn : lp::txn_state::init;
  return out;
}

// The program ran (or failed as a whole) on `client_id`'s stream: keep or close it, then answer.
void answer_execute(const std::shared_ptr<proxy_state>& st, const std::string& client_id, bool had_stream,
                    pipeline_outcome& out, const responder& respond) {
  if (!out.status) {
    const bool gone = had_stream && out.status.error().code == "STREAM_EXPIRED";
    st->clients.give_back(client_id, std::nullopt);
    return respond(gone ? precondition_response(client_streams::gone_error(""))
                        : grpc_error_response(out.status.error()));
  }
  auto& batch = out.results.at(0);
  const bool open = out.next && !out.results.at(1).is_autocommit;
  if (!st->clients.give_back(client_id, open ? out.next : std::nullopt) && out.next)
    close_stream(*st, *out.next, respond);
  if (batch.failure) return respond(batch_failure_response(*batch.failure));
  auto results = results_of(batch.steps, open);
  if (st->options.committed_frame_no) results.current_frame_no = st->options.committed_frame_no();
  respond(grpc_unary_response(lp::encode(results)));
}

void handle_execute(const std::shared_ptr<proxy_state>& st, request&& req, responder respond) {
  if (auto rejected = reject(st->ctx)) return respond(std::move(*rejected));
  auto message = grpc_request_message(req);
  if (!message) return respond(grpc_error_response(message.error()));
  auto program = lp::decode_program_request(*message);
  if (!program) return respond(grpc_error_response(program.error()));
  auto taken = st->clients.take(program->client_id);
  if (!taken)
    return respond(taken.error().status == 400 ? precondition_response(taken.error())
                                               : grpc_error_response(taken.error()));
  if (taken->evicted) close_stream(*st, *taken->evicted, respond);
  record_hrana_batch(st->ctx, program->program);
  auto requests = requests_of({ph::request_kind::batch, ph::request_kind::get_autocommit});
  requests[0]->steps = std::move(program->program);
  const bool read_only = respond.granted < role::write;
  auto executor = respond.executor;
  const auto home = respond.home;
  st->ctx.engine->pipeline(
      taken->baton, read_only, std::move(requests), executor, home,
      [st, id = std::move(program->client_id), had_stream = taken->baton.has_value(),
       respond = std::move(respond)](pipeline_outcome out) { answer_execute(st, id, had_stream, out, respond); });
}

response describe_response(const ph::stream_result& described) {
  if (!described.failure) return grpc_unary_response(lp::encode_description(described.description));
  if (described.failure->code == "NOT_SUPPORTED")
    return grpc_status_response(grpc_status::unimplemented, described.failure->message);
  return grpc_unary_response(lp::encode_describe_error(query_error_of(*described.failure)));
}

// On the client's open stream when it has one (its transaction may have changed the schema).
void handle_describe(const std::shared_ptr<proxy_state>& st, request&& req, responder respond) {
  if (auto rejected = reject(st->ctx)) return respond(std::move(*rejected));
  auto message = grpc_request_message(req);
  if (!message) return respond(grpc_error_response(message.error()));
  auto described = lp::decode_describe_request(*message);
  if (!described) return respond(grpc_error_response(described.error()));
  const auto baton = st->clients.borrow(described->client_id);
  auto requests = baton ? requests_of({ph::request_kind::describe})
                        : requests_of({ph::request_kind::describe, ph::request_kind::close});
  requests[0]->sql = std::move(described->stmt);
  const bool read_only = respond.granted < role::write;
  auto executor = respond.executor;
  const auto home = respond.home;
  st->ctx.engine->pipeline(baton, read_only, std::move(requests), executor, home,
                           [st, id = std::move(described->client_id), borrowed = baton.has_value(),
                            respond = std::move(respond)](pipeline_outcome out) {
                             if (borrowed) {
                               const bool gone = !out.status && out.status.error().code == "STREAM_EXPIRED";
                               if (!st->clients.give_back(id, out.next, gone) && out.next)
                                 close_stream(*st, *out.next, respond);
                             }
                             if (!out.status) return respond(grpc_error_response(out.status.error()));
                             respond(describe_response(out.results.at(0)));
                           });
}

void handle_disconnect(const std::shared_ptr<proxy_state>& st, request&& req, responder respond) {
  if (auto rejected = reject(st->ctx)) return respond(std::move(*rejected));
  auto message = grpc_request_message(req);
  if (!message) return respond(grpc_error_response(message.error()));
  auto client_id = lp::decode_disconnect(*message);
  if (!client_id) return respond(grpc_error_response(client_id.error()));
  const auto baton = st->clients.remove(*client_id);
  if (!baton) return respond(grpc_unary_response(""));  // Ack{}
  close_stream(*st, *baton, respond, [respond] { respond(grpc_unary_response("")); });
}

}  // namespace

void add_proxy_routes(server_context& ctx, proxy_options options) {
  auto st = std::make_shared<proxy_state>(ctx, std::move(options));
  const auto route = [&](const char* path, role needed,
                         void (*handle)(const std::shared_ptr<proxy_state>&, request&&, responder)) {
    ctx.routes.add(
        path, http::verb::post, needed,
        [st, handle](request&& req, responder respond) { handle(st, std::move(req), std::move(respond)); },
        &grpc_error_response);
  };
  route("/proxy.Proxy/Execute", role::write, &handle_execute);
  route("/proxy.Proxy/Describe", role::read, &handle_describe);
  route("/proxy.Proxy/Disconnect", role::read, &handle_disconnect);
}

}  // namespace monolite::server
