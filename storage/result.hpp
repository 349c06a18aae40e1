// Errors of the run store, as values. No exception escapes this library and
// no CAF here: actors turn a store::error into a caf::error at their boundary.
#pragma once

#include <string>
#include <utility>

#include "common/result.hpp"

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

/// A code and a reason; `describe()` gives "<code>: <reason>".
using error = coded_error<errc>;

template <class T>
using result = basic_result<T, error>;
using status = result<unit>;

/// Shorthands: `return store::fail(errc::not_found, "...");`, `return store::ok();`
using codehive::fail, codehive::ok, codehive::unit;

}  // namespace codehive::store
