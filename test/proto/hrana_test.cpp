#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>
#include <limits>

#include "proto/hrana_baton.hpp"
#include "proto/hrana_decode.hpp"
#include "proto/hrana_encode.hpp"

using namespace monolite::proto;
namespace ph = monolite::proto::hrana;
namespace json = boost::json;

namespace {

ph::stream_request one(std::string_view body) {
  auto decoded = ph::decode_pipeline(body);
  BOOST_REQUIRE(decoded.has_value());
  BOOST_REQUIRE_EQUAL(decoded->requests.size(), 1u);
  const bool decoded_ok = decoded->requests[0].has_value();
  BOOST_REQUIRE_MESSAGE(decoded_ok, (decoded_ok ? std::string() : decoded->requests[0].error().message));
  return *decoded->requests[0];
}

ph::error one_error(std::string_view body) {
  auto decoded = ph::decode_pipeline(body);
  BOOST_REQUIRE(decoded.has_value());
  BOOST_REQUIRE_EQUAL(decoded->requests.size(), 1u);
  BOOST_REQUIRE(decoded->requests[0].has_error());
  return decoded->requests[0].error();
}

std::string execute_with_arg(std::string_view value) {
  return R"({"requests":[{"type":"execute","stmt":{"sql":"SELECT ?","args":[)" + std::string(value) + "]}}]}";
}

value arg(std::string_view v) { return one(execute_with_arg(v)).statement.args.at(0); }

std::string encode_one_row(value v) {
  ph::stream_result r;
  r.kind = ph::request_kind::execute;
  r.stmt.columns = {"c"};
  r.stmt.decltypes = {""};
  r.stmt.rows = {{std::move(v)}};
  return ph::encode_pipeline_response(std::nullopt, {r});
}

}  // namespace

BOOST_AUTO_TEST_SUITE(proto_hrana)

BOOST_AUTO_TEST_CASE(bodies_that_are_not_pipelines_are_http_errors) {
  BOOST_TEST(ph::decode_pipeline("{").error().code == "BAD_JSON");
  BOOST_TEST(ph::decode_pipeline("[]").error().code == "BAD_REQUEST");
  BOOST_TEST(ph::decode_pipeline(R"({"baton":null})").error().code == "BAD_REQUEST");
  BOOST_TEST(ph::decode_pipeline(R"({"baton":5,"requests":[]})").error().code == "BATON_INVALID");
  auto ok = ph::decode_pipeline(R"({"requests":[]})");
  BOOST_REQUIRE(ok.has_value());
  BOOST_TEST(!ok->baton.has_value());
  BOOST_TEST(ph::decode_pipeline(R"({"baton":"abc","requests":[]})")->baton.value() == "abc");
}

BOOST_AUTO_TEST_CASE(every_request_type_decodes) {
  BOOST_TEST((one(R"({"requests":[{"type":"close"}]})").kind == ph::request_kind::close));
  BOOST_TEST((one(R"({"requests":[{"type":"get_autocommit"}]})").kind == ph::request_kind::get_autocommit));
  auto store = one(R"({"requests":[{"type":"store_sql","sql_id":7,"sql":"SELECT 1"}]})");
  BOOST_TEST(*store.sql_id == 7);
  BOOST_TEST(*store.sql == "SELECT 1");
  BOOST_TEST(*one(R"({"requests":[{"type":"close_sql","sql_id":-3}]})").sql_id == -3);
  BOOST_TEST(*one(R"({"requests":[{"type":"sequence","sql":"SELECT 1; SELECT 2"}]})").sql == "SELECT 1; SELECT 2");
  BOOST_TEST(*one(R"({"requests":[{"type":"describe","sql_id":1,"sql":null}]})").sql_id == 1);
  auto exec = one(R"({"requests":[{"type":"execute","stmt":{"sql_id":2,"want_rows":false,
      "named_args":[{"name":"a","value":{"type":"null"}}]}}]})");
  BOOST_TEST(!exec.statement.want_rows);
  BOOST_TEST(exec.statement.named_args.at(0).name == "a");
  BOOST_TEST(one(R"({"requests":[{"type":"execute","stmt":{"sql":"x"}}]})").statement.want_rows);
}

BOOST_AUTO_TEST_CASE(malformed_or_unknown_requests_fail_alone) {
  auto decoded = ph::decode_pipeline(R"({"requests":[{"type":"open_cursor"},{"type":"close"},{"x":1},7,
      {"type":"execute"},{"type":"store_sql","sql_id":1},{"type":"execute","stmt":{"sql":"x","sql_id":"1"}}]})");
  BOOST_REQUIRE(decoded.has_value());
  const auto& r = decoded->requests;
  BOOST_REQUIRE_EQUAL(r.size(), 7u);
  BOOST_TEST(r[0].error().code == "UNKNOWN_REQUEST");
  BOOST_TEST(r[1].has_value() == true);
  for (std::size_t i = 2; i < r.size(); ++i)
    BOOST_TEST(r[i].error().code == "INVALID_REQUEST");
}

BOOST_AUTO_TEST_CASE(values_decode_exactly) {
  BOOST_TEST((arg(R"({"type":"null"})") == value{std::monostate{}}));
  BOOST_TEST(std::get<std::int64_t>(arg(R"({"type":"integer","value":"-9223372036854775808"})")) ==
             std::numeric_limits<std::int64_t>::min());
  BOOST_TEST(std::get<std::int64_t>(arg(R"({"type":"integer","value":"9007199254740993"})")) == 9007199254740993);
  BOOST_TEST(std::get<double>(arg(R"({"type":"float","value":1.5})")) == 1.5);
  BOOST_TEST(std::get<double>(arg(R"({"type":"float","value":3})")) == 3.0);
  BOOST_TEST(std::get<std::string>(arg(R"({"type":"text","value":"h\u00e9"})")) == "h\xc3\xa9");
  const blob abc{{'a', 'b', 'c', 'd'}};
  BOOST_TEST((std::get<blob>(arg(R"({"type":"blob","base64":"YWJjZA=="})")) == abc));
  BOOST_TEST((std::get<blob>(arg(R"({"type":"blob","base64":"YWJjZA"})")) == abc));
  for (auto bad :
       {R"({"type":"integer","value":"9223372036854775808"})", R"({"type":"integer","value":"1.5"})",
        R"({"type":"integer","value":""})", R"({"type":"blob","base64":"Y"})", R"({"type":"blob","base64":"Y==="})",
        R"({"type":"float","value":"1"})", R"({"type":"bigint","value":"1"})", R"(5)", R"({"type":"text"})"})
    BOOST_TEST(one_error(execute_with_arg(bad)).code == "INVALID_REQUEST", bad);
}

BOOST_AUTO_TEST_CASE(conditions_decode_and_may_only_look_back) {
  auto b = one(R"({"requests":[{"type":"batch","batch":{"steps":[{"stmt":{"sql":"a"}},{"stmt":{"sql":"b"},
      "condition":{"type":"and","conds":[{"type":"ok","step":0},{"type":"not","cond":{"type":"error","step":0}},
      {"type":"or","conds":[{"type":"is_autocommit"}]}]}}]}}]})");
  BOOST_REQUIRE_EQUAL(b.steps.steps.size(), 2u);
  BOOST_TEST(!b.steps.steps[0].cond.has_value());
  const auto& c = *b.steps.steps[1].cond;
  BOOST_TEST((c.type == ph::condition::kind::and_));
  BOOST_REQUIRE_EQUAL(c.conds.size(), 3u);
  BOOST_TEST((c.conds[1].type == ph::condition::kind::not_));
  BOOST_TEST((c.conds[1].conds.at(0).type == ph::condition::kind::error));
  BOOST_TEST((c.conds[2].conds.at(0).type == ph::condition::kind::is_autocommit));
  auto self_ref = one_error(R"({"requests":[{"type":"batch","batch":{"steps":[
      {"stmt":{"sql":"a"},"condition":{"type":"ok","step":0}}]}}]})");
  BOOST_TEST(self_ref.code == "BATCH_COND_BAD_STEP");
  auto unknown = one_error(R"({"requests":[{"type":"batch","batch":{"steps":[
      {"stmt":{"sql":"a"}},{"stmt":{"sql":"a"},"condition":{"type":"maybe"}}]}}]})");
  BOOST_TEST(unknown.code == "INVALID_REQUEST");
}

BOOST_AUTO_TEST_CASE(values_encode_as_clients_read_them) {
  auto text = encode_one_row(std::int64_t{std::numeric_limits<std::int64_t>::max()});
  BOOST_TEST(text.find(R"({"type":"integer","value":"9223372036854775807"})") != std::string::npos);
  BOOST_TEST(encode_one_row(2.0).find(R"({"type":"float","value":2.0})") != std::string::npos);
  BOOST_TEST(encode_one_row(std::numeric_limits<double>::infinity()).find(R"("value":1e999)") != std::string::npos);
  BOOST_TEST(encode_one_row(blob{{1, 2, 3}}).find(R"({"type":"blob","base64":"AQID"})") != std::string::npos);
  BOOST_TEST(encode_one_row(std::monostate{}).find(R"({"type":"null"})") != std::string::npos);
  // Hrana has no boolean: PostgreSQL's bool goes out as SQLite's 1/0.
  BOOST_TEST(encode_one_row(true).find(R"({"type":"integer","value":"1"})") != std::string::npos);
  BOOST_TEST(encode_one_row(false).find(R"({"type":"integer","value":"0"})") != std::string::npos);
  BOOST_TEST(encode_one_row(std::string("a\"b")).find(R"({"type":"text","value":"a\"b"})") != std::string::npos);
  BOOST_TEST(text.find(R"("cols":[{"name":"c","decltype":null}])") != std::string::npos);
  BOOST_TEST(text.find(R"("affected_row_count":0,"last_insert_rowid":null)") != std::string::npos);
  BOOST_TEST(!json::parse(text).as_object().at("baton").is_string());
}

BOOST_AUTO_TEST_CASE(pipeline_responses_have_one_result_per_request) {
  std::vector<ph::stream_result> results(4);
  results[0].kind = ph::request_kind::execute;
  results[0].stmt.rows_affected = 2;
  results[0].stmt.last_insert_id = 9;
  results[1].kind = ph::request_kind::batch;
  results[1].steps.resize(3);
  results[1].steps[0].status = ph::step_outcome::state::ok;
  results[1].steps[2].status = ph::step_outcome::state::failed;
  results[1].steps[2].failure = {"boom", "SQLITE_ERROR"};
  results[2].kind = ph::request_kind::get_autocommit;
  results[2].is_autocommit = false;
  results[3].failure = ph::error{"nope", "SQL_NOT_FOUND"};
  const auto body = json::parse(ph::encode_pipeline_response(std::string("b1"), results)).as_object();
  BOOST_TEST(body.at("baton").as_string() == "b1");
  BOOST_TEST(body.at("base_url").is_null());
  const auto& r = body.at("results").as_array();
  BOOST_REQUIRE_EQUAL(r.size(), 4u);
  const auto& exec = r[0].at("response").at("result");
  BOOST_TEST(exec.at("affected_row_count").as_int64() == 2);
  BOOST_TEST(exec.at("last_insert_rowid").as_string() == "9");
  const auto& batch = r[1].at("response").at("result");
  BOOST_TEST(batch.at("step_results").as_array()[0].is_object());
  BOOST_TEST(batch.at("step_results").as_array()[1].is_null());
  BOOST_TEST(batch.at("step_errors").as_array()[1].is_null());
  BOOST_TEST(batch.at("step_errors").as_array()[2].at("code").as_string() == "SQLITE_ERROR");
  BOOST_TEST(r[2].at("response").at("is_autocommit").as_bool() == false);
  BOOST_TEST(r[3].at("type").as_string() == "error");
  BOOST_TEST(r[3].at("error").at("code").as_string() == "SQL_NOT_FOUND");
}

BOOST_AUTO_TEST_CASE(cursor_responses_are_json_lines) {
  std::vector<ph::step_outcome> steps(3);
  steps[0].status = ph::step_outcome::state::ok;
  steps[0].result.columns = {"x"};
  steps[0].result.rows = {{std::int64_t{1}}, {std::int64_t{2}}};
  steps[2].status = ph::step_outcome::state::failed;
  steps[2].failure = {"bad", "SQLITE_ERROR"};
  const auto text = ph::encode_cursor_response(std::nullopt, steps, ph::error{"late", "X"});
  std::vector<std::string> types;
  std::size_t start = 0;
  for (auto end = text.find('\n'); end != std::string::npos; start = end + 1, end = text.find('\n', start)) {
    const auto line = json::parse(text.substr(start, end - start)).as_object();
    types.emplace_back(line.contains("type") ? std::string(line.at("type").as_string()) : "head");
  }
  BOOST_TEST(
      (types == std::vector<std::string>{"head", "step_begin", "row", "row", "step_end", "step_error", "error"}));
}

BOOST_AUTO_TEST_CASE(errors_map_to_the_codes_clients_test) {
  BOOST_TEST(ph::from_api_error({409, "SQLITE_CONSTRAINT_UNIQUE", "m"}).code == "SQLITE_CONSTRAINT");
  BOOST_TEST(ph::from_api_error({400, "SQLITE_ERROR", "m"}).code == "SQLITE_ERROR");
  BOOST_TEST(ph::from_api_error({500, "SQLITE_IOERR_FSYNC", "m"}).code == "SQLITE_IOERR");
  BOOST_TEST(ph::from_api_error({400, "BAD_PARAMS", "m"}).code == "ARGS_INVALID");
  BOOST_TEST(ph::from_api_error({400, "RESULT_TOO_LARGE", "m"}).code == "RESPONSE_TOO_LARGE");
  const auto body = json::parse(ph::encode_http_error({400, "STREAM_EXPIRED", "gone"})).as_object();
  BOOST_TEST(body.at("message").as_string() == "gone");
  BOOST_TEST(body.at("code").as_string() == "STREAM_EXPIRED");
  BOOST_TEST(body.at("error").at("code").as_string() == "STREAM_EXPIRED");
}

BOOST_AUTO_TEST_CASE(batons_round_trip_and_reject_other_shapes) {
  ph::baton_fields f{0x0102030405060708ULL, 42, {}};
  for (std::size_t i = 0; i < f.mac.size(); ++i)
    f.mac[i] = static_cast<unsigned char>(200 + i);
  const auto text = ph::encode_baton(f);
  BOOST_TEST(text.find_first_of("+/=") == std::string::npos);
  auto back = ph::parse_baton(text);
  BOOST_REQUIRE(back.has_value());
  BOOST_TEST(back->stream == f.stream);
  BOOST_TEST(back->seq == 42u);
  BOOST_TEST((back->mac == f.mac));
  BOOST_TEST(!ph::parse_baton(text.substr(1)).has_value());
  BOOST_TEST(!ph::parse_baton(text + "A").has_value());
  BOOST_TEST(!ph::parse_baton("").has_value());
  BOOST_TEST(!ph::parse_baton(std::string(text.size(), '*')).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
