#include "server/router.hpp"

namespace monolite::server {

void router::add(std::string path, http::verb method, role needed, handler h, error_encoder errors) {
  routes_.push_back({std::move(path), method, needed, std::move(h), errors});
}

void router::dispatch(request&& req, responder respond) const {
  std::string_view target = req.target();
  target = target.substr(0, target.find('?'));
  std::string allowed;
  for (const auto& r : routes_) {
    if (r.path != target) continue;
    if (r.method != req.method()) {
      if (!allowed.empty()) allowed += ", ";
      allowed += std::string(http::to_string(r.method));
      continue;
    }
    if (r.needed != role::none && check_) {
      auto granted = check_(req, r.needed);
      if (!granted) {
        auto res = r.errors(granted.error());
        if (granted.error().status == 401) res.set("WWW-Authenticate", "Bearer");
        return respond(std::move(res));
      }
      respond.granted = *granted;
    }
    return r.h(std::move(req), std::move(respond));
  }
  if (allowed.empty()) return respond(error_response({404, "NOT_FOUND", "no route " + std::string(target)}));
  auto res = error_response(
      {405, "METHOD_NOT_ALLOWED",
       std::string(req.method_string()) + " is not allowed on " + std::string(target) + "; use " + allowed});
  res.set("Allow", allowed);
  respond(std::move(res));
}

}  // namespace monolite::server
