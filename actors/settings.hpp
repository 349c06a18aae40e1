// Settings every pipeline actor reads: answer schemas, prompt templates,
// attempt limits. Built once by the CLI from configs/codehive.json and shared
// (immutable) by all actors of the process.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "actors/prompts.hpp"
#include "actors/task_graph.hpp"

namespace codehive {

struct answer_schemas {
  std::string plan;     ///< configs/schemas/plan.json
  std::string edit;     ///< configs/schemas/edit.json
  std::string review;   ///< configs/schemas/review.json
  std::string summary;  ///< configs/schemas/summary.json
};

struct validator_settings {
  bool json = true;
  bool js = true;
  bool html = true;
  bool browser = false;       ///< headless Chromium load (skipped when none installed)
  std::string browser_page = "index.html";
  bool browser_click = true;  ///< after the load, click, type and submit through the page
  std::string command;        ///< shell command run in the output folder, "" = none
  std::chrono::milliseconds command_timeout{120000};
  /// Environment variables the command may see (it runs with a minimal
  /// environment: no API keys unless named here).
  std::vector<std::string> command_env;
};

/// The output folder's git history (vcs/, actors/edit_history.hpp).
struct git_settings {
  bool commit = true;  ///< commit every accepted edit where the output folder is a repository
  std::string branch = "current";  ///< "current": HEAD's branch; "run": codehive/RUN
  /// Set by `codehive run` once it has checked the folder (a repository, and
  /// clean or --allow-dirty): only then does the file tracker commit.
  bool active = false;
};

struct pipeline_settings {
  answer_schemas schemas;
  prompt_templates prompts;
  int plan_attempts = 3;      ///< planner asks again with the reason this many times in all
  int edit_attempts = 3;      ///< coder/fixer/reviewer re-asks on a bad answer, in all
  retry_policy retry;         ///< per task: small-model failures before escalation, large attempts
  int same_issue_limit = 2;   ///< an issue coming back unchanged this often stops the loop
  std::size_t context_chars = 48000;  ///< file content in one coder/fixer request (rest: summaries)
  std::size_t review_chars = 96000;   ///< file content in one review request
  /// Other files a coder/fixer request lists by summary (the project's map),
  /// most relevant first: prompts stay the same size at 10,000 files.
  std::size_t context_map_entries = 40;
  /// generated_files/* are rewritten at most this often during a run (they
  /// cost O(tasks) to render); always at the end.
  std::int64_t exports_interval_ms = 500;
  /// ... and at most once per this many microseconds per planned task, so a
  /// run renders them about as often at any size and their cost per task
  /// stays flat (100: every 1 s at 10,000 tasks, 2 s at 20,000).
  std::int64_t exports_interval_per_task_us = 100;
  /// Existing files the planning prompt lists with their summaries (files
  /// the request names first): the prompt stays bounded in a large project.
  std::size_t plan_map_entries = 400;
  /// Deletes of files the request does not mention that a plan may hold;
  /// a plan with more is asked for again (actors/plan_checks.hpp).
  std::size_t max_unrequested_deletes = 1;
  /// Tasks one plan may hold (plan.max_tasks); a larger plan is asked for again.
  std::size_t max_plan_tasks = 50000;
  /// A project's binary files up to this size are kept in the store (bytes
  /// as found, never summarised or edited) so `codehive export` rebuilds the
  /// whole project; larger ones are left out and named in the export's note.
  std::size_t max_binary_bytes = 8u << 20;
  std::size_t summary_input_chars = 6000;  ///< content sent to the summarizer
  bool summarize_with_model = true;   ///< ask the summarizer when an edit has no summary
  validator_settings validators;
  git_settings git;
  double temperature = 0.2;
};

}  // namespace codehive
