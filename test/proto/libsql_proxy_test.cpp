#include "proto/libsql_proxy.hpp"

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <limits>

#include "proto/protobuf_wire.hpp"

using namespace monolite::proto;
namespace lp = monolite::proto::libsql_proxy;

namespace {

std::string bytes(std::initializer_list<int> list) {
  std::string out;
  for (int b : list)
    out.push_back(static_cast<char>(b));
  return out;
}

std::string le(std::uint64_t v, int n) {
  std::string out;
  for (int i = 0; i < n; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return out;
}

// Value{data} / Positional{values} / Named{names, values} / Query / Step / Program / ProgramReq.
std::string value_msg(const value& v) { return pb::writer().bytes(1, lp::encode_value(v)).take(); }

std::string query_msg(std::string_view sql, const std::vector<value>& args, bool skip_rows = false) {
  pb::writer w;
  w.bytes(1, sql);
  pb::writer positional;
  for (const auto& a : args)
    positional.bytes(1, value_msg(a));
  w.bytes(2, positional.str());
  if (skip_rows) w.boolean(4, true);
  return w.take();
}

std::string step_msg(const std::string& query, const std::string& cond = {}) {
  pb::writer w;
  if (!cond.empty()) w.bytes(1, cond);
  if (!query.empty()) w.bytes(2, query);
  return w.take();
}

std::string program_req(const std::vector<std::string>& steps, std::string_view client_id = "c1") {
  pb::writer program;
  for (const auto& s : steps)
    program.bytes(1, s);
  return pb::writer().bytes(1, client_id).bytes(2, program.str()).take();
}

std::string ok_cond(std::int64_t step) { return pb::writer().bytes(1, pb::writer().sint64(1, step).take()).take(); }
std::string err_cond(std::int64_t step) { return pb::writer().bytes(2, pb::writer().sint64(1, step).take()).take(); }
std::string not_cond(const std::string& c) { return pb::writer().bytes(3, pb::writer().bytes(1, c).take()).take(); }
std::string list_cond(int number, const std::vector<std::string>& conds) {
  pb::writer list;
  for (const auto& c : conds)
    list.bytes(1, c);
  return pb::writer().bytes(number, list.str()).take();
}
std::string autocommit_cond() { return pb::writer().bytes(6, "").take(); }

std::vector<pb::field> fields(std::string_view message) {
  std::vector<pb::field> out;
  pb::reader r(message);
  while (auto f = r.next())
    out.push_back(*f);
  BOOST_REQUIRE(!r.failed());
  return out;
}

std::string program_error(const std::string& message) {
  auto r = lp::decode_program_request(message);
  BOOST_REQUIRE(r.has_error());
  BOOST_TEST(r.error().status == 400u);
  return r.error().message;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(libsql_proxy_wire)

BOOST_AUTO_TEST_CASE(values_round_trip_through_bincode) {
  const std::vector<value> values = {value{},
                                     value{std::int64_t{0}},
                                     value{std::numeric_limits<std::int64_t>::min()},
                                     value{std::numeric_limits<std::int64_t>::max()},
                                     value{-1.5},
                                     value{std::string("hé")},
                                     value{std::string()},
                                     value{blob{{0, 255, 7}}},
                                     value{blob{}}};
  for (const auto& v : values) {
    auto back = lp::decode_value(lp::encode_value(v));
    BOOST_REQUIRE(back);
    BOOST_TEST((*back == v), "value of index " << v.index());
  }
  // As the real client sends 'hi' (wire spec), and a boolean as SQLite stores it.
  BOOST_TEST(lp::encode_value(value{std::string("hi")}) == bytes({3, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 'h', 'i'}));
  BOOST_TEST(lp::encode_value(value{}) == bytes({0, 0, 0, 0}));
  BOOST_TEST((*lp::decode_value(lp::encode_value(value{true})) == value{std::int64_t{1}}));
  auto nan = lp::decode_value(lp::encode_value(value{std::nan("")}));
  BOOST_TEST(std::isnan(std::get<double>(*nan)));
}

BOOST_AUTO_TEST_CASE(bad_bincode_is_an_error_value) {
  const std::vector<std::string> bad = {
      "",                                        // no tag
      bytes({1, 0, 0}),                          // a short tag
      le(5, 4),                                  // an unknown tag
      le(0xffffffff, 4) + le(0, 8),              // another
      le(0, 4) + "x",                            // null with bytes after it
      le(1, 4) + le(7, 7),                       // an integer of 7 bytes
      le(1, 4) + le(7, 8) + "x",                 // and of 9
      le(2, 4) + le(0, 4),                       // a short real
      le(3, 4) + le(2, 7),                       // a truncated length
      le(3, 4) + le(3, 8) + "hi",                // a length beyond the data
      le(4, 4) + le(1, 8) + "hi",                // bytes after the blob
      le(4, 4) + le(~0ull, 8) + "hi",            // an oversize length
      le(3, 4) + le(2, 8) + bytes({0xc3, 0x28})  // text that is not UTF-8
  };
  for (const auto& b : bad) {
    auto r = lp::decode_value(b);
    BOOST_TEST(r.has_error(), "accepted " << b.size() << " bytes");
    if (r.has_error()) BOOST_TEST(r.error().code == "BAD_PARAMS");
  }
}

BOOST_AUTO_TEST_CASE(a_program_decodes_into_a_hrana_batch) {
  pb::writer named;
  named.bytes(1, ":name").bytes(1, "n2").bytes(2, value_msg(value{std::string("x")})).bytes(2, value_msg(value{}));
  const auto named_query = pb::writer().bytes(1, "INSERT INTO t VALUES (:name, :n2)").bytes(3, named.str()).take();
  const auto msg = program_req(
      {step_msg(query_msg("BEGIN", {})),
       step_msg(query_msg("INSERT INTO t VALUES (?, ?)", {value{std::int64_t{7}}, value{blob{{1}}}}, true), ok_cond(0)),
       step_msg(named_query, list_cond(4, {ok_cond(1), not_cond(err_cond(0))})),
       step_msg(query_msg("COMMIT", {}), list_cond(5, {autocommit_cond(), ok_cond(2)}))},
      "client-uuid");
  auto r = lp::decode_program_request(msg);
  BOOST_REQUIRE(r);
  BOOST_TEST(r->client_id == "client-uuid");
  const auto& steps = r->program.steps;
  BOOST_REQUIRE(steps.size() == 4u);
  BOOST_TEST(*steps[0].statement.sql == "BEGIN");
  BOOST_TEST(!steps[0].cond);
  BOOST_TEST(steps[0].statement.want_rows);
  BOOST_TEST(!steps[1].statement.want_rows);  // skip_rows
  BOOST_TEST((steps[1].statement.args == std::vector<value>{value{std::int64_t{7}}, value{blob{{1}}}}));
  BOOST_TEST((steps[1].cond->type == hrana::condition::kind::ok));
  BOOST_TEST(steps[1].cond->step == 0u);
  BOOST_REQUIRE(steps[2].statement.named_args.size() == 2u);
  BOOST_TEST(steps[2].statement.named_args[0].name == ":name");
  BOOST_TEST((steps[2].statement.named_args[0].val == value{std::string("x")}));
  BOOST_TEST(steps[2].statement.named_args[1].name == "n2");
  BOOST_TEST(steps[2].statement.args.empty());
  const auto& and_ = *steps[2].cond;
  BOOST_TEST((and_.type == hrana::condition::kind::and_));
  BOOST_REQUIRE(and_.conds.size() == 2u);
  BOOST_TEST((and_.conds[1].type == hrana::condition::kind::not_));
  BOOST_TEST((and_.conds[1].conds.at(0).type == hrana::condition::kind::error));
  BOOST_TEST((steps[3].cond->type == hrana::condition::kind::or_));
  BOOST_TEST((steps[3].cond->conds.at(0).type == hrana::condition::kind::is_autocommit));
  BOOST_TEST(steps[3].cond->conds.at(1).step == 2u);
}

BOOST_AUTO_TEST_CASE(an_empty_request_is_an_empty_program_and_unknown_fields_are_skipped) {
  auto r = lp::decode_program_request("");
  BOOST_REQUIRE(r);
  BOOST_TEST(r->program.steps.empty());
  auto skipped = lp::decode_program_request(pb::writer().varint(9, 1).bytes(1, "c").take());
  BOOST_REQUIRE(skipped);
  BOOST_TEST(skipped->client_id == "c");
}

BOOST_AUTO_TEST_CASE(bad_programs_are_error_values) {
  const auto q = query_msg("SELECT 1", {});
  BOOST_TEST(program_error(bytes({0x12, 0x05, 'a'})) == "malformed ProgramReq message");
  BOOST_TEST(program_error(pb::writer().varint(1, 3).take()).find("wrong wire type") != std::string::npos);
  BOOST_TEST(program_error(program_req({bytes({0x0a})})) == "malformed Step message");
  BOOST_TEST(program_error(program_req({step_msg("", autocommit_cond())})).find("no query") != std::string::npos);
  BOOST_TEST(program_error(program_req({step_msg(q, ok_cond(0))})).find("refers to step 0") != std::string::npos);
  BOOST_TEST(program_error(program_req({step_msg(q), step_msg(q, err_cond(-1))})).find("refers to step -1") !=
             std::string::npos);
  BOOST_TEST(program_error(program_req({step_msg(q), step_msg(q, ok_cond(5))})).find("refers to step 5") !=
             std::string::npos);
  BOOST_TEST(program_error(program_req({step_msg(q), step_msg(q, pb::writer().varint(9, 1).take() + "")})) ==
             "a condition of no known kind");
  BOOST_TEST(program_error(program_req({step_msg(q), step_msg(q, pb::writer().bytes(3, "").take())}))
                 .find("without its condition") != std::string::npos);
  std::string deep = autocommit_cond();
  for (int i = 0; i < 40; ++i)
    deep = not_cond(deep);
  BOOST_TEST(program_error(program_req({step_msg(q, deep)})).find("nest deeper") != std::string::npos);
  std::vector<std::string> many(lp::max_program_steps + 1, step_msg(q));
  BOOST_TEST(program_error(program_req(many)).find("at most 1000 steps") != std::string::npos);
  BOOST_TEST(!lp::decode_program_request(program_req(std::vector<std::string>(lp::max_program_steps, step_msg(q))))
                  .has_error());
}

BOOST_AUTO_TEST_CASE(bad_parameters_are_error_values) {
  const auto with_positional = [](const std::string& positional) {
    return program_req({step_msg(pb::writer().bytes(1, "SELECT ?").bytes(2, positional).take())});
  };
  const auto with_named = [](const std::string& named) {
    return program_req({step_msg(pb::writer().bytes(1, "SELECT :a").bytes(3, named).take())});
  };
  BOOST_TEST(program_error(with_positional(pb::writer().bytes(1, "").take())).find("bincode") != std::string::npos);
  BOOST_TEST(program_error(with_positional(pb::writer().bytes(1, pb::writer().bytes(1, le(9, 4)).take()).take()))
                 .find("unknown tag 9") != std::string::npos);
  BOOST_TEST(program_error(with_positional(pb::writer().varint(1, 1).take())).find("wrong wire type") !=
             std::string::npos);
  BOOST_TEST(program_error(with_positional(bytes({0x0a, 0x09}))) == "malformed Positional message");
  BOOST_TEST(program_error(with_named(pb::writer().bytes(1, ":a").take())).find("1 parameter names for 0") !=
             std::string::npos);
  BOOST_TEST(program_error(with_named(pb::writer().bytes(2, value_msg(value{})).take())).find("0 parameter names") !=
             std::string::npos);
  BOOST_TEST(program_error(with_named(bytes({0x12, 0x01}))) == "malformed Named message");
  BOOST_TEST(program_error(program_req({step_msg(pb::writer().varint(1, 1).take())})).find("wrong wire type") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(describe_and_disconnect_requests_decode) {
  auto d = lp::decode_describe_request(pb::writer().bytes(1, "id").bytes(2, "SELECT ?").take());
  BOOST_REQUIRE(d);
  BOOST_TEST(d->client_id == "id");
  BOOST_TEST(d->stmt == "SELECT ?");
  BOOST_TEST(lp::decode_describe_request(bytes({0x0a, 0x03, 'a'})).has_error());
  BOOST_TEST(lp::decode_describe_request(pb::writer().varint(2, 1).take()).has_error());
  BOOST_TEST(*lp::decode_disconnect(pb::writer().bytes(1, "id").take()) == "id");
  BOOST_TEST(*lp::decode_disconnect("") == "");
  BOOST_TEST(lp::decode_disconnect(bytes({0x0a})).has_error());
  BOOST_TEST(lp::decode_disconnect(pb::writer().varint(1, 1).take()).has_error());
}

BOOST_AUTO_TEST_CASE(execute_results_encode_rows_errors_skips_and_state) {
  statement_result rows;
  rows.columns = {"id", "n"};
  rows.decltypes = {"INTEGER", ""};
  rows.rows = {{value{std::int64_t{1}}, value{std::string("a")}}};
  rows.rows_affected = 3;
  rows.last_insert_id = -4;
  lp::execute_results results;
  results.results = {rows, lp::query_error{lp::error_code::tx_timeout, "boom", 19}, lp::skipped{}};
  results.state = lp::txn_state::txn;
  results.current_frame_no = 0;  // present even when 0: it is optional
  const auto encoded = lp::encode(results);
  const auto top = fields(encoded);
  BOOST_REQUIRE(top.size() == 5u);
  BOOST_TEST(top[3].number == 2u);
  BOOST_TEST(top[3].number_value == 2u);
  BOOST_TEST(top[4].number == 3u);
  BOOST_TEST(top[4].number_value == 0u);
  const auto row_result = fields(top[0].bytes);
  BOOST_REQUIRE(row_result.size() == 1u);
  BOOST_TEST(row_result[0].number == 2u);
  const auto r = fields(row_result[0].bytes);  // 2 columns, 1 row, affected, last_insert_rowid
  BOOST_REQUIRE(r.size() == 5u);
  const auto col0 = fields(r[0].bytes);
  BOOST_REQUIRE(col0.size() == 2u);
  BOOST_TEST(col0[0].bytes == "id");
  BOOST_TEST(col0[1].number == 3u);
  BOOST_TEST(col0[1].bytes == "INTEGER");
  BOOST_TEST(fields(r[1].bytes).size() == 1u);  // no decltype for "n"
  const auto row = fields(r[2].bytes);
  BOOST_REQUIRE(row.size() == 2u);
  BOOST_TEST((*lp::decode_value(fields(row[1].bytes).at(0).bytes) == value{std::string("a")}));
  BOOST_TEST(r[3].number_value == 3u);
  BOOST_TEST(static_cast<std::int64_t>(r[4].number_value) == -4);
  const auto error = fields(fields(top[1].bytes).at(0).bytes);
  BOOST_REQUIRE(error.size() == 3u);
  BOOST_TEST(error[0].number_value == 2u);
  BOOST_TEST(error[1].bytes == "boom");
  BOOST_TEST(error[2].number_value == 19u);
  BOOST_TEST(top[2].bytes.empty());                       // skipped: an empty QueryResult
  BOOST_TEST(lp::encode(lp::execute_results{}).empty());  // INIT, no frame_no
}

BOOST_AUTO_TEST_CASE(a_description_pads_its_parameter_names_for_the_1_based_client) {
  statement_description d;
  d.params = {":a", ""};
  d.columns = {"x"};
  d.decltypes = {"TEXT"};
  const auto encoded = lp::encode_description(d);
  const auto top = fields(encoded);
  BOOST_REQUIRE(top.size() == 1u);
  BOOST_TEST(top[0].number == 2u);
  const auto desc = fields(top[0].bytes);
  BOOST_REQUIRE(desc.size() == 5u);
  BOOST_TEST(fields(desc[0].bytes).at(0).bytes == "x");
  BOOST_TEST(desc[1].bytes == "");
  BOOST_TEST(desc[2].bytes == ":a");
  BOOST_TEST(desc[3].bytes == "");
  BOOST_TEST(desc[4].number == 3u);
  BOOST_TEST(desc[4].number_value == 2u);
  const auto error_message = lp::encode_describe_error({lp::error_code::sql_error, "no such table", 1});
  const auto err = fields(error_message);
  BOOST_REQUIRE(err.size() == 1u);
  BOOST_TEST(err[0].number == 1u);
  BOOST_TEST(fields(err[0].bytes).at(0).bytes == "no such table");
}

BOOST_AUTO_TEST_CASE(sqlite_code_names_map_to_their_primary_codes) {
  BOOST_TEST(lp::sqlite_result_code("SQLITE_ERROR") == 1);
  BOOST_TEST(lp::sqlite_result_code("SQLITE_CONSTRAINT") == 19);
  BOOST_TEST(lp::sqlite_result_code("SQLITE_CONSTRAINT_PRIMARYKEY") == 19);
  BOOST_TEST(lp::sqlite_result_code("SQLITE_NOTADB") == 26);
  BOOST_TEST(lp::sqlite_result_code("SQLITE_NOPE") == 0);
  BOOST_TEST(lp::sqlite_result_code("TRANSACTION_TIMEOUT") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
