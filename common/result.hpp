// Errors as values: a minimal expected<T, E> (std::expected is C++23), shared
// by the layers that must not depend on CAF (llm/, workspace/, storage/).
// Each layer names its own error type and aliases `result<T>` to
// `basic_result<T, its error>`; actors turn those errors into caf::error.
// A layer whose errors are a code and a reason (storage/, workspace/) takes
// coded_error<its errc>, fail and ok from here instead of writing its own.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace codehive {

/// The value of an operation that succeeds with nothing to return.
struct unit {};

template <class T, class E>
class basic_result {
 public:
  basic_result(T value) : v_(std::move(value)) {}
  basic_result(E e) : v_(std::move(e)) {}
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
  const E& err() const& { return std::get<1>(v_); }
  E&& err() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, E> v_;
};

/// A layer's error: one of its codes, and a reason. `Errc` is the layer's
/// enum class; it has an `io_error` (the default) and a `to_string(Errc)`
/// beside it (found by argument-dependent lookup).
template <class Errc>
struct coded_error {
  Errc code = Errc::io_error;
  std::string reason;  ///< specific, human readable, names the path/run/task concerned

  /// "<code>: <reason>"
  std::string describe() const { return std::string{to_string(code)} + ": " + reason; }
};

/// `return fail(errc::not_found, "...");` in any function returning a layer's result.
template <class Errc>
coded_error<Errc> fail(Errc code, std::string reason) {
  return coded_error<Errc>{code, std::move(reason)};
}

/// `return ok();` in any function returning a basic_result<unit, E>.
inline unit ok() { return unit{}; }

}  // namespace codehive
