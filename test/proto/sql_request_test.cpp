#include <boost/test/unit_test.hpp>

#include "proto/sql_request.hpp"
#include "proto/sql_response.hpp"

using namespace monolite::proto;

BOOST_AUTO_TEST_SUITE(proto_sql_request)

BOOST_AUTO_TEST_CASE(query_with_positional_params) {
  auto q = decode_query(R"({"sql":"SELECT ?, ?","params":[1,"a"]})");
  BOOST_REQUIRE(q.has_value());
  BOOST_TEST(q->sql == "SELECT ?, ?");
  BOOST_TEST(q->positional.size() == 2u);
  BOOST_TEST(q->named.empty());
}

BOOST_AUTO_TEST_CASE(query_with_named_params_keeps_names_as_sent) {
  auto q = decode_query(R"({"sql":"SELECT :a, @b","params":{":a":1,"b":null}})");
  BOOST_REQUIRE(q.has_value());
  BOOST_REQUIRE(q->named.size() == 2u);
  BOOST_TEST(q->named[0].name == ":a");
  BOOST_TEST(q->named[1].name == "b");
}

BOOST_AUTO_TEST_CASE(shape_errors_are_bad_request_or_bad_json) {
  struct sample {
    const char* body;
    const char* code;
  };
  for (auto [body, code] :
       {sample{"{", "BAD_JSON"}, sample{"", "BAD_JSON"}, sample{"[]", "BAD_REQUEST"}, sample{"{}", "BAD_REQUEST"},
        sample{R"({"sql":1})", "BAD_REQUEST"}, sample{R"({"sql":"SELECT 1","params":3})", "BAD_PARAMS"},
        sample{R"({"sql":"SELECT ?","params":[[1]]})", "BAD_PARAMS"}}) {
    auto q = decode_query(body);
    BOOST_REQUIRE_MESSAGE(q.has_error(), body);
    BOOST_TEST(q.error().code == code, body);
    BOOST_TEST(q.error().status == 400u);
  }
}

BOOST_AUTO_TEST_CASE(execute_takes_one_statement_or_a_list) {
  auto one = decode_execute(R"x({"sql":"INSERT INTO t VALUES(1)"})x");
  BOOST_REQUIRE(one.has_value());
  BOOST_TEST(one->statements.size() == 1u);
  BOOST_TEST(!one->want_rows);
  auto many = decode_execute(R"({"statements":[{"sql":"A"},{"sql":"B","params":[1]}]})");
  BOOST_REQUIRE(many.has_value());
  BOOST_TEST(many->statements.size() == 2u);
  BOOST_TEST(many->statements[1].positional.size() == 1u);
}

BOOST_AUTO_TEST_CASE(statement_lists_must_be_non_empty_arrays_of_objects) {
  for (const char* body : {R"({"statements":[]})", R"({"statements":{}})", R"({"statements":["SELECT 1"]})",
                           R"({"statements":[{"params":[]}]})"}) {
    auto e = decode_execute(body);
    BOOST_REQUIRE_MESSAGE(e.has_error(), body);
    BOOST_TEST(e.error().code == "BAD_REQUEST");
    auto b = decode_batch(body);
    BOOST_REQUIRE_MESSAGE(b.has_error(), body);
  }
  BOOST_TEST(decode_batch(R"({"sql":"SELECT 1"})").has_error());
}

BOOST_AUTO_TEST_CASE(batch_wants_rows) {
  auto b = decode_batch(R"({"statements":[{"sql":"SELECT 1"}]})");
  BOOST_REQUIRE(b.has_value());
  BOOST_TEST(b->want_rows);
}

BOOST_AUTO_TEST_CASE(responses_have_the_contract_shape) {
  statement_result r;
  r.columns = {"a", "b"};
  r.rows = {{std::int64_t{1}, std::string("x")}};
  BOOST_TEST(encode_execute_response({}, 12.3456) == R"({"results":[],"time_ms":12.346})");
  BOOST_TEST(encode_execute_response({}, 0.0504) == R"({"results":[],"time_ms":0.050})");
  BOOST_TEST(encode_query_response(r, 0) == R"({"columns":["a","b"],"rows":[[1,"x"]],"time_ms":0.000})");
  r.rows_affected = 2;
  r.last_insert_id = 7;
  BOOST_TEST(encode_execute_response({r}, 0) ==
             R"({"results":[{"rows_affected":2,"last_insert_id":7}],"time_ms":0.000})");
  BOOST_TEST(
      encode_batch_response({r}, 0) ==
      R"({"results":[{"columns":["a","b"],"rows":[[1,"x"]],"rows_affected":2,"last_insert_id":7}],"time_ms":0.000})");
}

BOOST_AUTO_TEST_SUITE_END()
