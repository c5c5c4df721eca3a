// Fuzzes bearer authentication: authenticate() and verify_jwt() (server/auth.hpp, server/jwt.hpp).
//
// The first byte picks a mode; the rest is the material:
//   0: the material is the whole Authorization header value.
//   1: "Bearer " + material, as a token.
//   2: the material is "<header JSON>\n<claims JSON>", signed here with the HS256 secret,
//   3: the same, signed here with the Ed25519 key,
// so modes 2 and 3 get past the signature and reach the claim checks (exp, nbf, role, a).
//
// Checks: every refusal is 401 UNAUTHORIZED with a message that does not quote the secret;
// a token that is not signed with one of the keys never authenticates; a signed token whose
// claims hold no exp/nbf/role/a authenticates as write; role and a map as documented.
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <boost/json/parse.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "server/auth.hpp"
#include "server/jwt.hpp"

namespace {
using namespace monolite::server;
namespace json = boost::json;

constexpr std::string_view hs256_secret = "fuzz-hs256-secret";
constexpr std::int64_t fixed_now = 1'800'000'000;  // verify_jwt gets the time, so runs repeat

[[noreturn]] void fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "fuzz_jwt: %s\n%.*s\n", what, static_cast<int>(std::min<std::size_t>(detail.size(), 4096)),
               detail.data());
  std::abort();
}

std::string base64url(std::string_view bytes) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const auto n = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                   static_cast<unsigned char>(bytes[i + 2]);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
    out += alphabet[n & 63];
  }
  if (i + 1 == bytes.size()) {
    const auto n = static_cast<unsigned char>(bytes[i]) << 16;
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
  } else if (i + 2 == bytes.size()) {
    const auto n = (static_cast<unsigned char>(bytes[i]) << 16) | (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += alphabet[(n >> 6) & 63];
  }
  return out;
}

struct fixture {
  std::shared_ptr<EVP_PKEY> private_key;
  auth_config config;

  fixture() {
    EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    if (!key) fail("cannot make an Ed25519 key");
    private_key.reset(key, EVP_PKEY_free);
    // The verifier gets the public half only.
    unsigned char raw[32];
    std::size_t length = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(key, raw, &length) != 1) fail("cannot read the public key");
    EVP_PKEY* pub = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, raw, length);
    if (!pub) fail("cannot make the public key");
    config.jwt.ed25519.reset(pub, EVP_PKEY_free);
    config.jwt.hs256_secret = std::string(hs256_secret);
  }

  std::string sign_hs256(std::string_view input) const {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    HMAC(EVP_sha256(), hs256_secret.data(), static_cast<int>(hs256_secret.size()),
         reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &length);
    return std::string(reinterpret_cast<const char*>(mac), length);
  }

  std::string sign_ed25519(std::string_view input) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    unsigned char signature[64];
    std::size_t length = sizeof signature;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, private_key.get()) != 1 ||
        EVP_DigestSign(ctx.get(), signature, &length, reinterpret_cast<const unsigned char*>(input.data()),
                       input.size()) != 1)
      fail("cannot sign");
    return std::string(reinterpret_cast<const char*>(signature), length);
  }
};

const fixture& the_fixture() {
  static const fixture f;
  return f;
}

void check_refusal(const monolite::proto::api_error& error, std::string_view input) {
  if (error.status != 401 || error.code != "UNAUTHORIZED") fail("refusal is not 401 UNAUTHORIZED", input);
  if (error.message.empty()) fail("refusal without a message", input);
  if (error.message.find(hs256_secret) != std::string::npos) fail("refusal quotes the secret", error.message);
}

bool valid_role(role r) { return r == role::read || r == role::write || r == role::admin; }

// What a correctly signed token with these claims must yield; nullopt when the claims are not an
// object (then 401) or when time claims are present but odd (then either outcome is acceptable).
struct claim_expectation {
  bool decided = false;
  bool accepted = false;
  role granted = role::none;
};

claim_expectation expected_from_claims(std::string_view claims_text) {
  boost::system::error_code ec;
  const auto parsed = json::parse(claims_text, ec);
  if (ec || !parsed.is_object()) return {true, false};
  const auto& claims = parsed.get_object();
  for (const char* name : {"exp", "nbf"}) {
    const auto* v = claims.if_contains(name);
    if (!v) continue;
    if (!v->is_int64()) return {};  // floats, huge or non-numbers: only "no crash, 401 or a role"
    const auto t = v->get_int64();
    if (std::string_view(name) == "exp" && fixed_now >= t) return {true, false};
    if (std::string_view(name) == "nbf" && fixed_now < t) return {true, false};
  }
  if (const auto* r = claims.if_contains("role")) {
    if (!r->is_string()) return {true, false};
    const auto s = std::string_view(r->get_string());
    if (s == "read") return {true, true, role::read};
    if (s == "write") return {true, true, role::write};
    if (s == "admin") return {true, true, role::admin};
    return {true, false};
  }
  if (const auto* a = claims.if_contains("a")) {
    if (a->is_string() && a->get_string() == "ro") return {true, true, role::read};
    if (a->is_string() && a->get_string() == "rw") return {true, true, role::write};
    return {true, false};
  }
  return {true, true, role::write};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const auto& f = the_fixture();
  const unsigned mode = data[0] % 4;
  const std::string_view material(reinterpret_cast<const char*>(data + 1), size - 1);

  if (mode == 0 || mode == 1) {
    const std::string header = mode == 0 ? std::string(material) : "Bearer " + std::string(material);
    auto granted = authenticate(f.config, header);
    // Nothing in an unsigned input can carry a valid signature.
    if (granted) fail("an unsigned credential authenticated", header);
    check_refusal(granted.error(), header);
    return 0;
  }

  const auto newline = material.find('\n');
  if (newline == std::string_view::npos) return 0;
  const auto header_json = material.substr(0, newline);
  const auto claims_json = material.substr(newline + 1);
  const std::string signing_input = base64url(header_json) + "." + base64url(claims_json);
  const std::string signature = mode == 2 ? f.sign_hs256(signing_input) : f.sign_ed25519(signing_input);
  const std::string token = signing_input + "." + base64url(signature);

  auto granted = verify_jwt(token, f.config.jwt, fixed_now);
  if (!granted) {
    check_refusal(granted.error(), token);
  } else if (!valid_role(*granted)) {
    fail("a token authenticated with no role", token);
  }

  // The header must name the algorithm that signed it, exactly.
  boost::system::error_code ec;
  const auto header = json::parse(header_json, ec);
  const auto* alg = !ec && header.is_object() ? header.get_object().if_contains("alg") : nullptr;
  const bool right_alg = alg && alg->is_string() && alg->get_string() == (mode == 2 ? "HS256" : "EdDSA");
  if (!right_alg) {
    if (granted) fail("a token authenticated under the wrong alg", token);
    return 0;
  }
  const auto expected = expected_from_claims(claims_json);
  if (!expected.decided) return 0;
  if (expected.accepted != bool(granted))
    fail(expected.accepted ? "a good token was refused" : "a bad token was accepted", token);
  if (granted && *granted != expected.granted) fail("a token got the wrong role", token);
  return 0;
}
