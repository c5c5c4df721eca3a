// s3_xml — just enough XML for S3: the text of named elements in a reply, entity decoding, escaping
// for the bodies we send, and the few replies the replica client reads (ListObjectsV2, Error,
// InitiateMultipartUpload, DeleteObjects). Not a general XML parser: S3 replies are small
// machine-written documents without comments, CDATA or nested elements of the same name.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace monolite::replica::s3_xml {

// &amp; &lt; &gt; &quot; &apos; &#NN; &#xHH; decoded (numeric ones to UTF-8); anything else that
// looks like an entity is kept as written.
std::string decode_entities(std::string_view text);
// The text with & < > " ' written as entities, for element content we send.
std::string escape(std::string_view text);
// Percent-decoding as for encoding-type=url replies: %XX is a byte, '+' is a space.
std::string decode_url_encoded(std::string_view text);

// The name of the document's first element (after any <?xml …?> declaration), or "".
std::string_view root_name(std::string_view xml);
// The raw (undecoded) contents of every <tag …>…</tag> element, or "" for <tag/>, in document order.
std::vector<std::string_view> elements(std::string_view xml, std::string_view tag);
// The decoded text of the first <tag> element, if there is one.
std::optional<std::string> field(std::string_view xml, std::string_view tag);

// <Error><Code>…</Code><Message>…</Message>…</Error>, the body of a failed S3 call.
struct error_reply {
  std::string code;
  std::string message;
  std::string bucket;  // <BucketName>, when S3 names it (NoSuchBucket)
};
// Empty unless the document's root element is <Error>.
std::optional<error_reply> parse_error(std::string_view xml);

struct listed_object {
  std::string key;
  std::uint64_t size = 0;
};
struct list_page {
  std::vector<listed_object> objects;
  bool truncated = false;
  std::string next_continuation_token;
};
// A ListBucketResult (ListObjectsV2). `url_encoded_keys`: the request asked for encoding-type=url;
// keys are decoded only when the reply also says <EncodingType>url</EncodingType>, as S3 does (a
// server that ignores the parameter sends raw keys, and decoding them would turn "+" into " ").
// Empty when the document is not one, or a <Size> is not a number.
std::optional<list_page> parse_list_page(std::string_view xml, bool url_encoded_keys);

// The <UploadId> of an InitiateMultipartUploadResult.
std::optional<std::string> parse_upload_id(std::string_view xml);

// The <Error> entries of a DeleteResult: keys S3 could not delete, and why.
struct delete_failure {
  std::string key;
  std::string code;
  std::string message;
};
std::vector<delete_failure> parse_delete_failures(std::string_view xml);

}  // namespace monolite::replica::s3_xml
