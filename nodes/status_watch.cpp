#include "nodes/status_watch.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <ctime>
#include <set>
#include <thread>

#include <sys/ioctl.h>
#include <unistd.h>

#include "actors/planner/phase_clock.hpp"
#include "actors/planner/plan_events.hpp"
#include "actors/run_restore.hpp"
#include "nodes/commands.hpp"
#include "storage/run_store.hpp"

namespace codehive {

namespace {

std::string plural(int n, const char* what) {
  return std::to_string(n) + " " + what;
}

/// "45s", "3m12s", "2h05m".
std::string duration_text(std::int64_t ms) {
  auto s = std::max<std::int64_t>(0, ms / 1000);
  char buf[32];
  if (s < 60)
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(s));
  else if (s < 3600)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  else
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60));
  return buf;
}

/// "3/7 done, 2 assigned, 2 pending" (failed only when there are some).
std::string counts_text(const std::map<store::task_state, int>& by, int total) {
  auto of = [&](store::task_state s) {
    auto it = by.find(s);
    return it == by.end() ? 0 : it->second;
  };
  std::string t = std::to_string(of(store::task_state::done)) + "/" + std::to_string(total)
                  + " done, " + plural(of(store::task_state::assigned), "assigned") + ", "
                  + plural(of(store::task_state::pending), "pending");
  if (int failed = of(store::task_state::failed); failed > 0)
    t += ", " + plural(failed, "failed");
  return t;
}

std::string phase_text(const watch_snapshot& s) {
  if (s.plan_waits && s.tasks_total == 0)
    return "awaiting approval: the plan waits (`codehive approve RUN`)";
  if (s.phase.empty())
    return "starting";
  auto name = s.phase;
  std::replace(name.begin(), name.end(), '_', ' ');
  return s.detail.empty() ? name : name + ": " + s.detail;
}

std::string state_text(const watch_snapshot& s) {
  std::string t = store::to_string(s.state);
  if (s.exit_code >= 0 && s.state != store::run_state::running)
    t += " (exit " + std::to_string(s.exit_code) + ")";
  return t;
}

std::string money(double usd) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "$%.4f", usd);
  return buf;
}

std::string clock_text(std::int64_t ms) {
  auto t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%H:%M:%S", &tm);
  return buf;
}

std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

volatile std::sig_atomic_t stop_signal = 0;

void on_stop_signal(int sig) {
  stop_signal = sig;
}

/// SIGINT and SIGTERM end the watch (restored on destruction).
class stop_signals {
 public:
  stop_signals() {
    stop_signal = 0;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int_);
    sigaction(SIGTERM, &sa, &old_term_);
  }
  ~stop_signals() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  stop_signals(const stop_signals&) = delete;
  stop_signals& operator=(const stop_signals&) = delete;
  bool raised() const { return stop_signal != 0; }

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

/// Code points of `s` up to `max` (a line wider than the terminal would
/// wrap, and the redraw would move up too few lines).
std::string fit(const std::string& s, std::size_t max) {
  std::string out;
  std::size_t points = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80 && ++points > max)
      break;
    out += c;
  }
  return out;
}

std::size_t terminal_width(std::FILE* out) {
  winsize ws{};
  if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 1)
    return ws.ws_col - 1u;
  return 79;
}

/// Draws the view over the previous one on a terminal.
class redraw {
 public:
  explicit redraw(std::FILE* out) : out_(out) {}
  void draw(const std::vector<std::string>& lines) {
    clear();
    auto width = terminal_width(out_);
    for (const auto& l : lines)
      std::fprintf(out_, "%s\n", fit(l, width).c_str());
    drawn_ = lines.size();
    std::fflush(out_);
  }
  /// Up to the first line drawn, then erase to the end of the screen.
  void clear() {
    if (drawn_ > 0)
      std::fprintf(out_, "\x1b[%zuA\x1b[J", drawn_);
    drawn_ = 0;
  }

 private:
  std::FILE* out_;
  std::size_t drawn_ = 0;
};

}  // namespace

bool run_watch::look(const store::run_store& st, std::int64_t now_ms, std::string& error) {
  auto snap = st.load_run(run_id_);
  if (!snap) {
    error = snap.err().describe();
    return false;
  }
  watch_snapshot s;
  s.phase = snap_.phase;
  s.detail = snap_.detail;
  s.plan_waits = snap_.plan_waits;
  s.state = snap->run.state;
  s.state_reason = snap->run.state_reason;
  s.exit_code = snap->run.exit_code;
  s.created_ms = snap->run.created_ms;
  s.at_ms = now_ms;
  std::set<std::string> workers;
  for (const auto& t : snap->tasks) {
    bool fix = is_fix_task(t.spec.id);
    ++(fix ? s.fixes : s.tasks)[t.state];
    ++(fix ? s.fixes_total : s.tasks_total);
    if (!t.worker.empty())
      workers.insert(t.worker);
    if (t.state == store::task_state::assigned)
      s.busy.push_back(t.spec.id + " " + t.spec.path
                       + (t.worker.empty() ? std::string{} : " (" + t.worker + ")"));
  }
  s.workers.assign(workers.begin(), workers.end());
  s.rounds = snap->rounds.size();
  const auto& total = snap->ledger_total;
  s.tokens = total.prompt_tokens + total.completion_tokens;
  s.completion_tokens = total.completion_tokens;
  s.cost_usd = total.cost_usd;
  if (looked_ && now_ms > snap_.at_ms && s.completion_tokens >= snap_.completion_tokens)
    s.tokens_per_s = static_cast<double>(s.completion_tokens - snap_.completion_tokens) * 1000.0
                     / static_cast<double>(now_ms - snap_.at_ms);

  // Only the events since the last look: the phase and plan approval.
  auto events = st.read_events(run_id_, events_seen_ + 1);
  if (!events) {
    error = events.err().describe();
    return false;
  }
  if (!events->empty())
    events_seen_ = events->back().seq;
  if (auto p = planner::last_phase(*events)) {
    s.phase = p->phase;
    s.detail = p->detail;
  }
  if (const auto* d = planner::last_plan_decision(*events))
    s.plan_waits = d->type == planner::proposed_event;
  snap_ = std::move(s);
  looked_ = true;
  return true;
}

std::vector<std::string> run_watch::view() const {
  const auto& s = snap_;
  std::vector<std::string> out;
  out.push_back("run      " + run_id_ + "  " + state_text(s) + "  after "
                + duration_text(s.at_ms - s.created_ms));
  out.push_back("phase    " + phase_text(s));
  std::string tasks = "tasks    " + counts_text(s.tasks, s.tasks_total);
  if (s.fixes_total > 0)
    tasks += "   fixes " + counts_text(s.fixes, s.fixes_total);
  out.push_back(tasks);
  std::string workers = "workers  " + std::to_string(s.busy.size()) + " busy";
  if (!s.workers.empty()) {
    workers += " of " + std::to_string(s.workers.size()) + " seen:";
    for (const auto& w : s.workers)
      workers += " " + w;
  }
  out.push_back(workers);
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.0f", s.tokens_per_s);
  out.push_back("tokens   " + std::to_string(s.tokens) + " (" + rate + " tokens/s)   cost "
                + money(s.cost_usd) + "   review rounds " + std::to_string(s.rounds));
  constexpr std::size_t shown = 8;  // the view stays a few lines high
  for (std::size_t i = 0; i < s.busy.size() && i < shown; ++i)
    out.push_back("  " + s.busy[i]);
  if (s.busy.size() > shown)
    out.push_back("  ... and " + std::to_string(s.busy.size() - shown) + " more");
  return out;
}

std::string run_watch::change_key() const {
  const auto& s = snap_;
  std::string key = state_text(s) + "|" + phase_text(s) + "|" + counts_text(s.tasks, s.tasks_total)
                    + "|" + counts_text(s.fixes, s.fixes_total) + "|" + std::to_string(s.rounds);
  return key;
}

std::string run_watch::line() const {
  const auto& s = snap_;
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.0f", s.tokens_per_s);
  std::string l = clock_text(s.at_ms) + " " + state_text(s) + "  " + phase_text(s) + "  tasks "
                  + counts_text(s.tasks, s.tasks_total);
  if (s.fixes_total > 0)
    l += "  fixes " + counts_text(s.fixes, s.fixes_total);
  l += "  busy " + std::to_string(s.busy.size()) + "  tokens " + std::to_string(s.tokens) + " ("
       + rate + "/s)  " + money(s.cost_usd);
  return l;
}

int watch_run(const std::string& run_id, const store_opener& open,
              const std::function<void(const store::run_store&)>& final_status, bool terminal,
              std::FILE* out, double give_up_s) {
  stop_signals signals;
  run_watch watch{run_id};
  redraw screen{out};
  std::string last_key;
  auto failing_since = std::chrono::steady_clock::now();
  bool failing = false;
  while (!signals.raised()) {
    std::string err;
    auto st = open(err);
    if (st && watch.look(*st, now_ms(), err)) {
      failing = false;
      if (watch.ended()) {
        screen.clear();
        std::fprintf(out, "%s\n\n", watch.line().c_str());
        final_status(*st);
        std::fprintf(out, "\nrun %s ended: %s%s\n", run_id.c_str(),
                     store::to_string(watch.now().state),
                     watch.now().exit_code >= 0
                       ? (" (exit " + std::to_string(watch.now().exit_code) + ")").c_str()
                       : "");
        std::fflush(out);
        return 0;
      }
      if (terminal) {
        screen.draw(watch.view());
      } else if (auto key = watch.change_key(); key != last_key) {
        last_key = key;
        std::fprintf(out, "%s\n", watch.line().c_str());
        std::fflush(out);
      }
    } else {
      // A read-only open can race the writer's file changes: try again; only
      // a store unreadable for give_up_s in a row ends the watch.
      auto now = std::chrono::steady_clock::now();
      if (!failing) {
        failing = true;
        failing_since = now;
      } else if (std::chrono::duration<double>(now - failing_since).count() > give_up_s) {
        screen.clear();
        std::fprintf(stderr, "codehive status: cannot read run %s for %.0f s: %s\n",
                     run_id.c_str(), give_up_s, err.c_str());
        return exit_code::usage;
      }
    }
    st.reset();  // not held between looks
    for (int i = 0; i < 10 && !signals.raised(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  // The last view stays on the screen.
  std::fprintf(out, "\nstopped watching run %s (it goes on)\n", run_id.c_str());
  std::fflush(out);
  return exit_code::interrupted;
}

}  // namespace codehive
