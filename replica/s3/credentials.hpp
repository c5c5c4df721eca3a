// Where an s3 replica's keys come from, looked up in the order the AWS SDKs use:
//   1. AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN);
//   2. the shared credentials file, AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials),
//      section AWS_PROFILE (default "default");
//   3. container credentials: GET AWS_CONTAINER_CREDENTIALS_FULL_URI (or http://169.254.170.2 +
//      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI), with AWS_CONTAINER_AUTHORIZATION_TOKEN (or the
//      token in AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE) as Authorization. The reply's Expiration
//      is honoured: the keys are fetched again once less than `refresh_before` is left.
// The first source that is configured is the one used; a configured but broken one is an error,
// not a fall-through, so a typo in a profile never sends requests under other keys.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "replica/object_store.hpp"
#include "replica/s3/sigv4.hpp"

namespace monolite::replica {

class credentials_source {
 public:
  virtual ~credentials_source() = default;
  // The keys to sign the next request with. Thread-safe; may block (a container fetch).
  virtual store_result<sigv4::credentials> current() = 0;
  // "environment", "shared credentials file ~/.aws/credentials [prod]", … — never a secret.
  virtual std::string describe() const = 0;
};

// Keys given as they are (tests, and the environment's source).
std::shared_ptr<credentials_source> fixed_credentials(sigv4::credentials keys, std::string description);

// The source the environment names; bad_url when none is configured (nothing to sign with).
store_result<std::shared_ptr<credentials_source>> find_credentials();

// Keys of `profile` in a shared credentials file's text (INI: [profile], key = value, # and ; comments).
store_result<sigv4::credentials> parse_shared_credentials(std::string_view text, std::string_view profile,
                                                          std::string_view path);

struct expiring_credentials {
  sigv4::credentials keys;
  std::int64_t expires_ms = 0;  // Unix time; 0: no Expiration given
};
// {"AccessKeyId", "SecretAccessKey", "Token", "Expiration": RFC 3339} as the container endpoint answers.
store_result<expiring_credentials> parse_container_credentials(std::string_view json);

// Container keys are fetched again when less than this is left before they expire.
inline constexpr std::chrono::minutes refresh_before{5};

}  // namespace monolite::replica
