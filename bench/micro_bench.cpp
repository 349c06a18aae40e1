// Microbenchmarks of the per-task hot paths (issue 11, item 5), besides the run store's
// write cost (store_bench.cpp):
//   - message serialisation: CAF binary serializer round trip of msg::code_request (what the
//     coordinator sends a worker per task; its context grows with the project) and
//     msg::file_edit (what comes back), with the bytes per message as a counter;
//   - edit application: parse_edit_json + apply_edit of a `whole` edit, a 3-block
//     search_replace and an html_section edit of a ~3 KB file;
//   - JSON extraction: llm::extract_json of a bare answer, of one wrapped in prose and a
//     ```json fence, and extract_and_validate against configs/schemas/edit.json;
//   - one file's validation: check_html (in process) of a small page, check_js (one
//     `node --check` process) of a small script, validate_output of a 2-file project; the
//     same script through the long-lived node checker, a cached file (precheck hit) and
//     the 2-file project's incremental validation after a change to the script;
//   - the browser check of the demo's output (configs/demo/app: index.html, linking
//     about.html): a fresh Chromium per check (as before it was shared), the shared one,
//     and the shared one with the click-through (both pages); `pages` per iteration.
//
//   build-x/bench/micro_bench [--benchmark_filter=Serial] [--benchmark_min_time=1]
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "llm/structured.hpp"
#include "messages/type_ids.hpp"
#include "workspace/browser_check.hpp"
#include "workspace/edits.hpp"
#include "workspace/node_checker.hpp"
#include "workspace/validation_cache.hpp"
#include "workspace/validators.hpp"

namespace {

namespace fs = std::filesystem;
using namespace codehive;

/// A small classic script of about `funcs` * 330 bytes, as the benchmark scenarios' modules.
std::string js_module(int funcs) {
  std::string s = "var M01 = (function () {\n  'use strict';\n";
  for (int k = 0; k < funcs; ++k) {
    auto n = std::to_string(k);
    s += "  /** Folds a list into a summary record (" + n + "). */\n"
         "  function fold" + n + "(list, seed) {\n"
         "    var acc = { count: 0, total: seed || 0, names: [] };\n"
         "    (list || []).forEach(function (item, index) {\n"
         "      var value = typeof item === 'number' ? item : String(item).length;\n"
         "      acc.count += 1;\n"
         "      acc.total += value * (index + " + n + ");\n"
         "    });\n"
         "    return acc;\n"
         "  }\n";
  }
  s += "  return { name: 'm01' };\n})();\n";
  return s;
}

const std::string k_page =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n  <meta charset=\"utf-8\">\n"
    "  <title>Bench</title>\n  <link rel=\"stylesheet\" href=\"style.css\">\n</head>\n<body>\n"
    "  <h1>Bench</h1>\n  <button onclick=\"fold0([1, 2])\">Fold</button>\n"
    "  <p id=\"count\"></p>\n  <script src=\"app.js\"></script>\n"
    "  <script>document.getElementById('count').textContent = 'ok';</script>\n</body>\n</html>\n";

/// A coder's request for one file with `n` context files (`with_content` of them with ~3 KB
/// content, the rest summaries only), as the planner builds it.
msg::code_request code_request(int n, int with_content) {
  msg::code_request r;
  r.run_id = "20261202-074609-97a1";
  r.request = "A static page that loads 47 small JS modules.";
  r.task = {"t9", msg::task_action::create, "file", "src/m09.js",
            "Module 9: the global M09 with fold helpers.",
            "1. Classic script, ES5: define exactly one global M09 via an IIFE. 2. Pure fold "
            "helpers, each with a doc comment. 3. Use the globals of its dependencies.",
            {"t1"}, {"src/m01.js"}, msg::edit_kind::none};
  r.target = {"src/m09.js", "", "", false};
  for (int i = 0; i < n; ++i) {
    msg::context_file c;
    c.path = "src/m" + std::to_string(100 + i) + ".js";
    c.summary = "Global M" + std::to_string(i) + ": 5 fold helpers.";
    if (i < with_content) {
      c.content = js_module(9);
      c.has_content = true;
    }
    r.context.push_back(std::move(c));
  }
  return r;
}

template <class T>
void roundtrip(benchmark::State& state, const T& x) {
  std::vector<char> buf;
  std::size_t bytes = 0;
  for (auto _ : state) {
    buf.clear();
    caf::binary_serializer sink{nullptr, buf};
    auto copy = x;  // CAF 0.17's serializer takes a non-const reference
    if (auto err = sink(copy)) {
      state.SkipWithError("serialize failed");
      break;
    }
    T y;
    caf::binary_deserializer source{nullptr, buf};
    if (auto err = source(y)) {
      state.SkipWithError("deserialize failed");
      break;
    }
    benchmark::DoNotOptimize(y);
    bytes = buf.size();
  }
  state.counters["bytes"] = static_cast<double>(bytes);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}

// Args: context files, of which with content (the rest: summary only).
void BM_SerializeCodeRequest(benchmark::State& state) {
  roundtrip(state, code_request(static_cast<int>(state.range(0)), static_cast<int>(state.range(1))));
}
BENCHMARK(BM_SerializeCodeRequest)->Args({0, 0})->Args({4, 2})->Args({48, 2})->Args({1000, 2});

void BM_SerializeFileEdit(benchmark::State& state) {
  msg::file_edit e;
  e.run_id = "20261202-074609-97a1";
  e.task_id = "t9";
  e.path = "src/m09.js";
  e.action = msg::task_action::create;
  e.kind = msg::edit_kind::whole;
  e.content = js_module(9);
  e.summary = "Global M09: 9 fold helpers.";
  e.use = {"coder", "qwen2.5-coder:7b", 1480, 760, 2050, 0.0, 1};
  roundtrip(state, e);
}
BENCHMARK(BM_SerializeFileEdit);

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out + "\"";
}

void BM_ApplyWholeEdit(benchmark::State& state) {
  auto json = "{\"kind\":\"whole\",\"content\":" + json_string(js_module(9))
              + ",\"summary\":\"Global M01.\"}";
  for (auto _ : state) {
    auto e = ws::parse_edit_json(json);
    auto out = ws::apply_edit(std::nullopt, *e);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_ApplyWholeEdit);

void BM_ApplySearchReplace(benchmark::State& state) {
  std::optional<std::string> current = js_module(9);
  auto json = std::string{"{\"kind\":\"search_replace\",\"blocks\":["}
              + "{\"search\":\"function fold2(list, seed) {\",\"replace\":\"function fold2(list, seed, extra) {\"},"
              + "{\"search\":\"acc.total += value * (index + 5);\",\"replace\":\"acc.total += value * (index + 50);\"},"
              + "{\"search\":\"return { name: 'm01' };\",\"replace\":\"return { name: 'm01', size: 9 };\"}"
              + "]}";
  for (auto _ : state) {
    auto e = ws::parse_edit_json(json);
    auto out = ws::apply_edit(current, *e);
    if (!out) {
      state.SkipWithError("search_replace refused");
      break;
    }
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_ApplySearchReplace);

void BM_ApplyHtmlSection(benchmark::State& state) {
  std::optional<std::string> current = k_page;
  auto json = std::string{"{\"kind\":\"html_section\",\"section\":\"body\",\"content\":"}
              + json_string("  <h1>Bench 2</h1>\n  <script src=\"app.js\"></script>\n") + "}";
  for (auto _ : state) {
    auto e = ws::parse_edit_json(json);
    auto out = ws::apply_edit(current, *e);
    benchmark::DoNotOptimize(out);
  }
}
BENCHMARK(BM_ApplyHtmlSection);

std::string edit_answer() {
  return "{\"kind\":\"whole\",\"content\":" + json_string(js_module(9))
         + ",\"summary\":\"Global M01: 9 fold helpers.\"}";
}

void BM_ExtractJsonBare(benchmark::State& state) {
  auto reply = edit_answer();
  for (auto _ : state) {
    auto j = llm::extract_json(reply);
    benchmark::DoNotOptimize(j);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * reply.size()));
}
BENCHMARK(BM_ExtractJsonBare);

void BM_ExtractJsonFencedInProse(benchmark::State& state) {
  auto reply = "Here is the file you asked for. It defines {one} global.\n\n```json\n"
               + edit_answer() + "\n```\n\nLet me know if you need {anything} else.";
  for (auto _ : state) {
    auto j = llm::extract_json(reply);
    benchmark::DoNotOptimize(j);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * reply.size()));
}
BENCHMARK(BM_ExtractJsonFencedInProse);

void BM_ExtractAndValidateEdit(benchmark::State& state) {
  std::ifstream in{fs::path{CODEHIVE_SOURCE_DIR} / "configs" / "schemas" / "edit.json"};
  std::string schema{std::istreambuf_iterator<char>{in}, {}};
  if (schema.empty()) {
    state.SkipWithError("configs/schemas/edit.json not found");
    return;
  }
  auto reply = edit_answer();
  for (auto _ : state) {
    auto j = llm::extract_and_validate(reply, schema);
    if (!j) {
      state.SkipWithError("the answer does not validate");
      break;
    }
    benchmark::DoNotOptimize(j);
  }
}
BENCHMARK(BM_ExtractAndValidateEdit);

/// A 2-file project (index.html + app.js + style.css) in a temporary folder.
struct project {
  fs::path root;
  project() : root(fs::temp_directory_path() / ("codehive-micro-bench-" + std::to_string(::getpid()))) {
    fs::create_directories(root);
    std::ofstream{root / "index.html"} << k_page;
    std::ofstream{root / "app.js"} << js_module(9) << "function fold0() {}\n";
    std::ofstream{root / "style.css"} << "body { margin: 0; }\n";
  }
  ~project() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
};

void BM_CheckHtml(benchmark::State& state) {
  project p;
  for (auto _ : state) {
    ws::validation_report r;
    ws::check_html(p.root, "index.html", k_page, r);
    if (!r.clean()) {
      state.SkipWithError(("finding: " + r.findings.front().message).c_str());
      break;
    }
  }
}
BENCHMARK(BM_CheckHtml);

// One `node --check` process per file (what validation does per .js file today).
void BM_CheckJsNode(benchmark::State& state) {
  project p;
  for (auto _ : state) {
    ws::validation_report r;
    ws::check_js(p.root, "app.js", r);
    if (!r.skipped.empty()) {
      state.SkipWithError("node not found");
      break;
    }
  }
}
BENCHMARK(BM_CheckJsNode)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_ValidateOutputSmallProject(benchmark::State& state) {
  project p;
  ws::validator_options o;
  o.browser = false;
  for (auto _ : state) {
    auto r = ws::validate_output(p.root, o);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ValidateOutputSmallProject)->Unit(benchmark::kMillisecond)->UseRealTime();

/// A copy of the demo's output (what `codehive run --demo` writes).
struct demo_app {
  fs::path root;
  demo_app() : root(fs::temp_directory_path() / ("codehive-micro-bench-demo-" + std::to_string(::getpid()))) {
    fs::remove_all(root);
    fs::copy(fs::path(CODEHIVE_SOURCE_DIR) / "configs/demo/app", root, fs::copy_options::recursive);
  }
  ~demo_app() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
};

/// mode 0: a fresh Chromium per check, load only; 1: the shared one, load only;
/// 2: the shared one, load and click-through. Second argument: seconds between
/// checks, untimed (a run's checks are apart: the next check's tab is made
/// ready meanwhile), 0: back to back.
void BM_BrowserCheckDemo(benchmark::State& state) {
  if (!ws::find_browser()) {
    state.SkipWithError("no chromium on PATH");
    return;
  }
  demo_app app;
  ws::browser_options o;
  o.click = state.range(0) == 2;
  if (state.range(0) != 0) {  // started once before timing: what a run's later checks see
    ws::validation_report warm;
    ws::check_browser(app.root, o, warm);
  }
  for (auto _ : state) {
    if (state.range(1) > 0) {
      state.PauseTiming();
      std::this_thread::sleep_for(std::chrono::seconds(state.range(1)));
      state.ResumeTiming();
    }
    if (state.range(0) == 0) ws::stop_browser_process();
    ws::validation_report r;
    ws::check_browser(app.root, o, r);
    if (!r.skipped.empty() || !r.findings.empty()) {
      state.SkipWithError(("not clean: " + (r.skipped.empty() ? r.findings.front().message : r.skipped.front().reason)).c_str());
      break;
    }
  }
  state.counters["pages"] = o.click ? 2 : 1;
  ws::stop_browser_process();
}
BENCHMARK(BM_BrowserCheckDemo)
    ->Args({0, 0})
    ->Args({1, 0})
    ->Args({2, 0})
    ->Args({0, 2})
    ->Args({1, 2})
    ->Args({2, 2})
    ->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(5);

// The same script through the long-lived node checker (one process for all
// files; started before the timing, as a run starts it with its first file).
void BM_CheckJsNodeChecker(benchmark::State& state) {
  project p;
  ws::node_checker checker;
  auto src = js_module(9) + "function fold0() {}\n";
  ws::validation_report warm;
  checker.check(p.root, "app.js", src, warm);
  for (auto _ : state) {
    ws::validation_report r;
    checker.check(p.root, "app.js", src, r);
    if (!r.skipped.empty() || checker.fell_back() > 0) {
      state.SkipWithError("node not found or the checker failed");
      break;
    }
  }
}
BENCHMARK(BM_CheckJsNodeChecker)->Unit(benchmark::kMicrosecond)->UseRealTime();

// One file's validation at the round when its version was prechecked: read,
// hash, reuse (a cache hit), for the script and for the page (whose
// referenced files are hashed again to see that they did not change).
void BM_ValidateCachedFile(benchmark::State& state) {
  project p;
  ws::validator_options o;
  o.browser = false;
  o.files = {state.range(0) == 0 ? "app.js" : "index.html"};
  o.html = state.range(0) != 0;  // the script alone: no page is pulled in
  ws::validation_cache cache;
  cache.precheck(p.root, o.files.front(), o);
  for (auto _ : state) {
    auto r = cache.validate(p.root, o);
    if (!cache.rechecked().empty()) {
      state.SkipWithError("not a cache hit");
      break;
    }
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ValidateCachedFile)->Arg(0)->Arg(1)->ArgName("page")->Unit(benchmark::kMicrosecond)->UseRealTime();

// The 2-file project's validation through the cache after a change to the
// script (the script through the node checker, the page re-checked: what a
// fix round does), against BM_ValidateOutputSmallProject.
void BM_ValidateCachedAfterAChange(benchmark::State& state) {
  project p;
  ws::validator_options o;
  o.browser = false;
  o.files = {"app.js"};
  ws::validation_cache cache;
  cache.validate(p.root, o);
  int n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::ofstream{p.root / "app.js"} << js_module(9) << "function fold0() {}\n// " << ++n << "\n";
    state.ResumeTiming();
    auto r = cache.validate(p.root, o);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_ValidateCachedAfterAChange)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
