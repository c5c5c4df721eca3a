#include "pg/result.hpp"

#include <cstdlib>

namespace monolite::pg {
namespace {

std::string field_of(const PGresult* r, int code) {
  const char* value = PQresultErrorField(r, code);
  return value ? value : "";
}

}  // namespace

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  return text;
}

error error_of(const PGresult* r, const std::string& statement) {
  error e;
  e.sqlstate = field_of(r, PG_DIAG_SQLSTATE);
  e.message = field_of(r, PG_DIAG_MESSAGE_PRIMARY);
  if (e.message.empty()) e.message = trimmed(PQresultErrorMessage(r));
  e.detail = field_of(r, PG_DIAG_MESSAGE_DETAIL);
  e.hint = field_of(r, PG_DIAG_MESSAGE_HINT);
  e.position = std::atoi(field_of(r, PG_DIAG_STATEMENT_POSITION).c_str());
  e.statement = statement;
  return e;
}

}  // namespace monolite::pg
