#include "messages/error.hpp"

#include <caf/make_message.hpp>
#include <caf/message.hpp>

#include "llm/error.hpp"
#include "workspace/result.hpp"

namespace codehive {

const char* to_string(ec x) noexcept {
  switch (x) {
    case ec::none: return "none";
    case ec::model_unreachable: return "model_unreachable";
    case ec::model_failed: return "model_failed";
    case ec::bad_answer: return "bad_answer";
    case ec::bad_plan: return "bad_plan";
    case ec::edit_refused: return "edit_refused";
    case ec::io_error: return "io_error";
    case ec::budget_exceeded: return "budget_exceeded";
    case ec::cancelled: return "cancelled";
    case ec::internal: return "internal";
  }
  return "unknown";
}

caf::error make_error(ec x) {
  return caf::error{static_cast<std::uint8_t>(x), error_category};
}

caf::error make_error(ec x, std::string reason) {
  return caf::error{static_cast<std::uint8_t>(x), error_category,
                    caf::make_message(std::move(reason))};
}

caf::error make_error(ec x, std::string reason, const msg::usage& use) {
  return caf::error{static_cast<std::uint8_t>(x), error_category,
                    caf::make_message(std::move(reason), use)};
}

msg::usage usage_of(const caf::error& e) {
  if (e && e.context().size() == 2 && e.context().match_element<msg::usage>(1))
    return e.context().get_as<msg::usage>(1);
  return {};
}

bool is(const caf::error& e, ec x) noexcept {
  return e && e.category() == error_category && e.code() == static_cast<std::uint8_t>(x);
}

std::string reason_of(const caf::error& e) {
  if (!e)
    return {};
  const auto& ctx = e.context();
  if (ctx.size() >= 1 && ctx.match_element<std::string>(0))
    return ctx.get_as<std::string>(0);
  return ctx.empty() ? std::string{} : to_string(ctx);
}

std::string render_error(std::uint8_t code, caf::atom_value, const caf::message& context) {
  std::string out = "codehive: ";
  out += to_string(static_cast<ec>(code));
  if (context.size() >= 1 && context.match_element<std::string>(0)) {
    out += " (";
    out += context.get_as<std::string>(0);
    out += ")";
  }
  return out;
}

std::string describe(const caf::error& e) {
  if (!e)
    return "none";
  if (e.category() == error_category)
    return render_error(e.code(), e.category(), e.context());
  return caf::to_string(e);
}

ec classify(int code) noexcept {
  switch (static_cast<llm::errc>(code)) {
    case llm::errc::unreachable:
    case llm::errc::timeout:
      return ec::model_unreachable;
    case llm::errc::http_status:
    case llm::errc::model_missing:
    case llm::errc::bad_config:
      return ec::model_failed;
    case llm::errc::budget_refused:
      return ec::budget_exceeded;
    case llm::errc::cancelled:
      return ec::cancelled;
    case llm::errc::bad_json:
    case llm::errc::schema_mismatch:
    case llm::errc::empty_answer:
    case llm::errc::truncated:
    // Refused locally before sending: another attempt (with the large model's
    // bigger window, after escalation) can succeed, so it is not fatal.
    case llm::errc::context_overflow:
      return ec::bad_answer;
  }
  return ec::model_failed;
}

caf::error from_llm(int code, std::string message) {
  return make_error(classify(code), std::move(message));
}

caf::error from_llm(const llm::error& e) {
  return make_error(classify(static_cast<int>(e.code)), e.describe());
}

caf::error from_ws(const ws::error& e) {
  // io_error means the disk or the OS said no (full, read-only): the run stops
  // (exit 6). Everything else is about the edit or its target, which another
  // answer can fix.
  auto code = ec::io_error;
  switch (e.code) {
    case ws::errc::not_found:
    case ws::errc::not_regular_file:
    case ws::errc::bad_edit:
    case ws::errc::no_section:
    case ws::errc::search_not_found:
    case ws::errc::search_ambiguous:
    case ws::errc::empty_content:
    case ws::errc::too_large:
    case ws::errc::bad_content:
    case ws::errc::bad_path:
    case ws::errc::outside_root:
    case ws::errc::symlink:
      code = ec::edit_refused;
      break;
    default:
      break;
  }
  return make_error(code, e.describe());
}

}  // namespace codehive
