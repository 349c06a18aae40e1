// The words that steer control flow, as enums: a task's action, an edit's
// kind, a run's phase (and, in messages/outcome.hpp, how a run ends). Each
// enum has one table of names; on the wire a value travels as its name (the
// same string the field carried when it was a std::string), and loading an
// unknown name is an inspection error, never a silent default.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/sec.hpp>

namespace codehive::msg {

/// What a plan's task does to its path.
enum class task_action : std::uint8_t { create, update, remove };

/// How an edit rewrites a file; none: a deletion (no content); folder: a
/// planned folder made or deleted (no content either).
enum class edit_kind : std::uint8_t { none, whole, html_section, search_replace, folder };

/// Where a run is (status.json's "phase", the live view); idle: a planner
/// without a run.
enum class run_phase : std::uint8_t {
  starting,
  planning,
  awaiting_approval,
  coding,
  validating,
  reviewing,
  fixing,
  finished,
  idle,
};

/// What the user says to a plan that waits for approval (run --approve-plan):
/// query only asks for its state.
enum class plan_action : std::uint8_t { query, approve, reject };

/// What a progress event reports (the CLI's progress line, a client of a
/// coordinator). accepted: a coordinator took a submitted run (its detail: the
/// run id); the others come from the planner.
enum class progress_kind : std::uint8_t {
  plan,
  awaiting_approval,
  approval_refused,
  worker_joined,
  worker_lost,
  waiting,
  task_start,
  task_retry,
  task_failed,
  task_done,
  validate,
  review,
  fix_start,
  fix_done,
  fix_failed,
  finished,
  accepted,
};

/// names_of<E>::table[i] is the name of the value with underlying value i.
template <class E>
struct names_of;

template <>
struct names_of<task_action> {
  static constexpr std::string_view what = "task action";
  static constexpr std::string_view table[] = {"create", "update", "delete"};
};

template <>
struct names_of<edit_kind> {
  static constexpr std::string_view what = "edit kind";
  static constexpr std::string_view table[] = {"", "whole", "html_section", "search_replace",
                                               "folder"};
};

template <>
struct names_of<run_phase> {
  static constexpr std::string_view what = "run phase";
  static constexpr std::string_view table[] = {"starting",   "planning",  "awaiting_approval",
                                               "coding",     "validating", "reviewing",
                                               "fixing",     "finished",  "idle"};
};

template <>
struct names_of<plan_action> {
  static constexpr std::string_view what = "plan action";
  static constexpr std::string_view table[] = {"query", "approve", "reject"};
};

template <>
struct names_of<progress_kind> {
  static constexpr std::string_view what = "progress kind";
  static constexpr std::string_view table[] = {
    "plan",
    "awaiting_approval",
    "approval_refused",
    "worker_joined",
    "worker_lost",
    "waiting",
    "task_start",
    "task_retry",
    "task_failed",
    "task_done",
    "validate",
    "review",
    "fix_start",
    "fix_done",
    "fix_failed",
    "finished",
    "accepted",
  };
};

template <class E>
concept named_enum = requires { names_of<E>::table; };

template <named_enum E>
constexpr std::string_view to_string(E x) noexcept {
  return names_of<E>::table[static_cast<std::size_t>(x)];
}

/// The value named `name`; nullopt for any other string.
template <named_enum E>
constexpr std::optional<E> parse_name(std::string_view name) noexcept {
  std::size_t i = 0;
  for (auto n : names_of<E>::table) {
    if (n == name)
      return static_cast<E>(i);
    ++i;
  }
  return std::nullopt;
}

inline std::optional<task_action> parse_task_action(std::string_view s) noexcept {
  return parse_name<task_action>(s);
}
inline std::optional<edit_kind> parse_edit_kind(std::string_view s) noexcept {
  return parse_name<edit_kind>(s);
}
inline std::optional<plan_action> parse_plan_action(std::string_view s) noexcept {
  return parse_name<plan_action>(s);
}
/// A preferred edit kind (a plan task's or a review issue's "edit"): "" is
/// none (the coder's choice); only kinds that write content are hints, so
/// "folder", like any other word, gives nullopt.
inline std::optional<edit_kind> parse_edit_hint(std::string_view s) noexcept {
  auto k = parse_name<edit_kind>(s);
  if (k == edit_kind::folder)
    return std::nullopt;
  return k;
}
inline std::optional<progress_kind> parse_progress_kind(std::string_view s) noexcept {
  return parse_name<progress_kind>(s);
}
inline std::optional<run_phase> parse_run_phase(std::string_view s) noexcept {
  return parse_name<run_phase>(s);
}

/// Inspects an enum as its name. A wrapper rather than an inspect() for the
/// enum itself: CAF 0.17's data_processor has an overload for every enum
/// (its underlying integer), which would be ambiguous beside ours.
template <named_enum E>
struct by_name_t {
  E& value;
};

template <named_enum E>
by_name_t<E> by_name(E& x) {
  return {x};
}

template <class Inspector, named_enum E>
typename Inspector::result_type inspect(Inspector& f, by_name_t<E>& x) {
  if constexpr (Inspector::reads_state) {
    std::string name{to_string(x.value)};
    return f(name);
  } else {
    std::string name;
    return f(name, caf::meta::load_callback([&]() -> caf::error {
               auto v = parse_name<E>(name);
               if (!v)
                 return caf::make_error(caf::sec::invalid_argument,
                                        "unknown " + std::string{names_of<E>::what} + " \"" + name
                                          + "\"");
               x.value = *v;
               return caf::none;
             }));
  }
}

}  // namespace codehive::msg
