// A stand-in for the planner actor and its team, for driving the run
// controller with events and no actor system: commands the controller emits
// wait in `pending` (as requests in flight would) until a test answers them,
// one by one (answer_next) or all (run_until_delivered), with scripted
// answers. The run store is a real RocksDB store in a temp folder, and the
// stand-in tracker writes file versions to it as the real one does, so a
// second controller on the same store resumes what the first one left.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/planner/controller.hpp"
#include "storage/run_store.hpp"
#include "tests/support/sim_process.hpp"

namespace codehive::test {

/// A plan answer: tasks as (id, path, depends_on), all "create".
std::string plan_json(const std::vector<std::tuple<std::string, std::string, std::vector<std::string>>>& tasks);

/// A usable plan answer to `asked`, with `content` (no model usage).
planner::plan_answer plan_reply(const planner::ask_plan& asked, std::string content);

struct harness {
  temp_dir dir{"codehive-controller"};
  std::unique_ptr<store::run_store> store;
  std::string run_id;
  std::shared_ptr<pipeline_settings> settings;
  std::unique_ptr<planner::controller> ctl;
  std::deque<planner::command> pending;

  // Scripts. Each returns the answer for one request; the defaults answer
  // like a healthy model and a clean project.
  std::function<planner::plan_answer(const planner::ask_plan&)> on_plan;
  std::function<std::optional<planner::failure>(const msg::code_request&, int slot)> on_code;
  std::function<std::optional<planner::failure>(const msg::fix_request&)> on_fix;
  std::function<msg::validation_report(const std::vector<std::string>&)> on_validate;
  /// The tracker's word on an edit (nullopt: applied and stored).
  std::function<std::optional<planner::failure>(const msg::file_edit&)> on_apply;
  std::function<std::vector<msg::review_issue>(const msg::review_request&)> on_review;

  // What happened.
  std::map<std::string, int> coded;  ///< path -> coder requests answered
  std::map<std::string, int> fixed;  ///< path -> fixer requests answered
  int plans_asked = 0;
  int reviews_asked = 0;
  int exports_written = 0;
  int folders_made = 0;
  bool approve_plan = false;  ///< start() asks for plan approval (run --approve-plan)
  std::string request = "a board";               ///< what start() asks for
  std::vector<msg::applied_file> project_files;  ///< the tracker's listing (the project found)
  std::string tasks_json;     ///< generated_files/tasks.json as last written
  bool hold_export_timers = false;  ///< keep schedule_exports unanswered (time stands still)
  int export_timers_held = 0;
  std::vector<std::int64_t> export_delays;  ///< every schedule_exports' delay, in order
  std::vector<msg::export_file> final_exports;
  std::vector<std::string> progress_kinds;
  std::vector<msg::progress_event> progress_events;
  std::vector<planner::precheck> prechecks;  ///< in the order emitted
  std::vector<std::size_t> validations;      ///< per validate: prechecks emitted before it
  std::optional<msg::run_result> result;
  /// The controller's clock (unix ms): stands still unless a test moves it.
  std::int64_t clock_ms = 1'800'000'000'000;

  harness();
  /// Every plan asked for is answered with `content`.
  void always_plan(const std::string& content) {
    on_plan = [content](const planner::ask_plan& c) { return plan_reply(c, content); };
  }
  /// A new controller on the same store (a restarted process).
  void restart();
  /// Starts run `run_id` (or continues it, if the store has it).
  void start(int local_coders = 2, int local_fixers = 1, msg::budget limits = {});

  /// Moves the controller's new commands to `pending`.
  void collect();
  /// Answers the oldest pending command with the scripts; false if none.
  bool answer_next();
  /// Answers everything until the run's result is delivered (or nothing is
  /// pending, or `limit` answers were given).
  void run_until_delivered(int limit = 10000);
  /// The first pending command of type C (removed from `pending`), if any.
  template <class C>
  std::optional<C> take() {
    for (auto it = pending.begin(); it != pending.end(); ++it) {
      if (auto* c = std::get_if<C>(&*it)) {
        C out = std::move(*c);
        pending.erase(it);
        return out;
      }
    }
    return std::nullopt;
  }
  /// Answers pending commands, oldest first, until one of type C is pending after an
  /// answer; that one (removed from `pending`, unanswered), or nullopt when nothing was
  /// left to answer.
  template <class C>
  std::optional<C> answer_until() {
    std::optional<C> asked;
    while (!asked && answer_next())
      asked = take<C>();
    return asked;
  }
  /// Answers one command (already taken from `pending`) with the scripts.
  void answer(planner::command cmd);

  store::task_state stored_state(const std::string& task_id) const;
  /// Records a local model call in the store's ledger (budgets read it).
  void paid(const msg::usage& u, const std::string& role);
};

/// The validator finds a problem in app.js until a fixer has rewritten it
/// (it reads the store, as the real one reads the folder); the reviewer turns
/// each finding into an issue: a run with one fix round.
void one_fix_round(harness& h);

}  // namespace codehive::test
