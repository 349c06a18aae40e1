#include "tests/http/http_test_support.hpp"

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <utility>

namespace codehive::http_test {

using cluster_test::node_process;

std::optional<std::string> wait_base_url(node_process& p, int timeout_ms) {
  static const std::regex re{R"(^http: http://(\S+):(\d+)/$)"};
  auto line = p.wait_line(re, timeout_ms);
  if (!line) return std::nullopt;
  std::smatch m;
  std::regex_search(*line, m, re);
  return "http://127.0.0.1:" + m[2].str();
}

bool parse_prometheus(const std::string& text, std::vector<sample>& out, std::string& why) {
  static const std::regex help_re{R"(^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) .+$)"};
  static const std::regex type_re{R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$)"};
  static const std::regex sample_re{R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$)"};
  static const std::regex label_re{R"re(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$))re"};
  std::set<std::string> typed;
  std::istringstream in{text};
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::smatch m;
    if (line.empty()) continue;
    if (line.rfind("# HELP ", 0) == 0) {
      if (!std::regex_match(line, help_re)) return why = "line " + std::to_string(n) + ": bad HELP: " + line, false;
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      if (!std::regex_match(line, m, type_re)) return why = "line " + std::to_string(n) + ": bad TYPE: " + line, false;
      typed.insert(m[1].str());
      continue;
    }
    if (line[0] == '#') continue;
    if (!std::regex_match(line, m, sample_re)) return why = "line " + std::to_string(n) + ": bad sample: " + line, false;
    sample s;
    s.name = m[1].str();
    auto family = s.name;
    for (const char* suffix : {"_bucket", "_sum", "_count"})
      if (!typed.count(family) && family.size() > std::strlen(suffix) &&
          family.compare(family.size() - std::strlen(suffix), std::string::npos, suffix) == 0)
        family.resize(family.size() - std::strlen(suffix));
    if (!typed.count(family)) return why = "line " + std::to_string(n) + ": no # TYPE before " + s.name, false;
    std::string labels = m[3].str();
    for (auto it = std::sregex_iterator(labels.begin(), labels.end(), label_re); it != std::sregex_iterator(); ++it)
      s.labels[(*it)[1].str()] = (*it)[2].str();
    char* end = nullptr;
    std::string v = m[4].str();
    s.value = std::strtod(v.c_str(), &end);
    if (end == v.c_str() || *end != '\0') return why = "line " + std::to_string(n) + ": bad value: " + line, false;
    out.push_back(std::move(s));
  }
  return true;
}

double sum_of(const std::vector<sample>& samples, const std::string& name,
              const std::map<std::string, std::string>& match) {
  double total = 0;
  for (const auto& s : samples) {
    if (s.name != name) continue;
    bool ok = true;
    for (const auto& [k, v] : match)
      if (auto it = s.labels.find(k); it == s.labels.end() || it->second != v) ok = false;
    if (ok) total += s.value;
  }
  return total;
}

std::string attr_of(const std::string& dom, const std::string& tag, const std::string& name) {
  auto at = dom.find(tag);
  if (at == std::string::npos) return {};
  auto end = dom.find('>', at);
  auto open = dom.substr(at, end - at);
  auto k = open.find(" " + name + "=\"");
  if (k == std::string::npos) return {};
  k += name.size() + 3;
  return open.substr(k, open.find('"', k) - k);
}

std::string unescape_html(std::string s) {
  for (auto [from, to] : {std::pair<std::string, std::string>{"&quot;", "\""}, {"&lt;", "<"}, {"&gt;", ">"},
                          {"&#39;", "'"}, {"&amp;", "&"}}) {
    for (std::size_t at = 0; (at = s.find(from, at)) != std::string::npos; at += to.size()) s.replace(at, from.size(), to);
  }
  return s;
}


std::vector<std::string> headless_chromium(const std::string& chromium, const std::filesystem::path& profile) {
  return {chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync",
          "--user-data-dir=" + profile.string()};
}

bool is_png(const std::filesystem::path& file) {
  static const char magic[8] = {'\x89', 'P', 'N', 'G', '\r', '\n', '\x1a', '\n'};
  char head[8] = {};
  std::ifstream in{file, std::ios::binary};
  return in.read(head, sizeof head) && std::memcmp(head, magic, sizeof head) == 0;
}

}  // namespace codehive::http_test
