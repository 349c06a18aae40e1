#include "storage/records.hpp"

#include "storage/result.hpp"

namespace codehive::store {

const char* to_string(errc e) noexcept {
  switch (e) {
    case errc::invalid_argument: return "invalid_argument";
    case errc::not_found: return "not_found";
    case errc::already_exists: return "already_exists";
    case errc::illegal_transition: return "illegal_transition";
    case errc::foreign_directory: return "foreign_directory";
    case errc::corrupt: return "corrupt";
    case errc::in_use: return "in_use";
    case errc::newer_schema: return "newer_schema";
    case errc::io_error: return "io_error";
    case errc::read_only: return "read_only";
  }
  return "unknown";
}

const char* to_string(task_state s) noexcept {
  switch (s) {
    case task_state::pending: return "pending";
    case task_state::assigned: return "assigned";
    case task_state::done: return "done";
    case task_state::failed: return "failed";
  }
  return "unknown";
}

std::optional<task_state> parse_task_state(std::string_view s) noexcept {
  for (auto x : {task_state::pending, task_state::assigned, task_state::done, task_state::failed})
    if (s == to_string(x)) return x;
  return std::nullopt;
}

bool legal_transition(task_state from, task_state to) noexcept {
  using enum task_state;
  switch (from) {
    case pending: return to == assigned;
    case assigned: return to == done || to == failed || to == pending;
    case failed: return to == pending;
    case done: return false;
  }
  return false;
}

const char* to_string(run_state s) noexcept {
  switch (s) {
    case run_state::running: return "running";
    case run_state::done: return "done";
    case run_state::failed: return "failed";
    case run_state::budget_stopped: return "budget_stopped";
    case run_state::deadline_stopped: return "deadline_stopped";
    case run_state::cancelled: return "cancelled";
  }
  return "unknown";
}

std::optional<run_state> parse_run_state(std::string_view s) noexcept {
  for (auto x : {run_state::running, run_state::done, run_state::failed,
                 run_state::budget_stopped, run_state::deadline_stopped, run_state::cancelled})
    if (s == to_string(x)) return x;
  return std::nullopt;
}

}  // namespace codehive::store
