// The route table: path → {method, role, handler}. An unknown path is 404, a known path with
// another method is 405 with an Allow header; a route that needs a role asks the access check
// first (401/403). All as JSON errors, in the route's error shape. Handlers answer asynchronously
// through the responder they are given, which runs on the session's strand.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "server/responses.hpp"
#include "server/role.hpp"

namespace monolite::server {

// Answers one request; must be called on `executor` (the session's strand), exactly once.
struct responder {
  boost::asio::any_io_executor executor;
  std::size_t home = 0;  // the connection's thread in the io_pool
  std::function<void(response)> send;
  role granted = role::admin;  // the caller's role, as the access check found it (admin without auth)
  void operator()(response res) const { send(std::move(res)); }
};
using handler = std::function<void(request&& req, responder respond)>;
// The caller's role, or an error (401, 403) when the request may not use a route that needs `needed`.
using access_check = std::function<proto::result<role>(const request& req, role needed)>;
// How a route writes its errors (Hrana clients read another shape than the SQL routes).
using error_encoder = response (*)(const proto::api_error&);

class router {
 public:
  void add(std::string path, http::verb method, role needed, handler h, error_encoder errors = &error_response);
  void set_access_check(access_check check) { check_ = std::move(check); }
  void dispatch(request&& req, responder respond) const;

 private:
  struct route {
    std::string path;
    http::verb method;
    role needed;
    handler h;
    error_encoder errors;
  };
  std::vector<route> routes_;
  access_check check_;
};

}  // namespace monolite::server
