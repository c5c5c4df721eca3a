#include "cli/options.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>

namespace monolite::cli {
namespace {

const option_spec* find_spec(std::span<const option_spec> specs, const std::string& name) {
  auto it = std::find_if(specs.begin(), specs.end(), [&](const auto& s) { return s.name == name; });
  return it == specs.end() ? nullptr : &*it;
}

// "${VAR}" becomes the variable's value (empty when unset), as shells and Litestream do.
std::string expand_env(const std::string& text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto close = text.find('}', i);
    if (text.compare(i, 2, "${") == 0 && close != std::string::npos) {
      const char* value = std::getenv(text.substr(i + 2, close - i - 2).c_str());
      out += value ? value : "";
      i = close;
    } else {
      out += text[i];
    }
  }
  return out;
}

usage_result<void> parse_flags(std::span<const option_spec> specs, const std::vector<std::string>& args,
                               option_values& flags) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word.rfind("--", 0) != 0) return usage_error{"unexpected argument '" + word + "'"};
    const auto eq = word.find('=');
    std::string name = word.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    const option_spec* spec = find_spec(specs, name);
    if (name != "config" && !spec) return usage_error{"unknown flag --" + name};
    std::string value;
    if (eq != std::string::npos) {
      value = word.substr(eq + 1);
    } else if (spec && spec->is_switch) {
      value = "true";
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      return usage_error{"flag --" + name + " needs a value"};
    }
    if (spec && spec->repeatable && flags.count(name)) value = flags[name] + "\n" + value;
    flags[name] = std::move(value);
  }
  return {};
}

// A key as the file wrote it, for messages: flow style, so [a, b] stays on one line.
std::string shown(const YAML::Node& node) {
  YAML::Emitter out;
  out.SetSeqFormat(YAML::Flow);
  out.SetMapFormat(YAML::Flow);
  out << node;
  return out.good() ? std::string(out.c_str()) : std::string("?");
}

// One "key: value" of the file, as (option name, text). Only scalars are read, and only through
// Scalar(): yaml-cpp's as<std::string>() throws on a list or a mapping, which would escape as an
// "unexpected failure" instead of a usage error naming the key.
usage_result<std::pair<std::string, std::string>> read_entry(std::span<const option_spec> specs,
                                                             const std::string& path, const YAML::Node& key_node,
                                                             const YAML::Node& value_node) {
  const auto mark = key_node.Mark();
  const std::string where = "--config " + path + (mark.is_null() ? "" : ": line " + std::to_string(mark.line + 1));
  if (!key_node.IsScalar() && !key_node.IsNull())
    return usage_error{where + ": key '" + shown(key_node) + "' must be an option name"};
  const std::string written = key_node.IsNull() ? "null" : key_node.Scalar();
  auto key = written;
  std::replace(key.begin(), key.end(), '_', '-');  // max_body and max-body both name --max-body
  if (!find_spec(specs, key)) return usage_error{where + ": unknown key '" + written + "'"};
  if (!value_node.IsScalar()) return usage_error{where + ": key '" + written + "' must have a single value"};
  return std::pair{key, expand_env(value_node.Scalar())};
}

usage_result<option_values> read_config_file(std::span<const option_spec> specs, const std::string& path) {
  option_values out;
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return usage_error{"--config " + path + ": " + e.what()};
  }
  if (root.IsNull()) return out;
  if (!root.IsMap()) return usage_error{"--config " + path + ": the file must be a mapping of option: value"};
  for (const auto& item : root) {
    auto entry = read_entry(specs, path, item.first, item.second);
    if (!entry) return entry.error();
    out[entry->first] = std::move(entry->second);
  }
  return out;
}

}  // namespace

std::string env_name(const std::string& option) {
  std::string out = "MONOLITE_";
  for (char c : option)
    out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

usage_result<option_values> resolve_options(std::span<const option_spec> specs, const std::vector<std::string>& args) {
  option_values flags;
  if (auto ok = parse_flags(specs, args, flags); !ok) return ok.error();
  option_values file;
  std::string config_path = flags.count("config") ? flags["config"] : "";
  if (config_path.empty()) {
    if (const char* env = std::getenv("MONOLITE_CONFIG")) config_path = env;
  }
  if (!config_path.empty()) {
    auto loaded = read_config_file(specs, config_path);
    if (!loaded) return loaded.error();
    file = std::move(*loaded);
  }
  option_values out;
  for (const auto& spec : specs) {
    if (auto it = flags.find(spec.name); it != flags.end()) {
      out[spec.name] = it->second;
    } else if (const char* env = std::getenv(env_name(spec.name).c_str())) {
      out[spec.name] = env;
    } else if (auto f = file.find(spec.name); f != file.end()) {
      out[spec.name] = f->second;
    } else {
      out[spec.name] = spec.default_value;
    }
  }
  return out;
}

std::string usage_text(std::string_view command, std::string_view summary, std::span<const option_spec> specs) {
  std::string out = "Usage: monolite " + std::string(command) + " [flags]\n\n" + std::string(summary) + "\n\nFlags:\n";
  for (const auto& spec : specs) {
    std::string left = "  --" + spec.name + " " + spec.value_name;
    left.resize(std::max<std::size_t>(left.size() + 1, 30), ' ');
    out += left + spec.help;
    if (!spec.default_value.empty()) out += " (default " + spec.default_value + ")";
    out += "  [" + env_name(spec.name) + "]\n";
  }
  out += "  --config FILE                YAML file of option: value (${VAR} expanded)  [MONOLITE_CONFIG]\n";
  const bool has_busy_timeout = find_spec(specs, "busy-timeout") != nullptr;
  out += "\nDURATION: 250ms, 5s, 2m, 24h; a plain number is seconds";
  out += has_busy_timeout ? " (--busy-timeout: milliseconds).\n" : ".\n";
  if (std::any_of(specs.begin(), specs.end(), [](const auto& s) { return s.is_switch; }))
    out += "A switch alone means true; --name=true or --name=false (exactly) also work.\n";
  out += "Precedence: flag > environment variable > config file > default.\n";
  return out;
}

void throw_exception_from_error(const usage_error& error, const boost::source_location&) {
  throw std::invalid_argument(error.message);
}

}  // namespace monolite::cli
