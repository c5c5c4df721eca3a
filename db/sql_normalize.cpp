// One pass over the text; each token is copied, replaced by '?' or dropped. Unclosed quotes and
// comments run to the end of the text, as SQLite reads them (it would refuse the statement).
#include "db/sql_normalize.hpp"

#include <array>

namespace monolite::db {
namespace {

// Character classes, one table lookup each (the scan runs once per statement the server is sent).
enum char_class : unsigned char { blank = 1, digit = 2, hex = 4, name_start = 8, name_rest = 16 };

constexpr std::array<unsigned char, 256> make_classes() {
  std::array<unsigned char, 256> t{};
  for (int c : {' ', '\t', '\n', '\r', '\f', '\v'})
    t[c] = blank;
  for (int c = '0'; c <= '9'; ++c)
    t[c] = digit | hex | name_rest;
  // SQLite: letters, '_' and every byte of a multi-byte UTF-8 character start a name; digits and
  // '$' may follow.
  for (int c = 'a'; c <= 'z'; ++c)
    t[c] = name_start | name_rest | (c <= 'f' ? hex : 0);
  for (int c = 'A'; c <= 'Z'; ++c)
    t[c] = name_start | name_rest | (c <= 'F' ? hex : 0);
  for (int c = 0x80; c < 256; ++c)
    t[c] = name_start | name_rest;
  t['_'] = name_start | name_rest;
  t['$'] = name_rest;
  return t;
}
constexpr auto classes = make_classes();

bool is(char c, char_class k) { return (classes[static_cast<unsigned char>(c)] & k) != 0; }
bool is_blank(char c) { return is(c, blank); }
bool is_digit(char c) { return is(c, digit); }
bool is_hex(char c) { return is(c, hex); }
bool starts_name(char c) { return is(c, name_start); }
bool continues_name(char c) { return is(c, name_rest); }

class normalizer {
 public:
  explicit normalizer(std::string_view sql) : in_(sql) { out_.reserve(sql.size()); }

  std::string run() {
    while (i_ < in_.size())
      next_token();
    while (!out_.empty() && (out_.back() == ' ' || out_.back() == ';'))
      out_.pop_back();
    return std::move(out_);
  }

 private:
  char at(std::size_t k) const { return k < in_.size() ? in_[k] : '\0'; }

  // Copies in_[from, i_) (a token that stays), after the one blank that stood before it.
  void keep(std::size_t from) {
    blank_before_token();
    out_.append(in_.substr(from, i_ - from));
  }
  void value() {
    blank_before_token();
    out_.push_back('?');
  }
  // 0 and 1 stay: they are flags more often than values (`active = 1`, `LIMIT -1`), and the
  // portability check must see them as written.
  void number(std::size_t from) {
    const auto text = in_.substr(from, i_ - from);
    if (text == "0" || text == "1") return keep(from);
    value();
  }
  void blank_before_token() {
    if (blank_ && !out_.empty()) out_.push_back(' ');
    blank_ = false;
  }

  void next_token() {
    const char c = in_[i_];
    const std::size_t from = i_;
    if (is_blank(c)) return skip_blanks();
    if (c == '-' && at(i_ + 1) == '-') return skip_line_comment();
    if (c == '/' && at(i_ + 1) == '*') return skip_block_comment();
    if (c == '\'') return skip_quoted('\''), value();
    if ((c == 'x' || c == 'X') && at(i_ + 1) == '\'') return ++i_, skip_quoted('\''), value();
    if (c == '"' || c == '`') return skip_quoted(c), keep(from);
    if (c == '[') return skip_until(']'), keep(from);
    if (is_digit(c) || (c == '.' && is_digit(at(i_ + 1)))) return skip_number(), number(from);
    if (starts_name(c)) return skip_name(), keep(from);
    if (c == '?') return ++i_, skip_digits(), keep(from);
    if ((c == ':' || c == '@' || c == '$') && continues_name(at(i_ + 1))) return ++i_, skip_name(), keep(from);
    ++i_;
    keep(from);  // punctuation and operators, one character at a time
  }

  void skip_blanks() {
    while (i_ < in_.size() && is_blank(in_[i_]))
      ++i_;
    blank_ = true;
  }
  void skip_line_comment() {
    const auto end = in_.find('\n', i_);
    i_ = end == std::string_view::npos ? in_.size() : end;
    blank_ = true;
  }
  void skip_block_comment() {
    const auto end = in_.find("*/", i_ + 2);
    i_ = end == std::string_view::npos ? in_.size() : end + 2;
    blank_ = true;
  }
  // From the opening quote at i_ past its closing one; a doubled quote is one quote inside.
  void skip_quoted(char quote) {
    for (++i_; i_ < in_.size(); ++i_) {
      if (in_[i_] != quote) continue;
      if (at(i_ + 1) != quote) {
        ++i_;
        return;
      }
      ++i_;
    }
  }
  void skip_until(char close) {
    const auto end = in_.find(close, i_ + 1);
    i_ = end == std::string_view::npos ? in_.size() : end + 1;
  }
  void skip_digits() {
    while (i_ < in_.size() && (is_digit(in_[i_]) || in_[i_] == '_'))
      ++i_;
  }
  void skip_number() {
    if (in_[i_] == '0' && (at(i_ + 1) == 'x' || at(i_ + 1) == 'X') && is_hex(at(i_ + 2))) {
      i_ += 2;
      while (i_ < in_.size() && (is_hex(in_[i_]) || in_[i_] == '_'))
        ++i_;
    } else {
      skip_digits();
      if (at(i_) == '.') ++i_, skip_digits();
      const char sign = at(i_ + 1);
      if ((at(i_) == 'e' || at(i_) == 'E') &&
          (is_digit(sign) || ((sign == '+' || sign == '-') && is_digit(at(i_ + 2)))))
        i_ += 2, skip_digits();
    }
    while (i_ < in_.size() && continues_name(in_[i_]))  // `12abc`: SQLite refuses it; one value here
      ++i_;
  }
  void skip_name() {
    while (i_ < in_.size() && continues_name(in_[i_]))
      ++i_;
  }

  std::string_view in_;
  std::size_t i_ = 0;
  std::string out_;
  bool blank_ = false;  // blanks or a comment since the last token
};

}  // namespace

std::string normalize_sql(std::string_view sql) { return normalizer(sql).run(); }

}  // namespace monolite::db
