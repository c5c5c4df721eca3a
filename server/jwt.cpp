#include "server/jwt.hpp"

#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include <boost/json/parse.hpp>
#include <cmath>

#include "proto/base64.hpp"

namespace monolite::server {
namespace json = boost::json;
namespace {

proto::api_error unauthorized(std::string why) { return {401, "UNAUTHORIZED", std::move(why)}; }

std::optional<json::object> decode_json_part(std::string_view part) {
  auto bytes = proto::base64url_decode(part);
  if (!bytes) return std::nullopt;
  boost::system::error_code ec;
  auto value = json::parse(std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size()), ec);
  if (ec || !value.is_object()) return std::nullopt;
  return std::move(value.get_object());
}

bool verify_ed25519(EVP_PKEY* key, std::string_view signed_part, const std::vector<unsigned char>& signature) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key) == 1 &&
         EVP_DigestVerify(ctx.get(), signature.data(), signature.size(),
                          reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) == 1;
}

bool verify_hs256(const std::string& secret, std::string_view signed_part,
                  const std::vector<unsigned char>& signature) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (!HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
            reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size(), mac, &length))
    return false;
  return signature.size() == length && CRYPTO_memcmp(mac, signature.data(), length) == 0;
}

// NumericDate as a double, so values far outside int64 (1e300, or inf from 1e999) compare sanely:
// a huge exp is far future, a huge nbf is never. Present but not a number: treated as 0 (long past
// for exp, which then fails; nbf 0 is always valid, and the signature already vouched for it).
std::optional<double> time_claim(const json::object& claims, std::string_view name) {
  const auto* v = claims.if_contains(name);
  if (!v) return std::nullopt;
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  if (v->is_double() && !std::isnan(v->get_double())) return v->get_double();
  return 0.0;
}

proto::result<role> role_from_claims(const json::object& claims) {
  if (const auto* r = claims.if_contains("role")) {
    if (auto parsed = r->is_string() ? parse_role(r->get_string()) : std::nullopt) return *parsed;
    return unauthorized("the token's role claim is not read, write or admin");
  }
  if (const auto* a = claims.if_contains("a")) {
    if (a->is_string() && a->get_string() == "ro") return role::read;
    if (a->is_string() && a->get_string() == "rw") return role::write;
    return unauthorized("the token's a claim is not ro or rw");
  }
  return role::write;  // as sqld: a token without a claim has full data access
}

}  // namespace

proto::result<role> verify_jwt(std::string_view token, const jwt_keys& keys, std::int64_t now) {
  const auto dot1 = token.find('.');
  const auto dot2 = token.find('.', dot1 == std::string_view::npos ? dot1 : dot1 + 1);
  if (dot1 == std::string_view::npos || dot2 == std::string_view::npos) return unauthorized("malformed token");
  auto header = decode_json_part(token.substr(0, dot1));
  auto claims = decode_json_part(token.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = proto::base64url_decode(token.substr(dot2 + 1));
  if (!header || !claims || !signature) return unauthorized("malformed token");
  const auto* alg = header->if_contains("alg");
  const std::string_view algorithm = alg && alg->is_string() ? std::string_view(alg->get_string()) : "";
  const auto signed_part = token.substr(0, dot2);
  bool valid = false;
  if (algorithm == "EdDSA" && keys.ed25519)
    valid = verify_ed25519(keys.ed25519.get(), signed_part, *signature);
  else if (algorithm == "HS256" && !keys.hs256_secret.empty())
    valid = verify_hs256(keys.hs256_secret, signed_part, *signature);
  if (!valid) return unauthorized("the token's signature does not verify");
  const auto now_d = static_cast<double>(now);
  if (auto exp = time_claim(*claims, "exp"); exp && now_d >= *exp) return unauthorized("the token has expired");
  if (auto nbf = time_claim(*claims, "nbf"); nbf && now_d < *nbf) return unauthorized("the token is not valid yet");
  return role_from_claims(*claims);
}

}  // namespace monolite::server
