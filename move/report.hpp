// What a move found and did: per-table numbers, the values that do not fit, what did not
// translate, the verification, and the summary as JSON.
#pragma once
#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "move/ddl.hpp"

namespace monolite::move {

struct table_report {
  std::string name;
  std::int64_t rows = 0;
  std::int64_t bytes = 0;  // COPY text sent
  double seconds = 0;
  std::string checksum;
};

struct mismatch {
  std::string table, key, column, value, reason;
};

struct difference {
  std::string table;
  std::string side;  // "sqlite" or "postgres": the row exists only there (as shown)
  std::string row;
};

struct table_checksum {
  std::int64_t rows = 0;
  std::string digest;
};

struct report {
  std::vector<table_report> tables;
  std::vector<mismatch> mismatches;  // the first 100
  std::int64_t mismatch_count = 0;
  std::vector<std::string> columns_as_text;  // table.column mapped to text by --on-mismatch text
  std::vector<untranslated> untranslated_objects;
  bool verified = false;
  bool verify_ok = false;
  std::vector<difference> differences;
  std::vector<std::string> verify_failed_tables;
  double seconds = 0;
  // Seconds per step in order ("scan", "copy", "indexes", "verify", "commit"): where the time went.
  std::vector<std::pair<std::string, double>> phases;
  std::string target_schema;

  boost::json::value to_json() const;
};

constexpr std::size_t reported_mismatches = 100;

}  // namespace monolite::move
