// Turning model answers (JSON text per configs/schemas/) into messages, with
// reasons a model can act on when an answer is unusable. No CAF, no I/O.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "llm/error.hpp"
#include "llm/types.hpp"
#include "messages/messages.hpp"
#include "workspace/edits.hpp"

namespace codehive {

/// A value or the reason it was refused (fed back to the model).
template <class T>
struct parsed {
  std::optional<T> value;
  std::string error;
  explicit operator bool() const noexcept { return value.has_value(); }
};

/// plan.json -> tasks (shape only; graph rules are checked by task_graph).
parsed<std::vector<msg::file_task>> parse_plan(const std::string& answer);

/// edit.json -> file_edit for `target` (its path and current content), dry-run
/// applied so an edit that cannot be applied is refused here, at the worker,
/// where the model can be asked again.
parsed<msg::file_edit> parse_edit_answer(const std::string& answer, const msg::context_file& target,
                                         msg::task_action action);

/// A file_edit as the workspace applies it. Refused: a kind with no content
/// (none, folder) and an html_section edit whose section is not head or body.
parsed<ws::edit> workspace_edit_of(const msg::file_edit& e);

/// review.json -> issues (round set by the caller).
parsed<std::vector<msg::review_issue>> parse_review(const std::string& answer);

/// summary.json -> one line.
parsed<std::string> parse_summary(const std::string& answer);

/// A summary without a model: the first heading/title/comment, else
/// "<ext> file, N lines".
std::string fallback_summary(const std::string& path, const std::string& content);

/// Squeezes a summary to one line of at most `max` characters.
std::string one_line(std::string text, std::size_t max = 160);

msg::usage to_msg(const llm::usage& u);

/// A model call's outcome as the message the calling actor receives.
msg::llm_reply make_reply(std::uint64_t call_id, const std::string& role,
                          llm::result<llm::chat_response> r);
void add_usage(msg::usage& total, const msg::usage& u);

}  // namespace codehive
