// The SQLite schema as a move sees it: tables with their columns, keys, indexes and foreign
// keys (from the PRAGMAs and the CREATE text), views and triggers.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "move/sqlite_source.hpp"
#include "move/types.hpp"

namespace monolite::move {

struct column_def {
  std::string name;
  std::string declared;
  pg_type type;
  bool not_null = false;
  std::optional<std::string> default_sql;  // SQLite text of the DEFAULT
  int pk = 0;                              // 1-based position in the primary key, 0 = none
  int hidden = 0;                          // 2 = virtual generated, 3 = stored generated
  bool nocase = false;
  bool identity = false;  // INTEGER PRIMARY KEY: the rowid alias
  std::string generated;  // expression of a generated column
  std::vector<std::string> checks;
  bool as_text = false;         // mapped to text by --on-mismatch text
  bool computed_in_pg = false;  // generated column PostgreSQL computes (not copied)
};

struct index_def {
  std::string name;
  bool unique = false;
  std::string origin;  // "c" CREATE INDEX, "u" UNIQUE constraint, "pk" primary key
  std::vector<std::string> columns;
  std::string sql;  // the CREATE INDEX text for origin "c"
};

struct foreign_key_def {
  std::string parent;
  std::vector<std::string> from, to;
  std::string on_update, on_delete;
};

struct table_def {
  std::string name;
  std::string sql;
  std::vector<column_def> columns;
  std::vector<std::string> primary_key;
  std::vector<std::string> table_checks;
  std::vector<index_def> indexes;
  std::vector<foreign_key_def> foreign_keys;
  bool without_rowid = false;
  bool autoincrement = false;
  std::int64_t sequence = 0;  // sqlite_sequence's value for AUTOINCREMENT tables
};

struct schema_object {
  std::string type;  // "view" or "trigger"
  std::string name;
  std::string sql;
};

struct schema {
  std::vector<table_def> tables;
  std::vector<schema_object> views;
  std::vector<schema_object> triggers;
  std::vector<std::string> skipped;  // virtual tables and such, with why
};

schema read_schema(sqlite_source& db);

// SELECT list of a table's stored columns in order, for SQLite ("a", "b").
std::string sqlite_select_list(const table_def& table, bool copied_only);

}  // namespace monolite::move
