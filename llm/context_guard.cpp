#include "llm/context_guard.hpp"

#include <string>

namespace codehive::llm {

namespace {
constexpr std::int64_t kPerMessageOverhead = 4;  ///< role markers, separators
constexpr std::int64_t kRequestOverhead = 3;     ///< reply priming
constexpr std::int64_t kSchemaOverhead = 16;     ///< structured-output wrapper
constexpr int kDefaultCompletionReserve = 1024;
}  // namespace

std::int64_t estimate_tokens(std::string_view text) noexcept {
  // ~3 characters per token for code-heavy ASCII text, rounded up. Non-ASCII
  // text tokenizes worse (a CJK character or an emoji is often one or more
  // tokens of its own), so every byte of a multi-byte sequence adds a third
  // of a token on top of its share of the character count.
  std::int64_t bytes = static_cast<std::int64_t>(text.size());
  std::int64_t non_ascii = 0;
  for (char c : text)
    if (static_cast<unsigned char>(c) >= 0x80) ++non_ascii;
  return (bytes + 2) / 3 + (non_ascii + 2) / 3;
}

std::int64_t estimate_prompt_tokens(const chat_request& req) noexcept {
  std::int64_t total = kRequestOverhead;
  for (const auto& m : req.messages) total += kPerMessageOverhead + estimate_tokens(m.role) + estimate_tokens(m.content);
  if (req.json_schema) total += kSchemaOverhead + estimate_tokens(*req.json_schema);
  return total;
}

status check_context(const chat_request& req, int context_tokens) {
  std::int64_t prompt = estimate_prompt_tokens(req);
  std::int64_t reserve = req.max_tokens && *req.max_tokens > 0 ? *req.max_tokens : kDefaultCompletionReserve;
  if (prompt + reserve <= static_cast<std::int64_t>(context_tokens)) return unit{};
  error e;
  e.code = errc::context_overflow;
  e.message = "prompt estimated at " + std::to_string(prompt) + " tokens plus " + std::to_string(reserve) +
              " reserved for the answer exceeds the context window of " + std::to_string(context_tokens) +
              " tokens";
  if (!req.role.empty()) e.message += " (role " + req.role + (req.path.empty() ? "" : ", path " + req.path) + ")";
  e.message += "; raise context_tokens for this model or send fewer context files";
  return e;
}

}  // namespace codehive::llm
