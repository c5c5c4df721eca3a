// A write connection on a fresh database file, and a helper to run API statements on it.
#pragma once
#include <boost/test/unit_test.hpp>

#include "db/statement.hpp"
#include "support/temp_dir.hpp"

namespace monolite::test {

inline proto::statement sql(std::string text, std::vector<proto::value> params = {}) {
  return proto::statement{std::move(text), std::move(params), {}};
}

struct db_fixture {
  temp_dir dir;
  db::connection_options options;
  db::connection conn;

  db_fixture() : conn(open_writer()) {}

  db::connection open_writer() {
    options.path = dir.file("test.db");
    return db::connection::open(options).value();
  }
  db::connection open_reader() const {
    auto o = options;
    o.read_only = true;
    return db::connection::open(o).value();
  }
  proto::result<proto::statement_result> run(const proto::statement& s, bool read_only = false) {
    return db::run_statement(conn, s, {read_only, true});
  }
  proto::statement_result must(const proto::statement& s) {
    auto r = run(s);
    BOOST_REQUIRE_MESSAGE(r.has_value(), s.sql + ": " + (r ? "" : r.error().message));
    return *r;
  }
};

}  // namespace monolite::test
