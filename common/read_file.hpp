// A whole file as bytes, for the small files codehive reads at once (configs,
// tokens, plans, prompt templates). Where it cannot be opened, nullopt: each
// caller says in its own words what could not be read.
#pragma once

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace codehive {

inline std::optional<std::string> read_whole_file(const std::filesystem::path& file) {
  std::ifstream in{file, std::ios::binary};
  if (!in)
    return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace codehive
