// `run --approve-plan`, the process side: the plan waits in the planner
// (actors/planner/approval.cpp) until the user's word reaches it, from the
// terminal (approval_prompt), from `codehive approve RUN` or the dashboard
// (both through the HTTP API: plan_decider_for). The RocksDB store admits one
// process, so another process can only reach the run over HTTP.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "actors/interfaces.hpp"
#include "nodes/http/api_server.hpp"

namespace caf {
class actor_system;
}

namespace codehive {

class progress_line;

/// The planner's word on `action` (query, approve, reject) for run
/// `run_id`; an approval without a body sends OUT/generated_files/tasks.json
/// as it is now (the user's edits, if any). Blocks the calling thread (never
/// an actor's) until the planner answers (at once: it only decides).
plan_reply decide_plan(caf::actor_system& sys, const planner_actor& planner,
                       const std::string& run_id, const std::string& out_dir,
                       msg::plan_action action, const std::optional<std::string>& body);

/// decide_plan for the HTTP API, for this process's one run.
plan_decider plan_decider_for(caf::actor_system& sys, planner_actor planner, std::string run_id,
                              std::string out_dir);

/// The terminal's part: when the plan waits, on a TTY it shows the plan,
/// offers $EDITOR on tasks.json and asks y/n (an edit the planner refuses is
/// shown with the reason and asked about again); elsewhere it prints how to
/// approve (`hint`: the command and the URL). Lives on a thread of its own.
class approval_prompt {
 public:
  /// Made before the run's actors (the progress sink's filter calls it);
  /// attach() gives it the planner before the run starts.
  approval_prompt(caf::actor_system& sys, std::string run_id, std::string out_dir,
                  std::string hint, std::shared_ptr<progress_line> line, bool interactive);
  ~approval_prompt();
  void attach(planner_actor planner);
  /// Ends the thread (idempotent); before the actor system goes.
  void stop();
  approval_prompt(const approval_prompt&) = delete;
  approval_prompt& operator=(const approval_prompt&) = delete;

  /// Every progress event (the progress sink's filter, on its thread); false
  /// for the events it shows itself, which the progress line should not.
  bool on_event(const msg::progress_event& ev);

 private:
  void loop();
  void ask();  ///< one plan, until decided (here or elsewhere) or stopped
  /// A line from stdin, or nothing once the plan no longer waits / on EOF.
  std::optional<std::string> read_answer();

  caf::actor_system& sys_;
  planner_actor planner_;
  std::string run_id_;
  std::string out_dir_;
  std::string hint_;
  std::shared_ptr<progress_line> line_;
  bool interactive_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool waiting_ = false;  ///< the planner said a plan waits (until another event says otherwise)
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace codehive
