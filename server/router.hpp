// The route table: path → {method, handler}. An unknown path is 404, a known path with another
// method is 405 with an Allow header; both as JSON errors. Handlers answer asynchronously through
// the responder they are given, which runs on the session's strand.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <string>
#include <vector>

#include "server/responses.hpp"

namespace monolite::server {

// Answers one request; must be called on `executor` (the session's strand), exactly once.
struct responder {
  boost::asio::any_io_executor executor;
  std::function<void(response)> send;
  void operator()(response res) const { send(std::move(res)); }
};
using handler = std::function<void(request&& req, responder respond)>;

class router {
 public:
  void add(std::string path, http::verb method, handler h);
  void dispatch(request&& req, responder respond) const;

 private:
  struct route {
    std::string path;
    http::verb method;
    handler h;
  };
  std::vector<route> routes_;
};

}  // namespace monolite::server
