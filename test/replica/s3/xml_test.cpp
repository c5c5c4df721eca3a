// The S3 reply reader: entities, element lookup, and the replies the replica client parses.
#include "replica/s3/xml.hpp"

#include <boost/test/unit_test.hpp>
#include <chrono>

using namespace monolite::replica::s3_xml;

BOOST_AUTO_TEST_SUITE(proto_s3_xml)

BOOST_AUTO_TEST_CASE(entities_decode_named_and_numeric) {
  BOOST_TEST(decode_entities("a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;") == "a & b <c> \"d\" 'e'");
  BOOST_TEST(decode_entities("&#65;&#x42;&#X43;&#xe9;&#x20AC;&#x1F600;") == "ABC\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
  // Not entities: kept as written.
  BOOST_TEST(decode_entities("&nbsp; & &#; &#xZZ; &#0; &#xD800; &amp") == "&nbsp; & &#; &#xZZ; &#0; &#xD800; &amp");
  BOOST_TEST(decode_entities("&amp;lt;") == "&lt;");
}

// A reply full of '&' without ';' (a peer's garbage, or a hostile one) is read in linear time: the
// entity's ';' is looked for only as far as the longest entity, not to the end of the body each time.
// Searching to the end made 1 MiB of '&' take about a minute; linear it is milliseconds.
BOOST_AUTO_TEST_CASE(many_ampersands_decode_in_linear_time) {
  const std::string ampersands(std::size_t{1} << 20, '&');
  const auto started = std::chrono::steady_clock::now();
  BOOST_TEST(decode_entities(ampersands) == ampersands);
  BOOST_TEST(decode_entities(ampersands + "amp;") == ampersands);  // the last '&' still starts an entity
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  BOOST_TEST(seconds < 2.0, "decoding 1 MiB of '&' took " << seconds << " s");
  // As before: up to 11 characters between '&' and ';' are read as an entity, no more.
  BOOST_TEST(decode_entities("&#x00001F600;") == "\xf0\x9f\x98\x80");
  BOOST_TEST(decode_entities("&#x000001F600;") == "&#x000001F600;");
}

BOOST_AUTO_TEST_CASE(escape_round_trips) {
  const std::string text = "k<1>&\"2\"'3'/\xc3\xbc";
  BOOST_TEST(escape(text) == "k&lt;1&gt;&amp;&quot;2&quot;&apos;3&apos;/\xc3\xbc");
  BOOST_TEST(decode_entities(escape(text)) == text);
}

BOOST_AUTO_TEST_CASE(url_encoded_keys_decode) {
  BOOST_TEST(decode_url_encoded("a+b%2Bc%2Fd%C3%BC%") == "a b+c/d\xc3\xbc%");
  BOOST_TEST(decode_url_encoded("%zz%4") == "%zz%4");
}

BOOST_AUTO_TEST_CASE(elements_match_whole_names_and_attributes) {
  const std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<R xmlns="x"><Keys>no</Keys><Key>one</Key><Key id="2">two</Key><Key/><KeyCount>3</KeyCount></R>)";
  BOOST_TEST(root_name(xml) == "R");
  const auto keys = elements(xml, "Key");
  BOOST_REQUIRE_EQUAL(keys.size(), 3u);
  BOOST_TEST(keys[0] == "one");
  BOOST_TEST(keys[1] == "two");
  BOOST_TEST(keys[2] == "");
  BOOST_TEST(field(xml, "KeyCount").value() == "3");
  BOOST_TEST(!field(xml, "Missing").has_value());
  BOOST_TEST(elements("<a><b>unterminated</a>", "b").empty());
  BOOST_TEST(root_name("") == "");
}

BOOST_AUTO_TEST_CASE(list_objects_v2_page) {
  const std::string xml = R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p/</Prefix>
<KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>
<Contents><Key>p/a&amp;b</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified><ETag>&quot;x&quot;</ETag>
<Size>5</Size><StorageClass>STANDARD</StorageClass></Contents>
<Contents><Key>p/c+d%2B%C3%BC</Key><Size>18446744073709551615</Size></Contents>
<NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken></ListBucketResult>)";
  const auto page = parse_list_page(xml, true);
  BOOST_REQUIRE(page.has_value());
  BOOST_REQUIRE_EQUAL(page->objects.size(), 2u);
  BOOST_TEST(page->objects[0].key == "p/a&b");
  BOOST_TEST(page->objects[0].size == 5u);
  BOOST_TEST(page->objects[1].key == "p/c d+\xc3\xbc");
  BOOST_TEST(page->objects[1].size == 18446744073709551615ull);
  BOOST_TEST(page->truncated);
  BOOST_TEST(page->next_continuation_token == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  BOOST_TEST(parse_list_page(xml, false)->objects[1].key == "p/c+d%2B%C3%BC");
  // Asked for, but the reply does not say it encoded: the keys are raw.
  const std::string raw = R"(<ListBucketResult><IsTruncated>false</IsTruncated>
<Contents><Key>db+1/k%41 x</Key><Size>1</Size></Contents></ListBucketResult>)";
  BOOST_TEST(parse_list_page(raw, true)->objects.at(0).key == "db+1/k%41 x");
}

BOOST_AUTO_TEST_CASE(list_page_edge_cases) {
  const auto empty = parse_list_page("<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>", true);
  BOOST_REQUIRE(empty.has_value());
  BOOST_TEST(empty->objects.empty());
  BOOST_TEST(!empty->truncated);
  BOOST_TEST(
      !parse_list_page("<ListBucketResult><Contents><Key>k</Key><Size>-1</Size></Contents></ListBucketResult>", true)
           .has_value());
  BOOST_TEST(!parse_list_page("<Error><Code>NoSuchBucket</Code></Error>", true).has_value());
}

BOOST_AUTO_TEST_CASE(error_reply) {
  const auto error = parse_error(R"(<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message>
<BucketName>missing</BucketName><RequestId>4442587FB7D0A2F9</RequestId></Error>)");
  BOOST_REQUIRE(error.has_value());
  BOOST_TEST(error->code == "NoSuchBucket");
  BOOST_TEST(error->message == "The specified bucket does not exist");
  BOOST_TEST(error->bucket == "missing");
  // Not an error document: a DeleteResult holds <Error> elements but is a success reply.
  BOOST_TEST(!parse_error("<DeleteResult><Error><Code>AccessDenied</Code></Error></DeleteResult>").has_value());
  BOOST_TEST(!parse_error("").has_value());
}

BOOST_AUTO_TEST_CASE(initiate_multipart_upload) {
  BOOST_TEST(parse_upload_id(R"(<?xml version="1.0"?><InitiateMultipartUploadResult xmlns="x"><Bucket>b</Bucket>
<Key>k</Key><UploadId>VXBsb2FkIElE&amp;1</UploadId></InitiateMultipartUploadResult>)")
                 .value() == "VXBsb2FkIElE&1");
  BOOST_TEST(!parse_upload_id("<InitiateMultipartUploadResult><UploadId></UploadId></InitiateMultipartUploadResult>")
                  .has_value());
}

BOOST_AUTO_TEST_CASE(delete_objects_failures) {
  const auto failures = parse_delete_failures(R"(<?xml version="1.0" encoding="UTF-8"?>
<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Deleted><Key>ok</Key></Deleted>
<Error><Key>a&lt;b</Key><Code>AccessDenied</Code><Message>Access Denied</Message></Error>
<Error><Key>c</Key><Code>InternalError</Code><Message>try again</Message></Error></DeleteResult>)");
  BOOST_REQUIRE_EQUAL(failures.size(), 2u);
  BOOST_TEST(failures[0].key == "a<b");
  BOOST_TEST(failures[0].code == "AccessDenied");
  BOOST_TEST(failures[1].message == "try again");
  BOOST_TEST(parse_delete_failures("<DeleteResult><Deleted><Key>k</Key></Deleted></DeleteResult>").empty());
}

BOOST_AUTO_TEST_SUITE_END()
