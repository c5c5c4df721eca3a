#include <boost/test/unit_test.hpp>

#include "server/metrics.hpp"

using monolite::server::escape_label_value;

BOOST_AUTO_TEST_SUITE(metrics)

BOOST_AUTO_TEST_CASE(plain_label_values_are_unchanged) {
  BOOST_TEST(escape_label_value("") == "");
  BOOST_TEST(escape_label_value("file:///var/lib/monolite/replica") == "file:///var/lib/monolite/replica");
  BOOST_TEST(escape_label_value("s3://bucket/p?endpoint=http%3A%2F%2Fh&x='y'") ==
             "s3://bucket/p?endpoint=http%3A%2F%2Fh&x='y'");
}

BOOST_AUTO_TEST_CASE(backslash_quote_and_newline_are_escaped) {
  BOOST_TEST(escape_label_value("a\\b") == "a\\\\b");
  BOOST_TEST(escape_label_value("say \"hi\"") == "say \\\"hi\\\"");
  BOOST_TEST(escape_label_value("one\ntwo") == "one\\ntwo");
  BOOST_TEST(escape_label_value("\\\"\n") == "\\\\\\\"\\n");
  // Already escaped text is escaped again: the value is taken literally.
  BOOST_TEST(escape_label_value("\\n") == "\\\\n");
}

BOOST_AUTO_TEST_CASE(other_bytes_pass_through) {
  const std::string bytes = "tab\there\rcr\x01 \xc3\xa9";
  BOOST_TEST(escape_label_value(bytes) == bytes);
}

BOOST_AUTO_TEST_SUITE_END()
