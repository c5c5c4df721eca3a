#include "pg/placeholders.hpp"

#include <unordered_map>
#include <utility>

namespace monolite::pg {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_letter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}
// The characters of a parameter's name and of a dollar quote's tag.
bool is_name_char(char c) { return is_letter(c) || is_digit(c); }
// Identifiers may also hold '$' after their first character (a$b), in PostgreSQL as in SQLite.
bool is_word_char(char c) { return is_name_char(c) || c == '$'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'; }

// What sqlite3_prepare says about the same parameters (db/error.cpp maps SQLITE_ERROR to 400).
proto::api_error prepare_error(std::string message) { return {400, "SQLITE_ERROR", std::move(message)}; }

// Walks the statement once, copying everything but the parameters and noting where each one was.
class translator {
 public:
  translator(std::string_view sql, int max_params)
      : in_(sql), max_params_(max_params > 0 ? max_params : default_max_params) {}

  proto::result<translated_sql> run() {
    while (pos_ < in_.size())
      if (auto stepped = step(); !stepped) return stepped.error();
    return finish();
  }

 private:
  struct mark {
    std::size_t offset;  // in out_, where the $k goes
    std::size_t index;   // SQLite's index
  };

  char peek(std::size_t ahead) const { return pos_ + ahead < in_.size() ? in_[pos_ + ahead] : '\0'; }
  std::size_t name_end(std::size_t from) const {
    while (from < in_.size() && is_name_char(in_[from]))
      ++from;
    return from;
  }
  void copy(std::size_t count) {
    count = std::min(count, in_.size() - pos_);
    out_.append(in_.substr(pos_, count));
    pos_ += count;
  }
  void copy_to(std::size_t end) { copy(end - pos_); }

  proto::result<void> step() {
    const char c = in_[pos_];
    if (c == ';') {
      statements_ += content_ ? 1 : 0;
      content_ = false;
      copy(1);
      return {};
    }
    const bool comment = (c == '-' && peek(1) == '-') || (c == '/' && peek(1) == '*');
    if (!comment && !is_space(c)) content_ = true;
    switch (c) {
      case '\'': copy_string(false); return {};
      case '"': copy_quoted_identifier(); return {};
      case '-': peek(1) == '-' ? copy_line_comment() : copy(1); return {};
      case '/': peek(1) == '*' ? copy_block_comment() : copy(1); return {};
      case '?': return question_mark();
      case ':': return colon();
      case '@': return at_sign();
      case '$': return dollar();
      default: break;
    }
    if (is_letter(in_[pos_]))
      copy_word();
    else
      copy(1);
    return {};
  }

  // A keyword or identifier, whole, so that `a$b` stays one and `E'` opens an escape string.
  void copy_word() {
    std::size_t end = pos_;
    while (end < in_.size() && is_word_char(in_[end]))
      ++end;
    const bool escape_prefix = end == pos_ + 1 && (in_[pos_] == 'E' || in_[pos_] == 'e');
    copy_to(end);
    if (escape_prefix && peek(0) == '\'') copy_string(true);
  }

  // '…' with '' for a quote; E'…' also with backslash escapes. PostgreSQL joins a literal to one
  // that follows after whitespace holding a newline, and the continuation keeps the first's escapes.
  void copy_string(bool backslash_escapes) {
    copy(1);
    while (pos_ < in_.size()) {
      const char c = in_[pos_];
      if (backslash_escapes && c == '\\') {
        copy(2);
      } else if (c == '\'' && peek(1) == '\'') {
        copy(2);
      } else if (c == '\'') {
        copy(1);
        if (!copy_continuation()) return;
      } else {
        copy(1);
      }
    }
  }

  // Copies whitespace up to and including the opening quote of a continuation, if there is one.
  bool copy_continuation() {
    std::size_t end = pos_;
    bool newline = false;
    for (; end < in_.size() && is_space(in_[end]); ++end)
      newline = newline || in_[end] == '\n' || in_[end] == '\r';
    if (!newline || end >= in_.size() || in_[end] != '\'') return false;
    copy_to(end + 1);
    return true;
  }

  void copy_quoted_identifier() {
    copy(1);
    while (pos_ < in_.size()) {
      if (in_[pos_] != '"') {
        copy(1);
      } else if (peek(1) == '"') {
        copy(2);
      } else {
        copy(1);
        return;
      }
    }
  }

  void copy_line_comment() {
    const auto end = in_.find('\n', pos_);
    copy_to(end == std::string_view::npos ? in_.size() : end + 1);
  }

  // PostgreSQL's block comments nest, unlike C's.
  void copy_block_comment() {
    copy(2);
    for (int depth = 1; depth > 0 && pos_ < in_.size();) {
      if (in_[pos_] == '/' && peek(1) == '*') {
        ++depth;
        copy(2);
      } else if (in_[pos_] == '*' && peek(1) == '/') {
        --depth;
        copy(2);
      } else {
        copy(1);
      }
    }
  }

  void copy_dollar_quoted(std::string_view tag) {
    const auto close = in_.find(tag, pos_ + tag.size());
    copy_to(close == std::string_view::npos ? in_.size() : close + tag.size());
  }

  proto::result<void> question_mark() {
    std::size_t end = pos_ + 1;
    while (end < in_.size() && is_digit(in_[end]))
      ++end;
    if (end == pos_ + 1) return next_parameter();
    return numbered_parameter(in_.substr(pos_, end - pos_));
  }

  proto::result<void> colon() {
    const char next = peek(1);
    if (next == ':' || next == '=') {  // a cast (x::int) or an assignment
      copy(2);
      return {};
    }
    if (!is_letter(next)) {  // also a[1:2]
      copy(1);
      return {};
    }
    return named_parameter(in_.substr(pos_, name_end(pos_ + 1) - pos_));
  }

  proto::result<void> at_sign() {
    const bool after_operator = pos_ > 0 && (in_[pos_ - 1] == '<' || in_[pos_ - 1] == '@');
    if (after_operator || !is_name_char(peek(1))) {
      copy(1);
      return {};
    }
    return named_parameter(in_.substr(pos_, name_end(pos_ + 1) - pos_));
  }

  // $$ and $tag$ open a dollar-quoted string; $NNN is PostgreSQL's positional parameter; $name is
  // SQLite's named one.
  proto::result<void> dollar() {
    const std::size_t end = name_end(pos_ + 1);
    const std::string_view text = in_.substr(pos_, end - pos_);
    if (peek(1) == '$' || (is_letter(peek(1)) && end < in_.size() && in_[end] == '$')) {
      copy_dollar_quoted(in_.substr(pos_, end + 1 - pos_));
      return {};
    }
    if (end == pos_ + 1) {
      copy(1);
      return {};
    }
    if (text.find_first_not_of("0123456789", 1) == std::string_view::npos) return numbered_parameter(text);
    return named_parameter(text);
  }

  proto::result<void> next_parameter() {
    names_.emplace_back();
    return use(names_.size(), 1);
  }

  // ?NNN or $NNN: index NNN, named by its text unless a named parameter already has that index.
  proto::result<void> numbered_parameter(std::string_view text) {
    std::size_t number = 0;
    for (char digit : text.substr(1)) {
      number = number * 10 + static_cast<std::size_t>(digit - '0');
      if (number > static_cast<std::size_t>(max_params_)) break;  // no overflow on ?99999999999999999999
    }
    if (number < 1 || number > static_cast<std::size_t>(max_params_))
      return prepare_error("variable number must be between ?1 and ?" + std::to_string(max_params_));
    if (number > names_.size()) names_.resize(number);
    if (names_[number - 1].empty()) names_[number - 1] = std::string(text);
    return use(number, text.size());
  }

  proto::result<void> named_parameter(std::string_view name) {
    auto [it, added] = named_.try_emplace(std::string(name), names_.size() + 1);
    if (added) names_.emplace_back(name);
    return use(it->second, name.size());
  }

  proto::result<void> use(std::size_t index, std::size_t length) {
    marks_.push_back({out_.size(), index});
    pos_ += length;
    if (names_.size() > static_cast<std::size_t>(max_params_)) return prepare_error("too many SQL variables");
    return {};
  }

  translated_sql finish() {
    translated_sql out;
    std::vector<std::size_t> slot_of(names_.size() + 1, 0);  // by SQLite's index: its k in $k, 0 when unused
    for (const auto& m : marks_)
      slot_of[m.index] = 1;
    for (std::size_t index = 1; index <= names_.size(); ++index) {
      if (!slot_of[index]) continue;
      out.slots.push_back(static_cast<int>(index));
      slot_of[index] = out.slots.size();
    }
    std::size_t copied = 0;
    for (const auto& m : marks_) {
      out.sql.append(out_, copied, m.offset - copied);
      out.sql += '$' + std::to_string(slot_of[m.index]);
      copied = m.offset;
    }
    out.sql.append(out_, copied);
    out.names = std::move(names_);
    out.statements = statements_ + (content_ ? 1 : 0);
    return out;
  }

  std::string_view in_;
  int max_params_;
  std::size_t pos_ = 0;
  std::string out_;
  std::vector<mark> marks_;
  std::vector<std::string> names_;
  std::size_t statements_ = 0;                          // ended by a ';' outside strings, identifiers and comments
  bool content_ = false;                                // more than blanks and comments since the last ';'
  std::unordered_map<std::string, std::size_t> named_;  // named parameters' indexes
};

// db/statement.cpp's named_index: a prefixed name matches only itself, a bare one the first of
// ":name", "@name", "$name" the statement has. 0 when none.
std::size_t index_of(const std::unordered_map<std::string_view, std::size_t>& by_name, const std::string& name) {
  if (!name.empty() && (name[0] == ':' || name[0] == '@' || name[0] == '$')) {
    const auto it = by_name.find(name);
    return it == by_name.end() ? 0 : it->second;
  }
  for (const char* prefix : {":", "@", "$"})
    if (const auto it = by_name.find(prefix + name); it != by_name.end()) return it->second;
  return 0;
}

// By SQLite's index - 1.
proto::result<std::vector<const proto::value*>> values_by_name(const translated_sql& translated,
                                                               const std::vector<proto::named_param>& named) {
  std::unordered_map<std::string_view, std::size_t> by_name;
  for (std::size_t i = 0; i < translated.names.size(); ++i)
    if (!translated.names[i].empty()) by_name.emplace(translated.names[i], i + 1);
  std::vector<const proto::value*> by_index(translated.names.size(), nullptr);
  for (const auto& param : named) {
    const auto index = index_of(by_name, param.name);
    if (index == 0) return proto::bad_params("the statement has no parameter named \"" + param.name + "\"");
    by_index[index - 1] = &param.val;
  }
  for (std::size_t i = 0; i < by_index.size(); ++i) {
    if (by_index[i]) continue;
    const auto& name = translated.names[i];
    return proto::bad_params("no value for parameter " + (name.empty() ? "?" + std::to_string(i + 1) : name));
  }
  return by_index;
}

proto::result<std::vector<const proto::value*>> values_by_position(const translated_sql& translated,
                                                                   const std::vector<proto::value>& positional) {
  if (positional.size() != translated.names.size())
    return proto::bad_params("the statement takes " + std::to_string(translated.names.size()) + " parameters, got " +
                             std::to_string(positional.size()));
  std::vector<const proto::value*> by_index;
  by_index.reserve(positional.size());
  for (const auto& v : positional)
    by_index.push_back(&v);
  return by_index;
}

}  // namespace

proto::result<translated_sql> translate_placeholders(std::string_view sql, int max_params) {
  return translator(sql, max_params).run();
}

proto::result<std::vector<const proto::value*>> bind_placeholders(const translated_sql& translated,
                                                                  const proto::statement& statement) {
  // As in SQLite, named values win when a statement has both.
  auto by_index = statement.named.empty() ? values_by_position(translated, statement.positional)
                                          : values_by_name(translated, statement.named);
  if (!by_index) return by_index.error();
  std::vector<const proto::value*> values;
  values.reserve(translated.slots.size());
  for (int index : translated.slots)
    values.push_back((*by_index)[static_cast<std::size_t>(index) - 1]);
  return values;
}

}  // namespace monolite::pg
