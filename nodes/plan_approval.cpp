#include "nodes/plan_approval.hpp"

#include <poll.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "common/read_file.hpp"
#include "messages/error.hpp"
#include "nodes/commands/settings_resolution.hpp"
#include "nodes/progress_line.hpp"

namespace codehive {

namespace {

std::filesystem::path plan_file(const std::string& out_dir) {
  return std::filesystem::path{out_dir} / "generated_files" / "tasks.json";
}

/// 'text' quoted for sh -c.
std::string sh_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text)
    out += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
  return out + "'";
}

}  // namespace

plan_reply decide_plan(caf::actor_system& sys, const planner_actor& planner,
                       const std::string& run_id, const std::string& out_dir,
                       msg::plan_action action, const std::optional<std::string>& body) {
  msg::plan_decision d;
  d.run_id = run_id;
  d.action = action;
  if (action == msg::plan_action::approve) {
    // The file the user was told to edit, as it is now (absent: as proposed).
    auto text = body ? body : read_whole_file(plan_file(out_dir));
    d.has_plan = text.has_value();
    d.plan = text.value_or("");
  } else if (action == msg::plan_action::reject) {
    d.plan = body.value_or("");
  }
  // Asked from a thread of its own that ends here: an HTTP worker thread
  // that had asked (and lived on in the server's pool) kept the actor
  // system's shutdown waiting at the end of the run.
  plan_reply r;
  r.message = "the run did not answer";
  std::thread{[&] {
    caf::scoped_actor self{sys};
    // Bounded: the planner answers at once (its controller decides in
    // memory), and an HTTP thread must never wait for good on a wedged run.
    self->request(planner, std::chrono::seconds{30}, d)
      .receive(
        [&](msg::plan_verdict& v) {
          r.waiting = v.waiting;
          r.accepted = v.accepted;
          r.message = std::move(v.message);
          r.tasks = v.tasks;
        },
        [&](caf::error& e) { r.message = "the run did not answer: " + describe(e); });
  }}.join();
  return r;
}

plan_decider plan_decider_for(caf::actor_system& sys, planner_actor planner, std::string run_id,
                              std::string out_dir) {
  return [&sys, planner = std::move(planner), run_id = std::move(run_id),
          out_dir = std::move(out_dir)](const std::string& id, msg::plan_action action,
                                        const std::optional<std::string>& body)
           -> std::optional<plan_reply> {
    if (id != run_id)
      return std::nullopt;
    return decide_plan(sys, planner, run_id, out_dir, action, body);
  };
}

approval_prompt::approval_prompt(caf::actor_system& sys, std::string run_id, std::string out_dir,
                                 std::string hint, std::shared_ptr<progress_line> line,
                                 bool interactive)
  : sys_(sys), run_id_(std::move(run_id)), out_dir_(std::move(out_dir)), hint_(std::move(hint)),
    line_(std::move(line)), interactive_(interactive), thread_{[this] { loop(); }} {
}

approval_prompt::~approval_prompt() {
  stop();
}

void approval_prompt::attach(planner_actor planner) {
  std::lock_guard lock{mu_};
  planner_ = std::move(planner);
}

void approval_prompt::stop() {
  {
    std::lock_guard lock{mu_};
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
  planner_ = nullptr;  // no handle outlives the run's actors
}

bool approval_prompt::on_event(const msg::progress_event& ev) {
  if (ev.run_id != run_id_)
    return true;
  {
    std::lock_guard lock{mu_};
    if (ev.kind == msg::progress_kind::awaiting_approval)
      waiting_ = true;
    else if (ev.kind != msg::progress_kind::approval_refused)
      waiting_ = false;  // approved or rejected (here or elsewhere), or the run ended
  }
  cv_.notify_all();
  // The prompt shows these itself; without a terminal, a refusal by the
  // API is worth a line too.
  using enum msg::progress_kind;
  return !(ev.kind == awaiting_approval || (interactive_ && ev.kind == approval_refused));
}

void approval_prompt::loop() {
  for (;;) {
    {
      std::unique_lock lock{mu_};
      cv_.wait(lock, [this] { return stop_ || waiting_; });
      if (stop_)
        return;
    }
    ask();
    std::lock_guard lock{mu_};
    waiting_ = false;  // until the planner says a plan waits again
  }
}

void approval_prompt::ask() {
  planner_actor planner;
  {
    std::lock_guard lock{mu_};
    planner = planner_;
  }
  auto state = decide_plan(sys_, planner, run_id_, out_dir_, msg::plan_action::query, std::nullopt);
  if (!state.waiting)
    return;
  const auto file = plan_file(out_dir_).string();
  line_->clear();
  if (!interactive_) {
    std::printf("codehive %s: the plan (%d tasks) waits for approval; edit %s if you like, "
                "then approve: %s\n",
                run_id_.c_str(), state.tasks, file.c_str(), hint_.c_str());
    std::fflush(stdout);
    return;
  }
  std::printf("\n%s\n  plan file: %s\n  also: %s\n", state.message.c_str(), file.c_str(),
              hint_.c_str());
  for (;;) {
    std::printf("Approve this plan? [y]es, [e]dit it in $EDITOR, [n]o (reject): ");
    std::fflush(stdout);
    auto answer = read_answer();
    if (!answer)
      return;
    auto a = answer->empty() ? ' ' : static_cast<char>(std::tolower((*answer)[0]));
    if (a == 'e') {
      std::string cmd = editor_command(read_environment()) + " " + sh_quote(file);
      if (std::system(cmd.c_str()) != 0)
        std::printf("the editor (%s) did not exit cleanly; the file is as it left it\n",
                    cmd.c_str());
      continue;
    }
    if (a != 'y' && a != 'n')
      continue;
    auto r = decide_plan(sys_, planner, run_id_, out_dir_, a == 'y' ? msg::plan_action::approve : msg::plan_action::reject,
                         a == 'y' ? std::nullopt
                                  : std::optional<std::string>{"rejected on the terminal"});
    std::printf("%s\n", r.message.c_str());
    std::fflush(stdout);
    if (r.accepted || !r.waiting)
      return;
    // An edit the planner refused: the reason is printed; fix and ask again.
  }
}

std::optional<std::string> approval_prompt::read_answer() {
  std::string text;
  for (;;) {
    {
      std::lock_guard lock{mu_};
      if (stop_ || !waiting_) {
        std::printf("\n(the plan no longer waits)\n");
        std::fflush(stdout);
        return std::nullopt;
      }
    }
    pollfd p{STDIN_FILENO, POLLIN, 0};
    // A short wait, so a decision taken elsewhere (or the run's end) is noticed.
    if (::poll(&p, 1, 200) <= 0)
      continue;
    char c = 0;
    auto n = ::read(STDIN_FILENO, &c, 1);
    if (n <= 0) {
      std::printf("\n(no more input) approve with: %s\n", hint_.c_str());
      std::fflush(stdout);
      return std::nullopt;
    }
    if (c == '\n')
      return text;
    text += c;
  }
}

}  // namespace codehive
