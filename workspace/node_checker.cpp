#include "workspace/node_checker.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include "workspace/subprocess.hpp"

namespace codehive::ws {

namespace {

// One request per line: {"module":bool,"source":"..."}; one answer per line:
// {"ok":true}, {"ok":false,"text":"<what node --check prints>"} or
// {"unsupported":"why"} (then that file goes to `node --check`).
// Scripts compile as node --check --input-type=commonjs compiles them: as the
// body of the CommonJS wrapper function (so a top-level `return` is fine); its
// errors carry node's "[stdin]:LINE / code / ^^^" header already. Modules
// compile as SourceTextModule (what --input-type=module does through the same
// ModuleWrap); their header is added by node's own decorateErrorStack, which
// only --expose-internals reaches: without it, modules are "unsupported".
constexpr const char* checker_script = R"JS('use strict';
const vm = require('vm');
let decorate = null;
try { decorate = require('internal/util').decorateErrorStack; } catch (e) {}
const params = ['exports', 'require', 'module', '__filename', '__dirname'];
const rl = require('readline').createInterface({ input: process.stdin, crlfDelay: Infinity });
rl.on('line', (line) => {
  let answer;
  try {
    const req = JSON.parse(line);
    if (req.module && (typeof decorate !== 'function' || typeof vm.SourceTextModule !== 'function')) {
      answer = { unsupported: 'ES modules need --experimental-vm-modules and --expose-internals' };
    } else {
      try {
        if (req.module) new vm.SourceTextModule(req.source, { identifier: '[stdin]' });
        else vm.compileFunction(req.source, params, { filename: '[stdin]' });
        answer = { ok: true };
      } catch (e) {
        if (req.module) decorate(e);
        answer = { ok: false, text: String((e && e.stack) || e) };
      }
    }
  } catch (e) {
    answer = { unsupported: String(e) };
  }
  process.stdout.write(JSON.stringify(answer) + '\n');
});
rl.on('close', () => process.exit(0));
)JS";

}  // namespace

node_checker::node_checker(std::string node, std::chrono::milliseconds timeout)
    : node_(std::move(node)), timeout_(timeout) {}

node_checker::~node_checker() = default;

bool node_checker::ensure_started() {
  if (proc_ && proc_->alive()) return true;
  if (given_up_) return false;
  // The first start, then one restart; after that, `node --check` per file.
  if (starts_ >= 2) {
    given_up_ = true;
    spdlog::warn("validator: the node checker process failed twice; checking each file with node --check");
    return false;
  }
  ++starts_;
  auto p = line_process::start(
      {node_, "--expose-internals", "--experimental-vm-modules", "--no-warnings", "-e", checker_script});
  if (!p) {
    spdlog::warn("validator: cannot start the node checker: {}", p.err().reason);
    return ensure_started();
  }
  proc_ = std::move(*p);
  return true;
}

void node_checker::check(const std::filesystem::path& root, std::string_view file, std::string_view content,
                         validation_report& out) {
  auto per_file = [&] {
    ++fell_back_;
    check_js(root, file, out, node_, timeout_);
  };
  // A missing node is reported exactly as check_js reports it.
  if (!find_on_path(node_)) return check_js(root, file, out, node_, timeout_);
  bool module = js_is_module(file, content);
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("module");
  w.Bool(module);
  w.Key("source");
  w.String(content.data(), static_cast<rapidjson::SizeType>(content.size()));
  w.EndObject();
  std::string_view request(sb.GetString(), sb.GetSize());
  while (ensure_started()) {
    auto answer = proc_->ask(request, timeout_);
    if (!answer) {
      spdlog::warn("validator: node checker failed on {}: {}", file, answer.err().reason);
      proc_.reset();
      continue;  // started once more, or given up
    }
    rapidjson::Document d;
    d.Parse(answer->data(), answer->size());
    if (d.HasParseError() || !d.IsObject() || d.HasMember("unsupported") || !d.HasMember("ok") ||
        !d["ok"].IsBool())
      return per_file();
    ++answered_;
    if (d["ok"].GetBool()) return;
    std::string text = d.HasMember("text") && d["text"].IsString() ? d["text"].GetString() : std::string{};
    out.findings.push_back(node_check_finding(file, module, text));
    return;
  }
  per_file();
}

}  // namespace codehive::ws
