#include "tests/http/page_watch.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include "common/json_read.hpp"

namespace codehive::http_test {

namespace {

using clock_type = ws::devtools_browser::clock;

clock_type::time_point after(int ms) { return clock_type::now() + std::chrono::milliseconds(ms); }

const rapidjson::Value* member(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(name);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

/// The error of a reply, as text ("" when it has none).
std::string error_of(const rapidjson::Document& reply) {
  const auto* e = member(reply, "error");
  if (!e) return "";
  const auto* code = member(*e, "code");
  return json_string(*e, "message") + (code && code->IsInt() ? " (code " + std::to_string(code->GetInt()) + ")" : "");
}

}  // namespace

std::string page_watch::open(const std::filesystem::path& chromium, const std::string& url, int timeout_ms) {
  if (auto s = browser_.start(chromium); !s) return "cannot start " + chromium.string();
  const auto deadline = after(timeout_ms);
  auto on = [this](const rapidjson::Document& m) { on_message(m); };
  rapidjson::Document msg;
  int id = browser_.send("Target.createTarget", {}, [](ws::json_writer& w) {
    w.Key("url");
    w.String("about:blank");
  });
  if (!browser_.reply(id, msg, deadline, on)) return "no answer to Target.createTarget\n" + browser_log();
  const auto* r = member(msg, "result");
  const std::string target = r ? json_string(*r, "targetId") : "";
  if (target.empty()) return "Target.createTarget failed: " + error_of(msg);
  id = browser_.send("Target.attachToTarget", {}, [&](ws::json_writer& w) {
    w.Key("targetId");
    w.String(target.c_str());
    w.Key("flatten");
    w.Bool(true);
  });
  if (!browser_.reply(id, msg, deadline, on)) return "no answer to Target.attachToTarget";
  r = member(msg, "result");
  session_ = r ? json_string(*r, "sessionId") : "";
  if (session_.empty()) return "Target.attachToTarget failed: " + error_of(msg);
  // Runtime first, so that an exception of the page's first script is reported too.
  id = browser_.send("Runtime.enable", session_);
  if (!browser_.reply(id, msg, deadline, on)) return "no answer to Runtime.enable";
  id = browser_.send("Page.navigate", session_, [&](ws::json_writer& w) {
    w.Key("url");
    w.String(url.c_str());
  });
  if (!browser_.reply(id, msg, deadline, on)) return "no answer to Page.navigate";
  r = member(msg, "result");
  if (!r) return "Page.navigate failed: " + error_of(msg);
  if (auto why = json_string(*r, "errorText"); !why.empty()) return "cannot load " + url + ": " + why;
  return "";
}

std::optional<std::string> page_watch::eval(const std::string& expression, int timeout_ms) {
  rapidjson::Document msg;
  int id = browser_.send("Runtime.evaluate", session_, [&](ws::json_writer& w) {
    w.Key("expression");
    w.String(expression.c_str(), static_cast<rapidjson::SizeType>(expression.size()));
    w.Key("returnByValue");
    w.Bool(true);
  });
  if (!browser_.reply(id, msg, after(timeout_ms), [this](const rapidjson::Document& m) { on_message(m); }))
    return std::nullopt;
  const auto* r = member(msg, "result");
  const auto* v = r ? member(*r, "result") : nullptr;
  return v ? json_string(*v, "value") : "";
}

std::optional<std::string> page_watch::wait_for(const std::string& expression, int timeout_ms) {
  const auto deadline = after(timeout_ms);
  while (clock_type::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now()).count();
    if (auto v = eval(expression, static_cast<int>(left)); v && !v->empty()) return v;
    // Meanwhile read what the page reports (its exceptions), and let it run.
    rapidjson::Document msg;
    const auto pause = std::min(deadline, after(200));
    while (browser_.next(msg, pause)) on_message(msg);
  }
  return std::nullopt;
}

std::string page_watch::dom(int timeout_ms) {
  return eval("document.documentElement.outerHTML", timeout_ms).value_or("");
}

void page_watch::on_message(const rapidjson::Document& msg) {
  if (json_string(msg, "method") != "Runtime.exceptionThrown") return;
  const auto* p = member(msg, "params");
  const auto* d = p ? member(*p, "exceptionDetails") : nullptr;
  if (!d) return;
  const auto* e = member(*d, "exception");
  auto text = e ? json_string(*e, "description") : "";
  exceptions_.push_back(text.empty() ? json_string(*d, "text") : text);
}

std::string exceptions_text(const page_watch& page) {
  std::string text;
  for (const auto& e : page.exceptions()) text += e + "\n";
  return text;
}

std::optional<std::string> dashboard_once(page_watch& page, const std::string& state, int timeout_ms,
                                          std::string& why) {
  const std::string seen = "(() => { const w = document.getElementById('watch');"
                           " return w && w.dataset.refreshedState === '" + state + "' ? 'yes' : ''; })()";
  std::optional<std::string> html;
  if (page.wait_for(seen, timeout_ms))
    if (auto h = page.dom(60000); !h.empty()) html = std::move(h);
  if (!html)
    why = "awaited a refresh of the dashboard that read the run as " + state + " within " +
          std::to_string(timeout_ms / 1000) + " s\n" + exceptions_text(page) + page.browser_log();
  page.close();
  return html;
}

}  // namespace codehive::http_test
