#include "actors/pg_session_guard.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "db/sql_text.hpp"

namespace monolite::actors {
namespace {

// The first two words, upper-cased, past blanks and comments.
std::pair<std::string, std::string> leading_words(std::string_view sql) {
  const auto rest = db::skip_blanks_and_comments(sql);
  auto first = db::first_keyword(rest);
  return {first, db::first_keyword(db::skip_blanks_and_comments(rest.substr(first.size())))};
}

template <std::size_t N>
bool listed(const std::array<std::string_view, N>& list, const std::string& word) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

constexpr std::array<std::string_view, 8> transaction_words = {"BEGIN", "START",    "COMMIT",    "END",
                                                               "ABORT", "ROLLBACK", "SAVEPOINT", "RELEASE"};
constexpr std::array<std::string_view, 7> session_words = {"RESET",    "DISCARD", "DEALLOCATE", "LISTEN",
                                                           "UNLISTEN", "LOAD",    "PREPARE"};
// SET LOCAL, SET TRANSACTION and SET CONSTRAINTS end with the transaction: they are fine.
constexpr std::array<std::string_view, 3> transaction_scoped_set = {"LOCAL", "TRANSACTION", "CONSTRAINTS"};

proto::api_error refused(std::string message) { return {403, "SQLITE_AUTH", std::move(message)}; }

}  // namespace

std::optional<proto::api_error> refuse_session_change(std::string_view sql, pg_statement_origin origin) {
  const auto [first, second] = leading_words(sql);
  if (first == "SET" && !listed(transaction_scoped_set, second))
    return refused("SET is not allowed: it would outlive the request on a pooled connection; use SET LOCAL");
  if (listed(session_words, first) || (first == "SET" && second == "SESSION"))
    return refused(first + " is not allowed: it would change a pooled connection's session");
  if (origin == pg_statement_origin::request && listed(transaction_words, first))
    return refused(
        "transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, RELEASE) is not allowed: "
        "each request already runs as one transaction");
  return std::nullopt;
}

}  // namespace monolite::actors
