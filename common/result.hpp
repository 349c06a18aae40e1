// Errors as values: a minimal expected<T, E> (std::expected is C++23), shared
// by the layers that must not depend on CAF (llm/, workspace/, storage/).
// Each layer names its own error type and aliases `result<T>` to
// `basic_result<T, its error>`; actors turn those errors into caf::error.
#pragma once

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

}  // namespace codehive
