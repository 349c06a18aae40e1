// Review rounds: validate what changed, ask the reviewer, turn its issues (or,
// without issues, the validators' findings) into fix tasks, stored before any
// fixer hears of them, one fix per file at a time; then the next round, until
// clean, the round limit, or an issue that keeps coming back.
#include <spdlog/spdlog.h>

#include "actors/planner/controller.hpp"
#include "actors/planner/paths.hpp"
#include "actors/run_restore.hpp"
#include "storage/run_store.hpp"

namespace codehive::planner {

namespace {

std::string issue_key(const msg::review_issue& i) {
  return i.file + "|" + i.problem;
}

}  // namespace

void controller::start_round() {
  if (stopping_)
    return;
  auto files = run_.live_changed_paths();
  if (files.empty()) {
    finish(outcome::model_failure, "no file could be written: every task failed");
    return;
  }
  run_.round += 1;
  run_.rounds.push_back({});
  run_.rounds.back().round = run_.round;
  enter_phase(msg::run_phase::validating, "round " + std::to_string(run_.round) + ": checking "
                              + std::to_string(files.size()) + " file(s)");
  spdlog::info("run={} task=review round {}: validating {} files", run_.run_id, run_.round,
               files.size());
  progress(msg::progress_kind::validate, {}, {}, "round " + std::to_string(run_.round));
  emit(validate{std::move(files)});
}

void controller::on_validated(msg::validation_report rep) {
  if (stopping_)
    return;
  for (const auto& f : rep.findings)
    spdlog::info("run={} task=validate finding [{}] {}:{}: {}", run_.run_id, f.check, f.file,
                 f.line, f.message);
  run_.open_findings = rep.findings;
  run_.rounds.back().validation = std::move(rep);
  review_now();
}

void controller::on_validation_failed(const failure& f) {
  finish(outcome::failed, "validator failed: " + f.reason);
}

void controller::review_now() {
  enter_phase(msg::run_phase::reviewing, "round " + std::to_string(run_.round) + ": "
                             + std::to_string(run_.open_findings.size())
                             + " finding(s) to the reviewer");
  progress(msg::progress_kind::review, {}, {}, "reviewing");
  emit(read_review_files{run_.live_changed_paths()});
}

void controller::on_review_files(std::vector<msg::context_file> files) {
  if (stopping_)
    return;
  msg::review_request req;
  req.run_id = run_.run_id;
  req.request = run_.request;
  req.round = run_.round;
  // Content while it fits the large model's window, summaries after.
  auto budget = settings_->review_chars;
  for (auto& f : files) {
    if (f.has_content && f.content.size() <= budget) {
      budget -= f.content.size();
    } else if (f.has_content) {
      f.has_content = false;
      f.content.clear();
    }
  }
  req.files = std::move(files);
  req.findings = run_.rounds.back().validation.findings;
  emit(review{std::move(req)});
}

void controller::on_review_read_failed(const failure& f) {
  finish(outcome::failed, "cannot read files: " + f.reason);
}

void controller::on_review_failed(const failure& f) {
  if (!account("reviewer", f.use))
    return;
  if (f.transport)
    finish(outcome::model_failure, "reviewer model failed: " + f.reason);
  else
    finish(outcome::unresolved, "the reviewer gave no usable answer: " + f.reason);
}

void controller::on_reviewed(msg::review_result result) {
  if (!account("reviewer", result.use))
    return;
  auto& round = run_.rounds.back();
  std::vector<msg::review_issue> issues;
  for (auto& i : result.issues) {
    auto norm = ws::normalize_relative(i.file);
    if (!norm) {
      spdlog::warn("run={} task=review dropping issue for unusable path '{}'", run_.run_id,
                   i.file);
      continue;
    }
    i.file = *norm;
    i.round = run_.round;
    issues.push_back(std::move(i));
  }
  // Findings the reviewer did not turn into issues still need fixing.
  if (issues.empty()) {
    for (const auto& f : round.validation.findings) {
      if (f.file.empty())
        continue;
      msg::review_issue i;
      i.file = f.file;
      i.problem = "[" + f.check + "] " + f.message;
      i.instructions = "Fix the problem the automatic check '" + f.check + "' reported"
                       + (f.line > 0 ? " at line " + std::to_string(f.line) : std::string{})
                       + ": " + f.message + ". Change only what is needed.";
      i.round = run_.round;
      issues.push_back(std::move(i));
    }
  }
  store::review_round record;
  record.round = static_cast<std::uint32_t>(run_.round);
  for (const auto& i : issues)
    record.issues.push_back(to_store(i));
  record.findings_json = findings_to_json(round.validation.findings);
  if (!stored([&] { return store_.put_review_round(run_.run_id, record); }, "review round"))
    return;
  round.issues = static_cast<int>(issues.size());
  for (const auto& i : issues)
    run_.issues.push_back(i);
  spdlog::info("run={} task=review round {}: {} findings, {} issues", run_.run_id, run_.round,
               round.validation.findings.size(), issues.size());
  progress(msg::progress_kind::review, {}, {}, std::to_string(issues.size()) + " issues");
  exports_changed();
  decide(std::move(issues));
}

/// What the last round's issues mean: finished (clean, or unresolved at the
/// round limit / with an issue that keeps coming back), or fix tasks, which
/// are stored before any fixer hears of them.
void controller::decide(std::vector<msg::review_issue> issues) {
  auto& round = run_.rounds.back();
  if (issues.empty() && round.validation.findings.empty()) {
    auto failed = run_.graph->count(graph_task_state::failed) + run_.graph->count(graph_task_state::skipped);
    if (failed > 0)
      finish(outcome::unresolved,
             std::to_string(failed) + " task(s) could not be completed; the rest is clean");
    else
      finish(outcome::done, "all files written; validators and reviewer are clean");
    return;
  }
  if (issues.empty()) {
    finish(outcome::unresolved, std::to_string(round.validation.findings.size())
                                  + " validator finding(s) without a file to fix");
    return;
  }
  if (run_.round - 1 >= run_.max_rounds) {
    finish(outcome::unresolved, std::to_string(issues.size()) + " issue(s) left after "
                                  + std::to_string(run_.max_rounds) + " fix round(s)");
    return;
  }
  for (const auto& i : issues) {
    auto seen = ++run_.issue_seen[issue_key(i)];
    if (seen > settings_->same_issue_limit) {
      finish(outcome::unresolved, "the same issue in " + i.file + " came back unchanged "
                                    + std::to_string(seen - 1) + " times; stopping: " + i.problem);
      return;
    }
  }
  enter_phase(msg::run_phase::fixing, "round " + std::to_string(run_.round) + ": "
                          + std::to_string(issues.size()) + " issue(s) to fix");
  std::vector<fix_item> items;
  std::vector<store::task_spec> specs;
  for (auto& i : issues) {
    auto id = fix_task_id(run_.round, static_cast<int>(items.size()) + 1);
    specs.push_back(fix_task_spec(i, id));
    items.push_back({std::move(i), std::move(id)});
  }
  if (!stored([&] { return store_.put_plan(run_.run_id, specs); }, "fix tasks"))
    return;
  for (auto& item : items)
    fix_queue_[item.issue.file].push_back(std::move(item));
  pump_fixes();
}

// -- fixes ------------------------------------------------------------------------

/// The fix no longer occupies its file (one fix per file at a time).
void controller::fix_finished(const std::string& file) {
  fixing_files_.erase(file);
  fixes_in_flight_ -= 1;
}

void controller::pump_fixes() {
  if (stopping_)
    return;
  for (auto& [file, queue] : fix_queue_) {
    if (queue.empty() || fixing_files_.count(file) > 0)
      continue;
    int free = pool_.free_fixer();
    if (free < 0)
      break;  // all busy, or none joined yet: a free or joining fixer pumps again
    auto item = std::move(queue.front());
    queue.pop_front();
    start_fix(std::move(item), free);
  }
  bool queued = false;
  for (const auto& [file, queue] : fix_queue_)
    queued = queued || !queue.empty();
  if (!queued && fixes_in_flight_ == 0) {
    fix_queue_.clear();
    exports_changed();
    start_round();
  }
}

void controller::start_fix(fix_item item, int slot) {
  const auto& s = pool_.fixers().at(static_cast<std::size_t>(slot));
  if (!move_task(item.fix_id, store::task_state::assigned, store::by_worker(s.label)))
    return;
  auto ticket = ++next_ticket_;
  job j;
  j.what = job::kind::fix;
  j.issue = item.issue;
  j.fix_id = item.fix_id;
  j.slot = slot;
  jobs_[ticket] = std::move(j);
  pool_.occupy_fixer(slot, ticket);
  fixing_files_.insert(item.issue.file);
  fixes_in_flight_ += 1;
  const auto& file = item.issue.file;
  announce(fmt::format("run={} task={} fix: {} on {}: {}", run_.run_id, item.fix_id, file, s.label,
                       item.issue.problem));
  progress(msg::progress_kind::fix_start, item.fix_id, file, item.issue.problem);
  emit(read_files{ticket, fix_context_paths(file)});
}

void controller::ask_fixer_for(std::uint64_t ticket, std::vector<msg::context_file> files) {
  const auto& j = jobs_.at(ticket);
  msg::fix_request req;
  req.run_id = run_.run_id;
  req.fix_id = j.fix_id;
  req.request = run_.request;
  req.issue = j.issue;
  req.target = files.front();
  files.erase(files.begin());
  req.related = build_context(std::move(files), req.target,
                              req.issue.problem + "\n" + req.issue.instructions);
  emit(ask_fixer{ticket, j.slot, std::move(req)});
}

/// The tracker applied a fixer's edit.
void controller::fix_applied(const job& fix, const msg::applied_file& file) {
  fix_finished(fix.issue.file);
  // Recorded even when stopping: the fix was paid for (as task_done).
  if (!move_task(fix.fix_id, store::task_state::done, store::producing(file.hash)))
    return;
  run_.remember(file);
  run_.changed_paths.insert(file.path);
  run_.rounds.back().fixes_applied += 1;
  if (stopping_)
    return;
  if (!file.hash.empty())
    emit(precheck{file.path, file.hash});
  announce(fmt::format("run={} task={} fix applied: {} v{}", run_.run_id, fix.fix_id, file.path,
                       file.version));
  progress(msg::progress_kind::fix_done, fix.fix_id, file.path, file.summary);
  pump_fixes();
}

/// The tracker refused a fixer's edit: the folder said no (the run stops),
/// or the edit did not fit (the fix failed; the next round sees the file).
void controller::fix_not_applied(const job& fix, const failure& f) {
  fix_finished(fix.issue.file);
  if (stopping_)
    return;
  if (f.local_io)
    finish(outcome::local_io, "cannot write " + fix.issue.file + ": " + f.reason);
  else
    fix_failed({fix.issue, fix.fix_id}, "the tracker refused the edit: " + f.reason, f.code);
}

/// A fix the tracker could not apply, or a fixer that gave no usable edit.
void controller::fix_failed(const fix_item& item, const std::string& reason,
                            const std::string& code) {
  if (!move_task(item.fix_id, store::task_state::failed, store::because(reason, code)))
    return;
  run_.rounds.back().fixes_failed += 1;
  announce(fmt::format("run={} task={} fix failed: {}", run_.run_id, item.fix_id, reason), true);
  progress(msg::progress_kind::fix_failed, item.fix_id, item.issue.file, reason);
  pump_fixes();
}

/// Related files of a fix: the file's plan neighbours (dependencies, context,
/// and the tasks depending on it); without a plan entry, the other changed files.
std::vector<std::string> controller::fix_context_paths(const std::string& file) const {
  std::vector<std::string> paths{file};
  bool planned = false;
  if (run_.graph) {
    for (std::size_t i = 0; i < run_.tasks.size(); ++i) {
      const auto& t = run_.tasks[i];
      if (t.path == file) {
        planned = true;
        for (const auto& p : run_.graph->dependency_paths(i))
          add_unique(paths, p);
        for (const auto& p : t.context_paths)
          add_unique(paths, p);
      } else {
        for (const auto& p : run_.graph->dependency_paths(i))
          if (p == file)
            add_unique(paths, t.path);
      }
    }
  }
  if (!planned)
    for (const auto& p : run_.live_changed_paths())
      add_unique(paths, p);
  return paths;
}

}  // namespace codehive::planner
