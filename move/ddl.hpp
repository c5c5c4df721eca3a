// PostgreSQL DDL for the SQLite schema: the table without its constraints (created before the
// data), then what is added after the data: keys, unique and other indexes, CHECKs, foreign keys
// and views. Pure: statements are text, unqualified (the loader sets search_path to the staging
// schema).
#pragma once
#include <string>
#include <vector>

#include "move/schema.hpp"

namespace monolite::move {

struct untranslated {
  std::string kind;  // "trigger", "view", "check", "default", "generated", "index", "foreign key", ...
  std::string name;  // table.column, index name, ...
  std::string reason;
};

struct statement {
  std::string object;  // for reports: "index users_email"
  std::string kind;    // "index", "check", "foreign key", "view", "primary key"
  std::string sql;
};

// CREATE TABLE with columns, types, identity, NOT NULL, DEFAULT and mapped generated columns.
// Defaults that do not translate are appended to `report`.
std::string create_table_sql(const table_def& table, const std::string& nocase_collation,
                             std::vector<untranslated>& report);

// Primary key, unique constraints and CREATE INDEX statements, built after the data.
std::vector<statement> index_statements(const table_def& table, const std::string& nocase_collation);
std::vector<statement> check_statements(const table_def& table, const std::string& nocase_collation);
std::vector<statement> foreign_key_statements(const table_def& table);
statement view_statement(const schema_object& view, const std::string& nocase_collation);

// The ICU collation standing for SQLite's NOCASE: case-insensitive, accent-sensitive.
std::string create_nocase_collation_sql(const std::string& qualified_name);

}  // namespace monolite::move
