// codehive's own caf::error category (0.17: an enum, make_error, and a
// renderer registered with cfg.add_error_category). Errors travel between
// actors as values; the context message carries the human-readable reason.
#pragma once

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>

#include "messages/messages.hpp"
#include "workspace/result.hpp"  // ws::error is an alias (common/result.hpp), not declarable ahead

namespace codehive::llm {
struct error;
}

namespace codehive {

enum class ec : std::uint8_t {
  none = 0,
  model_unreachable = 1,  ///< server down, connection refused, timeout (exit 3)
  model_failed,           ///< HTTP error, model missing, bad config of an endpoint (exit 3)
  bad_answer,             ///< unparsable / schema-violating / refused answer (retry)
  bad_plan,               ///< plan with cycles, unknown deps, duplicate or outside paths
  edit_refused,           ///< the edit could not be applied to the file
  io_error,               ///< the output folder said no
  budget_exceeded,        ///< token, cost or time budget hit (exit 4)
  cancelled,              ///< run stopped
  internal,               ///< a bug (exit 5)
};

/// Category atom: "codehive".
inline constexpr caf::atom_value error_category = caf::atom("codehive");

const char* to_string(ec x) noexcept;

caf::error make_error(ec x);
caf::error make_error(ec x, std::string reason);

/// With the usage of the failed work attached, so budgets count failed calls.
caf::error make_error(ec x, std::string reason, const msg::usage& use);
/// The usage attached by the overload above (all zero if none).
msg::usage usage_of(const caf::error& e);

/// True if `e` is of our category with code `x`.
bool is(const caf::error& e, ec x) noexcept;

/// The reason text stored in the error's context ("" if none).
std::string reason_of(const caf::error& e);

/// "codehive: bad_answer (reason)"; works without an actor system.
std::string describe(const caf::error& e);

/// llm::errc -> ec: transport failures are model_unreachable/model_failed,
/// answer-shaped failures (and a prompt too large for the window) are
/// bad_answer (retryable by asking again, or by escalating).
ec classify(int llm_errc) noexcept;
caf::error from_llm(const llm::error& e);
caf::error from_llm(int llm_errc, std::string message);
caf::error from_ws(const ws::error& e);

/// The renderer for cfg.add_error_category(error_category, render_error).
std::string render_error(std::uint8_t code, caf::atom_value category, const caf::message& context);

}  // namespace codehive
