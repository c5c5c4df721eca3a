#include "server/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <strings.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iterator>

namespace monolite::server {
namespace {

proto::api_error bad_file(const std::string& path, const std::string& why) {
  return proto::api_error{500, "BAD_AUTH_FILE", "--auth " + path + ": " + why};
}

std::optional<std::array<unsigned char, 32>> parse_hex_digest(const std::string& hex) {
  std::array<unsigned char, 32> out{};
  if (hex.size() != 64) return std::nullopt;
  for (std::size_t i = 0; i < 32; ++i) {
    unsigned value = 0;
    for (char c : hex.substr(i * 2, 2)) {
      value <<= 4;
      if (c >= '0' && c <= '9')
        value |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f')
        value |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        value |= static_cast<unsigned>(c - 'A' + 10);
      else
        return std::nullopt;
    }
    out[i] = static_cast<unsigned char>(value);
  }
  return out;
}

proto::result<token_entry> parse_token(const YAML::Node& node, std::size_t index, const std::string& path) {
  const std::string where = "tokens[" + std::to_string(index) + "]";
  if (!node.IsMap() || !node["name"] || !node["sha256"] || !node["role"])
    return bad_file(path, where + " needs name, sha256 and role");
  token_entry entry;
  entry.name = node["name"].as<std::string>();
  auto digest = parse_hex_digest(node["sha256"].as<std::string>());
  if (!digest) return bad_file(path, where + " (" + entry.name + "): sha256 must be 64 hex digits");
  entry.sha256 = *digest;
  auto granted = parse_role(node["role"].as<std::string>());
  if (!granted) return bad_file(path, where + " (" + entry.name + "): role must be read, write or admin");
  entry.granted = *granted;
  return entry;
}

proto::result<std::shared_ptr<EVP_PKEY>> read_ed25519_key(const std::string& pem, const std::string& path) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  EVP_PKEY* key = bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (!key || EVP_PKEY_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    return bad_file(path, "jwt: the key is not an Ed25519 public key in PEM form");
  }
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

std::optional<std::string> read_file(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

proto::result<void> parse_jwt(const YAML::Node& node, const std::string& path, jwt_keys& out) {
  if (!node.IsMap()) return bad_file(path, "jwt must be a mapping");
  std::optional<std::string> pem;
  if (node["ed25519_public_key"]) pem = node["ed25519_public_key"].as<std::string>();
  if (const auto file = node["ed25519_public_key_file"]) {
    pem = read_file(file.as<std::string>());
    if (!pem) return bad_file(path, "jwt: cannot read " + file.as<std::string>());
  }
  if (pem) {
    auto key = read_ed25519_key(*pem, path);
    if (!key) return key.error();
    out.ed25519 = std::move(*key);
  }
  if (const auto env = node["hs256_secret_env"]) {
    const char* secret = std::getenv(env.as<std::string>().c_str());
    if (!secret || !*secret)
      return bad_file(path, "jwt: environment variable " + env.as<std::string>() + " is not set");
    out.hs256_secret = secret;
  }
  if (!out.ed25519 && out.hs256_secret.empty())
    return bad_file(path, "jwt needs ed25519_public_key(_file) or hs256_secret_env");
  return {};
}

proto::result<std::shared_ptr<const auth_config>> parse_config(const YAML::Node& root, const std::string& path) {
  auto config = std::make_shared<auth_config>();
  if (!root.IsMap()) return bad_file(path, "expected a mapping with tokens and/or jwt");
  for (const auto& item : root) {
    const auto key = item.first.as<std::string>();
    if (key != "tokens" && key != "jwt") return bad_file(path, "unknown key '" + key + "'");
  }
  if (const auto tokens = root["tokens"]) {
    if (!tokens.IsSequence()) return bad_file(path, "tokens must be a list");
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      auto entry = parse_token(tokens[i], i, path);
      if (!entry) return entry.error();
      config->tokens.push_back(std::move(*entry));
    }
  }
  if (const auto jwt = root["jwt"]) {
    if (auto ok = parse_jwt(jwt, path, config->jwt); !ok) return ok.error();
  }
  if (config->tokens.empty() && !config->jwt.ed25519 && config->jwt.hs256_secret.empty())
    return bad_file(path, "no tokens and no jwt keys: nobody could connect");
  return std::shared_ptr<const auth_config>(std::move(config));
}

proto::api_error unauthorized(std::string why) { return {401, "UNAUTHORIZED", std::move(why)}; }

}  // namespace

proto::result<std::shared_ptr<const auth_config>> load_auth_file(const std::string& path) {
  try {
    return parse_config(YAML::LoadFile(path), path);
  } catch (const YAML::Exception& e) {
    return bad_file(path, e.what());  // yaml-cpp quotes positions, not values
  }
}

proto::result<role> authenticate(const auth_config& config, std::string_view authorization) {
  if (authorization.empty()) return unauthorized("send Authorization: Bearer <token>");
  if (authorization.size() < 7 || strncasecmp(authorization.data(), "Bearer ", 7) != 0)
    return unauthorized("the Authorization scheme must be Bearer");
  auto token = authorization.substr(7);
  while (!token.empty() && token.front() == ' ')
    token.remove_prefix(1);
  if (token.empty()) return unauthorized("the bearer token is empty");
  std::array<unsigned char, 32> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest.data());
  // Compare against every entry, in constant time each, so timing tells nothing about the tokens.
  const token_entry* match = nullptr;
  for (const auto& entry : config.tokens)
    if (CRYPTO_memcmp(entry.sha256.data(), digest.data(), digest.size()) == 0) match = &entry;
  if (match) return match->granted;
  if (std::count(token.begin(), token.end(), '.') == 2 && (config.jwt.ed25519 || !config.jwt.hs256_secret.empty())) {
    const auto now =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    return verify_jwt(token, config.jwt, now);
  }
  return unauthorized("unknown token");
}

}  // namespace monolite::server
