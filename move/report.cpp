#include "move/report.hpp"

#include <boost/json.hpp>

namespace monolite::move {

boost::json::value report::to_json() const {
  boost::json::object out;
  boost::json::array tables_json;
  std::int64_t rows = 0, bytes = 0;
  for (const auto& t : tables) {
    tables_json.push_back(
        {{"name", t.name}, {"rows", t.rows}, {"bytes", t.bytes}, {"seconds", t.seconds}, {"checksum", t.checksum}});
    rows += t.rows;
    bytes += t.bytes;
  }
  out["tables"] = std::move(tables_json);
  boost::json::array mismatches_json;
  for (const auto& m : mismatches) {
    mismatches_json.push_back(
        {{"table", m.table}, {"key", m.key}, {"column", m.column}, {"value", m.value}, {"reason", m.reason}});
  }
  out["mismatches"] = std::move(mismatches_json);
  out["mismatch_count"] = mismatch_count;
  boost::json::array as_text;
  for (const auto& c : columns_as_text)
    as_text.push_back(boost::json::string(c));
  out["columns_as_text"] = std::move(as_text);
  boost::json::array untranslated_json;
  for (const auto& u : untranslated_objects) {
    untranslated_json.push_back({{"kind", u.kind}, {"name", u.name}, {"reason", u.reason}});
  }
  out["untranslated"] = std::move(untranslated_json);
  boost::json::array differences_json;
  for (const auto& d : differences)
    differences_json.push_back({{"table", d.table}, {"side", d.side}, {"row", d.row}});
  out["verify"] = {{"ran", verified}, {"ok", verify_ok}, {"differences", std::move(differences_json)}};
  const double s = seconds > 0 ? seconds : 1e-9;
  out["totals"] = {{"rows", rows},
                   {"bytes", bytes},
                   {"seconds", seconds},
                   {"rows_per_second", static_cast<double>(rows) / s},
                   {"mb_per_second", static_cast<double>(bytes) / 1e6 / s}};
  boost::json::object phases_json;
  for (const auto& [name, phase_seconds] : phases)
    phases_json[name] = phase_seconds;
  out["phases"] = std::move(phases_json);
  out["schema"] = target_schema;
  return out;
}

}  // namespace monolite::move
