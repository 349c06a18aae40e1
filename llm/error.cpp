#include "llm/error.hpp"

namespace codehive::llm {

const char* to_string(errc e) noexcept {
  switch (e) {
    case errc::unreachable: return "unreachable";
    case errc::timeout: return "timeout";
    case errc::http_status: return "http_status";
    case errc::budget_refused: return "budget_refused";
    case errc::bad_json: return "bad_json";
    case errc::schema_mismatch: return "schema_mismatch";
    case errc::context_overflow: return "context_overflow";
    case errc::empty_answer: return "empty_answer";
    case errc::truncated: return "truncated";
    case errc::model_missing: return "model_missing";
    case errc::bad_config: return "bad_config";
    case errc::cancelled: return "cancelled";
  }
  return "unknown";
}

bool error::retryable() const noexcept {
  switch (code) {
    case errc::unreachable:
    case errc::timeout:
      return true;
    case errc::http_status:
      return http_status == 429 || http_status >= 500;
    default:
      return false;
  }
}

std::string error::describe() const {
  std::string out = to_string(code);
  if (!message.empty()) {
    out += ": ";
    out += message;
  }
  if (http_status != 0) {
    out += " (HTTP ";
    out += std::to_string(http_status);
    out += ')';
  }
  return out;
}

}  // namespace codehive::llm
