// What a check saw of one file of the output folder, as a short string: its
// content's SHA-256 ("f:<hex>"), absent ("-"), or why it could not be read
// ("e:<code>"). Cached findings hold while every such state is unchanged
// (validation_cache.hpp); the page server records the state of what it served.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "workspace/file_ops.hpp"
#include "workspace/sha256.hpp"

namespace codehive::ws {

inline std::string file_state_of(const result<std::string>& content) {
  if (content) return "f:" + sha256_hex(*content);
  if (content.err().code == errc::not_found) return "-";
  return std::string("e:") + to_string(content.err().code);
}

inline std::string file_state(const std::filesystem::path& root, std::string_view rel) {
  return file_state_of(read_file(root, rel));
}

}  // namespace codehive::ws
