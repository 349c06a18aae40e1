// Prompt templates (configs/prompts/<role>.md: a system part and a user part
// separated by a line "=== user ===") and the rendering of every model
// request codehive sends. Placeholders are {{name}}. No CAF.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "llm/types.hpp"
#include "messages/messages.hpp"

namespace codehive {

struct prompt_template {
  std::string system;
  std::string user;
};

struct prompt_templates {
  prompt_template planner, coder, fixer, reviewer, summarizer;
};

/// Loads <dir>/<role>.md for every role; a missing file falls back to the
/// built-in template of that role. Returns the names of missing files in `missing`.
prompt_templates load_prompts(const std::filesystem::path& dir, std::vector<std::string>& missing);
prompt_templates builtin_prompts();

/// Replaces {{key}} with values; unknown placeholders are left as they are.
std::string render(const std::string& tmpl,
                   const std::vector<std::pair<std::string, std::string>>& values);

struct pipeline_settings;

/// The model requests, one per role. `previous_error` (if not empty) is
/// appended as a follow-up user message so the model can correct itself.
llm::chat_request plan_prompt(const pipeline_settings& s, const std::string& request,
                              const std::vector<msg::applied_file>& existing,
                              const std::string& previous_error);
llm::chat_request code_prompt(const pipeline_settings& s, const msg::code_request& req);
llm::chat_request fix_prompt(const pipeline_settings& s, const msg::fix_request& req);
llm::chat_request review_prompt(const pipeline_settings& s, const msg::review_request& req);
llm::chat_request summary_prompt(const pipeline_settings& s, const std::string& path,
                                 const std::string& content);

/// Appends the "your answer was rejected" turn.
void add_retry_turn(llm::chat_request& req, const std::string& reason);

/// Renders files as fenced blocks (content) or one-liners (summary only).
std::string render_files(const std::vector<msg::context_file>& files);

}  // namespace codehive
