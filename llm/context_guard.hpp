// Context-window guard: estimate a prompt's tokens and refuse one that would not
// fit, instead of letting the server cut it silently.
#pragma once

#include <cstdint>
#include <string_view>

#include "llm/error.hpp"
#include "llm/types.hpp"

namespace codehive::llm {

/// Conservative token estimate for text (code-heavy text runs ~3 chars/token).
std::int64_t estimate_tokens(std::string_view text) noexcept;

/// Estimate for a whole request: messages + per-message overhead + schema.
std::int64_t estimate_prompt_tokens(const chat_request& req) noexcept;

/// errc::context_overflow if prompt estimate + reserved completion tokens
/// (req.max_tokens or a default reserve) exceeds `context_tokens`.
status check_context(const chat_request& req, int context_tokens);

}  // namespace codehive::llm
