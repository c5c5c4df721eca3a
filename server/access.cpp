// Authentication and authorization of requests, and reloading the --auth file.
#include "server/access.hpp"

#include "common/log.hpp"
#include "server/server_context.hpp"

namespace monolite::server {

void install_access_check(server_context& ctx) {
  ctx.routes.set_access_check([&ctx](const request& req, role needed) -> proto::result<role> {
    const auto config = ctx.auth.load(std::memory_order_acquire);
    if (!config) return role::admin;  // no --auth: every caller may do everything
    // libSQL's gRPC clients (embedded replicas) send their token as x-authorization.
    auto header = req[http::field::authorization];
    if (header.empty()) header = req["x-authorization"];
    auto granted = authenticate(*config, header);
    if (!granted) return granted.error();
    if (*granted < needed)
      return proto::api_error{403, "FORBIDDEN",
                              "a " + std::string(role_name(*granted)) + " token may not use " +
                                  std::string(req.target()) + " (needs " + std::string(role_name(needed)) + ")"};
    return *granted;
  });
}

void reload_auth(server_context& ctx) {
  if (ctx.settings.auth_path.empty()) return;
  auto loaded = load_auth_file(ctx.settings.auth_path);
  if (!loaded) {
    log::error("auth reload failed; keeping the previous configuration", {{"error", loaded.error().message}});
    return;
  }
  log::info("auth reloaded", {{"tokens", (*loaded)->tokens.size()}});
  ctx.auth.store(std::move(*loaded), std::memory_order_release);
}

}  // namespace monolite::server
