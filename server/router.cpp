#include "server/router.hpp"

namespace monolite::server {

void router::add(std::string path, http::verb method, handler h) {
  routes_.push_back({std::move(path), method, std::move(h)});
}

void router::dispatch(request&& req, responder respond) const {
  std::string_view target = req.target();
  target = target.substr(0, target.find('?'));
  std::string allowed;
  for (const auto& r : routes_) {
    if (r.path != target) continue;
    if (r.method == req.method()) return r.h(std::move(req), std::move(respond));
    if (!allowed.empty()) allowed += ", ";
    allowed += std::string(http::to_string(r.method));
  }
  if (allowed.empty())
    return respond(error_response({404, "NOT_FOUND", "no route " + std::string(target)}));
  auto res = error_response({405, "METHOD_NOT_ALLOWED",
                             std::string(req.method_string()) + " is not allowed on " +
                                 std::string(target) + "; use " + allowed});
  res.set(http::field::allow, allowed);
  respond(std::move(res));
}

}  // namespace monolite::server
