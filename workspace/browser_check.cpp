// The page check and its click-through, on the shared Chromium
// (browser_devtools.hpp): each page in a browser context of its own, every
// request not for the private static server failed, findings from the
// DevTools events of that page's session only.
#include "workspace/browser_check.hpp"
#include "workspace/browser_click_script.hpp"
#include "workspace/browser_devtools.hpp"
#include "workspace/html_scan.hpp"
#include "workspace/static_server.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <deque>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

#include "workspace/file_ops.hpp"
#include "workspace/path_rules.hpp"
#include "workspace/subprocess.hpp"

namespace codehive::ws {

namespace {

using clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string url_escape(std::string_view s, std::string_view keep) {
  static const char* hex = "0123456789ABCDEF";
  std::string u;
  for (unsigned char c : s) {
    if (std::isalnum(c) || keep.find(static_cast<char>(c)) != std::string_view::npos) {
      u += static_cast<char>(c);
    } else {
      u += '%';
      u += hex[c >> 4];
      u += hex[c & 15];
    }
  }
  return u;
}

std::string file_url(const std::filesystem::path& p) { return "file://" + url_escape(p.string(), "/-_.~"); }

const rapidjson::Value* member(const rapidjson::Value& v, const char* name) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(name);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

std::string str_of(const rapidjson::Value* v) {
  return v && v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : std::string();
}

int int_of(const rapidjson::Value* v, int dflt = -1) { return v && v->IsInt() ? v->GetInt() : dflt; }

std::string first_line(std::string s) {
  auto nl = s.find('\n');
  if (nl != std::string::npos) s.resize(nl);
  return s;
}

std::string seconds(milliseconds ms) { return std::to_string((ms.count() + 999) / 1000) + " s"; }

/// What one attempt at one page gave.
struct page_result {
  std::vector<finding> found;
  std::vector<std::string> links;  ///< local pages the page links to (paths from the server's root)
  bool no_answer = false;          ///< Chromium did not answer a command: retry on a fresh one, longer
  bool click_unfinished = false;   ///< the click-through ran out of time: retry with more
  bool discard = false;            ///< Chromium is stuck: start a new one for the next page
  std::string why;                 ///< for no_answer / click_unfinished
};

/// One page in a browser context of its own: load, let timers run, click
/// through. Events of other sessions (an earlier page's, still arriving) are
/// ignored.
class page_check {
 public:
  struct limits {
    milliseconds commands;  ///< each set-up command (Chromium's start-up included)
    milliseconds load;
    milliseconds click;  ///< the whole click-through
    bool last_try;       ///< report what ran out of time instead of asking for a retry
  };

  page_check(devtools_browser& dt, const browser_options& opts, std::string url_root, std::string page,
             std::string load_check, limits lim, std::set<std::string>& seen)
    : dt_(dt)
    , opts_(opts)
    , url_root_(std::move(url_root))
    , page_(std::move(page))
    , load_check_(std::move(load_check))
    , lim_(lim)
    , seen_(seen) {}

  page_result run(const std::string& url) {
    auto deadline = clock::now() + lim_.commands;
    if (!setup(deadline)) return std::move(res_);
    if (!load(url, clock::now() + lim_.load)) {
      add(page_, 0, "did not finish loading within " + seconds(lim_.load) + " (an endless loop?)");
      teardown();
      return std::move(res_);
    }
    settle(opts_.virtual_time, clock::now() + lim_.load);
    if (opts_.click) click_through(url);
    teardown();
    return std::move(res_);
  }

 private:
  bool command(const char* method, rapidjson::Document& msg, clock::time_point deadline,
               const std::function<void(json_writer&)>& params = {}, bool in_session = true) {
    int id = dt_.send(method, in_session ? session_ : std::string(), params);
    if (dt_.reply(id, msg, deadline, [this](const rapidjson::Document& m) { on_message(m); })) return true;
    res_.no_answer = true;
    res_.why = std::string("no reply to ") + method + " within " + seconds(lim_.commands)
               + (dt_.stderr_text().empty() ? "" : ": " + tail_lines(dt_.stderr_text(), 3));
    return false;
  }

  bool setup(clock::time_point deadline) {
    if (!dt_.spare.context.empty()) {  // made by prepare_spare() after the last check
      context_ = std::exchange(dt_.spare.context, {});
      target_ = std::exchange(dt_.spare.target, {});
      return attach(deadline);
    }
    rapidjson::Document msg;
    if (!command("Target.createBrowserContext", msg, deadline, {}, false)) return false;
    if (const auto* r = member(msg, "result")) context_ = str_of(member(*r, "browserContextId"));
    return open_target(deadline);
  }

  /// A new tab in the page's browser context, attached, its events on.
  bool open_target(clock::time_point deadline) {
    rapidjson::Document msg;
    session_.clear();
    if (!command(
          "Target.createTarget", msg, deadline,
          [&](json_writer& w) {
            w.Key("url");
            w.String("about:blank");
            if (!context_.empty()) {
              w.Key("browserContextId");
              w.String(context_.c_str());
            }
          },
          false))
      return false;
    if (const auto* r = member(msg, "result")) target_ = str_of(member(*r, "targetId"));
    return attach(deadline);
  }

  bool attach(clock::time_point deadline) {
    rapidjson::Document msg;
    if (!command(
          "Target.attachToTarget", msg, deadline,
          [&](json_writer& w) {
            w.Key("targetId");
            w.String(target_.c_str());
            w.Key("flatten");
            w.Bool(true);
          },
          false))
      return false;
    if (const auto* r = member(msg, "result")) session_ = str_of(member(*r, "sessionId"));
    if (session_.empty()) {
      res_.no_answer = true;
      res_.why = "cannot attach to a page target: " + first_line(str_of(member(msg, "error")));
      return false;
    }
    for (const char* m : {"Runtime.enable", "Log.enable", "Page.enable", "Network.enable"})
      if (!command(m, msg, deadline)) return false;
    // Every request pauses until on_message lets it through: only the private server's.
    return command("Fetch.enable", msg, deadline, [](json_writer& w) {
      w.Key("patterns");
      w.StartArray();
      w.StartObject();
      w.Key("urlPattern");
      w.String("*");
      w.EndObject();
      w.EndArray();
    });
  }

  void teardown() {
    if (context_.empty()) return;
    rapidjson::Document msg;
    int id = dt_.send("Target.disposeBrowserContext", {}, [&](json_writer& w) {
      w.Key("browserContextId");
      w.String(context_.c_str());
    });
    // A renderer in an endless loop is killed with its context; a browser that
    // does not answer that is replaced before the next page.
    if (!dt_.reply(id, msg, clock::now() + lim_.commands, {})) res_.discard = true;
  }

  /// Navigates and waits for the load event; false when it did not come.
  bool load(const std::string& url, clock::time_point deadline) {
    loaded_ = false;
    rapidjson::Document msg;
    int id = dt_.send("Page.navigate", session_, [&](json_writer& w) {
      w.Key("url");
      w.String(url.c_str());
    });
    if (dt_.reply(id, msg, deadline, [this](const rapidjson::Document& m) { on_message(m); }))
      if (const auto* r = member(msg, "result"))
        if (auto err = str_of(member(*r, "errorText")); !err.empty()) add(page_, 0, "cannot load: " + err);
    return wait_for(loaded_, deadline);
  }

  /// Virtual time: timers fast-forwarded, paused while requests are pending.
  void settle(milliseconds budget, clock::time_point deadline) {
    budget_done_ = false;
    dt_.send("Emulation.setVirtualTimePolicy", session_, [&](json_writer& w) {
      w.Key("policy");
      w.String("pauseIfNetworkFetchesPending");
      w.Key("budget");
      w.Int64(static_cast<std::int64_t>(budget.count()));
    });
    wait_for(budget_done_, std::min(deadline, clock::now() + budget + std::chrono::seconds(2)));
  }

  bool wait_for(const bool& flag, clock::time_point deadline) {
    rapidjson::Document msg;
    while (!flag && dt_.next(msg, deadline)) on_message(msg);
    return flag;
  }

  /// Runs `expression` in the page; the string it returns, "null" for null,
  /// nullopt when it did not return by `deadline`.
  std::optional<std::string> evaluate(const std::string& expression, clock::time_point deadline) {
    rapidjson::Document msg;
    int id = dt_.send("Runtime.evaluate", session_, [&](json_writer& w) {
      w.Key("expression");
      w.String(expression.c_str(), static_cast<rapidjson::SizeType>(expression.size()));
      w.Key("returnByValue");
      w.Bool(true);
      w.Key("userGesture");
      w.Bool(true);
    });
    if (!dt_.reply(id, msg, deadline, [this](const rapidjson::Document& m) { on_message(m); })) return std::nullopt;
    const auto* r = member(msg, "result");
    const auto* v = r ? member(*r, "result") : nullptr;
    const auto* value = v ? member(*v, "value") : nullptr;
    if (r && member(*r, "exceptionDetails"))
      spdlog::debug("page check: click-through script failed on {}: {}", page_, str_of(member(*v, "description")));
    return value && value->IsString() ? str_of(value) : std::string("null");
  }

  std::string install_expression() const {
    rapidjson::StringBuffer sb;
    json_writer w(sb);
    w.StartArray();
    for (const auto& k : done_) w.String(k.c_str(), static_cast<rapidjson::SizeType>(k.size()));
    w.EndArray();
    return std::string(click_script::install) + "(" + sb.GetString() + ")";
  }

  void click_through(const std::string& url) {
    clicking_ = true;
    doing_ = "during the click-through";
    // Two limits: the whole click-through (a page with many controls on a
    // slow machine runs out of it: retried, then a skip note), and each
    // interaction (one that does not return is a handler in an endless loop:
    // retried, then a finding).
    auto total = clock::now() + lim_.click;
    auto step_deadline = [&] { return clock::now() + lim_.load; };
    int reloads = 0;
    if (!evaluate(install_expression(), step_deadline())) return stuck("installing the click-through");
    for (int n = 0; n < opts_.max_interactions; ++n) {
      if (clock::now() >= total) return out_of_time(n);
      auto got = evaluate("window.__codehiveClick ? window.__codehiveClick.step() : 'reload'", step_deadline());
      if (!got) return stuck(doing_);
      if (*got == "null") break;
      if (*got == "reload") {
        // A handler navigated away (its page's listeners stopped the event our
        // listener prevents, or it set location): back to the page, carrying on
        // with the controls not handled yet.
        if (++reloads > 5) break;
        doing_ = "after " + doing_ + " (the page navigated away; reloaded)";
        // In a new tab of the same context (storage kept, as on a reload): the
        // old tab's virtual time stays paused past a navigation.
        std::string old = target_;
        if (!open_target(step_deadline())) return;
        dt_.send("Target.closeTarget", {}, [&](json_writer& w) {
          w.Key("targetId");
          w.String(old.c_str());
        });
        if (!load(url, step_deadline()) || !evaluate(install_expression(), step_deadline()))
          return stuck("reloading the page");
        continue;
      }
      rapidjson::Document step;
      step.Parse(got->c_str());
      if (step.HasParseError()) break;
      done_.push_back(str_of(member(step, "key")));
      doing_ = str_of(member(step, "what"));  // as announced
      // Its asynchronous effects (requests, timers it set) under its name too:
      // a short run of virtual time, which waits for pending requests.
      settle(milliseconds(100), step_deadline());
    }
    doing_ = "after the click-through";
    settle(milliseconds(1000), step_deadline());
    if (auto links = evaluate("window.__codehiveClick ? window.__codehiveClick.links() : '[]'", step_deadline())) {
      rapidjson::Document l;
      l.Parse(links->c_str());
      if (!l.HasParseError() && l.IsArray())
        for (const auto& v : l.GetArray())
          if (v.IsString()) res_.links.emplace_back(v.GetString(), v.GetStringLength());
    }
  }

  /// `what` did not return within an interaction's limit: on the first try a
  /// retry with a longer one (a loaded machine), on the last a finding (a
  /// handler that never returns). A Chromium that died is replaced.
  void stuck(const std::string& what) {
    if (!dt_.alive()) {
      res_.discard = true;
      res_.click_unfinished = true;
      res_.why = what + ": Chromium exited";
      return;
    }
    std::string reason = what + " did not return within " + seconds(lim_.load);
    if (!lim_.last_try) {
      res_.click_unfinished = true;
      res_.why = reason;
      return;
    }
    add(page_, 0, reason + " (an endless loop?)");
  }

  void out_of_time(int done) {
    res_.click_unfinished = true;
    res_.why =
      std::to_string(done) + " interactions in the click-through's " + seconds(lim_.click) + ", the rest not done";
  }

  void add(std::string file, int line, std::string text) {
    if (!seen_.insert(file + ":" + std::to_string(line) + ":" + text).second)
      return;  // seen on a reload or page before
    if (++(clicking_ ? click_reported_ : load_reported_) > 20) return;
    std::string msg = "page " + page_ + ": " + (clicking_ ? doing_ + ": " : "") + text;
    res_.found.push_back({std::move(file), line, clicking_ ? "browser_click" : load_check_, std::move(msg)});
  }

  std::string rel_of(const std::string& u) const {
    if (u.rfind(url_root_, 0) == 0) {
      auto rel = u.substr(url_root_.size());
      rel = rel.substr(0, rel.find_first_of("?#"));
      return html::percent_decode(rel);
    }
    return u;
  }

  void on_message(const rapidjson::Document& m) {
    if (str_of(member(m, "sessionId")) != session_ || session_.empty()) return;
    const std::string method = str_of(member(m, "method"));
    const rapidjson::Value* params = member(m, "params");
    if (!params) return;
    if (method == "Fetch.requestPaused") {
      std::string id = str_of(member(*params, "requestId"));
      const auto* req = member(*params, "request");
      std::string u = req ? str_of(member(*req, "url")) : "";
      bool ours = u.rfind(url_root_, 0) == 0 || u.rfind("data:", 0) == 0 || u.rfind("blob:", 0) == 0;
      dt_.send(ours ? "Fetch.continueRequest" : "Fetch.failRequest", session_, [&](json_writer& w) {
        w.Key("requestId");
        w.String(id.c_str());
        if (!ours) {
          w.Key("errorReason");
          w.String("BlockedByClient");
        }
      });
    } else if (method == "Network.requestWillBeSent") {
      // Where the request came from, for a failed load's file and line.
      const auto* init = member(*params, "initiator");
      if (!init) return;
      std::string u = str_of(member(*init, "url"));
      int line = int_of(member(*init, "lineNumber"));
      if (const auto* stack = member(*init, "stack"))
        if (const auto* frames = member(*stack, "callFrames"); frames && frames->IsArray())
          for (const auto& f : frames->GetArray())
            if (auto fu = str_of(member(f, "url")); !fu.empty()) {
              u = fu;
              line = int_of(member(f, "lineNumber"));
              break;
            }
      if (!u.empty()) initiators_[str_of(member(*params, "requestId"))] = {rel_of(u), line + 1};
    } else if (method == "Runtime.exceptionThrown") {
      const auto* d = member(*params, "exceptionDetails");
      if (!d) return;
      std::string text = str_of(member(*d, "text"));
      const auto* ex = member(*d, "exception");
      std::string desc = ex ? first_line(str_of(member(*ex, "description"))) : "";
      if (ex && desc.empty()) {
        const auto* v = member(*ex, "value");
        if (v && v->IsString()) desc = str_of(v);
      }
      if (!desc.empty() && text.find(desc) == std::string::npos) text += " " + desc;
      std::string u = str_of(member(*d, "url"));
      add(u.empty() ? page_ : rel_of(u), int_of(member(*d, "lineNumber")) + 1, text);
    } else if (method == "Runtime.consoleAPICalled") {
      std::string type = str_of(member(*params, "type"));
      if (type == "debug") {  // the click-through announcing its next interaction
        const auto* args = member(*params, "args");
        std::string first = args && args->IsArray() && !args->Empty() ? str_of(member((*args)[0], "value")) : "";
        static const std::string marker =
          "\x01"
          "codehive-step ";
        if (clicking_ && first.rfind(marker, 0) == 0) {
          rapidjson::Document step;
          step.Parse(first.c_str() + marker.size());
          if (!step.HasParseError()) doing_ = str_of(member(step, "what"));
        }
        return;
      }
      if (type != "error" && type != "assert") return;
      std::string text;
      if (const auto* args = member(*params, "args"); args && args->IsArray())
        for (const auto& a : args->GetArray()) {
          const auto* v = member(a, "value");
          std::string piece = v && v->IsString() ? str_of(v) : str_of(member(a, "description"));
          if (piece.empty() && v && v->IsNumber()) piece = std::to_string(v->GetDouble());
          if (!text.empty()) text += ' ';
          text += piece;
        }
      std::string file = page_;
      int line = 0;
      if (const auto* stack = member(*params, "stackTrace"))
        if (const auto* frames = member(*stack, "callFrames"); frames && frames->IsArray() && !frames->Empty()) {
          const auto& f = (*frames)[0];
          std::string u = str_of(member(f, "url"));
          if (!u.empty()) file = rel_of(u);
          line = int_of(member(f, "lineNumber")) + 1;
        }
      add(file, line, "console." + type + ": " + first_line(text));
    } else if (method == "Log.entryAdded") {
      const auto* e = member(*params, "entry");
      if (!e || str_of(member(*e, "level")) != "error") return;
      std::string source = str_of(member(*e, "source"));
      if (source == "javascript" || source == "console-api") return;  // reported through Runtime
      std::string u = str_of(member(*e, "url"));
      std::string text = str_of(member(*e, "text"));
      if (!u.empty()) text += " (" + rel_of(u) + ")";
      std::string file = page_;
      int line = 0;
      if (auto it = initiators_.find(str_of(member(*e, "networkRequestId"))); it != initiators_.end()) {
        file = it->second.first;
        line = it->second.second;
      }
      add(file, line, text);
    } else if (method == "Page.loadEventFired") {
      loaded_ = true;
    } else if (method == "Emulation.virtualTimeBudgetExpired") {
      budget_done_ = true;
    } else if (method == "Page.javascriptDialogOpening") {  // beforeunload, or one our overrides missed
      dt_.send("Page.handleJavaScriptDialog", session_, [](json_writer& w) {
        w.Key("accept");
        w.Bool(true);
      });
    }
  }

  devtools_browser& dt_;
  const browser_options& opts_;
  std::string url_root_, page_, load_check_;
  limits lim_;
  std::set<std::string>& seen_;
  page_result res_;
  std::string context_, target_, session_;
  bool loaded_ = false, budget_done_ = false, clicking_ = false;
  int load_reported_ = 0, click_reported_ = 0;
  std::string doing_;
  std::vector<std::string> done_;
  std::map<std::string, std::pair<std::string, int>> initiators_;
};

/// The next check's browser context and tab, made now (a few round trips)
/// so that their renderer starts while the caller goes on; abandoned by a
/// check that does not come (Chromium exits with the process).
void prepare_spare(devtools_browser& dt, milliseconds allowance) {
  if (!dt.spare.context.empty() || !dt.alive()) return;
  auto deadline = clock::now() + allowance;
  rapidjson::Document msg;
  int id = dt.send("Target.createBrowserContext");
  if (!dt.reply(id, msg, deadline, {})) return;
  const auto* r = member(msg, "result");
  std::string context = r ? str_of(member(*r, "browserContextId")) : "";
  if (context.empty()) return;
  id = dt.send("Target.createTarget", {}, [&](json_writer& w) {
    w.Key("url");
    w.String("about:blank");
    w.Key("browserContextId");
    w.String(context.c_str());
  });
  if (!dt.reply(id, msg, deadline, {})) return;
  r = member(msg, "result");
  std::string target = r ? str_of(member(*r, "targetId")) : "";
  if (!target.empty()) dt.spare = {context, target};
}

}  // namespace

std::optional<std::filesystem::path> find_browser() {
  for (const char* name : {"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"})
    if (auto p = find_on_path(name)) return p;
  return std::nullopt;
}

browser_process_info browser_process() {
  auto& shared = shared_browser::instance();
  auto lock = shared.lock();
  return {shared.launches(), shared.pid()};
}

void start_browser_process(const browser_options& opts) {
  auto browser = opts.browser.empty() ? find_browser() : find_on_path(opts.browser.string());
  if (!browser) return;  // the check itself says it was skipped
  sigpipe_block no_sigpipe;
  auto& shared = shared_browser::instance();
  auto lock = shared.lock();
  if (shared.running(*browser)) return;
  // A start that fails here is tried again (with the retry's allowance) by the check.
  if (auto dt = shared.get(*browser)) prepare_spare(**dt, opts.timeout);
}

void stop_browser_process() {
  auto& shared = shared_browser::instance();
  auto lock = shared.lock();
  shared.discard();
}

void check_browser(const std::filesystem::path& root, const browser_options& opts, validation_report& out,
                   browser_deps* deps) {
  std::optional<std::filesystem::path> browser;
  if (!opts.browser.empty())
    browser = find_on_path(opts.browser.string());
  else
    browser = find_browser();
  if (!browser) {
    out.skipped.push_back(
      {"browser", "no Chromium found on PATH (chromium, chromium-browser, google-chrome): page load not checked"});
    return;
  }
  auto page = resolve_in_root(root, opts.page);
  struct stat st {};
  if (!page || ::stat(page->absolute.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    out.skipped.push_back({"browser", "no " + opts.page + " in the output folder: page load not checked"});
    return;
  }
  // Served over loopback HTTP (ES modules and fetch() fail on file://); the
  // file:// URL is the fallback when no socket can be opened.
  static_server server;
  std::string url_root;
  std::error_code ec;
  bool served = false;
  if (server.start(root)) {
    url_root = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
    served = true;
  } else {
    url_root = file_url(std::filesystem::canonical(root, ec)) + "/";
  }
  // Every return below has checked pages: what they were served is recorded.
  struct record_deps {
    browser_deps* deps;
    static_server& server;
    bool served;
    ~record_deps() {
      if (!deps) return;
      deps->recorded = served;
      if (served) deps->files = server.served();
    }
  } record{deps, server, served};
  auto url_of = [&](const std::string& rel) { return url_root + url_escape(rel, "/-_.~"); };

  sigpipe_block no_sigpipe;
  auto& shared = shared_browser::instance();
  auto lock = shared.lock();
  std::set<std::string> seen;  // findings already made (a reload, or a script two pages share)
  std::deque<std::string> pages{page->relative};
  std::set<std::string> visited{page->relative};
  int linked = 0;
  while (!pages.empty()) {
    std::string rel = pages.front();
    pages.pop_front();
    bool entry = rel == page->relative;
    // A Chromium that does not answer in time (a loaded machine: "no reply to
    // Runtime.enable") gets a second, fresh start with a longer allowance; a
    // click-through that runs out of time gets a second run with 3x the time.
    // Only when that fails too is the check skipped, saying why both times.
    page_check::limits lim{opts.timeout, opts.timeout, opts.click_timeout, false};
    std::string first_why;
    page_result res;
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto dt = shared.get(*browser);
      if (!dt) {
        out.skipped.push_back({"browser", dt.err().reason + ": page " + rel + " not checked"});
        return;
      }
      std::set<std::string> seen_try = seen;
      res = page_check(**dt, opts, url_root, rel, entry ? "browser" : "browser_click", lim, seen_try).run(url_of(rel));
      if (res.no_answer || res.discard) shared.discard();
      if (!res.no_answer && !res.click_unfinished) {
        seen = std::move(seen_try);
        break;
      }
      if (attempt == 1) break;
      first_why = res.why;
      spdlog::warn("page check of {}: {}; retrying once with a longer allowance", rel, res.why);
      lim.commands = std::max<milliseconds>(opts.timeout * 3, std::chrono::seconds(30));
      lim.load = opts.timeout * 3;
      lim.click = opts.click_timeout * 3;
      lim.last_try = true;
    }
    if (res.no_answer) {
      out.skipped.push_back(
        {entry ? "browser" : "browser_click", "Chromium did not answer, twice: " + first_why + "; then " + res.why});
      return;
    }
    out.findings.insert(out.findings.end(), res.found.begin(), res.found.end());
    if (res.click_unfinished)
      out.skipped.push_back(
        {"browser_click", "page " + rel + ": click-through not finished, twice: " + first_why + "; then " + res.why});
    for (auto& l : res.links) {
      while (!l.empty() && l.front() == '/') l.erase(0, 1);
      if (l.empty() || l.back() == '/') l += "index.html";
      auto ext = l.substr(l.rfind('.') == std::string::npos ? l.size() : l.rfind('.'));
      if (ext != ".html" && ext != ".htm") continue;
      auto p = resolve_in_root(root, l);
      if (!p || ::stat(p->absolute.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      if (linked >= opts.max_linked_pages || !visited.insert(p->relative).second) continue;
      ++linked;
      pages.push_back(p->relative);
    }
  }
  if (auto* dt = shared.running(*browser)) prepare_spare(*dt, opts.timeout);
}

}  // namespace codehive::ws
