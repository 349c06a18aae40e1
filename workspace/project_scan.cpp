#include "workspace/project_scan.hpp"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>

#include "workspace/gitignore.hpp"

namespace codehive::ws {

namespace fs = std::filesystem;

bool is_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n;
    std::uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;  // cut short
    for (std::size_t k = 1; k <= n; ++k) {
      auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    static constexpr std::uint32_t least[] = {0, 0x80, 0x800, 0x10000};
    if (cp < least[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

namespace {

bool read_all(const fs::path& p, std::string& out) {
  std::ifstream in{p, std::ios::binary};
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>{in}, {});
  return !in.bad();
}

struct walker {
  const fs::path& root;
  const std::function<void(const std::string&, std::string)>& on_file;
  const scan_options& opts;
  ignore_rules rules;
  scan_report report;

  void folder(const fs::path& dir, const std::string& rel) {
    std::error_code ec;
    // Its own .gitignore first: it applies to everything in it.
    if (auto gi = dir / ".gitignore"; fs::is_regular_file(fs::symlink_status(gi, ec))) {
      std::string text;
      if (read_all(gi, text)) rules.add(rel, text);
    }
    std::vector<fs::directory_entry> entries;
    for (fs::directory_iterator it{dir, fs::directory_options::skip_permission_denied, ec}, end; !ec && it != end;
         it.increment(ec))
      entries.push_back(*it);
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.path().filename() < b.path().filename(); });
    for (const auto& e : entries) {
      auto name = e.path().filename().string();
      auto path = rel.empty() ? name : rel + "/" + name;
      std::error_code e2;
      auto st = e.symlink_status(e2);
      if (e2 || fs::is_symlink(st)) continue;
      if (fs::is_directory(st)) {
        if (name == ".git" || name == "node_modules"
            || (rel.empty()
                && std::find(opts.reserved_folders.begin(), opts.reserved_folders.end(), name)
                     != opts.reserved_folders.end()))
          continue;
        if (rules.ignored(path, true)) {
          ++report.ignored;
          continue;
        }
        folder(e.path(), path);
        continue;
      }
      if (!fs::is_regular_file(st) || name.rfind(".codehive-tmp-", 0) == 0) continue;
      if (rules.ignored(path, false)) {
        ++report.ignored;
        continue;
      }
      file(e.path(), path);
    }
  }

  void too_large(const std::string& path, std::size_t size, std::size_t limit) {
    report.skipped.push_back(
      {path, "too large (" + std::to_string(size) + " bytes, the limit is " + std::to_string(limit) + ")"});
  }

  void file(const fs::path& p, const std::string& path) {
    std::error_code ec;
    auto size = fs::file_size(p, ec);
    if (ec) {
      report.skipped.push_back({path, "unreadable: " + ec.message()});
      return;
    }
    // Checked before reading: a 2 GiB log file is never loaded. A binary
    // file may be larger than a text one (when the caller keeps binaries).
    auto limit = opts.on_binary ? std::max(opts.max_bytes, opts.max_binary_bytes) : opts.max_bytes;
    if (size > limit) {
      too_large(path, size, limit);
      return;
    }
    if (size == 0) {
      report.skipped.push_back({path, "empty"});
      return;
    }
    std::string content;
    if (!read_all(p, content)) {
      report.skipped.push_back({path, "unreadable"});
      return;
    }
    if (content.size() > limit) {  // it grew since file_size
      too_large(path, content.size(), limit);
      return;
    }
    if (content.find('\0') != std::string::npos || !is_utf8(content)) {
      if (!opts.on_binary) {
        report.skipped.push_back({path, "binary"});
      } else if (content.size() > opts.max_binary_bytes) {
        too_large(path, content.size(), opts.max_binary_bytes);
      } else {
        report.binary.push_back(path);
        opts.on_binary(path, std::move(content));
      }
      return;
    }
    if (content.size() > opts.max_bytes) {
      too_large(path, content.size(), opts.max_bytes);
      return;
    }
    report.files.push_back(path);
    on_file(path, std::move(content));
  }
};

}  // namespace

scan_report scan_project(const fs::path& root, const std::function<void(const std::string&, std::string)>& on_file,
                         const scan_options& opts) {
  walker w{root, on_file, opts, {}, {}};
  std::error_code ec;
  if (fs::is_directory(fs::symlink_status(root, ec))) w.folder(root, "");
  return std::move(w.report);
}

}  // namespace codehive::ws
