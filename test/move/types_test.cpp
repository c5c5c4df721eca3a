// SQLite declared types → PostgreSQL types, and the check of each stored value against its type.
#include "move/types.hpp"

#include <boost/test/unit_test.hpp>

using namespace monolite::move;

BOOST_AUTO_TEST_SUITE(move_types)

BOOST_AUTO_TEST_CASE(declared_names_and_affinity_pick_the_type) {
  const std::pair<const char*, const char*> table[] = {
      {"INTEGER", "bigint"},
      {"int", "bigint"},
      {"BIGINT", "bigint"},
      {"TINYINT", "bigint"},
      {"TEXT", "text"},
      {"CLOB", "text"},
      {"VARCHAR(20)", "varchar(20)"},
      {"char( 3 )", "varchar(3)"},
      {"NVARCHAR", "text"},
      {"REAL", "double precision"},
      {"DOUBLE", "double precision"},
      {"FLOAT", "double precision"},
      {"BLOB", "bytea"},
      {"", "bytea"},
      {"NUMERIC", "numeric"},
      {"DECIMAL(10, 2)", "numeric(10,2)"},
      {"NUMERIC(5)", "numeric(5,0)"},
      {"BOOLEAN", "boolean"},
      {"bool", "boolean"},
      {"DATETIME", "timestamp"},
      {"TIMESTAMP", "timestamp"},
      {"DATE", "date"},
      {"JSON", "jsonb"},
      {"STRING", "numeric"},
      {"POINT", "bigint"},  // contains INT: SQLite's rule 1, as surprising as in SQLite
  };
  for (const auto& [declared, expected] : table) {
    BOOST_TEST(translate_type(declared).sql() == expected, declared);
  }
}

BOOST_AUTO_TEST_CASE(values_that_do_not_fit_are_named) {
  const pg_type bigint{kind::integer}, boolean{kind::boolean}, json{kind::json}, ts{kind::timestamp};
  BOOST_TEST(!misfit(bigint, value::of(INT64_MIN)));
  BOOST_TEST(*misfit(bigint, value::text("abc")) == "text in a bigint column");
  BOOST_TEST(*misfit(bigint, value::of_real(1.5)) == "a real in a bigint column");
  BOOST_TEST(!misfit(boolean, value::of(1)));
  BOOST_TEST(*misfit(boolean, value::of(2)) == "an integer other than 0 or 1 in a boolean column");
  BOOST_TEST(*misfit(boolean, value::of_real(0.5)) == "a real in a boolean column");
  BOOST_TEST(!misfit(json, value::text("{\"a\": [1]}")));
  BOOST_TEST(*misfit(json, value::text("{a:1}")) == "text that is not JSON");
  BOOST_TEST(!misfit(ts, value::text("2024-02-29 23:59:59.123")));
  BOOST_TEST(!misfit(ts, value::text("2024-02-29T23:59")));
  BOOST_TEST(misfit(ts, value::text("2023-02-29 00:00:00")).has_value());
  BOOST_TEST(*misfit(ts, value::of(1700000000)) == "an integer in a timestamp column");
  BOOST_TEST(misfit(pg_type{kind::date}, value::text("2024-01-01 10:00")).has_value());
  BOOST_TEST(!misfit(pg_type{kind::blob}, value::blob(std::string_view("\0\1", 2))));
  BOOST_TEST(*misfit(pg_type{kind::blob}, value::text("x")) == "text in a bytea column");
  BOOST_TEST(!misfit(pg_type{kind::real}, value::of(3)));
  BOOST_TEST(!misfit(bigint, value::null()));
}

BOOST_AUTO_TEST_CASE(text_lengths_encodings_and_decimals_are_checked) {
  const pg_type varchar3{kind::varchar, 3};
  BOOST_TEST(!misfit(varchar3, value::text("äöü")));  // characters, not bytes
  BOOST_TEST(*misfit(varchar3, value::text("abcd")) == "text longer than 3 characters");
  BOOST_TEST(*misfit(pg_type{kind::text}, value::text("\xff")) == "text that is not UTF-8");
  BOOST_TEST(*misfit(pg_type{kind::text}, value::text(std::string_view("a\0b", 3))) == "text with a NUL byte");
  const pg_type money{kind::numeric, 0, 5, 2};
  BOOST_TEST(!misfit(money, value::of_real(123.45)));
  BOOST_TEST(*misfit(money, value::of_real(1.234)) == "more than 2 decimals");
  BOOST_TEST(*misfit(money, value::of(1000)) == "more digits than numeric(5,2) holds");
  BOOST_TEST(!misfit(money, value::of_real(-0.5)));
}

BOOST_AUTO_TEST_CASE(utf8_validation_rejects_overlong_and_surrogates) {
  BOOST_TEST(valid_utf8("plain ünï 😀"));
  BOOST_TEST(!valid_utf8("\xc0\xaf"));          // overlong '/'
  BOOST_TEST(!valid_utf8("\xed\xa0\x80"));      // a surrogate
  BOOST_TEST(!valid_utf8("\xe2\x82"));          // cut short
  BOOST_TEST(!valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
}

BOOST_AUTO_TEST_SUITE_END()
