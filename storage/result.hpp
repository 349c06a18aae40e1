// Errors of the run store, as values. No exception escapes this library and
// no CAF here: actors turn a store::error into a caf::error at their boundary.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace codehive::store {

/// Every way a store operation can fail.
enum class errc {
  invalid_argument = 1,  ///< empty/NUL id, bad JSON text, unknown enum value, duplicate task
  not_found,             ///< no such run, task, file or store
  already_exists,        ///< a task id already in the run, ...
  illegal_transition,    ///< task/run state change the state machine forbids
  foreign_directory,     ///< the path holds files that are not a codehive store
  corrupt,               ///< the store is damaged (RocksDB corruption, missing CURRENT, bad record)
  in_use,                ///< another codehive process (or this one) holds the store's lock
  newer_schema,          ///< written by a newer codehive: schema or record version unknown here
  io_error,              ///< the OS or RocksDB said no for another reason
  read_only,             ///< a write on a store opened read-only
};

/// Stable lower-case name ("illegal_transition", "in_use", ...).
const char* to_string(errc e) noexcept;

struct error {
  errc code = errc::io_error;
  std::string reason;            ///< specific, human readable, names the path/run/task concerned
  std::string describe() const;  ///< "<code>: <reason>"
};

/// Minimal expected<T, error> (std::expected is C++23).
template <class T>
class result {
 public:
  result(T value) : v_(std::move(value)) {}
  result(error e) : v_(std::move(e)) {}
  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const error& err() const& { return std::get<1>(v_); }
  error&& err() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, error> v_;
};

struct unit {};
using status = result<unit>;

/// Shorthands: `return store::fail(errc::not_found, "...");`, `return store::ok();`
inline error fail(errc code, std::string reason) { return error{code, std::move(reason)}; }
inline status ok() { return status{unit{}}; }

}  // namespace codehive::store
