// Boost assertion handler for the sanitizer build that also fuzzes (MONOLITE_FUZZ, which defines
// BOOST_ENABLE_ASSERT_HANDLER): every failed assertion
// aborts, so libFuzzer reports it, except one that is known to be wrong. Beast 1.81's
// parse_chunk_header asserts `n >= 5` when it resumes after the final chunk's size line, but only
// 3 bytes are valid input there when a client sends the last bytes one at a time; the code after
// the assertion handles that case (it looks for the end of the message and asks for more). Beast
// relaxed the assertion upstream in 2024. Release builds compile assertions out.
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace boost {

void assertion_failed(char const* expr, char const* function, char const* file, long line) {
  if (std::strcmp(expr, "n >= 5") == 0 && std::strstr(file, "beast/http/impl/basic_parser.ipp")) return;
  std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed.\n", file, line, function, expr);
  std::abort();
}

void assertion_failed_msg(char const* expr, char const* msg, char const* function, char const* file, long line) {
  std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed: %s\n", file, line, function, expr, msg);
  std::abort();
}

}  // namespace boost
