#include <cctype>

#include "workspace/file_ops.hpp"
#include "workspace/js_scan.hpp"
#include "workspace/node_checker.hpp"
#include "workspace/subprocess.hpp"
#include "workspace/validators.hpp"

namespace codehive::ws {

namespace {

bool already_skipped(const validation_report& out, std::string_view check) {
  for (const auto& s : out.skipped)
    if (s.check == check) return true;
  return false;
}

}  // namespace

finding node_check_finding(std::string_view file, bool module, const std::string& text) {
  int line = 0;
  std::string code, message;
  std::size_t pos = 0;
  bool first = true;
  while (pos < text.size()) {
    std::size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string l = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (line == 0 && l.rfind("[stdin]:", 0) == 0) {
      line = std::atoi(l.c_str() + 8);
      first = true;
      continue;
    }
    if (line > 0 && first && code.empty()) {
      code = l;
      first = false;
      continue;
    }
    auto e = l.find("Error");
    if (message.empty() && e != std::string::npos && l.find(':', e) != std::string::npos &&
        l.rfind("    at ", 0) != 0)
      message = l;
  }
  if (message.empty()) message = tail_lines(text, 3);
  auto trim = [](std::string s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(0, 1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    return s;
  };
  code = trim(code);
  if (!code.empty()) message += " (at: " + code.substr(0, 160) + ")";
  return {std::string(file), line, "js_syntax", std::string(module ? "ES module " : "") + message};
}

bool js_is_module(std::string_view file, std::string_view content) {
  bool module = file.size() >= 4 && file.substr(file.size() - 4) == ".mjs";
  return module || js::uses_module_syntax(content);
}

void check_js(const std::filesystem::path& root, std::string_view file, validation_report& out,
              const std::string& node, std::chrono::milliseconds timeout) {
  auto exe = find_on_path(node);
  if (!exe) {
    if (!already_skipped(out, "js_syntax"))
      out.skipped.push_back({"js_syntax", "node is not installed (not on PATH): JavaScript syntax not checked"});
    return;
  }
  auto content = read_file(root, file);
  if (!content) {
    out.findings.push_back({std::string(file), 0, "js_syntax", "cannot read: " + content.err().reason});
    return;
  }
  bool module = js_is_module(file, *content);
  // Through stdin with an explicit input type: no package.json "type" or
  // module-detection heuristics get in the way; errors read "[stdin]:LINE".
  subprocess_options o;
  o.argv = {exe->string(), "--check", module ? "--input-type=module" : "--input-type=commonjs"};
  o.cwd = root;
  o.timeout = timeout;
  o.stdin_data = *content;
  auto r = run_subprocess(o);
  if (!r) {
    out.skipped.push_back({"js_syntax", "cannot run node: " + r.err().reason});
    return;
  }
  if (r->timed_out) {
    out.findings.push_back({std::string(file), 0, "js_syntax", "node --check timed out"});
    return;
  }
  if (r->success()) return;
  // "[stdin]:3\n  code\n   ^\n\nSyntaxError: message\n    at ..."
  out.findings.push_back(node_check_finding(file, module, r->err.empty() ? r->out : r->err));
}

}  // namespace codehive::ws
