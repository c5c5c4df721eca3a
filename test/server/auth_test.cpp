#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include <boost/test/unit_test.hpp>
#include <fstream>

#include "proto/base64.hpp"
#include "server/auth.hpp"
#include "support/temp_dir.hpp"

using namespace monolite;
using server::role;

namespace {

std::string base64url(const std::string& bytes) {
  auto text = proto::base64_encode({bytes.begin(), bytes.end()});
  for (auto& c : text)
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!text.empty() && text.back() == '=')
    text.pop_back();
  return text;
}

std::string hs256_token(const std::string& header, const std::string& claims, const std::string& secret) {
  const auto input = base64url(header) + "." + base64url(claims);
  unsigned char mac[32];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &length);
  return input + "." + base64url(std::string(reinterpret_cast<char*>(mac), length));
}

std::string sha256_hex(const std::string& text) {
  unsigned char digest[32];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  std::string hex;
  for (unsigned char b : digest)
    hex += "0123456789abcdef"[b >> 4], hex += "0123456789abcdef"[b & 15];
  return hex;
}

const std::int64_t now = 1'800'000'000;

}  // namespace

BOOST_AUTO_TEST_SUITE(server_auth)

BOOST_AUTO_TEST_CASE(hs256_tokens_verify_with_expiry_and_roles) {
  server::jwt_keys keys;
  keys.hs256_secret = "s3cret";
  const std::string header = R"({"alg":"HS256","typ":"JWT"})";
  BOOST_TEST(
      (server::verify_jwt(hs256_token(header, R"({"role":"admin"})", "s3cret"), keys, now).value() == role::admin));
  BOOST_TEST((server::verify_jwt(hs256_token(header, R"({"a":"ro"})", "s3cret"), keys, now).value() == role::read));
  BOOST_TEST((server::verify_jwt(hs256_token(header, R"({"a":"rw"})", "s3cret"), keys, now).value() == role::write));
  BOOST_TEST((server::verify_jwt(hs256_token(header, R"({})", "s3cret"), keys, now).value() == role::write));
  BOOST_TEST((server::verify_jwt(hs256_token(header, R"({"exp":1e300,"nbf":-1e300})", "s3cret"), keys, now).value() ==
              role::write));
  for (const auto& bad :
       {hs256_token(header, R"({"exp":1799999999})", "s3cret"), hs256_token(header, R"({"nbf":1800000100})", "s3cret"),
        hs256_token(header, R"({"role":"root"})", "s3cret"), hs256_token(header, R"({"nbf":1e300})", "s3cret"),
        hs256_token(header, R"({"nbf":1e999})", "s3cret"),
        hs256_token(header, R"({"nbf":18446744073709551615})", "s3cret"),
        hs256_token(header, R"({"exp":-1e999})", "s3cret"), hs256_token(header, R"({})", "wrong"),
        hs256_token(R"({"alg":"none"})", R"({})", "s3cret"), std::string("a.b"), std::string("..."),
        std::string("x.y.z")}) {
    auto r = server::verify_jwt(bad, keys, now);
    BOOST_REQUIRE_MESSAGE(r.has_error(), bad);
    BOOST_TEST(r.error().status == 401u);
  }
}

BOOST_AUTO_TEST_CASE(eddsa_tokens_verify_and_forgeries_do_not) {
  EVP_PKEY* raw = nullptr;
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> gen(EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr),
                                                                  EVP_PKEY_CTX_free);
  BOOST_REQUIRE(EVP_PKEY_keygen_init(gen.get()) == 1 && EVP_PKEY_keygen(gen.get(), &raw) == 1);
  std::shared_ptr<EVP_PKEY> key(raw, EVP_PKEY_free);
  const auto input = base64url(R"({"alg":"EdDSA"})") + "." + base64url(R"({"a":"ro"})");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char signature[64];
  std::size_t length = sizeof signature;
  BOOST_REQUIRE(EVP_DigestSignInit(md.get(), nullptr, nullptr, nullptr, key.get()) == 1);
  BOOST_REQUIRE(EVP_DigestSign(md.get(), signature, &length, reinterpret_cast<const unsigned char*>(input.data()),
                               input.size()) == 1);
  const auto token = input + "." + base64url(std::string(reinterpret_cast<char*>(signature), length));
  server::jwt_keys keys;
  keys.ed25519 = key;
  BOOST_TEST((server::verify_jwt(token, keys, now).value() == role::read));
  auto forged = token;
  forged[forged.size() / 2] = forged[forged.size() / 2] == 'A' ? 'B' : 'A';
  BOOST_TEST(server::verify_jwt(forged, keys, now).has_error());
  keys.ed25519.reset();  // an EdDSA token with no Ed25519 key configured
  BOOST_TEST(server::verify_jwt(token, keys, now).has_error());
}

BOOST_AUTO_TEST_CASE(auth_file_tokens_are_matched_by_their_hash) {
  test::temp_dir dir;
  const auto path = dir.file("auth.yaml");
  std::ofstream(path) << "tokens:\n  - {name: app, sha256: " << sha256_hex("tok-app") << ", role: write}\n"
                      << "  - {name: ro, sha256: " << sha256_hex("tok-ro") << ", role: read}\n";
  auto config = server::load_auth_file(path).value();
  BOOST_TEST((server::authenticate(*config, "Bearer tok-app").value() == role::write));
  BOOST_TEST((server::authenticate(*config, "bearer tok-ro").value() == role::read));
  for (const char* header : {"", "Bearer", "Bearer ", "Basic dG9rLWFwcA==", "Bearer tok-app2", "tok-app"}) {
    auto r = server::authenticate(*config, header);
    BOOST_REQUIRE_MESSAGE(r.has_error(), header);
    BOOST_TEST(r.error().status == 401u);
    BOOST_TEST(r.error().message.find("tok-") == std::string::npos);  // never echo what was sent
  }
}

BOOST_AUTO_TEST_CASE(bad_auth_files_name_the_problem_and_no_secret) {
  test::temp_dir dir;
  setenv("MONOLITE_TEST_EMPTY_SECRET", "", 1);
  struct sample {
    std::string text;
    std::string mentions;
  };
  for (const auto& [text, mentions] :
       {sample{"tokens: [{name: a, sha256: abc, role: write}]", "sha256"},
        sample{"tokens: [{name: a, sha256: " + sha256_hex("x") + ", role: god}]", "role"},
        sample{"tokens: [{name: a}]", "needs"}, sample{"nope: 1", "unknown key"}, sample{"tokens: []", "nobody"},
        sample{"jwt: {hs256_secret_env: MONOLITE_TEST_EMPTY_SECRET}", "not set"},
        sample{"jwt: {ed25519_public_key: not-a-pem}", "Ed25519"}, sample{"tokens: [unclosed", "--auth"}}) {
    const auto path = dir.file("bad.yaml");
    std::ofstream(path, std::ios::trunc) << text;
    auto r = server::load_auth_file(path);
    BOOST_REQUIRE_MESSAGE(r.has_error(), text);
    BOOST_TEST(r.error().message.find("--auth") != std::string::npos);
    BOOST_TEST(r.error().message.find(mentions) != std::string::npos, r.error().message);
  }
  unsetenv("MONOLITE_TEST_EMPTY_SECRET");
}

BOOST_AUTO_TEST_SUITE_END()
