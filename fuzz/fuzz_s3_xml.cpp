// Fuzzes the S3 reply reader (replica/s3/xml.hpp): the bytes are a reply body from the network peer.
//
// Every parse function runs on the whole input. Checks:
// - decode_entities and decode_url_encoded never grow their input; escape at most sixfold, and
//   decode_entities(escape(x)) == x for any x (the input itself, and every decoded text);
// - root_name and every element from elements() are views into the input, elements in document
//   order and not overlapping; field(tag) is the first element, decoded;
// - parse_error, parse_list_page, parse_upload_id and parse_delete_failures answer only for their
//   own root element, agree with field()/elements(), and their results written back as the reply
//   S3 would send parse to the same values (round trip); a page read with url-encoded keys has
//   the same objects, keys decoded once more when the reply says <EncodingType>url</EncodingType>
//   and as they are otherwise.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "replica/s3/xml.hpp"

namespace {
using namespace monolite::replica::s3_xml;

[[noreturn]] void fail(const char* what, std::string_view detail = {}) {
  std::fprintf(stderr, "fuzz_s3_xml: %s\n%.*s\n", what, static_cast<int>(std::min<std::size_t>(detail.size(), 4096)),
               detail.data());
  std::abort();
}

void check(bool ok, const char* what, std::string_view detail = {}) {
  if (!ok) fail(what, detail);
}

bool is_view_into(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;  // "" for <tag/> may point anywhere
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

void check_text_functions(std::string_view text) {
  const std::string decoded = decode_entities(text);
  check(decoded.size() <= text.size(), "decode_entities grew its input", text);
  const std::string escaped = escape(text);
  check(escaped.size() <= 6 * text.size(), "escape more than sixfold", text);
  check(decode_entities(escaped) == text, "decode_entities(escape(x)) != x", text);
  check(decode_entities(escape(decoded)) == decoded, "decode_entities(escape(decoded)) != decoded", decoded);
  check(escaped.find_first_of("<>\"'") == std::string::npos, "escape left markup", escaped);
  check(decode_url_encoded(text).size() <= text.size(), "decode_url_encoded grew its input", text);
}

constexpr std::string_view tags[] = {"Error",    "Code",    "Message",      "BucketName",  "ListBucketResult",
                                     "Contents", "Key",     "Size",         "IsTruncated", "NextContinuationToken",
                                     "UploadId", "Deleted", "DeleteResult", "ETag",        "Part"};

void check_elements(std::string_view xml) {
  check(is_view_into(root_name(xml), xml), "root_name is not part of the input");
  for (const std::string_view tag : tags) {
    const auto found = elements(xml, tag);
    const char* previous_end = xml.data();
    std::size_t total = 0;
    for (const std::string_view element : found) {
      check(is_view_into(element, xml), "an element is not part of the input", tag);
      if (!element.empty()) {
        check(element.data() >= previous_end, "elements overlap or are out of order", tag);
        previous_end = element.data() + element.size();
      }
      total += element.size();
    }
    check(total <= xml.size() && found.size() <= xml.size() / (tag.size() + 3), "more elements than fit", tag);
    const auto first = field(xml, tag);
    check(first.has_value() == !found.empty(), "field() and elements() disagree", tag);
    if (first) check(*first == decode_entities(found.front()), "field() is not the first element decoded", tag);
  }
}

std::string element(std::string_view tag, std::string_view text) {
  return "<" + std::string(tag) + ">" + escape(text) + "</" + std::string(tag) + ">";
}

void check_error(std::string_view xml) {
  const auto error = parse_error(xml);
  check(error.has_value() == (root_name(xml) == "Error"), "parse_error answers for another root");
  if (!error) return;
  check(error->code == field(xml, "Code").value_or(""), "parse_error code is not <Code>");
  const auto again =
      parse_error("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>" + element("Code", error->code) +
                  element("Message", error->message) + element("BucketName", error->bucket) + "</Error>");
  check(again && again->code == error->code && again->message == error->message && again->bucket == error->bucket,
        "an error reply written back reads differently", xml);
}

std::string list_reply(const list_page& page) {
  std::string out = "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (const auto& object : page.objects)
    out += "<Contents>" + element("Key", object.key) + element("Size", std::to_string(object.size)) + "</Contents>";
  out += element("IsTruncated", page.truncated ? "true" : "false");
  if (!page.next_continuation_token.empty()) out += element("NextContinuationToken", page.next_continuation_token);
  return out + "</ListBucketResult>";
}

bool same_page(const list_page& a, const list_page& b) {
  if (a.objects.size() != b.objects.size() || a.truncated != b.truncated ||
      a.next_continuation_token != b.next_continuation_token)
    return false;
  for (std::size_t i = 0; i < a.objects.size(); ++i)
    if (a.objects[i].key != b.objects[i].key || a.objects[i].size != b.objects[i].size) return false;
  return true;
}

void check_list_page(std::string_view xml) {
  const auto page = parse_list_page(xml, false);
  const auto url_page = parse_list_page(xml, true);
  check(page.has_value() == url_page.has_value(), "encoding-type changes whether a page parses", xml);
  if (!page) return;
  check(root_name(xml) == "ListBucketResult", "parse_list_page answers for another root");
  check(page->objects.size() == elements(xml, "Contents").size(), "objects and <Contents> differ in number", xml);
  check(page->objects.size() == url_page->objects.size(), "url-encoded page has other objects", xml);
  const bool encoded = field(xml, "EncodingType").value_or("") == "url";
  for (std::size_t i = 0; i < page->objects.size(); ++i) {
    check(page->objects[i].key.size() <= xml.size(), "a key longer than the reply");
    check(url_page->objects[i].key == (encoded ? decode_url_encoded(page->objects[i].key) : page->objects[i].key),
          "url-encoded key not decoded exactly when the reply says so");
    check(url_page->objects[i].size == page->objects[i].size, "url-encoded page has other sizes");
  }
  const auto again = parse_list_page(list_reply(*page), false);
  check(again && same_page(*again, *page), "a page written back reads differently", xml);
}

void check_upload_id(std::string_view xml) {
  const auto id = parse_upload_id(xml);
  if (!id) return;
  check(root_name(xml) == "InitiateMultipartUploadResult" && !id->empty(), "parse_upload_id answers wrongly", xml);
  const auto again = parse_upload_id("<InitiateMultipartUploadResult>" + element("UploadId", *id) +
                                     "</InitiateMultipartUploadResult>");
  check(again == id, "an upload id written back reads differently", xml);
}

void check_delete_failures(std::string_view xml) {
  const auto failures = parse_delete_failures(xml);
  if (root_name(xml) != "DeleteResult") {
    check(failures.empty(), "parse_delete_failures answers for another root");
    return;
  }
  check(failures.size() == elements(xml, "Error").size(), "failures and <Error> differ in number", xml);
  std::string reply = "<DeleteResult><Deleted><Key>kept</Key></Deleted>";
  for (const auto& f : failures)
    reply += "<Error>" + element("Key", f.key) + element("Code", f.code) + element("Message", f.message) + "</Error>";
  const auto again = parse_delete_failures(reply + "</DeleteResult>");
  bool same = again.size() == failures.size();
  for (std::size_t i = 0; same && i < again.size(); ++i)
    same =
        again[i].key == failures[i].key && again[i].code == failures[i].code && again[i].message == failures[i].message;
  check(same, "delete failures written back read differently", xml);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view xml(reinterpret_cast<const char*>(data), size);
  check_text_functions(xml);
  check_elements(xml);
  check_error(xml);
  check_list_page(xml);
  check_upload_id(xml);
  check_delete_failures(xml);
  return 0;
}
