// Internal: key layouts of the run store's column families (storage/README.md).
// Components are joined with a NUL byte (never valid in a run id, task id or
// path); sequence numbers are fixed-width big-endian so keys sort numerically.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace codehive::store::keys {

inline constexpr char sep = '\0';

inline void put_be(std::string& k, std::uint64_t x, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) k.push_back(static_cast<char>((x >> (8 * i)) & 0xff));
}

inline std::uint64_t get_be(std::string_view s) {
  std::uint64_t x = 0;
  for (unsigned char c : s) x = (x << 8) | c;
  return x;
}

/// "<run>\0": the prefix of every per-run key in tasks, reviews, ledger, events.
inline std::string run_prefix(std::string_view run) {
  std::string k{run};
  k.push_back(sep);
  return k;
}

/// tasks: "<run>\0<task id>"
inline std::string task(std::string_view run, std::string_view id) {
  return run_prefix(run) + std::string{id};
}

/// events and ledger: "<run>\0<seq: 8 bytes big-endian>"
inline std::string seq_key(std::string_view run, std::uint64_t seq) {
  auto k = run_prefix(run);
  put_be(k, seq, 8);
  return k;
}

/// reviews: "<run>\0<round: 4 bytes big-endian>"
inline std::string review(std::string_view run, std::uint32_t round) {
  auto k = run_prefix(run);
  put_be(k, round, 4);
  return k;
}

/// files, blob: "b\0<sha256 hex>"
inline std::string blob(std::string_view hash) { return std::string{"b"} + sep + std::string{hash}; }
inline constexpr std::string_view blob_prefix{"b\0", 2};

/// files, current version of a path: "c\0<run>\0<path>"
inline std::string current_prefix(std::string_view run) {
  return std::string{"c"} + sep + std::string{run} + sep;
}
inline std::string current(std::string_view run, std::string_view path) {
  return current_prefix(run) + std::string{path};
}

/// files, version index: "v\0<run>\0<path>\0<version: 8 bytes big-endian>"
inline std::string version_prefix(std::string_view run) {
  return std::string{"v"} + sep + std::string{run} + sep;
}
inline std::string version_path_prefix(std::string_view run, std::string_view path) {
  return version_prefix(run) + std::string{path} + sep;
}
inline std::string version(std::string_view run, std::string_view path, std::uint64_t v) {
  auto k = version_path_prefix(run, path);
  put_be(k, v, 8);
  return k;
}

/// files, summary of one content (any run, any path): "s\0<sha256 hex>"
inline std::string summary(std::string_view hash) { return std::string{"s"} + sep + std::string{hash}; }

/// meta: "schema"
inline constexpr std::string_view meta_schema{"schema"};

}  // namespace codehive::store::keys
